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
from sim.pki import der_once
from sim.pki.cs_server import CertificateServer
from sim.pki.cs_settings import SignatureHash
from sim.pki.revocation_methods import DEFAULT_METHODS, RevocationMethod
from sim.pki.rollover_state import TrustpointShadow
from sim.pki.scep_client import Enrollment
from sim.router.crypto_state import CryptoConfig
from sim.router.keystore import KeyStore
from sim.router.trustpoint_settings import TerminalFormat, TrustpointUsage

DEFAULT_HOSTNAME = "Router"


@dataclass(slots=True)
class TrustpointOptions:
    """Trustpoint settings that shape the request or say how to reach the CA
    (cisco-client-docs.md 2), kept apart from the enrollment state above them."""

    fqdn: str | None = None
    """`fqdn NAME|none`: the name the request carries as unstructuredName instead of
    `hostname.domain` (`none`: no name)."""
    usage: TrustpointUsage | None = None
    """`usage {ike|ssl-client|ssl-server}` (stored and shown)."""
    eku: tuple[str, ...] = ()
    """`eku request PURPOSE...`: ExtendedKeyUsage requested in the PKCS#10."""
    subject_alt_name: str | None = None
    """`subject-alt-name NAME`: a SubjectAltName dNSName requested in the PKCS#10."""
    hash: SignatureHash | None = None
    """`hash ALG`: the request's signature hash (None: pkilab's sha256)."""
    source_interface: str | None = None
    vrf: str | None = None
    enrollment_terminal: TerminalFormat | None = None
    """`enrollment terminal [pem]`; None: not cut-and-paste."""
    enrollment_mode_ra: bool = False
    enrollment_selfsigned: bool = False
    enrollment_credential: str | None = None
    """`enrollment credential LABEL`: requests are signed with trustpoint LABEL's
    certificate (`sim.router.enroll_credential`)."""
    auto_enroll: bool = False
    """`auto-enroll` with no percentage: renew when the certificate expires."""
    auto_enroll_regenerate: bool = False
    """`auto-enroll ... regenerate`: a renewal makes a new key pair."""


@dataclass(slots=True)
class Trustpoint:
    """`crypto pki trustpoint NAME` and the certificates stored under it."""

    name: str
    enrollment_url: str | None = None
    subject_name: str | None = None
    revocation_check: tuple[RevocationMethod, ...] = ()
    """`revocation-check METHOD...` as typed; () when not configured (IOS then checks the
    CRL: `revocation_methods`)."""
    rsakeypair: str | None = None
    rsakeypair_bits: int | None = None
    """`rsakeypair LABEL KEY-SIZE`: the modulus an auto-generated key gets."""
    retry_period_minutes: int = 1
    retry_count: int = 10
    ca_cert: x509.Certificate | None = None
    id_der: bytes | None = field(default=None, repr=False)
    """The router's own certificate as DER (`id_cert` is its parsed form)."""
    ca_chain: tuple[x509.Certificate, ...] = ()
    """What GetCACert returned: the issuing CA first, then the CAs above it."""
    ra_certs: tuple[x509.Certificate, ...] = ()
    """`enrollment mode ra`: the RA certificates GetCACert returned beside the CA's
    (kept in memory only: chosen; `crypto pki authenticate` again after a reload)."""
    pending: Enrollment | None = None
    """The enrollment in progress, if any."""
    auto_enroll_percent: int | None = None
    """`auto-enroll PERCENT`: re-enroll when the certificate has lived that share."""
    crl: x509.CertificateRevocationList | None = None
    crl_fetched: str | None = None
    crl_fetched_at: datetime | None = None
    """When `crl` was downloaded (UTC), for `show crypto pki crls`' `CRL downloaded at:`."""
    crl_source: str | None = None
    """The CDP URL `crl` was downloaded from; None: by SCEP GetCRL (`sim.router.crl_fetch`)."""
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
    options: TrustpointOptions = field(default_factory=TrustpointOptions)
    """The request-shaping and transport options of `sim.router.handlers_trustpoint`."""
    shadow: TrustpointShadow = field(default_factory=TrustpointShadow)
    """The rollover (shadow) certificates `auto-enroll` obtained (`rollover_host`)."""
    terminal_request: x509.CertificateSigningRequest | None = None
    """The request `crypto pki enroll` printed for cut-and-paste enrollment, waiting for
    `crypto pki import TP certificate` (kept in memory only: chosen)."""

    @property
    def id_cert(self) -> x509.Certificate | None:
        """The router's own certificate (issued to this trustpoint), parsed on use.

        Kept as DER: a parsed certificate object costs some 0.8 KiB of Rust memory beside
        its bytes, and one whose names, extensions and key have been read keeps them all
        cached, 2 to 4 KiB more; a router of a 10,000-router run keeps its certificate for
        the whole run and reads it a handful of times. The CA certificate needs no such
        care: every router of a CA shares one object (`der_once.load_certificate`).
        Parsing goes through the same small cache, so a certificate in use is parsed
        once; certificates are immutable, so a new object is indistinguishable."""
        der = self.id_der
        return None if der is None else der_once.load_certificate(der)

    @id_cert.setter
    def id_cert(self, cert: x509.Certificate | None) -> None:
        self.id_der = None if cert is None else der_once.der(cert)

    def view(self) -> fx.TrustpointView:
        return fx.TrustpointView(self.name, self.enrollment_url, self.ca_cert, self.id_cert)

    @property
    def revocation_methods(self) -> tuple[RevocationMethod, ...]:
        """The methods validation tries, in order: as configured, else `crl` ("`crl`
        (default)", cisco-client-docs.md 2)."""
        return self.revocation_check or DEFAULT_METHODS

    @property
    def renewal_percent(self) -> int | None:
        """When `auto-enroll` renews, as a share of the certificate's life: PERCENT, 100
        for a bare `auto-enroll` ("the request for a new certificate is made when the old
        certificate expires", IOS command reference), None without `auto-enroll`."""
        if self.auto_enroll_percent is not None:
            return self.auto_enroll_percent
        return 100 if self.options.auto_enroll else None

    def request_fqdn(self, router_fqdn: str) -> str | None:
        """The name the request carries as unstructuredName: `fqdn NAME`, none for
        `fqdn none`, else the router's `hostname.domain`."""
        configured = self.options.fqdn
        if configured is None:
            return router_fqdn
        return None if configured.lower() == "none" else configured


