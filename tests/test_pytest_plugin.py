"""The pytest plugin (`sim.pytest_plugin`): scenario files as tests, run by pytester.

Every suite here is one router answering `show clock`, so a run costs a fraction of a second
and the file stays fast; pytester runs pytest in-process (the plugin is loaded through the
package's entry point, as for a user) except for the pytest-xdist case.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import pkgutil
from pathlib import Path

import numpy  # noqa: F401
import pytest

import sim

pytest_plugins = ["pytester"]

# pytester's in-process runs forget every module a run imported, and the plugin imports the
# simulator lazily: a second run would then load fresh copies next to the kept ones (two
# `Mode` enums, numpy twice). Everything imported up front is kept.
for _module in pkgutil.walk_packages(sim.__path__, "sim."):
    if _module.name != "sim.__main__":
        importlib.import_module(_module.name)

TINY = """\
name: tiny
description: one router answering show clock
duration: 2m
routers:
  r1:
    address: 10.0.0.1
    config: hostname r1
events:
  - {at: 10s, router: r1, cli: show clock}
expect:
  - {router: r1, show: show clock, contains: "UTC"}
"""
"""Eleven lines; an appended expectation is on line 12."""

GRID = """\
name: grid
description: a matrix of two axes, ${speed} and ${mode}
duration: 2m
matrix:
  speed: [slow, fast]
  mode: [a, b]
routers:
  r1:
    address: 10.0.0.1
    config: hostname r1
expect:
  - {router: r1, show: show clock, contains: "UTC"}
"""

GOLDEN = TINY + """\
golden:
  transcripts: [r1]
  show:
    - {router: r1, command: show clock}
"""

BROKEN = TINY.replace("duration: 2m", "duration: 2 minutes")


@pytest.fixture
def suite(pytester: pytest.Pytester) -> Path:
    """`scenarios/tiny.yaml` in pytester's folder (the working directory of its runs)."""
    folder = pytester.mkdir("scenarios")
    (folder / "tiny.yaml").write_text(TINY)
    return folder


def collected(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line]


def test_collects_scenarios_and_skips_other_yaml(pytester: pytest.Pytester, suite: Path) -> None:
    """`pytest` would miss scenario files under `scenarios/`, try to run unrelated YAML (compose
    files, lists, fixtures), or ignore `--pkilab-scenarios`."""
    (suite / "theme").mkdir()
    (suite / "theme" / "also.yaml").write_text(TINY.replace("name: tiny", "name: also"))
    (suite / "compose.yaml").write_text("services:\n  web: {image: nginx}\n")
    (suite / "list.yaml").write_text("- just\n- a list\n")
    fixtures = pytester.mkdir("fixtures")  # like tests/fixtures/: broken on purpose
    (fixtures / "bad.yaml").write_text(BROKEN)
    (fixtures / "good.yaml").write_text(TINY.replace("name: tiny", "name: named"))

    result = pytester.runpytest("scenarios", "fixtures", "--collect-only", "-q")
    assert sorted(collected(result)) == ["scenarios/theme/also.yaml::also",
                                         "scenarios/tiny.yaml::tiny"]
    assert result.ret == 0

    # Under a path that is no `scenarios` folder: only a file named outright, or everything
    # with --pkilab-scenarios (which then reports the broken file).
    result = pytester.runpytest("fixtures/good.yaml", "--collect-only", "-q")
    assert collected(result) == ["fixtures/good.yaml::named"]
    result = pytester.runpytest("fixtures", "--pkilab-scenarios", "--collect-only", "-q")
    assert "fixtures/good.yaml::named" in collected(result)
    result.stdout.fnmatch_lines(["*fixtures/bad.yaml:3: duration: '2 minutes' is not a duration*"])


def test_a_matrix_file_gives_one_item_per_combination(pytester: pytest.Pytester,
                                                      suite: Path) -> None:
    """A `matrix:` scenario would not appear as one pytest item per combination, so `-k` could not
    pick one."""
    (suite / "grid.yaml").write_text(GRID)
    result = pytester.runpytest("scenarios/grid.yaml", "--collect-only", "-q")
    assert collected(result) == [
        "scenarios/grid.yaml::grid[speed=slow,mode=a]",
        "scenarios/grid.yaml::grid[speed=slow,mode=b]",
        "scenarios/grid.yaml::grid[speed=fast,mode=a]",
        "scenarios/grid.yaml::grid[speed=fast,mode=b]",
    ]
    result = pytester.runpytest("scenarios", "-k", "fast and b")
    result.assert_outcomes(passed=1, deselected=4)


def test_a_failing_expectation_says_what_where_and_how_to_replay(
        pytester: pytest.Pytester, suite: Path) -> None:
    """A failing scenario would show a traceback instead of the file and line, expected vs observed,
    the transcript tail and the `pkilab run` replay line."""
    (suite / "tiny.yaml").write_text(
        TINY + '  - {router: r1, at: 1m, transcript_contains: "no such line"}\n')
    result = pytester.runpytest("scenarios")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "scenario tiny (seed 0): 1 of 2 expectations failed",
        "scenarios/tiny.yaml:12: expectation failed",
        "  expected: r1: transcript contains 'no such line' at 1m",
        "  observed: 0 of 1 line(s) found in order; then missing 'no such line'",
        "  last lines of r1's transcript:",
        "*| r1>show clock",
        "*| 20:55:10.000 UTC Thu Jan 6 2005",
        "replay: pkilab run scenarios/tiny.yaml --seed 0",
    ])
    assert "Traceback" not in result.stdout.str()
    assert "def runtest" not in result.stdout.str()


