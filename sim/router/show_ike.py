"""`show crypto isakmp sa`, `show crypto ikev2 sa`, `show crypto session` (layouts of
cisco-client-docs.md 5.5), pure functions of the router's state."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from sim.router.crypto_state import CryptoMapEntry, IkeSa

if TYPE_CHECKING:
    from sim.router.router import Router


def show_isakmp_sa(router: Router) -> list[str]:
    """IOS 15/XE:

        IPv4 Crypto ISAKMP SA
        dst             src             state          conn-id status
        10.0.0.2        10.0.0.1        QM_IDLE           1001 ACTIVE

    `dst` is the responder, `src` the initiator, whichever side shows it. The 12.3-era
    header is `dst src state conn-id slot status` (the release's `isakmp_sa_slot`);
    chosen: 12.3 without the `IPv4 Crypto ISAKMP SA` title, slot 0."""
    slot = router.release.isakmp_sa_slot
    lines = [] if slot else ["IPv4 Crypto ISAKMP SA"]
    lines.append("dst             src             state          conn-id "
                 + ("slot status" if slot else "status"))
    for sa in router.running.crypto.sas:
        if sa.version != 1 or sa.state is None:
            continue
        dst, src = (sa.peer, sa.local) if sa.initiator else (sa.local, sa.peer)
        middle = f"{sa.state.value:<15}{sa.conn_id:>7}"
        lines.append(f"{dst:<16}{src:<16}{middle}{'    0' if slot else ''} ACTIVE")
    lines.append("")
    return lines


def show_ikev2_sa(router: Router, now: float) -> list[str]:
    """The reference's layout; chosen: the algorithms line is IOS's default IKEv2
    proposal as the reference shows it (pkilab negotiates no algorithms)."""
    lines = [" IPv4 Crypto IKEv2  SA", "",
             "Tunnel-id Local                 Remote                fvrf/ivrf            Status"]
    tunnel = 0
    for sa in router.running.crypto.sas:
        if sa.version != 2 or sa.state is None:
            continue
        tunnel += 1
        local, remote = f"{sa.local}/500", f"{sa.peer}/500"
        lines.append(f"{tunnel:<10}{local:<22}{remote:<22}{'none/none':<21}{sa.state.value}")
        lines.append("      Encr: AES-CBC, keysize: 256, PRF: SHA256, Hash: SHA256, DH Grp:14, "
                     "Auth sign: RSA, Auth verify: RSA")
        active = int(now - sa.up_since) if sa.up_since is not None else 0
        lines.append(f"      Life/Active Time: 86400/{active} sec")
    lines.append("")
    return lines


def session_status(sa: IkeSa | None) -> str:
    """`UP-ACTIVE`, `UP-IDLE`, `UP-NO-IKE`, `DOWN-NEGOTIATING`, `DOWN` (cisco-client-docs.md
    5.5)."""
    if sa is None:
        return "DOWN"
    if sa.state is None:
        return "UP-NO-IKE" if sa.ipsec_up else "DOWN"
    if sa.ipsec_up:
        return "UP-ACTIVE"
    return "UP-IDLE" if sa.up else "DOWN-NEGOTIATING"


def show_session(router: Router) -> list[str]:
    """One block per peer: each SA, and each peer an applied crypto map names that has no
    SA (`DOWN`)."""
    crypto = router.running.crypto
    lines = ["Crypto session current status", ""]
    peers = list(dict.fromkeys([sa.peer for sa in crypto.sas]
                               + [p for e in crypto.applied_entries() for p in e.peers]))
    for peer in peers:
        sa = crypto.sa_with(peer)
        entry = crypto.entry_for_peer(peer)
        interface = entry.tunnel if entry is not None else None
        interface = interface or next((i.name for i in crypto.interfaces.values()
                                       if entry is not None and i.crypto_map == entry.name),
                                      None)
        if interface is not None:
            lines.append(f"Interface: {interface}")
        lines.append(f"Session status: {session_status(sa)}")
        lines.append(f"Peer: {peer} port 500")
        if sa is not None and sa.state is not None:
            lines.append(f"  IKEv{sa.version} SA: local {sa.local}/500 remote {sa.peer}/500 "
                         + ("Active" if sa.up else "Inactive"))
        for flow in _flows(router, entry):
            lines.append(f"  IPSEC FLOW: {flow}")
            active = 2 if sa is not None and sa.ipsec_up else 0
            lines.append(f"        Active SAs: {active}, origin: crypto map")
        lines.append("")
    return lines


def _flows(router: Router, entry: CryptoMapEntry | None) -> list[str]:
    if entry is None:
        return []
    if entry.tunnel is not None:
        # GRE/IPsec between the tunnel's ends (IP protocol 47).
        return [f"permit 47 host {router.address} host {entry.peers[0]}"]
    rules = router.running.crypto.acls.get(entry.acl or "", [])
    return [f"permit ip {_flow_side(r.source)} {_flow_side(r.destination)}"
            for r in rules if r.permit]


def _flow_side(spec: tuple[str, str]) -> str:
    """`host 10.0.0.1`, or `192.168.1.0/255.255.255.0` (the mask, not the wildcard)."""
    address, wildcard = spec
    if wildcard == "0.0.0.0":
        return f"host {address}"
    mask = IPv4Address(int(IPv4Address(wildcard)) ^ 0xFFFFFFFF)
    return f"{address}/{mask}"

