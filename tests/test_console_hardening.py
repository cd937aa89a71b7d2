"""Issue 8 at the console: names that would leave the output folder, commands that used to
kill the run, and settings that gave wrong results without a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from routerkit import Lab

from sim.pki import x509util
from sim.pki.cs_fsm import CsState
from sim.pki.cs_server import CsConfig
from sim.router.router import Router
from sim.scenario.loader import load_scenario
from sim.scenario.output import write_output
from sim.scenario.runner import run_scenario

INVALID = "% Invalid input detected at '^' marker."
ENROLL_ANSWERS = ("challenge1", "challenge1", "no", "no", "yes")


def enabled_ca(lab: Lab, extra: str = "", answers: tuple[str, ...] = ("cisco123", "cisco123")
               ) -> Router:
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    lab.type(ca, "enable\nconfigure terminal\ncrypto pki server ca\n" + extra
             + "no shutdown\nend", answers)
    assert ca.server_state() is CsState.ENABLED
    return ca


def client(lab: Lab, name: str = "r2", address: str = "10.0.0.2", tp_extra: str = ""
           ) -> Router:
    """A router whose trustpoint `ca` has authenticated the CA at 10.0.0.1."""
    router = lab.router(name, address)
    lab.net.add_link("ca", name, latency=0.005)
    lab.type(router, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                     "enrollment url http://10.0.0.1\n" + tp_extra + "exit\n"
                     "crypto pki authenticate ca", ("yes",), settle=30)
    assert router.running.trustpoints["ca"].ca_cert is not None
    return router


def caret_under(out: list[str], prompt: str, line: str, column: int) -> None:
    """The last three lines are the echo, the caret under `line[column]`, IOS's message."""
    assert out[-3:] == [prompt + line, " " * (len(prompt) + column) + "^", INVALID]


# -- labels that would become paths ----------------------------------------------------------
BAD_LABELS = [
    "/some/abs/dir/pwned",
    "../../../../esc-tp",
    "../../../../x",
    "a/b",
    "a\\b",
    "..",
    ".hidden",
    "tp..x",
    "bell\x07",
    "caf\u00e9",
    "L" * 129,
]

LABEL_COMMANDS = [
    # (mode prefix typed first, the command with {} for the label)
    ("configure terminal", "crypto pki trustpoint {}"),
    ("configure terminal", "no crypto pki trustpoint {}"),
    ("configure terminal", "crypto pki authenticate {}"),
    ("configure terminal", "crypto pki enroll {}"),
    ("configure terminal", "crypto pki crl request {}"),
    ("configure terminal", "crypto pki certificate chain {}"),
    ("configure terminal", "crypto pki server {}"),
    ("configure terminal", "no crypto pki server {}"),
    ("configure terminal", "crypto key generate rsa label {} modulus 512"),
    ("configure terminal\ncrypto pki trustpoint tp", "rsakeypair {} 1024"),
    ("", "crypto pki server {} info requests"),
    ("", "crypto pki server {} grant all"),
    ("", "show crypto pki server {}"),
    ("", "show crypto pki trustpoints {}"),
    ("", "show crypto key mypubkey rsa {}"),
]


