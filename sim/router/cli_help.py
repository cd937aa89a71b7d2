"""IOS's `?` help and tab completion, read from the trie the command parser walks.

Help asks the mode's `Grammar` what may follow the typed words (`Grammar.position`, the
walk `parse` itself does), so every command the parser accepts is listed and nothing
listed fails to parse. Texts come from `sim.router.cli_help_text`. A pure library: the
interactive console calls `help` when `?` is typed and `complete` on Tab, and prints
what they return.

What IOS does, and pkilab with it (IOS 12.3/12.4 conventions, recalled from Cisco
documentation and router transcripts; pkilab's reference notes hold no captured `?`
output, so the details marked *chosen* are pkilab's reading, not verified):

* `show crypto pki ?` (a space before `?`): one line per possible next token, "two
  spaces, the token padded to the longest token of the list, two spaces, its
  description", texts wrapped under their column at the terminal width; `<cr>` last,
  alone, when the line is already a command. Then a blank line.
* Tokens are sorted by how they are displayed, in plain ASCII order, which is why IOS
  lists `<1-31>` and `A.B.C.D` and `WORD` before the lower-case keywords (`ping ?` starts
  with `WORD`); `<cr>` always comes last.
* Arguments are shown as IOS names them: `WORD`, `LINE`, `A.B.C.D`, `MONTH`, `hh:mm:ss`
  and `<LOW-HIGH>` for numbers; labels and hex serials are `WORD` (*chosen* for hex).
* `?` at an empty prompt prints the mode's title first (`Exec commands:`).
* `sh?` (no space before `?`): the keywords that complete the word, two spaces apart on
  as many lines as the terminal width needs, then a blank line; an argument that would
  take the word is listed by its placeholder (`router ospf 1?` gives `<1-65535>`).
* A word before the `?` that matches nothing: `% Unrecognized command` (IOS's help
  prints no caret marker: carets come with `% Invalid input` when Return is pressed).
  A word that abbreviates several keywords: `% Ambiguous command:  "s"`.
* Inside a LINE argument (`subject-name CN=r1 ?`) IOS shows `LINE  <cr>` (*recalled*).
* `do ?` describes the LINE it takes; `do sh ?` is help for EXEC's `show`, as IOS gives.
* After a complete `show` command IOS offers `|  Output modifiers`; after the `|`, the
  modifiers (`show clock | ?`), then `LINE  Regular Expression`: help there is the
  filters' own (`sim.router.output_filter`), as the dispatcher parses them.
* Tab: a word that the parser would read as exactly one keyword (typed in full, or a
  prefix of only one) is replaced by that keyword and a space; otherwise the line comes
  back unchanged (IOS re-displays it). Completion writes the keyword as the grammar
  spells it, lower case (*chosen*).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

from sim.router.cli_grammar import REJECT, ArgType
from sim.router.cli_help_text import FILTER_TEXTS, HEADERS, generic_text, lookup
from sim.router.cli_parser import Grammar, Match, NextToken, ParseError, Position
from sim.router.commands import grammar_for
from sim.router.console import Mode
from sim.router.output_filter import PIPE, SHOW, filter_grammar, show_before_pipe

__all__ = [
    "CR",
    "TERMINAL_WIDTH",
    "CommandHelp",
    "Completion",
    "HelpEntry",
    "HelpScreen",
    "help_for",
    "shown_as",
]

TERMINAL_WIDTH = 80
"""IOS's default `terminal width`."""
CR = "<cr>"
"""What help lists when the line is a command as typed."""
UNRECOGNIZED = "% Unrecognized command"

EXEC_LINE_PATH = ("do",)
"""`do <line>` in configuration modes hands its LINE to EXEC (`commands.run_exec_line`),
so help for it is EXEC's help."""

_RANGE_RE = re.compile(r"-?\d+--?\d+")
_SHOWN = {"LABEL": "WORD", "HEX": "WORD", "HH:MM:SS": "hh:mm:ss"}
_GAP = "  "

Describe = Callable[[tuple[str, ...], str], str | None]
"""(keyword path, token) -> description; the token is a keyword or `<name>` of an argument."""


@dataclass(frozen=True, slots=True)
class HelpEntry:
    """One listed token: a keyword, an argument as IOS shows it, or `<cr>`."""

    shown: str
    text: str


@dataclass(frozen=True, slots=True)
class HelpScreen:
    """What the console prints for `?`, then the text it puts back after the prompt.

    `entries` are the listed tokens (empty when `lines` is an error message).
    """

    lines: tuple[str, ...]
    entries: tuple[HelpEntry, ...]
    redisplay: str

    @property
    def error(self) -> bool:
        return not self.entries


@dataclass(frozen=True, slots=True)
class Completion:
    """The line after Tab; `completed` is False when IOS would leave it as it was."""

    line: str
    completed: bool


