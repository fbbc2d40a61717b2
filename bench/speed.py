"""Instructions per training step on the emulated Cortex-M7, and the linked image's memory.

For each zoo model at 1x3x128x128, batch 1: the largest published preset and full update,
through tt-training-pipeline and the C emitter into a qemu-m7 project (RAM limit raised to
QEMU's 4 MB so that schemes over the 320 KB budget still run), built with arm-none-eabi-gcc -O2
and run for 2 steps in QEMU mps2-an500 with `-icount shift=0` (one instruction per virtual ns,
counted with SysTick: exact and deterministic). Also the bundled digits model (last-3).
Prints a table and writes the `speed` section of docs/benchmarks.md.

Usage: python -m bench.speed [--models NAME ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.report import machine, markdown_table, write_section
from lowering.app import Samples
from lowering.build import build_and_run
from lowering.c_model import emit_model
from lowering.projects import QEMU_RAM_KB, write_project
from passes import apply_pipeline
from passes.memory.report import memory_report
from ttdialect.bundled import copy_model
from ttdialect.importers.tiny_training import ZOO_NAMES, HeadChoice, default_zoo_dir, import_zoo
from ttdialect.ir_io import load_module
from ttdialect.tools.tt_compile import module_image_shape

LARGEST_PRESET = {
    "mbv2-w0.35": "mbv2-w0.35/138kb",
    "proxyless-w0.3": "proxyless-w0.3/148kb",
    "mcunet-5fps": "mcunet-5fps/148kb",
}
STEPS = 2


def measure(source: Path, scheme: str, work: Path) -> list[str]:
    module = load_module(source)
    apply_pipeline(module, f"tt-training-pipeline{{scheme={scheme} lr=0.01}}", source.parent)
    report = memory_report(module)
    model = emit_model(module, source.parent, "model")
    image_shape = module_image_shape(module)
    rng = np.random.default_rng(0)
    images = rng.integers(-128, 128, size=(2, *image_shape), dtype=np.int8)
    empty = np.zeros((0, *image_shape), dtype=np.int8)
    samples = Samples(images, np.array([1, 2], dtype=np.int32), empty, np.zeros(0, dtype=np.int32), STEPS)
    project = work / "qemu"
    write_project("qemu-m7", project, model, samples, images[0].size, {}, ram_kb=QEMU_RAM_KB)
    run = build_and_run(project, "qemu", steps=STEPS)
    kb = lambda n: f"{n / 1024:.1f}"  # noqa: E731
    return [
        f"{run.instructions_per_step / 1e6:.1f}",
        kb(report.arena_bytes),
        kb(report.total_sram_bytes),
        kb(run.linked["data"] + run.linked["bss"]),
        kb(run.linked["SRAM"]),
        kb(run.linked["flash"]),
        "yes" if run.linked["SRAM"] <= 320 * 1024 else "no",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=list(ZOO_NAMES), choices=ZOO_NAMES)
    args = parser.parse_args()
    headers = [
        "model",
        "scheme",
        "M instr/step",
        "arena KB (plan)",
        "total SRAM KB (plan)",
        "data+bss KB (linked)",
        "SRAM KB (linked, + stacks)",
        "flash KB (linked)",
        "fits 320 KB",
    ]
    rows = []
    start = time.perf_counter()
    cases = [("digits_cnn (bundled)", "last-3")]
    cases += [(name, scheme) for name in args.models for scheme in (LARGEST_PRESET[name], "full")]
    for name, scheme in cases:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            if name.startswith("digits_cnn"):
                source = copy_model(work)
            else:
                source = work / "model.mlir"
                import_zoo(name, source, default_zoo_dir(), HeadChoice(10))
            rows.append([name, scheme, *measure(source, scheme, work)])
        print(" | ".join(rows[-1]), flush=True)
    table = markdown_table(headers, rows)
    print(table)
    body = "\n".join(
        [
            "## speed: instructions per training step on the emulated Cortex-M7 (bench/speed.py)",
            "",
            "QEMU mps2-an500 (Cortex-M7, `-icount shift=0`: instructions counted exactly), code built with",
            "arm-none-eabi-gcc 12.2 -O2; 1x3x128x128 input (16x16x1 for the bundled model), batch 1;",
            "linked figures from the ELF's section bounds (main.c prints them), plan figures from the",
            "memory report (data+bss - plan = the runtime's own bytes). RAM limit raised to 4 MB for",
            "schemes over the 320 KB budget (last column).",
            f"Machine: {machine()}; {time.perf_counter() - start:.0f} s.",
            "",
            table,
        ]
    )
    write_section("speed", body)


if __name__ == "__main__":
    main()
