"""Write `report.html` and `report.md` into a run's output folder.

Reports are rebuilt from the folder's own `summary.json` and `trace.jsonl`, never from the
live simulation, so `pkilab report FOLDER` regenerates exactly what `pkilab run` wrote.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sim.kernel.gc_policy import batch_collection
from sim.report.build import build_model, read_folder
from sim.report.html import html_chunks
from sim.report.markdown import render_markdown

INPUTS = ("summary.json", "trace.jsonl")
REPORTS = ("report.html", "report.md")


def missing_inputs(folder: Path) -> list[str]:
    """The output-folder files a report needs that `folder` lacks (empty when it has all)."""
    return [name for name in INPUTS if not (folder / name).is_file()]


def write_report(folder: Path) -> list[Path]:
    """Render both reports for the output folder `folder`; return their paths.

    Raises FileNotFoundError naming the missing file when `folder` is not an output folder.
    """
    missing = missing_inputs(folder)
    if missing:
        raise FileNotFoundError(f"{folder / missing[0]}: not found (not a pkilab output folder?)")
    with batch_collection():
        return _write_reports(folder)


def _write_reports(folder: Path) -> list[Path]:
    summary, records, consoles = read_folder(folder)
    model = build_model(summary, records, consoles)
    if summary.get("variant"):
        # A matrix file's runs share a name; the variant tells their reports apart.
        model = replace(model, extra={**model.extra, "variant": summary["variant"]})
    if summary.get("path"):
        # Files may share a name; the scenario file's path in its suite tells them apart.
        model = replace(model, extra={**model.extra, "path": summary["path"]})
    html_path, md_path = (folder / name for name in REPORTS)
    # newline="" keeps "\n" on every platform: the same folder gives the same bytes.
    try:
        with open(html_path, "w", encoding="utf-8", newline="") as page:
            page.writelines(html_chunks(model))
    except BaseException:
        html_path.unlink(missing_ok=True)  # never leave half a page behind
        raise
    md_path.write_text(render_markdown(model), encoding="utf-8", newline="")
    return [html_path, md_path]
