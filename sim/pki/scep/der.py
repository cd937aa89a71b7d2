"""A tiny DER writer and a lenient BER reader for the CMS structures SCEP uses.

Why not asn1crypto's typed classes throughout: they re-sort SET OF on output (which reorders
certificates, pitfall P3) and refuse what real peers send, e.g. a constructed implicitly tagged
encryptedContent from Go's pkcs7 ("method should have been primitive", P6). So the codec
writes exact bytes with the helpers below and reads with :class:`Tlv`, which accepts BER
(indefinite lengths, constructed strings) as RFC 5652 section 5.1 allows senders to use.
asn1crypto still does the leaf work: tag/length parsing, OIDs, integers, times, names.

Reader functions raise :class:`DerError` (a ValueError) on malformed input; the codec maps it
to a :class:`ScepError` with the failInfo that fits the place.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import core, parser

# Universal tags used here.
BOOLEAN, INTEGER, BIT_STRING, OCTET_STRING, NULL, OID = 1, 2, 3, 4, 5, 6
UTF8_STRING, SEQUENCE, SET, PRINTABLE_STRING, IA5_STRING = 12, 16, 17, 19, 22
UTC_TIME, GENERALIZED_TIME = 23, 24
UNIVERSAL, CONTEXT = 0, 2


class DerError(ValueError):
    """The bytes are not the ASN.1 structure expected here."""


# --------------------------------------------------------------------------- writer


def length(n: int) -> bytes:
    """DER length octets (X.690 section 10.1: definite form, minimum octets)."""
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(identifier: int, contents: bytes) -> bytes:
    """One element; ``identifier`` is the full first octet (class, constructed bit, tag)."""
    return bytes([identifier]) + length(len(contents)) + contents


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def der_sort(elements: Iterable[bytes]) -> list[bytes]:
    """X.690 section 11.6: SET OF components "in ascending order, the encodings being compared
    as octet strings with the shorter components being padded at their trailing end with
    0-octets"."""
    items = list(elements)
    width = max((len(e) for e in items), default=0)
    return sorted(items, key=lambda e: e.ljust(width, b"\x00"))


def set_of(elements: Iterable[bytes], *, sort: bool = True) -> bytes:
    """A SET OF; ``sort=False`` keeps the given order (certificates, P3)."""
    items = der_sort(elements) if sort else list(elements)
    return tlv(0x31, b"".join(items))


def context(tag: int, contents: bytes, *, constructed: bool = True) -> bytes:
    """A context-specific element ``[tag]`` (explicit wrapper or implicit re-tag)."""
    return tlv(0x80 | (0x20 if constructed else 0) | tag, contents)


@functools.lru_cache(maxsize=256)
def oid(dotted: str) -> bytes:
    """An OBJECT IDENTIFIER (cached: the codec writes the same few dozen OIDs all the time)."""
    return core.ObjectIdentifier(dotted).dump()


def integer(value: int) -> bytes:
    return core.Integer(value).dump()


def octet_string(value: bytes) -> bytes:
    return tlv(0x04, value)


def null() -> bytes:
    return b"\x05\x00"


PRINTABLE_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"
)
"""The PrintableString character set (X.680 section 41.4, table 10)."""


def is_printable(value: str) -> bool:
    """Whether ``value`` fits a PrintableString."""
    return all(ch in PRINTABLE_CHARACTERS for ch in value)


def printable_string(value: str) -> bytes:
    """PrintableString; ValueError when ``value`` has characters outside its set (X.680 41.4)."""
    if not is_printable(value):
        raise ValueError(f"{value!r} cannot be a PrintableString")
    return tlv(0x13, value.encode("ascii"))


def utf8_string(value: str) -> bytes:
    return tlv(0x0C, value.encode("utf-8"))


def algorithm_identifier(dotted: str, parameters: bytes | None) -> bytes:
    return seq(oid(dotted), parameters or b"")


