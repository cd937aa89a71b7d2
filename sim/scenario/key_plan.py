"""The RSA keys a scenario's routers will generate, read from its text before it runs, so
that a run whose key cache lacks them can make them ahead, over every core
(`KeySource.pregenerate`), instead of one after another as the routers ask.

A guess, on purpose simple: a key generated in the run that the plan missed is made when
asked, as before, and a planned key never asked for costs only host time. Nothing a run
prints depends on it (a key is the same bytes whoever makes it). Two kinds of line name a
key's label and size outright, in a router's startup config or in a `cli` event (in that
order, events by time):

- `crypto key generate rsa ... label LABEL ... modulus BITS` (`usage-keys`: two keys);
- `rsakeypair LABEL BITS` (a trustpoint's key pair, made on first use if the router holds
  no key of that label by then).

Keywords may be abbreviated as IOS allows (`cry key gen rsa gen label ca1 mod 2048`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sim.scenario.model import CliEvent, Scenario


def _is(token: str, keyword: str, shortest: int = 2) -> bool:
    """`token` is `keyword` as typed, possibly abbreviated (IOS takes any unambiguous
    prefix; `shortest` keeps `c` from reading as `crypto`)."""
    return len(token) >= min(shortest, len(keyword)) and keyword.startswith(token)


def _number(text: str) -> bool:
    """A modulus as IOS reads one: ASCII digits only (`str.isdigit` also takes `²`), and
    few enough that no key of that size is imaginable (16384 is IOS's largest)."""
    return text.isascii() and text.isdigit() and len(text) <= 5


def _value_after(tokens: list[str], keyword: str) -> str | None:
    for index, token in enumerate(tokens[:-1]):
        if _is(token, keyword, 3):
            return tokens[index + 1]
    return None


def _keys_of_line(line: str) -> tuple[str, str, int, int] | None:
    """(kind, label, bits, count) a line generates, or None. kind is "generate" or
    "rsakeypair"."""
    tokens = line.split()
    lowered = [token.lower() for token in tokens]
    if len(tokens) >= 3 and _is(lowered[0], "rsakeypair", 3):
        size = tokens[2]
        return ("rsakeypair", tokens[1], int(size), 1) if _number(size) else None
    if len(tokens) < 8 or not (_is(lowered[0], "crypto", 3) and _is(lowered[1], "key")
                               and _is(lowered[2], "generate", 3) and _is(lowered[3], "rsa")):
        return None
    rest = tokens[4:]
    lowered_rest = lowered[4:]
    label = next((rest[i + 1] for i, token in enumerate(lowered_rest[:-1])
                  if _is(token, "label", 3)), None)
    modulus = _value_after(lowered_rest, "modulus")
    if label is None or modulus is None or not _number(modulus):
        return None
    count = 2 if any(_is(token, "usage-keys", 3) for token in lowered_rest) else 1
    return "generate", label, int(modulus), count


def planned_keys(scenario: Scenario) -> list[tuple[str, int]]:
    """The `KeySource` labels and sizes the routers of `scenario` are expected to ask for
    (`Router.generate_key`'s `router/label#generation`), in no particular order."""
    lines: dict[str, list[str]] = {spec.name: list(spec.config) for spec in scenario.routers}
    events: Iterable[CliEvent] = sorted(
        (event for event in scenario.events if isinstance(event, CliEvent)),
        key=lambda event: event.at)
    for event in events:
        if event.router in lines:
            lines[event.router].extend(event.lines)
    planned: list[tuple[str, int]] = []
    for router, typed in lines.items():
        generations: dict[str, int] = {}
        for line in typed:
            found = _keys_of_line(line)
            if found is None:
                continue
            kind, label, bits, count = found
            if kind == "rsakeypair" and label in generations:
                continue  # the pair exists by then: first use makes none
            for _ in range(count):
                generation = generations.get(label, 0)
                generations[label] = generation + 1
                planned.append((f"{router}/{label}#{generation}", bits))
    return planned
