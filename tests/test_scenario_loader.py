"""Scenario loading: the model a valid file becomes, and the message each mistake gets.

Error tests assert the exact `file:line:` prefix and a key phrase: the line number is the
whole point of the loader's path tracking, and the phrase is what a user reads.
"""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sim.pki.cs_fsm import CsState
from sim.scenario import model as m
from sim.scenario import yaml_lines
from sim.scenario.durations import format_duration, parse_duration
from sim.scenario.errors import Errors
from sim.scenario.fuzz import shipped_sources
from sim.scenario.loader import (
    ScenarioError,
    _fast_validator,
    _validator,
    load_scenario,
    load_scenario_text,
    load_schema,
)
from sim.scenario.matrix import expand
from sim.scenario.mutants import mutants
from sim.scenario.yaml_lines import YamlError, read_yaml, read_yaml_document

FIXTURES = Path(__file__).parent / "fixtures" / "scenarios"
VALID = FIXTURES / "valid_full.yaml"

BASE = """\
name: t
description: d
duration: 10m
routers:
  r1:
    address: 10.0.0.1
  r2:
    address: 10.0.0.2
links:
  - endpoints: [r1, r2]
"""
"""Ten lines; whatever a test appends starts on line 11."""


def with_r1(extra: str) -> str:
    """BASE with one more line (line 7) in router r1's settings."""
    return BASE.replace("address: 10.0.0.1", "address: 10.0.0.1\n    " + extra)


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "x.yaml")
    return info.value


# -- the valid example -------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenario() -> m.Scenario:
    return load_scenario(VALID)


def test_valid_top_level(scenario: m.Scenario) -> None:
    """A scenario's name, description, seed, start time or duration would be read wrong, so the
    run would start at the wrong time or last the wrong length."""
    assert scenario.name == "sub-cs-basic"
    assert scenario.description.startswith("A subordinate certificate server enrolls")
    assert not scenario.description.endswith("\n")
    assert scenario.seed == 7
    assert scenario.start == datetime(2005, 1, 6, 20, 55, tzinfo=UTC)
    assert scenario.duration == 1800.0
    assert scenario.source == VALID


def test_valid_routers_and_clock(scenario: m.Scenario) -> None:
    """Routers' addresses, startup config, release or clock settings (including ones merged from
    an `x-` anchor) would be read wrong from a scenario file."""
    assert [r.name for r in scenario.routers] == ["root", "sub"]
    root, sub = scenario.routers
    assert root.address == "10.3.0.6"
    assert root.config == (
        "hostname root",
        "ip http server",
        "crypto pki server root",
        " grant auto",
    )
    assert root.release == "12.3(14)T"
    assert root.clock == m.ClockSpec()
    assert root.line == 16
    assert sub.config == ("hostname sub", "ip http server")
    # `<<: *unset-clock` merges set/calendar from the x- anchor.
    assert sub.clock == m.ClockSpec(
        set=False,
        value=datetime(1993, 3, 1, tzinfo=UTC),
        offset=0.0,
        drift_ppm=12.5,
        authoritative=None,
        calendar=False,
    )
    assert sub.clock.is_authoritative is False
    assert scenario.router("sub") is sub


def test_valid_links(scenario: m.Scenario) -> None:
    """A link's latency or loss from the scenario file would be ignored, or the link could not be
    found from either end."""
    (link,) = scenario.links
    assert (link.a, link.b, link.latency, link.loss) == ("root", "sub", 0.002, 0.01)
    assert scenario.link("sub", "root") is link


def test_valid_events_sorted_stably(scenario: m.Scenario) -> None:
    """Events would run out of time order, or two events at the same time would not run in file
    order."""
    kinds = [(type(e).__name__, e.at, e.line) for e in scenario.events]
    assert kinds == [
        ("CliEvent", 10.0, 50),
        ("ClockSetEvent", 60.0, 52),
        ("CliEvent", 120.0, 39),  # same `at` as the link_down below: file order wins
        ("LinkEvent", 120.0, 53),
        ("LinkEvent", 150.0, 54),
        ("ClockJumpEvent", 300.0, 55),
        ("ClockSetEvent", 360.0, 56),
        ("HttpServerEvent", 420.0, 57),
        ("HttpServerEvent", 480.0, 58),
        ("ClockUnsetEvent", 540.0, 59),
        ("ReloadEvent", 600.0, 60),
        ("PowerEvent", 660.0, 61),
        ("PowerEvent", 720.0, 62),
    ]


def test_valid_event_fields(scenario: m.Scenario) -> None:
    """An event's details would be misread, e.g. a `yes` answer taken as YAML true, or
    `http_server: off` not turning the server off."""
    ev: tuple[Any, ...] = scenario.events  # each kind's fields, checked by equality below
    assert ev[0] == m.CliEvent(
        10.0,
        "root",
        ("enable", "configure terminal", "crypto pki server root", "no shutdown"),
        ("cisco123", "cisco123"),
        50,
    )
    assert ev[2].lines[-2:] == (" mode sub-cs", " no shutdown")
    # `yes` is an answer to "[yes/no]:", not YAML's boolean True.
    assert ev[2].input == tuple(map(m.Answer, ("cisco123", "cisco123", "yes")))
    assert ev[1] == m.ClockSetEvent(60.0, "sub", datetime(2005, 1, 6, 20, 56, tzinfo=UTC), 52)
    assert ev[3] == m.LinkEvent(120.0, "sub", "root", False, 53)
    assert ev[4].up is True
    assert ev[5] == m.ClockJumpEvent(300.0, "sub", -5400.0, 55)
    assert ev[6].value is None  # clock_set: now
    assert (ev[7].on, ev[8].on) == (False, True)  # off (YAML bool) and "on" (quoted)
    assert (ev[11].on, ev[12].on) == (False, True)


