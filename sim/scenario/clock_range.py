"""The calendar a scenario may use: every router clock stays within `EARLIEST`..`LATEST`.

A router's wall time goes into the certificates, CRLs and timers its certificate server
and enrollment client compute, so a clock that can leave what X.509 (and Python's
`datetime`) can represent would crash a run the loader had accepted. RFC 5280 section
4.1.2.5 fixes the range: "CAs conforming to this profile MUST always encode certificate
validity dates through the year 2049 as UTCTime; certificate validity dates in 2050 or
later MUST be encoded as GeneralizedTime." UTCTime begins in 1950, so nothing earlier can
be encoded, and GeneralizedTime ends with the year 9999. `EARLIEST` is a day into 1950
because certificates start a little before the clock that makes them (the enrollment
client backdates its self-signed signer by five minutes); `LATEST` stays a century short
of 9999, room for IOS's longest lifetime (`lifetime ca-certificate 7305`, twenty years)
counted from any moment of a run.

`clock_problem` bounds, for each router, the earliest and latest time its clock can show:
its start (`clock.value`, or the true time plus `clock.offset`, or IOS's Mar 1 1993 for a
router without a calendar), every `clock_set` and `clock_jump` it receives (soak faults
included; all forward jumps count towards the latest time, all backward ones towards the
earliest), a boot without a calendar (back to 1993), and the whole run at its fastest
drift. The bound is generous (the extremes rarely coincide) but never too small, which is
what lets `pkilab validate` promise that `run` will not overflow a date.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sim.kernel.clock import IOS_EPOCH
from sim.scenario import model as m

EARLIEST = datetime(1950, 1, 2, tzinfo=UTC)
"""The earliest time a router clock or a timestamp in a scenario may show."""

LATEST = datetime(9899, 12, 31, 23, 59, 59, tzinfo=UTC)
"""The latest time a router clock or a timestamp in a scenario may show."""

RANGE_TEXT = "1950-01-02 to 9899-12-31, the dates X.509 certificates can carry"
"""The range as messages write it."""


def out_of_range(value: datetime) -> bool:
    """Whether `value` (timezone-aware) is outside `EARLIEST`..`LATEST`."""
    return not EARLIEST <= value <= LATEST


def clock_problem(scenario: m.Scenario) -> tuple[int, str] | None:
    """The first router whose clock could leave the range, as (line, message), or None."""
    # Each router's events, in timeline order, gathered in one pass: scanning the whole
    # timeline once per router grew with routers x events (minutes at 10,000 routers).
    events: dict[str, list[m.Event]] = {}
    for event in scenario.events:
        name = getattr(event, "router", None)
        if isinstance(name, str):
            events.setdefault(name, []).append(event)
    for router in scenario.routers:
        problem = _router_problem(scenario, router, events.get(router.name, []))
        if problem:
            return problem
    return None


def _router_problem(scenario: m.Scenario, router: m.RouterSpec, events: list[m.Event]
                    ) -> tuple[int, str] | None:
    clock = router.clock
    start: datetime | None
    if clock.value is not None:
        start = clock.value
    elif clock.set or clock.calendar:
        start = _shifted(scenario.start, clock.offset)
    else:
        start = IOS_EPOCH
    if start is None or out_of_range(start):
        return router.line, (f"routers.{router.name}.clock: the clock would start at "
                             f"{_shown(start)}, outside {RANGE_TEXT}")
    earliest = latest = start
    for event in events:
        if isinstance(event, m.ClockSetEvent):
            value = event.value or _shifted(scenario.start, event.at)
            if value is None or out_of_range(value):
                return event.line, (f"{router.name}'s clock would be set to {_shown(value)}, "
                                    f"outside {RANGE_TEXT}")
            earliest, latest = min(earliest, value), max(latest, value)
        elif isinstance(event, m.ClockJumpEvent):
            moved = _shifted(latest if event.seconds > 0 else earliest, event.seconds)
            if moved is None or out_of_range(moved):
                return event.line, (f"{router.name}'s clock could reach {_shown(moved)} with "
                                    f"this jump and those before it, outside {RANGE_TEXT}")
            earliest, latest = min(earliest, moved), max(latest, moved)
        elif isinstance(event, m.ReloadEvent | m.PowerEvent) and not clock.calendar:
            earliest = min(earliest, IOS_EPOCH)
    fastest = 1.0 + max(clock.drift_ppm, 0.0) / 1e6
    end = _shifted(latest, scenario.duration * fastest)
    if end is None or out_of_range(end):
        return router.line, (f"routers.{router.name}.clock: the clock could reach "
                             f"{_shown(end)} by the end of the run, outside {RANGE_TEXT}")
    return None


def _shifted(value: datetime, seconds: float) -> datetime | None:
    """`value` moved by `seconds`, None if that leaves what `datetime` can hold."""
    try:
        return value + timedelta(seconds=seconds)
    except OverflowError:
        return None


def _shown(value: datetime | None) -> str:
    if value is None:
        return "a date beyond the year 9999 or before the year 1"
    return f"{value:%Y-%m-%d %H:%M:%S}"
