"""End-of-run invariants of a PKI hierarchy (`invariants: true`, on by default in soaks).

A soak plays faults nobody wrote expectations for, so instead of "this line appears" it
checks what must hold however the faults fell, once the run has settled:

1. `certified`: every router that should hold a certificate holds one, and it chains to
   the root. "Should" = a trustpoint with an enrollment URL in the router's running config
   at the end, for which an enrollment was started (a `pki/scep.request` PKCSReq in the
   trace). A subordinate CS's own CA certificate is what its trustpoint holds. The chain
   is built only from what that router holds (its trustpoint's CA chain, which a reboot
   restores from nvram), as the router itself would have to, and each
   link is checked with `x509util.verify_signature` up to a self-signed certificate; if
   any root CS is running, that certificate must be one of theirs (a root that came back
   with a new CA certificate strands what it issued). Signatures only, not validity
   dates: clock jumps make "now" a matter of opinion.
2. `unique_serials`: no CA issued a serial twice. Every `cs/issued` event of the run
   counts, across reloads, plus serial 1, which a new CS reserves for its CA certificate.
   A CA is (router, server name, generation); `no crypto pki server` ends a generation.
3. `no_lost_grants`: every request that was ever granted is still in its CA's request
   database, granted with that serial -- unless the operator removed it (`cs/request.remove`)
   or it expired. The database's own expiry time is gone with the entry, so expiry is
   taken as certain when the CA logged `reqID=N expired` (`debug crypto pki server`) or
   when `lifetime enrollment-request` has passed since the certificate's notBefore (the
   grant, which is never earlier than the request). A CA that is not running at the end
   is judged on the database it left in nvram. Requests of a deleted CS are not judged.
   A grant whose CA lost power after writing the serial file and before saving its
   request database, and whose certificate nobody received, is a *serial gap*, not a
   lost grant: the serial is spent (never reused), nothing delivered is lost, and the
   request, pending again after the reboot, is granted under a later serial. Gaps are
   reported in what held.
4. `sub_ca_manual`: every certificate with BasicConstraints CA:TRUE was issued by a grant
   typed at that router's console (`cs/request.grant` for that request), never by the
   grant policy. Seed: "Enrollment requests that come from a subordinate certificate
   server must always be manually granted."
5. `within_ca_validity`: every certificate a CA issued lies within its CA certificate's
   validity (notBefore no earlier, notAfter no later): "capped at CA notAfter"
   (cisco-cs.md 3, 8), and an expired CA issues nothing.

Each check is a pure function of the finished `World` (routers, nvram, artifacts, trace)
returning the violations, each with the evidence a person needs: router, CA, serial,
request, subject, when.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cryptography import x509

from sim.pki import x509util
from sim.pki.ca_requests import RequestDatabase, RequestState, request_db_file
from sim.pki.cs_server import CsConfig
from sim.router.router import Router
from sim.scenario import chain_watch, ike_watch
from sim.scenario.durations import format_duration
from sim.scenario.expectations import ExpectationResult
from sim.scenario.model import InvariantExpect
from sim.scenario.world import World

SHOWN = 20
"""Violations listed in a result's context; the count says how many there were."""
MAX_DEPTH = 8
_ISSUED_ARTIFACT = re.compile(r"\d{4}-(?P<server>.+)-issued-(?P<serial>[0-9A-F]+)\.cert\.pem")


@dataclass(frozen=True)
class Issuance:
    """One certificate a CA issued, from the trace (`cs/issued`) and the CA's artifacts."""

    router: str
    server: str
    generation: int
    req_id: int
    serial: int
    subject: str
    t: float
    seq: int
    by_console: bool
    """A `crypto pki server NAME grant` typed at the console issued it, not the policy."""
    certificate: x509.Certificate | None

    @property
    def ca(self) -> str:
        return f"{self.router}/{self.server}" + (f" (generation {self.generation + 1})"
                                                 if self.generation else "")

    def describe(self) -> str:
        return (f"serial 0x{self.serial:X} for {self.subject or '?'} (request {self.req_id}, "
                f"at {_when(self.t)})")


def _when(t: float) -> str:
    return format_duration(round(t, 3))


def evaluate(world: World, expectation: InvariantExpect) -> ExpectationResult:
    """Judge one invariant at the end of the run."""
    violations, fine = CHECKS[expectation.invariant](world)
    now = world.env.now
    if not violations:
        return ExpectationResult(expectation, True, fine, now)
    more = f" (+{len(violations) - 1} more)" if len(violations) > 1 else ""
    observed = f"{len(violations)} violation(s): {violations[0]}{more}"
    return ExpectationResult(expectation, False, observed, now, tuple(violations[:SHOWN]))


# -- what the CAs issued -------------------------------------------------------------------


