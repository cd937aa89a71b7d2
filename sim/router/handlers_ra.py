"""cs-server mode commands of RA mode: `mode ra [transparent]` and `grant ra-auto`.

`mode ra` makes the server a registration authority in front of the CA its trustpoint's
`enrollment url` names (cisco-cs.md 13; `sim.pki.ra_forward`); like `mode sub-cs` it
"must be set before first `no shutdown`" and "cannot be changed after CA cert generation"
(cisco-cs.md 3). `grant ra-auto` belongs on the issuing CA: it grants what a recognised RA
forwards (cisco-cs.md 11).
"""

from __future__ import annotations

from sim.pki.cs_settings import CsMode, GrantMode
from sim.router.cli_parser import Match
from sim.router.command_table import CommandTable
from sim.router.console import Session
from sim.router.handlers_config import (
    current_server,
    server_editable,
)

GRANT_AUTO_RA_SYSLOG = ("%PKI-6-CS_GRANT_AUTO_RA: Enrollment requests coming from known RAs "
                        "will be automatically granted.")
"""chosen: the facility is recalled from IOS's message catalogue (cisco-cs.md 16 [D], "RA
requests auto-granted"); its text was never captured. Logged when `grant ra-auto` is
configured, as `%PKI-6-CS_GRANT_AUTO` is for `grant auto`."""


def _mode_ra(s: Session, m: Match) -> None:
    """`mode ra [transparent]`; `no mode ra` goes back to a root (before the server has
    its certificate: afterwards it has no effect, as `no mode sub-cs`)."""
    cs = current_server(s)
    if m.negated and cs.ca_cert is not None:
        return
    if not server_editable(s, cs, frozen_after_cert=True):
        return
    if m.negated:
        cs.configure(mode=CsMode.ROOT, ra_transparent=False)
        return
    cs.configure(mode=CsMode.RA, ra_transparent="transparent" in m.keywords)


def _grant_ra_auto(s: Session, m: Match) -> None:
    """`grant ra-auto` / `no grant ra-auto` (back to manual)."""
    cs = current_server(s)
    if not server_editable(s, cs, frozen_after_cert=False):
        return
    cs.configure(grant=GrantMode.MANUAL if m.negated else GrantMode.RA_AUTO,
                 grant_trustpoints=(), grant_tp_list=False)
    if not m.negated and not s.booting:
        s.router.log(GRANT_AUTO_RA_SYSLOG)


CS_RA_COMMANDS: CommandTable = [
    ("mode ra [transparent]", _mode_ra, {"no_form": True}),
    ("grant ra-auto", _grant_ra_auto, {"no_form": True}),
]
