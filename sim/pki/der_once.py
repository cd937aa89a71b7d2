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


_TABLES: dict[Encoding, dict[int, tuple[Serializable, bytes]]] = {
    Encoding.DER: {},
    Encoding.PEM: {},
}
_WRITTEN: dict[bytes, bytes] = {}
"""DER bytes :func:`encoded` wrote for a certificate (the ``LIMIT`` latest), the same bytes
objects the DER table holds: the certificates a load may enter with their bytes. Each maps
to itself, so that a load enters the very object written: the router holding an issued
certificate then shares its bytes with the CA's request database instead of keeping an
equal copy (some 800 bytes per router at RSA-2048)."""
_PEM_BY_DER: dict[tuple[type, bytes], bytes] = {}
"""(type, DER) -> PEM of objects already written as PEM (the ``LIMIT`` latest)."""


_K = TypeVar("_K")
_V = TypeVar("_V")


def _remember(table: dict[_K, _V], key: _K, value: _V) -> None:
    """Add an entry, dropping the least recently used one past ``LIMIT``."""
    if len(table) >= LIMIT:
        table.pop(next(iter(table)), None)
    table[key] = value


def encoded(obj: Serializable, encoding: Encoding = Encoding.DER) -> bytes:
    """``obj.public_bytes(encoding)``, computed once per object."""
    table = _TABLES[encoding]
    key = id(obj)
    entry = table.pop(key, None)
    if entry is not None and entry[0] is obj:
        table[key] = entry  # most recently used: to the end, dropped last
        return entry[1]
    if encoding is Encoding.PEM:
        data = _pem(obj)
    else:
        data = obj.public_bytes(encoding)
        if isinstance(obj, x509.Certificate):
            _remember(_WRITTEN, data, data)
    _remember(table, key, (obj, data))
    return data


def _pem(obj: Serializable) -> bytes:
    """The PEM of ``obj``, written once per distinct (type, DER) when its DER is known (an
    object only ever written as PEM is not written as DER just to look it up)."""
    entry = _TABLES[Encoding.DER].get(id(obj))
    if entry is None or entry[0] is not obj:
        return obj.public_bytes(Encoding.PEM)
    key = (type(obj), entry[1])
    data = _PEM_BY_DER.pop(key, None)
    if data is None:
        data = obj.public_bytes(Encoding.PEM)
    _remember(_PEM_BY_DER, key, data)
    return data


def der(obj: Serializable) -> bytes:
    """The DER bytes of a certificate, CSR or CRL (see :func:`encoded`)."""
    return encoded(obj, Encoding.DER)


def pem(obj: Serializable) -> bytes:
    """The PEM bytes of a certificate, CSR or CRL (see :func:`encoded`)."""
    return encoded(obj, Encoding.PEM)


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
    table = _TABLES[Encoding.DER]
    if id(cert) not in table:
        written = _WRITTEN.get(data)
        if written is not None:
            _remember(table, id(cert), (cert, written))
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
