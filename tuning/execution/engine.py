"""Whole runs spread over workers: one after another in this process, or on Dask distributed.

One task per (problem, budget, strategy, seed, mode), live or replayed: the
one path every run takes (the bench, ``tuning replay``).  Wherever it runs,
``run_remote`` resolves it, limits compute to the threads it was given and
returns the result *document* with where and how long it ran; a live run
opens its work folder and continues from the folder's last checkpoint, a
replay (``tuning.execution.simulate``) answers from the budget's table in
seconds and needs no folder.  The submitting side (``deliver``) writes the
result file atomically (unless the engine was asked not to: ``tuning
replay`` writes one runs file of them all) and then removes the work
folder, so workers need no shared disk.

The work folder is the path the submitting side would use (absolute) where
the worker can create it (the same machine, or a shared disk), else a
folder of the same name under the worker's temporary directory: a run
rescheduled onto a host that has its folder continues from it, anywhere
else it starts over, with the same trials and accuracies either way.

Dask (``DaskEngine``): a local cluster of single-threaded worker processes
bound to 127.0.0.1, or an existing scheduler (``tls://`` with the
certificates of ``distributed.security.Security``, read from Dask's
configuration).  A worker lost mid-run is Dask's business: it reschedules
the task, up to its ``distributed.scheduler.allowed-failures`` (3 by
default); a task that raises is retried ``RETRIES`` times; a run that keeps
failing is reported as ``RunFailed`` with one line naming it and its last
error.  Errors that a retry cannot cure (bad input, every trial failing)
come back as documents, not exceptions, so they are not retried.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tuning import problems
from tuning.core.errors import RunError, UsageError
from tuning.core.records import RecordError, RunResult
from tuning.execution import workdir
from tuning.execution.loop import last_line
from tuning.execution.runner import resolve, resumable
from tuning.execution.simulate import replay_run
from tuning.objectives.live import backend
from tuning.results import replay_dir, result_name, result_path, write_result

RETRIES = 2  # re-runs of a task that raised (a worker that died is rescheduled by Dask itself)
WORKER_THREADS = 1  # compute threads per worker: one run at a time, one core each
SCHEDULER_TIMEOUT = "30s"  # how long to try reaching an existing scheduler
MODES = ("live", "replay")


@dataclass(frozen=True)
class RunSpec:
    """One (problem, budget, strategy, seed, mode): a task.  ``problem`` is a registered name or a user's module
    (a file by its absolute path, so that a worker on this host finds it); ``mode`` is ``live`` (train) or
    ``replay`` (answer from the replay table under ``table_root``, absolute; empty: the problem's own tables,
    ``record.default_tables``)."""

    strategy: str
    budget: str
    seed: int
    problem: str = problems.DEFAULT
    mode: str = "live"
    table_root: str = ""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise UsageError(f"unknown mode {self.mode!r}; choose from {', '.join(MODES)}")

    @property
    def label(self) -> str:
        where = "" if self.problem == problems.DEFAULT else f" {self.problem_name}"
        mode = " (replay)" if self.mode == "replay" else ""
        return f"{self.strategy} seed {self.seed} {self.budget}{where}{mode}"

    @property
    def problem_name(self) -> str:
        """The name the problem's results are filed under."""
        return problems.get(self.problem).name

    @property
    def key(self) -> str:
        """Dask's name for the task (unique per bench: resubmitting the same run is one task)."""
        return f"tuning-{self.mode}-{self.problem}-{self.budget}-{self.strategy}-seed{self.seed}"


@dataclass(frozen=True)
class Outcome:
    """A finished run, written: its file, its result, and where and how long it ran."""

    spec: RunSpec
    path: Path | None  # None where the engine writes no file (``tuning replay``: one runs file of them all)
    result: RunResult
    seconds: float  # the task's own wall-clock on its worker (set-up included, queueing excluded)
    host: str
    worker: str
    device: dict[str, Any]


class RunFailed(Exception):
    """A run that failed for good; the message is one line naming it and its last error."""


def local_work_path(spec: RunSpec, results_dir: Path) -> Path:
    """The work folder the submitting side would use, if this machine can create it, else one in its temp dir."""
    path = workdir.work_path(Path(results_dir), spec.problem_name, spec.budget, spec.strategy, spec.seed)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if os.access(path.parent, os.W_OK):
            return path
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / "tuning-work" / spec.problem_name / spec.budget / path.name


