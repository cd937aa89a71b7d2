"""The IOS parser engine as a console user meets it: abbreviations, carets, `no` forms."""

from __future__ import annotations

import pytest

from sim.router.cli_parser import Empty, Grammar, Match, ParseError
from sim.router.commands import command_patterns, grammar_for
from sim.router.console import Mode

EXEC = "Router#"
CONFIG = "Router(config)#"


@pytest.fixture(scope="module")
def exec_mode() -> Grammar:
    g = Grammar()
    g.add("show clock", "show_clock")
    g.add("show crypto pki server [<name:WORD> [requests]]", "show_cs")
    g.add("show running-config", "show_run")
    g.add("configure terminal", "conf_t")
    g.add("write memory", "write_mem")
    g.add("write erase", "write_erase")
    g.add("crypto pki server <name:WORD> {grant|reject|remove} {all|<id:1-2147483647>}", "req_op")
    g.add("clock set <time:HH:MM:SS> <day:1-31> <month:MONTH> <year:1993-2035>", "clock_set")
    g.add("debug crypto pki server", "debug_cs", no_form=True)
    return g


@pytest.fixture(scope="module")
def config_mode() -> Grammar:
    g = Grammar()
    g.add("crypto pki server <name:WORD>", "cs", no_form=True, no_requires_args=True)
    g.add("lifetime crl <hours:0-336> [<minutes:0-59>]", "lifetime_crl", no_form=True)
    g.add("grant {auto|none}", "grant", no_form=True)
    g.add("issuer-name <dn:LINE>", "issuer", no_form=True)
    g.add("ip host <host:WORD> <addr:A.B.C.D>", "ip_host", no_form=True)
    g.add("shutdown", "shutdown", no_form=True)
    g.add("show", "show_in_config")
    g.add("database level {minimum|names|complete}", "db_level", no_form=True)
    g.add("serial-number <first:HEX>", "serial")
    g.add("hostname <name:WORD>", "hostname")
    return g


def match(grammar: Grammar, line: str) -> Match:
    result = grammar.parse(line)
    assert isinstance(result, Match), result
    return result


def error(grammar: Grammar, line: str) -> ParseError:
    result = grammar.parse(line)
    assert isinstance(result, ParseError), result
    return result


# --- abbreviations and keywords --------------------------------------------------------


def test_abbreviated_show_crypto_pki_server_reports_full_keywords(exec_mode: Grammar) -> None:
    """Typing `sh cry pki ser` would not run `show crypto pki server` the way a real router accepts
    it."""
    m = match(exec_mode, "sh cry pki ser")
    assert m.key == "show_cs"
    assert m.keywords == ("show", "crypto", "pki", "server")
    assert m.args == {}
    assert m.negated is False


def test_conf_t_and_wr_mem(exec_mode: Grammar) -> None:
    """The everyday shortcuts `conf t`, `wr mem` and `wr er` would be rejected at the console."""
    assert match(exec_mode, "conf t").key == "conf_t"
    assert match(exec_mode, "wr mem").key == "write_mem"
    assert match(exec_mode, "wr er").keywords == ("write", "erase")


def test_keywords_are_case_insensitive(exec_mode: Grammar) -> None:
    """Commands typed in capitals, such as `SHOW Clock`, would be refused, or a CA name's case would
    be changed."""
    assert match(exec_mode, "SHOW Clock").keywords == ("show", "clock")
    assert match(exec_mode, "Sh CRY Pki SER myCA").args == {"name": "myCA"}


def test_exact_keyword_wins_over_longer_keyword_it_prefixes() -> None:
    """A command typed in full would be reported ambiguous because a longer command starts with the
    same word."""
    g = Grammar()
    g.add("crypto pki cert", "short")
    g.add("crypto pki certificate", "long")
    assert match(g, "crypto pki cert").key == "short"
    assert match(g, "crypto pki certi").key == "long"


def test_keyword_wins_over_word_argument_when_unique_prefix() -> None:
    """`show crypto pki server req` would look up a CA named `req` instead of listing requests, or a
    CA name would be taken as a keyword."""
    g = Grammar()
    g.add("show crypto pki server [<name:WORD>]", "named")
    g.add("show crypto pki server requests", "requests")
    assert match(g, "show crypto pki server req").key == "requests"
    m = match(g, "show crypto pki server CA")
    assert (m.key, m.args) == ("named", {"name": "CA"})


