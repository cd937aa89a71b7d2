"""What a large run keeps per router: once each one has enrolled, one copy of each issued
certificate's bytes, shared by the CA's request database and the router holding it, and one
string per artifact name that routers enrolling alike have in common; while it enrolls,
nothing of an exchange that has ended."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import simpy

from sim.bench_hierarchy import Shape, build_hierarchy
from sim.kernel.env import SimEnv
from sim.kernel.first_of import first_of
from sim.kernel.process import SimProcess
from sim.scenario.runner import run_scenario
from sim.scenario.streaming import stream_output


def test_enrolled_routers_share_certificate_bytes_and_artifact_names(tmp_path: Path) -> None:
    """A 10,000-router hierarchy would hold every issued certificate twice (the CA's request
    database and the router's trustpoint: some 800 bytes per router at RSA-2048) and every
    streamed artifact name once per router, and `pkilab bench` would print more memory per
    router than issue 13 allows."""
    result = run_scenario(build_hierarchy(Shape(2, 2, 4, 1024)),
                          setup=stream_output(tmp_path))
    routers = result.world.routers
    issued = {entry.certificate_der: entry.certificate_der
              for router in routers.values() for cs in router.running.servers.values()
              for entry in cs.requests if entry.certificate_der is not None}
    clients = [routers[f"r{index}"] for index in range(1, 5)]
    for router in clients:
        mine = router.running.trustpoints["ca"].id_der
        assert mine is not None and mine in issued, router.name
        assert mine is issued[mine], f"{router.name} holds its own copy of its certificate"
    first, second = (list(router.artifacts.stored) for router in clients[:2])
    assert sorted(first) == sorted(second)
    by_name = {name: name for name in first}
    assert all(by_name[name] is name for name in second)


class _Reply:
    """Stands for an HTTP response (anything a weak reference can follow)."""


def test_a_finished_wait_keeps_nothing_until_its_deadline() -> None:
    """Every HTTP exchange's response would stay in memory until the exchange's 30-second
    deadline passed, long after the exchange ended: some 8 KiB per router enrolling at the
    time, tens of megabytes at the peak of a run of thousands."""
    env = SimEnv()

    def waiter(event: simpy.Event) -> SimProcess[None]:
        yield first_of(env, event, env.timeout(30))

    done = env.event()
    env.process(waiter(done))
    reply = _Reply()
    alive = weakref.ref(reply)
    done.succeed(reply)
    del done, reply
    env.run(until=1)  # the wait is over; its deadline is still in simpy's queue
    gc.collect()
    assert alive() is None
