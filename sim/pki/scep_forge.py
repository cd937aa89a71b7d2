"""A SCEP peer that writes whatever it likes: validly signed pkiMessages with chosen parts.

The codec (`sim.pki.scep`) only builds what SCEP allows. To test what a certificate server
does with a message that is signed correctly but wrong in substance (a transactionID with a
DEL byte, an envelope with an unknown cipher, a request for an EC key, a request signed by
someone else's key), the message has to be written by hand: this module does that, and makes
the odd keys and requests such messages carry. Used by the SCEP fuzzer and the service tests;
nothing in the simulator's own message flow uses it.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1_core
from asn1crypto import csr as asn1_csr
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import AttributeOID, ExtendedKeyUsageOID, NameOID

from sim.pki.scep import der
from sim.pki.scep.algorithms import (
    DIGEST_OIDS,
    DIGESTS_WITH_NULL_PARAMS,
    RSA_ENCRYPTION_OID,
    hash_for,
)
from sim.pki.scep.bodies import DATA_OID, SIGNED_DATA_OID
from sim.pki.scep.codec import (
    CONTENT_TYPE,
    MESSAGE_DIGEST,
    MESSAGE_TYPE,
    SENDER_NONCE,
    SIGNING_TIME,
    TRANSACTION_ID,
)

RandomBytes = Callable[[int], bytes]


def attribute(oid: str, value: bytes) -> bytes:
    """One authenticated attribute; ``value`` is an encoded ASN.1 element."""
    return der.seq(der.oid(oid), der.set_of([value]))


def request_attributes(message_type: int | bytes, transaction_id: bytes, sender_nonce: bytes,
                       signing_time: datetime | None) -> list[bytes]:
    """The SCEP attributes of a request. ``transaction_id``, and ``message_type`` unless it
    is a number, are encoded elements, so a caller can give them any type and any bytes."""
    if isinstance(message_type, int):
        message_type = der.printable_string(str(message_type))
    attributes = [
        attribute(MESSAGE_TYPE, message_type),
        attribute(TRANSACTION_ID, transaction_id),
        attribute(SENDER_NONCE, der.octet_string(sender_nonce)),
    ]
    if signing_time is not None:
        attributes.append(attribute(SIGNING_TIME, der.cms_time(signing_time)))
    return attributes


def signed_message(signer_cert: x509.Certificate, signer_key: rsa.RSAPrivateKey, digest: str,
                   econtent: bytes | None, attributes: Sequence[bytes],
                   extra_certs: Sequence[x509.Certificate] = ()) -> bytes:
    """A pkiMessage carrying ``econtent`` and ``attributes`` (contentType and a correct
    messageDigest are added), correctly signed by ``signer_key`` as the codec signs (P2)."""
    attributes = [
        attribute(CONTENT_TYPE, der.oid(DATA_OID)),
        attribute(MESSAGE_DIGEST, der.octet_string(hashlib.new(digest, econtent or b"").digest())),
        *attributes,
    ]
    signed_attrs = der.set_of(attributes)
    signature = signer_key.sign(signed_attrs, padding.PKCS1v15(), hash_for(digest))
    parsed = asn1_x509.Certificate.load(signer_cert.public_bytes(Encoding.DER))
    digest_algorithm = der.algorithm_identifier(
        DIGEST_OIDS[digest], der.null() if digest in DIGESTS_WITH_NULL_PARAMS else None)
    signer_info = der.seq(
        der.integer(1),
        der.seq(parsed["tbs_certificate"]["issuer"].dump(),
                der.integer(signer_cert.serial_number)),
        digest_algorithm,
        b"\xa0" + signed_attrs[1:],
        der.algorithm_identifier(RSA_ENCRYPTION_OID, der.null()),
        der.octet_string(signature),
    )
    encap = [der.oid(DATA_OID)]
    if econtent is not None:
        encap.append(der.context(0, der.octet_string(econtent)))
    certs = [signer_cert, *(c for c in extra_certs if c != signer_cert)]
    signed_data = der.seq(
        der.integer(1),
        der.set_of([digest_algorithm]),
        der.seq(*encap),
        der.context(0, b"".join(c.public_bytes(Encoding.DER) for c in certs)),
        der.set_of([signer_info]),
    )
    return der.seq(der.oid(SIGNED_DATA_OID), der.context(0, signed_data))


# --------------------------------------------------------------------------- odd keys


def oversized_rsa_key() -> rsa.RSAPrivateKey:
    """A real 4484-bit RSA key, made at once: the Mersenne primes 2^2281-1 and 2^2203-1.

    A key above IOS's 4096-bit limit would take seconds to generate; these two numbers are
    known primes (Lucas-Lehmer), so OpenSSL's slow primality re-check is skipped. Public
    knowledge, of course: for refusal tests only.
    """
    p, q, e = (1 << 2281) - 1, (1 << 2203) - 1, 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p),
                                    rsa.RSAPublicNumbers(e, p * q))
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


def ec_key(random_bytes: RandomBytes) -> ec.EllipticCurvePrivateKey:
    """A P-256 key from the caller's random stream (deterministic)."""
    scalar = int.from_bytes(random_bytes(32), "big") % (2**255) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def ed25519_key(random_bytes: RandomBytes) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(random_bytes(32))