def test_ambiguous_first_word_renders_ios_message(config_mode: Grammar) -> None:
    """An ambiguous first word such as `s` would not print IOS's `% Ambiguous command:  "s"`
    line."""
    err = error(config_mode, "s")
    assert err.kind == "ambiguous"
    assert err.first_token
    assert err.render(CONFIG) == ['% Ambiguous command:  "s"']


def test_ambiguous_later_word_quotes_line_as_typed_without_leading_spaces(
    exec_mode: Grammar,
) -> None:
    """The `% Ambiguous command:` line would quote the command differently from IOS (leading spaces
    kept or inner spacing lost)."""
    err = error(exec_mode, "  show  c")
    assert (err.kind, err.column, err.token) == ("ambiguous", 8, "c")
    assert not err.first_token
    assert err.render(EXEC) == ['% Ambiguous command:  "show  c"']


# --- invalid input and the caret --------------------------------------------------------


def test_invalid_keyword_caret_sits_under_bad_token() -> None:
    """The `^` under a mistyped word and the `% Invalid input detected at '^' marker.` line would
    point at the wrong character."""
    g = Grammar()
    g.add("crypto pki server <name:WORD>", "cs")
    err = error(g, "crypto pki servr x")
    assert (err.kind, err.column, err.token) == ("invalid", 11, "servr")
    lines = err.render(CONFIG)
    assert lines == [
        "                          ^",
        "% Invalid input detected at '^' marker.",
    ]
    typed = CONFIG + "crypto pki servr x"
    assert typed[lines[0].index("^")] == "s"


def test_invalid_caret_counts_leading_spaces(exec_mode: Grammar) -> None:
    """When a command starts with spaces, the `^` marker would sit to the left of the mistyped
    word."""
    err = error(exec_mode, "   show clok")
    assert err.column == 8
    assert err.render(EXEC)[0] == " " * (len(EXEC) + 8) + "^"


def test_unknown_first_word_is_flagged_first_token(exec_mode: Grammar) -> None:
    """An unknown command word would be reported like a bad later word, so the console would not
    react to it as IOS does."""
    err = error(exec_mode, "  frobnicate now")
    assert (err.kind, err.column, err.first_token) == ("invalid", 2, True)


def test_extra_tokens_after_complete_command(exec_mode: Grammar) -> None:
    """A stray word after a complete command (`show clock detail`) would be ignored instead of
    marked with `^` as invalid input."""
    err = error(exec_mode, "show clock detail")
    assert (err.kind, err.column, err.token) == ("invalid", 11, "detail")


def test_extra_token_after_nested_optionals(exec_mode: Grammar) -> None:
    """A stray word after `show crypto pki server CA requests` would be silently ignored instead of
    flagged."""
    err = error(exec_mode, "show crypto pki server CA requests now")
    assert (err.kind, err.token) == ("invalid", "now")


# --- incomplete and empty ---------------------------------------------------------------


def test_incomplete_command(exec_mode: Grammar) -> None:
    """A command cut short such as `show crypto` would not print IOS's `% Incomplete command.`."""
    err = error(exec_mode, "show crypto")
    assert err.kind == "incomplete"
    assert not err.first_token
    assert err.render(EXEC) == ["% Incomplete command."]


def test_incomplete_when_argument_missing(exec_mode: Grammar) -> None:
    """`crypto pki server CA grant` without `all` or an id would not be reported as `% Incomplete
    command.`."""
    assert error(exec_mode, "crypto pki server CA grant").kind == "incomplete"


@pytest.mark.parametrize("line", ["", "   ", "\t", "!", "  ! crypto pki server CA"])
def test_blank_and_comment_lines_are_empty(config_mode: Grammar, line: str) -> None:
    """Blank lines and `!` comment lines pasted into the console or a config would produce error
    messages."""
    assert config_mode.parse(line) == Empty()


# --- optionals and alternatives ---------------------------------------------------------


def test_nested_optionals(exec_mode: Grammar) -> None:
    """`show crypto pki server`, with or without a CA name and `requests`, would be refused or pick
    up the wrong CA name."""
    assert match(exec_mode, "show crypto pki server").args == {}
    m = match(exec_mode, "show crypto pki server CA")
    assert m.args == {"name": "CA"}
    m = match(exec_mode, "show crypto pki server CA requests")
    assert m.args == {"name": "CA"}
    assert m.keywords[-1] == "requests"


