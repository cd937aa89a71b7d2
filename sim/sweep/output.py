"""The sweep folder: what a sweep leaves on disk.

    sweep.json                       the aggregate: counts, per (scenario, variant) the
                                     failing seeds with their replay lines, the triage
                                     groups, every run's status, whether it was interrupted
    junit.xml                        one testsuite per (scenario, variant), a testcase per seed
    runs/<file>/[<variant>/]seed-N/  per run: summary.json (the worker's outcome)
        output/                      the run's full output folder (as `pkilab run` writes
                                     it), for a run that did not pass, or every run with
                                     `--keep-all`: 10,000 passing runs write no report pages
    shrunk/<file>/[<variant>/]seed-N.yaml
                                     with `--shrink`: per triage group of failing runs, its
                                     first seed's scenario with only the faults that matter

`<file>` is the scenario file's path in the suite without `.yaml`, encoded as
`pkilab check` encodes it (`sim.scenario.identity`). Only these names are replaced when a
sweep starts; anything else a user keeps in the folder is left alone.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from sim.scenario.output import confined_folder
from sim.sweep.tasks import ERROR, FAIL, PASS, TIMEOUT, RunOutcome, unzip_folder
from sim.sweep.triage import Group

OWNED = ("sweep.json", "junit.xml", "runs", "shrunk")
STATUSES = (PASS, FAIL, TIMEOUT, ERROR)


def run_folder(scenario_folder: str, seed: int) -> str:
    """`runs/<file>/[<variant>/]seed-N`, relative to the sweep folder; `scenario_folder`
    is `sim.scenario.identity.output_folder` of the run's file and variant."""
    return f"runs/{scenario_folder}/seed-{seed}"


def clear(root: Path) -> None:
    """Remove what an earlier sweep wrote into `root` (and nothing else)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in OWNED:
        path = root / name
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)


def write_run(root: Path, scenario_folder: str, outcome: RunOutcome) -> Path:
    """The run's `summary.json`, and its output folder when the worker sent one."""
    folder = confined_folder(root, run_folder(scenario_folder, outcome.seed))
    folder.mkdir(parents=True, exist_ok=True)
    if outcome.folder is not None:
        unzip_folder(outcome.folder, folder / "output")
    # Written whole, then renamed, and last: whoever watches the sweep folder sees a
    # run's summary.json complete, with its output folder already there.
    partial = folder / ".summary.json.partial"
    partial.write_text(json.dumps(outcome.to_json(), indent=2, sort_keys=True) + "\n",
                       encoding="utf-8")
    partial.replace(folder / "summary.json")
    return folder


def per_scenario(outcomes: Iterable[RunOutcome]) -> list[dict[str, Any]]:
    """Per (scenario file, variant): runs, counts by status, the failing seeds."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for outcome in sorted(outcomes, key=lambda o: (o.path, o.variant, o.seed)):
        row = rows.setdefault((outcome.path, outcome.variant), {
            "path": outcome.path, "variant": outcome.variant, "scenario": outcome.scenario,
            "runs": 0, **{status: 0 for status in STATUSES}, "failing": []})
        row["scenario"] = row["scenario"] or outcome.scenario
        row["runs"] += 1
        row[outcome.status] += 1
        if outcome.status != PASS:
            row["failing"].append({"seed": outcome.seed, "status": outcome.status,
                                   "replay": outcome.replay})
    return list(rows.values())


def write_sweep(root: Path, meta: dict[str, Any], outcomes: list[RunOutcome],
                groups: list[Group], interrupted: bool) -> Path:
    """`sweep.json`: the whole sweep in one file."""
    counts = Counter(outcome.status for outcome in outcomes)
    document = {
        **meta,
        "interrupted": interrupted,
        "reported": len(outcomes),
        "counts": {status: counts.get(status, 0) for status in STATUSES},
        "scenarios": per_scenario(outcomes),
        "triage": [group.to_json() for group in groups],
        "runs": [[o.path, o.variant, o.seed, o.status]
                 for o in sorted(outcomes, key=lambda o: (o.path, o.variant, o.seed))],
    }
    path = root / "sweep.json"
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def write_junit(path: Path, outcomes: list[RunOutcome]) -> None:
    """One testsuite per (scenario file, variant), one testcase per seed: a failing run
    is a `failure` (its broken expectations, then the replay line), a timeout or a run
    that could not run an `error`."""
    suites = ElementTree.Element("testsuites", name="pkilab sweep")
    by_run: dict[tuple[str, str], list[RunOutcome]] = defaultdict(list)
    for outcome in outcomes:
        by_run[(outcome.path, outcome.variant)].append(outcome)
    for (file, variant), runs in sorted(by_run.items()):
        runs.sort(key=lambda o: o.seed)
        name = f"{file}::{runs[0].scenario or file}" + (f"[{variant}]" if variant else "")
        suite = ElementTree.SubElement(suites, "testsuite", {
            "name": name, "tests": str(len(runs)), "file": file,
            "failures": str(sum(o.status == FAIL for o in runs)),
            "errors": str(sum(o.status in (TIMEOUT, ERROR) for o in runs))})
        for outcome in runs:
            case = ElementTree.SubElement(suite, "testcase", {
                "classname": name, "name": f"seed {outcome.seed}",
                "time": f"{outcome.wall:.3f}"})
            if outcome.status == FAIL:
                first = outcome.failures[0].description if outcome.failures else "failed"
                failure = ElementTree.SubElement(case, "failure", message=first)
                failure.text = "\n".join(
                    [f"line {f.line}: {f.description} -- observed: {f.observed}"
                     for f in outcome.failures] + [f"replay: {outcome.replay}"])
            elif outcome.status in (TIMEOUT, ERROR):
                message = outcome.error.strip().splitlines()[-1] if outcome.error.strip() \
                    else outcome.status
                error = ElementTree.SubElement(case, "error", message=message,
                                               type=outcome.status)
                error.text = f"{outcome.error}\nreplay: {outcome.replay}"
    path.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
