"""Build a `ReportModel` from a run's output folder (summary.json + trace.jsonl)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.kernel.transcript import (
    CONSOLE_CATEGORIES,
    Books,
    add_console_event,
    read_trace_file,
    take_kept,
)
from sim.report.model import (
    CertNode,
    Exchange,
    ExpectationFact,
    LinkFact,
    ReportModel,
    RouterFact,
    ServerTimeline,
    StateChange,
    TranscriptLine,
    Transition,
    Wait,
    WarningFact,
)
from sim.scenario.output import REPORT_FACTS

Record = dict[str, Any]


REPORTED = (*CONSOLE_CATEGORIES, *REPORT_FACTS)
"""The trace categories a report reads: consoles, exchanges, server states and links.
The rest of a trace (packets, timers, ...) is most of its lines and is not parsed."""


def load_folder(folder: Path) -> tuple[dict[str, Any], list[Record]]:
    """The folder's summary and the trace records a report reads (`REPORTED`)."""
    summary, records = open_folder(folder)
    return summary, list(records)


def open_folder(folder: Path) -> tuple[dict[str, Any], Iterator[Record]]:
    """The folder's summary, and the trace records a report reads as they are read from
    the file: a large run's trace does not fit in memory as parsed records."""
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return summary, read_trace_file(folder / "trace.jsonl", REPORTED)


def read_folder(folder: Path) -> tuple[dict[str, Any], Iterator[Record], Books | None]:
    """`open_folder`, and the consoles if writing the folder has just read them from this
    very trace file (`take_kept`): then the records are those of the other categories a
    report reads, and the consoles are not parsed a second time; nor are those records,
    if they were kept from the same pass (the file is then not read again)."""
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    trace = folder / "trace.jsonl"
    kept = take_kept(trace)
    if kept is None:
        return summary, read_trace_file(trace, REPORTED), None
    if kept.categories >= frozenset(REPORT_FACTS):
        return summary, (record for record in kept.records
                         if record["category"] in REPORT_FACTS), kept.books
    return summary, read_trace_file(trace, REPORT_FACTS), kept.books


