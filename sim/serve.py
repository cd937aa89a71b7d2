"""`pkilab serve`: a scenario's routers on 127.0.0.1 ports, for real SCEP clients.

The scenario's network runs live (`sim.kernel.live`): simulated time follows the host
clock, and by default the scenario starts at the host's current time, so the
certificates a simulated CA issues are valid when a real client receives them. Each
served router's HTTP server gets a loopback port; its events play at their times; the
output folder is written as the run goes (`sim.scenario.live_output`) and finished, with
its reports, when the serving stops (Ctrl-C, or `--for`).

Only 127.0.0.1 is ever bound: this is a lab tool, not a server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sim.kernel.process import SimProcess
from sim.lab import Lab, LabError
from sim.net.http import HttpRequest, HttpResponse
from sim.net.loopback import LoopbackServer
from sim.report import write_report
from sim.router.router import Router
from sim.router.serving import KEEP_TRACE
from sim.scenario.live_output import LiveOutput
from sim.scenario.model import Scenario
from sim.scenario.runner import RunResult

__all__ = ["LabError", "LiveOutput", "Served", "finish", "live_lab", "routers_to_serve",
           "serving", "wait", "warm"]


@dataclass(frozen=True)
class Served:
    router: str
    address: str
    url: str


def routers_to_serve(lab: Lab, wanted: list[str]) -> list[str]:
    """The routers named, or every router whose startup-config turns its HTTP server on."""
    if wanted:
        for name in wanted:
            lab.router(name)
        return wanted
    return [name for name, router in lab.routers.items() if router.running.http_server]


def _answering(router: Router) -> Callable[[HttpRequest],
                                           SimProcess[HttpResponse] | HttpResponse]:
    """The router's HTTP server as a real client meets it: off (or the router down) is
    a 503 rather than a simulated answer."""

    def handler(request: HttpRequest) -> SimProcess[HttpResponse] | HttpResponse:
        if not (router.up and router.running.http_server):
            state = "is not running" if not router.up else "has no 'ip http server'"
            return HttpResponse(503, "Service Unavailable", (("Content-Type", "text/plain"),),
                                f"the simulated router {router.name} {state}\n".encode())
        return router.http_handler(request)

    return handler


@contextmanager
def serving(lab: Lab, names: list[str], first_port: int = 0) -> Iterator[list[Served]]:
    """Serve `names` on consecutive ports from `first_port` (0: any free ports)."""
    with ExitStack() as stack:
        served: list[Served] = []
        for index, name in enumerate(names):
            router = lab.router(name)
            port = first_port + index if first_port else 0
            server = LoopbackServer(lab.env, _answering(router), port, live=lab.live)
            stack.enter_context(server)
            served.append(Served(name, router.address, server.url))
        yield served


def live_lab(scenario: Scenario, *, scenario_start: bool, warm_up: float = 0.0,
             key_cache: Path | None = None) -> Lab:
    """The scenario's lab, ready to go live. It starts `warm_up` seconds before the host's
    current time (or at the scenario's own start), so that after `warm_up` (played at
    once by `warm`) simulated time meets the host clock."""
    start = None
    if not scenario_start:
        start = (datetime.now(UTC) - timedelta(seconds=warm_up)).replace(microsecond=0)
    lab = Lab.from_scenario(scenario, start=start, key_cache=key_cache)
    # A served lab runs for days: its trace streams to disk (`LiveOutput`), and memory
    # keeps only the latest events.
    lab.env.trace.retain(KEEP_TRACE)
    return lab


def warm(lab: Lab, warm_up: float) -> None:
    """Play the first `warm_up` seconds of the scenario at once (a hierarchy that takes
    simulated minutes to build is ready when the serving starts)."""
    lab.run(warm_up)


def finish(lab: Lab, output: LiveOutput, out: Path) -> None:
    """Stop time, then complete the folder and render its reports."""
    lab.stop()
    output.close(RunResult(lab.scenario(), lab.seed, lab.world, []))
    write_report(out)


def wait(lab: Lab, seconds: float | None) -> None:
    """Until `seconds` of host time have passed (None: until Ctrl-C), or the clock
    thread failed."""
    deadline = None if seconds is None else time.monotonic() + seconds
    while deadline is None or time.monotonic() < deadline:
        time.sleep(0.2)
        if lab.live is not None and lab.live.error is not None:
            raise LabError(f"the simulation stopped: {lab.live.error!r}")
