"""The sans-IO enrollment client: what it sends, prints and waits for, input by input.

Each table is a run of the router shell (`sim/router/pki_client.py`) replayed through the
core: the same inputs at the same router-clock times must give the same console lines and
the same poll deadlines. A real certificate server (`ScepService`) answers, so every
CertRep is real bytes. The last tests run the core in its shell, on simulated time.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from routerkit import START, Lab

from sim.kernel.clock import format_ios_datetime
from sim.pki import cs_desk, scep, x509util
from sim.pki import enroll_effects as ee
from sim.pki.cs_server import CertificateServer, CsConfig
from sim.pki.enroll_client import (
    CERTFAIL,
    CERTRET,
    SOCKETSEND,
    EnrollClientError,
    EnrollmentClient,
    RenewalTimer,
    renewal_request,
)
from sim.pki.keys import KeySource
from sim.pki.scep_service import ScepService
from sim.router.router import Router

ROOT = Path(__file__).resolve().parent.parent
DAY = datetime(2005, 1, 6, tzinfo=UTC)
KEYS = KeySource(9)
PENDING = "CRYPTO_PKI: status = 102: certificate request pending"
VERIFIED = ["The PKCS #7 message has 1 verified signers.", "signing cert: issuer=cn=root1",
            "Signed Attributes:"]


def at(clock: str) -> datetime:
    """`21:06:24.230` on the scenarios' day, Jan 6 2005."""
    hours, minutes, seconds = clock.split(":")
    return DAY + timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds))


def subject(name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])


@dataclass
class Ca:
    """root1, a manual-grant certificate server answering over its SCEP service."""

    cs: CertificateServer
    key: rsa.RSAPrivateKey
    service: ScepService

    @classmethod
    def make(cls, hash_name: str = "sha256") -> Ca:
        key = KEYS.get("root1", 1024)
        cs = CertificateServer(CsConfig("root1", hash=hash_name))
        cs.ca_cert = x509util.make_ca_certificate(key, x509util.parse_dn("CN=root1"), 1,
                                                  DAY, DAY + timedelta(days=1095), hash_name)
        cs.last_serial = 1
        return cls(cs, key, ScepService(cs))

    def answer(self, send: ee.Send | ee.ProbeCaps, now: datetime) -> bytes:
        if isinstance(send, ee.ProbeCaps):
            return self.service.get_ca_caps().body
        reply, _effects = self.service.pki_operation(send.der, now, self.key,
                                                     random.Random(3).randbytes)
        return reply.body


class Run:
    """Drives one client against `Ca` and keeps its console lines as the shell prints them
    (`<router clock stamp>: <text>`)."""

    def __init__(self, ca: Ca, *, name: str = "sub", ca_request: bool = True,
                 policy: ee.RetryPolicy | None = None, url: str | None = "http://10.3.0.6",
                 key_bits: int = 1024, saved_csr: x509.CertificateSigningRequest | None = None,
                 renew: x509.Certificate | None = None, ca_cert: bool = True) -> None:
        self.ca = ca
        request = ee.EnrollmentRequest(
            name, KEYS.get(f"client-{name}", key_bits), subject(name),
            ca.cs.ca_cert if ca_cert else None, url, ca_request=ca_request,
            saved_csr=saved_csr, renew=renew)
        self.client = EnrollmentClient(request, policy or ee.RetryPolicy(),
                                       random.Random(5).randbytes)
        self.lines: list[str] = []
        self.sent: list[ee.Send | ee.ProbeCaps] = []

    def _take(self, now: datetime, effects: list[ee.Effect]) -> list[ee.Effect]:
        for effect in effects:
            if isinstance(effect, ee.Debug | ee.Syslog):
                self.lines.append(f"{format_ios_datetime(now)}: {effect.text}")
            if isinstance(effect, ee.Send | ee.ProbeCaps):
                self.sent.append(effect)
        return effects

    def start(self, now: datetime) -> list[ee.Effect]:
        return self._take(now, self.client.start(now))

    def answer(self, now: datetime) -> list[ee.Effect]:
        """The CA answers the message in flight at `now`."""
        return self._take(now, self.client.on_reply(now, self.ca.answer(self.sent[-1], now)))

    def fail(self, now: datetime, reason: str) -> list[ee.Effect]:
        return self._take(now, self.client.on_failure(now, reason))

    @property
    def messages(self) -> list[ee.Send]:
        """The PKIOperations sent so far."""
        return [s for s in self.sent if isinstance(s, ee.Send)]

    def operations(self) -> list[str]:
        return ["GetCACaps" if isinstance(s, ee.ProbeCaps) else s.operation.value
                for s in self.sent]

    def fire(self) -> datetime:
        """Run the poll timer at its deadline; returns when that was."""
        deadline = self.client.next_deadline()
        assert deadline is not None
        assert self.client.on_timer(deadline - timedelta(milliseconds=1)) == []
        effects = self._take(deadline, self.client.on_timer(deadline))
        # The resend line comes before the message is built and sent (its trace events).
        assert [type(e) for e in effects] == [ee.Debug, ee.Send]
        return deadline


