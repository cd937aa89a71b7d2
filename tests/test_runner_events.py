"""Every timeline event kind reaches the world at its time; timed expectations see it."""

from __future__ import annotations

from sim.kernel.transcript import transcript_lines
from sim.scenario.loader import load_scenario_text
from sim.scenario.runner import run_scenario

SCENARIO = """\
name: events
description: every event kind once
seed: 5
start: 2005-01-06T21:00:00Z
duration: 10m
routers:
  ca:
    address: 10.0.0.1
    config: |
      hostname ca
      ip http server
  r2:
    address: 10.0.0.2
    config: hostname r2
links:
  - endpoints: [ca, r2]
events:
  - at: 5s
    router: ca
    cli: |
      enable
      configure terminal
      crypto pki server ca
      no shutdown
      end
      write memory
    input: [cisco123, cisco123]
  - {at: 1m, link_down: [ca, r2]}
  - {at: 2m, link_up: [ca, r2]}
  - {at: 3m, router: ca, http_server: off}
  - {at: 4m, router: ca, http_server: on}
  - {at: 5m, router: r2, clock_jump: -1h}
  - {at: 5m30s, router: r2, clock_unset: true}
  - {at: 6m, router: r2, clock_set: 2006-02-03T04:05:06}
  - {at: 7m, router: ca, power: off}
  - {at: 7m30s, router: ca, power: on}
  - {at: 8m30s, router: r2, reload: true}
  - {at: 9m, router: r2, cli: show clock}
  - {at: 9m30s, router: r2, cli: show clock}
expect:
  - {router: ca, at: 3m30s, server_state: check failed}
  - {router: ca, at: 4m30s, server_state: enabled}
  - {router: r2, at: 5m45s, show: show clock, contains: "*"}
  - {router: ca, at: 7m10s, show: show clock, contains: "not running"}
  - {router: ca, server_state: enabled}
  - {router: r2, show: show clock, contains: "Feb 3 2006"}
"""


def test_every_event_kind_takes_effect() -> None:
    """A scenario's timeline events (link, power, reload, clock, typing) would not happen at their
    stated time."""
    result = run_scenario(load_scenario_text(SCENARIO, "events.yaml"))
    failures = [f"{r.expectation.describe()}: {r.observed}" for r in result.results
                if not r.passed]
    assert not failures, failures
    trace = result.world.env.trace
    downs = trace.select(category="link", name="link.down")
    assert [round(e.t) for e in downs] == [60]
    assert [round(e.t) for e in trace.select(category="link", name="link.up")] == [120]
    power = [(e.router, e.name, round(e.t)) for e in trace.select(category="power")
             if e.t > 0]
    assert ("ca", "off", 420) in power and ("ca", "on", 450) in power
    assert ("r2", "reload", 510) in power
    clock_events = [e.name for e in trace.select(router="r2", category="clock")]
    assert clock_events[:3] == ["jump", "unset", "set"]
    # Typed while r2 was still booting (45 s), the first `show clock` went nowhere.
    dropped = trace.select(router="r2", category="console", name="dropped")
    assert [round(e.t) for e in dropped] == [540]
    lines = transcript_lines(trace, "r2")
    assert lines[-1].startswith("04:") and lines[-1].endswith("Fri Feb 3 2006")


def test_link_change_sets_latency_and_loss_during_the_run() -> None:
    """A scenario's `link_change` event would not change the link's latency and loss, or routing
    would ignore it."""
    text = """\
name: link-change
description: a link slows down and gets lossy mid-run
duration: 3m
routers:
  a: {address: 10.0.0.1}
  b: {address: 10.0.0.2}
  c: {address: 10.0.0.3}
links:
  - {endpoints: [a, b], latency: 10ms}
  - {endpoints: [b, c], latency: 10ms}
  - {endpoints: [a, c], latency: 50ms}
events:
  - at: 1m
    link_change: {endpoints: [a, b], latency: 100ms, loss: 0.25}
"""
    scenario = load_scenario_text(text, "link-change.yaml")
    result = run_scenario(scenario)
    net = result.world.net
    assert net.link("a", "b").loss == 0.25
    assert net.link("a", "b").latency == 0.1
    # The slower a-b link is no longer on the shortest path from a to b.
    assert net.path("a", "b") == ["a", "c", "b"]
    changes = result.world.env.trace.select(category="link", name="link.change")
    assert [(round(e.t), e.data["loss"]) for e in changes] == [(60, 0.25)]


def test_link_change_needs_a_known_link() -> None:
    """A `link_change` on a link that doesn't exist would be silently accepted instead of an error
    with its line."""
    import pytest

    from sim.scenario.loader import ScenarioError

    text = """\
name: bad-change
description: d
duration: 1m
routers:
  a: {address: 10.0.0.1}
  b: {address: 10.0.0.2}
events:
  - at: 10s
    link_change: {endpoints: [a, b], loss: 0.5}
"""
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "bad.yaml")
    assert str(caught.value).startswith("bad.yaml:9: ")
    assert "no link between a and b" in str(caught.value)
