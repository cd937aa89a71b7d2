"""What a certificate server holds of its CA rollover: the shadow key and certificate.

Plain data, kept on `CertificateServer.rollover`; what to do with it is
`sim.pki.cs_rollover`'s business (this module imports nothing of the server, so the server
can hold it without an import loop).

Cisco calls the next CA certificate the *shadow* or *rollover* certificate: it is made
"well in advance" of the current CA certificate's expiry and "becomes active at the exact
moment the current CA certificate expires" (cisco-cs-docs.md 2, TN-116094, DG-211322).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

ROLLOVER_GRANTS = ("ca-cert", "ra-cert")
"""`grant auto rollover {ca-cert | ra-cert}`: a subordinate CA's or an RA's rollover
request is granted without the administrator (cisco-cs.md 3, 11; cisco-cs-docs.md 1)."""


@dataclass
class RolloverState:
    """One server's rollover, from the shadow key to the moment it becomes the CA."""

    key: rsa.RSAPrivateKey | None = None
    """The shadow (rollover) key pair, made when the rollover starts."""
    certificate: x509.Certificate | None = None
    """The shadow CA certificate: self-signed on a root; on a subordinate, granted by its
    issuing CA (None while that request waits)."""
    upper: tuple[x509.Certificate, ...] = ()
    """A subordinate's shadow chain above it (the issuing CA certificate that signed the
    shadow first): what GetNextCACert hands out after the shadow itself."""
    requests: set[int] = field(default_factory=set)
    """Request IDs filed for this server's shadow certificate (a client's rollover request,
    enveloped to the shadow): they are issued by the shadow key."""
    cancelled: int | None = None
    """Serial of the CA certificate whose rollover the administrator cancelled
    (`crypto pki server CS rollover cancel`): auto-rollover does not start it again."""
    requested_at: str | None = None
    """`auto` or `manual`: how the current rollover started (None: no rollover)."""

    @property
    def active(self) -> bool:
        """A rollover is under way (a shadow key exists)."""
        return self.key is not None

    def clear(self) -> None:
        """The shadow became the CA, or the rollover was cancelled."""
        self.key = None
        self.certificate = None
        self.upper = ()
        self.requests.clear()
        self.requested_at = None


@dataclass(slots=True)
class TrustpointShadow:
    """A client trustpoint's rollover certificates (`auto-enroll`): the CA's shadow
    certificate and chain from GetNextCACert and the router's shadow certificate issued
    by it, which all become the trustpoint's when its CA certificate expires."""

    ca_cert: x509.Certificate | None = None
    ca_chain: tuple[x509.Certificate, ...] = ()
    """The shadow CA certificate first, then the shadow chain above it."""
    id_cert: x509.Certificate | None = None
    retry_at: datetime | None = None
    """When the `SHADOW <tp>` timer tries again after a try that got no shadow."""
    gave_up: int | None = None
    """Serial of the CA certificate that ended while no shadow could be had: the
    trustpoint stops asking until it holds another CA certificate."""

    def clear(self) -> None:
        self.ca_cert = None
        self.ca_chain = ()
        self.id_cert = None
        self.retry_at = None
        self.gave_up = None

    def replaces(self, current: x509.Certificate | None, ca: x509.Certificate | None) -> bool:
        """Whether the rollover certificate takes over from `current`, so `auto-enroll`
        need not renew it: `current` ends with its CA certificate (a renewal could only
        bring back the same end), and the shadow certificate is here."""
        if self.id_cert is None or current is None or ca is None:
            return False
        return current.not_valid_after_utc >= ca.not_valid_after_utc - timedelta(seconds=1)
