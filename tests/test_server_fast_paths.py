"""The certificate server's shortcuts give what the long way gives, byte for byte.

The server keeps what is the same for every router of a CA (its GetCACert answer, its
HTTP header block of the second, its subject), reads each request once and counts its
request database's size instead of writing it out. Each check here sets the shortcut
against the long way it replaces.
"""

from __future__ import annotations

import random
import types
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sim.kernel.clock import format_http_date
from sim.pki import scep, scep_policy, scep_service, x509util
from sim.pki.ca_requests import (
    EnrollmentRequest,
    RequestDatabase,
    RequestKind,
    RequestState,
    _entry_image,
    _entry_size,
)
from sim.pki.cs_server import CertificateServer, CsConfig
from sim.pki.cs_settings import GrantMode
from sim.pki.issuance import issue_from_request
from sim.pki.keys import KeySource
from sim.pki.scep_client import Enrollment
from sim.pki.scep_service import ScepService
from sim.router import http_service

NOW = datetime(2005, 1, 6, 21, 0, tzinfo=UTC)
KEYS = KeySource(9)


def _ca() -> tuple[CertificateServer, x509.Certificate, rsa.RSAPrivateKey]:
    """A CA granting every router request on arrival, its certificate and key."""
    key = KEYS.get("ca", 1024)
    cs = CertificateServer(CsConfig("ca", grant=GrantMode.AUTO))
    cert = x509util.make_ca_certificate(key, x509util.parse_dn("CN=ca"), 1, NOW,
                                        NOW + timedelta(days=1095), "sha256")
    cs.ca_cert, cs.last_serial = cert, 1
    return cs, cert, key


def _csr_der(label: str, subject: str) -> bytes:
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509util.parse_dn(subject))
    csr = builder.sign(KEYS.get(label, 1024), hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.DER)


def test_the_database_size_is_the_length_of_its_saved_lines() -> None:
    """`dir nvram:` and the free-space check would announce a request database of a size
    other than the file written (the size is counted, the lines are made only when
    written)."""
    rng = random.Random(5)
    zones = [UTC, None, timezone(timedelta(hours=3, minutes=30)),
             timezone(timedelta(hours=-5))]
    for req_id in range(1, 200):
        zone = rng.choice(zones)
        created = datetime(rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28),
                           rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59),
                           rng.choice([0, rng.randint(1, 999_999)]), tzinfo=zone)
        entry = EnrollmentRequest(
            req_id=rng.choice([req_id, req_id * 10**rng.randint(0, 12)]),
            kind=rng.choice(list(RequestKind)),
            state=rng.choice(list(RequestState)),
            csr_der=rng.randbytes(rng.randint(0, 1500)),
            fingerprint="0" * 32,
            subject_text="cn=x",
            transaction_id=rng.choice([None, "", "3AE00CCCCE6F0F6AE7F163A277906964",
                                       "t\u00e9l\u00e9phone \u2603"]),
            source=rng.choice(["scep", "terminal"]),
            created=created,
            expires=created + timedelta(minutes=rng.randint(0, 10**6)) if created.year < 9000
            else created,
            certificate_der=rng.choice([None, rng.randbytes(rng.randint(0, 2000))]),
            serial=rng.choice([None, rng.randint(0, 2**64)]),
        )
        assert _entry_size(entry) == len(_entry_image(entry)), entry


