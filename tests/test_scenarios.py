"""Every shipped scenario runs and meets its expectations; runs are deterministic."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sim.kernel.transcript import transcript_lines
from sim.scenario import golden
from sim.scenario.loader import load_scenario, load_scenarios
from sim.scenario.output import write_output
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").rglob("*.yaml"))
SEED_DOC = ROOT.parent / "shared" / "seeds" / "subordinate-certificate-server.txt"
SEED_EXCERPT = Path(__file__).parent / "fixtures" / "seed-clock-not-set.txt"
STAMP = re.compile(r"^\*?[A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d\.\d{3}: ")


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenario_meets_its_expectations(path: Path) -> None:
    """A scenario shipped with pkilab would fail its own expectations (or have none) when a teacher
    or user runs it."""
    for scenario in load_scenarios(path):
        result = run_scenario(scenario)
        failures = [f"{scenario.full_name} line {r.expectation.line}: "
                    f"{r.expectation.describe()}: {r.observed}"
                    for r in result.results if not r.passed]
        assert not failures, "\n".join(failures)
        assert result.results, "a shipped scenario must have expectations"


def test_shipped_golden_files_match_and_are_byte_stable() -> None:
    """`pytest scenarios/` compares these too; here they guard the project's own CI."""
    pinned = [p for p in SCENARIOS if (p.parent / f"{p.stem}.golden").is_dir()]
    assert {p.stem for p in pinned} >= {"clock-not-set", "sub-ca-enrollment"}
    for path in pinned:
        for scenario in load_scenarios(path):
            assert scenario.golden is not None, path
            first = golden.compare(run_scenario(scenario), path)
            again = golden.compare(run_scenario(scenario), path)
            assert first and [f.actual for f in first] == [f.actual for f in again], path
            problems = [f.problem() for f in first if not f.matches]
            assert not problems, "\n".join(problems)


def test_the_scenario_library_is_grouped_by_theme() -> None:
    """The shipped scenario library would lose key scenarios or a theme folder, or ship a scenario
    without a description or expectations."""
    names = {p.stem for p in SCENARIOS}
    assert {"root-ca", "clock-not-set", "http-server-off", "root-reload"} <= names
    themes = {p.parent.name for p in SCENARIOS}
    assert themes == {"bring-up", "enrollment", "hierarchy", "clock", "reachability",
                      "persistence", "lifecycle", "revocation", "labs", "releases",
                      "terminal-enrollment", "backup-restore", "ra", "in-use", "rollover"}
    assert len(SCENARIOS) >= 25
    for path in SCENARIOS:
        text = path.read_text()
        assert "description:" in text and "expect:" in text, path


def _normalise(text: str) -> str:
    return " ".join(text.split())


def seed_clock_not_set_lines(server_name: str) -> list[str]:
    lines = []
    for raw in SEED_EXCERPT.read_text().splitlines():
        if not raw.strip() or raw.startswith(("Clock Not Set", "```", "Router (")):
            continue
        line = STAMP.sub("", raw.replace("*Jan 6", "*Jan  6"))
        lines.append(_normalise(line.replace("'sub'", f"'{server_name}'")))
    return lines


def test_seed_excerpt_is_verbatim() -> None:
    """The clock-not-set check would compare against a seed excerpt that no longer matches Cisco's
    feature guide word for word."""
    if not SEED_DOC.exists():
        pytest.skip("Cisco's Subordinate Certificate Server feature guide (IOS 12.3(14)T) "
                    "is not beside this checkout")
    assert SEED_EXCERPT.read_text() in SEED_DOC.read_text() + "\n"


def test_clock_not_set_transcript_follows_the_seed_in_order() -> None:
    """With the clock unset, the CA's console would not print Cisco's documented clock-not-set lines
    in order, or its stamps would lack the `*`."""
    result = run_scenario(load_scenario(ROOT / "scenarios" / "clock" / "clock-not-set.yaml"))
    lines = transcript_lines(result.world.env.trace, "ca")
    console = _normalise(" ".join(STAMP.sub("", line) for line in lines))
    position = 0
    wanted = seed_clock_not_set_lines("ca")
    assert len(wanted) == 9
    for expected in wanted:
        found = console.find(expected, position)
        assert found >= 0, f"seed line missing or out of order: {expected!r}"
        position = found + len(expected)
    # While the clock is unset the console stamps carry IOS's '*'.
    fsm_line = next(line for line in lines if "input signal no shut" in line)
    assert fsm_line.startswith("*Jan  6 20:57:")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", ["bring-up/root-ca", "persistence/root-reload",
                                  "enrollment/sub-ca-enrollment",
                                  "reachability/unreachable-url-loss"])
def test_same_scenario_and_seed_give_byte_identical_output(tmp_path: Path, name: str) -> None:
    """Running a scenario twice with one seed would give different output folders, or a new seed
    would not change the CA certificate."""
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    first, second = tmp_path / "a", tmp_path / "b"
    write_output(run_scenario(scenario), first)
    write_output(run_scenario(scenario), second)
    a, b = _snapshot(first), _snapshot(second)
    assert sorted(a) == sorted(b)
    assert "summary.json" in a and "trace.jsonl" in a
    different = [name for name in a if a[name] != b[name]]
    assert not different
    third = tmp_path / "c"
    write_output(run_scenario(scenario, seed=scenario.seed + 1), third)
    c = _snapshot(third)
    ca_file = "artifacts/root1/root1.ca.pem"
    assert ca_file in a and a[ca_file] != c[ca_file]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_openssl_reads_the_exported_certificate_and_crl(tmp_path: Path) -> None:
    """The CA certificate and CRL in a run's `artifacts/` folder would be unreadable by openssl or
    fail `openssl verify` at the lab's time."""
    scenario = load_scenario(ROOT / "scenarios" / "bring-up" / "root-ca.yaml")
    write_output(run_scenario(scenario), tmp_path)
    folder = tmp_path / "artifacts" / "root1"
    cert = subprocess.run(["openssl", "x509", "-in", folder / "root1.ca.pem", "-noout",
                           "-subject", "-issuer", "-serial", "-ext", "basicConstraints"],
                          capture_output=True, text=True, check=True).stdout
    assert "subject=CN = root1, O = pkilab, C = US" in cert or "CN = root1" in cert
    assert "serial=01" in cert
    assert "CA:TRUE" in cert
    crl = subprocess.run(["openssl", "crl", "-in", folder / "root1.crl.pem", "-noout",
                          "-CAfile", folder / "root1.ca.pem", "-issuer", "-nextupdate"],
                         capture_output=True, text=True, check=True)
    assert "verify OK" in crl.stderr + crl.stdout
    # The lab lives in January 2005: verify at the simulated time, not the host's.
    at_time = str(int(scenario.start.timestamp() + 3600))
    verify = subprocess.run(["openssl", "verify", "-attime", at_time, "-CAfile",
                             folder / "root1.ca.pem", folder / "root1.ca.pem"],
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
