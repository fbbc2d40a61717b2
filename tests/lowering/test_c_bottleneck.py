"""tt.bottleneck in generated C: the bundled model trained with tt-stream-frozen on the host.

The training pipeline with tt-stream-frozen puts row-streamed bottlenecks in @forward and
@train_step (checked); the generated C (ASan + UBSan) must then agree with the reference
interpreter on the same IR as test_c_bundled.py requires: held-out int8 logits after training
bit exact, losses within 1e-5, trained parameters within one step on at most 0.1 % of them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from lowering_harness import assert_params_close, compiled, interpreter_run, run_host, write

from lowering.app import Samples
from ttdialect import dialect as tt
from ttdialect.bundled import copy_model, new_task

STEPS = 6
PIPELINE = (
    "tt-autodiff{lr=0.01},tt-sparse-update{scheme=last-3},tt-qas,tt-fuse-update,tt-stream-frozen,"
    "tt-reorder{quiet=true},tt-memory-plan"
)


def test_streamed_bottlenecks_in_c_match_interpreter(tmp_path: Path) -> None:
    task = new_task()
    samples = Samples(task.train_x[:STEPS], task.train_y[:STEPS], task.test_x[:8], task.test_y[:8], STEPS)
    module = compiled(copy_model(tmp_path), PIPELINE)
    fused = [op for op in module.walk() if isinstance(op, tt.BottleneckOp)]
    assert len(fused) >= 4 and any(op.has_expand for op in fused)
    model = write("host", module, tmp_path, samples, tmp_path / "host")
    assert "tt_bottleneck(" in model.files[f"{model.name}.c"]
    run = run_host(tmp_path / "host", STEPS)
    losses, logits, state = interpreter_run(module, tmp_path, samples, STEPS)
    np.testing.assert_allclose(run.losses, losses, rtol=1e-5, atol=1e-5)
    assert run.logits[-len(logits) :] == [list(map(int, row)) for row in logits]
    assert_params_close(model, run, state)
