"""Import a float PyTorch CNN (torch.nn.Module) into tt forward IR, quantized post-training.

The module is traced with torch.fx and run on calibration images (float NCHW) to record the
per-tensor min/max of every activation, the input included. Then:

- activations: per-tensor asymmetric int8, scale = (max - min) / 255 over a range that includes
  0, zero point = round(-128 - min / scale);
- Conv2d / Linear weights (BatchNorm2d folded in first): per-output-channel symmetric int8 in
  [-127, 127], scale = max|w| / 127; biases int32 = round(b / (x_scale * w_scale[o]));
- MaxPool2d / AvgPool2d (also with ceil_mode, which pads more at the bottom and right) keep
  their input's quantization (TFLite's rule); an average pool divides by the valid taps, so
  padding needs count_include_pad=False;
- Hardswish / Hardsigmoid / Sigmoid become table activations, an element-wise multiply of two
  activations (a squeeze-and-excitation gate [N, C, 1, 1]) `tt.mul`, torch.cat on channels
  `tt.concat`, all with calibrated output ranges;
- a flatten of an [N, C, H, W] map into a Linear layer: tt flattens NHWC, so the Linear weight's
  columns are permuted at import from PyTorch's (c, h, w) order to (h, w, c);
- ReLU / ReLU6 / Hardtanh / clamp after a conv, linear or add are folded into the op's int8
  clamp: the output range is calibrated after the activation (so it is [0, max] with max <= 6
  for ReLU6, and the int8 range itself does the clamp), act_min / act_max are the quantized
  bounds (ReLU: act_min = output zero point; ReLU6: act_max = quantized 6, capped at 127).
  An activation that cannot be fused (its input has other users) becomes a `tt.clamp` at its
  input's scale.

Before calibrating on more than one batch, the model is converted once on the first batch, so
that the first unsupported layer is named at once; a calibration of more than one batch reports its
progress (`progress`, the CLI prints it on stderr).

Parameters keep their PyTorch state_dict names (`features.0.0.weight`); the IR input is the
NHWC int8 image with the calibrated input scale and zero point.
"""

from __future__ import annotations

import copy
import importlib.util
import math
import operator
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue
from xdsl.utils.exceptions import VerifyException

from ttdialect import dialect as tt
from ttdialect import numerics as nx
from ttdialect.errors import TTError
from ttdialect.importers.builder import ModelBuilder, save_model
from ttdialect.types import QTensorType

SUPPORTED = (
    "Conv2d (any groups, zero padding, no dilation), BatchNorm2d directly after a Conv2d, "
    "ReLU / ReLU6 / Hardtanh / clamp, Hardswish / Hardsigmoid / Sigmoid, residual add of two "
    "activations, multiply of two activations (same shape or an [N, C, 1, 1] gate), torch.cat on "
    "channels, MaxPool2d / AvgPool2d (no dilation; ceil_mode), AdaptiveAvgPool2d / mean over (H, W), "
    "flatten / view / reshape to [N, C*H*W] (and [N, C] to [N, C, 1, 1]), Linear, Dropout / Identity"
)
CALIBRATION_BATCH = 64
MIN_SCALE = 1e-8

_RELU_FUNCTIONS = {F.relu, torch.relu, torch.relu_, F.relu_}
_RELU_METHODS = {"relu", "relu_"}
_CLAMP_FUNCTIONS = {torch.clamp, torch.clip, torch.clamp_min, torch.clamp_max}
_CLAMP_METHODS = {"clamp", "clip", "clamp_", "clip_", "clamp_min", "clamp_max"}
_ADD_FUNCTIONS = {operator.add, operator.iadd, torch.add}
_ADD_METHODS = {"add", "add_"}
_MEAN_FUNCTIONS = {torch.mean}
_RESHAPE_FUNCTIONS = {torch.flatten, torch.reshape, torch.squeeze}
_RESHAPE_METHODS = {"view", "reshape", "flatten", "squeeze"}
_IDENTITY_MODULES = (nn.Identity, nn.Dropout, nn.Dropout2d, nn.AlphaDropout)
_MUL_FUNCTIONS = {operator.mul, operator.imul, torch.mul}
_MUL_METHODS = {"mul", "mul_"}
_CAT_FUNCTIONS = {torch.cat, torch.concat, torch.concatenate}
_ACTIVATION_MODULES = {nn.Hardswish: "hard_swish", nn.Hardsigmoid: "hard_sigmoid", nn.Sigmoid: "sigmoid"}
_ACTIVATION_FUNCTIONS = {
    F.hardswish: "hard_swish",
    F.hardsigmoid: "hard_sigmoid",
    torch.sigmoid: "sigmoid",
    F.sigmoid: "sigmoid",
}
_ACTIVATION_METHODS = {"sigmoid": "sigmoid", "sigmoid_": "sigmoid"}
_POOL_FUNCTIONS = {F.max_pool2d: "max", F.avg_pool2d: "avg"}


# --------------------------------------------------------------------------- quantization rules


def activation_qparams(low: float, high: float) -> tuple[float, int]:
    """Per-tensor asymmetric int8 (scale, zero point) of a calibrated range (0 included)."""
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    scale = (high - low) / 255.0
    if not scale > MIN_SCALE:  # a constant-zero tensor: any scale represents it
        return 1.0 / 255.0, 0
    zero_point = int(np.clip(round(nx.INT8_MIN - low / scale), nx.INT8_MIN, nx.INT8_MAX))
    return scale, zero_point


