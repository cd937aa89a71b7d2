"""The client's view of its certificates: `show crypto pki certificates [verbose]` and
`show crypto pki crls`, in each release's layout.

The router's release profile (`sim.router.release`) names the renderer of one trustpoint's
entries (`certificates_show`) and of one fetched CRL (`crls_show`); `sim.router.show` walks
the trustpoints and calls them.

12.3(14)T keeps the layout pkilab always printed (its golden transcripts hold it). 15.x and
IOS-XE follow cisco-client-docs.md 4.1 [R] (`Issuer:`, `Validity Date:` and the
trustpoint name end in a space there)::

    Certificate
      Status: Available
      Certificate Serial Number (hex): 02
      Certificate Usage: General Purpose
      Issuer:
        cn=ROOTCA
      Subject:
        Name: R1.example.com
        hostname=R1.example.com
      Validity Date:
        start date: 09:00:00 UTC Mar 1 2024
        end   date: 09:00:00 UTC Mar 1 2025
      Associated Trustpoints: TP
      Storage: nvram:ROOTCA#2.cer

and `show crypto pki crls` follows 4.3 [R?].
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import NameOID

from sim.kernel.clock import format_ios_timer
from sim.pki import x509util
from sim.router.pki_storage import storage_name
from sim.router.state import TimeZone, Trustpoint

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# -- 12.3(14)T ---------------------------------------------------------------------------
def entries_12_3(tp: Trustpoint, verbose: bool, zone: TimeZone | None) -> list[str]:
    """One trustpoint's entries, as pkilab's 12.3(14)T routers always printed them (the
    pending request, the router certificate, the CA certificate). The time zone is not
    used: this layout stamps dates `GMT`, as the feature guide's show output does."""
    lines: list[str] = []
    if tp.pending is not None and tp.id_cert is None:
        lines += _pending_12_3(tp)
    for title, cert in _certs_of(tp):
        lines += _cert_12_3(title, cert, tp, verbose)
    return lines


def _pending_12_3(tp: Trustpoint) -> list[str]:
    """A request still waiting for its certificate (cisco-cs.md 15: `Status: Pending`)."""
    if tp.pending is None:
        return []
    md5, sha1 = tp.pending.fingerprints()
    return [
        "Certificate",
        "  Status: Pending",
        "  Key Usage: General Purpose",
        f"  Certificate Request Fingerprint MD5: {md5.replace(' ', '')}",
        f"  Certificate Request Fingerprint SHA1: {sha1.replace(' ', '')}",
        f"  Associated Trustpoint: {tp.name}",
        "",
    ]


def _certs_of(tp: Trustpoint) -> list[tuple[str, x509.Certificate]]:
    certs: list[tuple[str, x509.Certificate]] = []
    if tp.id_cert is not None:
        certs.append(("Certificate", tp.id_cert))
    if tp.ca_cert is not None:
        certs.append(("CA Certificate", tp.ca_cert))
    return certs


def _cert_12_3(title: str, cert: x509.Certificate, tp: Trustpoint,
               verbose: bool) -> list[str]:
    issued = ("Signature" if title == "CA Certificate" else "General Purpose")
    lines = [
        title,
        "  Status: Available",
        f"  Certificate Serial Number: {cert.serial_number:02X}",
        f"  Certificate Usage: {issued}",
        "  Issuer: ",
        "    " + x509util.format_dn_ios(cert.issuer),
        "  Subject: ",
        "    " + x509util.format_dn_ios(cert.subject),
        # chosen: 12.3(14)T lists a CDP as the later releases do (cisco-client-docs.md
        # 4.1), between Subject and Validity Date; only a `cdp-url` CS writes one.
        *_cdp_block(cert),
        "  Validity Date: ",
        f"    start date: {format_ios_timer(cert.not_valid_before_utc)}",
        f"    end   date: {format_ios_timer(cert.not_valid_after_utc)}",
    ]
    if verbose:
        # chosen: 12.3T's `show crypto pki certificates TP verbose` adds the same lines as
        # the later releases' (the 12.3T command reference documents the keyword, not
        # its output).
        lines += _verbose_lines(cert)
    lines += [f"  Associated Trustpoints: {tp.name} ", ""]
    return lines


def crl_source_line(tp: Trustpoint) -> str:
    """The line under `Retrieved from CRL Distribution Point:`: the CDP URL the CRL was
    downloaded from (cisco-client-docs.md 4.3), or `** CDP Not Published - Retrieved via
    SCEP` for one fetched by SCEP GetCRL (cisco-cs.md 9 [V T-13])."""
    if tp.crl_source:
        return f"      {tp.crl_source}"
    return "      ** CDP Not Published - Retrieved via SCEP"


