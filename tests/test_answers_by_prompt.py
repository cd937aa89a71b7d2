"""Answers keyed by prompt (`answers:` on a `cli` event), and the README's list of prompts.

A scenario author should not have to count questions: `answers: {"Password": pw, ...}`
answers each question whose prompt, as IOS prints it, contains the key (case-sensitive,
the longest key wins), every time it is asked, before any positional `input:` answer. The
README lists every question pkilab's IOS asks; a test here keeps that list whole.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sim.kernel.transcript import transcript_text
from sim.scenario import model as m
from sim.scenario.loader import ScenarioError, load_scenario_text
from sim.scenario.runner import RunResult, run_scenario
from sim.scenario.writer import scenario_yaml

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

HEAD = """\
name: keyed
description: A router enrolls with a root CA.
seed: 3
duration: 10m
routers:
  ca:
    address: 10.0.0.1
    config: |
      hostname ca
      ip http server
      crypto pki server ca
       grant auto
       shutdown
  r1:
    address: 10.0.0.2
    config: hostname r1
links:
  - endpoints: [ca, r1]
events:
"""
FIRST_EVENT = HEAD.count("\n") + 1
"""The line of the first event."""

CA_UP = """\
  - at: 1s
    router: ca
    cli: |
      enable
      configure terminal
      crypto pki server ca
      no shutdown
      end
{answers}
"""

ENROLL = """\
  - at: 2m
    router: r1
    cli: |
      enable
      configure terminal
      crypto pki trustpoint ca
      enrollment url http://10.0.0.1
      exit
      crypto pki authenticate ca
      crypto pki enroll ca
{answers}
expect:
  - {{router: r1, certificate_verifies: ca}}
  - router: r1
    transcript_contains: "%PKI-6-CERTRET: Certificate received from Certificate Authority"
"""

POSITIONAL = '    input: ["yes", challenge1, challenge1, "no", "no", "yes"]'
BY_PROMPT = ('    answers: {"Do you accept this certificate": "yes", "Password": challenge1,\n'
             '              "Re-enter password": challenge1, "serial number": "no",\n'
             '              "IP address": "no", "Request certificate": "yes"}')


def _scenario(ca_answers: str, enroll_answers: str) -> m.Scenario:
    text = HEAD + CA_UP.format(answers=ca_answers) + ENROLL.format(answers=enroll_answers)
    return load_scenario_text(text, "keyed.yaml")


def _run(ca_answers: str, enroll_answers: str) -> RunResult:
    return run_scenario(_scenario(ca_answers, enroll_answers))


CA_PASS = "    input: [cisco123, cisco123]"


def test_answers_by_prompt_give_the_same_run_as_the_positional_list() -> None:
    """The README's order for authenticate plus enroll is right, and keying the answers by
    prompt gives the very same console, byte for byte, with no warnings."""
    positional = _run(CA_PASS, POSITIONAL)
    keyed = _run(CA_PASS, BY_PROMPT)
    for result in (positional, keyed):
        assert result.passed and not result.warnings, [w.describe() for w in result.warnings]
    trace = keyed.world.env.trace
    assert transcript_text(trace, "r1") == transcript_text(positional.world.env.trace, "r1")


def test_matching_is_case_sensitive_and_the_longest_key_wins() -> None:
    """`Password` answers `Password:` only; `Re-enter password` beats `password` for
    `Re-enter password:`. A wrong pick would show as `% Passwords do not match.`."""
    longest = '    answers: {"Password": pw1, "password": wrong, "Re-enter password": pw1}'
    result = _run(longest, POSITIONAL)
    assert result.passed
    # `password` lost every match it had to a longer key, so it answered nothing.
    assert [(w.kind, w.message) for w in result.warnings] == [
        ("unused", "answers for prompts never asked: ['password']")]
    case = '    answers: {"Password": pw1, "password": other}'
    result = _run(case, POSITIONAL)
    assert "% Passwords do not match." in transcript_text(result.world.env.trace, "ca")


def test_keyed_answers_come_first_and_positional_answers_fill_the_rest() -> None:
    """Mixing both on one event: a question a key matches takes the key's answer, the
    others take the `input:` answers in order."""
    mixed = ('    answers: {"Do you accept this certificate": "yes"}\n'
             '    input: [challenge1, challenge1, "no", "no", "yes"]')
    result = _run(CA_PASS, mixed)
    assert result.passed and not result.warnings


def test_a_key_answers_its_prompt_every_time_it_is_asked() -> None:
    """A map is not a queue: `Password` answers the CA's passphrase and the enrollment's
    challenge alike when both are typed in one event."""
    text = HEAD + """\
  - at: 1s
    router: ca
    cli: |
      enable
      configure terminal
      crypto pki server ca
      no shutdown
      exit
      crypto pki trustpoint self
      enrollment url http://10.0.0.1
      exit
      crypto pki authenticate self
      crypto pki enroll self
    answers: {"Password": pw, "Re-enter password": pw, "accept": "yes", "serial": "no",
              "IP address": "no", "Request certificate": "yes"}
expect:
  - {router: ca, server_state: enabled}
"""
    result = run_scenario(load_scenario_text(text, "keyed.yaml"))
    assert result.passed and not result.warnings, [w.describe() for w in result.warnings]
    asked = transcript_text(result.world.env.trace, "ca").count("Re-enter password:")
    assert asked == 2


def test_a_prompt_no_key_matches_and_a_key_no_prompt_matches_are_warnings() -> None:
    """A misspelt key leaves its question to a bare Return: both the unanswered question and
    the unused key are warnings at the event's line."""
    typo = '    answers: {"Pasword": cisco123, "Re-enter password": cisco123}'
    result = _run(typo, POSITIONAL)
    enroll = FIRST_EVENT + CA_UP.count("\n")  # its lines run, but the CA never came up
    assert [(w.line, w.kind) for w in result.warnings] == [(FIRST_EVENT, "unanswered"),
                                                         (FIRST_EVENT, "unused"),
                                                         (enroll, "unused")]
    assert "Password:" in result.warnings[0].message
    assert "Pasword" in result.warnings[1].message


