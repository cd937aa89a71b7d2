"""Randomized fault soaks: seeded, windowed, every kind drawn, errors with lines, and the
replay of a failing seed through its one-line command."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.scenario import model as m
from sim.scenario import soak
from sim.scenario.loader import ScenarioError, load_scenario, load_scenario_text
from sim.scenario.runner import run_scenario

BASE = """\
name: s
description: d
seed: 5
duration: 30d
routers:
  ca:
    address: 10.0.0.1
    config: |
      hostname ca
      ip http server
  r1:
    address: 10.0.0.2
  r2:
    address: 10.0.0.3
links:
  - endpoints: [ca, r1]
  - endpoints: [ca, r2]
events:
  - {at: 1m, router: r1, cli: show clock}
"""
"""Nineteen lines; a test's `soak:` starts on line 20."""

SOAK = BASE + """\
soak:
  link_flaps: {mtbf: 2d, mttr: 30m}
  power_cycles: {mtbf: 5d, mttr: 5m, routers: [r1, r2]}
  clock_jumps: {mtbf: 4d, max: 2h}
  http_toggles: {mtbf: 5d, mttr: 1h}
  quiet_before: 2h
  quiet_after: 3h
"""


def load(text: str) -> m.Scenario:
    return load_scenario_text(text, "x.yaml")


def test_same_seed_same_faults_other_seed_other_faults() -> None:
    """A soak scenario would not draw the same faults for the same seed, so a failing run could not
    be reproduced."""
    scenario = load(SOAK)
    faults = soak.faults_of(scenario)
    assert faults == soak.faults_of(load(SOAK))
    assert faults == soak.merge((), soak.generate(scenario.soak, 5, scenario.duration))  # type: ignore[arg-type]
    other = soak.with_seed(scenario, 6)
    assert other.seed == 6 and soak.faults_of(other) != faults
    assert soak.with_seed(other, 5) == scenario  # redrawing is exact, hand-written events kept
    assert load(SOAK.replace("seed: 5", "seed: 6")).events == other.events


def test_every_kind_is_drawn_inside_the_window_with_its_line() -> None:
    """A soak would miss a fault kind, fire faults outside its window, or repair a link before it
    went down."""
    scenario = load(SOAK)
    start, end = 2 * 3600.0, scenario.duration - 3 * 3600.0
    faults = soak.faults_of(scenario)
    by_line = {20 + i: kind for i, kind in enumerate(("link", "power", "clock", "http"), 1)}
    kinds = {by_line[event.line] for event in faults}
    assert kinds == {"link", "power", "clock", "http"}
    for event in faults:
        assert start <= event.at <= end, event.describe()
    downs = [e for e in faults if isinstance(e, m.LinkEvent) and not e.up]
    ups = [e for e in faults if isinstance(e, m.LinkEvent) and e.up]
    assert len(downs) == len(ups) > 3
    assert {(e.a, e.b) for e in downs} == {("ca", "r1"), ("ca", "r2")}
    powered = {e.router for e in faults if isinstance(e, m.PowerEvent)}
    assert powered <= {"r1", "r2"} and powered
    assert {e.router for e in faults if isinstance(e, m.HttpServerEvent)} == {"ca"}
    jumps = [e for e in faults if isinstance(e, m.ClockJumpEvent)]
    assert jumps and all(abs(e.seconds) <= 7200 for e in jumps)
    # Merged by time, the hand-written event first; every repair follows its failure.
    assert [e.at for e in scenario.events] == sorted(e.at for e in scenario.events)
    assert scenario.events[0] == m.CliEvent(60.0, "r1", ("show clock",), (), 19)
    for down, up in zip(sorted(downs, key=lambda e: (e.a, e.b, e.at)),
                        sorted(ups, key=lambda e: (e.a, e.b, e.at)), strict=True):
        assert down.at <= up.at


def test_soak_turns_invariants_on_unless_told_otherwise() -> None:
    """A soak scenario would run without its invariant checks, or `invariants: false` would not turn
    them off."""
    scenario = load(SOAK)
    assert scenario.invariants and scenario.soak is not None
    invariants = [x for x in scenario.expectations if isinstance(x, m.InvariantExpect)]
    assert [x.invariant for x in invariants] == list(m.INVARIANTS)
    assert {x.line for x in invariants} == {20}
    assert invariants[1].describe() == "invariant: no CA issued a serial twice"
    assert not load(SOAK + "invariants: false\n").invariants
    assert not load(BASE).invariants
    assert len(load(BASE + "invariants: true\n").expectations) == len(m.INVARIANTS)


def test_the_run_redraws_the_faults_for_its_seed() -> None:
    """`pkilab run --seed N` on a soak scenario would not replay the faults drawn for that seed."""
    scenario = load(BASE.replace("30d", "2d") + "soak:\n  link_flaps: {mtbf: 6h, mttr: 10m}\n")
    result = run_scenario(scenario, seed=9)
    assert result.seed == 9 and result.scenario.seed == 9
    assert soak.faults_of(result.scenario) == soak.faults_of(soak.with_seed(scenario, 9))
    played = [e for e in result.world.env.trace.select(category="scenario", name="event")
              if e.data["line"] == 21]
    assert len(played) == len(soak.faults_of(result.scenario)) > 0


