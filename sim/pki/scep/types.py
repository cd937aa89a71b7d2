"""SCEP message vocabulary: message types, statuses, failInfo codes, profiles, parsed messages.

Numbers and names follow RFC 8894 section 3.2.1.2-3.2.1.4 and the IANA SCEP registry; the
draft-nourse name (GetCertInitial) is used for type 20 because IOS 12.3 speaks that draft
(``CRYPTO_CS: scep msg type - 20`` in the seed transcript).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from cryptography import x509

from sim.pki.scep.algorithms import CIPHERS, DIGEST_OIDS

# Authenticated attribute OIDs (RFC 8894 section 3.2.1; RFC 5652 section 11).
CONTENT_TYPE = "1.2.840.113549.1.9.3"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
SIGNING_TIME = "1.2.840.113549.1.9.5"
MESSAGE_TYPE = "2.16.840.1.113733.1.9.2"
PKI_STATUS = "2.16.840.1.113733.1.9.3"
FAIL_INFO = "2.16.840.1.113733.1.9.4"
SENDER_NONCE = "2.16.840.1.113733.1.9.5"
RECIPIENT_NONCE = "2.16.840.1.113733.1.9.6"
TRANSACTION_ID = "2.16.840.1.113733.1.9.7"
FAIL_INFO_TEXT = "1.3.6.1.5.5.7.24.1"


class MessageType(IntEnum):
    """messageType attribute values (RFC 8894 section 3.2.1.2; draft-nourse section 3.1.2)."""

    CERT_REP = 3
    RENEWAL_REQ = 17
    PKCS_REQ = 19
    GET_CERT_INITIAL = 20  # RFC 8894 "CertPoll", same body (IssuerAndSubject)
    GET_CERT = 21
    GET_CRL = 22


class PkiStatus(IntEnum):
    """pkiStatus values: "0 SUCCESS, 2 FAILURE, 3 PENDING" (RFC 8894 section 3.2.1.3)."""

    SUCCESS = 0
    FAILURE = 2
    PENDING = 3


class FailInfo(IntEnum):
    """failInfo values (RFC 8894 section 3.2.1.4).

    badAlg "Unrecognized or unsupported algorithm"; badMessageCheck "Integrity check
    (meaning signature verification of the CMS message) failed"; badRequest "Transaction not
    permitted or supported"; badTime "The signingTime attribute from the CMS
    authenticatedAttributes was not sufficiently close to the system time"; badCertId "No
    certificate could be identified matching the provided criteria".
    """

    BAD_ALG = 0
    BAD_MESSAGE_CHECK = 1
    BAD_REQUEST = 2
    BAD_TIME = 3
    BAD_CERT_ID = 4


class ScepError(Exception):
    """A malformed or unacceptable SCEP message, with the failInfo a CA would answer with.

    The codec raises only this for bad input, so a caller needs one ``except`` clause; the
    service turns it into a CertRep FAILURE (or an HTTP 400 when not even the signer could be
    found).
    """

    def __init__(self, fail_info: FailInfo, message: str) -> None:
        super().__init__(message)
        self.fail_info = fail_info
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} (failInfo {self.fail_info.name})"


@dataclass(frozen=True)
class Profile:
    """The algorithms one side uses: envelope cipher, signing digest, PKIOperation method.

    ``post``: PKIOperation by HTTP POST with the binary DER body, else GET with base64 in
    ``message=`` (draft-nourse-06 knows only GET; RFC 8894 section 4.1 makes POST the norm).
    """

    name: str
    cipher: str
    digest: str
    post: bool

    def __post_init__(self) -> None:
        if self.cipher not in CIPHERS:
            raise ValueError(f"unknown cipher {self.cipher!r}; expected one of {sorted(CIPHERS)}")
        if self.digest not in DIGEST_OIDS:
            raise ValueError(
                f"unknown digest {self.digest!r}; expected one of {sorted(DIGEST_OIDS)}"
            )


IOS_12_3 = Profile("ios-12.3", "des", "md5", False)
"""Cisco IOS 12.3: DES-CBC envelope, MD5, GET (scep.md 1.10, smallstep/certificates#2100)."""
RFC_8894 = Profile("rfc8894", "aes128", "sha256", True)
"""RFC 8894 section 3.5.2: "AES-128 and SHA-256 ... MUST be supported"; POST."""


@dataclass(frozen=True)
class PkiMessage:
    """A parsed pkiMessage: the outer SignedData and its SCEP authenticated attributes.

    ``signature_valid`` is False when the RSA signature or the messageDigest does not check out;
    parsing never raises for that, so the caller decides (a CA answers badMessageCheck).
    ``enveloped`` is the eContent, i.e. the DER ContentInfo of the pkcsPKIEnvelope, or None
    when it is absent or empty (micromdm sends an empty one on FAILURE, pitfall P7).
    """

    message_type: MessageType
    transaction_id: str
    sender_nonce: bytes
    recipient_nonce: bytes | None
    pki_status: PkiStatus | None
    fail_info: FailInfo | None
    fail_info_text: str | None
    signer_cert: x509.Certificate
    certificates: tuple[x509.Certificate, ...]
    digest: str
    enveloped: bytes | None
    signature_valid: bool
    raw: bytes
    signing_time: datetime | None = None
