"""Certificate-server storage, backup and restore commands, and the file commands under
them (issue 11, "Certificate server backup, restore and storage").

cs-server mode: `database url {cnm|crl|crt|p12|pem|ser} [publish] URL`, `database username
U [password P]`, `serial-number 0xN`, `redundancy`. Global configuration: `tftp-server
flash:PATH`, `crypto pki export TP pkcs12 URL password PW`, `crypto pki import TP pkcs12
URL password PW`. EXEC: `copy SRC DST`, `delete URL`, `dir flash:`, `erase flash:`, and
the request desk's `unrevoke`, `request pkcs10 url` and `password generate`.

Files are read and written through `sim.router.filesystems` (`nvram:`, `flash:`,
`tftp://HOST/PATH`). The documented restore (cisco-cs.md 10): after `no crypto pki
server` and `erase nvram:`, `crypto pki import CS pkcs12 URL password PW` re-creates the
key pair, the trustpoint and its CA certificate; with the saved `.ser` and `.crl` back in
the database location (or `serial-number 0xN` when the `.ser` is lost) `crypto pki
server CS` / `no shutdown` brings the same CA back, issuing after the last serial.
"""

from __future__ import annotations

import base64

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sim.kernel.process import SimProcess
from sim.pki import cs_desk, x509util
from sim.pki.ca_requests import RequestState
from sim.pki.cs_archive import ArchiveError, pkcs12_bytes, read_pkcs12
from sim.pki.cs_locations import TypedUrl, with_typed_url, without_typed_url
from sim.pki.cs_server import CertificateServer
from sim.router import filesystems, password7, tftp
from sim.router.cli_parser import Match
from sim.router.command_table import CommandTable
from sim.router.console import Session
from sim.router.handlers_config import current_server, server_editable
from sim.router.handlers_pki import file_pkcs10, known_trustpoint, not_run_at_boot
from sim.router.keystore import KeyPair
from sim.router.state import Trustpoint

PKCS12_IMPORTED = "%CRYPTO-6-PKCS12IMPORT_SUCCESS: PKCS #12 Successfully Imported."
PKCS12_IMPORT_FAILED = "%CRYPTO-6-PKCS12IMPORT_FAIL: PKCS #12 Import Failed."
PKCS12_EXPORTED = "%CRYPTO-6-PKCS12EXPORT_SUCCESS: PKCS #12 Successfully Exported."
"""The IOS message catalogue's PKCS #12 syslogs, as recalled (not in the reference)."""


# -- cs-server mode ---------------------------------------------------------------------------
def _typed_url(s: Session, m: Match) -> None:
    """`database url {cnm|crl|crt|p12|pem|ser} [publish] URL` (cisco-cs.md 3, 10)."""
    cs = current_server(s)
    if not server_editable(s, cs):
        return
    kind = next(k for k in m.keywords if k in ("cnm", "crl", "crt", "p12", "pem", "ser"))
    publish = "publish" in m.keywords
    typed = cs.config.database_typed_urls
    if m.negated:
        url = m.args.get("url")
        cs.configure(database_typed_urls=without_typed_url(
            typed, kind, None if url is None else str(url), publish))
        return
    new = TypedUrl(kind, str(m.args["url"]), publish)
    if not publish and new not in typed and not s.booting:
        # The warning `database url ROOT` prints (cisco-cs.md 16 [V T-04]).
        s.write("% Server database url was changed. You need to move the")
        s.write("% existing database to the new location.")
    cs.configure(database_typed_urls=with_typed_url(typed, new))


def _database_username(s: Session, m: Match) -> None:
    """`database username U [password [0|7] P]`: the login for the database location
    (cisco-cs.md 3: "for FTP/HTTP storage"). pkilab's storage is nvram:, flash: and TFTP,
    none of which logs in, so it is kept and shown, not sent."""
    cs = current_server(s)
    if not server_editable(s, cs):
        return
    if m.negated:
        cs.configure(database_username=None, database_password=None)
        return
    password = m.args.get("password")
    if password is not None and "7" in m.keywords[m.keywords.index("password"):]:
        password = password7.decode(str(password))
        if password is None:
            s.write("% Invalid encrypted password.")  # as `database archive ... password 7`
            return
    cs.configure(database_username=str(m.args["user"]),
                 database_password=None if password is None else str(password))


