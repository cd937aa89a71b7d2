"""Scenario models written back as scenario files (`sim.scenario.writer`).

A saved console session or a lab built in Python is only worth saving if the file says
exactly what the model said: loading it gives the same model, running it gives the same
bytes, and the file reads like the shipped ones, with every awkward string quoted so
that neither pkilab nor any other YAML reader takes `yes` for a boolean.
"""

from __future__ import annotations

import random
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from sim.cli import main
from sim.kernel.transcript import transcript_text
from sim.pki.cs_fsm import CsState
from sim.scenario import model as m
from sim.scenario.loader import ScenarioError, load_scenario_text, load_scenarios
from sim.scenario.runner import run_scenario
from sim.scenario.writer import ScenarioWriteError, scenario_yaml

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").rglob("*.yaml"))
FIXTURE = ROOT / "tests" / "fixtures" / "scenarios" / "valid_full.yaml"


def _unlined(item: Any) -> Any:
    if is_dataclass(item) and not isinstance(item, type) \
            and any(f.name == "line" for f in fields(item)):
        return replace(item, line=0)
    return item


def comparable(scenario: m.Scenario) -> m.Scenario:
    """The model without what only its file knows (lines, source) or a single plain file
    cannot be (matrix run, soak spec, golden files)."""
    return replace(
        scenario, source=None, variant="", axes=(), soak=None, golden=None,
        routers=tuple(map(_unlined, scenario.routers)),
        links=tuple(map(_unlined, scenario.links)),
        bridges=tuple(map(_unlined, scenario.bridges)),
        events=tuple(map(_unlined, scenario.events)),
        expectations=tuple(map(_unlined, scenario.expectations)),
    )


def reload(scenario: m.Scenario) -> tuple[str, m.Scenario]:
    text = scenario_yaml(scenario)
    return text, load_scenario_text(text, "written.yaml")


def without_comments(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))


BASE = m.Scenario(
    name="lab", description="A lab.", seed=3, start=m.DEFAULT_START, duration=3600.0,
    routers=(m.RouterSpec("r1", "10.0.0.1", config=("hostname r1",)),
             m.RouterSpec("r2", "10.0.0.2")),
    links=(m.LinkSpec("r1", "r2"),),
)


# -- every shipped scenario ----------------------------------------------------------------


@pytest.mark.parametrize("path", [*SHIPPED, FIXTURE], ids=lambda p: p.stem)
def test_every_shipped_run_loads_back_equal_and_writes_the_same_text(path: Path) -> None:
    """Saving any shipped scenario (or one of its matrix runs) would give a file that loads as a
    different scenario, or whose text changes on each save."""
    for run in load_scenarios(path):
        text, again = reload(run)
        assert comparable(again) == comparable(run), run.full_name
        assert scenario_yaml(run) == text
        # The written file is a fixed point: writing what it loads to gives it back (only
        # the note about a matrix, soak or golden: it came from is gone).
        assert scenario_yaml(again) == without_comments(text)


def test_written_files_pass_pkilab_validate(tmp_path: Path) -> None:
    # Every written run loads (the round trip above); `validate` is that loader behind the
    # command line, so a sample of each kind of file is enough here.
    """A saved scenario file, plain, matrix run or soak, would be refused by `pkilab validate`."""
    sample = {"matrix-enrollment-faults": "fault=dns,grant=manual", "soak-hierarchy": "",
              "clock-not-set": "", "valid_full": ""}
    files = []
    for path in [*SHIPPED, FIXTURE]:
        for run in load_scenarios(path):
            if sample.get(path.stem) == run.variant:
                out = tmp_path / f"{path.stem}.yaml"
                out.write_text(scenario_yaml(run), encoding="utf-8")
                files.append(str(out))
    outcome = CliRunner().invoke(main, ["validate", *files])
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output.count("ok: ") == len(files) == len(sample)


