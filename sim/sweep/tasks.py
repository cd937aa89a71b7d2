"""The task a sweep worker executes: one (scenario, variant, seed) run, start to finish.

A task is pure data (`RunTask`) and its answer is pure data (`RunOutcome`), both small
and picklable, so a worker needs nothing but `pip install pkilab`: the scenario file
travels as its TEXT with its path relative to the suite root (workers need not share a
file system), and the output folder, when it is wanted, comes back as the bytes of a zip.

Keys: a task names no key files. Keys are a deterministic function of the seed
(`sim.pki.keys`), so each worker derives the keys it needs into its own cache -- the
default one of the machine it runs on (`$PKILAB_KEY_CACHE`, else ~/.cache/pkilab/keys),
or the `--key-cache` folder the sweep was given, read as a path on the worker. Two
caches can never disagree, only save time or not.

Determinism: the worker loads the text with the path as the scenario's `source`, and
streams and writes the output folder exactly as `pkilab run` does (`stream_output`,
`write_output`, `write_report`), so the folder a worker returns is byte for byte the one
`pkilab run FILE --seed N [--variant V]` writes, FILE being the path the sweep was given
(a test compares every file).

Time limit: the run happens in a thread of its own; if it is still running when the
limit passes, a `RunTimedOut` exception is raised inside that thread
(`PyThreadState_SetAsyncExc`), so the run stops at its next Python instruction and is
recorded as `timeout`, not a worker that hangs for ever.
"""

from __future__ import annotations

import ctypes
import io
import os
import shlex
import shutil
import socket
import tempfile
import threading
import time
import traceback
import zipfile
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import sim
from sim.kernel.trace import TraceEvent
from sim.report import write_report
from sim.scenario import clock_range, soak
from sim.scenario.loader import ScenarioError, load_scenarios_text
from sim.scenario.model import Scenario
from sim.scenario.output import write_output
from sim.scenario.replay import replay_command
from sim.scenario.runner import RunResult, run_scenario
from sim.scenario.streaming import stream_output

PASS, FAIL, TIMEOUT, ERROR = "pass", "fail", "timeout", "error"
"""A run's status: its expectations held; one did not (or strict warnings); it ran past
the time limit; it could not run (a file that does not load, a simulator crash)."""

FAULT_SIGNATURES = ("link/link.down", "node/node.down", "power/off", "clock/jump",
                    "http/server")
"""The trace events that are faults being applied: the fallback first divergence of a
failing run when no run of its (scenario, variant) passed (`sim.sweep.triage`)."""

TIMEOUT_GRACE = 5.0
"""Host seconds a timed-out run is given to unwind after the exception is raised in it
(a run inside a long C call, key generation say, sees it only when the call returns)."""


class RunTimedOut(Exception):
    """Raised inside a run's thread when its time limit passes."""


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep, as it travels to a worker."""

    text: str
    """The scenario file's text."""
    path: str
    """The file's path relative to the suite root (`sim.scenario.identity.suite_path`):
    what names the run in the sweep folder, sweep.json and the JUnit XML."""
    source: str
    """The file as the sweep was given it (relative to where it was started): the
    scenario's `source`, so the replay line works from there."""
    variant: str
    """The matrix variant id; "" for a plain file."""
    seed: int
    keep_folder: bool = False
    """Return the output folder even when the run passes (`--keep-all`)."""
    time_limit: float | None = None
    """Host seconds the run may take; None: no limit."""
    key_cache: str | None = None
    """Where the worker caches seeded keys; None: that machine's default cache."""
    strict: bool = False
    version: str = ""
    """The pkilab version of the sweep: a worker with another version refuses the run
    (its output could differ; determinism holds for one version)."""


@dataclass(frozen=True)
class Failure:
    """What broke in a failing run: an expectation or invariant (with its line), or the
    operator warnings of a strict run."""

    description: str
    line: int
    observed: str

    def to_json(self) -> dict[str, Any]:
        return {"description": self.description, "line": self.line, "observed": self.observed}


