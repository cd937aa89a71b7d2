"""IOS's certificate expiry alerts as a sans-IO core: the `Expiry Alert Timers` group of
`show crypto pki timers` and the warning each one logs when it fires.

cisco-cs.md 17 (T-20) lists the group's members as `ID(<tp>)` (a router's own
certificate), `CA(<tp>)` (the CA certificate a trustpoint holds) and `CS(<cs>)` (a
certificate server's CA certificate), and records the `CS(<cs>)` alert falling 60 days
before `CS CERT EXPIRE`. What the reference does not record is chosen here and marked so:

- Cisco's "PKI Credentials Expiry Alerts" (15MT; cisco-cs-docs.md 7): the first
  notification 60 days before the end, then weekly until one week before, then daily in
  the last week; *warning* mode while more than a week remains, *alert* mode after. So
  alerts fall 60, 53, 46, 39, 32, 25, 18 and 11 days before the end, then 7, 6, 5, 4, 3,
  2 and 1 day before. chosen: a point already behind the certificate's start (a 20-day
  certificate has no 60-day alert) is skipped, so a short-lived lab certificate is not
  warned about at once;
- chosen: the warning is `%PKI-4-CERT_EXPIRY_WARNING` and, in the last week, the alert
  `%PKI-1-CERT_EXPIRY_ALERT` (severity 1, "alert"), both recalled from IOS's message
  catalogue (their text never captured), with detail lines laid out like XE's
  `%PKI-6-CERT_INSTALL` (`Issuer-name :`, `Subject-name :`, `Serial-number:`);
- chosen: alert points passed while the router was off fire once, together, when it
  comes back (the fired points live in the running state, as IOS's timers do); a
  certificate already past its end gets no warning (its expiry is another matter).

The shell (`sim.router.alert_host`) says what is watched, by a function read at every
deadline, so a certificate installed, replaced or removed is seen without bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509

from sim.pki import x509util
from sim.pki.enroll_effects import Syslog

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ALERT_MODE_DAYS = 7
"""In the last week the notifications are alerts, daily (the module docstring)."""
ALERT_DAYS = (*range(60, ALERT_MODE_DAYS, -7), *range(ALERT_MODE_DAYS, 0, -1))
"""Days before a certificate's end at which its alert fires: 60, weekly to 11, then daily
from 7 to 1 (the module docstring)."""


@dataclass(frozen=True)
class Watched:
    """One certificate whose expiry is watched, under its timer label."""

    label: str
    """`ID(r1)`, `CA(r1)` or `CS(ca)`, as the timer listing names it."""
    trustpoint: str
    certificate: x509.Certificate
    auto_renewal: bool = False
    """The trustpoint renews on its own (`auto-enroll`): the warning says so."""


def alert_points(cert: x509.Certificate) -> list[datetime]:
    """The moments this certificate's alert fires, earliest first."""
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    return [at for days in ALERT_DAYS if (at := end - timedelta(days=days)) > start]


class ExpiryAlerts:
    """The alert timers of one router: `armed()` lists them, `on_timer` fires them."""

    def __init__(self, watched: Callable[[], list[Watched]]) -> None:
        self._watched = watched
        self._fired: dict[tuple[str, int], datetime] = {}
        """(label, serial) -> the latest alert point already fired for that certificate."""

    def _next(self, item: Watched) -> datetime | None:
        done = self._fired.get((item.label, item.certificate.serial_number))
        return next((at for at in alert_points(item.certificate)
                     if done is None or at > done), None)

    def armed(self) -> list[tuple[str, datetime]]:
        """Every armed alert under its label, for `show crypto pki timers`."""
        return [(item.label, due) for item in self._watched()
                if (due := self._next(item)) is not None]

    def next_deadline(self) -> datetime | None:
        return min((due for _label, due in self.armed()), default=None)

    def on_timer(self, now: datetime) -> list[Syslog]:
        """Fire every alert that is due: one warning per certificate, however many of its
        points have passed (a router that was off through two of them warns once)."""
        warnings: list[Syslog] = []
        for item in self._watched():
            due = self._next(item)
            if due is None or due > now:
                continue
            cert = item.certificate
            self._fired[(item.label, cert.serial_number)] = max(
                at for at in alert_points(cert) if at <= now)
            if now < cert.not_valid_after_utc:
                warnings.append(Syslog(expiry_warning(item, now)))
        return warnings


def expiry_warning(item: Watched, now: datetime) -> str:
    """The warning an alert logs (wording chosen, see the module docstring)."""
    cert = item.certificate
    end = cert.not_valid_after_utc
    left = int((end - now).total_seconds())
    days, rest = divmod(left, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    what = "CA certificate" if item.label.startswith("CA(") else "Certificate"
    alert = end - now <= timedelta(days=ALERT_MODE_DAYS)
    mnemonic = "%PKI-1-CERT_EXPIRY_ALERT" if alert else "%PKI-4-CERT_EXPIRY_WARNING"
    return "\n".join([
        f"{mnemonic}: {what} belonging to trustpoint {item.trustpoint} "
        f"will expire in {days} Days {hours} hours {minutes} mins {seconds} secs "
        f"at {end:%H:%M:%S} UTC {_MONTHS[end.month - 1]} {end.day} {end.year}.",
        f" Issuer-name : {x509util.format_dn_ios(cert.issuer)}",
        f" Subject-name : {x509util.format_dn_ios(cert.subject)}",
        f" Serial-number: {cert.serial_number:02X}",
        f" Auto-Renewal : {'Enabled' if item.auto_renewal else 'Not Enabled'}",
    ])
