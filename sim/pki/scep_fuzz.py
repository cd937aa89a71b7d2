"""Fuzzing a SCEP service: send real, mutated and forged requests, judge every answer, count.

The contract checked (issue 8): every PKIOperation gets a CertRep (HTTP 200,
`application/x-pki-message`, a pkiMessage that parses, is a CertRep, is signed by the CA,
and echoes the request's transactionID and senderNonce whenever the request itself could be
read), an HTTP 400 or an HTTP 404; nothing raises; no serial number is issued twice. Forged
cases must also get the answer the server's policy gives them (`Sample.expect`).

A target is anything that answers a :class:`~sim.pki.scep_mutants.Sample`: the bare service
(:class:`ServiceTarget`, here) or a simulated router behind its HTTP binding (the command
module `sim.scep_fuzz`). Targets are replaced every ``per_target`` messages, which bounds what
one certificate server accumulates (its request database is rewritten on every new request)
and starts each with a new CA. No printing: :meth:`Tally.lines` renders the counts.
"""

from __future__ import annotations

import random
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.utils import CryptographyDeprecationWarning

from sim.pki import cs_desk, scep, x509util
from sim.pki.ca_requests import RequestState
from sim.pki.cs_effects import CertificateIssued, Effect, Elapse
from sim.pki.cs_server import CertificateServer, CsConfig
from sim.pki.cs_settings import GrantMode, SignatureHash
from sim.pki.scep_client import Enrollment
from sim.pki.scep_corpus import Corpus, Keys
from sim.pki.scep_mutants import HTTP_400, HTTP_404, PENDING, SUCCESS, Sample, failure
from sim.pki.scep_service import ScepService


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


class Target(Protocol):
    """A SCEP server under test."""

    auto: bool
    """The server grants router requests at once (`grant auto`)."""
    http: bool
    """Requests go through the HTTP binding (HTTP-level samples make sense)."""
    ca_cert: x509.Certificate

    def now(self) -> datetime: ...

    def send(self, sample: Sample) -> Answer: ...

    def grant_all(self) -> None: ...

    def issued_serials(self) -> list[int]: ...


# --------------------------------------------------------------------------- judging


def _certrep_outcome(sample: Sample, answer: Answer, ca_cert: x509.Certificate
                     ) -> tuple[str, str]:
    """(outcome, contract problem or "") for an HTTP 200 answer to a PKIOperation."""
    if answer.content_type != scep.CONTENT_TYPES["pki"]:
        return "HTTP 200", f"Content-Type {answer.content_type!r}"
    try:
        reply = scep.parse_pki_message(answer.body)
    except scep.ScepError as bad:
        return "HTTP 200", f"the reply does not parse: {bad}"
    if reply.message_type is not scep.MessageType.CERT_REP or reply.pki_status is None:
        return "HTTP 200", "the reply is not a CertRep"
    if reply.pki_status is scep.PkiStatus.FAILURE:
        if reply.fail_info is None:  # the parser refuses this already; keeps the type narrow
            return "FAILURE", "FAILURE without failInfo"
        outcome = failure(reply.fail_info)
    else:
        outcome = reply.pki_status.name
    if not reply.signature_valid or reply.signer_cert != ca_cert:
        return outcome, "the CertRep is not signed by the CA"
    if reply.pki_status is scep.PkiStatus.SUCCESS and reply.enveloped is None:
        return outcome, "SUCCESS without content"
    try:
        request = scep.parse_pki_message(sample.der)
    except scep.ScepError:
        return outcome, ""
    if request.signature_valid and (reply.transaction_id != request.transaction_id
                                    or reply.recipient_nonce != request.sender_nonce):
        return outcome, "the CertRep does not echo the transactionID and nonce"
    return outcome, ""


