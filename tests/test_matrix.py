"""Fault matrices: expansion, placeholders, `when`, errors with lines, the run cap, and the
shipped matrix file.

Error tests assert the exact `file:line:` prefix and a key phrase, as the loader's do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import model as m
from sim.scenario.loader import (
    ScenarioError,
    load_scenario,
    load_scenario_text,
    load_scenarios,
    load_scenarios_text,
    load_schema,
)
from sim.scenario.replay import VariantError, replay_command, run_folder, select_variants
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parent.parent
MATRIX_FILE = ROOT / "scenarios" / "reachability" / "matrix-enrollment-faults.yaml"

BASE = """\
name: t
description: fault ${fault} with ${grant}
duration: 10m
routers:
  r1:
    address: 10.0.0.1
  r2:
    address: 10.0.0.2
links:
  - endpoints: [r1, r2]
matrix:
  fault: [link-down, dns, http-off]
  grant: [manual, auto]
"""
"""Thirteen lines: a 3 x 2 matrix; whatever a test appends starts on line 14."""

PLAIN = BASE.split("matrix:")[0].replace("fault ${fault} with ${grant}", "plain")
"""The first ten lines of BASE, without placeholders or matrix."""


def runs_of(text: str) -> list[m.Scenario]:
    return load_scenarios_text(text, "x.yaml")


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenarios_text(text, "x.yaml")
    return info.value


# -- expansion -----------------------------------------------------------------------------


def test_cartesian_product_in_file_order_with_readable_ids() -> None:
    """A matrix file would expand to the wrong runs, in a different order, or with variant names
    and filled-in descriptions a suite owner cannot read."""
    runs = runs_of(BASE)
    assert [run.variant for run in runs] == [
        "fault=link-down,grant=manual",
        "fault=link-down,grant=auto",
        "fault=dns,grant=manual",
        "fault=dns,grant=auto",
        "fault=http-off,grant=manual",
        "fault=http-off,grant=auto",
    ]
    first = runs[0]
    assert first.name == "t"
    assert first.full_name == "t[fault=link-down,grant=manual]"
    assert first.axes == (("fault", "link-down"), ("grant", "manual"))
    assert first.description == "fault link-down with manual"
    assert runs[5].description == "fault http-off with auto"


def test_a_plain_file_is_one_run_without_a_variant() -> None:
    """A scenario file without `matrix:` would get a variant suffix in its name or load
    differently from before."""
    (run,) = runs_of(PLAIN)
    assert run.variant == "" and run.axes == () and run.full_name == "t"
    assert load_scenario_text(PLAIN, "x.yaml") == run


def test_load_scenario_refuses_a_matrix_file_and_names_the_alternative() -> None:
    """Loading a matrix file as one scenario would pick a run silently instead of saying it is a
    matrix and pointing to `--variant`."""
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(BASE, "x.yaml")
    assert str(info.value).startswith("x.yaml:11: matrix: this file is a matrix of 6 runs")
    assert "load_scenarios()" in info.value.message and "--variant" in info.value.message


def test_placeholders_take_the_axis_values_type() -> None:
    """A `${axis}` placeholder would fill in a string where a number or true/false belongs, or
    garble CLI text and `$${...}` escapes."""
    text = PLAIN + """\
matrix:
  start: [1m, 90]
  loss: [0, 0.25]
  http: [on, off]
events:
  - {at: "${start}", link_change: {endpoints: [r1, r2], loss: "${loss}"}}
  - {at: "${start}", router: r1, http_server: "${http}"}
  - at: 2m
    router: r1
    cli: "ip http ${http} # loss ${loss} at ${start}, literal $${start}"
    input: ["${http}"]
"""
    runs = runs_of(text)
    assert len(runs) == 8
    change, http, cli = runs[0].events
    assert (change.at, change.loss) == (60.0, 0.0)
    assert isinstance(change.loss, int | float) and http.on is True
    assert cli.lines == ("ip http on # loss 0 at 1m, literal ${start}",)
    assert cli.input == (m.Answer("on"),)  # free text gets the value as written, not YAML's True
    last = runs[-1]
    assert last.variant == "start=90,loss=0.25,http=off"
    assert (last.events[0].at, last.events[0].loss) == (90.0, 0.25)
    assert last.events[1].on is False


def test_when_keeps_items_for_matching_runs_with_their_file_lines() -> None:
    """A `when:` would keep events or expectations in the wrong matrix runs, or their reported
    line numbers would be off."""
    text = BASE + """\
