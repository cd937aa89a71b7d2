"""The loopback server (`sim.net.loopback`) under clients that misbehave, and the memory
bounds of a long-lived served lab (`sim.router.serving`, `Trace.retain`, `ArtifactLog`).

Everything binds and connects to 127.0.0.1 only. Bad framing is crafted on raw sockets;
timeouts are shortened through `ServerLimits` so that the whole file runs in seconds.
"""

from __future__ import annotations

import http.client
import random
import socket
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from routerkit import Lab

from sim.kernel.env import SimEnv
from sim.kernel.trace import Trace, TraceEvent
from sim.net.http import HttpRequest, HttpResponse, parse_response
from sim.net.loopback import LoopbackServer, ServerLimits
from sim.pki import scep, x509util
from sim.pki.scep_client import Enrollment
from sim.router.artifact_log import ArtifactLog, FolderSpill
from sim.router.router import Router
from sim.router.serving import serve_router

SCEP = "/cgi-bin/pkiclient.exe"
FAST = ServerLimits(io_timeout=0.5, request_deadline=1.0, max_body=4096, max_head=8192)


# -- helpers ---------------------------------------------------------------------------------
def read_all(sock: socket.socket, timeout: float = 10.0) -> bytes:
    """Everything the server sends until it closes (or `timeout` passes: the test fails)."""
    sock.settimeout(timeout)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def exchange(port: int, data: bytes, *, close_write: bool = False) -> HttpResponse:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        raw = read_all(sock)
    assert raw, "the server closed the connection without an answer"
    return parse_response(raw)


def nothing_received_yet(sock: socket.socket) -> bool:
    try:
        sock.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK)
    except BlockingIOError:
        return True
    return False


def echo_handler(env: SimEnv, seen: list[HttpRequest]
                 ) -> Callable[[HttpRequest], Generator[Any, Any, HttpResponse]]:
    """A simulated server that takes a simulated second and says how big the body was."""

    def handler(request: HttpRequest) -> Generator[Any, Any, HttpResponse]:
        seen.append(request)
        yield env.timeout(1.0)
        return HttpResponse(200, "OK", (("Content-Type", "text/plain"),),
                            f"{request.method} {len(request.body)}".encode())

    return handler


def get(port: int, target: str = "/") -> HttpResponse:
    return exchange(port, f"GET {target} HTTP/1.0\r\nHost: x\r\n\r\n".encode())


def post_head(length: str, extra: str = "") -> bytes:
    return (f"POST {SCEP}?operation=PKIOperation HTTP/1.0\r\nHost: x\r\n"
            f"Content-Length: {length}\r\n{extra}\r\n").encode("latin-1")


@pytest.fixture
def echo() -> Generator[tuple[LoopbackServer, list[HttpRequest]], None, None]:
    env = SimEnv(1)
    seen: list[HttpRequest] = []
    with LoopbackServer(env, echo_handler(env, seen), limits=FAST) as server:
        yield server, seen


def enabled_ca() -> tuple[Lab, Router]:
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    lab.type(ca, "enable\nconfigure terminal\ncrypto pki server ca\ngrant auto\nno shutdown\nend",
             ("cisco123", "cisco123"))
    assert ca.running.servers["ca"].ca_cert is not None
    return lab, ca


def pkcs_req(lab: Lab, ca: Router, name: str) -> Enrollment:
    ca_cert = ca.running.servers["ca"].ca_cert
    assert ca_cert is not None
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name}.lab")])
    return Enrollment("tp", lab.keys.get(name, 1024), subject, ca_cert, scep.RFC_8894,
                      random.Random(name).randbytes, lab.env.true_time())


def scep_post(port: int, body: bytes) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", f"{SCEP}?operation=PKIOperation", body=body,
                           headers={"Content-Type": scep.CONTENT_TYPES["pki"]})
        reply = connection.getresponse()
        return reply.status, reply.read()
    finally:
        connection.close()


