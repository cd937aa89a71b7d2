"""Each certificate server's states over the run, as coloured bars on one linear time axis.

All servers share the axis [0, duration], so "the sub-CA only enabled after the root was
up" reads straight off the picture. A bar changes colour at each FSM step and a tick marks
the step with the signal that caused it (`no shut`, `time set`, ...); the state name is
written inside the bar wherever it fits, so colour is never the only cue. Signal labels
that would overlap are stacked on up to three levels above the bar; past that, nearby
changes share one summary label ("5 changes") whose tooltip lists them, while every change
keeps its own tick.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sim.report import clock
from sim.report.diagrams import svg
from sim.report.model import ReportModel, ServerTimeline, StateChange

WIDTH = 1100
LEFT = 170  # room for "ROOTCA@R1" and its final state
RIGHT = WIDTH - 30
PAD = 12
BAR = 26
LEVEL = 16
ROW_GAP = 22
TOP = 44  # legend
MAX_LEVELS = 3
NEAR = 6.0  # changes closer than this many pixels share a label

Scale = Callable[[float], float]


@dataclass(frozen=True)
class _Label:
    members: tuple[StateChange, ...]
    level: int
    flip: bool


def timeline_svg(model: ReportModel) -> svg.SvgPicture:
    label = f"Certificate server states in {model.scenario}"
    timelines = sorted(model.timelines, key=lambda t: (svg.natural_key(t.router),
                                                       svg.natural_key(t.server)))
    if not timelines:
        return svg.empty(label, "No certificate server ran in this run.")
    latest = max((c.t for t in timelines for c in t.changes), default=0.0)
    duration = max(model.duration, latest, 1.0)

    def x_at(t: float) -> float:
        return LEFT + min(max(t, 0.0), duration) / duration * (RIGHT - LEFT)

    canvas = svg.Canvas()
    canvas.cover(0, 0, WIDTH, TOP)
    _legend(canvas, model.states)
    start = clock.parse_start(model.start)
    y = float(TOP)
    ids = []
    for timeline in timelines:
        y = _row(canvas, model.states, timeline, y, x_at, duration, start)
        ids.append(f"{timeline.server}@{timeline.router}")
    _axis(canvas, y, duration, x_at, start)
    summary = "; ".join(f"{t.server}@{t.router}: {len(t.changes)} changes, ends {t.final}"
                        for t in timelines)
    return canvas.render(label, summary, PAD, {}, ids)


def _legend(canvas: svg.Canvas, states: tuple[str, ...]) -> None:
    x = float(LEFT)
    known = list(states) or list(svg.STATE_FILLS)
    for state in known:
        canvas.add(svg.rect(x, 8, 22, 16, fill=svg.state_fill(state, known), stroke="#666666"))
        canvas.add(svg.text(x + 28, 21, state))
        x += 48 + svg.text_width(state)


def _segments(timeline: ServerTimeline, duration: float
              ) -> list[tuple[float, float, str]]:
    changes = sorted(timeline.changes, key=lambda c: c.t)
    state = changes[0].old if changes else timeline.final
    start = 0.0
    segments = []
    for change in changes:
        segments.append((start, change.t, state))
        start, state = change.t, change.new
    segments.append((start, duration, state))
    return [(a, b, s) for a, b, s in segments if b > a]


def _cluster_text(members: Sequence[StateChange]) -> str:
    signals = {c.signal for c in members}
    if len(members) == 1:
        return members[0].signal
    if len(signals) == 1:
        return f"{members[0].signal} \u00d7{len(members)}"
    return f"{len(members)} changes"


def _labels(changes: list[StateChange], x_at: Scale) -> list[_Label]:
    """Signal labels, stacked on at most `MAX_LEVELS` levels above the bar.

    Changes a few pixels apart share one label ("shut ×3", "5 changes"), and a label that
    finds no free level joins the one before it, so a flapping server gives a short stack of
    summaries instead of a tower of overlapping words. Labels run leftwards from their tick
    where they would leave the picture."""
    clusters: list[list[StateChange]] = []
    for change in changes:
        if clusters and x_at(change.t) - x_at(clusters[-1][-1].t) < NEAR:
            clusters[-1].append(change)
        else:
            clusters.append([change])
    ends = [-math.inf] * MAX_LEVELS
    labels: list[_Label] = []
    for members in clusters:
        x = x_at(members[0].t)
        width = svg.text_width(_cluster_text(members)) + 10
        flip = x + width > WIDTH - PAD
        left = x - width if flip else x
        level = next((i for i, end in enumerate(ends) if end < left), None)
        if level is None and labels:
            last = labels[-1]
            labels[-1] = _Label(last.members + tuple(members), last.level, last.flip)
            ends[last.level] = max(ends[last.level], left + width)
            continue
        level = level or 0
        ends[level] = left + width
        labels.append(_Label(tuple(members), level, flip))
    return labels


def _row(canvas: svg.Canvas, states: tuple[str, ...], timeline: ServerTimeline, y: float,
         x_at: Scale, duration: float, start: datetime) -> float:
    changes = sorted(timeline.changes, key=lambda c: c.t)
    labels = _labels(changes, x_at)
    levels = max((label.level for label in labels), default=-1) + 1
    bar_top = y + LEVEL * levels + 6
    name = f"{timeline.server}@{timeline.router}"
    canvas.add(svg.text(LEFT - 12, bar_top + 12, svg.clip(name, 24), size=svg.BODY,
                        weight="bold", anchor="end"))
    canvas.add(svg.text(LEFT - 12, bar_top + 27, f"ends {timeline.final}", anchor="end",
                        fill=svg.MUTED))
    known = list(states)
    for since, end, state in _segments(timeline, duration):
        x0, x1 = x_at(since), x_at(end)
        parts = [svg.title(f"{name}: {state} from {clock.moment(start, since)} to "
                           f"{clock.moment(start, end)}"),
                 svg.rect(x0, bar_top, x1 - x0, BAR, fill=svg.state_fill(state, known),
                          stroke="#ffffff")]
        if x1 - x0 > svg.text_width(state) + 10:
            parts.append(svg.text((x0 + x1) / 2, bar_top + 17, state, anchor="middle"))
        values = {"data-router": timeline.router, "data-server": timeline.server,
                  "data-state": state, "data-t": f"{since:.3f}", "data-until": f"{end:.3f}"}
        canvas.add(svg.element("g", values, "".join(parts)), x0, bar_top, x1, bar_top + BAR)
    for label in labels:
        label_y = bar_top - 6 - LEVEL * label.level
        for change in label.members:
            x = x_at(change.t)
            stay = change.old == change.new
            parts = [svg.title(f"{name} at {_describe(change, start)}"),
                     svg.line(x, label_y + 3, x, bar_top + BAR + 4, stroke=svg.INK,
                              width=1 if stay else 2, dash="2 2" if stay else None)]
            values = {"data-router": timeline.router, "data-server": timeline.server,
                      "data-signal": change.signal, "data-state": change.new,
                      "data-from": change.old, "data-t": f"{change.t:.3f}"}
            canvas.add(svg.element("g", values, "".join(parts)))
        x = x_at(label.members[0].t)
        words = _cluster_text(label.members)
        lx, anchor = (x - 4, "end") if label.flip else (x + 4, "start")
        tooltip = "\n".join(_describe(change, start) for change in label.members)
        canvas.add(svg.element("g", {"data-label": len(label.members)},
                               svg.title(tooltip) + svg.text(lx, label_y, words, halo=True,
                                                             anchor=anchor)))
        canvas.cover_text(lx, label_y, words, anchor=anchor)
    return bar_top + BAR + ROW_GAP


def _describe(change: StateChange, start: datetime) -> str:
    return (f"{clock.moment(start, change.t)}: {change.old} \u2192 {change.new} on "
            f"\u201c{change.signal}\u201d" + (f" ({change.reason})" if change.reason else ""))


def _axis(canvas: svg.Canvas, y: float, duration: float, x_at: Scale,
          start: datetime) -> None:
    # As many ticks as their labels (the report's widest time format) fit side by side.
    widest = svg.text_width(clock.moment(start, duration)) + 24
    step = svg.nice_step(duration, max(int((RIGHT - LEFT) / widest), 2))
    canvas.add(svg.line(LEFT, y, RIGHT, y, stroke=svg.MUTED, width=1))
    tick = 0.0
    while tick <= duration + 1e-9:
        x = x_at(tick)
        words = clock.moment(start, tick)
        canvas.add(svg.line(x, y, x, y + 5, stroke=svg.MUTED, width=1))
        canvas.add(svg.text(x, y + 19, words, anchor="middle", fill=svg.MUTED))
        canvas.cover_text(x, y + 19, words, anchor="middle")
        tick += step
    canvas.add(svg.text(RIGHT, y + 36, "simulated time", anchor="end", fill=svg.MUTED))
    canvas.cover(LEFT, y, RIGHT, y + 40)
