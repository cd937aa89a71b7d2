"""Bytes written once and messages read once give exactly the bytes and values that writing
and reading them afresh gives: the caches and the fast DER paths change speed, never output."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import core, parser
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from sim.pki import der_once, scep
from sim.pki import x509util as xu
from sim.pki.keys import KeySource
from sim.pki.scep import certs, der

T0 = datetime(2005, 1, 6, 21, 7, 52, tzinfo=UTC)


class Lab:
    """A CA (MD5-signed, as 12.3(14)T's), a certificate it issued, a CRL, a request and the
    SCEP messages between them."""

    def __init__(self) -> None:
        keys = KeySource(8894)
        self.ca_key = keys.get("root/keys/root#0", 1024)
        self.ca = xu.make_ca_certificate(
            self.ca_key, xu.parse_dn("CN=root, O=lab"), 1, T0, T0 + timedelta(days=1095), "md5")
        self.key = keys.get("sub/keys/sub#0", 1024)
        subject = xu.parse_dn("CN=sub, hostname=sub.lab")
        self.issued = xu.issue_certificate(
            self.ca_key, self.ca, self.key.public_key(), subject, 2, T0,
            T0 + timedelta(days=365), hash_name="sha256")
        self.csr = scep.make_csr(self.key, subject, challenge_password="cisco123")
        self.crl = xu.load_crl(xu.crl_der(xu.make_crl(
            self.ca_key, self.ca, T0, T0 + timedelta(hours=6), [(2, T0)])))
        tid = scep.transaction_id_for(self.key.public_key())
        self.signer = scep.self_signed_signer(self.key, subject, tid, T0, T0 + timedelta(days=1))
        self.request = scep.build_pki_message(
            message_type=scep.MessageType.PKCS_REQ, transaction_id=tid, signer_cert=self.signer,
            signer_key=self.key, profile=scep.IOS_12_3, random_bytes=random.Random(1).randbytes,
            recipients=[self.ca], content=xu.csr_der(self.csr), signing_time=T0)
        self.reply = scep.build_pki_message(
            message_type=scep.MessageType.CERT_REP, transaction_id=tid, signer_cert=self.ca,
            signer_key=self.ca_key, profile=scep.RFC_8894,
            random_bytes=random.Random(2).randbytes, recipients=[self.signer],
            content=scep.degenerate_certs([self.issued, self.ca]),
            pki_status=scep.PkiStatus.SUCCESS, recipient_nonce=b"n" * 16, signing_time=T0)


@pytest.fixture(scope="module")
def lab() -> Lab:
    return Lab()


def test_remembered_bytes_equal_a_fresh_serialization(lab: Lab) -> None:
    """A certificate, request or CRL written once and reused is the same DER and PEM that
    writing it again gives. If not, artifacts, fingerprints and SCEP messages would carry
    bytes that differ from what `openssl` reads out of the same object."""
    der_once.clear()
    for obj in (lab.ca, lab.issued, lab.signer, lab.csr, lab.crl):
        for encoding in (Encoding.DER, Encoding.PEM):
            first = der_once.encoded(obj, encoding)
            assert first == obj.public_bytes(encoding)
            assert der_once.encoded(obj, encoding) is first  # reused, not written again
    assert xu.cert_der(lab.ca) == lab.ca.public_bytes(Encoding.DER)
    assert xu.cert_pem(lab.issued) == lab.issued.public_bytes(Encoding.PEM)
    assert xu.csr_pem(lab.csr) == lab.csr.public_bytes(Encoding.PEM)
    assert xu.crl_der(lab.crl) == lab.crl.public_bytes(Encoding.DER)


def test_the_table_stays_bounded_and_right_after_dropping_entries(lab: Lab) -> None:
    """Past its limit the table drops its oldest entries and still answers with the right
    bytes. If not, a 10,000-router run would keep every certificate alive (memory) or hand
    out one certificate's bytes for another."""
    der_once.clear()
    loaded = [x509.load_der_x509_certificate(xu.cert_der(lab.issued))
              for _ in range(der_once.LIMIT + 10)]
    for cert in loaded:
        der_once.der(cert)
    assert all(len(table) <= der_once.LIMIT for table in der_once._TABLES.values())
    assert der_once.der(lab.ca) == lab.ca.public_bytes(Encoding.DER)
    assert der_once.der(loaded[0]) == lab.issued.public_bytes(Encoding.DER)


def test_a_certificate_is_loaded_once_per_distinct_bytes(lab: Lab) -> None:
    """The same bytes load to one shared, equal certificate, and bytes that do not load
    raise every time. If not, each reply would load its CA certificate again (slow), or a
    malformed certificate would be accepted the second time it arrives."""
    raw = lab.ca.public_bytes(Encoding.DER)
    assert der_once.load_certificate(raw) is der_once.load_certificate(bytes(raw))
    assert der_once.load_certificate(raw) == lab.ca
    assert xu.load_cert(raw) is der_once.load_certificate(raw)
    for _ in range(2):
        with pytest.raises(ValueError):
            der_once.load_certificate(raw[:-1])


def test_a_message_is_parsed_once_and_a_failure_every_time(lab: Lab) -> None:
    """Reading the same pkiMessage twice (the HTTP server naming it, then the service) gives
    the same result without parsing again; garbage is refused each time it arrives. If not,
    a CA would spend its time re-reading requests, or accept a bad one on a retry."""
    first = scep.parse_pki_message(lab.request)
    assert scep.parse_pki_message(bytes(lab.request)) is first
    assert first.signature_valid and first.message_type is scep.MessageType.PKCS_REQ
    for _ in range(2):
        with pytest.raises(scep.ScepError):
            scep.parse_pki_message(lab.request[:-3])


def test_issuer_is_copied_byte_for_byte(lab: Lab) -> None:
    """The issuer an IssuerAndSerialNumber carries is the certificate's own issuer field,
    for certificates with and without a version field. If not, a peer comparing bytes would
    not find its certificate and answer badMessageCheck."""
    for cert in (lab.ca, lab.issued, lab.signer):
        raw = cert.public_bytes(Encoding.DER)
        expected = asn1_x509.Certificate.load(raw)["tbs_certificate"]["issuer"].dump()
        assert certs.issuer_der(cert) == expected
    v1 = asn1_x509.Certificate.load(lab.issued.public_bytes(Encoding.DER))
    tbs = v1["tbs_certificate"].copy()
    tbs["version"] = "v1"  # DEFAULT v1: the [0] field is left out
    tbs["extensions"] = None
    v1_der = asn1_x509.Certificate({"tbs_certificate": tbs,
                                    "signature_algorithm": v1["signature_algorithm"],
                                    "signature_value": v1["signature_value"]}).dump()
    assert v1_der[4:6] != b"\xa0\x03"
    assert certs.issuer_of(v1_der) == asn1_x509.Certificate.load(v1_der)[
        "tbs_certificate"]["issuer"].dump()


# --------------------------------------------------------------------------- the DER reader


def _asn1crypto_read_all(data: bytes) -> list[tuple[int, bool, int, bytes, bytes, bytes]] | str:
    """The reader as it was: asn1crypto's parser, one element at a time."""
    out = []
    rest = data
    try:
        while rest:
            cls, method, tag, header, contents, trailer = parser.parse(rest)
            out.append((cls, method == 1, tag, header, contents, trailer))
            rest = rest[len(header) + len(contents) + len(trailer):]
    except (ValueError, TypeError, IndexError, OverflowError) as exc:
        return f"bad BER encoding: {exc}"
    return out


def _reference_tree(data: bytes, depth: int = 0) -> object:
    elements = _asn1crypto_read_all(data)
    if isinstance(elements, str):
        return elements
    return [(e, _reference_tree(e[4], depth + 1) if e[1] and depth < 5 else None)
            for e in elements]


def _tree(data: bytes, depth: int = 0) -> object:
    try:
        elements = der.read_all(data)
    except der.DerError as exc:
        return str(exc)
    out = []
    for e in elements:
        fields = (e.cls, e.constructed, e.tag, e.header, e.contents, e.trailer)
        children: object = None
        if e.constructed and depth < 5:
            try:
                e.children()
            except der.DerError:
                pass  # the reference tree records the same error from the contents
            children = _tree(e.contents, depth + 1)
        out.append((fields, children))
    return out


def test_the_reader_reads_as_asn1crypto_did(lab: Lab) -> None:
    """Every element of real and mangled SCEP messages (indefinite lengths, high tag
    numbers, truncations) reads as asn1crypto's parser read it, errors included. If not, a
    peer's odd but valid BER would be refused, or garbage answered with another failInfo."""
    ber = (b"\x30\x80\x02\x01\x05\x24\x80\x04\x01a\x04\x01b\x00\x00\x00\x00"
           b"\x1f\x81\x00\x01\x07\xbf\x1f\x03\x02\x01\x01")
    samples = [lab.request, lab.reply, ber]
    rng = random.Random(13)
    for _ in range(600):
        mangled = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(mangled))
            roll = rng.random()
            if roll < 0.5:
                mangled[at] = rng.choice([rng.randrange(256), 0x80, 0x00, 0xFF, 0x1F, 0x84, 0x24])
            elif roll < 0.75:
                del mangled[at:at + rng.randint(1, 12)]
            else:
                mangled[at:at] = rng.randbytes(rng.randint(1, 4))
        data = bytes(mangled)
        assert _tree(data) == _reference_tree(data)
    for data in (lab.request, lab.reply, ber):
        assert _tree(data) == _reference_tree(data)