def test_valid_expectations(scenario: m.Scenario) -> None:
    """An `expect:` entry would be checked against the wrong router, state, time or file, or a
    `not` would be lost."""
    ex: tuple[Any, ...] = scenario.expectations
    assert ex[0] == m.ServerStateExpect("sub", None, CsState.CHECK_FAILED, 90.0, 65)
    assert ex[1] == m.ServerStateExpect("sub", "sub", CsState.ENABLED, None, 66)
    assert ex[2].lines == (
        "CRYPTO_CS: enter FSM: input state initial, input signal no shut",
        "%PKI-6-CS_ENABLED: Certificate server now enabled.",
    )
    assert ex[2].negate is False
    assert ex[3] == m.TranscriptExpect("root", ("% Time has not been set",), True, None, 71)
    assert ex[4] == m.ShowExpect(
        "sub", "show crypto pki server", ("Status: enabled",), ("check failed",), None, 72
    )
    assert ex[5] == m.NvramFileExpect("root", "root.ser", True, None, 74)
    assert ex[6] == m.NvramFileExpect("sub", "sub.crl", False, 60.0, 75)
    assert ex[7] == m.CertificateVerifiesExpect("sub", "sub", None, 76)


def test_describe_is_one_short_line(scenario: m.Scenario) -> None:
    """Events and expectations would be described in the output and report by long or multi-line
    text instead of one short readable line."""
    for item in (*scenario.events, *scenario.expectations):
        text = item.describe()
        assert "\n" not in text and len(text) < 100, text
    assert scenario.expectations[0].describe() == "sub: certificate server is check failed at 1m30s"
    assert scenario.expectations[6].describe() == "sub: nvram:sub.crl does not exist at 1m"
    assert scenario.events[5].describe() == "sub: clock jumps -1h30m at 5m"


def test_golden_spec_names_its_files() -> None:
    """A `golden:` section would compare against the wrong files, e.g. not tidying the spacing of
    a show command in its file name."""
    scenario = load_scenario_text(
        BASE + "golden:\n  transcripts: [r2, r1]\n  show:\n"
        "    - {router: r1, command: '  show crypto pki  server '}\n", "x.yaml")
    golden = scenario.golden
    assert golden is not None and golden.line == 11
    assert golden.transcripts == ("r2", "r1")
    assert golden.show[0].command == "show crypto pki server" and golden.show[0].line == 14
    assert golden.file_names() == ["r2.txt", "r1.txt", "r1--show_crypto_pki_server.txt"]
    assert load_scenario_text(BASE, "x.yaml").golden is None


def test_model_is_frozen(scenario: m.Scenario) -> None:
    """Code could change a loaded scenario while it runs, so a replay might not match the file."""
    with pytest.raises(AttributeError):
        scenario.name = "other"  # type: ignore[misc]


def test_defaults_and_timezones() -> None:
    """A start time with a time zone, or a file leaving seed, latency or start out, would run at
    the wrong time or with unexpected defaults."""
    text = BASE.replace("name: t", "name: t\nstart: '2005-01-06T21:55:00+01:00'")
    text = text.replace("address: 10.0.0.2", "address: 10.0.0.2\n    clock: {offset: -30s}")
    scenario = load_scenario_text(text, "x.yaml")
    assert scenario.start == datetime(2005, 1, 6, 20, 55, tzinfo=UTC)
    assert scenario.seed == 0
    assert scenario.source is None
    assert scenario.routers[1].clock.offset == -30.0
    assert scenario.links[0].latency == m.DEFAULT_LATENCY
    assert scenario.events == () and scenario.expectations == ()
    assert load_scenario_text(BASE, "x.yaml").start == m.DEFAULT_START


def test_yaml_traps_are_defused() -> None:
    """A router named `no`, an answer `yes`, or `0123` would be turned by YAML into false, true
    or a number, breaking the scenario."""
    text = BASE.replace("  r2:", "  no:").replace("[r1, r2]", "[r1, no]")
    text += "events:\n  - {at: 1m, router: no, cli: [enable], input: [yes, 0123, '']}\n"
    scenario = load_scenario_text(text, "x.yaml")
    assert [r.name for r in scenario.routers] == ["r1", "no"]
    assert scenario.events[0] == m.CliEvent(60.0, "no", ("enable",), ("yes", "0123", ""), 12)


# -- errors: each names the file, the line and the problem -------------------------------


