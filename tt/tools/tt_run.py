"""`tt-run`: execute one function of a tt IR file on inputs from an .npz file.

Inputs are keyed `arg0, arg1, ...` in argument order. Outputs are keyed by the result names the
function declares (`-> (f32 {tt.name = "loss"}, ...)`), `result0, result1, ...` otherwise. On
stderr (`tt-run: watch: ...`): the share of int8 logits and of trained int8 weights at the
limits, and a warning where the divergence watch (ttdialect.monitor) sees a non-finite loss,
saturated logits, or weights driven to the limits.

`--backend interpreter` (default) runs the reference interpreter on any function. `--backend host`
and `--backend qemu` run @forward or @train_step of a planned module (after tt-training-pipeline
or tt-memory-plan) as generated C, built with gcc on this machine or for the Cortex-M7 and run in
QEMU mps2-an500 (lowering/c_run.py): same inputs, outputs and `--save-params`. The C loss is
float32 and its updates round float32 deltas, so it agrees with the interpreter (float64) within
the tolerance docs state (tests/lowering/test_tt_run_backends.py); host and qemu agree bit for bit.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import Float32Type, IntegerType, ModuleOp, StringAttr, TensorType
from xdsl.ir import Attribute

from ttdialect.errors import TTError
from ttdialect.ir_io import find_function, load_module, read_npz
from ttdialect.monitor import TrainingWatch, share_at_limits, weight_saturation
from ttdialect.numerics import NumericsError
from ttdialect.outputs import Outputs, npz_bytes
from ttdialect.types import QTensorType
from ttdialect.weights import WeightsError, WeightStore, module_params, trained_masks

RESULT_NAME_ATTR = "tt.name"
BACKENDS = ("interpreter", "host", "qemu")


def required_function(module: ModuleOp, name: str) -> func.FuncOp:
    """@name of the module, or a TTError listing the functions it has."""
    function = find_function(module, name)
    if function is None:
        available = ", ".join(op.sym_name.data for op in module.ops if isinstance(op, func.FuncOp)) or "none"
        raise TTError(f"no function @{name} in the module (functions: {available})")
    return function


def result_names(function: func.FuncOp) -> list[str]:
    """The `tt.name` of each result where declared, `result<i>` otherwise."""
    names = []
    attrs = function.res_attrs.data if function.res_attrs is not None else ()
    for index in range(len(function.function_type.outputs)):
        entry = attrs[index].data.get(RESULT_NAME_ATTR) if index < len(attrs) else None
        names.append(entry.data if isinstance(entry, StringAttr) else f"result{index}")
    return names


def _expected(typ: Attribute) -> tuple[tuple[int, ...], type, str]:
    if isinstance(typ, QTensorType):
        return typ.get_shape(), np.int8, str(typ)
    if isinstance(typ, TensorType):
        el = typ.element_type
        dtype = np.float32 if isinstance(el, Float32Type) else np.int32
        if isinstance(el, IntegerType) and el.width.data == 8:
            dtype = np.int8
        return tuple(typ.get_shape()), dtype, str(typ)
    if isinstance(typ, Float32Type):
        return (), np.float32, "f32"
    raise TTError(f"arguments of type {typ} are not supported by tt-run")


def convert_input(key: str, array: np.ndarray, typ: Attribute) -> Any:
    """Check an input array against the argument type and convert it to the interpreter's form."""
    shape, dtype, text = _expected(typ)
    if tuple(array.shape) != tuple(shape):
        raise TTError(f"input '{key}' has shape {tuple(array.shape)}, the argument is {text}")
    if np.issubdtype(dtype, np.integer):
        if not np.issubdtype(array.dtype, np.integer):
            raise TTError(f"input '{key}' has dtype {array.dtype}, the argument {text} needs integers")
        info = np.iinfo(dtype)
        if array.size and (array.min() < info.min or array.max() > info.max):
            raise TTError(f"input '{key}' has values outside the {np.dtype(dtype).name} range")
    elif not np.issubdtype(array.dtype, np.number):
        raise TTError(f"input '{key}' has dtype {array.dtype}, the argument {text} needs numbers")
    converted = array.astype(dtype)
    return float(converted) if shape == () and dtype == np.float32 else converted


def load_inputs(path: Path, function: func.FuncOp) -> list[Any]:
    arrays = read_npz(path, "inputs archive")
    arg_types = function.function_type.inputs.data
    expected = [f"arg{i}" for i in range(len(arg_types))]
    if sorted(arrays) != sorted(expected):
        raise TTError(
            f"{path}: @{function.sym_name.data} takes inputs {', '.join(expected) or '(none)'}, "
            f"the file has {', '.join(sorted(arrays)) or '(none)'}"
        )
    return [convert_input(key, arrays[key], typ) for key, typ in zip(expected, arg_types, strict=True)]