def test_a_matrix_run_is_written_as_that_one_plain_run() -> None:
    """Saving one run of a matrix scenario would keep the `matrix:` and `${...}` placeholders or
    lose that run's own events and description."""
    runs = load_scenarios(ROOT / "scenarios/reachability/matrix-enrollment-faults.yaml")
    run = next(r for r in runs if r.variant == "fault=http-off,grant=auto")
    text = scenario_yaml(run)
    assert text.startswith("# Run [fault=http-off,grant=auto] of the matrix scenario "
                           "matrix-enrollment-faults")
    data = yaml.safe_load(text)
    assert "matrix" not in data and "${" not in text and "when:" not in text
    assert "fault http-off, grant mode auto" in data["description"]
    assert {"at": "2m", "router": "root1", "http_server": False} in data["events"]
    assert not any(event.get("link_down") for event in data["events"])


def test_a_soak_is_written_as_the_faults_it_drew_with_invariants_spelt_out() -> None:
    """Saving a soak run would keep the `soak:` section (drawing other faults) instead of writing
    the faults it drew and `invariants: true`."""
    (run,) = load_scenarios(ROOT / "scenarios/hierarchy/soak-hierarchy.yaml")
    text, again = reload(run)
    data = yaml.safe_load(text)
    assert "soak" not in data and data["invariants"] is True
    assert text.startswith("# The soak faults drawn for seed 2024 are plain events here")
    assert again.soak is None and again.invariants
    assert len(again.events) == len(run.events) > 100


def test_golden_is_left_out_with_a_note() -> None:
    """A saved scenario would carry a `golden:` section pointing at files it does not have, without
    a note saying it was left out."""
    (run,) = load_scenarios(ROOT / "scenarios/clock/clock-not-set.yaml")
    text = scenario_yaml(run)
    assert text.startswith("# golden: is left out")
    assert "golden" not in yaml.safe_load(text)


# -- the same run ---------------------------------------------------------------------------


@pytest.mark.parametrize("path, variant", [
    ("clock/clock-not-set.yaml", ""),
    ("reachability/matrix-enrollment-faults.yaml", "fault=clock-unset,grant=manual"),
    ("hierarchy/soak-hierarchy.yaml", ""),
])
def test_the_written_scenario_runs_to_byte_identical_transcripts(path: str, variant: str) -> None:
    """Re-running a saved scenario would give router transcripts or expectation results different
    from the original run."""
    (original,) = [r for r in load_scenarios(ROOT / "scenarios" / path) if r.variant == variant]
    _, written = reload(original)
    first, second = run_scenario(original), run_scenario(written)
    lines = 0
    for router in original.routers:
        expected = transcript_text(first.world.env.trace, router.name)
        assert transcript_text(second.world.env.trace, router.name) == expected, router.name
        lines += expected.count("\n")
    assert lines > 40
    assert [r.passed for r in second.results] == [r.passed for r in first.results]


# -- the layout ----------------------------------------------------------------------------


def test_the_layout_is_that_of_the_shipped_files() -> None:
    """A saved scenario would not look like the shipped ones (block `cli: |`, one-line flow events,
    `1m30s` times)."""
    scenario = replace(
        BASE,
        description="Two routers.\nOne link.",
        links=(m.LinkSpec("r1", "r2", latency=0.005),),
        events=(m.CliEvent(5.0, "r1", ("enable", "configure terminal"), ("cisco123", "")),
                m.CliEvent(90.0, "r2", ("show clock",)),
                m.LinkEvent(120.0, "r1", "r2", up=False)),
        expectations=(m.ServerStateExpect("r1", None, CsState.ENABLED, at=60.0),
                      m.TranscriptExpect("r2", ("r2#show clock", "% Time"))),
    )
    assert scenario_yaml(scenario) == """\
name: lab
description: |
  Two routers.
  One link.
seed: 3
start: 2005-01-06T20:55:00Z
duration: 1h
routers:
  r1:
    address: 10.0.0.1
    config: |
      hostname r1
  r2:
    address: 10.0.0.2
links:
  - {endpoints: [r1, r2], latency: 5ms}
events:
  - at: 5s
    router: r1
    cli: |
      enable
      configure terminal
    input: [cisco123, ""]
  - {at: 1m30s, router: r2, cli: show clock}
  - {at: 2m, link_down: [r1, r2]}
expect:
  - {router: r1, at: 1m, server_state: enabled}
  - router: r2
    transcript_contains:
      - r2#show clock
      - "% Time"
"""


