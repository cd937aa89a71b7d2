"""What a sweep shows while it runs and when it ends.

On a terminal: a rich progress bar with the pass/fail counts and the rate. Elsewhere (a
CI log, read as text and searched): a line per run that did not pass, as it arrives, and
a progress line every tenth of the sweep. At the end, the summary table per scenario and
variant with the failing seeds and their replay lines, and the triage groups.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from sim.sweep.tasks import ERROR, FAIL, PASS, TIMEOUT, RunOutcome
from sim.sweep.triage import Group

REPLAYS_SHOWN = 3
"""Failing seeds whose replay line the table shows per scenario and variant; the rest
are in sweep.json."""


class SweepProgress:
    """Counts and shows outcomes as they arrive (a context manager)."""

    def __init__(self, console: Console, total: int) -> None:
        self.console = console
        self.total = total
        self.counts: Counter[str] = Counter()
        self.began = time.perf_counter()
        self._next_line = max(1, total // 10)
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> SweepProgress:
        if self.console.is_terminal:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[counts]}"),
                                 TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                                 console=self.console, transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task("sweep", total=self.total, counts="",
                                            rate="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def rate(self) -> float:
        elapsed = time.perf_counter() - self.began
        return self.done / elapsed if elapsed > 0 else 0.0

    def counts_text(self) -> str:
        text = f"{self.counts[PASS]} pass, {self.counts[FAIL]} fail"
        for status in (TIMEOUT, ERROR):
            if self.counts[status]:
                text += f", {self.counts[status]} {status}"
        return text

    def add(self, outcome: RunOutcome) -> None:
        self.counts[outcome.status] += 1
        if self._bar is not None and self._task is not None:
            style = "red" if self.counts[FAIL] + self.counts[TIMEOUT] + self.counts[ERROR] \
                else "green"
            self._bar.update(self._task, advance=1,
                             counts=f"[{style}]{escape(self.counts_text())}[/{style}]",
                             rate=f"{self.rate():.1f} runs/s")
            return
        if not outcome.passed:
            self.console.print(run_line(outcome), markup=False)
        if self.done % self._next_line == 0 or self.done == self.total:
            self.console.print(f"progress: {self.done}/{self.total} runs, "
                               f"{self.counts_text()}, {self.rate():.1f} runs/s",
                               markup=False)


def run_line(outcome: RunOutcome) -> str:
    """`FAIL path[variant] seed N: what broke` for a run that did not pass."""
    where = outcome.path + (f"[{outcome.variant}]" if outcome.variant else "")
    if outcome.status == FAIL:
        what = "; ".join(f.description for f in outcome.failures) or "failed"
    else:
        lines = [line for line in outcome.error.strip().splitlines() if line.strip()]
        what = lines[-1].strip() if lines else outcome.status
    return f"{outcome.status.upper()} {where} seed {outcome.seed}: {what}"


def print_summary(console: Console, rows: list[dict[str, Any]], groups: list[Group]) -> None:
    """The table per scenario and variant, then the triage groups, one line each."""
    if console.is_terminal:
        table = Table(title="pkilab sweep")
        for column in ("scenario", "runs", "pass", "fail", "timeout", "error",
                       "failing seeds"):
            table.add_column(column, overflow="fold")
        for row in rows:
            name = row["path"] + (f"[{row['variant']}]" if row["variant"] else "")
            table.add_row(escape(name), str(row["runs"]), str(row[PASS]), str(row[FAIL]),
                          str(row[TIMEOUT]), str(row[ERROR]),
                          escape(_seeds(row["failing"])))
        console.print(table)
    else:
        console.print("pkilab sweep", markup=False)
        for row in rows:
            name = row["path"] + (f"[{row['variant']}]" if row["variant"] else "")
            seeds = f"  failing seeds {_seeds(row['failing'])}" if row["failing"] else ""
            console.print(f"{name}  runs {row['runs']}  pass {row[PASS]}  fail {row[FAIL]}"
                          f"  timeout {row[TIMEOUT]}  error {row[ERROR]}{seeds}",
                          markup=False)
    for row in rows:
        for failing in row["failing"][:REPLAYS_SHOWN]:
            console.print(f"  replay: {failing['replay']}", markup=False)
        if len(row["failing"]) > REPLAYS_SHOWN:
            console.print(f"  ... {len(row['failing']) - REPLAYS_SHOWN} more failing seeds "
                          "in sweep.json", markup=False)
    if groups:
        console.print(f"triage: {sum(g.count for g in groups)} failing runs in "
                      f"{len(groups)} group(s)", markup=False)
        for group in groups:
            console.print(f"  {group.line()}", markup=False)


def _seeds(failing: list[dict[str, Any]], shown: int = 10) -> str:
    seeds = [str(item["seed"]) for item in failing[:shown]]
    more = f" (+{len(failing) - shown})" if len(failing) > shown else ""
    return ", ".join(seeds) + more