@pytest.mark.parametrize(
    ("fixture", "prefix", "phrase"),
    [
        (
            "bad_unknown_key.yaml",
            13,
            "events[0]: unknown key 'lnk_down'; did you mean 'link_down'?",
        ),
        ("bad_address.yaml", 8, "routers.r2.address: '10.0.0.300' is not an IPv4 address"),
        ("bad_link_router.yaml", 13, "links[1]: unknown router 'r9'"),
        ("bad_duration.yaml", 3, "duration: '10 minutes' is not a duration (use e.g. 90s"),
        ("bad_yaml.yaml", 9, "YAML syntax error: this line is not indented like"),
        ("empty.yaml", 1, "the file is empty"),
        ("bad_top_level.yaml", 1, "the top level must be a mapping"),
        ("no_such_file.yaml", 1, "no such file"),
    ],
)
def test_fixture_errors(fixture: str, prefix: int, phrase: str) -> None:
    """A broken scenario file (typo, bad address, bad YAML, empty, missing) would not get a
    `file:line:` message saying what is wrong."""
    path = FIXTURES / fixture
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    error = info.value
    assert str(error).startswith(f"{path}:{prefix}: ")
    assert phrase in str(error)
    assert (error.file, error.line) == (str(path), prefix)
    assert str(error) == f"{error.file}:{error.line}: {error.message}"


CASES = [
    # (appended to / edit of BASE, line, key phrase)
    (
        BASE.replace("10.0.0.2", "10.0.0.1"),
        8,
        "routers.r2.address: 10.0.0.1 is already the address of router r1",
    ),
    (BASE.replace("[r1, r2]", "[r1, r1]"), 10, "links[0]: a link needs two different routers"),
    (BASE + "  - endpoints: [r2, r1]\n", 11, "links[1]: duplicate link between r2 and r1"),
    (
        BASE + "events:\n  - {at: 11m, router: r1, reload: true}\n",
        12,
        "events[0].at: 11m is after the end of the run (duration: 10m)",
    ),
    (
        BASE + "events:\n  - {at: 1m, router: r1, reload: true, input: [a]}\n",
        12,
        "'input' (answers to prompts) is only allowed with 'cli'",
    ),
    (
        BASE + "events:\n  - {at: 1m, router: r1, reload: true, power: off}\n",
        12,
        "needs exactly one action, one of: cli, link_down",
    ),
    (BASE + "events:\n  - {at: 1m, router: r1}\n", 12, "(found: none)"),
    (
        BASE + "events:\n  - at: 1m\n    router: r3\n    reload: true\n",
        13,
        "events[0]: unknown router 'r3'",
    ),
    (BASE + "events:\n  - {at: 1m, router: r1, link_down: [r1, r2]}\n", 12, "remove 'router'"),
    (
        BASE + "events:\n  - {at: 1m, link_up: [r2, r1]}\n  - {at: 1m, link_up: [r1, r3]}\n",
        13,
        "events[1]: unknown router 'r3'",
    ),
    (
        BASE + "events:\n  - {at: 1m, router: r1, http_server: enable}\n",
        12,
        "events[0].http_server: 'enable' must be on or off",
    ),
    (
        BASE + "events:\n  - {at: 5, router: r1, clock_jump: 5 mins}\n",
        12,
        "events[0].clock_jump: '5 mins' is not a duration",
    ),
    (
        BASE + "events:\n  - {at: -5, router: r1, reload: true}\n",
        12,
        "events[0].at: -5 must not be negative",
    ),
    (
        BASE + "expect:\n  - {router: r1, server_state: enbled}\n",
        12,
        "expect[0].server_state: 'enbled' is not a certificate server state",
    ),
    (
        BASE + "expect:\n  - {router: r7, server_state: enabled}\n",
        12,
        "expect[0]: unknown router 'r7'",
    ),
    (
        BASE + "expect:\n  - {router: r1, show: show clock}\n",
        12,
        "a 'show' check needs 'contains' or 'not_contains'",
    ),
    (
        BASE + "expect:\n  - {router: r1, server_state: enabled, at: 1h}\n",
        12,
        "expect[0].at: 1h is after the end of the run",
    ),
    (
        BASE + "expect:\n  - router: r1\n    transcript_contains: x\n    nvram_file: y\n",
        12,
        "needs exactly one check",
    ),
    (BASE + "duration: 5m\n", 11, "duration: duplicate key 'duration' (first given on line 3)"),
    (BASE + "expects: []\n", 11, "unknown key 'expects'; did you mean 'expect'?"),
    (BASE + "seed: abc\n", 11, "seed: expected a whole number, got the text 'abc'"),
    (BASE + "---\nname: x\n", 11, "more than one YAML document"),
    (BASE + "events:\n\t- at: 1m\n", 12, "indent with spaces, not tabs"),
    (BASE + "seed: !!python/object:os.system 1\n", 11, "unsupported YAML tag"),
    (BASE.replace("duration: 10m", "duration: 0"), 3, "duration: must be longer than 0s"),
    (BASE.replace("name: t", "name: Root CA"), 1, "'Root CA' is not a valid scenario name"),
    (BASE.replace("  r2:", "  2r:"), 7, "routers: '2r' is not a valid router name"),
    (BASE.replace("  r2:", "  R1:"), 7, "must differ in more than letter case"),
    (
        BASE.replace("address: 10.0.0.2", "adress: 10.0.0.2"),
        8,
        "routers.r2: unknown key 'adress'; did you mean 'address'?",
    ),
    (BASE.replace("address: 10.0.0.2", ""), 7, "routers.r2: expected a mapping, got nothing"),
    (BASE.replace("[r1, r2]", "[r1, r2, r1]"), 10, "must be a list of two router names"),
    (
        BASE.replace("[r1, r2]", "[r1, r2]\n    loss: 1.5"),
        11,
        "1.5 is too large (must be at most 1)",
    ),
    (with_r1("release: 12.4(4)T"), 7, "'12.4(4)T' is not a supported release"),
    (
        with_r1("clock: {value: 2005-02-30}"),
        7,
        "routers.r1.clock.value: '2005-02-30' is not a valid value (day is out of range",
    ),
    (
        with_r1("clock: {value: 2005-01-06, offset: 1m}"),
        7,
        "give either 'value' or 'offset', not both",
    ),
    (
        with_r1("clock: {set: no, authoritative: yes}"),
        7,
        "a clock that is not set cannot be authoritative",
    ),
    (BASE + "golden:\n  transcripts: [r1, r3]\n", 12,
     "golden.transcripts[1]: unknown router 'r3' (routers are: r1, r2)"),
    (
        BASE + "golden:\n  show:\n    - {router: r9, command: show clock}\n",
        13,
        "golden.show[0].router: unknown router 'r9'",
    ),
    (BASE + "golden:\n  transcript: [r1]\n", 12,
     "golden: unknown key 'transcript'; did you mean 'transcripts'?"),
    (
        BASE + "golden:\n  show:\n    - {router: r1, command: show clock}\n"
        "    - {router: r1, command: 'show  clock'}\n",
        14,
        "golden.show[1]: r1: 'show clock' is given twice (first on line 13)",
    ),
    (BASE + "golden:\n  show:\n    - {router: r1}\n", 13, "missing required key 'command'"),
    (BASE + "golden: {}\n", 11, "golden: must have at least 1 entry"),
    ("name: t\ndescription: d\nduration: 1m\n", 1, "missing required key 'routers'"),
    ("seed: 1\n", 1, "missing required keys 'name', 'description', 'duration', 'routers'"),
]


