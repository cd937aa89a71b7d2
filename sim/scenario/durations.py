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

Every duration is at most `MAX_DURATION` (3650d, ten years) either way; see there for why.
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

MAX_DURATION = 3650 * 86400
"""The longest duration a scenario may give, in seconds (either sign): 3650d, ten years.

A simulated run takes host time in proportion to what happens in it, and a certificate
server's timers fire for as long as it runs (the CRL is republished every `lifetime crl`,
one hour at the least), so a typo such as `duration: 99999999999w` must be refused rather
than run for ever. Ten years covers what a lab watches happen: three times IOS's default
CA certificate lifetime (`lifetime ca-certificate 1095`, three years), twice the longest
`lifetime certificate` (1825 days), and every renewal and CRL timer on the way. A lab that
needs a router's clock further ahead (the end of a 20-year CA certificate) moves the clock
with `clock_set` or `clock_jump` instead of simulating the years. Being an exact whole
number of seconds far below 2**53, the bound is also exact as a float and as a timedelta.
"""

MAX_TEXT = "3650d (10 years)"
"""`MAX_DURATION` as messages and `schema.json` write it."""

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
    must ask for them with `allow_negative`. Nothing longer than `MAX_DURATION` either way
    is a duration. Raises ValueError with a message meant for the user, e.g.
    "'10 minutes' is not a duration (use e.g. 90s, 10m, 2h)".
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not a duration ({HINT})")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} is not a duration ({HINT})")
    # Exact arithmetic until the bound is checked: float() of 1 followed by 400 zeros
    # overflows, and a float would turn a long run of digits into infinity.
    try:
        seconds = _parse_text(value) if isinstance(value, str) else Decimal(value)
    except ArithmeticError:  # Decimal's own overflow: a million digits times 604800
        raise ValueError(f"{_shown(value)} is too long: the longest duration pkilab "
                         f"simulates is {MAX_TEXT}") from None
    if seconds < 0 and not allow_negative:
        raise ValueError(f"{_shown(value)} must not be negative")
    if seconds.copy_abs() > MAX_DURATION:  # copy_abs: no rounding, so no overflow
        raise ValueError(f"{_shown(value)} is too long: the longest duration pkilab simulates "
                         f"is {MAX_TEXT}")
    return float(seconds)


def _shown(value: int | float | str) -> str:
    """`value` for a message, elided in the middle if it is very long (1 and 400 zeros)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:18]}...{text[-18:]}"


def _parse_text(text: str) -> Decimal:
    plain = _PLAIN.fullmatch(text)
    if plain:
        sign, number = plain.groups()
        total = Decimal(number)
    else:
        compound = _COMPOUND.fullmatch(text)
        if not compound:
            raise ValueError(f"{_shown(text)} is not a duration ({HINT})")
        sign, body = compound.groups()
        total = sum(
            (Decimal(number) * UNITS[unit] for number, unit in _PART.findall(body)),
            Decimal(0),
        )
    return -total if sign == "-" else total


def format_duration(seconds: float) -> str:
    """Render seconds the way a scenario would write them: `1m30s`, `250ms`, `2d3h`, `-30m`.

    Exact to the millisecond, and `parse_duration(format_duration(x)) == x` for any x that is
    a whole number of milliseconds. Finer values fall back to plain decimal seconds so that
    nothing is silently rounded away in an error message. Any finite float is formatted
    (in `Decimal`, so 1e308 does not overflow), though only durations up to
    `MAX_DURATION` parse back.
    """
    if not math.isfinite(seconds):
        return f"{seconds}s"
    sign = "-" if seconds < 0 else ""
    magnitude = Decimal(repr(abs(float(seconds))))
    exact_ms = magnitude * 1000
    total_ms = int(exact_ms.to_integral_value())
    if abs(exact_ms - total_ms) > Decimal("1e-6"):
        return f"{sign}{format(magnitude, 'f')}s"
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