def run(args: argparse.Namespace) -> None:
    path = Path(args.file)
    check = Outputs([path, Path(args.inputs)])
    for output in (args.outputs, args.save_params):
        if output:
            check.check_file(output)
    module = load_module(path)
    weights = WeightStore(module, path.parent).weights_path()
    function = required_function(module, args.func)
    inputs = load_inputs(Path(args.inputs), function)
    if args.backend == "interpreter":
        results, params = _interpret(module, path, args.func, inputs)
    else:
        results, params = _run_c(module, path, args.func, inputs, args.backend)
    outputs = {
        name: np.asarray(value, dtype=np.float32 if isinstance(value, float) else None)
        for name, value in zip(result_names(function), results, strict=True)
    }
    for line in divergence_report(module, WeightStore(module, path.parent), results, params):
        print(f"tt-run: {line}", file=sys.stderr)
    with Outputs([path, Path(args.inputs), weights]) as files:
        files.file(args.outputs, npz_bytes(outputs))
        if args.save_params:
            files.file(args.save_params, npz_bytes(params))


def divergence_report(
    module: ModuleOp, store: WeightStore, results: list[Any], params: dict[str, np.ndarray]
) -> list[str]:
    """What the divergence watch (ttdialect.monitor) sees in one run: a non-finite loss, int8
    logits at the limits, trained int8 weights driven to the update's limits (beyond the share
    already there in the weights the run started from)."""
    watch = TrainingWatch(window=1)
    figures = []
    for value in results:
        array = np.asarray(value)
        if array.dtype == np.float32 and array.ndim == 0:
            watch.loss(float(array), 1)
        elif array.dtype == np.int8 and array.ndim == 2:
            figures.append(f"logits at the int8 limits {share_at_limits(array, -128, 127):.1%}")
            watch.logits(array, 1)
    declared = module_params(module)
    masks = {name: mask for name, mask in trained_masks(module).items() if params[name].dtype == np.int8}
    if masks:
        start = weight_saturation(store.value(declared[name])[mask] for name, mask in masks.items())
        now = weight_saturation(params[name][mask] for name, mask in masks.items())
        figures.append(f"trained int8 weights at the limits {now:.1%} ({start:.1%} before)")
        watch.weights(now - start, 1)
    lines = [f"watch: {', '.join(figures)}"] if figures else []
    return lines + [f"warning: {warning.split(': ', 1)[1]}" for warning in watch.warnings]


def _interpret(
    module: ModuleOp, path: Path, name: str, inputs: list[Any]
) -> tuple[list[Any], dict[str, np.ndarray]]:
    from xdsl.utils.exceptions import InterpretationError

    from ttdialect.interpreter import ParamState, run_function  # torch: loaded only to interpret

    state = ParamState(WeightStore(module, path.parent))
    try:
        results = run_function(module, name, inputs, path.parent, state)
    except (WeightsError, InterpretationError, NumericsError) as error:
        raise TTError(f"{path}: @{name}: {error}") from None
    return list(results), {param: state.value(param) for param in state.params}


def _run_c(
    module: ModuleOp, path: Path, name: str, inputs: list[Any], backend: str
) -> tuple[list[Any], dict[str, np.ndarray]]:
    from lowering.c_run import CRunError, run_c

    try:
        run = run_c(module, path.parent, name, inputs, backend)
    except (CRunError, WeightsError, NumericsError) as error:
        raise TTError(f"{path}: @{name}: {error}") from None
    return list(run.results), run.params


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tt-run",
        description="Run a function of a tt IR file with the reference interpreter, or as generated C "
        "on this machine (host) or on the Cortex-M7 in QEMU (qemu).",
    )
    parser.add_argument("file", help="tt IR file (.mlir); its weights file is read from beside it")
    parser.add_argument("--func", default="forward", help="function to run (default: forward)")
    parser.add_argument("--inputs", required=True, help=".npz with arrays arg0, arg1, ... in argument order")
    parser.add_argument("--outputs", required=True, help=".npz to write, keyed by result name")
    parser.add_argument(
        "--save-params",
        metavar="NPZ",
        help="also write every parameter's integer values after the run (e.g. after updates)",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="interpreter",
        help="interpreter (default), or generated C: host (gcc) or qemu (Cortex-M7 in QEMU mps2-an500); "
        "the C backends need a planned module (tt-training-pipeline)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except TTError as error:
        print(f"tt-run: error: {error}", file=sys.stderr)
        sys.exit(1)
    except OSError as error:
        print(f"tt-run: error: {error.strerror}: '{error.filename}'", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
