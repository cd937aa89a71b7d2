"""Crash consistency: a power cut at any event boundary of a hierarchy's issuance loses
nothing IOS keeps in nvram (issue 8).

The sweep runs `scenarios/persistence/power-cut-hierarchy.yaml` once per cut point
(`sim.scenario.powercut`); the other tests pin the pieces it relies on: certificates
saved with the configuration, the chain above a subordinate restored at boot, a pending
request sent again after a reboot, the certificate saved when it arrives, and a grant
undone by a power cut reported as a serial gap rather than a lost grant.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from routerkit import Lab

from sim.kernel.transcript import transcript_lines
from sim.pki import x509util
from sim.router import pki_storage
from sim.router.router import Router
from sim.scenario import invariants, powercut
from sim.scenario.loader import load_scenario
from sim.scenario.model import InvariantExpect
from sim.scenario.runner import RunResult, run_scenario

ROUTERS = ("root", "sub1", "sub2", "r0", "r1", "r2")


@pytest.fixture(scope="module")
def baseline() -> RunResult:
    return run_scenario(load_scenario(powercut.DEFAULT_SCENARIO))


def test_the_baseline_enrolls_every_level(baseline: RunResult) -> None:
    """The power-cut hierarchy scenario would fail to enroll every sub-CA and router even uncut, so
    the crash sweep would prove nothing."""
    assert baseline.passed
    assert powercut.enrolled_trustpoints(baseline.world) == {
        ("sub1", "sub1"), ("sub2", "sub2"), ("r0", "ca"), ("r1", "ca"), ("r2", "ca")}
    assert powercut.judge(baseline, powercut.enrolled_trustpoints(baseline.world)) == ()


@pytest.mark.parametrize("router", ROUTERS)
def test_a_power_cut_at_every_event_boundary_loses_nothing(baseline: RunResult,
                                                            router: str) -> None:
    """A power cut at some moment of a hierarchy's issuance would leave a router without its
    certificate, chain or grant after reboot."""
    cuts = powercut.cut_points(baseline, [router])
    assert cuts, "no cut point inside the issuance window"
    needed = powercut.authentications(baseline)
    expected = powercut.enrolled_trustpoints(baseline.world)
    failed = [o for o in powercut.run_cuts(baseline.scenario, cuts, expected, needed)
              if not o.passed]
    assert not failed, "\n".join(f"{o.cut.describe()}: {'; '.join(o.problems)}"
                                 for o in failed[:5])


def test_cut_points_cover_the_whole_issuance_of_each_router(baseline: RunResult) -> None:
    """The power-cut sweep would skip parts of the issuance (early saves, pending requests, last
    grants), leaving crashes there untested."""
    cuts = powercut.cut_points(baseline)
    by_router = {name: [c.at for c in cuts if c.router == name] for name in ROUTERS}
    # root: from its first save (about 25 s) to a minute after the last grant (~15 min).
    assert min(by_router["root"]) < 60 and max(by_router["root"]) > 14 * 60
    # r1's request waits for sub1's operator: it is cut while pending.
    assert len(by_router["r1"]) >= 3
    grants = [e.t for e in baseline.world.env.trace.select(category="pki",
                                                           name="enroll.granted")]
    assert max(c.at for c in cuts) <= max(grants) + powercut.AFTER_LAST_GRANT


def test_an_outage_during_an_operator_s_authentication_needs_the_operator(
        baseline: RunResult) -> None:
    """The one thing IOS does not retry by itself: r0's `crypto pki authenticate` while
    the root is down fails for good, unless the operator types it again (which the sweep
    does for such cuts, and only for them)."""
    needed = powercut.authentications(baseline)
    r0 = next(a for a in needed if a.router == "r0")
    cut = powercut.Cut("root", r0.started - 1.0)
    assert [a.router for a in powercut.hidden_authentications(cut, needed)] == ["r0"]
    expected = powercut.enrolled_trustpoints(baseline.world)
    alone = run_scenario(powercut.with_cut(baseline.scenario, cut))
    assert "r0: trustpoint ca holds no certificate at the end" in powercut.judge(
        alone, expected)
    retried = powercut.run_cut(baseline.scenario, cut, needed)
    assert powercut.judge(retried, expected) == ()
    assert any(e.data.get("what") == "operator retries the authentication of ca"
               for e in retried.world.env.trace.select(router="r0", category="scenario"))


def test_the_judge_notices_a_chain_that_stops_short(baseline: RunResult) -> None:
    """The sweep can fail: a subordinate whose trustpoint lost the chain above its
    parent is reported (this is what a reboot did before the chain was kept)."""
    result = run_scenario(baseline.scenario)
    tp = result.world.routers["sub2"].running.trustpoints["sub2"]
    tp.ca_chain = tp.ca_chain[:1]
    problems = powercut.judge(result, powercut.enrolled_trustpoints(result.world))
    assert any("not at a self-signed root" in p for p in problems), problems


# -- the reproductions ---------------------------------------------------------------


def _cut(baseline: RunResult, router: str, at: float) -> RunResult:
    return run_scenario(powercut.with_cut(baseline.scenario, powercut.Cut(router, at)))


def test_a_subordinate_rebooted_after_enrolling_still_answers_with_its_chain(
        baseline: RunResult) -> None:
    """sub1 loses power after its enrollment: sub2 and r1, which enroll with it later, get
    chains that reach the root (before: GetCACert stopped at sub1 itself)."""
    result = _cut(baseline, "sub1", 200.0)
    world = result.world
    assert world.routers["sub1"].running.trustpoints["sub1"].ca_chain[-1].subject == \
        x509util.parse_dn("CN=root")
    for router, tp in (("sub2", "sub2"), ("r1", "ca"), ("r2", "ca")):
        assert powercut.own_chain_problem(world, router, tp) is None
        chain = world.routers[router].running.trustpoints[tp].ca_chain
        assert chain[-1].issuer == chain[-1].subject
    assert result.passed


def test_a_root_cut_mid_grant_is_a_serial_gap_not_a_lost_grant(baseline: RunResult) -> None:
    """Cut after the root wrote `.ser` for sub1's certificate and before it saved its
    request database: sub1's request is granted again under the next serial."""
    grant = next(e for e in baseline.world.env.trace.select(router="root", category="cs",
                                                            name="issued")
                 if e.data["subject"] == "cn=sub1,o=pkilab")
    result = _cut(baseline, "root", grant.t + 1.0)
    issued = [e.data["serial"] for e in result.world.env.trace.select(
        router="root", category="cs", name="issued")]
    assert issued[:2] == [2, 3]
    lost = invariants.evaluate(result.world, InvariantExpect("no_lost_grants"))
    assert lost.passed, lost.observed
    assert "1 serial gap(s)" in lost.observed and "root/root 0x2" in lost.observed
    assert invariants.evaluate(result.world, InvariantExpect("unique_serials")).passed