@dataclass(frozen=True, slots=True)
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


DEFAULT_HTTP_PORT = 80
"""IOS's HTTP server port until `ip http port N`."""


@dataclass(slots=True)
class TimeConfig:
    """`clock calendar-valid`, `ntp master [STRATUM]`, `ntp server A.B.C.D` (the NTP
    process that acts on them is `sim.router.ntp`)."""

    calendar_valid: bool = False
    ntp_master: int | None = None
    """The stratum `ntp master` serves at (8 when typed without one); None: not a master."""
    ntp_servers: list[str] = field(default_factory=list)
    """`ntp server` addresses, in the order typed."""
    ntp_preferred: frozenset[str] = frozenset()
    """The `ntp server ... prefer` ones, chosen first among equals (replaced, never changed
    in place: an empty set costs 216 bytes, a shared empty frozenset nothing)."""

    @property
    def ntp_enabled(self) -> bool:
        return self.ntp_master is not None or bool(self.ntp_servers)


@dataclass(slots=True)
class HttpConfig:
    """`ip http port N`, `ip http secure-server`, `ip http secure-trustpoint TP`."""

    port: int = DEFAULT_HTTP_PORT
    secure_server: bool = False
    secure_trustpoint: str | None = None


@dataclass(slots=True)
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
    debug: frozenset[str] = frozenset()
    """The `debug` flags that are on (`pki-server`, `pki-transactions`); replaced, never
    changed in place (see `TimeConfig.ntp_preferred`)."""
    timezone: TimeZone | None = None
    """`clock timezone NAME HOURS [MINUTES]`; None is IOS's default, UTC."""
    time: TimeConfig = field(default_factory=TimeConfig)
    """Calendar and NTP settings (`sim.router.handlers_time`)."""
    http: HttpConfig = field(default_factory=HttpConfig)
    """HTTP server port and its secure server (`sim.router.handlers_system`)."""
    tftp_served: list[str] = field(default_factory=list)
    """`tftp-server flash:...` lines, in order (`sim.router.tftp`)."""
    crypto_made: CryptoConfig | None = field(default=None, repr=False)
    """`crypto` once something has asked for it."""

    @property
    def crypto(self) -> CryptoConfig:
        """IKE policies, crypto maps, IKEv2 profiles, certificate maps, access lists and the
        IKE SAs of this boot (`sim.router.crypto_state`). Made on first use: its eight
        empty tables cost some 620 bytes, and most routers of a large run (PKI clients
        that never run IKE) never use them; `crypto_config_lines` reads without making."""
        made = self.crypto_made
        if made is None:
            made = self.crypto_made = CryptoConfig()
        return made

    def crypto_config_lines(self) -> list[str]:
        """`crypto.config_lines()`, without making an empty configuration to read it."""
        made = self.crypto_made
        return [] if made is None else made.config_lines()

    @property
    def fqdn(self) -> str:
        """`hostname.domain`: IOS's default key label and the name a router enrolls as."""
        return f"{self.hostname}.{self.domain_name}" if self.domain_name else self.hostname
