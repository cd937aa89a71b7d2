"""Prompt answers with delays of their own, and Ctrl-C, in scenario files.

A `cli` event's `input` item is text (typed `ANSWER_DELAY`, two seconds, after its
prompt) or a mapping: `{text: TEXT, after: DURATION}` is typed DURATION after its prompt,
`{ctrl_c: true, after: DURATION}` presses Ctrl-C there instead. This is what a saved live
console session needs to replay at the pace the person typed.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from sim.kernel.transcript import transcript_lines
from sim.pki.cs_fsm import CsState
from sim.scenario import model as m
from sim.scenario.loader import ScenarioError, load_scenario_text
from sim.scenario.runner import run_scenario
from sim.scenario.writer import scenario_yaml

HEAD = """\
name: answers
description: Answers with delays.
seed: 4
duration: 5m
routers:
  ca:
    address: 10.0.0.1
    config: |
      hostname ca
      ip http server
events:
  - at: 1s
    router: ca
    cli: |
      enable
      configure terminal
      crypto pki server ca
      no shutdown
      end
"""


def scenario(input_yaml: str) -> m.Scenario:
    return load_scenario_text(HEAD + f"    input: {input_yaml}\n", "answers.yaml")


def test_answers_load_as_text_timed_text_or_ctrl_c() -> None:
    """A scenario's `input:` answers with `text`/`after` or `ctrl_c` would be read wrongly or
    refused."""
    (event,) = scenario('[yes, {text: 0123, after: 7.5s}, {ctrl_c: true, after: 1m}, '
                       '{text: "", after: 0}, {ctrl_c: true}]').events
    assert isinstance(event, m.CliEvent)
    assert event.input == (m.Answer("yes"), m.Answer("0123", 7.5),
                           m.Answer(ctrl_c=True, after=60.0), m.Answer("", 0.0),
                           m.Answer(ctrl_c=True))
    (one,) = scenario("cisco123").events
    assert isinstance(one, m.CliEvent) and one.input == (m.Answer("cisco123"),)


def _enabled_at(run: m.Scenario) -> float:
    result = run_scenario(run)
    (enabled,) = [e for e in result.world.env.trace.select(router="ca", category="log")
                  if "%PKI-6-CS_ENABLED" in e.data["text"]]
    return enabled.t


def test_each_answer_is_typed_its_own_delay_after_its_prompt() -> None:
    """A scenario answer's `after:` delay would be ignored, so prompts would be answered at the
    wrong time."""
    default = _enabled_at(scenario("[cisco123, cisco123]"))
    slow = _enabled_at(scenario("[{text: cisco123, after: 20s}, {text: cisco123, after: 10.5s}]"))
    # Two seconds each by default; 20 s and 10.5 s here: the server comes up 26.5 s later.
    assert slow - default == pytest.approx(26.5)
    same = _enabled_at(scenario("[{text: cisco123, after: 2s}, cisco123]"))
    assert same == default


def test_ctrl_c_in_a_file_abandons_the_command_and_the_server_can_be_enabled_later() -> None:
    """A `ctrl_c` answer at the password prompt would not print `% Aborted.`, or the CA could not be
    enabled afterwards."""
    run = scenario("[cisco123, {ctrl_c: true, after: 3s}]")
    enable_again = m.CliEvent(120.0, "ca", ("configure terminal", "crypto pki server ca",
                                            "no shutdown"), ("cisco123", "cisco123"))
    result = run_scenario(replace(run, events=(*run.events, enable_again)))
    lines = transcript_lines(result.world.env.trace, "ca")
    assert lines[lines.index("Re-enter password:^C") + 1] == "% Aborted."
    assert result.world.routers["ca"].server_state() is CsState.ENABLED


def test_ctrl_c_at_confirm_does_not_reload() -> None:
    """A `ctrl_c` answer at `Proceed with reload? [confirm]` would reload the router anyway."""
    run = load_scenario_text(HEAD.replace("""      crypto pki server ca
      no shutdown
      end
