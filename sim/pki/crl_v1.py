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

import functools
from collections.abc import Iterable
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sim.pki.deferred import Deferred

_SEQUENCE, _INTEGER, _BIT_STRING, _NULL, _OID = 0x30, 0x02, 0x03, 0x05, 0x06

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
    """RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds.
    (Formatted by hand: `strftime` was a tenth of a CA's idle year. The TLV headers are
    constants, as both forms have a fixed length: tag 0x17 and 13 bytes for UTCTime, tag
    0x18 and 15 bytes for GeneralizedTime.)"""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    year = moment.year
    if 1950 <= year < 2050:
        return b"\x17\x0d%02d%02d%02d%02d%02d%02dZ" % (
            year % 100, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    return b"\x18\x0f%04d%02d%02d%02d%02d%02dZ" % (
        year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def _time_size(moment: datetime) -> int:
    """`len(_time(moment))`: a UTCTime is 15 bytes, a GeneralizedTime 17."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return 15 if 1950 <= moment.year < 2050 else 17


@functools.cache
def signature_algorithm(hash_name: str) -> bytes:
    """`AlgorithmIdentifier` of RSA PKCS#1 v1.5 with `hash_name`, NULL parameters."""
    oid = _SIGNATURE_OIDS.get(hash_name)
    if oid is None:
        raise ValueError(f"unknown hash {hash_name!r}")
    return _tlv(_SEQUENCE, _oid(oid) + _tlv(_NULL, b""))


def tbs_cert_list(
    issuer_der: bytes,
    this_update: datetime,
    next_update: datetime,
    revoked: Iterable[tuple[int, datetime]] = (),
    hash_name: str = "sha256",
) -> bytes:
    """The DER of the TBSCertList: everything the signature covers. `issuer_der` is the
    issuer Name's DER (`x509.Name.public_bytes()`)."""
    entries = b"".join(_tlv(_SEQUENCE, _integer(serial) + _time(when))
                       for serial, when in revoked)
    return _tlv(_SEQUENCE, b"".join([
        _tbs_prefix(issuer_der, hash_name),
        _time(this_update),
        _time(next_update),
        _tlv(_SEQUENCE, entries) if entries else b"",
    ]))


@functools.lru_cache(maxsize=1024)
def _tbs_prefix(issuer_der: bytes, hash_name: str) -> bytes:
    """The TBS's signature algorithm and issuer, the same in every CRL of a CA."""
    return signature_algorithm(hash_name) + issuer_der


def signed_crl(tbs: bytes, ca_key: rsa.RSAPrivateKey, hash_name: str = "sha256") -> bytes:
    """The CertificateList: `tbs` signed once with `ca_key`."""
    signature = ca_key.sign(tbs, padding.PKCS1v15(), _HASHES[hash_name]())
    return _tlv(_SEQUENCE, tbs + signature_algorithm(hash_name)
                + _tlv(_BIT_STRING, b"\x00" + signature))


def signed_crl_size(tbs: bytes, key_bits: int, hash_name: str = "sha256") -> int:
    """`len(signed_crl(tbs, key, hash_name))` for a key of `key_bits`, without signing: a
    PKCS#1 v1.5 signature is always as long as the modulus (RFC 8017 8.2.1)."""
    return _signed_size(len(tbs), key_bits, hash_name)


@functools.lru_cache(maxsize=256)
def _signed_size(tbs_size: int, key_bits: int, hash_name: str) -> int:
    """`signed_crl_size` from the TBS's length, which is all it depends on (kept: a CA's
    CRLs are all the same length until a certificate is revoked)."""
    signature = 1 + (key_bits + 7) // 8
    return _tlv_size(tbs_size + len(signature_algorithm(hash_name)) + _tlv_size(signature))


def _tlv_size(body: int) -> int:
    """The length of a TLV whose contents are `body` bytes long (as `_tlv` writes it)."""
    if body < 0x80:
        return 2 + body
    return 2 + (body.bit_length() + 7) // 8 + body


def v1_crl_der(
    ca_key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    this_update: datetime,
    next_update: datetime,
    revoked: Iterable[tuple[int, datetime]] = (),
    hash_name: str = "sha256",
) -> bytes:
    """The DER of a v1 CRL by `issuer`, signed once with `ca_key` and `hash_name`."""
    return signed_crl(tbs_cert_list(issuer.public_bytes(), this_update, next_update, revoked,
                                     hash_name), ca_key, hash_name)


def deferred_crl(
    ca_key: rsa.RSAPrivateKey,
    issuer_der: bytes,
    this_update: datetime,
    next_update: datetime,
    revoked: Iterable[tuple[int, datetime]] = (),
    hash_name: str = "sha256",
) -> Deferred:
    """The CRL `v1_crl_der` would write, signed only when its bytes are first read
    (`sim.pki.deferred`): its contents are fixed now, from the publication's times."""
    entries = tuple(revoked)
    # A partial, not a lambda: a CA keeps every CRL it published among its artifacts
    # (146,000 in an idle year of 100 CAs), and a closure costs twice the memory.
    if entries:
        tbs = tbs_cert_list(issuer_der, this_update, next_update, entries, hash_name)
        return Deferred(_signed_size(len(tbs), ca_key.key_size, hash_name),
                        functools.partial(signed_crl, tbs, ca_key, hash_name))
    # Nothing revoked (an idle CA's every CRL): the TBS's length follows from its parts'
    # (the prefix, two times of fixed length), so it is written only when signed too.
    tbs_size = _tlv_size(len(_tbs_prefix(issuer_der, hash_name)) + _time_size(this_update)
                         + _time_size(next_update))
    return Deferred(_signed_size(tbs_size, ca_key.key_size, hash_name),
                    functools.partial(_signed_unrevoked, ca_key, issuer_der, this_update,
                                      next_update, hash_name))


def _signed_unrevoked(ca_key: rsa.RSAPrivateKey, issuer_der: bytes, this_update: datetime,
                      next_update: datetime, hash_name: str) -> bytes:
    """A CRL without revoked certificates, written and signed (`deferred_crl`)."""
    return signed_crl(tbs_cert_list(issuer_der, this_update, next_update, (), hash_name),
                      ca_key, hash_name)
