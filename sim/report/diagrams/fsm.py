"""The certificate-server state machine, drawn from the transition table the code runs,
with the path this run took through it.

Nothing here names a state or a signal: nodes are `ReportModel.states` (plus any state the
table mentions), and there is one edge per (source, target) pair of
`ReportModel.transitions`, labelled with every signal that takes it. So a cell changed in
the table changes the picture, and the picture cannot drift from the code.

A state re-entered on a signal (`stay`, or checks that fail again) is a small loop outside
the node. Loops are summarised rather than labelled: every state has one, and five signal
lists round the ring said less than one line under the picture does (each loop's tooltip,
and the transition table under the picture, list its signals).

The run's path: every edge some certificate server took in this run (from the `fsm`
trace events) is drawn thick and blue with a badge saying how often, and the lines under
the picture give each server's path in order, with the report's one time format. Edges the
run did not take are grey, so the lesson's path stands out of the full table.

Layout: networkx's `circular_layout`, on an ellipse to suit a wide page. The order of the
states round the ring is chosen (by trying every order, fine for the handful of states an
FSM has) to minimise crossing edges. Edges in both directions between two states are bent
apart. Each label then takes the first of several spots along its edge (the middle, then
either side of it, then pushed off the curve) where it overlaps no node, no other label and
no badge, so no two labels ever sit on each other.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import networkx as nx

from sim.report import clock
from sim.report.diagrams import svg
from sim.report.model import ReportModel, ServerTimeline

PAD = 12
WRAP = 22  # characters per line of an edge label
MAX_PERMUTED = 7
NODE_H = 38.0
LINE = 15  # distance between two lines of a label
MARGIN = 3.0  # clear space kept round every label
MAX_STEPS = 4
"""Steps of one server's path spelled out under the picture; the rest are counted."""
TAKEN = svg.BLUE
NOT_TAKEN = "#8c8c8c"

Box = tuple[float, float, float, float]
Point = tuple[float, float]


@dataclass
class _Edge:
    source: str
    target: str
    signals: list[str]
    notes: list[str]
    taken: int  # how often this run took it
    markup: str = ""
    spots: tuple[tuple[float, float, str], ...] = ()  # label candidates: x, y, anchor
    samples: tuple[Point, ...] = ()  # points along the drawn curve


def fsm_svg(model: ReportModel) -> svg.SvgPicture:
    label = f"Certificate server state machine ({len(model.transitions)} transitions)"
    states = list(dict.fromkeys([*model.states,
                                 *(s for t in model.transitions for s in (t.source, *t.targets))]))
    if not states:
        return svg.empty(label, "The report has no state machine table.")
    taken = Counter((c.old, c.new) for t in model.timelines for c in t.changes)
    edges: dict[tuple[str, str], _Edge] = {}
    for step in model.transitions:
        for target in step.targets:
            edge = edges.setdefault((step.source, target),
                                    _Edge(step.source, target, [], [],
                                          taken[(step.source, target)]))
            if step.signal not in edge.signals:
                edge.signals.append(step.signal)
            edge.notes.append(
                f"{step.source} \u2014 {step.signal} \u2192 {step.action}"
                + (f" \u2192 {' or '.join(step.targets)}" if len(step.targets) > 1 else ""))
    order = _ring_order(states, {pair: e.signals for pair, e in edges.items()})
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(order)
    graph.add_edges_from(edges)
    ring = nx.circular_layout(graph)
    radius_x = 250.0
    while True:
        picture = _draw(label, model, states, order, ring, edges, radius_x)
        if picture is not None:
            return picture
        radius_x -= 30


