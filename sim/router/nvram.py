"""NVRAM as a small filesystem: named files with sizes that survive reload and power loss.

The certificate server keeps its critical files here (`<cs>.ser`, `<cs>.crl`), the
router its `startup-config` and `private-config` (RSA keys). `erase nvram:` wipes it.
"""

from __future__ import annotations

from collections.abc import Iterator

NVRAM_SIZE = 196600
"""`196600 bytes total`, the figure `dir nvram:` prints on the 2600/3700 class of router."""


class NvramFull(Exception):
    """Not enough space on the device for a write."""


class Nvram:
    def __init__(self, size: int = NVRAM_SIZE) -> None:
        self.size = size
        self._files: dict[str, bytes] = {}
        self._order: dict[str, int] = {}
        self._next_index = 1

    def write(self, name: str, data: bytes) -> None:
        used_elsewhere = self.used - len(self._files.get(name, b""))
        if used_elsewhere + len(data) > self.size:
            raise NvramFull(f"%Error writing nvram:{name} (Not enough space on device)")
        if name not in self._order:
            self._order[name] = self._next_index
            self._next_index += 1
        self._files[name] = bytes(data)

    def read(self, name: str) -> bytes | None:
        return self._files.get(name)

    def exists(self, name: str) -> bool:
        return name in self._files

    def delete(self, name: str) -> bool:
        self._order.pop(name, None)
        return self._files.pop(name, None) is not None

    def erase(self) -> None:
        self._files.clear()
        self._order.clear()

    @property
    def used(self) -> int:
        return sum(len(d) for d in self._files.values())

    @property
    def free(self) -> int:
        return self.size - self.used

    def files(self) -> dict[str, bytes]:
        """A snapshot (copy) of every file, for code that must not mutate nvram."""
        return dict(self._files)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._files, key=lambda n: self._order[n]))

    def listing(self) -> list[str]:
        """`dir nvram:` output."""
        lines = ["Directory of nvram:/", ""]
        for name in self:
            mode = "----" if name == "private-config" else "-rw-"
            index = self._order[name]
            lines.append(f"{index:>5}  {mode} {len(self._files[name]):>12}"
                         f"                    <no date>  {name}")
        lines += ["", f"{self.size} bytes total ({self.free} bytes free)"]
        return lines
