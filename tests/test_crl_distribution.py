"""CRLs over HTTP: `cdp-url`, the CS's GetCRL by plain HTTP GET, clients that download the
CRL from a certificate's CDP, cache it until NextUpdate, and fail or accept per
`revocation-check` when it cannot be had (issue 14)."""

from __future__ import annotations

import http.client
import re
from datetime import UTC, datetime, timedelta

import pytest
from routerkit import Lab

from sim.lab import Lab as PublicLab
from sim.net.http import HttpRequest
from sim.net.loopback import LoopbackServer
from sim.pki import crl_distribution, x509util
from sim.pki.cs_fsm import CsState
from sim.router.crl_fetch import acquire_crl

CDP = "http://10.0.0.1/cgi-bin/pkiclient.exe?operation=GetCRL"
ENROLL_ANSWERS = ("yes", "challenge1", "challenge1", "no", "no", "yes")


def _lab(cdp: str | None = CDP, revocation: str = "", extra: str = ""):
    """A `grant auto` CA `ca` (with `cdp-url` unless None, and `extra` settings) and client
    `r2` enrolled to it."""
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    r2 = lab.router("r2", "10.0.0.2")
    lab.net.add_link("ca", "r2", latency=0.005)
    lab.type(ca, "enable\nconfigure terminal\ncrypto pki server ca\ngrant auto\n"
                 + (f"cdp-url {cdp}\n" if cdp else "") + extra + "no shutdown\nend",
             ("cisco123", "cisco123"))
    assert ca.server_state() is CsState.ENABLED
    lab.type(r2, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                 "enrollment url http://10.0.0.1\n" + (f"{revocation}\n" if revocation else "")
                 + "exit\ncrypto pki authenticate ca\ncrypto pki enroll ca\nend",
             ENROLL_ANSWERS, settle=30)
    assert r2.running.trustpoints["ca"].id_cert is not None
    return lab, ca, r2


def _get(lab: Lab, target: str, method: str = "GET"):
    process = lab.net.http("r2", "10.0.0.1", 80, HttpRequest.from_target(method, target))
    lab.run(5)
    return process.value


def _crl_exchanges(lab: Lab) -> list[str]:
    return [e.data["result"] for e in lab.env.trace.select(router="r2", category="scep",
                                                           name="exchange")
            if e.data["operation"] == "GetCRL" or e.data["message"] == "GetCRL"]


def test_cdp_url_goes_into_every_issued_certificate_and_survives_reload() -> None:
    """A CS with `cdp-url` would issue certificates without the CRL Distribution Point, the
    client's `show crypto pki certificates` would not list it, or the setting would be lost
    from running-config across `write memory` and `reload`."""
    lab, ca, r2 = _lab()
    cert = r2.running.trustpoints["ca"].id_cert
    assert crl_distribution.cdp_urls(cert) == (CDP,)
    out = lab.type(r2, "show crypto pki certificates")
    assert "  CRL Distribution Points: " in out and f"    {CDP}" in out
    assert f" cdp-url {CDP}" in lab.type(ca, "show running-config")
    assert f" cdp-url {CDP}" in lab.type(ca, "configure terminal\ncrypto pki server ca\nshow\nend")
    lab.type(ca, "write memory")
    ca.reload()
    lab.run(120)
    assert ca.running.servers["ca"].config.cdp_url == CDP
    assert f" cdp-url {CDP}" in lab.type(ca, "enable\nshow running-config")


def test_cdp_url_is_refused_while_the_server_runs_and_removed_by_no() -> None:
    """`cdp-url` on an enabled server would change what it issues without the `shut` IOS
    asks for, or `no cdp-url` would leave the CDP in new certificates."""
    lab, ca, _r2 = _lab()
    out = lab.type(ca, "configure terminal\ncrypto pki server ca\ncdp-url http://x/y.crl\nend")
    assert "% Server's configuration is locked (enter \"shut\" to unlock it)" in out
    assert ca.running.servers["ca"].config.cdp_url == CDP
    lab.type(ca, "configure terminal\ncrypto pki server ca\nshutdown\nno cdp-url\n"
                 "no shutdown\nend")
    assert ca.running.servers["ca"].config.cdp_url is None
    assert "cdp-url" not in "\n".join(lab.type(ca, "show running-config"))


