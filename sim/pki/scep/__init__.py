"""SCEP codec, sans-IO: pkiMessages, envelopes and message bodies <-> bytes.

RFC 8894 and draft-nourse-scep (the draft Cisco IOS 12.3 implements). No HTTP, no clock, no
global randomness: every random byte comes from a caller-supplied ``random_bytes(n)``, so the
same seed gives the same bytes. Layers (as micromdm/scep): this codec; the service (GetCACaps,
GetCACert, PKIOperation policy); the HTTP binding; the client.

Modules: ``types`` (enums, Profile, PkiMessage, ScepError), ``algorithms`` (OID tables),
``der`` (DER writer, lenient BER reader), ``envelope`` (EnvelopedData), ``bodies`` (degenerate
SignedData, IssuerAndSubject, IssuerAndSerialNumber), ``codec`` (pkiMessage), ``transport``
(caps, GET encodings, content types), ``csr`` (requester helpers).
"""

from sim.pki.scep.bodies import (
    degenerate_certs,
    issuer_and_serial,
    issuer_and_subject,
    name_from_der,
    parse_degenerate,
    parse_issuer_and_serial,
    parse_issuer_and_subject,
)
from sim.pki.scep.codec import build_pki_message, parse_pki_message
from sim.pki.scep.csr import csr_fingerprint, make_csr, self_signed_signer, transaction_id_for
from sim.pki.scep.envelope import decrypt_envelope, envelope_algorithm, recipient_named
from sim.pki.scep.transport import (
    CAPABILITIES,
    CONTENT_TYPES,
    caps_text,
    decode_get_message,
    encode_get_message,
    parse_caps,
    profile_from_caps,
)
from sim.pki.scep.types import (
    IOS_12_3,
    RFC_8894,
    FailInfo,
    MessageType,
    PkiMessage,
    PkiStatus,
    Profile,
    ScepError,
)

__all__ = [
    "CAPABILITIES",
    "CONTENT_TYPES",
    "IOS_12_3",
    "RFC_8894",
    "FailInfo",
    "MessageType",
    "PkiMessage",
    "PkiStatus",
    "Profile",
    "ScepError",
    "build_pki_message",
    "caps_text",
    "csr_fingerprint",
    "decode_get_message",
    "decrypt_envelope",
    "recipient_named",
    "degenerate_certs",
    "encode_get_message",
    "envelope_algorithm",
    "issuer_and_serial",
    "issuer_and_subject",
    "make_csr",
    "name_from_der",
    "parse_caps",
    "parse_degenerate",
    "parse_issuer_and_serial",
    "parse_issuer_and_subject",
    "parse_pki_message",
    "profile_from_caps",
    "self_signed_signer",
    "transaction_id_for",
]
