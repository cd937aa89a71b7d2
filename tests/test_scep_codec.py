"""SCEP codec: pkiMessages, envelopes and bodies round-trip, stay deterministic, reject garbage
with the right failInfo, and are read by openssl."""

from __future__ import annotations

import base64
import hashlib
import random
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from asn1crypto import csr as asn1_csr
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import Encoding

from sim.pki import scep, scep_forge
from sim.pki import x509util as xu
from sim.pki.keys import KeySource
from sim.pki.scep import der

T0 = datetime(2005, 1, 6, 21, 7, 52, tzinfo=UTC)
HAS_OPENSSL = shutil.which("openssl") is not None
needs_openssl = pytest.mark.skipif(not HAS_OPENSSL, reason="openssl command not installed")
CIPHERS = ("des", "des3", "aes128", "aes256")
DIGESTS = ("md5", "sha1", "sha256")
GARBAGE_FAIL_INFOS = {scep.FailInfo.BAD_MESSAGE_CHECK, scep.FailInfo.BAD_REQUEST}


def stream(seed: int) -> Callable[[int], bytes]:
    return random.Random(seed).randbytes


class Lab:
    """A root CA and a requester (a sub-CS) with its CSR and self-signed signer."""

    def __init__(self) -> None:
        keys = KeySource(8894)
        self.ca_key = keys.get("root/keys/root#0", 1024)
        self.ca = xu.make_ca_certificate(
            self.ca_key, xu.parse_dn("CN=root, O=lab"), 1, T0, T0 + timedelta(days=1095), "md5"
        )
        self.key = keys.get("sub/keys/sub#0", 1024)
        self.other_key = keys.get("r2/keys/r2#0", 1024)
        self.subject = xu.parse_dn("CN=sub, hostname=sub.lab")
        self.tid = scep.transaction_id_for(self.key.public_key())
        self.signer = scep.self_signed_signer(
            self.key, self.subject, self.tid, T0 - timedelta(minutes=5), T0 + timedelta(days=1)
        )
        self.csr = scep.make_csr(
            self.key, self.subject, challenge_password="cisco123", ca=True, hash_name="md5"
        )
        self.csr_der = self.csr.public_bytes(Encoding.DER)
        self.issued = xu.issue_certificate(
            self.ca_key,
            self.ca,
            self.key.public_key(),
            self.subject,
            2,
            T0,
            T0 + timedelta(days=365),
            ca=True,
            hash_name="md5",
        )

    def request(
        self,
        message_type: scep.MessageType = scep.MessageType.PKCS_REQ,
        content: bytes | None = None,
        profile: scep.Profile = scep.IOS_12_3,
        seed: int = 1,
        **kwargs: object,
    ) -> bytes:
        return scep.build_pki_message(
            message_type=message_type,
            transaction_id=self.tid,
            signer_cert=self.signer,
            signer_key=self.key,
            profile=profile,
            random_bytes=stream(seed),
            recipients=[self.ca],
            content=self.csr_der if content is None else content,
            signing_time=T0,
            **kwargs,  # type: ignore[arg-type]
        )

    def reply(
        self,
        request: scep.PkiMessage,
        status: scep.PkiStatus,
        content: bytes | None = None,
        profile: scep.Profile = scep.IOS_12_3,
        **kwargs: object,
    ) -> bytes:
        return scep.build_pki_message(
            message_type=scep.MessageType.CERT_REP,
            transaction_id=request.transaction_id,
            signer_cert=self.ca,
            signer_key=self.ca_key,
            profile=profile,
            random_bytes=stream(2),
            recipients=[request.signer_cert],
            content=content,
            pki_status=status,
            recipient_nonce=request.sender_nonce,
            signing_time=T0,
            **kwargs,  # type: ignore[arg-type]
        )


@pytest.fixture(scope="module")
def lab() -> Lab:
    return Lab()


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1 and len(old) == len(new)
    return data.replace(old, new)


def _signed_data(msg: bytes) -> list[der.Tlv]:
    return der.read(der.read(msg).children()[1].contents).children()


