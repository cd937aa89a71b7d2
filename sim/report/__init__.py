"""Reports of a finished run: `report.html` and `report.md`, rendered from its output folder."""

from sim.report.write import write_report

__all__ = ["write_report"]
