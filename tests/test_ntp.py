"""Time around the CA: NTP over the simulated network, the hardware calendar, and the
clock displays (`show ntp status|associations`, `show clock detail`, `show calendar`).

The certificate server refuses to start on a clock that was never set ("% Time has not
been set"); an `ntp server` that synchronizes over the links sets it, and the server
starts by itself (cisco-cs.md 6.3: "check failed (time) | clock set / NTP sync | enabled").
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from sim.lab import Lab
from sim.router import ntp_packet as wire
from sim.scenario.model import ClockSpec

PASS = ["cisco123", "cisco123"]
BRING_UP = """
    enable
    configure terminal
    crypto pki server ca
    no shutdown
    end
"""


def _lab(*, ca_clock: ClockSpec | None = None, release: str = "12.3(14)T",
         latency: float = 0.001, master: str = "ntp master") -> Lab:
    """`master` (10.3.0.1, clock set) serves time; `ca` (10.3.0.6) polls it."""
    lab = Lab(seed=5)
    lab.add_router("master", "10.3.0.1", master, release=release)
    lab.add_router("ca", "10.3.0.6", "ip http server\nntp server 10.3.0.1",
                   clock=ca_clock or ClockSpec(set=False, offset=-3600), release=release)
    lab.link("master", "ca", latency=latency)
    return lab


def _state(lab: Lab) -> str:
    """The CA's certificate server state, as `show crypto pki server` words it."""
    state = lab.router("ca").server_state()
    return "none" if state is None else state.value


def _joined(lines: list[str]) -> str:
    return "\n".join(lines)


def test_a_ca_whose_clock_is_unset_starts_once_ntp_synchronizes_it() -> None:
    """A CA refused for an unset clock would not start by itself once NTP syncs it, or `show ntp`
    and `show clock detail` would be wrong."""
    lab = _lab()
    printed = _joined(lab.type("ca", BRING_UP, PASS))
    assert "% Time has not been set. Cannot start the Certificate server" in printed
    assert _state(lab) == "check failed"
    lab.run(120 - lab.now)
    # Two minutes in: answers came, but four are needed before the server is trusted.
    assert lab.show("ca", "show clock detail") == [
        lab.show("ca", "show clock")[0], "No time source"]
    assert lab.show("ca", "show clock")[0].startswith("*")
    assocs = lab.show("ca", "show ntp associations")
    assert assocs[1].startswith(" ~10.3.0.1         127.127.7.1       8")
    assert _state(lab) == "check failed"
    lab.run(240 - lab.now)
    status = lab.show("ca", "show ntp status")
    assert status[0] == "Clock is synchronized, stratum 9, reference is 10.3.0.1"
    assert lab.show("ca", "show ntp associations")[1].startswith("*~10.3.0.1")
    detail = lab.show("ca", "show clock detail")
    assert not detail[0].startswith(("*", ".")) and detail[1] == "Time source is NTP"
    assert _state(lab) == "enabled"
    assert any("%PKI-6-CS_ENABLED" in line for line in lab.transcript("ca"))
    # The CA now reads the master's time: the hour it was behind is gone.
    gap = lab.router("ca").clock.now() - lab.router("master").clock.now()
    assert abs(gap) < timedelta(milliseconds=1)


def test_synchronizing_takes_four_polls_of_64_seconds() -> None:
    """A router would synchronize sooner or later than after four 64-second polls, or `show ntp
    associations` would show the wrong reach."""
    lab = _lab()
    lab.run(150)
    assert lab.show("ca", "show ntp status")[0].startswith("Clock is unsynchronized")
    row = lab.show("ca", "show ntp associations")[1].split()
    assert row[4:6] == ["64", "7"]  # poll 64, reach 7 (octal): three answers
    lab.run(60)
    assert lab.show("ca", "show ntp status")[0].startswith("Clock is synchronized")


def test_losing_the_server_link_unsynchronizes_after_the_association_times_out() -> None:
    """After losing its NTP server, a router would unsynchronize too early or never, stop its CA, or
    not resynchronize when the link returns."""
    lab = _lab()
    lab.type("ca", BRING_UP, PASS)
    lab.run(400 - lab.now)
    lab.link_down("master", "ca")
    lab.run(300)
    # Five unanswered polls: the association still has answers in its register.
    assert lab.show("ca", "show ntp status")[0].startswith("Clock is synchronized")
    lab.run(300)
    status = lab.show("ca", "show ntp status")
    assert status[0] == "Clock is unsynchronized, stratum 16, no reference clock"
    row = lab.show("ca", "show ntp associations")[1]
    assert row.startswith(" ~10.3.0.1") and row.split()[5] == "0"  # reach 0
    lab.run(1200)
    row = lab.show("ca", "show ntp associations")[1]
    assert float(row.split()[-1]) > 15900  # the filter holds nothing but missed polls
    # The time stays valid (the server keeps running), marked `.`: authoritative, NTP lost.
    assert lab.show("ca", "show clock")[0].startswith(".")
    assert lab.show("ca", "show clock detail")[1] == "Time source is NTP"
    assert _state(lab) == "enabled"
    lab.link_up("master", "ca")
    # The silent server was backed off to polls up to 1024 s apart: the first answer comes
    # at the next of those, the poll after it (one such interval later) sees the server
    # back and returns to 64 s, and a few 64-second polls resynchronize.
    lab.run(2 * 1024 + 300)
    assert lab.show("ca", "show ntp status")[0].startswith("Clock is synchronized")
    assert not lab.show("ca", "show clock")[0].startswith(".")


