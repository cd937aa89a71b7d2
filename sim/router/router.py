"""A simulated IOS router: the driver that moves a router's state through time.

A router has three parts, each with one home:

- its state: `RunningState` (`sim.router.state`), what a reload throws away, and the
  hardware that survives it: nvram, the artifact log, the clock;
- its console: `Session` (`sim.router.console`) and the command handlers
  (`sim.router.commands`), which read and edit the state;
- this driver: power, boot and reload, the operator's typing queue, the trace output
  stamped with the router's clock, persistence (`write memory`), the HTTP listener, and
  the shells around the sans-IO PKI cores (`ServerHost` for the certificate servers,
  `sim.router.pki_client` for enrollment).

Everything observable goes to the run's trace; transcripts are rendered from it
afterwards.

Lifecycle: the boot parses startup-config from nvram into a fresh `RunningState`;
`reload` and power cycles throw the running state away and boot again. NVRAM survives
both.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import simpy
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.kernel.clock import RouterClock
from sim.kernel.env import SimEnv
from sim.kernel.process import SimProcess
from sim.net.http import HttpRequest, HttpResponse
from sim.pki.cs_fsm import CsSignal, CsState
from sim.pki.deferred import FileBytes
from sim.pki.keys import KeySource
from sim.router import commands, http_service, pki_storage
from sim.router.alert_host import AlertHost
from sim.router.artifact_log import ArtifactLog
from sim.router.console import Answer, ConsoleQuestion, Session
from sim.router.crl_fetch import CrlCache
from sim.router.keystore import KeyStore
from sim.router.ntp import NtpHost
from sim.router.nvram import Flash, Nvram, NvramFull
from sim.router.pki_client import EnrollHost, resume_pending, schedule_renewal
from sim.router.release import DEFAULT_RELEASE, ReleaseProfile
from sim.router.release import profile as release_profile
from sim.router.rollover_host import RolloverHost
from sim.router.server_host import ServerHost
from sim.router.show import running_config, running_config_is
from sim.router.state import DEFAULT_HTTP_PORT, RunningState

if TYPE_CHECKING:
    from sim.net.topology import Network

BOOT_SECONDS = 45.0
"""Time from power-on (or reload) to a usable console; a 2600-class router with 12.3."""

HTTP_PORT = DEFAULT_HTTP_PORT
"""IOS's HTTP server port until `ip http port N` (`running.http.port`)."""
_CERTIFICATE_CATEGORIES = frozenset({"pki", "cs"})
"""Trace categories of the events that install or remove certificates."""


@dataclass(frozen=True, slots=True)
class TypedLines:
    """What an operator types at once: the lines, the answers for the prompts they raise,
    and the batch number a live console recorded them under (None when not recording)."""

    lines: tuple[str, ...]
    answers: tuple[Answer, ...]
    batch: int | None = None
    by_prompt: tuple[tuple[str, Answer], ...] = ()
    """Answers keyed by the text of the prompt they answer (`commands.run_lines`)."""
    source: str | None = None
    """Where the lines come from (`file.yaml:42`), for the trace of their mistakes."""