def issuances(world: World) -> list[Issuance]:
    """Every certificate issued in the run, in order, with its certificate if recorded."""
    generation: dict[tuple[str, str], int] = defaultdict(int)
    console: set[tuple[str, str, int, int]] = set()
    found: list[Issuance] = []
    for event in world.env.trace:
        if event.category != "cs" or event.router is None:
            continue
        server = str(event.data.get("server", ""))
        key = (event.router, server)
        if event.name == "deleted":
            generation[key] += 1
        elif event.name == "request.grant":
            console.add((*key, generation[key], int(event.data["req_id"])))
        elif event.name == "issued":
            req_id = int(event.data["req_id"])
            found.append(Issuance(event.router, server, generation[key], req_id,
                                  int(event.data["serial"]), str(event.data.get("subject", "")),
                                  event.t, event.seq, (*key, generation[key], req_id) in console,
                                  None))
    return _with_certificates(world, found)


def _with_certificates(world: World, found: list[Issuance]) -> list[Issuance]:
    """Pair each issuance with the `<server>-issued-<serial>.cert.pem` artifact the router
    recorded with it: the k-th issuance of a CA is its k-th such artifact."""
    recorded: dict[tuple[str, str], list[tuple[int, x509.Certificate]]] = defaultdict(list)
    for name, router in world.routers.items():
        for filename, data in router.artifacts:
            match = _ISSUED_ARTIFACT.fullmatch(filename)
            if match:
                recorded[(name, match["server"])].append(
                    (int(match["serial"], 16), x509util.load_cert(data)))
    taken: dict[tuple[str, str], int] = defaultdict(int)
    paired = []
    for item in found:
        key = (item.router, item.server)
        certs, index = recorded[key], taken[key]
        taken[key] += 1
        cert = certs[index][1] if index < len(certs) and certs[index][0] == item.serial else None
        paired.append(replace(item, certificate=cert))
    return paired


# -- 1. certified --------------------------------------------------------------------------


def check_certified(world: World) -> tuple[list[str], str]:
    started: dict[tuple[str, str], float] = {}
    for event in world.env.trace.select(category="pki", name="scep.request"):
        if event.data.get("operation") == "PKCSReq" and event.router is not None:
            started.setdefault((event.router, str(event.data.get("trustpoint"))), event.t)
    roots = {x509util.cert_der(cs.ca_cert) for router in world.routers.values()
             for cs in router.running.servers.values()
             if cs.config.mode not in ("sub-cs", "ra") and cs.ca_cert is not None}
    violations: list[str] = []
    count = 0
    for router in world.routers.values():
        for tp in router.running.trustpoints.values():
            since = started.get((router.name, tp.name))
            if not tp.enrollment_url or since is None:
                continue
            count += 1
            cs = router.running.servers.get(tp.name)
            cert = cs.ca_cert if cs is not None else tp.id_cert
            where = f"{router.name}: trustpoint {tp.name}"
            if cert is None:
                held = "its certificate server has no CA certificate" if cs else "no certificate"
                violations.append(f"{where}: enrollment started at {_when(since)}, but it "
                                  f"holds {held}")
                continue
            own = [*tp.ca_chain, *(c for c in (tp.ca_cert, cs and cs.upper_ca_cert) if c)]
            problem = _chain_problem(cert, own, roots)
            if problem:
                violations.append(f"{where}: certificate serial 0x{cert.serial_number:X} "
                                  f"({x509util.format_dn_ios(cert.subject)}) {problem}")
    if not count:
        return violations, "no router started an enrollment"
    return violations, f"{count} enrolled trustpoint(s) hold certificates that chain to the root"


def _chain_problem(cert: x509.Certificate, candidates: list[x509.Certificate],
                   roots: set[bytes]) -> str | None:
    """Why `cert` does not chain to a root, or None if it does."""
    current = cert
    for _ in range(MAX_DEPTH):
        if current.issuer == current.subject and x509util.verify_signature(
                current, current.public_key()):
            if roots and x509util.cert_der(current) not in roots:
                return (f"chains to a self-signed {x509util.format_dn_ios(current.subject)} "
                        "that is no longer any running root CA's certificate")
            return None
        parent = next((c for c in candidates if c.subject == current.issuer
                       and x509util.verify_signature(current, c.public_key())),
                      None)
        if parent is None:
            return (f"does not chain to a root: no known CA certificate "
                    f"{x509util.format_dn_ios(current.issuer)} verifies "
                    f"{x509util.format_dn_ios(current.subject)}")
        current = parent
    return f"does not chain to a root within {MAX_DEPTH} certificates"


# -- 2. unique serials ---------------------------------------------------------------------


