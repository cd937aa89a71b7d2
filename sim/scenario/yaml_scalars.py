"""Scalars for written scenario files: plain where every YAML reader agrees, else quoted.

`sim.scenario.writer` lays a scenario file out by hand; this module decides how each
value is spelled, so that the loader (`sim.scenario.loader`) reads back exactly the value
that was written, and so does any other YAML tool a reader points at the file:

- Text is plain only when it is printable ASCII that no YAML 1.1 or 1.2 reader takes for
  anything but that text: not `yes`, `no`, `on`, `off`, `y`, `null`, `~`, a number, a
  date, `<<`; no indicator (`-`, `%`, `"`, `#`, ...) in front, no `: ` or ` #` inside, no
  `,?[]{}` inside a flow collection, no space at either end. Anything else is written
  double-quoted by PyYAML's own emitter, which escapes what must be (`\\t`, `\\n`,
  `\\u2028`, ...) and leaves printable unicode readable.
- `${` is the matrix placeholder, and a plain file that holds one is refused
  (`sim.scenario.matrix`: "write '$${' for a literal '${'"), so text is escaped first:
  every `${...}` the placeholder pattern would match gets one more `$`.
- Console and config text goes in `|` literal blocks when the lines survive one unchanged
  (printable characters, no tabs, no spaces at line ends); an indentation indicator
  (`|2`) is added when the first line starts with a space, as IOS sub-commands do.
- Durations, numbers and timestamps are written so that they parse back to the same float
  or instant (`duration_text`, `number_text`, `timestamp_text`).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from decimal import Decimal

import yaml

from sim.scenario.durations import format_duration, parse_duration

NOT_YAML = yaml.reader.Reader.NON_PRINTABLE
"""Characters no YAML stream may hold, raw or escaped, as the loader refuses them too."""

LINE_SPLITTERS = frozenset("\n\r\x85\u2028\u2029")
"""Characters that `str.splitlines` (and so the loader, on console and config text given
as one string) takes for line ends, and that a file can hold; the others it splits on are
C0 controls, which `NOT_YAML` refuses."""

_PLAIN_BODY = re.compile(r"[!-~](?:[ -~]*[!-~])?")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_INDICATORS = frozenset(",?[]{}")
"""What ends a plain scalar inside a flow collection (PyYAML's scanner includes `?`)."""
_OTHER_READINGS = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[yYnN]"
)
"""What YAML 1.2 readers (or YAML 1.1's boolean list) take for a number or boolean, where
PyYAML's YAML 1.1 resolver sees text: `1e5`, `0o17`, `y`, `n`."""

_PLACEHOLDER = re.compile(r"\$\{[^{}]*\}")
"""`${...}` as `sim.scenario.matrix` finds placeholders (its pattern without the `$$`
escape): text holding one is written with one `$` more."""

_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
_NO_WRAP = 2**31 - 1
"""PyYAML's line width: never fold a quoted scalar over lines."""


def unwritable_character(text: str) -> str | None:
    """The first character of `text` that no scenario file can hold, if any."""
    bad = NOT_YAML.search(text)
    return bad.group() if bad else None


def escape_placeholders(text: str) -> str:
    """`text` as a file without `matrix:` must write it: `${x}` becomes `$${x}`.

    The matrix pass turns `$${x}` back into `${x}` and refuses a bare `${x}`; the one
    added `$` goes in front of exactly the spans it would take for placeholders.
    """
    return _PLACEHOLDER.sub(lambda match: "$" + match.group(), text)


def is_plain(text: str, *, flow: bool) -> bool:
    """Whether `text` reads back as itself, unquoted, in a block (or a flow) collection."""
    if not _PLAIN_BODY.fullmatch(text) or text[0] in _INDICATORS:
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    if flow and any(char in _FLOW_INDICATORS for char in text):
        return False
    if _OTHER_READINGS.fullmatch(text):
        return False
    return _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG


def quoted(text: str) -> str:
    """`text` as one double-quoted YAML scalar, escapes by PyYAML's emitter."""
    dumped = yaml.dump(text, Dumper=yaml.SafeDumper, default_style='"', allow_unicode=True,
                       width=_NO_WRAP)
    return dumped.rstrip("\n")


def scalar(text: str, *, flow: bool) -> str:
    """`text` plain when that is safe (see `is_plain`), else double-quoted."""
    return text if is_plain(text, flow=flow) else quoted(text)


def block_header(lines: list[str] | tuple[str, ...]) -> str | None:
    """The header of a `|` block scalar holding `lines` (`|`, or `|2` when the first line
    starts with a space), or None when a block would not give the lines back unchanged.

    The indicator counts from the key's column: the lines go two columns right of it.
    """
    if not any(lines):
        return None
    for line in lines:
        if line != line.rstrip(" ") or any(not (c == " " or c.isprintable()) for c in line):
            return None
    first = next(line for line in lines if line)
    return "|2" if first.startswith(" ") else "|"


def duration_text(seconds: float) -> str:
    """A duration as people write it (`format_duration`: `1m30s`, `250ms`), or in exact
    decimal seconds when that would not read back as the very same float: a time taken
    from a live session, such as 1.6000000000000003 s, must replay at that instant."""
    text = format_duration(seconds)
    try:
        if parse_duration(text, allow_negative=True) == seconds:
            return text
    except ValueError:  # not finite, or too long: the loader says so, at its line
        return text
    return format(Decimal(repr(float(seconds))), "f") + "s"


def number_text(value: float) -> str:
    """A float as YAML 1.1 reads it back: `12.5`, `1.0e-05` (PyYAML wants the dot)."""
    if not math.isfinite(value):
        return ".nan" if math.isnan(value) else ("-.inf" if value < 0 else ".inf")
    text = repr(float(value))
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:
        text = f"{mantissa}.0e{exponent}"
    return text


def timestamp_text(value: datetime) -> str:
    """An instant in UTC, as the shipped files write it: `2005-01-06T21:00:00Z`.

    A value without a zone is UTC, as the scenario format reads one (`model` conventions).
    """
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    text = (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
            f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"