def summary(effects: list[ee.Effect]) -> list[str]:
    """Effects other than console lines, one short word each."""
    words = []
    for effect in effects:
        match effect:
            case ee.ProbeCaps():
                words.append("probe GetCACaps")
            case ee.Send(operation=op, attempt=attempt):
                words.append(f"send {op.value} #{attempt}")
            case ee.Exchanged(operation=operation, message=message, result=result,
                              reply=reply):
                words.append(f"exchanged {message or operation} {result}"
                             + (" +reply" if reply is not None else ""))
            case ee.RequestMade(resumed=resumed):
                words.append("request resumed" if resumed else "request made")
            case ee.Granted(certificate=cert):
                words.append(f"granted {cert.serial_number}")
            case ee.Finished(outcome=outcome, attempts=attempts):
                words.append(f"finished {outcome.value} after {attempts}")
            case ee.Renew(certificate=cert):
                words.append(f"renew {cert.serial_number}")
    return words


def texts(effects: list[ee.Effect]) -> list[str]:
    return [e.text for e in effects if isinstance(e, ee.Debug | ee.Syslog)]


# -- the sub-CA enrollment golden, replayed ------------------------------------------------
TRANSPORT = ("CRYPTO_PKI: can not resolve server name/IP address",
             "CRYPTO_PKI: Using unresolved IP Address", "CRYPTO_PKI: http connection opened",
             "CRYPTO_PKI: received msg of", "CRYPTO_PKI: HTTP response header:")
"""Lines the shell's HTTP binding prints, not the client core."""
STAMPED = re.compile(r"^\*?[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: (.*)$")


def mask(line: str) -> str:
    """Request fingerprints depend on the key, which the scenario draws from its own seed."""
    return re.sub(r"(Fingerprint (?:MD5|SHA1):) .*", r"\1 <fingerprint>", line)


def golden_client_lines() -> list[str]:
    lines = (ROOT / "scenarios/enrollment/sub-ca-enrollment.golden/sub.txt").read_text()
    lines_list = lines.splitlines()
    first = next(i for i, line in enumerate(lines_list) if "transaction PKCSReq completed" in line)
    last = next(i for i, line in enumerate(lines_list) if CERTRET in line)
    kept = []
    for line in lines_list[first:last + 1]:
        match = STAMPED.match(line)
        if match and not match.group(1).startswith(TRANSPORT + ("CRYPTO_CS:",)):
            kept.append(mask(line))
    return kept


