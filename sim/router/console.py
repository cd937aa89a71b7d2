"""The router console: a person typing IOS commands, one line at a time.

A `Session` is one console: the CLI mode (user EXEC, privileged EXEC, global config and
the `ca-trustpoint`, `cs-server` and certificate-chain submodes), the submode's context,
the answers waiting for prompts, and where output goes (the router's trace, or a list for
an invisible observer). `sim.router.commands` reads each line into it and runs the
handler. Handlers may be simpy generators: they ask interactive questions through
`ask()` (answered from the scenario's `input`) and spend simulated time.

Answers and missing answers: an answer arrives `after` seconds after its prompt
(`Answer.after`), `ANSWER_DELAY` when it does not say. A prompt is answered first by the
batch's answers keyed by prompt text (`by_prompt`, a scenario's `answers:`), else by the
next positional answer (`input:`). When the scenario has no answer left, the operator is
taken to press Return (an empty answer), and the trace records `input.missing`, so a
scenario that forgot an answer shows IOS's own reaction to an empty one (`% Aborted.`,
`% Please answer 'yes' or 'no'.`, the default).

A live console (`Router.set_live_console`) has a person at the keyboard instead: a
question with no scenario answer left waits, while simulated time runs, until the person
answers (`Router.answer`) or presses Ctrl-C (`Router.interrupt_question`); the trace
records each such answer (`console/answer`, with how long it took) so that the session
replays (`sim.scenario.session_record`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

import simpy

from sim.kernel.process import SimProcess
from sim.router.cli_parser import ParseError
from sim.router.output_filter import OutputFilter

if TYPE_CHECKING:
    from sim.router.router import Router

COMMAND_GAP = 1.0
"""Seconds between two typed command lines."""
ANSWER_DELAY = 2.0
"""Seconds a person takes to answer a prompt, unless the answer says (`Answer.after`)."""
PASTE_GAP = 0.05
"""Seconds between two pasted lines (a terminal pasting text line by line)."""


class Mode(Enum):
    USER_EXEC = ">"
    EXEC = "#"
    CONFIG = "(config)#"
    TRUSTPOINT = "(ca-trustpoint)#"
    CS_SERVER = "(cs-server)#"
    CERT_CHAIN = "(config-cert-chain)#"
    CERT_DATA = "(config-pubkey)#"
    ISAKMP_POLICY = "(config-isakmp)#"
    CRYPTO_MAP = "(config-crypto-map)#"
    IKEV2_PROFILE = "(config-ikev2-profile)#"
    CERT_MAP = "(ca-certificate-map)#"
    INTERFACE = "(config-if)#"
    IPSEC_PROFILE = "(ipsec-profile)#"


SUBMODES = frozenset({Mode.TRUSTPOINT, Mode.CS_SERVER, Mode.CERT_CHAIN, Mode.ISAKMP_POLICY,
                      Mode.CRYPTO_MAP, Mode.IKEV2_PROFILE, Mode.CERT_MAP, Mode.INTERFACE,
                      Mode.IPSEC_PROFILE})


class AbortCommand(Exception):
    """The operator gave up on a prompt; the command ends with nothing more done."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What the operator types at one prompt: a scenario `input` item, or a live answer.

    `text` is the line typed ("" is a bare Return). `after` is how many seconds after the
    prompt it is typed; None means `ANSWER_DELAY` at a question and, for a pasted line, at
    once. `ctrl_c` is Ctrl-C pressed instead of a line (`text` is then ""): the command
    is abandoned.
    """

    text: str = ""
    after: float | None = None
    ctrl_c: bool = False

    def __post_init__(self) -> None:
        # A malformed answer would stall or rewind the console; the loader already checks
        # what a file says, this guards the model built by code (a lab, a recorder).
        if self.after is not None and not (math.isfinite(self.after) and self.after >= 0):
            raise ValueError(f"an answer's delay must be 0 or more seconds, not {self.after}")
        if self.ctrl_c and self.text:
            raise ValueError("a Ctrl-C answer has no text")

    @classmethod
    def of(cls, item: Answer | str) -> Answer:
        """`item` as an Answer: a plain string is typed `ANSWER_DELAY` after its prompt."""
        return item if isinstance(item, Answer) else cls(item)

    def record(self) -> dict[str, Any]:
        """This answer as the trace records it: `text`, then `after` and `ctrl_c` when
        they are not the defaults."""
        record: dict[str, Any] = {"text": self.text}
        if self.after is not None:
            record["after"] = self.after
        if self.ctrl_c:
            record["ctrl_c"] = True
        return record

    def delay(self, default: float) -> float:
        """Seconds from the prompt to this answer: `after`, else `default`."""
        return default if self.after is None else self.after


@dataclass(frozen=True)
class ConsoleQuestion:
    """A live console waiting for the person at the keyboard (`Router.console_question`).

    `text` is the prompt as printed ("" for a line of a paste, such as a PKCS#10 request
    after `crypto pki server NAME request pkcs10 terminal`); `secret` says IOS does not
    echo what is typed (passwords), so a terminal should not show it either; `since` is
    the simulated time the question was asked.
    """

    text: str
    secret: bool
    paste: bool
    since: float


@dataclass
class PromptAnswer:
    """One entry of a scenario's `answers:`: the answer to a prompt whose text holds
    `key`; `used` once it answered one (an entry that answers nothing is a mistake)."""

    key: str
    answer: Answer
    used: bool = False


@dataclass
class _Waiting:
    question: ConsoleQuestion
    event: simpy.Event
    """Succeeds with the typed line, or None for Ctrl-C."""


def elapsed(since: float, now: float) -> float:
    """`now - since` as the shortest decimal that, added to `since`, gives `now` back.

    A recorded answer is replayed `after` seconds after its question, so that sum must be
    exactly the instant it was typed at; a plain difference of floats (13.370000000000001)
    is exact only by luck, and reads badly in a saved scenario file.
    """
    exact = now - since
    candidates = [round(exact, digits) for digits in range(17)]
    candidates += [exact, math.nextafter(exact, math.inf), math.nextafter(exact, -math.inf)]
    return next((c for c in candidates if c >= 0 and since + c == now), exact)


class Session:
    # Slots, no per-instance dict: one per router, and a 10,000-router run counts its memory
    # per router.
    __slots__ = ("router", "mode", "context", "cert_serial", "cert_hex", "cert_is_ca", "answers",
                 "by_prompt", "source", "batch", "_waiting", "observer", "output", "booting",
                 "current_line", "output_filter")

    def __init__(self, router: Router, *, observer: bool = False) -> None:
        self.router = router
        self.mode = Mode.USER_EXEC
        self.context: str | None = None
        """The name of the trustpoint, server or chain a submode edits."""
        self.cert_serial: int | None = None
        self.cert_hex: list[str] = []
        self.cert_is_ca = False
        self.answers: list[Answer] = []
        """The running batch's answers, first in line first: a list, not a deque (a few
        answers at most, and an empty deque costs some 600 bytes in every router's session)."""
        self.by_prompt: list[PromptAnswer] = []
        """The running batch's answers keyed by prompt text (a scenario's `answers:`)."""
        self.source: str | None = None
        """Where the running batch of typed lines comes from (`file.yaml:42` for a
        scenario event), carried by the trace events an operator's mistake raises
        (`cli/error`, `console/input.missing`, `console/input.unused`); None when typed
        by code or at a live console."""
        self.batch: int | None = None
        """The number of the live-recorded batch of typed lines running now (`console/typed`
        in the trace), which its keyboard answers name; None when not recording."""
        self._waiting: _Waiting | None = None
        self.observer = observer
        self.output: list[str] = []
        self.booting = False
        self.current_line = ""
        self.output_filter: OutputFilter | None = None
        """The `| include ...` of the show command running now: what it writes goes
        through it (its echoed line, other sessions and syslog lines do not)."""

    # -- output --------------------------------------------------------------------------
    @property
    def prompt(self) -> str:
        # `_value_` is what `.value` returns, without the enum's Python-level descriptor
        # (a prompt is written for every line typed).
        return self.router.running.hostname + self.mode._value_

    def write(self, text: str = "") -> None:
        if self.output_filter is not None and not self.output_filter.passes(text):
            return
        if self.observer:
            self.output.append(text)
        else:
            self.router.console_line(text)

    def write_lines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    # -- input -------------------------------------------------------------------------------
    def ask(self, prompt: str, *, secret: bool = False) -> SimProcess[str]:
        """Show `prompt`, wait for the operator's answer and return it (may be "").

        Ctrl-C instead of an answer echoes `^C` and raises `AbortCommand`.
        """
        self.write(prompt)
        answer = yield from self._answer(prompt, secret)
        if answer.ctrl_c:
            self.router.console_inline("^C")
            raise AbortCommand
        if answer.text and not secret:
            self.router.console_inline(" " + answer.text)
        return answer.text

    def _answer(self, prompt: str, secret: bool) -> SimProcess[Answer]:
        env = self.router.env
        keyed = self._keyed_answer(prompt)
        if keyed is not None:
            yield env.timeout(keyed.delay(ANSWER_DELAY))
            return keyed
        if self.answers and self.answers[0].after is not None:
            given = self.answers.pop(0)
            yield env.timeout(given.delay(ANSWER_DELAY))
            return given
        if not self.answers and self._keyboard():
            return (yield from self._from_keyboard(prompt, secret=secret, paste=False))
        # An answer without a delay: ANSWER_DELAY, then whatever answer is first in line.
        yield env.timeout(ANSWER_DELAY)
        if self.answers:
            return self.answers.pop(0)
        self.router.emit("console", "input.missing", prompt=prompt, source=self.source)
        return Answer("")

    def _keyed_answer(self, prompt: str) -> Answer | None:
        """The `answers:` entry for `prompt`: the longest key found in the prompt as IOS
        prints it (case-sensitive), so `Password` answers `Password:` and `Re-enter
        password` answers `Re-enter password:`; None when no key is in it."""
        found = [keyed for keyed in self.by_prompt if keyed.key in prompt]
        if not found:
            return None
        best = max(found, key=lambda keyed: len(keyed.key))  # the first of equal lengths
        best.used = True
        return best.answer

    def read_pasted_line(self) -> SimProcess[str | None]:
        """One line of text pasted at a prompt that has no prompt text (a PKCS#10 paste);
        None when the operator has nothing more to paste. At a live console the person
        types (or pastes) each line; Ctrl-C abandons the command."""
        env = self.router.env
        if self.answers:
            given = self.answers.pop(0)
            if given.after is None and not given.ctrl_c:
                self.write(given.text)
                yield env.timeout(PASTE_GAP)
                return given.text
            yield env.timeout(given.delay(PASTE_GAP))
        elif self._keyboard():
            given = yield from self._from_keyboard("", secret=False, paste=True)
        else:
            return None
        if given.ctrl_c:
            self.write("^C")
            raise AbortCommand
        self.write(given.text)
        return given.text

    # -- the keyboard of a live console ------------------------------------------------------
    @property
    def question(self) -> ConsoleQuestion | None:
        """The question waiting for the keyboard, if any (see `Router.console_question`)."""
        waiting = self._waiting
        if waiting is None or waiting.event.triggered:
            return None
        return waiting.question

    def deliver(self, typed: str | None) -> bool:
        """The keyboard answers the waiting question: a line, or None for Ctrl-C. False
        when no question waits."""
        waiting = self._waiting
        if waiting is None or waiting.event.triggered:
            return False
        waiting.event.succeed(typed)
        return True

    def _keyboard(self) -> bool:
        """Whether a question goes to the person at the keyboard: the console is live, a
        recorded batch is running (so the answer can be saved with it), and no other
        question already waits."""
        return (self.router.live_console and not self.observer and self.batch is not None
                and self._waiting is None)

    def _from_keyboard(self, prompt: str, *, secret: bool, paste: bool
                       ) -> SimProcess[Answer]:
        env = self.router.env
        waiting = _Waiting(ConsoleQuestion(prompt, secret, paste, env.now), env.event())
        self._waiting = waiting
        try:
            typed = yield waiting.event
        finally:
            if self._waiting is waiting:
                self._waiting = None
        answer = Answer("" if typed is None else typed, elapsed(waiting.question.since, env.now),
                        ctrl_c=typed is None)
        # The text is recorded in clear, secret or not: replaying the session needs it, as
        # a scenario file's `input` holds passwords in clear. `secret` lets a reader mask it.
        self.router.emit("console", "answer", batch=self.batch, prompt=prompt,
                         text=answer.text, after=answer.after, secret=secret, paste=paste,
                         ctrl_c=answer.ctrl_c)
        return answer

    def ask_yes_no(self, prompt: str) -> SimProcess[bool]:
        """IOS's `[yes/no]:` question: anything else is refused once, then the command ends."""
        for _attempt in range(2):
            answer = (yield from self.ask(prompt)).strip().lower()
            if answer and "yes".startswith(answer):
                return True
            if answer and "no".startswith(answer):
                return False
            self.write("% Please answer 'yes' or 'no'.")
        raise AbortCommand

    def confirm(self, prompt: str) -> SimProcess[bool]:
        """`[confirm]`: Return (or y) confirms, anything else declines."""
        answer = (yield from self.ask(prompt)).strip().lower()
        return answer in ("", "y", "yes")

    def render_error(self, error: ParseError, column_offset: int = 0) -> None:
        shifted = ParseError(error.kind, error.column + column_offset, error.token,
                             " " * column_offset + error.line)
        rendered = shifted.render(self.prompt)
        self.write_lines(rendered)
        self.refused(error.kind, rendered[-1])

    def refused(self, kind: str, message: str) -> None:
        """IOS refused the line being typed (`message` is its `%` line): the trace says so
        (`cli/error`), with the batch's `source`, so a scenario run can warn about it.
        Silent for observers: a boot reading startup-config, a `show` expectation."""
        if not self.observer:
            self.router.emit("cli", "error", kind=kind, line=self.current_line,
                             message=message, source=self.source)
