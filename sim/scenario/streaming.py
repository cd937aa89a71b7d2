"""A batch run that writes its output folder as it goes: the trace and the run's
artifacts go to disk when they are made, so a run's memory does not grow with them.

    result = run_scenario(scenario, setup=stream_output(out))
    write_output(result, out)        # transcripts, final files, summary.json

`stream_output(out)` clears the files pkilab owns in `out` (as `write_output` would),
then streams the trace to `out/trace.jsonl` (`Trace.stream_to`) and each router's
artifacts to `out/artifacts/<router>/run/` (`ArtifactLog.stream`). Expectations,
invariants, pastes and golden files read them back from there. `write_output` sees that
the folder is the one streamed into and writes only the rest. The folder is byte for
byte the one an in-memory run writes (`tests/test_streaming_trace.py`).

In-memory tracing stays the default: a lab object, a test, a console session keep their
trace and artifacts in memory unless given a folder to stream into.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim.scenario.output import ConfinedWriter, OutsideOutputFolder, clear_owned
from sim.scenario.world import World


class FolderArtifacts:
    """One router's `artifacts/<router>/run/` under the output folder (an `ArtifactStore`):
    a file the writer refuses (it would land outside the folder) is not stored, so the
    log keeps it and `write_output` refuses and lists it as an in-memory run does."""

    __slots__ = ("_writer", "_folder")

    def __init__(self, writer: ConfinedWriter, router: str) -> None:
        self._writer = writer
        self._folder = f"artifacts/{router}/run"

    def write(self, filename: str, data: bytes) -> bool:
        try:
            target = self._writer.path(f"{self._folder}/{filename}")
        except OutsideOutputFolder:
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return True

    def read(self, filename: str) -> bytes:
        return self._writer.path(f"{self._folder}/{filename}").read_bytes()


def stream_output(out_dir: Path) -> Callable[[World], None]:
    """A `run_scenario` setup that streams the run into `out_dir` (see the module doc)."""

    def setup(world: World) -> None:
        clear_owned(out_dir)
        writer = ConfinedWriter(out_dir)
        world.env.trace.stream_to(writer.path("trace.jsonl"))
        for name, router in world.routers.items():
            router.artifacts.stream(FolderArtifacts(writer, name))

    return setup