def test_replays_the_sub_ca_enrollment_golden_line_for_line() -> None:
    """scenarios/enrollment/sub-ca-enrollment: the sub-CS's PKCSReq is pending, polled 1.5 s
    later, then every minute, granted at root1's console at 21:08:01, collected at the third
    poll. Same lines, same stamps (the polls' stamps are the core's deadlines)."""
    ca = Ca.make()
    run = Run(ca)
    assert summary(run.start(at("21:06:22.598"))) == ["probe GetCACaps"]
    assert run.client.next_deadline() is None
    assert summary(run.answer(at("21:06:22.626"))) == [
        "exchanged GetCACaps capabilities", "request made", "send PKCSReq #0"]
    assert run.messages[-1].profile.post  # a SHA-256 CA offers POSTPKIOperation
    pending = run.answer(at("21:06:24.230"))
    assert summary(pending) == ["exchanged PKCSReq PENDING +reply"]
    # The shell notes the exchange (and keeps the CertRep) after reading it, before the
    # status line: the trace's order.
    assert [type(e) for e in pending] == [ee.Debug] * 3 + [ee.Exchanged, ee.Debug]
    assert run.fire() == at("21:06:25.730")
    assert summary(run.answer(at("21:06:27.334"))) == ["exchanged GetCertInitial PENDING +reply"]
    assert run.fire() == at("21:07:27.334")
    run.answer(at("21:07:28.938"))
    cs_desk.grant(ca.cs, 1, at("21:08:01.385"), ca.key)
    assert run.fire() == at("21:08:28.938")
    done = run.answer(at("21:08:30.542"))
    assert summary(done) == ["exchanged GetCertInitial SUCCESS +reply", "granted 2",
                             "finished granted after 4"]
    assert texts(done)[-1] == CERTRET and isinstance(done[-3], ee.Granted)
    assert [mask(line) for line in run.lines] == golden_client_lines()
    assert run.client.next_deadline() is None and run.client.finished


# -- tables: (input, lines, next deadline) ---------------------------------------------------
ANSWER, FAIL, TIMER, REJECT = "answer", "fail", "timer", "reject"


def play(run: Run, table: list[tuple[str, str, list[str], str | None]]) -> None:
    """Each row: (input, router clock time, the lines it prints, next deadline or None).
    A TIMER row's time is when the previous row's deadline said it would fire."""
    for step, (kind, clock, lines, deadline) in enumerate(table):
        now = at(clock)
        before = len(run.lines)
        if kind == FAIL:
            run.fail(now, "no-route")
        elif kind == ANSWER:
            run.answer(now)
        elif kind == TIMER:
            assert run.fire() == now, f"row {step}: the poll fired at another time"
        elif kind == REJECT:
            cs_desk.reject(run.ca.cs, 1)
        printed = [line.split(": ", 1)[1] for line in run.lines[before:]]
        assert printed == lines, f"row {step} ({kind} at {clock})"
        expected = at(deadline) if deadline else None
        assert run.client.next_deadline() == expected, f"row {step} ({kind} at {clock})"


