"""Every command of every CLI mode, typed with missing, extra, out-of-range, very long and
odd-character arguments, and answered with odd replies, on a router running an enabled
certificate server and on an enrolled client: no Python exception escapes, the router stays
up, and everything the console prints is IOS's kind of output.

The command list comes from the grammar itself (`command_patterns`), so a command added
later is fuzzed without touching this file. Values are fixed tables, not random, so a
failure names the exact line to retype.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from routerkit import Lab

from sim.kernel.trace import TraceEvent
from sim.router.cli_grammar import Argument, Element, Keyword, compile_pattern
from sim.router.commands import command_patterns
from sim.router.console import Mode
from sim.router.nvram import NVRAM_SIZE
from sim.router.router import Router

LONG = "L" * 300
ODD_WORDS = [LONG, "../../x", "/abs/x", "a\\b", ".dot", "bell\x07", "caf\u00e9", "%s%n{0}",
             "ftp://10.0.0.1", "http://[::1", "http://h:99999", "http://", "'\"`"]
ODD_BY_TYPE = {
    "WORD": ODD_WORDS,
    "LABEL": ODD_WORDS,
    "LINE": [LONG, "CN=", "=x", "CN=a,,O=b", "CN=caf\u00e9", "\x00", "CN=a+",
             "CN=" + "x" * 300, "OU=a\\,b", "C=USA"],
    "HEX": ["0x", "ZZ", "F" * 400, "-1"],
    "A.B.C.D": ["256.1.1.1", "1.2.3", "1.2.3.4.5", "a.b.c.d", "01.02.03.04"],
    "HH:MM:SS": ["24:00:00", "1:2", "99:99:99", "-1:00:00"],
    "MONTH": ["Ju", "Foo", "13", "M"],
}
ODD_NUMBERS = ["9" * 40, "0x10", "1e3", "\u0661", "-1"]
SAMPLES = {"url": "http://10.0.0.1", "serial": "0x2", "dn": "CN=fuzz, O=pkilab",
           "line": "show clock", "fs": "nvram:", "version": "12.3", "host": "peer"}
SAMPLE_BY_TYPE = {"WORD": "fuzz", "LABEL": "ca", "LINE": "CN=fuzz", "HEX": "1F",
                  "A.B.C.D": "10.9.9.9", "HH:MM:SS": "10:00:00", "MONTH": "Mar"}
ODD_ANSWERS = ["n0pe", "9" * 5000, "caf\u00e9", "\x00", LONG, "yes no", "-1", "\u00b2"]
"""Never "", "y" or "yes": nothing is confirmed by them."""
PYTHONISMS = ("Traceback", " object at 0x", "Error(", "<class ", "None", "{'", "[]",
              "Exception", "\\x")
IOS_LOOKALIKES = ("Enter Interface name or IP Address[]:",)
"""IOS's own prompts that hold one of those strings (cisco-cs.md section 16): the `[]`
shows the empty default."""
TRUSTPOINT = "ca"
"""The trustpoint (and certificate chain) the submodes edit: every router has one."""


def _valid(element: Argument, server: str | None) -> str:
    """A value the argument takes: `server` names the server of `crypto pki server`
    commands (None in others), names elsewhere are the trustpoint's."""
    label = element.type.label
    if server is not None and element.name == "name":
        return server
    if label in SAMPLE_BY_TYPE:
        return SAMPLES.get(element.name, SAMPLE_BY_TYPE[label])
    return str(_range(label)[0])  # the low end of a range


def _odd(element: Argument) -> list[str]:
    label = element.type.label
    if label in ODD_BY_TYPE:
        return ODD_BY_TYPE[label]
    low, high = _range(label)
    return [str(low - 1), str(high + 1), *ODD_NUMBERS]


def _range(label: str) -> tuple[int, int]:
    """`1-31` or a signed `-23-23`."""
    found = re.fullmatch(r"(-?\d+)-(-?\d+)", label)
    if found is None:
        raise ValueError(f"not a range: {label}")
    return int(found.group(1)), int(found.group(2))


def _words(pattern: str, seq: tuple[Element, ...], server: str) -> list[str]:
    """The command typed with valid arguments; `server` names the certificate server."""
    server_name = server if "pki server" in pattern else None
    return [e.word if isinstance(e, Keyword) else _valid(e, server_name) for e in seq]


