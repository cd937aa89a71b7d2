"""`ScenarioError` and the helper that raises it at the line that declared a path.

Shared by the loader's passes (`sim.scenario.loader`, `sim.scenario.builder`) and the
matrix and soak expansions (`sim.scenario.matrix`, `sim.scenario.soak`), so that every
problem with a file reads the same: `<file>:<line>: <where>: <what is wrong>`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

from sim.scenario.yaml_lines import JsonPath, about


class ScenarioError(Exception):
    """A scenario file is unusable. `str()` is `<file>:<line>: <message>`.

    Problems with the file as a whole (missing, unreadable, empty) are reported at line 1 so
    that every message has the same shape for editors and for `pkilab check` tables.
    """

    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file = file
        self.line = line
        self.message = message


class Errors:
    """Raises `ScenarioError`s at the line that declared a path.

    For one run of a matrix file, `lines` is that run's path -> line map (list indexes
    shift when `when:` drops events), and `variant` names the run. The run is named in a
    message only when the line held a `${...}` placeholder (`substituted`): an error there
    may hold for some runs only, while any other error is the same in every run and
    naming one run would mislead.
    """

    def __init__(self, filename: str, lines: dict[JsonPath, int], *, variant: str = "",
                 substituted: frozenset[int] = frozenset()) -> None:
        self.filename = filename
        self.lines = lines
        self.variant = variant
        self.substituted = substituted

    def line(self, path: Iterable[str | int]) -> int:
        path = tuple(path)
        while path not in self.lines:
            path = path[:-1]
        return self.lines[path]

    def fail(self, path: JsonPath, message: str, *, line_path: JsonPath | None = None) -> NoReturn:
        """Raise for `path` (named in the message) at the line of `line_path` or `path`."""
        line = self.line(path if line_path is None else line_path)
        text = about(path, message)
        if self.variant and line in self.substituted:
            text += f" (in the matrix run {self.variant})"
        raise ScenarioError(self.filename, line, text)
