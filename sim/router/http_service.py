"""The router's HTTP server: what answers on port 80 while `ip http server` is on.

The certificate server's SCEP service lives under `/cgi-bin/pkiclient.exe` and answers
only while the server is enabled with SCEP started. This module is the HTTP binding: it
knows paths, `operation=` and content types; certificate logic stays in `sim.pki`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from sim.kernel.clock import format_http_date
from sim.net.http import HttpRequest, HttpResponse
from sim.pki import x509util

if TYPE_CHECKING:
    from sim.router.router import Router

SCEP_PATH = "/cgi-bin/pkiclient.exe"
SERVER_SECONDS = 0.02
"""Time the router takes to build a simple HTTP answer."""


def ios_headers(router: Router, content_type: str) -> tuple[tuple[str, str], ...]:
    """The header block IOS's HTTP server sends (seed's `HTTP response header:` dumps)."""
    date = format_http_date(router.clock.now())
    return (
        ("Date", date),
        ("Server", "cisco-IOS"),
        ("Content-Type", content_type),
        ("Expires", date),
        ("Last-Modified", date),
        ("Cache-Control", "no-store, no-cache, must-revalidate"),
        ("Pragma", "no-cache"),
        ("Accept-Ranges", "none"),
    )


def serve(router: Router, request: HttpRequest) -> Generator[Any, Any, HttpResponse]:
    yield router.env.timeout(SERVER_SECONDS)
    if request.path != SCEP_PATH:
        return _plain(router, 404, "Not Found", b"")
    scep = next((cs for cs in router.servers.values() if cs.scep_running), None)
    if scep is None or scep.ca_cert is None:
        return _plain(router, 404, "Not Found", b"")
    operation = parse_qs(request.query).get("operation", [""])[0]
    if operation == "GetCACaps":
        return _plain(router, 200, "OK", b"")
    if operation == "GetCACert":
        body = x509util.cert_der(scep.ca_cert)
        return HttpResponse(200, "OK", ios_headers(router, "application/x-x509-ca-cert"), body)
    return _plain(router, 400, "Bad Request", b"")


def _plain(router: Router, status: int, reason: str, body: bytes) -> HttpResponse:
    return HttpResponse(status, reason, ios_headers(router, "text/plain"), body)