@pytest.mark.parametrize(("text", "line", "phrase"), CASES)
def test_error_names_line_and_problem(text: str, line: int, phrase: str) -> None:
    """A mistake in a scenario file would give a traceback or schema jargon instead of the file
    line and a plain message."""
    error = error_of(text)
    assert str(error).startswith(f"x.yaml:{line}: "), str(error)
    assert phrase in error.message, str(error)
    assert "Traceback" not in str(error) and "is not valid under" not in str(error)


def test_error_for_a_directory(tmp_path: Path) -> None:
    """Passing a folder instead of a scenario file would crash instead of saying it is a
    directory."""
    with pytest.raises(ScenarioError, match=r":1: is a directory"):
        load_scenario(tmp_path)


def test_an_endless_file_is_not_read_to_its_end() -> None:
    """Pointing pkilab at an endless file like /dev/zero would hang instead of saying the file is
    too large."""
    with pytest.raises(ScenarioError, match=r"^/dev/zero:1: the file is larger than 8 MB"):
        load_scenario("/dev/zero")


def test_error_for_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    """A scenario file saved in Latin-1 would crash instead of saying at which line it is not
    UTF-8."""
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: t\ndescription: caf\xe9\n")
    with pytest.raises(ScenarioError, match=r"latin1.yaml:2: the file is not UTF-8"):
        load_scenario(path)


def test_error_for_alias_bombs() -> None:
    """A small file with nested YAML aliases could eat all memory instead of being refused with a
    clear message."""
    rows = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for prev, name in zip("abcde", "bcdef", strict=True):
        rows.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    message = error_of("\n".join(rows) + "\n").message
    assert "expands to more than 100,000 values" in message
    assert "one value per character" in message


def test_a_large_file_without_aliases_is_not_taken_for_an_alias_bomb() -> None:
    """A generated 10,000-router lab holds more than 100,000 values and must load: the
    bound only has to stop what aliases expand (one value per character of the file)."""
    text = "x-values: [" + ",".join(["0"] * 101_000) + "]\n"
    data, _lines = read_yaml(text)
    assert len(data["x-values"]) == 101_000



# -- the schema --------------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12() -> None:
    """Editors would fail to load pkilab's JSON schema for scenario files."""
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_accepts_the_valid_example_as_plain_yaml() -> None:
    # What an editor sees: PyYAML's own types, with timestamps as strings (as in JSON).
    """An editor using the schema would underline parts of a valid scenario file as errors."""
    data = yaml.safe_load(VALID.read_text())
    data = json.loads(json.dumps(data, default=lambda v: v.isoformat()))
    data["events"][0]["input"] = ["cisco123", "cisco123", "yes"]  # YAML 1.1 read `yes` as True
    errors = list(jsonschema.Draft202012Validator(load_schema()).iter_errors(data))
    assert errors == []


