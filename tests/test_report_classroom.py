"""A report a teacher can project and print, and a `pkilab check` a CI log can show.

Three layers: the SVG pictures checked from their markup (text boxes estimated the way the
pictures size them), the same pictures as headless Chromium lays them out (every `<text>`'s
real box, measured by a script added to a copy of report.html), and `pkilab check` run
through a pipe at 80 columns, as CI runs it. Reports come from shipped scenarios, plus one
generated lab of twelve routers polling a CA that never grants.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from sim.report import write_report
from sim.report.build import build_model, load_folder
from sim.report.diagrams import fsm_svg, sequence_svg
from sim.report.diagrams.svg import text_width
from sim.report.model import Exchange, ReportModel, StateChange, Wait
from sim.scenario.loader import load_scenario, load_scenario_text
from sim.scenario.model import Scenario
from sim.scenario.output import write_output
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
CHROMIUM = Path("/usr/bin/chromium")
SVG = "{http://www.w3.org/2000/svg}"
MOMENT = re.compile(r"^(?:[A-Z][a-z]{2} \d{1,2} )?\d\d:\d\d:\d\d \([+-](?:\d+d)?(?:\d+h)?"
                    r"(?:\d+m)?(?:\d+s)?\)$")
"""The report's one time format: `21:06:20 (+1m20s)`, dated once the run leaves day one."""

Box = tuple[float, float, float, float]


def twelve_routers() -> str:
    """A root CA that never grants and eleven routers enrolling with it: twelve lanes, each
    client polling for the whole run, the way sub-ca-enrollment.yaml's `sub` polls."""
    lines = ["name: twelve-routers-polling",
             "description: Eleven routers enroll with a root CA that never grants.",
             "seed: 12", "start: 2005-01-06T21:00:00Z", "duration: 7m", "routers:",
             "  root:", "    address: 10.0.0.1", "    config: |", "      hostname root",
             "      ip http server"]
    for i in range(1, 12):
        lines += [f"  r{i}:", f"    address: 10.1.0.{i}", f"    config: hostname r{i}"]
    lines.append("links:")
    lines += [f"  - {{endpoints: [root, r{i}], latency: 1ms}}" for i in range(1, 12)]
    lines += ["events:", "  - at: 5s", "    router: root", "    cli: |", "      enable",
              "      configure terminal", "      crypto pki server root", "      no shutdown",
              "      end", "    input: [rootpass1, rootpass1]"]
    for i in range(1, 12):
        lines += [f"  - at: {60 + 7 * i}s", f"    router: r{i}", "    cli: |", "      enable",
                  "      configure terminal", "      crypto pki trustpoint ca",
                  "      enrollment url http://10.0.0.1", "      exit",
                  "      crypto pki authenticate ca", "      crypto pki enroll ca", "      end",
                  '    input: ["yes", challenge1, challenge1, "no", "no", "yes"]']
    lines += ["expect:", "  - {router: root, server_state: enabled}"]
    return "\n".join(lines) + "\n"


def report_of(scenario: Scenario, out: Path) -> Path:
    write_output(run_scenario(scenario), out)
    return write_report(out)[0]


