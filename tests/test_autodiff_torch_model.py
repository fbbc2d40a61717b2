"""tt-autodiff on a PyTorch-imported model (the bundled digits CNN: BatchNorm folded, ReLU6
clamps, residual adds) vs PyTorch autograd.

The reference runs the model's layers in float64 torch: each tt forward op of @forward becomes
the matching torch function on dequantized values with a straight-through fake quantization of
its output (clamp mask strictly inside [act_min, act_max]); parameters are leaf tensors in real
units. Its forward values are pinned to the interpreter's int8 activations (see gradcheck.py), so
only the backward is compared. The reverse pass is autograd's, not tt's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from gradcheck import assert_gradients_match, fake_quant, interpreter_activations

from passes import apply_pipeline
from ttdialect import dialect as tt
from ttdialect.bundled import SAMPLES, copy_model
from ttdialect.interpreter import ParamState, run_function
from ttdialect.ir_io import load_module
from ttdialect.types import QTensorType
from ttdialect.weights import WeightStore


def nchw(array: np.ndarray) -> np.ndarray:
    return array.transpose(0, 3, 1, 2) if array.ndim == 4 else array


class AutogradReference:
    """Float64 autograd over the forward ops of a tt module, parameters as real-valued leaves."""

    def __init__(self, state: ParamState, pinned: list[np.ndarray]):
        self.state = state
        self.pinned = iter(pinned)
        self.leaves: dict[str, torch.Tensor] = {}

    def leaf(self, ref: object) -> torch.Tensor:
        name = ref.root_reference.data  # type: ignore[attr-defined]
        if name not in self.leaves:
            value = self.state.value(name).astype(np.float64)
            scales = self.state.scales(name).reshape((-1,) + (1,) * (value.ndim - 1))
            real = nchw(value * scales) if value.ndim == 4 else value * scales
            self.leaves[name] = torch.tensor(np.ascontiguousarray(real), requires_grad=True)
        return self.leaves[name]

    def quant(self, real: torch.Tensor, typ: QTensorType, op: tt.IRDLOperation) -> torch.Tensor:
        low = int(op.act_min.value.data) if hasattr(op, "act_min") else -128
        high = int(op.act_max.value.data) if hasattr(op, "act_max") else 127
        pinned = nchw(next(self.pinned)).astype(np.float64)
        return fake_quant(real, typ.real_scale, typ.zp, pinned, low, high)

    def run(self, forward: object, image: np.ndarray) -> torch.Tensor:
        values: dict[object, torch.Tensor] = {}
        arg = forward.args[0]  # type: ignore[attr-defined]
        values[arg] = torch.tensor(nchw((image.astype(np.float64) - arg.type.zp) * arg.type.real_scale))
        for op in forward.body.block.ops:  # type: ignore[attr-defined]
            if isinstance(op, tt.Conv2DOp):
                stride, padding, groups = op.conv_params()
                weight = self.leaf(op.weight)
                bias = self.leaf(op.bias) if op.bias is not None else None
                y = F.conv2d(values[op.input], weight, bias, stride, padding, groups=groups)
                values[op.output] = self.quant(y, op.output.type, op)
            elif isinstance(op, tt.LinearOp):
                weight = self.leaf(op.weight)
                bias = self.leaf(op.bias) if op.bias is not None else None
                y = F.linear(values[op.input], weight, bias)
                values[op.output] = self.quant(y, op.output.type, op)
            elif isinstance(op, tt.AddOp):
                values[op.output] = self.quant(values[op.lhs] + values[op.rhs], op.output.type, op)
            elif isinstance(op, tt.GlobalAvgPoolOp):
                y = values[op.input].mean(dim=(2, 3), keepdim=True)
                values[op.output] = self.quant(y, op.output.type, op)
            elif isinstance(op, tt.ReshapeOp):
                values[op.output] = values[op.input].reshape(op.output.type.get_shape())
            else:
                assert op.name == "func.return", f"no reference for {op.name}"
                return values[op.operands[0]]
        raise AssertionError("@forward has no return")


def test_gradients_of_torch_imported_model_match_autograd(tmp_path: Path) -> None:
    module = load_module(copy_model(tmp_path))
    apply_pipeline(module, "tt-autodiff{emit=gradients}", tmp_path)
    with np.load(SAMPLES) as samples:
        images, labels = samples["test_x"][:3], samples["test_y"][:3] % 6
    forward = next(op for op in module.ops if getattr(op, "sym_name", None) and op.sym_name.data == "forward")
    worst = 1.0
    for image, label in zip(images, labels, strict=True):
        outputs = run_function(module, "train_step", [image[None], np.array([label], np.int32)], tmp_path)
        pinned = interpreter_activations(module, image[None], tmp_path)
        reference = AutogradReference(ParamState(WeightStore(module, tmp_path)), pinned)
        logits = reference.run(forward, image[None])
        loss = F.cross_entropy(logits, torch.tensor([int(label)]))
        loss.backward()
        ref_loss = float(loss.detach())
        assert abs(outputs[0] - ref_loss) <= 1e-5 * max(1.0, ref_loss)
        ref = {
            name: (leaf.grad.numpy().transpose(0, 2, 3, 1) if leaf.ndim == 4 else leaf.grad.numpy())
            for name, leaf in reference.leaves.items()
        }
        worst = min(worst, assert_gradients_match("digits_cnn", outputs[1:], ref))
    print(f"digits_cnn (torch import): worst cosine {worst:.6f} over {len(ref)} parameters, 3 samples")
