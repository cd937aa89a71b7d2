"""Power cuts at every event boundary of a hierarchy's issuance (crash consistency).

A scenario that builds a PKI hierarchy is run once without faults (the baseline). Every
moment at which one of its routers did something observable is an event boundary; for
each boundary inside the issuance window of that router, the scenario is run again with
the router's power cut just after that moment and restored `OFF_SECONDS` later. Each run
must end as the baseline did: every trustpoint that the baseline enrolled holds a
certificate that chains, through the certificates that router itself holds, to the root;
no CA issued a serial twice; no granted request was lost; sub-CA requests were granted by
hand. A cut is a crash: what the router had not written to nvram is gone.

The issuance window of a router starts when its configuration is first saved (a cut
before that loses what the operator typed, which is what a real router does too) and
ends `AFTER_LAST_GRANT` after the last certificate of the baseline was received. Cuts
are taken half way between two consecutive distinct event times of the router, so that
no cut races an event scheduled at the same simulated instant.

A cut whose outage (power off, then the boot) covers the moment another router's
operator authenticates a CA through the cut router (`crypto pki authenticate`, or a
subordinate CS's first `no shutdown`) makes that GetCACert fail: the console says
`% Failed to authenticate the Certificate Authority`, and IOS does not try again by
itself. The operator does, as a person at that console would: `RETRY_AFTER` seconds
after the cut router is back, if the trustpoint is still not authenticated, they type
the authentication again (`no shutdown` in the CS, or `crypto pki authenticate` and
`crypto pki enroll`) and save. Such cuts are counted apart. Everything IOS retries on its
own (PKCSReq, GetCertInitial polls) needs no one.

`python -m sim.scenario.powercut [SCENARIO] [--router R] [--limit N]` runs every cut and
prints the counts; the test suite runs the same function.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from sim.kernel.process import SimProcess
from sim.pki import x509util
from sim.router.router import BOOT_SECONDS
from sim.scenario import invariants
from sim.scenario.loader import load_scenario
from sim.scenario.model import PowerEvent, Scenario
from sim.scenario.runner import RunResult, run_scenario
from sim.scenario.world import World

OFF_SECONDS = 30.0
"""How long the power stays off: shorter than the clients' one-minute retry period, so a
CA's outage is ridden out by IOS's own retries."""
AFTER_LAST_GRANT = 60.0
"""The window goes on past the last grant: the certificate being saved is issuance too."""
RETRY_AFTER = 90.0
"""How long after the cut router is back an operator whose authentication failed looks
again (after their own typing has finished)."""
CHALLENGE = "retry1"
DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "persistence" / \
    "power-cut-hierarchy.yaml"


@dataclass(frozen=True)
class Cut:
    router: str
    at: float

    def describe(self) -> str:
        return f"{self.router} off at {self.at:.3f} s, on at {self.at + OFF_SECONDS:.3f} s"


@dataclass(frozen=True)
class CutOutcome:
    cut: Cut
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def enrolled_trustpoints(world: World) -> set[tuple[str, str]]:
    """(router, trustpoint) pairs holding a certificate (a CS: its CA certificate)."""
    held = set()
    for router in world.routers.values():
        for tp in router.running.trustpoints.values():
            cs = router.running.servers.get(tp.name)
            cert = cs.ca_cert if cs is not None else tp.id_cert
            if cert is not None and tp.enrollment_url:
                held.add((router.name, tp.name))
    return held


def cut_points(baseline: RunResult, routers: Iterable[str] | None = None) -> list[Cut]:
    """Every boundary between two distinct event times of each router, inside its
    issuance window (see the module docstring)."""
    trace = baseline.world.env.trace
    granted = [e.t for e in trace.select(category="pki", name="enroll.granted")]
    if not granted:
        return []
    end = max(granted) + AFTER_LAST_GRANT
    names = list(routers) if routers is not None else list(baseline.world.routers)
    cuts: list[Cut] = []
    for name in names:
        saves = [e.t for e in trace.select(router=name, category="nvram", name="write")
                 if e.data.get("file") == "startup-config"]
        if not saves:
            continue
        times = sorted({e.t for e in trace.select(router=name)
                        if saves[0] <= e.t <= end})
        cuts += [Cut(name, round((a + b) / 2, 6)) for a, b in zip(times, times[1:],
                                                                 strict=False)]
    return cuts


@dataclass(frozen=True)
class Authentication:
    """An operator-started GetCACert of the baseline."""

    router: str
    trustpoint: str
    started: float
    ended: float
    needs: frozenset[str]
    """The CA's router and every router on the path to it."""
    for_server: bool
    """The trustpoint is a subordinate CS's own (authenticated by its `no shutdown`)."""


