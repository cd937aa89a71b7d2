"""Serve one simulated router's HTTP server to real clients for a long time, in bounded memory.

A batch run keeps everything it saw (its output folder writes it all). A lab served on
127.0.0.1 for days to real SCEP clients must not: every request would add its body and
reply as artifacts and several trace events, for ever. `serve_router` bounds both before
it starts serving, then hands over to `sim.net.loopback.LoopbackServer`:

    with serve_router(ca, keep_artifacts=1000, spill_dir=Path("spilled")) as server:
        ...  # server.url

Artifacts that leave memory go to `spill_dir` when one is given (named as a batch run's
`artifacts/<router>/run/` files); trace events that leave memory are only counted
(`env.trace.dropped`): the trace is the log of the run, not its archive.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sim.kernel.live import LiveClock
from sim.net.loopback import LoopbackServer, ServerLimits
from sim.router.artifact_log import FolderSpill

if TYPE_CHECKING:
    from sim.router.router import Router

KEEP_ARTIFACTS = 1000
"""Artifacts a served router keeps in memory (a PKIOperation adds two, a few KB each)."""
KEEP_TRACE = 10_000
"""Trace events a served lab keeps in memory (a PKIOperation adds about ten)."""


def serve_router(router: Router, *, port: int = 0, limits: ServerLimits | None = None,
                 keep_artifacts: int | None = KEEP_ARTIFACTS,
                 keep_trace: int | None = KEEP_TRACE,
                 spill_dir: Path | None = None, live: LiveClock | None = None
                 ) -> LoopbackServer:
    """A `LoopbackServer` for `router`'s HTTP server, its artifacts and the lab's trace
    bounded to the last `keep_artifacts` / `keep_trace` (None keeps all). With a `live`
    clock, requests take the router's simulated time in host time too."""
    router.artifacts.retain(keep_artifacts, FolderSpill(spill_dir) if spill_dir else None)
    router.env.trace.retain(keep_trace)
    return LoopbackServer(router.env, router.http_handler, port, limits, live=live)