CASES = [
    (BASE + "soak:\n  power_cycles: {mtbf: 1d, mttr: 5m, routers: [r1, r3]}\n", 21,
     "soak.power_cycles: unknown router 'r3' (routers are: ca, r1, r2)"),
    (BASE + "soak:\n  link_flaps:\n    mtbf: 1d\n    mttr: 5m\n    links: [[r1, r2]]\n", 24,
     "soak.link_flaps.links[0]: there is no link between r1 and r2"),
    (BASE + "soak:\n  link_flaps: {mtbf: 0s, mttr: 5m}\n", 21,
     "soak.link_flaps.mtbf: must be longer than 0s"),
    (BASE + "soak:\n  link_flaps: {mtbf: 1d}\n", 21, "missing required key 'mttr'"),
    (BASE + "soak:\n  clock_jumps: {mtbf: 1d, mttr: 5m}\n", 21,
     "soak.clock_jumps: unknown key 'mttr'"),
    (BASE + "soak:\n  quiet_after: 1h\n", 20, "soak: needs at least one fault kind"),
    (BASE + "soak:\n  link_flaps: {mtbf: 1d, mttr: 5m}\n  quiet_before: 20d\n"
            "  quiet_after: 10d\n", 20, "soak: no time is left for faults"),
    (BASE + "soak:\n  link_flaps: {mtbf: 1m, mttr: 1m}\n", 20,
     "at most 10000 are allowed (raise mtbf or shorten the run)"),
    (BASE.replace("      ip http server\n", "") + "soak:\n  http_toggles: {mtbf: 1d, mttr: 1h}\n",
     20, "soak.http_toggles: no router's startup config has 'ip http server'"),
    (BASE + "soak:\n  power_cycles: {mtbf: 1d, mttr: 5m, routers: [r1, r1]}\n", 21,
     "router r1 is listed twice"),
]


@pytest.mark.parametrize(("text", "line", "phrase"), CASES, ids=[c[2][:48] for c in CASES])
def test_error_names_line_and_problem(text: str, line: int, phrase: str) -> None:
    """A mistake in a scenario's `soak:` section would not be reported with its line and what is
    wrong."""
    with pytest.raises(ScenarioError) as info:
        load(text)
    assert str(info.value).startswith(f"x.yaml:{line}: "), str(info.value)
    assert phrase in info.value.message, str(info.value)


# -- replaying a failing seed ------------------------------------------------------------------

FRAGILE = """\
name: fragile-soak
description: r2 enrolls, but never saves its configuration; a power cycle loses it.
seed: 0
duration: 3h
routers:
  ca:
    address: 10.0.0.1
    config: |
      hostname ca
      ip http server
  r2:
    address: 10.0.0.2
    config: hostname r2
links:
  - endpoints: [ca, r2]
events:
  - at: 5s
    router: ca
    cli: [enable, configure terminal, crypto pki server ca, grant auto, no shutdown, end]
    input: [capass123, capass123]
  - at: 1m
    router: r2
    cli: [enable, configure terminal, crypto pki trustpoint ca, enrollment url http://10.0.0.1,
          exit, crypto pki authenticate ca, crypto pki enroll ca, end]
    input: ["yes", challenge1, challenge1, "no", "no", "yes"]
soak:
  power_cycles: {mtbf: 3h, mttr: 5m, routers: [r2]}
  quiet_before: 10m
expect:
  - {router: r2, certificate_verifies: ca}
"""


def test_a_failing_seed_replays_with_its_one_line_command(tmp_path: Path) -> None:
    """The one-line `pkilab run ... --seed N` printed for a failing soak would not reproduce the
    same failure."""
    from sim.cli import main

    path = tmp_path / "fragile.yaml"
    path.write_text(FRAGILE)
    scenario = load_scenario(path)
    failing = next(result for result in (run_scenario(scenario, seed=seed)
                                         for seed in range(20)) if not result.passed)
    assert any(isinstance(e, m.PowerEvent) for e in failing.scenario.events)
    command = failing.replay
    assert command == f"pkilab run {path} --seed {failing.seed}"

    def observed(results: list) -> list[tuple[str, bool, str]]:
        return [(r.expectation.describe(), r.passed, r.observed) for r in results]

    program, verb, file, *options = shlex.split(command)
    assert (program, verb, options[0]) == ("pkilab", "run", "--seed")
    again = run_scenario(load_scenario(file), seed=int(options[1]))
    assert observed(again.results) == observed(failing.results)
    assert again.scenario.events == failing.scenario.events
    summaries = []
    for out in ("a", "b"):
        outcome = CliRunner().invoke(main, [verb, file, *options, "--out", str(tmp_path / out)])
        assert outcome.exit_code == 1, outcome.output
        summaries.append(json.loads((tmp_path / out / "summary.json").read_text()))
    assert summaries[0] == summaries[1]
    assert summaries[0]["replay"] == command and summaries[0]["seed"] == failing.seed
    assert [(e["check"], e["passed"], e["observed"]) for e in summaries[0]["expectations"]] \
        == observed(failing.results)