def judge(sample: Sample, answer: Answer, ca_cert: x509.Certificate) -> tuple[str, str]:
    """(outcome, contract problem or "") for one answer."""
    for operation in ("GetCACaps", "GetCACert"):
        if sample.query is not None and f"operation={operation}" in sample.query:
            return (operation, "") if answer.status == 200 else (
                f"HTTP {answer.status}", f"{operation} answered {answer.status}")
    if answer.status == 400:
        return HTTP_400, ""
    if answer.status == 404:
        return HTTP_404, ""
    if answer.status != 200:
        return f"HTTP {answer.status}", f"HTTP {answer.status} is not in the contract"
    return _certrep_outcome(sample, answer, ca_cert)


@dataclass
class Tally:
    """Counts over a fuzz run, and the first example of each problem."""

    messages: int = 0
    targets: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    by_label: Counter[str] = field(default_factory=Counter)
    exceptions: Counter[str] = field(default_factory=Counter)
    violations: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    issued: int = 0
    serials_issued_twice: int = 0
    examples: dict[str, str] = field(default_factory=dict)

    def record(self, sample: Sample, answer: Answer, ca_cert: x509.Certificate) -> None:
        self.messages += 1
        self.by_label[sample.label.split(" ")[0]] += 1
        outcome, problem = judge(sample, answer, ca_cert)
        self.outcomes[outcome] += 1
        if problem:
            key = f"{sample.label}: {problem}"
            self.violations[key] += 1
            self.examples.setdefault(key, sample.der[:2000].hex())
        elif sample.expect and outcome not in sample.expect:
            key = f"{sample.label}: got {outcome}, expected {' or '.join(sorted(sample.expect))}"
            self.unexpected[key] += 1
            self.examples.setdefault(key, sample.der[:2000].hex())

    def record_exception(self, sample: Sample, exc: BaseException) -> None:
        self.messages += 1
        key = f"{sample.label}: {type(exc).__name__}: {exc}"[:300]
        self.exceptions[key] += 1
        self.examples.setdefault(key, "".join(traceback.format_exception(exc)))

    @property
    def uncaught(self) -> int:
        return sum(self.exceptions.values())

    @property
    def problems(self) -> int:
        """Exceptions, contract violations, wrong answers to forged cases, serial reuse."""
        return (self.uncaught + sum(self.violations.values()) + sum(self.unexpected.values())
                + self.serials_issued_twice)

    def lines(self) -> list[str]:
        """The report, one line each."""
        out = [f"messages: {self.messages} (to {self.targets} fresh CAs)"]
        out += [f"  {name}: {count}" for name, count in sorted(self.by_label.items())]
        out.append("outcomes:")
        out += [f"  {name}: {count}" for name, count in sorted(self.outcomes.items())]
        out.append(f"uncaught exceptions: {self.uncaught}")
        out += [f"  {count} x {key}" for key, count in self.exceptions.most_common(20)]
        out.append(f"contract violations: {sum(self.violations.values())}")
        out += [f"  {count} x {key}" for key, count in self.violations.most_common(20)]
        out.append(f"forged cases answered against policy: {sum(self.unexpected.values())}")
        out += [f"  {count} x {key}" for key, count in self.unexpected.most_common(20)]
        out.append(f"certificates issued: {self.issued}")
        out.append(f"serials issued twice: {self.serials_issued_twice}")
        return out


# --------------------------------------------------------------------------- running


def enroll_once(target: Target, keys: Keys, rng: random.Random
                ) -> tuple[x509.Certificate, rsa.RSAPrivateKey] | None:
    """A certificate from ``target`` for a requester of our own (the signer of real
    renewals): PKCSReq, a grant if it is pending, GetCertInitial. None if that fails."""
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "fuzz-renew.lab")])
    enrollment = Enrollment("fuzz", keys("fuzz-renew", 1024), subject, target.ca_cert,
                            scep.IOS_12_3, rng.randbytes, target.now())
    try:
        outcome = enrollment.on_cert_rep(
            target.send(Sample("bootstrap", "GET", enrollment.pkcs_req(target.now()))).body)
        if outcome.status is scep.PkiStatus.PENDING:
            target.grant_all()
            poll = Sample("bootstrap", "GET", enrollment.get_cert_initial(target.now()))
            outcome = enrollment.on_cert_rep(target.send(poll).body)
    except scep.ScepError:
        return None
    if outcome.certificate is None:
        return None
    return outcome.certificate, enrollment.key


