"""`pkilab sweep` through a real Dask cluster: a `dask scheduler` and two `dask worker`
processes on 127.0.0.1 (no dashboard), as a user's cluster would be; and once through
the LocalCluster a laptop uses.

Even with `--no-dashboard` a scheduler and a worker start a small HTTP server (health,
metrics), on 0.0.0.0 unless `--dashboard-address` says otherwise: every server here is
given 127.0.0.1, and a test checks nothing listens anywhere else."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import psutil
import pytest
from child_signals import answer_ctrl_c
from click.testing import CliRunner
from distributed import Client

from sim.cli import main
from sim.sweep.client import connect

ROOT = Path(__file__).resolve().parent.parent
TINY = "tests/fixtures/sweep/tiny-soak.yaml"
MATRIX = "scenarios/reachability/matrix-enrollment-faults.yaml"
STARTED: list[int] = []
"""The pids of the module's scheduler and workers."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _worker(address: str) -> subprocess.Popen[bytes]:
    """A `dask worker` process without a nanny (so killing it kills the worker)."""
    return subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--host", "127.0.0.1",
         "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--nworkers", "1",
         "--nthreads", "1", "--no-nanny"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a running scheduler with two workers."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    started = [subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", str(port), "--no-dashboard", "--dashboard-address", "127.0.0.1:0"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        started += [_worker(address), _worker(address)]
        STARTED[:] = [process.pid for process in started]
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in reversed(started):
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sweep-keys")


def sweep(args: list[str]) -> tuple[int, str]:
    """`pkilab sweep ARGS` in this process, from the repository root."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(main, ["sweep", *args])
    finally:
        os.chdir(cwd)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.output
    return result.exit_code, result.output


def summaries(out: Path) -> list[dict[str, object]]:
    return [json.loads(path.read_text()) for path in sorted(out.glob("runs/**/summary.json"))
            if path.parent.name.startswith("seed-")]


def test_a_soak_over_200_seeds_and_the_fault_matrix_through_scheduler_and_two_workers(
        scheduler: str, keys: Path, tmp_path: Path) -> None:
    """A nightly sweep on a cluster would lose runs, report one twice, keep no evidence of
    its failing seeds, or show each failing seed as its own line instead of one per cause."""
    out = tmp_path / "soak"
    code, text = sweep([TINY, "--seeds", "1-200", "--scheduler", scheduler, "--out", str(out),
                        "--key-cache", str(keys)])
    document = json.loads((out / "sweep.json").read_text())
    assert document["planned"] == document["reported"] == 200
    assert not document["interrupted"]
    seeds = sorted(run[2] for run in document["runs"])
    assert seeds == list(range(1, 201))
    runs = summaries(out)
    assert len(runs) == 200
    failing = [run for run in runs if run["status"] != "pass"]
    assert failing and len(failing) < 100, document["counts"]
    assert {run["status"] for run in failing} == {"fail"}
    assert code == 1
    assert len({run["worker"] for run in runs}) == 2  # both workers ran some
    for run in runs:
        kept = out / "runs" / "tiny-soak" / f"seed-{run['seed']}" / "output"
        assert kept.is_dir() == (run["status"] != "pass")
    assert (out / "runs" / "tiny-soak" / f"seed-{failing[0]['seed']}" / "output" /
            "report.html").is_file()
    # triage: fewer lines than failing seeds, covering each once
    groups = document["triage"]
    assert sum(group["runs"] for group in groups) == len(failing)
    assert len(groups) < len(failing)
    assert groups[0]["first_diverging_event"] and groups[0]["broke"]
    assert f"triage: {len(failing)} failing runs in {len(groups)} group(s)" in text
    suites = ElementTree.parse(out / "junit.xml").getroot()
    assert int(suites[0].get("tests", "0")) == 200
    assert int(suites[0].get("failures", "0")) == len(failing)
    first = min(run["seed"] for run in failing)
    assert f"replay: pkilab run {TINY} --seed {first}" in text

    out = tmp_path / "matrix"
    code, text = sweep([MATRIX, "--seeds", "46", "--scheduler", scheduler, "--out", str(out),
                        "--key-cache", str(keys)])
    assert code == 0, text
    document = json.loads((out / "sweep.json").read_text())
    assert document["counts"]["pass"] == document["reported"] == 12
    assert len({run[1] for run in document["runs"]}) == 12


def _files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_a_workers_output_folder_is_byte_identical_to_a_local_run(
        scheduler: str, keys: Path, tmp_path: Path) -> None:
    """A failing seed found on the cluster would not replay on a desk: the worker's folder
    (trace, transcripts, artifacts, summary, reports) would differ from `pkilab run`'s."""
    out = tmp_path / "sweep"
    sweep([TINY, MATRIX, "--seeds", "3", "--variants", "fault=dns,grant=auto",
           "--scheduler", scheduler, "--out", str(out), "--keep-all", "--key-cache", str(keys)])
    cases = [(TINY, [], out / "runs/tests/fixtures/sweep/tiny-soak/seed-3/output"),
             (MATRIX, ["--variant", "fault=dns,grant=auto"],
              out / "runs/scenarios/reachability/matrix-enrollment-faults/"
                    "fault=dns,grant=auto/seed-3/output")]
    for file, variant, worker_folder in cases:
        local = tmp_path / "local" / Path(file).stem
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            CliRunner().invoke(main, ["run", file, "--seed", "3", *variant, "--out", str(local),
                                      "--key-cache", str(keys)])
        finally:
            os.chdir(cwd)
        theirs, ours = _files(worker_folder), _files(local)
        assert "trace.jsonl" in ours and "report.html" in ours
        assert sorted(theirs) == sorted(ours)
        different = [name for name in ours if theirs[name] != ours[name]]
        assert not different, different


