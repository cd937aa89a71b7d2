"""CA rollover commands: `auto-rollover` and `grant auto rollover` in cs-server mode,
`crypto pki server CS rollover [cancel]` in privileged EXEC (cisco-cs.md 3, 4, 14).

The core is `sim.pki.cs_rollover`, its router shell `sim.router.rollover_host`.
"""

from __future__ import annotations

from sim.kernel.process import SimProcess
from sim.pki import cs_rollover
from sim.router.cli_parser import Match, ParseError
from sim.router.command_table import CommandTable
from sim.router.console import Session
from sim.router.handlers_config import current_server, server_editable
from sim.router.handlers_pki import not_run_at_boot

_DAYS = f"{cs_rollover.AUTO_ROLLOVER_DAYS[0]}-{cs_rollover.AUTO_ROLLOVER_DAYS[1]}"


def _auto_rollover(s: Session, m: Match) -> None:
    """`auto-rollover [DAYS [HOURS [MINUTES]]]` (a bare one: 30 days); `no auto-rollover`.
    A zero overlap (`auto-rollover 0`) is refused with the caret under its last number,
    as `lifetime crl 0` is."""
    cs = current_server(s)
    if not server_editable(s, cs):
        return
    if m.negated:
        cs.configure(auto_rollover_minutes=None)
        return
    try:
        minutes = cs_rollover.overlap_minutes(
            m.integer("days") if "days" in m.args else None, m.integer("hours", 0),
            m.integer("minutes", 0))
    except ValueError:
        line = s.current_line.rstrip()
        column = len(line) - len(line.split()[-1])
        s.render_error(ParseError("invalid", column, line[column:], s.current_line))
        return
    cs.configure(auto_rollover_minutes=minutes)


def _grant_rollover(s: Session, m: Match) -> None:
    """`grant auto rollover {ca-cert|ra-cert}`: a subordinate CA's (an RA's) rollover
    request is granted at once. It adds to the server's grant mode, which stays as it is
    (chosen: the two kinds are separate lines, each with its own `no` form)."""
    cs = current_server(s)
    if not server_editable(s, cs):
        return
    kind = m.keywords[-1]
    kinds = [k for k in cs.config.grant_rollover if k != kind]
    if not m.negated:
        kinds.append(kind)
    order = ("ca-cert", "ra-cert")
    cs.configure(grant_rollover=tuple(k for k in order if k in kinds))


def _rollover(s: Session, m: Match) -> SimProcess[None]:
    """`crypto pki server CS rollover` starts the rollover now; `... rollover cancel`
    drops the shadow. chosen: both are silent on success, as `grant` is; the syslog and
    `show crypto pki server` tell the rest."""
    if not_run_at_boot(s):
        return
    name = str(m.args["name"])
    router = s.router
    cs = router.running.servers.get(name)
    if cs is None:
        s.write(f"Certificate server '{name}' is not known")
        return
    try:
        if "cancel" in m.keywords:
            yield from router.rollover_host.cancel(cs)
        else:
            yield from router.rollover_host.start_now(cs)
    except cs_rollover.RolloverError as refused:
        s.write(str(refused))


CS_ROLLOVER_COMMANDS: CommandTable = [
    (f"auto-rollover [<days:{_DAYS}> [<hours:0-23> [<minutes:0-59>]]]", _auto_rollover,
     {"no_form": True}),
    ("grant auto rollover {ca-cert|ra-cert}", _grant_rollover, {"no_form": True}),
]

EXEC_ROLLOVER_COMMANDS: CommandTable = [
    ("crypto pki server <name:LABEL> rollover [cancel]", _rollover, {}),
]
