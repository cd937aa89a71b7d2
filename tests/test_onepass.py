"""The one-pass pkiMessage reader gives exactly what the general reader gives: for every
message the simulator writes (each message type, each cipher and digest) and for mangled
ones (truncated, bytes changed, lengths changed, bytes added or removed), the same parsed
message, or the same refusal with the same failInfo and text. It changes speed, never what
a CA or client reads or refuses."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import fields

import pytest
from test_der_once import T0, Lab

from sim.pki import scep, scep_forge
from sim.pki import x509util as xu
from sim.pki.scep import certs, codec, der, onepass
from sim.pki.scep.algorithms import (
    CIPHERS,
    DIGEST_OIDS,
    PKCS1V15,
    RSA_ENCRYPTION_OID,
    hash_for,
)
from sim.pki.scep.bodies import DATA_OID, SIGNED_DATA_OID
from sim.pki.scep.types import (
    CONTENT_TYPE,
    MESSAGE_DIGEST,
    MESSAGE_TYPE,
    SENDER_NONCE,
    TRANSACTION_ID,
    FailInfo,
    MessageType,
    PkiMessage,
    PkiStatus,
    Profile,
)

Outcome = tuple[object, ...]


@pytest.fixture(scope="module")
def lab() -> Lab:
    return Lab()


def _outcome(read: Callable[[bytes], PkiMessage], data: bytes) -> Outcome:
    """What a reader makes of ``data``: every field with its type (an IntEnum equals a
    plain int, so the type is compared too), or the refusal's failInfo and text."""
    try:
        message = read(data)
    except scep.ScepError as refused:
        return ("refused", refused.fail_info, refused.message)
    return tuple((f.name, type(getattr(message, f.name)), getattr(message, f.name))
                 for f in fields(message))


def _agree(data: bytes) -> PkiMessage | None:
    """Check that the reader in use (one pass first) and the general reader agree on
    ``data``; the one-pass result, None where it declined."""
    general = _outcome(codec._parse_general, data)
    assert _outcome(codec._parse_checked, data) == general
    fast = onepass.read_usual(data)
    if fast is not None:
        assert _outcome(lambda _data: fast, data) == general
    return fast


def _messages(lab: Lab) -> list[bytes]:
    """Each message type the simulator sends, under every cipher and digest."""
    issuer_subject = scep.issuer_and_subject(lab.ca.subject, lab.issued.subject)
    issuer_serial = scep.issuer_and_serial(lab.ca.subject, 2)
    rng = random.Random(5652)
    out = []
    for cipher in CIPHERS:
        for digest in DIGEST_OIDS:
            profile = Profile("test", cipher, digest, True)
            common = {"profile": profile, "random_bytes": rng.randbytes,
                      "transaction_id": f"{cipher}{digest}TID"}
            client = {**common, "signer_cert": lab.signer, "signer_key": lab.key,
                      "recipients": [lab.ca], "signing_time": T0}
            out += [
                scep.build_pki_message(message_type=MessageType.PKCS_REQ,
                                       content=xu.csr_der(lab.csr), **client),
                scep.build_pki_message(message_type=MessageType.GET_CERT_INITIAL,
                                       content=issuer_subject, **client),
                scep.build_pki_message(message_type=MessageType.GET_CERT,
                                       content=issuer_serial, **client),
                scep.build_pki_message(message_type=MessageType.GET_CRL,
                                       content=issuer_serial, **client),
                scep.build_pki_message(
                    message_type=MessageType.RENEWAL_REQ, content=xu.csr_der(lab.csr),
                    **{**client, "signer_cert": lab.issued}),
            ]
            server = {**common, "message_type": MessageType.CERT_REP, "signer_cert": lab.ca,
                      "signer_key": lab.ca_key, "recipient_nonce": rng.randbytes(16)}
            out += [
                scep.build_pki_message(
                    pki_status=PkiStatus.SUCCESS, recipients=[lab.signer],
                    content=scep.degenerate_certs([lab.issued, lab.ca]),
                    extra_certs=[lab.issued], signing_time=T0, **server),
                scep.build_pki_message(pki_status=PkiStatus.PENDING, signing_time=T0,
                                       **server),
                scep.build_pki_message(pki_status=PkiStatus.FAILURE,
                                       fail_info=FailInfo.BAD_CERT_ID,
                                       fail_info_text="no such certificate: café", **server),
            ]
    return out


