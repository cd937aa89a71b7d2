"""More shortcuts the output folder and the report take at scale (issue 13): a trace line's
time written once for a run of events at the same time, lines written to the file in
batches, router folders made without resolving their paths, and report rows built outside
the template. Each must give what the plain way gives, and refuse what it refuses."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sim.kernel.trace import _BATCH, TraceEvent, TraceFile
from sim.kernel.transcript import (
    CONSOLE_CATEGORIES,
    TranscriptLine,
    add_console_event,
    read_trace_file,
    transcripts_from_file,
)
from sim.report.html_rows import certificate_rows, exchange_rows, file_items, router_rows
from sim.report.markdown import RouterFiles, environment
from sim.report.model import CertNode, Exchange, RouterFact
from sim.scenario.output import ConfinedWriter
from sim.scenario.summary_json import dumps_indented


def _plain(event: TraceEvent) -> str:
    record = {"seq": event.seq, "t": round(event.t, 6), "router": event.router,
              "category": event.category, "name": event.name, "data": event.data}
    return json.dumps(record, sort_keys=True, default=str)


def test_trace_lines_at_the_same_time_are_what_json_dumps_writes() -> None:
    """A run's events mostly share their time with the one before; reusing the written time
    would give a line another event's time, or `0.0` for `-0.0`, or `5.0` for an int 5,
    and console payloads written directly would differ from the encoder's for some text."""
    times = [1.5, 1.5, 1.5000000001, 0.0, -0.0, -0.0, 0.0, 5.0, 5, 5.0, 2.25, 2.25]
    payloads: list[dict[str, object]] = [
        {"text": "plain"}, {"text": "é ✓ \t \" \\ \x01"}, {"text": ""}, {"text": 3},
        {"text": "a", "more": 1}, {}, {"stamp": "*Jan 1", "text": "x"}, {"other": "y"},
    ]
    for seq, t in enumerate(times):
        for data in payloads:
            event = TraceEvent(seq, t, "r1" if seq % 2 else None, "console", "line", data)
            assert event.to_json() == _plain(event)


def test_trace_lines_written_in_batches_are_found_where_the_index_says(tmp_path: Path) -> None:
    """Lines reach the file a batch at a time; a line's recorded offset would then point
    elsewhere, or a read during the run (a `transcript contains` check) would miss lines
    still waiting to be written."""
    trace = TraceFile(tmp_path / "trace.jsonl", 0)
    events = [TraceEvent(seq, seq / 7, f"r{seq % 3}", "console" if seq % 2 else "net",
                         "line", {"text": f"line {seq} é"}) for seq in range(2 * _BATCH + 5)]
    for event in events[:10]:
        trace.append(event)
    assert [e.data for e in trace.console_events("r1")] == [
        e.data for e in events[:10] if e.router == "r1" and e.category == "console"]
    for event in events[10:]:
        trace.append(event)
    assert [e.seq for e in trace.events([2 * _BATCH + 4, 0, _BATCH, _BATCH - 1])] == [
        2 * _BATCH + 4, 0, _BATCH, _BATCH - 1]
    trace.close()
    expected = "".join(_plain(e) + "\n" for e in events).encode()
    assert (tmp_path / "trace.jsonl").read_bytes() == expected == trace.text()


def test_a_router_folder_made_below_a_checked_one_is_still_checked(tmp_path: Path) -> None:
    """The writer makes a router's `artifacts/<router>/run/` level by level; a level that is a
    symbolic link (leading out, or to a folder inside) or an absolute path would then take
    files somewhere else than the full check sends them, or outside the folder."""
    root, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    (root / "inside").mkdir(parents=True)
    elsewhere.mkdir()
    writer = ConfinedWriter(root)
    assert writer.write("top.txt", b"t")  # the output folder itself is known now
    assert writer.write("artifacts/r0/run/0001-a.pem", b"a")
    assert (root / "artifacts/r0/run/0001-a.pem").read_bytes() == b"a"
    (root / "artifacts" / "r1").mkdir()
    os.symlink(elsewhere, root / "artifacts" / "r1" / "run")
    os.symlink(root / "inside", root / "artifacts" / "r2")
    assert not writer.write("artifacts/r1/run/0001-x.pem", b"x")
    assert not writer.write("/artifacts/r3/run/0001-x.pem", b"x")
    assert not writer.write("artifacts/../../x.pem", b"x")
    assert writer.write("artifacts/r2/run/0001-y.pem", b"y")
    assert (root / "inside" / "run" / "0001-y.pem").read_bytes() == b"y"
    assert list(elsewhere.iterdir()) == []
    assert not (root / "artifacts" / "r3").exists() and not (tmp_path / "x.pem").exists()
    assert writer.refused == ["artifacts/r1/run/0001-x.pem", "/artifacts/r3/run/0001-x.pem",
                              "artifacts/../../x.pem"]


