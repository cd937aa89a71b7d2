"""Each certificate, CSR and CRL object serialized once: its DER and PEM bytes, remembered;
and each certificate's DER loaded once.

Why: ``cryptography`` keeps a parsed certificate and writes it out again on every
``public_bytes`` call (about 25 microseconds for a 1024-bit certificate, seven times what
loading it costs). One SCEP enrollment asked for the same few certificates' bytes some 27
times: the envelope's recipient, the signer in the pkiMessage, the degenerate reply, the
artifacts, the fingerprints. The bytes an object writes never change (the objects are
immutable), so they are computed on first use and reused.

The Rust objects take neither attributes nor weak references, so the bytes are kept here,
keyed by the object's identity, together with the object itself: an object in the table
stays alive, so its identity cannot be reused by another object while the entry exists.
The table keeps the ``LIMIT`` most recently used entries: what an exchange needs again
comes back within a few messages, and memory stays bounded however many routers a run has.
(It used to keep the most recently *added* ones: a CA's certificate, used by every router
enrolling with it, was then dropped and written again every few hundred enrollments.) A
run is single-threaded (the live bridge runs the simulation under one lock), so the table
needs no lock of its own.

The same certificate also arrives as new objects: the CA loads the certificate it issued
from its request database to send it, the client loads it from the reply. Two things keep
those from being written again:

- a certificate loaded (:func:`load_certificate`) from DER that :func:`der` wrote for
  another object is entered with those bytes: they are what writing it gives, since
  ``cryptography`` writes out what it read and what it wrote reads back the same;
- PEM is looked up by the object's DER (same type, same DER: same PEM), so the client's
  copy of its certificate gets the PEM the CA already wrote for the artifact.
"""

from __future__ import annotations

import binascii
import functools
from typing import Protocol, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

LIMIT = 1024
"""Entries kept per encoding; a CA's own certificate, used in every reply, is found again
long before it would be dropped, and a dropped entry only costs one more serialization."""


class Serializable(Protocol):
    """What certificates, CSRs and CRLs have in common here."""

    def public_bytes(self, encoding: Encoding) -> bytes: ...


_DER_TABLE: dict[int, tuple[Serializable, bytes]] = {}
_PEM_TABLE: dict[int, tuple[Serializable, bytes]] = {}
_TABLES: dict[Encoding, dict[int, tuple[Serializable, bytes]]] = {
    Encoding.DER: _DER_TABLE,
    Encoding.PEM: _PEM_TABLE,
}
"""id(object) -> (object, its bytes), in order of last use: a hit is popped and put back at
the end (cheaper on a plain dict than an OrderedDict's ``move_to_end``)."""
_WRITTEN: dict[bytes, bytes] = {}
"""DER bytes :func:`encoded` wrote for a certificate (the ``LIMIT`` latest), the same bytes
objects the DER table holds: the certificates a load may enter with their bytes. Each maps
to itself, so that a load enters the very object written: the router holding an issued
certificate then shares its bytes with the CA's request database instead of keeping an
equal copy (some 800 bytes per router at RSA-2048)."""
_PEM_BY_DER: dict[tuple[type, bytes], bytes] = {}
"""(type, DER) -> PEM of objects already written as PEM (the ``LIMIT`` latest)."""

_PEM_LABELS: dict[type, bytes] = {
    x509.Certificate: b"CERTIFICATE",
    x509.CertificateSigningRequest: b"CERTIFICATE REQUEST",
    x509.CertificateRevocationList: b"X509 CRL",
}
"""RFC 7468 labels of the types whose PEM is written here from their DER (sections 5, 7
and 5.1: "CERTIFICATE", "CERTIFICATE REQUEST", "X509 CRL"), as ``cryptography`` writes
them; tests/test_codec_shortcuts.py compares the two."""


_K = TypeVar("_K")
_V = TypeVar("_V")


