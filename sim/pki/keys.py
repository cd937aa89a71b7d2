"""Deterministic ("seeded") RSA keys for the simulator, with a disk cache.

Why: a run must be byte-identical for the same scenario, seed and version, and every artifact
(certificates, CRLs, SCEP messages) depends on the routers' RSA keys. Keys from the OS RNG would
break that, so each key is derived from a deterministic byte stream keyed by (seed, label, bits):
SHA-256 in counter mode over a length-prefixed encoding of those inputs and a generator version
tag. The primes are found the textbook way (random odd candidate with the top two bits set, small
prime sieve, Miller-Rabin with bases drawn from the same stream), so the keys are real, ordinary
RSA keys -- but anyone who knows the seed can recompute them. They are for simulation only.

Candidates are tested with gmpy2's strong-probable-prime test (GMP, about 7x faster than
Python's own big integers for 2048-bit keys, and as fast as OpenSSL's key generation); it
answers exactly as the textbook loop below does for the same base, so the keys are the same
bytes with or without it, and the pure-Python loop remains for a host without gmpy2.
Generation still costs host time, so keys are cached in memory and, when a
cache directory is given, on disk as PKCS#8 PEM files named by a hash of the inputs and the
generator version. Changing the generator must bump ``GENERATOR_VERSION`` so stale caches are
never read.

How long the *simulated* router takes to generate a key is a separate question answered by
:func:`ios_keygen_seconds`.
"""

from __future__ import annotations

import binascii
import hashlib
import math
import multiprocessing
import os
import pathlib
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.pki.bigint import gmpy2

GENERATOR_VERSION = "pkilab-rsa-v1"
"""Bump whenever the derivation changes: it is part of both the stream key and the cache name."""

PUBLIC_EXPONENT = 65537
MIN_BITS = 256
"""Smaller moduli cannot carry a PKCS#1 v1.5 signature of a SHA-256 DigestInfo; IOS's own
minimum is 360 bits, so nothing realistic is refused."""

CACHE_ENV_VAR = "PKILAB_KEY_CACHE"

_HEADER = (
    "# pkilab SIMULATION-ONLY key: derived from a public seed, NOT SECRET. "
    "Never use it outside the simulator.\n"
)

_SMALL_PRIMES: tuple[int, ...] = tuple(
    n for n in range(3, 2000, 2) if all(n % d for d in range(3, math.isqrt(n) + 1, 2))
)
_SMALL_PRIMES_PRODUCT = math.prod(_SMALL_PRIMES)


