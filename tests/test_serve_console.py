"""`pkilab serve --console`: a real SCEP client polls a simulated CA while a person
grants its request at the CA's IOS console, in the same process.

micromdm's `scepclient` gets PENDING (the root grants by hand), and sends its request
again every 30 s; the operator lists the request database at the root's console and
grants it; the client's next try gets its certificate, which `openssl verify` accepts
without `-attime` (simulated time follows the host clock).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pty_terminal import Terminal

SCEPCLIENT = shutil.which("scepclient")

SCENARIO = """\
name: served-manual-grant
description: A root CA that grants by hand, served to a real SCEP client.
seed: 5
start: 2005-01-06T21:00:00Z
duration: 1h
routers:
  root:
    address: 10.0.0.1
    config: |
      hostname root
      ip http server
      crypto pki server root
       no shutdown
"""


@pytest.mark.skipif(SCEPCLIENT is None, reason="micromdm scepclient is not installed "
                    "(Debian package `scep`; .ci/run installs it)")
def test_a_manual_grant_at_the_console_while_scepclient_polls(tmp_path: Path) -> None:
    """Under `pkilab serve --console`, a polling `scepclient` request would not show as pending, or
    granting it at the CA's console would not give the client a certificate valid now."""
    scenario = tmp_path / "served.yaml"
    scenario.write_text(SCENARIO)
    term = Terminal("serve", str(scenario), "--console", "--out", str(tmp_path / "out"),
                    cwd=tmp_path)
    client: subprocess.Popen[str] | None = None
    try:
        url = term.wait_for(r"http://127\.0\.0\.1:\d+", on_screen=False)
        term.wait_for(r":help for lab commands")
        term.line("", "root>")
        term.line("enable", "root#")
        # The CA generates its key, then says it is enabled (a syslog line arriving on
        # the console while the operator types).
        term.wait_for(r"%PKI-6-CS_ENABLED: Certificate server now enabled", on_screen=False)
        folder = tmp_path / "client"
        folder.mkdir()
        client = subprocess.Popen(
            [str(SCEPCLIENT), "-private-key", "client.key",
             "-server-url", url + "/cgi-bin/pkiclient.exe", "-cn", "polling-client",
             "-organization", "pkilab"],
            cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=term.env)
        # The request arrives and waits for the operator.
        for _attempt in range(60):
            term.line("crypto pki server root info requests", "root#")
            if re.search(r"^1\s+pending\s", term.text(), re.MULTILINE):
                break
            term.pump(0.5)
        else:
            client.kill()
            raise AssertionError(f"no pending request; the client said:\n"
                                 f"{client.communicate()[0]}\nthe screen:\n{term.text()}")
        assert client.poll() is None  # still polling
        term.line("crypto pki server root grant 1", "root#")
        output, _ = client.communicate(timeout=90)
        assert client.returncode == 0, output
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{url}/cgi-bin/pkiclient.exe?operation=GetCACert&message=root",
                         timeout=30) as reply:
            root = x509.load_der_x509_certificate(reply.read())
        (folder / "root.pem").write_bytes(root.public_bytes(Encoding.PEM))
        verified = subprocess.run(  # no -attime: valid now, by the host's clock
            ["openssl", "verify", "-auth_level", "0", "-CAfile", "root.pem", "client.pem"],
            cwd=folder, capture_output=True, text=True, timeout=30)
        assert verified.stdout.strip() == "client.pem: OK", verified.stdout + verified.stderr
        term.line(":quit")
        term.wait_for(r"^output folder: ", timeout=120, on_screen=False)
        issued = [p.name for p in (tmp_path / "out" / "artifacts" / "root").rglob("*")
                  if "-issued-" in p.name]
        assert len(issued) == 1, issued
    finally:
        if client is not None and client.poll() is None:
            client.kill()
        term.close()
