"""The certificate server's enrollment request database (sans-IO).

Theory of operation (cisco-cs.md section 7, the seed's `debug crypto pki server` transcript):

- Every PKCS#10 request (SCEP PKCSReq, or `request pkcs10` on the terminal) becomes an entry with
  the next ReqID: "positive integer starting at 1, incremented per new request". IDs are never
  reused, not even after `remove`.
- "every SCEP request is a new request even if the subject or key duplicates an earlier one",
  except that a repeated PKCSReq with a transactionID the database holds is a poll (draft-11
  App. E; micromdm scepclient resends the identical PKCSReq while pending): `submit` returns the
  existing entry.
- `pending` -> `granted` (the certificate is stored so late polls still get it) or `pending` ->
  `rejected`; `_TRANSITIONS` is the only place saying which moves are legal.
- Every entry, whatever its state, is dropped once `lifetime enrollment-request` has passed since
  it was created (IOS timer `ER EXPIRE <reqid>`): the timer driver asks `next_deadline()` and
  calls `expire(now)`.

Persistence: IOS 12.3 describes database level `minimum` as "only what is needed to keep issuing
without serial conflicts" and keeps requests in memory. pkilab writes the request database to
`<cs>.db` at *every* level (`persists_requests`): losing granted-but-unpolled requests on a
reload would strand polling clients such as the seed's sub-CS. The choice lives in that one
function. Per-certificate files (`.cnm`, `.cer`) follow the level: see `level_files`.
"""

from __future__ import annotations

import base64
import functools
import heapq
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Literal, cast

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from sim.pki import x509util
from sim.pki.cs_settings import DatabaseLevel
from sim.pki.deferred import Deferred

Source = Literal["scep", "terminal"]
SOURCES: tuple[str, ...] = ("scep", "terminal")

RA_NAME_VALUE = "ioscs RA"
"""12.3(7)T RA guide: the RA's subject must contain `cn=ioscs RA` or `ou=ioscs RA`."""


class RequestKind(Enum):
    """Which section of `info requests` an entry is listed in."""

    SUB_CA = "sub-ca"
    RA = "ra"
    ROUTER = "router"


class RequestState(Enum):
    """The State column.

    `pending` and `granted` are the words IOS prints [V]. The word shown after `crypto pki server
    NAME reject <id>` was never captured; the doc's state table calls it "denied", the CLI verb is
    "reject". pkilab prints `rejected`, matching the verb an admin just typed. No EXPIRED state:
    expired entries leave the database (IOS purges them), so they are never displayed.
    """

    PENDING = "pending"
    GRANTED = "granted"
    REJECTED = "rejected"


_TRANSITIONS: dict[tuple[RequestState, str], RequestState] = {
    (RequestState.PENDING, "grant"): RequestState.GRANTED,
    (RequestState.PENDING, "reject"): RequestState.REJECTED,
}
"""(state, operation) -> new state. `remove` and expiry are legal in every state."""

SECTIONS: tuple[tuple[RequestKind, str], ...] = (
    (RequestKind.SUB_CA, "Subordinate CA certificate requests:"),
    (RequestKind.RA, "RA certificate requests:"),
    (RequestKind.ROUTER, "Router certificates requests:"),
)
"""The three fixed sections of the listing, in IOS order (with IOS's "certificates" typo)."""

HEADER = f"{'ReqID':<7}{'State':<11}{'Fingerprint':<33}SubjectName"
RULE = "-" * 62


def classify(csr: x509.CertificateSigningRequest, subject: x509.Name | None = None
             ) -> RequestKind:
    """Sort a PKCS#10 request into the database's sections.

    SUB_CA: the extensionRequest holds basicConstraints CA:TRUE (seed: "found basic_constraints
    in enrollment request" / "received a sub-CS cert enrollment request"). RA: the subject has
    `cn=ioscs RA` or `ou=ioscs RA` (no RA-specific request extension is known, cisco-cs.md 13).
    Everything else is a router request. `subject`: `csr.subject` when the caller has it
    (cryptography builds a new Name at every read).
    """
    for extension in csr.extensions:  # get_extension_for_class, without its isinstance
        if extension.oid == ExtensionOID.BASIC_CONSTRAINTS:
            if cast(x509.BasicConstraints, extension.value).ca:
                return RequestKind.SUB_CA
            break
    return RequestKind.RA if names_ra(csr.subject if subject is None else subject) \
        else RequestKind.ROUTER


