"""The structured trace: the single record of everything observable in a run.

Library code never prints. Every console line, syslog message, FSM transition, packet
and fault is a `TraceEvent`; transcripts, summaries and reports are rendered from the
trace afterwards. Events are kept in emission order, which is simulated-time order.

A batch run keeps every event (its output folder writes them all). A long-lived lab (a
simulated CA served on loopback for days) calls `Trace.retain(n)` to keep only the last
`n` in memory; sequence numbers go on counting, so `dropped` says how many went.

A run with an output folder streams instead (`Trace.stream_to`, `TraceFile`): each event
goes to `trace.jsonl` when it is emitted, and what stays in memory is an index of machine
words, not the events: per event its simulated time (exact; the file rounds it to
microseconds) and the byte offset of its line, and per router the sequence numbers of
its events and of its console events (about 20 bytes per event instead of some 300).
Reading goes back to the file: a router's console events (transcripts, `transcript
contains` expectations, golden files) by seeking to their lines, everything else (the
end-of-run invariants, a bench's count of the work done) by reading it through. An event
read back equals the one emitted: the same sequence number and time, and data that went
through JSON (trace payloads are JSON-native: strings, numbers, booleans, lists and
mappings; `tests/test_streaming_trace.py` keeps it so over the shipped scenarios).
"""

from __future__ import annotations

import json
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from json import encoder as json_encoder
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import IO, Any

_ENCODER = json.JSONEncoder(sort_keys=True, default=str)
"""What `json.dumps(..., sort_keys=True, default=str)` builds on every call, built once."""

_C_ENCODER: Callable[..., Callable[[Any, int], list[str]]] | None = getattr(
    json_encoder, "c_make_encoder", None)
_PAYLOAD: Callable[[Any, int], list[str]] | None = (
    _C_ENCODER(None, str, encode_basestring_ascii, None, ": ", ", ", True, False, True)
    if _C_ENCODER is not None else None)
"""`_ENCODER`'s C encoder (the one `iterencode(..., _one_shot=True)` builds on each call)
built once, without the circular-reference check: a payload is made of JSON values the
simulation just packed, never a cycle. Arguments: markers (none), `default=str`, the
ASCII string escaper, no indent, `": "`, `", "`, `sort_keys`, not `skipkeys`,
`allow_nan` (`json.JSONEncoder`'s defaults otherwise). None where `_json` has no C
encoder; then every line goes through `_ENCODER`."""
_HEADS: dict[str, str] = {}
"""Per category, a line's start up to the payload: `{"category": "console", "data": `."""
_NAMES: dict[str, str] = {}
"""Per event name, the text between the payload and the router: `, "name": "line", "router": `."""
_CACHED = 4096
"""At most this many categories and names are kept (a run has a few hundred)."""


_stamp: tuple[float, str] = (0.0, "")
"""The last time written and its text (`, "t": 12.5}`): nearly every event shares its time
with the one before (a router's burst of console lines, a message and its answer), and
rounding and writing a float cost a third of a line. One tuple, read and replaced whole,
so runs written in threads at once never pair one's time with another's text."""


def _line(event: TraceEvent) -> str:
    """`event.to_json()`, byte for byte, without building the record mapping and a new
    encoder for it: the keys are written in their sorted order (category, data, name,
    router, seq, t) with the same separators, strings escaped by the same C escaper, the
    payload by the same C encoder. An event the fast path cannot write exactly (a name
    that is not a string, a time that is not a finite float) goes through `_ENCODER`."""
    global _stamp
    category, name, router, t = event.category, event.name, event.router, event.t
    last = _stamp
    # Equal non-zero floats have the same bits, so the same text (0.0 and -0.0 do not).
    if t == last[0] and type(t) is float and t != 0.0:
        stamp = last[1]
    else:
        rounded = round(t, 6)
        if type(rounded) is not float or rounded - rounded != 0.0:
            return event.record_json()
        # float.__repr__ is how the encoder writes a finite float.
        stamp = f', "t": {rounded!r}}}'
        _stamp = (t, stamp)
    if _PAYLOAD is None or type(category) is not str or type(name) is not str \
            or not (router is None or type(router) is str) or type(event.seq) is not int:
        return event.record_json()
    head = _HEADS.get(category)
    if head is None:
        head = '{"category": ' + encode_basestring_ascii(category) + ', "data": '
        if len(_HEADS) < _CACHED:
            _HEADS[category] = head
    middle = _NAMES.get(name)
    if middle is None:
        middle = ', "name": ' + encode_basestring_ascii(name) + ', "router": '
        if len(_NAMES) < _CACHED:
            _NAMES[name] = middle
    data = event.data
    if type(data) is not dict:
        payload = "".join(_PAYLOAD(data, 0))
    elif not data:
        payload = "{}"  # a third of a run's events
    elif len(data) == 1 and type(text := data.get("text")) is str:
        # A console line (a third of the rest): what the encoder writes for it.
        payload = '{"text": ' + encode_basestring_ascii(text) + "}"
    else:
        payload = "".join(_PAYLOAD(data, 0))
    who = "null" if router is None else encode_basestring_ascii(router)
    # int.__repr__ is how the encoder writes an int.
    return f'{head}{payload}{middle}{who}, "seq": {event.seq!r}{stamp}'


