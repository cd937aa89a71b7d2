"""X.509 helpers: IOS names, CA/issued certificates, CRLs, legacy hashes, fingerprints."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import NameOID

from sim.pki import x509util as xu
from sim.pki.keys import KeySource

T0 = datetime(2005, 1, 6, 21, 7, 52, 460000, tzinfo=UTC)
HAS_OPENSSL = shutil.which("openssl") is not None
needs_openssl = pytest.mark.skipif(not HAS_OPENSSL, reason="openssl command not installed")


@pytest.fixture(scope="module")
def source() -> KeySource:
    return KeySource(2005)


@pytest.fixture(scope="module")
def ca_key(source: KeySource):
    return source.get("sub/keys/sub#0", 1024)


@pytest.fixture(scope="module")
def ca_cert(ca_key) -> x509.Certificate:
    return xu.make_ca_certificate(
        ca_key, xu.parse_dn("CN=sub"), 1, T0, T0 + timedelta(days=3 * 365), "md5"
    )


def _openssl(kind: str, pem: bytes) -> str:
    result = subprocess.run(
        ["openssl", kind, "-noout", "-text"], input=pem, capture_output=True, check=True
    )
    return result.stdout.decode()


# --------------------------------------------------------------------------- names


def test_parse_dn_reverses_into_der_order() -> None:
    """A subject typed as `CN=...,C=US` would be encoded in the wrong order, so certificates would
    show a reversed name."""
    name = xu.parse_dn("CN=CA.lab.lcl,C=US")
    assert [rdn.get_attributes_for_oid(NameOID.COUNTRY_NAME) for rdn in name.rdns][0]
    assert [attr.oid for attr in name] == [NameOID.COUNTRY_NAME, NameOID.COMMON_NAME]
    assert name.rfc4514_string() == "CN=CA.lab.lcl,C=US"


def test_parse_dn_keywords_trim_and_escapes() -> None:
    """Subject names with lowercase keywords, extra spaces, escaped commas, `EA=` or `hostname=`
    would be misread."""
    name = xu.parse_dn(r"cn = sub CA ,  o=Cisco\, Inc ,C=us, EA=a@b.c, Hostname=R1.lab")
    values = {attr.oid: attr.value for attr in name}
    assert values[NameOID.COMMON_NAME] == "sub CA"
    assert values[NameOID.ORGANIZATION_NAME] == "Cisco, Inc"
    assert values[NameOID.COUNTRY_NAME] == "us"
    assert values[NameOID.EMAIL_ADDRESS] == "a@b.c"
    assert values[xu.UNSTRUCTURED_NAME] == "R1.lab"


@pytest.mark.parametrize(
    "text",
    [
        "CN=sub CA, O=Cisco, C=us",
        "hostname=R15, CN=R15, OU=VPN, O=MSK, C=RU",
        "SERIALNUMBER=67109104+hostname=R15.otus.ru",
        "ipaddress=10.3.0.6, DC=lab, L=Moscow, ST=MO, E=pki@lab.lcl",
        r"CN=a\, b, O=x\+y",
    ],
)
def test_typed_format_round_trips(text: str) -> None:
    """Subject names printed by pkilab could not be typed back in and give the same name."""
    name = xu.parse_dn(text)
    assert xu.parse_dn(xu.format_dn_typed(name)) == name


def test_format_dn_typed_style() -> None:
    """Subject names would be printed in a style other than IOS's `CN=sub CA, O=Cisco, C=us`."""
    assert xu.format_dn_typed(xu.parse_dn("cn=sub CA,o=Cisco,c=us")) == "CN=sub CA, O=Cisco, C=us"


def test_format_dn_ios_matches_request_database() -> None:
    """Names in the CS request database and `show crypto pki server requests` would not be in IOS's
    lowercase `hostname=R15,cn=R15` form."""
    name = xu.parse_dn("hostname=R15,cn=R15,ou=VPN,o=MSK,c=RU")
    assert xu.format_dn_ios(name) == "hostname=R15,cn=R15,ou=VPN,o=MSK,c=RU"
    multi = xu.parse_dn("serialNumber=67109104+hostname=R15.otus.ru")
    assert xu.format_dn_ios(multi) == "serialNumber=67109104+hostname=R15.otus.ru"
    assert xu.format_dn_ios(xu.parse_dn("CN=sub")) == "cn=sub"


@pytest.mark.parametrize("text", ["", "   ", "sub", "XX=1", "CN=", "CN=a,", "C=USA"])
def test_invalid_dn_is_rejected(text: str) -> None:
    """A malformed subject name would be accepted instead of refused with `is not a valid subject
    name`."""
    with pytest.raises(ValueError, match="is not a valid subject name"):
        xu.parse_dn(text)


# --------------------------------------------------------------------------- CA certificate


