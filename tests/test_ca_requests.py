"""Enrollment request database, its listing and persistence, issuance and the grant policy."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from sim.pki import x509util as xu
from sim.pki.ca_requests import (
    HEADER,
    RULE,
    RequestDatabase,
    RequestKind,
    RequestState,
    classify,
    level_files,
    persists_requests,
    render_requests,
)
from sim.pki.cs_server import CsConfig
from sim.pki.cs_settings import GrantMode
from sim.pki.issuance import (
    Decision,
    GrantPolicy,
    dbg_certificate_sent,
    dbg_granted,
    grant_debug,
    issue_from_request,
    new_request_debug,
    poll_debug,
)
from sim.pki.keys import KeySource

T0 = datetime(2005, 1, 6, 21, 7, 58, 345000, tzinfo=UTC)
LIFETIME = 168 * 60


@pytest.fixture(scope="module")
def source() -> KeySource:
    return KeySource(1)


@pytest.fixture(scope="module")
def ca_key(source: KeySource):
    return source.get("root", 1024)


@pytest.fixture(scope="module")
def ca_cert(ca_key) -> x509.Certificate:
    return xu.make_ca_certificate(ca_key, xu.parse_dn("CN=root"), 1, T0 - timedelta(days=1),
                                  T0 + timedelta(days=1094), "sha256")


@pytest.fixture(scope="module")
def client_key(source: KeySource):
    return source.get("client", 1024)


def _key_usage(**flags: bool) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{n: flags.get(n, False) for n in names})


def make_csr(key, subject: str, *, ca: bool | None = None,
             key_usage: x509.KeyUsage | None = None, ku_critical: bool = False) -> bytes:
    builder = x509.CertificateSigningRequestBuilder().subject_name(xu.parse_dn(subject))
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
    if key_usage is not None:
        builder = builder.add_extension(key_usage, ku_critical)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def csrs(client_key) -> dict[str, bytes]:
    return {
        "sub": make_csr(client_key, "CN=sub", ca=True),
        "ra_cn": make_csr(client_key, "CN=ioscs RA, O=lab"),
        "ra_ou": make_csr(client_key, "CN=ra1, OU=ioscs RA"),
        "router": make_csr(client_key, "hostname=R15+serialNumber=1234, CN=R15",
                           key_usage=_key_usage(digital_signature=True, key_encipherment=True),
                           ku_critical=True),
        "r2": make_csr(client_key, "hostname=r2"),
        "not_ca": make_csr(client_key, "CN=leaf", ca=False),
    }


# --------------------------------------------------------------------------- classification


def test_classify_sub_ca_ra_router(csrs: dict[str, bytes]) -> None:
    """`show crypto pki server requests` would file a request under the wrong heading (sub-CA, RA or
    router), and grant policy would treat it wrongly."""
    kinds = {k: classify(x509.load_der_x509_csr(v)) for k, v in csrs.items()}
    assert kinds == {
        "sub": RequestKind.SUB_CA,
        "ra_cn": RequestKind.RA,
        "ra_ou": RequestKind.RA,
        "router": RequestKind.ROUTER,
        "r2": RequestKind.ROUTER,
        "not_ca": RequestKind.ROUTER,
    }


# --------------------------------------------------------------------------- database


def test_submit_fills_the_entry(csrs: dict[str, bytes]) -> None:
    """A new enrollment request would show the wrong ID, fingerprint, subject name or expiry time in
    `show crypto pki server requests`."""
    db = RequestDatabase()
    e = db.submit(csrs["router"], "TID1", "scep", T0, LIFETIME)
    assert (e.req_id, e.kind, e.state, e.source) == (1, RequestKind.ROUTER,
                                                     RequestState.PENDING, "scep")
    assert e.fingerprint == xu.fingerprint_hex(csrs["router"], "md5")
    assert len(e.fingerprint) == 32 and e.fingerprint == e.fingerprint.upper()
    # DER sorts a multi-valued RDN, as in the captured `serialNumber=67109104+hostname=R15...`.
    assert e.subject_text == "serialNumber=1234+hostname=R15,cn=R15"
    assert e.expires == T0 + timedelta(hours=168)
    assert e.certificate_der is None and e.serial is None
    assert db.get(1) == e


def test_ids_increase_and_are_never_reused(csrs: dict[str, bytes]) -> None:
    """Request IDs would restart or be reused after `crypto pki server remove`, so a teacher's
    `grant 4` could hit another router's request."""
    db = RequestDatabase()
    assert [db.submit(csrs["r2"], None, "terminal", T0, LIFETIME).req_id
            for _ in range(3)] == [1, 2, 3]  # every request is a new request
    db.remove(3)
    assert db.submit(csrs["r2"], None, "terminal", T0, LIFETIME).req_id == 4
    assert db.remove_all() == [1, 2, 4]
    assert len(db) == 0
    assert db.submit(csrs["r2"], "T", "scep", T0, LIFETIME).req_id == 5


