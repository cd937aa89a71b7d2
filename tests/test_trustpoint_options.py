"""Trustpoint options that shape a request or are stored and shown, `show` in the submode,
`auto-enroll [PCT] [regenerate]`, the 12.3 `crypto ca ...` spellings and
`no crypto pki trustpoint` (issue 11, "Trustpoints")."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier
from routerkit import Lab

from sim.kernel.transcript import transcript_lines
from sim.pki import x509util
from sim.router.router import Router

OPTIONS = """\
crypto pki trustpoint ca
enrollment url http://10.0.0.1
fqdn r1.example.net
subject-name CN=r1,O=lab
subject-alt-name www.r1.example.net
vrf blue
source interface Loopback0
usage ssl-client
eku request client-auth ipsec-t
hash sha512
enrollment mode ra
auto-enroll 70 regenerate
"""

SHOWN = [
    "crypto pki trustpoint ca",
    " enrollment mode ra",
    " enrollment url http://10.0.0.1",
    " fqdn r1.example.net",
    " subject-name CN=r1,O=lab",
    " subject-alt-name www.r1.example.net",
    " vrf blue",
    " source interface Loopback0",
    " usage ssl-client",
    " eku request client-auth ipsec-tunnel",
    " auto-enroll 70 regenerate",
    " hash sha512",
]


def _ca(lab: Lab, lifetime_days: int | None = None) -> Router:
    ca = lab.router("ca", "10.0.0.1", "ip http server\nip domain name lab")
    lifetime = f"lifetime certificate {lifetime_days}\n" if lifetime_days else ""
    lab.type(ca, "enable\nconfigure terminal\ncrypto pki server ca\ngrant auto\n"
                 f"{lifetime}no shutdown\nend", ("secretpass", "secretpass"))
    return ca


def _client(lab: Lab, name: str = "r1", address: str = "10.0.0.2") -> Router:
    client = lab.router(name, address, "ip domain name lab")
    lab.net.add_link("ca", name)
    return client


def _trustpoint_block(router: Router) -> list[str]:
    lines = router.observe("show running-config")
    start = lines.index("crypto pki trustpoint ca")
    return lines[start:lines.index("!", start)]


def _artifacts(router: Router, suffix: str) -> list[bytes]:
    return [data for name, data in router.artifacts if name.endswith(suffix)]


def _enroll(lab: Lab, client: Router, options: str, answers: tuple[str, ...] = (
        "yes", "pw", "pw", "no", "no", "yes"), settle: float = 60.0) -> list[str]:
    return lab.type(client, "enable\nconfigure terminal\n" + options
                    + "exit\ncrypto pki authenticate ca\ncrypto pki enroll ca\nend",
                    answers, settle)


def test_every_option_is_shown_in_the_submode_and_in_running_config_and_survives_reload(
) -> None:
    """A trustpoint option such as `fqdn`, `vrf`, `eku request` or `auto-enroll 70 regenerate` would
    be missing or misordered in `show` or `show running-config`, or lost on reload."""
    lab = Lab()
    _ca(lab)
    client = _client(lab)
    out = lab.type(client, "enable\nconfigure terminal\n" + OPTIONS + "show\nend")
    shown = out[out.index("r1(ca-trustpoint)#show") + 1:]
    assert shown[:len(SHOWN)] == SHOWN
    assert _trustpoint_block(client) == SHOWN
    lab.type(client, "write memory")
    client.reload()
    lab.run(120)
    assert _trustpoint_block(client) == SHOWN
    options = client.running.trustpoints["ca"].options
    assert (options.fqdn, options.vrf, options.usage, options.eku, options.hash) == (
        "r1.example.net", "blue", "ssl-client", ("client-auth", "ipsec-tunnel"), "sha512")


def test_no_forms_remove_the_options() -> None:
    """The `no` forms of trustpoint options would leave their lines in `show running-config` or keep
    `auto-enroll` active."""
    lab = Lab()
    _ca(lab)
    client = _client(lab)
    lab.type(client, "enable\nconfigure terminal\n" + OPTIONS
             + "no fqdn\nno vrf\nno source interface\nno usage\nno eku request\nno hash\n"
               "no subject-alt-name\nno enrollment mode ra\nno auto-enroll\nend")
    assert _trustpoint_block(client) == [
        "crypto pki trustpoint ca", " enrollment url http://10.0.0.1",
        " subject-name CN=r1,O=lab"]
    assert client.running.trustpoints["ca"].renewal_percent is None


def test_bad_eku_purpose_and_interface_are_refused_at_the_word() -> None:
    """An unknown `eku request` purpose or a bad `source interface` would be accepted, or the `^`
    would not mark the bad word."""
    lab = Lab()
    client = lab.router("r1", "10.0.0.2")
    out = lab.type(client, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                           "eku request client-auth bogus\nsource interface 10.0.0.9\nend")
    errors = [i for i, line in enumerate(out) if "% Invalid input detected" in line]
    assert len(errors) == 2
    assert out[errors[0] - 1].index("^") == len("r1(ca-trustpoint)#eku request client-auth ")
    assert out[errors[1] - 1].index("^") == len("r1(ca-trustpoint)#source interface ")
    options = client.running.trustpoints["ca"].options
    assert options.eku == () and options.source_interface is None


def test_names_a_request_cannot_carry_are_refused() -> None:
    """An `fqdn` or `subject-alt-name` with non-ASCII letters would be accepted and produce a
    request no CA can read."""
    lab = Lab()
    client = lab.router("r1", "10.0.0.2")
    out = lab.type(client, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                           "fqdn caf\u00e9.lab\nsubject-alt-name w\u00e9b.lab\nend")
    assert len([line for line in out if "% Invalid input detected" in line]) == 2
    options = client.running.trustpoints["ca"].options
    assert options.fqdn is None and options.subject_alt_name is None


def test_the_request_carries_fqdn_eku_subject_alt_name_and_the_hash() -> None:
    """The enrollment request would not carry the trustpoint's `fqdn`, EKU, subject-alt-name or
    hash, or `crypto pki enroll` would announce the wrong name."""
    lab = Lab()
    _ca(lab)
    client = _client(lab)
    out = _enroll(lab, client, "crypto pki trustpoint ca\nenrollment url http://10.0.0.1\n"
                               "fqdn r1.example.net\nsubject-alt-name www.r1.example.net\n"
                               "eku request server-auth client-auth\nhash sha1\n")
    assert "% The subject name in the certificate will include: r1.example.net" in out
    assert "% The subject name in the certificate will include: r1.lab" not in out
    (pem,) = _artifacts(client, "-ca.csr.pem")
    csr = x509.load_pem_x509_csr(pem)
    assert csr.subject.get_attributes_for_oid(x509util.UNSTRUCTURED_NAME)[0].value == (
        "r1.example.net")
    eku = csr.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["www.r1.example.net"]
    assert csr.signature_algorithm_oid == ObjectIdentifier("1.2.840.113549.1.1.5")  # sha1RSA
    assert x509util.verify_signature(csr, csr.public_key())
    tp = client.running.trustpoints["ca"]
    assert tp.id_cert is not None, "the CA grants it"
    assert tp.id_cert.subject.get_attributes_for_oid(x509util.UNSTRUCTURED_NAME)[0].value == (
        "r1.example.net")


def test_fqdn_none_leaves_the_name_out() -> None:
    """With `fqdn none`, the router's host name would still appear in the enrollment prompt and the
    request's subject."""
    lab = Lab()
    _ca(lab)
    client = _client(lab)
    out = _enroll(lab, client, "crypto pki trustpoint ca\nenrollment url http://10.0.0.1\n"
                               "subject-name CN=r1\nfqdn none\n")
    assert [line for line in out if "will include" in line] == [
        "% The subject name in the certificate will include: CN=r1"]
    (pem,) = _artifacts(client, "-ca.csr.pem")
    csr = x509.load_pem_x509_csr(pem)
    assert csr.subject.get_attributes_for_oid(x509util.UNSTRUCTURED_NAME) == []
    assert csr.subject.rfc4514_string() == "CN=r1"


