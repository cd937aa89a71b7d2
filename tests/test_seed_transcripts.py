"""The seed's subordinate-CS transcripts, checked as ordered subsequences of pkilab's.

The fixture files hold the seed's lines (timestamps and run-specific values cut off)
that pkilab reproduces; a test checks they are the seed's own words. Lines the seed
shows only because IOS printed two things at once (the fingerprint prompt landing in
the middle of an HTTP dump, `%SSH-5-ENABLED`) are left out.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.kernel.transcript import transcript_lines
from sim.scenario.loader import load_scenario
from sim.scenario.runner import RunResult, run_scenario

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SEED = ROOT.parent / "shared" / "seeds" / "subordinate-certificate-server.txt"
STAMP = re.compile(r"^\*?[A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d\.\d{3}: ")


def _norm(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def walkthrough() -> RunResult:
    return run_scenario(load_scenario(ROOT / "scenarios" / "enrollment" / "sub-ca-enrollment.yaml"))


def _expected(name: str) -> list[str]:
    return [line for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["seed-sub-cs-transactions.txt", "seed-root-cs-server.txt"])
def test_fixture_lines_are_the_seeds_words(name: str) -> None:
    """The reference lines the transcripts are checked against could drift from Cisco's own
    sub-CA guide without anyone noticing."""
    if not SEED.exists():
        pytest.skip("Cisco's Subordinate Certificate Server feature guide (IOS 12.3(14)T) "
                    "is not beside this checkout")
    seed = _norm(SEED.read_text())
    for line in _expected(name):
        # The PDF wraps long lines; compare with whitespace folded.
        assert _norm(line) in seed or _norm(line).replace(" ", "") in seed.replace(" ", ""), line


@pytest.mark.parametrize(("router", "name"), [("sub", "seed-sub-cs-transactions.txt"),
                                              ("root1", "seed-root-cs-server.txt")])
def test_transcript_follows_the_seed_in_order(walkthrough: RunResult, router: str,
                                              name: str) -> None:
    """The sub and root1 transcripts of the sub-CA enrollment scenario would miss a line of
    Cisco's guide or print them in a different order."""
    lines = [_norm(STAMP.sub("", line)) for line in
             transcript_lines(walkthrough.world.env.trace, router)]
    position = 0
    for expected in _expected(name):
        wanted = _norm(expected)
        while position < len(lines) and wanted not in lines[position]:
            position += 1
        assert position < len(lines), f"{router}: seed line missing or out of order: {wanted!r}"
        position += 1
