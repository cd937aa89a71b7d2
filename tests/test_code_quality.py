"""The code stays ruff- and mypy-clean (DEVELOPERS.md standards), checked where CI runs the
tests so a change that breaks either fails like a broken behaviour would."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)


def test_ruff_finds_nothing() -> None:
    """A lint error slipped into sim/ or tests/ would go unnoticed until someone ran ruff by
    hand."""
    result = _run("ruff", "check", "sim", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing_in_the_package() -> None:
    """A type error in the sim package would go unnoticed until it broke a run."""
    result = _run("mypy")  # files and settings: [tool.mypy] in pyproject.toml
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_test_says_what_a_user_would_notice_if_it_failed() -> None:
    """A test without a docstring leaves whoever breaks it guessing what users would see
    go wrong (each test says so in a line or two)."""
    missing: list[str] = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        tree = ast.parse(path.read_text())
        missing += [f"{path.name}:{node.lineno} {node.name}" for node in ast.walk(tree)
                    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                    and node.name.startswith("test_") and ast.get_docstring(node) is None]
    assert missing == [], "tests without a docstring:\n" + "\n".join(missing)