def test_unreachable_ca_resends_the_pkcsreq_every_period_then_polls() -> None:
    """matrix-enrollment-faults, fault=link-down, grant=manual (r2): the probe and five
    PKCSReqs find no route; each try waits a whole period, including the one after the
    first PENDING, since that is not the transaction's first exchange."""
    run = Run(Ca.make(), name="r2", ca_request=False,
              policy=ee.RetryPolicy(period_minutes=1, count=100))
    run.start(at("21:03:10.000"))
    run.fail(at("21:03:10.000"), "no-route")  # the GetCACaps probe: quiet, IOS 12.3 profile
    assert [mask(line.split(": ", 1)[1]) for line in run.lines] == [
        "CRYPTO_PKI: transaction PKCSReq completed", "CRYPTO_PKI: status:",
        "CRYPTO_PKI:  Certificate Request Fingerprint MD5: <fingerprint>",
        "CRYPTO_PKI:  Certificate Request Fingerprint SHA1: <fingerprint>"]
    assert run.messages[-1].profile == scep.IOS_12_3 and run.operations() == [
        "GetCACaps", "PKCSReq"]
    play(run, [
        (FAIL, "21:03:10.000", [SOCKETSEND], "21:04:10.000"),
        (TIMER, "21:04:10.000", ["CRYPTO_PKI: resend PKCSReq, 1"], None),
        (FAIL, "21:04:10.000", [SOCKETSEND], "21:05:10.000"),
        (TIMER, "21:05:10.000", ["CRYPTO_PKI: resend PKCSReq, 2"], None),
        (FAIL, "21:05:10.000", [SOCKETSEND], "21:06:10.000"),
        (TIMER, "21:06:10.000", ["CRYPTO_PKI: resend PKCSReq, 3"], None),
        (FAIL, "21:06:10.000", [SOCKETSEND], "21:07:10.000"),
        (TIMER, "21:07:10.000", ["CRYPTO_PKI: resend PKCSReq, 4"], None),
        (FAIL, "21:07:10.000", [SOCKETSEND], "21:08:10.000"),
        (TIMER, "21:08:10.000", ["CRYPTO_PKI: resend PKCSReq, 5"], None),
        (ANSWER, "21:08:11.616", VERIFIED + [PENDING], "21:09:11.616"),
        (TIMER, "21:09:11.616", ["CRYPTO_PKI: resend GetCertInitial, 6"], None),
        (ANSWER, "21:09:13.232", VERIFIED + [PENDING], "21:10:13.232"),
    ])
    assert run.operations() == ["GetCACaps"] + ["PKCSReq"] * 6 + ["GetCertInitial"]
    assert [s.attempt for s in run.messages] == [0, 1, 2, 3, 4, 5, 6]


def test_gives_up_after_the_retry_count_with_certfail() -> None:
    """tests/test_router_pki's `enrollment retry count 3`: PKCSReq and three polls, then
    `%PKI-6-CERTFAIL` and `enroll.gave_up` with 4 attempts; here with a 2-minute period."""
    run = Run(Ca.make(), name="r2", ca_request=False,
              policy=ee.RetryPolicy(period_minutes=2, count=3))
    run.start(at("21:01:18.000"))
    run.answer(at("21:01:18.048"))
    play(run, [
        (ANSWER, "21:01:19.700", VERIFIED + [PENDING], "21:01:21.200"),
        (TIMER, "21:01:21.200", ["CRYPTO_PKI: resend GetCertInitial, 1"], None),
        (ANSWER, "21:01:22.800", VERIFIED + [PENDING], "21:03:22.800"),
        (TIMER, "21:03:22.800", ["CRYPTO_PKI: resend GetCertInitial, 2"], None),
        (ANSWER, "21:03:24.400", VERIFIED + [PENDING], "21:05:24.400"),
        (TIMER, "21:05:24.400", ["CRYPTO_PKI: resend GetCertInitial, 3"], None),
        (ANSWER, "21:05:26.000", VERIFIED + [PENDING, CERTFAIL], None),
    ])
    assert run.client.outcome is ee.Outcome.GAVE_UP and run.client.attempts == 4
    assert run.operations() == ["GetCACaps", "PKCSReq"] + ["GetCertInitial"] * 3
    with pytest.raises(EnrollClientError):
        run.client.on_failure(at("21:06:00.000"), "timeout")


def test_a_rejected_request_ends_with_certreject() -> None:
    """reject-and-reenroll: root1 rejects request 1; the next poll reads FAILURE
    (failInfo badRequest) and the trustpoint logs `%PKI-6-CERTREJECT`."""
    run = Run(Ca.make(), name="r2", ca_request=False)
    run.start(at("21:01:18.000"))
    run.answer(at("21:01:18.048"))
    play(run, [
        (ANSWER, "21:01:19.650", VERIFIED + [PENDING], "21:01:21.150"),
        (TIMER, "21:01:21.150", ["CRYPTO_PKI: resend GetCertInitial, 1"], None),
        (ANSWER, "21:01:22.750", VERIFIED + [PENDING], "21:02:22.750"),
        (REJECT, "21:02:00.000", [], "21:02:22.750"),
        (TIMER, "21:02:22.750", ["CRYPTO_PKI: resend GetCertInitial, 2"], None),
        (ANSWER, "21:02:24.348", VERIFIED + [
            "CRYPTO_PKI: status = 1: failInfo = 2",
            "%PKI-6-CERTREJECT: Certificate enrollment request was rejected by Certificate "
            "Authority for Trustpoint r2"], None),
    ])
    assert run.client.outcome is ee.Outcome.REJECTED


