"""Release profiles: every difference between the IOS releases pkilab imitates, in one place.

A scenario gives each router a `release:` (`12.3(14)T`, `15.x` or `XE`); the router holds
the matching `ReleaseProfile` as `router.release`. Handlers and show renderers read the
profile's fields; none of them compares release names. The certificate-server core
(`sim.pki`) never sees a profile: the router passes it plain values (the `CsConfig`
defaults, the key-generation wording in `CsContext`).

Sources, by field (cisco-cs.md section numbers):

- 12.3(14)T: Cisco's Subordinate Certificate Server feature guide (IOS 12.3(14)T) and the
  12.3T command reference: CRL lifetime 168 h, `database archive pkcs12` with a passphrase
  prompt, the short `show crypto pki server` layout, `% Generating 1024 bit RSA keys ...`.
- 15.x (IOS 15 classic, IOL/IOSv 15.4-15.9) and XE (IOS-XE 16/17), section 19's table:
  CRL lifetime 6 h [V], `no database archive` shown as the default [V], the full show
  layout of section 4.1 [V], keygen wording of section 5 step 3 [V]; XE logs
  `%PKI-6-TRUSTPOINT_CREATE` when a trustpoint is created (section 15) [V], announces an
  enrolled certificate with `%PKI-6-CERT_INSTALL` where 15.x logs `%PKI-6-CERTRET` and
  adds `%PKI-6-CSR_FINGERPRINT` to a request (sections 15, 19) [V].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sim.pki.cs_effects import KeygenStyle
from sim.pki.cs_server import CertificateServer, CsConfig
from sim.pki.cs_settings import ArchiveFormat
from sim.router import show_certs, show_cs, show_rollover
from sim.router.state import TimeZone, Trustpoint
from sim.router.system_profile import SYSTEM_12_3, SYSTEM_15, SYSTEM_XE, SystemProfile

DEFAULT_RELEASE = "12.3(14)T"
"""The release of the feature guide pkilab is built from; every shipped scenario and golden
transcript is in it, so a scenario without `release:` must keep meaning it."""


@dataclass(frozen=True)
class ReleaseProfile:
    """What one IOS release does differently. One instance per release, in `PROFILES`."""

    name: str
    """The spelling scenario files use (`release: 15.x`)."""
    config_version: str
    """The `version` line of the running configuration."""
    crl_lifetime_minutes: int
    """`lifetime crl` default: 168 h on 12.3T (docs), 6 h on 15.x and XE (devices)."""
    database_archive: ArchiveFormat | None
    """`database archive` default: `pkcs12` on 12.3T, none (`no database archive`) later."""
    archive_line_always: bool
    """The running configuration lists `no database archive` even at its default."""
    server_show: Callable[[CertificateServer, TimeZone | None], list[str]]
    """The `show crypto pki server` block of one server."""
    keygen: KeygenStyle
    """The `% Generating ... RSA keys` line and what ends it."""
    passphrase_with_existing_key: bool
    """The first `no shutdown` asks for the archive passphrase even when a key pair named
    like the server exists (15.x/XE labs pre-generate the key and are still asked, section
    5 step 2); 12.3(14)T's feature guide shows the prompt only with the key generation."""
    trustpoint_create_syslog: bool
    """`%PKI-6-TRUSTPOINT_CREATE: Trustpoint: <tp> created succesfully` (sic) is logged."""
    cert_install_syslog: bool
    """An enrolled certificate is announced by `%PKI-6-CERT_INSTALL` and its details, not
    `%PKI-6-CERTRET` (section 19's table: XE)."""
    csr_fingerprint_syslog: bool
    """A request made also logs `%PKI-6-CSR_FINGERPRINT` (section 15: XE)."""
    certificates_show: Callable[[Trustpoint, bool, TimeZone | None], list[str]] = (
        show_certs.entries_12_3)
    """One trustpoint's entries in `show crypto pki certificates [verbose]`: 12.3T's short
    layout, or 15.x/XE's with `(hex)`, `Name:`/`IP Address:`/`Serial Number:` and
    `Storage:` (cisco-client-docs.md 4.1)."""
    crls_show: Callable[[Trustpoint, TimeZone | None], list[str]] = show_certs.crls_12_3
    """One fetched CRL in `show crypto pki crls` (cisco-client-docs.md 4.3)."""
    fingerprint_required: bool = False
    """`crypto pki authenticate` refuses a trustpoint without `fingerprint`, printing
    `Trustpoint fingerprint must be supplied` (cisco-cs.md 15 and 19: XE 26.x [V T-06]).
    chosen: False on every profile, XE included: the XE profile is IOS-XE 16/17, and the
    reference records the refusal only for 26.x, so 16/17 ask `% Do you accept this
    certificate?` as classic IOS does (section 19: pinning "optional" before 26.x)."""
    enroll_manual_syslog: bool = False
    """`crypto pki enroll` logs `%PKI-6-CERT_ENROLL_MANUAL: Manual enrollment for trustpoint
    <tp>` (cisco-cs.md 15: "XE adds ...")."""
    requests_width: int | None = None
    """The terminal width the request database listing is wrapped at: a row longer than
    this continues on the next line at column 0, as an 80-column terminal shows a 15.x/XE
    `show crypto pki server NAME requests` with a long SubjectName. None: rows stand whole,
    as the 12.3(14)T feature guide prints them."""
    quiet_enrollment: bool = False
    """`crypto pki enroll` on a trustpoint whose `password`, `serial-number` and
    `ip-address` answer every question sends at once, without `Request certificate from
    CA? [yes/no]:` (cisco-cs.md 15: "XE 26.2 with no prompts configured just prints the
    `% Start...`, two `subject name` lines and `% Certificate request sent...`" [V T-06]).
    chosen: True for the XE profile (16/17), since nothing recorded shows 16/17 asking;
    False for 12.3(14)T and 15.x, whose every recorded dialogue ends with the question."""
    key_modulus_max: int = 2048
    """The largest RSA modulus `crypto key generate rsa` and `rsakeypair` take: 2048 on
    12.x, 4096 from 15.1(1)T and IOS-XE 2.4 (cisco-client-docs.md 1.1, 1.5 [C])."""
    blank_after_export: bool = False
    """A blank line follows `% Exporting Certificate Server signing certificate and
    keys...` (IOSv 15.x, cisco-cs.md 5 [V T-17]; 12.3(14)T's guide shows none)."""
    console_enable_once: bool = False
    """`% Certificate Server enabled.` only at the server's first enabling; later ones log
    `%PKI-6-CS_ENABLED` alone (15.x/XE, cisco-cs.md 6.3 [V T-05, T-07])."""
    fingerprint_indent: tuple[str, str] = ("    ", "    ")
    """What precedes `Fingerprint MD5:` and `Fingerprint SHA1:` when `crypto pki
    authenticate` shows the CA certificate: four spaces each in the 12.3(14)T guide; 15.x
    and XE right-align the colons (seven and six spaces, cisco-cs.md section 16 [V])."""

    polls_on_grid: bool = False
    """A pending request is polled on a grid of whole retry periods counted from the
    request (15.x/XE, cisco-cs.md 15 T-08); 12.3(14)T's feature guide polls 1.5 s after the
    first PENDING and then a period after each answer (`RetryPolicy.on_grid`)."""

    time_unset_hint: str | None = None
    """What follows `% Time has not been set. Cannot start the Certificate server`: IOS-XE
    adds `Please set clock calender-valid or enable NTP` ("calender" is Cisco's spelling;
    Cisco's own XE test library treats it as the error string after `no shut` on a CS
    with no valid clock, cisco-cs.md 2 and 19 [V-cisco]). chosen: printed as its own
    console line with IOS's `% ` prefix, after the 12.3/15.x line, which XE still prints."""
    key_addition_syslog: bool = False
    """`%CRYPTO_ENGINE-5-KEY_ADDITION` after a key pair is generated or imported (XE)."""
    ssh_enabled_syslog: bool = False
    """`%SSH-5-ENABLED: SSH 1.99 has been enabled` when the first `hostname.domain` key is
    generated (15.x/XE; the 12.3(14)T feature guide's transcripts show none)."""
    help_ranges: tuple[tuple[str, str], ...] = ()
    """Argument ranges `?` shows differently from the shared grammar, by placeholder:
    12.3(14)T's `modulus` is `<360-2048>` (cisco-client-docs.md 1.1, 1.5 [C]), where the
    grammar takes up to 4096 for 15.x/XE and the handlers refuse the rest with a caret."""
    expiry_alerts: bool = False
    """The router runs IOS's certificate expiry alerts (`Expiry Alert Timers`: `ID(<tp>)`,
    `CA(<tp>)`, `CS(<cs>)`, cisco-cs.md 17 [V-cisco T-20]); the 12.3(14)T feature guide
    shows none (`sim.pki.expiry_alerts`)."""

    key_show_header: tuple[str, ...] = ()
    """Lines `show crypto key mypubkey rsa` prints between `Key name:` and ` Usage:`:
    none on 12.x, `Key type: RSA KEYS` and ` Storage Device: not specified` on 15.x/XE
    (cisco-client-docs.md 1.3 [R])."""

    grant_tp_list: bool = False
    """`grant auto tp-list TP1 [TP2 ...]` (up to five) is accepted: IOS-XE (cisco-cs.md 3
    and 11 [V-cisco]); earlier releases refuse `tp-list` as invalid input."""
    lifetime_hours_minutes: bool = False
    """`lifetime {certificate|ca-certificate} DAYS [HOURS [MINUTES]]`, days 0-7305 (IOS-XE,
    cisco-cs.md 3 [V-cisco]); earlier releases take days only (certificate 1-1825, the
    12.x command reference; ca-certificate 1-7305)."""

    system: SystemProfile = SYSTEM_12_3
    """`show version`'s image and banner, the trustpool, NTP's layouts and local clock
    (`sim.router.system_profile`)."""

    ikev2: bool = False
    """`crypto ikev2 ...` exists ("IKEv2 (15.1(1)T+, XE 3S+)", cisco-client-docs.md 5.2)."""
    ike_inval_cert_syslog: bool = True
    """IKEv1 reports a bad peer certificate as `%CRYPTO-5-IKMP_INVAL_CERT` (classic
    12.4/15.x); XE prints the `%PKI-3-CERTIFICATE_*` syslogs (cisco-client-docs.md 5.4).
    chosen: 12.3(14)T as classic IOS."""
    isakmp_sa_slot: bool = True
    """`show crypto isakmp sa`'s 12.3-era header `dst src state conn-id slot status`;
    later `dst src state conn-id status` (cisco-client-docs.md 5.5)."""
    session_status_syslog: bool = False
    """`%CRYPTO-5-SESSION_STATUS: Crypto tunnel is UP|DOWN ...` as a tunnel comes up or
    goes down. chosen: 15.x and XE, where the message is familiar; not 12.3(14)T."""

    def cs_config(self, name: str, **settings: Any) -> CsConfig:
        """A new server's configuration, with this release's defaults."""
        values: dict[str, Any] = {"lifetime_crl_minutes": self.crl_lifetime_minutes,
                                  "database_archive": self.database_archive}
        values.update(settings)
        return CsConfig(name, **values)

    def keygen_start(self, bits: int, exportable: bool) -> str:
        """The line printed when an RSA key pair starts being generated."""
        return self.keygen.start.format(
            bits=bits, exportable="exportable" if exportable else "non-exportable")

    def keygen_done(self, seconds: float) -> str:
        """What follows when it is done (`[OK]`, or `[OK] (elapsed time was 1 seconds)`)."""
        return self.keygen.done.format(seconds=keygen_elapsed(seconds))


