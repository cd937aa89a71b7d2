"""Run a scenario: build the world, play the timeline, check the expectations."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.scenario.expectations import ExpectationResult, evaluate
from sim.scenario.model import (
    CliEvent,
    ClockJumpEvent,
    ClockSetEvent,
    ClockUnsetEvent,
    Event,
    Expectation,
    HttpServerEvent,
    LinkChangeEvent,
    LinkEvent,
    PowerEvent,
    ReloadEvent,
    Scenario,
)
from sim.scenario.world import World, build_world


@dataclass
class RunResult:
    scenario: Scenario
    seed: int
    world: World
    results: list[ExpectationResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


def run_scenario(
    scenario: Scenario, seed: int | None = None, key_cache: Path | None = None
) -> RunResult:
    seed = scenario.seed if seed is None else seed
    world = build_world(scenario, seed, key_cache)
    env = world.env
    env.emit(
        None,
        "scenario",
        "start",
        name=scenario.name,
        seed=seed,
        start=scenario.start.isoformat(),
        duration=scenario.duration,
    )
    for event in scenario.events:
        env.process(_at(world, event.at, lambda e=event: _apply(world, e)))
    timed: list[ExpectationResult] = []
    for expectation in scenario.expectations:
        if expectation.at is not None:
            env.process(
                _at(world, expectation.at, lambda x=expectation: timed.append(_check(world, x)))
            )
    env.run(until=scenario.duration)
    final = [_check(world, x) for x in scenario.expectations if x.at is None]
    order = {id(x): i for i, x in enumerate(scenario.expectations)}
    results = sorted(timed + final, key=lambda r: order[id(r.expectation)])
    env.emit(None, "scenario", "end", passed=all(r.passed for r in results))
    return RunResult(scenario, seed, world, results)


def _at(world: World, when: float, action: Any) -> Generator[Any, Any, None]:
    yield world.env.timeout(when - world.env.now)
    action()


def _check(world: World, expectation: Expectation) -> ExpectationResult:
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


def _apply(world: World, event: Event) -> None:
    env = world.env
    env.emit(
        getattr(event, "router", None), "scenario", "event", what=event.describe(), line=event.line
    )
    match event:
        case CliEvent():
            world.routers[event.router].type_lines(list(event.lines), list(event.input))
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
