"""NTP on a simulated router: client associations, `ntp master`, and the server side.

Theory of operation. A router with any NTP command (`ntp server`, `ntp master`) runs one
`NtpHost` for the life of a boot. It answers NTP requests on UDP port 123 and keeps one
association per `ntp server` address, plus one for its own clock under `ntp master`.

- An association is polled every 64 s (IOS's minimum poll, 2**6) at first; once it is
  selectable, each run of eight answered polls doubles the interval, up to 1024 s (IOS's
  default maximum, 2**10), and a missed poll brings it back to 64 s (chosen: a simple
  stand-in for NTP's poll-interval adjustment, which IOS shows as `poll` growing from 64
  to 1024 in `show ntp associations`). A server that has not answered for eight polls is
  backed off the same way (RFC 5905 13). Besides matching what a running router shows,
  this keeps a run of simulated years from costing half a million polls a router. A poll
  shifts the 8-bit
  reachability register left; an answer sets its low bit (RFC 1305 section 3.2.3). The
  first poll goes out `FIRST_POLL_SECONDS` after the association is configured.
- Each poll of a server is a real 48-byte NTPv3 request (`sim.router.ntp_packet`) carried
  over the simulated links (`sim.net.datagram`): their latency delays it, their loss or a
  link down loses it, and nothing retransmits (UDP). The server stamps its receive and
  transmit times with its own clock; the client computes offset and delay from the four
  timestamps (RFC 1305 section 3.4.3), so a server's wrong clock is faithfully copied.
- Samples go through RFC 1305's clock filter (eight stages, a missed poll enters a sample
  of dispersion 16 s, dispersion weighted by 1/2 per stage), which gives the delay, offset
  and dispersion `show ntp associations` prints.
- chosen: an association becomes selectable after `SYNC_SAMPLES` (4) answers from a
  synchronized server among its last eight polls (IOS takes "a few polls", minutes, to
  synchronize), and stops being selectable when none of its last eight polls was answered
  (the reachability register is zero: the association has timed out, ~8.5 minutes after
  the last answer) or when its server says it is unsynchronized (leap indicator 3).
  The local clock of `ntp master` is selectable from its first poll (chosen: it is a
  reference clock, nothing to filter).
- The system peer is the selectable association with the lowest stratum, then the
  shortest delay. Becoming synchronized steps the router clock by the peer's offset and
  makes it authoritative ("Time source is NTP"); this is the clock `set` that sends the
  certificate server its `time set` signal. While synchronized, an offset above 128 ms
  steps the clock again (IOS's step threshold; slewing smaller offsets is not modelled).
  Losing the system peer leaves the clock running and valid, marked `.` (authoritative,
  NTP not synchronized), as IOS does.
- `ntp master` with an unset clock makes that clock authoritative when its local
  association syncs: IOS trusts whatever it reads, which is why labs use `ntp master` to
  let a certificate server start.

Nothing here prints on the console: IOS logs no NTP syslog unless `ntp logging` is on,
which pkilab does not model. Changes go to the trace (`ntp/...`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from sim.kernel.clock import TimeSource
from sim.kernel.process import SimProcess
from sim.net.datagram import carry
from sim.router import ntp_packet as wire
from sim.router.show_ntp import MAX_DISPERSION, AssociationView, NtpView

if TYPE_CHECKING:
    from sim.router.router import Router

NTP_PORT = 123
POLL_EXPONENT = 6
MAX_POLL_EXPONENT = 10
"""IOS's default `ntp maxpoll`: 2**10 = 1024 s."""
FIRST_POLL_SECONDS = 1.0
"""chosen: IOS sends its first poll within a second or two of `ntp server`."""
SYNC_SAMPLES = 4
STEP_THRESHOLD = 0.128
"""Seconds: a larger offset steps the clock (NTP's step threshold)."""
DEFAULT_MASTER_STRATUM = 8
"""`ntp master` without a number (cisco-client-docs.md 6)."""
PRECISION = -18
"""The precision a 12.x router announces (2**-18 s)."""
FILTER_STAGES = 8
PHI = 15e-6
"""Dispersion growth, seconds per second (RFC 1305's PHI)."""


@dataclass
class _Sample:
    offset: float
    delay: float
    dispersion: float
    at: float


