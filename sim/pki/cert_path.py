"""Certificate path validation the way an IOS router checks an IKE peer (sans-IO).

Theory of operation. A peer presents its identity certificate and the CA certificates
above it; the router holds trust anchors (the CA certificates of the trustpoints it has
authenticated). Validation has three steps, and this module does each as a pure function
of its inputs -- nothing here fetches a CRL or reads a clock:

1. `build_path`: from the peer's certificate, follow issuer names through the supplied
   certificates and the anchors, each link checked by its signature, until a certificate
   an anchor issued (or an anchor itself) is reached. "Chain to a configured trustpoint
   CA" (cisco-client-docs.md 5.4).
2. Validity: "a cert is expired/invalid if system time is after notAfter or before
   notBefore; valid if time is at or between them (boundaries inclusive). This is checked
   on every IKE authentication" (cisco-client-docs.md 5.4, TN-Time). `now` is the
   validating router's own clock, so an unset clock (IOS counts from Mar 1 1993) makes a
   good peer "not yet valid".
3. `check_revocation`: the trustpoint's `revocation-check` methods, tried in order: `crl`
   decides with a usable CRL from the certificate's issuer; when none can be had the next
   method is tried; `none` accepts; with `crl` alone "an unobtainable CRL fails
   validation" (cisco-client-docs.md 2). The caller fetches the CRLs (the router's CDP
   or SCEP download, `sim.router.crl_fetch`) and passes what it got.

`certificate map` matching (`map_matches`) is the fourth check a profile may ask for
(cisco-client-docs.md 5.3): within one sequence every rule must hold; a map matches
when one of its sequences does.

`validate` puts the steps together and returns every reason a certificate failed, the
first one being what the router reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from cryptography import x509
from cryptography.x509.oid import NameOID

from sim.pki import x509util
from sim.pki.revocation_methods import RevocationMethod

MAX_DEPTH = 8
"""Longest chain followed: pkilab's bound (IOS hierarchies seen are 2-4 levels deep)."""


class Problem(StrEnum):
    """Why a certificate of the presented chain is not accepted."""

    UNTRUSTED = "untrusted"
    """No chain reaches a trustpoint's CA certificate."""
    BAD_SIGNATURE = "bad-signature"
    NOT_A_CA = "not-a-ca"
    """A certificate in the issuer position may not sign certificates."""
    NOT_YET_VALID = "not-yet-valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    CRL_UNAVAILABLE = "crl-unavailable"
    """`revocation-check crl` and no usable CRL could be had."""
    MAP_MISMATCH = "certificate-map"


@dataclass(frozen=True)
class Reason:
    """One failed check: which certificate (serial, subject as IOS prints it) and why."""

    problem: Problem
    serial: int
    subject: str
    detail: str = ""
    boundary: datetime | None = None
    """notBefore for NOT_YET_VALID, notAfter for EXPIRED, the revocation date for REVOKED."""


@dataclass(frozen=True)
class PathBuild:
    """What `build_path` found: the chain from the peer's certificate up to and including
    the anchor it reached (empty when none), the anchor, and what failed on the way."""

    chain: tuple[x509.Certificate, ...]
    anchor: x509.Certificate | None
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class CrlAnswer:
    """What the router could get for one certificate's issuer: a CRL, or why not."""

    crl: x509.CertificateRevocationList | None
    failure: str | None = None


class Revocation(StrEnum):
    """How the revocation step ended when nothing was found revoked."""

    CHECKED = "checked"
    """A CRL from each issuer showed the certificates not revoked."""
    SKIPPED = "skipped"
    """`revocation-check none`, or `crl none` when no CRL could be had."""
    NOT_DONE = "not-done"
    """The path failed before revocation was looked at."""


@dataclass(frozen=True)
class PathResult:
    """The verdict: accepted or not, the chain, the anchor, every reason, and how
    revocation was settled."""

    accepted: bool
    chain: tuple[x509.Certificate, ...]
    anchor: x509.Certificate | None
    reasons: tuple[Reason, ...]
    revocation: Revocation


