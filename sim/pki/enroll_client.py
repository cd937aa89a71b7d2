"""The IOS enrollment client's timing as a sans-IO core: probe, request, polls, renewal.

`Enrollment` (sim.pki.scep_client) builds the messages and reads the CA's CertReps;
`EnrollmentClient` decides when to send what, what IOS prints about it and when to stop.
It never sends, sleeps or reads a clock: the shell feeds it `now` (the router clock's
time) with every input and applies the effects it returns (`enroll_effects`).

Theory of operation (one transaction of one trustpoint):

    state     input                         next state   effects
    new       start                         probing      ProbeCaps (GetCACaps)
                (no CA cert, no usable URL, key too short)  done  CERTFAIL, Finished
    probing   reply / failure               sent         RequestMade, fingerprints,
                                                         Send PKCSReq
                (key too short for the CA's digest)      done  CERTFAIL, Finished
    sent      reply PENDING, bad reply,     waiting      status lines or SOCKETSEND
              transport failure
                (retry count used up)       done         CERTFAIL, Finished GAVE_UP
              reply SUCCESS                 done         granted lines, Granted,
                                                         CERTRET, Finished GRANTED
              reply FAILURE                 done         CERTREJECT, Finished REJECTED
    waiting   timer                         sent         resend line, Send GetCertInitial
                                                         (PKCSReq while no CertRep came)

Any other input in a state raises `EnrollClientError`; `on_timer` before the deadline is a
no-op, as a timer driver may wake early.

Timing reproduces the seed's transcript: the first poll 1.5 s after the first PENDING
(`FIRST_POLL_DELAY`), then one every `enrollment retry period`; a try that got no CertRep
waits a whole period. After `enrollment retry count` retries the client gives up.

Time. Deadlines are router-clock datetimes, so a `TimerDriver` can run the core like the
certificate server's `ServerTimers`. Both timers here are IOS PKI timers, `POLL <tp>` and
`RENEW <tp>` in `show crypto pki timers`, which shows each as the time remaining
(cisco-cs.md 17). pkilab's reading: armed with a wait of the router's own time, they
count it down whatever the calendar does afterwards. A step of the router clock
(`clock set`, a jump) then neither cuts a wait short nor holds it back for hours: the
shell reports each step with `on_clock_step`, which moves an armed deadline by the same
amount and leaves the wait unchanged:
- a poll waits the retry period (1.5 s after the first PENDING);
- `auto-enroll` (`RenewalTimer`) waits, from the moment the certificate is installed (or
  the router boots with it), until the certificate has lived its share of its validity;
  the wait is worked out on the router clock then and re-armed at every boot.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import Enum

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.pki import scep, x509util
from sim.pki.enroll_effects import (
    Debug,
    Effect,
    EnrollmentRequest,
    Exchanged,
    Finished,
    Granted,
    Operation,
    Outcome,
    ProbeCaps,
    Renew,
    RequestMade,
    RetryPolicy,
    Send,
    Syslog,
)
from sim.pki.memo import per_value
from sim.pki.scep_client import Enrollment, ScepEndpoint, scep_endpoint

EXPIRY_RENEWAL_LEAD = timedelta(minutes=1)
"""chosen: a renewal "when the old certificate expires" (bare `auto-enroll`, or 100%) is
sent this long before the end, while the certificate it renews can still sign the
request (draft-11 App. G); at the very end the CA would take it for a new request of the
same transaction."""
FIRST_POLL_DELAY = timedelta(seconds=1.5)
"""The seed polls once right after the first PENDING, then every retry period."""
REQUEST_DIGEST = "sha256"
"""The least digest a request is signed with before the CA's caps are known."""

CERTFAIL = "%PKI-6-CERTFAIL: Certificate enrollment failed."
SOCKETSEND = "%PKI-3-SOCKETSEND: Failed to send out message to CA server."
CERTRET = "%PKI-6-CERTRET: Certificate received from Certificate Authority"


def cert_install_syslog(trustpoint: str, cert: x509.Certificate) -> str:
    """IOS-XE's announcement of an installed ID certificate (cisco-cs.md 15 [V]: the first
    line verbatim, then indented Trustpoint/Issuer-name/Subject-name/Serial-number/End-date
    lines). chosen: one space of indent, `name : value` with the colons as XE aligns them,
    the names lower-case as `show crypto pki certificates` prints them, the end date in
    ISO 8601 UTC."""
    return "\n".join([
        "%PKI-6-CERT_INSTALL: An ID certificate has been installed under",
        f" Trustpoint : {trustpoint}",
        f" Issuer-name : {x509util.format_dn_ios(cert.issuer)}",
        f" Subject-name : {x509util.format_dn_ios(cert.subject)}",
        f" Serial-number: {cert.serial_number:02X}",
        f" End-date : {cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}",
    ])


