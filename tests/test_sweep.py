"""`pkilab sweep` without a cluster: the per-run task a worker executes (its outcome, its
time limit), failure triage, and the usage errors found before anything is submitted.
The runs through a real scheduler and workers are in tests/test_sweep_cluster.py."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.scenario import model as m
from sim.scenario.loader import load_scenario, load_scenarios
from sim.sweep.session import SweepError, parse_seeds
from sim.sweep.shrink import broke, ddmin, shrink
from sim.sweep.tasks import FAIL, PASS, TIMEOUT, Failure, RunOutcome, RunTask, run_task
from sim.sweep.triage import triage

TINY = Path(__file__).parent / "fixtures" / "sweep" / "tiny-soak.yaml"


def task(text: str, seed: int, tmp_path: Path, **options: object) -> RunTask:
    return RunTask(text, "tiny-soak.yaml", "tiny-soak.yaml", "", seed,
                   key_cache=str(tmp_path / "keys"), **options)  # type: ignore[arg-type]


def test_a_task_reports_what_broke_and_returns_the_folder_only_of_a_failing_run(
        tmp_path: Path) -> None:
    """A sweep would not say which expectation a failing seed broke, could not replay it,
    or would ship every passing run's whole folder back from the workers."""
    text = TINY.read_text()
    failing = run_task(task(text, 3, tmp_path))
    assert failing.status == FAIL
    assert [f.description for f in failing.failures] == ["r1: CA certificate of ca verifies"]
    assert failing.failures[0].line > 0
    assert failing.replay == "pkilab run tiny-soak.yaml --seed 3"
    assert failing.folder is not None and failing.events > 0
    assert "log/syslog:%PKI-3-SOCKETSEND" in failing.signatures
    passing = run_task(task(text, 1, tmp_path))
    assert passing.status == PASS and passing.folder is None and not passing.failures
    assert passing.sim_duration == 7200.0
    kept = run_task(task(text, 1, tmp_path, keep_folder=True))
    assert kept.folder is not None
    assert kept.signatures == passing.signatures


def test_a_run_past_its_time_limit_is_a_timeout_and_stops(tmp_path: Path) -> None:
    """A run that never ends would hang its worker for ever instead of being recorded as a
    timeout, and the sweep would never finish."""
    long = TINY.read_text().replace("duration: 2h", "duration: 3000d").replace(
        "mtbf: 20m, mttr: 10m", "mtbf: 12h, mttr: 10m")
    threads = threading.active_count()
    began = time.perf_counter()
    outcome = run_task(task(long, 5, tmp_path, time_limit=0.5))
    assert outcome.status == TIMEOUT
    assert "still running after 0.5 s" in outcome.error
    assert time.perf_counter() - began < 10
    assert outcome.sim_duration < 3000 * 86400  # stopped on the way
    assert threading.active_count() == threads  # the run's thread was stopped, not left


def test_a_task_whose_text_does_not_load_is_an_error_not_a_crash(tmp_path: Path) -> None:
    """A worker given a file that does not load would raise (and be retried in vain)
    instead of reporting the run as an error with the loader's message."""
    outcome = run_task(task("name: x\n", 1, tmp_path))
    assert outcome.status == "error" and "tiny-soak.yaml:" in outcome.error


def test_a_worker_of_another_pkilab_version_refuses_the_run(tmp_path: Path) -> None:
    """A cluster worker left on an older pkilab would return runs whose output differs
    from a local replay, and nobody would know why."""
    outcome = run_task(task(TINY.read_text(), 1, tmp_path, version="0.0.0-elsewhere"))
    assert outcome.status == "error"
    assert "the sweep pkilab 0.0.0-elsewhere: install the same version" in outcome.error


def outcome(seed: int, status: str, signatures: dict[str, float],
            broke: tuple[str, ...] = (), variant: str = "") -> RunOutcome:
    return RunOutcome("soak.yaml", "soak", variant, seed, status,
                      f"pkilab run soak.yaml --seed {seed}",
                      tuple(Failure(text, 40, "no") for text in broke),
                      signatures=signatures)