def shown_as(arg_type: ArgType) -> str:
    """An argument's placeholder as IOS's help shows it (`WORD`, `<1-31>`, `A.B.C.D`)."""
    if _RANGE_RE.fullmatch(arg_type.label):
        return f"<{arg_type.label}>"
    return _SHOWN.get(arg_type.label, arg_type.label)


def _accepts(arg_type: ArgType, word: str) -> bool:
    return arg_type.rest_of_line or arg_type.convert(word) is not REJECT


def _split(typed: str) -> tuple[str, str | None]:
    """(the words before the one being typed, that word or None after a space)."""
    if not typed or typed[-1].isspace():
        return typed, None
    start = len(typed.rstrip()) - len(typed.split()[-1])
    return typed[:start], typed[start:]


class CommandHelp:
    """`?` help and Tab completion for one grammar (one CLI mode). Immutable once built."""

    def __init__(
        self,
        grammar: Grammar,
        describe: Describe,
        *,
        header: str | None = None,
        delegates: Mapping[tuple[str, ...], CommandHelp] | None = None,
        filters: CommandHelp | None = None,
    ) -> None:
        """`describe` gives each token its text (None: a generic one is made up);
        `header` is printed above `?` at an empty prompt; `delegates` maps the keyword
        path of a LINE argument to the help of the commands that LINE holds (such a LINE
        must be the only token after its keywords, as `do <line>` is); `filters` is the
        help of the output modifiers a `show` command takes after a `|`."""
        self.grammar = grammar
        self._describe = describe
        self._header = header
        self._delegates = dict(delegates or {})
        self._filters = filters

    # --- `?` --------------------------------------------------------------------------

    def help(self, typed: str, width: int = TERMINAL_WIDTH) -> HelpScreen:
        """The screen for `?` typed after `typed` (the text before the cursor)."""
        piped = self._after_pipe(typed)
        if piped is not None:
            column, helper = piped
            if column == len(typed):
                # `show clock |?`: the pipe is the word being completed.
                return HelpScreen((PIPE, ""), (HelpEntry(PIPE, ""),), typed)
            screen = helper.help(typed[column:], width)
            return HelpScreen(screen.lines, screen.entries, typed)
        base, word = _split(typed)
        position = self.grammar.position(base)
        if isinstance(position, ParseError):
            return _error_screen(position, typed)
        inner = self._delegated(base, word, position)
        if inner is not None:
            column, helper = inner
            screen = helper.help(typed[column:], width)
            return HelpScreen(screen.lines, screen.entries, typed)
        if word is None:
            entries = self._entries(position, pipe=self._takes_pipe(base))
            if not entries:
                return HelpScreen((UNRECOGNIZED,), (), typed)
            lines = _columns(entries, width)
            if self._header is not None and not base.strip():
                lines.insert(0, self._header)
            return HelpScreen((*lines, ""), tuple(entries), typed)
        entries = self._matching(position, word)
        if not entries:
            return HelpScreen((UNRECOGNIZED,), (), typed)
        return HelpScreen((*_words([e.shown for e in entries], width), ""),
                          tuple(entries), typed)

    def _entries(self, position: Position, *, pipe: bool = False) -> list[HelpEntry]:
        found: dict[str, str] = {}
        for token in position.tokens:
            shown = self._shown(token)
            if shown not in found:
                found[shown] = self._text(token, shown)
        if pipe:
            # ASCII order puts `|` after the keywords and arguments, before `<cr>`, as IOS.
            found[PIPE] = FILTER_TEXTS[PIPE].text
        entries = self._sorted(found)
        if position.open_lines:
            # Inside a LINE argument: more text, or Return.
            entries.append(HelpEntry("LINE", CR))
        elif position.complete:
            entries.append(HelpEntry(CR, ""))
        return entries

    def _matching(self, position: Position, word: str) -> list[HelpEntry]:
        low = word.lower()
        found: dict[str, str] = {}
        for token in position.tokens:
            if token.keyword is not None:
                if token.keyword.startswith(low):
                    found.setdefault(token.keyword, "")
            elif token.arg_type is not None and _accepts(token.arg_type, word):
                found.setdefault(shown_as(token.arg_type), "")
        for _path, _name, _column in position.open_lines:
            found.setdefault("LINE", "")
        return self._sorted(found)

    @staticmethod
    def _sorted(found: dict[str, str]) -> list[HelpEntry]:
        return [HelpEntry(shown, found[shown]) for shown in sorted(found)]

    @staticmethod
    def _shown(token: NextToken) -> str:
        if token.arg_type is not None:
            return shown_as(token.arg_type)
        return token.keyword or ""

    def _text(self, token: NextToken, shown: str) -> str:
        if token.keyword is not None:
            return self._describe(token.path, token.keyword) or generic_text(token.keyword)
        key = f"<{token.arg_name}>"
        return self._describe(token.path, key) or generic_text(key, shown)

    # --- Tab --------------------------------------------------------------------------

    def complete(self, typed: str) -> Completion:
        """Tab after `typed`: the word being typed, completed if it names one keyword."""
        piped = self._after_pipe(typed)
        if piped is not None:
            column, helper = piped
            done = helper.complete(typed[column:])
            return Completion(typed[:column] + done.line, done.completed)
        base, word = _split(typed)
        if word is None:
            return Completion(typed, False)
        position = self.grammar.position(base)
        if isinstance(position, ParseError):
            return Completion(typed, False)
        inner = self._delegated(base, word, position)
        if inner is not None:
            column, helper = inner
            done = helper.complete(typed[column:])
            return Completion(typed[:column] + done.line, done.completed)
        # The parser's rule for one word: an exact keyword wins, else a unique prefix.
        keywords = {token.keyword for token in position.tokens if token.keyword is not None}
        low = word.lower()
        if low not in keywords:
            prefixed = [keyword for keyword in keywords if keyword.startswith(low)]
            if len(prefixed) != 1:
                return Completion(typed, False)
            low = prefixed[0]
        return Completion(f"{base}{low} ", True)

    # --- output modifiers after a show command's `|` -------------------------------------

    def _takes_pipe(self, base: str) -> bool:
        """`base` is a complete `show` command, so `|` may follow it."""
        if self._filters is None:
            return False
        result = self.grammar.parse(base)
        return isinstance(result, Match) and result.keywords[:1] == (SHOW,)

    def _after_pipe(self, typed: str) -> tuple[int, CommandHelp] | None:
        """(column just after the `|`, the filters' help) when `typed` is a show command
        and its pipe: what follows is the modifier, parsed as the dispatcher parses it."""
        if self._filters is None:
            return None
        piped = show_before_pipe(self.grammar, typed)
        if piped is None:
            return None
        return piped[1] + 1, self._filters

    # --- LINE arguments that hold another mode's command ---------------------------------

    def _delegated(
        self, base: str, word: str | None, position: Position
    ) -> tuple[int, CommandHelp] | None:
        """(column where the held command starts, its help) when help belongs to it."""
        for path, _name, column in position.open_lines:
            helper = self._delegates.get(path)
            if helper is not None:
                return column, helper
        if word is None:
            return None
        for token in position.tokens:
            if token.arg_type is not None and token.arg_type.rest_of_line:
                helper = self._delegates.get(token.path)
                if helper is not None:
                    return len(base), helper
        return None