@dataclass
class Association:
    """One `ntp server` (or the `ntp master` local clock) and what its polls learnt."""

    address: str
    local: bool = False
    active: bool = True
    reach: int = 0
    valid: int = 0
    """The reachability register counting only answers from a synchronized server."""
    polls: int = 0
    poll_exponent: int = POLL_EXPONENT
    """The current poll interval, 2**poll_exponent seconds (64 to 1024)."""
    steady: int = 0
    """Answered polls in a row since the interval last changed."""
    stratum: int = 16
    reference: str = ""
    root_delay: float = 0.0
    root_dispersion: float = 0.0
    last_answer_at: float | None = None
    outstanding: float | None = None
    selectable: bool = False
    samples: list[_Sample] = field(default_factory=list)

    def best(self, now: float) -> tuple[_Sample | None, float]:
        """The filter's chosen sample (lowest delay) and its dispersion (RFC 1305 4.4)."""
        aged = [_Sample(s.offset, s.delay, min(MAX_DISPERSION, s.dispersion + PHI *
                                                (now - s.at)), s.at) for s in self.samples]
        aged += [_Sample(0.0, 0.0, MAX_DISPERSION, now)] * (FILTER_STAGES - len(aged))
        aged.sort(key=lambda s: (s.dispersion >= MAX_DISPERSION, s.delay))
        dispersion = sum(s.dispersion / 2 ** (i + 1) for i, s in enumerate(aged))
        first = aged[0]
        return (None if first.dispersion >= MAX_DISPERSION else first), dispersion

    def add(self, sample: _Sample) -> None:
        self.samples.insert(0, sample)
        del self.samples[FILTER_STAGES:]


def _bits(register: int) -> int:
    return bin(register).count("1")


