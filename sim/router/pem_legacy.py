"""RSA keys in the PEM files `crypto key export rsa ... pem` writes and `import` reads.

IOS writes the private key in OpenSSL's *traditional* encrypted PEM (Cisco's "Import of
RSA Key Pair and Certificates in PEM Format", 12.3(4)T; cisco-client-docs.md 3):

    -----BEGIN RSA PRIVATE KEY-----
    Proc-Type: 4,ENCRYPTED
    DEK-Info: DES-EDE3-CBC,ED6B210B626BC81A

    <base64 of the PKCS#1 RSAPrivateKey, encrypted>
    -----END RSA PRIVATE KEY-----

and the public key as `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo). cryptography
reads that format but only writes it with the cipher OpenSSL picks, so the writer is built
here from OpenSSL's own recipe (`PEM_write_bio_RSAPrivateKey`): the IV is the DEK-Info
hex, its first 8 bytes salt `EVP_BytesToKey(MD5, passphrase, salt, count=1)`, which gives
the cipher key, and the DER is CBC-encrypted with PKCS#7 padding. The reader does the same
backwards for DES-CBC, DES-EDE3-CBC and AES-CBC (what `openssl rsa -des|-des3|-aes256`
writes) and leaves every other form (unencrypted, PKCS#8) to cryptography.

Pure functions: no router, no clock; the IV is an argument (the router draws it from the
run's seeded RNG, so an export is byte-identical from one run to the next).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm, Cipher, algorithms, modes


@dataclass(frozen=True)
class _Dek:
    """One DEK-Info cipher: its key length and how to build it from the key bytes."""

    key_size: int
    block_size: int
    build: Callable[[bytes], BlockCipherAlgorithm]


_DEKS: dict[str, _Dek] = {
    # A single-DES key is 3DES with K1 = K2 = K3, which is how cryptography offers DES.
    "DES-CBC": _Dek(8, 8, TripleDES),
    "DES-EDE3-CBC": _Dek(24, 8, TripleDES),
    "AES-128-CBC": _Dek(16, 16, algorithms.AES),
    "AES-192-CBC": _Dek(24, 16, algorithms.AES),
    "AES-256-CBC": _Dek(32, 16, algorithms.AES),
}

EXPORT_CIPHERS = {"des": "DES-CBC", "3des": "DES-EDE3-CBC"}
"""`crypto key export rsa L pem ... {des|3des}`: the DEK-Info cipher each keyword means."""

_PRIVATE_BLOCK = re.compile(
    rb"-----BEGIN RSA PRIVATE KEY-----\r?\n(?P<body>.*?)-----END RSA PRIVATE KEY-----", re.S)
_BLOCK = re.compile(rb"-----BEGIN (?P<kind>[A-Z ]+)-----.*?-----END (?P=kind)-----", re.S)


class PemError(ValueError):
    """Text that is not the key (or not with this passphrase)."""


def _evp_bytes_to_key(passphrase: bytes, salt: bytes, size: int) -> bytes:
    """OpenSSL's `EVP_BytesToKey` with MD5 and one iteration, as traditional PEM uses."""
    out = b""
    block = b""
    while len(out) < size:
        block = hashlib.md5(block + passphrase + salt).digest()
        out += block
    return out[:size]


def _cipher(dek: _Dek, passphrase: str, iv: bytes) -> Cipher[modes.CBC]:
    key = _evp_bytes_to_key(passphrase.encode("utf-8"), iv[:8], dek.key_size)
    if dek.key_size == 8:
        key = key * 3
    return Cipher(dek.build(key), modes.CBC(iv))


