"""How a trustpoint checks whether a certificate was revoked: `revocation-check`'s methods.

"`revocation-check method1 [method2 [method3]]`: `crl` (default), `none`, `ocsp`; tried in
order; with `crl` alone an unobtainable CRL fails validation; trailing `none` makes it
best-effort" (cisco-client-docs.md 2). The members are spelt as the keywords, so a tuple of
them reads back into the running-config unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class RevocationMethod(StrEnum):
    CRL = "crl"
    NONE = "none"
    OCSP = "ocsp"


DEFAULT_METHODS = (RevocationMethod.CRL,)
"""What a trustpoint without `revocation-check` does: check the CRL."""


def methods_of(keywords: Iterable[str]) -> tuple[RevocationMethod, ...]:
    """`revocation-check crl none` typed as keywords, as methods; ValueError for others."""
    return tuple(RevocationMethod(word) for word in keywords)
