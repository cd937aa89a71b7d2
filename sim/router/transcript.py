"""Render a router's console transcript from the run's trace.

The console is a sequence of trace events for one router: `console/line` (a new line),
`console/inline` (text continuing the last line, like IOS's `[OK]` landing after a
debug message), and `log/*` (syslog and debug messages stamped with the router clock at
the moment they were printed: `*Jan  6 20:57:37.667: CRYPTO_CS: ...`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sim.kernel.trace import TraceEvent


def transcript_lines(events: Iterable[TraceEvent], router: str) -> list[str]:
    lines: list[str] = []
    for event in events:
        if event.router != router:
            continue
        if event.category == "console":
            if event.name == "line":
                lines.append(event.data["text"])
            elif event.name == "inline":
                if lines:
                    lines[-1] += event.data["text"]
                else:
                    lines.append(event.data["text"])
        elif event.category == "log":
            lines.append(f"{event.data['stamp']}: {event.data['text']}")
    return lines


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
