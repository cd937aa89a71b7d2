"""Backing up and restoring a certificate server, PKCS #12 export and import, and the
request desk's `unrevoke`, `request pkcs10 url` and one-time passwords."""

from __future__ import annotations

import base64

from routerkit import Lab

from sim.kernel.transcript import transcript_lines
from sim.pki import x509util
from sim.pki.ca_requests import RequestState
from sim.pki.cs_fsm import CsState
from sim.pki.scep import make_csr
from sim.router.router import Router

CS = "enable\nconfigure terminal\ncrypto pki server ca\n"
ENROLL = ("yes", "pw", "pw", "no", "no", "yes")


def _ca_lab(grant: str = "grant auto\n") -> tuple[Lab, Router]:
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    lab.type(ca, CS + grant + "database archive pkcs12 password cisco123\nno shutdown\nend")
    assert ca.server_state() is CsState.ENABLED
    return lab, ca


def _client(lab: Lab, name: str, address: str, extra: str = "",
            answers: tuple[str, ...] = ENROLL) -> Router:
    router = lab.router(name, address)
    lab.net.add_link("ca", name, latency=0.005)
    lab.type(router, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                     "enrollment url http://10.0.0.1\n" + extra + "exit\n"
                     "crypto pki authenticate ca\ncrypto pki enroll ca\nend",
             answers, settle=60)
    return router


def _serial(router: Router) -> int | None:
    cert = router.running.trustpoints["ca"].id_cert
    return None if cert is None else cert.serial_number


def _disaster(lab: Lab, ca: Router, keep: tuple[str, ...]) -> None:
    """Back the named database files up to flash:, then lose the server and nvram."""
    for name in keep:
        lab.type(ca, f"copy nvram:{name} flash:backup/{name}", ("",))
    lab.type(ca, "configure terminal\nno crypto pki server ca\nno crypto pki trustpoint ca\n"
                 "end\nerase nvram:\nreload", ("yes", "yes", "", ""), settle=120)
    assert not ca.running.servers and not list(ca.nvram)


def _restore(lab: Lab, ca: Router, extra: str = "") -> list[str]:
    return lab.type(ca, "enable\nconfigure terminal\n"
                        "crypto pki import ca pkcs12 flash:backup/ca.p12 password cisco123\n"
                        "end\n"
                        "copy flash:backup/ca.ser nvram:ca.ser\n"
                        "copy flash:backup/ca.crl nvram:ca.crl\n"
                        "configure terminal\nip http server\ncrypto pki server ca\ngrant auto\n"
                        + extra + "no shutdown\nend",
                    ("", "", ""), settle=60)


def test_the_documented_restore_brings_the_same_ca_back_and_serials_go_on() -> None:
    """Restoring a CA from its .p12, .ser and .crl backups would bring back a different CA,
    reissue old serials, lose revocations, or not survive a reload."""
    lab, ca = _ca_lab()
    original = ca.running.servers["ca"].ca_cert
    r1 = _client(lab, "r1", "10.0.0.2")
    r2 = _client(lab, "r2", "10.0.0.3")
    assert (_serial(r1), _serial(r2)) == (2, 3)
    lab.type(ca, "crypto pki server ca revoke 2")
    _disaster(lab, ca, ("ca.p12", "ca.ser", "ca.crl"))
    out = _restore(lab, ca)
    assert "Source filename [ca.p12]?" in out
    assert any(line.endswith("%CRYPTO-6-PKCS12IMPORT_SUCCESS: PKCS #12 Successfully "
                             "Imported.") for line in out)
    cs = ca.running.servers["ca"]
    assert cs.state is CsState.ENABLED
    assert cs.ca_cert == original  # the same CA: same certificate, same key
    assert cs.last_serial == 3
    crl = cs.crl
    assert crl is not None and [e.serial_number for e in crl] == [2]  # the revocation too
    r3 = _client(lab, "r3", "10.0.0.4")
    assert _serial(r3) == 4
    issued = r3.running.trustpoints["ca"].id_cert
    assert issued is not None and original is not None
    assert x509util.verify_signature(issued, original.public_key())
    # What was restored is configuration like any other: it survives write + reload.
    lab.type(ca, "write memory\nreload", ("",), settle=120)
    assert ca.server_state() is CsState.ENABLED
    assert ca.running.servers["ca"].ca_cert == original


def test_serial_number_restores_a_server_whose_ser_file_was_lost() -> None:
    """With the .ser backup lost, `serial-number` would not set where issuing resumes, so the
    restored CA could reuse a serial."""
    lab, ca = _ca_lab()
    _client(lab, "r1", "10.0.0.2")
    _client(lab, "r2", "10.0.0.3")
    _disaster(lab, ca, ("ca.p12", "ca.crl"))
    out = _restore(lab, ca, "serial-number 0x3\n")
    assert "%Error opening flash:backup/ca.ser (No such file or directory)" in out
    assert ca.running.servers["ca"].last_serial == 3
    assert b"last issued serial number 0x3" in (ca.nvram.read("ca.ser") or b"")
    assert _serial(_client(lab, "r3", "10.0.0.4")) == 4