def _parse_serial(text: str) -> int | None:
    """`0x1A` (hex) or `26` (decimal), as `revoke` takes a serial."""
    lowered = text.lower()
    try:
        value = int(lowered, 16) if lowered.startswith("0x") else int(lowered, 10)
    except ValueError:
        return None
    return value if 0 <= value < 2 ** 64 else None


def _serial_number(s: Session, m: Match) -> None:
    """`serial-number [0x]N`: the last serial number issued, for a server restored without
    its `.ser` file (cisco-cs.md 3, 10). The server issues N+1 next, and never goes back
    below a serial it already knows of (its `.ser`, its CRL)."""
    cs = current_server(s)
    if not server_editable(s, cs):
        return
    if m.negated:
        cs.configure(serial_number=None)
        return
    serial = _parse_serial(str(m.args["serial"]))
    if serial is None:
        s.write(f"% Invalid serial number {m.args['serial']}")  # as `revoke` says it
        return
    cs.configure(serial_number=serial)
    # `show` in cs-server mode prints the last issued serial: it is this from now on.
    cs.last_serial = max(cs.last_serial, serial)


def _redundancy(s: Session, m: Match) -> None:
    """`redundancy`: HA sync with a standby (cisco-cs.md 3 [D]); pkilab has no standby
    router, so the setting is kept and shown only."""
    cs = current_server(s)
    if server_editable(s, cs):
        cs.configure(redundancy=not m.negated)


CS_STORAGE_COMMANDS: CommandTable = [
    ("database url {cnm|crl|crt|p12|pem|ser} [publish] <url:WORD>", _typed_url,
     {"no_form": True}),
    ("database username <user:WORD> [password [{0|7}] <password:WORD>]", _database_username,
     {"no_form": True}),
    ("serial-number <serial:WORD>", _serial_number, {"no_form": True}),
    ("redundancy", _redundancy, {"no_form": True}),
]


# -- global configuration ----------------------------------------------------------------------
def _tftp_server(s: Session, m: Match) -> None:
    """`tftp-server flash:FILE` serves one file read-only (IOS); `tftp-server flash:FOLDER/`
    or `tftp-server flash:` serves a folder for reading and writing (see `sim.router.tftp`).
    Only flash is served (chosen: IOS also serves nvram: and rom: files)."""
    router = s.router
    path = str(m.args["path"])
    if m.negated:
        router.running.tftp_served = [p for p in router.running.tftp_served if p != path]
        return
    if filesystems.device_of(path) != "flash":
        s.write(f"%Error: {path} is not a flash: file or folder")  # chosen: pkilab's wording
        return
    if path not in router.running.tftp_served:
        router.running.tftp_served.append(path)
    tftp.serve(router)


def _usable_url(s: Session, url: str) -> str | None:
    """`url` with a bare name taken as a flash: file (IOS's working directory is flash:),
    or None after saying why no file can be named so: a device the router does not have,
    or a TFTP URL without a host."""
    where = filesystems.parse(url)
    if where.device == "":
        return f"flash:{url}"
    if where.device == "tftp" and not where.host:
        s.write(f"%Error parsing filename {url} (Bad IP address or host name)")  # chosen
        return None
    if where.device not in (*filesystems.LOCAL_DEVICES, "tftp"):
        s.write(f"%Error opening {url} (No such device)")
        return None
    return url


def _filename_asked(s: Session, url: str, question: str, default: str = ""
                    ) -> SimProcess[str]:
    """IOS's `Destination filename [NAME]?` / `Source filename [NAME]?`: Return keeps the
    name in the URL, an answer replaces it. A URL naming only a device or folder takes
    `default` (a copy's source file name) as its name."""
    where = filesystems.parse(url)
    name = where.path.rsplit("/", 1)[-1]
    if not name and default:
        url, name = url + default, default
    answer = (yield from s.ask(f"{question} [{name}]?")).strip()
    if not answer or answer == name:
        return url
    return url[: len(url) - len(name)] + answer if name else url + answer


