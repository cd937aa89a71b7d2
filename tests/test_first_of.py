"""`first_of` waits like simpy's `a | b`, so a run's order of events stays the same."""

from __future__ import annotations

import simpy

from sim.kernel.env import SimEnv
from sim.kernel.first_of import first_of
from sim.kernel.process import SimProcess


def _order(use_first_of: bool) -> list[str]:
    env = SimEnv()
    log: list[str] = []

    def waiter(name: str, delay: float, done: simpy.Event) -> SimProcess[None]:
        timer = env.timeout(delay)
        yield first_of(env, done, timer) if use_first_of else done | timer
        log.append(f"{env.now:g} {name} {'done' if done.triggered else 'timeout'}")

    def other(name: str, delay: float) -> SimProcess[None]:
        yield env.timeout(delay)
        log.append(f"{env.now:g} {name}")

    done = env.event()
    env.process(waiter("a", 2.0, done))
    env.process(other("b", 1.0))
    env.process(waiter("c", 1.0, env.event()))
    env.process(other("d", 1.0))

    def finish() -> SimProcess[None]:
        yield env.timeout(1.0)
        done.succeed()
        log.append(f"{env.now:g} finish")

    env.process(finish())
    processed = env.event()
    processed.succeed()
    env.process(waiter("e", 5.0, processed))
    env.run(until=10)
    return log


def test_first_of_resumes_in_the_same_order_as_a_simpy_condition() -> None:
    """Waiters resume in exactly the order `a | b` gives, for every mix of a done event,
    a timeout, an event already processed, and others at the same instant: swapping one
    for the other cannot change a run's trace."""
    assert _order(True) == _order(False)
    assert "1 a done" in _order(True) and "1 c timeout" in _order(True)


def test_first_of_fails_with_the_first_failure() -> None:
    """A failed event fails the wait with its exception, as `a | b` does."""
    env = SimEnv()
    seen: list[str] = []
    broken = env.event()

    def waiter() -> SimProcess[None]:
        try:
            yield first_of(env, broken, env.timeout(5))
        except RuntimeError as exc:
            seen.append(str(exc))

    env.process(waiter())
    broken.fail(RuntimeError("link down"))
    env.run(until=10)
    assert seen == ["link down"]
