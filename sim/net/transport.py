"""A simulated HTTP/1.0 exchange over TCP, segment by segment, hop by hop.

Theory of operation. One exchange is four segments, each crossing the links of the path
at that moment: SYN (client -> server), SYN-ACK or RST (back), the request, the response.
The handshake and the request each cost one path latency one way, so a lossless exchange
takes two round trips plus the handler's own time.

Each segment is sent *reliably* by its sender: transmitted, then retransmitted with a
TCP-like retransmission timeout starting at 1 s and doubling (RFC 6298's initial RTO)
until the peer has it or the client's deadline passes. Every (re)transmission looks up
the path afresh, so a repaired link lets the next retransmission through. The pure ACKs
that stop a retransmission timer are not modelled as segments: the sender stops as soon
as the peer holds a copy. A request retransmitted while the server is still working is
recognised as a duplicate (the server runs the handler once), as TCP would.

A segment is lost when its sender is powered off, when there is no path, when a link
drops it (loss draw, down, or flapped while the segment was on it) or when the next router
is powered off when it arrives. A destination address that belongs to no router, or to a
powered-off router, is a black hole: only the deadline ends the exchange. NO_ROUTE is
reported only when the client has no path to a powered-on destination when connecting.

A destination that is a bridge node (`sim.net.bridge`) answers from a real server on
loopback: its SYN-ACK or RST is the real server's accept or refusal, its response the real
answer; the simulated segments still cross the simulated links both ways.

Not modelled: TCP state surviving a reboot, FIN/close, segmentation of large bodies
(a body is one segment whatever its size), bandwidth and queueing.
"""

from __future__ import annotations

from enum import StrEnum
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import simpy

from sim.kernel.env import SimEnv
from sim.kernel.first_of import first_of
from sim.kernel.process import SimProcess
from sim.net.bridge import BridgeConnection, ConnectOutcome
from sim.net.http import HttpFailure, HttpHandler, HttpRequest, HttpResponse, HttpResult
from sim.net.link import CarryOutcome

if TYPE_CHECKING:
    from sim.net.topology import Network

INITIAL_RTO = 1.0
"""Seconds before the first retransmission (RFC 6298 section 2.1); doubles each time."""

SEGMENT_OVERHEAD = 40
"""IPv4 + TCP header bytes, the size reported for segments that carry no payload."""


class Segment(StrEnum):
    SYN = "SYN"
    SYN_ACK = "SYN-ACK"
    RST = "RST"
    REQUEST = "REQUEST"
    RESPONSE = "RESPONSE"


