"""The certificate server's SCEP service: answers, request handling and failure replies."""

from __future__ import annotations

import random
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from sim.pki import scep, scep_forge, x509util
from sim.pki.ca_requests import RequestKind, RequestState
from sim.pki.cs_server import CertificateServer, CsConfig
from sim.pki.keys import KeySource
from sim.pki.scep import der
from sim.pki.scep.algorithms import CIPHERS
from sim.pki.scep.envelope import build_envelope
from sim.pki.scep_client import Enrollment
from sim.pki.scep_service import ScepService

NOW = datetime(2005, 1, 6, 21, 0, tzinfo=UTC)
KEYS = KeySource(9)


def rng_bytes(seed: int = 1):
    rng = random.Random(seed)
    return rng.randbytes


def make_ca(grant: str = "manual", hash_name: str = "sha256"):
    key = KEYS.get("ca", 1024)
    cs = CertificateServer(CsConfig("ca", grant=grant, hash=hash_name))
    cs.ca_cert = x509util.make_ca_certificate(key, x509util.parse_dn("CN=ca"), 1, NOW,
                                              NOW + timedelta(days=1095), hash_name)
    cs.last_serial = 1
    return cs, key, ScepService(cs)


def client(cs, *, ca_request: bool = False, label: str = "r2", profile=scep.RFC_8894):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, label)])
    return Enrollment("tp", KEYS.get(label, 1024), subject, cs.ca_cert, profile, rng_bytes(7),
                      NOW, ca_request=ca_request)


def answer(service, key, der, seed=3):
    reply, effects = service.pki_operation(der, NOW, key, rng_bytes(seed))
    assert reply.status == 200 and reply.content_type == "application/x-pki-message"
    return reply, effects, scep.parse_pki_message(reply.body)


@pytest.mark.parametrize("profile", [scep.RFC_8894, scep.IOS_12_3],
                         ids=["rfc8894", "ios-12.3"])
def test_router_request_pending_then_granted_by_hand(profile) -> None:
    """A router's SCEP request would not wait PENDING until granted by hand, or its later poll would
    not get a valid certificate."""
    cs, key, service = make_ca()
    enrollment = client(cs, profile=profile)
    reply, effects, message = answer(service, key, enrollment.pkcs_req(NOW))
    assert message.pki_status is scep.PkiStatus.PENDING
    assert message.recipient_nonce is not None
    entry = cs.requests.get(1)
    assert entry.kind is RequestKind.ROUTER and entry.state is RequestState.PENDING
    debug = [e.text for e in effects if hasattr(e, "text")]
    assert debug[:3] == ["received a SCEP request",
                         "read SCEP: registered and bound service SCEP_READ_DB_1",
                         "scep msg type - 19"]
    assert "sent SCEP pending reply" in debug
    from sim.pki import cs_desk

    cs_desk.grant(cs, 1, NOW, key)
    outcome = enrollment.on_cert_rep(answer(service, key, enrollment.get_cert_initial(NOW))[0]
                                     .body)
    assert outcome.status is scep.PkiStatus.SUCCESS
    assert outcome.certificate.serial_number == 2
    assert x509util.verify_signature(outcome.certificate, cs.ca_cert.public_key())


def test_grant_auto_grants_routers_but_not_subordinate_cas() -> None:
    """With `grant auto` a subordinate CA's request would be signed at once instead of waiting for a
    manual grant."""
    cs, key, service = make_ca(grant="auto")
    router = client(cs)
    outcome = router.on_cert_rep(answer(service, key, router.pkcs_req(NOW))[0].body)
    assert outcome.status is scep.PkiStatus.SUCCESS
    sub = client(cs, ca_request=True, label="sub")
    _reply, effects, message = answer(service, key, sub.pkcs_req(NOW))
    assert message.pki_status is scep.PkiStatus.PENDING
    assert cs.requests.get(2).kind is RequestKind.SUB_CA
    debug = [e.text for e in effects if hasattr(e, "text")]
    assert "found basic_constraints in enrollment request" in debug


def test_repeated_pkcs_req_is_a_poll_not_a_new_request() -> None:
    """A client resending the same PKCSReq would pile up duplicate entries in
    `show crypto pki server requests`."""
    cs, key, service = make_ca()
    enrollment = client(cs)
    first = enrollment.pkcs_req(NOW)
    answer(service, key, first)
    answer(service, key, first, seed=4)
    assert cs.requests.ids() == [1]


