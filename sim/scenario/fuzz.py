"""The scenario-file fuzzer: mutants through `pkilab validate` and `pkilab run`.

The contract under test is the command line's: for any file, `validate` exits 0 or 2 and
`run` exits 0, 1 or 2, with no traceback; an exit 2 names `file:line`; `validate` accepts
exactly what `run` accepts (a file `validate` passes never makes `run` exit 2, and one it
refuses `run` refuses too); and whatever validates runs to completion. `pkilab
fuzz-scenarios` drives this over ten thousand mutants (`sim.scenario.mutants`) and prints
the counts; `tests/test_scenario_fuzz.py` runs a few hundred in CI.

The commands are invoked through a function the caller passes in (`Invoke`), so that this
module stays below the command line in the layering: `sim.cli` hands in a click
`CliRunner` over its own `main`, in-process, which is what makes thousands of runs
affordable. A run that does not end within `timeout` host seconds is stopped (SIGALRM, on
the main thread) and counted: that is the "runs for ever" failure.
"""

from __future__ import annotations

import re
import shutil
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from sim.scenario.mutants import SPECIAL_DIRECTORY, SPECIAL_MISSING, Mutant, Source


@dataclass(frozen=True)
class Invocation:
    """What one `pkilab` command did: its exit code, its stderr, and the traceback of an
    exception that escaped it ("" if none did)."""

    exit_code: int
    stderr: str
    traceback: str = ""


Invoke = Callable[[list[str]], Invocation]
"""Runs `pkilab ARGS...` and reports what happened."""


class RunTimeout(BaseException):
    """Raised into a command that ran longer than the fuzzer allows. A BaseException, so
    that no `except Exception` on the way can mistake it for the command's own error."""


@dataclass(frozen=True)
class Problem:
    """A broken contract, with what to replay it from."""

    mutant: str
    command: str
    what: str
    detail: str = ""


