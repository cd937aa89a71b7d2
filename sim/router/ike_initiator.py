"""The initiator's side of IKE, and the traffic that starts it (`ping`).

A packet that an applied crypto map's access list permits and that has no IPsec SA with
the entry's peer starts a negotiation and is dropped, as IOS drops the packet that
triggers IKE; once the SA is up later packets go through (`.!!!!`). IKEv1 runs main mode
(MM1-MM6: proposals, nonces, then identity, certificate and signature) and quick mode
(QM1/QM2); a crypto map entry with `set ikev2-profile` runs IKEv2 (IKE_SA_INIT, then
IKE_AUTH carrying identity, certificate and signature). The steps and what is modelled
are described in `sim.router.ike`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import simpy

from sim.kernel.process import SimProcess
from sim.net import datagram
from sim.router import ike
from sim.router.crypto_state import CryptoMapEntry, IkeSa, SaState
from sim.router.ike import IkeMessage, credentials, identity_of, isakmp_debug, request, sign

if TYPE_CHECKING:
    from sim.router.router import Router

PING_COUNT = 5
PING_BYTES = 100
PING_TIMEOUT = 2.0
"""IOS's default `ping`: "Sending 5, 100-byte ICMP Echos to A.B.C.D, timeout is 2 seconds"."""
ESP_OVERHEAD = 58
"""Bytes ESP tunnel mode adds to a protected packet (new IP header, ESP header, IV, pad,
trailer, ICV), roughly."""
INV_SPI = ("%CRYPTO-4-RECVD_PKT_INV_SPI: decaps: rec'd IPSEC packet has invalid spi for "
           "destaddr={dst}, prot=50, spi=0x{spi:X}({spi}), srcaddr={src}")


def start(router: Router, entry: CryptoMapEntry, peer: str) -> IkeSa:
    """The SA with `peer`: the existing one, else a new negotiation started now."""
    crypto = router.running.crypto
    existing = crypto.sa_with(peer)
    if existing is not None:
        return existing
    version = 2 if entry.ikev2_profile else 1
    conn_id = crypto.new_conn_id()
    # The initiator's SPI names the negotiation at both ends: random, as IKE's cookies are,
    # so a router that rebooted (and counts conn-ids from 1001 again) is not taken for the
    # negotiation it had before.
    spi = int.from_bytes(router.random_bytes(8), "big")
    sa = IkeSa(conn_id, version, router.address, peer, True,
               SaState.MM_NO_STATE if version == 1 else SaState.IKEV2_IN_NEG,
               router.env.now, spi, crypto_map=entry.name, profile=entry.ikev2_profile)
    crypto.sas.append(sa)
    router.emit("ike", "sa.negotiating", peer=peer, conn_id=conn_id, version=version,
                role="initiator")
    ike.listen(router)
    router.spawn(_negotiate(router, sa))
    return sa


def _negotiate(router: Router, sa: IkeSa) -> SimProcess[None]:
    started = router.env.now
    if sa.version == 1:
        result, tp = yield from _main_mode(router, sa)
    else:
        result, tp = yield from _ikev2(router, sa)
    peer = ike.peer_router(router, sa.peer)
    message = "IKEv1 main mode" if sa.version == 1 else "IKEv2"
    if sa.failure is not None:
        message += f" ({sa.failure})"
    router.emit("ike", "exchange", server=peer.name if peer is not None else None,
                trustpoint=tp or "-", operation="IKE", message=message,
                result=result, started=started, peer=sa.peer)


def _fail(router: Router, sa: IkeSa, reason: str, *, notify_peer: bool = False) -> None:
    state = sa.state.value if sa.state is not None else "-"
    isakmp_debug(router, sa, f'deleting SA reason "{reason}" state (I) {state} '
                 f"(peer {sa.peer})")
    if notify_peer:
        ike.send_only(router, sa.peer, IkeMessage(sa.version, "DELETE", sa.initiator_spi,
                                                  router.address))
    ike.drop_sa(router, sa, reason)


