"""What a router's PKI keeps in nvram beside its startup-config: certificates and
pending enrollment requests.

IOS stores every certificate its trustpoints hold as an nvram file named after the
issuer's common name (spaces dropped, at most 12 characters) and the serial number:
`nvram:CA#1CA.cer` for a CA certificate, `nvram:CA#11.cer` for a router's own
(cisco-cs.md 8, "Client storage names"). They are written when the configuration is
saved, with `startup-config`.

What pkilab needs them for is the part of a trustpoint that `crypto pki certificate
chain` cannot say: the CA certificates above the issuing CA (what a subordinate's
GetCACert returned). Without them a subordinate CA that reboots from its saved
configuration answers GetCACert with a chain that stops at itself, and everything that
enrolls below it afterwards cannot reach the root. At boot, each trustpoint's chain is
rebuilt from these files: from its CA certificate, up through the certificate whose
subject is the issuer and whose key verifies the signature, to a self-signed root.

An enrollment waiting for its certificate is kept as `nvram:<trustpoint>.req` (the
PKCS#10 request, PEM) from the moment it is sent until it is granted, rejected or given
up, so that a router that loses power while its request is pending sends the same
request again when it is back (a repeated PKCSReq is a poll, draft-11 App. E) instead of
filing a second one or forgetting it.

Certificate fields come from the network, so names made from them are confined to
nvram's flat namespace: only letters, digits, `.`, `_` and `-` survive.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from cryptography import x509
from cryptography.x509.oid import NameOID

from sim.pki import x509util
from sim.pki.ra_forward import names_ra
from sim.router.nvram import Nvram
from sim.router.state import Trustpoint

Writer = Callable[[str, bytes], bool]
"""Writes one nvram file; False when nvram is full (the router says so on its console)."""

SUFFIX = ".cer"
MAX_CHAIN = 8
"""Deepest hierarchy a chain is rebuilt for: a loop of cross-signed certificates ends."""
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def storage_name(cert: x509.Certificate, *, ca: bool) -> str:
    """`<IssuerCN, no spaces, 12 characters at most>#<serial in hex>[CA].cer`."""
    names = cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    common = str(names[0].value) if names else ""
    label = _UNSAFE.sub("", common.replace(" ", ""))[:12].lstrip(".") or "cert"
    return f"{label}#{cert.serial_number:X}{'CA' if ca else ''}{SUFFIX}"


def trustpoint_files(trustpoints: Iterable[Trustpoint]) -> dict[str, bytes]:
    """Every certificate the trustpoints hold, by storage name."""
    files: dict[str, bytes] = {}
    for tp in trustpoints:
        if tp.id_cert is not None:
            files[storage_name(tp.id_cert, ca=False)] = x509util.cert_der(tp.id_cert)
        for cert in (*([tp.ca_cert] if tp.ca_cert is not None else []), *tp.ca_chain,
                     *tp.ra_certs):
            files[storage_name(cert, ca=True)] = x509util.cert_der(cert)
    return files


def save(nvram: Nvram, trustpoints: Iterable[Trustpoint], write: Writer) -> bool:
    """Write the trustpoints' certificates; drop the files of certificates no trustpoint
    holds any more. False if nvram ran out of space."""
    wanted = trustpoint_files(trustpoints)
    for name in [n for n in nvram if n.endswith(SUFFIX) and n not in wanted]:
        nvram.delete(name)
    ok = True
    for name, data in wanted.items():
        if nvram.read(name) != data:
            ok = write(name, data) and ok
    return ok


def stored_ca_certificates(nvram: Nvram) -> list[x509.Certificate]:
    certs = []
    for name in nvram:
        if not name.endswith(f"CA{SUFFIX}"):
            continue
        try:
            certs.append(x509util.load_cert(nvram.read(name) or b""))
        except ValueError:
            continue  # a damaged file: the chain stops where it was
    return certs


def chain_from(cert: x509.Certificate, candidates: list[x509.Certificate]
               ) -> tuple[x509.Certificate, ...]:
    """`cert` and the CA certificates above it, as far as `candidates` reach."""
    chain = [cert]
    current = cert
    while current.issuer != current.subject and len(chain) < MAX_CHAIN:
        parent = next((c for c in candidates if c.subject == current.issuer
                       and c not in chain and x509util.verify_signature(
                           current, c.public_key())),
                      None)
        if parent is None:
            break
        chain.append(parent)
        current = parent
    return tuple(chain)


def restore_chains(nvram: Nvram, trustpoints: Iterable[Trustpoint]) -> None:
    """At boot: give each authenticated trustpoint its CA chain back, and a trustpoint
    with `enrollment mode ra` the RA certificates its CA issued (chosen: kept among the
    CA files, as IOS keeps them in its public key chain), which its requests go to."""
    candidates: list[x509.Certificate] | None = None
    for tp in trustpoints:
        if tp.ca_cert is None or tp.ca_chain:
            continue
        if candidates is None:
            candidates = stored_ca_certificates(nvram)
        tp.ca_chain = chain_from(tp.ca_cert, candidates)
        if tp.options.enrollment_mode_ra:
            tp.ra_certs = tuple(c for c in candidates if _ra_of(c, tp.ca_cert))


def _ra_of(cert: x509.Certificate, ca_cert: x509.Certificate) -> bool:
    """`cert` is an RA's (no CA, `ioscs RA` in its name) issued by `ca_cert`."""
    return (cert.issuer == ca_cert.subject and not x509util.can_sign_certificates(cert)
            and names_ra(cert.subject) and x509util.verify_signature(cert, ca_cert.public_key()))


# -- pending requests ---------------------------------------------------------------------
def pending_file(trustpoint: str) -> str:
    return f"{trustpoint}.req"


def save_pending(write: Writer, trustpoint: str, csr: x509.CertificateSigningRequest
                 ) -> None:
    write(pending_file(trustpoint), x509util.csr_pem(csr))


def drop_pending(nvram: Nvram, trustpoint: str) -> None:
    nvram.delete(pending_file(trustpoint))


def load_pending(nvram: Nvram, trustpoint: str) -> x509.CertificateSigningRequest | None:
    """The saved request of `trustpoint`, or None (none saved, or unreadable)."""
    data = nvram.read(pending_file(trustpoint))
    if data is None:
        return None
    try:
        return x509.load_pem_x509_csr(data)
    except ValueError:
        return None
