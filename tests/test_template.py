"""The pkiMessage laid out from fixed pieces (sim/pki/scep/template.py) is byte for byte the
message the element-by-element writer gives, for every kind of message; and the quick
readers of a certificate's issuer and serial give what the general reader gives. They
change speed, never a byte a peer, a trace or an artifact sees."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from test_der_once import T0, Lab

from sim.pki import der_once, scep
from sim.pki.scep import certs, der, envelope
from sim.pki.scep.algorithms import (
    CIPHERS,
    DIGEST_OIDS,
    DIGESTS_WITH_NULL_PARAMS,
    HASH_FUNCTIONS,
    PKCS1V15,
    RSA_ENCRYPTION_OID,
    hash_for,
)
from sim.pki.scep.bodies import DATA_OID, SIGNED_DATA_OID
from sim.pki.scep.codec import NONCE_SIZE
from sim.pki.scep.types import (
    CONTENT_TYPE,
    FAIL_INFO,
    FAIL_INFO_TEXT,
    MESSAGE_DIGEST,
    MESSAGE_TYPE,
    PKI_STATUS,
    RECIPIENT_NONCE,
    SENDER_NONCE,
    SIGNING_TIME,
    TRANSACTION_ID,
    FailInfo,
    MessageType,
    PkiStatus,
    Profile,
)


@pytest.fixture(scope="module")
def lab() -> Lab:
    return Lab()


def _attribute(oid: str, value: bytes) -> bytes:
    return der.tlv(0x30, der.oid(oid) + der.tlv(0x31, value))


def _reference(
    *, message_type: MessageType, transaction_id: str, signer_cert: x509.Certificate,
    signer_key: rsa.RSAPrivateKey, profile: Profile, random_bytes: envelope.RandomBytes,
    sender_nonce: bytes | None = None, recipients: Sequence[x509.Certificate] = (),
    content: bytes | None = None, recipient_nonce: bytes | None = None,
    pki_status: PkiStatus | None = None, fail_info: FailInfo | None = None,
    fail_info_text: str | None = None, extra_certs: Sequence[x509.Certificate] = (),
    signing_time: datetime | None = None,
) -> bytes:
    """The pkiMessage as build_pki_message wrote it element by element before the
    template (the reference the template must match byte for byte)."""
    if sender_nonce is None:
        sender_nonce = envelope.draw(random_bytes, NONCE_SIZE)
    econtent = None
    if content is not None:
        econtent = envelope.build_envelope(content, recipients, profile.cipher, random_bytes)
    digest_algorithm = der.algorithm_identifier(
        DIGEST_OIDS[profile.digest],
        der.null() if profile.digest in DIGESTS_WITH_NULL_PARAMS else None)
    content_digest = HASH_FUNCTIONS[profile.digest](econtent or b"").digest()
    attributes = [
        _attribute(CONTENT_TYPE, der.oid(DATA_OID)),
        _attribute(MESSAGE_DIGEST, der.octet_string(content_digest)),
        _attribute(MESSAGE_TYPE, der.printable_string(str(int(message_type)))),
        _attribute(TRANSACTION_ID, der.printable_string(transaction_id)),
        _attribute(SENDER_NONCE, der.octet_string(sender_nonce)),
    ]
    if signing_time is not None:
        attributes.append(_attribute(SIGNING_TIME, der.cms_time(signing_time)))
    if pki_status is not None:
        attributes.append(_attribute(PKI_STATUS, der.printable_string(str(int(pki_status)))))
    if recipient_nonce is not None:
        attributes.append(_attribute(RECIPIENT_NONCE, der.octet_string(recipient_nonce)))
    if fail_info is not None:
        attributes.append(_attribute(FAIL_INFO, der.printable_string(str(int(fail_info)))))
    if fail_info_text is not None:
        attributes.append(_attribute(FAIL_INFO_TEXT, der.utf8_string(fail_info_text)))
    signed_attrs = der.set_of(attributes)
    signature = signer_key.sign(signed_attrs, PKCS1V15, hash_for(profile.digest))
    signer_der = signer_cert.public_bytes(der_once.Encoding.DER)
    certs_field = der.context(0, signer_der)
    if extra_certs:
        ders = [c.public_bytes(der_once.Encoding.DER) for c in extra_certs]
        if signer_der not in ders:
            ders.insert(0, signer_der)
        certs_field = der.context(0, b"".join(dict.fromkeys(ders)))
    tbs = der.fields(der.fields(der.read(signer_der), "Certificate", 1)[0], "TBS", 4)
    first = 1 if tbs[0].is_(der.CONTEXT, 0) else 0
    named = der.seq(tbs[first + 2].encoded, der.integer(der.read_integer(tbs[first])))
    signer_info = der.seq(
        der.integer(1), named, digest_algorithm, b"\xa0" + signed_attrs[1:],
        der.algorithm_identifier(RSA_ENCRYPTION_OID, der.null()), der.octet_string(signature))
    signed_data = der.seq(
        der.integer(1),
        der.set_of([digest_algorithm]),
        der.seq(der.oid(DATA_OID), der.context(0, der.octet_string(econtent or b""))),
        certs_field,
        der.tlv(0x31, signer_info),
    )
    return der.seq(der.oid(SIGNED_DATA_OID), der.context(0, signed_data))


def _cases(lab: Lab) -> list[dict[str, object]]:
    """Every kind of message: each type, status and failInfo, with and without a signing
    time, envelopes of each cipher, nonces and IDs long enough for long-form lengths."""
    csr = der_once.der(lab.csr)
    degenerate = scep.degenerate_certs([lab.issued, lab.ca])
    request = dict(signer_cert=lab.signer, signer_key=lab.key, recipients=[lab.ca])
    reply = dict(signer_cert=lab.ca, signer_key=lab.ca_key, recipient_nonce=b"n" * 16)
    cases: list[dict[str, object]] = []
    for profile in (scep.IOS_12_3, scep.RFC_8894):
        for when in (None, T0, datetime(2061, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
                     datetime(2030, 1, 2, 3, 4, 5, 999999),
                     datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-7)))):
            common = dict(profile=profile, signing_time=when)
            cases += [
                dict(message_type=MessageType.PKCS_REQ, content=csr, **request, **common),
                dict(message_type=MessageType.GET_CERT_INITIAL, content=b"x" * 300,
                     **request, **common),
                dict(message_type=MessageType.GET_CRL, content=b"", **request, **common),
                dict(message_type=MessageType.CERT_REP, content=degenerate,
                     pki_status=PkiStatus.SUCCESS, recipients=[lab.signer],
                     extra_certs=[lab.ca], **reply, **common),
                dict(message_type=MessageType.CERT_REP, pki_status=PkiStatus.PENDING,
                     **reply, **common),
            ]
    for fail in FailInfo:
        cases.append(dict(message_type=MessageType.CERT_REP, pki_status=PkiStatus.FAILURE,
                          fail_info=fail, fail_info_text=None if fail % 2 else "r\u00e9fus\u00e9",
                          profile=scep.RFC_8894, **reply))
    for cipher in CIPHERS:
        for digest in DIGEST_OIDS:
            profile = Profile(name="x", cipher=cipher, digest=digest, post=True)
            cases.append(dict(message_type=MessageType.RENEWAL_REQ, content=csr,
                              profile=profile, **request))
    long = dict(transaction_id="T" * 300, sender_nonce=bytes(range(200)),
                fail_info_text="x" * 70000)
    cases.append(dict(message_type=MessageType.CERT_REP, pki_status=PkiStatus.FAILURE,
                      fail_info=FailInfo.BAD_TIME, recipient_nonce=b"r" * 130,
                      signer_cert=lab.ca, signer_key=lab.ca_key, profile=scep.IOS_12_3,
                      extra_certs=[lab.issued, lab.ca, lab.issued], **long))
    cases.append(dict(message_type=MessageType.CERT_REP, pki_status=PkiStatus.SUCCESS,
                      content=degenerate, recipients=[lab.signer, lab.ca], extra_certs=[lab.issued],
                      profile=scep.IOS_12_3, **reply))
    return cases


def test_every_message_laid_out_from_pieces_is_the_element_by_element_one(lab: Lab) -> None:
    """Each kind of pkiMessage (requests, every CertRep status and failInfo, each cipher and
    digest, long fields) has exactly the bytes the element-by-element writer gives. If
    not, a peer would read (or a signature cover) different bytes than before, and
    every golden's message hashes would move."""
    for number, case in enumerate(_cases(lab)):
        case.setdefault("transaction_id", "ABCDEF0123456789")
        fast = scep.build_pki_message(random_bytes=random.Random(number).randbytes, **case)
        slow = _reference(random_bytes=random.Random(number).randbytes, **case)
        assert fast == slow, case
        assert scep.parse_pki_message(fast).signature_valid


