"""`clock timezone NAME HOURS [MINUTES]`: `show clock` in the zone, `clock set` in local
time, the line in the running-config (and after a reload); `terminal monitor` taken."""

from __future__ import annotations

from sim.lab import Lab


def _lab() -> Lab:
    lab = Lab(seed=2)
    lab.add_router("r1", "10.0.0.1")
    lab.type("r1", "enable")
    return lab


def test_show_clock_and_clock_set_use_the_zone() -> None:
    """After `clock timezone PST -8`, `show clock` or `clock set` would use UTC (or a wrong offset),
    or the running-config would miss the `clock timezone PST -8 0` line."""
    lab = _lab()
    utc = lab.show("r1", "show clock")[0]
    assert " UTC " in utc
    lab.type("r1", "configure terminal\nclock timezone PST -8\nend")
    local = lab.show("r1", "show clock")[0]
    assert " PST " in local
    assert local.startswith("13:00")  # 21:00 UTC - 8 h
    lab.type("r1", "clock set 10:00:00 6 January 2005")
    assert lab.show("r1", "show clock")[0].startswith("10:00:0")
    # The clock itself keeps UTC: 10:00 PST is 18:00 UTC.
    assert lab.router("r1").clock.now().hour == 18
    assert "clock timezone PST -8 0" in lab.show("r1", "show running-config")


def test_half_hour_zones_and_negative_minutes_follow_the_hours_sign() -> None:
    """A half-hour zone such as `clock timezone NST -3 30` or `IST 5 30` would make `show clock`
    show the wrong local time."""
    lab = _lab()
    lab.type("r1", "configure terminal\nclock timezone NST -3 30\nend")
    shown = lab.show("r1", "show clock")[0]  # 21:00:0x UTC - 3:30
    assert shown.startswith("17:30") and " NST " in shown
    lab.type("r1", "configure terminal\nclock timezone IST 5 30\nend")
    assert lab.show("r1", "show clock")[0].startswith("02:30")


def test_the_zone_is_saved_and_no_clock_timezone_removes_it() -> None:
    """The time zone would be lost over `write memory` and a reload, or `no clock timezone` would
    not bring `show clock` back to UTC."""
    lab = _lab()
    lab.type("r1", "configure terminal\nclock timezone CET 1\nend\nwrite memory")
    lab.reload("r1")
    lab.run(60)
    assert " CET " in lab.show("r1", "show clock")[0]
    lab.type("r1", "\nenable\nconfigure terminal\nno clock timezone\nend")
    assert " UTC " in lab.show("r1", "show clock")[0]
    assert not [line for line in lab.show("r1", "show running-config") if "timezone" in line]


def test_out_of_range_offsets_get_the_caret() -> None:
    """`clock timezone PST 25` would be accepted, or its `% Invalid input` `^` marker would not sit
    under the hours."""
    lab = _lab()
    printed = lab.type("r1", "configure terminal\nclock timezone PST 25\nend")
    assert "% Invalid input detected at '^' marker." in printed
    caret = printed[printed.index("% Invalid input detected at '^' marker.") - 1]
    assert caret.index("^") == len("r1(config)#clock timezone PST ")


def test_terminal_monitor_is_taken() -> None:
    """`terminal monitor` and `terminal no monitor`, common in lab handouts, would print an error
    instead of being accepted silently."""
    lab = _lab()
    printed = lab.type("r1", "terminal monitor\nterminal no monitor")
    assert printed == ["r1#terminal monitor", "r1#terminal no monitor"]
