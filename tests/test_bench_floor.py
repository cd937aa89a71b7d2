"""The bench's crypto floor measured in slices during the run: the same work as counted
after it, and its time kept out of the run's."""

from __future__ import annotations

import re
import time

import pytest
from click.testing import CliRunner

import sim.bench_floor
from sim.bench import measure_scenario
from sim.bench_floor import FloorRig, InterleavedFloor, Seconds, Work, count_work
from sim.bench_hierarchy import Shape, build_hierarchy
from sim.cli import main
from sim.scenario.runner import run_scenario
from sim.scenario.world import World


def _totals(work: Work) -> tuple[int, ...]:
    return (work.certificates, work.crls, work.csrs, work.signers, work.cms, work.seals,
            work.opens)


def test_interleaved_counting_finds_the_work_the_trace_shows() -> None:
    """Counted live, slice by slice, a run's work would differ from the same run's trace
    counted afterwards: the floor a user compares with would be of other work."""
    floor = InterleavedFloor(1024, every=7)

    def setup(world: World) -> None:
        routers = world.routers
        floor.watch(world.env.trace, lambda name: routers[name].running.servers)

    result = run_scenario(build_hierarchy(Shape(2, 2, 4, 1024)), setup=setup)
    world = result.world
    servers = {name: set(router.running.servers) for name, router in world.routers.items()}
    after = count_work(world.env.trace, servers, 0, 1024, [])
    live = floor.done
    live.add(floor.rest())
    assert _totals(live) == _totals(after)
    assert after.certificates == 6 and after.opens == 18
    # Every slice did at least the 7 operations asked for, and took time.
    assert 2 <= floor.slices <= (live.private_operations + 6) // 7
    assert floor.spent.cpu > 0 and floor.signatures.cpu > 0 and floor.envelopes.cpu > 0


def test_bench_times_the_floor_in_slices_apart_from_the_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The floor slices done during the run would be missing from the floor, counted as
    the run's own time, or would change the work counted."""
    monkeypatch.setattr(sim.bench_floor, "SLICE_OPERATIONS", 10)
    signatures = FloorRig.signatures

    def slow_signatures(rig: FloorRig, work: Work) -> Seconds:
        # Each signing pass also spins 0.3 s of CPU: far more than this whole run's
        # simulation takes, so where the bench puts it cannot be missed.
        end = time.process_time() + 0.3
        while time.process_time() < end:
            pass
        return signatures(rig, work) + Seconds(0.3, 0.3)

    monkeypatch.setattr(FloorRig, "signatures", slow_signatures)
    scenario = build_hierarchy(Shape(2, 2, 4, 1024))
    sliced = measure_scenario(scenario, "sliced", 1024)
    after = measure_scenario(scenario, "after", 1024, floor_after=True)
    assert sliced.floor.slices >= 5 and after.floor.slices == 0
    assert _totals(sliced.work) == _totals(after.work)
    assert sliced.work.certificates == 7  # the root's own certificate, after the run
    text = "\n".join(sliced.lines())
    assert re.search(r"RSA-1024, in \d+ slices during the run and the rest after it\)", text)
    # The slices' time is the floor's: the run's is what is left.
    assert sliced.floor.signatures.cpu >= 0.3 * (sliced.floor.slices + 1)
    assert 0 < sliced.run.cpu < 0.3 * sliced.floor.slices / 2


def test_floor_after_flag_measures_it_all_after_the_run() -> None:
    """`pkilab bench --floor-after` would be refused, or would not say when its floor was
    measured."""
    result = CliRunner().invoke(main, ["bench", "--levels", "2", "--fanout", "2",
                                       "--routers", "4", "--key-bits", "1024",
                                       "--floor-after"])
    assert result.exit_code == 0, result.output
    assert "crypto floor (the same work done directly, RSA-1024, after the run):" in \
        result.output
    assert "signatures: 7 certificates, 3 CRLs, 6 requests" in result.output
