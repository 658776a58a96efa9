"""A quiet terminal: C++ log lines of the numerical libraries kept off stderr unless ``TUNING_DEBUG=1``.

TensorFlow (and XLA under it) writes glog-format lines straight to file
descriptor 2 from C++ - at import (``oneDNN custom operations are on``,
``Could not find cuda drivers``), and during training (``NodeDef mentions
attribute use_unbounded_threadpool``) - whatever ``TF_CPP_MIN_LOG_LEVEL``
says.  Python cannot silence them at the source, so while a command runs its
stderr goes through a pipe and a thread forwards every line except those.
Our own lines (progress, the one-line errors) pass untouched.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator

# glog's prefix: severity letter, MMDD, time, thread id, file:line]  (e.g. "E0000 00:00:1795999527.19  2651 x.cc:52] ...")
NOISE = re.compile(rb"^([IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\]|WARNING: All log messages before absl::)")


def debugging() -> bool:
    return bool(os.environ.get("TUNING_DEBUG"))


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
