"""Durations as scenario files write them: `90`, `1.5`, `250ms`, `10m`, `1h30m`, `-30m`.

A scenario mixes very different time scales (link latency in milliseconds, CRL lifetimes in
hours, a run of a few minutes), so every duration field takes a number of seconds or a
string with a unit. Units are lower case on purpose: `M` could mean months and `m` minutes,
and a scenario is better rejected than silently off by a factor of 43800.

The grammar, shared with the `duration` patterns in `schema.json` (keep the two in step)::

    duration := sign? ( number | ( number unit )+ )      spaces allowed between the parts
    number   := digits [ '.' digits ] | '.' digits
    unit     := ms | s | m | h | d | w

Arithmetic is done in `Decimal` so that `100ms` is exactly the float nearest to 0.1 and
`format_duration` can give back what the user wrote.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

UNITS: dict[str, Decimal] = {
    "ms": Decimal("0.001"),
    "s": Decimal(1),
    "m": Decimal(60),
    "h": Decimal(3600),
    "d": Decimal(86400),
    "w": Decimal(604800),
}
"""Seconds per unit, in the order a person would list them."""

HINT = "use e.g. 90s, 10m, 2h"
"""The example list every 'not a duration' message ends with."""

_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_UNIT = r"(?:ms|s|m|h|d|w)"
_PLAIN = re.compile(rf"\s*([+-]?)\s*({_NUMBER})\s*")
_COMPOUND = re.compile(rf"\s*([+-]?)\s*((?:{_NUMBER}\s*{_UNIT}\s*)+)")
_PART = re.compile(rf"({_NUMBER})\s*({_UNIT})")


def parse_duration(value: object, *, allow_negative: bool = False) -> float:
    """Return `value` in seconds.

    `value` is a number of seconds (int or float, not bool: YAML turns `yes` into True and a
    duration of "yes" is a mistake) or a string as described in the module docstring.
    Negative durations are only meaningful for a clock step or a clock offset, so callers
    must ask for them with `allow_negative`. Raises ValueError with a message meant for the
    user, e.g. "'10 minutes' is not a duration (use e.g. 90s, 10m, 2h)".
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not a duration ({HINT})")
    if isinstance(value, str):
        seconds = _parse_text(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} is not a duration ({HINT})")
    else:
        seconds = float(value)
    if seconds < 0 and not allow_negative:
        raise ValueError(f"{value!r} must not be negative")
    return seconds


def _parse_text(text: str) -> float:
    plain = _PLAIN.fullmatch(text)
    if plain:
        sign, number = plain.groups()
        total = Decimal(number)
    else:
        compound = _COMPOUND.fullmatch(text)
        if not compound:
            raise ValueError(f"{text!r} is not a duration ({HINT})")
        sign, body = compound.groups()
        total = sum(
            (Decimal(number) * UNITS[unit] for number, unit in _PART.findall(body)),
            Decimal(0),
        )
    return float(-total if sign == "-" else total)


def format_duration(seconds: float) -> str:
    """Render seconds the way a scenario would write them: `1m30s`, `250ms`, `2d3h`, `-30m`.

    Exact to the millisecond, and `parse_duration(format_duration(x)) == x` for any x that is
    a whole number of milliseconds. Finer values fall back to plain decimal seconds so that
    nothing is silently rounded away in an error message.
    """
    if not math.isfinite(seconds):
        return f"{seconds}s"
    sign = "-" if seconds < 0 else ""
    magnitude = abs(seconds)
    total_ms = round(magnitude * 1000)
    if abs(magnitude * 1000 - total_ms) > 1e-6:
        return f"{sign}{format(Decimal(repr(magnitude)), 'f')}s"
    days, rest = divmod(total_ms, 86_400_000)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    if rest % 1000 == 0 and rest:
        parts.append(f"{rest // 1000}s")
    elif rest and rest < 1000 and not parts:
        parts.append(f"{rest}ms")
    elif rest:
        parts.append(f"{rest / 1000:.3f}".rstrip("0") + "s")
    return sign + ("".join(parts) if parts else "0s")