def lines_for(mode: Mode, server: str) -> list[str]:
    """Each command of the mode: as declared, with each argument odd, cut short, with junk
    after it, and in its `no` form."""
    lines: dict[str, None] = {}
    for pattern, no_form in command_patterns(mode):
        for seq in compile_pattern(pattern).sequences:
            words = _words(pattern, seq, server)
            full = " ".join(words)
            lines[full] = None
            for index, element in enumerate(seq):
                if isinstance(element, Argument):
                    for odd in _odd(element):
                        lines[" ".join([*words[:index], odd, *words[index + 1:]])] = None
            for cut in range(1, len(words)):
                lines[" ".join(words[:cut])] = None
            for junk in ("extra", LONG, "\x01"):
                lines[f"{full} {junk}"] = None
            if no_form:
                lines[f"no {full}"] = None
                lines[f"no {words[0]}"] = None
    return list(lines)


CERT_DATA_LINES = [
    ["certificate ca 01", "3082 01FF", "quit"],
    ["certificate 02", "not hex at all", "quit"],
    ["certificate ca 1F", LONG, "quit"],
    ["certificate 03", "F" * 400, "caf\u00e9", "quit"],
    ["certificate ca 04", "quit"],
]


class Console:
    """Types one line at a time into a router in a chosen mode and returns what it printed."""

    def __init__(self, lab: Lab, router: Router, server: str) -> None:
        self.lab = lab
        self.router = router
        self.server = server
        self.events: list[TraceEvent] = []
        lab.env.trace.subscribe(self._collect)

    def _collect(self, event: TraceEvent) -> None:
        if event.router != self.router.name:
            return
        if event.category == "log" or (event.category == "console"
                                       and event.name in ("line", "inline")):
            self.events.append(event)

    def _idle(self) -> bool:
        return self.router.console_idle

    def type(self, mode: Mode, lines: list[str], answers: list[str]) -> list[str]:
        session = self.router.session
        session.mode = mode
        session.context = {Mode.TRUSTPOINT: TRUSTPOINT, Mode.CERT_CHAIN: TRUSTPOINT,
                           Mode.CS_SERVER: self.server}.get(mode)
        start = len(self.events)
        self.router.type_lines(lines, answers)
        for _ in range(120):
            self.lab.run(5.0)
            if self._idle():
                break
        else:
            raise AssertionError(f"{lines!r} never finished")
        assert self.router.up, f"{lines!r} took the router down"
        return [e.data["text"] for e in self.events[start:]]

    def ensure_context(self) -> None:
        """The submodes' objects exist (a fuzzed line may not create them)."""
        if self.server not in self.router.running.servers:
            self.type(Mode.CONFIG, [f"crypto pki server {self.server}"], [])
        if TRUSTPOINT not in self.router.running.trustpoints:
            self.type(Mode.CONFIG, [f"crypto pki trustpoint {TRUSTPOINT}"], [])


DESTRUCTIVE = ("reload", "erase", "write erase", "no crypto pki server",
               "no crypto pki trustpoint")
"""Lines never answered "yes": they would reload the router or delete the CA under test."""


