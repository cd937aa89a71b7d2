"""The certificate-server state machine, drawn from the transition table the code runs.

Nothing here names a state or a signal: nodes are `ReportModel.states` (plus any state the
table mentions), and there is one edge per (source, target) pair of
`ReportModel.transitions`, labelled with every signal that takes it. A state re-entered on a
signal (`stay`, or checks that fail again) is a small loop outside the node. So a cell
changed in the table changes the picture, and the picture cannot drift from the code.

Layout: networkx's `circular_layout`, on an ellipse to suit a wide page. The order of the
states round the ring is chosen (by trying every order, fine for the handful of states an
FSM has) to minimise crossing edges, so the through-the-middle edges that make circle
layouts hard to read are avoided when the table allows it. Edges in both directions between
two states are bent apart so their labels do not sit on top of each other.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import networkx as nx

from sim.report.diagrams import svg
from sim.report.model import ReportModel

PAD = 12
WRAP = 22  # characters per line of an edge label
MAX_PERMUTED = 7
NODE_H = 38.0


def fsm_svg(model: ReportModel) -> svg.SvgPicture:
    label = f"Certificate server state machine ({len(model.transitions)} transitions)"
    states = list(dict.fromkeys([*model.states,
                                 *(s for t in model.transitions for s in (t.source, *t.targets))]))
    if not states:
        return svg.empty(label, "The report has no state machine table.")
    edges: dict[tuple[str, str], list[str]] = {}
    notes: dict[tuple[str, str], list[str]] = {}
    for step in model.transitions:
        for target in step.targets:
            signals = edges.setdefault((step.source, target), [])
            if step.signal not in signals:
                signals.append(step.signal)
            notes.setdefault((step.source, target), []).append(
                f"{step.source} \u2014 {step.signal} \u2192 {step.action}"
                + (f" \u2192 {' or '.join(step.targets)}" if len(step.targets) > 1 else ""))
    order = _ring_order(states, edges)
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(order)
    graph.add_edges_from(edges)
    ring = nx.circular_layout(graph)
    radius_x = 250.0
    while True:
        picture = _draw(label, model, states, order, ring, edges, notes, radius_x)
        if picture.width <= svg.MAX_WIDTH or radius_x < 120:
            return picture
        radius_x -= 30


def _ring_order(states: list[str], edges: dict[tuple[str, str], list[str]]) -> list[str]:
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


def _draw(label: str, model: ReportModel, states: list[str], order: list[str],
          ring: Mapping[str, Any], edges: dict[tuple[str, str], list[str]],
          notes: dict[tuple[str, str], list[str]], radius_x: float) -> svg.SvgPicture:
    radius_y = 170.0 if len(order) <= 6 else 30.0 * len(order)
    # Mirror x so the ring runs from the left: the first state sits where reading starts.
    xy = {s: (-radius_x * float(ring[s][0]), -radius_y * float(ring[s][1]))
          for s in order}
    size = {s: (svg.text_width(s, svg.HEAD) + 32, NODE_H) for s in order}
    canvas = svg.Canvas()
    for (source, target), signals in sorted(edges.items(),
                                            key=lambda kv: (order.index(kv[0][0]),
                                                            order.index(kv[0][1]))):
        lines = _wrap(signals)
        values = {"data-from": source, "data-to": target, "data-signals": ",".join(signals)}
        tooltip = svg.title("\n".join(notes[(source, target)]))
        if source == target:
            body = _loop(canvas, xy[source], size[source], lines)
        else:
            body = _edge(canvas, xy[source], xy[target], size[source], size[target], lines,
                         bent=(target, source) in edges)
        canvas.add(svg.element("g", values, tooltip + body))
    for state in order:
        (x, y), (w, h) = xy[state], size[state]
        parts = [svg.title(f"state: {state}"),
                 svg.rect(x - w / 2, y - h / 2, w, h, fill=svg.state_fill(state, states),
                          stroke=svg.INK, rx=h / 2),
                 svg.text(x, y + 5, state, size=svg.HEAD, weight="bold", anchor="middle")]
        canvas.add(svg.element("g", {"data-state": state}, "".join(parts)),
                   x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    _footnote(canvas, model)
    pairs = sum(1 for s, t in edges if s != t)
    summary = (f"{len(order)} states, {pairs} transitions between states and "
               f"{len(edges) - pairs} states re-entered, from {len(model.transitions)} "
               f"table entries.")
    return canvas.render(label, summary, PAD, {}, order)


def _label_block(canvas: svg.Canvas, x: float, y: float, lines: list[str],
                 anchor: str) -> str:
    """Lines centred vertically on (x, y), white-haloed over whatever they cross."""
    top = y - 15 * (len(lines) - 1) / 2 + 4
    parts = []
    for index, content in enumerate(lines):
        parts.append(svg.text(x, top + 15 * index, content, anchor=anchor, halo=True))
        canvas.cover_text(x, top + 15 * index, content, anchor=anchor)
    return "".join(parts)


def _edge(canvas: svg.Canvas, a: tuple[float, float], b: tuple[float, float],
          size_a: tuple[float, float], size_b: tuple[float, float], lines: list[str],
          bent: bool) -> str:
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
    mx, my = 0.25 * sx + 0.5 * cx + 0.25 * ex, 0.25 * sy + 0.5 * cy + 0.25 * ey
    canvas.cover(sx, sy, ex, ey)
    anchor = "middle"
    if bent:
        # Beside the curve, on its outer side, so the two directions' labels never overlap.
        ox, oy = (y2 - y1) / length, -(x2 - x1) / length
        anchor = "start" if ox > 0.35 else "end" if ox < -0.35 else "middle"
        mx += 8 * ox
        my += 8 * oy + ((15 * len(lines) / 2 + 2) * (1 if oy > 0 else -1)
                        if anchor == "middle" else 0)
    return (svg.path(d, stroke=svg.INK, width=1.8) + svg.arrow_head(ex, ey, angle)
            + _label_block(canvas, mx, my, lines, anchor))


def _loop(canvas: svg.Canvas, centre: tuple[float, float], size: tuple[float, float],
          lines: list[str]) -> str:
    """A loop on the side of the node facing away from the ring's centre."""
    x, y = centre
    length = math.hypot(x, y)
    ux, uy = (x / length, y / length) if length > 1e-9 else (0.0, -1.0)

    def turned(angle: float, distance: float) -> tuple[float, float]:
        dx, dy = _rotate(ux, uy, angle)
        return x + dx * distance, y + dy * distance

    spread = 0.45
    start = turned(-spread, svg.box_edge(*size, *_rotate(ux, uy, -spread)) + 1)
    end = turned(spread, svg.box_edge(*size, *_rotate(ux, uy, spread)) + 3)
    reach = svg.box_edge(*size, ux, uy) + 56
    c1, c2 = turned(-0.55, reach), turned(0.55, reach)
    n = svg.num
    d = (f"M{n(start[0])},{n(start[1])} C{n(c1[0])},{n(c1[1])} {n(c2[0])},{n(c2[1])} "
         f"{n(end[0])},{n(end[1])}")
    angle = math.atan2(end[1] - c2[1], end[0] - c2[0])
    lx, ly = x + ux * (reach - 4), y + uy * (reach - 4)
    anchor = "start" if ux > 0.35 else "end" if ux < -0.35 else "middle"
    lx += 6 if anchor == "start" else -6 if anchor == "end" else 0
    if anchor == "middle":
        ly += (15 * len(lines) / 2 + 4) * (1 if uy > 0 else -1)
    canvas.cover(c1[0], c1[1], c2[0], c2[1])
    return (svg.path(d, stroke=svg.INK, width=1.5) + svg.arrow_head(end[0], end[1], angle)
            + _label_block(canvas, lx, ly, lines, anchor))


def _rotate(ux: float, uy: float, angle: float) -> tuple[float, float]:
    c, s = math.cos(angle), math.sin(angle)
    return ux * c - uy * s, ux * s + uy * c


def _footnote(canvas: svg.Canvas, model: ReportModel) -> None:
    """What the table says about actions with more than one outcome (e.g. the enabling
    checks), since an arrow cannot show that both targets hang on one decision."""
    seen: dict[str, tuple[str, ...]] = {}
    for step in model.transitions:
        if len(step.targets) > 1:
            seen.setdefault(step.action, step.targets)
    if not seen:
        return
    _, y0, _, y1 = canvas.box
    x0 = canvas.box[0]
    y = y1 + 24
    for action, targets in seen.items():
        words = f"\u201c{action}\u201d leads to {' or '.join(targets)}, as the outcome decides."
        canvas.add(svg.text(x0, y, words, fill=svg.MUTED))
        canvas.cover_text(x0, y, words)
        y += 16
