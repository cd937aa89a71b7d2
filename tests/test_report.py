"""report.html and report.md for every shipped scenario, checked against the run itself.

Each scenario runs once per module (`run` fixture); the HTML is parsed with the stdlib
parser and its facts are compared with `summary.json` and `trace.jsonl`, the contracts
the report is built from.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.report import clock, write_report
from sim.report.build import build_model, load_folder
from sim.report.markdown import EXCHANGE_ROWS, render_markdown
from sim.report.model import FAILED_RESULTS
from sim.scenario.loader import load_scenario, load_scenarios
from sim.scenario.model import Scenario
from sim.scenario.output import write_output
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").rglob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


# --------------------------------------------------------------------------- a tiny DOM


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str | bool) -> list[Node]:
        """Descendants (and self) with `tag` whose attributes match: a string compares the
        value (`class_` matches one class), True only asks for presence."""
        return [node for node in self.iter()
                if (tag is None or node.tag == tag) and _matches(node, attrs)]

    def find(self, tag: str | None = None, **attrs: str | bool) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag or '*'}> with {attrs}"
        return found[0]

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


def _matches(node: Node, attrs: dict[str, str | bool]) -> bool:
    for key, want in attrs.items():
        name = "class" if key == "class_" else key.replace("_", "-")
        value = node.attrs.get(name)
        if value is None:
            return False
        if name == "class" and isinstance(want, str):
            if want not in value.split():
                return False
        elif want is not True and value != want:
            return False
    return True


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v if v is not None else "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return
        raise AssertionError(f"</{tag}> closes nothing")

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Node:
    builder = _Builder()
    builder.feed(text)
    builder.close()
    assert [n.tag for n in builder.stack] == ["#document"], "unclosed elements"
    return builder.root


# --------------------------------------------------------------------------- one run each


@dataclass
class Run:
    out: Path
    summary: dict[str, Any]
    records: list[dict[str, Any]]
    paths: list[Path]
    html: str
    markdown: str
    page: Node

    def events(self, category: str, name: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["category"] == category and r["name"] == name]


def shipped() -> list[Any]:
    """Every run the shipped files describe: a matrix file gives one run per variant."""
    params = []
    for path in SCENARIOS:
        name = path.relative_to(ROOT / "scenarios").with_suffix("").as_posix()
        for scenario in load_scenarios(path):
            variant = f"[{scenario.variant}]" if scenario.variant else ""
            params.append(pytest.param(scenario, id=name + variant))
    return params


@pytest.fixture(scope="module", params=shipped())
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    scenario: Scenario = request.param
    out = tmp_path_factory.mktemp(scenario.name)
    write_output(run_scenario(scenario), out)
    paths = write_report(out)
    summary, records = load_folder(out)
    html = (out / "report.html").read_text(encoding="utf-8")
    return Run(out, summary, records, paths, html,
               (out / "report.md").read_text(encoding="utf-8"), parse_html(html))


def test_write_report_returns_both_files(run: Run) -> None:
    """A run's output folder would lack report.html or report.md, or one of them would be empty."""
    assert run.paths == [run.out / "report.html", run.out / "report.md"]
    assert all(path.stat().st_size > 0 for path in run.paths)


def test_every_certificate_is_in_the_hierarchy_and_the_table(run: Run) -> None:
    """A certificate issued in the run would be missing from the report's hierarchy picture or
    table, or shown with the wrong serial, subject, issuer or fingerprint."""
    certificates = run.summary["certificates"]
    section = run.page.find("section", id="hierarchy")
    if not certificates:
        assert not section.find_all("svg")
        return
    drawn = {node.attrs["data-md5"]: node.attrs.get("data-serial")
             for node in section.find("svg").find_all(data_md5=True)}
    grouped = _grouped_routers(section)
    rows = {row.attrs["data-md5"]: row
            for row in section.find("table", class_="certificates").find_all("tr", data_md5=True)}
    assert len(rows) == len(certificates)
    for cert in certificates:
        if cert["md5"] in drawn:
            assert drawn[cert["md5"]] == str(cert["serial"])
        else:
            assert cert["router"] in grouped, f"{cert['md5']} neither drawn nor listed"
        row = rows[cert["md5"]]
        assert row.attrs["data-serial"] == str(cert["serial"])
        cells = [cell.text() for cell in row.find_all("td")]
        for fact in (cert["subject"], cert["issuer"], str(cert["serial"]), cert["md5"],
                     str(cert["key_bits"])):
            assert fact in cells, (fact, cells)


