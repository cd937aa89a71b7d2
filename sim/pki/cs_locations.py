"""Where each file of a certificate server's database goes (pure, no I/O).

`database url ROOT` names the database location (default `nvram:`); per-type lines
`database url {cnm|crl|crt|p12|pem|ser} [publish] URL` move one kind of file elsewhere or,
with `publish`, copy it to an extra place (cisco-cs.md 10, 3 [V-cisco][D]):

- `<cs>.ser` (serial file) and `<cs>.crl` (CRL) are *critical*: "exactly one location";
  if it cannot be written or read the server is disabled (`%PKI-3-CS_CRIT_STORAGE`).
- `<serial>.cnm` and `<serial>.cer` (`database level names|complete`), `<cs>.p12` /
  `<cs>.pem` (the archive) may also be *published* to other URLs; a publish location that
  cannot be reached only warns (`%PKI-4-CS_PUBLISH_STORAGE`).
- `<cs>.db`, pkilab's request database image, lives at the root location (chosen: IOS
  keeps its request database in the same place as the serial file).

chosen: IOS accepts `publish` on `ser` and `crl` too; pkilab takes it for every type and
writes critical files to their primary location first, then publishes them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

FILE_TYPES = ("cnm", "crl", "crt", "p12", "pem", "ser")
"""The keywords of `database url TYPE [publish] URL`."""
CRITICAL_TYPES = ("ser", "crl")

_SUFFIX_TYPES = {".ser": "ser", ".crl": "crl", ".cnm": "cnm", ".cer": "crt", ".crt": "crt",
                 ".p12": "p12", ".pem": "pem"}


@dataclass(frozen=True)
class TypedUrl:
    """One `database url TYPE [publish] URL` line."""

    file_type: str
    url: str
    publish: bool = False

    def config_line(self) -> str:
        return f" database url {self.file_type}{' publish' if self.publish else ''} {self.url}"


@functools.lru_cache(maxsize=4096)
def file_type(name: str) -> str | None:
    """The `database url` keyword for a database file name (None: the request database).
    Cached, as `primary_url` is: a CA asks for the same few names at every publication."""
    for suffix, kind in _SUFFIX_TYPES.items():
        if name.endswith(suffix):
            return kind
    return None


def is_critical(name: str) -> bool:
    return file_type(name) in CRITICAL_TYPES


def join(root: str, name: str) -> str:
    """`nvram:` + `ca.ser` -> `nvram:ca.ser`; `tftp://10.0.0.9/ca` + `ca.ser` ->
    `tftp://10.0.0.9/ca/ca.ser` (chosen: a root not ending in `:` or `/` is a folder)."""
    if root.endswith((":", "/")):
        return root + name
    return f"{root}/{name}"


def primary_root(root: str, typed: tuple[TypedUrl, ...], name: str) -> str:
    """The location a file is written to and read from: its type's non-publish URL (the
    last one configured), else the database root."""
    kind = file_type(name)
    chosen = [t.url for t in typed if t.file_type == kind and not t.publish]
    return chosen[-1] if chosen else root


@functools.lru_cache(maxsize=4096)
def primary_url(root: str, typed: tuple[TypedUrl, ...], name: str) -> str:
    """The file's URL (`primary_root` joined with its name); a pure function of the
    configuration, cached (`TypedUrl` is frozen, so the key is its value)."""
    return join(primary_root(root, typed, name), name)


def publish_urls(typed: tuple[TypedUrl, ...], name: str) -> list[tuple[str, str]]:
    """The extra places a file is copied to (`database url TYPE publish URL`): each
    location and the file's URL there."""
    kind = file_type(name)
    return [(t.url, join(t.url, name)) for t in typed if t.file_type == kind and t.publish]


def with_typed_url(typed: tuple[TypedUrl, ...], new: TypedUrl) -> tuple[TypedUrl, ...]:
    """The per-type URL lines after `new` is configured: a type has one primary location
    (the new line replaces the old), and any number of publish locations."""
    if new.publish:
        if new in typed:
            return typed
        return (*typed, new)
    return (*(t for t in typed if t.publish or t.file_type != new.file_type), new)


def without_typed_url(typed: tuple[TypedUrl, ...], file_type_: str, url: str | None,
                      publish: bool) -> tuple[TypedUrl, ...]:
    """`no database url TYPE [publish] [URL]`."""
    return tuple(t for t in typed if not (t.file_type == file_type_ and t.publish == publish
                                          and (url is None or t.url == url)))
