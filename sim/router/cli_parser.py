"""IOS command-line parser engine: matches typed lines against a mode's command patterns.

Pure and shared: a `Grammar` holds no router state and does no I/O, so one instance per
CLI mode can serve every simulated router. Patterns are compiled once (see
`sim.router.cli_grammar`) into a trie of keywords and typed arguments; `parse` walks it
with the set of live trie nodes, one whitespace-separated token at a time, applying IOS's
rules:

* keywords match case-insensitively by unique prefix; an exact keyword beats prefixes;
  a token that prefixes several keywords live at that position is *ambiguous*;
* a keyword matched by the token wins over any argument at the same position, otherwise
  the arguments there (converted by type) take it;
* a leading `no` switches to the commands declared with `no_form=True`, which are complete
  once their leading keywords are typed (IOS lets `no` drop the arguments).

The router renders errors itself from the returned `ParseError` (its `render` produces
IOS's exact text, caret included).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Literal, NamedTuple

from sim.router.cli_grammar import (
    REJECT,
    ArgType,
    Argument,
    Element,
    Keyword,
    compile_pattern,
)

__all__ = ["Empty", "Grammar", "Match", "NextToken", "ParseError", "Position"]

NO_KEYWORD = "no"

_TOKEN_RE = re.compile(r"\S+")

_PARSED_KEPT = 1024
"""Lines whose parse a grammar keeps (`Grammar.parse`); a few hundred bytes each."""


@dataclass(frozen=True, slots=True)
class Match:
    """A complete command.

    `keywords` are the full keyword names typed, in order (`sh cry` gives
    `("show", "crypto")`), so a handler can tell which of `{grant|reject}` was chosen.
    The leading `no` is not among them; `negated` says it was there.
    """

    key: Hashable
    args: dict[str, object]
    keywords: tuple[str, ...]
    negated: bool = False

    def integer(self, name: str, default: int | None = None) -> int:
        """A numeric argument (a range or HEX type); `default` when it was not typed.

        Raises KeyError when it was not typed and there is no default: the handler asked
        for an argument its pattern does not guarantee.
        """
        value = self.args.get(name, default)
        if not isinstance(value, int):
            raise KeyError(name)
        return value


@dataclass(frozen=True, slots=True)
class Empty:
    """A blank or `!` comment line: the router just prints the prompt again."""


@dataclass(frozen=True, slots=True)
class ParseError:
    """A line IOS would refuse; `column` is 0-based in `line` (leading spaces count).

    For "incomplete" the column is the end of the typed text and `token` is empty.
    """

    kind: Literal["invalid", "incomplete", "ambiguous"]
    column: int
    token: str
    line: str

    @property
    def first_token(self) -> bool:
        """The error is at the line's first word (exec modes word that case differently)."""
        if self.kind == "incomplete":
            return False
        return self.column == len(self.line) - len(self.line.lstrip())

    def render(self, prompt: str) -> list[str]:
        """IOS's console output for this error, typed after `prompt`."""
        if self.kind == "invalid":
            return [
                " " * (len(prompt) + self.column) + "^",
                "% Invalid input detected at '^' marker.",
            ]
        if self.kind == "incomplete":
            return ["% Incomplete command."]
        start = len(self.line) - len(self.line.lstrip())
        typed = self.line[start : self.column + len(self.token)]
        return [f'% Ambiguous command:  "{typed}"']


@dataclass(frozen=True, slots=True)
class NextToken:
    """A token that may come next: a `keyword`, or an argument `arg_name` of `arg_type`.

    `path` is the full keywords typed before it (a leading `no` included), which is what
    `?` help looks its description up by.
    """

    path: tuple[str, ...]
    keyword: str | None = None
    arg_name: str | None = None
    arg_type: ArgType | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """What may follow a line's tokens, read from the trie `parse` walks (see `position`).

    `complete`: the line is a command as typed (`?` help's `<cr>`). `open_lines`: LINE
    arguments that took the rest of the line, as (keyword path, argument name, column
    where the argument starts).
    """

    tokens: tuple[NextToken, ...]
    complete: bool
    open_lines: tuple[tuple[tuple[str, ...], str, int], ...]


class _Terminal(NamedTuple):
    """A command ending at a trie node. Lower `rank` wins when several could end."""

    rank: tuple[bool, int]  # (truncated no-form, declaration order)
    key: Hashable
    negated: bool
    pattern: str


