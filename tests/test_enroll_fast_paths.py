"""The enrollment path's shortcuts give exactly what the general code gives: reading a
message's attributes in one pass, sealing to a remembered recipient key, and reusing the
bytes of a certificate that arrives again as a new object. They change speed, never bytes."""

from __future__ import annotations

import random

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from test_der_once import Lab

from sim.pki import der_once
from sim.pki.scep import codec, der, envelope


@pytest.fixture(scope="module")
def lab() -> Lab:
    return Lab()


def _signed_attrs(message: bytes) -> bytes:
    """The contents of a pkiMessage's signedAttrs [0] element."""
    signed = der.fields(der.read_inside(der.fields(der.read(message), "ContentInfo", 2)[1]),
                        "SignedData", 4)
    info = der.fields(signed[-1].children()[0], "SignerInfo", 5)
    return info[3].contents


def _read(read: object, element: der.Tlv) -> object:
    """What a reader answers: the attributes (as encoded bytes) or its error."""
    try:
        values = read(element)  # type: ignore[operator]
    except der.DerError as exc:
        return f"error: {exc}"
    return {oid: value.encoded for oid, value in values.items()}


def test_attributes_read_in_one_pass_match_the_general_reader(lab: Lab) -> None:
    """For real and mangled authenticated attributes, the one-pass reader gives the same
    attributes as the general one, or leaves the message to it. If not, a CA would read a
    different transactionID, nonce or message type than before, or accept attributes it
    used to refuse."""
    samples = [_signed_attrs(lab.request), _signed_attrs(lab.reply)]
    rng = random.Random(8894)
    fast_read = 0
    for round_ in range(1500):
        contents = bytearray(rng.choice(samples))
        if round_ % 5:  # a fifth stay as signed
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(len(contents))
                roll = rng.random()
                if roll < 0.6:
                    contents[at] = rng.choice([rng.randrange(256), 0x80, 0x00, 0xFF, 0x1F,
                                               0x81, 0x30, 0x31, 0x06, 0x26])
                elif roll < 0.8:
                    del contents[at:at + rng.randint(1, 6)]
                else:
                    contents[at:at] = rng.randbytes(rng.randint(1, 4))
        element = der.read(der.context(0, bytes(contents)))
        fast = codec._attributes_fast(element)
        general = _read(codec._attributes_general, element)
        assert _read(codec._attributes, element) == general
        if fast is not None:
            fast_read += 1
            assert {oid: value.encoded for oid, value in fast.items()} == general
            general_values = codec._attributes_general(element)
            assert fast == general_values  # tag, class, header and contents alike
    assert fast_read > 300  # the shortcut is taken, not only ever declined


def test_a_remembered_recipient_key_seals_the_same_bytes(lab: Lab) -> None:
    """Sealing to a certificate whose key was read before gives the bytes sealing to a
    freshly read key gives. If not, envelopes (and so every artifact after them) would
    differ between a CA's first and later requests."""
    for cert in (lab.ca, lab.signer, lab.ca):
        numbers = cert.public_key().public_numbers()  # type: ignore[union-attr]
        fresh = envelope.rsaes_pkcs1_v15_encrypt(cert.public_key(), b"k" * 16,  # type: ignore[arg-type]
                                                 random.Random(3).randbytes)
        remembered = envelope._recipient_numbers(cert)
        assert remembered == (numbers.n, numbers.e)
        assert envelope._encrypt_with(*remembered, b"k" * 16, random.Random(3).randbytes) == fresh


def test_a_certificate_arriving_again_reuses_its_bytes(lab: Lab) -> None:
    """A certificate loaded from DER written here, and the PEM of a second object with the
    same DER, are the bytes a fresh serialization gives, and were not written again. If
    not, the CA's and the client's copies of an issued certificate would disagree, or
    every copy would be serialized anew."""
    der_once.clear()
    written = der_once.der(lab.issued)
    pem = der_once.pem(lab.issued)
    copy = der_once.load_certificate(bytes(written))
    assert copy is not lab.issued
    assert der_once.der(copy) == copy.public_bytes(Encoding.DER) == written
    assert der_once.pem(copy) is pem
    assert pem == copy.public_bytes(Encoding.PEM)
    # A certificate whose bytes were never written here is serialized as before.
    foreign = x509.load_der_x509_certificate(lab.ca.public_bytes(Encoding.DER))
    der_once.clear()
    loaded = der_once.load_certificate(foreign.public_bytes(Encoding.DER))
    assert der_once.der(loaded) == foreign.public_bytes(Encoding.DER)
    assert der_once.pem(loaded) == foreign.public_bytes(Encoding.PEM)


def test_the_most_recently_used_entries_are_kept(lab: Lab) -> None:
    """An object used all along (a CA certificate) stays in the table while newer ones
    come and go. If not, every router of a big run would serialize its CA's certificate
    again every few hundred enrollments."""
    der_once.clear()
    first = der_once.der(lab.ca)
    raw = lab.issued.public_bytes(Encoding.DER)
    for _ in range(der_once.LIMIT * 2):
        der_once.der(x509.load_der_x509_certificate(raw))
        assert der_once.der(lab.ca) is first
    assert len(der_once._TABLES[Encoding.DER]) <= der_once.LIMIT
