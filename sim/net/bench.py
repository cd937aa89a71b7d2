"""Benchmark of the network layer at the DESIGN target of 10,000 routers.

    python -m sim.net.bench [--routers 10000] [--lookups 100000] [--flaps 10] [--seed 1]
    python -m sim.net.bench --shape grid --lookups 1000    # the worst case, one big block

Topology: a ring of sites (Mininet-style data, built in code). Each site has a gateway on
the backbone ring, two distribution routers and access routers dual-homed to both, so
every site is one block of ~100 routers with many equal-cost cycles; every tenth gateway
also has a chord across the ring. Measures build time, path lookups between random pairs
(cold, then warm), lookups towards a few CA routers (the real traffic shape), link flaps
(route table rebuilds), simulated HTTP exchanges, and memory via tracemalloc. Timing runs
without tracemalloc, which slows Python down; memory is measured in a second pass.
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from sim.kernel.env import SimEnv
from sim.kernel.process import SimProcess
from sim.net.http import HttpRequest, HttpResponse
from sim.net.topology import Network

SITE_SIZE = 100


def build(env: SimEnv, routers: int) -> tuple[Network, list[str], list[tuple[str, str]]]:
    """The ring of sites; returns the network, the gateways and the backbone links."""
    rng = env.rng
    net = Network(env)
    sites = max(3, routers // SITE_SIZE)
    base = int(ipaddress.IPv4Address("10.0.0.1"))
    count = 0

    def node(name: str) -> str:
        nonlocal count
        net.add_node(name, str(ipaddress.IPv4Address(base + count)))
        count += 1
        return name

    gateways: list[str] = []
    for s in range(sites):
        gw = node(f"s{s}-gw")
        d1, d2 = node(f"s{s}-d1"), node(f"s{s}-d2")
        gateways.append(gw)
        for d in (d1, d2):
            net.add_link(gw, d, latency=rng.uniform(0.0005, 0.001))
        net.add_link(d1, d2, latency=0.0005)
        in_site = min(SITE_SIZE, routers - count + 3) - 3 if s == sites - 1 else SITE_SIZE - 3
        for a in range(in_site):
            access = node(f"s{s}-a{a}")
            net.add_link(access, d1, latency=rng.uniform(0.0005, 0.002))
            net.add_link(access, d2, latency=rng.uniform(0.0005, 0.002))
    backbone: list[tuple[str, str]] = []
    for s in range(sites):
        pair = (gateways[s], gateways[(s + 1) % sites])
        net.add_link(*pair, latency=rng.uniform(0.005, 0.03))
        backbone.append(pair)
        if s % 10 == 0:
            chord = (gateways[s], gateways[(s + sites // 4) % sites])
            if not net.graph.has_edge(*chord):
                net.add_link(*chord, latency=rng.uniform(0.02, 0.05))
                backbone.append(chord)
    return net, gateways, backbone


def build_grid(env: SimEnv, routers: int) -> tuple[Network, list[str], list[tuple[str, str]]]:
    """The worst case for the route table: a square mesh, one block holding every router."""
    rng = env.rng
    net = Network(env)
    side = max(2, round(routers**0.5))
    base = int(ipaddress.IPv4Address("10.0.0.1"))
    for i in range(side * side):
        net.add_node(f"g{i}", str(ipaddress.IPv4Address(base + i)))
    links: list[tuple[str, str]] = []
    for i in range(side * side):
        right, down = i + 1, i + side
        for j in (right if right % side else None, down if down < side * side else None):
            if j is not None:
                net.add_link(f"g{i}", f"g{j}", latency=rng.uniform(0.001, 0.002))
                links.append((f"g{i}", f"g{j}"))
    return net, [f"g{i}" for i in range(0, side * side, side)], links


BUILDERS = {"ring": build, "grid": build_grid}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def lookups(net: Network, pairs: list[tuple[str, str]]) -> int:
    route = net.route
    return sum(1 for src, dst in pairs if route(src, dst) is not None)


def http_storm(env: SimEnv, net: Network, clients: list[str], ca: str) -> int:
    """Every client fetches the CA certificate once; returns the number that succeeded."""

    def handler(request: HttpRequest) -> SimProcess[HttpResponse]:
        yield env.timeout(0.01)
        return HttpResponse(200, "OK", (("Content-Type", "application/x-x509-ca-cert"),), b"x")

    net.listen(ca, 80, handler)
    request = HttpRequest.from_target("GET", "/cgi-bin/pkiclient.exe?operation=GetCACert")
    address = net.address_of(ca)
    procs = [net.http(c, address, 80, request) for c in clients]
    env.run(until=env.sim.all_of(procs))
    return sum(1 for p in procs if p.value is not None and p.value.ok)


def run(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    env = SimEnv(seed=args.seed)
    builder = BUILDERS[args.shape]
    build_s, (net, gateways, backbone) = timed(lambda: builder(env, args.routers))
    nodes = net.nodes
    table_s, table = timed(net.route_table)
    out(f"{args.shape}: routers {len(nodes)}, links {len(net.links)}, seed {args.seed}")
    out(f"build topology: {build_s:.3f} s")
    out(
        f"route table (block-cut forest): {table_s * 1000:.1f} ms, "
        f"{table.block_count} blocks, largest {table.largest_block} routers"
    )

    rng = env.rng
    pairs = [tuple(rng.sample(nodes, 2)) for _ in range(args.lookups)]
    for label in ("random pairs, cold", "random pairs, warm"):
        secs, found = timed(lambda: lookups(net, pairs))  # noqa: B023
        out(f"{label}: {len(pairs)} lookups in {secs:.3f} s = {len(pairs) / secs:,.0f}/s")
    out(f"  cached in-block tree entries: {net.route_table().cached_tree_entries:,}")
    if found != len(pairs):
        raise SystemExit(f"only {found} of {len(pairs)} pairs have a route: the generated "
                         "topology is not connected")

    cas = rng.sample(nodes, 10)
    to_ca = [(rng.choice(nodes), rng.choice(cas)) for _ in range(args.lookups)]
    secs, _ = timed(lambda: lookups(net, to_ca))
    out(f"towards 10 CAs: {len(to_ca)} lookups in {secs:.3f} s = {len(to_ca) / secs:,.0f}/s")

    sample = pairs[: max(1, args.lookups // 10)]
    rebuild_total = 0.0
    lookup_total = 0.0
    for _ in range(args.flaps):
        gw_link = rng.choice(backbone)
        site_link = rng.choice(net.links).endpoints
        for link in (gw_link, site_link):
            net.set_link_up(*link, False)
        secs, _ = timed(net.route_table)
        rebuild_total += secs
        secs, _ = timed(lambda: lookups(net, sample))  # noqa: B023
        lookup_total += secs
        for link in (gw_link, site_link):
            net.set_link_up(*link, True)
    if args.flaps:
        out(
            f"flaps: {args.flaps} x (2 links down, rebuild, {len(sample)} lookups, links up): "
            f"rebuild {rebuild_total / args.flaps * 1000:.1f} ms avg, lookups "
            f"{len(sample) * args.flaps / lookup_total:,.0f}/s after a rebuild"
        )

    clients = rng.sample(nodes, min(args.exchanges, len(nodes) - 1))
    ca = next(n for n in nodes if n not in clients)
    events = len(env.trace)
    secs, ok = timed(lambda: http_storm(env, net, clients, ca))
    out(
        f"HTTP: {len(clients)} concurrent GetCACert exchanges, {ok} ok, "
        f"{len(env.trace) - events} trace events, {secs:.3f} s wall "
        f"({len(clients) / secs:,.0f} exchanges/s), sim time {env.now:.3f} s"
    )


def memory(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    gc.collect()
    tracemalloc.start()
    env = SimEnv(seed=args.seed)
    net = BUILDERS[args.shape](env, args.routers)[0]
    built, _ = tracemalloc.get_traced_memory()
    nodes = net.nodes
    pairs = [(a, b) for a, b in (env.rng.sample(nodes, 2) for _ in range(args.lookups))]
    with_pairs, _ = tracemalloc.get_traced_memory()
    lookups(net, pairs)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    mb = 2**20
    out(
        f"memory (tracemalloc): topology {built / mb:.1f} MB; route table and caches after "
        f"{len(pairs)} random lookups +{(current - with_pairs) / mb:.1f} MB; "
        f"peak {peak / mb:.1f} MB (incl. {(with_pairs - built) / mb:.1f} MB of benchmark pairs)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.net.bench", description=__doc__)
    parser.add_argument("--routers", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--flaps", type=int, default=10)
    parser.add_argument("--exchanges", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--shape", choices=sorted(BUILDERS), default="ring", help="ring of sites, or a mesh"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    args = parser.parse_args(argv)

    def out(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    run(args, out)
    if not args.no_memory:
        memory(args, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
