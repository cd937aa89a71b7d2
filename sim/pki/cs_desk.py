"""The certificate server's request desk: new requests, grants, rejections, issuing.

Sans-IO like the rest of the server: each operation changes the server's request
database and serial counter and returns effects (debug lines, nvram writes, simulated
time). The SCEP service and the CLI (`crypto pki server NAME grant|reject|remove`, manual
`request pkcs10`) both come through here, so a request is handled the same way whatever
brought it in.

Serial numbers: the `.ser` file in nvram is rewritten before a certificate is handed out
("serial number 0x2 written." precedes "reqID=1 granted" in the seed), so a reload or a
power loss can never hand out a serial twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.pki import (
    cert_facts,
    crl_distribution,
    cs_rollover,
    grant_rules,
    issuance,
    ra_forward,
    scep_policy,
    x509util,
)
from sim.pki.ca_requests import (
    EnrollmentRequest,
    ParsedRequest,
    RequestKind,
    RequestState,
    Source,
    level_files,
    request_db_file,
)
from sim.pki.cs_effects import CertificateIssued, Debug, Effect, Elapse, Syslog, WriteFile
from sim.pki.cs_fsm import CsState
from sim.pki.cs_server import CertificateServer, serial_file_bytes

GRANT_SECONDS = 2.868
"""Seed: `Granting enrollment request 1` at :03.385, `reqID=1 granted` at :06.253."""
SERIAL_WRITE_SECONDS = 0.716


class DeskError(Exception):
    """An operation the server refuses; the message is what the console prints."""


def _issuing_ready(cs: CertificateServer, key: rsa.RSAPrivateKey | None,
                   now: datetime | None = None
                   ) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """The CA certificate and key to sign with, or why the server cannot."""
    if cs.config.is_ra:
        # chosen: pkilab's wording; an RA holds no CA key and keeps no CRL.
        raise DeskError(f"% Certificate server {cs.name} is in RA mode: its issuing CA "
                        "signs and revokes certificates")
    ca_cert = cs.ca_cert
    if ca_cert is None or key is None:
        raise DeskError("% Certificate server is not ready to issue certificates")
    if now is not None and now >= cert_facts.ca_not_after(ca_cert):
        # IOS: at `CS CERT EXPIRE` the server can no longer issue (cisco-cs.md 6.3).
        raise DeskError("% The certificate server's CA certificate has expired")
    return ca_cert, key


def save_database(cs: CertificateServer) -> WriteFile:
    return WriteFile(request_db_file(cs.name), cs.requests.image())


def submit(cs: CertificateServer, csr_der: bytes, transaction_id: str | None, source: Source,
           now: datetime, key: rsa.RSAPrivateKey | None, *, renewal: bool = False,
           vouched: bool = False, via_ra: bool = False, rollover: bool = False,
           parsed: ParsedRequest | None = None) -> tuple[EnrollmentRequest, list[Effect]]:
    """A new PKCS#10 request: file it, then apply the grant policy to it. `vouched`: its
    SCEP signer was issued by a CA `grant auto trustpoint|tp-list` names (`grant_rules`);
    `via_ra`: a recognised RA forwarded it (`ra_forward`, for `grant ra-auto`); `parsed`:
    `csr_der` as the caller already read it (`ParsedRequest`), used to file and issue."""
    entry = cs.requests.submit(csr_der, transaction_id, source, now,
                               cs.config.lifetime_enrollment_request_minutes, renewal=renewal,
                               parsed=parsed)
    if rollover:  # enveloped to the shadow CA certificate: the shadow issues it
        cs.rollover.requests.add(entry.req_id)
    fx: list[Effect] = [Debug(line) for line in issuance.new_request_debug(entry.kind,
                                                                           entry.req_id)]
    decision = grant_rules.decide(entry.kind, cs.config.grant, cs.config.grant_trustpoints,
                                  vouched)
    decision = ra_forward.ra_auto(decision, entry.kind, cs.config.grant, via_ra)
    if via_ra:  # chosen: pkilab's debug line; IOS's for an RA's forward was never captured
        fx.append(Debug(f"reqID={entry.req_id} was forwarded by a registration authority"))
    if decision is issuance.Decision.PENDING and cs_rollover.auto_grants(cs, entry.kind,
                                                                         renewal):
        fx.append(Debug(f"reqID={entry.req_id} is a rollover request; granting "
                        "(grant auto rollover)"))
        decision = issuance.Decision.GRANT
    if decision is issuance.Decision.PENDING:
        verdict = _one_time_password(cs, entry, now, parsed)
        if verdict is not None:
            fx.append(Debug(f"reqID={entry.req_id} {verdict.value}"))
        if verdict is grant_rules.Otp.MATCH:
            decision = issuance.Decision.GRANT
    if decision is issuance.Decision.GRANT:
        fx += grant(cs, entry.req_id, now, key)
    elif decision is issuance.Decision.REJECT:
        fx += reject(cs, entry.req_id)
    else:
        fx.append(save_database(cs))
    return cs.requests.get(entry.req_id), fx


OTP_MINUTES = (1, 1440)
"""`password generate [MINUTES]`: 1 to 1440 minutes (cisco-cs.md 4 [D])."""
OTP_DEFAULT_MINUTES = 60


def generate_password(cs: CertificateServer, now: datetime, random_bytes: bytes,
                      minutes: int = OTP_DEFAULT_MINUTES) -> str:
    """`crypto pki server NAME password generate [MINUTES]`: a new one-time enrollment
    password; "only the newest OTP is valid" (cisco-cs.md 4). `random_bytes` (8) come from
    the run's seeded generator, so a rerun prints the same password."""
    if not OTP_MINUTES[0] <= minutes <= OTP_MINUTES[1]:
        raise ValueError(f"a one-time password lives {OTP_MINUTES[0]} to {OTP_MINUTES[1]} "
                         "minutes")
    password = random_bytes.hex().upper()
    cs.one_time_password = (password, now + timedelta(minutes=minutes))
    return password


