"""Build and drive a simulated lab from Python: pkilab's public API.

A `Lab` is a simulated network of IOS routers you script: add routers and links (or
start from a scenario file), type at consoles, inject faults, let simulated time run,
read transcripts and `show` output, serve a router's HTTP server to real SCEP clients on
127.0.0.1, and write the output folder and report of what happened. Everything done
through the lab is recorded, so `lab.scenario()` is a scenario that replays it.

    from sim.lab import Lab

    lab = Lab(seed=7)
    ca = lab.add_router("ca", "10.0.0.1", "ip http server")
    r1 = lab.add_router("r1", "10.0.0.2")
    lab.link("ca", "r1")
    lab.type("ca", '''
        enable
        configure terminal
        crypto pki server ca
        grant auto
        no shutdown
        end
    ''', answers=["cisco123", "cisco123"])
    status = lab.show("ca", "show crypto pki server")    # the lines IOS prints
    lab.write_output("reports/my-lab")

A lab runs as fast as the host computes until `go_live()`; then a `LiveClock` keeps
simulated time in step with the host clock (for a console a person types at, and for
real SCEP clients, which must not receive certificates dated ahead of their clock).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sim.kernel.env import SimEnv
from sim.kernel.live import LiveClock
from sim.kernel.transcript import transcript_lines
from sim.net.loopback import LoopbackServer, ServerLimits
from sim.net.resolver import normalise_address
from sim.net.topology import Network
from sim.pki.keys import KeySource, default_cache_dir
from sim.report import write_report
from sim.router.router import Router
from sim.router.serving import KEEP_ARTIFACTS, KEEP_TRACE, serve_router
from sim.scenario import soak
from sim.scenario.loader import load_scenario
from sim.scenario.model import (
    DEFAULT_LATENCY,
    DEFAULT_RELEASE,
    SUPPORTED_RELEASES,
    CliEvent,
    ClockJumpEvent,
    ClockSetEvent,
    ClockSpec,
    ClockUnsetEvent,
    Event,
    HttpServerEvent,
    LinkChangeEvent,
    LinkEvent,
    LinkSpec,
    PowerEvent,
    ReloadEvent,
    RouterSpec,
    Scenario,
)
from sim.scenario.output import write_output
from sim.scenario.runner import RunResult, apply_event, schedule_events
from sim.scenario.session_record import SessionRecorder
from sim.scenario.world import World, build_world, make_clock

DEFAULT_START = datetime(2005, 1, 6, 21, 0, 0, tzinfo=UTC)
"""A lab built by hand starts where the Cisco feature guide's transcripts do."""
QUIET_SECONDS = 5.0
"""A console is quiet when nothing was printed for this long (simulated seconds)."""


class LabError(ValueError):
    """Something asked of a lab that it cannot do (an unknown router, a taken name...)."""


