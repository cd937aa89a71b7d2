"""pkiMessage: the signed outer layer of every SCEP PKIOperation, built and parsed.

RFC 8894 section 3.2: "pkiMessage ... is a CMS SignedData with the SCEP authenticated
attributes". ``cryptography``'s PKCS7SignatureBuilder cannot add those attributes (scep.md P1),
so the SignedData is written byte by byte (see :mod:`sim.pki.scep.template`).

Emit strictly (scep.md 5.4): signed attributes DER-sorted and signed in exactly that encoding
(P2), certificates in the caller's order (P3), no envelope on PENDING/FAILURE but an empty
eContent, so OpenSSL can verify the signature (see ``build_pki_message``). Parse leniently
(scep.md 5.3): BER, constructed strings (P6), an empty eContent read as absent (P7), any string
type and any nonce length (P10), and a signature over the received attributes with the tag
changed to SET, falling back to their canonical DER order (P2).

Parse errors map to failInfo as RFC 8894 section 3.2.1.4 words them: bytes that are not a
signed CMS message, or whose signer cannot be found, are badMessageCheck ("Integrity check ...
failed"); an unknown digest, signature or key algorithm is badAlg; missing or invalid SCEP
attributes (an unknown messageType, say) are badRequest ("Transaction not permitted or
supported"). A wrong signature is not an error: ``signature_valid`` is False.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import IntEnum
from typing import TypeVar

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.pki import der_once
from sim.pki.scep import der, template
from sim.pki.scep.algorithms import (
    DIGEST_BY_OID,
    HASH_FUNCTIONS,
    PKCS1V15,
    SIGNATURE_OIDS,
    hash_for,
    verifies,
)
from sim.pki.scep.bodies import (
    LOAD_ERRORS,
    load_certificates,
    optional_sets,
    signed_data_fields,
)
from sim.pki.scep.certs import issuer_and_serial_of, issuer_of, rsa_public_key
from sim.pki.scep.der import CONTEXT, UNIVERSAL, DerError, Tlv
from sim.pki.scep.envelope import build_envelope, draw
from sim.pki.scep.onepass import read_usual
from sim.pki.scep.types import (
    CONTENT_TYPE,  # noqa: F401 - sim/pki/scep_forge.py imports it from here
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
    Profile,
    ScepError,
)

NONCE_SIZE = 16
"""RFC 8894 section 3.2.1.5: "the senderNonce ... is a 16-byte random number"."""


E = TypeVar("E", bound=IntEnum)


# --------------------------------------------------------------------------- build


def _check_reply_fields(
    message_type: MessageType,
    content: bytes | None,
    recipient_nonce: bytes | None,
    pki_status: PkiStatus | None,
    fail_info: FailInfo | None,
    fail_info_text: str | None,
) -> None:
    """Reject attribute combinations RFC 8894 section 3.3.2 rules out (caller bugs)."""
    if message_type is not MessageType.CERT_REP:
        if pki_status is not None or recipient_nonce is not None or fail_info is not None:
            raise ValueError("pkiStatus, recipientNonce and failInfo belong to a CertRep")
        return
    if pki_status is None or recipient_nonce is None:
        raise ValueError("a CertRep needs pkiStatus and recipientNonce")
    if (pki_status is PkiStatus.FAILURE) != (fail_info is not None):
        raise ValueError("failInfo is present exactly when pkiStatus is FAILURE")
    if fail_info_text is not None and pki_status is not PkiStatus.FAILURE:
        raise ValueError("failInfoText only accompanies a FAILURE")
    if content is not None and pki_status is not PkiStatus.SUCCESS:
        # RFC 8894 3.3.2: "If the pkiStatus is set to FAILURE or PENDING ... the
        # pkcsPKIEnvelope is omitted."
        raise ValueError("a PENDING or FAILURE CertRep carries no envelope")


def build_pki_message(
    *,
    message_type: MessageType,
    transaction_id: str,
    signer_cert: x509.Certificate,
    signer_key: rsa.RSAPrivateKey,
    profile: Profile,
    random_bytes: Callable[[int], bytes],
    sender_nonce: bytes | None = None,
    recipients: Sequence[x509.Certificate] = (),
    content: bytes | None = None,
    recipient_nonce: bytes | None = None,
    pki_status: PkiStatus | None = None,
    fail_info: FailInfo | None = None,
    fail_info_text: str | None = None,
    extra_certs: Sequence[x509.Certificate] = (),
    signing_time: datetime | None = None,
) -> bytes:
    """A DER pkiMessage (ContentInfo of SignedData) signed by ``signer_key``.

    ``content`` (a CSR, IssuerAndSubject, IssuerAndSerialNumber or degenerate SignedData) is
    enveloped to every certificate in ``recipients`` with ``profile.cipher`` and becomes the
    eContent (``content`` None: an empty eContent); the signature uses ``profile.digest``.
    ``sender_nonce`` None draws 16 bytes from ``random_bytes`` (before the envelope's key and
    IV). ``signing_time`` None omits the attribute (nothing here reads a clock). ValueError
    for argument combinations SCEP forbids.
    """
    message_type = MessageType(message_type)
    _check_reply_fields(
        message_type, content, recipient_nonce, pki_status, fail_info, fail_info_text
    )
    if sender_nonce is None:
        sender_nonce = draw(random_bytes, NONCE_SIZE)
    econtent = None
    if content is not None:
        econtent = build_envelope(content, recipients, profile.cipher, random_bytes)

    digest = hash_for(profile.digest)
    # An absent eContent is hashed as empty (P7).
    content_digest = HASH_FUNCTIONS[profile.digest](econtent or b"").digest()
    # The bytes are laid out from fixed pieces (sim/pki/scep/template.py says why); the
    # signature stays here, over exactly the attribute bytes that go into the message.
    signed_attrs = template.signed_attributes(
        content_digest=content_digest,
        message_type=message_type,
        transaction_id=transaction_id,
        sender_nonce=sender_nonce,
        signing_time=signing_time,
        pki_status=pki_status,
        recipient_nonce=recipient_nonce,
        fail_info=fail_info,
        fail_info_text=fail_info_text,
    )
    # RFC 5652 5.4: the signature covers "the DER encoding of the SignedAttributes value"
    # with the SET OF tag; the SignerInfo carries the same bytes tagged [0] IMPLICIT.
    signature = signer_key.sign(signed_attrs, PKCS1V15, digest)
    signer_der = der_once.der(signer_cert)
    # Without an envelope (PENDING, FAILURE) the eContent is an empty OCTET STRING rather than
    # absent: OpenSSL-based peers (`openssl cms -verify`, sscep) read a SignedData without
    # eContent as detached and fail with "no content"; micromdm sends the same empty form
    # (scep.md 1.7, P7), and the messageDigest is already the hash of "".
    return template.pki_message(
        signer_der=signer_der,
        digest_name=profile.digest,
        econtent=econtent,
        signed_attrs=signed_attrs,
        signature=signature,
        certificates=template.certificates_field(signer_der, extra_certs),
    )


# --------------------------------------------------------------------------- parse


def _attributes(signed_attrs: Tlv) -> dict[str, Tlv]:
    """OID -> first value of each authenticated attribute (the first occurrence wins)."""
    fast = _attributes_fast(signed_attrs)
    return fast if fast is not None else _attributes_general(signed_attrs)


def _attributes_general(signed_attrs: Tlv) -> dict[str, Tlv]:
    """:func:`_attributes` for any BER the reader takes (and the errors of what it does not)."""
    out: dict[str, Tlv] = {}
    for attribute in signed_attrs.children():
        parts = der.fields(attribute, "Attribute", 2)
        oid = der.read_oid(parts[0])
        values = der.expect(parts[1], UNIVERSAL, der.SET, "attribute values").children()
        if values and oid not in out:
            out[oid] = values[0]
    return out


def _attributes_fast(signed_attrs: Tlv) -> dict[str, Tlv] | None:
    """What :func:`_attributes` reads, for attributes written as signers write them: each
    ``SEQUENCE { OID, SET { values } }`` with low tags and definite lengths. Read in one
    pass over the bytes instead of an element list per attribute and per value set (the
    attributes are a third of reading a message). None for any other form, and for an OID
    that does not read: the general path then reads (or refuses) it as before."""
    if not signed_attrs.constructed or signed_attrs._trailer:
        return None
    data = signed_attrs._data
    pos, stop = signed_attrs._body, signed_attrs._end
    out: dict[str, Tlv] = {}
    try:
        while pos < stop:
            if data[pos] != 0x30:  # SEQUENCE, constructed
                return None
            attribute = der.span(data, pos, stop)
            if attribute is None:
                return None
            body, end = attribute
            if body >= end or data[body] != 0x06:  # OBJECT IDENTIFIER, primitive
                return None
            oid = der.span(data, body, end)
            if oid is None or oid[1] >= end or data[oid[1]] != 0x31:  # SET, constructed
                return None
            values = der.span(data, oid[1], end)
            if values is None or values[1] != end:  # exactly two fields
                return None
            first: Tlv | None = None
            at, values_end = values
            while at < values_end:
                value = der.span(data, at, values_end)
                if value is None:
                    return None
                if first is None:
                    tag = data[at]
                    first = Tlv(tag >> 6, bool(tag & 0x20), tag & 31, data, at, value[0],
                                value[1], 0)
                at = value[1]
            dotted = der.dotted(data[body:oid[1]])
            if first is not None and dotted not in out:
                out[dotted] = first
            pos = end
    except DerError:
        return None
    return out


def _find_signer(sid: Tlv, certs: list[tuple[x509.Certificate, bytes]]) -> x509.Certificate | None:
    """The certificate a SignerIdentifier names: issuerAndSerialNumber, or [0] SKI."""
    if sid.is_(CONTEXT, 0):
        wanted = der.octets(sid)
        for cert, _raw in certs:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            except (x509.ExtensionNotFound, *LOAD_ERRORS):
                continue
            if ski.value.digest == wanted:
                return cert
        return None
    parts = der.fields(sid, "IssuerAndSerialNumber", 2)
    serial = der.read_integer(parts[1])
    issuer_der = parts[0].encoded
    for cert, raw in certs:
        if cert.serial_number != serial:
            continue
        # The common case first: the signer named exactly as it names itself (remembered
        # from when it signed, or from its last message), a byte compare.
        if issuer_and_serial_of(raw) == sid.encoded:
            return cert
        issuer = issuer_of(raw)
        if issuer == issuer_der or (
            asn1_x509.Name.load(issuer) == asn1_x509.Name.load(issuer_der)
        ):
            return cert
    return None


def _signature_ok(
    public_key: rsa.RSAPublicKey, signature: bytes, signed_attrs: Tlv, digest: str
) -> bool:
    """RSA PKCS#1 v1.5 over the attributes: as received with tag SET, else canonical DER (P2)."""
    received = b"\x31" + signed_attrs.encoded[1:]
    if verifies(public_key, signature, received, digest):
        return True
    canonical = der.set_of(child.encoded for child in signed_attrs.children())
    return canonical != received and verifies(public_key, signature, canonical, digest)


