"""Randomized fault soaks: `soak:` turned into ordinary, seeded timeline events.

A soak asks for random faults over a long run instead of a hand-written timeline::

    soak:
      link_flaps:   {mtbf: 2d, mttr: 30m, links: [[core, r2]]}  # default: every link
      power_cycles: {mtbf: 10d, mttr: 5m, routers: [r1]}        # default: every router
      clock_jumps:  {mtbf: 15d, max: 2h}                        # default: every router
      http_toggles: {mtbf: 10d, mttr: 1h}     # default: routers configured `ip http server`
      quiet_before: 1h      # no faults while the lab is set up (default 0)
      quiet_after: 1h       # no faults at the end, so the system can settle (default 1h)

Theory of operation: each target (a link or a router) of each kind is an independent
alternating renewal process. Failures come an exponential time apart with mean `mtbf`,
measured from the previous repair (a thing that is down cannot fail again), and each is
repaired an exponential time later with mean `mttr`. Faults start only inside the window
[quiet_before, duration - quiet_after], and a repair that would fall after the window is
pulled back to its end, so the whole quiet period is left for recovery and nothing is
still broken when the invariants are checked. A clock jump is instantaneous: a step of
uniform(-max, +max). Times and steps are rounded to the millisecond so reports read well.

The faults become the same frozen events a hand-written timeline has (`LinkEvent`
down/up, `PowerEvent` off/on, `ClockJumpEvent`, `HttpServerEvent` off/on), each with the
`line` of its kind's key in the file, merged into the scenario's events by time (stable:
at the same instant the hand-written events come first). They are drawn here, when the
scenario is built, so a loaded scenario shows every fault it will play.

Determinism: the numbers come from a `random.Random` seeded from (seed, "soak", kind,
target) -- never from the run's own RNG, so a soak's faults do not shift when a
protocol detail draws one more random byte, and adding a router or a fault kind leaves
the other targets' faults as they were. `with_seed` redraws them for another seed, which
is what `pkilab run FILE --seed N` does, and why that one line replays a failing seed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sim.scenario import model as m
from sim.scenario.durations import format_duration
from sim.scenario.yaml_lines import JsonPath

if TYPE_CHECKING:
    from sim.scenario.builder import Builder

FAULT_KINDS = ("link_flaps", "power_cycles", "clock_jumps", "http_toggles")
"""The `soak:` fault kinds, in the order their faults are drawn."""

DEFAULT_QUIET_AFTER = 3600.0
"""One hour without new faults at the end: long enough for a router to boot, a CS to run
its checks and a client to poll a few times at the default one-minute retry period."""

MAX_FAULTS = 10_000
"""Expected faults per soak, at most: a soak is a long run, not a flood of events."""


@dataclass(frozen=True)
class FaultProcess:
    """One kind of random fault, e.g. `link_flaps: {mtbf: 2d, mttr: 30m}`.

    `targets` are the links (`(a, b)`) or routers (`(name,)`) that fail independently. A
    clock jump has no repair: `mttr` is 0 and `max_jump` bounds the step instead.
    """

    kind: str
    mtbf: float
    targets: tuple[tuple[str, ...], ...]
    mttr: float = 0.0
    max_jump: float = 0.0
    line: int = 0


@dataclass(frozen=True)
class SoakSpec:
    """A scenario's `soak:`; `line` is the line of the `soak:` key."""

    processes: tuple[FaultProcess, ...]
    quiet_before: float = 0.0
    quiet_after: float = DEFAULT_QUIET_AFTER
    line: int = 0

    def window(self, duration: float) -> tuple[float, float]:
        """When faults may start: after `quiet_before`, before the last `quiet_after`."""
        return self.quiet_before, duration - self.quiet_after


# -- from the file -------------------------------------------------------------------------


def parse(spec: dict[str, Any], path: JsonPath, builder: Builder) -> SoakSpec:
    """Check `soak:` (the schema has checked its shape) against the topology."""
    fail, line = builder.fail, builder.errors.line
    quiet_before = builder.seconds(spec.get("quiet_before", 0), path + ("quiet_before",))
    quiet_after = builder.seconds(spec.get("quiet_after", DEFAULT_QUIET_AFTER),
                                  path + ("quiet_after",))
    start, end = quiet_before, builder.duration - quiet_after
    if end <= start:
        fail(path, f"no time is left for faults: quiet_before {format_duration(quiet_before)}"
                   f" and quiet_after {format_duration(quiet_after)} cover the whole "
                   f"{format_duration(builder.duration)} run")
    processes = []
    for kind in FAULT_KINDS:
        if kind in spec:
            processes.append(_process(kind, spec[kind], path + (kind,), builder))
    expected = sum(len(p.targets) * (end - start) / (p.mtbf + p.mttr) for p in processes)
    if expected > MAX_FAULTS:
        count = f"about {math.ceil(expected)}" if math.isfinite(expected) else "infinitely many"
        fail(path, f"these rates would draw {count} faults over "
                   f"{format_duration(end - start)}; at most {MAX_FAULTS} are allowed "
                   "(raise mtbf or shorten the run)")
    return SoakSpec(tuple(processes), quiet_before, quiet_after, line(path))


