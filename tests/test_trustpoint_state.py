"""A trustpoint keeps its own certificate as DER and hands out the parsed certificate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from sim.pki.keys import KeySource
from sim.router.crypto_state import IsakmpPolicy
from sim.router.state import RunningState, Trustpoint


def _certificate() -> x509.Certificate:
    key = KeySource(seed=3).get("r1/keys/r1#0", 1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "r1")])
    start = datetime(2005, 1, 6, tzinfo=UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(2)
            .not_valid_before(start).not_valid_after(start + timedelta(days=365))
            .sign(key, hashes.SHA256()))


def test_the_certificate_a_trustpoint_holds_is_the_one_it_was_given() -> None:
    """`show crypto pki certificates`, the saved nvram file and IKE all read the trustpoint's
    certificate back; a certificate that came back different (or not at all) would show a
    wrong serial or subject, or fail IKE."""
    cert = _certificate()
    tp = Trustpoint("ca")
    assert tp.id_cert is None
    tp.id_cert = cert
    held = tp.id_cert
    assert held is not None
    assert held.public_bytes(Encoding.DER) == cert.public_bytes(Encoding.DER)
    assert held.serial_number == 2 and held.subject == cert.subject
    tp.id_cert = None
    assert tp.id_cert is None


def test_an_unused_crypto_configuration_shows_nothing() -> None:
    """A router that never configured IKE shows no crypto lines in `show running-config`,
    and one that did shows them."""
    running = RunningState()
    assert running.crypto_config_lines() == []
    assert running.crypto_made is None  # reading did not make one
    running.crypto.policies[10] = IsakmpPolicy(10)
    assert running.crypto_config_lines()[0] == "crypto isakmp policy 10"