# -- starting: what cannot enroll, probes, resumed requests -----------------------------------
@pytest.mark.parametrize("kwargs, why", [
    ({"ca_cert": False}, "no CA certificate"),
    ({"url": None}, "no usable enrollment URL (none)"),
    ({"url": "ftp://10.3.0.6"}, "no usable enrollment URL (ftp://10.3.0.6)"),
    ({"key_bits": 384}, "its key has 384 bits; a request signed with sha256 needs 496"),
], ids=["no-ca-cert", "no-url", "not-http", "key-too-short"])
def test_a_trustpoint_that_cannot_enroll_says_why_and_sends_nothing(kwargs, why) -> None:
    """A trustpoint with no CA certificate, a bad URL or a too-short key would send a request
    anyway or fail without saying why."""
    run = Run(Ca.make(), name="r2", ca_request=False, **kwargs)
    effects = run.start(at("21:01:00.000"))
    assert texts(effects) == [f"CRYPTO_PKI: trustpoint r2 cannot enroll: {why}", CERTFAIL]
    assert effects[-1] == ee.Finished(ee.Outcome.CANNOT_ENROLL, 0, reason=why)
    assert run.sent == [] and run.client.finished and run.client.next_deadline() is None


def test_a_ca_asking_for_a_digest_the_key_cannot_sign_stops_after_the_probe() -> None:
    """A 512-bit key signs SHA-256 but not SHA-512, which a CA offering SHA-512 gets."""
    run = Run(Ca.make(), name="r2", ca_request=False, key_bits=512)
    run.start(at("21:01:00.000"))
    caps = b"SHA-512\nAES\nPOSTPKIOperation\n"
    effects = run.client.on_reply(at("21:01:00.020"), caps)
    assert texts(effects) == [
        "CRYPTO_PKI: trustpoint r2 cannot enroll: its key has 512 bits; a request signed "
        "with sha512 needs 752", CERTFAIL]
    assert summary(effects) == ["exchanged GetCACaps capabilities",
                                "finished cannot enroll after 0"]


def test_a_request_saved_before_a_power_loss_is_sent_again_unchanged() -> None:
    """After a power loss a pending router would send a new request with a new fingerprint, so
    the CA would get a second request instead of a poll of the first."""
    ca = Ca.make()
    first = Run(ca, name="r2", ca_request=False)
    first.start(at("21:01:00.000"))
    made = first.answer(at("21:01:00.020"))
    csr = next(e for e in made if isinstance(e, ee.RequestMade)).enrollment.csr
    again = Run(ca, name="r2", ca_request=False, saved_csr=csr)
    again.start(at("21:09:00.000"))
    effects = again.answer(at("21:09:00.020"))
    assert summary(effects) == ["exchanged GetCACaps capabilities", "request resumed",
                                "send PKCSReq #0"]
    def fingerprints(run: Run) -> list[str]:
        return [line.split(": ", 1)[1] for line in run.lines if "Fingerprint" in line]

    assert len(fingerprints(again)) == 2 and fingerprints(again) == fingerprints(first)
    again.answer(at("21:09:01.600"))
    assert ca.cs.requests.ids() == [1]  # the CA sees a poll of request 1, not a new one


def test_a_reply_that_is_not_a_certrep_counts_as_a_failed_try() -> None:
    """A non-SCEP reply (e.g. an HTML page) would crash enrollment or be retried after 1.5 s
    instead of being logged as a bad reply and retried a period later."""
    run = Run(Ca.make(), name="r2", ca_request=False)
    run.start(at("21:01:00.000"))
    run.answer(at("21:01:00.020"))
    effects = run.client.on_reply(at("21:01:01.000"), b"<html>not scep</html>")
    lines = texts(effects)
    assert lines[0].startswith("CRYPTO_PKI: bad reply from the CA: ")
    assert lines[1:] == [SOCKETSEND]
    assert summary(effects) == ["exchanged PKCSReq bad reply"]
    assert run.client.next_deadline() == at("21:02:01.000")  # a whole period, not 1.5 s


