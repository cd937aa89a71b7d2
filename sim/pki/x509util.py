"""X.509 pieces the IOS certificate server needs: names, CA/issued certs, CRLs, fingerprints.

The certificate server FSM and the enrollment client build everything through here so the
artifacts look like what IOS produces (cisco-cs.md sections 8 and 9):

- Names are typed in IOS syntax, most specific first (``CN=sub CA, O=Cisco, C=us``), and the DER
  holds them in the reverse order, as IOS does (``issuer-name CN=CA.lab.lcl,C=US`` yields the
  subject ``C=US, CN=CA.lab.lcl``).
- IOS 12.3 signs with MD5 (and later releases with SHA-1). cryptography refuses both hashes for
  certificate and CRL signatures, so :func:`_sign_with_legacy_hash` builds with SHA-256 first,
  then swaps the algorithm identifiers with asn1crypto and re-signs the TBS bytes with the raw
  RSA API, which still accepts MD5 and SHA-1.
- An empty IOS CRL is a bare v1 CRL (no version field, no extensions): the seed transcript
  publishes 213 bytes for ``CN=sub`` with a 1024-bit key, which is exactly that structure.

Times are UTC with second precision; naive datetimes are taken to be UTC.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.name import _ASN1Type  # private, but the only way to pick string types
from cryptography.x509.oid import ExtensionOID, NameOID, ObjectIdentifier

from sim.pki import crl_v1, der_once
from sim.pki.cert_facts import is_rsa_public_key, issuer_facts
from sim.pki.memo import per_value

HASH_NAMES = ("md5", "sha1", "sha256", "sha384", "sha512")

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "md5": hashes.MD5,
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_LEGACY_SIG_ALGOS = frozenset({"md5", "sha1"})
"""Hashes cryptography will not sign certificates/CRLs with; see _sign_with_legacy_hash."""

UNSTRUCTURED_NAME = ObjectIdentifier("1.2.840.113549.1.9.2")
UNSTRUCTURED_ADDRESS = ObjectIdentifier("1.2.840.113549.1.9.8")

# Keyword (lower case) -> OID for parsing IOS subject-name / issuer-name strings.
_KEYWORDS: dict[str, ObjectIdentifier] = {
    "cn": NameOID.COMMON_NAME,
    "o": NameOID.ORGANIZATION_NAME,
    "ou": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "c": NameOID.COUNTRY_NAME,
    "l": NameOID.LOCALITY_NAME,
    "st": NameOID.STATE_OR_PROVINCE_NAME,
    "e": NameOID.EMAIL_ADDRESS,
    "ea": NameOID.EMAIL_ADDRESS,
    "emailaddress": NameOID.EMAIL_ADDRESS,
    "serialnumber": NameOID.SERIAL_NUMBER,
    "hostname": UNSTRUCTURED_NAME,
    "ipaddress": UNSTRUCTURED_ADDRESS,
    "dc": NameOID.DOMAIN_COMPONENT,
}

# OID -> (IOS display name, typed name). IOS displays lower case (`hostname=R15,cn=R15,...`)
# and keeps the camel case of `serialNumber=` (cisco-cs.md section 7).
_DISPLAY: dict[ObjectIdentifier, tuple[str, str]] = {
    NameOID.COMMON_NAME: ("cn", "CN"),
    NameOID.ORGANIZATION_NAME: ("o", "O"),
    NameOID.ORGANIZATIONAL_UNIT_NAME: ("ou", "OU"),
    NameOID.COUNTRY_NAME: ("c", "C"),
    NameOID.LOCALITY_NAME: ("l", "L"),
    NameOID.STATE_OR_PROVINCE_NAME: ("st", "ST"),
    NameOID.EMAIL_ADDRESS: ("ea", "E"),
    NameOID.SERIAL_NUMBER: ("serialNumber", "SERIALNUMBER"),
    UNSTRUCTURED_NAME: ("hostname", "HOSTNAME"),
    UNSTRUCTURED_ADDRESS: ("ipaddress", "IPADDRESS"),
    NameOID.DOMAIN_COMPONENT: ("dc", "DC"),
}

# ASN.1 string types. Choice (neither source says): PrintableString where the value fits, as
# older IOS and most CAs of its time wrote; IA5String for the attributes defined as such
# (email, DC) and for unstructuredName (a PKCS#9 string whose usual form is IA5String);
# UTF8String for anything PrintableString cannot hold.
_IA5_OIDS = {NameOID.EMAIL_ADDRESS, NameOID.DOMAIN_COMPONENT, UNSTRUCTURED_NAME}
_PRINTABLE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")


# --------------------------------------------------------------------------- names


def _split_unescaped(text: str, sep: str) -> list[str]:
    """Split on ``sep`` not preceded by a backslash; escapes are kept for the next stage."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _unescape_trim(raw: str) -> str:
    """Resolve ``\\x`` escapes and trim unescaped surrounding whitespace."""
    chars: list[tuple[str, bool]] = []  # (char, escaped)
    i = 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw):
            chars.append((raw[i + 1], True))
            i += 2
        else:
            chars.append((raw[i], False))
            i += 1
    while chars and not chars[0][1] and chars[0][0].isspace():
        chars.pop(0)
    while chars and not chars[-1][1] and chars[-1][0].isspace():
        chars.pop()
    return "".join(c for c, _ in chars)


