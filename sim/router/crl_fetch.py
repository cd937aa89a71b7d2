"""How a router gets the CRL it checks a certificate against: from its cache, from the
certificate's CRL Distribution Point over HTTP, or by SCEP GetCRL from the trustpoint's CA.

Theory of operation (cisco-cs-docs.md 3, cisco-client-docs.md 2 and 5, cisco-cs.md 9):

- A CRL fetched for a trustpoint is kept with it and "reused until it expires" (its
  NextUpdate; `crl_usable`). `acquire_crl` answers from that cache first.
- Otherwise "IOS looks for the CDP extension and downloads the CRL from it; if that query
  fails, IOS falls back to SCEP GetCRL directly to the CA". A certificate without a CDP
  goes to SCEP at once (`** CDP Not Published - Retrieved via SCEP`). The download is a
  plain HTTP GET across the simulated links, so their delay, loss and state apply.
- When neither gives a CRL, `CrlOutcome.failure` says why; what that means for the
  certificate is the trustpoint's `revocation-check` (`check_revocation`): `crl` alone
  fails the validation, a trailing `none` accepts ("trailing `none` makes it
  best-effort"), `revocation-check none` never fetches.

The IKE peers' validation imports `acquire_crl` and `CrlOutcome`; keep their signatures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from cryptography import x509

from sim.kernel.clock import format_ios_timer
from sim.kernel.process import SimProcess
from sim.kernel.timers import TimerDriver
from sim.pki import crl_distribution as cdp
from sim.pki import x509util
from sim.pki.crl_distribution import CrlRejected
from sim.pki.revocation_methods import RevocationMethod
from sim.pki.scep_client import ScepEndpoint
from sim.pki.scep_http import IOS_USER_AGENT, ScepHttpRequest
from sim.router import pki_client
from sim.router.pki_http import debug, http_exchange, note_exchange
from sim.router.state import Trustpoint

if TYPE_CHECKING:
    from sim.router.router import Router

SCEP_SOURCE = "SCEP"
"""`CrlOutcome.source` of a CRL fetched by SCEP GetCRL."""

# chosen: the reasons below follow the words of XE's `%PKI-3-CRL_FETCH_FAIL ... Reason :`
# line as far as the reference records it (cisco-client-docs.md 5.4 [R?]); IOS's exact
# texts were never captured.
NO_CDP_NO_URL = "CDP not published and enrollment URL not configured"
NOT_HTTP = "CDP {url} is not an HTTP URL"
FETCH_FAILED = "CRL download from {url} failed: {why}"
REJECTED = "CRL from {url} rejected: {why}"
SCEP_FAILED = "SCEP GetCRL to the CA failed"
SCEP_OTHER_ISSUER = "the CA's CRL is not the certificate issuer's"
NOT_CURRENT = "CRL from {source} is not valid at the router's clock"
_WHY = {"no-route": "no route to host", "refused": "connection refused",
        "timeout": "timed out"}
"""A failed exchange in words (the others carry theirs: `can not resolve HOST`, `HTTP 404
Not Found`)."""
CDP_LABEL = "CDP"
"""The `message` of a CDP download in the trace's exchanges: reports draw it as
`GetCRL CDP`, beside SCEP's `PKIOperation GetCRL`."""


@dataclass(frozen=True)
class CrlOutcome:
    """What `acquire_crl` obtained: a CRL (`failure` None), or why none could be had."""

    crl: x509.CertificateRevocationList | None
    failure: str | None
    source: str | None = None
    """The CDP URL the CRL came from, `SCEP_SOURCE`, or None when there is no CRL."""
    cached: bool = False
    """True when the trustpoint's cached CRL answered, with no network exchange."""


