"""Execution: the budgeted search loop (``loop``), one run from arguments to result (``runner``),
and where a result came from (``provenance``).  Engines that spread runs over workers belong here."""