def _grouped_routers(section: Node) -> set[str]:
    """Routers listed in the section's collapsed groups (as `router` or `name@router`)."""
    names: set[str] = set()
    for group in section.find_all("details", class_="collapsed-group"):
        for name in group.find("p", class_="names").text().split(", "):
            names.add(name.rpartition("@")[2])
    return names


def test_sequence_arrows_match_the_scep_exchanges(run: Run) -> None:
    """One arrow per exchange, except where the picture folds identical exchanges into one
    "×N" arrow: then `data-count` says how many and `data-client` lists who sent them.
    IKE negotiations (`ike/exchange`) are drawn among them."""
    exchanges = run.events("scep", "exchange") + run.events("ike", "exchange")
    section = run.page.find("section", id="sequence")
    if not exchanges:
        assert not section.find_all("svg")
        return
    arrows = [node for node in section.find("svg").find_all(data_client=True)
              if "data-wait" not in node.attrs]
    results: Counter[tuple[str, bool]] = Counter()
    least: Counter[str] = Counter()  # each listed client sent at least one of the arrow's
    most: Counter[str] = Counter()
    for arrow in arrows:
        count = int(arrow.attrs.get("data-count", "1"))
        clients = arrow.attrs["data-client"].split(",")
        assert 1 <= len(clients) <= count
        results[(arrow.attrs["data-result"], arrow.attrs.get("data-failed") == "true")] += count
        for client in clients:
            least[client] += count if len(clients) == 1 else 1
            most[client] += count - len(clients) + 1
    assert results == Counter((r["data"]["result"], _failed(r["data"]["result"]))
                              for r in exchanges)
    sent = Counter(r["router"] for r in exchanges)
    assert set(least) == set(sent)
    for client, number in sent.items():
        assert least[client] <= number <= most[client], client
    table = section.find("table", class_="exchanges").find_all("tr", class_="exchange")
    assert len(table) == len(exchanges)
    assert sum("failed" in row.attrs["class"].split() for row in table) == \
        sum(_failed(r["data"]["result"]) for r in exchanges)


def _failed(result: str) -> bool:
    return result in FAILED_RESULTS or result.startswith("http ")


def test_waits_for_a_manual_grant_are_drawn(run: Run) -> None:
    """The report's sequence diagram would not show where a router waited, PENDING, for a manual
    grant."""
    pending = {(r["router"], r["data"]["transaction"]) for r in run.events("scep", "exchange")
               if r["data"]["result"] == "PENDING"}
    if not pending:
        return
    bars = run.page.find("section", id="sequence").find("svg").find_all(data_wait=True)
    assert {(b.attrs["data-client"], b.attrs["data-transaction"]) for b in bars} == pending


def test_state_changes_match_the_fsm_transitions(run: Run) -> None:
    """The report's state-change table or timeline would miss or invent certificate-server state
    changes."""
    transitions = run.events("fsm", "transition")
    section = run.page.find("section", id="states")
    rows = section.find_all("tr", class_="change")
    seen = sorted((float(r.attrs["data-t"]), r.attrs["data-router"], r.attrs["data-server"],
                   r.attrs["data-old"], r.attrs["data-new"], r.attrs["data-signal"])
                  for r in rows)
    expected = sorted((t["t"], t["router"], t["data"]["server"], t["data"]["old"],
                       t["data"]["new"], t["data"]["signal"]) for t in transitions)
    assert seen == expected
    if transitions:
        figure = section.find("figure", id="figure-timeline")
        drawn = sorted((float(g.attrs["data-t"]), g.attrs["data-router"], g.attrs["data-server"],
                        g.attrs["data-from"], g.attrs["data-state"], g.attrs["data-signal"])
                       for g in figure.find("svg").find_all(data_signal=True))
        if not section.find_all("details", class_="collapsed-group"):
            assert drawn == expected
        else:
            assert set(drawn) <= set(expected) and drawn


def test_the_state_machine_picture_is_the_transition_table(run: Run) -> None:
    """The report's state-machine picture would show edges or states that differ from what the
    server really does."""
    svg = run.page.find("figure", id="figure-fsm").find("svg")
    edges = {(g.attrs["data-from"], g.attrs["data-to"]): set(g.attrs["data-signals"].split(","))
             for g in svg.find_all("g", data_from=True, data_signals=True)}
    for row in run.summary["fsm"]["transitions"]:
        for target in row["to"]:
            assert row["signal"] in edges[(row["from"], target)], row
    assert {g.attrs["data-state"] for g in svg.find_all("g", data_state=True)} >= \
        set(run.summary["fsm"]["states"])


