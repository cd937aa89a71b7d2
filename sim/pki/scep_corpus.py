"""Hostile SCEP input for one CA: real messages, their mutants, and forged cases.

Real messages come from pkilab's own requester code (`sim.pki.scep_client`), one requester per
profile: IOS 12.3 (DES, MD5, GET) and RFC 8894 (AES-128, SHA-256, POST), each sending PKCSReq,
GetCertInitial, GetCert and GetCRL. From them :class:`Corpus` draws, with its own seeded
`random.Random`:

- byte mutants of those messages (`sim.pki.scep_mutants.mutate`);
- re-signed mutants: the message content (the CSR, IssuerAndSubject, IssuerAndSerialNumber),
  the signed part of a rich request (then signed again by its key, a valid proof of
  possession around odd names and extensions) or the authenticated attributes mutated, then
  enveloped and signed properly, so they pass the signature check and reach the service's
  body parsing, policy, filing and issuing;
- forged cases with a known answer (the reproductions of issue 8 and the careful-CA policy):
  a transactionID with a DEL byte, an unknown content cipher, a broken envelope, EC and
  Ed25519 keys, RSA keys below 360 and above 4096 bits, a request signed by another key, a
  forged renewal, a real renewal, polls and GetCerts naming the wrong issuer or subject;
- fresh requests that the server files (and, with `grant auto`, issues);
- HTTP-level cases (bad base64, non-ASCII, no message, empty POST, unknown operation or path),
  for targets that go through the HTTP binding.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from sim.pki import scep, scep_forge
from sim.pki.scep import der
from sim.pki.scep.algorithms import CIPHERS
from sim.pki.scep.envelope import build_envelope
from sim.pki.scep_client import CrlFetch, Enrollment
from sim.pki.scep_mutants import (
    HTTP_400,
    HTTP_404,
    PENDING,
    SUCCESS,
    Sample,
    failure,
    mutate,
)

Keys = Callable[[str, int], rsa.RSAPrivateKey]
"""(label, bits) -> a deterministic RSA key (a `KeySource.get`)."""


@dataclass
class Requester:
    """A client of one profile and the real messages it sends."""

    enrollment: Enrollment
    seeds: dict[str, bytes] = field(default_factory=dict)
    rich_info: bytes = b""
    """The signed part of a request with every field a router's may have (mutation food)."""

    @property
    def profile(self) -> scep.Profile:
        return self.enrollment.profile


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class Corpus:
    """Real, mutated and forged SCEP requests for one CA, drawn with ``rng``.

    ``auto``: the server grants router requests at once (so a fresh request is answered
    SUCCESS, else PENDING). ``http``: also draw HTTP-level cases (only a target behind the
    HTTP binding can answer them). ``renewal``: a certificate the CA issued and its key,
    for real renewals (None: that case is skipped).
    """

    def __init__(self, ca_cert: x509.Certificate, keys: Keys, now: datetime,
                 rng: random.Random, *, auto: bool, http: bool,
                 renewal: tuple[x509.Certificate, rsa.RSAPrivateKey] | None = None) -> None:
        self.ca_cert = ca_cert
        self.keys = keys
        self.now = now
        self.rng = rng
        self.auto = auto
        self.http = http
        self.renewal = renewal
        self._fresh = 0
        self.requesters = [self._requester(scep.IOS_12_3, "fuzz-ios"),
                           self._requester(scep.RFC_8894, "fuzz-rfc")]
        self.spare_keys = [keys(f"fuzz-spare-{i}", 1024) for i in range(3)]
        self._seeds = [(r, kind, msg) for r in self.requesters for kind, msg in r.seeds.items()]

    def random_bytes(self, n: int) -> bytes:
        return self.rng.randbytes(n)

    def _requester(self, profile: scep.Profile, label: str) -> Requester:
        enrollment = Enrollment("fuzz", self.keys(label, 1024), _name(f"{label}.lab"),
                                self.ca_cert, profile, self.random_bytes, self.now)
        requester = Requester(enrollment, rich_info=scep_forge.request_info(
            scep_forge.rich_csr(enrollment.key, f"{label}.lab")))
        requester.seeds = {
            "PKCSReq": enrollment.pkcs_req(self.now),
            "GetCertInitial": enrollment.get_cert_initial(self.now),
            "GetCert": self._signed(requester, scep.MessageType.GET_CERT,
                                    scep.issuer_and_serial(self.ca_cert.subject, 2)),
            "GetCRL": CrlFetch(enrollment.key, enrollment.signer, self.ca_cert, profile,
                               self.random_bytes).request(self.now),
        }
        return requester

    def _signed(self, requester: Requester, kind: scep.MessageType, content: bytes) -> bytes:
        """A request of ``requester``'s transaction with any content, signed as its client
        signs."""
        enrollment = requester.enrollment
        return scep.build_pki_message(
            message_type=kind, transaction_id=enrollment.transaction_id,
            signer_cert=enrollment.signer, signer_key=enrollment.key,
            profile=requester.profile, random_bytes=self.random_bytes,
            recipients=[self.ca_cert], content=content, signing_time=self.now)

    def _method(self, requester: Requester) -> str:
        """The requester's own method, sometimes the other one (both must work)."""
        post = requester.profile.post if self.rng.random() < 0.8 else not requester.profile.post
        return "POST" if post else "GET"

    def _issued(self) -> frozenset[str]:
        return frozenset({SUCCESS if self.auto else PENDING})

    # -- drawing ----------------------------------------------------------------------------
    def draw(self) -> Sample:
        roll = self.rng.random()
        if roll < 0.08:
            requester, kind, message = self.rng.choice(self._seeds)
            return Sample(f"real {kind}", self._method(requester), message)
        if roll < 0.58:
            return self._byte_mutant()
        if roll < 0.70:
            return self._content_mutant()
        if roll < 0.78:
            return self._attribute_mutant()
        if roll < 0.92 or not self.http:
            return self.forged(self.rng.choice(self.FORGED))
        return self._http_case()

    def _byte_mutant(self) -> Sample:
        requester, kind, message = self.rng.choice(self._seeds)
        other = self.rng.choice(self._seeds)[2]
        operator, data = mutate(self.rng, message, other)
        for _ in range(self.rng.choice((0, 0, 0, 1, 2))):  # sometimes stack mutations
            operator, data = mutate(self.rng, data, other)
        return Sample(f"mutant {operator}", self._method(requester), data)

    def _content_mutant(self) -> Sample:
        if self.rng.random() < 0.4:
            return self._csr_mutant()
        requester = self.rng.choice(self.requesters)
        kind = self.rng.choice((scep.MessageType.PKCS_REQ, scep.MessageType.GET_CERT_INITIAL,
                                scep.MessageType.GET_CERT, scep.MessageType.GET_CRL))
        plain = {
            scep.MessageType.PKCS_REQ: requester.enrollment.csr_der,
            scep.MessageType.GET_CERT_INITIAL: scep.issuer_and_subject(
                self.ca_cert.subject, requester.enrollment.subject),
        }.get(kind, scep.issuer_and_serial(self.ca_cert.subject, 2))
        operator, content = mutate(self.rng, plain, requester.enrollment.csr_der)
        return Sample(f"re-signed content {operator}", self._method(requester),
                      self._signed(requester, kind, content))

    def _csr_mutant(self) -> Sample:
        """A request whose signed part is mutated, then signed again by its key: a valid
        proof of possession around odd content (names, extensions, attributes), which the
        server files, lists and may issue from."""
        requester = self.rng.choice(self.requesters)
        enrollment = requester.enrollment
        operator, info = mutate(self.rng, requester.rich_info, requester.rich_info)
        csr = scep_forge.signed_csr(info, enrollment.key)
        return Sample(f"re-signed request {operator}", self._method(requester),
                      self._request(requester, csr))

    _TRANSACTION_IDS = (
        der.tlv(0x13, b"ABC\x7f"), der.tlv(0x16, b"a_b"), der.tlv(0x0C, "\u00e9t\u00e9".encode()),
        der.tlv(0x1E, "ab".encode("utf-16-be")), der.tlv(0x13, b""), der.tlv(0x13, b"A" * 5000),
        der.tlv(0x13, b"two\nlines"), der.tlv(0x04, b"octets"), der.integer(19),
        der.tlv(0x0C, b"\xff\xfe"), der.tlv(0x13, b"ok-id"), der.tlv(0x16, b"ok ia5"),
    )
    _MESSAGE_TYPES = (
        *(der.tlv(0x13, t) for t in (b"", b"19 ", b" 20", b"0", b"3", b"-1", b"1e9", b"17",
                                     b"18", b"99999999999999999999", b"21", b"22", b"19\x00")),
        der.utf8_string("\u0663"), der.integer(19), der.tlv(0x16, b"19"),
    )

    def _attribute_mutant(self) -> Sample:
        requester = self.rng.choice(self.requesters)
        enrollment = requester.enrollment
        envelope = build_envelope(enrollment.csr_der, [self.ca_cert], requester.profile.cipher,
                                  self.random_bytes)
        message_type: int | bytes = 19
        tid = der.printable_string(enrollment.transaction_id)
        nonce = self.random_bytes(16)
        what = self.rng.choice(("type", "tid", "tid", "nonce", "drop", "twice", "time"))
        if what == "type":
            message_type = self.rng.choice(self._MESSAGE_TYPES)
        elif what == "tid":
            tid = self.rng.choice(self._TRANSACTION_IDS)
        elif what == "nonce":
            nonce = self.random_bytes(self.rng.choice((0, 1, 8, 1000)))
        attributes = scep_forge.request_attributes(message_type, tid, nonce, self.now)
        if what == "drop":
            del attributes[self.rng.randrange(3)]
        elif what == "twice":
            attributes.append(self.rng.choice(attributes))
        elif what == "time":
            attributes[-1] = scep_forge.attribute("1.2.840.113549.1.9.5",
                                                  der.tlv(0x17, b"garbage"))
        data = scep_forge.signed_message(enrollment.signer, enrollment.key,
                                         requester.profile.digest, envelope, attributes)
        return Sample(f"re-signed attribute {what}", self._method(requester), data)

    def _http_case(self) -> Sample:
        requester, _kind, message = self.rng.choice(self._seeds)
        encoded = base64.b64encode(message).decode()
        choice = self.rng.randrange(10)
        if choice == 0:
            return Sample("http bad base64", "GET", query="operation=PKIOperation&message=AAAAA",
                          expect=frozenset({HTTP_400}))
        if choice == 1:
            text = quote("\u00e9\u00e8" + encoded[:40], safe="")
            return Sample("http non-ASCII message", "GET",
                          query=f"operation=PKIOperation&message={text}",
                          expect=frozenset({HTTP_400}))
        if choice == 2:
            return Sample("http no message", "GET", query="operation=PKIOperation",
                          expect=frozenset({HTTP_400}))
        if choice == 3:
            return Sample("http empty POST", "POST", b"", expect=frozenset({HTTP_400}))
        if choice == 4:
            i = self.rng.randrange(len(encoded))
            junk = self.rng.choice("!*~\u00a7%#\\\"'<>{}")
            text = quote(encoded[:i] + junk + encoded[i:], safe="")
            return Sample("http junk in base64", "GET",
                          query=f"operation=PKIOperation&message={text}")
        if choice == 5:
            return Sample("http unknown operation", "GET",
                          query=f"operation={self.rng.choice(('', 'pkioperation', 'X' * 300))}",
                          expect=frozenset({HTTP_400}))
        if choice == 6:
            return Sample("http other path", "GET", message,
                          path=self.rng.choice(("/", "/cgi-bin/other.exe", "/../../etc")),
                          expect=frozenset({HTTP_404}))
        if choice == 7:
            safe = encoded.replace("+", "-").replace("/", "_").rstrip("=")  # micromdm's form
            return Sample("http url-safe base64", "GET",
                          query=f"operation=PKIOperation&message={safe}")
        if choice == 8:
            operation = self.rng.choice(("GetCACaps", "GetCACert"))
            return Sample(f"http {operation}", "GET",
                          query=f"operation={operation}&message={quote(encoded[:50])}",
                          expect=frozenset({operation}))
        return Sample("http PUT", "PUT", message)

    # -- forged cases -----------------------------------------------------------------------
    FORGED = ("tid-del", "tid-underscore", "tid-utf8", "envelope-cipher", "envelope-length",
              "ec-key", "ed25519-key", "rsa-359", "rsa-4484", "rsa-360", "other-signer",
              "forged-renewal", "renewal", "poll-wrong-subject", "poll-wrong-issuer",
              "getcert-wrong-issuer", "csr-bad-signature", "fresh", "fresh", "fresh",
              "sub-ca")

    def forged(self, case: str) -> Sample:
        """One forged case by name (see :attr:`FORGED`), with the outcome it must get."""
        requester = self.rng.choice(self.requesters)
        method = self._method(requester)
        make = getattr(self, "_forge_" + case.replace("-", "_"))
        data, expect = make(requester)
        return Sample(f"forged {case}", method, data, expect=expect)

    def _fresh_id(self) -> int:
        self._fresh += 1
        return self._fresh

    def _request(self, requester: Requester, csr_der: bytes, *,
                 signer: tuple[x509.Certificate, rsa.RSAPrivateKey] | None = None,
                 transaction_id: bytes | None = None, envelope: bytes | None = None,
                 message_type: int = 19) -> bytes:
        """A PKCSReq carrying ``csr_der``, signed by ``signer`` (default: the requester)."""
        cert, key = signer or (requester.enrollment.signer, requester.enrollment.key)
        if envelope is None:
            envelope = build_envelope(csr_der, [self.ca_cert], requester.profile.cipher,
                                      self.random_bytes)
        tid = transaction_id or der.printable_string(f"FUZZ{self._fresh_id():08d}")
        attributes = scep_forge.request_attributes(message_type, tid, self.random_bytes(16),
                                                   self.now)
        return scep_forge.signed_message(cert, key, requester.profile.digest, envelope,
                                         attributes)

    def _fresh_signer(self, key: rsa.RSAPrivateKey, cn: str
                      ) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
        return scep_forge.self_signed(key, _name(cn), _name(cn), self._fresh_id(), self.now), key

    def _fresh_csr(self, key: rsa.RSAPrivateKey, *, ca: bool = False
                   ) -> tuple[bytes, tuple[x509.Certificate, rsa.RSAPrivateKey]]:
        cn = f"fresh-{self._fresh_id()}.lab"
        csr = scep.make_csr(key, _name(cn), ca=ca)
        return csr.public_bytes(Encoding.DER), self._fresh_signer(key, cn)

    def _forge_tid_del(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        tid = der.tlv(0x13, r.enrollment.transaction_id[:-1].encode() + b"\x7f")
        return (self._request(r, r.enrollment.csr_der, transaction_id=tid),
                frozenset({failure(scep.FailInfo.BAD_REQUEST)}))

    def _forge_tid_underscore(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        return (self._request(r, r.enrollment.csr_der, transaction_id=der.tlv(0x16, b"id_1")),
                frozenset({failure(scep.FailInfo.BAD_REQUEST)}))

    def _forge_tid_utf8(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        """A UTF8String transactionID of PrintableString characters is fine (P10)."""
        key = self.rng.choice(self.spare_keys)
        csr, signer = self._fresh_csr(key)
        tid = der.utf8_string(f"UTF8 {self._fresh_id()}")
        return self._request(r, csr, signer=signer, transaction_id=tid), self._issued()

    def _forge_envelope_cipher(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        envelope = build_envelope(r.enrollment.csr_der, [self.ca_cert], r.profile.cipher,
                                  self.random_bytes)
        oid = der.oid(CIPHERS[r.profile.cipher].oid)
        broken = envelope.replace(oid, oid[:-1] + bytes([oid[-1] ^ 0x40]), 1)
        return (self._request(r, r.enrollment.csr_der, envelope=broken),
                frozenset({failure(scep.FailInfo.BAD_ALG)}))

    def _forge_envelope_length(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        """The contentEncryptionAlgorithm SEQUENCE claims one byte more than it holds."""
        envelope = bytearray(build_envelope(r.enrollment.csr_der, [self.ca_cert],
                                            r.profile.cipher, self.random_bytes))
        at = bytes(envelope).index(der.oid(CIPHERS[r.profile.cipher].oid))
        envelope[at - 1] += 1  # the length octet of `30 LL 06 ...` (short form: < 0x80)
        return (self._request(r, r.enrollment.csr_der, envelope=bytes(envelope)),
                frozenset({failure(scep.FailInfo.BAD_MESSAGE_CHECK)}))

    def _forge_ec_key(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        csr = scep_forge.csr_for(scep_forge.ec_key(self.random_bytes), _name("ec.lab"))
        return self._request(r, csr), frozenset({failure(scep.FailInfo.BAD_ALG)})

    def _forge_ed25519_key(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        csr = scep_forge.csr_for(scep_forge.ed25519_key(self.random_bytes), _name("ed.lab"))
        return self._request(r, csr), frozenset({failure(scep.FailInfo.BAD_ALG)})

    def _forge_rsa_359(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        """359 bits cannot even sign an MD5 DigestInfo (45 bytes): the request carries the
        key with the signature of another request."""
        small = self.keys("fuzz-small", 359).public_key()
        csr = scep_forge.with_public_key(r.enrollment.csr_der, small)
        return self._request(r, csr), frozenset({failure(scep.FailInfo.BAD_ALG)})

    def _forge_rsa_4484(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        big = scep_forge.oversized_rsa_key()
        key_csr = scep_forge.csr_for(big, _name("big.lab"))
        return self._request(r, key_csr), frozenset({failure(scep.FailInfo.BAD_ALG)})

    def _forge_rsa_360(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        """IOS's smallest key is accepted (with MD5: nothing larger fits in 45 bytes)."""
        key = self.keys("fuzz-360", 360)
        cn = f"small-{self._fresh_id()}.lab"
        template = scep.make_csr(self.spare_keys[0], _name(cn)).public_bytes(Encoding.DER)
        csr = scep_forge.with_public_key(template, key.public_key(), key, "md5")
        cert = scep_forge.self_signed(key, _name(cn), _name(cn), self._fresh_id(), self.now,
                                      sign_with=self.spare_keys[0])
        data = scep_forge.signed_message(
            cert, key, "md5",
            build_envelope(csr, [self.ca_cert], "des", self.random_bytes),
            scep_forge.request_attributes(
                19, der.printable_string(f"FUZZ{self._fresh_id():08d}"),
                self.random_bytes(16), self.now))
        return data, self._issued()

    def _forge_other_signer(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        key = self.rng.choice(self.spare_keys)  # never the requester's own key
        return (self._request(r, r.enrollment.csr_der, signer=self._fresh_signer(key, "x")),
                frozenset({failure(scep.FailInfo.BAD_MESSAGE_CHECK)}))

    def _forge_forged_renewal(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        """A signer that names this CA as its issuer but is signed by its own key."""
        key, other = self.rng.sample(self.spare_keys, 2)
        cert = scep_forge.self_signed(key, _name("forger"), self.ca_cert.subject,
                                      self._fresh_id(), self.now)
        csr, _ = self._fresh_csr(other)
        return (self._request(r, csr, signer=(cert, key)),
                frozenset({failure(scep.FailInfo.BAD_MESSAGE_CHECK)}))

    def _forge_renewal(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        if self.renewal is None:
            return self._forge_fresh(r)
        csr, _ = self._fresh_csr(self.rng.choice(self.spare_keys))
        return self._request(r, csr, signer=self.renewal, message_type=17), self._issued()

    def _forge_poll_wrong_subject(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        body = scep.issuer_and_subject(self.ca_cert.subject, _name("someone-else"))
        return (self._signed(r, scep.MessageType.GET_CERT_INITIAL, body),
                frozenset({failure(scep.FailInfo.BAD_CERT_ID)}))

    def _forge_poll_wrong_issuer(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        body = scep.issuer_and_subject(_name("another CA"), r.enrollment.subject)
        return (self._signed(r, scep.MessageType.GET_CERT_INITIAL, body),
                frozenset({failure(scep.FailInfo.BAD_CERT_ID)}))

    def _forge_getcert_wrong_issuer(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        body = scep.issuer_and_serial(_name("another CA"), 2)
        return (self._signed(r, scep.MessageType.GET_CERT, body),
                frozenset({failure(scep.FailInfo.BAD_CERT_ID)}))

    def _forge_csr_bad_signature(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        csr, signer = self._fresh_csr(self.rng.choice(self.spare_keys))
        broken = csr[:-1] + bytes([csr[-1] ^ 0x01])  # the signature is the last field
        return (self._request(r, broken, signer=signer),
                frozenset({failure(scep.FailInfo.BAD_MESSAGE_CHECK)}))

    def _forge_fresh(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        csr, signer = self._fresh_csr(self.rng.choice(self.spare_keys))
        return self._request(r, csr, signer=signer), self._issued()

    def _forge_sub_ca(self, r: Requester) -> tuple[bytes, frozenset[str]]:
        """A subordinate CA's request: never granted automatically (cisco-cs.md)."""
        csr, signer = self._fresh_csr(self.rng.choice(self.spare_keys), ca=True)
        return self._request(r, csr, signer=signer), frozenset({PENDING})
