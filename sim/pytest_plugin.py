"""pytest plugin: a folder of scenario files is a regression suite (`pytest scenarios/`).

Registered through the `pytest11` entry point, so installing pkilab is all it takes; pytest's
own machinery then gives a suite of failure modes what a CI needs: selection (`-k dns`),
parallel runs (`-n auto` with pytest-xdist: every run builds its own world, so items are
independent), JUnit XML, and re-running only the failures.

Which files are collected. pytest offers every file under the given paths to every plugin,
and a project may keep deliberately broken scenarios as test fixtures (pkilab's own
`tests/fixtures/scenarios/`). So the rule is about the path given to pytest (on the command
line, or in `testpaths`), not about where a file happens to sit:

- `*.yaml` under a given path that is a folder named `scenarios` or lies inside one
  (`pytest scenarios/`, `pytest scenarios/clock`);
- a `*.yaml` file given by name, wherever it is;
- with `--pkilab-scenarios`, `*.yaml` under any given path.

Of those, a file is a scenario when it is a YAML mapping with `routers:`, or with `name:`
and another scenario key (`description`, `duration`, `events`, `expect`, `matrix`), so a
scenario that lost its `routers:` is still reported; other YAML is skipped quietly. A file
that is not even valid YAML is reported when it has a top-level `routers:` line.

What an item is. Each run is one item: a plain file gives `file.yaml::name`, a matrix file
one item per combination, `file.yaml::name[fault=dns,grant=auto]`. `file.yaml` is the file's
path relative to pytest's rootdir, so two files sharing a `name:` stay two tests, and
`--pkilab-out DIR` keeps each run under that path without `.yaml` (`sim.scenario.identity`):
`DIR/scenarios/tiny/`, `DIR/scenarios/grid/fault=dns,grant=auto/`. A file the loader
rejects is a collection error carrying the loader's `file:line: message`, no traceback. A
failing item says which expectation failed (file and line), what it expected, what was
observed, the last relevant console lines, and the one-line replay command; a golden-file
mismatch (`sim.scenario.golden`) shows a unified diff. An operator warning (a `cli` line
IOS refused, a prompt left without an answer: `sim.scenario.operator_warnings`) is a
`ScenarioWarning` in pytest's warnings summary, or a failure with `--pkilab-strict` or
`strict: true` in the file.

Only pytest, yaml and the standard library are imported at start-up: the plugin loads in
every pytest session of an environment where pkilab is installed, and the simulator's
imports would slow all of them. The simulator is imported when a scenario is collected.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr

    from sim.scenario.expectations import ExpectationResult
    from sim.scenario.golden import GoldenFile
    from sim.scenario.model import Scenario
    from sim.scenario.runner import RunResult

_SCENARIO_KEYS = frozenset({"description", "duration", "events", "expect", "matrix"})
_ROUTERS_LINE = re.compile(rb"^routers[ \t]*:", re.MULTILINE)
_ROOTS = pytest.StashKey[list[tuple[Path, bool]]]()
_WRITTEN = "pkilab golden file written"
"""The `user_properties` key of a golden file `--update-golden` wrote (it travels with the
report, so the summary also works across pytest-xdist workers)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pkilab", "pkilab scenario files")
    group.addoption("--pkilab-out", metavar="DIR", default=None,
                    help="Keep each scenario run's output folder (with report.html) "
                         "under DIR/<file's path from the rootdir, without .yaml>/"
                         "[<variant>/].")
    group.addoption("--pkilab-seed", metavar="N", type=int, default=None,
                    help="Run every scenario with seed N instead of its own.")
    group.addoption("--pkilab-scenarios", action="store_true", default=False,
                    help="Collect scenario *.yaml under any given path, not only under "
                         "folders named 'scenarios'.")
    group.addoption("--pkilab-strict", action="store_true", default=False,
                    help="Operator warnings (a cli line IOS refuses, a prompt left without "
                         "an answer, answers left unused) fail the run, as 'strict: true' "
                         "in a file does; without it they are pytest warnings.")
    group.addoption("--update-golden", action="store_true", default=False,
                    help="Rewrite golden files (scenario <stem>.golden/ folders, pkilab's "
                         "tests/golden/) from this run instead of comparing with them.")