def _ring_order(states: list[str], edges: Mapping[tuple[str, str], list[str]]) -> list[str]:
    """The order round the circle with the fewest crossing chords, then the shortest ones;
    the first state stays first so the table's starting state leads."""
    chords = {frozenset(pair) for pair in edges if pair[0] != pair[1]}
    if len(states) > MAX_PERMUTED or len(states) < 4:
        return states
    best: tuple[tuple[int, int], list[str]] = ((len(chords) ** 2 + 1, 0), states)
    for rest in itertools.permutations(states[1:]):
        order = [states[0], *rest]
        where = {state: i for i, state in enumerate(order)}
        spans = [tuple(sorted(where[s] for s in chord)) for chord in chords]
        crossings = sum(1 for (a, b), (c, d) in itertools.combinations(spans, 2)
                        if len({a, b, c, d}) == 4 and (a < c < b) != (a < d < b))
        length = sum(min(b - a, len(order) - (b - a)) for a, b in spans)
        score = (crossings, length)
        if score < best[0]:
            best = (score, order)
    return best[1]


def _wrap(words: list[str]) -> list[str]:
    lines = [""]
    for index, word in enumerate(words):
        piece = word + ("," if index < len(words) - 1 else "")
        if lines[-1] and len(lines[-1]) + 1 + len(piece) > WRAP:
            lines.append(piece)
        else:
            lines[-1] = f"{lines[-1]} {piece}".strip()
    return lines


def _edge_lines(edge: _Edge) -> list[str]:
    """A transition between states says its signals; a loop only how often the run took it."""
    if edge.source == edge.target:
        return [f"\u21bb \u00d7{edge.taken} in this run"] if edge.taken else []
    lines = _wrap(edge.signals)
    if edge.taken:
        lines.append(f"\u00d7{edge.taken} in this run")
    return lines


