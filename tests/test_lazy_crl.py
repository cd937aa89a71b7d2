"""A certificate server's CRL is signed only when something reads it (`sim.pki.deferred`),
and the bytes are the ones eager signing at the publication writes. If this fails, an
idle CA's CRL in nvram, `dir nvram:`, `show crypto pki server CA crl`, a `copy` of the
file, or the CRL artifacts would differ from what the server published, or an idle
year of CAs would go back to signing every CRL nobody reads."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from routerkit import Lab

from sim.pki import crl_v1, x509util
from sim.pki.deferred import Deferred, deferred_pem, pem_size
from sim.pki.keys import KeySource
from sim.router.router import Router


def _key() -> rsa.RSAPrivateKey:
    return KeySource(3, Path(os.environ["PKILAB_KEY_CACHE"])).get("crl-test", 1024)


CA_CONFIG = "ip http server\ncrypto pki server ca\n lifetime crl 1\n"
ENABLE = "enable\nconfigure terminal\ncrypto pki server ca\nno shutdown\nend"


@pytest.mark.parametrize("hash_name", ["md5", "sha1", "sha256"])
def test_a_deferred_crl_is_byte_for_byte_the_eagerly_signed_one(hash_name: str) -> None:
    """A CRL signed late would differ from the one signed at its publication, or announce a
    size (`Publishing N bytes`, `dir nvram:`) its bytes do not have."""
    key = _key()
    issuer = x509util.parse_dn("CN=ca,O=pkilab")
    rnd = random.Random(hash_name)
    this = datetime(2005, 1, 6, 21, tzinfo=UTC)
    for count in (0, 1, 5, 7, 40, 300):  # lengths on both sides of DER's 0x80/0x100 steps
        revoked = sorted((rnd.randrange(1, 2 ** rnd.choice((7, 8, 31, 64))),
                          this - timedelta(seconds=rnd.randrange(10 ** 6)))
                         for _ in range(count))
        lazy = crl_v1.deferred_crl(key, issuer.public_bytes(), this,
                                   this + timedelta(hours=6), revoked, hash_name)
        announced = len(lazy)
        assert not lazy.made
        eager = crl_v1.v1_crl_der(key, issuer, this, this + timedelta(hours=6), revoked,
                                  hash_name)
        assert bytes(lazy) == eager and announced == len(eager)


def test_a_deferred_crl_without_revocations_announces_its_size_across_2050() -> None:
    """A CRL with nothing revoked (written only when signed) would announce a wrong size in
    `Publishing N bytes` and `dir nvram:`, or differ from the eager one, when its times
    cross 2050 (RFC 5280's switch from UTCTime to GeneralizedTime) or are not in UTC."""
    key = _key()
    issuer = x509util.parse_dn("CN=ca,O=pkilab").public_bytes()
    plus_five = timezone(timedelta(hours=5))
    for this in (datetime(2049, 12, 31, 20, tzinfo=UTC), datetime(2050, 1, 1, tzinfo=UTC),
                 datetime(2050, 1, 1, 2, tzinfo=plus_five),  # 2049 in UTC
                 datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)):
        for hours in (1, 6, 24 * 400):
            after = this + timedelta(hours=hours)
            lazy = crl_v1.deferred_crl(key, issuer, this, after, [], "sha256")
            announced = len(lazy)
            eager = crl_v1.signed_crl(crl_v1.tbs_cert_list(issuer, this, after), key)
            assert bytes(lazy) == eager and announced == len(eager), (this, hours)


def test_the_crl_artifact_pem_is_the_one_cryptography_writes() -> None:
    """The `<cs>.crl.pem` artifacts of a run would not be what `openssl crl` and earlier runs
    read."""
    key = _key()
    this = datetime(2005, 1, 6, 21, tzinfo=UTC)
    for count in (0, 3, 60):
        revoked = [(serial, this) for serial in range(2, 2 + count)]
        der = crl_v1.v1_crl_der(key, x509util.parse_dn("CN=ca"), this,
                                this + timedelta(hours=1), revoked)
        expected = x509util.crl_pem(x509util.load_crl(der))
        lazy = deferred_pem(Deferred(len(der), lambda d=der: d), "X509 CRL")
        assert len(lazy) == pem_size(len(der), "X509 CRL") == len(expected)
        assert bytes(lazy) == expected


def _idle_ca(lab: Lab) -> Router:
    ca = lab.router("ca", "10.0.0.1", CA_CONFIG)
    lab.type(ca, ENABLE, ("cisco123", "cisco123"))
    lab.run(5 * 3600)  # five republications, each after `lifetime crl 1`
    return ca


def _eager(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every CRL sign at its publication, as before deferral."""
    original = crl_v1.deferred_crl

    def signed_now(*args: object, **kwargs: object) -> Deferred:
        crl = original(*args, **kwargs)  # type: ignore[arg-type]
        bytes(crl)
        return crl

    monkeypatch.setattr(crl_v1, "deferred_crl", signed_now)


def _reads(lab: Lab, ca: Router) -> tuple[list[str], bytes]:
    shown = lab.type(ca, "show crypto pki server ca crl\ndir nvram:\n"
                         "copy nvram:ca.crl flash:ca.crl", ("",))
    return [line for line in shown if "copied in" not in line], ca.flash.read("ca.crl") or b""


def test_an_idle_ca_signs_no_crl_until_one_is_read_and_then_the_same_bytes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An idle CA would sign CRLs nobody reads, or a CRL read late (`show`, `dir`, `copy`, the
    server's own accessor) would differ from the one eager signing published."""
    lab = Lab()
    ca = _idle_ca(lab)
    cs = ca.running.servers["ca"]
    assert ca.nvram.deferred("ca.crl"), "the current CRL was signed though nobody read it"
    lazy_transcript, lazy_copy = _reads(lab, ca)
    assert not ca.nvram.deferred("ca.crl")
    assert cs.crl_der == ca.nvram.read("ca.crl") == lazy_copy

    _eager(monkeypatch)
    eager_lab = Lab()
    eager_ca = _idle_ca(eager_lab)
    assert not eager_ca.nvram.deferred("ca.crl")
    eager_transcript, eager_copy = _reads(eager_lab, eager_ca)
    assert lazy_copy == eager_copy and lazy_transcript == eager_transcript
    assert f"    CRL size: {len(lazy_copy)} bytes" in lazy_transcript
    assert [data for _, data in ca.artifacts] == [data for _, data in eager_ca.artifacts]