def crl_fetch_fail(tp: Trustpoint, reason: str) -> list[str]:
    """`%PKI-3-CRL_FETCH_FAIL: CRL fetch for trustpoint <tp> failed` + `Reason : <text>`
    (cisco-client-docs.md 5.4 [R?], XE 16/17). chosen: every release prints it, the
    reference records no other wording for the older ones."""
    return [f"%PKI-3-CRL_FETCH_FAIL: CRL fetch for trustpoint {tp.name} failed",
            f"Reason : {reason}"]


def acquire_crl(router: Router, tp: Trustpoint, cert: x509.Certificate, *,
                issuer: x509.Certificate | None = None
                ) -> SimProcess[CrlOutcome]:
    """The CRL of `cert`'s issuer at the router's clock (a simpy process body).

    The cached CRL if still usable, else the first HTTP CDP of `cert` that answers, else
    SCEP GetCRL through the trustpoint (`pki_client.fetch_crl`). A downloaded CRL must be
    signed by `issuer` (default: the CA certificate among the router's trustpoints whose
    subject is `cert`'s issuer) and replaces the trustpoint's cache. On failure the syslog
    `%PKI-3-CRL_FETCH_FAIL` is printed and `failure` says why."""
    issuer = issuer or issuer_certificate(router, tp, cert)
    now = router.clock.now()
    if cdp.crl_usable(tp.crl, cert.issuer, now):
        debug(router, f"CRYPTO_PKI: CRL for {x509util.format_dn_ios(cert.issuer)} "
                      "found in cache")  # chosen wording
        return CrlOutcome(tp.crl, None, tp.crl_source or SCEP_SOURCE, cached=True)
    failure: str | None = None
    for url in cdp.cdp_urls(cert):
        outcome = yield from _download(router, tp, url, issuer)
        if outcome.crl is not None:
            return outcome
        failure = outcome.failure
    if failure is not None and tp.enrollment_url:
        # "if that query fails, IOS falls back to SCEP GetCRL directly to the CA"
        debug(router, "CRYPTO_PKI: CDP query failed, requesting the CRL from the CA "
                      "by SCEP")  # chosen wording
    outcome = yield from _by_scep(router, tp, cert)
    if outcome.crl is not None:
        return outcome
    reason = failure or outcome.failure or SCEP_FAILED
    syslog, reason_line = crl_fetch_fail(tp, reason)
    router.log(syslog)
    router.console_line(reason_line)
    router.emit("pki", "crl.unavailable", trustpoint=tp.name, reason=reason)
    return CrlOutcome(None, reason)


def issuer_certificate(router: Router, tp: Trustpoint, cert: x509.Certificate
                       ) -> x509.Certificate | None:
    """The CA certificate that issued `cert`, looked up in `tp` first, then in every
    trustpoint's CA chain; None when the router holds none."""
    candidates = [tp.ca_cert, *tp.ca_chain]
    for other in router.running.trustpoints.values():
        candidates += [other.ca_cert, *other.ca_chain]
    return next((c for c in candidates if c is not None and c.subject == cert.issuer), None)


def _download(router: Router, tp: Trustpoint, url: str, issuer: x509.Certificate | None
              ) -> SimProcess[CrlOutcome]:
    """One HTTP GET of the CDP `url`, with the PKI client's resolution and debug lines."""
    where = cdp.http_cdp(url)
    if where is None:
        return CrlOutcome(None, NOT_HTTP.format(url=url))
    debug(router, f"CRYPTO_PKI: fetching CRL from CDP {url}")  # chosen wording
    request = ScepHttpRequest("GET", where.target, (("User-Agent", IOS_USER_AGENT),))
    exchange = yield from http_exchange(router, ScepEndpoint(where.host, where.port, "/"),
                                        request, cdp.GET_CRL)
    if exchange.response is None:
        why = _WHY.get(exchange.failure or "", exchange.problem or "no answer")
        note_exchange(router, tp, exchange, cdp.GET_CRL, CDP_LABEL, exchange.failure or why)
        return CrlOutcome(None, FETCH_FAILED.format(url=url, why=why))
    try:
        crl = cdp.read_crl(exchange.response.body, issuer)
    except CrlRejected as bad:
        note_exchange(router, tp, exchange, cdp.GET_CRL, CDP_LABEL, "bad reply")
        return CrlOutcome(None, REJECTED.format(url=url, why=bad))
    note_exchange(router, tp, exchange, cdp.GET_CRL, CDP_LABEL, "SUCCESS")
    _keep(router, tp, crl, url)
    return _current(router, crl, url)


