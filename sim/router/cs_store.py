"""The certificate server's database location, on the router's side of the sans-IO core.

The core (`sim.pki.cs_server`) reads its database as a name -> bytes mapping in its
context and writes it as `WriteFile` effects; `sim.pki.cs_locations` says which URL each
file lives at (`database url [TYPE [publish]] URL`). This module does the I/O over
`sim.router.filesystems`:

- `prefetch` reads the files the enabling checks look at (`<cs>.ser`, `<cs>.crl`,
  `<cs>.db`) before the checks run; a remote location takes simulated time (TFTP), so
  the result is kept until the checks take it through `files` / `failure`. Local devices
  are read at the moment of the checks and need no prefetch.
- `write` writes one file where it belongs and publishes it; a critical file (`.ser`,
  `.crl`) that cannot be written disables the server (`%PKI-3-CS_CRIT_STORAGE`), any other
  failure warns (`%PKI-4-CS_PUBLISH_STORAGE: Publish certificate server storage, URL, is
  inaccessible.`, the message catalogue's name, cisco-cs.md 16; chosen: its text follows
  CS_CRIT_STORAGE's captured form).

chosen: a write fails only after the core has decided (a grant has already signed the
certificate when its `.ser` write times out), so the certificate still goes out and the
server is disabled after it. The serial is not lost: the server keeps it in memory, and
the next successful checks write the `.ser` file up to it (`cs_server._check_serial_file`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.kernel.process import SimProcess
from sim.pki.ca_requests import request_db_file
from sim.pki.cs_archive import archive_file
from sim.pki.cs_effects import Effect, Syslog
from sim.pki.cs_locations import is_critical, primary_root, publish_urls
from sim.pki.cs_rollover import shadow_file
from sim.pki.cs_server import CertificateServer, CsConfig
from sim.pki.deferred import FileBytes
from sim.router import filesystems, password7

if TYPE_CHECKING:
    from sim.router.router import Router

PUBLISH_WARNING = ("%PKI-4-CS_PUBLISH_STORAGE: Publish certificate server storage, {url}, "
                   "is inaccessible.")


def checked_files(name: str) -> list[str]:
    """The database files the enabling checks read."""
    return [f"{name}.ser", request_db_file(name), f"{name}.crl"]


def database_files(name: str) -> list[str]:
    """Every file named after the server (`no crypto pki server` deletes them)."""
    return [f"{name}.ser", f"{name}.crl", archive_file(name, "pkcs12"),
            archive_file(name, "pem"), request_db_file(name), shadow_file(name)]


class CsStorage:
    """One router's view of its servers' database locations (renewed at every boot)."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._fetched: dict[str, tuple[dict[str, bytes], str | None]] = {}

    def _root(self, cs: CertificateServer, name: str) -> str:
        return primary_root(cs.config.database_url, cs.config.database_typed_urls, name)

    def _remote(self, cs: CertificateServer) -> bool:
        return any(not filesystems.parse(cs.config.file_url(n)).local
                   for n in checked_files(cs.name))

    def prefetch(self, cs: CertificateServer) -> SimProcess[None]:
        """Read the checked files from a remote location (nothing to do for local ones)."""
        if not self._remote(cs):
            self._fetched.pop(cs.name, None)
            return
        files: dict[str, bytes] = {}
        failure: str | None = None
        for name in checked_files(cs.name):
            got = yield from filesystems.read(self.router, cs.config.file_url(name))
            if isinstance(got, bytes):
                files[name] = got
            elif not got.reachable and is_critical(name):
                failure = self._root(cs, name)
                break  # the checks fail on this; no need to wait for the others
        self._fetched[cs.name] = (files, failure)

    def _local_view(self, cs: CertificateServer) -> tuple[dict[str, bytes], str | None]:
        files: dict[str, bytes] = {}
        failure: str | None = None
        for name in checked_files(cs.name):
            where = filesystems.parse(cs.config.file_url(name))
            device = filesystems.local_device(self.router, where.device)
            if device is None:
                if is_critical(name) and failure is None:
                    failure = self._root(cs, name)
                continue
            data = device.read(where.path)
            if data is not None:
                files[name] = data
        return files, failure

    def _view(self, cs: CertificateServer) -> tuple[dict[str, bytes], str | None]:
        if not self._remote(cs):
            return self._local_view(cs)
        # A remote location the checks were not given time to read counts as unreachable.
        return self._fetched.get(cs.name, ({}, self._root(cs, f"{cs.name}.ser")))

    def context_fields(self, cs: CertificateServer) -> dict[str, Any]:
        """`storage`, `storage_failure` and `storage_device` for the server's context."""
        files, failure = self._view(cs)
        device = filesystems.device_of(cs.config.file_url(f"{cs.name}.ser")) or "nvram"
        return {"storage": files, "storage_failure": failure, "storage_device": device}

    def write(self, cs: CertificateServer, name: str, data: FileBytes
              ) -> SimProcess[list[Effect]]:
        """Write a database file where it belongs, then publish it; the effects of a
        failure (the server disabled, or a warning)."""
        router = self.router
        effects: list[Effect] = []
        url = cs.config.file_url(name)
        failed = yield from filesystems.write(router, url, data)
        if failed is not None:
            root = self._root(cs, name)
            router.emit("cs", "storage.failed", server=cs.name, url=url, error=failed.text)
            if is_critical(name):
                effects += cs.storage_lost(root)
            else:
                effects.append(Syslog(PUBLISH_WARNING.format(url=root)))
        typed = cs.config.database_typed_urls
        for location, extra in publish_urls(typed, name) if typed else ():
            failed = yield from filesystems.write(router, extra, data)
            if failed is not None:
                router.emit("cs", "storage.failed", server=cs.name, url=extra,
                            error=failed.text)
                effects.append(Syslog(PUBLISH_WARNING.format(url=location)))
        return effects

    def delete_files(self, cs: CertificateServer) -> None:
        """`no crypto pki server`: "CA certificate, Keypair, CRL and database files will be
        deleted" from the local devices they are on (chosen: files on a TFTP server stay,
        as TFTP cannot delete), the per-certificate `<serial>.cnm` / `.cer` files of
        `database level names|complete` included (chosen: they are database files too)."""
        issued = [f"{serial:X}.{ext}" for serial in range(2, cs.last_serial + 1)
                  for ext in ("cnm", "cer")]
        for name in [*database_files(cs.name), *issued]:
            where = filesystems.parse(cs.config.file_url(name))
            device = filesystems.local_device(self.router, where.device)
            if device is not None:
                device.delete(where.path)


# -- running-config ---------------------------------------------------------------------
def storage_config_lines(cfg: CsConfig) -> list[str]:
    """The per-type `database url` lines and `database username` (after `database url`).
    chosen: the password is shown obfuscated as type 7, as the archive password is."""
    lines = [typed.config_line() for typed in cfg.database_typed_urls]
    if cfg.database_username:
        line = f" database username {cfg.database_username}"
        if cfg.database_password:
            line += f" password 7 {password7.encode(cfg.database_password)}"
        lines.append(line)
    return lines


def server_tail_lines(cfg: CsConfig) -> list[str]:
    """`serial-number 0xN` and `redundancy`, before ` shutdown` (chosen order)."""
    lines = []
    if cfg.serial_number is not None:
        lines.append(f" serial-number 0x{cfg.serial_number:X}")
    if cfg.redundancy:
        lines.append(" redundancy")
    return lines