""", "      end\n      reload\n") + "    input: [no, {ctrl_c: true, after: 1.5s}]\n",
                             "reload.yaml")
    result = run_scenario(run)
    lines = transcript_lines(result.world.env.trace, "ca")
    assert "Proceed with reload? [confirm]^C" in lines
    assert not result.world.env.trace.select(router="ca", category="power", name="reload")


def test_timed_answers_and_ctrl_c_are_written_back_and_read_the_same() -> None:
    """A saved scenario with timed or Ctrl-C answers would be written in a form that loads back
    differently."""
    answers = (m.Answer("cisco123"), m.Answer("yes", 6.020999999999999),
               m.Answer("", 0.0), m.Answer(ctrl_c=True, after=3.5), m.Answer(ctrl_c=True),
               m.Answer("${x}", 90.0))
    base = scenario("[x]")
    event = replace(base.events[0], input=answers)
    text = scenario_yaml(replace(base, events=(event,)))
    assert """
    input:
      - cisco123
      - {text: "yes", after: 6.020999999999999s}
      - {text: "", after: 0s}
      - {ctrl_c: true, after: 3.5s}
      - {ctrl_c: true}
      - {text: "$${x}", after: 1m30s}
""" in text
    again = load_scenario_text(text, "written.yaml")
    assert again.events[0].input == answers  # type: ignore[union-attr]


def test_plain_answers_keep_the_short_form() -> None:
    """Saved scenarios would spell simple answers in the long mapping form instead of the short
    `[a, b]` list."""
    text = scenario_yaml(scenario("[cisco123, yes, '']"))
    assert '    input: [cisco123, "yes", ""]' in text


BAD = [
    ("[{text: a, after: 10 minutes}]", 20,
     "events[0].input[0].after: '10 minutes' is not a duration"),
    ("[{text: a, after: -2s}]", 20, "events[0].input[0].after: '-2s' must not be negative"),
    ("[{text: a, after: 3651d}]", 20, "events[0].input[0].after: '3651d' is too long"),
    ("[{txt: a}]", 20, "events[0].input[0]: unknown key 'txt'; did you mean 'text'?"),
    ("[{text: a, ctrl_c: true}]", 20, "events[0].input[0]: an answer is text, "
                                      "{text: TEXT, after: DURATION} or "
                                      "{ctrl_c: true, after: DURATION}"),
    ("[{after: 2s}]", 20, "events[0].input[0]: an answer is text"),
    ("[{ctrl_c: false}]", 20, "events[0].input[0].ctrl_c: must be true"),
    ("[[a]]", 20, "events[0].input[0]: an answer is text"),
    ("{text: a}", 20, "events[0].input: must be a list of answers"),
    ("\n      - cisco123\n      - {text: a, after: 1 hour}", 22,
     "events[0].input[1].after: '1 hour' is not a duration"),
]


@pytest.mark.parametrize("input_yaml, line, message", BAD, ids=[b[2][:40] for b in BAD])
def test_a_bad_answer_is_refused_at_its_line(input_yaml: str, line: int, message: str) -> None:
    """A malformed `input:` answer in a scenario file would not be reported with its line number and
    the reason."""
    with pytest.raises(ScenarioError) as raised:
        scenario(input_yaml)
    assert str(raised.value).startswith(f"answers.yaml:{line}: {message}")


def test_an_answer_cannot_be_built_with_a_negative_delay_or_ctrl_c_with_text() -> None:
    """An answer with a negative or NaN delay, or Ctrl-C with text, could be built and confuse a
    run."""
    with pytest.raises(ValueError, match="0 or more seconds"):
        m.Answer("x", -1.0)
    with pytest.raises(ValueError, match="0 or more seconds"):
        m.Answer("x", float("nan"))
    with pytest.raises(ValueError, match="no text"):
        m.Answer("x", ctrl_c=True)
