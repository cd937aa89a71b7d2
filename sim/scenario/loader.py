"""Load scenario files into `sim.scenario.model`, with errors that point at a line.

A scenario author's only debugger is the error message, so every failure is a
`ScenarioError` reading `<file>:<line>: <where>: <what is wrong>`, never a traceback or a
raw jsonschema dump. Loading runs in three passes:

1. YAML. The file is *composed* (not just loaded) so that every value keeps the line it was
   written on: `lines` maps a JSON path such as `("events", 2, "at")` to the line of the key
   or list item that declared it. Duplicate keys, which PyYAML would silently collapse, are
   errors here.
2. Shape. The data is checked against the shipped `schema.json` (the same file editors can
   use). Of all schema errors the one about the earliest object in the file is reported,
   typos (unknown keys) first, and rephrased into a sentence; subschemas may carry an
   `x-message` with pkilab's wording.
3. Meaning. Cross-references and values the schema cannot judge: unique addresses, links
   between known and distinct routers, events and checks on known routers and within the
   run, parseable times. The typed model is built in the same pass.

Two YAML 1.1 traps are defused in pass 1. Mapping keys are always the text as written (a
router called `no` is not the boolean False). And free-text fields (`cli`, `input`,
`contains`, router names, ...) take plain scalars verbatim: a prompt answer written `yes`
stays "yes", a password `0123` stays "0123" instead of becoming the octal number 83.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import jsonschema
import yaml

from sim.pki.cs_fsm import CsState
from sim.scenario import model as m
from sim.scenario.durations import format_duration, parse_duration

JsonPath = tuple[str | int, ...]

_MAX_NODES = 100_000
"""Alias expansion bound: a scenario is small; a 'billion laughs' file is not a scenario."""

_TEXT_PATH_SPECS = " ".join(
    (
        "name description",
        "routers.*.address routers.*.config routers.*.config.* routers.*.release",
        "links.*.endpoints.*",
        "events.*.router events.*.cli events.*.cli.* events.*.input events.*.input.*",
        "events.*.link_down.* events.*.link_up.*",
        "expect.*.router expect.*.server expect.*.show expect.*.nvram_file",
        "expect.*.certificate_verifies",
        "expect.*.transcript_contains expect.*.transcript_contains.*",
        "expect.*.transcript_not_contains expect.*.transcript_not_contains.*",
        "expect.*.contains expect.*.contains.* expect.*.not_contains expect.*.not_contains.*",
    )
)
_TEXT_PATHS: tuple[JsonPath, ...] = tuple(tuple(s.split(".")) for s in _TEXT_PATH_SPECS.split())
"""Paths whose plain scalars are read verbatim as text (see the module docstring)."""

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}

_PRIORITY = {"additionalProperties": 0, "propertyNames": 1, "exactly one": 2, "required": 3}
"""Which schema error to report first for one object: a typo explains the rest."""


class ScenarioError(Exception):
    """A scenario file is unusable. `str()` is `<file>:<line>: <message>`.

    Problems with the file as a whole (missing, unreadable, empty) are reported at line 1 so
    that every message has the same shape for editors and for `pkilab check` tables.
    """

    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file = file
        self.line = line
        self.message = message


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


def load_scenario(path: Path | str) -> m.Scenario:
    """Read and check a scenario file; raises `ScenarioError` naming the file and line."""
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(name, 1, "no such file") from None
    except IsADirectoryError:
        raise ScenarioError(name, 1, "is a directory, not a scenario file") from None
    except OSError as exc:
        raise ScenarioError(name, 1, f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be decoded)"
        raise ScenarioError(name, line, message) from None
    return _load(text, name, path)


def load_scenario_text(text: str, filename: str) -> m.Scenario:
    """Check scenario `text`; `filename` is only used in messages. `source` is None."""
    return _load(text, filename, None)


def _load(text: str, filename: str, source: Path | None) -> m.Scenario:
    data, lines = _read_yaml(text, filename)
    errors = _Errors(filename, lines)
    if not isinstance(data, dict):
        errors.fail(
            (),
            f"the top level must be a mapping of scenario keys (name, description, "
            f"duration, routers, ...), not {_kind(data)}",
        )
    _check_shape(data, errors)
    return _Builder(errors).scenario(data, source)


# -- pass 1: YAML with lines -------------------------------------------------------------


def _read_yaml(text: str, filename: str) -> tuple[Any, dict[JsonPath, int]]:
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise _yaml_error(exc, filename) from None
        except yaml.YAMLError as exc:
            raise ScenarioError(filename, 1, f"YAML error: {exc}") from None
        if root is None:
            raise ScenarioError(
                filename,
                1,
                "the file is empty (a scenario needs at least name, description, "
                "duration and routers)",
            )
        return _Reader(loader, filename).read(root)
    finally:
        loader.dispose()


def _yaml_error(exc: yaml.MarkedYAMLError, filename: str) -> ScenarioError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    if isinstance(exc, yaml.composer.ComposerError) and "single document" in str(exc.context):
        return ScenarioError(
            filename,
            line,
            "the file holds more than one YAML document; "
            "a scenario is a single document (remove '---')",
        )
    problem = exc.problem or "cannot be read"
    if isinstance(exc, yaml.constructor.ConstructorError):
        if "could not determine a constructor" in problem:
            tag = problem.rsplit("tag ", 1)[-1]
            problem = f"unsupported YAML tag {tag} (scenario files hold plain values only)"
        return ScenarioError(filename, line, problem)
    context = exc.context or ""
    if context and exc.context_mark and exc.context_mark.line + 1 != line:
        context += f" on line {exc.context_mark.line + 1}"
    plain = next((text for start, text in _YAML_PROBLEMS if problem.startswith(start)), "")
    if plain:
        said = f"{problem}; {context}" if context else problem
        return ScenarioError(
            filename, line, f"YAML syntax error: {plain} (the parser says: {said})"
        )
    detail = f"{problem} ({context})" if context else problem
    return ScenarioError(filename, line, f"YAML syntax error: {detail}")


_YAML_PROBLEMS = (
    ("expected <block end>", "this line is not indented like the lines above it"),
    ("did not find expected key", "this line is not indented like the lines above it"),
    ("did not find expected '-'", "this list item is not indented like the ones above it"),
    ("mapping values are not allowed", "unexpected ':'; quote text that holds ': '"),
    ("could not find expected ':'", "a key without ':' or a quote left open"),
    ("found character '\\t'", "a tab character; indent with spaces, not tabs"),
    ("found unexpected end of stream", "the file ends inside a quoted text"),
    ("expected ',' or ']'", "a [...] list is not closed, or lacks a ','"),
    ("expected ',' or '}'", "a {...} mapping is not closed, or lacks a ','"),
)
"""PyYAML's most common complaints, in the words a scenario author would use."""


