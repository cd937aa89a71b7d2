"""`pkilab serve`: a scenario's simulated CAs on 127.0.0.1, in host time, for real clients.

micromdm's `scepclient` enrolls with the simulated root and with a simulated subordinate
CA built during the warm-up; `openssl verify` accepts the certificates without `-attime`
(they carry the host's time); Ctrl-C stops the serving and leaves a complete output
folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from child_signals import answer_ctrl_c
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from sim.pki import scep

SCEPCLIENT = shutil.which("scepclient")
needs_scepclient = pytest.mark.skipif(
    SCEPCLIENT is None,
    reason="micromdm scepclient is not installed (Debian package `scep`; .ci/run installs it)")
SCEP_PATH = "/cgi-bin/pkiclient.exe"

SCENARIO = """\
name: served-hierarchy
description: A root CA and a subordinate CA under it, served to real SCEP clients.
seed: 11
start: 2005-01-06T21:00:00Z
duration: 1h
routers:
  root:
    address: 10.0.0.1
    config: |
      hostname root
      ip http server
      crypto pki server root
       grant auto
       no shutdown
  sub1:
    address: 10.0.1.1
    config: |
      hostname sub1
      ip http server
links:
  - {endpoints: [root, sub1]}
events:
  - at: 20s
    router: sub1
    cli: |
      enable
      configure terminal
      crypto pki trustpoint sub1
      enrollment url http://10.0.0.1
      exit
      crypto pki server sub1
      grant auto
      mode sub-cs
      no shutdown
      end
    input: [sub1pass1, sub1pass1, "yes"]
  - {at: 1m, router: root, cli: "enable\\ncrypto pki server root grant all"}
"""


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _start_serving(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    scenario = tmp_path / "served.yaml"
    scenario.write_text(SCENARIO)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "serve", str(scenario), "--out", str(tmp_path / "out"),
         *extra], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_clean_env(), preexec_fn=answer_ctrl_c)
    urls: dict[str, str] = {}
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        found = re.search(r"│ (\w+)\s+│ [\d.]+\s+│ (http://127\.0\.0\.1:\d+)", line)
        if found:
            urls[found[1]] = found[2]
        if "Ctrl-C stops" in line:
            return proc, urls
    proc.kill()
    raise AssertionError(f"pkilab serve did not start: {proc.stderr.read() if proc.stderr else ''}")


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, out, err


def _ca_certificates(url: str) -> list[x509.Certificate]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{url}{SCEP_PATH}?operation=GetCACert&message=x", timeout=30) as reply:
        content_type = reply.headers["Content-Type"]
        body = reply.read()
    if content_type.startswith(scep.CONTENT_TYPES["ca"]):
        return [x509.load_der_x509_certificate(body)]
    certs, _crls = scep.parse_degenerate(body)
    return certs


def _enroll(url: str, folder: Path, cn: str) -> subprocess.CompletedProcess[str]:
    folder.mkdir()
    return subprocess.run(
        [str(SCEPCLIENT), "-private-key", str(folder / "client.key"),
         "-server-url", url + SCEP_PATH, "-cn", cn, "-organization", "pkilab"],
        cwd=folder, capture_output=True, text=True, timeout=120, env=_clean_env())


def _pem(path: Path, certs: list[x509.Certificate]) -> Path:
    path.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in certs))
    return path


@needs_scepclient
def test_scepclient_enrolls_with_a_served_root_and_sub_ca_valid_at_the_host_time(
        tmp_path: Path) -> None:
    """A real `scepclient` could not enroll with a CA served by `pkilab serve`, its certificate
    would fail `openssl verify` now, or Ctrl-C would leave an incomplete output folder."""
    proc, urls = _start_serving(tmp_path, "--warm-up", "3m")
    try:
        assert set(urls) == {"root", "sub1"}, urls
        root_certs = _ca_certificates(urls["root"])
        sub_chain = _ca_certificates(urls["sub1"])
        assert [c.subject.rfc4514_string() for c in sub_chain] == ["CN=sub1", "CN=root"]
        root_pem = _pem(tmp_path / "root.pem", root_certs)
        sub_pem = _pem(tmp_path / "sub1.pem", sub_chain[:1])

        for name, cn in (("root", "client-of-root"), ("sub1", "client-of-sub1")):
            enrolled = _enroll(urls[name], tmp_path / name, cn)
            assert enrolled.returncode == 0, enrolled.stdout + enrolled.stderr
            # No -attime: the certificate is valid now, by the host's clock.
            untrusted = ["-untrusted", str(sub_pem)] if name == "sub1" else []
            verified = subprocess.run(
                ["openssl", "verify", "-auth_level", "0", "-CAfile", str(root_pem),
                 *untrusted, "client.pem"], cwd=tmp_path / name, capture_output=True,
                text=True, timeout=30)
            assert verified.stdout.strip() == "client.pem: OK", verified.stdout + verified.stderr
    finally:
        code, out, err = _stop(proc)
    assert code == 0, out + err
    assert "Traceback" not in err
    folder = tmp_path / "out"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["scenario"] == "served-hierarchy"
    assert (folder / "report.html").is_file()
    issued = sorted(p.name for p in (folder / "artifacts" / "root" / "run").iterdir()
                    if "-issued-" in p.name)
    assert len(issued) == 2, issued  # sub1's CA certificate, then the root's client
    transcript = (folder / "transcripts" / "sub1.txt").read_text()
    assert "% Certificate Server enabled." in transcript


def test_serve_refuses_a_router_that_does_not_exist(tmp_path: Path) -> None:
    """`pkilab serve --router` with an unknown name would give a traceback instead of `no router
    named` and exit status 2."""
    scenario = tmp_path / "served.yaml"
    scenario.write_text(SCENARIO)
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "serve", str(scenario), "--router", "nope",
         "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=60,
        env=_clean_env())
    assert proc.returncode == 2
    assert "no router named 'nope'" in proc.stderr
    assert "Traceback" not in proc.stderr