def _wait_for_runs(out: Path, count: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while len(list(out.glob("runs/**/seed-*/summary.json"))) < count:
        assert process.poll() is None, "the sweep ended early"
        assert time.monotonic() < deadline, "no runs reported"
        time.sleep(0.1)


def _sweep_process(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "sim", "sweep", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=answer_ctrl_c)


def test_a_worker_that_dies_mid_sweep_has_its_runs_rerun_and_each_reported_once(
        scheduler: str, keys: Path, tmp_path: Path) -> None:
    """A worker lost mid-sweep (a machine rebooted) would lose the runs it held, hang the
    sweep, or have them reported twice once rerun elsewhere."""
    doomed = _worker(scheduler)
    with Client(scheduler, timeout=60) as client:
        client.wait_for_workers(3, timeout=120)
    out = tmp_path / "sweep"
    process = _sweep_process([TINY, "--seeds", "1-30", "--scheduler", scheduler,
                              "--out", str(out), "--key-cache", str(keys)])
    mark = f"{socket.gethostname()}:{doomed.pid}"
    try:
        # Kill it once it has run a run of this sweep: it holds the next ones by then.
        deadline = time.monotonic() + 120
        while not any(run["worker"] == mark for run in summaries(out)):
            assert process.poll() is None and time.monotonic() < deadline, \
                "the third worker got no runs"
            time.sleep(0.1)
        doomed.kill()
        doomed.wait()
        stdout, _ = process.communicate(timeout=300)
    finally:
        doomed.kill()
        process.kill()
    document = json.loads((out / "sweep.json").read_text())
    assert process.returncode in (0, 1), stdout.decode()
    assert document["reported"] == 30
    assert sorted(run[2] for run in document["runs"]) == list(range(1, 31))
    assert document["counts"]["error"] == 0 and document["counts"]["timeout"] == 0
    assert len(summaries(out)) == 30


def test_ctrl_c_cancels_the_sweep_and_keeps_what_finished(
        scheduler: str, keys: Path, tmp_path: Path) -> None:
    """Ctrl-C would leave the cluster busy with the rest of the sweep, lose the runs that
    had finished, or not say the sweep was cut short."""
    out = tmp_path / "sweep"
    process = _sweep_process([TINY, "--seeds", "1-2000", "--scheduler", scheduler,
                              "--out", str(out), "--key-cache", str(keys)])
    try:
        _wait_for_runs(out, 3, process)
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, stdout.decode()
    document = json.loads((out / "sweep.json").read_text())
    assert document["interrupted"] and 3 <= document["reported"] < 2000
    assert len(summaries(out)) == document["reported"]
    assert "interrupted:" in stdout.decode()
    with Client(scheduler, timeout=60) as client:
        deadline = time.monotonic() + 30
        while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)):
            assert time.monotonic() < deadline, "the cancelled runs are still on the cluster"
            time.sleep(0.2)


def _listening(pids: list[int]) -> set[str]:
    found = set()
    for pid in pids:
        for connection in psutil.Process(pid).net_connections(kind="inet"):
            if connection.status == psutil.CONN_LISTEN:
                found.add(connection.laddr.ip)
    return found


def test_every_server_of_the_clusters_listens_on_127_0_0_1_only(scheduler: str) -> None:
    """A sweep would open the scheduler or a worker (which run whatever code they are
    sent) to the whole network."""
    assert _listening(STARTED) == {"127.0.0.1"}  # the scheduler and its workers
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    cluster = connect(None, 1)
    try:
        # A LocalCluster's scheduler is in this process, its workers are new children.
        spawned = [p.pid for p in psutil.Process().children(recursive=True)
                   if p.pid not in before]
        assert spawned
        assert _listening(spawned) == {"127.0.0.1"}
        ours = {c.laddr.ip for c in psutil.Process().net_connections(kind="inet")
                if c.status == psutil.CONN_LISTEN}
        assert ours == {"127.0.0.1"}
    finally:
        cluster.close()


def test_a_laptop_sweep_runs_on_a_local_cluster(keys: Path, tmp_path: Path) -> None:
    """`pkilab sweep` with no scheduler would need a cluster set up by hand."""
    out = tmp_path / "sweep"
    code, text = sweep([TINY, "--seeds", "1-4", "--workers", "2", "--out", str(out),
                        "--key-cache", str(keys)])
    assert "LocalCluster of 2 worker processes on 127.0.0.1" in text
    document = json.loads((out / "sweep.json").read_text())
    assert document["reported"] == 4 and code in (0, 1)
    assert sorted(run[2] for run in document["runs"]) == [1, 2, 3, 4]
