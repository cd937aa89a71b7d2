"""Shared SVG helpers: escaping, number formatting, text measurement, a palette and a canvas.

Every diagram is a string of inline SVG the HTML page pastes as is, so a few rules hold for
all of them and live here:

- No `<style>` element and no `id`s: CSS inside an inline SVG applies to the whole HTML page,
  and ids would collide when several pictures share it. Presentation attributes only.
- Text and attribute values always go through `esc` / `attrs`: router names, subjects and
  trustpoints come from a scenario file and may contain `<`, `&` or quotes.
- Numbers are rounded to one decimal by `num`, so the same model gives byte-identical SVG.
- Each picture has `viewBox`, `width="100%"` and `max-width` equal to its natural width,
  which never exceeds `MAX_WIDTH`: projected on a 1280 px page it keeps its natural size,
  and its 12 px text stays 12 px.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

MAX_WIDTH = 1200
"""Widest natural width of a picture: fits a 1280 px page with its margins."""
FONT = "Helvetica, Arial, sans-serif"
MONO = "Menlo, Consolas, monospace"
SMALL = 12  # the smallest font size used anywhere (SVG units at natural size)
BODY = 13
HEAD = 14

# Okabe & Ito's colour-blind-safe palette, plus light tints of it for fills under dark text.
INK = "#1a1a1a"
MUTED = "#555555"
GRID = "#bbbbbb"
BLUE = "#0072B2"
SKY = "#56B4E9"
GREEN = "#009E73"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
YELLOW = "#F0E442"
RED_INK = "#A33C00"  # vermillion darkened so text on white passes WCAG AA
TINT_BLUE = "#D6E9F5"
TINT_GREEN = "#CDEBDD"
TINT_ORANGE = "#FBE3B8"
TINT_RED = "#F8D9C6"
TINT_GREY = "#E4E4E4"
TINT_PURPLE = "#F2DCE8"

STATE_FILLS: dict[str, str] = {
    "initial": "#D9D9D9",
    "check failed": "#F5C26B",
    "enabled": "#8FD3B9",
    "disabled": "#9A9A9A",
}
"""The certificate server's states as the timeline and the FSM diagram colour them.

States are also always written out in text, so colour is never the only cue."""
_EXTRA_FILLS = (TINT_BLUE, TINT_PURPLE, YELLOW, SKY, TINT_ORANGE)

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ATTR_ENTITIES = {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
_ATTR_SPECIAL = re.compile("[&<>\"\x00-\x1f\ufffe\uffff]")
"""What `quoteattr` (and `clean`) would change in an attribute value."""


@dataclass(frozen=True)
class SvgPicture:
    """One rendered diagram.

    `collapsed` maps the label of each group node or lane to the names it hides, so the HTML
    page can list them in a `<details>`; `ids` lists the data keys drawn (certificate MD5s,
    router names, lane names, ...), in drawing order, for tests and for the page's anchors.
    """

    svg: str
    width: int
    height: int
    collapsed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ids: tuple[str, ...] = ()


def state_fill(state: str, order: Iterable[str] = ()) -> str:
    """Fill for an FSM state: fixed for the known four, stable by position for new ones."""
    if state in STATE_FILLS:
        return STATE_FILLS[state]
    extras = [s for s in order if s not in STATE_FILLS]
    index = extras.index(state) if state in extras else sum(map(ord, state))
    return _EXTRA_FILLS[index % len(_EXTRA_FILLS)]


# --------------------------------------------------------------------------- text


def clean(text: object) -> str:
    """Text safe for XML 1.0: control characters cannot even be escaped there."""
    return _INVALID_XML.sub("\ufffd", str(text))


def esc(text: object) -> str:
    return escape(clean(text))


def attrs(values: Mapping[str, object]) -> str:
    """` name="value"` pairs in the given order; None values are left out."""
    parts = []
    for name, value in values.items():
        if value is None:
            continue
        try:
            quoted = _quoted(value)
        except TypeError:  # an unhashable value: quoted without the memo
            quoted = _quote(value)
        parts.append(f" {name}={quoted}")
    return "".join(parts)


def _quote(value: object) -> str:
    """An attribute value, quoted (and escaped where it needs it)."""
    shown = num(value) if isinstance(value, float) else str(value)
    # Most values (numbers, colours, names) need no escaping: quoted as they are,
    # which is what `quoteattr` gives them, without its dozen string passes.
    if _ATTR_SPECIAL.search(shown):
        return quoteattr(clean(shown), _ATTR_ENTITIES)
    return f'"{shown}"'


_quoted = functools.lru_cache(maxsize=1 << 16, typed=True)(_quote)
"""`_quote`, remembered: a large report's diagrams repeat the same coordinates, colours
and widths hundreds of thousands of times. `typed`: `True` and `1` are written
differently."""


def num(value: float) -> str:
    """One decimal, no trailing `.0`, never `-0`: deterministic and short."""
    # Formatting to one decimal rounds exactly as `round(value, 1)` does (both take the
    # correctly rounded decimal of the float), in one step.
    text = f"{float(value):.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def text_width(text: str, size: float = SMALL, mono: bool = False) -> float:
    """Estimated rendered width. Browsers lay text out, so this is only used to size boxes and
    keep labels inside the picture; 0.6 em per character errs on the wide side for sans-serif
    and is exact for the usual monospace fonts."""
    return len(text) * size * (0.6 if mono else 0.58)


def clip(text: str, chars: int) -> str:
    """Shorten to `chars` characters with an ellipsis (the full text goes in a `<title>`)."""
    if len(text) <= chars:
        return text
    return text[: max(chars - 1, 1)] + "\u2026"


def chars_for(width: float, size: float = SMALL, mono: bool = False) -> int:
    return max(int(width / (size * (0.6 if mono else 0.58))), 4)


def natural_key(text: str) -> tuple[object, ...]:
    """Sort `R2` before `R10`, as a person reading a lab's router names expects."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", text) if part)


