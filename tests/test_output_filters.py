"""IOS output modifiers on show commands (`show ... | include|exclude|begin|section REGEX`)
as a console user meets them: on a running certificate server's real output, with IOS's
errors for a bad modifier, `?` help and Tab after the pipe, and `do show` in config."""

from __future__ import annotations

import re

import pytest

from sim.lab import Lab
from sim.router.cli_help import help_for
from sim.router.console import Mode
from sim.scenario.loader import load_scenario_text
from sim.scenario.runner import run_scenario

ENABLE_CA = """
    enable
    configure terminal
    crypto pki server ca
    grant auto
    no shutdown
    end
"""


@pytest.fixture(scope="module")
def lab() -> Lab:
    """One router running an enabled certificate server `ca`, at its EXEC prompt."""
    lab = Lab(seed=7)
    lab.add_router("ca", "10.0.0.1", "ip http server")
    out = lab.type("ca", ENABLE_CA, answers=["cisco123", "cisco123"])
    assert "% Certificate Server enabled." in out
    return lab


def output(lab: Lab, line: str) -> list[str]:
    """What the console prints for one typed EXEC line, without its echo."""
    typed = lab.type("ca", line)
    assert typed[0] == "ca#" + line
    return typed[1:]


def test_include_keeps_only_matching_lines_case_sensitively(lab: Lab) -> None:
    """`show ... | include REGEX` would keep the wrong lines, e.g. ignore case or miss an
    alternation."""
    assert output(lab, "show running-config | include ^crypto") == [
        "crypto pki trustpoint ca",
        "crypto pki certificate chain ca",
        "crypto pki server ca",
    ]
    assert output(lab, "show running-config | include CRYPTO") == []
    # Anywhere in the line, and an ERE with alternation and a space in it.
    assert output(lab, "show crypto pki server | include Granting|Issuer name") == [
        "  Issuer name: CN=ca",
        "  Granting mode is: auto",
    ]


def test_exclude_drops_matching_lines_and_keeps_the_rest_in_order(lab: Lab) -> None:
    """`show crypto pki server | exclude` would drop the wrong lines or reorder the rest."""
    full = output(lab, "show crypto pki server")
    kept = output(lab, "show crypto pki server | exclude timer")
    assert kept == [line for line in full if "timer" not in line]
    assert len(kept) < len(full)


def test_begin_starts_at_the_first_matching_line(lab: Lab) -> None:
    """`show crypto pki server | begin` would start at the wrong line, or print something when
    nothing matches."""
    full = output(lab, "show crypto pki server")
    start = next(i for i, line in enumerate(full) if "Granting" in line)
    assert output(lab, "show crypto pki server | begin Granting") == full[start:]
    assert output(lab, "show crypto pki server | begin no such text") == []


def test_section_prints_each_matching_block_with_its_indented_lines(lab: Lab) -> None:
    """`show running-config | section` would lose the indented lines under a matching block or
    print unrelated ones."""
    shown = output(lab, "show running-config | section crypto pki")
    assert shown[:3] == ["crypto pki trustpoint ca", " revocation-check crl", " rsakeypair ca"]
    chain = shown.index("crypto pki certificate chain ca")
    assert shown[chain + 1] == " certificate ca 01"
    assert shown[-3:] == ["  quit", "crypto pki server ca", " grant auto"]
    assert all(line.startswith((" ", "crypto pki")) for line in shown)
    assert "ip http server" not in shown and "!" not in shown
    assert output(lab, "show running-config | section server") == [
        "crypto pki server ca", " grant auto", "ip http server"]


@pytest.mark.parametrize(("short", "full"), [
    ("i", "include"), ("inc", "include"), ("e", "exclude"), ("ex", "exclude"),
    ("b", "begin"), ("beg", "begin"), ("s", "section"), ("sec", "section"),
    ("INCLUDE", "include"),
])
def test_filter_keywords_abbreviate_as_ios_keywords_do(lab: Lab, short: str, full: str) -> None:
    """Abbreviations like `| i` or `| sec` that work on IOS would be rejected."""
    assert output(lab, f"sh run | {short} pki") == output(lab, f"show running-config | {full} pki")


