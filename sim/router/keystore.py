"""The router's RSA key pairs (`crypto key generate rsa`), saved in nvram's private-config.

IOS keeps key pairs in memory until `write memory` stores them in private-config; a reload
without saving loses keys generated since. Keys are real RSA keys from the run's seeded
key source, so the same scenario and seed always yield the same keys.

A label names either one general-purpose pair or, with `usage-keys`, two special-usage
pairs: "usage-keys = two special-usage pairs (one signature, one encryption)"
(cisco-client-docs.md 1.1). Both halves share the label, as IOS's `show crypto key
mypubkey rsa` lists them (`Usage: Signature Key`, `Usage: Encryption Key`).
"""

from __future__ import annotations

import re
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import rsa

from sim.pki import x509util
from sim.pki.keys import key_der, live_key


class KeyPair:
    """A label's key pair(s). Kept as PKCS#8 DER and handed out as key objects on use
    (`sim.pki.keys.live_key`): a key object that has signed holds some 8.7 KiB of OpenSSL
    memory, and a router of a 10,000-router run uses its key only while it enrolls."""

    __slots__ = ("label", "_key_der", "exportable", "generated_at", "_encryption_der", "bits")

    def __init__(self, label: str, key: rsa.RSAPrivateKey, exportable: bool = False,
                 generated_at: datetime | None = None,
                 encryption_key: rsa.RSAPrivateKey | None = None) -> None:
        self.label = label
        self._key_der = key_der(key)
        live_key(self._key_der, key)  # the caller is about to use it
        self.exportable = exportable
        self.generated_at = generated_at
        """The router's clock when the pair was made (`% Key pair was generated at:`); IOS
        keeps it with the key, so it is saved in private-config too."""
        self._encryption_der = None if encryption_key is None else key_der(encryption_key)
        self.bits: int = key.key_size

    @property
    def key(self) -> rsa.RSAPrivateKey:
        """The general-purpose key, or with usage keys the signature key: the one requests
        and certificates are signed with. chosen: a trustpoint enrolling with a usage-keys
        label asks for one certificate, over this key (IOS enrolls each key of the pair)."""
        return live_key(self._key_der)

    @property
    def encryption_key(self) -> rsa.RSAPrivateKey | None:
        """With `usage-keys`, the encryption key; None for a general-purpose pair."""
        return None if self._encryption_der is None else live_key(self._encryption_der)

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, "bits"):  # set last in __init__: from then on the pair is frozen
            raise AttributeError(f"a key pair cannot be changed ({name})")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"KeyPair({self.label!r}, {self.bits} bits, usage_keys={self.usage_keys})"

    @property
    def usage_keys(self) -> bool:
        return self._encryption_der is not None

    def parts(self) -> list[tuple[str, rsa.RSAPrivateKey]]:
        """(IOS's usage name, key) for each key under the label, in IOS's order."""
        encryption = self.encryption_key
        if encryption is None:
            return [(GENERAL, self.key)]
        return [(SIGNATURE, self.key), (ENCRYPTION, encryption)]


GENERAL, SIGNATURE, ENCRYPTION = "General Purpose", "Signature", "Encryption"
"""IOS's names for a key's usage (`Usage: General Purpose Key`, cisco-client-docs.md 1.3)."""

_USAGE_FIELD = {SIGNATURE: "signature", ENCRYPTION: "encryption"}

_BLOCK = re.compile(
    rb"% key (?P<label>\S+) exportable=(?P<exp>[01])"
    rb"(?: usage=(?P<usage>signature|encryption))?(?: generated=(?P<gen>\S+))?\n"
    rb"(?P<pem>-----BEGIN PRIVATE KEY-----\n.*?-----END PRIVATE KEY-----\n)",
    re.S,
)


class KeyStore:
    __slots__ = ("_keys",)
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
        """One block per key: `% key LABEL exportable=0|1 [usage=...] [generated=...]`
        and its PEM. A general-purpose pair's block has no `usage=` (the form saved before
        usage keys existed, so older nvram images still load)."""
        out = bytearray()
        for label in self.labels():
            pair = self._keys[label]
            generated = (f" generated={pair.generated_at.isoformat()}"
                         if pair.generated_at is not None else "")
            for usage, key in pair.parts():
                field = f" usage={_USAGE_FIELD[usage]}" if usage in _USAGE_FIELD else ""
                out += (f"% key {label} exportable={int(pair.exportable)}{field}"
                        f"{generated}\n").encode()
                out += x509util.key_pem(key)
        return bytes(out)

    @classmethod
    def from_private_config(cls, data: bytes | None) -> KeyStore:
        store = cls()
        halves: dict[str, dict[bytes, rsa.RSAPrivateKey]] = {}
        for match in _BLOCK.finditer(data or b""):
            label = match.group("label").decode()
            try:
                key = x509util.load_key_pem(match.group("pem"))
            except ValueError:
                continue  # a damaged block loses that key, not the boot
            exportable = match.group("exp") == b"1"
            generated = _generated_at(match.group("gen"))
            usage = match.group("usage")
            if usage is None:
                store.put(KeyPair(label, key, exportable, generated))
                continue
            halves.setdefault(label, {})[usage] = key
            signature = halves[label].get(b"signature")
            encryption = halves[label].get(b"encryption")
            if signature is not None and encryption is not None:
                store.put(KeyPair(label, signature, exportable, generated, encryption))
        return store


def _generated_at(text: bytes | None) -> datetime | None:
    """The saved generation time; a block without one (or a damaged one) has no time."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
