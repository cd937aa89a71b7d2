"""`pkilab console` on a terminal: prompt_toolkit draws what `ConsoleController` says.

The prompt is the watched router's (`ca#`, `r1(ca-trustpoint)#`), or the question it
waits on; the router's console output arrives above the line being typed, as syslog
does on a real console, while simulated time runs live. Keys as IOS has them:

- `?` prints IOS's help for the line so far and puts the line back (`sh cry ?`);
- Tab completes a keyword IOS can tell apart;
- Ctrl-Z leaves configuration mode (`end`); Ctrl-C drops the line, leaves
  configuration mode, or abandons a question, as IOS does;
- Up/Down walk the history (answers to password questions are not kept in it).

Without a terminal (input from a pipe or a file) the same controller reads one line at
a time and prints what the router printed once its console is quiet, so a session can
be scripted with a here-document.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import TextIO

from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.application import run_in_terminal
from prompt_toolkit.filters import Condition
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.patch_stdout import patch_stdout

from sim.console.controller import ConsoleController, ConsoleQuit

REFRESH_SECONDS = 0.05
"""How often (host time) new console output is printed and the prompt redrawn."""
PIPE_QUIET_SECONDS = 0.3
"""Without a terminal: host time a console must stay quiet before the next line."""
PIPE_LIMIT_SECONDS = 120.0
"""Without a terminal: the longest wait for a console to finish a line."""

BANNER = ("pkilab console: an IOS console on a simulated network. Lines starting with "
          "':' are lab commands (:help); '?' is IOS's help.")


def run_console(controller: ConsoleController, *, stdin: TextIO | None = None,
                stdout: TextIO | None = None) -> None:
    """Until `:quit` (or the end of piped input)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if stdin.isatty() and stdout.isatty():
        asyncio.run(_interactive(controller))
    else:
        _piped(controller, stdin, stdout)


# -- a terminal ---------------------------------------------------------------------------
class _History(InMemoryHistory):
    """Keeps commands, not answers to password questions."""

    def __init__(self, secret: Callable[[], bool]) -> None:
        super().__init__()
        self._secret = secret

    def append_string(self, string: str) -> None:
        if not self._secret() and string.strip():
            super().append_string(string)


async def _interactive(controller: ConsoleController) -> None:
    secret = Condition(lambda: controller.prompt().secret)
    session: PromptSession[str] = PromptSession(
        history=_History(lambda: controller.prompt().secret),
        key_bindings=_keys(controller),
        bottom_toolbar=controller.status,
        complete_while_typing=False,
        is_password=secret,
    )
    _say(BANNER)
    for line in controller.take_output()[-8:]:
        _say(line)
    with patch_stdout(raw=True):
        pump = asyncio.create_task(_pump(controller, session))
        try:
            while True:
                try:
                    line = await session.prompt_async(lambda: controller.prompt().text)
                except EOFError:
                    _say("(:quit leaves the console)")
                    continue
                try:
                    for text in controller.enter(line):
                        _say(text)
                except ConsoleQuit:
                    break
        finally:
            pump.cancel()


async def _pump(controller: ConsoleController, session: PromptSession[str]) -> None:
    """Print what the router prints, and redraw the prompt and status, as time runs."""
    while True:
        for line in controller.take_output():
            _say(line)
        session.app.invalidate()
        await asyncio.sleep(REFRESH_SECONDS)


def _keys(controller: ConsoleController) -> KeyBindings:
    keys = KeyBindings()
    answering = Condition(lambda: controller.prompt().question)

    @keys.add("?", filter=~answering)
    def _help(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        typed = buffer.text
        shown = controller.prompt().text + typed + "?"
        lines = controller.help(typed)
        if not lines:  # certificate data: `?` is a character there
            buffer.insert_text("?")
            return

        def show() -> None:
            _say(shown)
            for line in lines:
                _say(line)

        run_in_terminal(show)

    @keys.add("tab", filter=~answering)
    def _complete(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        completed = controller.complete(buffer.text)
        if completed != buffer.text:
            buffer.text = completed
            buffer.cursor_position = len(completed)

    @keys.add("c-z")
    def _suspend(event: KeyPressEvent) -> None:
        shown = controller.prompt().text + "^Z"
        event.current_buffer.reset()
        if controller.suspend():
            run_in_terminal(lambda: _say(shown))

    @keys.add("c-c")
    def _interrupt(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        shown = controller.prompt().text + buffer.text + "^C"
        buffer.reset()
        lines = controller.interrupt()
        run_in_terminal(lambda: _print_all([shown, *lines]))

    return keys


def _print_all(lines: list[str]) -> None:
    for line in lines:
        _say(line)


def _say(text: str) -> None:
    """One line on the terminal, above the prompt being typed at."""
    print_formatted_text(text)


# -- a pipe -------------------------------------------------------------------------------
def _piped(controller: ConsoleController, stdin: TextIO, stdout: TextIO) -> None:
    """One line at a time: enter it, wait until the console is quiet, print."""
    for line in controller.take_output():
        stdout.write(line + "\n")
    for raw in stdin:
        line = raw.rstrip("\r\n")
        prompt = controller.prompt().text
        stdout.write(prompt + line + "\n")
        try:
            printed = controller.enter(line)
        except ConsoleQuit:
            break
        for text in printed:
            stdout.write(text + "\n")
        _wait_quiet(controller, stdout)
        stdout.flush()


def _wait_quiet(controller: ConsoleController, stdout: TextIO) -> None:
    deadline = time.monotonic() + PIPE_LIMIT_SECONDS
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        lines = controller.take_output()
        for text in lines:
            stdout.write(text + "\n")
        now = time.monotonic()
        if lines or not controller.settled():
            quiet_since = now
        elif now - quiet_since >= PIPE_QUIET_SECONDS:
            return
        time.sleep(REFRESH_SECONDS)
