"""PKI commands: trustpoint authentication and enrollment, and the certificate server's
request desk (`crypto pki server NAME grant|reject|remove|info requests|request pkcs10`)."""

from __future__ import annotations

import base64
import re
from typing import Any

from cryptography import x509

from sim.kernel.clock import format_ios_timer
from sim.kernel.process import SimProcess
from sim.net.topology import normalise_address
from sim.pki import cs_desk, scep_policy, x509util
from sim.pki.ca_requests import EnrollmentRequest, RequestState, render_requests
from sim.pki.cs_server import CertificateServer
from sim.pki.scep_client import scep_endpoint
from sim.router import terminal_enroll
from sim.router.cli_parser import Match
from sim.router.command_table import CommandTable
from sim.router.console import Session
from sim.router.enroll_credential import credential_signer
from sim.router.pki_client import (
    authenticate,
    fetch_crl,
    request_subject,
    start_enrollment,
    trustpoint_key,
)
from sim.router.state import Trustpoint


def not_run_at_boot(s: Session) -> bool:
    """True (after saying so) when a line that needs the console and the network, like
    `crypto pki authenticate` or `do ...`, comes from the startup-config being loaded.

    IOS never saves these lines; one written into a scenario's startup-config cannot hold
    its dialogue while the router boots, so it is skipped with a line on the console
    (pkilab's choice and wording). Type it in a `cli` event instead.
    """
    if not s.booting:
        return False
    s.write(f"% {s.current_line.strip()}: not run from the startup configuration")
    return True


def known_trustpoint(s: Session, name: str) -> Trustpoint | None:
    """The trustpoint `name`, or None after IOS's `% Certificate Authority (trustpoint)
    NAME is unknown`."""
    tp = s.router.running.trustpoints.get(name)
    if tp is None:
        s.write(f"% Certificate Authority (trustpoint) {name} is unknown")
    return tp


def crypto_pki_authenticate(s: Session, m: Match) -> SimProcess[None]:
    if not_run_at_boot(s):
        return
    tp = known_trustpoint(s, str(m.args["tp"]))
    if tp is None:
        return
    if tp.ca_cert is not None:
        s.write("% Please delete your existing CA certificate first.")
        s.write(f"% You must use 'no crypto pki trustpoint {tp.name}' to delete the CA "
                "certificate.")
        return
    if tp.options.enrollment_terminal:
        yield from terminal_enroll.authenticate_terminal(s, tp)
        return
    yield from authenticate(s, tp)


def _usable_enrollment_url(s: Session, tp: Any, purpose: str) -> bool:
    """The trustpoint's `enrollment url` names an HTTP SCEP server; say why not otherwise.

    The missing-URL line is the wording the seed shows for `crypto pki authenticate`, with
    the purpose swapped in; the bad-URL line is pkilab's, the same `authenticate` prints.
    """
    if not tp.enrollment_url:
        s.write(f"You must specify an enrollment URL for this CA before you can {purpose}.")
        return False
    try:
        scep_endpoint(tp.enrollment_url)
    except ValueError as bad:
        s.write(f"% {bad}")
        return False
    return True


REQUEST_HASH = "sha256"
"""The least a request's signature is built with (SCEP messages, PKCS#10, the GetCRL
signer): see `x509util.min_signing_bits`."""


def _key_can_sign(s: Session, tp: Any, key: Any) -> bool:
    """The trustpoint's key is long enough for pkilab to sign its requests with.

    IOS accepts keys from 360 bits because 12.3 signed with MD5; pkilab builds every
    signature with SHA-256 first, which needs 496. pkilab's wording.
    """
    need = max(x509util.min_signing_bits(REQUEST_HASH),
               x509util.min_signing_bits(tp.options.hash or REQUEST_HASH))
    if key.key_size >= need:
        return True
    s.write(f"% The key pair of trustpoint {tp.name} has {key.key_size} bits, too few to "
            f"sign a request: it needs at least {need}.")
    return False


