"""Small helpers to stand up routers in tests without a scenario file."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sim.kernel.clock import RouterClock
from sim.kernel.env import SimEnv
from sim.kernel.transcript import transcript_lines
from sim.net.topology import Network
from sim.pki.keys import KeySource
from sim.router.router import Router

START = datetime(2005, 1, 6, 21, 0, 0, tzinfo=UTC)


class Lab:
    def __init__(self, seed: int = 1) -> None:
        self.env = SimEnv(seed, START)
        self.net = Network(self.env)
        self.keys = KeySource(seed, Path(os.environ["PKILAB_KEY_CACHE"]))
        self.routers: dict[str, Router] = {}

    def router(self, name: str, address: str, config: str = "", *, clock_set: bool = True,
               calendar: bool = True) -> Router:
        self.net.add_node(name, address)
        clock = RouterClock(self.env, is_set=clock_set, calendar=calendar)
        lines = [f"hostname {name}"] + [line for line in config.splitlines() if line.strip()]
        router = Router(self.env, self.net, name, address, clock, self.keys, lines)
        router.start()
        self.routers[name] = router
        self.env.run(until=self.env.now + 0.001)
        return router

    def type(self, router: Router, text: str, answers: tuple[str, ...] = (),
             settle: float = 60.0) -> list[str]:
        """Type lines at the console, run until quiet, return the new transcript lines."""
        before = len(transcript_lines(self.env.trace, router.name))
        router.type_lines([line for line in text.splitlines()], list(answers))
        self.env.run(until=self.env.now + settle)
        return transcript_lines(self.env.trace, router.name)[before:]

    def run(self, seconds: float) -> None:
        self.env.run(until=self.env.now + seconds)