def test_grant_reject_remove(csrs: dict[str, bytes]) -> None:
    """`crypto pki server grant`, `reject` and `remove` would leave a request in the wrong state, or
    still listed after removal."""
    db = RequestDatabase()
    for name in ("r2", "router", "sub"):
        db.submit(csrs[name], None, "terminal", T0, LIFETIME)
    granted = db.grant(1, b"CERT", 2)
    assert (granted.state, granted.certificate_der, granted.serial) == (
        RequestState.GRANTED, b"CERT", 2)
    assert db.reject(2).state is RequestState.REJECTED
    assert db.ids() == [1, 2, 3]
    assert db.ids(RequestState.PENDING) == [3]
    assert db.ids(RequestState.GRANTED) == [1]
    assert db.remove(2).req_id == 2
    assert 2 not in db and db.ids() == [1, 3]


def test_invalid_transitions_and_unknown_ids(csrs: dict[str, bytes]) -> None:
    """Granting a rejected request, rejecting a granted one, or naming an unknown request ID would
    succeed silently instead of being refused."""
    db = RequestDatabase()
    db.submit(csrs["r2"], None, "terminal", T0, LIFETIME)
    db.submit(csrs["r2"], None, "terminal", T0, LIFETIME)
    db.reject(1)
    db.grant(2, b"C", 2)
    with pytest.raises(ValueError, match="cannot grant enrollment request 1: it is rejected"):
        db.grant(1, b"C", 3)
    with pytest.raises(ValueError, match="cannot reject enrollment request 2: it is granted"):
        db.reject(2)
    with pytest.raises(ValueError, match="cannot grant enrollment request 2"):
        db.grant(2, b"C", 3)
    for op in (db.get, db.reject, db.remove):
        with pytest.raises(KeyError):
            op(9)
    with pytest.raises(KeyError):
        db.grant(9, b"C", 3)
    with pytest.raises(ValueError, match="source"):
        db.submit(csrs["r2"], None, "email", T0, LIFETIME)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="PKCS#10"):
        db.submit(b"garbage", None, "terminal", T0, LIFETIME)


def test_repeated_transaction_id_is_a_poll(csrs: dict[str, bytes]) -> None:
    """A SCEP client re-sending the same transaction would file a new request at every poll instead
    of being answered about its first one."""
    db = RequestDatabase()
    first = db.submit(csrs["sub"], "3AE00CCCCE6F0F6AE7F163A277906964", "scep", T0, LIFETIME)
    assert db.find_by_transaction("3AE00CCCCE6F0F6AE7F163A277906964") == first
    assert db.find_by_transaction("other") is None
    again = db.submit(csrs["sub"], "3AE00CCCCE6F0F6AE7F163A277906964", "scep",
                      T0 + timedelta(seconds=30), LIFETIME)
    assert again == first and len(db) == 1 and db.next_id == 2
    with pytest.raises(ValueError, match="different request"):
        db.submit(csrs["r2"], "3AE00CCCCE6F0F6AE7F163A277906964", "scep", T0, LIFETIME)
    assert db.submit(csrs["sub"], "another", "scep", T0, LIFETIME).req_id == 2


def test_expiry_at_exactly_created_plus_lifetime(csrs: dict[str, bytes]) -> None:
    """Enrollment requests would vanish from the CA a moment early or late instead of exactly
    `lifetime enrollment-request` after they were filed."""
    db = RequestDatabase()
    assert db.next_deadline() is None
    db.submit(csrs["r2"], None, "terminal", T0, LIFETIME)
    db.submit(csrs["r2"], None, "terminal", T0 + timedelta(hours=1), LIFETIME)
    db.grant(1, b"C", 2)
    deadline = T0 + timedelta(minutes=LIFETIME)
    assert db.next_deadline() == deadline
    assert db.expire(deadline - timedelta(milliseconds=1)) == []
    assert db.expire(deadline) == [1]  # granted entries expire too
    assert db.next_deadline() == deadline + timedelta(hours=1)
    assert db.expire(deadline + timedelta(days=30)) == [2]
    assert db.next_deadline() is None


