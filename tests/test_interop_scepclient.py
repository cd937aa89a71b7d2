"""Interop over real sockets: micromdm's `scepclient` (Debian `scep` 2.1.0) against a simulated
IOS certificate server served on 127.0.0.1 by `sim.net.loopback.LoopbackServer`.

scep.md section 3.3: scepclient sends GetCACert, GetCACaps, then PKIOperation, by POST when
the caps list `POSTPKIOperation` (our `hash sha256` default) and otherwise by GET with
URL-safe base64 in `message=` (our legacy `hash sha1` profile). Its envelope is always DES
and its digest always SHA-1 (1.10); it stores certs[0] of the reply's degenerate as its
certificate (1.12, P3). A third test drives pkilab's own enrollment client over real HTTP.

The lab starts at the host's current UTC time so the certificates are dated now (the test
reads the host clock; library code never does).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import urllib.request
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import routerkit
from cryptography import x509
from cryptography.x509.oid import NameOID
from routerkit import Lab

from sim.kernel.transcript import transcript_lines
from sim.net.http import HttpRequest, HttpResponse
from sim.net.loopback import LoopbackServer
from sim.pki import scep, x509util
from sim.pki.ca_requests import RequestKind, RequestState
from sim.pki.scep_client import Enrollment
from sim.router.router import Router

SCEPCLIENT = shutil.which("scepclient")
SCEP_PATH = "/cgi-bin/pkiclient.exe"
PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                   "ALL_PROXY")

needs_scepclient = pytest.mark.skipif(
    SCEPCLIENT is None,
    reason="micromdm scepclient is not installed (Debian package `scep`; .ci/run installs it)")


def lab_with_ca(monkeypatch: pytest.MonkeyPatch, hash_name: str | None = None
                ) -> tuple[Lab, Router]:
    """A lab dated now (UTC, whole seconds) with an enabled root CA `ca` granting at once."""
    monkeypatch.setattr(routerkit, "START", datetime.now(UTC).replace(microsecond=0))
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    lines = ["enable", "configure terminal", "crypto pki server ca", "grant auto"]
    if hash_name is not None:
        lines.append(f"hash {hash_name}")
    lines += ["no shutdown", "end"]
    lab.type(ca, "\n".join(lines), ("cisco123", "cisco123"))
    assert ca.running.servers["ca"].ca_cert is not None, "\n".join(
        transcript_lines(lab.env.trace, "ca"))
    return lab, ca


def recording(ca: Router, seen: list[HttpRequest]
              ) -> Callable[[HttpRequest], Generator[Any, Any, HttpResponse]]:
    """The CA's HTTP handler, remembering every request that reaches it."""

    def handler(request: HttpRequest) -> Generator[Any, Any, HttpResponse]:
        seen.append(request)
        return (yield from ca.http_handler(request))

    return handler


def without_proxy() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}


def run(args: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=without_proxy(), check=False)


def diagnosis(lab: Lab, proc: subprocess.CompletedProcess[str] | None = None) -> str:
    parts = []
    if proc is not None:
        parts += [f"{' '.join(map(str, proc.args))} -> exit {proc.returncode}",
                  "--- stdout ---", proc.stdout, "--- stderr ---", proc.stderr]
    parts += ["--- simulated router ca ---", *transcript_lines(lab.env.trace, "ca")]
    return "\n".join(parts)


def enroll_with_scepclient(lab: Lab, ca: Router, tmp_path: Path
                           ) -> tuple[list[HttpRequest], subprocess.CompletedProcess[str]]:
    seen: list[HttpRequest] = []
    with LoopbackServer(lab.env, recording(ca, seen)) as server:
        proc = run([str(SCEPCLIENT), "-private-key", str(tmp_path / "client.key"),
                    "-server-url", server.url + SCEP_PATH,
                    "-cn", "interop.lab", "-organization", "pkilab", "-debug"], tmp_path)
    assert proc.returncode == 0, diagnosis(lab, proc)
    assert (tmp_path / "client.pem").is_file(), diagnosis(lab, proc)
    return seen, proc


def check_issued(lab: Lab, ca: Router, tmp_path: Path, proc: subprocess.CompletedProcess[str]
                 ) -> x509.Certificate:
    """client.pem names interop.lab, is issued by CN=ca, verifies, and is in the database."""
    cs = ca.running.servers["ca"]
    names = run(["openssl", "x509", "-in", "client.pem", "-noout", "-subject", "-issuer"],
                tmp_path)
    assert names.returncode == 0, names.stderr
    subject, issuer = names.stdout.splitlines()[:2]
    assert subject.startswith("subject=") and "CN = interop.lab" in subject, names.stdout
    assert "O = pkilab" in subject, names.stdout
    assert issuer == "issuer=CN = ca", names.stdout

    (tmp_path / "ca.pem").write_bytes(x509util.cert_pem(cs.ca_cert))
    # The simulation ran ahead of the host clock (console settling, key generation), so the
    # certificates start a minute or so in the host's future: verify at simulated time.
    # Policy is not under test (IOS-era CAs use 1024-bit keys and SHA-1): auth_level 0.
    when = str(int(lab.env.true_time().timestamp()))
    verified = run(["openssl", "verify", "-attime", when, "-auth_level", "0",
                    "-CAfile", "ca.pem", "client.pem"], tmp_path)
    assert verified.returncode == 0 and verified.stdout.strip() == "client.pem: OK", (
        f"{verified.stdout}{verified.stderr}\n{diagnosis(lab, proc)}")

    issued = x509.load_pem_x509_certificate((tmp_path / "client.pem").read_bytes())
    assert x509util.verify_signature(issued, cs.ca_cert.public_key())
    granted = [entry for entry in cs.requests
               if entry.kind is RequestKind.ROUTER and entry.state is RequestState.GRANTED
               and "interop.lab" in entry.subject_text]
    assert len(granted) == 1, [(e.req_id, e.state, e.subject_text) for e in cs.requests]
    assert granted[0].source == "scep"
    assert granted[0].certificate_der == x509util.cert_der(issued)
    return issued


