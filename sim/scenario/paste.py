"""`input: [{paste_from: {router: R, artifact: NAME}}]`: carry text between consoles.

A cut-and-paste lab moves a PKCS#10 request from a client's console to the CA's
`crypto pki server CA request pkcs10 terminal`, and the granted certificate back to the
client's `crypto pki import TP certificate`. The scenario cannot know those bytes when it
is written: they come from the run. So an `input` item may name an artifact of another
router (`sim.router.artifact_log`), and it is resolved when the event plays:

- the newest artifact of the router whose name, without its `0001-` number, matches the
  pattern (`fnmatch`: `*`, `?`, `[...]`; matched case-sensitively);
- PEM text is pasted line by line, anything else (a `.der` file) as base64 in lines of 64,
  as IOS prints certificates; each line is one answer, pasted at once (like a short-form
  answer to a paste);
- nothing matching: nothing is pasted (the command sees the paste end at once and says so
  itself) and the trace records `scenario/paste.missing` with the event's file line, so
  the mistake shows in the transcript and in the trace.

The loader checks what it can before the run (the router exists, the pattern is one
line); see `sim.scenario.builder`.
"""

from __future__ import annotations

import base64
import fnmatch

from sim.router.console import Answer
from sim.scenario.model import CliEvent, PasteFrom
from sim.scenario.world import World

PEM_MARK = b"-----BEGIN "


def newest_artifact(world: World, paste: PasteFrom) -> tuple[str, bytes] | None:
    """(file name, bytes) of the newest matching artifact, or None."""
    found: tuple[str, bytes] | None = None
    for filename, data in world.routers[paste.router].artifacts:
        name = filename.split("-", 1)[1] if filename[:4].isdigit() else filename
        if fnmatch.fnmatchcase(name, paste.artifact):
            found = (filename, data)
    return found


def artifact_lines(data: bytes, name: str = "") -> list[str]:
    """What pasting the artifact types: a PEM file's or a text (`.txt`) file's lines (a
    one-time password the CA printed, say), else base64 in 64s."""
    if data.lstrip().startswith(PEM_MARK) or name.endswith(".txt"):
        return data.decode("ascii", errors="replace").splitlines()
    text = base64.b64encode(data).decode()
    return [text[i:i + 64] for i in range(0, len(text), 64)]


def resolve_input(world: World, event: CliEvent) -> tuple[Answer, ...]:
    """The event's answers with each `paste_from` replaced by the artifact's lines."""
    answers: list[Answer] = []
    for item in event.input:
        if not isinstance(item, PasteFrom):
            answers.append(item)
            continue
        found = newest_artifact(world, item)
        if found is None:
            world.env.emit(event.router, "scenario", "paste.missing", router=item.router,
                           artifact=item.artifact, line=item.line or event.line)
            continue
        filename, data = found
        world.env.emit(event.router, "scenario", "paste", router=item.router,
                       artifact=filename, line=item.line or event.line)
        answers += [Answer(text) for text in artifact_lines(data, filename)]
    return tuple(answers)
