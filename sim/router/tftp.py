"""TFTP (RFC 1350) between simulated routers: the client IOS uses for `tftp://` URLs,
and the server a router runs for the folders of its flash that `tftp-server` names.

Theory of operation. TFTP is lock-step over UDP: the client sends RRQ (read) or WRQ
(write) to port 69; then DATA blocks of 512 bytes each wait for their ACK, and a block
shorter than 512 bytes ends the transfer (RFC 1350 section 6). Every packet crosses the
simulated links once (`sim.net.datagram`), with their latency and loss. A step whose
packet or answer is lost is sent again after `TIMEOUT` seconds, `TRIES` times in all;
then the client gives up: `(Timed out)`. The server answers a lost ACK's retransmitted
DATA again without storing twice (it keeps the blocks until the short one).

The server: `tftp-server flash:FOLDER/` (or `flash:`) serves that folder for reading
and writing; `tftp-server flash:FILE` serves one file, read-only, as IOS's own TFTP
server does (chosen: IOS's server never accepts writes; a folder entry stands for the
file-server host a real lab would put there, so that `database url tftp://...` has
somewhere to write). Nothing answers while the router is down or booting.

Errors (RFC 1350 section 5): 1 File not found, 2 Access violation, 3 Disk full.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any

from sim.kernel.process import SimProcess
from sim.net.datagram import carry
from sim.router.nvram import NvramFull

if TYPE_CHECKING:
    from sim.router.router import Router

PORT = 69
BLOCK = 512
HEADER = 4
"""Opcode and block number of DATA/ACK packets."""
TIMEOUT = 2.0
TRIES = 5
"""chosen: IOS's TFTP client waits about two seconds for each packet and tries five
times before `%Error opening ... (Timed out)`; the reference records neither figure."""


class TftpFailure(StrEnum):
    TIMED_OUT = "timed-out"
    NOT_FOUND = "not-found"
    DENIED = "denied"
    FULL = "full"


@dataclass(frozen=True)
class TftpError:
    kind: TftpFailure
    reason: str
    """The words IOS puts in brackets after the URL."""


_TIMED_OUT = TftpError(TftpFailure.TIMED_OUT, "Timed out")
_CODES = {1: TftpError(TftpFailure.NOT_FOUND, "File not found"),
          2: TftpError(TftpFailure.DENIED, "Permission denied"),
          3: TftpError(TftpFailure.FULL, "Not enough space on device")}


# -- the server ----------------------------------------------------------------------------
class TftpServer:
    """A router's TFTP service; it reads the router's `tftp-server` lines at every request,
    so a reload (which forgets unsaved lines) or `no tftp-server` takes effect at once."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def _served(self, path: str) -> tuple[bool, bool]:
        """(served at all, writable) for a path on flash."""
        served = False
        for entry in self.router.running.tftp_served:
            folder = entry.partition(":")[2].lstrip("/")
            if folder == "" or folder.endswith("/"):
                if path.startswith(folder) and path != folder:
                    return True, True
            elif path == folder:
                served = True
        return served, False

    def rrq(self, path: str) -> bytes | int:
        """The file, or an error code."""
        served, _writable = self._served(path)
        data = self.router.flash.read(path) if served else None
        return 1 if data is None else data

    def wrq(self, path: str) -> int | None:
        served, writable = self._served(path)
        if not served:
            return 2
        return None if writable else 2

    def store(self, path: str, data: bytes) -> int | None:
        try:
            self.router.flash.write(path, data)
        except NvramFull:
            return 3
        self.router.emit("tftp", "stored", file=path, size=len(data))
        return None


def serve(router: Router) -> None:
    """Answer TFTP on this router's address (idempotent; the service reads the config)."""
    router.net.udp.listen(router.name, PORT, TftpServer(router))


# -- the client ----------------------------------------------------------------------------
Answer = tuple[int, Any]
"""A reply's payload size and what it carries."""


def _step(router: Router, server: str | None, size: int, kind: str,
          answer: Callable[[TftpServer], Answer | None]) -> SimProcess[Any]:
    """Send one packet and wait for its reply, with TFTP's timeouts: the reply's value,
    or `_TIMED_OUT`."""
    env, net = router.env, router.net
    for attempt in range(TRIES):
        start = env.now
        if attempt:
            router.emit("tftp", "retransmit", packet=kind, attempt=attempt)
        arrived = yield from carry(net, router.name, server, size, kind)
        service = net.udp.listener(server, PORT) if arrived and server else None
        if server is not None and isinstance(service, TftpServer) and service.router.up:
            reply = answer(service)
            if reply is not None:
                back = yield from carry(net, server, router.name, reply[0], f"{kind}-reply")
                if back:
                    return reply[1]
        wait = start + TIMEOUT - env.now
        if wait > 0:
            yield env.timeout(wait)
    return _TIMED_OUT


def read(router: Router, address: str, path: str) -> SimProcess[bytes | TftpError]:
    """`tftp://ADDRESS/PATH` read: the file, or why not."""
    server = router.net.node_for_address(address)
    received: list[bytes] = []
    source: list[bytes] = []

    def first(service: TftpServer) -> Answer:
        got = service.rrq(path)
        if isinstance(got, int):
            return HEADER + len(_CODES[got].reason), _CODES[got]
        source[:] = [got]
        return HEADER + min(len(got), BLOCK), got[:BLOCK]

    def following(service: TftpServer, n: int) -> Answer:
        part = source[0][(n - 1) * BLOCK:n * BLOCK]
        return HEADER + len(part), part

    got = yield from _step(router, server, HEADER + len(path) + 8, "TFTP-RRQ", first)
    block = 1
    while True:
        if isinstance(got, TftpError):
            router.emit("tftp", "read", server=address, file=path, result=got.kind.value)
            return got
        received.append(got)
        if len(got) < BLOCK:
            break
        block += 1
        got = yield from _step(router, server, HEADER, "TFTP-ACK", partial(following, n=block))
    # The last ACK is sent once and not waited for (RFC 1350 section 6).
    router.env.process(carry(router.net, router.name, server, HEADER, "TFTP-ACK"))
    data = b"".join(received)
    router.emit("tftp", "read", server=address, file=path, size=len(data), result="ok")
    return data


def write(router: Router, address: str, path: str, data: bytes
          ) -> SimProcess[TftpError | None]:
    """`tftp://ADDRESS/PATH` write: None when the server has stored it all."""
    server = router.net.node_for_address(address)

    def request(service: TftpServer) -> Answer:
        code = service.wrq(path)
        return (HEADER, True) if code is None else (HEADER + 16, _CODES[code])

    got = yield from _step(router, server, HEADER + len(path) + 8, "TFTP-WRQ", request)
    blocks = [data[i:i + BLOCK] for i in range(0, len(data), BLOCK)]
    if len(data) % BLOCK == 0:
        blocks.append(b"")  # a file of whole blocks ends with an empty one
    stored: dict[int, bool] = {}
    for number, part in enumerate(blocks, start=1):
        if isinstance(got, TftpError):
            break
        last = number == len(blocks)

        def ack(service: TftpServer, n: int = number, final: bool = last) -> Answer:
            if final and n not in stored:  # a retransmitted last block is stored once
                code = service.store(path, data)
                stored[n] = code is None
                if code is not None:
                    return HEADER + 16, _CODES[code]
            return HEADER, True

        got = yield from _step(router, server, HEADER + len(part), "TFTP-DATA", ack)
    result = got.kind.value if isinstance(got, TftpError) else "ok"
    router.emit("tftp", "write", server=address, file=path, size=len(data), result=result)
    return got if isinstance(got, TftpError) else None
