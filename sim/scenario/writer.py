"""Write a scenario model back as a scenario file (the inverse of `sim.scenario.loader`).

A console session saved "as a scenario file that replays it" and a lab built in Python
both end as a `sim.scenario.model.Scenario`; `scenario_yaml` turns one into the YAML that
`pkilab validate` and `pkilab run` read, laid out like the shipped files: `name`,
`description` as a `|` block, `seed`, `start`, `duration`, `invariants`, `routers` (clock
only when it is not the default, `config` as a `|` block), `bridge`, `links` one flow line
each, `events` by time, `expect`. Short events and checks take one flow line
(`{at: 2m, link_down: [core, r2]}`); longer ones, and every multi-line console text, a
block. A prompt answer is text, or `{text: ..., after: 7.5s}` / `{ctrl_c: true, after: 3s}`
when it has a delay of its own or is Ctrl-C (a live console session's answers). How
each value is spelled (quoting, `|2`, exact durations, `$${`) is
`sim.scenario.yaml_scalars`'s job.

The promise: for a scenario the loader accepts, loading the written text gives an equal
model, except for what only the file it came from knows (`line`, `source`) and what a
single file of events cannot be:

- a matrix run (`variant`, `axes`) is written as the plain file of that one run, its
  placeholders filled in and the other runs' events gone;
- a soak (`soak`) is written as the faults it drew for the scenario's seed, as plain
  events (so `--seed N` no longer redraws them), with `invariants: true` spelt out when
  the soak turned the invariants on;
- `golden` is left out: its files live beside the original file (`<stem>.golden/`),
  and a written file goes elsewhere, or is a run of a matrix whose golden files are per run.

A comment at the top of the file says which of these happened. Values the loader would
refuse (an unknown router, a duration past ten years) are written as they are, and the
loader says what is wrong, at the line. What a file can hold no way at all raises
`ScenarioWriteError` instead of being changed silently: console or config lines ending in
spaces (the loader strips them), blank first or last console lines (dropped), characters
YAML cannot carry (NUL, ESC, ...), invariant checks that are not the loader's four.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from sim.scenario import model as m
from sim.scenario.yaml_lines import JsonPath, character_name, where
from sim.scenario.yaml_scalars import (
    LINE_SPLITTERS,
    block_header,
    duration_text,
    escape_placeholders,
    number_text,
    scalar,
    timestamp_text,
    unwritable_character,
)

__all__ = ["ScenarioWriteError", "scenario_yaml"]

WIDTH = 100
"""Longest one-line event, check or list, like the repository's code and shipped files."""


class ScenarioWriteError(ValueError):
    """The model holds something no scenario file can say; the message names where."""


def scenario_yaml(scenario: m.Scenario) -> str:
    """The scenario file for `scenario`, as text (see the module docstring).

    Raises `ScenarioWriteError` for what no scenario file can hold.
    """
    return "".join(line + "\n" for line in _Writer(scenario).lines())


# -- values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    """Free text, quoted as its place needs (`yaml_scalars.scalar`)."""

    text: str


@dataclass(frozen=True)
class _Token:
    """A value spelt the same anywhere: a duration, number, timestamp or boolean."""

    text: str


@dataclass(frozen=True)
class _Seq:
    """A list; `block` asks for one item per line even when the list would fit a line."""

    items: tuple[_Text | _Token | _Map, ...]
    block: bool = False


@dataclass(frozen=True)
class _Map:
    """A small mapping always written in flow style (`clock`, `link_change`, an answer
    with a delay)."""

    fields: tuple[tuple[str, _Value], ...]


@dataclass(frozen=True)
class _Block:
    """Console or config text as a `|` literal block: the header and its lines."""

    header: str
    lines: tuple[str, ...]


_Value = _Text | _Token | _Seq | _Map | _Block
_Fields = list[tuple[str, _Value]]