def test_a_request_filed_as_read_is_the_request_read_again() -> None:
    """A request the SCEP service files from its own reading would show a different row in
    `show crypto pki server requests`, or get a different certificate, than the same
    request read from its bytes (the CLI's way)."""
    cs, cert, key = _ca()
    for label, subject in (("r1", "hostname=R1+serialNumber=77, CN=R1"),
                           ("ra", "CN=ioscs RA, O=lab")):
        der = _csr_der(label, subject)
        parsed = scep_policy.check_request(der)
        assert not isinstance(parsed, scep_policy.Refusal)
        slow, fast = RequestDatabase(), RequestDatabase()
        assert (fast.submit(der, "T", "scep", NOW, 60, parsed=parsed)
                == slow.submit(der, "T", "scep", NOW, 60))
        assert fast.to_bytes() == slow.to_bytes()
        assert fast.parsed(1) is parsed and slow.parsed(1) is None and fast.parsed(2) is None
        kind = fast.get(1).kind
        read_again = issue_from_request(x509.load_der_x509_csr(der), ca_cert=cert, ca_key=key,
                                        serial=2, now=NOW, lifetime_days=365,
                                        hash_name="sha256", kind=kind)
        as_read = issue_from_request(parsed.csr, ca_cert=cert, ca_key=key, serial=2, now=NOW,
                                     lifetime_days=365, hash_name="sha256", kind=kind,
                                     subject=parsed.subject)
        assert x509util.cert_der(as_read) == x509util.cert_der(read_again)


def _granted_reply(monkeypatch: pytest.MonkeyPatch, slow: bool) -> bytes:
    cs, cert, key = _ca()
    service = ScepService(cs)
    if slow:  # the service cannot recognise the issued certificate: it loads it again
        monkeypatch.setattr(scep_service, "CertificateIssued", type("Other", (), {}))
    enrollment = Enrollment("tp", KEYS.get("r2", 1024),
                            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "r2")]),
                            cert, scep.RFC_8894, random.Random(7).randbytes, NOW)
    reply, _effects = service.pki_operation(enrollment.pkcs_req(NOW), NOW, key,
                                            random.Random(3).randbytes)
    monkeypatch.undo()
    outcome = enrollment.on_cert_rep(reply.body)
    assert outcome.status is scep.PkiStatus.SUCCESS
    return reply.body


def test_a_granted_reply_is_the_same_with_the_certificate_as_issued(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The CertRep carrying a certificate granted at once would differ from the one built
    from the request database's copy of it (what a later poll gets)."""
    assert _granted_reply(monkeypatch, slow=False) == _granted_reply(monkeypatch, slow=True)


def test_get_ca_cert_is_kept_until_the_ca_or_its_chain_changes() -> None:
    """GetCACert would go on answering a CA certificate or chain the server no longer has."""
    cs, cert, _key = _ca()
    root = x509util.make_ca_certificate(KEYS.get("root", 1024), x509util.parse_dn("CN=root"),
                                        1, NOW, NOW + timedelta(days=1))
    service = ScepService(cs)
    single = service.get_ca_cert()
    assert service.get_ca_cert() is single and single.body == x509util.cert_der(cert)
    service.chain = (root,)
    chained = service.get_ca_cert()
    assert chained.body == scep.degenerate_certs([cert, root])
    assert service.get_ca_cert() is chained
    new_key = KEYS.get("ca2", 1024)
    renewed = x509util.make_ca_certificate(new_key, x509util.parse_dn("CN=ca2"), 1, NOW,
                                           NOW + timedelta(days=10), "sha256")
    cs.ca_cert = renewed
    assert service.get_ca_cert().body == scep.degenerate_certs([renewed, root])
    service.chain = ()
    assert service.get_ca_cert().body == x509util.cert_der(renewed)


def test_http_headers_are_those_of_the_routers_second() -> None:
    """An HTTP reply would carry the Date of another moment than the router's clock reads,
    or another reply's Content-Type."""
    rng = random.Random(11)
    moment = datetime(2005, 1, 6, 21, 7, 30, tzinfo=UTC)
    for _ in range(300):
        moment += timedelta(microseconds=rng.randint(0, 3_000_000))
        router = types.SimpleNamespace(clock=types.SimpleNamespace(now=lambda m=moment: m))
        kind = rng.choice(["text/plain", "application/x-pki-message"])
        assert http_service.ios_headers(router, kind) == http_service._header_block(  # type: ignore[arg-type]
            format_http_date(moment), kind)
