"""Certificate expiry alerts (15.x/XE): the `Expiry Alert Timers` of `show crypto pki
timers` and the warnings they log (cisco-cs.md 17; `sim.pki.expiry_alerts`)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509

from sim.lab import Lab
from sim.pki import x509util
from sim.pki.expiry_alerts import ExpiryAlerts, Watched, alert_points
from sim.pki.keys import KeySource

START = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)


def _cert(days: int) -> x509.Certificate:
    key = KeySource(7, Path(os.environ["PKILAB_KEY_CACHE"])).get("alerts", 1024)
    return x509util.make_ca_certificate(key, x509util.parse_dn("cn=r1"), 1, START,
                                        START + timedelta(days=days))


def test_alerts_fall_at_60_days_then_weekly_then_daily_but_never_before_the_start() -> None:
    """Certificate expiry warnings would not follow Cisco's schedule (60 days before, weekly,
    then daily in the last week), or would come before a short-lived certificate even starts."""
    long = _cert(365)
    end = long.not_valid_after_utc
    days = (60, 53, 46, 39, 32, 25, 18, 11, 7, 6, 5, 4, 3, 2, 1)
    assert alert_points(long) == [end - timedelta(days=d) for d in days]
    short = _cert(20)
    assert alert_points(short) == [short.not_valid_after_utc - timedelta(days=d)
                                   for d in days if d < 20]


def test_each_alert_fires_once_and_points_missed_while_off_fire_together() -> None:
    """`%PKI-4-CERT_EXPIRY_WARNING` would repeat, show the wrong remaining time, fire after expiry,
    or burst once per missed point after a router was off."""
    cert = _cert(365)
    end = cert.not_valid_after_utc
    alerts = ExpiryAlerts(lambda: [Watched("ID(r1)", "r1", cert)])
    assert alerts.armed() == [("ID(r1)", end - timedelta(days=60))]
    assert alerts.on_timer(end - timedelta(days=61)) == []
    (warning,) = alerts.on_timer(end - timedelta(days=60))
    assert warning.text.splitlines()[0] == (
        "%PKI-4-CERT_EXPIRY_WARNING: Certificate belonging to trustpoint r1 will expire in "
        "60 Days 0 hours 0 mins 0 secs at 09:00:00 UTC Mar 4 2025.")
    assert " Auto-Renewal : Not Enabled" in warning.text.splitlines()
    assert alerts.next_deadline() == end - timedelta(days=53)
    # Off through the weekly points and into the last week: one alert when it looks again.
    (late,) = alerts.on_timer(end - timedelta(days=5))
    assert late.text.startswith("%PKI-1-CERT_EXPIRY_ALERT: Certificate belonging to trustpoint "
                                "r1 will expire in 5 Days")
    assert alerts.next_deadline() == end - timedelta(days=4)
    assert alerts.on_timer(end + timedelta(days=1)) == []  # expired: no warning
    assert alerts.next_deadline() is None


def _enrolled(release: str) -> Lab:
    lab = Lab(seed=4)
    lab.add_router("ca", "10.0.0.1", "ip http server\ncrypto pki server CA\n grant auto",
                   release=release)
    lab.add_router("r1", "10.0.0.2", release=release)
    lab.link("ca", "r1")
    lab.type("ca", "enable\nconfigure terminal\ncrypto pki server CA\nno shutdown\nend",
             ["cisco123", "cisco123"])
    lab.type("r1", "enable\nconfigure terminal\ncrypto pki trustpoint CA\n"
             " enrollment url http://10.0.0.1\n exit\ncrypto pki authenticate CA\n"
             "crypto pki enroll CA\nend", ["yes", "pw", "pw", "no", "no", "yes"])
    lab.run_until_quiet()
    return lab


def test_an_enrolled_15_x_client_lists_its_id_and_ca_alerts_and_12_3_lists_none() -> None:
    """`show crypto pki timers` would lose or misorder its `Expiry Alert Timers` section on 15.x, or
    show it on 12.3 which has none."""
    lab = _enrolled("15.x")
    timers = lab.show("r1", "show crypto pki timers detail")
    assert timers[0] == "Expiry Alert Timers", timers
    labels = [line.split(") ")[-1] for line in timers[2:]]
    assert labels == ["ID(CA)", "CA(CA)"]  # the ID certificate ends first (1 year)
    server = lab.show("ca", "show crypto pki timers")
    assert "Expiry Alert Timers" in server and any(line.endswith("CS(CA)") for line in server)
    old = _enrolled("12.3(14)T")
    assert "Expiry Alert Timers" not in old.show("r1", "show crypto pki timers")


def test_the_id_alert_logs_its_warning_sixty_days_before_the_certificate_ends() -> None:
    """An enrolled router would not log exactly one `%PKI-4-CERT_EXPIRY_WARNING` sixty days before
    its certificate ends."""
    lab = _enrolled("XE")
    lab.run(305 * 86_400 + 3600)  # a year's certificate: its 60-day point has passed
    log = [line for line in lab.transcript("r1") if "CERT_EXPIRY_WARNING" in line]
    assert len(log) == 1, log
    assert "Certificate belonging to trustpoint CA will expire in 60 Days 0 hours" in log[0]
