"""The crypto floor of a benchmark run: the same cryptographic work, done directly.

A simulated enrollment cannot cost less than the real cryptography it does: the keys it
generates, the certificates, CRLs, PKCS#10 requests and CMS (SCEP) messages it signs, the
PKCS#7 envelopes it seals and opens. `count_work` counts that work in a finished run's
trace; `measure_floor` then does the same amount with nothing around it, in the same
process, right after the run, and times it:

- keygen: the keys the run generated (the ones its key cache did not have), by the same
  deterministic code (`sim.pki.keys.KeySource` without a disk cache, so the very same
  keys), the fastest way that code can: a process pool over every core. OpenSSL's own
  key generation is timed on a sample for comparison.
- signatures: X.509 certificates (the issued ones and the self-signed certificate each
  requester signs its SCEP messages under), CRLs and PKCS#10 requests built and signed
  with cryptography's builders; CMS SignedData with cryptography's PKCS#7 signer. Each
  requester signs with a key object of its own, as each router has its own key pair:
  OpenSSL prepares a key for private operations (Montgomery contexts, blinding) on its
  first use, about 0.6 ms at RSA-2048, so a thousand requesters cost more than a thousand
  signatures under one key.
- envelopes: PKCS#7 EnvelopedData sealed to a certificate and opened with its key.

The ratio a bench prints is the run's wall time over this floor: 1.0 would mean the
simulator itself costs nothing.
"""

from __future__ import annotations

import os
import re
import resource
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from cryptography.x509.oid import NameOID

from sim.kernel.trace import TraceEvent
from sim.pki.keys import KeySource, key_der, load_key_der

CLIENT_MESSAGES = ("PKCSReq", "GetCertInitial")
"""SCEP messages a client signs and seals (a poll's IssuerAndSubject is enveloped too)."""
_CRL_FILE = re.compile(r"^\d+-(?P<server>.+)\.crl\.pem$")
OPENSSL_SAMPLE = 8
"""Keys OpenSSL generates to give its speed per key."""


@dataclass
class Work:
    """The cryptographic work of one run (private-key operations; verifying is cheap)."""

    bits: int
    keys: list[tuple[str, int]] = field(default_factory=list)
    """(label, bits) of every key the run generated (its key cache lacked them)."""
    certificates: int = 0
    crls: int = 0
    csrs: int = 0
    signers: int = 0
    """Self-signed certificates a requester signs its SCEP messages with (RFC 8894 2.3:
    one that has no certificate yet "MUST use a self-signed certificate"), one a request."""
    cms: int = 0
    seals: int = 0
    opens: int = 0

    @property
    def signatures(self) -> int:
        return self.certificates + self.crls + self.csrs + self.signers + self.cms


def count_work(trace: Iterable[TraceEvent], servers: dict[str, set[str]], roots: int,
               bits: int, generated: list[tuple[str, int]]) -> Work:
    """Count a run's work from its trace. `servers` maps each router to the names of its
    certificate servers (a CRL file a router records under one of them is one it signed),
    `roots` is how many self-signed CA certificates the run made."""
    work = Work(bits, list(generated), certificates=roots)
    for event in trace:
        category, name, data = event.category, event.name, event.data
        if category == "cs" and name == "issued":
            work.certificates += 1
        elif category == "pki" and name == "scep.request":
            if data.get("operation") in CLIENT_MESSAGES:
                work.cms += 1  # the client signs its message...
                work.seals += 1  # ...and seals its content to the CA
                if data.get("operation") == "PKCSReq" and data.get("attempt") == 0:
                    work.csrs += 1  # a request is signed once, resent as it is
                    work.signers += 1  # with the self-signed certificate it is sent under
        elif category == "scep" and name == "serve" and data.get("operation") == "PKIOperation":
            work.opens += 1  # the CA opens the client's envelope
        elif category == "scep" and name == "reply" and data.get("message") == "CertRep":
            work.cms += 1  # the CA signs every CertRep
            if data.get("status") == "SUCCESS":
                work.seals += 1  # and seals the certificate to the client
        elif (category == "scep" and name == "exchange"
              and data.get("operation") == "PKIOperation" and data.get("result") == "SUCCESS"):
            work.opens += 1  # the client opens the certificate's envelope
        elif category == "artifact" and name == "recorded" and event.router is not None:
            match = _CRL_FILE.match(str(data.get("file", "")))
            if match and match["server"] in servers.get(event.router, set()):
                work.crls += 1
    return work


@dataclass(frozen=True)
class Seconds:
    """Host seconds: on the wall clock, and of CPU (this process's and its children's).
    On a machine shared with others the wall clock says how long a user waited; the CPU
    time says how much work it was, whatever else the cores were doing."""

    wall: float
    cpu: float

    def __add__(self, other: Seconds) -> Seconds:
        return Seconds(self.wall + other.wall, self.cpu + other.cpu)

    def __sub__(self, other: Seconds) -> Seconds:
        return Seconds(self.wall - other.wall, self.cpu - other.cpu)


ZERO = Seconds(0.0, 0.0)


