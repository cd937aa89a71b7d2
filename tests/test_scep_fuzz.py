"""SCEP fuzzing in CI: mutated and forged messages through a simulated router's HTTP binding.

The service's contract (issue 8): every PKIOperation is answered with a CertRep (HTTP 200,
application/x-pki-message, signed by the CA, echoing the request's transactionID and nonce),
an HTTP 400 or an HTTP 404; no exception escapes `sim.router.http_service.serve`; no serial is
issued twice. `python -m sim.scep_fuzz --count 100000 --seed 1` runs the big version.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from sim.pki import scep, x509util
from sim.pki.keys import KeySource
from sim.pki.scep_client import Enrollment
from sim.pki.scep_fuzz import Answer, ServiceTarget, Tally, fuzz
from sim.pki.scep_mutants import HTTP_400, HTTP_404, PENDING, SUCCESS, Sample, failure
from sim.scep_fuzz import START, RouterTarget, main

COUNT = 2000
"""Messages in the CI run: 10 to 15 s on one core (the command runs 100,000)."""


@pytest.fixture(scope="module")
def keysource() -> KeySource:
    return KeySource(1, Path(os.environ["PKILAB_KEY_CACHE"]))


@pytest.fixture(scope="module")
def router_ca(keysource: KeySource) -> RouterTarget:
    return RouterTarget(keysource, 1, auto=True)


def report(tally: Tally) -> str:
    return "\n".join(tally.lines() + [f"--- {k}\n{v}" for k, v in tally.examples.items()][:5])


# --------------------------------------------------------------------------- the HTTP binding


@pytest.mark.parametrize("query", [
    "operation=PKIOperation&message=AAAAA",
    "operation=PKIOperation&message=%C3%A9t%C3%A9",
    "operation=PKIOperation&message=%FF%FE",
    "operation=PKIOperation",
], ids=["bad-base64", "non-ascii", "not-utf8", "no-message"])
def test_get_without_a_base64_message_is_http_400(router_ca: RouterTarget, query: str) -> None:
    """A ScepError used to escape `serve` (it caught only ValueError)."""
    answer = router_ca.send(Sample("reproduction", "GET", query=query))
    assert (answer.status, answer.content_type) == (400, "text/plain")
    assert answer.body  # says why


def test_empty_post_is_http_400_and_unknown_path_is_404(router_ca: RouterTarget) -> None:
    """A real SCEP client posting nothing or using a wrong path would not get the HTTP 400 or 404 a
    router gives."""
    assert router_ca.send(Sample("reproduction", "POST", b"")).status == 400
    real = router_ca.send(Sample("reproduction", "GET", b"x", path="/cgi-bin/other.exe"))
    assert real.status == 404


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_real_request_by_get_or_post_gets_a_certrep(router_ca: RouterTarget,
                                                      keysource: KeySource,
                                                      method: str) -> None:
    """A well-formed SCEP enrollment by GET or POST to a simulated router would not get back a valid
    certificate."""
    subject = x509util.parse_dn(f"CN=binding-{method.lower()}.lab")
    enrollment = Enrollment("tp", keysource.get(f"binding-{method}", 1024), subject,
                            router_ca.ca_cert, scep.IOS_12_3, random.Random(4).randbytes,
                            router_ca.now())
    answer = router_ca.send(Sample("real", method, enrollment.pkcs_req(router_ca.now())))
    assert (answer.status, answer.content_type) == (200, scep.CONTENT_TYPES["pki"])
    outcome = enrollment.on_cert_rep(answer.body)
    assert outcome.status is scep.PkiStatus.SUCCESS and outcome.certificate is not None
    assert outcome.certificate.subject == subject


# --------------------------------------------------------------------------- the fuzz run


def test_fuzzed_scep_messages_get_a_certrep_400_or_404_and_no_serial_twice(
        keysource: KeySource) -> None:
    """A few thousand real, mutated and forged messages by GET and POST, to four simulated
    CAs: `grant auto` and manual, IOS 12.3's `hash md5` (no caps) and `hash sha256`."""
    settings = [(True, "sha256"), (False, "md5"), (True, "md5"), (False, "sha256")]

    def make(n: int) -> RouterTarget:
        auto, hash_name = settings[n % len(settings)]
        return RouterTarget(keysource, 100 + n, auto=auto, hash_name=hash_name)

    tally = fuzz(make, keysource.get, COUNT, 20050106, per_target=COUNT // len(settings))
    assert tally.uncaught == 0, report(tally)
    assert not tally.violations, report(tally)
    assert not tally.unexpected, report(tally)
    assert tally.serials_issued_twice == 0, report(tally)
    # The run reached what it is meant to reach: every kind of input, every kind of answer.
    assert tally.targets == 4 and tally.messages == COUNT
    for label in ("real", "mutant", "re-signed", "forged", "http"):
        assert tally.by_label[label] > 0, report(tally)
    for outcome in (SUCCESS, PENDING, HTTP_400, HTTP_404, "GetCACert",
                    *(failure(f) for f in (scep.FailInfo.BAD_ALG,
                                           scep.FailInfo.BAD_MESSAGE_CHECK,
                                           scep.FailInfo.BAD_REQUEST,
                                           scep.FailInfo.BAD_CERT_ID))):
        assert tally.outcomes[outcome] > 0, (outcome, report(tally))
    assert tally.issued >= 50, report(tally)


# --------------------------------------------------------------------------- the harness


class Broken(ServiceTarget):
    """A service that breaks every rule the fuzzer checks, on some messages."""

    def __init__(self, keysource: KeySource, flaw: str) -> None:
        super().__init__(keysource.get, START, auto=True)
        self.flaw = flaw
        self.sent = 0

    def send(self, sample: Sample) -> Answer:
        self.sent += 1
        answer = super().send(sample)
        if self.sent % 5 == 0 and sample.label != "bootstrap":
            if self.flaw == "raise":
                raise scep.ScepError(scep.FailInfo.BAD_REQUEST, "escaped")
            if self.flaw == "500":
                return Answer(500, "text/plain", b"")
            if self.flaw == "unsigned":
                return Answer(200, answer.content_type, answer.body[:-1] + b"\x00")
        return answer

    def issued_serials(self) -> list[int]:
        serials = super().issued_serials()
        return serials + serials[:1] if self.flaw == "serial twice" else serials


@pytest.mark.parametrize("flaw", ["raise", "500", "unsigned", "serial twice"])
def test_the_fuzzer_reports_each_kind_of_broken_answer(keysource: KeySource, flaw: str) -> None:
    """The SCEP fuzzer would report a clean run even when a server crashes, answers 500, skips
    signing or reuses serials."""
    tally = fuzz(lambda n: Broken(keysource, flaw), keysource.get, 40, 7)
    found = {"raise": tally.uncaught, "500": sum(tally.violations.values()),
             "unsigned": sum(tally.violations.values()),
             "serial twice": tally.serials_issued_twice}[flaw]
    assert found > 0 and tally.problems >= found, report(tally)


def test_fuzz_command_prints_the_counts(capsys: pytest.CaptureFixture[str]) -> None:
    """The SCEP fuzz command would fail, find problems on a healthy router, or not print its summary
    counts."""
    code = main(["--count", "60", "--seed", "3", "--per-target", "30",
                 "--key-cache", os.environ["PKILAB_KEY_CACHE"]])
    out = capsys.readouterr().out
    assert code == 0, out
    for line in ("messages: 60 (to 2 fresh CAs)", "uncaught exceptions: 0",
                 "contract violations: 0", "serials issued twice: 0", "wall time: "):
        assert line in out, out
