"""HTTP/1.0 messages as values, their wire form, and the outcome of an exchange.

The simulated network carries `HttpRequest` / `HttpResponse` objects; `to_bytes` and
`parse_request` / `parse_response` give the exact HTTP/1.0 wire form so that the same
server handlers can later sit behind a real socket on 127.0.0.1. The IOS PKI client sends
HTTP/1.0 and the IOS HTTP server answers HTTP/1.1 without Content-Length (seed transcript):

    GET /cgi-bin/pkiclient.exe?operation=GetCACert&message=sub HTTP/1.0
    User-Agent: Mozilla/4.0 (compatible; MSIE 5.0; Cisco PKI)

    HTTP/1.1 200 OK
    Content-Type: application/x-x509-ca-cert

Both forms are accepted; without Content-Length the body runs to the end of the bytes, as
HTTP/1.0 ends it by closing the connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sim.kernel.process import SimProcess

Headers = tuple[tuple[str, str], ...]

_CRLF = b"\r\n"


def _header(headers: Headers, name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


@dataclass(frozen=True)
class HttpRequest:
    """One request; `query` is the raw query string (not decoded), without the `?`."""

    method: str
    path: str
    query: str = ""
    headers: Headers = ()
    body: bytes = b""
    version: str = "HTTP/1.0"

    @classmethod
    def from_target(
        cls, method: str, target: str, headers: Headers = (), body: bytes = b""
    ) -> HttpRequest:
        """Build from a request target such as `/cgi-bin/pkiclient.exe?operation=GetCACaps`."""
        path, _, query = target.partition("?")
        return cls(method, path, query, headers, body)

    @property
    def target(self) -> str:
        """`path?query` as written on the request line (just `path` without a query)."""
        return f"{self.path}?{self.query}" if self.query else self.path

    def header(self, name: str) -> str | None:
        """First value of header `name`, compared case-insensitively as HTTP requires."""
        return _header(self.headers, name)

    def to_bytes(self) -> bytes:
        head = f"{self.method} {self.target} {self.version}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in self.headers)
        return head.encode("latin-1") + _CRLF + self.body


@dataclass(frozen=True)
class HttpResponse:
    """One response; IOS's HTTP server labels its answers HTTP/1.1 (see module docstring)."""

    status: int
    reason: str
    headers: Headers = ()
    body: bytes = b""
    version: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)

    def to_bytes(self) -> bytes:
        head = f"{self.version} {self.status} {self.reason}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in self.headers)
        return head.encode("latin-1") + _CRLF + self.body


def _split(raw: bytes) -> tuple[str, Headers, bytes]:
    """Start line, headers and body of an HTTP message; ValueError if malformed."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("HTTP message has no blank line after its headers")
    lines = head.decode("latin-1").split("\r\n")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise ValueError(f"malformed HTTP header line {line!r}")
        headers.append((name, value.strip()))
    header_tuple = tuple(headers)
    length = _header(header_tuple, "Content-Length")
    if length is not None:
        if not length.isdigit():
            raise ValueError(f"bad Content-Length {length!r}")
        if len(body) < int(length):
            raise ValueError(f"body is {len(body)} bytes, Content-Length says {length}")
        body = body[: int(length)]
    return lines[0], header_tuple, body


def parse_request(raw: bytes) -> HttpRequest:
    """Parse the wire form written by `HttpRequest.to_bytes` (or a real client)."""
    start, headers, body = _split(raw)
    parts = start.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise ValueError(f"malformed HTTP request line {start!r}")
    method, target, version = parts
    path, _, query = target.partition("?")
    return HttpRequest(method, path, query, headers, body, version)


def parse_response(raw: bytes) -> HttpResponse:
    """Parse the wire form written by `HttpResponse.to_bytes` (or a real server)."""
    start, headers, body = _split(raw)
    version, _, rest = start.partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/") or len(code) != 3 or not code.isdigit():
        raise ValueError(f"malformed HTTP status line {start!r}")
    return HttpResponse(int(code), reason, headers, body, version)


class HttpFailure(StrEnum):
    """Why an exchange produced no response; the values appear in the trace.

    Name resolution failures are not here: resolving the URL host is the client's job,
    before any packet is sent (see `sim.net.resolver`).
    """

    REFUSED = "refused"  # reached the router, nothing listening on the port: TCP RST
    TIMEOUT = "timeout"  # nothing came back before the deadline
    NO_ROUTE = "no-route"  # no path from the client when connecting


@dataclass(frozen=True)
class HttpResult:
    """The outcome of `Network.http`: exactly one of `response` and `failure` is set.

    `elapsed` is simulated seconds from the call to the outcome; `connected_after` is when
    the TCP connection opened (IOS logs `CRYPTO_PKI: http connection opened` then), None if
    it never did.
    """

    response: HttpResponse | None
    failure: HttpFailure | None
    elapsed: float
    connected_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.response is not None


class HttpHandler(Protocol):
    """A server: a simpy generator that may take simulated time and returns the response.

    A plain function returning an `HttpResponse` (no simulated time) is accepted too.
    """

    def __call__(
        self, request: HttpRequest
    ) -> SimProcess[HttpResponse] | HttpResponse: ...
