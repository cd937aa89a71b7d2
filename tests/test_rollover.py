"""CA certificate rollover: `auto-rollover`, the shadow CA certificate, GetNextCACert,
`crypto pki server CS rollover [cancel]`, `grant auto rollover ca-cert`, clients' shadow
certificates, and the daily "valid chain at its own clock" invariant."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from sim.lab import Lab
from sim.net.http import HttpRequest
from sim.pki import cs_rollover, scep, x509util
from sim.pki.ca_requests import RequestKind
from sim.pki.cs_server import CertificateServer, CsConfig
from sim.router.rollover_host import RolloverHost
from sim.scenario import chain_watch
from sim.scenario.loader import load_scenarios_text
from sim.scenario.runner import run_scenario

DAY = 86400.0
CA_ANSWERS = ["cisco123", "cisco123"]
ENROLL_ANSWERS = ["yes", "pw", "pw", "no", "no", "yes"]


def _ca(lab: Lab, settings: str, release: str = "15.x") -> None:
    lab.add_router("ca", "10.0.0.1", "ip http server", release=release)
    lab.type("ca", f"""
        enable
        configure terminal
        crypto pki server ca
        grant auto
        {settings}
        no shutdown
        end
    """, CA_ANSWERS)


def _client(lab: Lab, name: str, address: str, url: str, auto_enroll: str = "auto-enroll 50"
            ) -> None:
    lab.add_router(name, address, release="15.x")
    lab.link("ca" if url.endswith("10.0.0.1") else "sub", name)
    lab.type(name, f"""
        enable
        configure terminal
        crypto pki trustpoint ca
        enrollment url {url}
        {auto_enroll}
        exit
        crypto pki authenticate ca
        crypto pki enroll ca
        end
    """, ENROLL_ANSWERS)


def _get(lab: Lab, router: str, operation: str) -> tuple[int, str, bytes]:
    request = HttpRequest.from_target(
        "GET", f"/cgi-bin/pkiclient.exe?operation={operation}&message=ca")
    r = lab.router(router)
    answer: list[tuple[int, str, bytes]] = []

    def ask() -> object:
        response = yield from r.http_handler(request)
        answer.append((response.status, response.header("Content-Type") or "",
                       response.body))

    lab.env.sim.process(ask())
    lab.run(5)
    return answer[0]


# -- configuration -----------------------------------------------------------------------------
def test_auto_rollover_lines_survive_write_memory_and_reload() -> None:
    """`auto-rollover` and `grant auto rollover ca-cert` would vanish from the running
    configuration or be lost by `write memory` and `reload`, so the CA would never roll
    over after a reboot."""
    lab = Lab(seed=31)
    lab.add_router("ca", "10.0.0.1", "ip http server", release="15.x")
    lab.type("ca", """
        enable
        configure terminal
        crypto pki server ca
        auto-rollover
        grant auto rollover ca-cert
        end
        write memory
    """)
    config = lab.show("ca", "show running-config")
    assert " auto-rollover 30" in config
    assert " grant auto rollover ca-cert" in config
    lab.reload("ca")
    lab.run(120)
    cs = lab.router("ca").running.servers["ca"]
    assert cs.config.auto_rollover_minutes == 30 * 24 * 60
    assert cs.config.grant_rollover == ("ca-cert",)
    lab.type("ca", """
        enable
        configure terminal
        crypto pki server ca
        auto-rollover 0 0 10
        no grant auto rollover ca-cert
        end
    """)
    config = lab.show("ca", "show running-config")
    assert " auto-rollover 0 0 10" in config
    assert "grant auto rollover" not in "\n".join(config)


def test_a_zero_overlap_is_refused_with_the_caret() -> None:
    """`auto-rollover 0` (a shadow due at the very expiry) would be taken silently instead
    of IOS's `% Invalid input detected at '^' marker.`"""
    lab = Lab(seed=32)
    lab.add_router("ca", "10.0.0.1", release="15.x")
    out = lab.type("ca", """
        enable
        configure terminal
        crypto pki server ca
        auto-rollover 0
    """)
    assert "% Invalid input detected at '^' marker." in out
    assert lab.router("ca").running.servers["ca"].config.auto_rollover_minutes is None


