"""Golden files: console transcripts and `show` output a scenario pins byte for byte.

Expectations check a handful of facts; a teaching transcript or a regression suite also
cares about everything else a person reads: wording, order, timestamps, the debug lines.
A scenario names what to pin::

    golden:
      transcripts: [ca]                                   # transcripts/<router>.txt
      show:
        - {router: ca, command: show crypto pki server}   # run at the end of the run

and the expected bytes live beside the scenario, where a reviewer sees them change in the
same commit as the scenario::

    clock-not-set.yaml
    clock-not-set.golden/ca.txt
    clock-not-set.golden/ca--show_crypto_pki_server.txt
    matrix-x.golden/<variant>/...    (one folder per run of a matrix file)

This module is shared by the pytest plugin (`sim.pytest_plugin`) and `pkilab check`, so
both judge the same bytes. `compare` only reads; `write` is what `pytest --update-golden`
does. Golden files never change unless asked: a missing one is a failure, not a silent
first write, or a typo in a router name would pass forever.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.kernel.transcript import transcript_text
from sim.scenario.replay import variant_folder
from sim.scenario.schema_errors import did_you_mean
from sim.scenario.yaml_lines import JsonPath

if TYPE_CHECKING:
    from sim.scenario.builder import Builder
    from sim.scenario.model import Scenario
    from sim.scenario.runner import RunResult

UPDATE_COMMAND = "pytest --update-golden"
"""What a person runs to accept a run's output as the new golden files."""



def command_file_part(command: str) -> str:
    """A command as part of a file name: spaces become `_`, and so do characters a file
    system may refuse (`show crypto pki server` -> `show_crypto_pki_server`)."""
    return variant_folder("_".join(command.split()))


# -- the model -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldenShow:
    """A show command run as an invisible observer once the run is over."""

    router: str
    command: str
    line: int = 0

    @property
    def file_name(self) -> str:
        return f"{self.router}--{command_file_part(self.command)}.txt"


@dataclass(frozen=True)
class GoldenSpec:
    """A scenario's `golden:`; `line` is the line of the `golden:` key."""

    transcripts: tuple[str, ...] = ()
    show: tuple[GoldenShow, ...] = ()
    line: int = 0

    def file_names(self) -> list[str]:
        """The golden files of one run, transcripts first, in file order."""
        return [f"{router}.txt" for router in self.transcripts] + [
            show.file_name for show in self.show
        ]


def parse(spec: dict[str, Any], path: JsonPath, builder: Builder) -> GoldenSpec:
    """Check `golden:` (the schema has checked its shape) against the routers.

    Two entries that would write the same file are an error too: one would silently
    overwrite the other's expected bytes.
    """
    written: dict[str, JsonPath] = {}

    def claim(name: str, where: JsonPath, what: str) -> None:
        if name in written:
            first = builder.errors.line(written[name])
            builder.fail(where, f"{what} is given twice (first on line {first}); both would "
                                f"write the golden file {name}")
        written[name] = where

    transcripts = []
    for index, router in enumerate(spec.get("transcripts", [])):
        where = path + ("transcripts", index)
        transcripts.append(_known_router(builder, router, where))
        claim(f"{router}.txt", where, f"the transcript of {router}")
    shows = []
    for index, item in enumerate(spec.get("show", [])):
        where = path + ("show", index)
        router = _known_router(builder, item["router"], where + ("router",))
        command = " ".join(item["command"].split())
        if not command:
            builder.fail(where + ("command",), "is blank")
        show = GoldenShow(router, command, builder.errors.line(where))
        claim(show.file_name, where, f"{router}: {command!r}")
        shows.append(show)
    return GoldenSpec(tuple(transcripts), tuple(shows), builder.errors.line(path))


def _known_router(builder: Builder, name: str, where: JsonPath) -> str:
    if name not in builder.routers:
        hint = did_you_mean(name, builder.routers)
        builder.fail(where, f"unknown router '{name}'{hint} "
                            f"(routers are: {', '.join(builder.routers)})")
    return name


# -- comparing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldenFile:
    """One golden file of a run: what is on disk (None: no file yet) and what the run gave."""

    name: str
    """The file as messages show it: its path relative to the scenario's folder."""
    path: Path
    expected: bytes | None
    actual: bytes

    @property
    def matches(self) -> bool:
        return self.expected == self.actual

    def problem(self) -> str:
        """Why this file fails, for a test report: a missing file, or a unified diff."""
        if self.expected is None:
            return (f"golden file {self.path} does not exist; "
                    f"run `{UPDATE_COMMAND}` to write it from this run")
        diff = unified_diff(self.expected, self.actual, f"{self.path} (golden)",
                            f"{self.name} (this run)")
        return (f"golden file {self.path} differs from this run "
                f"(`{UPDATE_COMMAND}` accepts the change):\n{diff}")


def golden_dir(scenario: Scenario, scenario_path: Path) -> Path:
    """`<stem>.golden/` beside the scenario file, plus `<variant>/` for a matrix run."""
    folder = scenario_path.parent / f"{scenario_path.stem}.golden"
    return folder / variant_folder(scenario.variant) if scenario.variant else folder


def actual_files(result: RunResult) -> dict[str, bytes]:
    """The bytes a finished run gives for each golden file its scenario declares."""
    spec = result.scenario.golden
    if spec is None:
        return {}
    trace = result.world.env.trace
    files = {f"{router}.txt": transcript_text(trace, router).encode("utf-8")
             for router in spec.transcripts}
    for show in spec.show:
        output = result.world.routers[show.router].observe(show.command)
        files[show.file_name] = "".join(f"{line}\n" for line in output).encode("utf-8")
    return files


def compare(result: RunResult, scenario_path: Path) -> list[GoldenFile]:
    """Every golden file of the run, with the bytes on disk next to the run's bytes.

    `scenario_path` is the scenario file (the golden folder sits beside it); it is passed
    in rather than read from `scenario.source` so a caller may resolve it as it likes.
    """
    folder = golden_dir(result.scenario, scenario_path)
    found = []
    for name, actual in actual_files(result).items():
        path = folder / name
        try:
            expected: bytes | None = path.read_bytes()
        except FileNotFoundError:
            expected = None
        display = str(path.relative_to(scenario_path.parent))
        found.append(GoldenFile(display, path, expected, actual))
    return found


def write(files: list[GoldenFile]) -> list[GoldenFile]:
    """Write each file whose bytes differ from the run's; return those written."""
    changed = [golden for golden in files if not golden.matches]
    for golden in changed:
        golden.path.parent.mkdir(parents=True, exist_ok=True)
        golden.path.write_bytes(golden.actual)
    return changed


def unified_diff(expected: bytes, actual: bytes, from_name: str, to_name: str) -> str:
    """A unified diff of two texts; says so when they differ only in invisible bytes."""
    old = expected.decode("utf-8", errors="replace").splitlines(keepends=True)
    new = actual.decode("utf-8", errors="replace").splitlines(keepends=True)
    lines = list(difflib.unified_diff(old, new, from_name, to_name))
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)
    if not text:  # e.g. only the encoding of a byte differs
        return f"--- {from_name}\n+++ {to_name}\n(the files differ in bytes the text hides)\n"
    return text