def test_a_granted_certificate_that_was_delivered_and_then_lost_is_still_reported(
        baseline: RunResult) -> None:
    """The serial-gap rule does not hide a real loss: a request the CA granted, that its
    requester received, and that is then gone from a saved database is a violation."""
    result = run_scenario(baseline.scenario)
    root = result.world.routers["root"]
    cs = root.running.servers["root"]
    sub1_request = next(e for e in cs.requests if e.serial == 2)
    cs.requests.remove(sub1_request.req_id)
    lost = invariants.evaluate(result.world, InvariantExpect("no_lost_grants"))
    assert not lost.passed
    assert "gone from the database" in lost.observed


# -- the pieces ----------------------------------------------------------------------------


def test_write_memory_saves_the_trustpoint_certificates_under_ios_storage_names() -> None:
    """`write memory` would not save a trustpoint's certificates under IOS's nvram names
    (`ca#1CA.cer`), or keep them after the trustpoint goes."""
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    client = lab.router("r1", "10.0.0.2")
    lab.net.add_link("ca", "r1")
    lab.type(ca, "enable\nconfigure terminal\ncrypto pki server ca\ngrant auto\n"
                 "no shutdown\nend", ("secretpass", "secretpass"))
    lab.type(client, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                     "enrollment url http://10.0.0.1\nexit\ncrypto pki authenticate ca\n"
                     "crypto pki enroll ca\nend", ("yes", "pw", "pw", "no", "no", "yes"))
    assert not [n for n in client.nvram if n.endswith(".cer")], "nothing before a save"
    lab.type(client, "write memory")
    assert {n for n in client.nvram if n.endswith(".cer")} == {"ca#1CA.cer", "ca#2.cer"}
    lab.type(client, "configure terminal\nno crypto pki trustpoint ca\nend\nwrite memory",
             ("yes",))
    assert not [n for n in client.nvram if n.endswith(".cer")], "dropped with the trustpoint"