class _Reader:
    """Turns a composed YAML node tree into plain data plus a path -> line map."""

    def __init__(self, loader: yaml.SafeLoader, filename: str) -> None:
        self._loader = loader
        self._filename = filename
        self._lines: dict[JsonPath, int] = {}
        self._active: set[int] = set()
        self._count = 0

    def read(self, root: yaml.Node) -> tuple[Any, dict[JsonPath, int]]:
        self._lines[()] = root.start_mark.line + 1
        return self._value(root, ()), self._lines

    def _fail(self, node: yaml.Node, message: str) -> ScenarioError:
        return ScenarioError(self._filename, node.start_mark.line + 1, message)

    def _value(self, node: yaml.Node, path: JsonPath) -> Any:
        self._count += 1
        if self._count > _MAX_NODES:
            raise self._fail(node, "the file expands to too many values (aliases nested too deep?)")
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._active:
            raise self._fail(node, _at(path, "an alias refers to itself"))
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                items = []
                for index, child in enumerate(node.value):
                    self._lines[path + (index,)] = child.start_mark.line + 1
                    items.append(self._value(child, path + (index,)))
                return items
            return self._mapping(node, path)
        finally:
            self._active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: JsonPath) -> dict[str, Any]:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._fail(
                    key_node, _at(path, "a key must be a plain name, not a list or mapping")
                )
            key, line = key_node.value, key_node.start_mark.line + 1
            if key in seen:
                raise self._fail(
                    key_node,
                    f"{_where(path + (key,))}: duplicate key "
                    f"'{key}' (first given on line {seen[key]})",
                )
            seen[key] = line
        try:
            self._loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        except yaml.MarkedYAMLError as exc:
            raise _yaml_error(exc, self._filename) from None
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            self._lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = self._value(value_node, path + (key,))
        return result

    def _scalar(self, node: yaml.ScalarNode, path: JsonPath) -> Any:
        if node.style is None and any(_matches(path, spec) for spec in _TEXT_PATHS):
            return node.value
        try:
            value = self._loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            raise _yaml_error(exc, self._filename) from None
        except (ValueError, OverflowError) as exc:  # e.g. 2005-02-30 as a timestamp
            raise self._fail(
                node, _at(path, f"{node.value!r} is not a valid value ({exc})")
            ) from None
        if isinstance(value, datetime | date):
            return value.isoformat()  # parsed again, with line-aware messages, in pass 3
        return value