def test_alternatives_report_chosen_keyword(exec_mode: Grammar) -> None:
    """`crypto pki server CA rej all` or `remove 42` would act on the wrong operation or request
    id."""
    m = match(exec_mode, "crypto pki server CA rej all")
    assert m.keywords == ("crypto", "pki", "server", "reject", "all")
    assert m.args == {"name": "CA"}
    m = match(exec_mode, "crypto pki server CA remove 42")
    assert m.keywords == ("crypto", "pki", "server", "remove")
    assert m.args == {"name": "CA", "id": 42}


def test_alternative_keyword_ambiguity(exec_mode: Grammar) -> None:
    """`crypto pki server CA re all` would pick reject or remove at random instead of printing `%
    Ambiguous command:`."""
    err = error(exec_mode, "crypto pki server CA re all")
    assert err.kind == "ambiguous"
    assert err.render(EXEC) == ['% Ambiguous command:  "crypto pki server CA re"']


def test_alternative_rejects_out_of_range_id(exec_mode: Grammar) -> None:
    """Granting request id 0 would be accepted instead of marked invalid with `^` under the id."""
    err = error(exec_mode, "crypto pki server CA grant 0")
    assert (err.kind, err.column) == ("invalid", 27)


def test_database_level_choice(config_mode: Grammar) -> None:
    """`database level` would accept an unknown level or refuse the abbreviation `data lev comp`."""
    assert match(config_mode, "data lev comp").keywords == ("database", "level", "complete")
    assert error(config_mode, "database level everything").token == "everything"


# --- argument types ---------------------------------------------------------------------


def test_integer_range_bounds(config_mode: Grammar) -> None:
    """`lifetime crl` would accept hours or minutes out of IOS's range (or non-numbers), or the `^`
    would point at the wrong word."""
    assert match(config_mode, "lifetime crl 0").args == {"hours": 0}
    assert match(config_mode, "lifetime crl 336 59").args == {"hours": 336, "minutes": 59}
    for line, column in [
        ("lifetime crl 337", 13),
        ("lifetime crl 24 60", 16),
        ("lifetime crl -1", 13),
        ("lifetime crl 1x", 13),
        ("lifetime crl 99999999999999999999999", 13),
    ]:
        err = error(config_mode, line)
        assert (err.kind, err.column) == ("invalid", column), line


def test_line_keeps_inner_spacing_and_strips_trailing(config_mode: Grammar) -> None:
    """An `issuer-name` DN would lose its inner spaces or keep trailing blanks, giving the CA
    certificate the wrong subject."""
    m = match(config_mode, "issuer-name CN=sub CA, O=Cisco, C=us")
    assert m.args == {"dn": "CN=sub CA, O=Cisco, C=us"}
    m = match(config_mode, "issuer-name   CN=a  b   \t ")
    assert m.args == {"dn": "CN=a  b"}
    assert error(config_mode, "issuer-name").kind == "incomplete"


def test_ipv4_argument(config_mode: Grammar) -> None:
    """`ip host` would accept a malformed IPv4 address or point the `^` at the wrong word."""
    m = match(config_mode, "ip host ca-server 10.1.1.1")
    assert m.args == {"host": "ca-server", "addr": "10.1.1.1"}
    for bad in ("10.1.1.256", "10.1.1", "10.1.1.1.1", "ten.1.1.1"):
        err = error(config_mode, f"ip host ca {bad}")
        assert (err.kind, err.column) == ("invalid", 11), bad


def test_hex_argument(config_mode: Grammar) -> None:
    """`serial-number` would misread a hex value such as `0x1F` or `ff`, or accept non-hex
    digits."""
    assert match(config_mode, "serial-number 0x1F").args == {"first": 31}
    assert match(config_mode, "serial-number ff").args == {"first": 255}
    assert error(config_mode, "serial-number 0xZZ").column == 14


