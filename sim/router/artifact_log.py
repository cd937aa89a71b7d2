"""The artifacts a router produced or received: certificates, CSRs, CRLs, SCEP messages.

Each is recorded as (file name, bytes), the name numbered in recording order
(`0001-ca.ca.pem`, `0002-sent-PKCSReq.der`, ...). A batch run keeps every one: its output
folder writes them all under `artifacts/<router>/run/`, and the end-of-run invariants pair
issuances with them. A long-lived lab (a simulated CA served to real clients on loopback)
calls `retain(n)` so that only the last `n` stay in memory; the numbering goes on, the
dropped ones are counted and, if a `spill` is given, handed to it (to be written to disk)
as they leave memory.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

Spill = Callable[[str, bytes], None]
"""Receives each artifact, (file name, bytes), as retention drops it from memory. It runs
inside the simulation: it must not raise (`FolderSpill` counts its failures instead)."""


class ArtifactLog:
    """Iterates as (file name, bytes) pairs, oldest retained first."""

    def __init__(self) -> None:
        self._kept: deque[tuple[str, bytes]] = deque()
        self._spill: Spill | None = None
        self.recorded = 0
        """Artifacts recorded since the router was built, retained or not."""

    def record(self, name: str, data: bytes) -> str:
        """Keep `data` as the next numbered artifact; returns its file name."""
        self.recorded += 1
        filename = f"{self.recorded:04d}-{name}"
        leaving: tuple[str, bytes] | None = None
        if self._kept.maxlen == 0:
            leaving = (filename, data)
        elif len(self._kept) == self._kept.maxlen:
            leaving = self._kept[0]
        self._kept.append((filename, data))
        # Spill once the log is consistent, in case a spill raises after all.
        if leaving is not None and self._spill is not None:
            self._spill(*leaving)
        return filename

    def retain(self, limit: int | None, spill: Spill | None = None) -> None:
        """Keep only the last `limit` artifacts in memory from now on (None: keep all)."""
        if limit is not None and limit < 0:
            raise ValueError(f"artifact retention must be 0 or more, not {limit}")
        self._spill = spill
        kept = list(self._kept)
        overflow = max(0, len(kept) - limit) if limit is not None else 0
        if spill is not None:
            for filename, data in kept[:overflow]:
                spill(filename, data)
        self._kept = deque(kept[overflow:], maxlen=limit)

    @property
    def dropped(self) -> int:
        """Artifacts no longer in memory because of `retain` (spilled or not)."""
        return self.recorded - len(self._kept)

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        return iter(self._kept)

    def __len__(self) -> int:
        return len(self._kept)


class FolderSpill:
    """A spill that writes each dropped artifact into a folder (created on first use).

    Artifact names carry trustpoint and server names typed at a console; a name that
    would not land directly inside the folder is not written (defence in depth: the CLI
    refuses such labels), and names are kept as they are otherwise, so the spilled files
    are the ones a batch run writes under `artifacts/<router>/run/`. It never raises into
    the simulation: a write that fails (a full disk) is counted in `failed`.
    """

    def __init__(self, folder: Path) -> None:
        self.root = folder.resolve()
        self.written = 0
        self.refused = 0
        self.failed = 0

    def __call__(self, filename: str, data: bytes) -> None:
        target = (self.root / filename).resolve()
        if ("/" in filename or "\\" in filename or filename in ("", ".", "..")
                or target.parent != self.root):
            self.refused += 1
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        except OSError:
            self.failed += 1
            return
        self.written += 1