def _one_time_password(cs: CertificateServer, entry: EnrollmentRequest,
                       now: datetime, parsed: ParsedRequest | None = None
                       ) -> grant_rules.Otp | None:
    """A router's request whose challengePassword is the server's one-time password, while
    that is valid: "a request carrying the current OTP as challengePassword is
    authenticated by it (intended for auto-granting SCEP clients)" (cisco-cs.md 11). The
    password is spent by it (one-time), and an expired one is dropped. None when no
    password is outstanding or the request is not a router's. chosen: sub-CA and RA
    requests still wait for the administrator (the seed: they "must always be manually
    granted"), `grant none` still rejects, and a request with a wrong or expired password
    is left pending for the administrator, as any request in manual mode (the reference
    does not say IOS rejects it); the debug line says which (`grant_rules.Otp`)."""
    otp = cs.one_time_password
    if otp is None or entry.kind is not RequestKind.ROUTER:
        return None
    password, expires = otp
    verdict = grant_rules.check_one_time_password(
        password, expires,
        scep_policy.challenge_password(entry.csr if parsed is None else parsed.csr), now)
    if verdict is grant_rules.Otp.MATCH or now >= expires:
        cs.one_time_password = None
    return verdict


def grant(cs: CertificateServer, req_id: int, now: datetime, key: rsa.RSAPrivateKey | None
          ) -> list[Effect]:
    """Issue the certificate of pending request `req_id` (an RA authorises it instead),
    from the request as read when it was filed if the database still has that
    (`RequestDatabase.parsed`: a request granted on arrival)."""
    entry = cs.requests.get(req_id)
    if entry.state is not RequestState.PENDING:
        raise DeskError(f"% Request {req_id} is not pending")
    if cs.config.is_ra:  # an RA never signs: it forwards to its issuing CA (`ra_forward`)
        return ra_forward.authorise(cs, req_id)
    ca_cert, signing_key = _issuing_ready(cs, key, now)
    ca_cert, signing_key = cs_rollover.signer_for(cs, req_id, ca_cert, signing_key)
    parsed = cs.requests.parsed(req_id)
    fx: list[Effect] = [Debug(line) for line in issuance.grant_debug(entry.kind, req_id)]
    serial = cs.last_serial + 1
    cert = issuance.issue_from_request(
        entry.csr if parsed is None else parsed.csr,
        subject=None if parsed is None else parsed.subject,
        public_key=None if parsed is None else parsed.public_key, ca_cert=ca_cert,
        ca_key=signing_key, serial=serial, now=now,
        lifetime_days=cs.config.lifetime_certificate_days, hash_name=cs.config.hash,
        kind=entry.kind, extensions=crl_distribution.issued_extensions(cs.config.cdp_url),
        extra_minutes=cs.config.lifetime_certificate_extra_minutes
        + cs_rollover.lifetime_extension(cs, req_id, now))
    cs.last_serial = serial
    fx.append(Elapse(SERIAL_WRITE_SECONDS, "write serial file"))
    fx.append(WriteFile(f"{cs.name}.ser", serial_file_bytes(serial)))
    fx.append(Debug(f"serial number 0x{serial:X} written."))
    der = x509util.cert_der(cert)
    for name, data in level_files(cs.config.database_level, serial, entry.subject_text,
                                  der).items():
        fx.append(WriteFile(name, data))
    cs.requests.grant(req_id, der, serial)
    fx.append(CertificateIssued(req_id, cert))
    fx.append(Elapse(GRANT_SECONDS - SERIAL_WRITE_SECONDS, "sign certificate"))
    fx.append(Debug(issuance.dbg_granted(req_id, entry.fingerprint)))
    fx.append(save_database(cs))
    return fx


