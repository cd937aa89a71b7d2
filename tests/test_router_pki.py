"""Enrollment between simulated routers: the client's retries, expiry, persistence."""

from __future__ import annotations

from routerkit import Lab

from sim.pki.ca_requests import RequestState
from sim.pki.cs_fsm import CsState

ENROLL_ANSWERS = ("yes", "challenge1", "challenge1", "no", "no", "yes")


def lab_with_ca(grant: str = "", extra: str = "") -> tuple[Lab, object, object]:
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    r2 = lab.router("r2", "10.0.0.2")
    lab.net.add_link("ca", "r2", latency=0.005)
    lab.type(ca, "enable\nconfigure terminal\ncrypto pki server ca\n"
                 + (f"{grant}\n" if grant else "") + extra + "no shutdown\nend",
             ("cisco123", "cisco123"))
    assert ca.server_state() is CsState.ENABLED
    return lab, ca, r2


def enroll(lab: Lab, r2, retry: str = "") -> list[str]:
    return lab.type(r2, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                        "enrollment url http://10.0.0.1\n" + retry + "exit\n"
                        "crypto pki authenticate ca\ncrypto pki enroll ca\nend",
                    ENROLL_ANSWERS, settle=30)


def test_enroll_dialogue_and_pending_certificate() -> None:
    """`crypto pki enroll` would print a different dialogue from IOS, or the request would not wait
    as pending at a manual-grant CA."""
    lab, ca, r2 = lab_with_ca()
    out = enroll(lab, r2)
    assert "% Start certificate enrollment .." in out
    assert "% The subject name in the certificate will include: r2" in out
    assert "Request certificate from CA? [yes/no]: yes" in out
    assert "% Certificate request sent to Certificate Authority" in out
    assert any("Certificate Request Fingerprint MD5:" in line for line in out)
    entry = ca.running.servers["ca"].requests.get(1)
    assert entry.state is RequestState.PENDING and entry.subject_text == "hostname=r2"
    assert r2.running.trustpoints["ca"].id_cert is None


def test_client_gives_up_after_its_retry_count() -> None:
    """A router with `enrollment retry count 3` would poll too often or too few times before logging
    %PKI-6-CERTFAIL."""
    lab, ca, r2 = lab_with_ca()
    enroll(lab, r2, "enrollment retry period 1\nenrollment retry count 3\n")
    lab.run(10 * 60)
    from sim.kernel.transcript import transcript_lines

    lines = transcript_lines(lab.env.trace, "r2")
    assert any("%PKI-6-CERTFAIL: Certificate enrollment failed." in line for line in lines)
    gave_up = lab.env.trace.select(router="r2", category="pki", name="enroll.gave_up")
    assert gave_up and gave_up[0].data["attempts"] == 4
    polls = lab.env.trace.select(router="r2", category="pki", name="scep.request")
    assert [e.data["operation"] for e in polls] == ["GetCACert", "PKCSReq"] + \
        ["GetCertInitial"] * 3


def test_pending_requests_expire_after_lifetime_enrollment_request() -> None:
    """A pending request would not expire at `lifetime enrollment-request`, or the CA's debug would
    not log `reqID=1 expired` then."""
    lab, ca, r2 = lab_with_ca(extra="lifetime enrollment-request 1\n")
    lab.type(ca, "debug crypto pki server")
    enroll(lab, r2, "enrollment retry count 100\n")
    requests = ca.running.servers["ca"].requests
    assert requests.ids() == [1]
    created = requests.get(1).created
    lab.run(3500)
    assert requests.ids() == [1]
    lab.run(200)
    assert requests.ids() == []
    from sim.kernel.transcript import transcript_lines

    expired = [line for line in transcript_lines(lab.env.trace, "ca")
               if line.endswith("CRYPTO_CS: reqID=1 expired")]
    assert len(expired) == 1
    assert expired[0].startswith(f"Jan  6 {created.hour + 1:02d}:{created.minute:02d}")


def test_pending_request_survives_a_reload_of_the_ca() -> None:
    """A pending request would be lost when the CA reloads, so `grant 1` after the reload would not
    reach the waiting router."""
    lab, ca, r2 = lab_with_ca()
    lab.type(ca, "write memory")
    enroll(lab, r2, "enrollment retry count 50\n")
    assert ca.running.servers["ca"].requests.ids() == [1]
    ca.reload()
    lab.run(120)
    assert ca.server_state() is CsState.ENABLED
    requests = ca.running.servers["ca"].requests
    assert requests.ids() == [1] and requests.get(1).state is RequestState.PENDING
    lab.type(ca, "enable\ncrypto pki server ca grant 1")
    lab.run(180)
    assert r2.running.trustpoints["ca"].id_cert is not None
    assert r2.running.trustpoints["ca"].id_cert.serial_number == 2
    assert ca.nvram.exists("ca.db")


