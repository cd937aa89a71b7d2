"""The CA's issuing and poll shortcuts give what the long way gives.

`x509util.issue_certificate` builds a certificate from the CA's kept facts (its subject,
notAfter and AKI) in one builder, instead of a chain of a dozen builder calls; the SCEP
service remembers its poll checks per poll body, request and CA certificate; the renewal
check looks for the CA's name in the signer's bytes before building the signer's issuer
name; the router names an issued certificate's subject from its request's row. Each check
here sets the shortcut against the long way it replaces.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtensionOID, NameOID

from sim.pki import cs_desk, scep, scep_policy, x509util
from sim.pki.cs_effects import CertificateIssued
from sim.pki.cs_server import CertificateServer, CsConfig
from sim.pki.cs_settings import GrantMode
from sim.pki.keys import KeySource
from sim.pki.scep_client import Enrollment
from sim.pki.scep_service import ScepService
from sim.router import server_host

NOW = datetime(2005, 1, 6, 21, 0, tzinfo=UTC)
KEYS = KeySource(9)


def _chain_of_calls(ca_key, ca_cert, public_key, subject, serial, not_before, not_after, *,
                    ca, extensions, hash_name):
    """`issue_certificate` as it was written before the shortcut: one builder call per
    field and extension, the CA's facts read from its certificate each time."""
    try:
        aki_id = ca_cert.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        aki_id = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()).digest
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
               .public_key(public_key).serial_number(serial).not_valid_before(not_before)
               .not_valid_after(min(not_after, ca_cert.not_valid_after_utc)))
    skipped = {ExtensionOID.BASIC_CONSTRAINTS, ExtensionOID.SUBJECT_KEY_IDENTIFIER,
               ExtensionOID.AUTHORITY_KEY_IDENTIFIER}
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                        critical=True)
        builder = builder.add_extension(x509util._ca_key_usage(), critical=True)
        skipped.add(ExtensionOID.KEY_USAGE)
    for ext in extensions:
        if ext.oid not in skipped:
            builder = builder.add_extension(ext.value, critical=ext.critical)
    builder = builder.add_extension(x509.AuthorityKeyIdentifier(aki_id, None, None),
                                    critical=False)
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key),
                                    critical=False)
    return x509util._finish_certificate(builder, ca_key, hash_name)


def _ca_without_ski(key):
    name = x509util.parse_dn("CN=old-ca")
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(NOW)
            .not_valid_after(NOW + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, x509util._builder_hash("sha256")))


@pytest.mark.parametrize("hash_name", ["sha256", "md5"])
@pytest.mark.parametrize("ca", [False, True], ids=["router", "sub-ca"])
@pytest.mark.parametrize("with_ski", [True, False], ids=["ca-ski", "ca-without-ski"])
def test_issued_certificate_is_byte_for_byte_the_chain_of_builder_calls(
        hash_name: str, ca: bool, with_ski: bool) -> None:
    """A certificate the CS issues would differ in a byte (its DER, hence its fingerprint,
    the artifacts and every reply carrying it) from the one the builder chain made."""
    ca_key, key = KEYS.get("ca", 1024), KEYS.get("r1", 1024)
    ca_cert = (x509util.make_ca_certificate(ca_key, x509util.parse_dn("CN=ca,O=lab"), 1, NOW,
                                            NOW + timedelta(days=30))
               if with_ski else _ca_without_ski(ca_key))
    subject = x509.Name([x509.RelativeDistinguishedName([
        x509.NameAttribute(NameOID.COMMON_NAME, "r1"),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, "FTX1")])])
    requested = [  # a requested KeyUsage is kept; a requested BasicConstraints dropped
        x509.Extension(ExtensionOID.KEY_USAGE, True, x509.KeyUsage(
            True, False, False, False, False, False, False, False, False)),
        x509.Extension(ExtensionOID.BASIC_CONSTRAINTS, True,
                       x509.BasicConstraints(ca=True, path_length=None)),
        x509.Extension(ExtensionOID.CRL_DISTRIBUTION_POINTS, False,
                       x509.CRLDistributionPoints([x509.DistributionPoint(
                           [x509.UniformResourceIdentifier("http://10.0.0.1/ca.crl")],
                           None, None, None)])),
    ]
    start = NOW + timedelta(hours=1)
    for not_after in (start + timedelta(days=1), start + timedelta(days=365)):  # 2nd: capped
        args = (ca_key, ca_cert, key.public_key(), subject, 0x1F, start, not_after)
        fast = x509util.issue_certificate(*args, ca=ca, extensions=requested,
                                          hash_name=hash_name)
        slow = _chain_of_calls(*args, ca=ca, extensions=requested, hash_name=hash_name)
        assert fast.public_bytes(Encoding.DER) == slow.public_bytes(Encoding.DER)


