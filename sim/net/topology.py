"""The network: topology as data in a networkx graph, live links, listeners and HTTP.

Topology is data (Mininet): routers are graph nodes carrying an IPv4 address and a power
flag, links are graph edges carrying a `Link`. Paths are shortest by latency over what is
up, answered from a `RouteTable` that is rebuilt lazily after any change of topology or
state (a generation counter), so no message ever triggers a graph search of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import networkx as nx
import simpy

from sim.kernel.env import SimEnv
from sim.net.bridge import DEFAULT_TIMEOUT, Bridge, LoopbackUrl, parse_loopback_url
from sim.net.datagram import UdpPorts
from sim.net.http import HttpHandler, HttpRequest
from sim.net.link import Link
from sim.net.resolver import normalise_address
from sim.net.routing import DEFAULT_TREE_BUDGET, Path, RouteTable, link_weight
from sim.net.transport import Exchange


class Network:
    """All routers and links of one run, looked up by name."""

    def __init__(self, env: SimEnv, tree_budget: int = DEFAULT_TREE_BUDGET) -> None:
        self.env = env
        self._graph: nx.Graph[str] = nx.Graph()
        # The graph's own attribute mappings of each router, and each link by either
        # order of its ends: every segment looks them up, and networkx's views cost
        # several calls a lookup.
        self._attrs: dict[str, dict[str, Any]] = {}
        self._links: dict[tuple[str, str], Link] = {}
        self._by_address: dict[str, str] = {}
        self._order: dict[str, int] = {}
        self._listeners: dict[tuple[str, int], HttpHandler] = {}
        self._bridges: dict[tuple[str, int], Bridge] = {}
        self._tree_budget = tree_budget
        self._routes: RouteTable | None = None
        self._generation = 0
        self._next_conn = 0
        self.udp = UdpPorts()
        """UDP listeners (TFTP servers), for `sim.net.datagram`."""

    # -- building ------------------------------------------------------------------
    def add_node(self, name: str, address: str) -> None:
        """Add a powered-on router; names and addresses are unique within a network."""
        if name in self._graph:
            raise ValueError(f"router {name!r} already exists")
        canonical = normalise_address(address)
        if canonical is None:
            raise ValueError(f"router {name!r}: {address!r} is not an IPv4 address")
        if canonical in self._by_address:
            owner = self._by_address[canonical]
            raise ValueError(f"router {name!r}: address {canonical} already belongs to {owner!r}")
        self._graph.add_node(name, address=canonical, up=True)
        self._attrs[name] = self._graph.nodes[name]
        self._by_address[canonical] = name
        self._order[name] = len(self._order)
        self._invalidate()

    def add_link(self, a: str, b: str, latency: float = 0.001, loss: float = 0.0) -> Link:
        """Connect two routers; `latency` in seconds one way, `loss` per segment."""
        for name in (a, b):
            self._require(name)
        if self._graph.has_edge(a, b):
            raise ValueError(f"routers {a!r} and {b!r} are already linked")
        link = Link(self.env, a, b, latency, loss, on_change=self._on_link_change)
        self._graph.add_edge(a, b, link=link, weight=link_weight(a, b, link.latency))
        self._links[(a, b)] = self._links[(b, a)] = link
        self._invalidate()
        return link

    def add_bridge(self, name: str, address: str, url: str | LoopbackUrl, *, port: int = 80,
                   timeout: float = DEFAULT_TIMEOUT) -> Bridge:
        """Add a pseudo-node whose HTTP on `port` is answered by the real server at `url`.

        The node is linked like any router (`add_link`); `url` must name a loopback
        address (`sim.net.bridge`). ValueError for a bad URL, name, address or port."""
        target = url if isinstance(url, LoopbackUrl) else parse_loopback_url(url)
        if not 0 < port < 65536:
            raise ValueError(f"bridge {name!r}: port {port} is not a TCP port")
        bridge = Bridge(self.env, name, port, target, timeout)
        self.add_node(name, address)
        self._bridges[(name, port)] = bridge
        return bridge

    # -- looking up ------------------------------------------------------------------
    @property
    def graph(self) -> nx.Graph:
        """The topology (node attrs `address`, `up`; edge attrs `link`, routing `weight`).

        Read it, never edit it: changes must go through `Network` to invalidate routes.
        """
        return self._graph

    @property
    def nodes(self) -> list[str]:
        return list(self._graph.nodes)

    @property
    def links(self) -> list[Link]:
        edges: Any = self._graph.edges(data="link")
        return [cast(Link, data) for _, _, data in edges]

    def __contains__(self, name: object) -> bool:
        return name in self._graph

    def __iter__(self) -> Iterator[str]:
        return iter(self._graph.nodes)

    def link(self, a: str, b: str) -> Link:
        """The link between `a` and `b`, in either order; KeyError if there is none."""
        try:
            return self._links[(a, b)]
        except KeyError:
            raise KeyError(f"no link between {a!r} and {b!r}") from None

    def address_of(self, name: str) -> str:
        return self._require(name)["address"]

    def node_for_address(self, address: str) -> str | None:
        canonical = normalise_address(address)
        return None if canonical is None else self._by_address.get(canonical)

    def is_node_up(self, name: str) -> bool:
        return bool(self._require(name)["up"])

    # -- state changes ---------------------------------------------------------------
    def set_link_up(self, a: str, b: str, up: bool) -> None:
        """Bring a link up or down (traced as `link.up` / `link.down`)."""
        self.link(a, b).set_up(up)

    def set_link_params(self, a: str, b: str, *, latency: float | None = None,
                        loss: float | None = None) -> None:
        """Change a live link's latency and/or loss (traced as `link.change`).

        Loss never changes paths; a latency change re-weights the link, so every cached
        path is invalidated."""
        link = self.link(a, b)
        if loss is not None:
            link.loss = loss
        if latency is not None and latency != link.latency:
            link.latency = latency
            self._graph.adj[a][b]["weight"] = link_weight(*link.endpoints, link.latency)
            self._invalidate()
        self.env.emit(None, "link", "link.change", link=link.name, a=link.endpoints[0],
                      b=link.endpoints[1], latency=link.latency, loss=link.loss)

    def set_node_up(self, name: str, up: bool) -> None:
        """Power a router on or off: a router that is off neither forwards nor answers.

        Listeners stay registered: what a reload clears is the router layer's business.
        """
        attrs = self._require(name)
        if attrs["up"] == up:
            return
        attrs["up"] = up
        self.env.emit(name, "node", "node.up" if up else "node.down", node=name)
        self._invalidate()

    def _on_link_change(self, _link: Link) -> None:
        self._invalidate()

    def _invalidate(self) -> None:
        self._generation += 1
        self._routes = None

    @property
    def generation(self) -> int:
        """Bumped on every topology or state change; anything derived from paths keys on it."""
        return self._generation

    # -- paths -----------------------------------------------------------------------
    def path(self, src: str, dst: str) -> list[str] | None:
        """Routers from `src` to `dst` (inclusive), shortest by total latency over up links
        and up routers; None when either end is down or they are partitioned."""
        for name in (src, dst):
            self._require(name)
        found = self.route(src, dst)
        return None if found is None else list(found)

    def route(self, src: str, dst: str) -> Path | None:
        """`path` as a shared immutable tuple: the hot path used for every segment."""
        return self.route_table().path(src, dst)

    def route_table(self) -> RouteTable:
        """The table for the current generation, built on first use after a change."""
        if self._routes is None:
            graph = self._graph
            up = [n for n, is_up in graph.nodes(data="up") if is_up]
            nodes = graph.nodes
            edges = [
                (a, b, attrs["weight"])
                for a, b, attrs in graph.edges(data=True)
                if attrs["link"].up and nodes[a]["up"] and nodes[b]["up"]
            ]
            self._routes = RouteTable(up, edges, self._order, self._tree_budget)
        return self._routes

    # -- HTTP --------------------------------------------------------------------------
    def listen(self, node: str, port: int, handler: HttpHandler) -> None:
        """Serve HTTP on `node:port`; ValueError if something already listens there."""
        self._require(node)
        if (node, port) in self._listeners:
            raise ValueError(f"{node} already listens on port {port}")
        if (node, port) in self._bridges:
            url = self._bridges[node, port].url.text
            raise ValueError(f"{node} port {port} is bridged to {url}")
        self._listeners[(node, port)] = handler

    def unlisten(self, node: str, port: int) -> None:
        """Stop listening; connections already open keep their handler. Idempotent."""
        self._listeners.pop((node, port), None)

    def listener(self, node: str, port: int) -> HttpHandler | None:
        return self._listeners.get((node, port))

    def bridge_at(self, node: str, port: int) -> Bridge | None:
        """The bridge answering `node:port` from a real server, if there is one."""
        return self._bridges.get((node, port))

    @property
    def bridges(self) -> list[Bridge]:
        return list(self._bridges.values())

    def http(
        self,
        src: str,
        dst_address: str,
        port: int,
        request: HttpRequest,
        timeout: float = 30.0,
    ) -> simpy.Process:
        """Start an HTTP exchange from router `src`; the process's value is an `HttpResult`.

        Network trouble never raises: it comes back as `HttpResult.failure`.
        """
        self._require(src)
        if timeout <= 0:
            raise ValueError(f"HTTP timeout must be positive, got {timeout}")
        self._next_conn += 1
        exchange = Exchange(self, self._next_conn, src, dst_address, port, request, timeout)
        return self.env.process(exchange.run())

    # -- helpers -----------------------------------------------------------------------
    def _require(self, name: str) -> dict[str, Any]:
        try:
            return self._attrs[name]
        except KeyError:
            raise KeyError(f"unknown router {name!r}") from None
