"""EXEC-mode commands: show, debug, clock, write/copy/erase, reload, configure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sim.kernel.process import SimProcess
from sim.router import handlers_cs_storage, show, show_pki
from sim.router.cli_parser import Match
from sim.router.command_table import CommandTable
from sim.router.console import Mode, Session
from sim.router.handlers_pki import EXEC_PKI_COMMANDS

WRITE_SECONDS = 1.2
"""`Building configuration...` to `[OK]` on a 12.3 router."""


def _lines(render: Any) -> Any:
    def handler(s: Session, m: Match) -> None:
        s.write_lines(render(s.router, m))
    return handler


def _enable(s: Session, m: Match) -> None:
    s.mode = Mode.EXEC


def _disable(s: Session, m: Match) -> None:
    s.mode = Mode.USER_EXEC


def _logout(s: Session, m: Match) -> None:
    s.mode = Mode.USER_EXEC
    s.write("")
    s.write(f"{s.router.running.hostname} con0 is now available")
    s.write("")
    s.write("Press RETURN to get started.")


def _configure(s: Session, m: Match) -> None:
    s.write("Enter configuration commands, one per line.  End with CNTL/Z.")
    s.mode = Mode.CONFIG


DEBUG_FLAGS = {"server": "pki-server", "transactions": "pki-transactions",
               "messages": "pki-messages", "validation": "pki-validation",
               "callbacks": "pki-callbacks"}


def switch_debug(s: Session, flag: str, title: str, on: bool) -> None:
    """`debug ...` / `no debug ...`: turn one debug flag on or off, and say so as IOS does."""
    if on:
        s.router.running.debug |= {flag}
    else:
        s.router.running.debug -= {flag}
    s.write(f"{title} debugging is {'on' if on else 'off'}")


def _debug(s: Session, m: Match) -> None:
    flag = DEBUG_FLAGS[m.keywords[-1]]
    switch_debug(s, flag, show.DEBUG_TITLES[flag], not m.negated)


def _undebug_all(s: Session, m: Match) -> None:
    s.router.running.debug = frozenset()
    s.write("All possible debugging has been turned off")


def _debug_all(s: Session, m: Match) -> SimProcess[None]:
    if m.negated:
        _undebug_all(s, m)
        return
    answer = yield from s.ask("This may severely impact network performance. "
                              "Continue? (yes/[no]):")
    if answer.strip().lower() in ("y", "ye", "yes"):
        s.router.running.debug |= frozenset(DEBUG_FLAGS.values())
        s.write("All possible debugging has been turned on")


def _clock_set(s: Session, m: Match) -> None:
    clock = m.args["time"]
    if not isinstance(clock, tuple):
        raise KeyError("time")
    hour, minute, second = clock
    try:
        value = datetime(m.integer("year"), m.integer("month"), m.integer("day"),
                         hour, minute, second, tzinfo=UTC)
    except ValueError:
        s.write("% Invalid date.")
        return
    zone = s.router.running.timezone
    # `clock set` takes the local time of `clock timezone`.
    s.router.set_clock(value - zone.offset if zone is not None else value)


def _terminal_monitor(s: Session, m: Match) -> None:
    """`terminal monitor`: copies syslog and debug output to a vty session. The console
    always gets them, so at the console IOS takes it and nothing changes."""


def _write_memory(s: Session, m: Match) -> SimProcess[None]:
    s.write("Building configuration...")
    yield s.router.env.timeout(WRITE_SECONDS)
    s.write("[OK]" if s.router.write_memory() else "% Configuration not saved")


def _copy_run_start(s: Session, m: Match) -> SimProcess[None]:
    answer = yield from s.ask("Destination filename [startup-config]?")
    if answer.strip() not in ("", "startup-config"):
        s.write(f"%Error opening nvram:{answer.strip()} (Permission denied)")
        return
    yield from _write_memory(s, m)


def _erase(s: Session, m: Match) -> SimProcess[None]:
    target = m.args.get("fs", "nvram:")
    if str(target).lower() == "flash:":
        yield from handlers_cs_storage.erase_flash(s)
        return
    if str(target).lower() not in ("nvram:", "startup-config"):
        s.write(f"%Error opening {target} (No such device)")
        return
    prompt = ("Erasing the nvram filesystem will remove all configuration files! "
              "Continue? [confirm]")
    if not (yield from s.confirm(prompt)):
        return
    s.write("[OK]")
    s.router.nvram.erase()
    s.router.emit("nvram", "erase")
    s.write("Erase of nvram: complete")
    s.router.log("%SYS-7-NV_BLOCK_INIT: Initialized the geometry of nvram")


def _reload(s: Session, m: Match) -> SimProcess[None]:
    router = s.router
    if router.config_modified():
        save = yield from s.ask_yes_no("System configuration has been modified. "
                                       "Save? [yes/no]:")
        if save:
            s.write("Building configuration...")
            yield router.env.timeout(WRITE_SECONDS)
            s.write("[OK]" if router.write_memory() else "% Configuration not saved")
    if not (yield from s.confirm("Proceed with reload? [confirm]")):
        return
    router.reload()


def _dir(s: Session, m: Match) -> None:
    handlers_cs_storage.dir_listing(s, str(m.args.get("fs", "nvram:")))


def _show_startup(router: Any, m: Match) -> list[str]:
    data = router.nvram.read("startup-config")
    if data is None:
        return ["startup-config is not present"]
    return [f"Using {len(data)} out of {router.nvram.size} bytes"] + data.decode().splitlines()


def _show_running(router: Any, m: Match) -> list[str]:
    text = router.running_config_text()
    return ["Building configuration...", "", f"Current configuration : {len(text)} bytes"] + \
        text.splitlines()


SHOW_COMMANDS: CommandTable = [
    ("show clock", _lines(lambda r, m: show.show_clock(r)), {}),
    ("show crypto pki server [<name:LABEL>]",
     _lines(lambda r, m: show.show_crypto_pki_server(r, m.args.get("name"))), {}),
    ("show crypto pki trustpoints [<name:LABEL>]",
     _lines(lambda r, m: show.show_crypto_pki_trustpoints(r, m.args.get("name"))), {}),
    ("show crypto pki trustpoints [<name:LABEL>] status",
     _lines(lambda r, m: show_pki.show_trustpoints_status(r, m.args.get("name"))), {}),
    ("show crypto pki timers [detail]",
     _lines(lambda r, m: show_pki.show_crypto_pki_timers(r, "detail" in m.keywords)), {}),
    ("show crypto pki server <name:LABEL> certificates",
     _lines(lambda r, m: show_pki.show_cs_certificates(r, str(m.args["name"]))), {}),
    ("show crypto pki certificates [verbose] [<name:LABEL>]",
     _lines(lambda r, m: show.show_crypto_pki_certificates(
         r, m.args.get("name"), "verbose" in m.keywords)), {}),
    # The 12.3T/15.x command references write `[trustpoint-name [verbose]]`; the enroll's
    # hint says `show crypto pki certificate verbose <tp>`: both orders are taken.
    ("show crypto pki certificates <name:LABEL> verbose",
     _lines(lambda r, m: show.show_crypto_pki_certificates(r, m.args.get("name"), True)),
     {}),
    ("show crypto key mypubkey rsa [<label:LABEL>]",
     _lines(lambda r, m: show.show_rsa_keys(r, m.args.get("label"))), {}),
    ("show crypto pki crls", _lines(lambda r, m: show.show_crypto_pki_crls(r)), {}),
    ("show debugging", _lines(lambda r, m: show.show_debugging(r)), {}),
    ("show ip http server status", _lines(lambda r, m: show.show_ip_http_server_status(r)),
     {}),
]

USER_EXEC_COMMANDS = SHOW_COMMANDS[:1] + [
    ("enable", _enable, {}),
    ("exit", _logout, {}),
    ("logout", _logout, {}),
]

EXEC_COMMANDS = SHOW_COMMANDS + EXEC_PKI_COMMANDS + [
    ("show running-config", _lines(_show_running), {}),
    ("show startup-config", _lines(_show_startup), {}),
    ("enable", _enable, {}),
    ("disable", _disable, {}),
    ("exit", _logout, {}),
    ("logout", _logout, {}),
    ("configure terminal", _configure, {}),
    ("terminal monitor", _terminal_monitor, {}),
    ("terminal no monitor", _terminal_monitor, {}),
    ("debug crypto pki server", _debug, {"no_form": True}),
    ("debug crypto pki transactions", _debug, {"no_form": True}),
    ("debug all", _debug_all, {"no_form": True}),
    ("undebug all", _undebug_all, {}),
    ("clock set <time:HH:MM:SS> <day:1-31> <month:MONTH> <year:1993-2035>", _clock_set, {}),
    ("clock set <time:HH:MM:SS> <month:MONTH> <day:1-31> <year:1993-2035>", _clock_set, {}),
    ("write [memory]", _write_memory, {}),
    ("write erase", _erase, {}),
    ("copy running-config startup-config", _copy_run_start, {}),
    ("erase <fs:WORD>", _erase, {}),
    ("reload", _reload, {}),
    ("dir [<fs:WORD>]", _dir, {}),
]
