"""The IOS certificate server as a sans-IO core.

`CertificateServer` owns the server's configuration and runtime state (FSM state, CA
certificate, serial counter, CRL). Signals go in with a `CsContext` describing the
router at that moment; a list of effects comes out (see `cs_effects`). It never reads a
clock, never touches nvram and never sleeps: the router shell does that.

The enabling checks follow the order of the seed's debug transcripts (12.3(14)T):

    CRYPTO_CS: starting enabling checks
    CRYPTO_CS: associated trust point 'sub' does not exist; generated automatically
    CRYPTO_CS: key 'sub' does not exist; generated automatically[OK]
    % Time has not been set. Cannot start the Certificate server
    CRYPTO_CS: nvram filesystem
    CRYPTO_CS: serial number 0x1 written.
    CRYPTO_CS: created a new serial file.
    ... CA certificate (self-signed, or enrolled from the upper CA in sub-cs mode)
    CRYPTO_CS: Publishing 213 bytes to crl file nvram:sub.crl
    CRYPTO_CS: SCEP server started            (only while the HTTP server is on)
    CRYPTO_CS: exit FSM: new state enabled
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.pki import crl_v1, x509util
from sim.pki.ca_requests import RequestDatabase, request_db_file
from sim.pki.cs_archive import archive_bytes, archive_file
from sim.pki.cs_effects import (
    CaCertificateInstalled,
    Console,
    CsContext,
    Debug,
    Effect,
    Elapse,
    EnrollTrustpoint,
    KeyGenerated,
    ScepService,
    StateChanged,
    Syslog,
    TrustpointCreated,
    WriteFile,
)
from sim.pki.cs_fsm import LOCKED_STATES, CsAction, CsSignal, CsState, transition
from sim.pki.cs_locations import TypedUrl, primary_url
from sim.pki.cs_settings import ArchiveFormat, CsMode, DatabaseLevel, GrantMode, SignatureHash
from sim.pki.deferred import Deferred, FileBytes, resolve
from sim.pki.rollover_state import RolloverState

DEFAULT_KEY_BITS = 1024
"""`% Generating 1024 bit RSA keys ...`: the CS key size when none exists (seed)."""

# Simulated durations of the server's own work, read off the seed's timestamps.
SERIAL_WRITE_SECONDS = 0.108
NEW_SERIAL_FILE_SECONDS = 1.872
CA_CERT_SECONDS = 1.5
CRL_PUBLISH_SECONDS = 0.09
DB_READ_SECONDS = 2.612
FILE_READ_SECONDS = 0.048
ARCHIVE_SECONDS = 1.2

DATABASE_LEVELS = {
    DatabaseLevel.MINIMUM: "Minimum - no cert data written to storage",
    DatabaseLevel.NAMES: "Names - subject name data written as <serialnum>.cnm",
    DatabaseLevel.COMPLETE: "Complete - all issued certs written as <serialnum>.cer",
}


LIFETIME_CA_CERTIFICATE_DAYS = (1, 7305)
"""`lifetime ca-certificate DAYS`: at most 7305 days, 20 years (cisco-cs.md 3)."""
LIFETIME_CERTIFICATE_DAYS = (1, 1825)
"""`lifetime certificate DAYS`: the 12.x command reference allows up to 1825 days (5 years;
cisco-cs.md 3; IOS-XE later raised it to 7305)."""
LIFETIME_CERTIFICATE_DAYS_XE = (1, 7305)
"""IOS-XE's `lifetime certificate days(0-7305) [hours [minutes]]` (cisco-cs.md 3: "same
format" as `lifetime ca-certificate`); 0 days only with hours or minutes."""
LIFETIME_HOURS = (0, 23)
"""The hours field of XE's `lifetime {certificate|ca-certificate} DAYS [HOURS [MINUTES]]`."""
LIFETIME_CRL_HOURS = (0, 336)
"""`lifetime crl HOURS [MINUTES]`: "The maximum lifetime value is 336 hours (2 weeks)"; the
minutes field is IOS-XE's `hours(0-336) [minutes(0-59)]` (cisco-cs.md 3)."""
LIFETIME_ENROLLMENT_REQUEST_HOURS = (0, 1000)
"""`lifetime enrollment-request HOURS [MINUTES]`: IOS-XE's `hours(0-1000) [minutes(0-59)]`."""
LIFETIME_MINUTES = (0, 59)