def test_overlap_is_written_as_typed() -> None:
    """The running configuration would show an overlap typed in days, hours and minutes
    differently from how it was typed."""
    assert cs_rollover.overlap_minutes(None) == 30 * 24 * 60
    assert cs_rollover.overlap_text(cs_rollover.overlap_minutes(2)) == "2"
    assert cs_rollover.overlap_text(cs_rollover.overlap_minutes(1, 12)) == "1 12"
    assert cs_rollover.overlap_text(cs_rollover.overlap_minutes(0, 0, 10)) == "0 0 10"
    with pytest.raises(ValueError):
        cs_rollover.overlap_minutes(0, 0, 0)


# -- the server ------------------------------------------------------------------------------
def test_auto_rollover_makes_the_shadow_at_expiry_minus_the_overlap() -> None:
    """The CA would not make its shadow CA certificate when `auto-rollover`'s overlap
    begins (or at the wrong moment), the timer listing and `show crypto pki server` would
    not say when, and GetCACaps would not offer GetNextCACert."""
    lab = Lab(seed=33)
    _ca(lab, "lifetime ca-certificate 10\n auto-rollover 3")
    cs = lab.router("ca").running.servers["ca"]
    assert cs.ca_cert is not None
    due = cs.ca_cert.not_valid_after_utc - timedelta(days=3)
    show = lab.show("ca", "show crypto pki server")
    assert "    Auto-Rollover configured, overlap period 3 days" in show
    assert any(line.startswith("    Autorollover timer: ") for line in show)
    assert any(line.endswith("CS SHADOW CERT GENERATION")
               for line in lab.show("ca", "show crypto pki timers"))
    status, _type, caps = _get(lab, "ca", "GetCACaps")
    assert status == 200 and "GetNextCACert" in caps.decode().split()
    lab.run(6.9 * DAY)
    assert cs.rollover.certificate is None
    lab.run(0.2 * DAY)
    shadow = cs.rollover.certificate
    assert shadow is not None and shadow.subject == cs.ca_cert.subject
    assert shadow.not_valid_after_utc > cs.ca_cert.not_valid_after_utc
    assert abs(shadow.not_valid_before_utc - due) < timedelta(minutes=1)
    assert any("%PKI-6-CS_ROLLOVER_AVAILABLE" in line for line in lab.transcript("ca"))
    show = lab.show("ca", "show crypto pki server")
    assert "    Rollover status: available for rollover" in show
    fingerprint = x509util.fingerprint(x509util.cert_der(shadow), "md5")
    assert f"    Rollover CA cert fingerprint: {fingerprint}" in show


def test_get_next_ca_cert_answers_the_shadow_signed_by_the_current_ca() -> None:
    """GetNextCACert would not hand out the shadow CA certificate as RFC 8894 4.7 says (a
    SignedData from the current CA holding a certs-only message), so clients could not
    trust the next CA; without a shadow it would not say there is none."""
    lab = Lab(seed=34)
    _ca(lab, "")
    cs = lab.router("ca").running.servers["ca"]
    assert _get(lab, "ca", "GetNextCACert")[0] == 404
    lab.type("ca", "crypto pki server ca rollover")
    status, content_type, body = _get(lab, "ca", "GetNextCACert")
    assert status == 200 and content_type == "application/x-x509-next-ca-cert"
    assert cs.ca_cert is not None and cs.rollover.certificate is not None
    certs = cs_rollover.read_next_ca_cert(body, cs.ca_cert)
    assert certs == [cs.rollover.certificate]
    stranger = lab.router("ca").generate_key("stranger", 1024)
    forged = cs_rollover.signed_data(scep.degenerate_certs(certs), cs.ca_cert, stranger)
    with pytest.raises(ValueError):
        cs_rollover.read_next_ca_cert(forged, cs.ca_cert)


