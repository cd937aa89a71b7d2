"""The IKE side of a router's configuration and its security associations, as plain data.

Configuration (cisco-client-docs.md 5): `crypto isakmp policy N` (authentication,
encryption, hash, group, lifetime), `crypto isakmp identity`, `crypto map NAME SEQ
ipsec-isakmp` entries (`set peer`, `match address`, `set ikev2-profile`), `crypto ikev2
profile` (15.x/XE), `crypto pki certificate map LABEL SEQ`, numbered extended
`access-list`s, and `crypto map NAME` on an interface. `config_lines` renders them for
`show running-config` in IOS's order (after the PKI blocks: isakmp policies, identity,
IKEv2 profiles, crypto maps, interfaces, access lists).

The SAs (`IkeSa`) are memory only: a reload forgets them, as IOS does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address
from typing import Any

from sim.pki.cert_path import MapRule

ISAKMP_DEFAULTS = {"encryption": "des", "hash": "sha", "group": 1, "lifetime": 86400}
"""`crypto isakmp policy` defaults: "defaults hash sha, group 1, lifetime 86400 s"
(cisco-client-docs.md 5.1); DES is IOS 12.x's default encryption."""


@dataclass
class IsakmpPolicy:
    """`crypto isakmp policy PRIORITY`; `authentication rsa-sig` is the default."""

    priority: int
    authentication: str = "rsa-sig"
    encryption: str = "des"
    hash: str = "sha"
    group: int = 1
    lifetime: int = 86400

    def proposal(self) -> tuple[str, str, str, int]:
        """What two policies must share for IKE to agree (the lifetime need not)."""
        return (self.authentication, self.encryption, self.hash, self.group)

    def config_lines(self) -> list[str]:
        lines = [f"crypto isakmp policy {self.priority}"]
        if self.encryption != ISAKMP_DEFAULTS["encryption"]:
            lines.append(f" encr {self.encryption}")
        if self.hash != ISAKMP_DEFAULTS["hash"]:
            lines.append(f" hash {self.hash}")
        if self.authentication != "rsa-sig":
            lines.append(f" authentication {self.authentication}")
        if self.group != ISAKMP_DEFAULTS["group"]:
            lines.append(f" group {self.group}")
        if self.lifetime != ISAKMP_DEFAULTS["lifetime"]:
            lines.append(f" lifetime {self.lifetime}")
        return lines


@dataclass
class CryptoMapEntry:
    """`crypto map NAME SEQ ipsec-isakmp`: the peer and the traffic it protects."""

    name: str
    seq: int
    peers: list[str] = field(default_factory=list)
    acl: str | None = None
    ikev2_profile: str | None = None
    tunnel: str | None = None
    """For `tunnel protection ipsec profile` on a tunnel interface: that interface (the
    entry then protects what the router sends to the tunnel destination, its peer)."""

    @property
    def complete(self) -> bool:
        """"This new crypto map will remain disabled until a peer and a valid access list
        have been configured" (IOS's note on creating one)."""
        return bool(self.peers) and (self.acl is not None or self.tunnel is not None)

    def config_lines(self) -> list[str]:
        lines = [f"crypto map {self.name} {self.seq} ipsec-isakmp"]
        lines += [f" set peer {peer}" for peer in self.peers]
        if self.ikev2_profile:
            lines.append(f" set ikev2-profile {self.ikev2_profile}")
        if self.acl is not None:
            lines.append(f" match address {self.acl}")
        return lines


@dataclass
class Ikev2Profile:
    """`crypto ikev2 profile NAME` (cisco-client-docs.md 5.2)."""

    name: str
    match_identity: list[tuple[str, str]] = field(default_factory=list)
    """`match identity remote {address A.B.C.D | fqdn NAME | ...}` as (kind, value)."""
    match_certificate: str | None = None
    identity_local: str | None = None
    auth_local: str | None = None
    auth_remote: list[str] = field(default_factory=list)
    trustpoints: list[str] = field(default_factory=list)

    def config_lines(self) -> list[str]:
        lines = [f"crypto ikev2 profile {self.name}"]
        lines += [f" match identity remote {kind} {value}"
                  for kind, value in self.match_identity]
        if self.match_certificate:
            lines.append(f" match certificate {self.match_certificate}")
        if self.identity_local:
            lines.append(f" identity local {self.identity_local}")
        lines += [f" authentication remote {method}" for method in self.auth_remote]
        if self.auth_local:
            lines.append(f" authentication local {self.auth_local}")
        if self.trustpoints:
            lines.append(" pki trustpoint " + " ".join(self.trustpoints))
        return lines


