"""The codec's cheaper paths give exactly what the general code gives: PEM written from known
DER, envelopes sealed from a remembered recipient prefix with hand-written padding, opened
with a hand-written padding check, IssuerAndSerialNumber sliced from a certificate, and Names
built once per distinct bytes. They change speed, never a byte nor an error."""

from __future__ import annotations

import random

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.name import _ASN1Type
from test_der_once import Lab

from sim.pki import der_once, scep
from sim.pki import x509util as xu
from sim.pki.scep import bodies, certs, codec, der, envelope
from sim.pki.scep.algorithms import CIPHERS, RSA_ENCRYPTION_OID, set_des_parity


@pytest.fixture(scope="module")
def lab() -> Lab:
    return Lab()


def test_pem_written_from_der_is_cryptographys_pem(lab: Lab) -> None:
    """The PEM of a certificate, a request and a CRL written from their DER equals what
    ``cryptography`` writes. If not, the artifacts (router certificates, the CA's request
    files, CRLs) would differ from a run that serialized each object afresh."""
    der_once.clear()
    for obj in (lab.ca, lab.issued, lab.csr, lab.crl):
        der_once.der(obj)  # DER known first: the PEM is then written from it
        assert der_once.pem(obj) == obj.public_bytes(Encoding.PEM)
        assert der_once.pem(obj) == obj.public_bytes(Encoding.PEM)  # and remembered
    for size in range(0, 200):
        blob = random.Random(size).randbytes(size)
        lines = der_once.pem_of(b"CERTIFICATE", blob).splitlines()
        assert all(len(line) <= 64 for line in lines[1:-1])


