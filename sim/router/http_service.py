"""The router's HTTP server: what answers on port 80 while `ip http server` is on.

The certificate server's SCEP service lives under `/cgi-bin/pkiclient.exe` and answers
only while the server is enabled with SCEP started. This module is the HTTP binding: the
only code that knows paths, `operation=`, GET vs POST and content types; what to answer is
`sim.pki.scep_service`'s business.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from sim.kernel.clock import format_http_date
from sim.net.http import HttpRequest, HttpResponse
from sim.pki import scep

if TYPE_CHECKING:
    from sim.router.router import Router

SERVER_SECONDS = 0.02
"""Time the router takes to start answering an HTTP request."""


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


def query_parameters(query: str) -> dict[str, str]:
    """Split a query string without form-decoding `+` (base64 needs it kept)."""
    params: dict[str, str] = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name:
            params.setdefault(unquote(name), unquote(value))
    return params


def serve(router: Router, request: HttpRequest) -> Generator[Any, Any, HttpResponse]:
    yield router.env.timeout(SERVER_SECONDS)
    path = request.path.rstrip("/")
    if not path.endswith("pkiclient.exe") and path not in ("/scep", "/cgi-bin"):
        return _plain(router, 404, "Not Found", b"")
    cs = next((s for s in router.running.servers.values() if s.scep_running), None)
    if cs is None or cs.ca_cert is None:
        return _plain(router, 404, "Not Found", b"")
    service = router.server_host.scep_service(cs)
    params = query_parameters(request.query)
    operation = params.get("operation", "")
    router.emit("scep", "serve", server=cs.name, operation=operation, method=request.method)
    if operation == "GetCACaps":
        reply = service.get_ca_caps()
    elif operation == "GetCACert":
        reply = service.get_ca_cert()
    elif operation == "PKIOperation":
        der, problem = _pki_message(request, params)
        if problem:
            router.emit("scep", "refused", server=cs.name, operation=operation, http=400,
                        reason=problem)
            return _plain(router, 400, "Bad Request", problem.encode())
        router.record_scep(der, _message_name(der), sent=False)
        pair = router.running.keys.get(cs.name)
        if pair is None:  # the server's key pair is gone: there is no CA to answer as
            return _plain(router, 404, "Not Found", b"")
        reply, effects = service.pki_operation(der, router.clock.now(), pair.key,
                                               router.random_bytes)
        yield from router.server_host.apply(cs, effects)
        router.record_scep(reply.body, f"CertRep-{reply.pki_status}", sent=True)
    else:
        return _plain(router, 400, "Bad Request", f"unknown operation {operation!r}".encode())
    router.emit("scep", "reply", server=cs.name, operation=operation,
                message=reply.message_type, status=reply.pki_status, size=len(reply.body))
    return HttpResponse(reply.status, reply.reason, ios_headers(router, reply.content_type),
                        reply.body, "HTTP/1.1")


def _pki_message(request: HttpRequest, params: dict[str, str]) -> tuple[bytes, str]:
    """The pkiMessage of a PKIOperation, or why there is none (the text of an HTTP 400).

    POST carries the DER as the body (RFC 8894 section 4.3); GET carries it base64 in
    `message=` (section 4.1, with the variants of scep.md 1.2). An empty body, a missing
    `message=` or one that is not base64 is not a pkiMessage at all, so there is nothing a
    CertRep could answer (no transactionID, no nonce): RFC 8894 leaves such errors to HTTP,
    and micromdm answers them with an HTTP error too (scep.md 1.12).
    """
    if request.method == "POST":
        der = request.body
    else:
        try:
            der = scep.decode_get_message(params.get("message", ""))
        except scep.ScepError as bad:
            return b"", bad.message
    if not der:
        return b"", "no pkiMessage in the request"
    return der, ""


_TYPE_NAMES = {19: "PKCSReq", 17: "RenewalReq", 20: "GetCertInitial", 21: "GetCert",
               22: "GetCRL", 3: "CertRep"}


def _message_name(der: bytes) -> str:
    """The SCEP message type for an artifact's file name; `malformed` if unreadable."""
    try:
        return _TYPE_NAMES.get(int(scep.parse_pki_message(der).message_type), "unknown")
    except scep.ScepError:
        return "malformed"


def _plain(router: Router, status: int, reason: str, body: bytes) -> HttpResponse:
    return HttpResponse(status, reason, ios_headers(router, "text/plain"), body, "HTTP/1.1")