def _reassemble(fields: list[der.Tlv | bytes]) -> bytes:
    parts = [f if isinstance(f, bytes) else f.encoded for f in fields]
    signed = der.seq(*parts)
    return der.seq(der.oid("1.2.840.113549.1.7.2"), der.context(0, signed))


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize(
    "profile",
    [scep.IOS_12_3, scep.RFC_8894]
    + [scep.Profile(f"{c}-{d}", c, d, False) for c in CIPHERS for d in DIGESTS],
    ids=lambda p: p.name,
)
def test_pkcs_req_round_trip(lab: Lab, profile: scep.Profile) -> None:
    """A router's PKCSReq under some cipher and digest would not decrypt to its CSR at the CA, or
    would lose its transaction ID, nonce or signature."""
    msg = scep.parse_pki_message(lab.request(profile=profile))
    assert msg.message_type is scep.MessageType.PKCS_REQ
    assert msg.transaction_id == lab.tid
    assert len(msg.sender_nonce) == 16
    assert msg.recipient_nonce is None and msg.pki_status is None and msg.fail_info is None
    assert msg.signature_valid
    assert msg.digest == profile.digest
    assert msg.signer_cert == lab.signer
    assert msg.certificates == (lab.signer,)
    assert msg.signing_time == T0
    assert msg.enveloped is not None
    assert scep.envelope_algorithm(msg.enveloped) == profile.cipher
    assert scep.decrypt_envelope(msg.enveloped, lab.ca, lab.ca_key) == lab.csr_der


def test_get_cert_initial_carries_issuer_and_subject(lab: Lab) -> None:
    """A pending router's poll (GetCertInitial) would name the wrong issuer or subject, so the CA
    could not match it to its request."""
    body = scep.issuer_and_subject(lab.ca.subject, lab.subject)
    msg = scep.parse_pki_message(lab.request(scep.MessageType.GET_CERT_INITIAL, body))
    assert msg.message_type is scep.MessageType.GET_CERT_INITIAL and msg.signature_valid
    assert msg.enveloped is not None
    issuer, subject = scep.parse_issuer_and_subject(
        scep.decrypt_envelope(msg.enveloped, lab.ca, lab.ca_key)
    )
    assert (issuer, subject) == (lab.ca.subject, lab.subject)
    assert subject.public_bytes() == lab.subject.public_bytes()  # string types kept


@pytest.mark.parametrize("kind", [scep.MessageType.GET_CERT, scep.MessageType.GET_CRL])
def test_get_cert_and_get_crl_carry_issuer_and_serial(lab: Lab, kind: scep.MessageType) -> None:
    """GetCert and GetCRL messages would carry the wrong issuer or serial, so a client would get the
    wrong certificate or CRL, or none."""
    body = scep.issuer_and_serial(lab.ca.subject, 0x1234567890ABCDEF)
    msg = scep.parse_pki_message(lab.request(kind, body, scep.RFC_8894))
    assert msg.message_type is kind and msg.signature_valid
    assert msg.enveloped is not None
    plain = scep.decrypt_envelope(msg.enveloped, lab.ca, lab.ca_key)
    assert scep.parse_issuer_and_serial(plain) == (lab.ca.subject, 0x1234567890ABCDEF)


@pytest.mark.parametrize("profile", [scep.IOS_12_3, scep.RFC_8894], ids=lambda p: p.name)
def test_cert_rep_success_delivers_issued_cert_first(lab: Lab, profile: scep.Profile) -> None:
    """A granted client would not find its own certificate first in the CA's reply (SCEP clients
    take the first), or the nonces would be wrong."""
    request = scep.parse_pki_message(lab.request(profile=profile))
    body = scep.degenerate_certs([lab.issued, lab.ca])
    raw = lab.reply(
        request, scep.PkiStatus.SUCCESS, body, profile, extra_certs=[lab.issued, lab.ca]
    )
    reply = scep.parse_pki_message(raw)
    assert reply.message_type is scep.MessageType.CERT_REP
    assert reply.pki_status is scep.PkiStatus.SUCCESS and reply.fail_info is None
    assert reply.recipient_nonce == request.sender_nonce
    assert reply.sender_nonce != request.sender_nonce  # a fresh one (RFC 8894 3.2.1.5)
    assert reply.transaction_id == lab.tid and reply.signature_valid
    assert reply.signer_cert == lab.ca
    assert reply.certificates == (lab.issued, lab.ca)  # outer order kept too
    assert reply.enveloped is not None
    plain = scep.decrypt_envelope(reply.enveloped, lab.signer, lab.key)
    certs, crls = scep.parse_degenerate(plain)
    assert certs == [lab.issued, lab.ca] and crls == []


def test_degenerate_keeps_order_that_der_sorting_would_change(lab: Lab) -> None:
    """Certificates in a SCEP reply would be reordered, so a client taking the first one would store
    the CA certificate as its own."""
    crl = xu.make_crl(lab.ca_key, lab.ca, T0, T0 + timedelta(days=7), [(5, T0)], "md5")
    for order in ([lab.issued, lab.ca], [lab.ca, lab.issued]):
        certs, crls = scep.parse_degenerate(scep.degenerate_certs(order, [crl]))
        assert certs == order and crls == [crl]


