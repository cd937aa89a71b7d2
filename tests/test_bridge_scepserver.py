"""Simulated routers and a simulated sub-CA enroll with micromdm's real `scepserver`.

scepserver 2.1.0 listens on every interface and has no bind flag (scep.md 3.2), so it
only ever runs inside a fresh network namespace whose one interface is `lo`. The test
starts this file as a driver under `unshare --net --pid --fork --kill-child`: the driver
is PID 1 of a new PID namespace too, so when it ends, or when `unshare` is killed on a
timeout, the kernel kills scepserver with it. Inside, the driver brings `lo` up, refuses
to go on if any other interface exists, makes a scepserver CA, serves it on two ports of
127.0.0.1 and runs `pkilab run` on a scenario whose `bridge:` section maps two simulated
addresses to them:

- 10.9.9.9 -> http://127.0.0.1:8080/scep, scepserver with `-challenge secret123`: r1 types
  the right challenge and is granted, r2 types a wrong one and is rejected (scepserver
  answers FAILURE badRequest, scep.md 1.12).
- 10.9.9.10 -> http://127.0.0.1:8081/scep, the same depot served without a challenge: the
  simulated sub-CA `sub` (`mode sub-cs`), whose request IOS sends without a challenge
  password (pkilab has no trustpoint `password` command yet).

Both doors share one depot, so one CA issues everything; a bridged exchange blocks the
single-threaded simulation, so the two scepserver processes never sign at the same time.
The routers name themselves with `subject-name`: scepserver refuses a second request for
a DN it has issued (`DN already exists`), and a subject that holds only IOS's
unstructuredName is an empty DN to it, so two routers without `subject-name` collide.

The scenario starts at the host's current time (the test reads the host clock; library
code never does): scepserver dates certificates by the host clock, and `openssl verify`
then passes without `-attime`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

SCEPSERVER = shutil.which("scepserver")
UNSHARE = shutil.which("unshare")
IP = shutil.which("ip")
CHALLENGE = "secret123"
PORTS = (8080, 8081)  # inside the fresh namespace, nothing else can hold them
DRIVER_TIMEOUT = 150.0
PKILAB_TIMEOUT = 120.0
PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                   "ALL_PROXY", "no_proxy", "NO_PROXY")

SCENARIO = """\
name: bridge-scepserver
description: |
  Routers r1 and r2 and the subordinate CA sub enroll with micromdm's scepserver, a real
  SCEP CA on this host's loopback, through bridges at 10.9.9.9 (challenge required) and
  10.9.9.10 (no challenge).
start: {start}
duration: 4m
routers:
  r1:
    address: 10.0.0.1
    config: hostname r1
  r2:
    address: 10.0.0.2
    config: hostname r2
  sub:
    address: 10.0.0.3
    config: |
      hostname sub
      ip http server
  core:
    address: 10.0.0.254
    config: hostname core
bridge:
  realca:
    address: 10.9.9.9
    url: http://127.0.0.1:{port}/scep
  realca-open:
    address: 10.9.9.10
    url: http://127.0.0.1:{open_port}/scep
links:
  - {{endpoints: [r1, core], latency: 2ms}}
  - {{endpoints: [r2, core], latency: 2ms}}
  - {{endpoints: [sub, core], latency: 2ms}}
  - {{endpoints: [core, realca], latency: 10ms}}
  - {{endpoints: [core, realca-open], latency: 10ms}}
events:
  - at: 5s
    router: r1
    cli: |
      enable
      debug crypto pki transactions
      configure terminal
      crypto pki trustpoint realca
      enrollment url http://10.9.9.9
      subject-name CN=r1.lab,O=pkilab
      exit
      crypto pki authenticate realca
      crypto pki enroll realca
    input: ["yes", {challenge}, {challenge}, "no", "no", "yes"]
  - at: 5s
    router: r2
    cli: |
      enable
      debug crypto pki transactions
      configure terminal
      crypto pki trustpoint realca
      enrollment url http://10.9.9.9
      subject-name CN=r2.lab,O=pkilab
      exit
      crypto pki authenticate realca
      crypto pki enroll realca
    input: ["yes", not-the-challenge, not-the-challenge, "no", "no", "yes"]
  - at: 30s
    router: sub
    cli: |
      enable
      debug crypto pki transactions
      configure terminal
      crypto pki trustpoint sub
      enrollment url http://10.9.9.10
      exit
      crypto pki server sub
      mode sub-cs
      no shutdown
    input: [subpass12, subpass12, "yes"]