def test_delay_and_offset_are_measured_from_the_four_timestamps() -> None:
    """`show ntp associations` would show the wrong delay or offset, or a router with a skewed clock
    would not be corrected."""
    lab = _lab(latency=0.05, ca_clock=ClockSpec(set=True, offset=0.1))
    lab.run(100)
    row = lab.show("ca", "show ntp associations")[1].split()
    delay, offset = float(row[-3]), float(row[-2])
    assert delay == pytest.approx(100.0)  # two crossings of a 50 ms link
    assert offset == pytest.approx(-100.0, abs=0.01)  # the CA runs 100 ms ahead
    lab.run(200)
    gap = lab.router("ca").clock.now() - lab.router("master").clock.now()
    assert abs(gap) < timedelta(milliseconds=1)


def test_a_server_that_is_not_synchronized_is_never_followed() -> None:
    """A router would take its time from an NTP server that is itself unsynchronized
    (stratum 16)."""
    lab = _lab(master="ntp server 10.9.9.9")  # polls an address nobody has
    lab.run(600)
    assert lab.show("master", "show ntp status")[0].startswith("Clock is unsynchronized")
    assert lab.show("master", "show ntp associations")[1].split()[5] == "0"
    row = lab.show("ca", "show ntp associations")[1].split()
    assert row[:3] == ["~10.3.0.1", "0.0.0.0", "16"]
    assert row[5] == "377"  # it answers every poll, saying it has no time to give
    assert lab.show("ca", "show ntp status")[0].startswith("Clock is unsynchronized")
    assert lab.show("ca", "show clock")[0].startswith("*")


def test_ntp_master_makes_its_own_unset_clock_authoritative() -> None:
    """A router with `ntp master` and an unset clock would not become a time source, or `show ntp`
    and `show clock detail` would say otherwise."""
    lab = Lab(seed=5)
    lab.add_router("m", "10.0.0.1", "ntp master 3", clock=ClockSpec(set=False))
    assert lab.show("m", "show clock detail")[1] == "No time source"
    lab.run(5)
    detail = lab.show("m", "show clock detail")
    assert not detail[0].startswith("*") and detail[1] == "Time source is NTP"
    assert lab.show("m", "show ntp status")[0] == (
        "Clock is synchronized, stratum 3, reference is 127.127.7.1")
    assert lab.show("m", "show ntp associations")[1].startswith(
        "*~127.127.7.1      127.127.7.1       2")


def test_15_x_prints_its_own_ntp_layouts() -> None:
    """On the 15.x release, `show ntp associations` and `show ntp status` would print the 12.x
    layouts instead of 15.x's."""
    lab = _lab(release="15.x")
    lab.run(5)
    assert lab.show("ca", "show ntp associations")[0] == (
        "  address         ref clock       st   when   poll reach  delay  offset   disp")
    master = lab.show("master", "show ntp associations")
    assert master[1].startswith("*~127.127.1.1     .LOCL.           7")
    assert master[-1].startswith(" * sys.peer, # selected")
    status = lab.show("ca", "show ntp status")
    assert status[0] == "Clock is unsynchronized, stratum 16, no reference clock"
    assert status[-2:] == ["loopfilter state is 'NSET' (Never set), drift is 0.000000000 s/s",
                           "system poll interval is 64, never updated."]
    lab.run(300)
    assert lab.show("ca", "show ntp status")[-1].startswith(
        "system poll interval is 64, last update was ")


def test_ntp_lines_are_saved_and_come_back_after_a_reload() -> None:
    """`ntp server` and `ntp master` lines would be lost after `write memory` and a reload, or `no
    ntp ...` would not remove them."""
    lab = _lab()
    lab.type("ca", "enable\nconfigure terminal\nntp server 10.3.0.1 prefer\nntp master 4\n"
                   "end\nwrite memory")
    config = lab.show("ca", "show running-config")
    assert config[config.index("ntp master 4") + 1] == "ntp server 10.3.0.1 prefer"
    lab.reload("ca")
    lab.run(60)
    assert "ntp server 10.3.0.1 prefer" in lab.show("ca", "show running-config")
    assert lab.show("ca", "show ntp associations")[1].startswith(" ~10.3.0.1")
    lab.type("ca", "enable\nconfigure terminal\nno ntp server 10.3.0.1\nno ntp master\nend")
    assert lab.show("ca", "show ntp status") == ["%NTP is not enabled."]
    assert not any(line.startswith("ntp") for line in lab.show("ca", "show running-config"))


