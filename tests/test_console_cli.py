"""`pkilab console` from a shell: piped input, bad input, `serve --console`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "scenarios" / "labs" / "sub-ca-lab.yaml"


def _pkilab(*args: str, stdin: str = "", cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], input=stdin, text=True,
                          capture_output=True, cwd=cwd, timeout=300)


def test_piped_lines_run_one_at_a_time_and_print_what_the_router_printed(
        tmp_path: Path) -> None:
    """Commands piped into `pkilab console` would not print the router's echo and output, `:` lab
    commands would misbehave, or no transcripts would be written."""
    out = tmp_path / "out"
    done = _pkilab("console", str(BENCH), "--speed", "50", "--out", str(out), cwd=tmp_path,
                   stdin="enable\nshow crypto pki server\nshow clock\n:frob\n:r sub\n"
                         ":power root1 off\n:routers\n:quit\n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "root1>enable" in lines and "root1#show clock" in lines
    assert any(line.endswith("UTC Thu Jan 6 2005") for line in lines), lines
    assert "% unknown lab command ':frob' (try :help)" in lines
    assert any(line.split()[:4] == ["root1", "10.3.0.6", "off", "-"] for line in lines)
    assert (out / "transcripts" / "root1.txt").is_file()


def test_bad_input_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    """A missing scenario file or unknown `--router` would give `pkilab console` users a traceback
    instead of one error line and exit status 2."""
    missing = _pkilab("console", "nowhere.yaml", cwd=tmp_path)
    assert missing.returncode == 2 and "nowhere.yaml" in missing.stderr
    assert "Traceback" not in missing.stderr
    router = _pkilab("console", str(BENCH), "--router", "r9", cwd=tmp_path)
    assert router.returncode == 2
    assert router.stderr.strip() == ("error: --router: no router named 'r9' "
                                     "(routers: root1, sub)")