def _flow(value: _Value) -> str | None:
    """`value` inside a flow collection or on one line; None for a literal block."""
    match value:
        case _Text(text):
            return scalar(text, flow=True)
        case _Token(text):
            return text
        case _Seq(items):
            return "[" + ", ".join(str(_flow(item)) for item in items) + "]"
        case _Map(fields):
            parts = [f"{scalar(key, flow=True)}: {_flow(item)}" for key, item in fields]
            return "{" + ", ".join(parts) + "}"
    return None


def _one_line(fields: _Fields, indent: int) -> str | None:
    """`- {k: v, ...}` at `indent`, if every value fits a flow line within `WIDTH`."""
    parts = []
    for key, value in fields:
        text = _flow(value)
        if text is None or (isinstance(value, _Seq) and value.block):
            return None
        parts.append(f"{key}: {text}")
    line = " " * indent + "- {" + ", ".join(parts) + "}"
    return line if len(line) <= WIDTH else None


def _field(key: str, value: _Value, indent: int) -> list[str]:
    """`key: value` as block-mapping lines, the key at column `indent`."""
    pad = " " * indent
    name = scalar(key, flow=False)
    match value:
        case _Text(text):
            return [f"{pad}{name}: {scalar(text, flow=False)}"]
        case _Block(header, lines):
            inner = " " * (indent + 2)
            return [f"{pad}{name}: {header}", *(inner + line if line else "" for line in lines)]
        case _Seq(items, block):
            line = f"{pad}{name}: {_flow(value)}"
            if not block and len(line) <= WIDTH:
                return [line]
            return [f"{pad}{name}:", *(f"{pad}  - {_item(item)}" for item in items)]
    return [f"{pad}{name}: {_flow(value)}"]


def _item(value: _Text | _Token | _Map) -> str:
    if isinstance(value, _Map):
        return str(_flow(value))
    return scalar(value.text, flow=False) if isinstance(value, _Text) else value.text


def _list_item(fields: _Fields, indent: int) -> list[str]:
    """A mapping in a block sequence: one flow line if it fits, else a block mapping."""
    line = _one_line(fields, indent)
    if line is not None:
        return [line]
    lines: list[str] = []
    for key, value in fields:
        lines += _field(key, value, indent + 2)
    return [" " * indent + "- " + lines[0][indent + 2:], *lines[1:]]


def _bool(value: bool) -> _Token:
    return _Token("true" if value else "false")


def _at(seconds: float) -> _Token:
    return _Token(duration_text(seconds))


# -- the writer --------------------------------------------------------------------------


