"""The `pkilab` command (also `python -m sim`).

Exit codes: 0 when every expectation holds, 1 when one fails, 2 for a bad scenario file
or bad usage (one clear message naming the file, the line and the problem). `validate`
accepts exactly the files `run` accepts; `pkilab fuzz-scenarios` checks both promises on
mutated files.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import sim
from sim import serve as serving
from sim.console.app import run_console
from sim.console.controller import ConsoleController
from sim.lab import Lab, LabError
from sim.report import write_report
from sim.report.write import missing_inputs
from sim.scenario import clock_range, golden, identity, soak
from sim.scenario import fuzz as fuzz_types
from sim.scenario.durations import parse_duration
from sim.scenario.golden import GoldenFile
from sim.scenario.loader import ScenarioError, load_scenarios
from sim.scenario.model import Scenario
from sim.scenario.output import OutsideOutputFolder, confined_folder, write_output
from sim.scenario.replay import VariantError, run_folder, select_variants
from sim.scenario.runner import RunResult, run_scenario
from sim.scenario.streaming import stream_output

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_SUITE = (Path("scenarios"),)


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _load_or_exit(path: Path) -> list[Scenario]:
    """Every run a file describes: one, or one per combination of a `matrix:`."""
    try:
        return load_scenarios(path)
    except ScenarioError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)


def _reseeded_or_exit(scenario: Scenario, seed: int | None, path: Path) -> None:
    """Check the soak faults `--seed` draws anew as the loader checked the file's own.

    The loader judged the faults of the file's seed; another seed draws other clock
    jumps, which must keep the clocks within the calendar too.
    """
    if seed is None or scenario.soak is None:
        return
    problem = clock_range.clock_problem(soak.with_seed(scenario, seed))
    if problem:
        line, message = problem
        click.echo(f"error: {path}:{line}: {message} (with --seed {seed})", err=True)
        sys.exit(EXIT_BAD_INPUT)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(sim.__version__, prog_name="pkilab")
def main() -> None:
    """pkilab: simulate Cisco IOS certificate-server hierarchies from scenario files."""


@main.command()
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option("--seed", type=int, default=None, help="Override the scenario's seed.")
@click.option("--variant", default=None,
              help="Run only this combination of a matrix file (e.g. 'fault=dns,grant=auto').")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Output folder (default: reports/<scenario-name>/).")
@click.option("--key-cache", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where seeded RSA keys are cached (default: ~/.cache/pkilab/keys).")
@click.option("--strict", is_flag=True,
              help="Operator warnings (a cli line IOS refuses, a prompt left without an "
                   "answer, answers left unused) fail the run, as 'strict: true' does.")
def run(scenario_file: Path, seed: int | None, variant: str | None, out_dir: Path | None,
        key_cache: Path | None, strict: bool) -> None:
    """Run one scenario (every combination of a matrix) and write its output folder."""
    runs = _load_or_exit(scenario_file)
    if variant is not None:
        try:
            runs = select_variants(runs, variant)
        except VariantError as error:
            click.echo(f"error: {scenario_file}: {error}", err=True)
            sys.exit(EXIT_BAD_INPUT)
    for scenario in runs:
        _reseeded_or_exit(scenario, seed, scenario_file)
    console = _console()
    passed = True
    for scenario in runs:
        if out_dir is None:
            out = Path("reports") / run_folder(scenario)
        else:
            out = out_dir / run_folder(scenario) if len(runs) > 1 else out_dir
        try:
            # The trace and artifacts stream into the folder as the run goes
            # (`sim.scenario.streaming`): a big run's memory does not grow with them.
            result = run_scenario(scenario, seed=seed, key_cache=key_cache, strict=strict,
                                  setup=stream_output(out))
            # chosen: a single `run` keeps reports/<name>/ (what it has always printed and
            # the docs show); the report still names the file, as it was given.
            write_output(result, out, path=scenario_file.as_posix())
            html, _ = write_report(out)
        except OSError as error:  # an unwritable --out is bad usage, not a bad run
            click.echo(f"error: {out}: cannot write the output folder: "
                       f"{error.strerror or error}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        _print_result(console, result, out)
        console.print(f"report: {html}")
        if not result.passed:
            console.print(f"replay: {result.replay}", markup=False)
        passed = passed and result.passed
    sys.exit(EXIT_OK if passed else EXIT_FAILED)


@main.command()
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option("--router", "routers", multiple=True,
              help="Serve this router (repeatable; default: every router with "
                   "'ip http server' in its startup-config).")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="First port; the routers take consecutive ports (0: any free ports).")
@click.option("--speed", type=click.FloatRange(min=0.001), default=1.0, show_default=True,
              help="Simulated seconds per host second.")
@click.option("--scenario-start", is_flag=True,
              help="Start at the scenario's own 'start' instead of the host's time "
                   "(certificates then carry the scenario's dates).")
@click.option("--warm-up", "warm_up", default=None,
              help="Play the scenario's first part at once (e.g. 10m, to build a "
                   "hierarchy); simulated time meets the host clock at its end.")
@click.option("--for", "duration", default=None,
              help="Stop after this long (host time, e.g. 90s, 10m); default: until Ctrl-C.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Output folder (default: reports/<scenario-name>/).")
@click.option("--console", "with_console", is_flag=True,
              help="An IOS console on the served network in this terminal (grant, reject "
                   "and revoke while real clients poll); :quit stops.")
@click.option("--key-cache", type=click.Path(path_type=Path, file_okay=False), default=None)
def serve(scenario_file: Path, routers: tuple[str, ...], port: int, speed: float,
          scenario_start: bool, warm_up: str | None, duration: str | None,
          out_dir: Path | None, with_console: bool, key_cache: Path | None) -> None:
    """Serve a scenario's routers on 127.0.0.1 for real SCEP clients, in host time."""
    seconds = _duration_or_exit(duration, "--for")
    warm_seconds = _duration_or_exit(warm_up, "--warm-up") or 0.0
    runs = _load_or_exit(scenario_file)
    if len(runs) > 1:
        click.echo(f"error: {scenario_file}: a matrix file has {len(runs)} runs; serve "
                   "one of them from a file of its own", err=True)
        sys.exit(EXIT_BAD_INPUT)
    scenario = runs[0]
    out = out_dir or Path("reports") / run_folder(scenario)
    lab = serving.live_lab(scenario, scenario_start=scenario_start, warm_up=warm_seconds,
                           key_cache=key_cache)
    try:
        names = serving.routers_to_serve(lab, list(routers))
        output = serving.LiveOutput(lab.world, out)
    except (serving.LabError, OSError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    serving.warm(lab, warm_seconds)
    lab.go_live(speed=speed)
    console = _console()
    try:
        with serving.serving(lab, names, port) as served:
            table = Table("router", "simulated address", "URL (127.0.0.1 only)")
            for item in served:
                table.add_row(item.router, item.address, item.url)
            console.print(table)
            stops = ":quit stops" if with_console else "Ctrl-C stops"
            console.print(f"simulated time follows the host clock ({speed:g}x); "
                          f"output: {out}/ (written as it goes); {stops}")
            try:
                if with_console:
                    # `:write` snapshots beside the folder the serving streams into.
                    snapshot = out.with_name(out.name + "-snapshot")
                    run_console(ConsoleController(lab, out=snapshot))
                else:
                    serving.wait(lab, seconds)
            except KeyboardInterrupt:
                console.print("stopping")
    except OSError as error:  # a port in use
        lab.stop()
        click.echo(f"error: cannot listen on 127.0.0.1: {error.strerror or error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    serving.finish(lab, output, out)
    console.print(f"output folder: {out}/ (report: {out / 'report.html'})")


@main.command(name="console")
@click.argument("scenario_file", required=False, type=click.Path(path_type=Path))
@click.option("--router", "watched", default=None,
              help="The router whose console comes first (default: the first one).")
@click.option("--speed", type=click.FloatRange(min=0.001, max=100000), default=1.0,
              show_default=True, help="Simulated seconds per host second.")
@click.option("--host-time", is_flag=True,
              help="Start at the host's time instead of the scenario's 'start'.")
@click.option("--no-events", is_flag=True,
              help="Only the scenario's routers and links: its events do not play.")
@click.option("--seed", type=int, default=None, help="RNG seed (default: the scenario's).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Output folder written at :quit and by :write "
                                 "(default: reports/<name>-console/).")
@click.option("--key-cache", type=click.Path(path_type=Path, file_okay=False), default=None)
def console_command(scenario_file: Path | None, watched: str | None, speed: float,
                    host_time: bool, no_events: bool, seed: int | None,
                    out_dir: Path | None, key_cache: Path | None) -> None:
    """An interactive IOS console on a scenario's network (or an empty lab)."""
    if scenario_file is None:
        lab = Lab(name="console", seed=1 if seed is None else seed, key_cache=key_cache,
                  start=datetime.now(UTC).replace(microsecond=0) if host_time else None)
    else:
        runs = _load_or_exit(scenario_file)
        if len(runs) > 1:
            click.echo(f"error: {scenario_file}: a matrix file has {len(runs)} runs; open "
                       "one of them from a file of its own", err=True)
            sys.exit(EXIT_BAD_INPUT)
        start = datetime.now(UTC).replace(microsecond=0) if host_time else None
        lab = Lab.from_scenario(runs[0], seed=seed, start=start, key_cache=key_cache,
                                play_events=not no_events)
    out = out_dir or Path("reports") / f"{run_folder(lab.scenario())}-console"
    try:
        controller = ConsoleController(lab, watched=watched, out=out)
    except LabError as error:
        click.echo(f"error: --router: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    lab.go_live(speed=speed)
    try:
        run_console(controller)
    finally:
        lab.stop()
    lab.write_output(out)
    click.echo(f"output folder: {out}/ (report: {out / 'report.html'})")


def _duration_or_exit(text: str | None, option: str) -> float | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as error:
        click.echo(f"error: {option}: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)


def _print_result(console: Console, result: RunResult, out: Path) -> None:
    scenario = result.scenario
    console.print(f"[bold]{escape(scenario.full_name)}[/bold] (seed {result.seed}, "
                  f"{len(result.world.routers)} routers)", markup=True)
    for r in result.results:
        mark = "[green]PASS[/green]" if r.passed else "[red]FAIL[/red]"
        console.print(f"  {mark} ", end="")
        console.print(r.expectation.describe(), markup=False)
        if not r.passed:
            console.print(f"       line {r.expectation.line}: observed: {r.observed}",
                          markup=False)
            for line in r.context:
                console.print(f"       | {line}", markup=False)
    _print_warnings(console, result, "  ")
    passed = sum(r.passed for r in result.results)
    console.print(f"{passed}/{len(result.results)} expectations hold; output in {out}/",
                  markup=False)
    if result.warnings:
        verdict = "strict: they fail the run" if result.strict else "--strict fails on them"
        console.print(f"{len(result.warnings)} operator warning(s) ({verdict})", markup=False)


def _print_warnings(console: Console, result: RunResult, lead: str) -> None:
    """Each operator warning on a line: `WARN` (`FAIL` when the run is strict), then
    `file:line: router: what was typed: what IOS said`."""
    mark = "[red]FAIL[/red]" if result.strict else "[yellow]WARN[/yellow]"
    for warning in result.warnings:
        console.print(f"{lead}{mark} ", end="")
        console.print(warning.describe(), markup=False)


@main.command()
@click.argument("scenario_files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(scenario_files: tuple[Path, ...]) -> None:
    """Parse and check scenario files without running them."""
    bad = False
    for path in scenario_files:
        try:
            runs = load_scenarios(path)
        except ScenarioError as error:
            click.echo(f"error: {error}", err=True)
            bad = True
            continue
        scenario = runs[0]
        what = (f"{len(scenario.routers)} routers, {len(scenario.links)} links, "
                f"{len(scenario.events)} events, {len(scenario.expectations)} expectations")
        if len(runs) > 1:
            what = f"matrix of {len(runs)} runs; first run: {what}"
        click.echo(f"ok: {path} ({what})")
    sys.exit(EXIT_BAD_INPUT if bad else EXIT_OK)


def collect(paths: tuple[Path, ...]) -> list[Path]:
    """The scenario files under `paths` (default scenarios/), each once: a file named
    twice, or also found in a folder given, would be one run reported twice."""
    files: dict[str, Path] = {}
    for path in paths or DEFAULT_SUITE:
        found = sorted(p for p in path.rglob("*.yaml") if p.is_file()) if path.is_dir() \
            else [path]
        for file in found:
            files.setdefault(os.path.abspath(file), file)
    return list(files.values())


def _run_folders_or_exit(out_root: Path, runs: list[tuple[Scenario, str]]) -> list[Path]:
    """Each run's output folder under `out_root`, named by its file's path in the suite
    (`sim.scenario.identity`); exit 2 if two runs would share one, or one would lie
    outside `out_root` (a symbolic link in it leading elsewhere)."""
    folders: list[Path] = []
    owners: dict[str, str] = {}
    for scenario, path in runs:
        relative = identity.output_folder(path, scenario)
        run = identity.run_id(path, scenario)
        owner = owners.setdefault(relative, run)
        if owner != run:  # only names the encoding folds together, e.g. x.yml and x.yml.yaml
            click.echo(f"error: {owner} and {run} would share the output folder "
                       f"{out_root / relative}; rename one file", err=True)
            sys.exit(EXIT_BAD_INPUT)
        try:
            folders.append(confined_folder(out_root, relative))
        except OutsideOutputFolder:
            click.echo(f"error: {out_root / relative}: not inside {out_root} "
                       "(a symbolic link leads out of it)", err=True)
            sys.exit(EXIT_BAD_INPUT)
    return folders


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--seed", type=int, default=None, help="Override every scenario's seed.")
@click.option("--out", "out_root", type=click.Path(path_type=Path, file_okay=False),
              default=Path("reports"), show_default=True,
              help="Each run's output goes to OUT/<file's path in the suite, without "
                   ".yaml>/[<variant>/].")
@click.option("--junit", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("reports/junit.xml"), show_default=True,
              help="Where to write JUnit XML.")
@click.option("--key-cache", type=click.Path(path_type=Path, file_okay=False), default=None)
@click.option("--strict", is_flag=True,
              help="Operator warnings (a cli line IOS refuses, a prompt left without an "
                   "answer, answers left unused) fail the run, as 'strict: true' does.")
def check(paths: tuple[Path, ...], seed: int | None, out_root: Path, junit: Path,
          key_cache: Path | None, strict: bool) -> None:
    """Run many scenarios (files or folders; default scenarios/) and summarise.

    A run is named by its file's path relative to the suite root (the folder given, or
    the deepest folder holding every path given), not by its `name:`, which files may
    share: output folders, JUnit suites and the lines printed use that path."""
    console = _console()
    scenario_files = collect(paths)
    if not scenario_files:
        click.echo("error: no scenario files found", err=True)
        sys.exit(EXIT_BAD_INPUT)
    root = identity.suite_root(paths or DEFAULT_SUITE)
    runs: list[tuple[Scenario, str]] = []
    for file in scenario_files:
        suite_path = identity.suite_path(file, root)
        runs += [(scenario, suite_path) for scenario in _load_or_exit(file)]
    scenarios = [scenario for scenario, _ in runs]
    suite_paths = [suite_path for _, suite_path in runs]
    folders = _run_folders_or_exit(out_root, runs)
    results: list[RunResult] = []
    goldens: list[list[GoldenFile]] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("running scenarios", total=len(scenarios))
        for scenario, suite_path, out in zip(scenarios, suite_paths, folders, strict=True):
            progress.update(task, description=escape(scenario.full_name))
            try:
                result = run_scenario(scenario, seed=seed, key_cache=key_cache,
                                      strict=strict, setup=stream_output(out))
                write_output(result, out, path=suite_path)
                write_report(out)
            except OSError as error:  # an unwritable --out is bad usage, not a bad run
                click.echo(f"error: {out}: cannot write the output folder: "
                           f"{error.strerror or error}", err=True)
                sys.exit(EXIT_BAD_INPUT)
            # After the output folder: golden `show` commands must not touch what it holds.
            files = golden.compare(result, scenario.source) if scenario.source else []
            results.append(result)
            goldens.append(files)
            progress.advance(task)
    table = Table(title="pkilab check")
    for column in ("scenario", "seed", "expectations", "golden", "result"):
        table.add_column(column, overflow="fold")
    verdicts = [result.passed and all(f.matches for f in files)
                for result, files in zip(results, goldens, strict=True)]
    plain: list[str] = []
    ids = [identity.run_id(p, s) for s, p in runs]
    for result, files, ok, suite_path, run in zip(results, goldens, verdicts, suite_paths,
                                                  ids, strict=True):
        passed = sum(r.passed for r in result.results)
        same = f"{sum(f.matches for f in files)}/{len(files)}" if files else "-"
        verdict = "[green]pass[/green]" if ok else "[red]FAIL[/red]"
        # The name for people, the file beneath it: files may share a name.
        table.add_row(f"{escape(result.scenario.full_name)}\n[dim]{escape(suite_path)}[/dim]",
                      str(result.seed), f"{passed}/{len(result.results)}", same, verdict)
        plain.append(f"{'pass' if ok else 'FAIL'}  {run}  "
                     f"seed {result.seed}  expectations {passed}/{len(result.results)}  "
                     f"golden {same}")
    if console.is_terminal:
        console.print(table)
    else:
        # A CI log is read as text and searched: a table sized to 80 columns would fold
        # long scenario names mid-word, so each run is one whole line instead.
        console.print("pkilab check", markup=False)
        for words in plain:
            console.print(words, markup=False)
    for result, files, ok, run in zip(results, goldens, verdicts, ids, strict=True):
        for r in result.results:
            if not r.passed:
                console.print(f"[red]FAIL[/red] {escape(run)}: ", end="")
                console.print(f"{r.expectation.describe()} -- observed: {r.observed}",
                              markup=False)
        _print_warnings(console, result, "")
        for golden_file in files:
            if not golden_file.matches:
                console.print(f"[red]FAIL[/red] {escape(run)}: ", end="")
                diff = "" if golden_file.expected is None else " (diff in the JUnit XML)"
                console.print(_golden_summary(golden_file) + diff, markup=False)
        if not ok:
            console.print(f"  replay: {result.replay}", markup=False)
    write_junit(results, junit, goldens, ids)
    console.print(f"JUnit XML: {junit}", markup=False)
    sys.exit(EXIT_OK if all(verdicts) else EXIT_FAILED)


def _golden_summary(golden_file: GoldenFile) -> str:
    """One line about a golden file that fails; the diff itself goes to the JUnit XML."""
    if golden_file.expected is None:
        return f"golden file {golden_file.path} is missing ({golden.UPDATE_COMMAND} writes it)"
    return f"golden file {golden_file.path} differs from this run"


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--seeds", default="1-100", show_default=True,
              help="Seeds to run each scenario (and matrix variant) with: 1-10000, 7, 1,5,20-29.")
@click.option("--variants", multiple=True,
              help="Only these combinations of matrix files, as `run --variant` takes them "
                   "(repeatable; each applies to the files whose matrix has its axes; "
                   "default: every one).")
@click.option("--scheduler", default=None,
              help="A running Dask scheduler (tcp://host:8786); default: a LocalCluster "
                   "of this machine's cores on 127.0.0.1.")
@click.option("--workers", type=click.IntRange(1, 1024), default=None,
              help="Worker processes of the LocalCluster (default: the cores).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=Path("reports/sweep"), show_default=True,
              help="The sweep folder: sweep.json, junit.xml, runs/<file>/[<variant>/]seed-N/.")
@click.option("--junit", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Where to write JUnit XML (default: OUT/junit.xml).")
@click.option("--keep-all", is_flag=True,
              help="Keep every run's full output folder, not only those that did not pass.")
@click.option("--time-limit", type=click.FloatRange(min=0.001), default=600.0,
              show_default=True, help="Host seconds a run may take before it is recorded "
                                      "as a timeout.")
@click.option("--key-cache", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Key cache of every worker (default: each machine's own).")
@click.option("--strict", is_flag=True, help="Operator warnings fail a run.")
@click.option("--shrink", is_flag=True,
              help="For each cause of failure, re-run its first failing soak seed with faults "
                   "removed until only those that matter are left; write it as a scenario "
                   "file under OUT/shrunk/.")
def sweep(paths: tuple[Path, ...], seeds: str, variants: tuple[str, ...],
          scheduler: str | None, workers: int | None, out_dir: Path, junit: Path | None,
          keep_all: bool, time_limit: float, key_cache: Path | None, strict: bool,
          shrink: bool) -> None:
    """Run scenarios under many seeds on Dask distributed (files or folders; default
    scenarios/): every (scenario, variant, seed) is a task."""
    from sim.sweep import session

    scenario_files = collect(paths)
    if not scenario_files:
        click.echo("error: no scenario files found", err=True)
        sys.exit(EXIT_BAD_INPUT)
    try:
        options = session.Options(session.parse_seeds(seeds), variants, scheduler, workers,
                                  out_dir, junit, keep_all, time_limit, key_cache, strict,
                                  shrink, ["pkilab", "sweep", *sys.argv[2:]])
        code = session.sweep(scenario_files, identity.suite_root(paths or DEFAULT_SUITE),
                             options, _console())
    except session.SweepError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except OSError as error:  # an unreachable scheduler, an unwritable sweep folder
        click.echo(f"error: {error.strerror or error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:  # before the runs started, or while shrinking
        click.echo("interrupted", err=True)
        sys.exit(session.EXIT_INTERRUPTED)
    sys.exit(code)


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
def report(folder: Path) -> None:
    """Write report.html and report.md again for a kept output folder."""
    if not folder.is_dir():
        click.echo(f"error: {folder}: no such folder", err=True)
        sys.exit(EXIT_BAD_INPUT)
    missing = missing_inputs(folder)
    if missing:
        click.echo(f"error: {folder}: has no {' and no '.join(missing)} "
                   "(not a pkilab output folder?)", err=True)
        sys.exit(EXIT_BAD_INPUT)
    try:
        paths = write_report(folder)
    except (ValueError, KeyError) as error:
        click.echo(f"error: {folder}: cannot read the output folder: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    for path in paths:
        click.echo(f"report: {path}")


@main.command("fuzz-scenarios")
@click.option("--count", type=click.IntRange(1), default=10_000, show_default=True,
              help="How many mutated files.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the mutations; mutant i of a seed is always the same file.")
@click.option("--start", type=click.IntRange(0), default=0, show_default=True,
              help="Index of the first mutant (with --count 1: replay one mutant).")
@click.option("--scenarios", "folder", default=Path("scenarios"), show_default=True,
              type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="The scenario files to mutate (every *.yaml under it).")
@click.option("--run-limit", default=None,
              help="Run only the validated mutants whose runs last at most this long "
                   "(a duration, e.g. 1d); default: run every one.")
@click.option("--timeout", type=click.FloatRange(min=1), default=600.0, show_default=True,
              help="Host seconds after which a validate or run counts as never ending.")
@click.option("--keep", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Save the mutants that break the contract in this folder.")
def fuzz_scenarios(count: int, seed: int, start: int, folder: Path, run_limit: str | None,
                   timeout: float, keep: Path | None) -> None:
    """Fuzz scenario files: mutants through validate and run; print the counts."""
    import resource
    import tempfile
    import time

    from sim.scenario import fuzz, mutants

    try:
        limit = None if run_limit is None else parse_duration(run_limit)
    except ValueError as error:
        click.echo(f"error: --run-limit: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    sources = fuzz.shipped_sources(folder)
    if not sources:
        click.echo(f"error: {folder}: no *.yaml files to mutate", err=True)
        sys.exit(EXIT_BAD_INPUT)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pkilab-fuzz-") as work:
        # Keys of mutated seeds go to a cache of this session, not the user's.
        report = fuzz.fuzz(mutants.mutants(sources, seed, count, start), invoke_in_process,
                           Path(work), run_filter=None if limit is None else
                           (lambda path: _longest_run(path) <= limit),
                           timeout=timeout, keep=keep,
                           run_options=("--key-cache", str(Path(work) / "keys")))
    elapsed = time.perf_counter() - began
    click.echo(f"seed {seed}, mutants {start}..{start + count - 1} of {len(sources)} "
               f"scenario files under {folder}")
    for line in report.lines():
        click.echo(line)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    click.echo(f"wall time: {elapsed:.1f} s; peak RSS: {peak:.0f} MB")
    sys.exit(EXIT_OK if report.ok else EXIT_FAILED)


def invoke_in_process(args: list[str]) -> fuzz_types.Invocation:
    """`pkilab ARGS` in this process (click's CliRunner): exit code, stderr, traceback.

    What the scenario fuzzer (`sim.scenario.fuzz`) calls: a subprocess per command would
    cost a second of start-up each, ten thousand times over."""
    import traceback

    from click.testing import CliRunner

    from sim.scenario.fuzz import Invocation

    result = CliRunner().invoke(main, args)
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    text = "".join(traceback.format_exception(*result.exc_info)) if escaped and \
        result.exc_info else ""
    return Invocation(result.exit_code, result.stderr, text)


def _longest_run(path: Path) -> float:
    """The longest simulated run of a scenario file (0 if it does not load)."""
    try:
        return max(scenario.duration for scenario in load_scenarios(path))
    except ScenarioError:
        return 0.0


@main.command()
@click.option("--routers", type=click.IntRange(1, 1_000_000), default=10_000, show_default=True,
              help="Routers (flat: with the root; hierarchy: enrolling under the CAs).")
@click.option("--minutes", type=click.FloatRange(0.5, 24 * 60), default=None,
              help="Simulated minutes (flat case; default 10).")
@click.option("--enrolling", type=click.IntRange(0, 1_000_000), default=None,
              help="How many routers enroll with the root over SCEP (flat case; default 0).")
@click.option("--levels", type=click.IntRange(1, 8), default=None,
              help="CA levels of a hierarchy, root included (3: root, sub-CAs, sub-sub-CAs).")
@click.option("--fanout", type=click.IntRange(1, 1000), default=None,
              help="Subordinate CAs under each CA (hierarchy; default 10).")
@click.option("--key-bits", type=click.IntRange(1024, 2048), default=None,
              help="RSA key size of every CA and router (hierarchy; default 2048; the "
                   "floor's OpenSSL makes no key under 1024 bits, IOS 12.3 none over 2048).")
@click.option("--cold", is_flag=True,
              help="Start from an empty key cache (a fresh temporary folder): every key "
                   "is generated in the run.")
@click.option("--output", "output", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Also write the output folder and the report here, "
                                 "as `pkilab run --out` does: the trace and artifacts "
                                 "stream into it during the simulation, the rest is "
                                 "timed apart.")
@click.option("--tracemalloc", "trace_memory", is_flag=True,
              help="Also measure Python allocations with tracemalloc (slows the run).")
@click.option("--floor-after", is_flag=True,
              help="Measure the crypto floor all after the run, not in slices during it "
                   "(on a machine whose speed drifts, the ratio is then less steady).")
@click.option("--write-scenario", "scenario_file", type=click.Path(path_type=Path,
                                                                      dir_okay=False),
              default=None, help="Write the hierarchy as a scenario file for `pkilab run` "
                                 "instead of running it.")
@click.option("--idle-year", "idle_cas", type=click.IntRange(1, 10_000), default=None,
              metavar="CAS", help="Instead: a simulated year of CAS idle CAs publishing a "
                                  "CRL every 6 hours (RSA-1024), and its CRL-signing floor.")
def bench(routers: int, minutes: float | None, enrolling: int | None, levels: int | None,
          fanout: int | None, key_bits: int | None, cold: bool, output: Path | None,
          trace_memory: bool, floor_after: bool, scenario_file: Path | None,
          idle_cas: int | None) -> None:
    """Measure how fast and how big a run of many routers is, and its ratio to the crypto
    floor of the same work (numbers, not a test)."""
    from sim.bench import measure, measure_scenario
    from sim.bench_hierarchy import HierarchyError, Shape, build_hierarchy
    from sim.scenario.writer import scenario_yaml

    def usage(message: str) -> None:
        click.echo(f"error: {message}", err=True)
        sys.exit(EXIT_BAD_INPUT)

    if idle_cas is not None:
        if levels is not None or enrolling is not None or output is not None:
            usage("--idle-year is a case of its own: drop --levels, --enrolling and --output")
        from sim.scenario.bench import measure_idle_year

        for line in measure_idle_year(idle_cas).lines():
            click.echo(line)
        return
    if levels is None:
        for given, flag in ((fanout, "--fanout"), (key_bits, "--key-bits"),
                            (scenario_file, "--write-scenario")):
            if given is not None:
                usage(f"{flag} belongs to the hierarchy case: give --levels too")
        if routers < 2:
            usage("the flat case needs --routers 2 at least (the root and one router)")
        report = measure(routers, 10.0 if minutes is None else minutes, enrolling or 0,
                         cold=cold, output=output, trace_memory=trace_memory,
                         floor_after=floor_after)
    else:
        if minutes is not None or enrolling is not None:
            usage("--minutes and --enrolling belong to the flat case; a hierarchy's "
                  "routers all enroll, and it runs until they have")
        shape = Shape(levels, 10 if fanout is None else fanout, routers,
                      2048 if key_bits is None else key_bits)
        try:
            scenario = build_hierarchy(shape)
        except HierarchyError as error:
            usage(str(error))
            return
        if scenario_file is not None:
            scenario_file.write_text(scenario_yaml(scenario), encoding="utf-8")
            click.echo(f"wrote {scenario_file}: {shape.total} routers; "
                       f"run it with: pkilab run {scenario_file}")
            return
        title = (f"hierarchy: {levels} levels, fanout {shape.fanout}: {shape.ca_count} CAs "
                 f"and {routers} routers ({shape.total} in all), RSA-{shape.key_bits}")
        report = measure_scenario(scenario, title, shape.key_bits, cold=cold, output=output,
                                  trace_memory=trace_memory, floor_after=floor_after)
    for line in report.lines():
        click.echo(line)


@main.command("bench-serve")
@click.option("--requests", type=click.IntRange(1), default=40_000, show_default=True)
@click.option("--clients", type=click.IntRange(1), default=4, show_default=True,
              help="Client threads sending them.")
@click.option("--pool", type=click.IntRange(1), default=16, show_default=True,
              help="Distinct enrollments, resent (a resent PKCSReq is a poll).")
@click.option("--keep-artifacts", type=click.IntRange(-1), default=1000, show_default=True,
              help="Artifacts the CA keeps in memory (-1: all, as batch runs do).")
@click.option("--keep-trace", type=click.IntRange(-1), default=10_000, show_default=True,
              help="Trace events kept in memory (-1: all, as batch runs do).")
def bench_serve(requests: int, clients: int, pool: int, keep_artifacts: int,
                keep_trace: int) -> None:
    """Serve a simulated CA on 127.0.0.1 to many real SCEP requests: requests per second
    and memory growth (numbers, not a test)."""
    from sim.router.bench import CaDidNotComeUp, measure_served

    try:
        lines = measure_served(requests, clients, pool,
                               None if keep_artifacts < 0 else keep_artifacts,
                               None if keep_trace < 0 else keep_trace)
    except CaDidNotComeUp as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    for line in lines:
        click.echo(line)


def write_junit(results: list[RunResult], path: Path,
                goldens: list[list[GoldenFile]] | None = None,
                ids: list[str] | None = None) -> None:
    """One testsuite per run, one testcase per expectation and per golden file (whose
    failure text is the unified diff, what a CI page shows).

    A suite and its cases are named by the run's id (`ids`, `path::name[variant]`; the
    run's full name when not given) and carry the `file` they come from: the scenario
    file as it was loaded, with the expectation's `line`, or the golden file."""
    suites = ElementTree.Element("testsuites", name="pkilab")
    names = ids or [result.scenario.full_name for result in results]
    for result, files, name in zip(results, goldens or [[] for _ in results], names,
                                   strict=True):
        failures = sum(not r.passed for r in result.results)
        failures += sum(not f.matches for f in files)
        source = {"file": str(result.scenario.source)} if result.scenario.source else {}
        suite = ElementTree.SubElement(suites, "testsuite", {
            "name": name, "tests": str(len(result.results) + len(files)),
            "failures": str(failures), "errors": "0", **source})
        for r in result.results:
            line = {"line": str(r.expectation.line)} if r.expectation.line else {}
            case = ElementTree.SubElement(suite, "testcase", {
                "classname": name, "name": r.expectation.describe(), **source, **line})
            if not r.passed:
                failure = ElementTree.SubElement(case, "failure", message=r.observed)
                failure.text = "\n".join(r.context)
        for golden_file in files:
            case = ElementTree.SubElement(suite, "testcase", classname=name,
                                          name=f"golden {golden_file.name}",
                                          file=str(golden_file.path))
            if not golden_file.matches:
                failure = ElementTree.SubElement(case, "failure",
                                                 message=_golden_summary(golden_file))
                failure.text = golden_file.problem()
        _junit_warnings(suite, name, result)
    path.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def _junit_warnings(suite: ElementTree.Element, name: str, result: RunResult) -> None:
    """A strict run's operator warnings are one failing testcase, `operator warnings`;
    a lenient run's go to the suite's `system-err`, where a CI page shows them."""
    if not result.warnings:
        return
    text = "\n".join(warning.describe() for warning in result.warnings)
    if not result.strict:
        ElementTree.SubElement(suite, "system-err").text = text
        return
    case = ElementTree.SubElement(suite, "testcase", classname=name, name="operator warnings")
    failure = ElementTree.SubElement(case, "failure", message=result.warnings[0].describe())
    failure.text = text
    suite.set("tests", str(int(suite.get("tests", "0")) + 1))
    suite.set("failures", str(int(suite.get("failures", "0")) + 1))


if __name__ == "__main__":
    main()
