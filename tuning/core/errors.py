"""The two ways a command fails: bad input (exit 2) and failure at run time (exit 1)."""


class UsageError(Exception):
    """Bad input: an unknown name, a bad number, an unusable path or dataset. Exit status 2."""


class RunError(Exception):
    """The run itself failed (for instance no trial completed). Exit status 1."""


def last_line(message: str | None) -> str:
    """The last non-empty line of an error's message (a traceback's or a library's: the line that says what)."""
    lines = [line for line in (message or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