def test_rsakeypair_size_is_honoured_when_the_key_is_generated() -> None:
    """`rsakeypair tpkey 2048` would generate a key of another size at enrollment, or drop the size
    from the running-config."""
    lab = Lab()
    _ca(lab)
    client = _client(lab)
    out = _enroll(lab, client, "crypto pki trustpoint ca\nenrollment url http://10.0.0.1\n"
                               "rsakeypair tpkey 2048\n")
    assert any("%CRYPTO-6-AUTOGEN: Generated new 2048 bit key pair" in line for line in out)
    pair = client.running.keys.get("tpkey")
    assert pair is not None and pair.bits == 2048
    cert = client.running.trustpoints["ca"].id_cert
    assert cert is not None and cert.public_key().key_size == 2048  # type: ignore[union-attr]
    assert " rsakeypair tpkey 2048" in _trustpoint_block(client)


def _renewals(lab: Lab, router: str) -> list[float]:
    return [e.t for e in lab.env.trace.select(router=router, category="pki", name="renew")]


def test_bare_auto_enroll_renews_at_expiry_not_before() -> None:
    """A trustpoint with bare `auto-enroll` would renew too early, too late, or not get a new
    certificate."""
    lab = Lab()
    _ca(lab, lifetime_days=2)
    client = _client(lab)
    _enroll(lab, client, "crypto pki trustpoint ca\nenrollment url http://10.0.0.1\n"
                         "auto-enroll\n")
    tp = client.running.trustpoints["ca"]
    first = tp.id_cert
    assert first is not None and " auto-enroll" in _trustpoint_block(client)
    life = (first.not_valid_after_utc - first.not_valid_before_utc).total_seconds()
    lab.run(0.9 * life)
    assert _renewals(lab, "r1") == [], "no renewal at 80% or 90% of the life"
    lab.run(0.2 * life)
    (renewed_at,) = _renewals(lab, "r1")
    expiry = (first.not_valid_after_utc - lab.env.start).total_seconds()
    assert expiry - 120 <= renewed_at < expiry, "renewed just before the end"
    assert tp.id_cert is not None and tp.id_cert.serial_number != first.serial_number
    assert tp.id_cert.not_valid_after_utc > first.not_valid_after_utc


