"""IKE configuration and EXEC commands (cisco-client-docs.md 5).

Global configuration: `crypto isakmp policy N` (-> `(config-isakmp)#`: authentication,
encryption, hash, group, lifetime), `crypto isakmp identity {address|dn|hostname}`,
`crypto map NAME SEQ [ipsec-isakmp]` (-> `(config-crypto-map)#`: `set peer`, `match
address`, `set ikev2-profile`), `crypto ikev2 profile NAME` (15.x/XE, ->
`(config-ikev2-profile)#`), `crypto pki certificate map LABEL SEQ` (->
`(ca-certificate-map)#`), numbered extended `access-list`s (`permit|deny ip SRC DST`)
`crypto ipsec profile NAME` (-> `(ipsec-profile)#`: `set ikev2-profile`) and `interface
NAME` (-> `(config-if)#`: `crypto map NAME`, `tunnel source|destination|mode ipsec
ipv4|protection ipsec profile`). EXEC: `ping`, `show crypto
isakmp sa`, `show crypto ikev2 sa`, `show crypto session`, `clear crypto session`,
`clear crypto isakmp`, `debug crypto isakmp|ikev2`.

The router models one address (`sim.router.handlers_pki`), so every interface stands
for it; an interface shows in the running configuration once it carries a crypto map.
"""

from __future__ import annotations

from sim.kernel.process import SimProcess
from sim.pki.cert_path import MapRule
from sim.router import ike, ike_initiator, show_ike
from sim.router.cli_parser import Match
from sim.router.command_table import CommandTable
from sim.router.console import Mode, Session
from sim.router.crypto_state import (
    AclEntry,
    CryptoMapEntry,
    Ikev2Profile,
    Interface,
    IpsecProfile,
    IsakmpPolicy,
)
from sim.router.handlers_config import GLOBAL_EXITS
from sim.router.handlers_exec import switch_debug
from sim.router.handlers_pki import looks_like_interface, not_run_at_boot
from sim.router.handlers_time import refuse_word

MAP_NOTE = ("% NOTE: This new crypto map will remain disabled until a peer\n"
            "        and a valid access list have been configured.")
"""What IOS prints when a crypto map entry is created."""
ANY = "255.255.255.255"


def _exit_submode(s: Session, m: Match) -> None:
    s.mode, s.context = Mode.CONFIG, None


def _no_ikev2(s: Session, word: int) -> bool:
    """True (after the caret) on a release without IKEv2."""
    if s.router.release.ikev2:
        return False
    refuse_word(s, word)
    return True


# -- crypto isakmp -----------------------------------------------------------------------------
def _isakmp_policy(s: Session, m: Match) -> None:
    crypto = s.router.running.crypto
    priority = m.integer("priority", 0)
    if m.negated:
        crypto.policies.pop(priority, None)
        return
    crypto.policies.setdefault(priority, IsakmpPolicy(priority))
    ike.listen(s.router)
    s.mode, s.context = Mode.ISAKMP_POLICY, str(priority)


def _policy(s: Session) -> IsakmpPolicy:
    return s.router.running.crypto.policies[int(s.context or "0")]


def _policy_authentication(s: Session, m: Match) -> None:
    _policy(s).authentication = "rsa-sig" if m.negated else m.keywords[-1]


def _policy_encryption(s: Session, m: Match) -> None:
    words = m.keywords[1:]
    _policy(s).encryption = "des" if m.negated else " ".join(words)


def _policy_hash(s: Session, m: Match) -> None:
    _policy(s).hash = "sha" if m.negated else m.keywords[-1]


def _policy_group(s: Session, m: Match) -> None:
    _policy(s).group = 1 if m.negated else int(m.keywords[-1])


def _policy_lifetime(s: Session, m: Match) -> None:
    _policy(s).lifetime = 86400 if m.negated else m.integer("seconds")


def _isakmp_identity(s: Session, m: Match) -> None:
    s.router.running.crypto.identity = "address" if m.negated else m.keywords[-1]