def test_labels_that_are_not_single_file_names_are_invalid_input_everywhere() -> None:
    """A trustpoint, server or key label like `../x` would be taken instead of getting IOS's caret
    and `% Invalid input`."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1")
    lab.type(router, "enable")
    for setup, command in LABEL_COMMANDS:
        for label in BAD_LABELS:
            lab.type(router, "end\n" + setup if setup else "end")
            prompt = router.session.prompt
            line = command.format(label)
            out = lab.type(router, line)
            caret_under(out, prompt, line, command.index("{}"))
    assert set(router.running.trustpoints) <= {"tp"}
    assert not router.running.servers
    assert router.running.keys.labels() == []
    assert router.running.trustpoints["tp"].rsakeypair is None


def test_ordinary_labels_are_accepted() -> None:
    """Ordinary labels with dots, dashes, underscores or 128 characters would be refused as
    trustpoint or key names."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1")
    longest = "T" * 128
    lab.type(router, "enable\nconf t\ncrypto pki trustpoint TP-self_signed.1\nexit\n"
                     f"crypto pki trustpoint {longest}\nrsakeypair r1.lab.example 512\nexit\n"
                     "crypto key generate rsa label k-1.a_b modulus 512")
    assert set(router.running.trustpoints) == {"TP-self_signed.1", longest}
    assert router.running.trustpoints[longest].rsakeypair == "r1.lab.example"
    assert router.running.keys.labels() == ["k-1.a_b"]


def test_startup_config_with_path_names_boots_and_refuses_them() -> None:
    """A startup-config naming trustpoints or servers with paths would crash the boot or create them
    anyway."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1", "\n".join([
        "ip http server",
        "crypto pki trustpoint ../../../../esc-tp",
        " enrollment url http://10.0.0.2",
        "crypto pki trustpoint /some/abs/dir/pwned",
        "crypto pki certificate chain ../x",
        " certificate ca 01",
        "  3082 0000",
        "  quit",
        "crypto pki server ../../../../x",
        " grant auto",
        "crypto pki trustpoint good",
        " rsakeypair ../k 512",
        " enrollment url http://10.0.0.2",
    ]))
    assert router.up
    assert list(router.running.trustpoints) == ["good"]
    assert router.running.trustpoints["good"].rsakeypair is None
    assert router.running.trustpoints["good"].enrollment_url == "http://10.0.0.2"
    assert not router.running.servers
    errors = [e for e in lab.env.trace.select(router="r1", category="console", name="line")
              if e.data["text"] == INVALID]
    assert len(errors) >= 5


PATH_SCENARIO = """\
name: path-confinement
description: Trustpoint and server names that are paths never reach the file system.
seed: 1
start: 2005-01-06T21:00:00Z
duration: 3m
routers:
  ca:
    address: 10.0.0.1
    config: |
      ip http server
  r1:
    address: 10.0.0.2
links:
  - endpoints: [ca, r1]
    latency: 2ms
events:
  - at: 5s
    router: ca
    cli: |
      enable
      configure terminal
      crypto pki server ../../../../x
      no shutdown
      crypto pki server ABSDIR/pwned-cs
      no shutdown
      crypto pki server ca
      no shutdown
      end
    input: [cisco123, cisco123, cisco123, cisco123, cisco123, cisco123]
  - at: 60s
    router: r1
    cli: |
      enable
      configure terminal
      crypto pki trustpoint ABSDIR/pwned
      enrollment url http://10.0.0.1
      exit
      crypto pki authenticate ABSDIR/pwned
      crypto pki trustpoint ../../../../esc-tp
      enrollment url http://10.0.0.1
      exit
      crypto pki authenticate ../../../../esc-tp
      end
    input: [yes, yes]
expect:
  - {router: ca, server_state: enabled}
"""


def test_a_run_with_path_names_writes_only_inside_its_output_folder(tmp_path: Path) -> None:
    """A scenario with path-like labels could write files outside the run's output folder."""
    sandbox = tmp_path / "a" / "b" / "c" / "d"
    out = sandbox / "out"
    absdir = tmp_path / "abs"
    text = PATH_SCENARIO.replace("ABSDIR", str(absdir))
    scenario_file = sandbox / "path.yaml"
    sandbox.mkdir(parents=True)
    scenario_file.write_text(text)
    result = run_scenario(load_scenario(scenario_file))
    write_output(result, out)
    outside = sorted(p for p in tmp_path.rglob("*")
                     if p != scenario_file and out not in p.parents and p != out
                     and p not in sandbox.parents and p != sandbox)
    assert outside == []
    assert not absdir.exists()
    transcript = (out / "transcripts" / "ca.txt").read_text()
    assert transcript.count(INVALID) >= 2
    r1 = (out / "transcripts" / "r1.txt").read_text()
    assert r1.count(INVALID) >= 4
    assert "Trustpoint CA certificate accepted." not in r1
    assert result.world.routers["r1"].running.trustpoints == {}