@pytest.mark.parametrize(
    ("status", "fail_info", "text"),
    [
        (scep.PkiStatus.PENDING, None, None),
        (scep.PkiStatus.FAILURE, scep.FailInfo.BAD_REQUEST, "challenge password wrong: é"),
        (scep.PkiStatus.FAILURE, scep.FailInfo.BAD_TIME, None),
    ],
)
def test_cert_rep_pending_and_failure_have_no_envelope_but_an_empty_econtent(
    lab: Lab, status: scep.PkiStatus, fail_info: scep.FailInfo | None, text: str | None
) -> None:
    """PENDING and FAILURE replies would lack the failInfo, text or empty content that real SCEP
    clients and OpenSSL expect."""
    request = scep.parse_pki_message(lab.request())
    raw = lab.reply(request, status, fail_info=fail_info, fail_info_text=text)
    reply = scep.parse_pki_message(raw)
    assert reply.pki_status is status and reply.fail_info is fail_info
    assert reply.fail_info_text == text
    assert reply.recipient_nonce == request.sender_nonce
    assert reply.enveloped is None and reply.signature_valid
    # As micromdm sends it (P7): eContent [0] { OCTET STRING "" }, digest of "".
    encap = _signed_data(raw)[2].children()
    assert encap[1].encoded == b"\xa0\x02\x04\x00"


def test_builder_refuses_what_scep_forbids(lab: Lab) -> None:
    """The CA or a router could send malformed SCEP (content in a PENDING reply, FAILURE without
    failInfo, non-printable transaction ID)."""
    request = scep.parse_pki_message(lab.request())
    with pytest.raises(ValueError, match="no envelope"):
        lab.reply(request, scep.PkiStatus.PENDING, b"x")
    with pytest.raises(ValueError, match="failInfo"):
        lab.reply(request, scep.PkiStatus.FAILURE)
    with pytest.raises(ValueError, match="CertRep"):
        lab.request(pki_status=scep.PkiStatus.SUCCESS)
    with pytest.raises(ValueError, match="PrintableString"):
        scep.build_pki_message(
            message_type=scep.MessageType.PKCS_REQ,
            transaction_id="tid\u00e9",
            signer_cert=lab.signer,
            signer_key=lab.key,
            profile=scep.IOS_12_3,
            random_bytes=stream(1),
        )


# --------------------------------------------------------------------------- determinism


def test_same_random_stream_gives_identical_bytes(lab: Lab) -> None:
    """A scenario rerun with the same seed would send different SCEP bytes, breaking golden
    transcripts and reproducible runs."""
    for profile in (scep.IOS_12_3, scep.RFC_8894):
        assert lab.request(profile=profile, seed=5) == lab.request(profile=profile, seed=5)
        assert lab.request(profile=profile, seed=5) != lab.request(profile=profile, seed=6)
    request = scep.parse_pki_message(lab.request())
    body = scep.degenerate_certs([lab.issued, lab.ca])
    first = lab.reply(request, scep.PkiStatus.SUCCESS, body)
    assert first == lab.reply(request, scep.PkiStatus.SUCCESS, body)


def test_explicit_short_nonce_is_kept(lab: Lab) -> None:
    """A client sending an 8-byte nonce, as some real clients do, would have its nonce changed or
    its signature fail."""
    msg = scep.parse_pki_message(lab.request(sender_nonce=b"12345678"))  # P10: 8 bytes
    assert msg.sender_nonce == b"12345678" and msg.signature_valid


# --------------------------------------------------------------------------- negative cases


def test_flipped_signature_byte_is_reported_not_raised(lab: Lab) -> None:
    """A SCEP message with a bad signature would crash the CA instead of being read and answered as
    a signature failure."""
    raw = bytearray(lab.request())
    raw[-1] ^= 0x01  # the signature is the last field of the last SignerInfo
    msg = scep.parse_pki_message(bytes(raw))
    assert msg.signature_valid is False
    assert msg.message_type is scep.MessageType.PKCS_REQ


def test_tampered_envelope_breaks_message_digest(lab: Lab) -> None:
    """A SCEP message whose encrypted content was altered in transit would still pass as correctly
    signed."""
    raw = lab.request()
    msg = scep.parse_pki_message(raw)
    assert msg.enveloped is not None
    tail = msg.enveloped[-8:]
    tampered = scep.parse_pki_message(_replace_once(raw, tail, bytes(b ^ 0xFF for b in tail)))
    assert tampered.signature_valid is False