def test_show_ntp_without_ntp_says_it_is_not_enabled() -> None:
    """`show ntp status` and `show ntp associations` on a router without NTP would not print `%NTP
    is not enabled.`"""
    lab = Lab(seed=5)
    lab.add_router("r", "10.0.0.1")
    assert lab.show("r", "show ntp status") == ["%NTP is not enabled."]
    assert lab.show("r", "show ntp associations") == ["%NTP is not enabled."]


def test_clock_calendar_valid_trusts_the_calendar_and_the_server_starts() -> None:
    """With `clock calendar-valid`, a CA refused for an unset clock would still not start, or the
    line would not survive a reload."""
    lab = Lab(seed=5)
    lab.add_router("ca", "10.0.0.1", "ip http server", clock=ClockSpec(set=False))
    printed = _joined(lab.type("ca", BRING_UP, PASS))
    assert "% Time has not been set" in printed
    lab.type("ca", "configure terminal\nclock calendar-valid\nend\nwrite memory")
    assert _state(lab) == "enabled"
    assert lab.show("ca", "show clock detail")[1] == "Time source is hardware calendar"
    config = lab.show("ca", "show running-config")
    assert "clock calendar-valid" in config
    lab.reload("ca")
    lab.run(120)
    assert "clock calendar-valid" in lab.show("ca", "show running-config")
    assert lab.show("ca", "show clock detail")[1] == "Time source is hardware calendar"


def test_calendar_commands_are_refused_on_a_router_without_a_calendar() -> None:
    """On a router without a hardware calendar, `calendar set` and `clock update-calendar` would be
    accepted instead of marked invalid."""
    lab = Lab(seed=5)
    lab.add_router("r", "10.0.0.1", clock=ClockSpec(calendar=False))
    printed = lab.type("r", "enable\ncalendar set 10:00:00 1 Feb 2006\nclock update-calendar")
    assert printed.count("% Invalid input detected at '^' marker.") == 2
    assert printed[printed.index("r#clock update-calendar") + 1] == " " * 8 + "^"


def test_calendar_set_is_loaded_into_the_clock_at_the_next_boot() -> None:
    """`calendar set` would change the clock at once instead of at the next boot, or `show calendar`
    and `show clock detail` would be wrong."""
    lab = Lab(seed=5)
    lab.add_router("r", "10.0.0.1")
    lab.type("r", "enable\ncalendar set 10:00:00 1 Feb 2006")
    assert lab.show("r", "show calendar")[0].startswith("10:00:0")
    assert lab.show("r", "show calendar")[0].endswith("UTC Wed Feb 1 2006")
    assert "2005" in lab.show("r", "show clock")[0]  # the software clock is untouched
    lab.reload("r")
    lab.run(60)
    assert lab.show("r", "show clock")[0].endswith("UTC Wed Feb 1 2006")
    assert lab.show("r", "show clock detail")[1] == "Time source is hardware calendar"
    lab.type("r", "enable\nclock set 12:00:00 3 Mar 2007\nclock update-calendar")
    assert lab.show("r", "show calendar")[0].startswith("12:00:0")
    assert lab.show("r", "show calendar")[0].endswith(" UTC Sat Mar 3 2007")
    assert lab.show("r", "show clock detail")[1] == "Time source is user configuration"


def test_ntp_packets_are_48_real_bytes() -> None:
    """NTP between simulated routers would not use real 48-byte NTP packets, or malformed packets
    would be accepted."""
    packet = wire.NtpPacket(mode=wire.MODE_SERVER, stratum=8, leap=0, root_delay=0.002,
                            reference_id=wire.address_id("127.127.7.1"),
                            originate=3_313_000_000.25, receive=3_313_000_000.5,
                            transmit=3_313_000_000.75)
    data = wire.encode(packet)
    assert len(data) == 48 and data[0] == (3 << 3) | 4
    again = wire.decode(data)
    assert again.stratum == 8 and wire.id_address(again.reference_id) == "127.127.7.1"
    assert again.transmit == pytest.approx(3_313_000_000.75)
    with pytest.raises(ValueError):
        wire.decode(data[:40])
    with pytest.raises(ValueError):
        wire.decode(bytes([7 << 3 | 3]) + data[1:])  # version 7


def test_a_steady_association_polls_less_often_up_to_1024_seconds() -> None:
    """`show ntp associations` on a router synchronized for hours would still show poll 64,
    where IOS shows the interval grown to 1024; and a lab left running for simulated years
    would spend its time polling every minute."""
    lab = _lab()
    lab.run(6 * 3600)
    assert lab.show("ca", "show ntp associations")[1].split()[4] == "1024"
    lab.link_down("master", "ca")
    seen: list[str] = []
    for _ in range(40):  # a poll goes unanswered, and the next one notices
        lab.run(64)
        seen.append(lab.show("ca", "show ntp associations")[1].split()[4])
    assert "64" in seen  # a server that answered lately is polled at 64 s again
    lab.run(4 * 3600)  # ... and backed off to 1024 s once it has not answered for 8 polls
    assert lab.show("ca", "show ntp associations")[1].split()[4] == "1024"
