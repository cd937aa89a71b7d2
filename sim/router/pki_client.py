"""The router shell of the PKI enrollment client: HTTP over the simulated network,
IOS's console and debug output, prompts, retries and polling timers.

Protocol work (requests, replies, certificates) is `sim.pki.scep_client`'s; this module
moves its bytes across the network and prints what IOS prints while doing so. Lines come
from the seed's `debug crypto pki transactions` transcript; where IOS's wording for a
failure was never captured, the choice is marked in `FAILURE_LINES`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.kernel.clock import format_ios_timer
from sim.net.http import HttpFailure, HttpRequest, HttpResponse, HttpResult
from sim.net.resolver import resolve
from sim.pki import scep, x509util
from sim.pki.cs_fsm import CsSignal
from sim.pki.cs_server import CertificateServer
from sim.pki.scep_client import (
    IOS_USER_AGENT,
    CertRepOutcome,
    CrlFetch,
    Enrollment,
    ScepEndpoint,
    ca_certificates,
    scep_endpoint,
)
from sim.router import pki_storage
from sim.router.keystore import KeyPair
from sim.router.state import Trustpoint

if TYPE_CHECKING:
    from sim.router.console import Session
    from sim.router.router import Router

HTTP_TIMEOUT = 30.0
"""How long the IOS PKI client waits for the CA's answer before giving up on a try."""
DNS_TIMEOUT = 5.0
"""An unknown name with `ip domain lookup` on: the broadcast lookup times out."""
FIRST_POLL_DELAY = 1.5
"""The seed polls once right after the first PENDING, then every retry period."""

