"""Benchmark: an idle simulated year of many certificate servers publishing CRLs.

    pkilab bench --idle-year 100        # issue 13's case: 100 CAs, CRL every 6 h

Builds a scenario in memory: `cas` routers on one switch-like hub, each running a root
certificate server (`lifetime crl HOURS`, RSA-1024, the CS's default key) enabled at
10 s, then nothing else happens for a year. Every CA republishes its CRL each
`lifetime crl` (`CS CRL UPDATE`): 100 CAs at 6 hours is 146,000 CRLs a year, which nobody
reads, so none is signed (`sim.pki.deferred`). Prints the wall time of the simulation,
the CRLs published, how many were signed, and, measured in the same process, what eager
signing of every one of them would cost on its own (the old floor). Numbers, not
assertions: this is not a test; `pkilab bench --idle-year` prints `IdleYear.lines()`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Address

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from sim.scenario.model import CliEvent, LinkSpec, RouterSpec, Scenario
from sim.scenario.runner import RunResult, run_scenario

START = datetime(2005, 1, 6, 21, tzinfo=UTC)
ENABLE_ANSWERS = ("cisco123", "cisco123")
"""The passphrase `no shutdown` asks for twice when it generates the CA's key."""


def build_idle_year(cas: int = 100, days: float = 365.0, crl_hours: int = 6) -> Scenario:
    """`cas` root CAs, each enabled at 10 s, then `days` of nothing but CRL republication."""
    hub = RouterSpec("hub", "10.255.0.1", config=("hostname hub",))
    specs = [hub]
    links = []
    events = []
    base = int(IPv4Address("10.0.0.1"))
    for index in range(cas):
        name = f"ca{index}"
        specs.append(RouterSpec(name, str(IPv4Address(base + index)), config=(
            f"hostname {name}", "ip http server", f"crypto pki server {name}",
            f" lifetime crl {crl_hours}")))
        links.append(LinkSpec("hub", name, latency=0.001))
        events.append(CliEvent(10.0, name, ("enable", "configure terminal",
                                            f"crypto pki server {name}", "no shutdown",
                                            "end"), ENABLE_ANSWERS))
    return Scenario("idle-year", f"{cas} idle CAs, a CRL every {crl_hours} h", 1, START,
                    days * 86400.0, tuple(specs), tuple(links), tuple(events), (), None)


@dataclass(frozen=True)
class IdleYear:
    cas: int
    simulated_days: float
    wall: float
    cpu: float
    """Host CPU seconds of the simulation (steadier than wall time on a shared machine)."""
    published: int
    signed: int
    eager_floor: float
    """Host seconds that signing every published CRL once takes, measured here."""

    def lines(self) -> list[str]:
        ratio = self.wall / self.eager_floor if self.eager_floor > 0 else float("inf")
        return [
            f"idle year: {self.cas} CAs, {self.simulated_days:.0f} simulated days",
            f"wall (simulation): {self.wall:.2f} s  (CPU: {self.cpu:.2f} s)",
            f"CRLs published: {self.published}; current CRLs signed by the end: "
            f"{self.signed} of {self.cas} (a replaced CRL nobody read is never signed)",
            f"signing every one eagerly would take {self.eager_floor:.2f} s on its own "
            f"(run / that: {ratio:.2f})",
        ]


def _published(result: RunResult) -> tuple[int, int]:
    """CRLs written to a `.crl` file, and how many of the current ones were signed (read)
    by the end (a replaced CRL nobody read was never signed: its artifact is deferred too)."""
    published = sum(1 for event in result.world.env.trace.select(category="nvram",
                                                                 name="write")
                    if str(event.data.get("file", "")).endswith(".crl"))
    unsigned = sum(1 for router in result.world.routers.values() for name in router.nvram
                   if name.endswith(".crl") and router.nvram.deferred(name))
    cas = sum(len(router.running.servers) for router in result.world.routers.values())
    # Every CRL but each CA's current one was replaced unread: signed only if read.
    return published, cas - unsigned


def _eager_floor(result: RunResult, count: int) -> float:
    """Seconds to sign `count` CRL-sized TBS blobs with one of the run's CA keys."""
    for router in result.world.routers.values():
        for cs in router.running.servers.values():
            pair = router.running.keys.get(cs.name)
            if pair is None:
                continue
            tbs = b"\x30\x81\x90" + bytes(0x90)
            started = time.perf_counter()
            sample = min(count, 2000)
            for _ in range(sample):
                pair.key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
            return (time.perf_counter() - started) * count / max(sample, 1)
    return 0.0


def measure_idle_year(cas: int = 100, days: float = 365.0, crl_hours: int = 6) -> IdleYear:
    """Run the idle year once and measure it (host time is read here on purpose)."""
    scenario = build_idle_year(cas, days, crl_hours)
    started, cpu = time.perf_counter(), time.process_time()
    result = run_scenario(scenario)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    published, signed = _published(result)
    return IdleYear(cas, days, wall, cpu, published, signed, _eager_floor(result, published))