def name_attribute(oid: ObjectIdentifier, value: str) -> x509.NameAttribute:
    """An attribute with the string type IOS gives it (IA5 for hostname, else Printable
    when it can be)."""
    return x509.NameAttribute(oid, value, _string_type(oid, value))


def _string_type(oid: ObjectIdentifier, value: str) -> _ASN1Type:
    if oid in _IA5_OIDS and value.isascii():
        return _ASN1Type.IA5String
    if all(ch in _PRINTABLE for ch in value):
        return _ASN1Type.PrintableString
    return _ASN1Type.UTF8String


def parse_dn(text: str) -> x509.Name:
    """Parse an IOS ``subject-name``/``issuer-name`` string into an x509.Name.

    IOS syntax is LDAP-like, most specific first, comma separated (``CN=sub CA, O=Cisco, C=us``);
    ``+`` joins attributes of one multi-valued RDN; ``\\,`` ``\\+`` ``\\\\`` escape. Keywords are
    case-insensitive. The returned Name is in DER order, i.e. reversed.

    Parsed once per distinct text (Names are immutable): a router's name is read when it is
    configured and again when it enrolls. A refusal is not remembered: it is raised anew.
    """
    return _parse_dn(text)


@per_value(str, 1024)
def _parse_dn(text: str) -> x509.Name:
    error = ValueError(f"{text} is not a valid subject name")
    if not text or not text.strip():
        raise error
    rdns: list[x509.RelativeDistinguishedName] = []
    for rdn_text in _split_unescaped(text, ","):
        attributes: list[x509.NameAttribute] = []
        for ava in _split_unescaped(rdn_text, "+"):
            key, sep, raw_value = ava.partition("=")
            oid = _KEYWORDS.get(key.strip().lower())
            value = _unescape_trim(raw_value)
            if not sep or oid is None or not value:
                raise error
            try:
                attributes.append(x509.NameAttribute(oid, value, _string_type(oid, value)))
            except ValueError as exc:  # e.g. a country code that is not two letters
                raise error from exc
        try:
            rdns.append(x509.RelativeDistinguishedName(attributes))
        except ValueError as exc:  # duplicate attribute inside one RDN
            raise error from exc
    return x509.Name(list(reversed(rdns)))


def _attr_value(attr: x509.NameAttribute) -> str:
    value = attr.value
    return value if isinstance(value, str) else value.hex()


