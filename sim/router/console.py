"""The router console: a person typing IOS commands, one line at a time.

A `Session` is one console: the CLI mode (user EXEC, privileged EXEC, global config and
the `ca-trustpoint`, `cs-server` and certificate-chain submodes), the submode's context,
the answers waiting for prompts, and where output goes (the router's trace, or a list for
an invisible observer). `sim.router.commands` reads each line into it and runs the
handler. Handlers may be simpy generators: they ask interactive questions through
`ask()` (answered from the scenario's `input`) and spend simulated time.

Answers and missing answers: an answer arrives `ANSWER_DELAY` after its prompt. When the
scenario has no answer left, the operator is taken to press Return (an empty answer), and
the trace records `input.missing`, so a scenario that forgot an answer shows IOS's own
reaction to an empty one (`% Aborted.`, `% Please answer 'yes' or 'no'.`, the default).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterable
from enum import Enum
from typing import TYPE_CHECKING, Any

from sim.router.cli_parser import ParseError

if TYPE_CHECKING:
    from sim.router.router import Router

COMMAND_GAP = 1.0
"""Seconds between two typed command lines."""
ANSWER_DELAY = 2.0
"""Seconds a person takes to answer a prompt."""


class Mode(Enum):
    USER_EXEC = ">"
    EXEC = "#"
    CONFIG = "(config)#"
    TRUSTPOINT = "(ca-trustpoint)#"
    CS_SERVER = "(cs-server)#"
    CERT_CHAIN = "(config-cert-chain)#"
    CERT_DATA = "(config-pubkey)#"


SUBMODES = frozenset({Mode.TRUSTPOINT, Mode.CS_SERVER, Mode.CERT_CHAIN})


class AbortCommand(Exception):
    """The operator gave up on a prompt; the command ends with nothing more done."""


class Session:
    def __init__(self, router: Router, *, observer: bool = False) -> None:
        self.router = router
        self.mode = Mode.USER_EXEC
        self.context: str | None = None
        """The name of the trustpoint, server or chain a submode edits."""
        self.cert_serial: int | None = None
        self.cert_hex: list[str] = []
        self.cert_is_ca = False
        self.answers: deque[str] = deque()
        self.observer = observer
        self.output: list[str] = []
        self.booting = False
        self.current_line = ""

    # -- output --------------------------------------------------------------------------
    @property
    def prompt(self) -> str:
        return self.router.running.hostname + self.mode.value

    def write(self, text: str = "") -> None:
        if self.observer:
            self.output.append(text)
        else:
            self.router.console_line(text)

    def write_lines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    # -- input -------------------------------------------------------------------------------
    def ask(self, prompt: str, *, secret: bool = False) -> Generator[Any, Any, str]:
        """Show `prompt`, wait for the operator's answer and return it (may be "")."""
        self.write(prompt)
        yield self.router.env.timeout(ANSWER_DELAY)
        if self.answers:
            answer = self.answers.popleft()
        else:
            answer = ""
            self.router.emit("console", "input.missing", prompt=prompt)
        if answer and not secret:
            self.router.console_inline(" " + answer)
        return answer

    def read_pasted_line(self) -> Generator[Any, Any, str | None]:
        """One line of text pasted at a prompt that has no prompt text (a PKCS#10 paste);
        None when the operator has nothing more to paste."""
        if not self.answers:
            return None
        line = self.answers.popleft()
        self.write(line)
        yield self.router.env.timeout(0.05)
        return line

    def ask_yes_no(self, prompt: str) -> Generator[Any, Any, bool]:
        """IOS's `[yes/no]:` question: anything else is refused once, then the command ends."""
        for _attempt in range(2):
            answer = (yield from self.ask(prompt)).strip().lower()
            if answer and "yes".startswith(answer):
                return True
            if answer and "no".startswith(answer):
                return False
            self.write("% Please answer 'yes' or 'no'.")
        raise AbortCommand

    def confirm(self, prompt: str) -> Generator[Any, Any, bool]:
        """`[confirm]`: Return (or y) confirms, anything else declines."""
        answer = (yield from self.ask(prompt)).strip().lower()
        return answer in ("", "y", "yes")

    def render_error(self, error: ParseError, column_offset: int = 0) -> None:
        shifted = ParseError(error.kind, error.column + column_offset, error.token,
                             " " * column_offset + error.line)
        self.write_lines(shifted.render(self.prompt))
