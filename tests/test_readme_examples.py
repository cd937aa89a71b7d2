"""Every YAML block in the README is something pkilab accepts: a user who pastes the
README's example scenario into a file gets a valid scenario that passes, and a fragment
(a `matrix:`, a `bridge:`, a `golden:` section) uses only keys and shapes the scenario
format has. If this fails, the README shows users a file pkilab refuses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sim.scenario.loader import load_scenarios_text, load_schema
from sim.scenario.runner import run_scenario

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks() -> list[tuple[int, str]]:
    text = README.read_text()
    return [(text[: m.start()].count("\n") + 1, m.group(1)) for m in _BLOCK.finditer(text)]


def _is_complete(data: Any) -> bool:
    """A whole scenario has its routers; anything else is a fragment of one."""
    return isinstance(data, dict) and "routers" in data and "name" in data


def test_the_readme_has_a_complete_example_and_fragments() -> None:
    """The README would lose its complete example scenario or its fragments, so the check on its
    YAML blocks would cover nothing."""
    kinds = [_is_complete(yaml.safe_load(body)) for _line, body in _blocks()]
    assert True in kinds and False in kinds, kinds


@pytest.mark.parametrize("line, body", _blocks(), ids=lambda v: str(v)[:12])
def test_each_readme_yaml_block_is_valid(line: int, body: str) -> None:
    """A user pasting a YAML example from the README would get a scenario pkilab refuses or whose
    expectations fail."""
    data = yaml.safe_load(body)
    where = f"README.md:{line}"
    if _is_complete(data):
        runs = load_scenarios_text(body, where)
        for scenario in runs:
            result = run_scenario(scenario)
            failed = [r for r in result.results if not r.passed]
            assert not failed, f"{where}: the example's expectations fail: {failed}"
        return
    # A fragment: the keys it shows are top-level keys of the format, with their shapes.
    schema = load_schema()
    fragment_schema = dict(schema, required=[])
    try:
        jsonschema.validate(data, fragment_schema)
    except jsonschema.ValidationError as exc:
        pytest.fail(f"{where}: {exc.message} at {list(exc.absolute_path)}")
