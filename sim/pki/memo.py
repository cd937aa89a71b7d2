"""One answer per distinct immutable input, for pure functions on the hot path.

A run of thousands of routers parses the same few names and certificates over and over
(every router of a CA sees the CA's name and certificate). `per_value` keeps a bounded
number of answers keyed by the input itself. Only exact instances of the immutable type
(`bytes`, `str`) are kept: a subclass or a mutable look-alike (bytearray, memoryview) is
computed afresh every time. A call that raises is not kept (functools.lru_cache keeps
only returns), so bad input gives the same error each time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

_In = TypeVar("_In")
_Out = TypeVar("_Out")


def per_value(kind: type, maxsize: int) -> Callable[[Callable[[_In], _Out]], Callable[[_In], _Out]]:
    """Decorate a pure one-argument function to answer once per distinct `kind` value."""

    def decorate(function: Callable[[_In], _Out]) -> Callable[[_In], _Out]:
        kept = functools.lru_cache(maxsize=maxsize)(function)

        @functools.wraps(function)
        def answer(value: _In) -> _Out:
            if type(value) is not kind:
                return function(value)
            return kept(value)

        answer.cache_clear = kept.cache_clear  # type: ignore[attr-defined]
        return answer

    return decorate


def per_object(limit: int) -> Callable[[Callable[[_In], _Out]], Callable[[_In], _Out]]:
    """Decorate a pure one-argument function of an immutable object to answer once per
    object, keyed by its identity: for objects whose own hash is dear (a ``cryptography``
    certificate hashes and compares by its DER: some 8 and 10 microseconds, more than the
    answer costs to look up). The ``limit`` most recently used answers are kept, each with
    its object (kept alive, so its identity cannot be reused while the entry exists); an
    equal but distinct object is answered afresh. A call that raises is not kept."""

    def decorate(function: Callable[[_In], _Out]) -> Callable[[_In], _Out]:
        table: dict[int, tuple[_In, _Out]] = {}

        @functools.wraps(function)
        def answer(value: _In) -> _Out:
            key = id(value)
            entry = table.pop(key, None)
            if entry is None or entry[0] is not value:
                entry = (value, function(value))
                if len(table) >= limit:
                    table.pop(next(iter(table)))
            table[key] = entry  # most recently used: to the end, dropped last
            return entry[1]

        answer.cache_clear = table.clear  # type: ignore[attr-defined]
        return answer

    return decorate
