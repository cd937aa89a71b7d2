"""The usual pkiMessage read in one pass over its bytes, without the general reader's objects.

Why: every SCEP exchange parses two pkiMessages, and the general reader (:mod:`.codec` with
:class:`~sim.pki.scep.der.Tlv`) builds some thirty element objects and a dozen lists for
each: more Python work than the RSA verification it leads to. Nearly every message has one
shape: the one this simulator, IOS and other SCEP peers write, in DER::

    ContentInfo { signedData, [0] SignedData {
        version, digestAlgorithms, encapContentInfo { id-data, [0] OCTET STRING }?,
        [0] certificates, SET { one SignerInfo {
            version, IssuerAndSerialNumber of the first certificate, digestAlgorithm,
            [0] signedAttrs, signatureAlgorithm, OCTET STRING signature, ... } } } }

:func:`read_usual` reads that shape with offsets into the bytes (tuples, no element objects)
and gives the same :class:`PkiMessage` the general reader gives. Anything else (BER forms,
other field layouts, a signer named another way, an attribute value in another string type,
and every message the general reader refuses) is declined with None, and the general reader
reads it (or refuses it, with its own error) exactly as before. The fast path never raises
and never decides a refusal, so what is accepted and refused, and every error, stays the
general reader's; tests/test_onepass.py compares both over real and mangled messages.

Every element whose header the general reader checks is checked here with the same rules
(:func:`sim.pki.scep.der.span`: a tag number below 31, a definite length that fits), so a
message read here is one the general reader reads without error, to the same values.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import TypeVar

from cryptography import x509

from sim.pki import der_once
from sim.pki.scep import der
from sim.pki.scep.algorithms import (
    DIGEST_BY_OID,
    HASH_FUNCTIONS,
    SIGNATURE_OIDS,
    verifies,
)
from sim.pki.scep.bodies import LOAD_ERRORS
from sim.pki.scep.certs import issuer_and_serial_of, rsa_public_key
from sim.pki.scep.der import DerError
from sim.pki.scep.types import (
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
    PkiMessage,
    PkiStatus,
)

_SIGNED_DATA = der.oid("1.2.840.113549.1.7.2")
"""The ContentInfo contentType of a pkiMessage (id-signedData), as DER writes it."""

_DECLINED = (*LOAD_ERRORS, IndexError, OverflowError)
"""What reading a message the general reader should see may raise here (DerError and
UnicodeDecodeError are ValueErrors; certificate loading raises the LOAD_ERRORS)."""

_Span = tuple[int, int, int]
"""(start, contents start, end) of one element in the message's bytes."""
_E = TypeVar("_E", MessageType, PkiStatus, FailInfo)


def _enum_texts(kind: type[_E]) -> dict[bytes, _E]:
    """Each member's decimal digits, as a PrintableString holds them (``b"19"``)."""
    return {str(int(member)).encode("ascii"): member for member in kind}


_MESSAGE_TYPES = _enum_texts(MessageType)
_STATUSES = _enum_texts(PkiStatus)
_FAIL_INFOS = _enum_texts(FailInfo)
"""The attribute values read here without the general reader; any other text (spaces,
leading zeros, an unknown number) is left to it, which reads it the same or refuses it."""

_PRINTABLE, _UTF8, _OCTETS, _UTC_TIME = 0x13, 0x0C, 0x04, 0x17
"""First octets of the primitive universal elements read here."""


def read_usual(data: bytes) -> PkiMessage | None:
    """The pkiMessage ``data`` holds, read in one pass, or None if it is not of the usual
    shape (or not valid): the caller then reads it with the general reader."""
    if type(data) is not bytes:  # noqa: E721 - the general reader checks other buffers
        return None
    try:
        return _read(data)
    except _DECLINED:
        return None