# -- console crashes ----------------------------------------------------------------------------
def _key_data(out: list[str], name: str) -> bytes:
    """The DER behind `Key Data:` of key `name` in `show crypto key mypubkey rsa` output."""
    start = out.index(f"Key name: {name}")
    first = out.index(" Key Data:", start) + 1
    rows = []
    for row in out[first:]:
        if not row.startswith("  "):
            break
        words = row.split()
        assert 1 <= len(words) <= 8 and all(len(w) == 8 for w in words[:-1])
        rows.append(row)
    assert all(len(r.split()) == 8 for r in rows[:-1])
    return bytes.fromhex("".join("".join(r.split()) for r in rows))


def test_show_crypto_key_mypubkey_rsa_dumps_each_public_key() -> None:
    """`show crypto key mypubkey rsa` would not list each key's name, usage, generation time and
    real key data."""
    lab = Lab()
    ca = enabled_ca(lab)
    lab.run(30)
    out = lab.type(ca, "configure terminal\ncrypto key generate rsa label k1 exportable "
                       "modulus 512\nend\nshow crypto key mypubkey rsa")
    at = out.index("ca#show crypto key mypubkey rsa")
    shown = out[at + 1:]
    # The CA key made by the server's first `no shutdown` (21:00:12) has its time too.
    assert shown[0] == "% Key pair was generated at: 21:00:12 UTC Jan 6 2005"
    assert shown[1:6] == ["Key name: ca", " Usage: General Purpose Key",
                          " Key is not exportable.", " Key Data:",
                          "  30819F30 0D06092A 864886F7 0D010101 05000381 8D003081 89028181 "
                          + shown[5].split()[-1]]
    assert _key_data(shown, "ca") == x509util.public_key_der(ca.running.keys.get("ca").key)
    k1 = shown.index("Key name: k1")
    assert shown[k1 - 1].startswith("% Key pair was generated at: 21:0")
    assert shown[k1 - 1].endswith(" UTC Jan 6 2005")
    assert shown[k1 + 2] == " Key is exportable."
    spki = serialization.load_der_public_key(_key_data(shown, "k1"))
    assert spki.public_numbers() == ca.running.keys.get("k1").key.public_key().public_numbers()
    only = lab.type(ca, "show crypto key mypubkey rsa k1")
    assert only[2] == "Key name: k1" and "Key name: ca" not in only