def test_arguments_the_builder_refuses_still_get_its_error() -> None:
    """An impossible certificate (serial 0, a validity ending before it starts) would be
    signed anyway instead of refused with cryptography's message."""
    ca_key, key = KEYS.get("ca", 1024), KEYS.get("r1", 1024)
    ca_cert = x509util.make_ca_certificate(ca_key, x509util.parse_dn("CN=ca"), 1, NOW,
                                           NOW + timedelta(days=30))
    subject = x509util.parse_dn("CN=r1")
    with pytest.raises(ValueError, match="serial number should be positive"):
        x509util.issue_certificate(ca_key, ca_cert, key.public_key(), subject, 0, NOW,
                                   NOW + timedelta(days=1))
    with pytest.raises(ValueError, match="not valid after date must be after"):
        x509util.issue_certificate(ca_key, ca_cert, key.public_key(), subject, 2, NOW,
                                   NOW - timedelta(days=1))


def _answer(service: ScepService, key, der: bytes) -> scep.PkiMessage:
    reply, _effects = service.pki_operation(der, NOW, key, random.Random(3).randbytes)
    return scep.parse_pki_message(reply.body)


def _poll(enrollment: Enrollment, issuer: x509.Name, subject: x509.Name) -> bytes:
    body = scep.issuer_and_subject(issuer, subject)
    return enrollment._message(scep.MessageType.GET_CERT_INITIAL, body, NOW)


def test_a_remembered_poll_check_answers_only_its_own_body_request_and_ca() -> None:
    """A poll naming the wrong issuer or subject, or a CA whose certificate has changed,
    would get the answer remembered for an earlier, matching poll."""
    ca_key = KEYS.get("ca", 1024)
    cs = CertificateServer(CsConfig("ca", grant="manual"))
    cs.ca_cert = x509util.make_ca_certificate(ca_key, x509util.parse_dn("CN=ca"), 1, NOW,
                                              NOW + timedelta(days=30))
    cs.last_serial = 1
    service = ScepService(cs)
    subject = x509util.parse_dn("CN=r7")
    enrollment = Enrollment("tp", KEYS.get("r7", 1024), subject, cs.ca_cert, scep.RFC_8894,
                            random.Random(7).randbytes, NOW)
    assert _answer(service, ca_key, enrollment.pkcs_req(NOW)).pki_status is \
        scep.PkiStatus.PENDING
    named = cs.ca_cert.subject
    good = _poll(enrollment, named, subject)
    for _ in range(2):  # the second is answered from what the first found
        assert _answer(service, ca_key, good).pki_status is scep.PkiStatus.PENDING
    wrong = _poll(enrollment, cs.ca_cert.subject, x509util.parse_dn("CN=other"))
    assert _answer(service, ca_key, wrong).fail_info is scep.FailInfo.BAD_CERT_ID
    # The CA certificate changes its subject: the same poll no longer names this CA.
    cs.ca_cert = x509util.make_ca_certificate(ca_key, x509util.parse_dn("CN=renamed"), 1, NOW,
                                              NOW + timedelta(days=30))
    enrollment.ca_cert = cs.ca_cert  # enveloped to the new certificate, naming the old
    assert _answer(service, ca_key, _poll(enrollment, named, subject)).fail_info is \
        scep.FailInfo.BAD_CERT_ID