@dataclass(frozen=True)
class AclEntry:
    """One line of a numbered extended access list: `permit ip SRC DST`."""

    permit: bool
    source: tuple[str, str]
    """(address, wildcard): `any` is 0.0.0.0 255.255.255.255, `host A` is A 0.0.0.0."""
    destination: tuple[str, str]

    def matches(self, src: str, dst: str) -> bool:
        return _covers(self.source, src) and _covers(self.destination, dst)

    def config_line(self, number: str) -> str:
        action = "permit" if self.permit else "deny"
        return f"access-list {number} {action} ip {_spec(self.source)} {_spec(self.destination)}"


def _covers(spec: tuple[str, str], address: str) -> bool:
    base, wildcard = (int(IPv4Address(part)) for part in spec)
    return (int(IPv4Address(address)) & ~wildcard) == (base & ~wildcard)


def _spec(spec: tuple[str, str]) -> str:
    if spec[1] == "255.255.255.255":
        return "any"
    if spec[1] == "0.0.0.0":
        return f"host {spec[0]}"
    return f"{spec[0]} {spec[1]}"


@dataclass
class Interface:
    """`interface NAME` with the settings pkilab models: the crypto map applied to it, and
    a tunnel's source, destination, mode and `tunnel protection ipsec profile`."""

    name: str
    crypto_map: str | None = None
    tunnel_source: str | None = None
    tunnel_destination: str | None = None
    tunnel_mode: str | None = None
    tunnel_protection: str | None = None
    ip_address: tuple[str, str] | None = None
    """`ip address A.B.C.D MASK`: stored and shown. chosen: it does not readdress the
    router, whose one address is the scenario's `address`."""
    shutdown: bool = False
    """`shutdown`: the interface's crypto map and tunnel protect nothing until `no
    shutdown`."""

    def config_lines(self) -> list[str]:
        lines = [f"interface {self.name}"]
        if self.ip_address:
            lines.append(f" ip address {self.ip_address[0]} {self.ip_address[1]}")
        if self.tunnel_source:
            lines.append(f" tunnel source {self.tunnel_source}")
        if self.tunnel_mode:
            lines.append(f" tunnel mode {self.tunnel_mode}")
        if self.tunnel_destination:
            lines.append(f" tunnel destination {self.tunnel_destination}")
        if self.tunnel_protection:
            lines.append(f" tunnel protection ipsec profile {self.tunnel_protection}")
        if self.crypto_map:
            lines.append(f" crypto map {self.crypto_map}")
        if self.shutdown:
            lines.append(" shutdown")
        return lines


@dataclass
class IpsecProfile:
    """`crypto ipsec profile NAME` (for `tunnel protection`): the IKEv2 profile it uses
    (`set ikev2-profile`); without one the tunnel negotiates with IKEv1."""

    name: str
    ikev2_profile: str | None = None

    def config_lines(self) -> list[str]:
        lines = [f"crypto ipsec profile {self.name}"]
        if self.ikev2_profile:
            lines.append(f" set ikev2-profile {self.ikev2_profile}")
        return lines


class SaState(StrEnum):
    """`show crypto isakmp sa` states (cisco-client-docs.md 5.5), and IKEv2's."""

    MM_NO_STATE = "MM_NO_STATE"
    MM_SA_SETUP = "MM_SA_SETUP"
    MM_KEY_EXCH = "MM_KEY_EXCH"
    QM_IDLE = "QM_IDLE"
    IKEV2_IN_NEG = "IN-NEG"
    IKEV2_READY = "READY"


@dataclass
class IkeSa:
    """One IKE SA with a peer as this router sees it (initiator or responder), and the
    IPsec SAs negotiated under it (`ipsec_up`). `state` None: the IKE SA was cleared
    (`clear crypto isakmp`) while the IPsec SAs live on (session `UP-NO-IKE`)."""

    conn_id: int
    version: int
    local: str
    peer: str
    initiator: bool
    state: SaState | None
    started: float
    initiator_spi: int
    """The initiator's SPI (random): names the negotiation on both sides."""
    hash: str = "sha"
    """The hash agreed in the first exchange, which the signatures use."""
    nonce_local: bytes = b""
    nonce_peer: bytes = b""
    replies: dict[str, Any] = field(default_factory=dict)
    """A responder's answer to each message it processed, sent again for a duplicate."""
    busy: bool = False
    """A responder still validating the peer (a CRL download): retransmissions wait."""
    ipsec_up: bool = False
    up_since: float | None = None
    peer_subject: str | None = None
    trustpoint: str | None = None
    crypto_map: str | None = None
    profile: str | None = None
    """The IKEv2 profile the SA was negotiated under."""
    failure: str | None = None
    """Why this side refused the peer (`sim.pki.cert_path.Problem` value, `signature`)."""

    @property
    def up(self) -> bool:
        return self.state in (SaState.QM_IDLE, SaState.IKEV2_READY)