def nice_step(span: float, most: int = 8) -> float:
    """A round tick step (1, 2, 5 x 10^k seconds, or clock-friendly minutes/hours) giving at
    most `most` ticks over `span`."""
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
                 21600, 43200, 86400):
        if span / step <= most:
            return float(step)
    return float(86400 * math.ceil(span / 86400 / most))


def box_edge(w: float, h: float, dx: float, dy: float) -> float:
    """Distance from the centre of a w x h box to its edge along (dx, dy): where a line
    towards another node leaves this one."""
    length = math.hypot(dx, dy) or 1.0
    ux, uy = abs(dx) / length, abs(dy) / length
    return min(w / 2 / ux if ux > 1e-9 else math.inf, h / 2 / uy if uy > 1e-9 else math.inf)


# --------------------------------------------------------------------------- elements


def element(tag: str, values: Mapping[str, object] | None = None, body: str = "") -> str:
    opening = f"<{tag}{attrs(values or {})}"
    return f"{opening}>{body}</{tag}>" if body else f"{opening}/>"


def title(text: str) -> str:
    """A `<title>` child: the browser's tooltip, and the accessible name of its parent."""
    return f"<title>{esc(text)}</title>"


def text(x: float, y: float, content: str, *, size: int = SMALL, anchor: str = "start",
         weight: str | None = None, fill: str = INK, halo: bool = False,
         mono: bool = False, extra: Mapping[str, object] | None = None) -> str:
    """A single line of text; `halo` paints a white outline under it so labels stay readable
    where they cross lines."""
    values: dict[str, object] = {"x": float(x), "y": float(y), "font-size": size}
    if anchor != "start":
        values["text-anchor"] = anchor
    if weight:
        values["font-weight"] = weight
    values["fill"] = fill
    if mono:
        values["font-family"] = MONO
    if halo:
        values.update({"stroke": "#ffffff", "stroke-width": 4, "stroke-linejoin": "round",
                       "paint-order": "stroke"})
    values.update(extra or {})
    return element("text", values, esc(content))


def rect(x: float, y: float, w: float, h: float, *, fill: str = "#ffffff",
         stroke: str | None = None, rx: float = 0, dash: str | None = None,
         extra: Mapping[str, object] | None = None) -> str:
    values: dict[str, object] = {"x": float(x), "y": float(y), "width": float(w),
                                 "height": float(h)}
    if rx:
        values["rx"] = float(rx)
    values["fill"] = fill
    if stroke:
        values.update({"stroke": stroke, "stroke-width": 1.5})
    if dash:
        values["stroke-dasharray"] = dash
    values.update(extra or {})
    return element("rect", values)


