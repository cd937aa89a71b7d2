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
        if name in ("line", "inline"):
            _add_console_text(lines, name, data["text"], t)
    elif category == "log":
        lines.append(TranscriptLine(f"{data['stamp']}: {data['text']}", name, t))


def _add_console_text(lines: list[TranscriptLine], name: str, text: str, t: float) -> None:
    """A `console/line` starts a line; a `console/inline` continues the last one (or
    starts the first)."""
    if name == "line" or not lines:
        lines.append(TranscriptLine(text, "console", t))
    else:
        last = lines[-1]
        lines[-1] = TranscriptLine(last.text + text, last.kind, last.t)


_LINE_START = '{"category": '


def read_trace_file(path: Path, categories: Collection[str],
                    handled: Callable[[str], bool] | None = None,
                    ) -> Iterator[dict[str, Any]]:
    """The records of a `trace.jsonl` whose category is one of `categories`, parsed, in
    order. A line of another category is skipped without parsing it: the trace writes
    its keys sorted, so each line starts with its category (`sim.kernel.trace`), and a
    run's reports read a few categories out of a trace of hundreds of thousands of lines.
    A line that does not start so (a hand-edited file) is parsed and filtered.
    `handled`, if given, sees each line first; a line it answers True for is taken care
    of there and not parsed."""
    prefixes = tuple(f"{_LINE_START}{json.dumps(category)}," for category in categories)
    wanted = frozenset(categories)
    decode = json.JSONDecoder().decode
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if handled is not None and handled(line):
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


class _Kept(threading.local):
    """What `transcripts_from_file(..., keep=True)` read last, with the identity of the
    file it came from (`_identity`), until `take_kept` takes it. Per thread: a sweep
    writes several runs' folders and reports at once, each in its own thread."""

    books: tuple[tuple[int, int, int, int], Kept] | None = None


@dataclass(frozen=True, slots=True)
class Kept:
    """A trace file's consoles (`books`) and its records of the categories `also` asked
    for (`records`, parsed, in file order), read in the same pass."""

    books: Books
    categories: frozenset[str]
    records: list[dict[str, Any]]


_KEPT = _Kept()


def _identity(path: Path) -> tuple[int, int, int, int]:
    """Which file `path` is and which version of it: device, inode, size, modification."""
    status = os.stat(path)
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


def transcripts_from_file(path: Path, *, keep: bool = False,
                          also: Collection[str] = ()) -> tuple[Books, int]:
    """Every router's console lines from a `trace.jsonl`, in one pass over the file, and
    the number of events in it; the same lines `transcript_entries` gives per router.

    `keep`: hold on to the books for the next `take_kept` of the same file (the report
    written right after the output folder reads the same consoles: parsing a 10,000-router
    run's console lines again cost seconds), with the records of the categories `also`
    (the report's other facts), read in the same pass: reading the file through again for
    them cost a fifth of the report."""
    _KEPT.books = None  # whatever was kept is for another file, or this one before a rewrite
    books: Books = {}
    records: list[dict[str, Any]] = []
    count = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            count += chunk.count(b"\n")
    others = frozenset(also) - frozenset(CONSOLE_CATEGORIES) if keep else frozenset()
    for record in _read_consoles(path, (*CONSOLE_CATEGORIES, *sorted(others)), books):
        category = record["category"]
        if category not in CONSOLE_CATEGORIES:
            records.append(record)
            continue
        router = record["router"]
        if router is not None:
            lines = books.get(router)
            if lines is None:
                lines = books[router] = []
            add_console_event(lines, category, record["name"], record["data"], record["t"])
    if keep:
        _KEPT.books = (_identity(path), Kept(books, others, records))
    return books, count


def _read_consoles(path: Path, categories: Collection[str], books: Books,
                   ) -> Iterator[dict[str, Any]]:
    """`read_trace_file(path, categories)`, except that a line starting with
    `_CONSOLE_TEXT` is read without parsing it all (the text by the JSON decoder's own
    string scanner, the rest by `_CONSOLE_REST`; a time without fraction or exponent is an
    int, as JSON reads it) and goes straight into its router's lines in `books`
    (`_add_console_text`) instead of being yielded as a record. A run's
    console is some 40 % of its trace: parsing it was most of the time spent cutting out
    the transcripts, and then building a mapping per line and handing it through a
    generator and a call half of the rest. The other records (and a console line the
    quick reading does not settle) are yielded, in order."""
    start = len(_CONSOLE_TEXT)
    rest = _CONSOLE_REST.fullmatch

    def console_text(line: str) -> bool:
        if not line.startswith(_CONSOLE_TEXT):
            return False
        try:
            text, end = scanstring(line, start)
        except ValueError:
            return False  # JSON parsing says what is wrong with it
        found = rest(line, end)
        if found is None:
            return False
        name, router, number, fraction, exponent = found.groups()
        lines = books.get(router)
        if lines is None:
            lines = books[router] = []
        _add_console_text(lines, name, text,
                          float(number) if fraction or exponent else int(number))
        return True

    return read_trace_file(path, categories, console_text)


def take_kept(path: Path) -> Kept | None:
    """What `transcripts_from_file(path, keep=True)` read, if `path` is still the very
    file it was read from, unchanged since (same device, inode, size and modification
    time); None otherwise. Given once: it is not kept after."""
    kept, _KEPT.books = _KEPT.books, None
    if kept is None:
        return None
    try:
        same = kept[0] == _identity(path)
    except OSError:
        return None
    return kept[1] if same else None


def take_transcripts(path: Path) -> Books | None:
    """The consoles of `take_kept(path)`."""
    kept = take_kept(path)
    return kept.books if kept is not None else None


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
