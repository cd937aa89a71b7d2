"""A certificate server in RA mode (`mode ra [transparent]`) in front of an issuing CA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from routerkit import Lab

from sim.kernel.transcript import transcript_lines
from sim.pki import cs_desk, ra_forward, scep, x509util
from sim.pki.ca_requests import RequestKind, RequestState
from sim.pki.cs_effects import Syslog
from sim.pki.cs_fsm import CsState
from sim.router.router import Router

ENROLL = ("yes", "r1pass123", "r1pass123", "no", "no", "yes")


def ra_lab(root_grant: str = "", mode: str = "mode ra", ra_extra: str = ""
           ) -> tuple[Lab, Router, Router, Router]:
    """root (10.0.0.1) <- ra (10.0.0.2) <- r1 (10.0.1.1), the RA enabled under the root."""
    lab = Lab()
    root = lab.router("root", "10.0.0.1", "ip http server")
    ra = lab.router("ra", "10.0.0.2", "ip http server\ncrypto pki trustpoint ra\n"
                    " enrollment url http://10.0.0.1\n subject-name cn=ioscs RA")
    r1 = lab.router("r1", "10.0.1.1", "crypto pki trustpoint ra\n enrollment url "
                    "http://10.0.0.2\n enrollment mode ra\n enrollment retry count 30")
    lab.net.add_link("root", "ra", latency=0.002)
    lab.net.add_link("ra", "r1", latency=0.002)
    lab.type(root, "enable\nconfigure terminal\ncrypto pki server root\n"
             + (f"{root_grant}\n" if root_grant else "") + "no shutdown\nend",
             ("rootpass1", "rootpass1"))
    lab.type(ra, f"enable\nconfigure terminal\ncrypto pki server ra\n{mode}\n{ra_extra}"
             "no shutdown\nend", ("rapass123", "rapass123", "yes"), settle=45)
    if root_grant != "grant ra-auto":
        lab.type(root, "crypto pki server root grant 1")
        lab.run(90)
    assert ra.server_state() is CsState.ENABLED
    return lab, root, ra, r1


def enroll_r1(lab: Lab, r1: Router) -> list[str]:
    return lab.type(r1, "enable\nconfigure terminal\ncrypto pki authenticate ra\n"
                    "crypto pki enroll ra\nend", ENROLL, settle=10)


def test_ra_certificate_request_is_listed_and_needs_ra_auto() -> None:
    """The issuing CA would file the RA's own enrollment outside `RA certificate requests`, grant
    it under plain manual mode, or fail to grant it at once under `grant ra-auto`; the RA would then
    not come up enabled with its RA certificate (not a CA certificate) under the root."""
    lab = Lab()
    root = lab.router("root", "10.0.0.1", "ip http server")
    ra = lab.router("ra", "10.0.0.2", "ip http server\ncrypto pki trustpoint ra\n"
                    " enrollment url http://10.0.0.1\n subject-name ou=ioscs RA")
    lab.net.add_link("root", "ra", latency=0.002)
    lab.type(root, "enable\nconfigure terminal\ncrypto pki server root\ngrant auto\n"
             "no shutdown\nend", ("rootpass1", "rootpass1"))
    lab.type(ra, "enable\nconfigure terminal\ncrypto pki server ra\nmode ra\nno shutdown\nend",
             ("rapass123", "rapass123", "yes"), settle=90)
    entry = root.running.servers["root"].requests.get(1)
    assert entry.kind is RequestKind.RA and entry.state is RequestState.PENDING
    assert ra.server_state() is CsState.CHECK_FAILED  # `grant auto` is not `ra-auto`
    lab.type(root, "configure terminal\ncrypto pki server root\nshutdown\ngrant ra-auto\n"
             "no shutdown\nend\ncrypto pki server root grant 1", settle=120)
    assert ra.server_state() is CsState.ENABLED
    cs = ra.running.servers["ra"]
    assert cs.ca_cert is not None and not x509util.can_sign_certificates(cs.ca_cert)
    assert cs.ca_cert.issuer == root.running.servers["root"].ca_cert.subject
    assert cs.crl_der is None  # an RA publishes no CRL


def test_manual_grants_on_ra_and_root_then_client_gets_certificate() -> None:
    """A client request would skip the RA operator's grant, reach the root unsigned by the RA,
    or never come back to the client once the root's operator grants it."""
    lab, root, ra, r1 = ra_lab()
    enroll_r1(lab, r1)
    lab.run(30)
    ra_entry = ra.running.servers["ra"].requests.get(1)
    assert ra_entry.state is RequestState.PENDING
    assert len(root.running.servers["root"].requests) == 1  # nothing forwarded yet
    lab.type(ra, "crypto pki server ra grant 1", settle=10)
    forwarded = root.running.servers["root"].requests.get(2)
    assert forwarded.state is RequestState.PENDING and forwarded.subject_text == "hostname=r1"
    assert forwarded.csr_der == ra_entry.csr_der
    lab.type(root, "crypto pki server root grant 2")
    lab.run(180)
    cert = r1.running.trustpoints["ra"].id_cert
    assert cert is not None and cert.issuer == root.running.servers["root"].ca_cert.subject
    assert ra.running.servers["ra"].requests.get(1).certificate_der == x509util.cert_der(cert)
    assert any("%PKI-6-CERTRET" in line for line in transcript_lines(lab.env.trace, "r1"))


