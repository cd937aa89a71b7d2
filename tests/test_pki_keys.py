"""Seeded RSA keys: determinism, sizes, validity and the disk cache."""

from __future__ import annotations

import hashlib
import pathlib

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from sim.pki import keys
from sim.pki.keys import KeySource, default_cache_dir, ios_keygen_seconds

LABEL = "root1/keys/root1#0"


def _pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _spki_sha256(key) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def test_same_seed_and_label_give_identical_key() -> None:
    """Two runs of the same scenario and seed would get different router keys, so certificates and
    transcripts would not repeat."""
    a = KeySource(7).get(LABEL, 512)
    b = KeySource(7).get(LABEL, 512)
    assert _pem(a) == _pem(b)


def test_key_is_pinned_across_machines_and_releases() -> None:
    # If this fails the generator changed: bump keys.GENERATOR_VERSION, then update the digest.
    """Keys for a given seed would differ between machines or pkilab versions, breaking every saved
    transcript and golden file."""
    key = KeySource(1).get(LABEL, 512)
    assert _spki_sha256(key) == "1c275de0594bd065bab5c9337242e8dbec27d5d0a55df96ad00704af6ea0bc7f"


def test_different_label_seed_or_size_give_different_keys() -> None:
    """Two routers, two seeds or two key sizes could end up with the same RSA key."""
    base = KeySource(7).get(LABEL, 512)
    moduli = {
        base.public_key().public_numbers().n,
        KeySource(7).get("root1/keys/root1#1", 512).public_key().public_numbers().n,
        KeySource(8).get(LABEL, 512).public_key().public_numbers().n,
        KeySource(7).get(LABEL, 768).public_key().public_numbers().n,
    }
    assert len(moduli) == 4


@pytest.mark.parametrize("bits", [512, 1024, 2048])
def test_modulus_size_and_exponent(bits: int) -> None:
    """`crypto key generate rsa modulus N` would give a key of the wrong size or exponent, or one
    that is not valid RSA."""
    key = KeySource(3).get(f"r/k#{bits}", bits)
    numbers = key.private_numbers()
    assert key.key_size == bits
    assert numbers.public_numbers.n.bit_length() == bits
    assert numbers.public_numbers.e == 65537
    assert numbers.p * numbers.q == numbers.public_numbers.n
    assert numbers.p != numbers.q


def test_key_signs_and_verifies() -> None:
    # Keys skip cryptography's validation; a round trip proves they are real RSA keys.
    """Router and CA keys could fail to sign, verify or decrypt, so real SCEP clients and openssl
    would reject what pkilab produces."""
    key = KeySource(11).get(LABEL, 1024)
    data = b"CRYPTO_CS: serial number 0x1 written."
    for scheme in (padding.PKCS1v15(), padding.PSS(padding.MGF1(hashes.SHA256()), 32)):
        signature = key.sign(data, scheme, hashes.SHA256())
        key.public_key().verify(signature, data, scheme, hashes.SHA256())
    ciphertext = key.public_key().encrypt(data, padding.PKCS1v15())
    assert key.decrypt(ciphertext, padding.PKCS1v15()) == data


def test_memory_cache_returns_same_object() -> None:
    """Asking twice for the same key in one run would regenerate it, slowing labs down."""
    source = KeySource(5)
    assert source.get(LABEL, 512) is source.get(LABEL, 512)


def test_too_small_modulus_is_refused() -> None:
    """A uselessly small RSA modulus would be generated instead of refused."""
    with pytest.raises(ValueError):
        KeySource(1).get(LABEL, 128)


