"""A router's local file systems: NVRAM and flash, named files that survive reload and
power loss.

The certificate server keeps its critical files in NVRAM by default (`<cs>.ser`,
`<cs>.crl`), the router its `startup-config` and `private-config` (RSA keys). `erase
nvram:` wipes it. Flash is a second, larger device of the same kind (`dir flash:`,
`erase flash:`, `delete flash:FILE`): what an administrator points `database url flash:`
at, or copies backups to, so that they outlive `erase nvram:`.

Names are flat strings; on flash a name may hold `/` (`ca/ca.ser`), which `dir` shows as
a directory (chosen: a directory exists while a file is in it, as `mkdir` is not modelled).
"""

from __future__ import annotations

from collections.abc import Iterator

from sim.pki.deferred import Deferred, FileBytes, resolve

NVRAM_SIZE = 196600
"""`196600 bytes total`, the figure `dir nvram:` prints on the 2600/3700 class of router."""
FLASH_SIZE = 32505856
"""`32505856 bytes total`: the 32 MB flash card of a 2600XM/3700-class router."""


class NvramFull(Exception):
    """Not enough space on the device for a write."""


class LocalFileSystem:
    """One device (`nvram:` or `flash:`) holding named files, in the order they were made."""

    __slots__ = ("device", "size", "_files", "_order", "_next_index", "_used")  # two per router

    def __init__(self, device: str, size: int) -> None:
        self.device = device
        self.size = size
        self._files: dict[str, FileBytes] = {}
        """Deferred contents (a CRL not yet signed, `sim.pki.deferred`) stay deferred
        until a read; their length is known, so listings and free space need no bytes."""
        self._order: dict[str, int] = {}
        self._next_index = 1
        self._used = 0
        """The sum of the files' lengths, kept as they change (`used`): a CA writes its
        database on every request, and summing every file each time grew with them."""

    def write(self, name: str, data: FileBytes) -> None:
        used_elsewhere = self._used - len(self._files.get(name, b""))
        if used_elsewhere + len(data) > self.size:
            raise NvramFull(f"%Error writing {self.device}:{name} (Not enough space on device)")
        if name not in self._order:
            self._order[name] = self._next_index
            self._next_index += 1
        kept = self._files[name] = data if isinstance(data, Deferred) else bytes(data)
        self._used = used_elsewhere + len(kept)

    def read(self, name: str) -> bytes | None:
        data = self._files.get(name)
        if data is None or isinstance(data, bytes):
            return data
        made = self._files[name] = resolve(data)  # kept: the next read is free
        self._used += len(made) - len(data)  # the same length, but the total stays exact
        return made

    def deferred(self, name: str) -> bool:
        """Whether the file's bytes are still to be made (a CRL nobody has read yet)."""
        data = self._files.get(name)
        return isinstance(data, Deferred) and not data.made

    def size_of(self, name: str) -> int | None:
        """The file's length without reading it (a deferred file stays deferred)."""
        data = self._files.get(name)
        return None if data is None else len(data)

    def exists(self, name: str) -> bool:
        return name in self._files

    def delete(self, name: str) -> bool:
        self._order.pop(name, None)
        gone = self._files.pop(name, None)
        if gone is None:
            return False
        self._used -= len(gone)
        return True

    def erase(self) -> None:
        self._files.clear()
        self._order.clear()
        self._used = 0

    @property
    def used(self) -> int:
        """Bytes in use: the sum of every file's length (kept as a running total)."""
        return self._used

    @property
    def free(self) -> int:
        return self.size - self.used

    def files(self) -> dict[str, bytes]:
        """A snapshot (copy) of every file, for code that must not mutate the device."""
        return {name: self.read(name) or b"" for name in self._files}

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._files, key=lambda n: self._order[n]))

    def listing(self, folder: str = "") -> list[str]:
        """`dir nvram:` / `dir flash:[FOLDER/]` output: the files in `folder` and, as
        `drwx` lines, the folders below it."""
        prefix = folder.strip("/") + "/" if folder.strip("/") else ""
        lines = [f"Directory of {self.device}:/{prefix}", ""]
        seen: set[str] = set()
        for name in self:
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix):]
            if "/" in rest:
                sub = rest.split("/", 1)[0]
                if sub not in seen:
                    seen.add(sub)
                    lines.append(f"{self._order[name]:>5}  drwx {0:>12}"
                                 f"                    <no date>  {sub}")
                continue
            mode = "----" if name == "private-config" else "-rw-"
            lines.append(f"{self._order[name]:>5}  {mode} {len(self._files[name]):>12}"
                         f"                    <no date>  {rest}")
        if len(lines) == 2 and self.device != "nvram":
            # IOS's line for an empty folder; an nvram listing keeps the form pkilab has
            # always printed (the shipped transcripts hold it).
            lines.append("No files in directory")
        lines += ["", f"{self.size} bytes total ({self.free} bytes free)"]
        return lines


class Nvram(LocalFileSystem):
    __slots__ = ()

    def __init__(self, size: int = NVRAM_SIZE) -> None:
        super().__init__("nvram", size)


class Flash(LocalFileSystem):
    __slots__ = ()

    def __init__(self, size: int = FLASH_SIZE) -> None:
        super().__init__("flash", size)
