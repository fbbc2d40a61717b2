"""`tt-import`: a zoo model, a tiny-training .pkl, a PyTorch module or an int8 TFLite model -> tt
forward IR + weights."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tt.tools.arguments import non_negative_int, positive_int
from ttdialect.errors import TTError
from ttdialect.importers.tiny_training import (
    ZOO_ENV,
    ZOO_NAMES,
    HeadChoice,
    default_zoo_dir,
    import_tiny_training,
    import_zoo,
)
from ttdialect.outputs import Outputs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tt-import",
        description="Import a trained CNN as tt forward IR (int8, NHWC): writes OUT.mlir and "
        "OUT.weights.npz beside it.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--zoo", choices=ZOO_NAMES, help="a zoo model: NAME.json + NAME.pkl from the zoo folder"
    )
    source.add_argument("--tiny-training", metavar="FILE.pkl", help="a tiny-training int8 model file")
    source.add_argument(
        "--torch",
        metavar="FILE.py:FACTORY",
        help="a float torch.nn.Module made by FACTORY() in FILE.py, quantized with --calibration",
    )
    source.add_argument(
        "--tflite",
        metavar="MODEL.tflite",
        help="a fully int8 TensorFlow Lite model, imported with TFLite's numerics (bit-exact with its "
        "reference kernels; needs the tflite package: pip install 'tt[tflite]')",
    )
    parser.add_argument("-o", "--output", required=True, help="output IR file (.mlir)")
    head = parser.add_argument_group("classifier head (zoo and .pkl models)")
    head.add_argument(
        "--num-classes",
        type=positive_int,
        default=None,
        help="keep the first N rows of the 1000-class ImageNet classifier (default: all)",
    )
    head.add_argument(
        "--new-head",
        action="store_true",
        help="replace the classifier by a freshly initialised N-class head (needs --num-classes)",
    )
    head.add_argument("--seed", type=non_negative_int, default=0, help="seed of --new-head (default 0)")
    parser.add_argument("--zoo-dir", help=f"zoo folder (default: ${ZOO_ENV}, else ../shared/models)")
    torch_group = parser.add_argument_group("PyTorch models")
    torch_group.add_argument("--input-shape", help="NCHW input shape, e.g. 1x3x32x32")
    torch_group.add_argument("--calibration", metavar="DATA.npy", help="float NCHW calibration images")
    return parser


def _head(args: argparse.Namespace) -> HeadChoice:
    if args.new_head and args.num_classes is None:
        raise TTError("--new-head needs --num-classes")
    return HeadChoice(1000 if args.num_classes is None else args.num_classes, args.new_head, args.seed)


def _source(args: argparse.Namespace) -> str:
    """Which of the mutually exclusive sources was given (an empty value counts as given)."""
    flags = ("zoo", "tiny_training", "tflite", "torch")
    return next(flag for flag in flags if getattr(args, flag) is not None)


def _inputs(args: argparse.Namespace) -> list[Path]:
    """The files this run reads, which its outputs may not replace."""
    source = _source(args)
    if source == "zoo":
        folder = Path(args.zoo_dir) if args.zoo_dir else default_zoo_dir()
        return [folder / f"{args.zoo}.json", folder / f"{args.zoo}.pkl"]
    if source != "torch":
        if not getattr(args, source):
            raise TTError(f"--{source.replace('_', '-')} needs a file name")
        return [Path(getattr(args, source))]
    if not args.torch:
        raise TTError("--torch needs FILE.py:FACTORY")
    files = [Path(args.torch.rpartition(":")[0] or args.torch)]
    return files + ([Path(args.calibration)] if args.calibration else [])


def run(args: argparse.Namespace) -> None:
    output = Path(args.output)
    if output.suffix != ".mlir":
        raise TTError(f"output {output} must end in .mlir")
    outputs = Outputs(_inputs(args))
    outputs.check_file(output)
    outputs.check_file(output.with_name(f"{output.stem}.weights.npz"))
    source = _source(args)
    if source in ("torch", "tflite") and (args.num_classes is not None or args.new_head):
        raise TTError(f"--num-classes and --new-head apply to zoo and .pkl models, not to --{source}")
    if source != "torch" and (args.input_shape is not None or args.calibration is not None):
        raise TTError("--input-shape and --calibration apply to --torch models only")
    start = time.perf_counter()
    if source == "zoo":
        import_zoo(args.zoo, output, Path(args.zoo_dir) if args.zoo_dir else None, _head(args))
    elif source == "tiny_training":
        import_tiny_training(Path(args.tiny_training), output, _head(args))
    elif source == "tflite":
        from ttdialect.importers.tflite_import import import_tflite

        for edge in import_tflite(Path(args.tflite), output):
            print(f"tt-import: dropped {edge}", file=sys.stderr)
    else:
        from ttdialect.importers.torch_import import import_torch_cli

        import_torch_cli(args.torch, args.input_shape, args.calibration, output)
    print(f"tt-import: wrote {output} in {time.perf_counter() - start:.1f} s", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except TTError as error:
        print(f"tt-import: error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