class NtpHost:
    """The NTP process of one boot of one router."""

    __slots__ = ("router", "associations", "local", "sys_peer", "stratum", "reference_time",
                 "last_update_at", "started_at", "root_delay", "root_dispersion")

    def __init__(self, router: Router) -> None:
        self.router = router
        self.associations: dict[str, Association] = {}
        self.local: Association | None = None
        self.sys_peer: Association | None = None
        self.stratum = 16
        self.reference_time = 0.0
        self.last_update_at: float | None = None
        self.started_at: float | None = None
        self.root_delay = 0.0
        self.root_dispersion = 0.0

    # -- configuration ---------------------------------------------------------------
    def reconcile(self) -> None:
        """Bring the associations in line with the running configuration (called after
        every `ntp` command, typed or read at boot)."""
        router = self.router
        config = router.running.time
        wanted = set(config.ntp_servers)
        for address, assoc in list(self.associations.items()):
            if address not in wanted:
                assoc.active = False
                del self.associations[address]
        for address in config.ntp_servers:
            if address not in self.associations:
                assoc = Association(address)
                self.associations[address] = assoc
                router.spawn(self._poll_loop(assoc))
        if config.ntp_master is None and self.local is not None:
            self.local.active = False
            self.local = None
        elif config.ntp_master is not None:
            refclock = router.release.system.ntp_refclock
            if self.local is None:
                self.local = Association(refclock, local=True)
                router.spawn(self._poll_loop(self.local))
            self.local.stratum = config.ntp_master - 1
            self.local.reference = router.release.system.ntp_local_reference or refclock
        if config.ntp_enabled:
            if self.started_at is None:
                self.started_at = router.env.now
            router.net.udp.listen(router.name, NTP_PORT, self)
        else:
            router.net.udp.unlisten(router.name, NTP_PORT)
            self.started_at = None
        self._select()

    def stop(self) -> None:
        """Power off or reload: the associations stop and nothing answers on port 123
        (the clock's `.` mark is cleared by the next boot, `RouterClock.boot`)."""
        for assoc in self._all():
            assoc.active = False
        self.router.net.udp.unlisten(self.router.name, NTP_PORT)

    def _all(self) -> list[Association]:
        return list(self.associations.values()) + ([self.local] if self.local else [])

    # -- polling ---------------------------------------------------------------------
    def _poll_loop(self, assoc: Association) -> SimProcess[None]:
        env = self.router.env
        yield env.timeout(FIRST_POLL_SECONDS)
        while assoc.active:
            self._poll(assoc)
            yield env.timeout(float(2 ** assoc.poll_exponent))

    def _poll(self, assoc: Association) -> None:
        router = self.router
        if assoc.polls and not assoc.valid & 1:
            assoc.add(_Sample(0.0, 0.0, MAX_DISPERSION, router.env.now))  # a missed poll
            if assoc.reach & 0x7F:
                assoc.poll_exponent = POLL_EXPONENT  # a server that answered lately
            else:
                # Eight polls without an answer: back off, as NTP does for an unreachable
                # server (RFC 5905 13, "the poll interval is increased").
                assoc.poll_exponent = min(assoc.poll_exponent + 1, MAX_POLL_EXPONENT)
            assoc.steady = 0
        elif assoc.polls and not assoc.reach & 0xFE:
            # The first answer after eight silent polls: poll at 64 s again to resynchronize
            # (chosen; NTP restarts an association that becomes reachable at its minimum).
            assoc.poll_exponent, assoc.steady = POLL_EXPONENT, 0
        elif assoc.polls:
            assoc.steady += 1
            if (assoc.selectable and assoc.steady >= FILTER_STAGES
                    and assoc.poll_exponent < MAX_POLL_EXPONENT):
                assoc.poll_exponent, assoc.steady = assoc.poll_exponent + 1, 0
        assoc.reach = (assoc.reach << 1) & 0xFF
        assoc.valid = (assoc.valid << 1) & 0xFF
        assoc.polls += 1
        if assoc.valid == 0 and assoc.selectable:
            assoc.selectable = False
            router.emit("ntp", "association.timeout", server=assoc.address)
        if assoc.local:
            self._local_answer(assoc)
            return
        self._select()
        transmit = wire.to_ntp(router.clock.now())
        assoc.outstanding = transmit
        request = wire.NtpPacket(mode=wire.MODE_CLIENT, stratum=self.stratum,
                                 poll=assoc.poll_exponent, precision=PRECISION,
                                 leap=0 if self.sys_peer else wire.LEAP_ALARM,
                                 transmit=transmit)
        router.emit("ntp", "poll", server=assoc.address, reach=f"{assoc.reach:o}")
        router.spawn(self._send(assoc.address, wire.encode(request)))

    def _local_answer(self, assoc: Association) -> None:
        """`ntp master`: the router's own clock answers at once, offset 0."""
        env = self.router.env
        assoc.reach |= 1
        assoc.valid |= 1
        assoc.last_answer_at = env.now
        assoc.add(_Sample(0.0, 0.0, 2.0 ** PRECISION, env.now))
        assoc.selectable = True
        self._select(assoc)

    def _send(self, address: str, payload: bytes) -> SimProcess[None]:
        """One datagram to `address`:123; handed to whatever NTP listens there."""
        router = self.router
        net = router.net
        target = net.node_for_address(address)
        arrived = yield from carry(net, router.name, target, len(payload), "NTP")
        if not arrived or target is None:
            return
        service = net.udp.listener(target, NTP_PORT)
        if isinstance(service, NtpHost):
            service.receive(router.address, payload)

    # -- receiving -------------------------------------------------------------------
    def receive(self, source: str, payload: bytes) -> None:
        """A datagram for port 123: a request to answer or an answer to a poll."""
        router = self.router
        try:
            packet = wire.decode(payload)
        except ValueError as bad:
            router.emit("ntp", "malformed", source=source, reason=str(bad))
            return
        if packet.mode == wire.MODE_CLIENT:
            self._answer(source, packet)
        elif packet.mode == wire.MODE_SERVER:
            self._on_answer(source, packet)

    def _answer(self, source: str, request: wire.NtpPacket) -> None:
        """The server side: stamp receive and transmit with this router's clock."""
        router = self.router
        now = wire.to_ntp(router.clock.now())
        peer = self.sys_peer
        if peer is None:
            reference_id = b"\0\0\0\0"
        elif peer.local:
            reference_id = wire.address_id(router.release.system.ntp_refclock)
        else:
            reference_id = wire.address_id(peer.address)
        reply = wire.NtpPacket(
            mode=wire.MODE_SERVER, stratum=self.stratum if peer else 16,
            poll=request.poll, precision=PRECISION,
            leap=0 if peer else wire.LEAP_ALARM,
            root_delay=self.root_delay, root_dispersion=self.root_dispersion,
            reference_id=reference_id, reference=self.reference_time,
            originate=request.transmit, receive=now, transmit=now)
        router.spawn(self._send(source, wire.encode(reply)))

    def _on_answer(self, source: str, packet: wire.NtpPacket) -> None:
        router = self.router
        assoc = self.associations.get(source)
        if assoc is None or assoc.outstanding is None or packet.originate != assoc.outstanding:
            return  # not an answer to our latest poll (RFC 1305's originate check)
        t1, t4 = assoc.outstanding, wire.to_ntp(router.clock.now())
        assoc.outstanding = None
        assoc.reach |= 1
        assoc.last_answer_at = router.env.now
        assoc.stratum = packet.stratum
        assoc.reference = wire.id_address(packet.reference_id)
        if packet.leap == wire.LEAP_ALARM or not 0 < packet.stratum < 15:
            if assoc.selectable:
                router.emit("ntp", "association.unsynchronized", server=source)
            assoc.selectable = False
            self._select()
            return
        delay = (t4 - t1) - (packet.transmit - packet.receive)
        offset = ((packet.receive - t1) + (packet.transmit - t4)) / 2
        assoc.valid |= 1
        assoc.root_delay, assoc.root_dispersion = packet.root_delay, packet.root_dispersion
        assoc.add(_Sample(offset, max(delay, 0.0), 2 * 2.0 ** PRECISION + PHI * (t4 - t1),
                          router.env.now))
        if _bits(assoc.valid) >= SYNC_SAMPLES:
            assoc.selectable = True
        self._select(assoc)

    # -- selection and the clock -----------------------------------------------------
    def _select(self, updated: Association | None = None) -> None:
        router = self.router
        now = router.env.now
        preferred = router.running.time.ntp_preferred

        def rank(a: Association) -> tuple[int, bool, float, bool]:
            sample = a.best(now)[0]
            return (a.stratum, a.address not in preferred,
                    sample.delay if sample is not None else MAX_DISPERSION, a.local)

        ranked = sorted((a for a in self._all() if a.selectable and a.active), key=rank)
        peer = ranked[0] if ranked else None
        was = self.sys_peer
        self.sys_peer = peer
        clock = router.clock
        if peer is None:
            self.stratum = 16
            if was is not None:
                router.emit("ntp", "unsynchronized", previous=was.address)
        else:
            self.stratum = peer.stratum + 1
            sample, dispersion = peer.best(now)
            step = sample.offset if sample is not None else 0.0
            if was is not peer or abs(step) > STEP_THRESHOLD:
                clock.set(clock.now() + timedelta(seconds=step), TimeSource.NTP)
                for kept in peer.samples:
                    kept.offset -= step  # the filter's offsets were against the old clock
                router.emit("ntp", "synchronized" if was is not peer else "step",
                            peer=peer.address, stratum=self.stratum,
                            offset=round(step, 6))
            if updated is peer:
                self.reference_time = wire.to_ntp(clock.now())
                self.last_update_at = now
                delay = sample.delay if sample is not None else 0.0
                self.root_delay = peer.root_delay + delay
                self.root_dispersion = peer.root_dispersion + dispersion
        clock.ntp_unsynchronized = (router.running.time.ntp_enabled
                                    and self.sys_peer is None)

    # -- show ------------------------------------------------------------------------
    def view(self) -> NtpView:
        router = self.router
        now = router.env.now
        rows = []
        for assoc in self._all():
            sample, dispersion = assoc.best(now)
            rows.append(AssociationView(
                address=assoc.address,
                reference=assoc.reference or router.release.system.ntp_unknown_reference,
                stratum=assoc.stratum,
                when=None if assoc.last_answer_at is None else int(now - assoc.last_answer_at),
                poll=2 ** assoc.poll_exponent, reach=assoc.reach,
                delay=sample.delay if sample else 0.0,
                offset=sample.offset if sample else 0.0,
                dispersion=dispersion, sys_peer=assoc is self.sys_peer))
        peer = self.sys_peer
        peer_dispersion = peer.best(now)[1] if peer else 0.0
        offset = 0.0
        if peer is not None:
            sample = peer.best(now)[0]
            offset = sample.offset if sample else 0.0
        zone = router.running.timezone
        return NtpView(
            synchronized=peer is not None, stratum=self.stratum,
            reference=None if peer is None else peer.address,
            reference_time=self.reference_time, offset=offset,
            root_delay=self.root_delay if peer else 0.0,
            root_dispersion=self.root_dispersion if peer else 0.0,
            peer_dispersion=peer_dispersion,
            uptime=0.0 if self.started_at is None else now - self.started_at,
            since_update=(None if self.last_update_at is None
                          else int(now - self.last_update_at)),
            poll=2 ** (peer.poll_exponent if peer else POLL_EXPONENT), associations=tuple(rows),
            zone="UTC" if zone is None else zone.name,
            zone_offset=timedelta(0) if zone is None else zone.offset)
