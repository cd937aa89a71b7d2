"""The callback-driven transport keeps the order of events the process-based one had.

`sim.net.transport` used to run the server's accept and serve, each HTTP handler, and
every retransmission wait (a timeout against the segment's arrival) as simpy processes
and conditions. It now uses callbacks, reserved timeouts and lightweight processes
(`sim.kernel.hops`), which must leave everything observable where it was: every trace
event at the same time in the same order, the same answers, the same random draws. The
reference below is that transport as it was; random lossy traffic (losses, links going
down, a router powered off, latencies around the retransmission timeout, exchanges
started in the same instant, handlers that take time and handlers that do not) runs on
both and is compared.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest
import simpy
from simpy.events import URGENT

import sim.net.topology as topology
from sim.kernel.env import SimEnv
from sim.kernel.first_of import first_of
from sim.kernel.hops import LightProcess, ReservedTimeout, call_soon
from sim.kernel.process import SimProcess
from sim.net.http import HttpFailure, HttpHandler, HttpRequest, HttpResponse, HttpResult
from sim.net.link import CarryOutcome
from sim.net.topology import Network
from sim.net.transport import INITIAL_RTO, SEGMENT_OVERHEAD, Exchange, Segment


class ReferenceExchange(Exchange):
    """The exchange as it was: processes for the server's side, a timeout and a condition
    for every retransmission wait, a process start for every transmission."""

    def run(self) -> SimProcess[HttpResult]:
        env = self._env
        env.emit(self.src, "net", "http.request", conn=self.conn_id, src=self.src,
                 dst=self.dst_address, port=self.port, method=self.request.method,
                 target=self.request.target)
        server = self.server
        if server is not None and self._net.is_node_up(server):
            if self._net.route(self.src, server) is None:
                return self._fail(HttpFailure.NO_ROUTE)
        deadline = env.timeout(self._timeout)
        syn_arrived = env.event()
        reply = env.event()
        _OldSender(self, self.src, server, Segment.SYN, SEGMENT_OVERHEAD, syn_arrived,
                   spawned=True)
        env.process(self._old_accept(syn_arrived, reply))
        yield first_of(env, reply, deadline)
        if not reply.triggered:
            return self._fail(HttpFailure.TIMEOUT)
        if reply.value is None:
            return self._fail(HttpFailure.REFUSED)
        handler = reply.value
        connected_after = env.now - self.start
        env.emit(self.src, "net", "http.connected", conn=self.conn_id, elapsed=connected_after)
        request_arrived = env.event()
        response_arrived = env.event()
        _OldSender(self, self.src, server, Segment.REQUEST, len(self.request.to_bytes()),
                   request_arrived, spawned=True)
        env.process(self._old_serve(handler, request_arrived, response_arrived))
        yield first_of(env, response_arrived, deadline)
        if not response_arrived.triggered:
            return self._fail(HttpFailure.TIMEOUT, connected_after)
        response = response_arrived.value
        self._close()
        elapsed = env.now - self.start
        env.emit(self.src, "net", "http.response", conn=self.conn_id, status=response.status,
                 bytes=len(response.body), elapsed=elapsed)
        return HttpResult(response, None, elapsed, connected_after)

    def _old_accept(self, syn_arrived: simpy.Event, reply: simpy.Event) -> SimProcess[None]:
        yield syn_arrived
        if self.server is None:
            return
        handler = self._net.listener(self.server, self.port)
        kind = Segment.RST if handler is None else Segment.SYN_ACK
        _OldSender(self, self.server, self.src, kind, SEGMENT_OVERHEAD, reply, handler)

    def _old_serve(self, handler: HttpHandler, request_arrived: simpy.Event,
                   response_arrived: simpy.Event) -> SimProcess[None]:
        yield request_arrived
        if self.server is None:
            return
        self._env.emit(self.server, "net", "http.serve", conn=self.conn_id,
                       client=self._net.address_of(self.src), method=self.request.method,
                       target=self.request.target)
        outcome = handler(self.request)
        if isinstance(outcome, HttpResponse):
            response = outcome
        else:
            response = yield self._env.process(outcome)
        _OldSender(self, self.server, self.src, Segment.RESPONSE, len(response.to_bytes()),
                   response_arrived, response)


class _OldSender:
    def __init__(self, exchange: Exchange, sender: str, receiver: str | None, kind: Segment,
                 size: int, arrived: simpy.Event, value: Any = None, *,
                 spawned: bool = False) -> None:
        self.ex, self.sender, self.receiver, self.kind = exchange, sender, receiver, kind
        self.size, self.arrived, self.value = size, arrived, value
        self.rto = INITIAL_RTO
        self.attempt = 0
        if spawned:
            call_soon(exchange._env.sim, self.round, URGENT)
        else:
            self.round(None)

    def round(self, _event: simpy.Event | None) -> None:
        ex = self.ex
        env = ex._env
        if self.arrived.triggered or ex.closed:
            return
        remaining = ex.deadline - env.now
        if remaining <= 0:
            return
        if self.attempt:
            env.emit(self.sender, "net", "packet.retransmit", conn=ex.conn_id,
                     segment=self.kind.value, attempt=self.attempt)
        _OldTransmission(self)
        self.attempt += 1
        wait = first_of(env, self.arrived, env.timeout(min(self.rto, remaining)))
        self.rto *= 2
        wait.callbacks.append(self.round)


class _OldTransmission:
    def __init__(self, segment: _OldSender) -> None:
        self.segment = segment
        self.hops: Iterator[tuple[str, str]] = iter(())
        call_soon(segment.ex._env.sim, self.start, URGENT)

    def start(self, _event: simpy.Event) -> None:
        seg = self.segment
        net = seg.ex._net
        if not net.is_node_up(seg.sender):
            seg.ex._lost(seg.sender, seg.kind, None, "node-down")
            return
        if seg.receiver is None:
            seg.ex._lost(seg.sender, seg.kind, None, "unknown-address")
            return
        path = net.route(seg.sender, seg.receiver)
        if path is None:
            reason = "no-route" if net.is_node_up(seg.receiver) else "node-down"
            seg.ex._lost(seg.sender, seg.kind, None, reason)
            return
        self.hops = pairwise(path)
        self.next_hop()

    def next_hop(self) -> None:
        seg = self.segment
        ex = seg.ex
        for here, there in self.hops:
            link = ex._net.link(here, there)
            entered = link.enter(seg.size)
            if entered is None:
                ex._lost(here, seg.kind, link.name, CarryOutcome.LINK_DOWN.value)
                return

            def out(_event: simpy.Event, link: Any = link, here: str = here,
                    there: str = there, entered: tuple[bool, int] = entered) -> None:
                outcome = link.leave(entered)
                if outcome is not CarryOutcome.DELIVERED:
                    ex._lost(here, seg.kind, link.name, outcome.value)
                elif not ex._net.is_node_up(there):
                    ex._lost(here, seg.kind, link.name, "node-down")
                else:
                    self.next_hop()

            ex._env.timeout(link.latency).callbacks.append(out)
            return
        if not seg.arrived.triggered and not ex.closed:
            seg.arrived.succeed(seg.value)


def _traffic(seed: int, reference: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[Any]]:
    """Random traffic on a small network; the trace and every exchange's outcome."""
    monkeypatch.setattr(topology, "Exchange", ReferenceExchange if reference else Exchange)
    rng = random.Random(seed)
    env = SimEnv(seed=seed)
    net = Network(env)
    for i, name in enumerate(("c1", "c2", "c3", "mid", "ca")):
        net.add_node(name, f"10.0.0.{i + 1}")
    net.add_link("c1", "mid", latency=rng.choice((0.001, 0.25, 0.5)))
    net.add_link("c2", "mid", latency=rng.choice((0.5, 1.0, 1.2)), loss=rng.choice((0.0, 0.3)))
    net.add_link("c3", "mid", latency=rng.choice((0.0, 2.5)))
    net.add_link("mid", "ca", latency=rng.choice((0.25, 0.5)), loss=rng.choice((0.0, 0.2, 0.5)))
    net.add_link("c1", "ca", latency=rng.choice((0.5, 3.0)), loss=0.1)

    def slow(request: HttpRequest) -> SimProcess[HttpResponse]:
        env.emit("ca", "test", "handler.start", target=request.target)
        # Some outlive a 3 s deadline; some wait for an event that is not a timeout.
        wait = rng.choice((0.0, 0.02, 0.5, 1.0, 2.5, 4.0, -1.0))
        if wait >= 0:
            yield env.timeout(wait)
        else:
            gate = env.event()
            env.timeout(rng.choice((0.5, 3.5))).callbacks.append(lambda _e: gate.succeed())
            yield gate
        env.emit("ca", "test", "handler.end", target=request.target)
        return HttpResponse(200, "OK", body=request.target.encode())

    def quick(request: HttpRequest) -> HttpResponse:
        env.emit("ca", "test", "quick", target=request.target)
        return HttpResponse(200, "OK")

    net.listen("ca", 80, slow)
    net.listen("ca", 81, quick)
    net.listen("c2", 80, quick)
    exchanges: list[simpy.Process] = []

    def echo(name: str, k: int, depth: int) -> SimProcess[None]:
        # Processes started in the same instant as an exchange: their starts are urgent
        # events that a transmission's start must not overtake.
        env.emit(name, "test", "echo", k=k, depth=depth)
        if depth:
            env.process(echo(name, k, depth - 1))
        yield env.timeout(0)
        env.emit(name, "test", "echoed", k=k, depth=depth)

    def client(name: str, n: int) -> SimProcess[None]:
        for k in range(n):
            yield env.timeout(rng.choice((0.0, 0.5, 1.0, 2.0)))
            address, port = rng.choice((("10.0.0.5", 80), ("10.0.0.5", 81), ("10.0.0.5", 82),
                                        ("10.0.0.2", 80), ("10.9.9.9", 80)))
            request = HttpRequest("GET", f"/{name}/{k}")
            process = net.http(name, address, port, request, timeout=rng.choice((3.0, 30.0)))
            exchanges.append(process)
            env.emit(name, "test", "started", k=k)
            env.process(echo(name, k, 2))

    def weather() -> SimProcess[None]:
        for _ in range(6):
            yield env.timeout(rng.choice((0.5, 1.0, 1.5)))
            what = rng.random()
            if what < 0.4:
                a, b = rng.choice((("c1", "mid"), ("mid", "ca"), ("c2", "mid")))
                net.set_link_up(a, b, not net.link(a, b).up)
            elif what < 0.6:
                net.set_node_up("mid", not net.is_node_up("mid"))
            elif what < 0.8:
                net.set_link_params("c1", "mid", latency=rng.choice((0.001, 0.5, 1.0)))
            env.emit(None, "test", "tick", what=round(what, 3))

    for name in ("c1", "c2", "c3", "c1"):
        env.process(client(name, 4))
    env.process(weather())
    env.run(until=200)
    outcomes = [(p.value.ok, p.value.failure, p.value.elapsed) if p.processed else None
                for p in exchanges]
    return env.trace.to_jsonl() + repr(env.rng.random()), outcomes


