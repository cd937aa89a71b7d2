"""The certificate server's SCEP service: GetCACaps, GetCACert, PKIOperation (sans-IO).

Layered as micromdm/scep does it: the codec turns bytes into messages, this service
decides what to answer, the router's HTTP binding is the only code that knows paths,
`operation=` and content types. Every PKIOperation gets a CertRep, even a malformed one:
FAILURE with the failInfo that says what was wrong, never an exception. What the server checks
before filing or answering a request (key algorithm and size, proof of possession, who signed
it, whether a poll names its transaction) is `sim.pki.scep_policy`.

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

from sim.pki import (
    cs_desk,
    cs_rollover,
    grant_rules,
    issuance,
    ra_forward,
    scep,
    scep_policy,
    x509util,
)
from sim.pki.ca_requests import EnrollmentRequest, RequestState
from sim.pki.cs_effects import CertificateIssued, Debug, Effect, Elapse
from sim.pki.cs_server import CertificateServer

READ_SECONDS = 0.816
"""Seed: `read SCEP: registered` at :57.533, `unregistered` at :58.345."""
WRITE_SECONDS = 0.760
"""Seed: `write SCEP: registered` at :58.357, `unregistered` at :59.109."""

_RECEIVED = Debug("received a SCEP request")
_READ = Elapse(READ_SECONDS, "read SCEP request")
_WRITE = Elapse(WRITE_SECONDS, "write SCEP reply")
_SENT_PENDING = Debug(issuance.DBG_SENT_PENDING)
_CERTIFICATE_SENT = Debug(issuance.dbg_certificate_sent())
"""The effects every exchange has, made once (they are frozen values)."""

RFC_CAPS = ("POSTPKIOperation", "SHA-256", "SHA-1", "AES", "DES3", "SCEPStandard")


_MIRRORS: dict[tuple[str, str], scep.Profile] = {}
"""The reply profiles made, by (cipher, digest): a few, as ciphers and digests are few."""


def _mirror(cipher: str, digest: str) -> scep.Profile:
    """The profile of a reply that mirrors its request's cipher and digest (made once per
    pair: a Profile checks its algorithms when made, and it is frozen)."""
    profile = _MIRRORS.get((cipher, digest))
    if profile is None:
        profile = _MIRRORS[cipher, digest] = scep.Profile("mirror", cipher, digest,
                                                          scep.RFC_8894.post)
    return profile


@dataclass(frozen=True)
class ScepReply:
    status: int
    reason: str
    content_type: str
    body: bytes
    message_type: str = ""
    pki_status: str = ""


@dataclass
class _Exchange:
    """One PKIOperation being answered: its inputs, what is known so far, the effects."""

    now: datetime
    key: rsa.RSAPrivateKey
    random_bytes: Callable[[int], bytes]
    n: int
    """The service's running count, as in `SCEP_READ_DB_<n>`."""
    fx: list[Effect]
    message: scep.PkiMessage | None = None
    content: bytes = b""
    """The decrypted messageData (empty without an envelope)."""
    for_shadow: bool = False
    """The envelope was addressed to the shadow CA certificate: a rollover request."""


_PollAnswer = scep_policy.Refusal | None
_POLLS_KEPT = 256
"""Poll answers a service keeps (`ScepService._check_poll`): enough for the requests
waiting on a CA at once; past it, the answers are asked again."""

_NO_CA = ScepReply(404, "Not Found", "text/plain", b"")
"""Without a CA certificate there is nothing to serve or sign with (the HTTP binding already
answers 404 then; the service says the same when used on its own)."""


