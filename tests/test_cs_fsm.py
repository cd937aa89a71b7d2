"""The certificate-server FSM: the table, and the core driven through every cell."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sim.pki import cs_effects as fx
from sim.pki.cs_fsm import (
    TRANSITIONS,
    CsAction,
    CsSignal,
    CsState,
    IllegalTransition,
    transition,
)
from sim.pki.cs_server import CertificateServer, CsConfig
from sim.pki.keys import KeySource

NOW = datetime(2005, 1, 6, 21, 0, 0, tzinfo=UTC)


def test_table_is_total() -> None:
    """Some certificate-server state and input pair would have no defined behaviour, and a lab
    could crash the server FSM."""
    assert set(TRANSITIONS) == {(s, g) for s in CsState for g in CsSignal}


def test_undefined_pair_raises() -> None:
    """An impossible server state would be silently accepted instead of stopping the run with a
    clear error."""
    with pytest.raises(IllegalTransition):
        transition("bogus", CsSignal.NO_SHUT)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "signal", "action"),
    [
        # The seed's own transitions.
        (CsState.INITIAL, CsSignal.NO_SHUT, CsAction.RUN_CHECKS),
        (CsState.INITIAL, CsSignal.TIME_SET, CsAction.STAY),
        (CsState.CHECK_FAILED, CsSignal.CERT_CONFIGURED, CsAction.RUN_CHECKS),
        (CsState.ENABLED, CsSignal.TIME_SET, CsAction.STAY),
        # "After the time has been set, the certificate server will automatically switch
        # to running status."
        (CsState.CHECK_FAILED, CsSignal.TIME_SET, CsAction.RUN_CHECKS),
        (CsState.CHECK_FAILED, CsSignal.HTTP_ON, CsAction.RUN_CHECKS),
        (CsState.ENABLED, CsSignal.SHUT, CsAction.DISABLE),
        (CsState.ENABLED, CsSignal.HTTP_OFF, CsAction.LOSE_HTTP),
        (CsState.DISABLED, CsSignal.NO_SHUT, CsAction.RUN_CHECKS),
    ],
)
def test_key_cells(state: CsState, signal: CsSignal, action: CsAction) -> None:
    """A certificate server would react wrongly to `no shutdown`, `shutdown`, `clock set` or `ip
    http server` changes, e.g. not start once the time is set."""
    assert transition(state, signal).action is action


class Harness:
    """Drives a CertificateServer as the router would, keeping its files and key."""

    def __init__(self, *, clock_set: bool = True, http_on: bool = True) -> None:
        self.keys = KeySource(1)
        self.storage: dict[str, bytes] = {}
        self.key = None
        self.trustpoint: fx.TrustpointView | None = None
        self.clock_set = clock_set
        self.http_on = http_on
        self.cs = CertificateServer(CsConfig("ca"))

    def ctx(self) -> fx.CsContext:
        return fx.CsContext(NOW, self.clock_set, self.http_on, self.key, self.trustpoint,
                            dict(self.storage), lambda label, bits: self.keys.get(label, bits),
                            passphrase="cisco123")

    def signal(self, signal: CsSignal) -> list[fx.Effect]:
        effects = self.cs.handle(signal, self.ctx())
        for effect in effects:
            if isinstance(effect, fx.WriteFile):
                self.storage[effect.name] = effect.data
            elif isinstance(effect, fx.KeyGenerated):
                self.key = effect.key
            elif isinstance(effect, fx.CaCertificateInstalled):
                self.trustpoint = fx.TrustpointView("ca", None, effect.certificate)
            elif isinstance(effect, fx.TrustpointCreated):
                self.trustpoint = fx.TrustpointView("ca", None)
        return effects

    def drive_to(self, state: CsState) -> None:
        if state is CsState.INITIAL:
            return
        if state is CsState.CHECK_FAILED:
            self.http_on = False
            self.signal(CsSignal.NO_SHUT)
            self.http_on = True
        else:
            self.signal(CsSignal.NO_SHUT)
            if state is CsState.DISABLED:
                self.signal(CsSignal.SHUT)
        assert self.cs.state is state


def debug_lines(effects: list[fx.Effect]) -> list[str]:
    return [e.text for e in effects if isinstance(e, fx.Debug)]


@pytest.mark.parametrize("state", list(CsState))
@pytest.mark.parametrize("signal", list(CsSignal))
def test_every_state_with_every_signal(state: CsState, signal: CsSignal) -> None:
    """The `debug crypto pki server` enter/exit FSM lines or the config lock would be wrong for
    some state and input, or the server would land in a wrong state."""
    harness = Harness()
    harness.drive_to(state)
    effects = harness.signal(signal)
    lines = debug_lines(effects)
    assert lines[0] == f"enter FSM: input state {state.value}, input signal {signal.value}"
    assert f"exit FSM: new state {harness.cs.state.value}" in lines
    step = TRANSITIONS[(state, signal)]
    assert harness.cs.state in step.targets
    changed = [e for e in effects if isinstance(e, fx.StateChanged)]
    assert changed == [fx.StateChanged(state, harness.cs.state, signal,
                                       harness.cs.failure_reason)]
    locked = "cs config has been locked" in lines
    assert locked == (harness.cs.state in (CsState.ENABLED, CsState.CHECK_FAILED))


def test_first_no_shut_follows_the_seed_order() -> None:
    """The debug lines of a first `no shutdown` would differ in wording or order from the seed
    transcript's, or the CA certificate would not get serial 1."""
    harness = Harness()
    effects = harness.signal(CsSignal.NO_SHUT)
    lines = debug_lines(effects)
    assert lines == [
        "enter FSM: input state initial, input signal no shut",
        "starting enabling checks",
        "associated trust point 'ca' does not exist; generated automatically",
        "key 'ca' does not exist; generated automatically",
        "nvram filesystem",
        "serial number 0x1 written.",
        "created a new serial file.",
        f"Publishing {len(harness.storage['ca.crl'])} bytes to crl file nvram:ca.crl",
        "SCEP server started",
        "exit FSM: new state enabled",
        "cs config has been locked",
    ]
    assert harness.cs.last_serial == 1
    assert harness.cs.ca_cert is not None and harness.cs.ca_cert.serial_number == 1