def reject(cs: CertificateServer, req_id: int) -> list[Effect]:
    entry = cs.requests.get(req_id)
    if entry.state is not RequestState.PENDING:
        raise DeskError(f"% Request {req_id} is not pending")
    cs.requests.reject(req_id)
    return [Debug(f"reqID={req_id} rejected"), save_database(cs)]


def remove(cs: CertificateServer, req_id: int) -> list[Effect]:
    cs.requests.remove(req_id)
    return [Debug(f"reqID={req_id} removed"), save_database(cs)]


def expire(cs: CertificateServer, now: datetime) -> list[Effect]:
    """`lifetime enrollment-request` has passed for these requests: purge them."""
    gone = cs.requests.expire(now)
    if not gone:
        return []
    fx: list[Effect] = [Debug(f"reqID={req_id} expired") for req_id in gone]
    return [*fx, save_database(cs)]


def revoke(cs: CertificateServer, serial: int, now: datetime, key: rsa.RSAPrivateKey | None
           ) -> list[Effect]:
    """`crypto pki server NAME revoke SERIAL`: the serial goes on the CRL, and a new CRL is
    published at once. IOS does not need the certificate in its database to revoke it."""
    _ca_cert, signing_key = _issuing_ready(cs, key)
    if serial < 2 or serial > cs.last_serial:
        raise DeskError(f"% Certificate {serial:02X} was not issued by this server.")
    if serial in cs.revoked:
        raise DeskError(f"% Certificate {serial:02X} is already revoked.")
    cs.revoked[serial] = now.replace(microsecond=0)
    return [Debug(f"revoking certificate 0x{serial:X}"), *cs.republish_crl(now, signing_key)]


def unrevoke(cs: CertificateServer, serial: int, now: datetime, key: rsa.RSAPrivateKey | None
             ) -> list[Effect]:
    """`crypto pki server NAME unrevoke SERIAL`: the serial leaves the CRL, and a new CRL
    is published at once, as after a revocation."""
    _ca_cert, signing_key = _issuing_ready(cs, key)
    if serial not in cs.revoked:
        # chosen: pkilab's wording (IOS's was not captured).
        raise DeskError(f"% Certificate {serial:02X} is not revoked.")
    del cs.revoked[serial]
    return [Debug(f"unrevoking certificate 0x{serial:X}"), *cs.republish_crl(now, signing_key)]


