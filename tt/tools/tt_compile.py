"""`tt-compile`: a model + an update scheme -> a buildable training project (host, QEMU, STM32).

INPUT is a zoo name (`mbv2-w0.35`, `proxyless-w0.3`, `mcunet-5fps`), a tiny-training `.pkl`,
a `.mlir` file holding `@forward` (its weights file beside it), or `bundled` (the bundled digits
CNN). The whole pipeline runs: import, `tt-training-pipeline` (autodiff through memory planning),
C emission, then the project writer of `--target`. `--report` writes the memory report (JSON).

Training samples: `--samples FILE.npz` (train_x, train_y, test_x, test_y; int8 NHWC images);
for `bundled` the digits 6-9 it never saw; otherwise seeded random images (enough to measure
memory and speed, not to learn anything), as the output says.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from xdsl.utils.exceptions import PassFailedException

from lowering.app import Samples, model_classes, module_image_shape
from lowering.c_emitter import LoweringError
from lowering.c_model import ModelFiles, check_model_name, emit_model
from lowering.params import c_identifier
from lowering.projects import TARGETS, write_project
from passes import apply_pipeline
from passes.memory.report import memory_report
from ttdialect.errors import TTError
from ttdialect.importers.tiny_training import ZOO_NAMES, HeadChoice, import_tiny_training, import_zoo
from ttdialect.ir_io import find_function, load_module, read_npz
from ttdialect.numerics import NumericsError
from ttdialect.outputs import Outputs
from ttdialect.weights import WeightsError

BUNDLED = "bundled"
SYNTHETIC_SAMPLES = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tt-compile", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("input", help=f"{BUNDLED}, a zoo name ({', '.join(ZOO_NAMES)}), a .pkl or a .mlir")
    parser.add_argument("--scheme", default="last-3", help="update scheme (tt-sparse-update; default last-3)")
    parser.add_argument("--target", choices=TARGETS, default="qemu-m7", help="project kind (default qemu-m7)")
    parser.add_argument("--out", required=True, type=Path, help="project folder to write")
    parser.add_argument("--report", type=Path, help="also write the memory report (JSON) here")
    parser.add_argument(
        "--lr", type=positive_rate, help="learning rate main.c trains with (default: the model's, see README)"
    )
    parser.add_argument("--rounding", default="stochastic", choices=("stochastic", "nearest", "truncate"))
    parser.add_argument("--no-qas", action="store_true", help="turn quantization-aware scaling off")
    parser.add_argument(
        "--num-classes", type=int, default=10, help="classes of the zoo/pkl head (default 10)"
    )
    parser.add_argument("--name", help="C name of the model (default: from INPUT)")
    parser.add_argument("--samples", type=Path, help="samples .npz (train_x, train_y, test_x, test_y)")
    parser.add_argument(
        "--steps", type=positive_int, help="training steps main.c runs (default: one epoch, <= 200)"
    )
    return parser


def import_model(source: str, work: Path, head: HeadChoice) -> Path:
    """The forward IR of `source` in `work` (with its weights file beside it)."""
    if source == BUNDLED:
        from ttdialect.bundled import copy_model

        return copy_model(work)
    output = work / "model.mlir"
    if source in ZOO_NAMES:
        import_zoo(source, output, None, head)
    elif source.endswith(".pkl"):
        import_tiny_training(Path(source), output, head)
    elif source.endswith(".mlir"):
        return Path(source)
    else:
        raise TTError(f"'{source}' is not {BUNDLED}, a zoo name ({', '.join(ZOO_NAMES)}), a .pkl or a .mlir")
    return output


def _default_name(source: str) -> str:
    """The C name of the model: `digits_cnn` for the bundled model, else from INPUT's file stem."""
    if source == BUNDLED:
        return "digits_cnn"
    name = c_identifier(Path(source).stem.replace("-", "_").replace(".", "_"))
    try:
        check_model_name(name)
    except LoweringError:
        return f"model_{name.strip('_')}"  # e.g. main.mlir: main.c is the application's
    return name


def pipeline_spec(args: argparse.Namespace) -> str:
    """tt-training-pipeline with the scheme, rate, rounding and QAS of the command line."""
    qas = "false" if args.no_qas else "true"
    rate = np.format_float_positional(args.lr, trim="-")  # 1e-05 is not an option value xDSL reads
    return f"tt-training-pipeline{{scheme={args.scheme} lr={rate} rounding={args.rounding} qas={qas}}}"


BUNDLED_LEARNING_RATE = 0.05
"""The bundled digits CNN learns its new classes at 0.05 (docs/benchmarks.md, learning)."""
ZOO_LEARNING_RATE = 0.002
"""The ImageNet-pretrained zoo models fine-tune best at 0.001-0.002 with QAS (docs/benchmarks.md,
accuracy: the rate each method and scheme chose on validation images); 0.05 saturates them."""


def default_learning_rate(source: str, scheme: str) -> float:
    """The learning rate used when none is given (how each was chosen: see the constants)."""
    del scheme  # one rate fits every scheme the accuracy bench measured
    return BUNDLED_LEARNING_RATE if source == BUNDLED else ZOO_LEARNING_RATE