def test_storage_names_from_certificate_fields_stay_in_nvram_s_namespace() -> None:
    """A certificate whose common name holds `../` or odd characters would be saved under an unsafe
    or non-IOS nvram file name."""
    key = Lab().keys.get("names", 1024)
    for common, expected in [("../../etc/passwd", "etcpassw#5CA.cer"),
                             ("Test Root CA on Cisco Router R14", "TestRootCAon#5CA.cer"),
                             ("/", "cert#5CA.cer"), ("..", "cert#5CA.cer"),
                             ("a\x00b/c\\d", "abcd#5CA.cer")]:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(5)
                .not_valid_before(datetime(2005, 1, 1, tzinfo=UTC))
                .not_valid_after(datetime(2006, 1, 1, tzinfo=UTC))
                .sign(key, hashes.SHA256()))
        assert pki_storage.storage_name(cert, ca=True) == expected


def _manual_ca_and_client() -> tuple[Lab, Router, Router]:
    """A CS `ca` that grants by hand, and a router `r1` beside it."""
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    client = lab.router("r1", "10.0.0.2")
    lab.net.add_link("ca", "r1")
    lab.type(ca, "enable\nconfigure terminal\ncrypto pki server ca\nno shutdown\nend",
             ("secretpass", "secretpass"))
    return lab, ca, client


def test_a_client_cut_while_pending_sends_the_same_request_again() -> None:
    """r1 saved its configuration with its request pending at a manual CA, then lost
    power: after the boot it polls for the same request, which the CA grants once."""
    lab, ca, client = _manual_ca_and_client()
    lab.type(client, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                     "enrollment url http://10.0.0.1\nexit\ncrypto pki authenticate ca\n"
                     "crypto pki enroll ca\nend\nwrite memory",
             ("yes", "pw", "pw", "no", "no", "yes"))
    assert client.nvram.exists("ca.req")
    client.power_off()
    lab.run(30)
    client.power_on()
    lab.run(120)
    assert [e.data["trustpoint"] for e in lab.env.trace.select(
        router="r1", category="pki", name="enroll.resumed")] == ["ca"]
    cs = ca.running.servers["ca"]
    assert len(list(cs.requests)) == 1, "the same request, not a second one"
    lab.type(ca, "crypto pki server ca grant all", settle=150)
    tp = client.running.trustpoints["ca"]
    assert tp.id_cert is not None and tp.id_cert.serial_number == 2
    assert not client.nvram.exists("ca.req"), "the saved request goes with the grant"
    lines = transcript_lines(lab.env.trace, "r1")
    assert "%PKI-6-AUTOSAVE: Running configuration saved to NVRAM" in "\n".join(lines)
    # Saved on its own: the certificate is there after the next power cut too.
    client.power_off()
    client.power_on()
    lab.run(60)
    assert client.running.trustpoints["ca"].id_cert is not None


def test_a_certificate_is_not_autosaved_over_changes_the_operator_has_not_saved() -> None:
    """A certificate arriving after enrollment would auto-save, writing the operator's unsaved
    configuration changes to startup-config."""
    lab, ca, client = _manual_ca_and_client()
    lab.type(client, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                     "enrollment url http://10.0.0.1\nexit\ncrypto pki authenticate ca\n"
                     "crypto pki enroll ca\nend\nwrite memory\nconfigure terminal\n"
                     "hostname renamed\nend", ("yes", "pw", "pw", "no", "no", "yes"))
    saved = client.nvram.read("startup-config")
    lab.type(ca, "crypto pki server ca grant all", settle=150)
    assert client.running.trustpoints["ca"].id_cert is not None
    assert client.nvram.read("startup-config") == saved
    assert "AUTOSAVE" not in "\n".join(transcript_lines(lab.env.trace, "r1"))


def test_a_saved_request_for_another_key_is_not_reused() -> None:
    """A pending request saved in nvram (`ca.req`) would not load back after a reboot, or a garbled
    one would be used instead of dropped."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.2")
    other = lab.keys.get("other", 1024)
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "r1")]))
           .sign(other, hashes.SHA256()))
    pki_storage.save_pending(router.write_nvram, "ca", csr)
    assert pki_storage.load_pending(router.nvram, "ca") == csr
    router.nvram.write("ca.req", b"-----BEGIN CERTIFICATE REQUEST-----\ngarbage\n")
    assert pki_storage.load_pending(router.nvram, "ca") is None


def test_the_cut_is_applied_as_power_events(baseline: RunResult) -> None:
    """A power cut in the sweep would not become a power-off then power-on of that router, or would
    alter the scenario's other events."""
    cut = powercut.Cut("sub1", 100.0)
    scenario = powercut.with_cut(baseline.scenario, cut)
    added = [e for e in scenario.events if e not in baseline.scenario.events]
    assert [(e.at, e.router, e.on) for e in added] == [  # type: ignore[attr-defined]
        (100.0, "sub1", False), (100.0 + powercut.OFF_SECONDS, "sub1", True)]
    assert replace(scenario, events=baseline.scenario.events) == baseline.scenario
