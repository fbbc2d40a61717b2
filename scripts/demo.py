#!/usr/bin/env python3
"""The main job on the bundled default model: compile its training step, train it, report.

1. copies the bundled int8 digits CNN (trained on digits 0-5) into a work folder;
2. compiles its training step with `tt-opt` (autodiff, sparse update, QAS);
3. trains it with the reference interpreter on digits 6-9, which it never saw, and prints the
   loss as it falls and the held-out accuracy before and after.

Usage: python scripts/demo.py [--steps N] [--scheme S] [--lr LR] [--work DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ttdialect.bundled import NEW_TASK_CLASSES, copy_model, new_task
from ttdialect.ir_io import TTError, load_module
from ttdialect.trainer import InterpreterTrainer

REPORT_EVERY = 50


def compile_training_step(work: Path, scheme: str, lr: float) -> Path:
    """Copy the bundled model into `work` and run the training pipeline on it with tt-opt."""
    work.mkdir(parents=True, exist_ok=True)
    model = copy_model(work)
    step = work / "train_step.mlir"
    pipeline = f"tt-autodiff{{lr={lr}}},tt-sparse-update{{scheme={scheme}}},tt-qas"
    command = ["tt-opt", "-p", pipeline, str(model), "-o", str(step)]
    print("$", " ".join(command[:2]), f"'{pipeline}'", *command[3:])
    subprocess.run(command, check=True)
    return step


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=300, help="training steps, batch 1 (default 300)")
    parser.add_argument("--scheme", default="last-3", help="sparse update scheme (default last-3)")
    parser.add_argument("--lr", type=float, default=0.05, help="learning rate (default 0.05)")
    parser.add_argument(
        "--work", type=Path, default=Path("build/demo"), help="work folder (default build/demo)"
    )
    args = parser.parse_args()
    try:
        step = compile_training_step(args.work, args.scheme, args.lr)
        trainer = InterpreterTrainer(load_module(step), step.parent)
    except (TTError, subprocess.CalledProcessError) as error:
        print(f"demo: error: {error}", file=sys.stderr)
        return 1
    task = new_task()
    print(f"new task: digits {NEW_TASK_CLASSES} ({len(task.train_y)} training, {len(task.test_y)} held-out)")
    before = trainer.accuracy(task.test_x, task.test_y)
    print(f"held-out accuracy before training: {before:.1%}")
    start = time.perf_counter()

    recent: list[float] = []

    def report(index: int, loss: float) -> None:
        recent.append(loss)
        if len(recent) == REPORT_EVERY or index + 1 == args.steps:
            print(f"  step {index + 1:4d}  mean loss of the last {len(recent)}: {np.mean(recent):.3f}")
            recent.clear()

    trainer.train(task.train_x, task.train_y, args.steps, on_step=report)
    seconds = time.perf_counter() - start
    after = trainer.accuracy(task.test_x, task.test_y)
    print(f"{args.steps} steps in {seconds:.1f} s (reference interpreter)")
    print(f"held-out accuracy after training: {after:.1%} (before {before:.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