def _error_screen(error: ParseError, typed: str) -> HelpScreen:
    if error.kind == "ambiguous":
        return HelpScreen(tuple(error.render("")), (), typed)
    return HelpScreen((UNRECOGNIZED,), (), typed)


def _columns(entries: list[HelpEntry], width: int) -> list[str]:
    """IOS's two-column list: `  token  text`, texts wrapped under their own column."""
    column = max((len(e.shown) for e in entries if e.shown != CR), default=0)
    indent = len(_GAP) + column + len(_GAP)
    room = max(width - indent, 20)
    lines: list[str] = []
    for entry in entries:
        if not entry.text:
            lines.append(_GAP + entry.shown)
            continue
        parts = textwrap.wrap(entry.text, room) or [""]
        lines.append(f"{_GAP}{entry.shown.ljust(column)}{_GAP}{parts[0]}")
        lines.extend(" " * indent + part for part in parts[1:])
    return lines


def _words(words: list[str], width: int) -> list[str]:
    """Words two spaces apart, on as many lines of at most `width` characters as needed."""
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current}{_GAP}{word}" if current else word
        if current and len(candidate) > width:
            lines.append(current)
            candidate = word
        current = candidate
    lines.append(current)
    return lines


@cache
def help_for(mode: Mode) -> CommandHelp:
    """The help of a CLI mode, built on its shared grammar; one instance per mode.

    Raises ValueError for a mode that takes data rather than commands (certificate hex).
    """
    try:
        grammar = grammar_for(mode)
    except KeyError:
        raise ValueError(
            f"the {mode.name} mode takes data, not commands: it has no help"
        ) from None
    header = HEADERS.get(mode)
    delegates: dict[tuple[str, ...], CommandHelp] = {}
    if mode not in (Mode.EXEC, Mode.USER_EXEC):
        delegates[EXEC_LINE_PATH] = help_for(Mode.EXEC)

    def describe(path: tuple[str, ...], token: str) -> str | None:
        found = lookup(mode, path, token)
        return found.text if found is not None else None

    return CommandHelp(grammar, describe, header=header.text if header else None,
                       delegates=delegates, filters=_filter_help())


@cache
def _filter_help() -> CommandHelp:
    """Help after a show command's `|`: the output modifiers and their expression."""

    def describe(path: tuple[str, ...], token: str) -> str | None:
        found = FILTER_TEXTS.get(token)
        return found.text if found is not None else None

    return CommandHelp(filter_grammar(), describe)