def format_dn_ios(name: x509.Name) -> str:
    """The subject as IOS prints it in the request database and debug lines.

    Last RDN first, ``,`` between RDNs, ``+`` inside a multi-valued RDN, lower-case short names:
    ``hostname=R15,cn=R15,ou=VPN,o=MSK,c=RU``. Values are printed raw, as IOS does.
    """
    rdns = []
    for rdn in reversed(name.rdns):
        avas = []
        # Most RDNs hold one attribute: nothing to order.
        for attr in sorted(rdn, key=_ios_rdn_rank) if len(rdn) > 1 else rdn:
            display = _DISPLAY.get(attr.oid)
            short = attr.oid.dotted_string if display is None else display[0]
            avas.append(f"{short}={_attr_value(attr)}")
        rdns.append("+".join(avas))
    return ",".join(rdns)


_IOS_RDN_ORDER = (NameOID.SERIAL_NUMBER, UNSTRUCTURED_ADDRESS, UNSTRUCTURED_NAME)


def _ios_rdn_rank(attr: x509.NameAttribute) -> int:
    """IOS lists a router's multi-valued RDN as `serialNumber=..+ipaddress=..+hostname=..`
    (cisco-cs.md section 7), whatever order DER's SET OF sorting gave it; other attributes
    keep theirs, after these."""
    oid = attr.oid
    return _IOS_RDN_ORDER.index(oid) if oid in _IOS_RDN_ORDER else len(_IOS_RDN_ORDER)


def _escape_typed(value: str) -> str:
    out = value.replace("\\", "\\\\").replace(",", "\\,").replace("+", "\\+")
    if out[:1].isspace():
        out = "\\" + out
    if out[-1:].isspace():
        out = out[:-1] + "\\" + out[-1]
    return out


def format_dn_typed(name: x509.Name) -> str:
    """The subject the way it is typed in IOS config (``CN=sub CA, O=Cisco, C=us``).

    Inverse of :func:`parse_dn` for the attributes it knows: typed order, upper-case keys,
    ``", "`` between RDNs, with ``,``, ``+`` and ``\\`` escaped in values.
    """
    rdns = []
    for rdn in reversed(name.rdns):
        avas = []
        for attr in sorted(rdn, key=_ios_rdn_rank):
            key = _DISPLAY.get(attr.oid, ("", attr.oid.dotted_string))[1]
            avas.append(f"{key}={_escape_typed(_attr_value(attr))}")
        rdns.append("+".join(avas))
    return ", ".join(rdns)


# --------------------------------------------------------------------------- signing


def _hash(hash_name: str) -> hashes.HashAlgorithm:
    try:
        return _HASHES[hash_name]()
    except KeyError:
        raise ValueError(f"unknown hash {hash_name!r}; expected one of {HASH_NAMES}") from None


_DIGEST_INFO_BYTES = {"md5": 34, "sha1": 35, "sha224": 47, "sha256": 51, "sha384": 67,
                      "sha512": 83}
"""DER length of PKCS#1's DigestInfo for each hash (RFC 8017 9.2, note 1)."""


def min_signing_bits(hash_name: str) -> int:
    """The smallest RSA modulus that can sign a certificate or CRL with `hash_name` here.

    A PKCS#1 v1.5 signature needs the DigestInfo plus 11 bytes (RFC 8017 9.2): 360 bits for
    MD5, which is why IOS's smallest key is 360 bits, but 752 for SHA-512. Certificates and
    CRLs are first built with SHA-256 (see :func:`_builder_hash`), so never below 496.
    """
    if hash_name not in _DIGEST_INFO_BYTES:
        raise ValueError(f"unknown hash {hash_name!r}; expected one of "
                         f"{sorted(_DIGEST_INFO_BYTES)}")
    return max(_DIGEST_INFO_BYTES[hash_name], _DIGEST_INFO_BYTES["sha256"]) * 8 + 88


