"""Datagrams: one UDP packet at a time across the simulated links (for TFTP).

Unlike the HTTP exchange (`sim.net.transport`), nothing here retransmits: a datagram is
carried once along the path of the moment and either arrives or is lost, and the
protocol above it (TFTP's lock-step timeouts) decides what to do. Links own the delay
and the loss (`Link.carry`); losses are traced as `packet.lost` like TCP segments.

`UdpPorts` is the network's table of who answers on which UDP port of which node.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, Any

from sim.kernel.process import SimProcess
from sim.net.link import CarryOutcome

if TYPE_CHECKING:
    from sim.net.topology import Network

UDP_OVERHEAD = 28
"""IPv4 + UDP header bytes added to each datagram's payload."""


class UdpPorts:
    """Listeners by (node, port); the value is whatever the service registered."""

    def __init__(self) -> None:
        self._listeners: dict[tuple[str, int], Any] = {}

    def listen(self, node: str, port: int, service: Any) -> None:
        """Register `service` (replacing an earlier one: a reboot registers again)."""
        self._listeners[(node, port)] = service

    def unlisten(self, node: str, port: int) -> None:
        self._listeners.pop((node, port), None)

    def listener(self, node: str, port: int) -> Any:
        return self._listeners.get((node, port))


def carry(net: Network, sender: str, receiver: str | None, payload: int, kind: str
          ) -> SimProcess[bool]:
    """One transmission of one datagram of `payload` bytes from `sender` to `receiver`
    (a node name, or None for an address no node has): True if it arrived."""
    env = net.env

    def lost(at: str, link: str | None, reason: str) -> bool:
        env.emit(at, "net", "packet.lost", segment=kind, link=link, reason=reason)
        return False

    if not net.is_node_up(sender):
        return lost(sender, None, "node-down")
    if receiver is None:
        return lost(sender, None, "unknown-address")
    path = net.route(sender, receiver)
    if path is None:
        return lost(sender, None, "no-route" if net.is_node_up(receiver) else "node-down")
    for here, there in pairwise(path):
        link = net.link(here, there)
        outcome = yield from link.carry(payload + UDP_OVERHEAD)
        if outcome is not CarryOutcome.DELIVERED:
            return lost(here, link.name, outcome.value)
        if not net.is_node_up(there):
            return lost(here, link.name, "node-down")
    return True
