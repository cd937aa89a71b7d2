"""Operator warnings: the mistakes a scenario's typing makes, with the file line that made them.

A typo in a `cli` block (`crypto pki sever sub1`) makes the simulated router print
`% Invalid input detected at '^' marker.`, and the run went on to fail much later for a
reason that did not point at the typo. Now each of these is a warning carrying the
event's `file:line`, the router, what was typed and what IOS answered:

- a `cli` line IOS refuses: `% Invalid input detected at '^' marker.`, `% Incomplete
  command.`, `% Ambiguous command:  "..."`, `% Unknown command or computer name, ...` (a
  single unknown word in EXEC, which IOS takes as a host to telnet to), a bad `| include`
  regex (trace: `cli/error`, with the kind);
- a prompt no answer was left for, which the console answers with a bare Return
  (`console/input.missing`);
- answers left over when the event's lines have all run, and `answers:` keys that
  matched no prompt (`console/input.unused`).

The router's console tags the trace events with the batch's source, `file.yaml:42`
(`Router.type_lines(source=...)`), and `WarningCollector` listens to the trace while the
run plays, so a run whose trace keeps only its last events (`Trace.retain`) loses none.

A `cli` event that makes its mistakes on purpose (a lab showing what a typo does) says
`expect_warnings: true`: its warnings are not reported, and an event so marked that
raised none is a warning of its own, so the mark cannot outlive the mistake it excuses.

Warnings never change a transcript. `--strict` (or `strict: true` in the file) makes
them fail the run (`RunResult.passed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.kernel.trace import TraceEvent
from sim.scenario.model import CliEvent, Scenario

KINDS = ("invalid", "incomplete", "ambiguous", "unknown", "regex", "unanswered", "unused",
         "expected")
"""Every kind of warning: the four IOS parse refusals and a bad regex (`cli/error`), a
prompt left without an answer, answers left over, and an `expect_warnings` with none."""


@dataclass(frozen=True)
class OperatorWarning:
    """One mistake of a scenario's typing. `file` is the scenario file as given (the
    scenario's name for one loaded from text), `line` the `cli` event's line, `typed`
    the line typed (the prompt, for a prompt left without an answer), `message` what
    IOS printed, or what pkilab saw, `t` the simulated time."""

    file: str
    line: int
    router: str
    kind: str
    typed: str
    message: str
    t: float

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def describe(self) -> str:
        """One line: `file:line: router: what happened`."""
        return f"{self.where}: {self.router}: {self.summary()}"

    def summary(self) -> str:
        """What happened, without where."""
        if self.kind in ("unanswered", "unused", "expected"):
            return self.message
        return f"{self.typed.strip()!r}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """As `summary.json` keeps it: the file is the summary's own `file`."""
        return {"line": self.line, "router": self.router, "kind": self.kind,
                "typed": self.typed, "message": self.message, "t": round(self.t, 6)}


def source_file(scenario: Scenario) -> str:
    """The file name the trace's source tags use: the same whatever path the file was
    run by, so that output folders stay byte-identical."""
    return scenario.source.name if scenario.source is not None else scenario.name


_NAMES = frozenset({"event", "error", "input.missing", "input.unused"})
"""The names of the events `WarningCollector` looks at (scenario, cli and console ones)."""


class WarningCollector:
    """Subscribed to a run's trace: turns the tagged mistakes into `OperatorWarning`s."""

    def __init__(self, scenario: Scenario) -> None:
        self.file = str(scenario.source) if scenario.source is not None else scenario.name
        tag = source_file(scenario)
        self._events: dict[str, CliEvent] = {
            f"{tag}:{event.line}": event for event in scenario.events
            if isinstance(event, CliEvent) and event.line}
        self._played: set[int] = set()
        self._excused: dict[str, int] = {}
        self.found: list[OperatorWarning] = []

    def __call__(self, event: TraceEvent) -> None:
        # Called for every event of the run; only these names can matter (`_warning`,
        # and a scenario event played), so the rest (a third of a run's events are
        # console lines) go at one set lookup.
        if event.name not in _NAMES:
            return
        data = event.data
        if event.category == "scenario" and event.name == "event":
            self._played.add(int(data.get("line") or 0))
            return
        source = data.get("source")
        if not isinstance(source, str) or source not in self._events:
            return  # typed by code, or at a live console: no file line to blame
        found = self._warning(event, source)
        if found is None:
            return
        if self._events[source].expect_warnings:
            self._excused[source] = self._excused.get(source, 0) + 1
        else:
            self.found.append(found)

    def _warning(self, event: TraceEvent, source: str) -> OperatorWarning | None:
        data = event.data
        line = self._events[source].line
        router = event.router or ""
        if event.category == "cli" and event.name == "error":
            return OperatorWarning(self.file, line, router, str(data["kind"]),
                                   str(data["line"]), str(data["message"]), event.t)
        if event.category != "console":
            return None
        if event.name == "input.missing":
            prompt = str(data["prompt"])
            return OperatorWarning(self.file, line, router, "unanswered", prompt,
                                   f"no answer for the prompt {prompt.strip()!r} (Return "
                                   "was pressed)", event.t)
        if event.name == "input.unused":
            parts = []
            if data.get("answers"):
                parts.append(f"{len(data['answers'])} input answer(s) left unused: "
                             f"{data['answers']}")
            if data.get("prompts"):
                parts.append(f"answers for prompts never asked: {data['prompts']}")
            return OperatorWarning(self.file, line, router, "unused", "", "; ".join(parts),
                                   event.t)
        return None

    def finish(self) -> list[OperatorWarning]:
        """The warnings in the order they happened, with one for each `expect_warnings`
        event that played and raised none."""
        found = list(self.found)
        for source, event in self._events.items():
            if event.expect_warnings and event.line in self._played \
                    and not self._excused.get(source):
                found.append(OperatorWarning(
                    self.file, event.line, event.router, "expected", "",
                    "expect_warnings: true, but IOS refused nothing and every prompt had "
                    "its answer", event.at))
        return sorted(found, key=lambda w: w.t)