_BUILDER_HASHES: dict[str, Callable[[], hashes.SHA224 | hashes.SHA256 | hashes.SHA384
                                      | hashes.SHA512]] = {
    "sha224": hashes.SHA224, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _builder_hash(hash_name: str) -> hashes.SHA224 | hashes.SHA256 | hashes.SHA384 | \
        hashes.SHA512:
    """Hash to hand to cryptography's builders: SHA-256 stands in for the legacy ones
    (MD5, SHA-1), which they refuse to sign with."""
    if hash_name in _LEGACY_SIG_ALGOS:
        return hashes.SHA256()
    if hash_name not in _BUILDER_HASHES:
        raise ValueError(f"unknown hash {hash_name!r}")
    return _BUILDER_HASHES[hash_name]()


def _sign_with_legacy_hash(der: bytes, key: rsa.RSAPrivateKey, hash_name: str) -> bytes:
    """Re-sign a certificate built by cryptography with any hash (MD5 and SHA-1 included).

    cryptography 48 raises UnsupportedAlgorithm for MD5/SHA-1 certificate signatures. IOS
    12.3 signs with MD5, so the certificate built by cryptography (signed with SHA-256) is
    taken apart with asn1crypto: the inner and outer signature algorithm identifiers are
    replaced (RSA PKCS#1 v1.5, NULL parameters), and the re-encoded TBS is signed with the
    raw RSA API, which still accepts MD5 and SHA-1. (CRLs are written directly:
    `sim.pki.crl_v1`.)
    """
    outer = asn1_x509.Certificate.load(der)
    tbs = outer["tbs_certificate"]
    algorithm = asn1_algos.SignedDigestAlgorithm(
        {"algorithm": f"{hash_name}_rsa", "parameters": asn1_core.Null()}
    )
    tbs["signature"] = algorithm
    tbs_der = tbs.dump(force=True)
    signature = key.sign(tbs_der, padding.PKCS1v15(), _hash(hash_name))
    rebuilt = asn1_x509.Certificate(
        {
            "tbs_certificate": type(tbs).load(tbs_der),
            "signature_algorithm": algorithm,
            "signature_value": signature,
        }
    )
    return rebuilt.dump(force=True)


def _finish_certificate(
    builder: x509.CertificateBuilder, key: rsa.RSAPrivateKey, hash_name: str
) -> x509.Certificate:
    cert = builder.sign(key, _builder_hash(hash_name))
    if hash_name not in _LEGACY_SIG_ALGOS:
        return cert
    der = _sign_with_legacy_hash(cert.public_bytes(serialization.Encoding.DER), key, hash_name)
    return x509.load_der_x509_certificate(der)


# --------------------------------------------------------------------------- certificates


def _utc(moment: datetime) -> datetime:
    """UTC, second precision: X.509 times carry no fractions."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _ski(public_key: rsa.RSAPublicKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(public_key)


def make_ca_certificate(
    key: rsa.RSAPrivateKey,
    subject: x509.Name,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    hash_name: str = "sha256",
) -> x509.Certificate:
    """Self-signed v3 CA certificate, as ``no shutdown`` on a root CS generates it.

    Decoded IOS CA certs (cisco-cs.md section 8): subject == issuer, BasicConstraints critical
    CA:TRUE without a path length, KeyUsage critical Digital Signature + Certificate Sign + CRL
    Sign, and an AuthorityKeyIdentifier equal to the SubjectKeyIdentifier.
    """
    ski = _ski(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(_utc(not_before))
        .not_valid_after(_utc(not_after))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier(ski.digest, None, None), critical=False)
        .add_extension(ski, critical=False)
    )
    return _finish_certificate(builder, key, hash_name)


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


_CA_OWNED_EXTENSIONS = frozenset({
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
})
_CA_EXTENSIONS = (
    x509.Extension(ExtensionOID.BASIC_CONSTRAINTS, True,
                   x509.BasicConstraints(ca=True, path_length=None)),
    x509.Extension(ExtensionOID.KEY_USAGE, True, _ca_key_usage()),
)
"""A subordinate CA certificate's own extensions, critical (immutable, so shared)."""


def issue_certificate(
    ca_key: rsa.RSAPrivateKey,
    ca_cert: x509.Certificate,
    csr_public_key: rsa.RSAPublicKey,
    subject: x509.Name,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    *,
    ca: bool = False,
    extensions: Sequence[x509.Extension] = (),
    hash_name: str = "sha256",
) -> x509.Certificate:
    """A certificate for a router, RA or subordinate CA, signed by ``ca_cert``.

    notAfter is capped at the CA's notAfter ([V T-26] in cisco-cs.md section 8). The CA
    always sets AKI (the CA's SKI) and SKI (from the subject key) itself, so those are never
    copied from the request. With ``ca`` the certificate gets the CA extensions
    (BasicConstraints CA:TRUE, KeyUsage digitalSignature+keyCertSign+cRLSign, both critical);
    otherwise the requested extensions (KeyUsage, CDP, EKU, ...) are copied with their
    criticality, and a requested BasicConstraints is dropped: router certs carry none, and a
    router must not obtain CA:TRUE by asking for it.
    """
    issuer = issuer_facts(ca_cert)
    end = min(_utc(not_after), issuer.not_after)
    start = _utc(not_before)
    aki = issuer.aki
    if aki is None:  # a CA certificate without an SKI: the key's, as IOS computes it
        aki = x509.Extension(ExtensionOID.AUTHORITY_KEY_IDENTIFIER, False,
                             x509.AuthorityKeyIdentifier(_ski(ca_key.public_key()).digest,
                                                         None, None))
    chosen = list(_CA_EXTENSIONS) if ca else []
    skipped = _CA_OWNED_EXTENSIONS | {ExtensionOID.KEY_USAGE} if ca else _CA_OWNED_EXTENSIONS
    chosen += [x509.Extension(ext.value.oid, ext.critical, ext.value) for ext in extensions
               if ext.oid not in skipped]
    chosen += [aki, x509.Extension(ExtensionOID.SUBJECT_KEY_IDENTIFIER, False,
                                   _ski(csr_public_key))]
    if type(subject) is x509.Name and is_rsa_public_key(csr_public_key) \
            and type(serial) is int and 0 < serial and serial.bit_length() < 160 \
            and _EARLIEST <= start <= end and len({ext.oid for ext in chosen}) == len(chosen):
        # What the chain of builder calls below stores, set at once: each call copies
        # the builder and checks its argument, a dozen copies per certificate. Only
        # for arguments those checks pass (they are the ones above); any other goes
        # through the calls and gets their error.
        return _finish_certificate(x509.CertificateBuilder(
            issuer.name, subject, csr_public_key, serial, start.replace(tzinfo=None),
            end.replace(tzinfo=None), chosen), ca_key, hash_name)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.name)
        .public_key(csr_public_key)
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
    )
    for ext in chosen:
        builder = builder.add_extension(ext.value, critical=ext.critical)
    return _finish_certificate(builder, ca_key, hash_name)


