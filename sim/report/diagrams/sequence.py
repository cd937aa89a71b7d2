"""The SCEP exchanges as a sequence diagram: one lane per router, one arrow per exchange.

Vertical axis: ordinal, not linear. Each exchange gets its own row (`ROW` px, so arrows
are never closer than that), in start-time order, with the simulated time written at the
left; a quiet stretch longer than `GAP_SECONDS` adds a thin "… 4m0s later" band instead of
empty space. A run of hours with a burst of enrollment traffic at the start and a poll
every minute stays compact and every arrow stays legible; the bands keep the time
compression honest.

Lanes: at most `MAX_LANES`. Certificate servers come first (in scenario order, which puts
the root before its subordinates as lab files are written), then the busiest clients, then
one "N other routers" lane for everybody else. Arrows from that lane say which router sent
them, and consecutive identical exchanges from it (same operation, result and server, e.g.
forty routers fetching the CA certificate) become one arrow marked "×N", whose tooltip and
`data-client` list the client of each exchange (`data-count` of them). The middle of a
router's own run of `MIN_RUN` or more identical exchanges (polling for days) is folded the
same way.

Each exchange is one request arrow from the client to the server labelled with what was
asked, what came back (pkiStatus, or "CA certificate") and when. Exchanges that got no SCEP
answer are dashed and end in a ✕ short of the server, or at the client when the URL did not
resolve. Waits for a manual grant are shaded bars on the client lane.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from sim.report.diagrams import svg
from sim.report.model import Exchange, ReportModel, Wait

MAX_LANES = 8
MIN_RUN = 8
ROW = 32
GAP_SECONDS = 30.0
GAP_ROW = 22
AXIS = 70
PAD = 12
HEADER = 44
TOP = 34 + HEADER + 22  # legend, lane headers, breathing room

_FAILURE_WORDS = {"refused": "refused", "timeout": "timed out", "no-route": "no route",
                  "unresolved": "unresolvable"}


@dataclass(frozen=True)
class _Row:
    exchanges: tuple[Exchange, ...]  # more than one only for a batch on the group lane
    src: int
    dst: int | None  # None: the server's name did not resolve

    @property
    def first(self) -> Exchange:
        return self.exchanges[0]


@dataclass(frozen=True)
class _Lanes:
    names: tuple[str, ...]  # lane labels, the group lane's last
    index: dict[str, int]  # router -> lane
    servers: frozenset[str]
    hidden: tuple[str, ...]


@dataclass(frozen=True)
class _WaitLabel:
    client: str
    x: float
    y: float
    granted: bool


Box = tuple[float, float, float, float]


def sequence_svg(model: ReportModel) -> svg.SvgPicture:
    label = f"SCEP exchanges in {model.scenario}"
    if not model.exchanges:
        return svg.empty(label, "No SCEP exchanges happened in this run.")
    lanes = _lanes(model)
    rows = _rows(model.exchanges, lanes)
    pitch = min(240.0, (svg.MAX_WIDTH - 2 * PAD - AXIS) / len(lanes.names))
    xs = [AXIS + pitch * (i + 0.5) for i in range(len(lanes.names))]
    right = AXIS + pitch * len(lanes.names)
    ys, gaps = _row_positions(rows)
    bottom = (ys[-1] if ys else TOP) + ROW
    canvas = svg.Canvas()
    canvas.cover(0, 0, AXIS + pitch * len(lanes.names), bottom + 10)
    _legend(canvas)
    for index, name in enumerate(lanes.names):
        _lane(canvas, model, lanes, index, name, xs[index], bottom, repeat=len(rows) > 15)
    for y, seconds in gaps:
        canvas.add(svg.line(AXIS - 60, y, AXIS + pitch * len(lanes.names), y, stroke=svg.GRID,
                            width=1, dash="2 4"))
        canvas.add(svg.text(AXIS - 8, y + 4, f"\u2026 {svg.fmt_time(seconds)} later",
                            anchor="start", fill=svg.MUTED, halo=True))
    starts = [row.first.start for row in rows]
    labelled: dict[int, float] = {}
    wait_labels = [_wait(canvas, wait, lanes, xs, ys, starts, labelled)
                   for wait in sorted(model.waits,
                                      key=lambda w: (w.start, w.end, w.client, w.transaction))]
    taken: list[Box] = []
    shown = ""
    for row, y in zip(rows, ys, strict=True):
        stamp = svg.fmt_time(row.first.start)
        if stamp != shown:
            canvas.add(svg.text(AXIS - 10, y + 4, stamp, anchor="end", fill=svg.MUTED))
            shown = stamp
        taken.append(_arrow(canvas, row, lanes, xs, y, (AXIS, right)))
    for wait_label in wait_labels:
        if wait_label is not None:
            _place_wait_label(canvas, wait_label, right, taken)
    failed = sum(1 for e in model.exchanges if e.failed)
    summary = (f"{len(model.exchanges)} SCEP exchanges between {len(lanes.index)} routers, "
               f"{failed} without an answer, {len(model.waits)} waits for a manual grant.")
    collapsed = {lanes.names[-1]: lanes.hidden} if lanes.hidden else {}
    return canvas.render(label, summary, PAD, collapsed, lanes.names)


# --------------------------------------------------------------------------- structure


def _lanes(model: ReportModel) -> _Lanes:
    order = {router.name: i for i, router in enumerate(model.routers)}

    def key(name: str) -> tuple[object, ...]:
        return (order.get(name, len(order)), svg.natural_key(name))

    cas = {router.name for router in model.routers if router.servers}
    servers = {e.server for e in model.exchanges if e.server}
    everyone = servers | {e.client for e in model.exchanges} | {w.client for w in model.waits}
    server_lanes = sorted(servers | (cas & everyone), key=key)
    busy: dict[str, int] = {}
    for exchange in model.exchanges:
        busy[exchange.client] = busy.get(exchange.client, 0) + 1
    for wait in model.waits:
        busy[wait.client] = busy.get(wait.client, 0) + 1
    clients = sorted(everyone - set(server_lanes), key=lambda n: (-busy.get(n, 0), *key(n)))
    if len(everyone) <= MAX_LANES:
        named = server_lanes + sorted(clients, key=key)
        return _Lanes(tuple(named), {n: i for i, n in enumerate(named)},
                      frozenset(server_lanes), ())
    shown_servers = server_lanes[: MAX_LANES - 2]
    rest = server_lanes[MAX_LANES - 2:] + clients
    shown_clients = sorted(clients[: MAX_LANES - 1 - len(shown_servers)], key=key)
    hidden = tuple(sorted((n for n in rest if n not in shown_clients), key=key))
    named = shown_servers + shown_clients
    group = f"{len(hidden)} other routers"
    index = {n: i for i, n in enumerate(named)} | {n: len(named) for n in hidden}
    return _Lanes((*named, group), index, frozenset(shown_servers), hidden)


def _rows(exchanges: tuple[Exchange, ...], lanes: _Lanes) -> list[_Row]:
    """Exchanges in time order, one row each, except runs of identical consecutive ones:
    any run from the group lane becomes a single "×N" row, and so does the middle of a run of
    `MIN_RUN` or more from one router (an hourly poll over two days). Shorter runs, such as
    the minute-by-minute polls while a teacher grants a request, keep one row each: their
    rhythm is the lesson."""
    group = len(lanes.names) - 1 if lanes.hidden else -1
    ordered = sorted(exchanges, key=lambda e: (e.start, e.end, lanes.index[e.client], e.client,
                                               e.operation, e.message or "", e.result,
                                               e.transaction or ""))
    runs: list[list[Exchange]] = []
    keys: list[tuple[int, int | None, str, str, str, str | None]] = []
    for exchange in ordered:
        src = lanes.index[exchange.client]
        dst = lanes.index[exchange.server] if exchange.server else None
        key = (src, dst, exchange.operation, exchange.message or "", exchange.result,
               exchange.server if dst == group else "")
        if keys and keys[-1] == key:
            runs[-1].append(exchange)
        else:
            runs.append([exchange])
            keys.append(key)
    rows: list[_Row] = []
    for run, key in zip(runs, keys, strict=True):
        src, dst = key[0], key[1]
        if src == group:
            rows.append(_Row(tuple(run), src, dst))
        elif len(run) >= MIN_RUN:
            # Keep the first and last so the run's start and end (and a wait bar) show.
            rows += [_Row((run[0],), src, dst), _Row(tuple(run[1:-1]), src, dst),
                     _Row((run[-1],), src, dst)]
        else:
            rows.extend(_Row((exchange,), src, dst) for exchange in run)
    return rows


def _row_positions(rows: list[_Row]) -> tuple[list[float], list[tuple[float, float]]]:
    """Each row's y, and the quiet-time bands (their y and how long the quiet lasted)."""
    ys: list[float] = []
    gaps: list[tuple[float, float]] = []
    y = float(TOP)
    previous: float | None = None
    for row in rows:
        if previous is not None and row.first.start - previous > GAP_SECONDS:
            gaps.append((y - ROW / 2 + GAP_ROW / 2, row.first.start - previous))
            y += GAP_ROW
        ys.append(y)
        previous = row.exchanges[-1].start
        y += ROW
    return ys, gaps


