"""Renderers for `show` commands and the running configuration, IOS 12.3T layouts.

Each renderer is a pure function of the router's state returning the output lines, so
the console and the scenario expectations (which run `show` commands as an observer)
share them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sim.pki import crl_distribution, cs_rollover, grant_rules, x509util
from sim.pki.cs_server import CsConfig, days_hours_minutes
from sim.pki.cs_settings import CsMode
from sim.pki.scep_client import scep_endpoint
from sim.router import cs_store, password7, show_system
from sim.router.enroll_credential import credential_config_lines
from sim.router.state import Trustpoint
from sim.router.trustpoint_settings import TerminalFormat

if TYPE_CHECKING:
    from sim.router.router import Router


def show_clock(router: Router) -> list[str]:
    zone = router.running.timezone
    if zone is None:
        return [router.clock.show_clock()]
    return [router.clock.show_clock(zone.name, zone.offset)]


def show_crypto_pki_server(router: Router, name: str | None = None) -> list[str]:
    """Each server's status block, in the layout of the router's release."""
    servers = [s for s in router.running.servers.values() if name is None or s.name == name]
    lines: list[str] = []
    for cs in servers:
        lines += router.release.server_show(cs, router.running.timezone)
    return lines


def show_crypto_pki_trustpoints(router: Router, name: str | None = None) -> list[str]:
    lines: list[str] = []
    for tp in router.running.trustpoints.values():
        if name is not None and tp.name != name:
            continue
        lines.append(f"Trustpoint {tp.name}:")
        if tp.ca_cert is not None:
            lines.append("    Subject Name: ")
            lines.append("    " + x509util.format_dn_ios(tp.ca_cert.subject))
            lines.append(f"          Serial Number (hex): {tp.ca_cert.serial_number:02X}")
            lines.append("    Certificate configured.")
        else:
            lines.append("    Not authenticated.")
        if tp.enrollment_url:
            lines.append(f"    SCEP URL: {_scep_url(tp.enrollment_url)}")
        lines.append("")
    return lines


def _scep_url(url: str) -> str:
    """`SCEP URL: http://10.1.255.12:80/cgi-bin`, from the same parsing the client uses."""
    try:
        endpoint = scep_endpoint(url)
    except ValueError:
        return url
    return f"http://{endpoint.host}:{endpoint.port}{endpoint.path.rsplit('/', 1)[0]}"


def show_crypto_pki_certificates(router: Router, name: str | None = None,
                                 verbose: bool = False) -> list[str]:
    """Each trustpoint's pending request and certificates, in the router's release's
    layout (`sim.router.show_certs`)."""
    lines: list[str] = []
    for tp in router.running.trustpoints.values():
        if name is None or tp.name == name:
            lines += router.release.certificates_show(tp, verbose, router.running.timezone)
    return lines


def show_crypto_pki_crls(router: Router) -> list[str]:
    """The CRL each trustpoint fetched, in the router's release's layout."""
    lines: list[str] = []
    for tp in router.running.trustpoints.values():
        lines += router.release.crls_show(tp, router.running.timezone)
    return lines


def show_debugging(router: Router) -> list[str]:
    lines = []
    if router.running.debug:
        lines.append("Crypto PKI:")
        for flag in sorted(router.running.debug):
            lines.append(f"  {DEBUG_TITLES[flag]} debugging is on")
    return lines


DEBUG_TITLES = {
    "pki-server": "Crypto PKI Certificate Server",
    "pki-transactions": "Crypto PKI Trans",
    # chosen: the titles of `debug crypto pki messages|validation|callbacks` as recalled
    # from IOS's `show debugging` (sim.router.handlers_system).
    "pki-messages": "Crypto PKI Msg",
    "pki-validation": "Crypto PKI Validation Path",
    "pki-callbacks": "Crypto PKI Callback",
    "isakmp": "Crypto ISAKMP",  # `debug crypto isakmp|ikev2` (sim.router.handlers_ike)
    "ikev2": "Crypto IKEv2",
}


def show_ip_http_server_status(router: Router) -> list[str]:
    return [
        f"HTTP server status: {'Enabled' if router.running.http_server else 'Disabled'}",
        f"HTTP server port: {router.running.http.port}",
        *show_system.http_status_lines(router),
    ]


def show_rsa_keys(router: Router, label: str | None = None) -> list[str]:
    """`show crypto key mypubkey rsa [LABEL]` (cisco-client-docs.md 1.3), 12.3T layout:

        % Key pair was generated at: 21:00:00 UTC Jan 6 2005
        Key name: r1
         Usage: General Purpose Key
         Key is not exportable.
         Key Data:
          30819F30 0D06092A 864886F7 0D010101 05000381 8D003081 89028181 00C2...

    Key Data is the DER SubjectPublicKeyInfo in 8-digit hex words, 8 to a line. 15.x adds
    `Key type: RSA KEYS` and ` Storage Device:` lines after the name (the release's
    `key_show_header`). A usage-keys label is listed twice, `Usage: Signature Key` then
    `Usage: Encryption Key`. A key whose generation time is unknown (saved before pkilab
    recorded it) has no `generated at` line.

    chosen: the exportability line on 12.3T too. The reference has 12.x print only the
    time, name, usage and data [R], but 12.3T has exportable keys (12.2(15)T) and IOS
    transcripts of 12.4 as recalled show the line; a person comparing keys needs it.
    """
    lines: list[str] = []
    for name in router.running.keys.labels():
        pair = router.running.keys.get(name)
        if pair is None or (label is not None and name != label):
            continue
        for usage, key in pair.parts():
            if pair.generated_at is not None:
                lines.append(f"% Key pair was generated at: {_key_time(pair.generated_at)}")
            lines.append(f"Key name: {name}")
            lines += router.release.key_show_header
            lines += [
                f" Usage: {usage} Key",
                f" Key is {'exportable' if pair.exportable else 'not exportable'}.",
                " Key Data:",
            ]
            lines += _hex_words(x509util.public_key_der(key), indent="  ")
    return lines


def _hex_words(der: bytes, indent: str) -> list[str]:
    """IOS's hex dump of DER (key data, certificate chains): 8-digit upper-case words,
    eight to a line (the last word may be shorter, the last line hold fewer words)."""
    # `hex(" ", -4)` groups four bytes (eight digits) from the left, as IOS does; a
    # line of eight words is 71 characters plus the space that separates it from the
    # next. One C call instead of a list of words (`tests/test_client_fast_paths.py`
    # compares the two ways).
    spaced = der.hex(" ", -4).upper()
    return [indent + spaced[i:i + _LINE_CHARS - 1]
            for i in range(0, len(spaced), _LINE_CHARS)]


_LINE_CHARS = 8 * 9
"""Characters of one dump line of eight words, with the space that follows it."""

_CA_DUMPS: dict[bytes, tuple[str, ...]] = {}
"""CA certificates' lines in `crypto pki certificate chain` by their DER (the
``_CA_DUMPS_KEPT`` latest added). Every router that enrolls with a CA prints that CA's
certificate in its running configuration, rendered whenever it saves or checks for
unsaved changes (`Router.config_modified`, on every granted enrollment); the dump of
given bytes never changes. A router's own certificate is printed by that router only, so
it is not kept. Only CA certificates come in, so a CA in use stays in (a run has far
fewer CAs than that); each step is one dict operation, safe for runs in threads."""
_CA_DUMPS_KEPT = 512


def ca_certificate_dump(der: bytes) -> tuple[str, ...]:
    """A CA certificate's hex lines in `crypto pki certificate chain` (two spaces indent),
    remembered for the next router of that CA."""
    lines = _CA_DUMPS.get(der)
    if lines is None:
        lines = tuple(_hex_words(der, "  "))
        if len(_CA_DUMPS) >= _CA_DUMPS_KEPT:
            _CA_DUMPS.pop(next(iter(_CA_DUMPS)), None)
        _CA_DUMPS[der] = lines
    return lines


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _key_time(w: datetime) -> str:
    """`21:00:00 UTC Jan 6 2005`, as IOS stamps a key pair."""
    return f"{w:%H:%M:%S} UTC {_MONTH_NAMES[w.month - 1]} {w.day} {w.year}"


# -- running configuration ---------------------------------------------------------------
def running_config(router: Router) -> list[str]:
    """`show running-config`, and what `write memory` saves as startup-config."""
    return [line for block in _running_config_blocks(router) for line in block]


def running_config_is(router: Router, text: str) -> bool:
    """Whether `text` is exactly ``"\n".join(running_config(router)) + "\n"``, rendering
    only as far as the first line that differs. A router checks for unsaved changes on
    every granted enrollment (`Router.config_modified`), and an enrolling router has
    usually not saved its new trustpoint, so the answer is mostly known from the first
    lines; an unchanged configuration is still rendered whole."""
    pos = 0
    for block in _running_config_blocks(router):  # never empty: the first block is not
        for line in block:
            end = pos + len(line)
            if not text.startswith(line, pos) or text[end:end + 1] != "\n":
                return False
            pos = end + 1
    return pos == len(text)


def _running_config_blocks(router: Router) -> Iterator[Sequence[str]]:
    """The running configuration's lines, a block at a time, in order."""
    yield [
        "!",
        f"version {router.release.config_version}",
        "service timestamps debug datetime msec",
        "service timestamps log datetime msec",
        "!",
        f"hostname {router.running.hostname}",
        "!",
    ]
    lines: list[str] = []
    if router.running.timezone is not None:
        lines += [router.running.timezone.config_line(), "!"]
    if show_system.time_config_lines(router):
        lines += [*show_system.time_config_lines(router), "!"]
    if router.running.domain_name:
        lines.append(f"ip domain name {router.running.domain_name}")
    if not router.running.domain_lookup:
        lines.append("no ip domain lookup")
    for host, address in router.running.hosts:
        lines.append(f"ip host {host} {address}")
    lines.append("!")
    yield lines
    for tp in router.running.trustpoints.values():
        yield _trustpoint_config(tp)
    for tp in router.running.trustpoints.values():
        yield _chain_config(tp)
    for cs in router.running.servers.values():
        yield _server_config(cs.config, router.release.cs_config(cs.name),
                             router.release.archive_line_always)
    lines = list(router.running.crypto_config_lines())
    lines.append("ip http server" if router.running.http_server else "no ip http server")
    lines += show_system.http_config_lines(router)
    if show_system.ntp_config_lines(router):
        lines += ["!", *show_system.ntp_config_lines(router)]
    if router.running.tftp_served:
        lines += ["!", *(f"tftp-server {path}" for path in router.running.tftp_served)]
    lines += ["!", "end"]
    yield lines


