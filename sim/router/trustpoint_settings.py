"""A trustpoint's enumerated options, as types rather than strings (spelt as the keywords,
so they read back into the running-config unchanged)."""

from __future__ import annotations

from enum import StrEnum


class TerminalFormat(StrEnum):
    """`enrollment terminal [pem]`: how cut-and-paste enrollment prints and reads."""

    BASE64 = "base64"
    """`enrollment terminal`: bare base64, as 12.3 printed requests."""
    PEM = "pem"
    """`enrollment terminal pem`: with the PEM BEGIN/END lines."""


class TrustpointUsage(StrEnum):
    """`usage {ike|ssl-client|ssl-server}` (stored and shown)."""

    IKE = "ike"
    SSL_CLIENT = "ssl-client"
    SSL_SERVER = "ssl-server"
