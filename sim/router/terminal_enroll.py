"""Cut-and-paste enrollment: a trustpoint with `enrollment terminal [pem]`, and the
commands that move certificates through the console instead of SCEP.

IOS's dialogue (cisco-client-docs.md 3, cisco-cs.md 15 [V T-17]):

- `crypto pki authenticate TP` asks for the CA certificate: `Enter the base 64 encoded CA
  certificate.` / `End with a blank line or the word "quit" on a line by itself`, then
  shows its fingerprints and asks `% Do you accept this certificate? [yes/no]:` (or checks
  the trustpoint's `fingerprint`), and says `% Certificate successfully imported`;
- `crypto pki enroll TP` asks the subject questions, then `Display Certificate Request to
  terminal? [yes/no]:`, prints `Certificate Request follows:`, the PKCS#10 in base64 (64
  characters a line; between PEM header lines with `pem`), `---End - This line not part
  of the certificate request---` and asks `Redisplay enrollment request? [yes/no]:`;
- `crypto pki import TP certificate` reads the granted certificate back: `Enter the base
  64 encoded certificate.` ... `% Router Certificate successfully imported`;
- `crypto pki export TP pem terminal` prints the CA certificate and the router's
  certificate in PEM (`% CA certificate:`, `% Certificate:`).

The request and the certificates are also recorded as artifacts (`TP.csr.pem`,
`TP.cert.pem`, `TP.export-ca.pem`, ...), which a scenario can paste at another router
(`input: [{from: {router: ..., artifact: ...}}]`, `sim.scenario.builder`).

A paste ends at a blank line or `quit`; when a scenario's answers run out, the paste ends
there (`Session.read_pasted_line`).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.kernel.process import SimProcess
from sim.pki import scep, x509util
from sim.router.console import Session
from sim.router.pem_legacy import encrypted_private_pem
from sim.router.pki_client import accept_ca_certificate, request_extensions
from sim.router.state import Trustpoint
from sim.router.trustpoint_settings import TerminalFormat

END_OF_PASTE = 'End with a blank line or the word "quit" on a line by itself'
REQUEST_END = "---End - This line not part of the certificate request---"
REDISPLAY_TRIES = 5
"""How often `Redisplay enrollment request?` may be answered yes (pkilab's bound, so a
scenario that answers yes for ever cannot loop)."""


# -- reading a paste -----------------------------------------------------------------------
def read_paste(s: Session) -> SimProcess[list[str]]:
    """The pasted lines up to a blank line or `quit` (neither kept)."""
    pasted: list[str] = []
    while True:
        line = yield from s.read_pasted_line()
        if line is None or not line.strip() or line.strip().lower() == "quit":
            return pasted
        pasted.append(line.strip())


def decode_pasted(lines: list[str]) -> bytes | None:
    """The DER inside pasted base64 or PEM text (header lines and blanks ignored, the
    first PEM block taken); None when it is not base64."""
    body: list[str] = []
    for line in lines:
        if line.startswith("-----END"):
            if body:
                break
            continue
        if line.startswith("-----") or ":" in line:
            continue  # a PEM header line, or a `Proc-Type:` style field
        body.append(line)
    try:
        der = base64.b64decode("".join(body), validate=True)
    except (binascii.Error, ValueError):
        return None
    return der or None


def _pasted_certificate(lines: list[str]) -> x509.Certificate | None:
    der = decode_pasted(lines)
    if der is None:
        return None
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        return None


NOT_A_CERTIFICATE = "% The pasted text is not a base64 or PEM encoded certificate."
"""chosen: pkilab's wording (IOS's answer to a bad paste was not captured)."""


# -- crypto pki authenticate ---------------------------------------------------------------
def authenticate_terminal(s: Session, tp: Trustpoint) -> SimProcess[bool]:
    """`crypto pki authenticate TP` on an `enrollment terminal` trustpoint."""
    router = s.router
    s.write("Enter the base 64 encoded CA certificate.")
    s.write(END_OF_PASTE)
    cert = _pasted_certificate((yield from read_paste(s)))
    if cert is None:
        s.write(NOT_A_CERTIFICATE)
        return False
    if not x509util.can_sign_certificates(cert):
        # chosen: pkilab's wording; a router certificate pasted by mistake is refused here
        # rather than later, when nothing it signed verifies.
        s.write("% The certificate is not a CA certificate (no basicConstraints CA:TRUE).")
        router.emit("pki", "ca.rejected", trustpoint=tp.name, reason="not a CA")
        return False
    return (yield from accept_ca_certificate(s, tp, [cert],
                                             imported=("% Certificate successfully imported",),
                                             terminal=True))


# -- crypto pki enroll ---------------------------------------------------------------------
def request_for(s: Session, tp: Trustpoint, key: rsa.RSAPrivateKey, subject: x509.Name,
                challenge: str | None) -> x509.CertificateSigningRequest:
    """The PKCS#10 a cut-and-paste enrollment prints: what the SCEP client would send
    (`sim.pki.scep.make_csr`) with the trustpoint's extensions and hash."""
    return scep.make_csr(key, subject, challenge_password=challenge,
                         hash_name=tp.options.hash or "sha256",
                         extensions=request_extensions(tp))