def _enum_attribute(values: dict[str, Tlv], oid: str, kind: type[E], name: str) -> E | None:
    """A PrintableString-held decimal attribute mapped to its enum; BAD_REQUEST if unknown."""
    element = values.get(oid)
    if element is None:
        return None
    text = der.read_string(element).strip()
    if not text.isascii() or not text.isdigit():
        raise ScepError(FailInfo.BAD_REQUEST, f"{name} {text!r} is not a number")
    try:
        return kind(int(text))
    except ValueError:
        raise ScepError(FailInfo.BAD_REQUEST, f"unknown {name} {text}") from None


def _transaction_id(element: Tlv) -> str:
    """The transactionID, in any string type (P10) but only with PrintableString characters.

    RFC 8894 section 3.2.1.1: "The transactionID is a PrintableString". The string *type* is
    read leniently, the characters are not: every reply echoes the transactionID as a
    PrintableString, so one that cannot be written back (a DEL byte, a newline, "_") could
    not be answered. BAD_REQUEST ("Transaction not permitted or supported").
    """
    value = der.read_string(element)
    if not der.is_printable(value):
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise ScepError(
            FailInfo.BAD_REQUEST, f"transactionID {shown!r} is not a PrintableString"
        )
    return value


def parse_pki_message(data: bytes) -> PkiMessage:
    """Parse (and check the signature of) a DER/BER pkiMessage; see the module docstring.

    Parsed once: the HTTP server names a received message for its artifact, then the
    service reads it; both get the same (immutable) result. Failures are not remembered.
    """
    if type(data) is bytes:  # noqa: E721 - only immutable bytes can key the memo
        return _parse_once(data)
    return _parse_checked(data)


