"""Render a router's console transcript from the run's trace.

The console is a sequence of trace events for one router: `console/line` (a new line),
`console/inline` (text continuing the last line, like IOS's `[OK]` landing after a
debug message), and `log/*` (syslog and debug messages stamped with the router clock at
the moment they were printed: `*Jan  6 20:57:37.667: CRYPTO_CS: ...`).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from json import decoder as json_decoder
from pathlib import Path
from typing import Any

from sim.kernel.trace import Trace, TraceEvent

scanstring: Callable[[str, int], tuple[str, int]] = json_decoder.scanstring  # type: ignore[attr-defined]
"""The JSON decoder's string scanner (C): a JSON string's value and where it ends."""


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """One console line; `kind` is "console", "syslog" or "debug" (reports can hide debug),
    `t` the simulated time it was printed."""

    text: str
    kind: str
    t: float


CONSOLE_CATEGORIES = ("console", "log")
"""The trace categories a console transcript is made of."""


def transcript_entries(events: Iterable[TraceEvent], router: str) -> list[TranscriptLine]:
    """`router`'s console lines. From a `Trace`, only that router's events are read."""
    if isinstance(events, Trace):
        indexed = events.console_events(router)
        if indexed is not None:
            events = indexed
    lines: list[TranscriptLine] = []
    for event in events:
        if event.router == router:
            add_console_event(lines, event.category, event.name, event.data, event.t)
    return lines


def add_console_event(lines: list[TranscriptLine], category: str, name: str,
                      data: dict[str, Any], t: float) -> None:
    """Add one trace event (given by its fields) to a router's console `lines`: a
    `console/line` starts a line, a `console/inline` continues the last one, a `log/*`
    is a stamped line; any other event shows nothing."""
    if category == "console":
        if name == "line":
            lines.append(TranscriptLine(data["text"], "console", t))
        elif name == "inline":
            if lines:
                last = lines[-1]
                lines[-1] = TranscriptLine(last.text + data["text"], last.kind, last.t)
            else:
                lines.append(TranscriptLine(data["text"], "console", t))
    elif category == "log":
        lines.append(TranscriptLine(f"{data['stamp']}: {data['text']}", name, t))


_LINE_START = '{"category": '


def read_trace_file(path: Path, categories: Collection[str],
                    quick: Callable[[str], dict[str, Any] | None] | None = None,
                    ) -> Iterator[dict[str, Any]]:
    """The records of a `trace.jsonl` whose category is one of `categories`, parsed, in
    order. A line of another category is skipped without parsing it: the trace writes
    its keys sorted, so each line starts with its category (`sim.kernel.trace`), and a
    run's reports read a few categories out of a trace of hundreds of thousands of lines.
    A line that does not start so (a hand-edited file) is parsed and filtered. `quick`,
    if given, reads a line first, without parsing it all; where it answers None the line
    is parsed."""
    prefixes = tuple(f"{_LINE_START}{json.dumps(category)}," for category in categories)
    wanted = frozenset(categories)
    decode = json.JSONDecoder().decode
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if quick is not None:
                record = quick(line)
                if record is not None:
                    yield record
                    continue
            if line.startswith(prefixes):
                yield decode(line)
            elif not line.startswith(_LINE_START) and line.strip():
                record = decode(line)
                if record.get("category") in wanted:
                    yield record


Books = dict[str, list[TranscriptLine]]
"""Each router's console lines."""

_CONSOLE_TEXT = '{"category": "console", "data": {"text": "'
"""How the trace writes a `console` event whose payload is its text alone (most of a
run's console: `sim.kernel.trace._line`)."""
_CONSOLE_REST = re.compile(
    r'\}, "name": "(line|inline)", "router": "([^"\\]*)", "seq": \d+, '
    r'"t": (-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?)\}\n?')
"""What follows the text of such a line: its name, a router name without escapes, the
sequence number and the time as JSON writes a number."""