def test_serials_are_never_reused() -> None:
    """Two certificates from one CA could get the same serial number, so revoking one would revoke
    both."""
    cs, key, service = make_ca(grant="auto")
    serials = []
    for label in ("a", "b", "c"):
        enrollment = client(cs, label=label)
        serials.append(enrollment.on_cert_rep(
            answer(service, key, enrollment.pkcs_req(NOW))[0].body).certificate.serial_number)
    assert serials == [2, 3, 4] and cs.last_serial == 4


def fail_info_of(service, key, der) -> scep.FailInfo:
    reply, _effects = service.pki_operation(der, NOW, key, rng_bytes(5))
    message = scep.parse_pki_message(reply.body)
    assert message.pki_status is scep.PkiStatus.FAILURE
    return message.fail_info


def test_bad_signature_gets_bad_message_check() -> None:
    """A SCEP request with a broken signature would be accepted instead of failed with
    badMessageCheck."""
    cs, key, service = make_ca()
    der = bytearray(client(cs).pkcs_req(NOW))
    der[-5] ^= 0xFF  # inside the RSA signature at the end of the SignerInfo
    assert fail_info_of(service, key, bytes(der)) is scep.FailInfo.BAD_MESSAGE_CHECK


def test_wrong_recipient_gets_bad_message_check() -> None:
    """A SCEP request encrypted for a different CA would crash the server or be accepted instead of
    badMessageCheck."""
    cs, key, service = make_ca()
    other, _other_key, _ = make_ca()
    other_key = KEYS.get("other-ca", 1024)
    other.ca_cert = x509util.make_ca_certificate(other_key, x509util.parse_dn("CN=other"), 1,
                                                 NOW, NOW + timedelta(days=1))
    der = client(other).pkcs_req(NOW)  # enveloped to a different CA
    assert fail_info_of(service, key, der) is scep.FailInfo.BAD_MESSAGE_CHECK


def test_poll_for_an_unknown_transaction_gets_bad_cert_id() -> None:
    """A client polling for a transaction the CA never saw would not get the badCertId failure real
    clients expect."""
    cs, key, service = make_ca()
    assert fail_info_of(service, key, client(cs).get_cert_initial(NOW)) is \
        scep.FailInfo.BAD_CERT_ID


def test_garbage_never_raises_and_gets_a_failure_reply() -> None:
    """A corrupted SCEP message would crash the CA's SCEP service instead of getting a failure
    reply."""
    cs, key, service = make_ca()
    valid = client(cs).pkcs_req(NOW)
    rng = random.Random(11)
    for _ in range(200):
        data = bytearray(valid)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        reply, _effects = service.pki_operation(bytes(data[: rng.randint(0, len(data))]),
                                                NOW, key, rng_bytes(6))
        assert reply.status == 200
    assert fail_info_of(service, key, b"not a pkiMessage") in (
        scep.FailInfo.BAD_MESSAGE_CHECK, scep.FailInfo.BAD_REQUEST)


def test_caps_follow_the_servers_hash() -> None:
    """GetCACaps would advertise ciphers and digests that don't match the CA's `hash` setting, so
    clients pick wrong ones."""
    modern = scep.profile_from_caps(frozenset(make_ca()[2].caps()))
    assert (modern.cipher, modern.digest, modern.post) == ("aes128", "sha256", True)
    legacy = scep.profile_from_caps(frozenset(make_ca(hash_name="md5")[2].caps()))
    assert (legacy.cipher, legacy.digest, legacy.post) == ("des", "md5", False)


def test_get_ca_cert_of_a_subordinate_is_its_chain() -> None:
    """GetCACert from a subordinate CA would not return its chain up to the root, so clients could
    not authenticate it."""
    cs, _key, _service = make_ca()
    root_key = KEYS.get("root", 1024)
    root = x509util.make_ca_certificate(root_key, x509util.parse_dn("CN=root"), 1, NOW,
                                        NOW + timedelta(days=1))
    reply = ScepService(cs, [root]).get_ca_cert()
    assert reply.content_type == "application/x-x509-ca-ra-cert"
    certs, _ = scep.parse_degenerate(reply.body)
    assert certs == [cs.ca_cert, root]
    single = ScepService(cs).get_ca_cert()
    assert single.content_type == "application/x-x509-ca-cert"
    assert x509util.load_cert(single.body) == cs.ca_cert


