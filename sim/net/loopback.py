"""Serve a simulated router's HTTP server on a real socket bound to 127.0.0.1.

Real peers (micromdm's `scepclient`, curl, a browser) can then talk to a simulated
certificate server. Each real request is carried into the simulation: the handler runs
as a simpy process and the simulation advances until it answers, so the simulated
router spends its usual simulated time on the request while the real client waits only
for the host to compute it.

Theory of operation. Each connection gets its own thread, which reads and checks one
request (HTTP/1.0: one request per connection) under a per-read idle timeout and a
deadline for the whole request, so a slow or silent client holds only its own thread.
Only a request that is complete and well framed enters the simulation, and only one at a
time: the simulation step runs under a lock, which keeps the simulation single-threaded.
The answer is written outside the lock. What the server refuses, and why (RFC 9112 and
RFC 9110 wording):

- 400 Bad Request: a Content-Length that is not `1*DIGIT`, or several that differ
  ("If a message is received without Transfer-Encoding and with an invalid Content-Length
  header field, then the message framing is invalid and the recipient MUST treat it as
  an unrecoverable error ... the server MUST respond with a 400 (Bad Request) status code
  and then close the connection", RFC 9112 6.3); a body shorter than announced; a
  malformed request line (`http.server`'s own checks).
- 408 Request Timeout: the request was not received within the deadline or a read
  waited longer than the idle timeout ("the server did not receive a complete request
  message within the time that it was prepared to wait", RFC 9110 15.5.9).
- 411 Length Required: a POST without Content-Length, or with `Transfer-Encoding:
  chunked` ("A server MAY reject a request that contains a message body but not a
  Content-Length by responding with 411 (Length Required)", RFC 9112 6.3). SCEP clients
  send Content-Length; supporting chunked bodies would be code no peer needs.
- 413 Content Too Large: a body above `max_body` (SCEP messages are a few KB), refused
  from the header alone, before any of it is read.
- 414 / 431: a request line or header block above `max_head`, or more than 100 header
  lines (`http.server`'s limit).
- 501 Not Implemented: a method other than GET and POST, or a transfer coding other than
  chunked ("A server that receives a request message with a transfer coding it does not
  understand SHOULD respond with 501 (Not Implemented)", RFC 9112 6.1).
- 500 Internal Server Error: the simulated handler raised; the server goes on serving.
- 503 Service Unavailable: `max_connections` connections are already open, or the server
  is closing.
- 504 Gateway Timeout: the simulated router had not answered after `simulated_deadline`
  simulated seconds (its process goes on in the simulation; nobody waits for it).

Refusals, handler errors and clients that vanish mid-answer are counted (`counts()`)
and traced (category `loopback`), never printed. The server keeps no per-request state:
what the simulated routers keep (artifacts, the trace) is bounded by whoever runs the lab
for long (`sim.router.serving.serve_router` does it for one router).

Only the loopback address is ever bound: this is a lab tool, not a server. Host time is
read here (`time.monotonic`) on purpose: these deadlines protect the host, not the
simulation.
"""

from __future__ import annotations

import io
import socket
import socketserver
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import simpy

from sim.kernel.env import SimEnv
from sim.kernel.live import LiveClock
from sim.kernel.process import SimProcess
from sim.net.http import HttpRequest, HttpResponse

LOOPBACK = "127.0.0.1"

SimHandler = Callable[[HttpRequest], SimProcess[HttpResponse] | HttpResponse]

_DROPPED_HEADERS = frozenset({"date", "server", "content-length", "connection"})
"""Response headers this server writes itself (http.server adds Date and Server)."""

DETAIL_CHARS = 200
"""A refusal quotes at most this much of what it refuses (http.server quotes whole lines)."""

POLL_SECONDS = 0.05
"""How often the accepting loop looks for `shutdown`: what closing the server waits."""

LINGER_SECONDS = 1.0
"""After a refusal sent before the body was read, how long unread input is drained so
that closing does not reset the connection before the client reads the answer."""


