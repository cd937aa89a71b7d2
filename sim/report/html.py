"""The HTML report: one self-contained file, readable offline and on a projector.

Everything the page needs is inside it: CSS in a `<style>`, the pictures as inline SVG from
`sim.report.diagrams`, and one short script that records the page's widest layout (a test
reads it back to prove nothing overflows at 1280 px). A Content-Security-Policy forbids
any fetch, so a report opened from a ticket attachment cannot reach the network. Showing
and hiding debug lines is a CSS checkbox toggle, so it works with scripts off.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache, partial

from sim.report import clock
from sim.report.diagrams import (
    SvgPicture,
    fsm_svg,
    hierarchy_svg,
    sequence_svg,
    timeline_svg,
    topology_svg,
)
from sim.report.html_rows import (
    certificate_rows,
    exchange_rows,
    file_items,
    html_escape,
    router_rows,
)
from sim.report.markdown import (
    artifacts_by_router,
    environment,
    natural_key,
    paragraphs,
    state_changes,
)
from sim.report.model import ReportModel, TranscriptLine

FOLD_ROWS = 20
"""Fact tables longer than this start folded: on a projector, sixty certificate rows would
push the next picture several screens down. The text facts are still on the page."""


@dataclass(frozen=True)
class Figure:
    """A picture ready for the page: its SVG markup and the groups it collapsed."""

    svg: str  # trusted markup from sim.report.diagrams: the template marks it safe
    groups: tuple[tuple[str, tuple[str, ...]], ...]

    @classmethod
    def of(cls, picture: SvgPicture) -> Figure:
        # The picture's own order (natural: r2 before r10) is already a function of the
        # model, so it is kept rather than re-sorted as text.
        groups = tuple((label, tuple(names)) for label, names in picture.collapsed.items())
        return cls(picture.svg, groups)


@dataclass(frozen=True)
class Transcript:
    router: str
    lines: tuple[TranscriptLine, ...]
    open: bool  # routers that run a certificate server are the story; open them
    debug_lines: int

    @property
    def body(self) -> str:
        """The `<pre>`'s content, escaped markup: each line a `<span>` of its kind. Built
        here rather than by a template loop: a large run's consoles are hundreds of
        thousands of lines, and the template's per-line work was most of the report's
        time."""
        return "".join(f'<span class="{_escaped_kind(line.kind)}">{html_escape(line.text)}\n'
                       "</span>" for line in self.lines)


_escaped_kind = lru_cache(maxsize=64)(html_escape)
"""A console line's kind, escaped: there are a handful, and hundreds of thousands of lines."""


def render_html(model: ReportModel) -> str:
    """`report.html` for `model`; a pure function of it, so reruns are byte-identical."""
    return "".join(html_chunks(model))


def html_chunks(model: ReportModel) -> Iterator[str]:
    """`render_html`'s text in pieces as the template makes them, to be written as they
    come: a large run's page is tens of megabytes, not worth holding whole."""
    servers = {r.name for r in model.routers if r.servers}
    # Certificate servers first (they are the story, and open), then everybody else.
    order = sorted(model.transcripts, key=lambda r: (r not in servers, natural_key(r)))
    transcripts = [Transcript(router, model.transcripts[router], router in servers,
                              sum(line.kind == "debug" for line in model.transcripts[router]))
                   for router in order]
    return environment().get_template("report.html.j2").generate(
        m=model,
        # One time format in every table (the pictures use the same `sim.report.clock`).
        at=partial(clock.moment, clock.parse_start(model.start)),
        span=clock.span,
        exchanges=sorted(model.exchanges, key=lambda e: (e.start, e.end, natural_key(e.client))),
        expectations=sorted(model.expectations, key=lambda e: (e.at, e.line)),
        fold_rows=FOLD_ROWS,
        figures=_figures(model),
        passed_count=sum(e.passed for e in model.expectations),
        failed_exchanges=sum(e.failed for e in model.exchanges),
        changes=state_changes(model),
        routers=sorted(model.routers, key=lambda r: natural_key(r.name)),
        transcripts=transcripts,
        artifacts={files.router: files for files in artifacts_by_router(model)},
        paragraphs=[_code_spans(p) for p in paragraphs(model.description)],
        # The long tables and lists, row by row (`sim.report.html_rows`).
        certificate_rows=certificate_rows,
        router_rows=router_rows,
        exchange_rows=exchange_rows,
        file_items=file_items,
    )


def _code_spans(text: str) -> list[tuple[str, bool]]:
    """Split a description paragraph into (text, is_code) on Markdown backticks."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: show the text as written
        return [(text, False)]
    return [(part, index % 2 == 1) for index, part in enumerate(parts) if part]


def _figures(model: ReportModel) -> dict[str, Figure]:
    """Draw only what has something to show; an empty picture says less than a sentence."""
    figures = {"topology": Figure.of(topology_svg(model)),
               "fsm": Figure.of(fsm_svg(model))}
    if model.certificates:
        figures["hierarchy"] = Figure.of(hierarchy_svg(model))
    if model.exchanges:
        figures["sequence"] = Figure.of(sequence_svg(model))
    if any(t.changes for t in model.timelines):
        figures["timeline"] = Figure.of(timeline_svg(model))
    return figures

