"""`first_of(a, b)`: simpy's `a | b` for a process that only waits, at a fraction of the cost.

A simpy `AnyOf` condition builds a `ConditionValue` of every event that occurred, keeps a
tuple of its events and removes its callbacks from the others once it fires; an HTTP
exchange waits on four of them (every segment against its retransmission timer), which
made condition bookkeeping a visible share of a large run. `FirstOf` is scheduled exactly
as `AnyOf` is (it succeeds, at normal priority, when the first of its events is processed,
or at once if one already was; it fails with the first failure), so the order of
everything else in a run stays the same, but it has no value (None) and does no other
bookkeeping. Use it where the code looks at `event.triggered` after the wait rather than
at the condition's value.

No value, so that it holds on to nothing: the events that did not fire keep it among
their callbacks until they are processed, and an HTTP exchange's 30-second deadline would
otherwise keep the exchange's response alive (the event that fired, and its value) that
long after the exchange ended: some 8 KiB per router enrolling at the time, in a run of
thousands.
"""

from __future__ import annotations

import simpy
from simpy.events import PENDING

from sim.kernel.env import SimEnv


class FirstOf(simpy.Event):
    """Succeeds (with None) when the first of `events` is processed (see the module
    docstring)."""

    def __init__(self, env: simpy.Environment, *events: simpy.Event) -> None:
        super().__init__(env)
        for event in events:
            if event.callbacks is None:
                self._check(event)
            else:
                event.callbacks.append(self._check)

    def _check(self, event: simpy.Event) -> None:
        if self._value is not PENDING:
            return
        if not event._ok:
            event._defused = True
            self.fail(event._value)
        else:
            self.succeed()


def first_of(env: SimEnv, *events: simpy.Event) -> FirstOf:
    """An event that fires when the first of `events` does (`a | b`, made cheaply)."""
    return FirstOf(env.sim, *events)