def crypto_pki_enroll(s: Session, m: Match) -> SimProcess[None]:
    if not_run_at_boot(s):
        return
    router = s.router
    tp = known_trustpoint(s, str(m.args["tp"]))
    if tp is None:
        return
    if tp.name in router.running.servers:
        # pkilab's wording: the server's own trustpoint holds its CA certificate, which the
        # server makes (root) or enrolls for itself at `no shutdown` (sub-cs); a router
        # certificate enrolled over it would replace the sub-CA's signing certificate.
        s.write(f"% Trustpoint {tp.name} is the trustpoint of certificate server {tp.name};")
        s.write("% the server manages its certificate. Enroll another trustpoint instead.")
        return
    terminal = tp.options.enrollment_terminal is not None
    selfsigned = tp.options.enrollment_selfsigned
    if tp.ca_cert is None and not selfsigned:
        s.write("% You must authenticate the Certificate Authority before you can enroll "
                "with it.")
        return
    if not (terminal or selfsigned) and not _usable_enrollment_url(s, tp, "enroll with it"):
        return
    if tp.id_cert is not None:
        s.write(f"% Trustpoint {tp.name} has already enrolled and has a router cert issued "
                "to it.")
        s.write("% If you successfully re-enroll this trustpoint,the existing certificate "
                "will be replaced.")
        if not (yield from s.ask_yes_no("% Do you want to continue with re-enrollment? "
                                        "[yes/no]:")):
            return
    s.write("%")
    s.write("% Start certificate enrollment ..")
    challenge = tp.password
    # chosen: cut-and-paste and self-signed enrollment ask no challenge password (the
    # reference leaves it open; Cisco's cut-and-paste examples show none): the request
    # carries `password` when one is configured.
    if challenge is None and not (terminal or selfsigned):
        s.write("% Create a challenge password. You will need to verbally provide this")
        s.write("   password to the CA Administrator in order to revoke your certificate.")
        s.write("   For security reasons your password will not be saved in the "
                "configuration.")
        s.write("   Please make a note of it.")
        s.write("")
        challenge = yield from s.ask("Password:", secret=True)
        again = yield from s.ask("Re-enter password:", secret=True)
        if challenge != again:
            s.write("% Passwords do not match.")
            return
    s.write("")
    try:
        # Of the name `request_subject` builds below, only `subject-name` can be refused;
        # it is read here, before the questions, without building a name to throw away.
        if tp.subject_name:
            x509util.parse_dn(tp.subject_name)
    except ValueError as bad:  # a subject-name that predates its check when typed
        s.write(f"% {bad}")
        return
    if tp.subject_name:
        s.write(f"% The subject name in the certificate will include: {tp.subject_name}")
    fqdn = tp.request_fqdn(router.running.fqdn)  # `fqdn NAME|none`
    if fqdn is not None:
        s.write(f"% The subject name in the certificate will include: {fqdn}")
    serial = None
    if tp.serial_number is None:
        include = yield from s.ask_yes_no("% Include the router serial number in the "
                                          "subject name? [yes/no]:")
    else:
        include = tp.serial_number
    if include:
        serial = router.serial_number
        s.write(f"% The serial number in the certificate will be: {serial}")
    if tp.ip_address is None:
        ip_address = yield from _ask_ip_address(s)
    else:
        ip_address = _configured_ip_address(s, tp.ip_address)
    subject = request_subject(router, tp, serial=serial, ip_address=ip_address)
    if not subject.rdns:
        # chosen: pkilab's wording; a request with no name at all (`fqdn none` and nothing
        # else) is refused before anything is made.
        s.write("% The request would have an empty subject name; configure subject-name.")
        return
    if terminal or selfsigned:
        key = trustpoint_key(router, tp)
        if not _key_can_sign(s, tp, key):
            return
        if selfsigned:
            yield from terminal_enroll.enroll_selfsigned(s, tp, key, subject)
            return
        if router.release.enroll_manual_syslog:
            # chosen: XE announces a cut-and-paste enrollment as it does a typed SCEP one.
            router.log(f"%PKI-6-CERT_ENROLL_MANUAL: Manual enrollment for trustpoint {tp.name}")
        yield from terminal_enroll.enroll_terminal(s, tp, key, subject, challenge)
        return
    asked = tp.password is None or tp.serial_number is None or tp.ip_address is None
    if ((asked or not router.release.quiet_enrollment)
            and not (yield from s.ask_yes_no("Request certificate from CA? [yes/no]:"))):
        return
    key = trustpoint_key(router, tp)
    if not _key_can_sign(s, tp, key):
        return
    s.write("% Certificate request sent to Certificate Authority")
    s.write(f"% The 'show crypto pki certificate verbose {tp.name}' commandwill show the "
            "fingerprint.")
    if router.release.enroll_manual_syslog:
        # chosen: logged as the request leaves, before the client's fingerprint lines.
        router.log(f"%PKI-6-CERT_ENROLL_MANUAL: Manual enrollment for trustpoint {tp.name}")
    start_enrollment(router, tp, key=key, subject=subject, ca_request=False,
                     challenge=challenge or None, renew=credential_signer(s, tp, key))


IP_ADDRESS_TRIES = 3
"""How often `Enter Interface name or IP Address[]:` is asked again after a bad answer
before the request goes without an address (pkilab's bound: IOS repeats the question,
and a scenario that ran out of answers must not loop)."""


