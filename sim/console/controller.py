"""The console's logic, apart from any terminal: what a typed line does, what `?` and
Tab show, what the prompt is, what to print next.

`pkilab console` (`sim.console.app`) draws this on a terminal; tests drive it directly.
A `ConsoleController` owns a `Lab` and the name of the router being watched. Each line
the person enters is one of:

- a lab command (`:` first, `sim.console.lab_commands`): runs at once, its answer is
  returned for printing;
- an answer, when the watched router waits on a question (`[yes/no]:`, a password):
  it goes to that question, after however long the person took;
- an IOS command line: typed at the watched router's console now, as a scenario's `cli`
  event at this simulated time (so the session saves as a scenario that replays it).

Everything touching the simulation holds the lab's lock: the live clock runs it from a
thread of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sim.console import lab_commands
from sim.console.feed import ConsoleFeed
from sim.console.lab_commands import LabCommand, LabCommandError
from sim.lab import Lab, LabError
from sim.router.cli_help import help_for
from sim.router.commands import CTRL_C, CTRL_Z
from sim.router.console import Mode
from sim.router.router import Router
from sim.scenario.durations import format_duration
from sim.scenario.model import (
    ClockJumpEvent,
    ClockSetEvent,
    ClockUnsetEvent,
    Event,
    HttpServerEvent,
    LinkChangeEvent,
    LinkEvent,
    PowerEvent,
    ReloadEvent,
)
from sim.scenario.writer import ScenarioWriteError, scenario_yaml

QUIET_LIMIT = 3600.0
"""`:quiet` gives up after an hour of simulated time unless told otherwise."""
SHOWN_ON_SWITCH = 6
"""Lines of a router's console shown when the person moves to it."""


@dataclass(frozen=True)
class Prompt:
    """What the terminal shows before the cursor: `text`, and whether what is typed
    there is a password (not shown)."""

    text: str
    secret: bool = False
    question: bool = False


class ConsoleQuit(Exception):
    """The person asked to leave (`:quit`)."""


