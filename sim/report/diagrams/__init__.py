"""Inline SVG pictures of a run, drawn from a `ReportModel` alone.

Each function returns an `SvgPicture`: self-contained `<svg>` markup (no scripts, no external
resources, no ids or `<style>` that could leak into the page) plus what it grouped away, so
the HTML page can list hidden routers next to the picture.
"""

from sim.report.diagrams.fsm import fsm_svg
from sim.report.diagrams.hierarchy import hierarchy_svg
from sim.report.diagrams.sequence import sequence_svg
from sim.report.diagrams.svg import SvgPicture
from sim.report.diagrams.timeline import timeline_svg
from sim.report.diagrams.topology import topology_svg

__all__ = ["SvgPicture", "fsm_svg", "hierarchy_svg", "sequence_svg",
           "timeline_svg", "topology_svg"]