@dataclass(frozen=True)
class ServerLimits:
    """How long and how much the server waits for and accepts from one client."""

    io_timeout: float = 10.0
    """Seconds one read or write may wait for the peer."""
    request_deadline: float = 30.0
    """Seconds from accepting a connection to having read its whole request (a client
    trickling a byte at a time stays under `io_timeout` but not under this)."""
    max_body: int = 1 << 20
    """Largest request body accepted, in bytes."""
    max_head: int = 64 << 10
    """Largest request line plus header block, in bytes (a GET carries the whole SCEP
    message base64-encoded in its query)."""
    max_connections: int = 32
    """Connections served at once; one more is answered 503 at once."""
    simulated_deadline: float = 600.0
    """Simulated seconds the simulated router may take to answer."""

    def __post_init__(self) -> None:
        for name in ("io_timeout", "request_deadline", "simulated_deadline"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)}")
        for name in ("max_body", "max_head", "max_connections"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")


class _Refused(Exception):
    """A request the server answers with an error status instead of serving it."""

    def __init__(self, status: HTTPStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class _RequestReader(io.RawIOBase):
    """The socket's input under the request's deadline and, while the head is read, a
    byte budget (`http.server` alone allows 100 header lines of 64 KiB each)."""

    def __init__(self, sock: socket.socket, limits: ServerLimits) -> None:
        super().__init__()
        self._sock = sock
        self._idle = limits.io_timeout
        self._deadline = time.monotonic() + limits.request_deadline
        self.head_budget: int | None = limits.max_head

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("request not received within the deadline")
        view = memoryview(buffer)
        if self.head_budget is not None:
            if self.head_budget <= 0:
                raise _Refused(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                               "request head too large")
            view = view[: self.head_budget]
        self._sock.settimeout(min(self._idle, remaining))
        count = self._sock.recv_into(view)
        if self.head_budget is not None:
            self.head_budget -= count
        return count


class LoopbackServer:
    """`with LoopbackServer(env, handler, limits=ServerLimits(...)) as server: ... server.url`

    `handler` is the simulated server (e.g. `Router.http_handler`); `port` 0 picks a free
    one. Leaving the `with` block returns once no simulation step runs any more.
    """

    def __init__(self, env: SimEnv, handler: SimHandler, port: int = 0,
                 limits: ServerLimits | None = None, live: LiveClock | None = None) -> None:
        self._env = env
        self._handler = handler
        self.limits = limits or ServerLimits()
        self._live = live
        """With a live clock, a request's simulated time passes in host time too: the
        client waits as long as the router would take (see `sim.kernel.live`)."""
        self._sim_lock: threading.Lock | threading.RLock = (
            live.lock if live is not None else threading.Lock())
        self._state = threading.Condition()
        self._active = 0
        self._closing = False
        self._counts: Counter[str] = Counter()
        self._httpd = _Httpd(self, (LOOPBACK, port), self._request_class())
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        args=(POLL_SECONDS,), daemon=True,
                                        name=f"loopback-{self.port}")

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        """Stop accepting, let open connections finish (each is bounded by the limits),
        and return only when no simulation step runs: the caller owns the lab again."""
        with self._state:
            self._closing = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        limits = self.limits
        with self._state:
            self._state.wait_for(lambda: self._active == 0,
                                 timeout=limits.request_deadline + 2 * limits.io_timeout)
        with self._sim_lock:
            pass

    def counts(self) -> dict[str, int]:
        """How connections ended: the status code of each answer sent ("200", "413",
        ...), `timeout` and `disconnected` for clients that went silent or away while
        being answered, `error` for a failure of the server itself."""
        with self._state:
            return dict(self._counts)

    # -- the simulation step ------------------------------------------------------------
    def serve(self, request: HttpRequest) -> HttpResponse:
        """Run one request through the simulation and return its response (500, 503 or
        504 when the simulation cannot answer; never raises)."""
        if self._live is not None:
            return self._serve_live(self._live, request)
        with self._sim_lock:
            if self._closing:
                return _text(HTTPStatus.SERVICE_UNAVAILABLE, "server closing")
            try:
                return self._step(request)
            except Exception as error:  # a bug or a crashed simulated process: answer 500
                self._env.emit(None, "loopback", "handler.error", method=request.method,
                               target=request.target[:200], error=repr(error)[:500])
                return _text(HTTPStatus.INTERNAL_SERVER_ERROR,
                             "the simulated server failed to answer")

    def _serve_live(self, live: LiveClock, request: HttpRequest) -> HttpResponse:
        """The request's process runs as the live clock moves; this thread waits for it
        without holding the simulation."""
        with self._sim_lock:
            if self._closing:
                return _text(HTTPStatus.SERVICE_UNAVAILABLE, "server closing")
            outcome = self._handler(request)
            if isinstance(outcome, HttpResponse):
                return outcome
            # A failure must end this request, not the clock thread that runs the process.
            process = self._env.process(_failure_as_value(outcome))
        host_deadline = self.limits.simulated_deadline / live.speed + 1.0
        answered = live.wait(process, host_deadline)
        with self._sim_lock:
            try:
                return self._result(request, process, answered)
            except Exception as error:  # a bug or a crashed simulated process: answer 500
                self._env.emit(None, "loopback", "handler.error", method=request.method,
                               target=request.target[:200], error=repr(error)[:500])
                return _text(HTTPStatus.INTERNAL_SERVER_ERROR,
                             "the simulated server failed to answer")

    def _step(self, request: HttpRequest) -> HttpResponse:
        outcome = self._handler(request)
        if isinstance(outcome, HttpResponse):
            return outcome
        process = self._env.process(outcome)
        # Step rather than run(until=...) with a deadline event: a deadline timeout left
        # scheduled per request would pile up in the event queue of a long-lived lab.
        sim = self._env.sim
        limit = self._env.now + self.limits.simulated_deadline
        while not process.triggered and sim.peek() <= limit:
            sim.step()
        return self._result(request, process, process.triggered)

    def _result(self, request: HttpRequest, process: simpy.Process, answered: bool
                ) -> HttpResponse:
        """The response `process` produced, or 504 when it did not answer in time."""
        if answered and process.triggered and not process.ok:
            process.defused = True  # raised here, not again when simpy processes it
            error = process.value
            raise error if isinstance(error, BaseException) else RuntimeError(repr(error))
        if not (answered and process.triggered):
            self._env.emit(None, "loopback", "handler.late", method=request.method,
                           target=request.target[:200])
            return _text(HTTPStatus.GATEWAY_TIMEOUT, "the simulated server did not answer")
        if isinstance(process.value, Exception):
            raise process.value
        if not isinstance(process.value, HttpResponse):
            raise TypeError(f"handler returned {type(process.value).__name__}, "
                            "not an HttpResponse")
        return process.value

    # -- connection bookkeeping (called from connection threads) ------------------------
    def _admit(self) -> bool:
        with self._state:
            if self._closing or self._active >= self.limits.max_connections:
                return False
            self._active += 1
            return True

    def _leave(self) -> None:
        with self._state:
            self._active -= 1
            self._state.notify_all()

    def _record(self, outcome: str, *, traced: bool = True, **data: Any) -> None:
        """Count how a connection ended and, unless the simulated router answered it (the
        router traces its own answers), trace it."""
        with self._state:
            self._counts[outcome] += 1
        if not traced:
            return
        with self._sim_lock:
            self._env.emit(None, "loopback", "connection", outcome=outcome, **data)

    def _request_class(self) -> type[BaseHTTPRequestHandler]:
        server = self
        limits = self.limits

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"
            timeout = limits.io_timeout
            _reader: _RequestReader
            _answered: bool = False

            def setup(self) -> None:
                super().setup()
                self.rfile.close()  # the socket's own reader: replaced, not used
                self._reader = _RequestReader(self.connection, limits)
                self.rfile = io.BufferedReader(self._reader)

            def handle(self) -> None:
                """One request per connection; every way it can end is recorded."""
                self.close_connection = True
                peer = f"{self.client_address[0]}:{self.client_address[1]}"
                try:
                    try:
                        self._handle()
                    except _Refused as refusal:
                        self.send_error(refusal.status, refusal.detail)
                except TimeoutError:
                    if self._answered:
                        server._record("timeout", peer=peer, during="answer")
                    else:
                        self._try_send_error(HTTPStatus.REQUEST_TIMEOUT,
                                             "request not received in time")
                except OSError as error:
                    server._record("disconnected", peer=peer, error=type(error).__name__)

            def _handle(self) -> None:
                self.raw_requestline = b""
                self.requestline = self.command = ""
                self.request_version = "HTTP/1.0"
                try:
                    self.raw_requestline = self.rfile.readline(limits.max_head + 1)
                except _Refused as refusal:
                    raise _Refused(HTTPStatus.REQUEST_URI_TOO_LONG,
                                   "request line too long") from refusal
                if not self.raw_requestline:
                    return  # connected and closed without a word: nothing to answer
                if len(self.raw_requestline) > limits.max_head:
                    raise _Refused(HTTPStatus.REQUEST_URI_TOO_LONG, "request line too long")
                if len(self.raw_requestline.split()) == 2:
                    # Checked before http.server, which would wait for headers that an
                    # HTTP/0.9 client never sends, and answer without a status line.
                    raise _Refused(HTTPStatus.BAD_REQUEST, "HTTP/0.9 requests are not served")
                if not self.parse_request():
                    if self._answered:
                        return  # http.server has answered (400, 431, 505)
                    raise _Refused(HTTPStatus.BAD_REQUEST, "empty request line")
                if self.command not in ("GET", "POST"):
                    raise _Refused(HTTPStatus.NOT_IMPLEMENTED,
                                   f"method {self.command!r} not supported")
                self._reader.head_budget = None
                body = self._read_body()
                request = HttpRequest.from_target(self.command, self.path,
                                                  tuple(self.headers.items()), body)
                self._answer(server.serve(request))

            def _read_body(self) -> bytes:
                codings = self.headers.get_all("Transfer-Encoding") or []
                if codings:
                    final = ",".join(codings).split(",")[-1].strip().lower()
                    if final == "chunked":
                        raise _Refused(HTTPStatus.LENGTH_REQUIRED,
                                       "chunked bodies are not accepted: send Content-Length")
                    raise _Refused(HTTPStatus.NOT_IMPLEMENTED,
                                   f"transfer coding {final!r} not supported")
                lengths = {value.strip() for value in self.headers.get_all("Content-Length")
                           or []}
                if not lengths:
                    if self.command == "POST":
                        raise _Refused(HTTPStatus.LENGTH_REQUIRED,
                                       "a POST needs a Content-Length")
                    return b""
                if len(lengths) > 1:
                    raise _Refused(HTTPStatus.BAD_REQUEST, "conflicting Content-Length values")
                text = lengths.pop()
                if not (text.isascii() and text.isdigit()):
                    raise _Refused(HTTPStatus.BAD_REQUEST, f"bad Content-Length {text[:40]!r}")
                # Compare digit counts first: int() of thousands of digits is slow, and
                # Python refuses more than 4300.
                digits = text.lstrip("0") or "0"
                if len(digits) > len(str(limits.max_body)) or int(digits) > limits.max_body:
                    raise _Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                   f"body above the limit of {limits.max_body} bytes")
                length = int(digits)
                body = self.rfile.read(length)
                if len(body) < length:
                    raise _Refused(HTTPStatus.BAD_REQUEST,
                                   f"body ended after {len(body)} of {length} bytes")
                return body

            def _answer(self, response: HttpResponse) -> None:
                self._answered = True
                self.connection.settimeout(limits.io_timeout)
                self.send_response(response.status, response.reason)
                for name, value in response.headers:
                    if name.lower() not in _DROPPED_HEADERS:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)
                self.wfile.flush()
                server._record(str(response.status), traced=False)

            def send_error(self, code: int, message: str | None = None,
                           explain: str | None = None) -> None:
                """A short text/plain answer, counted and traced; the connection closes."""
                status = HTTPStatus(code)
                detail = (message or status.phrase)[:DETAIL_CHARS]
                self._answered = True
                if self.request_version in ("", "HTTP/0.9"):
                    self.request_version = "HTTP/1.0"  # so that the status line is sent
                self.connection.settimeout(limits.io_timeout)
                body = f"{status.value} {status.phrase}: {detail}\n".encode("latin-1",
                                                                             "replace")
                self.send_response(status, status.phrase)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                server._record(str(status.value), detail=detail)
                if status is not HTTPStatus.REQUEST_TIMEOUT:
                    self._linger()

            def _try_send_error(self, status: HTTPStatus, detail: str) -> None:
                try:
                    self.send_error(status, detail)
                except OSError:
                    server._record("timeout", during="request")

            def _linger(self) -> None:
                """Half-close and drain what the client is still sending, for a bounded
                time and size: closing a socket with unread input resets the
                connection, and the client could lose the answer before reading it."""
                try:
                    self.connection.shutdown(socket.SHUT_WR)
                    give_up = time.monotonic() + min(LINGER_SECONDS, limits.io_timeout)
                    budget = limits.max_body + limits.max_head
                    while budget > 0:
                        remaining = give_up - time.monotonic()
                        if remaining <= 0:
                            break
                        self.connection.settimeout(remaining)
                        chunk = self.connection.recv(min(budget, 65536))
                        if not chunk:
                            break
                        budget -= len(chunk)
                except OSError:
                    pass  # the answer is sent; a client gone by now changes nothing

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: outcomes are counted and traced, never printed."""

        return Handler


class _Httpd(ThreadingHTTPServer):
    """A thread per connection, at most `max_connections` of them."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, owner: LoopbackServer, address: tuple[str, int],
                 handler: type[BaseHTTPRequestHandler]) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall on a machine
        # without a resolver; the name is only used in CGI environments.
        socketserver.TCPServer.server_bind(self)
        self.server_name = LOOPBACK
        self.server_port = int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.owner._admit():
            _refuse_busy(request)
            self.owner._record("503", detail="too many connections")
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.owner._leave()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """socketserver prints a traceback here; record the failure instead."""
        error = sys.exc_info()[1]
        self.owner._record("error", error=repr(error)[:500])


def _failure_as_value(outcome: SimProcess[HttpResponse]
                      ) -> SimProcess[HttpResponse | Exception]:
    try:
        return (yield from outcome)
    except Exception as error:
        return error


def _refuse_busy(sock: socket.socket) -> None:
    """503 from the accepting thread: a few bytes into a new socket's empty buffer."""
    body = b"503 Service Unavailable: too many connections\n"
    head = (f"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode("ascii")
    try:
        sock.settimeout(1.0)
        sock.sendall(head + body)
    except OSError:
        pass  # the client left already


def _text(status: HTTPStatus, detail: str) -> HttpResponse:
    body = f"{status.value} {status.phrase}: {detail}\n".encode("ascii")
    return HttpResponse(status.value, status.phrase, (("Content-Type", "text/plain"),), body)
