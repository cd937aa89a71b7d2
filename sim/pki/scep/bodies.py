"""messageData bodies: degenerate certs-only SignedData, IssuerAndSubject, IssuerAndSerialNumber.

RFC 8894 section 3.3.2: a CertRep's messageData is "a degenerate certificates-only CMS
SignedData message" and "the first certificate MUST be the issued certificate" is how clients
read it (micromdm's scepclient takes ``certs[0]``, scep.md P3). Neither asn1crypto nor
``cryptography`` keeps certificate order on output (both DER-sort the SET), so the SET is
written here in the caller's order. Parsing keeps the received order too.

Malformed bodies raise ScepError(BAD_REQUEST): the envelope decrypted, so the message checked
out, but its content is not what its messageType says ("Transaction not permitted or
supported").
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.x509.name import _ASN1Type  # private, but the only way to keep string types

from sim.pki import der_once
from sim.pki.memo import per_value
from sim.pki.scep import der
from sim.pki.scep.der import CONTEXT, SEQUENCE, SET, UNIVERSAL, DerError, Tlv
from sim.pki.scep.types import FailInfo, ScepError

SIGNED_DATA_OID = "1.2.840.113549.1.7.2"
DATA_OID = "1.2.840.113549.1.7.1"
ENVELOPED_DATA_OID = "1.2.840.113549.1.7.3"

LOAD_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    UnsupportedAlgorithm,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)
"""What cryptography and asn1crypto raise for bytes that are not what they should be
(DerError is a ValueError). Found by fuzzing: x509.InvalidVersion is not a ValueError, and
reading a Name whose value has an unknown string tag (a subject attribute tagged 0x82, say)
raises KeyError from cryptography's tag table."""


def _bad(message: str) -> ScepError:
    return ScepError(FailInfo.BAD_REQUEST, message)


# --------------------------------------------------------------------------- degenerate


_DEGENERATE_START = der.integer(1) + der.set_of([]) + der.seq(der.oid(DATA_OID))
"""version 1, no digestAlgorithms, encapContentInfo of id-data without eContent: the same
in every certs-only message (written once)."""
_NO_SIGNERS = der.set_of([])
_SIGNED_DATA_OID = der.oid(SIGNED_DATA_OID)


def degenerate_certs(
    certs: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList] = (),
) -> bytes:
    """A certs-only SignedData ContentInfo, certificates and CRLs in the given order.

    RFC 8894 section 3.4: "SignedData ... with an empty SignerInfos; encapContentInfo
    eContent absent"; version 1, no digestAlgorithms (RFC 5652 section 5.1).
    """
    parts = [_DEGENERATE_START]
    if certs:
        parts.append(der.context(0, b"".join([der_once.der(c) for c in certs])))
    if crls:
        parts.append(der.context(1, b"".join([der_once.der(c) for c in crls])))
    parts.append(_NO_SIGNERS)
    return der.seq(_SIGNED_DATA_OID, der.context(0, der.seq(*parts)))


def signed_data_fields(data: bytes, fail_info: FailInfo) -> list[Tlv]:
    """The SignedData fields inside a ContentInfo (shared with the pkiMessage parser)."""
    try:
        top = der.fields(der.read(data), "ContentInfo", 2)
        if der.read_oid(top[0]) != SIGNED_DATA_OID:
            raise ScepError(fail_info, "not a CMS SignedData")
        wrapper = der.expect(top[1], CONTEXT, 0, "ContentInfo content")
        return der.fields(der.read_inside(wrapper), "SignedData", 4)
    except DerError as exc:
        raise ScepError(fail_info, f"malformed SignedData: {exc}") from exc


def optional_sets(signed: list[Tlv]) -> tuple[Tlv | None, Tlv | None, Tlv]:
    """(certificates [0], crls [1], signerInfos) from SignedData fields after encapContentInfo."""
    certificates = crls = None
    rest = signed[3:]
    for element in rest[:-1]:
        if element.is_(CONTEXT, 0):
            certificates = element
        elif element.is_(CONTEXT, 1):
            crls = element
        else:
            raise DerError(f"unexpected SignedData field tag {element.tag}")
    if not rest:
        raise DerError("SignedData has no signerInfos")
    return certificates, crls, der.expect(rest[-1], UNIVERSAL, SET, "signerInfos")