def run_remote(spec: RunSpec, results_dir: str, fresh: bool = False, threads: int | None = None) -> dict[str, Any]:
    """Run ``spec`` where this is called (a Dask worker, or this process) and return a document:
    ``result`` (the result's JSON), ``seconds``, ``host``, ``worker``, ``device``, ``work`` (its folder, None for
    a replay); or ``error``, one line, for a failure that a retry would repeat."""
    started = time.perf_counter()
    if threads:
        prepare_worker(threads)
    work: workdir.WorkFolder | None = None
    try:
        strategy, budget = resolve(spec.strategy, spec.budget, spec.seed, spec.problem)
        if spec.mode == "replay":
            result = replay_run(
                strategy.name, budget, spec.seed, Path(spec.table_root) if spec.table_root else None, spec.problem
            )
        else:
            folder = local_work_path(spec, Path(results_dir))
            with resumable(strategy, budget, spec.seed, folder, fresh, problem=spec.problem) as (result, work):
                pass  # the folder stays until the submitting side has written the result file
    except (UsageError, RunError) as e:
        return {"error": str(e)}
    return {
        "result": result.to_json(),
        "seconds": time.perf_counter() - started,
        "host": socket.gethostname(),
        "worker": _worker_address(),
        "device": backend.device(),
        "work": str(work.path) if work is not None else None,
    }


def prepare_worker(threads: int = WORKER_THREADS) -> None:
    """Before a worker's first computation: ``threads`` compute threads, and the C allocator as a plain process
    has it.

    A Dask nanny starts its worker with ``MALLOC_TRIM_THRESHOLD_=65536``
    (``distributed.nanny.pre-spawn-environ``, to hand memory back to the OS).
    Setting it freezes glibc's mmap threshold at 128 KiB, so every buffer of a
    training step above that (a 448x784 float32 kernel is 1.4 MB) is a fresh
    ``mmap`` and page faults: measured here (1x448 / 5x512 at batch 32, JAX, one
    thread) 28.7k / 6.4k samples/s with it against 94.5k / 21.3k without, and
    84.9k / 19.8k with it once the thresholds are raised to glibc's own dynamic
    maxima.  Local clusters do not set it (``connect``); a worker started with
    ``dask worker`` gets it undone here.
    """
    backend.limit_threads(threads)
    if "MALLOC_TRIM_THRESHOLD_" in os.environ:
        with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to undo
            import ctypes

            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(M_MMAP_THRESHOLD, 32 * 2**20)
            libc.mallopt(M_TRIM_THRESHOLD, 64 * 2**20)


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):  # not on a Dask worker
        return "local"


def deliver(spec: RunSpec, document: dict[str, Any], results_dir: Path, write: bool = True) -> Outcome:
    """Write a run's result document to its file (atomically; a replay's under ``replay/``) unless ``write`` is
    false, and remove its work folder here."""
    if "error" in document:
        raise RunFailed(f"run {spec.label} failed: {document['error']}")
    try:
        result = RunResult.from_json(document["result"])
    except RecordError as e:
        raise RunFailed(f"run {spec.label} returned a bad result: {e}") from None
    path = None
    if write:
        path = write_result(target_path(results_dir, spec), result)
    if document["work"]:
        workdir.discard(Path(document["work"]))
    return Outcome(spec, path, result, document["seconds"], document["host"], document["worker"], document["device"])


def target_path(results_dir: Path, spec: RunSpec) -> Path:
    """Where ``spec``'s result file goes: ``<results_dir>/<problem>/<budget>/``, a replay's under ``replay/``."""
    if spec.mode == "replay":
        return replay_dir(results_dir, spec.problem_name, spec.budget) / result_name(spec.strategy, spec.seed)
    return result_path(results_dir, spec.problem_name, spec.budget, spec.strategy, spec.seed)


class Engine(Protocol):
    """Runs whole runs: ``submit`` them all, then ``outcome`` each (in any order)."""

    def submit(self, specs: Iterable[RunSpec]) -> None: ...

    def outcome(self, spec: RunSpec, timeout: float | None = None) -> Outcome: ...

    def close(self) -> None: ...


class SerialEngine:
    """Each run in this process, when its outcome is asked for (progress lines appear as it trains)."""

    def __init__(self, results_dir: Path, fresh: bool = False, threads: int | None = None, write: bool = True) -> None:
        self.results_dir = Path(results_dir)
        self.fresh = fresh
        self.threads = threads
        self.write = write

    def submit(self, specs: Iterable[RunSpec]) -> None:
        """Nothing to do ahead: each run happens when its outcome is asked for."""

    def outcome(self, spec: RunSpec, timeout: float | None = None) -> Outcome:
        """Run ``spec`` now (``timeout`` does not apply: a run in this process is not interrupted)."""
        document = run_remote(spec, str(self.results_dir.resolve()), self.fresh, self.threads)
        return deliver(spec, document, self.results_dir, self.write)

    def close(self) -> None:
        pass


