"""Timer driver: runs a sans-IO core's timers on simulated time.

A timed core exposes `next_deadline()` (a wall time on its router's clock, or None) and
`on_timer(now)`; it never sleeps and never reads a clock (aioquic's pattern). The driver
sleeps in simulated time until the router clock reads the deadline, calls `on_timer` with
that clock's time and hands the returned effects to the owner. Call `poke()` whenever the
core's deadlines may have changed; clock discontinuities poke automatically.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Generic, Protocol, TypeVar

import simpy

from sim.kernel.clock import RouterClock
from sim.kernel.env import SimEnv
from sim.kernel.process import SimProcess

MIN_REARM_SECONDS = 1.0


Effects = TypeVar("Effects")
"""What a core's `on_timer` returns and its owner's `on_effects` takes (a list of effects)."""
_Effects_co = TypeVar("_Effects_co", covariant=True)


class TimedCore(Protocol[_Effects_co]):
    def next_deadline(self) -> datetime | None: ...

    def on_timer(self, now: datetime) -> _Effects_co: ...


class TimerDriver(Generic[Effects]):
    def __init__(
        self,
        env: SimEnv,
        clock: RouterClock,
        core: TimedCore[Effects],
        on_effects: Callable[[Effects], None],
    ) -> None:
        self._env = env
        self._clock = clock
        self._core = core
        self._on_effects = on_effects
        self._wake: simpy.Event = env.event()
        self._running = True
        clock.subscribe(lambda _clock, _reason: self.poke())
        self._process = env.process(self._loop())

    def poke(self) -> None:
        if not self._wake.triggered:
            self._wake.succeed()

    def stop(self) -> None:
        self._running = False
        self.poke()

    def _loop(self) -> SimProcess[None]:
        timer: simpy.Timeout | None = None
        timer_at = 0.0
        while self._running:
            deadline = self._core.next_deadline()
            self._wake = self._env.event()
            if deadline is None:
                yield self._wake
                continue
            delay = self._clock.seconds_until(deadline)
            at = self._env.now + max(0.0, delay)  # where simpy files the timeout
            # Simpy cannot cancel a timeout, and a new timer per poke would leave the old
            # one in its queue until due (a week ahead for a CRL or a request's expiry);
            # a lab served on loopback pokes once per SCEP request. So a poke re-arms only
            # for an earlier wake-up; a later one lets the armed timer fire early, and
            # this loop, finding nothing due, arms for the real deadline then.
            if timer is None or timer.processed or at < timer_at:
                timer = self._env.timeout(delay)
                timer_at = at
            yield timer | self._wake
            if not self._running:
                break
            if timer.triggered and not self._wake.triggered:
                now = self._clock.now()
                current = self._core.next_deadline()
                if current is not None and current <= now:
                    self._on_effects(self._core.on_timer(now))
                    after = self._core.next_deadline()
                    if after is not None and after <= now:
                        # A core that leaves its deadline in the past (say, a zero
                        # lifetime) must not spin at one instant: let time move on.
                        yield self._env.timeout(MIN_REARM_SECONDS)