def test_golden_files_are_written_only_when_asked_then_compared(
        pytester: pytest.Pytester, suite: Path) -> None:
    """Golden files would be written without `--update-golden`, not be byte-stable, or a changed
    transcript would pass without a diff."""
    (suite / "tiny.yaml").write_text(GOLDEN)
    folder = suite / "tiny.golden"

    result = pytester.runpytest("scenarios")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*2 of 2 golden files are missing*",
                                 "*tiny.golden/r1.txt does not exist; run `pytest "
                                 "--update-golden`*"])
    assert not folder.exists()

    result = pytester.runpytest("scenarios", "--update-golden")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*pkilab: 2 golden file(s) written*"])
    transcript = (folder / "r1.txt").read_text()
    assert "r1>show clock\n20:55:10.000 UTC Thu Jan 6 2005\n" in transcript
    assert (folder / "r1--show_clock.txt").read_text() == "20:57:00.000 UTC Thu Jan 6 2005\n"

    pytester.runpytest("scenarios").assert_outcomes(passed=1)  # byte-stable

    (folder / "r1.txt").write_text(transcript.replace("r1>show clock", "r1>show clocks"))
    result = pytester.runpytest("scenarios")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*1 of 2 golden files differ*",
        "golden file scenarios/tiny.golden/r1.txt differs from this run*",
        "--- scenarios/tiny.golden/r1.txt (golden)",
        "+++ tiny.golden/r1.txt (this run)",
        "@@ *",
        "-r1>show clocks",
        "+r1>show clock",
    ])


def test_pkilab_out_keeps_each_runs_folder(pytester: pytest.Pytester, suite: Path) -> None:
    """`--pkilab-out` would not keep each scenario and matrix run's summary, report and
    transcripts."""
    (suite / "grid.yaml").write_text(GRID)
    pytester.runpytest("scenarios", "--pkilab-out", "out").assert_outcomes(passed=5)
    for run in ("tiny", "grid/speed=slow,mode=a", "grid/speed=fast,mode=b"):
        folder = pytester.path / "out" / "scenarios" / run
        assert (folder / "summary.json").is_file(), run
        assert (folder / "report.html").is_file(), run
        assert (folder / "transcripts" / "r1.txt").is_file(), run


def test_pkilab_seed_overrides_every_scenario(pytester: pytest.Pytester, suite: Path) -> None:
    """`--pkilab-seed` would not apply to every scenario, or the failure report and summary would
    show the wrong seed."""
    (suite / "tiny.yaml").write_text(TINY + "  - {router: r1, server_state: enabled}\n")
    result = pytester.runpytest("scenarios", "--pkilab-seed", "99", "--pkilab-out", "out")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*pkilab: seed 99 for every scenario*",
                                 "scenario tiny (seed 99):*",
                                 "output: out/scenarios/tiny/ (report.html)",
                                 "replay: pkilab run scenarios/tiny.yaml --seed 99"])
    summary = json.loads((pytester.path / "out" / "scenarios" / "tiny" / "summary.json")
                         .read_text())
    assert summary["seed"] == 99


def test_a_broken_scenario_is_a_clean_collection_error(pytester: pytest.Pytester,
                                                       suite: Path) -> None:
    """A mistyped or garbled scenario file would give a Python traceback at collection instead of
    one line with file, line and problem."""
    (suite / "broken.yaml").write_text(BROKEN)
    (suite / "garbled.yaml").write_text("name: g\nrouters:\n  r1: [\n")
    result = pytester.runpytest("scenarios")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([
        "*ERROR collecting scenarios/broken.yaml*",
        "scenarios/broken.yaml:3: duration: '2 minutes' is not a duration (use e.g. 90s, 10m, 2h)",
        "*ERROR collecting scenarios/garbled.yaml*",
        "scenarios/garbled.yaml:*: YAML syntax error*",
    ])
    assert "Traceback" not in result.stdout.str()
    assert "CollectError" not in result.stdout.str()


@pytest.mark.skipif(importlib.util.find_spec("xdist") is None,
                    reason="pytest-xdist is not installed")
def test_runs_in_parallel_under_xdist(pytester: pytest.Pytester, suite: Path) -> None:
    """A scenario suite run with `pytest -n 2` would fail, lose golden comparisons, or not write its
    `--pkilab-out` folders."""
    (suite / "grid.yaml").write_text(GRID)
    (suite / "golden.yaml").write_text(GOLDEN.replace("name: tiny", "name: pinned"))
    pytester.runpytest("scenarios/golden.yaml", "--update-golden").assert_outcomes(passed=1)
    result = pytester.runpytest_subprocess("scenarios", "-n", "2", "-p", "no:cacheprovider",
                                           "--pkilab-out", "out")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*2 workers*"])
    assert (pytester.path / "out" / "scenarios" / "grid" / "speed=fast,mode=b"
            / "summary.json").is_file()
