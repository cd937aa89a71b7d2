"""Benchmark: how many simulated routers a laptop runs, how fast, and how close to the cost
of the cryptography itself.

    pkilab bench --routers 10000 --minutes 10 --enrolling 100      # flat
    pkilab bench --levels 3 --fanout 10 --routers 10000 --key-bits 2048   # hierarchy

The flat case builds a scenario in memory: a root CA router at the hub and N-1 routers in
sites of 50 behind it (tree topology), every router booting from a startup config. The
root enables its certificate server with `grant auto`; `enrolling` routers authenticate
it and enroll over SCEP (real keys, real messages); every 100th router runs `show crypto
pki server` and `dir nvram:`. The hierarchy case is `sim.bench_hierarchy`'s.

Either way the run is measured as a user meets it: wall time of the simulation; the peak
resident memory of the process during it (tracemalloc on request only: it slows a run
several times); with `output`, the output folder and the report written and timed apart;
and, in the same process, the crypto floor of the same work (`sim.bench_floor`: in
slices during the run, timed apart from it, unless `floor_after`) and the ratio of each.
A cold run points the key cache at a fresh empty folder, so every key is generated in the
run. Numbers, not assertions: this is not a test.
"""

from __future__ import annotations

import resource
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path
from typing import ParamSpec, TypeVar

from cryptography.hazmat.primitives.asymmetric import rsa

from sim.bench_floor import (
    ZERO,
    Floor,
    InterleavedFloor,
    Seconds,
    Stopwatch,
    Work,
    count_work,
    measure_floor,
)
from sim.pki.keys import KeySource, default_cache_dir
from sim.report import write_report
from sim.scenario.model import CliEvent, LinkSpec, RouterSpec, Scenario
from sim.scenario.output import write_output
from sim.scenario.runner import RunResult, run_scenario
from sim.scenario.streaming import stream_output
from sim.scenario.world import World

ENROLL = ("enable", "configure terminal", "crypto pki trustpoint ca",
          "enrollment url http://10.0.0.1", "exit", "crypto pki authenticate ca",
          "crypto pki enroll ca", "end")
ENROLL_ANSWERS = ("yes", "challenge1", "challenge1", "no", "no", "yes")
SITE = 50
FLAT_KEY_BITS = 1024
"""The flat case's keys: the CS's own default and what enrollment generates."""