def test_expectations_are_listed_with_their_results(run: Run) -> None:
    """The report would list a scenario's expectations out of order, with the wrong pass/fail or
    line, or show a verdict that contradicts them."""
    rows = run.page.find("section", id="expectations").find_all("tr", class_="expectation")
    # In time order, like every table of the report (a file may list a late check first).
    expected = sorted(run.summary["expectations"], key=lambda e: (e["at"], e["line"]))
    assert [r.attrs["data-passed"] for r in rows] == \
        ["true" if e["passed"] else "false" for e in expected]
    for row, e in zip(rows, expected, strict=True):
        assert e["check"] in row.text() and e["observed"] in row.text()
        assert row.attrs["data-line"] == str(e["line"])
    verdict = run.page.find("span", class_="verdict").text()
    assert verdict == ("PASS" if run.summary["passed"] else "FAIL")


def test_every_router_has_its_transcript(run: Run) -> None:
    """The report would miss a router's transcript, show text that differs from transcripts/, or
    not open the CA routers' by default."""
    shown = {d.attrs["data-router"]: d
             for d in run.page.find("section", id="transcripts").find_all(
                 "details", class_="transcript")}
    assert set(shown) == set(run.summary["routers"])
    for router, details in shown.items():
        text = (run.out / "transcripts" / f"{router}.txt").read_text(encoding="utf-8")
        assert details.find("pre").text() == text
        has_server = bool(run.summary["routers"][router].get("servers"))
        assert ("open" in details.attrs) == has_server


def test_links_point_at_files_in_the_folder(run: Run) -> None:
    """A link in report.html would be broken or point outside the output folder, so a copied
    folder would not work on its own."""
    hrefs = [a.attrs["href"] for a in run.page.find_all("a", href=True)]
    local = [h for h in hrefs if not h.startswith("#")]
    for href in local:
        assert not href.startswith(("/", "http:", "https:", "file:")), href
        assert (run.out / href).is_file(), href
    assert set(run.summary["artifacts"]) <= set(local)
    ids = {node.attrs["id"] for node in run.page.find_all(id=True)}
    assert {h[1:] for h in hrefs if h.startswith("#")} <= ids


def test_the_page_is_self_contained(run: Run) -> None:
    """report.html would load outside resources or scripts, so it would not open offline or
    safely, or would have duplicate ids."""
    for node in run.page.iter():
        for name in ("src", "srcset", "data", "xlink:href", "action", "poster"):
            assert name not in node.attrs, (node.tag, name)
        assert node.tag not in ("link", "iframe", "object", "embed", "img", "base")
    scripts = run.page.find_all("script")
    assert len(scripts) == 1 and len(scripts[0].text()) < 600
    assert "default-src 'none'" in run.page.find("meta", http_equiv=True).attrs["content"]
    ids = [node.attrs["id"] for node in run.page.find_all(id=True)]
    assert len(ids) == len(set(ids)), "duplicate ids"


def test_markdown_carries_the_same_facts(run: Run) -> None:
    """report.md would leave out or differ from report.html on the verdict, certificates,
    routers, exchanges, state changes, expectations or artifacts."""
    md = run.markdown
    verdict = "**PASS**" if run.summary["passed"] else "**FAIL**"
    variant = run.summary.get("variant")
    header = f"# pkilab report: {run.summary['scenario']}\n\n"
    if variant:
        header += f"Variant: `{variant}`\n\n"
        assert f"variant <b>{variant}</b>" in run.html
    assert md.startswith(header + verdict)
    for cert in run.summary["certificates"]:
        assert f"| {cert['serial']} |" in md and f"`{cert['md5']}`" in md
    for name, router in run.summary["routers"].items():
        assert f"| {name} | {router['address']} |" in md
    exchanges = run.events("scep", "exchange") + run.events("ike", "exchange")
    section = md.split("\n## SCEP exchanges")[1].split("\n## ")[0]
    table = section.split("Waiting for a manual grant")[0]
    rows = [line for line in table.splitlines()
            if line.startswith("| ") and not line.startswith(("| Time", "| -"))]
    assert len(rows) == min(len(exchanges), EXCHANGE_ROWS)
    if len(exchanges) > EXCHANGE_ROWS:
        assert f"… {len(exchanges) - EXCHANGE_ROWS} more exchanges" in md
    at = partial(clock.moment, clock.parse_start(run.summary["start"]))
    for t in run.events("fsm", "transition"):
        assert f"| {at(t['t'])} | {t['router']} |" in md
    for e in run.summary["expectations"]:
        assert f"{'✓' if e['passed'] else '✗'} `{e['check']}`" in md
    for path in run.summary["artifacts"]:
        assert f"`{path.split('/', 2)[2].removeprefix('run/')}`" in md
    assert "\r" not in md and md.endswith("\n") and not md.endswith("\n\n")


