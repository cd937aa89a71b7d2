"""The network: routers with their addresses, links with latency, and links that went down.

Positions come from networkx's force-directed `spring_layout`, seeded, so the same topology
always gives the same picture, up to `LARGE` routers; past that a force-directed layout
costs the square of the router count (and scipy), so a big network is drawn as the tree
it almost always is (`sim.report.diagrams.tree_layout`, linear time, on a canvas as big as
the tree needs). The spring layout is stretched over a canvas whose size grows with
the square root of the router count (capped at `MAX_WIDTH`), which keeps labels apart; in a
small lab links are kept near `EDGE` px, so three routers do not become one long diagonal.
Past `MAX_LABELLED` links, the most common latency is said once under the picture and only
the links that differ carry a label.

A link that went down during the run is dashed vermillion and says when it went down (and
came back), because "the link flapped while R3 was polling" is exactly what a teacher wants
to point at. Routers that run a certificate server carry a "CA" badge and list their
servers' final states.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import networkx as nx

from sim.report import clock
from sim.report.diagrams import svg
from sim.report.diagrams.tree_layout import tree_positions
from sim.report.model import LinkFact, ReportModel, RouterFact

SEED = 7
PAD = 12
Point = tuple[float, float]
Box = tuple[float, float, float, float]
EDGE = 230.0
SMALL_LAB = 12
MAX_LABELLED = 16
MAX_FLAPS = 3
"""Outages spelled out on a link label; the rest are counted (all are in the tooltip)."""
LARGE = 300
"""Most routers laid out by force; more are laid out as a tree. chosen, by measurement (CPU
seconds of `spring_layout`, 200 iterations, on a random tree): 0.4 s at 200 routers, 1.0 s
at 300, 8.2 s at 500, and past 500 networkx needs scipy; the tree takes 0.3 s at 10,000."""


def topology_svg(model: ReportModel) -> svg.SvgPicture:
    label = f"Network topology of {model.scenario}"
    facts = {router.name: router for router in model.routers}
    names = [router.name for router in model.routers]
    extra = {end for link in model.links for end in (link.a, link.b)} - set(names)
    names += sorted(extra, key=svg.natural_key)
    if not names:
        return svg.empty(label, "The scenario has no routers.")
    graph: nx.Graph[str] = nx.Graph()
    graph.add_nodes_from(names)
    graph.add_edges_from((link.a, link.b) for link in model.links if link.a != link.b)
    lines = {name: _node_lines(name, facts.get(name)) for name in names}
    sizes = {name: _box_size(text) for name, text in lines.items()}
    if len(names) > LARGE:
        xy = tree_positions(names, graph.adj, sizes, svg.natural_key)
    else:
        pos = (nx.circular_layout(graph) if len(names) <= 2
               else nx.spring_layout(graph, seed=SEED, iterations=200))
        xy = _place(pos, graph, sizes)

    canvas = svg.Canvas()
    usual = _usual(model.links)
    seen: dict[tuple[str, str], int] = {}
    ids: list[str] = []
    # Link labels keep off the routers and off each other.
    blocked = _Boxes(_router_box(xy[name], sizes[name]) for name in names)
    for link in model.links:
        if link.a == link.b or link.a not in xy or link.b not in xy:
            continue
        pair = (min(link.a, link.b), max(link.a, link.b))
        offset = seen.get(pair, 0)
        seen[pair] = offset + 1
        _draw_link(canvas, link, (xy[link.a], xy[link.b]), (sizes[link.a], sizes[link.b]),
                   offset, usual, clock.parse_start(model.start), blocked)
        ids.append(f"{link.a}--{link.b}")
    for name in names:
        _draw_router(canvas, name, facts.get(name), lines[name], xy[name], sizes[name])
    if usual is not None:
        words = f"Links without a label: {_link_text(*usual)}."
        _, _, _, bottom = canvas.box
        canvas.add(svg.text(canvas.box[0], bottom + 22, words, fill=svg.MUTED))
        canvas.cover_text(canvas.box[0], bottom + 22, words)
    down = sum(1 for link in model.links if link.down_at)
    summary = f"{len(names)} routers, {len(model.links)} links, {down} went down during the run."
    return canvas.render(label, summary, PAD, {}, names + ids)


# --------------------------------------------------------------------------- geometry


def _canvas_size(count: int) -> tuple[float, float]:
    side = math.ceil(math.sqrt(count))
    width = min(svg.MAX_WIDTH - 2 * PAD, max(560.0, 190.0 * side + 220))
    height = max(300.0, min(1400.0, 120.0 * side + 160))
    return width, height


def _place(pos: Mapping[str, Any], graph: nx.Graph[str],
           sizes: dict[str, tuple[float, float]]) -> dict[str, Point]:
    """Map the layout onto the canvas, keeping whole boxes inside.

    Each axis is scaled to fill the canvas, but in a small lab no more than makes a typical
    link `EDGE` px long, so three routers are not blown up into a frame-filling diagonal."""
    names = list(graph.nodes)
    max_w, max_h = _canvas_size(len(names))
    half_w = max(w for w, _ in sizes.values()) / 2
    half_h = max(h for _, h in sizes.values()) / 2 + 14  # room for the CA badge
    coords = {name: (float(pos[name][0]), float(pos[name][1]))
              for name in names}
    lengths = sorted(math.dist(coords[a], coords[b]) for a, b in graph.edges if a != b)
    median = lengths[len(lengths) // 2] if lengths else 0.0
    cap = EDGE / median if median > 1e-9 and len(names) <= SMALL_LAB else math.inf
    x0, x1 = min(x for x, _ in coords.values()), max(x for x, _ in coords.values())
    y0, y1 = min(y for _, y in coords.values()), max(y for _, y in coords.values())

    def scale(span: float, room: float) -> float:
        return min(room / span, cap) if span > 1e-9 else 0.0

    sx = scale(x1 - x0, max_w - 2 * half_w)
    sy = scale(y1 - y0, max_h - 2 * half_h)
    # The layout's y grows upwards, the page's downwards.
    return {name: (round(half_w + (x - x0) * sx, 1), round(half_h + (y1 - y) * sy, 1))
            for name, (x, y) in coords.items()}


def _node_lines(name: str, fact: RouterFact | None) -> list[str]:
    lines = [name, fact.address if fact else "(not in the scenario)"]
    if fact and fact.servers:
        lines += [f"CS {server}: {state}" for server, state in sorted(fact.servers.items())]
    if fact and not fact.running:
        lines.append("not running at the end")
    return lines


def _box_size(lines: list[str]) -> tuple[float, float]:
    width = max(svg.text_width(text, svg.BODY if i == 0 else svg.SMALL)
                for i, text in enumerate(lines))
    return min(width, 220.0) + 20, 10 + 16 * len(lines)


# --------------------------------------------------------------------------- drawing


def _link_text(latency: float, loss: float) -> str:
    words = f"{svg.num(latency * 1000)} ms" if latency < 1 else f"{svg.num(latency)} s"
    return words + (f", {svg.num(loss * 100)}% loss" if loss else "")


def _usual(links: tuple[LinkFact, ...]) -> tuple[float, float] | None:
    """The most common (latency, loss) when there are too many links to label each one."""
    if len(links) <= MAX_LABELLED:
        return None
    counts: dict[tuple[float, float], int] = {}
    for link in links:
        counts[(link.latency, link.loss)] = counts.get((link.latency, link.loss), 0) + 1
    return min(counts, key=lambda pair: (-counts[pair], pair))


def _outages(link: LinkFact, start: datetime) -> list[str]:
    """`down 21:09:00 (+4m), up 21:10:00 (+5m)`: each down time paired with the first up
    time after it, in the report's one time format."""
    words = []
    for down in link.down_at:
        up = next((t for t in sorted(link.up_at) if t > down), None)
        words.append(f"down {clock.moment(start, down)}"
                     + (f", up {clock.moment(start, up)}" if up is not None else ""))
    return words