def load_certificates(element: Tlv | None) -> list[tuple[x509.Certificate, bytes]]:
    """Certificates of a CertificateSet in received order, with the DER each was read from.

    Other CertificateChoices (attribute certificates, [0]-[3]) are skipped: SCEP uses none.
    """
    if element is None:
        return []
    out = []
    for child in element.children():
        if child.is_(UNIVERSAL, SEQUENCE):
            raw = child.encoded
            out.append((der_once.load_certificate(raw), raw))
    return out


def parse_degenerate(
    data: bytes,
) -> tuple[list[x509.Certificate], list[x509.CertificateRevocationList]]:
    """Certificates and CRLs of a degenerate SignedData, in the order received (P3)."""
    signed = signed_data_fields(data, FailInfo.BAD_REQUEST)
    try:
        certificates, crls, _signers = optional_sets(signed)
        certs = [cert for cert, _raw in load_certificates(certificates)]
        revocations = []
        if crls is not None:
            for child in crls.children():
                if child.is_(UNIVERSAL, SEQUENCE):
                    revocations.append(x509.load_der_x509_crl(child.encoded))
    except LOAD_ERRORS as exc:  # DerError is a ValueError
        raise _bad(f"malformed certificates-only message: {exc}") from exc
    return certs, revocations


# --------------------------------------------------------------------------- names


def name_from_der(data: bytes) -> x509.Name:
    """An x509.Name from its DER, keeping each attribute's string type.

    ``cryptography`` has no public loader for a bare Name, so the RDNs are rebuilt from the
    TLVs; PrintableString/UTF8String/IA5String etc. are preserved so the Name re-encodes to the
    same bytes (the CA compares names it received with names it issued).

    Built once per distinct bytes (Names are immutable): every poll and GetCert names the
    same CA as issuer. A failure is not remembered: the same bytes raise the same error.
    """
    return _name_from_der(data)


@per_value(bytes, 256)
def _name_from_der(data: bytes) -> x509.Name:
    rdns = []
    for rdn in der.expect(der.read(data), UNIVERSAL, SEQUENCE, "Name").children():
        attributes = []
        for ava in der.expect(rdn, UNIVERSAL, SET, "RelativeDistinguishedName").children():
            parts = der.fields(ava, "AttributeTypeAndValue", 2)
            oid = x509.ObjectIdentifier(der.read_oid(parts[0]))
            value = parts[1]
            try:
                string_type = _ASN1Type(value.tag)
            except ValueError:
                raise DerError(f"unsupported name attribute value tag {value.tag}") from None
            attributes.append(x509.NameAttribute(oid, der.read_string(value), string_type))
        rdns.append(x509.RelativeDistinguishedName(attributes))
    return x509.Name(rdns)


# --------------------------------------------------------------------------- IssuerAndSubject


def issuer_and_subject(issuer: x509.Name, subject: x509.Name) -> bytes:
    """GetCertInitial / CertPoll body.

    draft-nourse-11 section 5.2.1: ``IssuerAndSubject ::= SEQUENCE { issuer Name, subject
    Name }`` (RFC 8894 section 3.3.3 keeps it).
    """
    return der.seq(issuer.public_bytes(), subject.public_bytes())


def parse_issuer_and_subject(data: bytes) -> tuple[x509.Name, x509.Name]:
    try:
        parts = der.fields(der.read(data), "IssuerAndSubject", 2)
        return name_from_der(parts[0].encoded), name_from_der(parts[1].encoded)
    except LOAD_ERRORS as exc:
        raise _bad(f"malformed IssuerAndSubject: {exc}") from exc


# --------------------------------------------------------------------------- IssuerAndSerial


def issuer_and_serial(issuer: x509.Name, serial: int) -> bytes:
    """GetCert / GetCRL body: ``IssuerAndSerialNumber`` (RFC 5652 section 10.2.4)."""
    return der.seq(issuer.public_bytes(), der.integer(serial))


def parse_issuer_and_serial(data: bytes) -> tuple[x509.Name, int]:
    try:
        parts = der.fields(der.read(data), "IssuerAndSerialNumber", 2)
        return name_from_der(parts[0].encoded), der.read_integer(parts[1])
    except LOAD_ERRORS as exc:
        raise _bad(f"malformed IssuerAndSerialNumber: {exc}") from exc