def _export_pkcs12(s: Session, m: Match) -> SimProcess[None]:
    """`crypto pki export TP pkcs12 URL password PW`: the trustpoint's key pair, its
    certificate and its CA certificate in one PKCS #12 file (cisco-client-docs.md 3). The
    key pair must be exportable (chosen wording for the refusal)."""
    if not_run_at_boot(s):
        return
    router = s.router
    name = str(m.args["tp"])
    tp = known_trustpoint(s, name)
    if tp is None:
        return
    cert = tp.id_cert or tp.ca_cert
    label = tp.rsakeypair or (name if name in router.running.servers else router.running.fqdn)
    pair = router.running.keys.get(label)
    if cert is None or pair is None:
        s.write(f"% Trustpoint {name} has no certificate and key pair to export.")
        return
    if not pair.exportable:
        s.write(f"% The key pair {label} is not exportable.")
        return
    if cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo) \
            != x509util.public_key_der(pair.key):
        # chosen: pkilab's wording; the key was replaced after the certificate was issued.
        s.write(f"% The certificate of trustpoint {name} is not for key pair {label}.")
        return
    cas = tuple(c for c in (tp.ca_cert, *tp.ca_chain) if c is not None and c != cert)
    url = _usable_url(s, str(m.args["url"]))
    if url is None:
        return
    url = yield from _filename_asked(s, url, "Destination filename", f"{name}.p12")
    data = pkcs12_bytes(name, pair.key, cert, cas, str(m.args["password"]))
    failed = yield from filesystems.write(router, url, data)
    if failed is not None:
        s.write(failed.text)
        return
    router.emit("pki", "pkcs12.exported", trustpoint=name, url=url, size=len(data))
    router.log(PKCS12_EXPORTED)


def _import_pkcs12(s: Session, m: Match) -> SimProcess[None]:
    """`crypto pki import TP pkcs12 URL password PW`: the key pair (labelled TP), the
    trustpoint TP and its certificates back from a PKCS #12 file, such as the server's
    archive `<cs>.p12` (cisco-cs.md 10, "re-creates key + trustpoint + CA cert").

    A self-signed CA certificate alone (a root server's archive) becomes the trustpoint's
    CA certificate; otherwise the file's certificate is the trustpoint's own certificate
    and the first CA certificate with it its CA (a subordinate server's or a router's).
    chosen: refused while the trustpoint holds certificates or a key pair of that label
    exists (IOS asks the administrator to remove them first)."""
    if not_run_at_boot(s):
        return
    router = s.router
    name = str(m.args["tp"])
    existing = router.running.trustpoints.get(name)
    if existing is not None and (existing.ca_cert or existing.id_cert):
        s.write(f"% Trustpoint {name} already has certificates; "
                f"remove it first ('no crypto pki trustpoint {name}').")
        return
    if router.running.keys.get(name) is not None:
        s.write(f"% You already have RSA keys named {name}.")
        s.write("% Remove them first ('crypto key zeroize rsa "
                f"{name}') to import new ones.")
        return
    url = _usable_url(s, str(m.args["url"]))
    if url is None:
        return
    url = yield from _filename_asked(s, url, "Source filename", f"{name}.p12")
    data = yield from filesystems.read(router, url)
    if isinstance(data, filesystems.FsError):
        s.write(data.text)
        return
    try:
        contents = read_pkcs12(data, str(m.args["password"]))
    except ArchiveError as bad:
        router.emit("pki", "pkcs12.import-failed", trustpoint=name, reason=str(bad))
        router.log(PKCS12_IMPORT_FAILED)
        return
    tp = existing or Trustpoint(name)
    router.running.trustpoints[name] = tp
    tp.rsakeypair = tp.rsakeypair or name
    self_signed = contents.cert.issuer == contents.cert.subject
    if self_signed and not contents.ca_certs:
        tp.ca_cert = contents.cert
    else:
        tp.id_cert = contents.cert
        tp.ca_cert = contents.ca_certs[0] if contents.ca_certs else None
        tp.ca_chain = contents.ca_certs[1:]
    # chosen: an imported key pair is exportable: whoever holds the file holds the key.
    router.running.keys.put(KeyPair(tp.rsakeypair, contents.key, exportable=True,
                                    generated_at=router.clock.now()))
    router.emit("pki", "pkcs12.imported", trustpoint=name, url=url,
                serial=contents.cert.serial_number)
    router.log(PKCS12_IMPORTED)
    router.announce_key(tp.rsakeypair)