def request_text(csr: x509.CertificateSigningRequest, pem: bool) -> list[str]:
    """The request as IOS prints it: base64 in 64-character lines, between PEM header
    lines with `enrollment terminal pem`."""
    if pem:
        return x509util.csr_pem(csr).decode().splitlines()
    text = base64.b64encode(x509util.csr_der(csr)).decode()
    return [text[i:i + 64] for i in range(0, len(text), 64)]


def enroll_terminal(s: Session, tp: Trustpoint, key: rsa.RSAPrivateKey, subject: x509.Name,
                    challenge: str | None) -> SimProcess[None]:
    """The end of `crypto pki enroll TP` for `enrollment terminal [pem]`: the request is
    displayed instead of sent, and kept for `crypto pki import TP certificate`.

    chosen: answering no to `Display Certificate Request to terminal?` ends the command
    with nothing kept (the reference shows only the yes branch)."""
    router = s.router
    if not (yield from s.ask_yes_no("Display Certificate Request to terminal? [yes/no]:")):
        return
    csr = request_for(s, tp, key, subject, challenge)
    tp.terminal_request = csr
    router.record_artifact(f"{tp.name}.csr.pem", x509util.csr_pem(csr))
    router.emit("pki", "enroll.terminal", trustpoint=tp.name,
                subject=x509util.format_dn_ios(subject))
    lines = request_text(csr, tp.options.enrollment_terminal is TerminalFormat.PEM)
    for _shown in range(REDISPLAY_TRIES):
        s.write("Certificate Request follows:")
        s.write("")
        s.write_lines(lines)
        if tp.options.enrollment_terminal is TerminalFormat.PEM:
            s.write("")  # chosen: a blank line between the PEM footer and IOS's own
        s.write(REQUEST_END)
        s.write("")
        if not (yield from s.ask_yes_no("Redisplay enrollment request? [yes/no]:")):
            return


# -- enrollment selfsigned -----------------------------------------------------------------
SELF_SIGNED_END = datetime(2020, 1, 1, tzinfo=UTC)
"""IOS's self-signed certificates end at 00:00:00 UTC Jan 1 2020 (the well-known expiry of
every IOS self-signed certificate made before the fix)."""


def enroll_selfsigned(s: Session, tp: Trustpoint, key: rsa.RSAPrivateKey,
                      subject: x509.Name) -> SimProcess[None]:
    """The end of `crypto pki enroll TP` for `enrollment selfsigned` (persistent
    self-signed certificates, 12.3(14)T): `Generate Self Signed Router Certificate?
    [yes/no]:`, then `Router Self Signed Certificate successfully created`.

    chosen: serial 1, signed with the trustpoint's `hash` (sha256 by default), valid from
    now to IOS's Jan 1 2020 while that is ahead, else for ten years; built like the
    certificate server's own CA certificate (CA:TRUE), as IOS's self-signed certificates
    are."""
    router = s.router
    if not (yield from s.ask_yes_no("Generate Self Signed Router Certificate? [yes/no]:")):
        return
    now = router.clock.now().replace(microsecond=0)
    end = SELF_SIGNED_END if SELF_SIGNED_END > now else now + timedelta(days=3650)
    cert = x509util.make_ca_certificate(key, subject, 1, now, end,
                                        hash_name=tp.options.hash or "sha256")
    tp.id_cert = cert
    router.record_artifact(f"{tp.name}.cert.pem", x509util.cert_pem(cert))
    router.emit("pki", "self-signed", trustpoint=tp.name,
                subject=x509util.format_dn_ios(subject))
    s.write("")
    s.write("Router Self Signed Certificate successfully created")


