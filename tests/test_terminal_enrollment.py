"""Cut-and-paste enrollment (`enrollment terminal [pem]`), `crypto pki import TP
certificate`, `crypto pki export TP pem terminal`, and scenarios that paste another
router's artifact (`input: [{paste_from: ...}]`) (issue 11, "Terminal enrollment")."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from routerkit import Lab

from sim.pki import x509util
from sim.router.router import Router
from sim.scenario import model as m
from sim.scenario.loader import ScenarioError, load_scenario_text
from sim.scenario.runner import run_scenario
from sim.scenario.writer import scenario_yaml

PASTE_END = 'End with a blank line or the word "quit" on a line by itself'


def _ca(lab: Lab, grant: str = "grant auto\n") -> Router:
    ca = lab.router("ca", "10.0.0.1", "ip domain name lab\nip http server")
    lab.type(ca, f"enable\nconfigure terminal\ncrypto pki server ca\n{grant}no shutdown\nend",
             ("secretpass", "secretpass"))
    return ca


def _pem_lines(cert: x509.Certificate) -> list[str]:
    return x509util.cert_pem(cert).decode().splitlines()


def _terminal_client(lab: Lab, framing: str = "pem") -> Router:
    client = lab.router("r1", "10.0.0.2", "ip domain name lab")
    lab.type(client, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                     f"enrollment terminal {framing}\nend")
    return client


def _authenticate(lab: Lab, client: Router, ca: Router, *more: str) -> list[str]:
    ca_cert = ca.running.trustpoints["ca"].ca_cert
    assert ca_cert is not None
    return lab.type(client, "configure terminal\ncrypto pki authenticate ca\nend",
                    (*_pem_lines(ca_cert), "", *more))


def _request_lines(out: list[str]) -> list[str]:
    start = out.index("Certificate Request follows:") + 2
    return out[start:out.index("---End - This line not part of the certificate request---")]


def _enroll(lab: Lab, client: Router, *redisplay: str) -> list[str]:
    return lab.type(client, "configure terminal\ncrypto pki enroll ca\nend",
                    ("no", "no", "yes", *redisplay, "no"))


def _grant_at_ca(lab: Lab, ca: Router, request: list[str]) -> x509.Certificate:
    out = lab.type(ca, "crypto pki server ca request pkcs10 terminal", (*request, ""))
    body = out[out.index("% Granted certificate:") + 1:]
    return x509.load_der_x509_certificate(base64.b64decode("".join(body[:body.index("")])))


def test_the_whole_cut_and_paste_enrollment() -> None:
    """A teacher walking through cut-and-paste enrollment (authenticate, display, grant at the CA,
    import) would see other prompts or get no certificate."""
    lab = Lab()
    ca = _ca(lab)
    client = _terminal_client(lab, "")
    out = _authenticate(lab, client, ca, "yes")
    assert out[out.index("r1(config)#crypto pki authenticate ca") + 1:][:2] == [
        "Enter the base 64 encoded CA certificate.", PASTE_END]
    assert "% Do you accept this certificate? [yes/no]: yes" in out
    assert out[-4:-2] == ["Trustpoint CA certificate accepted.",
                          "% Certificate successfully imported"]
    tp = client.running.trustpoints["ca"]
    assert tp.ca_cert == ca.running.trustpoints["ca"].ca_cert

    out = _enroll(lab, client)
    assert "% Create a challenge password. You will need to verbally provide this" not in out
    assert "Display Certificate Request to terminal? [yes/no]: yes" in out
    body = _request_lines(out)
    assert not any(line.startswith("-----") for line in body), "base64 without PEM framing"
    assert all(len(line) == 64 for line in body[:-1]) and 0 < len(body[-1]) <= 64
    csr = x509.load_der_x509_csr(base64.b64decode("".join(body)))
    assert csr.subject.get_attributes_for_oid(x509util.UNSTRUCTURED_NAME)[0].value == "r1.lab"
    assert tp.terminal_request == csr
    assert tp.id_cert is None and not [e for e in lab.env.trace.select(
        router="r1", category="pki", name="scep.request")], "nothing goes over SCEP"

    cert = _grant_at_ca(lab, ca, body)
    out = lab.type(client, "configure terminal\ncrypto pki import ca certificate\nend",
                   (*_pem_lines(cert), "quit"))
    start = out.index("r1(config)#crypto pki import ca certificate")
    assert out[start + 1:start + 4] == ["", "Enter the base 64 encoded certificate.",
                                        PASTE_END]
    assert "% Router Certificate successfully imported" in out
    assert tp.id_cert == cert and tp.terminal_request is None
    assert " certificate 02" in client.observe("show running-config")


def test_pem_framing_and_redisplay() -> None:
    """With `enrollment terminal pem`, the displayed request would lack its BEGIN/END lines, not
    redisplay, or not be saved as an artifact."""
    lab = Lab()
    ca = _ca(lab)
    client = _terminal_client(lab, "pem")
    _authenticate(lab, client, ca, "yes")
    out = _enroll(lab, client, "yes")
    assert out.count("Certificate Request follows:") == 2
    assert out.count("Redisplay enrollment request? [yes/no]: yes") == 1
    request = _request_lines(out)
    assert request[0] == "-----BEGIN CERTIFICATE REQUEST-----"
    assert request[-2:] == ["-----END CERTIFICATE REQUEST-----", ""]
    csr = x509.load_pem_x509_csr("\n".join(request[:-1]).encode())
    assert x509util.verify_signature(csr, csr.public_key())
    assert x509util.csr_pem(csr) in [data for name, data in client.artifacts
                                     if name.endswith("-ca.csr.pem")]


def test_no_to_display_ends_the_enrollment_with_nothing_kept() -> None:
    """Answering `no` to `Display Certificate Request to terminal?` would still print a request or
    leave one waiting for import."""
    lab = Lab()
    ca = _ca(lab)
    client = _terminal_client(lab)
    _authenticate(lab, client, ca, "yes")
    out = lab.type(client, "configure terminal\ncrypto pki enroll ca\nend", ("no", "no", "no"))
    assert "Certificate Request follows:" not in out
    assert client.running.trustpoints["ca"].terminal_request is None


def test_authenticate_refuses_a_bad_paste_and_a_router_certificate() -> None:
    """Pasting garbage or a router certificate into `crypto pki authenticate` would be taken as the
    CA certificate instead of refused."""
    lab = Lab()
    _ca(lab)
    client = _terminal_client(lab)
    out = lab.type(client, "configure terminal\ncrypto pki authenticate ca\nend",
                   ("this is not base64 !", ""))
    assert "% The pasted text is not a base64 or PEM encoded certificate." in out
    # A router certificate (no CA:TRUE) pasted by mistake.
    other = lab.router("r2", "10.0.0.3", "ip domain name lab")
    lab.net.add_link("ca", "r2")
    lab.type(other, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                    "enrollment url http://10.0.0.1\nexit\ncrypto pki authenticate ca\n"
                    "crypto pki enroll ca\nend", ("yes", "pw", "pw", "no", "no", "yes"))
    router_cert = other.running.trustpoints["ca"].id_cert
    assert router_cert is not None
    out = lab.type(client, "configure terminal\ncrypto pki authenticate ca\nend",
                   (*_pem_lines(router_cert), ""))
    assert "% The certificate is not a CA certificate (no basicConstraints CA:TRUE)." in out
    assert client.running.trustpoints["ca"].ca_cert is None


def test_authenticate_checks_a_configured_fingerprint_instead_of_asking() -> None:
    """With `fingerprint` configured, `crypto pki authenticate` would still ask `Do you accept`, or
    accept a CA certificate that does not match."""
    lab = Lab()
    ca = _ca(lab)
    ca_cert = ca.running.trustpoints["ca"].ca_cert
    assert ca_cert is not None
    md5 = x509util.fingerprint_hex(x509util.cert_der(ca_cert), "md5")
    client = _terminal_client(lab)
    lab.type(client, f"configure terminal\ncrypto pki trustpoint ca\nfingerprint {md5}\nend")
    out = _authenticate(lab, client, ca)
    assert "Certificate validated - fingerprints matched." in out
    assert not [line for line in out if "Do you accept" in line]
    assert client.running.trustpoints["ca"].ca_cert == ca_cert
    wrong = lab.router("r3", "10.0.0.4")
    lab.type(wrong, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                    f"enrollment terminal\nfingerprint {'0' * 32}\nend")
    out = _authenticate(lab, wrong, ca)
    assert any("does not match the trustpoint fingerprint" in line for line in out)
    assert wrong.running.trustpoints["ca"].ca_cert is None


def test_import_refuses_a_certificate_for_another_key_or_from_another_ca() -> None:
    """`crypto pki import ca certificate` would accept a certificate before authentication, for
    another key, or from another CA."""
    lab = Lab()
    ca = _ca(lab)
    client = _terminal_client(lab)
    out = lab.type(client, "configure terminal\ncrypto pki import ca certificate\nend")
    assert ("% You must authenticate the Certificate Authority before you can import the "
            "router's certificate.") in out
    _authenticate(lab, client, ca, "yes")
    _enroll(lab, client)
    # The CA's own certificate: from the right CA but not for r1's key.
    ca_cert = ca.running.trustpoints["ca"].ca_cert
    assert ca_cert is not None
    out = lab.type(client, "configure terminal\ncrypto pki import ca certificate\nend",
                   (*_pem_lines(ca_cert), ""))
    assert "% The certificate's public key does not match the key pair of trustpoint ca." in out
    # A certificate from another CA.
    lab2 = Lab(seed=2)
    other_ca = lab2.router("ca", "10.0.0.1")
    lab2.type(other_ca, "enable\nconfigure terminal\ncrypto pki server ca\nno shutdown\nend",
              ("secretpass", "secretpass"))
    foreign = other_ca.running.trustpoints["ca"].ca_cert
    assert foreign is not None
    out = lab.type(client, "configure terminal\ncrypto pki import ca certificate\nend",
                   (*_pem_lines(foreign), ""))
    assert "% The certificate was not issued by the CA of trustpoint ca." in out
    assert client.running.trustpoints["ca"].id_cert is None


def test_export_pem_terminal_prints_the_certificates_and_the_encrypted_key() -> None:
    """`crypto pki export ca pem terminal` would print the wrong certificates, leak the key unasked,
    or give a 3DES key that will not load."""
    lab = Lab()
    _ca(lab)
    client = lab.router("r1", "10.0.0.2", "ip domain name lab")
    lab.net.add_link("ca", "r1")
    lab.type(client, "enable\nconfigure terminal\ncrypto key generate rsa label r1key "
                     "exportable modulus 1024\ncrypto pki trustpoint ca\n"
                     "enrollment url http://10.0.0.1\nrsakeypair r1key\nexit\n"
                     "crypto pki authenticate ca\ncrypto pki enroll ca\nend",
             ("yes", "pw", "pw", "no", "no", "yes"))
    tp = client.running.trustpoints["ca"]
    assert tp.id_cert is not None and tp.ca_cert is not None
    out = lab.type(client, "configure terminal\ncrypto pki export ca pem terminal\nend")
    text = "\n".join(out)
    assert "% CA certificate:\n" + x509util.cert_pem(tp.ca_cert).decode() in text
    assert "% Certificate:\n" + x509util.cert_pem(tp.id_cert).decode() in text
    assert "PRIVATE KEY" not in text
    out = lab.type(client, "configure terminal\n"
                           "crypto pki export ca pem terminal 3des password s3cret!\nend")
    start = out.index("% Key name: r1key")
    assert out[start + 1:start + 4] == ["   Usage: General Purpose Key",
                                        "-----BEGIN RSA PRIVATE KEY-----",
                                        "Proc-Type: 4,ENCRYPTED"]
    assert out[start + 4].startswith("DEK-Info: DES-EDE3-CBC,")
    end = out.index("-----END RSA PRIVATE KEY-----", start)
    key = serialization.load_pem_private_key(
        "\n".join(out[start + 2:end + 1]).encode(), password=b"s3cret!")
    pair = client.running.keys.get("r1key")
    assert pair is not None
    assert key.public_key().public_numbers() == pair.key.public_key().public_numbers()  # type: ignore[union-attr]


def test_export_refuses_a_key_that_is_not_exportable() -> None:
    """`crypto pki export ca pem terminal` would print a non-exportable key pair instead of `% RSA
    keypair ca is not exportable.`"""
    lab = Lab()
    ca = _ca(lab)
    out = lab.type(ca, "configure terminal\ncrypto pki export ca pem terminal des password "
                       "abcdefgh\nend")
    assert "% RSA keypair ca is not exportable." in out
    assert "% CA certificate:" not in out


# -- scenarios: paste_from -----------------------------------------------------------------
HEAD = """\
name: paste
description: Pasting artifacts between consoles.
seed: 5
duration: 10m
routers:
  ca:
    address: 10.0.0.1
    config: hostname ca
  r1:
    address: 10.0.0.2
    config: hostname r1
