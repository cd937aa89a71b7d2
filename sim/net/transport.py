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

from collections.abc import Callable, Iterator
from enum import StrEnum
from itertools import pairwise
from typing import TYPE_CHECKING, Any, cast

import simpy
from simpy.events import URGENT

from sim.kernel.env import SimEnv
from sim.kernel.first_of import first_of
from sim.kernel.hops import (
    LightProcess,
    ReservedTimeout,
    call_soon,
    nothing_due_before,
    succeed_last,
)
from sim.kernel.process import SimProcess
from sim.net.bridge import BridgeConnection, ConnectOutcome
from sim.net.http import HttpFailure, HttpHandler, HttpRequest, HttpResponse, HttpResult
from sim.net.link import CarryOutcome, Link

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
        self._deadline: ReservedTimeout | None = None
        """The client's deadline timeout, reserved (see `_deadline_may_come`)."""
        self._deadline_event = simpy.Event(network.env.sim)
        """What the client's waits see of that timeout: processed when it fires."""

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
        # The deadline takes its place in simpy's queue now, as `env.timeout` would, and
        # is put there only if the exchange may still be open when it is due.
        deadline = self._deadline_event
        self._deadline = ReservedTimeout(env.sim, self._timeout, self._deadline_fired)

        syn_arrived = env.event()
        reply = env.event()
        # The SYN's sender and the server's wait for it start together, at one urgent
        # event of this instant (see `_Sender`).
        _Sender(self, self.src, server, Segment.SYN, SEGMENT_OVERHEAD, syn_arrived,
                spawned=lambda: syn_arrived.callbacks.append(
                    lambda _event: self._accept(reply)))
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
        _Sender(self, self.src, server, Segment.REQUEST, size, request_arrived,
                spawned=lambda: request_arrived.callbacks.append(
                    lambda _event: self._serve(handler, response_arrived)))
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

    # -- the deadline ------------------------------------------------------------------
    # Nearly every exchange ends well before its deadline (30 s against a fraction of a
    # second); its timeout was then processed long after, waking two conditions that had
    # already fired: one simpy event per exchange, and a queue holding 30 s of them.
    # The deadline is a `ReservedTimeout` instead, filled as soon as the exchange might
    # not be over by then. An exchange is a chain of steps in which the next is always
    # already scheduled: a segment on its way (it arrives before its round's reserved
    # timeout, which is never later than the deadline, unless that timeout is filled:
    # `_Transmission` fills the deadline along with it) or the server's handler (waiting
    # for a timeout due before the deadline, else the deadline is filled:
    # `_handler_waits`). The rest (a SYN-ACK, the client's resumption) happens in the
    # instant of an arrival. Where the chain breaks (a real server that does not
    # answer), the deadline is filled at once. So an exchange still open at its deadline
    # always has it in the queue, where the timeout would have been.
    def _deadline_may_come(self) -> None:
        """The exchange may still be open at its deadline: put the deadline in the queue."""
        deadline = self._deadline
        if deadline is not None and not deadline.filled:
            deadline.fill()

    def _deadline_fired(self, _hop: simpy.Event) -> None:
        """The deadline's timeout is processed: so is the event the waits see (as
        `Environment.step` processes one; nothing else is done at this hop)."""
        event = self._deadline_event
        event._ok = True
        event._value = None
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        for callback in callbacks:
            callback(event)

    def _handler_waits(self, event: simpy.Event) -> None:
        """The server's handler waits for `event`: a timeout made at the latest now and
        due before the deadline ends in time; anything else may not."""
        deadline = self._deadline
        if deadline is None or deadline.filled:
            return
        if type(event) is simpy.Timeout \
                and self._env.sim.now + event._delay < deadline.at:
            return
        deadline.fill()

    def _close(self) -> None:
        """The exchange is over: stop retransmitting, release a real bridged connection."""
        self.closed = True
        if self._bridged is not None:
            self._bridged.close()

    # -- the server's view -----------------------------------------------------------
    # The server's side waits for one segment and answers: callbacks on the segment's
    # arrival rather than simpy processes (a process each for the accept and the serve
    # cost four events and two generators per exchange, none of which anything waited
    # on). Each is the only callback of its arrival event, so a sender it starts as its
    # last act may transmit at once (`_Sender`'s `last`).
    def _accept(self, reply: simpy.Event) -> None:
        """On the first SYN: answer SYN-ACK if a handler listens at that moment, else RST.

        At a bridge node the real server decides: accepted, refused, or no answer at all."""
        if self.server is None:  # a SYN only arrives at a real router; nothing to answer
            return
        handler: HttpHandler | BridgeConnection | None = self._net.listener(
            self.server, self.port)
        bridge = self._net.bridge_at(self.server, self.port)
        if bridge is not None:
            outcome, handler = bridge.connect(self.conn_id)
            if outcome is ConnectOutcome.NO_ANSWER:
                self._deadline_may_come()  # only the deadline ends it
                return
            self._bridged = handler
            if self.closed:  # the client's deadline fell at this very instant
                self._close()
                return
        kind = Segment.RST if handler is None else Segment.SYN_ACK
        _Sender(self, self.server, self.src, kind, SEGMENT_OVERHEAD, reply, handler, last=True)

    def _serve(self, handler: HttpHandler | BridgeConnection,
               response_arrived: simpy.Event) -> None:
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
                self._deadline_may_come()
                return  # no usable real answer (traced): the client's deadline ends it
            _Sender(self, self.server, self.src, Segment.RESPONSE, len(answer.to_bytes()),
                    response_arrived, answer, last=True)
            return
        outcome = handler(self.request)
        if isinstance(outcome, HttpResponse):
            self._respond(outcome, response_arrived)
            return
        # The handler's process, as simpy would run it, without the process object.
        LightProcess(self._env.sim, outcome,
                     lambda response: self._respond(response, response_arrived), last=True,
                     watch=self._handler_waits)

    def _respond(self, response: object, response_arrived: simpy.Event) -> None:
        if not isinstance(response, HttpResponse):
            raise TypeError(f"HTTP handler on {self.server} returned {response!r}")
        size = len(response.to_bytes())
        _Sender(self, cast(str, self.server), self.src, Segment.RESPONSE, size,
                response_arrived, response, last=True)

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


