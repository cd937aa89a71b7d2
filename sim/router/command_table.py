"""The type of a command table: what each handler module hands `sim.router.commands`.

Kept apart from `sim.router.commands` (which imports every handler module) so handler
modules can name their tables' type without importing it back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.kernel.process import SimProcess

if TYPE_CHECKING:
    from sim.router.cli_parser import Match
    from sim.router.console import Session

Handler = Callable[["Session", "Match"], SimProcess[None] | None]
"""A command's handler: it writes to the session, and is a process when the command takes
simulated time (a prompt to answer, an exchange over the network)."""

CommandTable = list[tuple[str, Handler, dict[str, bool]]]
"""Each command a mode knows: its grammar, its handler and its options (`no_form`, ...)."""
