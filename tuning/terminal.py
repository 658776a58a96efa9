"""A quiet terminal: C++ log lines and Python warnings of the numerical libraries kept off stderr unless
``TUNING_DEBUG=1``.

TensorFlow (and XLA under it) writes glog-format lines straight to file
descriptor 2 from C++ - at import (``oneDNN custom operations are on``,
``Could not find cuda drivers``), and during training (``NodeDef mentions
attribute use_unbounded_threadpool``) - whatever ``TF_CPP_MIN_LOG_LEVEL``
says.  Python cannot silence them at the source, so while a command runs its
stderr goes through a pipe and a thread forwards every line except those.
Our own lines (progress, the one-line errors) pass untouched.

Python warnings that the libraries raise during a run (scikit-learn's
``ConvergenceWarning`` from Keras Tuner's Gaussian process, a dozen per
standard Bayesian bench) are nothing a user of the suite can act on: a run
counts them and says so in one line at its end (``counted_warnings``); our
own warnings still show as they happen.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

# glog's prefix: severity letter, MMDD, time, thread id, file:line]  (e.g. "E0000 00:00:1795999527.19  2651 x.cc:52] ...")
NOISE = re.compile(rb"^([IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\]|WARNING: All log messages before absl::)")


_OURS = str(Path(__file__).resolve().parent)


def debugging() -> bool:
    return bool(os.environ.get("TUNING_DEBUG"))


@contextlib.contextmanager
def counted_warnings(say: Callable[[str], None]) -> Iterator[Counter[str]]:
    """Hold back the libraries' Python warnings for the duration; then ``say`` one line counting them by kind
    (none when there were none).  Warnings raised by the suite's own code are shown as usual; with
    ``TUNING_DEBUG=1`` everything is.  Not thread-safe (``warnings.catch_warnings``): a run owns its process."""
    counts: Counter[str] = Counter()
    if debugging():
        yield counts
        return
    with warnings.catch_warnings(record=True) as caught:  # the filters in force still apply (ignored stay so)
        try:
            yield counts
        finally:
            held = list(caught)
    for w in held:
        if str(Path(w.filename).resolve()).startswith(_OURS):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)  # as if never held back
        else:
            counts[f"{w.category.__module__.split('.')[0]} {w.category.__name__}"] += 1
    if counts:
        kinds = ", ".join(f"{kind} x{n}" for kind, n in counts.most_common())
        say(f"{counts.total()} library warning(s) not shown ({kinds}); TUNING_DEBUG=1 shows them")


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Filter the C++ libraries' log lines out of file descriptor 2 for the duration (no-op when debugging)."""
    if debugging():
        yield
        return
    sys.stderr.flush()
    original = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def forward() -> None:
        with os.fdopen(read_end, "rb", buffering=0) as source:
            for line in source:
                if not NOISE.match(line):
                    os.write(original, line)

    pump = threading.Thread(target=forward, name="tuning-stderr-filter", daemon=True)
    pump.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(original, 2)  # the pipe's last writer closes: the thread sees the end and returns
        pump.join(timeout=10)
        os.close(original)
