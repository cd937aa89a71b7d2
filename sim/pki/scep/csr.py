"""Requester-side pieces: the PKCS#10 request, the self-signed signer, the transactionID.

These follow what an IOS 12.3 router (and sscep, which copies the draft) puts on the wire:

- transactionID: draft-nourse-06 section 2.4 "the transaction identifier ... is a hash of the
  public key"; sscep and IOS print it as upper-case hex MD5 of the DER SubjectPublicKeyInfo
  (32 characters, ``3AE00CCCCE6F0F6AE7F163A277906964`` in the seed transcript).
- signer: draft-nourse-06 section 2.3 "a self-signed certificate ... the issuer name and the
  subject name are the requester's name, the serial number is the transaction id".
- request: a subordinate CS asks for basicConstraints CA:TRUE, which is how the root tells it
  apart (``CRYPTO_CS: found basic_constraints in enrollment request``); a router asks for
  keyUsage digitalSignature + keyEncipherment.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1_core
from asn1crypto import csr as asn1_csr
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.name import _ASN1Type  # private, but the only way to pick string types
from cryptography.x509.oid import AttributeOID

from sim.pki import x509util
from sim.pki.scep.algorithms import hash_for

_LEGACY = frozenset({"md5", "sha1"})
"""Hashes cryptography 48 refuses for certificate and CSR signatures (see x509util)."""
_PRINTABLE = re.compile(r"[A-Za-z0-9 '()+,\-./:=?]*")
_HEX_ID = re.compile(r"[0-9A-Fa-f]{1,38}")


def transaction_id_for(public_key: rsa.RSAPublicKey) -> str:
    """Upper-case hex MD5 of the DER SubjectPublicKeyInfo (IOS/sscep; 32 characters).

    Derived from the key, so a router that reloads mid-enrollment resends the same
    transactionID and the CA treats the new PKCSReq as a poll (draft-nourse-11 App. E).
    """
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.md5(spki).hexdigest().upper()


def _serial_for(transaction_id: str) -> int:
    """The signer's serial "is the transaction id" (draft-nourse-06 2.3).

    A hex transactionID (IOS, sscep) is read as the number it spells (128 bits for MD5);
    others (micromdm's base64) are hashed to 128 bits, because RFC 5280 4.1.2.2 caps serials at
    20 octets and sscep's trick of using the ASCII bytes would not fit.
    """
    if _HEX_ID.fullmatch(transaction_id):
        serial = int(transaction_id, 16)
    else:
        serial = int.from_bytes(hashlib.md5(transaction_id.encode("utf-8")).digest(), "big")
    return serial or 1


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _resign(der: bytes, key: rsa.RSAPrivateKey, hash_name: str, *, certificate: bool) -> bytes:
    """Re-sign a certificate or CSR built by cryptography with MD5 or SHA-1.

    cryptography signs with SHA-256 first; the signature algorithm identifiers (both of them in
    a certificate) are swapped with asn1crypto and the re-encoded to-be-signed part is signed
    with the raw RSA API, which still accepts the legacy hashes. Same technique as x509util's
    certificate/CRL re-signing.
    """
    algorithm = asn1_algos.SignedDigestAlgorithm(
        {"algorithm": f"{hash_name}_rsa", "parameters": asn1_core.Null()}
    )
    outer: asn1_core.Sequence
    if certificate:
        outer = asn1_x509.Certificate.load(der)
        tbs_field, sig_field = "tbs_certificate", "signature_value"
        outer[tbs_field]["signature"] = algorithm
    else:
        outer = asn1_csr.CertificationRequest.load(der)
        tbs_field, sig_field = "certification_request_info", "signature"
    tbs = outer[tbs_field]
    tbs_der = tbs.dump(force=True)
    signature = key.sign(tbs_der, padding.PKCS1v15(), hash_for(hash_name))
    rebuilt = type(outer)(
        {tbs_field: type(tbs).load(tbs_der), "signature_algorithm": algorithm, sig_field: signature}
    )
    return rebuilt.dump(force=True)


_SIGNER_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=True,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
"""The signer certificate's keyUsage (immutable: built once, not per enrollment)."""


def self_signed_signer(
    key: rsa.RSAPrivateKey,
    subject: x509.Name,
    transaction_id: str,
    not_before: datetime,
    not_after: datetime,
    *,
    hash_name: str = "sha256",
) -> x509.Certificate:
    """The requester's temporary certificate that signs its pkiMessages.

    Issuer = subject = the requester's name, serial from the transactionID, keyUsage
    digitalSignature + keyEncipherment (RFC 8894 section 2.3: the self-signed certificate
    "SHOULD" have them, and the CA encrypts the reply to it). The caller backdates
    ``not_before``: Go's pkcs7 checks signingTime against it (P8). IOS 12.3 would sign it with
    MD5 (``hash_name="md5"``).
    """
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(_serial_for(transaction_id))
        .not_valid_before(_utc(not_before))
        .not_valid_after(_utc(not_after))
        .add_extension(_SIGNER_USAGE, critical=True)
    )
    sign_hash = hash_for("sha256" if hash_name in _LEGACY else hash_name)
    cert = builder.sign(key, sign_hash)  # type: ignore[arg-type]
    if hash_name not in _LEGACY:
        return cert
    der = _resign(cert.public_bytes(serialization.Encoding.DER), key, hash_name, certificate=True)
    return x509.load_der_x509_certificate(der)