def test_wrong_recipient_is_bad_message_check(lab: Lab) -> None:
    """A request encrypted for another certificate or key would not be refused with failInfo
    badMessageCheck."""
    msg = scep.parse_pki_message(lab.request())
    assert msg.enveloped is not None
    with pytest.raises(scep.ScepError) as err:
        scep.decrypt_envelope(msg.enveloped, lab.signer, lab.key)
    assert err.value.fail_info is scep.FailInfo.BAD_MESSAGE_CHECK
    # Right certificate, wrong private key: OpenSSL's implicit rejection returns a fake key,
    # which the length and padding checks still catch.
    with pytest.raises(scep.ScepError) as err:
        scep.decrypt_envelope(msg.enveloped, lab.ca, lab.other_key)
    assert err.value.fail_info is scep.FailInfo.BAD_MESSAGE_CHECK


def test_unknown_message_type_is_bad_request(lab: Lab) -> None:
    """A SCEP message of an unknown type would not be refused with failInfo badRequest naming the
    type."""
    raw = _replace_once(lab.request(), b"\x13\x0219", b"\x13\x0299")
    with pytest.raises(scep.ScepError) as err:
        scep.parse_pki_message(raw)
    assert err.value.fail_info is scep.FailInfo.BAD_REQUEST
    assert "99" in str(err.value)


def test_missing_transaction_id_is_bad_request(lab: Lab) -> None:
    """A SCEP message without a transaction ID would not be refused with failInfo badRequest."""
    tid_oid = der.oid("2.16.840.1.113733.1.9.7")
    raw = _replace_once(lab.request(), tid_oid, tid_oid[:-1] + b"\x63")  # now ...1.9.99
    with pytest.raises(scep.ScepError) as err:
        scep.parse_pki_message(raw)
    assert err.value.fail_info is scep.FailInfo.BAD_REQUEST


@pytest.mark.parametrize("value", [b"\x13\x04AB\x7fC", b"\x16\x03a_b", b"\x0c\x02\xc3\xa9"],
                         ids=["DEL", "underscore", "e-acute"])
def test_transaction_id_outside_printable_string_is_bad_request(lab: Lab, value: bytes) -> None:
    """Any string type is read (P10), but a reply must echo it as a PrintableString."""
    attributes = scep_forge.request_attributes(19, value, b"n" * 16, T0)
    raw = scep_forge.signed_message(lab.signer, lab.key, "md5", None, attributes)
    with pytest.raises(scep.ScepError) as err:
        scep.parse_pki_message(raw)
    assert err.value.fail_info is scep.FailInfo.BAD_REQUEST
    assert "is not a PrintableString" in str(err.value)
    fine = scep_forge.request_attributes(19, der.utf8_string("UTF8 id"), b"n" * 16, T0)
    assert scep.parse_pki_message(
        scep_forge.signed_message(lab.signer, lab.key, "md5", None, fine)
    ).transaction_id == "UTF8 id"


def test_unknown_cipher_is_bad_alg(lab: Lab) -> None:
    """A request encrypted with an unsupported cipher would not be refused with failInfo badAlg."""
    msg = scep.parse_pki_message(lab.request(profile=scep.RFC_8894))
    assert msg.enveloped is not None
    aes = der.oid("2.16.840.1.101.3.4.1.2")
    envelope = _replace_once(msg.enveloped, aes, aes[:-1] + b"\x05")  # aes128-wrap
    for call in (
        lambda: scep.envelope_algorithm(envelope),
        lambda: scep.decrypt_envelope(envelope, lab.ca, lab.ca_key),
    ):
        with pytest.raises(scep.ScepError) as err:
            call()
        assert err.value.fail_info is scep.FailInfo.BAD_ALG


@pytest.mark.parametrize("data", [b"", b"hello", b"\x30\x03\x02\x01", b"\x30\x80", b"\xff" * 40])
def test_garbage_is_a_scep_error(data: bytes) -> None:
    """Garbage sent as a SCEP message would crash the CA instead of being refused as badRequest or
    badMessageCheck."""
    with pytest.raises(scep.ScepError) as err:
        scep.parse_pki_message(data)
    assert err.value.fail_info in GARBAGE_FAIL_INFOS


