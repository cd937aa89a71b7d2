"""Load scenario files into `sim.scenario.model`, with errors that point at a line.

A scenario author's only debugger is the error message, so every failure is a
`ScenarioError` reading `<file>:<line>: <where>: <what is wrong>`, never a traceback or a
raw jsonschema dump. Loading runs in three passes:

1. YAML (`sim.scenario.yaml_lines`). The file is *composed* (not just loaded) so that every
   value keeps the line it was written on: `lines` maps a JSON path such as
   `("events", 2, "at")` to the line of the key or list item that declared it. Duplicate
   keys, which PyYAML would silently collapse, are errors here, and two YAML 1.1 traps
   (keys and free text read as booleans or numbers) are defused.
2. Shape. The data is checked against the shipped `schema.json` (the same file editors can
   use). Of all schema errors the one about the earliest object in the file is reported,
   typos (unknown keys) first, and rephrased into a sentence (`sim.scenario.schema_errors`);
   subschemas may carry an `x-message` with pkilab's wording.
3. Meaning. Cross-references and values the schema cannot judge: unique addresses, links
   between known and distinct routers, events and checks on known routers and within the
   run, parseable times. The typed model is built in the same pass.

This module holds the public API (`load_scenario`, `load_scenario_text`, `load_schema`,
`ScenarioError`), puts the file name and line on every error, and does pass 3; the other
two passes live in the modules named above so that each file keeps one job.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import jsonschema

from sim.pki.cs_fsm import CsState
from sim.scenario import model as m
from sim.scenario.durations import format_duration, parse_duration
from sim.scenario.schema_errors import describe, did_you_mean, explain
from sim.scenario.yaml_lines import JsonPath, YamlError, about, read_yaml


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
    try:
        data, lines = read_yaml(text)
    except YamlError as exc:
        raise ScenarioError(filename, exc.line, exc.message) from None
    errors = _Errors(filename, lines)
    if not isinstance(data, dict):
        errors.fail(
            (),
            f"the top level must be a mapping of scenario keys (name, description, "
            f"duration, routers, ...), not {describe(data)}",
        )
    _check_shape(data, errors)
    return _Builder(errors).scenario(data, source)


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
        raise ScenarioError(self.filename, line, about(path, message))


def _check_shape(data: dict[str, Any], errors: _Errors) -> None:
    found = list(_validator().iter_errors(data))
    if found:
        path, message, line_path = explain(found, errors.line)
        errors.fail(path, message, line_path=line_path)


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
            hint = did_you_mean(name, self.routers)
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
        if action == "link_change":
            a, b = value["endpoints"]
            self.known_router(a, path + (action, "endpoints", 0))
            self.known_router(b, path + (action, "endpoints", 1))
            if frozenset((a, b)) not in self.links:
                self.fail(path, f"there is no link between {a} and {b} (see 'links')",
                          line_path=path + (action,))
            latency = (self.seconds(value["latency"], path + (action, "latency"))
                       if "latency" in value else None)
            loss = float(value["loss"]) if "loss" in value else None
            return m.LinkChangeEvent(at=at, a=a, b=b, latency=latency, loss=loss, line=line)
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
    "link_change",
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