HOSTILE = ["r<1>", 'a "b"', "c & d", "it's"]
_LOOPS = {
    "exchanges": '{% for e in exchanges %}\n<tr class="exchange{{ \' failed\' if e.failed }}" '
                 'data-t="{{ \'%.3f\' % e.start }}"><td class="when">{{ at(e.start) }}</td>'
                 '<td class="when">{{ at(e.end) }}</td><td>{{ e.client }}</td>'
                 '<td>{{ e.server or "(unresolved)" }}</td><td>{{ e | message }}</td>'
                 "<td>{{ e.result }}</td></tr>\n{% endfor %}\n",
    "routers": '{% for r in routers %}\n<tr data-router="{{ r.name }}"><td>{{ r.name }}</td>'
               '<td class="mono">{{ r.address }}</td>\n<td>{% for cs, state in r.servers | '
               'dictsort %}{{ cs }} ({{ state }}){{ ", " if not loop.last }}{% else %}-'
               '{% endfor %}</td>\n<td>{{ "yes" if r.running else "no" }}</td></tr>\n'
               "{% endfor %}\n",
    "certificates": '{% for c in certificates %}\n{% set status = cert_status(c.revoked, '
                    'c.expired) %}\n<tr data-md5="{{ c.md5 }}" data-serial="{{ c.serial }}"'
                    '{% if status != "valid" %} class="failed"{% endif %}>\n<td>{{ c.subject }}'
                    '</td><td>{{ c.issuer }}</td><td class="num">{{ c.serial }}</td>\n'
                    '<td class="when">from {{ c.not_before | utc }}<br>until '
                    '{{ c.not_after | utc }}</td><td class="num">{{ c.key_bits }}</td>\n'
                    '<td class="fp" title="SHA-1 {{ c.sha1 }}">{{ c.md5 }}</td><td>'
                    "{{ c.router }} / {{ c.name }}</td><td>{{ c.role }}</td><td>{{ status }}"
                    "</td>\n</tr>\n{% endfor %}\n",
    "files": '{% for path, name in files.files if not name.startswith("run/") %}\n'
             '<li><a href="{{ path }}">{{ name }}</a></li>\n{% endfor %}\n|'
             '{% for path, name in files.files if name.startswith("run/") %}\n'
             '<li><a href="{{ path }}">{{ name.removeprefix("run/") }}</a></li>\n'
             "{% endfor %}\n",
}
"""report.html's loops as the template wrote them before the rows were built in Python."""


def _template(name: str) -> str:
    loop = _LOOPS[name]
    return f"{{% autoescape true %}}{loop}{{% endautoescape %}}"


def _at(seconds: float) -> str:
    return f"<{seconds:.0f}s & 'on'>"


@pytest.mark.parametrize("who", HOSTILE + ["plain"])
def test_prebuilt_report_rows_are_what_the_template_loops_wrote(who: str) -> None:
    """report.html's long tables and artifact lists are built outside the template; a row
    for a router or certificate whose name has `<`, `&` or quotes, a failed exchange, a
    server list sorted differently or a serial written differently would change the page."""
    env = environment()
    exchanges = [Exchange(who, None, "tp", "PKIOperation", "PKCSReq", "timeout", 1.0005, 2.5,
                          None),
                 Exchange("r2", who, "tp", "GetCACert", None, "CA certificate", 3.0, 3.25,
                          "t1")]
    routers = [RouterFact(who, "10.0.0.1", {"b": "enabled", "C": who, "a": "x"}, True),
               RouterFact("r2", who, {}, False)]
    certificates = [CertNode("k", who, who, "root", f"cn={who}", f"cn={who}", 12, "2005-01-06"
                             "T21:05:21+00:00", "2008-01-06T21:05:21+00:00", 2048, who, who,
                             None, revoked, expired)
                    for revoked, expired in ((False, False), (True, False), (True, True))]
    files = RouterFiles(who, ((f"artifacts/{who}/ca.pem", "ca.pem"),
                              (f"artifacts/{who}/run/0001-{who}.der", f"run/0001-{who}.der")))
    loop = env.from_string(_template("exchanges"))
    assert str(exchange_rows(exchanges, _at)) == loop.render(exchanges=exchanges, at=_at)
    loop = env.from_string(_template("routers"))
    assert str(router_rows(routers)) == loop.render(routers=routers)
    loop = env.from_string(_template("certificates"))
    assert str(certificate_rows(certificates)) == loop.render(certificates=certificates)
    top, run = env.from_string(_template("files")).render(files=files).split("|")
    assert (str(file_items(files, False)), str(file_items(files, True))) == (top, run)