def names_ra(name: x509.Name) -> bool:
    """`cn=ioscs RA` or `ou=ioscs RA` in `name` (12.3(7)T RA guide, cisco-cs.md 13)."""
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME):
        for attr in name.get_attributes_for_oid(oid):
            if isinstance(attr.value, str) and attr.value.strip().lower() == RA_NAME_VALUE.lower():
                return True
    return False


@dataclass(frozen=True, slots=True)
class EnrollmentRequest:
    """One row of the enrollment request database."""

    req_id: int
    kind: RequestKind
    state: RequestState
    csr_der: bytes
    fingerprint: str
    """MD5 of the request DER, 32 upper-case hex, no spaces (the Fingerprint column)."""
    subject_text: str
    """IOS style, last RDN first: `hostname=R15,cn=R15`."""
    transaction_id: str | None
    """SCEP transactionID; None for terminal (`request pkcs10`) requests."""
    source: Source
    created: datetime
    expires: datetime
    """created + `lifetime enrollment-request`."""
    certificate_der: bytes | None = None
    serial: int | None = None

    @property
    def csr(self) -> x509.CertificateSigningRequest:
        return x509.load_der_x509_csr(self.csr_der)


def _load_csr(csr_der: bytes) -> x509.CertificateSigningRequest:
    try:
        return x509.load_der_x509_csr(csr_der)
    except ValueError as exc:
        raise ValueError(f"not a DER PKCS#10 request: {exc}") from exc


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """A PKCS#10 request already read from its DER by the caller (the SCEP service checks
    every request before filing it, `scep_policy.check_request`), with its subject: filing
    and issuing use them instead of reading the DER and building the subject again
    (cryptography makes a new Name at every `subject` read), and its public key, which
    the signer check and the certificate issued take again (cryptography makes a new key
    object at every `public_key()`)."""

    csr: x509.CertificateSigningRequest
    subject: x509.Name
    public_key: rsa.RSAPublicKey


def _new_entry(req_id: int, csr_der: bytes, transaction_id: str | None, source: str,
               created: datetime, expires: datetime, parsed: ParsedRequest | None = None
               ) -> EnrollmentRequest:
    """A new pending entry; `parsed` is `csr_der` already read (see `ParsedRequest`)."""
    if source not in SOURCES:
        raise ValueError(f"unknown request source {source!r}; expected one of {SOURCES}")
    if parsed is None:
        csr = _load_csr(csr_der)
        subject = csr.subject
    else:
        csr, subject = parsed.csr, parsed.subject
    return EnrollmentRequest(
        req_id=req_id,
        kind=classify(csr, subject),
        state=RequestState.PENDING,
        csr_der=csr_der,
        fingerprint=x509util.fingerprint_hex(csr_der, "md5"),
        subject_text=x509util.format_dn_ios(subject),
        transaction_id=transaction_id,
        source=source,  # type: ignore[arg-type]
        created=created,
        expires=expires,
    )


