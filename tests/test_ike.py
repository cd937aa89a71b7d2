"""IKE peers that authenticate with their certificates: the path validator
(`sim.pki.cert_path`), the signatures, and routers bringing tunnels up by traffic."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from sim.lab import Lab
from sim.pki import x509util
from sim.pki.cert_path import CrlAnswer, MapRule, Problem, Revocation, map_matches, validate
from sim.pki.keys import KeySource
from sim.pki.revocation_methods import RevocationMethod as M
from sim.router import ike
from sim.scenario.ike_watch import check_no_revoked_accepted

NONE = (M.NONE,)
CRL = (M.CRL,)
CRL_NONE = (M.CRL, M.NONE)
"""`revocation-check none`, `crl` and `crl none`."""

T0 = datetime(2005, 1, 6, 21, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class Pki:
    """A root, two sub-CAs under it, and a router certificate under each sub-CA."""

    def __init__(self) -> None:
        keys = KeySource(14, Path(os.environ["PKILAB_KEY_CACHE"]))
        self.keys = {n: keys.get(f"ike-test/{n}", 1024) for n in ("root", "s1", "s2", "r1", "r2")}
        self.root = x509util.make_ca_certificate(self.keys["root"], _name("root"), 1, T0,
                                                 T0 + 1000 * DAY)
        self.s1 = self.sub("s1", 2, T0 + 300 * DAY)
        self.s2 = self.sub("s2", 3, T0 + 10 * DAY)
        self.r1 = self.leaf("r1", self.s1, "s1", 2, T0 + 300 * DAY)
        self.r2 = self.leaf("r2", self.s2, "s2", 2, T0 + 10 * DAY)

    def sub(self, name: str, serial: int, end: datetime) -> x509.Certificate:
        return x509util.issue_certificate(self.keys["root"], self.root,
                                          self.keys[name].public_key(), _name(name), serial,
                                          T0, end, ca=True)

    def leaf(self, name: str, ca: x509.Certificate, ca_name: str, serial: int,
             end: datetime) -> x509.Certificate:
        return x509util.issue_certificate(self.keys[ca_name], ca, self.keys[name].public_key(),
                                          _name(name), serial, T0, end)

    def crl(self, ca: str, revoked: tuple[int, ...] = (), at: datetime = T0 + DAY
            ) -> x509.CertificateRevocationList:
        cert = {"s1": self.s1, "s2": self.s2}[ca]
        return x509util.make_crl(self.keys[ca], cert, at, at + DAY,
                                 [(serial, at) for serial in revoked])


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


# -- the validator ---------------------------------------------------------------------------
def test_a_peer_under_another_sub_ca_of_the_same_root_is_accepted(pki: Pki) -> None:
    """Two sites enrolled under different sub-CAs of one root could not build a tunnel: the peer's
    chain (its certificate and sub-CA) would not be followed up to the root this router trusts."""
    result = validate(pki.r2, [pki.s2], [pki.s1, pki.root], T0 + DAY, NONE, {})
    assert result.accepted
    assert [c.subject for c in result.chain] == [pki.r2.subject, pki.s2.subject, pki.root.subject]
    assert result.revocation is Revocation.SKIPPED


def test_an_unknown_ca_or_a_forged_link_is_refused(pki: Pki) -> None:
    """A peer certificate from a CA the router never authenticated, or a sub-CA certificate not
    really signed by the root, would be accepted."""
    alone = validate(pki.r2, [], [pki.s1], T0 + DAY, NONE, {})
    assert not alone.accepted and alone.reasons[0].problem is Problem.UNTRUSTED
    forged = x509util.issue_certificate(pki.keys["s2"], pki.s2, pki.keys["s2"].public_key(),
                                        _name("s2"), 9, T0, T0 + DAY, ca=True)
    result = validate(pki.r2, [forged], [pki.root], T0 + DAY, NONE, {})
    assert not result.accepted
    assert result.reasons[0].problem in (Problem.UNTRUSTED, Problem.BAD_SIGNATURE)


def test_validity_is_judged_at_the_routers_own_clock_from_the_top_of_the_chain(pki: Pki) -> None:
    """An unset clock (1993) would let a peer in, or an expired sub-CA would be reported as the
    router certificate it cut short instead of as the sub-CA."""
    early = validate(pki.r2, [pki.s2], [pki.root], datetime(1993, 3, 1, tzinfo=UTC),
                     NONE, {})
    assert not early.accepted and early.reasons[0].problem is Problem.NOT_YET_VALID
    late = validate(pki.r2, [pki.s2], [pki.root], T0 + 11 * DAY, NONE, {})
    assert [(r.problem, r.subject) for r in late.reasons] == [
        (Problem.EXPIRED, "cn=s2"), (Problem.EXPIRED, "cn=r2")]
    edge = validate(pki.r2, [pki.s2], [pki.root], pki.r2.not_valid_after_utc, NONE, {})
    assert edge.accepted  # "valid if time is at or between them (boundaries inclusive)"


def test_revocation_follows_the_trustpoints_methods(pki: Pki) -> None:
    """A revoked peer would be accepted by `revocation-check crl`, or an unobtainable CRL would
    not fail `crl` alone while `crl none` accepts, or a CRL from the wrong CA would be trusted."""
    now = T0 + DAY
    listed = {0: CrlAnswer(pki.crl("s2", (2,)))}
    revoked = validate(pki.r2, [pki.s2], [pki.root], now, CRL, listed)
    assert not revoked.accepted and revoked.reasons[0].problem is Problem.REVOKED
    good = {0: CrlAnswer(pki.crl("s2"))}
    clean = validate(pki.r2, [pki.s2], [pki.root], now, CRL, good, revocation_levels=1)
    assert clean.accepted and clean.revocation is Revocation.CHECKED
    # Checking the whole chain also needs the root's CRL for the sub-CA certificate.
    whole = validate(pki.r2, [pki.s2], [pki.root], now, CRL, good)
    assert [(r.problem, r.subject) for r in whole.reasons] == [
        (Problem.CRL_UNAVAILABLE, "cn=s2")]
    missing = {0: CrlAnswer(None, "CDP unreachable")}
    refused = validate(pki.r2, [pki.s2], [pki.root], now, CRL, missing)
    assert refused.reasons[0].problem is Problem.CRL_UNAVAILABLE
    best_effort = validate(pki.r2, [pki.s2], [pki.root], now, CRL_NONE, missing)
    assert best_effort.accepted and best_effort.revocation is Revocation.SKIPPED
    other_ca = {0: CrlAnswer(pki.crl("s1", (2,)))}
    assert not validate(pki.r2, [pki.s2], [pki.root], now, CRL, other_ca).accepted
    stale = {0: CrlAnswer(pki.crl("s2", (), T0 - 5 * DAY))}
    assert not validate(pki.r2, [pki.s2], [pki.root], now, CRL, stale).accepted


def test_certificate_map_sequences(pki: Pki) -> None:
    """A `crypto pki certificate map` would let through a peer none of its sequences match, or
    refuse one a sequence matches (names compared case-insensitively)."""
    maps = [[MapRule("subject-name", "co", "R1")], [MapRule("issuer-name", "eq", "cn=s2"),
                                                     MapRule("subject-name", "nc", "r2")]]
    assert map_matches(pki.r1, maps)
    assert not map_matches(pki.r2, maps)
    result = validate(pki.r2, [pki.s2], [pki.root], T0 + DAY, NONE, {}, maps)
    assert result.reasons[0].problem is Problem.MAP_MISMATCH


def test_a_signature_verifies_only_with_the_signers_certificate(pki: Pki) -> None:
    """A peer could authenticate with a certificate whose private key it does not hold."""
    data = ike.signed_data("I", 1001, b"n" * 16, b"m" * 16, "10.0.0.1", pki.r1)
    signature = ike.sign(pki.keys["r1"], data, "sha")
    assert ike.signature_ok(pki.r1, signature, data, "sha")
    assert not ike.signature_ok(pki.r2, signature, data, "sha")
    assert not ike.signature_ok(pki.r1, signature, data + b"x", "sha")


# -- routers ---------------------------------------------------------------------------------
ENROLL = """enable
configure terminal
ip domain name lab
crypto pki trustpoint ca
enrollment url http://10.0.0.1
revocation-check {check}
exit
crypto pki authenticate ca
crypto pki enroll ca
end"""
IKEV1 = """configure terminal
crypto isakmp policy 10
encryption aes 256
hash sha256
group 14
lifetime 3600
exit
access-list 101 permit ip host {me} host {peer}
crypto map VPN 10 ipsec-isakmp
set peer {peer}
match address 101
exit
interface Ethernet0/0
crypto map VPN
end"""
ANSWERS = ["yes", "c1", "c1", "no", "no", "yes"]
ADDR = {"r1": "10.0.0.11", "r2": "10.0.0.12"}


def _lab(release: str = "12.3(14)T", check: str = "crl", ikev1: bool = True) -> Lab:
    lab = Lab(seed=14, key_cache=Path(os.environ["PKILAB_KEY_CACHE"]))
    lab.add_router("ca", "10.0.0.1", "ip http server", release=release)
    for name in ADDR:
        lab.add_router(name, ADDR[name], release=release)
        lab.link("ca", name)
    lab.type("ca", "enable\nconfigure terminal\ncrypto pki server ca\ngrant auto\n"
                   "no shutdown\nend", ["capass123", "capass123"])
    for name, other in (("r1", "r2"), ("r2", "r1")):
        lab.type(name, ENROLL.format(check=check), ANSWERS)
        if ikev1:
            lab.type(name, IKEV1.format(me=ADDR[name], peer=ADDR[other]))
    return lab


def _after(lines: list[str], start: str) -> list[str]:
    return lines[next(i for i, line in enumerate(lines) if start in line):]


def test_ping_brings_up_the_tunnel_and_it_survives_reload_as_configuration() -> None:
    """The first ping toward a crypto-map peer would not start IKE (or not drop its first echo
    as IOS does), the SA would not show on both routers, or the IKE configuration would not
    come back from startup-config after `write memory` and `reload`."""
    lab = _lab()
    out = lab.type("r1", "ping 10.0.0.12\nshow crypto isakmp sa\nshow crypto session")
    assert ".!!!!" in out or "..!!!" in out
    assert "10.0.0.12       10.0.0.11       QM_IDLE           1001    0 ACTIVE" in out
    assert "Session status: UP-ACTIVE" in out
    assert "  IPSEC FLOW: permit ip host 10.0.0.11 host 10.0.0.12" in out
    assert any("QM_IDLE" in line for line in lab.show("r2", "show crypto isakmp sa"))
    assert "!!!!!" in lab.type("r1", "ping 10.0.0.12")
    before = lab.show("r1", "show running-config")
    for line in (" encr aes 256", " hash sha256", " group 14", " lifetime 3600",
                 " set peer 10.0.0.12", " match address 101", "interface Ethernet0/0",
                 " crypto map VPN", "access-list 101 permit ip host 10.0.0.11 host 10.0.0.12"):
        assert line in before
    lab.type("r1", "write memory")
    lab.reload("r1")
    lab.run(120)
    assert lab.show("r1", "show running-config")[4:] == before[4:]
    assert not any("QM_IDLE" in line for line in lab.show("r1", "show crypto isakmp sa"))


def test_typos_and_releases_get_ios_errors() -> None:
    """A mistyped IKE command would be taken, or `crypto ikev2` would work on 12.3(14)T, which has
    no IKEv2, instead of IOS's caret under the word it cannot read."""
    lab = Lab(seed=3, key_cache=Path(os.environ["PKILAB_KEY_CACHE"]))
    lab.add_router("r1", "10.0.0.11")
    out = lab.type("r1", "enable\nconfigure terminal\ncrypto isakmp polcy 10\n"
                         "crypto ikev2 profile P\ncrypto isakmp policy 10\ngroup 3\n"
                         "interface bogus")
    errors = [i for i, line in enumerate(out) if "% Invalid input detected" in line]
    assert len(errors) == 4
    assert out[errors[1] - 1].index("^") == len("r1(config)#crypto ")
    assert "r1(config-isakmp)#group 3" in out