_EARLIEST = datetime(1950, 1, 1, tzinfo=UTC)
"""The earliest notBefore cryptography's builder takes."""


# --------------------------------------------------------------------------- CRLs


def make_crl(
    ca_key: rsa.RSAPrivateKey,
    ca_cert: x509.Certificate,
    this_update: datetime,
    next_update: datetime,
    revoked: Iterable[tuple[int, datetime]] = (),
    hash_name: str = "sha256",
) -> x509.CertificateRevocationList:
    """The CS's CRL: issuer = CA subject, one entry per (serial, revocation date).

    IOS 12.3 publishes 213 bytes for an empty CRL of ``CN=sub`` with a 1024-bit key, which is a
    v1 CRL without a version field and without extensions (no CRL number, no AKI); entries carry
    no extensions either, so the CRL stays v1 with entries. Each revoked serial costs about 20
    bytes, plus 2 for the revokedCertificates header with the first one (the 22 bytes of
    cisco-cs.md section 9).
    """
    # Written straight to DER and signed once (`sim.pki.crl_v1`): no library writes v1.
    der = crl_v1.v1_crl_der(ca_key, ca_cert.subject, this_update, next_update, revoked,
                             hash_name)
    return x509.load_der_x509_crl(der)


# --------------------------------------------------------------------------- verification

Signed = x509.Certificate | x509.CertificateRevocationList | x509.CertificateSigningRequest


