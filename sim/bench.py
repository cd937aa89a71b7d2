"""Benchmark: how many simulated routers a laptop runs, and how fast.

    pkilab bench --routers 10000 --minutes 10

Builds a scenario in memory: a root CA router at the hub and N-1 routers in sites of
50 behind it (tree topology), every router booting from a startup config. The root
enables its certificate server with `grant auto`; `enrolling` routers authenticate it and
enroll over SCEP (real keys, real messages); every 100th router runs `show crypto pki
server` and `dir nvram:`. Prints wall time, simulated seconds per wall second, trace events and
peak memory. Numbers, not assertions: this is not a test.
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Address

from sim.scenario.model import CliEvent, LinkSpec, RouterSpec, Scenario
from sim.scenario.runner import run_scenario

ENROLL = ("enable", "configure terminal", "crypto pki trustpoint ca",
          "enrollment url http://10.0.0.1", "exit", "crypto pki authenticate ca",
          "crypto pki enroll ca", "end")
ENROLL_ANSWERS = ("yes", "challenge1", "challenge1", "no", "no", "yes")


def build(routers: int, minutes: float, enrolling: int = 0) -> Scenario:
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
                                      "grant auto", "no shutdown", "end"),
                       ("cisco123", "cisco123"))]
    step = max(1, (routers - 1) // max(enrolling, 1))
    events += [CliEvent(60.0 + i / 50, f"r{i}", ENROLL, ENROLL_ANSWERS)
               for i in range(1, routers, step)][:enrolling]
    events += [CliEvent(90.0 + i / 100, f"r{i}", ("enable", "show crypto pki server",
                                                   "dir nvram:"))
               for i in range(100, routers, 100)]
    return Scenario("bench", "benchmark", 1, datetime(2005, 1, 6, 21, tzinfo=UTC),
                    minutes * 60, tuple(specs), tuple(links), tuple(events), (), None)


@dataclass(frozen=True)
class BenchResult:
    routers: int
    simulated_seconds: float
    wall_seconds: float
    trace_events: int
    peak_bytes: int
    root_state: str | None
    enrolled: int

    def lines(self) -> list[str]:
        return [
            f"routers: {self.routers}  simulated: {self.simulated_seconds:.0f} s  "
            f"root CS: {self.root_state}",
            f"wall: {self.wall_seconds:.2f} s  "
            f"({self.simulated_seconds / self.wall_seconds:.0f} simulated s per wall s)",
            f"routers enrolled: {self.enrolled}",
            f"trace events: {self.trace_events}",
            f"peak memory (tracemalloc): {self.peak_bytes / 2**20:.1f} MiB "
            f"({self.peak_bytes / self.routers / 1024:.1f} KiB per router)",
        ]


def measure(routers: int = 10_000, minutes: float = 10.0, enrolling: int = 0) -> BenchResult:
    """Run the benchmark scenario once and measure it (host time is read here on purpose:
    this is the one place that times the simulator rather than simulating)."""
    scenario = build(routers, minutes, enrolling)
    tracemalloc.start()
    started = time.perf_counter()
    result = run_scenario(scenario)
    wall = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    state = result.world.routers["root"].server_state()
    enrolled = sum(1 for router in result.world.routers.values()
                   if any(tp.id_cert is not None for tp in router.running.trustpoints.values()))
    return BenchResult(routers, scenario.duration, wall, len(result.world.env.trace), peak,
                       state.value if state else None, enrolled)
