"""Benchmark: how many simulated routers a laptop runs, and how fast.

    python -m sim.bench --routers 10000 --minutes 10

Builds a scenario in memory: a root CA router at the hub and N-1 routers in sites of
50 behind it (tree topology), every router booting from a startup config. The root
enables its certificate server; every 100th router runs `show crypto pki server` and
`dir nvram:`. Prints wall time, simulated seconds per wall second, trace events and
peak memory. Numbers, not assertions: this is not a test.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from datetime import UTC, datetime
from ipaddress import IPv4Address

from sim.scenario.model import CliEvent, LinkSpec, RouterSpec, Scenario
from sim.scenario.runner import run_scenario


def build(routers: int, minutes: float) -> Scenario:
    specs = [RouterSpec("root", "10.0.0.1", config=("hostname root", "ip http server"))]
    links = []
    base = int(IPv4Address("10.1.0.1"))
    for index in range(1, routers):
        name = f"r{index}"
        specs.append(RouterSpec(name, str(IPv4Address(base + index)),
                                config=(f"hostname {name}", "ip host root 10.0.0.1")))
        hub = "root" if index % 50 == 1 else f"r{index - index % 50 + 1}"
        links.append(LinkSpec(hub, name, latency=0.002))
    events = [CliEvent(10.0, "root", ("enable", "configure terminal", "crypto pki server root",
                                      "no shutdown", "end"), ("cisco123", "cisco123"))]
    events += [CliEvent(60.0 + i / 100, f"r{i}", ("enable", "show crypto pki server",
                                                   "dir nvram:"))
               for i in range(100, routers, 100)]
    return Scenario("bench", "benchmark", 1, datetime(2005, 1, 6, 21, tzinfo=UTC),
                    minutes * 60, tuple(specs), tuple(links), tuple(events), (), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routers", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    scenario = build(args.routers, args.minutes)
    tracemalloc.start()
    started = time.perf_counter()
    result = run_scenario(scenario)
    wall = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    state = result.world.routers["root"].server_state()
    print(f"routers: {args.routers}  simulated: {scenario.duration:.0f} s  "
          f"root CS: {state.value if state else None}")
    print(f"wall: {wall:.2f} s  ({scenario.duration / wall:.0f} simulated s per wall s)")
    print(f"trace events: {len(result.world.env.trace)}")
    print(f"peak memory (tracemalloc): {peak / 2**20:.1f} MiB "
          f"({peak / args.routers / 1024:.1f} KiB per router)")


if __name__ == "__main__":
    main()