class RequestDatabase:
    """Entries by ReqID plus the next ReqID to hand out (never reused)."""

    def __init__(self) -> None:
        self._entries: dict[int, EnrollmentRequest] = {}
        """By ReqID, kept in ascending ReqID order (a new ReqID is always the highest)."""
        self._next_id = 1
        self._image_sizes: dict[int, int] = {}
        """The length of each entry's saved lines (`to_bytes`), found when the entry
        changes: a busy CA saves its database after every request, and a save needs only
        the length at once (`image`); making every entry's lines again at each save grew
        with the square of its requests, and keeping them all doubled the CA's memory."""
        self._image_bytes = 0
        """The length of all entry images together."""
        self._expiries: list[tuple[datetime, int]] = []
        """A heap of (expires, ReqID); an item whose entry is gone is skipped when met."""
        self._by_transaction: dict[str, list[int]] | None = {}
        """ReqIDs by SCEP transactionID, ascending: every PKCSReq and poll looks one up.
        None after a removal, rebuilt at the next lookup (removals are rare)."""
        self._parsed: tuple[int, ParsedRequest] | None = None
        """The newest entry's request as its submitter read it (`parsed`), if given."""

    # -- queries ----------------------------------------------------------------------------
    @property
    def next_id(self) -> int:
        return self._next_id

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, req_id: object) -> bool:
        return req_id in self._entries

    def __iter__(self) -> Iterator[EnrollmentRequest]:
        """Entries in ascending ReqID order (a copy: callers may change the database)."""
        return iter(list(self._entries.values()))

    def get(self, req_id: int) -> EnrollmentRequest:
        try:
            return self._entries[req_id]
        except KeyError:
            raise KeyError(f"no enrollment request with ReqID {req_id}") from None

    def ids(self, state: RequestState | None = None) -> list[int]:
        """ReqIDs in ascending order, optionally only those in `state`."""
        return [e.req_id for e in self if state is None or e.state is state]

    def find_by_transaction(self, transaction_id: str, *, include_rejected: bool = True
                            ) -> EnrollmentRequest | None:
        """The newest entry created by the SCEP transaction `transaction_id`, if still held.

        A rejected request ends its transaction: IOS keys the transactionID on the public
        key, so a router that enrolls again after a rejection sends the same ID, and that
        must start a new request (`include_rejected=False`) rather than fetch the refusal.
        """
        for req_id in reversed(self._transaction_index().get(transaction_id, ())):
            entry = self._entries[req_id]
            if include_rejected or entry.state is not RequestState.REJECTED:
                return entry
        return None

    def parsed(self, req_id: int) -> ParsedRequest | None:
        """Request `req_id` as read when it was filed (`submit(parsed=...)`), while it is
        the newest entry: a CA granting requests on arrival issues from it instead of
        reading the DER again. None for any other entry."""
        kept = self._parsed
        if kept is None or kept[0] != req_id:
            return None
        return kept[1]

    def _transaction_index(self) -> dict[str, list[int]]:
        if self._by_transaction is None:
            index: dict[str, list[int]] = {}
            for req_id in sorted(self._entries):
                txn = self._entries[req_id].transaction_id
                if txn is not None:
                    index.setdefault(txn, []).append(req_id)
            self._by_transaction = index
        return self._by_transaction

    def next_deadline(self) -> datetime | None:
        """Earliest expiry (IOS `ER EXPIRE <reqid>`), or None with an empty database."""
        heap = self._expiries
        while heap and not self._current(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def _current(self, item: tuple[datetime, int]) -> bool:
        """A heap item still stands for an entry of the database (an entry keeps its
        expiry through every change of state)."""
        entry = self._entries.get(item[1])
        return entry is not None and entry.expires == item[0]

    # -- changes ----------------------------------------------------------------------------
    def submit(self, csr_der: bytes, transaction_id: str | None, source: Source,
               now: datetime, lifetime_minutes: int, *, renewal: bool = False,
               parsed: ParsedRequest | None = None) -> EnrollmentRequest:
        """Add a request, or return the existing entry when this is a repeated PKCSReq.

        A known transactionID with the identical request is a poll (draft-11 App. E) and the
        existing entry comes back unchanged; callers that must tell a poll from a new request
        ask `find_by_transaction` first. A known transactionID with a *different* request is
        refused (ValueError) while the first is pending: one transaction enrolls one request.
        Once it was granted, a different request is a re-enrollment and is filed anew; so is
        any `renewal` (a request signed with the certificate it renews, draft-11 App. G).
        `parsed`: `csr_der` as the caller already read it (`ParsedRequest`).
        """
        if lifetime_minutes <= 0:
            raise ValueError(f"lifetime enrollment-request must be positive: {lifetime_minutes}")
        if transaction_id is not None and not renewal:
            known = self.find_by_transaction(transaction_id, include_rejected=False)
            if known is not None and known.csr_der == csr_der:
                return known
            if known is not None and known.state is RequestState.PENDING:
                raise ValueError(
                    f"transaction {transaction_id} already holds ReqID {known.req_id} "
                    "with a different request"
                )
            # A different request under a granted transaction is a re-enrollment with the
            # same key (IOS keys the transactionID on it): a new request.
        entry = _new_entry(self._next_id, csr_der, transaction_id, source, now,
                           now + timedelta(minutes=lifetime_minutes), parsed)
        self._parsed = None if parsed is None else (entry.req_id, parsed)
        self._put(entry)
        self._next_id += 1
        if transaction_id is not None:
            # The new ReqID is the highest, so the list stays ascending.
            self._transaction_index().setdefault(transaction_id, []).append(entry.req_id)
        return entry

    def _move(self, req_id: int, operation: str) -> EnrollmentRequest:
        return replace(self.get(req_id), state=self._next_state(req_id, operation))

    def _next_state(self, req_id: int, operation: str) -> RequestState:
        entry = self.get(req_id)
        new_state = _TRANSITIONS.get((entry.state, operation))
        if new_state is None:
            raise ValueError(
                f"cannot {operation} enrollment request {req_id}: it is {entry.state.value}"
            )
        return new_state

    def grant(self, req_id: int, certificate_der: bytes, serial: int) -> EnrollmentRequest:
        """pending -> granted; the certificate is stored for the requester's next poll."""
        state = self._next_state(req_id, "grant")
        e = self._entries[req_id]
        # The new row made at once (every request of an auto-granting CA comes here):
        # `replace` twice built the frozen row twice.
        entry = EnrollmentRequest(e.req_id, e.kind, state, e.csr_der, e.fingerprint,
                                  e.subject_text, e.transaction_id, e.source, e.created,
                                  e.expires, certificate_der, serial)
        self._put(entry)
        return entry

    def authorise(self, req_id: int) -> EnrollmentRequest:
        """An RA's grant (`sim.pki.ra_forward`): pending -> granted with no certificate
        yet; polls get PENDING until `deliver` stores the issuing CA's certificate."""
        entry = self._move(req_id, "grant")
        self._put(entry)
        return entry

    def deliver(self, req_id: int, certificate_der: bytes, serial: int) -> EnrollmentRequest:
        """The issuing CA's certificate for a request an RA authorised."""
        entry = self._awaiting(req_id)
        entry = replace(entry, certificate_der=certificate_der, serial=serial)
        self._put(entry)
        return entry

    def refuse(self, req_id: int) -> EnrollmentRequest:
        """The issuing CA rejected a request an RA authorised: granted -> rejected."""
        entry = replace(self._awaiting(req_id), state=RequestState.REJECTED)
        self._put(entry)
        return entry

    def _awaiting(self, req_id: int) -> EnrollmentRequest:
        entry = self.get(req_id)
        if entry.state is not RequestState.GRANTED or entry.certificate_der is not None:
            raise ValueError(f"enrollment request {req_id} is not waiting for the issuing CA")
        return entry

    def reject(self, req_id: int) -> EnrollmentRequest:
        """pending -> rejected; the next poll gets a SCEP FAILURE."""
        entry = self._move(req_id, "reject")
        self._put(entry)
        return entry

    def remove(self, req_id: int) -> EnrollmentRequest:
        """`crypto pki server NAME remove <id>`: drop the entry whatever its state."""
        entry = self.get(req_id)
        self._drop(req_id)
        self._by_transaction = None
        return entry

    def remove_all(self) -> list[int]:
        """`crypto pki server NAME remove all`; returns the removed ReqIDs (ascending)."""
        removed = self.ids()
        self._entries.clear()
        self._image_sizes.clear()
        self._image_bytes = 0
        self._expiries.clear()
        self._by_transaction = None
        return removed

    def expire(self, now: datetime) -> list[int]:
        """Drop every entry whose expiry is at or before `now`; returns their ReqIDs."""
        gone: list[int] = []
        heap = self._expiries
        while heap and heap[0][0] <= now:
            item = heapq.heappop(heap)
            if self._current(item):
                gone.append(item[1])
                self._drop(item[1])
        gone.sort()
        if gone:
            self._by_transaction = None
        return gone

    # -- persistence ------------------------------------------------------------------------
    def _put(self, entry: EnrollmentRequest) -> None:
        """Add or replace an entry, with its image (a new ReqID is the highest, so both
        dicts stay in ascending order; a replaced one keeps its place)."""
        size = _entry_size(entry)
        self._image_bytes += size - self._image_sizes.get(entry.req_id, 0)
        known = self._entries.get(entry.req_id)
        if known is None or known.expires != entry.expires:
            heapq.heappush(self._expiries, (entry.expires, entry.req_id))
        self._entries[entry.req_id] = entry
        self._image_sizes[entry.req_id] = size

    def _drop(self, req_id: int) -> None:
        del self._entries[req_id]
        self._image_bytes -= self._image_sizes.pop(req_id)

    def _head(self) -> bytes:
        return f"{_MAGIC}\nnext-id {self._next_id}\n".encode()

    def to_bytes(self) -> bytes:
        """Deterministic text image of the database (see `from_bytes` for the format)."""
        return _image(self._head(), tuple(self._entries.values()))

    def image(self) -> Deferred:
        """`to_bytes()`, made only when read: until then it holds the entries of the
        moment (immutable, shared, not copied). A busy CA saves its database after every
        request, and each save in flight used to hold a whole copy of it: 128 of them at
        once, 75 MB, for a thousand routers enrolling in a burst."""
        head, entries = self._head(), tuple(self._entries.values())
        return Deferred(len(head) + self._image_bytes, functools.partial(_image, head, entries))

    @classmethod
    def from_bytes(cls, data: bytes) -> RequestDatabase:
        """Load a `to_bytes` image.

        Format (pkilab's own; IOS's is unknown): UTF-8 lines `<key> <value>`, the value being the
        rest of the line. First line `pkilab request database 1`, then `next-id N`, then per
        entry `request <id>` ... `end` with keys state, source, created, expires (ISO 8601),
        csr (base64 DER), and optionally transaction-id, certificate (base64 DER), serial (hex).
        Kind, fingerprint and subject are derived from the request again.
        """
        lines = data.decode().splitlines()
        if not lines or lines[0] != _MAGIC:
            raise ValueError("not a pkilab request database image")
        db = cls()
        loaded: dict[int, EnrollmentRequest] = {}
        fields: dict[str, str] = {}
        for number, line in enumerate(lines[1:], start=2):
            key, _, value = line.partition(" ")
            if key == "next-id" and not fields and not loaded:
                db._next_id = int(value)
            elif key == "end" and fields:
                entry = _entry_from_fields(fields, number)
                if entry.req_id in loaded:
                    raise ValueError(f"request database image: ReqID {entry.req_id} twice")
                loaded[entry.req_id] = entry
                fields = {}
            elif key in _FIELD_KEYS and (key == "request") == (not fields):
                fields[key] = value
            else:
                raise ValueError(f"request database image, line {number}: unexpected {line!r}")
        if fields:
            raise ValueError("request database image ends inside an entry")
        if loaded and db._next_id <= max(loaded):
            raise ValueError("request database image: next-id is not above every ReqID")
        for req_id in sorted(loaded):
            db._put(loaded[req_id])
        db._by_transaction = None
        return db


_MAGIC = "pkilab request database 1"
_FIELD_KEYS = frozenset({"request", "state", "source", "created", "expires", "csr",
                         "transaction-id", "certificate", "serial"})


def _image(head: bytes, entries: tuple[EnrollmentRequest, ...]) -> bytes:
    return head + b"".join(map(_entry_image, entries))


def _b64_length(data: bytes) -> int:
    """`len(base64.b64encode(data))`, without encoding."""
    return (len(data) + 2) // 3 * 4


def _iso_length(moment: datetime) -> int:
    """`len(moment.isoformat())`: `YYYY-MM-DDTHH:MM:SS`, `.ffffff` when there are
    microseconds, `+00:00` in UTC (the server's times); written out for other zones."""
    if moment.tzinfo is not UTC:
        return len(moment.isoformat())
    return 32 if moment.microsecond else 25


def _entry_size(e: EnrollmentRequest) -> int:
    """`len(_entry_image(e))`, counted instead of made: each line's key, a space, its value
    and a newline. The database's size is kept up to date at every change of an entry
    (`_put`, twice per granted request), and only the image written to nvram needs the
    lines themselves (made when that is read, `RequestDatabase.image`)."""
    txn = e.transaction_id
    size = (len(str(e.req_id)) + 9              # request N
            + len(e.state.value) + 7            # state S
            + len(e.source) + 8                 # source S
            + _iso_length(e.created) + 9        # created T
            + _iso_length(e.expires) + 9        # expires T
            + _b64_length(e.csr_der) + 5        # csr B64
            + 4)                                # end
    if txn is not None:
        size += (len(txn) if txn.isascii() else len(txn.encode())) + 16
    if e.certificate_der is not None:
        size += _b64_length(e.certificate_der) + 13
    if e.serial is not None:
        size += len(f"{e.serial:X}") + 10
    return size


def _entry_image(e: EnrollmentRequest) -> bytes:
    """One entry's lines in the saved database."""
    lines = [
        f"request {e.req_id}",
        f"state {e.state.value}",
        f"source {e.source}",
        f"created {e.created.isoformat()}",
        f"expires {e.expires.isoformat()}",
        f"csr {base64.b64encode(e.csr_der).decode()}",
    ]
    if e.transaction_id is not None:
        lines.append(f"transaction-id {e.transaction_id}")
    if e.certificate_der is not None:
        lines.append(f"certificate {base64.b64encode(e.certificate_der).decode()}")
    if e.serial is not None:
        lines.append(f"serial 0x{e.serial:X}")
    lines.append("end")
    return ("\n".join(lines) + "\n").encode()


def _entry_from_fields(fields: dict[str, str], line: int) -> EnrollmentRequest:
    try:
        entry = _new_entry(int(fields["request"]), base64.b64decode(fields["csr"]),
                           fields.get("transaction-id"), fields["source"],
                           datetime.fromisoformat(fields["created"]),
                           datetime.fromisoformat(fields["expires"]))
        cert = fields.get("certificate")
        serial = fields.get("serial")
        return replace(entry, state=RequestState(fields["state"]),
                       certificate_der=base64.b64decode(cert) if cert else None,
                       serial=int(serial, 16) if serial else None)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"request database image, entry ending at line {line}: {exc}") from exc


