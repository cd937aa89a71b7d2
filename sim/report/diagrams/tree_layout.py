"""Where the topology picture puts the routers of a big network: a tree, in linear time.

A force-directed layout costs the square of the router count (networkx's `spring_layout`
needs scipy past 500 nodes and then still works on every pair), which at 3,000 routers
takes longer than the simulation. A big lab is almost always a tree anyway (a hierarchy of
CAs with routers under the last level, sites behind a hub), so the picture follows the
tree: the root on the left, depth going across, subtrees one under the other, and the
routers without anything behind them (leaves) in a block of rows beside their parent, a
few per row, so a CA with a hundred routers under it takes ten rows, not a hundred.

The tree is a breadth-first spanning tree of each connected part, from the router named
`root` (else the most connected router); links outside the tree are drawn all the same.
Each step is linear in routers and links: `tree_positions` at 10,000 routers takes a
fraction of a second.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping

Order = Callable[[str], tuple[object, ...]]
"""How routers of one parent are ordered (the report's natural order: r2 before r10)."""

Point = tuple[float, float]
COLUMN_GAP = 40.0
ROW_GAP = 24.0
"""Room between two boxes: for a link's label across, for the CA badge above."""
MAX_LEAF_COLUMNS = 12


def _spanning_children(names: list[str], neighbours: Mapping[str, Iterable[str]],
                       order: Order) -> tuple[list[str], dict[str, list[str]]]:
    """Roots of the connected parts and each router's children in their BFS trees."""
    children: dict[str, list[str]] = {name: [] for name in names}
    seen: set[str] = set()
    roots: list[str] = []
    degree = {name: len(set(neighbours[name])) for name in names}
    first = ["root"] if "root" in children else []
    # The most connected router first: the hub of a part without a `root`.
    for start in first + sorted(names, key=lambda name: (-degree[name], order(name))):
        if start in seen:
            continue
        roots.append(start)
        seen.add(start)
        queue = deque([start])
        while queue:
            node = queue.popleft()
            for other in sorted(set(neighbours[node]) - seen, key=order):
                seen.add(other)
                children[node].append(other)
                queue.append(other)
    return roots, children


def tree_grid(names: list[str], neighbours: Mapping[str, Iterable[str]],
              order: Order) -> dict[str, tuple[int, int]]:
    """(column, row) of every router: depth across, subtrees down, leaves in blocks."""
    roots, children = _spanning_children(names, neighbours, order)
    most = max((sum(1 for kid in kids if not children[kid]) for kids in children.values()),
               default=0)
    columns = max(1, min(MAX_LEAF_COLUMNS, math.ceil(math.sqrt(most))))
    grid: dict[str, tuple[int, int]] = {}
    row = 0
    for root in roots:
        stack = [(root, 0)]
        while stack:
            node, depth = stack.pop()
            grid[node] = (depth, row)
            kids = children[node]
            leaves = [kid for kid in kids if not children[kid]]
            inner = [kid for kid in kids if children[kid]]
            for index, leaf in enumerate(leaves):
                grid[leaf] = (depth + 1 + index % columns, row + index // columns)
            # The first inner child shares its parent's row when no leaf took it.
            row += math.ceil(len(leaves) / columns) if leaves else (0 if inner else 1)
            stack.extend((kid, depth + 1) for kid in reversed(inner))
    return grid


def tree_positions(names: list[str], neighbours: Mapping[str, Iterable[str]],
                   sizes: Mapping[str, tuple[float, float]],
                   order: Order) -> dict[str, Point]:
    """Centre of every router's box on the page (see the module docstring)."""
    width = max(w for w, _ in sizes.values()) + COLUMN_GAP
    height = max(h for _, h in sizes.values()) + ROW_GAP
    return {name: (round(width * (column + 0.5), 1), round(height * (row + 0.5), 1))
            for name, (column, row) in tree_grid(names, neighbours, order).items()}
