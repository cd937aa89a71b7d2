"""Links: the only place where propagation delay, loss and link failure happen.

Endpoints never sleep to fake wire delay (SimPy's latency example, Mininet's links): a
segment is handed to `Link.carry`, which draws its loss from the run's RNG, waits the
link latency in simulated time and reports whether the segment came out at the far end.
A link that goes down while a segment is on it loses that segment, even if it comes back
up before the segment would have arrived: an interface flap flushes what was in flight.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum

from sim.kernel.env import SimEnv
from sim.kernel.process import SimProcess


class CarryOutcome(StrEnum):
    """What happened to one segment on one link; the values appear in the trace."""

    DELIVERED = "delivered"
    LOSS = "loss"
    LINK_DOWN = "link-down"


class Link:
    """A point-to-point link between two routers.

    `latency` is the one-way propagation delay in seconds; `loss` is the probability that
    a segment is lost, drawn independently per segment and per direction.
    """

    def __init__(
        self,
        env: SimEnv,
        a: str,
        b: str,
        latency: float = 0.001,
        loss: float = 0.0,
        on_change: Callable[[Link], None] | None = None,
    ) -> None:
        if a == b:
            raise ValueError(f"a link needs two different routers, got {a!r} twice")
        if not math.isfinite(latency) or latency < 0:
            raise ValueError(f"link {a}--{b}: latency must be a finite number >= 0, got {latency}")
        self._env = env
        self.endpoints: tuple[str, str] = (a, b)
        self._latency = float(latency)
        self._loss = 0.0
        self.loss = loss
        self._up = True
        self._epoch = 0  # bumped on every down transition; in-flight segments compare it
        self._on_change = on_change

    # -- reading -------------------------------------------------------------------
    @property
    def name(self) -> str:
        """`a--b` in the order the link was declared; the form used in the trace."""
        return f"{self.endpoints[0]}--{self.endpoints[1]}"

    @property
    def latency(self) -> float:
        return self._latency

    @latency.setter
    def latency(self, value: float) -> None:
        # Latency is a routing weight: the network re-keys its path caches (see
        # Network.set_link_params), so change it through the network, not directly.
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"link {self.name}: latency must be a finite number >= 0, "
                             f"got {value}")
        self._latency = float(value)

    @property
    def loss(self) -> float:
        return self._loss

    @loss.setter
    def loss(self, value: float) -> None:
        # Loss does not change paths, so it may be changed on a live link without
        # invalidating any route cache.
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"link {self.name}: loss must be within [0, 1], got {value}")
        self._loss = float(value)

    @property
    def up(self) -> bool:
        return self._up

    def other(self, node: str) -> str:
        """The far end of the link as seen from `node`."""
        a, b = self.endpoints
        if node == a:
            return b
        if node == b:
            return a
        raise ValueError(f"{node!r} is not an endpoint of link {self.name}")

    def __repr__(self) -> str:
        state = "up" if self._up else "down"
        return f"Link({self.name}, latency={self._latency}, loss={self._loss}, {state})"

    # -- changing ------------------------------------------------------------------
    def set_up(self, up: bool) -> None:
        """Bring the link up or down; traces `link.up` / `link.down` on a real change only."""
        if up == self._up:
            return
        self._up = up
        if not up:
            self._epoch += 1
        a, b = self.endpoints
        self._env.emit(None, "link", "link.up" if up else "link.down", link=self.name, a=a, b=b)
        if self._on_change is not None:
            self._on_change(self)

    # -- propagation ---------------------------------------------------------------
    def transmit(self, packet_size: int = 0) -> bool:
        """Decide whether one segment survives the link's loss (True) or is lost.

        The RNG is consulted only when the outcome is actually random, so lossless links
        do not shift the random stream seen by the rest of the run. `packet_size` is
        accepted for a future size-dependent loss or serialisation model; it is unused.
        """
        del packet_size
        if self._loss <= 0.0:
            return True
        if self._loss >= 1.0:
            return False
        return self._env.rng.random() >= self._loss

    def carry(self, packet_size: int = 0) -> SimProcess[CarryOutcome]:
        """Propagate one segment across the link (a simpy sub-generator).

        Loss is drawn when the segment enters the link; link failure is judged when it
        would come out, so a flap during the flight loses it.
        """
        entered = self.enter(packet_size)
        if entered is None:
            return CarryOutcome.LINK_DOWN
        yield self._env.timeout(self._latency)
        return self.leave(entered)

    # `carry` in two halves, for a caller driven by callbacks rather than a generator
    # (`sim.net.transport`): `enter` when the segment is sent, `leave` once `latency` later.
    def enter(self, packet_size: int = 0) -> tuple[bool, int] | None:
        """A segment enters the link: None if the link is down (lost at once), else
        (whether it survives the loss draw, the link's epoch now)."""
        if not self._up:
            return None
        survives = self.transmit(packet_size)
        return survives, self._epoch

    def leave(self, entered: tuple[bool, int]) -> CarryOutcome:
        """What came out of the far end of a segment `enter` let in, `latency` ago."""
        survives, epoch = entered
        if not self._up or self._epoch != epoch:
            return CarryOutcome.LINK_DOWN
        return CarryOutcome.DELIVERED if survives else CarryOutcome.LOSS
