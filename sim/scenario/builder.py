"""Pass 3 of scenario loading: what the schema cannot judge, and the typed model.

Cross-references and values a JSON Schema cannot check: unique addresses, links between
known and distinct routers (or bridges), bridge URLs that stay on loopback, events and
checks on known routers and within the run, parseable times, and router clocks that stay
within the dates X.509 can carry (`sim.scenario.clock_range`). The frozen model
(`sim.scenario.model`) is built in the same pass, so a value is checked exactly where it
is used. Soak faults (`sim.scenario.soak`) are drawn here too, so a loaded scenario's
events already hold them, and `invariants:` becomes four end-of-run checks appended to the
expectations. `golden:` is checked against the routers
by `sim.scenario.golden`, which owns the golden-file format.

Every failure is a `ScenarioError` with the file and line on it (`Errors.fail` for a path;
the clock check, which is about events and routers, names their lines itself).
"""

from __future__ import annotations

import ipaddress
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.net.bridge import MAX_TIMEOUT as MAX_BRIDGE_TIMEOUT
from sim.net.bridge import parse_loopback_url
from sim.pki.cs_fsm import CsState
from sim.scenario import clock_range, golden, soak
from sim.scenario import model as m
from sim.scenario.durations import format_duration, parse_duration
from sim.scenario.errors import Errors, ScenarioError
from sim.scenario.schema_errors import did_you_mean
from sim.scenario.yaml_lines import JsonPath