def _signer(subject: x509.Name, issuer: x509.Name, key, signing_key, serial: int):
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=1))
            .sign(signing_key, x509util._builder_hash("sha256")))


def test_renewal_signers_are_told_apart_as_by_comparing_the_names() -> None:
    """A router renewing with a certificate its CA issued, whose issuer name spells the
    CA's name in another string type (BMPString, UniversalString, UTF8String), would be
    refused as a stranger, or a new request's self-signed signer taken for a renewal,
    because the quick look at the signer's bytes decided otherwise than the names."""
    ca_key, key = KEYS.get("ca", 1024), KEYS.get("r1", 1024)
    ca_subject = x509util.parse_dn("CN=ca3-7,O=pkilab")
    ca_cert = x509util.make_ca_certificate(ca_key, ca_subject, 1, NOW - timedelta(days=2),
                                           NOW + timedelta(days=30))
    ca_subject = ca_cert.subject
    needles = scep_policy.name_needles(ca_subject)
    assert needles is not None
    router = x509util.parse_dn("CN=r1.branch,O=pkilab")

    def spelled(string_type) -> x509.Name:
        return x509.Name([x509.NameAttribute(a.oid, a.value, string_type)
                          for a in ca_subject])

    cases = {
        "self-signed": (_signer(router, router, key, key, 9), False),
        "issued": (_signer(router, ca_subject, key, ca_key, 5), True),
        "revoked": (_signer(router, ca_subject, key, ca_key, 6), False),
        "another CA's key": (_signer(router, ca_subject, key, key, 7), False),
    }
    for string_type in (_ASN1Type.BMPString, _ASN1Type.UniversalString,
                        _ASN1Type.UTF8String):
        cases[string_type.name] = (_signer(router, spelled(string_type), key, ca_key, 8), True)
    for name, (signer, expected) in cases.items():
        by_names = scep_policy.is_renewal_signer(signer, ca_cert, {6}, NOW, ca_subject)
        quick = scep_policy.is_renewal_signer(signer, ca_cert, {6}, NOW, ca_subject, needles)
        assert (by_names, quick) == (expected, expected), name
    assert scep_policy.name_needles(x509util.parse_dn("CN=caf\u00e9")) is None


def test_the_issued_event_names_the_subject_the_certificate_holds() -> None:
    """The trace's `cs issued` event (and the report built from it) would name a subject
    other than the one in the certificate, when taken from the request database."""
    ca_key = KEYS.get("ca", 1024)
    cs = CertificateServer(CsConfig("ca", grant=GrantMode.AUTO))
    cs.ca_cert = x509util.make_ca_certificate(ca_key, x509util.parse_dn("CN=ca"), 1, NOW,
                                              NOW + timedelta(days=30))
    cs.last_serial = 1
    subjects = {
        "single-valued RDNs": x509.Name([
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "r1")]),
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                                               "lab")])]),
        "a multi-valued RDN": x509.Name([x509.RelativeDistinguishedName([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "zz"),
            x509.NameAttribute(NameOID.COMMON_NAME, "aa"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, "FTX1")])]),
    }
    for label, subject in subjects.items():
        key = KEYS.get(f"r-{len(label)}", 1024)
        csr = (x509.CertificateSigningRequestBuilder().subject_name(subject)
               .sign(key, x509util._builder_hash("sha256")))
        entry, effects = cs_desk.submit(cs, csr.public_bytes(Encoding.DER), None, "terminal",
                                        NOW, ca_key)
        issued = next(e for e in effects if isinstance(e, CertificateIssued))
        expected = x509util.format_dn_ios(issued.certificate.subject)
        assert server_host._issued_subject(cs, entry.req_id, issued.certificate) == expected
        cs_desk.remove(cs, entry.req_id)  # gone from the database: read from the certificate
        assert server_host._issued_subject(cs, entry.req_id, issued.certificate) == expected