def test_a_bare_return_between_commands_is_kept() -> None:
    """A bare Return typed between two commands in a saved session would be lost on replay."""
    lines = ("enable", "", "show clock")
    text, again = reload(replace(BASE, events=(m.CliEvent(1.0, "r1", lines),)))
    assert "    cli: |\n      enable\n\n      show clock\n" in text
    assert again.events[0] == m.CliEvent(1.0, "r1", lines, line=again.events[0].line)


def test_events_are_written_by_time_keeping_the_order_of_ties() -> None:
    """A saved scenario would list events out of time order, or swap two commands typed at the same
    instant."""
    events = (m.CliEvent(60.0, "r1", ("b",)), m.CliEvent(30.0, "r2", ("a",)),
              m.CliEvent(60.0, "r1", ("c",)))
    text, again = reload(replace(BASE, events=events))
    assert [e.lines for e in again.events if isinstance(e, m.CliEvent)] == [("a",), ("b",),
                                                                             ("c",)]
    assert text.index("cli: b") < text.index("cli: c")


# -- awkward values ------------------------------------------------------------------------

AWKWARD = [
    "yes", "no", "on", "off", "y", "n", "true", "null", "~", "Null", "0123", "1_000", "12:30",
    "1e5", "0x1f", "0o17", ".inf", "-.5", "2005-01-06", "<<", "=", "a: b", "a #b", "#x",
    " lead", "trail ", "'", '"', "it's", 'say "hi"', "- item", "-x", "%PKI-6-CS_ENABLED",
    "[x]", "{x}", "a, b", "a]", "x?", "?x", "* star", "&anchor", "!tag", "|", ">", "@", "`",
    "café", "日本", "\U0001F600", "a\tb", "\tlead", "a\u00a0b", "zero\u200bwidth",
    "\ufeffbom", "line\u2028sep", "next\x85line", "cr\rhere", "two\nlines", "back\\slash",
    "${x}", "$${x}", "$$", "${", "}", "${a{b}}", "", " ", "hostname r1", "10.0.0.1",
]
"""Text YAML readers misread unless quoted, or that a careless quoting would change."""


def test_awkward_text_reads_back_unchanged_in_every_text_field() -> None:
    """A command, answer, config line or expected text such as `yes`, `#x`, `a: b` or `${x}` would
    come back changed after saving the scenario."""
    answers = tuple(AWKWARD)
    matches = tuple(text for text in AWKWARD if text)
    lines = tuple(text for text in AWKWARD if text and text == text.rstrip())
    scenario = replace(
        BASE,
        description="\n".join(lines),
        routers=(replace(BASE.routers[0], config=lines), BASE.routers[1]),
        events=(m.CliEvent(1.0, "r1", lines, answers),
                *(m.CliEvent(2.0, "r2", (line,)) for line in lines)),
        expectations=(m.TranscriptExpect("r1", matches),
                      *(m.TranscriptExpect("r2", (text,), negate=True) for text in matches),
                      m.ShowExpect("r1", "show clock", matches, matches),
                      *(m.ShowExpect("r2", text, (text,)) for text in matches),
                      *(m.NvramFileExpect("r1", text) for text in matches),
                      *(m.CertificateVerifiesExpect("r2", text) for text in matches)),
    )
    text, again = reload(scenario)
    assert comparable(again) == scenario
    # Any YAML reader (not only pkilab's, which reads these fields verbatim) agrees. It
    # sees `${` escaped as `$${`, which is the format's business, not YAML's.
    data = yaml.safe_load(text)
    assert [a for a in data["events"][0]["input"] if "$" not in a] == [
        a for a in answers if "$" not in a]
    one_line = [line for line in lines if "$" not in line and line.isprintable()]
    assert [e["cli"] for e in data["events"][1:] if e["cli"] in one_line] == one_line
    assert [e["show"] for e in data["expect"] if "show" in e and "$" not in e["show"]][1:] == [
        text for text in matches if "$" not in text]


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "null", "0123", "1e5", "a: b",
                                  "#x", " lead", "'quoted'", "café", "a\tb", "\u2028"])