# -- time ------------------------------------------------------------------------------------
def test_a_clock_step_leaves_the_poll_wait_unchanged() -> None:
    """`clock set` or a jump while waiting: the poll still comes one period after the last
    answer in the router's own time, neither at once nor hours later."""
    run = Run(Ca.make(), name="r2", ca_request=False)
    run.start(at("21:01:00.000"))
    run.answer(at("21:01:00.020"))
    run.answer(at("21:01:01.620"))
    run.fire()
    run.answer(at("21:01:04.720"))
    assert run.client.next_deadline() == at("21:02:04.720")
    run.client.on_clock_step(timedelta(hours=-2))
    assert run.client.next_deadline() == at("19:02:04.720")
    assert run.client.on_timer(at("19:01:30.000")) == []
    run.client.on_clock_step(timedelta(hours=3))
    assert run.client.next_deadline() == at("22:02:04.720")
    assert texts(run.client.on_timer(at("22:02:04.720"))) == [
        "CRYPTO_PKI: resend GetCertInitial, 2"]


def test_on_a_grid_polls_fall_whole_periods_after_the_request() -> None:
    """15.x/XE (`RetryPolicy.on_grid`): T-08's router requests at 09:55:38 and logs
    CERTRET at 09:57:39, so polls come at +1 and +2 periods from the request, however
    long each exchange took; a clock step moves the grid with it."""
    run = Run(Ca.make(), name="r2", ca_request=False,
              policy=ee.RetryPolicy(period_minutes=1, count=10, on_grid=True))
    run.start(at("21:01:00.000"))
    run.answer(at("21:01:00.020"))  # the probe: the PKCSReq goes out now
    run.answer(at("21:01:01.620"))  # PENDING
    assert run.client.next_deadline() == at("21:02:00.020")
    run.fire()
    run.answer(at("21:02:04.720"))  # a slow PENDING does not push the grid
    assert run.client.next_deadline() == at("21:03:00.020")
    run.client.on_clock_step(timedelta(hours=-2))
    assert run.client.next_deadline() == at("19:03:00.020")
    run.fire()
    run.answer(at("19:04:30.000"))  # an answer later than a whole period skips to the next
    assert run.client.next_deadline() == at("19:05:00.020")


def test_a_clock_step_leaves_the_renewal_wait_unchanged() -> None:
    """`RENEW <tp>` counts down from when it was armed: a clock stepped six hours ahead
    does not bring the renewal six hours closer."""
    ca = Ca.make()
    cert = issued(ca, at("21:01:19.000"))
    timer = RenewalTimer("ca", lambda: cert, lambda: False)
    due = timer.arm(at("21:01:23.516"), cert, 50)
    assert due is not None
    timer.on_clock_step(timedelta(hours=6))
    assert timer.next_deadline() == due + timedelta(hours=6)
    assert timer.on_timer(due) == []
    assert summary(timer.on_timer(due + timedelta(hours=6))) == [f"renew {cert.serial_number}"]


def test_a_new_retry_count_applies_to_the_retries_still_to_come() -> None:
    """Changing `enrollment retry period/count` while a request is pending would not affect the
    remaining polls."""
    run = Run(Ca.make(), name="r2", ca_request=False, policy=ee.RetryPolicy(1, 10))
    run.start(at("21:01:00.000"))
    run.answer(at("21:01:00.020"))
    run.answer(at("21:01:01.620"))
    run.fire()
    run.client.reconfigure(ee.RetryPolicy(period_minutes=5, count=2))
    run.answer(at("21:01:04.720"))
    assert run.client.next_deadline() == at("21:06:04.720")
    run.fire()
    assert texts(run.answer(at("21:06:06.320")))[-1] == CERTFAIL


