"""Command-line value types shared by the tools (argparse `type=` functions: a bad value is a
usage error, exit status 2, with a message saying what was expected)."""

from __future__ import annotations

import argparse


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def positive_int(text: str) -> int:
    """A count of at least 1."""
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """A whole number of at least 0 (a seed)."""
    value = whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def learning_rate(text: str) -> float:
    """A learning rate: a finite number in (0, 1e4] (the generated C refuses larger ones)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 < value <= 1e4:
        raise argparse.ArgumentTypeError(f"must be in (0, 1e4], got {text}")
    return value