def shipped(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.yaml")


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """report.html of two to twelve routers: the seed lab's two, the three-level
    hierarchy's six, a month-long soak with flapping links, exchanges that overlap in
    time, and the twelve polling routers."""
    made = {}
    for name in ("enrollment/sub-ca-enrollment", "hierarchy/chained-subordinates",
                 "hierarchy/soak-hierarchy", "enrollment/root-differentiation"):
        made[name] = report_of(shipped(name), tmp_path_factory.mktemp(name.split("/")[1]))
    made["twelve"] = report_of(load_scenario_text(twelve_routers(), "twelve.yaml"),
                               tmp_path_factory.mktemp("twelve"))
    return made


# --------------------------------------------------------------------------- estimated boxes


def text_boxes(svg: str) -> list[tuple[Box, str]]:
    """Each `<text>`'s box as the pictures estimate it (they all share one translate)."""
    boxes = []
    for element in ET.fromstring(svg).iter(f"{SVG}text"):
        words = element.text or ""
        size = float(element.get("font-size", "12"))
        x, y = float(element.get("x", "0")), float(element.get("y", "0"))
        width = text_width(words, size)
        left = {"start": x, "middle": x - width / 2, "end": x - width}[
            element.get("text-anchor", "start")]
        boxes.append(((left, y - 0.9 * size, left + width, y + 0.22 * size), words))
    return boxes


def overlaps(boxes: list[tuple[Box, str]]) -> list[tuple[str, str]]:
    return [(a, b) for (p, a), (q, b) in itertools.combinations(boxes, 2)
            if min(p[2], q[2]) - max(p[0], q[0]) > 0.5
            and min(p[3], q[3]) - max(p[1], q[1]) > 0.5]


def arrow_lines(svg: str) -> list[Box]:
    """The horizontal line of every exchange arrow."""
    found = []
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        if "data-result" not in group.attrib:
            continue
        for line in group.iter(f"{SVG}line"):
            x1, x2 = sorted((float(line.get("x1", "0")), float(line.get("x2", "0"))))
            y = float(line.get("y1", "0"))
            found.append((x1, y - 1, x2, y + 1))
    return found


def model_of(page: Path) -> ReportModel:
    return build_model(*load_folder(page.parent))


@pytest.mark.parametrize("name", ["enrollment/sub-ca-enrollment",
                                  "hierarchy/chained-subordinates", "twelve"])
def test_sequence_labels_overlap_no_label_and_no_arrow(pages: dict[str, Path],
                                                       name: str) -> None:
    """With 2, 6 and 12 routers no words of the sequence diagram sit on other words or on
    an arrow, which is what made the old diagram hard to read on a projector."""
    picture = sequence_svg(model_of(pages[name]))
    boxes = text_boxes(picture.svg)
    assert not overlaps(boxes)
    labels = [box for box, words in boxes if "\u2192" in words]
    assert labels, "no arrow labels found"
    lines = arrow_lines(picture.svg)
    hits = [(words, line) for box, words in boxes for line in lines
            if box[0] < line[2] and line[0] < box[2] and box[1] < line[3] and line[1] < box[3]]
    assert not hits


def test_twelve_routers_get_a_lane_each_and_polls_are_drawn_once(
        pages: dict[str, Path]) -> None:
    """Every router of a twelve-router lab has its own lane, and each client's polling is
    one "×N" arrow, not a wall of identical ones."""
    model = model_of(pages["twelve"])
    picture = sequence_svg(model)
    root = ET.fromstring(picture.svg)
    lanes = [g.get("data-lane", "") for g in root.iter(f"{SVG}g") if g.get("data-lane")]
    assert sorted(lanes) == sorted(r.name for r in model.routers) and len(lanes) == 12
    polls = [g for g in root.iter(f"{SVG}g") if g.get("data-message") == "GetCertInitial"]
    clients = [g.get("data-client", "").split(",") for g in polls]
    assert len(polls) == 11 and all(len(set(c)) == 1 for c in clients)
    sent = sum(1 for e in model.exchanges if e.message == "GetCertInitial")
    assert sum(int(g.get("data-count", "1")) for g in polls) == sent > 22
    text = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert re.search(r"GetCertInitial \u2192 PENDING \u00d7\d+, every 1m", text)


def polling_model(base: ReportModel, routers: int) -> ReportModel:
    """A hand-built lab on `base`: one CA, `routers - 1` clients each polling five times,
    their polls interleaved, one failed fetch and one unresolvable URL."""
    clients = [f"router-{i}" for i in range(1, routers)]
    exchanges = []
    for index, client in enumerate(clients):
        t0 = 60.0 + index
        exchanges.append(Exchange(client, "ca", "tp", "GetCACert", None, "CA certificate",
                                  t0, t0 + 0.1, None))
        exchanges += [Exchange(client, "ca", "tp", "PKIOperation", "GetCertInitial",
                               "PENDING", t0 + 60 * k, t0 + 60 * k + 0.1, f"T{index}")
                      for k in range(1, 6)]
    exchanges.append(Exchange(clients[-1], "ca", "tp", "GetCACert", None, "timeout",
                              500.0, 530.0, None))
    exchanges.append(Exchange(clients[0], None, "tp", "GetCACert", None, "unresolved",
                              531.0, 531.0, None))
    waits = tuple(Wait(c, "ca", f"T{i}", 120.0 + i, 360.0 + i, i % 2 == 0)
                  for i, c in enumerate(clients))
    return replace(base, exchanges=tuple(sorted(exchanges, key=lambda e: e.start)),
                   waits=waits)


@pytest.mark.parametrize("routers", [2, 5, 12, 30])
def test_hand_built_polling_labs_draw_without_overlaps(pages: dict[str, Path],
                                                       routers: int) -> None:
    """Interleaved polling, waits, a timeout and an unresolvable URL, from 2 to 30 routers
    (past twelve the rest share one lane): still no words on words or on arrows."""
    picture = sequence_svg(polling_model(model_of(pages["enrollment/sub-ca-enrollment"]),
                                         routers))
    assert picture.width <= 1200
    boxes = text_boxes(picture.svg)
    assert not overlaps(boxes)
    lines = arrow_lines(picture.svg)
    assert not [words for box, words in boxes for line in lines
                if box[0] < line[2] and line[0] < box[2] and box[1] < line[3]
                and line[1] < box[3]]


# --------------------------------------------------------------------------- state machine


def test_state_machine_highlights_this_runs_path(pages: dict[str, Path]) -> None:
    """The transitions the run took are marked with how often, in order under the picture;
    loops carry no signal lists; no two labels overlap."""
    model = model_of(pages["enrollment/sub-ca-enrollment"])
    picture = fsm_svg(model)
    root = ET.fromstring(picture.svg)
    taken = {(g.get("data-from"), g.get("data-to")): int(g.get("data-taken") or 0)
             for g in root.iter(f"{SVG}g") if g.get("data-from")}
    changes = [(c.old, c.new) for t in model.timelines for c in t.changes]
    assert {pair: n for pair, n in taken.items() if n} == \
        {pair: changes.count(pair) for pair in set(changes)}
    for group in root.iter(f"{SVG}g"):
        if group.get("data-from") and group.get("data-from") == group.get("data-to"):
            words = [t.text or "" for t in group.iter(f"{SVG}text")]
            assert all("this run" in w for w in words), words  # no signal list on a loop
    paths = [t.text or "" for t in root.iter(f"{SVG}text") if t.get("data-path")]
    joined = " ".join(paths)
    assert "sub@sub: initial \u2192 check failed (no shut, 21:06:22 (+1m22s))" in joined
    assert "\u2192 enabled (cert configured, 21:08:33 (+3m33s))" in joined
    assert not overlaps(text_boxes(picture.svg))


def test_state_machine_of_a_flapping_server_stays_short(pages: dict[str, Path]) -> None:
    """Thirty-one changes make a path of a few lines ending in a count, and the loop that
    was taken says so ("×1 in this run") instead of listing its signals."""
    model = model_of(pages["enrollment/sub-ca-enrollment"])
    states = ("enabled", "check failed")
    flaps = tuple(StateChange(10.0 + k, states[k % 2], states[(k + 1) % 2], "http server off",
                              None) for k in range(30))
    stay = (StateChange(50.0, "enabled", "enabled", "time set", None),)
    timelines = (replace(model.timelines[0], changes=flaps + stay),)
    picture = fsm_svg(replace(model, timelines=timelines))
    root = ET.fromstring(picture.svg)
    paths = [t.text or "" for t in root.iter(f"{SVG}text") if t.get("data-path")]
    assert any("27 more steps, ending enabled" in p for p in paths) and len(paths) <= 5
    loop = [g for g in root.iter(f"{SVG}g")
            if g.get("data-from") == "enabled" and g.get("data-to") == "enabled"]
    assert loop[0].get("data-taken") == "1"
    assert not overlaps(text_boxes(picture.svg))
    assert picture.width <= 1200


# --------------------------------------------------------------------------- tables, print


def cells(page: str, css_class: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(rf'<td class="{css_class}">([^<]*)</td>',
                                                 page)]


def test_every_time_has_one_format_and_tables_read_in_time_order(
        pages: dict[str, Path]) -> None:
    """Each time in every table is clock time plus elapsed, and the exchanges table runs
    down in time order even where exchanges overlapped (root-differentiation)."""
    for name, path in pages.items():
        page = path.read_text(encoding="utf-8")
        times = cells(page, "when")
        times = [t for t in times if not t.startswith("from ")]  # certificate validity
        assert times, name
        bad = [t for t in times if not MOMENT.match(t)]
        assert not bad, (name, bad[:5])
        sent = [float(t) for t in re.findall(r'<tr class="exchange[^"]*" data-t="([\d.]+)"',
                                             page)]
        assert sent == sorted(sent), name
        facts = page.split('<ul class="facts">')[1].split("</ul>")[0]
        duration = re.search(r"duration <b>([^<]+)</b>", facts)
        assert duration and re.fullmatch(r"(\d+d)?(\d+h)?(\d+m)?(\d+s)?", duration.group(1))
    model = model_of(pages["enrollment/root-differentiation"])
    trace = [r["data"]["started"] for r in load_folder(
        pages["enrollment/root-differentiation"].parent)[1]
        if r["category"] == "scep" and r["name"] == "exchange"]
    assert trace != sorted(trace), "the scenario no longer has overlapping exchanges"
    assert [e.start for e in model.exchanges] == sorted(trace)


def test_pictures_use_the_same_time_format(pages: dict[str, Path]) -> None:
    """The sequence axis, the timeline axis and the state-machine path write times as the
    tables do; no `t=1m20s` or `4m0s` of the old pictures is left."""
    page = pages["hierarchy/soak-hierarchy"].read_text(encoding="utf-8")
    svg_text = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", page))
    assert re.search(r"[A-Z][a-z]{2} \d{1,2} \d\d:\d\d:\d\d \(\+\d+d", svg_text)
    assert not re.search(r"\bt=\d", svg_text)
    assert not re.search(r"\b\d+m0s\b|\b\d+h\d+m\d+\.\d+s\b", svg_text)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="printing needs /usr/bin/chromium")
