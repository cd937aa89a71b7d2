"""The console's lab commands: the lines that start with `:`.

IOS's grammar has no command that starts with a colon (`:` is `% Invalid input` at any
prompt), so a line starting with `:` can never be an IOS command typed by mistake, and
an IOS command can never be taken for a lab command. The faults are the scenario file's
own events under the same names (`:link_down core r2` is `{link_down: [core, r2]}`), so
what a person tries at the console is what they later write in a file; a router name
may be left out, for the router being watched.

`parse` only reads a line into a `LabCommand` (or says what is wrong with it, naming the
word); `sim.console.controller` runs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from sim.scenario import clock_range
from sim.scenario.durations import parse_duration

PREFIX = ":"

USAGE: tuple[tuple[str, str], ...] = (
    (":help", "this list"),
    (":routers", "the routers: state, address, prompt"),
    (":r NAME", "watch and type at NAME's console (also :connect NAME)"),
    (":+DURATION", "let simulated time pass at once, e.g. :+10m (also :wait 10m)"),
    (":quiet [LIMIT]", "run until every console is quiet (at most LIMIT, default 1h)"),
    (":speed N", "N simulated seconds per host second (1 = real time)"),
    (":pause | :resume", "stop and restart simulated time"),
    (":time", "simulated time, true time and the watched router's clock"),
    (":link_down A B | :link_up A B", "take a link down or bring it back"),
    (":link_change A B [latency=D] [loss=P]", "change a link's latency or loss"),
    (":power [R] on|off | :reload [R]", "power a router off or on, or reload it"),
    (":clock_set [R] [now|TIME] | :clock_unset [R]", "set or lose a router's clock"),
    (":clock_jump [R] DURATION", "move a router's clock, e.g. :clock_jump r1 -2h"),
    (":http_server [R] on|off", "a router's HTTP server (its SCEP service)"),
    (":add_router NAME ADDRESS", "a new router, booted (for a lab built by hand)"),
    (":link A B [latency=D] [loss=P]", "a new link between two routers"),
    (":save FILE", "this session as a scenario file that replays it"),
    (":write [FOLDER]", "the output folder and its report, as of now"),
    (":quit", "leave the console (also :exit)"),
)
"""What `:help` prints, in this order."""

ROUTER_FAULTS = ("power", "reload", "clock_set", "clock_unset", "clock_jump", "http_server")
LINK_FAULTS = ("link_down", "link_up", "link_change")
_ALIASES = {"connect": "r", "exit": "quit", "wait": "+", "?": "help"}


class LabCommandError(ValueError):
    """A lab command that cannot be run; the message says which word is wrong."""


@dataclass(frozen=True)
class LabCommand:
    """A parsed lab command: `name` as `USAGE` lists it, `words` the rest of the line.

    Values that need reading (durations, times, on/off) are read by `parse` and kept in
    the typed fields, so the controller only runs commands that make sense.
    """

    name: str
    words: tuple[str, ...] = ()
    seconds: float | None = None
    when: datetime | None = None
    on: bool | None = None
    options: tuple[tuple[str, float], ...] = ()


def is_lab_command(line: str) -> bool:
    return line.lstrip().startswith(PREFIX)


def parse(line: str) -> LabCommand:
    """Read a `:` line; raise `LabCommandError` with what is wrong."""
    text = line.strip()[len(PREFIX):].strip()
    if not text:
        raise LabCommandError("a lab command follows the ':' (try :help)")
    if text.startswith("+"):
        return LabCommand("+", seconds=_duration(text[1:].strip(), "+"))
    name, *rest = text.split()
    name = _ALIASES.get(name.lower(), name.lower())
    words = tuple(rest)
    match name:
        case "help" | "routers" | "pause" | "resume" | "time" | "quit":
            _no_more(name, words)
            return LabCommand(name)
        case "+":
            _count(name, words, 1, 1, "a duration")
            return LabCommand("+", seconds=_duration(words[0], "wait"))
        case "r":
            _count(name, words, 1, 1, "a router name")
            return LabCommand("r", words)
        case "quiet":
            _count(name, words, 0, 1, "at most one duration")
            return LabCommand("quiet", seconds=_duration(words[0], name) if words else None)
        case "speed":
            _count(name, words, 1, 1, "a number")
            return LabCommand("speed", seconds=_speed(words[0]))
        case "save":
            _count(name, words, 1, 1, "a file name")
            return LabCommand("save", words)
        case "write":
            _count(name, words, 0, 1, "at most one folder")
            return LabCommand("write", words)
        case "add_router":
            _count(name, words, 2, 2, "a name and an address")
            return LabCommand(name, words)
        case "link" | "link_change":
            return _link(name, words)
        case "link_down" | "link_up":
            _count(name, words, 2, 2, "two router names")
            return LabCommand(name, words)
        case _ if name in ROUTER_FAULTS:
            return _router_fault(name, words)
    raise LabCommandError(f"unknown lab command ':{name}' (try :help)")


def _router_fault(name: str, words: tuple[str, ...]) -> LabCommand:
    """`:power [R] on|off` and friends: the router is the first word, when given."""
    match name:
        case "reload" | "clock_unset":
            _count(name, words, 0, 1, "at most a router name")
            return LabCommand(name, words)
        case "power" | "http_server":
            _count(name, words, 1, 2, "[router] on|off")
            return LabCommand(name, words[:-1], on=_on_off(words[-1], name))
        case "clock_jump":
            _count(name, words, 1, 2, "[router] and a duration")
            return LabCommand(name, words[:-1],
                              seconds=_duration(words[-1], name, signed=True))
        case _:  # clock_set [R] [now|TIME]
            _count(name, words, 0, 2, "[router] [now|TIME]")
            if words and _looks_like_time(words[-1]):
                when = None if words[-1] == "now" else _timestamp(words[-1])
                return LabCommand(name, words[:-1], when=when)
            if len(words) == 2:
                raise LabCommandError(f":{name}: '{words[1]}' is not 'now' or a time "
                                      "such as 2005-01-06T21:00:00Z")
            return LabCommand(name, words)


def _link(name: str, words: tuple[str, ...]) -> LabCommand:
    ends = [w for w in words if "=" not in w]
    settings = [w for w in words if "=" in w]
    if len(ends) != 2:
        raise LabCommandError(f":{name} takes two router names, then latency=D or loss=P")
    options: list[tuple[str, float]] = []
    for setting in settings:
        key, _, value = setting.partition("=")
        if key == "latency":
            options.append((key, _duration(value, name)))
        elif key == "loss":
            options.append((key, _probability(value, name)))
        else:
            raise LabCommandError(f":{name}: unknown setting '{key}' (latency=, loss=)")
    if name == "link_change" and not options:
        raise LabCommandError(":link_change needs latency=D or loss=P")
    return LabCommand(name, tuple(ends), options=tuple(options))


def _count(name: str, words: tuple[str, ...], least: int, most: int, what: str) -> None:
    if not least <= len(words) <= most:
        raise LabCommandError(f":{name} takes {what}")


def _no_more(name: str, words: tuple[str, ...]) -> None:
    if words:
        raise LabCommandError(f":{name} takes nothing more (not '{words[0]}')")


def _duration(text: str, name: str, *, signed: bool = False) -> float:
    try:
        return parse_duration(text, allow_negative=signed)
    except ValueError as error:
        raise LabCommandError(f":{name}: {error}") from None


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0.001 <= value <= 100000:
        raise LabCommandError(f":speed: '{text}' is not a number from 0.001 to 100000")
    return value


def _probability(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise LabCommandError(f":{name}: loss '{text}' is not a probability from 0 to 1")
    return value


def _on_off(text: str, name: str) -> bool:
    if text.lower() in ("on", "off"):
        return text.lower() == "on"
    raise LabCommandError(f":{name}: '{text}' is not on or off")


def _looks_like_time(text: str) -> bool:
    return text == "now" or (text[:1].isdigit() and "-" in text)


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise LabCommandError(f":clock_set: '{text}' is not a time such as "
                              "2005-01-06T21:00:00Z") from None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if clock_range.out_of_range(value):
        raise LabCommandError(f":clock_set: '{text}' is outside {clock_range.RANGE_TEXT}")
    return value


__all__ = ["LINK_FAULTS", "PREFIX", "ROUTER_FAULTS", "USAGE", "LabCommand",
           "LabCommandError", "is_lab_command", "parse"]
