"""The fast ways the output folder is written give the bytes the plain ways give: a trace
line written without building its record mapping, a trace index that widens past 4 GiB,
and consoles parsed once for the folder and the report. If this fails, `trace.jsonl`
lines or report transcripts would change with the way they were written, or a report
would show the consoles of a trace file that has since changed."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path, PurePosixPath

from sim.kernel.trace import TraceEvent, TraceFile
from sim.kernel.transcript import take_transcripts, transcripts_from_file
from sim.scenario.output import ConfinedWriter


def _plain(event: TraceEvent) -> str:
    record = {"seq": event.seq, "t": round(event.t, 6), "router": event.router,
              "category": event.category, "name": event.name, "data": event.data}
    return json.dumps(record, sort_keys=True, default=str)


def test_a_trace_line_is_what_json_dumps_writes() -> None:
    """`trace.jsonl` lines (and so every output folder and golden trace) would differ from the
    sorted-key JSON the trace format promises for some payload, router or time."""
    events = [
        TraceEvent(0, 0.0, "ca", "console", "line", {"text": ""}),
        TraceEvent(1, 1.23456789, None, "scenario", "start", {"seed": 7, "name": "x"}),
        TraceEvent(2, 5, "r1", "pki", "n", {}),  # an int time stays an int
        TraceEvent(3, 2.0000004, "r\u00e9", 'c"q', "n\n", {
            "b": [1, 2.5, None, True, False, -0.0, 1e300], "a": {"z": 1, "y": "\u2603\t"},
            "nan": math.nan, "inf": -math.inf, "tuple": (1, "x"), "bytes": b"\x00",
            "path": PurePosixPath("a/b"), 3: "int key", "2.5": 2.5}),
        TraceEvent(4, math.inf, "r2", "net", "http", {"x": 1}),
        TraceEvent(5, -0.0, None, "fsm", "transition", {"old": "a", "new": "b"}),
    ]
    events[3].data.pop(3)  # mixed key types cannot be sorted by either writer
    for event in events:
        assert event.to_json() == _plain(event)
        assert event.record_json() == _plain(event)


def test_the_trace_index_widens_past_four_gib(tmp_path: Path) -> None:
    """A trace file over 4 GiB would index its later lines at wrapped offsets, and a router's
    transcript or a `transcript contains` check would read other lines than its own."""
    trace = TraceFile(tmp_path / "trace.jsonl", 0)
    trace.append(TraceEvent(0, 0.0, "r1", "console", "line", {"text": "a"}))
    trace._position = (1 << 32) + 10  # as if 4 GiB had been written
    trace.append(TraceEvent(1, 1.0, "r1", "console", "line", {"text": "b"}))
    trace.close()
    assert list(trace._offsets) == [0, (1 << 32) + 10]


def test_the_report_takes_the_folders_consoles_only_from_the_same_unchanged_file(
        tmp_path: Path) -> None:
    """A report written after its output folder would show the consoles of another trace file,
    or of this one before it changed, instead of parsing the file it reads."""
    path = tmp_path / "trace.jsonl"
    lines = [TraceEvent(0, 0.0, "ca", "console", "line", {"text": "Router>"}),
             TraceEvent(1, 0.5, "ca", "console", "inline", {"text": " [OK]"})]
    path.write_text("".join(e.to_json() + "\n" for e in lines), encoding="utf-8")
    books, count = transcripts_from_file(path, keep=True)
    assert count == 2 and [line.text for line in books["ca"]] == ["Router> [OK]"]
    assert take_transcripts(path) is books
    assert take_transcripts(path) is None  # given once
    transcripts_from_file(path, keep=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(TraceEvent(2, 1.0, "ca", "console", "line", {"text": "x"}).to_json()
                     + "\n")
    assert take_transcripts(path) is None
    transcripts_from_file(path, keep=True)
    assert take_transcripts(tmp_path / "other.jsonl") is None


def test_a_folder_found_below_a_checked_one_is_still_checked_for_links(tmp_path: Path) -> None:
    """Once the writer knows `artifacts/`, a router's folder there that is a symbolic link
    leading out of the output folder would let its files be written outside it; one leading
    to a folder inside would send them somewhere else than resolving the path does."""
    root, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    (root / "inside").mkdir(parents=True)
    elsewhere.mkdir()
    writer = ConfinedWriter(root)
    assert writer.write("artifacts/r0/run/0001-a.pem", b"a")  # `artifacts` is known now
    assert writer.write("artifacts/r0/ca.pem", b"c")
    os.symlink(elsewhere, root / "artifacts" / "r1")
    os.symlink(root / "inside", root / "artifacts" / "r2")
    assert not writer.write("artifacts/r1/x.pem", b"x")
    assert not writer.write("artifacts/r1/run/0001-x.pem", b"x")
    assert writer.write("artifacts/r2/y.pem", b"y")
    assert list(elsewhere.iterdir()) == []
    assert (root / "inside" / "y.pem").read_bytes() == b"y"
    assert (root / "artifacts/r0/ca.pem").read_bytes() == b"c"
    assert writer.refused == ["artifacts/r1/x.pem", "artifacts/r1/run/0001-x.pem"]
