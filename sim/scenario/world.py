"""Build the simulated world of a scenario: environment, network, routers, bridges.

A bridge (`bridge:`) is a network node without a `Router`: it lives in `World.net` only,
and what answers at its address is the real server of `sim.net.bridge`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.kernel.clock import RouterClock
from sim.kernel.env import SimEnv
from sim.net.topology import Network
from sim.pki.keys import KeySource, default_cache_dir
from sim.router.router import Router
from sim.scenario.model import RouterSpec, Scenario


@dataclass
class World:
    env: SimEnv
    net: Network
    routers: dict[str, Router]
    file: str = ""
    """The scenario's file name (its name, for one loaded from text): a `cli` event
    types its lines tagged `file:line` (`sim.scenario.operator_warnings`)."""


def build_world(scenario: Scenario, seed: int, key_cache: Path | None = None) -> World:
    env = SimEnv(seed, scenario.start)
    net = Network(env)
    keysource = KeySource(seed, key_cache if key_cache is not None else default_cache_dir())
    routers: dict[str, Router] = {}
    for spec in scenario.routers:
        net.add_node(spec.name, spec.address)
        routers[spec.name] = Router(
            env,
            net,
            spec.name,
            spec.address,
            make_clock(env, spec),
            keysource,
            startup_config=list(spec.config),
            release=spec.release,
        )
    for bridge in scenario.bridges:
        net.add_bridge(bridge.name, bridge.address, bridge.url, port=bridge.port,
                       timeout=bridge.timeout)
    for link in scenario.links:
        net.add_link(link.a, link.b, latency=link.latency, loss=link.loss)
    for router in routers.values():
        router.start()
    file = scenario.source.name if scenario.source is not None else scenario.name
    return World(env, net, routers, file)


def make_clock(env: SimEnv, spec: RouterSpec) -> RouterClock:
    """The router clock a `RouterSpec`'s `clock:` describes."""
    c = spec.clock
    return RouterClock(
        env,
        is_set=c.set,
        value=c.value,
        offset=c.offset,
        drift_ppm=c.drift_ppm,
        authoritative=c.authoritative,
        calendar=c.calendar,
    )