def authentications(baseline: RunResult) -> list[Authentication]:
    world = baseline.world
    found = []
    for event in world.env.trace.select(category="scep", name="exchange"):
        server = event.data.get("server")
        if event.data.get("operation") != "GetCACert" or event.router is None or not server:
            continue
        path = world.net.path(event.router, server) or [server]
        trustpoint = str(event.data.get("trustpoint"))
        found.append(Authentication(
            event.router, trustpoint, float(event.data.get("started", event.t)), event.t,
            frozenset(path) - {event.router},
            trustpoint in world.routers[event.router].running.servers))
    return found


def hidden_authentications(cut: Cut, needed: list[Authentication]) -> list[Authentication]:
    """The authentications made while the cut router was down (off, or booting)."""
    back = cut.at + OFF_SECONDS + BOOT_SECONDS
    return [a for a in needed
            if cut.router in a.needs and a.started <= back and a.ended >= cut.at]


def hides_an_authentication(cut: Cut, needed: list[Authentication]) -> bool:
    return bool(hidden_authentications(cut, needed))


def with_cut(scenario: Scenario, cut: Cut) -> Scenario:
    events = [*scenario.events, PowerEvent(cut.at, cut.router, False),
              PowerEvent(cut.at + OFF_SECONDS, cut.router, True)]
    events.sort(key=lambda e: e.at)
    return replace(scenario, events=tuple(events))


def operator_retries(cut: Cut, hidden: list[Authentication]) -> Callable[[World], None]:
    """A `run_scenario` setup: each operator whose authentication the cut hid looks at
    their trustpoint once the CA is back, and authenticates again if it still has no CA
    certificate."""

    def setup(world: World) -> None:
        for auth in hidden:
            at = max(cut.at + OFF_SECONDS + BOOT_SECONDS, auth.ended) + RETRY_AFTER
            world.env.process(_retry(world, auth, at))

    return setup


def _retry(world: World, auth: Authentication, at: float) -> SimProcess[None]:
    yield world.env.timeout(at - world.env.now)
    router = world.routers[auth.router]
    tp = router.running.trustpoints.get(auth.trustpoint)
    if tp is None or tp.ca_cert is not None:
        return
    if auth.for_server:
        lines = ["enable", "configure terminal", f"crypto pki server {auth.trustpoint}",
                 "no shutdown", "end", "write memory"]
        answers = ["yes"]
    else:
        lines = ["enable", "configure terminal", f"crypto pki authenticate {auth.trustpoint}",
                 f"crypto pki enroll {auth.trustpoint}", "end", "write memory"]
        answers = ["yes", CHALLENGE, CHALLENGE, "no", "no", "yes"]
    world.env.emit(auth.router, "scenario", "event", what="operator retries the "
                   f"authentication of {auth.trustpoint}", line=0)
    router.type_lines(lines, answers)


def judge(result: RunResult, expected: set[tuple[str, str]]) -> tuple[str, ...]:
    """What went wrong in a cut run: invariant violations, trustpoints the baseline
    enrolled that now hold nothing, and chains that do not reach a root with the
    certificates the router itself holds."""
    world = result.world
    problems: list[str] = []
    for key, check in invariants.CHECKS.items():
        violations, _held = check(world)
        problems += [f"{key}: {v}" for v in violations]
    problems += ca_identity_problems(world)
    now = enrolled_trustpoints(world)
    for router, tp in sorted(expected - now):
        problems.append(f"{router}: trustpoint {tp} holds no certificate at the end")
    for router, tp in sorted(expected & now):
        problem = own_chain_problem(world, router, tp)
        if problem:
            problems.append(f"{router}: trustpoint {tp}: {problem}")
    return tuple(problems)


def ca_identity_problems(world: World) -> list[str]:
    """A CA keeps its key and its certificate through a power cut: at the end each CS's
    certificate is the first one it installed in the run, and matches its key."""
    first: dict[tuple[str, str], str] = {}
    for event in world.env.trace.select(category="pki"):
        if event.name in ("ca.certificate", "server.certificate") and event.router:
            first.setdefault((event.router, str(event.data.get("server"))),
                             str(event.data["sha1"]))
    problems = []
    for router in world.routers.values():
        for cs in router.running.servers.values():
            if cs.ca_cert is None:
                continue
            pair = router.running.keys.get(cs.name)
            if pair is None or pair.key.public_key().public_numbers() != \
                    cs.ca_cert.public_key().public_numbers():  # type: ignore[union-attr]
                problems.append(f"{router.name}: CS {cs.name}: its CA certificate does not "
                                "match its key pair")
            had = first.get((router.name, cs.name))
            now = x509util.fingerprint_hex(x509util.cert_der(cs.ca_cert), "sha1")
            if had is not None and had != now:
                problems.append(f"{router.name}: CS {cs.name}: its CA certificate changed "
                                f"(SHA-1 {had} first, {now} at the end)")
    return problems


