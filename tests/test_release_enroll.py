"""The client side of the 15.x and XE profiles: `fingerprint` pinning at `crypto pki
authenticate`, the enroll dialogue a trustpoint answers itself (XE's quiet enrollment),
XE's `%PKI-6-CERT_ENROLL_MANUAL`, and the request database wrapped at 80 columns.

12.3(14)T keeps its output: the shipped goldens pin it byte for byte, and the tests here
that name no release check the lines the later profiles change."""

from __future__ import annotations

import dataclasses

import pytest

from sim.lab import Lab
from sim.pki import x509util
from sim.pki.ca_requests import terminal_wrap
from sim.router import password7

CA_SETUP = """
enable
configure terminal
crypto pki server ca
grant auto
no shutdown
end
"""
TRUSTPOINT = """
enable
configure terminal
crypto pki trustpoint ca
enrollment url http://10.0.0.1
"""


def _lab(release: str | None, *, grant: bool = True) -> Lab:
    """A CA at 10.0.0.1 (12.3T, `grant auto` unless `grant` is False) and r1 on `release`."""
    lab = Lab(seed=5)
    lab.add_router("ca", "10.0.0.1", "ip http server")
    if release is None:
        lab.add_router("r1", "10.0.0.2")
    else:
        lab.add_router("r1", "10.0.0.2", release=release)
    lab.link("ca", "r1")
    setup = CA_SETUP if grant else CA_SETUP.replace("grant auto\n", "")
    lab.type("ca", setup, answers=["capass123", "capass123"])
    return lab


def _ca_fingerprint(lab: Lab, algo: str) -> str:
    ca_cert = lab.router("ca").running.servers["ca"].ca_cert
    assert ca_cert is not None
    return x509util.fingerprint_hex(x509util.cert_der(ca_cert), algo)


# -- fingerprint pinning -------------------------------------------------------------------
@pytest.mark.parametrize("algo", ["md5", "sha1"])
def test_a_matching_fingerprint_accepts_the_ca_without_asking(algo: str) -> None:
    """On XE, a trustpoint `fingerprint` that matches the CA would still ask `Do you accept this
    certificate?` or not print `fingerprints matched` and `accepted`."""
    lab = _lab("XE")
    pinned = _ca_fingerprint(lab, algo)
    typed = " ".join(pinned[i:i + 8] for i in range(0, len(pinned), 8)).lower()
    printed = lab.type("r1", TRUSTPOINT + f"fingerprint {typed}\nexit\n"
                       "crypto pki authenticate ca\nend\n")
    grouped = " ".join(pinned[i:i + 8] for i in range(0, len(pinned), 8))
    at = printed.index(f"Trustpoint Fingerprint: {grouped}")
    assert printed[at - 2].startswith("       Fingerprint MD5: ")  # XE right-aligns
    assert printed[at + 1:at + 3] == ["Certificate validated - fingerprints matched.",
                                      "Trustpoint CA certificate accepted."]
    assert not [line for line in printed if "Do you accept" in line]
    assert lab.router("r1").running.trustpoints["ca"].ca_cert is not None
    assert f" fingerprint {pinned}" in lab.show("r1", "show running-config")


def test_a_wrong_fingerprint_rejects_the_ca_certificate() -> None:
    """A trustpoint `fingerprint` that does not match would accept a CA certificate anyway, and
    enrollment would go on with an untrusted CA."""
    lab = _lab("XE")
    wrong = "0" * 32
    printed = lab.type("r1", TRUSTPOINT + f"fingerprint {wrong}\nexit\n"
                       "crypto pki authenticate ca\ncrypto pki enroll ca\nend\n")
    assert "Trustpoint Fingerprint: 00000000 00000000 00000000 00000000" in printed
    assert ("% The CA certificate's fingerprint does not match the trustpoint fingerprint; "
            "certificate rejected.") in printed
    assert "Trustpoint CA certificate accepted." not in printed
    assert lab.router("r1").running.trustpoints["ca"].ca_cert is None
    assert ("% You must authenticate the Certificate Authority before you can enroll "
            "with it.") in printed


