"""Release profiles (`release:` 12.3(14)T, 15.x, XE): what a user of each router sees.

The shipped 12.3(14)T golden files (`tests/test_scenarios.py::
test_shipped_golden_files_match_and_are_byte_stable`) pin the default release byte for
byte; the first test here pins the 12.3T lines the new profiles change, on a lab that
names no release.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.lab import Lab, LabError
from sim.router.release import PROFILES, profile
from sim.scenario.errors import ScenarioError
from sim.scenario.loader import load_scenario
from sim.scenario.model import ClockSpec

BRING_UP = """
    enable
    configure terminal
    crypto pki server CA
    no shutdown
    end
"""
PASS = ["cisco123", "cisco123"]


def _typed(lab: Lab, text: str, answers: list[str] | None = None) -> str:
    """What the console printed for `text`, as one string (syslog lines carry stamps)."""
    return "\n".join(lab.type("ca", text, answers=answers or []))


def _ca(release: str | None = None) -> Lab:
    lab = Lab(seed=3)
    if release is None:
        lab.add_router("ca", "10.0.0.1", "ip http server")
    else:
        lab.add_router("ca", "10.0.0.1", "ip http server", release=release)
    return lab


def test_a_router_without_a_release_keeps_the_12_3_14_t_output() -> None:
    """A router with no `release:` would stop printing the 12.3(14)T key generation, `show crypto
    pki server` and running-config lines, breaking existing labs."""
    lab = _ca()
    out = _typed(lab, BRING_UP, PASS)
    assert "% Generating 1024 bit RSA keys ..." in out
    assert "non-exportable" not in out and "elapsed time" not in out
    show = lab.show("ca", "show crypto pki server")
    assert show[:2] == ["Certificate Server CA:", "  Status: enabled"]
    assert "  Last certificate issued serial number: 0x1" in show
    assert "  Current storage dir: nvram:" in show
    assert not any("State:" in line for line in show)
    config = lab.show("ca", "show running-config")
    assert "version 12.3" in config
    assert " no database archive" not in config


@pytest.mark.parametrize("release", ["15.x", "XE"])
def test_later_releases_show_the_full_server_layout_and_their_defaults(release: str) -> None:
    """On 15.x or XE, `show crypto pki server`, the key generation messages, the 6-hour CRL default
    or the running-config would look like 12.3(14)T."""
    lab = _ca(release)
    lab.type("ca", "enable\nconfigure terminal\ncrypto pki server CA\nend\n")
    before = lab.show("ca", "show crypto pki server")
    assert before[1:4] == ["    Status: disabled", "    State: initial",
                           "    Server's configuration is unlocked  (enter \"no shut\" to lock it)"]
    assert "    CA cert fingerprint: -Not found-" in before
    out = _typed(lab, "configure terminal\ncrypto pki server CA\nno shutdown\nend\n", PASS)
    assert "% Generating 1024 bit RSA keys, keys will be non-exportable..." in out
    assert "[OK] (elapsed time was 1 seconds)" in out
    show = lab.show("ca", "show crypto pki server")
    assert show[1:4] == ["    Status: enabled", "    State: enabled",
                         "    Server's configuration is locked  (enter \"shut\" to unlock it)"]
    assert "    Last certificate issued serial number (hex): 1" in show
    assert "    Current primary storage dir: nvram:" in show
    server = lab.router("ca").running.servers["CA"]
    crl = server.crl
    assert crl is not None and crl.next_update_utc is not None
    assert (crl.next_update_utc - crl.last_update_utc).total_seconds() == 6 * 3600
    config = lab.show("ca", "show running-config")
    assert f"version {PROFILES[release].config_version}" in config
    block = config[config.index("crypto pki server CA"):]
    assert block[:3] == ["crypto pki server CA", " no database archive", "!"]


def test_no_lifetime_crl_returns_to_the_release_default() -> None:
    """`no lifetime crl` on 15.x would not restore the 6-hour CRL lifetime or would leave a
    `lifetime crl` line in the config."""
    lab = _ca("15.x")
    lab.type("ca", "enable\nconfigure terminal\ncrypto pki server CA\nlifetime crl 24\n"
                   "no lifetime crl\nend\n")
    assert lab.router("ca").running.servers["CA"].config.lifetime_crl_minutes == 6 * 60
    assert not any("lifetime crl" in line for line in lab.show("ca", "show running-config"))


def test_later_releases_ask_the_passphrase_even_when_the_key_exists() -> None:
    """With an existing `CA` key, `no shutdown` would ask (12.3) or skip (15.x) the passphrase
    prompt contrary to the real release."""
    for release, asked in (("12.3(14)T", False), ("15.x", True)):
        lab = _ca(release)
        out = _typed(lab, "enable\nconfigure terminal\n"
                          "crypto key generate rsa general-keys label CA modulus 1024\n"
                          "crypto pki server CA\nno shutdown\nend\n", PASS)
        assert ("% Please enter a passphrase to protect the private key" in out) is asked
        assert "% Certificate Server enabled." in out


def test_only_xe_logs_the_trustpoint_it_creates() -> None:
    """Enabling the CS would print `%PKI-6-TRUSTPOINT_CREATE` on 15.x, or omit it on XE."""
    for release, logged in (("15.x", False), ("XE", True)):
        lab = _ca(release)
        out = _typed(lab, BRING_UP, PASS)
        assert ("%PKI-6-TRUSTPOINT_CREATE: Trustpoint: CA created succesfully" in out) is logged


def test_a_release_is_named_at_the_top_or_per_router(tmp_path: Path) -> None:
    """A scenario's top-level `release:` would not reach its routers, or a router's own `release:`
    would not override it."""
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ndescription: d\nduration: 1m\nrelease: XE\nrouters:\n"
                    "  a: {address: 10.0.0.1}\n"
                    "  b: {address: 10.0.0.2, release: 15.x}\n"
                    "  c: {address: 10.0.0.3, release: 12.3(14)T}\n")
    routers = {r.name: r.release for r in load_scenario(path).routers}
    assert routers == {"a": "XE", "b": "15.x", "c": "12.3(14)T"}


def test_an_unknown_release_is_refused_with_the_choices(tmp_path: Path) -> None:
    """A scenario or lab with an unknown release would not be refused with its line and the list of
    supported releases."""
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ndescription: d\nduration: 1m\nrouters:\n"
                    "  a: {address: 10.0.0.1, release: '16.9'}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.endswith("s.yaml:5: routers.a.release: '16.9' is not a supported "
                            "release (choose one of: 12.3(14)T, 15.x, XE)")
    with pytest.raises(LabError, match="not a supported release"):
        Lab().add_router("a", "10.0.0.1", release="15")
    with pytest.raises(ValueError, match="supported: 12.3"):
        profile("xe")


@pytest.mark.parametrize("release, zone_line, gmt", [
    ("12.3(14)T", None, True), ("15.x", None, False), ("15.x", "clock timezone CET 1", False)])
def test_server_timers_print_in_the_routers_zone_from_15_on(
        release: str, zone_line: str | None, gmt: bool) -> None:
    """The CRL and expiration timers in `show crypto pki server` would use GMT on 15.x or ignore
    `clock timezone`, or not use GMT on 12.3."""
    lab = _ca(release)
    if zone_line:
        lab.type("ca", f"enable\nconfigure terminal\n{zone_line}\nend")
    _typed(lab, BRING_UP, PASS)
    timers = [line for line in lab.show("ca", "show crypto pki server") if "timer:" in line]
    assert len(timers) == 2
    zone = "GMT" if gmt else ("CET" if zone_line else "UTC")
    assert all(f" {zone} " in line for line in timers), timers
    if zone_line:  # local time: one hour past the UTC reading
        utc = _ca("15.x")
        _typed(utc, BRING_UP, PASS)
        utc_hour = int([line for line in utc.show("ca", "show crypto pki server")
                        if "expiration timer:" in line][0].split(": ")[1][:2])
        assert int(timers[0].split(": ")[1][:2]) == (utc_hour + 1) % 24


@pytest.mark.parametrize("release, md5, sha1", [
    ("12.3(14)T", "    Fingerprint MD5: ", "    Fingerprint SHA1: "),
    ("XE", "       Fingerprint MD5: ", "      Fingerprint SHA1: ")])
def test_authenticate_aligns_the_fingerprints_as_the_release_does(
        release: str, md5: str, sha1: str) -> None:
    """`crypto pki authenticate` would indent its MD5 and SHA1 fingerprint lines differently from
    the client's release."""
    lab = _ca()
    _typed(lab, BRING_UP, PASS)
    lab.add_router("r1", "10.0.0.2", release=release)
    lab.link("ca", "r1")
    printed = lab.type("r1", "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                             "enrollment url http://10.0.0.1\nexit\ncrypto pki authenticate ca",
                       answers=["yes"])
    assert [line for line in printed if "Fingerprint MD5:" in line][0].startswith(md5)
    assert [line for line in printed if "Fingerprint SHA1:" in line][0].startswith(sha1)


