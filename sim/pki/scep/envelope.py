"""pkcsPKIEnvelope: CMS EnvelopedData with RSA key transport, built and opened by hand.

RFC 8894 section 3.2.2: "The message is encrypted ... using a randomly generated
content-encryption key ... The content-encryption key is encrypted to the recipient's public
key". ``cryptography``'s PKCS7EnvelopeBuilder cannot do DES/3DES/AES-192 and draws padding from
the OS, and ``pkcs7_decrypt_der`` refuses DES, 3DES and Go's constructed encryptedContent
(scep.md P4, P6), so both directions are done here.

Determinism: every random value (content key, IV, the non-zero padding string PS of RSAES-
PKCS1-v1_5) is drawn from the caller's ``random_bytes``, in this order: key, IV, then PS for
each recipient in order. The same stream therefore yields the same bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sim.pki import der_once
from sim.pki.bigint import powmod
from sim.pki.memo import per_object
from sim.pki.scep import der, onepass
from sim.pki.scep.algorithms import (
    CIPHER_BY_OID,
    RSA_ENCRYPTION_OID,
    Cipher,
    cipher_named,
    set_des_parity,
)
from sim.pki.scep.bodies import DATA_OID, ENVELOPED_DATA_OID
from sim.pki.scep.certs import issuer_and_serial_of, issuer_der
from sim.pki.scep.der import CONTEXT, INTEGER, SEQUENCE, SET, UNIVERSAL, DerError, Tlv
from sim.pki.scep.types import FailInfo, ScepError

RandomBytes = Callable[[int], bytes]


def draw(random_bytes: RandomBytes, n: int) -> bytes:
    """``n`` bytes from the caller's source, checked: a short read would silently weaken keys."""
    data = random_bytes(n)
    if not isinstance(data, bytes) or len(data) != n:
        raise ValueError(f"random_bytes({n}) must return exactly {n} bytes")
    return data


# --------------------------------------------------------------------------- RSA key transport


def rsaes_pkcs1_v15_encrypt(
    public_key: rsa.RSAPublicKey, message: bytes, random_bytes: RandomBytes
) -> bytes:
    """RFC 8017 section 7.2.1, with PS taken from ``random_bytes``.

    "EM = 0x00 || 0x02 || PS || 0x00 || M", PS "consisting of pseudo-randomly generated
    nonzero octets", at least eight of them. Written out because ``public_key.encrypt`` draws PS
    from the OS and would make runs differ.
    """
    numbers = public_key.public_numbers()
    return _encrypt_with(numbers.n, numbers.e, message, random_bytes)


def _encrypt_with(n: int, e: int, message: bytes, random_bytes: RandomBytes) -> bytes:
    """:func:`rsaes_pkcs1_v15_encrypt` under the public key (``n``, ``e``)."""
    k = (n.bit_length() + 7) // 8
    if len(message) > k - 11:
        raise ValueError("message too long for the RSA modulus")
    needed = k - len(message) - 3
    ps = b""
    while len(ps) < needed:
        ps += draw(random_bytes, needed - len(ps)).replace(b"\x00", b"")  # drop zero octets
    em = b"\x00\x02" + ps + b"\x00" + message
    return powmod(int.from_bytes(em, "big"), e, n).to_bytes(k, "big")


_VERSION_0 = der.integer(0)
_DATA_OID = der.oid(DATA_OID)
_ENVELOPED_DATA_OID = der.oid(ENVELOPED_DATA_OID)
_RSA_ENCRYPTION = der.algorithm_identifier(RSA_ENCRYPTION_OID, der.null())
"""keyEncryptionAlgorithm: rsaEncryption with NULL parameters (RFC 3370 section 4.2.1)."""


def recipient_named(cert: x509.Certificate) -> bytes:
    """The IssuerAndSerialNumber naming ``cert`` as :func:`decrypt_envelope` matches it,
    for a caller that keeps it (`named=`): an enrolling router reads it as it sends its
    request, while its signer's DER is at hand, instead of when the reply comes, by which
    time a large run has let that DER and this answer go from their tables."""
    return issuer_and_serial_of(der_once.der(cert))


@per_object(1024)
def _named(cert: x509.Certificate) -> bytes:
    """The IssuerAndSerialNumber naming ``cert`` (see certs.issuer_and_serial_of), looked
    up by the certificate object: a router opens every reply with its one certificate,
    whose DER may have left der_once's table in a large run by the time the reply comes.
    One entry per router enrolling at the time: a thousand hold some hundreds of kB."""
    return issuer_and_serial_of(der_once.der(cert))


