"""The router side of its certificate servers: the shell around the sans-IO CS core.

The core (`sim.pki.cs_server`, `sim.pki.cs_desk`) takes signals and a context and returns
effects. This module builds the context from the router (its clock's time, its keys,
nvram, the trustpoint named like the server), serialises signals as IOS queues them,
applies the effects in order (printing, writing nvram, spending simulated time, starting
the server's own enrollment) and drives the server's timers (request expiry, CRL
republication) with a `TimerDriver`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import simpy
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from simpy.events import URGENT

from sim.kernel.process import SimProcess
from sim.kernel.timers import TimerDriver, call_soon
from sim.pki import cs_effects as fx
from sim.pki import x509util
from sim.pki.cs_desk import ServerTimers
from sim.pki.cs_fsm import CsSignal
from sim.pki.cs_locations import publish_urls
from sim.pki.cs_server import CertificateServer, CsConfig
from sim.pki.cs_settings import CsMode
from sim.pki.deferred import deferred_pem
from sim.pki.scep_service import ScepService
from sim.router import filesystems
from sim.router.cs_store import CsStorage
from sim.router.keystore import KeyPair
from sim.router.pki_client import enroll_server_trustpoint
from sim.router.ra_host import RaHost
from sim.router.state import Trustpoint

if TYPE_CHECKING:
    from sim.router.router import Router


TRUSTPOINT_CREATE = "%PKI-6-TRUSTPOINT_CREATE: Trustpoint: {name} created succesfully"
"""IOS-XE's syslog when a trustpoint is created, typo included (cisco-cs.md 15 [V])."""


_PLAIN_EFFECTS = (fx.Debug, fx.Console, fx.Syslog, fx.Elapse, fx.WriteFile)
"""The effects a timer's `_Steps` may apply (a `WriteFile` if it stays on the router)."""


class _Steps:
    """A timer's effects (`ServerHost.apply`) stepped through as a router process would
    step them, without being one: an idle CA's year is 146,000 CRL publications, and a
    simpy process per publication (its start, its wrapper, its end) was a quarter of it.

    It starts as a process starts (an urgent event at the current time), and each event
    the effects wait on (the `Elapse`'s timeout) resumes it when processed, as it resumes
    a process; so every output and write happens at the same moment, in the same order.
    A power loss or reload interrupts a router's processes; here the router's new
    `ServerHost` (one per boot) says that the boot these effects belong to is over, and
    the steps stop where the interrupted process would have stopped. Only effects that
    end no differently when stopped that way come here (`ServerHost._plain`): output,
    simulated time and writes to nvram or flash, none of which holds a resource (nor does
    a TFTP transfer, should `database url` move to a TFTP server during the 0.09 s of a
    publication: its events are waited on here as a process waits on them)."""

    __slots__ = ("_host", "_steps")

    def __init__(self, host: ServerHost, steps: SimProcess[None]) -> None:
        self._host = host
        self._steps = steps
        call_soon(host.router.env.sim, self._step, URGENT)  # as a process's start

    def _resume(self, event: simpy.Event) -> None:
        if self._host.router.server_host is not self._host:
            # Stopped by a power loss or reload while waiting. (The start is not checked:
            # a process's start is processed before an interruption in the same instant.)
            self._steps.close()
            return
        self._step(event)

    def _step(self, event: simpy.Event) -> None:
        while True:  # simpy's Process._resume, for a generator of plain events
            try:
                if event.ok:
                    event = self._steps.send(event.value)
                else:
                    event.defused = True
                    failure = cast(BaseException, event.value)
                    error = type(failure)(*failure.args)
                    error.__cause__ = failure
                    event = self._steps.throw(error)
            except StopIteration:
                return
            if event.callbacks is not None:
                event.callbacks.append(self._resume)
                return


_NONE: frozenset[str] = frozenset()


def _issued_subject(cs: CertificateServer, req_id: int, cert: x509.Certificate) -> str:
    """`format_dn_ios(cert.subject)` for the certificate just issued for request `req_id`:
    the request's subject as the database shows it (`EnrollmentRequest.subject_text`, the
    same function of the same name the certificate was issued with), without building the
    new certificate's subject again. Only where the two cannot differ: the entry is still
    the one granted with this certificate, and no RDN of it is multi-valued (no `+`: the
    certificate holds the request's name with each RDN's attributes in DER order, which
    may not be the order the request had them in)."""
    requests = cs.requests
    entry = requests.get(req_id) if req_id in requests else None
    if entry is not None and entry.serial == cert.serial_number \
            and "+" not in entry.subject_text:
        return entry.subject_text
    return x509util.format_dn_ios(cert.subject)