# --------------------------------------------------------------------------- drawing


def _legend(canvas: svg.Canvas) -> None:
    x = float(AXIS)
    for colour, words, dash in ((svg.GREEN, "SUCCESS", None), (svg.ORANGE, "PENDING", None),
                                (svg.VERMILLION, "FAILURE", None),
                                (svg.BLUE, "CA certificate, capabilities", None),
                                (svg.VERMILLION, "no answer \u2715", "6 4")):
        canvas.add(svg.line(x, 12, x + 26, 12, stroke=colour, width=2.5, dash=dash))
        canvas.add(svg.text(x + 32, 16, words))
        x += 46 + svg.text_width(words)
    canvas.add(svg.rect(x, 5, 12, 16, fill=svg.TINT_ORANGE, stroke=svg.ORANGE))
    canvas.add(svg.text(x + 18, 16, "waiting for a grant"))
    canvas.cover_text(x + 18, 16, "waiting for a grant")


def _lane(canvas: svg.Canvas, model: ReportModel, lanes: _Lanes, index: int, name: str,
          x: float, bottom: float, repeat: bool) -> None:
    is_group = bool(lanes.hidden) and index == len(lanes.names) - 1
    servers = next((r.servers for r in model.routers if r.name == name), {})
    kind = "group" if is_group else ("server" if name in lanes.servers else "client")
    if is_group:
        subtitle, tooltip = "hover for names", f"{name}:\n" + "\n".join(lanes.hidden)
    elif servers:
        subtitle = "CA " + ", ".join(sorted(servers))
        tooltip = f"{name}: " + ", ".join(f"{s} {st}" for s, st in sorted(servers.items()))
    else:
        subtitle, tooltip = kind, name
    width = min(150.0, max(96.0, svg.text_width(name, svg.BODY) + 16))
    chars = svg.chars_for(width - 8)
    fill = "#f4f4f4" if is_group else (svg.TINT_BLUE if kind == "server" else "#ffffff")
    parts = [svg.title(tooltip),
             svg.line(x, 34 + HEADER, x, bottom, stroke=svg.GRID, width=1.5, dash="4 4")]
    for top in (34.0, bottom) if repeat else (34.0,):
        parts += [svg.rect(x - width / 2, top, width, HEADER - 4, fill=fill, rx=5,
                           stroke=svg.BLUE if kind == "server" else "#666666",
                           dash="5 3" if is_group else None),
                  svg.text(x, top + 17, svg.clip(name, chars), size=svg.BODY, weight="bold",
                           anchor="middle"),
                  svg.text(x, top + 33, svg.clip(subtitle, chars), anchor="middle",
                           fill=svg.MUTED)]
    canvas.add(svg.element("g", {"data-lane": name, "data-kind": kind}, "".join(parts)),
               x - width / 2, 34, x + width / 2, bottom + (HEADER if repeat else 0))


