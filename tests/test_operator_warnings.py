"""Operator warnings (`sim.scenario.operator_warnings`): mistakes in what a scenario types
point at the file line that made them, and `--strict` / `strict: true` make them failures.

A user who mistypes `crypto pki sever ca` used to see the run fail minutes later for another
reason ("no certificate server"); now the run says, at the event's line, what was typed and
what IOS answered. The shipped library is held to the strict standard.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.kernel.transcript import transcript_lines
from sim.router.router import Router
from sim.scenario import model as m
from sim.scenario.loader import load_scenario, load_scenario_text, load_scenarios
from sim.scenario.operator_warnings import OperatorWarning
from sim.scenario.output import write_output
from sim.scenario.runner import run_scenario
from sim.scenario.world import World
from sim.scenario.writer import scenario_yaml

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").rglob("*.yaml"))

HEAD = """\
name: typos
description: A CA brought up by an operator who makes mistakes.
duration: 5m
routers:
  ca:
    address: 10.0.0.1
    config: |
      hostname ca
      ip http server
events:
"""
"""Ten lines: the first event starts on line 11."""

BRING_UP = """\
  - at: 1s
    router: ca
    cli: |
      enable
      configure terminal
      crypto pki server ca
      no shutdown
      end
    input: [cisco123, cisco123]
