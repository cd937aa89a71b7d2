"""The certificate server's enumerated settings, as types rather than strings.

Each is a `StrEnum` whose values are spelled exactly as IOS's cs-server mode keywords
(`mode sub-cs`, `grant auto`, `database level names`, `database archive pem`, `hash sha1`),
so a value reads back into the running-config unchanged and compares equal to the keyword.
`CsConfig` converts whatever it is given into these types when it is built, so a misspelt
setting fails there with a ValueError instead of silently never matching a comparison.
"""

from __future__ import annotations

from enum import StrEnum


class CsMode(StrEnum):
    """`mode ...` in cs-server mode: what kind of server this is (cisco-cs.md 12, 13)."""

    ROOT = "root"
    """No `mode` line: a root CA, the default."""
    SUB_CS = "sub-cs"
    """`mode sub-cs`: a subordinate CA that enrolls with the CA above it."""
    RA = "ra"
    """`mode ra`: a registration authority in front of an issuing CA."""
    RA_TRANSPARENT = "ra transparent"
    """`mode ra transparent`: an RA that forwards the client's own signed request."""


class GrantMode(StrEnum):
    """`grant {auto|none|ra-auto}` (none: manual) — how requests are decided (cisco-cs.md 11)."""

    MANUAL = "manual"
    """No `grant` line: every request waits for `crypto pki server NAME grant`."""
    AUTO = "auto"
    """`grant auto`: "All enrollment requests will be automatically granted."."""
    NONE = "none"
    """`grant none`: "all requests rejected automatically"."""
    RA_AUTO = "ra-auto"
    """`grant ra-auto`: requests a recognised RA forwards, and RAs' own requests, are
    granted at receipt (cisco-cs.md 11; `sim.pki.ra_forward`)."""


class DatabaseLevel(StrEnum):
    """`database level {minimum|names|complete}` (cisco-cs.md 10)."""

    MINIMUM = "minimum"
    NAMES = "names"
    COMPLETE = "complete"


class ArchiveFormat(StrEnum):
    """`database archive {pkcs12|pem}`: how the CA key and certificate are archived at the
    first `no shutdown` (cisco-cs.md 10); `no database archive` is None, not a member."""

    PKCS12 = "pkcs12"
    PEM = "pem"


class SignatureHash(StrEnum):
    """`hash {md5|sha1|sha256|sha384|sha512}`: what the server signs with."""

    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA384 = "sha384"
    SHA512 = "sha512"
