"""The scenario model: what a scenario file says, checked and typed, and nothing more.

The loader (`sim.scenario.loader`) is the only producer; the runner, the expectation checks
and the reports consume it. Everything is a frozen dataclass so that a loaded scenario can be
shared by the runs of a sweep without any of them changing it.

Conventions:

- Times on the simulation axis (`at`, `duration`, latencies, clock offsets and jumps) are
  float seconds from t=0.
- Calendar times are timezone-aware UTC `datetime`s. A router's wall time is UTC too (IOS's
  default clock zone, and what `sim.kernel.clock` keeps); a time written without a zone in
  the file is read as UTC.
- Every event and expectation carries `line`, the line of the file it came from, so that a
  runtime problem ("router r2 has no certificate server") can point at the file.
- Events are sorted by `at`; the file order breaks ties, so two commands at the same instant
  run in the order they were written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sim.net.bridge import DEFAULT_TIMEOUT as DEFAULT_BRIDGE_TIMEOUT
from sim.pki.cs_fsm import CsState
from sim.router.console import Answer as Answer  # a `CliEvent`'s answers, re-exported

# The release a router imitates unless the scenario names one, and every release pkilab
# imitates (`sim.router.release.PROFILES`; `schema.json` lists the same values).
from sim.router.release import DEFAULT_RELEASE as DEFAULT_RELEASE
from sim.router.release import SUPPORTED_RELEASES as SUPPORTED_RELEASES
from sim.scenario.durations import format_duration

if TYPE_CHECKING:
    from sim.scenario.golden import GoldenSpec
    from sim.scenario.soak import SoakSpec

DEFAULT_START = datetime(2005, 1, 6, 20, 55, 0, tzinfo=UTC)
"""The true time at t=0 unless a scenario says otherwise: the day of the seed's transcripts."""


DEFAULT_LATENCY = 0.001
"""One millisecond: a LAN hop, short next to every IOS timer the scenarios exercise."""


def _short(text: str, limit: int = 40) -> str:
    """Quote `text` for a one-line summary, eliding the middle of long strings."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return repr(text)


def _when(at: float | None) -> str:
    return "" if at is None else f" at {format_duration(at)}"


# -- topology ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockSpec:
    """How a router's clock starts (mirrors `sim.kernel.clock.RouterClock`'s arguments).

    `set` says whether the time is valid (calendar or NTP); the certificate server refuses to
    start on an unset clock ("% Time has not been set"). `value` is the wall time at t=0;
    None means true time plus `offset`. `authoritative` None means "same as `set`"; when it
    is false, console timestamps carry IOS's leading `*`. `calendar` False means the time is
    lost on reload and power cycles.
    """

    set: bool = True
    value: datetime | None = None
    offset: float = 0.0
    drift_ppm: float = 0.0
    authoritative: bool | None = None
    calendar: bool = True

    @property
    def is_authoritative(self) -> bool:
        """`authoritative` with its default applied."""
        return self.set if self.authoritative is None else self.authoritative


@dataclass(frozen=True)
class RouterSpec:
    """One router: its address, clock, startup config (one IOS command per line), release."""

    name: str
    address: str
    clock: ClockSpec = field(default_factory=ClockSpec)
    config: tuple[str, ...] = ()
    release: str = DEFAULT_RELEASE
    line: int = 0


@dataclass(frozen=True)
class LinkSpec:
    """A point-to-point link; `a` and `b` are router names in the order the file gives them."""

    a: str
    b: str
    latency: float = DEFAULT_LATENCY
    loss: float = 0.0
    line: int = 0

    @property
    def endpoints(self) -> frozenset[str]:
        """The link's identity: links are undirected, so `[r1, r2]` is `[r2, r1]`."""
        return frozenset((self.a, self.b))


@dataclass(frozen=True)
class BridgeSpec:
    """A pseudo-node at simulated `address` whose HTTP on `port` a real server answers.

    `url` is the real server, on this host's loopback (`sim.net.bridge` checks it and
    says how paths map); `timeout` is host seconds to connect, and again for the answer.
    The node is linked like a router, but has no console, clock or configuration.
    """

    name: str
    address: str
    url: str
    port: int = 80
    timeout: float = DEFAULT_BRIDGE_TIMEOUT
    line: int = 0


