"""The artifacts a router produced or received: certificates, CSRs, CRLs, SCEP messages.

Each is recorded as (file name, bytes), the name numbered in recording order
(`0001-ca.ca.pem`, `0002-sent-PKCSReq.der`, ...). A batch run keeps every one: its output
folder writes them all under `artifacts/<router>/run/`, and the end-of-run invariants pair
issuances with them. A long-lived lab (a simulated CA served to real clients on loopback)
calls `retain(n)` so that only the last `n` stay in memory; the numbering goes on, the
dropped ones are counted and, if a `spill` is given, handed to it (to be written to disk)
as they leave memory.

A batch run with an output folder streams instead (`stream`): each artifact is written
to the folder as it is recorded and only its file name stays in memory; iterating reads
the files back, so the end-of-run invariants and a paste from another router's artifacts
see what they would have seen in memory. An artifact may be deferred (a CRL not yet
signed, `sim.pki.deferred`): it stays so in memory, and iteration gives its bytes.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from sim.pki.deferred import FileBytes, resolve

Spill = Callable[[str, bytes], None]
"""Receives each artifact, (file name, bytes), as retention drops it from memory. It runs
inside the simulation: it must not raise (`FolderSpill` counts its failures instead)."""


class ArtifactStore(Protocol):
    """Where a streaming log keeps its files (`sim.scenario.streaming`)."""

    def write(self, filename: str, data: bytes) -> bool:
        """Store the file; False if it cannot be stored there (the log keeps it)."""

    def read(self, filename: str) -> bytes:
        """A file `write` stored."""


class ArtifactLog:
    """Iterates as (file name, bytes) pairs, oldest retained first."""

    __slots__ = ("_kept", "_spill", "recorded", "_store", "_streamed")

    def __init__(self) -> None:
        self._kept: list[tuple[str, FileBytes]] | deque[tuple[str, FileBytes]] = []
        """A list; a deque once `retain` bounds it (an empty deque costs 600 bytes, and
        there is a log per router)."""
        self._spill: Spill | None = None
        self.recorded = 0
        """Artifacts recorded since the router was built, retained or not."""
        self._store: ArtifactStore | None = None
        self._streamed: list[str | tuple[str, FileBytes]] = []
        """Streaming, in order: the name of each artifact the store holds, or (name, data)
        for one it refused."""

    def record(self, name: str, data: FileBytes) -> str:
        """Keep `data` as the next numbered artifact; returns its file name."""
        self.recorded += 1
        filename = f"{self.recorded:04d}-{name}"
        if self._store is not None:
            self._put(self._store, filename, data)
            return filename
        leaving: tuple[str, FileBytes] | None = None
        limit = self._kept.maxlen if isinstance(self._kept, deque) else None
        if limit == 0:
            leaving = (filename, data)
        elif len(self._kept) == limit:
            leaving = self._kept[0]
        self._kept.append((filename, data))
        # Spill once the log is consistent, in case a spill raises after all.
        if leaving is not None and self._spill is not None:
            self._spill(leaving[0], resolve(leaving[1]))
        return filename

    def stream(self, store: ArtifactStore) -> None:
        """Write every artifact to `store` from now on (those kept so far first), keeping
        only names in memory. A file the store refuses stays in memory."""
        if self._spill is not None or isinstance(self._kept, deque):
            raise ValueError("an artifact log either streams or is bounded, not both")
        self._store = store
        kept, self._kept = list(self._kept), []
        for filename, data in kept:
            self._put(store, filename, data)

    def _put(self, store: ArtifactStore, filename: str, data: FileBytes) -> None:
        if store.write(filename, resolve(data)):
            # Interned: routers that enroll alike record the same names in the same order
            # (`0001-ca.ca.pem`, ...), and a 10,000-router run keeps them all, so they
            # share one string each rather than holding some 60 bytes per name each.
            self._streamed.append(sys.intern(filename))
        else:
            self._streamed.append((filename, data))

    def retain(self, limit: int | None, spill: Spill | None = None) -> None:
        """Keep only the last `limit` artifacts in memory from now on (None: keep all)."""
        if limit is not None and limit < 0:
            raise ValueError(f"artifact retention must be 0 or more, not {limit}")
        if self._store is not None:
            raise ValueError("an artifact log either streams or is bounded, not both")
        self._spill = spill
        kept = list(self._kept)
        overflow = max(0, len(kept) - limit) if limit is not None else 0
        if spill is not None:
            for filename, data in kept[:overflow]:
                spill(filename, resolve(data))
        self._kept = deque(kept[overflow:], maxlen=limit) if limit is not None else kept

    @property
    def dropped(self) -> int:
        """Artifacts no longer in memory because of `retain` (spilled or not)."""
        return self.recorded - len(self)

    @property
    def stored(self) -> frozenset[str]:
        """Streaming: the names written to the store."""
        return frozenset(entry for entry in self._streamed if isinstance(entry, str))

    def held(self) -> Iterator[tuple[str, bytes]]:
        """The artifacts held in memory: all of them, or, streaming, those the store
        refused."""
        for filename, data in list(self._kept):
            yield filename, resolve(data)
        for entry in list(self._streamed):
            if not isinstance(entry, str):
                yield entry[0], resolve(entry[1])

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        for filename, data in list(self._kept):
            yield filename, resolve(data)
        store = self._store
        for entry in list(self._streamed):
            if isinstance(entry, str) and store is not None:
                yield entry, store.read(entry)
            elif not isinstance(entry, str):
                yield entry[0], resolve(entry[1])

    def __len__(self) -> int:
        return len(self._kept) + len(self._streamed)


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
