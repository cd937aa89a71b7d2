"""Envelopes sealed and opened through cryptography's context constructors, an envelope's
cipher read once, and certs-only messages written from constant pieces give exactly what
the general code gives. They change speed, never bytes or refusals."""

from __future__ import annotations

import random

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher as CipherMaker
from cryptography.hazmat.primitives.ciphers.modes import CBC
from cryptography.hazmat.primitives.serialization import Encoding
from test_der_once import Lab

from sim.pki import scep
from sim.pki.scep import algorithms, der, envelope
from sim.pki.scep.algorithms import CIPHERS
from sim.pki.scep.bodies import DATA_OID, SIGNED_DATA_OID


@pytest.fixture(scope="module")
def lab() -> Lab:
    return Lab()


def test_cbc_contexts_give_the_public_api_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each cipher encrypts and decrypts to the bytes cryptography's public `Cipher` gives,
    with or without its context constructors, and an IV of the wrong length is refused.
    If not, an envelope would not open at the peer (or a bad IV would crash a CA)."""
    assert algorithms._CONTEXTS is not None  # the pinned cryptography has them
    rng = random.Random(3565)
    for cipher in CIPHERS.values():
        key, iv = rng.randbytes(cipher.key_size), rng.randbytes(cipher.block_size)
        data = rng.randbytes(cipher.block_size * 5)
        public = CipherMaker(cipher.algorithm(key), CBC(iv))
        sealed = public.encryptor().update(data)
        for contexts in (algorithms._CONTEXTS, None):
            monkeypatch.setattr(algorithms, "_CONTEXTS", contexts)
            context = cipher.cbc(key, iv, encrypt=True)
            assert context.update(data) + context.finalize() == sealed
            context = cipher.cbc(key, iv, encrypt=False)
            assert context.update(sealed) + context.finalize() == data
            with pytest.raises(ValueError):
                cipher.cbc(key, iv + b"\x00", encrypt=True)
            with pytest.raises(ValueError):
                cipher.cbc(key[:-1], iv, encrypt=False)


def test_an_envelope_cipher_is_read_once_and_a_bad_one_refused_every_time(lab: Lab) -> None:
    """The cipher of an envelope opened before is the one read afresh, and an envelope with
    an unknown cipher is refused each time it is asked about. If not, a CA would answer in
    another cipher than its client used, or accept a bad envelope the second time."""
    for name in CIPHERS:
        sealed = envelope.build_envelope(b"csr", [lab.ca], name, random.Random(1).randbytes)
        assert scep.decrypt_envelope(sealed, lab.ca, lab.ca_key) == b"csr"
        assert scep.envelope_algorithm(sealed) == name
    sealed = envelope.build_envelope(b"csr", [lab.ca], "aes128", random.Random(1).randbytes)
    unknown = sealed.replace(der.oid(CIPHERS["aes128"].oid), der.oid("2.16.840.1.101.3.4.1.3"))
    for _ in range(2):
        with pytest.raises(scep.ScepError) as refused:
            scep.envelope_algorithm(unknown)
        assert refused.value.fail_info is scep.FailInfo.BAD_ALG
        with pytest.raises(scep.ScepError) as refused:
            scep.decrypt_envelope(unknown, lab.ca, lab.ca_key)
        assert refused.value.fail_info is scep.FailInfo.BAD_ALG


def test_a_certs_only_message_is_the_one_written_field_by_field(lab: Lab) -> None:
    """The certs-only SignedData (a CertRep's content, a GetCACert chain, a CRL answer) is
    byte for byte the one written field by field as RFC 8894 section 3.4 describes it. If
    not, clients would read another certificate order or refuse the reply."""
    for certs, crls in (([lab.issued, lab.ca], []), ([lab.ca], []), ([], [lab.crl]),
                        ([lab.issued], [lab.crl]), ([], [])):
        fields = [der.integer(1), der.set_of([]), der.seq(der.oid(DATA_OID))]
        if certs:
            fields.append(der.context(0, b"".join(c.public_bytes(Encoding.DER) for c in certs)))
        if crls:
            fields.append(der.context(1, b"".join(c.public_bytes(Encoding.DER) for c in crls)))
        signed = der.seq(*fields, der.set_of([]))
        expected = der.seq(der.oid(SIGNED_DATA_OID), der.context(0, signed))
        assert scep.degenerate_certs(certs, crls) == expected
        assert scep.parse_degenerate(expected) == (certs, crls)