def _draw(label: str, model: ReportModel, states: list[str], order: list[str],
          ring: Mapping[str, Any], edges: dict[tuple[str, str], _Edge],
          radius_x: float) -> svg.SvgPicture | None:
    radius_y = 170.0 if len(order) <= 6 else 30.0 * len(order)
    # Mirror x so the ring runs from the left: the first state sits where reading starts.
    xy = {s: (-radius_x * float(ring[s][0]), -radius_y * float(ring[s][1]))
          for s in order}
    size = {s: (svg.text_width(s, svg.HEAD) + 32, NODE_H) for s in order}
    canvas = svg.Canvas()
    # Untaken edges first, so the run's path is drawn over them.
    ordered = sorted(edges.values(), key=lambda e: (e.taken > 0, order.index(e.source),
                                                    order.index(e.target)))
    for edge in ordered:
        if edge.source == edge.target:
            edge.markup, edge.spots = _loop(canvas, xy[edge.source], size[edge.source], edge)
        else:
            edge.markup, edge.spots = _edge(canvas, xy[edge.source], xy[edge.target],
                                            size[edge.source], size[edge.target], edge,
                                            bent=(edge.target, edge.source) in edges)
    blocked: list[Box] = [_pad((x - w / 2, y - h / 2, x + w / 2, y + h / 2))
                          for (x, y), (w, h) in ((xy[s], size[s]) for s in order)]
    curves = [point for edge in ordered for point in edge.samples]
    # The run's edges choose their spots first: their labels carry the lesson.
    for edge in sorted(ordered, key=lambda e: (e.taken == 0, order.index(e.source),
                                               order.index(e.target))):
        edge.markup += _place_label(canvas, edge, _edge_lines(edge), blocked, curves)
    for edge in ordered:
        values = {"data-from": edge.source, "data-to": edge.target,
                  "data-signals": ",".join(edge.signals),
                  "data-taken": edge.taken or None}
        tooltip = svg.title("\n".join(edge.notes))
        canvas.add(svg.element("g", values, tooltip + edge.markup))
    for state in order:
        (x, y), (w, h) = xy[state], size[state]
        visited = any(c.old == state or c.new == state
                      for t in model.timelines for c in t.changes)
        parts = [svg.title(f"state: {state}"),
                 svg.rect(x - w / 2, y - h / 2, w, h, fill=svg.state_fill(state, states),
                          stroke=TAKEN if visited else svg.INK, rx=h / 2,
                          extra={"stroke-width": 3} if visited else None),
                 svg.text(x, y + 5, state, size=svg.HEAD, weight="bold", anchor="middle")]
        canvas.add(svg.element("g", {"data-state": state,
                                     "data-visited": "true" if visited else None},
                               "".join(parts)),
                   x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    if canvas.box[2] - canvas.box[0] > svg.MAX_WIDTH - 2 * PAD and radius_x >= 120:
        return None  # too wide: the caller tries a narrower ring
    _footnotes(canvas, model, edges)
    pairs = sum(1 for s, t in edges if s != t)
    runs = sum(edge.taken for edge in edges.values())
    summary = (f"{len(order)} states, {pairs} transitions between states and "
               f"{len(edges) - pairs} states re-entered, from {len(model.transitions)} "
               f"table entries; this run took {runs} transitions.")
    return canvas.render(label, summary, PAD, {}, order)


def _pad(box: Box) -> Box:
    return (box[0] - MARGIN, box[1] - MARGIN, box[2] + MARGIN, box[3] + MARGIN)


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _block_box(x: float, y: float, lines: list[str], anchor: str) -> Box:
    """Where a label of `lines` centred vertically on (x, y) is drawn."""
    width = max(svg.text_width(content) for content in lines)
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    top = y - LINE * (len(lines) - 1) / 2 + 4
    return (left, top - svg.SMALL, left + width, top + LINE * (len(lines) - 1) + 4)


def _place_label(canvas: svg.Canvas, edge: _Edge, lines: list[str], blocked: list[Box],
                 curves: list[Point]) -> str:
    """The first candidate spot whose box overlaps no node and no label placed so far, and
    preferably no curve either; past the candidates, the label moves further out from the
    first one until it is free, so it is always drawn and never on another label."""
    if not lines:
        return ""
    spots = list(edge.spots)
    for avoid_curves in (True, False):
        for x, y, anchor in spots:
            box = _pad(_block_box(x, y, lines, anchor))
            if any(_overlap(box, other) for other in blocked):
                continue
            if avoid_curves and any(box[0] <= px <= box[2] and box[1] <= py <= box[3]
                                    for px, py in curves):
                continue
            blocked.append(box)
            return _label_block(canvas, x, y, lines, anchor, edge.taken > 0)
    x, y, anchor = spots[0]
    for step in itertools.count(1):
        for shifted in (y - 18.0 * step, y + 18.0 * step):
            box = _pad(_block_box(x, shifted, lines, anchor))
            if not any(_overlap(box, other) for other in blocked):
                blocked.append(box)
                return _label_block(canvas, x, shifted, lines, anchor, edge.taken > 0)
    return ""  # unreachable: the count never ends, and far enough out is always free


def _label_block(canvas: svg.Canvas, x: float, y: float, lines: list[str], anchor: str,
                 taken: bool) -> str:
    """Lines centred vertically on (x, y), white-haloed over whatever they cross."""
    top = y - LINE * (len(lines) - 1) / 2 + 4
    parts = []
    for index, content in enumerate(lines):
        run_line = taken and index == len(lines) - 1
        parts.append(svg.text(x, top + LINE * index, content, anchor=anchor, halo=True,
                              weight="bold" if run_line else None,
                              fill=TAKEN if run_line else svg.INK))
        canvas.cover_text(x, top + LINE * index, content, anchor=anchor)
    return "".join(parts)


def _stroke(edge: _Edge) -> tuple[str, float]:
    return (TAKEN, 3.5) if edge.taken else (NOT_TAKEN, 1.6)


def _edge(canvas: svg.Canvas, a: Point, b: Point, size_a: Point, size_b: Point,
          edge: _Edge, bent: bool) -> tuple[str, tuple[tuple[float, float, str], ...]]:
    (x1, y1), (x2, y2) = a, b
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    # Bend to the left of the direction of travel: the two directions part ways.
    bend = 46.0 if bent else 0.0
    cx = (x1 + x2) / 2 + (y2 - y1) / length * bend
    cy = (y1 + y2) / 2 - (x2 - x1) / length * bend
    r1 = svg.box_edge(*size_a, cx - x1, cy - y1) + 2
    r2 = svg.box_edge(*size_b, cx - x2, cy - y2) + 3
    d1, d2 = math.hypot(cx - x1, cy - y1) or 1.0, math.hypot(cx - x2, cy - y2) or 1.0
    sx, sy = x1 + (cx - x1) / d1 * r1, y1 + (cy - y1) / d1 * r1
    ex, ey = x2 + (cx - x2) / d2 * r2, y2 + (cy - y2) / d2 * r2
    n = svg.num
    d = f"M{n(sx)},{n(sy)} Q{n(cx)},{n(cy)} {n(ex)},{n(ey)}"
    angle = math.atan2(ey - cy, ex - cx)
    canvas.cover(sx, sy, ex, ey)
    # Candidate label spots: points of the curve from its middle outwards, the label's
    # box set just clear of the curve on the side a bent edge bulges to (so the two
    # directions keep apart); a straight edge may also use its other side.
    ox, oy = (y2 - y1) / length, -(x2 - x1) / length
    if not bent and oy > 0:
        ox, oy = -ox, -oy  # a straight edge's label goes above it first
    lines = _edge_lines(edge) or [""]
    width = max(svg.text_width(content) for content in lines)
    height = LINE * len(lines)
    clear = width / 2 * abs(ox) + height / 2 * abs(oy) + 6
    sides = (1.0,) if bent else (1.0, -1.0)
    spots = []
    for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8):
        px = (1 - t) ** 2 * sx + 2 * (1 - t) * t * cx + t ** 2 * ex
        py = (1 - t) ** 2 * sy + 2 * (1 - t) * t * cy + t ** 2 * ey
        spots += [(px + side * ox * clear, py + side * oy * clear, "middle") for side in sides]
    edge.samples = tuple(((1 - t) ** 2 * sx + 2 * (1 - t) * t * cx + t ** 2 * ex,
                          (1 - t) ** 2 * sy + 2 * (1 - t) * t * cy + t ** 2 * ey)
                         for t in (k / 24 for k in range(25)))
    colour, width = _stroke(edge)
    markup = (svg.path(d, stroke=colour, width=width)
              + svg.arrow_head(ex, ey, angle, fill=colour, size=11 if edge.taken else 9))
    return markup, tuple(spots)


