"""Benchmark: a simulated IOS certificate server served on 127.0.0.1 to many real requests.

    pkilab bench-serve --requests 40000 [--clients 4] [--pool 16]
    pkilab bench-serve --requests 40000 --keep-artifacts -1 --keep-trace -1

Builds a one-router lab whose certificate server `ca` is enabled with `grant auto`, serves
its HTTP server on 127.0.0.1 with `serve_router` (artifacts and trace bounded as for a
long-lived server; -1 keeps everything, as a batch run does) and sends N real HTTP
requests from `--clients` threads: GetCACert, GetCACaps and a POSTed PKIOperation in
turn. The PKIOperations are real PKCSReqs from a pool of `--pool` enrollments, resent (a
repeated PKCSReq is a poll: the CA answers with the certificate it granted), so the CA's
request database stays the size of the pool and what grows is only what the server keeps
per request. Prints resident memory before and after, requests per second, host CPU per
request and the answers' status codes (`measure_served` returns the lines). Numbers, not
assertions.
"""

from __future__ import annotations

import http.client
import random
import resource
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from sim.kernel.clock import RouterClock
from sim.kernel.env import SimEnv
from sim.net.topology import Network
from sim.pki import scep
from sim.pki.keys import KeySource, default_cache_dir
from sim.pki.scep_client import Enrollment
from sim.pki.scep_http import (
    GET_CA_CAPS,
    GET_CA_CERT,
    SCEP_PATH,
    ScepHttpRequest,
    get_request,
    pki_operation_request,
)
from sim.router.router import Router
from sim.router.serving import serve_router

START = datetime(2005, 1, 6, 21, tzinfo=UTC)
ENABLE_CA = ("enable", "configure terminal", "crypto pki server ca", "grant auto",
             "no shutdown", "end")


def rss_mib() -> float:
    """Resident set size now (Linux /proc), else the peak the OS reports."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def enabled_ca() -> Router:
    """A router `ca` whose certificate server `ca` is enabled and grants at once."""
    env = SimEnv(1, START)
    net = Network(env)
    net.add_node("ca", "10.0.0.1")
    ca = Router(env, net, "ca", "10.0.0.1", RouterClock(env), KeySource(1, default_cache_dir()),
                ["hostname ca", "ip http server"])
    ca.start()
    env.run(until=1.0)  # booted: the console takes input
    ca.type_lines(list(ENABLE_CA), ["cisco123", "cisco123"])
    env.run(until=120.0)
    return ca


def _requests(ca_cert: x509.Certificate, pool: int, keysource: KeySource, now: datetime
              ) -> list[ScepHttpRequest]:
    """The request cycle: GetCACert, GetCACaps and a POSTed PKCSReq per enrollment."""
    rng = random.Random(7)
    cycle: list[ScepHttpRequest] = []
    for index in range(pool):
        key = keysource.get(f"bench-client-{index}", 1024)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"c{index}.lab")])
        enrollment = Enrollment("tp", key, subject, ca_cert, scep.RFC_8894, rng.randbytes, now)
        cycle += [get_request(SCEP_PATH, GET_CA_CERT, "ca"),
                  get_request(SCEP_PATH, GET_CA_CAPS, "ca"),
                  pki_operation_request(SCEP_PATH, enrollment.pkcs_req(now), post=True)]
    return cycle


def _client(port: int, work: list[ScepHttpRequest], statuses: Counter[str],
            lock: threading.Lock) -> None:
    seen: Counter[str] = Counter()
    for request in work:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request(request.method, request.target, body=request.body or None,
                               headers=dict(request.headers))
            reply = connection.getresponse()
            reply.read()
            seen[str(reply.status)] += 1
        except (OSError, http.client.HTTPException) as error:
            seen[type(error).__name__] += 1
        finally:
            connection.close()
    with lock:
        statuses.update(seen)


class CaDidNotComeUp(RuntimeError):
    """The lab's certificate server was not enabled, so there is nothing to measure."""


def measure_served(requests: int = 40_000, clients: int = 4, pool: int = 16,
                   keep_artifacts: int | None = 1000, keep_trace: int | None = 10_000
                   ) -> list[str]:
    """Serve the enabled CA on 127.0.0.1, send `requests` from `clients` threads, and say
    what it cost (`None` keeps every artifact or trace event, as a batch run does)."""
    ca = enabled_ca()
    env = ca.env
    cs = ca.running.servers["ca"]
    if cs.ca_cert is None:
        raise CaDidNotComeUp("the simulated CA did not come up")
    cycle = _requests(cs.ca_cert, pool, ca.keysource, env.true_time())
    work = [cycle[i % len(cycle)] for i in range(requests)]
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    before = rss_mib()
    with serve_router(ca, keep_artifacts=keep_artifacts, keep_trace=keep_trace) as server:
        threads = [threading.Thread(target=_client,
                                    args=(server.port, work[i::clients], statuses, lock))
                   for i in range(clients)]
        started, cpu = time.perf_counter(), time.process_time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    counts = server.counts()
    after = rss_mib()

    return [
        f"requests: {requests} from {clients} clients in {wall:.1f} s "
        f"({requests / wall:.0f} requests/s; host CPU {1000 * cpu / requests:.2f} ms "
        "per request, clients included)",
        f"answers: {dict(sorted(statuses.items()))}",
        f"server: {counts}",
        f"RSS: {before:.0f} MiB before, {after:.0f} MiB after ({after - before:+.0f} MiB)",
        f"kept in memory: {len(ca.artifacts)} artifacts ({ca.artifacts.dropped} dropped), "
        f"{len(env.trace)} trace events ({env.trace.dropped} dropped), "
        f"{len(cs.requests)} request database entries",
        f"simulated time: {env.now:.0f} s",
    ]