def param(request: HttpRequest, name: str) -> str:
    """A raw (still percent-encoded) query parameter; Go orders them by name."""
    for part in request.query.split("&"):
        key, _, value = part.partition("=")
        if key == name:
            return value
    return ""


def operations(seen: list[HttpRequest]) -> list[tuple[str, str]]:
    return [(request.method, param(request, "operation")) for request in seen]


@needs_scepclient
def test_scepclient_enrolls_by_post_with_the_default_sha256_server(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A real SCEP client (micromdm scepclient) could not enroll by POST with a `hash sha256` CA, or
    its certificate would not verify."""
    lab, ca = lab_with_ca(monkeypatch)
    seen, proc = enroll_with_scepclient(lab, ca, tmp_path)
    assert operations(seen) == [("GET", "GetCACert"), ("GET", "GetCACaps"),
                                ("POST", "PKIOperation")], diagnosis(lab, proc)
    assert "pkiStatus=SUCCESS" in proc.stdout + proc.stderr
    check_issued(lab, ca, tmp_path, proc)


@needs_scepclient
def test_scepclient_enrolls_by_get_with_the_legacy_sha1_server(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With a `hash sha1` CA, micromdm scepclient's GET enrollment (URL-safe base64) would fail, or
    its certificate would not be SHA-1 signed."""
    lab, ca = lab_with_ca(monkeypatch, "sha1")
    seen, proc = enroll_with_scepclient(lab, ca, tmp_path)
    assert operations(seen) == [("GET", "GetCACert"), ("GET", "GetCACaps"),
                                ("GET", "PKIOperation")], diagnosis(lab, proc)
    message = param(seen[-1], "message")
    # scep.md 1.2/3.3: micromdm sends URL-safe base64; the server maps it back.
    assert message and "+" not in message and "/" not in message, message[:80]
    assert any(c in message for c in "-_"), message[:80]
    issued = check_issued(lab, ca, tmp_path, proc)
    assert issued.signature_hash_algorithm is not None
    assert issued.signature_hash_algorithm.name == "sha1"


def test_pkilab_enrollment_client_over_real_http(monkeypatch: pytest.MonkeyPatch) -> None:
    """GetCACert, GetCACaps or PKIOperation over real HTTP would return the wrong content type or
    data, so a client could not enroll."""
    lab, ca = lab_with_ca(monkeypatch)
    cs = ca.running.servers["ca"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with LoopbackServer(lab.env, ca.http_handler) as server:
        base = server.url + SCEP_PATH

        with opener.open(f"{base}?operation=GetCACert&message=ca", timeout=10) as reply:
            assert reply.status == 200
            assert reply.headers["Content-Type"] == scep.CONTENT_TYPES["ca"]
            ca_der = reply.read()
        assert ca_der == x509util.cert_der(cs.ca_cert)

        with opener.open(f"{base}?operation=GetCACaps&message=ca", timeout=10) as reply:
            assert reply.status == 200
            assert reply.headers["Content-Type"] == "text/plain"
            caps = scep.parse_caps(reply.read().decode("ascii"))
        assert {"POSTPKIOperation", "SHA-256", "AES"} <= caps

        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pyclient.lab")])
        enrollment = Enrollment("tp", lab.keys.get("pyclient", 1024), subject,
                                x509util.load_cert(ca_der), scep.RFC_8894,
                                random.Random(5).randbytes, lab.env.true_time())
        request = urllib.request.Request(
            f"{base}?operation=PKIOperation", data=enrollment.pkcs_req(lab.env.true_time()),
            method="POST", headers={"Content-Type": scep.CONTENT_TYPES["pki"]})
        with opener.open(request, timeout=10) as reply:
            assert reply.status == 200
            assert reply.headers["Content-Type"] == scep.CONTENT_TYPES["pki"]
            body = reply.read()

    outcome = enrollment.on_cert_rep(body)
    assert outcome.status is scep.PkiStatus.SUCCESS, (outcome, diagnosis(lab))
    assert outcome.verified
    assert outcome.certificate is not None
    assert outcome.certificate.subject == subject
    assert outcome.certificate.issuer == cs.ca_cert.subject
    assert x509util.verify_signature(outcome.certificate, cs.ca_cert.public_key())
    entry = cs.requests.find_by_transaction(enrollment.transaction_id)
    assert entry is not None and entry.state is RequestState.GRANTED