@dataclass(frozen=True)
class RunOutcome:
    """What a worker sends back about one run (the output folder only when wanted)."""

    path: str
    scenario: str
    variant: str
    seed: int
    status: str
    replay: str
    failures: tuple[Failure, ...] = ()
    warnings: int = 0
    sim_duration: float = 0.0
    """Simulated seconds the run covered."""
    wall: float = 0.0
    """Host seconds the run took on the worker."""
    events: int = 0
    """Trace events the run emitted."""
    signatures: dict[str, float] = field(default_factory=dict)
    """Each distinct event signature (`signature`) and the first simulated time it
    occurred: what triage compares between failing and passing runs."""
    error: str = ""
    """For `error` and `timeout`: what happened, in a line or a traceback."""
    worker: str = ""
    """host:pid of the worker process that ran it."""
    folder: bytes | None = None
    """The output folder as a zip, for a failing run or when asked (`keep_folder`)."""

    @property
    def key(self) -> tuple[str, str, int]:
        """(path, variant, seed): what a run is, across retries and workers."""
        return self.path, self.variant, self.seed

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def to_json(self) -> dict[str, Any]:
        """The run's `summary.json` in the sweep folder (no folder bytes)."""
        return {
            "path": self.path, "scenario": self.scenario, "variant": self.variant,
            "seed": self.seed, "status": self.status, "replay": self.replay,
            "failures": [failure.to_json() for failure in self.failures],
            "warnings": self.warnings, "sim_duration": self.sim_duration,
            "wall": round(self.wall, 3), "events": self.events,
            "signatures": dict(sorted(self.signatures.items(), key=lambda kv: (kv[1], kv[0]))),
            "error": self.error, "worker": self.worker,
        }


def signature(event: TraceEvent) -> str:
    """What kind of thing an event is, without its router or time: `category/name`.

    chosen: three kinds of event say what happened only in their data, so their
    signature adds it -- a syslog line its mnemonic (`log/syslog:%PKI-3-SOCKETSEND`), a
    CS state change its states (`fsm/transition:enabled->disabled`), a failed HTTP
    connection its reason (`net/http.failure:no-route`). Debug lines, commands and
    console lines stay coarse: their text carries times and serials, which would make
    every run's signature new.
    """
    base = f"{event.category}/{event.name}"
    data = event.data
    if base == "log/syslog":
        text = str(data.get("text", ""))
        if text.startswith("%"):
            return f"{base}:{text.split(':', 1)[0]}"
    elif base == "fsm/transition":
        return f"{base}:{data.get('old')}->{data.get('new')}"
    elif base == "net/http.failure":
        return f"{base}:{data.get('kind')}"
    return base


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def select_run(task: RunTask) -> Scenario:
    """The scenario the task names, loaded from its text, with its path as `source` (so
    its replay command and output folder are those of `pkilab run PATH`). Raises
    ScenarioError for a file that does not load or a variant it does not have."""
    for scenario in _loaded(task.text, task.source):
        if scenario.variant == task.variant:
            return replace(scenario, source=Path(task.source))
    raise ScenarioError(task.source, 1, f"has no matrix run {task.variant!r}")


@lru_cache(maxsize=32)
def _loaded(text: str, source: str) -> tuple[Scenario, ...]:
    """The runs of a file's text. A worker runs the same file under seed after seed;
    loading it (YAML, schema, model) once per process saves an eighth of a small run.
    The scenarios are frozen, so sharing them between runs is safe."""
    return tuple(load_scenarios_text(text, source))


def run_task(task: RunTask) -> RunOutcome:
    """Run one task and describe how it went (never raises for anything a run does)."""
    began = time.perf_counter()
    if task.version and task.version != sim.__version__:
        return RunOutcome(task.path, "", task.variant, task.seed, ERROR, plain_replay(task),
                          error=f"this worker runs pkilab {sim.__version__}, the sweep "
                                f"pkilab {task.version}: install the same version",
                          worker=worker_name())
    try:
        scenario = select_run(task)
    except ScenarioError as refused:
        return RunOutcome(task.path, "", task.variant, task.seed, ERROR, plain_replay(task),
                          error=str(refused), worker=worker_name())
    replay = replay_command(scenario, task.seed)
    if task.strict and not scenario.strict:
        replay += " --strict"
    # `pkilab run --seed N` refuses a seed whose soak clock jumps leave the calendar; in a
    # sweep that seed is one run that could not run, not a reason to stop the others.
    problem = clock_range.clock_problem(soak.with_seed(scenario, task.seed))
    if problem:
        return RunOutcome(task.path, scenario.name, task.variant, task.seed, ERROR, replay,
                          error=f"{task.source}:{problem[0]}: {problem[1]} "
                                f"(with --seed {task.seed})", worker=worker_name())
    work = Path(tempfile.mkdtemp(prefix="pkilab-sweep-"))
    try:
        box = _run_with_limit(task, scenario, work / "out")
        wall = time.perf_counter() - began
        if box.result is not None:
            return _outcome(task, box.result, box, wall)
        status, error = ERROR, box.error
        if box.timed_out:
            status = TIMEOUT
            error = (f"still running after {task.time_limit:g} s "
                     f"(simulated time reached {box.sim_now:g} s)")
        return RunOutcome(task.path, scenario.name, task.variant, task.seed, status, replay,
                          sim_duration=box.sim_now, wall=wall, events=box.events,
                          signatures=box.signatures, error=error, worker=worker_name())
    finally:
        shutil.rmtree(work, ignore_errors=True)