def trustpoint_config(tp: Trustpoint) -> list[str]:
    """A trustpoint's block of the running configuration (also what `show` prints inside
    `crypto pki trustpoint`)."""
    return _trustpoint_config(tp)


def _trustpoint_config(tp: Trustpoint) -> list[str]:
    lines = [f"crypto pki trustpoint {tp.name}"]
    options = tp.options
    # chosen: the options of `sim.router.handlers_trustpoint` are placed among the older
    # lines in the order IOS 15 configurations are usually seen written in.
    if options.enrollment_mode_ra:
        lines.append(" enrollment mode ra")
    if options.enrollment_selfsigned:
        lines.append(" enrollment selfsigned")
    if options.enrollment_terminal:
        pem = " pem" if options.enrollment_terminal is TerminalFormat.PEM else ""
        lines.append(f" enrollment terminal{pem}")
    if tp.enrollment_url:
        lines.append(f" enrollment url {tp.enrollment_url}")
    lines += credential_config_lines(tp)  # chosen: after `enrollment url`
    if options.fqdn:
        lines.append(f" fqdn {options.fqdn}")
    if tp.fingerprint:
        # chosen: fingerprint, serial-number, ip-address and password follow `enrollment
        # url`, before `subject-name`.
        lines.append(f" fingerprint {tp.fingerprint}")
    if tp.serial_number is not None:
        lines.append(" serial-number" if tp.serial_number else " serial-number none")
    if tp.ip_address is not None:
        lines.append(f" ip-address {tp.ip_address}")
    if tp.password is not None:
        lines.append(f" password 7 {password7.encode(tp.password)}")
    if tp.subject_name:
        lines.append(f" subject-name {tp.subject_name}")
    if options.subject_alt_name:
        lines.append(f" subject-alt-name {options.subject_alt_name}")
    if options.vrf:
        lines.append(f" vrf {options.vrf}")
    if options.source_interface:
        lines.append(f" source interface {options.source_interface}")
    if options.usage:
        lines.append(f" usage {options.usage}")
    if tp.revocation_check:
        lines.append(f" revocation-check {' '.join(tp.revocation_check)}")
    if tp.rsakeypair:
        size = f" {tp.rsakeypair_bits}" if tp.rsakeypair_bits else ""
        lines.append(f" rsakeypair {tp.rsakeypair}{size}")
    if tp.retry_period_minutes != 1:
        lines.append(f" enrollment retry period {tp.retry_period_minutes}")
    if tp.retry_count != 10:
        lines.append(f" enrollment retry count {tp.retry_count}")
    if options.eku:
        lines.append(" eku request " + " ".join(options.eku))
    if tp.auto_enroll_percent is not None or options.auto_enroll:
        percent = f" {tp.auto_enroll_percent}" if tp.auto_enroll_percent is not None else ""
        regenerate = " regenerate" if options.auto_enroll_regenerate else ""
        lines.append(f" auto-enroll{percent}{regenerate}")
    if options.hash:
        lines.append(f" hash {options.hash}")
    lines.append("!")
    return lines