def pytest_report_header(config: pytest.Config) -> list[str]:
    notes = []
    if config.getoption("pkilab_seed") is not None:
        notes.append(f"seed {config.getoption('pkilab_seed')} for every scenario")
    if config.getoption("pkilab_out"):
        notes.append(f"output folders under {config.getoption('pkilab_out')}")
    if config.getoption("update_golden"):
        notes.append("golden files are rewritten, not compared")
    if config.getoption("pkilab_strict"):
        notes.append("operator warnings fail runs")
    return [f"pkilab: {', '.join(notes)}"] if notes else []


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    if file_path.suffix != ".yaml" or not _wanted(file_path, parent.config):
        return None
    if not _looks_like_scenario(file_path):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


def _wanted(file_path: Path, config: pytest.Config) -> bool:
    """Whether the collection rule (module docstring) takes this file."""
    roots = config.stash.get(_ROOTS, None)
    if roots is None:
        everywhere = bool(config.getoption("pkilab_scenarios"))
        base = config.invocation_params.dir
        roots = []
        for arg in config.args:
            root = Path(os.path.abspath(base / arg.split("::")[0]))
            roots.append((root, everywhere or "scenarios" in root.parts))
        config.stash[_ROOTS] = roots
    path = Path(os.path.abspath(file_path))
    return any(path == root or (deep and root in path.parents) for root, deep in roots)


def _looks_like_scenario(path: Path) -> bool:
    try:
        raw = path.read_bytes()
    except OSError:
        return False
    try:
        data = yaml.safe_load(raw)
    except Exception:  # not only YAMLError: a `2005-02-30` timestamp is a ValueError
        return _ROUTERS_LINE.search(raw) is not None
    if not isinstance(data, dict):
        return False
    return "routers" in data or ("name" in data and not _SCENARIO_KEYS.isdisjoint(data))


def _shown(path: Path) -> Path:
    """`path` relative to the working directory when it is under it: what messages and
    replay commands show, and still a path that opens the file."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


class ScenarioWarning(UserWarning):
    """An operator warning of a scenario run (`sim.scenario.operator_warnings`): shown in
    pytest's warnings summary; `--pkilab-strict`, `strict: true` in the file, or
    `-W error::sim.pytest_plugin.ScenarioWarning` make it a failure."""


class ScenarioFailed(Exception):
    """A run broke an expectation or a golden file; `str()` is the whole report."""


class ScenarioFile(pytest.File):
    """A scenario file: one item per run (per combination of a `matrix:`)."""

    def collect(self) -> Iterator[ScenarioItem]:
        from sim.scenario.loader import ScenarioError, load_scenarios

        try:
            runs = load_scenarios(_shown(self.path))
        except ScenarioError as error:
            raise self.CollectError(str(error)) from None
        for scenario in runs:
            yield ScenarioItem.from_parent(self, name=scenario.full_name, scenario=scenario,
                                           suite_path=self.nodeid)


class ScenarioItem(pytest.Item):
    """One run of a scenario: play it, check its expectations and golden files."""

    def __init__(self, *, scenario: Scenario, suite_path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.suite_path = suite_path
        """The file's part of the node id: its path from the rootdir, what names the run."""

    def runtest(self) -> None:
        from sim.report import write_report
        from sim.scenario import golden
        from sim.scenario.identity import output_folder
        from sim.scenario.output import OutsideOutputFolder, confined_folder, write_output
        from sim.scenario.runner import run_scenario

        config = self.config
        result = run_scenario(self.scenario, seed=config.getoption("pkilab_seed"),
                              strict=bool(config.getoption("pkilab_strict")))
        if not result.strict:
            for warning in result.warnings:
                # Filed at the scenario's line, so the summary shows the YAML line itself.
                message = f"{warning.router}: {warning.summary()}"
                warnings.warn_explicit(ScenarioWarning(message), ScenarioWarning,
                                       str(_shown(self.path)), warning.line)
        folder = None
        if config.getoption("pkilab_out"):
            out = config.invocation_params.dir / config.getoption("pkilab_out")
            try:
                folder = _shown(confined_folder(out, output_folder(self.suite_path,
                                                                   self.scenario)))
            except OutsideOutputFolder as error:
                pytest.fail(f"--pkilab-out: {out / str(error)} is not inside {out} "
                            "(a symbolic link leads out of it)", pytrace=False)
            write_output(result, folder, path=self.suite_path)  # before golden show commands
            write_report(folder)
        files = golden.compare(result, _shown(self.path))
        if config.getoption("update_golden"):
            for written in golden.write(files):
                self.user_properties.append((_WRITTEN, str(written.path)))
            files = []
        if not result.passed or any(not f.matches for f in files):
            raise ScenarioFailed(failure_report(result, files, folder))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"scenario {self.scenario.full_name}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    written = sorted({value for reports in terminalreporter.stats.values() for report in reports
                      for key, value in getattr(report, "user_properties", ())
                      if key == _WRITTEN})
    if written:
        terminalreporter.write_sep("-", f"pkilab: {len(written)} golden file(s) written")
        for path in written:
            terminalreporter.write_line(path)