def test_a_fingerprint_that_is_not_md5_or_sha1_hex_is_refused() -> None:
    """A malformed `fingerprint` value would be stored in the trustpoint instead of refused with
    IOS's MD5-or-SHA1 message."""
    lab = _lab("XE")
    printed = lab.type("r1", TRUSTPOINT + "fingerprint 1234XYZ\nend\n")
    assert ("% A fingerprint is the CA certificate's MD5 (32 hex digits) or SHA1 "
            "(40 hex digits) fingerprint.") in printed
    assert lab.router("r1").running.trustpoints["ca"].fingerprint is None


def test_xe_16_17_without_a_fingerprint_still_asks_to_accept() -> None:
    """On XE, `crypto pki authenticate` without a configured fingerprint would skip the `Do you
    accept this certificate?` question."""
    lab = _lab("XE")
    printed = lab.type("r1", TRUSTPOINT + "exit\ncrypto pki authenticate ca\nend\n",
                       answers=["yes"])
    assert "% Do you accept this certificate? [yes/no]: yes" in printed
    assert "Trustpoint CA certificate accepted." in printed


def test_a_release_that_requires_a_fingerprint_refuses_before_asking_the_ca() -> None:
    """On a release that requires a fingerprint, `crypto pki authenticate` without one would
    contact the CA instead of saying it must be supplied."""
    lab = _lab("XE")
    r1 = lab.router("r1")
    r1.release = dataclasses.replace(r1.release, fingerprint_required=True)
    printed = lab.type("r1", TRUSTPOINT + "exit\ncrypto pki authenticate ca\nend\n")
    assert "Trustpoint fingerprint must be supplied" in printed
    assert not [line for line in printed if "Fingerprint MD5" in line]
    assert r1.running.trustpoints["ca"].ca_cert is None


# -- the enroll dialogue a trustpoint answers itself ------------------------------------------
QUIET = """password 7 {password}
serial-number none
ip-address none
subject-name CN=r1,O=Lab
exit
crypto pki authenticate ca
crypto pki enroll ca
end
"""


def _enroll_quietly(release: str, answers: list[str]) -> tuple[Lab, list[str]]:
    lab = _lab(release)
    printed = lab.type("r1", TRUSTPOINT + QUIET.format(password=password7.encode("chal123")),
                       answers=answers)
    lab.run(120)
    return lab, printed


def test_xe_enrolls_quietly_when_the_trustpoint_answers_every_question() -> None:
    """On XE, a trustpoint that sets password, serial-number, ip-address and subject-name would
    still prompt, or the enroll output and `%PKI-6-CERT_ENROLL_MANUAL` would differ."""
    lab, printed = _enroll_quietly("XE", ["yes"])
    # The key is made as the request is: `%CRYPTO-6-AUTOGEN` and XE's
    # `%CRYPTO_ENGINE-5-KEY_ADDITION` come among these lines.
    printed = [line for line in printed
               if "%CRYPTO-6-AUTOGEN" not in line and "KEY_ADDITION" not in line]
    start = printed.index("% Start certificate enrollment ..")
    assert printed[start - 1:start + 7] == [
        "%",
        "% Start certificate enrollment ..",
        "",
        "% The subject name in the certificate will include: CN=r1,O=Lab",
        "% The subject name in the certificate will include: r1",
        "% Certificate request sent to Certificate Authority",
        "% The 'show crypto pki certificate verbose ca' commandwill show the fingerprint.",
        printed[start + 6],
    ]
    assert printed[start + 6].endswith(
        "%PKI-6-CERT_ENROLL_MANUAL: Manual enrollment for trustpoint ca")
    assert not [line for line in printed
                if "Password:" in line or ("[yes/no]" in line and "accept" not in line)]
    requests = "\n".join(lab.show("ca", "crypto pki server ca info requests"))
    assert "hostname=r1,cn=r1,o=Lab" in requests
    assert "serialNumber=" not in requests and "ipaddress=" not in requests
    assert lab.router("r1").running.trustpoints["ca"].id_cert is not None


def test_15_x_still_asks_to_send_a_request_the_trustpoint_answered() -> None:
    """On 15.x a fully configured trustpoint would skip `Request certificate from CA?`, prompt
    for a password, or log XE's CERT_ENROLL_MANUAL."""
    _lab_, printed = _enroll_quietly("15.x", ["yes", "yes"])
    assert "Request certificate from CA? [yes/no]: yes" in printed
    assert "Password:" not in printed
    assert not [line for line in printed if "CERT_ENROLL_MANUAL" in line]


