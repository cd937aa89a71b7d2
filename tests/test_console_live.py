"""A live console: questions wait for the person at the keyboard, and the session replays.

At a live console (`Router.set_live_console`) a question the typed lines bring no answer
for does not time out with an empty answer: simulated time runs until the person answers
(`Router.answer`) or presses Ctrl-C (`Router.interrupt_question`). Each session below is
driven as a person would, answering after odd delays, then saved through
`sim.scenario.session_record` and the scenario writer, loaded back and replayed by the
normal runner: the console transcripts must be the same, line for line.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sim.kernel.transcript import transcript_lines
from sim.pki import x509util
from sim.pki.cs_fsm import CsState
from sim.router.console import ANSWER_DELAY, ConsoleQuestion
from sim.router.router import Router
from sim.scenario import model as m
from sim.scenario.loader import load_scenario_text
from sim.scenario.runner import run_scenario
from sim.scenario.session_record import SessionRecorder, session_events
from sim.scenario.world import build_world
from sim.scenario.writer import scenario_yaml

LAB = m.Scenario(
    name="live", description="A live console session.", seed=11, start=m.DEFAULT_START,
    duration=1.0,
    routers=(m.RouterSpec("ca", "10.0.0.1", config=("hostname ca", "ip http server")),
             m.RouterSpec("r1", "10.0.0.2", config=("hostname r1",))),
    links=(m.LinkSpec("ca", "r1"),),
)


class Person:
    """Someone at the live consoles of LAB's routers, with simulated time running."""

    def __init__(self) -> None:
        self.world = build_world(LAB, LAB.seed)
        self.env = self.world.env
        self.recorder = SessionRecorder(self.env.trace)
        for router in self.world.routers.values():
            router.set_live_console(True)
        self.wait(3.0)

    def router(self, name: str) -> Router:
        return self.world.routers[name]

    def wait(self, seconds: float) -> None:
        self.env.run(until=self.env.now + seconds)

    def type(self, name: str, *lines: str, pause: float = 1.3) -> None:
        """Each line typed at the command prompt, once the console is ready for it."""
        router = self.router(name)
        for line in lines:
            assert router.console_question is None
            router.type_lines([line])
            self.settle(name)
            if router.console_question is None:
                self.wait(pause)  # a person reads the output before typing on

    def settle(self, name: str, limit: float = 600.0) -> None:
        """Run until the console has run everything typed, or waits on a question."""
        router = self.router(name)
        end = self.env.now + limit
        # Event by event, so that a question is seen at the very instant it is asked.
        while not router.console_idle and self.env.sim.peek() < end:
            self.env.sim.step()

    def question(self, name: str) -> ConsoleQuestion:
        self.settle(name)
        question = self.router(name).console_question
        assert question is not None, transcript_lines(self.env.trace, name)[-5:]
        return question

    def answer(self, name: str, text: str, after: float) -> ConsoleQuestion:
        """Answer the waiting question `after` seconds after it was asked."""
        question = self.question(name)
        self.env.run(until=question.since + after)
        assert self.router(name).answer(text)
        self.settle(name)
        return question

    def ctrl_c(self, name: str, after: float) -> None:
        question = self.question(name)
        self.env.run(until=question.since + after)
        assert self.router(name).interrupt_question()
        self.settle(name)

    def transcripts(self) -> dict[str, list[str]]:
        return {name: transcript_lines(self.env.trace, name) for name in self.world.routers}

    def saved(self) -> tuple[str, m.Scenario]:
        """The session as a scenario file, and the scenario loaded back from it."""
        scenario = replace(LAB, duration=self.env.now, events=self.recorder.cli_events())
        text = scenario_yaml(scenario)
        return text, load_scenario_text(text, "session.yaml")

    def replays_the_same(self) -> str:
        self.wait(1.0)  # both runs then stop the same way: before what is due at the end
        text, scenario = self.saved()
        replayed = run_scenario(scenario)
        for name, lines in self.transcripts().items():
            assert transcript_lines(replayed.world.env.trace, name) == lines, name
        return text


ENABLE_CA = ("enable", "configure terminal", "crypto pki server ca", "grant auto",
             "no shutdown")


def _enabled_ca(person: Person) -> None:
    person.type("ca", *ENABLE_CA)
    asked = person.answer("ca", "cisco123", after=13.37)
    assert asked == ConsoleQuestion("Password:", secret=True, paste=False, since=asked.since)
    person.answer("ca", "cisco123", after=4.321)
    person.type("ca", "end")
    assert person.router("ca").server_state() is CsState.ENABLED