def _remember(table: dict[_K, _V], key: _K, value: _V) -> None:
    """Add an entry, dropping the least recently used one past ``LIMIT``."""
    if len(table) >= LIMIT:
        table.pop(next(iter(table)), None)
    table[key] = value


def encoded(obj: Serializable, encoding: Encoding = Encoding.DER) -> bytes:
    """``obj.public_bytes(encoding)``, computed once per object."""
    if encoding is Encoding.DER:
        return der(obj)
    if encoding is Encoding.PEM:
        return pem(obj)
    raise KeyError(encoding)


def der(obj: Serializable) -> bytes:
    """The DER bytes of a certificate, CSR or CRL, written once per object.

    One function per encoding, not a table looked up by the Encoding member: hashing an
    enum member runs Python code, and this is called some 27 times per enrollment."""
    key = id(obj)
    entry = _DER_TABLE.pop(key, None)
    if entry is not None and entry[0] is obj:
        _DER_TABLE[key] = entry  # most recently used: to the end, dropped last
        return entry[1]
    data = obj.public_bytes(Encoding.DER)
    if type(obj) is x509.Certificate:
        _remember(_WRITTEN, data, data)
    _remember(_DER_TABLE, key, (obj, data))
    return data


def pem(obj: Serializable) -> bytes:
    """The PEM bytes of a certificate, CSR or CRL, written once per object (see :func:`der`)."""
    key = id(obj)
    entry = _PEM_TABLE.pop(key, None)
    if entry is not None and entry[0] is obj:
        _PEM_TABLE[key] = entry
        return entry[1]
    data = _pem(obj)
    _remember(_PEM_TABLE, key, (obj, data))
    return data


def _pem(obj: Serializable) -> bytes:
    """The PEM of ``obj``, written once per distinct (type, DER) when its DER is known (an
    object only ever written as PEM is not written as DER just to look it up)."""
    entry = _DER_TABLE.get(id(obj))
    if entry is None or entry[0] is not obj:
        return obj.public_bytes(Encoding.PEM)
    key = (type(obj), entry[1])
    data = _PEM_BY_DER.pop(key, None)
    if data is None:
        label = _PEM_LABELS.get(key[0])
        data = obj.public_bytes(Encoding.PEM) if label is None else pem_of(label, entry[1])
    _remember(_PEM_BY_DER, key, data)
    return data


def pem_of(label: bytes, der_bytes: bytes) -> bytes:
    """RFC 7468 section 2 text encoding of ``der_bytes``: base64 in lines of 64 characters
    between "-----BEGIN label-----" and "-----END label-----", each line ending in LF, as
    ``cryptography``'s ``public_bytes(Encoding.PEM)`` writes it (without writing the object
    out again, which costs about twice as much)."""
    text = binascii.b2a_base64(der_bytes, newline=False)
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return b"".join((b"-----BEGIN ", label, b"-----\n", b"\n".join(lines),
                     b"\n-----END ", label, b"-----\n"))


def load_certificate(data: bytes) -> x509.Certificate:
    """``x509.load_der_x509_certificate(data)``, one object per distinct bytes.

    The same CA certificate arrives in every GetCACert reply and every CertRep; loading it
    once gives one object, whose bytes :func:`der` then writes once. Certificates are
    immutable, so callers cannot tell a shared object from a fresh one. A failure is not
    remembered: the same bytes raise the same error again.
    """
    if type(data) is not bytes:  # noqa: E721 - only immutable bytes can key the table
        return x509.load_der_x509_certificate(data)
    cert = _load_certificate(data)
    if id(cert) not in _DER_TABLE:
        written = _WRITTEN.get(data)
        if written is not None:
            _remember(_DER_TABLE, id(cert), (cert, written))
    return cert


@functools.lru_cache(maxsize=LIMIT)
def _load_certificate(data: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(data)


def clear() -> None:
    """Forget every entry (tests that count serializations start from an empty table)."""
    for table in _TABLES.values():
        table.clear()
    _WRITTEN.clear()
    _PEM_BY_DER.clear()
    _load_certificate.cache_clear()