def test_every_message_the_simulator_writes_is_read_in_one_pass_alike(lab: Lab) -> None:
    """Each message type under each cipher and digest is read by the one-pass reader, to
    exactly what the general reader reads. If not, a CA or client would see another
    transactionID, nonce, status, signer or content than before, or the fast path would
    never be taken (and the simulation would be slower than it should)."""
    messages = _messages(lab)
    assert len(messages) == len(CIPHERS) * len(DIGEST_OIDS) * 8
    for data in messages:
        fast = _agree(data)
        assert fast is not None and fast.signature_valid


def test_forms_the_one_pass_reader_leaves_alone_are_read_as_before(lab: Lab) -> None:
    """Messages of other forms (attributes in other string types, several values, names
    written another way, no signing time, odd number spellings) are read by the general
    reader, as they were. If not, a peer sending them would be read differently or refused."""
    nonce = b"n" * 16
    tid = b"\x13\x04ABCD"
    variants = [
        scep_forge.request_attributes(19, tid, nonce, None),
        scep_forge.request_attributes(der.utf8_string("19"), tid, nonce, T0),
        scep_forge.request_attributes(der.printable_string(" 19"), tid, nonce, T0),
        scep_forge.request_attributes(der.printable_string("019"), der.utf8_string("ABCD"),
                                      nonce, T0),
        scep_forge.request_attributes(der.printable_string("99"), tid, nonce, T0),
        scep_forge.request_attributes(19, b"\x13\x05AB_CD", nonce, T0),
        scep_forge.request_attributes(19, tid, b"", T0),
        [scep_forge.attribute(MESSAGE_TYPE, der.printable_string("19")),
         scep_forge.attribute(TRANSACTION_ID, tid)],
        [scep_forge.attribute(MESSAGE_TYPE, der.printable_string("21")),
         scep_forge.attribute(TRANSACTION_ID, tid),
         der.seq(der.oid(SENDER_NONCE), der.set_of([der.octet_string(nonce),
                                                    der.octet_string(b"x")]))],
        [*scep_forge.request_attributes(20, tid, nonce, T0),
         der.seq(der.oid(MESSAGE_TYPE), der.set_of([]))],
        [*scep_forge.request_attributes(22, tid, nonce, T0),
         der.seq(der.oid("1.2.3.4"), der.set_of([der.octet_string(b"y" * 200)]))],
        [*scep_forge.request_attributes(19, tid, nonce, T0),  # the first one counts
         scep_forge.attribute(MESSAGE_TYPE, der.printable_string("21"))],
    ]
    results = [_outcome(codec._parse_general, _agree_constructed_econtent(lab))[0]]
    for attributes in variants:
        for econtent in (b"content", None):
            data = scep_forge.signed_message(lab.signer, lab.key, "sha256", econtent,
                                             attributes, extra_certs=[lab.ca])
            _agree(data)
            results.append(_outcome(codec._parse_general, data)[0])
    assert "refused" in results and results.count("refused") < len(results)


def _agree_constructed_econtent(lab: Lab) -> bytes:
    """A request whose eContent is a constructed OCTET STRING of two segments (Go's pkcs7
    sends such strings, P6), checked with :func:`_agree`; the message."""
    econtent = b"segment one, segment two"
    attributes = [
        scep_forge.attribute(CONTENT_TYPE, der.oid(DATA_OID)),
        scep_forge.attribute(MESSAGE_DIGEST, der.octet_string(hashlib.sha256(econtent).digest())),
        *scep_forge.request_attributes(19, b"\x13\x02ID", b"n" * 16, T0),
    ]
    signed_attrs = der.set_of(attributes)
    signature = lab.key.sign(signed_attrs, PKCS1V15, hash_for("sha256"))
    digest_algorithm = der.algorithm_identifier(DIGEST_OIDS["sha256"], None)
    signer_info = der.seq(der.integer(1), certs.issuer_and_serial_of(xu.cert_der(lab.signer)),
                          digest_algorithm, b"\xa0" + signed_attrs[1:],
                          der.algorithm_identifier(RSA_ENCRYPTION_OID, der.null()),
                          der.octet_string(signature))
    segments = der.tlv(0x24, der.octet_string(econtent[:12]) + der.octet_string(econtent[12:]))
    signed_data = der.seq(der.integer(1), der.set_of([digest_algorithm]),
                          der.seq(der.oid(DATA_OID), der.context(0, segments)),
                          der.context(0, xu.cert_der(lab.signer)), der.set_of([signer_info]))
    data = der.seq(der.oid(SIGNED_DATA_OID), der.context(0, signed_data))
    assert _agree(data) is None
    assert codec._parse_general(data).signature_valid  # read, by the general reader
    return data


