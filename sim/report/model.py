"""What a report shows, as plain data: built from a run's output folder alone.

A report is a function of `summary.json` and `trace.jsonl` (the contracts of the output
folder), so it can be regenerated later from a kept folder, and the same run always gives
the same report. Renderers (SVG diagrams, HTML, Markdown) take a `ReportModel` and never
look at the simulation itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A console line (text, kind "console" | "syslog" | "debug", time): the one the transcript
# files are written from, so a large run's consoles are not held twice while a report is
# built from them.
from sim.kernel.transcript import TranscriptLine as TranscriptLine


@dataclass(frozen=True)
class CertNode:
    """A certificate in the PKI hierarchy (a CA, or a router's enrolled certificate)."""

    key: str  # MD5 fingerprint (IOS grouping): unique per certificate
    router: str
    name: str  # certificate server or trustpoint name
    role: str  # "root" | "sub-ca" | "ra" | "router"
    subject: str
    issuer: str
    serial: int
    not_before: str  # ISO 8601
    not_after: str
    key_bits: int
    md5: str
    sha1: str
    parent: str | None  # key of the issuing certificate, None for a root
    revoked: bool
    expired: bool


@dataclass(frozen=True)
class LinkFact:
    a: str
    b: str
    latency: float
    loss: float
    down_at: tuple[float, ...] = ()  # simulated seconds when the link went down
    up_at: tuple[float, ...] = ()


@dataclass(frozen=True)
class RouterFact:
    name: str
    address: str
    servers: dict[str, str]  # CS name -> final FSM state
    running: bool


@dataclass(frozen=True)
class Exchange:
    """One SCEP exchange as the client saw it (`scep/exchange` trace events)."""

    client: str
    server: str | None  # router name, None when the URL did not resolve
    trustpoint: str
    operation: str  # GetCACert | GetCACaps | PKIOperation
    message: str | None  # PKCSReq | GetCertInitial | ... for PKIOperation
    result: str  # "PENDING" | "SUCCESS" | "FAILURE" | "CA certificate" | "capabilities"
    #            | "refused" | "timeout" | "no-route" | "unresolved" | "http 404" | ...
    start: float
    end: float
    transaction: str | None

    @property
    def failed(self) -> bool:
        """The exchange got no SCEP answer at all (network or HTTP failure)."""
        return self.result in FAILED_RESULTS or self.result.startswith("http ")


FAILED_RESULTS = frozenset({"refused", "timeout", "no-route", "unresolved", "bad reply",
                            "bad answer"})


@dataclass(frozen=True)
class Wait:
    """A client waiting for a manual grant: from its first PENDING to its last answer."""

    client: str
    server: str | None
    transaction: str
    start: float
    end: float
    granted: bool


@dataclass(frozen=True)
class StateChange:
    t: float
    old: str
    new: str
    signal: str
    reason: str | None


@dataclass(frozen=True)
class ServerTimeline:
    router: str
    server: str
    changes: tuple[StateChange, ...]
    final: str


@dataclass(frozen=True)
class Transition:
    source: str
    signal: str
    action: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class ExpectationFact:
    check: str
    line: int
    passed: bool
    observed: str
    at: float
    context: tuple[str, ...]


@dataclass(frozen=True)
class WarningFact:
    """An operator warning (`sim.scenario.operator_warnings`): the `cli` event's file
    `line`, what was typed and what IOS said; failures when the run was strict."""

    line: int
    router: str
    kind: str
    typed: str
    message: str
    t: float


@dataclass(frozen=True)
class ReportModel:
    scenario: str
    description: str
    seed: int
    version: str
    start: str  # ISO 8601 true time at t=0
    duration: float
    passed: bool
    routers: tuple[RouterFact, ...]
    links: tuple[LinkFact, ...]
    certificates: tuple[CertNode, ...]
    exchanges: tuple[Exchange, ...]
    waits: tuple[Wait, ...]
    timelines: tuple[ServerTimeline, ...]
    states: tuple[str, ...]
    signals: tuple[str, ...]
    transitions: tuple[Transition, ...]
    expectations: tuple[ExpectationFact, ...]
    transcripts: dict[str, tuple[TranscriptLine, ...]]
    artifacts: dict[str, tuple[str, ...]]  # router -> artifact paths relative to the folder
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[WarningFact, ...] = ()
    strict: bool = False
    """Whether the warnings failed the run (`--strict`, `strict: true`)."""