class _TrieNode:
    __slots__ = ("keywords", "prefixes", "args", "terminal")

    def __init__(self) -> None:
        self.keywords: dict[str, _TrieNode] = {}
        # Every prefix of every keyword here -> the keywords it abbreviates.
        self.prefixes: dict[str, tuple[str, ...]] = {}
        self.args: list[tuple[str, ArgType, _TrieNode]] = []
        self.terminal: _Terminal | None = None

    def child(self, element: Element) -> _TrieNode | None:
        """The node under `element`, if the grammar has one."""
        if isinstance(element, Argument):
            return next((node for name, arg_type, node in self.args
                         if name == element.name and arg_type.label == element.type.label),
                        None)
        return self.keywords.get(element.word)

    def add_child(self, element: Element) -> _TrieNode:
        """The node under `element`, made if the grammar has none yet."""
        found = self.child(element)
        if found is not None:
            return found
        node = _TrieNode()
        if isinstance(element, Argument):
            self.args.append((element.name, element.type, node))
            return node
        word = element.word
        self.keywords[word] = node
        for end in range(1, len(word) + 1):
            self.prefixes[word[:end]] = (*self.prefixes.get(word[:end], ()), word)
        return node


# A live parse path: trie node, (name, value) pairs so far, keywords so far.
_State = tuple[_TrieNode, tuple[tuple[str, object], ...], tuple[str, ...]]


class _Walk(NamedTuple):
    """Where matching a line's tokens got to."""

    states: list[_State]  # paths that consumed every token
    rest: list[_State]  # paths whose LINE argument swallowed the rest of the line
    error: ParseError | None


