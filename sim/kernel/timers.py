"""Timer driver: runs a sans-IO core's timers on simulated time.

A timed core exposes `next_deadline()` (a wall time on its router's clock, or None) and
`on_timer(now)`; it never sleeps and never reads a clock (aioquic's pattern). The driver
sleeps in simulated time until the router clock reads the deadline, calls `on_timer` with
that clock's time and hands the returned effects to the owner. Call `poke()` whenever the
core's deadlines may have changed; clock discontinuities poke automatically.

The driver is a small state machine on plain simpy events and callbacks, not a simpy
process waiting on `timer | wake` conditions: an idle CA's year is 146,000 CRL
publications, each of which woke the driver three times, and building a `Condition` per
wait was a tenth of that year. The machine schedules its events at exactly the moments the
process did, one for one (a wake-up that went through a condition takes two hops, the
wake and the condition, here too), so everything it starts happens in the same order at
the same simulated time: `on_timer`, the timeouts it arms (their order decides which of
two timers due at the same instant fires first) and the deadlines it asks for (once
fewer: after `on_timer` the process asked twice in a row, and the first answer stands).
`tests/test_timer_order.py` runs random schedules on both and compares them.

How the process behaved, which the machine keeps (`_Phase`):
- At the top of a round it asks the core for its deadline. None: it waits for a poke
  (one hop: the poke's event). Otherwise it arms a timeout for the deadline (a new one
  only for an earlier wake-up or when the armed one has fired: simpy cannot cancel a
  timeout, and a lab served on loopback pokes once per SCEP request) and waits for the
  timer or a poke.
- A poke schedules the wake event; when that event is processed the wait's condition is
  met and scheduled; when the condition is processed the round ends (two hops). The
  timer firing schedules the condition directly (one hop after the timeout).
- When the round ends because of the timer and no poke came meanwhile, the core's timer
  runs if its deadline has come; a poke during the round (while the driver itself runs
  the core) is absorbed: the next round asks for the deadline anyway.

`recheck()` is a poke from a caller that changed nothing itself: it asks the core at once
and skips the round when the round would leave everything as it is (an idle CA's every
CRL publication ended with such a round, and its `busy` started one on the rollover
timers: three of its seven simpy events). `tests/test_timer_order.py` compares it with
the poke it replaces.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Generic, Protocol, TypeVar

import simpy
from simpy.events import NORMAL, URGENT

from sim.kernel.clock import RouterClock
from sim.kernel.env import SimEnv
from sim.kernel.hops import call_soon

__all__ = ["MIN_REARM_SECONDS", "TimedCore", "TimerDriver", "call_soon"]

MIN_REARM_SECONDS = 1.0


Effects = TypeVar("Effects")
"""What a core's `on_timer` returns and its owner's `on_effects` takes (a list of effects)."""
_Effects_co = TypeVar("_Effects_co", covariant=True)


class TimedCore(Protocol[_Effects_co]):
    def next_deadline(self) -> datetime | None: ...

    def on_timer(self, now: datetime) -> _Effects_co: ...


class _Phase(Enum):
    BUSY = "busy"
    """Between rounds: starting, running the core, or backing off (`MIN_REARM_SECONDS`)."""
    IDLE = "idle"
    """No deadline: waiting for a poke."""
    ARMED = "armed"
    """Waiting for the timer or a poke."""
    STOPPED = "stopped"


class TimerDriver(Generic[Effects]):
    # Slots: every router has two or three drivers (CRL cache, rollover, enrollment), and
    # a 10,000-router run holds them all.
    __slots__ = ("_env", "_sim", "_clock", "_core", "_on_effects", "_running", "_phase",
                 "_round", "_woken", "_met", "_timer", "_timer_at", "_timer_fired")

    def __init__(
        self,
        env: SimEnv,
        clock: RouterClock,
        core: TimedCore[Effects],
        on_effects: Callable[[Effects], None],
    ) -> None:
        self._env = env
        self._sim = env.sim
        self._clock = clock
        self._core = core
        self._on_effects = on_effects
        self._running = True
        self._phase = _Phase.BUSY
        self._round = 0
        """Counts waits; a wake event scheduled for an earlier wait is stale."""
        self._woken = False
        """The current wait's wake event has been triggered (poked)."""
        self._met = False
        """The current wait's condition has been met (its event is scheduled)."""
        self._timer: simpy.Timeout | None = None
        self._timer_at = 0.0
        self._timer_fired = False
        clock.subscribe(self._clock_changed)
        # As a simpy process starts: an urgent event at the current time.
        self._schedule(self._top, URGENT)

    def _schedule(self, callback: Callable[[simpy.Event], None],
                  priority: int = NORMAL, value: int | None = None) -> None:
        call_soon(self._sim, callback, priority, value)

    def _clock_changed(self, _clock: RouterClock, _reason: str) -> None:
        """A clock step or jump: the deadlines in simulated time have moved (a bound
        method rather than a closure: it is kept by the clock for the driver's life)."""
        self.poke()

    def poke(self) -> None:
        if self._woken:
            return
        self._woken = True
        if self._phase is _Phase.IDLE or (self._phase is _Phase.ARMED and not self._met):
            self._schedule(self._wake_processed, value=self._round)
        # Otherwise the wake event would find no one waiting on it: nothing to schedule.

    def recheck(self) -> None:
        """`poke()`, from a caller that changed nothing the core's deadline depends on
        and pokes only in case something else did (a CRL publication's end, a server's
        `busy`): the round the poke would start is skipped when, asked now, the core
        would have it change nothing. The core's `next_deadline` must then be free of
        side effects.

        A skipped round is one whose only trace is its own hops: the driver is waiting
        for the timer or a poke (`ARMED`, the timer still due later than this instant,
        so it cannot fire during the round's hops) and the deadline asks for no earlier
        timer, or it waits for a poke only (`IDLE`) and there is still no deadline. The
        round would end in the state the driver is in, and removing events from simpy's
        queue leaves the others in their order, so everything else happens as with the
        poke. The round reads the core two hops later in the same instant; the answer
        is the same unless that core changes in between, at this very instant, and a
        change made through the router's own paths pokes (and is looked at) on its own.
        """
        if self._woken:
            return  # a round is coming anyway (and poke() would do nothing either)
        phase = self._phase
        if phase is _Phase.ARMED:
            if not self._met and not self._timer_fired and self._timer_at > self._sim.now:
                deadline = self._core.next_deadline()
                if deadline is not None and (self._sim.now + self._clock.seconds_until(deadline)
                                             >= self._timer_at):
                    return
        elif phase is _Phase.IDLE and self._core.next_deadline() is None:
            return
        self.poke()

    def stop(self) -> None:
        self._running = False
        self.poke()

    # -- the waits' events ---------------------------------------------------------------
    def _wake_processed(self, wake: simpy.Event) -> None:
        if wake.value != self._round:  # a wake event of a wait that is over
            return
        if self._phase is _Phase.IDLE:
            self._top()
        elif self._phase is _Phase.ARMED and not self._met:
            self._met = True
            self._schedule(self._wait_over)

    def _timer_processed(self, timer: simpy.Event) -> None:
        if timer is not self._timer:
            return
        self._timer_fired = True
        if self._phase is _Phase.ARMED and not self._met:
            self._met = True
            self._schedule(self._wait_over)

    # -- the rounds ------------------------------------------------------------------------
    def _top(self, _event: simpy.Event | None = None) -> None:
        """A round: ask for the deadline and wait for it (or for a poke)."""
        self._phase = _Phase.BUSY
        if not self._running:
            self._phase = _Phase.STOPPED
            return
        self._arm(self._core.next_deadline())

    def _arm(self, deadline: datetime | None, now: datetime | None = None) -> None:
        """The rest of a round, given the core's deadline (and the clock's reading, when
        the round has it: the clock reads the same all through an instant)."""
        self._round += 1
        self._woken = self._met = False
        if deadline is None:
            self._phase = _Phase.IDLE
            return
        delay = self._clock.seconds_until(deadline, now)  # never negative
        at = self._sim.now + delay  # where simpy files the timeout
        # Simpy cannot cancel a timeout, and a new timer per poke would leave the old
        # one in its queue until due (a week ahead for a CRL or a request's expiry);
        # a lab served on loopback pokes once per SCEP request. So a poke re-arms only
        # for an earlier wake-up; a later one lets the armed timer fire early, and
        # this round, finding nothing due, arms for the real deadline then.
        if self._timer is None or self._timer_fired or at < self._timer_at:
            timer = simpy.Timeout(self._sim, delay)
            timer.callbacks.append(self._timer_processed)
            self._timer, self._timer_at, self._timer_fired = timer, at, False
        self._phase = _Phase.ARMED

    def _wait_over(self, _event: simpy.Event) -> None:
        self._phase = _Phase.BUSY
        if not self._running:
            self._phase = _Phase.STOPPED
            return
        if self._woken:
            self._top()
            return
        now = self._clock.now()
        current = self._core.next_deadline()
        if current is not None and current <= now:
            self._on_effects(self._core.on_timer(now))
            current = self._core.next_deadline()
            if current is not None and current <= now:
                # A core that leaves its deadline in the past (say, a zero
                # lifetime) must not spin at one instant: let time move on.
                rest = self._env.timeout(MIN_REARM_SECONDS)
                rest.callbacks.append(self._top)
                return
        # The next round starts at once, and nothing ran since the core was asked: its
        # answer stands (the process asked again, and got the same).
        if not self._running:
            self._phase = _Phase.STOPPED
            return
        # The clock still reads `now` in this instant, unless `on_timer`'s effects set
        # it: every step of the clock pokes the driver (its subscription), so a round
        # that was poked meanwhile reads the clock again.
        self._arm(current, None if self._woken else now)