def scep_get(port: int, operation: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", f"{SCEP}?operation={operation}&message=ca")
        reply = connection.getresponse()
        return reply.status, reply.read()
    finally:
        connection.close()


# -- the case: misbehaving clients while another is served ---------------------------
def test_slow_client_bad_framing_and_oversized_body_while_another_client_enrolls(
        capfd: pytest.CaptureFixture[str]) -> None:
    """A slow or malformed HTTP client at a served router would block a real SCEP client from
    enrolling, or reach the router."""
    lab, ca = enabled_ca()
    seen: list[HttpRequest] = []

    def recording(request: HttpRequest) -> Generator[Any, Any, HttpResponse]:
        seen.append(request)
        return (yield from ca.http_handler(request))

    enrollment = pkcs_req(lab, ca, "good-client")
    request = enrollment.pkcs_req(lab.env.true_time())
    limits = ServerLimits(io_timeout=3.0, request_deadline=3.0)
    with LoopbackServer(lab.env, recording, limits=limits) as server, \
            socket.create_connection(("127.0.0.1", server.port)) as slow_body, \
            socket.create_connection(("127.0.0.1", server.port)) as slow_head:
        # The reproduction: a million bytes announced, three sent.
        slow_body.sendall(post_head("1000000") + b"abc")
        slow_head.sendall(f"GET {SCEP}?operation=GetCACert&message=ca HTTP/1.0\r\nHo".encode())

        bad = [exchange(server.port, post_head("abc") + b"abc"),
               exchange(server.port, post_head("-5") + b"abc"),
               exchange(server.port, post_head("5000000") + b"x" * 10_000)]
        assert [(r.status, r.reason) for r in bad] == [
            (400, "Bad Request"), (400, "Bad Request"), (413, "Request Entity Too Large")]
        assert b"bad Content-Length 'abc'" in bad[0].body
        assert b"bad Content-Length '-5'" in bad[1].body

        status, ca_der = scep_get(server.port, "GetCACert")
        assert status == 200 and ca_der == x509util.cert_der(enrollment.ca_cert)
        status, body = scep_post(server.port, request)
        assert status == 200
        # The good client got its certificate while both slow clients were still waiting.
        assert nothing_received_yet(slow_body) and nothing_received_yet(slow_head)

        late = [parse_response(read_all(slow_body)), parse_response(read_all(slow_head))]
        assert [r.status for r in late] == [408, 408]

    outcome = enrollment.on_cert_rep(body)
    assert outcome.status is scep.PkiStatus.SUCCESS and outcome.certificate is not None
    assert [r.method for r in seen] == ["GET", "POST"]  # nothing else reached the simulation
    assert server.counts() == {"200": 2, "400": 2, "413": 1, "408": 2}
    refused = [e.data["outcome"] for e in lab.env.trace.select(category="loopback")]
    assert sorted(refused) == ["400", "400", "408", "408", "413"]
    assert capfd.readouterr().err == ""


# -- framing ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("request_bytes", "status", "says"), [
    (post_head("abc") + b"abc", 400, b"bad Content-Length"),
    (post_head("-5") + b"abc", 400, b"bad Content-Length"),
    (post_head("+3") + b"abc", 400, b"bad Content-Length"),
    (post_head("\xb2") + b"ab", 400, b"bad Content-Length"),  # a digit, but not ASCII
    (post_head("3", "Content-Length: 4\r\n") + b"abcd", 400, b"conflicting"),
    (post_head("4097") + b"x" * 4097, 413, b"limit of 4096"),
    (post_head("9" * 5000), 413, b"limit of 4096"),
    (b"POST / HTTP/1.0\r\n\r\nabc", 411, b"needs a Content-Length"),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 411,
     b"chunked"),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc", 501,
     b"'gzip'"),
    (b"PUT / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", 501, b"'PUT'"),
    (b"hello\r\n\r\n", 400, b"Bad request syntax"),
    (b"\r\n", 400, b"empty request line"),
    (b"GET /\r\n", 400, b"HTTP/0.9"),
    (b"GET / HTTP/2.0\r\n\r\n", 505, b"Invalid HTTP version"),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.0\r\n\r\n", 414, b"request line too long"),
    (b"GET / HTTP/1.0\r\n" + b"X-Pad: " + b"p" * 9000 + b"\r\n\r\n", 431, b"too large"),
    (b"GET / HTTP/1.0\r\n" + b"X: y\r\n" * 101 + b"\r\n", 431, b"Too many headers"),
], ids=["letters", "negative", "plus-sign", "non-ascii-digit", "conflicting", "over-limit",
        "5000-digits", "post-without-length", "chunked", "gzip", "put", "garbage-line",
        "empty-line", "http-0.9", "http-2", "long-request-line", "long-header", "101-headers"])
def test_bad_framing_is_answered_and_never_reaches_the_simulation(
        echo: tuple[LoopbackServer, list[HttpRequest]], request_bytes: bytes, status: int,
        says: bytes) -> None:
    """A malformed HTTP request to a served router would get no proper error, reach the simulated
    router, or stop the server."""
    server, seen = echo
    reply = exchange(server.port, request_bytes)
    assert reply.status == status, reply
    assert says in reply.body, reply.body
    assert reply.header("Connection") == "close"
    assert seen == []
    assert get(server.port).body == b"GET 0"  # and the server goes on serving


def test_a_body_shorter_than_announced_is_a_bad_request(
        echo: tuple[LoopbackServer, list[HttpRequest]]) -> None:
    """A request whose body ends early would be passed to the served router truncated instead of
    answered 400."""
    server, seen = echo
    reply = exchange(server.port, post_head("10") + b"abc", close_write=True)
    assert reply.status == 400 and b"body ended after 3 of 10 bytes" in reply.body
    assert seen == []