def test_auto_enroll_regenerate_renews_with_a_new_key_pair() -> None:
    """`auto-enroll 50 regenerate` would renew at the wrong time or keep the old key pair, without
    logging `%CRYPTO-6-AUTOGEN` again."""
    lab = Lab()
    _ca(lab, lifetime_days=2)
    client = _client(lab)
    _enroll(lab, client, "crypto pki trustpoint ca\nenrollment url http://10.0.0.1\n"
                         "auto-enroll 50 regenerate\n")
    tp = client.running.trustpoints["ca"]
    first = tp.id_cert
    old_key = client.running.keys.get("r1.lab")
    assert first is not None and old_key is not None
    lab.run(26 * 3600)
    assert len(_renewals(lab, "r1")) == 1
    renewed = tp.id_cert
    new_key = client.running.keys.get("r1.lab")
    assert renewed is not None and new_key is not None
    assert renewed.serial_number != first.serial_number
    assert new_key.key.public_key().public_numbers() != old_key.key.public_key().public_numbers()
    assert renewed.public_key().public_numbers() == new_key.key.public_key().public_numbers()  # type: ignore[union-attr]
    lines = "\n".join(transcript_lines(lab.env.trace, "r1"))
    assert lines.count("%CRYPTO-6-AUTOGEN: Generated new 1024 bit key pair") == 2


def test_auto_enroll_without_regenerate_keeps_the_key() -> None:
    """`auto-enroll 50` without `regenerate` would renew with a new key pair instead of the existing
    one."""
    lab = Lab()
    _ca(lab, lifetime_days=2)
    client = _client(lab)
    _enroll(lab, client, "crypto pki trustpoint ca\nenrollment url http://10.0.0.1\n"
                         "auto-enroll 50\n")
    old_key = client.running.keys.get("r1.lab")
    lab.run(26 * 3600)
    renewed = client.running.trustpoints["ca"].id_cert
    assert old_key is not None and renewed is not None and renewed.serial_number == 3
    assert renewed.public_key().public_numbers() == old_key.key.public_key().public_numbers()  # type: ignore[union-attr]


def test_crypto_ca_spellings_are_accepted_and_saved_as_crypto_pki() -> None:
    """Old 12.3 handouts using `crypto ca trustpoint`, `crypto ca authenticate` or `crypto ca
    enroll` would fail, or be saved as `crypto ca` lines."""
    lab = Lab()
    _ca(lab)
    client = _client(lab)
    out = lab.type(client, "enable\nconfigure terminal\ncrypto ca trustpoint ca\n"
                           "enrollment url http://10.0.0.1\nexit\ncrypto ca authenticate ca\n"
                           "crypto ca enroll ca\ncrypto ca crl request ca\nend",
                   ("yes", "pw", "pw", "no", "no", "yes"))
    assert not [line for line in out if "Invalid input" in line]
    tp = client.running.trustpoints["ca"]
    assert tp.id_cert is not None and tp.crl is not None
    config = client.observe("show running-config")
    assert "crypto pki trustpoint ca" in config and "crypto pki certificate chain ca" in config
    assert not [line for line in config if line.startswith("crypto ca")]
    lab.type(client, "configure terminal\nno crypto ca trustpoint ca\nend", ("yes",))
    assert "ca" not in client.running.trustpoints


