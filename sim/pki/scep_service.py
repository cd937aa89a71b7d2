"""The certificate server's SCEP service: GetCACaps, GetCACert, PKIOperation (sans-IO).

Layered as micromdm/scep does it: the codec turns bytes into messages, this service
decides what to answer, the router's HTTP binding is the only code that knows paths,
`operation=` and content types. Every PKIOperation gets a CertRep, even a malformed one:
FAILURE with the failInfo that says what was wrong, never an exception.

Debug lines follow the seed's `debug crypto pki server` transcript:

    CRYPTO_CS: received a SCEP request
    CRYPTO_CS: read SCEP: registered and bound service SCEP_READ_DB_1
    CRYPTO_CS: scep msg type - 19
    CRYPTO_CS: trans id - 3AE00CCCCE6F0F6AE7F163A277906964
    CRYPTO_CS: read SCEP: unregistered and unbound service SCEP_READ_DB_1
    ...
    CRYPTO_CS: sent SCEP pending reply
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.pki import cs_desk, issuance, scep, x509util
from sim.pki.ca_requests import RequestState
from sim.pki.cs_effects import Debug, Effect, Elapse
from sim.pki.cs_server import CertificateServer

READ_SECONDS = 0.816
"""Seed: `read SCEP: registered` at :57.533, `unregistered` at :58.345."""
WRITE_SECONDS = 0.760
"""Seed: `write SCEP: registered` at :58.357, `unregistered` at :59.109."""

RFC_CAPS = ("POSTPKIOperation", "SHA-256", "SHA-1", "AES", "DES3", "SCEPStandard")


@dataclass(frozen=True)
class ScepReply:
    status: int
    reason: str
    content_type: str
    body: bytes
    message_type: str = ""
    pki_status: str = ""


@dataclass
class ScepService:
    cs: CertificateServer
    chain: Sequence[x509.Certificate] = ()
    """The certificates above this CA (a subordinate's parent, grandparent, ...)."""
    _served: int = field(default=0)

    # -- capabilities and CA certificate ------------------------------------------------
    def caps(self) -> tuple[str, ...]:
        """What GetCACaps answers. A server signing with MD5 or SHA-1 speaks IOS 12.3's
        SCEP (no capabilities: DES, MD5, GET); with SHA-2 it offers RFC 8894's set."""
        if self.cs.config.hash == "md5":
            return ()
        if self.cs.config.hash == "sha1":
            return ("SHA-1",)
        return RFC_CAPS

    def get_ca_caps(self) -> ScepReply:
        return ScepReply(200, "OK", "text/plain", scep.caps_text(self.caps()).encode(),
                         "GetCACaps")

    def get_ca_cert(self) -> ScepReply:
        """One certificate as raw DER; a subordinate answers its chain as a degenerate
        PKCS#7 (`application/x-x509-ca-ra-cert`), its own certificate first."""
        assert self.cs.ca_cert is not None
        if not self.chain:
            return ScepReply(200, "OK", scep.CONTENT_TYPES["ca"],
                             x509util.cert_der(self.cs.ca_cert), "GetCACert")
        body = scep.degenerate_certs([self.cs.ca_cert, *self.chain])
        return ScepReply(200, "OK", scep.CONTENT_TYPES["ca_ra"], body, "GetCACert")

    # -- PKIOperation ----------------------------------------------------------------------
    def pki_operation(self, der: bytes, now: datetime, key: rsa.RSAPrivateKey,
                      random_bytes: Callable[[int], bytes]) -> tuple[ScepReply, list[Effect]]:
        self._served += 1
        n = self._served
        fx: list[Effect] = [Debug("received a SCEP request"),
                            Debug(f"read SCEP: registered and bound service SCEP_READ_DB_{n}")]
        try:
            message = scep.parse_pki_message(der)
        except scep.ScepError as bad:
            fx += self._read_done(n)
            return self._failure(None, bad.fail_info, str(bad), now, key, random_bytes, fx, n)
        fx.append(Debug(f"scep msg type - {int(message.message_type)}"))
        fx.append(Debug(f"trans id - {message.transaction_id}"))
        fx += self._read_done(n)
        if not message.signature_valid:
            return self._failure(message, scep.FailInfo.BAD_MESSAGE_CHECK,
                                 "the message signature does not verify", now, key,
                                 random_bytes, fx, n)
        try:
            content = (scep.decrypt_envelope(message.enveloped, self.cs.ca_cert, key)
                       if message.enveloped is not None else b"")
        except scep.ScepError as bad:
            return self._failure(message, bad.fail_info, str(bad), now, key, random_bytes,
                                 fx, n)
        handler = {
            scep.MessageType.PKCS_REQ: self._pkcs_req,
            scep.MessageType.RENEWAL_REQ: self._pkcs_req,
            scep.MessageType.GET_CERT_INITIAL: self._get_cert_initial,
            scep.MessageType.GET_CERT: self._get_cert,
            scep.MessageType.GET_CRL: self._get_crl,
        }.get(message.message_type)
        if handler is None:
            return self._failure(message, scep.FailInfo.BAD_REQUEST,
                                 "unsupported message type", now, key, random_bytes, fx, n)
        return handler(message, content, now, key, random_bytes, fx, n)

    def _read_done(self, n: int) -> list[Effect]:
        return [Elapse(READ_SECONDS, "read SCEP request"),
                Debug(f"read SCEP: unregistered and unbound service SCEP_READ_DB_{n}")]

    def _pkcs_req(self, message: scep.PkiMessage, content: bytes, now: datetime,
                  key: rsa.RSAPrivateKey, random_bytes: Callable[[int], bytes],
                  fx: list[Effect], n: int) -> tuple[ScepReply, list[Effect]]:
        try:
            csr = x509.load_der_x509_csr(content)
        except ValueError:
            return self._failure(message, scep.FailInfo.BAD_REQUEST, "not a PKCS#10 request",
                                 now, key, random_bytes, fx, n)
        if not x509util.verify_signature(csr, csr.public_key()):
            return self._failure(message, scep.FailInfo.BAD_MESSAGE_CHECK,
                                 "the PKCS#10 signature does not verify", now, key,
                                 random_bytes, fx, n)
        # Signed with a certificate this CA issued: a renewal (draft-11 App. G), always a
        # new request even though IOS's transactionID (a hash of the key) repeats.
        renewal = (self.cs.ca_cert is not None
                   and message.signer_cert.issuer == self.cs.ca_cert.subject
                   and x509util.verify_signature(message.signer_cert,
                                                 self.cs.ca_cert.public_key()))
        known = self.cs.requests.find_by_transaction(message.transaction_id,
                                                     include_rejected=False)
        if known is not None and known.csr_der == content and not renewal:
            # A repeated PKCSReq for a known transaction is a poll (draft-11 App. E).
            return self._answer_for(known.req_id, message, now, key, random_bytes, fx, n,
                                    poll=True)
        try:
            entry, more = cs_desk.submit(self.cs, content, message.transaction_id, "scep",
                                         now, key, renewal=renewal)
        except (ValueError, cs_desk.DeskError) as refused:
            return self._failure(message, scep.FailInfo.BAD_REQUEST, str(refused), now, key,
                                 random_bytes, fx, n)
        fx += more
        return self._answer_for(entry.req_id, message, now, key, random_bytes, fx, n,
                                poll=False)

    def _get_cert_initial(self, message: scep.PkiMessage, content: bytes, now: datetime,
                          key: rsa.RSAPrivateKey, random_bytes: Callable[[int], bytes],
                          fx: list[Effect], n: int) -> tuple[ScepReply, list[Effect]]:
        entry = self.cs.requests.find_by_transaction(message.transaction_id)
        if entry is None:
            return self._failure(message, scep.FailInfo.BAD_CERT_ID,
                                 "no request with this transaction ID", now, key,
                                 random_bytes, fx, n)
        return self._answer_for(entry.req_id, message, now, key, random_bytes, fx, n,
                                poll=True)

    def _answer_for(self, req_id: int, message: scep.PkiMessage, now: datetime,
                    key: rsa.RSAPrivateKey, random_bytes: Callable[[int], bytes],
                    fx: list[Effect], n: int, *, poll: bool
                    ) -> tuple[ScepReply, list[Effect]]:
        entry = self.cs.requests.get(req_id)
        granted = entry.state is RequestState.GRANTED
        if poll:
            fx += [Debug(line) for line in issuance.poll_debug(req_id, granted)]
        if granted and entry.certificate_der is not None:
            issued = x509util.load_cert(entry.certificate_der)
            inner = scep.degenerate_certs([issued, self.cs.ca_cert, *self.chain])
            reply = self._cert_rep(message, scep.PkiStatus.SUCCESS, now, key, random_bytes,
                                   content=inner)
            fx += self._written(n)
            fx.append(Debug(issuance.dbg_certificate_sent()))
            return reply, fx
        if entry.state is RequestState.REJECTED:
            return self._failure(message, scep.FailInfo.BAD_REQUEST, "request rejected", now,
                                 key, random_bytes, fx, n)
        reply = self._cert_rep(message, scep.PkiStatus.PENDING, now, key, random_bytes)
        fx += self._written(n)
        fx.append(Debug(issuance.DBG_SENT_PENDING))
        return reply, fx

    def _get_cert(self, message: scep.PkiMessage, content: bytes, now: datetime,
                  key: rsa.RSAPrivateKey, random_bytes: Callable[[int], bytes],
                  fx: list[Effect], n: int) -> tuple[ScepReply, list[Effect]]:
        try:
            _issuer, serial = scep.parse_issuer_and_serial(content)
        except (ValueError, scep.ScepError):
            return self._failure(message, scep.FailInfo.BAD_REQUEST, "bad IssuerAndSerial",
                                 now, key, random_bytes, fx, n)
        cert = cs_desk.issued_certificate(self.cs, serial)
        if cert is None:
            return self._failure(message, scep.FailInfo.BAD_CERT_ID, "no such certificate",
                                 now, key, random_bytes, fx, n)
        reply = self._cert_rep(message, scep.PkiStatus.SUCCESS, now, key, random_bytes,
                               content=scep.degenerate_certs([cert]))
        return reply, fx + self._written(n)

    def _get_crl(self, message: scep.PkiMessage, content: bytes, now: datetime,
                 key: rsa.RSAPrivateKey, random_bytes: Callable[[int], bytes],
                 fx: list[Effect], n: int) -> tuple[ScepReply, list[Effect]]:
        crl = self.cs.crl
        if crl is None:
            return self._failure(message, scep.FailInfo.BAD_CERT_ID, "no CRL", now, key,
                                 random_bytes, fx, n)
        reply = self._cert_rep(message, scep.PkiStatus.SUCCESS, now, key, random_bytes,
                               content=scep.degenerate_certs([], [crl]))
        return reply, fx + self._written(n)

    # -- replies ---------------------------------------------------------------------------
    def _written(self, n: int) -> list[Effect]:
        return [Debug(f"write SCEP: registered and bound service SCEP_WRTE_DB_{n}"),
                Elapse(WRITE_SECONDS, "write SCEP reply"),
                Debug(f"write SCEP: unregistered and unbound service SCEP_WRTE_DB_{n}")]

    def _failure(self, message: scep.PkiMessage | None, fail_info: scep.FailInfo, text: str,
                 now: datetime, key: rsa.RSAPrivateKey,
                 random_bytes: Callable[[int], bytes], fx: list[Effect], n: int
                 ) -> tuple[ScepReply, list[Effect]]:
        fx.append(Debug(f"SCEP request failed: {text}"))
        reply = self._cert_rep(message, scep.PkiStatus.FAILURE, now, key, random_bytes,
                               fail_info=fail_info, fail_text=text)
        return reply, fx + self._written(n)

    def _cert_rep(self, request: scep.PkiMessage | None, status: scep.PkiStatus,
                  now: datetime, key: rsa.RSAPrivateKey,
                  random_bytes: Callable[[int], bytes], *, content: bytes | None = None,
                  fail_info: scep.FailInfo | None = None, fail_text: str | None = None
                  ) -> ScepReply:
        """A CertRep mirroring the request's algorithms, enveloped to its signer."""
        assert self.cs.ca_cert is not None
        profile = scep.RFC_8894
        recipients: list[x509.Certificate] = []
        if request is not None:
            cipher = (scep.envelope_algorithm(request.enveloped) if request.enveloped
                      else profile.cipher)
            profile = scep.Profile("mirror", cipher, request.digest, profile.post)
            recipients = [request.signer_cert]
        # A message too broken to parse still gets a CertRep FAILURE (not an HTTP error):
        # with no request to answer, the transactionID and recipientNonce stay empty.
        body = scep.build_pki_message(
            message_type=scep.MessageType.CERT_REP,
            transaction_id=request.transaction_id if request else "",
            signer_cert=self.cs.ca_cert, signer_key=key, profile=profile,
            random_bytes=random_bytes,
            recipients=recipients if content is not None else (),
            content=content if recipients else None,
            recipient_nonce=request.sender_nonce if request else b"",
            pki_status=status, fail_info=fail_info, fail_info_text=fail_text,
            extra_certs=list(self.chain), signing_time=now.replace(microsecond=0))
        return ScepReply(200, "OK", scep.CONTENT_TYPES["pki"], body, "CertRep",
                         status.name)