@dataclass(frozen=True)
class MapRule:
    """One line of `crypto pki certificate map LABEL SEQ`: `FIELD OP VALUE`.

    Fields `subject-name`, `issuer-name`, `unstructured-subject-name`, `alt-subject-name`,
    `name` (subject or issuer); operators `eq`, `ne`, `co`, `nc`; "name matching
    case-insensitive" (cisco-client-docs.md 5.3)."""

    field: str
    op: str
    value: str


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def subject_of(cert: x509.Certificate) -> str:
    return x509util.format_dn_ios(cert.subject)


def _same(a: x509.Certificate, b: x509.Certificate) -> bool:
    return x509util.cert_der(a) == x509util.cert_der(b)


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """`issuer` named `cert`'s issuer and its key verifies `cert`'s signature."""
    return (cert.issuer == issuer.subject
            and x509util.verify_signature(cert, issuer.public_key()))


def build_path(leaf: x509.Certificate, supplied: Sequence[x509.Certificate],
               anchors: Sequence[x509.Certificate]) -> PathBuild:
    """Follow issuers from `leaf` through `supplied` (the peer's CA certificates) to one
    of `anchors`. A certificate whose issuer is named but whose signature does not verify
    with any candidate is BAD_SIGNATURE; one whose issuer is nowhere is UNTRUSTED."""
    chain = [leaf]
    current = leaf
    for _depth in range(MAX_DEPTH):
        if any(_same(current, anchor) for anchor in anchors):
            return PathBuild(tuple(chain), current, ())
        named = [c for c in (*anchors, *supplied) if c.subject == current.issuer
                 and not _same(c, current)]
        issuer = next((c for c in named if issued_by(current, c)), None)
        if issuer is None:
            problem = Problem.BAD_SIGNATURE if named else Problem.UNTRUSTED
            detail = ("signature does not verify with its issuer's key" if named else
                      "issuer " + x509util.format_dn_ios(current.issuer)
                      + " is not a trusted CA")
            return PathBuild(tuple(chain), None,
                             (Reason(problem, current.serial_number, subject_of(current),
                                     detail),))
        if not x509util.can_sign_certificates(issuer):
            return PathBuild(tuple(chain), None,
                             (Reason(Problem.NOT_A_CA, issuer.serial_number,
                                     subject_of(issuer), "not a CA certificate"),))
        chain.append(issuer)
        current = issuer
    return PathBuild(tuple(chain), None,
                     (Reason(Problem.UNTRUSTED, leaf.serial_number, subject_of(leaf),
                             f"no trusted CA within {MAX_DEPTH} certificates"),))


def validity_reasons(chain: Sequence[x509.Certificate], now: datetime) -> tuple[Reason, ...]:
    """Each certificate of `chain` outside its validity at `now` (boundaries inclusive),
    from the trust anchor down. chosen: that order (the chain checked from the trusted CA
    towards the peer), so the first reason names the highest certificate out of date: an
    expired sub-CA rather than the router certificates its expiry cut short."""
    moment = _utc(now)
    reasons = []
    for cert in reversed(chain):
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        if moment < start:
            reasons.append(Reason(Problem.NOT_YET_VALID, cert.serial_number,
                                  subject_of(cert), "not yet valid", start))
        elif moment > end:
            reasons.append(Reason(Problem.EXPIRED, cert.serial_number, subject_of(cert),
                                  "expired", end))
    return tuple(reasons)


def needs_crl(methods: Sequence[RevocationMethod]) -> bool:
    """Whether the methods consult a CRL before anything settles the question."""
    for method in methods:
        if method is RevocationMethod.CRL:
            return True
        if method is RevocationMethod.NONE:
            return False
    return False


def crl_usable(crl: x509.CertificateRevocationList, issuer: x509.Certificate,
               now: datetime) -> str | None:
    """None when `crl` can decide for certificates `issuer` signed; else why not."""
    if crl.issuer != issuer.subject or not x509util.verify_signature(crl, issuer.public_key()):
        return "CRL is not signed by the certificate's issuer"
    next_update = crl.next_update_utc
    if next_update is not None and _utc(now) > next_update:
        return "CRL has expired"
    return None


