"""A run that streams its trace and artifacts into its output folder (`pkilab run`, `pkilab
check`: `sim.scenario.streaming`) writes the very folder an in-memory run writes, and its
expectations, invariants and transcripts read the same events back from disk. If this
fails, a run's output folder would change with the way it was written, its checks would
judge other events than the ones that happened, or a big run would hold its whole trace
in memory again."""

from __future__ import annotations

import filecmp
import tracemalloc
from pathlib import Path

import pytest

from sim.kernel.trace import Trace, TraceEvent
from sim.kernel.transcript import transcript_entries
from sim.scenario.loader import load_scenarios
from sim.scenario.output import write_output
from sim.scenario.runner import run_scenario
from sim.scenario.streaming import stream_output

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("name", ["enrollment/sub-ca-enrollment.yaml",
                                  "hierarchy/soak-hierarchy.yaml",
                                  "lifecycle/crl-republication.yaml"])
def test_a_streamed_run_writes_the_same_folder_as_an_in_memory_run(name: str,
                                                                     tmp_path: Path) -> None:
    """`pkilab run` (which streams) would write another trace, transcripts, artifacts or summary
    than the same run kept in memory, or judge its expectations and invariants otherwise."""
    scenario = load_scenarios(SCENARIOS / name)[0]
    memory, streamed = tmp_path / "memory", tmp_path / "streamed"
    in_memory = run_scenario(scenario)
    write_output(in_memory, memory, path=name)
    seen: list[TraceEvent] = []
    result = run_scenario(scenario, setup=lambda world: (stream_output(streamed)(world),
                                                         world.env.trace.subscribe(seen.append)))
    assert (streamed / "trace.jsonl").stat().st_size > 0  # written while the run went
    write_output(result, streamed, path=name)
    assert [r.passed for r in result.results] == [r.passed for r in in_memory.results]
    assert _files(memory) == _files(streamed)
    match, mismatch, errors = filecmp.cmpfiles(memory, streamed, _files(memory), shallow=False)
    assert not mismatch and not errors and match
    # Read back from disk, each event is the one emitted (exact times included); the
    # subscriber joined once the world was built, after its routers' first events.
    read_back = list(result.world.env.trace)
    assert len(seen) > 10 and read_back[len(read_back) - len(seen):] == seen


def test_a_streamed_trace_reads_back_what_was_emitted_by_router_and_category(
        tmp_path: Path) -> None:
    """Selecting a router's or a category's events, or a router's transcript, from a streamed
    trace would give other events than an in-memory trace does."""
    memory, streamed = Trace(), Trace()
    streamed.stream_to(tmp_path / "trace.jsonl")
    for trace in (memory, streamed):
        for i in range(600):
            router = ("ca", "r1", None)[i % 3]
            t = i / 7  # times the file rounds: reading back must not
            if i % 4 == 0:
                trace.emit(t, router, "console", "line", text=f"line {i}")
            elif i % 4 == 1:
                trace.emit(t, router, "log", "syslog", stamp=f"*{i}", text=f"%X-{i}")
            else:
                trace.emit(t, router, "pki", "step", n=i, items=[i, {"k": "v"}])
    assert list(streamed) == list(memory) and len(streamed) == len(memory) == 600
    for router in ("ca", "r1", None):
        assert streamed.select(router=router) == memory.select(router=router)
        assert streamed.select(router=router, category="log") == memory.select(
            router=router, category="log")
    assert streamed.select(category="pki", name="step") == memory.select(category="pki",
                                                                         name="step")
    for router in ("ca", "r1"):
        assert transcript_entries(streamed, router) == transcript_entries(memory, router)
    assert streamed.to_jsonl() == memory.to_jsonl()
    streamed.end_stream()
    streamed.emit(99.0, "ca", "console", "line", text="after the file closed")
    memory.emit(99.0, "ca", "console", "line", text="after the file closed")
    assert list(streamed) == list(memory)
    assert transcript_entries(streamed, "ca") == transcript_entries(memory, "ca")
    assert (tmp_path / "trace.jsonl").read_text().count("\n") == 600


def test_a_streamed_trace_keeps_a_few_words_per_event_in_memory(tmp_path: Path) -> None:
    """A 10,000-router run would hold its whole trace in memory (some 300 bytes per event)
    although it streams to disk."""
    trace = Trace()
    trace.stream_to(tmp_path / "trace.jsonl")
    count = 40_000
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(count):
            trace.emit(i * 0.5, f"r{i % 1000}", "console", "line", text=f"line number {i}")
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown / count < 64, f"{grown / count:.0f} bytes per streamed event"


def test_a_streamed_trace_cannot_be_bounded(tmp_path: Path) -> None:
    """A streamed trace told to keep only its last events would silently lose the index its
    transcripts are read through."""
    trace = Trace()
    trace.stream_to(tmp_path / "trace.jsonl")
    with pytest.raises(ValueError, match="cannot be bounded"):
        trace.retain(10)
