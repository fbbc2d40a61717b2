"""The per-op profile (-DTT_PROFILE, lowering/profile.py) on the emulated Cortex-M7.

A profiled build must train exactly as the plain one (same losses, logits and parameters), its
per-op counts must add up to the step it profiles, and its MAC figures must be those of the
layers' shapes (computed here independently from the planned IR's weights and results).
"""

from __future__ import annotations

import shutil
from math import prod
from pathlib import Path

import pytest
from lowering_harness import TRAINING_PASSES, compiled, write

from lowering.app import Samples
from lowering.build import build_and_run
from ttdialect import dialect as tt
from ttdialect.bundled import copy_model, new_task
from ttdialect.ir_io import find_function
from ttdialect.weights import module_params

STEPS = 3


def _forward_conv_macs(module) -> int:
    """Sum over the step's tt.conv2d / tt.linear of output elements x weight elements per output."""
    params = module_params(module)
    step = find_function(module, "train_step")
    total = 0
    for op in step.walk():
        if isinstance(op, tt.Conv2DOp | tt.LinearOp):
            weight = params[op.weight.root_reference.data].param_type.get_shape()
            total += prod(op.output.type.get_shape()) * prod(weight[1:])
    return total


@pytest.mark.skipif(
    shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
    reason="qemu-system-arm / arm-none-eabi-gcc are not installed",
)
def test_profiled_build_trains_identically_and_accounts_for_the_step(tmp_path: Path) -> None:
    task = new_task()
    samples = Samples(task.train_x[:STEPS], task.train_y[:STEPS], task.test_x[:4], task.test_y[:4], STEPS)
    module = compiled(copy_model(tmp_path), TRAINING_PASSES.format(scheme="last-3", lr=0.05))
    write("qemu-m7", module, tmp_path, samples, tmp_path / "qemu")
    plain = build_and_run(tmp_path / "qemu", "qemu", steps=STEPS, trace=True)
    profiled = build_and_run(tmp_path / "qemu", "qemu", steps=STEPS, trace=True, profile=True)

    assert profiled.losses == plain.losses and len(plain.losses) == STEPS
    assert profiled.logits == plain.logits and profiled.params == plain.params
    assert not plain.profile, "an unprofiled build prints no profile"

    assert profiled.profile_steps == STEPS
    assert [op.index for op in profiled.profile] == list(range(len(profiled.profile)))
    counted = sum(op.instructions for op in profiled.profile) / STEPS
    assert profiled.instructions_per_step is not None and plain.instructions_per_step is not None
    # the ops hold all of the profiled step but its prologue and the clock reads themselves
    assert 0.97 * profiled.instructions_per_step <= counted <= profiled.instructions_per_step
    assert 0.97 * plain.instructions_per_step <= counted <= 1.03 * plain.instructions_per_step
    assert all(op.instructions > 0 for op in profiled.profile if op.macs)

    forward = [op for op in profiled.profile if op.op in ("tt.conv2d", "tt.linear")]
    assert sum(op.macs for op in forward) == _forward_conv_macs(module)
    assert {op.kind for op in forward} >= {"conv2d 1x1", "conv2d depthwise 3x3", "linear"}
