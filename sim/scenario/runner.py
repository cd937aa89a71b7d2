"""Run a scenario: build the world, play the timeline, check the expectations.

A soak's faults belong to the seed of the run: `run_scenario(scenario, seed=N)` redraws
them for N (`sim.scenario.soak.with_seed`), so `pkilab run FILE --seed N` replays exactly
the faults a sweep found failing, and `RunResult.scenario` holds the events that played.
End-of-run invariants (`InvariantExpect`) are judged by `sim.scenario.invariants`.
A `cli` event types its lines tagged with its `file:line`, and the mistakes the consoles
report back through the trace become `RunResult.warnings`
(`sim.scenario.operator_warnings`); a strict run fails on any.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.kernel.gc_policy import batch_collection
from sim.kernel.process import SimProcess
from sim.scenario import chain_watch, invariants, soak
from sim.scenario.expectations import ExpectationResult, evaluate
from sim.scenario.key_plan import planned_keys
from sim.scenario.model import (
    CliEvent,
    ClockJumpEvent,
    ClockSetEvent,
    ClockUnsetEvent,
    Event,
    Expectation,
    HttpServerEvent,
    InvariantExpect,
    LinkChangeEvent,
    LinkEvent,
    PowerEvent,
    ReloadEvent,
    Scenario,
)
from sim.scenario.operator_warnings import OperatorWarning, WarningCollector
from sim.scenario.paste import resolve_input
from sim.scenario.replay import replay_command
from sim.scenario.world import World, build_world


@dataclass
class RunResult:
    scenario: Scenario
    seed: int
    world: World
    results: list[ExpectationResult]
    warnings: list[OperatorWarning] = field(default_factory=list)
    """The mistakes the scenario's typing made (`sim.scenario.operator_warnings`)."""
    strict: bool = False
    """Whether warnings fail the run (`--strict`, or `strict: true` in the file)."""

    @property
    def passed(self) -> bool:
        """Every expectation holds and, when strict, no operator warning was raised."""
        return self.expectations_hold and not self.strict_failure

    @property
    def expectations_hold(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def strict_failure(self) -> bool:
        """Strict, with warnings: they fail the run, whatever its expectations say."""
        return self.strict and bool(self.warnings)

    @property
    def replay(self) -> str:
        """The one-line command that runs this again (`sim.scenario.replay`), with
        `--strict` when that option, not the file, made the run strict."""
        strict = " --strict" if self.strict and not self.scenario.strict else ""
        return replay_command(self.scenario, self.seed) + strict


def run_scenario(
    scenario: Scenario, seed: int | None = None, key_cache: Path | None = None,
    setup: Callable[[World], None] | None = None, *, strict: bool = False,
) -> RunResult:
    """Play `scenario`. `setup`, if given, sees the world once it is built and before
    anything happens: a test harness adds its own processes there (an operator who looks
    at a router before typing, say) without a scenario event for them. With `strict` (or
    the file's `strict: true`), an operator warning fails the run."""
    seed = scenario.seed if seed is None else seed
    scenario = soak.with_seed(scenario, seed)
    world = build_world(scenario, seed, key_cache)
    collector = WarningCollector(scenario)
    world.env.trace.subscribe(collector)
    if setup is not None:
        setup(world)
    _pregenerate_keys(world, scenario)
    env = world.env
    env.emit(
        None,
        "scenario",
        "start",
        name=scenario.name,
        **({"variant": scenario.variant} if scenario.variant else {}),
        seed=seed,
        start=scenario.start.isoformat(),
        duration=scenario.duration,
    )
    schedule_events(world, scenario.events)
    if scenario.invariants:  # "a valid chain at its own clock" is looked at daily
        env.process(chain_watch.watch(world, scenario.duration))
    timed: list[ExpectationResult] = []
    for expectation in scenario.expectations:
        if expectation.at is not None:
            env.process(
                _at(world, expectation.at, lambda x=expectation: timed.append(_check(world, x)))
            )
    with batch_collection():
        env.run(until=scenario.duration)
    final = [_check(world, x) for x in scenario.expectations if x.at is None]
    order = {id(x): i for i, x in enumerate(scenario.expectations)}
    results = sorted(timed + final, key=lambda r: order[id(r.expectation)])
    result = RunResult(scenario, seed, world, results, collector.finish(),
                       strict or scenario.strict)
    for warning in result.warnings:
        env.emit(warning.router, "scenario", "warning", **warning.to_json())
    env.emit(None, "scenario", "end", passed=result.passed)
    return result


def _pregenerate_keys(world: World, scenario: Scenario) -> None:
    """Make the keys the scenario's routers will ask for and the key cache lacks, over
    every core, before the run (`sim.scenario.key_plan`): a cold run of thousands of
    routers otherwise generates them one after another on one core."""
    planned = planned_keys(scenario)
    if not planned:
        return
    sources = {id(router.keysource): router.keysource for router in world.routers.values()}
    for source in sources.values():
        source.pregenerate(planned)


def schedule_events(world: World, events: Iterable[Event]) -> None:
    """Play each event at its time (simulated seconds since the start)."""
    for event in events:
        world.env.process(_at(world, event.at, lambda e=event: apply_event(world, e)))


def _at(world: World, when: float, action: Any) -> SimProcess[None]:
    yield world.env.timeout(when - world.env.now)
    action()


def _check(world: World, expectation: Expectation) -> ExpectationResult:
    if isinstance(expectation, InvariantExpect):
        result = invariants.evaluate(world, expectation)
    else:
        result = evaluate(world, expectation)
    world.env.emit(
        expectation.router,
        "expect",
        "result",
        check=expectation.describe(),
        passed=result.passed,
        observed=result.observed,
    )
    return result


def apply_event(world: World, event: Event) -> None:
    """Do what a scenario event says, now."""
    env = world.env
    env.emit(
        getattr(event, "router", None), "scenario", "event", what=event.describe(), line=event.line
    )
    match event:
        case CliEvent():
            # The tag the console's mistakes carry (`sim.scenario.operator_warnings`);
            # an event built by code has no line to point at.
            source = f"{world.file}:{event.line}" if event.line and world.file else None
            world.routers[event.router].type_lines(
                event.lines, resolve_input(world, event), by_prompt=dict(event.answers),
                source=source)
        case LinkEvent():
            world.net.set_link_up(event.a, event.b, event.up)
        case LinkChangeEvent():
            world.net.set_link_params(event.a, event.b, latency=event.latency,
                                      loss=event.loss)
        case ClockSetEvent():
            router = world.routers[event.router]
            router.set_clock(event.value if event.value is not None else env.true_time())
        case ClockUnsetEvent():
            world.routers[event.router].clock.unset()
        case ClockJumpEvent():
            world.routers[event.router].clock.jump(event.seconds)
        case HttpServerEvent():
            world.routers[event.router].set_http_server(event.on)
        case ReloadEvent():
            world.routers[event.router].reload()
        case PowerEvent():
            router = world.routers[event.router]
            if event.on:
                router.power_on()
            else:
                router.power_off()