def test_reports_are_deterministic(run: Run) -> None:
    """Regenerating a report would give different bytes, so report diffs in a regression suite
    would be noisy."""
    before = [path.read_bytes() for path in run.paths]
    assert write_report(run.out) == run.paths
    assert [path.read_bytes() for path in run.paths] == before


# --------------------------------------------------------------------------- golden


@pytest.fixture(scope="module")
def sub_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sub-ca-enrollment")
    scenario = load_scenario(ROOT / "scenarios" / "enrollment" / "sub-ca-enrollment.yaml")
    write_output(run_scenario(scenario), out)
    write_report(out)
    return out


def test_markdown_matches_the_golden_file(sub_ca: Path, update_golden: bool) -> None:
    """report.md of sub-ca-enrollment, byte for byte; `pytest --update-golden` rewrites it."""
    actual = (sub_ca / "report.md").read_text(encoding="utf-8")
    golden = GOLDEN / "sub-ca-enrollment.report.md"
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8", newline="")
        return
    assert golden.exists(), f"{golden} is missing: run pytest --update-golden"
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            fromfile=str(golden.relative_to(ROOT)), tofile="report.md (this run)"))
        pytest.fail(f"report.md differs from the golden file "
                    f"(pytest --update-golden accepts the change):\n{diff}", pytrace=False)


def test_markdown_caps_the_exchange_table(sub_ca: Path) -> None:
    """report.md for a long run would list every SCEP exchange instead of a capped table with `…
    N more exchanges`."""
    model = build_model(*load_folder(sub_ca))
    many = replace(model, exchanges=model.exchanges * 50)  # 300 exchanges
    md = render_markdown(many)
    assert f"… {len(many.exchanges) - EXCHANGE_ROWS} more exchanges" in md
    assert md.count("| sub | root1 | ") == EXCHANGE_ROWS + len(model.waits)


# --------------------------------------------------------------------------- the command


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_run_writes_and_names_the_report(tmp_path: Path) -> None:
    """`pkilab run --out` would not write the report or not print its path."""
    out = tmp_path / "out"
    done = invoke("run", str(ROOT / "scenarios" / "bring-up" / "root-ca.yaml"), "--out", str(out))
    assert done.exit_code == 0, done.output
    assert f"report: {out / 'report.html'}" in done.output
    assert (out / "report.md").is_file()


def test_report_command_regenerates_a_kept_folder(tmp_path: Path) -> None:
    """`pkilab report FOLDER` would not rebuild the same report from a kept output folder."""
    out = tmp_path / "kept"
    write_output(run_scenario(load_scenario(ROOT / "scenarios" / "bring-up" / "root-ca.yaml")), out)
    first = [p.read_bytes() for p in write_report(out)]
    for name in ("report.html", "report.md"):
        (out / name).unlink()
    done = invoke("report", str(out))
    assert done.exit_code == 0, done.output
    assert [(out / n).read_bytes() for n in ("report.html", "report.md")] == first


@pytest.mark.parametrize("make, says", [
    (lambda folder: None, "no such folder"),
    (lambda folder: folder.mkdir(), "has no summary.json and no trace.jsonl"),
    (lambda folder: (folder.mkdir(), (folder / "summary.json").write_text("{}")),
     "has no trace.jsonl"),
    (lambda folder: (folder.mkdir(), (folder / "summary.json").write_text("{"),
                     (folder / "trace.jsonl").write_text("")), "cannot read"),
])
def test_report_command_refuses_a_folder_that_is_not_an_output_folder(
        tmp_path: Path, make: Callable[[Path], object], says: str) -> None:
    """`pkilab report` on a missing or incomplete folder would crash with a traceback instead of
    saying what is missing."""
    folder = tmp_path / "folder"
    make(folder)
    done = CliRunner().invoke(main, ["report", str(folder)])
    assert done.exit_code == 2
    assert says in done.output and "Traceback" not in done.output
