"""Generated C of the bundled model on the host (ASan + UBSan) vs the reference interpreter.

Int8 results (held-out logits after training) must be bit-exact; the loss is float32 in C and
float64 in the interpreter (1e-5 relative or absolute); updated parameters may differ where the float32 and
float64 update deltas round differently (at most 0.1 % of the elements, by one step).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from lowering_harness import (
    TRAINING_PASSES,
    assert_params_close,
    compiled,
    exported,
    interpreter_run,
    run_host,
    write,
)

from lowering.app import Samples
from ttdialect.bundled import copy_model, new_task

STEPS = 12
PIPELINE = TRAINING_PASSES.format(scheme="%s", lr=0.01)


@pytest.fixture(scope="module")
def samples() -> Samples:
    task = new_task()
    return Samples(task.train_x[:STEPS], task.train_y[:STEPS], task.test_x[:16], task.test_y[:16], STEPS)


@pytest.mark.parametrize("scheme", ["last-3", "full", "bias-only"])
def test_host_training_matches_interpreter(tmp_path: Path, samples: Samples, scheme: str) -> None:
    module = compiled(copy_model(tmp_path), PIPELINE % scheme)
    model = write("host", module, tmp_path, samples, tmp_path / "host")
    run = run_host(tmp_path / "host", STEPS)
    losses, logits, state = interpreter_run(module, tmp_path, samples, STEPS)

    np.testing.assert_allclose(run.losses, losses, rtol=1e-5, atol=1e-5)
    assert run.logits[-len(logits) :] == [list(map(int, row)) for row in logits]  # after training
    assert_params_close(model, run, state)


def test_trained_parameters_change(tmp_path: Path, samples: Samples) -> None:
    """The oracle above would pass for a step that updates nothing: check it does update."""
    module = compiled(copy_model(tmp_path), PIPELINE % "last-3")
    model = write("host", module, tmp_path, samples, tmp_path / "host")
    params = exported(model, run_host(tmp_path / "host", STEPS, sanitize=False))
    changed = sum(int((params[p.symbol] != p.values).sum()) for p in model.trainable)
    assert changed > 0


def test_partial_channel_updates_of_depthwise_and_pointwise_convs(tmp_path: Path, samples: Samples) -> None:
    """Split weights on both axes (a depthwise conv's channels: axis 0, no scratch row; a 1x1
    conv's input channels: the last axis) build and train as the interpreter does."""
    scheme = tmp_path / "split.json"
    scheme.write_text('{"n_bias_update": 1, "manual_weight_idx": [7, 8], "weight_update_ratio": [0.5, 0.5]}')
    module = compiled(copy_model(tmp_path), PIPELINE % scheme)
    model = write("host", module, tmp_path, samples, tmp_path / "host")
    assert {p.split.axis for p in model.trainable if p.split is not None} == {0, 3}
    run = run_host(tmp_path / "host", STEPS)
    losses, logits, state = interpreter_run(module, tmp_path, samples, STEPS)
    np.testing.assert_allclose(run.losses, losses, rtol=1e-5, atol=1e-5)
    assert run.logits[-len(logits) :] == [list(map(int, row)) for row in logits]
    assert_params_close(model, run, state)