def test_ios_underscore_matches_a_space_or_the_line_edges(lab: Lab) -> None:
    """IOS's `_` in a filter regex would not match a space or line edge as it does on a router."""
    assert output(lab, "show running-config | include server_ca_") == ["crypto pki server ca"]
    assert output(lab, r"show running-config | include server\_ca") == []


def test_the_filter_ends_with_its_command(lab: Lab) -> None:
    """A `| include` filter would carry over and hide the output of the next show command."""
    typed = lab.type("ca", ["show clock | include no such text", "show clock"])
    assert typed[0] == "ca#show clock | include no such text"
    assert typed[1] == "ca#show clock"
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} UTC \w+ \w+ \d+ \d{4}", typed[2])


@pytest.mark.parametrize(("line", "caret_under"), [
    ("show clock |", "|"),
    ("show clock | foo bar", "foo"),
    ("show running-config | count crypto", "count"),
    ("show clock|include UTC", "clock|include"),
])
def test_a_bad_modifier_is_invalid_input_with_the_caret_under_it(
        lab: Lab, line: str, caret_under: str) -> None:
    """A bad `|` modifier would not give IOS's `% Invalid input` with the `^` under the bad word."""
    shown = output(lab, line)
    assert shown == [" " * len("ca#") + " " * line.index(caret_under) + "^",
                     "% Invalid input detected at '^' marker."]


def test_a_modifier_without_its_expression_is_incomplete(lab: Lab) -> None:
    """`show clock | include` with no regex would not print `% Incomplete command.`."""
    assert output(lab, "show clock | include") == ["% Incomplete command."]
    assert output(lab, "show clock | s") == ["% Incomplete command."]


def test_an_expression_that_does_not_compile_is_refused_and_nothing_runs(lab: Lab) -> None:
    """A filter regex that does not compile would crash or print the show output instead of `%
    Invalid regular expression`."""
    shown = output(lab, "show running-config | include crypto (pki")
    assert len(shown) == 1
    assert shown[0].startswith('% Invalid regular expression "crypto (pki": missing )')


def test_a_pipe_is_only_a_modifier_after_a_show_command(lab: Lab) -> None:
    """A `|` inside a configuration value such as a subject-name would be cut off as a filter, or
    `write | ...` would be accepted."""
    typed = lab.type("ca", ["configure terminal", "crypto pki trustpoint tp",
                            "subject-name CN=a | b", "end"])
    assert not any(line.startswith(("%", " ")) for line in typed if "CONFIG_I" not in line)
    assert output(lab, "show running-config | include subject-name") == [
        " subject-name CN=a | b"]
    typed = lab.type("ca", ["configure terminal", "no crypto pki trustpoint tp", "end"])
    assert output(lab, "write | include x")[:2] == [" " * len("ca#write ") + "^",
                                                     "% Invalid input detected at '^' marker."]


def test_do_show_with_a_modifier_in_configuration_modes(lab: Lab) -> None:
    """`do show ... | include` in config modes would not filter, or a bad modifier there would
    not give IOS's caret error."""
    typed = lab.type("ca", ["configure terminal", "crypto pki server ca",
                            "do show running-config | include ^crypto pki server",
                            "do show clock | frobnicate", "end"])
    good = typed.index("ca(cs-server)#do show running-config | include ^crypto pki server")
    assert typed[good + 1] == "crypto pki server ca"
    bad = "ca(cs-server)#do show clock | frobnicate"
    assert typed[good + 2:good + 5] == [bad, " " * bad.index("frobnicate") + "^",
                                        "% Invalid input detected at '^' marker."]
    assert typed[good + 5] == "ca(cs-server)#end"