@per_object(1024)
def _recipient(cert: x509.Certificate) -> tuple[int, int, bytes] | None:
    """(n, e, the start of its KeyTransRecipientInfo) of a recipient certificate's RSA key,
    None for another key type. The start is version 0, the IssuerAndSerialNumber and the
    keyEncryptionAlgorithm: everything but the wrapped key, the same in every envelope.

    Read once per certificate object (by identity: a certificate hashes by its DER,
    which costs more than the lookup; an equal copy is read again): every router
    enrolling with a CA seals its messages to the same CA certificate, and reading the key
    out of it (a key object, then its numbers) cost more than the RSA operation itself. The
    IssuerAndSerialNumber copies the issuer byte for byte from the certificate, so the
    recipient's own comparison (often a byte compare) matches.
    """
    public_key = cert.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        return None
    numbers = public_key.public_numbers()
    named = _named(cert)
    return numbers.n, numbers.e, _VERSION_0 + named + _RSA_ENCRYPTION


def _recipient_numbers(cert: x509.Certificate) -> tuple[int, int] | None:
    """(n, e) of a recipient certificate's RSA key, None for another key type."""
    recipient = _recipient(cert)
    return None if recipient is None else (recipient[0], recipient[1])


# --------------------------------------------------------------------------- build


def _pad(content: bytes, block_size: int) -> bytes:
    """RFC 5652 section 6.3: "the input shall be padded at the trailing end with k-(lth mod
    k) octets all having value k-(lth mod k)" (what ``cryptography``'s PKCS7 padder writes)."""
    count = block_size - len(content) % block_size
    return content + bytes((count,)) * count


def build_envelope(
    content: bytes,
    recipients: Sequence[x509.Certificate],
    cipher_name: str,
    random_bytes: RandomBytes,
) -> bytes:
    """EnvelopedData ContentInfo: ``content`` CBC-encrypted, the key wrapped for each recipient.

    RFC 5652 section 6.1: version 0 (only KeyTransRecipientInfo v0 with issuerAndSerialNumber);
    keyEncryptionAlgorithm rsaEncryption with NULL parameters (RFC 3370 section 4.2.1); the
    IV is the contentEncryptionAlgorithm parameter (RFC 3370 5.2 for DES/3DES, RFC 3565 4.1
    for AES). Content is padded per RFC 5652 section 6.3.
    """
    if not recipients:
        raise ValueError("an envelope needs at least one recipient")
    cipher = cipher_named(cipher_name)
    key = draw(random_bytes, cipher.key_size)
    if cipher.name in ("des", "des3"):
        key = set_des_parity(key)
    iv = draw(random_bytes, cipher.block_size)
    encryptor = cipher.cbc(key, iv, encrypt=True)
    encrypted = encryptor.update(_pad(content, cipher.block_size)) + encryptor.finalize()

    infos = []
    for cert in recipients:
        recipient = _recipient(cert)
        if recipient is None:
            raise ValueError("SCEP key transport needs an RSA recipient certificate")
        n, e, start = recipient
        wrapped = _encrypt_with(n, e, key, random_bytes)
        infos.append(der.tlv(0x30, start + der.octet_string(wrapped)))
    enveloped = der.seq(
        _VERSION_0,
        der.set_of(infos),
        der.seq(
            _DATA_OID,
            der.algorithm_identifier(cipher.oid, der.octet_string(iv)),
            der.tlv(0x80, encrypted),  # [0] IMPLICIT, primitive
        ),
    )
    return der.seq(_ENVELOPED_DATA_OID, der.context(0, enveloped))


# --------------------------------------------------------------------------- parse


def _envelope_fields(enveloped: bytes) -> tuple[list[Tlv], list[Tlv]]:
    """(recipientInfos, encryptedContentInfo fields) of an EnvelopedData ContentInfo.

    Read once per envelope: the service reads the sender's cipher to mirror it, then opens
    the envelope (the lists are copies, so a caller cannot change the remembered ones).
    """
    if type(enveloped) is not bytes:  # noqa: E721 - only immutable bytes can key the memo
        return _read_envelope(enveloped)
    recipient_infos, content_info = _read_envelope_once(enveloped)
    return list(recipient_infos), list(content_info)