def test_key_generation_time_survives_a_reload() -> None:
    """After a reload, `show crypto key mypubkey rsa` would show a different
    "Key pair was generated at" time."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1")
    lab.type(router, "enable\nconf t\ncrypto key generate rsa label k1 modulus 512\nend\n"
                     "write memory")
    before = lab.type(router, "show crypto key mypubkey rsa")[1]
    assert before.startswith("% Key pair was generated at: ")
    lab.type(router, "reload", ("",), settle=120)
    lab.type(router, "enable")
    assert lab.type(router, "show crypto key mypubkey rsa")[1] == before


def test_enroll_and_crl_request_refuse_an_enrollment_url_that_is_not_http() -> None:
    """`crypto pki enroll` or `crl request` with an ftp:// or missing enrollment URL would try
    anyway instead of refusing."""
    lab = Lab()
    enabled_ca(lab)
    r2 = client(lab)
    out = lab.type(r2, "crypto pki trustpoint ca\nenrollment url ftp://10.0.0.1\nexit\n"
                       "crypto pki enroll ca\ncrypto pki crl request ca", ENROLL_ANSWERS)
    assert out.count("% ftp://10.0.0.1 is not an http:// enrollment URL") == 2
    assert "% Start certificate enrollment .." not in out
    out = lab.type(r2, "crypto pki trustpoint ca\nno enrollment url\nexit\n"
                       "crypto pki enroll ca\ncrypto pki crl request ca", ENROLL_ANSWERS)
    assert ("You must specify an enrollment URL for this CA before you can enroll with it."
            in out)
    assert ("You must specify an enrollment URL for this CA before you can request its CRL."
            in out)
    tp = r2.running.trustpoints["ca"]
    assert tp.pending is None and tp.id_cert is None and tp.crl is None
    assert not lab.env.trace.select(router="r2", category="pki", name="scep.request")[1:]


def test_enroll_on_the_certificate_servers_own_trustpoint_is_refused() -> None:
    """`crypto pki enroll` on the CA's own trustpoint would be accepted and disturb the running
    certificate server."""
    lab = Lab()
    ca = enabled_ca(lab)
    cert = ca.running.trustpoints["ca"].ca_cert
    out = lab.type(ca, "configure terminal\ncrypto pki enroll ca", ENROLL_ANSWERS)
    assert out[-2:] == ["% Trustpoint ca is the trustpoint of certificate server ca;",
                        "% the server manages its certificate. Enroll another trustpoint "
                        "instead."]
    tp = ca.running.trustpoints["ca"]
    assert tp.ca_cert is cert and tp.id_cert is None and tp.pending is None
    assert ca.server_state() is CsState.ENABLED


def test_a_modulus_answer_that_is_not_a_small_number_is_refused() -> None:
    """A modulus answer like `1e3`, `-512` or 5000 digits would crash the router instead of
    `% Invalid modulus size`."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1")
    for answer in ("9" * 5000, "\u00b2", "1e3", "-512", "0" * 10 + "512"):
        out = lab.type(router, "enable\nconf t\ncrypto key generate rsa label k", (answer,))
        expected = ("% Generating 512 bit RSA keys ...[OK]" if answer.endswith("0512")
                    else "% Invalid modulus size; use a value from 360 to 2048.")
        assert out[-1] == expected
        lab.type(router, "end")


# -- wrong results without a crash ----------------------------------------------------------------
def test_the_ca_key_cannot_be_replaced_while_its_server_uses_it() -> None:
    """Regenerating the CA's key while its server exists would replace it, so later certificates
    would not verify."""
    lab = Lab()
    ca = enabled_ca(lab)
    r2 = client(lab)
    lab.type(r2, "crypto pki enroll ca", ENROLL_ANSWERS, settle=30)
    key_before = ca.running.keys.get("ca").key
    out = lab.type(ca, "configure terminal\ncrypto key generate rsa label ca modulus 512",
                   ("yes",))
    assert out[-2:] == ["% The key pair ca is in use by the certificate server ca.",
                        "% Remove the certificate server first ('no crypto pki server ca')."]
    out = lab.type(ca, "crypto key generate rsa label ca", ("yes", "512"))
    assert out[-1].startswith("% Remove the certificate server first")
    assert ca.running.keys.get("ca").key is key_before
    # Shut, the server still owns its CA certificate and key.
    lab.type(ca, "crypto pki server ca\nshutdown\nexit")
    out = lab.type(ca, "crypto key generate rsa label ca modulus 512", ("yes",))
    assert out[-2] == "% The key pair ca is in use by the certificate server ca."
    lab.type(ca, "crypto pki server ca\nno shutdown\nend\ncrypto pki server ca grant all",
             settle=120)
    cert = r2.running.trustpoints["ca"].id_cert
    assert cert is not None
    assert x509util.verify_signature(cert, ca.running.servers["ca"].ca_cert.public_key())


