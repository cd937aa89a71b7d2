"""`debug crypto pki validation` and `callbacks`: the lines a router prints as it checks
and installs a certificate it was granted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography import x509

from sim.pki import x509util
from sim.router.state import Trustpoint

if TYPE_CHECKING:
    from sim.router.router import Router


def debug_validation(router: Router, tp: Trustpoint, cert: x509.Certificate) -> None:
    """`debug crypto pki validation` and `callbacks` as the granted certificate is
    installed: the chain IOS checks it against (the trustpoint's CA certificate) and the
    outcome. chosen: the wording follows IOS 15's `CRYPTO_PKI:` validation lines as
    recalled ("Verify chain of certs, Anchor = TP", "Certificate validated"); the
    reference records none of them. The check itself is real: the signature is verified
    with the CA certificate's key."""
    if not {"pki-validation", "pki-callbacks"} & router.running.debug:
        return
    router.debug_line("pki-callbacks", f"CRYPTO_PKI: Enrollment callback for trustpoint {tp.name}")
    ca = tp.ca_cert
    router.debug_line("pki-validation", f"CRYPTO_PKI: Verify chain of certs, Anchor = {tp.name}")
    if ca is None:
        router.debug_line("pki-validation", "CRYPTO_PKI: No trusted CA certificate")
        return
    router.debug_line("pki-validation",
                      f"CRYPTO_PKI: Found a issuer match: {x509util.format_dn_ios(ca.subject)}")
    valid = x509util.verify_signature(cert, ca.public_key())
    router.debug_line("pki-validation", "CRYPTO_PKI: Certificate validated" if valid
                      else "CRYPTO_PKI: Certificate signature is not valid")