def test_truncations_are_scep_errors(lab: Lab) -> None:
    """A truncated SCEP message (a cut connection) would crash the CA instead of being refused with
    a SCEP failure."""
    raw = lab.request()
    for cut in range(0, len(raw), 7):
        with pytest.raises(scep.ScepError) as err:
            scep.parse_pki_message(raw[:cut])
        assert err.value.fail_info in GARBAGE_FAIL_INFOS


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    i = rng.randrange(len(buf))
    match rng.randrange(6):
        case 0:
            buf[i] ^= 1 << rng.randrange(8)
        case 1:
            buf[i] = rng.randrange(256)
        case 2:
            del buf[i : i + rng.randrange(1, 40)]
        case 3:
            buf[i:i] = rng.randbytes(rng.randrange(1, 8))
        case 4:
            j = rng.randrange(len(buf))
            buf[i:i] = buf[j : j + rng.randrange(1, 64)]
        case _:
            buf[i] = rng.choice([0x00, 0x80, 0x81, 0x82, 0x84, 0xFF, 0x30, 0xA0, 0x24])
    return bytes(buf)


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
def test_fuzzed_messages_raise_only_scep_error(lab: Lab) -> None:
    """A corrupted SCEP request or reply would crash the CA or the router with an unexpected error
    instead of a SCEP failure."""
    rng = random.Random(20050106)
    request = lab.request()
    reply = lab.reply(
        scep.parse_pki_message(request),
        scep.PkiStatus.SUCCESS,
        scep.degenerate_certs([lab.issued, lab.ca]),
    )
    outcomes = {"parsed": 0, "rejected": 0}
    for n in range(400):
        mutated = _mutate(rng, request if n % 2 else reply)
        try:
            msg = scep.parse_pki_message(mutated)
            outcomes["parsed"] += 1
            if msg.enveloped is not None:
                cert, key = (lab.ca, lab.ca_key) if n % 2 else (lab.signer, lab.key)
                plain = scep.decrypt_envelope(msg.enveloped, cert, key)
                if not n % 2:
                    scep.parse_degenerate(plain)
        except scep.ScepError:
            outcomes["rejected"] += 1
    assert outcomes["rejected"] > 100 and outcomes["parsed"] > 10


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
def test_fuzzed_bodies_raise_only_scep_error(lab: Lab) -> None:
    """A corrupted GetCertInitial, GetCert/GetCRL or certificate-list body would crash instead of
    being refused as badRequest."""
    rng = random.Random(7)
    bodies: list[tuple[bytes, Callable[[bytes], object]]] = [
        (scep.issuer_and_subject(lab.ca.subject, lab.subject), scep.parse_issuer_and_subject),
        (scep.issuer_and_serial(lab.ca.subject, 77), scep.parse_issuer_and_serial),
        (scep.degenerate_certs([lab.issued, lab.ca]), scep.parse_degenerate),
    ]
    for n in range(300):
        body, parse = bodies[n % 3]
        try:
            parse(_mutate(rng, body))
        except scep.ScepError as exc:
            assert exc.fail_info is scep.FailInfo.BAD_REQUEST


# --------------------------------------------------------------------------- lenient parsing


def test_indefinite_length_outer_encoding_is_accepted(lab: Lab) -> None:
    """A real SCEP client sending BER indefinite-length encoding would be refused by the CA."""
    inner = der.read(lab.request())
    ber = b"\x30\x80" + inner.contents + b"\x00\x00"
    msg = scep.parse_pki_message(ber)
    assert msg.signature_valid and msg.raw == ber


def test_empty_econtent_counts_as_absent(lab: Lab) -> None:
    """A PENDING or FAILURE reply in micromdm's form (empty content) would be misread as carrying an
    envelope."""
    request = scep.parse_pki_message(lab.request())
    fields: list[der.Tlv | bytes] = list(_signed_data(lab.reply(request, scep.PkiStatus.PENDING)))
    fields[2] = der.seq(der.oid("1.2.840.113549.1.7.1"), der.context(0, der.octet_string(b"")))
    msg = scep.parse_pki_message(_reassemble(fields))  # micromdm's FAILURE/PENDING form (P7)
    assert msg.enveloped is None and msg.signature_valid


def test_hostile_string_nesting_is_rejected_not_a_crash(lab: Lab) -> None:
    """A SCEP message with deeply nested strings would crash the CA (stack overflow) instead of
    being refused."""
    fields: list[der.Tlv | bytes] = list(_signed_data(lab.request()))
    nested = b"\x04\x00"
    for _ in range(3000):  # deeper than Python's stack would survive
        nested = der.tlv(0x24, nested)
    fields[2] = der.seq(der.oid("1.2.840.113549.1.7.1"), der.context(0, nested))
    with pytest.raises(scep.ScepError) as err:
        scep.parse_pki_message(_reassemble(fields))
    assert err.value.fail_info is scep.FailInfo.BAD_MESSAGE_CHECK


