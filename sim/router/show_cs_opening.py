"""The lines every `show crypto pki server` block opens with, CA or RA, per layout.

Its own module because `sim.router.show_cs` (the CA blocks) imports `sim.router.show_ra`
(the RA blocks), and both open the same way.
"""

from __future__ import annotations

from sim.pki.cs_server import CertificateServer


def opening_12_3(cs: CertificateServer) -> list[str]:
    """12.3(14)T: the name, `Status:`, and the lock line while locked (two-space indent)."""
    lines = [f"Certificate Server {cs.name}:", f"  Status: {cs.status()}"]
    if cs.locked:
        lines.append("  Server's configuration is locked (enter \"shut\" to unlock it)")
    return lines


def opening_15(cs: CertificateServer, pad: str) -> list[str]:
    """15.x / IOS-XE: the name, `Status:`, `State:` and the lock line either way."""
    # `State:` is the FSM state: `enabled` and `check failed` are captured [V]; chosen: a
    # server never `no shut` says `initial` and a shut one `disabled`, the FSM's own words
    # in the feature guide's debug output.
    lines = [f"Certificate Server {cs.name}:", f"{pad}Status: {cs.status()}",
             f"{pad}State: {cs.state.value}"]
    if cs.locked:
        # Two spaces before the parenthesis on these releases (cisco-cs.md 4.1).
        lines.append(f"{pad}Server's configuration is locked  (enter \"shut\" to unlock it)")
    else:
        # chosen: the unlocked counterpart of the locked line; the reference captured only
        # servers that had been `no shut`. Spacing as the locked line's.
        lines.append(f"{pad}Server's configuration is unlocked  (enter \"no shut\" to lock it)")
    return lines
