"""From an enrollment request to a certificate: the grant policy and the issuing step (sans-IO).

Theory of operation:

- `GrantPolicy` decides what happens to a new request at receipt, from its `RequestKind` and the
  server's `grant` mode. It is a chain of small rules, first match wins, wired in this one place
  (micromdm/scep's CSR-signer middleware idea): `grant none` rejects everything, a sub-CA
  request always waits for the admin, an RA's only without `grant ra-auto`, `grant auto` grants
  the rest, otherwise it stays pending.
- `issue_from_request` signs the certificate once a request is granted (by the admin or the
  policy). The CS never edits a request: the subject is copied unchanged; validity starts at the
  grant, not at the request (cisco-cs.md section 8).
- The `debug crypto pki server` lines of these steps are given here verbatim from the seed so the
  server core only has to emit them in order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtensionOID

from sim.pki import cert_facts, x509util
from sim.pki.ca_requests import RequestKind
from sim.pki.cs_settings import GrantMode

GRANT_MODES = ("manual", "auto", "none", "ra-auto")


class Decision(Enum):
    """What the server does with a request when it arrives."""

    PENDING = "pending"
    GRANT = "grant"
    REJECT = "reject"


Rule = Callable[[RequestKind, str], Decision | None]
"""A link of the grant chain: a decision, or None to pass the request on."""


def _grant_none_rejects(kind: RequestKind, mode: str) -> Decision | None:
    """`grant none`: "all requests rejected automatically" (cisco-cs.md section 11).

    Applied before the sub-CA rule: pkilab lets `grant none` refuse sub-CA requests too, since
    the doc gives no exception for them (the seed only says auto never grants them).
    """
    return Decision.REJECT if mode == "none" else None


def _sub_ca_needs_admin(kind: RequestKind, mode: str) -> Decision | None:
    """Seed: "Enrollment requests that come from a subordinate certificate server must always
    be manually granted." """
    return Decision.PENDING if kind is RequestKind.SUB_CA else None


def _ra_needs_admin(kind: RequestKind, mode: str) -> Decision | None:
    """An RA's own certificate request is granted at receipt under `grant ra-auto` and
    waits for the admin otherwise: "RA requests need `ra-auto`" (cisco-cs.md 11). What an
    RA forwards is a router request; `sim.pki.ra_forward` grants those."""
    if kind is not RequestKind.RA:
        return None
    return Decision.GRANT if mode == "ra-auto" else Decision.PENDING


def _auto_grants(kind: RequestKind, mode: str) -> Decision | None:
    """`grant auto`: "All enrollment requests will be automatically granted." (CS_GRANT_AUTO)"""
    return Decision.GRANT if mode == "auto" else None


def _manual_waits(kind: RequestKind, mode: str) -> Decision | None:
    """Manual (default): "router requests -> pending; admin grant/reject"."""
    return Decision.PENDING


DEFAULT_RULES: tuple[Rule, ...] = (
    _grant_none_rejects,
    _sub_ca_needs_admin,
    _ra_needs_admin,
    _auto_grants,
    _manual_waits,
)


@dataclass(frozen=True)
class GrantPolicy:
    """The grant chain; `GrantPolicy().decide(kind, mode)` is the whole policy."""

    rules: tuple[Rule, ...] = DEFAULT_RULES

    def decide(self, kind: RequestKind, grant_mode: GrantMode) -> Decision:
        for rule in self.rules:
            decision = rule(kind, grant_mode)
            if decision is not None:
                return decision
        return Decision.PENDING


# -- issuing --------------------------------------------------------------------------------
def _default_key_usage() -> x509.KeyUsage:
    """What IOS SCEP clients request: Digital Signature + Key Encipherment (cisco-cs.md 8)."""
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=True,
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )


_DEFAULT_KEY_USAGE = x509.Extension(ExtensionOID.KEY_USAGE, False, _default_key_usage())
"""The extension issued when the request asks for no key usage (immutable, so shared)."""


def _requested_key_usage(csr: x509.CertificateSigningRequest) -> x509.Extension[x509.KeyUsage]:
    # `get_extension_for_class`, without raising and catching ExtensionNotFound for
    # every request that asks for no key usage (the usual one).
    for extension in csr.extensions:
        if extension.oid == ExtensionOID.KEY_USAGE:
            return cast(x509.Extension[x509.KeyUsage], extension)
    return _DEFAULT_KEY_USAGE


