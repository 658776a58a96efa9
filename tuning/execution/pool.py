"""Spreading independent jobs (recordings, replays) over worker processes, behind one function.

``map_runs`` is the seam: today a process pool (``spawn``, so no worker
inherits a half-initialised TensorFlow from its parent), later possibly
the bench's Dask engine.  Callers only say what to run on how many workers,
and when to stop starting new jobs; results come back as jobs finish.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def always() -> bool:
    return True


def map_runs(
    fn: Callable[[T], R], tasks: Iterable[T], workers: int = 1, keep_going: Callable[[], bool] = always
) -> Iterator[tuple[T, R]]:
    """(task, fn(task)) for each task, in the order they finish; at most ``workers`` at a time.

    Once ``keep_going()`` is false no new task starts; those already running
    finish and are yielded.  With one worker everything runs in this process,
    in order.  ``fn`` and the tasks must pickle (a module-level function, or a
    ``functools.partial`` of one).  A task that raises stops the whole map
    with its exception, after the running ones finish.
    """
    pending = iter(tasks)
    if workers <= 1:
        for task in pending:
            if not keep_going():
                return
            yield task, fn(task)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        running: dict[Future[R], T] = {}

        def submit() -> None:
            while len(running) < workers and keep_going():
                task = next(pending, None)
                if task is None:
                    return
                running[pool.submit(fn, task)] = task

        submit()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                task = running.pop(future)
                yield task, future.result()
            submit()
