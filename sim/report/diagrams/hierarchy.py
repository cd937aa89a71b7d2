"""The PKI hierarchy: root CA on the left, subordinate CAs and enrolled routers to the right.

The tree grows left to right because a page is wide and scrolls down: a hierarchy is a few
levels deep but may have dozens of routers under one CA, so depth goes across (at most
`MAX_WIDTH`) and siblings go down. Node positions come from networkx's `multipartite_layout`
with one layer per depth; nodes are inserted in depth-first order, so every subtree keeps
its children together and edges do not cross. The layout's unit grid is then mapped onto
columns and rows of fixed-size boxes, and every box has room for the facts a teacher points
at: subject, issuer, serial, validity, key size and MD5 fingerprint (the full one and the
SHA-1 are in the tooltip).

With many routers under one CA the picture must stay readable rather than shrink: past
`MAX_ROUTERS` router certificates, a CA shows the first few (revoked and expired ones first,
since those are usually the point of the lesson) and one "N more routers" node, whose names
are in its tooltip and in `SvgPicture.collapsed` for the HTML page to list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from sim.report.diagrams import svg
from sim.report.model import CertNode, ReportModel

MAX_ROUTERS = 6
"""Most router certificates drawn under one CA; past this, all but `SHOWN` are grouped."""
SHOWN = MAX_ROUTERS - 1
PAD = 12
GAP_X = 52  # horizontal room for the edges between two columns
GAP_Y = 16
MAX_PITCH = 330
LINE = 16

_ROLE_TEXT = {"root": "root CA", "sub-ca": "subordinate CA", "ra": "RA certificate",
              "router": "router certificate"}
_ROLE_ORDER = {"root": 0, "sub-ca": 1, "ra": 2, "router": 3}


@dataclass(frozen=True)
class _Group:
    """The stand-in node for the routers a CA does not show."""

    key: str
    parent: str
    label: str
    members: tuple[CertNode, ...]


def hierarchy_svg(model: ReportModel) -> svg.SvgPicture:
    label = f"PKI hierarchy of {model.scenario}"
    certs = {cert.key: cert for cert in model.certificates}
    if not certs:
        return svg.empty(label, "No certificates were issued in this run.")
    items, layers, edges = _tree(certs)
    graph: nx.DiGraph[str] = nx.DiGraph()
    for depth in sorted(layers):
        graph.add_nodes_from(layers[depth])
    graph.add_edges_from(edges)
    pos = nx.multipartite_layout(graph, subset_key=layers, align="vertical")
    columns, rows = _grid(pos)

    pitch = min(MAX_PITCH, (svg.MAX_WIDTH - 2 * PAD) / (max(columns.values()) + 1))
    box_w = pitch - min(GAP_X, pitch * 0.22)
    chars = svg.chars_for(box_w - 16)
    lines = {key: _lines(item, chars) for key, item in items.items()}
    box_h = 12 + LINE * max(_height(text) for text in lines.values())
    xy = {key: (columns[key] * pitch, rows[key] * (box_h + GAP_Y)) for key in items}

    canvas = svg.Canvas()
    for parent, child in edges:
        canvas.add(_edge(xy[parent], xy[child], box_w, box_h, items[child]))
    ids: list[str] = []
    collapsed: dict[str, tuple[str, ...]] = {}
    for key in (node for depth in sorted(layers) for node in layers[depth]):
        x, y = xy[key]
        item = items[key]
        canvas.add(_box(item, lines[key], x, y, box_w, box_h), x, y, x + box_w, y + box_h)
        if isinstance(item, _Group):
            collapsed[item.label] = tuple(_member_name(m) for m in item.members)
        else:
            ids.append(item.md5)
    marked = sum(1 for c in certs.values() if c.revoked or c.expired)
    summary = (f"{len(certs)} certificates, {marked} revoked or expired; "
               f"{sum(len(v) for v in collapsed.values())} router certificates grouped.")
    return canvas.render(label, summary, PAD, collapsed, ids)


# --------------------------------------------------------------------------- structure


def _order(cert: CertNode) -> tuple[object, ...]:
    marked = cert.role == "router" and (cert.revoked or cert.expired)
    return (_ROLE_ORDER.get(cert.role, 3), not marked, svg.natural_key(cert.router),
            svg.natural_key(cert.name), cert.serial, cert.key)


def _tree(certs: dict[str, CertNode]
          ) -> tuple[dict[str, CertNode | _Group], dict[int, list[str]], list[tuple[str, str]]]:
    """Depth-first walk from the roots: the drawn items, their layers and the edges.

    A certificate whose issuer is not in the run (or that sits on a cycle, which a broken
    input could contain) is drawn as a root rather than dropped."""
    children: dict[str, list[CertNode]] = {}
    for cert in certs.values():
        if cert.parent in certs and cert.parent != cert.key:
            children.setdefault(cert.parent, []).append(cert)
    items: dict[str, CertNode | _Group] = {}
    layers: dict[int, list[str]] = {}
    edges: list[tuple[str, str]] = []
    placed: set[str] = set()

    def visit(cert: CertNode, depth: int) -> None:
        items[cert.key] = cert
        placed.add(cert.key)
        layers.setdefault(depth, []).append(cert.key)
        kids = sorted(children.get(cert.key, ()), key=_order)
        routers = [kid for kid in kids if kid.role == "router"]
        hidden = routers[SHOWN:] if len(routers) > MAX_ROUTERS else []
        placed.update(kid.key for kid in hidden)
        for kid in kids:
            if kid.key in placed:
                continue
            edges.append((cert.key, kid.key))
            visit(kid, depth + 1)
        if hidden:
            hidden = sorted(hidden, key=lambda c: (svg.natural_key(c.router),
                                                   svg.natural_key(c.name), c.key))
            label = f"{len(hidden)} more routers under {cert.name}@{cert.router}"
            group = _Group(f"group:{cert.key}", cert.key, label, tuple(hidden))
            items[group.key] = group
            layers.setdefault(depth + 1, []).append(group.key)
            edges.append((cert.key, group.key))

    for cert in sorted(certs.values(), key=_order):
        if cert.parent not in certs or cert.parent == cert.key:
            visit(cert, 0)
    # Whatever the walk did not reach sits on an issuer cycle: start a tree at its first member.
    for cert in sorted(certs.values(), key=_order):
        if cert.key not in placed:
            visit(cert, 0)
    return items, layers, edges


def _grid(pos: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, float]]:
    """Columns and (possibly half-) rows from the layout: it spaces layers and the nodes in a
    layer one unit apart, scaled uniformly, so dividing by that unit recovers the grid."""
    coords = {key: (float(p[0]), float(p[1])) for key, p in pos.items()}
    xs = sorted({round(x, 9) for x, _ in coords.values()})
    unit = min((b - a for a, b in zip(xs, xs[1:], strict=False)), default=0.0)
    if unit <= 0:
        ys = sorted(round(y, 9) for _, y in coords.values())
        unit = min((b - a for a, b in zip(ys, ys[1:], strict=False) if b > a), default=1.0)
    x0 = min(x for x, _ in coords.values())
    y0 = min(y for _, y in coords.values())
    columns = {key: int(round((x - x0) / unit)) for key, (x, _) in coords.items()}
    rows = {key: round((y - y0) / unit * 2) / 2 for key, (_, y) in coords.items()}
    return columns, rows


def _member_name(cert: CertNode) -> str:
    marks = [word for word, on in (("revoked", cert.revoked), ("expired", cert.expired)) if on]
    name = f"{cert.name}@{cert.router}"
    return f"{name} ({', '.join(marks)})" if marks else name


# --------------------------------------------------------------------------- drawing


def _wrap_dn(prefix: str, dn: str, chars: int) -> list[str]:
    """A distinguished name over at most two lines, broken after commas; the rest is clipped
    (the tooltip has it whole)."""
    parts = dn.split(",")
    lines = [prefix + parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + 1 + len(part) <= chars:
            lines[-1] += "," + part
        elif len(lines) < 2:
            lines[-1] += ","
            lines.append("  " + part)
        else:
            lines[-1] += "," + part
    return [svg.clip(text, chars) for text in lines]


Line = tuple[str, str]
"""A line of a box and how it is drawn: head, muted, plain, mono, or a mark (REVOKED ...)."""


def _lines(item: CertNode | _Group, chars: int) -> list[Line]:
    """What a box says, shortened to `chars` per line: narrow boxes (deep hierarchies) split
    the serial and validity lines and show fewer fingerprint groups, rather than overflow."""
    if isinstance(item, _Group):
        names = [m.router for m in item.members]
        marked = sum(1 for m in item.members if m.revoked or m.expired)
        group: list[Line] = [(f"+ {len(item.members)} more routers", "head"),
                             (svg.clip(f"{names[0]} \u2026 {names[-1]}", chars), "plain")]
        if marked:
            group.append((f"{marked} revoked or expired", "plain"))
        return group + [("full list in the tooltip", "muted"), ("and below the picture", "muted")]
    role = _ROLE_TEXT.get(item.role, item.role)
    marks = " \u00b7 ".join(word for word, on in (("REVOKED", item.revoked),
                                                  ("EXPIRED", item.expired)) if on)
    lines: list[Line] = [(svg.clip(f"{item.name}@{item.router}", chars), "head"),
                         (svg.clip(role, chars), "muted")]
    if marks:
        inline = len(role) + 2 + len(marks) <= chars
        lines.append((marks, "mark-inline" if inline else "mark"))
    lines += [(text, "plain") for text in _wrap_dn("subject ", item.subject, chars)]
    lines += [(text, "plain") for text in _wrap_dn("issuer ", item.issuer, chars)]
    facts = f"serial 0x{item.serial:X} \u00b7 {item.key_bits}-bit key"
    if len(facts) <= chars:
        lines.append((facts, "plain"))
    else:
        lines += [(svg.clip(f"serial 0x{item.serial:X}", chars), "plain"),
                  (f"{item.key_bits}-bit key", "plain")]
    since, until = item.not_before[:10], item.not_after[:10]
    if len(since) + len(until) + 3 <= chars:
        lines.append((f"{since} \u2192 {until}", "plain"))
    else:
        lines += [(f"from {since}", "plain"), (f"until {until}", "plain")]
    groups = item.md5.split()
    fit = max(1, (int(chars * 0.58 / 0.6) - 6) // 9)
    md5 = " ".join(groups[:fit]) + (" \u2026" if len(groups) > fit else "")
    lines.append((f"MD5 {md5}", "mono"))
    return lines


def _height(lines: list[Line]) -> int:
    return sum(1 for _, style in lines if style != "mark-inline")


def _style(item: CertNode | _Group) -> tuple[str, str, str | None]:
    """Fill, stroke and dash: revoked and expired also say so in words, not just colour."""
    if isinstance(item, _Group):
        return "#f4f4f4", svg.MUTED, "6 4"
    if item.revoked:
        return svg.TINT_RED, svg.VERMILLION, "8 3"
    if item.expired:
        return svg.TINT_GREY, "#7f7f7f", "3 3"
    fills = {"root": (svg.TINT_BLUE, svg.BLUE), "sub-ca": (svg.TINT_GREEN, svg.GREEN)}
    fill, stroke = fills.get(item.role, ("#ffffff", "#666666"))
    return fill, stroke, None


def _box(item: CertNode | _Group, lines: list[Line], x: float, y: float, w: float,
         h: float) -> str:
    fill, stroke, dash = _style(item)
    parts = [_tooltip(item), svg.rect(x, y, w, h, fill=fill, stroke=stroke, rx=6, dash=dash)]
    ty = y + 5
    for content, style in lines:
        if style == "mark-inline":  # right-aligned on the role's line
            parts.append(_mark(x + w - 8, ty, content, "end"))
            continue
        ty += LINE
        if style == "mark":
            parts.append(_mark(x + 8, ty, content, "start"))
        else:
            parts.append(svg.text(x + 8, ty, content, size=svg.BODY if style == "head"
                                  else svg.SMALL, weight="bold" if style == "head" else None,
                                  fill=svg.MUTED if style == "muted" else svg.INK,
                                  mono=style == "mono"))
    if isinstance(item, _Group):
        values: dict[str, object] = {"data-group": item.label,
                                     "data-hidden": len(item.members)}
    else:
        values = {"data-md5": item.md5, "data-serial": item.serial, "data-role": item.role,
                  "data-revoked": "true" if item.revoked else None,
                  "data-expired": "true" if item.expired else None}
    return svg.element("g", values, "".join(parts))


def _mark(x: float, y: float, words: str, anchor: str) -> str:
    colour = svg.RED_INK if "REVOKED" in words else svg.MUTED
    return svg.text(x, y, words, weight="bold", fill=colour, anchor=anchor,
                    extra={"data-mark": words.lower().replace(" \u00b7 ", " ")})


def _tooltip(item: CertNode | _Group) -> str:
    """The tooltip: everything the box had to shorten."""
    if isinstance(item, _Group):
        return svg.title(item.label + ":\n" + "\n".join(_member_name(m) for m in item.members))
    status = ", ".join(word for word, on in (("REVOKED", item.revoked),
                                             ("EXPIRED", item.expired)) if on)
    return svg.title("\n".join([
        f"{item.name}@{item.router} ({_ROLE_TEXT.get(item.role, item.role)})"
        + (f" \u2014 {status}" if status else ""),
        f"Subject: {item.subject}",
        f"Issuer: {item.issuer}",
        f"Serial: 0x{item.serial:X} ({item.serial})",
        f"Valid: {item.not_before} to {item.not_after}",
        f"Key: {item.key_bits} bits",
        f"MD5: {item.md5}",
        f"SHA1: {item.sha1}",
    ]))


def _edge(start: tuple[float, float], end: tuple[float, float], box_w: float, box_h: float,
          child: CertNode | _Group) -> str:
    """From the issuer's right edge to the issued certificate's left edge."""
    x1, y1 = start[0] + box_w, start[1] + box_h / 2
    x2, y2 = end[0], end[1] + box_h / 2
    mid = (x1 + x2) / 2
    n = svg.num
    # Elbows: siblings share one vertical trunk, which reads as a tree at a glance.
    d = f"M{n(x1)},{n(y1)} H{n(mid)} V{n(y2)} H{n(x2 - 8)}"
    revoked = isinstance(child, CertNode) and child.revoked
    colour = svg.VERMILLION if revoked else "#777777"
    return (svg.path(d, stroke=colour, width=1.5, dash="6 3" if revoked else None)
            + svg.arrow_head(x2, y2, 0.0, fill=colour))
