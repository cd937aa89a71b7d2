"""The IOS PKI enrollment client: the requester side of SCEP, sans-IO.

An `Enrollment` is one transaction of a trustpoint with its CA: it makes the key's
PKCS#10 request, the self-signed signer certificate ("issuer = subject = requester
name", draft-nourse), the PKCSReq and the GetCertInitial polls, and reads the CA's
CertRep replies. Sending, waiting, retrying and logging belong to the router shell; this
module only turns inputs into bytes and bytes into outcomes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.pki import scep, x509util
from sim.pki.scep_http import SCEP_PATH

SIGNER_BACKDATE = timedelta(minutes=5)
"""Peers check signingTime against the signer's validity (scep.md P8): backdate it."""


@dataclass(frozen=True)
class ScepEndpoint:
    host: str
    port: int
    path: str


@functools.lru_cache(maxsize=1024)
def scep_endpoint(enrollment_url: str) -> ScepEndpoint:
    """`http://10.3.0.6` -> host 10.3.0.6, port 80, path /cgi-bin/pkiclient.exe.

    Kept per URL (the endpoint is frozen, so sharing one is invisible): every router under
    one CA has the same `enrollment url`, read three times per enrollment (the console's
    check, `authenticate`, the client's start). A bad URL is not kept: it raises again."""
    parts = urlsplit(enrollment_url if "://" in enrollment_url else f"http://{enrollment_url}")
    if parts.scheme.lower() != "http" or not parts.hostname:
        raise ValueError(f"{enrollment_url} is not an http:// enrollment URL")
    base = parts.path.rstrip("/")
    if base.endswith(SCEP_PATH):
        base = base[: -len(SCEP_PATH)]
    return ScepEndpoint(parts.hostname, parts.port or 80, base + SCEP_PATH)


@dataclass(frozen=True)
class CertRepOutcome:
    """What a CertRep told the client."""

    status: scep.PkiStatus
    certificate: x509.Certificate | None = None
    fail_info: scep.FailInfo | None = None
    signer: x509.Certificate | None = None
    """The certificate that signed the reply (the CA's, or its RA's)."""
    certs_in_reply: int = 0
    crls_in_reply: int = 0
    verified: bool = True
    size: int = 0

    @property
    def signer_issuer(self) -> str:
        """The signer's issuer as IOS prints it (`signing cert: issuer=...`): formatted
        on demand, for the debug line only."""
        return "" if self.signer is None else x509util.format_dn_ios(self.signer.issuer)