class Router:
    # Slots, no per-instance dict: a 10,000-router run holds 10,000 routers, and its memory
    # is counted per router.
    __slots__ = ("env", "release", "net", "name", "address", "clock", "keysource", "nvram",
                 "flash", "artifacts", "running", "powered", "booting", "session", "server_host",
                 "enroll_host", "crl_cache", "rollover_host", "ntp", "booted_at", "boot_reason",
                 "alert_host", "_key_generations", "_processes", "_typing", "_live_console",
                 "_batches")

    def __init__(
        self,
        env: SimEnv,
        net: Network,
        name: str,
        address: str,
        clock: RouterClock,
        keysource: KeySource,
        startup_config: list[str] | None = None,
        release: str = DEFAULT_RELEASE,
    ) -> None:
        self.env = env
        self.release: ReleaseProfile = release_profile(release)
        """What this router's IOS release does differently (`sim.router.release`)."""
        self.net = net
        self.name = name
        self.address = address
        self.clock = clock
        self.keysource = keysource
        self.nvram = Nvram()
        self.flash = Flash()
        """`flash:`, a second device that survives reload, power loss and `erase nvram:`."""
        if startup_config:
            self.nvram.write("startup-config", ("\n".join(startup_config) + "\n").encode())
        self.artifacts = ArtifactLog()
        """Every certificate, CSR, CRL and SCEP message this router produced or received,
        in order: (file name, bytes). They survive reloads; the output folder keeps them.
        A long-lived lab bounds it with `artifacts.retain(n)`."""
        self.running = RunningState()
        self.powered = False
        self.booting = False
        self.session: Session | None = None
        """The operator's console session, from the end of the boot."""
        self.server_host = ServerHost(self)
        self.enroll_host = EnrollHost(self)
        self.crl_cache = CrlCache(self)
        """The cached CRLs' `CRL EXPIRE` timers (`sim.router.crl_fetch`)."""
        self.rollover_host = RolloverHost(self)
        """CA rollover: the servers' shadow certificates, the clients' `SHADOW <tp>`."""
        self.ntp = NtpHost(self)
        """NTP (`ntp server`, `ntp master`) for this boot (`sim.router.ntp`)."""
        self.booted_at = 0.0
        """Simulated time of the latest power-on or reload: `show version`'s uptime."""
        self.boot_reason = "power-on"
        """`System returned to ROM by <reason>`: power-on, or reload."""
        self.alert_host: AlertHost | None = None
        """The expiry-alert timers, from the end of a boot on releases that run them."""
        self._key_generations: dict[str, int] = {}
        self._processes: list[simpy.Process] = []
        self._typing: simpy.Store = simpy.Store(env.sim)
        self._live_console = False
        self._batches = 0
        clock.subscribe(self._on_clock_change)

    @property
    def serial_number(self) -> str:
        """The chassis serial number the enroll dialogue offers to put in a request: eight
        digits, as IOL prints them (`67109104`, cisco-cs.md section 7), fixed by the
        router's name so that runs repeat (pkilab's choice: it models no chassis)."""
        return str(10_000_000 + zlib.crc32(self.name.encode()) % 90_000_000)

    @property
    def up(self) -> bool:
        return self.powered and not self.booting

    # -- output ----------------------------------------------------------------------------
    def emit(self, category: str, name: str, /, **data: Any) -> None:
        """Write one event of this router to the trace, `data` handed over as the dict it
        is (`SimEnv.emit` would unpack and pack it again: a CA's idle year is 438,000
        events), and have the timers that read certificates and servers look again."""
        env = self.env
        env.trace.record(float(env.sim.now), self.name, category, name, data)
        if category in _CERTIFICATE_CATEGORIES or category == "fsm":
            if self.alert_host is not None and category != "fsm":
                self.alert_host.poke()  # a certificate may have come or gone
            if name == "busy" and category == "cs":
                # A server spends time (`Elapse`: a CRL publication, a key generation)
                # and changes nothing by saying so; its next step is a timeout, so no
                # change follows in this instant. The rollover timers look again only
                # if what they read has changed meanwhile (`RolloverHost.recheck`).
                self.rollover_host.recheck()
            else:
                self.rollover_host.poke()  # a server or a certificate changed

    # The console's own events skip `emit`'s look at the category (certificates,
    # servers): they are a third of a run's events and never one of those.
    # They write to the trace themselves, as `emit` does: a call less per event.
    def console_line(self, text: str) -> None:
        env = self.env
        env.trace.record(float(env.sim.now), self.name, "console", "line", {"text": text})

    def console_inline(self, text: str) -> None:
        env = self.env
        env.trace.record(float(env.sim.now), self.name, "console", "inline", {"text": text})

    def log(self, text: str, kind: str = "syslog") -> None:
        """A timestamped console message, stamped with this router's clock."""
        env = self.env
        env.trace.record(float(env.sim.now), self.name, "log", kind,
                         {"stamp": self.clock.timestamp(), "text": text})

    def debug_line(self, flag: str, text: str) -> None:
        if flag in self.running.debug:
            self.log(text, kind="debug")

    # -- power and boot --------------------------------------------------------------------
    def start(self) -> None:
        """Power on at the start of a run: the lab is already racked and booted at t=0."""
        self.powered = True
        self.emit("power", "on")
        self.spawn(self._boot(boot_seconds=0.0, initial=True))

    def power_on(self) -> None:
        if self.powered:
            return
        self.powered = True
        self.emit("power", "on")
        self.boot_reason = "power-on"
        self.spawn(self._boot())

    def power_off(self) -> None:
        if not self.powered:
            return
        self.emit("power", "off")
        self._halt()

    def reload(self) -> None:
        """`reload` after confirmation: the console says so, then the router reboots."""
        self.log("%SYS-5-RELOAD: Reload requested by console. Reload Reason: Reload Command.")
        self.emit("power", "reload")
        self._halt()
        self.powered = True
        self.boot_reason = "reload"
        self.spawn(self._boot())

    def _halt(self) -> None:
        self.server_host.stop()
        self.enroll_host.halt()
        self.rollover_host.halt()
        if self.alert_host is not None:
            self.alert_host.stop()
            self.alert_host = None
        self.net.unlisten(self.name, self.running.http.port)
        self.ntp.stop()
        self.net.set_node_up(self.name, False)
        for process in self._processes:
            if process.is_alive and process is not self.env.sim.active_process:
                process.interrupt("power")
        self._processes.clear()
        self.powered = False
        self.running = RunningState()
        self.session = None
        self.server_host = ServerHost(self)
        self.ntp = NtpHost(self)
        self._typing = simpy.Store(self.env.sim)  # typeahead dies with the power

    def spawn(self, generator: SimProcess[Any]) -> simpy.Process:
        """Run a background task of this router; a power loss or reload ends it."""
        process = self.env.process(_interruptible(generator))
        self._processes = [p for p in self._processes if p.is_alive]
        self._processes.append(process)
        return process

    def _boot(self, boot_seconds: float = BOOT_SECONDS, initial: bool = False
              ) -> SimProcess[None]:
        self.booting = True
        self.booted_at = self.env.now
        if not initial:
            # At t=0 the scenario's clock spec describes the running router; later boots
            # lose the time unless the router has a hardware calendar.
            self.clock.boot()
        yield self.env.timeout(boot_seconds)
        self.net.set_node_up(self.name, True)
        self.running.keys = KeyStore.from_private_config(self.nvram.read("private-config"))
        text = (self.nvram.read("startup-config") or b"").decode()
        enable_servers = commands.load_config_text(self, text.splitlines())
        pki_storage.restore_chains(self.nvram, self.running.trustpoints.values())
        self.booting = False
        if self.running.http_server:
            self.net.listen(self.name, self.running.http.port, self.http_handler)
        self.session = Session(self)
        self.spawn(self._console_worker(self.session, self._typing))
        self.console_line("")
        self.console_line("Press RETURN to get started!")
        self.console_line("")
        self.log("%SYS-5-RESTART: System restarted --")
        self.emit("power", "booted")
        for tp in self.running.trustpoints.values():
            schedule_renewal(self, tp)  # IOS re-arms `RENEW <tp>` timers at boot
        resume_pending(self)
        if self.release.expiry_alerts:
            self.alert_host = AlertHost(self)
        self.rollover_host.start()
        for cs in enable_servers:
            yield from self.server_host.run_signal(cs, CsSignal.NO_SHUT)

    # -- console ---------------------------------------------------------------------------
    def type_lines(self, lines: Sequence[str], answers: Iterable[Answer | str] = (), *,
                   by_prompt: Mapping[str, Answer | str] | None = None,
                   source: str | None = None) -> None:
        """An operator types these lines at the console (queued behind earlier ones);
        `answers` answer the prompts they raise, in order (a string arrives
        `ANSWER_DELAY` after its prompt); `by_prompt` answers a prompt whose text holds
        its key, before the positional ones. `source` (`file.yaml:42`) goes with the
        trace events of the mistakes these lines make (`cli/error`, `console/input.*`).
        At a live console the batch is recorded in the trace (`console/typed`) so that
        the answers typed live can be saved with it."""
        if not self.up:
            self.emit("console", "dropped", lines=list(lines), reason="router is not running")
            return
        given = tuple(Answer.of(answer) for answer in answers)
        batch = None
        if self._live_console:
            self._batches += 1
            batch = self._batches
            self.emit("console", "typed", batch=batch, lines=list(lines),
                      answers=[answer.record() for answer in given])
        keyed = tuple((key, Answer.of(answer)) for key, answer in (by_prompt or {}).items())
        self._typing.put(TypedLines(tuple(lines), given, batch, keyed, source))

    @property
    def console_idle(self) -> bool:
        """Everything typed has run: the console waits at its prompt for more, or (live)
        at a question for the person at the keyboard, with nothing queued behind it."""
        if self._typing.items:
            return False
        return bool(self._typing.get_queue) or self.console_question is not None

    # -- a live console: a person at the keyboard ----------------------------------------------
    @property
    def live_console(self) -> bool:
        return self._live_console

    def set_live_console(self, on: bool) -> None:
        """With `on`, a person sits at this console: questions raised by what is typed from
        now on, when the typed lines bring no answer for them, wait for `answer` (or
        `interrupt_question`) instead of taking an empty answer after `ANSWER_DELAY`,
        and typed lines and answers are recorded in the trace (`console/typed`,
        `console/answer`) for `sim.scenario.session_record`. Turning it off answers a
        waiting question with a bare Return, as if the person had left."""
        self._live_console = on
        if not on and self.session is not None:
            self.session.deliver("")

    @property
    def console_question(self) -> ConsoleQuestion | None:
        """The question the live console waits on (prompt text, whether it is a password,
        whether it takes a pasted line), or None when no question waits."""
        return self.session.question if self.session is not None else None

    def answer(self, text: str) -> bool:
        """The person answers the waiting question with `text` (Return pressed; "" is a bare
        Return). False when no question waits: the line is then a command, for
        `type_lines`."""
        return self.session is not None and self.session.deliver(text)

    def interrupt_question(self) -> bool:
        """Ctrl-C at the waiting question: the console echoes `^C` and the command is
        abandoned (a `no shutdown` passphrase dialogue says `% Aborted.`, as for Return).
        False when no question waits."""
        return self.session is not None and self.session.deliver(None)

    def _console_worker(self, session: Session, typing: simpy.Store
                        ) -> SimProcess[None]:
        """Runs what is typed at this boot's console. A `reload` typed here ends the boot
        while this process still runs the command: it then finds itself replaced and
        stops, leaving the next boot's console to its own worker."""
        while self.session is session:
            typed: TypedLines = yield typing.get()
            yield from commands.run_lines(session, typed.lines, typed.answers, typed.batch,
                                          by_prompt=typed.by_prompt, source=typed.source)

    def observe(self, command: str) -> list[str]:
        """Run an EXEC command as an invisible observer and return its output lines.

        Scenario expectations use this to read `show` output at a moment of the run
        without typing into the operator's console or its transcript.
        """
        if not self.up:
            return [f"% {self.name} is not running"]
        return commands.observe(self, command)

    # -- keys, randomness, artifacts, nvram ---------------------------------------------------
    def generate_key(self, label: str, bits: int) -> rsa.RSAPrivateKey:
        generation = self._key_generations.get(label, 0)
        self._key_generations[label] = generation + 1
        return self.keysource.get(f"{self.name}/{label}#{generation}", bits)

    def announce_key(self, label: str, *, replaced: bool = False) -> None:
        """The syslog lines this release prints once a key pair is generated or imported:
        IOS-XE's `%CRYPTO_ENGINE-5-KEY_ADDITION`, and 15.x/XE's `%SSH-5-ENABLED` when the
        router's first `hostname.domain` key appears (SSH serves with that key). chosen:
        both texts as recalled from IOS's message catalogue; the reference names only
        "key-generation syslogs" for XE (cisco-cs.md 19)."""
        if self.release.key_addition_syslog:
            self.log(f"%CRYPTO_ENGINE-5-KEY_ADDITION: A key named {label} has been generated "
                     "or imported by crypto-engine")
        if (self.release.ssh_enabled_syslog and not replaced
                and self.running.domain_name is not None and label == self.running.fqdn):
            self.log("%SSH-5-ENABLED: SSH 1.99 has been enabled")

    def random_bytes(self, count: int) -> bytes:
        """Nonces, content keys and padding, from the run's seeded RNG (determinism)."""
        return self.env.rng.randbytes(count)

    def record_artifact(self, name: str, data: FileBytes) -> None:
        self.emit("artifact", "recorded", file=self.artifacts.record(name, data), size=len(data))

    def record_scep(self, der: bytes, kind: str, *, sent: bool) -> None:
        self.record_artifact(f"{'sent' if sent else 'received'}-{kind}.der", der)

    def write_nvram(self, name: str, data: FileBytes) -> bool:
        try:
            self.nvram.write(name, data)
        except NvramFull as full:
            self.console_line(str(full))
            return False
        self.emit("nvram", "write", file=name, size=len(data))
        return True

    # -- services ----------------------------------------------------------------------------
    def set_http_server(self, on: bool) -> None:
        if on == self.running.http_server:
            return
        self.running.http_server = on
        if self.booting:
            return  # the listener starts when the boot completes
        if on and self.up:
            self.net.listen(self.name, self.running.http.port, self.http_handler)
        else:
            self.net.unlisten(self.name, self.running.http.port)
        self.emit("http", "server", on=on)
        self.server_host.signal_all(CsSignal.HTTP_ON if on else CsSignal.HTTP_OFF)

    def set_http_port(self, port: int) -> None:
        """`ip http port N`: a running HTTP server moves to the new port at once."""
        old = self.running.http.port
        if port == old:
            return
        self.running.http.port = port
        if self.running.http_server and self.up:
            self.net.unlisten(self.name, old)
            self.net.listen(self.name, port, self.http_handler)
        if not self.booting:
            self.emit("http", "port", port=port)

    def http_handler(self, request: HttpRequest) -> SimProcess[HttpResponse]:
        # The server's generator itself, not one that delegates to it: one frame less
        # on each of its resumptions.
        return http_service.serve(self, request)

    def _on_clock_change(self, clock: RouterClock, reason: str) -> None:
        self.emit("clock", reason, now=clock.now().isoformat(), valid=clock.is_set)
        if reason == "set" and self.up:
            self.server_host.signal_all(CsSignal.TIME_SET)

    def set_clock(self, value: datetime) -> None:
        self.clock.set(value)

    # -- configuration persistence -------------------------------------------------------------
    def running_config_text(self) -> str:
        return "\n".join(running_config(self)) + "\n"

    def write_memory(self) -> bool:
        ok = self.write_nvram("startup-config", self.running_config_text().encode())
        keys = self.running.keys.to_private_config()
        if keys:
            ok = self.write_nvram("private-config", keys) and ok
        return pki_storage.save(self.nvram, self.running.trustpoints.values(),
                                self.write_nvram) and ok

    def config_modified(self) -> bool:
        saved = self.nvram.read("startup-config") or b""
        return not running_config_is(self, saved.decode())

    def server_state(self, name: str | None = None) -> CsState | None:
        servers = self.running.servers
        cs = next(iter(servers.values()), None) if name is None else servers.get(name)
        return cs.state if cs else None


def _interruptible(generator: SimProcess[Any]) -> SimProcess[Any]:
    """Run a router process; a power loss (interrupt) simply ends it."""
    try:
        return (yield from generator)
    except simpy.Interrupt:
        return None
