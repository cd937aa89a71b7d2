"""Which run is which: a scenario run is known by its file, not by its `name:`.

A `name:` is for people, and nothing stops two files from sharing one (a lab copied into
another folder and edited). Runs that shared an output folder overwrote each other's
report, and JUnit XML named by `name:` held two identical suites. So a suite names a run
by the path of its file relative to the suite root, the way pytest names a test::

    hierarchy/chained-subordinates.yaml::chained-subordinates
    reachability/matrix-enrollment-faults.yaml::matrix-enrollment-faults[fault=dns,grant=auto]

and keeps its output under that path, without `.yaml`, plus the variant of a matrix run::

    reports/hierarchy/chained-subordinates/
    reports/reachability/matrix-enrollment-faults/fault=dns,grant=auto/

The suite root of `pkilab check` is the folder it is given (several paths: the deepest
folder that holds them all; one file: its folder). For pytest it is pytest's rootdir: the
path is the file part of the test id.

The path's components come from a user's file names, so they are encoded before they
become folder names: a character outside `A-Za-z0-9._=,+-` becomes `%XX` (its UTF-8 bytes),
and a component made only of dots (`..` from a file named `....yaml`, or pytest's `../`
for a file outside its rootdir) has its dots encoded. Distinct paths thus give distinct
folders, and none leads out of the output folder; the writer checks that again
(`sim.scenario.output.confined_folder`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from sim.scenario.model import Scenario
from sim.scenario.replay import variant_folder

SUFFIX = ".yaml"
_UNSAFE = re.compile(r"[^A-Za-z0-9._=,+-]")


def suite_root(paths: Sequence[Path]) -> Path:
    """The folder a suite's paths are relative to: the deepest folder holding every one of
    `paths` (a folder holds itself; a file is held by its folder). Absolute."""
    folders = [os.path.abspath(path if path.is_dir() else path.parent) for path in paths]
    return Path(os.path.commonpath(folders))


def suite_path(file: Path, root: Path) -> str:
    """`file` relative to `root`, with `/` between folders (`hierarchy/basic.yaml`); the
    absolute path when `file` is not under `root`."""
    absolute = Path(os.path.abspath(file))
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return absolute.as_posix()


def run_id(path: str, scenario: Scenario) -> str:
    """`path::name`, or `path::name[variant]` for a matrix run: a pytest node id."""
    return f"{path}::{scenario.full_name}"


def output_folder(path: str, scenario: Scenario) -> str:
    """The output folder of a run of the file at suite path `path`, relative to the
    output root: the path without `.yaml`, each component encoded, then the variant."""
    parts = [part for part in PurePosixPath(path).parts if part != "/"]
    if parts and parts[-1].endswith(SUFFIX) and len(parts[-1]) > len(SUFFIX):
        parts[-1] = parts[-1][: -len(SUFFIX)]
    folder = "/".join(_component(part) for part in parts)
    return f"{folder}/{variant_folder(scenario.variant)}" if scenario.variant else folder


def _component(text: str) -> str:
    """One path component as a folder name that is safe and tells names apart."""
    encoded = _UNSAFE.sub(lambda match: "".join(
        f"%{byte:02X}" for byte in match.group().encode("utf-8", "surrogateescape")), text)
    if not encoded.strip("."):  # "", "." or "..": never the folder itself or its parent
        return encoded.replace(".", "%2E") or "%"
    return encoded