def elements(data: bytes, pos: int, stop: int) -> list[_Span]:
    """The elements in ``data[pos:stop]``, each in the form the general reader reads
    without asn1crypto (:func:`sim.pki.scep.der.span`); DerError for anything else."""
    out = []
    while pos < stop:
        body = pos + 2
        if data[pos] & 31 == 31 or body > stop:
            raise DerError("not a usual element")
        size = data[pos + 1]
        if size < 0x80:
            end = body + size
        elif size == 0x81 and body < stop:
            end = body + 1 + data[body]
            body += 1
        elif size == 0x82 and body + 1 < stop:
            end = body + 2 + (data[body] << 8 | data[body + 1])
            body += 2
        else:
            quick = der.span(data, pos, stop)
            if quick is None:
                raise DerError("not a usual element")
            body, end = quick
        if end > stop:
            raise DerError("not a usual element")
        out.append((pos, body, end))
        pos = end
    return out


def _inside(data: bytes, element: _Span, first: int, count: int) -> list[_Span]:
    """The children of ``element``, which must start with octet ``first`` and hold exactly
    ``count`` elements (``count`` 0: at least one)."""
    if data[element[0]] != first:
        raise DerError("not the usual element")
    children = elements(data, element[1], element[2])
    if len(children) != count and (count or not children):
        raise DerError("not the usual number of elements")
    return children


def _read(data: bytes) -> PkiMessage | None:
    top = elements(data, 0, len(data))
    if len(top) != 1:
        return None
    content_type, wrapper = _inside(data, top[0], 0x30, 2)
    if data[content_type[0]:content_type[2]] != _SIGNED_DATA:
        return None
    (signed,) = _inside(data, wrapper, 0xA0, 1)
    _version, _digests, encap, certificates, signer_infos = _inside(data, signed, 0x30, 5)
    econtent = _econtent(data, encap)
    certs = _certificates(data, certificates)
    (signer_info,) = _inside(data, signer_infos, 0x31, 1)
    info = _inside(data, signer_info, 0x30, 0)
    if len(info) < 6:
        return None
    digest = DIGEST_BY_OID.get(_algorithm(data, info[2]))
    if digest is None or _algorithm(data, info[4]) not in SIGNATURE_OIDS:
        return None
    signature = info[5]
    if data[signature[0]] != _OCTETS:
        return None
    signer = _signer(data, info[1], certs)
    if signer is None:
        return None
    public_key = rsa_public_key(signer)
    attributes = info[3]
    if public_key is None or data[attributes[0]] != 0xA0:
        return None
    values, spans = _attributes(data, attributes)
    fields = _fields(data, values)
    digest_value = values.get(MESSAGE_DIGEST)
    if fields is None or digest_value is None or data[digest_value[0]] & 0x20:
        return None

    content_ok = hmac.compare_digest(data[digest_value[1]:digest_value[2]],
                                     HASH_FUNCTIONS[digest](econtent).digest())
    valid = False
    if content_ok:
        # As the general reader checks (codec._signature_ok): the attributes as received
        # with the SET tag, else in their canonical DER order (P2).
        received = b"\x31" + data[attributes[0] + 1:attributes[2]]
        value = data[signature[1]:signature[2]]
        valid = verifies(public_key, value, received, digest)
        if not valid:
            canonical = der.set_of(data[start:end] for start, end in spans)
            valid = canonical != received and verifies(public_key, value, canonical, digest)
    (message_type, transaction_id, sender_nonce, recipient_nonce, status, fail_info,
     fail_text, when) = fields
    return PkiMessage(
        message_type=message_type,
        transaction_id=transaction_id,
        sender_nonce=sender_nonce,
        recipient_nonce=recipient_nonce,
        pki_status=status,
        fail_info=fail_info,
        fail_info_text=fail_text,
        signer_cert=signer,
        certificates=tuple(cert for cert, _raw in certs),
        digest=digest,
        enveloped=econtent or None,
        signature_valid=valid,
        raw=data,
        signing_time=when,
    )


