"""`pkilab bench`'s hierarchy case, the crypto floor it compares with, the flat case's
sites, and the topology picture of a network too big for a force-directed layout."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

from click.testing import CliRunner

from sim.bench import build
from sim.bench_hierarchy import Shape, build_hierarchy
from sim.cli import main
from sim.report.diagrams import svg, topology_svg
from sim.report.diagrams.tree_layout import tree_grid
from sim.report.model import LinkFact, ReportModel, RouterFact
from sim.scenario.loader import load_scenario


def bench(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["bench", *args])
    return result.exit_code, result.output


def test_bench_hierarchy_prints_its_numbers_and_ratios() -> None:
    """`pkilab bench --levels 2 --fanout 2 --routers 4 --key-bits 1024` would stop running
    the hierarchy, stop enrolling every router and sub-CA, miscount the cryptography it
    did, or stop printing the floor and the ratios a user compares against."""
    code, out = bench("--levels", "2", "--fanout", "2", "--routers", "4", "--key-bits", "1024")
    assert code == 0, out
    assert "hierarchy: 2 levels, fanout 2: 3 CAs and 4 routers (7 in all), RSA-1024" in out
    assert "root CS: enabled" in out
    assert "routers enrolled: 6" in out and "operator warnings: 0" in out
    # The root's self-signed certificate, two sub-CAs' and four routers'; each CA's first
    # CRL; six requests, each sent under a self-signed signer certificate; every PKCSReq,
    # poll and CertRep signed; envelopes both ways.
    assert ("signatures: 7 certificates, 3 CRLs, 6 requests, 6 self-signed signers, 24 CMS"
            in out)
    assert "envelopes: 18 sealed, 18 opened" in out
    assert re.search(r"peak memory \(RSS[^)]*\): [\d.]+ MiB", out)
    assert re.search(r"KiB per router", out)
    assert re.search(r"simulation: [\d.]+ s \(CPU [\d.]+ s\)", out)
    assert re.search(r"ratio run / crypto floor: [\d.]+ wall, [\d.]+ CPU", out)


def test_cold_bench_generates_every_key_and_writes_the_report(tmp_path: Path) -> None:
    """A cold bench would read keys from the user's cache (so it is not cold), skip the
    keygen floor or its ratio, or not write and time the output folder and report."""
    out = tmp_path / "out"
    code, text = bench("--levels", "2", "--fanout", "1", "--routers", "1", "--key-bits", "1024",
                       "--cold", "--output", str(out))
    assert code == 0, text
    assert "keys: 3 used, 3 generated in the run" in text and "cold" in text
    assert re.search(r"keygen: 3 keys, [\d.]+ s \(CPU [\d.]+ s\): the seeded generator", text)
    assert re.search(r"ratio run / keygen floor: [\d.]+ wall, [\d.]+ CPU", text)
    assert re.search(r"output folder: [\d.]+ s \(CPU [\d.]+ s\)  report: [\d.]+ s", text)
    assert re.search(r"streaming the trace and artifacts into the folder during the run "
                     r"\(timed apart\): [\d.]+ s", text)
    assert re.search(r"ratio output \(streamed, folder\) and report / simulation: [\d.]+ wall",
                     text)
    assert (out / "report.html").is_file() and (out / "transcripts" / "r1.txt").is_file()


def test_written_hierarchy_is_a_scenario_pkilab_runs(tmp_path: Path) -> None:
    """`--write-scenario` would write a file `pkilab validate`/`run` refuse, or one whose
    CAs do not chain level by level."""
    path = tmp_path / "h.yaml"
    code, out = bench("--levels", "3", "--fanout", "2", "--routers", "4", "--key-bits", "1024",
                      "--write-scenario", str(path))
    assert code == 0, out
    scenario = load_scenario(path)
    assert len(scenario.events) == len(build_hierarchy(Shape(3, 2, 4, 1024)).events)
    names = [router.name for router in scenario.routers]
    assert names[:7] == ["root", "ca0", "ca1", "ca0-0", "ca0-1", "ca1-0", "ca1-1"]
    links = {(link.a, link.b) for link in scenario.links}
    assert ("ca0", "ca0-1") in links and ("ca1-1", "r4") in links
    result = CliRunner().invoke(main, ["run", str(path), "--strict", "--out",
                                       str(tmp_path / "run")])
    assert result.exit_code == 0, result.output


def test_bench_refuses_options_of_the_other_case() -> None:
    """A flag of the hierarchy case given to the flat one (or sizes that make no hierarchy)
    would be ignored or crash, instead of exiting 2 with what to change."""
    code, out = bench("--fanout", "3", "--routers", "10")
    assert code == 2 and "--fanout belongs to the hierarchy case" in out
    code, out = bench("--levels", "3", "--fanout", "10", "--routers", "50")
    assert code == 2 and "50 routers for 100 CAs of the last level" in out
    code, out = bench("--levels", "2", "--minutes", "3")
    assert code == 2 and "belong to the flat case" in out


def test_flat_bench_sites_of_fifty_all_have_their_hub() -> None:
    """With 50k+1 routers the flat bench linked the last router of each site to a hub
    that does not exist (r101 of 101), so the run failed before it started."""
    scenario = build(101, 1)
    names = {router.name for router in scenario.routers}
    hubs = {link.b: link.a for link in scenario.links}
    assert set(hubs.values()) <= names
    assert hubs["r1"] == "root" and hubs["r51"] == "root"
    assert hubs["r50"] == "r1" and hubs["r100"] == "r51" and hubs["r2"] == "r1"


def test_tree_layout_gives_every_router_its_own_place() -> None:
    """The tree layout of a big network would put two routers on one spot, or lose the
    hierarchy's depth (the root left of its CAs, CAs left of their routers)."""
    scenario = build_hierarchy(Shape(3, 3, 90, 1024))
    adjacency: dict[str, set[str]] = {router.name: set() for router in scenario.routers}
    for link in scenario.links:
        adjacency[link.a].add(link.b)
        adjacency[link.b].add(link.a)
    grid = tree_grid(list(adjacency), adjacency, svg.natural_key)
    assert len(set(grid.values())) == len(adjacency)
    assert grid["root"] == (0, 0) and grid["ca0"][0] == 1 and grid["ca0-0"][0] == 2
    assert min(grid[f"r{i}"][0] for i in range(1, 91)) == 3


