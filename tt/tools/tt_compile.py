"""`tt-compile`: a model + an update scheme -> a buildable training project (host, QEMU, STM32).

INPUT is a zoo name (`mbv2-w0.35`, `proxyless-w0.3`, `mcunet-5fps`), a tiny-training `.pkl`,
a fully int8 TensorFlow Lite `.tflite` model (as tt-import --tflite), a `.mlir` file holding
`@forward` (its weights file beside it), or `bundled` (the bundled digits CNN). The whole
pipeline runs: import, `tt-training-pipeline` (autodiff through memory planning), C emission,
then the project writer of `--target`. `--report` writes the memory report (JSON).

Training samples: `--samples FILE.npz` (train_x, train_y, test_x, test_y; int8 NHWC images);
for `bundled` the digits 6-9 it never saw; otherwise seeded random images (enough to measure
memory and speed, not to learn anything), as the output says; `--no-samples` leaves them out
(the project then trains on nothing until you give it data).

Before writing, the planned SRAM (arena, trained parameters, runtime state, stacks) and flash data
(model and samples; code excluded) are checked against the board's 320 KB / 1 MB: a model over
budget is refused, or written with `--allow-over-budget` and a warning the STM32 README repeats.
This is a thin wrapper over the Python API (tt.load, Model.training_step, write_project).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import tt
from lowering.app import Samples
from lowering.c_model import check_model_name
from lowering.projects import STACK_BYTES, STM32_FLASH_BYTES, STM32_SRAM_BYTES, TARGETS
from tt.api import BUNDLED, bundled_samples, default_model_name, samples_from_npz, synthetic_samples
from tt.tools.arguments import learning_rate, positive_int
from ttdialect.importers.tiny_training import ZOO_NAMES
from ttdialect.outputs import Outputs

BOARD_TARGETS = ("qemu-m7", "stm32cubeide")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tt-compile", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sources = f"{BUNDLED}, a zoo name ({', '.join(ZOO_NAMES)}), a .pkl, a .tflite or a .mlir"
    parser.add_argument("input", help=sources)
    parser.add_argument("--scheme", default="last-3", help="update scheme (tt-sparse-update; default last-3)")
    parser.add_argument("--target", choices=TARGETS, default="qemu-m7", help="project kind (default qemu-m7)")
    parser.add_argument("--out", required=True, type=Path, help="project folder to write")
    parser.add_argument("--report", type=Path, help="also write the memory report (JSON) here")
    parser.add_argument(
        "--lr", type=learning_rate, help="learning rate main.c trains with (default: the model's, see README)"
    )
    parser.add_argument("--rounding", default="stochastic", choices=("stochastic", "nearest", "truncate"))
    parser.add_argument("--no-qas", action="store_true", help="turn quantization-aware scaling off")
    parser.add_argument(
        "--num-classes", type=positive_int, default=10, help="classes of the zoo/pkl head (default 10)"
    )
    parser.add_argument("--name", help="C name of the model (default: from INPUT)")
    samples = parser.add_mutually_exclusive_group()
    samples.add_argument("--samples", type=Path, help="samples .npz (train_x, train_y, test_x, test_y)")
    samples.add_argument("--no-samples", action="store_true", help="leave the demo samples out (flash)")
    parser.add_argument(
        "--steps", type=positive_int, help="training steps main.c runs (default: one epoch, <= 200)"
    )
    parser.add_argument(
        "--allow-over-budget",
        action="store_true",
        help="write a model over the board's RAM/flash, with a warning",
    )
    return parser


def _samples(args: argparse.Namespace, step: tt.TrainingStep) -> tuple[Samples, str]:
    shape, classes = step.image_shape, step.classes
    if args.no_samples:
        empty = np.zeros((0, *shape), dtype=np.int8)
        none = np.zeros(0, dtype=np.int32)
        return Samples(empty, none, empty, none, args.steps or 1), "none (--no-samples)"
    if args.samples is not None:
        samples = samples_from_npz(args.samples, shape, classes, args.steps)
        return samples, f"{len(samples.train_y)} training samples from {args.samples}"
    if args.input == BUNDLED:
        from ttdialect.bundled import NEW_TASK_CLASSES

        samples = bundled_samples(args.steps)
        return samples, (
            f"digits {NEW_TASK_CLASSES} the model never saw ({len(samples.train_y)} training, "
            f"{len(samples.test_y)} held-out)"
        )
    samples = synthetic_samples(shape, classes, args.steps or 3)
    return samples, f"{len(samples.train_y)} random images (synthetic: for memory and speed, not accuracy)"


def _inputs(args: argparse.Namespace) -> list[Path]:
    """The files this run reads (never written over, nor a folder holding them replaced)."""
    paths = [args.samples]
    if args.input != BUNDLED and args.input not in ZOO_NAMES:
        paths.append(Path(args.input))
        if args.input.endswith(".mlir"):
            paths.append(Path(args.input).with_suffix(".weights.npz"))
    if Path(args.scheme).suffix in (".json", ".yaml", ".yml"):
        paths.append(Path(args.scheme))
    return [path for path in paths if path is not None]


def budget_problem(report: dict, samples: Samples) -> str | None:
    """Why the planned model does not fit the board (320 KB SRAM, 1 MB flash), or None."""
    sram = int(report["total_sram_bytes"]) + 2 * STACK_BYTES  # main and handler stacks
    sample_bytes = sum(
        int(a.nbytes) for a in (samples.train_x, samples.test_x, samples.train_y, samples.test_y)
    )
    flash = int(report["flash_bytes"]) + sample_bytes
    problems = []
    if sram > STM32_SRAM_BYTES:
        problems.append(
            f"SRAM {sram / 1024:.1f} KB planned (with stacks) is {sram / STM32_SRAM_BYTES:.0%} of 320 KB"
        )
    if flash > STM32_FLASH_BYTES:
        problems.append(
            f"flash data {flash / 1024:.1f} KB (code excluded) is {flash / STM32_FLASH_BYTES:.0%} of 1 MB"
        )
    return "; ".join(problems) or None


def compile_model(args: argparse.Namespace, outputs: Outputs) -> dict:
    """Load, plan, check the budget and stage the project (and the report) in `outputs`."""
    name = args.name or default_model_name(args.input)
    check_model_name(name)
    outputs.check_folder(args.out)
    if args.report is not None:
        outputs.check_file(args.report)
    progress = Progress()
    model = tt.load(args.input, num_classes=args.num_classes)
    progress(f"loaded {args.input}")
    step = model.training_step(args.scheme, args.lr, args.rounding, qas=not args.no_qas)
    progress(f"tt-training-pipeline{{scheme={args.scheme} lr={step.learning_rate:g}}}")
    samples, described = _samples(args, step)
    report = step.report(name, args.target)
    report["samples"] = described
    problem = budget_problem(report, samples) if args.target in BOARD_TARGETS else None
    if problem and not args.allow_over_budget:
        raise tt.TTError(
            f"the model does not fit the board: {problem} (--allow-over-budget writes it anyway)"
        )
    if problem:
        report["budget_warning"] = f"does not fit the STM32F746: {problem}"
        print(f"tt-compile: warning: {report['budget_warning']}", file=sys.stderr)
    step.write_project(args.out, args.target, samples, name=name, outputs=outputs, report=report)
    if args.report is not None:
        outputs.file(args.report, json.dumps(report, indent=2) + "\n")
    progress(f"C sources and project for {args.target}")
    return report


class Progress:
    """`tt-compile: <what> (1.2 s)` on stderr after each step."""

    def __init__(self) -> None:
        self.last = time.perf_counter()

    def __call__(self, what: str) -> None:
        now = time.perf_counter()
        print(f"tt-compile: {what} ({now - self.last:.1f} s)", file=sys.stderr, flush=True)
        self.last = now


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    start = time.perf_counter()
    try:
        with Outputs(_inputs(args)) as outputs:
            report = compile_model(args, outputs)
    except (tt.TTError, OSError) as error:
        print(f"tt-compile: error: {error}", file=sys.stderr)
        sys.exit(1)
    except Exception as error:  # a bug in tt, not bad input: still one line, and a non-zero status
        print(
            f"tt-compile: internal error: {type(error).__name__}: {error} (please report it)", file=sys.stderr
        )
        sys.exit(2)
    print(
        f"tt-compile: wrote {args.out} ({args.target}) in {time.perf_counter() - start:.1f} s: arena "
        f"{report['arena_bytes']} B, trainable {report['trainable_sram_bytes']} B, flash data "
        f"{report['flash_bytes']} B; samples: {report['samples']}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