def _reference_envelope(content: bytes, recipients: list[x509.Certificate], cipher_name: str,
                        random_bytes: envelope.RandomBytes, *, issuer: bytes | None = None,
                        serial: int | None = None) -> bytes:
    """An envelope written with the general helpers and cryptography's padder, as the codec
    wrote it before it remembered recipient prefixes (``issuer``/``serial``: name the
    recipients so instead)."""
    cipher = CIPHERS[cipher_name]
    key = random_bytes(cipher.key_size)
    if cipher.name in ("des", "des3"):
        key = set_des_parity(key)
    iv = random_bytes(cipher.block_size)
    padder = sym_padding.PKCS7(cipher.block_size * 8).padder()
    padded = padder.update(content) + padder.finalize()
    encryptor = Cipher(cipher.algorithm(key), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    infos = []
    for cert in recipients:
        wrapped = envelope.rsaes_pkcs1_v15_encrypt(cert.public_key(), key,  # type: ignore[arg-type]
                                                   random_bytes)
        infos.append(der.seq(
            der.integer(0),
            der.seq(issuer or certs.issuer_der(cert),
                    der.integer(cert.serial_number if serial is None else serial)),
            der.algorithm_identifier(RSA_ENCRYPTION_OID, der.null()),
            der.octet_string(wrapped)))
    enveloped = der.seq(
        der.integer(0), der.set_of(infos),
        der.seq(der.oid(bodies.DATA_OID),
                der.algorithm_identifier(cipher.oid, der.octet_string(iv)),
                der.context(0, encrypted, constructed=False)))
    return der.seq(der.oid(bodies.ENVELOPED_DATA_OID), der.context(0, enveloped))


def test_envelopes_are_the_bytes_the_general_writer_gives(lab: Lab) -> None:
    """Every cipher, contents of every length around the block sizes, one and two
    recipients: the same bytes as the general writer, and they open to the content. If not,
    every enrollment's envelope (and so the traces and artifacts after it) would change."""
    for cipher_name in CIPHERS:
        for size in range(0, 35):
            content = bytes(range(size))
            for recipients in ([lab.ca], [lab.signer, lab.ca]):
                fast = envelope.build_envelope(content, recipients, cipher_name,
                                               random.Random(size).randbytes)
                slow = _reference_envelope(content, recipients, cipher_name,
                                           random.Random(size).randbytes)
                assert fast == slow, (cipher_name, size)
            opened = envelope.decrypt_envelope(fast, lab.ca, lab.ca_key)
            assert opened == content


def _reference_unpad(padded: bytes, block_size: int) -> bytes | None:
    """cryptography's PKCS7 unpadder's answer: the content, or None when it refuses."""
    unpadder = sym_padding.PKCS7(block_size * 8).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        return None


def test_the_padding_check_accepts_and_refuses_what_cryptography_does(lab: Lab) -> None:
    """Envelopes whose decrypted padding is right, wrong in its count or wrong in one octet
    open, or fail with badMessageCheck, exactly when cryptography's unpadder accepts or
    refuses them. If not, a peer's damaged envelope would be answered differently."""
    rng = random.Random(5)
    cipher = CIPHERS["aes128"]
    checked = refused = 0
    for _ in range(400):
        size = rng.choice((16, 32, 48))
        padded = bytearray(rng.randbytes(size))
        count = rng.randint(0, 18)
        if count:
            padded[size - min(count, size):] = bytes((count,)) * min(count, size)
        if rng.random() < 0.3:
            padded[rng.randrange(size)] ^= 1 << rng.randrange(8)
        key, iv = rng.randbytes(16), rng.randbytes(16)
        encryptor = Cipher(cipher.algorithm(key), modes.CBC(iv)).encryptor()
        encrypted = encryptor.update(bytes(padded)) + encryptor.finalize()
        wrapped = envelope.rsaes_pkcs1_v15_encrypt(lab.ca.public_key(), key,  # type: ignore[arg-type]
                                                   rng.randbytes)
        expected = _reference_unpad(bytes(padded), cipher.block_size)
        try:
            got: bytes | None = envelope._decrypt(cipher, iv, encrypted, wrapped, lab.ca_key)
        except scep.ScepError as exc:
            assert exc.fail_info is scep.FailInfo.BAD_MESSAGE_CHECK
            assert str(exc) == "cannot decrypt the envelope (failInfo BAD_MESSAGE_CHECK)"
            got = None
        assert got == expected
        checked += 1
        refused += got is None
    assert checked == 400 and 50 < refused < 350  # both outcomes are exercised


def test_issuer_and_serial_sliced_from_a_certificate_is_the_written_one(lab: Lab) -> None:
    """The IssuerAndSerialNumber read out of a certificate's DER equals the one written from
    its issuer and serial number, for v1 and v3 certificates and serials that need a leading
    zero octet or several octets. If not, signers and recipients would be misnamed."""
    for cert in (lab.ca, lab.issued, lab.signer):
        raw = der_once.der(cert)
        assert certs.issuer_and_serial_of(raw) == der.seq(
            certs.issuer_der(cert), der.integer(cert.serial_number))
    key = lab.ca_key
    for serial in (1, 127, 128, 255, 256, 2**63, 2**159 - 1):
        builder = (x509.CertificateBuilder().subject_name(lab.ca.subject)
                   .issuer_name(lab.ca.subject).public_key(key.public_key())
                   .serial_number(serial).not_valid_before(lab.ca.not_valid_before_utc)
                   .not_valid_after(lab.ca.not_valid_after_utc))
        cert = builder.sign(key, hashes.SHA256())
        raw = cert.public_bytes(Encoding.DER)
        assert certs.issuer_and_serial_of(raw) == der.seq(
            certs.issuer_of(raw), der.integer(serial))


def test_a_name_is_built_once_and_a_bad_one_fails_every_time(lab: Lab) -> None:
    """A Name read twice from the same bytes is the same value as one read afresh, and bad
    bytes raise the same error each time. If not, polls would name different CAs, or a
    malformed poll would be refused once and then accepted."""
    raw = lab.ca.subject.public_bytes()
    first = bodies.name_from_der(raw)
    assert first == lab.ca.subject
    assert bodies.name_from_der(bytes(raw)) == first
    with pytest.raises(der.DerError):  # not bytes: refused, as before, and not remembered
        bodies.name_from_der(bytearray(raw))  # type: ignore[arg-type]
    bad = raw[:-1]
    errors = []
    for _ in range(2):
        with pytest.raises(ValueError) as caught:
            bodies.name_from_der(bad)
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


def test_a_typed_name_is_parsed_once_and_a_bad_one_refused_every_time() -> None:
    """A subject typed twice gives equal Names (the one read afresh included), and a bad
    one is refused each time with the same message. If not, a router's configured and
    enrolled names could differ, or a typo would be accepted the second time."""
    text = "hostname=R1.lab+serialNumber=FTX1, CN=R1, O=MSK\\, Lab, C=RU"
    assert xu.parse_dn(text) == xu.parse_dn(text) == xu._parse_dn(text)
    assert xu.format_dn_ios(xu.parse_dn(text)) == xu.format_dn_ios(xu._parse_dn(text))
    for bad in ("CN=R1, C=RUS", "XX=1", "", "CN=a+CN=a"):
        messages = []
        for _ in range(2):
            with pytest.raises(ValueError) as caught:
                xu.parse_dn(bad)
            messages.append(str(caught.value))
        assert messages[0] == messages[1] == f"{bad} is not a valid subject name"


def test_a_recipient_named_in_another_string_type_is_still_found(lab: Lab) -> None:
    """An envelope naming the CA with its issuer written in UTF8String instead of the
    certificate's PrintableString still opens (the X.520 comparison behind the byte
    compare), and one naming another serial is refused. If not, a peer that re-encodes
    names would get badMessageCheck, or a misaddressed envelope would be opened."""
    utf8 = x509.Name([x509.NameAttribute(a.oid, str(a.value), _ASN1Type.UTF8String)
                      for a in lab.ca.issuer]).public_bytes()
    assert utf8 != certs.issuer_der(lab.ca)
    sealed = _reference_envelope(b"csr", [lab.ca], "des", random.Random(1).randbytes,
                                 issuer=utf8)
    assert envelope.decrypt_envelope(sealed, lab.ca, lab.ca_key) == b"csr"
    stray = _reference_envelope(b"csr", [lab.ca], "des", random.Random(1).randbytes,
                                serial=lab.ca.serial_number + 1)
    with pytest.raises(scep.ScepError, match="not addressed to this certificate"):
        envelope.decrypt_envelope(stray, lab.ca, lab.ca_key)


def test_a_signer_named_in_another_string_type_is_still_found(lab: Lab) -> None:
    """A SignerInfo naming its certificate with the issuer in UTF8String finds the same
    certificate as the byte-exact name, and a wrong serial finds none. If not, a peer that
    re-encodes names would be answered "no certificate matches the signer", or a message
    would be checked against the wrong certificate."""
    raw = der_once.der(lab.signer)
    found = [(lab.ca, der_once.der(lab.ca)), (lab.signer, raw)]
    utf8 = x509.Name([x509.NameAttribute(a.oid, str(a.value), _ASN1Type.UTF8String)
                      for a in lab.signer.issuer]).public_bytes()
    exact = der.read(certs.issuer_and_serial_of(raw))
    assert codec._find_signer(exact, found) is lab.signer
    renamed = der.read(der.seq(utf8, der.integer(lab.signer.serial_number)))
    assert renamed.encoded != exact.encoded
    assert codec._find_signer(renamed, found) is lab.signer
    stray = der.read(der.seq(utf8, der.integer(lab.signer.serial_number + 1)))
    assert codec._find_signer(stray, found) is None