def persists_requests(level: DatabaseLevel | str) -> bool:
    """Whether the request database is written to `<cs>.db` at this `database level`.

    pkilab's choice: at every level (see the module docstring). An unknown level is a
    ValueError.
    """
    DatabaseLevel(level)
    return True


def request_db_file(cs_name: str) -> str:
    """File name of the persisted request database in the server's database location."""
    return f"{cs_name}.db"


def render_requests(db: RequestDatabase, width: int | None = None) -> list[str]:
    """`crypto pki server NAME info requests` (12.3T) / `show crypto pki server NAME requests`.

    cisco-cs.md section 7: "three fixed sections in this order", each with the header and a
    62-dash rule, a blank line between sections; ReqID left-justified in 7 characters, State in
    11, the fingerprint plus one space, so SubjectName starts at offset 51 (0-based; the 52nd
    character). Rows newest first ("treat order as descending by ReqID").

    With a `width` (the router's terminal width), a row longer than it goes on over as
    many lines as it needs, each continuation from column 0: IOS prints the row whole and
    the terminal wraps it, which is what a transcript of a real 80-column session holds.
    """
    out = ["Enrollment Request Database:"]
    for kind, title in SECTIONS:
        out += ["", title, HEADER, RULE]
        for e in sorted(db, key=lambda e: -e.req_id):
            if e.kind is kind:
                row = f"{e.req_id:<7}{e.state.value:<11}{e.fingerprint} {e.subject_text}"
                out += terminal_wrap(row, width)
    return out


