"""The pkcsPKIEnvelope read in one pass (sim/pki/scep/envelope.py `_read_usual`) opens to
exactly what the general reader opens it to, for every cipher and recipient list, and a
mangled envelope (truncated, bytes or lengths or tags changed, bytes added or removed)
gets the same plaintext or the same refusal, with the same failInfo and text. It changes
speed, never what a CA or client decrypts or refuses."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from test_der_once import Lab
from test_onepass import _starts

from sim.pki import der_once, memo, scep
from sim.pki.scep import certs, der, envelope
from sim.pki.scep.algorithms import CIPHERS

Outcome = tuple[object, ...]


@pytest.fixture(scope="module")
def lab() -> Lab:
    return Lab()


@contextmanager
def _general_only() -> Iterator[None]:
    """Within: every envelope goes to the general reader (the one-pass reader declines)."""
    saved = envelope._usual_envelope
    envelope._usual_envelope = lambda enveloped: None  # type: ignore[assignment]
    try:
        yield
    finally:
        envelope._usual_envelope = saved  # type: ignore[assignment]


def _outcome(call: Callable[[], object]) -> Outcome:
    try:
        return ("read", call())
    except scep.ScepError as refused:
        return ("refused", refused.fail_info, refused.message)


def _agree(data: bytes, cert: x509.Certificate, key: rsa.RSAPrivateKey) -> Outcome:
    """Both readers' answers to opening ``data`` and naming its cipher, checked equal."""
    fast = (_outcome(lambda: envelope.decrypt_envelope(data, cert, key)),
            _outcome(lambda: envelope.envelope_algorithm(data)))
    with _general_only():
        general = (_outcome(lambda: envelope.decrypt_envelope(data, cert, key)),
                   _outcome(lambda: envelope.envelope_algorithm(data)))
    assert fast == general, data.hex()
    return fast[0]


def _envelopes(lab: Lab) -> list[tuple[bytes, x509.Certificate, rsa.RSAPrivateKey]]:
    """Envelopes of each cipher, sealed to one or two recipients in either order."""
    out = []
    rng = random.Random(8)
    for cipher in CIPHERS:
        for recipients in ([lab.ca], [lab.signer, lab.ca], [lab.ca, lab.signer]):
            data = envelope.build_envelope(b"content " * 20, recipients, cipher, rng.randbytes)
            out.append((data, lab.ca, lab.ca_key))
            if lab.signer in recipients:
                out.append((data, lab.signer, lab.key))
    return out


def test_usual_envelopes_are_opened_in_one_pass_alike(lab: Lab) -> None:
    """Each cipher and recipient list: the one-pass reader takes the envelope (so this
    test compares something) and opens it to the same plaintext as the general reader;
    a certificate the envelope is not sealed to is refused alike. If not, a router or CA
    would decrypt a different request or reply than before."""
    for data, cert, key in _envelopes(lab):
        assert envelope._read_usual(data) is not None
        assert _agree(data, cert, key) == ("read", b"content " * 20)
    sealed_to_ca = envelope.build_envelope(b"x", [lab.ca], "des", random.Random(1).randbytes)
    assert _agree(sealed_to_ca, lab.issued, lab.key)[0] == "refused"