@dataclass(slots=True)
class TraceEvent:
    """One observable thing that happened at simulated time `t` (seconds since start).

    Never changed once emitted (nothing assigns to an event's fields). It is not a
    `frozen` dataclass because a frozen one is built through `object.__setattr__`, field
    by field: 1.3 µs an event instead of 0.3, and a run emits hundreds of thousands (an
    idle CA's year, 438,000)."""

    seq: int
    t: float
    router: str | None
    category: str
    name: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The event's line in `trace.jsonl` (without the newline): the record below as
        `json.dumps(record, sort_keys=True, default=str)` writes it (`_line` writes the
        same bytes faster)."""
        return _line(self)

    def record_json(self) -> str:
        """`to_json` the plain way: what `_line`'s fast path must equal."""
        record = {
            "seq": self.seq,
            "t": round(self.t, 6),
            "router": self.router,
            "category": self.category,
            "name": self.name,
            "data": self.data,
        }
        # `json.dumps(record, sort_keys=True, default=str)` made the same line through a
        # new encoder each time: 9.6 us against 6.0 (a 10,000-router run writes a million).
        return "".join(_ENCODER.iterencode(record, _one_shot=True))


BUFFER = 1 << 20
"""Bytes written at a time: a line per event would be a system call per event."""
_BATCH = 2048
"""Lines joined into one write to the file: a call, an encoding and a copy into the
buffer per line cost a third of a line's writing."""
_CONSOLE = frozenset({"console", "log"})
_NARROW = (1 << 32) - 1
"""The largest offset a 4-byte index entry holds."""