# -- crypto map ----------------------------------------------------------------------------------
def _crypto_map(s: Session, m: Match) -> None:
    crypto = s.router.running.crypto
    name = str(m.args.get("map", ""))
    if m.negated:
        if "seq" in m.args:
            crypto.maps.get(name, {}).pop(m.integer("seq"), None)
        else:
            crypto.maps.pop(name, None)
        return
    seq = m.integer("seq")
    entries = crypto.maps.setdefault(name, {})
    if seq not in entries:
        entries[seq] = CryptoMapEntry(name, seq)
        if not s.booting:
            s.write_lines(MAP_NOTE.splitlines())
    s.mode, s.context = Mode.CRYPTO_MAP, f"{name} {seq}"


def _entry(s: Session) -> CryptoMapEntry:
    name, seq = (s.context or " 0").rsplit(" ", 1)
    return s.router.running.crypto.maps[name][int(seq)]


def _set_peer(s: Session, m: Match) -> None:
    entry = _entry(s)
    peer = m.args.get("peer")
    if m.negated:
        entry.peers = [p for p in entry.peers if peer is not None and p != peer]
        return
    if str(peer) not in entry.peers:
        entry.peers.append(str(peer))


def _match_address(s: Session, m: Match) -> None:
    _entry(s).acl = None if m.negated else str(m.args["acl"])


def _set_ikev2_profile(s: Session, m: Match) -> None:
    if _no_ikev2(s, 1):
        return
    _entry(s).ikev2_profile = None if m.negated else str(m.args["name"])


# -- crypto ikev2 profile ----------------------------------------------------------------------
def _ikev2_profile(s: Session, m: Match) -> None:
    if _no_ikev2(s, 2 if m.negated else 1):
        return
    crypto = s.router.running.crypto
    name = str(m.args.get("name", ""))
    if m.negated:
        crypto.ikev2_profiles.pop(name, None)
        return
    crypto.ikev2_profiles.setdefault(name, Ikev2Profile(name))
    ike.listen(s.router)
    s.mode, s.context = Mode.IKEV2_PROFILE, name


def _profile(s: Session) -> Ikev2Profile:
    return s.router.running.crypto.ikev2_profiles[s.context or ""]


def _match_identity(s: Session, m: Match) -> None:
    profile = _profile(s)
    kind = m.keywords[3] if len(m.keywords) > 3 else None
    value = str(m.args.get("address", m.args.get("name", "")))
    if m.negated:
        profile.match_identity = [(k, v) for k, v in profile.match_identity
                                  if kind is not None and (k, v) != (kind, value)]
        return
    if kind is not None and (kind, value) not in profile.match_identity:
        profile.match_identity.append((kind, value))


def _match_certificate(s: Session, m: Match) -> None:
    _profile(s).match_certificate = None if m.negated else str(m.args["map"])


def _identity_local(s: Session, m: Match) -> None:
    profile = _profile(s)
    if m.negated:
        profile.identity_local = None
        return
    value = m.args.get("address", m.args.get("name"))
    profile.identity_local = m.keywords[-1] + (f" {value}" if value is not None else "")


def _authentication(s: Session, m: Match) -> None:
    profile = _profile(s)
    side = m.keywords[1] if len(m.keywords) > 1 else None
    if side == "local":
        profile.auth_local = None if m.negated else "rsa-sig"
    elif m.negated:
        profile.auth_remote = []
    elif "rsa-sig" not in profile.auth_remote:
        profile.auth_remote.append("rsa-sig")


def _pki_trustpoint(s: Session, m: Match) -> None:
    profile = _profile(s)
    tp = m.args.get("tp")
    if m.negated:
        profile.trustpoints = [t for t in profile.trustpoints if tp is not None and t != tp]
    elif str(tp) not in profile.trustpoints:
        profile.trustpoints.append(str(tp))


# -- crypto pki certificate map ----------------------------------------------------------------
def _certificate_map(s: Session, m: Match) -> None:
    maps = s.router.running.crypto.cert_maps
    label = str(m.args.get("label", ""))
    if m.negated:
        if "seq" in m.args:
            maps.get(label, {}).pop(m.integer("seq"), None)
        else:
            maps.pop(label, None)
        return
    maps.setdefault(label, {}).setdefault(m.integer("seq"), [])
    s.mode, s.context = Mode.CERT_MAP, f"{label} {m.integer('seq')}"


def _map_rule(s: Session, m: Match) -> None:
    label, seq = (s.context or " 0").rsplit(" ", 1)
    rules = s.router.running.crypto.cert_maps[label][int(seq)]
    field = m.keywords[0]
    if m.negated:
        rules[:] = [r for r in rules if r.field != field]
        return
    rules.append(MapRule(field, m.keywords[1], str(m.args["value"]).strip()))