def verify_signature(obj: Signed, issuer_public_key: PublicKeyTypes) -> bool:
    """Whether ``obj`` (cert, CRL or CSR) carries a valid RSA signature by ``issuer_public_key``.

    Any other kind of key (a peer's EC certificate, say) verifies nothing here: IOS's
    certificate server and its clients deal in RSA only.

    Use this instead of cryptography's own checks: for MD5/SHA-1 signatures (what IOS 12.3
    produces) ``Certificate.verify_directly_issued_by`` raises "Unsupported signature
    algorithm" and ``CertificateRevocationList.is_signature_valid`` silently returns False.
    The raw RSA API still verifies those hashes.
    """
    if isinstance(obj, x509.Certificate):
        tbs = obj.tbs_certificate_bytes
    elif isinstance(obj, x509.CertificateRevocationList):
        tbs = obj.tbs_certlist_bytes
    else:
        tbs = obj.tbs_certrequest_bytes
    if not is_rsa_public_key(issuer_public_key):
        return False
    try:
        algorithm = obj.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return False
    if algorithm is None:
        return False
    try:
        issuer_public_key.verify(obj.signature, tbs, padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        return False
    return True


# --------------------------------------------------------------------------- fingerprints


def fingerprint_hex(data: bytes, algo: str) -> str:
    """Upper-case hex digest without spaces (the request database's Fingerprint column)."""
    constructor = _HASHLIB.get(algo)
    if constructor is None:
        raise ValueError(f"unknown hash {algo!r}; expected one of {HASH_NAMES}")
    return constructor(data).hexdigest().upper()


_HASHLIB: dict[str, Callable[[bytes], hashlib._Hash]] = {
    name: getattr(hashlib, name) for name in HASH_NAMES
}
"""hashlib's named constructors: ``hashlib.new(name)`` looks the name up on every call."""


def fingerprint(data: bytes, algo: str) -> str:
    """IOS grouping: ``Fingerprint MD5: AF54D3A6 8BD3D2D3 48AA48E1 6D19CDAE`` (groups of 8)."""
    digest = fingerprint_hex(data, algo)
    return " ".join(digest[i : i + 8] for i in range(0, len(digest), 8))


# --------------------------------------------------------------------------- encodings


def cert_pem(cert: x509.Certificate) -> bytes:
    return der_once.pem(cert)


def cert_der(cert: x509.Certificate) -> bytes:
    return der_once.der(cert)


def csr_pem(csr: x509.CertificateSigningRequest) -> bytes:
    return der_once.pem(csr)


def csr_der(csr: x509.CertificateSigningRequest) -> bytes:
    return der_once.der(csr)


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    return der_once.pem(crl)


def crl_der(crl: x509.CertificateRevocationList) -> bytes:
    return der_once.der(crl)


def _is_pem(data: bytes) -> bool:
    return b"-----BEGIN" in data


def load_cert(data: bytes) -> x509.Certificate:
    """Load a certificate from PEM or DER (IOS and SCEP hand out both)."""
    if _is_pem(data):
        return x509.load_pem_x509_certificate(data)
    return der_once.load_certificate(data)


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    """Load a CRL from PEM or DER."""
    if _is_pem(data):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM; simulated keys are not secret (see sim.pki.keys)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_der(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> bytes:
    """The DER SubjectPublicKeyInfo of a key pair: what `show crypto key mypubkey rsa` dumps
    as `Key Data:` (it starts `30819F30 0D06092A 864886F7 0D010101` for 1024 bits)."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(serialization.Encoding.DER,
                               serialization.PublicFormat.SubjectPublicKeyInfo)


def load_key_pem(data: bytes) -> rsa.RSAPrivateKey:
    """Load an RSA key written by :func:`key_pem`, skipping cryptography's slow key check."""
    key = serialization.load_pem_private_key(
        data, password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def can_sign_certificates(cert: x509.Certificate) -> bool:
    """RFC 5280 4.2.1.9/4.2.1.3: a certificate that signs others has BasicConstraints
    CA:TRUE and, when it has a KeyUsage, keyCertSign in it."""
    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    if not basic.ca:
        return False
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return usage.key_cert_sign