class Stopwatch:
    """Started on creation; `read()` gives the `Seconds` since."""

    def __init__(self) -> None:
        self._wall = time.perf_counter()
        self._cpu = _cpu()

    def read(self) -> Seconds:
        return Seconds(time.perf_counter() - self._wall, _cpu() - self._cpu)


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class Floor:
    """Time the same work takes done directly."""

    keygen: Seconds
    keygen_workers: int
    openssl_per_key: float
    """CPU seconds per key for OpenSSL's own (not deterministic) generation; 0 if no key."""
    signatures: Seconds
    envelopes: Seconds

    @property
    def total(self) -> Seconds:
        return self.keygen + self.signatures + self.envelopes


def _make_key(item: tuple[int, str, int]) -> int:
    """One seeded key, in a pool worker (the key stays there: only its size comes back)."""
    seed, label, bits = item
    return KeySource(seed).get(label, bits).key_size


def keygen_floor(seed: int, keys: list[tuple[str, int]]) -> tuple[Seconds, int]:
    """Time to generate `keys` with the seeded generator over every core."""
    if not keys:
        return ZERO, 0
    workers = min(os.cpu_count() or 1, len(keys))
    items = [(seed, label, bits) for label, bits in keys]
    watch = Stopwatch()
    if workers == 1:
        for item in items:
            _make_key(item)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_make_key, items, chunksize=max(1, len(items) // (workers * 8))))
    return watch.read(), workers


def openssl_per_key(bits: int, count: int) -> float:
    """OpenSSL's own CPU seconds per key of `bits` (a sample of `count` keys)."""
    watch = Stopwatch()
    for _ in range(count):
        rsa.generate_private_key(65537, bits)
    return watch.read().cpu / count


def _certificate(subject: str, issuer: str, public: rsa.RSAPublicKey,
                 signer: rsa.RSAPrivateKey, serial: int) -> x509.Certificate:
    now = datetime(2005, 1, 6, 21, tzinfo=UTC)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public).serial_number(serial)
            .not_valid_before(now).not_valid_after(now + timedelta(days=365))
            .sign(signer, hashes.SHA256()))


def signature_floor(work: Work, ca: rsa.RSAPrivateKey, client: rsa.RSAPrivateKey) -> Seconds:
    """Time to sign `work`'s certificates, CRLs, requests and CMS messages."""
    signer = _certificate("ca", "ca", ca.public_key(), ca, 1)
    client_der = key_der(client)
    watch = Stopwatch()
    for serial in range(work.certificates):
        _certificate("router", "ca", client.public_key(), ca, serial + 2)
    now = datetime(2005, 1, 6, 21, tzinfo=UTC)
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")])
    for _ in range(work.crls):
        (x509.CertificateRevocationListBuilder().issuer_name(issuer)
         .last_update(now).next_update(now + timedelta(hours=168))
         .sign(ca, hashes.SHA256()))
    for serial in range(work.signers):
        # A requester's first private operation is with its own, new key (see above).
        # A key object not used before, loaded afresh as the run loads a router's key.
        requester = load_key_der(client_der)
        _certificate("router", "router", requester.public_key(), requester, serial + 2)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "router")])
    for _ in range(work.csrs):
        x509.CertificateSigningRequestBuilder().subject_name(subject).sign(
            client, hashes.SHA256())
    payload = bytes(1100)  # about a sealed request's size
    for _ in range(work.cms):
        (pkcs7.PKCS7SignatureBuilder().set_data(payload)
         .add_signer(signer, ca, hashes.SHA256())
         .sign(Encoding.DER, [pkcs7.PKCS7Options.Binary]))
    return watch.read()


def envelope_floor(work: Work, ca: rsa.RSAPrivateKey, client: rsa.RSAPrivateKey) -> Seconds:
    """Time to seal `work.seals` envelopes and open `work.opens`."""
    recipient = _certificate("ca", "ca", ca.public_key(), ca, 1)
    content = _certificate("router", "ca", client.public_key(), ca, 2).public_bytes(
        Encoding.DER)
    # The envelope opened below is sealed before the clock starts.
    sealed = (pkcs7.PKCS7EnvelopeBuilder().set_data(content).add_recipient(recipient)
              .encrypt(Encoding.DER, []))
    watch = Stopwatch()
    for _ in range(work.seals):
        (pkcs7.PKCS7EnvelopeBuilder().set_data(content).add_recipient(recipient)
         .encrypt(Encoding.DER, []))
    for _ in range(work.opens):
        pkcs7.pkcs7_decrypt_der(sealed, recipient, ca, [])
    return watch.read()


def measure_floor(work: Work, seed: int) -> Floor:
    """Time `work` done directly (see the module docstring)."""
    keygen, workers = keygen_floor(seed, work.keys)
    per_key = openssl_per_key(work.bits, min(OPENSSL_SAMPLE, len(work.keys))) \
        if work.keys else 0.0
    # Two fresh keys of the run's size stand for the CA's and the client's.
    ca = rsa.generate_private_key(65537, work.bits)
    client = rsa.generate_private_key(65537, work.bits)
    return Floor(keygen, workers, per_key, signature_floor(work, ca, client),
                 envelope_floor(work, ca, client))