events:
  - {at: 1m, link_down: [r1, r2], when: {fault: link-down}}
  - {at: 2m, router: r1, cli: show clock}
  - {at: 3m, router: r1, cli: grant, when: {fault: [dns, http-off], grant: manual}}
expect:
  - {router: r1, transcript_contains: x, when: {grant: auto}}
  - {router: r2, transcript_contains: y}
"""
    runs = {run.variant: run for run in runs_of(text)}
    link_manual = runs["fault=link-down,grant=manual"]
    assert [(type(e).__name__, e.line) for e in link_manual.events] == [
        ("LinkEvent", 15), ("CliEvent", 16)]
    assert [x.line for x in link_manual.expectations] == [20]
    dns_manual = runs["fault=dns,grant=manual"]
    assert [e.line for e in dns_manual.events] == [16, 17]
    assert [e.line for e in runs["fault=dns,grant=auto"].events] == [16]
    assert [x.line for x in runs["fault=dns,grant=auto"].expectations] == [19, 20]


def test_an_error_in_a_filled_in_value_names_the_run() -> None:
    """An error caused by one matrix value would not say which run it happened in."""
    text = BASE.replace("grant: [manual, auto]", "grant: [manual, auto]\n  start: [1m, 20m]")
    text += "events:\n  - {at: '${start}', router: r1, reload: true}\n"
    error = error_of(text)
    assert str(error).startswith("x.yaml:16: events[0].at: 20m is after the end of the run")
    assert error.message.endswith("(in the matrix run fault=link-down,grant=manual,start=20m)")


def test_an_error_after_when_dropped_items_points_at_the_right_line() -> None:
    """After `when:` drops items, an error would point at the wrong line of the scenario file."""
    text = BASE + """\
events:
  - {at: 1m, router: r1, reload: true, when: {fault: dns}}
  - {at: 1m, router: r9, reload: true}
