"""CA certificate rollover of the IOS certificate server, as a sans-IO core.

Theory of operation (cisco-cs.md 14, cisco-cs-docs.md 2):

    no rollover --(CS SHADOW CERT GENERATION: CA notAfter - overlap, or `rollover`)-->
        shadow key made --(root: self-signed at once; sub-CA: granted by its issuing CA)-->
        shadow available --(CA notAfter: the shadow "becomes active at the exact moment
        the current CA certificate expires")--> the shadow is the CA; no rollover
    `rollover cancel` drops the shadow key and certificate at any point before that.

- `auto-rollover [DAYS [HOURS [MINUTES]]]` sets the overlap ("the lead time before
  CA-certificate expiry at which the CS generates the rollover ("shadow") certificate";
  a bare `auto-rollover` is 30 days). `crypto pki server CS rollover` starts it now.
- While a shadow exists the SCEP service answers GetNextCACert (RFC 8894 4.7: "a
  SignedData ... signed by the current CA ... containing the new CA certificate") and a
  client request enveloped to the shadow certificate is a *rollover request*: filed in
  the same request database, issued by the shadow key (`signer_for`).
- A subordinate CA's (or RA's) rollover request is signed with its current certificate,
  which its issuing CA issued (a renewal); that CA grants it at once under `grant auto
  rollover ca-cert` (`ra-cert`), else it waits for the administrator, as every sub-CA
  request does (`auto_grants`).

Choices where the reference is silent (each marked `chosen:` where it is made): the shadow
CA certificate's dates and serial, the moment of activation on the server, the syslog
texts, the GetNextCACert answer without a shadow.

The effects are `sim.pki.cs_effects`' plus two of this module's, which the router shell
(`sim.router.rollover_host`) applies: `EnrollShadow` (a subordinate asks its issuing CA for
its shadow certificate) and `ShadowActivated` (the shadow key and certificate replace the
server's).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sim.pki import scep, x509util
from sim.pki.ca_requests import RequestKind
from sim.pki.cs_effects import Debug, Effect, Elapse, Syslog, WriteFile
from sim.pki.cs_fsm import CsState
from sim.pki.cs_server import CertificateServer, CsConfig, serial_file_bytes

DEFAULT_OVERLAP_DAYS = 30
"""`auto-rollover` with no argument = 30 days (cisco-cs-docs.md 2 [TN-116094])."""
AUTO_ROLLOVER_DAYS = (0, 7305)
"""chosen: the overlap's days run 0-7305 (the longest CA lifetime, cisco-cs.md 3), so
that `auto-rollover 0 0 10` gives the tech note's ten-minute demonstration value."""
ACTIVATION_LEAD = timedelta(seconds=1)
"""chosen: the server switches to its shadow one second before its CA certificate's
notAfter, so that its `CS CERT EXPIRE` timer (which stops issuing) never fires for a
certificate that has a successor; clients switch at the notAfter itself."""
NEXT_CA_CONTENT_TYPE = scep.CONTENT_TYPES["next_ca"]
"""RFC 8894 4.7: GetNextCACert is answered as `application/x-x509-next-ca-cert`."""
SHADOW_SECONDS = 1.5
"""chosen: the time signing the shadow CA certificate takes (the CA certificate's own)."""

AVAILABLE = "%PKI-6-CS_ROLLOVER_AVAILABLE: [Sub/RA]CS Rollover certificate has been " \
    "generated for {cs}, it will become active after {when}"
"""chosen: the mnemonic is recalled from IOS's message catalogue (cisco-cs.md 16), its text
was never captured; pkilab's wording."""
ACTIVE = "%PKI-6-CS_ROLLOVER_ACTIVE: [Sub/RA]CS Rollover certificate has been activated " \
    "for {cs}, replacing the previous [Sub/RA]CA certificate"
"""chosen: as `AVAILABLE`."""


class RolloverError(Exception):
    """A rollover command the server refuses; the message is what the console prints."""


# -- effects of this module ------------------------------------------------------------------
@dataclass(frozen=True)
class EnrollShadow:
    """A subordinate CA asks its issuing CA for a certificate for its shadow key."""

    server: str


@dataclass(frozen=True)
class ShadowActivated:
    """The shadow became the CA: the router's key pair named like the server and the
    server's trustpoint take the shadow key and certificates."""

    server: str
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    upper: tuple[x509.Certificate, ...]


RolloverEffect = Effect | EnrollShadow | ShadowActivated