def test_signature_over_canonical_attributes_is_accepted_out_of_order(lab: Lab) -> None:
    """A client whose signed attributes arrive unsorted would have its valid signature rejected by
    the CA."""
    fields: list[der.Tlv | bytes] = list(_signed_data(lab.request()))
    signer_info = fields[-1].children()[0]  # type: ignore[union-attr]
    parts = signer_info.children()
    attrs = parts[3].children()
    parts_bytes = [p.encoded for p in parts]
    parts_bytes[3] = der.context(0, b"".join(a.encoded for a in reversed(attrs)))
    fields[-1] = der.set_of([der.seq(*parts_bytes)])
    msg = scep.parse_pki_message(_reassemble(fields))  # P2: verify after DER re-sorting
    assert msg.signature_valid


def test_constructed_encrypted_content_is_decrypted(lab: Lab) -> None:
    """A Go-based SCEP client (micromdm) sending its encrypted content in chunks would not have its
    request decrypted."""
    msg = scep.parse_pki_message(lab.request(profile=scep.RFC_8894))
    assert msg.enveloped is not None
    top = der.read(msg.enveloped).children()
    env = der.read(top[1].contents).children()
    eci = env[2].children()
    data = der.octets(eci[2])
    chunks = der.octet_string(data[:10]) + der.octet_string(data[10:])
    eci_bytes = der.seq(eci[0].encoded, eci[1].encoded, der.context(0, chunks))  # Go's form, P6
    env_bytes = der.seq(env[0].encoded, env[1].encoded, eci_bytes)
    go_style = der.seq(top[0].encoded, der.context(0, env_bytes))
    assert scep.decrypt_envelope(go_style, lab.ca, lab.ca_key) == lab.csr_der


# --------------------------------------------------------------------------- openssl interop


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, env=env)


@needs_openssl
def test_openssl_parses_every_message_type(lab: Lab, tmp_path: Path) -> None:
    """`openssl cms` could not read some SCEP message pkilab sends, or would list a reply's
    certificates in the wrong order."""
    request = scep.parse_pki_message(lab.request())
    degenerate = scep.degenerate_certs([lab.issued, lab.ca])
    messages = {
        "pkcsreq": lab.request(),
        "getcertinitial": lab.request(
            scep.MessageType.GET_CERT_INITIAL, scep.issuer_and_subject(lab.ca.subject, lab.subject)
        ),
        "getcert": lab.request(
            scep.MessageType.GET_CERT, scep.issuer_and_serial(lab.ca.subject, 2)
        ),
        "getcrl": lab.request(scep.MessageType.GET_CRL, scep.issuer_and_serial(lab.ca.subject, 2)),
        "success": lab.reply(request, scep.PkiStatus.SUCCESS, degenerate),
        "pending": lab.reply(request, scep.PkiStatus.PENDING),
        "failure": lab.reply(
            request,
            scep.PkiStatus.FAILURE,
            fail_info=scep.FailInfo.BAD_REQUEST,
            fail_info_text="denied",
        ),
        "degenerate": degenerate,
    }
    for name, raw in messages.items():
        path = tmp_path / f"{name}.der"
        path.write_bytes(raw)
        result = _run(["cms", "-inform", "DER", "-cmsout", "-print", "-in", str(path)])
        assert result.returncode == 0, (name, result.stderr)
        assert "pkcs7-signedData" in result.stdout
        if name != "degenerate":
            assert "2.16.840.1.113733.1.9.7" in result.stdout  # transactionID attribute
    certs = _run(
        ["pkcs7", "-inform", "DER", "-print_certs", "-in", str(tmp_path / "degenerate.der")]
    )
    assert certs.stdout.index("subject=") < certs.stdout.index("subject=O = lab, CN = root")


@needs_openssl
@pytest.mark.parametrize("profile", [scep.RFC_8894, scep.IOS_12_3], ids=lambda p: p.name)
def test_openssl_verifies_signature(lab: Lab, profile: scep.Profile, tmp_path: Path) -> None:
    """`openssl cms -verify` would reject the signature on a SCEP request pkilab sends."""
    path = tmp_path / "req.der"
    path.write_bytes(lab.request(profile=profile))
    result = _run(
        ["cms", "-verify", "-inform", "DER", "-noverify", "-in", str(path), "-out", "/dev/null"]
    )
    assert "Verification successful" in result.stderr, result.stderr


