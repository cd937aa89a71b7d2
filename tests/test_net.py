"""The network layer as a user of pkilab sees it: paths, faults, HTTP outcomes, names."""

from __future__ import annotations

import json
import random
from collections.abc import Generator
from typing import Any

import networkx as nx
import pytest
import simpy

from sim.kernel.env import SimEnv
from sim.net import (
    HostTable,
    HttpFailure,
    HttpRequest,
    HttpResponse,
    HttpResult,
    Network,
    parse_request,
    parse_response,
    resolve,
)

GET_CA = HttpRequest.from_target(
    "GET",
    "/cgi-bin/pkiclient.exe?operation=GetCACert&message=sub",
    (("User-Agent", "Mozilla/4.0 (compatible; MSIE 5.0; Cisco PKI)"),),
)
OK = HttpResponse(200, "OK", (("Content-Type", "application/x-x509-ca-cert"),), b"\x30" * 507)


# -- helpers -------------------------------------------------------------------------
def line(env: SimEnv, *names: str, latency: float = 0.001) -> Network:
    net = Network(env)
    for i, name in enumerate(names, start=1):
        net.add_node(name, f"10.0.0.{i}")
    for a, b in zip(names, names[1:], strict=False):
        net.add_link(a, b, latency=latency)
    return net


def two_hops(env: SimEnv, loss: float = 0.0) -> Network:
    """client --0.25 s-- mid --0.125 s-- ca. Dyadic latencies so float sums are exact."""
    net = Network(env)
    net.add_node("client", "10.1.0.1")
    net.add_node("mid", "10.2.0.1")
    net.add_node("ca", "10.3.0.6")
    net.add_link("client", "mid", latency=0.25, loss=loss)
    net.add_link("mid", "ca", latency=0.125, loss=loss)
    return net


def serve_ok(request: HttpRequest) -> Generator[simpy.Event, Any, HttpResponse]:
    del request
    yield from ()
    return OK


def fetch(env: SimEnv, net: Network, dst: str = "10.3.0.6", timeout: float = 30.0) -> HttpResult:
    proc = net.http("client", dst, 80, GET_CA, timeout=timeout)
    env.run(until=proc)
    return proc.value


def names(env: SimEnv, name: str) -> list[dict[str, Any]]:
    return [e.data for e in env.trace.select(name=name)]


# -- topology and paths ----------------------------------------------------------------
def test_path_along_a_line() -> None:
    """Traffic along a chain of routers would take the wrong route or not reach the far end."""
    net = line(SimEnv(), "a", "b", "c", "d")
    assert net.path("a", "d") == ["a", "b", "c", "d"]
    assert net.path("d", "a") == ["d", "c", "b", "a"]
    assert net.path("b", "b") == ["b"]


def test_link_down_reroutes_then_partitions_and_up_restores() -> None:
    """After a link-down event, traffic would not reroute around it or would still cross a cut
    network, or the trace would miss link events."""
    env = SimEnv()
    net = Network(env)
    for i, name in enumerate("abcd", start=1):
        net.add_node(name, f"10.0.0.{i}")
    net.add_link("a", "b", latency=0.001)
    net.add_link("b", "d", latency=0.001)
    net.add_link("a", "c", latency=0.005)
    net.add_link("c", "d", latency=0.005)
    assert net.path("a", "d") == ["a", "b", "d"]
    generation = net.generation

    net.set_link_up("b", "a", False)  # either endpoint order names the link
    assert net.generation > generation
    assert net.path("a", "d") == ["a", "c", "d"]
    net.set_link_up("c", "d", False)
    assert net.path("a", "d") is None
    net.set_link_up("a", "b", True)
    assert net.path("a", "d") == ["a", "b", "d"]

    events = [(e.name, e.data["a"], e.data["b"]) for e in env.trace.select(category="link")]
    assert events == [("link.down", "a", "b"), ("link.down", "c", "d"), ("link.up", "a", "b")]
    assert not net.link("d", "c").up


def test_powered_off_router_neither_forwards_nor_is_reachable() -> None:
    """A powered-off router would still forward or answer traffic, or would stay unreachable after
    it is powered back on."""
    env = SimEnv()
    net = Network(env)
    for i, name in enumerate("abcd", start=1):
        net.add_node(name, f"10.0.0.{i}")
    net.add_link("a", "b")
    net.add_link("b", "d")
    net.add_link("a", "c", latency=0.002)
    net.add_link("c", "d", latency=0.002)
    net.set_node_up("b", False)
    assert net.path("a", "d") == ["a", "c", "d"]
    assert net.path("a", "b") is None
    assert net.path("b", "a") is None
    net.set_node_up("b", True)
    assert net.path("a", "d") == ["a", "b", "d"]
    assert [e.name for e in env.trace.select(category="node")] == ["node.down", "node.up"]


