"""The enrollment client's per-CA memos give what working it out again gives: the split
of a GetCACert answer into CA and RA certificates, the CA certificate's fingerprints, the
profile a GetCACaps answer selects and the endpoint an enrollment URL names. They are kept
because every router of a CA asks the same question; they change speed, never output."""

from __future__ import annotations

import pytest
from test_der_once import Lab

from sim.pki import scep, x509util
from sim.pki.enroll_client import caps_profile_of
from sim.pki.ra_forward import split_ra_answer
from sim.pki.scep_client import scep_endpoint
from sim.router.pki_client import _ca_fingerprints, _split_ra_answer


@pytest.fixture(scope="module")
def lab() -> Lab:
    return Lab()


def test_remembered_ra_split_equals_a_fresh_one(lab: Lab) -> None:
    """Splitting the same answer again gives the same CA and RA certificates as the
    general split, in lists the caller may change. If not, a router authenticating a CA
    after another router did could trust an RA as its CA, or lose the RA beside it."""
    for certs in ([lab.ca], [lab.issued, lab.ca], [lab.ca, lab.issued], [lab.issued]):
        expected = split_ra_answer(list(certs))
        first = _split_ra_answer(list(certs))
        again = _split_ra_answer(list(certs))
        assert first == expected and again == expected
        first[0].append(lab.ca)
        first[1].clear()
        assert _split_ra_answer(list(certs)) == expected


def test_remembered_ca_fingerprints_equal_fresh_ones(lab: Lab) -> None:
    """`crypto pki authenticate` shows the fingerprints of the certificate it got, however
    many routers asked before. If not, an operator comparing them with the CA's `show
    crypto pki server` would reject the CA."""
    for cert in (lab.ca, lab.issued, lab.ca):
        der = x509util.cert_der(cert)
        assert _ca_fingerprints(der) == (x509util.fingerprint(der, "md5"),
                                         x509util.fingerprint(der, "sha1"),
                                         x509util.fingerprint_hex(der, "md5"))


@pytest.mark.parametrize("body", [
    b"POSTPKIOperation\nSHA-256\nAES\nSCEPStandard\n",
    b"DES3\r\nSHA-1\r\n",
    b"",
    b"GetNextCACert\nRenewal\n",
])
def test_remembered_caps_profile_equals_a_fresh_one(body: bytes) -> None:
    """The algorithms a client picks from a GetCACaps answer are the same the first time
    and every time after, and for a body that is not `bytes`. If not, a router would sign
    or encrypt its request with algorithms other than those the CA offered."""
    expected = scep.profile_from_caps(scep.parse_caps(body.decode("latin-1")))
    assert caps_profile_of(body) == expected
    assert caps_profile_of(bytes(body)) == expected
    assert caps_profile_of(bytearray(body)) == expected  # type: ignore[arg-type]


def test_remembered_endpoint_and_a_bad_url_refused_every_time() -> None:
    """An enrollment URL names the same host, port and path each time it is read, and a
    URL that is not http:// is refused each time, not just the first. If not, a router
    would enroll with the wrong server, or take a bad URL after another router met it."""
    assert scep_endpoint("http://10.3.0.6") == scep_endpoint("10.3.0.6")
    endpoint = scep_endpoint("http://ca.lab:8080/scep/")
    assert (endpoint.host, endpoint.port, endpoint.path) == (
        "ca.lab", 8080, "/scep/cgi-bin/pkiclient.exe")
    for _ in range(2):
        with pytest.raises(ValueError, match="is not an http:// enrollment URL"):
            scep_endpoint("https://10.3.0.6")