expect:
  - router: r1
    transcript_contains:
      - "Content-Type indicates we have received a CA certificate."
      - "Trustpoint CA certificate accepted."
      - "CRYPTO_PKI: status = 100: certificate is granted"
      - "%PKI-6-CERTRET: Certificate received from Certificate Authority"
  - router: r1
    show: show crypto pki certificates
    contains: ["ou=SCEP CA,o=scep-ca,c=US", "Associated Trustpoints: realca"]
  - router: r2
    transcript_contains:
      - "Trustpoint CA certificate accepted."
      - "CRYPTO_PKI: status = 1: failInfo = 2"
      - "%PKI-6-CERTREJECT: Certificate enrollment request was rejected by Certificate \
Authority for Trustpoint realca"
  - router: sub
    transcript_contains:
      - "Trustpoint CA certificate accepted."
      - "% Certificate request sent to Certificate Authority"
      - "CRYPTO_PKI: status = 100: certificate is granted"
      - "%PKI-6-CERTRET: Certificate received from Certificate Authority"
      # scepserver signs every request as an end entity's: a subordinate CA cannot
      # sign with that, and says so rather than issue certificates nobody accepts.
      - "is not a CA certificate (it lacks BasicConstraints CA:TRUE or keyCertSign)"
  - {{router: sub, server_state: check failed}}