def _ask_ip_address(s: Session) -> SimProcess[str | None]:
    """`% Include an IP address in the subject name? [no]:`; on yes, the address (or an
    interface: this router's own address, as it models one interface) goes into the
    request, as IOS's `ipaddress=` (cisco-cs.md section 7 and the dialogue in section 16)."""
    answer = (yield from s.ask("% Include an IP address in the subject name? [no]:")).strip()
    if not answer.lower().startswith("y"):
        return None
    for _try in range(IP_ADDRESS_TRIES):
        given = (yield from s.ask("Enter Interface name or IP Address[]:")).strip()
        address = normalise_address(given)
        if address is not None:
            return address
        if given and looks_like_interface(given):
            return s.router.address
        s.write("% Bad interface or address. Try again.")
    return None


def _configured_ip_address(s: Session, configured: str) -> str | None:
    """The address a trustpoint's `ip-address` puts in the request: none for `none`, this
    router's own address for an interface (it models one), else the address itself.
    chosen: nothing is printed about it (the reference gives no line for this case)."""
    if configured == "none":
        return None
    return normalise_address(configured) or s.router.address


def looks_like_interface(name: str) -> bool:
    """An IOS interface name such as `Ethernet0/0`, `GigabitEthernet1`, `Loopback0`."""
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z-]*\d+(?:/\d+)*(?:\.\d+)?", name))


def crypto_pki_crl_request(s: Session, m: Match) -> SimProcess[None]:
    if not_run_at_boot(s):
        return
    tp = known_trustpoint(s, str(m.args["tp"]))
    if tp is None:
        return
    if tp.ca_cert is None:
        s.write("% You must authenticate the Certificate Authority before you can request "
                "its CRL.")
        return
    if not _usable_enrollment_url(s, tp, "request its CRL"):
        return
    if not _key_can_sign(s, tp, trustpoint_key(s.router, tp)):
        return
    if not (yield from fetch_crl(s.router, tp)):
        s.write(f"% CRL request for trustpoint {tp.name} failed.")


# -- the certificate server's request desk --------------------------------------------
def _server(s: Session, name: str) -> CertificateServer | None:
    cs = s.router.running.servers.get(name)
    if cs is None:
        s.write(f"Certificate server '{name}' is not known")
    return cs


def cs_request_operation(s: Session, m: Match) -> SimProcess[None]:
    """`crypto pki server NAME grant|reject|remove all|ID` (silent on success, as IOS)."""
    router = s.router
    cs = _server(s, str(m.args["name"]))
    if cs is None:
        return
    verb = next(k for k in m.keywords if k in ("grant", "reject", "remove"))
    if "all" in m.keywords:
        wanted = RequestState.PENDING if verb != "remove" else None
        ids = cs.requests.ids(wanted)
    else:
        ids = [m.integer("id")]
    for req_id in ids:
        if req_id not in cs.requests:
            s.write(f"% Enrollment request {req_id} not found.")
            continue
        pair = router.running.keys.get(cs.name)
        try:
            if verb == "grant":
                effects = cs_desk.grant(cs, req_id, router.clock.now(),
                                        pair.key if pair else None)
            elif verb == "reject":
                effects = cs_desk.reject(cs, req_id)
            else:
                effects = cs_desk.remove(cs, req_id)
        except cs_desk.DeskError as refused:
            s.write(str(refused))
            continue
        except ValueError as unusable:  # a request the server cannot sign for
            s.write(f"% Enrollment request {req_id}: {unusable}.")
            continue
        router.emit("cs", f"request.{verb}", server=cs.name, req_id=req_id)
        yield from router.server_host.apply(cs, effects)


def cs_revoke(s: Session, m: Match) -> SimProcess[None]:
    """`crypto pki server NAME revoke SERIAL` (hex with 0x, or decimal, as IOS takes it)."""
    router = s.router
    cs = _server(s, str(m.args["name"]))
    if cs is None:
        return
    text = str(m.args["serial"]).lower()
    try:
        serial = int(text, 16) if text.startswith("0x") else int(text)
    except ValueError:
        s.write(f"% Invalid serial number {m.args['serial']}")
        return
    pair = router.running.keys.get(cs.name)
    try:
        effects = cs_desk.revoke(cs, serial, router.clock.now(), pair.key if pair else None)
    except cs_desk.DeskError as refused:
        s.write(str(refused))
        return
    router.emit("cs", "revoked", server=cs.name, serial=serial)
    yield from router.server_host.apply(cs, effects)
    s.write(f"% Certificate {serial:02X} succesfully revoked.")  # sic: IOS's spelling


