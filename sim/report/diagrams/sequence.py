"""The SCEP exchanges as a sequence diagram: one lane per router, one row per exchange.

Vertical axis: ordinal, not linear. Each row gets its own band (`ROW` px) in start-time
order, with its time written at the left in the report's one format (`21:06:20 (+1m20s)`,
see `sim.report.clock`); a quiet stretch longer than `GAP_SECONDS` adds a thin
"… 4m later" band instead of empty space. A run of hours with a burst of enrollment traffic
at the start and a poll every minute stays compact and every arrow stays legible; the bands
keep the time compression honest.

Repeats are drawn once. A client's polling (the same GetCertInitial → PENDING for one
transaction, again and again) is one arrow marked "×N, every 1m1s" whose row gives the first
and the last time; so is a run of identical exchanges with nothing else in between (forty
routers of the group lane fetching the CA certificate). The arrow's tooltip and
`data-client` list the client of each exchange (`data-count` of them).

Lanes: at most `MAX_LANES`, so a lab of twelve routers has a lane each. Certificate servers
come first (in scenario order, which puts the root before its subordinates as lab files are
written), then the busiest clients, then one "N other routers" lane for everybody else;
arrows from that lane say which router sent them.

Nothing overlaps: each row's label sits in the row's own band above its arrow (so it never
crosses another arrow or another row's label), times sit left of the lanes, lane headers
are never wider than a lane, and the "waiting for grant" notes go only where no label is.
Exchanges that got no SCEP answer are dashed and end in a ✕ short of the server, or at the
client when the URL did not resolve. Waits for a manual grant are shaded bars on the client
lane.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass
from datetime import datetime

from sim.report import clock
from sim.report.diagrams import svg
from sim.report.model import Exchange, ReportModel, Wait

MAX_LANES = 12
ROW = 32
RANGE_ROW = 14  # a folded row writes its last time on a second line under its first
GAP_SECONDS = 30.0
GAP_ROW = 22
PAD = 12
LEGEND = 34
HEADER = 44
TOP = LEGEND + HEADER + 22  # legend, lane headers, breathing room
LABEL_RISE = 8  # a label's baseline above its arrow: its descenders clear the arrow head
STEADY = 0.1  # intervals within 10% of their mean make a rhythm ("every 1m1s")

_FAILURE_WORDS = {"refused": "refused", "timeout": "timed out", "no-route": "no route",
                  "unresolved": "unresolvable"}


@dataclass(frozen=True)
class _Row:
    exchanges: tuple[Exchange, ...]  # more than one: a folded repeat
    src: int
    dst: int | None  # None: the server's name did not resolve

    @property
    def first(self) -> Exchange:
        return self.exchanges[0]

    @property
    def last(self) -> Exchange:
        return self.exchanges[-1]

    @property
    def height(self) -> int:
        return ROW + (RANGE_ROW if len(self.exchanges) > 1 else 0)


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
    start = clock.parse_start(model.start)
    lanes = _lanes(model)
    rows = _rows(model.exchanges, lanes)
    stamps = _stamps(rows, start)
    axis = max([90.0, *(svg.text_width(words) + 24 for pair in stamps for words in pair)])
    pitch = min(240.0, (svg.MAX_WIDTH - 2 * PAD - axis) / len(lanes.names))
    xs = [axis + pitch * (i + 0.5) for i in range(len(lanes.names))]
    right = axis + pitch * len(lanes.names)
    ys, gaps = _row_positions(rows)
    bottom = ys[-1] + rows[-1].height
    canvas = svg.Canvas()
    canvas.cover(0, 0, right, bottom + 10)
    _legend(canvas, axis)
    for index, name in enumerate(lanes.names):
        _lane(canvas, model, lanes, index, name, xs[index], pitch, bottom,
              repeat=len(rows) > 15)
    for y, seconds in gaps:
        canvas.add(svg.line(0, y, right, y, stroke=svg.GRID, width=1, dash="2 4"))
        canvas.add(svg.text(4, y + 4, f"\u2026 {clock.span(seconds)} later",
                            fill=svg.MUTED, halo=True))
    labelled: dict[int, float] = {}
    transactions = _rows_by_transaction(rows)
    wait_labels = [_wait(canvas, wait, lanes, xs, (rows, transactions), ys, start, labelled)
                   for wait in sorted(model.waits,
                                      key=lambda w: (w.start, w.end, w.client, w.transaction))]
    taken: list[Box] = []
    shown = ""
    for row, y, (stamp, until) in zip(rows, ys, stamps, strict=True):
        if stamp != shown or until:
            canvas.add(svg.text(axis - 10, y + 4, stamp, anchor="end", fill=svg.MUTED))
            shown = stamp
        if until:
            canvas.add(svg.text(axis - 10, y + 4 + RANGE_ROW, until, anchor="end",
                                fill=svg.MUTED))
            shown = ""
        taken.extend(_arrow(canvas, row, lanes, xs, y, (axis, right), start))
    for wait_label in wait_labels:
        if wait_label is not None:
            _place_wait_label(canvas, wait_label, (axis, right), taken)
    failed = sum(1 for e in model.exchanges if e.failed)
    summary = (f"{len(model.exchanges)} SCEP exchanges between {len(lanes.index)} routers "
               f"drawn as {len(rows)} arrows, {failed} without an answer, "
               f"{len(model.waits)} waits for a manual grant.")
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
    # Clients in name order (r2 before r10), the busiest first when some must share a lane.
    clients = sorted(everyone - set(server_lanes),
                     key=lambda n: (-busy.get(n, 0), svg.natural_key(n)))
    if len(everyone) <= MAX_LANES:
        named = server_lanes + sorted(clients, key=svg.natural_key)
        return _Lanes(tuple(named), {n: i for i, n in enumerate(named)},
                      frozenset(server_lanes), ())
    shown_servers = server_lanes[: MAX_LANES - 2]
    rest = server_lanes[MAX_LANES - 2:] + clients
    shown_clients = sorted(clients[: MAX_LANES - 1 - len(shown_servers)], key=svg.natural_key)
    hidden = tuple(sorted((n for n in rest if n not in shown_clients), key=svg.natural_key))
    named = shown_servers + shown_clients
    group = f"{len(hidden)} other routers"
    index = {n: i for i, n in enumerate(named)} | {n: len(named) for n in hidden}
    return _Lanes((*named, group), index, frozenset(shown_servers), hidden)


def _rows(exchanges: tuple[Exchange, ...], lanes: _Lanes) -> list[_Row]:
    """Exchanges in time order, repeats folded into the row of their first.

    An exchange joins an earlier row when it repeats it exactly (same lane, server,
    operation, message and result) and either continues the same transaction from that
    row's client with nothing else from the client in between (polling, however long it
    lasts and whatever other routers do meanwhile), or comes straight after it with no
    other row in between (a batch from the group lane, a client fetching twice)."""
    group = len(lanes.names) - 1 if lanes.hidden else -1
    ordered = sorted(exchanges, key=lambda e: (e.start, e.end, lanes.index[e.client], e.client,
                                               e.operation, e.message or "", e.result,
                                               e.transaction or ""))
    members: list[list[Exchange]] = []
    keys: list[tuple[int, int | None, str, str, str, str | None]] = []
    latest: dict[str, int] = {}  # client -> its latest row
    polls: dict[tuple[str, str], int] = {}  # (client, transaction) -> its latest row
    for exchange in ordered:
        src = lanes.index[exchange.client]
        dst = lanes.index[exchange.server] if exchange.server else None
        key = (src, dst, exchange.operation, exchange.message or "", exchange.result,
               exchange.server if dst == group else "")
        into: int | None = None
        poll = polls.get((exchange.client, exchange.transaction or ""))
        if (exchange.transaction and poll is not None and keys[poll] == key
                and latest.get(exchange.client) == poll):
            into = poll
        elif keys and keys[-1] == key and (src == group or members[-1][-1].client
                                           == exchange.client):
            into = len(keys) - 1
        if into is None:
            members.append([exchange])
            keys.append(key)
            into = len(keys) - 1
        else:
            members[into].append(exchange)
        latest[exchange.client] = into
        if exchange.transaction:
            polls[(exchange.client, exchange.transaction)] = into
    return [_Row(tuple(run), key[0], key[1]) for run, key in zip(members, keys, strict=True)]


def _stamps(rows: list[_Row], start: datetime) -> list[tuple[str, str]]:
    """Each row's time, and for a folded row the time of its last exchange."""
    return [(clock.moment(start, row.first.start),
             f"to {clock.moment(start, row.last.start)}" if len(row.exchanges) > 1 else "")
            for row in rows]


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
        previous = max(previous or 0.0, row.last.start)
        y += row.height
    return ys, gaps


