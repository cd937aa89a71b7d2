"""Pass 1 of scenario loading: YAML composed into plain data plus a path -> line map.

The loader reports every problem at the line that caused it, and PyYAML's `safe_load`
forgets lines, so the file is *composed* (not just loaded): `read_yaml` walks the node
tree and records, for each JSON path such as `("events", 2, "at")`, the line of the key or
list item that declared it. Duplicate keys, which PyYAML would silently collapse, are
errors here, and so are alias loops and alias bombs.

A scenario file may come from anyone, so nothing in it may crash or exhaust the loader:
characters YAML forbids (NUL and the other C0 controls) are reported at their line and
column before PyYAML sees them, and again when a double-quoted escape (`"\\x00"`) smuggles
them into a value; nesting deeper than `_MAX_DEPTH` is refused while composing (PyYAML's
composer recurses); a 'billion laughs' of aliases stops at `max_values` values; and merge
keys (`<<: *a`) are merged one entry per key, so that they cannot grow tenfold a level.

Two YAML 1.1 traps are defused on the way. Mapping keys are always the text as written (a
router called `no` is not the boolean False). And free-text fields (`cli`, `input`,
`contains`, router names, ...) take plain scalars verbatim: a prompt answer written `yes`
stays "yes", a password `0123` stays "0123" instead of becoming the octal number 83.

Problems are raised as `YamlError(line, message)`, without a file name;
`sim.scenario.loader` turns them into `ScenarioError`s. `where` and `about` name a path
the way every loader message does (`events[2].at: ...`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

JsonPath = tuple[str | int, ...]
"""Where a value sits in the data: mapping keys and list indexes from the top."""

_MIN_MAX_NODES = 100_000
"""Alias expansion bound: a file may hold one value per character of its text, and at least
this many. A file without aliases can never reach one value per character (each value
takes a character and a separator), so a 10,000-router scenario of several megabytes
loads, while a 'billion laughs' of aliases still stops after a number of values linear in
the file's size."""


def max_values(text: str) -> int:
    """How many values `text` may expand to (see `_MIN_MAX_NODES`)."""
    return max(_MIN_MAX_NODES, len(text))

_MAX_DEPTH = 64
"""Nesting bound. A scenario is six levels deep at most (`events[0].link_change.endpoints`
holds a list in a mapping in a mapping in a list in a mapping); 64 leaves room for `x-`
anchors, and keeps PyYAML's recursive composer far from Python's recursion limit."""

