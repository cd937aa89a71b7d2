"""The router side of CA rollover: the shell around `sim.pki.cs_rollover`.

One `RolloverHost` per router runs, with one `TimerDriver`:

- for each certificate server, its `RolloverTimers` (`CS SHADOW CERT GENERATION` at CA
  notAfter minus the `auto-rollover` overlap, and the shadow's activation), applying the
  core's effects: the plain server effects through `ServerHost.apply`, `EnrollShadow` (a
  subordinate asks its issuing CA for its shadow certificate, by GetNextCACert and a
  rollover request) and `ShadowActivated` (the key pair and the trustpoint take the
  shadow's key and certificates);
- for each client trustpoint with `auto-enroll` (IOS's `SHADOW <tp>` timer, cisco-cs.md
  17): once its CA certificate has lived the auto-enroll share of its life, it asks the
  CA for its rollover certificate (GetNextCACert) and, when there is one, enrolls under
  it for a shadow router certificate; both become the trustpoint's when the CA
  certificate expires ("activated when the old CA cert expires", cisco-cs.md 14).

chosen (the reference is silent on the client's timing): the `SHADOW <tp>` timer falls
at the trustpoint's `auto-enroll` percentage of its CA certificate's validity (a bare
`auto-enroll`, 100 %, looks at 95 %), and a try that finds no shadow, or whose request is
not granted within the trustpoint's retries, tries again a day later (sooner when the CA
certificate ends within two days: halfway to its end, at least a minute later), and stops
once that CA certificate has ended.

The rollover request is signed with the certificate in use and its key (draft-nourse-11
App. G renewal) and enveloped to the shadow CA certificate, which is how the CA tells it
from an ordinary renewal (`cs_rollover.open_envelope`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.kernel.process import SimProcess
from sim.kernel.timers import TimerDriver
from sim.pki import cs_effects as fx
from sim.pki import cs_rollover, scep, x509util
from sim.pki.cs_server import DEFAULT_KEY_BITS, CertificateServer
from sim.pki.scep_client import ScepEndpoint, scep_endpoint
from sim.pki.scep_http import GET_NEXT_CA_CERT, get_request, pki_operation_request
from sim.router import filesystems
from sim.router.keystore import KeyPair
from sim.router.pki_client import AUTOSAVE, caps_profile, trustpoint_key
from sim.router.pki_http import Exchange, debug, http_exchange, note_exchange
from sim.router.state import Trustpoint

if TYPE_CHECKING:
    from sim.router.router import Router

SHADOW_LOOK_MAX_PERCENT = 95
"""A bare `auto-enroll` (renewal at 100 %) looks for the CA's shadow at 95 % (chosen)."""
RETRY = timedelta(days=1)
MIN_RETRY = timedelta(minutes=1)
ACTIVE_SYSLOG = ("%PKI-6-CERT_ROLLOVER_ACTIVE: Rollover certificates of trustpoint {tp} "
                 "are now active")
"""chosen: pkilab's wording for the client's switch (IOS's was never captured)."""
SHADOW_SYSLOG = ("%PKI-6-CERT_SHADOW_INSTALL: Rollover certificate received from "
                 "Certificate Authority for trustpoint {tp}")
"""chosen: pkilab's wording for a shadow certificate received (IOS's was never captured)."""


_NONE: frozenset[str] = frozenset()