def test_ca_certificate_as_ios_makes_it(ca_cert: x509.Certificate, ca_key) -> None:
    """The CA certificate would differ from the one IOS makes (serial, dates, basic constraints, key
    usage, key identifiers, or signature)."""
    assert ca_cert.version is x509.Version.v3
    assert ca_cert.serial_number == 1
    assert ca_cert.subject == ca_cert.issuer == xu.parse_dn("CN=sub")
    assert ca_cert.not_valid_before_utc == T0.replace(microsecond=0)
    bc = ca_cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length is None
    ku = ca_cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    assert ku.value.digital_signature and ku.value.key_cert_sign and ku.value.crl_sign
    assert not ku.value.key_encipherment
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = ca_cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert xu.verify_signature(ca_cert, ca_key.public_key())


@pytest.mark.parametrize(
    ("hash_name", "oid_name", "algorithm"),
    [
        ("md5", "md5WithRSAEncryption", hashes.MD5()),
        ("sha1", "sha1WithRSAEncryption", hashes.SHA1()),
        ("sha256", "sha256WithRSAEncryption", hashes.SHA256()),
    ],
)
def test_signature_hash_is_honoured(ca_key, hash_name: str, oid_name: str, algorithm) -> None:
    """`hash md5`, `sha1` or `sha256` would not control how certificates and CRLs are signed, as
    openssl shows."""
    cert = xu.make_ca_certificate(
        ca_key, xu.parse_dn("CN=root"), 1, T0, T0 + timedelta(days=365), hash_name
    )
    assert cert.signature_algorithm_oid._name == oid_name
    assert cert.signature_hash_algorithm.name == hash_name
    ca_key.public_key().verify(
        cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), algorithm
    )
    crl = xu.make_crl(ca_key, cert, T0, T0 + timedelta(hours=6), hash_name=hash_name)
    ca_key.public_key().verify(crl.signature, crl.tbs_certlist_bytes, padding.PKCS1v15(), algorithm)
    assert xu.verify_signature(crl, ca_key.public_key())
    if HAS_OPENSSL:
        assert f"Signature Algorithm: {oid_name}" in _openssl("x509", xu.cert_pem(cert))
        assert f"Signature Algorithm: {oid_name}" in _openssl("crl", xu.crl_pem(crl))


def test_verify_signature_rejects_other_key(ca_cert: x509.Certificate, source: KeySource) -> None:
    """A certificate would be accepted as signed by a key that did not sign it."""
    other = source.get("other/keys/other#0", 1024)
    assert not xu.verify_signature(ca_cert, other.public_key())


@needs_openssl
def test_openssl_reads_ca_certificate(ca_cert: x509.Certificate) -> None:
    """`openssl x509 -text` would not show the CA certificate's issuer, subject, CA:TRUE, key usage
    and start date as IOS's does."""
    text = _openssl("x509", xu.cert_pem(ca_cert))
    assert "Issuer: CN = sub" in text and "Subject: CN = sub" in text
    assert "CA:TRUE" in text
    assert "Digital Signature, Certificate Sign, CRL Sign" in text
    assert "Not Before: Jan  6 21:07:52 2005 GMT" in text


def test_unknown_hash_is_rejected(ca_key) -> None:
    """An unsupported signature hash would be used silently instead of refused."""
    with pytest.raises(ValueError):
        xu.make_ca_certificate(ca_key, xu.parse_dn("CN=x"), 1, T0, T0, "sha3")


# --------------------------------------------------------------------------- issued certificates


def test_issued_router_certificate(ca_key, ca_cert: x509.Certificate, source: KeySource) -> None:
    """A router's issued certificate would have the wrong issuer, serial, key usage or key
    identifiers, or let a client request CA powers."""
    router_key = source.get("R1/keys/R1#0", 512)
    requested_ku = x509.Extension(
        x509.oid.ExtensionOID.KEY_USAGE,
        True,
        x509.KeyUsage(True, False, True, False, False, False, False, False, False),
    )
    sneaky_bc = x509.Extension(
        x509.oid.ExtensionOID.BASIC_CONSTRAINTS, True, x509.BasicConstraints(True, None)
    )
    cert = xu.issue_certificate(
        ca_key,
        ca_cert,
        router_key.public_key(),
        xu.parse_dn("hostname=R1.lab.lcl"),
        2,
        T0,
        T0 + timedelta(days=365),
        extensions=[requested_ku, sneaky_bc],
        hash_name="md5",
    )
    assert cert.issuer == ca_cert.subject
    assert cert.serial_number == 2
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.key_encipherment
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.BasicConstraints)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(router_key.public_key())
    assert xu.verify_signature(cert, ca_key.public_key())