# -- access lists and interfaces ------------------------------------------------------------------
def _side(m: Match, host: str, net: str, wild: str) -> tuple[str, str]:
    if host in m.args:
        return (str(m.args[host]), "0.0.0.0")
    if net in m.args:
        return (str(m.args[net]), str(m.args[wild]))
    return ("0.0.0.0", ANY)


def _access_list(s: Session, m: Match) -> None:
    acls = s.router.running.crypto.acls
    if m.negated:
        if "number" not in m.args:
            s.write("% Incomplete command.")
            return
        acls.pop(str(m.integer("number")), None)
        return
    entry = AclEntry(m.keywords[1] == "permit", _side(m, "sh", "sn", "sw"),
                     _side(m, "dh", "dn", "dw"))
    rules = acls.setdefault(str(m.integer("number")), [])
    if entry not in rules:
        rules.append(entry)


def _interface(s: Session, m: Match) -> None:
    name = str(m.args["name"])
    if not looks_like_interface(name):
        refuse_word(s, 1)
        return
    interfaces = s.router.running.crypto.interfaces
    existing = next((key for key in interfaces if key.lower() == name.lower()), None)
    if existing is None:
        interfaces[name] = Interface(name)
        existing = name
    s.mode, s.context = Mode.INTERFACE, existing


def _interface_crypto_map(s: Session, m: Match) -> None:
    interface = s.router.running.crypto.interfaces[s.context or ""]
    if m.negated:
        interface.crypto_map = None
        return
    interface.crypto_map = str(m.args["map"])
    ike.listen(s.router)
    if not s.booting:
        # chosen: IOS 12.x/15 announce ISAKMP starting when the first map is applied.
        s.router.log("%CRYPTO-6-ISAKMP_ON_OFF: ISAKMP is ON")


def _interface_ip_address(s: Session, m: Match) -> None:
    interface = s.router.running.crypto.interfaces[s.context or ""]
    interface.ip_address = None if m.negated else (str(m.args["address"]),
                                                   str(m.args["mask"]))


def _interface_shutdown(s: Session, m: Match) -> None:
    """`[no] shutdown`. chosen: the state-change syslogs of a real interface are not
    printed (pkilab models no interface state beyond what crypto uses)."""
    interface = s.router.running.crypto.interfaces[s.context or ""]
    interface.shutdown = not m.negated
    if m.negated and interface.tunnel_destination and interface.tunnel_protection:
        s.router.spawn(ike_initiator.bring_up_tunnel(s.router, interface.name))


# -- tunnels ----------------------------------------------------------------------------------
def _ipsec_profile(s: Session, m: Match) -> None:
    profiles = s.router.running.crypto.ipsec_profiles
    name = str(m.args.get("name", ""))
    if m.negated:
        profiles.pop(name, None)
        return
    profiles.setdefault(name, IpsecProfile(name))
    s.mode, s.context = Mode.IPSEC_PROFILE, name


def _ipsec_set_ikev2(s: Session, m: Match) -> None:
    if _no_ikev2(s, 1):
        return
    profile = s.router.running.crypto.ipsec_profiles[s.context or ""]
    profile.ikev2_profile = None if m.negated else str(m.args["name"])


def _tunnel(s: Session, m: Match) -> None:
    """`tunnel source|destination|mode|protection ...`. chosen: a tunnel with a
    destination and `tunnel protection` starts IKE with the destination a second after it
    is configured (or after the boot that reads it), as an IOS tunnel interface coming up
    does; traffic to the destination (`ping`) starts it again when it is down."""
    interface = s.router.running.crypto.interfaces[s.context or ""]
    what = m.keywords[1]
    value = None if m.negated else m.args.get("value")
    if what == "source":
        interface.tunnel_source = None if value is None else str(value)
    elif what == "destination":
        interface.tunnel_destination = None if value is None else str(value)
    elif what == "mode":
        interface.tunnel_mode = None if m.negated else "ipsec ipv4"
    else:
        interface.tunnel_protection = None if value is None else str(value)
    if interface.tunnel_destination and interface.tunnel_protection:
        ike.listen(s.router)
        s.router.spawn(ike_initiator.bring_up_tunnel(s.router, interface.name))