class TraceFile:
    """The streamed part of a trace: events `first` .. `first + len(self) - 1`."""

    __slots__ = ("path", "first", "_out", "_position", "_times", "_offsets", "_by_router",
                 "_console", "_dirty", "_pending", "queue", "drain")

    def __init__(self, path: Path, first: int,
                 wrap: Callable[[Callable[[], None]], Callable[[], None]] | None = None,
                 ) -> None:
        self.path = path
        self.first = first
        self.queue: list[TraceEvent] = []
        """Events emitted and not yet written: `Trace.record` puts each event here (a list
        append) and calls `drain` every `_BATCH` events. Writing each event through a call
        of its own (and, in `pkilab bench`, through the timer wrapped around it) cost a
        sixth of the writing."""
        self.drain: Callable[[], None] = self._drain if wrap is None else wrap(self._drain)
        """Write the queued events (`wrap`, if given, wraps it: the bench times it)."""
        self._out: IO[bytes] | None = open(path, "wb", buffering=BUFFER)  # noqa: SIM115
        self._position = 0
        self._times = array("d")
        self._offsets = array("I")
        """Each line's byte offset: 4 bytes while the file is under 4 GiB (a 10,000-router
        run's is some 200 MB), 8 once it is not (`append` widens the array then)."""
        self._by_router: dict[str, array[int]] = {}
        """Sequence numbers per router (4 bytes each: a run of 4 billion events is far off)."""
        self._console: dict[str, array[int]] = {}
        self._dirty = False
        self._pending: list[str] = []
        """Lines not yet handed to the file, without their newlines: written `_BATCH` at a
        time (joined, encoded once, one call to the file) rather than each on its own."""

    def __len__(self) -> int:
        return len(self._offsets) + len(self.queue)

    def append(self, event: TraceEvent) -> None:
        """Write `event` (after those queued)."""
        if self._out is None:
            raise ValueError(f"the trace file {self.path} is closed")
        self.queue.append(event)
        self.drain()

    def _drain(self) -> None:
        """Write the queued events' lines and index them, in one pass over the batch."""
        events = self.queue
        if not events:
            return
        if self._out is None:
            raise ValueError(f"the trace file {self.path} is closed")
        position = self._position
        offsets = self._offsets
        times = self._times
        by_router = self._by_router
        consoles = self._console
        pending = self._pending
        for event in events:
            line = _line(event)
            if position > _NARROW and offsets.typecode == "I":
                offsets = self._offsets = array("q", offsets)
            offsets.append(position)
            # A line is ASCII (the encoders escape everything else), so its length is its
            # size in bytes; `isascii` is a flag lookup, and keeps the count right regardless.
            position += 1 + (len(line) if line.isascii() else len(line.encode("utf-8")))
            times.append(event.t)
            pending.append(line)
            router = event.router
            if router is not None:
                # get-then-add, not setdefault: that would build an array per event to discard.
                seqs = by_router.get(router)
                if seqs is None:
                    seqs = by_router[router] = array("I")
                seqs.append(event.seq)
                if event.category in _CONSOLE:
                    console = consoles.get(router)
                    if console is None:
                        console = consoles[router] = array("I")
                    console.append(event.seq)
        self._position = position
        events.clear()
        self._dirty = True
        if len(pending) >= _BATCH:
            self._write_pending()

    def _write_pending(self) -> None:
        if self._pending and self._out is not None:
            self._pending.append("")  # the last line's newline
            self._out.write("\n".join(self._pending).encode("utf-8"))
            self._pending.clear()

    def close(self) -> None:
        """Write what is buffered and stop writing; the file stays readable."""
        if self._out is not None:
            self.drain()
            self._write_pending()
            self._out.close()
            self._out = None

    def _flush(self) -> None:
        if self.queue and self._out is not None:
            self.drain()
        if self._dirty and self._out is not None:
            self._write_pending()
            self._out.flush()
        self._dirty = False

    # -- reading ---------------------------------------------------------------------------
    def _event(self, line: bytes) -> TraceEvent:
        record = json.loads(line)
        seq = int(record["seq"])
        return TraceEvent(seq, self._times[seq - self.first], record["router"],
                          record["category"], record["name"], record["data"])

    def __iter__(self) -> Iterator[TraceEvent]:
        self._flush()
        count = len(self)
        with open(self.path, "rb") as handle:
            for _ in range(count):
                yield self._event(handle.readline())

    def lines(self, category: str | None = None) -> Iterator[TraceEvent]:
        """Every event, or those of `category` (found without parsing the others: the
        file's keys are sorted, so each line starts with its category)."""
        if category is None:
            yield from self
            return
        prefix = ('{"category": ' + json.dumps(category) + ",").encode()
        self._flush()
        count = len(self)
        with open(self.path, "rb") as handle:
            for _ in range(count):
                line = handle.readline()
                if line.startswith(prefix):
                    yield self._event(line)

    def events(self, seqs: Iterable[int]) -> list[TraceEvent]:
        """The events with these sequence numbers, in the order given."""
        self._flush()
        found = []
        with open(self.path, "rb") as handle:
            for seq in seqs:
                handle.seek(self._offsets[seq - self.first])
                found.append(self._event(handle.readline()))
        return found

    def router_events(self, router: str) -> list[TraceEvent]:
        self._flush()  # the queued events join the index first
        return self.events(self._by_router.get(router, ()))

    def console_events(self, router: str) -> list[TraceEvent]:
        self._flush()
        return self.events(self._console.get(router, ()))

    def text(self) -> bytes:
        """The file's bytes so far."""
        self._flush()
        with open(self.path, "rb") as handle:
            return handle.read(self._position)


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
        self._file: TraceFile | None = None
        """The streamed events (`stream_to`); `_events` then holds those emitted after
        the file was closed (`end_stream`)."""
        self._queue: list[TraceEvent] | None = None
        """While the file is open, its queue (`TraceFile.queue`): each event is put there
        and the file drains it every `_BATCH` events; None before `stream_to` and after
        `end_stream` (events are then kept in memory)."""
        self._drain: Callable[[], None] | None = None
        """The file's `drain`, as `stream_to` was asked to wrap it."""

    def emit(
        self, t: float, router: str | None, category: str, name: str, /, **data: Any
    ) -> TraceEvent:
        return self.record(t, router, category, name, data)

    def record(self, t: float, router: str | None, category: str, name: str,
               data: dict[str, Any]) -> TraceEvent:
        """`emit` with the payload as a mapping the event takes over (not copied): the
        path `SimEnv.emit` takes, which has just packed it."""
        event = TraceEvent(self._emitted, t, router, category, name, data)
        self._emitted += 1
        queue = self._queue
        if queue is not None:
            queue.append(event)
            if len(queue) >= _BATCH and self._drain is not None:
                self._drain()
        else:
            self._events.append(event)
            if self._console is not None and router is not None \
                    and category in self.CONSOLE_CATEGORIES:
                self._console.setdefault(router, []).append(event)
        for subscriber in self._subscribers:
            subscriber(event)
        return event

    def stream_to(self, path: Path,
                  wrap: Callable[[Callable[[], None]], Callable[[], None]] | None = None,
                  ) -> None:
        """Write every event to `path` (`trace.jsonl`) from now on, those so far first,
        keeping only an index in memory (`TraceFile`). `wrap`, if given, wraps the
        writing of each batch of events (the bench times it apart from the simulation)."""
        if self._file is not None:
            raise ValueError(f"the trace already streams to {self._file.path}")
        if self.dropped or self._events.maxlen is not None:
            raise ValueError("a bounded trace cannot stream: it has let events go")
        self._file = TraceFile(path, self._emitted - len(self._events), wrap)
        self._queue = self._file.queue
        self._drain = self._file.drain
        self._queue.extend(self._events)
        self._drain()
        self._events.clear()
        self._console = {}

    def end_stream(self) -> Path | None:
        """Finish the streamed file (its bytes are final); later events stay in memory.
        Returns the file, or None if the trace does not stream."""
        if self._file is None:
            return None
        self._file.close()
        self._queue = self._drain = None
        return self._file.path

    @property
    def streamed_to(self) -> Path | None:
        """The file the trace streams (or streamed) to."""
        return self._file.path if self._file is not None else None

    def retain(self, limit: int | None) -> None:
        """Keep only the last `limit` events in memory from now on (None: keep all)."""
        if limit is not None and limit < 0:
            raise ValueError(f"trace retention must be 0 or more events, not {limit}")
        if self._file is not None:
            raise ValueError("a streamed trace keeps every event on disk: it cannot be bounded")
        self._events = deque(self._events, maxlen=limit)
        if limit is not None:
            self._console = None  # the index would keep what the limit lets go

    def console_events(self, router: str) -> list[TraceEvent] | None:
        """`router`'s retained `console` and `log` events in order, from the index; None
        when the trace is bounded (then scan it)."""
        if self._console is None:
            return None
        tail = self._console.get(router, [])
        if self._file is not None:
            return self._file.console_events(router) + tail
        return tail

    @property
    def emitted(self) -> int:
        """Events emitted since the start, retained or not (the next event's `seq`)."""
        return self._emitted

    @property
    def dropped(self) -> int:
        """Events no longer in memory because of `retain`."""
        return self._emitted - len(self)

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def __iter__(self) -> Iterator[TraceEvent]:
        if self._file is not None:
            yield from self._file
        yield from self._events

    def __len__(self) -> int:
        return len(self._events) + (len(self._file) if self._file is not None else 0)

    def select(
        self, *, router: str | None = None, category: str | None = None, name: str | None = None
    ) -> list[TraceEvent]:
        events: Iterable[TraceEvent] = self._events
        if self._file is not None:
            streamed = (self._file.router_events(router) if router is not None
                        else self._file.lines(category))
            events = [*streamed, *self._events]
        return [
            e
            for e in events
            if (router is None or e.router == router)
            and (category is None or e.category == category)
            and (name is None or e.name == name)
        ]

    def to_jsonl(self) -> str:
        head = self._file.text().decode("utf-8") if self._file is not None else ""
        return head + "".join(e.to_json() + "\n" for e in self._events)
