"""The router's RSA key pairs (`crypto key generate rsa`), saved in nvram's private-config.

IOS keeps key pairs in memory until `write memory` stores them in private-config; a reload
without saving loses keys generated since. Keys are real RSA keys from the run's seeded
key source, so the same scenario and seed always yield the same keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import rsa

from sim.pki import x509util


@dataclass(frozen=True)
class KeyPair:
    label: str
    key: rsa.RSAPrivateKey
    exportable: bool = False
    generated_at: datetime | None = None
    """The router's clock when the pair was made (`% Key pair was generated at:`); IOS
    keeps it with the key, so it is saved in private-config too."""

    @property
    def bits(self) -> int:
        return self.key.key_size


_BLOCK = re.compile(
    rb"% key (?P<label>\S+) exportable=(?P<exp>[01])(?: generated=(?P<gen>\S+))?\n"
    rb"(?P<pem>-----BEGIN PRIVATE KEY-----\n.*?-----END PRIVATE KEY-----\n)",
    re.S,
)


class KeyStore:
    def __init__(self) -> None:
        self._keys: dict[str, KeyPair] = {}

    def get(self, label: str) -> KeyPair | None:
        return self._keys.get(label)

    def put(self, pair: KeyPair) -> None:
        self._keys[pair.label] = pair

    def remove(self, label: str) -> bool:
        return self._keys.pop(label, None) is not None

    def clear(self) -> None:
        self._keys.clear()

    def labels(self) -> list[str]:
        return sorted(self._keys)

    def to_private_config(self) -> bytes:
        out = bytearray()
        for label in self.labels():
            pair = self._keys[label]
            generated = (f" generated={pair.generated_at.isoformat()}"
                         if pair.generated_at is not None else "")
            out += f"% key {label} exportable={int(pair.exportable)}{generated}\n".encode()
            out += x509util.key_pem(pair.key)
        return bytes(out)

    @classmethod
    def from_private_config(cls, data: bytes | None) -> KeyStore:
        store = cls()
        for match in _BLOCK.finditer(data or b""):
            label = match.group("label").decode()
            try:
                key = x509util.load_key_pem(match.group("pem"))
            except ValueError:
                continue  # a damaged block loses that key, not the boot
            store.put(KeyPair(label, key, match.group("exp") == b"1",
                              _generated_at(match.group("gen"))))
        return store


def _generated_at(text: bytes | None) -> datetime | None:
    """The saved generation time; a block without one (or a damaged one) has no time."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