def test_printing_starts_each_section_on_a_new_page(pages: dict[str, Path],
                                                    tmp_path: Path) -> None:
    """Printed to PDF, the summary and each of the six sections begin a page."""
    page = pages["enrollment/sub-ca-enrollment"]
    pdf = tmp_path / "report.pdf"
    chromium(page, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    sections = page.read_text(encoding="utf-8").count("<section id=")
    assert sections == 6
    assert len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes())) >= sections + 1


# --------------------------------------------------------------------------- in Chromium


MEASURE = """<script>
(function () {
  var found = [], counts = {};
  document.querySelectorAll("figure.diagram svg").forEach(function (svg) {
    var name = svg.parentNode.id, boxes = [];
    svg.querySelectorAll("text").forEach(function (t) {
      var r = t.getBoundingClientRect();
      if (r.width > 0) boxes.push([r.left, r.top, r.right, r.bottom, t.textContent]);
    });
    counts[name] = boxes.length;
    for (var i = 0; i < boxes.length; i++) for (var j = i + 1; j < boxes.length; j++) {
      var a = boxes[i], b = boxes[j];
      if (Math.min(a[2], b[2]) - Math.max(a[0], b[0]) > 0.5 &&
          Math.min(a[3], b[3]) - Math.max(a[1], b[1]) > 0.5) found.push([name, a[4], b[4]]);
    }
  });
  document.documentElement.dataset.overlaps = JSON.stringify(found);
  document.documentElement.dataset.texts = JSON.stringify(counts);
})();
</script>"""
"""Collects the box Chromium gives every `<text>` of every picture and records each pair
that intersects by more than half a pixel both ways; `--dump-dom` carries the result out."""


