"""Simpy's scheduling without its objects: hops, reserved timeouts and lightweight processes.

A run of thousands of routers spends a visible share of its time in simpy's bookkeeping:
a `Process` (its `Initialize` event, its generator, its completion event) for work that
nobody waits on, a `Timeout` and a condition for a retransmission timer that almost
never fires. The tools here do the same work with fewer events while keeping every
other event in its place, which is what byte-identical runs need. Simpy orders its queue
by (time, priority, event id), the id counting up as events are scheduled; so

- an event whose processing does nothing may be left out: the others keep their order
  (their ids only stay increasing);
- work done at once instead of at an event scheduled now is done at the same place in
  that order when nothing could have come between: the step that would schedule it has
  nothing left to do after it, and no event due now with the same or a higher priority
  is waiting (`nothing_due_before`, `succeed_last`);
- a timeout whose firing is seldom needed can take its place in the queue (time and id)
  when it would have been made, and be put there only if it turns out to be needed
  (`ReservedTimeout`): it then fires exactly where the timeout would have.

These read two of simpy's attributes (`Environment._queue`, `Environment._eid`), stable
across simpy 4; `tests/test_transport_order.py` runs random lossy traffic through the
transport built on them and through the process-based one it replaced, and compares.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from heapq import heappush
from typing import Any

import simpy
from simpy.events import NORMAL, PENDING, URGENT

Callback = Callable[[simpy.Event], None]


class Hop(simpy.Event):
    """An event born triggered (as `succeed()` leaves one) that calls one callback, built
    without `Event.__init__` and `succeed()` as a run makes hundreds of thousands."""

    def __init__(self, env: simpy.Environment, callback: Callback,
                 value: Any = None) -> None:
        # No super().__init__(): these fields are all it and succeed() would set.
        self.env = env
        self.callbacks = [callback]
        self._ok = True
        self._value = value


def call_soon(sim: simpy.Environment, callback: Callback, priority: int = NORMAL,
              value: Any = None) -> None:
    """Call `callback` when an event triggered now is processed: after the events already
    due now (`NORMAL`), or before every normal one, as a process's start (`URGENT`)."""
    sim.schedule(Hop(sim, callback, value), priority)  # type: ignore[arg-type]


def nothing_due_before(sim: simpy.Environment, priority: int) -> bool:
    """Whether an event scheduled now with `priority` would be the next one processed
    once the current step ends: no event due now with that priority or a more urgent
    one waits (those scheduled earlier would come first). A caller whose step does
    nothing after it may then do that event's work at once, in the same order."""
    queue = sim._queue
    if not queue:
        return True
    at, first = queue[0][0], queue[0][1]
    return not (at == sim._now and first <= priority)


def succeed_last(sim: simpy.Environment, event: simpy.Event, value: Any = None) -> None:
    """`event.succeed(value)` from a step that does nothing after this call: the event is
    processed (its callbacks called) at once when it would be the next one processed
    anyway (`nothing_due_before`), else scheduled as `succeed` does. Not for an event a
    run waits for (`run(until=event)`): its stop would not be where simpy puts it."""
    if not nothing_due_before(sim, NORMAL):
        event.succeed(value)
        return
    if event._value is not PENDING:
        raise RuntimeError(f"{event} has already been triggered")
    event._ok = True
    event._value = value
    # As `Environment.step` processes an event: no callbacks can be added meanwhile.
    callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
    for callback in callbacks:
        callback(event)


class ReservedTimeout:
    """A timeout's place in simpy's queue, taken now, the event put there only if needed.

    Made as `Timeout(delay)` would be (its time and its event id are taken at once), it
    is in the queue only after `fill()`; then it fires exactly where that timeout would
    have, calling `callback`. Left unfilled, it is a timeout that never was: right only
    when its firing would have done nothing, which the owner must know before the
    simulation reaches its time (`fill()` refuses a place already passed).
    """

    __slots__ = ("_sim", "at", "_eid", "_callback", "filled")

    def __init__(self, sim: simpy.Environment, delay: float, callback: Callback) -> None:
        self._sim = sim
        self.at = sim._now + delay  # the sum `Environment.schedule` computes
        self._eid = next(sim._eid)
        self._callback = callback
        self.filled = False
        if self.at <= sim._now:
            self._push()  # due in this very instant: no time to decide later

    def fill(self) -> None:
        """Put the timeout in the queue, at the place it took (idempotent). Only before
        its time: at that instant, the events due with it may already have gone."""
        if self.filled:
            return
        if not self._sim._now < self.at:
            raise RuntimeError(f"a timeout reserved for {self.at} filled at {self._sim._now}")
        self._push()

    def _push(self) -> None:
        self.filled = True
        sim = self._sim
        heappush(sim._queue, (self.at, NORMAL, self._eid, Hop(sim, self._callback)))


Body = Generator[simpy.Event, Any, Any]


class LightProcess:
    """A simpy process for a body that nobody interrupts and that needs no `Process`
    object: the generator is resumed by callbacks on the events it yields, exactly when
    `Process._resume` would resume it, and `done(value)` is called at an event scheduled
    when it returns, where simpy would have processed the process's own event.

    It starts as a process does, at an urgent event scheduled now; with `last=True` the
    caller promises that its step does nothing after this call, and the body then starts
    at once when that event would be processed next anyway (`nothing_due_before`).
    Not for bodies that read `env.active_process` or are interrupted: there is no
    process for them to see or to interrupt.
    """

    __slots__ = ("_sim", "_body", "_done", "_watch")

    def __init__(self, sim: simpy.Environment, body: Body, done: Callable[[Any], None], *,
                 last: bool = False, watch: Callback | None = None) -> None:
        self._sim = sim
        self._body = body
        self._done = done
        self._watch = watch
        """Told of each event the body waits for (not those it finds already processed)."""
        if last and nothing_due_before(sim, URGENT):
            self._resume(None)
        else:
            call_soon(sim, self._resume, URGENT)

    def _resume(self, event: simpy.Event | None) -> None:
        body = self._body
        while True:
            try:
                if event is None:
                    target = body.send(None)
                elif event._ok:
                    target = body.send(event._value)
                else:
                    event._defused = True
                    target = body.throw(event._value)
            except StopIteration as stop:
                call_soon(self._sim, self._finish, NORMAL, stop.value)
                return
            callbacks = target.callbacks
            if callbacks is not None:
                callbacks.append(self._resume)
                if self._watch is not None:
                    self._watch(target)
                return
            event = target  # already processed: resume at once, as simpy does

    def _finish(self, hop: simpy.Event) -> None:
        self._done(hop._value)