class Exchange:
    """One client request from `src` to `dst_address:port`; `run()` is its simpy process."""

    def __init__(
        self,
        network: Network,
        conn_id: int,
        src: str,
        dst_address: str,
        port: int,
        request: HttpRequest,
        timeout: float,
    ) -> None:
        self._net = network
        self._env: SimEnv = network.env
        self.conn_id = conn_id
        self.src = src
        self.dst_address = dst_address
        self.port = port
        self.request = request
        self.server = network.node_for_address(dst_address)
        self.start = self._env.now
        self.deadline = self.start + timeout
        self._timeout = timeout
        self.closed = False
        self._bridged: BridgeConnection | None = None

    # -- the client's view -----------------------------------------------------------
    def run(self) -> SimProcess[HttpResult]:
        env = self._env
        env.emit(
            self.src,
            "net",
            "http.request",
            conn=self.conn_id,
            src=self.src,
            dst=self.dst_address,
            port=self.port,
            method=self.request.method,
            target=self.request.target,
        )
        server = self.server
        if server is not None and self._net.is_node_up(server):
            if self._net.route(self.src, server) is None:
                return self._fail(HttpFailure.NO_ROUTE)
        deadline = env.timeout(self._timeout)

        syn_arrived = env.event()
        reply = env.event()
        env.process(self._send(self.src, server, Segment.SYN, SEGMENT_OVERHEAD, syn_arrived))
        env.process(self._accept(syn_arrived, reply))
        yield first_of(env, reply, deadline)
        if not reply.triggered:
            return self._fail(HttpFailure.TIMEOUT)
        if reply.value is None:
            return self._fail(HttpFailure.REFUSED)
        handler: HttpHandler | BridgeConnection = reply.value
        connected_after = env.now - self.start
        env.emit(self.src, "net", "http.connected", conn=self.conn_id, elapsed=connected_after)

        request_arrived = env.event()
        response_arrived = env.event()
        size = len(self.request.to_bytes())
        env.process(self._send(self.src, server, Segment.REQUEST, size, request_arrived))
        env.process(self._serve(handler, request_arrived, response_arrived))
        yield first_of(env, response_arrived, deadline)
        if not response_arrived.triggered:
            return self._fail(HttpFailure.TIMEOUT, connected_after)
        response = response_arrived.value
        if not isinstance(response, HttpResponse):
            return self._fail(HttpFailure.TIMEOUT, connected_after)
        self._close()
        elapsed = env.now - self.start
        env.emit(
            self.src,
            "net",
            "http.response",
            conn=self.conn_id,
            status=response.status,
            bytes=len(response.body),
            elapsed=elapsed,
        )
        return HttpResult(response, None, elapsed, connected_after)

    def _fail(self, kind: HttpFailure, connected_after: float | None = None) -> HttpResult:
        self._close()
        elapsed = self._env.now - self.start
        self._env.emit(
            self.src, "net", "http.failure", conn=self.conn_id, kind=kind.value, elapsed=elapsed
        )
        return HttpResult(None, kind, elapsed, connected_after)

    def _close(self) -> None:
        """The exchange is over: stop retransmitting, release a real bridged connection."""
        self.closed = True
        if self._bridged is not None:
            self._bridged.close()

    # -- the server's view -----------------------------------------------------------
    def _accept(
        self, syn_arrived: simpy.Event, reply: simpy.Event
    ) -> SimProcess[None]:
        """On the first SYN: answer SYN-ACK if a handler listens at that moment, else RST.

        At a bridge node the real server decides: accepted, refused, or no answer at all."""
        yield syn_arrived
        if self.server is None:  # a SYN only arrives at a real router; nothing to answer
            return
        handler: HttpHandler | BridgeConnection | None = self._net.listener(
            self.server, self.port)
        bridge = self._net.bridge_at(self.server, self.port)
        if bridge is not None:
            outcome, handler = bridge.connect(self.conn_id)
            if outcome is ConnectOutcome.NO_ANSWER:
                return
            self._bridged = handler
            if self.closed:  # the client's deadline fell at this very instant
                self._close()
                return
        kind = Segment.RST if handler is None else Segment.SYN_ACK
        yield from self._send(self.server, self.src, kind, SEGMENT_OVERHEAD, reply, handler)

    def _serve(
        self,
        handler: HttpHandler | BridgeConnection,
        request_arrived: simpy.Event,
        response_arrived: simpy.Event,
    ) -> SimProcess[None]:
        yield request_arrived
        if self.server is None:  # as in `_accept`: no router, no one to serve it
            return
        client = self._net.address_of(self.src)
        self._env.emit(
            self.server,
            "net",
            "http.serve",
            conn=self.conn_id,
            client=client,
            method=self.request.method,
            target=self.request.target,
        )
        if isinstance(handler, BridgeConnection):
            answer = handler.exchange(self.request)
            if answer is None:
                return  # no usable real answer (traced): the client's deadline ends it
            yield from self._send(
                self.server, self.src, Segment.RESPONSE, len(answer.to_bytes()),
                response_arrived, answer,
            )
            return
        outcome = handler(self.request)
        if isinstance(outcome, HttpResponse):
            response = outcome
        else:
            response = yield self._env.process(outcome)
        if not isinstance(response, HttpResponse):
            raise TypeError(f"HTTP handler on {self.server} returned {response!r}")
        size = len(response.to_bytes())
        yield from self._send(
            self.server, self.src, Segment.RESPONSE, size, response_arrived, response
        )

    # -- reliable delivery -------------------------------------------------------------
    def _send(
        self,
        sender: str,
        receiver: str | None,
        kind: Segment,
        size: int,
        arrived: simpy.Event,
        value: Any = None,
    ) -> SimProcess[None]:
        """Transmit until `arrived` fires, retransmitting at RTO 1, 2, 4 ... s."""
        env = self._env
        rto = INITIAL_RTO
        attempt = 0
        while not arrived.triggered and not self.closed:
            remaining = self.deadline - env.now
            if remaining <= 0:
                return
            if attempt:
                env.emit(
                    sender,
                    "net",
                    "packet.retransmit",
                    conn=self.conn_id,
                    segment=kind.value,
                    attempt=attempt,
                )
            env.process(self._forward(sender, receiver, kind, size, arrived, value))
            attempt += 1
            yield first_of(env, arrived, env.timeout(min(rto, remaining)))
            rto *= 2

    def _forward(
        self,
        sender: str,
        receiver: str | None,
        kind: Segment,
        size: int,
        arrived: simpy.Event,
        value: Any,
    ) -> SimProcess[None]:
        """One transmission of one segment along the path of the moment."""
        net = self._net
        if not net.is_node_up(sender):
            self._lost(sender, kind, None, "node-down")
            return
        if receiver is None:
            self._lost(sender, kind, None, "unknown-address")
            return
        path = net.route(sender, receiver)
        if path is None:
            # A powered-off receiver has no path either; say which case it was.
            reason = "no-route" if net.is_node_up(receiver) else "node-down"
            self._lost(sender, kind, None, reason)
            return
        for here, there in pairwise(path):
            link = net.link(here, there)
            outcome = yield from link.carry(size)
            if outcome is not CarryOutcome.DELIVERED:
                self._lost(here, kind, link.name, outcome.value)
                return
            if not net.is_node_up(there):
                self._lost(here, kind, link.name, "node-down")
                return
        if not arrived.triggered and not self.closed:
            arrived.succeed(value)

    def _lost(self, at: str, kind: Segment, link: str | None, reason: str) -> None:
        self._env.emit(
            at,
            "net",
            "packet.lost",
            conn=self.conn_id,
            segment=kind.value,
            link=link,
            reason=reason,
        )