def test_topology_of_a_thousand_routers_is_drawn_as_a_tree() -> None:
    """The report's topology picture of 1,000 routers would need scipy (a crash on a host
    without it) or place routers on top of each other."""
    routers = (RouterFact("root", "10.0.0.1", {"root": "enabled"}, True),
               *(RouterFact(f"r{i}", f"10.1.{i // 250}.{i % 250 + 1}", {}, True)
                 for i in range(1, 1000)))
    # Ten hubs under the root, the other routers behind the hubs.
    links = tuple(LinkFact("root" if i <= 10 else f"r{i % 10 + 1}", f"r{i}", 0.001, 0.0)
                  for i in range(1, 1000))
    model = ReportModel(
        scenario="big", description="", seed=1, version="0.1.0",
        start="2024-01-06T20:57:00+00:00", duration=600.0, passed=True,
        routers=routers, links=links, certificates=(), exchanges=(), waits=(), timelines=(),
        states=(), signals=(), transitions=(), expectations=(), transcripts={}, artifacts={})
    root = ElementTree.fromstring(topology_svg(model).svg)
    places = set()
    for group in root.iter("{http://www.w3.org/2000/svg}g"):
        if group.get("data-router"):
            box = group.find("{http://www.w3.org/2000/svg}rect")
            assert box is not None
            places.add((box.get("x"), box.get("y")))
    assert len(places) == 1000


def test_bench_idle_year_prints_its_crl_counts_and_floor() -> None:
    """`pkilab bench --idle-year N` would stop running the idle CAs for a simulated year,
    miscount the CRLs they published, or stop printing the eager-signing floor it is
    compared with; mixed with another case's options it would run instead of exiting 2."""
    code, out = bench("--idle-year", "1")
    assert code == 0, out
    assert "idle year: 1 CAs, 365 simulated days" in out
    assert "CRLs published: 1460;" in out
    assert re.search(r"signing every one eagerly would take [\d.]+ s on its own", out)
    code, out = bench("--idle-year", "1", "--levels", "2")
    assert code == 2 and "--idle-year is a case of its own" in out


def test_bench_serve_answers_every_request_and_prints_the_cost() -> None:
    """`pkilab bench-serve` would stop serving the simulated CA on loopback, answer some
    of its SCEP requests with errors, or stop printing the rate and memory it measures."""
    result = CliRunner().invoke(main, ["bench-serve", "--requests", "30", "--clients", "2"])
    assert result.exit_code == 0, result.output
    assert "requests: 30 from 2 clients" in result.output
    assert "answers: {'200': 30}" in result.output
    assert re.search(r"RSS: \d+ MiB before, \d+ MiB after", result.output)
