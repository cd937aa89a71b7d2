"""One `pkilab sweep`: plan the runs, run them on the cluster, keep and show the results.

A run is (scenario file, variant, seed). The files are loaded here first, so a bad file
or a `--variants` that names no run is a usage error (exit 2) before anything is
submitted; the workers load the same text again. Runs are submitted seed by seed, every
scenario and variant of a seed together, so early results already cover the suite.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

import sim
from sim.scenario import identity
from sim.scenario.loader import ScenarioError, load_scenarios
from sim.scenario.model import Scenario
from sim.scenario.replay import VariantError, parse_variant, select_variants
from sim.sweep import output
from sim.sweep.client import Cluster, connect, run_all
from sim.sweep.display import SweepProgress, print_summary
from sim.sweep.shrink import Shrunk, shrink
from sim.sweep.tasks import PASS, RunOutcome, RunTask
from sim.sweep.triage import Group, triage

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

MAX_SEEDS = 10_000_000
"""Seeds in one sweep, at most: a range typed with a digit too many is a mistake."""


class SweepError(ValueError):
    """Bad input to a sweep (a file that does not load, bad --seeds or --variants)."""


@dataclass
class Options:
    seeds: list[int]
    variants: tuple[str, ...] = ()
    scheduler: str | None = None
    workers: int | None = None
    out: Path = Path("reports/sweep")
    junit: Path | None = None
    keep_all: bool = False
    time_limit: float | None = None
    key_cache: Path | None = None
    strict: bool = False
    shrink: bool = False
    argv: list[str] = field(default_factory=list)


def parse_seeds(text: str) -> list[int]:
    """`1-10000`, `7`, `1,5,20-29` -> the seeds in order, each once."""
    seeds: dict[int, None] = {}
    for part in text.split(","):
        part = part.strip()
        match = re.fullmatch(r"(-?\d+)(?:\s*-\s*(-?\d+))?", part)
        if not match:
            raise SweepError(f"--seeds {text!r}: expected seeds and ranges such as "
                             "1-10000 or 1,5,20-29")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        if high < low:
            raise SweepError(f"--seeds {text!r}: the range {part} runs backwards")
        if len(seeds) + high - low + 1 > MAX_SEEDS:
            raise SweepError(f"--seeds {text!r}: more than {MAX_SEEDS} seeds")
        seeds.update(dict.fromkeys(range(low, high + 1)))
    return list(seeds)


@dataclass(frozen=True)
class PlannedFile:
    """A scenario file of the sweep: its text, suite path and the runs selected."""

    path: str
    source: str
    text: str
    runs: tuple[Scenario, ...]


def plan_files(files: list[Path], root: Path, variants: tuple[str, ...]) -> list[PlannedFile]:
    """Load every file (SweepError for one that does not load) and select its runs."""
    planned = []
    used: set[str] = set()
    for file in files:
        try:
            runs = load_scenarios(file)
            text = file.read_bytes().decode("utf-8-sig")
        except ScenarioError as error:
            raise SweepError(str(error)) from None
        # A selector applies to the matrix files that have every axis it names; a file
        # none applies to runs whole (a folder may hold matrices of different axes).
        axes = {axis for axis, _ in runs[0].axes}
        chosen: set[str] = set()
        applied = False
        for wanted in variants:
            try:
                named = set(parse_variant(wanted))
            except VariantError as error:
                raise SweepError(str(error)) from None
            if not axes or not named <= axes:
                continue
            applied = True
            used.add(wanted)
            try:
                chosen.update(run.variant for run in select_variants(runs, wanted))
            except VariantError as error:
                raise SweepError(f"{file}: {error}") from None
        if applied:
            runs = [run for run in runs if run.variant in chosen]
        planned.append(PlannedFile(identity.suite_path(file, root), file.as_posix(), text,
                                   tuple(runs)))
    unused = [wanted for wanted in variants if wanted not in used]
    if unused:
        raise SweepError(f"--variants {unused[0]!r}: no matrix file of the sweep has "
                         "those axes")
    return planned


SCHEDULER = re.compile(r"((tcp|tls|ws|wss)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?")
"""A scheduler address: `tcp://host:8786`, `tls://...`, `host:8786` (tcp)."""


def check_scheduler(address: str) -> None:
    """SweepError unless `address` is a scheduler address Dask can dial."""
    if not SCHEDULER.fullmatch(address):
        raise SweepError(f"--scheduler {address!r}: expected an address such as "
                         "tcp://host:8786 (schemes: tcp, tls, ws, wss)")


def plan_tasks(planned: list[PlannedFile], options: Options) -> list[RunTask]:
    key_cache = str(options.key_cache.resolve()) if options.key_cache else None
    return [RunTask(item.text, item.path, item.source, run.variant, seed, options.keep_all,
                    options.time_limit, key_cache, options.strict, sim.__version__)
            for seed in options.seeds for item in planned for run in item.runs]


def sweep(files: list[Path], root: Path, options: Options, console: Console) -> int:
    """Run the sweep; return the exit code (0 all passed, 1 a run did not, 130
    interrupted). Raises SweepError for bad input, OSError for an unreachable scheduler
    or an unwritable sweep folder."""
    if options.scheduler is not None:
        check_scheduler(options.scheduler)
    planned = plan_files(files, root, options.variants)
    tasks = plan_tasks(planned, options)
    folders = {(item.path, run.variant): identity.output_folder(item.path, run)
               for item in planned for run in item.runs}
    output.clear(options.out)
    started = datetime.now(UTC)
    began = time.perf_counter()
    cluster: Cluster = connect(options.scheduler, options.workers)
    cluster_start = time.perf_counter() - began
    console.print(f"sweep: {len(tasks)} runs ({len(folders)} scenario runs x "
                  f"{len(options.seeds)} seeds) on {cluster.description}", markup=False)
    outcomes: list[RunOutcome] = []
    try:
        with SweepProgress(console, len(tasks)) as progress:
            def report(outcome: RunOutcome) -> None:
                output.write_run(options.out, folders[(outcome.path, outcome.variant)],
                                 outcome)
                outcomes.append(outcome)
                progress.add(outcome)

            interrupted = run_all(cluster, tasks, report)
    finally:
        try:
            cluster.close()
        except Exception:  # noqa: BLE001 - closing a cluster that is going away anyway
            pass
    wall = time.perf_counter() - began
    groups = triage(outcomes)
    scenarios = {(item.path, run.variant): run for item in planned for run in item.runs}
    shrunk = [] if interrupted or not options.shrink else \
        shrink_groups(groups, scenarios, folders, options, console)
    rows = output.per_scenario(outcomes)
    meta: dict[str, Any] = {
        "version": sim.__version__, "command": options.argv or sys.argv,
        "cluster": cluster.description, "started": started.isoformat(timespec="seconds"),
        "wall": round(wall, 3), "cluster_start": round(cluster_start, 3),
        "planned": len(tasks), "seeds": len(options.seeds),
        "runs_per_second": round(len(outcomes) / wall, 3) if wall > 0 else 0.0,
        "shrunk": [{"path": path, "variant": variant, "seed": result.seed,
                    "faults_before": result.faults_before, "faults_after": result.faults_after,
                    "file": str(result.file) if result.file else None,
                    "problem": result.problem} for path, variant, result in shrunk],
    }
    sweep_json = output.write_sweep(options.out, meta, outcomes, groups, interrupted)
    junit = options.junit or options.out / "junit.xml"
    output.write_junit(junit, outcomes)
    print_summary(console, rows, groups)
    for _, _, result in shrunk:
        console.print(f"  {result.line()}", markup=False)
    if interrupted:
        console.print(f"interrupted: {len(outcomes)} of {len(tasks)} runs finished and "
                      "were kept; the rest were cancelled", markup=False)
    console.print(f"{len(outcomes)} runs in {wall:.1f} s ({meta['runs_per_second']} runs/s); "
                  f"sweep: {sweep_json}; JUnit XML: {junit}", markup=False)
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if all(o.status == PASS for o in outcomes) else EXIT_FAILED


def shrink_groups(groups: list[Group], scenarios: dict[tuple[str, str], Scenario],
                  folders: dict[tuple[str, str], str], options: Options, console: Console
                  ) -> list[tuple[str, str, Shrunk]]:
    """`--shrink`: the first seed of each triage group of failing soak runs, shrunk to
    the faults that matter and written under OUT/shrunk/ (timeouts and errors are not
    failures a fault list explains)."""
    done = []
    for group in groups:
        scenario = scenarios.get((group.path, group.variant))
        if scenario is None or scenario.soak is None or group.broke[0] == "timeout" \
                or group.broke[0].startswith("error: "):
            continue
        seed = min(group.seeds)
        console.print(f"shrinking seed {seed} of {group.path}"
                      f"{f'[{group.variant}]' if group.variant else ''} ...", markup=False)
        out = options.out / "shrunk" / f"{folders[(group.path, group.variant)]}" \
            / f"seed-{seed}.yaml"
        done.append((group.path, group.variant,
                     shrink(scenario, seed, out, options.key_cache, options.strict)))
    return done