def test_a_revoked_peer_is_refused_once_the_crl_says_so_and_the_invariant_notices_cheats(
        tmp_path: Path) -> None:
    """A revoked peer would still be accepted after its peer fetched a CRL listing it, the report
    would not show the refused IKE exchanges, or the invariant could not fail."""
    lab = _lab(release="XE")
    lab.type("r1", "ping 10.0.0.12")
    serial = lab.router("r2").running.trustpoints["ca"].id_cert.serial_number  # type: ignore[union-attr]
    lab.type("ca", f"crypto pki server ca revoke {serial:#x}")
    lab.type("r1", "configure terminal\ncrypto pki crl request ca\nend")
    out = lab.type("r1", "clear crypto session\nping 10.0.0.12")
    assert (f"%PKI-3-CERTIFICATE_REVOKED: Certificate chain validation has failed.  "
            f"The certificate (SN: {serial:02X}) is revoked") in "\n".join(out)
    assert "Success rate is 0 percent (0/5)" in out
    report = (lab.write_output(tmp_path / "run") / "report.md").read_text()
    assert "| r1 | r2 | IKE IKEv1 main mode (revoked) | FAILURE |" in report
    violations, _held = check_no_revoked_accepted(lab.world)
    assert violations == []
    lab.router("r1").emit("ike", "peer.accepted", peer="10.0.0.12", serial=serial,
                          issuer="cn=ca", methods=["crl"], crl_issuer="cn=ca",
                          crl_revoked=[serial], crl_this_update=None)
    violations, _held = check_no_revoked_accepted(lab.world)
    assert len(violations) == 1 and "lists it" in violations[0]