def test_disk_cache_is_written_and_reused(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys would be regenerated on every run (slow labs), the cache file would lack its
    SIMULATION-ONLY header, or temp files would be left behind."""
    first = KeySource(9, cache_dir=tmp_path).get(LABEL, 1024)
    path = KeySource(9, cache_dir=tmp_path).cache_path(LABEL, 1024)
    assert path is not None and path.exists()
    assert path.name.startswith(keys.GENERATOR_VERSION)
    text = path.read_text()
    assert text.startswith("# pkilab SIMULATION-ONLY key")
    assert "-----BEGIN PRIVATE KEY-----" in text
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp files left behind

    def no_generation(*args: object) -> int:
        raise AssertionError("key was regenerated instead of loaded from the cache")

    monkeypatch.setattr(keys, "_generate_prime", no_generation)
    second = KeySource(9, cache_dir=tmp_path).get(LABEL, 1024)
    assert _pem(second) == _pem(first)


def test_damaged_cache_file_is_regenerated(tmp_path: pathlib.Path) -> None:
    """A half-written key cache file would crash the lab or give a different key instead of being
    regenerated."""
    source = KeySource(9, cache_dir=tmp_path)
    path = source.cache_path(LABEL, 512)
    assert path is not None
    path.write_text("# half a file\n-----BEGIN PRIVATE KEY-----\nMIIB\n")
    key = source.get(LABEL, 512)
    assert _pem(key) == _pem(KeySource(9).get(LABEL, 512))
    assert keys.load_cached_key(path.read_bytes()).key_size == 512


def test_cache_names_differ_by_inputs() -> None:
    """Two different keys could share a cache file, so one run would load another seed's or size's
    key."""
    names = {
        keys.cache_file_name(1, LABEL, 1024),
        keys.cache_file_name(2, LABEL, 1024),
        keys.cache_file_name(1, LABEL + "x", 1024),
        keys.cache_file_name(1, LABEL, 2048),
    }
    assert len(names) == 4


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    """Keys would be cached somewhere other than `$PKILAB_KEY_CACHE` or `~/.cache/pkilab/keys`."""
    monkeypatch.setenv("PKILAB_KEY_CACHE", str(tmp_path / "keys"))
    assert default_cache_dir() == tmp_path / "keys"
    monkeypatch.delenv("PKILAB_KEY_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "pkilab" / "keys"


def test_ios_keygen_time_model() -> None:
    """`crypto key generate rsa` would take an unrealistic simulated time, putting lab timings off
    from a real router."""
    assert ios_keygen_seconds(1024) == pytest.approx(5.5)
    assert ios_keygen_seconds(512) == pytest.approx(0.69, abs=0.01)
    assert ios_keygen_seconds(2048) == pytest.approx(44.0)
    assert ios_keygen_seconds(360) < ios_keygen_seconds(512) < ios_keygen_seconds(4096)


def test_gmpy2_and_the_python_prime_test_give_the_same_keys(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """The fast prime test must not change a single key: every certificate, CRL and golden
    transcript depends on them (a different key here would change every shipped run)."""
    fast = [keys._generate_key(3, f"same-{i}", 512).private_numbers() for i in range(4)]
    monkeypatch.setattr(keys, "gmpy2", None)
    slow = [keys._generate_key(3, f"same-{i}", 512).private_numbers() for i in range(4)]
    assert fast == slow


@pytest.mark.parametrize("use_gmpy2", [True, False])
def test_a_base_sharing_a_factor_proves_a_composite(monkeypatch: pytest.MonkeyPatch,
                                                    use_gmpy2: bool) -> None:
    """The prime test could accept a composite number, producing broken RSA keys with or without
    gmpy2."""
    class Base:  # a stream that always draws the same base
        def integer(self, bits: int) -> int:
            return 1  # a = 2 + 1 % (n - 3) = 3, which divides n = 21

    if not use_gmpy2:
        monkeypatch.setattr(keys, "gmpy2", None)
    assert keys._is_probable_prime(21, Base(), 4) is False  # type: ignore[arg-type]
    assert keys._is_probable_prime(23, Base(), 4) is True  # type: ignore[arg-type]


def test_a_released_key_signs_the_same_bytes_when_loaded_again() -> None:
    """A router whose enrollment ended lets its key object go (`keys.release`); its next
    request must carry the same signature bytes as before, or a rerun of a scenario would
    differ from the first run."""
    source = KeySource(seed=7)
    first = source.get("r1/keys/r1#0", 1024)
    signature = first.sign(b"request", padding.PKCS1v15(), hashes.SHA256())
    keys.release(first)
    again = source.get("r1/keys/r1#0", 1024)
    assert again is not first  # loaded again from its DER
    assert again.sign(b"request", padding.PKCS1v15(), hashes.SHA256()) == signature
    assert keys.key_der(again) == keys.key_der(first)
