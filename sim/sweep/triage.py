"""Failure triage: a sweep's failing runs grouped by cause, so 300 failing seeds with one
cause show as one line.

Two runs fail the same way when, for the same scenario file and variant,

1. the same things broke: the descriptions of the failing expectations and invariants
   (or `timeout`, or the last line of the error), and
2. they diverged from the passing runs at the same kind of event: the *first diverging
   event* of a failing run is the earliest event signature (`sim.sweep.tasks.signature`,
   `category/name` without router or time) that occurs in it and in no passing run of
   the same (scenario, variant) in this sweep. Seeds differ in their faults' times, so
   it is the first kind of thing that never happens when all goes well -- the retry
   that gave up, the CS state a passing run never enters.

When no run of that (scenario, variant) passed there is nothing to diverge from; the
first fault applied (a link down, a power cut, a clock jump, an HTTP server off) stands
in for it, marked `first fault`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sim.sweep.tasks import ERROR, FAIL, FAULT_SIGNATURES, PASS, TIMEOUT, RunOutcome

NO_DIVERGENCE = "none (every event also occurs in a passing run)"


@dataclass
class Group:
    """Failing runs of one (scenario file, variant) that broke the same way."""

    path: str
    variant: str
    broke: tuple[str, ...]
    divergence: str
    seeds: list[int] = field(default_factory=list)
    replays: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    """Simulated time of the divergence in each run (when it has one)."""

    @property
    def count(self) -> int:
        return len(self.seeds)

    def line(self, seeds_shown: int = 8) -> str:
        """One line: how many runs, what broke, where they diverged, which seeds."""
        where = self.path + (f"[{self.variant}]" if self.variant else "")
        shown = ", ".join(str(seed) for seed in sorted(self.seeds)[:seeds_shown])
        more = f", ... ({self.count - seeds_shown} more)" if self.count > seeds_shown else ""
        when = ""
        if self.times:
            low, high = min(self.times), max(self.times)
            when = f" at {low:g} s" if low == high else f" at {low:g}-{high:g} s"
        return (f"{self.count} run{'s' if self.count != 1 else ''}  {where}  "
                f"{'; '.join(self.broke)}  -- first diverging event: "
                f"{self.divergence}{when}  -- seeds {shown}{more}")

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "variant": self.variant, "broke": list(self.broke),
                "first_diverging_event": self.divergence, "runs": self.count,
                "seeds": sorted(self.seeds), "replay": self.replays[0] if self.replays else "",
                "divergence_times": [min(self.times), max(self.times)] if self.times else []}


def what_broke(outcome: RunOutcome) -> tuple[str, ...]:
    """The failing expectations and invariants, or `timeout`, or the error's last line."""
    if outcome.status == TIMEOUT:
        return ("timeout",)
    if outcome.status == ERROR:
        last = [line for line in outcome.error.strip().splitlines() if line.strip()]
        return (f"error: {last[-1].strip() if last else 'unknown'}",)
    return tuple(sorted({failure.description for failure in outcome.failures})) or ("failed",)


def triage(outcomes: Iterable[RunOutcome]) -> list[Group]:
    """The failing runs (fail, timeout, error) grouped; biggest group first."""
    runs = list(outcomes)
    passing: dict[tuple[str, str], set[str]] = defaultdict(set)
    for outcome in runs:
        if outcome.status == PASS:
            passing[(outcome.path, outcome.variant)].update(outcome.signatures)
    groups: dict[tuple[str, str, tuple[str, ...], str], Group] = {}
    for outcome in runs:
        if outcome.status not in (FAIL, TIMEOUT, ERROR):
            continue
        divergence, when = first_divergence(outcome, passing.get((outcome.path,
                                                                  outcome.variant)))
        broke = what_broke(outcome)
        key = (outcome.path, outcome.variant, broke, divergence)
        group = groups.setdefault(key, Group(outcome.path, outcome.variant, broke,
                                             divergence))
        group.seeds.append(outcome.seed)
        group.replays.append(outcome.replay)
        if when is not None:
            group.times.append(when)
    return sorted(groups.values(), key=lambda g: (-g.count, g.path, g.variant, g.broke,
                                                  g.divergence))


def first_divergence(outcome: RunOutcome, passing: set[str] | None
                     ) -> tuple[str, float | None]:
    """The earliest signature of `outcome` that no passing run has, and its time; the
    first fault when nothing passed (`passing` is None)."""
    ordered = sorted(outcome.signatures.items(), key=lambda item: (item[1], item[0]))
    if passing is None:
        for name, when in ordered:
            if name in FAULT_SIGNATURES:
                return f"first fault {name} (no run of it passed)", when
        return "none (no run of it passed, and it applied no fault)", None
    for name, when in ordered:
        if name not in passing:
            return name, when
    return NO_DIVERGENCE, None