def _matches(path: JsonPath, spec: JsonPath) -> bool:
    return len(path) == len(spec) and all(
        s == "*" or s == p for p, s in zip(path, spec, strict=False)
    )


# -- pass 2: shape (JSON Schema) ---------------------------------------------------------


class _Errors:
    """Raises `ScenarioError`s at the line that declared a path."""

    def __init__(self, filename: str, lines: dict[JsonPath, int]) -> None:
        self.filename = filename
        self.lines = lines

    def line(self, path: Iterable[str | int]) -> int:
        path = tuple(path)
        while path not in self.lines:
            path = path[:-1]
        return self.lines[path]

    def fail(self, path: JsonPath, message: str, *, line_path: JsonPath | None = None) -> NoReturn:
        """Raise for `path` (named in the message) at the line of `line_path` or `path`."""
        line = self.line(path if line_path is None else line_path)
        raise ScenarioError(self.filename, line, _at(path, message))


def _check_shape(data: dict[str, Any], errors: _Errors) -> None:
    found = list(_validator().iter_errors(data))
    if not found:
        return
    best = min(
        found,
        key=lambda e: (
            errors.line(e.absolute_path),
            _PRIORITY.get(_kind_of_error(e), 9),
            -len(e.absolute_path),
        ),
    )
    path = tuple(best.absolute_path)
    message, line_path = _rephrase(best, path)
    errors.fail(path, message, line_path=line_path)


def _kind_of_error(error: jsonschema.ValidationError) -> str:
    if error.validator == "pattern" and "propertyNames" in error.schema_path:
        return "propertyNames"
    if error.validator == "oneOf" and _one_key_choices(error.validator_value):
        return "exactly one"
    return str(error.validator)


def _one_key_choices(branches: Any) -> list[str]:
    """The keys of a `oneOf: [{required: [k1]}, {required: [k2]}, ...]`, else []."""
    if not all(
        isinstance(b, dict) and list(b) == ["required"] and len(b["required"]) == 1
        for b in branches
    ):
        return []
    return [b["required"][0] for b in branches]


def _rephrase(error: jsonschema.ValidationError, path: JsonPath) -> tuple[str, JsonPath | None]:
    """A sentence for one schema error, and the path whose line to report if not `path`."""
    instance, schema, kind = error.instance, error.schema, _kind_of_error(error)
    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        patterns = list(schema.get("patternProperties", {}))
        extra = next(
            key
            for key in instance
            if key not in allowed and not any(re.search(p, key) for p in patterns)
        )
        hint = _did_you_mean(extra, allowed)
        return (
            f"unknown key '{extra}'{hint} (expected one of: {', '.join(allowed)})",
            path + (extra,),
        )
    if kind == "propertyNames":
        return _template(schema, instance, {}) or f"{instance!r} is not allowed", path + (instance,)
    if kind == "required":
        missing = [f"'{key}'" for key in error.validator_value if key not in instance]
        plural = "s" if len(missing) > 1 else ""
        return f"missing required key{plural} {', '.join(missing)}", None
    custom = _template(schema, instance, _choice_fields(error, kind))
    if custom:
        return _duration_message(schema, instance) or custom, None
    return _generic(error), None


