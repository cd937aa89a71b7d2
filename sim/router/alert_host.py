"""The router side of its certificate expiry alerts: the shell around
`sim.pki.expiry_alerts`.

It tells the core which certificates the router holds (read afresh at every deadline, so
an enrollment, an authentication or a removal needs no bookkeeping), drives the core with
a `TimerDriver`, and logs the warnings it returns. The router pokes it whenever a PKI or
certificate-server event is traced, since those are the moments a certificate can come or
go; a poke only makes the driver look at the deadline again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.kernel.timers import TimerDriver
from sim.pki.enroll_effects import Syslog
from sim.pki.expiry_alerts import ExpiryAlerts, Watched

if TYPE_CHECKING:
    from sim.router.router import Router


class AlertHost:
    """One router's `Expiry Alert Timers`; started at the end of each boot."""

    __slots__ = ("router", "core", "_driver")

    def __init__(self, router: Router) -> None:
        self.router = router
        self.core = ExpiryAlerts(self.watched)
        self._driver = TimerDriver(router.env, router.clock, self.core, self._log)

    def watched(self) -> list[Watched]:
        """`CS(<cs>)` for a certificate server's own CA certificate, `CA(<tp>)` for the CA
        certificate a trustpoint holds (a root server's trustpoint holds its own, watched
        once as `CS`), `ID(<tp>)` for the router's certificate (cisco-cs.md 17)."""
        running = self.router.running
        items: list[Watched] = []
        for tp in running.trustpoints.values():
            renews = tp.auto_enroll_percent is not None
            server = running.servers.get(tp.name)
            own = server.ca_cert if server is not None else None
            # Alerts stop "when auto-enroll is on and a shadow/rollover cert exists"
            # (cisco-client-docs.md 4.4); chosen: a server's own alert stops once its
            # shadow CA certificate exists (`sim.pki.cs_rollover`).
            rolled = server is not None and server.rollover.certificate is not None
            shadowed = tp.shadow.id_cert is not None
            if own is not None and not rolled:
                items.append(Watched(f"CS({tp.name})", tp.name, own, renews))
            if tp.ca_cert is not None and tp.ca_cert != own and not shadowed:
                items.append(Watched(f"CA({tp.name})", tp.name, tp.ca_cert))
            if tp.id_cert is not None and tp.id_cert != own and not shadowed:
                items.append(Watched(f"ID({tp.name})", tp.name, tp.id_cert, renews))
        return items

    def poke(self) -> None:
        self._driver.poke()

    def stop(self) -> None:
        self._driver.stop()

    def _log(self, warnings: list[Syslog]) -> None:
        for warning in warnings:
            self.router.log(warning.text)
