"""A run is known by its file, not its `name:` (`sim.scenario.identity`).

Two scenario files in different folders may share a `name:`. `pkilab check` and
`pytest --pkilab-out` must keep both output folders (a failing run's report is not
replaced by a passing one's) and write JUnit cases that tell the files apart. Every
scenario here is one router answering `show clock`: a run costs a fraction of a second.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner, Result

import sim
from sim.cli import main

pytest_plugins = ["pytester"]

# pytester's in-process runs forget the modules a run imported, and the plugin imports the
# simulator lazily: import it all up front, as tests/test_pytest_plugin.py does.
for _module in pkgutil.walk_packages(sim.__path__, "sim."):
    if _module.name != "sim.__main__":
        importlib.import_module(_module.name)

LAB = """\
name: lab
description: one router answering show clock
duration: 2m
routers:
  r1:
    address: 10.0.0.1
    config: hostname r1
expect:
  - {router: r1, show: show clock, contains: "UTC"}
"""
"""Nine lines; an appended expectation is on line 10."""

FAILING = LAB + "  - {router: r1, server_state: enabled}\n"


def pkilab(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def two_labs(suite: Path) -> None:
    """`passing/lab.yaml` and `failing/lab.yaml`: the same `name: lab`, opposite verdicts."""
    for folder, text in (("passing", LAB), ("failing", FAILING)):
        (suite / folder).mkdir(parents=True)
        (suite / folder / "lab.yaml").write_text(text)


def test_check_keeps_both_runs_of_files_sharing_a_name(tmp_path: Path) -> None:
    """Two files named `lab` in different folders: `pkilab check` keeps both reports
    (the failing one is not overwritten by the passing one) and its JUnit XML has two
    suites named by their files, with each case's file and line."""
    suite, out, junit = tmp_path / "suite", tmp_path / "reports", tmp_path / "junit.xml"
    two_labs(suite)
    # The failing file is named a second time: it still runs once.
    done = pkilab("check", str(suite), str(suite / "failing" / "lab.yaml"),
                  "--out", str(out), "--junit", str(junit))
    assert done.exit_code == 1, done.output

    for folder, passed in (("passing", True), ("failing", False)):
        summary = json.loads((out / folder / "lab" / "summary.json").read_text())
        assert (summary["scenario"], summary["path"], summary["passed"]) == \
            ("lab", f"{folder}/lab.yaml", passed)
        html = (out / folder / "lab" / "report.html").read_text()
        verdict = "PASS" if passed else "FAIL"
        assert f"<title>{verdict} · lab · {folder}/lab.yaml · pkilab report</title>" in html
        markdown = (out / folder / "lab" / "report.md").read_text()
        assert markdown.startswith(f"# pkilab report: lab\n\nFile: `{folder}/lab.yaml`\n")
    assert sorted(p.name for p in out.iterdir()) == ["failing", "passing"]

    assert "pass  passing/lab.yaml::lab  seed" in done.output
    assert "FAIL  failing/lab.yaml::lab  seed" in done.output
    assert "FAIL failing/lab.yaml::lab: r1: certificate server is enabled" in done.output

    suites = ElementTree.parse(junit).getroot().findall("testsuite")
    assert [(s.get("name"), s.get("tests"), s.get("failures")) for s in suites] == [
        ("failing/lab.yaml::lab", "2", "1"), ("passing/lab.yaml::lab", "1", "0")]
    for testsuite in suites:
        folder = testsuite.get("name", "").split("/")[0]
        assert testsuite.get("file") == str(suite / folder / "lab.yaml")
        cases = testsuite.findall("testcase")
        assert {case.get("classname") for case in cases} == {testsuite.get("name")}
        assert {case.get("file") for case in cases} == {testsuite.get("file")}
    failed = suites[0].findall("testcase")[1]
    assert (failed.get("line"), failed.find("failure") is not None) == ("10", True)


def test_check_names_runs_by_the_folder_it_is_given(tmp_path: Path) -> None:
    """`pkilab check FOLDER` names runs from FOLDER; several paths, from the deepest
    folder holding them all; a matrix run adds its variant as a folder."""
    suite, out = tmp_path / "suite", tmp_path / "out"
    two_labs(suite)
    grid = LAB.replace("duration: 2m", "duration: 2m\nmatrix:\n  speed: [slow, fast]")
    (suite / "passing" / "grid.yaml").write_text(grid)
    done = pkilab("check", str(suite / "passing"), "--out", str(out),
                  "--junit", str(tmp_path / "j.xml"))
    assert done.exit_code == 0, done.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("summary.json")) == [
        "grid/speed=fast/summary.json", "grid/speed=slow/summary.json", "lab/summary.json"]
    assert "pass  grid.yaml::lab[speed=slow]  seed" in done.output

    out = tmp_path / "two"
    done = pkilab("check", str(suite / "passing" / "lab.yaml"), str(suite / "failing"),
                  "--out", str(out), "--junit", str(tmp_path / "j.xml"))
    assert done.exit_code == 1, done.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("summary.json")) == [
        "failing/lab/summary.json", "passing/lab/summary.json"]