def csr_for(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
            subject: x509.Name) -> bytes:
    """A PKCS#10 request for any key cryptography can sign with (SHA-256, or none for
    Ed25519)."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm).public_bytes(Encoding.DER)


def signed_csr(info_der: bytes, key: rsa.RSAPrivateKey) -> bytes:
    """A PKCS#10 request whose CertificationRequestInfo is exactly ``info_der`` (whatever it
    holds), signed with ``key`` and SHA-256: a valid proof of possession around arbitrary
    content, so a server has to deal with the content."""
    signature = key.sign(info_der, padding.PKCS1v15(), hashes.SHA256())
    return der.seq(info_der,
                   der.algorithm_identifier("1.2.840.113549.1.1.11", der.null()),
                   der.tlv(0x03, b"\x00" + signature))


def request_info(csr_der: bytes) -> bytes:
    """The CertificationRequestInfo (the signed part) of a PKCS#10 request."""
    return der.read(csr_der).children()[0].encoded


def rich_csr(key: rsa.RSAPrivateKey, common_name: str) -> bytes:
    """A request with everything a router's may carry, as material for mutations: a subject
    with IOS's unstructuredName and serialNumber, keyUsage, basicConstraints, a SAN with a
    name and an address, extendedKeyUsage, a challengePassword."""
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pkilab"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(x509.ObjectIdentifier("1.2.840.113549.1.9.2"), f"{common_name}"),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, "FTX0945W0MY"),
    ])
    usage = x509.KeyUsage(True, False, True, False, False, False, False, False, False)
    builder = (
        x509.CertificateSigningRequestBuilder().subject_name(subject)
        .add_extension(usage, critical=True)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName(common_name), x509.IPAddress(ipaddress.IPv4Address("10.0.0.9"))]),
            critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.IPSEC_IKE]),
                       critical=False)
        .add_attribute(AttributeOID.CHALLENGE_PASSWORD, b"cisco123")
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.DER)


def with_public_key(csr_der: bytes, public_key: rsa.RSAPublicKey,
                    sign_with: rsa.RSAPrivateKey | None = None, hash_name: str = "md5") -> bytes:
    """``csr_der`` with its key replaced. Re-signed with ``sign_with`` and ``hash_name`` when
    given (cryptography will not sign with a key too small for SHA-256); otherwise the old
    signature stays, and no longer verifies: how to send a key too small to sign at all."""
    request = asn1_csr.CertificationRequest.load(csr_der)
    info = request["certification_request_info"]
    spki = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    info["subject_pk_info"] = asn1_keys.PublicKeyInfo.load(spki)
    info_der = info.dump(force=True)
    algorithm = request["signature_algorithm"]
    signature = request["signature"].native
    if sign_with is not None:
        algorithm = asn1_algos.SignedDigestAlgorithm(
            {"algorithm": f"{hash_name}_rsa", "parameters": asn1_core.Null()})
        signature = sign_with.sign(info_der, padding.PKCS1v15(), hash_for(hash_name))
    rebuilt = asn1_csr.CertificationRequest({
        "certification_request_info": asn1_csr.CertificationRequestInfo.load(info_der),
        "signature_algorithm": algorithm,
        "signature": signature,
    })
    return bytes(rebuilt.dump(force=True))


def self_signed(key: rsa.RSAPublicKey | rsa.RSAPrivateKey, subject: x509.Name,
                issuer: x509.Name, serial: int, now: datetime,
                sign_with: rsa.RSAPrivateKey | None = None) -> x509.Certificate:
    """A signer certificate for ``key``, signed by ``sign_with`` (default: ``key`` itself)
    whatever ``issuer`` it names: a forgery when ``issuer`` is a CA's name. A SCEP server
    uses a requester's signer certificate only for its key, so a key too small for
    cryptography to sign with (below 496 bits for SHA-256) can have its certificate signed
    by another key."""
    public_key = key if isinstance(key, rsa.RSAPublicKey) else key.public_key()
    signing_key = sign_with if sign_with is not None else key
    if not isinstance(signing_key, rsa.RSAPrivateKey):
        raise ValueError("a public key cannot sign its certificate: pass sign_with")
    start = now.replace(microsecond=0) - timedelta(minutes=5)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(serial)
            .not_valid_before(start).not_valid_after(start + timedelta(days=365))
            .sign(signing_key, hashes.SHA256()))