@dataclass(frozen=True)
class CsConfig:
    """`crypto pki server NAME` settings, with 12.3(14)T defaults.

    Lifetimes are checked here too (a ValueError, not a clamp): a zero CRL lifetime would
    republish the CRL in a loop, a zero request lifetime would drop every request as it
    arrives. The console refuses such values before they get here.
    """

    name: str
    issuer_name: str | None = None
    mode: CsMode = CsMode.ROOT
    grant: GrantMode = GrantMode.MANUAL
    lifetime_ca_certificate_days: int = 1095
    lifetime_certificate_days: int = 365
    lifetime_crl_minutes: int = 168 * 60
    """12.3T default `lifetime crl 168` hours (15.x and XE use 6 h)."""
    lifetime_enrollment_request_minutes: int = 168 * 60
    database_level: DatabaseLevel = DatabaseLevel.MINIMUM
    database_url: str = "nvram:"
    database_archive: ArchiveFormat | None = ArchiveFormat.PKCS12
    hash: SignatureHash = SignatureHash.SHA256
    """12.3 signed with MD5; pkilab defaults to SHA-256 so openssl and Go peers accept the
    chain at their default security level. `hash md5` gives 12.3's algorithm back."""
    shutdown: bool = True
    database_archive_password: str | None = None
    """`database archive pkcs12|pem password PW`: the archive is protected with PW and the
    first `no shutdown` asks no passphrase (cisco-cs.md 3, 5 step 2 [V T-17])."""
    database_typed_urls: tuple[TypedUrl, ...] = ()
    """`database url {cnm|crl|crt|p12|pem|ser} [publish] URL` lines (`cs_locations`)."""
    database_username: str | None = None
    database_password: str | None = None
    """`database username U [password P]`: the login for the database location (cisco-cs.md
    3: "for FTP/HTTP storage"); TFTP has no login, so pkilab stores and shows it only."""
    serial_number: int | None = None
    """`serial-number 0xN`: the last serial issued, for a server restored without its
    `.ser` file (cisco-cs.md 10); the server never issues at or below it."""
    redundancy: bool = False
    """`redundancy`: accepted and shown; pkilab models no standby router to sync with."""
    ra_transparent: bool = False
    """`mode ra transparent`: the RA forwards its clients' original requests unchanged
    (cisco-cs.md 13; `sim.pki.ra_forward`)."""
    auto_rollover_minutes: int | None = None
    """`auto-rollover [DAYS [HOURS [MINUTES]]]`: the overlap before the CA certificate's
    expiry at which the shadow CA certificate is made; None: no auto-rollover
    (`sim.pki.cs_rollover`)."""
    grant_rollover: tuple[str, ...] = ()
    """`grant auto rollover {ca-cert|ra-cert}` lines: which rollover requests of
    subordinate CAs and RAs are granted without the administrator."""
    cdp_url: str | None = None
    """`cdp-url URL`: the CRL Distribution Point every issued certificate carries
    (`sim.pki.crl_distribution`); None: no CDP, clients use SCEP GetCRL."""
    grant_trustpoints: tuple[str, ...] = ()
    """`grant auto trustpoint TP` / `grant auto tp-list TP1 ...`: with `grant` auto, only
    requests signed by a certificate these trustpoints' CAs issued are granted at receipt
    (`sim.pki.grant_rules`)."""
    grant_tp_list: bool = False
    """The trustpoints were given as `tp-list` (XE), not `trustpoint`: how the line reads."""
    lifetime_certificate_extra_minutes: int = 0
    lifetime_ca_certificate_extra_minutes: int = 0
    """IOS-XE's `lifetime {certificate|ca-certificate} DAYS [HOURS [MINUTES]]`: the hours
    and minutes beyond the days, in minutes (cisco-cs.md 3 [V-cisco])."""

    def __post_init__(self) -> None:
        # The console and scenarios hand over IOS keywords as text: convert them here, so a
        # misspelt one fails at once (ValueError) and every reader gets the enum.
        object.__setattr__(self, "mode", CsMode(self.mode))
        object.__setattr__(self, "grant", GrantMode(self.grant))
        object.__setattr__(self, "database_level", DatabaseLevel(self.database_level))
        if self.database_archive is not None:
            object.__setattr__(self, "database_archive", ArchiveFormat(self.database_archive))
        object.__setattr__(self, "hash", SignatureHash(self.hash))
        _check_days("lifetime ca-certificate", self.lifetime_ca_certificate_days,
                    self.lifetime_ca_certificate_extra_minutes, LIFETIME_CA_CERTIFICATE_DAYS)
        _check_days("lifetime certificate", self.lifetime_certificate_days,
                    self.lifetime_certificate_extra_minutes, LIFETIME_CERTIFICATE_DAYS_XE)
        _check_minutes("lifetime crl", self.lifetime_crl_minutes, LIFETIME_CRL_HOURS)
        _check_minutes("lifetime enrollment-request", self.lifetime_enrollment_request_minutes,
                       LIFETIME_ENROLLMENT_REQUEST_HOURS)

    @property
    def is_ra(self) -> bool:
        """`mode ra [transparent]`: the server forwards requests to its issuing CA and
        signs none itself (`sim.pki.ra_forward`)."""
        return self.mode == CsMode.RA

    @property
    def effective_issuer_name(self) -> str:
        return self.issuer_name or f"CN={self.name}"

    def file_url(self, name: str) -> str:
        """Where the database file `name` is written and read (`cs_locations`)."""
        return primary_url(self.database_url, self.database_typed_urls, name)