def test_unknown_message_type_gets_bad_request() -> None:
    """A SCEP message of an unknown type would be misread as an enrollment instead of failing with
    badRequest."""
    cs, key, service = make_ca()
    der = client(cs).pkcs_req(NOW)
    # The messageType attribute is PrintableString "19": make it "99".
    oid = bytes.fromhex("060a6086480186f845010902")  # 2.16.840.1.113733.1.9.2
    marker = oid + bytes.fromhex("310413023139")
    assert marker in der
    tampered = der.replace(marker, marker[:-2] + b"99")
    assert fail_info_of(service, key, tampered) is scep.FailInfo.BAD_REQUEST


# --------------------------------------------------------------------------- issue 8: crashes


def forged_pkcs_req(cs, enrollment, *, csr_der=None, envelope=None, transaction_id=None,
                    signer=None, message_type=19) -> bytes:
    """A PKCSReq signed correctly (so it passes the signature check) but built by hand."""
    csr_der = enrollment.csr_der if csr_der is None else csr_der
    if envelope is None:
        envelope = build_envelope(csr_der, [cs.ca_cert], enrollment.profile.cipher,
                                  rng_bytes(21))
    tid = transaction_id or der.printable_string(enrollment.transaction_id)
    cert, key = signer or (enrollment.signer, enrollment.key)
    attributes = scep_forge.request_attributes(message_type, tid, b"N" * 16, NOW)
    return scep_forge.signed_message(cert, key, enrollment.profile.digest, envelope, attributes)


def signed(enrollment, kind: scep.MessageType, body: bytes) -> bytes:
    """A request of `enrollment`'s transaction with any body, as its client would sign it."""
    return scep.build_pki_message(
        message_type=kind, transaction_id=enrollment.transaction_id,
        signer_cert=enrollment.signer, signer_key=enrollment.key, profile=enrollment.profile,
        random_bytes=rng_bytes(12), recipients=[enrollment.ca_cert], content=body,
        signing_time=NOW)


def failure_of(service, key, der) -> scep.PkiMessage:
    reply, _effects = service.pki_operation(der, NOW, key, rng_bytes(5))
    message = scep.parse_pki_message(reply.body)
    assert message.message_type is scep.MessageType.CERT_REP and message.signature_valid
    assert message.pki_status is scep.PkiStatus.FAILURE, message.pki_status
    return message


@pytest.mark.parametrize("profile", [scep.RFC_8894, scep.IOS_12_3], ids=["rfc8894", "ios-12.3"])
def test_unknown_content_cipher_in_a_signed_request_gets_bad_alg(profile) -> None:
    """A request encrypted with an unknown cipher would crash or be filed instead of a badAlg
    failure echoing its transaction."""
    cs, key, service = make_ca()
    enrollment = client(cs, profile=profile)
    envelope = build_envelope(enrollment.csr_der, [cs.ca_cert], profile.cipher, rng_bytes(2))
    oid = der.oid(CIPHERS[profile.cipher].oid)
    broken = envelope.replace(oid, oid[:-1] + bytes([oid[-1] ^ 0x40]))
    message = failure_of(service, key, forged_pkcs_req(cs, enrollment, envelope=broken))
    assert message.fail_info is scep.FailInfo.BAD_ALG
    assert "unsupported content encryption algorithm" in message.fail_info_text
    assert message.transaction_id == enrollment.transaction_id
    assert len(cs.requests) == 0


def test_corrupted_inner_envelope_length_gets_bad_message_check() -> None:
    """A request with a malformed inner envelope would crash the CA or be accepted instead of failed
    with badMessageCheck."""
    cs, key, service = make_ca()
    enrollment = client(cs)
    envelope = bytearray(build_envelope(enrollment.csr_der, [cs.ca_cert], "aes128",
                                        rng_bytes(2)))
    at = bytes(envelope).index(der.oid(CIPHERS["aes128"].oid))
    envelope[at - 1] += 1  # contentEncryptionAlgorithm `30 LL`: one byte too long
    message = failure_of(service, key, forged_pkcs_req(cs, enrollment, envelope=bytes(envelope)))
    assert message.fail_info is scep.FailInfo.BAD_MESSAGE_CHECK
    assert "malformed envelope" in message.fail_info_text