def test_a_misreadable_answer_is_double_quoted(word: str) -> None:
    """A saved answer such as `yes`, `no` or `0123` would be read back by YAML tools as a boolean,
    null or number."""
    text = scenario_yaml(replace(BASE, events=(m.CliEvent(1.0, "r1", ("enable",), (word,)),)))
    line = next(line for line in text.splitlines() if "input:" in line)
    written = line.split("input: ", 1)[1].removesuffix("}")
    assert written.startswith('["')
    assert yaml.safe_load(written) == [word]


def test_plain_text_stays_plain() -> None:
    """Saved scenarios would quote ordinary commands and answers needlessly, making them harder to
    read."""
    text = scenario_yaml(replace(BASE, events=(
        m.CliEvent(1.0, "r1", ("crypto pki server ca grant all",), ("cisco123",)),)))
    assert "{at: 1s, router: r1, cli: crypto pki server ca grant all, input: [cisco123]}" in text


@pytest.mark.parametrize("name", ["no", "yes", "on", "off", "null", "y", "true", "n"])
def test_routers_named_like_yaml_words_are_quoted_everywhere(name: str) -> None:
    """A router named `no`, `yes` or `on` would turn into a boolean in a saved scenario's routers,
    links or expectations."""
    routers = (m.RouterSpec(name, "10.0.0.1"), m.RouterSpec("r2", "10.0.0.2"))
    scenario = replace(BASE, routers=routers, links=(m.LinkSpec(name, "r2"),),
                       events=(m.LinkEvent(1.0, name, "r2", up=False),
                               m.ReloadEvent(2.0, name)),
                       expectations=(m.ServerStateExpect(name, None, CsState.INITIAL),))
    text, again = reload(scenario)
    assert comparable(again) == scenario
    data = yaml.safe_load(text)
    assert list(data["routers"]) == [name, "r2"]
    assert data["links"][0]["endpoints"] == [name, "r2"]
    assert data["expect"][0]["router"] == name


def test_placeholders_are_escaped_even_across_lines() -> None:
    """A literal `${...}` in a saved description or config would be taken for a matrix placeholder
    when the file is loaded."""
    lines = ("banner motd ${", "  x}", "description $${y} and ${z}")
    scenario = replace(BASE, description="Costs ${price}\n{not one}",
                       routers=(replace(BASE.routers[0], config=lines), BASE.routers[1]))
    text, again = reload(scenario)
    assert comparable(again) == scenario
    assert "banner motd $${" in text and "description $$${y} and $${z}" in text


def test_placeholder_escaping_survives_a_seeded_fuzz() -> None:
    """Some mix of `$`, `{` and `}` in saved text would come back changed or be taken for a
    placeholder."""
    rng = random.Random(9)
    alphabet = ["$", "$", "{", "}", "a", "\n", " ", "${a}", "$${"]
    for _ in range(40):
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
                 for _ in range(6)]
        lines = tuple(t.strip() or "x" for t in texts[0].split("\n"))
        description = texts[1].rstrip() or "d"
        scenario = replace(
            BASE, description=description,
            events=(m.CliEvent(1.0, "r1", lines, tuple(texts[2:4])),),
            expectations=(m.TranscriptExpect("r1", tuple(t for t in texts[4:] if t)
                                             or ("x",)),))
        assert comparable(reload(scenario)[1]) == scenario, scenario


def test_an_ios_sub_command_first_gets_an_indentation_indicator() -> None:
    """A saved config starting with an indented IOS sub-command would lose its leading space or fail
    to load."""
    config = (" ip address 10.0.0.1 255.0.0.0", "interface Ethernet0", " no shutdown")
    scenario = replace(BASE, routers=(replace(BASE.routers[0], config=config),
                                      BASE.routers[1]))
    text, again = reload(scenario)
    assert "    config: |2\n       ip address 10.0.0.1 255.0.0.0\n      interface" in text
    assert again.routers[0].config == config


def test_lines_a_block_would_change_are_written_as_a_list() -> None:
    """Commands containing tabs or Unicode line separators would change when the scenario is saved
    and loaded."""
    lines = ("show clock", "a\u2028b", "tab\there")
    text, again = reload(replace(BASE, events=(m.CliEvent(1.0, "r1", lines),)))
    assert 'cli: [show clock, "a\\Lb", "tab\\there"]' in text
    assert again.events[0].lines == lines  # type: ignore[union-attr]