class ServerTimers:
    """The server's timers as one timed core for the timer driver: `ER EXPIRE <reqid>`
    (requests older than `lifetime enrollment-request` are purged), `CS CRL UPDATE`
    (the CRL is republished when its NextUpdate arrives, every `lifetime crl`) and
    `CS CERT EXPIRE` (the CA certificate runs out: logged once; no more issuing)."""

    def __init__(self, cs: CertificateServer, key: Callable[[], rsa.RSAPrivateKey | None],
                 has_key: Callable[[], bool] | None = None) -> None:
        self.cs = cs
        self._key = key
        self._has_key = has_key or (lambda: key() is not None)
        """Whether `key()` gives a key, asked without loading it where the owner can
        (the deadlines only need to know that there is one)."""
        self._not_after: tuple[x509.Certificate, datetime] | None = None
        """The CA certificate's notAfter, kept with it (`cryptography` makes a new
        datetime at every call, and this is asked several times per CRL publication)."""

    def _crl_deadline(self) -> datetime | None:
        if self.cs.state is not CsState.ENABLED or not self._has_key():
            return None
        return self.cs.crl_next_update()

    def _expiry_deadline(self) -> datetime | None:
        cert = self.cs.ca_cert
        if cert is None or self.cs.ca_expired_logged:
            return None
        kept = self._not_after
        if kept is None or kept[0] is not cert:
            kept = self._not_after = (cert, cert.not_valid_after_utc)
        return kept[1]

    def next_deadline(self) -> datetime | None:
        # The earliest of the three, without building a list, `_crl_deadline` inlined: a
        # CA's timer driver asks three times per CRL publication.
        cs = self.cs
        best = cs.requests.next_deadline()
        if cs.state is CsState.ENABLED and self._has_key():
            crl = cs.crl_next_update()
            if crl is not None and (best is None or crl < best):
                best = crl
        cert = cs.ca_cert
        if cert is not None and not cs.ca_expired_logged:
            kept = self._not_after  # `_expiry_deadline`, inlined
            if kept is None or kept[0] is not cert:
                kept = self._not_after = (cert, cert.not_valid_after_utc)
            expiry = kept[1]
            if best is None or expiry < best:
                best = expiry
        return best

    def armed(self) -> list[tuple[str, datetime]]:
        """Every armed timer under IOS's name, for `show crypto pki timers` (cisco-cs.md
        17): `CS CRL UPDATE`, `CS CERT EXPIRE`, `ER EXPIRE <reqid>`."""
        named = [(f"ER EXPIRE {entry.req_id}", entry.expires) for entry in self.cs.requests]
        crl, expiry = self._crl_deadline(), self._expiry_deadline()
        if crl is not None:
            named.append(("CS CRL UPDATE", crl))
        if expiry is not None:
            named.append(("CS CERT EXPIRE", expiry))
        return named

    def on_timer(self, now: datetime) -> list[Effect]:
        effects = expire(self.cs, now)
        expiry = self._expiry_deadline()
        if expiry is not None and expiry <= now:
            self.cs.ca_expired_logged = True
            # The facility name is recalled from IOS's message catalogue (cisco-cs.md 16);
            # its text was never captured.
            effects.append(Syslog(f"%PKI-2-CS_CERT_EXPIRED: Certificate server {self.cs.name} "
                                  "CA certificate has expired."))
            return effects
        key = self._key()  # `_crl_deadline`'s check, asked once
        if key is None or self.cs.state is not CsState.ENABLED:
            return effects
        crl_due = self.cs.crl_next_update()
        if crl_due is not None and crl_due <= now:
            effects += self.cs.republish_crl(now, key)
        return effects


def issued_certificate(cs: CertificateServer, serial: int) -> x509.Certificate | None:
    """A certificate this server issued (GetCert), found through the request database."""
    for entry in cs.requests:
        if entry.serial == serial and entry.certificate_der is not None:
            return x509util.load_cert(entry.certificate_der)
    if cs.ca_cert is not None and cs.ca_cert.serial_number == serial:
        return cs.ca_cert
    return None
