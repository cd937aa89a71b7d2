"""The output folder of a live lab, written while it runs.

A batch run keeps its whole trace and every artifact in memory and writes the folder at
the end. A lab served to real clients for days cannot, and a person watching it wants
the files as things happen (`tail -f transcripts/ca.txt`). `LiveOutput` writes the same
folder layout as it goes:

- `trace.jsonl`, one line per event as it is emitted;
- `transcripts/<router>.txt`, each console line once it is complete (a line that an
  inline `[OK]` may still extend is written when the next one starts);
- `artifacts/<router>/run/`, every certificate, CSR, CRL and SCEP message as it is
  recorded (nothing is kept in memory);

and at `close()` the final certificates and CRLs and `summary.json`, after which
`sim.report.write_report` can render the reports from the folder as for any run.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from sim.kernel.trace import TraceEvent
from sim.router.artifact_log import FolderSpill
from sim.scenario.output import ConfinedWriter, clear_owned, finish_output
from sim.scenario.runner import RunResult
from sim.scenario.world import World


class LiveOutput:
    """Streams a world's trace, transcripts and artifacts into `out_dir`."""

    def __init__(self, world: World, out_dir: Path) -> None:
        clear_owned(out_dir)
        self._closed = False
        self.world = world
        self.writer = ConfinedWriter(out_dir)
        self._trace: IO[str] = open(self.writer.path("trace.jsonl"), "w",  # noqa: SIM115
                                    encoding="utf-8")
        self._transcripts: dict[str, IO[str]] = {}
        self._pending: dict[str, str] = {}
        for name, router in world.routers.items():
            path = self.writer.path(f"transcripts/{name}.txt")
            path.parent.mkdir(parents=True, exist_ok=True)
            self._transcripts[name] = open(path, "w", encoding="utf-8")  # noqa: SIM115
            router.artifacts.retain(0, FolderSpill(self.writer.path(f"artifacts/{name}/run")))
        for event in world.env.trace:  # what happened before the folder was opened
            self._on_event(event)
        world.env.trace.subscribe(self._on_event)

    def _on_event(self, event: TraceEvent) -> None:
        if self._closed:
            return
        self._trace.write(event.to_json() + "\n")
        self._trace.flush()
        router = event.router
        if router is None or router not in self._transcripts:
            return
        if event.category == "console" and event.name == "inline":
            self._pending[router] = self._pending.get(router, "") + str(event.data["text"])
            return
        if event.category == "console" and event.name == "line":
            line = str(event.data["text"])
        elif event.category == "log":
            line = f"{event.data['stamp']}: {event.data['text']}"
        else:
            return
        self._flush_line(router)
        self._pending[router] = line

    def _flush_line(self, router: str) -> None:
        if router in self._pending:
            out = self._transcripts[router]
            out.write(self._pending.pop(router) + "\n")
            out.flush()

    def close(self, result: RunResult) -> list[str]:
        """Finish the folder: the last console lines, the final certificates, summary.json."""
        if self._closed:
            return []
        for router in list(self._pending):
            self._flush_line(router)
        self._closed = True
        for stream in (self._trace, *self._transcripts.values()):
            stream.close()
        return finish_output(result, self.writer, streamed_artifacts=True)