def _check_range(setting: str, value: int, bounds: tuple[int, int]) -> None:
    if not bounds[0] <= value <= bounds[1]:
        raise ValueError(f"{setting} {value} is outside {bounds[0]}-{bounds[1]}")


def days_hours_minutes(days: int, extra_minutes: int) -> str:
    """A day lifetime as `lifetime certificate` takes it back: `365`, XE's `30 12` or
    `0 0 30` (chosen: trailing zero fields left out, as `lifetime crl 1 0` shows as
    `lifetime crl 1`, cisco-cs.md 3)."""
    hours, minutes = divmod(extra_minutes, 60)
    if minutes:
        return f"{days} {hours} {minutes}"
    return f"{days} {hours}" if hours else str(days)


def _check_days(setting: str, days: int, extra_minutes: int, bounds: tuple[int, int]) -> None:
    """A lifetime in days plus XE's hours and minutes: the days within `bounds` (0 days
    only with hours or minutes), the extra below one day, the whole positive."""
    if extra_minutes:
        bounds = (0, bounds[1])
    _check_range(setting, days, bounds)
    if not 0 <= extra_minutes < 24 * 60 or days * 24 * 60 + extra_minutes <= 0:
        raise ValueError(f"{setting} of {days} days and {extra_minutes} minutes is not a "
                         "positive lifetime with hours 0-23 and minutes 0-59")


def _check_minutes(setting: str, minutes: int, hours: tuple[int, int]) -> None:
    """A lifetime typed as hours and minutes: positive, and within the hours' range."""
    most = hours[1] * 60 + LIFETIME_MINUTES[1]
    if not 0 < minutes <= most:
        raise ValueError(f"{setting} of {minutes} minutes is outside 1-{most}")


