"""Compile-time figures for the three zoo models: import, print and re-parse, the training passes.

Prints a table and writes the `compile_time` section of docs/benchmarks.md. Wall-clock seconds,
median of 3 runs, measured in-process (no interpreter start-up).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.report import machine, markdown_table, write_section
from passes.autodiff import AutodiffPass
from passes.qas import QASPass
from passes.sparse_update import SparseUpdatePass
from ttdialect.importers.tiny_training import ZOO_NAMES, HeadChoice, default_zoo_dir, import_zoo
from ttdialect.ir_io import load_module, make_context, module_text, parse_text
from ttdialect.weights import set_ir_directory

PRESET = {"mbv2-w0.35": "138kb", "proxyless-w0.3": "148kb", "mcunet-5fps": "99kb"}


def median_seconds(action: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(name: str, folder: Path) -> list[str]:
    path = folder / f"{name}.mlir"
    t_import = median_seconds(lambda: import_zoo(name, path, head=HeadChoice(10)))
    module = load_module(path)
    text = module_text(module)
    t_print = median_seconds(lambda: module_text(module))
    t_parse = median_seconds(lambda: parse_text(make_context(), text, str(path)).verify())
    set_ir_directory(folder)
    scheme = f"{name}/{PRESET[name]}"

    def pipeline() -> None:
        fresh = parse_text(make_context(), text, str(path))
        ctx = make_context()
        for compiler_pass in (AutodiffPass(), SparseUpdatePass(scheme=scheme), QASPass()):
            compiler_pass.apply(ctx, fresh)
        fresh.verify()

    t_pipeline = median_seconds(pipeline)
    return [
        name,
        f"{len(text) / 1024:.0f} KB",
        f"{t_import:.2f}",
        f"{t_print:.2f}",
        f"{t_parse:.2f}",
        scheme,
        f"{t_pipeline:.2f}",
    ]


def main() -> None:
    if not default_zoo_dir().is_dir():
        sys.exit(f"compile_time: zoo folder {default_zoo_dir()} not found")
    headers = [
        "model", "IR text", "import (s)", "print (s)", "parse+verify (s)",
        "scheme", "autodiff+sparse+qas (s)",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(name, Path(tmp)) for name in ZOO_NAMES]
    table = markdown_table(headers, rows)
    print(table)
    write_section(
        "compile_time",
        "## Compile time (bench/compile_time.py)\n\n"
        f"Machine: {machine()}. Median of 3 in-process runs, 10-class head.\n\n{table}\n",
    )


if __name__ == "__main__":
    main()
