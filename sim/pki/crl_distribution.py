"""CRL distribution over HTTP (sans-IO): the CDP extension `cdp-url` writes, the CS's HTTP
answer with its CRL, and the client's reading of a downloaded CRL.

Theory of operation (cisco-cs-docs.md 3, cisco-cs.md 9):

- "Two distribution methods: SCEP (the default) or a CDP if configured and available."
  Without `cdp-url` issued certificates carry no CRL Distribution Points extension and
  clients fetch the CRL with a SCEP GetCRL. With `cdp-url URL` "every certificate it
  issues carries the same one" ("Only one CDP").
- The documented URL forms are an external file (`http://my-cdp.company.com/filename.crl`)
  and the CS itself for clients that cannot send SCEP GetCRL
  (`http://<cs-addr>/cgi-bin/pkiclient.exe?operation=GetCRL`). The CS answers the second
  form by plain HTTP GET with its current CRL in DER (`crl_reply`).
- "To verify a peer certificate (IKE, SSL), IOS looks for the CDP extension and downloads
  the CRL from it; if that query fails, IOS falls back to SCEP GetCRL directly to the CA"
  (the order the router shell `sim.router.crl_fetch` follows). A fetched CRL is "reused
  until it expires" (cisco-client-docs.md 2): `crl_usable`.

Nothing here reads a clock or does I/O: `now` and the bytes are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from sim.pki import x509util
from sim.pki.scep_http import is_scep_path

GET_CRL = "GetCRL"
CRL_CONTENT_TYPE = "application/pkix-crl"
"""chosen: the media type RFC 2585 section 4.2 gives a DER CRL fetched over HTTP
(`application/pkix-crl`); the reference does not record the header IOS's HTTP server sends
with its CRL."""
MAX_CDP_URL = 255
"""chosen: the longest `cdp-url` pkilab takes; the reference gives no limit."""


# -- the server side: the CDP extension and the HTTP answer ------------------------------------
def check_cdp_url(url: str) -> str | None:
    """Why `cdp-url URL` is refused, or None. IOS stores the URL as typed (the reference
    shows HTTP URLs, LDAP URLs and bare DNs as CDPs IOS clients accept), so pkilab only
    refuses what cannot be one URI: chosen wording."""
    if not url or len(url) > MAX_CDP_URL:
        return f"% Invalid CDP URL (1 to {MAX_CDP_URL} characters)"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "% Invalid CDP URL"
    return None


def cdp_extension(url: str) -> x509.Extension[x509.ExtensionType]:
    """The CRL Distribution Points extension of a `cdp-url`: one DistributionPoint whose
    fullName is the URL as a URI (RFC 5280 4.2.1.13), not critical ("SHOULD be
    non-critical")."""
    point = x509.DistributionPoint(full_name=[x509.UniformResourceIdentifier(url)],
                                   relative_name=None, reasons=None, crl_issuer=None)
    return x509.Extension(ExtensionOID.CRL_DISTRIBUTION_POINTS, False,
                          x509.CRLDistributionPoints([point]))


def issued_extensions(cdp_url: str | None) -> tuple[x509.Extension[x509.ExtensionType], ...]:
    """What the CS adds to every certificate it issues for its `cdp-url` (none without)."""
    return (cdp_extension(cdp_url),) if cdp_url else ()


def config_lines(cdp_url: str | None) -> list[str]:
    """` cdp-url URL` in running-config. chosen: after the `lifetime` lines, where saved
    15.x configurations remembered from the field put it; the reference gives no order."""
    return [f" cdp-url {cdp_url}"] if cdp_url else []


def is_crl_request(path: str, operation: str) -> bool:
    """`/cgi-bin/pkiclient.exe?operation=GetCRL` (the documented form; IOS's SCEP path
    compared as `sim.pki.scep_http` does, `message=` optional). `operation`: the request's
    `operation=`, as `scep_http.read_request` reads it from the query.

    chosen: the CS answers only this form. The `filename.crl` form in Cisco's guide is for
    an external server the CDP points at; IOS's HTTP server does not serve the CS's
    `<cs>.crl` file by itself, so `GET /<cs>.crl` stays 404 and a CDP written that way
    fails as it would on IOS (then the client falls back to SCEP)."""
    return operation == GET_CRL and is_scep_path(path)


@dataclass(frozen=True)
class CrlReply:
    """The CS's HTTP answer to a CRL request; the router's HTTP server adds its headers."""

    status: int
    reason: str
    content_type: str
    body: bytes


def crl_reply(method: str, crl_der: bytes | None) -> CrlReply:
    """The answer to `GET ...?operation=GetCRL`: the current CRL as DER, 200 OK.

    chosen: another method gets `405 Method Not Allowed` (the guide documents a GET, and a
    POST carries a SCEP pkiMessage that GetCRL by HTTP does not take); a CS without a CRL
    yet (not enabled, RA mode) answers 404 as for any other SCEP operation then."""
    if method != "GET":
        return CrlReply(405, "Method Not Allowed", "text/plain",
                        b"GetCRL is fetched with GET")
    if not crl_der:
        return CrlReply(404, "Not Found", "text/plain", b"")
    return CrlReply(200, "OK", CRL_CONTENT_TYPE, crl_der)


# -- the client side ----------------------------------------------------------------------------
def cdp_urls(cert: x509.Certificate) -> tuple[str, ...]:
    """The URIs of a certificate's CRL Distribution Points, in order; () without one."""
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return ()
    urls: list[str] = []
    for point in points:
        for name in point.full_name or ():
            if isinstance(name, x509.UniformResourceIdentifier):
                urls.append(name.value)
    return tuple(urls)


@dataclass(frozen=True)
class HttpCdp:
    """An `http://host[:port]/path[?query]` CDP, split for the simulated network."""

    host: str
    port: int
    target: str
    """`path?query` as on the request line."""


def http_cdp(url: str) -> HttpCdp | None:
    """The HTTP form of a CDP URL, or None when it is not one pkilab can fetch (LDAP, a
    bare DN: "IOS needs a complete URL to locate the CDP", cisco-cs-docs.md 3)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() != "http" or not parts.hostname:
        return None
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return HttpCdp(parts.hostname, port or 80, target)


def crl_usable(crl: x509.CertificateRevocationList | None, issuer: x509.Name,
               now: datetime) -> bool:
    """A cached CRL serves a validation while it is the issuer's and `now` is before its
    NextUpdate ("default caches a CRL until its NextUpdate", cisco-client-docs.md 2).
    chosen: a CRL whose LastUpdate is still ahead of the router's clock is not used
    either (an unset or wrong clock makes it "not yet valid", as it does certificates)."""
    if crl is None or crl.issuer != issuer:
        return False
    next_update = crl.next_update_utc
    return crl.last_update_utc <= now and (next_update is None or now < next_update)


class CrlRejected(ValueError):
    """A downloaded body that is not a usable CRL of the issuer; the text says why."""


def read_crl(body: bytes, issuer: x509.Certificate | None) -> x509.CertificateRevocationList:
    """A downloaded CRL, checked: it parses (DER, or PEM as some servers publish it), was
    issued by `issuer` and carries its signature. With no issuer certificate at hand only
    the name can be compared (chosen: the signature is then not checked)."""
    try:
        crl = x509util.load_crl(body)
    except ValueError as bad:
        raise CrlRejected("the reply is not a CRL") from bad
    if issuer is None:
        return crl
    if crl.issuer != issuer.subject:
        raise CrlRejected("the CRL was not issued by the certificate's issuer")
    if not x509util.verify_signature(crl, issuer.public_key()):
        raise CrlRejected("the CRL signature does not verify")
    return crl


def revoked_entry(crl: x509.CertificateRevocationList, cert: x509.Certificate
                  ) -> x509.RevokedCertificate | None:
    """The CRL's entry for `cert`, if it is revoked (same issuer assumed)."""
    return crl.get_revoked_certificate_by_serial_number(cert.serial_number)