def plain_replay(task: RunTask) -> str:
    """The replay line of a task whose scenario could not be loaded or run."""
    words = ["pkilab", "run", task.source, "--seed", str(task.seed)]
    words += ["--variant", task.variant] if task.variant else []
    return shlex.join(words + (["--strict"] if task.strict else []))


class _Box:
    """What the run's thread leaves for the task: the result or why there is none."""

    def __init__(self) -> None:
        self.result: RunResult | None = None
        self.folder: bytes | None = None
        self.error = ""
        self.timed_out = False
        self.done = False
        self.sim_now = 0.0
        self.signatures: dict[str, float] = {}
        self.events = 0

    def see(self, event: TraceEvent) -> None:
        """A trace subscriber: the first time of each signature, and the count."""
        self.events += 1
        self.sim_now = event.t
        self.signatures.setdefault(signature(event), round(event.t, 6))


def _run_with_limit(task: RunTask, scenario: Scenario, out: Path) -> _Box:
    box = _Box()
    lock = threading.Lock()

    def setup(world: Any) -> None:
        for event in world.env.trace:  # what the routers' boot emitted before `setup`
            box.see(event)
        stream_output(out)(world)
        world.env.trace.subscribe(box.see)

    def body() -> None:
        try:
            try:
                key_cache = Path(task.key_cache) if task.key_cache else None
                result = run_scenario(scenario, seed=task.seed, key_cache=key_cache,
                                      setup=setup, strict=task.strict)
                # The output folder, as `pkilab run` writes it; zipped only if wanted.
                write_output(result, out, path=task.source)
                if task.keep_folder or not result.passed:
                    write_report(out)
                    box.folder = zip_folder(out)
                box.result = result
            finally:
                with lock:
                    box.done = True
        except RunTimedOut:
            box.timed_out = True
        except Exception:  # noqa: BLE001 - a simulator crash is a finding, not a hang
            box.error = traceback.format_exc(limit=8)

    thread = threading.Thread(target=body, name=f"pkilab-run-{task.seed}", daemon=True)
    thread.start()
    thread.join(task.time_limit)
    if thread.is_alive():
        with lock:
            if not box.done:
                _raise_in(thread, RunTimedOut)
        thread.join(TIMEOUT_GRACE)
        if thread.is_alive() or box.result is None:
            box.timed_out = True
            box.result = None
    return box


def _raise_in(thread: threading.Thread, exception: type[BaseException]) -> None:
    """Raise `exception` in `thread` at its next Python instruction."""
    ident = thread.ident
    if ident is None:
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exception))


def _outcome(task: RunTask, result: RunResult, box: _Box, wall: float) -> RunOutcome:
    failures = [Failure(r.expectation.describe(), r.expectation.line, r.observed)
                for r in result.results if not r.passed]
    if result.strict_failure:
        first = result.warnings[0]
        failures.append(Failure(f"operator warnings ({len(result.warnings)})",
                                first.line,
                                first.describe()))
    return RunOutcome(
        task.path, result.scenario.name, task.variant, task.seed,
        PASS if result.passed else FAIL, result.replay, tuple(failures),
        len(result.warnings), result.scenario.duration, wall, box.events,
        box.signatures, worker=worker_name(), folder=box.folder)


def zip_folder(folder: Path) -> bytes:
    """The folder as zip bytes: files in sorted order, fixed timestamps (the bytes of the
    files, not the zip's, are what must match a local run)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def unzip_folder(data: bytes, folder: Path) -> None:
    """Write a zipped output folder under `folder`; names leading out of it are skipped
    (the zip came over the network from a worker)."""
    root = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            target = (root / info.filename).resolve()
            if info.is_dir() or not target.is_relative_to(root) or target == root:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