def cs_info_crl(s: Session, m: Match) -> None:
    """`crypto pki server NAME info crl` (12.3T) / `show crypto pki server NAME crl`."""
    cs = _server(s, str(m.args["name"]))
    if cs is None:
        return
    crl = cs.crl
    if crl is None or cs.crl_der is None:
        s.write("% No CRL has been published yet.")
        return
    entries = sorted(crl, key=lambda e: e.serial_number)
    s.write_lines([
        "Certificate Revocation List:",
        f"    Issuer: {x509util.format_dn_ios(crl.issuer)}",
        f"    This Update: {format_ios_timer(crl.last_update_utc)}",
        f"    Next Update: {format_ios_timer(crl.next_update_utc)}"
        if crl.next_update_utc else "    Next Update: none",
        f"    Number of CRL entries: {len(entries)}",
        f"    CRL size: {len(cs.crl_der)} bytes",
    ])
    if entries:
        s.write("Revoked Certificates:")
    for entry in entries:
        s.write(f"    Serial Number (hex): {entry.serial_number:02X}")
        s.write(f"    Revocation Date: {format_ios_timer(entry.revocation_date_utc)}")


def cs_info_requests(s: Session, m: Match) -> None:
    cs = _server(s, str(m.args["name"]))
    if cs is not None:
        s.write_lines(render_requests(cs.requests, s.router.release.requests_width))


def cs_request_pkcs10(s: Session, m: Match) -> SimProcess[None]:
    """Manual enrollment by cut and paste; works while the HTTP server is off."""
    router = s.router
    cs = _server(s, str(m.args["name"]))
    if cs is None:
        return
    s.write("% Enter Base64 encoded or PEM formatted PKCS10 enrollment request.")
    s.write('% End with a blank line or "quit" on a line by itself.')
    pasted: list[str] = []
    while True:
        line = yield from s.read_pasted_line()
        if line is None or not line.strip() or line.strip().lower() == "quit":
            break
        pasted.append(line.strip())
    csr = _decode_csr(pasted)
    if csr is None:
        s.write("% Invalid PKCS10 request.")
        return
    entry = yield from file_pkcs10(s, cs, csr)
    if entry is None:
        return
    if entry.state is RequestState.GRANTED and entry.certificate_der is not None:
        s.write("% Granted certificate:")
        text = base64.b64encode(entry.certificate_der).decode()
        s.write_lines(text[i:i + 64] for i in range(0, len(text), 64))
        s.write("")
        router.record_artifact(f"{cs.name}-{entry.serial:X}.cert.pem",
                               x509util.cert_pem(x509util.load_cert(entry.certificate_der)))
    elif entry.state is RequestState.REJECTED:
        s.write(f"% Enrollment request rejected, reqId={entry.req_id}")
    else:
        s.write(f"% Enrollment request pending, reqId={entry.req_id}")


def _decode_csr(lines: list[str]) -> x509.CertificateSigningRequest | None:
    body = "".join(line for line in lines if not line.startswith("-----"))
    try:
        return x509.load_der_x509_csr(base64.b64decode(body, validate=False))
    except ValueError:
        return None


EXEC_PKI_COMMANDS: CommandTable = [
    ("crypto pki server <name:LABEL> {grant|reject|remove} {all|<id:1-2147483647>}",
     cs_request_operation, {}),
    ("crypto pki server <name:LABEL> info requests", cs_info_requests, {}),
    ("crypto pki server <name:LABEL> info crl", cs_info_crl, {}),
    ("crypto pki server <name:LABEL> revoke <serial:WORD>", cs_revoke, {}),
    ("show crypto pki server <name:LABEL> crl", cs_info_crl, {}),
    ("crypto pki server <name:LABEL> request pkcs10 terminal [{pem|base64}]",
     cs_request_pkcs10, {}),
    ("show crypto pki server <name:LABEL> requests", cs_info_requests, {}),
]

CONFIG_PKI_COMMANDS: CommandTable = [
    ("crypto pki authenticate <tp:LABEL>", crypto_pki_authenticate, {}),
    ("crypto pki enroll <tp:LABEL>", crypto_pki_enroll, {}),
    ("crypto pki crl request <tp:LABEL>", crypto_pki_crl_request, {}),
]


def file_pkcs10(s: Session, cs: CertificateServer, csr: x509.CertificateSigningRequest
                ) -> SimProcess[EnrollmentRequest | None]:
    """A PKCS#10 handed to the server by an operator (`request pkcs10 terminal|url`):
    checked as a SCEP request is (RSA 360-4096 bits, proof of possession; the wording
    after the colon is pkilab's), filed and granted or not by the grant mode. The entry
    as it stands afterwards; None, after saying why, when it was refused."""
    router = s.router
    checked = scep_policy.load_request(x509util.csr_der(csr))
    if isinstance(checked, scep_policy.Refusal):
        s.write(f"% Invalid PKCS10 request: {checked.text}.")
        return None
    pair = router.running.keys.get(cs.name)
    try:
        entry, effects = cs_desk.submit(cs, x509util.csr_der(csr), None, "terminal",
                                        router.clock.now(), pair.key if pair else None)
    except (ValueError, cs_desk.DeskError) as refused:
        s.write(f"% {refused}")
        return None
    yield from router.server_host.apply(cs, effects)
    return cs.requests.get(entry.req_id)
