"""Scenario-file fuzzing in CI: hostile and mutated files meet `pkilab validate` and `run`.

The contract (issue 8): every file gets exit 0, 1 or 2 and never a traceback; an exit 2
names `file:line`; `validate` accepts exactly what `run` accepts; whatever validates runs to
the end. One case per kind of damage the issue lists is checked every time, then a seeded
sample of mutants of the shipped scenarios (`sim.scenario.mutants`), all in-process through
click's CliRunner (`sim.cli.invoke_in_process`) for speed, and a few as real subprocesses.
`pkilab fuzz-scenarios` runs the same harness over ten thousand mutants.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sim.cli import invoke_in_process
from sim.scenario.fuzz import FuzzReport, Invocation, fuzz, shipped_sources
from sim.scenario.loader import ScenarioError, load_scenarios
from sim.scenario.mutants import SPECIAL_DIRECTORY, SPECIAL_MISSING, Mutant, mutants

ROOT = Path(__file__).resolve().parent.parent
SOURCES = shipped_sources(ROOT / "scenarios")
ROOT_CA = (ROOT / "scenarios" / "bring-up" / "root-ca.yaml").read_text()
CHAINED = (ROOT / "scenarios" / "hierarchy" / "chained-subordinates.yaml").read_text()
DAY = 86400.0


def _cheap_to_run(path: Path) -> bool:
    """CI simulates only small, short mutants; `pkilab fuzz-scenarios` runs them all."""
    if path.stat().st_size > 20_000:
        return False
    try:
        runs = load_scenarios(path)
    except ScenarioError:
        return True
    return len(runs) <= 2 and max(run.duration for run in runs) <= DAY


def _case(name: str, text: str | bytes = b"", special: str = "") -> Mutant:
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return Mutant(0, name, "bring-up/root-ca.yaml", (name,), data, special)


def _alias_bomb() -> str:
    rows = ["x-0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    rows += [f"x-{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]" for n in range(1, 9)]
    return ROOT_CA + "\n".join(rows) + "\n"


def _merge_bomb() -> str:
    bomb = "{k0: 1, k1: 2}"
    for level in range(12):
        bomb = "{<<: [" + ", ".join([f"&m{level} " + bomb] + [f"*m{level}"] * 9) + "]}"
    return ROOT_CA + f"x-bomb: {bomb}\n"


CASES = [
    _case("empty", ""),
    _case("directory", special=SPECIAL_DIRECTORY),
    _case("missing", special=SPECIAL_MISSING),
    _case("nul", "name: x\x00\n"),
    _case("escape-character", ROOT_CA.replace("hostname r2", "hostname r2\x1b[2J")),
    _case("escaped-nul", ROOT_CA.replace("nvram_file: root1.ser", 'nvram_file: "root1\\0.ser"')),
    _case("invalid-utf8", ROOT_CA.encode().replace(b"root1", b"root\xff", 1)),
    _case("truncated", ROOT_CA.encode()[:333]),
    _case("at-1e308", ROOT_CA.replace("at: 2m", "at: 1.0e+308")),
    _case("at-1e400", ROOT_CA.replace("at: 2m", "at: 1" + "0" * 400)),
    _case("duration-forever", ROOT_CA.replace("duration: 5m", "duration: 99999999999w")),
    _case("negative-at", ROOT_CA.replace("at: 2m", "at: -2m")),
    _case("negative-latency", ROOT_CA.replace("latency: 2ms", "latency: -2ms")),
    _case("nan-loss", ROOT_CA.replace("latency: 2ms", "latency: 2ms\n    loss: .nan")),
    _case("huge-seed", ROOT_CA.replace("seed: 1", "seed: " + "9" * 500)),
    _case("year-1", ROOT_CA.replace("2005-01-06T21:00:00Z", "0001-01-01T00:00:00+14:00")),
    _case("year-9999", ROOT_CA.replace("2005-01-06T21:00:00Z", "9999-12-31T23:59:59Z")),
    _case("wrong-type", ROOT_CA.replace("address: 10.3.0.10", "address: [10, 3, 0, 10]")),
    _case("deleted-key", ROOT_CA.replace("    address: 10.3.0.6\n", "")),
    _case("unicode", ROOT_CA.replace("hostname r3", "hostname r3 \u202e\U0001f525 caf\u00e9")),
    _case("deep-nesting", ROOT_CA + "x-deep: " + "[" * 5000 + "]" * 5000 + "\n"),
    _case("alias-bomb", _alias_bomb()),
    _case("merge-bomb", _merge_bomb()),
    _case("tab-indent", ROOT_CA.replace("  root1:", "\troot1:")),
    _case("two-documents", ROOT_CA + "---\nname: other\n"),
    _case("blank-key", ROOT_CA + '" ": "\\x01"\n'),
    _case("soak-of-nothing", ROOT_CA + "soak: {link_flaps: {mtbf: 5.0e-324, mttr: 5.0e-324},"
                                       " quiet_after: 1m}\n"),
    # The ends of the calendar: a three-level hierarchy enrolls there like anywhere else.
    _case("earliest-day", CHAINED.replace("2005-01-06T21:00:00Z", "1950-01-02T00:00:00Z")),
    _case("latest-day", CHAINED.replace("2005-01-06T21:00:00Z", "9899-12-31T00:00:00Z")),
    _case("day-before", CHAINED.replace("2005-01-06T21:00:00Z", "1950-01-01T23:59:59Z")),
]


def _assert_clean(report: FuzzReport) -> None:
    assert report.ok, "\n".join(report.lines())
    assert report.tracebacks == 0 and report.timeouts == 0


STILL_A_LAB = {"huge-seed", "unicode", "merge-bomb", "earliest-day", "latest-day"}
"""Cases that remain valid scenarios whose expectations all hold: odd, but harmless (the
merge bomb merges two keys)."""


def test_each_kind_of_damage_gets_exit_2_with_a_line(tmp_path: Path) -> None:
    """A hostile or broken scenario file (NUL bytes, alias bombs, absurd times) would crash or hang
    pkilab instead of exit 2 at file:line."""
    report = fuzz(CASES, invoke_in_process, tmp_path, timeout=60)
    _assert_clean(report)
    assert report.exits == {
        case.name: (0, 0) if case.name in STILL_A_LAB else (2, 2) for case in CASES}


def test_seeded_mutants_of_the_shipped_scenarios(tmp_path: Path) -> None:
    """A mutated shipped scenario would make `pkilab validate` or `run` crash, hang, or disagree
    about whether the file is valid."""
    began = time.perf_counter()
    report = fuzz(mutants(SOURCES, seed=8, count=60), invoke_in_process, tmp_path,
                  run_filter=_cheap_to_run, timeout=120)
    _assert_clean(report)
    # The sample reaches every outcome: refused files, and runs that end with all their
    # expectations holding and with some failing.
    assert report.validate[2] > 0 and report.validate[0] > 0, "\n".join(report.lines())
    assert report.run[0] > 0 and report.run[1] > 0, "\n".join(report.lines())
    assert time.perf_counter() - began < 600  # a hang would be caught by `timeout` first


def _pkilab(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def test_hostile_files_as_real_subprocesses(tmp_path: Path) -> None:
    """Running the real `pkilab` command on a hostile scenario file would print a traceback, or an
    error without file:line."""
    nul = tmp_path / "nul.yaml"
    nul.write_bytes(b"name: x\x00\n")
    huge = tmp_path / "huge.yaml"
    huge.write_text(ROOT_CA.replace("at: 2m", "at: 1.0e+308"))
    forever = tmp_path / "forever.yaml"
    forever.write_text(ROOT_CA.replace("duration: 5m", "duration: 99999999999w"))
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    missing = tmp_path / "missing.yaml"
    at_line = ROOT_CA.splitlines().index("  - at: 2m") + 1
    duration_line = ROOT_CA.splitlines().index("duration: 5m") + 1
    done = _pkilab("validate", str(nul), str(huge), str(forever), str(folder), str(missing))
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stderr.splitlines() == [
        f"error: {nul}:1: column 8: the control character U+0000 (NUL) cannot appear in a "
        "scenario file (YAML allows tabs, line breaks and printable characters only)",
        f"error: {huge}:{at_line}: events[1].at: 1e+308 is too long: the longest duration pkilab "
        "simulates is 3650d (10 years)",
        f"error: {forever}:{duration_line}: duration: '99999999999w' is too long: the longest "
        "duration pkilab simulates is 3650d (10 years)",
        f"error: {folder}:1: is a directory, not a scenario file",
        f"error: {missing}:1: no such file",
    ]
    ran = _pkilab("run", str(nul), "--out", str(tmp_path / "out"))
    assert ran.returncode == 2 and f"{nul}:1: column 8: " in ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr


def test_the_harness_reports_what_breaks_the_contract(tmp_path: Path) -> None:
    """The fuzzer must see a traceback, a wrong exit code, an unlocated error and a hang."""

    def broken(args: list[str]) -> Invocation:
        name = Path(args[1]).name
        if name.startswith("traceback"):
            return Invocation(1, "", "Traceback (most recent call last):\n  ValueError")
        if name.startswith("exit-1"):
            return Invocation(1 if args[0] == "validate" else 2, "error: x.yaml:1: bad")
        if name.startswith("unlocated"):
            return Invocation(2, "error: something is wrong")
        if args[0] == "run":
            time.sleep(5)
        return Invocation(0, "")

    cases = [_case(name, "x") for name in ("traceback", "exit-1", "unlocated", "hang")]
    report = fuzz(cases, broken, tmp_path, timeout=0.5, keep=tmp_path / "kept")
    found = {(p.mutant, p.command, p.what) for p in report.problems}
    assert found == {
        ("traceback", "validate", "traceback"), ("traceback", "run", "traceback"),
        ("exit-1", "validate", "exit 1"), ("unlocated", "validate", "exit 2 without file:line"),
        ("unlocated", "run", "exit 2 without file:line"),
        ("hang", "run", "still running after 0.5 s"),
    }
    assert (report.tracebacks, report.timeouts) == (2, 1)
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == [
        "exit-1.yaml", "hang.yaml", "traceback.yaml", "unlocated.yaml"]


def test_a_mutant_is_regenerated_from_its_seed_and_index() -> None:
    """A fuzz failure reported by seed and index could not be reproduced, because the same mutant
    would not come back."""
    batch = list(mutants(SOURCES, seed=8, count=5, start=4321))
    (again,) = mutants(SOURCES, seed=8, count=1, start=4323)
    assert again == batch[2] and again.index == 4323
    assert len({mutant.data for mutant in batch}) == 5


_MUTANT_DIGEST = """
import hashlib, pathlib, sys
from sim.scenario.fuzz import shipped_sources
from sim.scenario.mutants import mutants
digest = hashlib.sha256()
for mutant in mutants(shipped_sources(pathlib.Path(sys.argv[1])), 11, 400):
    digest.update(repr((mutant.name, mutant.kinds, mutant.data)).encode())
print(digest.hexdigest())
"""


def test_mutants_replay_across_processes() -> None:
    """`pkilab fuzz-scenarios --seed N` would draw different mutants in each process (a set
    of router names iterating in hash-seed order), so a failing mutant could not be
    replayed."""
    digests = {
        subprocess.run([sys.executable, "-c", _MUTANT_DIGEST, str(ROOT / "scenarios")],
                       capture_output=True, text=True, check=True, cwd=ROOT,
                       env={"PYTHONHASHSEED": str(hash_seed), "PATH": "/usr/bin:/bin"}
                       ).stdout
        for hash_seed in (1, 2, 3)
    }
    assert len(digests) == 1