def csr_fingerprint_syslog(md5: str, sha1: str) -> str:
    """IOS-XE's `%PKI-6-CSR_FINGERPRINT`, multi-line (cisco-cs.md 15 [V] names it only).
    chosen: the two fingerprints on their own lines, unspaced as the request database
    prints them, labelled like the 15.x `CRYPTO_PKI:` lines."""
    return "\n".join([
        "%PKI-6-CSR_FINGERPRINT: ",
        f"CSR Fingerprint MD5 : {md5.replace(' ', '')}",
        f"CSR Fingerprint SHA1: {sha1.replace(' ', '')}",
    ])
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class EnrollClientError(Exception):
    """An input the client cannot take in its state (a shell bug, never a peer's doing)."""


class State(Enum):
    NEW = "new"
    PROBING = "probing"
    SENT = "sent"
    WAITING = "waiting"
    DONE = "done"


_ACCEPTS = {
    "start": frozenset({State.NEW}),
    "on_reply": frozenset({State.PROBING, State.SENT}),
    "on_failure": frozenset({State.PROBING, State.SENT}),
}
"""Which states take each input (`on_timer` and `on_clock_step` are taken in any)."""


def ios_timer_text(moment: datetime) -> str:
    """`21:08:01 GMT Jan 6 2005`, the dates of `Newly-issued Router Cert` debug lines."""
    # Fields, not strftime's `%H:%M:%S`: the same digits at a tenth of the cost.
    return (f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} GMT "
            f"{_MONTHS[moment.month - 1]} {moment.day} {moment.year}")


@per_value(bytes, 256)
def caps_profile_of(body: bytes) -> scep.Profile:
    """The algorithms a GetCACaps answer `body` makes the client use (sscep's rules,
    `scep.profile_from_caps`). Read once per distinct answer: a CA answers every router
    that enrolls with it with the same bytes, and a profile is immutable."""
    return scep.profile_from_caps(scep.parse_caps(bytes(body).decode("latin-1")))


def key_too_short(key: rsa.RSAPrivateKey, digest: str) -> str | None:
    """Why `key` cannot sign a request with `digest` (PKCS#1 v1.5 needs room for the
    DigestInfo), or None."""
    need = x509util.min_signing_bits(digest)
    if key.key_size < need:
        return f"its key has {key.key_size} bits; a request signed with {digest} needs {need}"
    return None


def same_key(holder: x509.CertificateSigningRequest | x509.Certificate,
             key: rsa.RSAPrivateKey) -> bool:
    """Whether the request or certificate carries the public half of `key`."""
    public = holder.public_key()
    return (isinstance(public, rsa.RSAPublicKey)
            and public.public_numbers() == key.public_key().public_numbers())