def test_ra_auto_grants_only_what_a_recognised_ra_forwards() -> None:
    """`grant ra-auto` would not issue a request the RA forwards with its `ioscs RA` certificate,
    or would also auto-grant a request that arrives signed by the client itself."""
    lab, root, ra, r1 = ra_lab("grant ra-auto", ra_extra="grant auto\n")
    enroll_r1(lab, r1)
    lab.run(90)
    assert root.running.servers["root"].requests.get(2).state is RequestState.GRANTED
    assert r1.running.trustpoints["ra"].id_cert is not None
    # The same client request sent straight to the root, signed by the client: pending.
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    csr = scep.make_csr(key, x509util.parse_dn("CN=direct"), hash_name="sha256")
    cs = root.running.servers["root"]
    entry, _fx = cs_desk.submit(cs, x509util.csr_der(csr), "direct-1", "scep",
                                root.clock.now(), root.running.keys.get("root").key)
    assert entry.state is RequestState.PENDING


def test_transparent_ra_forwards_the_clients_own_request() -> None:
    """`mode ra transparent` would re-sign the request as the RA (so the root would see the RA,
    not the client, and `ra-auto` would grant it), or the certificate would not come back once the
    root's operator grants it."""
    lab, root, ra, r1 = ra_lab("grant ra-auto", mode="mode ra transparent",
                               ra_extra="grant auto\n")
    enroll_r1(lab, r1)
    lab.run(30)
    forwarded = root.running.servers["root"].requests.get(2)
    assert forwarded.state is RequestState.PENDING  # the client signed it: no RA vouches
    sent = [e for e in lab.env.trace.select(router="ra", category="ra", name="forward")]
    assert sent and sent[0].data["operation"] == "PKCSReq"
    client_pkcs = [data for name, data in r1.artifacts if name.endswith("sent-PKCSReq.der")]
    root_got = [data for name, data in root.artifacts if name.endswith("received-PKCSReq.der")]
    assert client_pkcs[0] in root_got  # the very bytes r1 sent
    lab.type(root, "crypto pki server root grant 2")
    lab.run(150)
    assert r1.running.trustpoints["ra"].id_cert is not None
    config = "\n".join(ra.observe("show running-config"))
    assert " mode ra transparent" in config


def test_root_rejection_reaches_the_client() -> None:
    """A request the issuing CA rejects would stay granted on the RA, or the client would keep
    polling instead of logging %PKI-6-CERTREJECT."""
    lab, root, ra, r1 = ra_lab(ra_extra="grant auto\n")
    enroll_r1(lab, r1)
    lab.run(10)
    lab.type(root, "crypto pki server root reject 2")
    lab.run(150)
    assert ra.running.servers["ra"].requests.get(1).state is RequestState.REJECTED
    lines = transcript_lines(lab.env.trace, "r1")
    assert any("%PKI-6-CERTREJECT" in line for line in lines)
    assert r1.running.trustpoints["ra"].id_cert is None


def test_ra_refuses_to_sign_and_keeps_mode_across_reload() -> None:
    """An RA would revoke or sign with its RA certificate as if it were a CA, or `mode ra` would
    not survive `write memory` and a reload (the RA coming back as a root)."""
    lab, root, ra, r1 = ra_lab()
    out = lab.type(ra, "crypto pki server ra revoke 2")
    assert "% Certificate server ra is in RA mode: its issuing CA signs and revokes " \
           "certificates" in out
    lab.type(ra, "write memory\nreload", ("",), settle=90)
    cs = ra.running.servers["ra"]
    assert cs.config.is_ra and ra.server_state() is CsState.ENABLED
    assert cs.ca_cert is not None and not x509util.can_sign_certificates(cs.ca_cert)
    show = "\n".join(ra.observe("show crypto pki server"))
    assert "Server configured in RA mode" in show and "RA cert fingerprint:" in show
    assert "Last certificate issued serial number" not in show