@pytest.mark.parametrize("tid", [der.tlv(0x13, b"3AE00CCC\x7f"), der.tlv(0x16, b"id_1"),
                                 der.tlv(0x0C, b"two\nlines")], ids=["DEL", "underscore", "LF"])
def test_transaction_id_that_is_not_printable_gets_bad_request(tid: bytes) -> None:
    """A SCEP request with an unusable transactionID would be filed, or its failure reply would echo
    garbage."""
    cs, key, service = make_ca()
    message = failure_of(service, key, forged_pkcs_req(cs, client(cs), transaction_id=tid))
    assert message.fail_info is scep.FailInfo.BAD_REQUEST
    assert "transactionID" in message.fail_info_text
    assert message.transaction_id == ""  # nothing echoable: the reply cannot repeat it
    assert len(cs.requests) == 0


def test_transaction_id_in_another_string_type_is_accepted_and_echoed() -> None:
    """A client sending its transactionID as UTF8String would be refused or get a reply with a
    different ID."""
    cs, key, service = make_ca()
    enrollment = client(cs)
    der_ = forged_pkcs_req(cs, enrollment, transaction_id=der.utf8_string("UTF8 id 1"))
    reply = scep.parse_pki_message(service.pki_operation(der_, NOW, key, rng_bytes(5))[0].body)
    assert reply.pki_status is scep.PkiStatus.PENDING and reply.transaction_id == "UTF8 id 1"


@pytest.mark.parametrize("kind", ["ec-p256", "ed25519"])
def test_request_for_a_non_rsa_key_gets_bad_alg(kind: str) -> None:
    """An EC or Ed25519 certificate request would crash the CA or be signed instead of failing with
    badAlg."""
    cs, key, service = make_ca()
    other = (scep_forge.ec_key(rng_bytes(4)) if kind == "ec-p256"
             else scep_forge.ed25519_key(rng_bytes(4)))
    csr = scep_forge.csr_for(other, x509util.parse_dn("CN=ec.lab"))
    message = failure_of(service, key, forged_pkcs_req(cs, client(cs), csr_der=csr))
    assert message.fail_info is scep.FailInfo.BAD_ALG
    assert message.fail_info_text == "the request's key is not RSA"


# --------------------------------------------------------------------------- issue 8: policy


def test_rsa_moduli_outside_ios_range_are_refused_and_360_bits_is_accepted() -> None:
    """RSA keys outside IOS's 360 to 4096 bits would be certified, or a 360-bit MD5 client would be
    refused."""
    cs, key, service = make_ca(grant="auto")
    enrollment = client(cs)
    small = KEYS.get("small", 359)
    csr = scep_forge.with_public_key(enrollment.csr_der, small.public_key())  # cannot sign
    message = failure_of(service, key, forged_pkcs_req(cs, enrollment, csr_der=csr))
    assert message.fail_info is scep.FailInfo.BAD_ALG
    assert "359 bits" in message.fail_info_text and "360 to 4096" in message.fail_info_text

    big = scep_forge.oversized_rsa_key()
    csr = scep_forge.csr_for(big, x509util.parse_dn("CN=big.lab"))
    message = failure_of(service, key, forged_pkcs_req(cs, enrollment, csr_der=csr))
    assert message.fail_info is scep.FailInfo.BAD_ALG and "4484 bits" in message.fail_info_text

    # The same key as the signer of the pkiMessage is refused before anything is decrypted.
    signer = scep_forge.self_signed(big, enrollment.subject, enrollment.subject, 5, NOW)
    message = failure_of(service, key, forged_pkcs_req(cs, enrollment, signer=(signer, big)))
    assert message.fail_info is scep.FailInfo.BAD_ALG
    assert message.fail_info_text.startswith("the signer's RSA modulus has 4484 bits")
    assert len(cs.requests) == 0

    smallest = KEYS.get("smallest", 360)  # IOS's minimum: signs only MD5 (45-byte blocks)
    subject = x509util.parse_dn("CN=small.lab")
    csr = scep_forge.with_public_key(scep.make_csr(KEYS.get("r2", 1024), subject)
                                     .public_bytes(Encoding.DER), smallest.public_key(),
                                     smallest, "md5")
    signer = scep_forge.self_signed(smallest, subject, subject, 7, NOW,
                                    sign_with=KEYS.get("r2", 1024))
    legacy = client(cs, profile=scep.IOS_12_3)
    reply, _ = service.pki_operation(
        forged_pkcs_req(cs, legacy, csr_der=csr, signer=(signer, smallest)), NOW, key,
        rng_bytes(5))
    granted = scep.parse_pki_message(reply.body)
    assert granted.pki_status is scep.PkiStatus.SUCCESS
    certs, _crls = scep.parse_degenerate(
        scep.decrypt_envelope(granted.enveloped, signer, smallest))
    assert certs[0].public_key().key_size == 360


