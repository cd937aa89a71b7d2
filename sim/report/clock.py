"""The one way report.html writes a moment of the run: simulated clock time plus elapsed.

`21:06:20 (+1m20s)` says both what a router's `show clock` read at that moment (the run's
simulated wall clock: the scenario's `start` plus simulated seconds) and how far into the
run it was, which is what an expectation's `at 1m20s` means. Every table and picture of
report.html uses `moment` for an instant and `span` for a length of time, so a teacher
never converts between `2m0s`, `703h42m28.811s` and `12d0h` on the fly.

Both round down to the whole second, as a clock does, so a moment's clock time and its
elapsed part always agree; a run's instants closer than a second share a stamp, and the
tables keep them in time order. report.md keeps the scenario files' own duration syntax
(`1m20.48s`): its exact text is pinned by a golden file.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import lru_cache

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
           "Dec")


def parse_start(iso: str) -> datetime:
    """The run's true time at t=0 (`summary.json` writes it as ISO 8601, UTC)."""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        # A hand-edited summary.json: the elapsed part still says when things happened.
        return datetime(1970, 1, 1, tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _whole(seconds: float) -> int:
    """Whole seconds, rounding down like a clock; the trace has millisecond resolution, so
    it is rounded to that first (59.9999999 is a minute, not 59 seconds)."""
    return math.floor(round(seconds, 3))


def span(seconds: float) -> str:
    """A length of time: `0s`, `12s`, `4m`, `1m22s`, `1h2m`, `29d7h42m28s` (zero parts left
    out, largest unit first, as scenario files write durations)."""
    whole = _whole(abs(seconds))
    return _span(whole, seconds < 0 and whole > 0)


def moment(start: datetime, seconds: float) -> str:
    """An instant of the run: `21:06:20 (+1m20s)`; the date is added once the run has left
    its first day (`Jan 7 21:06:20 (+1d1m20s)`), so days-long runs stay unambiguous."""
    return _moment(start, _whole(seconds))


# Both are cached by whole second: a large run's tables and pictures write tens of
# thousands of moments, most of them seconds already written.
@lru_cache(maxsize=1 << 16)
def _span(whole: int, negative: bool) -> str:
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{value}{unit}" for value, unit in ((days, "d"), (hours, "h"), (minutes, "m"),
                                                  (secs, "s")) if value]
    return ("-" if negative else "") + ("".join(parts) or "0s")


@lru_cache(maxsize=1 << 16)
def _moment(start: datetime, whole: int) -> str:
    when = start + timedelta(seconds=whole)
    clock = f"{when:%H:%M:%S}"
    if when.date() != start.date():
        clock = f"{_MONTHS[when.month - 1]} {when.day} {clock}"
    return f"{clock} ({'-' if whole < 0 else '+'}{span(abs(whole))})"