def _main_mode(router: Router, sa: IkeSa) -> SimProcess[tuple[str, str | None]]:
    crypto = router.running.crypto
    creds = credentials(router)
    # Only `authentication rsa-sig` policies are offered: pkilab models no pre-shared keys
    # and no RSA-encrypted nonces, so a router without one has no way to authenticate.
    policies = [p for _prio, p in sorted(crypto.policies.items())
                if p.authentication == "rsa-sig"]
    isakmp_debug(router, sa, " SA request profile is (NULL)")
    isakmp_debug(router, sa, f" Created a peer struct for {sa.peer}, peer port 500")
    if creds is None or not policies:
        # chosen: a router with no certificate (or no policy) never sends MM1.
        isakmp_debug(router, sa, "No cert, and no keys (public or pre-shared) with remote "
                     f"peer {sa.peer}")
        _fail(router, sa, "No certificate")
        return "FAILURE", None
    isakmp_debug(router, sa, " beginning Main Mode exchange")
    offer = tuple(p.proposal() for p in policies)
    reply = yield from request(router, sa, IkeMessage(1, "MM1", sa.initiator_spi,
                                                      router.address, proposals=offer), "1")
    if reply is None:
        _fail(router, sa, "Death by retransmission P1")
        return "timeout", creds.trustpoint.name
    if reply.notify is not None:
        isakmp_debug(router, sa, f" Notify has no hash. Rejected. ({reply.notify})")
        router.log(ike.MODE_FAILURE.format(peer=sa.peer))
        _fail(router, sa, "Phase1 SA policy not acceptable")
        return "FAILURE", creds.trustpoint.name
    sa.hash = reply.hash
    sa.state = SaState.MM_SA_SETUP
    isakmp_debug(router, sa, "Old State = IKE_I_MM2  New State = IKE_I_MM3")
    sa.nonce_local = router.random_bytes(16)
    reply = yield from request(router, sa, IkeMessage(1, "MM3", sa.initiator_spi,
                                                      router.address, nonce=sa.nonce_local),
                               "1")
    if reply is None:
        _fail(router, sa, "Death by retransmission P1")
        return "timeout", creds.trustpoint.name
    sa.nonce_peer = reply.nonce
    sa.state = SaState.MM_KEY_EXCH
    identity = identity_of(router, creds)
    data = ike.signed_data("I", sa.initiator_spi, sa.nonce_local, sa.nonce_peer, identity,
                           creds.certs[0])
    isakmp_debug(router, sa, f"SA is doing RSA signature authentication using id type "
                 f"ID_{'IPV4_ADDR' if crypto.identity == 'address' else crypto.identity.upper()}")
    mm5 = IkeMessage(1, "MM5", sa.initiator_spi, router.address, identity=identity,
                     certs=creds.certs, signature=sign(creds.key, data, sa.hash), hash=sa.hash)
    reply = yield from request(router, sa, mm5, "1")
    if reply is None:
        _fail(router, sa, "Death by retransmission P1")
        return "timeout", creds.trustpoint.name
    ok = yield from ike.authenticate_peer(router, sa, reply, sa.hash, [], None)
    if not ok:
        _fail(router, sa, "Unable to authenticate peer", notify_peer=True)
        return "FAILURE", creds.trustpoint.name
    sa.trustpoint = creds.trustpoint.name
    ike.phase1_up(router, sa)
    isakmp_debug(router, sa, "beginning Quick Mode exchange, M-ID of 0")
    reply = yield from request(router, sa, IkeMessage(1, "QM1", sa.initiator_spi,
                                                      router.address), "2")
    if reply is None:
        _fail(router, sa, "Death by retransmission P2", notify_peer=True)
        return "timeout", creds.trustpoint.name
    ike.ipsec_up(router, sa)
    return "SUCCESS", creds.trustpoint.name


