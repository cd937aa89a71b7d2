"""Replaying one run: the one-line command for a failing seed, and picking matrix runs.

A soak or a matrix that fails in CI is only useful if a person can get the very same run
on their desk. A run is fully named by its file, its seed (a soak's faults are drawn from
it) and, for a matrix, its variant id, so the command is::

    pkilab run scenarios/hierarchy/soak-hierarchy.yaml --seed 1234
    pkilab run scenarios/reachability/matrix-enrollment-faults.yaml --seed 42 \
        --variant 'fault=dns,grant=auto'

`select_variants` is what `--variant` does with the runs of a matrix file. It takes the
whole id or a part of it (`fault=dns` picks both grant modes), in any order, with spaces
around the `,` and `=` ignored; it raises `VariantError` (a usage error, not a file error)
naming the runs there are.
"""

from __future__ import annotations

import re
import shlex

from sim.scenario.model import Scenario
from sim.scenario.schema_errors import did_you_mean


class VariantError(ValueError):
    """A `--variant` that names no run of the file; the message lists what there is."""


def replay_command(scenario: Scenario, seed: int) -> str:
    """`pkilab run FILE --seed N [--variant ID]`, quoted for a POSIX shell.

    FILE is the path the scenario was loaded with (relative paths stay relative: the
    command is meant to be run from where the failing run was started); a scenario loaded
    from text gets `<name>.yaml`.
    """
    file = str(scenario.source) if scenario.source is not None else f"{scenario.name}.yaml"
    command = shlex.join(["pkilab", "run", file, "--seed", str(seed)])
    if scenario.variant:
        variant = scenario.variant
        command += " --variant " + (f"'{variant}'" if "'" not in variant
                                    else shlex.quote(variant))
    return command


def parse_variant(text: str) -> dict[str, str]:
    """`fault=dns, grant=auto` -> {"fault": "dns", "grant": "auto"}; VariantError if garbled."""
    pairs: dict[str, str] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise VariantError(f"--variant {text!r}: expected axis=value pairs separated by "
                               "',', e.g. fault=link-down,grant=auto")
        if name in pairs:
            raise VariantError(f"--variant {text!r}: axis {name} is given twice")
        pairs[name] = value
    return pairs


def select_variants(runs: list[Scenario], text: str) -> list[Scenario]:
    """The runs whose axes have every value `text` asks for (one run for a whole id)."""
    wanted = parse_variant(text)
    if not runs or not runs[0].variant:
        name = runs[0].name if runs else "the scenario"
        raise VariantError(f"--variant {text!r}: {name} has no matrix; drop --variant")
    axes: dict[str, list[str]] = {axis: [] for axis, _ in runs[0].axes}
    for run in runs:
        for axis, value in run.axes:
            if value not in axes[axis]:
                axes[axis].append(value)
    for axis, value in wanted.items():
        if axis not in axes:
            raise VariantError(f"--variant {text!r}: unknown axis {axis!r}"
                               f"{did_you_mean(axis, axes)} (axes: {', '.join(axes)})")
        if value not in axes[axis]:
            raise VariantError(f"--variant {text!r}: {value!r} is not a value of axis {axis}"
                               f"{did_you_mean(value, axes[axis])} "
                               f"(values: {', '.join(axes[axis])})")
    return [run for run in runs if all(dict(run.axes)[a] == v for a, v in wanted.items())]


def run_folder(scenario: Scenario) -> str:
    """Where a run's output goes under the reports folder: `name`, or `name/<variant>` for a
    matrix run, with characters a file system may not take replaced by `_`."""
    if not scenario.variant:
        return scenario.name
    return f"{scenario.name}/{variant_folder(scenario.variant)}"


def variant_folder(variant: str) -> str:
    """A matrix run's id as a folder name (output folders, golden files): characters a
    file system may not take become `_`."""
    return re.sub(r"[^A-Za-z0-9._=,+-]", "_", variant)