def _y_at(t: float, starts: list[float], ys: list[float]) -> float:
    """The row of the last exchange that started at or before `t` (ordinal axis)."""
    index = max(bisect.bisect_right(starts, t) - 1, 0)
    return ys[index]


def _wait(canvas: svg.Canvas, wait: Wait, lanes: _Lanes, xs: list[float], ys: list[float],
          starts: list[float], labelled: dict[int, float]) -> _WaitLabel | None:
    """Draw the bar; return where its label would go, placed once the arrows are drawn.

    The label sits just under the row where the wait began, beside the bar (arrows from a
    client run towards the servers on the left, so the right side is usually free). Only
    the first of overlapping waits on one lane is labelled: the legend explains the rest."""
    if wait.client not in lanes.index or not ys:
        return None
    lane = lanes.index[wait.client]
    x = xs[lane]
    row = _y_at(wait.start, starts, ys)
    top = row - 6
    end = max(_y_at(wait.end, starts, ys) + 6, top + ROW / 2)
    outcome = "granted" if wait.granted else "never granted"
    tooltip = (f"{wait.client} waiting for a grant from {wait.server or '?'} "
               f"(transaction {wait.transaction}): {svg.fmt_time(wait.start)} to "
               f"{svg.fmt_time(wait.end)}, {outcome}")
    parts = [svg.title(tooltip),
             svg.rect(x - 7, top, 14, end - top, fill=svg.TINT_ORANGE, stroke=svg.ORANGE,
                      extra={"fill-opacity": 0.8})]
    values = {"data-wait": wait.client, "data-client": wait.client,
              "data-server": wait.server or "", "data-transaction": wait.transaction,
              "data-granted": "true" if wait.granted else "false",
              "data-start": f"{wait.start:.3f}", "data-end": f"{wait.end:.3f}"}
    canvas.add(svg.element("g", values, "".join(parts)), x - 7, top, x + 7, end)
    if top < labelled.get(lane, -math.inf):
        return None
    labelled[lane] = end
    return _WaitLabel(wait.client, x, row + 17, wait.granted)


