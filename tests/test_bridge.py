"""The outbound bridge (`sim.net.bridge`): a simulated address answered by a real server.

Real servers here are small Python servers bound to 127.0.0.1 (and, for the end-to-end
test, a simulated CA served on loopback by `LoopbackServer`), so these tests need neither
root nor micromdm; `test_bridge_scepserver.py` runs the real `scepserver`.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterator

import pytest
from cryptography import x509
from routerkit import Lab

from sim.kernel.env import SimEnv
from sim.kernel.transcript import transcript_lines
from sim.net import HttpFailure, HttpRequest, HttpResponse, HttpResult, Network
from sim.net.bridge import (
    LoopbackUrl,
    parse_loopback_url,
    real_request,
    real_target,
)
from sim.net.http import parse_request
from sim.net.loopback import LoopbackServer
from sim.pki import x509util
from sim.pki.cs_fsm import CsState
from sim.scenario.loader import ScenarioError, load_scenario_text
from sim.scenario.runner import run_scenario

SCEP_GET = HttpRequest.from_target(
    "GET", "/cgi-bin/pkiclient.exe?operation=GetCACert&message=tp",
    (("User-Agent", "Mozilla/4.0 (compatible; MSIE 5.0; Cisco PKI)"),))
SCEP_POST = HttpRequest.from_target(
    "POST", "/cgi-bin/pkiclient.exe?operation=PKIOperation",
    (("User-Agent", "Mozilla/4.0 (compatible; MSIE 5.0; Cisco PKI)"),
     ("Content-Type", "application/x-pki-message")), b"\x30\x03\x02\x01\x05")
ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/x-x509-ca-cert\r\n"
          b"Content-Length: 5\r\n\r\nhello")


# -- a real server on 127.0.0.1 -------------------------------------------------------
Behaviour = Callable[[socket.socket], None]


class RealServer:
    """A TCP server on 127.0.0.1 that records each request and answers by `behaviour`."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.requests: list[bytes] = []
        self.stop = threading.Event()
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner.requests.append(_read_request(self.request))
                behaviour(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> RealServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _read_request(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def answers(raw: bytes) -> Behaviour:
    def behaviour(sock: socket.socket) -> None:
        sock.sendall(raw)

    return behaviour


def silent(sock: socket.socket) -> None:
    """Say nothing until the bridge hangs up (or 5 s pass)."""
    sock.settimeout(5)
    try:
        sock.recv(1)
    except OSError:
        pass


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on (bound and released: the kernel refuses)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    yield port


def bridged(url: str, timeout: float = 2.0, latency: float = 0.25) -> tuple[SimEnv, Network]:
    """client --latency-- realca (10.9.9.9, bridged to `url`)."""
    env = SimEnv()
    net = Network(env)
    net.add_node("client", "10.1.0.1")
    net.add_bridge("realca", "10.9.9.9", url, timeout=timeout)
    net.add_link("client", "realca", latency=latency)
    return env, net


def fetch(env: SimEnv, net: Network, request: HttpRequest = SCEP_GET) -> HttpResult:
    proc = net.http("client", "10.9.9.9", 80, request, timeout=30.0)
    env.run(until=proc)
    result = proc.value
    assert isinstance(result, HttpResult)
    return result


def bridge_events(env: SimEnv) -> list[tuple[str, dict[str, object]]]:
    return [(e.name, e.data) for e in env.trace if e.category == "bridge"]


# -- the real URL -----------------------------------------------------------------------
@pytest.mark.parametrize(("url", "host", "port", "path"), [
    ("http://127.0.0.1:8080/scep", "127.0.0.1", 8080, "/scep"),
    ("http://127.1.2.3/", "127.1.2.3", 80, ""),
    ("HTTP://[::1]:9000/cgi-bin", "::1", 9000, "/cgi-bin"),
])
def test_loopback_urls_are_accepted(url: str, host: str, port: int, path: str) -> None:
    """A scenario's `bridge:` URL to a real SCEP server on this host (127.x or [::1], any port and
    path) would be rejected as invalid."""
    parsed = parse_loopback_url(url)
    assert (parsed.host, parsed.port, parsed.path) == (host, port, path)


@pytest.mark.parametrize(("url", "says"), [
    ("http://10.0.0.1:8080/scep", "not a loopback address"),
    ("http://0.0.0.0:8080/scep", "not a loopback address"),
    ("http://[::ffff:127.0.0.1]:8080/scep", "not a loopback address"),
    ("http://localhost:8080/scep", "names are not resolved"),
    ("https://127.0.0.1/scep", "not an http:// URL"),
    ("http://127.0.0.1:0/scep", "port must be a number"),
    ("http://127.0.0.1:99999/scep", "port must be a number"),
    ("http://user:pw@127.0.0.1/scep", "no user name or password"),
    ("http://127.0.0.1/scep?operation=GetCACert", "no query or fragment"),
    ("http://127.0.0.1/sc ep", "spaces or control characters"),
])
def test_anything_off_loopback_or_unusual_is_refused(url: str, says: str) -> None:
    """A bridge URL pointing off this host, at a name, at https, or carrying credentials or a query
    would be accepted instead of refused with a clear reason."""
    with pytest.raises(ValueError, match=says):
        parse_loopback_url(url)


def test_a_hand_made_url_off_loopback_is_refused_by_the_network_too() -> None:
    """Code building a lab by hand could bridge a simulated address to a real machine off this
    host."""
    net = Network(SimEnv())
    with pytest.raises(ValueError, match="not a loopback address"):
        net.add_bridge("x", "10.9.9.9", LoopbackUrl("192.0.2.1", 80, "", "http://192.0.2.1"))
    assert "x" not in net


def test_the_scep_path_maps_to_the_real_urls_path_and_keeps_the_query() -> None:
    """A real server such as micromdm's `/scep` would receive the wrong path, lose the SCEP
    operation query, or get a malformed POST."""
    micromdm = parse_loopback_url("http://127.0.0.1:8080/scep")
    other_pkilab = parse_loopback_url("http://127.0.0.1:8080")
    assert real_target(micromdm, SCEP_GET) == "/scep?operation=GetCACert&message=tp"
    assert real_target(other_pkilab, SCEP_GET) == SCEP_GET.target
    wire = parse_request(real_request(micromdm, SCEP_POST))
    assert (wire.method, wire.target, wire.version) == (
        "POST", "/scep?operation=PKIOperation", "HTTP/1.0")
    assert wire.header("Host") == "127.0.0.1:8080"
    assert wire.header("Content-Length") == "5"  # the simulated POST carries none
    assert wire.header("Content-Type") == "application/x-pki-message"
    assert wire.body == SCEP_POST.body


# -- exchanges --------------------------------------------------------------------------
def test_a_bridged_exchange_reaches_the_real_server_with_simulated_latency() -> None:
    """A router's SCEP request would not reach the real server intact, or the link latency and the
    `bridge.*` trace events would be wrong."""
    with RealServer(answers(ANSWER)) as server:
        env, net = bridged(server.url + "/scep")
        result = fetch(env, net, SCEP_POST)
    assert result.response is not None and result.failure is None
    assert (result.response.status, result.response.body) == (200, b"hello")
    assert result.response.header("Content-Type") == "application/x-x509-ca-cert"
    # SYN, SYN-ACK, request, response each cross the 0.25 s link; the real call costs
    # no simulated time.
    assert (result.connected_after, result.elapsed) == (0.5, 1.0)
    sent = parse_request(server.requests[0])
    assert (sent.method, sent.target, sent.version) == (
        "POST", "/scep?operation=PKIOperation", "HTTP/1.0")
    assert sent.body == SCEP_POST.body
    events = bridge_events(env)
    assert [name for name, _ in events] == ["bridge.connect", "bridge.request",
                                            "bridge.response"]
    assert events[0][1]["outcome"] == "open"
    assert events[1][1]["real_target"] == "/scep?operation=PKIOperation"
    assert events[2][1] == {"conn": 1, "url": server.url + "/scep", "status": 200,
                            "bytes": 5}


def test_an_answer_without_content_length_ends_when_the_server_closes() -> None:
    """A real server that answers GetCACaps without Content-Length would leave the router with an
    empty or truncated answer."""
    raw = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nSHA-1\nPOSTPKIOperation\n"
    with RealServer(answers(raw)) as server:
        env, net = bridged(server.url)
        result = fetch(env, net)
    assert result.response is not None
    assert result.response.body == b"SHA-1\nPOSTPKIOperation\n"


def test_a_refused_real_connection_is_a_simulated_refusal(closed_port: int) -> None:
    """When nothing listens on the real port, the router would not see a refused connection after
    one round trip."""
    env, net = bridged(f"http://127.0.0.1:{closed_port}/scep")
    result = fetch(env, net)
    assert result.failure is HttpFailure.REFUSED
    assert result.elapsed == 0.5  # the RST crossed the simulated link back
    assert bridge_events(env) == [("bridge.connect", {
        "conn": 1, "url": f"http://127.0.0.1:{closed_port}/scep", "outcome": "refused"})]


@pytest.mark.parametrize(("behaviour", "reason"), [
    (lambda sock: None, "the server closed the connection without answering"),
    (answers(b"garbage\r\n"), "the answer is not HTTP"),
    (answers(b"HTTP/1.0 200 OK\r\nContent-Length: 50\r\n\r\nshort"), "the answer is not HTTP"),
    (answers(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * (1 << 20)), "larger than 1048576 bytes"),
])
def test_a_broken_real_answer_times_the_simulated_client_out(
        behaviour: Behaviour, reason: str) -> None:
    """A real server that hangs up, sends garbage or floods megabytes would crash the lab or hand
    the router a bogus answer instead of a timeout."""
    with RealServer(behaviour) as server:
        env, net = bridged(server.url)
        result = fetch(env, net)
    assert result.failure is HttpFailure.TIMEOUT
    assert result.elapsed == 30.0  # the client waited out its own deadline
    assert result.connected_after == 0.5
    error = [data for name, data in bridge_events(env) if name == "bridge.error"]
    assert len(error) == 1 and reason in str(error[0]["reason"]), error


def test_a_request_that_would_smuggle_a_line_is_never_written() -> None:
    """A request with CR/LF in its URL could inject extra HTTP header lines into the real server's
    input."""
    smuggling = HttpRequest.from_target(
        "GET", "/cgi-bin/pkiclient.exe?operation=GetCACert&message=a\r\nX-Evil: 1")
    with RealServer(answers(ANSWER)) as server:
        env, net = bridged(server.url)
        result = fetch(env, net, smuggling)
    assert result.failure is HttpFailure.TIMEOUT
    assert all(b"X-Evil" not in raw for raw in server.requests), server.requests
    error = [data for name, data in bridge_events(env) if name == "bridge.error"]
    assert "space or control character" in str(error[0]["reason"])


def test_a_silent_real_server_is_given_up_after_the_bridge_timeout() -> None:
    """A real server that never answers would hang the lab instead of being abandoned after the
    bridge's `timeout:`."""
    with RealServer(silent) as server:
        env, net = bridged(server.url, timeout=0.3)
        result = fetch(env, net)
    assert result.failure is HttpFailure.TIMEOUT and result.elapsed == 30.0
    error = [data for name, data in bridge_events(env) if name == "bridge.error"]
    assert error[0]["reason"] == "no answer within 0.3s"


def test_a_simulated_partition_never_reaches_the_real_server() -> None:
    """Taking the simulated link down would not stop traffic: the real server would still get
    requests."""
    with RealServer(answers(ANSWER)) as server:
        env, net = bridged(server.url)
        net.set_link_up("client", "realca", False)
        result = fetch(env, net)
    assert result.failure is HttpFailure.NO_ROUTE
    assert server.requests == [] and bridge_events(env) == []


def test_a_bridged_port_cannot_also_be_listened_on() -> None:
    """A bridged address could also get a simulated listener, so it would be unclear which one
    answers."""
    env, net = bridged("http://127.0.0.1:8080/scep")
    with pytest.raises(ValueError, match="bridged to http://127.0.0.1:8080/scep"):
        net.listen("realca", 80, lambda request: HttpResponse(200, "OK"))


# -- routers through the bridge ---------------------------------------------------------
def test_a_router_prints_its_usual_lines_when_the_real_server_refuses(
        closed_port: int) -> None:
    """When the real CA refuses the connection, `crypto pki authenticate` would not print IOS's
    usual `connect to the CA failed` debug and `status = FAIL` lines."""
    lab = Lab()
    r1 = lab.router("r1", "10.0.0.2")
    lab.net.add_bridge("realca", "10.9.9.9", f"http://127.0.0.1:{closed_port}/scep")
    lab.net.add_link("r1", "realca", latency=0.005)
    out = lab.type(r1, "\n".join([
        "enable", "debug crypto pki transactions", "configure terminal",
        "crypto pki trustpoint realca", "enrollment url http://10.9.9.9", "exit",
        "crypto pki authenticate realca"]))
    text = "\n".join(out)
    assert "CRYPTO_PKI: connect to the CA failed: connection refused" in text
    assert "% Error in receiving Certificate Authority certificate: status = FAIL" in text


def test_a_router_and_a_sub_ca_enroll_with_a_simulated_ca_served_on_loopback() -> None:
    """The bridge's other use: a simulated CA of one lab (served as `pkilab serve` does)
    is the real server of another lab's bridge; the sub-CA gets a real CA certificate."""
    root_lab = Lab(seed=3)
    ca = root_lab.router("ca", "10.0.0.1", "ip http server")
    root_lab.type(ca, "\n".join(["enable", "configure terminal", "crypto pki server ca",
                                 "grant auto", "no shutdown", "end"]), ("cisco123", "cisco123"))
    root = ca.running.servers["ca"].ca_cert
    assert root is not None

    lab = Lab(seed=4)
    r1 = lab.router("r1", "10.0.0.2")
    sub = lab.router("sub", "10.0.0.3", "ip http server")
    with LoopbackServer(root_lab.env, ca.http_handler) as server:
        lab.net.add_bridge("root", "10.9.9.9", server.url)  # no path: /cgi-bin/... kept
        lab.net.add_link("r1", "root", latency=0.005)
        lab.net.add_link("sub", "root", latency=0.005)
        lab.type(r1, "\n".join([
            "enable", "configure terminal", "crypto pki trustpoint root",
            "enrollment url http://10.9.9.9", "exit", "crypto pki authenticate root",
            "crypto pki enroll root"]), ("yes", "pw", "pw", "no", "no", "yes"))
        lab.type(sub, "\n".join([
            "enable", "configure terminal", "crypto pki trustpoint sub",
            "enrollment url http://10.9.9.9", "exit", "crypto pki server sub",
            "mode sub-cs", "no shutdown"]), ("subpass12", "subpass12", "yes"))
        # A subordinate CA is never granted automatically: the root's operator grants it
        # while the subordinate polls (between two bridged exchanges, so the root's
        # simulation is not running).
        root_lab.type(ca, "crypto pki server ca grant all")
        lab.run(120)
    diagnosis = "\n".join(transcript_lines(lab.env.trace, "sub"))
    router_cert = r1.running.trustpoints["root"].id_cert
    assert router_cert is not None and x509util.verify_signature(router_cert,
                                                                  root.public_key())
    sub_cs = sub.running.servers["sub"]
    assert sub_cs.state is CsState.ENABLED, diagnosis
    sub_cert = sub_cs.ca_cert
    assert sub_cert is not None and x509util.verify_signature(sub_cert, root.public_key())
    constraints = sub_cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca
    served = [e.data["real_target"] for e in lab.env.trace.select(name="bridge.request")]
    assert served and all(t.startswith("/cgi-bin/pkiclient.exe?operation=") for t in served)


# -- scenario files ---------------------------------------------------------------------
SCENARIO = """\
name: bridged
description: A router enrolls with a real CA on loopback.
duration: 2m
routers:
  r1:
    address: 10.0.0.2
    config: hostname r1
bridge:
  realca:
    address: {address}
    url: {url}
    timeout: {timeout}
links:
  - {{endpoints: [r1, realca], latency: 5ms}}
events:
  - at: 5s
    router: {router}
    cli: enable
"""


def scenario(address: str = "10.9.9.9", url: str = "http://127.0.0.1:8080/scep",
             timeout: str = "5s", router: str = "r1") -> str:
    return SCENARIO.format(address=address, url=url, timeout=timeout, router=router)


def test_a_bridge_section_loads_into_the_model() -> None:
    """A scenario's `bridge:` section would load with the wrong address, URL, port, timeout or line
    number, or without its link."""
    loaded = load_scenario_text(scenario(), "bridged.yaml")
    (bridge,) = loaded.bridges
    assert (bridge.name, bridge.address, bridge.url, bridge.port, bridge.timeout,
            bridge.line) == ("realca", "10.9.9.9", "http://127.0.0.1:8080/scep", 80, 5.0, 9)
    assert loaded.link("r1", "realca") is not None


@pytest.mark.parametrize(("text", "says"), [
    (scenario(url="http://192.0.2.7:8080/scep"),
     "bridged.yaml:11: bridge.realca.url: 'http://192.0.2.7:8080/scep': 192.0.2.7 is not "
     "a loopback address (127.0.0.0/8 or ::1); a bridge only reaches servers on this host"),
    (scenario(url="http://localhost:8080/scep"), "bridged.yaml:11: bridge.realca.url: "),
    (scenario(address="10.0.0.2"),
     "bridged.yaml:10: bridge.realca.address: 10.0.0.2 is already the address of router r1"),
    (scenario(address="127.0.0.9"), "bridged.yaml:10: bridge.realca.address: 127.0.0.9 "
                                    "cannot be a router's address"),
    (scenario(timeout="10m"), "bridged.yaml:12: bridge.realca.timeout: must be above 0s "
                              "and at most 5m"),
    (scenario(router="realca"), "bridged.yaml:17: events[0]: 'realca' is a bridge to a "
                                "real server (line 9), not a simulated router"),
], ids=["off-loopback", "name", "taken-address", "loopback-address", "timeout", "as-router"])
def test_bad_bridges_are_refused_at_their_line(text: str, says: str) -> None:
    """A scenario author with a bad `bridge:` entry would not get an error naming the file, line and
    problem."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "bridged.yaml")
    assert str(caught.value).startswith(says), str(caught.value)


def test_a_scenario_runs_through_its_bridge() -> None:
    """Running a scenario with a `bridge:` section would not let its routers reach the real server,
    or the bridge would show up as a router."""
    with RealServer(answers(ANSWER)) as server:
        loaded = load_scenario_text(scenario(url=server.url + "/scep"), "bridged.yaml")
        result = run_scenario(loaded)
        net = result.world.net
        proc = net.http("r1", "10.9.9.9", 80, SCEP_GET)
        result.world.env.run(until=proc)
    answer = proc.value
    assert isinstance(answer, HttpResult)
    assert answer.response is not None and answer.response.body == b"hello"
    assert parse_request(server.requests[0]).target == "/scep?operation=GetCACert&message=tp"
    assert "realca" not in result.world.routers