def test_a_description_a_block_would_change_is_one_quoted_line() -> None:
    """A description with trailing spaces or tabs would be altered when the scenario is saved and
    loaded."""
    scenario = replace(BASE, description="first  \nsecond\ttabbed")
    text, again = reload(scenario)
    assert 'description: "first  \\nsecond\\ttabbed"' in text
    assert again.description == scenario.description


# -- times and numbers ---------------------------------------------------------------------


def test_durations_are_written_as_people_write_them() -> None:
    """Saved times and clock jumps would read as raw seconds instead of `2d`, `1m30s`, `250ms` or
    `-30m`."""
    events = (m.ClockJumpEvent(90.0, "r1", -1800.0), m.ClockJumpEvent(0.25, "r1", 5400.0),
              m.ClockJumpEvent(86400.0 + 3600.0, "r1", 1.5))
    text, again = reload(replace(BASE, duration=2 * 86400.0, events=events))
    assert "duration: 2d" in text
    assert "{at: 250ms, router: r1, clock_jump: 1h30m}" in text
    assert "{at: 1m30s, router: r1, clock_jump: -30m}" in text
    assert "{at: 1d1h, router: r1, clock_jump: 1.5s}" in text
    assert comparable(again).events == tuple(sorted(events, key=lambda e: e.at))


def test_times_from_a_live_session_replay_at_the_very_same_instant() -> None:
    """Replaying a saved console session would run commands a hair earlier or later than typed,
    changing the transcript."""
    odd = (1.6000000000000003, 0.1 + 0.2, 1234.5678901234, 1e-7)
    events = tuple(m.CliEvent(t, "r1", ("show clock",)) for t in odd)
    text, again = reload(replace(BASE, events=events))
    assert [e.at for e in again.events] == sorted(odd)
    assert "at: 0.30000000000000004s" in text and "at: 0.0000001s" in text


