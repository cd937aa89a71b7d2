"""Power cycles, reloads, the HTTP server and SCEP's availability over the network."""

from __future__ import annotations

from routerkit import Lab

from sim.net.http import HttpFailure, HttpRequest
from sim.pki import x509util
from sim.pki.cs_fsm import CsState

GET_CA_CERT = HttpRequest.from_target(
    "GET", "/cgi-bin/pkiclient.exe?operation=GetCACert&message=ca")


def lab_with_ca(http: bool = True) -> tuple[Lab, object, object]:
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server" if http else "no ip http server")
    client = lab.router("r2", "10.0.0.2")
    lab.net.add_link("ca", "r2", latency=0.01)
    lab.type(ca, "enable\nconfigure terminal\ncrypto pki server ca\nno shutdown\nend",
             ("cisco123", "cisco123"))
    return lab, ca, client


def fetch(lab: Lab, timeout: float = 5.0):
    process = lab.net.http("r2", "10.0.0.1", 80, GET_CA_CERT, timeout=timeout)
    lab.env.run(until=process)
    return process.value


def test_scep_answers_get_ca_cert_only_while_the_http_server_is_on() -> None:
    """Clients would get the CA certificate with `no ip http server`, or not get it once `ip http
    server` is back."""
    lab, ca, _client = lab_with_ca(http=False)
    assert ca.server_state() is CsState.CHECK_FAILED
    assert fetch(lab).failure is HttpFailure.REFUSED
    lab.type(ca, "configure terminal\nip http server\nend")
    assert ca.server_state() is CsState.ENABLED
    result = fetch(lab)
    assert result.response.status == 200
    assert result.response.header("Content-Type") == "application/x-x509-ca-cert"
    assert x509util.load_cert(result.response.body) == ca.running.servers["ca"].ca_cert
    lab.type(ca, "configure terminal\nno ip http server\nend")
    assert ca.server_state() is CsState.CHECK_FAILED
    assert ca.running.servers["ca"].status() == "disabled, HTTP Server is disabled"
    assert fetch(lab).failure is HttpFailure.REFUSED


def test_link_down_times_out_and_unknown_address_times_out() -> None:
    """A SCEP request over a down link or to an unknown address would succeed or fail in a way
    other than no-route or timeout."""
    lab, _ca, _client = lab_with_ca()
    lab.net.set_link_up("ca", "r2", False)
    assert fetch(lab).failure is HttpFailure.NO_ROUTE
    lab.net.set_link_up("ca", "r2", True)
    assert fetch(lab).response.status == 200
    process = lab.net.http("r2", "10.9.9.9", 80, GET_CA_CERT, timeout=3.0)
    lab.env.run(until=process)
    assert process.value.failure is HttpFailure.TIMEOUT


def test_power_cycle_with_saved_config_restores_the_same_ca() -> None:
    """After a power cycle with a saved config, the CA would come back with a different key or
    certificate, a reset serial, or not at all."""
    lab, ca, _client = lab_with_ca()
    cs = ca.running.servers["ca"]
    fingerprint = x509util.fingerprint(x509util.cert_der(cs.ca_cert), "md5")
    key_before = ca.running.keys.get("ca").key.private_numbers()
    lab.type(ca, "write memory")
    ca.power_off()
    lab.run(1)
    assert not ca.up and fetch(lab).failure is HttpFailure.TIMEOUT
    ca.power_on()
    lab.run(120)
    restored = ca.running.servers["ca"]
    assert restored is not cs
    assert restored.state is CsState.ENABLED
    assert x509util.fingerprint(x509util.cert_der(restored.ca_cert), "md5") == fingerprint
    assert restored.last_serial == 1
    assert ca.running.keys.get("ca").key.private_numbers() == key_before
    assert fetch(lab).response.status == 200


def test_power_cycle_without_saving_loses_the_server_but_not_nvram() -> None:
    """A power cycle without `write memory` would keep the server config or lose its nvram files,
    or a re-created server would restart serial numbers."""
    lab, ca, _client = lab_with_ca()
    ca.power_off()
    ca.power_on()
    lab.run(120)
    assert ca.running.servers == {}
    assert ca.nvram.exists("ca.ser") and ca.nvram.exists("ca.crl")
    # Re-created, the server keeps counting from the serial file in nvram.
    out = lab.type(ca, "enable\ndebug crypto pki server\nconfigure terminal\n"
                       "crypto pki server ca\nno shutdown\nend", ("cisco123", "cisco123"))
    assert any("found existing serial file." in line for line in out)
    assert any("CRL file ca.crl was not issued by this CA." in line for line in out)
    assert ca.server_state() is CsState.ENABLED


def test_reload_asks_to_save_a_modified_config() -> None:
    """`reload` with unsaved changes would not ask `Save? [yes/no]` and `[confirm]`, or the CA
    would not come back enabled."""
    lab, ca, _client = lab_with_ca()
    out = lab.type(ca, "reload", ("yes", ""), settle=120)
    assert "System configuration has been modified. Save? [yes/no]: yes" in out
    assert "Proceed with reload? [confirm]" in out
    assert any("%SYS-5-RELOAD" in line for line in out)
    assert ca.server_state() is CsState.ENABLED
    assert any("%PKI-6-CS_ENABLED" in line for line in out[-3:])


def test_reload_declined_keeps_running() -> None:
    """Answering n to `Proceed with reload? [confirm]` would reload the router anyway."""
    lab, ca, _client = lab_with_ca()
    lab.type(ca, "write memory")
    out = lab.type(ca, "reload", ("n",))
    assert out[-1] == "Proceed with reload? [confirm] n"
    assert ca.up and not lab.env.trace.select(router="ca", category="power", name="reload")


def test_clock_without_calendar_is_lost_on_reload_and_the_ca_waits_for_time() -> None:
    """On a router without a calendar, the CA would start after a reload with no clock set, or
    not start once `clock set` is given."""
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server", calendar=False)
    lab.type(ca, "enable\nconfigure terminal\ncrypto pki server ca\nno shutdown\nend\n"
                 "write memory", ("cisco123", "cisco123"))
    ca.reload()
    lab.run(120)
    assert ca.server_state() is CsState.CHECK_FAILED
    assert ca.running.servers["ca"].status() == "disabled, Time has not been set"
    lab.type(ca, "enable\nclock set 12:00:00 7 Jan 2005")
    assert ca.server_state() is CsState.ENABLED
