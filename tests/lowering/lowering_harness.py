"""Shared pieces of the lowering tests: compile IR to a project, run it, run the interpreter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from lowering.app import Samples
from lowering.build import AppRun, build_and_run
from lowering.c_model import ModelFiles, emit_model, trained_arrays
from passes import apply_pipeline
from passes.memory.report import memory_report
from ttdialect.interpreter import ParamState, make_interpreter
from ttdialect.ir_io import load_module
from ttdialect.numerics import rounding_counter_start
from ttdialect.weights import WeightStore

TRAINING_PASSES = "tt-training-pipeline{{scheme={scheme} lr={lr}}}"
"""The whole training pipeline (autodiff through memory planning)."""
SANITIZE = "-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"


def compiled(model_path: Path, pipeline: str) -> ModuleOp:
    """The module at `model_path` after the pass pipeline (weights read beside it)."""
    module = load_module(model_path)
    apply_pipeline(module, pipeline, model_path.parent)
    return module


def write(
    target: str, module: ModuleOp, base_dir: Path, samples: Samples, out: Path, **options: int
) -> ModelFiles:
    from lowering.projects import write_project

    model = emit_model(module, base_dir, "model")
    image = samples.train_x[0] if len(samples.train_x) else samples.test_x[0]
    report = memory_report(module).__dict__
    write_project(target, out, model, samples, int(image.size), report, **options)
    return model


def run_host(out: Path, steps: int, sanitize: bool = True) -> AppRun:
    return build_and_run(out, "host", steps=steps, trace=True, extra_cflags=SANITIZE if sanitize else "")


def interpreter_run(module: ModuleOp, base_dir: Path, samples: Samples, steps: int, seed: int = 0):
    """Losses of `steps` train steps on the samples in order, then logits of the held-out ones;
    the update counter starts where C's init puts it for `seed`."""
    state = ParamState(WeightStore(module, base_dir), rng_counter=rounding_counter_start(seed))
    interpreter, state = make_interpreter(module, base_dir, state)
    losses = []
    for step in range(steps):
        index = step % len(samples.train_y)
        label = np.array([samples.train_y[index]], dtype=np.int32)
        (loss,) = interpreter.call_op("train_step", (samples.train_x[index][None], label))
        losses.append(float(loss))
    logits = [interpreter.call_op("forward", (image[None],))[0][0] for image in samples.test_x]
    return losses, logits, state


def exported(model: ModelFiles, run: AppRun) -> dict[str, np.ndarray]:
    """The trained parameters in the program's export, by symbol name (header checked)."""
    return trained_arrays(model, run.params)


def assert_params_close(model: ModelFiles, run: AppRun, state) -> None:
    """C's trained parameters vs the interpreter's: each within one step, and at most 0.1 % of
    all updated elements off (float32 vs float64 update deltas rounding differently)."""
    off, total = 0, 0
    by_symbol = {param.symbol: param for param in model.trainable}
    for name, value in exported(model, run).items():
        expected = state.value(name)
        split = by_symbol[name].split
        if split is not None:
            expected = np.take(expected, split.channels, axis=split.axis)
        diff = np.abs(value.astype(np.int64) - expected.astype(np.int64))
        assert diff.max() <= 1, name
        off += int((diff > 0).sum())
        total += diff.size
    assert total > 0
    assert off <= max(1, total // 1000), f"{off} of {total} elements differ"