def _econtent(data: bytes, encap: _Span) -> bytes:
    """The eContent of ``encapContentInfo { contentType, [0] OCTET STRING }``; empty when
    absent (P7), as the general reader reads it."""
    fields = _inside(data, encap, 0x30, 0)
    if len(fields) == 1:
        return b""
    if len(fields) != 2:
        raise DerError("not the usual encapContentInfo")
    (octets,) = _inside(data, fields[1], 0xA0, 1)
    if data[octets[0]] != _OCTETS:  # a constructed string (P6): the general reader's
        raise DerError("not the usual eContent")
    return data[octets[1]:octets[2]]


def _certificates(data: bytes, certificates: _Span) -> list[tuple[x509.Certificate, bytes]]:
    """Each certificate with its DER, in received order (as bodies.load_certificates)."""
    out = []
    for start, _body, end in _inside(data, certificates, 0xA0, 0):
        if data[start] != 0x30:  # another CertificateChoice: the general reader's
            raise DerError("not the usual certificate")
        raw = data[start:end]
        out.append((der_once.load_certificate(raw), raw))
    return out


def _algorithm(data: bytes, element: _Span) -> str:
    """The dotted OID of an ``AlgorithmIdentifier { algorithm, parameters? }``."""
    oid = _inside(data, element, 0x30, 0)[0]
    if data[oid[0]] != 0x06:
        raise DerError("not the usual algorithm identifier")
    return der.dotted(data[oid[0]:oid[2]])


def _signer(data: bytes, sid: _Span, certs: list[tuple[x509.Certificate, bytes]]
            ) -> x509.Certificate | None:
    """The first certificate, when the SignerIdentifier names it byte for byte as its own
    IssuerAndSerialNumber (every signer writes it so); None otherwise, for the general
    reader, which also matches names written another way and later certificates."""
    if not certs:
        return None
    cert, raw = certs[0]
    return cert if issuer_and_serial_of(raw) == data[sid[0]:sid[2]] else None


_HEADERS: dict[bytes, tuple[str, int, int]] = {}
"""The bytes before the value of each usual attribute seen: ``SEQUENCE { OID, SET { one
value } }`` with every length below 128 (short form, X.690 8.1.3.4), up to the value's
tag and length octets -> (dotted OID, the attribute's length, the value's length). Those
bytes fix every tag and length of the attribute, so a later attribute that starts with them
and fits its parent reads the same (signers write the same few: ten OIDs, a length or two
each). Bounded: a run meets a few dozen; hostile input cannot grow it past ``_HEADERS_MAX``."""
_HEADERS_MAX = 512


def _attributes(data: bytes, attributes: _Span) -> tuple[dict[str, _Span], list[tuple[int, int]]]:
    """OID -> first value of each attribute (the first occurrence wins, an attribute
    without values is skipped), and each attribute's (start, end): what
    ``codec._attributes_fast`` reads, with the same checks."""
    values: dict[str, _Span] = {}
    spans = []
    pos, stop = attributes[1], attributes[2]
    while pos < stop:
        known = _HEADERS.get(data[pos:pos + 8 + data[pos + 3]])
        if known is not None:
            dotted, size, value_size = known
            end = pos + size
            if end > stop:
                raise DerError("attribute longer than its parent")
            found: _Span | None = (end - value_size - 2, end - value_size, end)
        else:
            dotted, found, end = _attribute(data, pos, stop)
        if found is not None and dotted not in values:
            values[dotted] = found
        spans.append((pos, end))
        pos = end
    return values, spans