def test_configured_serial_number_and_address_go_into_the_request() -> None:
    """Trustpoint `serial-number` and `ip-address` would not reach the request, would still be
    asked, or the password would show in clear in the running config."""
    lab = _lab("15.x")
    printed = lab.type("r1", TRUSTPOINT + "serial-number\nip-address Ethernet0/0\n"
                       "password chal123\nexit\ncrypto pki authenticate ca\n"
                       "crypto pki enroll ca\nend\n", answers=["yes", "yes"])
    serial = lab.router("r1").serial_number
    assert f"% The serial number in the certificate will be: {serial}" in printed
    assert not [line for line in printed if "Include" in line or "Enter Interface" in line]
    lab.run(120)
    requests = "\n".join(lab.show("ca", "crypto pki server ca info requests"))
    assert f"serialNumber={serial}+ipaddress=10.0.0.2+hostname=r1" in requests
    config = lab.show("r1", "show running-config")
    assert " serial-number" in config and " ip-address Ethernet0/0" in config
    assert f" password 7 {password7.encode('chal123')}" in config
    assert not [line for line in config if "chal123" in line]


def test_a_bad_configured_address_is_refused() -> None:
    """A trustpoint `ip-address` that is not an address or interface would be stored instead of
    refused with `% Bad interface or address.`."""
    lab = _lab("15.x")
    printed = lab.type("r1", TRUSTPOINT + "ip-address 10.0.0.300\nend\n")
    assert "% Bad interface or address." in printed
    assert lab.router("r1").running.trustpoints["ca"].ip_address is None


def test_12_3_t_logs_no_manual_enrollment_syslog() -> None:
    """12.3(14)T enrollment would print XE's `%PKI-6-CERT_ENROLL_MANUAL`, breaking the
    byte-for-byte 12.3T transcripts."""
    lab = _lab(None)
    printed = lab.type("r1", TRUSTPOINT + "exit\ncrypto pki authenticate ca\n"
                       "crypto pki enroll ca\nend\n", answers=["yes", "pw", "pw", "no",
                                                               "no", "yes"])
    assert "% Certificate request sent to Certificate Authority" in printed
    assert not [line for line in printed if "CERT_ENROLL_MANUAL" in line]


# -- the request database at 80 columns -------------------------------------------------------
def test_terminal_wrap_cuts_at_the_width_from_column_0() -> None:
    """Long lines in request listings would be wrapped at the wrong column, or wrapped when no
    width applies."""
    assert terminal_wrap("x" * 80, 80) == ["x" * 80]
    assert terminal_wrap("x" * 81 + "yz", 80) == ["x" * 80, "xyz"]
    assert terminal_wrap("x" * 200, None) == ["x" * 200]


@pytest.mark.parametrize("release, wrapped", [(None, False), ("15.x", True), ("XE", True)])
def test_long_request_rows_wrap_at_80_columns_on_later_releases(
        release: str | None, wrapped: bool) -> None:
    """In `show crypto pki server ca requests`, long rows would not wrap at 80 columns on 15.x
    and XE, or would wrap on 12.3T."""
    lab = Lab(seed=6)
    if release is None:
        lab.add_router("ca", "10.0.0.1", "ip http server")
    else:
        lab.add_router("ca", "10.0.0.1", "ip http server", release=release)
    lab.add_router("r1", "10.0.0.2")
    lab.link("ca", "r1")
    lab.type("ca", CA_SETUP.replace("grant auto\n", ""), answers=["capass123", "capass123"])
    lab.type("r1", TRUSTPOINT + "subject-name CN=r1.lab.example.com,OU=VPN,O=Example\n"
             "exit\ncrypto pki authenticate ca\ncrypto pki enroll ca\nend\n",
             answers=["yes", "pw", "pw", "yes", "yes", "10.9.8.7", "yes"])
    lab.run(30)
    listing = lab.show("ca", "show crypto pki server ca requests")
    fingerprint = lab.router("ca").running.servers["ca"].requests.get(1).fingerprint
    row = next(i for i, line in enumerate(listing) if fingerprint in line)
    whole = (f"1      pending    {fingerprint} serialNumber="
             f"{lab.router('r1').serial_number}+ipaddress=10.9.8.7+hostname=r1,"
             "cn=r1.lab.example.com,ou=VPN,o=Example")
    if wrapped:
        assert listing[row:row + 2] == [whole[:80], whole[80:160]]
        assert len(listing[row]) == 80
    else:
        assert listing[row] == whole