def test_user_exec_show_takes_a_modifier_too(lab: Lab) -> None:
    """A show with a filter at the `>` prompt would be refused or print the filtered-out lines."""
    typed = lab.type("ca", ["disable", "show clock | exclude UTC", "enable"])
    assert typed == ["ca#disable", "ca>show clock | exclude UTC", "ca>enable"]


def test_an_observer_show_is_filtered_as_the_console_is(lab: Lab) -> None:
    """A filtered show run by the lab for checking would print differently from the same command
    typed at the console."""
    assert lab.show("ca", "show running-config | section crypto pki server") == [
        "crypto pki server ca", " grant auto"]
    assert lab.show("ca", "show crypto pki server | include Status") == [
        "  Status: enabled"]


def screen(mode: Mode, typed: str) -> list[str]:
    prompt = "ca" + mode.value
    shown = help_for(mode).help(typed)
    return [prompt + typed + "?", *shown.lines, prompt + shown.redisplay]


def test_question_mark_after_a_show_command_offers_the_pipe() -> None:
    """`show clock ?` would not list `|  Output modifiers`, or would list it after commands that
    are not shows."""
    assert screen(Mode.EXEC, "show clock ") == [
        "ca#show clock ?", "  detail  Display detailed information", "  |       Output modifiers",
        "  <cr>", "", "ca#show clock "]
    assert screen(Mode.EXEC, "show clock |") == ["ca#show clock |?", "|", "", "ca#show clock |"]
    # Not after a command that is not a show command.
    assert "|" not in {e.shown for e in help_for(Mode.EXEC).help("write memory ").entries}


def test_question_mark_after_the_pipe_lists_the_modifiers() -> None:
    """`?` after `|` would not list begin, exclude, include and section as IOS does, or would not
    say `LINE` or `% Unrecognized command`."""
    assert screen(Mode.EXEC, "show running-config | ") == [
        "ca#show running-config | ?",
        "  begin    Begin with the line that matches",
        "  exclude  Exclude lines that match",
        "  include  Include lines that match",
        "  section  Filter a section of output",
        "",
        "ca#show running-config | ",
    ]
    assert screen(Mode.EXEC, "show clock | inc ")[1:3] == ["  LINE  Regular Expression", ""]
    assert screen(Mode.EXEC, "show clock | e")[1:3] == ["exclude", ""]
    assert screen(Mode.CONFIG, "do sh clock | ")[1] == "  begin    Begin with the line that matches"
    assert screen(Mode.EXEC, "show clock | foo ")[1:] == ["% Unrecognized command",
                                                         "ca#show clock | foo "]


def test_tab_completes_a_modifier_keyword() -> None:
    """Tab after `|` would not complete `inc` to `include` and the like."""
    helper = help_for(Mode.EXEC)
    assert helper.complete("show clock | inc").line == "show clock | include "
    assert helper.complete("sh run | s").line == "sh run | section "
    assert help_for(Mode.CONFIG).complete("do show clock | b").line == "do show clock | begin "
    assert helper.complete("show clock |").completed is False


SCENARIO = """
name: filtered-show
description: A show expectation with an output modifier.
seed: 1
start: 2005-01-06T21:00:00Z
duration: 1m
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
    input: [cisco123, cisco123]
expect:
  - router: ca
    show: "show running-config | section crypto pki server"
    contains: ["crypto pki server ca"]
    not_contains: ["ip http server", "hostname"]
  - router: ca
    show: "show crypto pki server | exclude Status"
    contains: ["Status: enabled"]
"""


def test_scenario_show_expectations_take_a_modifier() -> None:
    """A scenario `show:` expectation with `| section` or `| exclude` would check the unfiltered
    output."""
    result = run_scenario(load_scenario_text(SCENARIO, "filtered-show.yaml"))
    section, excluded = result.results
    assert section.passed, section.observed
    # The filter really applied: the line the expectation wants was excluded.
    assert not excluded.passed and excluded.observed == "missing 'Status: enabled'"
