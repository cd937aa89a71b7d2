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

When it is measured: by default interleaved with the run (`InterleavedFloor`). A trace
subscriber counts the work as the run does it (`WorkCounter`), and every `SLICE_OPERATIONS`
private-key operations it stops the run for a moment and does that work directly (a floor
slice, timed apart and not counted as the run's). The rest is done right after the run. On a
shared machine the host's speed drifts over minutes: a floor measured after a 90-second run
can come out 15 % faster or slower than the same work would have been during it, and the
ratio with it. Interleaved, each part of the floor is timed under the same conditions as the
part of the run that did that work. `--floor-after` measures it all after the run instead,
as before.

The ratio a bench prints is the run's wall time over this floor: 1.0 would mean the
simulator itself costs nothing.
"""

from __future__ import annotations

import os
import re
import resource
import time
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from cryptography.x509.oid import NameOID

from sim.kernel.trace import Trace, TraceEvent
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

    @property
    def private_operations(self) -> int:
        """Signatures and envelopes opened: the operations that cost (sealing is a
        public-key operation, a small part of an envelope's time)."""
        return self.signatures + self.opens

    def add(self, other: Work) -> None:
        """Count `other`'s work in this one too."""
        self.keys += other.keys
        self.certificates += other.certificates
        self.crls += other.crls
        self.csrs += other.csrs
        self.signers += other.signers
        self.cms += other.cms
        self.seals += other.seals
        self.opens += other.opens


_WORK_CATEGORIES = frozenset({"cs", "pki", "scep", "artifact"})
"""The only categories of trace event that tell of cryptographic work."""


class WorkCounter:
    """Counts a run's work event by event, into `pending` (see `count_work`).
    `servers_of(router)` gives the names of a router's certificate servers: a CRL file a
    router records under one of them is one it signed."""

    def __init__(self, bits: int, servers_of: Callable[[str], Collection[str]]) -> None:
        self.bits = bits
        self.pending = Work(bits)
        self.servers_of = servers_of

    def take(self) -> Work:
        """The work counted since the last `take`."""
        work, self.pending = self.pending, Work(self.bits)
        return work

    def feed(self, event: TraceEvent) -> None:
        """Count `event`'s work (most events have none: one set lookup tells)."""
        category = event.category
        if category not in _WORK_CATEGORIES:
            return
        work, name, data = self.pending, event.name, event.data
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
            if match and match["server"] in self.servers_of(event.router):
                work.crls += 1


def count_work(trace: Iterable[TraceEvent], servers: dict[str, set[str]], roots: int,
               bits: int, generated: list[tuple[str, int]]) -> Work:
    """Count a run's work from its trace. `servers` maps each router to the names of its
    certificate servers (a CRL file a router records under one of them is one it signed),
    `roots` is how many self-signed CA certificates the run made."""
    counter = WorkCounter(bits, lambda router: servers.get(router, ()))
    for event in trace:
        counter.feed(event)
    work = Work(bits, list(generated), certificates=roots)
    work.add(counter.take())
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
    slices: int = 0
    """Floor slices done during the run (0: all of it was measured after the run)."""

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


class FloorRig:
    """What the floor's signing and sealing are done with, made before any of it is timed:
    two fresh keys of the run's size standing for a CA's and a client's, the CA's
    certificate, and an envelope to open."""

    def __init__(self, bits: int) -> None:
        self.ca = rsa.generate_private_key(65537, bits)
        self.client = rsa.generate_private_key(65537, bits)
        self.signer = _certificate("ca", "ca", self.ca.public_key(), self.ca, 1)
        self.client_der = key_der(self.client)
        self.content = _certificate("router", "ca", self.client.public_key(), self.ca,
                                    2).public_bytes(Encoding.DER)
        self.sealed = self._seal()

    def _seal(self) -> bytes:
        return (pkcs7.PKCS7EnvelopeBuilder().set_data(self.content)
                .add_recipient(self.signer).encrypt(Encoding.DER, []))

    def signatures(self, work: Work) -> Seconds:
        """Time to sign `work`'s certificates, CRLs, requests and CMS messages."""
        ca, client = self.ca, self.client
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
            requester = load_key_der(self.client_der)
            _certificate("router", "router", requester.public_key(), requester, serial + 2)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "router")])
        for _ in range(work.csrs):
            x509.CertificateSigningRequestBuilder().subject_name(subject).sign(
                client, hashes.SHA256())
        payload = bytes(1100)  # about a sealed request's size
        for _ in range(work.cms):
            (pkcs7.PKCS7SignatureBuilder().set_data(payload)
             .add_signer(self.signer, ca, hashes.SHA256())
             .sign(Encoding.DER, [pkcs7.PKCS7Options.Binary]))
        return watch.read()

    def envelopes(self, work: Work) -> Seconds:
        """Time to seal `work.seals` envelopes and open `work.opens`."""
        watch = Stopwatch()
        for _ in range(work.seals):
            self._seal()
        for _ in range(work.opens):
            pkcs7.pkcs7_decrypt_der(self.sealed, self.signer, self.ca, [])
        return watch.read()


