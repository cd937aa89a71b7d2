"""Key pairs kept as DER between uses (`sim.pki.keys.live_key`): a key object that left the
live set and is loaded again must be the same key and sign the same bytes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from sim.pki import keys
from sim.pki.keys import KeySource
from sim.router.keystore import KeyPair, KeyStore


def _signature(pair: KeyPair) -> bytes:
    return pair.key.sign(b"PKCSReq", padding.PKCS1v15(), hashes.SHA256())


def test_a_key_pair_loaded_again_signs_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A router whose key object was let go between two uses would sign its SCEP messages
    with another key (or other bytes): its request would fail to verify, and the run would
    not repeat byte for byte."""
    monkeypatch.setattr(keys, "LIVE_KEYS", 1)
    source = KeySource(11)
    pair = KeyPair("r1", source.get("r1/keys/r1#0", 512), generated_at=datetime(2005, 1, 6,
                                                                                tzinfo=UTC))
    first = _signature(pair)
    numbers = pair.key.private_numbers()
    other = KeyPair("r2", source.get("r2/keys/r2#0", 512))  # pushes r1's object out
    _signature(other)
    assert pair.key.private_numbers() == numbers
    assert _signature(pair) == first
    assert source.get("r1/keys/r1#0", 512).private_numbers() == numbers
    assert pair.bits == 512 and not pair.usage_keys


def test_usage_keys_survive_a_save_and_load_when_not_live(monkeypatch: pytest.MonkeyPatch) -> None:
    """`show crypto key mypubkey rsa` and a reload would lose or swap a usage-keys label's
    encryption key if a pair kept as DER did not hand back both halves."""
    monkeypatch.setattr(keys, "LIVE_KEYS", 1)
    source = KeySource(12)
    signature, encryption = source.get("r1/s", 512), source.get("r1/e", 512)
    store = KeyStore()
    store.put(KeyPair("r1", signature, True, None, encryption))
    source.get("r1/other", 512)  # neither half is live now
    loaded = KeyStore.from_private_config(store.to_private_config())
    pair = loaded.get("r1")
    assert pair is not None and pair.usage_keys and pair.exportable
    assert [(usage, key.private_numbers()) for usage, key in pair.parts()] == [
        ("Signature", signature.private_numbers()), ("Encryption", encryption.private_numbers())]


def test_a_key_pair_cannot_be_changed() -> None:
    """A key pair that could be rebound in place would let one command change another
    trustpoint's key behind its back (IOS replaces a label's pair as a whole)."""
    pair = KeyPair("r1", KeySource(13).get("r1", 512))
    with pytest.raises(AttributeError):
        pair.label = "r2"  # type: ignore[misc]