def test_grant_of_an_unknown_request_and_unknown_server() -> None:
    """`crypto pki server ca grant 7` for a missing request, or naming an unknown server, would not
    print the expected error."""
    lab, ca, _r2 = lab_with_ca()
    out = lab.type(ca, "crypto pki server ca grant 7\ncrypto pki server nope grant all")
    assert "% Enrollment request 7 not found." in out
    assert "Certificate server 'nope' is not known" in out


def test_authenticate_refused_answer_leaves_trustpoint_unauthenticated() -> None:
    """Answering `no` to `Do you accept this certificate?` would still trust the CA, or `crypto pki
    enroll` would not then refuse."""
    lab, _ca, r2 = lab_with_ca()
    out = lab.type(r2, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                       "enrollment url http://10.0.0.1\nexit\ncrypto pki authenticate ca",
                   ("no",))
    assert out[-1] == "% Do you accept this certificate? [yes/no]: no"
    assert r2.running.trustpoints["ca"].ca_cert is None
    out = lab.type(r2, "crypto pki enroll ca")
    assert out[-1].startswith("% You must authenticate the Certificate Authority")


def test_authenticate_without_reachable_ca() -> None:
    """`crypto pki authenticate` with an unreachable CA would not print IOS's `status = FAIL, cert
    length = 0` error and %PKI-3-SOCKETSEND."""
    lab, _ca, r2 = lab_with_ca()
    lab.net.set_link_up("ca", "r2", False)
    out = lab.type(r2, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                       "enrollment url http://10.0.0.1\nexit\ncrypto pki authenticate ca")
    assert ("% Error in receiving Certificate Authority certificate: status = FAIL, "
            "cert length = 0") in out
    assert any("%PKI-3-SOCKETSEND" in line for line in out)


def test_serials_continue_across_a_reload_of_an_issuing_ca() -> None:
    """After a power cycle, the CA would reuse a serial it had already issued instead of continuing
    from its saved `ca.ser`."""
    lab, ca, r2 = lab_with_ca(grant="grant auto")
    r3 = lab.router("r3", "10.0.0.3")
    lab.net.add_link("ca", "r3", latency=0.005)
    enroll(lab, r2)
    assert r2.running.trustpoints["ca"].id_cert.serial_number == 2
    lab.type(ca, "write memory")
    ca.power_off()
    ca.power_on()
    lab.run(120)
    assert ca.server_state() is CsState.ENABLED
    enroll(lab, r3)
    assert r3.running.trustpoints["ca"].id_cert.serial_number == 3
    assert ca.nvram.read("ca.ser").endswith(b"0x3\n")


def test_revoke_publishes_a_new_crl_and_it_survives_a_reload() -> None:
    """`crypto pki server ca revoke` would not put the serial on the CRL or print IOS's messages, or
    the revocation would be lost on reload."""
    lab, ca, r2 = lab_with_ca(grant="grant auto")
    enroll(lab, r2)
    serial = r2.running.trustpoints["ca"].id_cert.serial_number
    out = lab.type(ca, f"crypto pki server ca revoke 0x{serial:x}\ncrypto pki server ca info crl")
    assert f"% Certificate {serial:02X} succesfully revoked." in out
    assert "    Number of CRL entries: 1" in out
    assert f"    Serial Number (hex): {serial:02X}" in out
    out = lab.type(ca, f"crypto pki server ca revoke {serial}\ncrypto pki server ca revoke 99")
    assert f"% Certificate {serial:02X} is already revoked." in out
    assert "% Certificate 63 was not issued by this server." in out
    crl = ca.running.servers["ca"].crl
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    lab.type(ca, "write memory")
    ca.reload()
    lab.run(120)
    assert ca.running.servers["ca"].crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert serial in ca.running.servers["ca"].revoked


def test_crl_is_republished_every_lifetime_crl() -> None:
    """The CA would not publish and save a new CRL every `lifetime crl` hours, or `show crypto pki
    server` would lack its CRL timer."""
    lab, ca, _r2 = lab_with_ca(extra="lifetime crl 1\n")
    first = ca.running.servers["ca"].crl
    lab.run(3 * 3600 + 60)
    latest = ca.running.servers["ca"].crl
    assert (latest.last_update_utc - first.last_update_utc).total_seconds() == 3 * 3600
    assert (latest.next_update_utc - latest.last_update_utc).total_seconds() == 3600
    writes = [e for e in lab.env.trace.select(router="ca", category="nvram", name="write")
              if e.data["file"] == "ca.crl"]
    assert len(writes) == 4
    out = lab.type(ca, "show crypto pki server")
    assert any(line.startswith("  CRL NextUpdate timer:") for line in out)


