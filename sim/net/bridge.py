"""The outbound bridge: a simulated address whose HTTP is answered by a real server on loopback.

A scenario's `bridge:` section names a pseudo-node with a simulated address (say
10.9.9.9), linked into the topology like any router, and a real URL on this host's
loopback (say `http://127.0.0.1:8080/scep`, micromdm's `scepserver`). A simulated router
whose trustpoint says `enrollment url http://10.9.9.9` then enrolls with the real CA.

Theory of operation. The simulated exchange (`sim.net.transport`) runs as for any
router: each segment crosses the simulated links between the router and the bridge node,
with their latency and loss. Only at the bridge node does the real world come in:

- When the SYN reaches the bridge node, the bridge opens a real TCP connection to the
  real server. Refused: the simulated client gets a RST (`HttpFailure.REFUSED`, and the
  router prints its usual "connection refused" line). No connection within `timeout`
  host seconds, or any other socket error: the bridge answers nothing, and the simulated
  client's own deadline ends the exchange (`HttpFailure.TIMEOUT`).
- When the request reaches the bridge node, it is written on that connection and the
  answer read back; the answer crosses the simulated links back to the router. An answer
  that does not come within `timeout` host seconds, that is larger than
  `MAX_RESPONSE_BYTES`, or that is not HTTP is never delivered: the simulated client times
  out, as a client reading a broken answer waits out its timer.

The real call blocks the simulation while it runs (the simulation is single-threaded) and
costs no simulated time: the simulated exchange takes the link latencies only, so a
bridged run stays as fast as the real server. Every real connection and exchange is
traced (category `bridge`) with the real URL and what came back, or why nothing did.

The wire. The bridge speaks HTTP/1.0, as IOS does: the request line says HTTP/1.0, a
`Host` header names the real server, a body gets its `Content-Length` (the simulated
client's POST carries none: its segments need no framing, a real server's stream does),
and the answer ends at its `Content-Length` or when the server closes the connection
(HTTP/1.0 has no chunked answers).

Path mapping. IOS appends `/cgi-bin/pkiclient.exe` to the enrollment URL (RFC 8894's
recommended SCEPPATH), while a real CA serves SCEP wherever it likes (micromdm: `/scep`
only, 404 elsewhere). The rule: when the real URL has a path, every request to the bridge
goes to that path, with the simulated request's query string (`operation=...&message=...`)
unchanged; when it has none (`http://127.0.0.1:8080`), the simulated path is kept, which
is what another `pkilab serve` (a simulated CA on loopback) expects. So
`GET /cgi-bin/pkiclient.exe?operation=GetCACert&message=tp` bridged to
`http://127.0.0.1:8080/scep` becomes `GET /scep?operation=GetCACert&message=tp`.

Only loopback is ever reached: the URL must name 127.0.0.0/8 or ::1 by address (names are
never resolved), checked when the bridge is made. Host time is read here
(`time.monotonic`) on purpose: the deadlines protect the simulation from a real peer, not
simulated time.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from sim.kernel.env import SimEnv
from sim.net.http import HttpRequest, HttpResponse, parse_response

DEFAULT_TIMEOUT = 10.0
"""Host seconds to connect to the real server, and as long again for its answer."""

MAX_TIMEOUT = 300.0
"""The longest `timeout` a bridge accepts: the simulation stands still while it waits."""

MAX_RESPONSE_BYTES = 1 << 20
"""The largest answer read (status line, headers and body): SCEP messages are a few KB,
a CA chain a few tens of KB."""

_READ_CHUNK = 65536
_HOP_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding"})
"""Request headers the bridge writes itself (or, for the last two, never sends)."""


@dataclass(frozen=True)
class LoopbackUrl:
    """A checked real URL: `http://<loopback address>[:port][/path]`.

    `path` is "" when the URL has none, which keeps the simulated request's path.
    """

    host: str
    port: int
    path: str
    text: str

    @property
    def netloc(self) -> str:
        """`host:port` as the `Host` header writes it (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_loopback_url(text: str) -> LoopbackUrl:
    """Check a bridge's real URL; ValueError with a sentence saying what is wrong.

    Only `http://` to an address in 127.0.0.0/8 or to ::1, written as an address: a host
    name could resolve anywhere, and a bridge must never send a packet off this host.
    """
    stripped = text.strip()
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in stripped):
        raise ValueError(f"{text!r} is not a URL (it holds spaces or control characters)")
    parts = urlsplit(stripped)
    if parts.scheme.lower() != "http":
        raise ValueError(f"{text!r} is not an http:// URL (e.g. http://127.0.0.1:8080/scep)")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{text!r}: a bridge URL carries no user name or password")
    if parts.query or parts.fragment or stripped.endswith(("?", "#")):
        raise ValueError(f"{text!r}: a bridge URL has no query or fragment; the simulated "
                         "request brings its own query")
    host = parts.hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"{text!r}: the host must be a loopback address such as 127.0.0.1 or [::1] "
            f"({host or 'no host'!r} is not an address; names are not resolved)") from None
    if not address.is_loopback:
        raise ValueError(f"{text!r}: {address} is not a loopback address (127.0.0.0/8 or "
                         "::1); a bridge only reaches servers on this host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535") from None
    if port == 0:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
    path = parts.path
    return LoopbackUrl(str(address), port or 80, "" if path in ("", "/") else path, stripped)


def real_target(url: LoopbackUrl, request: HttpRequest) -> str:
    """The request target sent to the real server (see "Path mapping" above)."""
    path = url.path or request.path
    return f"{path}?{request.query}" if request.query else path


