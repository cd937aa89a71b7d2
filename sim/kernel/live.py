"""A simulation that keeps pace with the host clock, for live labs.

A scenario run plays simulated time as fast as the host computes it. A live lab (a
console a person types at, routers served to real SCEP clients) must not: a CA that
takes 1.6 s of simulated time to answer a request would otherwise answer at once and
stamp certificates a few seconds ahead of the host clock, and real clients would find
them "not yet valid". `LiveClock` runs the simulation from a thread of its own so that
simulated time follows the host clock (at `speed` times its pace), and lets other
threads (HTTP connections, the console) work on the simulation under its `lock`:

    live = LiveClock(env)
    live.start()
    with live.lock:
        router.type_lines(["show clock"], [])
    process = live.submit(handler(request))      # a simulated process
    live.wait(process, timeout=30.0)             # real seconds, while time goes on
    live.warp(600)                               # ten simulated minutes at once
    live.stop()

Time never runs backwards: `warp` moves the simulation ahead and the host reference with
it, and a `speed` change keeps the current simulated time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import simpy

from sim.kernel.env import SimEnv
from sim.kernel.process import SimProcess

TICK_SECONDS = 0.02
"""How often (host seconds) the clock thread catches the simulation up."""


class LiveClock:
    """Drives `env` in step with a host clock; `lock` guards every use of the simulation."""

    def __init__(self, env: SimEnv, *, speed: float = 1.0,
                 host_clock: Callable[[], float] = time.monotonic,
                 tick: float = TICK_SECONDS) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be above 0, not {speed}")
        self.env = env
        self.lock = threading.RLock()
        self._host_clock = host_clock
        self._tick = tick
        self._speed = speed
        self._paused = False
        self._base_sim = env.now
        self._base_host = host_clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        """What stopped the clock thread, if the simulation raised."""

    # -- pace ------------------------------------------------------------------------------
    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    def target(self) -> float:
        """The simulated time the host clock says it is now."""
        if self._paused:
            return self._base_sim
        return self._base_sim + (self._host_clock() - self._base_host) * self._speed

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be above 0, not {speed}")
        with self.lock:
            self._rebase()
            self._speed = speed

    def pause(self) -> None:
        with self.lock:
            self._rebase()
            self._paused = True

    def resume(self) -> None:
        with self.lock:
            self._paused = False
            self._base_host = self._host_clock()

    def warp(self, seconds: float) -> None:
        """Move simulated time `seconds` ahead at once (everything due on the way runs)."""
        with self.lock:
            self.catch_up()
            self._run_until(self.env.now + max(0.0, seconds))
            self._base_sim = self.env.now
            self._base_host = self._host_clock()

    def _rebase(self) -> None:
        self.catch_up()
        self._base_sim = max(self.env.now, self.target())
        self._base_host = self._host_clock()

    # -- running ---------------------------------------------------------------------------
    def catch_up(self) -> None:
        """Run the simulation up to the host clock's time (callers hold `lock`)."""
        self._run_until(self.target())

    def _run_until(self, until: float) -> None:
        if until > self.env.now:
            self.env.run(until=until)

    def start(self) -> LiveClock:
        if self._thread is None:
            self._base_host = self._host_clock()
            self._base_sim = self.env.now
            self._thread = threading.Thread(target=self._loop, name="live-clock", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LiveClock:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _loop(self) -> None:
        while not self._stop.wait(self._tick):
            try:
                with self.lock:
                    self.catch_up()
            except BaseException as error:  # the simulation failed: keep the reason, stop
                self.error = error
                return

    # -- work from other threads -------------------------------------------------------------
    def submit(self, generator: SimProcess[Any]) -> simpy.Process:
        """Start a simulated process; it runs as simulated time goes on."""
        with self.lock:
            return self.env.process(generator)

    def wait(self, event: simpy.Event, timeout: float) -> bool:
        """Block this thread (up to `timeout` host seconds) until `event` has happened in
        the simulation; the clock thread keeps time going meanwhile."""
        done = threading.Event()
        with self.lock:
            if event.processed:
                return True
            event.callbacks.append(lambda _event: done.set())
        if self._thread is None:
            # Nobody drives the simulation: run it here (a lab without a clock thread).
            with self.lock:
                self.env.run(until=event)
            return True
        return done.wait(timeout)
