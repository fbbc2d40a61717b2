"""tt-autodiff through the new layers vs PyTorch autograd on the dequantized model.

Models with every new layer (max and average pooling, hard-swish / hard-sigmoid / sigmoid, the
squeeze-and-excitation multiply, concatenation, a flatten of a spatial map into a linear layer)
are imported from PyTorch (tests/layer_models.py) and differentiated by `tt-autodiff
{emit=gradients}` in the interpreter. The reference runs the @forward ops in float64 torch on
dequantized values, parameters as real-valued leaves, each op's output fake-quantized with
straight-through rounding and pinned to the interpreter's int8 value (gradcheck.py), with the
documented clamp rules: a strict-interior mask of [act_min, act_max] after convs, linears, adds,
multiplies, table activations ([-128, 127]), requantized concat inputs, and pools with a
narrowed clamp (a pool at its input's quantization cannot saturate otherwise). Max pooling
takes PyTorch's argmax (the first maximum of a window); average pooling divides by the valid
taps; the table activations are PyTorch's own functions (its derivative choices at +-3).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from gradcheck import assert_gradients_match, fake_quant, interpreter_activations
from layer_models import (
    every_layer_net,
    mobilenet_v3_small,
    randomize_batchnorm,
    resnet18,
    se_cnn,
    smooth_images,
    squeezenet1_1,
)
from test_autodiff_torch_model import AutogradReference

import tt
from passes import apply_pipeline
from ttdialect import dialect as ttd
from ttdialect.interpreter import ParamState, run_function
from ttdialect.ir_io import find_function
from ttdialect.types import QTensorType
from ttdialect.weights import WeightStore

TORCH_ACTIVATIONS = {"hard_swish": F.hardswish, "hard_sigmoid": F.hardsigmoid, "sigmoid": torch.sigmoid}


def _nhwc(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 2, 3, 1) if x.dim() == 4 else x


def _nchw(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 3, 1, 2) if x.dim() == 4 else x


class LayerReference(AutogradReference):
    """AutogradReference (convs, linears, adds, global pools) plus the new layers."""

    def pin(self, real: torch.Tensor) -> torch.Tensor:
        """The interpreter's value with the float path's gradient (no rounding, no clamp)."""
        pinned = next(self.pinned)
        typ_scale, typ_zp = self._pin_type
        value = torch.tensor(np.ascontiguousarray(_nchw_np(pinned)), dtype=torch.float64)
        return real + ((value - typ_zp) * typ_scale - real).detach()

    def pool(self, op: ttd.MaxPoolOp | ttd.AvgPoolOp, x: torch.Tensor) -> torch.Tensor:
        kernel, stride, (top, left, bottom, right) = op.pool_params()
        pad = (left, right, top, bottom)
        if isinstance(op, ttd.MaxPoolOp):
            y = F.max_pool2d(F.pad(x, pad, value=-math.inf), kernel, stride)
        else:
            total = F.avg_pool2d(F.pad(x, pad), kernel, stride)
            y = total / F.avg_pool2d(F.pad(torch.ones_like(x), pad), kernel, stride)
        if (ttd._int(op.act_min), ttd._int(op.act_max)) != (-128, 127):
            return self.quant(y, op.output.type, op)
        self._pin_type = (op.output.type.real_scale, op.output.type.zp)
        return self.pin(y)

    def concat(self, op: ttd.ConcatOp, values: dict) -> torch.Tensor:
        out = op.output.type
        pinned = _nchw_np(next(self.pinned)).astype(np.float64)
        parts, start = [], 0
        for value in op.inputs:
            real, typ = values[value], value.type
            channels = typ.get_shape()[-1]
            codes = pinned[:, start : start + channels]
            start += channels
            if (typ.real_scale, typ.zp) == (out.real_scale, out.zp):
                parts.append(real)  # a copy: the value is the input's already
            else:
                parts.append(fake_quant(real, out.real_scale, out.zp, codes))
        return torch.cat(parts, dim=1)

    def reshape(self, op: ttd.ReshapeOp, x: torch.Tensor) -> torch.Tensor:
        """tt's NHWC reshape, on the reference's NCHW tensors."""
        return _nchw(_nhwc(x).reshape(op.output.type.get_shape()))

    def run(self, forward: object, image: np.ndarray) -> torch.Tensor:
        values: dict[object, torch.Tensor] = {}
        arg = forward.args[0]  # type: ignore[attr-defined]
        values[arg] = torch.tensor(_nchw_np((image.astype(np.float64) - arg.type.zp) * arg.type.real_scale))
        for op in forward.body.block.ops:  # type: ignore[attr-defined]
            if isinstance(op, ttd.Conv2DOp):
                stride, padding, groups = op.conv_params()
                bias = self.leaf(op.bias) if op.bias is not None else None
                y = F.conv2d(values[op.input], self.leaf(op.weight), bias, stride, padding, groups=groups)
                values[op.output] = self.quant(y, op.output.type, op)
            elif isinstance(op, ttd.LinearOp):
                bias = self.leaf(op.bias) if op.bias is not None else None
                values[op.output] = self.quant(
                    F.linear(values[op.input], self.leaf(op.weight), bias), op.output.type, op
                )
            elif isinstance(op, ttd.AddOp):
                values[op.output] = self.quant(values[op.lhs] + values[op.rhs], op.output.type, op)
            elif isinstance(op, ttd.MulOp):
                values[op.output] = self.quant(values[op.lhs] * values[op.rhs], op.output.type, op)
            elif isinstance(op, ttd.GlobalAvgPoolOp):
                y = values[op.input].mean(dim=(2, 3), keepdim=True)
                values[op.output] = self.quant(y, op.output.type, op)
            elif isinstance(op, ttd.MaxPoolOp | ttd.AvgPoolOp):
                values[op.output] = self.pool(op, values[op.input])
            elif isinstance(op, ttd._LookupActivation):
                y = TORCH_ACTIVATIONS[op.ACTIVATION](values[op.input])
                values[op.output] = self.quant(y, op.output.type, op)
            elif isinstance(op, ttd.ConcatOp):
                values[op.output] = self.concat(op, values)
            elif isinstance(op, ttd.ReshapeOp):
                values[op.output] = self.reshape(op, values[op.input])
            else:
                assert op.name == "func.return", f"no reference for {op.name}"
                return values[op.operands[0]]
        raise AssertionError("@forward has no return")


def _nchw_np(array: np.ndarray) -> np.ndarray:
    return array.transpose(0, 3, 1, 2) if array.ndim == 4 else array


def _gradient_names(module) -> list[str]:  # noqa: ANN001
    train = find_function(module, "train_step")
    assert train is not None and train.res_attrs is not None
    names = [attrs.data["tt.name"].data for attrs in train.res_attrs.data]
    return [name.removeprefix("grad.") for name in names[1:]]


MODELS = {
    "every_layer": (lambda: every_layer_net(5), 12),
    "se_cnn": (lambda: se_cnn(4, 0.25, 16), 16),
    "mobilenet_v3_small": (lambda: mobilenet_v3_small(4, 0.25), 32),
    "squeezenet1_1": (lambda: squeezenet1_1(4, 0.125), 32),
    "resnet18": (lambda: resnet18(4, 0.125), 32),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_gradients_through_new_layers_match_autograd(name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    factory, size = MODELS[name]
    model = randomize_batchnorm(factory())
    imported = tt.load_torch(model, smooth_images(16, size, 1))
    module = imported.module.clone()
    apply_pipeline(module, "tt-autodiff{emit=gradients}", imported.directory)
    forward = find_function(module, "forward")
    assert forward is not None
    kinds = {op.name for op in forward.body.block.ops}
    rng = np.random.default_rng(3)
    in_type = forward.args[0].type
    assert isinstance(in_type, QTensorType)
    worst = 1.0
    for sample in range(2):
        real = smooth_images(1, size, 10 + sample).transpose(0, 2, 3, 1)
        image = np.clip(np.rint(real / in_type.real_scale) + in_type.zp, -128, 127).astype(np.int8)
        label = int(rng.integers(0, forward.function_type.outputs.data[0].get_shape()[1]))
        outputs = run_function(module, "train_step", [image, np.array([label], np.int32)], imported.directory)
        pinned = interpreter_activations(module, image, imported.directory)
        reference = LayerReference(ParamState(WeightStore(module, imported.directory)), pinned)
        loss = F.cross_entropy(reference.run(forward, image), torch.tensor([label]))
        loss.backward()
        assert abs(outputs[0] - loss.item()) <= 1e-5 * max(1.0, loss.item())
        ref = {}
        for key in _gradient_names(module):  # in the order of @train_step's results
            grad = reference.leaves[key].grad.numpy()
            ref[key] = grad.transpose(0, 2, 3, 1) if grad.ndim == 4 else grad
        worst = min(worst, assert_gradients_match(name, outputs[1:], ref))
    print(f"{name}: worst cosine {worst:.6f} over {len(ref)} parameters; ops {sorted(kinds)}")