def test_the_ca_key_can_be_chosen_before_the_first_no_shutdown() -> None:
    """A key generated under the CA's label before the first `no shutdown` would be ignored instead
    of used."""
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    out = lab.type(ca, "enable\nconf t\ncrypto pki server ca\nexit\n"
                       "crypto key generate rsa label ca modulus 768\n"
                       "crypto pki server ca\nno shutdown\nend", ("cisco123", "cisco123"))
    assert "% Generating 768 bit RSA keys ...[OK]" in out
    assert ca.server_state() is CsState.ENABLED
    assert ca.running.servers["ca"].ca_cert.public_key().key_size == 768


@pytest.mark.parametrize(("line", "token"), [
    ("lifetime crl 0", "0"),
    ("lifetime crl 0 0", "0"),
    ("lifetime crl 337", "337"),
    ("lifetime crl 24 60", "60"),
    ("lifetime enrollment-request 0", "0"),
    ("lifetime enrollment-request 1001", "1001"),
    ("lifetime certificate 0", "0"),
    ("lifetime certificate 1826", "1826"),
    ("lifetime ca-certificate 0", "0"),
    ("lifetime ca-certificate 7306", "7306"),
])
def test_lifetimes_outside_ios_ranges_are_invalid_input(line: str, token: str) -> None:
    """A `lifetime` value outside IOS's range would be taken instead of getting the caret and
    `% Invalid input`."""
    lab = Lab()
    router = lab.router("ca", "10.0.0.1")
    lab.type(router, "enable\nconf t\ncrypto pki server ca")
    out = lab.type(router, line)
    column = line.rindex(" " + token) + 1
    assert out[-2:] == [" " * (len("ca(cs-server)#") + column) + "^", INVALID]
    assert router.running.servers["ca"].config == CsConfig("ca", shutdown=True)


def test_lifetimes_at_the_edges_of_their_ranges_are_taken() -> None:
    """`lifetime` values at the ends of IOS's ranges, or their `no` forms, would be refused or set
    wrongly."""
    lab = Lab()
    router = lab.router("ca", "10.0.0.1")
    out = lab.type(router, "enable\nconf t\ncrypto pki server ca\nlifetime crl 0 30\n"
                           "lifetime enrollment-request 1000 59\nlifetime certificate 1825\n"
                           "lifetime ca-certificate 7305")
    assert INVALID not in out
    cfg = router.running.servers["ca"].config
    assert (cfg.lifetime_crl_minutes, cfg.lifetime_enrollment_request_minutes,
            cfg.lifetime_certificate_days, cfg.lifetime_ca_certificate_days) == \
        (30, 1000 * 60 + 59, 1825, 7305)
    lab.type(router, "lifetime crl 336\nno lifetime enrollment-request 5")
    cfg = router.running.servers["ca"].config
    assert cfg.lifetime_crl_minutes == 336 * 60
    default = CsConfig("ca").lifetime_enrollment_request_minutes
    assert cfg.lifetime_enrollment_request_minutes == default
    out = lab.type(router, "no lifetime")
    assert out[-1] == "% Incomplete command."


def test_a_saved_zero_crl_lifetime_is_refused_at_boot_and_the_crl_lives_its_default() -> None:
    """A startup-config with `lifetime crl 0` would make the CA rewrite its CRL constantly instead
    of using the default."""
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server\ncrypto pki server ca\n"
                                      " lifetime crl 0\n shutdown")
    default = CsConfig("ca").lifetime_crl_minutes
    assert ca.running.servers["ca"].config.lifetime_crl_minutes == default
    lab.type(ca, "enable\nconf t\ncrypto pki server ca\nno shutdown\nend",
             ("cisco123", "cisco123"))
    lab.run(600)
    writes = [e for e in lab.env.trace.select(router="ca", category="nvram", name="write")
              if e.data["file"] == "ca.crl"]
    assert len(writes) == 1