def test_a_body_at_the_limit_is_served_whole(
        echo: tuple[LoopbackServer, list[HttpRequest]]) -> None:
    """A SCEP POST exactly at the size limit would be refused or cut short by the served router."""
    server, seen = echo
    reply = exchange(server.port, post_head("4096") + bytes(range(256)) * 16)
    assert (reply.status, reply.body) == (200, b"POST 4096")
    assert seen[0].body == bytes(range(256)) * 16


# -- slow and silent clients -----------------------------------------------------------------
def test_a_silent_client_gets_408_after_the_idle_timeout(
        echo: tuple[LoopbackServer, list[HttpRequest]]) -> None:
    """A client that connects and sends nothing would hold a served router's connection forever
    instead of getting 408."""
    server, _seen = echo
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        reply = parse_response(read_all(sock))
    assert reply.status == 408


def test_a_client_trickling_its_headers_is_cut_off_at_the_request_deadline(
        echo: tuple[LoopbackServer, list[HttpRequest]]) -> None:
    """Slowloris: one byte every 0.2 s never trips the 0.5 s idle timeout; the 1 s
    deadline for the whole request does."""
    server, seen = echo
    head = b"GET / HTTP/1.0\r\n" + b"X-Slow: " + b"s" * 10_000
    stop = threading.Event()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:

        def trickle() -> None:
            for byte in head:
                if stop.wait(0.2):
                    return
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    return

        sender = threading.Thread(target=trickle)
        sender.start()
        try:
            reply = parse_response(read_all(sock, timeout=5.0))
        finally:
            stop.set()
            sender.join()
    assert reply.status == 408
    assert seen == []


# -- failures of the simulated side and of the client ---------------------------------------
def test_a_handler_exception_is_a_500_and_the_server_goes_on(
        capfd: pytest.CaptureFixture[str]) -> None:
    """A bug inside the simulation would kill the served router's HTTP server or print to stderr
    instead of answering 500."""
    env = SimEnv(1)

    def handler(request: HttpRequest) -> Generator[Any, Any, HttpResponse]:
        yield env.timeout(0.1)
        if request.path == "/crash":
            raise KeyError("simulated bug")
        return HttpResponse(200, "OK", (), b"fine")

    with LoopbackServer(env, handler, limits=FAST) as server:
        crashed = get(server.port, "/crash")
        fine = get(server.port, "/ok")
    assert crashed.status == 500 and fine.body == b"fine"
    errors = env.trace.select(category="loopback", name="handler.error")
    assert len(errors) == 1 and "simulated bug" in errors[0].data["error"]
    assert capfd.readouterr().err == ""


def test_a_simulated_server_that_never_answers_gives_504_within_the_simulated_deadline() -> None:
    """A real client asking a simulated router that never answers would hang instead of getting a
    504."""
    env = SimEnv(1)

    def never(_request: HttpRequest) -> Generator[Any, Any, HttpResponse]:
        yield env.event()  # never triggered
        return HttpResponse(200, "OK")

    def tick() -> Generator[Any, Any, None]:
        while True:  # a periodic timer, as routers have: the queue is never empty
            yield env.timeout(10.0)

    env.process(tick())
    limits = ServerLimits(io_timeout=0.5, request_deadline=1.0, simulated_deadline=60.0)
    with LoopbackServer(env, never, limits=limits) as server:
        reply = get(server.port)
    assert reply.status == 504
    assert env.now <= 60.0


def test_a_client_that_leaves_mid_answer_is_recorded_quietly(
        capfd: pytest.CaptureFixture[str]) -> None:
    """A client that hangs up mid-answer would crash the served router or spew an error instead of
    being counted."""
    env = SimEnv(1)
    client_gone = threading.Event()

    def slow_big(_request: HttpRequest) -> HttpResponse:
        client_gone.wait(5)
        return HttpResponse(200, "OK", (), b"x" * (8 << 20))

    with LoopbackServer(env, slow_big, limits=FAST) as server:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        # Close with a reset, so that the server's write fails at once.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
        client_gone.set()
        deadline = time.monotonic() + 5
        while "disconnected" not in server.counts() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert get(server.port).status == 200
    assert server.counts()["disconnected"] == 1
    assert capfd.readouterr().err == ""


