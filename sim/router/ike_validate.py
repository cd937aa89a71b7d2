"""How a router validates the certificate an IKE peer presents (the shell around
`sim.pki.cert_path`).

The peer's identity certificate and the CA certificates it sent are checked against the
CA certificates of the router's authenticated trustpoints (a profile's `pki trustpoint`
list narrows them), at the router's OWN clock, with revocation per the trustpoint's
`revocation-check` and the CRL `sim.router.crl_fetch.acquire_crl` obtains (cache, CDP,
SCEP), and against a `certificate map` when the profile names one
(cisco-client-docs.md 5.4: "Chain to a configured trustpoint CA; revocation per
`revocation-check`; CRL fetched from the cert's CDP (HTTP/LDAP) or via SCEP if none,
cached until NextUpdate").

chosen: revocation is looked up for the peer's own certificate (the one the CRL cache of
a trustpoint holds), not for the intermediate CAs it sent: pkilab keeps one CRL per
trustpoint, as `show crypto pki crls` shows them.

What is printed (cisco-client-docs.md 5.4 [R?]): XE's `%PKI-3-CERTIFICATE_*` syslogs,
worded as `crypto pki certificate validate` prints them (`sim.router.handlers_crl`); on
12.3/15.x, whose IKEv1 reports "`%CRYPTO-5-IKMP_INVAL_CERT: Certificate received from
<ip> is bad: <reason>`" (the release's `ike_inval_cert_syslog`), that line instead.
`debug crypto pki validation` lines are pkilab's wording (the reference: "line texts
... not confirmed"), except "CRYPTO_PKI: Certificate validated without revocation check".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509

from sim.kernel.clock import format_ios_timer
from sim.kernel.process import SimProcess
from sim.pki import cert_path, x509util
from sim.pki.cert_path import CrlAnswer, PathResult, Problem, Reason, Revocation
from sim.pki.revocation_methods import DEFAULT_METHODS, RevocationMethod
from sim.router.crl_fetch import acquire_crl
from sim.router.handlers_crl import (
    EXPIRED_SYSLOG,
    INVALID_SYSLOG,
    NOT_YET_SYSLOG,
    REVOKED_SYSLOG,
)
from sim.router.state import Trustpoint

if TYPE_CHECKING:
    from sim.router.router import Router

INVAL_CERT = "%CRYPTO-5-IKMP_INVAL_CERT: Certificate received from {peer} is bad: {why}"
# chosen: the <reason> words of IKMP_INVAL_CERT; the reference gives the line's shape only.
_INVAL_WHY = {
    Problem.UNTRUSTED: "CA request failed!",
    Problem.BAD_SIGNATURE: "certificate invalid",
    Problem.NOT_A_CA: "certificate invalid",
    Problem.NOT_YET_VALID: "certificate not yet valid",
    Problem.EXPIRED: "certificate expired",
    Problem.REVOKED: "certificate revoked",
    Problem.CRL_UNAVAILABLE: "unknown error returned in certificate validation",
    Problem.MAP_MISMATCH: "certificate map did not match",
}


@dataclass(frozen=True)
class PeerVerdict:
    """The validation's result and the trustpoint whose CA anchored the chain."""

    result: PathResult
    trustpoint: Trustpoint | None
    methods: tuple[RevocationMethod, ...]
    crl: x509.CertificateRevocationList | None

    @property
    def accepted(self) -> bool:
        return self.result.accepted


def anchors(router: Router, names: Sequence[str] = ()) -> list[tuple[Trustpoint, x509.Certificate]]:
    """(trustpoint, CA certificate) for every authenticated trustpoint (only `names` when
    given). chosen: the CA certificates above a subordinate trustpoint's CA (what
    GetCACert returned with it) anchor too, so peers under another sub-CA of the same
    root validate, as IOS's default `chain-validation continue` lets them."""
    found: list[tuple[Trustpoint, x509.Certificate]] = []
    for tp in router.running.trustpoints.values():
        if names and tp.name not in names:
            continue
        for cert in (tp.ca_cert, *tp.ca_chain):
            if cert is not None and all(x509util.cert_der(cert) != x509util.cert_der(c)
                                        for _t, c in found):
                found.append((tp, cert))
    return found