SAMPLE_KEYS = ("train_x", "train_y", "test_x", "test_y")


def load_samples(path: Path, image_shape: tuple[int, ...], classes: int) -> list[np.ndarray]:
    """train_x, train_y, test_x, test_y of a samples .npz, checked against the model."""
    data = read_npz(path, "samples archive")
    missing = [key for key in SAMPLE_KEYS if key not in data]
    if missing:
        raise TTError(f"{path}: missing {', '.join(missing)} (needs {', '.join(SAMPLE_KEYS)})")
    arrays = [data[key] for key in SAMPLE_KEYS]
    if any(array.ndim == 0 for array in arrays):
        raise TTError(f"{path}: {', '.join(SAMPLE_KEYS)} must be arrays, not scalars")
    for images, labels, which in ((arrays[0], arrays[1], "train"), (arrays[2], arrays[3], "test")):
        if images.shape[1:] != image_shape or len(images) != len(labels):
            raise TTError(
                f"{path}: {which}_x must be int8 [N, {', '.join(map(str, image_shape))}] with one label "
                f"each in {which}_y, got {images.shape} and {labels.shape}"
            )
        if len(labels) and (labels.min() < 0 or labels.max() >= classes):
            raise TTError(f"{path}: {which}_y holds labels outside [0, {classes})")
    if not len(arrays[1]):
        raise TTError(f"{path}: train_x holds no images")
    return [
        arrays[0].astype(np.int8),
        arrays[1].astype(np.int32),
        arrays[2].astype(np.int8),
        arrays[3].astype(np.int32),
    ]


def positive_rate(text: str) -> float:
    """A learning rate: a finite number in (0, 1e6]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 < value <= 1e6:
        raise argparse.ArgumentTypeError(f"must be in (0, 1e6], got {text}")
    return value


def positive_int(text: str) -> int:
    """A count of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _samples(args: argparse.Namespace, image_shape: tuple[int, ...], classes: int) -> tuple[Samples, str]:
    if args.samples is not None:
        arrays = load_samples(args.samples, image_shape, classes)
        steps = args.steps or min(len(arrays[1]), 200)
        return Samples(*arrays, steps), f"{len(arrays[1])} training samples from {args.samples}"
    if args.input == BUNDLED:
        from ttdialect.bundled import NEW_TASK_CLASSES, new_task

        task = new_task()
        order = np.random.default_rng(0).permutation(len(task.train_y))
        steps = args.steps or 200
        samples = Samples(task.train_x[order], task.train_y[order], task.test_x, task.test_y, steps)
        return (
            samples,
            f"digits {NEW_TASK_CLASSES} the model never saw ({len(order)} training, "
            f"{len(task.test_y)} held-out)",
        )
    rng = np.random.default_rng(0)
    images = rng.integers(-128, 128, size=(SYNTHETIC_SAMPLES, *image_shape), dtype=np.int8)
    labels = rng.integers(0, classes, size=SYNTHETIC_SAMPLES, dtype=np.int32)
    empty = np.zeros((0, *image_shape), dtype=np.int8)
    samples = Samples(images, labels, empty, np.zeros(0, dtype=np.int32), args.steps or 3)
    return samples, f"{SYNTHETIC_SAMPLES} random images (synthetic: for memory and speed, not accuracy)"


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


def compile_model(args: argparse.Namespace, outputs: Outputs) -> tuple[ModelFiles, dict]:
    """Import, run the training pipeline, emit C and stage the project (and the report) in
    `outputs`; the model and report."""
    if args.lr is None:
        args.lr = default_learning_rate(args.input, args.scheme)
    name = args.name or _default_name(args.input)
    check_model_name(name)
    outputs.check_folder(args.out)
    if args.report is not None:
        outputs.check_file(args.report)
    with tempfile.TemporaryDirectory(prefix="tt-compile-") as tmp:
        source = import_model(args.input, Path(tmp), HeadChoice(args.num_classes))
        module = load_module(source)
        if find_function(module, "train_step") is None:
            print(f"tt-compile: {pipeline_spec(args)}", file=sys.stderr)
            apply_pipeline(module, pipeline_spec(args), source.parent)
        model = emit_model(module, source.parent, name)
        report = json.loads(memory_report(module).to_json())
    image = module_image_shape(module)
    samples, described = _samples(args, image, model_classes(module))
    report.update({"model": name, "scheme": args.scheme, "target": args.target, "samples": described})
    write_project(args.target, args.out, model, samples, int(np.prod(image)), report, outputs=outputs)
    if args.report is not None:
        outputs.file(args.report, json.dumps(report, indent=2) + "\n")
    return model, report


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    start = time.perf_counter()
    try:
        with Outputs(_inputs(args)) as outputs:
            model, report = compile_model(args, outputs)
    except (
        TTError,
        LoweringError,
        NumericsError,
        WeightsError,
        ValueError,
        OSError,
        PassFailedException,
    ) as error:
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