# -- EXEC -----------------------------------------------------------------------------------------
def _ping(s: Session, m: Match) -> SimProcess[None]:
    """`ping A.B.C.D`: five 100-byte echoes, 2 s timeout each. chosen: the row of `!` and
    `.` is written once the last echo is settled."""
    if not_run_at_boot(s):
        return
    if s.observer:
        # Traffic is not something to observe: an expectation's `show` must not start IKE.
        s.write("% command needs the console and cannot be observed")
        return
    dst = str(m.args["address"])
    count, size, timeout = (ike_initiator.PING_COUNT, ike_initiator.PING_BYTES,
                            ike_initiator.PING_TIMEOUT)
    s.write("Type escape sequence to abort.")
    s.write(f"Sending {count}, {size}-byte ICMP Echos to {dst}, timeout is {int(timeout)} "
            "seconds:")
    marks, times = "", []
    for _echo in range(count):
        rtt = yield from ike_initiator.echo(s.router, dst)
        marks += "." if rtt is None else "!"
        if rtt is not None:
            times.append(max(1, round(rtt * 1000)))
    s.write(marks)
    percent = len(times) * 100 // count
    summary = f"Success rate is {percent} percent ({len(times)}/{count})"
    if times:
        summary += (f", round-trip min/avg/max = {min(times)}/{sum(times) // len(times)}/"
                    f"{max(times)} ms")
    s.write(summary)
    s.router.emit("ike", "ping", destination=dst, sent=count, received=len(times))


def _show_isakmp_sa(s: Session, m: Match) -> None:
    s.write_lines(show_ike.show_isakmp_sa(s.router))


def _show_ikev2_sa(s: Session, m: Match) -> None:
    if _no_ikev2(s, 2):
        return
    s.write_lines(show_ike.show_ikev2_sa(s.router, s.router.env.now))


def _show_session(s: Session, m: Match) -> None:
    s.write_lines(show_ike.show_session(s.router))


def _clear_session(s: Session, m: Match) -> None:
    """`clear crypto session [remote A.B.C.D]`: the SAs go, and the peer is told (an
    informational DELETE), so traffic starts IKE again."""
    router = s.router
    remote = m.args.get("address")
    for sa in list(router.running.crypto.sas):
        if remote is None or sa.peer == remote:
            ike.send_only(router, sa.peer, ike.IkeMessage(sa.version, "DELETE",
                                                          sa.initiator_spi, router.address))
            ike.drop_sa(router, sa, "cleared")


def _clear_isakmp(s: Session, m: Match) -> None:
    """`clear crypto isakmp [CONN-ID]`: the IKE SAs only; IPsec SAs negotiated under them
    live on (session `UP-NO-IKE`). chosen: the peer is not told."""
    router = s.router
    conn = m.args.get("conn")
    for sa in list(router.running.crypto.sas):
        if conn is not None and sa.conn_id != conn:
            continue
        if sa.ipsec_up:
            sa.state = None
            router.emit("ike", "isakmp.cleared", peer=sa.peer, conn_id=sa.conn_id)
        else:
            ike.drop_sa(router, sa, "cleared")


DEBUG_FLAGS = {"isakmp": "isakmp", "ikev2": "ikev2"}
DEBUG_TITLES = {"isakmp": "Crypto ISAKMP", "ikev2": "Crypto IKEv2"}


def _debug(s: Session, m: Match) -> None:
    if m.keywords[-1] == "ikev2" and _no_ikev2(s, 3 if m.negated else 2):
        return
    flag = DEBUG_FLAGS[m.keywords[-1]]
    switch_debug(s, flag, DEBUG_TITLES[flag], not m.negated)


_SOURCE = "{any|host <sh:A.B.C.D>|<sn:A.B.C.D> <sw:A.B.C.D>}"
_DESTINATION = "{any|host <dh:A.B.C.D>|<dn:A.B.C.D> <dw:A.B.C.D>}"
_FIELDS = ("subject-name", "issuer-name", "unstructured-subject-name", "alt-subject-name",
           "name")
"""One pattern each, so that `no FIELD` is complete after its keyword."""
NO: dict[str, bool] = {"no_form": True}

