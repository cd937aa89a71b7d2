"""Shared test setup: an RSA key cache that outlives the session, so key generation is paid
once per machine rather than once per run, and the `update_golden` fixture for golden-file
tests.

`--update-golden` itself belongs to pkilab's pytest plugin (`sim.pytest_plugin`, loaded
through its entry point once the package is installed: `pip install -e '.[test]'`), because
scenario golden files under `scenarios/` honour it too, in sessions that never load this
conftest.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TEST_KEY_CACHE = Path.home() / ".cache" / "pkilab" / "test-keys"
"""Seeded keys are a pure function of (generator version, seed, label, bits), and their
cache files are named by a hash of all four, so one cache serves every test session (and
parallel workers: a key file is written whole or not at all). Tests of the cache itself use
their own folders. `PKILAB_TEST_KEY_CACHE` moves it."""


@pytest.fixture(scope="session", autouse=True)
def _key_cache() -> Path:
    cache = Path(os.environ.get("PKILAB_TEST_KEY_CACHE") or TEST_KEY_CACHE)
    os.environ["PKILAB_KEY_CACHE"] = str(cache)
    return cache


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when golden files should be rewritten rather than compared."""
    return bool(request.config.getoption("--update-golden"))
