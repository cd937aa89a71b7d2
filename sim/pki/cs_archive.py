"""The certificate server's one-time archive of its CA key pair and certificate.

12.3(11)T's "Certificate Server Auto Archive": at the first `no shutdown` the server exports
its signing key and CA certificate once, protected by the passphrase typed at the prompt,
to `<cs>.p12` (`database archive pkcs12`, the default) or `<cs>.pem` (`database archive
pem`) in its database location (cisco-cs.md 10). The restore procedure reads the PKCS#12
file back with `crypto pki import <cs> pkcs12 URL password PW` (`read_pkcs12`; importing
the PEM form is not modelled: IOS reads PEM imports as separate `.ca`/`.prv`/`.crt` files).

The PEM archive is what `crypto pki export TP pem` produces (cisco-client-docs.md 3): the
CA certificate, then the RSA private key in OpenSSL's traditional encrypted form
(`Proc-Type: 4,ENCRYPTED`, `DEK-Info: DES-EDE3-CBC,<iv>`, the key derived from the
passphrase and the IV's first 8 bytes with MD5, as `openssl rsa -des3` does). The order of
the two blocks in the file is pkilab's choice; `openssl x509` and `openssl rsa` each find
their block.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from sim.pki import x509util

FORMATS = ("pkcs12", "pem")
_DES3_KEY_BYTES = 24
_DES3_BLOCK_BYTES = 8


def archive_file(cs_name: str, fmt: str) -> str:
    """`ca.p12` or `ca.pem`."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown archive format {fmt!r}")
    return f"{cs_name}.{'p12' if fmt == 'pkcs12' else 'pem'}"


def archive_bytes(fmt: str, cs_name: str, key: rsa.RSAPrivateKey, cert: x509.Certificate,
                  passphrase: str) -> bytes:
    """The archive file's contents in `fmt` ("pkcs12" or "pem")."""
    if fmt == "pkcs12":
        return _pkcs12(cs_name, key, cert, passphrase)
    if fmt == "pem":
        return x509util.cert_pem(cert) + encrypted_key_pem(key, passphrase, _iv_for(cert))
    raise ValueError(f"unknown archive format {fmt!r}")


def _pkcs12(name: str, key: rsa.RSAPrivateKey, cert: x509.Certificate,
            passphrase: str) -> bytes:
    # PKCS#12 salts are random inside cryptography; the archive stays in the simulated
    # file systems (nvram:, flash:, a TFTP server's flash:) and only its name and size are
    # ever reported, so runs remain byte-identical.
    return pkcs12.serialize_key_and_certificates(
        name.encode(), key, cert, None, BestAvailableEncryption(passphrase.encode())
    )


def _iv_for(cert: x509.Certificate) -> bytes:
    """A CBC IV unique to this CA (its certificate is), and the same on every rerun of a
    scenario: keys in pkilab are simulation-only, so reproducibility wins over secrecy."""
    return hashlib.sha256(b"pkilab pem archive iv" + x509util.cert_der(cert)).digest()[
        :_DES3_BLOCK_BYTES]


def _bytes_to_key(passphrase: bytes, salt: bytes) -> bytes:
    """OpenSSL's EVP_BytesToKey with MD5 and one round: how a traditional encrypted PEM
    turns its passphrase into a 3DES key."""
    derived = b""
    block = b""
    while len(derived) < _DES3_KEY_BYTES:
        block = hashlib.md5(block + passphrase + salt, usedforsecurity=False).digest()
        derived += block
    return derived[:_DES3_KEY_BYTES]


def encrypted_key_pem(key: rsa.RSAPrivateKey, passphrase: str, iv: bytes) -> bytes:
    """`-----BEGIN RSA PRIVATE KEY-----` with `DEK-Info: DES-EDE3-CBC,<IV>`."""
    if len(iv) != _DES3_BLOCK_BYTES:
        raise ValueError("a DES-EDE3-CBC IV is 8 bytes")
    der = key.private_bytes(serialization.Encoding.DER,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    padder = padding.PKCS7(_DES3_BLOCK_BYTES * 8).padder()
    plain = padder.update(der) + padder.finalize()
    encryptor = Cipher(TripleDES(_bytes_to_key(passphrase.encode(), iv)),
                       modes.CBC(iv)).encryptor()
    body = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
    lines = [
        "-----BEGIN RSA PRIVATE KEY-----",
        "Proc-Type: 4,ENCRYPTED",
        f"DEK-Info: DES-EDE3-CBC,{iv.hex().upper()}",
        "",
        *(body[i:i + 64] for i in range(0, len(body), 64)),
        "-----END RSA PRIVATE KEY-----",
    ]
    return ("\n".join(lines) + "\n").encode()


# -- PKCS#12 for `crypto pki export|import TP pkcs12 URL password PW` ------------------------
class ArchiveError(ValueError):
    """A PKCS#12 file that cannot be opened: wrong password, or not PKCS#12 at all."""


@dataclass(frozen=True)
class Pkcs12Contents:
    """What a PKCS#12 file carries: the key, its certificate and the CA certificates."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    ca_certs: tuple[x509.Certificate, ...]


def pkcs12_bytes(name: str, key: rsa.RSAPrivateKey, cert: x509.Certificate,
                 ca_certs: tuple[x509.Certificate, ...], passphrase: str) -> bytes:
    """A trustpoint's key, certificate and CA certificates, as `crypto pki export TP
    pkcs12` writes them; encrypted with `passphrase` (openssl pkcs12 reads it)."""
    return pkcs12.serialize_key_and_certificates(
        name.encode(), key, cert, list(ca_certs) or None,
        BestAvailableEncryption(passphrase.encode()))


def read_pkcs12(data: bytes, passphrase: str) -> Pkcs12Contents:
    """Open a PKCS#12 file with an RSA key and its certificate (the server's archive, or
    what `crypto pki export` or openssl wrote)."""
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase.encode())
    except (ValueError, TypeError) as bad:
        raise ArchiveError(f"cannot open the PKCS #12 file: {bad}") from bad
    if not isinstance(key, rsa.RSAPrivateKey) or cert is None:
        raise ArchiveError("the PKCS #12 file holds no RSA key with its certificate")
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey) or \
            public.public_numbers() != key.public_key().public_numbers():
        raise ArchiveError("the PKCS #12 file's certificate is not for its key")
    return Pkcs12Contents(key, cert, tuple(extra))
