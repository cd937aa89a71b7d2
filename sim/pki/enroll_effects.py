"""Inputs and effects of the sans-IO enrollment client (`sim.pki.enroll_client`).

The client never sends, prints, writes nvram or sleeps: it returns these effects and the
router shell applies them in the order given. The order is part of the contract: the
shell's trace (console lines, artifacts, `scep/exchange` events) must come out as IOS
prints it, so an effect that tells the shell to record something sits exactly where the
recording happens relative to the lines around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.pki import scep
from sim.pki.scep_client import Enrollment, ScepEndpoint


# -- inputs --------------------------------------------------------------------------------
@dataclass(frozen=True)
class EnrollmentRequest:
    """What a trustpoint asks its CA for: `crypto pki enroll`, a subordinate CS's own
    enrollment at `no shutdown`, an `auto-enroll` renewal or a request resumed at boot."""

    trustpoint: str
    key: rsa.RSAPrivateKey
    subject: x509.Name
    ca_cert: x509.Certificate | None
    """The trustpoint's authenticated CA certificate (None: it cannot enroll)."""
    enrollment_url: str | None
    ca_request: bool = False
    """A subordinate CA's request (BasicConstraints CA:TRUE in the PKCS#10)."""
    challenge: str | None = None
    renew: x509.Certificate | None = None
    """For a renewal with the same key: the certificate that signs the request."""
    saved_csr: x509.CertificateSigningRequest | None = None
    """The request of a transaction resumed after a power loss (sent again unchanged)."""
    extensions: tuple[x509.ExtensionType, ...] = ()
    """Extensions the PKCS#10 requests beyond keyUsage (`eku request`, `subject-alt-name`)."""
    csr_hash: str | None = None
    """The PKCS#10's signature hash (`hash`); None: the digest the CA's caps choose."""
    ra_certs: tuple[x509.Certificate, ...] = ()
    """`enrollment mode ra`: the RA certificates `crypto pki authenticate` received; the
    request is enveloped to them as well as to the CA (`sim.pki.ra_forward`)."""


@dataclass(frozen=True)
class RetryPolicy:
    """`enrollment retry period MINUTES` (1-60, default 1) and `enrollment retry count N`
    (1-100, default 10; cisco-client-docs.md 3): the client polls every period and gives
    up after N retries, that is after N + 1 exchanges."""

    period_minutes: int = 1
    count: int = 10
    on_grid: bool = False
    """Polls fall on a grid of whole retry periods counted from the request (15.x/XE:
    cisco-cs.md 15, T-08 requests at 09:55:38 and logs CERTRET at 09:57:39 after a grant
    at 09:56:57, i.e. polls at +60 s and +120 s [V/I]). False: the first poll comes 1.5 s
    after the first PENDING and each later one a whole period after the last answer, as
    the 12.3(14)T feature guide's transcript times them."""

    def __post_init__(self) -> None:
        if self.period_minutes < 1:
            raise ValueError(f"retry period {self.period_minutes} minutes: it must be at "
                             "least 1")
        if self.count < 0:
            raise ValueError(f"retry count {self.count}: it cannot be negative")


# -- effects -------------------------------------------------------------------------------
class Operation(Enum):
    """The pkiMessage a PKIOperation carries."""

    PKCS_REQ = "PKCSReq"
    GET_CERT_INITIAL = "GetCertInitial"


@dataclass(frozen=True)
class Debug:
    """A `debug crypto pki transactions` line, full text (shown only while that debug is
    on)."""

    text: str


@dataclass(frozen=True)
class Syslog:
    """A timestamped console message shown whatever the debug settings:
    `%PKI-6-CERTRET: ...`, and the request fingerprints IOS prints without debug."""

    text: str


@dataclass(frozen=True)
class ProbeCaps:
    """Ask the CA's capabilities (`GET ...?operation=GetCACaps&message=<trustpoint>`) and
    feed the answer back; IOS 12.3's debug output never shows this exchange."""

    endpoint: ScepEndpoint


@dataclass(frozen=True)
class Send:
    """Send this pkiMessage to the CA (PKIOperation, by POST or GET as `profile.post`
    says) and feed the answer back (`on_reply` / `on_failure`). `attempt` counts the
    transaction's earlier exchanges (0 for the first PKCSReq), as the shell's
    `scep.request` trace shows."""

    operation: Operation
    endpoint: ScepEndpoint
    der: bytes
    profile: scep.Profile
    attempt: int
    transaction: str


@dataclass(frozen=True)
class Exchanged:
    """An exchange is over: the shell notes it (its `scep/exchange` trace event) here.

    `result` is what the exchange came to: "capabilities", a pkiStatus name ("PENDING",
    "SUCCESS", "FAILURE"), "bad reply", or the transport failure the shell reported.
    `reply` is the CertRep the client read, for the shell to keep as an artifact
    (`received-CertRep-<result>.der`); None when nothing was read."""

    operation: str
    """"GetCACaps" or "PKIOperation" (the HTTP `operation=`)."""
    message: str | None
    """The pkiMessage type of a PKIOperation ("PKCSReq", "GetCertInitial")."""
    result: str
    transaction: str | None = None
    reply: bytes | None = None


@dataclass(frozen=True)
class RequestMade:
    """The PKCS#10 request exists: the trustpoint now has a pending enrollment (the shell
    keeps it, with the request saved in nvram, until the transaction finishes)."""

    enrollment: Enrollment
    resumed: bool
    """The request is one saved before a power loss, sent again."""


@dataclass(frozen=True)
class Granted:
    """The CA issued the certificate: install it in the trustpoint now (before
    `%PKI-6-CERTRET` is logged)."""

    certificate: x509.Certificate


class Outcome(Enum):
    GRANTED = "granted"
    REJECTED = "rejected"
    GAVE_UP = "gave up"
    CANNOT_ENROLL = "cannot enroll"


@dataclass(frozen=True)
class Finished:
    """The transaction is over; always the last effect the client returns. GRANTED,
    REJECTED, GAVE_UP: the request is no longer pending (the shell forgets it and drops it
    from nvram). CANNOT_ENROLL: nothing was sent, and a request saved in nvram before (one
    to resume after a power loss) stays for a later try."""

    outcome: Outcome
    attempts: int = 0
    """Exchanges made (GAVE_UP: retry count + 1)."""
    reason: str | None = None
    """CANNOT_ENROLL: why the trustpoint cannot enroll."""
    certificate: x509.Certificate | None = None
    """GRANTED: the certificate."""


@dataclass(frozen=True)
class Renew:
    """`auto-enroll`: the certificate has lived its share; enroll again for it (the shell
    finds the trustpoint's key and starts a new transaction, see `renewal_request`)."""

    trustpoint: str
    certificate: x509.Certificate


Effect = (Debug | Syslog | ProbeCaps | Send | Exchanged | RequestMade | Granted | Finished
          | Renew)