def test_odd_file_names_stay_inside_the_output_folder(tmp_path: Path) -> None:
    """File names with spaces, `%`, non-ASCII letters or only dots become folder names
    that stay inside `--out` and never fold two files into one folder."""
    suite, out = tmp_path / "suite", tmp_path / "out"
    suite.mkdir()
    names = {"my lab.yaml": "my%20lab", "my_lab.yaml": "my_lab", "100%.yaml": "100%25",
             "...yaml": "%2E%2E", "café.yaml": "caf%C3%A9"}
    for name in names:
        (suite / name).write_text(LAB)
    done = pkilab("check", str(suite), "--out", str(out), "--junit", str(tmp_path / "j.xml"))
    assert done.exit_code == 0, done.output
    for name, folder in names.items():
        summary = json.loads((out / folder / "summary.json").read_text())
        assert summary["path"] == name
    assert sorted(p.name for p in out.iterdir()) == sorted(names.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.xml", "out", "suite"]
    assert sorted(p.name for p in suite.iterdir()) == sorted(names)


def test_check_refuses_a_link_out_of_the_output_folder(tmp_path: Path) -> None:
    """A symbolic link inside `--out` where a run's folder would go leads elsewhere:
    `pkilab check` stops with exit 2 and writes nothing there."""
    suite, out, elsewhere = tmp_path / "suite", tmp_path / "out", tmp_path / "elsewhere"
    two_labs(suite)
    out.mkdir()
    elsewhere.mkdir()
    (out / "passing").symlink_to(elsewhere)
    done = pkilab("check", str(suite), "--out", str(out), "--junit", str(tmp_path / "j.xml"))
    assert done.exit_code == 2
    assert f"{out / 'passing' / 'lab'}: not inside {out}" in done.output
    assert "Traceback" not in done.output
    assert list(elsewhere.iterdir()) == [] and not (out / "failing").exists()


def test_check_refuses_two_files_that_would_share_a_folder(tmp_path: Path) -> None:
    """`x.yml` named outright and `x.yml.yaml` would both write `x.yml/`: exit 2 before
    anything runs, naming both."""
    (tmp_path / "x.yml").write_text(LAB)
    (tmp_path / "x.yml.yaml").write_text(LAB)
    done = pkilab("check", str(tmp_path / "x.yml"), str(tmp_path / "x.yml.yaml"),
                  "--out", str(tmp_path / "out"), "--junit", str(tmp_path / "j.xml"))
    assert done.exit_code == 2
    assert "x.yml::lab and x.yml.yaml::lab would share the output folder" in done.output
    assert not (tmp_path / "out").exists()


def test_run_keeps_the_name_folder_and_titles_the_report_with_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pkilab run FILE` still writes `reports/<name>/`, and its report names the file as
    it was given."""
    monkeypatch.chdir(tmp_path)
    two_labs(tmp_path / "labs")
    done = pkilab("run", "labs/passing/lab.yaml")
    assert done.exit_code == 0, done.output
    html = (tmp_path / "reports" / "lab" / "report.html").read_text()
    assert "<title>PASS · lab · labs/passing/lab.yaml · pkilab report</title>" in html


def test_pytest_keeps_both_runs_of_files_sharing_a_name(pytester: pytest.Pytester) -> None:
    """Two files named `lab` under pytest: two test ids by file, two kept output folders
    under `--pkilab-out` (the failing report survives), two JUnit cases naming their
    files."""
    two_labs(pytester.path / "scenarios")
    (pytester.path / "scenarios" / "grid.yaml").write_text(
        LAB.replace("duration: 2m", "duration: 2m\nmatrix:\n  speed: [slow, fast]"))
    result = pytester.runpytest("scenarios", "--pkilab-out", "out", "--junitxml", "j.xml",
                                "-v")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines_random([
        "scenarios/failing/lab.yaml::lab FAILED*", "scenarios/passing/lab.yaml::lab PASSED*",
        "scenarios/grid.yaml::lab?speed=fast? PASSED*",
        "output: out/scenarios/failing/lab/ (report.html)"])
    out = pytester.path / "out" / "scenarios"
    for folder, passed in (("failing/lab", False), ("passing/lab", True),
                           ("grid/speed=slow", True)):
        summary = json.loads((out / folder / "summary.json").read_text())
        assert summary["passed"] is passed, folder
        assert summary["path"] == f"scenarios/{folder.split('/')[0]}" + \
            ("/lab.yaml" if folder.endswith("/lab") else ".yaml")
        assert (out / folder / "report.html").is_file()
    cases = ElementTree.parse(pytester.path / "j.xml").getroot().iter("testcase")
    named = {(case.get("classname"), case.get("name")): case.find("failure") is not None
             for case in cases}
    assert named == {("scenarios.failing.lab.yaml", "lab"): True,
                     ("scenarios.passing.lab.yaml", "lab"): False,
                     ("scenarios.grid.yaml", "lab[speed=slow]"): False,
                     ("scenarios.grid.yaml", "lab[speed=fast]"): False}
