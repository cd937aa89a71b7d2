"""Compiler for the IOS command pattern DSL used by `sim.router.cli_parser`.

A pattern such as ``crypto pki server <name:WORD> {grant|reject} {all|<id:1-100>}`` is
turned, once at `Grammar.add` time, into the list of *linear* element sequences it
denotes (optionals and alternatives expanded). The parser engine then only walks a trie of
keywords and typed arguments, so parsing a config line never looks at pattern text again.

Argument types live here too because they are part of the DSL: each knows its `?`-help
placeholder and how to turn one typed token into a value (or reject it, which the parser
reports as invalid input at that token, as IOS does for out-of-range numbers).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

REJECT: object = object()
"""Returned by an argument converter when the token is not acceptable."""

MAX_EXPANSIONS = 1024
"""Upper bound on linear sequences per pattern; nested optionals multiply quickly."""

_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ArgType:
    """An argument type as named in a pattern (`WORD`, `1-31`, `A.B.C.D`, ...)."""

    label: str
    convert: Callable[[str], object]
    rest_of_line: bool = False
    shown_as: str | None = None
    """What `?` help calls it when that differs from `label` (IOS shows a label as WORD)."""

    @property
    def placeholder(self) -> str:
        """The `?`-help spelling of this argument."""
        return f"<{self.shown_as or self.label}>"


@dataclass(frozen=True, slots=True)
class Keyword:
    """A literal keyword; `word` is lower-case because IOS matches case-insensitively."""

    word: str


@dataclass(frozen=True, slots=True)
class Argument:
    """A typed argument whose converted value is reported under `name`."""

    name: str
    type: ArgType


Element = Keyword | Argument


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    """A pattern reduced to the linear sequences the parser inserts into its trie.

    `leading_keywords` counts the keywords before the first argument or bracket group:
    a `no` form is complete once those are typed (IOS lets `no` drop the arguments).
    """

    text: str
    sequences: tuple[tuple[Element, ...], ...]
    leading_keywords: int


# --- argument types -------------------------------------------------------------------

_IPV4_RE = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})", re.ASCII)
_TIME_RE = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})", re.ASCII)
_HEX_RE = re.compile(r"(?:0[xX])?([0-9a-fA-F]+)")
_RANGE_RE = re.compile(r"(-?\d+)-(-?\d+)", re.ASCII)
"""`1-31`, and signed ranges such as `-23-23` (`clock timezone` hours)."""


def _word(token: str) -> object:
    return token


MAX_LABEL_LENGTH = 128
"""Longest trustpoint, server or key label accepted. pkilab's bound: no IOS limit was found
for trustpoint and key labels; 128 keeps every file name built from a label
(`NNNN-<label>.chain.pem`) far below the 255-byte limit of common file systems."""

_LABEL_RE = re.compile(r"[!-~]+", re.ASCII)


def _label(token: str) -> object:
    """A trustpoint, certificate-server or key-pair label (`crypto pki trustpoint NAME`).

    IOS's `?` help only says `WORD  Trustpoint Name`, and IOS names files after these
    labels (`nvram:<cs>.ser`, `<cs>.crl`, `<cs>.p12`). Where IOS's exact character set is
    not documented, pkilab refuses what cannot be part of a single file name or would walk
    out of a folder: `/` and `\\`, `..`, a leading `.`, control characters and anything
    outside printable ASCII (an IOS console is 7-bit).
    """
    if len(token) > MAX_LABEL_LENGTH or not _LABEL_RE.fullmatch(token):
        return REJECT
    if token.startswith(".") or ".." in token or "/" in token or "\\" in token:
        return REJECT
    return token


def _line(token: str) -> object:
    # Never called: the parser hands LINE the rest of the line itself.
    return token


def _hex(token: str) -> object:
    m = _HEX_RE.fullmatch(token)
    return int(m.group(1), 16) if m else REJECT


def _ipv4(token: str) -> object:
    m = _IPV4_RE.fullmatch(token)
    if not m:
        return REJECT
    octets = [int(g) for g in m.groups()]
    if any(o > 255 for o in octets):
        return REJECT
    return ".".join(str(o) for o in octets)


def _time(token: str) -> object:
    m = _TIME_RE.fullmatch(token)
    if not m:
        return REJECT
    h, mi, s = (int(g) for g in m.groups())
    if h > 23 or mi > 59 or s > 59:
        return REJECT
    return (h, mi, s)


def _month(token: str) -> object:
    low = token.lower()
    hits = [i for i, name in enumerate(_MONTHS) if name.startswith(low)]
    return hits[0] + 1 if len(hits) == 1 else REJECT


def _int_range(low: int, high: int) -> Callable[[str], object]:
    width = len(str(high))

    def convert(token: str) -> object:
        digits = token[1:] if token.startswith("-") and low < 0 else token
        if not (digits.isascii() and digits.isdigit()):
            return REJECT
        # Bound the digit count first: int() of a huge string is slow (or refused).
        if len(digits.lstrip("0")) > width:
            return REJECT
        value = int(token)
        return value if low <= value <= high else REJECT

    return convert


_FIXED_TYPES = {
    "WORD": ArgType("WORD", _word),
    "LABEL": ArgType("LABEL", _label, shown_as="WORD"),
    "LINE": ArgType("LINE", _line, rest_of_line=True),
    "HEX": ArgType("HEX", _hex),
    "A.B.C.D": ArgType("A.B.C.D", _ipv4),
    "HH:MM:SS": ArgType("HH:MM:SS", _time),
    "MONTH": ArgType("MONTH", _month),
}


def resolve_type(text: str) -> ArgType | None:
    """The ArgType named `text`, or None if the DSL has no such type."""
    fixed = _FIXED_TYPES.get(text)
    if fixed is not None:
        return fixed
    m = _RANGE_RE.fullmatch(text)
    if m:
        low, high = int(m.group(1)), int(m.group(2))
        if low <= high:
            return ArgType(f"{low}-{high}", _int_range(low, high))
    return None


# --- pattern text -> AST ---------------------------------------------------------------

_PATTERN_TOKEN_RE = re.compile(r"<[^<>]*>|[\[\]{}|]|[^\s\[\]{}|<>]+|\S")
_ARG_RE = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*):([^<>\s]+)>")


@dataclass(frozen=True, slots=True)
class _Optional:
    body: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Choice:
    options: tuple[tuple[_Node, ...], ...]


_Node = Keyword | Argument | _Optional | _Choice


class _PatternReader:
    """Recursive-descent reader over the tokens of one pattern."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.tokens = _PATTERN_TOKEN_RE.findall(pattern)
        self.pos = 0

    def fail(self, why: str) -> ValueError:
        return ValueError(f"malformed command pattern {self.pattern!r}: {why}")

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def read_sequence(self) -> tuple[_Node, ...]:
        items: list[_Node] = []
        while (tok := self.peek()) is not None and tok not in ("]", "}", "|"):
            self.pos += 1
            if tok == "[":
                body = self.read_sequence()
                self.expect("]", "unbalanced '['")
                if not body:
                    raise self.fail("empty '[]'")
                items.append(_Optional(body))
            elif tok == "{":
                items.append(self.read_choice())
            elif tok.startswith("<"):
                items.append(self.read_argument(tok))
            elif tok == ">":
                raise self.fail("unexpected '>'")
            else:
                items.append(Keyword(tok.lower()))
        return tuple(items)

    def read_choice(self) -> _Choice:
        options = [self.read_sequence()]
        while self.peek() == "|":
            self.pos += 1
            options.append(self.read_sequence())
        self.expect("}", "unbalanced '{'")
        if any(not option for option in options):
            raise self.fail("empty alternative in '{}'")
        return _Choice(tuple(options))

    def read_argument(self, tok: str) -> Argument:
        m = _ARG_RE.fullmatch(tok)
        if not m:
            raise self.fail(f"bad argument {tok!r}, expected <name:TYPE>")
        arg_type = resolve_type(m.group(2))
        if arg_type is None:
            raise self.fail(f"unknown argument type {m.group(2)!r}")
        return Argument(m.group(1), arg_type)

    def expect(self, closer: str, why: str) -> None:
        if self.peek() != closer:
            raise self.fail(why)
        self.pos += 1


