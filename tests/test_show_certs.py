"""The client's view of its certificates, per release (issue 10): `show crypto pki
certificates [verbose]` with the pending request and the Name/IP Address/Serial Number the
enroll answers asked for, and `show crypto pki crls` after `crypto pki crl request`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sim.lab import Lab
from sim.router import show_certs
from sim.router.state import Trustpoint

ENROLL = """
    enable
    configure terminal
    ip domain name lab.test
    crypto pki trustpoint ca
    enrollment url http://10.0.0.1
    exit
    crypto pki authenticate ca
    crypto pki enroll ca
    end
"""
# Accept the CA, challenge twice, serial number yes, IP address yes and which, send.
ENROLL_ANSWERS = ["yes", "pw", "pw", "yes", "yes", "10.0.0.2", "yes"]


@dataclass
class Views:
    """What `r1` showed at each step of one lab run in one release."""

    lab: Lab
    enroll: list[str]
    pending: list[str]
    granted: list[str]
    verbose: list[str]
    verbose_named: list[str]
    crls_before: list[str]
    crls: list[str]
    fetched_between: tuple[datetime, datetime]
    """r1's clock when `crypto pki crl request` was typed and when it was done."""


def _run(release: str) -> Views:
    lab = Lab(seed=7)
    lab.add_router("ca", "10.0.0.1", "ip http server", release=release)
    lab.add_router("r1", "10.0.0.2", release=release)
    lab.link("ca", "r1")
    lab.type("ca", ["enable", "configure terminal", "crypto pki server ca", "no shutdown",
                    "end"], answers=["cisco123", "cisco123"])
    enroll = lab.type("r1", ENROLL, ENROLL_ANSWERS)
    pending = lab.show("r1", "show crypto pki certificates")
    lab.type("ca", ["crypto pki server ca grant all"])
    lab.run(120)  # the client's next poll (retry period 1 minute) collects it
    granted = lab.show("r1", "show crypto pki certificates")
    verbose = lab.show("r1", "show crypto pki certificates verbose")
    verbose_named = lab.show("r1", "show crypto pki certificates ca verbose")
    crls_before = lab.show("r1", "show crypto pki crls")
    lab.type("ca", ["crypto pki server ca revoke 2"])
    lab.run(30)
    typed = lab.routers["r1"].clock.now()
    lab.type("r1", ["configure terminal", "crypto pki crl request ca", "end"])
    done = lab.routers["r1"].clock.now()
    return Views(lab, enroll, pending, granted, verbose, verbose_named, crls_before,
                 lab.show("r1", "show crypto pki crls"), (typed, done))


@pytest.fixture(scope="module", params=["15.x", "XE"])
def later(request: pytest.FixtureRequest) -> Views:
    return _run(request.param)


@pytest.fixture(scope="module")
def classic() -> Views:
    return _run("12.3(14)T")


def _ios(moment: datetime) -> str:
    """`09:00:00 UTC Mar 1 2024`, 15.x's date form (cisco-client-docs.md 4.1)."""
    return f"{moment:%H:%M:%S} UTC {moment:%b} {moment.day} {moment.year}"


def _block(lines: list[str], title: str) -> list[str]:
    """The entry that starts with `title` and ends at the blank line."""
    start = lines.index(title)
    return lines[start:lines.index("", start)]


def _console_fingerprints(enroll: list[str]) -> tuple[str, str]:
    found = {}
    for line in enroll:
        match = re.search(r"CRYPTO_PKI:  Certificate Request Fingerprint (MD5|SHA1): (.+)$",
                          line)
        if match:
            found[match.group(1)] = match.group(2)
    return found["MD5"], found["SHA1"]


def test_the_pending_request_shows_what_the_enroll_answers_asked_for(later: Views) -> None:
    """While a request waits, `show crypto pki certificates` would not show the Name, IP Address,
    Serial Number and fingerprints asked for."""
    serial = later.lab.routers["r1"].serial_number
    md5, sha1 = _console_fingerprints(later.enroll)
    assert _block(later.pending, "Certificate") == [
        "Certificate",
        "  Subject:",
        "    Name: r1.lab.test",
        "    IP Address: 10.0.0.2",
        f"    Serial Number: {serial}",
        "  Status: Pending",
        "  Key Usage: General Purpose",
        f"  Certificate Request Fingerprint MD5: {md5} ",
        f"  Certificate Request Fingerprint SHA1: {sha1} ",
        "  Associated Trustpoint: ca",
    ]
    # The CA certificate, already authenticated, follows.
    assert "CA Certificate" in later.pending