def test_subject_with_control_characters_is_refused() -> None:
    """pkilab's choice: a newline in a name would forge lines at the console and in .cnm."""
    cs, key, service = make_ca(grant="auto")
    enrollment = client(cs)
    csr = scep.make_csr(enrollment.key, x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "r2\nCRYPTO_CS: forged line")]))
    message = failure_of(service, key, forged_pkcs_req(
        cs, enrollment, csr_der=csr.public_bytes(Encoding.DER)))
    assert message.fail_info is scep.FailInfo.BAD_REQUEST
    assert message.fail_info_text == "the request's subject has control characters"


def test_new_request_signed_by_another_key_gets_bad_message_check() -> None:
    """Someone could get a certificate for a key they don't hold by signing the request with their
    own key."""
    cs, key, service = make_ca(grant="auto")
    enrollment = client(cs)
    intruder = KEYS.get("intruder", 1024)
    signer = scep_forge.self_signed(intruder, enrollment.subject, enrollment.subject, 9, NOW)
    message = failure_of(service, key,
                         forged_pkcs_req(cs, enrollment, signer=(signer, intruder)))
    assert message.fail_info is scep.FailInfo.BAD_MESSAGE_CHECK
    assert "signed by a key other than the request's" in message.fail_info_text
    assert len(cs.requests) == 0 and cs.last_serial == 1


def issued_to(service, cs, key, label: str):
    """A certificate this CA issued to `label` (enrolled with grant auto)."""
    enrollment = client(cs, label=label)
    outcome = enrollment.on_cert_rep(answer(service, key, enrollment.pkcs_req(NOW))[0].body)
    assert outcome.status is scep.PkiStatus.SUCCESS
    return outcome.certificate, enrollment.key


def test_renewal_signed_by_a_certificate_this_ca_issued_is_accepted() -> None:
    """A router renewing with its old certificate from this CA would be refused instead of getting
    its new certificate."""
    cs, key, service = make_ca(grant="auto")
    old_cert, old_key = issued_to(service, cs, key, "r5")
    renewing = client(cs, label="r6")  # the new key asks, the old certificate signs
    der_ = forged_pkcs_req(cs, renewing, signer=(old_cert, old_key), message_type=17)
    reply, _effects = service.pki_operation(der_, NOW, key, rng_bytes(5))
    message = scep.parse_pki_message(reply.body)
    assert message.pki_status is scep.PkiStatus.SUCCESS
    certs, _ = scep.parse_degenerate(scep.decrypt_envelope(message.enveloped, old_cert, old_key))
    assert certs[0].public_key().public_numbers() == renewing.key.public_key().public_numbers()
    assert certs[0].serial_number == 3


def test_renewal_signed_by_a_forged_or_revoked_certificate_is_refused() -> None:
    """A renewal signed by a forged or revoked certificate would be granted a new certificate."""
    cs, key, service = make_ca(grant="auto")
    renewing = client(cs, label="r6")
    forger = KEYS.get("forger", 1024)
    forged = scep_forge.self_signed(forger, renewing.subject, cs.ca_cert.subject, 2, NOW)
    message = failure_of(service, key, forged_pkcs_req(cs, renewing, signer=(forged, forger)))
    assert message.fail_info is scep.FailInfo.BAD_MESSAGE_CHECK

    old_cert, old_key = issued_to(service, cs, key, "r5")
    cs.revoked[old_cert.serial_number] = NOW
    message = failure_of(service, key,
                         forged_pkcs_req(cs, renewing, signer=(old_cert, old_key)))
    assert message.fail_info is scep.FailInfo.BAD_MESSAGE_CHECK
    assert cs.last_serial == 2  # only r5's certificate


