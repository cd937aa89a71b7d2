"""A tiny DER writer and a lenient BER reader for the CMS structures SCEP uses.

Why not asn1crypto's typed classes throughout: they re-sort SET OF on output (which reorders
certificates, pitfall P3) and refuse what real peers send, e.g. a constructed implicitly tagged
encryptedContent from Go's pkcs7 ("method should have been primitive", P6). So the codec
writes exact bytes with the helpers below and reads with :class:`Tlv`, which accepts BER
(indefinite lengths, constructed strings) as RFC 5652 section 5.1 allows senders to use.
The common forms (a low tag number with a definite length, INTEGERs, DER UTCTimes) are read
and written here in a few byte operations, because a SCEP exchange handles thousands of
elements; asn1crypto still does the rest (indefinite lengths, high tag numbers, OIDs,
GeneralizedTime, names) and every error, so what is accepted and refused is unchanged
(tests/test_der_once.py compares both over mangled messages).

Reader functions raise :class:`DerError` (a ValueError) on malformed input; the codec maps it
to a :class:`ScepError` with the failInfo that fits the place.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
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
    n = len(contents)
    # The forms nearly every element takes, without a call to length(): X.690 10.1 (short
    # form below 128, else the fewest length octets).
    if n < 0x80:
        return bytes((identifier, n)) + contents
    if n < 0x100:
        return bytes((identifier, 0x81, n)) + contents
    if n < 0x10000:
        return bytes((identifier, 0x82, n >> 8, n & 0xFF)) + contents
    return bytes((identifier,)) + length(n) + contents


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def der_sort(elements: Iterable[bytes]) -> list[bytes]:
    """X.690 section 11.6: SET OF components "in ascending order, the encodings being compared
    as octet strings with the shorter components being padded at their trailing end with
    0-octets"."""
    items = list(elements)
    if len(items) < 2:
        return items
    width = max(len(e) for e in items)
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
    """An INTEGER in the fewest two's-complement octets (X.690 section 8.3.2)."""
    magnitude = value if value >= 0 else ~value
    return tlv(0x02, value.to_bytes(magnitude.bit_length() // 8 + 1, "big", signed=True))


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
    return PRINTABLE_CHARACTERS.issuperset(value)


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
    if moment.tzinfo is not UTC:  # already UTC (every clock here): nothing to convert
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    # Fractions of a second are dropped: the UTCTime below has none, and GeneralizedTime
    # is written without them too.
    if 1950 <= moment.year <= 2049:
        # X.690 section 11.8: "YYMMDDHHMMSSZ", as asn1crypto writes it (tests compare);
        # formatted with %, a few times faster than strftime.
        return b"\x17\x0d%02d%02d%02d%02d%02d%02dZ" % (
            moment.year % 100, moment.month, moment.day, moment.hour, moment.minute,
            moment.second)
    return core.GeneralizedTime(moment.replace(microsecond=0)).dump()


# --------------------------------------------------------------------------- reader


class Tlv:
    """One parsed BER element; ``encoded`` is exactly the bytes it was read from.

    Why a view and not a copy: an element keeps the buffer it was read from and its offsets,
    so reading a SEQUENCE's children or a certificate's issuer copies nothing; ``header``,
    ``contents``, ``trailer`` and ``encoded`` are sliced out only when asked for. Elements
    compare and hash by those four values and their tag, as the dataclass this replaces did.
    """

    __slots__ = ("cls", "constructed", "tag", "_data", "_start", "_body", "_end", "_trailer")

    def __init__(
        self, cls: int, constructed: bool, tag: int,
        data: bytes, start: int, body: int, end: int, trailer: int,
    ) -> None:
        self.cls = cls
        self.constructed = constructed
        self.tag = tag
        self._data = data
        self._start = start
        self._body = body
        self._end = end
        self._trailer = trailer

    @property
    def header(self) -> bytes:
        return self._data[self._start:self._body]

    @property
    def contents(self) -> bytes:
        return self._data[self._body:self._end - self._trailer]

    @property
    def trailer(self) -> bytes:
        return self._data[self._end - self._trailer:self._end]

    @property
    def encoded(self) -> bytes:
        if self._start == 0 and self._end == len(self._data):
            return self._data
        return self._data[self._start:self._end]

    def _key(self) -> tuple[int, bool, int, bytes, bytes, bytes]:
        return (self.cls, self.constructed, self.tag, self.header, self.contents, self.trailer)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tlv):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"Tlv(cls={self.cls}, constructed={self.constructed}, tag={self.tag}, "
                f"encoded={self.encoded!r})")

    def is_(self, cls: int, tag: int) -> bool:
        return self.cls == cls and self.tag == tag

    def children(self) -> list[Tlv]:
        """The elements inside a constructed element."""
        if not self.constructed:
            raise DerError(f"expected a constructed element, got primitive tag {self.tag}")
        return _read_range(self._data, self._body, self._end - self._trailer)


def read(data: bytes) -> Tlv:
    """Exactly one element, no trailing bytes."""
    return _one(read_all(data))


def read_inside(element: Tlv) -> Tlv:
    """Exactly one element in ``element``'s contents: ``read(element.contents)`` without the
    copy (an explicitly tagged wrapper, an OCTET STRING that holds DER)."""
    return _one(_read_range(element._data, element._body, element._end - element._trailer))


