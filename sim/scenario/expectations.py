"""Evaluate a scenario's expectations against the live world at a moment of the run.

Each check returns an `ExpectationResult` with the evidence a person needs to see why it
passed or failed: what was expected, what was observed, and for transcripts the last
relevant console lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.kernel.transcript import find_in_order, transcript_lines
from sim.pki import x509util
from sim.pki.cs_settings import CsMode
from sim.router.router import Router
from sim.scenario.model import (
    CertificateVerifiesExpect,
    Expectation,
    NvramFileExpect,
    ServerStateExpect,
    ShowExpect,
    TranscriptExpect,
)
from sim.scenario.world import World

TAIL_LINES = 8


@dataclass(frozen=True)
class ExpectationResult:
    expectation: Expectation
    passed: bool
    observed: str
    evaluated_at: float
    context: tuple[str, ...] = field(default_factory=tuple)
    """The last relevant transcript or show lines, shown on failure."""

    def to_json(self) -> dict[str, object]:
        return {
            "check": self.expectation.describe(),
            "line": self.expectation.line,
            "passed": self.passed,
            "observed": self.observed,
            "at": round(self.evaluated_at, 6),
            "context": list(self.context),
        }


def evaluate(world: World, expectation: Expectation) -> ExpectationResult:
    router = world.routers[expectation.router]
    now = world.env.now
    match expectation:
        case ServerStateExpect():
            return _server_state(router, expectation, now)
        case TranscriptExpect():
            return _transcript(world, router, expectation, now)
        case ShowExpect():
            return _show(router, expectation, now)
        case NvramFileExpect():
            exists = router.nvram.exists(expectation.file)
            observed = (
                f"nvram:{expectation.file} is present "
                f"({len(router.nvram.read(expectation.file) or b'')} bytes)"
                if exists
                else f"nvram:{expectation.file} is absent"
            )
            return ExpectationResult(
                expectation,
                exists == expectation.exists,
                observed,
                now,
                tuple(router.nvram.listing()),
            )
        case CertificateVerifiesExpect():
            return _certificate(router, expectation, now)
    raise TypeError(f"unknown expectation {expectation!r}")


def _server_state(router: Router, e: ServerStateExpect, now: float) -> ExpectationResult:
    state = router.server_state(e.server)
    if state is None:
        who = f"certificate server {e.server}" if e.server else "certificate server"
        return ExpectationResult(e, False, f"{router.name} has no {who}", now)
    servers = router.running.servers
    cs = servers.get(e.server) if e.server else next(iter(servers.values()))
    observed = f"state {state.value}" + (f" (Status: {cs.status()})" if cs else "")
    return ExpectationResult(e, state is e.state, observed, now)


def _transcript(world: World, router: Router, e: TranscriptExpect, now: float) -> ExpectationResult:
    lines = transcript_lines(world.env.trace, router.name)
    if e.negate:
        hits = [line for line in lines if any(text in line for text in e.lines)]
        observed = f"found {hits[0]!r}" if hits else "none of the lines appear"
        return ExpectationResult(e, not hits, observed, now, tuple(hits[:TAIL_LINES]))
    found, count, missing = find_in_order(lines, e.lines)
    if found:
        return ExpectationResult(e, True, f"all {count} line(s) appear in order", now)
    observed = f"{count} of {len(e.lines)} line(s) found in order; then missing {missing!r}"
    return ExpectationResult(e, False, observed, now, tuple(lines[-TAIL_LINES:]))


def _show(router: Router, e: ShowExpect, now: float) -> ExpectationResult:
    output = router.observe(e.command)
    text = "\n".join(output)
    missing = [t for t in e.contains if t not in text]
    unwanted = [t for t in e.not_contains if t in text]
    if not missing and not unwanted:
        return ExpectationResult(
            e, True, f"{len(output)} lines of output as expected", now, tuple(output)
        )
    problems = [f"missing {t!r}" for t in missing] + [f"contains {t!r}" for t in unwanted]
    return ExpectationResult(e, False, "; ".join(problems), now, tuple(output))


def _certificate(router: Router, e: CertificateVerifiesExpect, now: float
                 ) -> ExpectationResult:
    """The CA certificate of a server or trustpoint verifies up its chain to a self-signed
    root; a trustpoint's enrolled certificate, if any, verifies under that CA; a server's
    certificate matches its key pair and signs its CRL."""
    cs = router.running.servers.get(e.name)
    tp = router.running.trustpoints.get(e.name)
    cert = cs.ca_cert if cs and cs.ca_cert else (tp.ca_cert if tp else None)
    if cert is None:
        return ExpectationResult(e, False, f"no CA certificate under {e.name!r}", now)
    if cs is not None and cs.ca_cert is not None:
        above = ([cs.upper_ca_cert] if cs.upper_ca_cert else []) + list(
            tp.ca_chain[1:] if tp and cs.config.mode is CsMode.SUB_CS else [])
    else:
        above = list(tp.ca_chain[1:]) if tp else []
    chain = [cert, *above]
    problems: list[str] = []
    for child, parent in zip(chain, chain[1:] + [chain[-1]], strict=True):
        if not x509util.verify_signature(child, parent.public_key()):
            problems.append(f"{x509util.format_dn_ios(child.subject)}: signature does not "
                            f"verify with {x509util.format_dn_ios(parent.subject)}")
    if chain[-1].issuer != chain[-1].subject:
        problems.append("the chain does not end at a self-signed root")
    wall = router.clock.now()
    for member in chain:
        if not member.not_valid_before_utc <= wall <= member.not_valid_after_utc:
            problems.append(f"{x509util.format_dn_ios(member.subject)} is not valid at the "
                            f"router's time {wall:%Y-%m-%d %H:%M:%S}")
    key = router.running.keys.get(e.name)
    if cs is not None and key is not None:
        public = key.key.public_key()
        if public.public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
            problems.append("certificate does not match the server's key pair")
    if cs is not None and cs.crl is not None:
        if not x509util.verify_signature(cs.crl, cert.public_key()):
            problems.append("CRL signature does not verify with the CA certificate")
    identity = tp.id_cert if tp is not None and cs is None else None
    if identity is not None and not x509util.verify_signature(identity, cert.public_key()):
        problems.append("the enrolled certificate does not verify with the CA certificate")
    subject = x509util.format_dn_ios(cert.subject)
    if problems:
        return ExpectationResult(e, False, f"{subject}: " + "; ".join(problems), now)
    fingerprint = x509util.fingerprint(x509util.cert_der(cert), "md5")
    what = f"{subject} serial {cert.serial_number} verifies"
    if len(chain) > 1:
        what += f" through {len(chain) - 1} CA(s) above it"
    if identity is not None:
        what += f"; enrolled certificate serial {identity.serial_number} verifies under it"
    return ExpectationResult(e, True, f"{what} (MD5 {fingerprint})", now)