class Builder:
    """Checks what the schema cannot and builds the frozen model."""

    def __init__(self, errors: Errors) -> None:
        self.errors = errors
        self.fail = errors.fail
        self.duration = 0.0
        self.routers: dict[str, m.RouterSpec] = {}
        self.bridges: dict[str, m.BridgeSpec] = {}
        self.links: dict[frozenset[str], m.LinkSpec] = {}
        # Indexes for the uniqueness checks: scanning every earlier node per node made
        # loading a 10,000-router file quadratic.
        self._names_lower: dict[str, str] = {}
        self._by_address: dict[str, m.RouterSpec | m.BridgeSpec] = {}

    def scenario(self, data: dict[str, Any], source: Path | None, *, variant: str = "",
                 axes: tuple[tuple[str, str], ...] = ()) -> m.Scenario:
        start = self.timestamp(data["start"], ("start",)) if "start" in data else None
        self.duration = self.seconds(data["duration"], ("duration",))
        if self.duration <= 0:
            self.fail(("duration",), "must be longer than 0s")
        release = str(data.get("release", m.DEFAULT_RELEASE))
        for name, spec in data["routers"].items():
            self.router(name, spec, ("routers", name), release)
        for name, spec in data.get("bridge", {}).items():
            self.bridge(name, spec, ("bridge", name))
        for index, spec in enumerate(data.get("links", [])):
            self.link(spec, ("links", index))
        events = [self.event(spec, ("events", i)) for i, spec in enumerate(data.get("events", []))]
        expects: list[m.Expectation] = [
            self.expect(spec, ("expect", i)) for i, spec in enumerate(data.get("expect", []))
        ]
        seed = int(data.get("seed", 0))
        spec = soak.parse(data["soak"], ("soak",), self) if "soak" in data else None
        faults = soak.generate(spec, seed, self.duration) if spec else ()
        pinned = golden.parse(data["golden"], ("golden",), self) if "golden" in data else None
        invariants = bool(data.get("invariants", spec is not None))
        if invariants:
            line = self.errors.line(("invariants",) if "invariants" in data else ("soak",))
            expects += [m.InvariantExpect(key, line) for key in m.INVARIANTS]
        scenario = m.Scenario(
            name=data["name"],
            description=data["description"].rstrip(),
            seed=seed,
            start=start or m.DEFAULT_START,
            duration=self.duration,
            routers=tuple(self.routers.values()),
            links=tuple(self.links.values()),
            events=soak.merge(sorted(events, key=lambda event: event.at), faults),
            expectations=tuple(expects),
            source=source,
            variant=variant,
            axes=axes,
            soak=spec,
            invariants=invariants,
            golden=pinned,
            bridges=tuple(self.bridges.values()),
            strict=bool(data.get("strict", False)),
        )
        problem = clock_range.clock_problem(scenario)
        if problem:
            line, message = problem
            raise ScenarioError(self.errors.filename, line, message)
        return scenario

    # -- values --
    def seconds(self, value: Any, path: JsonPath, *, signed: bool = False) -> float:
        try:
            return parse_duration(value, allow_negative=signed)
        except ValueError as exc:
            self.fail(path, str(exc))

    def timestamp(self, text: str, path: JsonPath) -> datetime:
        try:
            value = datetime.fromisoformat(text)
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except ValueError:
            self.fail(path, f"{text!r} is not a valid date and time (e.g. 2005-01-06T20:55:00Z)")
        except OverflowError:  # 0001-01-01T00:00+14:00 is in the year 0 in UTC
            value = datetime.min.replace(tzinfo=UTC)
        if clock_range.out_of_range(value):
            self.fail(path, f"{text!r} is outside {clock_range.RANGE_TEXT}")
        return value

    def known_router(self, name: str, path: JsonPath, what: str = "router") -> str:
        if name in self.bridges:
            self.fail(
                path[:2],
                f"'{name}' is a bridge to a real server (line {self.bridges[name].line}), not "
                "a simulated router: it has no console, clock or configuration",
                line_path=path,
            )
        if name not in self.routers:
            hint = did_you_mean(name, self.routers)
            self.fail(
                path[:2],
                f"unknown {what} '{name}'{hint} (routers are: {', '.join(self.routers)})",
                line_path=path,
            )
        return name

    def known_node(self, name: str, path: JsonPath) -> str:
        """A link endpoint: a router or a bridge."""
        if name in self.bridges:
            return name
        if not self.bridges:
            return self.known_router(name, path)
        if name not in self.routers:
            nodes = [*self.routers, *self.bridges]
            hint = did_you_mean(name, nodes)
            self.fail(
                path[:2],
                f"unknown router or bridge '{name}'{hint} (they are: {', '.join(nodes)})",
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
    def router(self, name: str, spec: dict[str, Any], path: JsonPath,
               release: str = m.DEFAULT_RELEASE) -> None:
        """A `routers:` entry; `release` is the scenario's, for a router naming none."""
        known = self._names_lower.get(name.lower())
        if known is not None:
            self.fail(
                path,
                f"router names must differ in more than letter case "
                f"('{known}' exists; report files would collide)",
            )
        address = self.unique_address(spec["address"], path + ("address",))
        self._names_lower[name.lower()] = name
        self._by_address[address] = self.routers[name] = m.RouterSpec(
            name=name,
            address=address,
            clock=self.clock(spec.get("clock", {}), path + ("clock",)),
            config=_lines(spec.get("config", "")),
            release=str(spec.get("release", release)),
            line=self.errors.line(path),
        )

    def unique_address(self, text: str, path: JsonPath) -> str:
        address = self.address(text, path)
        other = self._by_address.get(address)
        if other is not None:
            kind = "router" if isinstance(other, m.RouterSpec) else "bridge"
            self.fail(
                path,
                f"{address} is already the address of {kind} {other.name} (line {other.line})",
            )
        return address

    def bridge(self, name: str, spec: dict[str, Any], path: JsonPath) -> None:
        """A `bridge:` entry: a pseudo-node whose HTTP a real server on loopback answers."""
        known = self._names_lower.get(name.lower())
        if known is not None:
            self.fail(
                path,
                f"'{name}' is already the name of a router or bridge ('{known}'); "
                "links name bridges like routers, so names must differ in more than "
                "letter case",
            )
        address = self.unique_address(spec["address"], path + ("address",))
        try:
            url = parse_loopback_url(spec["url"]).text
        except ValueError as exc:
            self.fail(path + ("url",), str(exc))
        timeout = self.seconds(spec.get("timeout", m.DEFAULT_BRIDGE_TIMEOUT),
                               path + ("timeout",))
        if not 0 < timeout <= MAX_BRIDGE_TIMEOUT:
            self.fail(path + ("timeout",),
                      f"must be above 0s and at most {format_duration(MAX_BRIDGE_TIMEOUT)} "
                      "(the simulation stands still while a bridge waits)")
        self._names_lower[name.lower()] = name
        self._by_address[address] = self.bridges[name] = m.BridgeSpec(
            name=name,
            address=address,
            url=url,
            port=int(spec.get("port", 80)),
            timeout=timeout,
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
        self.known_node(a, endpoints + (0,))
        self.known_node(b, endpoints + (1,))
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
            self.known_node(a, path + (action, 0))
            self.known_node(b, path + (action, 1))
            if frozenset((a, b)) not in self.links:
                self.fail(
                    path,
                    f"there is no link between {a} and {b} (see 'links')",
                    line_path=path + (action,),
                )
            return m.LinkEvent(at=at, a=a, b=b, up=action == "link_up", line=line)
        if action == "link_change":
            a, b = value["endpoints"]
            self.known_node(a, path + (action, "endpoints", 0))
            self.known_node(b, path + (action, "endpoints", 1))
            if frozenset((a, b)) not in self.links:
                self.fail(path, f"there is no link between {a} and {b} (see 'links')",
                          line_path=path + (action,))
            latency = (self.seconds(value["latency"], path + (action, "latency"))
                       if "latency" in value else None)
            loss = float(value["loss"]) if "loss" in value else None
            if loss is not None and not 0.0 <= loss <= 1.0:  # NaN passes the schema's bounds
                self.fail(path + (action, "loss"), f"{loss} is not a probability between 0 and 1")
            return m.LinkChangeEvent(at=at, a=a, b=b, latency=latency, loss=loss, line=line)
        router = self.known_router(spec["router"], path + ("router",))
        match action:
            case "cli":
                lines = _lines(value)
                if not lines:
                    self.fail(path + ("cli",), "has no commands")
                answers = self.answers(spec.get("input", ()), path + ("input",))
                keyed = self.keyed_answers(spec.get("answers", {}), path + ("answers",))
                return m.CliEvent(at=at, router=router, lines=lines, input=answers, line=line,
                                  answers=keyed,
                                  expect_warnings=bool(spec.get("expect_warnings", False)))
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

    def answers(self, value: str | list[str | dict[str, Any]], path: JsonPath
                ) -> tuple[m.InputItem, ...]:
        """A `cli` event's `input`: one answer as text, or a list of answers, each text (typed
        `ANSWER_DELAY` after its prompt), `{text, after}`, `{ctrl_c: true, after}` or
        `{paste_from: {router, artifact}}` (`sim.scenario.paste`)."""
        items = [value] if isinstance(value, str) else value
        answers: list[m.InputItem] = []
        for index, item in enumerate(items):
            if isinstance(item, str):
                answers.append(m.Answer(item))
                continue
            where = path + (index,)
            if "paste_from" in item:
                answers.append(self.paste_from(item["paste_from"], where + ("paste_from",)))
                continue
            after = self.seconds(item["after"], where + ("after",)) if "after" in item else None
            answers.append(m.Answer(item.get("text", ""), after, ctrl_c="ctrl_c" in item))
        return tuple(answers)

    def keyed_answers(self, value: dict[str, Any], path: JsonPath
                      ) -> tuple[tuple[str, m.Answer], ...]:
        """A `cli` event's `answers:`, prompt text -> answer, in file order. An answer is
        what an `input` item is, except a paste: a paste has no prompt text to key it."""
        keyed: list[tuple[str, m.Answer]] = []
        for key, item in value.items():
            where = path + (key,)
            if isinstance(item, str):
                keyed.append((key, m.Answer(item)))
                continue
            if "paste_from" in item:
                self.fail(where, "a paste answers no prompt text (IOS asks for the lines "
                                 "without one): put it in 'input'")
            after = self.seconds(item["after"], where + ("after",)) if "after" in item else None
            keyed.append((key, m.Answer(item.get("text", ""), after, ctrl_c="ctrl_c" in item)))
        return tuple(keyed)

    def paste_from(self, spec: dict[str, Any], path: JsonPath) -> m.PasteFrom:
        """`{router: R, artifact: NAME}`: R is a router of the scenario (a bridge keeps no
        artifacts) and NAME one line, a file name or an `fnmatch` pattern."""
        router = self.known_router(spec["router"], path + ("router",))
        artifact = str(spec["artifact"])
        if not artifact.strip() or any(c in artifact for c in "/\\\n\r"):
            self.fail(path + ("artifact",),
                      f"{artifact!r} is not an artifact name (a file name such as "
                      "'ca.csr.pem' or a pattern such as 'ca-issued-*.cert.pem')")
        return m.PasteFrom(router, artifact, self.errors.line(path))

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
