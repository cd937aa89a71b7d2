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
The table keeps the most recently added ``LIMIT`` entries (first in, first out): what an
exchange needs again comes back within a few messages, and memory stays bounded however
many routers a run has. A run is single-threaded (the live bridge runs the simulation
under one lock), so the table needs no lock of its own.
"""

from __future__ import annotations

import functools
from typing import Protocol

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


def encoded(obj: Serializable, encoding: Encoding = Encoding.DER) -> bytes:
    """``obj.public_bytes(encoding)``, computed once per object."""
    table = _TABLES[encoding]
    entry = table.get(id(obj))
    if entry is not None and entry[0] is obj:
        return entry[1]
    data = obj.public_bytes(encoding)
    if len(table) >= LIMIT:
        table.pop(next(iter(table)), None)
    table[id(obj)] = (obj, data)
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
    return _load_certificate(data)


@functools.lru_cache(maxsize=LIMIT)
def _load_certificate(data: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(data)


def clear() -> None:
    """Forget every entry (tests that count serializations start from an empty table)."""
    for table in _TABLES.values():
        table.clear()
    _load_certificate.cache_clear()
