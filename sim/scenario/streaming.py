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
from typing import ParamSpec, Protocol, TypeVar

from sim.scenario.output import ConfinedWriter, clear_owned
from sim.scenario.world import World

_P = ParamSpec("_P")
_R = TypeVar("_R")


class Wrap(Protocol):
    """Wraps a function in another that calls it (`pkilab bench` times the writing)."""

    def __call__(self, function: Callable[_P, _R], /) -> Callable[_P, _R]: ...


class FolderArtifacts:
    """One router's `artifacts/<router>/run/` under the output folder (an `ArtifactStore`):
    a file the writer refuses (it would land outside the folder) is not stored, so the
    log keeps it and `write_output` refuses and lists it as an in-memory run does."""

    __slots__ = ("_writer", "_folder", "_write")

    def __init__(self, writer: ConfinedWriter, router: str, wrap: Wrap | None = None) -> None:
        self._writer = writer
        self._folder = f"artifacts/{router}/run"
        self._write = self._write_file if wrap is None else wrap(self._write_file)

    def write(self, filename: str, data: bytes) -> bool:
        return self._write(filename, data)

    def _write_file(self, filename: str, data: bytes) -> bool:
        return self._writer.put(f"{self._folder}/{filename}", data)

    def read(self, filename: str) -> bytes:
        return self._writer.read(f"{self._folder}/{filename}")


def stream_output(out_dir: Path, wrap: Wrap | None = None) -> Callable[[World], None]:
    """A `run_scenario` setup that streams the run into `out_dir` (see the module doc).
    `wrap`, if given, wraps each write of a batch of events or of an artifact."""

    def setup(world: World) -> None:
        clear_owned(out_dir)
        writer = ConfinedWriter(out_dir)
        world.env.trace.stream_to(writer.path("trace.jsonl"), wrap)
        for name, router in world.routers.items():
            router.artifacts.stream(FolderArtifacts(writer, name, wrap))

    return setup