"""


def _missing() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root to make a network namespace (CI runs as root)"
    for tool, path, package in (("unshare", UNSHARE, "util-linux"), ("ip", IP, "iproute2"),
                                ("scepserver", SCEPSERVER, "scep")):
        if path is None:
            return f"{tool} is not installed (Debian package `{package}`; .ci/run installs it)"
    probe = subprocess.run([str(UNSHARE), "--net", "true"], capture_output=True, text=True,
                           timeout=30, check=False)
    if probe.returncode != 0:
        # scepserver binds every interface: without a namespace of its own it must not run.
        return f"this machine cannot make a network namespace: {probe.stderr.strip()}"
    return None


needs_namespace = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


def _openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=30, check=False)


def _diagnosis(work: Path, proc: subprocess.CompletedProcess[str] | None = None) -> str:
    parts = []
    if proc is not None:
        parts += [f"driver exit {proc.returncode}", proc.stdout[-4000:], proc.stderr[-4000:]]
    for name in ("pkilab.txt", "scepserver-8080.log", "scepserver-8081.log"):
        if (work / name).is_file():
            parts += [f"--- {name} ---", (work / name).read_text(errors="replace")[-4000:]]
    for transcript in sorted((work / "out" / "transcripts").glob("*.txt")):
        parts += [f"--- {transcript.name} ---", transcript.read_text()[-3000:]]
    return "\n".join(parts)


@needs_namespace
def test_routers_and_a_sub_ca_enroll_with_micromdm_scepserver(tmp_path: Path) -> None:
    """Simulated routers and a sub-CA could not enroll through the bridge with a real SCEP server
    (micromdm scepserver)."""
    start = datetime.now(UTC).replace(microsecond=0)
    (tmp_path / "scenario.yaml").write_text(SCENARIO.format(
        start=start.strftime("%Y-%m-%dT%H:%M:%SZ"), port=PORTS[0], open_port=PORTS[1],
        challenge=CHALLENGE))
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    proc = subprocess.run(
        [str(UNSHARE), "--net", "--pid", "--fork", "--kill-child", "--",
         sys.executable, str(Path(__file__).resolve()), "--driver", str(tmp_path)],
        capture_output=True, text=True, timeout=DRIVER_TIMEOUT, env=env, check=False)
    assert proc.returncode == 0, _diagnosis(tmp_path, proc)
    outcome = json.loads((tmp_path / "driver.json").read_text())
    assert outcome["interfaces"] == ["lo"], outcome
    assert outcome["pkilab_exit"] == 0, _diagnosis(tmp_path, proc)  # every expectation held

    out = tmp_path / "out"
    ca_pem = tmp_path / "depot" / "ca.pem"
    # scepserver's own records: r1's and sub's certificates, and nothing for r2.
    index = (tmp_path / "depot" / "index.txt").read_text()
    assert "/CN=r1.lab" in index and "/CN=sub" in index and "r2.lab" not in index, index
    server_log = (tmp_path / "scepserver-8080.log").read_text()
    assert 'err="invalid challenge"' in server_log, server_log[-2000:]

    # r1 holds scepserver's CA and a certificate it issued, verified by openssl at the
    # current host time.
    r1 = out / "artifacts" / "r1"
    assert (r1 / "realca.ca.pem").read_bytes().strip() == ca_pem.read_bytes().strip()
    for cert in (r1 / "realca.cert.pem", out / "artifacts" / "sub" / "sub.cert.pem"):
        verified = _openssl("verify", "-CAfile", str(ca_pem), str(cert), cwd=tmp_path)
        assert verified.returncode == 0 and verified.stdout.strip().endswith(": OK"), (
            verified.stdout + verified.stderr + _diagnosis(tmp_path))
    ca = x509.load_pem_x509_certificate(ca_pem.read_bytes())
    issued = x509.load_pem_x509_certificate((r1 / "realca.cert.pem").read_bytes())
    assert issued.issuer == ca.subject
    assert issued.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "r1.lab"
    assert not (out / "artifacts" / "r2" / "realca.cert.pem").exists()

    # The bridge carried the simulated SCEP path to scepserver's /scep, and every
    # exchange is in the trace.
    trace = [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]
    bridged = [e["data"] for e in trace if e["category"] == "bridge"]
    requests = [e for e in bridged if "real_target" in e]
    operations = {e["real_target"].split("&")[0] for e in requests}
    assert operations == {"/scep?operation=GetCACert", "/scep?operation=GetCACaps",
                          "/scep?operation=PKIOperation"}, operations
    assert all(e["target"].startswith("/cgi-bin/pkiclient.exe?") for e in requests)
    assert not [e for e in bridged if "reason" in e], bridged


# -- the driver, run inside the namespace ------------------------------------------------
def _wait_for(port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def drive(work: Path) -> int:
    """Inside the namespace: lo up, check it is alone, serve the CA, run the scenario."""
    subprocess.run([str(IP), "link", "set", "lo", "up"], check=True, timeout=10)
    interfaces = sorted(name for _, name in socket.if_nameindex())
    outcome: dict[str, object] = {"interfaces": interfaces}
    if interfaces != ["lo"]:
        # Never start scepserver where it could be reached from (or reach) elsewhere.
        (work / "driver.json").write_text(json.dumps(outcome))
        print(f"refusing to run: the namespace has interfaces {interfaces}", file=sys.stderr)
        return 3
    depot = work / "depot"
    subprocess.run([str(SCEPSERVER), "ca", "-init", "-depot", str(depot), "-keySize", "2048"],
                   check=True, timeout=60, capture_output=True)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        for port, extra in ((PORTS[0], ["-challenge", CHALLENGE]), (PORTS[1], [])):
            log = (work / f"scepserver-{port}.log").open("wb")
            servers.append(subprocess.Popen(
                [str(SCEPSERVER), "-depot", str(depot), "-port", str(port), "-debug", *extra],
                stdout=log, stderr=subprocess.STDOUT))
            log.close()
        deadline = time.monotonic() + 20
        for port in PORTS:
            _wait_for(port, deadline)
        run = subprocess.run(
            [sys.executable, "-m", "sim", "run", str(work / "scenario.yaml"), "--out",
             str(work / "out")], capture_output=True, text=True, timeout=PKILAB_TIMEOUT,
            check=False)
        (work / "pkilab.txt").write_text(run.stdout + run.stderr)
        outcome["pkilab_exit"] = run.returncode
    finally:
        for server in servers:
            _stop(server)
    (work / "driver.json").write_text(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--driver":
        sys.exit("usage: test_bridge_scepserver.py --driver WORKDIR (run by the test, "
                 "inside a fresh network namespace)")
    sys.exit(drive(Path(sys.argv[2])))
