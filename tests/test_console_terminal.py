"""`pkilab console` in a pseudo-terminal, as a person uses it: type, read the screen,
assert. The screen is a VT100 emulator (pyte) fed with everything the program writes, so
the assertions read what a person would see, not escape codes.

One walk-through, the README's: open the bundled sub-CA bench, ask IOS's `?`, complete
with Tab, enable the root CA (passwords hidden), turn `sub` into a subordinate CA and
watch it enroll, grant it on the root, save the session, quit; then the saved file
replays with the very transcripts the console session wrote.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect
import pytest
from pty_terminal import Terminal

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "scenarios" / "labs" / "sub-ca-lab.yaml"
@pytest.fixture
def terminal_factory(tmp_path: Path):
    made: list[Terminal] = []

    def make(*args: str) -> Terminal:
        terminal = Terminal(*args, cwd=tmp_path)
        made.append(terminal)
        return terminal

    yield make
    for terminal in made:
        terminal.close()


def test_a_console_session_builds_a_hierarchy_and_saves_a_replayable_scenario(
        terminal_factory, tmp_path: Path) -> None:
    """The README's `pkilab console` walk-through would break: `?` help, Tab, hidden passwords,
    the sub-CA enrolling, or a `:save`d session that replays to the same transcripts."""
    out = tmp_path / "console-out"
    term = terminal_factory("console", str(BENCH), "--speed", "30", "--out", str(out))
    term.wait_for(r":help for lab commands")  # the status line
    term.line("", "root1>")

    # IOS's help, from the grammar: `?` prints and puts the line back.
    term.line("enable", "root1#")
    term.type("show crypto pki ?")
    term.wait_for(r"^  server +.*$")
    term.wait_prompt("root1#show crypto pki")  # the typed line is back (trailing space)
    term.type("\x15")  # Ctrl-U clears it
    term.type("sh cry ?")
    term.wait_for(r"root1#sh cry \?")
    term.type("\x15")
    term.type("frobnicate ?")
    term.wait_for(r"% Unrecognized command")
    term.type("\x15")

    # Tab completes; the CA comes up after two hidden passwords.
    term.type("conf\t")
    term.wait_prompt("root1#configure")
    term.line(" terminal", "root1(config)#")
    term.line("crypto pki server root1", "root1(cs-server)#")
    term.line("no shutdown")
    term.wait_prompt("Password:")
    term.line("rootpass1")
    term.wait_prompt("Re-enter password:")
    term.line("rootpass1")
    term.wait_for(r"Certificate Server enabled", on_screen=False)
    assert "rootpass1" not in term.everything  # passwords are not shown
    term.type("\x1a")  # Ctrl-Z
    term.wait_prompt("root1#")

    # The subordinate: a trustpoint at the root's URL, `mode sub-cs`, `no shutdown`.
    term.line(":r sub")
    term.wait_for(r"^\[sub 10\.3\.0\.9, up\]")
    term.line("", "sub>")
    term.line("enable", "sub#")
    term.line("configure terminal", "sub(config)#")
    term.line("crypto pki trustpoint sub", "sub(ca-trustpoint)#")
    term.line("enrollment url http://10.3.0.6", "sub(ca-trustpoint)#")
    term.line("exit", "sub(config)#")
    term.line("crypto pki server sub", "sub(cs-server)#")
    term.line("mode sub-cs", "sub(cs-server)#")
    term.line("no shutdown")
    term.wait_prompt("Password:")
    term.line("subpass12")
    term.wait_prompt("Re-enter password:")
    term.line("subpass12")
    term.wait_for(r"Do you accept this certificate\? \[yes/no\]:")
    term.line("yes")
    term.wait_for(r"Enrollment in progress", on_screen=False)
    term.wait_prompt("sub(cs-server)#")
    term.type("\x1a")
    term.wait_prompt("sub#")

    # The root grants the request while sub polls; sub's CA comes up.
    term.line(":r root1")
    term.line("", "root1#")
    term.line("crypto pki server root1 grant 1", "root1#")
    term.line(":r sub")
    term.line(":+2m")
    term.wait_for(r"CERTRET: Certificate received from Certificate Authority",
                  on_screen=False)
    term.line(":quiet")
    term.wait_for(r"^quiet after")
    term.line("show crypto pki server", "sub#")
    term.wait_for(r"^  Status: enabled", on_screen=False)
    term.type("\x1b[A")  # Up: the history gives the last command back
    term.wait_prompt("sub#show crypto pki server")
    term.type("\x15")

    # Time stands still while the session is saved and written, so both hold the same.
    term.line(":pause")
    term.wait_for(r"^simulated time paused")
    saved = tmp_path / "my-session.yaml"
    term.line(f":save {saved}")
    term.wait_for(r"^saved as ")
    term.line(":quit")
    term.child.expect(pexpect.EOF, timeout=120)
    term.child.close()
    assert term.child.exitstatus == 0
    assert (out / "report.html").is_file()

    # The saved session replays with the transcripts the console session wrote.
    replay = tmp_path / "replay"
    done = pexpect.run(f"{sys.executable} -m sim run {saved} --out {replay}",
                       cwd=str(tmp_path), timeout=300, withexitstatus=True)
    assert done[1] == 0, done[0].decode()
    for router in ("root1", "sub"):
        live = (out / "transcripts" / f"{router}.txt").read_text()
        assert (replay / "transcripts" / f"{router}.txt").read_text() == live, router
