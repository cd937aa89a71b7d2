"""A router's transcript read through the trace's per-router index is the transcript a
scan of the whole trace gives, in a bounded trace too. If this fails, output folders,
golden files and `transcript_contains` expectations would show the wrong lines."""

from __future__ import annotations

import random

from sim.kernel.trace import Trace
from sim.kernel.transcript import transcript_entries


def _scan(trace: Trace, router: str) -> list[str]:
    return [line.text for line in transcript_entries(list(trace), router)]


def _indexed(trace: Trace, router: str) -> list[str]:
    return [line.text for line in transcript_entries(trace, router)]


def _fill(trace: Trace, count: int) -> None:
    rnd = random.Random(4)
    for i in range(count):
        router = rnd.choice(["ca", "r1", "r2", None])
        kind = rnd.choice(["line", "inline", "syslog", "other"])
        if kind == "line":
            trace.emit(i, router, "console", "line", text=f"line {i}")
        elif kind == "inline":
            trace.emit(i, router, "console", "inline", text=f" +{i}")
        elif kind == "syslog":
            trace.emit(i, router, "log", "syslog", stamp=f"t{i}", text=f"%LOG-{i}")
        else:
            trace.emit(i, router, "pki", "enroll", n=i)


def test_the_index_gives_what_a_scan_gives() -> None:
    """A router's transcript in output folders, golden files or `transcript_contains` checks would
    miss lines or show another router's."""
    trace = Trace()
    _fill(trace, 2000)
    for router in ("ca", "r1", "r2", "nobody"):
        assert _indexed(trace, router) == _scan(trace, router)
    assert _indexed(trace, "ca")  # the test has lines to compare


def test_a_bounded_trace_is_scanned_and_keeps_only_what_it_retains() -> None:
    """With a bounded trace, a router's transcript would show lines the trace dropped or miss lines
    it kept."""
    trace = Trace()
    _fill(trace, 500)
    trace.retain(100)
    _fill(trace, 300)
    assert trace.console_events("ca") is None
    for router in ("ca", "r1"):
        assert _indexed(trace, router) == _scan(trace, router)
