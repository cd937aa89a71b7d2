"""`enrollment credential LABEL`: enroll with a certificate the router already holds.

The client half of Cisco's "Direct HTTP Enroll" (12.3(4)T; cisco-cs.md 11 and
cisco-client-docs.md 2): a router that holds a certificate from another CA (trustpoint
LABEL, say a vendor's) signs its SCEP request to this trustpoint's CA with that
certificate instead of a self-signed one. A certificate server with `grant auto
trustpoint LABEL` (or `tp-list`) then grants the request at receipt (`sim.pki.grant_rules`).

chosen: the credential signs only when it certifies the key pair being enrolled (the two
trustpoints share their `rsakeypair`): a SCEP request is signed with the key whose holder
decrypts the reply (RFC 8894 2.3), and pkilab's client signs with the key it enrolls.
Otherwise the request goes self-signed, and `crypto pki enroll` says why. The option is
stored and shown in the running configuration after `enrollment url`.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.pki.enroll_client import same_key
from sim.router.cli_parser import Match
from sim.router.command_table import CommandTable
from sim.router.console import Session
from sim.router.state import Trustpoint


def _enrollment_credential(s: Session, m: Match) -> None:
    tp = s.router.running.trustpoints[s.context or ""]
    tp.options.enrollment_credential = None if m.negated else str(m.args["label"])


def credential_signer(s: Session, tp: Trustpoint, key: rsa.RSAPrivateKey
                      ) -> x509.Certificate | None:
    """The certificate `crypto pki enroll TP` signs its request with under `enrollment
    credential LABEL`, or None (self-signed); tells the console when the credential cannot
    sign (pkilab's wording)."""
    label = tp.options.enrollment_credential
    if label is None:
        return None
    credential = s.router.running.trustpoints.get(label)
    cert = credential.id_cert if credential is not None else None
    if cert is None:
        s.write(f"% Trustpoint {label} holds no certificate to sign the request with; "
                "it is self-signed.")
        return None
    if not same_key(cert, key):
        s.write(f"% The certificate of trustpoint {label} is not for the key pair of "
                f"trustpoint {tp.name}; the request is self-signed.")
        return None
    return cert


def credential_config_lines(tp: Trustpoint) -> list[str]:
    """` enrollment credential LABEL` in the trustpoint's block of the running config."""
    label = tp.options.enrollment_credential
    return [f" enrollment credential {label}"] if label else []


CREDENTIAL_TRUSTPOINT_COMMANDS: CommandTable = [
    ("enrollment credential <label:LABEL>", _enrollment_credential, {"no_form": True}),
]
"""ca-trustpoint mode (`sim.router.commands` adds it to the mode's table)."""
