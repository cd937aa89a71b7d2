"""The invariant "every router holds a chain valid at its own clock", checked every day.

A rollover is right only if nobody is ever left without a usable chain: not at the end of
a run, but on every day of it. So, unlike the other invariants (`sim.scenario.invariants`,
judged once the run has settled), this one is also sampled while the run plays: with
`invariants: true` the runner starts `watch`, which looks at every router once a
simulated day (`EVERY`) and records each violation in the trace (`invariant/chain`); the
end-of-run check (`check_valid_chains`) reports those together with a last look.

What a router must hold, looked at with its own clock's `now`:

- each certificate server with a CA certificate: that certificate, and for a
  subordinate the chain above it (`upper_ca_cert`, the trustpoint's CA chain);
- each client trustpoint that renews (`auto-enroll`) and holds a router certificate: that
  certificate and the trustpoint's CA certificate and chain.

Every certificate of the chain must be within its validity at that `now`, and each must
verify with the next up to a self-signed one. chosen: a trustpoint without `auto-enroll`
is not judged (its certificate is allowed to lapse; nothing was asked to renew it); a
router that is off, booting, or whose clock is not set is skipped; and a router whose
clock is more than `SKEW` away from the true time (a fault jumped it) is judged on
signatures only, as `certified` is ("clock jumps make 'now' a matter of opinion").
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography import x509

from sim.kernel.process import SimProcess
from sim.pki import x509util
from sim.router.router import Router
from sim.scenario.world import World

EVERY = 86400.0
"""Simulated seconds between two looks: one a day."""
SKEW = timedelta(minutes=1)
MAX_DEPTH = 8
SHOWN = 20


def router_problems(router: Router, true_now: datetime) -> list[str]:
    """What is wrong with the chains `router` holds at its own clock's now."""
    if not router.up or not router.clock.is_set:
        return []
    now = router.clock.now()
    dated = abs(now - true_now) <= SKEW
    found: list[str] = []
    running = router.running
    for tp in running.trustpoints.values():
        cs = running.servers.get(tp.name)
        if cs is not None:
            cert = cs.ca_cert
            above = [c for c in (cs.upper_ca_cert, tp.ca_cert) if c is not None]
            what = f"certificate server {cs.name}"
        elif tp.renewal_percent is not None:
            cert = tp.id_cert
            above = [c for c in (tp.ca_cert,) if c is not None]
            what = f"trustpoint {tp.name}"
        else:
            continue
        if cert is None:
            continue
        problem = chain_problem(cert, [*above, *tp.ca_chain], now if dated else None)
        if problem:
            found.append(f"{router.name}: {what}: {problem} (at {_stamp(now)} on its clock)")
    return found


def chain_problem(cert: x509.Certificate, candidates: list[x509.Certificate],
                  now: datetime | None) -> str | None:
    """Why `cert` and the CA certificates above it are not a valid chain at `now`
    (None: dates not judged), or None if they are."""
    current = cert
    for _ in range(MAX_DEPTH):
        if now is not None and not (current.not_valid_before_utc <= now
                                    <= current.not_valid_after_utc):
            state = "not yet valid" if now < current.not_valid_before_utc else "expired"
            return (f"certificate serial 0x{current.serial_number:X} "
                    f"({x509util.format_dn_ios(current.subject)}) is {state}: valid "
                    f"{_stamp(current.not_valid_before_utc)} to "
                    f"{_stamp(current.not_valid_after_utc)}")
        if current.issuer == current.subject and x509util.verify_signature(
                current, current.public_key()):
            return None
        parent = next((c for c in candidates if c.subject == current.issuer
                       and x509util.verify_signature(current, c.public_key())), None)
        if parent is None:
            return (f"certificate serial 0x{current.serial_number:X} "
                    f"({x509util.format_dn_ios(current.subject)}) does not chain: no CA "
                    f"certificate it holds verifies it")
        current = parent
    return f"no self-signed certificate within {MAX_DEPTH} certificates"


def look(world: World, before: frozenset[str] = frozenset()) -> frozenset[str]:
    """One look at every router. Each violation goes into the trace, except one the
    previous look (`before`, as returned) already recorded: a chain broken for a year
    is one event when it breaks, not one a day. Returns what is broken now."""
    true_now = world.env.true_time()
    broken: set[str] = set()
    for router in world.routers.values():
        for problem in router_problems(router, true_now):
            what = problem.split(" (at ", 1)[0]
            broken.add(what)
            if what not in before:
                world.env.emit(router.name, "invariant", "chain", problem=problem)
    return frozenset(broken)


def watch(world: World, until: float) -> SimProcess[None]:
    """The daily looks, from one day in until `until`."""
    env = world.env
    broken: frozenset[str] = frozenset()
    while env.now + EVERY < until:
        yield env.timeout(EVERY)
        broken = look(world, broken)


def check_valid_chains(world: World) -> tuple[list[str], str]:
    """The invariant: the violations the daily looks traced, then a last look now."""
    seen = [str(e.data.get("problem")) for e in world.env.trace.select(
        category="invariant", name="chain")]
    known = {p.split(" (at ", 1)[0] for p in seen}
    final = [p for p in _final_look(world) if p.split(" (at ", 1)[0] not in known]
    violations = seen + final
    days = int(world.env.now // EVERY)
    return violations, (f"every router held a valid chain at its own clock, looked at "
                        f"daily ({days} day(s)) and at the end")


def _final_look(world: World) -> list[str]:
    true_now = world.env.true_time()
    return [p for router in world.routers.values()
            for p in router_problems(router, true_now)]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")