def real_request(url: LoopbackUrl, request: HttpRequest) -> bytes:
    """The HTTP/1.0 bytes written to the real server for a simulated `request`.

    ValueError for a request line or header that a space or control character would break
    (what a simulated console typed must not smuggle a second line to a real server)."""
    fields = [request.method, request.target, *(x for pair in request.headers for x in pair)]
    if any(ord(c) < 0x20 or ord(c) == 0x7F for text in fields for c in text) or \
            any(" " in text for text in fields[:2]):
        raise ValueError("the request line or a header holds a space or control character")
    headers = [("Host", url.netloc)]
    headers += [(k, v) for k, v in request.headers if k.lower() not in _HOP_HEADERS]
    if request.body or request.method.upper() == "POST":
        headers.append(("Content-Length", str(len(request.body))))
    path, _, query = real_target(url, request).partition("?")
    wire = HttpRequest(request.method, path, query, tuple(headers), request.body, "HTTP/1.0")
    return wire.to_bytes()


class ConnectOutcome(StrEnum):
    """What the SYN at the bridge node meets; the values appear in the trace."""

    OPEN = "open"  # the real server accepted: SYN-ACK
    REFUSED = "refused"  # nothing listens on the real port: RST
    NO_ANSWER = "no-answer"  # timed out or failed otherwise: the simulated SYN goes unanswered


class BridgeError(Exception):
    """A real exchange produced no usable answer; `str()` says why (for the trace)."""


class Bridge:
    """The real side of one bridged simulated address and port."""

    def __init__(self, env: SimEnv, node: str, port: int, url: LoopbackUrl,
                 timeout: float = DEFAULT_TIMEOUT,
                 max_response: int = MAX_RESPONSE_BYTES) -> None:
        if not 0 < timeout <= MAX_TIMEOUT:
            raise ValueError(f"bridge {node}: timeout must be above 0 and at most "
                             f"{MAX_TIMEOUT:g} seconds, got {timeout}")
        if not ipaddress.ip_address(url.host).is_loopback:  # a LoopbackUrl made by hand
            raise ValueError(f"bridge {node}: {url.host} is not a loopback address")
        self.env = env
        self.node = node
        self.port = port
        self.url = url
        self.timeout = timeout
        self.max_response = max_response

    def connect(self, conn: int) -> tuple[ConnectOutcome, BridgeConnection | None]:
        """Open the real TCP connection for simulated connection `conn` (blocks)."""
        family = socket.AF_INET6 if ":" in self.url.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect((self.url.host, self.url.port))
        except ConnectionRefusedError:
            sock.close()
            self._trace("bridge.connect", conn, outcome=ConnectOutcome.REFUSED.value)
            return ConnectOutcome.REFUSED, None
        except OSError as exc:
            sock.close()
            reason = _reason(exc, self.timeout)
            self._trace("bridge.connect", conn, outcome=ConnectOutcome.NO_ANSWER.value,
                        reason=reason)
            return ConnectOutcome.NO_ANSWER, None
        self._trace("bridge.connect", conn, outcome=ConnectOutcome.OPEN.value)
        return ConnectOutcome.OPEN, BridgeConnection(self, conn, sock)

    def _trace(self, name: str, conn: int, **data: object) -> None:
        self.env.emit(self.node, "bridge", name, conn=conn, url=self.url.text, **data)


class BridgeConnection:
    """One open real connection; `exchange` sends the request and reads the answer."""

    def __init__(self, bridge: Bridge, conn: int, sock: socket.socket) -> None:
        self._bridge = bridge
        self._conn = conn
        self._sock: socket.socket | None = sock

    def exchange(self, request: HttpRequest) -> HttpResponse | None:
        """The real server's answer, or None (traced) when there is no usable one."""
        bridge = self._bridge
        target = real_target(bridge.url, request)
        bridge._trace("bridge.request", self._conn, method=request.method,
                      target=request.target, real_target=target)
        try:
            response = self._exchange(request)
        except BridgeError as exc:
            bridge._trace("bridge.error", self._conn, reason=str(exc))
            return None
        finally:
            self.close()
        bridge._trace("bridge.response", self._conn, status=response.status,
                      bytes=len(response.body))
        return response

    def close(self) -> None:
        """Close the real connection (idempotent)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _exchange(self, request: HttpRequest) -> HttpResponse:
        sock = self._sock
        if sock is None:
            raise BridgeError("the connection was already closed")
        try:
            wire = real_request(self._bridge.url, request)
        except ValueError as exc:
            raise BridgeError(str(exc)) from None
        limit = self._bridge.max_response
        timeout = self._bridge.timeout
        deadline = time.monotonic() + timeout
        try:
            sock.settimeout(timeout)
            sock.sendall(wire)
            received = bytearray()
            while not _complete(received):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                sock.settimeout(remaining)
                chunk = sock.recv(_READ_CHUNK)
                if not chunk:
                    break
                received += chunk
                if len(received) > limit:
                    raise BridgeError(f"the answer is larger than {limit} bytes")
        except OSError as exc:
            raise BridgeError(_reason(exc, timeout)) from None
        if not received:
            raise BridgeError("the server closed the connection without answering")
        try:
            response = parse_response(bytes(received))
        except ValueError as exc:
            raise BridgeError(f"the answer is not HTTP: {exc}") from None
        if response.header("Transfer-Encoding") is not None:
            raise BridgeError("a Transfer-Encoding in the answer to an HTTP/1.0 request")
        return response


def _complete(received: bytearray) -> bool:
    """Whether the answer is whole by its Content-Length (else it ends at close)."""
    head_end = received.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    for line in bytes(received[:head_end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return len(received) - head_end - 4 >= int(value.strip())
    return False


def _reason(exc: OSError, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g}s"
    return exc.strerror or type(exc).__name__