def test_crypto_ca_certificate_chain_is_read_back() -> None:
    """A saved config with a `crypto ca certificate chain` block would not restore the router's
    certificates at boot."""
    lab = Lab()
    _ca(lab)
    client = _client(lab)
    _enroll(lab, client, "crypto pki trustpoint ca\nenrollment url http://10.0.0.1\n")
    saved = client.observe("show running-config")
    chain = [line.replace("crypto pki certificate chain", "crypto ca certificate chain")
             for line in saved[saved.index("crypto pki certificate chain ca"):]]
    chain = chain[:chain.index("!")]
    other = lab.router("r9", "10.0.0.9", "crypto ca trustpoint ca\n" + "\n".join(chain))
    tp = other.running.trustpoints["ca"]
    assert tp.id_cert == client.running.trustpoints["ca"].id_cert
    assert tp.ca_cert == client.running.trustpoints["ca"].ca_cert


def test_no_crypto_pki_trustpoint_asks_then_drops_the_certificates_and_keeps_the_key(
) -> None:
    """`no crypto pki trustpoint` would not ask IOS's warning question, would drop the certificates
    on `no`, or would delete the key pair."""
    lab = Lab()
    _ca(lab)
    client = _client(lab)
    _enroll(lab, client, "crypto pki trustpoint ca\nenrollment url http://10.0.0.1\n")
    out = lab.type(client, "configure terminal\nno crypto pki trustpoint ca\nend", ("no",))
    assert out[out.index("r1(config)#no crypto pki trustpoint ca") + 1:][:4] == [
        "% Removing an enrolled trustpoint will destroy all certificates",
        " received from the related Certificate Authority.",
        "",
        "Are you sure you want to do this? [yes/no]: no",
    ]
    assert client.running.trustpoints["ca"].id_cert is not None
    out = lab.type(client, "configure terminal\nno crypto pki trustpoint ca\nend", ("yes",))
    assert "% Be sure to ask the CA administrator to revoke your certificates." in out
    assert "ca" not in client.running.trustpoints
    assert client.running.keys.get("r1.lab") is not None, "IOS keeps the key pair"
    assert "crypto pki certificate chain ca" not in client.observe("show running-config")


def test_enrollment_url_and_terminal_replace_each_other() -> None:
    """`enrollment url` and `enrollment terminal` would both stay in the trustpoint instead of the
    later one replacing the other."""
    lab = Lab()
    client = lab.router("r1", "10.0.0.2")
    lab.type(client, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                     "enrollment url http://10.0.0.1\nenrollment terminal\nend")
    assert _trustpoint_block(client) == ["crypto pki trustpoint ca", " enrollment terminal"]
    lab.type(client, "configure terminal\ncrypto pki trustpoint ca\n"
                     "enrollment url http://10.0.0.1\nend")
    assert _trustpoint_block(client) == ["crypto pki trustpoint ca",
                                         " enrollment url http://10.0.0.1"]


def test_enrollment_selfsigned_makes_a_self_signed_router_certificate() -> None:
    """`enrollment selfsigned` with `crypto pki enroll` would not ask IOS's question or not create a
    valid self-signed router certificate."""
    lab = Lab()
    client = lab.router("r1", "10.0.0.2", "ip domain name lab")
    out = lab.type(client, "enable\nconfigure terminal\ncrypto pki trustpoint self\n"
                           "enrollment selfsigned\nsubject-name CN=r1-self\nexit\n"
                           "crypto pki enroll self\nend", ("no", "no", "yes"))
    assert "Generate Self Signed Router Certificate? [yes/no]: yes" in out
    assert "Router Self Signed Certificate successfully created" in out
    cert = client.running.trustpoints["self"].id_cert
    assert cert is not None and cert.issuer == cert.subject
    assert x509util.verify_signature(cert, cert.public_key())
    assert " enrollment selfsigned" in client.observe("show running-config")
