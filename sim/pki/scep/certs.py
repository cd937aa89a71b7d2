"""What the codec copies out of certificates: the issuer Name, byte for byte.

RFC 5652 section 10.2.4: an IssuerAndSerialNumber names a certificate by "the certificate
issuer's distinguished name" and serial number. Peers compare it with the certificate's
issuer field, often byte for byte, so it is copied exactly as the certificate carries it
rather than re-encoded. It used to be read by loading the whole certificate into asn1crypto
(about 50 microseconds each time); now it is sliced out of the certificate's DER (written
once, :mod:`sim.pki.der_once`) with the codec's own reader, once per certificate.
"""

from __future__ import annotations

import functools
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.pki import der_once
from sim.pki.scep import der
from sim.pki.scep.der import CONTEXT


def issuer_der(cert: x509.Certificate) -> bytes:
    """The DER of ``cert``'s issuer Name exactly as it appears in the certificate."""
    return issuer_of(der_once.der(cert))


@functools.lru_cache(maxsize=1024)
def issuer_of(certificate_der: bytes) -> bytes:
    """The issuer field of a DER certificate (RFC 5280 section 4.1: TBSCertificate is
    ``version [0] EXPLICIT DEFAULT v1, serialNumber, signature, issuer, ...``).

    Only for bytes ``cryptography`` has already loaded as a certificate, so the structure is
    known to be sound. Cached by the bytes: the same CA certificate names every reply.
    """
    parts, first = _tbs_fields(certificate_der)
    return parts[first + 2].encoded


@functools.lru_cache(maxsize=1024)
def issuer_and_serial_of(certificate_der: bytes) -> bytes:
    """The IssuerAndSerialNumber naming a DER certificate (RFC 5652 section 10.2.4:
    ``SEQUENCE { issuer Name, serialNumber CertificateSerialNumber }``): the issuer copied
    byte for byte (see :func:`issuer_of`), the serial written as DER.

    Same conditions as :func:`issuer_of`. Cached by the bytes: a CA names itself in every
    reply it signs, a client names the CA in every envelope it seals.
    """
    parts, first = _tbs_fields(certificate_der)
    return der.seq(parts[first + 2].encoded, der.integer(der.read_integer(parts[first])))


def _tbs_fields(certificate_der: bytes) -> tuple[list[der.Tlv], int]:
    """The TBSCertificate's fields and the index of serialNumber (1 after a version)."""
    tbs = der.fields(der.read(certificate_der), "Certificate", 1)[0]
    parts = der.fields(tbs, "TBSCertificate", 4)
    return parts, 1 if parts[0].is_(CONTEXT, 0) else 0


_RSA_KEY_TYPES: set[type] = set()
"""Concrete classes found to be RSA public keys (``cryptography``'s one Rust class)."""


def rsa_public_key(cert: x509.Certificate) -> rsa.RSAPublicKey | None:
    """The certificate's key if it is RSA: the class is looked up in a set, since an
    isinstance check against the abstract class costs more than the lookup."""
    key = cert.public_key()
    if type(key) in _RSA_KEY_TYPES:
        return cast(rsa.RSAPublicKey, key)
    if isinstance(key, rsa.RSAPublicKey):
        _RSA_KEY_TYPES.add(type(key))
        return key
    return None
