"""The enrollment client meets a trustpoint it cannot enroll with: it says so, it does not
crash (issue 8: an `auto-enroll` renewal firing after `no enrollment url` hit an assert)."""

from __future__ import annotations

from routerkit import Lab

from sim.kernel.transcript import transcript_lines
from sim.router.pki_client import start_enrollment, trustpoint_key
from sim.router.router import Router


def _enrolled_lab(auto_enroll: str = "") -> tuple[Lab, Router, Router]:
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    client = lab.router("r1", "10.0.0.2")
    lab.net.add_link("ca", "r1")
    lab.type(ca, "enable\nconfigure terminal\ncrypto pki server ca\ngrant auto\n"
                 "lifetime certificate 2\nno shutdown\nend", ("secretpass", "secretpass"))
    lab.type(client, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                     f"enrollment url http://10.0.0.1\n{auto_enroll}\nexit\n"
                     "crypto pki authenticate ca\ncrypto pki enroll ca\nend",
             ("yes", "pw", "pw", "no", "no", "yes"))
    return lab, ca, client


def test_a_renewal_after_no_enrollment_url_fails_cleanly() -> None:
    """An `auto-enroll` renewal after `no enrollment url` would crash the lab or drop the router's
    certificate instead of logging `%PKI-6-CERTFAIL`."""
    lab, _ca, client = _enrolled_lab("auto-enroll 50")
    tp = client.running.trustpoints["ca"]
    first = tp.id_cert
    assert first is not None
    lab.type(client, "configure terminal\ncrypto pki trustpoint ca\nno enrollment url\nend")
    lab.run(26 * 3600)  # past the renewal point (half of two days)
    lines = "\n".join(transcript_lines(lab.env.trace, "r1"))
    assert "%PKI-6-CERTRENEWAUTO" in lines
    assert "%PKI-6-CERTFAIL: Certificate enrollment failed." in lines
    assert tp.id_cert is first, "the certificate it holds is kept"
    assert [e.data["reason"] for e in lab.env.trace.select(
        router="r1", category="pki", name="enroll.impossible")] == [
        "no usable enrollment URL (none)"]


def test_start_enrollment_refuses_a_url_that_is_not_http() -> None:
    """Enrolling against an `ftp://` enrollment URL would crash or hang instead of logging
    `%PKI-6-CERTFAIL`."""
    lab, _ca, client = _enrolled_lab()
    tp = client.running.trustpoints["ca"]
    tp.enrollment_url = "ftp://10.0.0.1"
    key = trustpoint_key(client, tp)
    assert tp.id_cert is not None
    assert not start_enrollment(client, tp, key=key, subject=tp.id_cert.subject,
                                ca_request=False)
    lab.run(5)
    assert "%PKI-6-CERTFAIL" in "\n".join(transcript_lines(lab.env.trace, "r1"))


def test_crl_request_with_a_url_that_is_not_http_answers_at_the_console() -> None:
    """`crypto pki crl request` with an `ftp://` enrollment URL would print a Python traceback
    instead of a `%` error at the console."""
    lab, _ca, client = _enrolled_lab()
    lines = lab.type(client, "configure terminal\ncrypto pki trustpoint ca\n"
                             "enrollment url ftp://10.0.0.1\nend\ncrypto pki crl request ca")
    text = "\n".join(lines)
    assert "Traceback" not in text
    assert "crypto pki crl request ca" in text
    assert "%" in text.split("crypto pki crl request ca", 1)[1]
