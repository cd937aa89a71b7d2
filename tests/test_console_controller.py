"""`pkilab console`'s logic without a terminal: lab commands, `?`, Tab, what is printed,
and a session saved as a scenario that replays with the same transcript."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from sim.console import lab_commands
from sim.console.app import _History
from sim.console.controller import ConsoleController, ConsoleQuit, Prompt
from sim.console.lab_commands import LabCommandError
from sim.kernel.transcript import transcript_lines
from sim.lab import Lab
from sim.scenario.loader import load_scenario
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parent.parent
SUB_CA = ROOT / "scenarios" / "enrollment" / "sub-ca-enrollment.yaml"


def _lab() -> Lab:
    lab = Lab(seed=3)
    lab.add_router("ca", "10.0.0.1", "ip http server")
    lab.add_router("r1", "10.0.0.2")
    lab.link("ca", "r1")
    return lab


def _enter(console: ConsoleController, *lines: str) -> list[str]:
    """Type lines one by one, each when the console is ready, and return what it printed."""
    printed: list[str] = []
    for line in lines:
        printed += console.enter(line)
        console.lab.run_until_quiet(quiet=3.0)
        printed += console.take_output()
    return printed


# -- lab commands ---------------------------------------------------------------------------
@pytest.mark.parametrize("line, name, words", [
    (":+10m", "+", ()),
    (":wait 90s", "+", ()),
    (":link_down ca r1", "link_down", ("ca", "r1")),
    (":power r1 off", "power", ("r1",)),
    (":power off", "power", ()),
    (":clock_set r1 2005-01-06T21:00:00Z", "clock_set", ("r1",)),
    (":clock_set now", "clock_set", ()),
    (":connect r1", "r", ("r1",)),
    (":exit", "quit", ()),
])
def test_lab_commands_read_like_the_scenario_files_events(line: str, name: str,
                                                          words: tuple[str, ...]) -> None:
    """`pkilab console` lab commands like `:power` or `:link_down` would not mean what the same
    scenario-file events mean."""
    command = lab_commands.parse(line)
    assert (command.name, command.words) == (name, words)


@pytest.mark.parametrize("line, message", [
    (":", "a lab command follows"),
    (":frobnicate", "unknown lab command ':frobnicate'"),
    (":+10 parsecs", "not a duration"),
    (":power r1 sideways", "'sideways' is not on or off"),
    (":speed fast", "'fast' is not a number"),
    (":speed 0", "is not a number from 0.001"),
    (":link_change ca r1", "needs latency=D or loss=P"),
    (":link_change ca r1 loss=2", "not a probability"),
    (":clock_set r1 2005-13-45T00:00:00", "is not a time"),
    (":clock_jump r1 99999999w", "10 years"),
    (":help me", "takes nothing more"),
])
def test_a_bad_lab_command_says_which_word_is_wrong(line: str, message: str) -> None:
    """A mistyped lab command in `pkilab console` would give a vague error instead of naming the
    wrong word."""
    with pytest.raises(LabCommandError, match=message):
        lab_commands.parse(line)


def test_a_lab_command_error_is_printed_not_raised() -> None:
    """A mistyped lab command such as `:power nowhere off` would crash `pkilab console` instead of
    printing a `%` line."""
    console = ConsoleController(_lab())
    assert console.enter(":power nowhere off") == [
        "% no router named 'nowhere' (routers: ca, r1)"]
    assert console.enter(":link_down ca nowhere")[0].startswith("% no router named")
    with pytest.raises(ConsoleQuit):
        console.enter(":quit")


# -- the IOS console ------------------------------------------------------------------------
def test_typed_lines_print_the_routers_output_but_not_their_own_echo() -> None:
    """In `pkilab console` each typed line would appear twice, or the router's answer would be
    missing."""
    console = ConsoleController(_lab(), watched="ca")
    _enter(console)
    printed = _enter(console, "enable", "show clock")
    assert "ca>enable" not in printed and "ca#show clock" not in printed
    assert any("UTC" in line for line in printed)  # show clock's answer
    assert console.prompt().text == "ca#"
    assert "ca#show clock" in console.lab.transcript("ca")  # the transcript keeps it


def test_question_mark_gives_ios_help_in_the_routers_current_mode() -> None:
    """`?` and Tab in `pkilab console` would offer the wrong mode's commands or fail on
    abbreviations like `sh cry pk`."""
    console = ConsoleController(_lab(), watched="ca")
    _enter(console, "enable")
    help_lines = console.help("show crypto pki ")
    assert any(line.split()[:1] == ["server"] for line in help_lines)
    assert console.help("sh cry pk ") == help_lines
    assert console.help("frob ") == ["% Unrecognized command"]
    _enter(console, "configure terminal")
    assert any(line.split()[:1] == ["crypto"] for line in console.help(""))
    assert console.complete("cry") == "crypto "
    assert console.help(":")[0].split()[0] == ":help"


def test_ctrl_z_leaves_configuration_mode() -> None:
    """Ctrl-Z or Ctrl-C in `pkilab console` would not leave config mode, or the transcript would
    lack `^Z`/`^C` and CONFIG_I."""
    console = ConsoleController(_lab(), watched="ca")
    _enter(console, "enable", "configure terminal", "crypto pki trustpoint t")
    assert console.prompt().text == "ca(ca-trustpoint)#"
    assert console.suspend()
    console.lab.run_until_quiet(quiet=3.0)
    assert console.prompt().text == "ca#"
    transcript = console.lab.transcript("ca")
    assert transcript[-2] == "ca(ca-trustpoint)#^Z", transcript  # as IOS echoes it
    assert transcript[-1].endswith("%SYS-5-CONFIG_I: Configured from console by console")
    assert not console.suspend()  # nothing to leave in EXEC
    _enter(console, "configure terminal")
    console.interrupt()
    console.lab.run_until_quiet(quiet=3.0)
    assert console.lab.transcript("ca")[-2:][0] == "ca(config)#^C"
    assert console.prompt().text == "ca#"


def test_only_the_watched_routers_output_is_printed() -> None:
    """`pkilab console` would mix other routers' output into the watched one, or `:r` would not show
    what was missed."""
    console = ConsoleController(_lab(), watched="r1")
    _enter(console)
    # A scenario event types at ca while r1 is watched: none of it is printed here.
    console.lab.type("ca", "enable\nshow clock", wait=False)
    console.lab.run_until_quiet(quiet=3.0)
    assert not [line for line in console.take_output() if "UTC" in line]
    switched = _enter(console, ":r ca")
    assert switched[0] == "[ca 10.0.0.1, up]"
    assert "ca#show clock" in switched[1:]  # its recent lines, typed by someone else
    assert console.prompt().text == "ca#"


def test_faults_from_the_console_are_the_scenario_files_events() -> None:
    """A `:power off` typed in `pkilab console` would not power the router off or not be saved as a
    scenario event."""
    console = ConsoleController(_lab(), watched="r1")
    assert console.enter(":power off")[0].startswith("power at +")
    assert console.prompt().text == ""
    assert not console.lab.router("r1").powered
    events = console.lab.scenario().events
    assert [type(e).__name__ for e in events] == ["PowerEvent"]


def test_a_saved_session_replays_with_the_same_transcripts(tmp_path: Path) -> None:
    """A console session saved with `:save` would replay as a scenario with different router
    transcripts."""
    console = ConsoleController(Lab.from_scenario(SUB_CA), watched="root1")
    _enter(console, ":+30s", "enable", "show crypto pki server", ":+2m", ":link_down root1 sub",
           ":+1m", ":link_up root1 sub", ":quiet")
    saved = tmp_path / "session.yaml"
    assert console.enter(f":save {saved}")[0].startswith(f"saved as {saved}")
    live = {name: console.lab.transcript(name) for name in console.lab.routers}
    replayed = run_scenario(load_scenario(saved), key_cache=None)
    for name, lines in live.items():
        assert transcript_lines(replayed.world.env.trace, name) == lines, name


def test_questions_wait_for_the_person_and_replay_with_their_delays(tmp_path: Path) -> None:
    """Password and modulus prompts would time out, echo the password, or replay a saved session
    differently."""
    console = ConsoleController(_lab(), watched="ca")
    _enter(console, "enable", "configure terminal", "crypto pki server ca", "no shutdown")
    assert console.prompt() == Prompt("Password:", secret=True, question=True)
    console.lab.run(40)  # the person thinks; the question still waits
    assert console.prompt().text == "Password:"
    _enter(console, "capass123")
    assert console.prompt().text == "Re-enter password:"
    printed = _enter(console, "capass123")
    assert "% Certificate Server enabled." in printed
    assert not [line for line in printed if "capass123" in line]
    _enter(console, "end", "crypto pki server ca grant all")
    # Ctrl-C at a question abandons the command.
    _enter(console, "configure terminal", "crypto key generate rsa general-keys label k1")
    question = console.prompt()
    assert question.question and "modulus" in question.text
    console.interrupt()
    console.lab.run_until_quiet(quiet=3.0)
    assert console.prompt().text == "ca(config)#"

    saved = tmp_path / "session.yaml"
    console.enter(f":save {saved}")
    text = saved.read_text()
    assert "after:" in text and "ctrl_c: true" in text
    replayed = run_scenario(load_scenario(saved), key_cache=None)
    for name in console.lab.routers:
        assert (transcript_lines(replayed.world.env.trace, name)
                == console.lab.transcript(name)), name


def test_history_keeps_commands_not_passwords() -> None:
    """Pressing Up in `pkilab console` could bring back a password typed at a `Password:` prompt."""
    secret = [False]
    history = _History(lambda: secret[0])
    history.append_string("show clock")
    secret[0] = True
    history.append_string("capass123")
    assert list(history.get_strings()) == ["show clock"]


def test_a_failed_simulation_is_reported_once() -> None:
    """A crash inside the simulation would go unnoticed in `pkilab console` or be reported over and
    over."""
    lab = _lab()
    console = ConsoleController(lab, watched="ca")
    live = lab.go_live(speed=1.0)
    try:
        def broken():  # a bug inside the simulation
            yield lab.env.timeout(0)
            raise RuntimeError("boom")

        live.submit(broken())
        for _tick in range(100):
            if live.error is not None:
                break
            time.sleep(0.05)
        printed = console.take_output()
        assert printed[-1].startswith("% the simulation stopped: RuntimeError('boom')")
        assert not [line for line in console.take_output() if "stopped" in line]
    finally:
        lab.stop()


def test_random_lab_commands_answer_with_a_message_never_a_traceback() -> None:
    """Odd lab commands typed in `pkilab console` would crash it with a Python traceback instead of
    a message."""
    words = ["+", "r", "quiet", "speed", "pause", "time", "link_down", "link_up",
             "link_change", "power", "reload", "clock_set", "clock_unset", "clock_jump",
             "http_server", "link", "routers", "on", "off", "now", "latency=5ms", "loss=0.5",
             "loss=x", "latency=-1", "r1", "ca", "zz", "2005-01-01T00:00:00Z", "9999-99-99",
             "-5m", "1e308", "nan", "\x00", "../x", "ß"]
    rng = random.Random(5)
    console = ConsoleController(_lab(), watched="ca")
    for _line in range(400):
        line = ":" + " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
        printed = console.enter(line)
        assert all(isinstance(text, str) for text in printed), line


@pytest.mark.parametrize("release, shown", [("12.3(14)T", "<360-2048>"), ("15.x", "<360-4096>")])
def test_question_mark_shows_the_modulus_range_of_the_routers_release(
        release: str, shown: str) -> None:
    """`crypto key generate rsa modulus ?` would offer 4096-bit keys on a 12.3(14)T router,
    which refuses them, or hide them on 15.x, which makes them."""
    lab = Lab(seed=2)
    lab.add_router("r1", "10.0.0.1", release=release)
    console = ConsoleController(lab, watched="r1")
    _enter(console, "enable", "configure terminal")
    lines = console.help("crypto key generate rsa modulus ")
    assert lines[0].split()[0] == shown