class DaskEngine:
    """Runs on Dask distributed: ``workers`` local single-threaded processes on 127.0.0.1, or the
    cluster behind ``scheduler`` (``tcp://`` or ``tls://HOST:PORT``; TLS settings from Dask's config)."""

    def __init__(
        self,
        results_dir: Path,
        workers: int | None = None,
        scheduler: str | None = None,
        fresh: bool = False,
        retries: int = RETRIES,
        write: bool = True,
    ) -> None:
        self.results_dir = Path(results_dir)
        self.fresh = fresh
        self.write = write
        self.retries = retries
        self.futures: dict[RunSpec, Any] = {}
        self.queue: list[RunSpec] = []
        self.client, self.cluster = connect(workers or 1, scheduler)

    def submit(self, specs: Iterable[RunSpec]) -> None:
        """Queue ``specs``; as many run at once as the cluster has worker threads."""
        self.queue += [s for s in specs if s not in self.futures and s not in self.queue]
        self._top_up()

    def _start(self, spec: RunSpec) -> None:
        target = str(self.results_dir.resolve())
        self.futures[spec] = self.client.submit(
            run_remote, spec, target, self.fresh, WORKER_THREADS, key=spec.key, retries=self.retries, pure=False
        )

    def _top_up(self) -> None:
        """Hand queued runs to the scheduler while worker threads are free.  Dask assigns a task to a
        worker when it is submitted (a handful of long tasks is not queued on the scheduler), so
        submitting every run at once can leave one worker with a queue and another idle."""
        slots = max(1, sum(self.client.nthreads().values()))
        running = sum(1 for f in self.futures.values() if not f.done())
        while self.queue and running < slots:
            self._start(self.queue.pop(0))
            running += 1

    def outcome(self, spec: RunSpec, timeout: float | None = None) -> Outcome:
        """Wait (at most ``timeout`` s) for ``spec``'s run, starting queued runs as others end; write its
        file; ``RunFailed`` if it failed for good."""
        from distributed import wait

        if spec not in self.futures:  # asked for out of order: start it now
            self.queue.remove(spec)
            self._start(spec)
        future = self.futures[spec]
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not future.done():
                self._top_up()
                running = [f for f in self.futures.values() if not f.done()]
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                wait(running, timeout=left, return_when="FIRST_COMPLETED")
            self._top_up()
            document = future.result()
        except Exception as e:  # the task's own error after its retries, KilledWorker, or the timeout
            raise RunFailed(f"run {spec.label} failed: {_failure(e, self.retries)}") from None
        outcome = deliver(spec, document, self.results_dir, self.write)
        if document["work"]:
            with contextlib.suppress(Exception):  # the worker's own copy, where it has no shared disk
                self.client.run(workdir.discard, document["work"], workers=[document["worker"]], on_error="ignore")
        return outcome

    def workers(self) -> dict[str, int]:
        """Worker address -> its process id (the loopback test kills one)."""
        return self.client.run(os.getpid)

    def close(self) -> None:
        self.queue.clear()
        for future in self.futures.values():
            future.cancel()
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _failure(error: BaseException, retries: int) -> str:
    """One line: why a task failed for good."""
    text = str(error).strip()
    if type(error).__name__ == "KilledWorker":  # "Attempted to run task ... on N different workers, but ..."
        return f"every worker that ran it died ({text.split('. ')[0]})"
    return f"{type(error).__name__}: {last_line(text)} (after {retries + 1} tries)"


def connect(workers: int, scheduler: str | None = None) -> tuple[Any, Any]:
    """(client, cluster): a client of ``scheduler`` (cluster None), or of a new local cluster of ``workers``
    single-threaded worker processes that listens on 127.0.0.1 only."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout=SCHEDULER_TIMEOUT), None
        except (OSError, ValueError, TypeError) as e:  # unreachable, refused, or not an address
            raise UsageError(
                f"cannot use the Dask scheduler {scheduler!r} ({last_line(str(e))}); start one with "
                "'dask scheduler' (README: Scaling out) or leave out --scheduler"
            ) from None
    # No MALLOC_TRIM_THRESHOLD_ for the workers (see prepare_worker), nor in this process's environment,
    # which a nanny updates with it before spawning (and which the side-by-side example's process inherits).
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",  # never reachable from another machine: a scheduler runs any code sent to it
            dashboard_address=None,
        )
    return Client(cluster), cluster


def make_engine(
    results_dir: Path, workers: int = 1, scheduler: str | None = None, fresh: bool = False, write: bool = True
) -> SerialEngine | DaskEngine:
    """Serial for one local worker, Dask otherwise; ``write=False``: no result file per run."""
    if scheduler or workers > 1:
        return DaskEngine(results_dir, workers=workers, scheduler=scheduler, fresh=fresh, write=write)
    return SerialEngine(results_dir, fresh=fresh, write=write)
