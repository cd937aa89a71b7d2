"""Fuzz a simulated IOS certificate server's SCEP service and print what happened.

    python -m sim.scep_fuzz --count 100000 --seed 1                 # through the HTTP binding
    python -m sim.scep_fuzz --count 100000 --seed 1 --via service   # the bare service

Each message is a real request of pkilab's own client (IOS 12.3 and RFC 8894 profiles), a
mutant of one, or a forged case with a known answer (`sim.pki.scep_corpus`). Every answer is
judged against the service's contract: a CertRep signed by the CA that echoes the request's
transactionID and nonce, an HTTP 400 or an HTTP 404, never an exception; forged cases must get
the answer the server's policy gives them; no serial number may be issued twice
(`sim.pki.scep_fuzz`). The certificate server is replaced every `--per-target` messages,
alternating `grant auto` with manual granting (an administrator's `grant all` every 150
messages) and IOS 12.3's `hash md5` (no GetCACaps) with `hash sha256` (RFC 8894's caps).

`--via http` (the default) sends GET and POST requests through `sim.router.http_service.serve`
of a simulated router, one per CA, which adds the HTTP-level cases (bad base64, non-ASCII,
empty bodies, unknown operations and paths). `--via service` calls
`ScepService.pki_operation` directly; it is barely faster (about 300 against 320 messages
per CPU second: the crypto and the DER dominate), so the default tests the whole contract.
Prints counts per outcome, the number of uncaught exceptions, contract violations, forged
cases answered against policy and serials issued twice, then the wall and CPU time. Exit
status 1 when any of those problems occurred. Numbers, not a test: CI runs a few thousand
messages in tests/test_scep_fuzz.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sim.kernel.clock import RouterClock
from sim.kernel.env import SimEnv
from sim.net.http import HttpRequest, HttpResponse
from sim.net.topology import Network
from sim.pki.ca_requests import RequestState
from sim.pki.keys import KeySource, default_cache_dir
from sim.pki.scep_fuzz import Answer, ServiceTarget, Tally, Target, fuzz
from sim.pki.scep_http import IOS_USER_AGENT
from sim.pki.scep_mutants import Sample
from sim.router.router import Router

START = datetime(2005, 1, 6, 21, 0, 0, tzinfo=UTC)
PASSPHRASE = "cisco123"
CONTENT_TYPE_POST = "application/octet-stream"
"""What micromdm's scepclient labels a POSTed pkiMessage (scep.md 3.3); servers ignore it."""


class RouterTarget:
    """A simulated router `ca` running `crypto pki server ca`; requests go to its HTTP
    binding (`Router.http_handler`, i.e. `sim.router.http_service.serve`) as simulated
    HTTP, and an administrator grants at its console."""

    http = True

    def __init__(self, keysource: KeySource, seed: int, *, auto: bool,
                 hash_name: str = "sha256") -> None:
        self.auto = auto
        self.env = SimEnv(seed, START)
        net = Network(self.env)
        net.add_node("ca", "10.0.0.1")
        self.router = Router(self.env, net, "ca", "10.0.0.1",
                             RouterClock(self.env, is_set=True, calendar=True), keysource,
                             ["hostname ca", "ip http server"])
        self.router.start()
        self.env.run(until=0.001)
        lines = ["enable", "configure terminal", "crypto pki server ca", f"hash {hash_name}"]
        if auto:
            lines.append("grant auto")
        lines += ["no shutdown", "end"]
        self.router.type_lines(lines, [PASSPHRASE, PASSPHRASE])
        self.env.run(until=self.env.now + 120)
        self.cs = self.router.running.servers["ca"]
        if self.cs.ca_cert is None or not self.cs.scep_running:
            raise RuntimeError("the simulated certificate server did not come up")
        self.ca_cert = self.cs.ca_cert

    def now(self) -> datetime:
        return self.router.clock.now()

    def send(self, sample: Sample) -> Answer:
        headers = [("User-Agent", IOS_USER_AGENT)]
        body = b""
        if sample.method != "GET":
            headers.append(("Content-Type", CONTENT_TYPE_POST))
            body = sample.der
        request = HttpRequest.from_target(sample.method, sample.target(), tuple(headers), body)
        process = self.env.process(self.router.http_handler(request))
        self.env.sim.run(until=process)
        response = process.value
        if not isinstance(response, HttpResponse):
            raise TypeError(f"the HTTP handler returned {response!r}")
        return Answer(response.status, response.header("Content-Type") or "", response.body)

    def grant_all(self) -> None:
        """`crypto pki server ca grant all` at the console, run until it is done."""
        pending = len(self.cs.requests.ids(RequestState.PENDING))
        if not pending:
            return
        self.router.type_lines(["crypto pki server ca grant all"], [])
        deadline = self.env.now + 10 * pending + 60
        while self.cs.requests.ids(RequestState.PENDING) and self.env.now < deadline:
            self.env.run(until=self.env.now + 5)
        self.env.run(until=self.env.now + 5)

    def issued_serials(self) -> list[int]:
        """Every serial the server issued, from the trace (`cs issued` events)."""
        return [event.data["serial"]
                for event in self.env.trace.select(router="ca", category="cs", name="issued")]


def target_factory(via: str, keysource: KeySource, seed: int, grant: str
                   ) -> Callable[[int], Target]:
    """A function making the n-th target: with `--grant both`, `grant auto` on even ones;
    `hash md5` (IOS 12.3: no caps) on every other pair, `hash sha256` on the rest."""

    def make(n: int) -> Target:
        auto = grant == "auto" or (grant == "both" and n % 2 == 0)
        hash_name = "md5" if n % 4 in (1, 2) else "sha256"
        if via == "http":
            return RouterTarget(keysource, seed + n, auto=auto, hash_name=hash_name)
        return ServiceTarget(keysource.get, START, auto=auto, hash_name=hash_name, seed=seed + n)

    return make


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.scep_fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000, help="messages to send")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--via", choices=("http", "service"), default="http")
    parser.add_argument("--grant", choices=("auto", "manual", "both"), default="both")
    parser.add_argument("--per-target", type=int, default=2000,
                        help="messages per certificate server before a fresh one")
    parser.add_argument("--progress", action="store_true",
                        help="a line after each certificate server")
    parser.add_argument("--key-cache", type=Path, default=None,
                        help="RSA key cache folder (default: $PKILAB_KEY_CACHE or "
                             "~/.cache/pkilab/keys)")
    args = parser.parse_args(argv)
    if args.count < 1 or args.per_target < 1:
        parser.error("--count and --per-target must be positive")

    def out(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    keysource = KeySource(args.seed, args.key_cache or default_cache_dir())
    out(f"python -m sim.scep_fuzz --count {args.count} --seed {args.seed} --via {args.via} "
        f"--grant {args.grant} --per-target {args.per_target}")
    began, cpu = time.perf_counter(), time.process_time()

    def progress(tally: Tally) -> None:
        if args.progress:
            out(f"... {tally.messages} messages, {tally.problems} problems, "
                f"{time.perf_counter() - began:.0f} s")

    tally = fuzz(target_factory(args.via, keysource, args.seed, args.grant), keysource.get,
                 args.count, args.seed, per_target=args.per_target, progress=progress)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    for line in tally.lines():
        out(line)
    out(f"wall time: {wall:.1f} s, CPU {cpu:.1f} s ({tally.messages / cpu:.0f} messages per "
        "CPU second)")
    for key, example in list(tally.examples.items())[:5]:
        out(f"--- first example of: {key}")
        out(example)
    return 1 if tally.problems else 0


if __name__ == "__main__":
    sys.exit(main())