def test_rollover_cancel_drops_the_shadow_and_auto_rollover_leaves_it_dropped() -> None:
    """`crypto pki server CS rollover cancel` would leave the shadow in place, or
    auto-rollover would make a new one at once behind the operator's back."""
    lab = Lab(seed=35)
    _ca(lab, "lifetime ca-certificate 4\n auto-rollover 2")
    cs = lab.router("ca").running.servers["ca"]
    out = lab.type("ca", "crypto pki server ca rollover cancel")
    assert "% No rollover is in progress" in out
    lab.type("ca", "crypto pki server ca rollover")
    first = cs.rollover.certificate
    assert first is not None
    assert "% A rollover is already in progress" in lab.type("ca", "crypto pki server ca rollover")
    lab.type("ca", "crypto pki server ca rollover cancel")
    assert not cs.rollover.active
    lab.run(2.5 * DAY)
    assert not cs.rollover.active
    assert not any(line.startswith("    Rollover") for line in lab.show(
        "ca", "show crypto pki server"))
    assert "Certificate server 'nope' is not known" in lab.type(
        "ca", "crypto pki server nope rollover")


def test_the_shadow_becomes_the_ca_when_the_old_certificate_expires() -> None:
    """At the CA certificate's expiry the server would keep signing with the old key (or
    stop issuing, CS_CERT_EXPIRED) instead of switching to its shadow, and a client
    with `auto-enroll` would be left with an expired chain."""
    lab = Lab(seed=36)
    _ca(lab, "lifetime ca-certificate 2\n lifetime certificate 1\n auto-rollover 1")
    _client(lab, "r1", "10.0.0.2", "http://10.0.0.1")
    ca = lab.router("ca")
    cs = ca.running.servers["ca"]
    old = cs.ca_cert
    assert old is not None
    lab.run(1.6 * DAY)
    tp = lab.router("r1").running.trustpoints["ca"]
    assert tp.shadow.id_cert is not None and tp.shadow.ca_cert == cs.rollover.certificate
    assert any(line.startswith("Rollover Certificate") for line in lab.show(
        "r1", "show crypto pki certificates"))
    lab.run(0.6 * DAY)
    assert cs.ca_cert != old and cs.ca_cert is not None
    assert ca.running.trustpoints["ca"].ca_cert == cs.ca_cert
    pair = ca.running.keys.get("ca")
    assert pair is not None and x509util.verify_signature(cs.ca_cert, pair.key.public_key())
    assert not any("CS_CERT_EXPIRED" in line for line in lab.transcript("ca"))
    assert tp.ca_cert == cs.ca_cert and tp.id_cert is not None
    assert x509util.verify_signature(tp.id_cert, cs.ca_cert.public_key())
    assert not chain_watch.router_problems(lab.router("r1"), lab.env.true_time())


def test_the_shadow_survives_a_reload() -> None:
    """A reload would lose the shadow CA certificate the clients already fetched, and the
    CA would make a different one, stranding them."""
    lab = Lab(seed=37)
    _ca(lab, "")
    lab.type("ca", "crypto pki server ca rollover\nwrite memory")
    cs = lab.router("ca").running.servers["ca"]
    shadow = cs.rollover.certificate
    assert shadow is not None
    lab.reload("ca")
    lab.run(300)
    again = lab.router("ca").running.servers["ca"]
    assert again.ca_cert is not None and again.rollover.certificate == shadow


# -- subordinate CAs ---------------------------------------------------------------------------
def _hierarchy(lab: Lab, root_settings: str) -> None:
    _ca(lab, root_settings)
    lab.add_router("sub", "10.0.1.1", "ip http server", release="15.x")
    lab.link("ca", "sub")
    lab.type("sub", """
        enable
        configure terminal
        crypto pki trustpoint sub
        enrollment url http://10.0.0.1
        exit
        crypto pki server sub
        mode sub-cs
        grant auto
        no shutdown
        end
    """, ["subpass01", "subpass01", "yes"])
    lab.type("ca", "crypto pki server ca grant all")
    lab.run(300)


