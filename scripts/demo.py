#!/usr/bin/env python3
"""The main job on the bundled default model: compile it for on-device training, build it for the
Cortex-M7, train it on the emulated board, and print the memory and the loss.

1. `tt-compile bundled --target qemu-m7`: imports the bundled int8 digits CNN (trained on digits
   0-5), runs tt-training-pipeline (autodiff, sparse update, QAS, fused updates, streamed frozen
   blocks, reordering, memory planning), emits C and writes a QEMU mps2-an500 project with the
   digits 6-9 the model never saw as training and held-out samples;
2. `make run` in that project: arm-none-eabi-gcc builds it for the Cortex-M7 (the link enforces
   1 MB flash / 320 KB RAM), QEMU runs it: held-out accuracy before, the loss as it falls,
   instructions per step, accuracy after, and the linked flash/SRAM.

Usage: python scripts/demo.py [--steps N] [--scheme S] [--lr LR] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


def run(command: list[str], cwd: Path | None = None) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=cwd)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=300, help="training steps, batch 1 (default 300)")
    parser.add_argument("--scheme", default="last-3", help="sparse update scheme (default last-3)")
    parser.add_argument("--lr", type=float, default=0.05, help="learning rate (default 0.05)")
    parser.add_argument(
        "--out", type=Path, default=Path("build/demo"), help="project folder (default build/demo)"
    )
    args = parser.parse_args()
    report = args.out.parent / f"{args.out.name}.report.json"
    try:
        run(
            [
                "tt-compile",
                "bundled",
                "--target",
                "qemu-m7",
                "--scheme",
                args.scheme,
                "--lr",
                str(args.lr),
                "--steps",
                str(args.steps),
                "--out",
                str(args.out),
                "--report",
                str(report),
            ]
        )
        figures = json.loads(report.read_text())
        print(
            f"planned memory: arena {figures['arena_bytes']} B "
            f"(lower bound {figures['lower_bound_bytes']} B), "
            f"trainable {figures['trainable_sram_bytes']} B, total SRAM {figures['total_sram_bytes']} B, "
            f"model data in flash {figures['flash_bytes']} B"
        )
        run(["make", "-s", "run"], cwd=args.out)
    except subprocess.CalledProcessError as error:
        print(
            f"demo: error: `{' '.join(map(str, error.cmd))}` failed (exit {error.returncode})",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