class EnrollmentClient:
    """One enrollment transaction of a trustpoint, from the GetCACaps probe to its end."""

    def __init__(self, request: EnrollmentRequest, policy: RetryPolicy,
                 random_bytes: Callable[[int], bytes], *, install_syslog: bool = False,
                 csr_fingerprint: bool = False,
                 debugging: Callable[[], bool] | None = None) -> None:
        """`install_syslog`: announce the certificate with `%PKI-6-CERT_INSTALL` instead of
        `%PKI-6-CERTRET`; `csr_fingerprint`: also log `%PKI-6-CSR_FINGERPRINT` when the
        request is made (both IOS-XE's, cisco-cs.md 15 and 19; the router's release
        profile says which). `debugging`: whether the shell prints `Debug` lines now
        (`debug crypto pki transactions`); when it says no, the lines that cost a
        certificate's names and dates to write (a CertRep's and a granted certificate's)
        are not written at all. None: always written."""
        self._debugging = debugging
        self.install_syslog = install_syslog
        self.csr_fingerprint = csr_fingerprint
        self.request = request
        self.policy = policy
        self._random_bytes = random_bytes
        self.state = State.NEW
        self.endpoint: ScepEndpoint | None = None
        self.profile: scep.Profile | None = None
        self.enrollment: Enrollment | None = None
        self.attempts = 0
        """Exchanges made so far (PKCSReq and polls; the GetCACaps probe not counted)."""
        self.outcome: Outcome | None = None
        self._answered = False
        """A CertRep has come back: polls are GetCertInitial from then on."""
        self._operation = Operation.PKCS_REQ
        self._deadline: datetime | None = None
        self._requested_at: datetime | None = None
        """When the PKCSReq first went out: where `RetryPolicy.on_grid` counts from."""

    # -- inputs ---------------------------------------------------------------------------
    def start(self, now: datetime) -> list[Effect]:
        """Begin: check the trustpoint can enroll, then probe the CA's capabilities."""
        self._accept("start")
        request = self.request
        try:
            self.endpoint = scep_endpoint(request.enrollment_url or "")
        except ValueError:
            self.endpoint = None
        if request.ca_cert is None:
            return self._cannot("no CA certificate")
        if self.endpoint is None:
            return self._cannot(
                f"no usable enrollment URL ({request.enrollment_url or 'none'})")
        short = key_too_short(request.key, REQUEST_DIGEST)
        if short is not None:
            return self._cannot(short)
        self.state = State.PROBING
        return [ProbeCaps(self.endpoint)]

    def on_reply(self, now: datetime, body: bytes) -> list[Effect]:
        """The CA answered the message in flight (HTTP 200) with `body`."""
        self._accept("on_reply")
        if self.state is State.PROBING:
            profile = caps_profile_of(body)
            return [Exchanged("GetCACaps", None, "capabilities"), *self._begin(now, profile)]
        return self._answered_with(now, body)

    def on_failure(self, now: datetime, reason: str) -> list[Effect]:
        """No answer to the message in flight: "unresolved", "refused", "timeout",
        "no-route", or "http <status>" for an answer that was not 200 OK."""
        self._accept("on_failure")
        if not reason:
            raise EnrollClientError("a transport failure needs its reason")
        if self.state is State.PROBING:
            # No capabilities: a CA like IOS 12.3's, which never answers GetCACaps.
            return [Exchanged("GetCACaps", None, reason), *self._begin(now, scep.IOS_12_3)]
        fx: list[Effect] = [self._exchanged(reason), Syslog(SOCKETSEND)]
        return fx + self._next_try(now, answered=False)

    def on_timer(self, now: datetime) -> list[Effect]:
        """The poll deadline has come: send again."""
        if self._deadline is None or self._deadline > now:
            return []
        self._deadline = None
        verb = "GetCertInitial" if self._answered else "PKCSReq"
        return [Debug(f"CRYPTO_PKI: resend {verb}, {self.attempts}"), self._send(now)]

    def on_clock_step(self, delta: timedelta) -> None:
        """The router clock stepped by `delta` (`clock set`, a jump): the armed poll keeps
        the wait it had left."""
        if self._deadline is not None:
            self._deadline += delta
        if self._requested_at is not None:
            self._requested_at += delta

    def reconfigure(self, policy: RetryPolicy) -> None:
        """`enrollment retry period|count` typed while the request is pending: the new
        count decides the next give-up check, the new period the next wait."""
        self.policy = policy

    def next_deadline(self) -> datetime | None:
        """When the next poll is due on the router clock (None: nothing armed)."""
        return self._deadline

    @property
    def finished(self) -> bool:
        return self.state is State.DONE

    # -- steps ------------------------------------------------------------------------------
    def _debug_lines(self) -> bool:
        """Whether `Debug` effects are printed if returned now (see `__init__`). The shell
        applies the effects of one input before anything else runs, so the answer holds
        for them."""
        return self._debugging is None or self._debugging()

    def _accept(self, name: str) -> None:
        if self.state not in _ACCEPTS[name]:
            raise EnrollClientError(f"{name} in state {self.state.value}")

    def _cannot(self, why: str) -> list[Effect]:
        self.state = State.DONE
        self.outcome = Outcome.CANNOT_ENROLL
        return [Debug(f"CRYPTO_PKI: trustpoint {self.request.trustpoint} cannot enroll: {why}"),
                Syslog(CERTFAIL), Finished(Outcome.CANNOT_ENROLL, self.attempts, reason=why)]

    def _begin(self, now: datetime, profile: scep.Profile) -> list[Effect]:
        """The CA's profile is known: make the request and send the PKCSReq."""
        request = self.request
        short = key_too_short(request.key, profile.digest)
        if short is not None:
            return self._cannot(short)  # the CA asks for a digest this key cannot sign
        if request.ca_cert is None:  # start() said so already; kept for the type checker
            return self._cannot("no CA certificate")
        self.profile = profile
        self.enrollment = Enrollment(
            request.trustpoint, request.key, request.subject, request.ca_cert, profile,
            self._random_bytes, now, ca_request=request.ca_request,
            challenge=request.challenge, renew=request.renew, saved_csr=request.saved_csr,
            extensions=request.extensions, csr_hash=request.csr_hash,
            ra_certs=request.ra_certs)
        md5, sha1 = self.enrollment.fingerprints()
        logged: list[Effect] = [
            Syslog(f"CRYPTO_PKI:  Certificate Request Fingerprint MD5: {md5}"),
            Syslog(f"CRYPTO_PKI:  Certificate Request Fingerprint SHA1: {sha1}")]
        if self.csr_fingerprint:
            logged.append(Syslog(csr_fingerprint_syslog(md5, sha1)))
        return [RequestMade(self.enrollment, request.saved_csr is not None),
                Debug("CRYPTO_PKI: transaction PKCSReq completed"),
                Debug("CRYPTO_PKI: status:"),
                *logged,
                self._send(now)]

    def _in_flight(self) -> tuple[Enrollment, ScepEndpoint]:
        """The transaction's request and where it goes (both set once the probe is over)."""
        if self.enrollment is None or self.endpoint is None:
            raise EnrollClientError(f"no request made yet (state {self.state.value})")
        return self.enrollment, self.endpoint

    def _send(self, now: datetime) -> Send:
        enrollment, endpoint = self._in_flight()
        if self._answered:
            self._operation = Operation.GET_CERT_INITIAL
            der = enrollment.get_cert_initial(now)
        else:
            self._operation = Operation.PKCS_REQ
            der = enrollment.pkcs_req(now)
            if self._requested_at is None:
                self._requested_at = now
        self.state = State.SENT
        return Send(self._operation, endpoint, der, enrollment.profile, self.attempts,
                    enrollment.transaction_id)

    def _exchanged(self, result: str, reply: bytes | None = None) -> Exchanged:
        transaction = self.enrollment.transaction_id if self.enrollment else None
        return Exchanged("PKIOperation", self._operation.value, result, transaction, reply)

    def _answered_with(self, now: datetime, body: bytes) -> list[Effect]:
        enrollment, _endpoint = self._in_flight()
        try:
            outcome = enrollment.on_cert_rep(body)
        except scep.ScepError as bad:
            return [Debug(f"CRYPTO_PKI: bad reply from the CA: {bad}"),
                    self._exchanged("bad reply"), Syslog(SOCKETSEND),
                    *self._next_try(now, answered=False)]
        fx: list[Effect] = []
        if self._debug_lines():
            if outcome.verified:
                fx.append(Debug("The PKCS #7 message has 1 verified signers."))
            fx += [Debug(f"signing cert: issuer={outcome.signer_issuer}"),
                   Debug("Signed Attributes:")]
        fx.append(self._exchanged(outcome.status.name, body))
        self._answered = True
        if outcome.status is scep.PkiStatus.SUCCESS and outcome.certificate is not None:
            return fx + self._granted(now, outcome.certificate)
        if outcome.status is scep.PkiStatus.FAILURE:
            self.attempts += 1
            self.state = State.DONE
            self.outcome = Outcome.REJECTED
            fail_info = outcome.fail_info.value if outcome.fail_info is not None else "?"
            return fx + [
                Debug(f"CRYPTO_PKI: status = 1: failInfo = {fail_info}"),
                Syslog("%PKI-6-CERTREJECT: Certificate enrollment request was rejected by "
                       f"Certificate Authority for Trustpoint {self.request.trustpoint}"),
                Finished(Outcome.REJECTED, self.attempts)]
        fx.append(Debug("CRYPTO_PKI: status = 102: certificate request pending"))
        return fx + self._next_try(now, answered=True)

    def _granted(self, now: datetime, cert: x509.Certificate) -> list[Effect]:
        self.attempts += 1
        self.state = State.DONE
        self.outcome = Outcome.GRANTED
        tp = self.request.trustpoint
        debug_lines: list[Effect] = [
            Debug("CRYPTO_PKI: status = 100: certificate is granted"),
            Debug("The PKCS #7 message contains 1 certs and 0 crls."),
            Debug(f"Newly-issued Router Cert: issuer={x509util.format_dn_ios(cert.issuer)} "
                  f"serial={cert.serial_number:X}"),
            Debug(f"start date: {ios_timer_text(cert.not_valid_before_utc)}"),
            Debug(f"end date: {ios_timer_text(cert.not_valid_after_utc)}"),
            Debug(f"Router date: {ios_timer_text(now)}"),
            Debug("Received router cert from CA"),
            Debug(f"CRYPTO_PKI: All enrollment requests completed for trustpoint {tp}."),
        ] if self._debug_lines() else []
        return [
            *debug_lines,
            Granted(cert),
            Syslog(cert_install_syslog(tp, cert) if self.install_syslog else CERTRET),
            Finished(Outcome.GRANTED, self.attempts, certificate=cert),
        ]

    def _next_try(self, now: datetime, *, answered: bool) -> list[Effect]:
        """After a PENDING or a try that got no CertRep: wait, or give up."""
        self.attempts += 1
        if self.attempts > self.policy.count:
            self.state = State.DONE
            self.outcome = Outcome.GAVE_UP
            return [Syslog(CERTFAIL), Finished(Outcome.GAVE_UP, self.attempts)]
        period = timedelta(minutes=self.policy.period_minutes)
        if self.policy.on_grid and self._requested_at is not None:
            # The next whole period after the request that is still ahead; a step of the
            # clock since then moves the grid with it (`on_clock_step`).
            due = self._requested_at + period * self.attempts
            if due <= now:
                due = self._requested_at + period * ((now - self._requested_at) // period + 1)
            self._deadline = due
        elif answered and self.attempts == 1:
            self._deadline = now + FIRST_POLL_DELAY
        else:
            self._deadline = now + period
        self.state = State.WAITING
        return []


class RenewalTimer:
    """`auto-enroll PERCENT`: IOS's `RENEW <tp>` timer for one trustpoint.

    Armed with the certificate the trustpoint holds; when that certificate has lived
    PERCENT of its validity, the timer logs `%PKI-6-CERTRENEWAUTO` and asks for a renewal
    (`Renew`). It fires only if the trustpoint still holds that certificate and has no
    enrollment in progress, which it reads from the shell through `current` and `busy` at
    that moment (as `ServerTimers` reads the server's key); otherwise it is spent silently.
    The wait is worked out on the router clock when the timer is armed; a later step of
    the clock does not change it (`on_clock_step`, see the module's "Time").
    """

    def __init__(self, trustpoint: str, current: Callable[[], x509.Certificate | None],
                 busy: Callable[[], bool]) -> None:
        self.trustpoint = trustpoint
        self._current = current
        self._busy = busy
        self._deadline: datetime | None = None
        self._serial: int | None = None

    def arm(self, now: datetime, certificate: x509.Certificate | None,
            percent: int | None) -> datetime | None:
        """Time the renewal of `certificate` (None, or no `auto-enroll`: no renewal).
        Replaces any earlier arming; returns the deadline."""
        self._deadline = self._serial = None
        if certificate is None or percent is None:
            return None
        if not 1 <= percent <= 100:
            raise ValueError(f"auto-enroll {percent}: the percentage is 1-100")
        start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
        when = start + (end - start) * (percent / 100)
        if percent == 100:
            when -= EXPIRY_RENEWAL_LEAD
        if when <= now:
            # Already past its renewal point (e.g. capped at the CA's expiry): renewing
            # again would only bring back the same dates.
            return None
        self._deadline, self._serial = when, certificate.serial_number
        return when

    def next_deadline(self) -> datetime | None:
        return self._deadline

    def on_clock_step(self, delta: timedelta) -> None:
        """The router clock stepped by `delta`: the renewal keeps the wait it had left."""
        if self._deadline is not None:
            self._deadline += delta

    def on_timer(self, now: datetime) -> list[Effect]:
        if self._deadline is None or self._deadline > now:
            return []
        self._deadline = None
        current = self._current()
        if current is None or current.serial_number != self._serial or self._busy():
            return []
        # pkilab's wording: IOS-XE logs this as %PKI-6-CERTRENEWAUTO.
        return [Syslog("%PKI-6-CERTRENEWAUTO: Renewing the router certificate for trustpoint "
                       f"{self.trustpoint}"),
                Renew(self.trustpoint, current)]


def renewal_request(renew: Renew, key: rsa.RSAPrivateKey, ca_cert: x509.Certificate | None,
                    enrollment_url: str | None) -> EnrollmentRequest:
    """The request an `auto-enroll` renewal sends: the certificate's subject; signed with
    the certificate it renews when the key is the same (draft-11 App. G), else self-signed
    (the trustpoint's key changed since)."""
    current = renew.certificate
    return EnrollmentRequest(renew.trustpoint, key, current.subject, ca_cert, enrollment_url,
                             renew=current if same_key(current, key) else None)