def check_unique_serials(world: World) -> tuple[list[str], str]:
    used: dict[tuple[str, str, int], dict[int, Issuance | None]] = defaultdict(
        lambda: {1: None})
    violations: list[str] = []
    found = issuances(world)
    for item in found:
        serials = used[(item.router, item.server, item.generation)]
        if item.serial in serials:
            first = serials[item.serial]
            earlier = ("the serial the CA reserves for its own certificate" if first is None
                       else first.describe())
            violations.append(f"{item.ca}: serial 0x{item.serial:X} issued twice: "
                              f"{earlier}, then {item.describe()}")
            continue
        serials[item.serial] = item
    return violations, (f"{len(found)} certificate(s) from {len(used)} CA(s), "
                        "every serial used once")


# -- 3. no lost grants ---------------------------------------------------------------------


def check_no_lost_grants(world: World) -> tuple[list[str], str]:
    found = issuances(world)
    removed = {(e.router, str(e.data.get("server")), int(e.data["req_id"])): e.seq
               for e in world.env.trace.select(category="cs", name="request.remove")}
    deleted: dict[tuple[str, str], int] = defaultdict(int)
    for event in world.env.trace.select(category="cs", name="deleted"):
        deleted[(str(event.router), str(event.data.get("server")))] += 1
    violations: list[str] = []
    gaps: list[Issuance] = []
    delivered = _delivered(world)
    held = gone = 0
    for item in found:
        if item.generation != deleted[(item.router, item.server)]:
            continue  # the CS was deleted since: its database went with it
        router = world.routers[item.router]
        if (item.serial, item.subject) not in delivered and _lost_before_saved(world, item):
            gaps.append(item)
            continue
        database, problem = _database(router, item.server)
        if database is None:
            violations.append(f"{item.ca}: {item.describe()} was granted, but {problem}")
            continue
        if item.req_id in database:
            held += 1
            entry = database.get(item.req_id)
            if entry.state is not RequestState.GRANTED or entry.serial != item.serial:
                shown = f"serial 0x{entry.serial:X}" if entry.serial else "no serial"
                violations.append(f"{item.ca}: {item.describe()} was granted, but the "
                                  f"database now shows it {entry.state.value} with {shown}")
            continue
        if (removed.get((item.router, item.server, item.req_id), -1) > item.seq
                or _expired(world, router, item)):
            gone += 1
            continue
        violations.append(f"{item.ca}: {item.describe()} was granted, but the request is "
                          "gone from the database (not removed at the console, not expired)")
    summary = (f"{held + gone} granted request(s): {held} still in their CA's database, "
               f"{gone} expired or removed at the console")
    if gaps:
        shown = ", ".join(f"{g.ca} 0x{g.serial:X}" for g in gaps[:SHOWN])
        summary += (f"; {len(gaps)} serial gap(s), spent by a grant that a power loss "
                    f"undid before its CA saved its request database and before anyone "
                    f"received it: {shown}")
    return violations, summary


def _delivered(world: World) -> set[tuple[int, str]]:
    """(serial, subject) of every certificate a requester received."""
    return {(int(e.data["serial"]), str(e.data.get("subject", "")))
            for e in world.env.trace.select(category="pki", name="enroll.granted")}


def _lost_before_saved(world: World, item: Issuance) -> bool:
    """Whether the CA lost power (off or reload) after this grant and before its
    request database was next written."""
    db_file = request_db_file(item.server)
    for event in world.env.trace.select(router=item.router):
        if event.seq <= item.seq:
            continue
        if event.category == "nvram" and event.name == "write" and \
                event.data.get("file") == db_file:
            return False
        if event.category == "power" and event.name in ("off", "reload"):
            return True
    return False


def _database(router: Router, server: str) -> tuple[RequestDatabase | None, str]:
    cs = router.running.servers.get(server)
    if cs is not None:
        return cs.requests, ""
    saved = router.nvram.read(request_db_file(server))
    if saved is None:
        return None, (f"{router.name} runs no server {server} and its nvram holds no "
                      f"{request_db_file(server)}")
    try:
        return RequestDatabase.from_bytes(saved), ""
    except ValueError as bad:
        return None, f"nvram:{request_db_file(server)} is unreadable ({bad})"


def _expired(world: World, router: Router, item: Issuance) -> bool:
    logged = f"CRYPTO_CS: reqID={item.req_id} expired"
    if any(e.seq > item.seq and e.data.get("text") == logged
           for e in world.env.trace.select(router=router.name, category="log", name="debug")):
        return True
    if item.certificate is None:
        return False
    cs = router.running.servers.get(item.server)
    minutes = (cs.config if cs is not None else CsConfig(item.server)
               ).lifetime_enrollment_request_minutes
    granted = item.certificate.not_valid_before_utc
    return router.clock.now() >= granted + timedelta(minutes=minutes)


# -- 4. sub-CA requests granted by hand ----------------------------------------------------


