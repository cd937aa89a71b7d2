"""The IOS commands pkilab understands, mode by mode, and how a console runs them.

Each mode's grammar is declared once (`grammar_for`) with the parser's pattern DSL and
shared by every router. A handler takes the console `Session` and the parser's `Match`;
handlers that prompt or take time are simpy generators. `run_lines` is the operator
typing at a console, `load_config_text` the boot reading startup-config through the same
handlers, `observe` a `show` command run without touching the operator's console.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from sim.kernel.process import SimProcess
from sim.pki import x509util
from sim.pki.cs_server import CertificateServer
from sim.router.cli_parser import Empty, Grammar, Match, ParseError
from sim.router.command_table import CommandTable
from sim.router.console import (
    COMMAND_GAP,
    SUBMODES,
    AbortCommand,
    Answer,
    Mode,
    PromptAnswer,
    Session,
)
from sim.router.enroll_credential import CREDENTIAL_TRUSTPOINT_COMMANDS
from sim.router.handlers_config import (
    CONFIG_COMMANDS,
    CS_COMMANDS,
    TRUSTPOINT_COMMANDS,
    leave_configuration,
)
from sim.router.handlers_crl import CS_CRL_COMMANDS, EXEC_CRL_COMMANDS
from sim.router.handlers_cs_life import CS_LIFE_COMMANDS
from sim.router.handlers_cs_storage import (
    CS_STORAGE_COMMANDS,
    STORAGE_CONFIG_COMMANDS,
    STORAGE_EXEC_COMMANDS,
)
from sim.router.handlers_exec import EXEC_COMMANDS, USER_EXEC_COMMANDS
from sim.router.handlers_ike import (
    CERT_MAP_COMMANDS,
    CRYPTO_MAP_COMMANDS,
    IKE_CONFIG_COMMANDS,
    IKE_EXEC_COMMANDS,
    IKE_USER_EXEC_COMMANDS,
    IKEV2_PROFILE_COMMANDS,
    INTERFACE_COMMANDS,
    IPSEC_PROFILE_COMMANDS,
    ISAKMP_POLICY_COMMANDS,
)
from sim.router.handlers_keys import KEY_CONFIG_COMMANDS
from sim.router.handlers_pki import not_run_at_boot
from sim.router.handlers_ra import CS_RA_COMMANDS
from sim.router.handlers_rollover import CS_ROLLOVER_COMMANDS, EXEC_ROLLOVER_COMMANDS
from sim.router.handlers_system import (
    SYSTEM_CONFIG_COMMANDS,
    SYSTEM_EXEC_COMMANDS,
    SYSTEM_SHOW_COMMANDS,
)
from sim.router.handlers_time import TIME_CONFIG_COMMANDS, TIME_EXEC_COMMANDS, TIME_SHOW_COMMANDS
from sim.router.handlers_trustpoint import (
    TRUSTPOINT_CONFIG_COMMANDS,
    TRUSTPOINT_OPTION_COMMANDS,
)
from sim.router.output_filter import BadRegex, parse_filter, show_before_pipe

if TYPE_CHECKING:
    from sim.router.router import Router


def _chain_certificate(s: Session, m: Match) -> None:
    s.cert_serial = m.integer("serial")
    s.cert_is_ca = "ca" in m.keywords
    s.cert_hex = []
    s.mode = Mode.CERT_DATA


def _chain_exit(s: Session, m: Match) -> None:
    s.mode = Mode.CONFIG
    s.context = None


_CHAIN_COMMANDS: CommandTable = [
    ("certificate [ca] <serial:HEX>", _chain_certificate, {}),
    ("exit", _chain_exit, {}),
]


def certificate_data(s: Session, line: str) -> None:
    """Hex lines of `crypto pki certificate chain` up to `quit`, as saved configs hold."""
    if line.strip().lower() != "quit":
        s.cert_hex.append("".join(line.split()))
        return
    s.mode = Mode.CERT_CHAIN
    tp = s.router.running.trustpoints.get(s.context or "")
    if tp is None:
        return
    try:
        cert = x509util.load_cert(bytes.fromhex("".join(s.cert_hex)))
    except ValueError:
        s.write("% Error: the certificate data is not a valid certificate")
        return
    if s.cert_is_ca:
        tp.ca_cert = cert
    else:
        tp.id_cert = cert


def _do(s: Session, m: Match) -> SimProcess[None]:
    """`do <exec command>` from a configuration mode."""
    if not_run_at_boot(s):
        return
    rest = str(m.args["line"])
    # The LINE argument is the verbatim tail of the typed line: find where it starts so
    # a caret for an error in the EXEC command lands under the right character.
    offset = s.current_line.rfind(rest)
    yield from run_exec_line(s, rest, max(offset, 0))


_DO: CommandTable = [("do <line:LINE>", _do, {})]

_TABLES: dict[Mode, CommandTable] = {
    Mode.USER_EXEC: USER_EXEC_COMMANDS + TIME_SHOW_COMMANDS + SYSTEM_SHOW_COMMANDS
    + IKE_USER_EXEC_COMMANDS,
    Mode.EXEC: EXEC_COMMANDS + STORAGE_EXEC_COMMANDS + TIME_EXEC_COMMANDS + SYSTEM_EXEC_COMMANDS
    + EXEC_CRL_COMMANDS + EXEC_ROLLOVER_COMMANDS
    + IKE_EXEC_COMMANDS,
    Mode.CONFIG: _DO + CONFIG_COMMANDS + KEY_CONFIG_COMMANDS + TRUSTPOINT_CONFIG_COMMANDS
    + STORAGE_CONFIG_COMMANDS + TIME_CONFIG_COMMANDS + SYSTEM_CONFIG_COMMANDS
    + IKE_CONFIG_COMMANDS,
    Mode.TRUSTPOINT: _DO + TRUSTPOINT_COMMANDS + TRUSTPOINT_OPTION_COMMANDS
    + CREDENTIAL_TRUSTPOINT_COMMANDS,
    Mode.CS_SERVER: _DO + CS_COMMANDS + CS_STORAGE_COMMANDS + CS_CRL_COMMANDS + CS_RA_COMMANDS
    + CS_LIFE_COMMANDS + CS_ROLLOVER_COMMANDS,
    Mode.CERT_CHAIN: _CHAIN_COMMANDS,
    Mode.ISAKMP_POLICY: _DO + ISAKMP_POLICY_COMMANDS,
    Mode.CRYPTO_MAP: _DO + CRYPTO_MAP_COMMANDS,
    Mode.IKEV2_PROFILE: _DO + IKEV2_PROFILE_COMMANDS,
    Mode.CERT_MAP: _DO + CERT_MAP_COMMANDS,
    Mode.INTERFACE: _DO + INTERFACE_COMMANDS,
    Mode.IPSEC_PROFILE: _DO + IPSEC_PROFILE_COMMANDS,
}


def command_patterns(mode: Mode) -> list[tuple[str, bool]]:
    """Every command pattern of a mode, with whether it also has a `no` form: what a
    listing of the mode's commands, or a test that types each of them, walks."""
    return [(pattern, options.get("no_form", False)) for pattern, _h, options in _TABLES[mode]]


