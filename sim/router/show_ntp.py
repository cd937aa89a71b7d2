"""`show ntp status` and `show ntp associations`, in the layouts of IOS 12.x and 15.x/XE.

Renderers are pure functions of a snapshot the NTP process takes (`NtpView`); the release
profile (`sim.router.release`) names which layout a router prints. The layouts are
recalled from IOS 12.4 and 15.x routers (cisco-client-docs.md 6 gives the commands, not
their output); the column widths are those IOS prints, checked against the headers.

12.x:

    Clock is synchronized, stratum 9, reference is 10.3.0.1
    nominal freq is 250.0000 Hz, actual freq is 250.0000 Hz, precision is 2**18
    reference time is C5A8A4E2.3E8B4B2A (21:03:30.244 UTC Thu Jan 6 2005)
    clock offset is 0.0000 msec, root delay is 2.00 msec
    root dispersion is 0.98 msec, peer dispersion is 0.98 msec

15.x adds `ntp uptime`, the loop filter state and the poll interval lines.

chosen: an association is marked `*` (the system peer) or not, and `~` (configured);
the `+`/`-`/`#` marks of IOS's selection among several servers are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sim.router.ntp_packet import from_ntp, hex_timestamp

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

MAX_DISPERSION = 16.0
"""RFC 1305's MAXDISPERSE, seconds: the dispersion of an empty filter stage (an association
that never answered shows 15937.5 ms, eight such stages weighted 1/2, 1/4, ...)."""


@dataclass(frozen=True)
class AssociationView:
    """One line of `show ntp associations`."""

    address: str
    reference: str
    """The server's reference as IOS shows it (`127.127.7.1`, `.LOCL.`, an address)."""
    stratum: int
    when: int | None
    """Seconds since the last answer; None: never answered."""
    poll: int
    reach: int
    delay: float
    offset: float
    dispersion: float
    """Seconds."""
    sys_peer: bool
    configured: bool = True


@dataclass(frozen=True)
class NtpView:
    """What the NTP process knows, for the two `show ntp` commands."""

    synchronized: bool
    stratum: int
    reference: str | None
    reference_time: float
    """NTP seconds of the last clock update; 0.0: never."""
    offset: float
    root_delay: float
    root_dispersion: float
    peer_dispersion: float
    uptime: float
    """Seconds since NTP started on the router."""
    since_update: int | None
    poll: int
    associations: tuple[AssociationView, ...]
    zone: str = "UTC"
    zone_offset: timedelta = timedelta(0)


def _clock_text(w: datetime) -> str:
    return (f"{w:%H:%M:%S}.{w.microsecond // 1000:03d} {{zone}} {_DAYS[w.weekday()]} "
            f"{_MONTHS[w.month - 1]} {w.day} {w.year}")


def _reference_time(view: NtpView) -> str:
    if view.reference_time == 0.0:
        when = from_ntp(0.0)
        shown = _clock_text(when).format(zone="UTC")
    else:
        when = from_ntp(view.reference_time) + view.zone_offset
        shown = _clock_text(when).format(zone=view.zone)
    return f"reference time is {hex_timestamp(view.reference_time)} ({shown})"


def _head(view: NtpView, precision: int) -> list[str]:
    if view.synchronized:
        first = (f"Clock is synchronized, stratum {view.stratum}, "
                 f"reference is {view.reference}")
    else:
        first = "Clock is unsynchronized, stratum 16, no reference clock"
    return [first, "nominal freq is 250.0000 Hz, actual freq is 250.0000 Hz, "
                   f"precision is 2**{precision}"]


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def status_12(view: NtpView) -> list[str]:
    """12.x `show ntp status`."""
    return _head(view, 18) + [
        _reference_time(view),
        f"clock offset is {_ms(view.offset):.4f} msec, root delay is "
        f"{_ms(view.root_delay):.2f} msec",
        f"root dispersion is {_ms(view.root_dispersion):.2f} msec, peer dispersion is "
        f"{_ms(view.peer_dispersion):.2f} msec",
    ]


def status_15(view: NtpView) -> list[str]:
    """15.x/XE `show ntp status`: 12.x's lines plus uptime, loop filter and poll."""
    if view.since_update is None:
        loop = "loopfilter state is 'NSET' (Never set), drift is 0.000000000 s/s"
        last = f"system poll interval is {view.poll}, never updated."
    else:
        loop = "loopfilter state is 'CTRL' (Normal Controlled Loop), drift is 0.000000000 s/s"
        last = (f"system poll interval is {view.poll}, last update was "
                f"{view.since_update} sec ago.")
    return _head(view, 10) + [
        f"ntp uptime is {int(view.uptime * 100)} (1/100 of seconds), resolution is 4000",
        _reference_time(view),
        f"clock offset is {_ms(view.offset):.4f} msec, root delay is "
        f"{_ms(view.root_delay):.2f} msec",
        f"root dispersion is {_ms(view.root_dispersion):.2f} msec, peer dispersion is "
        f"{_ms(view.peer_dispersion):.2f} msec",
        loop,
        last,
    ]


def _column(seconds: float, width: int, places: int) -> str:
    """A milliseconds column: a value too wide for its column loses decimals, down to
    none (`15937.`, `3600000.`), as IOS does; a space always separates the columns."""
    ms = _ms(seconds)
    text = f"{ms:.{places}f}"
    while len(text) >= width and places > 1:
        places -= 1
        text = f"{ms:.{places}f}"
    if len(text) >= width:
        text = f"{ms:.0f}."
    return text.rjust(width) if len(text) < width else " " + text


def _marks(a: AssociationView) -> str:
    return ("*" if a.sys_peer else " ") + ("~" if a.configured else " ")


def associations_12(view: NtpView) -> list[str]:
    """12.x `show ntp associations`."""
    lines = ["      address         ref clock     st  when  poll reach  delay  offset    disp"]
    for a in view.associations:
        when = "-" if a.when is None else str(a.when)
        lines.append(f"{_marks(a)}{a.address:<17}{a.reference:<15}{a.stratum:>4}{when:>6}"
                     f"{a.poll:>6}{a.reach:>6o}{_column(a.delay, 8, 1)}"
                     f"{_column(a.offset, 8, 2)}"
                     f"{_column(a.dispersion, 8, 1)}")
    lines.append(" * master (synced), # master (unsynced), + selected, - candidate, "
                 "~ configured")
    return lines


def associations_15(view: NtpView) -> list[str]:
    """15.x/XE `show ntp associations`."""
    lines = ["  address         ref clock       st   when   poll reach  delay  offset   disp"]
    for a in view.associations:
        when = "-" if a.when is None else str(a.when)
        lines.append(f"{_marks(a)}{a.address:<16}{a.reference:<15}{a.stratum:>3}{when:>7}"
                     f"{a.poll:>7}{a.reach:>6o}{_column(a.delay, 7, 3)}"
                     f"{_column(a.offset, 8, 3)}"
                     f"{_column(a.dispersion, 7, 3)}")
    lines.append(" * sys.peer, # selected, + candidate, - outlyer, x falseticker, "
                 "~ configured")
    return lines