def _place_wait_label(canvas: svg.Canvas, label: _WaitLabel, right: float,
                      taken: list[Box]) -> None:
    """Right of the bar if free, else left, else nowhere (the legend explains the bars)."""
    words = "waiting for grant" if label.granted else "waiting, never granted"
    width = svg.text_width(words)
    for left, anchor in ((label.x + 12, "start"), (label.x - 12 - width, "end")):
        box = (left, label.y - 11, left + width, label.y + 3)
        if box[0] < AXIS or box[2] > right or any(_overlap(box, other) for other in taken):
            continue
        taken.append(box)
        x = left if anchor == "start" else left + width
        canvas.add(svg.text(x, label.y, words, anchor=anchor, halo=True,
                            fill=svg.INK if label.granted else svg.RED_INK,
                            extra={"data-wait-label": label.client}))
        return


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _colour(exchange: Exchange) -> str:
    if exchange.failed or exchange.result == "FAILURE":
        return svg.VERMILLION
    return {"SUCCESS": svg.GREEN, "PENDING": svg.ORANGE}.get(exchange.result, svg.BLUE)


def _result_words(exchange: Exchange) -> str:
    if exchange.result.startswith("http "):
        return "HTTP " + exchange.result[5:]
    if exchange.failed:
        return "\u2715 " + _FAILURE_WORDS.get(exchange.result, exchange.result)
    return exchange.result