def test_client_fetches_the_crl_over_scep_and_sees_its_revocation() -> None:
    """`crypto pki crl request` would not fetch the CRL over SCEP, so `show crypto pki crls` on the
    client would miss the revocation."""
    lab, ca, r2 = lab_with_ca(grant="grant auto")
    enroll(lab, r2)
    serial = r2.running.trustpoints["ca"].id_cert.serial_number
    lab.type(ca, f"crypto pki server ca revoke {serial}")
    out = lab.type(r2, "configure terminal\ncrypto pki crl request ca\ndo show crypto pki crls")
    assert "      ** CDP Not Published - Retrieved via SCEP" in out
    crl = r2.running.trustpoints["ca"].crl
    assert crl is not None and crl.get_revoked_certificate_by_serial_number(serial) is not None
    messages = [e.data["message"] for e in lab.env.trace.select(router="r2", category="scep",
                                                                name="exchange")]
    assert messages[-1] == "GetCRL"


def test_auto_enroll_renews_before_expiry() -> None:
    """With `auto-enroll 50`, a router would not renew its certificate (same key, new serial,
    %PKI-6-CERTRENEWAUTO) halfway through."""
    lab, ca, r2 = lab_with_ca(grant="grant auto", extra="lifetime certificate 2\n")
    enroll(lab, r2, "auto-enroll 50\n")
    first = r2.running.trustpoints["ca"].id_cert
    lab.run(24 * 3600 + 600)
    renewed = r2.running.trustpoints["ca"].id_cert
    assert renewed.serial_number == first.serial_number + 1
    assert renewed.public_key().public_numbers() == first.public_key().public_numbers()
    from sim.kernel.transcript import transcript_lines

    assert any("%PKI-6-CERTRENEWAUTO" in line for line in transcript_lines(lab.env.trace, "r2"))


def test_ca_certificate_expiry_is_logged_and_stops_issuing() -> None:
    """When the CA certificate expires, the CA would not log %PKI-2-CS_CERT_EXPIRED, or would still
    grant requests."""
    lab, ca, r2 = lab_with_ca(extra="lifetime ca-certificate 1\n")
    lab.type(ca, "debug crypto pki server")
    lab.run(24 * 3600)
    from sim.kernel.transcript import transcript_lines

    assert any("%PKI-2-CS_CERT_EXPIRED" in line for line in transcript_lines(lab.env.trace, "ca"))
    enroll(lab, r2)
    out = lab.type(ca, "crypto pki server ca grant 1")
    assert "% The certificate server's CA certificate has expired" in out


def test_saved_trustpoint_keeps_retry_settings_and_renewal_after_reload() -> None:
    """After `write memory` and a reload, a trustpoint would lose its retry period, retry count or
    auto-enroll, or stop renewing."""
    lab, ca, r2 = lab_with_ca(grant="grant auto", extra="lifetime certificate 2\n")
    enroll(lab, r2, "enrollment retry period 3\nenrollment retry count 42\nauto-enroll 50\n")
    lab.type(r2, "write memory")
    config = r2.nvram.read("startup-config").decode()
    assert " enrollment retry period 3" in config and " enrollment retry count 42" in config
    first = r2.running.trustpoints["ca"].id_cert.serial_number
    r2.reload()
    lab.run(120)
    tp = r2.running.trustpoints["ca"]
    assert (tp.retry_period_minutes, tp.retry_count, tp.auto_enroll_percent) == (3, 42, 50)
    assert tp.id_cert.serial_number == first
    lab.run(24 * 3600)
    assert r2.running.trustpoints["ca"].id_cert.serial_number > first


def test_show_certificates_lists_a_pending_request() -> None:
    """`show crypto pki certificates` would not show a pending request with its MD5 fingerprint, or
    not show Available once granted."""
    lab, ca, r2 = lab_with_ca()
    enroll(lab, r2)
    out = lab.type(r2, "show crypto pki certificates")
    assert "  Status: Pending" in out
    fingerprint = ca.running.servers["ca"].requests.get(1).fingerprint
    assert f"  Certificate Request Fingerprint MD5: {fingerprint}" in out
    lab.type(ca, "crypto pki server ca grant 1")
    lab.run(120)
    out = lab.type(r2, "show crypto pki certificates")
    assert "  Status: Pending" not in out and "  Status: Available" in out