events:
  - at: 5s
    router: ca
    cli: |
      enable
      configure terminal
      crypto pki server ca
      no shutdown
      crypto pki export ca pem terminal
      end
    input: [capassword1, capassword1]
"""


def test_paste_from_pastes_the_newest_matching_artifact() -> None:
    """A scenario's `paste_from` input would paste the wrong artifact or none, so the pasting router
    would not authenticate the CA."""
    scenario = load_scenario_text(HEAD + """\
  - at: 1m
    router: r1
    cli: |
      enable
      configure terminal
      crypto pki trustpoint ca
      enrollment terminal
      exit
      crypto pki authenticate ca
    input:
      - paste_from: {router: ca, artifact: "ca.export-*.pem"}
      - ""
      - "yes"
expect:
  - {router: r1, transcript_contains: "% Certificate successfully imported"}
""", "paste.yaml")
    event = scenario.events[1]
    assert event.input[0].describe() == "paste ca's artifact ca.export-*.pem"  # type: ignore[union-attr]
    result = run_scenario(scenario)
    assert result.passed
    ca_cert = result.world.routers["ca"].running.trustpoints["ca"].ca_cert
    assert result.world.routers["r1"].running.trustpoints["ca"].ca_cert == ca_cert
    (pasted,) = result.world.env.trace.select(category="scenario", name="paste")
    assert pasted.data["artifact"].endswith("-ca.export-ca.pem")
    assert pasted.data["line"] == 33


def test_a_missing_artifact_pastes_nothing_and_is_traced_with_its_line() -> None:
    """A `paste_from` naming a missing artifact would crash or paste something, instead of pasting
    nothing and tracing its scenario line."""
    scenario = load_scenario_text(HEAD + """\
  - at: 1m
    router: r1
    cli: |
      enable
      configure terminal
      crypto pki trustpoint ca
      enrollment terminal
      exit
      crypto pki authenticate ca
    input: [{paste_from: {router: ca, artifact: nothing-like-this.pem}}, ""]
