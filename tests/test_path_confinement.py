"""Nothing a scenario names is written outside the output folder (issue 8).

Names reach the file system in the output folder: routers (transcripts, artifact
folders), trustpoints and certificate servers (artifact file names). The console
refuses labels IOS refuses; the writer refuses any path that would resolve outside
`--out` whatever the name, which the tests below check on their own by giving the
writer names the console would never let through.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.router.state import Trustpoint
from sim.scenario.loader import load_scenario_text
from sim.scenario.output import ConfinedWriter, OutsideOutputFolder, write_output
from sim.scenario.runner import run_scenario

BASE = """\
name: names
description: names that try to leave the output folder
seed: 1
start: 2005-01-06T21:00:00Z
duration: 3m
routers:
  ca:
    address: 10.0.0.1
    config: |
      hostname ca
      ip http server
expect:
  - {router: ca, transcript_contains: "% Invalid input detected at '^' marker."}
events:
  - at: 5s
    router: ca
    cli: |
      enable
      configure terminal
"""


def _files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def _outside(paths: set[Path], out: Path) -> set[Path]:
    """Paths that are neither in `out` nor one of the folders `out` was created in."""
    return {p for p in paths if not (p.is_relative_to(out) or out.is_relative_to(p))}


def _hostile_names(tmp_path: Path) -> list[str]:
    outside = tmp_path / "outside"
    return [f"{outside}/pwned", "../../../../esc-tp", "../x", "..", "a/b", "a\\b", "./.",
            "/etc/x"]


@pytest.mark.parametrize("command", [
    "crypto pki trustpoint {name}",
    "crypto pki server {name}",
    "crypto pki certificate chain {name}",
    "crypto key generate rsa label {name} modulus 512",
])
def test_the_console_refuses_labels_that_are_paths(tmp_path: Path, command: str) -> None:
    """A scenario naming a trustpoint, server or key like `../x` or `/etc/x` would be accepted,
    and pkilab could write files outside `--out`."""
    out = tmp_path / "out"
    lines = []
    for name in _hostile_names(tmp_path):
        lines.append(f"      {command.format(name=name)}")
        lines.append("      exit")
        lines.append(f"      do crypto pki authenticate {name}")
    text = BASE + "\n".join(lines) + "\n    input: [yes, yes, yes, yes]\n"
    scenario_file = tmp_path / "names.yaml"
    scenario_file.write_text(text)
    before = _files_under(tmp_path) - _files_under(out)
    result = CliRunner().invoke(main, ["run", str(scenario_file), "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    after = _files_under(tmp_path)
    assert _outside(after - before, out) == set()
    transcript = (out / "transcripts" / "ca.txt").read_text()
    assert transcript.count("% Invalid input detected at '^' marker.") >= len(
        _hostile_names(tmp_path))


def test_the_writer_refuses_every_path_that_leaves_the_folder(tmp_path: Path) -> None:
    """Output file names with `..`, absolute paths or symlinks could make pkilab write outside
    the output folder."""
    root = tmp_path / "out"
    root.mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", root / "link")
    writer = ConfinedWriter(root)
    for bad in ["../x", "a/../../x", str(tmp_path / "abs"), "link/x", ".", "", "a/\x00"]:
        with pytest.raises(OutsideOutputFolder):
            writer.path(bad)
        assert not writer.write(bad, b"data")
    assert writer.write("artifacts/r1/run/0001-ok.pem", b"data")
    assert (root / "artifacts/r1/run/0001-ok.pem").read_bytes() == b"data"
    assert list((tmp_path / "elsewhere").iterdir()) == []
    assert not (tmp_path / "x").exists() and not (tmp_path / "abs").exists()


def test_the_writer_checks_each_file_in_a_folder_it_has_written_to(tmp_path: Path) -> None:
    """The writer remembers folders it has checked, to write thousands of files quickly; a
    symbolic link (or a `..` name) appearing in such a folder afterwards would then let a
    file be written outside the output folder."""
    root = tmp_path / "out"
    root.mkdir()
    (tmp_path / "elsewhere").mkdir()
    writer = ConfinedWriter(root)
    assert writer.write("artifacts/r1/a.pem", b"a")
    assert writer.write("artifacts/r1/b.pem", b"b")  # the folder is known now
    os.symlink(tmp_path / "elsewhere" / "c.pem", root / "artifacts/r1/c.pem")
    for bad in ["artifacts/r1/c.pem", "artifacts/r1/../../..", "artifacts/r1/../../../x"]:
        assert not writer.write(bad, b"data")
    assert writer.path("artifacts/r1/.") == root.resolve() / "artifacts/r1"
    assert writer.refused == ["artifacts/r1/c.pem", "artifacts/r1/../../..",
                              "artifacts/r1/../../../x"]
    assert list((tmp_path / "elsewhere").iterdir()) == []
    assert not (tmp_path / "x").exists()
    assert (root / "artifacts/r1/b.pem").read_bytes() == b"b"


def test_a_run_with_names_that_bypass_the_console_writes_inside_only(tmp_path: Path) -> None:
    """Defence in depth: names put straight into the router state (as a future command
    with a looser grammar could) still cannot leave the folder; the summary says what
    was refused."""
    scenario = load_scenario_text(BASE.replace("      configure terminal\n", ""), "x.yaml")
    result = run_scenario(scenario)
    router = result.world.routers["ca"]
    outside = tmp_path / "outside"
    for name in (f"{outside}/pwned", "../../../../esc-tp", "../../x"):
        tp = Trustpoint(name)
        tp.ca_cert = _any_certificate()
        router.running.trustpoints[name] = tp
        router.record_artifact(f"{name}.ca.pem", b"x")
    out = tmp_path / "deep" / "er" / "out"
    before = _files_under(tmp_path)
    write_output(result, out)
    assert _outside(_files_under(tmp_path) - before, out) == set()
    summary = (out / "summary.json").read_text()
    assert "refused_paths" in summary and "esc-tp.ca.pem" in summary


def _any_certificate():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID
    from routerkit import Lab

    key = Lab().keys.get("confinement", 1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(datetime(2005, 1, 1, tzinfo=UTC))
            .not_valid_after(datetime(2006, 1, 1, tzinfo=UTC)).sign(key, hashes.SHA256()))
