"""The simulation environment: one simpy kernel, one seeded RNG, one trace per run.

Nothing in pkilab keeps module-level state; everything that needs time, randomness or
the trace is handed a `SimEnv` explicitly (as SimPy's own examples pass `env`).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import simpy

from sim.kernel.process import SimProcess
from sim.kernel.trace import Trace, TraceEvent


class SimEnv:
    """Simulated time in seconds since `start` (the true UTC time at t=0)."""

    def __init__(self, seed: int = 0, start: datetime | None = None) -> None:
        self.seed = seed
        self.start = start or datetime(2005, 1, 6, 20, 0, 0, tzinfo=UTC)
        if self.start.tzinfo is None:
            self.start = self.start.replace(tzinfo=UTC)
        self.sim = simpy.Environment()
        self.rng = random.Random(seed)
        self.trace = Trace()

    @property
    def now(self) -> float:
        return float(self.sim.now)

    def true_time(self) -> datetime:
        """The real (UTC) time of the simulated world right now."""
        return self.start + timedelta(seconds=self.now)

    def emit(self, router: str | None, category: str, name: str, /, **data: Any) -> TraceEvent:
        return self.trace.record(float(self.sim.now), router, category, name, data)

    def process(self, generator: SimProcess[Any]) -> simpy.Process:
        return self.sim.process(generator)

    def timeout(self, delay: float, value: Any = None) -> simpy.Timeout:
        return self.sim.timeout(max(0.0, delay), value)

    def event(self) -> simpy.Event:
        return self.sim.event()

    def run(self, until: float | simpy.Event | None = None) -> None:
        self.sim.run(until=until)
