"""The certificate server's CRL over plain HTTP: `GET /cgi-bin/pkiclient.exe?operation=GetCRL`.

Cisco's guide gives this URL as the `cdp-url` "for non-IOS clients that cannot send SCEP
GetCRL but should still fetch from the CS itself" (cisco-cs-docs.md 3). The router's HTTP
server (`sim.router.http_service`) asks `answer` first; what the reply holds is
`sim.pki.crl_distribution.crl_reply`'s business: the server's current CRL as DER, the very
bytes it published to its `.crl` file (never signed again here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.net.http import HttpRequest
from sim.pki.crl_distribution import CrlReply, crl_reply, is_crl_request
from sim.pki.cs_server import CertificateServer

if TYPE_CHECKING:
    from sim.router.router import Router


def answer(router: Router, cs: CertificateServer, request: HttpRequest, operation: str
           ) -> CrlReply | None:
    """The reply to a CRL request for the enabled server `cs`; None for any other request.
    `operation`: the request's `operation=`, which the HTTP server has read already
    (`scep_http.read_request`), so the query is not read a second time."""
    if not is_crl_request(request.path, operation):
        return None
    reply = crl_reply(request.method, cs.crl_der)
    router.emit("http", "crl.served", server=cs.name, method=request.method,
                status=reply.status, size=len(reply.body))
    return reply