@functools.lru_cache(maxsize=64)
def _parse_once(data: bytes) -> PkiMessage:
    return _parse_checked(data)


def _parse_checked(data: bytes) -> PkiMessage:
    """The usual shape read in one pass; anything else, and every refusal, by the general
    reader (sim/pki/scep/onepass.py says why and how the two agree)."""
    usual = read_usual(data)
    return usual if usual is not None else _parse_general(data)


def _parse_general(data: bytes) -> PkiMessage:
    try:
        return _parse(data)
    except DerError as exc:
        raise ScepError(FailInfo.BAD_MESSAGE_CHECK, f"malformed pkiMessage: {exc}") from exc
    except LOAD_ERRORS as exc:
        raise ScepError(FailInfo.BAD_MESSAGE_CHECK, f"unreadable pkiMessage: {exc}") from exc


def _parse(data: bytes) -> PkiMessage:
    signed = signed_data_fields(data, FailInfo.BAD_MESSAGE_CHECK)
    encap = der.fields(signed[2], "encapContentInfo", 1)
    econtent = b""
    for element in encap[1:]:
        if element.is_(CONTEXT, 0):
            econtent = der.octets(der.read_inside(element))
    certificates, _crls, signer_infos = optional_sets(signed)
    certs = load_certificates(certificates)
    infos = signer_infos.children()
    if not infos:
        raise ScepError(FailInfo.BAD_MESSAGE_CHECK, "the pkiMessage has no signer")
    info = der.fields(infos[0], "SignerInfo", 5)
    digest = DIGEST_BY_OID.get(der.read_oid(der.fields(info[2], "digestAlgorithm", 1)[0]))
    if digest is None:
        raise ScepError(FailInfo.BAD_ALG, "unsupported digest algorithm")
    if not info[3].is_(CONTEXT, 0):
        raise ScepError(FailInfo.BAD_REQUEST, "the signer has no authenticated attributes")
    signed_attrs = info[3]
    signature_oid = der.read_oid(der.fields(info[4], "signatureAlgorithm", 1)[0])
    if signature_oid not in SIGNATURE_OIDS:
        raise ScepError(FailInfo.BAD_ALG, f"unsupported signature algorithm {signature_oid}")
    if len(info) < 6:
        raise DerError("SignerInfo has no signature")
    signature = der.octets(der.expect(info[5], UNIVERSAL, der.OCTET_STRING, "signature"))

    signer = _find_signer(info[1], certs)
    if signer is None:
        raise ScepError(FailInfo.BAD_MESSAGE_CHECK, "no certificate matches the signer")
    public_key = rsa_public_key(signer)
    if public_key is None:
        raise ScepError(FailInfo.BAD_ALG, "the signer key is not RSA")

    try:
        values = _attributes(signed_attrs)
    except DerError as exc:
        raise ScepError(FailInfo.BAD_REQUEST, f"malformed attributes: {exc}") from exc
    digest_attr = values.get(MESSAGE_DIGEST)
    if digest_attr is None:
        raise ScepError(FailInfo.BAD_MESSAGE_CHECK, "no messageDigest attribute")
    content_ok = hmac.compare_digest(
        der.octets(digest_attr), HASH_FUNCTIONS[digest](econtent).digest()
    )
    valid = content_ok and _signature_ok(public_key, signature, signed_attrs, digest)
    try:
        return _message(values, data, signer, certs, digest, econtent, valid)
    except DerError as exc:
        raise ScepError(FailInfo.BAD_REQUEST, f"malformed SCEP attribute: {exc}") from exc