def test_mangled_envelopes_are_opened_or_refused_alike(lab: Lab) -> None:
    """Truncated envelopes, changed bytes, lengths and tags, bytes added or removed get the
    same plaintext or the same refusal (failInfo and text) from both readers. If not, a
    mangled request would be opened, or refused with another failInfo, than before."""
    samples = _envelopes(lab)[:12]
    rng = random.Random(8894)
    usual = refused = 0
    for round_ in range(1500):
        original, cert, key = rng.choice(samples)
        data = bytearray(original)
        kind = round_ % 6
        if kind == 0:
            del data[rng.randrange(len(data)):]
        elif kind == 1:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif kind == 2:
            starts: list[int] = []
            _starts(original, 0, len(original), starts)
            at = rng.choice(starts)
            if rng.random() < 0.6:  # a length
                data[at + 1] = rng.choice([(data[at + 1] + rng.choice([-2, -1, 1, 2])) % 256,
                                           0x80, 0x81, 0x82, 0x84, 0xFF, 0x00])
            else:  # a tag: another type, constructed or primitive, a high tag number
                data[at] = rng.choice([data[at] ^ 0x20, 0x04, 0x24, 0x30, 0x31, 0xA0, 0x80,
                                       0x10, 0x1F, 0x06, 0x02, 0x11])
        elif kind == 3:
            at = rng.randrange(len(data))
            data[at:at] = rng.randbytes(rng.randint(1, 3))
        elif kind == 4:
            at = rng.randrange(len(data))
            del data[at:at + rng.randint(1, 3)]
        else:
            data += rng.choice([b"\x05\x00", b"\x00", rng.randbytes(rng.randint(1, 3))])
        mangled = bytes(data)
        usual += envelope._usual_envelope(mangled) is not None
        refused += _agree(mangled, cert, key)[0] == "refused"
    # Both paths are exercised: mangled envelopes the one-pass reader takes (a changed
    # content or key byte keeps the shape) and ones it leaves to the general reader.
    assert usual > 200 and refused > 600


def test_a_constructed_encrypted_content_is_left_to_the_general_reader(lab: Lab) -> None:
    """Go's pkcs7 sends encryptedContent as a constructed [0] of OCTET STRING parts (P6):
    the one-pass reader leaves it to the general reader, which joins the parts. If not,
    enrollment from such a peer would fail to decrypt."""
    data = envelope.build_envelope(b"go " * 30, [lab.ca], "aes128", random.Random(3).randbytes)
    top = der.read(data)
    inner = der.fields(der.read_inside(der.fields(top, "ci", 2)[1]), "ed", 3)
    content = der.fields(inner[2], "eci", 3)
    encrypted = content[2].contents
    parts = der.octet_string(encrypted[:16]) + der.octet_string(encrypted[16:])
    rebuilt_content = der.seq(content[0].encoded, content[1].encoded, der.tlv(0xA0, parts))
    rebuilt = der.seq(top.children()[0].encoded, der.context(0, der.seq(
        inner[0].encoded, inner[1].encoded, rebuilt_content)))
    assert envelope._usual_envelope(rebuilt) is None
    assert _agree(rebuilt, lab.ca, lab.ca_key) == ("read", b"go " * 30)


def test_answers_kept_per_certificate_object_are_the_fresh_ones(lab: Lab) -> None:
    """The per-object memo (sim/pki/memo.py `per_object`) behind an envelope's recipient
    answers what the function does: for the same object, an equal copy, past its limit,
    and a call that raised is made again. If not, a router could seal a request to (or
    look for itself under) another certificate's name."""
    calls: list[object] = []

    @memo.per_object(2)
    def named(cert: x509.Certificate) -> bytes:
        calls.append(cert)
        if cert is lab.issued:
            raise ValueError("refused")
        return certs.issuer_and_serial_of(der_once.der(cert))

    copy = x509.load_der_x509_certificate(der_once.der(lab.ca))
    for cert in (lab.ca, lab.ca, copy, lab.signer, copy, lab.ca):
        assert named(cert) == certs.issuer_and_serial_of(cert.public_bytes(Encoding.DER))
    # ca, copy, signer computed (ca dropped past the limit of 2); copy used again, so
    # kept; ca computed again.
    assert [id(c) for c in calls] == [id(lab.ca), id(copy), id(lab.signer), id(lab.ca)]
    for _ in range(2):
        with pytest.raises(ValueError):
            named(lab.issued)
    assert calls[-2:] == [lab.issued, lab.issued]
    assert envelope._named(lab.signer) == certs.issuer_and_serial_of(der_once.der(lab.signer))
