"""`tt-plan-memory`: plan arena offsets for buffers listed in a CSV file.

Each row is `id,lower,upper,size`: a buffer of `size` bytes live during the steps lower..upper
(inclusive). A first row naming exactly these columns is a header and is skipped; blank lines and
text from `#` to the end of a line are ignored. The planner (passes/memory/planner.py) assigns
each buffer an offset so that buffers live at a common step never overlap; the output lists them
with the arena peak, the lower bound (the largest total live at one step) and their ratio.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from passes.memory.planner import Buffer, Plan, aligned_size, plan_memory
from ttdialect.errors import TTError

PROG = "tt-plan-memory"
COLUMNS = ("id", "lower", "upper", "size")
INTEGER = re.compile(r"[+-]?[0-9]+")


class InputError(TTError):
    """Bad input, reported as `tt-plan-memory: error: <message>`."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Assign arena offsets to buffers with known lifetimes (a static memory plan).",
        epilog="Input rows: id,lower,upper,size (live steps lower..upper inclusive, size in bytes). "
        "An 'id,lower,upper,size' header row is optional; blank lines and '#' comments are ignored.",
    )
    parser.add_argument("file", metavar="FILE.csv", help="buffer list ('-' reads standard input)")
    parser.add_argument(
        "--alignment", type=int, default=16, metavar="N", help="offset and size alignment, bytes (default 16)"
    )
    parser.add_argument(
        "--time-budget",
        type=float,
        default=2.0,
        metavar="S",
        help="seconds the planner may spend improving on its greedy plan (default 2)",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    return parser


def read_text(file: str) -> tuple[str, str]:
    """(display name, contents) of FILE, or of standard input for '-'."""
    if file == "-":
        return "<stdin>", sys.stdin.read()
    try:
        return file, Path(file).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{file}: not a UTF-8 text file ({error.reason})") from error
    except OSError as error:
        raise InputError(f"{file}: {error.strerror or error}") from error


def _integer(name: str, text: str, where: str) -> int:
    if not INTEGER.fullmatch(text):
        raise InputError(f"{where}: {name} {text!r} is not an integer")
    return int(text)


def parse_row(fields: list[str], where: str) -> Buffer:
    """The buffer of one row's fields; `where` is `FILE:LINE` for messages."""
    if len(fields) != len(COLUMNS):
        raise InputError(f"{where}: expected 4 fields id,lower,upper,size, got {len(fields)}")
    name, lower, upper, size = fields
    if not name:
        raise InputError(f"{where}: empty buffer id")
    first, last = _integer("lower", lower, where), _integer("upper", upper, where)
    nbytes = _integer("size", size, where)
    if nbytes <= 0:
        raise InputError(f"{where}: size must be positive, got {nbytes}")
    if first > last:
        raise InputError(f"{where}: lower {first} is after upper {last}")
    return Buffer(name, nbytes, first, last)


def parse_buffers(name: str, text: str) -> list[Buffer]:
    """The buffers of a CSV text; InputError names the file and line of the first bad row."""
    buffers: list[Buffer] = []
    line_of: dict[str, int] = {}
    first_row = True
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        fields = [field.strip() for field in content.split(",")]
        if first_row and tuple(fields) == COLUMNS:
            first_row = False
            continue
        first_row = False
        buffer = parse_row(fields, f"{name}:{number}")
        if buffer.id in line_of:
            first = line_of[buffer.id]
            raise InputError(f"{name}:{number}: duplicate id {buffer.id!r} (first on line {first})")
        line_of[buffer.id] = number
        buffers.append(buffer)
    return buffers


def format_text(buffers: Sequence[Buffer], plan: Plan) -> str:
    lines = [f"{b.id} {plan.offsets[b.id]} {b.size} {b.first} {b.last}" for b in buffers]
    lines.append(f"peak: {plan.peak} bytes")
    lines.append(f"lower bound: {plan.lower_bound} bytes")
    lines.append(f"slack: {plan.slack:.3f}")
    return "\n".join(lines)


def format_json(buffers: Sequence[Buffer], plan: Plan) -> str:
    rows = [
        {
            "id": b.id,
            "offset": plan.offsets[b.id],
            "size": b.size,
            "aligned_size": aligned_size(b.size, plan.alignment),
            "lower": b.first,
            "upper": b.last,
        }
        for b in buffers
    ]
    document = {
        "buffers": rows,
        "peak": plan.peak,
        "lower_bound": plan.lower_bound,
        "slack": round(plan.slack, 6),
        "alignment": plan.alignment,
        "method": plan.method,
    }
    return json.dumps(document, indent=2)


def run(args: argparse.Namespace) -> str:
    """The report for parsed arguments; raises InputError on bad input."""
    name, text = read_text(args.file)
    buffers = parse_buffers(name, text)
    try:
        plan = plan_memory(buffers, alignment=args.alignment, time_budget_s=args.time_budget)
    except ValueError as error:
        raise InputError(f"{name}: {error}") from error
    return format_json(buffers, plan) if args.format == "json" else format_text(buffers, plan)


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.alignment < 1:
        parser.error(f"argument --alignment: must be a positive integer, got {args.alignment}")
    if not args.time_budget >= 0:
        parser.error(f"argument --time-budget: must be a non-negative number, got {args.time_budget}")
    try:
        print(run(args))
    except InputError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