def terminal_wrap(line: str, width: int | None) -> list[str]:
    """`line` as a terminal `width` columns wide shows it: cut every `width` characters,
    no word boundaries, no indent (a line of exactly `width` stays one line)."""
    if width is None or width < 1 or len(line) <= width:
        return [line]
    return [line[i : i + width] for i in range(0, len(line), width)]


# -- per-certificate files ------------------------------------------------------------------
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _ios_time(moment: datetime) -> str:
    """`22:33:44 GMT Jan 6 2006`, the form `show crypto pki server` prints."""
    return f"{moment:%H:%M:%S} GMT {_MONTHS[moment.month - 1]} {moment.day} {moment.year}"


def level_files(level: DatabaseLevel | str, serial: int, subject_text: str,
                cert_der: bytes) -> dict[str, bytes]:
    """Files the server writes for one issued certificate at `database level <level>`.

    cisco-cs.md section 10: `<serial>.cnm` ("subject name + expiry of each issued cert") at
    `names` and `complete`; the certificate itself at `complete` ("all issued certs written as
    <serialnum>.cer"); nothing at `minimum` ("no cert data written to storage"). Serial in hex
    without leading zeros, as `Last certificate issued serial number (hex)` prints it. The .cnm
    content (`subjectname_str = ...` / `expiration = ...`) is pkilab's rendering.
    """
    level = DatabaseLevel(level)
    if level is DatabaseLevel.MINIMUM:
        return {}
    cert = x509.load_der_x509_certificate(cert_der)
    stem = f"{serial:X}"
    cnm = (f"subjectname_str = {subject_text}\n"
           f"expiration = {_ios_time(cert.not_valid_after_utc)}\n")
    files = {f"{stem}.cnm": cnm.encode()}
    if level is DatabaseLevel.COMPLETE:
        files[f"{stem}.cer"] = cert_der
    return files
