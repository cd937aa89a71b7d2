"""NTP packets (RFC 1305, NTP version 3 as classic IOS speaks it): 48 real bytes.

The simulated routers exchange the real wire form over the simulated network, so a
datagram's size on the links is the real one and the four timestamps of the on-wire
protocol (RFC 1305 section 3.4.3) travel inside it:

     0                   1                   2                   3
    |LI | VN  |Mode |    Stratum    |     Poll      |   Precision   |
    |                          Root Delay (16.16)                   |
    |                       Root Dispersion (16.16)                 |
    |                     Reference Identifier                      |
    |                   Reference Timestamp (32.32)                 |
    |                   Originate Timestamp (32.32)                 |
    |                    Receive Timestamp (32.32)                  |
    |                    Transmit Timestamp (32.32)                 |

Timestamps are seconds since 1900-01-01 00:00 UTC. Pure functions, no I/O.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

NTP_EPOCH = datetime(1900, 1, 1, tzinfo=UTC)
PACKET_SIZE = 48
VERSION = 3
MODE_CLIENT = 3
MODE_SERVER = 4
LEAP_ALARM = 3
"""LI 3: "alarm condition (clock not synchronized)" (RFC 1305 section 3.2.1)."""

_FORMAT = "!BBbbII4sQQQQ"


@dataclass(frozen=True)
class NtpPacket:
    """One NTP message; timestamps in seconds since `NTP_EPOCH` (0.0: not set)."""

    mode: int
    stratum: int = 0
    poll: int = 6
    precision: int = -18
    leap: int = 0
    root_delay: float = 0.0
    root_dispersion: float = 0.0
    reference_id: bytes = b"\0\0\0\0"
    reference: float = 0.0
    originate: float = 0.0
    receive: float = 0.0
    transmit: float = 0.0
    version: int = VERSION


def encode(packet: NtpPacket) -> bytes:
    return struct.pack(
        _FORMAT,
        (packet.leap << 6) | (packet.version << 3) | packet.mode,
        packet.stratum, packet.poll, packet.precision,
        _short(packet.root_delay), _short(packet.root_dispersion),
        packet.reference_id,
        _long(packet.reference), _long(packet.originate), _long(packet.receive),
        _long(packet.transmit),
    )


def decode(data: bytes) -> NtpPacket:
    """The packet in `data`; ValueError for anything that is not an NTP v1-4 packet."""
    if len(data) < PACKET_SIZE:
        raise ValueError(f"NTP packet of {len(data)} bytes, expected {PACKET_SIZE}")
    (first, stratum, poll, precision, delay, dispersion, ref_id, reference, originate,
     receive, transmit) = struct.unpack(_FORMAT, data[:PACKET_SIZE])
    version = (first >> 3) & 7
    if not 1 <= version <= 4:
        raise ValueError(f"NTP version {version} is not supported")
    return NtpPacket(
        mode=first & 7, stratum=stratum, poll=poll, precision=precision, leap=first >> 6,
        root_delay=delay / 65536, root_dispersion=dispersion / 65536, reference_id=ref_id,
        reference=reference / 2**32, originate=originate / 2**32, receive=receive / 2**32,
        transmit=transmit / 2**32, version=version,
    )


def to_ntp(value: datetime) -> float:
    """A UTC time as NTP seconds."""
    return (value - NTP_EPOCH).total_seconds()


def from_ntp(seconds: float) -> datetime:
    return NTP_EPOCH + timedelta(seconds=seconds)


def hex_timestamp(seconds: float) -> str:
    """`C5A8A4E2.3E8B4B2A`: how `show ntp status` prints a timestamp."""
    raw = _long(seconds)
    return f"{raw >> 32:08X}.{raw & 0xFFFFFFFF:08X}"


def address_id(address: str) -> bytes:
    """A dotted IPv4 address as a reference identifier (stratum 2 and above)."""
    return bytes(int(octet) for octet in address.split("."))


def id_address(ref_id: bytes) -> str:
    return ".".join(str(octet) for octet in ref_id)


def _short(seconds: float) -> int:
    return max(0, min(int(round(seconds * 65536)), 0xFFFFFFFF))


def _long(seconds: float) -> int:
    return max(0, min(int(round(seconds * 2**32)), 0xFFFFFFFFFFFFFFFF))