def test_a_sub_ca_rollover_waits_for_the_root_administrator_by_default() -> None:
    """A subordinate CA's rollover request would be granted by a root without `grant auto
    rollover ca-cert`, against "Sub-CA/RA rollover requests need manual grant"."""
    lab = Lab(seed=38)
    _hierarchy(lab, "")
    sub = lab.router("sub").running.servers["sub"]
    assert sub.ca_cert is not None
    lab.type("sub", "crypto pki server sub rollover", wait=False)
    lab.run(120)
    assert sub.rollover.active and sub.rollover.certificate is None
    assert "    Rollover status: pending" in lab.show("sub", "show crypto pki server")
    root = lab.router("ca").running.servers["ca"]
    pending = [e for e in root.requests if e.state.value == "pending"]
    assert len(pending) == 1
    lab.type("ca", f"crypto pki server ca grant {pending[0].req_id}")
    lab.run(180)
    shadow = sub.rollover.certificate
    assert shadow is not None and shadow.subject == sub.ca_cert.subject
    assert x509util.verify_signature(shadow, root.ca_cert.public_key())


def test_grant_auto_rollover_ca_cert_grants_the_sub_ca_rollover_at_once() -> None:
    """With `grant auto rollover ca-cert` the root would still hold a subordinate's
    rollover request for the administrator, while its first request (not a rollover)
    must still wait."""
    lab = Lab(seed=39)
    _hierarchy(lab, "grant auto rollover ca-cert")
    sub = lab.router("sub").running.servers["sub"]
    lab.type("sub", "crypto pki server sub rollover")
    lab.run(120)
    assert sub.rollover.certificate is not None
    root = lab.router("ca").running.servers["ca"]
    assert all(e.state.value == "granted" for e in root.requests)


# -- the invariant -----------------------------------------------------------------------------
def test_the_chain_invariant_names_an_expired_certificate() -> None:
    """The daily invariant would pass a router whose auto-enrolled chain has expired at its
    own clock (a CA that does not roll over), so a broken rollover would go unnoticed."""
    lab = Lab(seed=40)
    _ca(lab, "lifetime ca-certificate 1")
    _client(lab, "r1", "10.0.0.2", "http://10.0.0.1")
    assert not chain_watch.router_problems(lab.router("r1"), lab.env.true_time())
    lab.run(1.1 * DAY)
    problems = chain_watch.router_problems(lab.router("r1"), lab.env.true_time())
    assert problems and "expired" in problems[0] and problems[0].startswith("r1: ")
    assert any("certificate server ca" in p for p in chain_watch.router_problems(
        lab.router("ca"), lab.env.true_time()))


def test_rollover_host_lists_the_client_shadow_timer() -> None:
    """`show crypto pki timers` on a client with `auto-enroll` would not show when it next
    asks its CA for the rollover certificate (`SHADOW <tp>`)."""
    lab = Lab(seed=41)
    _ca(lab, "")
    _client(lab, "r1", "10.0.0.2", "http://10.0.0.1")
    host = lab.router("r1").rollover_host
    assert isinstance(host, RolloverHost)
    assert any(line.endswith("SHADOW ca") for line in lab.show("r1", "show crypto pki timers"))


