#!/usr/bin/env python3
"""How far tt's own int8 rules are from TFLite's on imported TFLite models (docs/numerics.md).

For each model (made by scripts/make_tflite_models.py, or given as .tflite files), on seeded
random int8 images:

- multipliers: how many of the requantization multipliers that occur differ between tt's
  derivation (numerics.quantize_multiplier, mantissa ties to even) and TFLite's
  (QuantizeMultiplier, ties away from zero), and how many TFLite's MEAN derives otherwise;
- rounding: every requantization the interpreter performs with TFLite's numerics (the exact
  model) is also computed with tt's one-rounding rule on the same accumulators and multiplier;
  the share of int8 outputs that differ, per op kind;
- logits: the whole model with tt's own rules everywhere (the `numerics` property removed: tt's
  multipliers, one rounding, tables from the exact functions) against TFLite's rules.

Usage: python scripts/measure_tflite_numerics.py [--images N] [MODEL.tflite ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from ttdialect import dialect as tt
from ttdialect import numerics as nx
from ttdialect.importers.tflite_import import import_tflite
from ttdialect.interpreter import run_function
from ttdialect.ir_io import load_module

KINDS = {
    "run_conv2d": "conv2d",
    "run_linear": "linear",
    "run_add": "add",
    "run_mul": "mul",
    "run_global_avg_pool": "mean",
    "run_requantize": "requantize",
    "run_concat": "concat",
}


def _op_kind() -> str:
    """The kind of op whose interpreter rule is running (the nearest run_* frame)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name in KINDS:
            return KINDS[frame.f_code.co_name]
        frame = frame.f_back  # type: ignore[assignment]
    return "other"


class RoundingCounter:
    """Wraps numerics.requantize_tflite: counts outputs where tt's rule would round otherwise."""

    def __init__(self) -> None:
        self.differ: Counter[str] = Counter()
        self.total: Counter[str] = Counter()
        self.original = nx.requantize_tflite

    def __enter__(self) -> RoundingCounter:
        def counted(acc: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int) -> np.ndarray:
            theirs = self.original(acc, multiplier, shift)
            ours = nx.requantize(acc, multiplier, shift)
            inside = (np.abs(theirs) < 512) | (np.abs(ours) < 512)  # not far beyond int8 anyway
            kind = _op_kind()
            self.differ[kind] += int(np.sum((theirs != ours) & inside))
            self.total[kind] += int(np.sum(inside))
            return theirs

        nx.requantize_tflite = counted  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        nx.requantize_tflite = self.original  # type: ignore[assignment]


def tt_rules(module: ModuleOp) -> ModuleOp:
    """The module with every `numerics` property removed (tt's own rules)."""
    copy = module.clone()
    for op in copy.walk():
        op.properties.pop("numerics", None)
    return copy


def multiplier_counts(module: ModuleOp, directory: Path) -> tuple[int, int, int]:
    """(multipliers, differing between tt's and TFLite's derivation, MEAN multipliers)."""
    from ttdialect.weights import WeightStore, module_params

    store = WeightStore(module, directory)
    params = module_params(module)
    reals: list[float] = []
    means = 0
    for op in module.walk():
        if isinstance(op, tt.Conv2DOp | tt.LinearOp):
            scales = store.scales(params[op.weight.root_reference.data]).astype(np.float64)
            reals += list(op.input.type.real_scale * scales / op.output.type.real_scale)
        elif isinstance(op, tt.AddOp):
            a, b, y = op.lhs.type.real_scale, op.rhs.type.real_scale, op.output.type.real_scale
            twice = 2 * max(a, b)
            reals += [a / twice, b / twice, twice / ((1 << nx.ADD_LEFT_SHIFT) * y)]
        elif isinstance(op, tt.MulOp):
            reals.append(op.lhs.type.real_scale * op.rhs.type.real_scale / op.output.type.real_scale)
        elif isinstance(op, tt.GlobalAvgPoolOp):
            means += 1
    ours = nx.multipliers_for(np.array(reals), "tt")
    theirs = nx.multipliers_for(np.array(reals), "tflite")
    differ = int(np.sum((ours[0] != theirs[0]) | (ours[1] != theirs[1])))
    return len(reals), differ, means


def measure(path: Path, images: int) -> None:
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        import_tflite(path, folder / "m.mlir")
        module = load_module(folder / "m.mlir")
        shape = module.body.block.ops.last.args[0].type.get_shape()  # type: ignore[union-attr]
        rng = np.random.default_rng(0)
        inputs = [rng.integers(-128, 128, size=shape).astype(np.int8) for _ in range(images)]
        with RoundingCounter() as counter:
            exact = [run_function(module, "forward", [x], folder)[0] for x in inputs]
        own = [run_function(tt_rules(module), "forward", [x], folder)[0] for x in inputs]
        count, differ, means = multiplier_counts(module, folder)
    equal = sum(int(np.sum(a == b)) for a, b in zip(exact, own, strict=True))
    total = sum(a.size for a in exact)
    print(f"{path.stem}: {count} multipliers, {differ} derived otherwise by tt; {means} MEAN")
    for kind in sorted(counter.total):
        share = counter.differ[kind] / max(counter.total[kind], 1)
        print(f"  {kind:>10}: {counter.differ[kind]} of {counter.total[kind]} outputs round otherwise "
              f"with one rounding ({100 * share:.3f} %)")  # fmt: skip
    print(f"  logits with tt's own rules everywhere: {equal} of {total} equal ({100 * equal / total:.1f} %)")


def _models() -> list[Path]:
    spec = importlib.util.spec_from_file_location(
        "make_tflite_models", Path(__file__).resolve().parent / "make_tflite_models.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    folder = Path(tempfile.mkdtemp(prefix="tt-tflite-"))
    return [script.make_model(name, folder) for name in script.MODEL_NAMES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path, help=".tflite files (default: make the test models)")
    parser.add_argument("--images", type=int, default=4)
    args = parser.parse_args()
    for path in args.models or _models():
        measure(path, args.images)


if __name__ == "__main__":
    main()
