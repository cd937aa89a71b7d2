"""System commands around the CA: `ip http port`, the secure server, `show version`,
`show crypto pki trustpool` and the `debug crypto pki` flags beyond server/transactions."""

from __future__ import annotations

import pytest

from sim.lab import Lab
from sim.router.show_system import uptime_text

PASS = ["cisco123", "cisco123"]
CA_UP = """
    enable
    configure terminal
    ip http port 8080
    crypto pki server ca
    grant auto
    no shutdown
    end
"""


def _authenticate(lab: Lab, url: str) -> list[str]:
    return lab.type("r1", "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                          f"enrollment url {url}\nexit\ncrypto pki authenticate ca\nend",
                    answers=["yes"])


def _pair(release: str = "12.3(14)T") -> Lab:
    lab = Lab(seed=6)
    lab.add_router("ca", "10.0.0.1", "ip http server", release=release)
    lab.add_router("r1", "10.0.0.2", release=release)
    lab.link("ca", "r1")
    lab.type("ca", CA_UP, PASS)
    return lab


def test_an_enrollment_url_reaches_the_ca_only_on_the_port_it_serves() -> None:
    """With `ip http port 8080` on the CA, an enrollment URL without `:8080` would still work, or
    one with it would fail."""
    lab = _pair()
    refused = "\n".join(_authenticate(lab, "http://10.0.0.1"))
    assert "% Error in receiving Certificate Authority certificate" in refused
    assert "    Not authenticated." in lab.show("r1", "show crypto pki trustpoints")
    accepted = "\n".join(_authenticate(lab, "http://10.0.0.1:8080"))
    assert "Certificate has the following attributes:" in accepted
    assert "    Certificate configured." in lab.show("r1", "show crypto pki trustpoints")


def test_the_port_is_shown_saved_and_served_again_after_a_reload() -> None:
    """`show ip http server status` or the running config would show the wrong HTTP port, or it
    would be lost on reload or kept after `no`."""
    lab = _pair()
    status = lab.show("ca", "show ip http server status")
    assert status[:2] == ["HTTP server status: Enabled", "HTTP server port: 8080"]
    config = lab.show("ca", "show running-config")
    assert config[config.index("ip http server") + 1] == "ip http port 8080"
    lab.type("ca", "write memory")
    lab.reload("ca")
    lab.run(120)
    assert "ip http port 8080" in lab.show("ca", "show running-config")
    accepted = "\n".join(_authenticate(lab, "http://10.0.0.1:8080"))
    assert "Certificate has the following attributes:" in accepted
    lab.type("ca", "enable\nconfigure terminal\nno ip http port\nend")
    assert lab.show("ca", "show ip http server status")[1] == "HTTP server port: 80"
    assert "ip http port 8080" not in lab.show("ca", "show running-config")


def test_the_secure_server_and_its_trustpoint_are_shown() -> None:
    """`show ip http server status` and the running config would not show `ip http secure-server`
    and its trustpoint, or not clear them."""
    lab = Lab(seed=6)
    lab.add_router("r", "10.0.0.1", "ip http server\nip http secure-server\n"
                                    "ip http secure-trustpoint TP")
    status = lab.show("r", "show ip http server status")
    assert status[2:] == ["HTTP secure server capability: Present",
                          "HTTP secure server status: Enabled",
                          "HTTP secure server port: 443",
                          "HTTP secure server trustpoint: TP"]
    config = lab.show("r", "show running-config")
    at = config.index("ip http server")
    assert config[at + 1:at + 3] == ["ip http secure-server", "ip http secure-trustpoint TP"]
    lab.type("r", "enable\nconfigure terminal\nno ip http secure-server\n"
                  "no ip http secure-trustpoint\nend")
    status = lab.show("r", "show ip http server status")
    assert status[3:] == ["HTTP secure server status: Disabled",
                          "HTTP secure server port: 443", "HTTP secure server trustpoint: "]


@pytest.mark.parametrize("release, first, image, register", [
    ("12.3(14)T",
     "Cisco IOS Software, 2600 Software (C2691-ADVENTERPRISEK9-M), Version 12.3(14)T, "
     "RELEASE SOFTWARE (fc1)", "flash:c2691-adventerprisek9-mz.123-14.T.bin", "0x2102"),
    ("15.x",
     "Cisco IOS Software, IOSv Software (VIOS-ADVENTERPRISEK9-M), Version 15.7(3)M3, "
     "RELEASE SOFTWARE (fc2)", "flash0:/vios-adventerprisek9-m", "0x0"),
    ("XE", "Cisco IOS XE Software, Version 17.03.04a", "bootflash:packages.conf", "0x2102"),
])
def test_show_version_names_the_release_of_the_router(
        release: str, first: str, image: str, register: str) -> None:
    """`show version` would show the wrong release, image, uptime, restart reason or config register
    for the router's release."""
    lab = Lab(seed=6)
    lab.add_router("ca", "10.0.0.1", release=release)
    lab.run(125 * 60)
    version = lab.show("ca", "show version")
    assert version[0] == first
    assert "ca uptime is 2 hours, 5 minutes" in version
    assert "System returned to ROM by power-on" in version
    assert f'System image file is "{image}"' in version
    assert version[-1] == f"Configuration register is {register}"
    assert ("Uptime for this control processor is 2 hours, 5 minutes" in version) is (
        release == "XE")
    config_version = [line for line in lab.show("ca", "show running-config")
                      if line.startswith("version ")][0].split()[1]
    assert config_version in first.replace("17.03", "17.3")
    lab.reload("ca")
    lab.run(150)
    version = lab.show("ca", "show version")
    assert "ca uptime is 2 minutes" in version
    assert "System returned to ROM by reload" in version