_NOT_TEXT = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters YAML 1.1 does not allow in a stream (PyYAML's `Reader.NON_PRINTABLE`): the C0
controls but tab and line breaks, DEL, the C1 controls but NEL, surrogates, U+FFFE/U+FFFF."""

_CONTROL_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "backspace", 0x0B: "vertical tab",
                  0x0C: "form feed", 0x1B: "ESC", 0x7F: "DEL"}

_TEXT_PATH_SPECS = " ".join(
    (
        "name description release",
        "routers.*.address routers.*.config routers.*.config.* routers.*.release",
        "bridge.*.address bridge.*.url",
        "links.*.endpoints.*",
        "events.*.router events.*.cli events.*.cli.* events.*.input events.*.input.*",
        "events.*.input.*.text events.*.input.*.paste_from.router",
        "events.*.input.*.paste_from.artifact",
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

_TEXT_PATHS_BY_HEAD: dict[tuple[int, str | int], tuple[JsonPath, ...]] = {
    (len(spec), spec[0]): tuple(s for s in _TEXT_PATHS if (len(s), s[0]) == (len(spec), spec[0]))
    for spec in _TEXT_PATHS
}
"""`_TEXT_PATHS` by length and top-level key: every scalar is looked up, a big file has many."""


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

    data: object
    lines: dict[JsonPath, int]
    plain: dict[JsonPath, str]


def read_yaml(text: str) -> tuple[object, dict[JsonPath, int]]:
    """The data in `text` and the line of every path in it; raises `YamlError`."""
    document = read_yaml_document(text)
    return document.data, document.lines


def read_yaml_document(text: str) -> YamlDocument:
    """`read_yaml` plus the source text of plain scalars; raises `YamlError`."""
    bad = _NOT_TEXT.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        raise YamlError(line, f"column {column}: {character_name(bad.group())} cannot appear "
                              "in a scenario file (YAML allows tabs, line breaks and "
                              "printable characters only)")
    try:
        loader, root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc) from None
    except yaml.YAMLError as exc:
        raise YamlError(1, f"YAML error: {exc}") from None
    try:
        if root is None:
            raise YamlError(
                1,
                "the file is empty (a scenario needs at least name, description, "
                "duration and routers)",
            )
        return _Reader(loader, max_values(text)).read(root)
    finally:
        loader.dispose()


def character_name(char: str) -> str:
    """`char` as a message names it: "the control character U+0000 (NUL)"."""
    code = ord(char)
    name = _CONTROL_NAMES.get(code, "")
    if 0xD800 <= code <= 0xDFFF:
        kind = "the lone surrogate"
    elif code in (0xFFFE, 0xFFFF):
        kind = "the non-character"
    else:
        kind = "the control character"
    return f"{kind} U+{code:04X}" + (f" ({name})" if name else "")


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with the bounds a hostile file must not get round."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._flattening: set[int] = set()

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:  # PyYAML's own
        # PyYAML composes recursively, a few frames per level: bound the depth before
        # Python's recursion limit does it with a RecursionError.
        if self._depth >= _MAX_DEPTH:
            line = self.peek_event().start_mark.line + 1
            raise YamlError(line, f"values nested more than {_MAX_DEPTH} levels deep "
                                  "(a scenario is a few levels deep)")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def flatten_mapping(self, node: MappingNode) -> None:
        """Resolve merge keys (`<<: *anchor`) as PyYAML does, one entry per key.

        PyYAML concatenates the merged mappings' entries, duplicates and all, so mappings
        that each merge ten copies of the one before grow tenfold a level. Here each key
        keeps the entry that wins (the mapping's own over merged ones; among merged
        mappings, the earlier in the list) at the place PyYAML's order first gives it.
        """
        if id(node) in self._flattening:
            raise YamlError(node.start_mark.line + 1, "a merge key ('<<') merges a mapping "
                                                     "into itself")
        self._flattening.add(id(node))
        try:
            merged: list[tuple[Node, Node]] = []
            own: list[tuple[Node, Node]] = []
            for key_node, value_node in node.value:
                if key_node.tag != "tag:yaml.org,2002:merge":
                    if key_node.tag == "tag:yaml.org,2002:value":
                        key_node.tag = "tag:yaml.org,2002:str"
                    own.append((key_node, value_node))
                    continue
                sources = (value_node.value if isinstance(value_node, SequenceNode)
                           else [value_node])
                for source in reversed(sources):  # later sources first: earlier ones win
                    if not isinstance(source, MappingNode):
                        raise YamlError(key_node.start_mark.line + 1,
                                        "a merge key ('<<') takes a mapping or a list of "
                                        f"mappings, not {_node_kind(source)}")
                    self.flatten_mapping(source)
                    merged += source.value
            if merged:
                node.value = _one_per_key(merged + own)
        finally:
            self._flattening.discard(id(node))


# Any: `yaml.cyaml` and its CParser exist only when PyYAML was built with libyaml.
_LIBYAML_PARSER: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None)


class _LibyamlLoader(_Loader):
    """`_Loader` with libyaml scanning and parsing: seven times faster on a 10,000-router
    file than PyYAML's pure-Python scanner, which was most of the time such a file took to
    load. Composing nodes stays `_Loader`'s Python code, so the depth bound and the
    merge-key handling see every node (libyaml's own composer is C that would skip both).
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._events = _LIBYAML_PARSER(text)

    def check_event(self, *choices: Any) -> bool:
        return bool(self._events.check_event(*choices))

    def peek_event(self) -> Any:
        return self._events.peek_event()

    def get_event(self) -> Any:
        return self._events.get_event()

    def dispose(self) -> None:
        self._events.dispose()
        super().dispose()


def _compose(text: str) -> tuple[_Loader, Node | None]:
    """The loader that read `text` and its root node.

    libyaml reads it when present; a file it finds broken is read again by PyYAML, whose
    complaints (`_YAML_PROBLEMS`) the error messages are written for, and which reads a few
    escapes libyaml refuses (a lone surrogate, refused later with its own message).
    """
    if _LIBYAML_PARSER is not None:
        fast = _LibyamlLoader(text)
        try:
            return fast, fast.get_single_node()
        except yaml.YAMLError:
            fast.dispose()
    loader = _Loader(text)
    try:
        return loader, loader.get_single_node()
    except BaseException:
        loader.dispose()
        raise


def _node_kind(node: Node) -> str:
    return {ScalarNode: "a single value", SequenceNode: "a list"}.get(type(node), "a mapping")


def _one_per_key(pairs: list[tuple[Node, Node]]) -> list[tuple[Node, Node]]:
    """The last entry of each key, at the place of the key's first entry."""
    place: dict[object, int] = {}
    kept: list[tuple[Node, Node]] = []
    for key_node, value_node in pairs:
        key = key_node.value if isinstance(key_node, ScalarNode) else id(key_node)
        if key in place:
            kept[place[key]] = (key_node, value_node)
        else:
            place[key] = len(kept)
            kept.append((key_node, value_node))
    return kept


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

    def __init__(self, loader: yaml.SafeLoader, max_values: int) -> None:
        self._loader = loader
        self._max_values = max_values
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

    def _value(self, node: yaml.Node, path: JsonPath) -> object:
        self._count += 1
        if self._count > self._max_values:
            raise self._fail(node, f"the file expands to more than {self._max_values:,} values "
                                   "(aliases nested too deep?): a scenario may hold one value "
                                   f"per character of its text, and at least "
                                   f"{_MIN_MAX_NODES:,}")
        if len(path) > _MAX_DEPTH:  # aliases can nest what is written shallow
            raise self._fail(node, about(path[:8], f"values nested more than {_MAX_DEPTH} "
                                                   "levels deep (through aliases)"))
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
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            raise self._fail(node, about(path, "is not a value, list or mapping"))
        finally:
            self._active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: JsonPath) -> dict[str, object]:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._fail(
                    key_node, about(path, "a key must be a plain name, not a list or mapping")
                )
            key, line = key_node.value, key_node.start_mark.line + 1
            _check_text(key, key_node, path)
            if key in seen:
                raise self._fail(
                    key_node,
                    f"{where(path + (key,))}: duplicate key "
                    f"'{key}' (first given on line {seen[key]})",
                )
            seen[key] = line
        self._loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):  # from a merged mapping
                raise self._fail(
                    key_node, about(path, "a key must be a plain name, not a list or mapping")
                )
            key = str(key_node.value)
            _check_text(key, key_node, path)
            self._lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = self._value(value_node, path + (key,))
        return result

    def _scalar(self, node: yaml.ScalarNode, path: JsonPath) -> object:
        _check_text(node.value, node, path)
        if not node.style:  # plain: PyYAML says None, libyaml ""
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