STORAGE_CONFIG_COMMANDS: CommandTable = [
    ("tftp-server <path:WORD>", _tftp_server, {"no_form": True, "no_requires_args": True}),
    ("crypto pki export <tp:LABEL> pkcs12 <url:WORD> password <password:WORD>",
     _export_pkcs12, {}),
    ("crypto pki import <tp:LABEL> pkcs12 <url:WORD> password <password:WORD>",
     _import_pkcs12, {}),
]


# -- EXEC: files -------------------------------------------------------------------------------
def dir_listing(s: Session, fs: str) -> None:
    """`dir [nvram:|flash:[FOLDER]]`."""
    where = filesystems.parse(fs)
    device = filesystems.local_device(s.router, where.device)
    if device is None or not fs.strip().lower().startswith(where.device + ":"):
        s.write(f"%Error opening {fs} (No such device)")
        return
    s.write_lines(device.listing(where.path))


def erase_flash(s: Session) -> SimProcess[None]:
    """`erase flash:` (the nvram form stays in `handlers_exec`)."""
    if not (yield from s.confirm("Erasing the flash filesystem will remove all files! "
                                 "Continue? [confirm]")):
        return
    s.write("Erasing device... eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee ...erased")
    s.router.flash.erase()
    s.router.emit("flash", "erase")
    s.write("Erase of flash: complete")


def _delete(s: Session, m: Match) -> SimProcess[None]:
    """`delete URL`: `Delete filename [NAME]?`, then `Delete URL? [confirm]`."""
    url = _usable_url(s, str(m.args["url"]))
    if url is None:
        return
    url = yield from _filename_asked(s, url, "Delete filename")
    if not (yield from s.confirm(f"Delete {url}? [confirm]")):
        return
    failed = filesystems.delete_local(s.router, url)
    if failed is not None:
        s.write(failed.text)