def crls_12_3(tp: Trustpoint, zone: TimeZone | None) -> list[str]:
    """The CRL a trustpoint fetched, in the layout pkilab's 12.3(14)T routers printed."""
    crl = tp.crl
    if crl is None:
        return []
    lines = [
        "CRL Issuer Name: ",
        "    " + x509util.format_dn_ios(crl.issuer),
        f"    LastUpdate: {format_ios_timer(crl.last_update_utc)}",
        f"    NextUpdate: {format_ios_timer(crl.next_update_utc)}"
        if crl.next_update_utc else "    NextUpdate: none",
        "    Retrieved from CRL Distribution Point: ",
        crl_source_line(tp),
        f"    CRL downloaded at: {tp.crl_fetched}",
        f"    Associated Trustpoints: {tp.name} ",
    ]
    revoked = sorted(crl, key=lambda entry: entry.serial_number)
    if revoked:
        lines.append("    Revoked Certificates:")
    for entry in revoked:
        lines.append(f"      Serial #: {entry.serial_number:02X}  RevocationDate: "
                     f"{format_ios_timer(entry.revocation_date_utc)}")
    lines.append("")
    return lines


# -- 15.x and IOS-XE ---------------------------------------------------------------------
def entries_15(tp: Trustpoint, verbose: bool, zone: TimeZone | None) -> list[str]:
    """One trustpoint's entries in the 15.x / IOS-XE layout (cisco-client-docs.md 4.1):
    the request still waiting, else the router certificate, then the CA certificate."""
    lines: list[str] = []
    # chosen: as on 12.3(14)T, the pending entry stands in for a router certificate not
    # yet received; a renewal waiting beside a valid certificate is not listed.
    if tp.pending is not None and tp.id_cert is None:
        lines += _pending_15(tp)
    for title, cert in _certs_of(tp):
        lines += _cert_15(title, cert, tp, verbose, zone)
    return lines


def _pending_15(tp: Trustpoint) -> list[str]:
    """`Status: Pending`, `Key Usage: General Purpose`, both request fingerprints and
    `Associated Trustpoint:` (cisco-cs.md 15 [V T-07, T-10]).

    chosen: the request's `Subject:` with its Name/IP Address/Serial Number lines comes
    first, as in the example of Cisco's PKI configuration guide ("Configuring Certificate
    Enrollment for a PKI": `Subject:` / `Name: Router.cisco.com` / `IP Address: ...` /
    `Serial Number: ...` / `Status: Pending`); the fingerprints keep the 8-digit grouping
    of the `CRYPTO_PKI:  Certificate Request Fingerprint` lines of the enroll.
    """
    if tp.pending is None:
        return []
    md5, sha1 = tp.pending.fingerprints()
    lines = ["Certificate", "  Subject:"]
    lines += _named_fields(tp.pending.subject)
    return lines + [
        "  Status: Pending",
        "  Key Usage: General Purpose",
        f"  Certificate Request Fingerprint MD5: {md5} ",
        f"  Certificate Request Fingerprint SHA1: {sha1} ",
        f"  Associated Trustpoint: {tp.name}",
        "",
    ]


def _cert_15(title: str, cert: x509.Certificate, tp: Trustpoint, verbose: bool,
             zone: TimeZone | None) -> list[str]:
    ca = title == "CA Certificate"
    lines = [title, "  Status: Available"]
    if verbose:
        lines.append(f"  Version: {cert.version.value + 1}")  # chosen: IOS's verbose line
    lines += [
        f"  Certificate Serial Number (hex): {cert.serial_number:02X}",
        f"  Certificate Usage: {'Signature' if ca else 'General Purpose'}",
        "  Issuer: ",
        *_rdn_lines(cert.issuer),
        "  Subject:",
        *_named_fields(cert.subject),
        *_rdn_lines(cert.subject),
    ]
    lines += _cdp_block(cert)
    lines += [
        "  Validity Date: ",
        f"    start date: {ios_date(cert.not_valid_before_utc, zone)}",
        f"    end   date: {ios_date(cert.not_valid_after_utc, zone)}",
    ]
    if verbose:
        lines += _verbose_lines(cert)
    lines += [
        f"  Associated Trustpoints: {tp.name} ",
        # pki_storage writes the certificate to this nvram file when the configuration is
        # saved. chosen: the line is shown before the first save too.
        f"  Storage: nvram:{storage_name(cert, ca=ca)}",
    ]
    if verbose and not ca and tp.rsakeypair:
        # chosen: `Key Label:` names the trustpoint's `rsakeypair` (a router certificate
        # made with the default key, labelled by the FQDN, has no such line here).
        lines.append(f"  Key Label: {tp.rsakeypair}")
    lines.append("")
    return lines


