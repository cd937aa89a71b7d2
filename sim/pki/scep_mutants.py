"""Mutations of SCEP messages, and the vocabulary of a fuzz run (samples, outcomes).

:func:`mutate` makes one byte-level mutation with the caller's seeded `random.Random`: bit
flips, byte changes, truncations, deletions, insertions, splices of two messages, duplicated
runs, garbage, and structure-aware edits found by walking the BER tree (:func:`elements`):
length octets, tags, and values overwritten in place (same length, so the structure stays and
the parsers meet odd values rather than broken framing). :class:`Sample` is one request for a
target, with the outcomes a forged case must get; the corpus (`sim.pki.scep_corpus`) draws
them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from asn1crypto import parser

from sim.pki import scep
from sim.pki.scep_http import SCEP_PATH, pki_operation_request

FAIL_NAMES = {
    scep.FailInfo.BAD_ALG: "badAlg",
    scep.FailInfo.BAD_MESSAGE_CHECK: "badMessageCheck",
    scep.FailInfo.BAD_REQUEST: "badRequest",
    scep.FailInfo.BAD_TIME: "badTime",
    scep.FailInfo.BAD_CERT_ID: "badCertId",
}
"""RFC 8894 section 3.2.1.4 spelling, as clients print them."""


def failure(fail_info: scep.FailInfo) -> str:
    """The outcome name of a CertRep FAILURE, e.g. `FAILURE badAlg`."""
    return f"FAILURE {FAIL_NAMES[fail_info]}"


SUCCESS, PENDING, HTTP_400, HTTP_404 = "SUCCESS", "PENDING", "HTTP 400", "HTTP 404"


@dataclass(frozen=True)
class Sample:
    """One request for the target. ``der`` goes in a POST body or, for GET, base64 in
    `message=`; ``query`` replaces the whole query string (HTTP-level cases). ``expect``: the
    outcomes the policy allows for a forged case (empty: any the contract allows)."""

    label: str
    method: str = "POST"
    der: bytes = b""
    query: str | None = None
    path: str = SCEP_PATH
    expect: frozenset[str] = frozenset()

    def target(self) -> str:
        """The request target (`path?query`) an HTTP client would send."""
        if self.query is not None:
            return f"{self.path}?{self.query}"
        return pki_operation_request(self.path, self.der, post=self.method == "POST").target


@dataclass(frozen=True)
class Element:
    """Where one BER element sits in a buffer."""

    offset: int
    header: int
    """Length of the identifier and length octets."""
    size: int
    """Length of the contents."""
    constructed: bool


def elements(data: bytes, limit: int = 400) -> list[Element]:
    """The BER elements in ``data``, walking into constructed ones and into OCTET STRINGs and
    primitive [0]s that hold DER (eContent, encryptedContent): the places where length, tag
    and value edits reach the parsers' corners."""
    out: list[Element] = []
    todo = [(0, len(data), 0)]
    while todo and len(out) < limit:
        start, end, depth = todo.pop()
        pos = start
        while pos < end and len(out) < limit:
            try:
                _cls, method, tag, header, contents, trailer = parser.parse(data[pos:end])
            except (ValueError, TypeError, IndexError, OverflowError):
                break
            out.append(Element(pos, len(header), len(contents), method == 1))
            if depth < 16 and contents and (method == 1 or tag in (0, 4)):
                todo.append((pos + len(header), pos + len(header) + len(contents), depth + 1))
            pos += len(header) + len(contents) + len(trailer)
    return out


_INTERESTING = (0x00, 0x01, 0x7F, 0x80, 0x81, 0x82, 0x84, 0x88, 0xFF, 0x30, 0x31, 0xA0, 0x24,
                0x04, 0x13, 0x0C)


def mutate(rng: random.Random, data: bytes, other: bytes) -> tuple[str, bytes]:
    """One byte-level mutation of ``data`` (``other`` feeds splices): (operator, result)."""
    buf = bytearray(data)
    if not buf:
        return "garbage", rng.randbytes(rng.randrange(1, 64))
    i = rng.randrange(len(buf))
    operator = rng.choice(("bitflip", "byte", "truncate", "delete", "insert", "splice",
                           "length", "length", "tag", "value", "value", "duplicate", "garbage"))
    if operator == "bitflip":
        for _ in range(rng.choice((1, 1, 2, 4))):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    elif operator == "byte":
        buf[i] = rng.choice((rng.randrange(256), *_INTERESTING))
    elif operator == "truncate":
        del buf[i:]
    elif operator == "delete":
        del buf[i:i + rng.randrange(1, 64)]
    elif operator == "insert":
        buf[i:i] = rng.randbytes(rng.randrange(1, 16))
    elif operator == "splice":
        j = rng.randrange(len(other)) if other else 0
        buf[i:] = other[j:]
    elif operator in ("length", "tag", "value"):
        found = elements(data)
        if operator == "value":  # same length, new bytes: the structure stays intact
            found = [e for e in found if not e.constructed and e.size]
        if found:
            element = rng.choice(found)
            at = element.offset
            if operator == "tag":
                buf[at] = rng.choice(_INTERESTING)
            elif operator == "value":
                start = at + element.header
                width = rng.randrange(1, min(element.size, 8) + 1)
                k = start + rng.randrange(element.size - width + 1)
                buf[k:k + width] = bytes(rng.choice((rng.randrange(256), *_INTERESTING))
                                         for _ in range(width))
            else:
                k = at + (rng.randrange(1, element.header) if element.header > 1 else 1)
                k = min(k, len(buf) - 1)
                buf[k] = rng.choice((
                    (buf[k] + 1) & 0xFF, (buf[k] - 1) & 0xFF, rng.randrange(256), 0x80, 0x84,
                    0xFF, 0x00))
    elif operator == "duplicate":
        j = rng.randrange(len(buf))
        buf[i:i] = buf[j:j + rng.randrange(1, 256)]
    else:
        size = rng.randrange(0, 3000)
        buf = bytearray(rng.choice((b"", b"\x30\x82\xff\xff", b"\x30\x80", b"\x06\x09")))
        buf += rng.randbytes(size)
    return operator, bytes(buf)
