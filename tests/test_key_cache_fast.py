"""A key read from the warm key cache keeps the DER decoded from its file instead of
serializing the loaded key again; that DER must be the one the key object gives, and
damaged or other-format files must be handled as before."""

from __future__ import annotations

import pathlib

from cryptography.hazmat.primitives import serialization

from sim.pki import keys
from sim.pki.keys import KeySource

LABEL = "R1/keys/R1#0"


def _der(key: object) -> bytes:
    assert hasattr(key, "private_bytes")
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def test_a_cached_key_keeps_the_der_its_object_would_give(tmp_path: pathlib.Path) -> None:
    """A router's key is kept as DER between uses and loaded again from it; a DER that were
    not the key's own would sign with another key, and every certificate after a reload
    would fail to verify."""
    cold = KeySource(9, cache_dir=tmp_path).get(LABEL, 512)
    warm_source = KeySource(9, cache_dir=tmp_path)
    warm = warm_source.get(LABEL, 512)
    kept = warm_source._memory[(LABEL, 512)]
    assert kept == _der(warm) == _der(cold)
    assert _der(keys.load_key_der(kept)) == _der(cold)


def test_damaged_and_other_format_cache_files(tmp_path: pathlib.Path) -> None:
    """A cache file with a damaged body must be regenerated (not crash the lab or give
    another key), and a traditional `RSA PRIVATE KEY` file must still load."""
    want = _der(KeySource(9).get(LABEL, 512))
    source = KeySource(9, cache_dir=tmp_path)
    path = source.cache_path(LABEL, 512)
    assert path is not None
    path.write_text("# header\n-----BEGIN PRIVATE KEY-----\nMII*B\n-----END PRIVATE KEY-----\n")
    assert _der(source.get(LABEL, 512)) == want
    assert keys.load_cached_key(path.read_bytes()) is not None  # rewritten whole
    key = keys.load_key_der(want)
    path.write_bytes(b"# header\n" + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    other = KeySource(9, cache_dir=tmp_path)
    assert _der(other.get(LABEL, 512)) == want
    assert other._memory[(LABEL, 512)] == want
