"""Full CA and client configurations written the way an administrator writes them (every
command of the PKI command set, issue 11) load from startup-config and type live on every
release with no line refused, appear in the running configuration, and come back after
`write memory` and `reload`. If this fails, a lab built from a real router's configuration
stops at its first unsupported line."""

from __future__ import annotations

import pytest

from sim.lab import Lab

CA_CONFIG = """
hostname ca
ip domain name lab.local
clock timezone CET 1 0
ip host r1 10.0.0.2
ip http server
ip http port 80
ip http secure-server
ip http secure-trustpoint CA
ntp master 3
crypto pki server CA
 database level complete
 database url flash:ca/
 database url crl publish nvram:
 database archive pem password 0 cisco123
 database username admin password 0 secret
 issuer-name CN=CA,O=Lab
 grant auto
 hash sha256
 lifetime crl 24
 lifetime certificate 365
 lifetime ca-certificate 1825
 lifetime enrollment-request 168
 serial-number 0x10
 redundancy
crypto pki trustpoint CA
 revocation-check crl
 rsakeypair CA
tftp-server flash:ca/
"""

CLIENT_CONFIG = """
hostname r1
ip domain name lab.local
ntp server 10.0.0.1 prefer
crypto pki trustpoint CA
 enrollment url http://10.0.0.1:80
 enrollment retry period 2
 enrollment retry count 20
 subject-name CN=r1,O=Lab
 serial-number none
 ip-address none
 fqdn r1.lab.local
 password 0 cisco123
 rsakeypair r1-key 2048
 usage ike
 eku request client-auth server-auth
 subject-alt-name r1.lab.local
 hash sha256
 source interface Loopback0
 vrf mgmt
 revocation-check crl none
 auto-enroll 70 regenerate
crypto ca trustpoint OLD
 enrollment terminal pem
 enrollment mode ra
crypto pki trustpoint SELF
 enrollment selfsigned
"""

CA_EXEC = """
show version
show clock detail
show ntp status
show ntp associations
show crypto pki server
show crypto pki server CA certificates
show crypto pki timers detail
show crypto pki trustpoints status
show crypto key mypubkey rsa
show ip http server status
dir flash:
dir nvram:
debug crypto pki messages
debug crypto pki validation
debug crypto pki callbacks
debug crypto pki server
show debugging
undebug all
crypto pki server CA info requests
crypto pki server CA info crl
crypto pki server CA password generate 60
show running-config | section crypto pki server
"""

CLIENT_EXEC = """
show crypto pki trustpoints
show crypto pki certificates
show crypto pki timers
show ntp status
show clock detail
"""

ERRORS = ("% Invalid input", "% Incomplete command", "% Ambiguous command",
          "% Unknown command", "% Unrecognized command")
RELEASES = ["12.3(14)T", "15.x", "XE"]

SHOWN_OTHERWISE = {"ip http port 80", " database archive pem password 0 cisco123",
                   " database username admin password 0 secret", " hash sha256",
                   " lifetime certificate 365", " lifetime enrollment-request 168",
                   " password 0 cisco123", "crypto ca trustpoint OLD"}
"""Lines the running configuration keeps otherwise (a password saved as type 7, a
`crypto ca` spelling saved as `crypto pki`) or leaves out (IOS's defaults)."""


def _errors(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith(ERRORS)]


def _lines(text: str) -> list[str]:
    return [line for line in text.strip("\n").splitlines() if line.strip()]


def _lab(release: str, *, boot: bool) -> Lab:
    lab = Lab(seed=2)
    lab.add_router("ca", "10.0.0.1", CA_CONFIG if boot else "hostname ca", release=release)
    lab.add_router("r1", "10.0.0.2", CLIENT_CONFIG if boot else "hostname r1",
                   release=release)
    lab.link("ca", "r1")
    lab.run_until_quiet()
    return lab


@pytest.mark.parametrize("release", RELEASES)
def test_startup_configurations_load_without_a_refused_line(release: str) -> None:
    """A lab booted from a real CA's or client's startup-config would refuse a line, or drop lines
    from `show running-config`."""
    lab = _lab(release, boot=True)
    for router, text in (("ca", CA_CONFIG), ("r1", CLIENT_CONFIG)):
        assert _errors(lab.transcript(router)) == [], router
        shown = lab.show(router, "show running-config")
        missing = [line for line in _lines(text)
                   if line not in shown and line not in SHOWN_OTHERWISE]
        assert missing == [], (router, missing)
    client = lab.show("r1", "show running-config")
    assert "crypto pki trustpoint OLD" in client
    assert any(line.startswith(" password 7 ") for line in client)


@pytest.mark.parametrize("release", RELEASES)
def test_the_same_configurations_typed_live_are_accepted_and_survive_a_reload(
        release: str) -> None:
    """Typing those configurations and the usual show/debug commands live would hit an error, or the
    running config would change after a reload."""
    lab = _lab(release, boot=False)
    for router, text in (("ca", CA_CONFIG), ("r1", CLIENT_CONFIG)):
        typed = lab.type(router, ["enable", "configure terminal", *_lines(text), "end"])
        assert _errors(typed) == [], router
    lab.type("ca", ["configure terminal", "crypto pki server CA", "no shutdown", "end"],
             ["cisco123", "cisco123"])
    lab.run_until_quiet()
    shown = lab.type("ca", _lines(CA_EXEC)) + lab.type("r1", _lines(CLIENT_EXEC))
    assert _errors(shown) == []
    keys = lab.type("r1", ["configure terminal",
                           "crypto key generate rsa exportable modulus 1024 label k1",
                           "crypto key export rsa k1 pem terminal 3des cisco123",
                           "crypto key zeroize rsa k1", "end"], ["yes"])
    assert _errors(keys) == []
    assert "-----BEGIN RSA PRIVATE KEY-----" in keys
    before = {router: lab.show(router, "show running-config") for router in ("ca", "r1")}
    for router in ("ca", "r1"):
        lab.type(router, ["write memory", "reload"], [""])
    lab.run(300)  # the boot takes 45 s, then the server comes back
    for router in ("ca", "r1"):
        assert lab.show(router, "show running-config") == before[router], router
        assert _errors(lab.transcript(router)) == [], router


def test_a_global_line_that_starts_like_a_submode_command_still_leaves_the_submode() -> None:
    """`no ip http server` right after a trustpoint block: `ip` abbreviates the submode's
    `ip-address`, yet IOS runs the line in global configuration (as a saved configuration
    lists it), instead of refusing it."""
    lab = Lab(seed=2)
    lab.add_router("r1", "10.0.0.2", "ip http server")
    typed = lab.type("r1", ["enable", "configure terminal", "crypto pki trustpoint CA",
                            "no ip http server", "end"])
    assert _errors(typed) == []
    assert "r1(config)#end" in typed
    assert "no ip http server" in lab.show("r1", "show running-config")