class Lab:
    """A simulated network of IOS routers, driven from Python."""

    def __init__(self, *, name: str = "lab", seed: int = 1, start: datetime | None = None,
                 key_cache: Path | None = None, description: str = "") -> None:
        env = SimEnv(seed, start or DEFAULT_START)
        self._init(name, description, seed, World(env, Network(env), {}),
                   KeySource(seed, key_cache or default_cache_dir()), (), (), ())

    @classmethod
    def from_scenario(cls, source: Scenario | Path | str, *, seed: int | None = None,
                      start: datetime | None = None, key_cache: Path | None = None,
                      play_events: bool = True) -> Lab:
        """The scenario's routers and links; its events play at their times when
        `play_events` (the default). `start` replaces the scenario's true time at t=0."""
        scenario = source if isinstance(source, Scenario) else load_scenario(source)
        seed = scenario.seed if seed is None else seed
        scenario = soak.with_seed(scenario, seed)
        if start is not None:
            scenario = replace(scenario, start=start)
        lab = cls.__new__(cls)
        world = build_world(scenario, seed, key_cache)
        keysource = KeySource(seed, key_cache or default_cache_dir())
        events = scenario.events if play_events else ()
        lab._init(scenario.name, scenario.description, seed, world, keysource,
                  scenario.routers, scenario.links, events)
        schedule_events(world, events)
        lab._settle()
        return lab

    def _init(self, name: str, description: str, seed: int, world: World,
              keysource: KeySource, routers: Sequence[RouterSpec],
              links: Sequence[LinkSpec], events: Sequence[Event]) -> None:
        self.name = name
        self.description = description
        self.seed = seed
        self.world = world
        self.keysource = keysource
        self._router_specs = list(routers)
        self._link_specs = list(links)
        self._events = list(events)
        self.live: LiveClock | None = None
        self._live_consoles = False
        self.late_routers: dict[str, float] = {}
        """Routers added after the start, and when: a scenario file racks every router
        at t=0, so `scenario()` replays them as there from the start."""
        self._recorder = SessionRecorder(world.env.trace)
        """The answers typed at live consoles, for `scenario()`."""

    # -- the network -----------------------------------------------------------------------
    @property
    def env(self) -> SimEnv:
        return self.world.env

    @property
    def net(self) -> Network:
        return self.world.net

    @property
    def routers(self) -> dict[str, Router]:
        return self.world.routers

    def router(self, name: str) -> Router:
        router = self.world.routers.get(name)
        if router is None:
            known = ", ".join(sorted(self.world.routers)) or "none"
            raise LabError(f"no router named {name!r} (routers: {known})")
        return router

    def add_router(self, name: str, address: str, config: str | Iterable[str] = "", *,
                   clock: ClockSpec | None = None, release: str = DEFAULT_RELEASE) -> Router:
        """A router, booted and running now, with `config` as its startup-config (a
        `hostname NAME` line comes first unless the config names the host itself),
        behaving as IOS `release` (`12.3(14)T`, `15.x` or `XE`)."""
        if release not in SUPPORTED_RELEASES:
            raise LabError(f"{release!r} is not a supported release "
                           f"(choose one of: {', '.join(SUPPORTED_RELEASES)})")
        if name in self.world.routers:
            raise LabError(f"there is already a router named {name!r}")
        normal = normalise_address(address)
        if normal is None:
            raise LabError(f"{address!r} is not an IPv4 address")
        lines = [line.strip() for line in (config.splitlines() if isinstance(config, str)
                                           else config) if line.strip()]
        if not any(line.split()[0] == "hostname" for line in lines):
            lines.insert(0, f"hostname {name}")
        spec = RouterSpec(name, normal, clock or ClockSpec(), tuple(lines), release)
        with self._simulation():
            self.net.add_node(name, normal)
            router = Router(self.env, self.net, name, normal,
                            make_clock(self.env, spec), self.keysource, lines, release)
            router.set_live_console(self._live_consoles)
            router.start()
            self.world.routers[name] = router
            self._settle()
        self._router_specs.append(spec)
        if self.now > 0:
            self.late_routers[name] = self.now
        return router

    def link(self, a: str, b: str, *, latency: float = DEFAULT_LATENCY,
             loss: float = 0.0) -> None:
        self.router(a), self.router(b)
        with self._simulation():
            self.net.add_link(a, b, latency=latency, loss=loss)
        self._link_specs.append(LinkSpec(a, b, latency, loss))

    # -- time ------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        """Simulated seconds since the start."""
        return self.env.now

    def run(self, seconds: float) -> None:
        """Let `seconds` of simulated time pass (at once, even when live)."""
        if self.live is not None:
            self.live.warp(seconds)
            return
        if seconds > 0:  # simpy refuses to run until the present
            self.env.run(until=self.env.now + seconds)

    def run_until_quiet(self, *, quiet: float = QUIET_SECONDS, limit: float = 3600.0) -> float:
        """Run until every console has finished what was typed and nothing was printed
        for `quiet` seconds (at most `limit` seconds); returns the time it took."""
        started = self.now
        last_seen = len(self.env.trace) + self.env.trace.dropped
        quiet_since = self.now
        while self.now - started < limit:
            self.run(min(quiet / 5, limit - (self.now - started)))
            seen = len(self.env.trace) + self.env.trace.dropped
            if seen != last_seen or not all(r.console_idle or not r.up
                                             for r in self.routers.values()):
                last_seen, quiet_since = seen, self.now
            elif self.now - quiet_since >= quiet:
                break
        return self.now - started

    def go_live(self, *, speed: float = 1.0) -> LiveClock:
        """From now on simulated time follows the host clock (`speed` times its pace)."""
        if self.live is None:
            self.live = LiveClock(self.env, speed=speed).start()
        else:
            self.live.set_speed(speed)
        return self.live

    def stop(self) -> None:
        """Stop following the host clock (the lab keeps its state)."""
        if self.live is not None:
            self.live.stop()
            self.live = None

    # -- consoles --------------------------------------------------------------------------
    def type(self, router: str, text: str | Iterable[str], answers: Iterable[str] = (), *,
             wait: bool = True) -> list[str]:
        """Type lines at a router's console (`answers` for the prompts they raise, in
        order); with `wait`, run until it is quiet and return the new transcript lines."""
        lines = [line.strip() for line in (text.splitlines() if isinstance(text, str)
                                           else text)]
        while lines and not lines[0]:
            lines.pop(0)
        while lines and not lines[-1]:
            lines.pop()
        before = len(self.transcript(router))
        self.do(CliEvent(self.now, router, tuple(lines), tuple(answers)))
        if not wait:
            return []
        if self.live is None:
            self.run_until_quiet()
        else:
            self._wait_live(self.router(router))
        return self.transcript(router)[before:]

    def live_consoles(self, on: bool = True) -> None:
        """A person at every console: a question that the typed lines bring no answer for
        waits (simulated time running) for `answer` instead of taking a bare Return."""
        self._live_consoles = on
        with self._simulation():
            for router in self.routers.values():
                router.set_live_console(on)

    def answer(self, router: str, line: str) -> bool:
        """Answer the question `router`'s console waits on (False: none waits). How long
        it took is recorded, so `scenario()` replays it at the same moment."""
        with self._simulation():
            return self.router(router).answer(line)

    def interrupt(self, router: str) -> bool:
        """Ctrl-C at the question `router`'s console waits on (False: none waits)."""
        with self._simulation():
            return self.router(router).interrupt_question()

    def _wait_live(self, router: Router, timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._simulation():
                if router.console_idle or not router.up:
                    return
            time.sleep(0.05)

    def transcript(self, router: str) -> list[str]:
        """The console of `router` so far, as a person would have seen it."""
        self.router(router)
        with self._simulation():
            return transcript_lines(self.env.trace, router)

    def show(self, router: str, command: str) -> list[str]:
        """An EXEC command's output, read without typing at the operator's console."""
        with self._simulation():
            return self.router(router).observe(command)

    # -- faults ----------------------------------------------------------------------------
    def do(self, event: Event) -> None:
        """Apply a scenario event now (its `at` is taken as now) and record it."""
        event = replace(event, at=self.now, line=0)
        for name in _routers_of(event):
            self.router(name)
        if isinstance(event, LinkEvent | LinkChangeEvent):
            try:
                self.net.link(event.a, event.b)
            except KeyError:
                raise LabError(f"there is no link between {event.a} and {event.b}") from None
        with self._simulation():
            apply_event(self.world, event)
        self._events.append(event)

    def link_down(self, a: str, b: str) -> None:
        self.do(LinkEvent(0, a, b, False))

    def link_up(self, a: str, b: str) -> None:
        self.do(LinkEvent(0, a, b, True))

    def power_off(self, router: str) -> None:
        self.do(PowerEvent(0, router, False))

    def power_on(self, router: str) -> None:
        self.do(PowerEvent(0, router, True))

    def reload(self, router: str) -> None:
        self.do(ReloadEvent(0, router))

    def clock_set(self, router: str, value: datetime | None = None) -> None:
        """Set the router's clock (to the true time when `value` is None)."""
        self.do(ClockSetEvent(0, router, value))

    def clock_unset(self, router: str) -> None:
        self.do(ClockUnsetEvent(0, router))

    def clock_jump(self, router: str, seconds: float) -> None:
        self.do(ClockJumpEvent(0, router, seconds))

    def http_server(self, router: str, on: bool) -> None:
        self.do(HttpServerEvent(0, router, on))

    # -- real clients ----------------------------------------------------------------------
    def serve(self, router: str, *, port: int = 0, limits: ServerLimits | None = None,
              keep_artifacts: int | None = KEEP_ARTIFACTS,
              keep_trace: int | None = KEEP_TRACE) -> LoopbackServer:
        """`router`'s HTTP server on 127.0.0.1 (`with lab.serve("ca") as server:`). Go
        live first for real clients: certificates then carry the host's time."""
        with self._simulation():
            return serve_router(self.router(router), port=port, limits=limits,
                                keep_artifacts=keep_artifacts, keep_trace=keep_trace,
                                live=self.live)

    # -- what happened ---------------------------------------------------------------------
    def scenario(self, *, name: str | None = None, description: str | None = None
                 ) -> Scenario:
        """Everything done through this lab so far, as a scenario that replays it: the
        routers and links, and the events that have happened (a scenario's later events
        are left out), with the answers typed at live consoles and when."""
        happened = [event for event in self._events if event.at <= self.now]
        events = self._recorder.with_answers(sorted(happened, key=lambda e: e.at))
        return Scenario(
            name=name or self.name,
            description=description if description is not None else (
                self.description or f"Recorded from a pkilab lab at {self.now:.3f} s."),
            seed=self.seed,
            start=self.env.start,
            duration=max(self.now, 1.0),
            routers=tuple(self._router_specs),
            links=tuple(self._link_specs),
            events=tuple(events),
        )

    def write_output(self, folder: Path | str, *, report: bool = True) -> Path:
        """The output folder of the run so far (summary, trace, transcripts, artifacts,
        and `report.html`/`report.md` unless `report` is False)."""
        out = Path(folder)
        with self._simulation():
            write_output(RunResult(self.scenario(), self.seed, self.world, []), out)
        if report:
            write_report(out)
        return out

    def _settle(self) -> None:
        """Run what is due at this very instant (a router's boot at t=0), so the lab is
        in the state its time says."""
        sim = self.env.sim
        while sim.peek() <= sim.now:
            sim.step()

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """`with lab.locked():` reads or changes routers directly while the lab is live
        (the live clock runs the simulation from a thread of its own)."""
        return self._simulation()

    @contextlib.contextmanager
    def _simulation(self) -> Iterator[None]:
        """Hold the live clock's lock (if live) while touching the simulation."""
        if self.live is None:
            yield
            return
        with self.live.lock:
            yield


def _routers_of(event: Event) -> list[str]:
    if isinstance(event, LinkEvent | LinkChangeEvent):
        return [event.a, event.b]
    router = getattr(event, "router", None)
    return [router] if isinstance(router, str) else []