class _Sender:
    """Reliable delivery of one segment: transmitted until `arrived` fires, retransmitted
    at RTO 1, 2, 4 ... s, until the client's deadline.

    Driven by callbacks. It was a generator, run as a process of its own for the
    client's SYN and request or inside the server's, and is scheduled as it was: a
    `spawned` sender starts at an urgent event of the instant (the process's
    `Initialize`; `spawned` is then what else that event does: the server's wait for the
    segment, whose process started right behind it), another at once.

    Each round waited for the first of `arrived` and a timeout of the RTO. The timeout
    is now reserved (`ReservedTimeout`) and put in simpy's queue only when the segment
    may not have arrived by then: lost, or still on a link at that time. A segment that
    arrives earlier (nearly all of them) costs neither the timeout nor the condition,
    whose firing then found the segment delivered and did nothing. A round's
    transmission starts at an urgent event too (as its process did), or at once when
    that event would be the next one anyway and nothing in this step follows the round
    (`last`, `nothing_due_before`).
    """

    __slots__ = ("_ex", "_sender", "_receiver", "_kind", "_size", "_arrived", "_value",
                 "_rto", "_attempt")

    def __init__(self, exchange: Exchange, sender: str, receiver: str | None, kind: Segment,
                 size: int, arrived: simpy.Event, value: Any = None, *,
                 spawned: Callable[[], None] | None = None, last: bool = False) -> None:
        self._ex = exchange
        self._sender = sender
        self._receiver = receiver
        self._kind = kind
        self._size = size
        self._arrived = arrived
        self._value = value
        self._rto = INITIAL_RTO
        self._attempt = 0
        if spawned is not None:
            then = spawned
            call_soon(exchange._env.sim, lambda _event: self._round(True, then), URGENT)
        else:
            self._round(last)

    def _timer_fired(self, _event: simpy.Event) -> None:
        """The round's timeout: the wait is over unless the segment's arrival was
        processed first (the wait then ended there, and its next round did nothing)."""
        if self._arrived.callbacks is not None:
            call_soon(self._ex._env.sim, self._next_round)

    def _next_round(self, _event: simpy.Event) -> None:
        self._round(True)

    def _round(self, last: bool, then: Callable[[], None] | None = None) -> None:
        ex = self._ex
        env = ex._env
        if self._arrived.triggered or ex.closed or ex.deadline - env.now <= 0:
            if then is not None:
                then()
            return
        remaining = ex.deadline - env.now
        if self._attempt:
            env.emit(
                self._sender,
                "net",
                "packet.retransmit",
                conn=ex.conn_id,
                segment=self._kind.value,
                attempt=self._attempt,
            )
        sim = env.sim
        timer = ReservedTimeout(sim, min(self._rto, remaining), self._timer_fired)
        self._attempt += 1
        self._rto *= 2
        if then is not None:
            then()
        _Transmission(self, timer, last)


