"""Time commands: the hardware calendar, NTP, and the clock displays.

Configuration: `clock calendar-valid`, `ntp master [STRATUM]`, `ntp server A.B.C.D
[prefer]`. EXEC: `clock update-calendar`, `calendar set`, `show clock detail`,
`show calendar`, `show ntp status`, `show ntp associations`. The NTP process these
commands configure is `sim.router.ntp`; the clock and its calendar are
`sim.kernel.clock.RouterClock` (cisco-client-docs.md 6: "Two clocks: battery-backed hardware
clock (`calendar`) and software clock (`clock`)").

chosen: on a router without a hardware calendar (a scenario clock with `calendar: false`,
like IOSv) the calendar commands are refused as invalid input, as on IOS platforms that
have no calendar and so no such commands.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sim.kernel.clock import TimeSource
from sim.router import show
from sim.router.cli_parser import Match, ParseError
from sim.router.command_table import CommandTable
from sim.router.console import Session
from sim.router.ntp import DEFAULT_MASTER_STRATUM

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

TIME_SOURCE_LINES = {
    TimeSource.NONE: "No time source",
    TimeSource.USER: "Time source is user configuration",
    TimeSource.NTP: "Time source is NTP",
    TimeSource.CALENDAR: "Time source is hardware calendar",
}
"""`show clock detail`'s second line (cisco-client-docs.md 6)."""


def refuse_word(s: Session, index: int) -> None:
    """`% Invalid input detected at '^' marker.` under the typed line's word `index`."""
    line = s.current_line
    words = line.split()
    if words and words[0].lower() == "do":
        index += 1  # `do <exec command>` from a configuration mode
    column = 0
    for i, word in enumerate(words):
        column = line.index(word, column)
        if i == index:
            break
        column += len(word)
    s.render_error(ParseError("invalid", column, line[column:], line))


def _has_calendar(s: Session, word: int) -> bool:
    if s.router.clock.calendar:
        return True
    refuse_word(s, word)
    return False


# -- configuration ----------------------------------------------------------------------
def _calendar_valid(s: Session, m: Match) -> None:
    """`clock calendar-valid`: the hardware calendar is an authoritative time source. A
    calendar whose time was not trusted (a scenario clock with `set: false`) now is, so
    the certificate server's `Time has not been set` check passes (cisco-cs.md 19: XE
    asks to "set clock calender-valid or enable NTP")."""
    if not _has_calendar(s, 1):
        return
    router = s.router
    router.running.time.calendar_valid = not m.negated
    clock = router.clock
    if not m.negated and not clock.is_set:
        clock.set(clock.calendar_now(), TimeSource.CALENDAR)


def _ntp_master(s: Session, m: Match) -> None:
    """`ntp master [STRATUM]`: serve time from this router's own clock (default 8)."""
    config = s.router.running.time
    config.ntp_master = None if m.negated else m.integer("stratum", DEFAULT_MASTER_STRATUM)
    s.router.ntp.reconcile()


def _ntp_server(s: Session, m: Match) -> None:
    """`ntp server A.B.C.D [prefer]`: poll that server; `no ntp server A.B.C.D` stops."""
    config = s.router.running.time
    address = str(m.args["addr"])
    if m.negated:
        if address in config.ntp_servers:
            config.ntp_servers.remove(address)
        config.ntp_preferred -= {address}
    else:
        if address not in config.ntp_servers:
            config.ntp_servers.append(address)
        if "prefer" in m.keywords:
            config.ntp_preferred |= {address}
        else:
            config.ntp_preferred -= {address}
    s.router.ntp.reconcile()


TIME_CONFIG_COMMANDS: CommandTable = [
    ("clock calendar-valid", _calendar_valid, {"no_form": True}),
    ("ntp master [<stratum:1-15>]", _ntp_master, {"no_form": True}),
    ("ntp server <addr:A.B.C.D> [prefer]", _ntp_server,
     {"no_form": True, "no_requires_args": True}),
]


# -- EXEC --------------------------------------------------------------------------------
def _typed_time(s: Session, m: Match) -> datetime | None:
    """HH:MM:SS DAY MONTH YEAR as typed, in the zone of `clock timezone`, as UTC."""
    clock = m.args["time"]
    if not isinstance(clock, tuple):
        raise KeyError("time")
    hour, minute, second = clock
    try:
        value = datetime(m.integer("year"), m.integer("month"), m.integer("day"),
                         hour, minute, second, tzinfo=UTC)
    except ValueError:
        s.write("% Invalid date.")
        return None
    zone = s.router.running.timezone
    return value - zone.offset if zone is not None else value


def _calendar_set(s: Session, m: Match) -> None:
    """`calendar set HH:MM:SS DAY MONTH YEAR`: the hardware calendar only; the software
    clock is loaded from it at the next boot (cisco-client-docs.md 6)."""
    if not _has_calendar(s, 0):
        return
    value = _typed_time(s, m)
    if value is not None:
        s.router.clock.set_calendar(value)
        s.router.emit("clock", "calendar", now=value.isoformat())


def _update_calendar(s: Session, m: Match) -> None:
    """`clock update-calendar`: copy the software clock into the hardware calendar."""
    if not _has_calendar(s, 1):
        return
    clock = s.router.clock
    clock.set_calendar(clock.now())
    s.router.emit("clock", "calendar", now=clock.now().isoformat())


def show_clock_detail(router: Any) -> list[str]:
    return show.show_clock(router) + [TIME_SOURCE_LINES[router.clock.source]]


def show_calendar(router: Any) -> list[str]:
    """`21:00:00 UTC Thu Jan 6 2005`: the calendar, without milliseconds or a mark."""
    zone = router.running.timezone
    w = router.clock.calendar_now()
    if zone is not None:
        w += zone.offset
    name = "UTC" if zone is None else zone.name
    return [f"{w:%H:%M:%S} {name} {_DAYS[w.weekday()]} {_MONTHS[w.month - 1]} {w.day} "
            f"{w.year}"]


def _show(render: Any) -> Any:
    def handler(s: Session, m: Match) -> None:
        s.write_lines(render(s.router))
    return handler


def _show_calendar(s: Session, m: Match) -> None:
    if _has_calendar(s, 1):
        s.write_lines(show_calendar(s.router))


NTP_OFF = "%NTP is not enabled."
"""What both `show ntp` commands print on a router with no `ntp` command (chosen: the 15.x
wording, for 12.3 too)."""


def show_ntp_status(router: Any) -> list[str]:
    if not router.running.time.ntp_enabled:
        return [NTP_OFF]
    view = router.ntp.view()
    return list(router.release.system.ntp_status(view))


def show_ntp_associations(router: Any) -> list[str]:
    if not router.running.time.ntp_enabled:
        return [NTP_OFF]
    return list(router.release.system.ntp_associations(router.ntp.view()))


TIME_SHOW_COMMANDS: CommandTable = [
    ("show clock detail", _show(show_clock_detail), {}),
    ("show calendar", _show_calendar, {}),
    ("show ntp status", _show(show_ntp_status), {}),
    ("show ntp associations", _show(show_ntp_associations), {}),
]
"""What user EXEC allows too."""

TIME_EXEC_COMMANDS: CommandTable = TIME_SHOW_COMMANDS + [
    ("clock update-calendar", _update_calendar, {}),
    ("calendar set <time:HH:MM:SS> <day:1-31> <month:MONTH> <year:1993-2035>",
     _calendar_set, {}),
    ("calendar set <time:HH:MM:SS> <month:MONTH> <day:1-31> <year:1993-2035>",
     _calendar_set, {}),
]
