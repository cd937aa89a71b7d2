"""Load scenario files into `sim.scenario.model`, with errors that point at a line.

A scenario author's only debugger is the error message, so every failure is a
`ScenarioError` reading `<file>:<line>: <where>: <what is wrong>`, never a traceback or a
raw jsonschema dump. Loading runs in passes:

1. YAML (`sim.scenario.yaml_lines`). The file is *composed* (not just loaded) so that every
   value keeps the line it was written on: `lines` maps a JSON path such as
   `("events", 2, "at")` to the line of the key or list item that declared it. Duplicate
   keys, which PyYAML would silently collapse, are errors here, and two YAML 1.1 traps
   (keys and free text read as booleans or numbers) are defused.
1.5 Matrix (`sim.scenario.matrix`). A file with `matrix:` axes becomes one run per
   combination: `${axis}` placeholders are filled in and `when:` drops the events and
   expectations of other combinations. A plain file is a single run.
2. Shape, per run. The data is checked against the shipped `schema.json` (the same file
   editors can use). Of all schema errors the one about the earliest object in the file is
   reported, typos (unknown keys) first, and rephrased into a sentence
   (`sim.scenario.schema_errors`); subschemas may carry an `x-message` with pkilab's wording.
3. Meaning, per run (`sim.scenario.builder`): cross-references and values the schema
   cannot judge, and the typed model; soak faults are drawn there.

Every pass bounds what it builds (values, nesting, runs, placeholder text, events), so no
file, however hostile, makes the loader exhaust memory or raise anything but
`ScenarioError`; and whatever loads, `pkilab run` can run to the end (durations are at most
`sim.scenario.durations.MAX_DURATION`, clocks stay within `sim.scenario.clock_range`).

This module holds the public API (`load_scenarios`, `load_scenario`, their `_text`
forms, `load_schema`, `ScenarioError`) and runs the passes in order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema

from sim.scenario import model as m
from sim.scenario.builder import Builder
from sim.scenario.errors import Errors, ScenarioError
from sim.scenario.matrix import Variant, expand
from sim.scenario.schema_errors import describe, explain
from sim.scenario.yaml_lines import YamlDocument, YamlError, read_yaml_document

__all__ = [
    "ScenarioError",
    "load_scenario",
    "load_scenario_text",
    "load_scenarios",
    "load_scenarios_text",
    "load_schema",
]

MAX_FILE_BYTES = 8 * 2**20
"""The largest scenario file read: a 10,000-router lab with configs is a few megabytes."""

MAX_TIMELINE = 200_000
"""Events and expectations in all runs of a file together, at most. A soak draws up to
`sim.scenario.soak.MAX_FAULTS` faults (two events each) per run, and a matrix multiplies
runs: a bound on the product keeps a loaded matrix of soaks in memory."""


@cache
def _schema_text() -> str:
    return resources.files("sim.scenario").joinpath("schema.json").read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of scenario files, as shipped with the package.

    A fresh dict each call, so a caller that edits it cannot change the loader's copy.
    """
    return json.loads(_schema_text())


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema())


FAST_CHECK_BYTES = 256 * 1024
"""Files at least this big are first checked by a compiled validator (`_fast_validator`)."""


@cache
def _fast_validator() -> Callable[[object], object]:
    """The schema compiled to Python by fastjsonschema: seven times faster than jsonschema
    on a 10,000-router file, but it costs a fraction of a second to compile, more than a
    small file takes to check, so only big files use it."""
    return fastjsonschema.compile(load_schema())


def _schema_errors(data: object, big: bool) -> list[jsonschema.ValidationError]:
    """What is wrong with `data` by the schema, as jsonschema reports it.

    A big file the compiled validator accepts has nothing wrong; anything else (it refuses,
    or cannot read the data) goes to jsonschema, whose errors the messages are written
    from. Only an acceptance is trusted: a test checks that whatever the compiled validator
    accepts, jsonschema accepts too.
    """
    if big:
        try:
            _fast_validator()(data)
            return []
        except Exception:  # noqa: BLE001 - any doubt goes to jsonschema
            pass
    return list(_validator().iter_errors(data))


