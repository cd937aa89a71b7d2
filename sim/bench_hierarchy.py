"""The hierarchy a scale benchmark builds: a root CA, `fanout` subordinate CAs under it,
`fanout` under each of those, ... `levels` CA levels in all, and `routers` routers spread
over the CAs of the last level, every one enrolling over SCEP.

    pkilab bench --levels 3 --fanout 10 --routers 10000 --key-bits 2048

is root -> 10 sub-CAs -> 100 sub-sub-CAs -> 10,000 routers (10,111 routers in all), every
key RSA-2048. It is an ordinary scenario: `pkilab bench --scenario FILE` writes it as a
scenario file that `pkilab run` plays with its output folder and report.

The timeline follows Cisco's guide: a CA generates its key (`crypto key generate rsa ...
modulus N`, which a 12.3 router takes minutes of simulated time to do for 2048 bits),
then enables its server; a subordinate (`mode sub-cs`) requests its certificate from its
parent, whose operator grants it by hand ("Enrollment requests that come from a
subordinate certificate server must always be manually granted"), since every CA runs
`grant auto` for routers. Level by level, each level starting once the one above is
enabled; then the routers enroll with their CA, a few seconds apart at each CA (a CA
handles one request at a time, as IOS does), all CAs at once.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Address

from sim.pki.cs_fsm import CsState
from sim.pki.keys import ios_keygen_seconds
from sim.scenario.model import (
    CertificateVerifiesExpect,
    CliEvent,
    Event,
    Expectation,
    LinkSpec,
    RouterSpec,
    Scenario,
    ServerStateExpect,
)

START = datetime(2005, 1, 6, 21, tzinfo=UTC)
CA_LATENCY = 0.005
ROUTER_LATENCY = 0.001
ROUTER_SPACING = 2.0
"""Simulated seconds between two routers enrolling with the same CA. chosen: a CA
processes one SCEP request at a time; two seconds keeps each router's request from
queueing behind the previous one, as routers brought up one after another would."""
GRANT_MARGIN = 90.0
"""Simulated seconds from a level's subordinates finishing key generation to their
parent's operator typing `grant all`: room for GetCACert, the PKCSReq and the PENDING
reply, `SUBORDINATE_SECONDS` per sibling queued at the parent."""
SUBORDINATE_SECONDS = 3.0
POLL_MARGIN = 150.0
"""From `grant all` to the next level starting: a pending subordinate polls every
minute, so two polls and the server's enabling checks fit."""
TAIL = 300.0
"""Simulated seconds the run goes on after the last router started enrolling."""

ROUTER_ANSWERS = ("yes", "challenge1", "challenge1", "no", "no", "yes")
"""Accept the CA certificate, the challenge password twice, no serial number, no IP
address, request the certificate."""


class HierarchyError(ValueError):
    """Sizes that make no hierarchy (a user's mistake on the command line)."""


@dataclass(frozen=True)
class Shape:
    """How big the hierarchy is."""

    levels: int
    fanout: int
    routers: int
    key_bits: int

    @property
    def ca_count(self) -> int:
        return sum(self.fanout ** level for level in range(self.levels))

    @property
    def leaf_count(self) -> int:
        return self.fanout ** (self.levels - 1)

    @property
    def total(self) -> int:
        """Every router of the scenario, CAs included."""
        return self.ca_count + self.routers


MAX_CAS = 60_000
"""CA addresses are 10.0.x.y; this keeps them inside 10.0.0.0/16."""


def check_shape(shape: Shape) -> None:
    """Refuse sizes that make no hierarchy, with a message a user can act on."""
    if shape.levels < 1 or shape.fanout < 1:
        raise HierarchyError("--levels and --fanout must be at least 1")
    if shape.ca_count > MAX_CAS:
        raise HierarchyError(f"{shape.levels} levels of fanout {shape.fanout} make "
                             f"{shape.ca_count} CAs; at most {MAX_CAS}")
    if shape.routers < shape.leaf_count:
        raise HierarchyError(f"{shape.routers} routers for {shape.leaf_count} CAs of the "
                             "last level: give every one of them a router at least")


def ca_name(path: tuple[int, ...]) -> str:
    """`root`, then `ca3` under it, `ca3-7` under that: a CA's name is its path."""
    return "root" if not path else "ca" + "-".join(str(step) for step in path)


def _ca_paths(shape: Shape) -> list[tuple[int, ...]]:
    """Every CA's path from the root, level by level."""
    paths: list[tuple[int, ...]] = [()]
    level: list[tuple[int, ...]] = [()]
    for _ in range(1, shape.levels):
        level = [path + (child,) for path in level for child in range(shape.fanout)]
        paths += level
    return paths