@dataclass
class CertificateServer:
    config: CsConfig
    state: CsState = CsState.INITIAL
    ca_cert: x509.Certificate | None = None
    upper_ca_cert: x509.Certificate | None = None
    last_serial: int = 0
    crl_file: FileBytes | None = None
    """The current CRL as published to `<cs>.crl`: a `Deferred` until something reads it
    (`sim.pki.deferred`); `crl_der` gives its bytes, signing it then if need be."""
    failure_reason: str | None = None
    scep_running: bool = False
    requests: RequestDatabase = field(default_factory=RequestDatabase)
    revoked: dict[int, datetime] = field(default_factory=dict)
    ca_expired_logged: bool = False
    one_time_password: tuple[str, datetime] | None = None
    """`crypto pki server NAME password generate`: the newest one-time password and when
    it stops being valid (kept in memory only: chosen)."""
    """Revoked serial numbers and when; the CRL in nvram carries them across reloads."""
    rollover: RolloverState = field(default_factory=RolloverState)
    """The shadow key and CA certificate of a rollover under way (`cs_rollover`)."""
    _entered: list[CsSignal] = field(default_factory=list)
    _crl_next: tuple[FileBytes, datetime | None] | None = field(default=None, repr=False,
                                                               compare=False)
    """The current CRL file and its nextUpdate (`crl_next_update`)."""
    _issuer_cache: tuple[x509.Certificate | None, str, bytes] | None = field(
        default=None, repr=False, compare=False)
    _note_cache: tuple[int, str, Debug] | None = field(default=None, repr=False,
                                                       compare=False)
    """The latest `Publishing N bytes` debug effect (`_publishing_note`)."""
    _spent: float = 0.0
    """Simulated seconds already spent by the procedure being computed: the router's
    clock will have advanced that far when the effects are applied."""

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def locked(self) -> bool:
        return self.state in LOCKED_STATES

    @property
    def crl_der(self) -> bytes | None:
        """The current CRL's DER: the single way to its bytes (the `.crl` file holds the
        same object), made when first read (`sim.pki.deferred`)."""
        return resolve(self.crl_file) if self.crl_file is not None else None

    @crl_der.setter
    def crl_der(self, der: bytes | None) -> None:
        self.crl_file = der

    @property
    def crl(self) -> x509.CertificateRevocationList | None:
        der = self.crl_der
        return x509util.load_crl(der) if der else None

    def status(self) -> str:
        """The `Status:` value of `show crypto pki server`."""
        if self.state is CsState.ENABLED:
            return "enabled"
        if self.state is CsState.CHECK_FAILED and self.failure_reason:
            return f"disabled, {self.failure_reason}"
        return "disabled"

    def configure(self, **changes: Any) -> None:
        self.config = replace(self.config, **changes)

    # -- the FSM ---------------------------------------------------------------------------
    def enter(self, signal: CsSignal) -> list[Effect]:
        """First half of a signal: IOS logs the FSM entry as soon as the input arrives."""
        self._entered.append(signal)
        return [
            Debug(f"enter FSM: input state {self.state.value}, input signal {signal.value}")
        ]

    def complete(self, ctx: CsContext) -> list[Effect]:
        """Second half: run the table's action for the oldest entered signal."""
        signal = self._entered.pop(0)
        step = transition(self.state, signal)
        old = self.state
        fx: list[Effect] = []
        announcements: list[Effect] = []
        self._spent = 0.0
        was_ca = self.ca_cert is not None
        if step.action is CsAction.RUN_CHECKS:
            self._run_checks(ctx, fx, announcements)
            if ctx.console_enable_once and was_ca:
                announcements = [a for a in announcements if not isinstance(a, Console)]
        elif step.action is CsAction.DISABLE:
            self._set(CsState.DISABLED, None, fx)
            if old is CsState.ENABLED:
                fx.append(Syslog("%PKI-6-CS_DISABLED: Certificate server now disabled."))
        elif step.action is CsAction.LOSE_HTTP:
            self._set(CsState.CHECK_FAILED, "HTTP Server is disabled", fx)
            fx.append(Syslog("%PKI-6-CS_DISABLED: Certificate server now disabled."))
        fx.append(Debug(f"exit FSM: new state {self.state.value}"))
        fx.append(Debug(f"cs config has been {'locked' if self.locked else 'unlocked'}"))
        fx.append(StateChanged(old, self.state, signal, self.failure_reason))
        return fx + announcements

    def handle(self, signal: CsSignal, ctx: CsContext) -> list[Effect]:
        return self.enter(signal) + self.complete(ctx)

    def abort_no_shut(self) -> list[Effect]:
        """`% Aborted.` at the passphrase prompt: the entered `no shut` is dropped."""
        if self._entered:
            self._entered.pop(0)
        return [
            Debug(f"exit FSM: new state {self.state.value}"),
            Debug(f"cs config has been {'locked' if self.locked else 'unlocked'}"),
        ]

    def _set(self, state: CsState, reason: str | None, fx: list[Effect]) -> None:
        self.state = state
        self.failure_reason = reason
        if self.scep_running and state is not CsState.ENABLED:
            self.scep_running = False
            fx.append(ScepService(False))

    # -- enabling checks -------------------------------------------------------------------
    def _now(self, ctx: CsContext) -> datetime:
        return ctx.now + timedelta(seconds=self._spent)

    def _elapse(self, fx: list[Effect], seconds: float, reason: str) -> None:
        self._spent += seconds
        fx.append(Elapse(seconds, reason))

    def _run_checks(self, ctx: CsContext, fx: list[Effect],
                    announcements: list[Effect]) -> None:
        name = self.name
        key = ctx.key
        keygen_seconds = ctx.keygen.seconds(DEFAULT_KEY_BITS)
        if key is None:
            fx.append(Console(ctx.keygen.start.format(bits=DEFAULT_KEY_BITS,
                                                      exportable="non-exportable")))
            self._elapse(fx, keygen_seconds, "RSA key generation")
            key = ctx.generate_key(name, DEFAULT_KEY_BITS)
        fx.append(Debug("starting enabling checks"))
        if ctx.trustpoint is None:
            fx.append(TrustpointCreated(name, rsakeypair=name))
            fx.append(Debug(f"associated trust point '{name}' does not exist; "
                            "generated automatically"))
        if ctx.key is None:
            fx.append(KeyGenerated(name, key, DEFAULT_KEY_BITS))
            fx.append(Debug(f"key '{name}' does not exist; generated automatically"))
            fx.append(Console(ctx.keygen.done.format(seconds=int(keygen_seconds)),
                              inline=ctx.keygen.done_inline))
            fx.append(Console(""))
        if self.ca_cert is None and self.config.mode != "sub-cs":
            # A saved CA certificate is configuration, not a check: `show` reports it even
            # when a later check fails (a reload without a valid clock).
            self._adopt_existing_ca_cert(ctx, key)
        if not ctx.clock_set:
            fx.append(Console("% Time has not been set. Cannot start the Certificate server"))
            if ctx.time_unset_hint:
                fx.append(Console(ctx.time_unset_hint))
            self._set(CsState.CHECK_FAILED, "Time has not been set", fx)
            return
        if ctx.storage_failure is not None:
            fx.append(Syslog(f"%PKI-3-CS_CRIT_STORAGE: Critical certificate server storage, "
                             f"{ctx.storage_failure}, is inaccessible, server disabled."))
            self._set(CsState.CHECK_FAILED, "Storage not accessible", fx)
            return
        self._check_serial_file(ctx, fx)
        if self.ca_cert is None and self._granted_end_entity(ctx, key):
            # A CA that signed the request as a router's (micromdm's scepserver does)
            # gave a certificate that cannot sign: enabling would issue certificates
            # no verifier accepts, and enrolling again would get the same.
            # IOS's wording for this was never captured; this is pkilab's.
            fx.append(Console(f"% The certificate granted to trustpoint '{name}' is not a "
                              "CA certificate (it lacks BasicConstraints CA:TRUE or "
                              "keyCertSign): the server cannot sign with it."))
            self._set(CsState.CHECK_FAILED, "Granted certificate is not a CA certificate", fx)
            return
        if self.ca_cert is None and not self._adopt_existing_ca_cert(ctx, key):
            if self.config.mode == "sub-cs" or self.config.is_ra:
                if not self._start_enrollment(ctx, fx):
                    return
            else:
                self._generate_ca_cert(ctx, key, fx)
        if not self.config.is_ra:  # an RA signs no CRL: its issuing CA does
            self._check_crl(ctx, key, fx)
        if self.ca_cert is None:
            fx.append(Debug(f"enrolling the server's trustpoint '{name}'"))
            # IOS's Status wording for a subordinate waiting on its grant was never
            # captured; this is pkilab's.
            self._set(CsState.CHECK_FAILED, "Waiting for the CA certificate", fx)
            return
        if not ctx.http_on:
            self._set(CsState.CHECK_FAILED, "HTTP Server is disabled", fx)
            return
        was_enabled = self.state is CsState.ENABLED
        self.state = CsState.ENABLED
        self.failure_reason = None
        if not self.scep_running:
            self.scep_running = True
            fx.append(ScepService(True))
            fx.append(Debug("SCEP server started"))
        if not was_enabled:
            announcements.append(Console("% Certificate Server enabled."))
            announcements.append(Syslog("%PKI-6-CS_ENABLED: Certificate server now enabled."))

    def _check_serial_file(self, ctx: CsContext, fx: list[Effect]) -> None:
        fx.append(Debug(f"{ctx.storage_device} filesystem"))
        ser_name = f"{self.name}.ser"
        existing = _stored_file(ctx, ser_name)
        if existing is not None:
            self._elapse(fx, FILE_READ_SECONDS, "read serial file")
            fx.append(Debug("found existing serial file."))
            tp = ctx.trustpoint
            if (self.config.mode is CsMode.SUB_CS and self.ca_cert is None and tp is not None
                    and tp.certificate is not None):
                # Seed, on `cert configured`: the trustpoint's router certificate becomes
                # the server's signing certificate.
                fx.append(Debug("old router cert flag 0x4"))
                fx.append(Debug("new router cert flag 0x44"))
            stored = parse_serial_file(existing)
            self.last_serial = max(self.last_serial, stored, self.config.serial_number or 0)
            if self.last_serial > stored:
                # Serials issued while the file could not be written, or `serial-number`
                # set above it: the file catches up before anything is issued.
                fx.append(WriteFile(ser_name, serial_file_bytes(self.last_serial)))
                fx.append(Debug(f"serial number 0x{self.last_serial:X} written."))
            self._elapse(fx, DB_READ_SECONDS, "read database")
            fx.append(Debug("DB version 1"))
            fx.append(Debug(f"last issued serial number is 0x{self.last_serial:X}"))
            saved = _stored_file(ctx, request_db_file(self.name))
            if saved is not None and not len(self.requests):
                try:
                    self.requests = RequestDatabase.from_bytes(saved)
                except ValueError:
                    fx.append(Debug(f"request database {request_db_file(self.name)} "
                                    "is unreadable; starting empty"))
            return
        # A new server reserves serial 1 for its own CA certificate before anything else;
        # a restored one without its `.ser` starts after `serial-number 0xN`.
        self.last_serial = max(self.last_serial, 1, self.config.serial_number or 0)
        self._elapse(fx, SERIAL_WRITE_SECONDS, "write serial file")
        fx.append(WriteFile(ser_name, serial_file_bytes(self.last_serial)))
        fx.append(Debug(f"serial number 0x{self.last_serial:X} written."))
        self._elapse(fx, NEW_SERIAL_FILE_SECONDS, "create serial file")
        fx.append(Debug("created a new serial file."))

    def adopt_renewed_ra_certificate(self, cert: x509.Certificate) -> bool:
        """An RA whose trustpoint renewed its RA certificate (`auto-enroll`) signs its
        forwards with the new one and its expiry timer follows it; without this the old
        certificate's expiry would log `%PKI-2-CS_CERT_EXPIRED` on an RA that holds a
        valid one. False (nothing done) for a CA, or an RA not enabled yet."""
        if not self.config.is_ra or self.ca_cert is None:
            return False
        self.ca_cert = cert
        self.ca_expired_logged = False
        return True

    def _adopt_existing_ca_cert(self, ctx: CsContext, key: rsa.RSAPrivateKey) -> bool:
        """The CA certificate comes from the trustpoint: after a reload from the saved
        configuration, and for a subordinate once its enrollment is granted."""
        tp = ctx.trustpoint
        if tp is None:
            return False
        sub = self.config.mode == "sub-cs" or self.config.is_ra  # RA: its RA certificate
        cert = tp.certificate if sub else tp.ca_certificate
        if cert is None:
            return False
        public = cert.public_key()
        if not isinstance(public, rsa.RSAPublicKey) or \
                public.public_numbers() != key.public_key().public_numbers():
            return False
        self.ca_cert = cert
        if sub:
            self.upper_ca_cert = tp.ca_certificate
        return True

    def _granted_end_entity(self, ctx: CsContext, key: rsa.RSAPrivateKey) -> bool:
        """A subordinate's trustpoint holds its granted certificate, for its own key, but
        the certificate is not a CA's (BasicConstraints CA:TRUE and keyCertSign)."""
        tp = ctx.trustpoint
        if self.config.mode != "sub-cs" or tp is None or tp.certificate is None:
            return False
        cert = tp.certificate
        public = cert.public_key()
        if not isinstance(public, rsa.RSAPublicKey) or \
                public.public_numbers() != key.public_key().public_numbers():
            return False
        return not x509util.can_sign_certificates(cert)

    def _generate_ca_cert(self, ctx: CsContext, key: rsa.RSAPrivateKey, fx: list[Effect]) -> None:
        subject = x509util.parse_dn(self.config.effective_issuer_name)
        self._elapse(fx, CA_CERT_SECONDS, "sign CA certificate")
        now = self._now(ctx)
        not_after = now + timedelta(
            days=self.config.lifetime_ca_certificate_days,
            minutes=self.config.lifetime_ca_certificate_extra_minutes)
        cert = x509util.make_ca_certificate(
            key, subject, 1, _second(now), _second(not_after), self.config.hash
        )
        self.ca_cert = cert
        fx.append(CaCertificateInstalled(self.name, cert))
        fmt = self.config.database_archive
        if fmt and ctx.passphrase:
            # `database archive pkcs12|pem`: the one-time export (see `cs_archive`).
            fx.append(Console("% Exporting Certificate Server signing certificate and keys..."))
            if ctx.blank_after_export:
                # chosen: one blank line closes the key generation and the export; with
                # both in one `no shutdown` it moves below the export line (T-17 shows
                # it there; no capture has both).
                if Console("") in fx:
                    fx.remove(Console(""))
                fx.append(Console(""))
            self._elapse(fx, ARCHIVE_SECONDS, "archive CA key and certificate")
            fx.append(WriteFile(archive_file(self.name, fmt),
                                archive_bytes(fmt, self.name, key, cert,
                                              ctx.passphrase)))

    def _start_enrollment(self, ctx: CsContext, fx: list[Effect]) -> bool:
        tp = ctx.trustpoint
        if tp is None or not tp.enrollment_url:
            fx.append(Console("You must specify an enrollment URL for this CA before you can "
                              "authenticate it."))
            fx.append(Console("% Failed to authenticate the Certificate Authority"))
            self._set(CsState.CHECK_FAILED, "Failed to authenticate the Certificate Authority",
                      fx)
            return False
        fx.append(Debug(f"authenticating the CA '{self.name}'"))
        fx.append(EnrollTrustpoint(self.name))
        return True

    def _check_crl(self, ctx: CsContext, key: rsa.RSAPrivateKey, fx: list[Effect]) -> None:
        crl_name = f"{self.name}.crl"
        existing = _stored_file(ctx, crl_name)
        if existing is not None and not self._crl_matches(existing):
            # A CRL left behind by an earlier CA of the same name (deleted and re-created
            # without erasing nvram) cannot serve this CA: publish a fresh one.
            fx.append(Debug(f"CRL file {crl_name} was not issued by this CA."))
            existing = None
        if existing is not None:
            fx.append(Debug(f"CRL file {crl_name} exists."))
            self._elapse(fx, FILE_READ_SECONDS, "read CRL file")
            fx.append(Debug(f"Read {len(existing)} bytes from crl file {crl_name}."))
            stored = {e.serial_number: e.revocation_date_utc
                      for e in x509util.load_crl(existing)}
            for serial, when in stored.items():
                self.revoked.setdefault(serial, when)
            # A revoked serial was issued: a server restored with a stale `.ser` (or none)
            # must not hand it out again.
            self.last_serial = max([self.last_serial, *self.revoked])
            if set(self.revoked) <= set(stored):
                self.crl_der = existing
                return
            # The stored CRL lacks a revocation this server made while its storage could
            # not be written: publish one that has it, rather than forget it.
            fx.append(Debug(f"CRL file {crl_name} lacks revoked serials; republishing."))
        self._elapse(fx, CRL_PUBLISH_SECONDS, "publish CRL")
        self.crl_file = self._publish_crl(self._now(ctx), key)
        fx.append(WriteFile(crl_name, self.crl_file))
        fx.append(Debug(f"Publishing {len(self.crl_file)} bytes to crl file "
                        f"{self.config.file_url(crl_name)}"))

    def _crl_matches(self, der: bytes) -> bool:
        if self.ca_cert is None:
            return True
        try:
            crl = x509util.load_crl(der)
        except ValueError:
            return False
        return crl.issuer == self.ca_cert.subject and x509util.verify_signature(
            crl, self.ca_cert.public_key())

    def issue_crl(self, now: datetime, key: rsa.RSAPrivateKey) -> bytes:
        """A CRL signed with the server's key, now. A subordinate publishes its first CRL
        before its certificate arrives (seed), under its issuer name."""
        return bytes(self._publish_crl(now, key))

    def _publish_crl(self, now: datetime, key: rsa.RSAPrivateKey) -> Deferred:
        """The CRL `issue_crl` gives, signed when first read: thisUpdate and nextUpdate
        are the publication's, so the bytes are the same whenever they are made."""
        this_update = _second(now)
        next_update = this_update + timedelta(minutes=self.config.lifetime_crl_minutes)
        crl = crl_v1.deferred_crl(key, self._issuer_der(), this_update, next_update,
                                  sorted(self.revoked.items()), self.config.hash)
        self._crl_next = (crl, next_update)
        return crl

    def _issuer_der(self) -> bytes:
        """The CRL's issuer Name as DER: the CA certificate's subject, or (a subordinate
        publishes its first CRL before its certificate arrives) its issuer name; kept
        while the certificate and name stay the same (encoding it was a tenth of the
        cost of an idle CA's republication)."""
        cached = self._issuer_cache
        if cached is not None and self.ca_cert is not None and cached[0] is self.ca_cert:
            return cached[2]  # the certificate's subject: the configured name is not used
        source = (self.ca_cert, self.config.effective_issuer_name)
        if cached is not None and cached[0] is source[0] and cached[1] == source[1]:
            return cached[2]
        issuer = (self.ca_cert.subject if self.ca_cert is not None
                  else x509util.parse_dn(self.config.effective_issuer_name))
        der = issuer.public_bytes()
        self._issuer_cache = (source[0], source[1], der)
        return der

    def crl_next_update(self) -> datetime | None:
        """When the current CRL must be republished (IOS timer `CS CRL UPDATE`): the
        published CRL's nextUpdate, known without reading (signing) it."""
        current = self.crl_file
        if current is None:
            return None
        if self._crl_next is None or self._crl_next[0] is not current:
            crl = self.crl  # a CRL read from storage or set from bytes: parse it once
            self._crl_next = (current, crl.next_update_utc if crl is not None else None)
        return self._crl_next[1]

    def republish_crl(self, now: datetime, key: rsa.RSAPrivateKey) -> list[Effect]:
        """A new CRL (at NextUpdate, or at once after a revocation), written to nvram."""
        crl = self.crl_file = self._publish_crl(now, key)
        name = f"{self.name}.crl"
        return [_PUBLISH_ELAPSE, WriteFile(name, crl), self._publishing_note(name, len(crl))]

    def _publishing_note(self, name: str, size: int) -> Debug:
        """`Publishing N bytes to crl file URL`: the same line at every republication
        while the size and the location stay, so the effect (a frozen value) is kept."""
        url = self.config.file_url(name)
        kept = self._note_cache
        if kept is None or kept[0] != size or kept[1] != url:
            kept = self._note_cache = (size, url, Debug(f"Publishing {size} bytes to crl file "
                                                        f"{url}"))
        return kept[2]

    def storage_lost(self, url: str) -> list[Effect]:
        """A critical file (`.ser`, `.crl`) could not be written to `url`: "Critical-storage
        loss disables the server" (cisco-cs.md 10). The server waits in `check failed`
        until a signal runs its checks again (`no shutdown`, as after any failed check).
        chosen: this is not an FSM input of its own (IOS logs none); only the syslog and
        the state show it."""
        if self.state is not CsState.ENABLED:
            return []
        fx: list[Effect] = [
            Syslog(f"%PKI-3-CS_CRIT_STORAGE: Critical certificate server storage, {url}, "
                   "is inaccessible, server disabled.")]
        self._set(CsState.CHECK_FAILED, "Storage not accessible", fx)
        return fx


_PUBLISH_ELAPSE = Elapse(CRL_PUBLISH_SECONDS, "publish CRL")
"""The time every republication spends: one frozen effect for all of them."""

_SERIAL_RE = re.compile(rb"last issued serial number 0x([0-9A-Fa-f]+)")


def serial_file_bytes(last_serial: int) -> bytes:
    """The `<cs>.ser` file: IOS keeps the last issued serial there (format is pkilab's)."""
    return f"DB version 1\nlast issued serial number 0x{last_serial:X}\n".encode()


def parse_serial_file(data: bytes) -> int:
    match = _SERIAL_RE.search(data)
    return int(match.group(1), 16) if match else 0


def _stored_file(ctx: CsContext, name: str) -> bytes | None:
    """A database file's bytes from the context, made now if deferred (`sim.pki.deferred`)."""
    data = ctx.storage.get(name)
    return None if data is None else resolve(data)


def _second(value: datetime) -> datetime:
    return value.replace(microsecond=0)