def test_a_dead_link_ends_in_death_by_retransmission_and_clear_takes_the_session_down() -> None:
    """A peer behind a down link would look up, retransmissions would not stop, or `clear crypto
    session` would leave the SA in place."""
    lab = _lab(check="none")
    lab.type("r1", "debug crypto isakmp\nping 10.0.0.12")
    lab.type("r1", "clear crypto session")
    assert "Session status: DOWN" in lab.show("r1", "show crypto session")
    assert not any("QM_IDLE" in line for line in lab.show("r2", "show crypto isakmp sa"))
    lab.world.net.set_link_up("ca", "r2", False)
    lab.type("r1", "ping 10.0.0.12")
    lab.run(120)
    out = _after(lab.transcript("r1"), "clear crypto session")
    assert "Success rate is 0 percent (0/5)" in out
    assert sum("retransmitting phase 1 MM_NO_STATE" in line for line in out) == 5
    assert any('reason "Death by retransmission P1"' in line for line in out)
    assert lab.show("r1", "show crypto isakmp sa")[-2].startswith("dst")


def test_ikev2_profile_with_a_certificate_map() -> None:
    """On IOS-XE an IKEv2 profile with `authentication local|remote rsa-sig` would not bring a
    tunnel up, `show crypto ikev2 sa` would not show it READY, a peer the profile's
    certificate map does not match would be accepted, or `match identity remote fqdn` would
    not select the profile for the peer of that host name."""
    lab = _lab(release="XE", check="none", ikev1=False)
    for name, other in (("r1", "r2"), ("r2", "r1")):
        lab.type(name, f"""configure terminal
crypto pki certificate map PEERS 10
subject-name co {other}.lab
exit
crypto ikev2 profile PROF
match certificate PEERS
authentication remote rsa-sig
authentication local rsa-sig
pki trustpoint ca
exit
access-list 101 permit ip host {ADDR[name]} host {ADDR[other]}
crypto map VPN 10 ipsec-isakmp
set peer {ADDR[other]}
set ikev2-profile PROF
match address 101
exit
interface GigabitEthernet1
crypto map VPN
end""")
    out = lab.type("r1", "ping 10.0.0.12\nshow crypto ikev2 sa")
    assert "%IKEV2-5-SA_UP: SA UP" in "\n".join(out)
    assert any(line.startswith("1         10.0.0.11/500") and line.endswith("READY")
               for line in out)
    lab.type("r2", "configure terminal\ncrypto pki certificate map PEERS 10\nno subject-name\n"
                   "subject-name eq hostname=nobody\nend\nclear crypto session")
    out = lab.type("r1", "clear crypto session\nping 10.0.0.12")
    assert "Success rate is 0 percent (0/5)" in out
    assert any("answered AUTHENTICATION_FAILED" in line for line in out)
    lab.type("r2", "configure terminal\ncrypto ikev2 profile PROF\nno match certificate\n"
                   "match identity remote fqdn R1.lab\nend")
    assert "Success rate is 80 percent (4/5)" in "\n".join(lab.type("r1", "ping 10.0.0.12"))