def test_inputs_out_of_turn_are_refused() -> None:
    """An enrollment event arriving out of order would be silently mishandled instead of raising
    a clear error."""
    run = Run(Ca.make(), name="r2", ca_request=False)
    with pytest.raises(EnrollClientError, match="on_reply in state new"):
        run.client.on_reply(at("21:01:00.000"), b"")
    run.start(at("21:01:00.000"))
    with pytest.raises(EnrollClientError, match="start in state probing"):
        run.start(at("21:01:00.000"))
    with pytest.raises(EnrollClientError, match="needs its reason"):
        run.client.on_failure(at("21:01:00.000"), "")
    assert run.client.on_timer(at("23:00:00.000")) == []  # nothing armed: nothing to do


@pytest.mark.parametrize("period, count", [(0, 10), (1, -1)])
def test_a_retry_policy_out_of_range_is_an_error(period: int, count: int) -> None:
    """A retry period of 0 or a negative retry count would be accepted and give polls that never
    stop or never happen."""
    with pytest.raises(ValueError):
        ee.RetryPolicy(period, count)


# -- auto-enroll -----------------------------------------------------------------------------
def issued(ca: Ca, granted_at: datetime, lifetime_days: int = 2, name: str = "r2"
           ) -> x509.Certificate:
    """A router certificate root1 issued at `granted_at` with `lifetime certificate DAYS`."""
    ca.cs.config = replace(ca.cs.config, lifetime_certificate_days=lifetime_days)
    run = Run(ca, name=name, ca_request=False)
    run.start(granted_at)
    run.answer(granted_at)
    run.answer(granted_at)
    cs_desk.grant(ca.cs, ca.cs.requests.ids()[-1], granted_at, ca.key)
    run.fire()
    done = run.answer(granted_at + timedelta(seconds=2))
    return next(e for e in done if isinstance(e, ee.Granted)).certificate


def test_renewal_fires_at_its_percentage_of_the_certificates_life() -> None:
    """auto-enroll-renewal: r2's 2-day certificate from 21:01:19 with `auto-enroll 50`
    renews at Jan 7 21:01:19.000, with the certificate it renews."""
    ca = Ca.make()
    cert = issued(ca, at("21:01:19.000"))
    pending = False
    timer = RenewalTimer("ca", lambda: cert, lambda: pending)
    assert timer.arm(at("21:01:23.516"), cert, 50) == at("21:01:19.000") + timedelta(days=1)
    assert timer.on_timer(at("21:01:18.999") + timedelta(days=1)) == []
    deadline = timer.next_deadline()
    assert deadline is not None
    effects = timer.on_timer(deadline)
    assert texts(effects) == [
        "%PKI-6-CERTRENEWAUTO: Renewing the router certificate for trustpoint ca"]
    assert summary(effects) == [f"renew {cert.serial_number}"]
    assert timer.next_deadline() is None  # spent: the next certificate arms it again
    renew = effects[-1]
    assert isinstance(renew, ee.Renew)
    key = KEYS.get("client-r2", 1024)
    request = renewal_request(renew, key, ca.cs.ca_cert, "http://10.3.0.6")
    assert request.renew is cert and request.subject == cert.subject
    other = renewal_request(renew, KEYS.get("client-r9", 1024), ca.cs.ca_cert, "http://10.3.0.6")
    assert other.renew is None  # a new key cannot be vouched for by the old certificate


