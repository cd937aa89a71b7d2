"""The router's HTTP server: what answers on port 80 while `ip http server` is on.

The certificate server's SCEP service lives under `/cgi-bin/pkiclient.exe` and answers
only while the server is enabled with SCEP started. What a request asks (paths,
`operation=`, GET against POST) is read by the SCEP HTTP binding (`sim.pki.scep_http`),
what to answer is `sim.pki.scep_service`'s business; this module is IOS's HTTP server
around them: its delay, its headers, its 404s and the trace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.kernel.clock import format_http_date
from sim.kernel.process import SimProcess
from sim.net.http import HttpRequest, HttpResponse
from sim.pki import scep, scep_http
from sim.router import crl_http

if TYPE_CHECKING:
    from sim.router.router import Router

SERVER_SECONDS = 0.02
"""Time the router takes to start answering an HTTP request."""


Headers = tuple[tuple[str, str], ...]

_HEADERS: dict[tuple[int, int, int, int, int, int, str], Headers] = {}
"""Header blocks made, by the second they are dated and their content type: the routers
of a run answer many requests in the same second of their clocks, with the same block."""
_HEADERS_KEPT = 64


def ios_headers(router: Router, content_type: str) -> Headers:
    """The header block IOS's HTTP server sends (seed's `HTTP response header:` dumps)."""
    now = router.clock.now()
    # Exactly the fields `format_http_date` reads (the weekday follows from the date).
    key = (now.year, now.month, now.day, now.hour, now.minute, now.second, content_type)
    headers = _HEADERS.get(key)
    if headers is None:
        if len(_HEADERS) >= _HEADERS_KEPT:
            _HEADERS.clear()
        headers = _HEADERS[key] = _header_block(format_http_date(now), content_type)
    return headers


def _header_block(date: str, content_type: str) -> Headers:
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


def serve(router: Router, request: HttpRequest) -> SimProcess[HttpResponse]:
    yield router.env.timeout(SERVER_SECONDS)
    if not scep_http.is_scep_path(request.path):
        return _plain(router, 404, "Not Found", b"")
    cs = next((s for s in router.running.servers.values()
               if router.server_host.scep_started(s)), None)
    if cs is None or cs.ca_cert is None:
        return _plain(router, 404, "Not Found", b"")
    call = scep_http.read_request(request.method, request.query, request.body)
    operation = call.operation
    crl = crl_http.answer(router, cs, request, operation)
    if crl is not None:
        return HttpResponse(crl.status, crl.reason, ios_headers(router, crl.content_type),
                            crl.body, "HTTP/1.1")
    service = router.server_host.scep_service(cs)
    name = cs.name  # a property, read once
    router.emit("scep", "serve", server=name, operation=operation, method=request.method)
    if operation == scep_http.GET_CA_CAPS:
        reply = service.get_ca_caps()
    elif operation == scep_http.GET_CA_CERT:
        reply = service.get_ca_cert()
    elif operation == scep_http.GET_NEXT_CA_CERT:
        pair = router.running.keys.get(name)
        if pair is None:  # no key to sign the answer with
            return _plain(router, 404, "Not Found", b"")
        reply = service.get_next_ca_cert(pair.key)
    elif operation == scep_http.PKI_OPERATION:
        if call.problem:
            router.emit("scep", "refused", server=name, operation=operation, http=400,
                        reason=call.problem)
            return _plain(router, 400, "Bad Request", call.problem.encode())
        der = call.der
        router.record_scep(der, _message_name(der), sent=False)
        pair = router.running.keys.get(name)
        if pair is None:  # the server's key pair is gone: there is no CA to answer as
            return _plain(router, 404, "Not Found", b"")
        reply, effects = service.pki_operation(der, router.clock.now(), pair.key,
                                               router.random_bytes)
        yield from router.server_host.apply(cs, effects, exchange=True)
        router.record_scep(reply.body, f"CertRep-{reply.pki_status}", sent=True)
    else:
        return _plain(router, 400, "Bad Request", f"unknown operation {operation!r}".encode())
    router.emit("scep", "reply", server=name, operation=operation,
                message=reply.message_type, status=reply.pki_status, size=len(reply.body))
    return HttpResponse(reply.status, reply.reason, ios_headers(router, reply.content_type),
                        reply.body, "HTTP/1.1")


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