def test_clock_set_time_day_month_year(exec_mode: Grammar) -> None:
    """`clock set` would accept an impossible time, day or year, set the wrong date, or point the
    `^` at the wrong field."""
    m = match(exec_mode, "clock set 20:57:01 6 jan 2005")
    assert m.args == {"time": (20, 57, 1), "day": 6, "month": 1, "year": 2005}
    assert error(exec_mode, "clock set 24:00:00 6 jan 2005").column == 10
    assert error(exec_mode, "clock set 10:60:00 6 jan 2005").column == 10
    assert error(exec_mode, "clock set 10:00:00 32 jan 2005").column == 19
    assert error(exec_mode, "clock set 10:00:00 6 jan 1992").column == 25


@pytest.mark.parametrize(
    ("typed", "month"),
    [("Ja", 1), ("JUNE", 6), ("jul", 7), ("f", 2), ("mar", 3), ("May", 5), ("d", 12)],
)
def test_month_unique_prefixes(exec_mode: Grammar, typed: str, month: int) -> None:
    """`clock set` would refuse a month abbreviation IOS accepts (such as `Ja` or `d`) or pick the
    wrong month."""
    assert match(exec_mode, f"clock set 10:00:00 1 {typed} 2005").args["month"] == month


@pytest.mark.parametrize("typed", ["J", "Ma", "Ju", "januaryx", "13"])
def test_month_ambiguous_or_unknown_is_invalid(exec_mode: Grammar, typed: str) -> None:
    """`clock set` would accept an ambiguous or unknown month such as `J`, `Ma` or `13`."""
    err = error(exec_mode, f"clock set 10:00:00 1 {typed} 2005")
    assert (err.kind, err.column) == ("invalid", 21)


# --- no forms ---------------------------------------------------------------------------


def test_no_form_without_arguments(config_mode: Grammar) -> None:
    """`no issuer-name`, `no lifetime crl`, `no grant`, `no shut` or `no ip host` typed bare would
    be refused instead of undoing the setting."""
    for line, key in [
        ("no issuer-name", "issuer"),
        ("no lifetime crl", "lifetime_crl"),
        ("no grant", "grant"),
        ("no shut", "shutdown"),
        ("no ip host", "ip_host"),
    ]:
        m = match(config_mode, line)
        assert (m.key, m.negated, m.args) == (key, True, {}), line
    assert match(config_mode, "no lifetime crl").keywords == ("lifetime", "crl")


def test_no_form_with_arguments_still_validates_them(config_mode: Grammar) -> None:
    """A `no` command with bad arguments (such as `no lifetime crl 24 61`) would be accepted instead
    of flagged."""
    m = match(config_mode, "no lifetime crl 24")
    assert (m.args, m.negated) == ({"hours": 24}, True)
    m = match(config_mode, "no grant auto")
    assert m.keywords == ("grant", "auto")
    err = error(config_mode, "no lifetime crl 24 61")
    assert (err.kind, err.column) == ("invalid", 19)
    assert error(config_mode, "no ip host ca 1.2.3").column == 14


def test_no_form_can_require_its_arguments(config_mode: Grammar) -> None:
    """`no crypto pki server` without a name would be accepted instead of reported as `% Incomplete
    command.`."""
    assert error(config_mode, "no crypto pki server").kind == "incomplete"
    m = match(config_mode, "no crypto pki server CA")
    assert (m.key, m.args, m.negated) == ("cs", {"name": "CA"}, True)


def test_no_on_command_without_no_form_is_invalid_after_no(config_mode: Grammar) -> None:
    """`no hostname R1` would be accepted, or the `^` would not sit under `hostname`."""
    err = error(config_mode, "no hostname R1")
    assert (err.kind, err.column, err.token) == ("invalid", 3, "hostname")
    assert err.render(CONFIG)[0] == " " * (len(CONFIG) + 3) + "^"


def test_bare_no_is_incomplete_and_no_is_abbreviable(config_mode: Grammar) -> None:
    """A bare `no` would not say `% Incomplete command.`, or `NO  SHUT extra` would be misparsed."""
    assert error(config_mode, "no").kind == "incomplete"
    assert error(config_mode, "NO  SHUT extra").column == 9


def test_no_in_a_grammar_without_no_forms_is_unknown() -> None:
    """In a mode with no `no` commands, typing `no ...` would be treated as something other than an
    unknown command."""
    g = Grammar()
    g.add("show clock", "show_clock")
    err = error(g, "no show clock")
    assert (err.kind, err.first_token) == ("invalid", True)


