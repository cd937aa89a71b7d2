"""The certificate server's SCEP service: answers, request handling and failure replies."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from sim.pki import scep, x509util
from sim.pki.ca_requests import RequestKind, RequestState
from sim.pki.cs_server import CertificateServer, CsConfig
from sim.pki.keys import KeySource
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
    cs, key, service = make_ca()
    enrollment = client(cs)
    first = enrollment.pkcs_req(NOW)
    answer(service, key, first)
    answer(service, key, first, seed=4)
    assert cs.requests.ids() == [1]


def test_serials_are_never_reused() -> None:
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
    cs, key, service = make_ca()
    der = bytearray(client(cs).pkcs_req(NOW))
    der[-5] ^= 0xFF  # inside the RSA signature at the end of the SignerInfo
    assert fail_info_of(service, key, bytes(der)) is scep.FailInfo.BAD_MESSAGE_CHECK


def test_wrong_recipient_gets_bad_message_check() -> None:
    cs, key, service = make_ca()
    other, _other_key, _ = make_ca()
    other_key = KEYS.get("other-ca", 1024)
    other.ca_cert = x509util.make_ca_certificate(other_key, x509util.parse_dn("CN=other"), 1,
                                                 NOW, NOW + timedelta(days=1))
    der = client(other).pkcs_req(NOW)  # enveloped to a different CA
    assert fail_info_of(service, key, der) is scep.FailInfo.BAD_MESSAGE_CHECK


def test_poll_for_an_unknown_transaction_gets_bad_cert_id() -> None:
    cs, key, service = make_ca()
    assert fail_info_of(service, key, client(cs).get_cert_initial(NOW)) is \
        scep.FailInfo.BAD_CERT_ID


def test_garbage_never_raises_and_gets_a_failure_reply() -> None:
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
    modern = scep.profile_from_caps(frozenset(make_ca()[2].caps()))
    assert (modern.cipher, modern.digest, modern.post) == ("aes128", "sha256", True)
    legacy = scep.profile_from_caps(frozenset(make_ca(hash_name="md5")[2].caps()))
    assert (legacy.cipher, legacy.digest, legacy.post) == ("des", "md5", False)


def test_get_ca_cert_of_a_subordinate_is_its_chain() -> None:
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
    cs, key, service = make_ca()
    der = client(cs).pkcs_req(NOW)
    # The messageType attribute is PrintableString "19": make it "99".
    oid = bytes.fromhex("060a6086480186f845010902")  # 2.16.840.1.113733.1.9.2
    marker = oid + bytes.fromhex("310413023139")
    assert marker in der
    tampered = der.replace(marker, marker[:-2] + b"99")
    assert fail_info_of(service, key, tampered) is scep.FailInfo.BAD_REQUEST