def _choice_fields(error: jsonschema.ValidationError, kind: str) -> dict[str, str]:
    if kind != "exactly one":
        return {}
    choices = _one_key_choices(error.validator_value)
    present = [key for key in choices if key in error.instance]
    return {"choices": ", ".join(choices), "found": ", ".join(present) or "none"}


def _template(schema: Mapping[str, Any], instance: Any, fields: dict[str, str]) -> str:
    text = schema.get("x-message", "")
    for name, value in {"value": repr(instance), **fields}.items():
        text = text.replace("{" + name + "}", value)
    return text


def _duration_message(schema: Mapping[str, Any], instance: Any) -> str:
    """For a bad duration, the parser's own wording (it knows 'negative' from 'garbled')."""
    if schema.get("title") not in ("duration", "signed duration"):
        return ""
    try:
        parse_duration(instance, allow_negative=schema["title"] == "signed duration")
    except ValueError as exc:
        return str(exc)
    return ""


def _generic(error: jsonschema.ValidationError) -> str:
    value, instance = error.validator_value, error.instance
    match error.validator:
        case "type":
            wanted = " or ".join(_TYPE_WORDS.get(t, t) for t in _as_list(value))
            return f"expected {wanted}, got {_kind(instance)}"
        case "enum":
            choices = ", ".join(str(v) for v in value)
            return f"{instance!r} is not allowed (expected one of: {choices})"
        case "const":
            return f"must be {json.dumps(value)}"
        case "minimum" | "exclusiveMinimum":
            strict = "more than" if error.validator == "exclusiveMinimum" else "at least"
            return f"{instance!r} is too small (must be {strict} {value})"
        case "maximum" | "exclusiveMaximum":
            strict = "less than" if error.validator == "exclusiveMaximum" else "at most"
            return f"{instance!r} is too large (must be {strict} {value})"
        case "minLength":
            return "must not be empty"
        case "minItems" | "minProperties":
            return f"must have at least {value} entr{'y' if value == 1 else 'ies'}"
        case "maxItems":
            return f"has {len(instance)} entries, at most {value} allowed"
        case "pattern":
            return f"{instance!r} is not in the expected form"
        case "not":
            keys = value.get("required", []) if isinstance(value, dict) else []
            return f"'{keys[0]}' is not allowed here" if keys else "is not allowed here"
    return f"is not valid here ({error.validator} check failed)"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (the value is empty)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value; quote it to mean text)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _at(path: JsonPath, message: str) -> str:
    """`message` prefixed with the path it is about, if any."""
    where = _where(path)
    return f"{where}: {message}" if where else message


