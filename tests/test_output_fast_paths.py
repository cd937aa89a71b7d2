"""The output folder and the report take shortcuts at scale (issue 13); each gives what the
plain way gives."""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from sim.kernel.trace import TraceEvent
from sim.kernel.transcript import (
    read_trace_file,
    transcript_entries,
    transcripts_from_file,
)
from sim.report.diagrams.svg import _ATTR_ENTITIES, attrs, clean, num
from sim.report.html import html_escape
from sim.report.markdown import environment

TRICKY = ["plain", "a & b", "<b>", 'say "hi"', "it's", "\"'<&>'\"", "é ✓ –", "\t\n", ""]


@pytest.mark.parametrize("text", TRICKY)
def test_prebuilt_transcript_markup_is_escaped_as_the_template_escapes(text: str) -> None:
    """report.html's consoles are built outside the template; a console line with `<`, `&`
    or quotes would then read differently (or break the page) from every other cell."""
    assert html_escape(text) == environment().from_string("{{ t }}").render(t=text)


@pytest.mark.parametrize("value", [*TRICKY, 0.05, -0.04, 12.25, 3, "a\x01b"])
def test_svg_attributes_are_quoted_as_quoteattr_quotes_them(value: object) -> None:
    """A picture's attribute values skip the escaper when they need none; a value that needs
    it (a quote, `&`, a newline, a control character) would otherwise break the SVG."""
    shown = num(value) if isinstance(value, float) else clean(value)
    assert attrs({"v": value}) == f" v={quoteattr(shown, _ATTR_ENTITIES)}"


def _line(seq: int, router: str | None, category: str, name: str, **data: object) -> str:
    return TraceEvent(seq, float(seq), router, category, name, dict(data)).to_json()


def test_one_pass_over_the_trace_file_gives_each_routers_transcript(tmp_path: Path) -> None:
    """transcripts/*.txt are cut out of a streamed trace in one read; a router's console
    would lose or gain lines (an inline `[OK]`, a syslog stamp, a hand-edited line) compared
    with the transcript the trace itself gives."""
    lines = [
        _line(0, "r1", "console", "line", text="r1#write memory"),
        _line(1, "r2", "log", "syslog", stamp="*Jan  1 00:00:01.000", text="%SYS-5-CONFIG_I"),
        _line(2, None, "console", "line", text="nobody's"),
        _line(3, "r1", "packet", "sent", size=3),
        _line(4, "r1", "console", "inline", text="[OK]"),
        # Keys out of order (edited by hand): found by parsing, not by its first bytes.
        json.dumps({"t": 5.0, "seq": 5, "router": "r2", "name": "line",
                    "category": "console", "data": {"text": "r2>"}}),
    ]
    path = tmp_path / "trace.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    events = [TraceEvent(r["seq"], r["t"], r["router"], r["category"], r["name"], r["data"])
              for r in map(json.loads, lines)]
    books, count = transcripts_from_file(path)
    assert count == len(lines)
    for router in ("r1", "r2"):
        assert books[router] == transcript_entries(events, router)
    assert [line.text for line in books["r1"]] == ["r1#write memory[OK]"]
    assert [r["seq"] for r in read_trace_file(path, ("packet",))] == [3]
