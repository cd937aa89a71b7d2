"""The Markdown report, and the text formatting both reports share.

`report.md` carries the facts of `report.html` as plain text, to paste into a ticket: it
must read well in a Markdown viewer and as raw text, and it must stay short enough to
paste, so long tables are capped (`EXCHANGE_ROWS`). The formatting helpers live here
because they are what "the facts as text" means; the HTML report renders the same
strings with the same filters, so the two reports never disagree on a number, and both
write every moment as clock time plus elapsed (`21:06:20 (+1m20s)`, `sim.report.clock`),
in time order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, partial

import jinja2

from sim.report import clock
from sim.report.model import Exchange, ReportModel, StateChange

EXCHANGE_ROWS = 200  # "with many exchanges, cap at ~200 rows with a '… N more' line"


def sim_time(seconds: float) -> str:
    """Simulated seconds in the scenario files' own duration syntax (`2m30s`, `1m20.48s`).

    Expectation texts and scenario events already say `at 2m30s`, so the reports use the
    same words; milliseconds are the trace's resolution.
    """
    millis = round(seconds * 1000)
    sign = "-" if millis < 0 else ""
    millis = abs(millis)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, frac = divmod(rest, 1000)
    parts = []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if frac:
        parts.append(f"{secs}.{frac:03d}".rstrip("0") + "s")
    elif secs or not parts:
        parts.append(f"{secs}s")
    return sign + "".join(parts)


def latency(seconds: float) -> str:
    """Link latency in milliseconds, the unit scenario files use (`latency: 5ms`)."""
    return f"{seconds * 1000:g} ms"


def loss(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def wall_time(iso: str) -> str:
    """An ISO 8601 UTC instant as `2005-01-06 21:05:21 UTC`: shorter, same facts."""
    text = iso.replace("T", " ")
    for suffix in ("+00:00", "Z"):
        if text.endswith(suffix):
            return text[: -len(suffix)] + " UTC"
    return text


def utc(iso: str) -> str:
    """`wall_time` without the zone, for columns whose heading says UTC."""
    return wall_time(iso).removesuffix(" UTC")


def message(exchange: Exchange) -> str:
    """What was asked: the SCEP operation, with the message type for PKIOperation."""
    if exchange.message:
        return f"{exchange.operation} {exchange.message}"
    return exchange.operation


def md_cell(value: object) -> str:
    """Keep a value inside one Markdown table cell: pipes escaped, lines joined."""
    text = " ".join(str(value).split("\n")).strip()
    return text.replace("\\", "\\\\").replace("|", "\\|")


def md_code(value: object) -> str:
    """An inline code span that survives backticks inside the value."""
    text = " ".join(str(value).split("\n"))
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Sort `r2` before `r10`, as a person reading a lab's router names expects."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", text) if part)


def cert_status(revoked: bool, expired: bool) -> str:
    marks = [word for word, on in (("revoked", revoked), ("expired", expired)) if on]
    return ", ".join(marks) or "valid"


FILTERS = {
    "sim_time": sim_time,
    "latency": latency,
    "loss": loss,
    "wall_time": wall_time,
    "utc": utc,
    "message": message,
    "md_cell": md_cell,
    "md_code": md_code,
}


@cache
def environment() -> jinja2.Environment:
    """The one template environment; autoescape is on for `*.html.j2`, off for Markdown.

    StrictUndefined turns a misspelt field into an error in the tests instead of an empty
    cell in a report.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sim.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=True, default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    env.globals["cert_status"] = cert_status
    return env


def render_markdown(model: ReportModel) -> str:
    """`report.md` for `model`; a pure function of it, so reruns are byte-identical."""
    in_order = sorted(model.exchanges, key=lambda e: (e.start, e.end, natural_key(e.client)))
    exchanges = in_order[:EXCHANGE_ROWS]
    text = environment().get_template("report.md.j2").render(
        m=model,
        at=partial(clock.moment, clock.parse_start(model.start)),
        span=clock.span,
        expectations=sorted(model.expectations, key=lambda e: (e.at, e.line)),
        description=paragraphs(model.description),
        passed_count=sum(e.passed for e in model.expectations),
        failed_exchanges=sum(e.failed for e in model.exchanges),
        exchanges=exchanges,
        more_exchanges=len(model.exchanges) - len(exchanges),
        changes=state_changes(model),
        artifacts=artifacts_by_router(model),
        routers=sorted(model.routers, key=lambda r: natural_key(r.name)),
    )
    return _tidy(text)


def state_changes(model: ReportModel) -> list[tuple[str, str, StateChange]]:
    """Every certificate-server state change, in time order: (router, server, change)."""
    rows = [(t.router, t.server, c) for t in model.timelines for c in t.changes]
    return sorted(rows, key=lambda row: (row[2].t, row[0], row[1]))


@dataclass(frozen=True)
class RouterFiles:
    """A router's artifacts: `files` are (path relative to the output folder, the same path
    relative to `artifacts/<router>/`), sorted; `run/` holds the numbered per-run files."""

    router: str
    files: tuple[tuple[str, str], ...]

    @property
    def top(self) -> tuple[str, ...]:
        return tuple(name for _, name in self.files if not name.startswith("run/"))

    @property
    def run(self) -> tuple[str, ...]:
        return tuple(name.removeprefix("run/") for _, name in self.files
                     if name.startswith("run/"))

    # The Markdown lists are joined here, not by template loops: a 10,000-router run
    # lists some 50,000 files.
    @property
    def top_md(self) -> str:
        """The files as report.md lists them: code spans joined by commas, `-` for none."""
        return ", ".join(md_code(name) for name in self.top) or "-"

    @property
    def run_md(self) -> str:
        return ", ".join(md_code(name) for name in self.run)


def artifacts_by_router(model: ReportModel) -> list[RouterFiles]:
    out = []
    for router in sorted(model.artifacts, key=natural_key):
        prefix = f"artifacts/{router}/"
        paths = sorted(model.artifacts[router])
        out.append(RouterFiles(router, tuple((p, p.removeprefix(prefix)) for p in paths)))
    return out


def paragraphs(text: str) -> list[str]:
    """Scenario descriptions are YAML block scalars wrapped at ~90 columns; unwrap them."""
    blocks = [" ".join(block.split()) for block in text.strip().split("\n\n")]
    return [block for block in blocks if block]


def _tidy(text: str) -> str:
    """No trailing spaces (a Markdown line break) and exactly one final newline."""
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"
