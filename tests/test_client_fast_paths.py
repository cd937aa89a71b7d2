"""The enrollment client's shortcuts give exactly what the plain code gives: the hex dump of
`crypto pki certificate chain` written in one pass and remembered per CA certificate, and a
client that skips the debug lines nobody prints. They change speed, never output."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from test_enroll_client import Ca, Run, at, summary

from sim.pki import cs_desk, scep, x509util
from sim.pki import enroll_effects as ee
from sim.pki.enroll_client import EnrollmentClient
from sim.pki.scep_http import ca_certificates, read_ca_certificates
from sim.router import show


def _dump_word_by_word(der: bytes, indent: str) -> list[str]:
    """The dump as it was first written: a list of 8-digit words, eight to a line."""
    hexed = der.hex().upper()
    words = [hexed[i:i + 8] for i in range(0, len(hexed), 8)]
    return [indent + " ".join(words[i:i + 8]) for i in range(0, len(words), 8)]


def test_the_one_pass_hex_dump_matches_the_word_by_word_one() -> None:
    """`show running-config` and `show crypto key mypubkey rsa` print DER as IOS does; a
    wrong split would put a word on the wrong line or drop the last short one, and the saved
    certificate chain would no longer load."""
    rng = random.Random(11)
    for size in [*range(0, 80), 160, 161, 162, 163, 1207, 1208]:
        data = rng.randbytes(size)
        assert show._hex_words(data, "  ") == _dump_word_by_word(data, "  "), size
        assert show._hex_words(data, "") == _dump_word_by_word(data, ""), size


def test_a_remembered_ca_certificate_dump_is_the_fresh_dump() -> None:
    """Every router of a CA prints that CA's certificate in its configuration; the copy
    remembered from the first router must be the very lines a fresh dump gives, for each
    CA, also once the oldest have been dropped to make room."""
    ca = Ca.make()
    der = x509util.cert_der(ca.cs.ca_cert)
    first = show.ca_certificate_dump(der)
    assert list(first) == _dump_word_by_word(der, "  ")
    rng = random.Random(12)
    others = [rng.randbytes(700 + i) for i in range(show._CA_DUMPS_KEPT + 3)]
    for other in others:
        assert list(show.ca_certificate_dump(other)) == _dump_word_by_word(other, "  ")
    assert len(show._CA_DUMPS) <= show._CA_DUMPS_KEPT
    assert show.ca_certificate_dump(der) == first
    assert list(show.ca_certificate_dump(others[-1])) == _dump_word_by_word(others[-1], "  ")


def _replay(run: Run) -> list[ee.Effect]:
    """The sub-CA enrollment of scenarios/enrollment/sub-ca-enrollment: pending, polled,
    granted at the CA, collected at the third poll; every effect the client returned."""
    effects = [*run.start(at("21:06:22.598")), *run.answer(at("21:06:22.626")),
               *run.answer(at("21:06:24.230"))]
    deadline = run.fire()
    effects += run.answer(deadline + timedelta(seconds=1.6))
    deadline = run.fire()
    effects += run.answer(deadline + timedelta(seconds=1.6))
    cs_desk.grant(run.ca.cs, 1, at("21:08:01.385"), run.ca.key)
    deadline = run.fire()
    effects += run.answer(deadline + timedelta(seconds=1.6))
    assert run.client.finished
    return effects


def test_a_client_not_debugging_returns_the_same_effects_but_the_debug_lines() -> None:
    """With `debug crypto pki transactions` off the client does not write the CertRep and
    certificate debug lines; everything else (messages sent, their bytes, syslog lines,
    the certificate, the polls) must be what a debugging client returns, or a router's
    console and trace would change with its debug settings."""
    ca = Ca.make()
    debugging = Run(ca)
    quiet = Run(Ca.make())
    quiet.client = EnrollmentClient(quiet.client.request, ee.RetryPolicy(),
                                    random.Random(5).randbytes, debugging=lambda: False)
    loud, silent = _replay(debugging), _replay(quiet)
    assert any(isinstance(e, ee.Debug) and e.text.startswith("Newly-issued Router Cert")
               for e in loud)
    assert not any(isinstance(e, ee.Debug) and e.text.startswith(("Newly-issued", "signing"))
                   for e in silent)
    kept = [e for e in loud if not isinstance(e, ee.Debug)]
    left = [e for e in silent if not isinstance(e, ee.Debug)]
    assert summary(kept) == summary(left)
    assert ([e.der for e in kept if isinstance(e, ee.Send)]
            == [e.der for e in left if isinstance(e, ee.Send)])
    assert ([e.text for e in kept if isinstance(e, ee.Syslog)]
            == [e.text for e in left if isinstance(e, ee.Syslog)])
    # The pending lines, which cost nothing to write, are still returned.
    pending = "CRYPTO_PKI: status = 102: certificate request pending"
    assert ([e for e in loud if isinstance(e, ee.Debug) and e.text == pending]
            == [e for e in silent if isinstance(e, ee.Debug) and e.text == pending] != [])


def test_a_getcacert_answer_read_again_gives_the_same_chain_and_a_bad_one_fails_again() -> None:
    """Every router of a CA authenticates it with the same answer bytes; the chain read once
    and kept must be the chain `read_ca_certificates` reads (same certificates, same order), a
    caller changing its list must not change the next router's, and a malformed answer must
    be refused every time, not only the first."""
    ca = Ca.make()
    body = scep.degenerate_certs([ca.cs.ca_cert, ca.cs.ca_cert])
    kind = scep.CONTENT_TYPES["ca_ra"]
    fresh = read_ca_certificates(kind, body)
    first = ca_certificates(kind, body)
    first.pop()
    again = ca_certificates(kind, bytes(body))
    assert [x509util.cert_der(c) for c in again] == [x509util.cert_der(c) for c in fresh]
    assert len(again) == 2
    for _ in range(2):
        with pytest.raises(ValueError, match="unexpected Content-Type"):
            ca_certificates("text/html", body)
