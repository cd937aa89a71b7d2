"""The router shell of the PKI enrollment client: IOS's console and debug output, nvram and
artifacts, and the timers of the sans-IO client core.

What to send when, what IOS prints about it, when to give up and when to renew is the
core's business (`sim.pki.enroll_client`); the messages themselves are
`sim.pki.scep_client`'s, their HTTP form `sim.pki.scep_http`'s, and crossing the network
`sim.router.pki_http`'s. This module moves inputs and effects around, as `ServerHost` does
for the certificate server:

- `EnrollHost` (one per router) feeds each enrollment transaction's `EnrollmentClient` the
  router clock's `now`, the CA's answers and transport failures, applies the effects in
  the order returned (console and syslog lines, artifacts, nvram, trace events), and runs
  the clients' poll timers and the trustpoints' `auto-enroll` renewal timers with one
  `TimerDriver`;
- `authenticate` (GetCACert) and `fetch_crl` (GetCRL) are one exchange each, with no
  timer, and stay whole here;
- `start_enrollment`, `resume_pending`, `enroll_server_trustpoint` and `schedule_renewal`
  are what the console, the boot and the certificate server call.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sim.kernel.clock import RouterClock
from sim.kernel.process import SimProcess
from sim.kernel.timers import TimerDriver
from sim.net.http import HttpFailure
from sim.pki import scep, x509util
from sim.pki.cs_fsm import CsSignal
from sim.pki.cs_server import CertificateServer
from sim.pki.enroll_client import (
    EnrollmentClient,
    RenewalTimer,
    caps_profile_of,
    renewal_request,
    same_key,
)
from sim.pki.enroll_effects import (
    Debug,
    Effect,
    EnrollmentRequest,
    Exchanged,
    Finished,
    Granted,
    Outcome,
    ProbeCaps,
    Renew,
    RequestMade,
    RetryPolicy,
    Send,
    Syslog,
)
from sim.pki.keys import release as release_key
from sim.pki.ra_forward import split_ra_answer
from sim.pki.request_shape import requested_extensions
from sim.pki.scep_client import CrlFetch, ScepEndpoint, scep_endpoint
from sim.pki.scep_http import (
    GET_CA_CAPS,
    GET_CA_CERT,
    IOS_USER_AGENT,
    ca_certificates,
    get_request,
    pki_operation_request,
)
from sim.router import pki_storage
from sim.router.keystore import KeyPair
from sim.router.pki_debug import debug_validation
from sim.router.pki_http import Exchange, debug, debug_block, http_exchange, note_exchange
from sim.router.state import Trustpoint

if TYPE_CHECKING:
    from sim.router.console import Session
    from sim.router.router import Router

AUTOSAVE = "%PKI-6-AUTOSAVE: Running configuration saved to NVRAM"


# -- authenticate ------------------------------------------------------------------------
def authenticate(session: Session, tp: Trustpoint) -> SimProcess[bool]:
    """`crypto pki authenticate TP` (also run by a subordinate CS's first `no shutdown`)."""
    router = session.router
    if not tp.enrollment_url:
        session.write("You must specify an enrollment URL for this CA before you can "
                      "authenticate it.")
        return False
    try:
        endpoint = scep_endpoint(tp.enrollment_url)
    except ValueError as bad:
        session.write(f"% {bad}")
        return False
    if router.release.fingerprint_required and not tp.fingerprint:
        session.write(FINGERPRINT_REQUIRED)
        return False
    request = get_request(endpoint.path, GET_CA_CERT, tp.name)
    debug_block(router, "CRYPTO_PKI: Sending CA Certificate Request:",
                 [f"GET {request.target} HTTP/1.0", f"User-Agent: {IOS_USER_AGENT}", ""])
    router.emit("pki", "scep.request", trustpoint=tp.name, operation=GET_CA_CERT,
                url=tp.enrollment_url)
    # message=b"": a GetCACert carries no pkiMessage (nothing to read back from it).
    exchange = yield from http_exchange(router, endpoint, request, GET_CA_CERT, message=b"")
    certs = _ca_certs(router, exchange)
    note_exchange(router, tp, exchange, GET_CA_CERT, None,
                  exchange.failure or ("CA certificate" if certs else "bad answer"))
    if not certs:
        session.write("% Error in receiving Certificate Authority certificate: status = FAIL, "
                      "cert length = 0")
        router.log("%PKI-3-SOCKETSEND: Failed to send out message to CA server.")
        return False
    certs, ra_certs = _split_ra_answer(certs)
    if ra_certs and (not tp.options.enrollment_mode_ra or not certs):
        session.write(RA_ANSWER.format(tp=tp.name))
        router.emit("pki", "ca.rejected", trustpoint=tp.name, reason="RA answer")
        return False
    tp.ra_certs = tuple(ra_certs)
    ca = certs[0]
    der = x509util.cert_der(ca)
    debug(router, f"Received {len(der)} bytes from server as CA certificate:")
    debug(router, "CRYPTO_PKI: transaction GetCACert completed")
    debug(router, "CRYPTO_PKI: CA certificate received.")
    debug(router, "CRYPTO_PKI: crypto_pki_authenticate_tp_cert()")
    debug(router, f"CRYPTO_PKI: trustpoint {tp.name} authentication status = 0")
    return (yield from accept_ca_certificate(session, tp, certs))


def accept_ca_certificate(session: Session, tp: Trustpoint, certs: list[x509.Certificate],
                          *, imported: tuple[str, ...] = (), **traced: Any
                          ) -> SimProcess[bool]:
    """Show the issuing CA certificate's fingerprints, check them against `fingerprint`
    or ask the operator, and install `certs` (the issuing CA first) on `tp`; `imported`
    are lines printed after `Trustpoint CA certificate accepted.` (a pasted certificate's
    `% Certificate successfully imported`), `traced` extra fields of `pki/ca.accepted`.
    Both `crypto pki authenticate` paths, SCEP and terminal, end here."""
    router = session.router
    der = x509util.cert_der(certs[0])
    md5, sha1, md5_hex = _ca_fingerprints(der)
    session.write("Certificate has the following attributes:")
    md5_pad, sha1_pad = router.release.fingerprint_indent
    session.write(f"{md5_pad}Fingerprint MD5: {md5}")
    session.write(f"{sha1_pad}Fingerprint SHA1: {sha1}")
    if tp.fingerprint:
        if not pinned_fingerprint_matches(session, tp.fingerprint, der):
            router.emit("pki", "ca.rejected", trustpoint=tp.name, reason="fingerprint")
            return False
    else:
        session.write("")
        if not (yield from session.ask_yes_no("% Do you accept this certificate? [yes/no]:")):
            router.emit("pki", "ca.rejected", trustpoint=tp.name)
            return False
    tp.ca_cert = certs[0]
    tp.ca_chain = tuple(certs)
    router.record_artifact(f"{tp.name}.ca.pem", b"".join(x509util.cert_pem(c) for c in certs))
    session.write("Trustpoint CA certificate accepted.")
    session.write_lines(imported)
    router.emit("pki", "ca.accepted", trustpoint=tp.name, fingerprint=md5_hex, **traced)
    return True


@functools.lru_cache(maxsize=256)
def _ca_fingerprints(der: bytes) -> tuple[str, str, str]:
    """A CA certificate's MD5 and SHA1 fingerprints as `crypto pki authenticate` shows
    them, and its MD5 as `pki/ca.accepted` traces it: worked out once per CA certificate,
    not once per router that authenticates it."""
    return (x509util.fingerprint(der, "md5"), x509util.fingerprint(der, "sha1"),
            x509util.fingerprint_hex(der, "md5"))


_SPLIT_ANSWERS: dict[tuple[int, ...], tuple[tuple[x509.Certificate, ...],
                                            list[x509.Certificate], list[x509.Certificate]]]
_SPLIT_ANSWERS = {}
"""`split_ra_answer`'s answers by the identities of the certificates split. The routers
of a CA get the same certificate objects from its GetCACert answer (`ca_certificates`
reads each distinct answer once); an entry holds its certificates, so their identities
are not reused while it is kept."""
_SPLIT_KEPT = 256


def _split_ra_answer(certs: list[x509.Certificate]
                     ) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    """`split_ra_answer(certs)`, looked at once per distinct answer (lists of the
    caller's own): reading each certificate's BasicConstraints again for every router of
    a CA gives the same split."""
    key = tuple(map(id, certs))
    kept = _SPLIT_ANSWERS.get(key)
    if kept is None:
        if len(_SPLIT_ANSWERS) >= _SPLIT_KEPT:
            _SPLIT_ANSWERS.clear()
        cas, ras = split_ra_answer(certs)
        kept = _SPLIT_ANSWERS[key] = (tuple(certs), cas, ras)
    return list(kept[1]), list(kept[2])


RA_ANSWER = ("% The CA answered with Registration Authority certificates; trustpoint {tp} "
             "needs 'enrollment mode ra' to enroll through an RA.")
"""chosen: pkilab's wording. With `enrollment mode ra`, `crypto pki authenticate` "returns
RA signing + RA encryption certs plus CA cert" (cisco-client-docs.md 2): the CA certificate
is the trustpoint's, the RA's are kept beside it. A trustpoint without it cannot tell the
RA's certificate from a CA's, and is refused here rather than trust the RA as its CA."""

FINGERPRINT_REQUIRED = "Trustpoint fingerprint must be supplied"
"""XE 26.x's refusal to authenticate a trustpoint without `fingerprint` (cisco-cs.md 15
[V T-06]); printed only by a profile with `fingerprint_required`."""

FINGERPRINT_MISMATCH = ("% The CA certificate's fingerprint does not match the trustpoint "
                        "fingerprint; certificate rejected.")
"""chosen: pkilab's wording. The reference says only that a mismatch is rejected
(cisco-client-docs.md 2); the CA certificate is not stored and nothing is asked."""


def pinned_fingerprint_matches(session: Session, pinned: str, der: bytes) -> bool:
    """`fingerprint HEX` configured: IOS checks it instead of asking `% Do you accept this
    certificate?`, printing `Trustpoint Fingerprint: ...` and, on a match, `Certificate
    validated - fingerprints matched.` (cisco-cs.md 15 [V]). The configured value is the
    MD5 (32 digits) or SHA-1 (40) fingerprint; it is shown grouped by 8 like the lines
    above it (chosen), with no blank line before it (chosen)."""
    algo = "md5" if len(pinned) == 32 else "sha1"
    grouped = " ".join(pinned[i : i + 8] for i in range(0, len(pinned), 8))
    session.write(f"Trustpoint Fingerprint: {grouped}")
    if x509util.fingerprint_hex(der, algo) != pinned:
        session.write(FINGERPRINT_MISMATCH)
        return False
    session.write("Certificate validated - fingerprints matched.")
    return True


def _ca_certs(router: Router, exchange: Exchange) -> list[x509.Certificate]:
    if exchange.response is None:
        return []
    content_type = exchange.response.header("Content-Type") or ""
    try:
        certs = ca_certificates(content_type, exchange.response.body)
    except (ValueError, scep.ScepError) as bad:  # a malformed chain: the codec's error
        debug(router, f"CRYPTO_PKI: {bad}")
        return []
    if content_type.startswith("application/x-x509-ca-cert"):
        debug(router, "Content-Type indicates we have received a CA certificate.")
    else:
        debug(router, "Content-Type indicates we have received CA and RA certificates.")
    return certs


# -- enrollment: the shell around the client core -------------------------------------------
OnGranted = Callable[[x509.Certificate], SimProcess[None]]
"""What the enrollment's owner does with the certificate (a sub-CS: `cert configured`)."""


_POLICIES: dict[tuple[int, int, bool], RetryPolicy] = {}
"""Retry policies by (period, count, on grid): as many as distinct configured values."""


@dataclass(eq=False)
class _Transaction:
    """One enrollment in progress: the core and what the shell keeps beside it."""

    tp: Trustpoint
    client: EnrollmentClient
    on_granted: OnGranted | None
    exchange: Exchange | None = None
    """The latest exchange with the CA (its `scep/exchange` event is noted from it)."""
    saved_in_step: bool = False
    """The saved configuration was in step with the running one when the certificate came."""
    granted: x509.Certificate | None = None
    armed: int = 0
    """When its poll was armed (the order of two polls due at once)."""

    def deadline(self) -> datetime | None:
        return self.client.next_deadline()


@dataclass(eq=False)
class _Renewal:
    """A trustpoint's `auto-enroll` timer, with the trustpoint it renews."""

    tp: Trustpoint
    timer: RenewalTimer
    armed: int = 0

    def deadline(self) -> datetime | None:
        return self.timer.next_deadline()


class EnrollHost:
    """Runs a router's enrollment clients and renewal timers; one per router.

    Its timers are one `TimerDriver` over all of them (`next_deadline`, `on_timer`). Polls
    and renewals are countdowns of the router's own time: a step of the router clock moves
    the armed deadlines by the same amount (`on_clock_step`), so the waits are unchanged."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._transactions: list[_Transaction] = []
        self._renewals: dict[str, _Renewal] = {}
        self._armed = 0
        self._driver: TimerDriver | None = None
        router.clock.subscribe(self._on_clock_step)

    def halt(self) -> None:
        """Power loss or reload: transactions and timers die with the running state (what
        nvram keeps of a pending request is sent again after the boot)."""
        self._transactions.clear()
        self._renewals.clear()

    # -- starting ----------------------------------------------------------------------------
    def start(self, tp: Trustpoint, request: EnrollmentRequest, *,
              on_granted: OnGranted | None = None, after_server_checks: bool = False) -> bool:
        """Begin a transaction; False (the reason logged at once) when it cannot enroll."""
        router = self.router
        client = EnrollmentClient(request, self._policy(tp), router.random_bytes,
                                  install_syslog=router.release.cert_install_syslog,
                                  csr_fingerprint=router.release.csr_fingerprint_syslog,
                                  debugging=lambda: "pki-transactions" in router.running.debug)
        txn = _Transaction(tp, client, on_granted)
        effects = client.start(router.clock.now())
        if client.finished:
            for effect in effects:
                self._apply(txn, effect)
            return False
        self._transactions.append(txn)
        router.spawn(self._begin(txn, effects, after_server_checks))
        return True

    def _begin(self, txn: _Transaction, effects: list[Effect], after_server_checks: bool
               ) -> SimProcess[None]:
        if after_server_checks:
            # The server's own `no shutdown` finishes first (seed: the CRL is published and
            # the FSM exits before `transaction PKCSReq completed`).
            with self.router.server_host.lock.request() as turn:
                yield turn
        yield from self._drive(txn, effects)

    def _policy(self, tp: Trustpoint) -> RetryPolicy:
        """The trustpoint's retry policy as it stands (asked again at every answer); one
        object per distinct policy, as it is immutable."""
        key = (tp.retry_period_minutes, tp.retry_count, self.router.release.polls_on_grid)
        policy = _POLICIES.get(key)
        if policy is None:
            policy = _POLICIES[key] = RetryPolicy(key[0], key[1], on_grid=key[2])
        return policy

    # -- effects -------------------------------------------------------------------------------
    def _drive(self, txn: _Transaction, effects: list[Effect]) -> SimProcess[None]:
        """Apply effects in order; a message to the CA is sent, and its answer fed back,
        where it stands among them."""
        todo = deque(effects)
        while todo:
            effect = todo.popleft()
            if isinstance(effect, (ProbeCaps, Send)):  # a tuple: faster than a union
                txn.exchange = yield from self._send(txn, effect)
                todo.extend(self._answer(txn, txn.exchange))
            else:
                self._apply(txn, effect)
        if txn.deadline() is not None:
            self._armed += 1
            txn.armed = self._armed
            self._poke()
        if txn.granted is not None and txn.on_granted is not None:
            yield from txn.on_granted(txn.granted)

    def _send(self, txn: _Transaction, effect: ProbeCaps | Send
              ) -> SimProcess[Exchange]:
        router = self.router
        tp = txn.tp
        if isinstance(effect, ProbeCaps):
            probe = get_request(effect.endpoint.path, GET_CA_CAPS, tp.name)
            return (yield from http_exchange(router, effect.endpoint, probe, GET_CA_CAPS,
                                             quiet=True, message=b""))
        operation = effect.operation.value
        router.record_scep(effect.der, operation, sent=True)
        router.emit("pki", "scep.request", trustpoint=tp.name, operation=operation,
                    transaction=effect.transaction, attempt=effect.attempt)
        request = pki_operation_request(effect.endpoint.path, effect.der,
                                        post=effect.profile.post)
        return (yield from http_exchange(router, effect.endpoint, request, operation,
                                         message=effect.der))

    def _answer(self, txn: _Transaction, exchange: Exchange) -> list[Effect]:
        """Feed the core what came back. The trustpoint's `enrollment retry period|count`
        as they are now decide the next wait and the give-up."""
        now = self.router.clock.now()
        txn.client.reconfigure(self._policy(txn.tp))
        if exchange.response is None:
            return txn.client.on_failure(now, exchange.failure or HttpFailure.TIMEOUT.value)
        return txn.client.on_reply(now, exchange.response.body)

    def _apply(self, txn: _Transaction, effect: Effect) -> None:
        router = self.router
        tp = txn.tp
        match effect:
            case Debug(text=text):
                debug(router, text)
            case Syslog(text=text):
                # A multi-line message (XE's CERT_INSTALL): stamped once, as IOS prints it.
                first, *more = text.split("\n")
                router.log(first)
                for line in more:
                    router.console_line(line)
            case Exchanged(operation=operation, message=message, result=result,
                           transaction=transaction, reply=reply):
                if txn.exchange is not None:
                    note_exchange(router, tp, txn.exchange, operation, message, result,
                                  transaction)
                if reply is not None:
                    router.record_scep(reply, f"CertRep-{result}", sent=False)
            case RequestMade(enrollment=enrollment, resumed=resumed):
                if resumed:
                    router.emit("pki", "enroll.resumed", trustpoint=tp.name,
                                transaction=enrollment.transaction_id)
                tp.pending = enrollment
                pki_storage.save_pending(router.write_nvram, tp.name, enrollment.csr)
                router.record_artifact(f"{tp.name}.csr.pem", x509util.csr_pem(enrollment.csr))
            case Granted(certificate=cert):
                txn.saved_in_step = (router.nvram.exists("startup-config")
                                     and not router.config_modified())
                debug_validation(router, tp, cert)
                tp.id_cert = cert
                install_renewed_key(router, tp, txn.client.request.key)
                server = router.running.servers.get(tp.name)
                if server is not None and server.adopt_renewed_ra_certificate(cert):
                    router.server_host.poke(server)
                _forget_pending(router, tp)
                router.record_artifact(f"{tp.name}.cert.pem", x509util.cert_pem(cert))
                self.arm_renewal(tp)
            case Finished():
                self._finish(txn, effect)
            case _:
                raise TypeError(f"the enrollment client returned {effect!r} out of place")

    def _finish(self, txn: _Transaction, finished: Finished) -> None:
        router = self.router
        tp = txn.tp
        if txn in self._transactions:
            self._transactions.remove(txn)
        # The transaction was the key's one user: a router uses its key again only at its
        # next enrollment or IKE exchange, if ever (loaded again then).
        release_key(txn.client.request.key)
        match finished.outcome:
            case Outcome.GRANTED:
                cert = finished.certificate
                if cert is None:
                    raise TypeError("a granted enrollment without its certificate")
                router.emit("pki", "enroll.granted", trustpoint=tp.name,
                            serial=cert.serial_number,
                            subject=x509util.format_dn_ios(cert.subject))
                if txn.saved_in_step and router.write_memory():
                    # IOS saves a certificate that arrives on its own (enrollment completing
                    # in the background, auto-enroll) when the configuration was saved before
                    # it came: `%PKI-6-AUTOSAVE` (IOS message catalogue, recalled). Changes the
                    # operator has not saved are never written behind their back.
                    router.log(AUTOSAVE)
                txn.granted = cert
            case Outcome.REJECTED:
                router.emit("pki", "enroll.rejected", trustpoint=tp.name)
                _forget_pending(router, tp)
            case Outcome.GAVE_UP:
                router.emit("pki", "enroll.gave_up", trustpoint=tp.name,
                            attempts=finished.attempts)
                _forget_pending(router, tp)
            case Outcome.CANNOT_ENROLL:
                # Nothing was sent: a request saved in nvram stays for a later try.
                router.emit("pki", "enroll.impossible", trustpoint=tp.name,
                            reason=finished.reason)

    # -- renewal ---------------------------------------------------------------------------------
    def arm_renewal(self, tp: Trustpoint) -> None:
        """`auto-enroll PERCENT`: time the renewal of the certificate the trustpoint holds
        (IOS's `RENEW <tp>` timer); nothing without `auto-enroll` or past the point."""
        if tp.id_cert is None or tp.renewal_percent is None:
            return  # what `RenewalTimer.arm` answers for these, without building a timer
        # A trustpoint holding its rollover certificate does not renew the one it replaces.
        timer = RenewalTimer(tp.name, lambda: tp.id_cert,
                             lambda: tp.pending is not None
                             or tp.shadow.replaces(tp.id_cert, tp.ca_cert))
        if timer.arm(self.router.clock.now(), tp.id_cert, tp.renewal_percent) is None:
            return
        self._armed += 1
        self._renewals[tp.name] = _Renewal(tp, timer, self._armed)
        self._poke()

    def _renew(self, renewal: _Renewal, effects: list[Effect]) -> None:
        router = self.router
        tp = renewal.tp
        for effect in effects:
            match effect:
                case Syslog(text=text):
                    router.log(text)
                case Renew(certificate=current):
                    router.emit("pki", "renew", trustpoint=tp.name,
                                serial=current.serial_number)
                    key = (renewal_key(router, tp) if tp.options.auto_enroll_regenerate
                           else trustpoint_key(router, tp))
                    request = renewal_request(effect, key, tp.ca_cert, tp.enrollment_url)
                    self.start(tp, replace(request, extensions=request_extensions(tp),
                                           csr_hash=tp.options.hash))
                case _:
                    raise TypeError(f"the renewal timer returned {effect!r}")

    # -- timers ------------------------------------------------------------------------------------
    def next_deadline(self) -> datetime | None:
        """The earliest poll or renewal, on the router clock."""
        deadlines = [d for item in self._timed() if (d := item.deadline()) is not None]
        return min(deadlines, default=None)

    def on_timer(self, now: datetime) -> list[tuple[_Transaction | _Renewal, list[Effect]]]:
        """Fire what is due, earliest first (two at once: in the order they were armed)."""
        due: list[tuple[datetime, int, _Transaction | _Renewal]] = []
        for item in self._timed():
            deadline = item.deadline()
            if deadline is not None and deadline <= now:
                due.append((deadline, item.armed, item))
        due.sort(key=lambda entry: entry[:2])
        return [(item, item.client.on_timer(now) if isinstance(item, _Transaction)
                 else item.timer.on_timer(now)) for _deadline, _armed, item in due]

    def armed(self) -> list[tuple[str, datetime]]:
        """Every armed timer under IOS's name, for `show crypto pki timers` (cisco-cs.md
        17): `POLL <tp>` while a request waits, `RENEW <tp>` for `auto-enroll`."""
        named = [(f"POLL {txn.tp.name}", deadline) for txn in self._transactions
                 if (deadline := txn.deadline()) is not None]
        named += [(f"RENEW {renewal.tp.name}", deadline) for renewal in self._renewals.values()
                  if (deadline := renewal.deadline()) is not None]
        return named

    def _timed(self) -> list[_Transaction | _Renewal]:
        return [*self._transactions, *self._renewals.values()]

    def _on_timer_effects(self, fired: list[tuple[_Transaction | _Renewal, list[Effect]]]
                          ) -> None:
        for item, effects in fired:
            if isinstance(item, _Transaction):
                self.router.spawn(self._drive(item, effects))
            else:
                self._renew(item, effects)

    def _poke(self) -> None:
        if self._driver is None:
            router = self.router
            self._driver = TimerDriver(router.env, router.clock, self, self._on_timer_effects)
        else:
            self._driver.poke()

    def _on_clock_step(self, clock: RouterClock, _reason: str) -> None:
        """Polls and renewals keep the wait they had left (the driver then re-arms)."""
        if clock.last_step:
            for txn in self._transactions:
                txn.client.on_clock_step(clock.last_step)
            for renewal in self._renewals.values():
                renewal.timer.on_clock_step(clock.last_step)


def _forget_pending(router: Router, tp: Trustpoint) -> None:
    tp.pending = None
    pki_storage.drop_pending(router.nvram, tp.name)


# -- the flows the console, the boot and the certificate server start ----------------------
def request_subject(router: Router, tp: Trustpoint, *, serial: str | None = None,
                    ip_address: str | None = None) -> x509.Name:
    """What a router asks to be called: `subject-name` plus its hostname as
    unstructuredName (`hostname=r2,cn=r2` in IOS's printing), and the serial number and IP
    address the enroll dialogue added, in the hostname's RDN, as IOS's requests carry them
    (`serialNumber=67109104+hostname=R15.otus.ru`, cisco-cs.md section 7)."""
    base = x509util.parse_dn(tp.subject_name) if tp.subject_name else x509.Name([])
    extra = []
    if serial is not None:
        extra.append(x509util.name_attribute(NameOID.SERIAL_NUMBER, serial))
    if ip_address is not None:
        extra.append(x509util.name_attribute(x509util.UNSTRUCTURED_ADDRESS, ip_address))
    fqdn = tp.request_fqdn(router.running.fqdn)  # `fqdn NAME|none`
    if fqdn is not None:
        extra.append(x509.NameAttribute(x509util.UNSTRUCTURED_NAME, fqdn))
    if not extra:
        return base
    return x509.Name([*base.rdns, x509.RelativeDistinguishedName(extra)])


def start_enrollment(router: Router, tp: Trustpoint, *, key: rsa.RSAPrivateKey,
                     subject: x509.Name,
                     ca_request: bool, challenge: str | None = None,
                     on_granted: OnGranted | None = None, after_server_checks: bool = False,
                     renew: x509.Certificate | None = None, resume: bool = False) -> bool:
    """Send the PKCSReq in the background and keep polling, as IOS does after
    `% Certificate request sent to Certificate Authority`.

    With `resume` (at boot, and for a certificate server's own trustpoint, which enrolls
    again from its enabling checks), a request of this trustpoint saved in nvram for the
    same key and subject (one sent before a power loss) is sent again rather than a new
    one. An enrollment typed at the console always makes a new request. False, with the reason
    logged, when the trustpoint cannot enroll (no CA certificate, no usable URL): the
    console commands check this first; an `auto-enroll` renewal can still meet it after
    `no enrollment url`."""
    saved = pki_storage.load_pending(router.nvram, tp.name) if resume and renew is None else None
    if saved is not None and (saved.subject != subject or not same_key(saved, key)):
        saved = None
    request = EnrollmentRequest(tp.name, key, subject, tp.ca_cert, tp.enrollment_url,
                                ca_request=ca_request, challenge=challenge, renew=renew,
                                saved_csr=saved, extensions=request_extensions(tp),
                                csr_hash=tp.options.hash, ra_certs=tp.ra_certs)
    return router.enroll_host.start(tp, request, on_granted=on_granted,
                                    after_server_checks=after_server_checks)


def resume_pending(router: Router) -> None:
    """At boot: a trustpoint whose request was pending when the power went sends it
    again (a certificate server's own trustpoint does so from its enabling checks)."""
    for tp in router.running.trustpoints.values():
        if tp.name in router.running.servers or tp.id_cert is not None or tp.ca_cert is None:
            continue
        saved = pki_storage.load_pending(router.nvram, tp.name)
        if saved is None:
            continue
        pair = router.running.keys.get(tp.rsakeypair or router.running.fqdn)
        if pair is None or not same_key(saved, pair.key):
            continue  # the key it was made with was never saved
        start_enrollment(router, tp, key=pair.key, subject=saved.subject,
                         ca_request=False, resume=True)


def enroll_server_trustpoint(router: Router, session: Session | None, cs: CertificateServer,
                             tp_name: str) -> SimProcess[None]:
    """A subordinate CS's first `no shutdown`: authenticate the parent (if the trustpoint
    has no CA certificate yet), then enroll for the server's own CA certificate."""
    tp = router.running.trustpoints.get(tp_name)
    if tp is None:
        return
    if tp.ca_cert is None:
        if session is None or not (yield from authenticate(session, tp)):
            router.console_line("% Failed to authenticate the Certificate Authority")
            return
    router.console_line("% Certificate request sent to Certificate Authority")
    router.console_line("% Enrollment in progress...")
    pair = router.running.keys.get(cs.name)
    if pair is None:
        return
    subject = x509util.parse_dn(cs.config.effective_issuer_name)
    if cs.config.is_ra:
        # An RA enrolls for an end-entity certificate named by its trustpoint's
        # `subject-name` (`cn=ioscs RA` or `ou=ioscs RA`: cisco-cs.md 13).
        subject = request_subject(router, tp)

    def granted(cert: x509.Certificate) -> SimProcess[None]:
        router.emit("pki", "server.certificate", server=cs.name, serial=cert.serial_number,
                    sha1=x509util.fingerprint_hex(x509util.cert_der(cert), "sha1"))
        yield from router.server_host.run_signal(cs, CsSignal.CERT_CONFIGURED)

    start_enrollment(router, tp, key=pair.key, subject=subject,
                     ca_request=not cs.config.is_ra, on_granted=granted,
                     after_server_checks=True, resume=True)


def schedule_renewal(router: Router, tp: Trustpoint) -> None:
    """`auto-enroll PERCENT`: re-enroll with the same key when the certificate has lived
    PERCENT of its validity (IOS's `RENEW <tp>` timer; IOS re-arms it at boot)."""
    router.enroll_host.arm_renewal(tp)


# -- keys and CRLs ---------------------------------------------------------------------------
ENROLL_KEY_BITS = 1024
"""IOS auto-generates a 512-bit key for a trustpoint without keys (`%CRYPTO-6-AUTOGEN`);
pkilab generates 1024 bits so that openssl's default security level accepts the chain."""


def trustpoint_key(router: Router, tp: Trustpoint) -> rsa.RSAPrivateKey:
    """The trustpoint's key pair (`rsakeypair`, else the router's default label), made on
    first use as IOS does."""
    label = tp.rsakeypair or router.running.fqdn
    pair = router.running.keys.get(label)
    if pair is not None:
        return pair.key
    bits = tp.rsakeypair_bits or ENROLL_KEY_BITS
    key = router.generate_key(label, bits)
    router.running.keys.put(KeyPair(label, key, generated_at=router.clock.now()))
    router.log(f"%CRYPTO-6-AUTOGEN: Generated new {bits} bit key pair")
    router.announce_key(label)
    return key


def renewal_key(router: Router, tp: Trustpoint) -> rsa.RSAPrivateKey:
    """`auto-enroll ... regenerate`: "a new key pair is generated for the renewal" (IOS
    command reference). chosen: it has the trustpoint's label and the size of the key it
    replaces (or `rsakeypair`'s size), is logged like an auto-generated key, and replaces
    the old pair only when the renewed certificate arrives (`install_renewed_key`), so
    the certificate in use keeps its key until then."""
    label = tp.rsakeypair or router.running.fqdn
    current = router.running.keys.get(label)
    bits = tp.rsakeypair_bits or (current.bits if current else ENROLL_KEY_BITS)
    key = router.generate_key(label, bits)
    router.log(f"%CRYPTO-6-AUTOGEN: Generated new {bits} bit key pair")
    return key


def install_renewed_key(router: Router, tp: Trustpoint, key: rsa.RSAPrivateKey) -> None:
    """A certificate arrived for `key`: if the router holds that key under no label (a
    `regenerate` renewal made it), it becomes the pair under the trustpoint's label. A
    key the router holds (the usual case, and a subordinate CS enrolling with its own
    pair) is left where it is."""
    keys = router.running.keys
    label = tp.rsakeypair or router.running.fqdn
    current = keys.get(label)
    # Usually the very key object the trustpoint's own pair hands out (`live_key`): found
    # without walking the other pairs or comparing public numbers, which costs two key
    # conversions per pair.
    if current is not None and current.key is key:
        return
    pairs = [pair for held in keys.labels() if (pair := keys.get(held)) is not None]
    if any(pair.key is key for pair in pairs):
        return
    for pair in pairs:
        if same_key_pair(pair.key, key):
            return
    exportable = current.exportable if current is not None else False
    router.running.keys.put(KeyPair(label, key, exportable, router.clock.now()))
    router.emit("pki", "key.regenerated", trustpoint=tp.name, label=label,
                bits=key.key_size)


def same_key_pair(a: rsa.RSAPrivateKey, b: rsa.RSAPrivateKey) -> bool:
    return a.public_key().public_numbers() == b.public_key().public_numbers()


def request_extensions(tp: Trustpoint) -> tuple[x509.ExtensionType, ...]:
    """What the trustpoint's `eku request` and `subject-alt-name` add to its requests
    (both checked when typed, so this does not fail)."""
    return requested_extensions(tp.options.eku, tp.options.subject_alt_name)


def caps_profile(router: Router, endpoint: ScepEndpoint, tp: Trustpoint
                 ) -> SimProcess[scep.Profile]:
    """GetCACaps decides the algorithm profile; no answer means IOS 12.3's."""
    exchange = yield from http_exchange(router, endpoint,
                                        get_request(endpoint.path, GET_CA_CAPS, tp.name),
                                        GET_CA_CAPS, quiet=True, message=b"")
    note_exchange(router, tp, exchange, GET_CA_CAPS, None, exchange.failure or "capabilities")
    if exchange.response is None:
        return scep.IOS_12_3
    return caps_profile_of(exchange.response.body)


def fetch_crl(router: Router, tp: Trustpoint) -> SimProcess[bool]:
    """`crypto pki crl request TP`: GetCRL over SCEP, the CRL kept with the trustpoint."""
    if tp.ca_cert is None or not tp.enrollment_url:
        return False
    try:
        endpoint = scep_endpoint(tp.enrollment_url)
    except ValueError as bad:
        debug(router, f"CRYPTO_PKI: {bad}")
        return False
    key = trustpoint_key(router, tp)
    signer = tp.id_cert
    if signer is None or not same_key(signer, key):
        start = router.clock.now().replace(microsecond=0) - timedelta(minutes=5)
        signer = scep.self_signed_signer(key, request_subject(router, tp),
                                         scep.transaction_id_for(key.public_key()), start,
                                         start + timedelta(days=1))
    profile = yield from caps_profile(router, endpoint, tp)
    fetch = CrlFetch(key, signer, tp.ca_cert, profile, router.random_bytes, tp.ra_certs)
    der = fetch.request(router.clock.now())
    router.record_scep(der, "GetCRL", sent=True)
    exchange = yield from http_exchange(
        router, endpoint, pki_operation_request(endpoint.path, der, post=profile.post),
        "GetCRL", message=der)
    crl = None
    if exchange.response is not None:
        try:
            crl = fetch.on_reply(exchange.response.body)
        except scep.ScepError as bad:
            debug(router, f"CRYPTO_PKI: bad reply from the CA: {bad}")
        router.record_scep(exchange.response.body, "CertRep-CRL", sent=False)
    note_exchange(router, tp, exchange, "PKIOperation", "GetCRL",
                  exchange.failure or ("SUCCESS" if crl is not None else "bad reply"))
    if crl is None:
        return False
    debug(router, "CRYPTO_PKI: transaction GetCRL completed")
    tp.crl = crl
    tp.crl_source = None  # fetched by SCEP: `** CDP Not Published - Retrieved via SCEP`
    tp.crl_fetched = router.clock.timestamp()
    tp.crl_fetched_at = router.clock.now()
    router.record_artifact(f"{tp.name}.crl.pem", x509util.crl_pem(crl))
    router.emit("pki", "crl.received", trustpoint=tp.name, entries=len(list(crl)))
    router.crl_cache.poke()  # its `CRL EXPIRE` timer (`sim.router.crl_fetch.CrlCache`)
    return True
