"""`show crypto pki server`: one server's status block, in each release's layout.

The router's release profile (`sim.router.release`) says which function renders its
servers; `sim.router.show` calls it for every server the command names.
"""

from __future__ import annotations

from datetime import datetime

from sim.kernel.clock import format_ios_timer
from sim.pki import x509util
from sim.pki.cs_server import DATABASE_LEVELS, CertificateServer
from sim.pki.grant_rules import granting_mode
from sim.router.show_cs_opening import opening_12_3, opening_15
from sim.router.show_ra import ra_block_12_3, ra_block_15
from sim.router.state import TimeZone


def server_block_12_3(cs: CertificateServer, zone: TimeZone | None = None) -> list[str]:
    """The feature guide's "Show Output for a Subordinate Certificate Server" layout (12.3T)."""
    cfg = cs.config
    if cfg.is_ra:
        return ra_block_12_3(cs)
    lines = opening_12_3(cs)
    lines.append(f"  Issuer name: {cfg.effective_issuer_name}")
    lines.append(f"  CA cert fingerprint: {_ca_fingerprint(cs)}")
    if cfg.mode == "sub-cs":
        lines.append("  Server configured in subordinate server mode")
        if cs.upper_ca_cert is not None:
            lines.append("  Upper CA cert fingerprint: "
                         + x509util.fingerprint(x509util.cert_der(cs.upper_ca_cert), "md5"))
    lines.append(f"  Granting mode is: {granting_mode(cfg.grant, cfg.grant_trustpoints)}")
    lines.append(f"  Last certificate issued serial number: 0x{cs.last_serial:X}")
    lines += _timers(cs, "  ", None)  # 12.3(14)T's guide prints GMT
    lines.append(f"  Current storage dir: {cfg.database_url}")
    lines.append(f"  Database Level: {DATABASE_LEVELS[cfg.database_level]}")
    return lines


def server_block_15(cs: CertificateServer, zone: TimeZone | None = None) -> list[str]:
    """The 15.x / IOS-XE layout (cisco-cs.md 4.1 [V]), four-space indent::

        Certificate Server ca:
            Status: enabled
            State: enabled
            Server's configuration is locked  (enter "shut" to unlock it)
            Issuer name: CN=ca
            CA cert fingerprint: 6A1C2BA5 ...
            Granting mode is: manual
            Last certificate issued serial number (hex): 1
            CA certificate expiration timer: 21:00:01 UTC Jan 6 2008
            CRL NextUpdate timer: 03:00:01 UTC Jan 7 2005
            Current primary storage dir: nvram:
            Database Level: Minimum - no cert data written to storage

    The auto-rollover lines follow, added by the release profile
    (`sim.router.show_rollover.with_rollover`).
    """
    cfg = cs.config
    if cfg.is_ra:
        return ra_block_15(cs)
    pad = "    "
    lines = opening_15(cs, pad)
    lines.append(f"{pad}Issuer name: {cfg.effective_issuer_name}")
    # chosen: no trailing space after the fingerprint (some releases print one).
    lines.append(f"{pad}CA cert fingerprint: {_ca_fingerprint(cs)}")
    if cfg.mode == "sub-cs" and cs.upper_ca_cert is not None:
        # chosen: only the Upper CA line marks a subordinate here (Cisco's parser comment
        # names no "subordinate server mode" line for these releases).
        lines.append(f"{pad}Upper CA cert fingerprint: "
                     + x509util.fingerprint(x509util.cert_der(cs.upper_ca_cert), "md5"))
    lines.append(f"{pad}Granting mode is: {granting_mode(cfg.grant, cfg.grant_trustpoints)}")
    lines.append(f"{pad}Last certificate issued serial number (hex): {cs.last_serial:X}")
    lines += _timers(cs, pad, zone or UTC_ZONE)
    lines.append(f"{pad}Current primary storage dir: {cfg.database_url}")
    lines.append(f"{pad}Database Level: {DATABASE_LEVELS[cfg.database_level]}")
    return lines


def _ca_fingerprint(cs: CertificateServer) -> str:
    if cs.ca_cert is None:
        return "-Not found-"
    return x509util.fingerprint(x509util.cert_der(cs.ca_cert), "md5")


def _timers(cs: CertificateServer, pad: str, zone: TimeZone | None) -> list[str]:
    """The CA expiry and CRL timers, once there is a CA certificate and a CRL: in GMT (the
    12.3(14)T guide), or in the router's `clock timezone` (cisco-cs.md 4.1: `HH:MM:SS TZ`;
    chosen: UTC when none is set, as 15.x/XE print `show clock`)."""
    def shown(moment: datetime) -> str:
        if zone is None:
            return format_ios_timer(moment)
        return format_ios_timer(moment + zone.offset).replace(" GMT ", f" {zone.name} ", 1)

    lines = []
    if cs.ca_cert is not None:
        lines.append(f"{pad}CA certificate expiration timer: "
                     + shown(cs.ca_cert.not_valid_after_utc))
    crl = cs.crl
    if crl is not None and crl.next_update_utc is not None:
        lines.append(f"{pad}CRL NextUpdate timer: " + shown(crl.next_update_utc))
    return lines


UTC_ZONE = TimeZone("UTC", 0)
"""`show clock`'s zone on a router without `clock timezone`."""