def _address(base: str, index: int) -> str:
    return str(IPv4Address(int(IPv4Address(base)) + index))


def _enable_ca(name: str, parent: str | None, parent_address: str,
               bits: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The CLI that brings one CA up, and the answers to its prompts."""
    lines = ["enable", "configure terminal",
             f"crypto key generate rsa general-keys label {name} modulus {bits}"]
    if parent is not None:
        lines += [f"crypto pki trustpoint {name}", f"enrollment url http://{parent_address}",
                  "exit"]
    lines += [f"crypto pki server {name}", f"issuer-name CN={name}, O=pkilab", "grant auto"]
    if parent is not None:
        lines.append("mode sub-cs")
    lines += ["no shutdown", "end"]
    # A CA whose key exists asks no passphrase on its first `no shutdown` (12.3(14)T); a
    # subordinate asks to accept its parent's certificate.
    return tuple(lines), ("yes",) if parent is not None else ()


def build_hierarchy(shape: Shape, seed: int = 1) -> Scenario:
    """The scenario of `shape` (see the module docstring)."""
    check_shape(shape)
    paths = _ca_paths(shape)
    address = {ca_name(path): _address("10.0.0.1", index) for index, path in enumerate(paths)}
    specs = [RouterSpec(name, addr, config=(f"hostname {name}", "ip http server"))
             for name, addr in address.items()]
    links = [LinkSpec(ca_name(path[:-1]), ca_name(path), latency=CA_LATENCY)
             for path in paths[1:]]
    keygen = ios_keygen_seconds(shape.key_bits)
    events: list[Event] = []
    at = 5.0
    for level in range(shape.levels):
        members = [path for path in paths if len(path) == level]
        for path in members:
            name = ca_name(path)
            parent = ca_name(path[:-1]) if path else None
            lines, answers = _enable_ca(name, parent, address.get(parent or "", ""),
                                        shape.key_bits)
            events.append(CliEvent(at, name, lines, answers))
        if level == 0:
            at += keygen + 60.0
            continue
        grant = at + keygen + GRANT_MARGIN + SUBORDINATE_SECONDS * shape.fanout
        for parent_path in sorted({path[:-1] for path in members}):
            parent = ca_name(parent_path)
            events.append(CliEvent(grant, parent, (f"crypto pki server {parent} grant all",)))
        at = grant + POLL_MARGIN
    leaves = [path for path in paths if len(path) == shape.levels - 1]
    per_leaf = math.ceil(shape.routers / len(leaves))
    for index in range(shape.routers):
        name = f"r{index + 1}"
        leaf = ca_name(leaves[index % len(leaves)])
        specs.append(RouterSpec(name, _address("10.1.0.1", index),
                                config=(f"hostname {name}",)))
        links.append(LinkSpec(leaf, name, latency=ROUTER_LATENCY))
        lines = ("enable", "configure terminal", "crypto pki trustpoint ca",
                 f"enrollment url http://{address[leaf]}",
                 f"rsakeypair {name} {shape.key_bits}", "exit",
                 "crypto pki authenticate ca", "crypto pki enroll ca", "end")
        events.append(CliEvent(at + ROUTER_SPACING * (index // len(leaves)), name, lines,
                               ROUTER_ANSWERS))
    duration = at + ROUTER_SPACING * per_leaf + keygen + TAIL
    expectations: list[Expectation] = [
        ServerStateExpect(ca_name(path), None, CsState.ENABLED) for path in paths]
    # One router per last-level CA checks the chain it was handed; the bench counts the
    # certificates of all of them.
    expectations += [CertificateVerifiesExpect(f"r{index + 1}", "ca")
                     for index in range(len(leaves))]
    description = (
        f"A generated {shape.levels}-level hierarchy: root, {shape.fanout} subordinate "
        f"CA(s) under each CA, {shape.routers} routers spread over the last level's "
        f"{len(leaves)} CA(s), every key RSA-{shape.key_bits}; each subordinate's request "
        "granted by hand, as Cisco's Subordinate Certificate Server feature guide says, and "
        "every router enrolled over SCEP (written by `pkilab bench`).")
    description = textwrap.fill(description, 90)
    name = f"hierarchy-{shape.levels}x{shape.fanout}-{shape.routers}"
    return Scenario(name, description, seed, START, duration, tuple(specs), tuple(links),
                    tuple(sorted(events, key=lambda event: event.at)), tuple(expectations))