def test_the_ca_serves_its_crl_by_plain_http_get() -> None:
    """A non-IOS client fetching the documented `...pkiclient.exe?operation=GetCRL` URL would not
    get the CS's current CRL as DER with a CRL content type."""
    lab, ca, _r2 = _lab()
    result = _get(lab, "/cgi-bin/pkiclient.exe?operation=GetCRL")
    assert result.response.status == 200
    assert result.response.header("Content-Type") == "application/pkix-crl"
    assert result.response.body == ca.running.servers["ca"].crl_der
    issuer = ca.running.servers["ca"].ca_cert.subject
    assert x509util.load_crl(result.response.body).issuer == issuer
    assert _get(lab, "/cgi-bin/pkiclient.exe?operation=GetCRL", "POST").response.status == 405
    lab.type(ca, "configure terminal\ncrypto pki server ca\nshutdown\nend")
    assert _get(lab, "/cgi-bin/pkiclient.exe?operation=GetCRL").response.status == 404


def test_validation_downloads_the_crl_from_the_cdp_and_finds_the_revocation() -> None:
    """A client checking a revoked certificate would not fetch the CRL from the certificate's CDP,
    would accept the revoked certificate, or `show crypto pki crls` / `show crypto pki timers`
    would not say where the CRL came from and when it expires."""
    lab, ca, r2 = _lab()
    serial = r2.running.trustpoints["ca"].id_cert.serial_number
    lab.type(ca, f"crypto pki server ca revoke {serial}")
    out = lab.type(r2, "crypto pki certificate validate ca")
    assert "Certificate chain for ca is invalid" in out
    assert any("%PKI-3-CERTIFICATE_REVOKED" in line and f"(SN: {serial:02X})" in line
               for line in out)
    assert _crl_exchanges(lab) == ["SUCCESS"]
    out = lab.type(r2, "show crypto pki crls")
    assert "    Retrieved from CRL Distribution Point: " in out and f"      {CDP}" in out
    assert any(line.startswith("    CRL downloaded at: ") for line in out)
    out = lab.type(r2, "show crypto pki timers detail")
    assert "CRL Timers" in out
    assert any(line.endswith(" CRL EXPIRE cn=ca") for line in out)
    assert any(line.endswith(" CRL UPDATE *cn=ca") for line in out)


def test_the_cached_crl_is_used_until_its_next_update() -> None:
    """A client would download the CRL again for every validation, or keep using (and listing) a
    CRL past its NextUpdate."""
    lab, _ca, r2 = _lab(extra="lifetime crl 1\n")
    lab.type(r2, "crypto pki certificate validate ca")
    lab.type(r2, "crypto pki certificate validate ca")
    assert _crl_exchanges(lab) == ["SUCCESS"]
    lab.run(3600)
    assert lab.type(r2, "show crypto pki crls") == ["r2#show crypto pki crls"]
    assert "CRL Timers" not in lab.type(r2, "show crypto pki timers")
    out = lab.type(r2, "crypto pki certificate validate ca")
    assert "Certificate chain for ca is valid" in out
    assert _crl_exchanges(lab) == ["SUCCESS", "SUCCESS"]


def test_an_unreachable_cdp_fails_with_crl_and_is_accepted_with_crl_none() -> None:
    """With the CDP (and the CA behind it) unreachable, `revocation-check crl` would accept the
    certificate, no `%PKI-3-CRL_FETCH_FAIL` would say why, or `crl none` would refuse it."""
    lab, _ca, r2 = _lab()
    lab.net.set_link_up("ca", "r2", False)
    out = lab.type(r2, "crypto pki certificate validate ca", settle=120)
    assert "%PKI-3-CRL_FETCH_FAIL: CRL fetch for trustpoint ca failed" in " ".join(out)
    assert any(line.startswith("Reason : CRL download from " + CDP) for line in out)
    assert "Certificate chain for ca is invalid" in out
    lab.type(r2, "configure terminal\ncrypto pki trustpoint ca\nrevocation-check crl none\nend")
    out = lab.type(r2, "crypto pki certificate validate ca", settle=120)
    assert "Certificate chain for ca is valid" in out


def test_revocation_check_none_never_fetches() -> None:
    """A trustpoint with `revocation-check none` would still download CRLs (and could refuse a
    certificate over one)."""
    lab, ca, r2 = _lab(revocation="revocation-check none")
    serial = r2.running.trustpoints["ca"].id_cert.serial_number
    lab.type(ca, f"crypto pki server ca revoke {serial}")
    out = lab.type(r2, "crypto pki certificate validate ca")
    assert "Certificate chain for ca is valid" in out
    assert _crl_exchanges(lab) == []
    assert r2.running.trustpoints["ca"].crl is None