# --- AST -> linear sequences -----------------------------------------------------------


def _expand(items: tuple[_Node, ...], reader: _PatternReader) -> list[tuple[Element, ...]]:
    results: list[tuple[Element, ...]] = [()]
    for item in items:
        if isinstance(item, Keyword | Argument):
            tails: list[tuple[Element, ...]] = [(item,)]
        elif isinstance(item, _Optional):
            tails = [(), *_expand(item.body, reader)]
        else:
            tails = [seq for option in item.options for seq in _expand(option, reader)]
        results = [head + tail for head in results for tail in tails]
        if len(results) > MAX_EXPANSIONS:
            raise reader.fail(f"expands to more than {MAX_EXPANSIONS} command forms")
    return results


def _check_sequence(seq: tuple[Element, ...], reader: _PatternReader) -> None:
    names: set[str] = set()
    for index, element in enumerate(seq):
        if not isinstance(element, Argument):
            continue
        if element.name in names:
            raise reader.fail(f"argument name {element.name!r} used twice in one form")
        names.add(element.name)
        if element.type.rest_of_line and index != len(seq) - 1:
            raise reader.fail("a LINE argument must end the command")


def compile_pattern(pattern: str) -> CompiledPattern:
    """Compile DSL text; raises ValueError naming the pattern if it is malformed."""
    reader = _PatternReader(pattern)
    items = reader.read_sequence()
    if reader.peek() is not None:
        raise reader.fail(f"unbalanced {reader.peek()!r}")
    if not items:
        raise reader.fail("empty pattern")
    sequences: list[tuple[Element, ...]] = []
    seen: set[tuple[Element, ...]] = set()
    for seq in _expand(items, reader):
        if not seq or seq in seen:
            continue
        _check_sequence(seq, reader)
        seen.add(seq)
        sequences.append(seq)
    if not sequences:
        raise reader.fail("matches only the empty command")
    leading = 0
    while leading < len(items) and isinstance(items[leading], Keyword):
        leading += 1
    return CompiledPattern(pattern, tuple(sequences), leading)
