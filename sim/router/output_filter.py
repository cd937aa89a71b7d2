"""IOS output modifiers on `show` commands: `show ... | include|exclude|begin|section REGEX`.

IOS reads a `|` preceded by whitespace after a complete `show` command as the start of an
output modifier, and runs the command with its output lines passed through the filter
(Cisco's "Using the Cisco IOS Command-Line Interface", *Filtering the Output of show and
more Commands*):

* `include regex`: "Include lines that match";
* `exclude regex`: "Exclude lines that match";
* `begin regex`: "Begin with the line that matches" (that line and every one after it);
* `section regex`: "Filter a section of output": each line that matches, with the lines
  indented under it (a running-config block and its sub-commands).

The keywords abbreviate as any IOS keyword does (`| i`, `| inc`, `| e`, `| b`, `| s`).
The regular expression is the rest of the line, matched anywhere in each output line,
case-sensitively. IOS regexes are POSIX-ERE-like, which Python's `re` reads the same way
for what people type after a pipe, plus IOS's `_` (see `ios_regex`).

Only lines that start with whitespace before the `|` are split, and only for `show`
commands: a `|` inside another command's LINE argument (`subject-name`, an issuer name)
stays part of that argument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Literal, cast

from sim.router.cli_parser import Grammar, Match, ParseError

__all__ = [
    "FILTER_KINDS",
    "PIPE",
    "SHOW",
    "BadRegex",
    "OutputFilter",
    "filter_grammar",
    "ios_regex",
    "parse_filter",
    "pipe_column",
    "show_before_pipe",
]

PIPE = "|"
SHOW = "show"

FilterKind = Literal["include", "exclude", "begin", "section"]
FILTER_KINDS: tuple[FilterKind, ...] = ("begin", "exclude", "include", "section")

_PIPE_RE = re.compile(r"\s\|")
_TOKEN_RE = re.compile(r"\S+")

# IOS's `_`: "Matches a comma (,), left brace ({), right brace (}), left parenthesis,
# right parenthesis, the beginning of the input string, the end of the input string, or
# a space" (Cisco, Regular Expressions, Terminal Services Configuration Guide).
_UNDERSCORE = r"(?:^|$|[,{}() ])"


@cache
def filter_grammar() -> Grammar:
    """The words that may follow the pipe, one command per filter; shared and immutable."""
    grammar = Grammar()
    for kind in FILTER_KINDS:
        grammar.add(f"{kind} <regex:LINE>", kind)
    return grammar


@dataclass(frozen=True, slots=True)
class BadRegex:
    """The regular expression after the filter keyword does not compile."""

    regex: str
    reason: str

    @property
    def message(self) -> str:
        # pkilab's wording (chosen): the reference notes hold no IOS output for a bad
        # regular expression, so the message names the expression and why it fails.
        return f'% Invalid regular expression "{self.regex}": {self.reason}'


@dataclass(slots=True)
class OutputFilter:
    """One modifier, applied line by line as the command writes (`passes`).

    It keeps the little state `begin` and `section` need, so one instance serves one run
    of one command.
    """

    kind: FilterKind
    regex: re.Pattern[str]
    _begun: bool = field(default=False, init=False)
    _section_indent: int | None = field(default=None, init=False)

    def passes(self, line: str) -> bool:
        """Whether `line` of the command's output is printed."""
        if self.kind == "include":
            return self.regex.search(line) is not None
        if self.kind == "exclude":
            return self.regex.search(line) is None
        if self.kind == "begin":
            self._begun = self._begun or self.regex.search(line) is not None
            return self._begun
        return self._in_section(line)

    def _in_section(self, line: str) -> bool:
        """A matching line opens a section; lines indented deeper than it belong to it.

        pkilab's reading where IOS is not documented (chosen): a match on an indented line
        prints that line and its own deeper lines, not its parent; a blank line ends a
        section.
        """
        indent = len(line) - len(line.lstrip())
        if self._section_indent is not None and line.strip() and indent > self._section_indent:
            return True
        self._section_indent = None
        if self.regex.search(line) is not None:
            self._section_indent = indent
            return True
        return False


def ios_regex(text: str) -> re.Pattern[str]:
    """`text` as a Python pattern: IOS's `_` becomes its delimiter class, the rest is
    read by `re` (an escaped `\\_` and a `_` inside brackets stay literal).

    Raises re.error for an expression that does not compile.
    """
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(text[index:index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]" or out[-1] == "["
        elif char == "[":
            in_class = True
        elif char == "_":
            char = _UNDERSCORE
        out.append(char)
        index += 1
    return re.compile("".join(out))


def pipe_column(line: str) -> int | None:
    """The column of the first `|` that follows whitespace, or None."""
    found = _PIPE_RE.search(line)
    return None if found is None else found.start() + 1


def show_before_pipe(grammar: Grammar, line: str) -> tuple[Match, int] | None:
    """(the show command's match, the pipe's column) when `line` is a complete `show`
    command of `grammar` followed by ` |`; None when the line is anything else, which is
    then parsed whole as before."""
    bar = pipe_column(line)
    if bar is None:
        return None
    result = grammar.parse(line[:bar])
    if isinstance(result, Match) and result.keywords[:1] == (SHOW,):
        return result, bar
    return None


def parse_filter(line: str, bar: int) -> OutputFilter | ParseError | BadRegex:
    """The modifier typed after the pipe at column `bar` of `line`.

    Nothing after the pipe is invalid input at the pipe itself (IOS puts the caret under
    the `|`); an unknown keyword is invalid input under that word; a keyword without its
    expression is an incomplete command. Error columns are the whole line's.
    """
    tail = line[bar + 1:]
    tokens = _TOKEN_RE.findall(tail)
    if not tokens or tokens[0].startswith("!"):
        return ParseError("invalid", bar, PIPE, line) if not tokens else \
            ParseError("invalid", bar + 1 + tail.index(tokens[0]), tokens[0], line)
    # Pad the tail so the parser's columns are those of the whole line.
    result = filter_grammar().parse(" " * (bar + 1) + tail)
    if isinstance(result, ParseError):
        return ParseError(result.kind, result.column, result.token, line)
    if not isinstance(result, Match):
        return ParseError("invalid", bar, PIPE, line)
    text = str(result.args["regex"])
    try:
        pattern = ios_regex(text)
    except re.error as error:
        return BadRegex(text, str(error))
    return OutputFilter(cast(FilterKind, result.key), pattern)