def test_a_certificate_without_cdp_gets_its_crl_by_scep() -> None:
    """Without `cdp-url` the client would not fall back to SCEP GetCRL, or would claim a CDP in
    `show crypto pki crls`."""
    lab, _ca, r2 = _lab(cdp=None)
    tp = r2.running.trustpoints["ca"]
    assert crl_distribution.cdp_urls(tp.id_cert) == ()
    holder: list = []

    def run():
        holder.append((yield from acquire_crl(r2, tp, tp.id_cert)))

    lab.env.sim.process(run())
    lab.run(30)
    outcome = holder[0]
    assert outcome.crl is not None and outcome.failure is None and outcome.source == "SCEP"
    assert "      ** CDP Not Published - Retrieved via SCEP" in lab.type(r2, "show crypto pki crls")


def test_a_cdp_pointing_at_a_crl_file_on_the_ca_falls_back_to_scep() -> None:
    """A CDP naming `/ca.crl` on the CA itself (a file IOS's HTTP server does not serve) would be
    answered, or the client would not fall back to SCEP GetCRL as Cisco documents."""
    lab, _ca, r2 = _lab(cdp="http://10.0.0.1/ca.crl")
    out = lab.type(r2, "crypto pki certificate validate ca")
    assert "Certificate chain for ca is valid" in out
    assert _crl_exchanges(lab) == ["http 404", "SUCCESS"]
    assert "      ** CDP Not Published - Retrieved via SCEP" in lab.type(r2, "show crypto pki crls")