@dataclass
class _TraceFacts:
    """What a report keeps of the trace, gathered in one pass over it: the few link, SCEP,
    IKE and FSM records as they are, and every console already cut into lines."""

    links: list[Record] = field(default_factory=list)
    exchanges: list[Record] = field(default_factory=list)
    transitions: list[Record] = field(default_factory=list)
    consoles: dict[str, list[TranscriptLine]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def read(cls, records: Iterable[Record]) -> _TraceFacts:
        facts = cls()
        for record in records:
            category, name = record["category"], record["name"]
            if category in CONSOLE_CATEGORIES:
                if record["router"] is not None:
                    add_console_event(facts.consoles[record["router"]], category, name,
                                      record["data"], record["t"])
            elif category == "link":
                if name in ("link.down", "link.up"):
                    facts.links.append(record)
            elif category in ("scep", "ike"):
                if name == "exchange":
                    facts.exchanges.append(record)
            elif category == "fsm" and name == "transition":
                facts.transitions.append(record)
        return facts


def build_model(summary: dict[str, Any], records: Iterable[Record],
                consoles: Books | None = None) -> ReportModel:
    """The report's model from the folder's summary and trace records; `consoles`, if
    given, are the routers' console lines already read from the same trace (`read_folder`),
    and the records then need not include them."""
    facts = _TraceFacts.read(records)
    if consoles is not None:
        facts.consoles = consoles
    exchanges = _exchanges(facts.exchanges)
    return ReportModel(
        scenario=summary["scenario"],
        description=summary.get("description", ""),
        seed=summary["seed"],
        version=summary["version"],
        start=summary["start"],
        duration=float(summary["duration"]),
        passed=bool(summary["passed"]),
        routers=_routers(summary),
        links=_links(summary, facts.links),
        certificates=tuple(_cert(c) for c in summary.get("certificates", [])),
        exchanges=exchanges,
        waits=_waits(exchanges),
        timelines=_timelines(summary, facts.transitions),
        states=tuple(summary["fsm"]["states"]),
        signals=tuple(summary["fsm"]["signals"]),
        transitions=tuple(Transition(t["from"], t["signal"], t["action"], tuple(t["to"]))
                          for t in summary["fsm"]["transitions"]),
        expectations=tuple(ExpectationFact(e["check"], e["line"], e["passed"], e["observed"],
                                           e["at"], tuple(e.get("context", ())))
                           for e in summary["expectations"]),
        transcripts=_transcripts(summary, facts.consoles),
        artifacts=_artifacts(summary),
        warnings=tuple(WarningFact(int(w["line"]), str(w["router"]), str(w["kind"]),
                                   str(w["typed"]), str(w["message"]), float(w["t"]))
                       for w in summary.get("warnings", ())),
        strict=bool(summary.get("strict", False)),
    )


def _routers(summary: dict[str, Any]) -> tuple[RouterFact, ...]:
    routers = []
    for name, state in summary["routers"].items():
        servers = {cs: facts["state"] for cs, facts in state.get("servers", {}).items()}
        routers.append(RouterFact(name, state["address"], servers, bool(state["running"])))
    return tuple(routers)


def _links(summary: dict[str, Any], records: list[Record]) -> tuple[LinkFact, ...]:
    downs: dict[frozenset[str], list[float]] = defaultdict(list)
    ups: dict[frozenset[str], list[float]] = defaultdict(list)
    for record in records:
        if record["category"] == "link" and record["name"] in ("link.down", "link.up"):
            key = frozenset((record["data"]["a"], record["data"]["b"]))
            (downs if record["name"] == "link.down" else ups)[key].append(record["t"])
    links = []
    for link in summary.get("topology", {}).get("links", []):
        key = frozenset((link["a"], link["b"]))
        links.append(LinkFact(link["a"], link["b"], link["latency"], link["loss"],
                              tuple(downs[key]), tuple(ups[key])))
    return tuple(links)


def _cert(c: dict[str, Any]) -> CertNode:
    return CertNode(c["md5"], c["router"], c["name"], c["role"], c["subject"], c["issuer"],
                    c["serial"], c["not_before"], c["not_after"], c["key_bits"], c["md5"],
                    c["sha1"], c["parent"], c["revoked"], c["expired"])


def _exchanges(records: list[Record]) -> tuple[Exchange, ...]:
    """Every SCEP exchange in the order the clients sent them, and every IKE negotiation
    (`ike/exchange`: operation `IKE`, from initiator to responder, SUCCESS, FAILURE or
    timeout). The trace records an exchange when it ends, so overlapping ones (a slow
    answer, a timeout) are re-sorted: every table and picture reads down in time order."""
    found = []
    for record in records:
        if record["category"] in ("scep", "ike") and record["name"] == "exchange":
            d = record["data"]
            found.append(Exchange(record["router"], d.get("server"), d["trustpoint"],
                                  d["operation"], d.get("message"), d["result"],
                                  float(d["started"]), float(record["t"]), d.get("transaction")))
    return tuple(sorted(found, key=lambda e: (e.start, e.end)))


def _waits(exchanges: tuple[Exchange, ...]) -> tuple[Wait, ...]:
    """From the first PENDING of a transaction to the answer that ended it."""
    waits = []
    open_: dict[tuple[str, str], Exchange] = {}
    last: dict[tuple[str, str], Exchange] = {}
    for exchange in exchanges:
        if exchange.transaction is None:
            continue
        key = (exchange.client, exchange.transaction)
        last[key] = exchange
        if exchange.result == "PENDING" and key not in open_:
            open_[key] = exchange
        elif exchange.result in ("SUCCESS", "FAILURE") and key in open_:
            first = open_.pop(key)
            waits.append(Wait(exchange.client, first.server, exchange.transaction,
                              first.end, exchange.start, exchange.result == "SUCCESS"))
    for key, first in open_.items():
        waits.append(Wait(first.client, first.server, key[1], first.end, last[key].end, False))
    return tuple(sorted(waits, key=lambda w: (w.start, w.client)))


def _timelines(summary: dict[str, Any], records: list[Record]) -> tuple[ServerTimeline, ...]:
    changes: dict[tuple[str, str], list[StateChange]] = defaultdict(list)
    for record in records:
        if record["category"] == "fsm" and record["name"] == "transition":
            d = record["data"]
            changes[(record["router"], d["server"])].append(
                StateChange(record["t"], d["old"], d["new"], d["signal"], d.get("reason")))
    timelines = []
    for router, state in summary["routers"].items():
        for server, facts in state.get("servers", {}).items():
            own = tuple(changes.pop((router, server), ()))
            timelines.append(ServerTimeline(router, server, own, facts["state"]))
    # A server deleted during the run (`no crypto pki server`) keeps its timeline; chosen:
    # it ends in the state the server was deleted in.
    for (router, server), left in changes.items():
        timelines.append(ServerTimeline(router, server, tuple(left), left[-1].new))
    return tuple(timelines)


def _transcripts(summary: dict[str, Any], consoles: dict[str, list[TranscriptLine]]
                 ) -> dict[str, tuple[TranscriptLine, ...]]:
    """Each router's console, rendered by the same code that writes transcripts/*.txt
    (`sim.kernel.transcript.add_console_event`, the trace grouped by router in one pass:
    reading the whole trace for each router costs routers x events)."""
    return {name: tuple(consoles.get(name, ())) for name in summary["routers"]}


def _artifacts(summary: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    by_router: dict[str, list[str]] = defaultdict(list)
    for path in summary.get("artifacts", []):
        parts = path.split("/")
        if len(parts) >= 3:
            by_router[parts[1]].append(path)
    return {router: tuple(paths) for router, paths in sorted(by_router.items())}
