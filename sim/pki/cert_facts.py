"""Facts read once from a certificate or key object and kept with it.

cryptography's objects are immutable, but some reads make new Python objects each time
(a certificate's notAfter datetime, its extension looked up by class) or run Python code
(`isinstance` against its key ABCs); the certificate server asks them for every request it
signs. Kept here, keyed by the object (which the entry holds, so its id is not reused).
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeGuard

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtensionOID

from sim.pki.memo import per_object


class IssuerFacts:
    """What every certificate a CA issues takes from the CA certificate: its subject (the
    issuer name), its notAfter (the cap) and its SKI as an AKI extension (None without
    one). cryptography makes a new datetime at every notAfter read, and finding the SKI
    walks the extensions in Python; a CA issues hundreds of certificates with the same
    ones."""

    __slots__ = ("cert", "name", "not_after", "aki")

    def __init__(self, cert: x509.Certificate) -> None:
        self.cert = cert
        self.name = cert.subject
        self.not_after = cert.not_valid_after_utc
        try:
            digest = cert.extensions.get_extension_for_class(
                x509.SubjectKeyIdentifier).value.digest
        except x509.ExtensionNotFound:
            self.aki: x509.Extension[x509.AuthorityKeyIdentifier] | None = None
        else:
            self.aki = x509.Extension(ExtensionOID.AUTHORITY_KEY_IDENTIFIER, False,
                                      x509.AuthorityKeyIdentifier(digest, None, None))


@per_object(256)
def issuer_facts(cert: x509.Certificate) -> IssuerFacts:
    """`cert`'s `IssuerFacts`, made once per certificate object (the 256 most recent)."""
    return IssuerFacts(cert)


def ca_not_after(cert: x509.Certificate) -> datetime:
    """A CA certificate's `not_valid_after_utc`, kept with what it issues with
    (`IssuerFacts`): asked at every certificate the CA issues."""
    return issuer_facts(cert).not_after


_RSA_PUBLIC_TYPES: set[type] = set()
"""The concrete classes found to be RSA public keys (`is_rsa_public_key`)."""


def is_rsa_public_key(key: object) -> TypeGuard[rsa.RSAPublicKey]:
    """`isinstance(key, rsa.RSAPublicKey)`, the classes that pass kept: the ABC's check
    runs Python code at each call, and every request, certificate and signature check
    asks it. (A class that passes keeps passing: an ABC only gains subclasses.)"""
    kind = type(key)
    if kind in _RSA_PUBLIC_TYPES:
        return True
    if isinstance(key, rsa.RSAPublicKey):
        _RSA_PUBLIC_TYPES.add(kind)
        return True
    return False