def test_a_transaction_id_that_cannot_be_written_is_refused_as_before(lab: Lab) -> None:
    """A transactionID outside the PrintableString set is refused with the same error as
    the element-by-element writer gave. If not, a caller bug would produce a message a peer
    refuses instead of a clear error."""
    for bad in ("a_b", "x\n", "caf\u00e9"):
        kwargs = dict(message_type=MessageType.PKCS_REQ, transaction_id=bad,
                      signer_cert=lab.signer, signer_key=lab.key, profile=scep.IOS_12_3,
                      recipients=[lab.ca], content=b"csr")
        with pytest.raises(ValueError) as fast:
            scep.build_pki_message(random_bytes=random.Random(1).randbytes, **kwargs)
        with pytest.raises(ValueError) as slow:
            _reference(random_bytes=random.Random(1).randbytes, **kwargs)
        assert str(fast.value) == str(slow.value)


def test_issuer_and_serial_read_quickly_are_the_general_readers(lab: Lab) -> None:
    """A certificate's issuer and IssuerAndSerialNumber read with spans are what the
    element reader gives, for v1 and v3 certificates, negative and long serials, and
    truncated or padded bytes are left to the general reader. If not, envelopes and
    SignerInfos would name a certificate in a way the peer cannot match."""
    ders = [der_once.der(c) for c in (lab.ca, lab.issued, lab.signer)]
    for raw in ders:
        parts, first = certs._tbs_fields(raw)
        quick = certs._issuer_and_serial_spans(raw)
        assert quick is not None
        assert raw[quick[0]:quick[1]] == parts[first + 2].encoded
        assert quick[2] == der.read_integer(parts[first])
        for cut in (raw[:-1], raw + b"\x00", raw[:40], b"", b"\x30"):
            assert certs._issuer_and_serial_spans(cut) is None
    # A v1 certificate (no [0] version) and serials of every sign and size.
    tbs = der.fields(der.read(ders[1]), "Certificate", 1)[0]
    parts = der.fields(tbs, "TBSCertificate", 4)
    for serial in (1, -5, 127, 128, -129, 2**159 - 1, -(2**159)):
        body = der.integer(serial) + b"".join(p.encoded for p in parts[2:])
        for version in (b"", parts[0].encoded):
            made = der.seq(der.seq(version + body), b"\x30\x00", b"\x03\x01\x00")
            fields, first = certs._tbs_fields(made)
            quick = certs._issuer_and_serial_spans(made)
            assert quick is not None
            assert (made[quick[0]:quick[1]], quick[2]) == (
                fields[first + 2].encoded, der.read_integer(fields[first]))