def test_integers_and_times_match_asn1crypto() -> None:
    """INTEGERs, UTCTimes written and UTCTimes read (including impossible dates) match what
    asn1crypto wrote and read. If not, serial numbers and signingTime in messages would
    change bytes, or a bad date would be read instead of refused."""
    rng = random.Random(5)
    values = [*range(-300, 300), *(rng.getrandbits(rng.randrange(1, 2100)) * rng.choice((1, -1))
                                   for _ in range(2000))]
    for value in values:
        assert der.integer(value) == core.Integer(value).dump()
    for _ in range(500):
        moment = datetime(1950, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(100 * 365 * 86400), microseconds=rng.randrange(10**6))
        expected = core.UTCTime(moment.replace(microsecond=0)).dump()
        assert der.cms_time(moment) == expected
        assert der.read_time(der.read(expected)) == moment.replace(microsecond=0)
    for text in (b"050230120000Z", b"991231235960Z", b"491231235959Z", b"500101000000Z",
                 b"0501062107Z", b"050106210752+0100"):
        element = der.read(b"\x17" + bytes([len(text)]) + text)
        try:
            value = core.UTCTime.load(element.encoded).native
            expected_time: object = value.astimezone(UTC)
        except ValueError as exc:
            expected_time = f"bad time value: {exc}"
        try:
            got: object = der.read_time(element)
        except der.DerError as exc:
            got = str(exc)
        assert got == expected_time