class _Transmission:
    """One transmission of one segment along the path of the moment.

    Driven by callbacks rather than run as a simpy process: an exchange transmits at least
    four segments, and a process per transmission cost a process object, a generator and
    a completion event that nothing waits on. It is scheduled exactly as that process was,
    so every other event keeps its place: it starts at an urgent event of the instant it is
    sent (where simpy put the process's `Initialize`; at once when that is the next event
    anyway), each link's latency is a timeout whose callback carries on (where the process
    resumed), and the only event gone is the unwatched completion. The arrival at the far
    end is processed at once too when it would be the next event (`succeed_last`).

    It fills its round's reserved timeout (`_Sender`) as soon as the segment may miss it:
    when it is lost (always before the timeout's time: it would otherwise have been on a
    link at that time), or when it enters a link it would leave at or after that time.
    """

    __slots__ = ("_segment", "_timer", "_hops", "_link", "_here", "_there", "_entered")

    def __init__(self, segment: _Sender, timer: ReservedTimeout, last: bool) -> None:
        self._segment = segment
        """The segment sent, as its `_Sender` holds it (exchange, ends, kind, size, event)."""
        self._timer = timer
        self._hops: Iterator[tuple[str, str]] = iter(())
        self._link: Link | None = None
        self._here = self._there = ""
        self._entered: tuple[bool, int] = (False, 0)
        sim = segment._ex._env.sim
        if last and nothing_due_before(sim, URGENT):
            self._start(None)
        else:
            call_soon(sim, self._start, URGENT)

    def _lost(self, at: str, link: str | None, reason: str) -> None:
        self._timer.fill()  # the sender will want its next round
        segment = self._segment
        segment._ex._deadline_may_come()
        segment._ex._lost(at, segment._kind, link, reason)

    def _start(self, _event: simpy.Event | None) -> None:
        segment = self._segment
        ex, sender, receiver = segment._ex, segment._sender, segment._receiver
        net = ex._net
        if not net.is_node_up(sender):
            self._lost(sender, None, "node-down")
            return
        if receiver is None:
            self._lost(sender, None, "unknown-address")
            return
        path = net.route(sender, receiver)
        if path is None:
            # A powered-off receiver has no path either; say which case it was.
            reason = "no-route" if net.is_node_up(receiver) else "node-down"
            self._lost(sender, None, reason)
            return
        self._hops = pairwise(path)
        self._next_hop()

    def _next_hop(self) -> None:
        """Onto the next link of the path, or arrived at its end."""
        segment = self._segment
        ex = segment._ex
        for here, there in self._hops:
            link = ex._net.link(here, there)
            entered = link.enter(segment._size)
            if entered is None:
                self._lost(here, link.name, CarryOutcome.LINK_DOWN.value)
                return
            self._link, self._here, self._there, self._entered = link, here, there, entered
            sim = ex._env.sim
            latency = link.latency
            leaves = sim.now + latency
            if leaves >= self._timer.at:
                self._timer.fill()  # still on this link when the round's timeout is due
                ex._deadline_may_come()
            elif ex._deadline is not None and leaves >= ex._deadline.at:
                # (The round's timeout is the deadline's time computed another way: a
                # rounding may put it a hair later.)
                ex._deadline_may_come()
            ex._env.timeout(latency).callbacks.append(self._out_of_link)
            return
        if not segment._arrived.triggered and not ex.closed:
            # This is always the last act of a step (a hop's or a link timeout's only
            # callback, or a transmission started as a round's last act): the arrival
            # is processed at once when it would be the next event anyway.
            succeed_last(ex._env.sim, segment._arrived, segment._value)

    def _out_of_link(self, _event: simpy.Event) -> None:
        segment, link = self._segment, self._link
        if link is None:  # unreachable: a timeout is only armed with its link
            return
        outcome = link.leave(self._entered)
        if outcome is not CarryOutcome.DELIVERED:
            self._lost(self._here, link.name, outcome.value)
            return
        if not segment._ex._net.is_node_up(self._there):
            self._lost(self._here, link.name, "node-down")
            return
        self._next_hop()