def _check_text(text: str, node: yaml.Node, path: JsonPath) -> None:
    """Refuse what the file may not hold raw when an escape (`"\\x00"`, `"\\ud800"`) makes it.

    A NUL in a console command or an ESC in an expectation that `pkilab run` prints would
    reach the transcript, the report and the user's terminal; a lone surrogate cannot even
    be written out as UTF-8.
    """
    bad = _NOT_TEXT.search(text)
    if bad:
        raise YamlError(node.start_mark.line + 1,
                        about(path, f"{character_name(bad.group())} (written as an escape) "
                                    "cannot appear in a scenario value"))


def is_text_path(path: JsonPath) -> bool:
    """Whether the value at `path` is free text, read verbatim (see the module docstring)."""
    if not path:
        return False
    specs = _TEXT_PATHS_BY_HEAD.get((len(path), path[0]), ())
    return any(_matches(path, spec) for spec in specs)


def _matches(path: JsonPath, spec: JsonPath) -> bool:
    return len(path) == len(spec) and all(
        s == "*" or s == p for p, s in zip(path, spec, strict=False)
    )


def about(path: JsonPath, message: str) -> str:
    """`message` prefixed with the path it is about, if any."""
    place = where(path)
    return f"{place}: {message}" if place else message


def where(path: Iterable[str | int]) -> str:
    """`path` as messages write it: `("events", 2, "at")` is `events[2].at`.

    A key that would not read back as one name (empty, blank, holding spaces, dots or
    brackets) is quoted: `routers[' '].address`.
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not _PLAIN_KEY.fullmatch(part):
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else part
    return text


_PLAIN_KEY = re.compile(r"[^\s.\[\]'\"]+")
"""A key `where` writes as it is."""