def test_without_ser_nor_serial_number_a_revoked_serial_is_never_issued_again() -> None:
    """A CA restored without its .ser file could issue a new certificate with a serial that is
    already on its CRL."""
    lab, ca = _ca_lab()
    _client(lab, "r1", "10.0.0.2")
    _client(lab, "r2", "10.0.0.3")
    lab.type(ca, "crypto pki server ca revoke 3")
    _disaster(lab, ca, ("ca.p12", "ca.crl"))
    _restore(lab, ca)
    assert _serial(_client(lab, "r3", "10.0.0.4")) == 4


def test_import_refuses_a_wrong_password_and_an_occupied_trustpoint() -> None:
    """`crypto pki import ... pkcs12` with a wrong password would half-import, or an import would
    silently overwrite a trustpoint that already has certificates."""
    lab, ca = _ca_lab()
    lab.type(ca, "copy nvram:ca.p12 flash:ca.p12", ("",))
    other = lab.router("o", "10.0.0.8")
    other.flash.write("ca.p12", ca.flash.read("ca.p12") or b"")
    out = lab.type(other, "enable\nconfigure terminal\n"
                          "crypto pki import ca pkcs12 flash:ca.p12 password wrong\nend", ("",))
    assert any(line.endswith("%CRYPTO-6-PKCS12IMPORT_FAIL: PKCS #12 Import Failed.")
               for line in out)
    assert "ca" not in other.running.trustpoints and other.running.keys.get("ca") is None
    out = lab.type(ca, "configure terminal\n"
                       "crypto pki import ca pkcs12 flash:ca.p12 password cisco123\nend")
    assert ("% Trustpoint ca already has certificates; remove it first "
            "('no crypto pki trustpoint ca').") in out


def test_export_pkcs12_to_a_tftp_server_and_import_it_on_another_router() -> None:
    """`crypto pki export ... pkcs12` to TFTP would export a non-exportable key, or the file
    would not import on another router with the same key and certificates."""
    lab, ca = _ca_lab()
    r1 = lab.router("r1", "10.0.0.2")
    lab.net.add_link("ca", "r1", latency=0.005)
    fs = lab.router("fs", "10.0.0.9", "tftp-server flash:keys/")
    lab.net.add_link("r1", "fs", latency=0.005)
    lab.type(r1, "enable\nconfigure terminal\ncrypto key generate rsa label r1key modulus 1024\n"
                 "crypto pki trustpoint ca\nenrollment url http://10.0.0.1\nrsakeypair r1key\n"
                 "exit\ncrypto pki authenticate ca\ncrypto pki enroll ca\nend",
             ("yes", "pw", "pw", "no", "no", "yes"), settle=60)
    out = lab.type(r1, "configure terminal\n"
                       "crypto pki export ca pkcs12 tftp://10.0.0.9/keys/r1.p12 password pk12pass\n"
                       "end", ("",))
    assert "% The key pair r1key is not exportable." in out
    lab.type(r1, "configure terminal\n"
                 "crypto key generate rsa label r1key modulus 1024 exportable\n"
                 "end", ("yes",))
    # The new key no longer matches the certificate; enroll again with it.
    lab.type(r1, "configure terminal\ncrypto pki enroll ca\nend", ("yes", "pw", "pw", "no",
                                                                    "no", "yes"), settle=60)
    out = lab.type(r1, "configure terminal\n"
                       "crypto pki export ca pkcs12 tftp://10.0.0.9/keys/r1.p12 password pk12pass\n"
                       "end", ("",))
    assert "Destination filename [r1.p12]?" in out
    assert any(line.endswith("%CRYPTO-6-PKCS12EXPORT_SUCCESS: PKCS #12 Successfully "
                             "Exported.") for line in out)
    assert fs.flash.read("keys/r1.p12") is not None
    spare = lab.router("spare", "10.0.0.5")
    lab.net.add_link("spare", "fs", latency=0.005)
    lab.type(spare, "enable\nconfigure terminal\n"
                    "crypto pki import ca pkcs12 tftp://10.0.0.9/keys/r1.p12 password pk12pass\n"
                    "end", ("",))
    tp = spare.running.trustpoints["ca"]
    assert tp.id_cert == r1.running.trustpoints["ca"].id_cert
    assert tp.ca_cert == ca.running.servers["ca"].ca_cert
    pair = spare.running.keys.get("ca")
    assert pair is not None
    original = r1.running.keys.get("r1key")
    assert original is not None
    assert pair.key.private_numbers() == original.key.private_numbers()


