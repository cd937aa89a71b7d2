"""The certificate server's CRL, encoded straight to DER and signed once.

IOS publishes a version-1 CRL (no version field, no extensions; cisco-cs.md 9). No library
writes that form: cryptography always writes v2, so the CRL used to be built and signed by
cryptography, taken apart with asn1crypto, and signed again, which was most of the cost of
a CA's idle year (a CRL every 6 hours). The structure is small and fixed (RFC 5280 5.1):

    CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }
    TBSCertList ::= SEQUENCE {
        signature            AlgorithmIdentifier,
        issuer               Name,
        thisUpdate           Time,
        nextUpdate           Time,
        revokedCertificates  SEQUENCE OF SEQUENCE { userCertificate  CertificateSerialNumber,
                                                    revocationDate   Time } OPTIONAL }

so it is written here directly: the same bytes as the old two-step path (a test compares
them), with one signature.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_SEQUENCE, _INTEGER, _BIT_STRING, _NULL, _OID = 0x30, 0x02, 0x03, 0x05, 0x06
_UTC_TIME, _GENERALIZED_TIME = 0x17, 0x18

_SIGNATURE_OIDS: dict[str, str] = {
    "md5": "1.2.840.113549.1.1.4",
    "sha1": "1.2.840.113549.1.1.5",
    "sha256": "1.2.840.113549.1.1.11",
    "sha384": "1.2.840.113549.1.1.12",
    "sha512": "1.2.840.113549.1.1.13",
}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "md5": hashes.MD5, "sha1": hashes.SHA1, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}


def _tlv(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes((tag, size)) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + body


def _integer(value: int) -> bytes:
    if value <= 0:  # as cryptography's builders refuse it
        raise ValueError("The serial number should be positive")
    # Minimal two's complement: one leading zero byte when the top bit would be set.
    return _tlv(_INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _oid(dotted: str) -> bytes:
    arcs = [int(arc) for arc in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return _tlv(_OID, bytes(body))


def _time(moment: datetime) -> bytes:
    """RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    if 1950 <= utc.year < 2050:
        return _tlv(_UTC_TIME, utc.strftime("%y%m%d%H%M%SZ").encode())
    return _tlv(_GENERALIZED_TIME, utc.strftime("%Y%m%d%H%M%SZ").encode())


def signature_algorithm(hash_name: str) -> bytes:
    """`AlgorithmIdentifier` of RSA PKCS#1 v1.5 with `hash_name`, NULL parameters."""
    oid = _SIGNATURE_OIDS.get(hash_name)
    if oid is None:
        raise ValueError(f"unknown hash {hash_name!r}")
    return _tlv(_SEQUENCE, _oid(oid) + _tlv(_NULL, b""))


def v1_crl_der(
    ca_key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    this_update: datetime,
    next_update: datetime,
    revoked: Iterable[tuple[int, datetime]] = (),
    hash_name: str = "sha256",
) -> bytes:
    """The DER of a v1 CRL by `issuer`, signed once with `ca_key` and `hash_name`."""
    algorithm = signature_algorithm(hash_name)
    entries = b"".join(_tlv(_SEQUENCE, _integer(serial) + _time(when))
                       for serial, when in revoked)
    tbs = _tlv(_SEQUENCE, b"".join([
        algorithm,
        issuer.public_bytes(),
        _time(this_update),
        _time(next_update),
        _tlv(_SEQUENCE, entries) if entries else b"",
    ]))
    signature = ca_key.sign(tbs, padding.PKCS1v15(), _HASHES[hash_name]())
    return _tlv(_SEQUENCE, tbs + algorithm + _tlv(_BIT_STRING, b"\x00" + signature))
