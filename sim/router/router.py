"""A simulated IOS router: clock, nvram, keys, trustpoints, certificate servers, HTTP.

The router is the simulation shell around the sans-IO PKI cores: it builds their
context (its clock's time, its nvram, its keys), applies the effects they return
(console and log output, nvram writes, simulated time spent) and feeds them signals
(`time set` when the clock is set, `http server on/off`). Everything observable goes to
the run's trace; transcripts are rendered from it afterwards.

Lifecycle: `boot()` parses startup-config from nvram into the running state; `reload`
and power cycles throw the running state away and boot again. NVRAM survives both.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import simpy
from cryptography import x509

from sim.kernel.clock import RouterClock
from sim.kernel.env import SimEnv
from sim.net.http import HttpRequest, HttpResponse
from sim.net.resolver import HostTable
from sim.pki import cs_effects as fx
from sim.pki import x509util
from sim.pki.cs_fsm import CsSignal, CsState
from sim.pki.cs_server import CertificateServer
from sim.pki.keys import KeySource
from sim.router import pki_storage
from sim.router.artifact_log import ArtifactLog
from sim.router.keystore import KeyPair, KeyStore
from sim.router.nvram import Nvram, NvramFull
from sim.router.show import running_config

if TYPE_CHECKING:
    from sim.net.topology import Network

BOOT_SECONDS = 45.0
"""Time from power-on (or reload) to a usable console; a 2600-class router with 12.3."""

HTTP_PORT = 80


@dataclass
class Trustpoint:
    """`crypto pki trustpoint NAME` and the certificates stored under it."""

    name: str
    enrollment_url: str | None = None
    subject_name: str | None = None
    revocation_check: str | None = None
    rsakeypair: str | None = None
    rsakeypair_bits: int | None = None
    """`rsakeypair LABEL KEY-SIZE`: the modulus an auto-generated key gets."""
    retry_period_minutes: int = 1
    retry_count: int = 10
    ca_cert: x509.Certificate | None = None
    id_cert: x509.Certificate | None = None
    ca_chain: tuple[x509.Certificate, ...] = ()
    """What GetCACert returned: the issuing CA first, then the CAs above it."""
    pending: Any = None
    """The enrollment in progress (a `sim.pki.scep_client.Enrollment`), if any."""
    auto_enroll_percent: int | None = None
    """`auto-enroll PERCENT`: re-enroll when the certificate has lived that share."""
    crl: x509.CertificateRevocationList | None = None
    crl_fetched: str | None = None

    def view(self) -> fx.TrustpointView:
        return fx.TrustpointView(self.name, self.enrollment_url, self.ca_cert, self.id_cert)


class Router:
    def __init__(
        self,
        env: SimEnv,
        net: Network,
        name: str,
        address: str,
        clock: RouterClock,
        keysource: KeySource,
        startup_config: list[str] | None = None,
    ) -> None:
        self.env = env
        self.net = net
        self.name = name
        self.address = address
        self.clock = clock
        self.keysource = keysource
        self.nvram = Nvram()
        if startup_config:
            self.nvram.write("startup-config", ("\n".join(startup_config) + "\n").encode())
        self.powered = False
        self.cs_lock = simpy.Resource(env.sim, capacity=1)
        self._key_generations: dict[str, int] = {}
        self.artifacts = ArtifactLog()
        """Every certificate, CSR, CRL and SCEP message this router produced or received,
        in order: (file name, bytes). They survive reloads; the output folder keeps them.
        A long-lived lab bounds it with `artifacts.retain(n)`."""
        self._processes: list[simpy.Process] = []
        self._reset_running_state()
        clock.subscribe(self._on_clock_change)

    # -- running state -------------------------------------------------------------------
    def _reset_running_state(self) -> None:
        self.hostname = "Router"
        self.domain_name: str | None = None
        self.domain_lookup = True
        self.hosts = HostTable()
        self.http_server = False
        self.trustpoints: dict[str, Trustpoint] = {}
        self.servers: dict[str, CertificateServer] = {}
        self.keys = KeyStore()
        self.debug: set[str] = set()
        self.booting = False
        self.scep_services: dict[str, Any] = {}
        self.timers: dict[str, Any] = {}

    @property
    def up(self) -> bool:
        return self.powered and not self.booting

    @property
    def fqdn(self) -> str:
        """`hostname.domain`: IOS's default key label and the name a router enrolls as."""
        return f"{self.hostname}.{self.domain_name}" if self.domain_name else self.hostname

    # -- output ----------------------------------------------------------------------------
    def emit(self, category: str, name: str, /, **data: Any) -> None:
        self.env.emit(self.name, category, name, **data)

    def console_line(self, text: str) -> None:
        self.emit("console", "line", text=text)

    def console_inline(self, text: str) -> None:
        self.emit("console", "inline", text=text)

    def log(self, text: str, kind: str = "syslog") -> None:
        """A timestamped console message, stamped with this router's clock."""
        self.emit("log", kind, stamp=self.clock.timestamp(), text=text)

    def debug_line(self, flag: str, text: str) -> None:
        if flag in self.debug:
            self.log(text, kind="debug")

    # -- power and boot --------------------------------------------------------------------
    def power_on(self) -> None:
        if self.powered:
            return
        self.powered = True
        self.emit("power", "on")
        self._spawn(self._boot())

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
        self._spawn(self._boot())

    def _halt(self) -> None:
        for driver in self.timers.values():
            driver.stop()
        self.net.unlisten(self.name, HTTP_PORT)
        self.net.set_node_up(self.name, False)
        for process in self._processes:
            if process.is_alive and process is not self.env.sim.active_process:
                process.interrupt("power")
        self._processes.clear()
        self.powered = False
        self._reset_running_state()
        self.cs_lock = simpy.Resource(self.env.sim, capacity=1)

    def spawn(self, generator: Generator[Any, Any, Any]) -> simpy.Process:
        """Run a background task of this router; a power loss or reload ends it."""
        return self._spawn(generator)

    def _spawn(self, generator: Generator[Any, Any, Any]) -> simpy.Process:
        process = self.env.process(_interruptible(generator))
        self._processes = [p for p in self._processes if p.is_alive]
        self._processes.append(process)
        return process

    def _boot(self, boot_seconds: float = BOOT_SECONDS, initial: bool = False
              ) -> Generator[Any, Any, None]:
        from sim.router.console import Session, load_config_text

        self.booting = True
        if not initial:
            # At t=0 the scenario's clock spec describes the running router; later boots
            # lose the time unless the router has a hardware calendar.
            self.clock.boot()
        self._console_queue = simpy.Store(self.env.sim)
        yield self.env.timeout(boot_seconds)
        self.net.set_node_up(self.name, True)
        self.keys = KeyStore.from_private_config(self.nvram.read("private-config"))
        text = (self.nvram.read("startup-config") or b"").decode()
        enable_servers = load_config_text(self, text.splitlines())
        pki_storage.restore_chains(self)
        self.booting = False
        if self.http_server:
            self.net.listen(self.name, HTTP_PORT, self.http_handler)
        self.session = Session(self)
        self._spawn(self._console_worker())
        self.console_line("")
        self.console_line("Press RETURN to get started!")
        self.console_line("")
        self.log("%SYS-5-RESTART: System restarted --")
        self.emit("power", "booted")
        from sim.router.pki_client import resume_pending, schedule_renewal

        for tp in self.trustpoints.values():
            schedule_renewal(self, tp)  # IOS re-arms `RENEW <tp>` timers at boot
        resume_pending(self)
        for cs in enable_servers:
            yield from self.run_signal(cs, CsSignal.NO_SHUT)

    def start(self) -> None:
        """Power on at the start of a run: the lab is already racked and booted at t=0."""
        self.powered = True
        self.emit("power", "on")
        self._spawn(self._boot(boot_seconds=0.0, initial=True))

    # -- console ---------------------------------------------------------------------------
    def type_lines(self, lines: list[str], answers: list[str]) -> None:
        """An operator types these lines at the console (queued behind earlier ones)."""
        if not self.up:
            self.emit("console", "dropped", lines=lines, reason="router is not running")
            return
        self._console_queue.put((lines, answers))

    def _console_worker(self) -> Generator[Any, Any, None]:
        while True:
            lines, answers = yield self._console_queue.get()
            yield from self.session.run_lines(lines, answers)

    # -- certificate servers ----------------------------------------------------------------
    def generate_key(self, label: str, bits: int) -> Any:
        generation = self._key_generations.get(label, 0)
        self._key_generations[label] = generation + 1
        return self.keysource.get(f"{self.name}/{label}#{generation}", bits)

    def cs_context(self, cs: CertificateServer, passphrase: str | None = None
                   ) -> fx.CsContext:
        pair = self.keys.get(cs.name)
        tp = self.trustpoints.get(cs.name)
        return fx.CsContext(
            now=self.clock.now(),
            clock_set=self.clock.is_set,
            http_on=self.http_server,
            key=pair.key if pair else None,
            trustpoint=tp.view() if tp else None,
            storage=self.nvram.files(),
            generate_key=self.generate_key,
            passphrase=passphrase,
        )

    def run_signal(self, cs: CertificateServer, signal: CsSignal,
                   passphrase: str | None = None) -> Generator[Any, Any, None]:
        """Process one FSM signal end to end (serialised per router, as IOS queues them)."""
        with self.cs_lock.request() as turn:
            yield turn
            yield from self.apply(cs, cs.enter(signal))
            yield from self.apply(cs, cs.complete(self.cs_context(cs, passphrase)))

    def signal_all(self, signal: CsSignal) -> None:
        """Queue a signal for every certificate server (clock or HTTP server changed)."""
        for cs in list(self.servers.values()):
            self._spawn(self.run_signal(cs, signal))

    def server_timers(self, cs: CertificateServer) -> None:
        """Start the server's timers: request expiry and CRL republication."""
        from sim.kernel.timers import TimerDriver
        from sim.pki.cs_desk import ServerTimers

        def key() -> Any:
            pair = self.keys.get(cs.name)
            return pair.key if pair else None

        def run_effects(effects: list[fx.Effect]) -> None:
            self.spawn(self.apply(cs, effects))

        if cs.name not in self.timers:
            self.timers[cs.name] = TimerDriver(self.env, self.clock, ServerTimers(cs, key),
                                               run_effects)

    def apply(self, cs: CertificateServer, effects: list[fx.Effect]
              ) -> Generator[Any, Any, None]:
        yield from self._apply(cs, effects)
        driver = self.timers.get(cs.name)
        if driver is not None:
            driver.poke()

    def _apply(self, cs: CertificateServer, effects: list[fx.Effect]
               ) -> Generator[Any, Any, None]:
        for effect in effects:
            match effect:
                case fx.Debug(text=text):
                    self.debug_line("pki-server", f"CRYPTO_CS: {text}")
                case fx.Console(text=text, inline=True):
                    self.console_inline(text)
                case fx.Console(text=text):
                    self.console_line(text)
                case fx.Syslog(text=text):
                    self.log(text)
                case fx.Elapse(seconds=seconds, reason=reason):
                    self.emit("cs", "busy", server=cs.name, seconds=seconds, reason=reason)
                    yield self.env.timeout(seconds)
                case fx.KeyGenerated(label=label, key=key, bits=bits):
                    self.keys.put(KeyPair(label, key, generated_at=self.clock.now()))
                    self.emit("pki", "key.generated", label=label, bits=bits)
                case fx.TrustpointCreated(name=name, rsakeypair=keypair,
                                          revocation_check=check):
                    self.trustpoints.setdefault(
                        name, Trustpoint(name, revocation_check=check, rsakeypair=keypair))
                case fx.WriteFile(name=name, data=data):
                    self.write_nvram(name, data)
                    if name.endswith(".crl"):
                        self.record_artifact(name + ".pem", x509util.crl_pem(
                            x509util.load_crl(data)))
                case fx.CertificateIssued(req_id=req_id, certificate=cert):
                    self.record_artifact(f"{cs.name}-issued-{cert.serial_number:X}.cert.pem",
                                         x509util.cert_pem(cert))
                    self.emit("cs", "issued", server=cs.name, req_id=req_id,
                              serial=cert.serial_number,
                              subject=x509util.format_dn_ios(cert.subject))
                case fx.CaCertificateInstalled(trustpoint=tp_name, certificate=cert):
                    tp = self.trustpoints.setdefault(tp_name, Trustpoint(tp_name))
                    tp.ca_cert = cert
                    self.emit("pki", "ca.certificate", server=cs.name,
                              serial=cert.serial_number, subject=cert.subject.rfc4514_string(),
                              sha1=x509util.fingerprint_hex(x509util.cert_der(cert), "sha1"))
                case fx.ScepService(running=running):
                    self.emit("cs", "scep", server=cs.name, running=running)
                case fx.StateChanged(old=old, new=new, signal=signal, reason=reason):
                    self.emit("fsm", "transition", server=cs.name, old=old.value,
                              new=new.value, signal=signal.value, reason=reason)
                case fx.EnrollTrustpoint(trustpoint=tp_name):
                    from sim.router.pki_client import enroll_server_trustpoint

                    session = getattr(self, "session", None)
                    yield from enroll_server_trustpoint(self, session, cs, tp_name)

    def random_bytes(self, count: int) -> bytes:
        """Nonces, content keys and padding, from the run's seeded RNG (determinism)."""
        return self.env.rng.randbytes(count)

    def record_artifact(self, name: str, data: bytes) -> None:
        self.emit("artifact", "recorded", file=self.artifacts.record(name, data), size=len(data))

    def record_scep(self, der: bytes, kind: str, *, sent: bool) -> None:
        self.record_artifact(f"{'sent' if sent else 'received'}-{kind}.der", der)

    def scep_service(self, cs: CertificateServer) -> Any:
        from sim.pki.scep_service import ScepService

        service = self.scep_services.get(cs.name)
        tp = self.trustpoints.get(cs.name)
        chain: tuple[x509.Certificate, ...] = ()
        if tp is not None and cs.config.mode == "sub-cs":
            # What GetCACert returned when the trustpoint was authenticated; at least the
            # issuing CA when that was never known (a chain pasted by hand).
            upper = cs.upper_ca_cert or tp.ca_cert
            chain = tp.ca_chain or ((upper,) if upper is not None else ())
        if service is None:
            service = self.scep_services[cs.name] = ScepService(cs, chain)
        service.chain = chain
        return service

    def write_nvram(self, name: str, data: bytes) -> bool:
        try:
            self.nvram.write(name, data)
        except NvramFull as full:
            self.console_line(str(full))
            return False
        self.emit("nvram", "write", file=name, size=len(data))
        return True

    # -- services ----------------------------------------------------------------------------
    def set_http_server(self, on: bool) -> None:
        if on == self.http_server:
            return
        self.http_server = on
        if self.booting:
            return  # the listener starts when the boot completes
        if on and self.up:
            self.net.listen(self.name, HTTP_PORT, self.http_handler)
        else:
            self.net.unlisten(self.name, HTTP_PORT)
        self.emit("http", "server", on=on)
        self.signal_all(CsSignal.HTTP_ON if on else CsSignal.HTTP_OFF)

    def http_handler(self, request: HttpRequest) -> Generator[Any, Any, HttpResponse]:
        from sim.router.http_service import serve

        return (yield from serve(self, request))

    def _on_clock_change(self, clock: RouterClock, reason: str) -> None:
        self.emit("clock", reason, now=clock.now().isoformat(), valid=clock.is_set)
        if reason == "set" and self.up:
            self.signal_all(CsSignal.TIME_SET)

    def set_clock(self, value: datetime) -> None:
        self.clock.set(value)

    # -- configuration persistence -------------------------------------------------------------
    def running_config_text(self) -> str:
        return "\n".join(running_config(self)) + "\n"

    def write_memory(self) -> bool:
        ok = self.write_nvram("startup-config", self.running_config_text().encode())
        keys = self.keys.to_private_config()
        if keys:
            ok = self.write_nvram("private-config", keys) and ok
        return pki_storage.save(self) and ok

    def config_modified(self) -> bool:
        saved = self.nvram.read("startup-config") or b""
        return saved.decode() != self.running_config_text()

    def server_state(self, name: str | None = None) -> CsState | None:
        if name is None:
            cs = next(iter(self.servers.values()), None)
        else:
            cs = self.servers.get(name)
        return cs.state if cs else None

    def observe(self, command: str) -> list[str]:
        """Run an EXEC command as an invisible observer and return its output lines.

        Scenario expectations use this to read `show` output at a moment of the run
        without typing into the operator's console or its transcript.
        """
        from sim.router import commands
        from sim.router.console import Mode, Session, run_to_completion

        if not self.up:
            return [f"% {self.name} is not running"]
        session = Session(self, observer=True)
        session.mode = Mode.EXEC
        session.current_line = command
        try:
            run_to_completion(commands.dispatch(session, command))
        except RuntimeError:
            session.output.append("% command needs the console and cannot be observed")
        return session.output


def _interruptible(generator: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    """Run a router process; a power loss (interrupt) simply ends it."""
    try:
        return (yield from generator)
    except simpy.Interrupt:
        return None
