"""The two ways a command fails: bad input (exit 2) and failure at run time (exit 1)."""


class UsageError(Exception):
    """Bad input: an unknown name, a bad number, an unusable path or dataset. Exit status 2."""


class RunError(Exception):
    """The run itself failed (for instance no trial completed). Exit status 1."""