def test_the_granted_certificate_in_the_15_layout(later: Views) -> None:
    """After the grant, `show crypto pki certificates` on 15.x would not match IOS's layout (serial,
    issuer, subject, dates, storage)."""
    r1 = later.lab.routers["r1"]
    cert = r1.running.trustpoints["ca"].id_cert
    assert cert is not None
    block = _block(later.granted, "Certificate")
    assert block[:10] == [
        "Certificate",
        "  Status: Available",
        "  Certificate Serial Number (hex): 02",
        "  Certificate Usage: General Purpose",
        "  Issuer: ",
        "    cn=ca",
        "  Subject:",
        "    Name: r1.lab.test",
        "    IP Address: 10.0.0.2",
        f"    Serial Number: {r1.serial_number}",
    ]
    assert block[10] == (f"    serialNumber={r1.serial_number}+ipaddress=10.0.0.2"
                         "+hostname=r1.lab.test")
    assert block[11:14] == [
        "  Validity Date: ",
        f"    start date: {_ios(cert.not_valid_before_utc)}",
        f"    end   date: {_ios(cert.not_valid_after_utc)}",
    ]
    assert block[14:] == ["  Associated Trustpoints: ca ", "  Storage: nvram:ca#2.cer"]
    ca_block = _block(later.granted, "CA Certificate")
    assert ca_block[1:4] == ["  Status: Available", "  Certificate Serial Number (hex): 01",
                             "  Certificate Usage: Signature"]
    assert ca_block[-1] == "  Storage: nvram:ca#1CA.cer"
    assert not any("Pending" in line for line in later.granted)


def test_the_storage_line_names_the_file_write_memory_saves(later: Views) -> None:
    """The `Storage: nvram:` line of `show crypto pki certificates` would name a file that
    `write memory` does not save."""
    later.lab.type("r1", ["write memory"])
    saved = later.lab.routers["r1"].nvram.files()
    for line in later.granted:
        if line.startswith("  Storage: nvram:"):
            assert line.removeprefix("  Storage: nvram:") in saved


def test_verbose_adds_key_signature_fingerprints_and_extensions(later: Views) -> None:
    """`show crypto pki certificates verbose` would miss the key, signature, fingerprint or X509v3
    extension lines."""
    tp = later.lab.routers["r1"].running.trustpoints["ca"]
    assert tp.id_cert is not None and tp.ca_cert is not None
    assert later.verbose_named == later.verbose
    block = _block(later.verbose, "Certificate")
    sha1 = tp.id_cert.fingerprint(hashes.SHA1()).hex().upper()
    grouped = " ".join(sha1[i:i + 8] for i in range(0, 40, 8))
    assert "  Version: 3" in block
    assert "    Public Key Algorithm: rsaEncryption" in block
    assert f"    RSA Public Key: ({tp.id_cert.public_key().key_size} bit)" in block  # type: ignore[union-attr]
    assert "  Signature Algorithm: SHA256 with RSA Encryption" in block
    assert f"  Fingerprint SHA1: {grouped} " in block
    usage = block.index("    X509v3 Key Usage: A0000000")
    assert block[usage + 1:usage + 3] == ["      Digital Signature", "      Key Encipherment"]
    assert not any("Basic Constraints" in line for line in block)
    ca_block = _block(later.verbose, "CA Certificate")
    assert "    X509v3 Key Usage: 86000000" in ca_block
    assert ca_block[ca_block.index("    X509v3 Basic Constraints:") + 1] == "        CA: TRUE"
    # The plain listing has none of it.
    assert not any("Fingerprint" in line or "X509v3" in line for line in later.granted)