@pytest.mark.parametrize("release, console_line", [("12.3(14)T", True), ("15.x", False)])
def test_coming_back_enabled_logs_cs_enabled_and_only_12_3_also_prints_it(
        release: str, console_line: bool) -> None:
    """When `ip http server` lets the CS start, `%PKI-6-CS_ENABLED` would be missing, or `%
    Certificate Server enabled.` would show on the wrong release."""
    lab = Lab(seed=3)
    lab.add_router("ca", "10.0.0.1", release=release)  # no ip http server yet
    _typed(lab, BRING_UP, PASS)
    back = lab.type("ca", "configure terminal\nip http server\nend")
    assert any("%PKI-6-CS_ENABLED" in line for line in back)
    assert ("% Certificate Server enabled." in back) is console_line


@pytest.mark.parametrize("release, hint", [("15.x", False), ("XE", True)])
def test_xe_tells_how_to_make_the_clock_valid_when_it_refuses_to_start(
        release: str, hint: bool) -> None:
    """With an unset clock, the CS would not refuse with `% Time has not been set`, or the XE-only
    clock hint would show on the wrong release."""
    lab = Lab(seed=3)
    lab.add_router("ca", "10.0.0.1", "ip http server", release=release,
                   clock=ClockSpec(set=False))
    out = _typed(lab, BRING_UP, PASS)
    assert "% Time has not been set. Cannot start the Certificate server" in out
    assert ("% Please set clock calender-valid or enable NTP" in out) is hint
