"""The fp32 twin of a forward IR (ttdialect/float_twin.py) and its masked SGD trainer.

Oracles: the reference interpreter's int8 logits (the twin is the same network without
quantization, so it must agree up to quantization noise), PyTorch's own SGD on an unmasked copy,
and the compiled training step's update ops (ttdialect.weights.trained_masks).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from passes import apply_pipeline
from ttdialect.bundled import copy_model, new_task
from ttdialect.float_twin import FloatTrainer, FloatTwin
from ttdialect.interpreter import make_interpreter
from ttdialect.ir_io import load_module
from ttdialect.weights import trained_masks


def test_twin_agrees_with_the_int8_model(tmp_path: Path) -> None:
    source = copy_model(tmp_path)
    module = load_module(source)
    twin = FloatTwin(module, tmp_path)
    images = new_task().test_x[:40]
    interpreter, _ = make_interpreter(module, tmp_path)
    logits_type = [op for op in module.walk() if getattr(op, "sym_name", None) is not None][-1]
    out_type = logits_type.function_type.outputs.data[0]
    int8 = np.concatenate([interpreter.call_op("forward", (image[None],))[0] for image in images])
    real = (int8.astype(np.float64) - out_type.zp) * out_type.real_scale
    with torch.no_grad():
        float_logits = twin(torch.from_numpy(images)).numpy()
    spread = real.max() - real.min()
    assert np.abs(float_logits - real).mean() < 0.05 * spread
    assert np.mean(float_logits.argmax(1) == real.argmax(1)) >= 0.9


def test_masked_sgd_trains_exactly_the_updated_elements(tmp_path: Path) -> None:
    source = copy_model(tmp_path)
    step = load_module(source)
    scheme = tmp_path / "half.json"
    scheme.write_text('{"n_bias_update": 2, "manual_weight_idx": [4, 6], "weight_update_ratio": [0.5, 1]}')
    apply_pipeline(step, f"tt-training-pipeline{{scheme={scheme}}}", tmp_path)
    masks = trained_masks(step)
    assert masks and not all(mask.all() for mask in masks.values())  # a partial update in there
    twin = FloatTwin(load_module(source), tmp_path)
    free = FloatTwin(load_module(source), tmp_path)
    before = {symbol: twin.param(symbol).detach().clone() for symbol in twin.names}
    task = new_task()
    image, label = task.train_x[0], int(task.train_y[0])
    FloatTrainer(twin, masks).step(image, label, 0.1)

    loss = torch.nn.functional.cross_entropy(free(torch.from_numpy(image[None])), torch.tensor([label]))
    loss.backward()
    for symbol in twin.names:
        after = twin.param(symbol).detach()
        if symbol not in masks:
            assert torch.equal(after, before[symbol]), symbol
            continue
        mask = torch.from_numpy(masks[symbol])
        expected = before[symbol] - 0.1 * free.param(symbol).grad
        assert torch.equal(after[~mask], before[symbol][~mask]), symbol
        torch.testing.assert_close(after[mask], expected[mask])
    assert any(not torch.equal(twin.param(s).detach(), before[s]) for s in masks)


def test_twin_of_the_new_layers(tmp_path: Path) -> None:
    """The twin of a PyTorch network with every new layer (pools, table activations, SE
    multiplies, concat, a flatten into the classifier) computes what the network computes."""
    from layer_models import every_layer_net, randomize_batchnorm, smooth_images

    from ttdialect.importers.torch_import import import_torch

    torch.manual_seed(0)
    model = randomize_batchnorm(every_layer_net(3))
    calibration = smooth_images(16, 12, seed=1)
    module = import_torch(model, calibration, tmp_path / "m.mlir")
    twin = FloatTwin(load_module(tmp_path / "m.mlir"), tmp_path)
    image_type = next(op for op in module.walk() if op.name == "func.func").function_type.inputs.data[0]
    images = smooth_images(8, 12, seed=2)
    codes = np.clip(np.rint(images.transpose(0, 2, 3, 1) / image_type.real_scale) + image_type.zp, -128, 127)
    with torch.no_grad():
        got = twin(torch.from_numpy(codes.astype(np.int8))).numpy()
        want = model(torch.from_numpy(images)).numpy()
    error, largest = np.abs(got - want).max(), np.abs(want).max()
    assert error < 0.05 * largest, (error, largest)
    assert np.abs(want).max() > 0.01