def _draw_link(canvas: svg.Canvas, link: LinkFact, ends: tuple[Point, Point],
               sizes: tuple[Point, Point], offset: int,
               usual: tuple[float, float] | None, start: datetime,
               blocked: _Boxes) -> None:
    (x1, y1), (x2, y2) = ends
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    # Parallel links between the same pair are drawn side by side.
    shift = 8.0 * offset
    nx_, ny_ = -(y2 - y1) / length * shift, (x2 - x1) / length * shift
    x1, y1, x2, y2 = x1 + nx_, y1 + ny_, x2 + nx_, y2 + ny_
    down = bool(link.down_at)
    colour = svg.VERMILLION if down else "#666666"
    quality = _link_text(link.latency, link.loss)
    outages = _outages(link, start)
    tooltip = f"{link.a} \u2014 {link.b}: " + "; ".join([quality, *outages])
    # Label the middle of the visible part of the line, not of the centre-to-centre one,
    # so a short link next to a big router box keeps its label in the open.
    out_a = svg.box_edge(*sizes[0], x2 - x1, y2 - y1) / length
    out_b = svg.box_edge(*sizes[1], x2 - x1, y2 - y1) / length
    middle = (out_a + 1 - out_b) / 2 if out_a + out_b < 1 else 0.5
    parts = [svg.title(tooltip),
             svg.line(x1, y1, x2, y2, stroke=colour, width=2.5 if down else 2,
                      dash="9 5" if down else None)]
    texts, (mx, my) = _place_label(_label_tiers(link, quality, outages, usual, start),
                                   (x1, y1, x2, y2), middle, blocked)
    for index, (content, alarm) in enumerate(texts):
        ty = my + 15 * index + 4
        parts.append(svg.text(mx, ty, content, anchor="middle", halo=True,
                              fill=svg.RED_INK if alarm else svg.MUTED,
                              weight="bold" if alarm else None))
        canvas.cover_text(mx, ty, content, svg.SMALL, "middle")
    values = {"data-link": f"{link.a}--{link.b}",
              "data-down": ",".join(f"{t:.1f}" for t in link.down_at),
              "data-up": ",".join(f"{t:.1f}" for t in link.up_at)}
    canvas.add(svg.element("g", values, "".join(parts)), x1, y1, x2, y2)


