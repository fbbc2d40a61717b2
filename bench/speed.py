"""Instructions per training step on the emulated Cortex-M7, and the linked image's memory.

For each zoo model at 1x3x128x128, batch 1: the largest published preset and full update,
through tt-training-pipeline and the C emitter into a qemu-m7 project (RAM limit raised to
QEMU's 4 MB so that schemes over the 320 KB budget still run), built with arm-none-eabi-gcc -O2
and run for 2 steps in QEMU mps2-an500 with `-icount shift=0` (one instruction per virtual ns,
counted with SysTick: exact and deterministic). Also the bundled digits model (last-3).
Each largest preset also runs as a -DTT_PROFILE build (lowering/profile.py): the instructions of
every op of the step, summed by kernel kind with its MACs and instructions per MAC, so the next
bottleneck is visible; the profiled build's losses and parameters must equal the plain one's.
Prints the tables and writes the `speed` section of docs/benchmarks.md.

Usage: python -m bench.speed [--models NAME ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.report import machine, markdown_table, write_section
from lowering.app import Samples, module_image_shape
from lowering.build import AppRun, ProfiledOp, build_and_run
from lowering.c_model import emit_model
from lowering.projects import QEMU_RAM_KB, write_project
from passes import apply_pipeline
from passes.memory.report import memory_report
from ttdialect.bundled import copy_model
from ttdialect.importers.tiny_training import ZOO_NAMES, HeadChoice, default_zoo_dir, import_zoo
from ttdialect.ir_io import load_module

LARGEST_PRESET = {
    "mbv2-w0.35": "mbv2-w0.35/138kb",
    "proxyless-w0.3": "proxyless-w0.3/148kb",
    "mcunet-5fps": "mcunet-5fps/148kb",
}
STEPS = 2
TTE_CYCLES_M = {"mbv2-w0.35": 80.6, "proxyless-w0.3": 95.7, "mcunet-5fps": 117.9}
"""The published engine's training step on the STM32F746 (ms x 216 MHz, ANCHORS.md)."""


def profile_rows(run: AppRun) -> list[list[str]]:
    """Instructions per step by kernel kind (largest first), with MACs and instructions per MAC."""
    steps = run.profile_steps or STEPS
    kinds: dict[str, list[ProfiledOp]] = {}
    for op in run.profile:
        kinds.setdefault(op.kind, []).append(op)
    total = sum(op.instructions for op in run.profile) / steps
    rows = []
    for kind, ops in sorted(kinds.items(), key=lambda item: -sum(op.instructions for op in item[1])):
        instructions = sum(op.instructions for op in ops) / steps
        macs = sum(op.macs for op in ops)
        rows.append(
            [
                kind,
                str(len(ops)),
                f"{instructions / 1e6:.2f}",
                f"{100 * instructions / total:.1f}",
                f"{macs / 1e6:.2f}" if macs else "",
                f"{instructions / macs:.2f}" if macs else "",
            ]
        )
    return rows


def measure(source: Path, scheme: str, work: Path, profile: bool) -> tuple[list[str], AppRun | None]:
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
    run = build_and_run(project, "qemu", steps=STEPS)  # the figures: no trace buffers linked in
    profiled = None
    if profile:
        traced = build_and_run(project, "qemu", steps=STEPS, trace=True)
        profiled = build_and_run(project, "qemu", steps=STEPS, trace=True, profile=True)
        if (profiled.losses, profiled.params) != (traced.losses, traced.params) or not traced.losses:
            raise SystemExit(f"{source}: the profiled build trained differently from the plain one")
    kb = lambda n: f"{n / 1024:.1f}"  # noqa: E731
    assert run.instructions_per_step is not None
    return [
        f"{run.instructions_per_step / 1e6:.1f}",
        kb(report.arena_bytes),
        kb(report.total_sram_bytes),
        kb(run.linked["data"] + run.linked["bss"]),
        kb(run.linked["SRAM"]),
        kb(run.linked["flash"]),
        "yes" if run.linked["SRAM"] <= 320 * 1024 else "no",
    ], profiled


def tte_ratio(name: str, scheme: str, instructions: str) -> str:
    if name not in TTE_CYCLES_M or scheme != LARGEST_PRESET[name]:
        return ""
    return f"{float(instructions) / TTE_CYCLES_M[name]:.2f}x of {TTE_CYCLES_M[name]}"


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
        "vs TTE cycles",
    ]
    rows = []
    profiles: list[tuple[str, AppRun]] = []
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
            profile = scheme == LARGEST_PRESET.get(name, scheme)
            figures, profiled = measure(source, scheme, work, profile)
            rows.append([name, scheme, *figures, tte_ratio(name, scheme, figures[0])])
            if profiled is not None:
                profiles.append((f"{name} {scheme}", profiled))
        print(" | ".join(rows[-1]), flush=True)
    table = markdown_table(headers, rows)
    print(table)
    profile_headers = ["kernel kind", "ops", "M instr/step", "% of step", "M MACs", "instr/MAC"]
    profile_text = []
    for title, run in profiles:
        steps = run.profile_steps or STEPS
        counted = sum(op.instructions for op in run.profile) / steps / 1e6
        profile_text += [
            "",
            f"Profile of {title} (-DTT_PROFILE build, {counted:.1f} M instructions counted in ops):",
            "",
            markdown_table(profile_headers, profile_rows(run)),
        ]
    print("\n".join(profile_text))
    body = "\n".join(
        [
            "## speed: instructions per training step on the emulated Cortex-M7 (bench/speed.py)",
            "",
            "QEMU mps2-an500 (Cortex-M7, `-icount shift=0`: instructions counted exactly), code built with",
            "arm-none-eabi-gcc 12.2 -O2; 1x3x128x128 input (16x16x1 for the bundled model), batch 1;",
            "linked figures from the ELF's section bounds (main.c prints them), plan figures from the",
            "memory report (data+bss - plan = the runtime's own bytes). RAM limit raised to 4 MB for",
            "schemes over the 320 KB budget (`fits 320 KB`). `vs TTE cycles`: our instructions per",
            "step over the published engine's cycles on the STM32F746 (373 / 443 / 546 ms at 216 MHz);",
            "on a Cortex-M7 instructions and cycles differ (dual issue, memory waits), so this is a",
            "ratio of counts measured differently, not a measured speed-up.",
            f"Machine: {machine()}; {time.perf_counter() - start:.0f} s.",
            "",
            table,
            *profile_text,
        ]
    )
    write_section("speed", body)


if __name__ == "__main__":
    main()
