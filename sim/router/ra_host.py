"""The router side of a certificate server in RA mode: forwarding to the issuing CA.

The core (`sim.pki.ra_forward.RaForwarder`) knows which granted requests are on their way,
when each is due and what to make of the CA's answers. This shell feeds it the router
clock, sends its messages to the issuing CA named by the RA's trustpoint (`enrollment
url`) over the simulated network, and applies the effects through the server host, so an
RA's debug lines, syslog and database writes come out as the rest of the server's do.

`ServerHost` owns one `RaHost` per boot (a reload ends the forwarding; what the request
database kept in nvram starts it again) and pokes it after every batch of server effects:
a grant on the RA, or the RA becoming enabled after a reload, is then seen at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sim.kernel.clock import RouterClock
from sim.kernel.process import SimProcess
from sim.kernel.timers import TimerDriver
from sim.pki import scep
from sim.pki.cs_effects import Debug
from sim.pki.cs_fsm import CsState
from sim.pki.cs_server import CertificateServer
from sim.pki.ra_forward import Forward, RaForwarder, RaIdentity
from sim.pki.scep_client import ScepEndpoint, scep_endpoint
from sim.pki.scep_http import GET_CA_CAPS, get_request, pki_operation_request
from sim.router.pki_http import http_exchange, note_exchange
from sim.router.state import Trustpoint

if TYPE_CHECKING:
    from sim.router.router import Router


class RaHost:
    """Forwards the granted requests of this router's RA-mode server (one per boot)."""

    __slots__ = ("router", "_cores", "_profiles", "_driver", "_running")

    def __init__(self, router: Router) -> None:
        self.router = router
        self._cores: dict[str, RaForwarder] = {}
        self._profiles: dict[str, scep.Profile] = {}
        """The issuing CA's SCEP profile, probed once per boot (GetCACaps)."""
        self._driver: TimerDriver | None = None
        self._running = True
        router.clock.subscribe(self._on_clock_step)

    def stop(self) -> None:
        self._running = False
        if self._driver is not None:
            self._driver.stop()

    def forwarder(self, name: str) -> RaForwarder | None:
        """The forwarding core of the RA-mode server `name`, once it has forwarded."""
        return self._cores.get(name)

    def forget(self, name: str) -> None:
        """`no crypto pki server NAME`: its forwards stop."""
        self._cores.pop(name, None)

    def poke(self, cs: CertificateServer) -> None:
        """Look again: an enabled RA forwards every request it granted that is not yet
        on its way (granted just now, or before a reload)."""
        if not self._running or not cs.config.is_ra or cs.state is not CsState.ENABLED:
            return
        core = self._cores.get(cs.name)
        if core is None or core.cs is not cs:
            core = self._cores[cs.name] = RaForwarder(cs, self.router.random_bytes)
        received = self.router.server_host.scep_service(cs).received
        if core.track(self.router.clock.now(), lambda txn: received.pop(txn, None)):
            self._poke_driver()

    # -- the timed core over every RA of the router -----------------------------------------
    def next_deadline(self) -> datetime | None:
        deadlines = [d for core in self._cores.values() if (d := core.next_deadline())]
        return min(deadlines, default=None)

    def on_timer(self, now: datetime) -> list[tuple[RaForwarder, Forward]]:
        return [(core, fwd) for core in list(self._cores.values())
                for fwd in core.on_timer(now)]

    def _fire(self, due: list[tuple[RaForwarder, Forward]]) -> None:
        for core, fwd in due:
            self.router.spawn(self._forward(core, fwd))

    def _poke_driver(self) -> None:
        if self._driver is None:
            router = self.router
            self._driver = TimerDriver(router.env, router.clock, self, self._fire)
        else:
            self._driver.poke()

    def _on_clock_step(self, clock: RouterClock, _reason: str) -> None:
        """Forwards keep the wait they had left when the router clock steps."""
        if clock.last_step:
            for core in self._cores.values():
                core.on_clock_step(clock.last_step)

    # -- one exchange with the issuing CA ---------------------------------------------------
    def _forward(self, core: RaForwarder, fwd: Forward) -> SimProcess[None]:
        router = self.router
        cs = core.cs
        tp = router.running.trustpoints.get(cs.name)
        retry = timedelta(minutes=tp.retry_period_minutes if tp is not None else 1)
        pair = router.running.keys.get(cs.name)
        endpoint = _endpoint(tp.enrollment_url if tp is not None else None)
        if (tp is None or pair is None or cs.ca_cert is None or tp.ca_cert is None
                or endpoint is None):
            # chosen: the RA lost what it forwards with (its trustpoint, key or URL was
            # removed under it): it says so and tries again after the retry period.
            effects = core.on_failure(fwd, router.clock.now(), retry)
            yield from router.server_host.apply(cs, [Debug(
                f"reqID={fwd.req_id}: the RA's trustpoint {cs.name} cannot reach its CA"),
                *effects[1:]])
            self._poke_driver()
            return
        profile = self._profiles.get(cs.name)
        if profile is None:
            profile = yield from self._probe(cs, endpoint, tp)
        if not core.live(fwd):  # removed or expired while the CA's caps were asked
            return
        ident = RaIdentity(cs.ca_cert, pair.key, tp.ca_cert, profile)
        operation = core.operation(fwd)
        der, effects = core.message(fwd, ident, router.clock.now())
        yield from router.server_host.apply(cs, effects)
        router.record_scep(der, operation, sent=True)
        router.emit("ra", "forward", server=cs.name, req_id=fwd.req_id, operation=operation,
                    transaction=fwd.transaction_id, attempt=fwd.attempts)
        exchange = yield from http_exchange(
            router, endpoint, pki_operation_request(endpoint.path, der, post=profile.post),
            operation)
        now = router.clock.now()
        if exchange.response is None:
            effects = core.on_failure(fwd, now, retry)
        else:
            effects = core.on_reply(fwd, now, exchange.response.body, ident, retry)
            router.record_scep(exchange.response.body, f"CertRep-{fwd.result}", sent=False)
        note_exchange(router, tp, exchange, "PKIOperation", operation,
                      exchange.failure or fwd.result, fwd.transaction_id)
        router.emit("ra", "answer", server=cs.name, req_id=fwd.req_id,
                    result=exchange.failure or fwd.result)
        yield from router.server_host.apply(cs, effects)
        self._poke_driver()

    def _probe(self, cs: CertificateServer, endpoint: ScepEndpoint, tp: Trustpoint
               ) -> SimProcess[scep.Profile]:
        """The issuing CA's capabilities (GetCACaps), kept once the CA has answered; while
        it cannot be reached, IOS 12.3's profile for this try."""
        router = self.router
        exchange = yield from http_exchange(router, endpoint,
                                            get_request(endpoint.path, GET_CA_CAPS, tp.name),
                                            GET_CA_CAPS, quiet=True)
        note_exchange(router, tp, exchange, GET_CA_CAPS, None,
                      exchange.failure or "capabilities")
        if exchange.response is None:
            return scep.IOS_12_3
        profile = scep.profile_from_caps(
            scep.parse_caps(exchange.response.body.decode("latin-1")))
        self._profiles[cs.name] = profile
        return profile


def _endpoint(url: str | None) -> ScepEndpoint | None:
    if not url:
        return None
    try:
        return scep_endpoint(url)
    except ValueError:
        return None