# -- the request desk ---------------------------------------------------------------------
def test_one_time_password_grants_one_request_under_manual_grant() -> None:
    """`password generate` one-time passwords would have the wrong output, be reusable, or still
    grant after they expire."""
    lab, ca = _ca_lab(grant="")
    out = lab.type(ca, "crypto pki server ca password generate 10")
    assert out[-1] == "% Valid for 10 minutes."
    otp = out[-2].removeprefix("% New one-time password: ")
    assert len(otp) == 16
    stored = ca.running.servers["ca"].one_time_password
    assert stored is not None and stored[0] == otp
    r1 = _client(lab, "r1", "10.0.0.2", f"password {otp}\n", ("yes", "no", "no", "yes"))
    assert _serial(r1) == 2
    # Spent: the next request carrying it waits for the administrator.
    r2 = _client(lab, "r2", "10.0.0.3", f"password {otp}\n", ("yes", "no", "no", "yes"))
    assert _serial(r2) is None
    assert ca.running.servers["ca"].requests.get(2).state is RequestState.PENDING
    # A new password that runs out before it is used grants nothing.
    out = lab.type(ca, "crypto pki server ca password generate 1")
    late = out[-2].removeprefix("% New one-time password: ")
    assert late != otp
    lab.run(120)
    r3 = _client(lab, "r3", "10.0.0.4", f"password {late}\n", ("yes", "no", "no", "yes"))
    assert _serial(r3) is None


def test_unrevoke_takes_a_certificate_off_the_crl() -> None:
    """`crypto pki server ca unrevoke` would leave the certificate on the CRL or print the wrong
    message for an unrevoked serial or an unknown server."""
    lab, ca = _ca_lab()
    _client(lab, "r1", "10.0.0.2")
    lab.type(ca, "crypto pki server ca revoke 0x2")
    out = lab.type(ca, "crypto pki server ca unrevoke 0x2")
    assert out[-1] == "% Certificate 02 successfully unrevoked."
    assert list(x509util.load_crl(ca.nvram.read("ca.crl") or b"")) == []
    out = lab.type(ca, "crypto pki server ca unrevoke 2\ncrypto pki server nope unrevoke 2")
    assert "% Certificate 02 is not revoked." in out
    assert "Certificate server 'nope' is not known" in out


def test_request_pkcs10_url_reads_the_request_and_writes_the_certificate_beside_it() -> None:
    """`request pkcs10 url` would not write the granted .crt beside the request, or would print
    the wrong error for a bad or missing file."""
    lab, ca = _ca_lab()
    key = lab.keys.get("offline-client", 1024)
    csr = make_csr(key, x509util.parse_dn("CN=offline.lab"))
    ca.flash.write("reqs/offline.req", x509util.csr_pem(csr))
    out = lab.type(ca, "crypto pki server ca request pkcs10 url flash:reqs/offline.req pem")
    assert out[-1] == "% Granted certificate written to flash:reqs/offline.crt"
    cert = x509util.load_cert(ca.flash.read("reqs/offline.crt") or b"")
    assert cert.serial_number == 2 and "offline.lab" in cert.subject.rfc4514_string()
    ca.flash.write("reqs/bad.req", b"not a request")
    out = lab.type(ca, "crypto pki server ca request pkcs10 url flash:reqs/bad.req\n"
                       "crypto pki server ca request pkcs10 url flash:reqs/none.req")
    assert "% Invalid PKCS10 request." in out
    assert "%Error opening flash:reqs/none.req (No such file or directory)" in out


def test_request_pkcs10_url_under_manual_grant_stays_pending_and_base64_is_the_default(
) -> None:
    """Under manual grant, `request pkcs10 url` would issue at once instead of printing `pending,
    reqId=1`, or would not write base64 by default."""
    lab, ca = _ca_lab(grant="")
    key = lab.keys.get("offline-client", 1024)
    der = x509util.csr_der(make_csr(key, x509util.parse_dn("CN=offline.lab")))
    ca.flash.write("a.req", base64.encodebytes(der))
    out = lab.type(ca, "crypto pki server ca request pkcs10 url flash:a.req")
    assert out[-1] == "% Enrollment request pending, reqId=1"
    assert not ca.flash.exists("a.crt")
    lab.type(ca, "configure terminal\ncrypto pki server ca\nshutdown\ngrant auto\n"
                 "no shutdown\nend")
    lab.type(ca, "crypto pki server ca request pkcs10 url flash:a.req base64")
    cert = x509util.load_cert(base64.b64decode(ca.flash.read("a.crt") or b""))
    assert cert.serial_number == 2


def test_lines_that_need_the_console_are_not_run_from_startup_config() -> None:
    """A console-only command such as `crypto pki import` in a startup config would run at boot
    instead of being skipped with a note in the transcript."""
    lab = Lab()
    r = lab.router("r", "10.0.0.1",
                   "crypto pki import ca pkcs12 flash:x.p12 password abcdefgh")
    assert "ca" not in r.running.trustpoints
    assert any("not run from the startup configuration" in line
               for line in transcript_lines(lab.env.trace, "r"))