@dataclass
class FuzzReport:
    """Counts over all mutants, the exit codes of each, and the problems found."""

    mutants: int = 0
    validate: Counter[int] = field(default_factory=Counter)
    run: Counter[int] = field(default_factory=Counter)
    runs_skipped: int = 0
    tracebacks: int = 0
    timeouts: int = 0
    problems: list[Problem] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    exits: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    """Each mutant's (validate, run) exit codes; None where the command was not run or
    did not end."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> Iterator[str]:
        """The report as a person reads it."""
        yield f"mutants: {self.mutants}"
        yield "by first mutation: " + ", ".join(
            f"{kind} {count}" for kind, count in self.kinds.most_common())
        yield "validate exit codes: " + _codes(self.validate)
        yield "run exit codes: " + _codes(self.run) + (
            f" ({self.runs_skipped} validated mutants not run: over the run limit)"
            if self.runs_skipped else "")
        yield f"tracebacks: {self.tracebacks}"
        yield f"runs stopped for taking too long: {self.timeouts}"
        yield f"contract violations: {len(self.problems)}"
        for problem in self.problems[:20]:
            yield f"  {problem.mutant}: pkilab {problem.command}: {problem.what}"
            for line in problem.detail.strip().splitlines()[-3:]:
                yield f"      {line[:200]}"


def _codes(counts: Counter[int]) -> str:
    return ", ".join(f"{code}: {counts[code]}" for code in sorted(counts)) or "none"


_LOCATED = re.compile(r"^error: .+:\d+: ", re.MULTILINE)
"""An exit-2 message naming `file:line`."""


def fuzz(mutants: Iterable[Mutant], invoke: Invoke, workdir: Path, *,
         run_filter: Callable[[Path], bool] | None = None, timeout: float = 120.0,
         run_options: Sequence[str] = (), keep: Path | None = None,
         on_mutant: Callable[[Mutant], None] | None = None) -> FuzzReport:
    """Put each mutant through `validate` and `run`; count; collect broken contracts.

    Mutants are written under `workdir` (a directory the caller owns). `run` is invoked
    for every mutant; for one that validates, only if `run_filter` (if given) accepts its
    file: that is how a caller bounds the time spent simulating. A mutant that breaks the
    contract is copied to `keep`, if given, to be replayed by hand. `timeout` (host
    seconds) stops a command that does not end. `run_options` go on every `run`.
    """
    report = FuzzReport()
    out = workdir / "out"
    for mutant in mutants:
        known = len(report.problems)
        report.mutants += 1
        report.kinds.update(mutant.kinds[:1])
        path = _materialize(mutant, workdir)
        validated = _call(invoke, ["validate", str(path)], timeout, mutant, report)
        if validated is not None:
            report.validate[validated.exit_code] += 1
            _check_validate(mutant, validated, report)
        ran = None
        if validated is None or validated.exit_code != 0 or run_filter is None \
                or run_filter(path):
            ran = _call(invoke, ["run", str(path), "--out", str(out), *run_options], timeout,
                        mutant, report)
            if ran is not None:
                report.run[ran.exit_code] += 1
                _check_run(mutant, validated, ran, report)
        else:
            report.runs_skipped += 1
        report.exits[mutant.name] = (None if validated is None else validated.exit_code,
                                     None if ran is None else ran.exit_code)
        if keep is not None and len(report.problems) > known and not mutant.special:
            keep.mkdir(parents=True, exist_ok=True)
            (keep / path.name).write_bytes(mutant.data)
        if on_mutant is not None:
            on_mutant(mutant)
        _clean(path, out)
    return report


def _materialize(mutant: Mutant, workdir: Path) -> Path:
    path = workdir / f"{mutant.name}.yaml"
    if mutant.special == SPECIAL_DIRECTORY:
        path.mkdir()
    elif mutant.special != SPECIAL_MISSING:
        path.write_bytes(mutant.data)
    return path


def _clean(path: Path, out: Path) -> None:
    if path.is_dir():
        path.rmdir()
    else:
        path.unlink(missing_ok=True)
    shutil.rmtree(out, ignore_errors=True)


def _call(invoke: Invoke, args: list[str], timeout: float, mutant: Mutant,
          report: FuzzReport) -> Invocation | None:
    try:
        with _deadline(timeout):
            result = invoke(args)
    except RunTimeout:
        report.timeouts += 1
        report.problems.append(Problem(mutant.name, args[0],
                                       f"still running after {timeout:g} s"))
        return None
    if result.traceback:
        report.tracebacks += 1
        report.problems.append(Problem(mutant.name, args[0], "traceback", result.traceback))
    return result


def _check_validate(mutant: Mutant, result: Invocation, report: FuzzReport) -> None:
    if result.traceback:
        return
    if result.exit_code not in (0, 2):
        report.problems.append(Problem(mutant.name, "validate",
                                       f"exit {result.exit_code}", result.stderr))
    elif result.exit_code == 2 and not _LOCATED.search(result.stderr):
        report.problems.append(Problem(mutant.name, "validate", "exit 2 without file:line",
                                       result.stderr))


def _check_run(mutant: Mutant, validated: Invocation | None, result: Invocation,
               report: FuzzReport) -> None:
    if result.traceback:
        return
    if result.exit_code not in (0, 1, 2):
        report.problems.append(Problem(mutant.name, "run", f"exit {result.exit_code}",
                                       result.stderr))
    elif result.exit_code == 2 and not _LOCATED.search(result.stderr):
        report.problems.append(Problem(mutant.name, "run", "exit 2 without file:line",
                                       result.stderr))
    if validated is None or validated.traceback:
        return
    if validated.exit_code == 0 and result.exit_code == 2:
        report.problems.append(Problem(mutant.name, "run", "validate passed, run refused",
                                       result.stderr))
    if validated.exit_code == 2 and result.exit_code != 2:
        report.problems.append(Problem(mutant.name, "run",
                                       f"validate refused, run exited {result.exit_code}",
                                       validated.stderr))


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise `RunTimeout` in the block after `seconds` (main thread only; else no limit)."""
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise RunTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    outer = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer[0] > 0:  # someone else's alarm (a test runner's): give it back
            signal.setitimer(signal.ITIMER_REAL, *outer)


def shipped_sources(folder: Path) -> list[Source]:
    """Every `*.yaml` under `folder`, in a stable order, as fuzzer sources."""
    return [Source(str(path.relative_to(folder)), path.read_text(encoding="utf-8"))
            for path in sorted(folder.rglob("*.yaml")) if path.is_file()]