class _Writer:
    """Lays out one scenario; every string passes `text`, which refuses what cannot be."""

    def __init__(self, scenario: m.Scenario) -> None:
        self.scenario = scenario

    def lines(self) -> list[str]:
        s = self.scenario
        out = self.header()
        out.append(f"name: {scalar(self.checked(s.name, ('name',)), flow=False)}")
        out += _field("description", self.prose(s.description, ("description",)), 0)
        out.append(f"seed: {int(s.seed)}")
        out.append(f"start: {timestamp_text(s.start)}")
        out.append(f"duration: {duration_text(s.duration)}")
        if self.invariants():
            out.append("invariants: true")
        if s.strict:
            out.append("strict: true")
        out.append("routers:")
        for router in s.routers:
            out += self.router(router)
        if s.bridges:
            out.append("bridge:")
            for bridge in s.bridges:
                out += self.bridge(bridge)
        if s.links:
            out.append("links:")
            out += [self.link(link, ("links", i)) for i, link in enumerate(s.links)]
        events = sorted(enumerate(s.events), key=lambda pair: pair[1].at)  # stable
        if events:
            out.append("events:")
            for index, event in events:
                out += _list_item(self.event(event, ("events", index)), 2)
        checks = [(i, x) for i, x in enumerate(s.expectations)
                  if not isinstance(x, m.InvariantExpect)]
        if checks:
            out.append("expect:")
            for index, check in checks:
                out += _list_item(self.expect(check, ("expect", index)), 2)
        return out

    # -- what cannot be said --
    def fail(self, path: JsonPath, message: str) -> ScenarioWriteError:
        return ScenarioWriteError(f"{where(path)}: {message}")

    def text(self, value: str, path: JsonPath) -> str:
        """`value` checked for characters YAML cannot carry, `${` escaped."""
        return escape_placeholders(self.checked(value, path))

    def checked(self, value: str, path: JsonPath) -> str:
        """`value`, if a file can hold it at all; not escaped (`name` takes no placeholders,
        and a console block is escaped as a whole)."""
        bad = unwritable_character(value)
        if bad is not None:
            raise self.fail(path, f"{character_name(bad)} cannot appear in a scenario file "
                                  f"(in {value!r})")
        return value

    def header(self) -> list[str]:
        s = self.scenario
        notes = []
        if s.variant:
            notes.append(f"Run [{s.variant}] of the matrix scenario {s.name}, written as a "
                         "plain file: placeholders filled in, no matrix:.")
        if s.soak is not None:
            notes.append(f"The soak faults drawn for seed {s.seed} are plain events here (no "
                         "soak:), so --seed no longer redraws them.")
        if s.golden is not None:
            notes.append("golden: is left out: its files belong beside the original file.")
        return ["# " + line for note in notes for line in textwrap.wrap(note, WIDTH - 2)]

    def invariants(self) -> bool:
        """`invariants: true` when the model has them; they must be the loader's four."""
        found = tuple(x.invariant for x in self.scenario.expectations
                      if isinstance(x, m.InvariantExpect))
        if found != (tuple(m.INVARIANTS) if self.scenario.invariants else ()):
            raise self.fail(("invariants",), f"the expectations hold the invariants "
                                             f"{list(found)} with invariants="
                                             f"{self.scenario.invariants}; a file can only "
                                             f"ask for all of {list(m.INVARIANTS)}, at the end")
        tail = self.scenario.expectations[len(self.scenario.expectations) - len(found):]
        if any(not isinstance(x, m.InvariantExpect) for x in tail):
            raise self.fail(("invariants",), "the invariant checks must come after every "
                                             "other expectation, where the loader puts them")
        return bool(found)

    # -- values that need care --
    def prose(self, value: str, path: JsonPath) -> _Value:
        """The description: a `|` block, or one quoted line if a block would change it."""
        if value != value.rstrip():
            raise self.fail(path, "ends in white space, which the loader strips")
        text = self.text(value, path)
        lines = tuple(text.split("\n"))
        header = block_header(lines)
        return _Text(text) if header is None else _Block(header, lines)

    def console(self, lines: tuple[str, ...], path: JsonPath, *, one_line: bool) -> _Value:
        """Console or config lines: a `|` block (or, with `one_line`, a plain line when
        there is one), or a list when a block would split or change a line."""
        if lines and (not lines[0] or not lines[-1]):
            raise self.fail(path, "a blank first or last line (a bare Return) cannot be "
                                  "written: the loader drops blank lines at the ends")
        for line in lines:
            if line != line.rstrip():
                raise self.fail(path, f"{line!r} ends in white space, which the loader "
                                      "strips")
        raw = [self.checked(line, path) for line in lines]
        if one_line and len(raw) == 1 and not LINE_SPLITTERS.intersection(raw[0]):
            return _Text(escape_placeholders(raw[0]))
        header = block_header(raw)
        if header is None:
            return _Seq(tuple(_Text(escape_placeholders(line)) for line in raw))
        # The loader fills placeholders in the block's text as a whole, and one can span
        # lines (`${` here, `}` two lines down), so the text is escaped as a whole too.
        return _Block(header, tuple(escape_placeholders("\n".join(raw)).split("\n")))

    def texts(self, values: Iterable[str], path: JsonPath, *, block: bool = False) -> _Seq:
        return _Seq(tuple(_Text(self.text(v, path)) for v in values), block)

    def answers(self, answers: tuple[m.InputItem, ...], path: JsonPath) -> _Seq:
        """A `cli` event's `input`: each answer as text when it has neither a delay nor
        Ctrl-C (the short form, typed `ANSWER_DELAY` after its prompt), else as
        `{text: TEXT, after: DURATION}` or `{ctrl_c: true, after: DURATION}`; a paste of
        another router's artifact as `{paste_from: {router: R, artifact: NAME}}`."""
        items: list[_Text | _Token | _Map] = []
        for answer in answers:
            if isinstance(answer, m.PasteFrom):
                source = _Map((("router", _Text(self.text(answer.router, path))),
                               ("artifact", _Text(self.text(answer.artifact, path)))))
                items.append(_Map((("paste_from", source),)))
                continue
            items.append(self.answer(answer, path))
        return _Seq(tuple(items))

    def answer(self, answer: m.Answer, path: JsonPath) -> _Text | _Map:
        """One answer: text, `{text: TEXT, after: DURATION}` or `{ctrl_c: true, ...}`."""
        text = _Text(self.text(answer.text, path))
        if answer.after is None and not answer.ctrl_c:
            return text
        fields: list[tuple[str, _Value]] = [("ctrl_c", _bool(True)) if answer.ctrl_c
                                            else ("text", text)]
        if answer.after is not None:
            fields.append(("after", _at(answer.after)))
        return _Map(tuple(fields))

    def keyed_answers(self, answers: tuple[tuple[str, m.Answer], ...], path: JsonPath
                      ) -> _Map:
        """A `cli` event's `answers:`, prompt text -> answer, in flow style."""
        return _Map(tuple((self.text(key, path), self.answer(answer, path + (key,)))
                          for key, answer in answers))

    def matches(self, values: tuple[str, ...], path: JsonPath) -> _Value:
        """Lines to look for: one as text, several as a list, one per line."""
        if len(values) == 1:
            return _Text(self.text(values[0], path))
        return self.texts(values, path, block=True)

    def pair(self, a: str, b: str, path: JsonPath) -> _Seq:
        return self.texts((a, b), path)

    # -- topology --
    def router(self, router: m.RouterSpec) -> list[str]:
        path: JsonPath = ("routers", router.name)
        fields: _Fields = [("address", _Text(self.text(router.address, path + ("address",))))]
        if router.release != m.DEFAULT_RELEASE:
            fields.append(("release", _Text(self.text(router.release, path + ("release",)))))
        clock = self.clock(router.clock)
        if clock.fields:
            fields.append(("clock", clock))
        if router.config:
            fields.append(("config", self.console(router.config, path + ("config",),
                                                  one_line=False)))
        name = scalar(self.text(router.name, path), flow=False)
        return [f"  {name}:", *(line for key, value in fields for line in _field(key, value, 4))]

    def clock(self, clock: m.ClockSpec) -> _Map:
        default = m.ClockSpec()
        fields: list[tuple[str, _Value]] = []
        if clock.set != default.set:
            fields.append(("set", _bool(clock.set)))
        if clock.value is not None:
            fields.append(("value", _Token(timestamp_text(clock.value))))
        if clock.offset != default.offset:
            fields.append(("offset", _Token(duration_text(clock.offset))))
        if clock.drift_ppm != default.drift_ppm:
            fields.append(("drift_ppm", _Token(number_text(clock.drift_ppm))))
        if clock.authoritative is not None:
            fields.append(("authoritative", _bool(clock.authoritative)))
        if clock.calendar != default.calendar:
            fields.append(("calendar", _bool(clock.calendar)))
        return _Map(tuple(fields))

    def bridge(self, bridge: m.BridgeSpec) -> list[str]:
        path: JsonPath = ("bridge", bridge.name)
        fields: _Fields = [
            ("address", _Text(self.text(bridge.address, path + ("address",)))),
            ("url", _Text(self.text(bridge.url, path + ("url",)))),
        ]
        if bridge.port != 80:
            fields.append(("port", _Token(str(int(bridge.port)))))
        if bridge.timeout != m.DEFAULT_BRIDGE_TIMEOUT:
            fields.append(("timeout", _at(bridge.timeout)))
        name = scalar(self.text(bridge.name, path), flow=False)
        return [f"  {name}:", *(line for key, value in fields for line in _field(key, value, 4))]

    def link(self, link: m.LinkSpec, path: JsonPath) -> str:
        fields: list[tuple[str, _Value]] = [("endpoints", self.pair(link.a, link.b, path))]
        if link.latency != m.DEFAULT_LATENCY:
            fields.append(("latency", _at(link.latency)))
        if link.loss != 0.0:
            fields.append(("loss", _Token(number_text(link.loss))))
        return f"  - {_flow(_Map(tuple(fields)))}"

    # -- timeline --
    def event(self, event: m.Event, path: JsonPath) -> _Fields:
        fields: _Fields = [("at", _at(event.at))]
        if not isinstance(event, m.LinkEvent | m.LinkChangeEvent):
            fields.append(("router", _Text(self.text(event.router, path + ("router",)))))
        match event:
            case m.CliEvent():
                fields.append(("cli", self.console(event.lines, path + ("cli",),
                                                   one_line=True)))
                if event.input:
                    fields.append(("input", self.answers(event.input, path + ("input",))))
                if event.answers:
                    fields.append(("answers", self.keyed_answers(event.answers,
                                                                 path + ("answers",))))
                if event.expect_warnings:
                    fields.append(("expect_warnings", _bool(True)))
            case m.LinkEvent():
                action = "link_up" if event.up else "link_down"
                fields.append((action, self.pair(event.a, event.b, path + (action,))))
            case m.LinkChangeEvent():
                change: list[tuple[str, _Value]] = [
                    ("endpoints", self.pair(event.a, event.b, path + ("link_change",)))]
                if event.latency is not None:
                    change.append(("latency", _at(event.latency)))
                if event.loss is not None:
                    change.append(("loss", _Token(number_text(event.loss))))
                fields.append(("link_change", _Map(tuple(change))))
            case m.ClockSetEvent():
                value = "now" if event.value is None else timestamp_text(event.value)
                fields.append(("clock_set", _Token(value)))
            case m.ClockUnsetEvent():
                fields.append(("clock_unset", _bool(True)))
            case m.ClockJumpEvent():
                fields.append(("clock_jump", _Token(duration_text(event.seconds))))
            case m.HttpServerEvent():
                fields.append(("http_server", _Token("on" if event.on else "off")))
            case m.ReloadEvent():
                fields.append(("reload", _bool(True)))
            case m.PowerEvent():
                fields.append(("power", _Token("on" if event.on else "off")))
            case _:
                raise self.fail(path, f"{type(event).__name__} is not a scenario event")
        return fields

    def expect(self, check: m.Expectation, path: JsonPath) -> _Fields:
        fields: _Fields = [("router", _Text(self.text(check.router, path + ("router",))))]
        if check.at is not None:
            fields.append(("at", _at(check.at)))
        match check:
            case m.ServerStateExpect():
                if check.server is not None:
                    fields.append(("server", _Text(self.text(check.server,
                                                             path + ("server",)))))
                fields.append(("server_state", _Text(check.state.value)))
            case m.TranscriptExpect():
                key = "transcript_not_contains" if check.negate else "transcript_contains"
                fields.append((key, self.matches(check.lines, path + (key,))))
            case m.ShowExpect():
                fields.append(("show", _Text(self.text(check.command, path + ("show",)))))
                if check.contains:
                    fields.append(("contains", self.list_or_text(check.contains,
                                                                 path + ("contains",))))
                if check.not_contains:
                    fields.append(("not_contains", self.list_or_text(
                        check.not_contains, path + ("not_contains",))))
            case m.NvramFileExpect():
                fields.append(("nvram_file", _Text(self.text(check.file,
                                                             path + ("nvram_file",)))))
                if not check.exists:
                    fields.append(("exists", _bool(False)))
            case m.CertificateVerifiesExpect():
                fields.append(("certificate_verifies", _Text(self.text(
                    check.name, path + ("certificate_verifies",)))))
            case _:
                raise self.fail(path, f"{type(check).__name__} is not a scenario check")
        return fields

    def list_or_text(self, values: tuple[str, ...], path: JsonPath) -> _Value:
        """`contains: "x"` for one text, `contains: [x, y]` (flow if it fits) for more."""
        if len(values) == 1:
            return _Text(self.text(values[0], path))
        return self.texts(values, path)