@dataclass(slots=True)
class CryptoConfig:
    """Everything `crypto isakmp|ikev2|map` and the crypto bits of interfaces configure,
    and the SAs of this boot."""

    policies: dict[int, IsakmpPolicy] = field(default_factory=dict)
    identity: str = "address"
    maps: dict[str, dict[int, CryptoMapEntry]] = field(default_factory=dict)
    ikev2_profiles: dict[str, Ikev2Profile] = field(default_factory=dict)
    cert_maps: dict[str, dict[int, list[MapRule]]] = field(default_factory=dict)
    acls: dict[str, list[AclEntry]] = field(default_factory=dict)
    interfaces: dict[str, Interface] = field(default_factory=dict)
    ipsec_profiles: dict[str, IpsecProfile] = field(default_factory=dict)
    sas: list[IkeSa] = field(default_factory=list)
    next_conn_id: int = 1001
    """`show crypto isakmp sa`'s conn-id counts from 1001 (cisco-client-docs.md 5.5)."""

    def applied_entries(self) -> list[CryptoMapEntry]:
        """The complete entries of the crypto maps applied to an interface, in map then
        sequence order."""
        names = list(dict.fromkeys(i.crypto_map for i in self.interfaces.values()
                                   if i.crypto_map and not i.shutdown))
        entries = [entry for name in names
                   for _seq, entry in sorted(self.maps.get(name, {}).items()) if entry.complete]
        return entries + self.tunnel_entries()

    def tunnel_entries(self) -> list[CryptoMapEntry]:
        """An entry for each tunnel interface with a destination and `tunnel protection`
        (chosen: it protects everything the router sends to the destination, standing in
        for the GRE/IPsec packets of the traffic routed into the tunnel)."""
        found = []
        for interface in self.interfaces.values():
            profile = self.ipsec_profiles.get(interface.tunnel_protection or "")
            if (interface.tunnel_destination and interface.tunnel_protection
                    and not interface.shutdown):
                found.append(CryptoMapEntry(
                    interface.name, 0, [interface.tunnel_destination],
                    ikev2_profile=profile.ikev2_profile if profile else None,
                    tunnel=interface.name))
        return found

    def entry_for(self, src: str, dst: str) -> CryptoMapEntry | None:
        """The applied crypto map entry whose access list permits `src` -> `dst`."""
        for entry in self.applied_entries():
            if entry.tunnel is not None:
                if dst in entry.peers:
                    return entry
                continue
            rules = self.acls.get(entry.acl or "", [])
            for rule in rules:
                if rule.matches(src, dst):
                    if rule.permit:
                        return entry
                    break
        return None

    def entry_for_peer(self, peer: str) -> CryptoMapEntry | None:
        return next((e for e in self.applied_entries() if peer in e.peers), None)

    def sa_with(self, peer: str) -> IkeSa | None:
        """The SA with `peer` that is up, else the newest one still negotiating."""
        found = [sa for sa in self.sas if sa.peer == peer]
        return next((sa for sa in found if sa.ipsec_up), found[-1] if found else None)

    def new_conn_id(self) -> int:
        conn_id = self.next_conn_id
        self.next_conn_id += 1
        return conn_id

    def config_lines(self) -> list[str]:
        """The running-config lines, empty when nothing is configured (configurations
        without IKE stay as they were)."""
        lines: list[str] = []
        for _priority, policy in sorted(self.policies.items()):
            lines += [*policy.config_lines(), "!"]
        if self.identity != "address":
            lines += [f"crypto isakmp identity {self.identity}", "!"]
        for name, sequences in self.cert_maps.items():
            for seq, rules in sorted(sequences.items()):
                lines.append(f"crypto pki certificate map {name} {seq}")
                lines += [f" {r.field} {r.op} {r.value}" for r in rules]
                lines.append("!")
        for profile in self.ikev2_profiles.values():
            lines += [*profile.config_lines(), "!"]
        for ipsec in self.ipsec_profiles.values():
            lines += [*ipsec.config_lines(), "!"]
        for entries in self.maps.values():
            for _seq, entry in sorted(entries.items()):
                lines += entry.config_lines()
            if entries:
                lines.append("!")
        for interface in self.interfaces.values():
            lines += [*interface.config_lines(), "!"]
        for number, acl in self.acls.items():
            lines += [rule.config_line(number) for rule in acl]
        if self.acls:
            lines.append("!")
        return lines
