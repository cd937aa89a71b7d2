"""End-of-run invariants: each holds on a good run and fails, with evidence, on a run broken
on purpose (a CA reusing a serial, a granted request deleted, a sub-CA granted by the
policy, a router's certificate dropped or swapped)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.pki import cs_desk, issuance, x509util
from sim.scenario import invariants
from sim.scenario.expectations import ExpectationResult
from sim.scenario.loader import load_scenario_text
from sim.scenario.model import InvariantExpect
from sim.scenario.runner import RunResult, run_scenario

LAB = """\
name: invariants-lab
description: A root that grants routers at once, a subordinate granted by hand, two routers.
seed: 77
start: 2005-01-06T21:00:00Z
duration: 12m
invariants: true
routers:
  root1:
    address: 10.0.0.1
    config: |
      hostname root1
      ip http server
  sub:
    address: 10.0.0.2
    config: |
      hostname sub
      ip http server
  r1:
    address: 10.0.0.11
    config: hostname r1
  r2:
    address: 10.0.0.12
    config: hostname r2
links:
  - endpoints: [root1, sub]
  - endpoints: [root1, r1]
  - endpoints: [root1, r2]
events:
  - at: 5s
    router: root1
    cli: [enable, debug crypto pki server, configure terminal, crypto pki server root1,
          grant auto, no shutdown, end]
    input: [rootpass1, rootpass1]
  - at: 1m
    router: sub
    cli: [enable, configure terminal, crypto pki trustpoint sub, enrollment url http://10.0.0.1,
          exit, crypto pki server sub, mode sub-cs, no shutdown, end]
    input: [subpass12, subpass12, "yes"]
  - {at: 2m30s, router: root1, cli: crypto pki server root1 grant all}
  - at: 5m
    router: r1
    cli: &enroll [enable, configure terminal, crypto pki trustpoint ca,
                  enrollment url http://10.0.0.1, exit, crypto pki authenticate ca,
                  crypto pki enroll ca, end]
    input: &answers ["yes", challenge1, challenge1, "no", "no", "yes"]
  - {at: 5m, router: r2, cli: *enroll, input: *answers}
"""


def run(text: str = LAB) -> RunResult:
    return run_scenario(load_scenario_text(text, "lab.yaml"))


def verdicts(result: RunResult) -> dict[str, ExpectationResult]:
    return {r.expectation.invariant: r for r in result.results  # type: ignore[union-attr]
            if isinstance(r.expectation, InvariantExpect)}


def judge(result: RunResult, invariant: str) -> ExpectationResult:
    return invariants.evaluate(result.world, InvariantExpect(invariant))


def test_a_good_run_keeps_every_invariant() -> None:
    """A healthy scenario with `invariants: true` would report an invariant failure, or describe
    what it checked in different words."""
    found = verdicts(run())
    assert list(found) == ["certified", "unique_serials", "no_lost_grants", "sub_ca_manual",
                           "within_ca_validity", "valid_chains", "no_revoked_accepted"]
    assert all(r.passed for r in found.values()), [r.observed for r in found.values()]
    assert found["certified"].observed == ("3 enrolled trustpoint(s) hold certificates that "
                                           "chain to the root")
    assert found["unique_serials"].observed == ("3 certificate(s) from 1 CA(s), every serial "
                                                "used once")
    assert found["sub_ca_manual"].observed == "1 sub-CA certificate(s), each granted at the console"
    assert found["certified"].expectation.describe() == (
        "invariant: every enrolled router holds a certificate that chains to the root")


def test_a_ca_reusing_a_serial_breaks_unique_serials(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CA handing out the same serial twice would pass `unique_serials`, or fail it without naming
    both certificates."""
    real_grant = cs_desk.grant

    def forgetful_grant(cs, req_id, now, key):  # type: ignore[no-untyped-def]
        if cs.last_serial >= 3:  # forget the last serial handed out: the next one repeats
            cs.last_serial -= 1
        return real_grant(cs, req_id, now, key)

    monkeypatch.setattr(cs_desk, "grant", forgetful_grant)
    found = verdicts(run())
    broken = found["unique_serials"]
    assert not broken.passed
    assert broken.observed.startswith("1 violation(s): root1/root1: serial 0x3 issued twice: "
                                      "serial 0x3 for hostname=r1 (request 2, at 5m")
    assert "then serial 0x3 for hostname=r2 (request 3, at 5m" in broken.context[0]
    assert found["certified"].passed and found["sub_ca_manual"].passed