def _loop(canvas: svg.Canvas, centre: Point, size: Point,
          edge: _Edge) -> tuple[str, tuple[tuple[float, float, str], ...]]:
    """A loop on the side of the node facing away from the ring's centre."""
    x, y = centre
    length = math.hypot(x, y)
    ux, uy = (x / length, y / length) if length > 1e-9 else (0.0, -1.0)

    def turned(angle: float, distance: float) -> Point:
        dx, dy = _rotate(ux, uy, angle)
        return x + dx * distance, y + dy * distance

    spread = 0.45
    start = turned(-spread, svg.box_edge(*size, *_rotate(ux, uy, -spread)) + 1)
    end = turned(spread, svg.box_edge(*size, *_rotate(ux, uy, spread)) + 3)
    reach = svg.box_edge(*size, ux, uy) + 44
    c1, c2 = turned(-0.55, reach), turned(0.55, reach)
    n = svg.num
    d = (f"M{n(start[0])},{n(start[1])} C{n(c1[0])},{n(c1[1])} {n(c2[0])},{n(c2[1])} "
         f"{n(end[0])},{n(end[1])}")
    angle = math.atan2(end[1] - c2[1], end[0] - c2[0])
    lines = _edge_lines(edge) or [""]
    clear = (max(svg.text_width(content) for content in lines) / 2 * abs(ux)
             + LINE * len(lines) / 2 * abs(uy) + 4)
    spots = [(x + ux * (reach + clear), y + uy * (reach + clear), "middle")]
    # Beside the loop, either way round the node, when the spot beyond it is taken.
    for angle in (0.9, -0.9):
        dx, dy = _rotate(ux, uy, angle)
        spots.append((x + dx * (reach + clear), y + dy * (reach + clear), "middle"))
    canvas.cover(c1[0], c1[1], c2[0], c2[1])
    edge.samples = (start, c1, c2, end, turned(0, reach - 12))
    colour, width = _stroke(edge)
    markup = (svg.path(d, stroke=colour, width=width)
              + svg.arrow_head(end[0], end[1], angle, fill=colour))
    return markup, tuple(spots)


