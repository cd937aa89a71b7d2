"""Router clocks and the timer driver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sim.kernel.clock import IOS_EPOCH, RouterClock, format_ios_datetime
from sim.kernel.env import SimEnv
from sim.kernel.timers import TimerDriver

START = datetime(2005, 1, 6, 20, 57, 30, 667000, tzinfo=UTC)


def test_ios_timestamp_format_pads_the_day() -> None:
    """Log lines and debug timestamps would not match real IOS, which pads single-digit days
    ("Jan  6")."""
    assert format_ios_datetime(START) == "Jan  6 20:57:30.667"
    assert format_ios_datetime(START.replace(day=16)) == "Jan 16 20:57:30.667"


def test_unset_clock_is_starred_until_set() -> None:
    """A router whose clock was never set would not show the `*` IOS puts on timestamps and `show
    clock`."""
    env = SimEnv(0, START)
    clock = RouterClock(env, is_set=False)
    assert clock.timestamp() == "*Jan  6 20:57:30.667"
    assert clock.show_clock() == "*20:57:30.667 UTC Thu Jan 6 2005"
    clock.set(datetime(2005, 1, 6, 21, 0, 0, tzinfo=UTC))
    assert clock.is_set and clock.authoritative
    assert clock.timestamp() == "Jan  6 21:00:00.000"


def test_non_authoritative_but_set() -> None:
    """A clock that is set but not authoritative would lose the `*` that IOS shows on its
    timestamps."""
    env = SimEnv(0, START)
    clock = RouterClock(env, is_set=True, authoritative=False)
    assert clock.is_set and clock.timestamp().startswith("*")


def test_offset_and_drift() -> None:
    """Routers given a clock offset or drift in a scenario would keep true time instead of running
    fast or slow."""
    env = SimEnv(0, START)
    fast = RouterClock(env, offset=90.0, drift_ppm=100.0)
    env.run(until=10_000)
    expected = START + timedelta(seconds=90 + 10_000 * (1 + 100e-6))
    assert abs((fast.now() - expected).total_seconds()) < 1e-6


def test_jump_and_unset_keep_running() -> None:
    """After a clock jump or unset a router's clock would stop or land at the wrong time instead of
    ticking on."""
    env = SimEnv(0, START)
    clock = RouterClock(env)
    clock.jump(-3600)
    env.run(until=60)
    assert clock.now() == START - timedelta(seconds=3540)
    clock.unset()
    assert not clock.is_set and clock.timestamp().startswith("*")


def test_boot_without_calendar_loses_the_time() -> None:
    """A router without a calendar would keep its time over a reload instead of waking at Mar 1
    00:00 with a `*`."""
    env = SimEnv(0, START)
    with_calendar = RouterClock(env)
    without = RouterClock(env, calendar=False)
    with_calendar.boot()
    without.boot()
    assert with_calendar.is_set and with_calendar.now() == START
    assert not without.is_set and without.now() == IOS_EPOCH
    assert without.timestamp() == "*Mar  1 00:00:00.000"


def test_listeners_hear_discontinuities() -> None:
    """Timers would not notice `clock set`, a jump or an unset, so renewals and polls would fire at
    stale times."""
    env = SimEnv(0, START)
    clock = RouterClock(env)
    heard: list[str] = []
    clock.subscribe(lambda _c, reason: heard.append(reason))
    clock.set(START)
    clock.jump(5)
    clock.unset()
    assert heard == ["set", "jump", "unset"]


class Alarm:
    """A sans-IO core with one deadline on the router clock."""

    def __init__(self, deadline: datetime) -> None:
        self.deadline: datetime | None = deadline
        self.fired_at: list[datetime] = []

    def next_deadline(self) -> datetime | None:
        return self.deadline

    def on_timer(self, now: datetime) -> list[str]:
        self.fired_at.append(now)
        self.deadline = None
        return ["fired"]


def test_timer_driver_fires_at_the_router_clock_deadline() -> None:
    """Timers on a router whose clock is off would fire by true time instead of by the router's own
    clock."""
    env = SimEnv(0, START)
    clock = RouterClock(env, offset=-30.0)
    core = Alarm(START + timedelta(seconds=60))
    effects: list[object] = []
    TimerDriver(env, clock, core, effects.append)
    env.run(until=200)
    # The router clock is 30 s behind true time: its deadline arrives at t = 90 s.
    assert core.fired_at == [START + timedelta(seconds=60)]
    assert effects == [["fired"]]


def test_timer_driver_rearms_when_the_clock_jumps() -> None:
    """A clock jump past a pending deadline would not fire it, so a renewal or poll could be missed
    entirely."""
    env = SimEnv(0, START)
    clock = RouterClock(env)
    core = Alarm(START + timedelta(hours=1))
    TimerDriver(env, clock, core, lambda _e: None)
    env.run(until=10)
    clock.jump(3600)
    env.run(until=11)
    assert len(core.fired_at) == 1
    assert env.now == 11


class Stuck:
    """A core whose deadline never moves forward (a zero CRL lifetime, say)."""

    def __init__(self, deadline: datetime) -> None:
        self.deadline = deadline
        self.calls = 0

    def next_deadline(self) -> datetime:
        return self.deadline

    def on_timer(self, now: datetime) -> None:
        self.calls += 1


def test_timer_driver_does_not_spin_on_a_stuck_deadline() -> None:
    """A timer whose deadline never moves would hang the simulation in a busy loop instead of
    backing off."""
    env = SimEnv(0, START)
    clock = RouterClock(env)
    core = Stuck(START)
    TimerDriver(env, clock, core, lambda _e: None)
    env.run(until=10)
    assert 5 <= core.calls <= 11


def test_a_clock_read_twice_in_one_instant_follows_a_step_between() -> None:
    """A log line stamped right after `clock set`, a jump or a drift change in the same
    simulated instant would show the time from before the change (the clock keeps its last
    reading and stamp for the rest of the instant)."""
    env = SimEnv(0, START)
    clock = RouterClock(env, is_set=False)
    assert clock.timestamp() == "*Jan  6 20:57:30.667"
    assert clock.now() is clock.now()  # one reading per instant
    clock.jump(60)
    assert clock.now() == START + timedelta(seconds=60)
    assert clock.timestamp() == "*Jan  6 20:58:30.667"
    clock.set(datetime(2005, 1, 6, 21, 0, 0, tzinfo=UTC))
    assert clock.now() == datetime(2005, 1, 6, 21, 0, 0, tzinfo=UTC)
    assert clock.timestamp() == "Jan  6 21:00:00.000"
    clock.ntp_unsynchronized = True
    assert clock.timestamp() == ".Jan  6 21:00:00.000"
    env.run(until=100)
    clock.drift_ppm = 1e5  # 10 % fast from its base: the reading moves at once
    assert clock.now() == datetime(2005, 1, 6, 21, 1, 50, tzinfo=UTC)
    assert clock.timestamp() == ".Jan  6 21:01:50.000"