def test_no_exact_match_beats_longer_keywords() -> None:
    """`no shutdown` would be reported ambiguous with a command starting with `no`, such as
    `notify`."""
    g = Grammar()
    g.add("shutdown", "shutdown", no_form=True)
    g.add("notify <user:WORD>", "notify")
    assert match(g, "no shutdown").negated
    assert error(g, "n shutdown").kind == "ambiguous"
    assert match(g, "not bob").key == "notify"


def test_positive_form_of_no_form_command_is_not_negated(config_mode: Grammar) -> None:
    """`grant auto` would be applied as if `no` had been typed, or bare `grant` would not be
    incomplete."""
    m = match(config_mode, "grant auto")
    assert (m.key, m.negated, m.keywords) == ("grant", False, ("grant", "auto"))
    assert error(config_mode, "grant").kind == "incomplete"


# --- grammar declaration ----------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        "show [clock",
        "show clock]",
        "grant {auto|none",
        "grant {auto|}",
        "grant {}",
        "show []",
        "clock set <time:HHMM>",
        "lifetime <hours:10-1>",
        "lifetime <hours>",
        "lifetime <:WORD>",
        "issuer-name <dn:LINE> now",
        "ip host <h:WORD> <h:WORD>",
        "show > clock",
        "",
        "no shutdown",
    ],
)
def test_malformed_pattern_raises_naming_it(pattern: str) -> None:
    """A mistake in a command definition would slip through silently instead of failing loudly with
    the pattern named."""
    with pytest.raises(ValueError, match="pattern"):
        Grammar().add(pattern, "key")


def test_same_command_under_two_keys_is_refused_and_grammar_unchanged() -> None:
    """Defining the same command twice would silently replace the first one's behaviour."""
    g = Grammar()
    g.add("show clock", "a")
    with pytest.raises(ValueError, match="show clock"):
        g.add("show clock", "b")
    assert match(g, "show clock").key == "a"


def test_argument_alternatives_share_a_name() -> None:
    """`revoke` would fail to accept either a hex serial or `all`."""
    g = Grammar()
    g.add("revoke {<serial:HEX>|all}", "revoke")
    assert match(g, "revoke 0x10").args == {"serial": 16}
    assert match(g, "revoke all").keywords == ("revoke", "all")


# --- ? help -----------------------------------------------------------------------------


def test_keywords_at_lists_next_words(exec_mode: Grammar) -> None:
    """`?` help at the console would list the wrong next words, argument types or `<cr>`."""
    assert exec_mode.keywords_at("show ") == ["clock", "crypto", "running-config"]
    assert exec_mode.keywords_at("sh cry pki server ") == ["<WORD>", "<cr>"]
    assert exec_mode.keywords_at("crypto pki server CA grant ") == ["all", "<1-2147483647>"]


def test_keywords_at_completes_partial_word(exec_mode: Grammar) -> None:
    """`?` after a partial word such as `show c` would list the wrong completions."""
    assert exec_mode.keywords_at("show c") == ["clock", "crypto"]
    assert exec_mode.keywords_at("w") == ["write"]
    assert exec_mode.keywords_at("show bogus ") == []


# --- the cache of answers ----------------------------------------------------------------


def test_a_line_typed_again_parses_as_the_first_time() -> None:
    """A line typed a second time (by the same router or another) would run another command,
    or a command with another argument, than the first time: the cache of answers would have
    mixed them up or let a handler's change to its arguments leak into the next router's."""
    lines = ["", "!", "enable", "configure terminal", "end", "exit", "no shutdown",
             "grant auto", "sh cry pki ser", "crypto pki server ca1 grant all",
             "crypto pki server ca1 grant 12", "crypto pki server ca1 grant 0",
             "crypto pki trustpoint ca1", "ip host ca 10.0.0.256", "do show clock",
             "crypto pki au X", "crypt", "c", "enrollment url http://10.0.0.1"]
    for mode in Mode:
        if mode is Mode.CERT_DATA:
            continue
        cached = grammar_for(mode)
        fresh = grammar_for.__wrapped__(mode)  # a grammar of its own, nothing cached
        typed = lines + [pattern.replace("<", "").replace(">", "")
                         for pattern, _ in command_patterns(mode)]
        for line in typed:
            first = cached.parse(line)
            if isinstance(first, Match):
                first.args["mutated"] = True  # a handler keeping and changing its match
            again = cached.parse(line)
            assert again == fresh.parse(line), (mode, line)