class ServerHost:
    """Runs a router's certificate servers; one per router, renewed at every boot.

    Every router has one, and most run no server: what only a server needs (the lock, the
    set of running SCEP services, the database locations, RA forwarding) costs nothing
    until a server uses it."""

    __slots__ = ("router", "_lock", "_timers", "_scep", "_storage", "_scep_up", "_ra",
                 "_local_files")

    def __init__(self, router: Router) -> None:
        self.router = router
        self._lock: simpy.Resource | None = None
        self._timers: dict[str, TimerDriver] = {}
        self._scep: dict[str, ScepService] = {}
        self._storage: CsStorage | None = None
        self._scep_up = _NONE
        """Servers whose SCEP service has started, as the router has played it out: the
        core decides at once, but its key generation and checks take simulated time, and
        a client must not be answered by a CA still generating its key."""
        self._ra: RaHost | None = None
        self._local_files: dict[str, tuple[CsConfig, str, bool]] = {}
        """`_stays_local`'s latest answer per server, with the configuration it read."""

    @property
    def lock(self) -> simpy.Resource:
        """IOS processes one server event at a time: signals and requests queue here.
        Made on first use (a resource and its queues are some 600 bytes per router)."""
        lock = self._lock
        if lock is None:
            lock = self._lock = simpy.Resource(self.router.env.sim, capacity=1)
        return lock

    @property
    def storage(self) -> CsStorage:
        """Where the servers' database files are read and written (`cs_store`); made on
        first use."""
        storage = self._storage
        if storage is None:
            storage = self._storage = CsStorage(self.router)
        return storage

    @property
    def ra(self) -> RaHost:
        """Forwarding for a server in RA mode (`ra_host`), made on first use. Until then
        there is nothing it could forward, and no wait of its own that a clock step
        would move (`RaHost` follows the clock from when it is made)."""
        ra = self._ra
        if ra is None:
            ra = self._ra = RaHost(self.router)
        return ra

    def stop(self) -> None:
        """Power loss or reload: the timers die with the running state."""
        self.ra.stop()  # made if need be: a stopped host forwards nothing afterwards
        for driver in self._timers.values():
            driver.stop()
        self._timers.clear()

    def forget(self, name: str) -> None:
        """`no crypto pki server NAME`: its timers stop, its SCEP service goes."""
        driver = self._timers.pop(name, None)
        if driver is not None:
            driver.stop()
        self._scep.pop(name, None)
        if self._ra is not None:
            self._ra.forget(name)

    # -- signals ---------------------------------------------------------------------------
    def context(self, cs: CertificateServer, passphrase: str | None = None) -> fx.CsContext:
        router = self.router
        pair = router.running.keys.get(cs.name)
        tp = router.running.trustpoints.get(cs.name)
        return fx.CsContext(
            now=router.clock.now(),
            clock_set=router.clock.is_set,
            http_on=router.running.http_server,
            key=pair.key if pair else None,
            trustpoint=tp.view() if tp else None,
            **self.storage.context_fields(cs),
            generate_key=router.generate_key,
            passphrase=passphrase,
            keygen=router.release.keygen,
            blank_after_export=router.release.blank_after_export,
            console_enable_once=router.release.console_enable_once,
            time_unset_hint=router.release.time_unset_hint,
        )

    def run_signal(self, cs: CertificateServer, signal: CsSignal,
                   passphrase: str | None = None) -> SimProcess[None]:
        """Process one FSM signal end to end (serialised per router, as IOS queues them)."""
        with self.lock.request() as turn:
            yield turn
            yield from self.apply(cs, cs.enter(signal))
            yield from self.storage.prefetch(cs)
            yield from self.apply(cs, cs.complete(self.context(cs, passphrase)))

    def signal_all(self, signal: CsSignal) -> None:
        """Queue a signal for every certificate server (clock or HTTP server changed)."""
        for cs in list(self.router.running.servers.values()):
            self.router.spawn(self.run_signal(cs, signal))

    def start_timers(self, cs: CertificateServer) -> None:
        """Start the server's timers: request expiry and CRL republication."""
        router = self.router
        name = cs.name

        def key() -> rsa.RSAPrivateKey | None:
            pair = router.running.keys.get(name)  # `running` is renewed at every boot
            return pair.key if pair else None

        def has_key() -> bool:
            # Whether `key()` would give a key, without loading it (`live_key`): the
            # timers ask several times per CRL publication, and sign nothing.
            return router.running.keys.get(name) is not None

        def run_effects(effects: list[fx.Effect]) -> None:
            if self._plain(cs, effects):
                _Steps(self, self._apply_timer_effects(cs, effects))
            else:
                router.spawn(self._apply_timer_effects(cs, effects))

        if cs.name not in self._timers:
            self._timers[cs.name] = TimerDriver(router.env, router.clock,
                                                ServerTimers(cs, key, has_key), run_effects)

    # -- effects ---------------------------------------------------------------------------
    def _plain(self, cs: CertificateServer, effects: list[fx.Effect]) -> bool:
        """Whether a timer's effects need no router process of their own (`_Steps`): only
        output, simulated time and files written to the router's own devices (a TFTP
        location would wait on the network)."""
        for effect in effects:
            if isinstance(effect, fx.WriteFile):
                if not self._stays_local(cs, effect.name):
                    return False
            elif not isinstance(effect, _PLAIN_EFFECTS):
                return False
        return True

    def _stays_local(self, cs: CertificateServer, name: str) -> bool:
        """Whether the file `name` is written on the router's own devices only (no TFTP
        location), kept for the server's configuration (a frozen value, replaced at each
        change) and the file: a CA asks at every CRL publication."""
        config = cs.config
        kept = self._local_files.get(cs.name)
        if kept is not None and kept[0] is config and kept[1] == name:
            return kept[2]
        typed = config.database_typed_urls
        local = filesystems.parse(config.file_url(name)).device != "tftp" and not (
            typed and any(filesystems.parse(url).device == "tftp"
                          for _where, url in publish_urls(typed, name)))
        self._local_files[cs.name] = (config, name, local)
        return local

    def apply(self, cs: CertificateServer, effects: list[fx.Effect], *,
              exchange: bool = False) -> SimProcess[None]:
        """Carry out the server's effects, then have its timers look again.

        `exchange`: the effects of a SCEP exchange (`http_service`), one per request a
        CA answers. The timer driver then looks again only if the deadline, asked now,
        has moved earlier (`TimerDriver.recheck`), as after its own timer's effects: a
        request's expiry is the only deadline an exchange adds, and a poke's round for an
        unchanged (or later) deadline re-arms nothing (its two simpy hops were all it
        did). The RA's forwarding is looked at either way."""
        yield from self._apply(cs, effects)
        self.poke(cs, recheck=exchange)

    def _apply_timer_effects(self, cs: CertificateServer, effects: list[fx.Effect]
                             ) -> SimProcess[None]:
        """`apply` for what the server's own timer started (a CRL publication, expired
        requests): the timer driver computed its next deadline as it handed these
        over, so it looks again only if the core now asks for a different one
        (`TimerDriver.recheck`): the two hops and the round of a poke, three of an
        idle CA's seven simpy events per publication, are skipped when they would
        change nothing. A write that failed and disabled the server changes the
        deadline, and the driver looks as after a poke."""
        yield from self._apply(cs, effects)
        self.poke(cs, recheck=True)

    def poke(self, cs: CertificateServer, *, recheck: bool = False) -> None:
        """`cs`'s deadlines or its RA forwarding may have changed: look again (`recheck`:
        only if the deadline asked now has moved, `TimerDriver.recheck`)."""
        driver = self._timers.get(cs.name)
        if driver is not None:
            if recheck:
                driver.recheck()
            else:
                driver.poke()
        self.ra.poke(cs)

    def _apply(self, cs: CertificateServer, effects: list[fx.Effect]
               ) -> SimProcess[None]:
        router = self.router
        running = router.running
        name = cs.name
        for effect in effects:
            # The effect types are distinct final classes (no subclasses), so a test of
            # the exact type says what a `case` would: the three every exchange and CRL
            # publication has many of (a SCEP exchange's some fifteen Debug lines, its
            # Elapses and WriteFiles) are tested first, without a `match`'s isinstance
            # and attribute captures per case (mypy narrows on `type(x) is C` too); the
            # rest go through `_apply_other`.
            if type(effect) is fx.Debug:
                if "pki-server" in running.debug:  # `debug_line`'s test, asked first
                    router.debug_line("pki-server", f"CRYPTO_CS: {effect.text}")
            elif type(effect) is fx.Elapse:
                router.emit("cs", "busy", server=name, seconds=effect.seconds,
                            reason=effect.reason)
                yield router.env.timeout(effect.seconds)
            elif type(effect) is fx.WriteFile:
                lost = yield from self.storage.write(cs, effect.name, effect.data)
                if lost:
                    yield from self._apply(cs, lost)
                if effect.name.endswith(".crl"):
                    # The PEM of the DER published (the same bytes `crl_pem` writes),
                    # deferred with it: nothing signs a CRL nobody reads.
                    router.record_artifact(effect.name + ".pem",
                                           deferred_pem(effect.data, "X509 CRL"))
            else:
                yield from self._apply_other(cs, effect)

    def _apply_other(self, cs: CertificateServer, effect: fx.Effect) -> SimProcess[None]:
        """`_apply` for the effects other than Debug, Elapse and WriteFile."""
        router = self.router
        running = router.running
        match effect:
            case fx.Console(text=text, inline=True):
                router.console_inline(text)
            case fx.Console(text=text):
                router.console_line(text)
            case fx.Syslog(text=text):
                router.log(text)
            case fx.KeyGenerated(label=label, key=key, bits=bits):
                running.keys.put(KeyPair(label, key, generated_at=router.clock.now()))
                router.emit("pki", "key.generated", label=label, bits=bits)
            case fx.TrustpointCreated(name=name, rsakeypair=keypair,
                                      revocation_check=check):
                if name not in running.trustpoints and router.release.trustpoint_create_syslog:
                    router.log(TRUSTPOINT_CREATE.format(name=name))
                running.trustpoints.setdefault(
                    name, Trustpoint(name, revocation_check=check, rsakeypair=keypair))
            case fx.CertificateIssued(req_id=req_id, certificate=cert):
                router.record_artifact(
                    f"{cs.name}-issued-{cert.serial_number:X}.cert.pem",
                    x509util.cert_pem(cert))
                router.emit("cs", "issued", server=cs.name, req_id=req_id,
                            serial=cert.serial_number,
                            subject=_issued_subject(cs, req_id, cert))
            case fx.CaCertificateInstalled(trustpoint=tp_name, certificate=cert):
                tp = running.trustpoints.setdefault(tp_name, Trustpoint(tp_name))
                tp.ca_cert = cert
                router.emit("pki", "ca.certificate", server=cs.name,
                            serial=cert.serial_number,
                            subject=cert.subject.rfc4514_string(),
                            sha1=x509util.fingerprint_hex(x509util.cert_der(cert),
                                                          "sha1"))
            case fx.ScepService(running=on):
                self._scep_up = (self._scep_up | {cs.name} if on
                                 else self._scep_up - {cs.name})
                router.emit("cs", "scep", server=cs.name, running=on)
            case fx.StateChanged(old=old, new=new, signal=signal, reason=reason):
                router.emit("fsm", "transition", server=cs.name, old=old.value,
                            new=new.value, signal=signal.value, reason=reason)
            case fx.EnrollTrustpoint(trustpoint=tp_name):
                yield from enroll_server_trustpoint(router, router.session, cs, tp_name)

    # -- SCEP ------------------------------------------------------------------------------
    def scep_started(self, cs: CertificateServer) -> bool:
        """`cs` answers SCEP now: its core says so and the start has been played out."""
        return cs.scep_running and cs.name in self._scep_up

    def scep_service(self, cs: CertificateServer) -> ScepService:
        """The server's SCEP service, with the chain it answers GetCACert with."""
        name = cs.name  # a property, read once
        service = self._scep.get(name)
        tp = self.router.running.trustpoints.get(name)
        chain: tuple[x509.Certificate, ...] = ()
        if tp is not None and cs.config.mode in (CsMode.SUB_CS, CsMode.RA):
            # What GetCACert returned when the trustpoint was authenticated; at least the
            # issuing CA when that was never known (a chain pasted by hand).
            upper = cs.upper_ca_cert or tp.ca_cert
            chain = tp.ca_chain or ((upper,) if upper is not None else ())
        if service is None or service.cs is not cs:
            service = self._scep[name] = ScepService(cs, chain)
        service.chain = chain
        service.relayed_crl = tp.crl if tp is not None and cs.config.is_ra else None
        # `grant auto trustpoint|tp-list`: the CA certificates those trustpoints hold.
        names = cs.config.grant_trustpoints
        if not names:  # the usual case, asked at every request: nothing to look up
            service.grant_anchors = ()
            return service
        held = (self.router.running.trustpoints.get(name) for name in names)
        service.grant_anchors = tuple(tp.ca_cert for tp in held
                                      if tp is not None and tp.ca_cert is not None)
        return service