def test_every_event_and_check_kind_reads_back() -> None:
    """Some event, expectation, clock, link or bridge setting would be lost or changed when a
    scenario is saved and loaded."""
    clock = m.ClockSpec(set=False, value=datetime(1993, 3, 1, tzinfo=UTC), drift_ppm=1e-5,
                        authoritative=False, calendar=False)
    shifted = m.ClockSpec(offset=-2.5, authoritative=True)
    scenario = replace(
        BASE,
        routers=(replace(BASE.routers[0], clock=clock), replace(BASE.routers[1], clock=shifted)),
        links=(m.LinkSpec("r1", "r2", latency=0.25, loss=0.125),),
        bridges=(m.BridgeSpec("realca", "10.9.9.9", "http://127.0.0.1:8080/scep", port=8080,
                              timeout=30.0),),
        events=(
            m.CliEvent(1.0, "r1", ("enable",), ("",)),
            m.LinkEvent(2.0, "r1", "r2", up=False),
            m.LinkEvent(3.0, "r2", "r1", up=True),
            m.LinkChangeEvent(4.0, "r1", "r2", latency=0.05, loss=None),
            m.LinkChangeEvent(5.0, "r1", "r2", latency=None, loss=1e-3),
            m.LinkChangeEvent(6.0, "r1", "r2", latency=0.0, loss=0.0),
            m.ClockSetEvent(7.0, "r1", datetime(2005, 1, 6, 21, 0, 0, 123456, tzinfo=UTC)),
            m.ClockSetEvent(8.0, "r1", None),
            m.ClockUnsetEvent(9.0, "r2"),
            m.ClockJumpEvent(10.0, "r2", -0.001),
            m.HttpServerEvent(11.0, "r1", on=False),
            m.HttpServerEvent(12.0, "r1", on=True),
            m.ReloadEvent(13.0, "r2"),
            m.PowerEvent(14.0, "r2", on=False),
            m.PowerEvent(15.0, "r2", on=True),
        ),
        expectations=(
            m.ServerStateExpect("r1", "ca", CsState.CHECK_FAILED, at=30.0),
            m.ServerStateExpect("r1", None, CsState.DISABLED),
            m.TranscriptExpect("r1", ("a",)),
            m.TranscriptExpect("r1", ("a", "b"), negate=True, at=1.0),
            m.ShowExpect("r1", "show clock", contains=("x",)),
            m.ShowExpect("r1", "show clock", not_contains=("gone", "lost"), at=2.0),
            m.NvramFileExpect("r1", "ca.ser"),
            m.NvramFileExpect("r1", "ca.crl", exists=False, at=3.0),
            m.CertificateVerifiesExpect("r2", "ca", at=4.0),
            *(m.InvariantExpect(key) for key in m.INVARIANTS),
        ),
        invariants=True,
    )
    text, again = reload(scenario)
    assert comparable(again) == scenario
    for snippet in (
        "    clock: {set: false, value: 1993-03-01T00:00:00Z, drift_ppm: 1.0e-05, "
        "authoritative: false, calendar: false}",
        "    clock: {offset: -2.5s, authoritative: true}",
        "  - {endpoints: [r1, r2], latency: 250ms, loss: 0.125}",
        "bridge:\n  realca:\n    address: 10.9.9.9\n    url: http://127.0.0.1:8080/scep\n"
        "    port: 8080\n    timeout: 30s\n",
        "  - {at: 6s, link_change: {endpoints: [r1, r2], latency: 0s, loss: 0.0}}",
        "  - {at: 7s, router: r1, clock_set: 2005-01-06T21:00:00.123456Z}",
        "  - {at: 8s, router: r1, clock_set: now}",
        "  - {at: 9s, router: r2, clock_unset: true}",
        "  - {at: 11s, router: r1, http_server: off}",
        "  - {at: 15s, router: r2, power: on}",
        "  - {router: r1, at: 30s, server: ca, server_state: check failed}",
        "  - {router: r1, at: 2s, show: show clock, not_contains: [gone, lost]}",
        "  - {router: r1, at: 3s, nvram_file: ca.crl, exists: false}",
        "invariants: true\n",
    ):
        assert snippet in text, snippet


# -- what no file can say ------------------------------------------------------------------


@pytest.mark.parametrize("scenario, message", [
    (replace(BASE, events=(m.CliEvent(1.0, "r1", ("show clock ",)),)),
     "events[0].cli: 'show clock ' ends in white space"),
    (replace(BASE, events=(m.CliEvent(1.0, "r1", ("", "show clock")),)),
     "events[0].cli: a blank first or last line"),
    (replace(BASE, routers=(replace(BASE.routers[0], config=("hostname r1", "")),)),
     "routers.r1.config: a blank first or last line"),
    (replace(BASE, events=(m.CliEvent(1.0, "r1", ("enable",), ("a\x00b",)),)),
     "events[0].input: the control character U+0000 (NUL) cannot appear"),
    (replace(BASE, description="trailing\n"),
     "description: ends in white space"),
    (replace(BASE, expectations=(m.InvariantExpect("certified"),), invariants=True),
     "invariants: the expectations hold the invariants ['certified']"),
    (replace(BASE, expectations=tuple(m.InvariantExpect(key) for key in m.INVARIANTS)),
     "invariants: the expectations hold the invariants"),
])
def test_what_no_file_can_say_is_refused_with_its_place(scenario: m.Scenario,
                                                        message: str) -> None:
    """A scenario that no file can express (trailing spaces, blank edge lines, control characters,
    clashing invariants) would be saved wrongly instead of refused."""
    with pytest.raises(ScenarioWriteError) as raised:
        scenario_yaml(scenario)
    assert str(raised.value).startswith(message)


def test_what_the_loader_refuses_is_written_for_it_to_say_so() -> None:
    """A scenario with a mistake such as an unknown router would not save to a file that `pkilab`
    then refuses with its line."""
    scenario = replace(BASE, events=(m.CliEvent(7200.0, "r9", ("show clock",)),))
    text = scenario_yaml(scenario)
    with pytest.raises(ScenarioError, match=r"written.yaml:\d+: events\[0\]"):
        load_scenario_text(text, "written.yaml")