@functools.lru_cache(maxsize=64)
def _read_envelope_once(enveloped: bytes) -> tuple[tuple[Tlv, ...], tuple[Tlv, ...]]:
    recipient_infos, content_info = _read_envelope(enveloped)
    return tuple(recipient_infos), tuple(content_info)


def _read_envelope(enveloped: bytes) -> tuple[list[Tlv], list[Tlv]]:
    top = der.fields(der.read(enveloped), "ContentInfo", 2)
    if der.read_oid(top[0]) != ENVELOPED_DATA_OID:
        raise DerError("not a CMS EnvelopedData")
    wrapper = der.expect(top[1], CONTEXT, 0, "ContentInfo content")
    body = der.fields(der.read_inside(wrapper), "EnvelopedData", 3)
    rest = body[1:]
    if rest[0].is_(CONTEXT, 0):  # originatorInfo, unused by SCEP
        rest = rest[1:]
    if len(rest) < 2:
        raise DerError("EnvelopedData is missing fields")
    recipient_infos = der.expect(rest[0], UNIVERSAL, SET, "recipientInfos").children()
    content_info = der.fields(rest[1], "EncryptedContentInfo", 2)
    return recipient_infos, content_info


def _cipher_of(content_info: list[Tlv]) -> tuple[Cipher, bytes]:
    algorithm = der.fields(content_info[1], "contentEncryptionAlgorithm", 1)
    dotted = der.read_oid(algorithm[0])
    cipher = CIPHER_BY_OID.get(dotted)
    if cipher is None:
        raise ScepError(FailInfo.BAD_ALG, f"unsupported content encryption algorithm {dotted}")
    if len(algorithm) < 2:
        raise DerError("content encryption algorithm without IV")
    iv = der.octets(der.expect(algorithm[1], UNIVERSAL, der.OCTET_STRING, "IV"))
    if len(iv) != cipher.block_size:
        raise DerError(f"IV of {len(iv)} bytes for {cipher.name}")
    return cipher, iv


def _cipher_read(enveloped: bytes) -> tuple[Cipher, bytes]:
    """(cipher, IV) of an envelope, read once per envelope: the service asks for the
    cipher of the envelope it has just opened, to mirror it. Failures are not remembered."""
    if type(enveloped) is not bytes:  # noqa: E721 - only immutable bytes can key the memo
        return _cipher_of(_envelope_fields(enveloped)[1])
    return _cipher_once(enveloped)


@functools.lru_cache(maxsize=64)
def _cipher_once(enveloped: bytes) -> tuple[Cipher, bytes]:
    return _cipher_of(_envelope_fields(enveloped)[1])


def envelope_algorithm(enveloped: bytes) -> str:
    """The sender's content cipher ("des", "des3", "aes128", ...), so a reply can mirror it.

    ScepError(BAD_ALG) for an unknown cipher, ScepError(BAD_MESSAGE_CHECK) for garbage.
    """
    usual = _usual_envelope(enveloped)
    if usual is not None:
        return usual.cipher.name
    try:
        return _cipher_read(enveloped)[0].name
    except DerError as exc:
        raise ScepError(FailInfo.BAD_MESSAGE_CHECK, f"malformed envelope: {exc}") from exc


def _names(rid: Tlv, named: bytes, recipient_cert: x509.Certificate) -> bool:
    """Whether rid names ``recipient_cert``, whose IssuerAndSerialNumber as written here is
    ``named``: byte for byte (every sender here, and most peers), else by :func:`_matches`."""
    if rid.encoded == named:
        return True
    return _matches(rid, issuer_der(recipient_cert), recipient_cert.serial_number)


def _matches(rid: Tlv, issuer: bytes, serial: int) -> bool:
    """Whether a KeyTransRecipientInfo rid is issuerAndSerialNumber(recipient)."""
    if not rid.is_(UNIVERSAL, SEQUENCE):
        return False  # subjectKeyIdentifier [0]: SCEP peers use issuerAndSerialNumber
    parts = rid.children()
    if len(parts) != 2 or not parts[1].is_(UNIVERSAL, INTEGER):
        return False
    if der.read_integer(parts[1]) != serial:
        return False
    if parts[0].encoded == issuer:
        return True
    try:  # same name, different string encoding: compare X.520-normalised forms
        return bool(asn1_x509.Name.load(parts[0].encoded) == asn1_x509.Name.load(issuer))
    except (ValueError, TypeError, KeyError):
        return False