def _by_scep(router: Router, tp: Trustpoint, cert: x509.Certificate
             ) -> SimProcess[CrlOutcome]:
    """SCEP GetCRL to the trustpoint's CA: the fallback, and the only way for a
    certificate without a CDP."""
    if tp.ca_cert is None or not tp.enrollment_url:
        return CrlOutcome(None, NO_CDP_NO_URL)
    fetched = yield from pki_client.fetch_crl(router, tp)
    if not fetched or tp.crl is None:
        return CrlOutcome(None, SCEP_FAILED)
    tp.crl_source = None
    if tp.crl.issuer != cert.issuer:
        return CrlOutcome(None, SCEP_OTHER_ISSUER)
    return _current(router, tp.crl, SCEP_SOURCE)


def _current(router: Router, crl: x509.CertificateRevocationList, source: str
             ) -> CrlOutcome:
    """A CRL just fetched serves only if the router's clock is within its LastUpdate and
    NextUpdate. chosen: one outside them (a clock unset or far off) gives no answer, so
    `crl` alone fails the validation; it stays cached as downloaded until `CrlCache` drops
    it at its NextUpdate (at once when that has passed on the router's clock)."""
    if cdp.crl_usable(crl, crl.issuer, router.clock.now()):
        return CrlOutcome(crl, None, source)
    return CrlOutcome(None, NOT_CURRENT.format(source=source))


def _keep(router: Router, tp: Trustpoint, crl: x509.CertificateRevocationList,
          url: str) -> None:
    """The downloaded CRL becomes the trustpoint's cached one (as `crypto pki crl
    request` keeps its CRL), with its source for `show crypto pki crls`."""
    tp.crl = crl
    tp.crl_source = url
    tp.crl_fetched = router.clock.timestamp()
    tp.crl_fetched_at = router.clock.now()
    debug(router, "CRYPTO_PKI: CRL downloaded from CDP and cached")  # chosen wording
    router.record_artifact(f"{tp.name}.crl.pem", x509util.crl_pem(crl))
    router.emit("pki", "crl.received", trustpoint=tp.name, entries=len(list(crl)),
                source=url)
    router.crl_cache.poke()


# -- revocation-check ---------------------------------------------------------------------------
class Revocation(StrEnum):
    """What `revocation-check` concluded about a certificate."""

    GOOD = "good"
    """A CRL of the issuer was had and does not list the certificate."""
    REVOKED = "revoked"
    UNCHECKED = "unchecked"
    """`revocation-check none`, or no method could answer and a trailing `none` accepts."""
    UNKNOWN = "unknown"
    """No method could answer and none accepts: the validation fails."""


@dataclass(frozen=True)
class RevocationVerdict:
    status: Revocation
    crl: CrlOutcome | None = None
    revoked_at: str | None = None
    """The revocation date of a revoked certificate, IOS timer form."""

    @property
    def accepted(self) -> bool:
        return self.status in (Revocation.GOOD, Revocation.UNCHECKED)