def issue_from_request(
    csr: x509.CertificateSigningRequest,
    *,
    ca_cert: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
    serial: int,
    now: datetime,
    lifetime_days: int,
    hash_name: str,
    kind: RequestKind,
    extensions: Sequence[x509.Extension[x509.ExtensionType]] = (),
    extra_minutes: int = 0,
    subject: x509.Name | None = None,
    public_key: rsa.RSAPublicKey | None = None,
) -> x509.Certificate:
    """Sign the certificate for a granted request.

    - Subject = request subject, unchanged ("The CS never edits a request").
    - notBefore = `now`, the grant (second precision); notAfter = notBefore + `lifetime
      certificate` days, "capped at the CA's notAfter" (cisco-cs.md section 8).
    - SUB_CA: BasicConstraints CA:TRUE and KeyUsage digitalSignature+keyCertSign+cRLSign, both
      critical (seed: "generating a CA cert", "added key usage extension").
    - ROUTER and RA: the requested KeyUsage with its criticality, or digitalSignature +
      keyEncipherment when none was requested; no BasicConstraints. Other requested extensions
      are not copied: IOS adds CDP/EKU only from its own `cdp-url`/`eku` settings, which the
      caller passes as `extensions`.
    - AKI (= the CA's SKI) and SKI always; signature hash = the server's `hash`.

    `subject`, `public_key`: `csr.subject` and `csr.public_key()` when the caller already
    has them (cryptography builds a new Name or key object at every read).
    """
    lifetime = timedelta(days=lifetime_days, minutes=extra_minutes)  # XE: DAYS HOURS MINUTES
    if lifetime <= timedelta(0):
        raise ValueError(f"lifetime certificate must be positive: {lifetime}")
    key = csr.public_key() if public_key is None else public_key
    if not cert_facts.is_rsa_public_key(key):
        raise ValueError("the certificate server only issues for RSA keys")
    not_before = now.replace(microsecond=0)
    is_ca = kind is RequestKind.SUB_CA
    chosen: list[x509.Extension[x509.ExtensionType]] = []
    if not is_ca:
        chosen.append(_requested_key_usage(csr))
    chosen.extend(extensions)
    return x509util.issue_certificate(
        ca_key,
        ca_cert,
        key,
        csr.subject if subject is None else subject,
        serial,
        not_before,
        not_before + lifetime,
        ca=is_ca,
        extensions=chosen,
        hash_name=hash_name,
    )


# -- debug lines (`debug crypto pki server`, without the `CRYPTO_CS: ` prefix) ----------------
DBG_RECEIVED_REQUEST = "received an enrollment request"
DBG_FOUND_BASIC_CONSTRAINTS = "found basic_constraints in enrollment request"
DBG_SUB_CS_REQUEST = "received a sub-CS cert enrollment request"
DBG_GENERATING_CA_CERT = "generating a CA cert"
DBG_ADDED_KEY_USAGE = "added key usage extension"
DBG_SENT_PENDING = "sent SCEP pending reply"
DEFAULT_REQUESTOR = "Router"
"""The seed prints `Certificate sent to requestor Router`; both routers there are named Router,
so this is either the requester's hostname or a fixed word. pkilab uses the fixed word."""


def dbg_req_id(req_id: int) -> str:
    return f"reqID = {req_id}"


def dbg_granting(req_id: int) -> str:
    return f"Granting enrollment request {req_id}"


def dbg_granted(req_id: int, fingerprint: str) -> str:
    """Seed: `reqID=1 granted, fingerprint=1BA027DB1C7860C7EC188F6564356C80` (one line; the
    document wraps it)."""
    return f"reqID={req_id} granted, fingerprint={fingerprint}"


def dbg_certificate_sent(requestor: str = DEFAULT_REQUESTOR) -> str:
    return f"Certificate sent to requestor {requestor}"


def new_request_debug(kind: RequestKind, req_id: int) -> list[str]:
    """Lines for a new request, as in the seed's first PKCSReq (msg type 19).

    Only the sub-CA lines were captured; RA and router requests print no classification line.
    """
    lines = [DBG_RECEIVED_REQUEST]
    if kind is RequestKind.SUB_CA:
        lines += [DBG_FOUND_BASIC_CONSTRAINTS, DBG_SUB_CS_REQUEST]
    return lines + [dbg_req_id(req_id)]


def poll_debug(req_id: int, granted: bool) -> list[str]:
    """Lines for a poll (GetCertInitial, msg type 20) before the reply is written.

    Seed: a pending poll prints `received an enrollment request` and `reqID = 1`; the poll that
    collects the certificate prints only the first line (then `Certificate sent to requestor`).
    """
    return [DBG_RECEIVED_REQUEST] if granted else [DBG_RECEIVED_REQUEST, dbg_req_id(req_id)]


def grant_debug(kind: RequestKind, req_id: int) -> list[str]:
    """Lines from the start of a grant until the certificate is signed.

    The serial-file line (`serial number 0x2 written.`) follows from the server core, then
    `dbg_granted`. The CA-cert lines are only known for sub-CA requests.
    """
    lines = [dbg_granting(req_id)]
    if kind is RequestKind.SUB_CA:
        lines += [DBG_GENERATING_CA_CERT, DBG_ADDED_KEY_USAGE]
    return lines
