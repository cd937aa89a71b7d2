"""Keys made ahead of a run over every core: the plan read from a scenario names the keys
its routers generate, and the keys made ahead are the very keys the run would make."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

import sim.pki.keys
from sim.bench import measure_scenario
from sim.bench_hierarchy import Shape, build_hierarchy
from sim.pki.keys import KeySource, key_der
from sim.scenario.key_plan import planned_keys
from sim.scenario.model import CliEvent, RouterSpec, Scenario
from sim.scenario.runner import run_scenario
from sim.scenario.world import World


def test_plan_names_every_key_a_cold_hierarchy_generates(tmp_path: Path) -> None:
    """A cold run of a big scenario would still make its keys one by one on one core (the
    plan misses them), or make keys ahead that no router asks for."""
    scenario = build_hierarchy(Shape(2, 2, 4, 1024))
    generated: list[tuple[str, int]] = []

    def setup(world: World) -> None:
        for router in world.routers.values():
            router.keysource.on_generated = lambda label, bits: generated.append((label, bits))

    run_scenario(scenario, key_cache=tmp_path, setup=setup)  # too few keys to make ahead
    assert sorted(planned_keys(scenario)) == sorted(generated)
    assert ("r3/r3#0", 1024) in generated and ("root/root#0", 1024) in generated


def _scenario(config: tuple[str, ...], lines: tuple[str, ...]) -> Scenario:
    from datetime import UTC, datetime

    return Scenario("plan", "plan", 1, datetime(2005, 1, 6, tzinfo=UTC), 60.0,
                    (RouterSpec("r1", "10.0.0.1", config=config),), (),
                    (CliEvent(5.0, "r1", lines, ()),), (), None)


def test_plan_reads_abbreviations_usage_keys_and_trustpoint_pairs() -> None:
    """Keys typed the short way, usage-key pairs, or a trustpoint's `rsakeypair` would be
    missed; a trustpoint pair whose key already exists would be planned twice; a line that
    names no size, or a size no one can type, would be planned or crash the run."""
    scenario = _scenario(
        ("hostname r1", "crypto key generate rsa general-keys label boot modulus 1024"),
        ("cry key gen rsa usage-keys lab pair mod 2048", "rsakeypair pair 2048",
         "rsakeypair tp 1536", "crypto key generate rsa label nosize",
         "crypto key generate rsa general-keys label odd modulus ²⁰⁴⁸",
         "rsakeypair huge 99999999999999999999", "crypto key generate rsa label boot "
         "modulus 1024"))
    assert planned_keys(scenario) == [("r1/boot#0", 1024), ("r1/pair#0", 2048),
                                      ("r1/pair#1", 2048), ("r1/tp#0", 1536),
                                      ("r1/boot#1", 1024)]


def test_pregenerated_keys_are_the_keys_the_run_would_make(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys made ahead in worker processes would differ from the ones a router generates
    itself (the output of a cold run would change), miss the cache, or be made again."""
    monkeypatch.setattr(sim.pki.keys, "PREGENERATE_SECONDS", 0.0)
    source = KeySource(7, tmp_path)
    told: list[tuple[str, int]] = []
    source.on_generated = lambda label, bits: told.append((label, bits))
    wanted = [("a/a#0", 512), ("b/b#0", 512), ("b/b#0", 512), ("tiny/t#0", 128)]
    made = source.pregenerate(wanted, workers=2)
    assert sorted(made) == [("a/a#0", 512), ("b/b#0", 512)] and sorted(told) == sorted(made)
    assert source.pregenerate(wanted, workers=2) == []  # cached now
    fresh = KeySource(7)  # no disk cache: generated here, in this process
    for label, bits in made:
        assert key_der(source.get(label, bits)) == key_der(fresh.get(label, bits))
    assert source.handed_out == 2 and len(told) == 2  # loaded, not generated again


def test_cold_bench_counts_keys_made_ahead_as_the_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A cold bench whose keys were made ahead would report them as not generated in the
    run, and so compare the run with a keygen floor of nothing."""
    monkeypatch.setattr(sim.pki.keys, "PREGENERATE_SECONDS", 0.0)
    report = measure_scenario(build_hierarchy(Shape(2, 2, 4, 1024)), "cold", 1024, cold=True)
    assert len(report.keys.generated) == 7 and report.keys.used == 7
    assert len(report.work.keys) == 7 and report.keys.seconds > 0
    assert report.enrolled == 6


def test_a_pool_that_fails_leaves_the_keys_to_the_routers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes that cannot start (or die) would crash a user's run instead of
    leaving its keys to be made as the routers ask for them."""
    monkeypatch.setattr(sim.pki.keys, "PREGENERATE_SECONDS", 0.0)

    class Broken:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise BrokenProcessPool("a worker died")

    monkeypatch.setattr(sim.pki.keys, "ProcessPoolExecutor", Broken)
    source = KeySource(7, tmp_path)
    assert source.pregenerate([("a/a#0", 512), ("b/b#0", 512)], workers=2) == []
    assert key_der(source.get("a/a#0", 512)) == key_der(KeySource(7).get("a/a#0", 512))