"""
    error = error_of(text)
    assert str(error).startswith("x.yaml:16: events[0]: unknown router 'r9'")
    assert "matrix run" not in error.message  # the same in every run


def test_a_run_of_the_shipped_matrix_is_picked_by_its_variant() -> None:
    """`--variant` would not pick the run asked for, the replay command or run folder would be
    wrong, or a typo would get no `did you mean`."""
    runs = load_scenarios(MATRIX_FILE)
    assert len(runs) == 12
    (run,) = select_variants(runs, "grant = auto, fault = dns")
    assert run.variant == "fault=dns,grant=auto"
    assert len(select_variants(runs, "fault=dns")) == 2
    assert replay_command(run, 46) == (
        f"pkilab run {MATRIX_FILE} --seed 46 --variant 'fault=dns,grant=auto'")
    assert run_folder(run) == "matrix-enrollment-faults/fault=dns,grant=auto"
    with pytest.raises(VariantError, match=r"unknown axis 'falt'; did you mean 'fault'\?"):
        select_variants(runs, "falt=dns")
    with pytest.raises(VariantError, match=r"'dsn' is not a value of axis fault; did you"):
        select_variants(runs, "fault=dsn")
    with pytest.raises(VariantError, match="expected axis=value pairs"):
        select_variants(runs, "dns")


def test_every_run_of_the_shipped_matrix_meets_its_expectations() -> None:
    """A run of the shipped enrollment-faults matrix would fail one of its own expectations."""
    for run in load_scenarios(MATRIX_FILE):
        result = run_scenario(run)
        failures = [f"line {r.expectation.line}: {r.expectation.describe()}: {r.observed}"
                    for r in result.results if not r.passed]
        assert not failures, f"{run.full_name}\n" + "\n".join(failures)
        assert len(result.results) >= 7


# -- errors ----------------------------------------------------------------------------------


CASES = [
    (BASE + "events:\n  - {at: 1m, router: r1, cli: 'x ${fualt}'}\n", 15,
     "events[0].cli: unknown matrix axis 'fualt' in '${fualt}'; did you mean 'fault'? "
     "(axes: fault, grant)"),
    (BASE + "events:\n  - at: 1m\n    router: r1\n    when: {falt: dns}\n    reload: true\n",
     17, "events[0].when.falt: unknown matrix axis 'falt'; did you mean 'fault'?"),
    (BASE + "expect:\n  - router: r1\n    when:\n      fault: [dns, dsn]\n"
            "    server_state: enabled\n",
     17, "expect[0].when.fault[1]: 'dsn' is not a value of axis fault; did you mean 'dns'? "
         "(values: link-down, dns, http-off)"),
    (BASE + "expect:\n  - {router: r1, server_state: enabled, when: dns}\n", 15,
     "expect[0].when: must map matrix axes to the value or values"),
    (PLAIN + "events:\n  - {at: 1m, router: r1, reload: true, when: {fault: dns}}\n",
     12, "events[0].when: 'when' selects matrix runs, but the file has no 'matrix:'"),
    (BASE.split("matrix:")[0], 2,
     "description: '${fault}' is a matrix placeholder, but the file has no 'matrix:'"),
    (BASE.replace("name: t", "name: t-${fault}"), 1, "name: the name takes no placeholders"),
    (BASE.replace("fault: [", "Fault: ["), 12, "matrix.Fault: 'Fault' is not a valid axis name"),
    (BASE.replace("[manual, auto]", "[]"), 13, "matrix.grant: must be a non-empty list"),
    (BASE.replace("[manual, auto]", "manual"), 13, "matrix.grant: must be a non-empty list"),
    (BASE.replace("[manual, auto]", "[manual, auto, manual]"), 13,
     "matrix.grant[2]: 'manual' is listed twice (first on line 13)"),
    (BASE.replace("[manual, auto]", "[manual, 'a,b']"), 13,
     "matrix.grant[1]: 'a,b' cannot be a matrix value: it holds ','"),
    (BASE.replace("[manual, auto]", "[manual, [a]]"), 13,
     "matrix.grant[1]: a matrix value must be text, a number or true/false, not a list"),
    (BASE.replace("matrix:\n  fault", "matrix: []\nx-old:\n  fault"), 11,
     "matrix: must map each axis name to its list of values"),
    (BASE + "routers2:\n  ${fault}: {address: 10.0.0.3}\n", 15,
     "routers2.${fault}: placeholders are filled in values, not in keys"),
]


@pytest.mark.parametrize(("text", "line", "phrase"), CASES, ids=[c[2][:48] for c in CASES])
def test_error_names_line_and_problem(text: str, line: int, phrase: str) -> None:
    """A mistake in a matrix or `when:` would give a traceback or a message without the file line
    and what is wrong."""
    error = error_of(text)
    assert str(error).startswith(f"x.yaml:{line}: "), str(error)
    assert phrase in error.message, str(error)
    assert "Traceback" not in str(error)


def test_runs_are_capped_at_256() -> None:
    """A matrix of more than 256 runs would be accepted and run for hours, or one of exactly 256
    would be refused."""
    values = ", ".join(f"v{i}" for i in range(17))
    text = BASE.replace("[link-down, dns, http-off]", f"[{values}]").replace(
        "[manual, auto]", "[" + ", ".join(f"g{i}" for i in range(16)) + "]")
    error = error_of(text)
    assert str(error).startswith("x.yaml:11: matrix: 17 x 16 = 272 combinations; "
                                 "at most 256 runs per file")
    exactly = BASE.replace("[link-down, dns, http-off]", f"[{values[:-5]}]").replace(
        "[manual, auto]", "[" + ", ".join(f"g{i}" for i in range(16)) + "]")
    assert len(runs_of(exactly)) == 256


def test_schema_documents_matrix_and_when() -> None:
    """Editors using the JSON schema would flag `matrix:` and `when:` as unknown keys."""
    schema = load_schema()
    assert "matrix" in schema["properties"]
    assert schema["$defs"]["event"]["properties"]["when"] == {"$ref": "#/$defs/when"}
    assert schema["$defs"]["expectation"]["properties"]["when"] == {"$ref": "#/$defs/when"}


def test_load_scenarios_reads_files_and_reports_missing_ones(tmp_path: Path) -> None:
    """Loading a matrix file from disk would fail, or a missing file would not be reported as `no
    such file`."""
    path = tmp_path / "m.yaml"
    path.write_text(BASE)
    runs = load_scenarios(path)
    assert len(runs) == 6 and all(run.source == path for run in runs)
    with pytest.raises(ScenarioError, match=r"m\.yaml:11: matrix: this file is a matrix"):
        load_scenario(path)
    with pytest.raises(ScenarioError, match=r":1: no such file"):
        load_scenarios(tmp_path / "missing.yaml")