def check_revocation(router: Router, tp: Trustpoint, cert: x509.Certificate, *,
                     issuer: x509.Certificate | None = None
                     ) -> SimProcess[RevocationVerdict]:
    """`revocation-check` applied to `cert`: the methods "tried in order; with `crl`
    alone an unobtainable CRL fails validation; trailing `none` makes it best-effort"
    (cisco-client-docs.md 2). chosen: `ocsp` never answers (pkilab models no OCSP
    responder), so it passes on to the next method."""
    last: CrlOutcome | None = None
    for method in tp.revocation_methods:
        if method is RevocationMethod.NONE:
            router.debug_line("pki-validation",
                              "CRYPTO_PKI: Certificate validated without revocation check")
            return RevocationVerdict(Revocation.UNCHECKED, last)
        if method != "crl":
            continue
        last = yield from acquire_crl(router, tp, cert, issuer=issuer)
        if last.crl is None:
            continue
        entry = cdp.revoked_entry(last.crl, cert)
        if entry is not None:
            return RevocationVerdict(Revocation.REVOKED, last,
                                     format_ios_timer(entry.revocation_date_utc))
        return RevocationVerdict(Revocation.GOOD, last)
    return RevocationVerdict(Revocation.UNKNOWN, last)


# -- the cache's expiry ------------------------------------------------------------------------
class CrlCache:
    """The `CRL EXPIRE` timer of every cached CRL: at its NextUpdate a CRL leaves the cache
    (and `show crypto pki crls`), so the next validation downloads a fresh one. A timed
    core (`next_deadline`/`on_timer`) that reads the trustpoints afresh each time, driven
    by a `TimerDriver` on the router's clock; whoever caches a CRL calls `poke`.

    chosen: the reference names the timer, not what firing does; IOS's CRL cache keeps a
    CRL "until its NextUpdate" (cisco-client-docs.md 2), which pkilab reads as dropping it
    then. CRLs live in memory only: a reload empties the cache (`CRL is stored in
    memory`)."""

    __slots__ = ("router", "_driver")

    def __init__(self, router: Router) -> None:
        self.router = router
        self._driver = TimerDriver(router.env, router.clock, self, self._expired)

    def poke(self) -> None:
        self._driver.poke()

    def next_deadline(self) -> datetime | None:
        dues = [tp.crl.next_update_utc for tp in self.router.running.trustpoints.values()
                if tp.crl is not None and tp.crl.next_update_utc is not None]
        return min(dues, default=None)

    def on_timer(self, now: datetime) -> list[tuple[str, str]]:
        """Drop every CRL whose NextUpdate has come; (trustpoint, issuer) of each."""
        dropped = []
        for tp in self.router.running.trustpoints.values():
            crl = tp.crl
            if crl is None or crl.next_update_utc is None or crl.next_update_utc > now:
                continue
            dropped.append((tp.name, x509util.format_dn_ios(crl.issuer)))
            tp.crl, tp.crl_source, tp.crl_fetched, tp.crl_fetched_at = None, None, None, None
        return dropped

    def _expired(self, dropped: list[tuple[str, str]]) -> None:
        for trustpoint, issuer in dropped:
            self.router.emit("pki", "crl.expired", trustpoint=trustpoint, issuer=issuer)


# -- show crypto pki timers --------------------------------------------------------------------
def crl_timers(router: Router) -> list[tuple[str, datetime]]:
    """The `CRL Timers` group of `show crypto pki timers` (cisco-cs.md 17): `CRL EXPIRE
    <issuer>` and `CRL UPDATE *<issuer>` for each cached CRL whose NextUpdate is ahead.

    chosen: both fall due at the CRL's NextUpdate, the moment `CrlCache` drops the CRL
    and the next validation downloads a fresh one (on demand, which pkilab reads the `*`
    as marking); the issuer is written as IOS writes DNs (`cn=ca`). The
    reference lists the labels, not their timing. A CRL cached by two trustpoints is
    listed once."""
    now = router.clock.now()
    timers: list[tuple[str, datetime]] = []
    seen: set[str] = set()
    for tp in router.running.trustpoints.values():
        crl = tp.crl
        due = crl.next_update_utc if crl is not None else None
        if crl is None or due is None or due <= now:
            continue
        issuer = x509util.format_dn_ios(crl.issuer)
        if issuer in seen:
            continue
        seen.add(issuer)
        timers += [(f"CRL EXPIRE {issuer}", due), (f"CRL UPDATE *{issuer}", due)]
    return timers