def test_a_question_waits_for_the_person_and_the_session_replays() -> None:
    """At a live console, a prompt such as `Do you accept this certificate?` would time out before
    the person answers, or the saved session would not replay to the same transcript."""
    person = Person()
    _enabled_ca(person)
    person.type("r1", "enable", "configure terminal", "crypto pki trustpoint ca",
                "enrollment url http://10.0.0.1", "exit", "crypto pki authenticate ca")
    asked = person.question("r1")
    assert asked.text == "% Do you accept this certificate? [yes/no]:" and not asked.secret
    # Far longer than a scenario's answer takes: the question is still waiting.
    person.wait(95.5)
    assert person.router("r1").console_question == asked
    person.answer("r1", "yes", after=101.25)
    person.type("r1", "crypto pki enroll ca")
    for text, after in (("c0ffee", 6.5), ("c0ffee", 2.75), ("no", 1.125), ("", 0.5),
                        ("yes", 3.0625)):
        person.answer("r1", text, after)
    person.wait(60)
    person.type("r1", "end", "show crypto pki certificates")
    lines = person.transcripts()["r1"]
    assert "% Do you accept this certificate? [yes/no]: yes" in lines
    assert "Trustpoint CA certificate accepted." in lines
    assert any("%PKI-6-CERTRET: Certificate received from Certificate Authority" in line
               for line in lines)
    assert not person.env.trace.select(category="console", name="input.missing")
    text = person.replays_the_same()
    # The saved file holds the delays the person took, and passwords in clear (the
    # replay must type them, as any scenario file does).
    assert 'input: [{text: "yes", after: 1m41.25s}]' in text
    assert "{text: cisco123, after: 13.37s}" in text
    assert '{text: "", after: 500ms}' in text


def test_the_recorded_answers_name_their_batch_and_say_which_are_secret() -> None:
    """A saved live session would attach passphrase answers to the wrong command or with the wrong
    delays, or the passphrase would be echoed on the console."""
    person = Person()
    _enabled_ca(person)
    answers = person.env.trace.select(router="ca", category="console", name="answer")
    typed = person.env.trace.select(router="ca", category="console", name="typed")
    no_shut = next(e for e in typed if e.data["lines"] == ["no shutdown"])
    assert [(a.data["prompt"], a.data["secret"], a.data["batch"]) for a in answers] == [
        ("Password:", True, no_shut.data["batch"]),
        ("Re-enter password:", True, no_shut.data["batch"])]
    assert [a.data["after"] for a in answers] == [pytest.approx(13.37),
                                                  pytest.approx(4.321)]
    (event,) = [e for e in session_events(person.env.trace) if e.lines == ("no shutdown",)]
    assert [(a.text, a.after) for a in event.input] == [
        ("cisco123", answers[0].data["after"]), ("cisco123", answers[1].data["after"])]
    # The password is not echoed on the console.
    assert not any("cisco123" in line for line in person.transcripts()["ca"])


def test_ctrl_c_at_a_question_abandons_the_command_and_replays() -> None:
    """Ctrl-C at `Proceed with reload? [confirm]` would not print `^C` and cancel the reload, or the
    saved session would not replay it."""
    person = Person()
    _enabled_ca(person)
    person.type("ca", "reload")
    assert person.question("ca").text == ("System configuration has been modified. "
                                          "Save? [yes/no]:")
    person.answer("ca", "no", after=2.5)
    person.ctrl_c("ca", after=7.75)
    lines = person.transcripts()["ca"]
    assert "Proceed with reload? [confirm]^C" in lines
    assert not person.env.trace.select(router="ca", category="power", name="reload")
    person.type("ca", "show clock")
    text = person.replays_the_same()
    assert "{ctrl_c: true, after: 7.75s}" in text


def test_ctrl_c_at_the_second_passphrase_leaves_the_server_shut_and_ready_to_enable() -> None:
    """Ctrl-C at `Re-enter password:` would not print `% Aborted.`, or would leave the CS
    half-started so a later `no shutdown` fails."""
    person = Person()
    person.type("ca", *ENABLE_CA)
    person.answer("ca", "cisco123", after=3.5)
    person.ctrl_c("ca", after=1.25)
    ca = person.router("ca")
    assert person.transcripts()["ca"][-2:] == ["Re-enter password:^C", "% Aborted."]
    assert ca.server_state() is CsState.INITIAL and ca.running.servers["ca"].config.shutdown
    person.type("ca", "no shutdown")
    person.answer("ca", "cisco123", after=2.25)
    person.answer("ca", "cisco123", after=2.25)
    assert ca.server_state() is CsState.ENABLED
    person.replays_the_same()


