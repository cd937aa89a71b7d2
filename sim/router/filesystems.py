"""The file systems a router names by URL: `nvram:`, `flash:` and `tftp://HOST/PATH`.

One small API for every command that reads or writes a file somewhere (the certificate
server's database, `crypto pki export|import ... pkcs12 URL`, `copy`, key export to a
URL): `read(router, url)` gives the bytes or an `FsError`, `write(router, url, data)`
gives None or an `FsError`. Both are simpy generators, since a TFTP transfer takes
simulated time on the simulated network (`sim.router.tftp`); local devices answer at
once. An `FsError` carries the line IOS prints, e.g.
`%Error opening tftp://10.0.0.9/ca.ser (Timed out)`.

IOS's reasons in brackets: `(No such file or directory)` for a missing local file,
`(File not found)` for a TFTP error 1, `(Timed out)` when a TFTP server does not answer,
`(No such device)` for a file system the router does not have, `(Not enough space on
device)` for a full one, `(Permission denied)` for a TFTP access violation.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sim.kernel.process import SimProcess
from sim.net.topology import normalise_address
from sim.pki.deferred import FileBytes, resolve
from sim.router import tftp
from sim.router.nvram import LocalFileSystem, NvramFull

if TYPE_CHECKING:
    from sim.router.router import Router

LOCAL_DEVICES = ("nvram", "flash")


class FsFailure(StrEnum):
    NOT_FOUND = "not-found"
    TIMED_OUT = "timed-out"
    NO_DEVICE = "no-device"
    FULL = "full"
    DENIED = "denied"
    UNKNOWN_HOST = "unknown-host"


@dataclass(frozen=True)
class FsError:
    """Why a file could not be read or written, with the line IOS prints for it."""

    kind: FsFailure
    text: str

    @property
    def reachable(self) -> bool:
        """The location answered (a missing file is not a lost location)."""
        return self.kind is FsFailure.NOT_FOUND


@dataclass(frozen=True)
class Url:
    """A parsed file URL: `device` is `nvram`, `flash`, `tftp` or whatever else was
    typed; `host` only for tftp; `path` without the device (`ca/ca.ser`)."""

    text: str
    device: str
    host: str | None
    path: str

    @property
    def local(self) -> bool:
        return self.device in LOCAL_DEVICES


@functools.lru_cache(maxsize=4096)
def parse(url: str) -> Url:
    """Split `flash:ca/ca.ser`, `nvram:ca.ser`, `tftp://10.0.0.9/ca/ca.ser`. Anything
    else is kept with its scheme as the device (it will be `No such device`). Cached: a
    `Url` is immutable, and a CA writes the same files at every CRL publication."""
    text = url.strip()
    lowered = text.lower()
    if lowered.startswith("tftp://"):
        host, _, path = text[len("tftp://"):].partition("/")
        return Url(text, "tftp", host, path)
    device, colon, path = text.partition(":")
    if not colon:
        return Url(text, "", None, text)
    return Url(text, device.lower(), None, path.lstrip("/"))


def device_of(url: str) -> str:
    return parse(url).device


def local_device(router: Router, device: str) -> LocalFileSystem | None:
    if device == "nvram":
        return router.nvram
    if device == "flash":
        return router.flash
    return None


def _error(kind: FsFailure, url: str, reason: str, verb: str = "opening") -> FsError:
    return FsError(kind, f"%Error {verb} {url} ({reason})")


def _server_address(router: Router, host: str | None) -> str | None:
    if not host:
        return None
    return normalise_address(host) or router.running.hosts.lookup(host)


def read(router: Router, url: str) -> SimProcess[bytes | FsError]:
    """The file's bytes, or why not."""
    where = parse(url)
    device = local_device(router, where.device)
    if device is not None:
        data = device.read(where.path)
        if data is None:
            return _error(FsFailure.NOT_FOUND, where.text, "No such file or directory")
        return data
    if where.device != "tftp":
        return _error(FsFailure.NO_DEVICE, where.text, "No such device")
    address = _server_address(router, where.host)
    if address is None:
        return _error(FsFailure.UNKNOWN_HOST, where.text, "Unknown host")
    got = yield from tftp.read(router, address, where.path)
    if isinstance(got, tftp.TftpError):
        return _tftp_error(got, where.text)
    return got


def write(router: Router, url: str, data: FileBytes) -> SimProcess[FsError | None]:
    """Write the whole file (replacing one of that name); None when it is written. A local
    device keeps deferred contents as they are (`sim.pki.deferred`); TFTP sends bytes."""
    where = parse(url)
    device = local_device(router, where.device)
    if device is not None:
        if not where.path:
            return _error(FsFailure.DENIED, where.text, "Is a directory")
        if device is router.nvram:
            # Through the router, so nvram writes stay traced (`nvram/write`) as always.
            if not router.write_nvram(where.path, data):
                return _error(FsFailure.FULL, where.text, "Not enough space on device",
                              "writing")
            return None
        try:
            device.write(where.path, data)
        except NvramFull as full:
            return FsError(FsFailure.FULL, str(full))
        router.emit(where.device, "write", file=where.path, size=len(data))
        return None
    if where.device != "tftp":
        return _error(FsFailure.NO_DEVICE, where.text, "No such device")
    address = _server_address(router, where.host)
    if address is None:
        return _error(FsFailure.UNKNOWN_HOST, where.text, "Unknown host")
    failed = yield from tftp.write(router, address, where.path, resolve(data))
    return None if failed is None else _tftp_error(failed, where.text)


def delete_local(router: Router, url: str) -> FsError | None:
    """`delete flash:FILE` / a database file on a local device; TFTP has no delete."""
    where = parse(url)
    device = local_device(router, where.device)
    if device is None:
        return _error(FsFailure.NO_DEVICE, where.text, "No such device", "deleting")
    if not device.delete(where.path):
        return _error(FsFailure.NOT_FOUND, where.text, "No such file or directory",
                      "deleting")
    router.emit(where.device, "delete", file=where.path)
    return None


def _tftp_error(error: tftp.TftpError, url: str) -> FsError:
    kinds = {tftp.TftpFailure.TIMED_OUT: FsFailure.TIMED_OUT,
             tftp.TftpFailure.NOT_FOUND: FsFailure.NOT_FOUND,
             tftp.TftpFailure.DENIED: FsFailure.DENIED,
             tftp.TftpFailure.FULL: FsFailure.FULL}
    return _error(kinds[error.kind], url, error.reason)