@dataclass
class Enrollment:
    trustpoint: str
    key: rsa.RSAPrivateKey
    subject: x509.Name
    ca_cert: x509.Certificate
    profile: scep.Profile
    random_bytes: Callable[[int], bytes]
    now: datetime
    ca_request: bool = False
    challenge: str | None = None
    renew: x509.Certificate | None = None
    """For a renewal: the current certificate, which signs the request (draft-11 App. G)."""
    saved_csr: x509.CertificateSigningRequest | None = None
    """The request of a transaction resumed after a reboot: the CA must see the same
    PKCS#10 again (a repeated PKCSReq is a poll, draft-11 App. E)."""
    extensions: tuple[x509.ExtensionType, ...] = ()
    """Extensions requested in the PKCS#10 beyond keyUsage (a trustpoint's `eku request`,
    `subject-alt-name`)."""
    csr_hash: str | None = None
    """The PKCS#10's signature hash (a trustpoint's `hash`); None: the CA profile's."""
    ra_certs: tuple[x509.Certificate, ...] = ()
    """`enrollment mode ra`: the RA's certificates. chosen: messages are enveloped to each
    of them and to the CA (micromdm's client envelopes to every certificate GetCACert
    gave, scep.md 1.7), so a transparent RA can pass a request on that its CA can open."""
    csr: x509.CertificateSigningRequest = field(init=False)
    signer: x509.Certificate = field(init=False)
    transaction_id: str = field(init=False)
    _last_nonce: bytes | None = field(default=None, init=False)
    _public_key: rsa.RSAPublicKey = field(init=False, repr=False, compare=False)
    _poll_body: bytes | None = field(default=None, init=False, repr=False, compare=False)
    """A GetCertInitial's IssuerAndSubject: the same for every poll of the transaction."""
    _signer_named: bytes | None = field(default=None, init=False, repr=False, compare=False)
    """The signer's IssuerAndSerialNumber (`scep.recipient_named`), read as the first
    message is built: the CertRep is enveloped to it."""

    def __post_init__(self) -> None:
        self.csr = self.saved_csr or scep.make_csr(
            self.key, self.subject, challenge_password=self.challenge, ca=self.ca_request,
            hash_name=self.csr_hash or self.profile.digest, extensions=self.extensions)
        self._public_key = self.key.public_key()
        self.transaction_id = scep.transaction_id_for(self._public_key)
        if self.renew is not None:
            self.signer = self.renew
            return
        start = self.now.replace(microsecond=0) - SIGNER_BACKDATE
        self.signer = scep.self_signed_signer(self.key, self.subject, self.transaction_id,
                                              start, start + timedelta(days=365))

    @property
    def csr_der(self) -> bytes:
        return x509util.csr_der(self.csr)

    def fingerprints(self) -> tuple[str, str]:
        """`Certificate Request Fingerprint MD5:` / `SHA1:` (IOS grouping)."""
        der = self.csr_der
        return x509util.fingerprint(der, "md5"), x509util.fingerprint(der, "sha1")

    def pkcs_req(self, now: datetime) -> bytes:
        return self._message(scep.MessageType.PKCS_REQ, self.csr_der, now)

    def get_cert_initial(self, now: datetime) -> bytes:
        body = self._poll_body
        if body is None:
            body = self._poll_body = scep.issuer_and_subject(self.ca_cert.subject,
                                                             self.subject)
        return self._message(scep.MessageType.GET_CERT_INITIAL, body, now)

    def _message(self, kind: scep.MessageType, content: bytes, now: datetime) -> bytes:
        nonce = self.random_bytes(16)
        self._last_nonce = nonce
        message = scep.build_pki_message(
            message_type=kind, transaction_id=self.transaction_id, signer_cert=self.signer,
            signer_key=self.key, profile=self.profile, random_bytes=self.random_bytes,
            sender_nonce=nonce, recipients=[*self.ra_certs, self.ca_cert], content=content,
            signing_time=now.replace(microsecond=0))
        if self._signer_named is None:
            # The signer's DER was just written for the message (`der_once`): read the name
            # the reply will be enveloped to now, not after the table has let it go.
            self._signer_named = scep.recipient_named(self.signer)
        return message

    def on_cert_rep(self, der: bytes) -> CertRepOutcome:
        """Read a CertRep; raises `scep.ScepError` for a reply that is not one."""
        message = scep.parse_pki_message(der)
        if message.message_type is not scep.MessageType.CERT_REP or message.pki_status is None:
            raise scep.ScepError(scep.FailInfo.BAD_REQUEST, "the reply is not a CertRep")
        signer = message.signer_cert
        verified = message.signature_valid
        if message.pki_status is not scep.PkiStatus.SUCCESS:
            return CertRepOutcome(message.pki_status, fail_info=message.fail_info,
                                  signer=signer, verified=verified, size=len(der))
        if message.enveloped is None:
            raise scep.ScepError(scep.FailInfo.BAD_REQUEST, "SUCCESS without a certificate")
        inner = scep.decrypt_envelope(message.enveloped, self.signer, self.key,
                                      named=self._signer_named)
        certs, crls = scep.parse_degenerate(inner)
        # Key equality (same modulus and exponent; a key of another type is never equal)
        # without writing either key's numbers out as Python integers.
        mine = self._public_key
        issued = next((c for c in certs if c.public_key() == mine), None)
        if issued is None:
            raise scep.ScepError(scep.FailInfo.BAD_CERT_ID, "no certificate for this key")
        return CertRepOutcome(scep.PkiStatus.SUCCESS, issued, None, signer, len(certs),
                              len(crls), verified, len(der))


@dataclass
class CrlFetch:
    """A GetCRL transaction: ask the CA for its current CRL over SCEP (IOS's default when
    the certificates carry no CDP: "** CDP Not Published - Retrieved via SCEP")."""

    key: rsa.RSAPrivateKey
    signer: x509.Certificate
    ca_cert: x509.Certificate
    profile: scep.Profile
    random_bytes: Callable[[int], bytes]
    ra_certs: tuple[x509.Certificate, ...] = ()
    """`enrollment mode ra`: enveloped to the RA as well, as `Enrollment` does."""

    def request(self, now: datetime) -> bytes:
        body = scep.issuer_and_serial(self.ca_cert.issuer, self.ca_cert.serial_number)
        return scep.build_pki_message(
            message_type=scep.MessageType.GET_CRL,
            transaction_id=scep.transaction_id_for(self.key.public_key()),
            signer_cert=self.signer, signer_key=self.key, profile=self.profile,
            random_bytes=self.random_bytes, recipients=[*self.ra_certs, self.ca_cert],
            content=body,
            signing_time=now.replace(microsecond=0))

    def on_reply(self, der: bytes) -> x509.CertificateRevocationList:
        """The CRL from a SUCCESS CertRep; `scep.ScepError` otherwise."""
        message = scep.parse_pki_message(der)
        if message.pki_status is not scep.PkiStatus.SUCCESS or message.enveloped is None:
            raise scep.ScepError(message.fail_info or scep.FailInfo.BAD_REQUEST,
                                 "the CA sent no CRL")
        _certs, crls = scep.parse_degenerate(
            scep.decrypt_envelope(message.enveloped, self.signer, self.key))
        if not crls or not x509util.verify_signature(crls[0], self.ca_cert.public_key()):
            raise scep.ScepError(scep.FailInfo.BAD_MESSAGE_CHECK, "no CRL signed by the CA")
        return crls[0]
