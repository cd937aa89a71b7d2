"""File contents whose length is known now and whose bytes are made when first read.

A certificate server republishes its CRL every `lifetime crl` (6 hours on 15.x): a year
of 100 idle CAs is 146,000 CRLs, and signing each one was most of that year's cost while
nobody ever read one. So a CRL is published as a `Deferred`: its DER length is known
without signing (a PKCS#1 v1.5 signature is as long as the modulus), which is all that
the `Publishing N bytes` debug line, `dir nvram:` and the free-space check need; the
signature is made the first time anything reads the bytes (`more`, `copy`, a SCEP
GetCRL, the HTTP CRL distribution point, the enabling checks, the output folder). RSA
PKCS#1 v1.5 signatures are deterministic, so the bytes are the ones an eager signer
would have written at publication, whenever they are made.

`len(data)` and `bytes(data)` work the same on `bytes` and on a `Deferred`, so code that
only measures or passes file contents along needs no change; code that stores them
(`sim.router.nvram`, `sim.router.artifact_log`) keeps the `Deferred` until it is read.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable


class Deferred:
    """`size` bytes that `make()` computes on first use (then kept)."""

    __slots__ = ("_size", "_make", "_value")

    def __init__(self, size: int, make: Callable[[], bytes]) -> None:
        self._size = size
        self._make: Callable[[], bytes] | None = make
        self._value: bytes | None = None

    def __len__(self) -> int:
        return self._size

    def __bytes__(self) -> bytes:
        if self._value is None:
            make = self._make
            if make is None:  # pragma: no cover - _make is dropped only once _value is set
                raise RuntimeError("deferred bytes lost their maker")
            value = make()
            if len(value) != self._size:
                # The announced length was already printed and written into listings:
                # a mismatch is a bug in the size arithmetic, never a user's doing.
                raise RuntimeError(f"deferred bytes: announced {self._size} bytes, "
                                   f"made {len(value)}")
            self._value = value
            self._make = None  # let go of what the maker held (a key, the TBS)
        return self._value

    @property
    def made(self) -> bool:
        """Whether the bytes have been computed (for tests and measurements)."""
        return self._value is not None


FileBytes = bytes | Deferred
"""What a file, an artifact or a `WriteFile` effect may hold."""


def resolve(data: FileBytes) -> bytes:
    """The bytes themselves (made now if deferred)."""
    return data if isinstance(data, bytes) else bytes(data)


@functools.lru_cache(maxsize=256)
def pem_size(der_size: int, label: str) -> int:
    """`len(pem(der, label))` for DER of `der_size` bytes (kept: a CA's CRLs are all the
    same size until a certificate is revoked)."""
    encoded = 4 * ((der_size + 2) // 3)
    lines = (encoded + 63) // 64
    return len(f"-----BEGIN {label}-----\n-----END {label}-----\n") + encoded + lines


def pem(der: bytes, label: str) -> bytes:
    """RFC 7468 PEM as OpenSSL writes it (64-character lines), e.g. `X509 CRL`."""
    body = base64.b64encode(der)
    lines = b"".join(body[i:i + 64] + b"\n" for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n".encode() + lines + f"-----END {label}-----\n".encode()


def deferred_pem(der: FileBytes, label: str) -> FileBytes:
    """The PEM of `der`, deferred while `der` is."""
    if isinstance(der, bytes):
        return pem(der, label)
    # A partial, not a lambda (as `crl_v1.deferred_crl`'s): one is kept per CRL published.
    return Deferred(pem_size(len(der), label), functools.partial(_pem_of, der, label))


def _pem_of(der: Deferred, label: str) -> bytes:
    return pem(bytes(der), label)