def build(routers: int, minutes: float, enrolling: int = 0) -> Scenario:
    specs = [RouterSpec("root", "10.0.0.1", config=("hostname root", "ip http server"))]
    links = []
    base = int(IPv4Address("10.1.0.1"))
    for index in range(1, routers):
        name = f"r{index}"
        specs.append(RouterSpec(name, str(IPv4Address(base + index)),
                                config=(f"hostname {name}", "ip host root 10.0.0.1")))
        # Site k is r(50k+1) .. r(50k+50); its first router is its hub, linked to the root.
        first = (index - 1) // SITE * SITE + 1
        hub = "root" if index == first else f"r{first}"
        links.append(LinkSpec(hub, name, latency=0.002))
    events = [CliEvent(10.0, "root", ("enable", "configure terminal", "crypto pki server root",
                                      "grant auto", "no shutdown", "end"),
                       ("cisco123", "cisco123"))]
    step = max(1, (routers - 1) // max(enrolling, 1))
    events += [CliEvent(60.0 + i / 50, f"r{i}", ENROLL, ENROLL_ANSWERS)
               for i in range(1, routers, step)][:enrolling]
    events += [CliEvent(90.0 + i / 100, f"r{i}", ("enable", "show crypto pki server",
                                                   "dir nvram:"))
               for i in range(100, routers, 100)]
    return Scenario("bench", "benchmark", 1, datetime(2005, 1, 6, 21, tzinfo=UTC),
                    minutes * 60, tuple(specs), tuple(links), tuple(events), (), None)


# --------------------------------------------------------------------------- memory


def _status_kib(field: str) -> int | None:
    """A `VmRSS`/`VmHWM` line of /proc/self/status, in KiB (None off Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Start the process's peak RSS afresh (Linux: `echo 5 > /proc/self/clear_refs`)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def _peak_kib() -> int:
    hwm = _status_kib("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@dataclass(frozen=True)
class Memory:
    before: int
    """Resident bytes before the run."""
    peak: int
    """Peak resident bytes during the run (of the process's life if it cannot be reset)."""
    traced: int | None
    """tracemalloc's peak, when asked for."""
    since_start: bool
    """The peak could not be reset (not Linux): it is the process's since it started."""


# --------------------------------------------------------------------------- measuring


class KeyWatch:
    """The keys a run generates (its disk cache lacks them), with the host seconds
    generating them took. Told by each key source (`KeySource.on_generated`) rather than
    asking the disk about every key: the asking was measured as part of the run."""

    def __init__(self) -> None:
        self.generated: list[tuple[str, int]] = []
        self.seconds = 0.0
        self._sources: list[KeySource] = []

    @property
    def used(self) -> int:
        """Distinct keys the run was handed."""
        return sum(source.handed_out for source in self._sources)

    def attach(self, world: World) -> None:
        sources = {id(r.keysource): r.keysource for r in world.routers.values()}
        self._sources = list(sources.values())
        for source in self._sources:
            source.on_generated = self._note
            source.get = self._wrap(source)  # type: ignore[method-assign]
            source.pregenerate = self._timed(source.pregenerate)  # type: ignore[method-assign]

    def _note(self, label: str, bits: int) -> None:
        self.generated.append((label, bits))

    def _timed(self, pregenerate: Callable[_P, list[tuple[str, int]]]
               ) -> Callable[_P, list[tuple[str, int]]]:
        """`KeySource.pregenerate`, its time counted as key generation when it made any
        (the keys a run makes ahead over every core, `sim.scenario.key_plan`)."""

        def timed(*args: _P.args, **kwargs: _P.kwargs) -> list[tuple[str, int]]:
            started = time.perf_counter()
            made = pregenerate(*args, **kwargs)
            if made:
                self.seconds += time.perf_counter() - started
            return made

        return timed

    def _wrap(self, source: KeySource) -> Callable[..., rsa.RSAPrivateKey]:
        original = source.get

        def get(label: str, bits: int = 1024) -> rsa.RSAPrivateKey:
            made = len(self.generated)
            started = time.perf_counter()
            key = original(label, bits)
            if len(self.generated) != made:  # generated in this call
                self.seconds += time.perf_counter() - started
            return key

        return get


_P = ParamSpec("_P")
_R = TypeVar("_R")


class WriteMeter:
    """Host time spent writing the trace and artifacts into the output folder while the
    run goes (`stream_output`'s wrap): it is output, timed apart from the simulation.

    Timed on the wall clock only: reading the process's CPU clock around each of a
    million writes cost more than some of the writes (1.8 s of a 1,000-router run), and
    the writing is CPU-bound (buffered, no waiting). Its CPU time is taken as its wall
    time times the share of the run's wall time the process had a core (`within`): on a
    quiet machine the two are equal, and on a loaded one the wall time also counts the
    waits for a core, which subtracted from the run's CPU time would leave too little
    (even less than nothing)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, function: Callable[_P, _R], /) -> Callable[_P, _R]:
        clock = time.perf_counter

        def timed(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            started = clock()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += clock() - started

        return timed

    def within(self, whole: Seconds) -> Seconds:
        """The writing's share of `whole`, the run it was part of (see the class)."""
        on_core = min(1.0, whole.cpu / whole.wall) if whole.wall > 0 else 1.0
        return Seconds(self.seconds, self.seconds * on_core)


def _s(time: Seconds) -> str:
    return f"{time.wall:.2f} s (CPU {time.cpu:.2f} s)"


def _ratio(run: Seconds, floor: Seconds) -> str:
    def one(a: float, b: float) -> str:
        return f"{a / b:.2f}" if b > 0 else "-"

    return f"{one(run.wall, floor.wall)} wall, {one(run.cpu, floor.cpu)} CPU"


@dataclass(frozen=True)
class BenchReport:
    title: str
    routers: int
    simulated: float
    run: Seconds
    trace_events: int
    enrolled: int
    root_state: str | None
    memory: Memory
    keys: KeyWatch
    cold: bool
    work: Work
    floor: Floor
    streamed: Seconds
    """Time spent during the run writing the trace and artifacts into the folder (not in
    `run`)."""
    output: tuple[Seconds, Seconds, int | None] | None
    """Time to write the output folder, then the report (with `--output`), and the peak
    resident bytes while writing them (None where the peak cannot be reset)."""
    warnings: int

    def lines(self) -> list[str]:
        mib = 2 ** 20
        memory = self.memory
        grown = max(0, memory.peak - memory.before)
        wall = max(self.run.wall, 1e-9)
        out = [self.title,
               f"routers: {self.routers}  simulated: {self.simulated:.0f} s  "
               f"root CS: {self.root_state}",
               f"simulation: {_s(self.run)}  "
               f"({self.simulated / wall:.0f} simulated s per wall s)",
               f"streaming the trace and artifacts into the folder during the run "
               f"(timed apart): {_s(self.streamed)}",
               f"routers enrolled: {self.enrolled}  trace events: {self.trace_events}  "
               f"operator warnings: {self.warnings}",
               f"keys: {self.keys.used} used, {len(self.keys.generated)} generated in "
               f"the run ({self.keys.seconds:.2f} s), key cache "
               + ("cold (a fresh empty folder)" if self.cold else "warm"),
               f"peak memory (RSS{'' if not memory.since_start else ', since start'}): "
               f"{memory.peak / mib:.1f} MiB, {grown / mib:.1f} MiB over the "
               f"{memory.before / mib:.1f} MiB before the run: "
               f"{grown / self.routers / 1024:.1f} KiB per router"]
        if memory.traced is not None:
            out.append(f"peak memory (tracemalloc): {memory.traced / mib:.1f} MiB "
                       f"({memory.traced / self.routers / 1024:.1f} KiB per router)")
        out += self._floor_lines()
        if self.output is not None:
            folder, report, peak = self.output
            both = self.streamed + folder + report
            out.append(f"output folder: {_s(folder)}  report: {_s(report)}"
                       + (f"  (peak RSS while writing: {peak / 2 ** 20:.1f} MiB)"
                          if peak is not None else ""))
            out.append("ratio output (streamed, folder) and report / simulation: "
                       f"{_ratio(both, self.run)}")
        return out

    def _floor_lines(self) -> list[str]:
        work, floor = self.work, self.floor
        keys = len(work.keys)
        when = (f"in {floor.slices} slices during the run and the rest after it"
                if floor.slices else "after the run")
        out = [f"crypto floor (the same work done directly, RSA-{work.bits}, {when}):"]
        if keys:
            out.append(f"  keygen: {keys} keys, {_s(floor.keygen)}: the seeded generator "
                       f"over {floor.keygen_workers} process(es), "
                       f"{floor.keygen.cpu / keys * 1000:.0f} ms CPU per key; "
                       f"OpenSSL's own: {floor.openssl_per_key * 1000:.0f} ms CPU per key")
        else:
            out.append("  keygen: no key generated in the run")
        out += [f"  signatures: {work.certificates} certificates, {work.crls} CRLs, "
                f"{work.csrs} requests, {work.signers} self-signed signers, {work.cms} CMS: "
                f"{_s(floor.signatures)}",
                f"  envelopes: {work.seals} sealed, {work.opens} opened: "
                f"{_s(floor.envelopes)}",
                f"  floor: {_s(floor.total)}",
                f"ratio run / crypto floor: {_ratio(self.run, floor.total)}"]
        if keys:
            out.append(f"ratio run / keygen floor: {_ratio(self.run, floor.keygen)}")
        return out


def measure_scenario(scenario: Scenario, title: str, bits: int, *, cold: bool = False,
                     output: Path | None = None, trace_memory: bool = False,
                     floor_after: bool = False) -> BenchReport:
    """Run `scenario` once and measure it (host time is read here on purpose: this is the
    one place that times the simulator rather than simulating).

    As `pkilab run --out` does, the trace and artifacts stream into the folder during the
    run (a scratch folder without `output`): the memory measured is what a user's run
    holds, and the time spent writing them is metered and counted as output, not as
    simulation. The crypto floor is measured in slices during the run (`sim.bench_floor`),
    or with `floor_after` all after it."""
    scratch: list[Path] = []
    try:
        if cold:
            scratch.append(Path(tempfile.mkdtemp(prefix="pkilab-cold-keys-")))
        if output is None:
            scratch.append(Path(tempfile.mkdtemp(prefix="pkilab-bench-")))
        return _measure(scenario, title, bits, scratch[0] if cold else None,
                        output if output is not None else scratch[-1], output is not None,
                        trace_memory, floor_after)
    finally:
        for folder in scratch:
            shutil.rmtree(folder, ignore_errors=True)


def _measure(scenario: Scenario, title: str, bits: int, key_cache: Path | None,
             folder: Path, write_rest: bool, trace_memory: bool,
             floor_after: bool) -> BenchReport:
    keys = KeyWatch()
    # Made before anything is timed or its memory measured (it generates two keys).
    interleaved = None if floor_after else InterleavedFloor(bits)
    reset = _reset_peak()
    before = (_status_kib("VmRSS") or 0) * 1024
    if trace_memory:
        tracemalloc.start()
    meter = WriteMeter()
    stream = stream_output(folder, meter)

    def setup(world: World) -> None:
        keys.attach(world)
        stream(world)
        if interleaved is not None:
            routers = world.routers

            def servers_of(name: str) -> Collection[str]:
                router = routers.get(name)
                return router.running.servers if router is not None else ()

            interleaved.watch(world.env.trace, servers_of)

    watch = Stopwatch()
    result = run_scenario(scenario, key_cache=key_cache or default_cache_dir(),
                          setup=setup)
    whole = watch.read()
    # The floor slices ran on the run's clock: they are the floor's time, not the run's.
    sliced = interleaved.spent if interleaved is not None else ZERO
    streamed = meter.within(whole - sliced)
    run = whole - sliced - streamed
    traced = None
    if trace_memory:
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    memory = Memory(before, _peak_kib() * 1024, traced, not reset)
    written = _write(result, folder) if write_rest else None
    world = result.world
    root = world.routers.get("root")
    state = root.server_state() if root is not None else None
    servers = {name: set(router.running.servers) for name, router in world.routers.items()}
    roots = sum(1 for router in world.routers.values()
                for cs in router.running.servers.values()
                if cs.ca_cert is not None and cs.config.mode != "sub-cs")
    if interleaved is None:
        work = count_work(world.env.trace, servers, roots, bits, keys.generated)
        floor = measure_floor(work, scenario.seed)
    else:
        # What the slices did not do: the run's tail, the root CAs' self-signed
        # certificates (their making is not in the trace) and the keys generated.
        rest = interleaved.rest()
        rest.keys = list(keys.generated)
        rest.certificates += roots
        floor = measure_floor(rest, scenario.seed, interleaved.rig,
                              (interleaved.signatures, interleaved.envelopes,
                               interleaved.slices))
        work = interleaved.done
        work.add(rest)
    return BenchReport(title, len(world.routers), scenario.duration, run,
                       len(world.env.trace), _enrolled(result), state.value if state else None,
                       memory, keys, key_cache is not None,
                       work, floor, streamed, written, len(result.warnings))


def _enrolled(result: RunResult) -> int:
    return sum(1 for router in result.world.routers.values()
               if any(tp.id_cert is not None for tp in router.running.trustpoints.values()))


def _write(result: RunResult, out: Path) -> tuple[Seconds, Seconds, int | None]:
    reset = _reset_peak()
    watch = Stopwatch()
    write_output(result, out)
    folder = watch.read()
    watch = Stopwatch()
    write_report(out)
    report = watch.read()
    return folder, report, _peak_kib() * 1024 if reset else None


def measure(routers: int = 10_000, minutes: float = 10.0, enrolling: int = 0, *,
            cold: bool = False, output: Path | None = None,
            trace_memory: bool = False, floor_after: bool = False) -> BenchReport:
    """The flat case (see the module docstring)."""
    scenario = build(routers, minutes, enrolling)
    title = (f"flat: root CA and {routers - 1} routers in sites of {SITE}, "
             f"{enrolling} enrolling, RSA-{FLAT_KEY_BITS}")
    return measure_scenario(scenario, title, FLAT_KEY_BITS, cold=cold, output=output,
                            trace_memory=trace_memory, floor_after=floor_after)