@dataclass
class ScepService:
    cs: CertificateServer
    chain: Sequence[x509.Certificate] = ()
    """The certificates above this CA (a subordinate's parent, grandparent, ...)."""
    grant_anchors: Sequence[x509.Certificate] = ()
    """The CA certificates of the trustpoints `grant auto trustpoint|tp-list` names: a
    request signed by a certificate one of them issued is granted (`grant_rules`)."""
    relayed_crl: x509.CertificateRevocationList | None = None
    """An RA, which signs no CRL, answers GetCRL with its issuing CA's CRL as the RA's own
    trustpoint last fetched it (chosen: the reference does not say what an RA answers)."""
    received: dict[str, bytes] = field(default_factory=dict)
    """`mode ra transparent`: each client's PKCSReq as received, by transactionID, for the
    RA to forward unchanged (`ra_forward`)."""
    _served: int = field(default=0)
    _ca_reply: tuple[x509.Certificate, tuple[x509.Certificate, ...], ScepReply] | None = field(
        default=None, init=False, repr=False, compare=False)
    """GetCACert's reply with the certificate and chain it was made from: every router of
    the CA asks, and the answer is the same bytes until either changes."""
    _ca_subject: tuple[x509.Certificate, x509.Name, scep_policy.Needles | None] | None = \
        field(default=None, init=False, repr=False, compare=False)
    """The subject of the CA certificate requests name (this CA's, or an RA's issuing
    CA's), kept with it and its `scep_policy.name_needles`: read for every PKCSReq's
    renewal check and every poll, and cryptography builds a new Name at every read."""

    _polls: tuple[x509.Certificate | None, dict[tuple[bytes, bytes], _PollAnswer]] = field(
        default_factory=lambda: (None, {}), init=False, repr=False, compare=False)
    """`check_poll`'s answers for the CA certificate polls name (`_check_poll`), by poll
    body and request DER; emptied when that certificate changes or past `_POLLS_KEPT`."""

    # -- capabilities and CA certificate ------------------------------------------------
    def caps(self) -> tuple[str, ...]:
        """What GetCACaps answers. A server signing with MD5 or SHA-1 speaks IOS 12.3's
        SCEP (no capabilities: DES, MD5, GET); with SHA-2 it offers RFC 8894's set."""
        if self.cs.config.hash == "md5":
            return ()
        # chosen: GetNextCACert is offered while the server is set to roll over or has a
        # shadow (`cs_rollover`), so a CA that never rolls over answers as before.
        rolls = ("GetNextCACert",) if (self.cs.config.auto_rollover_minutes is not None
                                       or self.cs.rollover.active) else ()
        if self.cs.config.hash == "sha1":
            return ("SHA-1", *rolls)
        return RFC_CAPS + rolls

    def get_ca_caps(self) -> ScepReply:
        return ScepReply(200, "OK", "text/plain", scep.caps_text(self.caps()).encode(),
                         "GetCACaps")

    def get_ca_cert(self) -> ScepReply:
        """One certificate as raw DER; a subordinate answers its chain as a degenerate
        PKCS#7 (`application/x-x509-ca-ra-cert`), its own certificate first."""
        ca_cert = self.cs.ca_cert
        if ca_cert is None:
            return _NO_CA
        chain = tuple(self.chain)
        kept = self._ca_reply
        if kept is not None and kept[0] is ca_cert and kept[1] == chain:
            return kept[2]
        if not chain:
            reply = ScepReply(200, "OK", scep.CONTENT_TYPES["ca"],
                              x509util.cert_der(ca_cert), "GetCACert")
        else:
            body = scep.degenerate_certs([ca_cert, *chain])
            reply = ScepReply(200, "OK", scep.CONTENT_TYPES["ca_ra"], body, "GetCACert")
        self._ca_reply = (ca_cert, chain, reply)
        return reply

    def _subject_of(self, ca_cert: x509.Certificate) -> x509.Name:
        """`ca_cert.subject`, kept for the last certificate asked (`_ca_subject`)."""
        return self._kept_subject(ca_cert)[1]

    def _kept_subject(self, ca_cert: x509.Certificate
                      ) -> tuple[x509.Certificate, x509.Name, scep_policy.Needles | None]:
        kept = self._ca_subject
        if kept is None or kept[0] is not ca_cert:
            subject = ca_cert.subject
            kept = self._ca_subject = (ca_cert, subject, scep_policy.name_needles(subject))
        return kept

    def get_next_ca_cert(self, key: rsa.RSAPrivateKey) -> ScepReply:
        """The shadow CA certificate, signed by the current CA (RFC 8894 4.7). chosen: a
        server with no shadow answers 404, as for a CA certificate it does not have."""
        body = cs_rollover.next_ca_cert_body(self.cs, key)
        if body is None:
            return _NO_CA
        return ScepReply(200, "OK", cs_rollover.NEXT_CA_CONTENT_TYPE, body, "GetNextCACert")

    # -- PKIOperation ----------------------------------------------------------------------
    def pki_operation(self, der: bytes, now: datetime, key: rsa.RSAPrivateKey,
                      random_bytes: Callable[[int], bytes]) -> tuple[ScepReply, list[Effect]]:
        """A CertRep for any bytes (a 404 only when the server has no CA certificate)."""
        if self.cs.ca_cert is None:
            return _NO_CA, []
        self._served += 1
        n = self._served
        ex = _Exchange(now, key, random_bytes, n,
                       [_RECEIVED,
                        Debug(f"read SCEP: registered and bound service SCEP_READ_DB_{n}")])
        try:
            message = scep.parse_pki_message(der)
        except scep.ScepError as bad:
            ex.fx += self._read_done(n)
            return self._failure(ex, bad.fail_info, str(bad))
        ex.message = message
        ex.fx.append(Debug(f"scep msg type - {int(message.message_type)}"))
        ex.fx.append(Debug(f"trans id - {message.transaction_id}"))
        ex.fx += self._read_done(n)
        if not message.signature_valid:
            return self._failure(ex, scep.FailInfo.BAD_MESSAGE_CHECK,
                                 "the message signature does not verify")
        refusal = scep_policy.check_signer(message.signer_cert)
        if refusal is not None:
            return self._refuse(ex, refusal)
        try:
            if message.enveloped is not None:
                ex.content, ex.for_shadow = cs_rollover.open_envelope(
                    self.cs, message.enveloped, key)
        except scep.ScepError as bad:
            return self._failure(ex, bad.fail_info, str(bad))
        handler = _HANDLERS.get(message.message_type)
        if handler is None:
            return self._failure(ex, scep.FailInfo.BAD_REQUEST, "unsupported message type")
        return handler(self, ex, message, self.cs.ca_cert)

    def _read_done(self, n: int) -> list[Effect]:
        return [_READ,
                Debug(f"read SCEP: unregistered and unbound service SCEP_READ_DB_{n}")]

    def _pkcs_req(self, ex: _Exchange, message: scep.PkiMessage, ca_cert: x509.Certificate
                  ) -> tuple[ScepReply, list[Effect]]:
        """PKCSReq and RenewalReq: checks (scep_policy), then a poll or a new request."""
        parsed = scep_policy.check_request(ex.content)
        if isinstance(parsed, scep_policy.Refusal):
            return self._refuse(ex, parsed)
        csr = parsed.csr
        # Signed with a certificate this CA issued: a renewal (draft-11 App. G), always a
        # new request even though IOS's transactionID (a hash of the key) repeats.
        _cert, subject, needles = self._kept_subject(ca_cert)
        renewal = scep_policy.is_renewal_signer(message.signer_cert, ca_cert,
                                                self.cs.revoked, ex.now, subject, needles)
        via_ra = renewal and ra_forward.forwarded_by_ra(message.signer_cert, csr)
        refusal = scep_policy.check_signer_binding(message.signer_cert, csr, renewal,
                                                   parsed.public_key)
        if refusal is not None:
            return self._refuse(ex, refusal)
        renewal = renewal and not via_ra  # an RA's forward sent again is a poll
        known = self.cs.requests.find_by_transaction(message.transaction_id,
                                                     include_rejected=False)
        if known is not None and known.csr_der == ex.content and not renewal:
            # A repeated PKCSReq for a known transaction is a poll (draft-11 App. E).
            return self._answer_for(ex, known.req_id, poll=True)
        try:
            entry, more = cs_desk.submit(
                self.cs, ex.content, message.transaction_id, "scep", ex.now, ex.key,
                # Without `grant auto trustpoint|tp-list` there is no anchor to vouch, and
                # the signer's validity need not be read.
                renewal=renewal, vouched=bool(self.grant_anchors) and grant_rules.vouched(
                    message.signer_cert, self.grant_anchors, ex.now),
                via_ra=via_ra, rollover=ex.for_shadow, parsed=parsed)
        except (ValueError, cs_desk.DeskError) as refused:
            return self._failure(ex, scep.FailInfo.BAD_REQUEST, str(refused))
        ex.fx += more
        if self.cs.config.ra_transparent:
            self.received[message.transaction_id] = message.raw
        # The certificate just issued for it, as signed (the reply carries it): loading it
        # again from the database's DER would make a second object of the same bytes.
        issued = next((effect.certificate for effect in more
                       if type(effect) is CertificateIssued and effect.req_id == entry.req_id),
                      None)
        return self._answer_for(ex, entry.req_id, poll=False, issued=issued)

    def _get_cert_initial(self, ex: _Exchange, message: scep.PkiMessage,
                          ca_cert: x509.Certificate) -> tuple[ScepReply, list[Effect]]:
        """A poll: the transaction must exist and its IssuerAndSubject must match."""
        entry = self.cs.requests.find_by_transaction(message.transaction_id)
        if entry is None:
            return self._failure(ex, scep.FailInfo.BAD_CERT_ID,
                                 "no request with this transaction ID")
        # A client of an RA names the CA that will issue its certificate (`enrollment mode
        # ra`): the RA's issuing CA, first in its chain.
        issuer = self.chain[0] if self.cs.config.is_ra and self.chain else ca_cert
        refusal = self._check_poll(ex.content, issuer, entry)
        if refusal is not None:
            return self._refuse(ex, refusal)
        return self._answer_for(ex, entry.req_id, poll=True)

    def _check_poll(self, content: bytes, issuer: x509.Certificate,
                    entry: EnrollmentRequest) -> scep_policy.Refusal | None:
        """`scep_policy.check_poll`, asked once per poll body, CA certificate and request:
        a client polls again and again with the same IssuerAndSubject, and the answer
        depends on nothing else (the two names in it, the CA's subject and the
        request's), while reading both names and the request costs more than the rest
        of the check."""
        kept = self._polls
        key = (content, entry.csr_der)
        if kept[0] is issuer and key in kept[1]:
            return kept[1][key]
        refusal = scep_policy.check_poll(content, issuer, entry.csr, self._subject_of(issuer))
        if kept[0] is not issuer or len(kept[1]) >= _POLLS_KEPT:
            kept = self._polls = (issuer, {})
        kept[1][key] = refusal
        return refusal

    def _answer_for(self, ex: _Exchange, req_id: int, *, poll: bool,
                    issued: x509.Certificate | None = None
                    ) -> tuple[ScepReply, list[Effect]]:
        """The reply for request `req_id`: its certificate once granted, else PENDING or
        FAILURE. `issued`: that certificate, when the caller has just issued it."""
        entry = self.cs.requests.get(req_id)
        # An RA's granted request waits for its issuing CA's certificate (ra_forward).
        granted = entry.state is RequestState.GRANTED and entry.certificate_der is not None
        if poll:
            ex.fx += [Debug(line) for line in issuance.poll_debug(req_id, granted)]
        if granted and entry.certificate_der is not None and self.cs.ca_cert is not None:
            if issued is None:
                issued = x509util.load_cert(entry.certificate_der)
            inner = scep.degenerate_certs([issued, self.cs.ca_cert, *self.chain])
            reply = self._cert_rep(ex, scep.PkiStatus.SUCCESS, content=inner)
            ex.fx += self._written(ex.n)
            ex.fx.append(_CERTIFICATE_SENT)
            return reply, ex.fx
        if entry.state is RequestState.REJECTED:
            return self._failure(ex, scep.FailInfo.BAD_REQUEST, "request rejected")
        reply = self._cert_rep(ex, scep.PkiStatus.PENDING)
        ex.fx += self._written(ex.n)
        ex.fx.append(_SENT_PENDING)
        return reply, ex.fx

    def _get_cert(self, ex: _Exchange, message: scep.PkiMessage, ca_cert: x509.Certificate
                  ) -> tuple[ScepReply, list[Effect]]:
        """GetCert: the certificate IssuerAndSerialNumber names, if this CA issued it."""
        try:
            issuer, serial = scep.parse_issuer_and_serial(ex.content)
        except scep.ScepError:
            return self._failure(ex, scep.FailInfo.BAD_REQUEST, "bad IssuerAndSerial")
        cert = cs_desk.issued_certificate(self.cs, serial)
        if cert is None or cert.issuer != issuer:
            return self._failure(ex, scep.FailInfo.BAD_CERT_ID, "no such certificate")
        reply = self._cert_rep(ex, scep.PkiStatus.SUCCESS,
                               content=scep.degenerate_certs([cert]))
        return reply, ex.fx + self._written(ex.n)

    def _get_crl(self, ex: _Exchange, message: scep.PkiMessage, ca_cert: x509.Certificate
                 ) -> tuple[ScepReply, list[Effect]]:
        crl = self.cs.crl
        if crl is None:  # not `or`: a CRL with no entries has length 0
            crl = self.relayed_crl
        if crl is None:
            return self._failure(ex, scep.FailInfo.BAD_CERT_ID, "no CRL")
        reply = self._cert_rep(ex, scep.PkiStatus.SUCCESS,
                               content=scep.degenerate_certs([], [crl]))
        return reply, ex.fx + self._written(ex.n)

    # -- replies ---------------------------------------------------------------------------
    def _written(self, n: int) -> list[Effect]:
        return [Debug(f"write SCEP: registered and bound service SCEP_WRTE_DB_{n}"),
                _WRITE,
                Debug(f"write SCEP: unregistered and unbound service SCEP_WRTE_DB_{n}")]

    def _refuse(self, ex: _Exchange, refusal: scep_policy.Refusal
                ) -> tuple[ScepReply, list[Effect]]:
        return self._failure(ex, refusal.fail_info, refusal.text)

    def _failure(self, ex: _Exchange, fail_info: scep.FailInfo, text: str
                 ) -> tuple[ScepReply, list[Effect]]:
        ex.fx.append(Debug(f"SCEP request failed: {text}"))
        reply = self._cert_rep(ex, scep.PkiStatus.FAILURE, fail_info=fail_info, fail_text=text)
        return reply, ex.fx + self._written(ex.n)

    def _cert_rep(self, ex: _Exchange, status: scep.PkiStatus, *,
                  content: bytes | None = None, fail_info: scep.FailInfo | None = None,
                  fail_text: str | None = None) -> ScepReply:
        """A CertRep mirroring the request's algorithms; ``content`` (SUCCESS only) is
        enveloped to the request's signer.

        A message too broken to parse still gets a CertRep FAILURE (not an HTTP error): with
        no request to answer, the transactionID and recipientNonce stay empty.
        """
        request = ex.message
        ca_cert = self.cs.ca_cert
        if ca_cert is None:  # pki_operation answered 404 already; kept for the type checker
            return _NO_CA
        profile = scep.RFC_8894
        recipients: list[x509.Certificate] = []
        if request is not None:
            profile = _mirror(self._reply_cipher(request, content), request.digest)
            recipients = [request.signer_cert]
        body = scep.build_pki_message(
            message_type=scep.MessageType.CERT_REP,
            transaction_id=request.transaction_id if request else "",
            signer_cert=ca_cert, signer_key=ex.key, profile=profile,
            random_bytes=ex.random_bytes,
            recipients=recipients if content is not None else (),
            content=content if recipients else None,
            recipient_nonce=request.sender_nonce if request else b"",
            pki_status=status, fail_info=fail_info, fail_info_text=fail_text,
            extra_certs=list(self.chain), signing_time=ex.now.replace(microsecond=0))
        return ScepReply(200, "OK", scep.CONTENT_TYPES["pki"], body, "CertRep",
                         status.name)

    @staticmethod
    def _reply_cipher(request: scep.PkiMessage, content: bytes | None) -> str:
        """The request's content cipher, which the reply's envelope mirrors.

        Only a reply with content has an envelope, and then the request's own envelope was
        decrypted, so its cipher is known; a FAILURE about a broken envelope must not read it
        again (it would fail the same way).
        """
        if content is None or request.enveloped is None:
            return scep.RFC_8894.cipher
        try:
            return scep.envelope_algorithm(request.enveloped)
        except scep.ScepError:
            return scep.RFC_8894.cipher


_Handler = Callable[[ScepService, _Exchange, scep.PkiMessage, x509.Certificate],
                    tuple[ScepReply, list[Effect]]]
_HANDLERS: dict[scep.MessageType, _Handler] = {
    scep.MessageType.PKCS_REQ: ScepService._pkcs_req,
    scep.MessageType.RENEWAL_REQ: ScepService._pkcs_req,
    scep.MessageType.GET_CERT_INITIAL: ScepService._get_cert_initial,
    scep.MessageType.GET_CERT: ScepService._get_cert,
    scep.MessageType.GET_CRL: ScepService._get_crl,
}
"""What answers each message type a CA takes (made once, not per message)."""