class ConsoleController:
    def __init__(self, lab: Lab, *, watched: str | None = None,
                 out: Path | None = None) -> None:
        self.lab = lab
        if watched is not None:
            lab.router(watched)
        self.watched = watched or next(iter(lab.routers), None)
        self.out = out or Path("reports") / f"{lab.name}-console"
        self.feed = ConsoleFeed(lab.env.trace)
        lab.live_consoles(True)  # a person answers the questions, however long it takes
        self._failure_shown = False

    # -- what the terminal shows -------------------------------------------------------------
    def prompt(self) -> Prompt:
        with self.lab.locked():
            router = self._watched_router()
            if router is None:
                return Prompt("pkilab> ")
            question = router.console_question
            if question is not None:
                return Prompt(question.text, question.secret, question=True)
            if router.up and router.session is not None and router.console_idle:
                return Prompt(router.session.prompt)
            return Prompt("")

    def take_output(self) -> list[str]:
        """The watched router's console lines printed since the last call."""
        with self.lab.locked():
            router = self._watched_router()
            question = router.console_question if router is not None else None
            lines = self.feed.take(self.watched, question.text if question else None)
        live = self.lab.live
        if live is not None and live.error is not None and not self._failure_shown:
            # A bug in the simulation ends the clock thread; say so rather than sit still.
            self._failure_shown = True
            lines.append(f"% the simulation stopped: {live.error!r}; :write keeps what "
                         "happened so far, :quit leaves")
        return lines

    def settled(self) -> bool:
        """The watched console has run everything typed, or waits on a question."""
        with self.lab.locked():
            router = self._watched_router()
            return (router is None or not router.up or router.console_idle
                    or router.console_question is not None)

    def status(self) -> str:
        """One line for the bottom of the screen: router, times, pace."""
        with self.lab.locked():
            router = self._watched_router()
            now = self.lab.now
            true_time = self.lab.env.true_time().strftime("%Y-%m-%d %H:%M:%S UTC")
            if router is None:
                state = "no router (:add_router NAME ADDRESS)"
            else:
                state = f"{router.name} {_router_state(router)}"
        live = self.lab.live
        pace = ("paused" if live.paused else f"{live.speed:g}x") if live else "stepped"
        return (f" {state} | +{_elapsed(now)} | {true_time} | {pace} | "
                ":help for lab commands")

    def help(self, typed: str) -> list[str]:
        """IOS's `?` for the line typed so far (or the lab commands after `:`): the
        lines to print under the typed line. The typed text stays as it was."""
        if lab_commands.is_lab_command(typed):
            return self._usage()
        mode = self._mode()
        if mode is None:
            return ["% no router console here (:help for lab commands)"]
        try:
            screen = help_for(mode).help(typed)
        except ValueError:  # pasting certificate data: IOS takes `?` as text there
            return []
        return [self._release_ranges(line) for line in screen.lines]

    def _release_ranges(self, line: str) -> str:
        """The help grammar is one for every release; where a release's range is narrower
        (`modulus <360-2048>` before 15.1(1)T), its `?` shows that range instead. The
        ranges have the same width, so the columns stay aligned."""
        with self.lab.locked():
            router = self._watched_router()
            ranges = router.release.help_ranges if router is not None else ()
        for grammar_range, shown in ranges:
            line = line.replace(grammar_range, shown)
        return line

    def complete(self, typed: str) -> str:
        """The line after Tab (IOS completes a keyword it can tell apart)."""
        mode = self._mode()
        if mode is None or lab_commands.is_lab_command(typed):
            return typed
        try:
            return help_for(mode).complete(typed).line
        except ValueError:
            return typed

    # -- what the person enters ----------------------------------------------------------
    def enter(self, line: str) -> list[str]:
        """Run one entered line; returns lines to print at once (lab command output)."""
        if lab_commands.is_lab_command(line):
            try:
                return self._lab_command(lab_commands.parse(line))
            except (LabCommandError, LabError, ScenarioWriteError) as error:
                return [f"% {error}"]
        with self.lab.locked():
            router = self._watched_router()
            if router is None:
                return ["% no router yet: :add_router NAME ADDRESS makes one"]
            question = router.console_question
            if question is not None:
                self.feed.answered_here(router.name, echoed=bool(line) and not question.secret)
                self.lab.answer(router.name, line)
                return []
            if not line.strip():
                # A bare Return shows the prompt again; it changes nothing, so it is
                # neither sent nor recorded (a scenario's `cli` cannot hold one alone).
                return []
            self.feed.typed_here(router.name, line.strip())
            self.lab.type(router.name, line, wait=False)
            return []

    def interrupt(self) -> list[str]:
        """Ctrl-C. At a question IOS abandons the command; in a configuration mode it
        goes back to privileged EXEC like Ctrl-Z; elsewhere the typed text is dropped."""
        with self.lab.locked():
            router = self._watched_router()
            if router is None:
                return []
            if router.console_question is not None:
                self.feed.answered_here(router.name, echoed=True)  # the terminal shows ^C
                self.lab.interrupt(router.name)
                return []
        if self._in_configuration():
            self.enter(CTRL_C)
        return []

    def suspend(self) -> bool:
        """Ctrl-Z: from any configuration mode back to privileged EXEC; IOS echoes `^Z`
        (typed as the line `^Z`, which is how a scenario file writes it too). False
        where Ctrl-Z does nothing (EXEC, a question)."""
        if not self._in_configuration() or self.prompt().question:
            return False
        self.enter(CTRL_Z)
        return True

    def _in_configuration(self) -> bool:
        mode = self._mode()
        return mode is not None and mode not in (Mode.USER_EXEC, Mode.EXEC)

    # -- lab commands ------------------------------------------------------------------------
    def _lab_command(self, command: LabCommand) -> list[str]:
        lab = self.lab
        match command.name:
            case "help":
                return self._usage()
            case "quit":
                raise ConsoleQuit
            case "routers":
                return self._routers()
            case "r":
                return self._switch(command.words[0])
            case "+":
                lab.run(command.seconds or 0.0)
                return [f"+{format_duration(command.seconds or 0.0)}: now +{_elapsed(lab.now)}"]
            case "quiet":
                took = lab.run_until_quiet(limit=command.seconds or QUIET_LIMIT)
                return [f"quiet after {format_duration(round(took, 3))}: now "
                        f"+{_elapsed(lab.now)}"]
            case "speed":
                lab.go_live(speed=command.seconds or 1.0)
                return [f"simulated time runs at {command.seconds:g}x the host clock"]
            case "pause" | "resume":
                if lab.live is None:
                    return ["% simulated time is not running live"]
                (lab.live.pause if command.name == "pause" else lab.live.resume)()
                return [f"simulated time {command.name}d at +{_elapsed(lab.now)}"]
            case "time":
                return self._time()
            case "add_router":
                name, address = command.words
                lab.add_router(name, address)
                self.watched = self.watched or name
                return [f"{name} ({address}) is booting"]
            case "link":
                a, b = command.words
                lab.link(a, b, **dict(command.options))
                return [f"link {a} - {b} up"]
            case "save":
                return self._save(Path(command.words[0]))
            case "write":
                folder = Path(command.words[0]) if command.words else self.out
                lab.write_output(folder)
                return [f"output folder: {folder}/ (report: {folder / 'report.html'})"]
        lab.do(self._fault(command))
        return [f"{command.name.replace('_', ' ')} at +{_elapsed(lab.now)}"]

    def _fault(self, command: LabCommand) -> Event:
        if command.name in lab_commands.LINK_FAULTS:
            a, b = command.words
            if command.name == "link_change":
                options = dict(command.options)
                return LinkChangeEvent(0, a, b, options.get("latency"), options.get("loss"))
            return LinkEvent(0, a, b, command.name == "link_up")
        router = command.words[0] if command.words else self.watched
        if router is None:
            raise LabCommandError(f":{command.name} needs a router name")
        match command.name:
            case "power":
                return PowerEvent(0, router, bool(command.on))
            case "reload":
                return ReloadEvent(0, router)
            case "clock_set":
                return ClockSetEvent(0, router, command.when)
            case "clock_unset":
                return ClockUnsetEvent(0, router)
            case "clock_jump":
                return ClockJumpEvent(0, router, command.seconds or 0.0)
        return HttpServerEvent(0, router, bool(command.on))

    def _switch(self, name: str) -> list[str]:
        router = self.lab.router(name)
        self.watched = name
        recent = self.lab.transcript(name)[-SHOWN_ON_SWITCH:]
        with self.lab.locked():
            self.feed.take(None)  # what the others printed meanwhile is not shown here
        return [f"[{name} {router.address}, {_router_state(router)}]", *recent]

    def _routers(self) -> list[str]:
        rows = []
        with self.lab.locked():
            for name, router in self.lab.routers.items():
                mark = "*" if name == self.watched else " "
                prompt = router.session.prompt if router.session else "-"
                rows.append(f"{mark} {name:<16} {router.address:<15} "
                            f"{_router_state(router):<10} {prompt}")
        return rows or ["no routers yet (:add_router NAME ADDRESS)"]

    def _time(self) -> list[str]:
        with self.lab.locked():
            lines = [f"simulated +{_elapsed(self.lab.now)}, true time "
                     f"{self.lab.env.true_time().isoformat(timespec='milliseconds')}"]
            router = self._watched_router()
            if router is not None:
                clock = router.clock
                shown = clock.now().isoformat(timespec="milliseconds") if clock.is_set \
                    else "not set"
                lines.append(f"{router.name}'s clock: {shown}")
        return lines

    def _save(self, path: Path) -> list[str]:
        scenario = self.lab.scenario()
        text = scenario_yaml(scenario)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        except OSError as error:
            return [f"% cannot write {path}: {error.strerror or error}"]
        lines = [f"saved as {path} ({len(scenario.events)} events up to "
                 f"+{_elapsed(self.lab.now)}); replay: pkilab run {path}"]
        late = ", ".join(f"{name} (+{_elapsed(at)})" for name, at in
                         self.lab.late_routers.items())
        if late:
            lines.append(f"note: a scenario file has every router from the start, so the "
                         f"replay boots {late} at +00:00:00.0; their clocks' stamps differ")
        return lines

    @staticmethod
    def _usage() -> list[str]:
        width = max(len(usage) for usage, _ in lab_commands.USAGE)
        return [f"  {usage:<{width}}  {text}" for usage, text in lab_commands.USAGE]

    # -- helpers -------------------------------------------------------------------------
    def _watched_router(self) -> Router | None:
        return self.lab.routers.get(self.watched) if self.watched else None

    def _mode(self) -> Mode | None:
        with self.lab.locked():
            router = self._watched_router()
            if router is None or router.session is None:
                return None
            return router.session.mode


def _router_state(router: Router) -> str:
    if not router.powered:
        return "off"
    return "booting" if router.booting else "up"


def _elapsed(seconds: float) -> str:
    """Simulated time since the start, as `1d 02:03:04.5`."""
    whole = timedelta(seconds=round(seconds, 1))
    days = f"{whole.days}d " if whole.days else ""
    rest = whole - timedelta(days=whole.days)
    hours, remainder = divmod(rest.total_seconds(), 3600)
    minutes, secs = divmod(remainder, 60)
    return f"{days}{int(hours):02d}:{int(minutes):02d}:{secs:04.1f}"