Text = list[tuple[str, bool]]


def _label_tiers(link: LinkFact, quality: str, outages: list[str],
                 usual: tuple[float, float] | None, start: datetime) -> list[Text]:
    """A link's label, longest first: every outage (up to `MAX_FLAPS`), then the count with
    the first one, then the count alone. The first that fits is drawn; all of them are in
    the tooltip and in the links table."""
    head: Text = [(quality, False)] if (link.latency, link.loss) != usual else []
    if not outages:
        return [head]
    full = head + [(words, True) for words in outages[:MAX_FLAPS]]
    if len(outages) > MAX_FLAPS:
        full.append((f"+{len(outages) - MAX_FLAPS} more outages", True))
    count = f"{len(outages)} outages" if len(outages) > 1 else "1 outage"
    first = f"{count}, first down {clock.moment(start, link.down_at[0])}"
    return [full, head + [(first, True)], head + [(count, True)]]


def _text_box(texts: Text, x: float, y: float) -> Box:
    width = max((svg.text_width(content) for content, _ in texts), default=0.0)
    return (x - width / 2 - 3, y - 9, x + width / 2 + 3, y + 15 * (len(texts) - 1) + 8)


def _place_label(tiers: list[Text], line: Box, middle: float,
                 blocked: _Boxes) -> tuple[Text, Point]:
    """The longest label that fits at a spot along the line overlapping no router and no
    other label; failing that, the shortest, moved off the line until it is free."""
    x1, y1, x2, y2 = line
    for texts in tiers:
        if not texts:
            return texts, (0.0, 0.0)
        for t in (middle, middle - 0.12, middle + 0.12, middle - 0.24, middle + 0.24):
            mx = x1 + (x2 - x1) * t
            my = y1 + (y2 - y1) * t - 8 * (len(texts) - 1)
            box = _text_box(texts, mx, my)
            if not blocked.hits(box):
                blocked.append(box)
                return texts, (mx, my)
    texts = tiers[-1]
    mx = x1 + (x2 - x1) * middle
    my = y1 + (y2 - y1) * middle - 8 * (len(texts) - 1)
    for step in itertools.count(1):
        for shifted in (my - 16.0 * step, my + 16.0 * step):
            box = _text_box(texts, mx, shifted)
            if not blocked.hits(box):
                blocked.append(box)
                return texts, (mx, shifted)
    return texts, (mx, my)  # unreachable: far enough out is always free


class _Boxes:
    """What is already on the page (routers, labels), bucketed in a coarse grid: asking
    whether a new label overlaps something looks at the boxes near it, not at all of them
    (a big network has thousands)."""

    CELL = 256.0

    def __init__(self, boxes: Iterable[Box]) -> None:
        self._cells: defaultdict[tuple[int, int], list[Box]] = defaultdict(list)
        for box in boxes:
            self.append(box)

    def _cells_of(self, box: Box) -> Iterable[tuple[int, int]]:
        x0, y0, x1, y1 = (math.floor(value / self.CELL) for value in box)
        return ((x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1))

    def append(self, box: Box) -> None:
        for cell in self._cells_of(box):
            self._cells[cell].append(box)

    def hits(self, box: Box) -> bool:
        return any(_overlap(box, other) for cell in self._cells_of(box)
                   for other in self._cells.get(cell, ()))


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _router_box(centre: Point, size: Point) -> Box:
    """What a router covers, its CA badge included."""
    w, h = size
    x, y = centre[0] - w / 2, centre[1] - h / 2
    return (x, y - 10, x + w + 4, y + h)


def _draw_router(canvas: svg.Canvas, name: str, fact: RouterFact | None, lines: list[str],
                 centre: tuple[float, float], size: tuple[float, float]) -> None:
    w, h = size
    x, y = centre[0] - w / 2, centre[1] - h / 2
    has_ca = bool(fact and fact.servers)
    running = fact is None or fact.running
    tooltip = "\n".join([f"{name} {lines[1]}", *lines[2:]])
    parts = [svg.title(tooltip),
             svg.rect(x, y, w, h, fill=svg.TINT_BLUE if has_ca else "#ffffff",
                      stroke=svg.BLUE if has_ca else "#444444", rx=6,
                      dash=None if running else "5 4")]
    chars = svg.chars_for(w - 16)
    for index, content in enumerate(lines):
        parts.append(svg.text(centre[0], y + 19 + 16 * index, svg.clip(content, chars),
                              anchor="middle", size=svg.BODY if index == 0 else svg.SMALL,
                              weight="bold" if index == 0 else None,
                              fill=svg.INK if index < 2 else svg.MUTED))
    if has_ca:
        parts.append(svg.rect(x + w - 30, y - 10, 34, 18, fill=svg.YELLOW, stroke=svg.INK, rx=4))
        parts.append(svg.text(x + w - 13, y + 4, "CA", anchor="middle", weight="bold"))
    values = {"data-router": name, "data-address": fact.address if fact else None,
              "data-ca": ",".join(sorted(fact.servers)) if has_ca and fact else None}
    canvas.add(svg.element("g", values, "".join(parts)), x, y - 10, x + w + 4, y + h)
