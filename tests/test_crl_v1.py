"""The CA's v1 CRL written straight to DER (`sim.pki.crl_v1`) is the very CRL the
earlier two-step path produced: built and signed by cryptography (v2), its version field
removed and re-signed through asn1crypto. If this fails, every published CRL's bytes (and
the golden transcripts that print CRL sizes) change."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1_core
from asn1crypto import crl as asn1_crl
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sim.pki import crl_v1, x509util
from sim.pki.keys import KeySource

_HASHES: dict[str, hashes.HashAlgorithm] = {
    "md5": hashes.MD5(), "sha1": hashes.SHA1(), "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}


def _two_step(key: rsa.RSAPrivateKey, issuer: x509.Name, this: datetime, nxt: datetime,
              revoked: list[tuple[int, datetime]], hash_name: str) -> bytes:
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer)
               .last_update(this).next_update(nxt))
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
            .build())
    v2 = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    outer = asn1_crl.CertificateList.load(v2)
    tbs = outer["tbs_cert_list"]
    algorithm = asn1_algos.SignedDigestAlgorithm(
        {"algorithm": f"{hash_name}_rsa", "parameters": asn1_core.Null()})
    tbs["signature"] = algorithm
    tbs["version"] = None
    tbs_der = tbs.dump(force=True)
    signature = key.sign(tbs_der, padding.PKCS1v15(), _HASHES[hash_name])
    return bytes(asn1_crl.CertificateList({"tbs_cert_list": type(tbs).load(tbs_der),
                                           "signature_algorithm": algorithm,
                                           "signature": signature}).dump(force=True))


def test_the_direct_crl_is_byte_for_byte_the_two_step_one() -> None:
    """Every CRL the CA publishes would change its bytes and size, breaking golden transcripts that
    print CRL sizes."""
    keys = KeySource(1, Path(os.environ["PKILAB_KEY_CACHE"]))
    rnd = random.Random(11)
    for case in range(60):
        bits = rnd.choice([1024, 2048])
        key = keys.get(f"crl-{bits}", bits)
        issuer = x509util.parse_dn(rnd.choice(["cn=CA", "cn=sub,ou=lab,o=ACME",
                                               "cn=" + "a" * 60]))
        this = datetime(rnd.choice([1999, 2005, 2024, 2049, 2051]), rnd.randint(1, 12),
                        rnd.randint(1, 28), rnd.randint(0, 23), rnd.randint(0, 59),
                        rnd.randint(0, 59), tzinfo=UTC)
        nxt = this + timedelta(hours=rnd.choice([6, 168, 24 * 365 * 30]))
        revoked = [(rnd.choice([1, 0x7F, 0x80, 0xFF, 0x100, rnd.getrandbits(120) | 1]),
                    this - timedelta(seconds=rnd.randint(0, 10**7)))
                   for _ in range(rnd.choice([0, 1, 3, 40]))]
        hash_name = rnd.choice(x509util.HASH_NAMES)
        direct = crl_v1.v1_crl_der(key, issuer, this, nxt, revoked, hash_name)
        assert direct == _two_step(key, issuer, this, nxt, revoked, hash_name), case


def test_a_serial_of_zero_is_refused_as_before() -> None:
    """A revoked serial of zero would be written into a CRL instead of being refused."""
    key = KeySource(1, Path(os.environ["PKILAB_KEY_CACHE"])).get("crl-1024", 1024)
    now = datetime(2005, 1, 6, tzinfo=UTC)
    with pytest.raises(ValueError, match="positive"):
        crl_v1.v1_crl_der(key, x509util.parse_dn("cn=CA"), now, now, [(0, now)])
