"""Shared test setup: a per-session RSA key cache so key generation is paid once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _key_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("keys")
    os.environ["PKILAB_KEY_CACHE"] = str(cache)
    return cache
