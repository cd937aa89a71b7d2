"""`--shrink`: a failing soak seed reduced to the fewest faults that still fail the same way.

A soak seed that fails after a month of faults tells what broke, not which of its hundred
faults matter. Shrinking answers that:

1. The seed's faults are materialised (`sim.scenario.soak.with_seed`): the link flaps,
   power cycles, clock jumps and HTTP toggles it draws become explicit events.
2. A fault is a unit: a down and the up that repairs it (a link, a power cut, an HTTP
   server) go or stay together -- removing only the repair would leave the thing broken
   to the end, a different failure -- and a clock jump is one.
3. Units are removed while the run still fails *the same way*: the same expectations and
   invariants broken (`sim.sweep.triage.what_broke`). Removal goes by delta debugging
   (Zeller's ddmin, complement steps): halves first, then quarters, down to one unit at a
   time, so a list of a hundred faults takes tens of runs, not thousands; the result is
   1-minimal: removing any one remaining unit makes the failure go away or change.
4. The scenario with only those faults is written with `sim.scenario.writer` (the faults
   as plain events, no `soak:`), loaded back, and run once more: the file is kept only
   if it validates and still fails the same way.

Runs here happen in this process, one after another: a shrink is a short sequence of
runs whose each step depends on the last.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from sim.scenario import model as m
from sim.scenario import soak
from sim.scenario.loader import ScenarioError, load_scenarios
from sim.scenario.runner import run_scenario
from sim.scenario.writer import ScenarioWriteError, scenario_yaml

MAX_RUNS = 400
"""Runs one shrink may take, at most: ddmin's worst case is quadratic in the faults."""


@dataclass(frozen=True)
class Shrunk:
    """The outcome of shrinking one seed."""

    seed: int
    broke: tuple[str, ...]
    faults_before: int
    faults_after: int
    runs: int
    file: Path | None
    problem: str = ""
    """Why no file was written (the seed passes, the written file fails otherwise...)."""

    def line(self) -> str:
        if self.file is None:
            return f"shrink seed {self.seed}: {self.problem}"
        return (f"shrink seed {self.seed}: {self.faults_before} -> {self.faults_after} "
                f"fault(s) still break {'; '.join(self.broke)} ({self.runs} runs): "
                f"{self.file}")


def fault_units(scenario: m.Scenario) -> list[tuple[m.Event, ...]]:
    """The scenario's soak faults as units: each down with the up that repairs it (the
    next up of the same kind and target), each clock jump alone; by time of the first."""
    units: list[list[m.Event]] = []
    open_: dict[tuple[str, ...], list[m.Event]] = {}
    for event in soak.faults_of(scenario):
        alone: list[m.Event] = [event]
        if isinstance(event, m.ClockJumpEvent):
            units.append(alone)
            continue
        key, down = _target(event)
        if down:
            units.append(alone)
            open_[key] = alone
        elif key in open_:
            open_.pop(key).append(event)
        else:  # an up without a down (none is drawn so): a unit of its own
            units.append(alone)
    return [tuple(unit) for unit in units]


def _target(event: m.Event) -> tuple[tuple[str, ...], bool]:
    """(kind and target, whether the event breaks it) of a repairable fault."""
    if isinstance(event, m.LinkEvent):
        return ("link", *sorted((event.a, event.b))), not event.up
    if isinstance(event, m.PowerEvent):
        return ("power", event.router), not event.on
    if isinstance(event, m.HttpServerEvent):
        return ("http", event.router), not event.on
    return ("other", event.describe()), True


def with_faults(scenario: m.Scenario, units: list[tuple[m.Event, ...]]) -> m.Scenario:
    """`scenario` (faults materialised) with only the faults of `units` left."""
    faults = set(map(id, soak.faults_of(scenario)))
    kept = {id(event) for unit in units for event in unit}
    events = tuple(e for e in scenario.events if id(e) not in faults or id(e) in kept)
    return replace(scenario, events=events)


def broke(scenario: m.Scenario, seed: int, key_cache: Path | None,
          strict: bool = False) -> tuple[str, ...]:
    """What a run of `scenario` breaks (sorted descriptions); () when it passes."""
    result = run_scenario(scenario, seed=seed, key_cache=key_cache, strict=strict)
    failed = {r.expectation.describe() for r in result.results if not r.passed}
    if result.strict_failure:
        failed.add(f"operator warnings ({len(result.warnings)})")
    return tuple(sorted(failed))


def ddmin(units: list[tuple[m.Event, ...]],
          fails: Callable[[list[tuple[m.Event, ...]]], bool], budget: int
          ) -> tuple[list[tuple[m.Event, ...]], int]:
    """The smallest sublist of `units` found for which `fails` holds (it holds for
    `units`), by complement removal; and how many times `fails` was called."""
    calls = 0
    chunks = 2
    while len(units) >= 1 and calls < budget:
        size = max(1, len(units) // chunks)
        removed_one = False
        start = 0
        while start < len(units) and calls < budget:
            candidate = units[:start] + units[start + size:]
            calls += 1
            if fails(candidate):
                units = candidate
                removed_one = True
                chunks = max(chunks - 1, 2)
                size = max(1, len(units) // chunks)
                continue  # the same start now holds the next chunk
            start += size
        if not removed_one:
            if size == 1:
                break
            chunks = min(len(units), chunks * 2)
    return units, calls


def shrink(scenario: m.Scenario, seed: int, out: Path, key_cache: Path | None = None,
           strict: bool = False) -> Shrunk:
    """Shrink `seed` of `scenario` (as loaded from its file, the run of a matrix chosen)
    and write the minimal scenario to `out`."""
    drawn = soak.with_seed(scenario, seed)
    units = fault_units(drawn)
    target = broke(drawn, seed, key_cache, strict)
    if not target:
        return Shrunk(seed, (), len(units), len(units), 1, None, "the seed passes")
    if not units:
        return Shrunk(seed, target, 0, 0, 1, None, "the run has no soak faults to remove")

    def fails(candidate: list[tuple[m.Event, ...]]) -> bool:
        return broke(with_faults(drawn, candidate), seed, key_cache, strict) == target

    kept, calls = ddmin(units, fails, MAX_RUNS)
    minimal = with_faults(drawn, kept)
    try:
        text = scenario_yaml(replace(minimal, description=_description(minimal, seed,
                                                                       len(units), kept)))
    except ScenarioWriteError as error:
        return Shrunk(seed, target, len(units), len(kept), calls + 1, None,
                      f"cannot write the scenario: {error}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    try:
        (written,) = load_scenarios(out)
    except (ScenarioError, ValueError) as error:
        return Shrunk(seed, target, len(units), len(kept), calls + 1, None,
                      f"the written file {out} does not load: {error}")
    again = broke(written, seed, key_cache, strict)
    if again != target:
        return Shrunk(seed, target, len(units), len(kept), calls + 2, None,
                      f"the written file {out} fails otherwise ({'; '.join(again) or 'passes'})")
    return Shrunk(seed, target, len(units), len(kept), calls + 2, out)


def _description(scenario: m.Scenario, seed: int, before: int,
                 kept: list[tuple[m.Event, ...]]) -> str:
    faults = "\n".join(f"  - {event.describe()}" for unit in kept for event in unit)
    which = "this one alone still fails" if len(kept) == 1 else \
        f"these {len(kept)} alone still fail"
    note = textwrap.fill(f"Shrunk by `pkilab sweep --shrink` from seed {seed}: of its "
                         f"{before} soak faults, {which} the run the same way:", 88)
    return f"{scenario.description.rstrip()}\n\n{note}\n{faults or '  (none)'}"