def test_the_core_refuses_lifetimes_outside_their_ranges() -> None:
    """A scenario or config could build a certificate server with a lifetime IOS would never accept.
    """
    for field, value in (("lifetime_crl_minutes", 0), ("lifetime_crl_minutes", 337 * 60),
                         ("lifetime_enrollment_request_minutes", 0),
                         ("lifetime_certificate_days", 7306),
                         ("lifetime_ca_certificate_days", 0)):
        with pytest.raises(ValueError, match="lifetime"):
            CsConfig("ca", **{field: value})


def test_database_archive_pem_writes_the_pem_archive() -> None:
    """`database archive pem` would not write a PEM archive with the CA certificate and encrypted
    key, or leave it behind."""
    lab = Lab()
    ca = enabled_ca(lab, extra="database archive pem\n")
    assert ca.nvram.exists("ca.pem") and not ca.nvram.exists("ca.p12")
    data = ca.nvram.read("ca.pem")
    assert data.startswith(b"-----BEGIN CERTIFICATE-----\n")
    assert b"Proc-Type: 4,ENCRYPTED\nDEK-Info: DES-EDE3-CBC," in data
    cert_end = data.index(b"-----END CERTIFICATE-----\n") + len(b"-----END CERTIFICATE-----\n")
    assert x509util.load_cert(data[:cert_end]) == ca.running.servers["ca"].ca_cert
    key = serialization.load_pem_private_key(data[cert_end:], password=b"cisco123")
    assert key.private_numbers() == ca.running.keys.get("ca").key.private_numbers()
    with pytest.raises(ValueError):
        serialization.load_pem_private_key(data[cert_end:], password=b"cisco124")
    again = enabled_ca(Lab(), extra="database archive pem\n")
    assert again.nvram.read("ca.pem") == data  # same scenario, same bytes
    lab.type(ca, "conf t\nno crypto pki server ca", ("yes",))
    assert not ca.nvram.exists("ca.pem")


def test_database_archive_pkcs12_stays_the_default() -> None:
    """A CA without `database archive` would no longer archive to ca.p12 as IOS does."""
    ca = enabled_ca(Lab())
    assert ca.nvram.exists("ca.p12") and not ca.nvram.exists("ca.pem")


def test_rsakeypair_size_is_used_for_the_generated_key_and_saved() -> None:
    """`rsakeypair NAME 768` would not make a 768-bit key at enrollment, or be lost from the config
    over a reload."""
    lab = Lab()
    enabled_ca(lab)
    r2 = client(lab, tp_extra="rsakeypair tp2key 768\n")
    out = lab.type(r2, "crypto pki enroll ca", ENROLL_ANSWERS, settle=30)
    assert any(line.endswith("%CRYPTO-6-AUTOGEN: Generated new 768 bit key pair")
               for line in out)
    assert r2.running.keys.get("tp2key").bits == 768
    config = lab.type(r2, "end\nshow running-config")
    assert " rsakeypair tp2key 768" in config
    lab.type(r2, "write memory\nreload", ("",), settle=120)
    assert r2.running.trustpoints["ca"].rsakeypair_bits == 768
    lab.type(r2, "enable\nconf t\ncrypto pki trustpoint ca\nrsakeypair other")
    assert r2.running.trustpoints["ca"].rsakeypair_bits is None
    out = lab.type(r2, "rsakeypair other 1024 1024")
    caret_under(out, "r2(ca-trustpoint)#", "rsakeypair other 1024 1024",
                len("rsakeypair other 1024 "))


# -- keys too short for the signatures pkilab makes ----------------------------------------
def test_a_trustpoint_key_too_short_to_sign_a_request_is_refused() -> None:
    """Enrolling with a key too short to sign a request would crash or send a request instead of a
    clear refusal."""
    lab = Lab()
    enabled_ca(lab)
    r2 = client(lab, tp_extra="rsakeypair small 400\n")
    out = lab.type(r2, "crypto pki enroll ca", ENROLL_ANSWERS, settle=30)
    refusal = ("% The key pair of trustpoint ca has 400 bits, too few to sign a request: "
               "it needs at least 496.")
    assert out[-1] == refusal
    assert lab.type(r2, "crypto pki crl request ca")[-1] == refusal
    assert r2.running.trustpoints["ca"].pending is None
    assert lab.env.trace.select(router="r2", category="pki", name="scep.request")[-1].data[
        "operation"] == "GetCACert"


