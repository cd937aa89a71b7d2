"""Shared test setup: a per-session RSA key cache so key generation is paid once, and the
`update_golden` fixture for golden-file tests.

`--update-golden` itself belongs to pkilab's pytest plugin (`sim.pytest_plugin`, loaded
through its entry point once the package is installed: `pip install -e '.[test]'`), because
scenario golden files under `scenarios/` honour it too, in sessions that never load this
conftest.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _key_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("keys")
    os.environ["PKILAB_KEY_CACHE"] = str(cache)
    return cache


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when golden files should be rewritten rather than compared."""
    return bool(request.config.getoption("--update-golden"))