def test_unset_clock_stops_after_key_generation() -> None:
    """A CA whose clock was never set would start anyway, or not print `% Time has not been set`,
    or not start once the clock is set."""
    harness = Harness(clock_set=False)
    effects = harness.signal(CsSignal.NO_SHUT)
    consoles = [e.text for e in effects if isinstance(e, fx.Console)]
    assert "% Time has not been set. Cannot start the Certificate server" in consoles
    assert harness.key is not None
    assert "ca.ser" not in harness.storage
    assert harness.cs.status() == "disabled, Time has not been set"
    harness.clock_set = True
    harness.signal(CsSignal.TIME_SET)
    assert harness.cs.state is CsState.ENABLED


def test_restart_reads_existing_files_and_keeps_serial() -> None:
    """A restarted certificate server would ignore its existing .ser file and reissue serials, or
    republish its CRL needlessly."""
    harness = Harness()
    harness.signal(CsSignal.NO_SHUT)
    harness.storage["ca.ser"] = b"DB version 1\nlast issued serial number 0x2A\n"
    fresh = CertificateServer(CsConfig("ca"))
    harness.cs = fresh
    lines = debug_lines(harness.signal(CsSignal.NO_SHUT))
    assert "found existing serial file." in lines
    assert "last issued serial number is 0x2A" in lines
    assert fresh.last_serial == 0x2A
    assert fresh.state is CsState.ENABLED
    assert not any("Publishing" in line for line in lines)


def test_sub_cs_without_enrollment_url_fails_like_the_seed() -> None:
    """`mode sub-cs` without an enrollment URL would not print the seed's `You must specify an
    enrollment URL` and `% Failed to authenticate` lines."""
    harness = Harness()
    harness.cs.configure(mode="sub-cs")
    effects = harness.signal(CsSignal.NO_SHUT)
    consoles = [e.text for e in effects if isinstance(e, fx.Console)]
    assert consoles[-2:] == [
        "You must specify an enrollment URL for this CA before you can authenticate it.",
        "% Failed to authenticate the Certificate Authority",
    ]
    assert harness.cs.state is CsState.CHECK_FAILED