# -- events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PasteFrom:
    """An `input` item that pastes another router's artifact: `{paste_from: {router: R,
    artifact: NAME}}`. When the event plays, the newest artifact of router R whose name
    (without its `0001-` number) matches NAME (`*` and `?` wildcards allowed) is pasted,
    one answer per line: a PEM file as its lines, anything else as base64 in lines of 64
    (`sim.scenario.paste`). So a request `crypto pki enroll` printed (`TP.csr.pem`) goes
    to the CA's `request pkcs10 terminal`, and the certificate it granted
    (`CS-issued-2.cert.pem`) back to `crypto pki import TP certificate`."""

    router: str
    artifact: str
    line: int = field(default=0, compare=False)
    """The file line of the item (for the trace); not part of what it means."""

    def describe(self) -> str:
        return f"paste {self.router}'s artifact {self.artifact}"


InputItem = Answer | PasteFrom
"""One item of a `cli` event's `input`."""


@dataclass(frozen=True, init=False)
class CliEvent:
    """Commands typed at a router's console, with answers for the prompts they raise.

    `lines` are typed in order; an empty line is a bare Return. `input` answers interactive
    prompts (passwords, "[yes/no]:", lines of a paste) in order, each an `Answer`: its
    text ("" is a bare Return), how long after its prompt it is typed (`after`, None for
    the console's usual `ANSWER_DELAY`), or Ctrl-C instead of a line. A plain string given
    to the constructor is `Answer(text)`, as the file's short form is.
    """

    at: float
    router: str
    lines: tuple[str, ...]
    input: tuple[InputItem, ...]
    line: int
    answers: tuple[tuple[str, Answer], ...]
    """`answers:`: (text in the prompt, answer) pairs in file order. A prompt whose text
    holds a key (case-sensitive; the longest key wins) takes that answer, every time it
    is asked, before any positional `input` answer."""
    expect_warnings: bool
    """`expect_warnings: true`: the event makes its mistakes on purpose (a wrong command,
    a prompt left to Return); they are not operator warnings, and it is one if there are
    none."""

    def __init__(self, at: float, router: str, lines: tuple[str, ...],
                 input: Iterable[InputItem | str] = (), line: int = 0,
                 answers: Iterable[tuple[str, Answer | str]] = (),
                 expect_warnings: bool = False) -> None:
        # A hand-written __init__ so that the answers are always `Answer`s while code that
        # builds events (a lab, tests) may still pass strings; `replace()` comes here too.
        object.__setattr__(self, "at", at)
        object.__setattr__(self, "router", router)
        object.__setattr__(self, "lines", tuple(lines))
        object.__setattr__(self, "input", tuple(
            item if isinstance(item, PasteFrom) else Answer.of(item) for item in input))
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "answers", tuple(
            (key, Answer.of(answer)) for key, answer in answers))
        object.__setattr__(self, "expect_warnings", expect_warnings)

    def describe(self) -> str:
        more = f" (+{len(self.lines) - 1} more)" if len(self.lines) > 1 else ""
        given = len(self.input) + len(self.answers)
        answers = f", {given} prompt answer(s)" if given else ""
        if any(isinstance(answer, Answer) and answer.ctrl_c for answer in self.input):
            answers += " with Ctrl-C"
        first = self.lines[0] if self.lines else ""
        return f"{self.router}: type {_short(first)}{more}{answers}{_when(self.at)}"


@dataclass(frozen=True)
class LinkEvent:
    """A link goes down (`up` False) or comes back up."""

    at: float
    a: str
    b: str
    up: bool
    line: int = 0

    def describe(self) -> str:
        return f"link {self.a}-{self.b} {'up' if self.up else 'down'}{_when(self.at)}"


@dataclass(frozen=True)
class LinkChangeEvent:
    """A live link's latency and/or loss changes (None keeps the current value)."""

    at: float
    a: str
    b: str
    latency: float | None
    loss: float | None
    line: int = 0

    def describe(self) -> str:
        changes = []
        if self.latency is not None:
            changes.append(f"latency {format_duration(self.latency)}")
        if self.loss is not None:
            changes.append(f"loss {self.loss:g}")
        return f"link {self.a}-{self.b} {', '.join(changes)}{_when(self.at)}"