def test_crls_shows_the_fetched_crl_with_its_times_and_source(later: Views) -> None:
    """`show crypto pki crls` after `crypto pki crl request` would show wrong update times, source,
    size or revoked serials."""
    assert later.crls_before == []
    tp = later.lab.routers["r1"].running.trustpoints["ca"]
    assert tp.crl is not None
    assert tp.crl.next_update_utc is not None
    # 15.x and XE publish a CRL every 6 hours by default (cisco-cs.md 19).
    assert (tp.crl.next_update_utc - tp.crl.last_update_utc).total_seconds() == 6 * 3600
    assert later.crls[:6] == [
        "CRL Issuer Name: ",
        "    cn=ca",
        f"    LastUpdate: {_ios(tp.crl.last_update_utc)}",
        f"    NextUpdate: {_ios(tp.crl.next_update_utc)}",
        "    Retrieved from CRL Distribution Point: ",
        "      ** CDP Not Published - Retrieved via SCEP",
    ]
    downloaded = later.crls[6].removeprefix("    CRL downloaded at: ")
    when = datetime.strptime(downloaded, "%H:%M:%S UTC %b %d %Y").replace(tzinfo=UTC)
    typed, done = later.fetched_between
    assert typed.replace(microsecond=0) <= when <= done
    assert later.crls[7].startswith("    CRL size is ") and later.crls[7].endswith(" bytes")
    assert "    Revoked Certificates:" in later.crls
    (entry,) = list(tp.crl)
    revoked = later.crls.index("      Serial Number (hex): 02")
    assert later.crls[revoked + 1] == f"        Revocation Date: {_ios(entry.revocation_date_utc)}"
    assert later.crls[-2:] == ["    Associated Trustpoints: ca ", ""]


def test_dates_follow_the_configured_time_zone() -> None:
    """Certificate dates in `show crypto pki certificates` would stay in UTC instead of following
    `clock timezone`."""
    lab = Lab(seed=3)
    lab.add_router("ca", "10.0.0.1", "ip http server", release="15.x")
    lab.add_router("r1", "10.0.0.2", "clock timezone MSK 3 0", release="15.x")
    lab.link("ca", "r1")
    lab.type("ca", ["enable", "configure terminal", "crypto pki server ca", "no shutdown",
                    "end"], answers=["cisco123", "cisco123"])
    lab.type("r1", """
        enable
        configure terminal
        crypto pki trustpoint ca
        enrollment url http://10.0.0.1
        end
    """)
    lab.type("r1", ["configure terminal", "crypto pki authenticate ca", "end"], ["yes"])
    cert = lab.routers["r1"].running.trustpoints["ca"].ca_cert
    assert cert is not None
    start = cert.not_valid_before_utc
    local = f"{(start.hour + 3) % 24:02d}:{start:%M:%S} MSK"
    assert any(line.startswith(f"    start date: {local}")
               for line in lab.show("r1", "show crypto pki certificates"))


def test_12_3_keeps_its_own_layout(classic: Views) -> None:
    """On 12.3, `show crypto pki certificates` and `show crypto pki crls` would use the later
    releases' layout instead of 12.3's."""
    r1 = classic.lab.routers["r1"]
    md5, _sha1 = _console_fingerprints(classic.enroll)
    assert _block(classic.pending, "Certificate")[:4] == [
        "Certificate", "  Status: Pending", "  Key Usage: General Purpose",
        f"  Certificate Request Fingerprint MD5: {md5.replace(' ', '')}"]
    block = _block(classic.granted, "Certificate")
    assert block[2] == "  Certificate Serial Number: 02"
    assert block[6:8] == [
        "  Subject: ",
        f"    serialNumber={r1.serial_number}+ipaddress=10.0.0.2+hostname=r1.lab.test"]
    assert block[-1] == "  Associated Trustpoints: ca "
    assert not any(line.startswith(("  Storage:", "    Name:")) for line in classic.granted)
    # verbose adds the same key/signature/fingerprint lines as the later releases'.
    verbose = _block(classic.verbose, "Certificate")
    assert "    RSA Public Key: (1024 bit)" in verbose
    assert "    X509v3 Key Usage: A0000000" in verbose
    assert classic.verbose_named == classic.verbose
    assert classic.crls[0] == "CRL Issuer Name: "
    assert "    Associated Trustpoints: ca " in classic.crls


def test_a_certificate_with_a_cdp_lists_its_distribution_points() -> None:
    """pkilab's CS writes no CDP (no `cdp-url` yet), but a CA reached over the SCEP bridge
    may: 4.1 lists its URLs between Subject and Validity Date."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Root CA")])
    start = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(start).not_valid_after(start.replace(year=2025))
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier("http://10.1.1.1/ROOTCA.crl")],
                None, None, None)]), critical=False)
            .sign(key, hashes.SHA256()))
    lines = show_certs.entries_15(Trustpoint("tp", ca_cert=cert), False, None)
    assert lines[4:14] == [
        "  Issuer: ", "    cn=Root CA", "    o=Lab",
        "  Subject:", "    cn=Root CA", "    o=Lab",
        "  CRL Distribution Points: ", "    http://10.1.1.1/ROOTCA.crl",
        "  Validity Date: ", "    start date: 09:00:00 UTC Mar 1 2024",
    ]
    assert lines[-2] == "  Storage: nvram:RootCA#1CA.cer"
