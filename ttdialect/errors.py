"""The tt error family: every problem tt reports to a user is a TTError whose message names the
file, line and op where it can. Tools print it as one line (exit status 1); the Python API
raises it. Each layer subclasses it for its own errors (WeightsError, NumericsError,
SchemeError, LoweringError, BuildError, ...), so `except TTError` catches them all."""

from __future__ import annotations


class TTError(Exception):
    """A user-facing error: printed as its message, never as a traceback."""