def _rotate(ux: float, uy: float, angle: float) -> tuple[float, float]:
    c, s = math.cos(angle), math.sin(angle)
    return ux * c - uy * s, ux * s + uy * c


def _footnotes(canvas: svg.Canvas, model: ReportModel,
               edges: dict[tuple[str, str], _Edge]) -> None:
    """Under the picture: what the loops mean, what an action with two outcomes means, and
    each server's path in this run, in order."""
    notes: list[tuple[str, str]] = []
    loops = [e for e in edges.values() if e.source == e.target]
    if loops:
        counts = ", ".join(f"{e.source} {len(e.signals)}" for e in loops)
        notes.append((f"\u21bb A loop: the state stays as it is on a signal that changes "
                      f"nothing there (signals per state: {counts}; hover a loop or open "
                      f"the table for them).", svg.MUTED))
    seen: dict[str, tuple[str, ...]] = {}
    for step in model.transitions:
        if len(step.targets) > 1:
            seen.setdefault(step.action, step.targets)
    notes += [(f"\u201c{action}\u201d leads to {' or '.join(targets)}, as the outcome "
               f"decides.", svg.MUTED) for action, targets in seen.items()]
    start = clock.parse_start(model.start)
    paths = [t for t in sorted(model.timelines, key=lambda t: (svg.natural_key(t.router),
                                                               svg.natural_key(t.server)))
             if t.changes]
    if paths:
        notes.append(("This run, in bold blue above:", svg.INK))
        notes += [(_path_words(timeline, start), TAKEN) for timeline in paths]
    else:
        notes.append(("No certificate server changed state in this run.", svg.INK))
    x0, _, x1, y1 = canvas.box
    # As wide as the ring, but never so narrow that a path takes many lines.
    chars = svg.chars_for(min(max(x1 - x0, 640.0), svg.MAX_WIDTH - 2 * PAD))
    y = y1 + 24
    for words, colour in notes:
        for index, piece in enumerate(_fold(words, chars)):
            canvas.add(svg.text(x0 + (16 if index else 0), y, piece, fill=colour,
                                extra={"data-path": "true"} if colour == TAKEN else None))
            canvas.cover_text(x0 + (16 if index else 0), y, piece)
            y += 17


def _fold(words: str, chars: int) -> list[str]:
    """`words` over lines of at most `chars` characters, broken before an arrow or an
    ellipsis where it can (a path breaks between its steps), else at any space."""
    lines: list[str] = []
    rest = words
    while len(rest) > chars:
        cut = max(rest.rfind(" \u2192 ", 0, chars), rest.rfind(" \u2026 ", 0, chars))
        if cut <= chars // 3:
            cut = rest.rfind(" ", 0, chars)
        if cut <= 0:
            cut = chars
        lines.append(rest[:cut])
        rest = rest[cut:].lstrip()
        chars -= 3  # continuation lines are indented
    return [*lines, rest]


def _path_words(timeline: ServerTimeline, start: datetime) -> str:
    """`sub@sub: initial → check failed (no shut, 21:06:22 (+1m22s)) → enabled (…)`."""
    changes = sorted(timeline.changes, key=lambda c: c.t)
    words = [f"{timeline.server}@{timeline.router}: {changes[0].old}"]
    for change in changes[:MAX_STEPS]:
        words.append(f"\u2192 {change.new} ({change.signal}, "
                     f"{clock.moment(start, change.t)})")
    if len(changes) > MAX_STEPS:
        words.append(f"\u2026 {len(changes) - MAX_STEPS} more steps, ending "
                     f"{changes[-1].new} at {clock.moment(start, changes[-1].t)}")
    return " ".join(words)