def cms_time(moment: datetime) -> bytes:
    """RFC 5652 section 11.3: "dates between 1 January 1950 and 31 December 2049 (inclusive)
    MUST be encoded as UTCTime"; others as GeneralizedTime. Naive datetimes are UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC).replace(microsecond=0)
    if 1950 <= moment.year <= 2049:
        return core.UTCTime(moment).dump()
    return core.GeneralizedTime(moment).dump()


# --------------------------------------------------------------------------- reader


@dataclass(frozen=True)
class Tlv:
    """One parsed BER element; ``encoded`` is exactly the bytes it was read from."""

    cls: int
    constructed: bool
    tag: int
    header: bytes
    contents: bytes
    trailer: bytes

    @property
    def encoded(self) -> bytes:
        return self.header + self.contents + self.trailer

    def is_(self, cls: int, tag: int) -> bool:
        return self.cls == cls and self.tag == tag

    def children(self) -> list[Tlv]:
        """The elements inside a constructed element."""
        if not self.constructed:
            raise DerError(f"expected a constructed element, got primitive tag {self.tag}")
        return read_all(self.contents)


def read(data: bytes) -> Tlv:
    """Exactly one element, no trailing bytes."""
    elements = read_all(data)
    if len(elements) != 1:
        raise DerError(f"expected one element, found {len(elements)}")
    return elements[0]


def read_all(data: bytes) -> list[Tlv]:
    """All consecutive elements in ``data`` (the contents of a SEQUENCE or SET)."""
    out: list[Tlv] = []
    rest = data
    try:
        while rest:
            # Non-strict: parse the first element and leave the rest for the next round.
            cls, method, tag, header, contents, trailer = parser.parse(rest)
            out.append(Tlv(cls, method == 1, tag, header, contents, trailer))
            rest = rest[len(header) + len(contents) + len(trailer):]
    except (ValueError, TypeError, IndexError, OverflowError) as exc:
        raise DerError(f"bad BER encoding: {exc}") from exc
    return out


def expect(element: Tlv, cls: int, tag: int, what: str) -> Tlv:
    if not element.is_(cls, tag):
        raise DerError(f"{what}: unexpected tag class {element.cls} number {element.tag}")
    return element


def fields(element: Tlv, what: str, minimum: int = 0) -> list[Tlv]:
    """The children of a SEQUENCE, requiring at least ``minimum`` of them."""
    children = expect(element, UNIVERSAL, SEQUENCE, what).children()
    if len(children) < minimum:
        raise DerError(f"{what}: {len(children)} fields, expected at least {minimum}")
    return children


MAX_STRING_NESTING = 8
"""Real encoders nest constructed strings one or two levels deep; the limit keeps hostile input
from exhausting the Python stack."""


def octets(element: Tlv, depth: int = 0) -> bytes:
    """The value of a string element, primitive or constructed.

    X.690 section 8.7.3: a constructed OCTET STRING is the concatenation of its segments, which
    may themselves be constructed. Go's pkcs7 sends encryptedContent this way (P6).
    """
    if not element.constructed:
        return element.contents
    if depth >= MAX_STRING_NESTING:
        raise DerError("constructed string nested too deeply")
    return b"".join(octets(child, depth + 1) for child in element.children())


def read_oid(element: Tlv) -> str:
    expect(element, UNIVERSAL, OID, "object identifier")
    return _dotted(element.encoded)


@functools.lru_cache(maxsize=1024)
def _dotted(encoded: bytes) -> str:
    """Dotted form of an encoded OID (cached: messages repeat the same OIDs; a miss costs
    what an uncached read does, so hostile input gains nothing)."""
    try:
        return str(core.ObjectIdentifier.load(encoded).dotted)
    except (ValueError, TypeError) as exc:
        raise DerError(f"bad object identifier: {exc}") from exc


def read_integer(element: Tlv) -> int:
    expect(element, UNIVERSAL, INTEGER, "integer")
    if element.constructed or not element.contents:
        raise DerError("bad integer")
    return int.from_bytes(element.contents, "big", signed=True)


_STRING_CODECS = {
    UTF8_STRING: "utf-8",
    18: "ascii",  # NumericString
    PRINTABLE_STRING: "ascii",
    20: "latin-1",  # T61String: close enough for the ASCII values SCEP carries
    IA5_STRING: "ascii",
    26: "ascii",  # VisibleString
    28: "utf-32-be",  # UniversalString
    30: "utf-16-be",  # BMPString
}


def read_string(element: Tlv) -> str:
    """Any ASN.1 character string type (scep.md 5.3: accept any string type, P10)."""
    codec = _STRING_CODECS.get(element.tag) if element.cls == UNIVERSAL else None
    if codec is None:
        raise DerError(f"expected a character string, got tag {element.tag}")
    try:
        return octets(element).decode(codec)
    except UnicodeDecodeError as exc:
        raise DerError(f"bad string value: {exc}") from exc


def read_time(element: Tlv) -> datetime:
    """UTCTime or GeneralizedTime, as an aware UTC datetime."""
    spec: type[core.UTCTime] | type[core.GeneralizedTime]
    if element.is_(UNIVERSAL, UTC_TIME):
        spec = core.UTCTime
    elif element.is_(UNIVERSAL, GENERALIZED_TIME):
        spec = core.GeneralizedTime
    else:
        raise DerError(f"expected a time, got tag {element.tag}")
    try:
        value = spec.load(element.encoded).native
    except (ValueError, TypeError, OverflowError) as exc:
        raise DerError(f"bad time value: {exc}") from exc
    if not isinstance(value, datetime):
        raise DerError("bad time value")
    return value.astimezone(UTC)