def quantize_weight(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel (axis 0) symmetric int8 in [-127, 127]; scales as float32.

    An all-zero channel borrows the largest scale of the others (its integers are 0 anyway).
    """
    weight = np.asarray(weight, dtype=np.float64)
    absmax = np.abs(weight.reshape(weight.shape[0], -1)).max(axis=1)
    fallback = absmax.max() if absmax.max() > 0 else 1.0
    scales = (np.where(absmax > 0, absmax, fallback) / nx.WEIGHT_MAX).astype(np.float32)
    shape = (-1,) + (1,) * (weight.ndim - 1)
    q = np.clip(np.rint(weight / scales.astype(np.float64).reshape(shape)), nx.WEIGHT_MIN, nx.WEIGHT_MAX)
    return q.astype(np.int8), scales


def quantize_bias(bias: np.ndarray, x_scale: float, w_scales: np.ndarray) -> np.ndarray:
    """int32 bias in units of x_scale * w_scale[o] (saturated to the int32 range)."""
    units = float(x_scale) * np.asarray(w_scales, dtype=np.float64)
    q = np.rint(np.asarray(bias, dtype=np.float64) / units)
    return np.clip(q, nx.INT32_MIN, nx.INT32_MAX).astype(np.int32)


def fold_batchnorm(
    weight: np.ndarray, bias: np.ndarray | None, bn: nn.BatchNorm2d
) -> tuple[np.ndarray, np.ndarray]:
    """Conv weight [O, ...] and bias with an eval-mode BatchNorm2d folded in (float64)."""
    assert bn.running_mean is not None and bn.running_var is not None
    mean = bn.running_mean.detach().double().numpy()
    var = bn.running_var.detach().double().numpy()
    gamma = bn.weight.detach().double().numpy() if bn.weight is not None else np.ones_like(mean)
    beta = bn.bias.detach().double().numpy() if bn.bias is not None else np.zeros_like(mean)
    factor = gamma / np.sqrt(var + bn.eps)
    base = bias if bias is not None else np.zeros_like(mean)
    folded_weight = weight * factor.reshape((-1,) + (1,) * (weight.ndim - 1))
    return folded_weight, (base - mean) * factor + beta


# --------------------------------------------------------------------------- calibration


@dataclass
class _Stats:
    low: float
    high: float
    shape: tuple[int, ...]  # of the calibration run (its batch size first)


class _Recorder(fx.Interpreter):
    """Runs the traced model and records min/max and shape of every float tensor it computes."""

    def __init__(self, module: fx.GraphModule):
        super().__init__(module)
        self.stats: dict[fx.Node, _Stats] = {}
        self.values: dict[fx.Node, Any] = {}

    def run_node(self, n: fx.Node) -> Any:
        try:
            result = super().run_node(n)
        except Exception as error:  # the model's own code failed on the calibration batch
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise TTError(
                f"running the model on the calibration data failed at {_describe(n, self.module)}: {message}"
            ) from None
        if isinstance(result, torch.Tensor) and result.is_floating_point():
            low, high = float(result.min()), float(result.max())
            old = self.stats.get(n)
            if old is not None:
                low, high = min(low, old.low), max(high, old.high)
            self.stats[n] = _Stats(low, high, tuple(result.shape))
        elif n.op != "output":
            self.values[n] = result
        return result


Progress = Callable[[int, int], None]
"""progress(images done, images in all), called after each calibration batch."""


def calibrate(module: fx.GraphModule, images: np.ndarray, progress: Progress | None = None) -> _Recorder:
    recorder = _Recorder(module)
    with torch.no_grad():
        for start in range(0, len(images), CALIBRATION_BATCH):
            if progress is not None and start > 0:
                progress(start, len(images))
            batch = torch.from_numpy(np.ascontiguousarray(images[start : start + CALIBRATION_BATCH]))
            try:
                recorder.run(batch)
            except TTError as error:  # fx.Interpreter appends "While executing ..." to the message
                raise TTError(str(error).strip().splitlines()[0]) from None
    if progress is not None and len(images) > CALIBRATION_BATCH:
        progress(len(images), len(images))
    return recorder


def stderr_progress(prefix: str) -> Progress:
    """A progress callback printing `prefix: calibrating: 640/1000 images` lines on stderr."""

    def report(done: int, total: int) -> None:
        print(f"{prefix}calibrating: {done}/{total} images", file=sys.stderr, flush=True)

    return report


# --------------------------------------------------------------------------- graph conversion


def _qualname(target: Any) -> str:
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__name__", None) or repr(target)
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    if module.startswith("torch") or module == "" or module == "builtins":
        for prefix, namespace in (("torch.nn.functional", F), ("torch", torch)):
            if getattr(namespace, name, None) is target:
                return f"{prefix}.{name}"
    return f"{module}.{name}" if module else name


def _describe(node: fx.Node, root: nn.Module) -> str:
    """`layer 'features.3' (MaxPool2d)`: the fx node and, for functions, the module it is in."""
    if node.op == "call_module":
        module = root.get_submodule(str(node.target))
        return f"layer '{node.target}' ({type(module).__name__})"
    if node.op == "call_function":
        what = f"'{node.name}' ({_qualname(node.target)})"
    elif node.op == "call_method":
        what = f"'{node.name}' (Tensor.{node.target})"
    elif node.op == "get_attr":
        return f"tensor attribute '{node.target}' (used directly)"
    else:
        what = f"'{node.name}' ({node.op})"
    stack = node.meta.get("nn_module_stack")
    if stack:
        what += f" in module '{list(stack.keys())[-1]}'"
    return f"layer {what}"


def _arg(node: fx.Node, index: int, name: str, default: Any = None) -> Any:
    if name in node.kwargs:
        return node.kwargs[name]
    if len(node.args) > index:
        return node.args[index]
    return default


_POOL_OPTIONS = {
    "max": ("dilation", "ceil_mode", "return_indices"),
    "avg": ("ceil_mode", "count_include_pad", "divisor_override"),
}
_POOL_DEFAULTS: dict[str, dict[str, Any]] = {
    "max": {"dilation": 1, "ceil_mode": False, "return_indices": False},
    "avg": {"ceil_mode": False, "count_include_pad": True, "divisor_override": None},
}


def _int_pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    first, second = value
    return int(first), int(second)


def _padding_after(size: int, kernel: int, stride: int, before: int, output: int) -> int:
    """The padding after an axis that gives `output` windows: the same as before if that does,
    else the least that lets the last window in (PyTorch's ceil_mode)."""
    if tt.pool_output_size(size, kernel, stride, before, before) == output:
        return before
    return max(0, (output - 1) * stride + kernel - size - before)


def _is_gate(gate: tuple[int, ...], full: tuple[int, ...]) -> bool:
    """Whether `gate` is an [N, C, 1, 1] gate of the NCHW shape `full`."""
    return len(gate) == len(full) == 4 and gate[:2] == full[:2] and gate[2:] == (1, 1)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("bound is not a number")
    return float(value)


class _Converter:
    def __init__(self, gm: fx.GraphModule, recorder: _Recorder, batch_size: int):
        self.gm = gm
        self.modules = dict(gm.named_modules())
        self.stats = recorder.stats
        self.values = recorder.values
        self.env: dict[fx.Node, SSAValue] = {}
        self.done: set[fx.Node] = set()
        self.used_modules: set[str] = set()
        self.flattened: dict[fx.Node, tuple[int, int, int]] = {}
        """Flattened [N, C, H, W] maps (H * W > 1) by node: their features are in tt's (h, w, c)
        order, PyTorch's are in (c, h, w) order."""
        placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
        if len(placeholders) != 1:
            raise TTError(
                f"the model must take exactly one input tensor, its forward takes {len(placeholders)}"
            )
        self.input = placeholders[0]
        if self.input not in self.stats:
            raise TTError("the model input is not a float tensor")
        stats = self.stats[self.input]
        _, c, h, w = stats.shape
        scale, zp = activation_qparams(stats.low, stats.high)
        self.builder = ModelBuilder(QTensorType((batch_size, h, w, c), scale, zp))

    # ----------------------------------------------------------------- helpers

    def unsupported(self, node: fx.Node, why: str | None = None) -> TTError:
        detail = f" ({why})" if why else ""
        return TTError(
            f"{_describe(node, self.gm)} is not supported by the torch importer{detail}; "
            f"supported: {SUPPORTED}"
        )

    def module(self, node: fx.Node) -> nn.Module | None:
        return self.modules[str(node.target)] if node.op == "call_module" else None

    def source(self, node: fx.Node, arg: Any) -> SSAValue:
        """The tt value of an activation operand of `node`."""
        if isinstance(arg, fx.Node) and arg in self.env:
            return self.env[arg]
        raise self.unsupported(node, "its input is not an activation of the network")

    def shape(self, node: fx.Node) -> tuple[int, ...]:
        return self.stats[node].shape

    def out_qparams(self, node: fx.Node) -> tuple[float, int]:
        stats = self.stats[node]
        return activation_qparams(stats.low, stats.high)

    def activation_bounds(self, node: fx.Node) -> tuple[float, float] | None:
        """(low, high) real bounds if `node` is a clamping activation of its first input."""
        module = self.module(node)
        try:
            if isinstance(module, nn.ReLU6):
                return 0.0, 6.0
            if isinstance(module, nn.ReLU):
                return 0.0, math.inf
            if isinstance(module, nn.Hardtanh):
                return float(module.min_val), float(module.max_val)
            if node.op == "call_function":
                if node.target in _RELU_FUNCTIONS:
                    return 0.0, math.inf
                if node.target is F.relu6:
                    return 0.0, 6.0
                if node.target is F.hardtanh:
                    low, high = (
                        _number(_arg(node, 1, "min_val", -1.0)),
                        _number(_arg(node, 2, "max_val", 1.0)),
                    )
                    return (-math.inf if low is None else low), (math.inf if high is None else high)
                if node.target in _CLAMP_FUNCTIONS:
                    return self._clamp_bounds(node, str(getattr(node.target, "__name__", "")))
            if node.op == "call_method":
                if node.target in _RELU_METHODS:
                    return 0.0, math.inf
                if node.target in _CLAMP_METHODS:
                    return self._clamp_bounds(node, str(node.target))
        except ValueError as error:
            raise self.unsupported(node, str(error)) from None
        return None

    def _clamp_bounds(self, node: fx.Node, name: str) -> tuple[float, float]:
        if name.startswith("clamp_min"):
            low, high = _number(_arg(node, 1, "min")), None
        elif name.startswith("clamp_max"):
            low, high = None, _number(_arg(node, 1, "max"))
        else:
            low, high = _number(_arg(node, 1, "min")), _number(_arg(node, 2, "max"))
        return (-math.inf if low is None else low), (math.inf if high is None else high)

    def clamp_range(self, bounds: tuple[float, float] | None, scale: float, zp: int) -> tuple[int, int]:
        if bounds is None:
            return nx.INT8_MIN, nx.INT8_MAX

        def quantized(real: float) -> int:
            if math.isinf(real):
                return nx.INT8_MIN if real < 0 else nx.INT8_MAX
            return int(nx.quantize(np.array(real), scale, zp))

        low, high = quantized(bounds[0]), quantized(bounds[1])
        return low, max(low, high)

    def sole_user(self, node: fx.Node) -> fx.Node | None:
        users = list(node.users)
        return users[0] if len(users) == 1 and users[0].args and users[0].args[0] is node else None

    def fuse_activation(self, node: fx.Node) -> tuple[fx.Node, tuple[float, float] | None]:
        """The node whose value the fused op produces, and the activation bounds folded in."""
        user = self.sole_user(node)
        if user is not None and user.op != "output":
            bounds = self.activation_bounds(user)
            if bounds is not None:
                self.done.add(user)
                return user, bounds
        return node, None

    def claim_module(self, node: fx.Node) -> None:
        name = str(node.target)
        if name in self.used_modules:
            raise self.unsupported(node, "the module is called twice; shared weights are not supported")
        self.used_modules.add(name)

    # ----------------------------------------------------------------- layers

    def conv(self, node: fx.Node, conv: nn.Conv2d) -> None:
        x = self.source(node, node.args[0])
        if conv.padding_mode != "zeros":
            raise self.unsupported(node, f"padding_mode '{conv.padding_mode}'")
        if tuple(conv.dilation) != (1, 1):
            raise self.unsupported(node, f"dilation {tuple(conv.dilation)}")
        kh, kw = conv.kernel_size
        if conv.padding == "valid":
            padding = (0, 0)
        elif conv.padding == "same":
            if tuple(conv.stride) != (1, 1) or kh % 2 == 0 or kw % 2 == 0:
                raise self.unsupported(node, "padding='same' needs stride 1 and an odd kernel")
            padding = ((kh - 1) // 2, (kw - 1) // 2)
        else:
            padding = (int(conv.padding[0]), int(conv.padding[1]))
        self.claim_module(node)
        weight = conv.weight.detach().double().numpy()
        bias = conv.bias.detach().double().numpy() if conv.bias is not None else None
        last = node
        bn_user = self.sole_user(node)
        if bn_user is not None and isinstance(self.module(bn_user), nn.BatchNorm2d):
            bn = self.module(bn_user)
            assert isinstance(bn, nn.BatchNorm2d)
            if bn.running_mean is None or bn.running_var is None:
                raise self.unsupported(bn_user, "BatchNorm2d without running statistics cannot be folded")
            self.claim_module(bn_user)
            weight, bias = fold_batchnorm(weight, bias, bn)
            self.done.add(bn_user)
            last = bn_user
        last, bounds = self.fuse_activation(last)
        x_type = x.type
        assert isinstance(x_type, QTensorType)
        q_weight, w_scales = quantize_weight(weight)
        q_bias = quantize_bias(bias, x_type.real_scale, w_scales) if bias is not None else None
        scale, zp = self.out_qparams(last)
        self.env[last] = self.builder.conv2d(
            x,
            f"{node.target}.",
            q_weight.transpose(0, 2, 3, 1),
            w_scales,
            q_bias,
            stride=(int(conv.stride[0]), int(conv.stride[1])),
            padding=padding,
            groups=conv.groups,
            out_scale=scale,
            out_zp=zp,
            act_range=self.clamp_range(bounds, scale, zp),
        )

    def linear(self, node: fx.Node, linear: nn.Linear) -> None:
        x = self.source(node, node.args[0])
        if len(self.shape(node.args[0])) != 2:  # type: ignore[arg-type]
            raise self.unsupported(node, "Linear needs a [N, C] input: flatten first")
        self.claim_module(node)
        last, bounds = self.fuse_activation(node)
        x_type = x.type
        assert isinstance(x_type, QTensorType)
        weight = linear.weight.detach().double().numpy()
        if node.args[0] in self.flattened:  # PyTorch's (c, h, w) columns in tt's (h, w, c) order
            c, h, w = self.flattened[node.args[0]]  # type: ignore[index]
            weight = weight.reshape(-1, c, h, w).transpose(0, 2, 3, 1).reshape(weight.shape[0], -1)
        q_weight, w_scales = quantize_weight(weight)
        bias = linear.bias
        q_bias = None
        if bias is not None:
            q_bias = quantize_bias(bias.detach().double().numpy(), x_type.real_scale, w_scales)
        scale, zp = self.out_qparams(last)
        self.env[last] = self.builder.linear(
            x, f"{node.target}.", q_weight, w_scales, q_bias, scale, zp, self.clamp_range(bounds, scale, zp)
        )

    def add(self, node: fx.Node) -> None:
        if len(node.args) != 2 or set(node.kwargs) - {"alpha"} or node.kwargs.get("alpha", 1) != 1:
            raise self.unsupported(node, "only a plain add of two activations")
        lhs_node, rhs_node = node.args
        if not all(isinstance(a, fx.Node) and a in self.env for a in (lhs_node, rhs_node)):
            raise self.unsupported(node, "only the add of two activations (no constants)")
        if self.shape(lhs_node) != self.shape(rhs_node):  # type: ignore[arg-type]
            raise self.unsupported(node, "operands of different shapes (broadcasting)")
        self.refuse_flattened(node, [lhs_node, rhs_node])
        lhs, rhs = self.env[lhs_node], self.env[rhs_node]  # type: ignore[index]
        last, bounds = self.fuse_activation(node)
        scale, zp = self.out_qparams(last)
        self.env[last] = self.builder.add(lhs, rhs, scale, zp, self.clamp_range(bounds, scale, zp))

    def global_pool(self, node: fx.Node) -> None:
        x = self.source(node, node.args[0])
        in_shape = self.shape(node.args[0])  # type: ignore[arg-type]
        if len(in_shape) != 4:
            raise self.unsupported(node, f"global pooling needs an NCHW input, got shape {in_shape}")
        pooled = self.builder.global_avg_pool(x)
        out_shape = self.shape(node)
        self.env[node] = self.builder.flatten(pooled) if len(out_shape) == 2 else pooled

    def reshape(self, node: fx.Node) -> None:
        x = self.source(node, node.args[0])
        in_shape, out_shape = self.shape(node.args[0]), self.shape(node)  # type: ignore[arg-type]
        if in_shape == out_shape:
            self.env[node] = x
            return
        if node.args[0] in self.flattened:
            raise self.unsupported(node, "a reshape of a flattened map")
        if len(out_shape) == 2 and out_shape[0] == in_shape[0] and len(in_shape) == 4:
            self.env[node] = self.builder.flatten(x)
            _, c, h, w = in_shape
            if h * w > 1 and sum(1 for d in in_shape[1:] if d > 1) > 1:
                self.flattened[node] = (c, h, w)
            return
        if len(in_shape) == 2 and len(out_shape) == 4 and out_shape == (*in_shape, 1, 1):
            n, c = x.type.get_shape()  # type: ignore[attr-defined]
            self.env[node] = self.builder.reshape(x, (n, 1, 1, c))  # [N, C] -> [N, C, 1, 1]
            return
        raise self.unsupported(
            node,
            f"reshape of {list(in_shape)} to {list(out_shape)}; only a flatten [N, C, H, W] -> [N, C*H*W] "
            "and [N, C] -> [N, C, 1, 1]",
        )

    def standalone_activation(self, node: fx.Node, bounds: tuple[float, float]) -> None:
        x = self.source(node, node.args[0])
        x_type = x.type
        assert isinstance(x_type, QTensorType)
        act_range = self.clamp_range(bounds, x_type.real_scale, x_type.zp)
        self.env[node] = self.builder.clamp(x, act_range)
        self.keep_layout(node)

    def refuse_flattened(self, node: fx.Node, operands: list[Any]) -> None:
        """Operands in tt's (h, w, c) feature order can only feed a Linear layer."""
        if any(operand in self.flattened for operand in operands):
            raise self.unsupported(node, "a flattened spatial map feeds something other than a Linear layer")

    def keep_layout(self, node: fx.Node) -> None:
        """An element-wise op keeps its input's (flattened) feature order."""
        source = node.args[0] if node.args else None
        if source in self.flattened:
            self.flattened[node] = self.flattened[source]  # type: ignore[index]

    def pool_geometry(
        self, node: fx.Node, kernel: Any, stride: Any, padding: Any
    ) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int, int, int]]:
        """(kernel, stride, (top, left, bottom, right)) of a PyTorch pool: the bottom / right
        padding reproduces its output size (ceil_mode pads there)."""
        kernel, stride = _int_pair(kernel), _int_pair(stride if stride not in (None, []) else kernel)
        top, left = _int_pair(padding)
        _, _, h, w = self.shape(node.args[0])  # type: ignore[arg-type]
        _, _, oh, ow = self.shape(node)
        bottom = _padding_after(h, kernel[0], stride[0], top, oh)
        right = _padding_after(w, kernel[1], stride[1], left, ow)
        sizes = (
            tt.pool_output_size(h, kernel[0], stride[0], top, bottom),
            tt.pool_output_size(w, kernel[1], stride[1], left, right),
        )
        if sizes != (oh, ow) or max(top, bottom) >= kernel[0] or max(left, right) >= kernel[1]:
            raise self.unsupported(node, f"a pool of {kernel} with padding {(top, left)} giving {(oh, ow)}")
        return kernel, stride, (top, left, bottom, right)

    def pool(self, node: fx.Node, kind: str) -> None:
        """MaxPool2d / AvgPool2d (module or function): at the input's quantization."""
        x = self.source(node, node.args[0])
        self.refuse_flattened(node, [node.args[0]])
        module = self.module(node)
        if module is not None:  # no weights: a pool module may be called more than once
            options = {name: getattr(module, name) for name in _POOL_OPTIONS[kind] if hasattr(module, name)}
            kernel, stride, padding = module.kernel_size, module.stride, module.padding  # type: ignore[union-attr]
        else:
            names = ("input", "kernel_size", "stride", "padding", *_POOL_OPTIONS[kind])
            defaults = {"stride": None, "padding": 0, **_POOL_DEFAULTS[kind]}
            values = {name: _arg(node, i, name, defaults.get(name)) for i, name in enumerate(names) if i > 0}
            kernel, stride, padding = values["kernel_size"], values["stride"], values["padding"]
            options = {name: values[name] for name in _POOL_OPTIONS[kind]}
        self.check_pool_options(node, kind, options, padding)
        geometry = self.pool_geometry(node, kernel, stride, padding)
        last, bounds = self.fuse_activation(node)
        x_type = x.type
        assert isinstance(x_type, QTensorType)
        act = self.clamp_range(bounds, x_type.real_scale, x_type.zp)
        self.env[last] = self.builder.pool(kind, x, *geometry, act_range=act)

    def check_pool_options(self, node: fx.Node, kind: str, options: dict[str, Any], padding: Any) -> None:
        if kind == "max":
            if _int_pair(options.get("dilation", 1)) != (1, 1):
                raise self.unsupported(node, f"dilation {options['dilation']}")
            if options.get("return_indices"):
                raise self.unsupported(node, "return_indices=True")
            return
        if options.get("divisor_override") is not None:
            raise self.unsupported(node, "divisor_override")
        if options.get("count_include_pad", True) and _int_pair(padding) != (0, 0):
            raise self.unsupported(
                node,
                "count_include_pad=True with padding divides by the padded window; tt.avg_pool (TFLite's "
                "AVERAGE_POOL_2D) divides by the valid taps: use count_include_pad=False",
            )

    def adaptive_avg_pool(self, node: fx.Node) -> None:
        """AdaptiveAvgPool2d to a size that divides the input: an average pool of equal windows."""
        _, _, h, w = self.shape(node.args[0])  # type: ignore[arg-type]
        _, _, oh, ow = self.shape(node)
        if h % oh or w % ow:
            raise self.unsupported(
                node, f"adaptive average pooling of {(h, w)} to {(oh, ow)} (unequal windows)"
            )
        x = self.source(node, node.args[0])
        kernel = (h // oh, w // ow)
        self.env[node] = self.builder.pool("avg", x, kernel, kernel, (0, 0, 0, 0))

    def lookup_activation(self, node: fx.Node, name: str) -> None:
        x = self.source(node, node.args[0])
        scale, zp = self.out_qparams(node)
        self.env[node] = self.builder.activation(x, name, scale, zp)
        self.keep_layout(node)

    def mul(self, node: fx.Node) -> None:
        if len(node.args) != 2 or node.kwargs:
            raise self.unsupported(node, "only a plain multiply of two activations")
        operands = list(node.args)
        if not all(isinstance(a, fx.Node) and a in self.env for a in operands):
            raise self.unsupported(node, "only the multiply of two activations (no constants)")
        self.refuse_flattened(node, operands)
        shapes = [self.shape(a) for a in operands]  # type: ignore[arg-type]
        if shapes[0] != shapes[1]:
            if _is_gate(shapes[0], shapes[1]):
                operands.reverse()
            elif not _is_gate(shapes[1], shapes[0]):
                raise self.unsupported(
                    node,
                    f"a multiply of shapes {list(shapes[0])} and {list(shapes[1])}; only equal shapes "
                    "or an [N, C, 1, 1] gate",
                )
        lhs, rhs = self.env[operands[0]], self.env[operands[1]]  # type: ignore[index]
        last, bounds = self.fuse_activation(node)
        scale, zp = self.out_qparams(last)
        self.env[last] = self.builder.mul(lhs, rhs, scale, zp, self.clamp_range(bounds, scale, zp))

    def concat(self, node: fx.Node) -> None:
        tensors = _arg(node, 0, "tensors")
        dim = _arg(node, 1, "dim", 0)
        if not isinstance(tensors, list | tuple) or not tensors or not isinstance(dim, int):
            raise self.unsupported(node, "torch.cat of a list of activations on a constant dim")
        rank = len(self.shape(node))
        if dim % rank != 1:
            raise self.unsupported(node, f"concatenation on dim {dim}; only on channels (dim 1)")
        self.refuse_flattened(node, list(tensors))
        inputs = [self.source(node, value) for value in tensors]
        scale, zp = self.out_qparams(node)
        self.env[node] = self.builder.concat(inputs, scale, zp)

    # ----------------------------------------------------------------- dispatch

    def is_global_pool(self, node: fx.Node) -> bool:
        module = self.module(node)
        if node not in self.stats or not node.args or node.args[0] not in self.stats:
            return False
        in_shape, out_shape = self.shape(node.args[0]), self.shape(node)  # type: ignore[arg-type]
        if len(in_shape) != 4 or out_shape[:2] != in_shape[:2] or any(d != 1 for d in out_shape[2:]):
            return False
        if isinstance(module, nn.AdaptiveAvgPool2d):
            return True
        if isinstance(module, nn.AvgPool2d):
            kernel = (
                module.kernel_size if isinstance(module.kernel_size, tuple) else (module.kernel_size,) * 2
            )
            return module.padding in (0, (0, 0)) and tuple(kernel) == in_shape[2:]
        if node.op == "call_function" and node.target is F.adaptive_avg_pool2d:
            return True
        if (node.op == "call_function" and node.target in _MEAN_FUNCTIONS) or (
            node.op == "call_method" and node.target == "mean"
        ):
            dims = _arg(node, 1, "dim")
            dims = [dims] if isinstance(dims, int) else list(dims or [])
            return sorted(d % 4 for d in dims) == [2, 3] and _arg(node, 3, "dtype") is None
        return False

    def pool_kind(self, node: fx.Node) -> str | None:
        """ "max" / "avg" for a MaxPool2d / AvgPool2d (module or function), else None."""
        module = self.module(node)
        if isinstance(module, nn.MaxPool2d):
            return "max"
        if isinstance(module, nn.AvgPool2d):
            return "avg"
        if node.op == "call_function":
            return _POOL_FUNCTIONS.get(node.target)  # type: ignore[arg-type]
        return None

    def activation_name(self, node: fx.Node) -> str | None:
        """The table activation (numerics.ACTIVATIONS) a node computes, if any."""
        module = self.module(node)
        if module is not None:
            return _ACTIVATION_MODULES.get(type(module))
        if node.op == "call_function":
            return _ACTIVATION_FUNCTIONS.get(node.target)  # type: ignore[arg-type]
        if node.op == "call_method":
            return _ACTIVATION_METHODS.get(str(node.target))
        return None

    def is_reshape(self, node: fx.Node) -> bool:
        module = self.module(node)
        return (
            isinstance(module, nn.Flatten | nn.Unflatten)
            or (node.op == "call_function" and node.target in _RESHAPE_FUNCTIONS)
            or (node.op == "call_method" and node.target in _RESHAPE_METHODS)
        )

    def convert(self, node: fx.Node) -> None:
        module = self.module(node)
        if node.op == "placeholder":
            self.env[node] = self.builder.image
        elif node.op == "get_attr" or (node in self.values and node not in self.stats):
            # a shape computation (x.size(0)) or a constant: fine as long as no layer consumes it
            if node.op == "get_attr" and any(u.op != "output" and u not in self.values for u in node.users):
                raise self.unsupported(node)
        elif isinstance(module, nn.Conv2d):
            self.conv(node, module)
        elif isinstance(module, nn.Linear):
            self.linear(node, module)
        elif isinstance(module, _IDENTITY_MODULES) or (
            node.op == "call_function" and node.target is F.dropout and not _arg(node, 2, "training", True)
        ):
            self.env[node] = self.source(node, node.args[0])
            self.keep_layout(node)
        elif isinstance(module, nn.BatchNorm2d):
            raise self.unsupported(node, "a BatchNorm2d must directly follow the Conv2d it is folded into")
        elif (node.op == "call_function" and node.target in _ADD_FUNCTIONS) or (
            node.op == "call_method" and node.target in _ADD_METHODS
        ):
            self.add(node)
        elif self.is_global_pool(node):
            self.global_pool(node)
        elif (kind := self.pool_kind(node)) is not None:
            self.pool(node, kind)
        elif isinstance(module, nn.AdaptiveAvgPool2d) or (
            node.op == "call_function" and node.target is F.adaptive_avg_pool2d
        ):
            self.adaptive_avg_pool(node)
        elif (name := self.activation_name(node)) is not None:
            self.lookup_activation(node, name)
        elif (node.op == "call_function" and node.target in _MUL_FUNCTIONS) or (
            node.op == "call_method" and node.target in _MUL_METHODS
        ):
            self.mul(node)
        elif node.op == "call_function" and node.target in _CAT_FUNCTIONS:
            self.concat(node)
        elif self.is_reshape(node):
            self.reshape(node)
        elif (bounds := self.activation_bounds(node)) is not None:
            self.standalone_activation(node, bounds)
        else:
            raise self.unsupported(node)

    def run(self) -> SSAValue:
        result: SSAValue | None = None
        for node in self.gm.graph.nodes:
            if node in self.done:
                continue
            if node.op == "output":
                (value,) = node.args
                if not isinstance(value, fx.Node) or value not in self.env:
                    raise TTError("the model must return a single activation tensor (the logits)")
                if value in self.flattened:
                    raise self.unsupported(
                        value, "the model returns a flattened spatial map (no Linear after it)"
                    )
                result = self.env[value]
            else:
                self.convert(node)
        assert result is not None
        return result


# --------------------------------------------------------------------------- entry points


def _prepare(module: nn.Module) -> fx.GraphModule:
    """A traced eval-mode copy of `module`, without in-place activations."""
    model = copy.deepcopy(module).eval()
    for sub in model.modules():
        if getattr(sub, "inplace", False) is True:
            sub.inplace = False  # type: ignore[assignment]
    try:
        return fx.symbolic_trace(model)
    except Exception as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TTError(f"cannot trace the model with torch.fx: {message}") from None


def check_calibration(calibration: Any, where: str = "calibration data") -> np.ndarray:
    """Float32 NCHW images, or a TTError saying what is wrong with them."""
    if not isinstance(calibration, np.ndarray):
        raise TTError(f"{where} must be a numpy array, got {type(calibration).__name__}")
    if calibration.dtype.kind not in "fiu":
        raise TTError(f"{where} must hold real numbers, got dtype {calibration.dtype}")
    if calibration.ndim != 4 or calibration.shape[0] == 0:
        raise TTError(f"{where} must be a non-empty NCHW array, got shape {list(calibration.shape)}")
    images = calibration.astype(np.float32)
    if not np.isfinite(images).all():
        raise TTError(f"{where} contains NaN or infinite values")
    return images


def import_torch(
    module: nn.Module,
    calibration: np.ndarray,
    output: Path,
    *,
    batch_size: int = 1,
    progress: Progress | None = None,
) -> ModuleOp:
    """Quantize float `module` with `calibration` (NCHW float images) and write `output` (.mlir).

    The IR's @forward takes a [batch_size, H, W, C] int8 image; the weights file is written
    beside `output`. Returns the verified module. A calibration of more than one batch is preceded
    by a conversion on the first batch, so an unsupported layer is reported before it, and
    followed by `progress(done, total)`.
    """
    if not isinstance(module, nn.Module):
        raise TTError(f"expected a torch.nn.Module, got {type(module).__name__}")
    images = check_calibration(calibration)
    _check_finite(module)
    gm = _prepare(module)
    if len(images) > CALIBRATION_BATCH:  # else the calibration is one batch anyway
        _dry_run(gm, images[:CALIBRATION_BATCH], batch_size)
    recorder = calibrate(gm, images, progress)
    try:
        converter = _Converter(gm, recorder, batch_size)
        result = converter.run()
    except VerifyException as error:
        first = str(error).strip().splitlines()[0]
        raise TTError(
            f"the model cannot be quantized ({first}): are its weights or activations beyond float32?"
        ) from None
    return save_model(converter.builder, result, Path(output))


def _dry_run(gm: fx.GraphModule, images: np.ndarray, batch_size: int) -> None:
    """Convert the model calibrated on its first batch: every unsupported layer or structure is
    reported as after the whole calibration, but at once. (Numeric failures depend on the
    ranges: they are left to the real conversion.)"""
    try:
        _Converter(gm, calibrate(gm, images), batch_size).run()
    except (nx.NumericsError, VerifyException):
        pass


def _check_finite(module: nn.Module) -> None:
    """Refuse NaN or infinite parameters and buffers (int8 would silently make them 0)."""
    for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise TTError(f"parameter '{name}' holds NaN or infinite values")


# --------------------------------------------------------------------------- CLI adapter


_SHAPE = re.compile(r"^\s*(\d+)x(\d+)x(\d+)x(\d+)\s*$")


def parse_input_shape(text: str | None) -> tuple[int, int, int, int]:
    if text is None:
        raise TTError("--torch needs --input-shape NxCxHxW (e.g. 1x3x32x32)")
    match = _SHAPE.match(text)
    dims = tuple(int(d) for d in match.groups()) if match else ()
    if len(dims) != 4 or min(dims) < 1:
        raise TTError(f"--input-shape '{text}' must be NxCxHxW with positive integers, e.g. 1x3x32x32")
    return dims  # type: ignore[return-value]


def load_factory(spec: str) -> Callable[[], Any]:
    """FACTORY from FILE.py in `FILE.py:FACTORY` (the file is run as a fresh module)."""
    file_name, sep, factory_name = spec.rpartition(":")
    if not sep or not file_name or not factory_name:
        raise TTError(f"--torch '{spec}' must be FILE.py:FACTORY")
    path = Path(file_name)
    if not path.is_file():
        raise TTError(f"{path}: no such Python file")
    if path.suffix != ".py":
        raise TTError(f"{path}: the model file must be a .py file")
    if not factory_name.isidentifier():
        raise TTError(f"--torch '{spec}': '{factory_name}' is not a Python name")
    module_name = f"_tt_torch_model_{abs(hash(str(path.resolve())))}"
    import_spec = importlib.util.spec_from_file_location(module_name, path)
    if import_spec is None or import_spec.loader is None:
        raise TTError(f"{path}: cannot be loaded as a Python module")
    py_module = importlib.util.module_from_spec(import_spec)
    sys.modules[module_name] = py_module
    try:
        import_spec.loader.exec_module(py_module)
    except (Exception, SystemExit) as error:
        sys.modules.pop(module_name, None)
        raise TTError(f"{path}: loading failed: {type(error).__name__}: {error}") from None
    factory = getattr(py_module, factory_name, None)
    if factory is None:
        raise TTError(f"{path}: no function '{factory_name}'")
    if not callable(factory):
        raise TTError(f"{path}: '{factory_name}' is not callable")
    return factory


def load_calibration(path_text: str | None, shape: tuple[int, int, int, int]) -> np.ndarray:
    if path_text is None:
        raise TTError("--torch needs --calibration DATA.npy (float NCHW images)")
    path = Path(path_text)
    if not path.is_file():
        raise TTError(f"{path}: no such calibration file")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TTError(f"{path}: not a .npy array file ({first})") from None
    if not isinstance(data, np.ndarray):
        raise TTError(f"{path}: expected one array (.npy), got an archive (.npz)")
    images = check_calibration(data, str(path))
    if images.shape[1:] != shape[1:]:
        expected = "x".join(str(d) for d in shape[1:])
        got = "x".join(str(d) for d in images.shape)
        raise TTError(f"{path}: calibration images have shape {got}, --input-shape needs Nx{expected}")
    return images


def import_torch_cli(spec: str, input_shape: str | None, calibration: str | None, output: Path) -> None:
    """`tt-import --torch FILE.py:FACTORY --input-shape NxCxHxW --calibration DATA.npy -o OUT`."""
    shape = parse_input_shape(input_shape)
    factory = load_factory(spec)
    images = load_calibration(calibration, shape)
    try:
        model = factory()
    except (Exception, SystemExit) as error:
        raise TTError(f"{spec}: calling the factory failed: {type(error).__name__}: {error}") from None
    if not isinstance(model, nn.Module):
        raise TTError(f"{spec}: the factory returned {type(model).__name__}, not a torch.nn.Module")
    import_torch(model, images, output, batch_size=shape[0], progress=stderr_progress("tt-import: "))
