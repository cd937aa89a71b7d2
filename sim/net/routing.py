"""Shortest paths for large topologies without a graph search per message.

Theory of operation. Every segment of every HTTP exchange asks for a path, and a run may
hold 10,000 routers, so paths must cost about as much as their length. A plain cache of
per-source shortest-path trees does not get there: with traffic between many pairs it
builds one O(N) tree per router and keeps N of them (N squared memory).

Instead the up part of the topology is cut into biconnected components ("blocks") once per
topology change. Blocks meet at cut vertices and form a forest, the block-cut tree. Any
simple path between two routers crosses exactly the blocks on the block-cut tree path
between them, entering and leaving each through the cut vertices on that path; so the
shortest path is the concatenation of shortest paths *inside* those blocks. Real networks
(sites hanging off a backbone, hub and spoke, trees of CAs) are made of small blocks, so a
lookup is a climb in the block-cut tree plus a few in-block shortest-path trees that are
computed lazily and kept in a bounded LRU. One big block (a 10,000-node mesh) degrades to
a Dijkstra over the block for each new tree root (about 25 ms at 10,000 routers).

Paths are canonical. Link weights are integers: the latency in whole nanoseconds (so sums
are exact and the same in both directions) followed by a fixed 64-bit key hashed from the
link's endpoint names, which breaks ties between equal-latency paths. Every shortest path
is therefore unique (barring a 2**-64 key collision), and it does not matter which cached
tree answers a lookup: path(a, b) is always reversed(path(b, a)), it never depends on what
was looked up before, and it does not change when a topology file lists its links in
another order. That freedom is used for speed: a block answers from a tree it already
holds for either endpoint, and otherwise grows one at the endpoint asked about more often
(a CA rather than each of its clients).
"""

from __future__ import annotations

import hashlib
import heapq
from collections import OrderedDict, deque
from collections.abc import Iterable
from typing import cast

import networkx as nx

Path = tuple[str, ...]

DEFAULT_TREE_BUDGET = 1_000_000
"""Entries (node -> parent) kept across all cached in-block trees: about 30 MB at most."""

PATHS_KEPT = 8192
"""Answers `RouteTable.path` keeps (some 200 bytes each); it starts afresh when full."""
_UNKNOWN = object()

_KEY_BITS = 64
_LATENCY_SHIFT = _KEY_BITS + 16  # room for the keys of paths up to 65,536 hops


