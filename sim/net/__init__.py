"""sim.net: topology, links, name resolution and simulated HTTP between routers.

May import only `sim.kernel`, networkx, simpy and the standard library.
"""

from sim.net.bridge import Bridge, LoopbackUrl, parse_loopback_url
from sim.net.http import (
    Headers,
    HttpFailure,
    HttpHandler,
    HttpRequest,
    HttpResponse,
    HttpResult,
    parse_request,
    parse_response,
)
from sim.net.link import CarryOutcome, Link
from sim.net.resolver import HostTable, Resolution, normalise_address, resolve
from sim.net.routing import RouteTable
from sim.net.topology import Network
from sim.net.transport import INITIAL_RTO, Segment

__all__ = [
    "INITIAL_RTO",
    "Bridge",
    "CarryOutcome",
    "Headers",
    "HostTable",
    "HttpFailure",
    "HttpHandler",
    "HttpRequest",
    "HttpResponse",
    "HttpResult",
    "Link",
    "LoopbackUrl",
    "Network",
    "Resolution",
    "RouteTable",
    "Segment",
    "normalise_address",
    "parse_loopback_url",
    "parse_request",
    "parse_response",
    "resolve",
]