LAPSE = """
name: lapse
description: A CA without auto-rollover lets its certificate lapse; both routers are off at the end.
seed: 5
duration: 2d12h
release: 15.x
invariants: true
routers:
  ca: {address: 10.0.0.1, config: "ip http server"}
  r1: {address: 10.0.0.2}
links: [{endpoints: [ca, r1]}]
events:
  - at: 10s
    router: ca
    cli: |
      enable
      configure terminal
      crypto pki server ca
      grant auto
      lifetime ca-certificate 1
      no shutdown
      end
    input: [cisco123, cisco123]
  - at: 1m
    router: r1
    cli: |
      enable
      configure terminal
      crypto pki trustpoint ca
      enrollment url http://10.0.0.1
      auto-enroll 80
      exit
      crypto pki authenticate ca
      crypto pki enroll ca
      end
    input: ["yes", pw, pw, "no", "no", "yes"]
  - {at: 2d6h, router: ca, power: off}
  - {at: 2d6h, router: r1, power: off}
"""


def test_the_daily_look_catches_a_lapse_the_end_of_the_run_cannot_see() -> None:
    """The chain invariant would only look at the end of a run, where both routers are off,
    and miss the day on which they held expired chains."""
    result = run_scenario(load_scenarios_text(LAPSE, "lapse.yaml")[0])
    verdict = next(r for r in result.results
                   if getattr(r.expectation, "invariant", None) == "valid_chains")
    assert not verdict.passed
    assert "expired" in verdict.observed
    asked = [e for e in result.world.env.trace.select(category="pki", name="scep.request")
             if e.data.get("operation") == "GetNextCACert"]
    assert 1 <= len(asked) < 20  # r1 looked for a shadow, then stopped at the CA's end
    assert chain_watch.check_valid_chains(result.world)[0][0].startswith(("ca: ", "r1: "))


@pytest.mark.parametrize(("release", "shown"), [("15.x", True), ("XE", True),
                                                ("12.3(14)T", False)])
def test_the_rollover_lines_follow_the_release(release: str, shown: bool) -> None:
    """`show crypto pki server` on 15.x and IOS-XE would lack the auto-rollover lines, or
    12.3(14)T (which predates auto-rollover) would print them."""
    lab = Lab(seed=42)
    _ca(lab, "auto-rollover 10", release=release)
    show = lab.show("ca", "show crypto pki server")
    assert ("    Auto-Rollover configured, overlap period 10 days" in show) is shown
    assert any(line.strip().startswith("Autorollover timer: ") for line in show) is shown


def test_a_late_grant_reaches_the_sub_ca_without_a_second_request() -> None:
    """A root administrator granting a sub-CA's rollover request after the sub-CA stopped
    polling would never see it collected, or the sub-CA would file a second request
    beside the first."""
    lab = Lab(seed=43)
    _hierarchy(lab, "")
    sub = lab.router("sub").running.servers["sub"]
    lab.type("sub", "crypto pki server sub rollover", wait=False)
    lab.run(2 * 3600)
    root = lab.router("ca").running.servers["ca"]
    pending = [e for e in root.requests if e.state.value == "pending"]
    assert len(pending) == 1 and sub.rollover.certificate is None
    lab.type("ca", f"crypto pki server ca grant {pending[0].req_id}")
    lab.run(1.1 * DAY)
    assert sub.rollover.certificate is not None
    assert len(list(root.requests)) == 2  # the sub-CA's first request and its rollover


