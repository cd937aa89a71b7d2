"""The pkiMessage's bytes laid out from fixed pieces: what :func:`codec.build_pki_message` writes.

Why: a pkiMessage is the same structure every time (RFC 8894 section 3.2: a ContentInfo of
SignedData with one SignerInfo and the SCEP authenticated attributes); only a few values
differ between two messages (the nonces, the transactionID, the digests, the signature, the
envelope, the certificates). Written element by element with :mod:`sim.pki.scep.der`, a
message took some forty small writes and as many intermediate byte strings, more Python
work than anything else in building it but the RSA signature. Here the parts that never
change (each attribute's OID with its headers, the algorithm identifiers, the signer's
IssuerAndSerialNumber) are made once and kept, and each message joins them with its own
values under headers computed from the lengths.

The bytes are exactly what the element-by-element writer gives (X.690 DER: definite lengths
in the fewest octets, the attributes DER-sorted); tests/test_template.py builds every kind
of message both ways and compares.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509

from sim.pki import der_once
from sim.pki.scep import der
from sim.pki.scep.algorithms import DIGEST_OIDS, DIGESTS_WITH_NULL_PARAMS, RSA_ENCRYPTION_OID
from sim.pki.scep.bodies import DATA_OID, SIGNED_DATA_OID
from sim.pki.scep.certs import issuer_and_serial_of
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
)


def head(identifier: int, n: int) -> bytes:
    """The identifier octet and DER length octets of an element of ``n`` content octets
    (X.690 section 10.1: definite form, the fewest octets; as :func:`der.tlv` writes)."""
    if n < 0x80:
        return bytes((identifier, n))
    if n < 0x100:
        return bytes((identifier, 0x81, n))
    if n < 0x10000:
        return bytes((identifier, 0x82, n >> 8, n & 0xFF))
    return bytes((identifier,)) + der.length(n)


@functools.lru_cache(maxsize=256)
def _attribute_head(oid: str, n: int) -> bytes:
    """Everything of ``Attribute ::= SEQUENCE { attrType OID, attrValues SET OF }`` that
    comes before its one value of ``n`` octets (the same for every value of that length)."""
    oid_der = der.oid(oid)
    set_head = head(0x31, n)
    return head(0x30, len(oid_der) + len(set_head) + n) + oid_der + set_head


def _attribute(oid: str, value: bytes) -> bytes:
    """One attribute with one encoded value (a SET of one needs no sorting)."""
    return _attribute_head(oid, len(value)) + value


@functools.lru_cache(maxsize=64)
def _number_attribute(oid: str, number: int) -> bytes:
    """A messageType, pkiStatus or failInfo attribute: the decimal number as a
    PrintableString (RFC 8894 section 3.2.1.2-3.2.1.4), the same bytes every time."""
    return _attribute(oid, der.printable_string(str(number)))


_CONTENT_TYPE_DATA = _attribute(CONTENT_TYPE, der.oid(DATA_OID))
"""The contentType attribute, the same in every pkiMessage (id-data)."""


def signed_attributes(
    *,
    content_digest: bytes,
    message_type: MessageType,
    transaction_id: str,
    sender_nonce: bytes,
    signing_time: datetime | None,
    pki_status: PkiStatus | None,
    recipient_nonce: bytes | None,
    fail_info: FailInfo | None,
    fail_info_text: str | None,
) -> bytes:
    """The DER SignedAttributes (a SET OF, tagged SET: what the signature covers, RFC 5652
    section 5.4). ValueError when ``transaction_id`` cannot be a PrintableString."""
    attributes = [
        _CONTENT_TYPE_DATA,
        _attribute(MESSAGE_DIGEST, der.octet_string(content_digest)),
        _number_attribute(MESSAGE_TYPE, int(message_type)),
        _attribute(TRANSACTION_ID, der.printable_string(transaction_id)),
        _attribute(SENDER_NONCE, der.octet_string(sender_nonce)),
    ]
    if signing_time is not None:
        attributes.append(_attribute(SIGNING_TIME, der.cms_time(signing_time)))
    if pki_status is not None:
        attributes.append(_number_attribute(PKI_STATUS, int(pki_status)))
    if recipient_nonce is not None:
        attributes.append(_attribute(RECIPIENT_NONCE, der.octet_string(recipient_nonce)))
    if fail_info is not None:
        attributes.append(_number_attribute(FAIL_INFO, int(fail_info)))
    if fail_info_text is not None:
        attributes.append(_attribute(FAIL_INFO_TEXT, der.utf8_string(fail_info_text)))
    # X.690 11.6 orders a SET OF by the encodings "padded at their trailing end with
    # 0-octets" (der.der_sort). Each attribute is one complete DER element, and no complete
    # element is a proper prefix of another (its header fixes its length), so the plain
    # byte order of the encodings is that order.
    attributes.sort()
    body = b"".join(attributes)
    return head(0x31, len(body)) + body


@functools.lru_cache(maxsize=16)
def _digest_algorithm(name: str) -> bytes:
    """The DigestAlgorithmIdentifier of ``name``: MD5 and SHA-1 with NULL parameters, as
    OpenSSL writes them (see algorithms.DIGESTS_WITH_NULL_PARAMS)."""
    params = der.null() if name in DIGESTS_WITH_NULL_PARAMS else None
    return der.algorithm_identifier(DIGEST_OIDS[name], params)


_VERSION_1 = der.integer(1)


@functools.lru_cache(maxsize=16)
def _signed_data_start(name: str) -> bytes:
    """SignedData's version 1 and its digestAlgorithms (a SET of the one algorithm)."""
    return _VERSION_1 + der.set_of([_digest_algorithm(name)])