def _label(row: _Row, grouped: bool) -> str:
    first = row.first
    what = first.message or first.operation
    when = f"t={svg.fmt_time(first.start)}"
    count = len(row.exchanges)
    if count > 1:
        when += f"\u2013{svg.fmt_time(row.exchanges[-1].start)}"
    times = f" \u00d7{count}" if count > 1 else ""
    text = f"{what} \u00b7 {_result_words(first)}{times} \u00b7 {when}"
    if grouped:
        names = list(dict.fromkeys(e.client for e in row.exchanges))
        who = ", ".join(names[:2]) + (f" +{len(names) - 2}" if len(names) > 2 else "")
        if row.dst == row.src and first.server:
            who += f" \u2192 {first.server}"
        text = f"{who}: {text}"
    return text


def _arrow(canvas: svg.Canvas, row: _Row, lanes: _Lanes, xs: list[float], y: float,
           bounds: tuple[float, float]) -> Box:
    """Draw one row's arrow; return its label's box so wait labels can keep clear of it."""
    first = row.first
    grouped = bool(lanes.hidden) and row.src == len(lanes.names) - 1
    colour = _colour(first)
    x1 = xs[row.src]
    parts = []
    if row.dst is None or row.dst == row.src:
        # Unresolved (✕ at the client) or a router talking to its own lane: a short hook.
        step = -28.0 if row.src > 0 else 28.0
        if row.dst is None:
            parts += [svg.line(x1, y, x1 + step, y, stroke=colour, width=2, dash="6 4"),
                      svg.cross(x1 + step, y)]
        else:
            n = svg.num
            d = f"M{n(x1)},{n(y - 4)} h{n(step)} v8 h{n(-step * 0.7)}"
            parts += [svg.path(d, stroke=colour, width=2),
                      svg.arrow_head(x1 + step * 0.3, y + 4, math.pi if step > 0 else 0.0,
                                     fill=colour)]
        mid = x1 + step
    else:
        x2 = xs[row.dst]
        direction = 1.0 if x2 > x1 else -1.0
        if first.failed:
            end = x1 + 0.72 * (x2 - x1)
            parts += [svg.line(x1, y, end, y, stroke=colour, width=2, dash="6 4"),
                      svg.cross(end, y)]
        else:
            end = x2 - 3 * direction
            parts += [svg.line(x1, y, end, y, stroke=colour, width=2),
                      svg.arrow_head(end, y, 0.0 if direction > 0 else math.pi, fill=colour)]
        mid = (x1 + end) / 2
    words = _label(row, grouped)
    half = svg.text_width(words) / 2
    mid = min(max(mid, bounds[0] + half), bounds[1] - half)
    parts.append(svg.text(mid, y - 6, words, anchor="middle", halo=True,
                          fill=svg.RED_INK if first.failed else svg.INK))
    canvas.cover_text(mid, y - 6, words, anchor="middle")
    clients = [e.client for e in row.exchanges]  # one per exchange, as data-count says
    tooltip = "\n".join(
        f"{e.client} \u2192 {e.server or 'unresolved'} ({e.trustpoint}): "
        f"{e.operation}{' ' + e.message if e.message else ''} \u2192 {e.result}, "
        f"{svg.fmt_time(e.start)} to {svg.fmt_time(e.end)}"
        + (f", transaction {e.transaction}" if e.transaction else "")
        for e in row.exchanges)
    values = {"data-client": ",".join(clients), "data-server": first.server or "",
              "data-result": first.result, "data-t": f"{first.start:.3f}",
              "data-operation": first.operation, "data-message": first.message,
              "data-failed": "true" if first.failed else None,
              "data-count": len(row.exchanges) if len(row.exchanges) > 1 else None}
    canvas.add(svg.element("g", values, svg.title(tooltip) + "".join(parts)))
    return (mid - half, y - 18, mid + half, y - 3)