# --------------------------------------------------------------------------- listing


def test_render_layout_sections_and_order(csrs: dict[str, bytes]) -> None:
    """`show crypto pki server requests` would lose its section headings, column alignment or
    newest-first order compared with IOS."""
    db = RequestDatabase()
    db.submit(csrs["sub"], "A", "scep", T0, LIFETIME)
    db.grant(1, b"C", 2)
    db.submit(csrs["ra_ou"], "B", "scep", T0, LIFETIME)
    db.submit(csrs["router"], "C", "scep", T0, LIFETIME)
    db.submit(csrs["r2"], None, "terminal", T0, LIFETIME)
    lines = render_requests(db)
    fp = {i: db.get(i).fingerprint for i in db.ids()}
    assert lines == [
        "Enrollment Request Database:",
        "",
        "Subordinate CA certificate requests:",
        "ReqID  State      Fingerprint                      SubjectName",
        "-" * 62,
        f"1      granted    {fp[1]} cn=sub",
        "",
        "RA certificate requests:",
        HEADER,
        RULE,
        f"2      pending    {fp[2]} cn=ra1,ou=ioscs RA",
        "",
        "Router certificates requests:",
        HEADER,
        RULE,
        f"4      pending    {fp[4]} hostname=r2",
        f"3      pending    {fp[3]} serialNumber=1234+hostname=R15,cn=R15",
    ]
    # 7 (ReqID) + 11 (State) + 33 (fingerprint and a space): SubjectName at offset 51.
    assert HEADER.index("State") == 7 and HEADER.index("Fingerprint") == 18
    assert HEADER.index("SubjectName") == 51 and len(RULE) == 62
    assert lines[5].index("cn=sub") == 51 and lines[5].index("granted") == 7


def test_render_empty_database() -> None:
    """`show crypto pki server requests` on a CA with no requests would not print the three empty
    sections IOS prints."""
    lines = render_requests(RequestDatabase())
    assert lines[0] == "Enrollment Request Database:"
    assert [line for line in lines if line.endswith("requests:")] == [
        "Subordinate CA certificate requests:", "RA certificate requests:",
        "Router certificates requests:"]
    assert len(lines) == 13 and lines[-1] == RULE


def test_seed_row_format() -> None:
    """Rows of `show crypto pki server requests` would not line up with the captured IOS output
    (ReqID and State column widths)."""
    row = f"{1:<7}{'granted':<11}1BA027DB1C7860C7EC188F6564356C80 cn=sub"
    assert row == "1      granted    1BA027DB1C7860C7EC188F6564356C80 cn=sub"


# --------------------------------------------------------------------------- persistence


def test_to_bytes_from_bytes_round_trip(csrs: dict[str, bytes]) -> None:
    """After a reload, the CA's enrollment requests would come back changed or lost, or request IDs
    would start again from 1."""
    db = RequestDatabase()
    db.submit(csrs["sub"], "3AE0 with space+/=", "scep", T0, LIFETIME)
    db.submit(csrs["router"], None, "terminal", T0, 60)
    db.submit(csrs["r2"], "X", "scep", T0, LIFETIME)
    db.grant(1, b"\x30\x03\x02\x01\x02", 0x1F)
    db.reject(2)
    db.remove(3)
    image = db.to_bytes()
    assert image == db.to_bytes()
    loaded = RequestDatabase.from_bytes(image)
    assert list(loaded) == list(db)
    assert loaded.next_id == 4 and loaded.to_bytes() == image
    assert loaded.find_by_transaction("3AE0 with space+/=") == db.get(1)
    assert RequestDatabase.from_bytes(RequestDatabase().to_bytes()).next_id == 1


def test_a_save_holds_the_database_of_its_moment(csrs: dict[str, bytes]) -> None:
    """A save made before later requests, grants and expiries still writes the database as
    it was (nvram would otherwise hold a file that never existed), its announced size is
    its real one (`dir nvram:` and the free-space check read it), and the current save
    equals `to_bytes`."""
    db = RequestDatabase()
    db.submit(csrs["sub"], "A", "scep", T0, LIFETIME)
    db.submit(csrs["router"], "B", "scep", T0, 60)
    early, early_bytes = db.image(), db.to_bytes()
    db.grant(1, b"\x30\x03\x02\x01\x02", 0x1F)
    db.submit(csrs["r2"], "C", "scep", T0 + timedelta(minutes=1), LIFETIME)
    db.expire(T0 + timedelta(minutes=60))  # request 2's hour is up
    db.remove(3)
    late = db.image()
    assert len(early) == len(early_bytes) and bytes(early) == early_bytes
    assert len(late) == len(db.to_bytes()) and bytes(late) == db.to_bytes()
    assert db.ids() == [1] and b"request 2" in early_bytes and b"request 2" not in bytes(late)