# -- the failure report ----------------------------------------------------------------------


def failure_report(result: RunResult, files: list[GoldenFile], folder: Path | None) -> str:
    """Everything a person needs to see why a run failed, and how to get it again."""
    scenario = result.scenario
    failed = [r for r in result.results if not r.passed]
    differing = [f for f in files if not f.matches]
    missing = sum(f.expected is None for f in differing)
    problems = []
    if failed:
        problems.append(f"{len(failed)} of {len(result.results)} expectations failed")
    if len(differing) > missing:
        problems.append(f"{len(differing) - missing} of {len(files)} golden files differ")
    if missing:
        problems.append(f"{missing} of {len(files)} golden files are missing")
    if result.strict_failure:
        problems.append(f"{len(result.warnings)} operator warning(s) in a strict run")
    lines = [f"scenario {scenario.full_name} (seed {result.seed}): {'; '.join(problems)}"]
    for r in failed:
        lines += ["", f"{scenario.source}:{r.expectation.line}: expectation failed",
                  f"  expected: {r.expectation.describe()}",
                  f"  observed: {r.observed}"]
        label, context = _evidence(result, r)
        if context:
            lines.append(f"  {label}:")
            lines += [f"    | {line}".rstrip() for line in context]
    if result.strict and result.warnings:
        lines += ["", "operator warnings (strict):"]
        lines += [f"  {warning.describe()}" for warning in result.warnings]
    for golden_file in differing:
        lines += ["", golden_file.problem().rstrip("\n")]
    if folder is not None:
        lines += ["", f"output: {folder}/ (report.html)"]
    lines += ["", f"replay: {result.replay}"]
    return "\n".join(lines)


def _evidence(result: RunResult, r: ExpectationResult) -> tuple[str, tuple[str, ...]]:
    """The lines that show why `r` failed, and what they are: the check's own context, else
    the router's console up to the moment the check was made."""
    from sim.kernel.transcript import transcript_entries
    from sim.scenario.expectations import TAIL_LINES
    from sim.scenario.model import NvramFileExpect, ShowExpect, TranscriptExpect

    e = r.expectation
    if r.context:
        match e:
            case ShowExpect():
                return f"output of {e.command!r} on {e.router}", r.context
            case NvramFileExpect():
                return f"nvram of {e.router}", r.context
            case TranscriptExpect(negate=True):
                return f"matching lines of {e.router}'s transcript", r.context
            case TranscriptExpect():
                return f"last lines of {e.router}'s transcript", r.context
        return "context", r.context
    if e.router not in result.world.routers:
        return "", ()
    entries = [entry.text for entry in transcript_entries(result.world.env.trace, e.router)
               if entry.t <= r.evaluated_at]
    return f"last lines of {e.router}'s transcript", tuple(entries[-TAIL_LINES:])