def test_openssl_verifies_the_get_next_ca_cert_answer(tmp_path: Path) -> None:
    """A real CMS implementation (openssl) would reject pkilab's GetNextCACert answer, so
    SCEP clients other than pkilab's could not take the next CA certificate."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    lab = Lab(seed=44)
    _ca(lab, "")
    lab.type("ca", "crypto pki server ca rollover")
    cs = lab.router("ca").running.servers["ca"]
    assert cs.ca_cert is not None and cs.rollover.certificate is not None
    _status, _type, body = _get(lab, "ca", "GetNextCACert")
    (tmp_path / "next.der").write_bytes(body)
    (tmp_path / "ca.pem").write_bytes(x509util.cert_pem(cs.ca_cert))
    when = int((cs.ca_cert.not_valid_before_utc + timedelta(hours=1)).timestamp())
    done = subprocess.run(
        [openssl, "cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "next.der"),
         "-CAfile", str(tmp_path / "ca.pem"), "-attime", str(when),
         "-out", str(tmp_path / "inner.der")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    certs, _crls = scep.parse_degenerate((tmp_path / "inner.der").read_bytes())
    assert certs == [cs.rollover.certificate]


def test_a_client_reloaded_before_the_switch_keeps_its_rollover_certificates() -> None:
    """A client that reloads between receiving its rollover certificates and the CA
    certificate's expiry would lose them and be left with an expired chain."""
    lab = Lab(seed=45)
    _ca(lab, "lifetime ca-certificate 2\n lifetime certificate 1\n auto-rollover 1")
    _client(lab, "r1", "10.0.0.2", "http://10.0.0.1")
    lab.run(1.6 * DAY)
    r1 = lab.router("r1")
    shadow = r1.running.trustpoints["ca"].shadow.id_cert
    assert shadow is not None
    lab.type("r1", "write memory")
    lab.reload("r1")
    lab.run(600)
    assert r1.running.trustpoints["ca"].shadow.id_cert == shadow
    lab.run(0.5 * DAY)
    tp = r1.running.trustpoints["ca"]
    assert tp.id_cert == shadow
    assert not chain_watch.router_problems(r1, lab.env.true_time())


def test_grant_auto_rollover_applies_to_its_own_kind_of_rollover_request_only() -> None:
    """`grant auto rollover ra-cert` would also grant a sub-CA's rollover, or a first
    (non-renewal) sub-CA or RA request, which must wait for the administrator."""
    cs = CertificateServer(CsConfig("ca", grant_rollover=("ra-cert",)))
    assert cs_rollover.auto_grants(cs, RequestKind.RA, renewal=True)
    assert not cs_rollover.auto_grants(cs, RequestKind.RA, renewal=False)
    assert not cs_rollover.auto_grants(cs, RequestKind.SUB_CA, renewal=True)
    assert not cs_rollover.auto_grants(cs, RequestKind.ROUTER, renewal=True)
    both = CertificateServer(CsConfig("ca", grant_rollover=("ca-cert", "ra-cert")))
    assert cs_rollover.auto_grants(both, RequestKind.SUB_CA, renewal=True)


def test_no_crypto_pki_server_deletes_the_shadow_key_file() -> None:
    """`no crypto pki server` would leave the shadow's private key behind in nvram."""
    lab = Lab(seed=46)
    _ca(lab, "")
    lab.type("ca", "crypto pki server ca rollover")
    ca = lab.router("ca")
    assert ca.nvram.read(cs_rollover.shadow_file("ca"))
    lab.type("ca", "configure terminal\nno crypto pki server ca\nend", ["yes"])
    assert "ca" not in ca.running.servers
    assert ca.nvram.read(cs_rollover.shadow_file("ca")) is None


def test_a_ca_off_across_its_expiry_switches_at_boot_and_keeps_the_switch() -> None:
    """A CA that was powered off when its certificate expired would come back with the
    expired certificate (its saved shadow ignored), or lose the switch at its next
    reload because the new key pair and certificate were never saved."""
    lab = Lab(seed=47)
    _ca(lab, "lifetime ca-certificate 2")
    lab.type("ca", "crypto pki server ca rollover\nwrite memory")
    cs = lab.router("ca").running.servers["ca"]
    shadow = cs.rollover.certificate
    assert shadow is not None
    lab.run(1.9 * DAY)
    lab.power_off("ca")
    lab.run(0.2 * DAY)
    lab.power_on("ca")
    lab.run(600)
    cs = lab.router("ca").running.servers["ca"]
    assert cs.ca_cert == shadow and cs.state.value == "enabled"
    assert any("%PKI-6-AUTOSAVE" in line for line in lab.transcript("ca"))
    lab.reload("ca")
    lab.run(600)
    cs = lab.router("ca").running.servers["ca"]
    assert cs.ca_cert == shadow and cs.state.value == "enabled"
