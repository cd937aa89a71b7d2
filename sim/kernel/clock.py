"""Router clocks: each router maps simulated time to its own wall time.

A router clock always shows *some* time (IOS counts from `Mar 1 1993 00:00` after a boot
without a calendar), but it is only *set* (calendar-valid) after `clock set`, NTP or a
valid hardware calendar. The certificate server checks `is_set`; the console prints a
leading `*` on timestamps while the time is not authoritative, as IOS does:

    *Jan  6 20:57:37.667: CRYPTO_CS: enter FSM: input state initial, input signal no shut

Wall time = base_wall + (t - base_t) * (1 + drift_ppm / 1e6), so offsets, drift and jumps
are all just a new (base_wall, base_t) pair. Listeners are told about every
discontinuity so timer drivers can re-arm.

The clock also knows where its time came from (`source`, for `show clock detail`) and
whether NTP, configured on the router, has lost its synchronisation (`ntp_unsynchronized`:
IOS then marks an authoritative time with a leading `.` instead of `*`). The hardware
calendar is part of the same object: it follows the software clock until `calendar set`
or `clock update-calendar` gives it a reading of its own, which a boot then loads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sim.kernel.env import SimEnv

IOS_EPOCH = datetime(1993, 3, 1, 0, 0, 0, tzinfo=UTC)
"""What an IOS router without a valid calendar shows right after boot."""

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

ClockListener = Callable[["RouterClock", str], None]


class TimeSource(StrEnum):
    """Where the software clock's time came from: `show clock detail`'s `Time source is
    ...` line (cisco-client-docs.md 6)."""

    NONE = "none"
    USER = "user configuration"
    NTP = "NTP"
    CALENDAR = "hardware calendar"


class RouterClock:
    """A router's wall clock over simulated time."""

    # One per router: slots keep 10,000 of them small (issue 13's memory goal).
    __slots__ = ("_env", "_drift_ppm", "calendar", "is_set", "authoritative", "_base_wall",
                 "_base_t", "_listeners", "source", "ntp_unsynchronized", "_calendar_reading",
                 "last_step", "_read_at", "_reading", "_stamped", "__weakref__")

    def __init__(
        self,
        env: SimEnv,
        *,
        is_set: bool = True,
        value: datetime | None = None,
        offset: float = 0.0,
        drift_ppm: float = 0.0,
        authoritative: bool | None = None,
        calendar: bool = True,
    ) -> None:
        self._env = env
        self._read_at = -1.0
        """The simulated time of the last `now()`, whose answer is `_reading`: a router
        reads its clock many times in one instant (a log line's stamp, an HTTP date, a
        certificate's validity), and a reading is a datetime (immutable) to share."""
        self._reading = IOS_EPOCH
        self._stamped: tuple[datetime | None, str, str] = (None, "", "")
        """(reading, mark, text) of the last `timestamp()`: a router's burst of syslog
        lines shares one instant, so one reading."""
        self._drift_ppm = drift_ppm
        self.calendar = calendar
        self.is_set = is_set
        self.authoritative = is_set if authoritative is None else authoritative
        if value is None:
            value = env.true_time() + timedelta(seconds=offset) if is_set or calendar else IOS_EPOCH
        self._base_wall = _utc(value)
        self._base_t = env.now
        self._listeners: list[ClockListener] = []
        # chosen: a clock that is valid at t=0 was loaded from the hardware calendar at
        # boot when the router has one, else set by someone (`clock set`).
        self.source = (TimeSource.NONE if not is_set else
                       TimeSource.CALENDAR if calendar else TimeSource.USER)
        self.ntp_unsynchronized = False
        """NTP is configured and not synchronised: an authoritative time shows `.`."""
        self._calendar_reading: tuple[datetime, float] | None = None
        """(wall, sim time) of a calendar with its own reading; None: it follows the clock."""
        self.last_step = timedelta(0)
        """How far the latest discontinuity moved the reading (a listener's way to keep
        an interval timer's wait unchanged across `clock set` or a jump)."""

    @property
    def drift_ppm(self) -> float:
        return self._drift_ppm

    @drift_ppm.setter
    def drift_ppm(self, value: float) -> None:
        self._drift_ppm = value
        self._read_at = -1.0  # the next reading is computed afresh

    # -- reading -------------------------------------------------------------------
    def now(self) -> datetime:
        t = self._env.now
        if t == self._read_at:
            return self._reading
        elapsed = (t - self._base_t) * (1.0 + self._drift_ppm / 1e6)
        reading = self._reading = self._base_wall + timedelta(seconds=elapsed)
        self._read_at = t
        return reading

    def seconds_until(self, wall: datetime, now: datetime | None = None) -> float:
        """Simulated seconds until this clock reads `wall` (0 if already past); `now`, if
        given, is `now()` read at this same simulated instant (a caller that has it)."""
        delta = (_utc(wall) - (self.now() if now is None else now)).total_seconds()
        return max(0.0, delta / (1.0 + self._drift_ppm / 1e6))

    @property
    def mark(self) -> str:
        """What precedes the time in stamps and `show clock`: `*` not authoritative, `.`
        authoritative but NTP not synchronised, nothing otherwise (cisco-client-docs.md 6)."""
        if not self.authoritative:
            return "*"
        return "." if self.ntp_unsynchronized else ""

    def timestamp(self) -> str:
        """IOS `service timestamps ... datetime msec` stamp, without the trailing colon."""
        reading = self.now()
        mark = self.mark
        stamped = self._stamped
        if stamped[0] is reading and stamped[1] == mark:
            return stamped[2]  # made of this very reading (held there, so not a reused id)
        text = mark + format_ios_datetime(reading)
        self._stamped = (reading, mark, text)
        return text

    def show_clock(self, zone: str = "UTC", offset: timedelta = timedelta(0)) -> str:
        """`show clock` output line, in the zone `clock timezone` names (UTC by default)."""
        w = self.now() + offset
        star = self.mark
        return (
            f"{star}{w:%H:%M:%S}.{w.microsecond // 1000:03d} {zone} "
            f"{_DAYS[w.weekday()]} {_MONTHS[w.month - 1]} {w.day} {w.year}"
        )

    # -- changing ------------------------------------------------------------------
    def subscribe(self, listener: ClockListener) -> None:
        self._listeners.append(listener)

    def set(self, value: datetime, source: TimeSource = TimeSource.USER) -> None:
        """`clock set` or an NTP sync: the time becomes valid and authoritative."""
        self._rebase(_utc(value))
        self.is_set = True
        self.authoritative = True
        self.source = source
        self._notify("set")

    def unset(self) -> None:
        """Mark the time invalid (calendar lost); the clock keeps running."""
        self._rebase(self.now())
        self.is_set = False
        self.authoritative = False
        self.source = TimeSource.NONE
        self._notify("unset")

    # -- the hardware calendar ---------------------------------------------------------
    def calendar_now(self) -> datetime:
        """What the hardware calendar reads (`show calendar`). chosen: until it is given a
        reading of its own it follows the software clock, which is how pkilab has always
        kept a calendar-equipped router's time across a reload."""
        if self._calendar_reading is None:
            return self.now()
        wall, at = self._calendar_reading
        return wall + timedelta(seconds=self._env.now - at)

    def set_calendar(self, value: datetime) -> None:
        """`calendar set` / `clock update-calendar`: the calendar reads `value` from now on
        and runs on true time (the software clock's drift is its own)."""
        self._calendar_reading = (_utc(value), self._env.now)

    def jump(self, seconds: float) -> None:
        """A step of the clock (e.g. a bad NTP server) without changing validity."""
        self._rebase(self.now() + timedelta(seconds=seconds))
        self._notify("jump")

    def boot(self) -> None:
        """A reload or power-on: without a hardware calendar the time is lost; with one
        that has a reading of its own, the software clock is loaded from it."""
        self.ntp_unsynchronized = False
        if not self.calendar:
            self._rebase(IOS_EPOCH)
            self.is_set = False
            self.authoritative = False
            self.source = TimeSource.NONE
            self._notify("boot")
            return
        if self.is_set:
            self.source = TimeSource.CALENDAR
        if self._calendar_reading is not None:
            self._rebase(self.calendar_now())
            self._notify("boot")

    def _rebase(self, wall: datetime) -> None:
        self.last_step = wall - self.now()
        self._base_wall = wall
        self._base_t = self._env.now
        self._read_at = -1.0  # the next reading is computed afresh

    def _notify(self, reason: str) -> None:
        for listener in list(self._listeners):
            listener(self, reason)


def format_ios_datetime(w: datetime) -> str:
    """`Jan  6 20:57:37.667`: month, day padded to two columns, time with milliseconds."""
    return (
        f"{_MONTHS[w.month - 1]} {w.day:2d} "
        f"{w.hour:02d}:{w.minute:02d}:{w.second:02d}.{w.microsecond // 1000:03d}"
    )


def format_ios_timer(w: datetime) -> str:
    """`22:33:44 GMT Jan 6 2006`, the form `show crypto pki server` uses for timers."""
    return f"{w:%H:%M:%S} GMT {_MONTHS[w.month - 1]} {w.day} {w.year}"


def format_http_date(w: datetime) -> str:
    """RFC 1123 date as the IOS HTTP server sends it: `Thu, 06 Jan 2005 21:07:30 GMT`."""
    return f"{_DAYS[w.weekday()]}, {w.day:02d} {_MONTHS[w.month - 1]} {w.year} {w:%H:%M:%S} GMT"


def _utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value  # what astimezone(UTC) would give, without a new datetime
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