@dataclass(frozen=True)
class ClockSetEvent:
    """Set a router's clock, as `clock set` or an NTP sync would; the time becomes valid.

    `value` is the router's new wall time; None means the true time at that instant.
    """

    at: float
    router: str
    value: datetime | None
    line: int = 0

    def describe(self) -> str:
        target = "the true time" if self.value is None else f"{self.value:%Y-%m-%d %H:%M:%S}"
        return f"{self.router}: clock set to {target}{_when(self.at)}"


@dataclass(frozen=True)
class ClockUnsetEvent:
    """The router's time becomes invalid (calendar lost); the clock keeps running."""

    at: float
    router: str
    line: int = 0

    def describe(self) -> str:
        return f"{self.router}: clock becomes unset{_when(self.at)}"


@dataclass(frozen=True)
class ClockJumpEvent:
    """The router's clock steps by `seconds` (negative = backwards) without changing validity."""

    at: float
    router: str
    seconds: float
    line: int = 0

    def describe(self) -> str:
        step = format_duration(self.seconds)
        return f"{self.router}: clock jumps {'' if self.seconds < 0 else '+'}{step}{_when(self.at)}"


@dataclass(frozen=True)
class HttpServerEvent:
    """`ip http server` / `no ip http server` from outside the console transcript."""

    at: float
    router: str
    on: bool
    line: int = 0

    def describe(self) -> str:
        return f"{self.router}: HTTP server {'on' if self.on else 'off'}{_when(self.at)}"


@dataclass(frozen=True)
class ReloadEvent:
    """A reload: the running config is lost, the startup config and nvram survive."""

    at: float
    router: str
    line: int = 0

    def describe(self) -> str:
        return f"{self.router}: reload{_when(self.at)}"


@dataclass(frozen=True)
class PowerEvent:
    """Power off (the router stops answering) or on (it boots from startup config)."""

    at: float
    router: str
    on: bool
    line: int = 0

    def describe(self) -> str:
        return f"{self.router}: power {'on' if self.on else 'off'}{_when(self.at)}"


Event = (
    CliEvent
    | LinkEvent
    | LinkChangeEvent
    | ClockSetEvent
    | ClockUnsetEvent
    | ClockJumpEvent
    | HttpServerEvent
    | ReloadEvent
    | PowerEvent
)


# -- expectations ------------------------------------------------------------------------
# `at` is the time to evaluate the check; None means at the end of the run.


@dataclass(frozen=True)
class ServerStateExpect:
    """The certificate server's FSM state; `server` None means the router's only server."""

    router: str
    server: str | None
    state: CsState
    at: float | None = None
    line: int = 0

    def describe(self) -> str:
        who = "certificate server" if self.server is None else f"server {self.server}"
        return f"{self.router}: {who} is {self.state.value}{_when(self.at)}"


@dataclass(frozen=True)
class TranscriptExpect:
    """The console transcript holds `lines` as an ordered subsequence of its lines.

    With `negate`, none of `lines` appears anywhere. Matching is by substring per line.
    """

    router: str
    lines: tuple[str, ...]
    negate: bool = False
    at: float | None = None
    line: int = 0

    def describe(self) -> str:
        verb = "lacks" if self.negate else "contains"
        more = f" (+{len(self.lines) - 1} more)" if len(self.lines) > 1 else ""
        return f"{self.router}: transcript {verb} {_short(self.lines[0])}{more}{_when(self.at)}"


@dataclass(frozen=True)
class ShowExpect:
    """Run a show command at `at`: every `contains` text appears in its output and no
    `not_contains` text does. At least one of the two is non-empty."""

    router: str
    command: str
    contains: tuple[str, ...] = ()
    not_contains: tuple[str, ...] = ()
    at: float | None = None
    line: int = 0

    def describe(self) -> str:
        checks = [f"contains {_short(text, 30)}" for text in self.contains[:1]]
        checks += [f"lacks {_short(text, 30)}" for text in self.not_contains[:1]]
        extra = len(self.contains) + len(self.not_contains) - len(checks)
        more = f" (+{extra} more)" if extra else ""
        return f"{self.router}: {self.command!r} {' and '.join(checks)}{more}{_when(self.at)}"


