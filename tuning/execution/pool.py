"""Spreading a replay table's recordings over workers, on the bench's Dask cluster.

Recordings are trainings of one configuration with one seed, not runs, so
they do not go through the engine (``tuning.execution.engine``), which every
run, live or replayed, takes; they share its cluster (``connect``) and its
per-worker thread limit.

``map_runs`` is the seam: with one worker and no scheduler everything runs
in this process, in order; otherwise on Dask distributed, exactly as the
bench's runs (``tuning.execution.engine.connect``): a local cluster of
single-threaded worker processes on 127.0.0.1, or an existing scheduler.
Each job is limited to one compute thread on its worker.  Callers only say
what to run on how many workers, and when to stop starting new jobs;
results come back as jobs finish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def always() -> bool:
    return True


def _one_thread(fn: Callable[[T], R], task: T) -> R:
    """``fn(task)`` on a worker, with the compute threads the bench's runs get."""
    from tuning.execution.engine import prepare_worker

    prepare_worker()
    return fn(task)


def map_runs(
    fn: Callable[[T], R],
    tasks: Iterable[T],
    workers: int = 1,
    keep_going: Callable[[], bool] = always,
    scheduler: str | None = None,
) -> Iterator[tuple[T, R]]:
    """(task, fn(task)) for each task, in the order they finish; at most as many at a time as there are
    worker threads.

    Once ``keep_going()`` is false no new task starts; those already running
    finish and are yielded.  With one worker and no ``scheduler`` everything
    runs in this process, in order.  ``fn`` and the tasks must pickle (a
    module-level function, or a ``functools.partial`` of one).  A task that
    raises stops the whole map with its exception (Dask does not retry it: a
    recording or a replay that raised would raise again).
    """
    pending = iter(tasks)
    if workers <= 1 and not scheduler:
        for task in pending:
            if not keep_going():
                return
            yield task, fn(task)
        return
    from distributed import as_completed

    from tuning.execution.engine import connect

    client, cluster = connect(workers, scheduler)
    try:
        slots = max(1, sum(client.nthreads().values()))
        running: dict[Any, T] = {}
        finished = as_completed()

        def submit() -> None:  # a task is assigned to a worker when submitted: keep one per free thread
            while len(running) < slots and keep_going():
                task = next(pending, None)
                if task is None:
                    return
                future = client.submit(_one_thread, fn, task, pure=False)
                running[future] = task
                finished.add(future)

        submit()
        for future in finished:
            task = running.pop(future)
            yield task, future.result()
            submit()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