def encrypted_private_pem(key: rsa.RSAPrivateKey, passphrase: str, cipher: str,
                          iv: bytes) -> bytes:
    """The traditional encrypted PEM of `key`; `cipher` is `des` or `3des`, `iv` 8 bytes."""
    name = EXPORT_CIPHERS[cipher]
    dek = _DEKS[name]
    if len(iv) != dek.block_size:
        raise ValueError(f"{name} takes an IV of {dek.block_size} bytes")
    der = key.private_bytes(serialization.Encoding.DER,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    padder = padding.PKCS7(dek.block_size * 8).padder()
    plain = padder.update(der) + padder.finalize()
    encryptor = _cipher(dek, passphrase, iv).encryptor()
    body = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")
    lines = ["-----BEGIN RSA PRIVATE KEY-----", "Proc-Type: 4,ENCRYPTED",
             f"DEK-Info: {name},{iv.hex().upper()}", "", *textwrap.wrap(body, 64),
             "-----END RSA PRIVATE KEY-----", ""]
    return "\n".join(lines).encode("ascii")


def public_pem(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> bytes:
    """`-----BEGIN PUBLIC KEY-----`: the SubjectPublicKeyInfo IOS exports."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)


def load_private(text: bytes, passphrase: str) -> rsa.RSAPrivateKey:
    """The RSA key in `text`, decrypted with `passphrase`; PemError if it is not one."""
    found = _PRIVATE_BLOCK.search(text)
    if found is not None and b"Proc-Type:" in found.group("body"):
        return _load_traditional(found.group("body"), passphrase)
    try:
        key = serialization.load_pem_private_key(
            text, password=passphrase.encode("utf-8") or None)
    except TypeError:  # no passphrase for an encrypted key, or one for a plain key
        raise PemError("the private key is not encrypted with a passphrase") from None
    except ValueError:
        raise PemError("wrong passphrase or damaged key") from None
    except UnsupportedAlgorithm:  # a PEM cipher OpenSSL will not load
        raise PemError("the private key is encrypted with an unsupported cipher") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PemError("not an RSA private key")
    return key


def _load_traditional(body: bytes, passphrase: str) -> rsa.RSAPrivateKey:
    """A `Proc-Type: 4,ENCRYPTED` block: headers, blank line, base64 (RFC 1421 layout)."""
    headers: dict[str, str] = {}
    lines = body.decode("ascii", "replace").splitlines()
    index = 0
    while index < len(lines) and ":" in lines[index]:
        field, _sep, value = lines[index].partition(":")
        headers[field.strip().lower()] = value.strip()
        index += 1
    name, _sep, iv_hex = headers.get("dek-info", "").partition(",")
    dek = _DEKS.get(name.strip().upper())
    if dek is None:
        raise PemError(f"unsupported DEK-Info cipher {name.strip() or '(none)'}")
    try:
        iv = bytes.fromhex(iv_hex.strip())
        encrypted = base64.b64decode("".join(lines[index:]), validate=False)
    except (ValueError, binascii.Error):
        raise PemError("damaged PEM body") from None
    if len(iv) != dek.block_size or not encrypted or len(encrypted) % dek.block_size:
        raise PemError("damaged PEM body")
    decryptor = _cipher(dek, passphrase, iv).decryptor()
    unpadder = padding.PKCS7(dek.block_size * 8).unpadder()
    try:
        der = unpadder.update(decryptor.update(encrypted) + decryptor.finalize())
        der += unpadder.finalize()
        key = serialization.load_der_private_key(der, password=None)
    except ValueError:
        raise PemError("wrong passphrase or damaged key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PemError("not an RSA private key")
    return key


def load_public(text: bytes) -> rsa.RSAPublicKey:
    """The RSA public key of a `PUBLIC KEY`, `RSA PUBLIC KEY` or `CERTIFICATE` block (IOS
    asks for "public ... key or certificate"); PemError otherwise."""
    found = _BLOCK.search(text)
    if found is None:
        raise PemError("no PEM block")
    block, kind = found.group(0) + b"\n", found.group("kind")
    if kind not in (b"CERTIFICATE", b"PUBLIC KEY", b"RSA PUBLIC KEY"):
        raise PemError(f"a {kind.decode()} block is not a public key")
    try:
        public: object = (x509.load_pem_x509_certificate(block).public_key()
                          if kind == b"CERTIFICATE" else serialization.load_pem_public_key(block))
    except ValueError:
        raise PemError("damaged public key") from None
    if not isinstance(public, rsa.RSAPublicKey):
        raise PemError("not an RSA public key")
    return public