def _signer_info_start(signer_der: bytes, digest_name: str) -> bytes:
    """SignerInfo's version 1, the signer's IssuerAndSerialNumber (read once per
    certificate, see certs.issuer_and_serial_of) and the digest algorithm."""
    return _VERSION_1 + issuer_and_serial_of(signer_der) + _digest_algorithm(digest_name)


_RSA_ENCRYPTION = der.algorithm_identifier(RSA_ENCRYPTION_OID, der.null())
_SIGNED_DATA_OID = der.oid(SIGNED_DATA_OID)
_DATA_OID = der.oid(DATA_OID)
_NO_ECONTENT = der.seq(_DATA_OID, der.context(0, der.octet_string(b"")))
"""encapContentInfo with an empty eContent (a PENDING or FAILURE CertRep, see codec)."""


def certificates_field(signer_der: bytes, extra_certs: Sequence[x509.Certificate]) -> bytes:
    """The ``[0] certificates`` field: signer first then ``extra_certs``, or ``extra_certs``
    as given when it already holds the signer (a CA answering with ``[issued, CA]`` as
    micromdm does); duplicates once. Written in that order, not DER-sorted (P3)."""
    if not extra_certs:
        return head(0xA0, len(signer_der)) + signer_der
    ders = [der_once.der(c) for c in extra_certs]
    if signer_der not in ders:
        ders.insert(0, signer_der)
    body = b"".join(dict.fromkeys(ders))
    return head(0xA0, len(body)) + body


def pki_message(
    *,
    signer_der: bytes,
    digest_name: str,
    econtent: bytes | None,
    signed_attrs: bytes,
    signature: bytes,
    certificates: bytes,
) -> bytes:
    """The ContentInfo of SignedData around the pieces (RFC 5652 sections 5.1-5.3).

    The SignerInfo carries ``signed_attrs`` re-tagged [0] IMPLICIT (RFC 5652 5.4). Without
    an envelope the eContent is an empty OCTET STRING rather than absent (codec says why).
    """
    signer_info = b"".join((
        _signer_info_start(signer_der, digest_name),
        b"\xa0", signed_attrs[1:],
        _RSA_ENCRYPTION,
        head(0x04, len(signature)), signature,
    ))
    signer_info = head(0x30, len(signer_info)) + signer_info
    if econtent:
        octets = head(0x04, len(econtent))
        wrapped = head(0xA0, len(octets) + len(econtent))
        n = len(_DATA_OID) + len(wrapped) + len(octets) + len(econtent)
        encap = b"".join((head(0x30, n), _DATA_OID, wrapped, octets, econtent))
    else:
        encap = _NO_ECONTENT
    start = _signed_data_start(digest_name)
    infos = head(0x31, len(signer_info))
    n = len(start) + len(encap) + len(certificates) + len(infos) + len(signer_info)
    signed = head(0x30, n)
    wrapper = head(0xA0, len(signed) + n)
    total = len(_SIGNED_DATA_OID) + len(wrapper) + len(signed) + n
    return b"".join((
        head(0x30, total), _SIGNED_DATA_OID, wrapper, signed,
        start, encap, certificates, infos, signer_info,
    ))