def _request_key_usage(ca: bool) -> x509.KeyUsage:
    """Router: digitalSignature + keyEncipherment. Sub-CS: digitalSignature + keyCertSign +
    cRLSign (choice: neither source shows an IOS sub-CS request's keyUsage; these are the bits
    the root puts in the CA certificate anyway, ``added key usage extension``)."""
    return _REQUEST_USAGE[bool(ca)]


def _make_request_key_usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


_REQUEST_USAGE = {ca: _make_request_key_usage(ca) for ca in (False, True)}
"""Both keyUsage values a request asks for (immutable: built once)."""


def make_csr(
    key: rsa.RSAPrivateKey,
    subject: x509.Name,
    *,
    challenge_password: str | None = None,
    ca: bool = False,
    key_usage: bool = True,
    hash_name: str = "sha256",
    extensions: tuple[x509.ExtensionType, ...] = (),
) -> x509.CertificateSigningRequest:
    """A PKCS#10 request as an IOS router or subordinate CS sends it.

    ``ca`` requests basicConstraints CA:TRUE (critical). ``key_usage`` requests keyUsage (see
    :func:`_request_key_usage`). challengePassword is a PrintableString when it fits, as
    micromdm and sscep write it (scep.md 1.11; cryptography would default to UTF8String).
    MD5/SHA-1 signatures are produced by re-signing, since cryptography refuses them.
    """
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    if ca:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        )
    if key_usage:
        builder = builder.add_extension(_request_key_usage(ca), critical=True)
    for extension in extensions:  # a trustpoint's `eku request`, `subject-alt-name`
        builder = builder.add_extension(extension, critical=False)
    if challenge_password is not None:
        printable = _PRINTABLE.fullmatch(challenge_password) is not None
        builder = builder.add_attribute(
            AttributeOID.CHALLENGE_PASSWORD,
            challenge_password.encode("utf-8"),
            _tag=_ASN1Type.PrintableString if printable else _ASN1Type.UTF8String,
        )
    sign_hash = hash_for("sha256" if hash_name in _LEGACY else hash_name)
    csr = builder.sign(key, sign_hash)  # type: ignore[arg-type]
    if hash_name not in _LEGACY:
        return csr
    der = _resign(csr.public_bytes(serialization.Encoding.DER), key, hash_name, certificate=False)
    return x509.load_der_x509_csr(der)


def csr_fingerprint(csr_der: bytes, algo: str = "md5") -> str:
    """``Certificate Request Fingerprint MD5: 8F3BC2B6 ...``: the hash of the DER request in
    IOS's groups of eight (x509util.fingerprint)."""
    return x509util.fingerprint(csr_der, algo)