def fuzz(make_target: Callable[[int], Target], keys: Keys, count: int, seed: int, *,
         per_target: int = 2000, grant_every: int = 150,
         progress: Callable[[Tally], None] | None = None) -> Tally:
    """Send ``count`` samples drawn with ``random.Random(seed)``; a new target every
    ``per_target`` samples; with manual granting, an administrator's `grant all` every
    ``grant_every`` samples so that polls find certificates too. ``progress`` is called
    with the counts so far after each target."""
    rng = random.Random(seed)
    tally = Tally()
    done = 0
    with warnings.catch_warnings():
        # Mutated certificates trip cryptography's deprecation warnings (negative serials
        # and the like): expected with hostile input, and not what is under test.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        while done < count:
            target = make_target(tally.targets)
            tally.targets += 1
            renewal = enroll_once(target, keys, rng)
            if renewal is None:
                tally.violations["bootstrap: our own client could not enroll"] += 1
            corpus = Corpus(target.ca_cert, keys, target.now(), rng, auto=target.auto,
                            http=target.http, renewal=renewal)
            for n in range(min(per_target, count - done)):
                sample = corpus.draw()
                try:
                    answer = target.send(sample)
                except Exception as exc:  # noqa: BLE001 - counting them is the point
                    tally.record_exception(sample, exc)
                else:
                    tally.record(sample, answer, target.ca_cert)
                if not target.auto and n % grant_every == grant_every - 1:
                    target.grant_all()
                done += 1
            serials = target.issued_serials()
            tally.issued += len(serials)
            tally.serials_issued_twice += len(serials) - len(set(serials))
            if progress is not None:
                progress(tally)
    return tally


# --------------------------------------------------------------------------- the bare service


class ServiceTarget:
    """`ScepService.pki_operation` on a certificate server of its own, no HTTP.

    The fastest path: what the HTTP binding adds (GET decoding, the 400s and 404s) is left
    to targets behind it. Time advances by the service's own `Elapse` effects.
    """

    http = False

    def __init__(self, keys: Keys, start: datetime, *, auto: bool, hash_name: str = "sha256",
                 seed: int = 0) -> None:
        self.auto = auto
        self._key = keys("fuzz-ca", 1024)
        self.cs = CertificateServer(CsConfig(
            "ca", grant=GrantMode.AUTO if auto else GrantMode.MANUAL,
            hash=SignatureHash(hash_name)))
        self.ca_cert = x509util.make_ca_certificate(
            self._key, x509util.parse_dn("CN=fuzz-ca, O=pkilab"), 1, start,
            start + timedelta(days=1095), hash_name)
        self.cs.ca_cert = self.ca_cert
        self.cs.last_serial = 1
        self.cs.crl_der = self.cs.issue_crl(start, self._key)
        self.service = ScepService(self.cs)
        self._now = start
        self._rng = random.Random(seed)
        self._serials: list[int] = []

    def now(self) -> datetime:
        return self._now

    def _apply(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, Elapse):
                self._now += timedelta(seconds=effect.seconds)
            elif isinstance(effect, CertificateIssued):
                self._serials.append(effect.certificate.serial_number)

    def send(self, sample: Sample) -> Answer:
        reply, effects = self.service.pki_operation(sample.der, self._now, self._key,
                                                    self._rng.randbytes)
        self._apply(effects)
        return Answer(reply.status, reply.content_type, reply.body)

    def grant_all(self) -> None:
        for req_id in self.cs.requests.ids(RequestState.PENDING):
            self._apply(cs_desk.grant(self.cs, req_id, self._now, self._key))

    def issued_serials(self) -> list[int]:
        return list(self._serials)


__all__ = ["HTTP_400", "HTTP_404", "PENDING", "SUCCESS", "Answer", "ServiceTarget", "Tally",
           "Target", "fuzz", "judge"]