@needs_openssl
@pytest.mark.parametrize("status", [scep.PkiStatus.PENDING, scep.PkiStatus.FAILURE],
                         ids=lambda s: s.name)
def test_openssl_verifies_replies_without_envelope(
    lab: Lab, status: scep.PkiStatus, tmp_path: Path
) -> None:
    """Without eContent OpenSSL says "no content" (issue 8): the empty one fixes that."""
    request = scep.parse_pki_message(lab.request())
    fail_info = scep.FailInfo.BAD_REQUEST if status is scep.PkiStatus.FAILURE else None
    path = tmp_path / "reply.der"
    path.write_bytes(lab.reply(request, status, fail_info=fail_info))
    result = _run(
        ["cms", "-verify", "-inform", "DER", "-noverify", "-in", str(path), "-out", "/dev/null"]
    )
    assert "Verification successful" in result.stderr, result.stderr


LEGACY_CONF = """openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
"""


@needs_openssl
@pytest.mark.parametrize("cipher", CIPHERS)
def test_openssl_decrypts_envelope(lab: Lab, cipher: str, tmp_path: Path) -> None:
    """`openssl cms -decrypt` could not open a pkilab request's envelope with some cipher, so real
    CAs could not read it."""
    profile = scep.Profile(cipher, cipher, "sha256", True)
    msg = scep.parse_pki_message(lab.request(profile=profile))
    assert msg.enveloped is not None
    (tmp_path / "env.der").write_bytes(msg.enveloped)
    (tmp_path / "ca.pem").write_bytes(xu.cert_pem(lab.ca))
    (tmp_path / "ca.key").write_bytes(xu.key_pem(lab.ca_key))
    env = None
    if cipher == "des":  # single DES lives in OpenSSL 3's legacy provider (P11)
        (tmp_path / "legacy.cnf").write_text(LEGACY_CONF)
        env = {"OPENSSL_CONF": str(tmp_path / "legacy.cnf"), "PATH": "/usr/bin:/bin"}
    result = _run(
        [
            "cms",
            "-decrypt",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "env.der"),
            "-recip",
            str(tmp_path / "ca.pem"),
            "-inkey",
            str(tmp_path / "ca.key"),
            "-out",
            str(tmp_path / "csr.der"),
        ],
        env,
    )
    if cipher == "des" and result.returncode != 0:
        pytest.skip(f"openssl cannot load the legacy provider: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "csr.der").read_bytes() == lab.csr_der


# --------------------------------------------------------------------------- transport


def test_ios_get_encoding_has_line_breaks_and_decodes(lab: Lab) -> None:
    """A SCEP GET from a simulated router would not look like IOS's (64-column base64 with line
    breaks), or would not decode back."""
    raw = lab.request()
    value = scep.encode_get_message(raw, "ios")
    assert "%0A" in value and "+" not in value and "/" not in value
    assert all(len(line) <= 64 for line in unquote(value).splitlines())
    assert scep.decode_get_message(unquote(value)) == raw
    rfc = scep.encode_get_message(raw, "rfc")
    assert "%0A" not in rfc and scep.decode_get_message(unquote(rfc)) == raw


def test_get_decoder_tolerates_real_world_variants(lab: Lab) -> None:
    """The CA would refuse GETs from real clients that send URL-safe base64, spaces for `+`, no
    padding, or line breaks."""
    raw = lab.request()
    standard = base64.b64encode(raw).decode()
    assert "+" in standard or "/" in standard
    variants = [
        base64.urlsafe_b64encode(raw).decode(),  # micromdm scepclient 2.1.0
        standard.replace("+", " "),  # macOS: raw '+' became a space
        standard.rstrip("="),  # padding lost
        "\r\n".join(standard[i : i + 64] for i in range(0, len(standard), 64)),
    ]
    for value in variants:
        assert scep.decode_get_message(value) == raw
    with pytest.raises(scep.ScepError) as err:
        scep.decode_get_message("not*base64!")
    assert err.value.fail_info is scep.FailInfo.BAD_REQUEST


def test_caps_parsing_and_profile_choice() -> None:
    """A router would pick the wrong cipher, digest or GET/POST from a CA's GetCACaps answer, or use
    wrong content types."""
    micromdm = "Renewal\nSHA-1\nSHA-256\nAES\nDES3\nSCEPStandard\nPOSTPKIOperation"
    caps = scep.parse_caps(micromdm)
    assert caps == frozenset(micromdm.split("\n"))
    assert scep.parse_caps("aes\r\n\r\n sha-256 \r\nFancyNewThing\n") == {"AES", "SHA-256"}
    assert scep.caps_text(caps) == scep.caps_text(set(caps))  # canonical order for sets
    assert scep.caps_text(["SHA-1", "AES"]) == "SHA-1\nAES"
    assert scep.profile_from_caps(frozenset()) == scep.IOS_12_3
    chosen = scep.profile_from_caps(caps)
    assert (chosen.cipher, chosen.digest, chosen.post) == ("aes128", "sha256", True)
    for text, expected in [
        ("SHA-1\nDES3", ("des3", "sha1", False)),
        ("SCEPStandard", ("aes128", "sha256", True)),
        ("SHA-512\nSHA-256\nPOSTPKIOperation", ("des", "sha512", True)),
        ("Renewal", ("des", "md5", False)),
    ]:
        profile = scep.profile_from_caps(scep.parse_caps(text))
        assert (profile.cipher, profile.digest, profile.post) == expected
    assert scep.CONTENT_TYPES["pki"] == "application/x-pki-message"
    assert scep.CONTENT_TYPES["ca_ra"] == "application/x-x509-ca-ra-cert"


# --------------------------------------------------------------------------- requester helpers


def test_transaction_id_is_md5_of_spki_in_upper_hex(lab: Lab) -> None:
    """A router's SCEP transaction ID would not be the upper-hex MD5 of its public key, as IOS sends
    it."""
    spki = lab.key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert lab.tid == hashlib.md5(spki).hexdigest().upper()
    assert len(lab.tid) == 32 and lab.tid == lab.tid.upper()
    assert scep.transaction_id_for(lab.other_key.public_key()) != lab.tid


def test_self_signed_signer_follows_the_draft(lab: Lab) -> None:
    """The self-signed certificate a router signs its request with would have the wrong subject,
    serial, key usage or hash."""
    assert lab.signer.issuer == lab.signer.subject == lab.subject
    assert lab.signer.serial_number == int(lab.tid, 16)
    usage = lab.signer.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment
    md5_signer = scep.self_signed_signer(
        lab.key,
        lab.subject,
        "hoizlWXwsk7TaSkobQzyLbW4bvM=",
        T0,
        T0 + timedelta(hours=1),
        hash_name="md5",
    )
    assert isinstance(md5_signer.signature_hash_algorithm, hashes.MD5)
    assert xu.verify_signature(md5_signer, lab.key.public_key())
    assert 0 < md5_signer.serial_number < 1 << 128


def test_ca_request_asks_for_basic_constraints(lab: Lab) -> None:
    """A sub-CA's request would not ask for CA:true, or a router's would lack its key usage, so the
    wrong kind of certificate is issued."""
    constraints = lab.csr.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is True
    router = scep.make_csr(lab.other_key, xu.parse_dn("CN=r2"))
    usage = router.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment
    with pytest.raises(x509.ExtensionNotFound):
        router.extensions.get_extension_for_class(x509.BasicConstraints)
    assert router.is_signature_valid


def test_challenge_password_is_printable_string(lab: Lab) -> None:
    """The challenge password in a request would not be a PrintableString as IOS sends it, so a CA
    might not read it."""
    parsed = asn1_csr.CertificationRequest.load(lab.csr_der)
    attributes = parsed["certification_request_info"]["attributes"]
    challenge = [a for a in attributes if a["type"].native == "challenge_password"][0]
    value = challenge["values"][0]
    assert value.chosen.tag == 19 and value.native == "cisco123"  # PrintableString


@pytest.mark.parametrize("hash_name", ["md5", "sha1"])
def test_legacy_hash_csr_verifies(lab: Lab, hash_name: str) -> None:
    """A request signed with MD5 or SHA-1 (legacy `hash` settings) would not verify, or would carry
    a changed subject."""
    csr = scep.make_csr(lab.key, lab.subject, challenge_password="pw", hash_name=hash_name)
    assert csr.signature_hash_algorithm is not None
    assert csr.signature_hash_algorithm.name == hash_name
    assert xu.verify_signature(csr, lab.key.public_key())
    assert csr.subject == lab.subject


def test_csr_fingerprint_uses_ios_grouping(lab: Lab) -> None:
    """`Certificate Request Fingerprint MD5:` would not print in IOS's four groups of eight hex
    digits."""
    fingerprint = scep.csr_fingerprint(lab.csr_der, "md5")
    assert fingerprint == xu.fingerprint(lab.csr_der, "md5")
    assert [len(group) for group in fingerprint.split(" ")] == [8, 8, 8, 8]
