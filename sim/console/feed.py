"""What a terminal shows of a router's console as the simulation prints it.

The run's trace holds every router's console (`console/line`, `console/inline`, syslog
and debug `log/*` events); `ConsoleFeed` subscribes to it and turns the events of the
router being watched into lines to print, as a terminal server shows one line of a
rack. Two things differ from the transcript a report renders:

- the person's own typing is already on the screen (the terminal library drew it after
  the prompt), so the router's echo of a line typed at this console (the `console/line`
  that follows its `cli/command`) is not printed again; lines typed by a scenario event
  are printed, as they were not typed here;
- a question the router is waiting on (`% Do you accept this certificate? [yes/no]:`)
  is shown as the prompt the person answers at, not as a line, and the router's echo
  of the answer is not printed either.

The trace calls subscribers from the simulation's thread; `take` is called by the
terminal's thread with the simulation's lock held, so the router's state it reads (its
question) matches the events taken.
"""

from __future__ import annotations

import queue
from collections import defaultdict, deque
from dataclasses import dataclass, field

from sim.kernel.trace import Trace, TraceEvent

_SHOWN = ("console", "log", "cli")


@dataclass
class _RouterFeed:
    typed: deque[str] = field(default_factory=deque)
    """Lines typed at this console whose echo has not come yet."""
    skip_echo: bool = False
    skip_answer_echo: bool = False


class ConsoleFeed:
    """The lines to print for the watched router, from the trace as it grows."""

    def __init__(self, trace: Trace) -> None:
        self._events: queue.SimpleQueue[TraceEvent] = queue.SimpleQueue()
        self._routers: defaultdict[str, _RouterFeed] = defaultdict(_RouterFeed)
        trace.subscribe(self._on_event)

    def _on_event(self, event: TraceEvent) -> None:
        if event.category in _SHOWN and event.router is not None:
            self._events.put(event)

    def typed_here(self, router: str, line: str) -> None:
        """`line` was typed at this console: its echo is on the screen already."""
        self._routers[router].typed.append(line)

    def answered_here(self, router: str, *, echoed: bool) -> None:
        """An answer (or Ctrl-C) was typed at this console's question: when the router
        echoes it (`echoed`), the echo is on the screen already."""
        self._routers[router].skip_answer_echo = echoed

    def take(self, watched: str | None, question: str | None = None) -> list[str]:
        """The lines to print for `watched` since the last call; `question` is the
        prompt it now waits on (not printed: the terminal shows it as the prompt)."""
        lines: list[str] = []
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                break
            text, joins = self._render(event)
            if text is None or event.router != watched:
                continue
            if joins and lines:
                lines[-1] += text
            else:
                lines.append(text)
        if question is not None and lines and lines[-1] == question:
            lines.pop()
        return lines

    def _render(self, event: TraceEvent) -> tuple[str | None, bool]:
        """The text an event adds for its router, and whether it continues the last line;
        keeps the echo bookkeeping of every router (typing may wait in typeahead while
        the person watches another)."""
        state = self._routers[event.router or ""]
        data = event.data
        if event.category == "cli":
            if event.name == "command" and state.typed and state.typed[0] == data.get("line"):
                state.typed.popleft()
                state.skip_echo = True
            return None, False
        if event.category == "console":
            if event.name == "dropped":
                state.typed.clear()
                return f"% {event.router} is not running: typing dropped", False
            if event.name == "line":
                if state.skip_echo:
                    state.skip_echo = False
                    return None, False
                return str(data.get("text", "")), False
            if event.name == "inline":
                if state.skip_answer_echo:
                    state.skip_answer_echo = False
                    return None, False
                return str(data.get("text", "")), True
            return None, False
        return f"{data.get('stamp', '')}: {data.get('text', '')}", False
