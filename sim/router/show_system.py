"""Renderers for the time, NTP and HTTP lines of the running configuration, the secure
server's lines of `show ip http server status`, and `show version`.

Pure functions of the router's state, used by `sim.router.show` (running-config) and the
handlers (`sim.router.handlers_time`, `sim.router.handlers_system`); the choices about
what IOS prints are explained there and in `sim.router.system_profile`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.router.ntp import DEFAULT_MASTER_STRATUM
from sim.router.state import DEFAULT_HTTP_PORT
from sim.router.system_profile import CRYPTO_NOTICE

if TYPE_CHECKING:
    from sim.router.router import Router


def time_config_lines(router: Router) -> list[str]:
    """The running configuration's lines for these commands: `clock calendar-valid` with
    the other `clock` lines, the `ntp` lines near the end (where IOS lists them)."""
    config = router.running.time
    return ["clock calendar-valid"] if config.calendar_valid else []


def ntp_config_lines(router: Router) -> list[str]:
    config = router.running.time
    lines = []
    if config.ntp_master is not None:
        stratum = config.ntp_master
        lines.append("ntp master" if stratum == DEFAULT_MASTER_STRATUM else
                     f"ntp master {stratum}")
    for address in config.ntp_servers:
        prefer = " prefer" if address in config.ntp_preferred else ""
        lines.append(f"ntp server {address}{prefer}")
    return lines


def http_config_lines(router: Router) -> list[str]:
    """The lines after `ip http server` in the running configuration. chosen: IOS's order
    is not recorded; port, then secure server, then its trustpoint."""
    http = router.running.http
    lines = []
    if http.port != DEFAULT_HTTP_PORT:
        lines.append(f"ip http port {http.port}")
    if http.secure_server:
        lines.append("ip http secure-server")
    if http.secure_trustpoint:
        lines.append(f"ip http secure-trustpoint {http.secure_trustpoint}")
    return lines


def http_status_lines(router: Router) -> list[str]:
    """The secure server's lines of `show ip http server status`. chosen: only the lines
    pkilab models; IOS also lists authentication, access classes, time-outs and cipher
    suites."""
    http = router.running.http
    return [
        "HTTP secure server capability: Present",
        f"HTTP secure server status: {'Enabled' if http.secure_server else 'Disabled'}",
        "HTTP secure server port: 443",
        f"HTTP secure server trustpoint: {http.secure_trustpoint or ''}",
    ]


# -- show version --------------------------------------------------------------------------
def uptime_text(seconds: float) -> str:
    """`1 day, 2 hours, 5 minutes`: IOS's uptime, from the largest unit down to minutes.
    chosen: units below the largest are all printed, zeros included."""
    minutes = int(seconds // 60)
    units = (("year", 525600), ("week", 10080), ("day", 1440), ("hour", 60), ("minute", 1))
    parts: list[str] = []
    for name, size in units:
        count, minutes = divmod(minutes, size)
        if count or parts or name == "minute":
            parts.append(f"{count} {name}{'' if count == 1 else 's'}")
    return ", ".join(parts)


def show_version(router: Router) -> list[str]:
    """`show version`: the release's banner, uptime since the last power-on or reload,
    the image, the crypto export notice of k9 images, the hardware, the configuration
    register. chosen: pkilab models no interfaces or flash sizes, so IOS's interface
    count and flash lines are left out; NVRAM is the simulated device's size."""
    system = router.release.system
    uptime = uptime_text(router.env.now - router.booted_at)
    lines = list(system.banner) + ["", f"{router.running.hostname} uptime is {uptime}"]
    if system.control_processor_uptime:
        lines.append(f"Uptime for this control processor is {uptime}")
    lines.append(f"System returned to ROM by {router.boot_reason}")
    lines.append(f'System image file is "{system.image}"')
    if system.last_reload_reason:
        # chosen: the reason `%SYS-5-RELOAD` gives for a `reload`, else power-on.
        reason = "Reload Command" if router.boot_reason == "reload" else "power-on"
        lines.append(f"Last reload reason: {reason}")
    lines += ["", "", *CRYPTO_NOTICE, "", system.hardware,
              f"Processor board ID {router.serial_number}",
              f"{router.nvram.size // 1024}K bytes of NVRAM.", "",
              f"Configuration register is {system.config_register}"]
    return lines