def _process(kind: str, spec: dict[str, Any], path: JsonPath, builder: Builder
             ) -> FaultProcess:
    fail = builder.fail
    mtbf = builder.seconds(spec["mtbf"], path + ("mtbf",))
    if mtbf <= 0:
        fail(path + ("mtbf",), "must be longer than 0s")
    mttr = max_jump = 0.0
    if kind == "clock_jumps":
        max_jump = builder.seconds(spec["max"], path + ("max",))
        if max_jump <= 0:
            fail(path + ("max",), "must be longer than 0s")
    else:
        mttr = builder.seconds(spec["mttr"], path + ("mttr",))
        if mttr <= 0:
            fail(path + ("mttr",), "must be longer than 0s")
    if kind == "link_flaps":
        targets = _links(spec, path, builder)
    else:
        targets = _routers(kind, spec, path, builder)
    return FaultProcess(kind, mtbf, targets, mttr, max_jump, builder.errors.line(path))


def _links(spec: dict[str, Any], path: JsonPath, builder: Builder
           ) -> tuple[tuple[str, ...], ...]:
    if "links" not in spec:
        if not builder.links:
            builder.fail(path, "the scenario has no links to flap (see 'links')")
        return tuple((link.a, link.b) for link in builder.links.values())
    targets: list[tuple[str, ...]] = []
    for index, (a, b) in enumerate(spec["links"]):
        where = path + ("links", index)
        builder.known_node(a, where + (0,))
        builder.known_node(b, where + (1,))
        if frozenset((a, b)) not in builder.links:
            builder.fail(where, f"there is no link between {a} and {b} (see 'links')")
        if any(frozenset(t) == frozenset((a, b)) for t in targets):
            builder.fail(where, f"the link between {a} and {b} is listed twice")
        targets.append((a, b))
    return tuple(targets)


def _routers(kind: str, spec: dict[str, Any], path: JsonPath, builder: Builder
             ) -> tuple[tuple[str, ...], ...]:
    if "routers" in spec:
        names: list[str] = []
        for index, name in enumerate(spec["routers"]):
            builder.known_router(name, path + ("routers", index))
            if name in names:
                builder.fail(path + ("routers", index), f"router {name} is listed twice")
            names.append(name)
        return tuple((name,) for name in names)
    if kind != "http_toggles":
        return tuple((name,) for name in builder.routers)
    # Toggling a server nobody configured would *start* one; the default is the routers
    # whose startup config runs the HTTP server (those that can serve SCEP).
    serving = [spec_.name for spec_ in builder.routers.values()
               if any(line.strip() == "ip http server" for line in spec_.config)]
    if not serving:
        builder.fail(path, "no router's startup config has 'ip http server'; list the "
                           "routers whose HTTP server to toggle under 'routers'")
    return tuple((name,) for name in serving)


# -- drawing the faults --------------------------------------------------------------------


def generate(spec: SoakSpec, seed: int, duration: float) -> tuple[m.Event, ...]:
    """The faults of `spec` for `seed`, in drawing order (kind, target, time)."""
    start, end = spec.window(duration)
    events: list[m.Event] = []
    for process in spec.processes:
        for target in process.targets:
            rng = random.Random(f"{seed}/soak/{process.kind}/{'-'.join(target)}")
            events += _draw(process, target, rng, start, end)
    return tuple(events)


def _draw(process: FaultProcess, target: tuple[str, ...], rng: random.Random,
          start: float, end: float) -> list[m.Event]:
    events: list[m.Event] = []
    line = process.line
    t = start
    while True:
        t += rng.expovariate(1.0 / process.mtbf)
        if t > end:
            return events
        at = round(t, 3)
        if process.kind == "clock_jumps":
            step = round(rng.uniform(-process.max_jump, process.max_jump), 3)
            events.append(m.ClockJumpEvent(at, target[0], step, line))
            continue
        t = min(t + rng.expovariate(1.0 / process.mttr), end)
        back = round(t, 3)
        if process.kind == "link_flaps":
            a, b = target
            events += [m.LinkEvent(at, a, b, False, line), m.LinkEvent(back, a, b, True, line)]
        elif process.kind == "power_cycles":
            events += [m.PowerEvent(at, target[0], False, line),
                       m.PowerEvent(back, target[0], True, line)]
        else:
            events += [m.HttpServerEvent(at, target[0], False, line),
                       m.HttpServerEvent(back, target[0], True, line)]


def merge(events: tuple[m.Event, ...] | list[m.Event], faults: tuple[m.Event, ...]
          ) -> tuple[m.Event, ...]:
    """Hand-written events and faults by time; stable, hand-written ones first."""
    return tuple(sorted([*events, *faults], key=lambda event: event.at))


def faults_of(scenario: m.Scenario) -> tuple[m.Event, ...]:
    """The soak's faults among the scenario's events (they carry their kind's line)."""
    if scenario.soak is None:
        return ()
    lines = {process.line for process in scenario.soak.processes}
    return tuple(event for event in scenario.events if event.line in lines)


def with_seed(scenario: m.Scenario, seed: int) -> m.Scenario:
    """The scenario with its soak faults redrawn for `seed` (itself if nothing changes).

    The runner calls this for `--seed N`: a soak's faults belong to the seed of the run,
    so a seed found failing in a sweep replays with the very same faults.
    """
    if scenario.soak is None or seed == scenario.seed:
        return scenario
    lines = {process.line for process in scenario.soak.processes}
    base = [event for event in scenario.events if event.line not in lines]
    faults = generate(scenario.soak, seed, scenario.duration)
    return replace(scenario, seed=seed, events=merge(base, faults))