def test_console_lines_read_without_parsing_are_what_json_reads(tmp_path: Path) -> None:
    """Transcripts cut out of the trace read most console lines without parsing them as
    JSON; a router name or text with escapes, an int or exponent time, a null router or a
    line edited by hand would then give another transcript than the trace holds."""
    events = [
        TraceEvent(0, 1.5, "r1", "console", "line", {"text": 'a "q" \\ é\t\x01'}),
        TraceEvent(1, 2, "r1", "console", "line", {"text": "int time"}),
        TraceEvent(1, 2.5, "r1", "console", "inline", {"text": " [OK]"}),
        TraceEvent(2, 1e-7, "r\u00e9", "console", "line", {"text": "x"}),
        TraceEvent(3, 3.0, 'r"2', "console", "line", {"text": "y"}),
        TraceEvent(4, 4.0, None, "console", "line", {"text": "nobody"}),
        TraceEvent(5, 5.0, "r1", "console", "line", {"text": "z", "more": 1}),
        TraceEvent(6, 6.0, "r1", "log", "syslog", {"stamp": "*Jan 1", "text": "%X"}),
        TraceEvent(7, 1e22, "r1", "console", "line", {"text": "far"}),
        TraceEvent(8, -0.0, "r1", "console", "weird", {"text": "not shown"}),
    ]
    lines = [e.to_json() for e in events]
    lines.append(lines[0].replace('"t": 1.5', '"t":  1.5'))  # spaced by hand
    path = tmp_path / "trace.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    books, count = transcripts_from_file(path)
    plain: dict[str, list[TranscriptLine]] = {}
    for record in read_trace_file(path, CONSOLE_CATEGORIES):
        if record["router"] is not None:
            add_console_event(plain.setdefault(record["router"], []), record["category"],
                              record["name"], record["data"], record["t"])
    assert count == len(lines) and books == plain
    assert [(type(line.t), line.t) for line in books["r1"]] == [
        (type(line.t), line.t) for line in plain["r1"]]
    assert books["r\u00e9"][0].text == "x" and books['r"2'][0].text == "y"


SUMMARY_LIKE: list[object] = [
    {}, [], {"b": [1, 2.5, None, True, False], "a": {"z": {}, "y": []}, "é": "\u2603\n"},
    {3: "int key", 2.5: "float key"}, {True: "bool key", False: "x"}, {None: "null key"},
    [float("nan"), float("inf"), -float("inf"), -0.0, 10**30, 1e300, (1, "x")],
    {"routers": {f"r{i}": {"nvram": {"startup-config": i}, "servers": {}, "x": [i, "s"]}
                 for i in range(3)}},
    "plain", 3, None,
]


@pytest.mark.parametrize("value", SUMMARY_LIKE)
def test_summary_json_is_what_json_dumps_writes(value: object) -> None:
    """summary.json is written by a faster writer than `json.dumps(indent=2,
    sort_keys=True)`; a number, key, escape, empty container or indent written differently
    would change every output folder (and the reports and tools that read it)."""
    assert dumps_indented(value) == json.dumps(value, indent=2, sort_keys=True)


def test_summary_json_refuses_what_json_refuses() -> None:
    """A value JSON cannot hold would be written as something else instead of failing."""
    with pytest.raises(TypeError):
        dumps_indented({"a": [object()]})
    with pytest.raises(TypeError):
        dumps_indented({"a": {(1, 2): 3}})
