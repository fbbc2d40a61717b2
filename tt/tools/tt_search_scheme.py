"""`tt-search-scheme`: the sparse update scheme for a memory budget (tt/search.py).

MODEL is a zoo name, a tiny-training `.pkl`, a `.mlir` holding `@forward`, or `bundled`. DATA is
`fashion-mnist` (Debian's dataset-fashion-mnist) or a samples `.npz` (train_x, train_y, test_x,
test_y as the model takes them; test_* serve as validation). The contribution of every unit (a
bias group, a conv's weight at a ratio) is measured by a short fine-tuning run of the generated C
on this machine, every scheme considered is compiled and planned for its real memory, an
evolutionary search ranks the schemes under the budget by their summed contributions (monotone:
training more is never predicted worse; ties go to the scheme that trains more), and the
best few (--finalists, with the largest last-k and bias group that fit) are fine-tuned longer
(--finalist-epochs) with several sample orders (--finalist-seeds) and the best mean is chosen.
Trials run here (--workers 1), on this machine's cores with Ray (--workers N), or on a Ray
cluster (--address); they are cached beside the output (OUT.trials.json), so an interrupted
search resumes.

Writes OUT (the scheme: tt-sparse-update and tt-compile --scheme read it as is), OUT.report.json,
OUT.report.txt and OUT.png (predicted accuracy vs memory of the schemes compiled, and the
finalists' measured accuracy).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import tt
from lowering.schedules import DEFAULT_SCHEDULE
from tt.search import SEARCH_SCHEDULES
from tt.tools.arguments import learning_rate, non_negative_int, positive_int
from ttdialect.outputs import Outputs

FASHION_MNIST = "fashion-mnist"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tt-search-scheme", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", help="bundled, a zoo name, a .pkl or a .mlir")
    parser.add_argument(
        "--data", default=FASHION_MNIST, help=f"'{FASHION_MNIST}' (default) or a samples .npz"
    )
    parser.add_argument("--budget", required=True, help="memory budget, e.g. 256KB or 0.2MB")
    parser.add_argument(
        "--budget-kind",
        choices=("total", "arena"),
        default="total",
        help="total SRAM (arena + trained parameters + state; default) or the arena alone",
    )
    parser.add_argument("-o", "--output", required=True, type=Path, help="the scheme file to write (.json)")
    parser.add_argument("--train", type=positive_int, default=500, help="images per contribution run (500)")
    parser.add_argument("--validation", type=positive_int, default=500, help="validation images (500)")
    parser.add_argument("--epochs", type=positive_int, default=1, help="epochs per contribution run (1)")
    parser.add_argument("--lr", type=learning_rate, help="learning rate of the runs (default: the model's)")
    parser.add_argument(
        "--weight-convs", type=positive_int, default=8, help="last N convs as weight candidates (8)"
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, help="search and sample-order seed")
    parser.add_argument(
        "--schedule",
        choices=SEARCH_SCHEDULES,
        default=DEFAULT_SCHEDULE,
        help=f"learning-rate schedule of every run ({DEFAULT_SCHEDULE}: tt-train's default)",
    )
    parser.add_argument("--workers", type=positive_int, default=1, help="parallel trials on Ray (1: no Ray)")
    parser.add_argument("--address", help="join an existing Ray cluster (ray://host:port or auto)")
    parser.add_argument(
        "--finalists",
        type=non_negative_int,
        default=4,
        help="the best N predicted schemes (with the largest last-k and bias group that fit) are "
        "fine-tuned and the best measured is chosen (4; 0: trust the summed contributions)",
    )
    parser.add_argument("--finalist-epochs", type=positive_int, default=3, help="epochs per finalist run (3)")
    parser.add_argument(
        "--finalist-seeds",
        type=positive_int,
        default=2,
        help="sample orders per finalist; its accuracy is their mean (2)",
    )
    return parser


def _data(args: argparse.Namespace, model: tt.Model):
    from tt.search import Data

    if args.data == FASHION_MNIST:
        from ttdialect.datasets import load_fashion_mnist, model_input

        step = model.training_step("bias-only")
        scale, zero_point = step.input_quantization
        x, y = load_fashion_mnist("train", args.train + args.validation)
        images = model_input(x, model.image_shape, scale, zero_point)
        return Data((images[: args.train], y[: args.train]), (images[args.train :], y[args.train :]))
    from tt.api import samples_from_npz

    samples = samples_from_npz(Path(args.data), model.image_shape, model.classes)
    return Data(
        (samples.train_x[: args.train], samples.train_y[: args.train]),
        (samples.test_x[: args.validation], samples.test_y[: args.validation]),
    )


class Progress:
    """`[trials 12/37] ETA 6.5 min` on stderr, redrawn in place."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self, what: str, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.start
        eta = elapsed / max(done, 1) * (total - done)
        print(f"\r[{what} {done}/{total}] ETA {eta / 60:.1f} min ", end="", file=sys.stderr, flush=True)
        if done == total:
            print(file=sys.stderr)


def search(args: argparse.Namespace) -> None:
    from tt.search import Setup, parse_budget, search_scheme

    budget = parse_budget(args.budget)
    output = args.output
    if output.suffix != ".json":
        raise tt.TTError(f"{output}: the scheme file must end in .json")
    stem = output.with_suffix("")
    paths = [output, Path(f"{stem}.report.json"), Path(f"{stem}.report.txt"), Path(f"{stem}.png")]
    check = Outputs([Path(args.data)] if args.data != FASHION_MNIST else [])
    for path in paths:
        check.check_file(path)
    model = (
        tt.load(args.model, num_classes=10, new_head=True) if args.model != "bundled" else tt.load(args.model)
    )
    data = _data(args, model)
    setup = Setup(
        train=args.train,
        validation=args.validation,
        epochs=args.epochs,
        learning_rate=args.lr or tt.default_learning_rate(args.model),
        weight_convs=args.weight_convs,
        seed=args.seed,
        finalist_epochs=args.finalist_epochs,
        finalist_seeds=args.finalist_seeds,
        schedule=args.schedule,
    )
    scheme, report = search_scheme(
        args.model,
        data,
        budget,
        budget_kind=args.budget_kind,
        setup=setup,
        cache=Path(f"{stem}.trials.json"),
        workers=args.workers,
        address=args.address,
        finalists=args.finalists,
        progress=Progress(),
    )
    with Outputs() as outputs:
        outputs.file(output, json.dumps(scheme, indent=1) + "\n")
        outputs.file(paths[1], json.dumps(report.__dict__, indent=1, default=str) + "\n")
        outputs.file(paths[2], report.text())
        outputs.file(paths[3], report.plot())
    print(report.text(), end="")
    for failure in report.failures:
        print(f"tt-search-scheme: warning: trial failed twice: {failure}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        search(args)
    except (tt.TTError, OSError) as error:
        print(f"\ntt-search-scheme: error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(
            f"\ntt-search-scheme: interrupted; finished trials are kept in {args.output.with_suffix('')}"
            ".trials.json",
            file=sys.stderr,
        )
        sys.exit(130)


if __name__ == "__main__":
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    main()
