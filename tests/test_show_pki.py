"""The PKI show commands of issue 10, as an operator at the console sees them:
`show crypto pki timers [detail]`, `show crypto pki server NAME certificates|crl`, `show` in
cs-server mode and `show crypto pki trustpoints [NAME] status`."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from sim.lab import Lab
from sim.router.show_pki import format_remaining

ENROLL = """
    enable
    configure terminal
    crypto pki trustpoint ca
    enrollment url http://10.0.0.1
    exit
    crypto pki authenticate ca
    crypto pki enroll ca
    end
"""
ENROLL_ANSWERS = ["yes", "pw", "pw", "no", "no", "yes"]


def _lab(*cs_settings: str) -> Lab:
    """A CA `ca` (manual grant unless told otherwise) and a client `r1`, not yet enrolled."""
    lab = Lab(seed=7)
    lab.add_router("ca", "10.0.0.1", "ip http server")
    lab.add_router("r1", "10.0.0.2")
    lab.link("ca", "r1")
    lab.type("ca", ["enable", "configure terminal", "crypto pki server ca", *cs_settings,
                    "no shutdown", "end"], answers=["cisco123", "cisco123"])
    return lab


MEMBER = re.compile(r"  \|\s*(\S+)  (?:\(\S+Z\) )?(.+)")
"""A member line: `  |<remaining right-aligned>  [(<ISO time>) ]<label>`."""


def _timer(lines: list[str], label: str) -> str:
    """The remaining time shown on a member line of `show crypto pki timers`."""
    for line in lines:
        found = MEMBER.fullmatch(line)
        if found and found.group(2) == label:
            return found.group(1)
    raise AssertionError(f"no timer {label!r} in {lines}")


def _seconds(remaining: str) -> float:
    days, _, clock = remaining.rpartition("d")
    parts = [float(p) for p in clock.split(":")]
    seconds = sum(value * 60 ** i for i, value in enumerate(reversed(parts)))
    return (int(days) if days else 0) * 86400 + seconds


@pytest.fixture(scope="module")
def pending() -> Lab:
    """r1 has asked `ca` for a certificate the operator has not granted yet."""
    lab = _lab()
    lab.type("r1", ENROLL, ENROLL_ANSWERS)
    return lab


def test_the_timers_of_a_server_and_a_waiting_client_count_down(pending: Lab) -> None:
    """`show crypto pki timers` on the CA or a waiting client would show the wrong timers, order or
    remaining times."""
    ca = pending.show("ca", "show crypto pki timers")
    assert ca[0] == "CS Timers"
    assert ca[1].startswith("|") and not ca[1].startswith("  ")
    # A fresh 12.3(14)T server: CRL every 168 h, CA certificate for 1095 days, and the
    # request kept for `lifetime enrollment-request` (168 h).
    assert _timer(ca, "CS CRL UPDATE").startswith("6d23:")
    assert _timer(ca, "CS CERT EXPIRE").startswith("1094d23:")
    assert _timer(ca, "ER EXPIRE 1").startswith("6d23:")
    # The group's first line repeats its earliest member, and members come earliest first.
    members = [MEMBER.fullmatch(line) for line in ca[2:]]
    remaining = [_seconds(m.group(1)) for m in members if m]
    assert len(remaining) == 3 and remaining == sorted(remaining)
    assert ca[1][1:].strip() == _timer(ca, "CS CRL UPDATE")
    r1 = pending.show("r1", "show crypto pki timers")
    assert r1[:2] == ["PKI Timers", "|" + _timer(r1, "POLL ca").rjust(12)]
    assert _seconds(_timer(r1, "POLL ca")) <= 60  # `enrollment retry period` 1 minute


def test_a_timer_shows_less_time_left_as_time_passes() -> None:
    """`show crypto pki timers` would not count down as simulated time passes."""
    lab = _lab()
    before = lab.show("ca", "show crypto pki timers")
    lab.run(3600)
    after = lab.show("ca", "show crypto pki timers")
    for label in ("CS CRL UPDATE", "CS CERT EXPIRE"):
        gone = _seconds(_timer(before, label)) - _seconds(_timer(after, label))
        assert gone == pytest.approx(3600, abs=0.01)
    assert _timer(after, "CS CRL UPDATE").startswith("6d22:")


def test_timer_detail_adds_when_each_timer_falls_due(pending: Lab) -> None:
    """`show crypto pki timer detail` would not add the date each timer falls due, or plain timers
    would show it."""
    plain = pending.show("ca", "show crypto pki timers")
    detail = pending.show("ca", "show crypto pki timer detail")
    assert len(detail) == len(plain)
    assert not any("Z)" in line for line in plain)
    expiry = next(line for line in detail if line.endswith("CS CERT EXPIRE"))
    cert = pending.routers["ca"].running.servers["ca"].ca_cert
    assert cert is not None
    assert f"({cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%S}Z) CS CERT EXPIRE" in expiry


def test_trustpoint_status_while_the_request_waits(pending: Lab) -> None:
    """`show crypto pki trustpoints status` would not show the keys, the authenticated CA and a
    Pending request while waiting."""
    status = pending.show("r1", "show crypto pki trustpoints status")
    assert status[:3] == ["Trustpoint ca:", "  Issuing CA certificate configured:",
                          "    Subject Name:"]
    assert "  Router General Purpose certificate configured:" not in status
    assert "    Keys generated ............. Yes (General Purpose, non-exportable)" in status
    assert "    Issuing CA authenticated ....... Yes" in status
    assert "    Certificate request(s) ..... Pending" in status
    assert pending.show("r1", "show crypto pki trustpoints ca status") == status
    assert pending.show("r1", "show crypto pki trustpoints other status") == []


def test_trustpoint_status_before_authenticate_and_after_the_grant() -> None:
    """`show crypto pki trustpoints status` would be wrong before authenticating or after the grant,
    or client timers would linger."""
    lab = _lab()
    out = lab.type("r1", ["enable", "show crypto pki trustpoints status", "configure terminal",
                          "crypto pki trustpoint ca", "enrollment url http://10.0.0.1",
                          "end", "show crypto pki trustpoints status"])
    # `status` is a keyword: with no trustpoint there is nothing to show, not a
    # trustpoint called "status".
    assert out[1:3] == ["r1#show crypto pki trustpoints status", "r1#configure terminal"]
    shown = out[out.index("r1#show crypto pki trustpoints status", 2) + 1:]
    assert shown[:5] == ["Trustpoint ca:", "  State:",
                         "    Keys generated ............. No",
                         "    Issuing CA authenticated ....... No",
                         "    Certificate request(s) ..... No"]
    lab.type("r1", ENROLL, ENROLL_ANSWERS)
    lab.type("ca", "crypto pki server ca grant all")
    lab.run(120)
    status = lab.show("r1", "show crypto pki trustpoints status")
    cert = lab.routers["r1"].running.trustpoints["ca"].id_cert
    assert cert is not None
    at = status.index("  Router General Purpose certificate configured:")
    assert status[at + 1:at + 3] == ["    Subject Name:", "     hostname=r1"]
    assert status[at + 3].startswith("    Fingerprint MD5: ")
    assert "    Certificate request(s) ..... Yes" in status
    # The client's timers are spent once the certificate is in.
    assert lab.show("r1", "show crypto pki timers") == []


def test_the_server_lists_the_certificates_it_keeps_and_its_crl_after_a_revoke() -> None:
    """`show crypto pki server ca certificates` and `... crl` would not list issued certificates or
    a revoked serial."""
    lab = _lab("database level complete")
    lab.type("r1", ENROLL.replace("exit", "auto-enroll 50\n    exit"), ENROLL_ANSWERS)
    lab.type("ca", "crypto pki server ca grant all")
    lab.run(120)
    # `auto-enroll 50` on a one-year certificate: IOS's RENEW timer, half a year ahead.
    renew = _timer(lab.show("r1", "show crypto pki timers"), "RENEW ca")
    assert renew.startswith(("182d", "181d"))
    listing = lab.show("ca", "show crypto pki server ca certificates")
    assert listing[0] == ("Serial Issued date              Expire date              "
                          "Subject Name")
    assert [line.split()[0] for line in listing[1:]] == ["1", "2"]
    assert listing[1].endswith(" cn=ca") and listing[2].endswith(" hostname=r1")
    issued = lab.routers["r1"].running.trustpoints["ca"].id_cert
    assert issued is not None
    assert re.match(rf"2 +{issued.not_valid_before_utc:%H:%M:%S} GMT ", listing[2])
    out = lab.type("ca", ["crypto pki server ca revoke 0x2", "show crypto pki server ca crl"])
    assert "% Certificate 02 succesfully revoked." in out
    crl = out[out.index("ca#show crypto pki server ca crl") + 1:]
    assert crl[0] == "Certificate Revocation List:"
    assert "    Number of CRL entries: 1" in crl
    assert crl[-2:][0] == "    Serial Number (hex): 02"
    assert lab.show("ca", "show crypto pki server other certificates") == [
        "Certificate server 'other' is not known"]


def test_at_database_level_minimum_only_the_ca_certificate_is_listed(pending: Lab) -> None:
    """At `database level minimum`, `show crypto pki server ca certificates` would list certificates
    IOS does not keep."""
    listing = pending.show("ca", "show crypto pki server ca certificates")
    assert len(listing) == 2 and listing[1].startswith("1 ")


def test_show_in_cs_server_mode_lists_the_settings_with_their_defaults() -> None:
    """`show` in cs-server config mode would not list the server's settings and defaults the way IOS
    does."""
    lab = Lab(seed=7)
    lab.add_router("ca", "10.0.0.1", "ip http server")
    out = lab.type("ca", ["enable", "configure terminal", "crypto pki server ca", "show",
                          "grant auto", "lifetime crl 1 30", "no database archive",
                          "no shutdown", "show"], answers=["cisco123", "cisco123"])
    first = out.index("ca(cs-server)#show")
    assert out[first + 1:first + 9] == [
        " serial-number 0x0",
        " database level minimum",
        " database archive pkcs12",  # 12.3(14)T's default
        " issuer-name CN=ca",
        " lifetime crl 168",
        " lifetime certificate 365",
        " lifetime ca-certificate 1095",
        " lifetime enrollment-request 168",
    ]
    last = len(out) - 1 - out[::-1].index("ca(cs-server)#show")
    assert out[last + 1:last + 10] == [
        " serial-number 0x1",
        " database level minimum",
        " no database archive",
        " issuer-name CN=ca",
        " grant auto",
        " lifetime crl 1 30",
        " lifetime certificate 365",
        " lifetime ca-certificate 1095",
        " lifetime enrollment-request 168",
    ]


@pytest.mark.parametrize(("left", "text"), [
    (timedelta(days=1094, hours=23, minutes=34, seconds=30.81), "1094d23:34:30.810"),
    (timedelta(hours=5, minutes=54, seconds=30.81), "5:54:30.810"),
    (timedelta(minutes=4, seconds=2.5), "4:02.500"),
    (timedelta(seconds=9.984), "9.984"),
    (timedelta(seconds=-1), "0.000"),
])
def test_remaining_time_reads_as_ios_prints_it(left: timedelta, text: str) -> None:
    """Remaining times in `show crypto pki timers` would not read as IOS prints them, such as
    `1094d23:34:30.810` or `4:02.500`."""
    assert format_remaining(left).strip() == text
