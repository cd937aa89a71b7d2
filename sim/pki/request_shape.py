"""What a trustpoint's `eku request` and `subject-alt-name` add to a PKCS#10 request.

IOS's trustpoint options (cisco-client-docs.md 2): `eku request <purposes>` puts an
Extended Key Usage extension in the request (15.x), `subject-alt-name <name>` a Subject
Alternative Name. Both travel as an extensionRequest attribute (PKCS#9), beside the
keyUsage pkilab's requests always carry; the CA decides what the certificate gets.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

EKU_PURPOSES: dict[str, ObjectIdentifier] = {
    "client-auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code-signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email-protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "ipsec-end-system": ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "ipsec-tunnel": ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "ipsec-user": ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "ocsp-signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "server-auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "ssh-client": ObjectIdentifier("1.3.6.1.5.5.7.3.21"),
    "ssh-server": ObjectIdentifier("1.3.6.1.5.5.7.3.22"),
    "time-stamping": ExtendedKeyUsageOID.TIME_STAMPING,
}
"""The purposes `eku request` takes, by keyword, and the OID each requests (RFC 5280
4.2.1.12, RFC 4945 for the IPsec ones, RFC 6187 for SSH). chosen: IOS's keyword list
as recalled from the 15.x command reference; the reference marks it [R?]."""


def requested_extensions(eku: tuple[str, ...], subject_alt_name: str | None
                         ) -> tuple[x509.ExtensionType, ...]:
    """The extensions a request carries for these options, in a fixed order (EKU, then
    SAN). `subject_alt_name` is requested as a dNSName (chosen: IOS's examples name a
    host). ValueError for a purpose not in `EKU_PURPOSES`."""
    extensions: list[x509.ExtensionType] = []
    if eku:
        unknown = [p for p in eku if p not in EKU_PURPOSES]
        if unknown:
            raise ValueError(f"unknown extended key usage {unknown[0]!r}")
        extensions.append(x509.ExtendedKeyUsage([EKU_PURPOSES[p] for p in eku]))
    if subject_alt_name:
        extensions.append(x509.SubjectAlternativeName([x509.DNSName(subject_alt_name)]))
    return tuple(extensions)
