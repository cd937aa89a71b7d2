"""Submitting a sweep's runs to Dask distributed and streaming their outcomes back.

With no scheduler address a `LocalCluster` of this machine's cores is started (one
process per core, one thread each: a run is pure Python and holds the GIL), bound to
127.0.0.1 with no dashboard; with `--scheduler tcp://host:8786` the sweep goes to an
existing cluster, whose workers need only `pip install pkilab`.

Every run is one task. Outcomes are handed to the caller as they finish, in whatever
order (`as_completed`), each exactly once:

- A worker that dies loses the runs it was executing; the scheduler gives them to
  another worker (up to `distributed.scheduler.allowed-failures` times, then the run is
  recorded as an `error` naming the dead workers). `retries=` also reruns a task whose
  Python call raised, which `run_task` never does on purpose; it is there for what it
  cannot catch (a worker out of memory while unpickling, say).
- The client keeps the (path, variant, seed) of every outcome it reported and drops a
  second one, should a rerun of a run whose first result was already in flight ever
  deliver twice.
- Ctrl-C (KeyboardInterrupt) cancels every run not yet finished and returns; what had
  finished has been reported.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from dask.distributed import Client, Future, LocalCluster, as_completed

from sim.sweep.tasks import ERROR, RunOutcome, RunTask, plain_replay, run_task

RETRIES = 2
"""Reruns of a task whose call raised (see the module doc)."""


@dataclass
class Cluster:
    """A connected client and, for a LocalCluster, the cluster it owns."""

    client: Client
    local: LocalCluster | None
    description: str

    def close(self) -> None:
        self.client.close()
        if self.local is not None:
            self.local.close()


def connect(scheduler: str | None, workers: int | None = None, timeout: float = 30.0
            ) -> Cluster:
    """A client of `scheduler`, or of a new LocalCluster of `workers` processes (default:
    this machine's cores) on 127.0.0.1. Raises OSError if the scheduler cannot be
    reached within `timeout` seconds."""
    if scheduler is not None:
        client = Client(scheduler, timeout=timeout, set_as_default=False)
        count = len(client.scheduler_info(n_workers=-1).get("workers", {}))
        return Cluster(client, None, f"scheduler {scheduler} ({count} workers)")
    count = workers or os.cpu_count() or 1
    with _workers_ignore_ctrl_c():
        # No dashboard; the scheduler's small HTTP server (health, metrics) is still
        # started, on 0.0.0.0:8787 unless told otherwise: it gets a port on 127.0.0.1.
        local = LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                             host="127.0.0.1", dashboard_address=None,
                             scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                             silence_logs=logging.CRITICAL)
    client = Client(local, set_as_default=False)
    return Cluster(client, local, f"LocalCluster of {count} worker processes on 127.0.0.1")


@contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start worker processes with SIGINT ignored (a process started with a signal
    ignored keeps it ignored, Python included).

    Ctrl-C in a terminal reaches every process of the foreground group: the workers would
    die mid-run, each printing a traceback, while the sweep cancels its runs and closes
    the cluster in order. Only the sweep itself should hear it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_all(cluster: Cluster, tasks: Iterable[RunTask],
            report: Callable[[RunOutcome], None]) -> bool:
    """Run every task on the cluster and `report` each outcome once as it finishes.

    Returns True when the sweep was interrupted (Ctrl-C): the unfinished runs were
    cancelled and never reported."""
    client = cluster.client
    submitted: dict[object, RunTask] = {}
    futures: list[Future] = []
    for task in tasks:
        # pure=False: two equal tasks are two runs (and a key of our own naming a run
        # would clash when a sweep names a run twice); the scheduler picks the key.
        future = client.submit(run_task, task, pure=False, retries=RETRIES)
        submitted[future.key] = task
        futures.append(future)
    seen: set[tuple[str, str, int]] = set()
    pending = as_completed(futures, loop=client.loop)
    try:
        for future in pending:
            outcome = _outcome_of(future, submitted[future.key])
            if outcome.key not in seen:
                seen.add(outcome.key)
                report(outcome)
            future.release()
    except KeyboardInterrupt:
        unfinished = [future for future in futures if not future.done()]
        client.cancel(unfinished)
        return True
    return False


def _outcome_of(future: Future, task: RunTask) -> RunOutcome:
    """The task's outcome, or an `error` outcome when the cluster could not run it (its
    workers kept dying, or the call raised on every try)."""
    try:
        outcome = future.result()
    except Exception as error:  # noqa: BLE001 - any cluster failure is that run's error
        return RunOutcome(task.path, "", task.variant, task.seed, ERROR, plain_replay(task),
                          error=f"{type(error).__name__}: {error}")
    if not isinstance(outcome, RunOutcome):
        return RunOutcome(task.path, "", task.variant, task.seed, ERROR, plain_replay(task),
                          error=f"the worker returned {type(outcome).__name__}")
    return outcome
