"""SCEP's HTTP binding, both ends: the only code that knows `operation=`, GET against POST,
`message=` encodings, SCEP paths and the content types of the requests.

RFC 8894 section 4.1: "SCEP uses the HTTP "GET" and "POST" methods to exchange
information with the CA", as `GET CGI-PATH/CGI-PROG?operation=OPERATION&message=MESSAGE`;
a PKIOperation is POSTed as binary DER when the CA offers `POSTPKIOperation`, otherwise
sent by GET with the pkiMessage base64-encoded in `message=`.

Both ends use this module:
- the client (`sim.router.pki_client`, the router's enrollment client, over the simulated
  network or through the outbound bridge to a real CA) builds its requests with
  `get_request` and `pki_operation_request`, and reads a GetCACert answer with
  `ca_certificates`;
- the server (`sim.router.http_service`, the router's HTTP server, reached over the
  simulated network or by real clients through `pkilab serve`) reads a request with
  `read_request`.

It is sans-IO and knows no HTTP message class: requests are described by `ScepHttpRequest`
(method, request target, headers, body), which each transport turns into its own messages.
The outbound bridge (`sim.net.bridge`) carries a request as it is and never looks inside.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import unquote

from cryptography import x509

from sim.pki import scep, x509util

SCEP_PATH = "/cgi-bin/pkiclient.exe"
"""IOS appends `/cgi-bin/pkiclient.exe` to the trustpoint's enrollment URL (RFC 8894's
recommended CGI path)."""
OTHER_PATHS = ("/scep", "/cgi-bin")
"""Where the router's HTTP server also answers SCEP (paths real clients default to)."""
IOS_USER_AGENT = "Mozilla/4.0 (compatible; MSIE 5.0; Cisco PKI)"
"""The User-Agent of IOS's PKI client (seed transcript's `GET ... HTTP/1.0` dump)."""

GET_CA_CAPS = "GetCACaps"
GET_CA_CERT = "GetCACert"
GET_NEXT_CA_CERT = "GetNextCACert"
"""RFC 8894 4.7: the CA's rollover certificate (`sim.pki.cs_rollover`)."""
PKI_OPERATION = "PKIOperation"

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ScepHttpRequest:
    """One SCEP request as HTTP: `target` is `path?query` as on the request line."""

    method: str
    target: str
    headers: Headers = ()
    body: bytes = b""


# -- the client end ------------------------------------------------------------------------
def get_request(path: str, operation: str, message: str) -> ScepHttpRequest:
    """`GET path?operation=OPERATION&message=MESSAGE` as IOS sends it (GetCACaps,
    GetCACert: `message` is the CA's name, here the trustpoint's; a GET PKIOperation:
    the pkiMessage, already encoded)."""
    return ScepHttpRequest("GET", f"{path}?operation={operation}&message={message}",
                           (("User-Agent", IOS_USER_AGENT),))


def pki_operation_request(path: str, der: bytes, *, post: bool) -> ScepHttpRequest:
    """A PKIOperation carrying the pkiMessage `der`.

    POST (the CA offers `POSTPKIOperation`): the DER is the body, typed
    `application/x-pki-message`. GET: base64 in `message=` with a line break every 64
    characters, as IOS and sscep write it (scep.md 1.2; `scep.encode_get_message`).
    """
    if post:
        return ScepHttpRequest(
            "POST", f"{path}?operation={PKI_OPERATION}",
            (("User-Agent", IOS_USER_AGENT), ("Content-Type", scep.CONTENT_TYPES["pki"])), der)
    return get_request(path, PKI_OPERATION, scep.encode_get_message(der, "ios"))


def ca_certificates(content_type: str, body: bytes) -> list[x509.Certificate]:
    """`read_ca_certificates`, read once per distinct answer (a list of the caller's own).

    A CA answers every router that authenticates it with the same bytes; certificates are
    immutable, and the routers of a CA share one object per certificate anyway
    (`der_once`). An answer that cannot be read is not kept: it raises again."""
    if type(body) is not bytes:  # noqa: E721 - only immutable bytes can key the memo
        return read_ca_certificates(content_type, body)
    return list(_ca_certificates_once(content_type, body))


@functools.lru_cache(maxsize=256)
def _ca_certificates_once(content_type: str, body: bytes) -> tuple[x509.Certificate, ...]:
    return tuple(read_ca_certificates(content_type, body))


def read_ca_certificates(content_type: str, body: bytes) -> list[x509.Certificate]:
    """A GetCACert answer: one DER certificate (`application/x-x509-ca-cert`), or a
    degenerate PKCS#7 chain, CA first (`application/x-x509-ca-ra-cert`; RFC 8894
    section 4.2.1). ValueError for anything else (ScepError for a chain that does not
    parse)."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == scep.CONTENT_TYPES["ca"]:
        return [x509util.load_cert(body)]
    if kind in (scep.CONTENT_TYPES["ca_ra"], "application/x-x509-ra-ca-certs"):
        certs, _crls = scep.parse_degenerate(body)
        if not certs:
            raise ValueError("the CA/RA certificate chain is empty")
        return certs
    raise ValueError(f"unexpected Content-Type {content_type!r} for a CA certificate")


# -- the server end ------------------------------------------------------------------------
@dataclass(frozen=True)
class ScepCall:
    """What a request asks of the SCEP service.

    `der` is the pkiMessage of a PKIOperation; `problem` (the text of an HTTP 400) says
    why a PKIOperation carries none."""

    operation: str
    der: bytes = b""
    problem: str = ""


def is_scep_path(path: str) -> bool:
    """Whether the router's HTTP server answers SCEP at `path`."""
    path = path.rstrip("/")
    return path.endswith("pkiclient.exe") or path in OTHER_PATHS


def query_parameters(query: str) -> dict[str, str]:
    """Split a query string without form-decoding `+` (base64 needs it kept)."""
    params: dict[str, str] = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name:
            # `unquote` returns a string without `%` as it is: skip the call for those
            # (every name, and most values, of a request's query).
            params.setdefault(unquote(name) if "%" in name else name,
                              unquote(value) if "%" in value else value)
    return params


def read_request(method: str, query: str, body: bytes) -> ScepCall:
    """The operation a request names and, for a PKIOperation, its pkiMessage.

    POST carries the DER as the body (RFC 8894 section 4.3); GET carries it base64 in
    `message=` (section 4.1, with the variants of scep.md 1.2). An empty body, a missing
    `message=` or one that is not base64 is not a pkiMessage at all, so there is nothing a
    CertRep could answer (no transactionID, no nonce): RFC 8894 leaves such errors to HTTP,
    and micromdm answers them with an HTTP error too (scep.md 1.12).
    """
    params = query_parameters(query)
    operation = params.get("operation", "")
    if operation != PKI_OPERATION:
        return ScepCall(operation)
    if method == "POST":
        der = body
    else:
        try:
            der = scep.decode_get_message(params.get("message", ""))
        except scep.ScepError as bad:
            return ScepCall(operation, b"", bad.message)
    if not der:
        return ScepCall(operation, b"", "no pkiMessage in the request")
    return ScepCall(operation, der)
