"""The fp32 twin of a tt forward IR: the same network in PyTorch float32, for reference training.

`FloatTwin(module, base_dir)` builds, from `@forward`, a torch module whose parameters are the
dequantized int8 weights (`q * scale[o]`) and int32 biases (`q * bias_scale[o]`) and whose
activations follow the original float network: a conv, linear, add, multiply or pool whose
output range starts at real 0 is a ReLU6 (clamped to [0, min(6, its int8 range)], the zoo files'
rule), any other output is left unclamped, the table activations are their real functions, and
nothing is quantized. Pools take the valid taps of their windows; a reshape flattens in tt's NHWC
order (the twin's tensors are NCHW). Input: the model's int8 NHWC images
(dequantized with the input type); output: float logits.

`FloatTrainer` runs batch-1 SGD on it with every gradient multiplied by a mask of the elements the
int8 training step updates (ttdialect.weights.trained_masks of the compiled step), so both
train "the same parameters"; it is the fp32 column of bench/accuracy.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue

from ttdialect import dialect as tt
from ttdialect.errors import TTError
from ttdialect.types import QTensorType
from ttdialect.weights import WeightStore, module_params

RELU6_LIMIT = 6.0


def _forward_function(module: ModuleOp) -> func.FuncOp:
    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == "forward":
            return op
    raise TTError("the module has no @forward function")


def _activation_range(typ: QTensorType, act_min: int, act_max: int) -> tuple[float, float] | None:
    """The float clamp of an output: ReLU6 where its int8 range starts at real 0, else none."""
    low = (act_min - typ.zp) * typ.real_scale
    if abs(low) > 1e-12:
        return None
    return 0.0, min(RELU6_LIMIT, (act_max - typ.zp) * typ.real_scale)


class FloatTwin(torch.nn.Module):
    """The float32 network of a forward IR (see the module docstring)."""

    def __init__(self, module: ModuleOp, base_dir: Path) -> None:
        super().__init__()
        self._function = _forward_function(module)
        store = WeightStore(module, base_dir)
        self.weights = torch.nn.ParameterDict()
        self.names: dict[str, str] = {}  # tt symbol -> ParameterDict key
        for symbol, param in module_params(module).items():
            real = store.value(param).astype(np.float64)
            scales = store.scales(param).reshape((-1,) + (1,) * (real.ndim - 1))
            key = f"p{len(self.names)}"
            self.names[symbol] = key
            self.weights[key] = torch.nn.Parameter(torch.tensor(real * scales, dtype=torch.float32))
        self._steps: list[Callable[[dict[SSAValue, torch.Tensor]], None]] = [
            self._compile(op) for op in self._function.body.block.ops if not isinstance(op, func.ReturnOp)
        ]

    def param(self, symbol: str) -> torch.nn.Parameter:
        return self.weights[self.names[symbol]]

    # ------------------------------------------------------------------ ops

    def _compile(self, op: Operation) -> Callable[[dict[SSAValue, torch.Tensor]], None]:
        if isinstance(op, tt.Conv2DOp):
            return self._conv(op)
        if isinstance(op, tt.LinearOp):
            return self._linear(op)
        if isinstance(op, tt.AddOp):
            clamp = _activation_range(op.output.type, op.act_min.value.data, op.act_max.value.data)
            return lambda env: env.__setitem__(op.output, _clamp(env[op.lhs] + env[op.rhs], clamp))
        if isinstance(op, tt.GlobalAvgPoolOp):
            return lambda env: env.__setitem__(op.output, env[op.input].mean(dim=(2, 3), keepdim=True))
        if isinstance(op, tt.ReshapeOp):
            return lambda env: env.__setitem__(
                op.output, _reshape_nhwc(env[op.input], op.output.type.get_shape())
            )
        if isinstance(op, tt.MaxPoolOp | tt.AvgPoolOp):
            return self._pool(op)
        if isinstance(op, tt._LookupActivation):
            function = _ACTIVATIONS[op.ACTIVATION]
            return lambda env: env.__setitem__(op.output, function(env[op.input]))
        if isinstance(op, tt.MulOp):
            clamp = _activation_range(op.output.type, op.act_min.value.data, op.act_max.value.data)
            return lambda env: env.__setitem__(op.output, _clamp(env[op.lhs] * env[op.rhs], clamp))
        if isinstance(op, tt.ConcatOp):
            return lambda env: env.__setitem__(op.output, torch.cat([env[v] for v in op.inputs], dim=1))
        if isinstance(op, tt.RequantizeOp):
            return lambda env: env.__setitem__(op.output, env[op.input])
        if isinstance(op, tt.ClampOp):
            clamp = _activation_range(op.output.type, op.act_min.value.data, op.act_max.value.data)
            return lambda env: env.__setitem__(op.output, _clamp(env[op.input], clamp))
        raise TTError(f"the fp32 twin does not support '{op.name}'")

    def _conv(self, op: tt.Conv2DOp) -> Callable[[dict[SSAValue, torch.Tensor]], None]:
        weight, bias = op.weight.root_reference.data, op.bias.root_reference.data if op.bias else None
        stride, groups = tuple(op.stride.get_values()), int(op.groups.value.data)
        top, left, bottom, right = op.conv_padding()
        clamp = _activation_range(op.output.type, op.act_min.value.data, op.act_max.value.data)

        def run(env: dict[SSAValue, torch.Tensor]) -> None:
            kernel = self.param(weight).permute(0, 3, 1, 2)  # OHWI -> OIHW
            b = self.param(bias) if bias is not None else None
            if (top, left) == (bottom, right):
                y = F.conv2d(env[op.input], kernel, b, stride=stride, padding=(top, left), groups=groups)
            else:
                x = F.pad(env[op.input], (left, right, top, bottom))
                y = F.conv2d(x, kernel, b, stride=stride, groups=groups)
            env[op.output] = _clamp(y, clamp)

        return run

    def _pool(self, op: tt.MaxPoolOp | tt.AvgPoolOp) -> Callable[[dict[SSAValue, torch.Tensor]], None]:
        kernel, stride, (top, left, bottom, right) = op.pool_params()
        pad = (left, right, top, bottom)
        clamp = _activation_range(op.output.type, op.act_min.value.data, op.act_max.value.data)

        def run(env: dict[SSAValue, torch.Tensor]) -> None:
            x = env[op.input]
            if isinstance(op, tt.MaxPoolOp):
                y = F.max_pool2d(F.pad(x, pad, value=-torch.inf), kernel, stride)
            else:
                y = F.avg_pool2d(F.pad(x, pad), kernel, stride) / F.avg_pool2d(
                    F.pad(torch.ones_like(x), pad), kernel, stride
                )
            env[op.output] = _clamp(y, clamp)

        return run

    def _linear(self, op: tt.LinearOp) -> Callable[[dict[SSAValue, torch.Tensor]], None]:
        weight, bias = op.weight.root_reference.data, op.bias.root_reference.data if op.bias else None
        clamp = _activation_range(op.output.type, op.act_min.value.data, op.act_max.value.data)

        def run(env: dict[SSAValue, torch.Tensor]) -> None:
            b = self.param(bias) if bias is not None else None
            env[op.output] = _clamp(F.linear(env[op.input], self.param(weight), b), clamp)

        return run

    # ------------------------------------------------------------------ run

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """int8 NHWC images [N, H, W, C] -> float logits [N, classes]."""
        image_type = self._function.args[0].type
        assert isinstance(image_type, QTensorType)
        real = (images.to(torch.float32) - image_type.zp) * image_type.real_scale
        env: dict[SSAValue, torch.Tensor] = {self._function.args[0]: real.permute(0, 3, 1, 2)}
        for step in self._steps:
            step(env)
        (logits,) = self._function.body.block.last_op.operands  # type: ignore[union-attr]
        return env[logits].reshape(images.shape[0], -1)


_ACTIVATIONS = {"hard_swish": F.hardswish, "hard_sigmoid": F.hardsigmoid, "sigmoid": torch.sigmoid}


def _reshape_nhwc(x: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """tt's reshape (of NHWC data) on the twin's NCHW tensors."""
    nhwc = x.permute(0, 2, 3, 1) if x.dim() == 4 else x
    y = nhwc.reshape(x.shape[0], *shape[1:])
    return y.permute(0, 3, 1, 2) if y.dim() == 4 else y


def _clamp(value: torch.Tensor, bounds: tuple[float, float] | None) -> torch.Tensor:
    return value if bounds is None else value.clamp(*bounds)


class FloatTrainer:
    """Batch-1 SGD on a FloatTwin, gradients masked to the parameters the int8 step updates."""

    def __init__(self, twin: FloatTwin, masks: dict[str, np.ndarray]) -> None:
        self.twin = twin
        self.masks = {symbol: torch.tensor(mask, dtype=torch.float32) for symbol, mask in masks.items()}
        for symbol, parameter in zip(twin.names, twin.weights.values(), strict=True):
            parameter.requires_grad_(symbol in masks)

    def step(self, image: np.ndarray, label: int, learning_rate: float) -> float:
        self.twin.zero_grad(set_to_none=True)
        logits = self.twin(torch.from_numpy(image[None]))
        loss = F.cross_entropy(logits, torch.tensor([label]))
        loss.backward()
        with torch.no_grad():
            for symbol, mask in self.masks.items():
                parameter = self.twin.param(symbol)
                if parameter.grad is not None:
                    parameter -= learning_rate * parameter.grad * mask
        return loss.item()

    @torch.no_grad()
    def predict(self, images: np.ndarray, batch: int = 64) -> np.ndarray:
        """Top-1 class of every image."""
        classes = [
            self.twin(torch.from_numpy(images[i : i + batch])).argmax(1) for i in range(0, len(images), batch)
        ]
        return torch.cat(classes).numpy()

    def accuracy(self, images: np.ndarray, labels: Sequence[int] | np.ndarray) -> float:
        return float(np.mean(self.predict(images) == np.asarray(labels)))