def _copy(s: Session, m: Match) -> SimProcess[None]:
    """`copy SRC DST` between nvram:, flash: and tftp:// files (and from `running-config`
    or `startup-config`): `Destination filename [NAME]?`, `!` for a TFTP transfer, then
    `N bytes copied in S secs`."""
    router = s.router
    named = next((k for k in m.keywords if k in ("running-config", "startup-config")), None)
    source = _usable_url(s, {"running-config": "nvram:running-config",
                             "startup-config": "nvram:startup-config"}.get(
                                 named or "", str(m.args.get("src"))))
    target = _usable_url(s, str(m.args["dst"])) if source is not None else None
    if source is None or target is None:
        return
    default = filesystems.parse(source).path.rsplit("/", 1)[-1]
    target = yield from _filename_asked(s, target, "Destination filename", default)
    start = router.env.now
    data: bytes | filesystems.FsError
    if named == "running-config":
        data = router.running_config_text().encode()
    else:
        data = yield from filesystems.read(router, source)
    if isinstance(data, filesystems.FsError):
        s.write(data.text)
        return
    failed = yield from filesystems.write(router, target, data)
    if failed is not None:
        s.write(failed.text)
        return
    if "tftp" in (filesystems.device_of(source), filesystems.device_of(target)):
        s.write("!" * (len(data) // tftp.BLOCK + 1))
    seconds = router.env.now - start
    s.write(f"{len(data)} bytes copied in {seconds:.3f} secs")


# -- EXEC: the request desk ----------------------------------------------------------------------
def _server(s: Session, name: str) -> CertificateServer | None:
    cs = s.router.running.servers.get(name)
    if cs is None:
        s.write(f"Certificate server '{name}' is not known")
    return cs


def _unrevoke(s: Session, m: Match) -> SimProcess[None]:
    """`crypto pki server CS unrevoke SERIAL` (15.x, cisco-cs-docs.md 6): the certificate
    leaves the CRL, which is republished at once. chosen: the confirmation mirrors
    `revoke`'s (`% Certificate 04 succesfully revoked.`), spelled correctly."""
    router = s.router
    cs = _server(s, str(m.args["name"]))
    if cs is None:
        return
    serial = _parse_serial(str(m.args["serial"]))
    if serial is None:
        s.write(f"% Invalid serial number {m.args['serial']}")
        return
    pair = router.running.keys.get(cs.name)
    try:
        effects = cs_desk.unrevoke(cs, serial, router.clock.now(), pair.key if pair else None)
    except cs_desk.DeskError as refused:
        s.write(str(refused))
        return
    router.emit("cs", "unrevoked", server=cs.name, serial=serial)
    yield from router.server_host.apply(cs, effects)
    s.write(f"% Certificate {serial:02X} successfully unrevoked.")


def _decode_request(data: bytes) -> x509.CertificateSigningRequest | None:
    """A PKCS #10 request file: PEM, bare base64 or DER."""
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_csr(data)
        text = b"".join(data.split())
        try:
            return x509.load_der_x509_csr(base64.b64decode(text, validate=True))
        except ValueError:
            return x509.load_der_x509_csr(data)
    except ValueError:
        return None


def _certificate_url(request_url: str) -> str:
    """Where the granted certificate goes: beside the request, `.crt` for its extension
    (chosen: the command reference's "written to the URL" names no file)."""
    head, dot, tail = request_url.rpartition(".")
    if dot and "/" not in tail and ":" not in tail:
        return f"{head}.crt"
    return request_url + ".crt"


def _request_url(s: Session, m: Match) -> SimProcess[None]:
    """`crypto pki server CS request pkcs10 url URL [pem|base64]`: the request is read
    from URL and filed as a pasted one is; a granted certificate is written back beside it
    (`_certificate_url`), PEM with `pem`, else base64 (the form's name)."""
    router = s.router
    cs = _server(s, str(m.args["name"]))
    if cs is None:
        return
    url = str(m.args["url"])
    data = yield from filesystems.read(router, url)
    if isinstance(data, filesystems.FsError):
        s.write(data.text)
        return
    csr = _decode_request(data)
    if csr is None:
        s.write("% Invalid PKCS10 request.")  # `request pkcs10 terminal`'s wording
        return
    entry = yield from file_pkcs10(s, cs, csr)
    if entry is None:
        return
    if entry.state is RequestState.REJECTED:
        s.write(f"% Enrollment request rejected, reqId={entry.req_id}")
        return
    if entry.state is not RequestState.GRANTED or entry.certificate_der is None:
        s.write(f"% Enrollment request pending, reqId={entry.req_id}")
        return
    cert = x509util.load_cert(entry.certificate_der)
    if "pem" in m.keywords:
        out = x509util.cert_pem(cert)
    else:
        out = base64.encodebytes(entry.certificate_der)
    target = _certificate_url(url)
    failed = yield from filesystems.write(router, target, out)
    if failed is not None:
        s.write(failed.text)
        return
    router.record_artifact(f"{cs.name}-{entry.serial:X}.cert.pem", x509util.cert_pem(cert))
    s.write(f"% Granted certificate written to {target}")  # chosen: pkilab's wording


def _password_generate(s: Session, m: Match) -> None:
    """`crypto pki server CS password generate [MINUTES]`: a one-time enrollment password
    (cisco-cs.md 4 [D]: default 60 minutes, 1-1440, only the newest is valid). chosen: the
    two output lines are pkilab's (IOS's were not captured)."""
    router = s.router
    cs = _server(s, str(m.args["name"]))
    if cs is None:
        return
    minutes = m.integer("minutes", cs_desk.OTP_DEFAULT_MINUTES)
    password = cs_desk.generate_password(cs, router.clock.now(), router.random_bytes(8),
                                         minutes)
    router.emit("cs", "password.generated", server=cs.name, minutes=minutes)
    # What the administrator reads off the console and hands to the client's operator: an
    # artifact, so a scenario can paste it (`paste_from`) whatever the run's seed drew.
    router.record_artifact(f"{cs.name}-one-time-password.txt", f"{password}\n".encode())
    s.write(f"% New one-time password: {password}")
    s.write(f"% Valid for {minutes} minute{'s' if minutes != 1 else ''}.")


STORAGE_EXEC_COMMANDS: CommandTable = [
    ("copy <src:WORD> <dst:WORD>", _copy, {}),
    ("copy {running-config|startup-config} <dst:WORD>", _copy, {}),
    ("delete <url:WORD>", _delete, {}),
    ("crypto pki server <name:LABEL> unrevoke <serial:WORD>", _unrevoke, {}),
    ("crypto pki server <name:LABEL> request pkcs10 url <url:WORD> [{pem|base64}]",
     _request_url, {}),
    (f"crypto pki server <name:LABEL> password generate "
     f"[<minutes:{cs_desk.OTP_MINUTES[0]}-{cs_desk.OTP_MINUTES[1]}>]", _password_generate, {}),
]
