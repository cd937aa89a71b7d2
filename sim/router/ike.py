"""IKE between routers that authenticate with their certificates (IKEv1 main + quick
mode, IKEv2 IKE_SA_INIT + IKE_AUTH), over the simulated links.

Theory of operation. Traffic that a crypto map's access list covers (`ping`, see
`echo`) and that has no IPsec SA yet starts a negotiation with the entry's `set peer`
(IOS drops the packet that triggers IKE). The initiator drives the exchange: each
request is one UDP datagram (`sim.net.datagram.carry`, so link delay, loss and down
links apply) to the peer's port 500; the peer's router answers it there (`respond`,
run as the peer's own process, so its power and reloads apply) and the answer crosses
back the same way. A request without an answer is sent again every
`RETRANSMIT_SECONDS`, `MAX_RETRANSMITS` times, then the negotiation is given up
("Death by retransmission"). A responder answers a duplicate with its earlier answer.

What is real: the certificates (the peer's identity certificate and the CA certificates
above it, not the root; chosen) and the signatures: each side signs a SHA hash of the
exchange (both nonces, the SA's conn-id, its identity and its certificate) with the RSA
key of its certificate, and the other verifies it with that certificate's public key
after validating the certificate (`sim.router.ike_validate`: chain to a trustpoint, the
router's own clock, `revocation-check`, `certificate map`). What is not: the wire form
of IKE (messages are Python objects sized roughly like IKE's), Diffie-Hellman, the
encryption of the later messages, IPsec proposals and transform sets, SA lifetimes and
rekeying, NAT-T, pre-shared keys.

Where the reference is silent the messages below are chosen, each marked; the
`debug crypto isakmp` lines follow IOS 12.4/15 debug transcripts as recalled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import simpy
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sim.kernel.process import SimProcess
from sim.net import datagram
from sim.pki import cert_path, x509util
from sim.router.crypto_state import IkeSa, SaState
from sim.router.ike_validate import validate_peer
from sim.router.state import Trustpoint

if TYPE_CHECKING:
    from sim.router.router import Router

IKE_PORT = 500
RETRANSMIT_SECONDS = 10.0
"""chosen: IOS retransmits an unanswered IKE packet; pkilab waits 10 s each time."""
MAX_RETRANSMITS = 5
"""chosen: five retransmissions, then `deleting SA reason "Death by retransmission P1"`."""
MESSAGE_OVERHEAD = 200
"""Bytes of an IKE message besides its certificates (headers, SA, KE, nonce, ID)."""

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "md5": hashes.MD5, "sha": hashes.SHA1, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512}

NO_SA = ("%CRYPTO-4-IKMP_NO_SA: IKE message from {peer} has no SA and is not an "
         "initialization offer")
MODE_FAILURE = "%CRYPTO-6-IKMP_MODE_FAILURE: Processing of Main mode failed with peer at {peer}"
# chosen: IOS 15's tunnel status line (session_status_syslog).
SESSION_UP = "%CRYPTO-5-SESSION_STATUS: Crypto tunnel is UP  .  Peer {peer}:500       Id: {id}"
SESSION_DOWN = "%CRYPTO-5-SESSION_STATUS: Crypto tunnel is DOWN. Peer {peer}:500       Id: {id}"
# chosen: IKEv2's up/down notices as recalled from IOS 15 and XE logs.
IKEV2_UP = "%IKEV2-5-SA_UP: SA UP"
IKEV2_DOWN = "%IKEV2-5-SA_DOWN: SA DOWN"
AUTH_FAILED = "AUTHENTICATION_FAILED"
NO_PROPOSAL = "NO_PROPOSAL_CHOSEN"


@dataclass(frozen=True)
class IkeMessage:
    """One IKE message as pkilab carries it (not IKE's bytes)."""

    version: int
    exchange: str
    """MM1..MM6, QM1, QM2 (IKEv1); SA_INIT, AUTH (IKEv2, request and response); DELETE."""
    initiator_spi: int
    source: str
    proposals: tuple[tuple[str, str, str, int], ...] = ()
    nonce: bytes = b""
    identity: str | None = None
    certs: tuple[x509.Certificate, ...] = ()
    signature: bytes = b""
    hash: str = "sha"
    notify: str | None = None
    payload: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return MESSAGE_OVERHEAD + len(self.nonce) + len(self.signature) + sum(
            len(x509util.cert_der(c)) for c in self.certs)


# -- credentials and signatures --------------------------------------------------------------
@dataclass(frozen=True)
class Credentials:
    """What a router proves itself with: a trustpoint's certificate, the CA certificates
    it sends along, and the key of that certificate."""

    trustpoint: Trustpoint
    certs: tuple[x509.Certificate, ...]
    key: rsa.RSAPrivateKey


def credentials(router: Router, names: list[str] | None = None) -> Credentials | None:
    """The first trustpoint (of `names`, else in configuration order) holding a router
    certificate whose key the router has."""
    for tp in router.running.trustpoints.values():
        if names and tp.name not in names:
            continue
        cert = tp.id_cert
        if cert is None or not isinstance(cert.public_key(), rsa.RSAPublicKey):
            continue
        wanted = x509util.public_key_der(_rsa_public(cert))
        for label in router.running.keys.labels():
            pair = router.running.keys.get(label)
            if pair is not None and x509util.public_key_der(pair.key) == wanted:
                chain = tuple(c for c in (tp.ca_chain or (tp.ca_cert,))
                              if c is not None and c.subject != c.issuer)
                return Credentials(tp, (cert, *chain), pair.key)
    return None


def _rsa_public(cert: x509.Certificate) -> rsa.RSAPublicKey:
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA certificate")  # pkilab's CAs issue RSA only
    return key


def signed_data(message_kind: str, sa_spi: int, nonce_i: bytes, nonce_r: bytes,
                identity: str, cert: x509.Certificate) -> bytes:
    """What a side signs: IKE's `HASH_I`/`HASH_R` inputs in pkilab's form."""
    return b"|".join([message_kind.encode(), str(sa_spi).encode(), nonce_i, nonce_r,
                      identity.encode(), x509util.cert_der(cert)])


def sign(key: rsa.RSAPrivateKey, data: bytes, hash_name: str) -> bytes:
    return key.sign(data, padding.PKCS1v15(), _HASHES.get(hash_name, hashes.SHA1)())


def signature_ok(cert: x509.Certificate, signature: bytes, data: bytes, hash_name: str) -> bool:
    try:
        _rsa_public(cert).verify(signature, data, padding.PKCS1v15(),
                                 _HASHES.get(hash_name, hashes.SHA1)())
    except (InvalidSignature, ValueError):
        return False
    return True


def identity_of(router: Router, creds: Credentials, local: str | None = None) -> str:
    """The ID payload: per `crypto isakmp identity` (default `address`), or for IKEv2 the
    profile's `identity local` (`local`)."""
    kind = router.running.crypto.identity if local is None else local.split()[0]
    if kind == "address" and local is not None and len(local.split()) > 1:
        return local.split()[1]
    if kind == "dn":
        return x509util.format_dn_ios(creds.certs[0].subject)
    if kind == "hostname":
        return router.running.fqdn
    return router.address


# -- output ------------------------------------------------------------------------------------
def isakmp_debug(router: Router, sa: IkeSa | None, text: str) -> None:
    conn = sa.conn_id if sa is not None and sa.up else 0
    router.debug_line("isakmp" if sa is None or sa.version == 1 else "ikev2",
                      f"ISAKMP:({conn}):{text}" if sa is None or sa.version == 1
                      else f"IKEv2:({conn}):{text}")


def listen(router: Router) -> None:
    """This router answers IKE on UDP 500 (once it has any crypto configuration)."""
    if router.net.udp.listener(router.name, IKE_PORT) is not router:
        router.net.udp.listen(router.name, IKE_PORT, router)


def peer_router(router: Router, address: str) -> Router | None:
    """The router that answers IKE at `address`, if any does."""
    node = router.net.node_for_address(address)
    if node is None:
        return None
    found = router.net.udp.listener(node, IKE_PORT)
    return found if found is not None and hasattr(found, "running") else None


# -- carrying a request and its answer ------------------------------------------------------
def request(router: Router, sa: IkeSa, message: IkeMessage, phase: str
            ) -> SimProcess[IkeMessage | None]:
    """Send `message` to the SA's peer until an answer comes back or the retransmissions
    run out (None)."""
    env = router.env
    answered = env.event()
    for attempt in range(MAX_RETRANSMITS + 1):
        if sa not in router.running.crypto.sas:
            return None  # cleared (`clear crypto session`) while negotiating
        if attempt:
            isakmp_debug(router, sa, f" retransmitting phase {phase} {_state(sa)}...")
            router.emit("ike", "retransmit", peer=sa.peer, exchange=message.exchange,
                        attempt=attempt)
        else:
            isakmp_debug(router, sa, f" sending packet to {sa.peer} my_port 500 peer_port 500 "
                         f"(I) {_state(sa)}")
        router.spawn(_transmit(router, sa.peer, message, answered))
        yield answered | env.timeout(RETRANSMIT_SECONDS)
        if answered.triggered:
            reply = answered.value
            isakmp_debug(router, sa, f" received packet from {sa.peer} dport 500 sport 500 "
                         f"Global (I) {_state(sa)}")
            return reply if isinstance(reply, IkeMessage) else None
    return None


def _state(sa: IkeSa) -> str:
    return sa.state.value if sa.state is not None else "MM_NO_STATE"


def send_only(router: Router, address: str, message: IkeMessage) -> None:
    """A message nobody answers (a DELETE notification): sent once."""
    router.spawn(_transmit(router, address, message, None))


def _transmit(router: Router, address: str, message: IkeMessage,
              answered: simpy.Event | None) -> SimProcess[None]:
    net = router.net
    node = net.node_for_address(address)
    kind = f"IKEv{message.version} {message.exchange}"
    arrived = yield from datagram.carry(net, router.name, node, message.size, kind)
    responder = peer_router(router, address) if arrived else None
    if responder is None or node is None:
        return
    process = responder.spawn(respond(responder, message))
    reply = yield process
    if not isinstance(reply, IkeMessage) or answered is None:
        return
    back = yield from datagram.carry(net, node, router.name, reply.size, f"IKEv{reply.version} "
                                     f"{reply.exchange}")
    if back and not answered.triggered:
        answered.succeed(reply)


# -- the responder ------------------------------------------------------------------------------
def respond(router: Router, message: IkeMessage) -> SimProcess[IkeMessage | None]:
    """This router, the responder, handles one IKE message: its answer, or None."""
    crypto = router.running.crypto
    sa = next((s for s in crypto.sas if s.peer == message.source and not s.initiator
               and s.initiator_spi == message.initiator_spi), None)
    if message.exchange == "DELETE":
        if sa is not None:
            drop_sa(router, sa, "peer deleted it")
        return None
    if message.exchange in ("MM1", "SA_INIT"):
        if sa is not None and message.exchange in sa.replies:
            return sa.replies[message.exchange]
        return _accept_offer(router, message)
    if sa is None:
        if message.version == 1:
            router.log(NO_SA.format(peer=message.source))
        return None
    if message.exchange in sa.replies:
        isakmp_debug(router, sa, " phase 1 packet is a duplicate of a previous packet.")
        return sa.replies[message.exchange]
    if sa.busy:
        return None
    if message.exchange == "MM3":
        sa.nonce_peer = message.nonce
        sa.nonce_local = router.random_bytes(16)
        sa.state = SaState.MM_KEY_EXCH
        return _remember(sa, message, IkeMessage(1, "MM4", message.initiator_spi,
                                                 router.address, nonce=sa.nonce_local))
    if message.exchange in ("MM5", "AUTH"):
        sa.busy = True
        try:
            reply = yield from _authenticate_initiator(router, sa, message)
        finally:
            sa.busy = False
        return reply
    if message.exchange == "QM1":
        return _quick_mode(router, sa, message)
    return None


def _remember(sa: IkeSa, message: IkeMessage, reply: IkeMessage) -> IkeMessage:
    sa.replies[message.exchange] = reply
    return reply


def _accept_offer(router: Router, message: IkeMessage) -> IkeMessage:
    """MM1 / IKE_SA_INIT: agree on a policy (IKEv1: the responder's policies in priority
    order against the offered ones) and open the responder's SA."""
    crypto = router.running.crypto
    version = message.version
    chosen_hash = "sha256" if version == 2 else "sha"
    if version == 1:
        mine = [p for _prio, p in sorted(crypto.policies.items())]
        match = next((p for p in mine if p.proposal() in message.proposals), None)
        if match is None:
            router.debug_line("isakmp", "ISAKMP:(0):atts are not acceptable. Next payload is 0")
            router.log(MODE_FAILURE.format(peer=message.source))
            return IkeMessage(1, "MM2", message.initiator_spi, router.address,
                              notify=NO_PROPOSAL)
        chosen_hash = match.hash
    elif not crypto.ikev2_profiles:
        return IkeMessage(2, "SA_INIT", message.initiator_spi, router.address,
                          notify=NO_PROPOSAL)
    sa = IkeSa(crypto.new_conn_id(), version, router.address, message.source, False,
               SaState.MM_SA_SETUP if version == 1 else SaState.IKEV2_IN_NEG,
               router.env.now, message.initiator_spi)
    crypto.sas.append(sa)
    router.emit("ike", "sa.negotiating", peer=sa.peer, conn_id=sa.conn_id, version=version,
                role="responder")
    nonce = b""
    if version == 2:
        sa.nonce_peer = message.nonce
        sa.nonce_local = nonce = router.random_bytes(16)
    reply = IkeMessage(version, "MM2" if version == 1 else "SA_INIT", message.initiator_spi,
                       router.address, nonce=nonce, hash=chosen_hash)
    sa.hash = chosen_hash
    router.spawn(_expire_half_open(router, sa))
    return _remember(sa, message, reply)


HALF_OPEN_SECONDS = RETRANSMIT_SECONDS * (MAX_RETRANSMITS + 1)
"""chosen: a responder forgets a negotiation that is not up after as long as an initiator
retransmits, so an abandoned one does not linger in `show crypto isakmp sa`."""


def _expire_half_open(router: Router, sa: IkeSa) -> SimProcess[None]:
    yield router.env.timeout(HALF_OPEN_SECONDS)
    if sa in router.running.crypto.sas and not sa.up and not sa.busy:
        isakmp_debug(router, sa, f'deleting SA reason "Death by retransmission P1" state (R) '
                     f"{_state(sa)} (peer {sa.peer})")
        drop_sa(router, sa, "half-open")


def _profile_for(router: Router, peer: str, cert: x509.Certificate | None) -> str | None:
    """The responder's IKEv2 profile for the initiator: the first, in configuration order,
    that one of its match statements selects -- `match identity remote address` naming
    its address, `match identity remote fqdn` naming its certificate's host name,
    `match certificate` with a map that matches its certificate. chosen: a profile with
    no match statement selects anyone. None: no profile, and the negotiation fails."""
    crypto = router.running.crypto
    names = _host_names(cert) if cert is not None else set()
    for profile in crypto.ikev2_profiles.values():
        if not profile.match_identity and not profile.match_certificate:
            return profile.name
        if ("address", peer) in profile.match_identity or any(
                kind == "fqdn" and value.lower() in names
                for kind, value in profile.match_identity):
            return profile.name
        rules = crypto.cert_maps.get(profile.match_certificate or "")
        if cert is not None and rules and cert_path.map_matches(
                cert, [r for _seq, r in sorted(rules.items())]):
            return profile.name
    return None


_UNSTRUCTURED_NAME = x509.ObjectIdentifier("1.2.840.113549.1.9.2")


def _host_names(cert: x509.Certificate) -> set[str]:
    """The host names an IOS router certificate carries (unstructuredName, `hostname=`)."""
    return {str(a.value).lower() for a in cert.subject.get_attributes_for_oid(_UNSTRUCTURED_NAME)}


def _authenticate_initiator(router: Router, sa: IkeSa, message: IkeMessage
                            ) -> SimProcess[IkeMessage | None]:
    """MM5 / IKE_AUTH request: validate the initiator, then prove ourselves in MM6 /
    the IKE_AUTH response. IKEv1 drops a refused initiator silently (chosen: it then
    meets `%CRYPTO-4-IKMP_NO_SA` on each retransmission); IKEv2 answers
    AUTHENTICATION_FAILED."""
    crypto = router.running.crypto
    hash_name = sa.hash
    profile = None
    if sa.version == 2:
        sa.profile = _profile_for(router, message.source,
                                  message.certs[0] if message.certs else None)
        profile = crypto.ikev2_profiles.get(sa.profile or "")
        if profile is None:
            # chosen wording: IOS-XE's debug says the peer matched no profile.
            isakmp_debug(router, sa, f"Failed to find a matching IKEv2 profile for {sa.peer}")
            sa.failure = "no matching profile"
            drop_sa(router, sa, "no matching profile")
            return IkeMessage(2, "AUTH", sa.initiator_spi, router.address, notify=AUTH_FAILED)
    accepted = yield from authenticate_peer(router, sa, message, hash_name,
                                            profile.trustpoints if profile else [],
                                            profile.match_certificate if profile else None)
    if not accepted:
        drop_sa(router, sa, "authentication failed")
        return None if sa.version == 1 else IkeMessage(2, "AUTH", sa.initiator_spi,
                                                       router.address, notify=AUTH_FAILED)
    creds = credentials(router, profile.trustpoints if profile else None)
    if creds is None:
        router.debug_line("isakmp", "ISAKMP:(0):No cert, and no keys (public or pre-shared) "
                          f"with remote peer {sa.peer}")
        drop_sa(router, sa, "no certificate")
        return None if sa.version == 1 else IkeMessage(2, "AUTH", sa.initiator_spi,
                                                       router.address, notify=AUTH_FAILED)
    identity = identity_of(router, creds, profile.identity_local if profile else None)
    data = signed_data("R", sa.initiator_spi, sa.nonce_peer, sa.nonce_local, identity,
                       creds.certs[0])
    reply = IkeMessage(sa.version, "MM6" if sa.version == 1 else "AUTH", sa.initiator_spi,
                       router.address, identity=identity, certs=creds.certs,
                       signature=sign(creds.key, data, hash_name), hash=hash_name)
    sa.trustpoint = creds.trustpoint.name
    phase1_up(router, sa)
    if sa.version == 2:
        entry = crypto.entry_for_peer(sa.peer)
        sa.crypto_map = entry.name if entry else None
        ipsec_up(router, sa)
    return _remember(sa, message, reply)


def authenticate_peer(router: Router, sa: IkeSa, message: IkeMessage, hash_name: str,
                      trustpoints: list[str], certificate_map: str | None
                      ) -> SimProcess[bool]:
    """Validate the peer's certificate, then its signature with it; log a refusal."""
    if not message.certs:
        router.log(MODE_FAILURE.format(peer=sa.peer))
        return False
    verdict = yield from validate_peer(router, message.certs, sa.peer, trustpoints=trustpoints,
                                       certificate_map=certificate_map,
                                       ikev1=sa.version == 1)
    if not verdict.accepted:
        sa.failure = verdict.result.reasons[0].problem.value
        isakmp_debug(router, sa, f"Unable to validate the certificate of {sa.peer}")
        _note_auth(router, sa, message, False, "certificate")
        return False
    leaf = message.certs[0]
    # The peer signed as the other role, over (initiator's nonce, responder's nonce).
    role = "R" if sa.initiator else "I"
    nonces = ((sa.nonce_local, sa.nonce_peer) if sa.initiator
              else (sa.nonce_peer, sa.nonce_local))
    data = signed_data(role, sa.initiator_spi, *nonces, message.identity or "", leaf)
    if not signature_ok(leaf, message.signature, data, hash_name):
        isakmp_debug(router, sa, f"signature of {sa.peer} invalid!")  # chosen wording
        router.log(MODE_FAILURE.format(peer=sa.peer))
        sa.failure = "bad signature"
        _note_auth(router, sa, message, False, "signature")
        return False
    _check_identity(router, sa, message, leaf)
    sa.peer_subject = x509util.format_dn_ios(leaf.subject)
    isakmp_debug(router, sa, "SA authentication status: authenticated")
    _note_auth(router, sa, message, True, None)
    return True


def _note_auth(router: Router, sa: IkeSa, message: IkeMessage, ok: bool,
               failure: str | None) -> None:
    router.emit("ike", "authenticated" if ok else "auth.failed", peer=sa.peer,
                conn_id=sa.conn_id, version=sa.version, failure=failure)


_UNSTRUCTURED_ADDRESS = x509.ObjectIdentifier("1.2.840.113549.1.9.8")


def _check_identity(router: Router, sa: IkeSa, message: IkeMessage,
                    leaf: x509.Certificate) -> None:
    """IKEv1: "the peer's ID payload is compared with the certificate; mismatch gives the
    warning" `%CRYPTO-6-IKMP_NO_ID_CERT_ADDR_MATCH` (cisco-client-docs.md 5.1 [R?]).
    chosen: only when the certificate carries an address and it differs."""
    if sa.version != 1 or message.identity is None:
        return
    addresses = [str(a.value) for a in leaf.subject.get_attributes_for_oid(
        _UNSTRUCTURED_ADDRESS)]
    if addresses and message.identity not in addresses and message.identity == sa.peer:
        router.log("%CRYPTO-6-IKMP_NO_ID_CERT_ADDR_MATCH: (NOT ERROR BUT WARNING ONLY)ID of "
                   f"{message.identity} (type 1) and certificate addr with {addresses[0]}")


def _quick_mode(router: Router, sa: IkeSa, message: IkeMessage) -> IkeMessage | None:
    """QM1: the responder needs a crypto map entry naming the initiator as its peer.
    chosen: without one it answers nothing and logs IOS's proposal failure."""
    entry = router.running.crypto.entry_for_peer(sa.peer)
    if entry is None:
        router.debug_line("isakmp", f"ISAKMP:({sa.conn_id}): IPSec policy invalidated proposal "
                          "with error 32")
        router.log(f"%CRYPTO-6-IKMP_MODE_FAILURE: Processing of Quick mode failed with peer "
                   f"at {sa.peer}")
        return None
    sa.crypto_map = entry.name
    ipsec_up(router, sa)
    return _remember(sa, message, IkeMessage(1, "QM2", sa.initiator_spi, router.address))


# -- SA bookkeeping --------------------------------------------------------------------------
def phase1_up(router: Router, sa: IkeSa) -> None:
    """The SA is authenticated. chosen: older SAs with the same peer go (as IKE's
    INITIAL_CONTACT has them go), so a peer that rebooted and came back does not leave
    its dead SA behind."""
    for older in [o for o in router.running.crypto.sas if o is not sa and o.peer == sa.peer]:
        drop_sa(router, older, "replaced")
    sa.state = SaState.QM_IDLE if sa.version == 1 else SaState.IKEV2_READY
    sa.up_since = router.env.now
    isakmp_debug(router, sa, f"SA has been authenticated with {sa.peer}")
    router.emit("ike", "sa.authenticated", peer=sa.peer, conn_id=sa.conn_id,
                version=sa.version, role="initiator" if sa.initiator else "responder")


def ipsec_up(router: Router, sa: IkeSa) -> None:
    sa.ipsec_up = True
    router.emit("ike", "sa.up", peer=sa.peer, conn_id=sa.conn_id, version=sa.version,
                role="initiator" if sa.initiator else "responder", subject=sa.peer_subject)
    if sa.version == 2:
        router.log(IKEV2_UP)
    if router.release.session_status_syslog:
        router.log(SESSION_UP.format(peer=sa.peer, id=sa.peer))


def drop_sa(router: Router, sa: IkeSa, why: str) -> None:
    """Forget an SA (its IPsec SAs go with it), with the down notices of an SA that was up."""
    crypto = router.running.crypto
    if sa not in crypto.sas:
        return
    crypto.sas.remove(sa)
    router.emit("ike", "sa.down", peer=sa.peer, conn_id=sa.conn_id, version=sa.version,
                reason=why)
    if sa.ipsec_up:
        if sa.version == 2:
            router.log(IKEV2_DOWN)
        if router.release.session_status_syslog:
            router.log(SESSION_DOWN.format(peer=sa.peer, id=sa.peer))