def line(x1: float, y1: float, x2: float, y2: float, *, stroke: str = INK, width: float = 1.5,
         dash: str | None = None) -> str:
    return element("line", {"x1": float(x1), "y1": float(y1), "x2": float(x2), "y2": float(y2),
                            "stroke": stroke, "stroke-width": float(width),
                            "stroke-dasharray": dash})


def path(d: str, *, stroke: str = INK, width: float = 1.5, dash: str | None = None,
         fill: str = "none") -> str:
    return element("path", {"d": d, "fill": fill, "stroke": stroke,
                            "stroke-width": float(width), "stroke-dasharray": dash})


def arrow_head(x: float, y: float, angle: float, *, fill: str = INK, size: float = 9) -> str:
    """A filled triangle with its tip at (x, y) pointing along `angle` (radians).

    Drawn as a polygon rather than a `<marker>` because markers need ids."""
    back = angle + math.pi
    left = (x + size * math.cos(back + 0.4), y + size * math.sin(back + 0.4))
    right = (x + size * math.cos(back - 0.4), y + size * math.sin(back - 0.4))
    points = " ".join(f"{num(px)},{num(py)}" for px, py in ((x, y), left, right))
    return element("polygon", {"points": points, "fill": fill})


def cross(x: float, y: float, *, stroke: str = VERMILLION, size: float = 6) -> str:
    """The ✕ that ends a failed exchange."""
    d = (f"M{num(x - size)},{num(y - size)} L{num(x + size)},{num(y + size)} "
         f"M{num(x - size)},{num(y + size)} L{num(x + size)},{num(y - size)}")
    return path(d, stroke=stroke, width=2.5)


# --------------------------------------------------------------------------- canvas


class Canvas:
    """Collects elements and the box they cover, then wraps them in the `<svg>` document.

    Diagrams place things in their own coordinates (a layout may put a node at -300); the
    canvas shifts everything so the picture starts at (pad, pad) and the viewBox is tight."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.box = [math.inf, math.inf, -math.inf, -math.inf]

    def add(self, markup: str, *box: float) -> None:
        """Add markup; `box` is (x0, y0, x1, y1) of what it covers, if it should count."""
        self.parts.append(markup)
        if box:
            self.cover(*box)

    def cover(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.box = [min(self.box[0], x0, x1), min(self.box[1], y0, y1),
                    max(self.box[2], x0, x1), max(self.box[3], y0, y1)]

    def cover_text(self, x: float, y: float, content: str, size: int = SMALL,
                   anchor: str = "start") -> None:
        width = text_width(content, size)
        left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        self.cover(left, y - size, left + width, y + size * 0.3)

    def render(self, label: str, summary: str = "", pad: float = 12,
               collapsed: dict[str, tuple[str, ...]] | None = None,
               ids: Iterable[str] = ()) -> SvgPicture:
        if not math.isfinite(self.box[0]):
            self.cover(0, 0, 200, 40)
        x0, y0, x1, y1 = self.box
        width = math.ceil(x1 - x0 + 2 * pad)
        height = math.ceil(y1 - y0 + 2 * pad)
        shift = f"translate({num(pad - x0)},{num(pad - y0)})"
        body = element("g", {"transform": shift}, "".join(self.parts))
        return SvgPicture(document(width, height, label, summary, body), width, height,
                          dict(collapsed or {}), tuple(ids))


def document(width: int, height: int, label: str, summary: str, body: str) -> str:
    """The `<svg>` element: scales down on narrow screens, never up past its natural size."""
    head = attrs({
        "xmlns": "http://www.w3.org/2000/svg",
        "viewBox": f"0 0 {width} {height}",
        "width": "100%",
        "style": f"max-width:{width}px;height:auto",
        "role": "img",
        "font-family": FONT,
        "font-size": SMALL,
    })
    desc = f"<desc>{esc(summary)}</desc>" if summary else ""
    background = rect(0, 0, width, height, fill="#ffffff")
    return f"<svg{head}>{title(label)}{desc}{background}{body}</svg>"


def empty(label: str, message: str) -> SvgPicture:
    """A small picture saying there is nothing to draw, so the page layout never has holes."""
    canvas = Canvas()
    canvas.add(text(0, 16, message, size=BODY, fill=MUTED))
    canvas.cover_text(0, 16, message, BODY)
    return canvas.render(label, message)
