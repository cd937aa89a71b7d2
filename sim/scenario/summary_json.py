"""`summary.json`'s text: `json.dumps(summary, indent=2, sort_keys=True)`, byte for byte,
written faster.

With an indent, `json` writes through its pure-Python encoder, a generator per container
and a `yield` per piece: a 10,000-router run's summary (every router, certificate and
artifact) took half a second. This writes the same pieces into one list, with the same C
string escaper, the same float and int texts and the same key conversions, in the same
order; a value `json` cannot write raises the same TypeError (through `json.dumps`).
`tests/test_output_fast_paths_s22.py` compares the two.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from json import encoder as json_encoder
from json.encoder import encode_basestring_ascii
from typing import Any

_INDENT = "  "
_INFINITY = float("inf")
_SCALARS = frozenset({str, int, float, bool, type(None)})
_C_ENCODER: Callable[..., Callable[[Any, int], list[str]]] | None = getattr(
    json_encoder, "c_make_encoder", None)
_FLAT: dict[str, Callable[[Any, int], list[str]]] = {}
"""Per indent, `json`'s C encoder with the item separator `,` + newline + indent: a list
or mapping of plain values (a router's artifacts, a certificate's facts) in one call.
Arguments as `sim.kernel.trace` builds it: no circular check, the ASCII escaper, `": "`,
`sort_keys`, not `skipkeys`, `allow_nan`."""


def _flat(inner: str) -> Callable[[Any, int], list[str]] | None:
    encoder = _FLAT.get(inner)
    if encoder is None and _C_ENCODER is not None and len(_FLAT) < 64:
        encoder = _FLAT[inner] = _C_ENCODER(None, None, encode_basestring_ascii, None,
                                            ": ", "," + inner, True, False, True)
    return encoder


def dumps_indented(value: Any) -> str:
    """`json.dumps(value, indent=2, sort_keys=True)`."""
    parts: list[str] = []
    _encode(value, parts, "\n")
    return "".join(parts)


def _float(value: float) -> str:
    """How `json` writes a float (allow_nan: NaN and the infinities as JavaScript names)."""
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _key(key: object) -> str:
    """A mapping key as `json` converts it before escaping it."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _encode(value: Any, parts: list[str], newline: str) -> None:
    """Append `value`'s text to `parts`; `newline` is a newline and the current indent.
    The checks run in `json`'s order (a bool is an int, a str subclass a str)."""
    if isinstance(value, str):
        parts.append(encode_basestring_ascii(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, float):
        parts.append(_float(value))
    elif isinstance(value, (list, tuple, dict)):
        _container(value, parts, newline)
    else:
        json.dumps(value)  # raises json's TypeError for a value it cannot write
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _container(value: list[Any] | tuple[Any, ...] | dict[Any, Any], parts: list[str],
               newline: str) -> None:
    """A list (or tuple) or mapping, one item a line; a mapping's items sorted by key and
    each written after its key, as `json` does."""
    brackets = "{}" if isinstance(value, dict) else "[]"
    if not value:
        parts.append(brackets)
        return
    inner = newline + _INDENT
    if _plain(value, inner, parts, newline):
        return
    items: Iterable[tuple[str, Any]] = (
        ((encode_basestring_ascii(_key(key)) + ": ", item) for key, item in sorted(value.items()))
        if isinstance(value, dict) else (("", item) for item in value))
    separator = brackets[0] + inner
    for label, item in items:
        parts.append(separator + label)
        separator = "," + inner
        _encode(item, parts, inner)
    parts.append(newline + brackets[1])


def _plain(value: list[Any] | tuple[Any, ...] | dict[Any, Any], inner: str,
           parts: list[str], newline: str) -> bool:
    """Write a non-empty list or mapping of plain values (strings, numbers, booleans, null:
    exactly those types) in one call to the C encoder, whose item separator holds the
    newline and indent; its text then only lacks the newline after the opening bracket and
    before the closing one. False (nothing written) if a value is anything else."""
    values = value.values() if isinstance(value, dict) else value
    if type(value) not in (list, tuple, dict) or not all(type(item) in _SCALARS
                                                         for item in values):
        return False
    encoder = _flat(inner)
    if encoder is None:
        return False
    text = "".join(encoder(value, 0))
    parts.append(f"{text[0]}{inner}{text[1:-1]}{newline}{text[-1]}")
    return True
