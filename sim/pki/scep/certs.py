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
    quick = _issuer_and_serial_spans(certificate_der)
    if quick is not None:
        return certificate_der[quick[0]:quick[1]]
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
    quick = _issuer_and_serial_spans(certificate_der)
    if quick is not None:
        issuer_start, issuer_end, serial = quick
        return der.seq(certificate_der[issuer_start:issuer_end], der.integer(serial))
    parts, first = _tbs_fields(certificate_der)
    return der.seq(parts[first + 2].encoded, der.integer(der.read_integer(parts[first])))


def _issuer_and_serial_spans(data: bytes) -> tuple[int, int, int] | None:
    """(issuer start, issuer end, serial number) of a DER certificate, read with
    :func:`der.span` down to the issuer without an element object or list; None for any
    form ``span`` does not read (the general reader in :func:`_tbs_fields` then reads it).
    tests/test_template.py compares both."""
    try:
        return _spans(data)
    except IndexError:  # cut short: the general reader says how
        return None


def _spans(data: bytes) -> tuple[int, int, int] | None:
    certificate = der.span(data, 0, len(data))
    if certificate is None or data[0] != 0x30 or certificate[1] != len(data):
        return None
    pos, stop = certificate
    tbs = der.span(data, pos, stop)
    if tbs is None or data[pos] != 0x30:
        return None
    pos, stop = tbs
    if data[pos] == 0xA0:  # version [0] EXPLICIT: skipped
        version = der.span(data, pos, stop)
        if version is None:
            return None
        pos = version[1]
    serial = der.span(data, pos, stop)
    if serial is None or data[pos] != 0x02 or serial[0] == serial[1]:
        return None
    number = int.from_bytes(data[serial[0]:serial[1]], "big", signed=True)
    signature = der.span(data, serial[1], stop)
    if signature is None:
        return None
    issuer = der.span(data, signature[1], stop)
    if issuer is None or issuer[1] >= stop:  # a TBSCertificate goes on after its issuer
        return None
    return signature[1], issuer[1], number


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
