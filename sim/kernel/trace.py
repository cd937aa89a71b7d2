"""The structured trace: the single record of everything observable in a run.

Library code never prints. Every console line, syslog message, FSM transition, packet
and fault is a `TraceEvent`; transcripts, summaries and reports are rendered from the
trace afterwards. Events are kept in emission order, which is simulated-time order.

A batch run keeps every event (its output folder writes them all). A long-lived lab (a
simulated CA served on loopback for days) calls `Trace.retain(n)` to keep only the last
`n` in memory; sequence numbers go on counting, so `dropped` says how many went.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TraceEvent:
    """One observable thing that happened at simulated time `t` (seconds since start)."""

    seq: int
    t: float
    router: str | None
    category: str
    name: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        record = {
            "seq": self.seq,
            "t": round(self.t, 6),
            "router": self.router,
            "category": self.category,
            "name": self.name,
            "data": self.data,
        }
        return json.dumps(record, sort_keys=True, default=str)


Subscriber = Callable[[TraceEvent], None]


class Trace:
    """Append-only sequence of events with optional live subscribers.

    Subscribers see every event, retained or not; iteration, `len` and `select` see the
    retained ones.

    While every event is retained, the trace also keeps each router's console events
    (`console` and `log`) in a list of their own (`console_events`), so that cutting out
    one router's transcript costs that router's events, not the whole run's: writing the
    transcripts of a 3,000-router run used to scan the whole trace once per router.
    """

    CONSOLE_CATEGORIES = frozenset({"console", "log"})

    def __init__(self) -> None:
        self._events: deque[TraceEvent] = deque()
        self._subscribers: list[Subscriber] = []
        self._emitted = 0
        self._console: dict[str, list[TraceEvent]] | None = {}
        """Per-router console events, in order; None once `retain` bounds the trace."""

    def emit(
        self, t: float, router: str | None, category: str, name: str, /, **data: Any
    ) -> TraceEvent:
        event = TraceEvent(self._emitted, t, router, category, name, data)
        self._emitted += 1
        self._events.append(event)
        if self._console is not None and router is not None \
                and category in self.CONSOLE_CATEGORIES:
            self._console.setdefault(router, []).append(event)
        for subscriber in self._subscribers:
            subscriber(event)
        return event

    def retain(self, limit: int | None) -> None:
        """Keep only the last `limit` events in memory from now on (None: keep all)."""
        if limit is not None and limit < 0:
            raise ValueError(f"trace retention must be 0 or more events, not {limit}")
        self._events = deque(self._events, maxlen=limit)
        if limit is not None:
            self._console = None  # the index would keep what the limit lets go

    def console_events(self, router: str) -> list[TraceEvent] | None:
        """`router`'s retained `console` and `log` events in order, from the index; None
        when the trace is bounded (then scan it)."""
        if self._console is None:
            return None
        return self._console.get(router, [])

    @property
    def emitted(self) -> int:
        """Events emitted since the start, retained or not (the next event's `seq`)."""
        return self._emitted

    @property
    def dropped(self) -> int:
        """Events no longer in memory because of `retain`."""
        return self._emitted - len(self._events)

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def __iter__(self) -> Iterator[TraceEvent]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def select(
        self, *, router: str | None = None, category: str | None = None, name: str | None = None
    ) -> list[TraceEvent]:
        return [
            e
            for e in self._events
            if (router is None or e.router == router)
            and (category is None or e.category == category)
            and (name is None or e.name == name)
        ]

    def to_jsonl(self) -> str:
        return "".join(e.to_json() + "\n" for e in self._events)
