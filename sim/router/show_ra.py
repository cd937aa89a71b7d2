"""`show crypto pki server` for a server in RA mode, in each release's layout.

cisco-cs.md 13 [V-cisco T-22]: an RA's block says `Server configured in RA mode`, shows
`RA cert fingerprint:`, `Granting mode is:` and the storage lines, and has no serial
number, CA expiry or CRL timers (an RA issues nothing and publishes no CRL).

chosen (no capture shows a whole RA block): the lines common to every server keep their
order and wording from `show_cs`; `CA cert fingerprint` is the issuing CA's (the
certificate the RA's trustpoint authenticated), and the RA mode line and the RA
certificate's fingerprint follow it where a subordinate prints its `Upper CA` line;
`RA cert fingerprint` is left out until the RA certificate has come.
"""

from __future__ import annotations

from cryptography import x509

from sim.pki import x509util
from sim.pki.cs_server import DATABASE_LEVELS, CertificateServer
from sim.pki.grant_rules import granting_mode
from sim.router.show_cs_opening import opening_12_3, opening_15


def _md5(cert: x509.Certificate | None) -> str:
    if cert is None:
        return "-Not found-"
    return x509util.fingerprint(x509util.cert_der(cert), "md5")


def _middle(cs: CertificateServer, pad: str) -> list[str]:
    cfg = cs.config
    lines = [f"{pad}Issuer name: {cfg.effective_issuer_name}",
             f"{pad}CA cert fingerprint: {_md5(cs.upper_ca_cert)}",
             f"{pad}Server configured in RA mode"]
    if cs.ca_cert is not None:
        lines.append(f"{pad}RA cert fingerprint: {_md5(cs.ca_cert)}")
    lines.append(f"{pad}Granting mode is: {granting_mode(cfg.grant, cfg.grant_trustpoints)}")
    return lines


def ra_block_12_3(cs: CertificateServer) -> list[str]:
    """The 12.3T layout: two-space indent, no `State:` line, `Current storage dir:`."""
    lines = opening_12_3(cs)
    lines += _middle(cs, "  ")
    lines.append(f"  Current storage dir: {cs.config.database_url}")
    lines.append(f"  Database Level: {DATABASE_LEVELS[cs.config.database_level]}")
    return lines


def ra_block_15(cs: CertificateServer) -> list[str]:
    """The 15.x / IOS-XE layout (cisco-cs.md 4.1): four-space indent, `State:`, the lock
    line with two spaces, `Current primary storage dir:`."""
    pad = "    "
    lines = opening_15(cs, pad)
    lines += _middle(cs, pad)
    lines.append(f"{pad}Current primary storage dir: {cs.config.database_url}")
    lines.append(f"{pad}Database Level: {DATABASE_LEVELS[cs.config.database_level]}")
    return lines