def keygen_elapsed(seconds: float) -> int:
    """The whole seconds `elapsed time was N seconds` shows. chosen: rounded down, since IOS
    prints `0 seconds` for a 512-bit key that takes a fraction of a second."""
    return int(seconds)


_LATER_KEYGEN = KeygenStyle(
    start="% Generating {bits} bit RSA keys, keys will be {exportable}...",
    done="[OK] (elapsed time was {seconds} seconds)",
    done_inline=False,
    # chosen: 1.2 s for 1024 bits, so the done line says `1 seconds` as captures of
    # IOL/IOSv/CSR1000v do (cisco-cs.md 16 [V]); other sizes scale with the cube.
    seconds_1024=1.2,
)
"""cisco-cs.md 5 step 3 and 16 [V]: the done line stands on its own line."""

_RELEASE_12_3 = ReleaseProfile(
    name="12.3(14)T",
    config_version="12.3",
    crl_lifetime_minutes=168 * 60,
    database_archive=ArchiveFormat.PKCS12,
    archive_line_always=False,
    server_show=show_cs.server_block_12_3,
    keygen=KeygenStyle(),
    passphrase_with_existing_key=False,
    trustpoint_create_syslog=False,
    cert_install_syslog=False,
    csr_fingerprint_syslog=False,
    help_ranges=(("<360-4096>", "<360-2048>"),),
)
_RELEASE_15 = ReleaseProfile(
    name="15.x",
    # chosen: 15.7, the IOSv image CML ships (IOSv 15.7(3)M); the family spans 15.4-15.9.
    config_version="15.7",
    system=SYSTEM_15,
    crl_lifetime_minutes=6 * 60,
    database_archive=None,
    archive_line_always=True,
    # chosen: auto-rollover (12.4(2)T) is shown from 15.x on; 12.3(14)T predates it.
    server_show=show_rollover.with_rollover(show_cs.server_block_15),
    keygen=_LATER_KEYGEN,
    passphrase_with_existing_key=True,
    trustpoint_create_syslog=False,
    cert_install_syslog=False,
    csr_fingerprint_syslog=False,
    certificates_show=show_rollover.with_shadow(show_certs.entries_15),
    crls_show=show_certs.crls_15,
    requests_width=80,  # IOS's default `terminal width`
    key_modulus_max=4096,
    blank_after_export=True,
    fingerprint_indent=("       ", "      "),
    console_enable_once=True,
    polls_on_grid=True,
    expiry_alerts=True,
    ssh_enabled_syslog=True,
    key_show_header=("Key type: RSA KEYS", " Storage Device: not specified"),
    ikev2=True,
    isakmp_sa_slot=False,
    session_status_syslog=True,
)
# IOS-XE is IOS 15's CLI with more syslog and a quieter enrollment: only these differ.
_RELEASE_XE = replace(
    _RELEASE_15,
    name="XE",
    # chosen: 17.3, a long-lived IOS-XE 17 release of CSR1000v / Catalyst 8000V.
    config_version="17.3",
    system=SYSTEM_XE,
    trustpoint_create_syslog=True,
    cert_install_syslog=True,
    csr_fingerprint_syslog=True,
    enroll_manual_syslog=True,
    quiet_enrollment=True,
    time_unset_hint="% Please set clock calender-valid or enable NTP",
    key_addition_syslog=True,
    ike_inval_cert_syslog=False,
    grant_tp_list=True,
    lifetime_hours_minutes=True,
)

PROFILES: dict[str, ReleaseProfile] = {
    release.name: release for release in (_RELEASE_12_3, _RELEASE_15, _RELEASE_XE)}
"""Every release pkilab imitates, by the name scenario files use."""

SUPPORTED_RELEASES: tuple[str, ...] = tuple(PROFILES)


def profile(name: str) -> ReleaseProfile:
    """The profile of release `name`; a ValueError naming the supported ones otherwise."""
    found = PROFILES.get(name)
    if found is None:
        raise ValueError(f"{name!r} is not a supported release "
                         f"(supported: {', '.join(SUPPORTED_RELEASES)})")
    return found