class _ByteStream:
    """SHA-256 in counter mode: an endless, reproducible stream of bytes for one key."""

    def __init__(self, key: bytes) -> None:
        self._key = hashlib.sha256(key).digest()
        self._counter = 0
        self._buffer = b""

    def read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            block = hashlib.sha256(self._key + self._counter.to_bytes(8, "big")).digest()
            self._buffer += block
            self._counter += 1
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def integer(self, bits: int) -> int:
        """A uniformly distributed integer of at most ``bits`` bits."""
        raw = int.from_bytes(self.read((bits + 7) // 8), "big")
        return raw >> (-bits % 8)


def _stream_key(seed: int, label: str, bits: int) -> bytes:
    """Unambiguous encoding of the inputs: every field is length-prefixed."""
    parts = [
        GENERATOR_VERSION.encode(),
        str(seed).encode(),
        label.encode("utf-8"),
        str(bits).encode(),
    ]
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def _miller_rabin_rounds(bits: int) -> int:
    """Rounds for random candidates, about twice FIPS 186-5 table B.1 (error far below 2**-100).

    Composites almost always fail the first round, so extra rounds only cost time on the two
    primes actually kept.
    """
    if bits >= 1024:
        return 8
    if bits >= 512:
        return 14
    if bits >= 256:
        return 24
    return 40


def _is_probable_prime(n: int, stream: _ByteStream, rounds: int) -> bool:
    """Miller-Rabin over `rounds` bases drawn from `stream` (the same draws either way)."""
    if gmpy2 is not None:
        big = gmpy2.mpz(n)
        for _ in range(rounds):
            a = 2 + stream.integer(n.bit_length() + 64) % (n - 3)
            # A base sharing a factor with n proves n composite; the Python loop says so
            # too (no power of such a base is 1 or n - 1), gmpy2 refuses the base instead.
            if math.gcd(a, n) != 1 or not gmpy2.is_strong_prp(big, a):
                return False
        return True
    return _is_probable_prime_python(n, stream, rounds)


def _is_probable_prime_python(n: int, stream: _ByteStream, rounds: int) -> bool:
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        # Base in [2, n - 2]; 64 extra bits make the modulo bias negligible.
        a = 2 + stream.integer(n.bit_length() + 64) % (n - 3)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _generate_prime(stream: _ByteStream, bits: int) -> int:
    """A ``bits``-bit prime p with the top two bits set and gcd(e, p - 1) == 1.

    Top two bits set means the product of two such primes has exactly the sum of their sizes
    in bits, so the modulus is always exactly as long as asked.
    """
    rounds = _miller_rabin_rounds(bits)
    top = (1 << (bits - 1)) | (1 << (bits - 2))
    while True:
        candidate = stream.integer(bits) | top | 1
        if math.gcd(candidate, _SMALL_PRIMES_PRODUCT) != 1:
            continue
        if candidate % PUBLIC_EXPONENT == 1:  # e is prime, so this is gcd(e, p - 1) != 1
            continue
        if _is_probable_prime(candidate, stream, rounds):
            return candidate


def _generate_key(seed: int, label: str, bits: int) -> rsa.RSAPrivateKey:
    """Derive the key for (seed, label, bits); pure function of its inputs."""
    stream = _ByteStream(_stream_key(seed, label, bits))
    p_bits, q_bits = (bits + 1) // 2, bits // 2
    # FIPS 186 asks |p - q| > 2**(nlen/2 - 100); random primes fail this with negligible odds.
    min_distance = 1 << max(bits // 2 - 100, 0)
    p = _generate_prime(stream, p_bits)
    while True:
        q = _generate_prime(stream, q_bits)
        if abs(p - q) > min_distance:
            break
    if p < q:
        p, q = q, p
    n = p * q
    if n.bit_length() != bits:  # impossible by construction; guards future edits
        raise AssertionError(f"modulus has {n.bit_length()} bits, wanted {bits}")
    e = PUBLIC_EXPONENT
    d = pow(e, -1, math.lcm(p - 1, q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(e=e, n=n),
    )
    # The key is correct by construction; cryptography's validation would cost more host time
    # than generating it.
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


def default_cache_dir() -> pathlib.Path:
    """``$PKILAB_KEY_CACHE`` if set, else ``~/.cache/pkilab/keys``."""
    env = os.environ.get(CACHE_ENV_VAR)
    if env:
        return pathlib.Path(env)
    return pathlib.Path.home() / ".cache" / "pkilab" / "keys"


def cache_file_name(seed: int, label: str, bits: int) -> str:
    """File name for a cached key: generator version plus a hash of the inputs."""
    digest = hashlib.sha256(_stream_key(seed, label, bits)).hexdigest()[:40]
    return f"{GENERATOR_VERSION}-{digest}.pem"


def ios_keygen_seconds(bits: int, seconds_1024: float = 5.5) -> float:
    """Simulated seconds an IOS 12.3-era router spends in ``crypto key generate rsa``.

    A model, not a measurement of the host: RSA key generation cost grows roughly with the cube
    of the modulus size, anchored at about 5.5 s for 1024 bits on a router of that era. So 512
    bits takes ~0.7 s and 2048 bits ~44 s. Real prime search time varies
    from key to key; the simulator keeps it fixed so runs stay reproducible. A later
    release's router passes its own `seconds_1024` anchor.
    """
    if bits <= 0:
        raise ValueError(f"invalid key size {bits}")
    return seconds_1024 * (bits / 1024) ** 3


LIVE_KEYS = 2048
"""Key objects kept loaded (most recently used). chosen: a key object that has signed holds
about 8.7 KiB of OpenSSL memory (blinding and Montgomery tables) against 1.2 KiB for its
DER, and a router uses its key only while it enrolls; a key loaded again costs one more
table set-up, about 0.6 ms of CPU. In the 10,000-router hierarchy (`pkilab bench --levels
3 --fanout 10 --routers 10000`) 512 live keys meant 9,600 reloads and 2,048 none (8 % of
the run's CPU), for at most 17 MiB of key objects."""

_live: OrderedDict[bytes, rsa.RSAPrivateKey] = OrderedDict()
_live_lock = threading.Lock()
"""Runs in threads of one sweep worker share the cache; its moves are not atomic."""
_der_of: dict[int, bytes] = {}
"""The DER of each live key object, by identity (a live object stays alive, so its identity
is not reused): the key source and the router's key pair then share one copy of the bytes."""


def key_der(key: rsa.RSAPrivateKey) -> bytes:
    """The key's PKCS#8 DER: what routers and the key source keep between uses."""
    with _live_lock:
        der = _der_of.get(id(key))
        if der is not None and _live.get(der) is key:
            return der
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_key_der(der: bytes) -> rsa.RSAPrivateKey:
    """A new key object from PKCS#8 DER that :func:`key_der` wrote, from a key checked when
    it was first loaded, so not checked again (RSA's consistency check costs some 40 ms
    at RSA-2048)."""
    loaded = serialization.load_der_private_key(der, None,
                                                unsafe_skip_rsa_key_validation=True)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ValueError("not an RSA key")
    return loaded


def live_key(der: bytes, key: rsa.RSAPrivateKey | None = None) -> rsa.RSAPrivateKey:
    """The key object for `der` (PKCS#8, from :func:`key_der`): the one still loaded if it
    was used lately, else `key` if given, else loaded again. The bytes a key signs or
    decrypts do not depend on which object of the same key does it (PKCS#1 v1.5 signatures
    and decryption are deterministic), so a reloaded key is indistinguishable."""
    with _live_lock:
        found = _live.get(der)
        if found is not None:
            _live.move_to_end(der)
            return found
    if key is None:
        key = load_key_der(der)
    with _live_lock:
        _live[der] = key
        _live.move_to_end(der)
        _der_of[id(key)] = der
        while len(_live) > LIVE_KEYS:
            _, gone = _live.popitem(last=False)
            _der_of.pop(id(gone), None)
    return key


def release(key: rsa.RSAPrivateKey) -> None:
    """Stop keeping `key` loaded: its holder is done with it for a while (a router whose
    enrollment has ended). The object lives on while someone holds it; the next use of
    its DER loads it again (`live_key`). Without this, the last `LIVE_KEYS` keys used
    stay loaded whether or not anyone will use them again: at the end of a
    10,000-router run, 2,048 keys that have signed, some 18 MiB of OpenSSL memory."""
    with _live_lock:
        der = _der_of.get(id(key))
        if der is not None and _live.get(der) is key:
            del _live[der]
            del _der_of[id(key)]


class KeySource:
    """Hands out the deterministic RSA key for a (label, bits) under one run seed.

    ``label`` is a path-like string the caller builds, e.g. ``"root1/keys/root1#0"``
    (router / key label / generation), so regenerating a key pair on a router gives a new key
    while reruns of the scenario give the same one.
    """

    def __init__(self, seed: int, cache_dir: pathlib.Path | None = None) -> None:
        self.seed = seed
        self.cache_dir = cache_dir
        self._memory: dict[tuple[str, int], bytes] = {}
        """Each key handed out, as DER (`live_key` keeps the objects in use)."""
        self.on_generated: Callable[[str, int], None] | None = None
        """Told (label, bits) of each key generated because no cache had it (a benchmark
        counts them)."""

    def get(self, label: str, bits: int = 1024) -> rsa.RSAPrivateKey:
        """The key for ``label`` and ``bits``; generated once, then served from the caches."""
        if bits < MIN_BITS:
            raise ValueError(f"RSA modulus of {bits} bits is below the minimum of {MIN_BITS}")
        der = self._memory.get((label, bits))
        if der is not None:
            return live_key(der)
        loaded = self._load(label, bits)
        if loaded is None:
            key = _generate_key(self.seed, label, bits)
            self._store(label, bits, key)
            if self.on_generated is not None:
                self.on_generated(label, bits)
            der = key_der(key)
        else:
            key, der = loaded
        self._memory[(label, bits)] = der
        return live_key(der, key)

    def pregenerate(self, wanted: Iterable[tuple[str, int]],
                    workers: int | None = None) -> list[tuple[str, int]]:
        """Generate the keys of `wanted` (label, bits) that the disk cache lacks, ahead of
        their use, over `workers` processes (every core by default), into the cache; a run
        then loads them as it would any cached key. Only worth it for a batch: starting the
        processes costs up to a few tenths of a second, so fewer than `PREGENERATE_SECONDS`
        of estimated work, a single core or no disk cache does nothing, and neither does a
        pool that fails. Returns the keys generated (and tells `on_generated` of each)."""
        if self.cache_dir is None:
            return []
        workers = workers or os.cpu_count() or 1
        missing = sorted({(label, bits) for label, bits in wanted if bits >= MIN_BITS
                          and not os.path.exists(os.path.join(
                              self.cache_dir, cache_file_name(self.seed, label, bits)))})
        if not missing or workers < 2 or sum(_estimated_seconds(bits) for _, bits in missing) \
                < PREGENERATE_SECONDS:
            return []
        items = [(self.seed, str(self.cache_dir), label, bits) for label, bits in missing]
        # "fork" where this is the process's only thread: "spawn" imports the main module
        # again in each worker (a user's script without a `__main__` guard would run
        # again; one read from stdin cannot be found). With other threads (a sweep runs
        # each run on one), "spawn": forking a process with threads can leave a worker
        # holding a lock no one releases.
        method = "fork" if threading.active_count() == 1 else "spawn"
        try:
            with ProcessPoolExecutor(max_workers=min(workers, len(items)),
                                     mp_context=multiprocessing.get_context(method)) as pool:
                made = [item for item, ok in zip(missing, pool.map(
                    _pregenerate_one, items,
                    chunksize=max(1, len(items) // (workers * 8))), strict=True) if ok]
        except (OSError, BrokenProcessPool):
            # Making keys ahead only saves host time: the routers make what is missing.
            return []
        if self.on_generated is not None:
            for label, bits in made:
                self.on_generated(label, bits)
        return made

    @property
    def handed_out(self) -> int:
        """How many distinct keys `get` has handed out."""
        return len(self._memory)

    def cache_path(self, label: str, bits: int = 1024) -> pathlib.Path | None:
        """Where the key is (or would be) cached on disk; None without a cache dir."""
        if self.cache_dir is None:
            return None
        return self.cache_dir / cache_file_name(self.seed, label, bits)

    def _load(self, label: str, bits: int) -> tuple[rsa.RSAPrivateKey, bytes] | None:
        """The cached key and its PKCS#8 DER, or None if the cache has no good copy."""
        if self.cache_dir is None:
            return None
        # A plain path string, not `cache_path`'s pathlib object: a warm run of thousands of
        # routers reads one file per key, and building the Path cost more than reading it.
        path = os.path.join(self.cache_dir, cache_file_name(self.seed, label, bits))
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            return None
        try:
            key, der = _load_cached_key_der(data)
        except ValueError:
            return None  # damaged file: regenerate and overwrite it
        if key.key_size != bits:
            return None
        return key, der

    def _store(self, label: str, bits: int, key: rsa.RSAPrivateKey) -> None:
        path = self.cache_path(label, bits)
        if path is None:
            return
        data = _HEADER.encode() + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Temp file in the same directory + os.replace: a parallel reader sees either no
            # file or the whole file, never half of one.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pem")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
            except BaseException:
                pathlib.Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            # The cache only saves host time; an unwritable cache must not fail a run.
            return


PREGENERATE_SECONDS = 3.0
"""Estimated single-core seconds of key generation below which `pregenerate` leaves the
keys to be made as they are used: starting its worker processes took 0.02 s forked and
0.28 s spawned on the project's machine, and a small run gains nothing worth either."""


def _estimated_seconds(bits: int) -> float:
    """Rough host seconds to generate one key (RSA-2048 about 0.1 s; the work grows with
    about the cube of the size)."""
    return 0.1 * (bits / 2048) ** 3


def _pregenerate_one(item: tuple[int, str, str, int]) -> bool:
    """One key, in a `pregenerate` worker, into the disk cache; whether it is there now."""
    seed, cache_dir, label, bits = item
    source = KeySource(seed, pathlib.Path(cache_dir))
    source.get(label, bits)
    path = source.cache_path(label, bits)
    return path is not None and path.exists()


_PKCS8_BEGIN = b"-----BEGIN PRIVATE KEY-----\n"
_PKCS8_END = b"-----END PRIVATE KEY-----"


def _load_cached_key_der(data: bytes) -> tuple[rsa.RSAPrivateKey, bytes]:
    """A cache file's key and its PKCS#8 DER. The PEM body of a file `KeySource._store`
    wrote is that DER in base64, so it is decoded here rather than asked of the key
    object again (`key_der`, a full serialization, once per router of a warm run).
    Anything but a plain PKCS#8 PEM block takes the general path."""
    start = data.find(_PKCS8_BEGIN)
    end = data.find(_PKCS8_END, start)
    if start < 0 or end < 0:
        key = load_cached_key(data)
        return key, key_der(key)
    body = data[start + len(_PKCS8_BEGIN):end].replace(b"\n", b"")
    try:
        der = binascii.a2b_base64(body, strict_mode=True)
    except binascii.Error as exc:
        raise ValueError("damaged PEM body in cached key file") from exc
    return load_key_der(der), der


def load_cached_key(data: bytes) -> rsa.RSAPrivateKey:
    """Load a cache file: skip the comment header, then the PKCS#8 PEM body."""
    start = data.find(b"-----BEGIN")
    if start < 0:
        raise ValueError("no PEM block in cached key file")
    key = serialization.load_pem_private_key(
        data[start:], password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("cached key is not an RSA key")
    return key
