"""A certificate server in RA mode: authorising requests and forwarding them (sans-IO).

Theory of operation (cisco-cs.md 13, cisco-cs-docs.md 1): a server configured `mode ra`
"authenticates/authorises requests and forwards granted ones to the issuing CA"; it never
signs a certificate itself. Its own certificate (the *RA certificate*, subject
`cn=ioscs RA` or `ou=ioscs RA`) comes from the issuing CA over SCEP, as a subordinate's CA
certificate does, and is what the RA answers its clients with: it signs their CertReps and
opens the envelopes they address to it.

One request's life on the RA:

    client PKCSReq  ->  filed on the RA (its own database, its own grant mode)
    RA grant        ->  `authorise`: granted, no certificate yet; `RaForwarder` tracks it
    forward         ->  PKCSReq to the issuing CA: the client's PKCS#10 signed with the RA
                        certificate (`mode ra`), or the client's original pkiMessage
                        unchanged (`mode ra transparent`)
    CA PENDING      ->  poll the CA (GetCertInitial, signed by the RA) every retry period
    CA SUCCESS      ->  the certificate is stored with the request (`deliver`)
    CA FAILURE      ->  the request is rejected on the RA (`refuse`)
    no answer       ->  `%PKI-3-SOCKETSEND`, tried again after the retry period
    client poll     ->  the RA answers PENDING until the certificate is stored, then SUCCESS

The issuing CA recognises a forwarded request by its signer: a live certificate it issued
whose subject holds `ioscs RA` and whose key is not the one being certified
(`forwarded_by_ra`). `grant ra-auto` grants those at once (cisco-cs.md 11: "requests
arriving through a recognised RA (`ioscs RA` in RA cert subject) auto-granted").

chosen (the reference says nothing on these): the RA publishes no CRL and issues no serial
numbers (it keeps the serial file and request database every server keeps); it forwards
with the client's transactionID, so that a forward sent twice (its answer lost) is a poll
on the CA, not a second request; it retries an unreachable CA for as long as the request
stays in its database (`lifetime enrollment-request`); a transparent RA, which cannot sign
as its client, polls the CA with its own signature; a granted request still waiting after
a reload is forwarded again when the RA is enabled (the CA takes it as a poll), and a
transparent RA, which kept its clients' original requests in memory only, then forwards it
signed as a plain RA does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sim.pki import scep, x509util
from sim.pki.ca_requests import RequestKind, RequestState, names_ra, request_db_file
from sim.pki.cs_effects import Debug, Effect, Syslog, WriteFile
from sim.pki.cs_fsm import CsState
from sim.pki.issuance import Decision
from sim.pki.scep.bodies import LOAD_ERRORS

if TYPE_CHECKING:
    from sim.pki.cs_server import CertificateServer

SOCKETSEND = "%PKI-3-SOCKETSEND: Failed to send out message to CA server."
"""The IOS PKI client's message when the CA does not answer (cisco-cs.md 16 [V]); the RA
sends through the same client."""


def forwarded_by_ra(signer: x509.Certificate, csr: x509.CertificateSigningRequest) -> bool:
    """A PKCSReq whose signer (already known to be a live certificate of this CA) is a
    recognised RA's certificate, certifying another key: a request an RA forwards.

    A renewal with a new key (`auto-enroll ... regenerate`) is also signed by a certificate
    of this CA for another key; only the `ioscs RA` name tells the two apart."""
    try:
        if not names_ra(signer.subject):
            return False
        return not _same_key(signer.public_key(), csr.public_key())
    except LOAD_ERRORS:
        return False


def _same_key(a: CertificatePublicKeyTypes, b: CertificatePublicKeyTypes) -> bool:
    spki = Encoding.DER, PublicFormat.SubjectPublicKeyInfo
    return a.public_bytes(*spki) == b.public_bytes(*spki)


def ra_auto(decision: Decision, kind: RequestKind, grant: str, via_ra: bool) -> Decision:
    """`grant ra-auto` on the issuing CA: a router request a recognised RA forwarded is
    granted at receipt; every other decision stands."""
    if via_ra and grant == "ra-auto" and kind is RequestKind.ROUTER:
        return Decision.GRANT
    return decision


def split_ra_answer(certs: list[x509.Certificate]
                    ) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    """A GetCACert answer as (CA certificates, RA certificates): an RA answers with its own
    certificate, which cannot sign certificates, before its CA's (scep.md 1.13: "GetCACert
    returns CA + RA certs"). A lone certificate, or an answer with no CA certificate in it
    (an old CA without BasicConstraints), is all CA."""
    cas = [c for c in certs if x509util.can_sign_certificates(c)]
    if len(certs) < 2 or not cas:
        return list(certs), []
    return cas, [c for c in certs if c not in cas]


# -- the RA's request desk ----------------------------------------------------------------
def _save(cs: CertificateServer) -> WriteFile:
    return WriteFile(request_db_file(cs.name), cs.requests.to_bytes())


def authorise(cs: CertificateServer, req_id: int) -> list[Effect]:
    """`crypto pki server RA grant N` (or the RA's own `grant auto`): the RA vouches for
    the request, which now goes to the issuing CA; it stays without a certificate until
    the CA's comes back. Raises ValueError when the request is not pending."""
    entry = cs.requests.authorise(req_id)
    return [Debug(f"Granting enrollment request {req_id}"),
            Debug(f"reqID={req_id} authorised, fingerprint={entry.fingerprint}; "
                  "forwarding it to the issuing CA"),
            _save(cs)]


def awaiting_ca(cs: CertificateServer) -> list[int]:
    """Requests the RA has granted whose certificate has not come back from the CA."""
    return [e.req_id for e in cs.requests
            if e.state is RequestState.GRANTED and e.certificate_der is None]


# -- forwarding -----------------------------------------------------------------------------
@dataclass
class Forward:
    """One granted request on its way to the issuing CA and back."""

    req_id: int
    transaction_id: str
    due: datetime | None
    attempts: int = 0
    """Messages sent to the CA for it so far."""
    answered: bool = False
    """The CA has filed the request (a CertRep came back): poll from now on."""
    original: bytes | None = None
    """`mode ra transparent`: the client's PKCSReq as the RA received it."""
    result: str = ""
    """The CA's latest answer: its pkiStatus, or why there was none to read."""


@dataclass(frozen=True)
class RaIdentity:
    """What the RA signs and decrypts with, and the CA it forwards to."""

    ra_cert: x509.Certificate
    ra_key: rsa.RSAPrivateKey
    ca_cert: x509.Certificate
    profile: scep.Profile


class RaForwarder:
    """The forwarding of one RA's granted requests, as a timed core: `next_deadline()` and
    `on_timer(now)` for the timer driver; `message` to build what goes to the CA,
    `on_reply`/`on_failure` to take its answer. State changes of the RA's request
    database are made here and returned as effects (debug lines, syslog, the database
    file), like the rest of the server's desk."""

    def __init__(self, cs: CertificateServer, random_bytes: Callable[[int], bytes]) -> None:
        self.cs = cs
        self._random_bytes = random_bytes
        self.forwards: dict[int, Forward] = {}

    def track(self, now: datetime, original: Callable[[str], bytes | None]) -> bool:
        """Start forwarding every request granted on the RA that is not yet on its way
        (granted just now, or before a reload); True if one was added. `original` gives
        the client's PKCSReq by transactionID where the RA kept it (transparent)."""
        added = False
        for req_id in awaiting_ca(self.cs):
            if req_id in self.forwards:
                continue
            entry = self.cs.requests.get(req_id)
            txn = entry.transaction_id or f"RA-{self.cs.name}-{req_id}"
            kept = original(txn) if self.cs.config.ra_transparent else None
            self.forwards[req_id] = Forward(req_id, txn, now, original=kept)
            added = True
        return added

    def next_deadline(self) -> datetime | None:
        return min((f.due for f in self.forwards.values() if f.due is not None), default=None)

    def on_timer(self, now: datetime) -> list[Forward]:
        """The forwards due now, earliest first; each is in flight until its answer. A
        server that is not enabled (shut, or waiting for its clock) forwards nothing:
        chosen, its requests are taken up again when it is enabled (`track`)."""
        due = sorted((f for f in self.forwards.values()
                      if f.due is not None and f.due <= now), key=lambda f: (f.due, f.req_id))
        enabled = self.cs.state is CsState.ENABLED
        flying = []
        for fwd in due:
            fwd.due = None
            if self.live(fwd) and (enabled or self._drop(fwd)):
                flying.append(fwd)
        return flying

    def live(self, fwd: Forward) -> bool:
        """Whether `fwd`'s request still waits for the CA (not removed, expired or settled
        meanwhile); a forward that does not is dropped."""
        if fwd.req_id in awaiting_ca(self.cs) and self.forwards.get(fwd.req_id) is fwd:
            return True
        return self._drop(fwd)

    def _drop(self, fwd: Forward) -> bool:
        if self.forwards.get(fwd.req_id) is fwd:
            del self.forwards[fwd.req_id]
        return False

    def on_clock_step(self, delta: timedelta) -> None:
        for fwd in self.forwards.values():
            if fwd.due is not None:
                fwd.due += delta

    # -- messages ----------------------------------------------------------------------------
    def operation(self, fwd: Forward) -> str:
        return "GetCertInitial" if fwd.answered else "PKCSReq"

    def message(self, fwd: Forward, ident: RaIdentity, now: datetime) -> tuple[bytes, list[Effect]]:
        """The pkiMessage to send for `fwd` now, and the debug lines about it."""
        entry = self.cs.requests.get(fwd.req_id)
        fwd.attempts += 1
        if not fwd.answered and fwd.original is not None:
            return fwd.original, [Debug(f"reqID={fwd.req_id}: forwarding the client's "
                                        "original request to the issuing CA (transparent)")]
        if fwd.answered:
            kind = scep.MessageType.GET_CERT_INITIAL
            content = scep.issuer_and_subject(ident.ca_cert.subject, entry.csr.subject)
            line = f"reqID={fwd.req_id}: polling the issuing CA"
        else:
            kind = scep.MessageType.PKCS_REQ
            content = entry.csr_der
            line = f"reqID={fwd.req_id}: forwarding the request to the issuing CA"
        der = scep.build_pki_message(
            message_type=kind, transaction_id=fwd.transaction_id, signer_cert=ident.ra_cert,
            signer_key=ident.ra_key, profile=ident.profile, random_bytes=self._random_bytes,
            recipients=[ident.ca_cert], content=content,
            extra_certs=[ident.ra_cert], signing_time=now.replace(microsecond=0))
        return der, [Debug(line)]

    # -- answers ---------------------------------------------------------------------------
    def on_failure(self, fwd: Forward, now: datetime, retry: timedelta) -> list[Effect]:
        """No answer from the CA: say so, try again after the retry period."""
        if not self.live(fwd):
            return []
        fwd.due = now + retry
        fwd.result = "no answer"
        return [Debug(f"reqID={fwd.req_id}: the issuing CA did not answer; retrying"),
                Syslog(SOCKETSEND)]

    def on_reply(self, fwd: Forward, now: datetime, body: bytes, ident: RaIdentity,
                 retry: timedelta) -> list[Effect]:
        """The CA's CertRep for `fwd`."""
        fwd.result = "bad reply"
        if not self.live(fwd):
            return []
        try:
            message = scep.parse_pki_message(body)
        except scep.ScepError as bad:
            fwd.due = now + retry
            return [Debug(f"reqID={fwd.req_id}: bad reply from the issuing CA: {bad}"),
                    Syslog(SOCKETSEND)]
        status = message.pki_status
        if message.message_type is not scep.MessageType.CERT_REP or status is None:
            fwd.due = now + retry
            return [Debug(f"reqID={fwd.req_id}: the issuing CA's reply is not a CertRep"),
                    Syslog(SOCKETSEND)]
        if not message.signature_valid or not _signed_by(message, ident.ca_cert):
            fwd.due = now + retry
            return [Debug(f"reqID={fwd.req_id}: the reply is not signed by the issuing CA"),
                    Syslog(SOCKETSEND)]
        polled, fwd.answered = fwd.answered, True
        fwd.result = status.name
        if status is scep.PkiStatus.FAILURE:
            return self._refused(fwd, message.fail_info)
        if status is scep.PkiStatus.PENDING:
            fwd.due = now + retry
            return [Debug(f"reqID={fwd.req_id}: pending at the issuing CA")]
        cert = self._issued(fwd, message, ident)
        if cert is None and not polled:
            # A transparent forward's certificate is enveloped to the client: fetch it with
            # the RA's own poll, at once.
            fwd.due = now
            return [Debug(f"reqID={fwd.req_id}: granted by the issuing CA; fetching it")]
        if cert is None:  # the RA's own poll brought nothing it can use: try again later
            fwd.due = now + retry
            return [Debug(f"reqID={fwd.req_id}: the issuing CA sent no certificate for "
                          "this request")]
        return self._delivered(fwd, cert)

    def _issued(self, fwd: Forward, message: scep.PkiMessage, ident: RaIdentity
                ) -> x509.Certificate | None:
        if message.enveloped is None:
            return None
        try:
            inner = scep.decrypt_envelope(message.enveloped, ident.ra_cert, ident.ra_key)
            certs, _crls = scep.parse_degenerate(inner)
        except scep.ScepError:
            return None
        wanted = self.cs.requests.get(fwd.req_id).csr.public_key()
        try:  # certificates from the network: their fields are read lazily
            return next((c for c in certs
                         if _same_key(c.public_key(), wanted)
                         and x509util.verify_signature(c, ident.ca_cert.public_key())), None)
        except LOAD_ERRORS:
            return None

    def _delivered(self, fwd: Forward, cert: x509.Certificate) -> list[Effect]:
        del self.forwards[fwd.req_id]
        self.cs.requests.deliver(fwd.req_id, x509util.cert_der(cert), cert.serial_number)
        return [Debug(f"reqID={fwd.req_id}: certificate serial 0x{cert.serial_number:X} "
                      "received from the issuing CA"), _save(self.cs)]

    def _refused(self, fwd: Forward, fail_info: scep.FailInfo | None) -> list[Effect]:
        del self.forwards[fwd.req_id]
        self.cs.requests.refuse(fwd.req_id)
        why = fail_info.name if fail_info is not None else "no failInfo"
        return [Debug(f"reqID={fwd.req_id}: rejected by the issuing CA ({why})"),
                _save(self.cs)]


def _signed_by(message: scep.PkiMessage, ca_cert: x509.Certificate) -> bool:
    try:
        return _same_key(message.signer_cert.public_key(), ca_cert.public_key())
    except LOAD_ERRORS:
        return False