# -- configuration ---------------------------------------------------------------------------
def overlap_minutes(days: int | None, hours: int | None = None,
                    minutes: int | None = None) -> int:
    """`auto-rollover [DAYS [HOURS [MINUTES]]]` as minutes; ValueError for a zero overlap
    (a shadow due at the very expiry would never be handed out)."""
    if days is None:
        return DEFAULT_OVERLAP_DAYS * 24 * 60
    total = (days * 24 + (hours or 0)) * 60 + (minutes or 0)
    if total <= 0:
        raise ValueError("the auto-rollover overlap must be longer than 0 minutes")
    return total


def overlap_text(minutes: int) -> str:
    """The overlap as the running configuration gives it: `30`, `0 0 10`, `1 12`."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if mins:
        return f"{days} {hours} {mins}"
    if hours:
        return f"{days} {hours}"
    return str(days)


def overlap_days_shown(minutes: int) -> int:
    """`Auto-Rollover configured, overlap period N days` (cisco-cs.md 14 [V-cisco T-11]).
    chosen: whole days, rounded down, for an overlap typed with hours or minutes."""
    return minutes // (24 * 60)


# -- when ----------------------------------------------------------------------------------
def generation_due(cs: CertificateServer) -> datetime | None:
    """When auto-rollover makes the shadow (`CS SHADOW CERT GENERATION`): CA notAfter
    minus the overlap, while the server is enabled and has no rollover under way."""
    minutes = cs.config.auto_rollover_minutes
    ca = cs.ca_cert
    if (minutes is None or ca is None or cs.state is not CsState.ENABLED
            or cs.config.mode == "ra" or cs.rollover.active
            or cs.rollover.cancelled == ca.serial_number):
        return None
    return ca.not_valid_after_utc - timedelta(minutes=minutes)


def activation_due(cs: CertificateServer) -> datetime | None:
    """When the shadow becomes the CA (see `ACTIVATION_LEAD`)."""
    if cs.rollover.certificate is None:
        return None
    return activation_moment(cs)


# -- starting, cancelling, activating --------------------------------------------------------
def start(cs: CertificateServer, now: datetime,
          generate_key: Callable[[str, int], rsa.RSAPrivateKey], bits: int, how: str,
          keygen_seconds: float = 0.0) -> list[RolloverEffect]:
    """Make the shadow key pair (`keygen_seconds` of the router's time, as its release
    generates a key of `bits`); a root signs its shadow CA certificate at once, a
    subordinate asks its issuing CA (`EnrollShadow`). `how` is `auto` or `manual`."""
    ca = cs.ca_cert
    if ca is None or cs.state is not CsState.ENABLED:
        # chosen: pkilab's wording (IOS's was not captured).
        raise RolloverError("% Certificate server is not enabled, rollover not started")
    if cs.rollover.active:
        raise RolloverError("% A rollover is already in progress")
    if cs.config.mode == "ra":
        # chosen: an RA holds no CA certificate to roll over (its own RA certificate is
        # renewed by enrolling again); pkilab's wording.
        raise RolloverError("% A server in RA mode has no CA certificate to roll over")
    # The label only names the key in the run's key source: "<cs>#" is the shadow key's
    # name as it is remembered from IOS (cisco-cs-docs.md 2 lists it as not established).
    key = generate_key(f"{cs.name}#", bits)
    cs.rollover.key = key
    cs.rollover.requested_at = how
    cs.rollover.cancelled = None
    fx: list[RolloverEffect] = [Elapse(keygen_seconds, "RSA key generation"),
                                Debug(f"rollover: {how} rollover started; shadow key "
                                      f"pair {cs.name}# generated ({bits} bits)")]
    if cs.config.mode == "sub-cs":
        fx.append(EnrollShadow(cs.name))
        return fx
    serial = cs.last_serial + 1
    cs.last_serial = serial
    fx += [WriteFile(f"{cs.name}.ser", serial_file_bytes(serial)),
           Debug(f"serial number 0x{serial:X} written.")]
    # chosen: the shadow is valid from now until the current certificate's end plus
    # `lifetime ca-certificate`, so the new CA has its whole lifetime once it is active;
    # it takes the next serial, so IssuerAndSerialNumber tells the two CA certificates
    # apart (they share the subject).
    not_before = now.replace(microsecond=0)
    not_after = ca.not_valid_after_utc + timedelta(
        days=cs.config.lifetime_ca_certificate_days,
        minutes=cs.config.lifetime_ca_certificate_extra_minutes)
    cert = x509util.make_ca_certificate(key, ca.subject, serial, not_before, not_after,
                                        cs.config.hash)
    fx.append(Elapse(SHADOW_SECONDS, "sign shadow CA certificate"))
    return fx + shadow_ready(cs, cert, ())


def shadow_ready(cs: CertificateServer, cert: x509.Certificate,
                 upper: tuple[x509.Certificate, ...]) -> list[RolloverEffect]:
    """The shadow CA certificate exists (made, or granted by the issuing CA)."""
    key = cs.rollover.key
    if key is None or cs.ca_cert is None:
        return []
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey) or \
            public.public_numbers() != key.public_key().public_numbers():
        return [Debug("rollover: the granted certificate is not for the shadow key")]
    cs.rollover.certificate = cert
    cs.rollover.upper = upper
    saved = WriteFile(shadow_file(cs.name), shadow_file_bytes(key, (cert, *upper)))
    subject = x509util.format_dn_ios(cert.subject)
    fx: list[RolloverEffect] = [
        Debug(f"rollover: shadow CA certificate serial 0x{cert.serial_number:X} for "
              f"{subject}"),
        Syslog(AVAILABLE.format(cs=cs.name, when=_stamp(cs.ca_cert.not_valid_after_utc))),
        saved,
    ]
    return fx


def cancel(cs: CertificateServer) -> list[RolloverEffect]:
    """`crypto pki server CS rollover cancel`: the shadow key and certificate are dropped;
    auto-rollover does not start again for this CA certificate."""
    if not cs.rollover.active:
        # chosen: pkilab's wording.
        raise RolloverError("% No rollover is in progress")
    cs.rollover.clear()
    cs.rollover.cancelled = cs.ca_cert.serial_number if cs.ca_cert is not None else None
    return [Debug("rollover: cancelled; shadow key pair and certificate deleted"),
            WriteFile(shadow_file(cs.name), b"")]


def activate(cs: CertificateServer, now: datetime) -> list[RolloverEffect]:
    """The shadow becomes the CA: it signs from now on, a new CRL is published with it."""
    key, cert, upper = cs.rollover.key, cs.rollover.certificate, cs.rollover.upper
    if key is None or cert is None:
        return []
    cs.ca_cert = cert
    if upper:
        cs.upper_ca_cert = upper[0]
    cs.ca_expired_logged = False
    cs.rollover.clear()
    fx: list[RolloverEffect] = [ShadowActivated(cs.name, key, cert, upper),
                                Syslog(ACTIVE.format(cs=cs.name)),
                                WriteFile(shadow_file(cs.name), b"")]
    return fx + list(cs.republish_crl(now, key))


# -- the shadow in the server's storage -----------------------------------------------------
def shadow_file(name: str) -> str:
    """chosen: the shadow key and certificates are kept beside the server's other files
    (`<cs>.ser`, `<cs>.crl`) as `<cs>.rollover.pem`, so a reload does not lose a shadow
    the clients already hold; emptied once the shadow is active or cancelled."""
    return f"{name}.rollover.pem"


def shadow_file_bytes(key: rsa.RSAPrivateKey, certs: tuple[x509.Certificate, ...]) -> bytes:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return pem + b"".join(x509util.cert_pem(c) for c in certs)


def restore(cs: CertificateServer, data: bytes | None) -> bool:
    """After a reload: the shadow saved in `data` (`shadow_file`) is the server's again,
    if it still belongs to the CA certificate in use (same subject, its own key, not yet
    active). False, leaving the server as it was, for anything else."""
    ca = cs.ca_cert
    if not data or ca is None or cs.rollover.active:
        return False
    try:
        key = serialization.load_pem_private_key(data, password=None)
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        return False
    if not isinstance(key, rsa.RSAPrivateKey) or not certs:
        return False
    cert = certs[0]
    public = cert.public_key()
    if (cert.subject != ca.subject or cert == ca or not isinstance(public, rsa.RSAPublicKey)
            or public.public_numbers() != key.public_key().public_numbers()
            or cert.not_valid_after_utc <= ca.not_valid_after_utc
            or cert.not_valid_before_utc < ca.not_valid_before_utc):
        # Not this CA's: a shadow is made after the CA certificate it follows (one left
        # by an earlier server of the same name is older than the current certificate).
        return False
    cs.rollover.key, cs.rollover.certificate = key, cert
    cs.rollover.upper = tuple(certs[1:])
    cs.rollover.requested_at = "restored"
    return True


# -- issuing for the shadow ------------------------------------------------------------------
def auto_grants(cs: CertificateServer, kind: RequestKind, renewal: bool) -> bool:
    """`grant auto rollover ca-cert` / `ra-cert`: a subordinate CA's / RA's rollover
    request (signed with the certificate this CA issued it: a renewal) is granted at
    once; every other sub-CA and RA request still waits (cisco-cs.md 14: "Sub-CA/RA
    rollover requests need manual grant unless `grant auto rollover ...`")."""
    if not renewal:
        return False
    wanted = {RequestKind.SUB_CA: "ca-cert", RequestKind.RA: "ra-cert"}.get(kind)
    return wanted is not None and wanted in cs.config.grant_rollover


def signer_for(cs: CertificateServer, req_id: int, ca_cert: x509.Certificate,
               key: rsa.RSAPrivateKey) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """The certificate and key that sign request `req_id`: the shadow for a rollover
    request while the shadow exists, else the CA's own."""
    state = cs.rollover
    if req_id in state.requests and state.certificate is not None and state.key is not None:
        return state.certificate, state.key
    return ca_cert, key


def activation_moment(cs: CertificateServer) -> datetime | None:
    """When the shadow takes over on the server (see `ACTIVATION_LEAD`)."""
    if cs.ca_cert is None:
        return None
    return cs.ca_cert.not_valid_after_utc - ACTIVATION_LEAD


def lifetime_extension(cs: CertificateServer, req_id: int, now: datetime) -> int:
    """Minutes added to `lifetime certificate` for the certificate of request `req_id`:
    none, except that one the shadow issues lives `lifetime certificate` from the moment
    the shadow becomes active (capped at the shadow's end, as every certificate is at its
    CA's). chosen: a rollover certificate is valid from its issue (so a chain is never
    "not yet valid" on a router whose rollover came early) and is "activated when the old
    CA cert expires" (cisco-cs.md 14), so its lifetime counts from then."""
    state = cs.rollover
    if req_id not in state.requests or state.certificate is None:
        return 0  # asked first: the activation moment is a datetime made at each read
    start = activation_moment(cs)
    if start is None:
        return 0
    return max(0, int((start - now).total_seconds() // 60))


def open_envelope(cs: CertificateServer, enveloped: bytes, key: rsa.RSAPrivateKey
                  ) -> tuple[bytes, bool]:
    """The plaintext of a request's envelope, and whether it was addressed to the shadow
    certificate (a rollover request). `scep.ScepError` when neither certificate opens it."""
    if cs.ca_cert is None:
        raise scep.ScepError(scep.FailInfo.BAD_MESSAGE_CHECK, "no CA certificate")
    try:
        return scep.decrypt_envelope(enveloped, cs.ca_cert, key), False
    except scep.ScepError:
        shadow, shadow_key = cs.rollover.certificate, cs.rollover.key
        if shadow is None or shadow_key is None:
            raise
        return scep.decrypt_envelope(enveloped, shadow, shadow_key), True


# -- GetNextCACert -----------------------------------------------------------------------------
def next_ca_certificates(cs: CertificateServer) -> list[x509.Certificate]:
    """What GetNextCACert hands out: the shadow, then the shadow chain above it."""
    if cs.rollover.certificate is None:
        return []
    return [cs.rollover.certificate, *cs.rollover.upper]


def next_ca_cert_body(cs: CertificateServer, key: rsa.RSAPrivateKey) -> bytes | None:
    """RFC 8894 4.7: "a SignedData ... signed by the current CA (or RA) signing key" whose
    content is a degenerate certificates-only SignedData holding the new CA certificate;
    None when there is no shadow. chosen: signed with SHA-256."""
    certs = next_ca_certificates(cs)
    if not certs or cs.ca_cert is None:
        return None
    return signed_data(scep.degenerate_certs(certs), cs.ca_cert, key)


def signed_data(content: bytes, signer: x509.Certificate, key: rsa.RSAPrivateKey) -> bytes:
    """A CMS SignedData over `content` (eContentType data) by `signer`, with the
    content-type and message-digest signed attributes (RFC 5652 5.3, 5.4)."""
    attrs = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "message_digest",
                          "values": [hashlib.sha256(content).digest()]}),
    ])
    signature = key.sign(attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
    cert = asn1_x509.Certificate.load(x509util.cert_der(signer))
    info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": cert.issuer, "serial_number": cert.serial_number})}),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "signed_attrs": attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}),
        "signature": signature,
    })
    data = cms.SignedData({
        "version": "v1",
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": "data", "content": content},
        "certificates": [cert],
        "signer_infos": [info],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": data}).dump()


def read_next_ca_cert(body: bytes, ca_cert: x509.Certificate) -> list[x509.Certificate]:
    """A GetNextCACert answer, checked: signed by `ca_cert` (the CA the client trusts now),
    its content the new CA certificate first. ValueError for anything else."""
    try:
        info = cms.ContentInfo.load(body)
        if info["content_type"].native != "signed_data":
            raise ValueError("not a SignedData")
        data = info["content"]
        content = data["encap_content_info"]["content"].native
        signers = list(data["signer_infos"])
        if not isinstance(content, bytes) or len(signers) != 1:
            raise ValueError("no signed content")
        signer = signers[0]
        attrs = signer["signed_attrs"]
        digest = next(a["values"][0].native for a in attrs
                      if a["type"].native == "message_digest")
        signed = b"\x31" + attrs.dump()[1:]
        signature = signer["signature"].native
    except (ValueError, KeyError, TypeError, StopIteration) as bad:
        raise ValueError(f"unreadable GetNextCACert answer: {bad}") from None
    if digest != hashlib.sha256(content).digest():
        raise ValueError("the GetNextCACert answer's digest does not match its content")
    public = ca_cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError("the CA certificate has no RSA key")
    try:
        public.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except Exception:  # cryptography's InvalidSignature, or a malformed signature
        raise ValueError("the GetNextCACert answer is not signed by the current CA") from None
    try:
        certs, _crls = scep.parse_degenerate(content)
    except scep.ScepError as bad:
        raise ValueError(f"unreadable GetNextCACert content: {bad.message}") from None
    if not certs:
        raise ValueError("the GetNextCACert answer holds no certificate")
    return certs


# -- timers ------------------------------------------------------------------------------------
class RolloverTimers:
    """One server's rollover timers for a timer driver: `CS SHADOW CERT GENERATION`
    (auto-rollover starts) and the shadow's activation at the CA certificate's end."""

    def __init__(self, cs: CertificateServer,
                 generate_key: Callable[[str, int], rsa.RSAPrivateKey],
                 key_bits: Callable[[], int],
                 keygen_seconds: Callable[[int], float] = lambda bits: 0.0) -> None:
        self.cs = cs
        self._generate_key = generate_key
        self._key_bits = key_bits
        self._keygen_seconds = keygen_seconds

    def next_deadline(self) -> datetime | None:
        due = [d for d in (generation_due(self.cs), activation_due(self.cs)) if d]
        return min(due, default=None)

    def armed(self) -> list[tuple[str, datetime]]:
        """`CS SHADOW CERT GENERATION` under IOS's name (cisco-cs.md 17). chosen: the
        activation has no timer of its own in the listing (IOS's `CS CERT EXPIRE` is it)."""
        due = generation_due(self.cs)
        return [("CS SHADOW CERT GENERATION", due)] if due is not None else []

    def on_timer(self, now: datetime) -> list[RolloverEffect]:
        activation = activation_due(self.cs)
        if activation is not None and activation <= now:
            return activate(self.cs, now)
        generation = generation_due(self.cs)
        if generation is not None and generation <= now:
            bits = self._key_bits()
            return start(self.cs, now, self._generate_key, bits, "auto",
                         self._keygen_seconds(bits))
        return []


def _stamp(moment: datetime) -> str:
    """`20:43:33 UTC Jan 6 2008`, the layout of the server's timers."""
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")
    return (f"{moment:%H:%M:%S} UTC {months[moment.month - 1]} {moment.day} "
            f"{moment.year}")


# -- configuration lines -------------------------------------------------------------------
def grant_lines(cfg: CsConfig) -> list[str]:
    """` grant auto rollover ca-cert` / `ra-cert`, after the server's `grant` line."""
    return [f" grant auto rollover {kind}" for kind in cfg.grant_rollover]


def config_lines(cfg: CsConfig) -> list[str]:
    """` auto-rollover N` in running-config (chosen: after the lifetimes and `cdp-url`)."""
    if cfg.auto_rollover_minutes is None:
        return []
    return [f" auto-rollover {overlap_text(cfg.auto_rollover_minutes)}"]
