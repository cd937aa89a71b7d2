"""Renderers for the PKI show commands of issue 10: `show crypto pki timers [detail]`,
`show crypto pki server NAME certificates`, `show` inside cs-server mode and
`show crypto pki trustpoints [NAME] status`.

Like `sim.router.show`, each renderer is a pure function of the router's state returning
the output lines. The reference (cisco-cs.md sections 3, 4, 17 and cisco-client-docs.md
section 4) records these layouts from IOS 15.x and IOS-XE only; the 12.3(14)T feature
guide shows none of them, so every release prints them the same way. Where the reference
leaves a detail open, the code says `chosen: ...`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.kernel.clock import format_ios_timer
from sim.pki import crl_distribution, cs_rollover, grant_rules, x509util
from sim.pki.cs_desk import ServerTimers
from sim.pki.cs_server import CertificateServer, CsConfig, days_hours_minutes
from sim.router.crl_fetch import crl_timers
from sim.router.show import database_archive_line
from sim.router.state import Trustpoint

if TYPE_CHECKING:
    from sim.router.router import Router


# -- show crypto pki timers ----------------------------------------------------------------
def show_crypto_pki_timers(router: Router, detail: bool = False) -> list[str]:
    """`show crypto pki timers [detail]`, cisco-cs.md 17 (T-20):

        PKI Timers
        |      58.500
          |      58.500  (2005-01-06T21:09:02Z) POLL r1
        CS Timers
        | 5:54:30.810
          | 5:54:30.810  (2005-01-07T03:03:33Z) CS CRL UPDATE
          |1094d23:34:30.810  (2008-01-06T20:43:33Z) CS CERT EXPIRE

    "the first line of each group (no indent) repeats the earliest member"; members are
    `  |<remaining>  (<ISO-8601 Z>) <label>`, the ISO time only with `detail` (chosen: the
    reference records the `detail` form only; without it the time in brackets is left out).
    Only the timers the simulator runs are listed: the client's `POLL <tp>`,
    `RENEW <tp>` and `SHADOW <tp>`, the expiry alerts `ID(<tp>)`, `CA(<tp>)` and
    `CS(<cs>)` (15.x/XE), the server's `CS CRL UPDATE`, `CS CERT EXPIRE`,
    `CS SHADOW CERT GENERATION` and `ER EXPIRE <reqid>`. IOS's
    `SESSION CLEANUP`, CRL auto-download and trustpool timers have no counterpart in
    pkilab (the CRL cache's are `CRL Timers`, `sim.router.crl_fetch`), and
    a group without members is not printed (chosen).
    """
    now = router.clock.now()
    alerts = router.alert_host.core.armed() if router.alert_host is not None else []
    shadow_timers, rollover_timers = router.rollover_host.armed()
    groups = [("PKI Timers", router.enroll_host.armed() + shadow_timers),
              ("Expiry Alert Timers", alerts),
              ("CRL Timers", crl_timers(router)),
              ("CS Timers", _server_timers(router) + rollover_timers)]
    lines: list[str] = []
    for title, timers in groups:
        if not timers:
            continue
        # chosen: members in the order they fall due (a stable sort keeps ties in the
        # order the simulator names them).
        ordered = sorted(timers, key=lambda timer: timer[1])
        lines += [title, "|" + format_remaining(ordered[0][1] - now)]
        for label, due in ordered:
            when = f"({_iso_8601(due)}) " if detail else ""
            lines.append(f"  |{format_remaining(due - now)}  {when}{label}")
    return lines


def _server_timers(router: Router) -> list[tuple[str, datetime]]:
    """The certificate servers' armed timers, read through the same `ServerTimers` the
    timer driver runs, so the listing and the firing cannot disagree."""
    def key_of(name: str) -> Callable[[], rsa.RSAPrivateKey | None]:
        def key() -> rsa.RSAPrivateKey | None:
            pair = router.running.keys.get(name)
            return pair.key if pair is not None else None
        return key

    timers: list[tuple[str, datetime]] = []
    for cs in router.running.servers.values():
        timers += ServerTimers(cs, key_of(cs.name)).armed()
    return timers


REMAINING_WIDTH = 12
"""chosen: the remaining time right-aligned in 12 columns (`|      58.500`), as IOS's
timer listing is remembered; longer values (`1094d23:34:30.810`) push the label right.
The reference quotes the values but not their padding."""


def format_remaining(left: timedelta) -> str:
    """Time left on a timer as IOS prints it: `5:54:30.810`, `1094d23:34:30.810`
    (cisco-cs.md 17). chosen: below an hour `54:30.810`, below a minute `30.810`; a timer
    already due (fired at this instant) shows `0.000`."""
    millis = max(0, int(left.total_seconds() * 1000))
    days, millis = divmod(millis, 86_400_000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    seconds, millis = divmod(millis, 1000)
    if days:
        text = f"{days}d{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"
    elif hours:
        text = f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"
    elif minutes:
        text = f"{minutes}:{seconds:02d}.{millis:03d}"
    else:
        text = f"{seconds}.{millis:03d}"
    return text.rjust(REMAINING_WIDTH)


def _iso_8601(moment: datetime) -> str:
    """`2005-01-06T21:09:02Z` (chosen: whole seconds; the reference says "ISO-8601 Z")."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}Z"


# -- show crypto pki server NAME certificates ----------------------------------------------
CERTIFICATES_HEADER = "Serial Issued date              Expire date              Subject Name"
"""chosen: IOS's header as remembered from 15.x routers; the reference names the command
(cisco-cs.md 4, T-12, T-04) but does not quote its output."""


def show_cs_certificates(router: Router, name: str) -> list[str]:
    """`show crypto pki server NAME certificates`: the certificates the server's database
    holds, the CA certificate (serial 1) first.

    chosen: the list is read from storage, as the database level keeps it (cisco-cs.md
    10): `complete` writes `<serial>.cer`, which gives every column; `names` writes only
    `<serial>.cnm` (subject and expiry), so those rows have no issue date; at `minimum`
    ("no cert data written to storage") only the CA certificate is listed. A sub-CS's CA
    certificate was issued by the CA above it and is not in the list.
    """
    cs = router.running.servers.get(name)
    if cs is None:
        return [f"Certificate server '{name}' is not known"]
    rows: dict[int, tuple[str, str, str]] = {}
    if cs.ca_cert is not None and cs.config.mode != "sub-cs":
        rows[cs.ca_cert.serial_number] = _cert_row(cs.ca_cert)
    files = router.nvram.files()
    for file_name, data in files.items():
        stem, _dot, suffix = file_name.rpartition(".")
        serial = _hex_serial(stem)
        if serial is None or serial in rows:
            continue
        if suffix == "cer":
            cert = _load_cert(data)
            if cert is not None:
                rows[serial] = _cert_row(cert)
        elif suffix == "cnm" and f"{stem}.cer" not in files:
            row = _cnm_row(data)
            if row is not None:
                rows[serial] = row
    lines = [CERTIFICATES_HEADER]
    for serial in sorted(rows):
        issued, expires, subject = rows[serial]
        lines.append(f"{serial:<6X} {issued:<24} {expires:<24} {subject}")
    return lines


def _hex_serial(stem: str) -> int | None:
    """`1A` of `1A.cer`; None for a file that is not named after a serial number."""
    if not stem or any(c not in "0123456789ABCDEF" for c in stem):
        return None
    return int(stem, 16)


def _load_cert(data: bytes) -> x509.Certificate | None:
    try:
        return x509util.load_cert(data)
    except ValueError:
        return None


def _cert_row(cert: x509.Certificate) -> tuple[str, str, str]:
    return (format_ios_timer(cert.not_valid_before_utc),
            format_ios_timer(cert.not_valid_after_utc),
            x509util.format_dn_ios(cert.subject))


def _cnm_row(data: bytes) -> tuple[str, str, str] | None:
    """A `.cnm` file (`subjectname_str = ...` / `expiration = ...`, see
    `ca_requests.level_files`); None when it does not read as one."""
    fields: dict[str, str] = {}
    for line in data.decode("latin-1").splitlines():
        key, sep, value = line.partition(" = ")
        if sep:
            fields[key.strip()] = value.strip()
    if "subjectname_str" not in fields or "expiration" not in fields:
        return None
    return ("", fields["expiration"], fields["subjectname_str"])


# -- `show` in cs-server mode --------------------------------------------------------------
def show_cs_settings(cs: CertificateServer) -> list[str]:
    """`show` typed in `(cs-server)#`: the server's settings, defaults included
    (cisco-cs.md 3, T-01, T-02), on a fresh 15.x server:

         serial-number 0x0
         database level minimum
         no database archive
         issuer-name CN=CA
         lifetime crl 6
         lifetime certificate 365
         lifetime ca-certificate 1095
         lifetime enrollment-request 168

    `serial-number` is the last issued serial (`0x1` once the CA certificate exists);
    "`grant auto` etc. appear when configured". The defaults printed are this release's
    (`CsConfig`): 12.3(14)T archives as pkcs12 and keeps the CRL 168 hours.
    chosen: the settings the reference does not list (`database url`, `mode sub-cs`,
    `grant`, `hash`) appear only when they differ from the default, each after the line
    it sits beside in running-config; `shutdown` is not a setting this list shows.
    """
    cfg = cs.config
    d = CsConfig(cfg.name)
    lines = [f" serial-number 0x{cs.last_serial:X}",
             f" database level {cfg.database_level}"]
    if cfg.database_url != d.database_url:
        lines.append(f" database url {cfg.database_url}")
    lines.append(database_archive_line(cfg))
    if cfg.mode == "sub-cs":
        lines.append(" mode sub-cs")
    elif cfg.mode == "ra":
        lines.append(" mode ra transparent" if cfg.ra_transparent else " mode ra")
    lines.append(f" issuer-name {cfg.effective_issuer_name}")
    grant = grant_rules.grant_words(cfg.grant, cfg.grant_trustpoints, cfg.grant_tp_list)
    if cfg.grant != d.grant and grant is not None:
        lines.append(f" grant {grant}")
    lines += cs_rollover.grant_lines(cfg)
    if cfg.hash != d.hash:
        lines.append(f" hash {cfg.hash}")
    lines += [
        f" lifetime crl {_hours_minutes(cfg.lifetime_crl_minutes)}",
        " lifetime certificate " + days_hours_minutes(
            cfg.lifetime_certificate_days, cfg.lifetime_certificate_extra_minutes),
        " lifetime ca-certificate " + days_hours_minutes(
            cfg.lifetime_ca_certificate_days, cfg.lifetime_ca_certificate_extra_minutes),
        " lifetime enrollment-request "
        + _hours_minutes(cfg.lifetime_enrollment_request_minutes),
    ]
    return (lines + crl_distribution.config_lines(cfg.cdp_url)
            + cs_rollover.config_lines(cfg))


def _hours_minutes(minutes: int) -> str:
    """`6`, or `1 30`: "`lifetime crl 1 0` displays as `lifetime crl 1`" (cisco-cs.md 3)."""
    hours, rest = divmod(minutes, 60)
    return f"{hours} {rest}" if rest else str(hours)


# -- show crypto pki trustpoints [NAME] status ---------------------------------------------
def show_trustpoints_status(router: Router, name: str | None = None) -> list[str]:
    """`show crypto pki trustpoints [NAME] status` (PKI Status, 12.3(11)T;
    cisco-client-docs.md 4.2):

        Trustpoint TP:
          Issuing CA certificate configured:
            Subject Name:
             cn=ROOTCA
            Fingerprint MD5: ...
            Fingerprint SHA1: ...
          Router General Purpose certificate configured:
            Subject Name:
             hostname=R1.example.com
            Fingerprint MD5: ...
            Fingerprint SHA1: ...
          State:
            Keys generated ............. Yes (General Purpose, non-exportable)
            Issuing CA authenticated ....... Yes
            Certificate request(s) ..... Yes

    chosen: a certificate block is left out while that certificate is absent; `Keys
    generated ............. No` before the trustpoint's key pair exists, `Issuing CA
    authenticated ....... No` before `crypto pki authenticate`, `Certificate request(s)
    ..... Pending` while a request waits for the CA and `No` before any; a blank line
    ends each trustpoint, as in the plain listing. An unknown NAME prints nothing, as the
    plain listing does.
    """
    lines: list[str] = []
    for tp in router.running.trustpoints.values():
        if name is not None and tp.name != name:
            continue
        lines.append(f"Trustpoint {tp.name}:")
        if tp.ca_cert is not None:
            lines += _cert_status("Issuing CA certificate configured:", tp.ca_cert)
        if tp.id_cert is not None:
            lines += _cert_status("Router General Purpose certificate configured:",
                                  tp.id_cert)
        lines += [
            "  State:",
            f"    Keys generated ............. {_keys_state(router, tp)}",
            "    Issuing CA authenticated ....... "
            + ("Yes" if tp.ca_cert is not None else "No"),
            f"    Certificate request(s) ..... {_request_state(tp)}",
            "",
        ]
    return lines


def _cert_status(title: str, cert: x509.Certificate) -> list[str]:
    der = x509util.cert_der(cert)
    return [
        f"  {title}",
        "    Subject Name:",
        "     " + x509util.format_dn_ios(cert.subject),
        f"    Fingerprint MD5: {x509util.fingerprint(der, 'md5')}",
        f"    Fingerprint SHA1: {x509util.fingerprint(der, 'sha1')}",
    ]


def _keys_state(router: Router, tp: Trustpoint) -> str:
    """The key pair enrollment would use: `rsakeypair`, else the router's default label
    (as `pki_client.trustpoint_key` picks it)."""
    pair = router.running.keys.get(tp.rsakeypair or router.running.fqdn)
    if pair is None:
        return "No"
    return f"Yes (General Purpose, {'exportable' if pair.exportable else 'non-exportable'})"


def _request_state(tp: Trustpoint) -> str:
    if tp.id_cert is not None:
        return "Yes"
    return "Pending" if tp.pending is not None else "No"