def test_issued_not_after_is_capped_at_ca(ca_key, ca_cert, source: KeySource) -> None:
    """A sub-CA certificate could outlive its issuing CA, or lack CA basic constraints and signing
    key usage."""
    sub_key = source.get("sub2/keys/sub2#0", 512)
    cert = xu.issue_certificate(
        ca_key,
        ca_cert,
        sub_key.public_key(),
        xu.parse_dn("CN=sub2"),
        3,
        T0 + timedelta(days=1),
        T0 + timedelta(days=10 * 365),
        ca=True,
    )
    assert cert.not_valid_after_utc == ca_cert.not_valid_after_utc
    assert cert.not_valid_before_utc == (T0 + timedelta(days=1)).replace(microsecond=0)
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and ku.crl_sign


# --------------------------------------------------------------------------- CRLs


@pytest.mark.parametrize("hash_name", ["md5", "sha256"])
def test_empty_crl_is_213_bytes_like_ios(ca_key, ca_cert, hash_name: str) -> None:
    # Seed transcript: "CRYPTO_CS: Publishing 213 bytes to crl file nvram:sub.crl".
    """A fresh CS would not log `Publishing 213 bytes to crl file` as the seed transcript shows."""
    crl = xu.make_crl(ca_key, ca_cert, T0, T0 + timedelta(hours=168), hash_name=hash_name)
    assert len(xu.crl_der(crl)) == 213
    assert len(crl.extensions) == 0
    assert len(list(crl)) == 0


def test_crl_grows_about_22_bytes_per_entry(ca_key, ca_cert) -> None:
    """After revocations, the CRL sizes logged on publishing would not grow as on a real IOS CA."""
    sizes = [
        len(
            xu.crl_der(
                xu.make_crl(
                    ca_key, ca_cert, T0, T0 + timedelta(hours=6), [(s, T0) for s in range(2, n)]
                )
            )
        )
        for n in (2, 3, 4)
    ]
    assert sizes == [213, 235, 255]


def test_crl_lists_revoked_entries(ca_key, ca_cert) -> None:
    """The CRL would miss revoked serials, carry wrong dates or issuer, or not be the v1 CRL openssl
    shows for IOS."""
    revoked_at = T0 + timedelta(minutes=5)
    crl = xu.make_crl(
        ca_key, ca_cert, T0, T0 + timedelta(hours=6), [(2, revoked_at), (4, revoked_at)], "md5"
    )
    assert crl.issuer == ca_cert.subject
    assert crl.last_update_utc == T0.replace(microsecond=0)
    assert crl.next_update_utc == (T0 + timedelta(hours=6)).replace(microsecond=0)
    assert [entry.serial_number for entry in crl] == [2, 4]
    assert crl.get_revoked_certificate_by_serial_number(4).revocation_date_utc == (
        revoked_at.replace(microsecond=0)
    )
    assert xu.load_crl(xu.crl_pem(crl)) == crl
    if HAS_OPENSSL:
        text = _openssl("crl", xu.crl_pem(crl))
        assert "Version 1 (0x0)" in text
        assert "Serial Number: 02" in text and "Serial Number: 04" in text
        assert "Issuer: CN = sub" in text


# --------------------------------------------------------------------------- encodings


def test_fingerprint_grouping() -> None:
    """Fingerprints in `show crypto pki certificates` and `crypto pki authenticate` would not be
    grouped and capitalised as IOS prints them."""
    data = b"certificate DER"
    md5 = xu.fingerprint(data, "md5")
    sha1 = xu.fingerprint(data, "sha1")
    assert [len(group) for group in md5.split(" ")] == [8, 8, 8, 8]
    assert [len(group) for group in sha1.split(" ")] == [8, 8, 8, 8, 8]
    assert md5 == md5.upper()
    assert xu.fingerprint_hex(data, "md5") == md5.replace(" ", "")
    assert len(xu.fingerprint_hex(data, "sha1")) == 40
    assert xu.fingerprint_hex(b"", "md5") == "D41D8CD98F00B204E9800998ECF8427E"


def test_pem_der_and_key_round_trips(ca_key, ca_cert) -> None:
    """Certificates, CRLs or keys written as PEM or DER could not be read back unchanged."""
    assert xu.load_cert(xu.cert_pem(ca_cert)) == ca_cert
    assert xu.load_cert(xu.cert_der(ca_cert)) == ca_cert
    assert xu.cert_pem(ca_cert).startswith(b"-----BEGIN CERTIFICATE-----")
    crl = xu.make_crl(ca_key, ca_cert, T0, T0 + timedelta(hours=6))
    assert xu.load_crl(xu.crl_der(crl)) == crl
    pem = xu.key_pem(ca_key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert xu.load_key_pem(pem).private_numbers() == ca_key.private_numbers()


def test_naive_times_are_utc(ca_key) -> None:
    """Dates given without a timezone would be taken as local time, shifting certificate
    validity."""
    naive = T0.replace(tzinfo=None)
    cert = xu.make_ca_certificate(
        ca_key, xu.parse_dn("CN=x"), 1, naive, naive + timedelta(days=1), "sha256"
    )
    assert cert.not_valid_before_utc == T0.replace(microsecond=0)