# -- crypto pki import TP certificate ------------------------------------------------------
def import_certificate(s: Session, tp: Trustpoint) -> SimProcess[None]:
    """`crypto pki import TP certificate`: the router certificate the CA granted for the
    request `crypto pki enroll` printed, pasted back. It must be issued by the
    trustpoint's CA for the trustpoint's key pair (chosen: pkilab's checks and wording;
    the reference gives only the success line)."""
    router = s.router
    if tp.ca_cert is None:
        s.write("% You must authenticate the Certificate Authority before you can import "
                "the router's certificate.")
        return
    s.write("")
    s.write("Enter the base 64 encoded certificate.")
    s.write(END_OF_PASTE)
    cert = _pasted_certificate((yield from read_paste(s)))
    if cert is None:
        s.write(NOT_A_CERTIFICATE)
        return
    if not x509util.verify_signature(cert, tp.ca_cert.public_key()):
        s.write(f"% The certificate was not issued by the CA of trustpoint {tp.name}.")
        return
    key = _matching_key(s, tp, cert)
    if key is None:
        s.write(f"% The certificate's public key does not match the key pair of "
                f"trustpoint {tp.name}.")
        return
    tp.id_cert = cert
    tp.terminal_request = None
    router.record_artifact(f"{tp.name}.cert.pem", x509util.cert_pem(cert))
    router.emit("pki", "enroll.granted", trustpoint=tp.name, serial=cert.serial_number,
                subject=x509util.format_dn_ios(cert.subject), terminal=True)
    s.write("% Router Certificate successfully imported")
    router.enroll_host.arm_renewal(tp)


def _matching_key(s: Session, tp: Trustpoint, cert: x509.Certificate
                  ) -> rsa.RSAPrivateKey | None:
    """The trustpoint's key pair if the certificate carries it (the key is never made
    here: a certificate for a key the router does not hold is refused)."""
    label = tp.rsakeypair or s.router.running.fqdn
    pair = s.router.running.keys.get(label)
    public = cert.public_key()
    if (pair is not None and isinstance(public, rsa.RSAPublicKey)
            and public.public_numbers() == pair.key.public_key().public_numbers()):
        return pair.key
    return None


# -- crypto pki export TP pem terminal -----------------------------------------------------
def export_pem_terminal(s: Session, tp: Trustpoint, cipher: str | None = None,
                        passphrase: str | None = None) -> None:
    """`crypto pki export TP pem terminal [{des|3des} password PW]`: the trustpoint's CA
    certificate, its key pair encrypted with PW (when a cipher is given) and its router
    certificate in PEM, after `% CA certificate:`, `% Key name: L` / `   Usage: General
    Purpose Key` and `% Certificate:` (cisco-client-docs.md 3 [R?]). The key must be
    exportable ("Requires an exportable key"). chosen: a blank line after each block;
    pkilab's wording for a trustpoint with nothing to export; the key's refusal is the
    one `crypto key export` prints."""
    router = s.router
    if tp.ca_cert is None and tp.id_cert is None:
        s.write(f"% Trustpoint {tp.name} has no certificate to export.")
        return
    key_pem = b""
    label = tp.rsakeypair or router.running.fqdn
    if cipher is not None and passphrase is not None:
        pair = router.running.keys.get(label)
        if pair is None:
            s.write(f"% Trustpoint {tp.name} has no key pair ({label}) to export.")
            return
        if not pair.exportable:
            s.write(f"% RSA keypair {label} is not exportable.")
            return
        key_pem = encrypted_private_pem(pair.key, passphrase, cipher, router.random_bytes(8))
    if tp.ca_cert is not None:
        pem = x509util.cert_pem(tp.ca_cert)
        s.write("% CA certificate:")
        s.write_lines(pem.decode().splitlines())
        s.write("")
        router.record_artifact(f"{tp.name}.export-ca.pem", pem)
    if key_pem:
        s.write(f"% Key name: {label}")
        s.write("   Usage: General Purpose Key")
        s.write_lines(key_pem.decode().splitlines())
        s.write("")
        router.record_artifact(f"{tp.name}.export-key.pem", key_pem)
    if tp.id_cert is not None:
        pem = x509util.cert_pem(tp.id_cert)
        s.write("% Certificate:")
        s.write_lines(pem.decode().splitlines())
        s.write("")
        router.record_artifact(f"{tp.name}.export-cert.pem", pem)