def _attribute(data: bytes, pos: int, stop: int) -> tuple[str, _Span | None, int]:
    """(dotted OID, first value or None, end) of the attribute at ``pos``, read element by
    element; its header is remembered in ``_HEADERS`` when it has the usual form."""
    quick = der.span(data, pos, stop)
    if quick is None or data[pos] != 0x30:
        raise DerError("not the usual attribute")
    body, end = quick
    fields = elements(data, body, end)
    if len(fields) != 2 or data[fields[0][0]] != 0x06 or data[fields[1][0]] != 0x31:
        raise DerError("not the usual attribute")
    oid, value_set = fields
    every = elements(data, value_set[1], value_set[2])
    dotted = der.dotted(data[oid[0]:oid[2]])
    if not every:
        return dotted, None, end
    first = every[0]
    usual = (len(every) == 1 and body == pos + 2 and oid[1] == oid[0] + 2
             and value_set[1] == value_set[0] + 2 and first[1] == first[0] + 2)
    if usual and len(_HEADERS) < _HEADERS_MAX:
        _HEADERS[data[pos:first[1]]] = (dotted, end - pos, end - first[1])
    return dotted, first, end


_Fields = tuple[MessageType, str, bytes, bytes | None, PkiStatus | None, FailInfo | None,
                str | None, datetime | None]


def _fields(data: bytes, values: dict[str, _Span]) -> _Fields | None:
    """The SCEP attributes as ``codec._message`` converts them, when each is in the form
    signers write (PrintableString digits, primitive OCTET STRING nonces, a DER UTCTime);
    None for anything else, which the general reader converts or refuses."""
    message_type = _enum(data, values.get(MESSAGE_TYPE), _MESSAGE_TYPES)
    transaction = values.get(TRANSACTION_ID)
    sender_nonce = _octets(data, values.get(SENDER_NONCE))
    if message_type is None or transaction is None or sender_nonce is None:
        return None
    status: PkiStatus | None = None
    fail_info: FailInfo | None = None
    recipient_nonce: bytes | None = None
    fail_text: str | None = None
    when: datetime | None = None
    if PKI_STATUS in values:
        status = _enum(data, values[PKI_STATUS], _STATUSES)
        if status is None:
            return None
    if FAIL_INFO in values:
        fail_info = _enum(data, values[FAIL_INFO], _FAIL_INFOS)
        if fail_info is None:
            return None
    if RECIPIENT_NONCE in values:
        recipient_nonce = _octets(data, values[RECIPIENT_NONCE])
        if recipient_nonce is None:
            return None
    if message_type is MessageType.CERT_REP and (
        status is None or recipient_nonce is None
        or (status is PkiStatus.FAILURE and fail_info is None)
    ):
        return None  # the general reader refuses it
    if FAIL_INFO_TEXT in values:
        fail_text = _string(data, values[FAIL_INFO_TEXT])
        if fail_text is None:
            return None
    if SIGNING_TIME in values:
        start, body, end = values[SIGNING_TIME]
        if data[start] != _UTC_TIME:
            return None
        when = der.utc_time(data[body:end])
        if when is None:
            return None
    if data[transaction[0]] != _PRINTABLE:
        return None
    transaction_id = data[transaction[1]:transaction[2]].decode("ascii")
    if not der.is_printable(transaction_id):
        return None  # refused (codec._transaction_id)
    return (message_type, transaction_id, sender_nonce, recipient_nonce,
            status, fail_info, fail_text, when)


def _enum(data: bytes, value: _Span | None, members: dict[bytes, _E]) -> _E | None:
    """The member a PrintableString of its digits names."""
    if value is None or data[value[0]] != _PRINTABLE:
        return None
    return members.get(data[value[1]:value[2]])


def _octets(data: bytes, value: _Span | None) -> bytes | None:
    """A primitive string's contents (der.octets reads any primitive element so)."""
    if value is None or data[value[0]] & 0x20:
        return None
    return data[value[1]:value[2]]


def _string(data: bytes, value: _Span) -> str | None:
    """A PrintableString or UTF8String, decoded as der.read_string decodes it."""
    first = data[value[0]]
    if first == _UTF8:
        return data[value[1]:value[2]].decode("utf-8")
    if first == _PRINTABLE:
        return data[value[1]:value[2]].decode("ascii")
    return None
