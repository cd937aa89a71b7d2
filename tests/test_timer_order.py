"""The timer driver and a timer's effects keep the order of events they had as simpy processes.

`TimerDriver` was a simpy process waiting on `timer | wake` conditions, and a certificate
server's timer effects ran in a router process of their own. Both are now lighter (plain
events and callbacks) and must schedule everything at the same moments, in the same order:
two routers' timers due at the same instant, a poke at the instant a timer is due, a core
whose deadline stays in the past. The reference below is the process-based driver as it
was; random schedules run on both must give the same log.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import simpy
from routerkit import Lab

from sim.kernel.clock import RouterClock
from sim.kernel.env import SimEnv
from sim.kernel.process import SimProcess
from sim.kernel.timers import MIN_REARM_SECONDS, TimerDriver
from sim.router.server_host import ServerHost

START = datetime(2005, 1, 6, 20, 0, 0, tzinfo=UTC)


class ProcessDriver:
    """The driver as a simpy process, as it was (the reference)."""

    def __init__(self, env: SimEnv, clock: RouterClock, core: Any,
                 on_effects: Callable[[Any], None]) -> None:
        self._env, self._clock, self._core, self._on_effects = env, clock, core, on_effects
        self._wake: simpy.Event = env.event()
        self._running = True
        clock.subscribe(lambda _clock, _reason: self.poke())
        env.process(self._loop())

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
            at = self._env.now + max(0.0, delay)
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
                        yield self._env.timeout(MIN_REARM_SECONDS)


class Core:
    """A timed core whose deadline the test moves; it logs each firing."""

    def __init__(self, name: str, log: list[tuple[float, str, str]], env: SimEnv,
                 rng: random.Random) -> None:
        self.name, self.log, self.env, self.rng = name, log, env, rng
        self.deadline: datetime | None = START + timedelta(seconds=rng.randint(1, 20))

    def next_deadline(self) -> datetime | None:
        return self.deadline

    def on_timer(self, now: datetime) -> list[str]:
        self.log.append((self.env.now, self.name, "fire"))
        choice = self.rng.random()
        if choice < 0.1:
            pass  # stays due: the driver backs off a second
        elif choice < 0.2:
            self.deadline = None
        else:
            self.deadline = now + timedelta(seconds=self.rng.randint(0, 15))
        return [self.name]


def _run(driver_class: Any, seed: int, recheck: bool = False, least_wait: int = 0,
         silent: float = 0.0) -> list[tuple[float, str, str]]:
    """Random pokes on four timers; with `recheck`, a poke that follows no change of the
    core is `TimerDriver.recheck()`. `least_wait` 1 keeps each core's changes one per
    instant (`recheck` relies on no change coming later in the same instant); `silent`
    is the share of changes made without a poke (that a later look must find)."""
    env = SimEnv(0, START)
    clock = RouterClock(env)
    rng = random.Random(seed)
    log: list[tuple[float, str, str]] = []
    cores = [Core(f"c{i}", log, env, rng) for i in range(4)]
    drivers = [driver_class(env, clock, core,
                            lambda fx, env=env: log.append((env.now, fx[0], "effects")))
               for core in cores]

    def poker(index: int) -> SimProcess[None]:
        while True:
            # Whole seconds, so pokes often fall at the instant a deadline is due.
            yield env.timeout(rng.randint(least_wait, 6))
            core, driver = cores[index], drivers[index]
            action = rng.random()
            if action < silent:
                # Changed without a poke: only a later look (or the timer) finds it.
                core.deadline = START + timedelta(seconds=env.now + rng.randint(0, 10))
                log.append((env.now, core.name, "silent"))
                continue
            changed = action < silent + 0.5
            if changed:
                core.deadline = START + timedelta(seconds=env.now + rng.randint(0, 10))
            log.append((env.now, core.name, "poke"))
            if recheck and not changed:
                driver.recheck()
            else:
                driver.poke()
            if rng.random() < 0.3:
                # A second poke in the same instant.
                (driver.recheck if recheck else driver.poke)()

    for index in range(len(cores)):
        env.process(poker(index))
    env.run(until=300)
    drivers[0].stop()
    env.run(until=330)
    return log


def test_timer_driver_schedules_as_the_process_driver_did() -> None:
    """Timers due at the same instant on several routers (CRL republication, polls) would fire in
    a different order, or a poke at a timer's instant would be handled differently, changing
    traces and transcripts that used to be byte-identical."""
    for seed in range(40):
        reference = _run(ProcessDriver, seed)
        assert len(reference) > 100
        assert _run(TimerDriver, seed) == reference, seed


def test_a_recheck_schedules_as_the_poke_it_replaces() -> None:
    """A timer looked at again by `recheck` (a CRL publication's end, a CA's `busy`) would
    fire at another moment or in another order than after a poke, changing traces that
    used to be byte-identical; or it would skip a look that finds a new deadline."""
    pokes = {False: 0, True: 0}

    class Counting(TimerDriver[Any]):
        def poke(self) -> None:
            pokes[rechecking] += 1
            super().poke()

    for seed in range(40):
        rechecking = False
        reference = _run(Counting, seed, least_wait=1, silent=0.15)
        rechecking = True
        assert _run(Counting, seed, recheck=True, least_wait=1, silent=0.15) == reference, seed
    assert pokes[True] < pokes[False] * 0.8, pokes  # rounds were skipped, not all poked


def _publications(lab: Lab, event: str) -> list[float]:
    """When the CA's CRL republications started (`busy`) or wrote `ca.crl` (`write`)."""
    if event == "busy":
        return [e.t for e in lab.env.trace.select(router="ca", category="cs", name="busy")
                if e.data.get("reason") == "publish CRL"]
    return [e.t for e in lab.env.trace.select(router="ca", category="nvram", name="write")
            if e.data.get("file") == "ca.crl"]