"""

TYPOS = """\
  - at: 1s
    router: ca
    cli: |
      enable
      configure terminal
      crypto pki sever ca
      crypto pki
      end
      c
      frobnicate
      show crypto pki server | include (
"""

EXPECT = """\
expect:
  - {router: ca, server_state: enabled}
"""


def _run(text: str) -> tuple[m.Scenario, list[OperatorWarning]]:
    scenario = load_scenario_text(text, "typos.yaml")
    return scenario, run_scenario(scenario).warnings


def test_each_refused_line_is_a_warning_with_the_events_line_what_was_typed_and_what_ios_said(
) -> None:
    """A user reading the run sees every line IOS refused, at the event's file line, with
    IOS's own message; if this fails, typos are silent again."""
    _scenario, warnings = _run(HEAD + TYPOS)
    assert [(w.line, w.router, w.kind, w.typed, w.message) for w in warnings] == [
        (11, "ca", "invalid", "crypto pki sever ca", "% Invalid input detected at '^' marker."),
        (11, "ca", "incomplete", "crypto pki", "% Incomplete command."),
        (11, "ca", "ambiguous", "c", '% Ambiguous command:  "c"'),
        (11, "ca", "unknown", "frobnicate",
         "% Unknown command or computer name, or unable to find computer address"),
        (11, "ca", "regex", "show crypto pki server | include (",
         '% Invalid regular expression "(": missing ), unterminated subpattern at position 0'),
    ]
    assert warnings[0].describe() == (
        "typos:11: ca: 'crypto pki sever ca': % Invalid input detected at '^' marker.")


def test_a_prompt_left_without_an_answer_and_answers_left_over_are_warnings() -> None:
    """Too few answers end in `% Passwords do not match.`; the warning says the answers ran
    out, at which prompt. Extra answers are no longer only in trace.jsonl."""
    short = HEAD + BRING_UP.replace("[cisco123, cisco123]", "[cisco123]")
    _scenario, warnings = _run(short)
    assert [(w.line, w.kind, w.typed) for w in warnings] == [
        (11, "unanswered", "Re-enter password:")]
    assert "Re-enter password:" in warnings[0].message
    extra = HEAD + BRING_UP + "  - {at: 2m, router: ca, cli: show clock, input: [spare]}\n"
    _scenario, warnings = _run(extra)
    assert [(w.line, w.kind) for w in warnings] == [(20, "unused")]
    assert "spare" in warnings[0].message


def test_a_clean_bring_up_has_no_warnings_and_the_console_is_unchanged() -> None:
    """Warnings add nothing to what the router printed: the transcript holds IOS's lines
    and no pkilab commentary."""
    scenario = load_scenario_text(HEAD + TYPOS + EXPECT, "typos.yaml")
    result = run_scenario(scenario)
    lines = transcript_lines(result.world.env.trace, "ca")
    assert "% Invalid input detected at '^' marker." in lines
    assert not any("typos" in line or "warning" in line.lower() for line in lines)
    _scenario, clean = _run(HEAD + BRING_UP + EXPECT)
    assert clean == []


def test_strict_turns_warnings_into_a_failure_with_the_warning_as_the_reason() -> None:
    """`--strict` (the runner's `strict`) and `strict: true` fail a run whose expectations
    all hold when it has warnings; without either it passes."""
    text = HEAD + BRING_UP + TYPOS.replace("at: 1s", "at: 2m") + EXPECT
    lenient = run_scenario(load_scenario_text(text, "typos.yaml"))
    assert lenient.passed and lenient.warnings and not lenient.strict
    strict = run_scenario(load_scenario_text(text, "typos.yaml"), strict=True)
    assert strict.expectations_hold and not strict.passed and strict.strict_failure
    in_file = run_scenario(load_scenario_text("strict: true\n" + text, "typos.yaml"))
    assert not in_file.passed and in_file.strict
    # The trace's end marker agrees with the verdict.
    (end,) = [e for e in in_file.world.env.trace if e.name == "end"]
    assert end.data["passed"] is False


def test_expect_warnings_excuses_a_deliberate_mistake_and_is_itself_a_warning_when_stale(
) -> None:
    """A lab that types a wrong command on purpose says so; the mark cannot outlive the
    mistake, or it would excuse a later real typo at that event for ever."""
    marked = TYPOS + "    expect_warnings: true\n"
    _scenario, warnings = _run(HEAD + marked)
    assert warnings == []
    stale = BRING_UP + "    expect_warnings: true\n"
    _scenario, warnings = _run(HEAD + stale)
    assert [(w.line, w.kind) for w in warnings] == [(11, "expected")]


def test_lines_typed_by_code_raise_no_warning() -> None:
    """Only a scenario's own events have a file line to blame: a test harness or a live
    console typing the same typo is not the scenario's mistake."""
    scenario = load_scenario_text(HEAD + BRING_UP, "typos.yaml")

    def typo(world: World) -> None:
        router: Router = world.routers["ca"]
        world.env.process(_later(world, router))

    def _later(world: World, router: Router) -> Generator[Any, Any, None]:
        yield world.env.timeout(120)
        router.type_lines(["crypto pki sever ca"])

    result = run_scenario(scenario, setup=typo)
    assert result.warnings == []
    errors = [e for e in result.world.env.trace if (e.category, e.name) == ("cli", "error")]
    assert [e.data["source"] for e in errors] == [None]


def test_the_trace_tags_mistakes_with_file_and_line(tmp_path: Path) -> None:
    """trace.jsonl says which event each refused line came from, by file name (the same
    whatever path the file was run by, so output folders stay byte-identical)."""
    path = tmp_path / "typos.yaml"
    path.write_text(HEAD + TYPOS)
    result = run_scenario(load_scenario(path))
    errors = [e for e in result.world.env.trace if (e.category, e.name) == ("cli", "error")]
    assert {e.data["source"] for e in errors} == {"typos.yaml:11"}
    assert result.warnings[0].where == f"{path}:11"


def test_summary_and_reports_list_the_warnings(tmp_path: Path) -> None:
    """A teacher opening report.html sees a Warnings section with the line and IOS's
    message; summary.json keeps them for tools."""
    from sim.report import write_report

    result = run_scenario(load_scenario_text(HEAD + TYPOS, "typos.yaml"), strict=True)
    out = tmp_path / "out"
    write_output(result, out)
    html, md = write_report(out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["strict"] is True and summary["passed"] is False
    assert summary["warnings"][0]["line"] == 11
    assert summary["warnings"][0]["typed"] == "crypto pki sever ca"
    text = md.read_text()
    assert "## Warnings" in text
    assert "line 11, ca" in text and "`crypto pki sever ca`" in text
    page = html.read_text()
    assert '<section id="warnings">' in page and "crypto pki sever ca" in page
    clean = run_scenario(load_scenario_text(HEAD + BRING_UP, "typos.yaml"))
    write_output(clean, tmp_path / "clean")
    _html, clean_md = write_report(tmp_path / "clean")
    assert "Warnings" not in clean_md.read_text()


def test_pkilab_run_prints_warnings_and_strict_exits_1(tmp_path: Path) -> None:
    """`pkilab run` prints each warning with file:line; `--strict` makes the exit code 1."""
    path = tmp_path / "typos.yaml"
    path.write_text(HEAD + BRING_UP + TYPOS.replace("at: 1s", "at: 2m") + EXPECT)
    runner = CliRunner()
    lenient = runner.invoke(main, ["run", str(path), "--out", str(tmp_path / "a")])
    assert lenient.exit_code == 0, lenient.output
    assert f"WARN {path}:20: ca: 'crypto pki sever ca'" in lenient.output
    strict = runner.invoke(main, ["run", str(path), "--out", str(tmp_path / "b"), "--strict"])
    assert strict.exit_code == 1, strict.output
    assert f"FAIL {path}:20: ca: 'crypto pki sever ca'" in strict.output
    assert f"replay: pkilab run {path} --seed 0 --strict" in strict.output


def test_pkilab_check_strict_fails_and_junit_has_an_operator_warnings_case(
        tmp_path: Path) -> None:
    """In CI, a strict check fails on warnings, and the JUnit XML shows them as a failing
    `operator warnings` test case; a lenient one keeps them in system-err."""
    path = tmp_path / "typos.yaml"
    path.write_text(HEAD + BRING_UP + TYPOS.replace("at: 1s", "at: 2m") + EXPECT)
    runner = CliRunner()
    junit = tmp_path / "junit.xml"
    lenient = runner.invoke(main, ["check", str(path), "--out", str(tmp_path / "a"),
                                   "--junit", str(junit)])
    assert lenient.exit_code == 0, lenient.output
    assert "WARN" in lenient.output
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    assert "crypto pki sever ca" in (suite.findtext("system-err") or "")
    strict = runner.invoke(main, ["check", str(path), "--out", str(tmp_path / "b"),
                                  "--junit", str(junit), "--strict"])
    assert strict.exit_code == 1, strict.output
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    case = suite.find("testcase[@name='operator warnings']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None and "crypto pki sever ca" in (failure.text or "")


def test_strict_and_expect_warnings_survive_writing_the_scenario_back() -> None:
    """A scenario saved by pkilab (a console session, a lab) keeps both marks."""
    scenario = load_scenario_text("strict: true\n" + HEAD + TYPOS
                                  + "    expect_warnings: true\n", "typos.yaml")
    again = load_scenario_text(scenario_yaml(scenario), "again.yaml")
    assert again.strict
    (event,) = again.events
    assert isinstance(event, m.CliEvent) and event.expect_warnings


def test_expect_warnings_belongs_to_a_cli_event() -> None:
    """On any other event it would excuse nothing: the loader says so, at the line."""
    from sim.scenario.loader import ScenarioError

    with pytest.raises(ScenarioError, match="only allowed with 'cli'"):
        load_scenario_text(HEAD + "  - {at: 1s, router: ca, reload: true, "
                                  "expect_warnings: true}\n", "typos.yaml")


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_runs_strict_with_no_warnings(path: Path) -> None:
    """The shipped library is the example users copy: it types nothing IOS refuses and
    answers every question it raises, exactly."""
    for scenario in load_scenarios(path):
        result = run_scenario(scenario, strict=True)
        assert not result.warnings, "\n".join(w.describe() for w in result.warnings)
        assert result.passed


def test_the_pytest_plugin_shows_warnings_and_pkilab_strict_fails(tmp_path: Path) -> None:
    """`pytest scenarios/` lists each warning in pytest's warnings summary with file:line;
    `--pkilab-strict` fails the test and says why."""
    import subprocess
    import sys

    path = tmp_path / "scenarios" / "typos.yaml"
    path.parent.mkdir()
    path.write_text(HEAD + BRING_UP + TYPOS.replace("at: 1s", "at: 2m") + EXPECT)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist",
               "-p", "no:randomly", "-q", str(path)]
    lenient = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                             timeout=300)
    assert lenient.returncode == 0, lenient.stdout
    assert ("scenarios/typos.yaml:20: ScenarioWarning: ca: 'crypto pki sever ca': "
            "% Invalid input detected at '^' marker.") in lenient.stdout
    strict = subprocess.run([*command, "--pkilab-strict"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert strict.returncode == 1, strict.stdout
    assert "operator warnings (strict):" in strict.stdout
    assert "scenarios/typos.yaml:20: ca: 'crypto pki sever ca'" in strict.stdout