FAILURE_LINES = {
    # pkilab's wording: IOS's debug text for these failures was never captured.
    HttpFailure.REFUSED: "CRYPTO_PKI: connect to the CA failed: connection refused",
    HttpFailure.TIMEOUT: "CRYPTO_PKI: connect to the CA failed: timed out",
    HttpFailure.NO_ROUTE: "CRYPTO_PKI: connect to the CA failed: no route to host",
}


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange with the CA as the client saw it."""

    response: HttpResponse | None
    problem: str | None
    address: str | None = None
    started: float = 0.0
    failure: str | None = None
    """Why no answer came: "unresolved", "refused", "timeout", "no-route", "http 404"..."""


def note_exchange(router: Router, tp: Trustpoint, exchange: Exchange, operation: str,
                  message: str | None, result: str, transaction: str | None = None) -> None:
    """One `scep/exchange` trace event per client exchange: reports draw the sequence
    diagram from these."""
    server = router.net.node_for_address(exchange.address) if exchange.address else None
    router.emit("scep", "exchange", trustpoint=tp.name, server=server,
                address=exchange.address, operation=operation, message=message, result=result,
                started=round(exchange.started, 6), transaction=transaction)


def _debug(router: Router, text: str) -> None:
    router.debug_line("pki-transactions", text)


def _debug_block(router: Router, first: str, rest: list[str]) -> None:
    if "pki-transactions" in router.running.debug:
        router.log(first, kind="debug")
        for line in rest:
            router.console_line(line)


def http_exchange(router: Router, endpoint: ScepEndpoint, request: HttpRequest,
                  operation: str, *, quiet: bool = False) -> Generator[Any, Any, Exchange]:
    """Resolve the CA's name, cross the network, log like IOS; never raises.

    `quiet` exchanges (the GetCACaps probe, which IOS 12.3's debug output never shows)
    are traced but print nothing on the console."""

    def say(text: str) -> None:
        if not quiet:
            _debug(router, text)

    started = router.env.now
    resolution = resolve(endpoint.host, router.running.hosts)
    if resolution.literal or not resolution.resolved:
        # IOS tries name resolution even for an address literal (seed transcript).
        say("CRYPTO_PKI: can not resolve server name/IP address")
    if not resolution.resolved:
        if router.running.domain_lookup:
            yield router.env.timeout(DNS_TIMEOUT)
        router.emit("pki", "scep.unresolved", host=endpoint.host, operation=operation)
        return Exchange(None, f"can not resolve {endpoint.host}", None, started, "unresolved")
    address = resolution.address
    assert address is not None
    if resolution.literal:
        say(f"CRYPTO_PKI: Using unresolved IP Address {address}")
    process = router.net.http(router.name, address, endpoint.port, request,
                              timeout=HTTP_TIMEOUT)
    result: HttpResult = yield process
    if result.response is None:
        failure = result.failure or HttpFailure.TIMEOUT
        say(FAILURE_LINES[failure])
        return Exchange(None, failure.value, address, started, failure.value)
    say("CRYPTO_PKI: http connection opened")
    response = result.response
    if operation != "GetCACert":
        say(f"CRYPTO_PKI: received msg of {len(response.body)} bytes")
    if not quiet:
        header = [f"    {response.version} {response.status} {response.reason}"]
        header += [f"    {name}: {value}" for name, value in response.headers]
        _debug_block(router, "CRYPTO_PKI: HTTP response header:", header + [""])
    if response.status != 200:
        return Exchange(None, f"HTTP {response.status} {response.reason}", address, started,
                        f"http {response.status}")
    return Exchange(response, None, address, started)


def scep_get(endpoint: ScepEndpoint, operation: str, message: str) -> HttpRequest:
    target = f"{endpoint.path}?operation={operation}&message={message}"
    return HttpRequest.from_target("GET", target, (("User-Agent", IOS_USER_AGENT),))


def pki_operation_request(endpoint: ScepEndpoint, profile: scep.Profile, der: bytes
                          ) -> HttpRequest:
    if profile.post:
        return HttpRequest.from_target(
            "POST", f"{endpoint.path}?operation=PKIOperation",
            (("User-Agent", IOS_USER_AGENT), ("Content-Type", "application/x-pki-message")),
            der)
    return scep_get(endpoint, "PKIOperation", quote(scep.encode_get_message(der, "ios"),
                                                    safe="%"))


# -- authenticate ------------------------------------------------------------------------
def authenticate(session: Session, tp: Trustpoint) -> Generator[Any, Any, bool]:
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
    request = scep_get(endpoint, "GetCACert", tp.name)
    _debug_block(router, "CRYPTO_PKI: Sending CA Certificate Request:",
                 [f"GET {request.target} HTTP/1.0", f"User-Agent: {IOS_USER_AGENT}", ""])
    router.emit("pki", "scep.request", trustpoint=tp.name, operation="GetCACert",
                url=tp.enrollment_url)
    exchange = yield from http_exchange(router, endpoint, request, "GetCACert")
    certs = _ca_certs(router, exchange)
    note_exchange(router, tp, exchange, "GetCACert", None,
                  exchange.failure or ("CA certificate" if certs else "bad answer"))
    if not certs:
        session.write("% Error in receiving Certificate Authority certificate: status = FAIL, "
                      "cert length = 0")
        router.log("%PKI-3-SOCKETSEND: Failed to send out message to CA server.")
        return False
    ca = certs[0]
    der = x509util.cert_der(ca)
    _debug(router, f"Received {len(der)} bytes from server as CA certificate:")
    _debug(router, "CRYPTO_PKI: transaction GetCACert completed")
    _debug(router, "CRYPTO_PKI: CA certificate received.")
    _debug(router, "CRYPTO_PKI: crypto_pki_authenticate_tp_cert()")
    _debug(router, f"CRYPTO_PKI: trustpoint {tp.name} authentication status = 0")
    session.write("Certificate has the following attributes:")
    session.write(f"    Fingerprint MD5: {x509util.fingerprint(der, 'md5')}")
    session.write(f"    Fingerprint SHA1: {x509util.fingerprint(der, 'sha1')}")
    session.write("")
    if not (yield from session.ask_yes_no("% Do you accept this certificate? [yes/no]:")):
        router.emit("pki", "ca.rejected", trustpoint=tp.name)
        return False
    tp.ca_cert = ca
    tp.ca_chain = tuple(certs)
    router.record_artifact(f"{tp.name}.ca.pem", b"".join(x509util.cert_pem(c) for c in certs))
    session.write("Trustpoint CA certificate accepted.")
    router.emit("pki", "ca.accepted", trustpoint=tp.name,
                fingerprint=x509util.fingerprint_hex(der, "md5"))
    return True


def _ca_certs(router: Router, exchange: Exchange) -> list[x509.Certificate]:
    if exchange.response is None:
        return []
    content_type = exchange.response.header("Content-Type") or ""
    try:
        certs = ca_certificates(content_type, exchange.response.body)
    except ValueError as bad:
        _debug(router, f"CRYPTO_PKI: {bad}")
        return []
    if content_type.startswith("application/x-x509-ca-cert"):
        _debug(router, "Content-Type indicates we have received a CA certificate.")
    else:
        _debug(router, "Content-Type indicates we have received CA and RA certificates.")
    return certs


# -- enrollment --------------------------------------------------------------------------
def caps_profile(router: Router, endpoint: ScepEndpoint, tp: Trustpoint
                 ) -> Generator[Any, Any, scep.Profile]:
    """GetCACaps decides the algorithm profile; no answer means IOS 12.3's."""
    exchange = yield from http_exchange(router, endpoint,
                                        scep_get(endpoint, "GetCACaps", tp.name), "GetCACaps",
                                        quiet=True)
    note_exchange(router, tp, exchange, "GetCACaps", None, exchange.failure or "capabilities")
    if exchange.response is None:
        return scep.IOS_12_3
    return scep.profile_from_caps(scep.parse_caps(exchange.response.body.decode("latin-1")))


def run_enrollment(router: Router, tp: Trustpoint, enrollment: Enrollment,
                   endpoint: ScepEndpoint
                   ) -> Generator[Any, Any, x509.Certificate | None]:
    """PKCSReq, then GetCertInitial polls every retry period until granted or given up."""
    env = router.env
    period = tp.retry_period_minutes * 60.0
    attempts = 0
    sent_request = False
    while True:
        now = router.clock.now()
        if sent_request:
            der = enrollment.get_cert_initial(now)
            operation = "GetCertInitial"
        else:
            der = enrollment.pkcs_req(now)
            operation = "PKCSReq"
        router.record_scep(der, operation, sent=True)
        router.emit("pki", "scep.request", trustpoint=tp.name, operation=operation,
                    transaction=enrollment.transaction_id, attempt=attempts)
        request = pki_operation_request(endpoint, enrollment.profile, der)
        exchange = yield from http_exchange(router, endpoint, request, operation)
        outcome = _read_reply(router, enrollment, exchange)
        note_exchange(router, tp, exchange, "PKIOperation", operation,
                      outcome.status.name if outcome is not None
                      else exchange.failure or "bad reply", enrollment.transaction_id)
        if outcome is not None:
            router.record_scep(exchange.response.body,  # type: ignore[union-attr]
                               f"CertRep-{outcome.status.name}", sent=False)
            sent_request = True
            if outcome.status is scep.PkiStatus.SUCCESS and outcome.certificate is not None:
                return _granted(router, tp, outcome.certificate)
            if outcome.status is scep.PkiStatus.FAILURE:
                _debug(router, f"CRYPTO_PKI: status = 1: failInfo = "
                               f"{outcome.fail_info.value if outcome.fail_info else '?'}")
                router.log("%PKI-6-CERTREJECT: Certificate enrollment request was rejected "
                           f"by Certificate Authority for Trustpoint {tp.name}")
                router.emit("pki", "enroll.rejected", trustpoint=tp.name)
                tp.pending = None
                pki_storage.drop_pending(router.nvram, tp.name)
                return None
            _debug(router, "CRYPTO_PKI: status = 102: certificate request pending")
        else:
            router.log("%PKI-3-SOCKETSEND: Failed to send out message to CA server.")
        attempts += 1
        if attempts > tp.retry_count:
            router.log("%PKI-6-CERTFAIL: Certificate enrollment failed.")
            router.emit("pki", "enroll.gave_up", trustpoint=tp.name, attempts=attempts)
            tp.pending = None
            pki_storage.drop_pending(router.nvram, tp.name)
            return None
        delay = FIRST_POLL_DELAY if (outcome is not None and attempts == 1) else period
        yield env.timeout(delay)
        if sent_request:
            _debug(router, f"CRYPTO_PKI: resend GetCertInitial, {attempts}")
        else:
            _debug(router, f"CRYPTO_PKI: resend PKCSReq, {attempts}")


def _read_reply(router: Router, enrollment: Enrollment, exchange: Exchange
                ) -> CertRepOutcome | None:
    if exchange.response is None:
        return None
    try:
        outcome = enrollment.on_cert_rep(exchange.response.body)
    except scep.ScepError as bad:
        _debug(router, f"CRYPTO_PKI: bad reply from the CA: {bad}")
        return None
    if outcome.verified:
        _debug(router, "The PKCS #7 message has 1 verified signers.")
    _debug(router, f"signing cert: issuer={outcome.signer_issuer}")
    _debug(router, "Signed Attributes:")
    return outcome


def _granted(router: Router, tp: Trustpoint, cert: x509.Certificate) -> x509.Certificate:
    _debug(router, "CRYPTO_PKI: status = 100: certificate is granted")
    _debug(router, "The PKCS #7 message contains 1 certs and 0 crls.")
    _debug(router, f"Newly-issued Router Cert: issuer={x509util.format_dn_ios(cert.issuer)} "
                   f"serial={cert.serial_number:X}")
    _debug(router, f"start date: {format_ios_timer(cert.not_valid_before_utc)}")
    _debug(router, f"end date: {format_ios_timer(cert.not_valid_after_utc)}")
    _debug(router, f"Router date: {format_ios_timer(router.clock.now())}")
    _debug(router, "Received router cert from CA")
    _debug(router, f"CRYPTO_PKI: All enrollment requests completed for trustpoint {tp.name}.")
    saved_in_step = router.nvram.exists("startup-config") and not router.config_modified()
    tp.id_cert = cert
    tp.pending = None
    pki_storage.drop_pending(router.nvram, tp.name)
    router.record_artifact(f"{tp.name}.cert.pem", x509util.cert_pem(cert))
    schedule_renewal(router, tp)
    router.log("%PKI-6-CERTRET: Certificate received from Certificate Authority")
    router.emit("pki", "enroll.granted", trustpoint=tp.name, serial=cert.serial_number,
                subject=x509util.format_dn_ios(cert.subject))
    if saved_in_step and router.write_memory():
        # IOS saves a certificate that arrives on its own (enrollment completing in the
        # background, auto-enroll) when the configuration was saved before it came:
        # `%PKI-6-AUTOSAVE` (IOS message catalogue, recalled). Changes the operator has
        # not saved are never written behind their back.
        router.log("%PKI-6-AUTOSAVE: Running configuration saved to NVRAM")
    return cert


# -- the flows the console and the certificate server start ------------------------------
def request_subject(router: Router, tp: Trustpoint) -> x509.Name:
    """What a router asks to be called: `subject-name` plus its hostname as
    unstructuredName (`hostname=r2,cn=r2` in IOS's printing)."""
    base = x509util.parse_dn(tp.subject_name) if tp.subject_name else x509.Name([])
    host = x509.RelativeDistinguishedName(
        [x509.NameAttribute(x509util.UNSTRUCTURED_NAME, router.running.fqdn)])
    return x509.Name([*base.rdns, host])


OnGranted = Callable[[x509.Certificate], Generator[Any, Any, None]]
"""What the enrollment's owner does with the certificate (a sub-CS: `cert configured`)."""


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
    ca_cert = tp.ca_cert
    try:
        endpoint = scep_endpoint(tp.enrollment_url or "")
    except ValueError:
        endpoint = None
    why = None
    if ca_cert is None:
        why = "no CA certificate"
    elif endpoint is None:
        why = f"no usable enrollment URL ({tp.enrollment_url or 'none'})"
    else:
        why = _key_too_short(key, "sha256")
    if why is not None or ca_cert is None or endpoint is None:
        _cannot_enroll(router, tp, why or "")
        return False
    saved = pki_storage.load_pending(router.nvram, tp.name) if resume and renew is None else None
    if saved is not None and (saved.subject != subject or not _same_key(saved, key)):
        saved = None

    def flow() -> Generator[Any, Any, None]:
        if after_server_checks:
            # The server's own `no shutdown` finishes first (seed: the CRL is published and
            # the FSM exits before `transaction PKCSReq completed`).
            with router.server_host.lock.request() as turn:
                yield turn
        profile = yield from caps_profile(router, endpoint, tp)
        short = _key_too_short(key, profile.digest)
        if short is not None:
            _cannot_enroll(router, tp, short)  # the CA asks for a digest this key cannot sign
            return
        enrollment = Enrollment(tp.name, key, subject, ca_cert, profile,
                                router.random_bytes, router.clock.now(), ca_request=ca_request,
                                challenge=challenge, renew=renew, saved_csr=saved)
        if saved is not None:
            router.emit("pki", "enroll.resumed", trustpoint=tp.name,
                        transaction=enrollment.transaction_id)
        tp.pending = enrollment
        pki_storage.save_pending(router.write_nvram, tp.name, enrollment.csr)
        router.record_artifact(f"{tp.name}.csr.pem", x509util.csr_pem(enrollment.csr))
        md5, sha1 = enrollment.fingerprints()
        _debug(router, "CRYPTO_PKI: transaction PKCSReq completed")
        _debug(router, "CRYPTO_PKI: status:")
        router.log(f"CRYPTO_PKI:  Certificate Request Fingerprint MD5: {md5}")
        router.log(f"CRYPTO_PKI:  Certificate Request Fingerprint SHA1: {sha1}")
        cert = yield from run_enrollment(router, tp, enrollment, endpoint)
        if cert is not None and on_granted is not None:
            yield from on_granted(cert)

    router.spawn(flow())
    return True


def _key_too_short(key: rsa.RSAPrivateKey, digest: str) -> str | None:
    """Why `key` cannot sign a request with `digest` (PKCS#1 v1.5 needs room for the
    DigestInfo), or None."""
    need = x509util.min_signing_bits(digest)
    if key.key_size < need:
        return f"its key has {key.key_size} bits; a request signed with {digest} needs {need}"
    return None


def _cannot_enroll(router: Router, tp: Trustpoint, why: str) -> None:
    _debug(router, f"CRYPTO_PKI: trustpoint {tp.name} cannot enroll: {why}")
    router.log("%PKI-6-CERTFAIL: Certificate enrollment failed.")
    router.emit("pki", "enroll.impossible", trustpoint=tp.name, reason=why)


def _same_key(holder: x509.CertificateSigningRequest | x509.Certificate,
              key: rsa.RSAPrivateKey) -> bool:
    """Whether the request or certificate carries the public half of `key`."""
    public = holder.public_key()
    return (isinstance(public, rsa.RSAPublicKey)
            and public.public_numbers() == key.public_key().public_numbers())


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
        if pair is None or not _same_key(saved, pair.key):
            continue  # the key it was made with was never saved
        start_enrollment(router, tp, key=pair.key, subject=saved.subject,
                         ca_request=False, resume=True)


def enroll_server_trustpoint(router: Router, session: Session | None, cs: CertificateServer,
                             tp_name: str) -> Generator[Any, Any, None]:
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

    def granted(cert: x509.Certificate) -> Generator[Any, Any, None]:
        router.emit("pki", "server.certificate", server=cs.name, serial=cert.serial_number,
                    sha1=x509util.fingerprint_hex(x509util.cert_der(cert), "sha1"))
        yield from router.server_host.run_signal(cs, CsSignal.CERT_CONFIGURED)

    start_enrollment(router, tp, key=pair.key, subject=subject, ca_request=True,
                     on_granted=granted, after_server_checks=True, resume=True)


# -- keys, CRLs and renewal ----------------------------------------------------------------
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
    return key


def fetch_crl(router: Router, tp: Trustpoint) -> Generator[Any, Any, bool]:
    """`crypto pki crl request TP`: GetCRL over SCEP, the CRL kept with the trustpoint."""
    if tp.ca_cert is None or not tp.enrollment_url:
        return False
    try:
        endpoint = scep_endpoint(tp.enrollment_url)
    except ValueError as bad:
        _debug(router, f"CRYPTO_PKI: {bad}")
        return False
    key = trustpoint_key(router, tp)
    signer = tp.id_cert
    if signer is None or not _same_key(signer, key):
        start = router.clock.now().replace(microsecond=0) - timedelta(minutes=5)
        signer = scep.self_signed_signer(key, request_subject(router, tp),
                                         scep.transaction_id_for(key.public_key()), start,
                                         start + timedelta(days=1))
    profile = yield from caps_profile(router, endpoint, tp)
    fetch = CrlFetch(key, signer, tp.ca_cert, profile, router.random_bytes)
    der = fetch.request(router.clock.now())
    router.record_scep(der, "GetCRL", sent=True)
    exchange = yield from http_exchange(router, endpoint,
                                        pki_operation_request(endpoint, profile, der), "GetCRL")
    crl = None
    if exchange.response is not None:
        try:
            crl = fetch.on_reply(exchange.response.body)
        except scep.ScepError as bad:
            _debug(router, f"CRYPTO_PKI: bad reply from the CA: {bad}")
        router.record_scep(exchange.response.body, "CertRep-CRL", sent=False)
    note_exchange(router, tp, exchange, "PKIOperation", "GetCRL",
                  exchange.failure or ("SUCCESS" if crl is not None else "bad reply"))
    if crl is None:
        return False
    _debug(router, "CRYPTO_PKI: transaction GetCRL completed")
    tp.crl = crl
    tp.crl_fetched = router.clock.timestamp()
    router.record_artifact(f"{tp.name}.crl.pem", x509util.crl_pem(crl))
    router.emit("pki", "crl.received", trustpoint=tp.name, entries=len(list(crl)))
    return True


def schedule_renewal(router: Router, tp: Trustpoint) -> None:
    """`auto-enroll PERCENT`: re-enroll with the same key when the certificate has lived
    PERCENT of its validity (IOS's `RENEW <tp>` timer)."""
    cert = tp.id_cert
    if cert is None or tp.auto_enroll_percent is None:
        return
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    when = start + (end - start) * (tp.auto_enroll_percent / 100)
    serial = cert.serial_number
    if when <= router.clock.now():
        # Already past its renewal point (e.g. capped at the CA's expiry): renewing again
        # would only bring back the same dates.
        return

    def renew() -> Generator[Any, Any, None]:
        yield router.env.timeout(router.clock.seconds_until(when))
        if tp.id_cert is None or tp.id_cert.serial_number != serial or tp.pending:
            return
        # pkilab's wording: IOS-XE logs this as %PKI-6-CERTRENEWAUTO.
        router.log(f"%PKI-6-CERTRENEWAUTO: Renewing the router certificate for trustpoint "
                   f"{tp.name}")
        router.emit("pki", "renew", trustpoint=tp.name, serial=serial)
        key = trustpoint_key(router, tp)
        current = tp.id_cert
        same_key = _same_key(current, key)
        start_enrollment(router, tp, key=key, subject=cert.subject, ca_request=False,
                         renew=current if same_key else None)

    router.spawn(renew())
