"""Every artifact of a run is real: openssl verifies each issued chain and parses each
SCEP message."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sim.pki import x509util
from sim.scenario.loader import load_scenario
from sim.scenario.output import write_output
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


@pytest.fixture(scope="module")
def chained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    scenario = load_scenario(ROOT / "scenarios" / "hierarchy" / "chained-subordinates.yaml")
    result = run_scenario(scenario)
    out = tmp_path_factory.mktemp("chained")
    write_output(result, out)
    at_time = int(scenario.start.timestamp() + scenario.duration)
    return out, at_time


def _openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True)


def test_openssl_verifies_every_enrolled_certificate_to_the_root(chained) -> None:
    """A certificate or chain pkilab writes to artifacts/ would fail `openssl verify` against the
    root, so a teacher could not show students a real, checkable hierarchy."""
    out, at_time = chained
    checked = []
    for cert in sorted(out.glob("artifacts/*/*.cert.pem")):
        chain = cert.with_name(cert.name.replace(".cert.pem", ".chain.pem"))
        certs = [x509util.load_cert(block) for block in _pem_blocks(chain.read_bytes())]
        root = cert.parent / "root-only.pem"
        root.write_bytes(x509util.cert_pem(certs[-1]))
        done = _openssl("verify", "-attime", at_time, "-CAfile", root, "-untrusted", chain,
                        cert)
        assert done.returncode == 0, f"{cert}: {done.stdout}{done.stderr}"
        checked.append(cert.parent.name)
    # Routers at three levels and both subordinate CAs.
    assert sorted(checked) == ["r0", "r1", "r2", "sub1", "sub2"]


def test_subordinate_certificates_are_cas_and_routers_are_not(chained) -> None:
    """A subordinate CA's certificate would lack CA:TRUE and certificate signing, or a router's
    would wrongly have them, as `openssl x509 -text` shows."""
    out, _at = chained
    sub = _openssl("x509", "-in", out / "artifacts/sub2/sub2.cert.pem", "-noout", "-ext",
                   "basicConstraints,keyUsage").stdout
    assert "CA:TRUE" in sub and "Certificate Sign" in sub
    router = _openssl("x509", "-in", out / "artifacts/r2/ca.cert.pem", "-noout", "-text").stdout
    assert "CA:TRUE" not in router and "Issuer: O = pkilab, CN = sub2" in router


def test_openssl_parses_every_scep_message(chained) -> None:
    """The saved SCEP messages (PKCSReq, GetCertInitial, CertRep) would be missing from
    artifacts/ or unreadable by `openssl cms`."""
    out, _at = chained
    messages = sorted(out.glob("artifacts/*/run/*.der"))
    kinds = {m.name.split("-", 2)[-1] for m in messages}
    assert {"PKCSReq.der", "GetCertInitial.der", "CertRep-PENDING.der",
            "CertRep-SUCCESS.der"} <= kinds
    for message in messages:
        done = _openssl("cms", "-inform", "DER", "-cmsout", "-print", "-in", message)
        assert done.returncode == 0, f"{message}: {done.stderr}"
        assert "signerInfos" in done.stdout


def test_every_crl_and_csr_reads(chained) -> None:
    """A CRL or certificate request in artifacts/ would be missing or fail openssl's signature
    check, so the files could not be studied with real tools."""
    out, _at = chained
    crls = sorted(out.glob("artifacts/*/*.crl.pem"))
    assert len(crls) == 3
    for crl in crls:
        ca = crl.with_name(crl.name.replace(".crl.pem", ".ca.pem"))
        done = _openssl("crl", "-in", crl, "-noout", "-CAfile", ca)
        assert "verify OK" in done.stdout + done.stderr, f"{crl}: {done.stderr}"
    for csr in sorted(out.glob("artifacts/*/run/*.csr.pem")):
        done = _openssl("req", "-in", csr, "-noout", "-verify")
        assert done.returncode == 0 and "verify OK" in done.stdout + done.stderr


def _pem_blocks(data: bytes) -> list[bytes]:
    marker = b"-----END CERTIFICATE-----"
    return [part + marker + b"\n" for part in data.split(marker) if b"BEGIN" in part]