def test_a_request_pasted_line_by_line_at_the_terminal_replays() -> None:
    """Pasting a PKCS#10 request line by line into `crypto pki server ca request pkcs10 terminal`
    would not grant it, or the session would not replay."""
    person = Person()
    _enabled_ca(person)
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "pasted.example")])).sign(key, hashes.SHA256())
    pem = x509util.csr_pem(csr).decode().splitlines()
    person.type("ca", "crypto pki server ca request pkcs10 terminal")
    for index, line in enumerate([*pem, ""]):
        question = person.question("ca")
        assert question.paste and question.text == ""
        person.answer("ca", line, after=0.2 + index / 7)
    lines = person.transcripts()["ca"]
    assert "% Granted certificate:" in lines and pem[1] in lines
    text = person.replays_the_same()
    assert '{text: "-----BEGIN CERTIFICATE REQUEST-----", after: 200ms}' in text


def test_lines_typed_while_no_question_waits_are_commands_run_in_turn() -> None:
    """Commands typed ahead while a key is being generated would be eaten as answers or run out of
    order."""
    person = Person()
    ca = person.router("ca")
    ca.type_lines(["enable"])
    ca.type_lines(["configure terminal"])
    ca.type_lines(["crypto key generate rsa general-keys label big modulus 2048"])
    person.wait(2.5)
    assert ca.console_question is None and not ca.answer("do show clock")
    ca.type_lines(["do show clock"])  # typeahead: runs once the key is made
    person.settle("ca")
    lines = person.transcripts()["ca"]
    made = next(i for i, line in enumerate(lines) if line.endswith("...[OK]"))
    assert lines[made + 1] == "ca(config)#do show clock"
    person.replays_the_same()


def test_answers_typed_with_the_lines_come_first_and_a_lab_gets_the_live_ones() -> None:
    """Answers supplied with the typed lines would not be used first, or a saved lab would lose the
    answers given live at the console."""
    person = Person()
    ca = person.router("ca")
    ca.type_lines(list(ENABLE_CA), ["cisco123"])  # the second passphrase is typed live
    asked = person.question("ca")
    assert asked.text == "Re-enter password:"
    passwords = [e for e in person.env.trace.select(router="ca", category="console",
                                                    name="line")
                 if e.data["text"] == "Password:"]
    assert asked.since - passwords[0].t == pytest.approx(ANSWER_DELAY)
    person.answer("ca", "cisco123", after=8.5)
    assert ca.server_state() is CsState.ENABLED
    # A lab that recorded its own `cli` events (without the live answers) gets them.
    recorded = m.CliEvent(3.0, "ca", ENABLE_CA, ("cisco123",))
    other = m.ReloadEvent(50.0, "r1")
    (typed, same) = person.recorder.with_answers([recorded, other])
    assert same is other
    assert [(a.text, a.after) for a in typed.input] == [("cisco123", None),
                                                        ("cisco123", pytest.approx(8.5))]
    assert person.recorder.cli_events() == (typed,)
    person.replays_the_same()


def test_a_question_no_longer_waits_once_the_console_is_not_live() -> None:
    """After the person leaves a live console, a waiting prompt would hang forever instead of ending
    with `% Aborted.` as in a batch run."""
    person = Person()
    person.type("ca", *ENABLE_CA)
    person.question("ca")
    person.wait(30)
    person.router("ca").set_live_console(False)  # the person left: a bare Return
    person.settle("ca")
    assert person.transcripts()["ca"][-1] == "% Aborted."
    assert person.router("ca").console_question is None
    # Not live, a question takes the scenario's answer or none, as in a batch run.
    person.type("ca", "no shutdown")
    person.wait(ANSWER_DELAY + 0.5)
    assert person.router("ca").console_question is None
    assert person.env.trace.select(router="ca", category="console", name="input.missing")


def test_a_power_cut_ends_the_waiting_question() -> None:
    """Powering a router off while it asks for a passphrase would leave the old prompt waiting after
    it boots."""
    person = Person()
    person.type("ca", *ENABLE_CA)
    ca = person.router("ca")
    assert person.question("ca").text == "Password:"
    ca.power_off()
    assert ca.console_question is None and not ca.answer("cisco123")
    ca.power_on()
    person.wait(60)
    assert ca.up and ca.console_question is None
