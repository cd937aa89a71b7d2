"""Pass 2 of scenario loading, in words: jsonschema errors as plain-English sentences.

jsonschema describes a failure for the person who wrote the schema ("Additional
properties are not allowed ('adress' was unexpected)", "{...} is not valid under any of
the given schemas"), and it reports every failure, most of them echoes of one typo. A
scenario author's only debugger is the error message, so `explain` picks the one error
worth reading (about the earliest object in the file, typos -- unknown keys -- first) and
rephrases it: an unknown key with a "did you mean", a missing key by name, a wrong type as
"expected a list, got the text 'R1'".

Subschemas in `schema.json` may carry an `x-message` with pkilab's own wording; it may use
`{value}` (the offending value) and, for "exactly one of these keys" choices, `{choices}`
and `{found}`. Bad durations are worded by the duration parser itself, which can tell a
negative duration from a garbled one.

`describe` and `did_you_mean` are shared with the loader's third pass, so that a value or a
near-miss name reads the same whichever pass found it.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jsonschema

from sim.scenario.durations import parse_duration
from sim.scenario.yaml_lines import JsonPath

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}

_PRIORITY = {"additionalProperties": 0, "propertyNames": 1, "exactly one": 2, "required": 3}
"""Which schema error to report first for one object: a typo explains the rest."""


def explain(
    found: Iterable[jsonschema.ValidationError], line: Callable[[Iterable[str | int]], int]
) -> tuple[JsonPath, str, JsonPath | None]:
    """The one error of `found` (not empty) worth reporting, in words.

    Returns the path the error is about, a sentence about it, and the path whose line to
    report if that is not the first path's (an unknown key is reported at its own line).
    `line` gives the line that declared a path.
    """
    best = min(
        found,
        key=lambda e: (
            line(e.absolute_path),
            _PRIORITY.get(_kind_of_error(e), 9),
            -len(e.absolute_path),
        ),
    )
    path = tuple(best.absolute_path)
    message, line_path = _rephrase(best, path)
    return path, message, line_path


def _kind_of_error(error: jsonschema.ValidationError) -> str:
    if error.validator == "pattern" and "propertyNames" in error.schema_path:
        return "propertyNames"
    if error.validator == "oneOf" and _one_key_choices(error.validator_value):
        return "exactly one"
    return str(error.validator)


def _one_key_choices(branches: Any) -> list[str]:
    """The keys of a `oneOf: [{required: [k1]}, {required: [k2]}, ...]`, else []."""
    if not all(
        isinstance(b, dict) and list(b) == ["required"] and len(b["required"]) == 1
        for b in branches
    ):
        return []
    return [b["required"][0] for b in branches]


def _rephrase(error: jsonschema.ValidationError, path: JsonPath) -> tuple[str, JsonPath | None]:
    """A sentence for one schema error, and the path whose line to report if not `path`."""
    instance: Any = error.instance
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    kind = _kind_of_error(error)
    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        patterns = list(schema.get("patternProperties", {}))
        extra = next(
            key
            for key in instance
            if key not in allowed and not any(re.search(p, key) for p in patterns)
        )
        hint = did_you_mean(extra, allowed)
        return (
            f"unknown key '{extra}'{hint} (expected one of: {', '.join(allowed)})",
            path + (extra,),
        )
    if kind == "propertyNames":
        return _template(schema, instance, {}) or f"{instance!r} is not allowed", path + (instance,)
    if kind == "required":
        required: Any = error.validator_value
        missing = [f"'{key}'" for key in required if key not in instance]
        plural = "s" if len(missing) > 1 else ""
        return f"missing required key{plural} {', '.join(missing)}", None
    custom = _template(schema, instance, _choice_fields(error, kind))
    if custom:
        return _duration_message(schema, instance) or custom, None
    return _generic(error), None


def _choice_fields(error: jsonschema.ValidationError, kind: str) -> dict[str, str]:
    if kind != "exactly one":
        return {}
    choices = _one_key_choices(error.validator_value)
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    present = [key for key in choices if key in instance]
    return {"choices": ", ".join(choices), "found": ", ".join(present) or "none"}


def _template(schema: Mapping[str, Any], instance: Any, fields: dict[str, str]) -> str:
    text = schema.get("x-message", "")
    for name, value in {"value": repr(instance), **fields}.items():
        text = text.replace("{" + name + "}", value)
    return text


def _duration_message(schema: Mapping[str, Any], instance: Any) -> str:
    """For a bad duration, the parser's own wording (it knows 'negative' from 'garbled')."""
    if schema.get("title") not in ("duration", "signed duration"):
        return ""
    try:
        parse_duration(instance, allow_negative=schema["title"] == "signed duration")
    except ValueError as exc:
        return str(exc)
    return ""


def _generic(error: jsonschema.ValidationError) -> str:
    value: Any = error.validator_value
    instance: Any = error.instance
    match error.validator:
        case "type":
            wanted = " or ".join(_TYPE_WORDS.get(t, t) for t in _as_list(value))
            return f"expected {wanted}, got {describe(instance)}"
        case "enum":
            choices = ", ".join(str(v) for v in value)
            return f"{instance!r} is not allowed (expected one of: {choices})"
        case "const":
            return f"must be {json.dumps(value)}"
        case "minimum" | "exclusiveMinimum":
            strict = "more than" if error.validator == "exclusiveMinimum" else "at least"
            return f"{instance!r} is too small (must be {strict} {value})"
        case "maximum" | "exclusiveMaximum":
            strict = "less than" if error.validator == "exclusiveMaximum" else "at most"
            return f"{instance!r} is too large (must be {strict} {value})"
        case "minLength":
            return "must not be empty"
        case "minItems" | "minProperties":
            return f"must have at least {value} entr{'y' if value == 1 else 'ies'}"
        case "maxItems":
            return f"has {len(instance)} entries, at most {value} allowed"
        case "pattern":
            return f"{instance!r} is not in the expected form"
        case "not":
            keys = value.get("required", []) if isinstance(value, dict) else []
            return f"'{keys[0]}' is not allowed here" if keys else "is not allowed here"
    return f"is not valid here ({error.validator} check failed)"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def describe(value: Any) -> str:
    """`value` as a message names it: "the text 'R1'", "a list", "the number 3", ..."""
    if value is None:
        return "nothing (the value is empty)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value; quote it to mean text)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """The hint "; did you mean 'X'?" for a misspelt `word`, or "" if no choice is close."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""