def _chain_config(tp: Trustpoint) -> list[str]:
    id_cert, ca_cert = tp.id_cert, tp.ca_cert
    if id_cert is None and ca_cert is None:
        return []
    lines = [f"crypto pki certificate chain {tp.name}"]
    if id_cert is not None:
        lines.append(f" certificate {id_cert.serial_number:02X}")
        lines += _hex_words(x509util.cert_der(id_cert), "  ")
        lines.append("  quit")
    if ca_cert is not None:
        lines.append(f" certificate ca {ca_cert.serial_number:02X}")
        lines += ca_certificate_dump(x509util.cert_der(ca_cert))
        lines.append("  quit")
    lines.append("!")
    return lines


def database_archive_line(cfg: CsConfig) -> str:
    """` database archive pkcs12 password 7 0822455D0A16` or ` no database archive`.
    chosen: the password is shown obfuscated as type 7 (the syntax's `password [0-9] PW`,
    cisco-cs.md 3; the reference does not show the saved line), never in clear."""
    if cfg.database_archive is None:
        return " no database archive"
    if cfg.database_archive_password:
        return (f" database archive {cfg.database_archive} password 7 "
                f"{password7.encode(cfg.database_archive_password)}")
    return f" database archive {cfg.database_archive}"


def _server_config(cfg: CsConfig, d: CsConfig, archive_always: bool) -> list[str]:
    """The server's lines: those that differ from the release's defaults `d`, and the
    archive line even at its default where the release lists it (`archive_always`)."""
    lines = [f"crypto pki server {cfg.name}"]
    if cfg.database_level != d.database_level:
        lines.append(f" database level {cfg.database_level}")
    if cfg.database_url != d.database_url:
        lines.append(f" database url {cfg.database_url}")
    lines += cs_store.storage_config_lines(cfg)
    if (archive_always or cfg.database_archive != d.database_archive
            or cfg.database_archive_password):
        lines.append(database_archive_line(cfg))
    if cfg.mode is CsMode.SUB_CS:
        lines.append(" mode sub-cs")
    elif cfg.mode == CsMode.RA:
        lines.append(" mode ra transparent" if cfg.ra_transparent else " mode ra")
    if cfg.issuer_name:
        lines.append(f" issuer-name {cfg.issuer_name}")
    grant = grant_rules.grant_words(cfg.grant, cfg.grant_trustpoints, cfg.grant_tp_list)
    if cfg.grant != d.grant and grant is not None:
        lines.append(f" grant {grant}")
    lines += cs_rollover.grant_lines(cfg)
    if cfg.hash != d.hash:
        lines.append(f" hash {cfg.hash}")
    if cfg.lifetime_crl_minutes != d.lifetime_crl_minutes:
        lines.append(" lifetime crl " + _hours_minutes(cfg.lifetime_crl_minutes))
    certificate = (cfg.lifetime_certificate_days, cfg.lifetime_certificate_extra_minutes)
    if certificate != (d.lifetime_certificate_days, d.lifetime_certificate_extra_minutes):
        lines.append(" lifetime certificate " + days_hours_minutes(*certificate))
    ca_certificate = (cfg.lifetime_ca_certificate_days,
                      cfg.lifetime_ca_certificate_extra_minutes)
    if ca_certificate != (d.lifetime_ca_certificate_days,
                          d.lifetime_ca_certificate_extra_minutes):
        lines.append(" lifetime ca-certificate " + days_hours_minutes(*ca_certificate))
    if cfg.lifetime_enrollment_request_minutes != d.lifetime_enrollment_request_minutes:
        lines.append(" lifetime enrollment-request "
                     + _hours_minutes(cfg.lifetime_enrollment_request_minutes))
    lines += crl_distribution.config_lines(cfg.cdp_url)
    lines += cs_rollover.config_lines(cfg)
    lines += cs_store.server_tail_lines(cfg)
    if cfg.shutdown:
        lines.append(" shutdown")
    lines.append("!")
    return lines


def _hours_minutes(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} {rest}" if rest else str(hours)
