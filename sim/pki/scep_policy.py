"""What a careful certificate server checks in a SCEP request before it files or answers it.

Sans-IO and side-effect free: each check takes the parsed request (and the CA's state) and
returns a :class:`Refusal` (the failInfo and the text of the CertRep FAILURE) or None. The
SCEP service (`sim.pki.scep_service`) runs them in order; nothing here touches the request
database.

Where IOS documents a rule it is followed; where it does not, the choice is written down at
the check:

- Keys: RSA only, modulus 360 to 4096 bits. IOS generates RSA keys "in the range of 360 to
  2048" (12.3) and up to 4096 since 15.1(1)T (reference/cisco-client-docs.md); a CS running
  that code cannot be expected to handle keys it cannot make (360 bits is also the smallest
  modulus that can carry a PKCS#1 v1.5 signature at all: an MD5 DigestInfo plus padding is 45
  bytes). Applied to the request's key and to the key of the certificate that signed the
  pkiMessage, to which the CA encrypts its reply's content key. An EC, DSA or
  Ed25519 key is "Unrecognized or unsupported algorithm": badAlg (RFC 8894 3.2.1.4). pkilab's
  choice: an RSA modulus outside the range is badAlg too, because it is a limit of what the
  server can process, not a refusal of the transaction.
- Proof of possession: the PKCS#10 signature must verify with the request's own key
  (RFC 2986 section 3; badMessageCheck).
- The subject: no control characters (C0 or DEL) in any of its values. pkilab's choice: the
  CS prints subjects raw at the console (`info requests`, debug lines) and writes them into
  `<serial>.cnm`, where a newline or an escape sequence would forge lines; no real client
  puts them in a name. badRequest.
- Who may ask: RFC 8894 section 2.3 has a new request signed with "a self-signed certificate"
  for the key being certified, and a renewal signed with "the existing certificate". So a
  PKCSReq signed by any other key is refused (badMessageCheck: the message does not check out
  as coming from the key's holder), unless it is a renewal signed by a certificate this CA
  issued. pkilab's choice for "issued": its signature verifies with the CA key, it names the
  CA as issuer, it is within its validity and it is not revoked.
- Polls: GetCertInitial names the transaction by transactionID and by IssuerAndSubject
  (draft-nourse-11 section 5.2.1). Both must match: the issuer is this CA, the subject is the
  subject of the transaction's request (badCertId, "No certificate could be identified
  matching the provided criteria").
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import AttributeOID

from sim.pki import cert_facts, scep, x509util
from sim.pki.ca_requests import ParsedRequest
from sim.pki.scep.bodies import LOAD_ERRORS

MIN_RSA_BITS = 360
MAX_RSA_BITS = 4096
"""IOS's RSA modulus range (`crypto key generate rsa`: 360 to 4096 bits since 15.1(1)T)."""


