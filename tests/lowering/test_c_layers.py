"""Generated C of a network with every new layer, on the host (ASan + UBSan), vs the interpreter.

The network (tests/layer_models.py EveryLayerNet: hard-swish stem, strided max pool, a fire
module's concat of differently quantized branches, an average pool, squeeze-and-excitation gates
with hard-sigmoid and sigmoid, a flatten of a 3x3 map into the classifier) is imported from
PyTorch, compiled by the whole training pipeline and built for the host. As for the other
models (test_c_bundled.py): held-out int8 logits after training bit exact, losses within 1e-5,
trained parameters within one step on at most 0.1 % of them. With the full scheme every new
backward op is in the step (the max pool's from its argmax indices, tt-pool-indices).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from lowering_harness import TRAINING_PASSES, assert_params_close, compiled, interpreter_run, run_host, write

from lowering.app import Samples
from lowering.c_run import run_c
from ttdialect.importers.torch_import import import_torch
from ttdialect.ir_io import find_function
from ttdialect.types import QTensorType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from layer_models import every_layer_net, randomize_batchnorm, smooth_images  # noqa: E402

STEPS = 10
KERNELS = (
    "tt_max_pool(",
    "tt_avg_pool(",
    "tt_lookup_s8(",
    "tt_mul(",
    "tt_concat_channels(",
    "tt_max_pool_grad_indices(",
    "tt_avg_pool_grad(",
    "tt_lookup_grad(",
    "tt_mul_grad(",
    "tt_mul_grad_reduce(",
    "tt_channel_slice(",
)


def _samples(image_type: QTensorType, classes: int) -> Samples:
    def quantized(images: np.ndarray) -> np.ndarray:
        q = np.rint(images.transpose(0, 2, 3, 1) / image_type.real_scale) + image_type.zp
        return np.clip(q, -128, 127).astype(np.int8)

    labels = np.arange(STEPS + 6, dtype=np.int32) % classes
    images = quantized(smooth_images(STEPS + 6, 12, seed=5))
    return Samples(images[:STEPS], labels[:STEPS], images[STEPS:], labels[STEPS:], STEPS)


@pytest.mark.parametrize("scheme", ["full", "last-2"])
def test_every_layer_in_c_matches_interpreter(tmp_path: Path, scheme: str) -> None:
    torch.manual_seed(0)
    model = randomize_batchnorm(every_layer_net(3))
    import_torch(model, smooth_images(16, 12, seed=1), tmp_path / "model.mlir")
    module = compiled(tmp_path / "model.mlir", TRAINING_PASSES.format(scheme=scheme, lr=0.05))
    forward = find_function(module, "forward")
    assert forward is not None
    samples = _samples(forward.args[0].type, 3)  # type: ignore[arg-type]
    c_model = write("host", module, tmp_path, samples, tmp_path / "host")
    source = c_model.files[f"{c_model.name}.c"]
    if scheme == "full":
        assert all(kernel in source for kernel in KERNELS), [k for k in KERNELS if k not in source]
    run = run_host(tmp_path / "host", STEPS)
    losses, logits, state = interpreter_run(module, tmp_path, samples, STEPS)
    np.testing.assert_allclose(run.losses, losses, rtol=1e-5, atol=1e-5)
    assert run.logits[-len(logits) :] == [list(map(int, row)) for row in logits]
    assert_params_close(c_model, run, state)


def test_every_layer_step_on_cortex_m7_matches_host(tmp_path: Path) -> None:
    """One full training step in QEMU (Cortex-M7, DSP build) and on the host: the same loss and
    every parameter bit for bit."""
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    torch.manual_seed(0)
    model = randomize_batchnorm(every_layer_net(3))
    import_torch(model, smooth_images(16, 12, seed=1), tmp_path / "model.mlir")
    module = compiled(tmp_path / "model.mlir", TRAINING_PASSES.format(scheme="full", lr=0.05))
    forward = find_function(module, "forward")
    assert forward is not None
    samples = _samples(forward.args[0].type, 3)  # type: ignore[arg-type]
    inputs = [samples.train_x[:1], samples.train_y[:1]]
    host = run_c(module, tmp_path, "train_step", inputs, "host")
    qemu = run_c(module, tmp_path, "train_step", inputs, "qemu")
    assert qemu.results[0].tobytes() == host.results[0].tobytes()
    assert list(qemu.params) == list(host.params)
    for name, value in host.params.items():
        assert qemu.params[name].tobytes() == value.tobytes(), name
