"""What CA rollover adds to `show crypto pki server` and `show crypto pki certificates`.

The release profile (`sim.router.release`) wraps its renderers with these, so a release
without the feature (12.3(14)T: auto-rollover came with 12.4(2)T, cisco-cs-docs.md 2)
shows nothing of it.

`show crypto pki server` (cisco-cs.md 4.1, 14 [V-cisco T-11]), after `Database Level:`:

    Auto-Rollover configured, overlap period 30 days
    Autorollover timer: 20:43:33 UTC Dec 7 2007

chosen (not captured): while a shadow exists the timer line gives way to

    Rollover status: available for rollover
    Rollover CA cert fingerprint: 6AB76D5B 1A1E2C5D 02CA2B84 0A1DB1F8
    Rollover CA certificate expiration timer: 20:43:33 UTC Jan 6 2011

(`Rollover status: pending` while a subordinate waits for its issuing CA's grant), as
the 12.4T-era documentation is remembered to show them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cryptography import x509

from sim.kernel.clock import format_ios_timer
from sim.pki import cs_rollover, x509util
from sim.pki.cs_server import CertificateServer
from sim.router import show_certs
from sim.router.show_cs import UTC_ZONE
from sim.router.state import TimeZone, Trustpoint

ServerShow = Callable[[CertificateServer, TimeZone | None], list[str]]
CertificatesShow = Callable[[Trustpoint, bool, TimeZone | None], list[str]]
PAD = "    "


def _shown(moment: datetime, zone: TimeZone | None) -> str:
    zone = zone or UTC_ZONE
    return format_ios_timer(moment + zone.offset).replace(" GMT ", f" {zone.name} ", 1)


def rollover_lines(cs: CertificateServer, zone: TimeZone | None) -> list[str]:
    """The rollover lines of one server (15.x/XE layout, four-space indent)."""
    lines: list[str] = []
    minutes = cs.config.auto_rollover_minutes
    if minutes is not None:
        days = cs_rollover.overlap_days_shown(minutes)
        lines.append(f"{PAD}Auto-Rollover configured, overlap period {days} days")
        due = cs_rollover.generation_due(cs)
        if due is not None:
            lines.append(f"{PAD}Autorollover timer: {_shown(due, zone)}")
    shadow = cs.rollover
    if shadow.certificate is not None:
        der = x509util.cert_der(shadow.certificate)
        lines += [f"{PAD}Rollover status: available for rollover",
                  f"{PAD}Rollover CA cert fingerprint: {x509util.fingerprint(der, 'md5')}",
                  f"{PAD}Rollover CA certificate expiration timer: "
                  + _shown(shadow.certificate.not_valid_after_utc, zone)]
    elif shadow.active:
        lines.append(f"{PAD}Rollover status: pending")
    return lines


def with_rollover(block: ServerShow) -> ServerShow:
    """A release's server block followed by the server's rollover lines."""
    def show(cs: CertificateServer, zone: TimeZone | None = None) -> list[str]:
        return block(cs, zone) + rollover_lines(cs, zone)
    return show


def with_shadow(entries: CertificatesShow) -> CertificatesShow:
    """A release's certificate entries followed by the trustpoint's rollover ones.

    chosen: titled `Rollover Certificate` and `Rollover CA Certificate`, laid out as the
    certificates in use, with `Status: Available` (IOS keeps them under the trustpoint
    until they become active; their titles were not captured)."""
    def show(tp: Trustpoint, verbose: bool, zone: TimeZone | None) -> list[str]:
        lines = entries(tp, verbose, zone)
        shadow = tp.shadow
        shown: list[tuple[str, x509.Certificate]] = []
        if shadow.id_cert is not None:
            shown.append(("Rollover Certificate", shadow.id_cert))
        if shadow.ca_cert is not None:
            shown.append(("Rollover CA Certificate", shadow.ca_cert))
        for title, cert in shown:
            base = "CA Certificate" if shadow.ca_cert is cert else "Certificate"
            # The 15.x entry of a certificate in use, retitled.
            block = show_certs._cert_15(base, cert, tp, verbose, zone)
            lines += [title, *block[1:]]
        return lines
    return show