_CONTROL = re.compile("[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Refusal:
    """Why a request gets a CertRep FAILURE."""

    fail_info: scep.FailInfo
    text: str


def _key_refusal(public_key: object, whose: str) -> Refusal | None:
    if not cert_facts.is_rsa_public_key(public_key):
        return Refusal(scep.FailInfo.BAD_ALG, f"{whose} key is not RSA")
    bits = public_key.key_size
    if not MIN_RSA_BITS <= bits <= MAX_RSA_BITS:
        return Refusal(scep.FailInfo.BAD_ALG,
                       f"{whose} RSA modulus has {bits} bits; the server accepts "
                       f"{MIN_RSA_BITS} to {MAX_RSA_BITS}")
    return None


def check_signer(signer: x509.Certificate) -> Refusal | None:
    """The certificate that signed the pkiMessage carries a key the server can answer to."""
    try:
        return _key_refusal(signer.public_key(), "the signer's")
    except LOAD_ERRORS:
        return Refusal(scep.FailInfo.BAD_ALG, "the signer's key cannot be read")


def load_request(content: bytes) -> x509.CertificateSigningRequest | Refusal:
    """The PKCS#10 request of a PKCSReq, fully read and checked, or why it is refused
    (`check_request`)."""
    checked = check_request(content)
    return checked if isinstance(checked, Refusal) else checked.csr


def check_request(content: bytes) -> ParsedRequest | Refusal:
    """The PKCS#10 request of a PKCSReq, fully read and checked, with its subject (which
    filing and issuing use again: `ParsedRequest`), or why it is refused.

    cryptography parses a request's subject, extensions and key lazily; they are all read here
    so that a malformed one is refused now (badRequest) instead of failing half-way through
    filing or issuing.
    """
    try:
        csr = x509.load_der_x509_csr(content)
        name = csr.subject
        # `list(name)`, without Name's generator and its length hint's (same order)
        subject = [attribute for rdn in name.rdns for attribute in rdn]
        list(csr.extensions)
        public_key = csr.public_key()
    except LOAD_ERRORS as exc:
        # cryptography's tag table raises KeyError(tag) for a string type it does not know
        reason = f"unknown ASN.1 tag {exc}" if isinstance(exc, KeyError) else str(exc)
        return Refusal(scep.FailInfo.BAD_REQUEST, f"not a usable PKCS#10 request: {reason}")
    if any(isinstance(a.value, str) and _CONTROL.search(a.value) for a in subject):
        return Refusal(scep.FailInfo.BAD_REQUEST, "the request's subject has control characters")
    refusal = _key_refusal(public_key, "the request's")
    if refusal is not None:
        return refusal
    if not cert_facts.is_rsa_public_key(public_key):  # narrowed by _key_refusal already
        return Refusal(scep.FailInfo.BAD_ALG, "the request's key is not RSA")
    try:
        possessed = x509util.verify_signature(csr, public_key)
    except LOAD_ERRORS as exc:  # an unknown signature algorithm
        return Refusal(scep.FailInfo.BAD_ALG, f"the PKCS#10 signature cannot be checked: {exc}")
    if not possessed:
        return Refusal(scep.FailInfo.BAD_MESSAGE_CHECK, "the PKCS#10 signature does not verify")
    return ParsedRequest(csr, name, public_key)


def _spki(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


Needles = tuple[tuple[bytes, bytes, bytes], ...]
"""`name_needles`: per attribute value of a name, the bytes it is written as."""


def name_needles(name: x509.Name) -> Needles | None:
    """For each attribute value of `name`, the bytes that hold it in a certificate in any
    string type a name may use: ASCII text is the same bytes in PrintableString,
    UTF8String, IA5String, T61String, VisibleString and NumericString, UTF-16BE in a
    BMPString, UTF-32BE in a UniversalString. A certificate whose bytes hold none of the
    forms of one value cannot name `name` as its issuer (`is_renewal_signer`). None when
    a value is not ASCII text: the names are then compared as names."""
    forms = []
    for attribute in name:
        value = attribute.value
        if not isinstance(value, str) or not value.isascii():
            return None
        forms.append((value.encode(), value.encode("utf-16-be"), value.encode("utf-32-be")))
    return tuple(forms)


def is_renewal_signer(signer: x509.Certificate, ca_cert: x509.Certificate,
                      revoked: Container[int], now: datetime,
                      ca_subject: x509.Name | None = None,
                      ca_needles: Needles | None = None) -> bool:
    """Whether ``signer`` is a live certificate this CA issued (draft-nourse-11 App. G: a
    renewal "is signed with the old certificate"). `ca_subject`: `ca_cert.subject`, when
    the caller keeps it (cryptography builds a new Name at every read); `ca_needles`: its
    `name_needles`, which answer a new request's self-signed signer without building its
    issuer name (the bytes of one of the CA's values are missing from it)."""
    try:  # the signer came from the peer: its fields are read lazily and may be malformed
        if ca_needles:
            # The whole certificate's bytes, which the codec read it from (kept: the
            # TBS alone is written out again at each read): a value missing from them
            # is missing from the issuer name; one found elsewhere (in the key, the
            # signature) only sends the check on to the names.
            data = x509util.cert_der(signer)
            for ascii_form, bmp_form, universal_form in ca_needles:
                if ascii_form not in data and bmp_form not in data \
                        and universal_form not in data:
                    return False
        # The issuer first: a new request's self-signed signer fails here, and the CA's
        # key is not read for it.
        if signer.issuer != (ca_cert.subject if ca_subject is None else ca_subject) \
                or signer.serial_number in revoked:
            return False
        if not signer.not_valid_before_utc <= now <= signer.not_valid_after_utc:
            return False
    except LOAD_ERRORS:
        return False
    ca_key = ca_cert.public_key()
    if not isinstance(ca_key, rsa.RSAPublicKey):
        return False
    try:
        return x509util.verify_signature(signer, ca_key)
    except LOAD_ERRORS:
        return False


def check_signer_binding(signer: x509.Certificate, csr: x509.CertificateSigningRequest,
                         renewal: bool, csr_key: rsa.RSAPublicKey | None = None
                         ) -> Refusal | None:
    """A new request is signed with the key it asks a certificate for (RFC 8894 2.3).
    `csr_key`: `csr.public_key()`, when the caller has it (`ParsedRequest`)."""
    if renewal:
        return None
    if _spki(signer.public_key()) != _spki(csr.public_key() if csr_key is None else csr_key):
        return Refusal(scep.FailInfo.BAD_MESSAGE_CHECK,
                       "the pkiMessage is signed by a key other than the request's, and not "
                       "by a certificate this CA issued")
    return None


def check_poll(content: bytes, ca_cert: x509.Certificate,
               csr: x509.CertificateSigningRequest, ca_subject: x509.Name | None = None
               ) -> Refusal | None:
    """GetCertInitial's IssuerAndSubject names this CA and the transaction's subject.
    `ca_subject`: `ca_cert.subject`, when the caller keeps it."""
    try:
        issuer, subject = scep.parse_issuer_and_subject(content)
    except scep.ScepError as bad:
        return Refusal(bad.fail_info, bad.message)
    if issuer != (ca_cert.subject if ca_subject is None else ca_subject) \
            or subject != csr.subject:
        return Refusal(scep.FailInfo.BAD_CERT_ID,
                       "the poll's issuer and subject do not match the transaction")
    return None


def challenge_password(csr: x509.CertificateSigningRequest) -> str | None:
    """The request's challengePassword attribute (PKCS#9, RFC 2985 5.4.1), if it has one
    that reads as text: what a one-time enrollment password arrives in."""
    try:
        attribute = csr.attributes.get_attribute_for_oid(AttributeOID.CHALLENGE_PASSWORD)
    except (x509.AttributeNotFound, ValueError):
        return None
    try:
        return attribute.value.decode("utf-8")
    except UnicodeDecodeError:
        return None
