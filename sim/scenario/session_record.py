"""A live console session as scenario events: what was typed, and how long each answer took.

A live console (`Router.set_live_console`) has a person at the keyboard: a question that
the typed lines bring no answer for waits until the person answers it. For the session to
be saved as a scenario that replays with the same transcript, each answer must be typed
in the replay exactly as long after its question as it was live, and the router records
what that takes in the trace:

- `console/typed`: a batch of lines reached the console (`batch`, a number per router;
  `lines`; `answers`, those typed with them, as `Answer.record` writes them);
- `console/answer`: the person answered a question raised by batch `batch`: `text`,
  `after` (seconds since the question was printed), `ctrl_c`, and `secret` (a password:
  the text is recorded all the same, because the replay must type it, as a scenario
  file's `input` does).

`SessionRecorder` reads these (subscribed to a trace, it keeps them even when the trace
itself keeps only its last events) and gives back `cli` events: each batch at the time it
was typed, with its answers in the order the questions were asked, each live answer as
`Answer(text, after)` or `Answer(ctrl_c=True, after=...)`, which a scenario file writes
as `{text: TEXT, after: 7.5s}` or `{ctrl_c: true, after: 3s}`.

Times are kept as the floats the simulation used (`sim.scenario.yaml_scalars` writes them
exactly), so the replayed answers land on the very instants they were typed at.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sim.kernel.trace import Trace, TraceEvent
from sim.scenario.model import Answer, CliEvent, Event


@dataclass
class _Batch:
    """One recorded batch: where and when it was typed, and its answers so far."""

    router: str
    at: float
    lines: tuple[str, ...]
    answers: list[Answer] = field(default_factory=list)


class SessionRecorder:
    """Collects the typed batches and live answers of a run, as they happen or afterwards.

    `SessionRecorder(trace)` subscribes to `trace` and sees every event from then on;
    `SessionRecorder.of(events)` reads events already emitted (those a trace still holds).
    """

    def __init__(self, trace: Trace | None = None) -> None:
        self._batches: dict[tuple[str, int], _Batch] = {}
        self._order: list[tuple[str, int]] = []
        if trace is not None:
            trace.subscribe(self.feed)

    @classmethod
    def of(cls, events: Iterable[TraceEvent]) -> SessionRecorder:
        recorder = cls()
        for event in events:
            recorder.feed(event)
        return recorder

    def feed(self, event: TraceEvent) -> None:
        """Take one trace event into account (others than the two above are ignored)."""
        if event.category != "console" or event.router is None:
            return
        data = event.data
        if event.name == "typed":
            key = (event.router, int(data["batch"]))
            self._batches[key] = _Batch(event.router, event.t, tuple(data["lines"]),
                                        [_given(record) for record in data["answers"]])
            self._order.append(key)
        elif event.name == "answer" and data.get("batch") is not None:
            batch = self._batches.get((event.router, int(data["batch"])))
            if batch is not None:  # else typed before the recorder was listening
                batch.answers.append(_given(data))

    def cli_events(self, router: str | None = None) -> tuple[CliEvent, ...]:
        """Every recorded batch (of `router`, or of all routers) as a `cli` event, in the
        order they were typed."""
        batches = (self._batches[key] for key in self._order)
        return tuple(CliEvent(batch.at, batch.router, batch.lines, tuple(batch.answers))
                     for batch in batches if router is None or batch.router == router)

    def with_answers(self, events: Iterable[Event]) -> tuple[Event, ...]:
        """`events` (say, what a lab recorded as it applied them) with every `cli` event
        that reached a live console given the answers recorded for it.

        A `cli` event is matched to the first unclaimed batch typed at the same router, at
        the same instant, with the same lines; its input becomes that batch's (the
        answers it brought, then those typed live). Other events are unchanged.
        """
        waiting: dict[tuple[str, float, tuple[str, ...]], deque[_Batch]] = defaultdict(deque)
        for key in self._order:
            batch = self._batches[key]
            waiting[(batch.router, batch.at, batch.lines)].append(batch)
        out: list[Event] = []
        for event in events:
            if isinstance(event, CliEvent):
                queue = waiting.get((event.router, event.at, event.lines))
                if queue:
                    event = replace(event, input=tuple(queue.popleft().answers))
            out.append(event)
        return tuple(out)


def session_events(trace: Iterable[TraceEvent], router: str | None = None
                   ) -> tuple[CliEvent, ...]:
    """The typed batches and live answers in `trace` as `cli` events (see the module
    docstring); `router` keeps one router's."""
    return SessionRecorder.of(trace).cli_events(router)


def _given(record: dict[str, Any]) -> Answer:
    """An answer from the trace: `Answer.record`'s form, or a `console/answer`'s data."""
    after = record.get("after")
    ctrl_c = bool(record.get("ctrl_c", False))
    return Answer("" if ctrl_c else str(record.get("text", "")),
                  None if after is None else float(after), ctrl_c=ctrl_c)