def test_from_bytes_rejects_garbage() -> None:
    """A corrupt request database file in the CA's storage would load silently, or fail without
    saying which line is bad."""
    with pytest.raises(ValueError):
        RequestDatabase.from_bytes(b"hello\n")
    with pytest.raises(ValueError, match="line 3"):
        RequestDatabase.from_bytes(b"pkilab request database 1\nnext-id 1\nstate pending\n")
    with pytest.raises(ValueError, match="ends inside"):
        RequestDatabase.from_bytes(b"pkilab request database 1\nnext-id 2\nrequest 1\n")


def test_persistence_choice_and_level_files(ca_cert: x509.Certificate) -> None:
    """`database level minimum|names|complete` would write the wrong `.cnm`/`.cer` files for each
    issued certificate to the CA's storage."""
    assert all(persists_requests(level) for level in ("minimum", "names", "complete"))
    der = xu.cert_der(ca_cert)
    assert level_files("minimum", 0x1A, "cn=x", der) == {}
    names = level_files("names", 0x1A, "hostname=r2", der)
    assert list(names) == ["1A.cnm"]
    assert names["1A.cnm"].decode() == (
        "subjectname_str = hostname=r2\n"
        f"expiration = {ca_cert.not_valid_after_utc:%H:%M:%S} GMT Jan 5 2008\n")
    complete = level_files("complete", 0x1A, "hostname=r2", der)
    assert complete["1A.cer"] == der and "1A.cnm" in complete
    with pytest.raises(ValueError):
        level_files("everything", 2, "cn=x", der)


# --------------------------------------------------------------------------- issuance


def _issue(csr_der: bytes, ca_cert, ca_key, *, kind=None, lifetime=365, now=T0,
           hash_name="sha256") -> x509.Certificate:
    csr = x509.load_der_x509_csr(csr_der)
    return issue_from_request(csr, ca_cert=ca_cert, ca_key=ca_key, serial=2, now=now,
                              lifetime_days=lifetime, hash_name=hash_name,
                              kind=kind or classify(csr))


def test_router_certificate(csrs, ca_cert, ca_key) -> None:
    """A router's granted certificate would carry the wrong subject, validity, key usage or key
    identifiers, or would not verify against the CA."""
    cert = _issue(csrs["router"], ca_cert, ca_key)
    assert cert.subject == x509.load_der_x509_csr(csrs["router"]).subject
    assert cert.issuer == ca_cert.subject and cert.serial_number == 2
    assert cert.not_valid_before_utc == T0.replace(microsecond=0)
    assert cert.not_valid_after_utc == T0.replace(microsecond=0) + timedelta(days=365)
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.BasicConstraints)
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value == _key_usage(digital_signature=True, key_encipherment=True)
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert xu.verify_signature(cert, ca_cert.public_key())


def test_router_default_key_usage_and_requested_ca_false(csrs, ca_cert, ca_key) -> None:
    """A router asking for no key usage (or CA:false) would get a certificate without the default
    non-critical key usage, or with basic constraints."""
    cert = _issue(csrs["not_ca"], ca_cert, ca_key, hash_name="md5")
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert not ku.critical
    assert ku.value == _key_usage(digital_signature=True, key_encipherment=True)
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert xu.verify_signature(cert, ca_cert.public_key())


def test_sub_ca_certificate(csrs, ca_cert, ca_key) -> None:
    """A granted subordinate CA would get a certificate that cannot sign certificates or CRLs, so
    the sub-CA could not come up."""
    cert = _issue(csrs["sub"], ca_cert, ca_key)
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and ku.crl_sign and ku.digital_signature
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "sub"
    assert xu.verify_signature(cert, ca_cert.public_key())


def test_not_after_capped_at_ca_expiry(csrs, ca_cert, ca_key) -> None:
    """A certificate with a long `lifetime certificate` would outlive the CA that issued it, or a
    zero lifetime would be accepted."""
    cert = _issue(csrs["r2"], ca_cert, ca_key, lifetime=5000)
    assert cert.not_valid_after_utc == ca_cert.not_valid_after_utc
    with pytest.raises(ValueError):
        _issue(csrs["r2"], ca_cert, ca_key, lifetime=0)


