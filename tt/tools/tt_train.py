"""`tt-train`: fine-tune a model on real data with its generated C on this machine.

MODEL is a zoo name, a tiny-training `.pkl`, an int8 `.tflite`, a `.mlir` file holding `@forward`,
or `bundled`. The
whole training pipeline runs (as in tt-compile), the step is emitted as C, built for the host
with the data runner (lowering/data_runner.py: samples streamed from files, bit identical to the
Cortex-M7 build) and trained: held-out accuracy before and after, a progress bar, and the
divergence watch's warnings.

Data: `--data fashion-mnist` (Debian's dataset-fashion-mnist; the default for zoo and .pkl
models, which get a fresh seeded 10-class head), or a samples `.npz` (train_x, train_y, test_x,
test_y: int8 NHWC images as the model takes them); the bundled model trains on the digits 6-9 it
never saw. Each epoch visits the training images in a seeded random order. A thin wrapper over
the Python API (tt.load, Model.training_step, TrainingStep.train).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import tt
from lowering.data_runner import WindowReport
from lowering.schedules import SCHEDULES
from tt.api import BUNDLED, DEFAULT_SCHEDULE, samples_from_npz
from tt.tools.arguments import learning_rate, non_negative_int, positive_int
from ttdialect.importers.tiny_training import ZOO_NAMES

FASHION_MNIST = "fashion-mnist"
BAR_WIDTH = 30


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tt-train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sources = f"{BUNDLED}, a zoo name ({', '.join(ZOO_NAMES)}), a .pkl, a .tflite or a .mlir"
    parser.add_argument("model", help=sources)
    parser.add_argument("--scheme", default="last-3", help="update scheme (tt-sparse-update; default last-3)")
    parser.add_argument("--data", help=f"'{FASHION_MNIST}' (default but for {BUNDLED}) or a samples .npz")
    parser.add_argument("--train", type=positive_int, default=1000, help="training images (default 1000)")
    parser.add_argument("--test", type=positive_int, default=1000, help="held-out images (default 1000)")
    parser.add_argument("--epochs", type=positive_int, default=1, help="epochs (default 1)")
    parser.add_argument("--lr", type=learning_rate, help="learning rate (default: the model's, see README)")
    parser.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default=DEFAULT_SCHEDULE,
        help=f"learning-rate schedule (default {DEFAULT_SCHEDULE}: from the rate to 0 at the last step)",
    )
    parser.add_argument("--rounding", default="stochastic", choices=("stochastic", "nearest", "truncate"))
    parser.add_argument("--no-qas", action="store_true", help="turn quantization-aware scaling off")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="sample order and rounding seed")
    return parser


def _samples(args: argparse.Namespace, step: tt.TrainingStep):
    """(train images, labels), (test images, labels) as the model takes them."""
    data = args.data or (BUNDLED if args.model == BUNDLED else FASHION_MNIST)
    if data == BUNDLED:
        from ttdialect.bundled import new_task

        task = new_task()
        return (task.train_x[: args.train], task.train_y[: args.train]), (
            task.test_x[: args.test],
            task.test_y[: args.test],
        )
    if data == FASHION_MNIST:
        from ttdialect.datasets import load_fashion_mnist, model_input

        if step.classes != 10:
            raise tt.TTError(f"Fashion-MNIST has 10 classes, the model's head has {step.classes}")
        scale, zero_point = step.input_quantization
        x, y = load_fashion_mnist("train", args.train)
        xt, yt = load_fashion_mnist("test", args.test)
        images = (model_input(x, step.image_shape, scale, zero_point), y)
        return images, (model_input(xt, step.image_shape, scale, zero_point), yt)
    samples = samples_from_npz(Path(data), step.image_shape, step.classes)
    train = (samples.train_x[: args.train], samples.train_y[: args.train])
    return train, (samples.test_x[: args.test], samples.test_y[: args.test])


class ProgressBar:
    """`[#####.....] step 500/3000  loss 0.812  ETA 1.0 min` on stderr, redrawn in place."""

    def __init__(self, total: int) -> None:
        self.total, self.start = total, time.perf_counter()

    def __call__(self, report: WindowReport) -> None:
        done = report.step / self.total
        filled = int(BAR_WIDTH * done)
        eta = (time.perf_counter() - self.start) * (1 - done) / max(done, 1e-9)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        text = f"[{bar}] step {report.step}/{self.total}  loss {report.mean_loss:.3f}  ETA {eta / 60:.1f} min"
        print(f"\r{text} ", end="", file=sys.stderr, flush=True)


def train(args: argparse.Namespace) -> None:
    bundled = args.model == BUNDLED
    model = tt.load(args.model) if bundled else tt.load(args.model, num_classes=10, new_head=True)
    step = model.training_step(args.scheme, args.lr, args.rounding, qas=not args.no_qas)
    train_set, test_set = _samples(args, step)
    steps = args.epochs * len(train_set[1])
    print(f"tt-train: {len(train_set[1])} training and {len(test_set[1])} held-out images, {args.epochs} "
          f"epoch(s), scheme {args.scheme}, learning rate {step.learning_rate:g} ({args.schedule})",
          file=sys.stderr)  # fmt: skip
    start = time.perf_counter()
    run = step.train(
        train_set, test_set, epochs=args.epochs, schedule=args.schedule, seed=args.seed,
        window=max(1, min(25, steps // 20)), on_report=ProgressBar(steps),
    )  # fmt: skip
    print(file=sys.stderr)
    for warning in run.warnings:
        print(f"tt-train: {warning}", file=sys.stderr)
    before, after = run.accuracy.get("before", float("nan")), run.accuracy.get("after", float("nan"))
    print(f"held-out accuracy: {before:.1%} before, {after:.1%} after {steps} steps "
          f"({time.perf_counter() - start:.0f} s)")  # fmt: skip
    if run.status != 0:
        raise tt.TTError("training stopped: the loss is not finite (lower the learning rate)")


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        train(args)
    except (tt.TTError, OSError) as error:
        print(f"\ntt-train: error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("\ntt-train: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
