"""CRL distribution commands (issue 14, "CRLs over HTTP").

cs-server mode: `cdp-url URL` (cisco-cs.md 3, 9; cisco-cs-docs.md 3), the CRL
Distribution Point every certificate the server issues carries from then on. EXEC:
`crypto pki certificate validate TP`, which checks the router's own certificate under a
trustpoint the way a peer's is checked (chain, validity at the router's clock,
`revocation-check`), so that a CRL download from the CDP can be seen without an IKE peer.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509

from sim.kernel.clock import format_ios_timer
from sim.kernel.process import SimProcess
from sim.pki import cert_path
from sim.pki.crl_distribution import check_cdp_url
from sim.router.cli_parser import Match
from sim.router.command_table import CommandTable
from sim.router.console import Session
from sim.router.crl_fetch import Revocation, check_revocation
from sim.router.handlers_config import LOCKED_MESSAGE, current_server
from sim.router.handlers_pki import known_trustpoint, not_run_at_boot


# -- cs-server mode ------------------------------------------------------------------------------
def _cdp_url(s: Session, m: Match) -> None:
    """`cdp-url URL` / `no cdp-url`. Like every cs-server setting it changes only while
    the server is shut; certificates issued before keep the CDP they were issued with."""
    cs = current_server(s)
    if not s.booting and cs.locked:
        s.write(LOCKED_MESSAGE)
        return
    if m.negated:
        cs.configure(cdp_url=None)
        return
    url = str(m.args["url"])
    problem = check_cdp_url(url)
    if problem is not None:
        s.write(problem)
        return
    cs.configure(cdp_url=url)


CS_CRL_COMMANDS: CommandTable = [
    ("cdp-url <url:WORD>", _cdp_url, {"no_form": True}),
]


# -- crypto pki certificate validate TP ---------------------------------------------------------
# chosen: the output lines below are IOS 15's as remembered from the command reference
# ("Certificate chain has 2 certificates." / "Certificate chain for TP is valid"); the
# failure lines and the PKI-3 syslogs follow cisco-client-docs.md 5.4 [R?].
REVOKED_SYSLOG = ("%PKI-3-CERTIFICATE_REVOKED: Certificate chain validation has failed.  "
                  "The certificate (SN: {serial}) is revoked")
EXPIRED_SYSLOG = ("%PKI-3-CERTIFICATE_INVALID_EXPIRED: Certificate chain validation has failed."
                  "  The certificate (SN: {serial}) has expired.    Validity period ended on "
                  "{when}")
NOT_YET_SYSLOG = ("%PKI-3-CERTIFICATE_INVALID_NOT_YET_VALID: Certificate chain validation has "
                  "failed.  The certificate (SN: {serial}) is not yet valid   Validity period "
                  "starts on {when}")
INVALID_SYSLOG = "%PKI-3-CERTIFICATE_INVALID: Certificate chain validation has failed."


def _validate(s: Session, m: Match) -> SimProcess[None]:
    """`crypto pki certificate validate TP`: the router's certificate against the
    trustpoint's CA chain at the router's clock, then its revocation per
    `revocation-check`. chosen: revocation is looked up for the router's certificate only
    (a trustpoint caches one CRL, its CA's), as the IKE peers' validation does."""
    if not_run_at_boot(s):
        return
    router = s.router
    name = str(m.args["tp"])
    tp = known_trustpoint(s, name)
    if tp is None:
        return
    cert = tp.id_cert
    if tp.ca_cert is None or cert is None:
        s.write(f"% Trustpoint {name} has no certificate to validate.")  # chosen wording
        return
    chain = tp.ca_chain or (tp.ca_cert,)
    s.write(f"Certificate chain has {1 + len(chain)} certificates.")
    serial = f"{cert.serial_number:02X}"
    problem = _chain_problem(router.clock.now(), cert, chain)
    if problem is None:
        verdict = yield from check_revocation(router, tp, cert)
        if verdict.status is Revocation.REVOKED:
            problem = REVOKED_SYSLOG.format(serial=serial)
        elif verdict.status is Revocation.UNKNOWN:
            # the CRL_FETCH_FAIL syslog has said why; validation fails on it ("with `crl`
            # alone an unobtainable CRL fails validation", cisco-client-docs.md 2)
            problem = INVALID_SYSLOG
    router.emit("pki", "certificate.validated", trustpoint=name, serial=serial,
                result="valid" if problem is None else "invalid")
    if problem is not None:
        router.log(problem)
        s.write(f"Certificate chain for {name} is invalid")
        return
    s.write(f"Certificate chain for {name} is valid")
    s.write(f"Router certificate for {name} is valid")


def _chain_problem(now: datetime, cert: x509.Certificate,
                   chain: tuple[x509.Certificate, ...]) -> str | None:
    """The syslog for a chain that fails before revocation is looked at, or None: each
    certificate signed by the next one up, all valid at `now`."""
    links = (cert, *chain)
    if not all(cert_path.issued_by(child, parent)
               for child, parent in zip(links, chain, strict=False)):
        return INVALID_SYSLOG
    # `validity_reasons` goes from the anchor down; this command names the lowest
    # certificate out of date, the router's own first.
    reasons = cert_path.validity_reasons(links, now)
    lowest = reasons[-1] if reasons else None
    if lowest is None or lowest.boundary is None:
        return None
    not_yet = lowest.problem is cert_path.Problem.NOT_YET_VALID
    return (NOT_YET_SYSLOG if not_yet else EXPIRED_SYSLOG).format(
        serial=f"{lowest.serial:02X}", when=format_ios_timer(lowest.boundary))


EXEC_CRL_COMMANDS: CommandTable = [
    ("crypto pki certificate validate <tp:LABEL>", _validate, {}),
]