def test_schema_rejects_typos_everywhere() -> None:
    """An editor using the schema would not flag a misspelt key somewhere in a scenario file."""
    def closed(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "propertyNames" not in node:
                assert node.get("additionalProperties") is False, node
            for value in node.values():
                closed(value)
        elif isinstance(node, list):
            for value in node:
                closed(value)

    closed(load_schema())


def test_schema_states_match_the_fsm() -> None:
    """The schema would offer server states or releases that pkilab does not know, or miss ones
    it does."""
    enum = load_schema()["$defs"]["expectation"]["properties"]["server_state"]["enum"]
    assert enum == [state.value for state in CsState]
    schema = load_schema()
    assert schema["$defs"]["release"]["enum"] == list(m.SUPPORTED_RELEASES)
    release = {"$ref": "#/$defs/release"}
    assert schema["properties"]["release"].items() >= release.items()
    assert schema["$defs"]["router"]["properties"]["release"].items() >= release.items()


def test_load_schema_returns_a_fresh_copy() -> None:
    """A caller changing the loaded schema would corrupt it for every later use in the same
    process."""
    load_schema()["properties"].clear()
    assert "routers" in load_schema()["properties"]


# -- durations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (0, 0.0),
        (90, 90.0),
        (1.5, 1.5),
        ("90", 90.0),
        ("250ms", 0.25),
        ("100ms", 0.1),
        ("90s", 90.0),
        ("10m", 600.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("1w", 604800.0),
        ("1h30m", 5400.0),
        ("1h 30m 15s", 5415.0),
        ("1.5h", 5400.0),
        (".5s", 0.5),
        ("1m0.5s", 60.5),
        ("+5s", 5.0),
        (" 10 m ", 600.0),
    ],
)
def test_parse_duration(value: object, seconds: float) -> None:
    """A duration written as `90s`, `1h30m`, `250ms` or a plain number would be read as a
    different length."""
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(("value", "seconds"), [("-30m", -1800.0), (-5, -5.0), ("-1h30m", -5400.0)])
def test_parse_negative_duration_when_allowed(value: object, seconds: float) -> None:
    """A negative duration would be refused where it makes sense (a backwards clock jump) or
    accepted where it does not."""
    assert parse_duration(value, allow_negative=True) == seconds
    with pytest.raises(ValueError, match="must not be negative"):
        parse_duration(value)