class _Usual:
    """What :func:`decrypt_envelope` takes from an envelope of the usual shape: the cipher,
    IV and encrypted content, and each KeyTransRecipientInfo's rid (as the element the
    general reader makes) with its wrapped key, in order."""

    __slots__ = ("cipher", "iv", "encrypted", "recipients")

    def __init__(self, cipher: Cipher, iv: bytes, encrypted: bytes,
                 recipients: list[tuple[Tlv, bytes]]) -> None:
        self.cipher = cipher
        self.iv = iv
        self.encrypted = encrypted
        self.recipients = recipients

    def wrapped_for(self, recipient_cert: x509.Certificate,
                    named: bytes | None = None) -> bytes | None:
        """The wrapped key of the first recipient info that names ``recipient_cert`` (as
        the general reader picks it), None if none does (the general reader then says so).
        ``named``: ``recipient_named(recipient_cert)``, when the caller has it."""
        if named is None:
            named = _named(recipient_cert)
        for rid, wrapped in self.recipients:
            if _names(rid, named, recipient_cert):
                return wrapped
        return None


def _usual_envelope(enveloped: bytes) -> _Usual | None:
    """The envelope read in one pass, or None where it is not of the usual shape; see
    :func:`_read_usual`. Read once per envelope (the service asks for its cipher, then
    opens it). A None is remembered too: the general reader reads that envelope anyway."""
    if type(enveloped) is not bytes:  # noqa: E721 - only immutable bytes can key the memo
        return None
    return _usual_once(enveloped)


@functools.lru_cache(maxsize=64)
def _usual_once(enveloped: bytes) -> _Usual | None:
    try:
        return _read_usual(enveloped)
    except (DerError, IndexError):
        return None


def _read_usual(data: bytes) -> _Usual | None:
    """An EnvelopedData ContentInfo of the usual shape, the one every SCEP peer writes::

        ContentInfo { envelopedData, [0] EnvelopedData { version, SET { KeyTransRecipientInfo
            { version, rid, keyEncryptionAlgorithm, OCTET STRING }... },
            EncryptedContentInfo { contentType, AlgorithmIdentifier { cipher, OCTET STRING
            IV }, [0] IMPLICIT encryptedContent } } }

    read with offsets into the bytes instead of the general reader's element lists (which
    cost more than the decryption). Every element the general reader
    (:func:`_read_envelope`, :func:`_cipher_of`, :func:`decrypt_envelope`) looks at is
    checked here with its rules, and only in the forms it reads without asn1crypto
    (:func:`onepass.elements`); anything else (BER forms, an originatorInfo, an unknown
    cipher, a constructed string, a malformed element) is declined with None (or a
    DerError), and the general reader reads or refuses it as before, with its own error.
    tests/test_envelope_onepass.py compares both over real and mangled envelopes.
    """
    top = onepass.elements(data, 0, len(data))
    if len(top) != 1 or data[0] != 0x30:
        return None
    content_info = onepass.elements(data, top[0][1], top[0][2])
    if len(content_info) < 2:
        return None
    oid, wrapper = content_info[0], content_info[1]
    if data[oid[0]:oid[2]] != _ENVELOPED_DATA_OID or data[wrapper[0]] != 0xA0:
        return None
    inside = onepass.elements(data, wrapper[1], wrapper[2])
    if len(inside) != 1 or data[inside[0][0]] != 0x30:
        return None
    body = onepass.elements(data, inside[0][1], inside[0][2])
    if len(body) < 3 or data[body[1][0]] != 0x31 or data[body[2][0]] != 0x30:
        return None  # an originatorInfo [0], or not the usual fields
    fields = onepass.elements(data, body[2][1], body[2][2])
    if len(fields) < 2 or data[fields[1][0]] != 0x30:
        return None
    algorithm = onepass.elements(data, fields[1][1], fields[1][2])
    if len(algorithm) < 2 or data[algorithm[0][0]] != 0x06 or data[algorithm[1][0]] != 0x04:
        return None
    cipher = CIPHER_BY_OID.get(der.dotted(data[algorithm[0][0]:algorithm[0][2]]))
    iv = data[algorithm[1][1]:algorithm[1][2]]
    if cipher is None or len(iv) != cipher.block_size:
        return None
    encrypted = b""
    for start, contents, end in fields[2:]:
        if data[start] & 0xDF == 0x80:  # [0], primitive or constructed
            if data[start] != 0x80:
                return None  # constructed (Go, P6): the general reader joins the parts
            encrypted = data[contents:end]
    recipients = []
    for start, contents, end in onepass.elements(data, body[1][1], body[1][2]):
        first = data[start]
        if first & 0xDF != 0x10:  # not a SEQUENCE: skipped, as the general reader does
            continue
        if first != 0x30:
            return None  # a primitive SEQUENCE: the general reader refuses it
        parts = onepass.elements(data, contents, end)
        if len(parts) < 4:
            continue
        if data[parts[3][0]] & 0x20:
            return None  # a constructed encryptedKey: the general reader joins the parts
        rid_start, rid_body, rid_end = parts[1]
        tag = data[rid_start]
        rid = Tlv(tag >> 6, bool(tag & 0x20), tag & 31, data, rid_start, rid_body, rid_end, 0)
        recipients.append((rid, data[parts[3][1]:parts[3][2]]))
    return _Usual(cipher, iv, encrypted, recipients)