# --------------------------------------------------------------------------- drawing


def _legend(canvas: svg.Canvas, axis: float) -> None:
    x = axis
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
          x: float, pitch: float, bottom: float, repeat: bool) -> None:
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
    # Never wider than the lane, so neighbouring headers keep a gap between them.
    width = min(150.0, max(96.0, svg.text_width(name, svg.BODY) + 16), pitch - 8)
    chars = svg.chars_for(width - 8)
    name_chars = svg.chars_for(width - 8, svg.BODY)
    fill = "#f4f4f4" if is_group else (svg.TINT_BLUE if kind == "server" else "#ffffff")
    top = float(LEGEND)
    parts = [svg.title(tooltip),
             svg.line(x, top + HEADER, x, bottom, stroke=svg.GRID, width=1.5, dash="4 4")]
    for y in (top, bottom) if repeat else (top,):
        parts += [svg.rect(x - width / 2, y, width, HEADER - 4, fill=fill, rx=5,
                           stroke=svg.BLUE if kind == "server" else "#666666",
                           dash="5 3" if is_group else None),
                  svg.text(x, y + 17, svg.clip(name, name_chars), size=svg.BODY,
                           weight="bold", anchor="middle"),
                  svg.text(x, y + 33, svg.clip(subtitle, chars), anchor="middle",
                           fill=svg.MUTED)]
    canvas.add(svg.element("g", {"data-lane": name, "data-kind": kind}, "".join(parts)),
               x - width / 2, top, x + width / 2, bottom + (HEADER if repeat else 0))