@pytest.mark.parametrize("seed", range(12))
def test_transport_matches_the_process_based_one(seed: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A lossy, flapping network would run differently (events in another order, another
    retransmission, another random draw) than before the transport lost its processes:
    a scenario's trace, transcripts and golden files would change."""
    new_trace, new_outcomes = _traffic(seed, False, monkeypatch)
    old_trace, old_outcomes = _traffic(seed, True, monkeypatch)
    assert new_outcomes == old_outcomes
    assert new_trace == old_trace
    assert '"packet.retransmit"' in new_trace or seed % 3  # most seeds lose something


def test_reserved_timeout_fires_where_a_timeout_would() -> None:
    """A reserved timeout filled later would fire out of place among timeouts due at the
    same time (a retransmission before or after another router's event)."""
    def order(reserved: bool) -> list[str]:
        env = simpy.Environment()
        log: list[str] = []
        env.timeout(2).callbacks.append(lambda _e: log.append("before"))
        if reserved:
            timer = ReservedTimeout(env, 2, lambda _e: log.append("timer"))
        else:
            env.timeout(2).callbacks.append(lambda _e: log.append("timer"))
        env.timeout(2).callbacks.append(lambda _e: log.append("after"))
        if reserved:
            env.timeout(1).callbacks.append(lambda _e: timer.fill())
        env.run()
        return log

    assert order(True) == order(False) == ["before", "timer", "after"]


def test_reserved_timeout_refuses_a_place_already_passed() -> None:
    """Filling a reserved timeout at its own time could fire it after events that were to
    follow it; that mistake would silently reorder a run."""
    env = simpy.Environment()
    timer = ReservedTimeout(env, 1, lambda _e: None)
    env.run(until=1)
    with pytest.raises(RuntimeError):
        timer.fill()


def test_light_process_resumes_as_a_process_would() -> None:
    """A handler run without a process object would see its waits end in another order
    than a simpy process (its answer before or after another router's event)."""
    def order(light: bool) -> list[str]:
        env = simpy.Environment()
        log: list[str] = []

        def body(name: str) -> SimProcess[str]:
            log.append(f"{name} start")
            yield env.timeout(1)
            done = env.event()
            done.succeed("x")
            yield env.timeout(0)
            value = yield done
            log.append(f"{name} woke {value}")
            return name

        def other() -> SimProcess[None]:
            log.append("other start")
            yield env.timeout(1)
            log.append("other woke")

        def starter(last: bool) -> SimProcess[None]:
            yield env.timeout(0.5)
            env.process(other())  # its start is due before the body's
            if light:
                LightProcess(env, body("b"), lambda value: log.append(f"done {value}"),
                             last=last)
            else:
                env.process(body("b")).callbacks.append(
                    lambda e: log.append(f"done {e.value}"))

        env.process(other())
        env.process(starter(False))
        env.process(starter(True))
        env.process(other())
        env.run()
        return log

    assert order(True) == order(False)


def _slow_server(reference: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[Any]]:
    """Clean links, a server whose handlers wait (a timeout or an event) around the
    client's deadline, and timers of other routers due at that very instant."""
    monkeypatch.setattr(topology, "Exchange", ReferenceExchange if reference else Exchange)
    env = SimEnv(seed=1)
    net = Network(env)
    net.add_node("c", "10.0.0.1")
    net.add_node("ca", "10.0.0.2")
    net.add_link("c", "ca", latency=0.25)
    waits = iter([0.5, 2.5, 2.4, 1.5, 1.0, -1.5, -0.5, -3.0, 5.0, 0.0])

    def handler(request: HttpRequest) -> SimProcess[HttpResponse]:
        wait = next(waits)
        if wait >= 0:
            yield env.timeout(wait)
        else:  # an event that is not a timeout, set off later
            gate = env.event()
            env.timeout(-wait).callbacks.append(lambda _e: gate.succeed())
            yield gate
        env.emit("ca", "test", "handler.end", target=request.target)
        return HttpResponse(200, "OK", body=request.target.encode())

    net.listen("ca", 80, handler)
    exchanges: list[simpy.Process] = []

    def client() -> SimProcess[None]:
        for k in range(10):
            exchanges.append(net.http("c", "10.0.0.2", 80, HttpRequest("GET", f"/{k}"),
                                      timeout=3.0))
            # Another router's timer due at the exchange's deadline, made after it.
            env.timeout(3.0).callbacks.append(
                lambda _e, k=k: env.emit("c", "test", "other", k=k))
            yield env.timeout(4.0)

    env.process(client())
    env.run(until=100)
    outcomes = [(p.value.ok, p.value.failure, p.value.elapsed) for p in exchanges]
    return env.trace.to_jsonl(), outcomes


def test_deadline_inside_a_slow_handler_falls_where_it_did(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An exchange's deadline is put in simpy's queue only when the exchange may still be
    open then; a handler that outlives it (waiting for a timeout or another event) would
    otherwise be answered instead of timing out, or its timeout would come after another
    router's timer due at the same instant: a CA that answers slowly would look fast."""
    new_trace, new_outcomes = _slow_server(False, monkeypatch)
    old_trace, old_outcomes = _slow_server(True, monkeypatch)
    assert new_outcomes == old_outcomes
    assert new_trace == old_trace
    assert any(outcome[1] is not None for outcome in new_outcomes)  # some timed out
    assert any(outcome[1] is None for outcome in new_outcomes)
