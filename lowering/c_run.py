"""Run @forward or @train_step of a planned module as generated C: tt-run's host and qemu backends.

The module is lowered (lowering.c_model.emit_model), written as a host or qemu-m7 project with the
inputs as its samples (lowering.projects.write_project) in a temporary folder, built and run in
trace mode (lowering.build), and what the program printed is read back:

- @train_step (image [1,H,W,C] int8, label [1] int32): one training step; the loss (%a, exact);
- @forward (image [1,H,W,C] int8): inference only (main.c built with TT_APP_INFER_ONLY); the logits;

and in both cases every parameter after the run: the exported trained bytes mapped back to the
parameter names, dtypes and shapes (ModelFiles.trainable gives the export's layout; the trained
channels of a split weight go back into its full array), the frozen ones as the weights file has
them. The qemu-m7 project is linked with QEMU's 4 MB of RAM (not the 320 KB board budget): the
backend runs what it is given, budgets are tt-compile's business.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr, ModuleOp

from lowering.app import Samples
from lowering.build import BuildError, build_and_run
from lowering.c_emitter import LoweringError
from lowering.c_model import ModelFiles, emit_model, trained_arrays
from lowering.params import CParam, collect_params
from lowering.projects import QEMU_RAM_KB, write_project
from passes.memory_plan import ARENA_ATTR
from ttdialect.errors import TTError
from ttdialect.ir_io import find_function

BACKENDS = {"host": "host", "qemu": "qemu-m7"}
"""tt-run's C backends and the project target each one builds."""
TOOLS = {
    "host": ("make", "cc"),
    "qemu": ("make", "arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm"),
}
MODEL_NAME = "run_model"


class CRunError(TTError):
    """The module cannot run as C, or the toolchain failed (a one-line message)."""


@dataclass
class CRun:
    """The results of one run (in the function's result order) and every parameter after it."""

    results: list[np.ndarray]
    params: dict[str, np.ndarray]
    output: str


def _check_tools(backend: str) -> None:
    for tool in TOOLS[backend]:
        if shutil.which(tool) is None:
            raise CRunError(f"--backend {backend} needs `{tool}`, which is not on PATH")


def _check_planned(module: ModuleOp, backend: str) -> None:
    for op in module.ops:
        if isinstance(op, func.FuncOp) and not isinstance(op.attributes.get(ARENA_ATTR), IntegerAttr):
            raise CRunError(
                f"--backend {backend} runs planned modules only: @{op.sym_name.data} has no memory plan "
                "(run tt-training-pipeline, or tt-memory-plan, first)"
            )


def _one_line(message: str) -> str:
    """The first line of a tool failure plus its first compiler/linker error line, if any."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return "failed"
    detail = next(
        (line for line in lines[1:] if "error" in line.lower()), lines[-1] if len(lines) > 1 else ""
    )
    return f"{lines[0]} {detail}".strip()


def _samples(function: str, inputs: list[np.ndarray], classes: int) -> Samples:
    image = np.asarray(inputs[0], dtype=np.int8)
    if image.ndim != 4 or image.shape[0] != 1:
        raise CRunError(f"the C backends run batch 1: arg0 has shape {image.shape}")
    none_x = np.zeros((0, *image.shape[1:]), dtype=np.int8)
    none_y = np.zeros(0, dtype=np.int32)
    if function == "forward":
        return Samples(none_x, none_y, image, np.zeros(1, dtype=np.int32), 0)
    label = np.asarray(inputs[1], dtype=np.int32).reshape(-1)
    if label.shape != (1,) or not 0 <= int(label[0]) < classes:
        raise CRunError(f"arg1 must be one label in [0, {classes}): got {label.tolist()}")
    return Samples(image, label, none_x, none_y, 1)


def unpack_params(model: ModelFiles, exported: bytes, params: dict[str, CParam]) -> dict[str, np.ndarray]:
    """Every parameter after a run: the trained ones from the exported blob (c_model.trained_arrays;
    a split weight's trained channels put back into the full array), the frozen ones unchanged."""
    try:
        trained = trained_arrays(model, exported)
    except ValueError as error:
        raise CRunError(f"the program's exported parameters: {error}") from None
    by_symbol = {param.symbol: param for param in model.trainable}
    for symbol, values in trained.items():
        split = by_symbol[symbol].split
        if split is not None:
            full = by_symbol[symbol].values.copy()
            index: list[slice | list[int]] = [slice(None)] * full.ndim
            index[split.axis] = list(split.channels)
            full[tuple(index)] = values
            trained[symbol] = full
    return {symbol: trained.get(symbol, param.values.copy()) for symbol, param in params.items()}


def run_c(module: ModuleOp, base_dir: Path, function: str, inputs: list[np.ndarray], backend: str) -> CRun:
    """Run @`function` (forward or train_step) of the planned `module` on `inputs` as C."""
    if backend not in BACKENDS:
        raise CRunError(f"unknown C backend '{backend}' (choose from {', '.join(BACKENDS)})")
    if function not in ("forward", "train_step"):
        raise CRunError(f"--backend {backend} runs @forward or @train_step, not @{function}")
    _check_planned(module, backend)
    try:
        model = emit_model(module, base_dir, MODEL_NAME)
        params = collect_params(module, base_dir, MODEL_NAME)
    except LoweringError as error:
        raise CRunError(f"cannot lower to C: {' '.join(str(error).split())}") from None
    if function == "train_step" and not model.has_train_step:
        raise CRunError("the module has no @train_step")
    forward = find_function(module, "forward")
    assert forward is not None  # emit_model checked it
    classes = int(forward.function_type.outputs.data[0].get_shape()[1])
    samples = _samples(function, inputs, classes)
    input_bytes = int(np.asarray(inputs[0])[0].size)
    _check_tools(backend)
    with tempfile.TemporaryDirectory(prefix="tt-run-") as tmp:
        project = Path(tmp) / "project"
        options = {"ram_kb": QEMU_RAM_KB} if backend == "qemu" else {}
        write_project(
            BACKENDS[backend], project, model, samples, input_bytes, {"function": function}, **options
        )
        try:
            if function == "forward":
                run = build_and_run(project, backend, trace=True, extra_cflags="-DTT_APP_INFER_ONLY")
            else:
                run = build_and_run(project, backend, steps=1, trace=True)
        except BuildError as error:
            raise CRunError(_one_line(str(error))) from None
    if function == "forward":
        if len(run.logits) != 1 or len(run.logits[0]) != classes:
            raise CRunError(f"{backend}: the program printed no logits")
        results = [np.array(run.logits, dtype=np.int8)]
    else:
        if len(run.losses) != 1:
            raise CRunError(f"{backend}: the program printed no loss")
        results = [np.asarray(np.float32(run.losses[0]))]
    return CRun(results, unpack_params(model, run.params, params), run.text)