def measure_floor(work: Work, seed: int, rig: FloorRig | None = None,
                  done: tuple[Seconds, Seconds, int] = (ZERO, ZERO, 0)) -> Floor:
    """Time `work` done directly (see the module docstring). `done` is the signing and
    envelope time of floor slices measured during the run, and how many: the floor of the
    work they did, which `work` does not count again."""
    keygen, workers = keygen_floor(seed, work.keys)
    per_key = openssl_per_key(work.bits, min(OPENSSL_SAMPLE, len(work.keys))) \
        if work.keys else 0.0
    rig = rig if rig is not None else FloorRig(work.bits)
    signatures, envelopes, slices = done
    return Floor(keygen, workers, per_key, signatures + rig.signatures(work),
                 envelopes + rig.envelopes(work), slices)


SLICE_OPERATIONS = 200
"""Private-key operations counted before a floor slice is done: about 0.3 s of RSA-2048,
long enough that the slice's first operations warming OpenSSL's caches weigh little, short
enough that a 10,000-router run is measured in over two hundred slices."""


class InterleavedFloor:
    """The floor measured in slices during the run (see the module docstring).

    Made before the run (the rig generates two keys), then `watch`es the run's trace:
    `feed` counts each event's work and, once `SLICE_OPERATIONS` are pending, does them
    directly. The slices' time is kept in `spent` so that the bench takes it out of the
    run's; counting itself (one set lookup for most events) stays in the run's time, which
    only makes the ratio larger."""

    def __init__(self, bits: int, every: int | None = None) -> None:
        self.counter = WorkCounter(bits, lambda router: ())
        self.rig = FloorRig(bits)
        self.done = Work(bits)
        """The work the slices did."""
        self.signatures = ZERO
        self.envelopes = ZERO
        self.slices = 0
        self.spent = ZERO
        """Host time the slices took, counting (a little) around them."""
        self._every = SLICE_OPERATIONS if every is None else every

    def watch(self, trace: Trace, servers_of: Callable[[str], Collection[str]]) -> None:
        """Count the work of every event `trace` records from now on; `servers_of` as
        `WorkCounter` takes it."""
        self.counter.servers_of = servers_of
        trace.subscribe(self.feed)

    def feed(self, event: TraceEvent) -> None:
        self.counter.feed(event)
        if self.counter.pending.private_operations >= self._every:
            self._slice()

    def _slice(self) -> None:
        watch = Stopwatch()
        work = self.counter.take()
        self.done.add(work)
        self.signatures += self.rig.signatures(work)
        self.envelopes += self.rig.envelopes(work)
        self.slices += 1
        self.spent += watch.read()

    def rest(self) -> Work:
        """The work counted since the last slice (the run's tail)."""
        return self.counter.take()