@pytest.mark.parametrize(
    "value",
    [
        "10 minutes",
        "10M",
        "10min",
        "1h30",
        "m",
        "",
        "s10",
        "1e3s",
        "--5s",
        True,
        None,
        [1],
        float("nan"),
        float("inf"),
    ],
)
def test_parse_duration_rejects(value: object) -> None:
    """A malformed duration such as `10 minutes` or `10M` would be read as something instead of
    refused with an example of the right form."""
    with pytest.raises(ValueError, match=r"is not a duration \(use e\.g\. 90s, 10m, 2h\)"):
        parse_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.25, "250ms"),
        (1.5, "1.5s"),
        (90, "1m30s"),
        (600, "10m"),
        (5400, "1h30m"),
        (93784, "1d2h3m4s"),
        (60.5, "1m0.5s"),
        (-1800, "-30m"),
        (0.0001, "0.0001s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    """Durations would be printed in messages and reports in a form that is hard to read or does
    not read back to the same value."""
    assert format_duration(seconds) == text
    assert parse_duration(text, allow_negative=True) == pytest.approx(seconds)


def test_schema_duration_pattern_agrees_with_parser() -> None:
    """The editor schema and pkilab would disagree on which durations are valid."""
    defs = load_schema()["$defs"]
    validator = jsonschema.Draft202012Validator(defs["signedDuration"])
    for text in ["1h30m", "250ms", "-30m", "90", " 10 m ", ".5s"]:
        parse_duration(text, allow_negative=True)
        assert validator.is_valid(text), text
    for text in ["10 minutes", "10M", "1h30", "", "--5s"]:
        assert not validator.is_valid(text), text


def test_an_empty_list_item_is_an_error_not_a_crash() -> None:
    """A bare `-` in a scenario list would crash instead of giving an error at its line."""
    text = ("name: x\ndescription: d\nduration: 1m\nrouters:\n"
            "  r1: {address: 10.0.0.1}\nexpect:\n  -\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "empty-item.yaml")
    assert str(caught.value).startswith("empty-item.yaml:7: ")


# -- hostile files: every one is a ScenarioError at a line, never a crash -----------------
# (issue 8: a NUL gave a yaml.reader.ReaderError traceback, `at: 1.0e+308` an OverflowError,
# and `duration: 99999999999w` validated and then ran for ever)

CONTROL_CHARACTERS = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + [
    "\x7f", "\x80", "\x9b", "\ufffe", "\uffff"]


@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_a_control_character_is_named_at_its_line_and_column(char: str) -> None:
    """An invisible control character in a scenario file would crash or not be pointed to by
    line, column and code point."""
    error = error_of(BASE.replace("description: d", f"description: d{char}x"))
    assert str(error).startswith("x.yaml:2: column 15: ")
    assert f"U+{ord(char):04X}" in error.message
    assert "cannot appear in a scenario file" in error.message


def test_a_nul_byte_in_a_file_is_an_error_naming_it(tmp_path: Path) -> None:
    """A NUL byte in a scenario file would give a YAML traceback instead of a message naming its
    line and column."""
    path = tmp_path / "f.yaml"
    path.write_bytes(b"name: x\x00\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == (
        f"{path}:1: column 8: the control character U+0000 (NUL) cannot appear in a "
        "scenario file (YAML allows tabs, line breaks and printable characters only)")


@pytest.mark.parametrize("escape", ["\\0", "\\x1b[31m", "\\ud800", "\\x7f", "\\e"])
def test_a_control_character_written_as_an_escape_is_refused(escape: str) -> None:
    """A control character written as a YAML escape in a CLI line would be typed into a router's
    console instead of refused."""
    text = BASE + f'events:\n  - {{at: 1m, router: r1, cli: "show{escape} clock"}}\n'
    error = error_of(text)
    assert str(error).startswith("x.yaml:12: events[0].cli: ")
    assert "(written as an escape) cannot appear in a scenario value" in error.message


def test_an_escaped_control_character_in_a_key_is_refused() -> None:
    """A control character written as an escape in a key would be accepted instead of refused at
    its line."""
    error = error_of(BASE + '"x-\\0": 1\n')
    assert str(error).startswith("x.yaml:11: ") and "U+0000 (NUL)" in error.message


@pytest.mark.parametrize(
    ("at", "phrase"),
    [
        ("1.0e+308", "1e+308 is too long: the longest duration pkilab simulates is 3650d"),
        ("1" + "0" * 400, "is too long: the longest duration pkilab simulates is 3650d"),
        ("'1" + "0" * 400 + "s'", "is too long"),
        (".inf", "inf is not a duration"),
        ("3650d1ms", "'3650d1ms' is too long"),
    ],
)
def test_huge_event_times_are_errors_not_overflows(at: str, phrase: str) -> None:
    """A huge event time like `1.0e+308` would crash with an overflow, or echo 400 digits back,
    instead of a short error."""
    error = error_of(BASE + f"events:\n  - {{at: {at}, router: r1, reload: true}}\n")
    assert str(error).startswith("x.yaml:12: events[0].at: "), str(error)
    assert phrase in error.message
    assert len(error.message) < 200  # 400 digits are elided, not echoed


def test_a_run_that_would_never_end_is_refused() -> None:
    """A scenario with `duration: 99999999999w` would run for ever instead of being refused as
    longer than ten years."""
    error = error_of(BASE.replace("duration: 10m", "duration: 99999999999w"))
    assert str(error) == ("x.yaml:3: duration: '99999999999w' is too long: the longest "
                          "duration pkilab simulates is 3650d (10 years)")


def test_the_longest_run_is_ten_years() -> None:
    """A ten-year run, the documented maximum, would be refused, or the schema would disagree on
    the limit."""
    scenario = load_scenario_text(BASE.replace("duration: 10m", "duration: 3650d")
                                  + "events:\n  - {at: 3650d, router: r1, reload: true}\n",
                                  "x.yaml")
    assert scenario.duration == scenario.events[0].at == 3650 * 86400
    schema = load_schema()["$defs"]
    assert schema["duration"]["anyOf"][0]["maximum"] == 3650 * 86400
    assert schema["signedDuration"]["anyOf"][0]["minimum"] == -3650 * 86400


@pytest.mark.parametrize(
    "value",
    [10**400, 1e308, "99999999999w", "-3651d", -1e308, "1" + "0" * 1_000_001 + "w"],
    ids=["10**400", "1e308", "99999999999w", "-3651d", "-1e308", "a-million-digits"],
)
def test_parse_duration_bounds_both_signs(value: object) -> None:
    """Very long durations, positive or negative, would crash or hang instead of being refused as
    too long."""
    with pytest.raises(ValueError, match="is too long"):
        parse_duration(value, allow_negative=True)


@pytest.mark.parametrize("seconds", [1e308, -1e308, 5e-324, 2.0**80])
def test_format_duration_takes_any_finite_float(seconds: float) -> None:
    """Printing an extreme duration in an error message would crash."""
    text = format_duration(seconds)
    assert text and text[-1] in "smhdw"


@pytest.mark.parametrize(
    ("edit", "line", "phrase"),
    [
        ("start: '0001-01-01T00:00:00+14:00'", 11, "start: '0001-01-01T00:00:00+14:00' is outside"),
        ("start: 1949-12-31T23:59:59Z", 11, "1950-01-02 to 9899-12-31"),
        ("start: 9999-12-31T23:59:59Z", 11, "is outside 1950-01-02 to 9899-12-31"),
        ("events:\n  - {at: 1m, router: r1, clock_set: '0001-01-01'}", 12,
         "events[0].clock_set: '0001-01-01' is outside"),
    ],
)
def test_timestamps_outside_the_calendar_are_errors(edit: str, line: int, phrase: str) -> None:
    """A start or `clock_set` outside the years pkilab supports would crash instead of being
    refused at its line."""
    error = error_of(BASE + edit + "\n")
    assert str(error).startswith(f"x.yaml:{line}: "), str(error)
    assert phrase in error.message


def test_a_clock_offset_that_leaves_the_calendar_is_refused() -> None:
    """A clock offset that puts a router before 1950 would crash the run instead of being refused
    when loading."""
    text = with_r1("clock: {offset: -3650d}").replace("name: t", "name: t\nstart: 1955-01-01")
    error = error_of(text)
    assert str(error).startswith("x.yaml:6: routers.r1.clock: the clock would start at 1945-")


def test_clock_jumps_that_add_up_beyond_the_calendar_are_refused() -> None:
    """Clock jumps that together push a router's clock past the supported years would crash
    mid-run instead of being refused at the jump that does it."""
    jumps = "".join(f"  - {{at: {n}m, router: r2, clock_jump: 3650d}}\n" for n in range(1, 9))
    text = BASE.replace("name: t", "name: t\nstart: 9850-01-01") + "events:\n" + jumps
    error = error_of(text)
    # Five jumps of 3650 days from 9850 reach 9899-12-18, still inside; the sixth does not.
    assert str(error).startswith("x.yaml:18: r2's clock could reach 9909-12-"), str(error)
    assert "with this jump and those before it" in error.message


def test_drift_counts_towards_where_a_clock_can_go() -> None:
    """A large clock drift that would carry a router past the supported years would crash mid-run
    instead of being refused when loading."""
    text = with_r1("clock: {drift_ppm: 900000}").replace("name: t", "name: t\nstart: 9890-01-01")
    text = text.replace("duration: 10m", "duration: 3000d")
    error = error_of(text)
    assert "the clock could reach 9905-" in error.message
    assert "by the end of the run" in error.message


def test_a_soak_that_would_never_stop_failing_is_refused() -> None:
    """A soak with absurdly small flap times would make a run that never finishes instead of
    being refused."""
    error = error_of(BASE + "soak: {link_flaps: {mtbf: 5.0e-324, mttr: 5.0e-324}, "
                            "quiet_after: 1m}\n")
    assert str(error).startswith("x.yaml:11: soak: these rates would draw infinitely many ")


def test_a_key_that_is_not_a_name_is_quoted_in_messages() -> None:
    """Error messages about keys with spaces or dots would be hard to read because the key is not
    quoted."""
    error = error_of(BASE.replace("  r2:\n", "  r2:\n    ' ': 1\n"))
    assert str(error).startswith("x.yaml:8: routers.r2: unknown key ' '")
    error = error_of(BASE + "x-a: {' a.b': \"\\x01\"}\n")
    assert str(error).startswith("x.yaml:11: x-a[' a.b']: the control character U+0001 ")


def test_a_nan_loss_in_link_change_is_refused() -> None:
    """A `.nan` loss on a link change would be accepted and make packet loss undefined."""
    error = error_of(BASE + "events:\n"
                     "  - {at: 1m, link_change: {endpoints: [r1, r2], loss: .nan}}\n")
    assert str(error).startswith("x.yaml:12: events[0].link_change.loss: nan is not a probability")


@pytest.mark.parametrize(
    "text",
    [
        BASE + "x-deep: " + "[" * 5000 + "]" * 5000 + "\n",
        BASE + "x-deep: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
        BASE + "".join(" " * i + "x-a:\n" for i in range(2000)) + " " * 2000 + "b\n",
    ],
    ids=["flow-lists", "flow-mappings", "block"],
)
def test_deep_nesting_is_refused_without_a_recursion_error(text: str) -> None:
    """A deeply nested scenario file would crash pkilab with a recursion error instead of a clear
    message."""
    assert "values nested more than 64 levels deep" in error_of(text).message


def test_aliases_cannot_nest_deeper_than_the_file_does() -> None:
    """Aliases stacking nesting beyond the limit would crash pkilab instead of giving a clear
    message."""
    rows = ["x-0: &a0 [" + "[" * 40 + "1" + "]" * 40 + "]"]
    rows += [f"x-{n}: &a{n} [" + "[" * 40 + f"*a{n - 1}" + "]" * 40 + "]" for n in range(1, 4)]
    assert "nested more than 64 levels deep (through aliases)" in error_of(
        BASE + "\n".join(rows) + "\n").message


def _peak_megabytes(text: str) -> tuple[str, float]:
    tracemalloc.start()
    try:
        message = error_of(text).message
        return message, tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def test_merge_keys_cannot_grow_tenfold_a_level() -> None:
    """A small file with YAML merge-key tricks could use huge memory before any error is shown."""
    bomb = "{k0: 1, k1: 2}"
    for level in range(12):  # PyYAML alone builds 10**12 entries here
        bomb = "{<<: [" + ", ".join([f"&m{level} " + bomb] + [f"*m{level}"] * 9) + "]}"
    message, peak = _peak_megabytes(BASE + f"x-bomb: {bomb}\nexpects: 1\n")
    assert "unknown key 'expects'" in message  # the bomb itself is harmless: two keys
    assert peak < 50, f"{peak:.0f} MB"


def test_merge_keys_keep_yaml_precedence_and_order() -> None:
    """With `<<:` merges, a router's own keys or the first merged mapping would not win as YAML
    says."""
    text = BASE.replace("routers:", "x-a: &a {address: 10.0.0.9, config: from-a}\n"
                        "x-b: &b {config: from-b, release: 12.3(14)T}\nrouters:")
    text = text.replace("  r2:\n    address: 10.0.0.2",
                        "  r2:\n    <<: [*a, *b]\n    address: 10.0.0.2")
    r2 = load_scenario_text(text, "x.yaml").router("r2")
    assert r2.address == "10.0.0.2"  # the mapping's own key wins over merged ones
    assert r2.config == ("from-a",)  # the earlier merged mapping wins over later ones


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("a: &a {b: 1, <<: *a}\n", "merges a mapping into itself"),
        ("a: &a 1\nb: {<<: *a}\n", "takes a mapping or a list of mappings, not a single value"),
    ],
)
def test_bad_merge_keys_are_errors(text: str, phrase: str) -> None:
    """A merge into itself or a merge of a plain value would crash or be accepted instead of
    being refused."""
    assert phrase in error_of(text).message


def test_a_scenario_name_is_at_most_100_characters() -> None:
    """An overlong scenario name would be accepted and make unusable folder names, or a
    100-character one would be refused."""
    assert load_scenario_text(BASE.replace("name: t", "name: " + "t" * 100), "x.yaml")
    error = error_of(BASE.replace("name: t", "name: " + "t" * 101))
    assert str(error).startswith("x.yaml:1: name: ") and "at most 100 characters" in error.message


MATRIX = BASE + "matrix:\n  a: [x, y]\nevents:\n  - {at: 1m, router: r1, cli: 'show ${a}'}\n"


def test_a_matrix_run_id_that_cannot_name_a_folder_is_refused() -> None:
    """A matrix value so long that its run folder cannot be created would fail at write time
    instead of when loading."""
    error = error_of(MATRIX.replace("[x, y]", "[x, " + "y" * 300 + "]"))
    assert str(error).startswith("x.yaml:11: matrix: a run id (axis=value,...) could be 302 ")


def test_placeholders_cannot_expand_a_small_file_to_gigabytes() -> None:
    """A small matrix file using placeholders and aliases could expand to gigabytes and use all
    memory."""
    text = MATRIX.replace("[x, y]", "[" + "y" * 190 + ", x]")  # 20,000 x 190 x 100 characters
    text += "x-big: &big \"" + "${a}" * 20_000 + "\"\nx-many: [" + ", ".join(["*big"] * 100) + "]\n"
    message, peak = _peak_megabytes(text)
    assert "placeholders make this run more than 200000 characters longer" in message
    assert peak < 100, f"{peak:.0f} MB"


def test_a_matrix_cannot_multiply_a_big_file_past_a_million_values() -> None:
    """A large file with a 256-run matrix would be loaded in full for every run instead of being
    refused."""
    events = "".join(f"  - {{at: {n}s, router: r1, cli: show clock}}\n" for n in range(1, 1000))
    text = MATRIX.replace("[x, y]", "[" + ", ".join(f"v{n}" for n in range(256)) + "]") + events
    error = error_of(text)
    assert str(error).startswith("x.yaml:11: matrix: 256 runs of a file of ")
    assert "at most 1000000" in error.message


def test_a_matrix_of_soaks_cannot_hold_millions_of_events() -> None:
    """A matrix of long soak runs would build millions of events and stall instead of being
    refused."""
    text = BASE.replace("duration: 10m", "duration: 3650d") + (
        "soak:\n  link_flaps: {mtbf: 9h, mttr: 1m}\n"
        "matrix:\n  a: [" + ", ".join(f"v{n}" for n in range(64)) + "]\n")
    error = error_of(text)
    assert str(error).startswith("x.yaml:13: matrix: the runs of this file hold more than 200000 ")


def test_libyaml_and_pyyaml_read_every_shipped_file_alike(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """Loading with libyaml (the fast path) would read a shipped scenario differently from
    PyYAML: other values, other line numbers in error messages, or a matrix value's text
    (`on` vs true) lost."""
    if yaml_lines._LIBYAML_PARSER is None:
        pytest.skip("this PyYAML has no libyaml")
    files = sorted((Path(__file__).parent.parent / "scenarios").rglob("*.yaml"))
    fast = [yaml_lines.read_yaml_document(path.read_text()) for path in files]
    monkeypatch.setattr(yaml_lines, "_LIBYAML_PARSER", None)
    slow = [yaml_lines.read_yaml_document(path.read_text()) for path in files]
    assert len(files) > 40
    for path, one, other in zip(files, fast, slow, strict=True):
        assert (one.data, one.lines, one.plain) == (other.data, other.lines, other.plain), path


def test_the_compiled_validator_accepts_nothing_jsonschema_refuses() -> None:
    """A big scenario file is checked by a compiled validator first; if it accepted a file
    the schema refuses, a big file with a mistake would run instead of failing with the
    line and what is wrong."""
    checked = refused = 0
    sources = shipped_sources(Path(__file__).parent.parent / "scenarios")
    for mutant in mutants(sources, 5, 600):
        try:
            document = read_yaml_document(mutant.data.decode("utf-8"))
            variants = expand(document, Errors("x.yaml", document.lines))
        except (UnicodeDecodeError, YamlError, ScenarioError):
            continue
        for variant in variants[:3]:
            try:
                _fast_validator()(variant.data)
            except Exception:  # noqa: BLE001 - refused or unreadable: jsonschema decides
                refused += 1
                continue
            checked += 1
            assert not list(_validator().iter_errors(variant.data)), mutant.name
    assert checked > 50 and refused > 50