def test_connections_above_the_limit_are_answered_503() -> None:
    """Too many connections at once would exhaust a served router instead of the extra ones getting
    503."""
    env = SimEnv(1)
    seen: list[HttpRequest] = []
    limits = ServerLimits(io_timeout=2.0, request_deadline=2.0, max_connections=2)
    with LoopbackServer(env, echo_handler(env, seen), limits=limits) as server, \
            socket.create_connection(("127.0.0.1", server.port)) as first, \
            socket.create_connection(("127.0.0.1", server.port)) as second:
        third = get(server.port)
        assert third.status == 503 and b"too many connections" in third.body
        first.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert parse_response(read_all(first)).status == 200
        assert nothing_received_yet(second)


# -- bounded memory for a long-lived lab -----------------------------------------------------
def test_a_served_router_keeps_only_the_last_artifacts_and_trace_events(tmp_path: Path) -> None:
    """A router served for a long time would grow its artifacts and trace without bound, or lose
    dropped artifacts."""
    lab, ca = enabled_ca()
    recorded_before = ca.artifacts.recorded
    emitted_before = lab.env.trace.emitted
    spilled = tmp_path / "spilled"
    with serve_router(ca, keep_artifacts=6, keep_trace=50, spill_dir=spilled,
                      limits=FAST) as server:
        for index in range(4):
            assert scep_get(server.port, "GetCACert")[0] == 200
            der = pkcs_req(lab, ca, f"client{index}").pkcs_req(lab.env.true_time())
            assert scep_post(server.port, der)[0] == 200

    names = [name for name, _data in ca.artifacts]
    assert len(names) == 6
    assert ca.artifacts.recorded > recorded_before + 6
    assert ca.artifacts.dropped == ca.artifacts.recorded - 6
    assert names[-1].startswith(f"{ca.artifacts.recorded:04d}-")  # numbering goes on
    assert names[-1].endswith("-sent-CertRep-SUCCESS.der")
    # The dropped ones are on disk under their own names, readable.
    on_disk = sorted(path.name for path in spilled.iterdir())
    assert len(on_disk) == ca.artifacts.dropped
    assert on_disk[-1].startswith(f"{ca.artifacts.recorded - 6:04d}-")
    received = [p for p in spilled.iterdir() if p.name.endswith("-received-PKCSReq.der")]
    assert len(received) >= 1
    assert scep.parse_pki_message(received[0].read_bytes()).transaction_id

    trace = lab.env.trace
    assert len(trace) == 50 and trace.emitted > emitted_before
    assert [e.seq for e in trace] == list(range(trace.emitted - 50, trace.emitted))


def test_trace_retention_keeps_the_last_events_and_counts_the_rest() -> None:
    """A long-served lab would keep every trace event in memory, or subscribers would miss events
    that were dropped."""
    trace = Trace()
    seen: list[TraceEvent] = []
    trace.subscribe(seen.append)
    for n in range(5):
        trace.emit(float(n), None, "c", "e", n=n)
    assert [e.seq for e in trace] == [0, 1, 2, 3, 4] and trace.dropped == 0
    trace.retain(3)
    trace.emit(5.0, None, "c", "e", n=5)
    assert [e.data["n"] for e in trace] == [3, 4, 5]
    assert (len(trace), trace.emitted, trace.dropped) == (3, 6, 3)
    assert [e.seq for e in seen] == [0, 1, 2, 3, 4, 5]  # subscribers see every event
    assert trace.to_jsonl().count("\n") == 3
    with pytest.raises(ValueError, match="0 or more"):
        trace.retain(-1)


def test_artifact_retention_spills_what_it_drops_and_refuses_to_write_outside(
        tmp_path: Path) -> None:
    """Artifacts dropped from memory would be lost, or a crafted name could write them outside the
    spill folder."""
    log = ArtifactLog()
    assert log.record("a.pem", b"A") == "0001-a.pem"
    spilled: list[tuple[str, bytes]] = []
    log.retain(1, lambda name, data: spilled.append((name, data)))
    log.record("b.pem", b"B")
    assert list(log) == [("0002-b.pem", b"B")] and spilled == [("0001-a.pem", b"A")]
    log.retain(0, lambda name, data: spilled.append((name, data)))
    log.record("c.pem", b"C")
    assert list(log) == [] and spilled[-2:] == [("0002-b.pem", b"B"), ("0003-c.pem", b"C")]
    assert (log.recorded, log.dropped) == (3, 3)

    inside = tmp_path / "spill"
    write = FolderSpill(inside)
    write("0004-x.pem", b"X")
    write("0005-../../escaped.pem", b"E")
    write("0006-tp/../../escaped.pem", b"E")
    write("..", b"E")
    assert [p.name for p in inside.iterdir()] == ["0004-x.pem"]
    assert not list(tmp_path.rglob("*escaped*"))
    assert (write.written, write.refused, write.failed) == (1, 3, 0)
    (inside / "0007-dir.pem").mkdir()  # a write that fails is counted, never raised
    write("0007-dir.pem", b"D")
    assert write.failed == 1