def test_poll_must_name_the_transactions_issuer_and_subject() -> None:
    """A poll naming the wrong issuer or subject would still get a pending transaction's status or
    certificate."""
    cs, key, service = make_ca()
    enrollment = client(cs)
    answer(service, key, enrollment.pkcs_req(NOW))  # pending, ReqID 1
    someone = x509util.parse_dn("CN=someone-else")
    for body in (scep.issuer_and_subject(cs.ca_cert.subject, someone),
                 scep.issuer_and_subject(someone, enrollment.subject)):
        message = failure_of(service, key,
                             signed(enrollment, scep.MessageType.GET_CERT_INITIAL, body))
        assert message.fail_info is scep.FailInfo.BAD_CERT_ID
        assert message.fail_info_text == ("the poll's issuer and subject do not match the "
                                          "transaction")
    _reply, _effects, message = answer(service, key, enrollment.get_cert_initial(NOW))
    assert message.pki_status is scep.PkiStatus.PENDING


def test_get_cert_must_name_the_certificates_issuer() -> None:
    """GetCert naming another CA as issuer would still return this CA's certificate with that
    serial."""
    cs, key, service = make_ca(grant="auto")
    issued_to(service, cs, key, "r5")
    enrollment = client(cs)
    wrong = scep.issuer_and_serial(x509util.parse_dn("CN=another CA"), 2)
    message = failure_of(service, key, signed(enrollment, scep.MessageType.GET_CERT, wrong))
    assert message.fail_info is scep.FailInfo.BAD_CERT_ID
    right = scep.issuer_and_serial(cs.ca_cert.subject, 2)
    reply = answer(service, key, signed(enrollment, scep.MessageType.GET_CERT, right))[2]
    assert reply.pki_status is scep.PkiStatus.SUCCESS


# --------------------------------------------------------------------------- issue 8: interop


needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None,
                                   reason="openssl command not installed")


@needs_openssl
@pytest.mark.parametrize("profile", [scep.RFC_8894, scep.IOS_12_3], ids=["rfc8894", "ios-12.3"])
def test_openssl_cms_verifies_every_certrep(profile, tmp_path) -> None:
    """`openssl cms -verify` said "no content" for PENDING and FAILURE before they carried an
    empty eContent (as micromdm sends them)."""
    cs, key, service = make_ca(grant="auto")
    replies = {
        "PENDING": client(cs, ca_request=True, label="sub", profile=profile).pkcs_req(NOW),
        "SUCCESS": client(cs, label="r3", profile=profile).pkcs_req(NOW),
        "FAILURE": client(cs, label="r4", profile=profile).get_cert_initial(NOW),
    }
    for status, request in replies.items():
        reply, _effects = service.pki_operation(request, NOW, key, rng_bytes(8))
        message = scep.parse_pki_message(reply.body)
        assert message.pki_status is scep.PkiStatus[status]
        path = tmp_path / f"CertRep-{status}.der"
        path.write_bytes(reply.body)
        result = subprocess.run(["openssl", "cms", "-verify", "-inform", "DER", "-noverify",
                                 "-in", str(path), "-out", str(tmp_path / "content")],
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0 and "Verification successful" in result.stderr, (
            status, result.stderr)
        content = (tmp_path / "content").read_bytes()
        assert (content == b"") is (status != "SUCCESS")


def test_pkilab_client_reads_an_empty_econtent_as_no_envelope() -> None:
    """Pending and failure replies with an empty eContent would be misread by pkilab's own SCEP
    client."""
    cs, key, service = make_ca()
    enrollment = client(cs)
    reply, _effects = service.pki_operation(enrollment.pkcs_req(NOW), NOW, key, rng_bytes(3))
    signed = der.read(der.read(reply.body).children()[1].contents).children()
    encap = signed[2].children()
    assert der.octets(der.read(encap[1].contents)) == b""  # eContent present, and empty
    assert scep.parse_pki_message(reply.body).enveloped is None
    assert enrollment.on_cert_rep(reply.body).status is scep.PkiStatus.PENDING
    failed = failure_of(service, key, client(cs, label="r9").get_cert_initial(NOW))
    assert failed.enveloped is None
