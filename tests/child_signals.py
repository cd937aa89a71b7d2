"""Children that a test stops with Ctrl-C (SIGINT) must answer it.

A shell without job control starts a background command with SIGINT ignored, and the
ignoring is inherited: CI launched as `bash .ci/run &` gave `pkilab serve` and `pkilab
sweep` children that never heard the test's Ctrl-C (Python installs its KeyboardInterrupt
handler only where SIGINT is not ignored). The tests that press Ctrl-C start their child
with SIGINT's default disposition, as a terminal would.
"""

from __future__ import annotations

import signal


def answer_ctrl_c() -> None:
    """`preexec_fn` for a child the test will interrupt: SIGINT back to its default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