def _answers(index: int, line: str) -> list[str]:
    """Every other line goes through its dialogue with "yes" to every question (matching
    passwords, accepted certificates, requests sent); the others get an odd reply first."""
    if index % 2 and not line.startswith(DESTRUCTIVE):
        return ["yes"] * 9
    return [ODD_ANSWERS[index // 2 % len(ODD_ANSWERS)]] + ["no"] * 8


def _check(lines: list[str], printed: list[str], carets: bool = True) -> None:
    for text in printed:
        if any(text.endswith(line) for line in lines):
            continue  # the echo of what was typed
        shown = text
        for genuine in IOS_LOOKALIKES:
            shown = shown.replace(genuine, "")
        bad = [p for p in PYTHONISMS if p in shown]
        assert not bad, f"{lines!r} printed {text!r}"
    if carets and "% Invalid input detected at '^' marker." in printed:
        caret = printed[printed.index("% Invalid input detected at '^' marker.") - 1]
        assert caret.strip() == "^", f"{lines!r}: caret line {caret!r}"


def fuzz_lines(server: str) -> Iterator[tuple[Mode, list[str]]]:
    for mode in (Mode.USER_EXEC, Mode.EXEC, Mode.CONFIG, Mode.TRUSTPOINT, Mode.CS_SERVER,
                 Mode.CERT_CHAIN):
        for line in lines_for(mode, server):
            yield mode, [line]
        # Every mode's own commands typed in each other mode too.
        for other in (Mode.EXEC, Mode.CONFIG, Mode.TRUSTPOINT, Mode.CS_SERVER,
                      Mode.CERT_CHAIN):
            if other is not mode:
                for pattern, _no in command_patterns(other):
                    seq = compile_pattern(pattern).sequences[0]
                    yield mode, [" ".join(_words(pattern, seq, server))]
    for block in CERT_DATA_LINES:
        yield Mode.CERT_CHAIN, block


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab(seed=8)
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    lab.type(ca, "enable\nconfigure terminal\ncrypto pki server ca\nno shutdown\nend",
             ("cisco123", "cisco123"))
    r1 = lab.router("r1", "10.0.0.2", "ip host peer 10.0.0.1")
    lab.net.add_link("ca", "r1", latency=0.005)
    lab.type(r1, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                 "enrollment url http://10.0.0.1\nexit\ncrypto pki authenticate ca\n"
                 "crypto pki enroll ca\nend",
             ("yes", "challenge1", "challenge1", "no", "no", "yes"), settle=30)
    lab.type(ca, "crypto pki server ca grant all", settle=120)
    assert r1.running.trustpoints["ca"].id_cert is not None
    return lab


@pytest.mark.parametrize(("name", "server"), [("ca", "ca"), ("r1", "sub")])
def test_every_command_with_odd_arguments_gives_ios_output(lab: Lab, name: str,
                                                           server: str) -> None:
    """An odd argument typed at any command could crash a router, replace the CA key or write
    outside its files."""
    router = lab.routers[name]
    console = Console(lab, router, server)
    ca_key = lab.routers["ca"].running.keys.get("ca").key
    typed = 0
    for index, (mode, lines) in enumerate(fuzz_lines(server)):
        console.ensure_context()
        printed = console.type(mode, lines, _answers(index, lines[0]))
        assert any(text.endswith(lines[0]) for text in printed), (lines, printed[:2])
        _check(lines, printed)
        typed += len(lines)
    assert typed > 1500
    # Nothing typed replaced the CA's key or put a path into a file name.
    assert lab.routers["ca"].running.keys.get("ca").key is ca_key
    for file_name, _data in router.artifacts:
        assert "/" not in file_name and "\\" not in file_name and ".." not in file_name
    assert all("/" not in f and ".." not in f for f in router.nvram.files())


SCRATCH = "fz"
"""The trustpoint or server each setting is tried on, made afresh for every setting."""
TRUSTPOINT_ACTIONS = [
    f"crypto pki enroll {SCRATCH}", f"crypto pki crl request {SCRATCH}", "end",
    "show crypto pki trustpoints", "show crypto pki certificates", "show running-config",
    "show crypto key mypubkey rsa", "write memory", "configure terminal",
]
SERVER_ACTIONS = [
    "no shutdown", "end", "show crypto pki server", f"crypto pki server {SCRATCH} info crl",
    f"crypto pki server {SCRATCH} info requests", "show running-config", "configure terminal",
    f"crypto pki server {SCRATCH}", "shutdown", "exit",
]


def _setting_lines(mode: Mode) -> list[str]:
    """The mode's lines, naming the scratch trustpoint, without those that leave the mode."""
    return [" ".join(SCRATCH if word == TRUSTPOINT else word for word in line.split(" "))
            for line in lines_for(mode, SCRATCH)
            if not line.startswith(("exit", "end", "do ", "no exit", "no end"))]


@pytest.fixture(scope="module")
def settings_lab() -> Lab:
    lab = Lab(seed=9)
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    lab.type(ca, "enable\nconfigure terminal\ncrypto pki server ca\ngrant auto\n"
                 "no shutdown\nend", ("cisco123", "cisco123"))
    lab.router("r1", "10.0.0.2", "ip http server")
    lab.net.add_link("ca", "r1", latency=0.005)
    return lab


@pytest.mark.parametrize("mode", [Mode.TRUSTPOINT, Mode.CS_SERVER])
def test_every_setting_followed_by_what_uses_it(settings_lab: Lab, mode: Mode) -> None:
    """Each trustpoint or server setting, odd or not, then the commands that act on it:
    enrollment, CRL requests, `no shutdown`, shows, saving. Every question is answered
    "yes", so each dialogue runs to its end (odd answers are the first test's job)."""
    lab = settings_lab
    router = lab.routers["r1"]
    console = Console(lab, router, SCRATCH)
    yes = ["yes"] * 12
    for line in _setting_lines(mode):
        if mode is Mode.TRUSTPOINT:
            setup = [f"crypto pki trustpoint {SCRATCH}", "enrollment url http://10.0.0.1",
                     "exit", f"crypto pki authenticate {SCRATCH}",
                     f"crypto pki trustpoint {SCRATCH}", line, "exit", *TRUSTPOINT_ACTIONS]
        else:
            setup = [f"crypto key generate rsa label {SCRATCH} modulus 512",
                     f"crypto pki trustpoint {SCRATCH}", "enrollment url http://10.0.0.1",
                     "exit", f"crypto pki server {SCRATCH}", line, *SERVER_ACTIONS]
        printed = console.type(Mode.CONFIG, setup, yes)
        _check(setup, printed)
        console.type(Mode.CONFIG, [f"no crypto pki server {SCRATCH}",
                                   f"no crypto pki trustpoint {SCRATCH}"], yes)
        running = router.running
        assert SCRATCH not in running.servers and SCRATCH not in running.trustpoints, setup
    for file_name, _data in router.artifacts:
        assert "/" not in file_name and ".." not in file_name


def _within_nvram(entries: list[list[str]], tail: list[str]) -> list[list[str]]:
    """`entries` (a line under its parent) cut into startup-configs that each end with
    `tail` and fill at most half of nvram, leaving room for what the boot writes."""
    budget = NVRAM_SIZE // 2
    configs: list[list[str]] = [[]]
    size = 0
    for entry in entries:
        length = sum(len(line) + 1 for line in entry)
        if configs[-1] and size + length > budget:
            configs.append([])
            size = 0
        configs[-1] += entry
        size += length
    return [config + tail for config in configs]


def test_a_startup_config_of_every_odd_line_boots() -> None:
    """The same lines saved as a startup-config (under their parent commands): the router
    boots, refusing what it must, and brings up what it can. The lines are shared among
    as many routers as nvram's size needs."""
    parents = {Mode.CONFIG: [], Mode.TRUSTPOINT: [f"crypto pki trustpoint {TRUSTPOINT}"],
               Mode.CS_SERVER: ["crypto pki server sub"],
               Mode.CERT_CHAIN: [f"crypto pki certificate chain {TRUSTPOINT}"]}
    entries: list[list[str]] = []
    for mode, parent in parents.items():
        for line in lines_for(mode, "sub"):
            if line.split()[0] in ("end", "exit", "do", "no"):
                continue  # they would leave the parent (or the configuration) early
            entries.append([*parent, (" " if parent else "") + line])
    for block in CERT_DATA_LINES:
        entries.append([f"crypto pki certificate chain {TRUSTPOINT}", *(" " + b for b in block)])
    server = ["crypto pki server sub", " no shutdown"]  # enabled at boot, odd settings and all
    lab = Lab(seed=10)
    printed: list[str] = []
    for index, config in enumerate(_within_nvram(entries, server)):
        name = f"r{index + 1}"
        router = lab.router(name, f"10.0.0.{index + 2}", "\n".join(config))
        lab.run(120)
        assert router.up and lab.env.trace.select(router=name, category="power", name="booted")
        assert lab.env.trace.select(router=name, category="fsm", name="transition")
        printed += [e.data["text"] for e in lab.env.trace.select(router=name,
                                                                 category="console")
                    if e.name == "line"]
    _check([], printed, carets=False)  # a booting router prints only the `%` lines
    assert "% Invalid input detected at '^' marker." in printed