def _rows_by_transaction(rows: list[_Row]) -> dict[tuple[str, str | None], list[int]]:
    """The rows holding each (client, transaction)'s exchanges, found in one pass: looking
    them up row by row for every wait costs waits x rows (every router of a big manual-grant
    lab waits)."""
    found: dict[tuple[str, str | None], list[int]] = {}
    for i, row in enumerate(rows):
        for key in dict.fromkeys((e.client, e.transaction) for e in row.exchanges):
            found.setdefault(key, []).append(i)
    return found


def _wait(canvas: svg.Canvas, wait: Wait, lanes: _Lanes, xs: list[float],
          indexed: tuple[list[_Row], dict[tuple[str, str | None], list[int]]],
          ys: list[float], start: datetime, labelled: dict[int, float]) -> _WaitLabel | None:
    """Draw the bar; return where its label would go, placed once the arrows are drawn.

    The bar runs from the row of the transaction's first exchange to the row of its last.
    The label sits beside the bar, level with the arrow where the wait began. Only the first
    of overlapping waits on one lane is labelled: the legend explains the rest."""
    if wait.client not in lanes.index or not ys:
        return None
    lane = lanes.index[wait.client]
    x = xs[lane]
    rows, transactions = indexed
    mine = transactions.get((wait.client, wait.transaction), [])
    if mine:
        first, last = ys[mine[0]], ys[mine[-1]] + (RANGE_ROW
                                                   if len(rows[mine[-1]].exchanges) > 1 else 0)
    else:
        starts = [row.first.start for row in rows]
        first = ys[max(bisect.bisect_right(starts, wait.start) - 1, 0)]
        last = ys[max(bisect.bisect_right(starts, wait.end) - 1, 0)]
    top = first - 6
    end = max(last + 6, top + ROW / 2)
    outcome = "granted" if wait.granted else "never granted"
    tooltip = (f"{wait.client} waiting for a grant from {wait.server or '?'} "
               f"(transaction {wait.transaction}): {clock.moment(start, wait.start)} to "
               f"{clock.moment(start, wait.end)}, {outcome}")
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
    # Level with the arrow that opened the wait: the band above holds the arrow's label.
    return _WaitLabel(wait.client, x, first + 4, wait.granted)