def validate_peer(router: Router, certs: Sequence[x509.Certificate], peer: str, *,
                  trustpoints: Sequence[str] = (),
                  certificate_map: str | None = None,
                  ikev1: bool = True) -> SimProcess[PeerVerdict]:
    """Validate the certificates `peer` sent (identity certificate first), printing what
    IOS prints; a simpy process body (a CRL may have to be fetched)."""
    debug = _debugger(router)
    leaf, supplied = certs[0], list(certs[1:])
    held = anchors(router, trustpoints)
    trusted = [cert for _tp, cert in held]
    now = router.clock.now()
    debug(f"CRYPTO_PKI: Validating certificate chain from {peer}: "
          f"{len(certs)} certificate(s), subject {cert_path.subject_of(leaf)}")
    path = cert_path.build_path(leaf, supplied, trusted)
    tp = next((t for t, c in held if path.anchor is not None
               and x509util.cert_der(c) == x509util.cert_der(path.anchor)), None)
    methods = tp.revocation_methods if tp else DEFAULT_METHODS
    crls: dict[int, CrlAnswer] = {}
    crl = None
    if tp is not None:
        debug(f"CRYPTO_PKI: Found a issuer match: trustpoint {tp.name}")
    if (tp is not None and not cert_path.validity_reasons(path.chain, now)
            and cert_path.needs_crl(methods)):
        issuer = path.chain[1] if len(path.chain) > 1 else None
        outcome = yield from acquire_crl(router, tp, leaf, issuer=issuer)
        crls[0] = CrlAnswer(outcome.crl, outcome.failure)
        crl = outcome.crl
    rules = _map_rules(router, certificate_map)
    result = cert_path.validate(leaf, supplied, trusted, now, methods, crls, rules,
                                revocation_levels=1)
    verdict = PeerVerdict(result, tp, methods, crl)
    if result.accepted:
        if result.revocation is Revocation.SKIPPED:
            debug("CRYPTO_PKI: Certificate validated without revocation check")
        else:
            debug("CRYPTO_PKI: Certificate validated")  # chosen wording
    else:
        for reason in result.reasons:
            debug(f"CRYPTO_PKI: Certificate validation failed: {_describe(reason)}")
        _report(router, result.reasons[0], peer, ikev1)
    _trace(router, verdict, leaf, peer)
    return verdict


def _debugger(router: Router) -> Callable[[str], None]:
    def line(text: str) -> None:
        router.debug_line("pki-validation", text)
    return line


def _map_rules(router: Router, name: str | None
               ) -> list[list[cert_path.MapRule]] | None:
    """The map's sequences in order; a map that does not exist matches nothing (chosen)."""
    if name is None:
        return None
    sequences = router.running.crypto.cert_maps.get(name, {})
    return [list(rules) for _seq, rules in sorted(sequences.items())]


def _describe(reason: Reason) -> str:
    return f"(SN: {reason.serial:02X}) {reason.subject}: {reason.detail}"


def _report(router: Router, reason: Reason, peer: str, ikev1: bool) -> None:
    """The syslog of the first reason the chain failed."""
    if ikev1 and router.release.ike_inval_cert_syslog:
        router.log(INVAL_CERT.format(peer=peer, why=_INVAL_WHY[reason.problem]))
        return
    serial = f"{reason.serial:02X}"
    when = format_ios_timer(reason.boundary) if reason.boundary is not None else ""
    if reason.problem is Problem.REVOKED:
        router.log(REVOKED_SYSLOG.format(serial=serial))
    elif reason.problem is Problem.EXPIRED:
        router.log(EXPIRED_SYSLOG.format(serial=serial, when=when))
    elif reason.problem is Problem.NOT_YET_VALID:
        router.log(NOT_YET_SYSLOG.format(serial=serial, when=when))
    elif reason.problem is not Problem.CRL_UNAVAILABLE:
        # An unobtainable CRL has had its %PKI-3-CRL_FETCH_FAIL (sim.router.crl_fetch).
        router.log(INVALID_SYSLOG)


def _trace(router: Router, verdict: PeerVerdict, leaf: x509.Certificate, peer: str) -> None:
    """`ike/peer.accepted` or `ike/peer.refused`, with what the lifecycle invariant
    "no revoked certificate is accepted by a peer that checks CRLs" reads: the methods,
    and the serials on the CRL consulted (None when none was)."""
    crl = verdict.crl
    router.emit("ike", "peer.accepted" if verdict.accepted else "peer.refused",
                peer=peer, serial=leaf.serial_number,
                issuer=x509util.format_dn_ios(leaf.issuer),
                subject=cert_path.subject_of(leaf),
                trustpoint=verdict.trustpoint.name if verdict.trustpoint else None,
                methods=list(verdict.methods),
                revocation=verdict.result.revocation.value,
                crl_issuer=x509util.format_dn_ios(crl.issuer) if crl is not None else None,
                crl_revoked=sorted(e.serial_number for e in crl) if crl is not None else None,
                crl_this_update=(crl.last_update_utc.isoformat() if crl is not None
                                 else None),
                reasons=[r.problem.value for r in verdict.result.reasons])