def decrypt_envelope(
    enveloped: bytes, recipient_cert: x509.Certificate, recipient_key: rsa.RSAPrivateKey,
    *, named: bytes | None = None,
) -> bytes:
    """The plaintext of a pkcsPKIEnvelope addressed to ``recipient_cert``.

    Picks the KeyTransRecipientInfo whose issuerAndSerialNumber names ``recipient_cert``.
    ScepError(BAD_MESSAGE_CHECK) when none does ("wrong recipient") or decryption fails;
    ScepError(BAD_ALG) for an unknown cipher. ``named``, if given, is
    ``recipient_named(recipient_cert)``, kept by the caller.
    """
    usual = _usual_envelope(enveloped)
    if usual is not None:
        try:
            wrapped = usual.wrapped_for(recipient_cert, named)
        except DerError:  # a rid that does not read: the general reader refuses it below
            wrapped = None
        if wrapped is not None:
            return _decrypt(usual.cipher, usual.iv, usual.encrypted, wrapped, recipient_key)
    try:
        recipient_infos, content_info = _envelope_fields(enveloped)
        cipher, iv = _cipher_read(enveloped)
        encrypted = b""
        for element in content_info[2:]:
            if element.is_(CONTEXT, 0):
                encrypted = der.octets(element)  # primitive, or constructed from Go (P6)
        if named is None:
            named = _named(recipient_cert)
        wrapped = None
        for info in recipient_infos:
            parts = info.children() if info.is_(UNIVERSAL, SEQUENCE) else []
            if len(parts) >= 4 and _names(parts[1], named, recipient_cert):
                wrapped = der.octets(parts[3])
                break
    except DerError as exc:
        raise ScepError(FailInfo.BAD_MESSAGE_CHECK, f"malformed envelope: {exc}") from exc
    if wrapped is None:
        raise ScepError(
            FailInfo.BAD_MESSAGE_CHECK, "the envelope is not addressed to this certificate"
        )
    return _decrypt(cipher, iv, encrypted, wrapped, recipient_key)


def _decrypt(
    cipher: Cipher, iv: bytes, encrypted: bytes, wrapped: bytes, key: rsa.RSAPrivateKey
) -> bytes:
    """Unwrap the content key and CBC-decrypt.

    The bundled OpenSSL uses implicit rejection for PKCS#1 v1.5 decryption: a wrong key yields a
    random-looking "key" instead of an error, so the key length and the content padding are
    what catch it.
    """
    try:
        content_key = key.decrypt(wrapped, _PKCS1V15)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise _failed() from exc
    block = cipher.block_size
    if len(content_key) != cipher.key_size or not encrypted or len(encrypted) % block:
        raise _failed()
    decryptor = cipher.cbc(content_key, iv, encrypt=False)
    padded = decryptor.update(encrypted) + decryptor.finalize()
    # RFC 5652 section 6.3 padding, checked as cryptography's PKCS7 unpadder checks it: a
    # count from 1 to the block size, every padding octet equal to it.
    count = padded[-1]
    if not 0 < count <= block or padded[-count:] != bytes((count,)) * count:
        raise _failed()
    return padded[:-count]


_PKCS1V15 = padding.PKCS1v15()


def _failed() -> ScepError:
    return ScepError(FailInfo.BAD_MESSAGE_CHECK, "cannot decrypt the envelope")