def own_chain_problem(world: World, router_name: str, tp_name: str) -> str | None:
    """Why the certificate of `tp_name` does not chain to a self-signed root using only
    what this router holds (its trustpoint's CA chain), or None."""
    router = world.routers[router_name]
    tp = router.running.trustpoints[tp_name]
    cs = router.running.servers.get(tp_name)
    cert = cs.ca_cert if cs is not None else tp.id_cert
    if cert is None:
        return "no certificate"
    chain = [cert, *tp.ca_chain] if tp.ca_chain else [cert, *(c for c in [tp.ca_cert] if c)]
    for child, parent in zip(chain, chain[1:], strict=False):
        if child.issuer != parent.subject or not x509util.verify_signature(
                child, parent.public_key()):
            return (f"{x509util.format_dn_ios(child.subject)} is not signed by "
                    f"{x509util.format_dn_ios(parent.subject)}")
    top = chain[-1]
    if top.issuer != top.subject:
        return (f"the chain it holds ends at {x509util.format_dn_ios(top.subject)}, "
                "not at a self-signed root")
    return None


def run_cut(scenario: Scenario, cut: Cut, needed: list[Authentication]) -> RunResult:
    """The scenario with the cut, and the operators' retries it calls for."""
    hidden = hidden_authentications(cut, needed)
    return run_scenario(with_cut(scenario, cut),
                        setup=operator_retries(cut, hidden) if hidden else None)


def run_cuts(scenario: Scenario, cuts: Iterable[Cut], expected: set[tuple[str, str]],
             needed: list[Authentication],
             progress: Callable[[CutOutcome], None] | None = None) -> list[CutOutcome]:
    outcomes = []
    for cut in cuts:
        result = run_cut(scenario, cut, needed)
        outcome = CutOutcome(cut, judge(result, expected))
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.scenario.powercut",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--router", action="append", help="cut only this router (repeatable)")
    parser.add_argument("--limit", type=int, default=0, help="at most N cuts per router")
    parser.add_argument("--verbose", "-v", action="store_true", help="list failing cuts")
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario)
    baseline = run_scenario(scenario)
    expected = enrolled_trustpoints(baseline.world)
    base_problems = judge(baseline, expected)
    if base_problems:
        sys.stderr.write("the baseline run itself fails:\n  " + "\n  ".join(base_problems)
                         + "\n")
        return 1
    cuts = cut_points(baseline, args.router)
    needed = authentications(baseline)
    if args.limit:
        per: dict[str, int] = {}
        kept = []
        for cut in cuts:
            per[cut.router] = per.get(cut.router, 0) + 1
            if per[cut.router] <= args.limit:
                kept.append(cut)
        cuts = kept
    outcomes = run_cuts(scenario, cuts, expected, needed)
    by_router: dict[str, list[CutOutcome]] = {}
    for outcome in outcomes:
        by_router.setdefault(outcome.cut.router, []).append(outcome)
    out = sys.stdout
    out.write(f"{scenario.name}: {len(expected)} enrolled trustpoints in the baseline\n")
    for router, items in by_router.items():
        failed = [o for o in items if not o.passed]
        retried = sum(1 for o in items if hides_an_authentication(o.cut, needed))
        out.write(f"  {router:8} {len(items):4} cuts, {len(failed):4} failing "
                  f"({retried} with an operator retrying an authentication)\n")
        if args.verbose:
            for o in failed:
                out.write(f"    {o.cut.describe()}: {o.problems[0]}"
                          f"{f' (+{len(o.problems) - 1} more)' if len(o.problems) > 1 else ''}"
                          "\n")
    total_failed = sum(not o.passed for o in outcomes)
    retried = sum(1 for o in outcomes if hides_an_authentication(o.cut, needed))
    out.write(f"total: {len(outcomes)} cuts, {total_failed} failing ({retried} with an "
              "operator retrying an authentication the outage hid)\n")
    return 1 if total_failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
