"""What the HTTP binding needs from the codec: GetCACaps keywords, profiles, GET encodings.

The binding owns ``operation=`` and the sockets; this module owns the bytes-to-text rules, so
they can be tested without HTTP (RFC 8894 section 4).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from types import MappingProxyType
from urllib.parse import quote

from sim.pki.scep.types import IOS_12_3, FailInfo, Profile, ScepError

CONTENT_TYPES = MappingProxyType(
    {
        "ca": "application/x-x509-ca-cert",
        "ca_ra": "application/x-x509-ca-ra-cert",
        "next_ca": "application/x-x509-next-ca-cert",
        "pki": "application/x-pki-message",
        "caps": "text/plain",
    }
)
"""RFC 8894 section 4.2.1.1: one CA certificate is sent as "application/x-x509-ca-cert", a CA
with RAs or intermediates as "application/x-x509-ca-ra-cert" (a degenerate certificates-only
SignedData); section 4.3: PKIOperation replies are "application/x-pki-message"."""

# --------------------------------------------------------------------------- GetCACaps

CAPABILITIES = (
    "AES",
    "DES3",
    "GetNextCACert",
    "POSTPKIOperation",
    "Renewal",
    "SHA-1",
    "SHA-224",
    "SHA-256",
    "SHA-384",
    "SHA-512",
    "SCEPStandard",
    "Update",
)
"""Keywords of the IANA SCEP registry plus draft ones (scep.md 1.3), in canonical spelling."""
_CANONICAL = {keyword.lower(): keyword for keyword in CAPABILITIES}


def parse_caps(text: str) -> frozenset[str]:
    """GetCACaps body -> keywords in canonical spelling.

    RFC 8894 section 3.5.2: "the client SHOULD use case-insensitive comparison" and "Clients
    SHOULD ignore unrecognised keywords"; one keyword per line (CRLF or LF), blank lines
    ignored.
    """
    found = set()
    for line in text.splitlines():
        keyword = _CANONICAL.get(line.strip().lower())
        if keyword is not None:
            found.add(keyword)
    return frozenset(found)


def caps_text(caps: Iterable[str]) -> str:
    """A GetCACaps body: keywords joined by LF (RFC 8894 section 3.5.2, "<LF>-separated").

    A list or tuple keeps its order (a server may mimic a peer's order); a set is written in
    the canonical order of :data:`CAPABILITIES`, then unknown words sorted, so the output does
    not depend on string hashing and runs stay byte-identical.
    """
    if isinstance(caps, set | frozenset):
        rank = {keyword: i for i, keyword in enumerate(CAPABILITIES)}
        ordered = sorted(caps, key=lambda k: (rank.get(k, len(rank)), k))
    else:
        ordered = list(caps)
    return "\n".join(ordered)


def profile_from_caps(caps: frozenset[str]) -> Profile:
    """The algorithms a client picks from the CA's caps, by sscep's rules (scep.md 1.3).

    Cipher: AES-128 with ``AES`` or ``SCEPStandard``, else 3DES with ``DES3``, else DES.
    Digest: SHA-512, SHA-384, SHA-256 (or ``SCEPStandard``), SHA-224, SHA-1, else MD5
    (draft-nourse-11 App. F: with no SHA keyword the client "MUST use MD5"). POST with
    ``POSTPKIOperation`` or ``SCEPStandard``. No caps at all (a CA like IOS 12.3 that does not
    answer GetCACaps) gives :data:`IOS_12_3`.
    """
    if not caps:
        return IOS_12_3
    standard = "SCEPStandard" in caps
    if "AES" in caps or standard:
        cipher = "aes128"
    elif "DES3" in caps:
        cipher = "des3"
    else:
        cipher = "des"
    digest = "md5"
    for keyword, name in (
        ("SHA-512", "sha512"),
        ("SHA-384", "sha384"),
        ("SHA-256", "sha256"),
        ("SHA-224", "sha224"),
        ("SHA-1", "sha1"),
    ):
        if keyword in caps or (standard and keyword == "SHA-256"):
            digest = name
            break
    post = "POSTPKIOperation" in caps or standard
    method = "post" if post else "get"
    return Profile(f"caps-{cipher}-{digest}-{method}", cipher, digest, post)


# --------------------------------------------------------------------------- GET message=


def encode_get_message(der: bytes, style: str = "ios") -> str:
    """The ``message=`` value of a GET PKIOperation, already percent-escaped.

    ``ios``: standard base64 with a line break after every 64 characters and at the end, as
    OpenSSL's base64 BIO writes it (sscep, and Cisco IOS, send ``%0A`` in the URL; scep.md 1.2).
    ``rfc``: RFC 8894 section 4.1, "base64-encoded ... and then URL-encoded", one line.
    """
    text = base64.b64encode(der).decode("ascii")
    if style == "ios":
        text = "".join(text[i : i + 64] + "\n" for i in range(0, len(text), 64))
    elif style != "rfc":
        raise ValueError(f"unknown GET message style {style!r}; expected 'ios' or 'rfc'")
    return quote(text, safe="")


def decode_get_message(value: str) -> bytes:
    """DER bytes from an already URL-decoded ``message=`` value, tolerating what peers send.

    scep.md 1.2: spaces are ``+`` lost to form decoding (macOS/iOS leave ``+`` raw), ``-``/``_``
    are URL-safe base64 (micromdm scepclient 2.1.0), CR/LF are line breaks (sscep, IOS), and
    padding may be missing. ScepError(BAD_REQUEST) when it is still not base64.
    """
    cleaned = (
        value.replace(" ", "+")
        .replace("-", "+")
        .replace("_", "/")
        .replace("\r", "")
        .replace("\n", "")
        .rstrip("=")
    )
    if len(cleaned) % 4 == 1:
        raise ScepError(FailInfo.BAD_REQUEST, "message= is not valid base64 (bad length)")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ScepError(FailInfo.BAD_REQUEST, f"message= is not valid base64: {exc}") from exc