def test_a_protected_tunnel_comes_up_by_itself_and_again_after_a_reload() -> None:
    """A tunnel interface with `tunnel protection ipsec profile` would wait for traffic instead of
    starting IKE as it comes up (after a reload, or `no shutdown`), lose its configuration in a
    reload, or leave the peer holding the dead SA of the router that rebooted."""
    lab = _lab(release="XE", check="none", ikev1=False)
    for name, other in (("r1", "r2"), ("r2", "r1")):
        lab.type(name, f"""configure terminal
crypto ikev2 profile PROF
match identity remote address {ADDR[other]}
authentication remote rsa-sig
authentication local rsa-sig
pki trustpoint ca
exit
crypto ipsec profile IPS
set ikev2-profile PROF
exit
interface Tunnel0
tunnel source GigabitEthernet1
tunnel mode ipsec ipv4
tunnel destination {ADDR[other]}
tunnel protection ipsec profile IPS
end
write memory""")
    session = lab.show("r1", "show crypto session")
    assert "Interface: Tunnel0" in session and "Session status: UP-ACTIVE" in session
    assert "  IPSEC FLOW: permit 47 host 10.0.0.11 host 10.0.0.12" in session
    lab.reload("r1")
    lab.run(120)
    assert "Session status: UP-ACTIVE" in lab.show("r1", "show crypto session")
    assert " tunnel protection ipsec profile IPS" in lab.show("r1", "show running-config")
    ready = [line for line in lab.show("r2", "show crypto ikev2 sa") if line.endswith("READY")]
    assert len(ready) == 1
    lab.type("r1", "enable\nconfigure terminal\ninterface Tunnel0\nshutdown\nend\n"
                   "clear crypto session")
    lab.run(60)
    assert "Peer: 10.0.0.12 port 500" not in lab.show("r1", "show crypto session")
    lab.type("r1", "configure terminal\ninterface Tunnel0\nno shutdown\nend")
    assert "Session status: UP-ACTIVE" in lab.show("r1", "show crypto session")