def _place_wait_label(canvas: svg.Canvas, label: _WaitLabel, bounds: tuple[float, float],
                      taken: list[Box]) -> None:
    """Right of the bar if free, else left, then the same a line lower, else nowhere (the
    legend explains the bars)."""
    words = "waiting for grant" if label.granted else "waiting, never granted"
    width = svg.text_width(words)
    for left, anchor, y in itertools.product((label.x + 12, label.x - 12 - width),
                                             ("start",), (label.y, label.y + 16)):
        box = (left, y - 12, left + width, y + 4)
        if box[0] < bounds[0] or box[2] > bounds[1] or any(_overlap(box, o) for o in taken):
            continue
        taken.append(box)
        canvas.add(svg.text(left, y, words, anchor=anchor, halo=True,
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


def _rhythm(row: _Row) -> str:
    """`, every 1m1s` when the repeats are evenly spaced (a poll), else `, over 5m`."""
    starts = [e.start for e in row.exchanges]
    steps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    mean = sum(steps) / len(steps)
    if mean >= 1 and all(abs(step - mean) <= STEADY * mean for step in steps):
        return f", every {clock.span(round(mean))}"
    return f", over {clock.span(starts[-1] - starts[0])}" if starts[-1] > starts[0] else ""


def _label(row: _Row, grouped: bool) -> str:
    first = row.first
    text = f"{first.message or first.operation} \u2192 {_result_words(first)}"
    count = len(row.exchanges)
    if count > 1:
        text += f" \u00d7{count}{_rhythm(row)}"
    if grouped:
        names = list(dict.fromkeys(e.client for e in row.exchanges))
        who = ", ".join(names[:2]) + (f" +{len(names) - 2}" if len(names) > 2 else "")
        if row.dst == row.src and first.server:
            who += f" \u2192 {first.server}"
        text = f"{who}: {text}"
    return text


def _arrow(canvas: svg.Canvas, row: _Row, lanes: _Lanes, xs: list[float], y: float,
           bounds: tuple[float, float], start: datetime) -> tuple[Box, Box]:
    """Draw one row's arrow; return the boxes of its label and its line, so wait labels
    can keep clear of both."""
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
        line_box = (min(x1, x1 + step) - 6, y - 6, max(x1, x1 + step) + 6, y + 6)
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
        line_box = (min(x1, end) - 6, y - 6, max(x1, end) + 6, y + 6)
    words = _label(row, grouped)
    half = svg.text_width(words) / 2
    mid = min(max(mid, bounds[0] + half), bounds[1] - half)
    parts.append(svg.text(mid, y - LABEL_RISE, words, anchor="middle", halo=True,
                          fill=svg.RED_INK if first.failed else svg.INK))
    canvas.cover_text(mid, y - LABEL_RISE, words, anchor="middle")
    clients = [e.client for e in row.exchanges]  # one per exchange, as data-count says
    tooltip = "\n".join(
        f"{e.client} \u2192 {e.server or 'unresolved'} ({e.trustpoint}): "
        f"{e.operation}{' ' + e.message if e.message else ''} \u2192 {e.result}, "
        f"{clock.moment(start, e.start)} to {clock.moment(start, e.end)}"
        + (f", transaction {e.transaction}" if e.transaction else "")
        for e in row.exchanges)
    values = {"data-client": ",".join(clients), "data-server": first.server or "",
              "data-result": first.result, "data-t": f"{first.start:.3f}",
              "data-operation": first.operation, "data-message": first.message,
              "data-failed": "true" if first.failed else None,
              "data-count": len(row.exchanges) if len(row.exchanges) > 1 else None}
    canvas.add(svg.element("g", values, svg.title(tooltip) + "".join(parts)))
    return (mid - half, y - LABEL_RISE - 12, mid + half, y - LABEL_RISE + 4), line_box