def check_sub_ca_manual(world: World) -> tuple[list[str], str]:
    violations: list[str] = []
    count = rollovers = 0
    held: set[tuple[str, str, str]] = set()
    for item in issuances(world):
        if item.certificate is None or not _is_ca(item.certificate):
            continue
        count += 1
        subject = (item.router, item.server, item.subject)
        if not item.by_console and subject in held and _grants_rollover(world, item):
            # `grant auto rollover ca-cert`: the rollover certificate of a sub-CA that
            # already holds one from this CA is granted without the administrator.
            rollovers += 1
        elif not item.by_console:
            violations.append(f"{item.ca}: sub-CA certificate {item.describe()} was issued "
                              "without a grant typed at the console")
        held.add(subject)
    more = f" ({rollovers} rollover(s) under `grant auto rollover ca-cert`)" if rollovers else ""
    return violations, f"{count} sub-CA certificate(s), each granted at the console{more}"


def _grants_rollover(world: World, item: Issuance) -> bool:
    """The issuing CA has `grant auto rollover ca-cert` (`sim.pki.cs_rollover`)."""
    cs = world.routers[item.router].running.servers.get(item.server)
    return cs is not None and "ca-cert" in cs.config.grant_rollover


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


# -- 5. within the CA's validity -----------------------------------------------------------


def check_within_ca_validity(world: World) -> tuple[list[str], str]:
    """`within_ca_validity`: no CA issued a certificate valid before its own certificate
    starts or after it ends ("issued notAfter = issue time + lifetime, capped at CA
    notAfter", cisco-cs.md 3 and 8; an expired CA issues nothing, 6.3). The issuing CA
    certificate is found among every CA certificate the run knows (the servers', the
    trustpoints', the authenticated chains, the sub-CA certificates issued) by issuer name
    and signature; one that cannot be found (its CA deleted and gone) is counted, not
    judged."""
    found = [item for item in issuances(world) if item.certificate is not None]
    known = _ca_certificates(world, found)
    violations: list[str] = []
    unknown = 0
    for item in found:
        cert = item.certificate
        if cert is None:  # filtered above; kept for the type checker
            continue
        issuers = [ca for ca in known if ca.subject == cert.issuer
                   and x509util.verify_signature(cert, ca.public_key())]
        if not issuers:
            unknown += 1
            continue
        if any(_within(cert, ca) for ca in issuers):
            continue
        ca = issuers[0]
        violations.append(
            f"{item.ca}: {item.describe()} is valid {_stamp(cert.not_valid_before_utc)} to "
            f"{_stamp(cert.not_valid_after_utc)}, beyond its CA certificate "
            f"({x509util.format_dn_ios(ca.subject)}, serial 0x{ca.serial_number:X}), valid "
            f"{_stamp(ca.not_valid_before_utc)} to {_stamp(ca.not_valid_after_utc)}")
    summary = f"{len(found) - unknown} certificate(s) within their CA certificate's validity"
    if unknown:
        summary += f"; {unknown} whose CA certificate is no longer known, not judged"
    return violations, summary


def _within(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    return (ca.not_valid_before_utc <= cert.not_valid_before_utc
            and cert.not_valid_after_utc <= ca.not_valid_after_utc)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _ca_certificates(world: World, found: list[Issuance]) -> list[x509.Certificate]:
    """Every CA certificate of the run: held by a server or a trustpoint, in an
    authenticated chain (`<tp>.ca.pem` artifacts), or issued to a sub-CA."""
    certs: dict[bytes, x509.Certificate] = {}

    def add(cert: x509.Certificate | None) -> None:
        if cert is not None:
            certs.setdefault(x509util.cert_der(cert), cert)

    for router in world.routers.values():
        for cs in router.running.servers.values():
            add(cs.ca_cert)
            add(cs.upper_ca_cert)
        for tp in router.running.trustpoints.values():
            add(tp.ca_cert)
            for cert in tp.ca_chain:
                add(cert)
        for filename, data in router.artifacts:
            if filename.endswith(".ca.pem"):
                for cert in x509.load_pem_x509_certificates(data):
                    add(cert)
    for item in found:
        if item.certificate is not None and _is_ca(item.certificate):
            add(item.certificate)
    return list(certs.values())


CHECKS: dict[str, Callable[[World], tuple[list[str], str]]] = {
    "certified": check_certified,
    "unique_serials": check_unique_serials,
    "no_lost_grants": check_no_lost_grants,
    "sub_ca_manual": check_sub_ca_manual,
    "within_ca_validity": check_within_ca_validity,
    "valid_chains": chain_watch.check_valid_chains,
    "no_revoked_accepted": ike_watch.check_no_revoked_accepted,
}
"""Invariant key (`model.INVARIANTS`) -> check returning (violations, what held)."""