def test_a_server_key_too_short_for_its_hash_keeps_the_server_shut() -> None:
    """A CA key too short for its hash would crash `no shutdown` or `hash` instead of a message with
    the bits needed."""
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    out = lab.type(ca, "enable\nconf t\ncrypto key generate rsa label ca modulus 360\n"
                       "crypto pki server ca\nno shutdown", ("cisco123", "cisco123"))
    assert out[-1] == ("% The key pair ca has 360 bits, too few to sign with sha256: it needs "
                       "at least 496.")
    assert ca.server_state() is CsState.INITIAL and ca.running.servers["ca"].config.shutdown
    lab.type(ca, "exit\ncrypto key generate rsa label ca modulus 512\ncrypto pki server ca",
             ("yes",))
    out = lab.type(ca, "hash sha512")
    assert out[-1] == ("% The key pair ca has 512 bits, too few to sign with sha512: it needs "
                       "at least 752.")
    assert ca.running.servers["ca"].config.hash == "sha256"
    lab.type(ca, "hash sha1\nno shutdown", ("cisco123", "cisco123"))
    assert ca.server_state() is CsState.ENABLED
    assert ca.running.servers["ca"].ca_cert.signature_hash_algorithm.name == "sha1"


def test_terminal_requests_for_keys_the_server_cannot_sign_are_refused() -> None:
    """A pasted non-RSA PKCS#10 request would crash the CA at request or grant instead of a `%`
    message."""
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from sim.pki import cs_desk

    lab = Lab()
    ca = enabled_ca(lab)
    key = ec.derive_private_key(8, ec.SECP256R1())
    csr = cx509.CertificateSigningRequestBuilder().subject_name(cx509.Name(
        [cx509.NameAttribute(NameOID.COMMON_NAME, "ec")])).sign(key, hashes.SHA256())
    pem = x509util.csr_pem(csr).decode().splitlines()
    out = lab.type(ca, "crypto pki server ca request pkcs10 terminal", (*pem, ""))
    assert out[-1] == "% Invalid PKCS10 request: the request's key is not RSA."
    assert not len(ca.running.servers["ca"].requests)
    # A request filed some other way still cannot crash the grant.
    cs = ca.running.servers["ca"]
    entry, _effects = cs_desk.submit(cs, x509util.csr_der(csr), None, "terminal",
                                     ca.clock.now(), ca.running.keys.get("ca").key)
    out = lab.type(ca, f"crypto pki server ca grant {entry.req_id}")
    assert out[-1] == (f"% Enrollment request {entry.req_id}: the certificate server only "
                       "issues for RSA keys.")


def test_a_subject_name_that_is_not_a_dn_is_refused_when_typed() -> None:
    """A malformed `subject-name` would be taken and break enrollment instead of
    `% ... is not a valid subject name`."""
    lab = Lab()
    enabled_ca(lab)
    r2 = client(lab, tp_extra="subject-name CN=r2, O=lab\nsubject-name C=USA\n")
    assert any(e.data["text"] == "% C=USA is not a valid subject name"
               for e in lab.env.trace.select(router="r2", category="console", name="line"))
    assert r2.running.trustpoints["ca"].subject_name == "CN=r2, O=lab"
    out = lab.type(r2, "crypto pki enroll ca", ENROLL_ANSWERS, settle=30)
    assert "% The subject name in the certificate will include: CN=r2, O=lab" in out
    assert "% Certificate request sent to Certificate Authority" in out