class Grammar:
    """The commands of one CLI mode. Build once; `parse` is then safe to share.

    `add` mutates and must finish before the grammar is used from several threads;
    `parse` and `keywords_at` only read it (`parse` also fills its cache of answers,
    where two threads parsing one line at once store the same answer).
    """

    __slots__ = ("_root", "_count", "_parsed")

    def __init__(self) -> None:
        self._root = _TrieNode()
        self._count = 0
        self._parsed: dict[str, Match | ParseError | Empty] = {}
        """`parse`'s answers by line: parsing is a pure function of the grammar and the
        line, and a run's routers type the same lines over and over (`enable`,
        `configure terminal`, `end`, the same `enrollment url` under one CA)."""

    def add(
        self,
        pattern: str,
        key: Hashable,
        *,
        no_form: bool = False,
        no_requires_args: bool = False,
    ) -> None:
        """Declare a command; `key` comes back in `Match.key` when a line matches it.

        With `no_form`, `no <pattern>` is accepted too, complete after the pattern's
        leading keywords unless `no_requires_args` (then the `no` form needs everything
        the positive form does, like `no crypto pki server <name>`).
        Raises ValueError for malformed patterns, patterns starting with `no` (declare the
        positive form with `no_form=True` instead) and two keys for the same command.
        """
        compiled = compile_pattern(pattern)
        order = self._count
        plans: list[tuple[_TrieNode | None, tuple[Element, ...], int, bool]] = []
        for seq in compiled.sequences:
            first = seq[0]
            if not isinstance(first, Argument) and first.word == NO_KEYWORD:
                raise ValueError(
                    f"command pattern {pattern!r} starts with 'no': declare the positive "
                    "form with no_form=True"
                )
            plans.append((self._root, seq, len(seq), False))
            if no_form:
                stop = len(seq) if no_requires_args else compiled.leading_keywords
                plans.append((self._root.keywords.get(NO_KEYWORD), seq, stop, True))
        for start, seq, stop, _ in plans:
            self._check_conflicts(start, seq, stop, key, pattern)
        for _, seq, stop, negated in plans:
            start = self._root
            if negated:
                start = self._root.add_child(Keyword(NO_KEYWORD))
            self._insert(start, seq, stop, _Terminal((False, order), key, negated, pattern))
        self._count += 1
        self._parsed.clear()

    def parse(self, line: str) -> Match | ParseError | Empty:
        """Match one typed line (without its newline)."""
        found = self._parsed.get(line)
        if found is None:
            found = self._parse(line)
            if len(self._parsed) >= _PARSED_KEPT:
                self._parsed.clear()  # lines that name a router each: start afresh
            self._parsed[line] = found
        if isinstance(found, Match):
            # A Match of its own: its `args` is a dict, which a handler may keep.
            return Match(found.key, dict(found.args), found.keywords, found.negated)
        return found  # immutable

    def _parse(self, line: str) -> Match | ParseError | Empty:
        tokens = [(m.start(), m.group()) for m in _TOKEN_RE.finditer(line)]
        if not tokens or tokens[0][1].startswith("!"):
            return Empty()
        walk = self._walk(line, tokens)
        if walk.error is not None:
            return walk.error
        best: _Terminal | None = None
        best_state: _State | None = None
        for state in (*walk.states, *walk.rest):
            terminal = state[0].terminal
            if terminal is not None and (best is None or terminal.rank < best.rank):
                best, best_state = terminal, state
        if best is None or best_state is None:
            end = len(line.rstrip())
            return ParseError("incomplete", end, "", line)
        _, args, keywords = best_state
        if best.negated:
            keywords = keywords[1:]
        return Match(best.key, dict(args), keywords, best.negated)

    def keywords_at(self, line: str) -> list[str]:
        """`?` help: what may follow `line`, or complete its last word if no space ends it.

        Keywords come sorted, then `<TYPE>` placeholders, then `<cr>` if the line could
        end there. Returns [] if the line is already in error.
        """
        tokens = [(m.start(), m.group()) for m in _TOKEN_RE.finditer(line)]
        partial: str | None = None
        if tokens and not line[-1].isspace():
            partial = tokens.pop()[1].lower()
        walk = self._walk(line, tokens)
        if walk.error is not None:
            return []
        nodes = [state[0] for state in walk.states]
        if partial is not None:
            found = {w for node in nodes for w in node.prefixes.get(partial, ())}
            return sorted(found)
        words = sorted({w for node in nodes for w in node.keywords})
        placeholders: list[str] = []
        for node in nodes:
            for _, arg_type, _ in node.args:
                if arg_type.placeholder not in placeholders:
                    placeholders.append(arg_type.placeholder)
        can_end = walk.rest or any(node.terminal is not None for node in nodes)
        if tokens and can_end:
            placeholders.append("<cr>")
        return words + placeholders

    def position(self, line: str) -> Position | ParseError:
        """Every token that may follow all of `line`'s words, or the error at one of them.

        The same walk as `parse`, so `?` help built on it lists exactly what parses:
        each keyword once per keyword path, arguments in declaration order.
        """
        tokens = [(m.start(), m.group()) for m in _TOKEN_RE.finditer(line)]
        walk = self._walk(line, tokens)
        if walk.error is not None:
            return walk.error
        found: dict[NextToken, None] = {}
        for node, _args, words in walk.states:
            for word in node.keywords:
                found[NextToken(words, keyword=word)] = None
            for name, arg_type, _child in node.args:
                found[NextToken(words, arg_name=name, arg_type=arg_type)] = None
        end = len(line.rstrip())
        open_lines = {
            (words, args[-1][0], end - len(str(args[-1][1]))): None
            for _node, args, words in walk.rest
        }
        complete = any(state[0].terminal is not None for state in (*walk.states, *walk.rest))
        return Position(tuple(found), bool(tokens) and complete, tuple(open_lines))

    # --- internals ---------------------------------------------------------------------

    def _walk(self, line: str, tokens: Iterable[tuple[int, str]]) -> _Walk:
        states: list[_State] = [(self._root, (), ())]
        rest: list[_State] = []
        for column, token in tokens:
            states, ambiguous = _step(states, line, column, token, rest)
            if not states:
                if rest:
                    return _Walk([], rest, None)
                kind: Literal["ambiguous", "invalid"] = "ambiguous" if ambiguous else "invalid"
                return _Walk([], [], ParseError(kind, column, token, line))
        return _Walk(states, rest, None)

    @staticmethod
    def _check_conflicts(
        node: _TrieNode | None,
        seq: tuple[Element, ...],
        stop: int,
        key: Hashable,
        pattern: str,
    ) -> None:
        """Refuse a command that ends exactly where another key's full command ends."""
        for index, element in enumerate(seq):
            if node is None:
                return
            node = node.child(element)
            if index + 1 == len(seq) and node is not None and node.terminal is not None:
                other = node.terminal
                if not other.rank[0] and other.key != key and stop == len(seq):
                    raise ValueError(
                        f"command pattern {pattern!r} duplicates {other.pattern!r} "
                        f"(key {other.key!r})"
                    )

    @staticmethod
    def _insert(node: _TrieNode, seq: tuple[Element, ...], stop: int, terminal: _Terminal) -> None:
        truncated = terminal._replace(rank=(True, terminal.rank[1]))
        for index in range(len(seq) + 1):
            if index >= stop:
                candidate = terminal if index == len(seq) else truncated
                if node.terminal is None or candidate.rank < node.terminal.rank:
                    node.terminal = candidate
            if index < len(seq):
                node = node.add_child(seq[index])


def _step(
    states: list[_State], line: str, column: int, token: str, rest: list[_State]
) -> tuple[list[_State], bool]:
    """Advance every live path over one token; returns (new paths, token was ambiguous).

    Paths whose LINE argument takes the rest of the line are appended to `rest` instead.
    """
    low = token.lower()
    advanced: list[_State] = []
    for node, args, words in states:
        child = node.keywords.get(low)
        if child is not None:
            advanced.append((child, args, (*words, low)))
    if advanced:
        return advanced, False
    candidates = {w for node, _, _ in states for w in node.prefixes.get(low, ())}
    if len(candidates) == 1:
        (word,) = candidates
        for node, args, words in states:
            child = node.keywords.get(word)
            if child is not None:
                advanced.append((child, args, (*words, word)))
        return advanced, False
    for node, args, words in states:
        for name, arg_type, child in node.args:
            if arg_type.rest_of_line:
                rest.append((child, (*args, (name, line[column:].rstrip())), words))
                continue
            value = arg_type.convert(token)
            if value is not REJECT:
                advanced.append((child, (*args, (name, value)), words))
    return advanced, len(candidates) > 1