def _console_line(line: str) -> dict[str, Any] | None:
    """A trace line of a router's `console/line` or `console/inline` (one that starts with
    `_CONSOLE_TEXT`) read without parsing it all: the text by the JSON decoder's own string
    scanner, the rest by `_CONSOLE_REST`. Gives what `json.loads` gives for the fields a
    transcript needs (category, name, router, data, t: a time without fraction or exponent
    is an int, as JSON reads it); None for anything else (parsed as JSON). A run's console
    is some 40 % of its trace, and parsing it was most of the time spent cutting out the
    transcripts."""
    if not line.startswith(_CONSOLE_TEXT):
        return None
    try:
        text, end = scanstring(line, len(_CONSOLE_TEXT))
    except ValueError:
        return None  # JSON parsing says what is wrong with it
    found = _CONSOLE_REST.fullmatch(line, end)
    if found is None:
        return None
    name, router, number, fraction, exponent = found.groups()
    t = float(number) if fraction or exponent else int(number)
    return {"category": "console", "name": name, "router": router, "data": {"text": text},
            "t": t}


class _Kept(threading.local):
    """The books `transcripts_from_file(..., keep=True)` read last, with the identity of the
    file they came from (`_identity`), until `take_transcripts` takes them. Per thread: a
    sweep writes several runs' folders and reports at once, each in its own thread."""

    books: tuple[tuple[int, int, int, int], Books] | None = None


_KEPT = _Kept()


def _identity(path: Path) -> tuple[int, int, int, int]:
    """Which file `path` is and which version of it: device, inode, size, modification."""
    status = os.stat(path)
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


def transcripts_from_file(path: Path, *, keep: bool = False) -> tuple[Books, int]:
    """Every router's console lines from a `trace.jsonl`, in one pass over the file, and
    the number of events in it; the same lines `transcript_entries` gives per router.

    `keep`: hold on to the books for the next `take_transcripts` of the same file (the
    report written right after the output folder reads the same consoles: parsing a
    10,000-router run's console lines again cost seconds)."""
    _KEPT.books = None  # whatever was kept is for another file, or this one before a rewrite
    books: Books = {}
    count = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            count += chunk.count(b"\n")
    for record in read_trace_file(path, CONSOLE_CATEGORIES, _console_line):
        router = record["router"]
        if router is not None:
            lines = books.get(router)
            if lines is None:
                lines = books[router] = []
            add_console_event(lines, record["category"], record["name"], record["data"],
                              record["t"])
    if keep:
        _KEPT.books = (_identity(path), books)
    return books, count


def take_transcripts(path: Path) -> Books | None:
    """The books `transcripts_from_file(path, keep=True)` read, if `path` is still the
    very file they were read from, unchanged since (same device, inode, size and
    modification time); None otherwise. Given once: they are not kept after."""
    kept, _KEPT.books = _KEPT.books, None
    if kept is None:
        return None
    try:
        same = kept[0] == _identity(path)
    except OSError:
        return None
    return kept[1] if same else None


def text_of(lines: list[TranscriptLine]) -> str:
    """A transcript file's text (`transcripts/<router>.txt`) from its lines."""
    return "".join(line.text + "\n" for line in lines)


def transcript_lines(events: Iterable[TraceEvent], router: str) -> list[str]:
    return [line.text for line in transcript_entries(events, router)]


def transcript_text(events: Iterable[TraceEvent], router: str) -> str:
    return text_of(transcript_entries(events, router))


def find_in_order(lines: list[str], wanted: Iterable[str]) -> tuple[bool, int, str | None]:
    """Ordered-subsequence search by substring: returns (found, matched count, missing)."""
    position = 0
    count = 0
    for text in wanted:
        while position < len(lines) and text not in lines[position]:
            position += 1
        if position >= len(lines):
            return False, count, text
        count += 1
        position += 1
    return True, count, None