def test_cdp_helpers_read_urls_and_refuse_foreign_crls() -> None:
    """A CDP URL would be split wrongly for the HTTP GET, a non-HTTP CDP taken as fetchable, a
    CRL of another issuer accepted, or a cached CRL used past its NextUpdate."""
    where = crl_distribution.http_cdp("http://cdp.example:8080/pki/ca.crl?x=1")
    assert (where.host, where.port, where.target) == ("cdp.example", 8080, "/pki/ca.crl?x=1")
    assert crl_distribution.http_cdp("ldap://10.0.0.1/CN=ca") is None
    assert crl_distribution.check_cdp_url("http://a b") == "% Invalid CDP URL"
    lab, ca, r2 = _lab()
    crl = ca.running.servers["ca"].crl
    ca_cert = ca.running.servers["ca"].ca_cert
    assert crl_distribution.read_crl(x509util.crl_der(crl), ca_cert) == crl
    other = r2.running.trustpoints["ca"].id_cert  # not the CRL's issuer
    try:
        crl_distribution.read_crl(x509util.crl_der(crl), other)
    except crl_distribution.CrlRejected as bad:
        assert "not issued" in str(bad)
    else:
        raise AssertionError("a CRL of another issuer was accepted")
    now = crl.last_update_utc + timedelta(minutes=1)
    assert crl_distribution.crl_usable(crl, ca_cert.subject, now)
    assert not crl_distribution.crl_usable(crl, ca_cert.subject, crl.next_update_utc)
    assert not crl_distribution.crl_usable(crl, ca_cert.subject,
                                           datetime(2000, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("release", ["15.x", "XE"])
def test_later_releases_show_the_cdp_and_its_crl_in_their_layout(release: str) -> None:
    """On 15.x and XE `show crypto pki certificates` would not list the CDP, or `show crypto
    pki crls` would not give the CDP source, the download time and the size in their layout."""
    lab = PublicLab(seed=7)
    lab.add_router("ca", "10.0.0.1", "ip http server", release=release)
    lab.add_router("r1", "10.0.0.2", release=release)
    lab.link("ca", "r1")
    lab.type("ca", ["enable", "configure terminal", "crypto pki server ca", "grant auto",
                    f"cdp-url {CDP}", "no shutdown", "end"], answers=["cisco123", "cisco123"])
    lab.type("r1", ["enable", "configure terminal", "crypto pki trustpoint ca",
                    "enrollment url http://10.0.0.1", "exit", "crypto pki authenticate ca",
                    "crypto pki enroll ca", "end"], ["yes", "pw", "pw", "no", "no", "yes"])
    lab.run(60)
    certs = lab.show("r1", "show crypto pki certificates")
    assert "  CRL Distribution Points: " in certs and f"    {CDP}" in certs
    lab.type("r1", ["crypto pki certificate validate ca"])
    crls = lab.show("r1", "show crypto pki crls")
    source = crls.index("    Retrieved from CRL Distribution Point: ")
    assert crls[source + 1] == f"      {CDP}"
    assert re.fullmatch(r"    CRL downloaded at: \d\d:\d\d:\d\d UTC \w{3} \d+ \d{4}",
                        crls[source + 2])
    assert re.fullmatch(r"    CRL size is \d+ bytes", crls[source + 3])


def test_a_crl_already_past_its_next_update_on_the_router_clock_does_not_count() -> None:
    """A client whose clock runs a fortnight ahead would accept the CA's current CRL although, at
    its own clock, that CRL's NextUpdate has passed, or would keep listing it."""
    lab, _ca, r2 = _lab()
    lab.type(r2, "clock set 21:10:00 20 Jan 2005")
    out = lab.type(r2, "crypto pki certificate validate ca")
    assert f"Reason : CRL from {CDP} is not valid at the router's clock" in out
    assert "Certificate chain for ca is invalid" in out
    assert lab.type(r2, "show crypto pki crls") == ["r2#show crypto pki crls"]


def test_a_real_http_client_on_loopback_gets_the_crl() -> None:
    """A real HTTP client (a non-IOS peer, `openssl crl`, a browser) fetching the CS's GetCRL URL
    from a served lab on 127.0.0.1 would not get the CRL in DER."""
    lab, ca, _r2 = _lab()
    with LoopbackServer(lab.env, ca.http_handler) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            connection.request("GET", "/cgi-bin/pkiclient.exe?operation=GetCRL")
            reply = connection.getresponse()
            status, content_type, body = reply.status, reply.getheader("Content-Type"), reply.read()
        finally:
            connection.close()
    assert (status, content_type) == (200, "application/pkix-crl")
    assert x509util.load_crl(body).issuer == ca.running.servers["ca"].ca_cert.subject


def test_the_cdp_download_takes_the_links_delay() -> None:
    """A CRL download from the CDP would not cross the simulated links (it would take no time on a
    slow link)."""
    lab, _ca, r2 = _lab()
    lab.net.set_link_params("ca", "r2", latency=0.25)
    lab.type(r2, "crypto pki certificate validate ca")
    [done] = [e for e in lab.env.trace.select(router="r2", category="scep", name="exchange")
              if e.data["message"] == "CDP"]
    assert done.t - done.data["started"] >= 4 * 0.25  # TCP handshake, then request and answer


def test_a_client_under_a_sub_ca_gets_the_sub_cas_crl_from_its_cdp() -> None:
    """Under a subordinate CA with its own `cdp-url`, a client would fetch the wrong CA's CRL, check
    it against the wrong key, or miss a revocation by the sub-CA; the sub-CA's own certificate
    would lack the root's CDP."""
    lab = Lab()
    root = lab.router("root", "10.0.0.1", "ip http server")
    sub = lab.router("sub", "10.0.0.2", "ip http server")
    r3 = lab.router("r3", "10.0.0.3")
    lab.net.add_link("root", "sub", latency=0.005)
    lab.net.add_link("sub", "r3", latency=0.005)
    lab.type(root, f"enable\nconfigure terminal\ncrypto pki server root\ncdp-url {CDP}\n"
                   "no shutdown\nend", ("cisco123", "cisco123"))
    sub_cdp = "http://10.0.0.2/cgi-bin/pkiclient.exe?operation=GetCRL"
    lab.type(sub, "enable\nconfigure terminal\ncrypto pki trustpoint sub\n"
                  "enrollment url http://10.0.0.1\nexit\ncrypto pki server sub\nmode sub-cs\n"
                  f"grant auto\ncdp-url {sub_cdp}\nno shutdown\nend",
             ("subpass12", "subpass12", "yes"))
    lab.type(root, "crypto pki server root grant all", settle=120)
    assert crl_distribution.cdp_urls(sub.running.servers["sub"].ca_cert) == (CDP,)
    lab.type(r3, "enable\nconfigure terminal\ncrypto pki trustpoint sub\n"
                 "enrollment url http://10.0.0.2\nexit\ncrypto pki authenticate sub\n"
                 "crypto pki enroll sub\nend", ENROLL_ANSWERS, settle=60)
    serial = r3.running.trustpoints["sub"].id_cert.serial_number
    lab.type(sub, f"crypto pki server sub revoke {serial}")
    out = lab.type(r3, "crypto pki certificate validate sub")
    assert "Certificate chain has 3 certificates." in out
    assert "Certificate chain for sub is invalid" in out
    crls = lab.type(r3, "show crypto pki crls")
    assert f"      {sub_cdp}" in crls and "    cn=sub" in crls