# --------------------------------------------------------------------------- policy, debug


@pytest.mark.parametrize(("kind", "mode", "expected"), [
    (RequestKind.ROUTER, "manual", Decision.PENDING),
    (RequestKind.ROUTER, "auto", Decision.GRANT),
    (RequestKind.ROUTER, "none", Decision.REJECT),
    (RequestKind.SUB_CA, "manual", Decision.PENDING),
    (RequestKind.SUB_CA, "auto", Decision.PENDING),  # auto never grants a sub-CA
    (RequestKind.SUB_CA, "none", Decision.REJECT),
    (RequestKind.RA, "manual", Decision.PENDING),
    (RequestKind.RA, "auto", Decision.PENDING),
    (RequestKind.RA, "none", Decision.REJECT),
])
def test_grant_policy(kind: RequestKind, mode: str, expected: Decision) -> None:
    """`grant auto`, `grant none` or manual mode would grant, reject or hold router, RA or sub-CA
    requests unlike IOS (auto never grants a sub-CA or RA)."""
    assert GrantPolicy().decide(kind, GrantMode(mode)) is expected


def test_grant_policy_unknown_mode() -> None:
    """An unknown grant mode would quietly act as some other mode instead of being refused
    when the server's configuration is built."""
    with pytest.raises(ValueError, match="GrantMode"):
        CsConfig("ca", grant="sometimes")


def test_debug_lines_match_the_seed() -> None:
    """`debug crypto pki server` would print different messages from the captured IOS output when
    requests are filed, polled and granted."""
    assert new_request_debug(RequestKind.SUB_CA, 1) == [
        "received an enrollment request",
        "found basic_constraints in enrollment request",
        "received a sub-CS cert enrollment request",
        "reqID = 1",
    ]
    assert new_request_debug(RequestKind.ROUTER, 4) == [
        "received an enrollment request", "reqID = 4"]
    assert poll_debug(1, granted=False) == ["received an enrollment request", "reqID = 1"]
    assert poll_debug(1, granted=True) == ["received an enrollment request"]
    assert grant_debug(RequestKind.SUB_CA, 1) == [
        "Granting enrollment request 1", "generating a CA cert", "added key usage extension"]
    assert dbg_granted(1, "1BA027DB1C7860C7EC188F6564356C80") == (
        "reqID=1 granted, fingerprint=1BA027DB1C7860C7EC188F6564356C80")
    assert dbg_certificate_sent() == "Certificate sent to requestor Router"


def test_transaction_lookups_stay_right_through_removals_expiry_and_reloads(
        csrs: dict[str, bytes]) -> None:
    """The transactionID index must answer what a scan of the database answers: a wrong
    answer would make a poll file a second request, or a new request fetch a refusal."""
    def scan(db: RequestDatabase, txn: str, include_rejected: bool) -> int | None:
        for req_id in sorted(db.ids(), reverse=True):
            entry = db.get(req_id)
            if entry.transaction_id == txn and (
                    include_rejected or entry.state is not RequestState.REJECTED):
                return req_id
        return None

    rnd = random.Random(8)
    db = RequestDatabase()
    requests = list(csrs.values())
    now = T0
    for step in range(300):
        now += timedelta(minutes=rnd.randint(1, 90))
        action = rnd.random()
        txn = f"t{rnd.randint(1, 12)}"
        if action < 0.5:
            known = db.find_by_transaction(txn, include_rejected=False)
            csr = rnd.choice(requests)
            if known is None or known.state is not RequestState.PENDING or known.csr_der == csr:
                db.submit(csr, txn, "scep", now, rnd.choice([60, LIFETIME]))
        elif action < 0.65 and db.ids(RequestState.PENDING):
            req_id = rnd.choice(db.ids(RequestState.PENDING))
            if rnd.random() < 0.5:
                db.reject(req_id)
            else:
                db.grant(req_id, b"cert", req_id + 1)
        elif action < 0.75 and db.ids():
            db.remove(rnd.choice(db.ids()))
        elif action < 0.85:
            db.expire(now)
        elif action < 0.9:
            db = RequestDatabase.from_bytes(db.to_bytes())
        for probe in (f"t{i}" for i in range(1, 13)):
            for include in (True, False):
                found = db.find_by_transaction(probe, include_rejected=include)
                assert (found.req_id if found else None) == scan(db, probe, include), step
