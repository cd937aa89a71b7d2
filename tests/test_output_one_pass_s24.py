"""Writing a run's output without doing work twice (issue 13) gives what the plain way gives:
a streamed trace written in batches reads back every event emitted so far, and the report's
records kept from the pass that cut out the transcripts are the ones a fresh read of the
trace gives. If this fails, a `transcript contains` check or a report would miss events, or
show other ones, depending on how the output was written."""

from __future__ import annotations

import json
from pathlib import Path

from sim.kernel.trace import _BATCH, Trace, TraceEvent
from sim.kernel.transcript import (
    CONSOLE_CATEGORIES,
    read_trace_file,
    take_kept,
    transcripts_from_file,
)
from sim.report.build import REPORTED, read_folder
from sim.scenario.output import REPORT_FACTS


def _emit_all(trace: Trace, count: int) -> None:
    for i in range(count):
        router = ("r1", 'r"2', "r\u00e9")[i % 3]
        if i % 4 == 0:
            trace.emit(float(i), router, "console", "line", text=f"line {i} \\ \"q\"")
        elif i % 4 == 1:
            trace.emit(i / 3, router, "console", "inline", text=" [OK]")
        elif i % 4 == 2:
            trace.emit(float(i), router, "scep", "exchange", operation="PKCSReq", n=i)
        else:
            trace.emit(float(i), None, "link", "link.down", a="r1", b='r"2')


def test_a_batched_stream_reads_back_every_event_emitted_so_far(tmp_path: Path) -> None:
    """Events wait in a queue before they are written: a check that reads a router's console
    or selects events mid-run would miss the last ones, or the file would differ from the
    trace an in-memory run writes."""
    for count in (5, _BATCH + 7):
        streamed, in_memory = Trace(), Trace()
        streamed.stream_to(tmp_path / f"trace{count}.jsonl")
        _emit_all(streamed, count)
        _emit_all(in_memory, count)
        assert len(streamed) == len(in_memory) == count
        for router in ("r1", 'r"2', "r\u00e9"):
            assert streamed.console_events(router) == in_memory.console_events(router)
            assert streamed.select(router=router) == in_memory.select(router=router)
        assert streamed.select(category="link") == in_memory.select(category="link")
        assert list(streamed) == list(in_memory)
        assert streamed.to_jsonl() == in_memory.to_jsonl()
        path = streamed.end_stream()
        assert path is not None
        assert path.read_text(encoding="utf-8") == in_memory.to_jsonl()


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "summary.json").write_text("{}", encoding="utf-8")
    events = [
        TraceEvent(0, 0.5, "r1", "console", "line", {"text": "r1#"}),
        TraceEvent(1, 1.0, 'r"2', "scep", "exchange", {"operation": "GetCACert", "x": "\u2603"}),
        TraceEvent(2, 2.0, None, "link", "link.down", {"a": "r1", "b": 'r"2'}),
        TraceEvent(3, 3.0, "r1", "fsm", "transition", {"old": "a", "new": "b"}),
        TraceEvent(4, 4.0, "r1", "packet", "sent", {"size": 3}),
        TraceEvent(5, 5.0, "r\u00e9", "ike", "exchange", {"result": "SUCCESS"}),
        TraceEvent(6, 6.0, "r1", "log", "syslog", {"stamp": "*Jan 1", "text": "%X"}),
    ]
    lines = [event.to_json() for event in events]
    # Keys out of order (edited by hand): found by parsing, not by its first bytes.
    lines.append(json.dumps({"t": 7.0, "seq": 7, "router": "r1", "name": "transition",
                             "category": "fsm", "data": {"old": "b", "new": "c"}}))
    (folder / "trace.jsonl").write_text("".join(f"{line}\n" for line in lines),
                                        encoding="utf-8")
    return folder


def test_the_reports_records_kept_from_the_transcripts_pass_are_a_fresh_reads(
        tmp_path: Path) -> None:
    """The report reads its exchanges, links and server states from the records kept while
    the transcripts were cut out; a kept record missing, extra or out of order would draw a
    different report than `pkilab report` on the same folder."""
    folder = _folder(tmp_path)
    trace = folder / "trace.jsonl"
    fresh = list(read_trace_file(trace, REPORTED))
    books, _ = transcripts_from_file(trace, keep=True, also=REPORT_FACTS)
    _, records, consoles = read_folder(folder)
    assert consoles is books
    assert list(records) == [r for r in fresh if r["category"] not in CONSOLE_CATEGORIES]
    assert [r["seq"] for r in fresh if r["category"] not in CONSOLE_CATEGORIES] == [1, 2, 3, 5, 7]
    # Kept without the report's records: they are read from the file, as before.
    transcripts_from_file(trace, keep=True)
    _, records, consoles = read_folder(folder)
    assert consoles == books
    assert list(records) == [r for r in fresh if r["category"] not in CONSOLE_CATEGORIES]
    # Nothing kept (given once): the whole file is read.
    _, records, consoles = read_folder(folder)
    assert consoles is None and list(records) == fresh
    assert take_kept(trace) is None
