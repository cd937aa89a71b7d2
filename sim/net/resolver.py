"""Name resolution for the host of a URL, as an IOS router does it.

A router resolves names from its own `ip host NAME ADDR` table (DNS lookups are not
modelled). Hostnames are case-insensitive. The IOS PKI client has a quirk worth keeping:
even for an IP literal it first tries name resolution, fails, and then falls back to the
literal; the seed transcript shows it on every SCEP request to `http://10.3.0.6`:

    CRYPTO_PKI: can not resolve server name/IP address
    CRYPTO_PKI: Using unresolved IP Address 10.3.0.6

`Resolution.literal` tells the client to print those two lines. This module only decides;
it never logs.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

ResolutionSource = Literal["literal", "host-table"]


@functools.lru_cache(maxsize=65536)
def normalise_address(address: str) -> str | None:
    """Dotted-quad IPv4 in canonical form, or None if `address` is not one (cached: every
    packet's destination and every SCEP request's URL host is parsed, and ipaddress parses
    in Python)."""
    try:
        return str(ipaddress.IPv4Address(address.strip()))
    except (ipaddress.AddressValueError, ValueError):
        return None


def _key(name: str) -> str:
    """Hostnames compare case-insensitively; a trailing root dot changes nothing."""
    return name.strip().rstrip(".").lower()


class HostTable:
    """A router's `ip host` entries, in configuration order."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str, str]] = {}  # key -> (name as typed, address)

    def add(self, name: str, address: str) -> None:
        """`ip host NAME ADDR`: a later line for the same name replaces the earlier one."""
        key = _key(name)
        if not key or any(c.isspace() for c in key):
            raise ValueError(f"invalid host name {name!r}")
        if normalise_address(key) is not None:
            raise ValueError(f"host name {name!r} looks like an IP address")
        canonical = normalise_address(address)
        if canonical is None:
            raise ValueError(f"ip host {name}: {address!r} is not an IPv4 address")
        self._entries.pop(key, None)
        self._entries[key] = (name.strip(), canonical)

    def remove(self, name: str) -> bool:
        """`no ip host NAME`; returns whether an entry was there."""
        return self._entries.pop(_key(name), None) is not None

    def lookup(self, name: str) -> str | None:
        entry = self._entries.get(_key(name))
        return None if entry is None else entry[1]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """(name as configured, address) pairs, for `show running-config` and `show hosts`."""
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class Resolution:
    """The outcome of resolving a URL host: `address` None means it did not resolve."""

    host: str
    address: str | None
    source: ResolutionSource | None

    @property
    def literal(self) -> bool:
        """True for an IP literal, which IOS uses only after failing to resolve it as a name."""
        return self.source == "literal"

    @property
    def resolved(self) -> bool:
        return self.address is not None


def resolve(host: str, table: HostTable) -> Resolution:
    """Resolve a URL host the way IOS's PKI client does (see module docstring)."""
    named = table.lookup(host)
    if named is not None:
        return Resolution(host, named, "host-table")
    literal = normalise_address(host)
    if literal is not None:
        return Resolution(host, literal, "literal")
    return Resolution(host, None, None)
