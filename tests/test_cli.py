"""The `pkilab` command: exit codes 0/1/2 and messages without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent


def pkilab(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=cwd)


PASSING = """\
name: tiny
description: one router, one passing and (optionally) one failing check
duration: 2m
routers:
  r1:
    address: 10.0.0.1
    config: hostname r1
expect:
  - {router: r1, show: show clock, contains: "UTC"}
"""


def test_run_writes_the_output_folder_and_exits_0(tmp_path: Path) -> None:
    """`pkilab run` on a passing scenario would not exit 0, or would leave out summary.json,
    transcripts, the trace or the CA's artifacts."""
    out = tmp_path / "out"
    done = pkilab("run", str(ROOT / "scenarios" / "bring-up" / "root-ca.yaml"), "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "7/7 expectations hold" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["passed"] is True
    assert summary["routers"]["root1"]["servers"]["root1"]["state"] == "enabled"
    assert (out / "transcripts" / "root1.txt").exists()
    assert (out / "trace.jsonl").read_text().count("\n") > 50
    assert "artifacts/root1/root1.ca.pem" in summary["artifacts"]


def test_failed_expectation_exits_1_and_says_what_was_observed(tmp_path: Path) -> None:
    """A scenario with a failing expectation would not make `pkilab run` exit 1, or would not say
    what was actually observed on the router."""
    scenario = tmp_path / "fails.yaml"
    scenario.write_text(PASSING + '  - {router: r1, server_state: enabled}\n')
    done = pkilab("run", str(scenario), "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert "FAIL r1: certificate server is enabled" in done.stdout
    assert "observed: r1 has no certificate server" in done.stdout


def test_bad_scenario_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    """A scenario author with a typo would get a traceback or no file:line pointer instead of exit 2
    and a clear message."""
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(PASSING.replace("duration: 2m", "duration: 2 minutes"))
    done = pkilab("run", str(scenario))
    assert done.returncode == 2
    assert f"{scenario}:3:" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_missing_file_and_bad_usage_exit_2(tmp_path: Path) -> None:
    """A missing scenario file or a mistyped pkilab subcommand would print a traceback or exit with
    some code other than 2."""
    done = pkilab("run", str(tmp_path / "nope.yaml"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "nope.yaml" in done.stderr
    assert pkilab("run").returncode == 2
    assert pkilab("frobnicate").returncode == 2


def test_validate(tmp_path: Path) -> None:
    """`pkilab validate` would reject a good scenario, or pass one with an unknown top-level key
    without naming it."""
    done = pkilab("validate", str(ROOT / "scenarios" / "bring-up" / "root-ca.yaml"))
    assert done.returncode == 0 and done.stdout.startswith("ok: ")
    bad = tmp_path / "bad.yaml"
    bad.write_text(PASSING.replace("routers:", "routerz:"))
    done = pkilab("validate", str(bad))
    assert done.returncode == 2 and "routerz" in done.stderr


def test_check_runs_a_folder_and_writes_junit(tmp_path: Path) -> None:
    """`pkilab check` on a folder would miss a failing scenario, exit 0, or write wrong per-scenario
    counts into the JUnit XML."""
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "ok.yaml").write_text(PASSING)
    (folder / "fails.yaml").write_text(PASSING.replace("name: tiny", "name: tiny-fails")
                                       + '  - {router: r1, nvram_file: nothing.txt}\n')
    junit = tmp_path / "junit.xml"
    done = pkilab("check", str(folder), "--out", str(tmp_path / "reports"), "--junit",
                  str(junit))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "tiny-fails" in done.stdout
    suites = ElementTree.parse(junit).getroot()
    counts = {s.get("name"): (s.get("tests"), s.get("failures")) for s in suites}
    assert counts == {"fails.yaml::tiny-fails": ("2", "1"), "ok.yaml::tiny": ("1", "0")}
    assert (tmp_path / "reports" / "ok" / "summary.json").exists()


def test_check_compares_golden_files_with_the_diff_in_junit(tmp_path: Path) -> None:
    """A regression-suite owner would not be told that a golden transcript is missing or changed, or
    would get no usable diff in the JUnit XML."""
    scenario = tmp_path / "pinned.yaml"
    scenario.write_text(PASSING + "golden:\n  transcripts: [r1]\n")
    junit, out = tmp_path / "junit.xml", tmp_path / "reports"

    def check() -> tuple[subprocess.CompletedProcess[str], ElementTree.Element]:
        done = pkilab("check", str(scenario), "--out", str(out), "--junit", str(junit))
        case = ElementTree.parse(junit).getroot().find(
            "testsuite/testcase[@name='golden pinned.golden/r1.txt']")
        assert case is not None, done.stdout
        return done, case

    done, case = check()
    assert done.returncode == 1
    assert "pinned.golden/r1.txt is missing (pytest --update-golden writes it)" in done.stdout
    assert "does not exist" in (case.find("failure").text or "")  # type: ignore[union-attr]

    golden = tmp_path / "pinned.golden" / "r1.txt"
    golden.parent.mkdir()
    transcript = (out / "pinned" / "transcripts" / "r1.txt").read_text()
    golden.write_text(transcript)
    done, case = check()
    assert done.returncode == 0, done.stdout
    assert case.find("failure") is None

    assert "Press RETURN to get started!" in transcript
    golden.write_text(transcript.replace("RETURN", "ENTER"))
    done, case = check()
    assert done.returncode == 1
    assert "differs from this run (diff in the JUnit XML)" in done.stdout
    diff = case.find("failure").text or ""  # type: ignore[union-attr]
    assert f"--- {golden} (golden)" in diff and "+++ pinned.golden/r1.txt (this run)" in diff
    assert "\n-Press ENTER" in diff and "\n+Press RETURN" in diff


def test_bench_prints_its_numbers() -> None:
    """`pkilab bench` would fail, or stop reporting its router count, the root CS state and peak
    memory."""
    done = pkilab("bench", "--routers", "30", "--minutes", "1")
    assert done.returncode == 0, done.stderr
    assert "routers: 30" in done.stdout and "root CS: enabled" in done.stdout
    assert "peak memory" in done.stdout


def test_check_names_each_matrix_run(tmp_path: Path) -> None:
    """Runs of a matrix scenario would be missing from `pkilab check`, or not named by their
    parameters in the output and the JUnit XML."""
    junit = tmp_path / "j.xml"
    done = pkilab("check", str(ROOT / "scenarios" / "reachability" /
                              "matrix-enrollment-faults.yaml"),
                  "--out", str(tmp_path / "out"), "--junit", str(junit))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "matrix-enrollment-faults[fault=" in done.stdout
    names = {suite.get("name") for suite in ElementTree.parse(junit).getroot()}
    assert ("matrix-enrollment-faults.yaml::matrix-enrollment-faults[fault=dns,grant=auto]"
            in names)
    assert len(names) == 12