def _message(
    values: dict[str, Tlv],
    data: bytes,
    signer: x509.Certificate,
    certs: list[tuple[x509.Certificate, bytes]],
    digest: str,
    econtent: bytes,
    valid: bool,
) -> PkiMessage:
    """The SCEP attributes checked for presence (RFC 8894 3.2.1) and converted."""
    for oid, name in (
        (MESSAGE_TYPE, "messageType"),
        (TRANSACTION_ID, "transactionID"),
        (SENDER_NONCE, "senderNonce"),
    ):
        if oid not in values:
            raise ScepError(FailInfo.BAD_REQUEST, f"no {name} attribute")
    message_type = _enum_attribute(values, MESSAGE_TYPE, MessageType, "messageType")
    status = _enum_attribute(values, PKI_STATUS, PkiStatus, "pkiStatus")
    fail_info = _enum_attribute(values, FAIL_INFO, FailInfo, "failInfo")
    recipient_nonce = values.get(RECIPIENT_NONCE)
    if message_type is MessageType.CERT_REP:
        if status is None or recipient_nonce is None:
            raise ScepError(FailInfo.BAD_REQUEST, "CertRep without pkiStatus or recipientNonce")
        if status is PkiStatus.FAILURE and fail_info is None:
            raise ScepError(FailInfo.BAD_REQUEST, "FAILURE without failInfo")
    text = values.get(FAIL_INFO_TEXT)
    when = values.get(SIGNING_TIME)
    if message_type is None:  # unreachable: presence checked above; keeps the type narrow
        raise ScepError(FailInfo.BAD_REQUEST, "no messageType attribute")
    return PkiMessage(
        message_type=message_type,
        transaction_id=_transaction_id(values[TRANSACTION_ID]),
        sender_nonce=der.octets(values[SENDER_NONCE]),
        recipient_nonce=None if recipient_nonce is None else der.octets(recipient_nonce),
        pki_status=status,
        fail_info=fail_info,
        fail_info_text=None if text is None else der.read_string(text),
        signer_cert=signer,
        certificates=tuple(cert for cert, _raw in certs),
        digest=digest,
        enveloped=econtent or None,
        signature_valid=valid,
        raw=data,
        signing_time=None if when is None else der.read_time(when),
    )