def load_scenarios(path: Path | str) -> list[m.Scenario]:
    """Every run of a scenario file: one per matrix combination, or one for a plain file.

    Raises `ScenarioError` naming the file and line.
    """
    path = Path(path)
    return _load(_read(path), str(path), path)


def load_scenarios_text(text: str, filename: str) -> list[m.Scenario]:
    """`load_scenarios` for `text`; `filename` is only used in messages. `source` is None."""
    return _load(text, filename, None)


def load_scenario(path: Path | str) -> m.Scenario:
    """Read and check a plain (matrix-free) scenario file; raises `ScenarioError` naming the
    file and line, also for a matrix file, which is many runs (see `load_scenarios`)."""
    path = Path(path)
    return _single(_read(path), str(path), path)


def load_scenario_text(text: str, filename: str) -> m.Scenario:
    """Check scenario `text`; `filename` is only used in messages. `source` is None."""
    return _single(text, filename, None)


def _read(path: Path) -> str:
    name = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)  # /dev/zero is a "file" too
    except FileNotFoundError:
        raise ScenarioError(name, 1, "no such file") from None
    except IsADirectoryError:
        raise ScenarioError(name, 1, "is a directory, not a scenario file") from None
    except OSError as exc:
        raise ScenarioError(name, 1, f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(name, 1, f"the file is larger than {MAX_FILE_BYTES // 2**20} MB; "
                                     "a scenario file is far smaller")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be decoded)"
        raise ScenarioError(name, line, message) from None


def _single(text: str, filename: str, source: Path | None) -> m.Scenario:
    runs = _load(text, filename, source)
    if len(runs) > 1 or runs[0].variant:
        document = _parse(text, filename)
        raise ScenarioError(
            filename, document.lines[("matrix",)],
            f"matrix: this file is a matrix of {len(runs)} runs ({runs[0].variant}, ...); "
            "load it with load_scenarios(), or pick one run with "
            "`pkilab run FILE --variant ID`")
    return runs[0]


def _parse(text: str, filename: str) -> YamlDocument:
    try:
        document = read_yaml_document(text)
    except YamlError as exc:
        raise ScenarioError(filename, exc.line, exc.message) from None
    if not isinstance(document.data, dict):
        Errors(filename, document.lines).fail(
            (),
            f"the top level must be a mapping of scenario keys (name, description, "
            f"duration, routers, ...), not {describe(document.data)}",
        )
    return document


def _load(text: str, filename: str, source: Path | None) -> list[m.Scenario]:
    document = _parse(text, filename)
    variants = expand(document, Errors(filename, document.lines))
    runs: list[m.Scenario] = []
    items = 0
    for variant in variants:
        runs.append(_build(variant, filename, source, len(text) >= FAST_CHECK_BYTES))
        items += len(runs[-1].events) + len(runs[-1].expectations)
        if items > MAX_TIMELINE:
            top = document.data if isinstance(document.data, dict) else {}
            where = next((key for key in ("matrix", "soak") if key in top), "events")
            raise ScenarioError(
                filename, document.lines.get((where,), 1),
                f"{where}: the runs of this file hold more than {MAX_TIMELINE} events and "
                "expectations together (fewer matrix runs, or soak faults less often)")
    return runs


def _build(variant: Variant, filename: str, source: Path | None, big: bool) -> m.Scenario:
    errors = Errors(filename, variant.lines, variant=variant.id,
                    substituted=variant.substituted)
    found = _schema_errors(variant.data, big)
    if found:
        path, message, line_path = explain(found, errors.line)
        errors.fail(path, message, line_path=line_path)
    return Builder(errors).scenario(variant.data, source, variant=variant.id,
                                    axes=variant.axes)