@cache
def grammar_for(mode: Mode) -> Grammar:
    """One immutable grammar per mode, built on first use and shared by all routers."""
    grammar = Grammar()
    for index, (pattern, _handler, options) in enumerate(_TABLES[mode]):
        grammar.add(pattern, index, **options)
    return grammar


def dispatch(s: Session, line: str) -> SimProcess[None]:
    mode = s.mode
    grammar = grammar_for(mode)
    piped = show_before_pipe(grammar, line)
    if piped is not None:
        yield from _run_filtered(s, _TABLES[mode], line, *piped)
        return
    result = grammar.parse(line)
    if isinstance(result, Empty):
        return
    if isinstance(result, ParseError) and mode in SUBMODES:
        # IOS tries a line it does not know in a submode against global configuration,
        # leaving the submode when it matches there. Also when the submode read part of
        # it: `no ip http server` after a trustpoint is `ip-address` there (`ip` is its
        # prefix) until `server`, and must still reach global configuration.
        parent = grammar_for(Mode.CONFIG).parse(line)
        if isinstance(parent, Match):
            s.mode, s.context = Mode.CONFIG, None
            mode, result = Mode.CONFIG, parent
    if isinstance(result, ParseError):
        if (mode in (Mode.USER_EXEC, Mode.EXEC) and result.first_token
                and result.kind == "invalid" and len(line.split()) == 1):
            yield from unknown_exec_word(s, line.strip())
            return
        s.render_error(result)
        return
    outcome = _TABLES[mode][cast(int, result.key)][1](s, result)
    if outcome is not None:
        yield from outcome


def run_exec_line(s: Session, line: str, column_offset: int) -> SimProcess[None]:
    """`do <exec command>` from a configuration mode."""
    piped = show_before_pipe(grammar_for(Mode.EXEC), line)
    if piped is not None:
        yield from _run_filtered(s, _TABLES[Mode.EXEC], line, *piped, column_offset)
        return
    result = grammar_for(Mode.EXEC).parse(line)
    if isinstance(result, Empty):
        return
    if isinstance(result, ParseError):
        s.render_error(result, column_offset)
        return
    outcome = _TABLES[Mode.EXEC][cast(int, result.key)][1](s, result)
    if outcome is not None:
        yield from outcome


def _run_filtered(s: Session, table: CommandTable, line: str, match: Match, bar: int,
                  column_offset: int = 0) -> SimProcess[None]:
    """A `show` command with an output modifier after its `|`: the filter is read first
    (a bad one runs nothing), then the command runs with its writes going through it."""
    chosen = parse_filter(line, bar)
    if isinstance(chosen, ParseError):
        s.render_error(chosen, column_offset)
        return
    if isinstance(chosen, BadRegex):
        s.write(chosen.message)
        s.refused("regex", chosen.message)
        return
    s.output_filter = chosen
    try:
        outcome = table[cast(int, match.key)][1](s, match)
        if outcome is not None:
            yield from outcome
    finally:
        s.output_filter = None