def test_duplicate_names_addresses_and_links_are_rejected() -> None:
    """A lab with two routers of one name or address, a duplicate link or a bad address would be
    accepted instead of refused."""
    net = Network(SimEnv())
    net.add_node("r1", "10.0.0.1")
    with pytest.raises(ValueError):
        net.add_node("r1", "10.0.0.2")
    with pytest.raises(ValueError):
        net.add_node("r2", "10.0.0.1")
    with pytest.raises(ValueError):
        net.add_node("r3", "10.0.0.300")
    net.add_node("r2", "10.0.0.2")
    net.add_link("r1", "r2")
    with pytest.raises(ValueError):
        net.add_link("r2", "r1")
    with pytest.raises(ValueError):
        net.add_link("r1", "r1")
    with pytest.raises(ValueError):
        net.link("r1", "r2").loss = 1.5
    assert net.node_for_address("10.0.0.2") == "r2"
    assert net.node_for_address("10.9.9.9") is None
    assert net.node_for_address("not-an-address") is None
    assert net.address_of("r1") == "10.0.0.1"


def test_paths_are_shortest_and_symmetric_on_random_graphs() -> None:
    """Cross-check the block-cut route table against networkx on graphs with failures."""
    rng = random.Random(7)
    for _ in range(15):
        net = Network(SimEnv())
        size = rng.randrange(5, 40)
        for i in range(size):
            net.add_node(f"r{i}", f"10.0.{i // 250}.{i % 250 + 1}")
        for i in range(1, size):  # a tree, plus chords making cycles of all sizes
            net.add_link(f"r{i}", f"r{rng.randrange(i)}", latency=rng.choice([0.001, 0.002]))
        for _ in range(size // 3):
            a, b = rng.sample(range(size), 2)
            if not net.graph.has_edge(f"r{a}", f"r{b}"):
                net.add_link(f"r{a}", f"r{b}", latency=rng.choice([0.001, 0.003]))
        for link in rng.sample(net.links, len(net.links) // 8):
            net.set_link_up(*link.endpoints, False)
        net.set_node_up(f"r{rng.randrange(size)}", False)
        up = nx.Graph()
        up.add_nodes_from(n for n in net if net.is_node_up(n))
        up.add_weighted_edges_from(
            (*lk.endpoints, lk.latency)
            for lk in net.links
            if lk.up and all(net.is_node_up(n) for n in lk.endpoints)
        )
        for _ in range(40):
            src, dst = (f"r{i}" for i in rng.sample(range(size), 2))
            got = net.path(src, dst)
            if src not in up or dst not in up or not nx.has_path(up, src, dst):
                assert got is None
                continue
            assert got is not None and got[0] == src and got[-1] == dst
            total = sum(net.link(a, b).latency for a, b in zip(got, got[1:], strict=False))
            assert total == pytest.approx(nx.dijkstra_path_length(up, src, dst))
            assert net.path(dst, src) == got[::-1]


# -- HTTP ----------------------------------------------------------------------------
def test_http_success_takes_two_round_trips() -> None:
    """A SCEP request over HTTP would take the wrong simulated time (connect plus exchange), or its
    trace events would be missing."""
    env = SimEnv()
    net = two_hops(env)
    net.listen("ca", 80, serve_ok)
    result = fetch(env, net)
    assert result.ok and result.failure is None
    assert result.response == OK
    one_way = 0.25 + 0.125
    assert result.connected_after == 2 * one_way  # SYN, SYN-ACK
    assert result.elapsed == 4 * one_way  # + request, response
    assert names(env, "http.request") == [
        {
            "conn": 1,
            "src": "client",
            "dst": "10.3.0.6",
            "port": 80,
            "method": "GET",
            "target": "/cgi-bin/pkiclient.exe?operation=GetCACert&message=sub",
        }
    ]
    assert names(env, "http.serve")[0]["client"] == "10.1.0.1"
    assert names(env, "http.response") == [{"conn": 1, "status": 200, "bytes": 507, "elapsed": 1.5}]
    for event in env.trace:
        json.dumps(event.data)  # JSON-serialisable without help


def test_server_processing_time_adds_to_elapsed_and_plain_handlers_work() -> None:
    """Time the CA spends answering would not count toward the elapsed time of an HTTP request."""
    env = SimEnv()
    net = two_hops(env)

    def slow(request: HttpRequest) -> Generator[simpy.Event, Any, HttpResponse]:
        yield env.timeout(2.5)
        return HttpResponse(200, "OK", body=request.query.encode())

    net.listen("ca", 80, slow)
    assert fetch(env, net).elapsed == 1.5 + 2.5
    net.unlisten("ca", 80)
    net.listen("ca", 80, lambda request: OK)
    assert fetch(env, net).response == OK


def test_nothing_listening_is_refused_after_one_round_trip() -> None:
    """Enrolling with a router that has no `ip http server` would not fail as connection refused
    after one round trip."""
    env = SimEnv()
    net = two_hops(env)
    result = fetch(env, net)
    assert result.failure is HttpFailure.REFUSED and result.response is None
    assert result.elapsed == 0.75
    assert names(env, "http.failure") == [{"conn": 1, "kind": "refused", "elapsed": 0.75}]
    net.listen("ca", 80, serve_ok)
    with pytest.raises(ValueError):
        net.listen("ca", 80, serve_ok)


def _down_at(env: SimEnv, net: Network, at: float, link: tuple[str, str], up_at: float | None):
    def flap() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(at)
        net.set_link_up(*link, False)
        if up_at is not None:
            yield env.timeout(up_at - at)
            net.set_link_up(*link, True)

    env.process(flap())


def test_link_down_while_request_in_flight_times_out() -> None:
    """A link going down while a request is in flight would not end in a timeout, or the trace would
    not show where it was lost."""
    env = SimEnv()
    net = two_hops(env)
    net.listen("ca", 80, serve_ok)
    # The request leaves at 0.75, is on mid--ca during [1.0, 1.125].
    _down_at(env, net, 1.05, ("mid", "ca"), None)
    result = fetch(env, net, timeout=5.0)
    assert result.failure is HttpFailure.TIMEOUT
    assert result.elapsed == 5.0
    assert result.connected_after == 0.75
    lost = names(env, "packet.lost")
    assert lost[0] == {
        "conn": 1,
        "segment": "REQUEST",
        "link": "mid--ca",
        "reason": "link-down",
    }
    assert {e["reason"] for e in lost[1:]} == {"no-route"}  # the retransmissions


def test_retransmission_gets_through_once_the_link_is_repaired() -> None:
    """A request caught by a brief link outage would fail instead of getting through by
    retransmission once the link is back."""
    env = SimEnv()
    net = two_hops(env)
    net.listen("ca", 80, serve_ok)
    _down_at(env, net, 1.05, ("mid", "ca"), up_at=1.5)
    result = fetch(env, net)
    # Retransmitted at 0.75 + RTO 1 s = 1.75, then one way each for request and response.
    assert result.ok
    assert result.elapsed == 1.75 + 0.375 + 0.375
    assert names(env, "packet.retransmit") == [{"conn": 1, "segment": "REQUEST", "attempt": 1}]


def test_partition_at_connect_time_is_no_route() -> None:
    """A request to a CA that is cut off from the client would not fail at once with no route."""
    env = SimEnv()
    net = two_hops(env)
    net.listen("ca", 80, serve_ok)
    net.set_link_up("client", "mid", False)
    result = fetch(env, net)
    assert result.failure is HttpFailure.NO_ROUTE
    assert result.elapsed == 0.0


def test_unknown_address_and_powered_off_server_are_black_holes() -> None:
    """An enrollment URL naming an unknown address or a powered-off CA would fail some other way
    than a timeout at the deadline."""
    env = SimEnv()
    net = two_hops(env)
    net.listen("ca", 80, serve_ok)
    assert fetch(env, net, dst="192.0.2.1", timeout=4.0).failure is HttpFailure.TIMEOUT
    net.set_node_up("ca", False)
    result = fetch(env, net, timeout=4.0)
    assert result.failure is HttpFailure.TIMEOUT and result.elapsed == 4.0


def test_total_loss_times_out_at_the_deadline_after_backoff() -> None:
    """On a link dropping every packet, retries would not back off 1, 2, 4 s, or the request would
    not time out at its deadline."""
    env = SimEnv()
    net = two_hops(env, loss=1.0)
    net.listen("ca", 80, serve_ok)
    result = fetch(env, net, timeout=10.0)
    assert result.failure is HttpFailure.TIMEOUT and result.elapsed == 10.0
    # SYN sent at 0, then retransmitted at 1, 3 and 7 s (RTO 1, 2, 4); the next would be 15.
    retransmits = env.trace.select(name="packet.retransmit")
    assert [e.t for e in retransmits] == [1.0, 3.0, 7.0]
    assert {e["reason"] for e in names(env, "packet.lost")} == {"loss"}


def test_slow_link_duplicates_are_served_once() -> None:
    """On a slow link, a retransmitted request would reach the CA twice and could file a duplicate
    enrollment."""
    env = SimEnv()
    net = Network(env)
    net.add_node("client", "10.1.0.1")
    net.add_node("ca", "10.3.0.6")
    net.add_link("client", "ca", latency=1.5)  # one way > initial RTO
    calls: list[str] = []

    def count(request: HttpRequest) -> HttpResponse:
        calls.append(request.target)
        return OK

    net.listen("ca", 80, count)
    result = fetch(env, net)
    assert result.ok and result.elapsed == 6.0
    assert calls == [GET_CA.target]


def _lossy_run(seed: int) -> tuple[list[HttpResult], str]:
    env = SimEnv(seed=seed)
    net = two_hops(env, loss=0.3)
    net.listen("ca", 80, serve_ok)
    procs = [net.http("client", "10.3.0.6", 80, GET_CA, timeout=120.0) for _ in range(5)]
    env.run(until=env.sim.all_of(procs))
    return [p.value for p in procs], env.trace.to_jsonl()


def test_moderate_loss_recovers_by_retransmission_and_is_deterministic() -> None:
    """On a lossy link, requests would fail instead of recovering, or the same seed would not give
    the same run."""
    results, trace = _lossy_run(seed=42)
    assert all(r.ok for r in results)
    assert '"packet.retransmit"' in trace and '"packet.lost"' in trace
    again, trace_again = _lossy_run(seed=42)
    assert again == results and trace_again == trace
    _, other = _lossy_run(seed=43)
    assert other != trace


# -- names ---------------------------------------------------------------------------
def test_resolution_literal_host_table_and_unknown() -> None:
    """An enrollment URL by host name would not resolve through `ip host` entries as IOS does, or a
    bad entry would be accepted."""
    table = HostTable()
    table.add("Root-CA", "10.3.0.6")
    by_name = resolve("root-ca", table)
    assert (by_name.address, by_name.source, by_name.literal) == ("10.3.0.6", "host-table", False)
    literal = resolve("10.3.0.6", table)
    assert (literal.address, literal.source, literal.literal) == ("10.3.0.6", "literal", True)
    unknown = resolve("sub-ca", table)
    assert (unknown.address, unknown.source, unknown.resolved) == (None, None, False)
    table.add("ROOT-CA", "10.3.0.7")  # a later `ip host` line replaces the entry
    assert table.lookup("root-ca") == "10.3.0.7" and len(table) == 1
    assert table.remove("Root-Ca") and resolve("root-ca", table).address is None
    with pytest.raises(ValueError):
        table.add("10.1.1.1", "10.1.1.1")
    with pytest.raises(ValueError):
        table.add("ca", "not-an-ip")


# -- wire form -----------------------------------------------------------------------
def test_request_bytes_match_the_ios_wire_form_and_round_trip() -> None:
    """The HTTP request bytes a router sends would differ from IOS's (HTTP/1.0, Cisco PKI user
    agent), or would not parse back."""
    raw = GET_CA.to_bytes()
    assert raw == (
        b"GET /cgi-bin/pkiclient.exe?operation=GetCACert&message=sub HTTP/1.0\r\n"
        b"User-Agent: Mozilla/4.0 (compatible; MSIE 5.0; Cisco PKI)\r\n\r\n"
    )
    assert parse_request(raw) == GET_CA
    post = HttpRequest(
        "POST",
        "/cgi-bin/pkiclient.exe",
        "operation=PKIOperation",
        (("Content-Length", "4"),),
        b"\x00\r\n\x01",
    )
    assert parse_request(post.to_bytes()) == post
    assert post.header("content-length") == "4"


def test_response_bytes_round_trip() -> None:
    """HTTP responses from the CA would not parse back to what was sent, or a malformed response
    would be accepted."""
    assert parse_response(OK.to_bytes()) == OK
    assert OK.to_bytes().startswith(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-x509-ca")
    not_found = HttpResponse(404, "Not Found", version="HTTP/1.0")
    assert parse_response(not_found.to_bytes()) == not_found
    for bad in (b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 2x0 OK\r\n\r\n", b"GET /\r\n\r\n"):
        with pytest.raises(ValueError):
            parse_response(bad)
    with pytest.raises(ValueError):
        parse_request(b"GET / HTTP/1.0\r\nContent-Length: 9\r\n\r\nshort")
