"""Inputs and effects of the sans-IO certificate server.

The server never performs I/O and never sleeps: it returns these effects, and the router
shell applies them in order (printing, writing nvram, spending simulated time).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.pki.cs_fsm import CsSignal, CsState
from sim.pki.deferred import FileBytes
from sim.pki.keys import ios_keygen_seconds
from sim.pki.revocation_methods import RevocationMethod


@dataclass(frozen=True)
class TrustpointView:
    """What the server needs to know about the trustpoint named like it."""

    name: str
    enrollment_url: str | None
    ca_certificate: x509.Certificate | None = None
    """The certificate of the CA the trustpoint authenticated (a sub-CS's parent)."""
    certificate: x509.Certificate | None = None
    """The certificate the trustpoint enrolled for (a sub-CS's own CA certificate)."""


@dataclass(frozen=True)
class KeygenStyle:
    """How long an RSA key generation takes and how the router words it, as plain values.

    `start` takes `{bits}` and `{exportable}` (`exportable`/`non-exportable`); `done` takes
    `{seconds}`. The defaults are 12.3(14)T's (`% Generating 1024 bit RSA keys ...`, then
    `[OK]` continuing the line, 5.5 s for 1024 bits); the router's release profile
    supplies later releases'.
    """

    start: str = "% Generating {bits} bit RSA keys ..."
    done: str = "[OK]"
    done_inline: bool = True
    seconds_1024: float = 5.5
    """Seconds for a 1024-bit key (`ios_keygen_seconds` scales it to other sizes)."""

    def seconds(self, bits: int) -> float:
        return ios_keygen_seconds(bits, self.seconds_1024)


@dataclass(frozen=True)
class CsContext:
    """The facts of the router at the moment a signal is processed."""

    now: datetime
    """The router's wall-clock time (valid or not)."""
    clock_set: bool
    http_on: bool
    key: rsa.RSAPrivateKey | None
    """The RSA key pair whose label is the server's name, if the router has one."""
    trustpoint: TrustpointView | None
    storage: Mapping[str, FileBytes]
    """Files in the server's database location (nvram:), by name (a file the server wrote
    may still be deferred, `sim.pki.deferred`: the server resolves what it reads)."""
    generate_key: Callable[[str, int], rsa.RSAPrivateKey]
    passphrase: str | None = None
    storage_failure: str | None = None
    """The URL of a critical database location that could not be read (the server then
    fails its checks with `%PKI-3-CS_CRIT_STORAGE`); None when storage is reachable."""
    storage_device: str = "nvram"
    """The device of the database location, for the `CRYPTO_CS: nvram filesystem` line."""
    keygen: KeygenStyle = KeygenStyle()
    """The release's key-generation wording (the router's release profile chooses it)."""
    console_enable_once: bool = False
    """`% Certificate Server enabled.` is printed only when the server first becomes a CA
    (its CA certificate made or granted); coming back later (`ip http server`, `no shut`
    again) logs only `%PKI-6-CS_ENABLED` (15.x/XE: cisco-cs.md 6.3 [V T-05, T-07])."""
    time_unset_hint: str | None = None
    """A line after `% Time has not been set. Cannot start the Certificate server` (IOS-XE:
    `Please set clock calender-valid or enable NTP`, cisco-cs.md 2 and 19 [V-cisco])."""
    blank_after_export: bool = False
    """A blank line follows `% Exporting Certificate Server signing certificate and
    keys...` (IOSv 15.x: cisco-cs.md 5, "Exporting ... -> blank line -> % Certificate
    Server enabled." [V T-17]); 12.3(14)T's guide shows none."""


# -- effects -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Debug:
    """A `debug crypto pki server` line (shown only while that debug is on)."""

    text: str


@dataclass(frozen=True)
class Console:
    """Output on the console. `inline` continues the previous line (IOS's `[OK]`)."""

    text: str
    inline: bool = False


@dataclass(frozen=True)
class Syslog:
    """A syslog message such as `%PKI-6-CS_ENABLED: Certificate server now enabled.`"""

    text: str


@dataclass(frozen=True)
class Elapse:
    """Simulated time the router spends on the preceding work."""

    seconds: float
    reason: str


@dataclass(frozen=True)
class KeyGenerated:
    label: str
    key: rsa.RSAPrivateKey
    bits: int


@dataclass(frozen=True)
class TrustpointCreated:
    name: str
    rsakeypair: str
    revocation_check: tuple[RevocationMethod, ...] = (RevocationMethod.CRL,)
    """Trustpoints auto-created for the CS use `revocation-check crl` (cisco-cs.md 9)."""


@dataclass(frozen=True)
class WriteFile:
    name: str
    data: FileBytes
    """A CRL is deferred: signed when first read (`sim.pki.deferred`)."""


@dataclass(frozen=True)
class CaCertificateInstalled:
    """The server's CA certificate goes into the trustpoint (and the running config)."""

    trustpoint: str
    certificate: x509.Certificate


@dataclass(frozen=True)
class ScepService:
    running: bool


@dataclass(frozen=True)
class StateChanged:
    old: CsState
    new: CsState
    signal: CsSignal
    reason: str | None


@dataclass(frozen=True)
class CertificateIssued:
    """The server signed a certificate (recorded as an artifact of the run)."""

    req_id: int
    certificate: x509.Certificate


@dataclass(frozen=True)
class EnrollTrustpoint:
    """Sub-CS: authenticate and enroll the trustpoint of the server's name (SCEP)."""

    trustpoint: str


Effect = (
    Debug
    | Console
    | Syslog
    | Elapse
    | KeyGenerated
    | TrustpointCreated
    | WriteFile
    | CaCertificateInstalled
    | ScepService
    | StateChanged
    | EnrollTrustpoint
    | CertificateIssued
)
