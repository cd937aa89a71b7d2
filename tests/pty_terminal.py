"""A pseudo-terminal running pkilab, read as a person reads a screen (tests' helper).

Everything the program writes goes through a VT100 emulator (pyte), so tests assert on
what a person would see, not on escape codes; the emulator answers prompt_toolkit's
cursor-position requests as a real terminal does.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pexpect
import pyte

ROWS, COLUMNS = 50, 140


class Terminal:
    """A pseudo-terminal running pkilab, and the screen a person would be looking at."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self.screen.set_mode(pyte.modes.LNM)
        self.stream = pyte.ByteStream(self.screen)
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env.update(TERM="xterm", COLUMNS=str(COLUMNS), LINES=str(ROWS))
        self.env = env
        self.child = pexpect.spawn(sys.executable, ["-m", "sim", *args], cwd=str(cwd),
                                   env=env, dimensions=(ROWS, COLUMNS), timeout=5)
        self.everything = ""
        """Every line that scrolled past or is on screen (the screen alone forgets)."""

    def pump(self, seconds: float = 0.1) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.05)
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                return
            self.stream.feed(data)
            for _request in range(data.count(b"\x1b[6n")):
                # A real terminal answers "where is the cursor?" (prompt_toolkit asks, to
                # know how much room the prompt and the status line have).
                cursor = self.screen.cursor
                self.child.send(f"\x1b[{cursor.y + 1};{cursor.x + 1}R")
            self._remember()

    def _remember(self) -> None:
        for line in self.screen.display:
            text = line.rstrip()
            if text and text not in self.everything:
                self.everything += text + "\n"

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def cursor_line(self) -> str:
        return self.screen.display[self.screen.cursor.y].rstrip()

    def wait_for(self, pattern: str, timeout: float = 60.0, *, on_screen: bool = True) -> str:
        """Until `pattern` (a regex) shows on the screen; the matching line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(0.1)
            haystack = self.text() if on_screen else self.everything
            found = re.search(pattern, haystack, re.MULTILINE)
            if found:
                return found.group(0)
        raise AssertionError(f"{pattern!r} never showed; the screen:\n{self.text()}")

    def wait_prompt(self, prompt: str, timeout: float = 60.0) -> None:
        """Until the cursor sits after `prompt` at the start of its line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(0.1)
            if self.cursor_line() == prompt:
                return
        raise AssertionError(f"no {prompt!r} prompt; the screen:\n{self.text()}")

    def type(self, text: str) -> None:
        self.child.send(text)
        self.pump(0.2)

    def line(self, text: str, prompt: str | None = None) -> None:
        self.type(text + "\r")
        if prompt is not None:
            self.wait_prompt(prompt)

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