IKE_CONFIG_COMMANDS: CommandTable = [
    ("crypto isakmp policy <priority:1-10000>", _isakmp_policy, NO),
    ("crypto isakmp identity {address|dn|hostname}", _isakmp_identity, NO),
    ("crypto map <map:WORD> <seq:1-65535> [ipsec-isakmp]", _crypto_map, NO),
    ("crypto ikev2 profile <name:WORD>", _ikev2_profile, NO),
    ("crypto pki certificate map <label:WORD> <seq:1-65535>", _certificate_map, NO),
    ("crypto ipsec profile <name:WORD>", _ipsec_profile, NO),
    (f"access-list <number:100-199> {{permit|deny}} ip {_SOURCE} {_DESTINATION}",
     _access_list, NO),
    ("interface <name:WORD>", _interface, {}),
]

ISAKMP_POLICY_COMMANDS: CommandTable = [
    ("authentication {rsa-sig|rsa-encr|pre-share}", _policy_authentication, NO),
    ("encryption {des|3des}", _policy_encryption, NO),
    ("encryption aes [{128|192|256}]", _policy_encryption, NO),
    ("hash {sha|md5|sha256|sha384|sha512}", _policy_hash, NO),
    ("group {1|2|5|14|15|16|19|20|21|24}", _policy_group, NO),
    ("lifetime <seconds:60-86400>", _policy_lifetime, NO),
    ("exit", _exit_submode, {}),
    *GLOBAL_EXITS,
]

CRYPTO_MAP_COMMANDS: CommandTable = [
    ("set peer <peer:A.B.C.D>", _set_peer, NO),
    ("set ikev2-profile <name:WORD>", _set_ikev2_profile, NO),
    ("match address <acl:WORD>", _match_address, NO),
    ("exit", _exit_submode, {}),
    *GLOBAL_EXITS,
]

IKEV2_PROFILE_COMMANDS: CommandTable = [
    ("match identity remote address <address:A.B.C.D>", _match_identity, NO),
    ("match identity remote fqdn <name:WORD>", _match_identity, NO),
    ("match certificate <map:WORD>", _match_certificate, NO),
    ("identity local dn", _identity_local, NO),
    ("identity local address <address:A.B.C.D>", _identity_local, NO),
    ("authentication {local|remote} rsa-sig", _authentication, NO),
    ("pki trustpoint <tp:WORD>", _pki_trustpoint, NO),
    ("exit", _exit_submode, {}),
    *GLOBAL_EXITS,
]

CERT_MAP_COMMANDS: CommandTable = [
    *((f"{field} {{eq|ne|co|nc}} <value:LINE>", _map_rule, NO) for field in _FIELDS),
    ("exit", _exit_submode, {}),
    *GLOBAL_EXITS,
]

INTERFACE_COMMANDS: CommandTable = [
    ("crypto map <map:WORD>", _interface_crypto_map, NO),
    ("ip address <address:A.B.C.D> <mask:A.B.C.D>", _interface_ip_address, NO),
    ("shutdown", _interface_shutdown, NO),
    ("tunnel source <value:WORD>", _tunnel, NO),
    ("tunnel destination <value:A.B.C.D>", _tunnel, NO),
    ("tunnel mode {ipsec} ipv4", _tunnel, NO),
    ("tunnel protection ipsec profile <value:WORD>", _tunnel, NO),
    ("exit", _exit_submode, {}),
    *GLOBAL_EXITS,
]

IPSEC_PROFILE_COMMANDS: CommandTable = [
    ("set ikev2-profile <name:WORD>", _ipsec_set_ikev2, NO),
    ("exit", _exit_submode, {}),
    *GLOBAL_EXITS,
]

IKE_USER_EXEC_COMMANDS: CommandTable = [
    ("ping <address:A.B.C.D>", _ping, {}),
]

IKE_EXEC_COMMANDS: CommandTable = IKE_USER_EXEC_COMMANDS + [
    ("show crypto isakmp sa", _show_isakmp_sa, {}),
    ("show crypto ikev2 sa", _show_ikev2_sa, {}),
    ("show crypto session", _show_session, {}),
    ("clear crypto session [remote <address:A.B.C.D>]", _clear_session, {}),
    ("clear crypto isakmp [<conn:1-32766>]", _clear_isakmp, {}),
    ("debug crypto isakmp", _debug, NO),
    ("debug crypto ikev2", _debug, NO),
]