def chromium(page: Path, tmp: Path, *extra: str) -> str:
    done = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--window-size=1280,720", f"--user-data-dir={tmp / 'profile'}",
         *extra, page.as_uri()],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def measured(dom: str, name: str) -> list[object]:
    found = re.search(rf'<html[^>]*\bdata-{name}="([^"]*)"', dom)
    assert found, "the measuring script did not run"
    value: list[object] = json.loads(html.unescape(found.group(1)))
    return value


@pytest.mark.skipif(not CHROMIUM.exists(),
                    reason="headless rendering needs /usr/bin/chromium (Debian package "
                           "`chromium`; .ci/run installs it)")
@pytest.mark.parametrize("name", ["enrollment/sub-ca-enrollment",
                                  "hierarchy/chained-subordinates",
                                  "hierarchy/soak-hierarchy", "twelve"])
def test_no_text_overlaps_in_chromium(pages: dict[str, Path], name: str,
                                      tmp_path: Path) -> None:
    """As the browser lays the fonts out at 1280×720, no two words in any picture of the
    report cover each other."""
    page = pages[name]
    probe = page.with_name("measure.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"),
                     encoding="utf-8")
    dom = chromium(probe, tmp_path, "--dump-dom")
    counts = json.loads(html.unescape(
        re.search(r'data-texts="([^"]*)"', dom).group(1)))  # type: ignore[union-attr]
    assert {"figure-sequence", "figure-fsm", "figure-topology"} <= set(counts)
    assert all(number > 0 for number in counts.values()), counts
    assert measured(dom, "overlaps") == []


# --------------------------------------------------------------------------- pkilab check


PASSING = """\
name: {name}
description: one router and one passing check
duration: 1m
routers:
  r1:
    address: 10.0.0.1
    config: hostname r1
expect:
  - {{router: r1, show: show clock, contains: "UTC"}}
"""


def test_check_through_a_pipe_keeps_scenario_names_whole(tmp_path: Path) -> None:
    """In an 80-column CI log every scenario name is on one line, never folded mid-word."""
    names = ["enrollment-of-a-subordinate-ca-while-the-parent-reloads-twice", "short"]
    suite = tmp_path / "suite"
    suite.mkdir()
    for index, name in enumerate(names):
        (suite / f"{index}.yaml").write_text(PASSING.format(name=name))
    environment = {**os.environ, "COLUMNS": "80", "TERM": "dumb"}
    done = subprocess.run(
        [sys.executable, "-m", "sim", "check", str(suite), "--out", str(tmp_path / "out"),
         "--junit", str(tmp_path / "junit.xml")],
        capture_output=True, text=True, cwd=ROOT, env=environment, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for name in names:
        assert [line for line in lines if name in line], (name, done.stdout)
        assert any(line.startswith("pass") and name in line for line in lines)
    assert not re.search(r"[\u2500-\u257f]", done.stdout), "a table was drawn for a pipe"
