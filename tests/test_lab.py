"""The public Python API (`sim.lab.Lab`): build a lab, type, inject faults, read output,
and get back a scenario that replays what was done."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.kernel.transcript import transcript_lines
from sim.lab import Lab, LabError
from sim.scenario.loader import load_scenario
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parents[1]
ENABLE_CA = """
    enable
    configure terminal
    crypto pki server ca
    grant auto
    no shutdown
    end
"""
ENROLL = """
    enable
    configure terminal
    crypto pki trustpoint ca
    enrollment url http://10.0.0.1
    exit
    crypto pki authenticate ca
    crypto pki enroll ca
    end
"""
ENROLL_ANSWERS = ["yes", "pw", "pw", "no", "no", "yes"]


def _two_routers() -> Lab:
    lab = Lab(seed=7)
    lab.add_router("ca", "10.0.0.1", "ip http server")
    lab.add_router("r1", "10.0.0.2")
    lab.link("ca", "r1")
    return lab


def test_a_lab_built_by_hand_enrolls_a_router() -> None:
    """A lab built with the Python `Lab` API could not bring up a CA and enroll a router by typed
    commands."""
    lab = _two_routers()
    out = lab.type("ca", ENABLE_CA, answers=["cisco123", "cisco123"])
    assert "% Certificate Server enabled." in out
    assert "  Status: enabled" in lab.show("ca", "show crypto pki server")
    out = lab.type("r1", ENROLL, ENROLL_ANSWERS)
    assert any("%PKI-6-CERTRET" in line for line in lab.transcript("r1"))
    assert lab.routers["r1"].running.trustpoints["ca"].id_cert is not None
    assert out[0] == "Router>enable" or out[0].endswith(">enable")


def test_what_was_done_replays_as_a_scenario_with_the_same_transcripts() -> None:
    """`Lab.scenario()` would give back a scenario that, when run, does not reproduce the hands-on
    session's transcripts."""
    lab = _two_routers()
    lab.type("ca", ENABLE_CA, answers=["cisco123", "cisco123"])
    lab.link_down("ca", "r1")
    lab.type("r1", ENROLL, ENROLL_ANSWERS)
    lab.run(30)
    lab.link_up("ca", "r1")
    lab.run(120)
    lab.reload("r1")
    lab.run(60)
    scenario = lab.scenario()
    assert [type(e).__name__ for e in scenario.events] == [
        "CliEvent", "LinkEvent", "CliEvent", "LinkEvent", "ReloadEvent"]
    replayed = run_scenario(scenario)
    for name in ("ca", "r1"):
        assert transcript_lines(replayed.world.env.trace, name) == lab.transcript(name)


def test_a_lab_starts_from_a_scenario_file_and_plays_its_events(tmp_path: Path) -> None:
    """A lab opened with `Lab.from_scenario` would print other transcripts than `pkilab run`, or
    write no summary or report."""
    path = ROOT / "scenarios" / "bring-up" / "root-ca.yaml"
    lab = Lab.from_scenario(path)
    lab.run(load_scenario(path).duration)
    batch = run_scenario(load_scenario(path))
    for name in lab.routers:
        assert lab.transcript(name) == transcript_lines(batch.world.env.trace, name)
    out = lab.write_output(tmp_path / "out")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "root-ca"
    assert (out / "report.html").is_file()


def test_mistakes_are_clear_errors() -> None:
    """A wrong router name or address given to the Python API would give a confusing error instead
    of a clear LabError."""
    lab = _two_routers()
    with pytest.raises(LabError, match="no router named 'r9'"):
        lab.type("r9", "enable")
    with pytest.raises(LabError, match="already a router named 'ca'"):
        lab.add_router("ca", "10.0.0.9")
    with pytest.raises(LabError, match="not an IPv4 address"):
        lab.add_router("r2", "10.0.0")
    with pytest.raises(LabError, match="no router named 'r7'"):
        lab.link("ca", "r7")


def test_a_live_lab_follows_the_host_clock() -> None:
    """A live lab (`go_live`) would not advance its clock with host time at the chosen speed, or
    would not answer typed commands."""
    lab = _two_routers()
    live = lab.go_live(speed=50.0)
    try:
        start = lab.now
        import time

        time.sleep(0.2)
        with live.lock:
            moved = lab.now - start
        assert 5.0 <= moved <= 30.0, moved  # 0.2 s of host time at 50x
        out = lab.type("ca", "enable\nshow clock")
        assert out[-1].endswith("UTC Thu Jan 6 2005")
    finally:
        lab.stop()
