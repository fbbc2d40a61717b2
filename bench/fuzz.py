"""The mutation fuzzer at scale: many seeded cases per tool (tests/fuzzing.py; the test suite
runs a bounded slice). Prints a table per tool (cases, accepted, refused, tracebacks, hangs,
signals, wrong statuses, bad input accepted, leftovers) and writes the `fuzz` section of
docs/benchmarks.md; failing cases are kept in build/fuzz-failures/ to replay by hand.

Usage: python -m bench.fuzz [--per-tool N] [--searches N] [--seed S]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from bench.report import machine, markdown_table, write_section

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from fuzzing import Outcome, fuzz, keep  # noqa: E402

KINDS = ("traceback", "internal error", "hang", "signal", "exit status", "exit 0 without", "left behind")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-tool", type=int, default=400, help="cases per tool (default 400)")
    parser.add_argument(
        "--searches", type=int, default=60, help="cases of tt-search-scheme, each a tiny search (default 60)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="fuzzer seed (default 2026)")
    args = parser.parse_args()
    start = time.perf_counter()
    counts: dict[str, Counter[str]] = {}
    failed: list[Outcome] = []

    def record(outcome: Outcome) -> None:
        count = counts.setdefault(outcome.case.generator, Counter())
        count["cases"] += 1
        count["accepted" if outcome.status == 0 else "refused"] += 1
        for failure in outcome.failures():
            count[next(kind for kind in KINDS if failure.startswith(kind))] += 1
        if outcome.failures():
            failed.append(outcome)
            case = outcome.case
            print(f"FAIL {case.tool} {case.argv} [{case.mutation}]: {outcome.failures()}")
        if count["cases"] % 50 == 0:
            print(f"  {outcome.case.tool}: {count['cases']} cases", flush=True)

    fuzz(args.seed, args.per_tool, record, per_generator={"tt-search-scheme": args.searches})
    for outcome in failed:
        keep(outcome, REPO / "build" / "fuzz-failures")
    headers = ["tool", "cases", "accepted (valid output)", "refused (status 1/2)", *KINDS]
    rows = [
        [tool, *(str(c[k]) for k in ("cases", "accepted", "refused", *KINDS))] for tool, c in counts.items()
    ]
    table = markdown_table([h.replace("exit 0 without", "bad input accepted") for h in headers], rows)
    print(table)
    seconds = time.perf_counter() - start
    write_section(
        "fuzz",
        "\n".join(
            [
                "## Fuzzing the tools (bench/fuzz.py)",
                "",
                f"Machine: {machine()}; seed {args.seed}, {args.per_tool} cases per generator",
                f"({args.searches} for tt-search-scheme, whose cases are small searches), {seconds:.0f} s.",
                "Seeded mutations of valid inputs (tests/fuzzing.py): bytes, lines, tokens, numbers, shapes,",
                "attributes and scales of IR; npz keys, shapes, dtypes and bytes; JSON schemes; CSV buffer",
                "lists; zoo model files; option values. A case fails on a traceback or internal error, a",
                "hang (30 s; 300 s for a search), a signal, a status other than 0/1/2, exit 0 without",
                "valid outputs, or a refusal that leaves files behind. The test suite runs 30 cases per",
                "tool (tests/test_fuzz.py).",
                "",
                table,
            ]
        ),
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