def _named_fields(subject: x509.Name) -> list[str]:
    """`Name:`, `IP Address:`, `Serial Number:`: the fields the enroll dialogue put in
    the request (hostname, `ipaddress=`, `serialNumber=`), as 4.1 lists them before the
    raw RDNs. chosen: `Name:` is the unstructuredName (`hostname=`) only; a subject
    without one (a CA's `cn=...`) has no `Name:` line, as 4.1's CA block shows."""
    lines = []
    for oid, label in ((x509util.UNSTRUCTURED_NAME, "Name"),
                       (x509util.UNSTRUCTURED_ADDRESS, "IP Address"),
                       (NameOID.SERIAL_NUMBER, "Serial Number")):
        for attr in subject.get_attributes_for_oid(oid):
            lines.append(f"    {label}: {_text(attr.value)}")
    return lines


def _rdn_lines(name: x509.Name) -> list[str]:
    """One line per RDN, last RDN first, a multi-valued RDN joined by `+`
    (`serialNumber=67109104+hostname=R15.otus.ru`). chosen: one RDN a line, as the
    Issuer/Subject blocks of 15.x show multi-RDN names (`cn=...` / `o=...`)."""
    return ["    " + x509util.format_dn_ios(x509.Name([rdn])) for rdn in reversed(name.rdns)]