def _one(elements: list[Tlv]) -> Tlv:
    if len(elements) != 1:
        raise DerError(f"expected one element, found {len(elements)}")
    return elements[0]


def read_all(data: bytes) -> list[Tlv]:
    """All consecutive elements in ``data`` (the contents of a SEQUENCE or SET)."""
    if type(data) is not bytes and data:  # asn1crypto's parser refused anything else
        try:
            parser.parse(data)
        except (ValueError, TypeError, IndexError, OverflowError) as exc:
            raise DerError(f"bad BER encoding: {exc}") from exc
    return _read_range(data, 0, len(data))


_READ_ERRORS = (ValueError, TypeError, IndexError, OverflowError)


def _read_range(data: bytes, pos: int, stop: int) -> list[Tlv]:
    """The elements in ``data[pos:stop]``.

    The common case (a tag below 31, a definite length that fits) is read inline or by
    `span` in a few byte operations; anything else (high tag numbers, indefinite lengths,
    truncation) goes to asn1crypto's parser, so what is accepted, and every error message,
    stays what it was when asn1crypto read every element.
    """
    out: list[Tlv] = []
    while pos < stop:
        first = data[pos]
        body = pos + 2
        # The commonest forms, a low tag with a definite length in at most two octets, read
        # inline: what `span` reads, without the call.
        if first & 31 != 31 and body <= stop:
            size = data[pos + 1]
            if size < 0x80:
                end = body + size
            elif size == 0x81 and body + 1 <= stop:
                end = body + 1 + data[body]
                body += 1
            elif size == 0x82 and body + 2 <= stop:
                end = body + 2 + (data[body] << 8 | data[body + 1])
                body += 2
            else:
                end = stop + 1  # anything else: `span` below
            if end <= stop:
                out.append(Tlv(first >> 6, bool(first & 0x20), first & 31, data, pos, body, end,
                               0))
                pos = end
                continue
        quick = span(data, pos, stop)
        if quick is not None:
            body, end = quick
            out.append(Tlv(first >> 6, bool(first & 0x20), first & 31, data, pos, body, end, 0))
            pos = end
            continue
        try:
            # Non-strict: parse the first element and leave the rest for the next round.
            cls, method, tag, header, contents, trailer = parser.parse(data[pos:stop])
        except _READ_ERRORS as exc:
            raise DerError(f"bad BER encoding: {exc}") from exc
        end = pos + len(header) + len(contents) + len(trailer)
        out.append(Tlv(cls, method == 1, tag, data, pos, pos + len(header), end, len(trailer)))
        pos = end
    return out


def span(data: bytes, pos: int, stop: int) -> tuple[int, int] | None:
    """(contents start, end) of the element at ``pos``, read in a few byte operations where
    it is the common case: a tag number below 31 and a definite length that fits before
    ``stop``. None for anything else (the caller hands it to asn1crypto's parser, which
    reads it or says what is wrong)."""
    body = pos + 2
    if data[pos] & 31 == 31 or body > stop:
        return None
    length = data[pos + 1]
    if length < 0x80:
        end = body + length
    elif length == 0x80:
        return None
    else:
        count = length & 0x7F
        if body + count > stop:
            return None
        end = body + count + int.from_bytes(data[body:body + count], "big")
        body += count
    return (body, end) if end <= stop else None


def expect(element: Tlv, cls: int, tag: int, what: str) -> Tlv:
    if not element.is_(cls, tag):
        raise DerError(f"{what}: unexpected tag class {element.cls} number {element.tag}")
    return element


def fields(element: Tlv, what: str, minimum: int = 0) -> list[Tlv]:
    """The children of a SEQUENCE, requiring at least ``minimum`` of them."""
    if element.cls != UNIVERSAL or element.tag != SEQUENCE:
        raise DerError(f"{what}: unexpected tag class {element.cls} number {element.tag}")
    children = element.children()
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


def dotted(encoded: bytes) -> str:
    """The dotted form of an encoded OBJECT IDENTIFIER element (tag and length included);
    DerError if it does not read."""
    return _dotted(encoded)


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
    if element.is_(UNIVERSAL, UTC_TIME) and not element.constructed:
        quick = utc_time(element.contents)
        if quick is not None:
            return quick
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


_DER_UTC_TIME = re.compile(rb"[0-9]{12}Z")


@functools.lru_cache(maxsize=256)
def utc_time(contents: bytes) -> datetime | None:
    """The DER form every signer here writes ("YYMMDDHHMMSSZ"), read without asn1crypto;
    None for any other form or an impossible date, which asn1crypto then reads (or refuses)
    as before. RFC 5280 section 4.1.2.5.1: "Where YY is greater than or equal to 50, the
    year SHALL be interpreted as 19YY; and Where YY is less than 50, the year SHALL be
    interpreted as 20YY". Cached: messages sent in the same second carry the same signingTime."""
    if _DER_UTC_TIME.fullmatch(contents) is None:
        return None
    year = int(contents[0:2])
    try:
        return datetime(year + (2000 if year < 50 else 1900), int(contents[2:4]),
                        int(contents[4:6]), int(contents[6:8]), int(contents[8:10]),
                        int(contents[10:12]), tzinfo=UTC)
    except ValueError:
        return None
