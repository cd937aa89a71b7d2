"""GMP-backed modular exponentiation gives the bytes Python's own integers give."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sim.pki import bigint
from sim.pki.scep import envelope


def test_key_transport_is_the_same_with_and_without_gmp(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """A SCEP envelope's encrypted content key is byte-identical whether gmpy2 is installed
    or not (otherwise runs on two hosts would differ), and the CA's key opens it."""
    key = rsa.generate_private_key(65537, 2048)
    message = bytes(range(24))
    with_gmp = envelope.rsaes_pkcs1_v15_encrypt(key.public_key(), message,
                                                lambda n: bytes([7]) * n)
    monkeypatch.setattr(bigint, "gmpy2", None)
    without = envelope.rsaes_pkcs1_v15_encrypt(key.public_key(), message,
                                               lambda n: bytes([7]) * n)
    assert with_gmp == without
    assert key.decrypt(with_gmp, padding.PKCS1v15()) == message


def test_powmod_matches_pow_on_large_operands(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path returns a plain int equal to Python's pow for RSA-sized numbers."""
    modulus = (1 << 2047) + 12345
    base = int.from_bytes(bytes(range(1, 256)), "big")
    fast = bigint.powmod(base, 65537, modulus)
    monkeypatch.setattr(bigint, "gmpy2", None)
    assert type(fast) is int
    assert fast == bigint.powmod(base, 65537, modulus) == pow(base, 65537, modulus)
