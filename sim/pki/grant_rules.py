"""The certificate server's grant forms beyond manual and `grant auto` (sans-IO).

cisco-cs.md 3 and 11 list the `grant` command's forms:

    grant none | grant auto [trustpoint <tp>] | grant auto tp-list <tp...> (<= 5, XE)
               | grant auto rollover {ca-cert | ra-cert} | grant ra-auto

This module holds what `grant auto trustpoint TP` and `grant auto tp-list TP1 [TP2 ...]`
mean, how every form reads in `show crypto pki server` and in the running configuration:

- "auto-grant only requests signed with a cert issued by the CA of trustpoint <tp>
  (re-enrollment / "Direct HTTP Enroll" feature 12.3(4)T)" (cisco-cs.md 11 [D]). A SCEP
  request is signed with a certificate (RFC 8894 2.3: self-signed for a new key, "the
  existing certificate" for a renewal); when that certificate was issued by the CA whose
  certificate one of the named trustpoints holds, and is valid at the server's clock, the
  request is *vouched* and granted at receipt. Every other request waits for the
  administrator, as in manual mode.
- chosen: "the CA of trustpoint TP" is the CA certificate TP holds (what `crypto pki
  authenticate TP` installed; on a root server's own trustpoint that is the server's own
  CA certificate, so `grant auto trustpoint <cs>` auto-grants the renewals of routers it
  certified). Only the signer's direct issuer counts; its revocation is not checked for
  another CA (the server holds no CRL of it), and for the server's own CA the SCEP service
  has already refused revoked signers as renewals.
- chosen: a request pasted at the console (`request pkcs10 terminal|url`) carries no
  signer and is never vouched: it waits under the trustpoint forms.
- chosen: sub-CA and RA requests are not vouched into a grant either: the subordinate
  guide's "must always be manually granted" stands above every auto form.
- The grant chain of `sim.pki.issuance` still decides the rest (`grant none` rejects,
  `grant auto` grants router requests, manual waits); the trustpoint forms only hold back
  an auto grant whose request no listed CA vouches for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.pki import x509util
from sim.pki.ca_requests import RequestKind
from sim.pki.cs_settings import GrantMode
from sim.pki.issuance import Decision, GrantPolicy
from sim.pki.scep.bodies import LOAD_ERRORS

TP_LIST_MAX = 5
"""`grant auto tp-list`: at most five trustpoints (cisco-cs.md 3 and 11 [V-cisco])."""

GRANT_AUTO_SYSLOG = ("%PKI-6-CS_GRANT_AUTO: All enrollment requests will be automatically "
                     "granted.")
"""Logged when `grant auto` is configured (cisco-cs.md 11 [V])."""
REJECT_AUTO_SYSLOG = ("%PKI-6-CS_REJECT_AUTO: All enrollment requests will be automatically "
                      "rejected.")
"""chosen: `%PKI-6-CS_REJECT_AUTO` is recalled from IOS's message catalogue (cisco-cs.md 16
[D], "all requests rejected"), its text never captured; worded as CS_GRANT_AUTO's
counterpart and logged when `grant none` is configured."""


def vouched(signer: x509.Certificate | None, anchors: Sequence[x509.Certificate],
            now: datetime) -> bool:
    """Whether `signer` (the certificate that signed a SCEP request) was issued by one of
    the `anchors` (the CA certificates of the trustpoints `grant auto trustpoint|tp-list`
    names) and is within its validity at `now`."""
    if signer is None:
        return False
    try:  # the signer came from a network peer: its fields are read lazily
        if not signer.not_valid_before_utc <= now <= signer.not_valid_after_utc:
            return False
        for anchor in anchors:
            key = anchor.public_key()
            if (signer.issuer == anchor.subject and isinstance(key, rsa.RSAPublicKey)
                    and x509util.verify_signature(signer, key)):
                return True
    except LOAD_ERRORS:
        return False
    return False


_POLICY = GrantPolicy()
"""The default grant chain (frozen, so one serves every request)."""


def decide(kind: RequestKind, grant: GrantMode, trustpoints: Sequence[str], is_vouched: bool
           ) -> Decision:
    """What happens to a new request at receipt: the grant chain's decision, except that
    under `grant auto trustpoint|tp-list` an auto grant needs a vouched request."""
    decision = _POLICY.decide(kind, grant)
    if (decision is Decision.GRANT and grant == GrantMode.AUTO and trustpoints
            and not is_vouched):
        return Decision.PENDING
    return decision


def grant_words(grant: str, trustpoints: Sequence[str], tp_list: bool) -> str | None:
    """The words after `grant` in the running configuration, or None for manual (no line):
    `auto`, `none`, `auto trustpoint TP`, `auto tp-list TP1 TP2`."""
    if grant == "manual":
        return None
    if grant == "auto" and trustpoints:
        if tp_list:
            return "auto tp-list " + " ".join(trustpoints)
        return f"auto trustpoint {trustpoints[0]}"
    return grant


def granting_mode(grant: str, trustpoints: Sequence[str]) -> str:
    """`Granting mode is: <this>` in `show crypto pki server`. `auto` and `manual` are
    IOS's words [V]. chosen: `auto` under the trustpoint forms too, with the trustpoints
    after it (`auto, trustpoint(s): TP1 TP2`), and `none` for `grant none` (what was
    shown for these forms was never captured)."""
    if grant == "auto" and trustpoints:
        return "auto, trustpoint(s): " + " ".join(trustpoints)
    if grant in ("auto", "none", "ra-auto"):  # chosen: `ra-auto` as configured (ra_forward)
        return grant
    return "manual"


class Otp(Enum):
    """What a request's challengePassword is to the server's one-time password
    (`crypto pki server CS password generate`), as its `debug crypto pki server` line
    words it (chosen: pkilab's wording; IOS's was never captured)."""

    MATCH = "carries the one-time password; granting"
    WRONG = "does not carry the one-time password; left pending"
    EXPIRED = "arrived after the one-time password expired; left pending"


def check_one_time_password(password: str, expires: datetime, challenge: str | None,
                            now: datetime) -> Otp | None:
    """The request's `challenge` against the outstanding one-time `password`: None when
    the request carries no challengePassword at all (it is not trying one)."""
    if challenge is None:
        return None
    if now >= expires:
        return Otp.EXPIRED
    return Otp.MATCH if challenge == password else Otp.WRONG
