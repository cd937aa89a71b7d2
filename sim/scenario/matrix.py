"""Fault matrices: one scenario file, one run per combination of `matrix:` axes.

A regression suite of failure modes is mostly the same lab with one thing changed, so a
file may declare axes and let each combination be its own run::

    matrix:
      fault: [link-down, dns, http-off]
      grant: [manual, auto]
    events:
      - {at: 2m, link_down: [core, r2], when: {fault: link-down}}
      - {at: "${start}", router: r2, cli: "crypto pki server root1 grant ${grant}"}

Rules, applied to the composed YAML before the schema sees it (pass 1.5 of loading):

- Axis names are `[a-z][a-z0-9_]*`; each axis lists one or more scalars (text, numbers,
  true/false). Runs are the cartesian product, axes and values in file order (the first
  axis varies slowest), at most `MAX_RUNS` of them.
- In every value of the file except `name` (runs are named `name[variant]` instead) and
  `matrix` itself, `${axis}` becomes the run's value of that axis; `$${` is a literal
  `${`. A value that is exactly `${axis}` takes the axis value's YAML type (`loss: ${loss}`
  gets a number), except in free-text fields (`cli`, `router`, `contains`, ...), which
  get the text as written, as the loader reads those fields anyway: an axis value `on`
  is True for `http_server: ${x}` but the text "on" in `cli: "ip http ${x}"`.
- An event or expectation with `when: {axis: value-or-list, ...}` is kept only in the runs
  whose values match every listed axis. A `when` value matches an axis value that is
  equal to it (true is not 1) or written the same way.
- Unknown axes in `${...}` or `when`, and `when` values no axis has, are errors at their
  line, with a "did you mean". `${...}` or `when` in a file without `matrix:` is an error
  too: silently running a literal `${start}` would be worse.

A run's id lists its values in axis order, `fault=link-down,grant=auto`: what reports
show and what `pkilab run FILE --variant ID` selects. So that an id always reads back
unambiguously, values may not contain `,`, `=`, `[`, `]` or line breaks; and since the id
names the run's output folder, it is at most `MAX_ID` characters.

Expansion is bounded as well as the file is (`sim.scenario.yaml_lines`): all runs together
hold at most `MAX_EXPANDED` values, and placeholders may add at most `MAX_FILLED`
characters to one run, so that a small file cannot expand to gigabytes (a long axis value
put into a text thousands of times, through aliases or `${a}${a}${a}...`).

A file without `matrix:` expands to a single run with the empty id, so the loader has one
path for both kinds of file.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from datetime import date

from sim.scenario.errors import Errors
from sim.scenario.schema_errors import describe, did_you_mean
from sim.scenario.yaml_lines import JsonPath, YamlDocument, is_text_path

MAX_RUNS = 256
"""Combinations per file, at most: beyond that a matrix is a sweep, not a regression suite."""

MAX_ID = 200
"""Characters in a run id, at most: the id is a folder name, and file systems stop at 255."""

MAX_EXPANDED = 1_000_000
"""Values in all runs of a file together, at most (256 runs of a 3,900-value file)."""

MAX_FILLED = 200_000
"""Characters that placeholders may add to one run, at most (a placeholder in a hundred
places, each filled with a thousand characters, is still far below)."""

AXIS_NAME = re.compile(r"[a-z][a-z0-9_]*")
_PLACEHOLDER = re.compile(r"\$(\$?)\{([^{}]*)\}")
_NOT_IN_IDS = (",", "=", "[", "]", "\n", "\r")
_SELECTABLE = ("events", "expect")
"""Top-level lists whose items may carry `when:`."""

Scalar = str | int | float | bool | date | bytes
"""What YAML reads a plain or tagged scalar as (a timestamp is a date or datetime)."""


@dataclass(frozen=True)
class AxisValue:
    """One value of an axis: its YAML reading and its text as written in the file."""

    value: Scalar
    text: str


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple[AxisValue, ...]


@dataclass(frozen=True)
class Variant:
    """One run of the file, ready for the schema and the builder.

    `lines` is this run's path -> line map: list indexes shift when `when:` drops items.
    `substituted` holds the lines where a placeholder was filled in, so that an error
    there can name the run it happened in.
    """

    id: str
    axes: tuple[tuple[str, str], ...]
    data: dict[str, object]
    lines: dict[JsonPath, int]
    substituted: frozenset[int]


def expand(document: YamlDocument, errors: Errors) -> list[Variant]:
    """Every run of the file (one, with the id "", when there is no `matrix:`)."""
    data = document.data
    if not isinstance(data, dict):
        errors.fail((), "a scenario file is a mapping of keys such as name:, routers:, "
                        "events:")
    axes = _axes(data["matrix"], document, errors) if "matrix" in data else []
    by_name = {axis.name: axis for axis in axes}
    runs = math.prod(len(axis.values) for axis in axes)
    if runs > MAX_RUNS:
        sizes = " x ".join(str(len(axis.values)) for axis in axes)
        errors.fail(("matrix",), f"{sizes} = {runs} combinations; at most {MAX_RUNS} runs "
                                 "per file (drop values or split the file)")
    longest = sum(len(axis.name) + 2 + max(len(v.text) for v in axis.values) for axis in axes)
    if longest - 1 > MAX_ID:
        errors.fail(("matrix",), f"a run id (axis=value,...) could be {longest - 1} characters "
                                 f"long; at most {MAX_ID}, as it names the run's output folder "
                                 "(use shorter values)")
    if runs > 1 and runs * len(document.lines) > MAX_EXPANDED:
        errors.fail(("matrix",), f"{runs} runs of a file of {len(document.lines)} values make "
                                 f"{runs * len(document.lines)} values; at most {MAX_EXPANDED} "
                                 "(drop values or split the file)")
    _check_placeholders(data, by_name, errors)
    selectors = _selectors(data, by_name, document, errors)
    variants = []
    for combination in itertools.product(*(range(len(axis.values)) for axis in axes)):
        chosen = dict(zip(by_name, combination, strict=True))
        variants.append(_Expander(data, document.lines, axes, chosen, selectors, errors).run())
    return variants


# -- the axes ------------------------------------------------------------------------------


def _axes(spec: object, document: YamlDocument, errors: Errors) -> list[Axis]:
    path: JsonPath = ("matrix",)
    if not isinstance(spec, dict) or not spec:
        errors.fail(path, "must map each axis name to its list of values, e.g. "
                          "{fault: [link-down, dns], grant: [manual, auto]}")
    axes = []
    for name, values in spec.items():
        where = path + (name,)
        if not AXIS_NAME.fullmatch(name):
            errors.fail(where, f"{name!r} is not a valid axis name (a lower-case letter, "
                               "then lower-case letters, digits or '_')")
        if not isinstance(values, list) or not values:
            errors.fail(where, f"must be a non-empty list of values, e.g. [a, b], not "
                               f"{describe(values)}")
        seen: dict[str, int] = {}
        parsed = []
        for index, value in enumerate(values):
            item = _axis_value(value, where + (index,), document, errors)
            if item.text in seen:
                errors.fail(where + (index,), f"{item.text!r} is listed twice (first on "
                                              f"line {seen[item.text]})")
            seen[item.text] = errors.line(where + (index,))
            parsed.append(item)
        axes.append(Axis(name, tuple(parsed)))
    return axes


def _axis_value(value: object, path: JsonPath, document: YamlDocument, errors: Errors
                ) -> AxisValue:
    if not isinstance(value, str | int | float | bool | date | bytes):
        errors.fail(path, f"a matrix value must be text, a number or true/false, not "
                          f"{describe(value)}")
    text = _text(value, path, document)
    if not text.strip():
        errors.fail(path, "an empty text cannot name a matrix run")
    bad = [char for char in _NOT_IN_IDS if char in text]
    if bad:
        shown = "a line break" if bad[0] in "\r\n" else repr(bad[0])
        errors.fail(path, f"{text!r} cannot be a matrix value: it holds {shown}, and run "
                          "ids such as fault=a,grant=b must read back unambiguously "
                          "(',', '=', '[', ']' and line breaks are not allowed)")
    return AxisValue(value, text)


def _text(value: object, path: JsonPath, document: YamlDocument) -> str:
    """A scalar as written in the file (`on`, `0.50`), or as text if it was quoted."""
    if isinstance(value, str):
        return value
    return document.plain.get(path, str(value).lower() if isinstance(value, bool)
                              else str(value))


# -- placeholders and selectors ------------------------------------------------------------


def _unknown_axis(name: str, axes: dict[str, Axis]) -> str:
    if not axes:
        return (f"'${{{name}}}' is a matrix placeholder, but the file has no 'matrix:' "
                "(write '$${' for a literal '${')")
    return (f"unknown matrix axis '{name}' in '${{{name}}}'{did_you_mean(name, axes)} "
            f"(axes: {', '.join(axes)})")


def _check_placeholders(data: dict[str, object], axes: dict[str, Axis], errors: Errors) -> None:
    name = data.get("name")
    if isinstance(name, str) and "${" in name:
        errors.fail(("name",), "the name takes no placeholders: each matrix run is reported "
                               "as name[fault=...,grant=...] instead")

    seen: set[int] = set()  # an alias repeats one string: check it once

    def walk(value: object, path: JsonPath) -> None:
        if isinstance(value, str):
            if id(value) in seen:
                return
            seen.add(id(value))
            for match in _PLACEHOLDER.finditer(value):
                if not match.group(1) and match.group(2) not in axes:
                    errors.fail(path, _unknown_axis(match.group(2), axes))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, path + (index,))
        elif isinstance(value, dict):
            for key, item in value.items():
                if "${" in key:
                    errors.fail(path + (key,), "placeholders are filled in values, not in "
                                               "keys")
                walk(item, path + (key,))

    for key, value in data.items():
        if key not in ("name", "matrix"):
            walk(value, (key,))


Selector = dict[str, frozenset[int]]
"""A parsed `when:`: axis name -> the indexes of the axis values it accepts."""


def _selectors(data: dict[str, object], axes: dict[str, Axis], document: YamlDocument,
               errors: Errors) -> dict[tuple[str, int], Selector]:
    selectors: dict[tuple[str, int], Selector] = {}
    for key in _SELECTABLE:
        items = data.get(key)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if isinstance(item, dict) and "when" in item:
                path = (key, index, "when")
                if not axes:
                    errors.fail(path, "'when' selects matrix runs, but the file has no "
                                      "'matrix:'")
                selectors[(key, index)] = _selector(item["when"], path, axes, document,
                                                    errors)
    return selectors


def _selector(spec: object, path: JsonPath, axes: dict[str, Axis], document: YamlDocument,
              errors: Errors) -> Selector:
    if not isinstance(spec, dict) or not spec:
        errors.fail(path, "must map matrix axes to the value or values this item is for, "
                          "e.g. {fault: link-down} or {fault: [dns, link-down]}")
    selector: Selector = {}
    for name, wanted in spec.items():
        if name not in axes:
            errors.fail(path + (name,), f"unknown matrix axis '{name}'"
                                        f"{did_you_mean(name, axes)} (axes: {', '.join(axes)})")
        axis = axes[name]
        listed = wanted if isinstance(wanted, list) else [wanted]
        where = path + (name,)
        if not listed:
            errors.fail(where, "must list at least one value")
        accepted: set[int] = set()
        for position, value in enumerate(listed):
            at = where + (position,) if isinstance(wanted, list) else where
            if value is None or isinstance(value, list | dict):
                errors.fail(at, f"expected a value of axis {name}, got {describe(value)}")
            text = _text(value, at, document)
            hits = [i for i, option in enumerate(axis.values) if _same(option, value, text)]
            if not hits:
                choices = [option.text for option in axis.values]
                errors.fail(at, f"{text!r} is not a value of axis {name}"
                                f"{did_you_mean(text, choices)} (values: {', '.join(choices)})")
            accepted.update(hits)
        selector[name] = frozenset(accepted)
    return selector


def _same(option: AxisValue, value: object, text: str) -> bool:
    typed = (isinstance(option.value, bool) == isinstance(value, bool)
             and option.value == value)
    return typed or option.text == text


# -- one run -------------------------------------------------------------------------------


class _Expander:
    """Builds one run: drops unselected items, fills placeholders, remaps lines."""

    def __init__(self, data: dict[str, object], lines: dict[JsonPath, int], axes: list[Axis],
                 chosen: dict[str, int], selectors: dict[tuple[str, int], Selector],
                 errors: Errors) -> None:
        self.data = data
        self.lines = lines
        self.values = {axis.name: axis.values[chosen[axis.name]] for axis in axes}
        self.chosen = chosen
        self.selectors = selectors
        self.errors = errors
        self.substituted: set[int] = set()
        self.remap: dict[tuple[str, int], int] = {}
        self.filled = 0

    def run(self) -> Variant:
        out: dict[str, object] = {}
        for key, value in self.data.items():
            if key == "matrix":
                continue
            if key == "name":
                out[key] = value
            elif key in _SELECTABLE and isinstance(value, list):
                out[key] = self.items(key, value)
            else:
                out[key] = self.fill(value, (key,))
        axes = tuple((name, value.text) for name, value in self.values.items())
        return Variant(",".join(f"{name}={text}" for name, text in axes), axes, out,
                       self.remapped_lines(), frozenset(self.substituted))

    def items(self, key: str, items: list[object]) -> list[object]:
        kept: list[object] = []
        for index, item in enumerate(items):
            selector = self.selectors.get((key, index), {})
            if any(self.chosen[name] not in accepted for name, accepted in selector.items()):
                continue
            self.remap[(key, index)] = len(kept)
            if isinstance(item, dict):
                item = {k: v for k, v in item.items() if k != "when"}
            kept.append(self.fill(item, (key, index)))
        return kept

    def fill(self, value: object, path: JsonPath) -> object:
        """`value` with placeholders filled; `path` is its place in the file."""
        if isinstance(value, list):
            return [self.fill(item, path + (index,)) for index, item in enumerate(value)]
        if isinstance(value, dict):
            return {key: self.fill(item, path + (key,)) for key, item in value.items()}
        if not isinstance(value, str) or "$" not in value:
            return value
        whole = _PLACEHOLDER.fullmatch(value)
        if whole and not whole.group(1):
            self.substituted.add(self.errors.line(path))
            chosen = self.values[whole.group(2)]
            return chosen.text if is_text_path(path) else chosen.value
        # Count before building: one `sub` can make a string of gigabytes. Each `$${`
        # counts too, as work: aliases can repeat a text of thousands of them.
        self.filled += sum(1 if match.group(1) else len(self.values[match.group(2)].text)
                           for match in _PLACEHOLDER.finditer(value))
        if self.filled > MAX_FILLED:
            self.errors.fail(path, f"placeholders make this run more than {MAX_FILLED} "
                                   "characters longer (a long matrix value used very often)")

        line = self.errors.line(path)

        def replace(match: re.Match[str]) -> str:
            if match.group(1):
                return "${" + match.group(2) + "}"
            self.substituted.add(line)
            return self.values[match.group(2)].text

        return _PLACEHOLDER.sub(replace, value)

    def remapped_lines(self) -> dict[JsonPath, int]:
        lines: dict[JsonPath, int] = {}
        for path, line in self.lines.items():
            if len(path) >= 2 and path[0] in _SELECTABLE and isinstance(path[1], int):
                index = self.remap.get((str(path[0]), path[1]))
                if index is None:
                    continue
                path = (path[0], index, *path[2:])
            lines[path] = line
        return lines