def check_revocation(chain: Sequence[x509.Certificate], methods: Sequence[RevocationMethod],
                     crls: Mapping[int, CrlAnswer], now: datetime,
                     levels: int | None = None) -> tuple[tuple[Reason, ...], Revocation]:
    """Revocation of the certificates of `chain` below its anchor (the last one): all of
    them, or the first `levels` from the peer's own certificate.

    `crls[i]` is what the router got from the issuer of `chain[i]`. Methods are tried in
    order: `crl` settles it with a usable CRL; `ocsp` is not modelled and never answers
    (chosen); `none` accepts. With no method left, CRL_UNAVAILABLE."""
    reasons: list[Reason] = []
    skipped = False
    below = chain[:-1] if levels is None else chain[:-1][:levels]
    for index, cert in enumerate(below):
        issuer = chain[index + 1]
        settled = False
        why = "no revocation method could decide"
        for method in methods:
            if method is RevocationMethod.NONE:
                settled, skipped = True, True
                break
            if method != "crl":
                continue
            answer = crls.get(index, CrlAnswer(None, "no CRL fetched"))
            problem = answer.failure if answer.crl is None else crl_usable(answer.crl,
                                                                              issuer, now)
            if problem is not None or answer.crl is None:
                why = problem or "no CRL"
                continue
            entry = answer.crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if entry is not None:
                reasons.append(Reason(Problem.REVOKED, cert.serial_number, subject_of(cert),
                                      "revoked", entry.revocation_date_utc))
            settled = True
            break
        if not settled:
            reasons.append(Reason(Problem.CRL_UNAVAILABLE, cert.serial_number,
                                  subject_of(cert), why))
    return tuple(reasons), (Revocation.SKIPPED if skipped else Revocation.CHECKED)


# -- certificate maps --------------------------------------------------------------------
def _field_values(cert: x509.Certificate, field: str) -> list[str]:
    if field == "subject-name":
        return [subject_of(cert)]
    if field == "issuer-name":
        return [x509util.format_dn_ios(cert.issuer)]
    if field == "name":
        return [subject_of(cert), x509util.format_dn_ios(cert.issuer)]
    if field == "unstructured-subject-name":
        oid = x509.ObjectIdentifier("1.2.840.113549.1.9.2")
        return [str(a.value) for a in cert.subject.get_attributes_for_oid(oid)]
    if field == "alt-subject-name":
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return []
        return [str(getattr(name, "value", "")) for name in san]
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]


def rule_holds(cert: x509.Certificate, rule: MapRule) -> bool:
    values = [v.lower() for v in _field_values(cert, rule.field)]
    wanted = rule.value.lower()
    if rule.op == "eq":
        return wanted in values
    if rule.op == "ne":
        return wanted not in values
    if rule.op == "co":
        return any(wanted in v for v in values)
    if rule.op == "nc":
        return not any(wanted in v for v in values)
    return False


def map_matches(cert: x509.Certificate, sequences: Sequence[Sequence[MapRule]]) -> bool:
    """A certificate map (its sequences in order) matches `cert` when every rule of one
    sequence holds. A sequence with no rules matches everything, as in IOS."""
    return any(all(rule_holds(cert, rule) for rule in rules) for rules in sequences)


# -- the whole check ---------------------------------------------------------------------
def validate(leaf: x509.Certificate, supplied: Sequence[x509.Certificate],
             anchors: Sequence[x509.Certificate], now: datetime,
             methods: Sequence[RevocationMethod],
             crls: Mapping[int, CrlAnswer],
             certificate_map: Sequence[Sequence[MapRule]] | None = None,
             revocation_levels: int | None = None) -> PathResult:
    """Every check in IOS's order: path to a trustpoint, validity at the router's `now`,
    revocation (only for a path that is otherwise good: IOS does not fetch CRLs for a
    certificate it already refused), then the certificate map."""
    path = build_path(leaf, supplied, anchors)
    if path.anchor is None:
        return PathResult(False, path.chain, None, path.reasons, Revocation.NOT_DONE)
    dated = validity_reasons(path.chain, now)
    if dated:
        return PathResult(False, path.chain, path.anchor, dated, Revocation.NOT_DONE)
    revoked, revocation = check_revocation(path.chain, methods, crls, now,
                                           revocation_levels)
    if revoked:
        return PathResult(False, path.chain, path.anchor, revoked, revocation)
    if certificate_map is not None and not map_matches(leaf, certificate_map):
        reason = Reason(Problem.MAP_MISMATCH, leaf.serial_number, subject_of(leaf),
                        "does not match the certificate map")
        return PathResult(False, path.chain, path.anchor, (reason,), revocation)
    return PathResult(True, path.chain, path.anchor, (), revocation)