def link_weight(a: str, b: str, latency: float) -> int:
    """The routing weight of a link: nanoseconds of latency, then a tie-breaking key.

    The key is a hash of the endpoint names (not Python's salted `hash`), so it is the same
    in every run and for both directions of the link.
    """
    names = "\0".join(sorted((a, b))).encode()
    key = int.from_bytes(hashlib.blake2b(names, digest_size=_KEY_BITS // 8).digest(), "big")
    return (round(latency * 1e9) << _LATENCY_SHIFT) + key + 1


class RouteTable:
    """Shortest-by-latency paths over one snapshot of the up nodes and up links.

    `edges` carry `link_weight` values; `order` (router -> insertion index) only makes
    numbering deterministic. Build a new table whenever a node or link changes state.
    """

    def __init__(
        self,
        nodes: Iterable[str],
        edges: Iterable[tuple[str, str, int]],
        order: dict[str, int],
        tree_budget: int = DEFAULT_TREE_BUDGET,
    ) -> None:
        self._order = order
        self._graph: nx.Graph[str] = nx.Graph()
        self._graph.add_nodes_from(nodes)
        self._graph.add_weighted_edges_from(edges, weight="w")
        self._tree_budget = tree_budget
        self._trees: OrderedDict[tuple[int, str], dict[str, str | None]] = OrderedDict()
        self._tree_entries = 0
        self._demand: dict[str, int] = {}
        self._paths: dict[tuple[str, str], Path | None] = {}
        """Answers of `path` by (source, destination): a router's exchanges with its CA
        ask for the same two paths segment after segment (four segments an exchange).
        Paths do not depend on what was looked up before, so keeping answers changes none."""
        self._build_block_cut_forest()

    # -- construction --------------------------------------------------------------
    def _build_block_cut_forest(self) -> None:
        # networkx yields sets of nodes (its stubs say lists of sets).
        blocks: list[frozenset[str]] = [
            frozenset(cast(Iterable[str], b)) for b in nx.biconnected_components(self._graph)]
        # Deterministic block numbering, independent of networkx's traversal order.
        blocks.sort(key=lambda b: min(self._order[n] for n in b))
        self._blocks = blocks
        count: dict[str, int] = {}
        for block in blocks:
            for node in block:
                count[node] = count.get(node, 0) + 1
        cuts = sorted((n for n, c in count.items() if c > 1), key=self._order.__getitem__)
        nblocks = len(blocks)
        self._cut_id = {node: nblocks + i for i, node in enumerate(cuts)}
        self._cut_node = cuts  # forest id - nblocks -> router name
        size = nblocks + len(cuts)
        adjacency: list[list[int]] = [[] for _ in range(size)]
        self._home: dict[str, int] = {}
        for i, block in enumerate(blocks):
            for node in sorted(block, key=self._order.__getitem__):
                cut = self._cut_id.get(node)
                if cut is None:
                    self._home[node] = i
                else:
                    adjacency[i].append(cut)
                    adjacency[cut].append(i)
        self._home.update(self._cut_id)
        self._parent = [-1] * size
        self._depth = [0] * size
        self._component = [-1] * size
        for root in range(size):
            if self._component[root] != -1:
                continue
            self._component[root] = root
            queue = deque([root])
            while queue:
                here = queue.popleft()
                for there in adjacency[here]:
                    if self._component[there] == -1:
                        self._component[there] = root
                        self._parent[there] = here
                        self._depth[there] = self._depth[here] + 1
                        queue.append(there)

    # -- lookups -------------------------------------------------------------------
    def path(self, src: str, dst: str) -> Path | None:
        """Routers from `src` to `dst` inclusive, or None if either is down or unreachable."""
        key = (src, dst)
        found = self._paths.get(key, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._path(src, dst)
            if len(self._paths) >= PATHS_KEPT:
                self._paths.clear()
            self._paths[key] = found
        return cast(Path | None, found)

    def _path(self, src: str, dst: str) -> Path | None:
        if src == dst:
            return (src,) if src in self._graph else None
        home_src = self._home.get(src)
        home_dst = self._home.get(dst)
        if home_src is None or home_dst is None:
            return None  # down, unknown, or an isolated router
        if self._component[home_src] != self._component[home_dst]:
            return None
        hops = self._forest_path(home_src, home_dst)
        nblocks = len(self._blocks)
        result = [src]
        here = src
        for i, forest_node in enumerate(hops):
            if forest_node >= nblocks:
                continue  # a cut vertex: it is the exit of the block before it
            exit_node = self._cut_node[hops[i + 1] - nblocks] if i + 1 < len(hops) else dst
            result.extend(self._in_block(forest_node, here, exit_node)[1:])
            here = exit_node
        return tuple(result)

    def _forest_path(self, a: int, b: int) -> list[int]:
        """Block-cut forest nodes from `a` to `b` via their lowest common ancestor."""
        left = [a]
        right = [b]
        parent = self._parent
        depth = self._depth
        while depth[a] > depth[b]:
            a = parent[a]
            left.append(a)
        while depth[b] > depth[a]:
            b = parent[b]
            right.append(b)
        while a != b:
            a = parent[a]
            b = parent[b]
            left.append(a)
            right.append(b)
        right.pop()  # the common ancestor, already at the end of `left`
        right.reverse()
        return left + right

    def _in_block(self, block: int, a: str, b: str) -> Path:
        if a == b:
            return (a,)
        if len(self._blocks[block]) == 2:
            return (a, b)  # a bridge
        trees = self._trees
        if (block, a) in trees:
            root = a
        elif (block, b) in trees:
            root = b
        else:
            demand = self._demand
            demand[a] = demand.get(a, 0) + 1
            demand[b] = demand.get(b, 0) + 1
            root = a if demand[a] > demand[b] else b
        parent = self._tree(block, root)
        leaf = b if root == a else a
        walk = [leaf]
        node = parent[leaf]
        while node is not None:
            walk.append(node)
            node = parent[node]
        # `walk` runs leaf -> root; the caller wants a -> b.
        return tuple(walk) if leaf == a else tuple(reversed(walk))

    def _tree(self, block: int, root: str) -> dict[str, str | None]:
        key = (block, root)
        tree = self._trees.get(key)
        if tree is not None:
            self._trees.move_to_end(key)
            return tree
        tree = self._dijkstra(self._blocks[block], root)
        self._trees[key] = tree
        self._tree_entries += len(tree)
        while self._tree_entries > self._tree_budget and len(self._trees) > 1:
            _, evicted = self._trees.popitem(last=False)
            self._tree_entries -= len(evicted)
        return tree

    def _dijkstra(self, block: frozenset[str], root: str) -> dict[str, str | None]:
        """Parent pointers of the (unique) shortest path tree from `root`, inside one block."""
        adj = self._graph.adj
        parent: dict[str, str | None] = {}
        best: dict[str, int] = {root: 0}
        pending: dict[str, str | None] = {root: None}
        heap: list[tuple[int, str]] = [(0, root)]
        while heap:
            dist, node = heapq.heappop(heap)
            if node in parent:
                continue
            parent[node] = pending[node]
            for nbr, attrs in adj[node].items():
                if nbr in parent or nbr not in block:
                    continue
                cand = dist + attrs["w"]
                if nbr not in best or cand < best[nbr]:
                    best[nbr] = cand
                    pending[nbr] = node
                    heapq.heappush(heap, (cand, nbr))
        return parent

    # -- introspection (benchmarks, reports) -----------------------------------------
    @property
    def block_count(self) -> int:
        return len(self._blocks)

    @property
    def largest_block(self) -> int:
        return max((len(b) for b in self._blocks), default=0)

    @property
    def cached_tree_entries(self) -> int:
        return self._tree_entries