expect:
  - {router: r1, transcript_contains: "% The pasted text is not a base64 or PEM encoded"}
""", "paste.yaml")
    result = run_scenario(scenario)
    assert result.passed
    (missing,) = result.world.env.trace.select(category="scenario", name="paste.missing")
    assert missing.data == {"router": "ca", "artifact": "nothing-like-this.pem", "line": 32}


@pytest.mark.parametrize(("item", "message"), [
    ("{paste_from: {router: cx, artifact: a.pem}}",
     "paste.yaml:26: events[1]: unknown router 'cx' (routers are: ca, r1)"),
    ("{paste_from: {router: ca, artifact: ../a.pem}}",
     "paste.yaml:26: events[1].input[0].paste_from.artifact: '../a.pem' is not an artifact"),
    ("{paste_from: {router: ca}}",
     "paste.yaml:26: events[1].input[0].paste_from: missing required key 'artifact'"),
    ("{paste_from: {router: ca, artifact: a.pem}, after: 1s}",
     "paste.yaml:26: events[1].input[0]: an answer is text"),
])
def test_a_bad_paste_from_is_refused_at_its_line(item: str, message: str) -> None:
    """A bad `paste_from` in a scenario (unknown router, path outside artifacts, missing key) would
    load, or be refused without file:line."""
    text = HEAD + f"""\
  - at: 1m
    router: r1
    cli: enable
    input: [{item}]
expect:
  - {{router: r1, server_state: initial}}
"""
    with pytest.raises(ScenarioError) as raised:
        load_scenario_text(text, "paste.yaml")
    assert str(raised.value).startswith(message)


def test_paste_from_is_written_back_as_it_was_read() -> None:
    """A scenario written back out (as `Lab.scenario()` does) would lose or change its `paste_from`
    inputs."""
    scenario = load_scenario_text(HEAD + """\
  - at: 1m
    router: r1
    cli: crypto pki server ca request pkcs10 terminal
    input:
      - paste_from: {router: ca, artifact: "ca-*.pem"}
      - ""
expect:
  - {router: ca, server_state: enabled}
""", "paste.yaml")
    written = scenario_yaml(scenario)
    assert "paste_from: {router: ca, artifact: ca-*.pem}" in written
    again = load_scenario_text(written, "again.yaml")
    assert [replace(e, line=0) for e in again.events] == [
        replace(e, line=0) for e in scenario.events]
    assert again.events[1].input[0] == m.PasteFrom("ca", "ca-*.pem")  # type: ignore[union-attr]