def test_timed_and_ctrl_c_answers_work_by_prompt() -> None:
    """`{text, after}` waits that long after the prompt; `{ctrl_c: true}` abandons the
    command there (the CA stays shut)."""
    timed = '    answers: {"Password": {text: pw, after: 30s}, "Re-enter password": pw}'
    slow = _run(timed, POSITIONAL)
    quick = _run('    answers: {"Password": pw, "Re-enter password": pw}', POSITIONAL)
    assert slow.passed and quick.passed
    enabled = [e.t for r in (slow, quick) for e in r.world.env.trace
               if e.router == "ca" and e.category == "fsm" and e.data.get("new") == "enabled"]
    assert len(enabled) == 2 and enabled[0] == pytest.approx(enabled[1] + 28.0)
    aborted = _run('    answers: {"Password": {ctrl_c: true}}', POSITIONAL)
    assert "% Aborted." in transcript_text(aborted.world.env.trace, "ca")


def test_the_loader_refuses_a_paste_or_an_empty_key_with_the_line() -> None:
    """A paste has no prompt text to key it by, an empty key would match every question:
    the loader refuses both at the line, and `answers` on an event that types nothing."""
    paste = '    answers: {"Password": {paste_from: {router: r1, artifact: x.pem}}}'
    with pytest.raises(ScenarioError, match=r"keyed\.yaml:2\d: .*paste"):
        _scenario(paste, POSITIONAL)
    with pytest.raises(ScenarioError, match=r"keyed\.yaml:2\d: .*prompt text"):
        _scenario('    answers: {"": cisco123}', POSITIONAL)
    with pytest.raises(ScenarioError, match="only allowed with 'cli'"):
        load_scenario_text(HEAD + '  - {at: 1s, router: ca, reload: true, '
                                  'answers: {"Password": x}}\n', "keyed.yaml")


def test_answers_survive_writing_the_scenario_back() -> None:
    """A scenario saved by pkilab keeps its keyed answers, delays and Ctrl-C included."""
    scenario = _scenario('    answers: {"Password": {text: pw, after: 7.5s}, '
                         '"Re-enter password": pw, "it\'s": {ctrl_c: true}}', POSITIONAL)
    again = load_scenario_text(scenario_yaml(scenario), "again.yaml")
    assert [e.answers for e in again.events if isinstance(e, m.CliEvent)] == \
        [e.answers for e in scenario.events if isinstance(e, m.CliEvent)]
    first = again.events[0]
    assert isinstance(first, m.CliEvent)
    assert first.answers[0] == ("Password", m.Answer("pw", 7.5))


# -- the README's list of prompts ----------------------------------------------------------

_ASKING = {"ask", "ask_yes_no", "confirm"}


def _prompt_text(node: ast.expr, function: ast.AST) -> str | None:
    """The prompt a call passes: a literal, an f-string (`{}` for each placeholder), or a
    name assigned a literal in the same function; None when it cannot be read."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(part.value) if isinstance(part, ast.Constant) else "{}"
                       for part in node.values)
    if isinstance(node, ast.Name):
        for assign in ast.walk(function):
            if (isinstance(assign, ast.Assign) and len(assign.targets) == 1
                    and isinstance(assign.targets[0], ast.Name)
                    and assign.targets[0].id == node.id):
                return _prompt_text(assign.value, function)
    return None


def code_prompts() -> set[str]:
    """Every question pkilab's IOS asks (`Session.ask`, `ask_yes_no`, `confirm`)."""
    prompts: set[str] = set()
    for path in sorted((ROOT / "sim" / "router").glob("*.py")):
        if path.name == "console.py":
            continue  # the question machinery itself, passing its `prompt` on
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for call in ast.walk(function):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr in _ASKING and call.args):
                    text = _prompt_text(call.args[0], function)
                    assert text is not None, f"{path.name}:{call.lineno}: unreadable prompt"
                    prompts.add(text)
    return prompts


def readme_prompts() -> list[str]:
    """The backticked prompts of the README's table of questions (its second column)."""
    text = README.read_text()
    start = text.index("| command | prompts, in order |")
    table = text[start:text.index("\n\n", start)]
    found = []
    for row in table.splitlines()[2:]:
        cells = row.split(" | ")
        found += [span for span in re.findall(r"`([^`]+)`", cells[1])
                  if span.rstrip().endswith((":", "?", "]"))]
    return found


def _pattern(prompt: str) -> re.Pattern[str]:
    """The code's prompt as a pattern the README's wording must match: a placeholder is
    any text (the README writes `NAME`, `URL`)."""
    return re.compile(".+".join(re.escape(part) for part in prompt.split("{}")))


def test_the_readme_lists_every_prompt_in_the_code_and_no_other() -> None:
    """A user writing `answers:` reads the prompts from the README: a new question in the
    code, or a prompt reworded, must show there (and a stale one go)."""
    prompts = code_prompts()
    listed = readme_prompts()
    assert len(prompts) >= 25
    missing = [p for p in prompts if not any(_pattern(p).fullmatch(s) for s in listed)]
    assert not missing, f"README.md's table of prompts lacks: {missing}"
    stale = [s for s in listed if not any(_pattern(p).fullmatch(s) for p in prompts)]
    assert not stale, f"README.md lists prompts pkilab never asks: {stale}"