def test_uptime_counts_down_from_the_largest_unit() -> None:
    """The uptime in `show version` would be worded unlike IOS (for example `1 week, 1 day, 0 hours,
    1 minute`)."""
    assert uptime_text(59) == "0 minutes"
    assert uptime_text(60) == "1 minute"
    assert uptime_text(3600) == "1 hour, 0 minutes"
    assert uptime_text(8 * 86400 + 61) == "1 week, 1 day, 0 hours, 1 minute"


def test_the_trustpool_is_empty_on_15_x_and_absent_on_12_3() -> None:
    """`show crypto pki trustpool` would be accepted on 12.3 instead of marked invalid, or print
    something on 15.x where it is empty."""
    lab = Lab(seed=6)
    lab.add_router("old", "10.0.0.1")
    lab.add_router("new", "10.0.0.2", release="15.x")
    printed = lab.type("old", "enable\nshow crypto pki trustpool")
    assert printed[-2:] == [" " * len("old#show crypto pki ") + "^",
                            "% Invalid input detected at '^' marker."]
    assert lab.type("new", "enable\nshow crypto pki trustpool")[-1] == (
        "new#show crypto pki trustpool")


def test_more_debug_flags_are_listed_and_messages_shows_each_scep_message() -> None:
    """`debug crypto pki messages|validation|callbacks` would not show in `show debugging`, or SCEP
    messages would not be logged with sizes."""
    lab = _pair()
    printed = lab.type("r1", "enable\ndebug crypto pki messages\ndebug crypto pki validation\n"
                             "debug crypto pki callbacks")
    assert "Crypto PKI Msg debugging is on" in printed
    assert lab.show("r1", "show debugging") == [
        "Crypto PKI:", "  Crypto PKI Callback debugging is on",
        "  Crypto PKI Msg debugging is on", "  Crypto PKI Validation Path debugging is on"]
    _authenticate(lab, "http://10.0.0.1:8080")
    enrolled = lab.type("r1", "configure terminal\ncrypto pki enroll ca\nend",
                        answers=["pw", "pw", "no", "no", "yes"])
    lab.run(120)
    messages = [line for line in lab.transcript("r1") if "CRYPTO_PKI: Signed Data" in line]
    assert len(messages) >= 2  # the request out, the CertRep back
    assert all(line.split("Signed Data ")[1].endswith(" bytes") for line in messages)
    assert "% Certificate request sent to Certificate Authority" in enrolled
    off = lab.type("r1", "no debug crypto pki messages")
    assert "Crypto PKI Msg debugging is off" in off
    assert "  Crypto PKI Msg debugging is on" not in lab.show("r1", "show debugging")


def test_debug_validation_and_callbacks_print_the_check_of_a_granted_certificate() -> None:
    """With `debug crypto pki validation` and `callbacks` on, a router that receives its
    certificate says which CA it checked it against and that it validated."""
    lab = Lab(seed=5)
    lab.add_router("ca", "10.0.0.1", "ip http server\ncrypto pki server CA\n grant auto")
    lab.add_router("r1", "10.0.0.2")
    lab.link("ca", "r1")
    lab.type("ca", ["enable", "configure terminal", "crypto pki server CA", "no shutdown",
                    "end"], ["cisco123", "cisco123"])
    lab.type("r1", ["enable", "debug crypto pki validation", "debug crypto pki callbacks",
                    "configure terminal", "crypto pki trustpoint CA",
                    " enrollment url http://10.0.0.1", " exit", "crypto pki authenticate CA",
                    "crypto pki enroll CA", "end"], ["yes", "pw", "pw", "no", "no", "yes"])
    lab.run_until_quiet()
    log = "\n".join(lab.transcript("r1"))
    assert "CRYPTO_PKI: Enrollment callback for trustpoint CA" in log
    assert "CRYPTO_PKI: Verify chain of certs, Anchor = CA" in log
    assert "CRYPTO_PKI: Certificate validated" in log