def test_a_reload_during_a_crl_publication_stops_it_as_before() -> None:
    """A CA reloaded while its timer republishes the CRL would still write that CRL to nvram
    after the power went, which the interrupted publication never did; one left alone would
    not write it at the end of its 0.09 s."""
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server\ncrypto pki server ca\n lifetime crl 1\n")
    lab.type(ca, "enable\nconfigure terminal\ncrypto pki server ca\nno shutdown\nend",
             ("cisco123", "cisco123"))
    due = ca.running.servers["ca"].crl_next_update()
    assert due is not None
    lab.env.run(until=lab.env.now + ca.clock.seconds_until(due) + 0.05)  # inside its 0.09 s
    started = _publications(lab, "busy")[-1]
    assert lab.env.now - 0.09 < started < lab.env.now
    writes = len(_publications(lab, "write"))
    ca.reload()
    lab.env.run(until=started + 5)
    assert len(_publications(lab, "write")) == writes

    lab.run(3600 + 300)  # after the reload, the next one is left alone
    again = [t for t in _publications(lab, "busy") if t > started + 5]
    assert again and any(abs(t - (again[0] + 0.09)) < 1e-6
                         for t in _publications(lab, "write"))


def _idle_cas_trace() -> str:
    lab = Lab()
    cas = [lab.router(f"ca{i}", f"10.0.0.{i + 1}",
                      f"ip http server\ncrypto pki server ca{i}\n lifetime crl 1\n")
           for i in range(3)]
    for i, ca in enumerate(cas):
        ca.type_lines(["enable", "configure terminal", f"crypto pki server ca{i}",
                       "no shutdown", "end"], ["cisco123", "cisco123"])
    lab.run(4 * 3600 + 60)
    cas[1].reload()
    lab.run(3 * 3600)
    return lab.env.trace.to_jsonl()


def test_timer_effects_without_a_process_trace_as_with_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """CRL republications applied without a router process of their own would print, write or
    record something at another moment or in another order than through a process."""
    stepped = _idle_cas_trace()
    assert stepped.count('"publish CRL"') >= 15
    monkeypatch.setattr(ServerHost, "_plain", lambda *_args: False)
    assert _idle_cas_trace() == stepped