def test_a_deleted_granted_request_breaks_no_lost_grants() -> None:
    """A granted request silently lost from the CA's database would pass `no_lost_grants`, or fail
    it without naming the request and serial."""
    result = run()
    assert judge(result, "no_lost_grants").passed
    result.world.routers["root1"].running.servers["root1"].requests.remove(2)
    broken = judge(result, "no_lost_grants")
    assert not broken.passed
    assert len(broken.context) == 1
    assert broken.context[0].startswith("root1/root1: serial 0x3 for hostname=r1 (request 2, "
                                        "at 5m")
    assert broken.context[0].endswith("was granted, but the request is gone from the database "
                                      "(not removed at the console, not expired)")


def test_removed_at_the_console_or_expired_is_not_lost() -> None:
    """A request removed with `crypto pki server ... remove`, or expired normally, would be reported
    as a lost grant."""
    removed = run(LAB + "  - {at: 8m, router: root1, cli: crypto pki server root1 remove 2}\n")
    verdict = verdicts(removed)["no_lost_grants"]
    assert verdict.passed and "1 expired or removed at the console" in verdict.observed
    expiring = LAB.replace("grant auto, no shutdown", "grant auto, lifetime enrollment-request 0 3,"
                                                      " no shutdown")
    verdict = verdicts(run(expiring))["no_lost_grants"]
    assert verdict.passed, verdict.observed
    assert verdict.observed == ("3 granted request(s): 0 still in their CA's database, "
                                "3 expired or removed at the console")


def test_a_sub_ca_granted_by_the_policy_breaks_sub_ca_manual(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A sub-CA certificate issued without a grant typed at the console would pass the
    `sub_ca_manual` invariant."""
    monkeypatch.setattr(issuance.GrantPolicy, "decide",
                        lambda self, kind, mode: issuance.Decision.GRANT)
    found = verdicts(run())
    broken = found["sub_ca_manual"]
    assert not broken.passed
    assert broken.observed.startswith("1 violation(s): root1/root1: sub-CA certificate serial "
                                      "0x2 for cn=sub (request 1, at 1m")
    assert broken.observed.endswith("was issued without a grant typed at the console")


def test_a_router_without_its_certificate_breaks_certified() -> None:
    """A router that started enrolling but holds no certificate would pass the `certified`
    invariant."""
    result = run()
    result.world.routers["r1"].running.trustpoints["ca"].id_cert = None
    broken = judge(result, "certified")
    assert not broken.passed
    assert broken.context[0].startswith("r1: trustpoint ca: enrollment started at 5m")
    assert broken.context[0].endswith("but it holds no certificate")


def test_a_certificate_from_a_stranger_breaks_certified() -> None:
    """A router holding a certificate that does not chain to the lab's root would pass `certified`,
    or fail it without saying why."""
    result = run()
    tp = result.world.routers["r2"].running.trustpoints["ca"]
    assert tp.id_cert is not None
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    now = datetime(2005, 1, 6, 21, 0, tzinfo=UTC)
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "root1")])
    impostor = x509util.make_ca_certificate(key, name, 1, now, now + timedelta(days=9))
    tp.id_cert = x509util.issue_certificate(key, impostor, tp.id_cert.public_key(),  # type: ignore[arg-type]
                                            tp.id_cert.subject, 9, now, now + timedelta(days=9))
    broken = judge(result, "certified")
    assert not broken.passed
    assert broken.context[0] == ("r2: trustpoint ca: certificate serial 0x9 (hostname=r2) does "
                                 "not chain to a root: no known CA certificate cn=root1 verifies "
                                 "hostname=r2")