def _text(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _cdp_block(cert: x509.Certificate) -> list[str]:
    """`  CRL Distribution Points:` and its URLs, "only if the cert has a CDP" (4.1)."""
    points = _crl_distribution_points(cert)
    return ["  CRL Distribution Points: ", *(f"    {url}" for url in points)] if points else []


def _crl_distribution_points(cert: x509.Certificate) -> list[str]:
    """The URLs of the certificate's CDP extension (only there when the CS has a
    `cdp-url`, cisco-cs.md 8)."""
    try:
        cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    urls = []
    for point in cdp:
        for general in point.full_name or []:
            if isinstance(general, x509.UniformResourceIdentifier):
                urls.append(general.value)
    return urls


def ios_date(moment: datetime, zone: TimeZone | None) -> str:
    """`09:00:00 UTC Mar 1 2024` (4.1's Validity Date). chosen: in the `clock timezone`
    zone when one is configured, as `show clock` is; UTC otherwise."""
    name = "UTC"
    if zone is not None:
        moment, name = moment + zone.offset, zone.name
    return f"{moment:%H:%M:%S} {name} {_MONTHS[moment.month - 1]} {moment.day} {moment.year}"


# -- verbose ---------------------------------------------------------------------------
_SIGNATURES = {"md5": "MD5", "sha1": "SHA1", "sha224": "SHA224", "sha256": "SHA256",
               "sha384": "SHA384", "sha512": "SHA512"}

_KEY_USAGE_BITS = (
    ("digital_signature", 0x80000000, "Digital Signature"),
    ("content_commitment", 0x40000000, "Non Repudiation"),
    ("key_encipherment", 0x20000000, "Key Encipherment"),
    ("data_encipherment", 0x10000000, "Data Encipherment"),
    ("key_agreement", 0x08000000, "Key Agreement"),
    ("key_cert_sign", 0x04000000, "Key Cert Sign"),
    ("crl_sign", 0x02000000, "CRL Signature"),
)
"""KeyUsage bits as IOS prints them: the BIT STRING as a 32-bit word (a CA's
`X509v3 Key Usage: 86000000`, cisco-cs.md 8 [V]) and one name per bit set (chosen: the
names of IOS's verbose output as recalled; the reference quotes only the word)."""


def _verbose_lines(cert: x509.Certificate) -> list[str]:
    """What `verbose` adds (cisco-client-docs.md 4.1 [R?]): the key, the signature
    algorithm, both fingerprints and the X509v3 extensions. chosen: in that order, after
    the validity dates, with IOS's `Fingerprint MD5: XXXXXXXX ... ` trailing space."""
    der = x509util.cert_der(cert)
    key = cert.public_key()
    bits = getattr(key, "key_size", 0)
    lines = [
        "  Subject Key Info:",
        "    Public Key Algorithm: rsaEncryption",
        f"    RSA Public Key: ({bits} bit)",
        f"  Signature Algorithm: {_signature_name(cert)}",
        f"  Fingerprint MD5: {x509util.fingerprint(der, 'md5')} ",
        f"  Fingerprint SHA1: {x509util.fingerprint(der, 'sha1')} ",
    ]
    extensions = _extension_lines(cert)
    if extensions:
        lines += ["  X509v3 extensions:", *extensions]
    return lines


def _signature_name(cert: x509.Certificate) -> str:
    """`MD5 with RSA Encryption` (chosen: IOS's wording as recalled for the verbose line)."""
    algorithm = cert.signature_hash_algorithm
    name = _SIGNATURES.get(algorithm.name, algorithm.name.upper()) if algorithm else "?"
    return f"{name} with RSA Encryption"


def _hex_groups(data: bytes) -> str:
    hexed = data.hex().upper()
    return " ".join(hexed[i:i + 8] for i in range(0, len(hexed), 8)) + " "


def _extension_lines(cert: x509.Certificate) -> list[str]:
    """The extensions pkilab's certificate server writes (cisco-cs.md 8: KeyUsage, SKI,
    AKI, BasicConstraints on a CA); the CDP is listed above as `CRL Distribution Points:`."""
    lines: list[str] = []
    for ext in cert.extensions:
        value = ext.value
        if isinstance(value, x509.KeyUsage):
            lines += _key_usage_lines(value)
        elif isinstance(value, x509.SubjectKeyIdentifier):
            lines.append(f"    X509v3 Subject Key ID: {_hex_groups(value.digest)}")
        elif isinstance(value, x509.AuthorityKeyIdentifier) and value.key_identifier:
            lines.append(f"    X509v3 Authority Key ID: {_hex_groups(value.key_identifier)}")
        elif isinstance(value, x509.BasicConstraints):
            lines += ["    X509v3 Basic Constraints:",
                      f"        CA: {'TRUE' if value.ca else 'FALSE'}"]
    return lines


def _key_usage_lines(usage: x509.KeyUsage) -> list[str]:
    word = 0
    names = []
    for attribute, bit, name in _KEY_USAGE_BITS:
        if getattr(usage, attribute):
            word |= bit
            names.append(name)
    return [f"    X509v3 Key Usage: {word:08X}", *(f"      {name}" for name in names)]


# -- CRLs --------------------------------------------------------------------------------
def crls_15(tp: Trustpoint, zone: TimeZone | None) -> list[str]:
    """The CRL a trustpoint fetched, 15.x / IOS-XE layout (cisco-client-docs.md 4.3 [R?]
    and cisco-cs.md 9: a CRL fetched over SCEP says `** CDP Not Published - Retrieved via
    SCEP` [V T-13])."""
    crl = tp.crl
    if crl is None:
        return []
    next_update = (ios_date(crl.next_update_utc, zone) if crl.next_update_utc is not None
                   else "none")  # chosen: a CRL without nextUpdate (pkilab's CS always sets one)
    lines = [
        "CRL Issuer Name: ",
        *_rdn_lines(crl.issuer),
        f"    LastUpdate: {ios_date(crl.last_update_utc, zone)}",
        f"    NextUpdate: {next_update}",
        "    Retrieved from CRL Distribution Point: ",
        crl_source_line(tp),
    ]
    if tp.crl_fetched_at is not None:
        # chosen: the download time after the source, in the dates' form; the issue asks
        # for it and 4.3 does not place it.
        lines.append(f"    CRL downloaded at: {ios_date(tp.crl_fetched_at, zone)}")
    lines += [
        f"    CRL size is {len(x509util.crl_der(crl))} bytes",
        "    CRL is stored in memory",
    ]
    revoked = sorted(crl, key=lambda entry: entry.serial_number)
    if revoked:
        lines.append("    Revoked Certificates:")
    for entry in revoked:
        lines += [f"      Serial Number (hex): {entry.serial_number:02X}",
                  f"        Revocation Date: {ios_date(entry.revocation_date_utc, zone)}"]
    # chosen: the trustpoint line closes the entry as on 12.3(14)T, so two trustpoints of
    # one CA can be told apart; 4.3 does not show one.
    lines += [f"    Associated Trustpoints: {tp.name} ", ""]
    return lines
