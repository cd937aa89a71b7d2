"""Render a router's console transcript from the run's trace.

The console is a sequence of trace events for one router: `console/line` (a new line),
`console/inline` (text continuing the last line, like IOS's `[OK]` landing after a
debug message), and `log/*` (syslog and debug messages stamped with the router clock at
the moment they were printed: `*Jan  6 20:57:37.667: CRYPTO_CS: ...`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sim.kernel.trace import Trace, TraceEvent


@dataclass(frozen=True)
class TranscriptLine:
    """One console line; `kind` is "console", "syslog" or "debug" (reports can hide debug),
    `t` the simulated time it was printed."""

    text: str
    kind: str
    t: float


def transcript_entries(events: Iterable[TraceEvent], router: str) -> list[TranscriptLine]:
    """`router`'s console lines. From a `Trace`, only that router's events are read."""
    if isinstance(events, Trace):
        indexed = events.console_events(router)
        if indexed is not None:
            events = indexed
    lines: list[TranscriptLine] = []
    for event in events:
        if event.router != router:
            continue
        if event.category == "console":
            if event.name == "line":
                lines.append(TranscriptLine(event.data["text"], "console", event.t))
            elif event.name == "inline":
                if lines:
                    last = lines[-1]
                    lines[-1] = TranscriptLine(last.text + event.data["text"], last.kind, last.t)
                else:
                    lines.append(TranscriptLine(event.data["text"], "console", event.t))
        elif event.category == "log":
            lines.append(TranscriptLine(f"{event.data['stamp']}: {event.data['text']}",
                                        event.name, event.t))
    return lines


def transcript_lines(events: Iterable[TraceEvent], router: str) -> list[str]:
    return [line.text for line in transcript_entries(events, router)]


def transcript_text(events: Iterable[TraceEvent], router: str) -> str:
    lines = transcript_lines(events, router)
    return "\n".join(lines) + ("\n" if lines else "")


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