def test_mode_ra_is_frozen_once_the_server_holds_its_certificate() -> None:
    """`mode ra` / `no mode ra` typed after the RA certificate came would change what the server
    is, unlike the other settings IOS freezes after certificate generation."""
    lab, root, ra, r1 = ra_lab()
    out = lab.type(ra, "configure terminal\ncrypto pki server ra\nshutdown\nmode ra transparent\n"
                   "end")
    assert "% This setting cannot be changed after CA certificate generation." in out
    assert not ra.running.servers["ra"].config.ra_transparent


def test_forwarded_by_ra_needs_the_ioscs_ra_name() -> None:
    """A renewal with a new key (signed by the router's old certificate) would be taken for an RA's
    forward and auto-granted under `grant ra-auto`, or an RA's certificate would not be."""
    now = datetime(2005, 1, 6, tzinfo=UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ca = x509util.make_ca_certificate(ca_key, x509util.parse_dn("CN=root"), 1, now,
                                      now + timedelta(days=30), "sha256")
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    csr = scep.make_csr(new_key, x509util.parse_dn("CN=r1"), hash_name="sha256")

    def issued(subject: str, serial: int) -> x509.Certificate:
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        return x509util.issue_certificate(ca_key, ca, key.public_key(),
                                          x509util.parse_dn(subject), serial, now,
                                          now + timedelta(days=1), hash_name="sha256")

    assert ra_forward.forwarded_by_ra(issued("OU=ioscs RA,CN=ra", 2), csr)
    assert not ra_forward.forwarded_by_ra(issued("CN=r1", 3), csr)


def test_removing_a_request_stops_its_forwarding() -> None:
    """A request the RA's operator removes while it waits at the issuing CA would still be polled
    for (or crash the RA's forwarding) instead of being dropped."""
    lab, root, ra, r1 = ra_lab(ra_extra="grant auto\n")
    enroll_r1(lab, r1)
    lab.run(90)
    assert root.running.servers["root"].requests.get(2).state is RequestState.PENDING
    lab.type(ra, "crypto pki server ra remove 1", settle=5)
    before = len(lab.env.trace.select(router="ra", category="ra", name="forward"))
    lab.run(300)
    assert len(lab.env.trace.select(router="ra", category="ra", name="forward")) == before
    assert 1 not in ra.running.servers["ra"].requests


def test_enrollment_mode_ra_against_a_plain_ca_enrolls_as_before() -> None:
    """`enrollment mode ra` on a trustpoint whose CA answers with its certificate alone (no RA in
    front) would refuse to authenticate or enroll."""
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    r1 = lab.router("r1", "10.0.1.1", "crypto pki trustpoint ca\n enrollment url "
                    "http://10.0.0.1\n enrollment mode ra")
    lab.net.add_link("ca", "r1", latency=0.002)
    lab.type(ca, "enable\nconfigure terminal\ncrypto pki server ca\ngrant auto\n"
             "no shutdown\nend", ("capass123", "capass123"))
    lab.type(r1, "enable\nconfigure terminal\ncrypto pki authenticate ca\n"
             "crypto pki enroll ca\nend", ENROLL, settle=30)
    tp = r1.running.trustpoints["ca"]
    assert tp.ra_certs == () and tp.id_cert is not None


def test_a_client_reloaded_while_pending_still_reaches_the_ra() -> None:
    """A client of an RA that reloads with its request pending would send it again enveloped to
    the CA alone (the RA's certificate forgotten), so the RA could not read it and the client would
    never be certified."""
    lab, root, ra, r1 = ra_lab("grant ra-auto")
    enroll_r1(lab, r1)
    lab.type(r1, "write memory\nreload", ("",), settle=90)
    assert r1.running.trustpoints["ra"].ra_certs == (ra.running.servers["ra"].ca_cert,)
    lab.type(ra, "crypto pki server ra grant 1")
    lab.run(180)
    assert r1.running.trustpoints["ra"].id_cert is not None
    assert ra.running.servers["ra"].requests.ids() == [1]  # the resent request was a poll


def test_a_garbled_answer_from_the_ca_is_a_failed_try_not_a_crash() -> None:
    """Bytes from the issuing CA that are not a CertRep (or not its signature) would crash the
    RA's forwarding or settle the request, instead of counting as a failed try to repeat."""
    lab, root, ra, r1 = ra_lab(ra_extra="grant auto\n")
    enroll_r1(lab, r1)
    lab.run(30)  # forwarded; pending at the root, which grants by hand
    core = ra.server_host.ra.forwarder("ra")
    assert core is not None
    fwd = core.forwards[1]
    cs = ra.running.servers["ra"]
    tp = ra.running.trustpoints["ra"]
    ident = ra_forward.RaIdentity(cs.ca_cert, ra.running.keys.get("ra").key, tp.ca_cert,
                                  scep.RFC_8894)
    now = ra.clock.now()
    answered = fwd.answered
    not_the_ca = next(data for name, data in ra.artifacts if "sent-CertRep" in name)
    for body in (b"", b"\x30\x03\x02\x01\x00", not_the_ca):
        effects = core.on_reply(fwd, now, body, ident, timedelta(minutes=1))
        assert fwd.due == now + timedelta(minutes=1) and fwd.answered == answered
        assert Syslog(ra_forward.SOCKETSEND) in effects
    assert cs.requests.get(1).state is RequestState.GRANTED
    assert cs.requests.get(1).certificate_der is None


def test_a_client_of_the_ra_gets_the_issuing_cas_crl_through_it() -> None:
    """A client enrolled through an RA would get no CRL from its enrollment URL (the RA signs none)
    even after the RA's trustpoint fetched its CA's, so checking revocation over SCEP would fail."""
    lab, root, ra, r1 = ra_lab("grant ra-auto", ra_extra="grant auto\n")
    enroll_r1(lab, r1)
    lab.run(90)
    fetch = "configure terminal\ncrypto pki crl request ra\nend"
    lab.type(r1, fetch, settle=20)
    assert r1.running.trustpoints["ra"].crl is None  # the RA holds no CRL yet
    lab.type(ra, fetch, settle=20)
    lab.type(r1, fetch, settle=20)
    crl = r1.running.trustpoints["ra"].crl
    root_ca = root.running.servers["root"].ca_cert
    assert crl is not None and crl.issuer == root_ca.subject
    assert x509util.verify_signature(crl, root_ca.public_key())


def _renewing_ra(root_lines: str) -> tuple[Lab, Router, Router]:
    """root (manual grants, one-day certificates, `root_lines`) <- ra, whose trustpoint
    renews its RA certificate halfway through its life (`auto-enroll 50`)."""
    lab = Lab()
    root = lab.router("root", "10.0.0.1", "ip http server")
    ra = lab.router("ra", "10.0.0.2", "ip http server\ncrypto pki trustpoint ra\n"
                    " enrollment url http://10.0.0.1\n subject-name cn=ioscs RA\n"
                    " auto-enroll 50")
    lab.net.add_link("root", "ra", latency=0.002)
    lab.type(root, "enable\nconfigure terminal\ncrypto pki server root\n"
             f"lifetime certificate 1\n{root_lines}no shutdown\nend", ("rootpass1", "rootpass1"))
    lab.type(ra, "enable\nconfigure terminal\ncrypto pki server ra\nmode ra\nno shutdown\nend",
             ("rapass123", "rapass123", "yes"), settle=45)
    lab.type(root, "crypto pki server root grant 1")
    lab.run(90)
    assert ra.server_state() is CsState.ENABLED
    return lab, root, ra


def test_ra_certificate_renewal_is_granted_by_the_rollover_rule_and_adopted() -> None:
    """An RA renewing its RA certificate would not be granted at once under the issuing CA's
    `grant auto rollover ra-cert`, would keep signing with (and timing the expiry of) its
    first certificate, logging `%PKI-2-CS_CERT_EXPIRED` while it holds a valid one; without
    the rule the renewal would not wait for the CA's administrator."""
    lab, _root, ra = _renewing_ra("grant auto rollover ra-cert\n")
    server = ra.running.servers["ra"]
    first = server.ca_cert
    assert first is not None
    lab.run(2 * 86400)
    assert server.ca_cert is not None and server.ca_cert.serial_number != first.serial_number
    assert server.ca_cert == ra.running.trustpoints["ra"].id_cert
    assert ra.server_state() is CsState.ENABLED
    lines = transcript_lines(lab.env.trace, "ra")
    assert any("%PKI-6-CERTRENEWAUTO" in line for line in lines)
    assert not any("CS_CERT_EXPIRED" in line for line in lines)

    lab, root, ra = _renewing_ra("")
    first = ra.running.servers["ra"].ca_cert
    lab.run(18 * 3600)
    assert ra.running.servers["ra"].ca_cert == first
    listing = "\n".join(lab.type(root, "show crypto pki server root requests"))
    assert "pending" in listing