@dataclass(frozen=True)
class NvramFileExpect:
    """A file is (or, with `exists` False, is not) in the router's nvram."""

    router: str
    file: str
    exists: bool = True
    at: float | None = None
    line: int = 0

    def describe(self) -> str:
        state = "exists" if self.exists else "does not exist"
        return f"{self.router}: nvram:{self.file} {state}{_when(self.at)}"


@dataclass(frozen=True)
class CertificateVerifiesExpect:
    """The CA certificate of the certificate server or trustpoint `name` exists and verifies."""

    router: str
    name: str
    at: float | None = None
    line: int = 0

    def describe(self) -> str:
        return f"{self.router}: CA certificate of {self.name} verifies{_when(self.at)}"


INVARIANTS: dict[str, str] = {
    "certified": "every enrolled router holds a certificate that chains to the root",
    "unique_serials": "no CA issued a serial twice",
    "no_lost_grants": "no granted request was lost",
    "sub_ca_manual": "no subordinate CA request was granted automatically",
    "within_ca_validity": "no CA issued a certificate beyond its own validity",
    "valid_chains": "every router holds a chain valid at its own clock, every day",
    "no_revoked_accepted": "no revoked certificate is accepted by a peer that checks CRLs",
}
"""The end-of-run invariants (`invariants: true`), by key, as their checks describe them;
`sim.scenario.invariants` evaluates them."""


@dataclass(frozen=True)
class InvariantExpect:
    """One end-of-run invariant over the whole world (`router` is "*": every router).

    Evaluated once the run is over, never `at` a moment: invariants are about where the
    system settles, and faults in the middle of a soak are allowed to break them for a
    while.
    """

    invariant: str
    line: int = 0
    router: str = "*"
    at: None = None

    def describe(self) -> str:
        return f"invariant: {INVARIANTS[self.invariant]}"


Expectation = (
    ServerStateExpect
    | TranscriptExpect
    | ShowExpect
    | NvramFileExpect
    | CertificateVerifiesExpect
    | InvariantExpect
)


# -- the scenario ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A scenario file, or one run of a matrix file. `source` is the file it was loaded
    from (None for text)."""

    name: str
    description: str
    seed: int
    start: datetime
    duration: float
    routers: tuple[RouterSpec, ...]
    links: tuple[LinkSpec, ...] = ()
    events: tuple[Event, ...] = ()
    expectations: tuple[Expectation, ...] = ()
    source: Path | None = None
    variant: str = ""
    """The matrix run this is, e.g. `fault=link-down,grant=auto`; "" for a plain file."""
    axes: tuple[tuple[str, str], ...] = ()
    """The matrix run's (axis, value) pairs, as written in the file."""
    soak: SoakSpec | None = None
    """The `soak:` the faults among `events` were drawn from (`sim.scenario.soak`)."""
    invariants: bool = False
    """Whether the end-of-run invariants are among `expectations`."""
    golden: GoldenSpec | None = None
    """The transcripts and show output compared byte for byte (`sim.scenario.golden`)."""
    bridges: tuple[BridgeSpec, ...] = ()
    """Simulated addresses answered by real servers on loopback (`bridge:`)."""
    strict: bool = False
    """`strict: true`: an operator warning (`sim.scenario.warnings`) fails the run."""

    @property
    def full_name(self) -> str:
        """`name[variant]` for a matrix run, else `name`: unique among a file's runs."""
        return f"{self.name}[{self.variant}]" if self.variant else self.name

    def router(self, name: str) -> RouterSpec:
        """The router called `name`; KeyError if there is none."""
        for spec in self.routers:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def link(self, a: str, b: str) -> LinkSpec | None:
        """The link between `a` and `b` in either direction, if there is one."""
        wanted = frozenset((a, b))
        return next((link for link in self.links if link.endpoints == wanted), None)
