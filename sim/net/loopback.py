"""Serve a simulated router's HTTP server on a real socket bound to 127.0.0.1.

Real peers (micromdm's `scepclient`, curl, a browser) can then talk to a simulated
certificate server. Each real request is carried into the simulation: the handler runs
as a simpy process and the simulation advances until it answers, so the simulated
router spends its usual simulated time on the request while the real client waits only
for the host to compute it. Requests are served one at a time, which keeps the
simulation single-threaded.

Only the loopback address is ever bound: this is a lab tool, not a server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from sim.kernel.env import SimEnv
from sim.net.http import HttpRequest, HttpResponse

LOOPBACK = "127.0.0.1"

SimHandler = Callable[[HttpRequest], Generator[Any, Any, HttpResponse] | HttpResponse]


class LoopbackServer:
    """`with LoopbackServer(env, handler) as server: ... server.url ...`"""

    def __init__(self, env: SimEnv, handler: SimHandler, port: int = 0) -> None:
        self._env = env
        self._handler = handler
        self._lock = threading.Lock()
        self._httpd = HTTPServer((LOOPBACK, port), self._request_class())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

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
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def serve(self, request: HttpRequest) -> HttpResponse:
        """Run one request through the simulation and return its response."""
        with self._lock:
            outcome = self._handler(request)
            if isinstance(outcome, HttpResponse):
                return outcome
            process = self._env.process(outcome)
            self._env.run(until=process)
            return process.value

    def _request_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = HttpRequest.from_target(
                    self.command, self.path, tuple(self.headers.items()), body)
                response = server.serve(request)
                self.send_response(response.status, response.reason)
                for name, value in response.headers:
                    if name.lower() not in ("date", "server"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the simulation's trace records the exchange."""

        return Handler