def _where(path: Iterable[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# -- pass 3: meaning, and the model ------------------------------------------------------


class _Builder:
    """Checks what the schema cannot and builds the frozen model."""

    def __init__(self, errors: _Errors) -> None:
        self.errors = errors
        self.fail = errors.fail
        self.duration = 0.0
        self.routers: dict[str, m.RouterSpec] = {}
        self.links: dict[frozenset[str], m.LinkSpec] = {}

    def scenario(self, data: dict[str, Any], source: Path | None) -> m.Scenario:
        start = self.timestamp(data["start"], ("start",)) if "start" in data else None
        self.duration = self.seconds(data["duration"], ("duration",))
        if self.duration <= 0:
            self.fail(("duration",), "must be longer than 0s")
        for name, spec in data["routers"].items():
            self.router(name, spec, ("routers", name))
        for index, spec in enumerate(data.get("links", [])):
            self.link(spec, ("links", index))
        events = [self.event(spec, ("events", i)) for i, spec in enumerate(data.get("events", []))]
        expects = [
            self.expect(spec, ("expect", i)) for i, spec in enumerate(data.get("expect", []))
        ]
        return m.Scenario(
            name=data["name"],
            description=data["description"].rstrip(),
            seed=int(data.get("seed", 0)),
            start=start or m.DEFAULT_START,
            duration=self.duration,
            routers=tuple(self.routers.values()),
            links=tuple(self.links.values()),
            events=tuple(sorted(events, key=lambda event: event.at)),
            expectations=tuple(expects),
            source=source,
        )

    # -- values --
    def seconds(self, value: Any, path: JsonPath, *, signed: bool = False) -> float:
        try:
            return parse_duration(value, allow_negative=signed)
        except ValueError as exc:
            self.fail(path, str(exc))

    def timestamp(self, text: str, path: JsonPath) -> datetime:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            self.fail(path, f"{text!r} is not a valid date and time (e.g. 2005-01-06T20:55:00Z)")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def known_router(self, name: str, path: JsonPath, what: str = "router") -> str:
        if name not in self.routers:
            hint = _did_you_mean(name, self.routers)
            self.fail(
                path[:2],
                f"unknown {what} '{name}'{hint} (routers are: {', '.join(self.routers)})",
                line_path=path,
            )
        return name

    def when(self, spec: dict[str, Any], path: JsonPath) -> float | None:
        if "at" not in spec:
            return None
        at = self.seconds(spec["at"], path + ("at",))
        if at > self.duration:
            self.fail(
                path + ("at",),
                f"{format_duration(at)} is after the end of the run "
                f"(duration: {format_duration(self.duration)})",
            )
        return at

    # -- topology --
    def router(self, name: str, spec: dict[str, Any], path: JsonPath) -> None:
        for other in self.routers:
            if other.lower() == name.lower():
                self.fail(
                    path,
                    f"router names must differ in more than letter case "
                    f"('{other}' exists; report files would collide)",
                )
        address = self.address(spec["address"], path + ("address",))
        for other in self.routers.values():
            if other.address == address:
                self.fail(
                    path + ("address",),
                    f"{address} is already the address of router {other.name} (line {other.line})",
                )
        self.routers[name] = m.RouterSpec(
            name=name,
            address=address,
            clock=self.clock(spec.get("clock", {}), path + ("clock",)),
            config=_lines(spec.get("config", "")),
            release=spec.get("release", m.DEFAULT_RELEASE),
            line=self.errors.line(path),
        )

    def address(self, text: str, path: JsonPath) -> str:
        try:
            address = ipaddress.IPv4Address(text)
        except ValueError:
            self.fail(path, f"{text!r} is not an IPv4 address")
        if (
            address.is_unspecified
            or address.is_multicast
            or address.is_loopback
            or address == ipaddress.IPv4Address("255.255.255.255")
        ):
            self.fail(
                path,
                f"{address} cannot be a router's address (unspecified, loopback, "
                "multicast or broadcast)",
            )
        return str(address)

    def clock(self, spec: dict[str, Any], path: JsonPath) -> m.ClockSpec:
        is_set = spec.get("set", True)
        if spec.get("authoritative") is True and not is_set:
            self.fail(path + ("authoritative",), "a clock that is not set cannot be authoritative")
        drift = float(spec.get("drift_ppm", 0.0))
        if not math.isfinite(drift):
            self.fail(path + ("drift_ppm",), f"{drift} is not a number of ppm")
        value = spec.get("value")
        return m.ClockSpec(
            set=is_set,
            value=None if value is None else self.timestamp(value, path + ("value",)),
            offset=self.seconds(spec.get("offset", 0), path + ("offset",), signed=True),
            drift_ppm=drift,
            authoritative=spec.get("authoritative"),
            calendar=spec.get("calendar", True),
        )

    def link(self, spec: dict[str, Any], path: JsonPath) -> None:
        a, b = spec["endpoints"]
        endpoints = path + ("endpoints",)
        self.known_router(a, endpoints + (0,))
        self.known_router(b, endpoints + (1,))
        if a == b:
            self.fail(
                path, f"a link needs two different routers, not {a} twice", line_path=endpoints
            )
        key = frozenset((a, b))
        if key in self.links:
            self.fail(
                path,
                f"duplicate link between {a} and {b} (first given on line {self.links[key].line})",
                line_path=endpoints,
            )
        loss = float(spec.get("loss", 0.0))
        if not 0.0 <= loss <= 1.0:  # NaN passes the schema's bounds
            self.fail(path + ("loss",), f"{loss} is not a probability between 0 and 1")
        self.links[key] = m.LinkSpec(
            a=a,
            b=b,
            latency=self.seconds(spec.get("latency", m.DEFAULT_LATENCY), path + ("latency",)),
            loss=loss,
            line=self.errors.line(path),
        )

    # -- timeline --
    def event(self, spec: dict[str, Any], path: JsonPath) -> m.Event:
        at = self.when(spec, path) or 0.0  # the schema requires `at`
        line = self.errors.line(path)
        action = self.one_of(spec, path, "action", _EVENT_KEYS)
        value = spec[action]
        if action in ("link_down", "link_up"):
            a, b = value
            self.known_router(a, path + (action, 0))
            self.known_router(b, path + (action, 1))
            if frozenset((a, b)) not in self.links:
                self.fail(
                    path,
                    f"there is no link between {a} and {b} (see 'links')",
                    line_path=path + (action,),
                )
            return m.LinkEvent(at=at, a=a, b=b, up=action == "link_up", line=line)
        router = self.known_router(spec["router"], path + ("router",))
        match action:
            case "cli":
                lines = _lines(value)
                if not lines:
                    self.fail(path + ("cli",), "has no commands")
                answers = spec.get("input", ())
                answers = (answers,) if isinstance(answers, str) else tuple(answers)
                return m.CliEvent(at=at, router=router, lines=lines, input=answers, line=line)
            case "clock_set":
                wall = None if value == "now" else self.timestamp(value, path + (action,))
                return m.ClockSetEvent(at=at, router=router, value=wall, line=line)
            case "clock_unset":
                return m.ClockUnsetEvent(at=at, router=router, line=line)
            case "clock_jump":
                seconds = self.seconds(value, path + (action,), signed=True)
                return m.ClockJumpEvent(at=at, router=router, seconds=seconds, line=line)
            case "http_server":
                return m.HttpServerEvent(at=at, router=router, on=_on(value), line=line)
            case "reload":
                return m.ReloadEvent(at=at, router=router, line=line)
            case _:
                return m.PowerEvent(at=at, router=router, on=_on(value), line=line)

    def expect(self, spec: dict[str, Any], path: JsonPath) -> m.Expectation:
        at = self.when(spec, path)
        line = self.errors.line(path)
        router = self.known_router(spec["router"], path + ("router",))
        check = self.one_of(spec, path, "check", _CHECK_KEYS)
        value = spec[check]
        match check:
            case "server_state":
                state = CsState(value)
                return m.ServerStateExpect(router, spec.get("server"), state, at, line)
            case "transcript_contains" | "transcript_not_contains":
                negate = check == "transcript_not_contains"
                return m.TranscriptExpect(router, _texts(value), negate, at, line)
            case "show":
                contains = _texts(spec.get("contains", ()))
                not_contains = _texts(spec.get("not_contains", ()))
                return m.ShowExpect(router, value, contains, not_contains, at, line)
            case "nvram_file":
                return m.NvramFileExpect(router, value, spec.get("exists", True), at, line)
            case _:
                return m.CertificateVerifiesExpect(router, value, at, line)

    def one_of(self, spec: dict[str, Any], path: JsonPath, noun: str, keys: tuple[str, ...]) -> str:
        """The single action/check key; the schema says so too, this guards the model."""
        present = [key for key in keys if key in spec]
        if len(present) != 1:
            self.fail(
                path,
                f"needs exactly one {noun}, one of: {', '.join(keys)} (found: "
                f"{', '.join(present) or 'none'})",
            )
        return present[0]


_EVENT_KEYS = (
    "cli",
    "link_down",
    "link_up",
    "clock_set",
    "clock_unset",
    "clock_jump",
    "http_server",
    "reload",
    "power",
)
_CHECK_KEYS = (
    "server_state",
    "transcript_contains",
    "transcript_not_contains",
    "show",
    "nvram_file",
    "certificate_verifies",
)


def _lines(value: str | list[str]) -> tuple[str, ...]:
    """Console or config text as lines: one command per line, right-stripped.

    Blank lines at the ends are artefacts of YAML block scalars (`|` keeps a final newline)
    and are dropped; blank lines in between are kept, since a bare Return at a console is
    something a person can type.
    """
    lines = value.splitlines() if isinstance(value, str) else list(value)
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return tuple(lines)


def _texts(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _on(value: str | bool) -> bool:
    """`on`/`off`, which YAML 1.1 may already have turned into True/False."""
    return value is True or value == "on"
