"""Algorithm tables for SCEP: digests, content-encryption ciphers, signature OIDs.

One place maps the short names the simulator uses ("des", "md5", ...) to OIDs and to
``cryptography`` objects, so the codec, the envelope code and :class:`Profile` agree.

Why DES and MD5 are here at all: draft-nourse-scep-06 says "required: RSA, DES, MD5", and Cisco
IOS 12.3 sends exactly DES-CBC + MD5 (scep.md 1.10); RFC 8894 section 3.5.2 says a client "MUST
NOT" use them. The simulator has to speak both (pitfall P11).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm, CipherContext
from cryptography.hazmat.primitives.ciphers import Cipher as CipherMaker
from cryptography.hazmat.primitives.ciphers.algorithms import AES
from cryptography.hazmat.primitives.ciphers.modes import CBC

_ContextMaker = Callable[[BlockCipherAlgorithm, CBC], CipherContext]
_CONTEXTS: tuple[_ContextMaker, _ContextMaker] | None
try:
    # cryptography's own constructors of cipher contexts, which its Python `Cipher` wrapper
    # calls after checking its arguments' types (see `Cipher.cbc`).
    from cryptography.hazmat.bindings._rust import openssl as _rust_openssl

    _CONTEXTS = (_rust_openssl.ciphers.create_decryption_ctx,
                 _rust_openssl.ciphers.create_encryption_ctx)
except (ImportError, AttributeError):  # another cryptography release: the public path
    _CONTEXTS = None

# --------------------------------------------------------------------------- digests

DIGEST_OIDS: dict[str, str] = {
    "md5": "1.2.840.113549.2.5",
    "sha1": "1.3.14.3.2.26",
    "sha224": "2.16.840.1.101.3.4.2.4",
    "sha256": "2.16.840.1.101.3.4.2.1",
    "sha384": "2.16.840.1.101.3.4.2.2",
    "sha512": "2.16.840.1.101.3.4.2.3",
}
DIGEST_BY_OID: dict[str, str] = {oid: name for name, oid in DIGEST_OIDS.items()}

_HASH_CLASSES: dict[str, type[hashes.HashAlgorithm]] = {
    "md5": hashes.MD5,
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

DIGESTS_WITH_NULL_PARAMS = frozenset({"md5", "sha1"})
"""MD5 and SHA-1 AlgorithmIdentifiers are written with NULL parameters, as OpenSSL (and so
sscep and, plausibly, IOS) writes them; RFC 5754 section 2 says the SHA-2 ones "SHOULD" omit
them. Parsers accept both forms (RFC 5754: implementations "MUST accept" either)."""


_HASH_OBJECTS: dict[str, hashes.HashAlgorithm] = {
    name: kind() for name, kind in _HASH_CLASSES.items()
}
"""One object per digest: they hold no state (a name and sizes), so one serves every call."""

HASH_FUNCTIONS: dict[str, Callable[..., hashlib._Hash]] = {
    name: getattr(hashlib, name) for name in DIGEST_OIDS
}
"""hashlib's named constructors (``hashlib.sha256``...): ``hashlib.new(name)`` looks the
name up on every call."""


def hash_for(name: str) -> hashes.HashAlgorithm:
    """The ``cryptography`` hash object for a digest name; ValueError for an unknown one."""
    try:
        return _HASH_OBJECTS[name]
    except KeyError:
        known = sorted(DIGEST_OIDS)
        raise ValueError(f"unknown digest {name!r}; expected one of {known}") from None


# --------------------------------------------------------------------------- signatures

RSA_ENCRYPTION_OID = "1.2.840.113549.1.1.1"
"""rsaEncryption: what OpenSSL (sscep) writes as the SignerInfo signatureAlgorithm; the hash
comes from digestAlgorithm (RFC 3370 section 3.2)."""

SIGNATURE_OIDS: dict[str, str | None] = {
    RSA_ENCRYPTION_OID: None,
    "1.2.840.113549.1.1.4": "md5",
    "1.2.840.113549.1.1.5": "sha1",
    "1.2.840.113549.1.1.14": "sha224",
    "1.2.840.113549.1.1.11": "sha256",
    "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512",
}
"""SignerInfo signatureAlgorithm values accepted when parsing (RSA PKCS#1 v1.5 only). Go's
pkcs7 (micromdm) writes sha1WithRSAEncryption instead of rsaEncryption (scep.md 1.7)."""

PKCS1V15 = padding.PKCS1v15()
"""Padding objects hold no state: one serves every signature and verification."""


def verifies(public_key: rsa.RSAPublicKey, signature: bytes, data: bytes, digest: str) -> bool:
    """Whether ``signature`` is ``public_key``'s RSA PKCS#1 v1.5 signature of ``data``."""
    try:
        public_key.verify(signature, data, PKCS1V15, hash_for(digest))
    except (InvalidSignature, ValueError):
        return False
    return True


# --------------------------------------------------------------------------- ciphers


@dataclass(frozen=True)
class Cipher:
    """A CBC content-encryption algorithm as it appears in EnvelopedData."""

    name: str
    oid: str
    key_size: int
    block_size: int

    def algorithm(self, key: bytes) -> BlockCipherAlgorithm:
        """The ``cryptography`` algorithm object for ``key``.

        Single DES is run as TripleDES with the key repeated three times (EDE with K1=K2=K3 is
        DES): cryptography's bundled OpenSSL has no plain DES, and this trick needs no legacy
        provider (scep.md 2.1, P11).
        """
        if len(key) != self.key_size:
            raise ValueError(f"{self.name} needs a {self.key_size}-byte key, got {len(key)}")
        if self.name == "des":
            return TripleDES(key * 3)
        if self.name == "des3":
            return TripleDES(key)
        return AES(key)  # imported by name: the module's attributes go through a deprecation hook

    def cbc(self, key: bytes, iv: bytes, *, encrypt: bool) -> CipherContext:
        """A CBC encryption or decryption context under ``key`` and ``iv``; ValueError for a
        key or IV of the wrong length.

        What ``Cipher(self.algorithm(key), CBC(iv)).encryptor()`` (or ``decryptor()``)
        gives, made by the constructor that wrapper calls: the wrapper's checks of its
        arguments' types (abstract-class isinstance calls) cost twice what the context
        does, and every envelope sealed or opened makes one. Its one check that can fail
        here, the IV length, is made here (tests/test_codec_shortcuts.py compares both).
        """
        if len(iv) != self.block_size:
            raise ValueError(f"{self.name} needs a {self.block_size}-byte IV, got {len(iv)}")
        algorithm, mode = self.algorithm(key), CBC(iv)
        if _CONTEXTS is None:
            maker = CipherMaker(algorithm, mode)
            return maker.encryptor() if encrypt else maker.decryptor()
        return _CONTEXTS[encrypt](algorithm, mode)


CIPHERS: dict[str, Cipher] = {
    c.name: c
    for c in (
        Cipher("des", "1.3.14.3.2.7", 8, 8),
        Cipher("des3", "1.2.840.113549.3.7", 24, 8),
        Cipher("aes128", "2.16.840.1.101.3.4.1.2", 16, 16),
        Cipher("aes192", "2.16.840.1.101.3.4.1.22", 24, 16),
        Cipher("aes256", "2.16.840.1.101.3.4.1.42", 32, 16),
    )
}
CIPHER_BY_OID: dict[str, Cipher] = {c.oid: c for c in CIPHERS.values()}


def cipher_named(name: str) -> Cipher:
    """The cipher for a short name; ValueError for an unknown one."""
    try:
        return CIPHERS[name]
    except KeyError:
        raise ValueError(f"unknown cipher {name!r}; expected one of {sorted(CIPHERS)}") from None


def _odd_parity(byte: int) -> int:
    """``byte`` with its low bit set so that it has an odd number of one bits."""
    high = byte & 0xFE
    return high | (bin(high).count("1") + 1) % 2


_ODD_PARITY = bytes(_odd_parity(byte) for byte in range(256))
"""Each byte value with odd parity: a table, so a key is converted in one translate call
instead of a Python loop over its bytes (a fifth of sealing a DES envelope)."""


def set_des_parity(key: bytes) -> bytes:
    """Give every byte odd parity, as FIPS 46-3 defines a DES key.

    Most implementations ignore the parity bits, but a well-formed key is what a real DES key
    generator (IOS, OpenSSL's ``DES_random_key``) hands out.
    """
    return bytes(key).translate(_ODD_PARITY)