def test_renewal_is_spent_silently_when_the_certificate_changed_or_one_is_pending() -> None:
    """An auto-enroll renewal would start while an enrollment is already in progress, or renew a
    certificate that was meanwhile replaced or removed."""
    ca = Ca.make()
    cert = issued(ca, at("21:01:19.000"))
    holder: list[x509.Certificate | None] = [cert]
    busy = [True]
    timer = RenewalTimer("ca", lambda: holder[0], lambda: busy[0])
    due = timer.arm(at("21:02:00.000"), cert, 50)
    assert due is not None and timer.on_timer(due) == []  # an enrollment is in progress
    busy[0] = False
    timer.arm(at("21:02:00.000"), cert, 50)
    holder[0] = issued(ca, at("21:05:00.000"), name="r3")  # re-enrolled meanwhile: another serial
    assert timer.on_timer(due) == []
    timer.arm(at("21:02:00.000"), cert, 50)
    holder[0] = None  # `no crypto pki trustpoint`, say
    assert timer.on_timer(due) == []


@pytest.mark.parametrize("percent, armed", [(None, False), (1, False), (80, True)])
def test_renewal_is_armed_only_with_auto_enroll_and_before_its_point(percent, armed) -> None:
    """No `auto-enroll`, or a renewal point already past (1% of two days is gone half an
    hour after issue): no timer."""
    ca = Ca.make()
    cert = issued(ca, at("21:01:19.000"))
    timer = RenewalTimer("ca", lambda: cert, lambda: False)
    deadline = timer.arm(at("21:31:19.000"), cert, percent)
    assert (deadline is not None) is armed
    assert timer.next_deadline() == deadline
    with pytest.raises(ValueError, match="1-100"):
        timer.arm(at("21:31:19.000"), cert, 101)


# -- the router shell: the core's timers on simulated time ----------------------------------
ENROLL_ANSWERS = ("yes", "challenge1", "challenge1", "no", "no", "yes")


def _lab(grant: str, trustpoint: str) -> tuple[Lab, Router]:
    """ca (a certificate server) and r2, whose trustpoint `ca` has enrolled or is pending."""
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    r2 = lab.router("r2", "10.0.0.2")
    lab.net.add_link("ca", "r2", latency=0.005)
    lab.type(ca, f"enable\nconfigure terminal\ncrypto pki server ca\n{grant}\nno shutdown\nend",
             ("cisco123", "cisco123"))
    lab.type(r2, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                 f"enrollment url http://10.0.0.1\n{trustpoint}\nexit\n"
                 "crypto pki authenticate ca\ncrypto pki enroll ca\nend", ENROLL_ANSWERS, settle=30)
    return lab, r2


@pytest.mark.parametrize("hours", [-2, 2])
def test_a_clock_step_while_a_request_is_pending_keeps_the_polls_a_period_apart(
        hours: int) -> None:
    """`clock set` or a jump in the middle of a wait: the next poll still goes one retry
    period after the last answer, neither at once nor hours later."""
    lab, r2 = _lab("", "enrollment retry count 100")
    lab.run(30)
    r2.clock.jump(hours * 3600)
    lab.run(200)
    exchanges = [(e.data["started"], e.t) for e in lab.env.trace.select(
        router="r2", category="scep", name="exchange") if e.data["operation"] == "PKIOperation"]
    gaps = [round(after[0] - before[1], 6) for before, after in pairwise(exchanges)]
    assert len(gaps) >= 4 and gaps == [1.5] + [60.0] * (len(gaps) - 1)


def test_a_clock_step_after_the_grant_leaves_the_renewal_where_it_was() -> None:
    """`auto-enroll 50` on a two-day certificate renews a day after it was issued, on the
    simulated timeline, though the router's clock was stepped six hours ahead meanwhile."""
    lab, r2 = _lab("grant auto\nlifetime certificate 2", "auto-enroll 50")
    cert = r2.running.trustpoints["ca"].id_cert
    assert cert is not None
    r2.clock.jump(6 * 3600)
    lab.run(26 * 3600)
    renewals = lab.env.trace.select(router="r2", category="pki", name="renew")
    half_life = (cert.not_valid_after_utc - cert.not_valid_before_utc) / 2
    due = (cert.not_valid_before_utc + half_life - START).total_seconds()
    assert renewals and renewals[0].data["serial"] == cert.serial_number
    assert renewals[0].t == pytest.approx(due, abs=1e-6)
