"""What a router holds in memory while it runs: plain objects, no processes.

`RunningState` is everything a reload or a power cut throws away: the running
configuration (hostname, domain, host table, HTTP server, trustpoints, certificate
servers), the RSA keys loaded from private-config and the debug flags. The boot rebuilds
it from nvram. The router driver (`sim.router.router`) changes it as the console and the
PKI cores ask; `show` renders it; the console's handlers edit it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509

from sim.net.resolver import HostTable
from sim.pki import cs_effects as fx
from sim.pki.cs_server import CertificateServer
from sim.pki.scep_client import Enrollment
from sim.router.keystore import KeyStore

DEFAULT_HOSTNAME = "Router"


@dataclass
class Trustpoint:
    """`crypto pki trustpoint NAME` and the certificates stored under it."""

    name: str
    enrollment_url: str | None = None
    subject_name: str | None = None
    revocation_check: str | None = None
    rsakeypair: str | None = None
    rsakeypair_bits: int | None = None
    """`rsakeypair LABEL KEY-SIZE`: the modulus an auto-generated key gets."""
    retry_period_minutes: int = 1
    retry_count: int = 10
    ca_cert: x509.Certificate | None = None
    id_cert: x509.Certificate | None = None
    ca_chain: tuple[x509.Certificate, ...] = ()
    """What GetCACert returned: the issuing CA first, then the CAs above it."""
    pending: Enrollment | None = None
    """The enrollment in progress, if any."""
    auto_enroll_percent: int | None = None
    """`auto-enroll PERCENT`: re-enroll when the certificate has lived that share."""
    crl: x509.CertificateRevocationList | None = None
    crl_fetched: str | None = None
    crl_fetched_at: datetime | None = None
    """When `crl` was downloaded (UTC), for `show crypto pki crls`' `CRL downloaded at:`."""
    fingerprint: str | None = None
    """`fingerprint HEX`: the CA certificate's MD5 or SHA-1 fingerprint, upper-case hex
    without spaces; `crypto pki authenticate` then checks it instead of asking."""
    serial_number: bool | None = None
    """`serial-number` (True) / `serial-number none` (False): the enroll dialogue does not
    ask whether to include the router's serial number; None: it asks."""
    ip_address: str | None = None
    """`ip-address ADDRESS|INTERFACE|none`: the enroll dialogue does not ask for an address
    (`none`: the request carries none); None: it asks."""
    password: str | None = None
    """`password PW`: the challenge password, so the enroll dialogue does not ask for one."""

    def view(self) -> fx.TrustpointView:
        return fx.TrustpointView(self.name, self.enrollment_url, self.ca_cert, self.id_cert)


@dataclass(frozen=True)
class TimeZone:
    """`clock timezone NAME HOURS [MINUTES]`: the name `show clock` prints and the offset
    from UTC that `show clock` adds and `clock set` (typed in local time) takes away."""

    name: str
    hours: int
    minutes: int = 0

    @property
    def offset(self) -> timedelta:
        sign = -1 if self.hours < 0 else 1
        return timedelta(hours=self.hours, minutes=sign * self.minutes)

    def config_line(self) -> str:
        return f"clock timezone {self.name} {self.hours} {self.minutes}"


@dataclass
class RunningState:
    """The router's memory between two boots."""

    hostname: str = DEFAULT_HOSTNAME
    domain_name: str | None = None
    domain_lookup: bool = True
    hosts: HostTable = field(default_factory=HostTable)
    http_server: bool = False
    trustpoints: dict[str, Trustpoint] = field(default_factory=dict)
    servers: dict[str, CertificateServer] = field(default_factory=dict)
    keys: KeyStore = field(default_factory=KeyStore)
    debug: set[str] = field(default_factory=set)
    """The `debug` flags that are on (`pki-server`, `pki-transactions`)."""
    timezone: TimeZone | None = None
    """`clock timezone NAME HOURS [MINUTES]`; None is IOS's default, UTC."""

    @property
    def fqdn(self) -> str:
        """`hostname.domain`: IOS's default key label and the name a router enrolls as."""
        return f"{self.hostname}.{self.domain_name}" if self.domain_name else self.hostname