class RolloverHost:
    """Runs a router's rollover timers; one per router, for its whole life.

    Its sets of names are frozensets, replaced (`|`, `-`) rather than changed in place:
    they change only around a rollover, and most routers never roll over, so each starts
    as the one shared empty frozenset instead of three empty sets per router (216 bytes
    each in a 10,000-router run)."""

    __slots__ = ("router", "_busy", "_server_retry", "_driver", "_restored", "_sent")

    def __init__(self, router: Router) -> None:
        self.router = router
        self._busy = _NONE
        """Servers (`cs:<name>`) and trustpoints (`tp:<name>`) with a try in flight."""
        self._server_retry: dict[str, datetime] = {}
        """A subordinate whose shadow request got no certificate: when it asks again."""
        self._driver: TimerDriver[list[Any]] | None = None
        self._restored = _NONE
        """Servers whose saved shadow was looked for since the boot."""
        self._sent = _NONE
        """Owners (`cs:<name>`, `tp:<name>`) whose rollover request the CA holds."""

    def start(self) -> None:
        """At the end of each boot: run the timers (the first boot starts the driver; a
        later one makes it look at the restored state)."""
        if self._driver is None:
            router = self.router
            self._driver = TimerDriver(router.env, router.clock, self, self._fired)
        else:
            self._driver.poke()

    def poke(self) -> None:
        if self._driver is not None:
            self._driver.poke()

    def recheck(self) -> None:
        """`poke()` for an event that changes nothing the timers read (`Router.emit`):
        the driver looks again only if the deadline, asked now, has moved
        (`TimerDriver.recheck`). Asking is free of side effects unless a saved shadow
        is still to be looked for (`_restore`, once per boot): then it pokes."""
        driver = self._driver
        if driver is None:
            return
        if self._restore_pending():
            driver.poke()
        else:
            driver.recheck()

    def _restore_pending(self) -> bool:
        """Whether `next_deadline` would look for a saved shadow (`_restore`,
        `_restore_client`), which may trace an event."""
        restored, busy = self._restored, self._busy
        servers = self.router.running.servers
        for cs in servers.values():
            if cs.name not in restored and cs.ca_cert is not None \
                    and not (busy and f"cs:{cs.name}" in busy):
                return True
        for tp in self.router.running.trustpoints.values():
            if tp.name not in servers and self._rolls_over(tp) \
                    and f"tp:{tp.name}" not in restored and tp.shadow.id_cert is None:
                return True
        return False

    def _rolls_over(self, tp: Trustpoint) -> bool:
        """A client trustpoint whose CA certificate `auto-enroll` rolls over, not in a try."""
        return (tp.renewal_percent is not None and tp.ca_cert is not None
                and tp.id_cert is not None and bool(tp.enrollment_url)
                and f"tp:{tp.name}" not in self._busy)

    def halt(self) -> None:
        """Power loss or reload: tries in flight die with the running state."""
        self._busy = self._restored = self._sent = _NONE
        self._server_retry.clear()

    # -- the timed core ----------------------------------------------------------------------
    def _timers(self, cs: CertificateServer) -> cs_rollover.RolloverTimers:
        router = self.router

        def bits() -> int:
            pair = router.running.keys.get(cs.name)
            return pair.bits if pair is not None else DEFAULT_KEY_BITS

        return cs_rollover.RolloverTimers(cs, router.generate_key, bits,
                                          router.release.keygen.seconds)

    def _server_deadlines(self) -> list[tuple[CertificateServer, datetime]]:
        found = []
        busy, retry = self._busy, self._server_retry
        for cs in self.router.running.servers.values():
            if busy and f"cs:{cs.name}" in busy:
                continue
            self._restore(cs)
            if cs.config.auto_rollover_minutes is None and cs.rollover.certificate is None \
                    and not (retry and cs.name in retry):
                continue  # no generation, no activation, no retry: nothing is due
            # `RolloverTimers.next_deadline` and the retry, the earliest first, without
            # building the timers' object: this runs whenever the server's trace moves (a
            # CA's every CRL publication).
            best = cs_rollover.generation_due(cs)
            for due in (cs_rollover.activation_due(cs), retry.get(cs.name) if retry else None):
                if due is not None and (best is None or due < best):
                    best = due
            if best is not None:
                found.append((cs, best))
        return found

    def _client_deadlines(self) -> list[tuple[Trustpoint, datetime, bool]]:
        """(trustpoint, when, activation?) for every client trustpoint that rolls over."""
        running = self.router.running
        found = []
        for tp in running.trustpoints.values():
            if tp.name in running.servers or not self._rolls_over(tp):
                continue
            percent = tp.renewal_percent
            ca, shadow = tp.ca_cert, tp.shadow
            if percent is None or ca is None:  # (`_rolls_over` said; for the types)
                continue
            self._restore_client(tp)
            if shadow.id_cert is not None:
                found.append((tp, ca.not_valid_after_utc, True))
                continue
            if shadow.gave_up == ca.serial_number:
                continue
            if shadow.retry_at is not None:
                found.append((tp, shadow.retry_at, False))
                continue
            start, end = ca.not_valid_before_utc, ca.not_valid_after_utc
            share = min(percent, SHADOW_LOOK_MAX_PERCENT) / 100
            found.append((tp, start + (end - start) * share, False))
        return found

    def _restore(self, cs: CertificateServer) -> None:
        """Once per boot, when the server has its CA certificate back: the shadow it
        saved before the reload (`cs_rollover.restore`)."""
        if cs.name in self._restored or cs.ca_cert is None:
            return
        self._restored = self._restored | {cs.name}
        # chosen: read from a local database location only (nvram:, flash:); a shadow kept
        # on a TFTP server is made again rather than fetched during the boot.
        where = filesystems.parse(cs.config.file_url(cs_rollover.shadow_file(cs.name)))
        device = filesystems.local_device(self.router, where.device)
        data = device.read(where.path) if device is not None else None
        if cs_rollover.restore(cs, bytes(data) if data is not None else None):
            self.router.emit("cs", "rollover.restored", server=cs.name,
                             serial=cs.rollover.certificate.serial_number
                             if cs.rollover.certificate is not None else None)

    def _restore_client(self, tp: Trustpoint) -> None:
        """Once per boot: the rollover certificates the trustpoint saved before the
        reload (`client_file`), if they are still its (its key, its CA's successor)."""
        if f"tp:{tp.name}" in self._restored or tp.shadow.id_cert is not None:
            return
        self._restored = self._restored | {f"tp:{tp.name}"}
        router = self.router
        data = router.nvram.read(client_file(tp.name))
        pair = router.running.keys.get(tp.rsakeypair or router.running.fqdn)
        if not data or pair is None or tp.ca_cert is None:
            return
        try:
            certs = x509.load_pem_x509_certificates(data)
        except ValueError:
            return
        if len(certs) < 2:
            return
        mine, ca = certs[0], certs[1]
        public = mine.public_key()
        if (not isinstance(public, rsa.RSAPublicKey)
                or public.public_numbers() != pair.key.public_key().public_numbers()
                or ca.subject != tp.ca_cert.subject
                or ca.not_valid_after_utc <= tp.ca_cert.not_valid_after_utc
                or not x509util.verify_signature(mine, ca.public_key())):
            return
        tp.shadow.id_cert, tp.shadow.ca_cert, tp.shadow.ca_chain = mine, ca, tuple(certs[1:])
        router.emit("pki", "rollover.restored", trustpoint=tp.name,
                    serial=mine.serial_number)

    def next_deadline(self) -> datetime | None:
        best: datetime | None = None
        for _cs, due in self._server_deadlines():
            if best is None or due < best:
                best = due
        for _tp, due, _activation in self._client_deadlines():
            if best is None or due < best:
                best = due
        return best

    def on_timer(self, now: datetime) -> list[Any]:
        """Start what is due (the work itself runs in router processes)."""
        router = self.router
        for cs, due in self._server_deadlines():
            if due > now:
                continue
            retry = self._server_retry.pop(cs.name, None)
            if retry is not None and retry <= now and cs.rollover.active \
                    and cs.rollover.certificate is None:
                self._busy = self._busy | {f"cs:{cs.name}"}
                router.spawn(self._enroll_server_shadow(cs))
                continue
            try:
                effects = self._timers(cs).on_timer(now)
            except cs_rollover.RolloverError:
                continue
            if effects:
                self._busy = self._busy | {f"cs:{cs.name}"}
                router.spawn(self._apply_then_free(cs, effects))
        for tp, due, activation in self._client_deadlines():
            if due > now:
                continue
            if activation:
                self._activate_client(tp)
                continue
            self._busy = self._busy | {f"tp:{tp.name}"}
            router.spawn(self._client_shadow(tp))
        return []

    def _fired(self, _nothing: Any) -> None:
        """The driver's hand-back: `on_timer` already started everything."""

    def armed(self) -> tuple[list[tuple[str, datetime]], list[tuple[str, datetime]]]:
        """(`PKI Timers` members, `CS Timers` members) for `show crypto pki timers`:
        `SHADOW <tp>` while a client waits to look for its CA's shadow, `CS SHADOW CERT
        GENERATION` while auto-rollover waits to start (cisco-cs.md 17)."""
        client = [(f"SHADOW {tp.name}", due) for tp, due, activation in self._client_deadlines()
                  if not activation]
        server: list[tuple[str, datetime]] = []
        for cs in self.router.running.servers.values():
            server += self._timers(cs).armed()
        return client, server

    # -- commands ----------------------------------------------------------------------------
    def start_now(self, cs: CertificateServer) -> SimProcess[None]:
        """`crypto pki server CS rollover`: the rollover starts at once (RolloverError
        when the server cannot)."""
        router = self.router
        pair = router.running.keys.get(cs.name)
        bits = pair.bits if pair is not None else DEFAULT_KEY_BITS
        effects = cs_rollover.start(cs, router.clock.now(), router.generate_key, bits,
                                    "manual", router.release.keygen.seconds(bits))
        router.emit("cs", "rollover.start", server=cs.name, how="manual")
        self._busy = self._busy | {f"cs:{cs.name}"}
        yield from self._apply_then_free(cs, effects)

    def cancel(self, cs: CertificateServer) -> SimProcess[None]:
        """`crypto pki server CS rollover cancel`."""
        effects = cs_rollover.cancel(cs)
        self._server_retry.pop(cs.name, None)
        self._sent = self._sent - {f"cs:{cs.name}"}
        self.router.emit("cs", "rollover.cancel", server=cs.name)
        yield from self._apply(cs, effects)

    # -- the server's effects ----------------------------------------------------------------
    def _apply_then_free(self, cs: CertificateServer, effects: list[Any]
                         ) -> SimProcess[None]:
        try:
            yield from self._apply(cs, effects)
        finally:
            self._busy = self._busy - {f"cs:{cs.name}"}
            self.poke()

    def _apply(self, cs: CertificateServer, effects: list[Any]) -> SimProcess[None]:
        router = self.router
        for effect in effects:
            match effect:
                case cs_rollover.EnrollShadow():
                    yield from self._enroll_server_shadow(cs)
                case cs_rollover.ShadowActivated(key=key, certificate=cert, upper=upper):
                    self._install_server_shadow(cs, key, cert, upper)
                case fx.Syslog() | fx.Debug() | fx.WriteFile() | fx.Elapse() | fx.Console():
                    yield from router.server_host.apply(cs, [effect])
                case _:
                    raise TypeError(f"the rollover core returned {effect!r}")
        if cs.rollover.certificate is not None:
            router.emit("cs", "rollover.available", server=cs.name,
                        serial=cs.rollover.certificate.serial_number)
            router.record_artifact(f"{cs.name}.rollover.ca.pem", b"".join(
                x509util.cert_pem(c) for c in cs_rollover.next_ca_certificates(cs)))

    def _install_server_shadow(self, cs: CertificateServer, key: rsa.RSAPrivateKey,
                               cert: x509.Certificate,
                               upper: tuple[x509.Certificate, ...]) -> None:
        router = self.router
        running = router.running
        in_step = self._saved_in_step()
        old = running.keys.get(cs.name)
        running.keys.put(KeyPair(cs.name, key, old.exportable if old else False,
                                 router.clock.now()))
        tp = running.trustpoints.setdefault(cs.name, Trustpoint(cs.name))
        if cs.config.mode == "sub-cs":
            tp.id_cert = cert
            if upper:
                tp.ca_cert, tp.ca_chain = upper[0], upper
        else:
            tp.ca_cert = cert
        router.record_artifact(f"{cs.name}.ca.pem", x509util.cert_pem(cert))
        router.emit("cs", "rollover.active", server=cs.name, serial=cert.serial_number,
                    not_after=cert.not_valid_after_utc.isoformat())
        self._autosave(in_step)

    def _saved_in_step(self) -> bool:
        """The saved configuration matches the running one (before a change made on the
        router's own, which is then saved too)."""
        router = self.router
        return router.nvram.exists("startup-config") and not router.config_modified()

    def _autosave(self, in_step: bool) -> None:
        """IOS saves what changes on its own when the saved configuration was in step
        (`%PKI-6-AUTOSAVE`, as for a certificate arriving in the background): the new
        key pair and certificates survive the next reload. Changes the operator has not
        saved are never written behind their back."""
        if in_step and self.router.write_memory():
            self.router.log(AUTOSAVE)

    def _enroll_server_shadow(self, cs: CertificateServer) -> SimProcess[None]:
        """A subordinate's shadow key gets its certificate from the issuing CA: from the
        issuing CA's own shadow when it has one (so the new sub-CA certificate outlives
        the issuing CA's current one), else from its current certificate."""
        router = self.router
        name = f"cs:{cs.name}"
        self._busy = self._busy | {name}
        try:
            tp = router.running.trustpoints.get(cs.name)
            pair = router.running.keys.get(cs.name)
            new_key, current = cs.rollover.key, cs.ca_cert
            if tp is None or pair is None or new_key is None or current is None \
                    or tp.ca_cert is None or not tp.enrollment_url:
                return
            upper = yield from self._next_ca(tp)
            chain = tuple(upper) if upper else (tp.ca_chain or (tp.ca_cert,))
            cert = yield from self._shadow_enroll(tp, new_key, current.subject, True,
                                                  current, pair.key, chain[0], name)
            if cert is None or not cs.rollover.active:
                retry = _retry_at(router.clock.now(), current)
                if retry is not None:
                    self._server_retry[cs.name] = retry
                return
            yield from self._apply(cs, cs_rollover.shadow_ready(cs, cert, chain))
        finally:
            self._busy = self._busy - {name}
            self.poke()

    # -- clients -------------------------------------------------------------------------------
    def _client_shadow(self, tp: Trustpoint) -> SimProcess[None]:
        router = self.router
        try:
            ca, current = tp.ca_cert, tp.id_cert
            if ca is None or current is None:
                return
            certs = yield from self._next_ca(tp)
            cert = None
            if certs:
                key = trustpoint_key(router, tp)
                cert = yield from self._shadow_enroll(tp, key, current.subject, False,
                                                      current, key, certs[0],
                                                      f"tp:{tp.name}")
            if cert is None or tp.ca_cert is not ca:
                tp.shadow.retry_at = _retry_at(router.clock.now(), ca)
                if tp.shadow.retry_at is None:
                    tp.shadow.gave_up = ca.serial_number
                return
            tp.shadow.ca_cert, tp.shadow.ca_chain = certs[0], tuple(certs)
            tp.shadow.id_cert = cert
            tp.shadow.retry_at = None
            router.write_nvram(client_file(tp.name), b"".join(
                x509util.cert_pem(c) for c in (cert, *certs)))
            router.log(SHADOW_SYSLOG.format(tp=tp.name))
            router.record_artifact(f"{tp.name}.rollover.cert.pem", x509util.cert_pem(cert))
            router.record_artifact(f"{tp.name}.rollover.ca.pem", b"".join(
                x509util.cert_pem(c) for c in certs))
            router.emit("pki", "rollover.shadow", trustpoint=tp.name,
                        serial=cert.serial_number, ca_serial=certs[0].serial_number)
        finally:
            self._busy = self._busy - {f"tp:{tp.name}"}
            self.poke()

    def _activate_client(self, tp: Trustpoint) -> None:
        """The CA certificate expired: the shadow certificates become the trustpoint's."""
        router = self.router
        shadow = tp.shadow
        if shadow.ca_cert is None or shadow.id_cert is None:
            return
        in_step = self._saved_in_step()
        tp.ca_cert, tp.ca_chain, tp.id_cert = shadow.ca_cert, shadow.ca_chain, shadow.id_cert
        shadow.clear()
        router.nvram.delete(client_file(tp.name))
        router.log(ACTIVE_SYSLOG.format(tp=tp.name))
        router.emit("pki", "rollover.active", trustpoint=tp.name,
                    serial=tp.id_cert.serial_number)
        router.enroll_host.arm_renewal(tp)
        self._autosave(in_step)

    # -- SCEP ----------------------------------------------------------------------------------
    def _endpoint(self, tp: Trustpoint) -> ScepEndpoint | None:
        try:
            return scep_endpoint(tp.enrollment_url or "")
        except ValueError as bad:
            debug(self.router, f"CRYPTO_PKI: {bad}")
            return None

    def _next_ca(self, tp: Trustpoint) -> SimProcess[list[x509.Certificate]]:
        """GetNextCACert from the trustpoint's CA, checked against its CA certificate."""
        router = self.router
        endpoint = self._endpoint(tp)
        if endpoint is None or tp.ca_cert is None:
            return []
        request = get_request(endpoint.path, GET_NEXT_CA_CERT, tp.name)
        router.emit("pki", "scep.request", trustpoint=tp.name, operation=GET_NEXT_CA_CERT,
                    url=tp.enrollment_url)
        exchange = yield from http_exchange(router, endpoint, request, GET_NEXT_CA_CERT)
        certs: list[x509.Certificate] = []
        result = exchange.failure or "no rollover certificate"
        response = exchange.response
        if response is not None and response.status == 200:
            try:
                certs = cs_rollover.read_next_ca_cert(response.body, tp.ca_cert)
                result = "rollover CA certificate"
            except ValueError as bad:
                debug(router, f"CRYPTO_PKI: {bad}")
                result = "bad answer"
        note_exchange(router, tp, exchange, GET_NEXT_CA_CERT, None, result)
        if certs:
            debug(router, "CRYPTO_PKI: transaction GetNextCACert completed")
        return certs

    def _shadow_enroll(self, tp: Trustpoint, key: rsa.RSAPrivateKey, subject: x509.Name,
                       ca_request: bool, signer: x509.Certificate,
                       signer_key: rsa.RSAPrivateKey, ca: x509.Certificate, owner: str
                       ) -> SimProcess[x509.Certificate | None]:
        """A rollover request for `key`, signed with the certificate in use, enveloped to
        the CA's shadow `ca`; polled every retry period up to the retry count. `owner`
        (`cs:<name>`, `tp:<name>`) that already sent one polls for it first (a grant
        typed at the CA days later still arrives); a CA that no longer knows it (the
        request expired) gets the request again."""
        router = self.router
        endpoint = self._endpoint(tp)
        if endpoint is None:
            return None
        profile = yield from caps_profile(router, endpoint, tp)
        csr = scep.make_csr(key, subject, ca=ca_request,
                            hash_name=tp.options.hash or profile.digest)
        transaction = scep.transaction_id_for(key.public_key())
        poll = scep.issuer_and_subject(ca.subject, subject)
        kind = (scep.MessageType.GET_CERT_INITIAL if owner in self._sent
                else scep.MessageType.PKCS_REQ)
        asked_again = False
        attempt = 0
        while attempt <= tp.retry_count:
            request = kind is scep.MessageType.PKCS_REQ
            if request:
                router.record_artifact(f"{tp.name}.rollover.csr.pem", x509util.csr_pem(csr))
            der = scep.build_pki_message(
                message_type=kind, transaction_id=transaction, signer_cert=signer,
                signer_key=signer_key, profile=profile, random_bytes=router.random_bytes,
                recipients=[ca], content=x509util.csr_der(csr) if request else poll,
                signing_time=router.clock.now().replace(microsecond=0))
            name = "PKCSReq" if request else "GetCertInitial"
            router.record_scep(der, name, sent=True)
            router.emit("pki", "scep.request", trustpoint=tp.name, operation=name,
                        transaction=transaction, attempt=attempt, rollover=True)
            exchange = yield from http_exchange(
                router, endpoint, pki_operation_request(endpoint.path, der, post=profile.post),
                name)
            status, cert = self._read_reply(exchange, signer, signer_key, key)
            note_exchange(router, tp, exchange, "PKIOperation", name, status, transaction)
            if cert is not None:
                self._sent = self._sent - {owner}
                return cert
            if status == "FAILURE" and not request and not asked_again:
                kind, asked_again = scep.MessageType.PKCS_REQ, True
                continue
            if status in ("FAILURE", "bad reply"):
                self._sent = self._sent - {owner}
                return None
            if request and exchange.response is not None:
                self._sent = self._sent | {owner}
            yield router.env.timeout(tp.retry_period_minutes * 60)
            if owner in self._sent:
                kind = scep.MessageType.GET_CERT_INITIAL
            attempt += 1
        return None

    def _read_reply(self, exchange: Exchange, signer: x509.Certificate,
                    signer_key: rsa.RSAPrivateKey, key: rsa.RSAPrivateKey
                    ) -> tuple[str, x509.Certificate | None]:
        response = exchange.response
        if response is None:
            return exchange.failure or "no answer", None
        router = self.router
        router.record_scep(response.body, "CertRep", sent=False)
        try:
            message = scep.parse_pki_message(response.body)
            status = message.pki_status
            if status is not scep.PkiStatus.SUCCESS:
                return (status.name if status is not None else "bad reply"), None
            if message.enveloped is None:
                return "bad reply", None
            certs, _crls = scep.parse_degenerate(
                scep.decrypt_envelope(message.enveloped, signer, signer_key))
        except scep.ScepError as bad:
            debug(router, f"CRYPTO_PKI: bad reply from the CA: {bad}")
            return "bad reply", None
        mine = key.public_key().public_numbers()
        for cert in certs:
            public = cert.public_key()
            if isinstance(public, rsa.RSAPublicKey) and public.public_numbers() == mine:
                return "SUCCESS", cert
        return "bad reply", None


def client_file(trustpoint: str) -> str:
    """chosen: a trustpoint's rollover certificates wait in `nvram:<tp>.rollover.pem`
    (written when they arrive, as the pending request's `<tp>.req` is), so a client that
    reloads before the switch still has them; deleted once they are active."""
    return f"{trustpoint}.rollover.pem"


def _retry_at(now: datetime, ca: x509.Certificate) -> datetime | None:
    """A day later, or halfway to the CA certificate's end when that is sooner (at least
    a minute later): see the module's choices. None once that certificate has ended
    (chosen: nothing is asked of a CA whose certificate is gone; the operator
    authenticates its new one)."""
    left = ca.not_valid_after_utc - now
    if left <= timedelta(0):
        return None
    wait = RETRY if left > 2 * RETRY else max(MIN_RETRY, left / 2)
    return now + wait