DNS_TIMEOUT_SECONDS = 5.0
"""How long IOS waits for its broadcast name lookup of an unknown word."""
UNKNOWN_WORD = "% Unknown command or computer name, or unable to find computer address"


def unknown_exec_word(s: Session, word: str) -> SimProcess[None]:
    """An unknown single word in EXEC is taken as a host to telnet to, as IOS does."""
    router = s.router
    address = router.running.hosts.lookup(word)
    if address is not None:
        s.write(f"Trying {word} ({address})... ")
        s.router.console_inline("% Connection refused by remote host")
        s.refused("unknown", "% Connection refused by remote host")
        return
    if router.running.domain_lookup:
        s.write(f'Translating "{word}"...domain server (255.255.255.255)')
        yield router.env.timeout(DNS_TIMEOUT_SECONDS)
    else:
        s.write("Translating \"" + word + "\"")
    s.write(UNKNOWN_WORD)
    s.refused("unknown", UNKNOWN_WORD)




# -- running lines -------------------------------------------------------------------------
def run_lines(s: Session, lines: Iterable[str], answers: Iterable[Answer] = (),
              batch: int | None = None, *,
              by_prompt: Iterable[tuple[str, Answer]] = (),
              source: str | None = None) -> SimProcess[None]:
    """An operator types `lines`, `COMMAND_GAP` apart; `answers` wait for the prompts.

    `by_prompt` answers a prompt whose text holds its key before any positional answer
    (`Session._keyed_answer`). `source` says where the lines come from (`file.yaml:42`):
    the trace events of refused lines and of answers missing or left over carry it.
    `batch` numbers the lines when a live console records them (`console/typed`): the
    questions they raise may then wait for the keyboard, and the answers name the batch.
    """
    s.answers.extend(answers)
    s.by_prompt = [PromptAnswer(key, answer) for key, answer in by_prompt]
    s.batch, s.source = batch, source
    try:
        first = True
        for line in lines:
            if not first:
                yield s.router.env.timeout(COMMAND_GAP)
            first = False
            yield from run_line(s, line)
    finally:
        s.batch = None
    unused_keys = [keyed.key for keyed in s.by_prompt if not keyed.used]
    if s.answers or unused_keys:
        extra: dict[str, Any] = {"prompts": unused_keys} if unused_keys else {}
        s.router.emit("console", "input.unused",
                      answers=["^C" if a.ctrl_c else a.text for a in s.answers],
                      source=s.source, **extra)
        s.answers.clear()
    s.by_prompt, s.source = [], None


CTRL_Z, CTRL_C = "^Z", "^C"
"""Ctrl-Z and Ctrl-C at the prompt, as typed lines: IOS echoes them as `^Z` and `^C`
(and a transcript shows them so), so a scenario's `cli` writes them the same way. No IOS
command starts with `^`. In a configuration mode both go back to privileged EXEC."""


def run_line(s: Session, line: str) -> SimProcess[None]:
    s.current_line = line
    s.router.emit("cli", "command", mode=s.mode._name_, line=line)  # `.name`, read directly
    s.write(s.prompt + line)
    if line.strip() in (CTRL_Z, CTRL_C):
        if s.mode not in (Mode.USER_EXEC, Mode.EXEC):
            leave_configuration(s)
        return
    if s.mode is Mode.CERT_DATA:
        certificate_data(s, line)
        return
    try:
        yield from dispatch(s, line)
    except AbortCommand:
        s.router.emit("cli", "aborted", line=line)


def run_to_completion(generator: SimProcess[Any]) -> Any:
    """Drive a handler that is known not to wait (boot-time config, observers)."""
    try:
        while True:
            next(generator)
    except StopIteration as stop:
        return stop.value


def load_config_text(router: Router, lines: list[str]) -> list[CertificateServer]:
    """Boot: apply startup-config silently; return the servers to enable afterwards.

    A `crypto pki server` block without `shutdown` comes up enabled at boot, which is
    how IOS brings a saved, running CA back after a reload.
    """
    session = Session(router, observer=True)
    session.mode = Mode.CONFIG
    session.booting = True
    for line in lines:
        if line.strip() in ("end", ""):
            continue
        if session.mode is Mode.CERT_DATA:
            certificate_data(session, line)
            continue
        session.current_line = line
        try:
            run_to_completion(dispatch(session, line))
        except AbortCommand:
            continue  # a saved line that would ask a question nobody is there to answer
    for text in session.output:
        if text.startswith("%"):
            router.console_line(text)
    return [cs for cs in router.running.servers.values() if not cs.config.shutdown]


def observe(router: Router, command: str) -> list[str]:
    """Run an EXEC command as an invisible observer and return its output lines."""
    session = Session(router, observer=True)
    session.mode = Mode.EXEC
    session.current_line = command
    try:
        run_to_completion(dispatch(session, command))
    except RuntimeError:
        session.output.append("% command needs the console and cannot be observed")
    return session.output
