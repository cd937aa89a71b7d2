"""How much faster a sweep is than a shell loop, and what the scheduler costs per task.

    python -m sim.sweep.bench [FILE] [--seeds 1-40] [--workers N]

Numbers, not a test. Every side uses the same seeds and one key cache, warmed first (the
keys of a seed are generated once, whoever runs first), so what is compared is the runs:

- the plain loop: `pkilab run FILE --seed N` once per seed, one process after another
  (what a user's `for s in ...; do pkilab run ...; done` does);
- the same runs in one process, one after another (`run_task`): the loop without the
  interpreter start-up of each command;
- `pkilab sweep FILE --seeds ...` on a LocalCluster of this machine's cores, end to end
  (cluster start included), and its rate once the cluster is up;
- the scheduler's overhead per task: a LocalCluster running no-op tasks (what one task
  costs to submit, schedule, run and return), and, in the sweep, the host time between
  runs on a worker that is not the runs themselves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim.sweep.client import connect
from sim.sweep.session import parse_seeds
from sim.sweep.tasks import RunTask, run_task

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "sweep" / \
    "tiny-soak.yaml"
NOOP_TASKS = 2000


def _noop(value: int) -> int:
    return value


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    file = DEFAULT_FILE
    seeds_text, workers = "1-40", os.cpu_count() or 1
    args = list(argv)
    while args:
        word = args.pop(0)
        if word == "--seeds" and args:
            seeds_text = args.pop(0)
        elif word == "--workers" and args:
            workers = int(args.pop(0))
        elif not word.startswith("-"):
            file = Path(word)
        else:
            sys.stderr.write("usage: python -m sim.sweep.bench [FILE] [--seeds 1-40] "
                             "[--workers N]\n")
            return 2
    seeds = parse_seeds(seeds_text)
    text = file.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="pkilab-sweep-bench-") as work:
        keys = Path(work) / "keys"
        _say(f"{file}: {len(seeds)} seeds ({seeds_text}); {workers} workers; "
             f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
        began = time.perf_counter()
        for seed in seeds:  # warm the key cache: every side then reads the same keys
            run_task(RunTask(text, file.name, str(file), "", seed, key_cache=str(keys)))
        _say(f"key cache warmed in {time.perf_counter() - began:.1f} s (not counted)")

        began = time.perf_counter()
        for seed in seeds:
            subprocess.run([sys.executable, "-m", "sim", "run", str(file), "--seed", str(seed),
                            "--out", str(Path(work) / "loop"), "--key-cache", str(keys)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        loop = time.perf_counter() - began
        _say(f"plain loop of `pkilab run`:   {len(seeds) / loop:6.2f} runs/s "
             f"({loop / len(seeds):.2f} s a run)")

        began = time.perf_counter()
        walls = [run_task(RunTask(text, file.name, str(file), "", seed, key_cache=str(keys))).wall
                 for seed in seeds]
        inproc = time.perf_counter() - began
        _say(f"one process, one by one:      {len(seeds) / inproc:6.2f} runs/s "
             f"({inproc / len(seeds):.3f} s a run)")

        out = Path(work) / "sweep"
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", "sweep", str(file), "--seeds", seeds_text,
                        "--workers", str(workers), "--out", str(out), "--key-cache", str(keys)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        total = time.perf_counter() - began
        document = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
        running = document["wall"] - document["cluster_start"]
        _say(f"pkilab sweep, end to end:     {len(seeds) / total:6.2f} runs/s "
             f"({total:.1f} s, {document['cluster_start']:.1f} s of it starting the cluster)"
             f"  -> {loop / total:.1f}x the plain loop")
        _say(f"pkilab sweep, cluster up:     {len(seeds) / running:6.2f} runs/s  -> "
             f"{loop / running:.1f}x the plain loop, {inproc / running:.1f}x one process")
        run_walls = sum(run["wall"] for run in _runs(out))
        idle = (running * workers - run_walls) / len(seeds)
        _say(f"sweep: host time per run on a worker outside the run itself: "
             f"{idle * 1000:.0f} ms (runs took {run_walls / len(seeds) * 1000:.0f} ms each "
             f"on the workers, {sum(walls) / len(walls) * 1000:.0f} ms in one process)")

    cluster = connect(None, workers)
    try:
        client = cluster.client
        client.gather(client.map(_noop, range(100), pure=False))  # warm the workers
        began = time.perf_counter()
        client.gather(client.map(_noop, range(NOOP_TASKS), pure=False))
        noop = time.perf_counter() - began
    finally:
        cluster.close()
    _say(f"scheduler overhead: {NOOP_TASKS} no-op tasks in {noop:.2f} s on {workers} workers:"
         f" {noop / NOOP_TASKS * 1000:.2f} ms a task")
    return 0


def _runs(out: Path) -> list[dict[str, float]]:
    return [json.loads(path.read_text(encoding="utf-8"))
            for path in out.glob("runs/**/seed-*/summary.json")]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
