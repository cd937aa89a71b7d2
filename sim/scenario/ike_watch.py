"""The lifecycle invariant "no revoked certificate is accepted by a peer that checks CRLs"
(`no_revoked_accepted`, issue 14), judged from the trace of the IKE peers' validations.

Each `ike/peer.accepted` event (`sim.router.ike_validate`) says which certificate a
router accepted (issuer, serial), its trustpoint's `revocation-check` methods, and the
CRL it consulted (issuer, thisUpdate, the serials on it), or that it consulted none. A
peer "checks CRLs" when `crl` comes before any `none` in its methods. For such a peer,
an acceptance is a violation when:

1. it consulted no CRL and no `none` follows `crl` ("with `crl` alone an unobtainable
   CRL fails validation", cisco-client-docs.md 2);
2. the CRL it consulted lists the certificate;
3. the certificate's CA revoked it (the certificate server's own revocation list at the
   end of the run) at or before that CRL's thisUpdate -- a CRL published after the
   revocation must carry it, so the acceptance shows a wrong CRL or a wrong check.

A CRL published before the revocation may rightly let a revoked peer in: "a revoked peer
keeps working until the cache is refreshed" (cisco-cs.md 9); that is not a violation.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sim.pki import cert_path, x509util
from sim.pki.revocation_methods import methods_of
from sim.scenario.durations import format_duration
from sim.scenario.world import World


def _revocations(world: World) -> dict[tuple[str, int], datetime]:
    """(CA subject as IOS prints it, serial) -> revocation time, from every running
    certificate server."""
    found: dict[tuple[str, int], datetime] = {}
    for router in world.routers.values():
        for cs in router.running.servers.values():
            if cs.ca_cert is None:
                continue
            issuer = x509util.format_dn_ios(cs.ca_cert.subject)
            for serial, when in cs.revoked.items():
                found[(issuer, serial)] = when
    return found


def check_no_revoked_accepted(world: World) -> tuple[list[str], str]:
    """The invariant's violations, and what held."""
    revoked = _revocations(world)
    violations: list[str] = []
    judged = 0
    for event in world.env.trace.select(category="ike", name="peer.accepted"):
        data = event.data
        methods = methods_of(str(m) for m in data.get("methods") or ())
        if not cert_path.needs_crl(methods):
            continue
        judged += 1
        issuer, serial = str(data.get("issuer")), int(data.get("serial", -1))
        when_seen = format_duration(round(event.t, 3))
        who = (f"{event.router} at {when_seen} accepted {data.get('peer')}'s certificate "
               f"(serial 0x{serial:X}, issuer {issuer})")
        on_crl = data.get("crl_revoked")
        if on_crl is None:
            if "none" not in methods:
                violations.append(f"{who} with `revocation-check {' '.join(methods)}` "
                                  "and no CRL")
            continue
        if serial in on_crl and data.get("crl_issuer") == issuer:
            violations.append(f"{who} although the CRL it consulted lists it")
            continue
        when = revoked.get((issuer, serial))
        published = data.get("crl_this_update")
        if when is not None and published is not None and data.get("crl_issuer") == issuer \
                and _utc(when) <= datetime.fromisoformat(str(published)):
            violations.append(f"{who}, revoked at {when:%Y-%m-%d %H:%M:%S} before its CA "
                              f"published the CRL consulted ({published})")
    return violations, (f"{judged} acceptance(s) by peers that check CRLs, none of a "
                        "certificate revoked on the CRL they had")


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
