"""`tt-train`: fine-tune a model on real data with its generated C on this machine.

MODEL is a zoo name, a tiny-training `.pkl`, a `.mlir` file holding `@forward`, or `bundled`. The
whole training pipeline runs (as in tt-compile), the step is emitted as C, built for the host
with the data runner (lowering/data_runner.py: samples streamed from files, bit identical to the
Cortex-M7 build) and trained: held-out accuracy before and after, a progress bar, and the
divergence watch's warnings.

Data: `--data fashion-mnist` (Debian's dataset-fashion-mnist; the default for zoo and .pkl
models, which get a fresh seeded 10-class head), or a samples `.npz` (train_x, train_y, test_x,
test_y: int8 NHWC images as the model takes them); the bundled model trains on the digits 6-9 it
never saw. Each epoch visits the training images in a seeded random order.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from xdsl.utils.exceptions import PassFailedException

from lowering.app import model_classes, module_image_shape
from lowering.build import BuildError
from lowering.c_emitter import LoweringError
from lowering.data_runner import SCHEDULES, HostDataRunner, WindowReport
from passes import apply_pipeline
from ttdialect.errors import TTError
from ttdialect.importers.tiny_training import ZOO_NAMES, HeadChoice
from ttdialect.ir_io import load_module
from ttdialect.numerics import NumericsError
from tt.tools.tt_compile import (
    BUNDLED,
    default_learning_rate,
    import_model,
    load_samples,
    pipeline_spec,
    positive_int,
    positive_rate,
)
from ttdialect.weights import WeightsError

FASHION_MNIST = "fashion-mnist"
BAR_WIDTH = 30


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tt-train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", help=f"{BUNDLED}, a zoo name ({', '.join(ZOO_NAMES)}), a .pkl or a .mlir")
    parser.add_argument("--scheme", default="last-3", help="update scheme (tt-sparse-update; default last-3)")
    parser.add_argument("--data", help=f"'{FASHION_MNIST}' (default but for {BUNDLED}) or a samples .npz")
    parser.add_argument("--train", type=positive_int, default=1000, help="training images (default 1000)")
    parser.add_argument("--test", type=positive_int, default=1000, help="held-out images (default 1000)")
    parser.add_argument("--epochs", type=positive_int, default=1, help="epochs (default 1)")
    parser.add_argument("--lr", type=positive_rate, help="learning rate (default: the model's, see README)")
    parser.add_argument("--schedule", choices=SCHEDULES, default="constant", help="learning-rate schedule")
    parser.add_argument("--rounding", default="stochastic", choices=("stochastic", "nearest", "truncate"))
    parser.add_argument("--no-qas", action="store_true", help="turn quantization-aware scaling off")
    parser.add_argument("--seed", type=int, default=0, help="sample order and rounding seed (default 0)")
    return parser


def _samples(args: argparse.Namespace, image_shape: tuple[int, ...], classes: int):
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

        if classes != 10:
            raise TTError(f"Fashion-MNIST has 10 classes, the model's head has {classes}")
        x, y = load_fashion_mnist("train", args.train)
        xt, yt = load_fashion_mnist("test", args.test)
        return (model_input(x, image_shape, *args.input_quant), y), (
            model_input(xt, image_shape, *args.input_quant),
            yt,
        )
    train_x, train_y, test_x, test_y = load_samples(Path(data), image_shape, classes)
    return (train_x[: args.train], train_y[: args.train]), (test_x[: args.test], test_y[: args.test])


class ProgressBar:
    """`[#####.....] step 500/3000  loss 0.812  ETA 1 min` on stderr, redrawn in place."""

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
    head = HeadChoice(10, new_head=True) if args.model != BUNDLED else HeadChoice()
    if args.lr is None:
        args.lr = default_learning_rate(args.model, args.scheme)
    with tempfile.TemporaryDirectory(prefix="tt-train-") as tmp:
        work = Path(tmp)
        source = import_model(args.model, work, head)
        module = load_module(source)
        forward_image = module_image_shape(module)
        image_type = next(
            op for op in module.walk() if getattr(op, "sym_name", None) and op.sym_name.data == "forward"
        )
        args.input_quant = (image_type.args[0].type.real_scale, image_type.args[0].type.zp)
        train_set, test_set = _samples(args, forward_image, model_classes(module))
        print(f"tt-train: {pipeline_spec(args)}", file=sys.stderr)
        apply_pipeline(module, pipeline_spec(args), source.parent)
        runner = HostDataRunner(module, source.parent, work / "build")
        rng = np.random.default_rng(args.seed)
        count = len(train_set[1])
        order = [int(i) for _ in range(args.epochs) for i in rng.permutation(count)]
        print(f"tt-train: {count} training and {len(test_set[1])} held-out images, {args.epochs} epoch(s), "
              f"learning rate {args.lr:g} ({args.schedule})", file=sys.stderr)  # fmt: skip
        start = time.perf_counter()
        run = runner.run(
            train_set, test_set, learning_rate=args.lr, order=order, schedule=args.schedule,
            seed=args.seed, window=max(1, min(25, len(order) // 20)), on_report=ProgressBar(len(order)),
        )  # fmt: skip
    print(file=sys.stderr)
    for warning in run.warnings:
        print(f"tt-train: {warning}", file=sys.stderr)
    before, after = run.accuracy.get("before", float("nan")), run.accuracy.get("after", float("nan"))
    print(f"held-out accuracy: {before:.1%} before, {after:.1%} after {len(order)} steps "
          f"({time.perf_counter() - start:.0f} s)")  # fmt: skip
    if run.status != 0:
        raise TTError("training stopped: the loss is not finite (lower the learning rate)")


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        train(args)
    except (
        TTError,
        LoweringError,
        NumericsError,
        WeightsError,
        BuildError,
        PassFailedException,
        ValueError,
    ) as error:
        print(f"\ntt-train: error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("\ntt-train: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