def test_console_dialogues_in_a_startup_config_are_skipped_and_keys_kept() -> None:
    """Interactive commands in a startup-config (enroll, authenticate, reload) would run at boot or
    hang it."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1", "\n".join([
        "crypto key generate rsa label k1 modulus 512",
        "crypto key generate rsa label k1 modulus 1024",
        "crypto pki trustpoint tp",
        " enrollment url http://10.0.0.9",
        "crypto pki authenticate tp",
        "crypto pki enroll tp",
        "do reload",
    ]))
    assert router.up
    lines = [e.data["text"] for e in lab.env.trace.select(router="r1", category="console")
             if e.name == "line"]
    for skipped in ("crypto pki authenticate tp", "crypto pki enroll tp", "do reload"):
        assert f"% {skipped}: not run from the startup configuration" in lines
    assert router.running.keys.get("k1").bits == 512
    assert len(lab.env.trace.select(router="r1", category="pki", name="key.generated")) == 1
    assert router.running.trustpoints["tp"].ca_cert is None


def test_the_servers_trustpoint_cannot_be_removed_before_the_server() -> None:
    """`no crypto pki trustpoint` on the CA's trustpoint would remove it under a running certificate
    server."""
    lab = Lab()
    ca = enabled_ca(lab)
    cert = ca.running.servers["ca"].ca_cert
    out = lab.type(ca, "conf t\nno crypto pki trustpoint ca", ("yes",))
    assert out[-2:] == ["% Trustpoint ca is in use by the certificate server ca.",
                        "% Remove the certificate server first ('no crypto pki server ca')."]
    assert ca.running.trustpoints["ca"].ca_cert is cert
    lab.type(ca, "no crypto pki server ca\nno crypto pki trustpoint ca", ("yes",))
    assert "ca" not in ca.running.servers and "ca" not in ca.running.trustpoints


@pytest.mark.parametrize("config", [
    "crypto key generate rsa label ca modulus 360\ncrypto pki server ca",
    "crypto pki server ca\ncrypto key generate rsa label ca modulus 360",
    "crypto key generate rsa label ca modulus 512\ncrypto pki server ca\n hash sha512",
    "crypto key generate rsa label ca modulus 512\ncrypto pki server ca\n hash sha512\n"
    " shutdown\n no shutdown",
])
def test_a_startup_config_giving_its_server_too_short_a_key_boots_with_it_down(
        config: str) -> None:
    """A startup-config giving the CA too short a key would crash the boot instead of leaving the
    server down."""
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server\n" + config)
    lab.run(60)
    assert ca.up and ca.server_state() is CsState.INITIAL
    assert ca.running.servers["ca"].config.shutdown and ca.running.servers["ca"].ca_cert is None
    lines = [e.data["text"] for e in lab.env.trace.select(router="ca", category="console")]
    assert any(line.startswith("% The key pair ca has ") for line in lines)


@pytest.mark.parametrize("hash_name", ["md5", "sha256", "sha512"])
def test_min_signing_bits_is_the_shortest_key_that_signs_a_ca_certificate(
        hash_name: str) -> None:
    """The "needs at least N bits" figure in key-size refusals would be wrong for a hash algorithm.
    """
    from datetime import UTC, datetime, timedelta

    from sim.pki.keys import KeySource

    need = x509util.min_signing_bits(hash_name)
    start = datetime(2005, 1, 6, tzinfo=UTC)
    subject = x509util.parse_dn("CN=ca")
    keys = KeySource(3)
    cert = x509util.make_ca_certificate(keys.get("enough", need), subject, 1, start,
                                        start + timedelta(days=1), hash_name)
    assert cert.signature_hash_algorithm.name == hash_name
    with pytest.raises(ValueError):
        x509util.make_ca_certificate(keys.get("short", need - 8), subject, 1, start,
                                     start + timedelta(days=1), hash_name)
