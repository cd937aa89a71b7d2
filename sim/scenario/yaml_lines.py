"""Pass 1 of scenario loading: YAML composed into plain data plus a path -> line map.

The loader reports every problem at the line that caused it, and PyYAML's `safe_load`
forgets lines, so the file is *composed* (not just loaded): `read_yaml` walks the node
tree and records, for each JSON path such as `("events", 2, "at")`, the line of the key or
list item that declared it. Duplicate keys, which PyYAML would silently collapse, are
errors here, and so are alias loops and alias bombs.

Two YAML 1.1 traps are defused on the way. Mapping keys are always the text as written (a
router called `no` is not the boolean False). And free-text fields (`cli`, `input`,
`contains`, router names, ...) take plain scalars verbatim: a prompt answer written `yes`
stays "yes", a password `0123` stays "0123" instead of becoming the octal number 83.

Problems are raised as `YamlError(line, message)`, without a file name;
`sim.scenario.loader` turns them into `ScenarioError`s. `where` and `about` name a path
the way every loader message does (`events[2].at: ...`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml

JsonPath = tuple[str | int, ...]
"""Where a value sits in the data: mapping keys and list indexes from the top."""

_MAX_NODES = 100_000
"""Alias expansion bound: a scenario is small; a 'billion laughs' file is not a scenario."""

_TEXT_PATH_SPECS = " ".join(
    (
        "name description",
        "routers.*.address routers.*.config routers.*.config.* routers.*.release",
        "links.*.endpoints.*",
        "events.*.router events.*.cli events.*.cli.* events.*.input events.*.input.*",
        "events.*.link_down.* events.*.link_up.* events.*.link_change.endpoints.*",
        "expect.*.router expect.*.server expect.*.show expect.*.nvram_file",
        "expect.*.certificate_verifies",
        "expect.*.transcript_contains expect.*.transcript_contains.*",
        "expect.*.transcript_not_contains expect.*.transcript_not_contains.*",
        "expect.*.contains expect.*.contains.* expect.*.not_contains expect.*.not_contains.*",
        "soak.*.routers.* soak.*.links.*.*",
        "golden.transcripts.* golden.show.*.router golden.show.*.command",
    )
)
_TEXT_PATHS: tuple[JsonPath, ...] = tuple(tuple(s.split(".")) for s in _TEXT_PATH_SPECS.split())
"""Paths whose plain scalars are read verbatim as text (see the module docstring)."""


class YamlError(Exception):
    """The text is not usable YAML (or not plain data) at `line` (1-based)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class YamlDocument:
    """What pass 1 hands on: the data, the line of every path, and the source text of every
    plain (unquoted) scalar.

    `plain` exists for matrix values: `on` is YAML's True for an `http_server: ${x}` but the
    text "on" inside `cli: "ip http ${x}"` and in a variant id, so both readings are kept.
    """

    data: Any
    lines: dict[JsonPath, int]
    plain: dict[JsonPath, str]


def read_yaml(text: str) -> tuple[Any, dict[JsonPath, int]]:
    """The data in `text` and the line of every path in it; raises `YamlError`."""
    document = read_yaml_document(text)
    return document.data, document.lines


def read_yaml_document(text: str) -> YamlDocument:
    """`read_yaml` plus the source text of plain scalars; raises `YamlError`."""
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise _yaml_error(exc) from None
        except yaml.YAMLError as exc:
            raise YamlError(1, f"YAML error: {exc}") from None
        if root is None:
            raise YamlError(
                1,
                "the file is empty (a scenario needs at least name, description, "
                "duration and routers)",
            )
        return _Reader(loader).read(root)
    finally:
        loader.dispose()


def _yaml_error(exc: yaml.MarkedYAMLError) -> YamlError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    if isinstance(exc, yaml.composer.ComposerError) and "single document" in str(exc.context):
        return YamlError(
            line,
            "the file holds more than one YAML document; "
            "a scenario is a single document (remove '---')",
        )
    problem = exc.problem or "cannot be read"
    if isinstance(exc, yaml.constructor.ConstructorError):
        if "could not determine a constructor" in problem:
            tag = problem.rsplit("tag ", 1)[-1]
            problem = f"unsupported YAML tag {tag} (scenario files hold plain values only)"
        return YamlError(line, problem)
    context = exc.context or ""
    if context and exc.context_mark and exc.context_mark.line + 1 != line:
        context += f" on line {exc.context_mark.line + 1}"
    plain = next((text for start, text in _YAML_PROBLEMS if problem.startswith(start)), "")
    if plain:
        said = f"{problem}; {context}" if context else problem
        return YamlError(line, f"YAML syntax error: {plain} (the parser says: {said})")
    detail = f"{problem} ({context})" if context else problem
    return YamlError(line, f"YAML syntax error: {detail}")


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

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self._loader = loader
        self._lines: dict[JsonPath, int] = {}
        self._plain: dict[JsonPath, str] = {}
        self._active: set[int] = set()
        self._count = 0

    def read(self, root: yaml.Node) -> YamlDocument:
        self._lines[()] = root.start_mark.line + 1
        data = self._value(root, ())
        return YamlDocument(data, self._lines, self._plain)

    def _fail(self, node: yaml.Node, message: str) -> YamlError:
        return YamlError(node.start_mark.line + 1, message)

    def _value(self, node: yaml.Node, path: JsonPath) -> Any:
        self._count += 1
        if self._count > _MAX_NODES:
            raise self._fail(node, "the file expands to too many values (aliases nested too deep?)")
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._active:
            raise self._fail(node, about(path, "an alias refers to itself"))
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
                    key_node, about(path, "a key must be a plain name, not a list or mapping")
                )
            key, line = key_node.value, key_node.start_mark.line + 1
            if key in seen:
                raise self._fail(
                    key_node,
                    f"{where(path + (key,))}: duplicate key "
                    f"'{key}' (first given on line {seen[key]})",
                )
            seen[key] = line
        try:
            self._loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        except yaml.MarkedYAMLError as exc:
            raise _yaml_error(exc) from None
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            self._lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = self._value(value_node, path + (key,))
        return result

    def _scalar(self, node: yaml.ScalarNode, path: JsonPath) -> Any:
        if node.style is None:
            self._plain[path] = node.value
            if is_text_path(path):
                return node.value
        try:
            value = self._loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            raise _yaml_error(exc) from None
        except (ValueError, OverflowError) as exc:  # e.g. 2005-02-30 as a timestamp
            raise self._fail(
                node, about(path, f"{node.value!r} is not a valid value ({exc})")
            ) from None
        if isinstance(value, datetime | date):
            return value.isoformat()  # parsed again, with line-aware messages, in pass 3
        return value


def is_text_path(path: JsonPath) -> bool:
    """Whether the value at `path` is free text, read verbatim (see the module docstring)."""
    return any(_matches(path, spec) for spec in _TEXT_PATHS)


def _matches(path: JsonPath, spec: JsonPath) -> bool:
    return len(path) == len(spec) and all(
        s == "*" or s == p for p, s in zip(path, spec, strict=False)
    )


def about(path: JsonPath, message: str) -> str:
    """`message` prefixed with the path it is about, if any."""
    place = where(path)
    return f"{place}: {message}" if place else message


def where(path: Iterable[str | int]) -> str:
    """`path` as messages write it: `("events", 2, "at")` is `events[2].at`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