def _ikev2(router: Router, sa: IkeSa) -> SimProcess[tuple[str, str | None]]:
    profile = router.running.crypto.ikev2_profiles.get(sa.profile or "")
    if profile is None or profile.auth_local != "rsa-sig" or "rsa-sig" not in profile.auth_remote:
        # chosen: an incomplete profile starts nothing (IOS: "profile is incomplete").
        isakmp_debug(router, sa, f"IKEv2 profile {sa.profile} is incomplete")
        _fail(router, sa, "profile incomplete")
        return "FAILURE", None
    creds = credentials(router, profile.trustpoints or None)
    if creds is None:
        isakmp_debug(router, sa, f"Failed to find a certificate for profile {profile.name}")
        _fail(router, sa, "No certificate")
        return "FAILURE", None
    sa.nonce_local = router.random_bytes(16)
    reply = yield from request(router, sa, IkeMessage(2, "SA_INIT", sa.initiator_spi,
                                                      router.address, nonce=sa.nonce_local,
                                                      hash="sha256"), "1")
    if reply is None or reply.notify is not None:
        _fail(router, sa, "Death by retransmission" if reply is None else reply.notify or "")
        return ("timeout" if reply is None else "FAILURE"), creds.trustpoint.name
    sa.nonce_peer = reply.nonce
    sa.hash = reply.hash
    identity = identity_of(router, creds, profile.identity_local)
    data = ike.signed_data("I", sa.initiator_spi, sa.nonce_local, sa.nonce_peer, identity,
                           creds.certs[0])
    auth = IkeMessage(2, "AUTH", sa.initiator_spi, router.address, identity=identity,
                      certs=creds.certs, signature=sign(creds.key, data, sa.hash), hash=sa.hash)
    reply = yield from request(router, sa, auth, "1")
    if reply is None:
        _fail(router, sa, "Death by retransmission")
        return "timeout", creds.trustpoint.name
    if reply.notify is not None:
        sa.failure = "refused by peer"
        # chosen: the initiator's notice of the responder's AUTHENTICATION_FAILED.
        isakmp_debug(router, sa, f"Received notify: {reply.notify}")
        router.log(f"%IKEV2-5-RECV_CONNECTION_REQUEST_FAILED: Peer {sa.peer} answered "
                   f"{reply.notify}")
        _fail(router, sa, reply.notify)
        return "FAILURE", creds.trustpoint.name
    ok = yield from ike.authenticate_peer(router, sa, reply, sa.hash, profile.trustpoints,
                                          profile.match_certificate)
    if not ok:
        _fail(router, sa, "Unable to authenticate peer", notify_peer=True)
        return "FAILURE", creds.trustpoint.name
    sa.trustpoint = creds.trustpoint.name
    ike.phase1_up(router, sa)
    ike.ipsec_up(router, sa)
    return "SUCCESS", creds.trustpoint.name


TUNNEL_DELAY = 1.0
"""chosen: seconds from a protected tunnel's configuration (or boot) to its first IKE."""


def bring_up_tunnel(router: Router, interface: str) -> SimProcess[None]:
    """A protected tunnel interface starts IKE with its destination (once)."""
    yield router.env.timeout(TUNNEL_DELAY)
    crypto = router.running.crypto
    entry = next((e for e in crypto.tunnel_entries() if e.tunnel == interface), None)
    if entry is not None and crypto.sa_with(entry.peers[0]) is None:
        start(router, entry, entry.peers[0])


# -- traffic -----------------------------------------------------------------------------------
def echo(router: Router, dst: str) -> SimProcess[float | None]:
    """One ICMP echo to `dst`: the round trip in seconds, or None after the timeout."""
    env = router.env
    crypto = router.running.crypto
    entry = crypto.entry_for(router.address, dst)
    if entry is not None:
        sa = crypto.sa_with(entry.peers[0])
        if sa is None or not sa.ipsec_up:
            if sa is None:
                start(router, entry, entry.peers[0])
            yield env.timeout(PING_TIMEOUT)
            return None
    done = env.event()
    router.spawn(_round_trip(router, dst, entry is not None, done))
    yield done | env.timeout(PING_TIMEOUT)
    return done.value if done.triggered else None


def _round_trip(router: Router, dst: str, protected: bool, done: simpy.Event
                ) -> SimProcess[None]:
    net, env = router.net, router.env
    begun = env.now
    node = net.node_for_address(dst)
    size = PING_BYTES + (ESP_OVERHEAD if protected else 0)
    if not (yield from datagram.carry(net, router.name, node, size, "ICMP echo")):
        return
    other = ike.peer_router(router, dst)
    reply_protected = False
    if other is not None:
        back_sa = other.running.crypto.sa_with(router.address)
        if protected and (back_sa is None or not back_sa.ipsec_up):
            spi = router.running.crypto.sa_with(dst)
            other.log(INV_SPI.format(dst=dst, src=router.address,
                                     spi=0x10000000 + (spi.conn_id if spi else 0)))
            return
        back = other.running.crypto.entry_for(dst, router.address)
        if back is not None:
            if back_sa is None or not back_sa.ipsec_up:
                start(other, back, back.peers[0])
                return
            reply_protected = True
    elif protected:
        return  # nobody there speaks IPsec
    if node is None:
        return
    size = PING_BYTES + (ESP_OVERHEAD if reply_protected else 0)
    if (yield from datagram.carry(net, node, router.name, size, "ICMP echo-reply")) \
            and not done.triggered:
        done.succeed(env.now - begun)
