"""IOS "type 7" password obfuscation: how a configuration line stores a password it must
give back in clear (`database archive pkcs12 password 7 0822455D0A16`).

Type 7 is not encryption: each character is XORed with a fixed 53-character key, starting
at an offset that the first two decimal digits record; the rest is two hex digits per
character. Anyone can reverse it, which is why IOS can read it back from a saved
configuration and use the password.
"""

from __future__ import annotations

_KEY = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"
"""The XOR key every IOS release uses for type 7."""

MAX_OFFSET = 15
"""IOS starts at offsets 0 to 15."""


def encode(password: str) -> str:
    """`password` in type 7. IOS picks the start offset at random; chosen: pkilab derives
    it from the password, so that the same configuration always prints the same line."""
    offset = sum(password.encode("latin-1", "replace")) % (MAX_OFFSET + 1)
    body = "".join(f"{ord(ch) ^ ord(_KEY[(offset + i) % len(_KEY)]):02X}"
                   for i, ch in enumerate(password))
    return f"{offset:02d}{body}"


def decode(text: str) -> str | None:
    """The clear password a type-7 string holds; None when `text` is not one (odd length,
    a start offset above 15, a non-hex digit, or a character outside printable ASCII)."""
    if len(text) < 4 or len(text) % 2 or not text[:2].isdigit():
        return None
    offset = int(text[:2])
    if offset > MAX_OFFSET:
        return None
    chars = []
    for i in range(2, len(text), 2):
        pair = text[i:i + 2]
        if not all(c in "0123456789abcdefABCDEF" for c in pair):
            return None
        code = int(pair, 16) ^ ord(_KEY[(offset + i // 2 - 1) % len(_KEY)])
        if not 0x21 <= code <= 0x7E:
            return None
        chars.append(chr(code))
    return "".join(chars)