def test_triage_folds_failing_seeds_with_one_cause_into_one_line() -> None:
    """300 failing seeds with one cause would show as 300 lines, or failures with
    different causes would be lumped together, and nobody could tell what to fix first."""
    ok = {"scenario/start": 0.0, "pki/enroll.granted": 130.0, "link/link.down": 500.0}
    runs = [outcome(seed, PASS, ok) for seed in range(1, 11)]
    runs += [outcome(seed, FAIL, {"scenario/start": 0.0, "link/link.down": 60.0 + seed,
                                  "log/syslog:%PKI-3-SOCKETSEND": 120.0 + seed},
                     ("r1: CA certificate of ca verifies",)) for seed in range(100, 400)]
    runs += [outcome(7, FAIL, {**ok, "fsm/transition:enabled->disabled": 90.0},
                     ("ca: server state is enabled",))]
    groups = triage(runs)
    assert [group.count for group in groups] == [300, 1]
    big = groups[0]
    assert big.divergence == "log/syslog:%PKI-3-SOCKETSEND"
    assert big.broke == ("r1: CA certificate of ca verifies",)
    assert big.line().startswith("300 runs  soak.yaml  r1: CA certificate of ca verifies")
    assert "seeds 100, 101," in big.line() and "(292 more)" in big.line()
    assert groups[1].divergence == "fsm/transition:enabled->disabled"


def test_triage_falls_back_to_the_first_fault_when_nothing_passed() -> None:
    """With no passing run to compare against, triage would name no cause at all."""
    runs = [outcome(seed, FAIL, {"scenario/start": 0.0, "power/off": 30.0,
                                 "link/link.down": 10.0}, ("x",)) for seed in (1, 2)]
    (group,) = triage(runs)
    assert group.divergence.startswith("first fault link/link.down")
    assert group.count == 2


def test_seed_ranges() -> None:
    """`--seeds 1-10000` or a list would run other seeds than the ones typed."""
    assert parse_seeds("1-3") == [1, 2, 3]
    assert parse_seeds("7, 1-2,2") == [7, 1, 2]
    for bad in ("", "1-", "5-1", "a"):
        with pytest.raises(SweepError):
            parse_seeds(bad)


def test_bad_input_is_refused_before_any_cluster_starts(tmp_path: Path) -> None:
    """A typo in --seeds, a broken scenario file or a --variants naming no run would start
    a cluster and fail run by run (or with a traceback) instead of one clear message."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nduration: 1h\n")
    runner = CliRunner()
    cases = [
        ([str(TINY), "--seeds", "9-1"], "runs backwards"),
        ([str(broken)], "broken.yaml:"),
        (["scenarios/reachability/matrix-enrollment-faults.yaml", "--variants", "fault=nope"],
         "'nope' is not a value of axis fault"),
        ([str(TINY), "--variants", "colour=red"], "no matrix file of the sweep has those axes"),
        ([str(TINY), "--scheduler", "nonsense://x"], "expected an address such as tcp://"),
    ]
    for args, message in cases:
        result = runner.invoke(main, ["sweep", *args, "--out", str(tmp_path / "out")])
        assert result.exit_code == 2, result.output
        assert message in result.stderr and "Traceback" not in result.output


def test_shrink_keeps_only_the_faults_that_matter(tmp_path: Path) -> None:
    """`--shrink` would hand back a failing seed's whole fault list, a file that does not
    load, or one that no longer fails the way the seed did."""
    scenario = load_scenario(TINY)
    out = tmp_path / "seed-3.yaml"
    result = shrink(scenario, 3, out, tmp_path / "keys")
    assert result.file == out, result.problem
    assert result.broke == ("r1: CA certificate of ca verifies",)
    assert result.faults_after < result.faults_before
    (written,) = load_scenarios(out)
    assert written.soak is None and written.seed == 3
    faults = [e for e in written.events if isinstance(e, m.LinkEvent)]
    assert len(faults) == 2 * result.faults_after  # each flap: its down and its up
    assert broke(written, 3, tmp_path / "keys") == result.broke
    assert "Shrunk by `pkilab sweep --shrink` from seed 3" in written.description


def test_ddmin_finds_the_two_faults_that_together_break_the_run() -> None:
    """Shrinking would stop at a list with faults that play no part, or lose one of two
    faults that only fail together."""
    units = [(object(),) for _ in range(40)]
    needed = {id(units[3]), id(units[31])}
    kept, calls = ddmin(units, lambda c: needed <= {id(u) for u in c}, 400)  # type: ignore[arg-type]
    assert {id(u) for u in kept} == needed
    assert calls < 100