def _starts(data: bytes, pos: int, stop: int, found: list[int]) -> None:
    """Where every element inside ``data[pos:stop]`` starts, descending into constructed
    ones (and into the OCTET STRINGs that hold DER)."""
    for start, body, end in onepass.elements(data, pos, stop):
        found.append(start)
        if data[start] & 0x20 or (data[start] == 0x04 and data[body:body + 1] == b"\x30"):
            try:
                _starts(data, body, end, found)
            except der.DerError:
                pass  # a signature or nonce that happens to start like a SEQUENCE


def test_mangled_messages_are_read_or_refused_alike(lab: Lab) -> None:
    """Truncated messages, changed bytes, changed lengths, and bytes added or removed get
    the same answer from the one-pass reader as from the general one: the same message (a
    broken signature read as such) or the same refusal. If not, a mangled request would
    be accepted, or refused with another failInfo than before."""
    samples = [lab.request, lab.reply, *_messages(lab)[5:8]]
    rng = random.Random(8894)
    read_fast = refused = 0
    for round_ in range(2500):
        data = bytearray(rng.choice(samples))
        kind = round_ % 7
        if kind == 0:
            del data[rng.randrange(len(data)):]
        elif kind == 1:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif kind == 2:
            starts: list[int] = []
            _starts(bytes(data), 0, len(data), starts)
            at = rng.choice(starts)
            if rng.random() < 0.6:  # a length
                data[at + 1] = rng.choice([(data[at + 1] + rng.choice([-2, -1, 1, 2])) % 256,
                                           0x80, 0x81, 0x82, 0x84, 0xFF, 0x00])
            else:  # a tag: another type, constructed or primitive, a high tag number
                data[at] = rng.choice([data[at] ^ 0x20, 0x04, 0x24, 0x30, 0x31, 0xA0, 0x80,
                                       0x13, 0x0C, 0x16, 0x1E, 0x1F, 0x10, 0x06, 0x02])
        elif kind == 3:
            at = rng.randrange(len(data))
            data[at:at] = rng.randbytes(rng.randint(1, 3))
        elif kind == 4:
            at = rng.randrange(len(data))
            del data[at:at + rng.randint(1, 3)]
            if rng.random() < 0.2:
                data += rng.randbytes(rng.randint(1, 3))  # and trailing bytes
        elif kind == 5:
            data += rng.choice([b"\x05\x00", b"\x00", rng.randbytes(rng.randint(1, 3))])
        else:
            data[rng.randrange(len(data))] = rng.choice([0x00, 0x1F, 0x30, 0x31, 0x80, 0xA0,
                                                         0xFF, rng.randrange(256)])
        fast = _agree(bytes(data))
        read_fast += fast is not None
        refused += _outcome(codec._parse_general, bytes(data))[0] == "refused"
    # Both paths are exercised: mangled messages read in one pass (a changed nonce or
    # envelope byte keeps the shape) and refusals left to the general reader.
    assert read_fast > 300 and refused > 800


def test_attributes_read_from_remembered_headers_match_the_general_reader(lab: Lab) -> None:
    """The authenticated attributes read in one pass (headers seen before are recognized
    without reading each element) are those the general reader finds, for real and mangled
    attribute blocks; a block the one-pass reader gives up on goes to the general reader.
    If not, a message whose attributes overrun their block or repeat an attribute would be
    read differently than before."""
    samples = []
    for data in (lab.request, lab.reply):
        signed = der.fields(der.read_inside(der.fields(der.read(data), "ContentInfo", 2)[1]),
                            "SignedData", 4)
        samples.append(der.fields(signed[-1].children()[0], "SignerInfo", 5)[3].contents)
    rng = random.Random(3370)
    agreed = declined = 0
    for round_ in range(3000):
        contents = bytearray(rng.choice(samples))
        if round_ % 4:
            at = rng.randrange(len(contents))
            roll = rng.random()
            if roll < 0.4:
                del contents[at:]
            elif roll < 0.7:
                contents[at] = rng.choice([rng.randrange(256), 0x80, 0x30, 0x31, 0x1F])
            else:
                contents[at:at] = rng.randbytes(rng.randint(1, 3))
        block = der.context(0, bytes(contents))
        try:
            fast, _spans = onepass._attributes(
                block, (0, len(block) - len(contents), len(block)))
        except (der.DerError, IndexError):
            declined += 1  # the whole message goes to the general reader
            continue
        general = codec._attributes(der.read(block))  # raises if it refuses the block
        assert {oid: block[start:end] for oid, (start, _body, end) in fast.items()} == {
            oid: value.encoded for oid, value in general.items()}
        agreed += 1
    assert agreed > 500 and declined > 500
