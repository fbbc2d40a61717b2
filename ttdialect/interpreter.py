"""Reference interpreter of the tt dialect (the oracle every other stage is checked against).

Built on xDSL's interpreter framework. Values are numpy arrays: int8 for `!tt.qtensor`, float32
for gradient tensors, int32 for labels; f32 scalars are Python floats. Integer convolutions run
as float64 torch convolutions, exact for every int8 model (sums stay far below 2**53).
Parameters live in a `ParamState`, which `tt.sgd_update` changes in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from xdsl.dialects.builtin import ModuleOp, SymbolRefAttr
from xdsl.interpreter import Interpreter, InterpreterFunctions, impl, register_impls
from xdsl.interpreters.arith import ArithFunctions
from xdsl.interpreters.func import FuncFunctions
from xdsl.utils.exceptions import InterpretationError

from ttdialect import dialect as tt
from ttdialect import numerics as nx
from ttdialect.types import QTensorType
from ttdialect.weights import WeightStore, module_params


@dataclass
class ParamState:
    """The current integer values and scales of every parameter, and the update RNG counter."""

    store: WeightStore
    rng_counter: int = 0
    values: dict[str, np.ndarray] = field(default_factory=dict)
    _scales: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.params = module_params(self.store.module)

    def value(self, name: str) -> np.ndarray:
        if name not in self.values:
            self.values[name] = self.store.value(self.params[name]).copy()
        return self.values[name]

    def scales(self, name: str) -> np.ndarray:
        if name not in self._scales:
            self._scales[name] = self.store.scales(self.params[name])
        return self._scales[name]

    def real_weight(self, name: str) -> np.ndarray:
        """Dequantized weight: int8 value times its output channel's scale (float64)."""
        value = self.value(name).astype(np.float64)
        return value * self.scales(name).reshape((-1,) + (1,) * (value.ndim - 1))


def _qtype(value: Any) -> QTensorType:
    assert isinstance(value.type, QTensorType)
    return value.type


def _nchw(nhwc: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(nhwc, dtype=np.float64)).permute(0, 3, 1, 2)


def _nhwc(nchw: torch.Tensor) -> np.ndarray:
    return nchw.permute(0, 2, 3, 1).numpy()


Padding = tuple[int, int, int, int]
"""(top, left, bottom, right) of a conv."""


def _conv_attrs(op: tt._ConvLike) -> tuple[tuple[int, int], Padding, int]:
    stride, _, groups = op.conv_params()
    return stride, op.conv_padding(), groups


def _four(padding: tuple[int, int]) -> Padding:
    return padding[0], padding[1], padding[0], padding[1]


def _finish_int8(
    acc: np.ndarray,
    real_scale: np.ndarray | float,
    out: QTensorType,
    lo: int,
    hi: int,
    numerics: str = "tt",
    single_rounding: bool = False,
) -> np.ndarray:
    """requantize an int32 accumulator to the output type (tt's or TFLite's rules) and clamp to
    [lo, hi]."""
    y = nx.requantize_scaled(acc, real_scale, numerics, single_rounding) + out.zp
    return _clamped(y, lo, hi)


def _clamped(y: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return nx.saturate(y, max(lo, nx.INT8_MIN), min(hi, nx.INT8_MAX), np.int8)


def _padded(nchw: torch.Tensor, padding: Padding) -> tuple[torch.Tensor, tuple[int, int]]:
    """`nchw` and the padding argument of a torch conv: (top, left) when symmetric, else the
    input zero-padded on all four sides and (0, 0)."""
    top, left, bottom, right = padding
    if (top, left) == (bottom, right):
        return nchw, (top, left)
    return F.pad(nchw, (left, right, top, bottom)), (0, 0)


def _ints(attr: Any) -> int:
    return int(attr.value.data)


def _pair(attr: Any) -> tuple[int, int]:
    first, second = (int(v) for v in attr.get_values())
    return first, second


@dataclass(frozen=True)
class _Conv:
    """What an int8 conv needs besides its input and output types."""

    weight: SymbolRefAttr
    bias: SymbolRefAttr | None
    stride: tuple[int, int]
    padding: Padding
    groups: int
    act: tuple[int, int]
    numerics: str = "tt"


def _sym(ref: SymbolRefAttr) -> str:
    return ref.root_reference.data


@register_impls
class TTFunctions(InterpreterFunctions):
    """numpy implementations of every tt op, over one ParamState."""

    def __init__(self, state: ParamState):
        self.state = state

    # ----------------------------------------------------------------- forward

    def _bias(self, ref: SymbolRefAttr | None, channels: int) -> np.ndarray:
        if ref is None:
            return np.zeros(channels, dtype=np.int64)
        return self.state.value(_sym(ref)).astype(np.int64)

    @impl(tt.Conv2DOp)
    def run_conv2d(self, interpreter: Interpreter, op: tt.Conv2DOp, args: tuple[Any, ...]):
        (x,) = args
        stride, padding, groups = _conv_attrs(op)
        act = (_ints(op.act_min), _ints(op.act_max))
        conv = _Conv(op.weight, op.bias, stride, padding, groups, act, tt.numerics_of(op))
        return (self._conv2d(conv, x, _qtype(op.input), _qtype(op.output)),)

    def _conv2d(self, conv: _Conv, x: np.ndarray, xt: QTensorType, yt: QTensorType) -> np.ndarray:
        """The int8 conv of tt.conv2d (the one implementation every conv-computing op uses)."""
        name = _sym(conv.weight)
        weight = self.state.value(name)
        source, padding = _padded(_nchw(x.astype(np.int64) - xt.zp), conv.padding)
        acc = F.conv2d(
            source,
            torch.from_numpy(weight.astype(np.float64)).permute(0, 3, 1, 2),
            stride=conv.stride,
            padding=padding,
            groups=conv.groups,
        )
        acc = np.rint(_nhwc(acc)).astype(np.int64) + self._bias(conv.bias, weight.shape[0])
        scale = xt.real_scale * self.state.scales(name) / yt.real_scale
        return _finish_int8(acc, scale, yt, *conv.act, conv.numerics)

    @impl(tt.BottleneckOp)
    def run_bottleneck(self, interpreter: Interpreter, op: tt.BottleneckOp, args: tuple[Any, ...]):
        """The expand -> depthwise -> project composition of tt.conv2d, value by value."""
        x, xt = args[0], _qtype(op.input)
        numerics = tt.numerics_of(op)
        if op.expand_weight is not None:
            assert op.expanded_type is not None and op.expand_act is not None
            _, stride, padding = op.expand_geometry()
            act = _pair(op.expand_act)
            expand = _Conv(op.expand_weight, op.expand_bias, stride, _four(padding), 1, act, numerics)
            x, xt = self._conv2d(expand, x, xt, op.expanded_type), op.expanded_type
        stride, padding = _pair(op.stride), _four(_pair(op.padding))
        groups, act = xt.get_shape()[3], _pair(op.depthwise_act)
        depthwise = _Conv(op.depthwise_weight, op.depthwise_bias, stride, padding, groups, act, numerics)
        x, xt = self._conv2d(depthwise, x, xt, op.depthwise_type), op.depthwise_type
        act = _pair(op.project_act)
        project = _Conv(op.project_weight, op.project_bias, (1, 1), (0, 0, 0, 0), 1, act, numerics)
        return (self._conv2d(project, x, xt, _qtype(op.output)),)

    @impl(tt.LinearOp)
    def run_linear(self, interpreter: Interpreter, op: tt.LinearOp, args: tuple[Any, ...]):
        (x,) = args
        xt, yt = _qtype(op.input), _qtype(op.output)
        name = _sym(op.weight)
        weight = self.state.value(name).astype(np.int64)
        acc = (x.astype(np.int64) - xt.zp) @ weight.T + self._bias(op.bias, weight.shape[0])
        scale = xt.real_scale * self.state.scales(name) / yt.real_scale
        act, numerics = (_ints(op.act_min), _ints(op.act_max)), tt.numerics_of(op)
        return (_finish_int8(acc, scale, yt, *act, numerics, op.name in nx.TFLITE_SINGLE_ROUNDING),)

    @impl(tt.AddOp)
    def run_add(self, interpreter: Interpreter, op: tt.AddOp, args: tuple[Any, ...]):
        lhs, rhs = args
        at, bt, yt = _qtype(op.lhs), _qtype(op.rhs), _qtype(op.output)
        numerics = tt.numerics_of(op)
        twice_max = 2 * max(at.real_scale, bt.real_scale)
        total = np.zeros(lhs.shape, dtype=np.int64)
        for q, qt in ((lhs, at), (rhs, bt)):
            shifted = np.left_shift(q.astype(np.int64) - qt.zp, nx.ADD_LEFT_SHIFT)
            total += nx.requantize_scaled(shifted, qt.real_scale / twice_max, numerics)
        out_scale = twice_max / ((1 << nx.ADD_LEFT_SHIFT) * yt.real_scale)
        return (_finish_int8(total, out_scale, yt, _ints(op.act_min), _ints(op.act_max), numerics),)

    @impl(tt.GlobalAvgPoolOp)
    def run_global_avg_pool(self, interpreter: Interpreter, op: tt.GlobalAvgPoolOp, args: tuple[Any, ...]):
        (x,) = args
        xt, yt = _qtype(op.input), _qtype(op.output)
        _, h, w, _ = x.shape
        acc = (x.astype(np.int64) - xt.zp).sum(axis=(1, 2), keepdims=True)
        numerics = tt.numerics_of(op)
        multiplier, shift = nx.mean_multiplier(xt.real_scale, yt.real_scale, h * w, numerics)
        return (_clamped(nx.requantize_by(acc, multiplier, shift, numerics) + yt.zp, -128, 127),)

    @impl(tt.MaxPoolOp)
    def run_max_pool(self, interpreter: Interpreter, op: tt.MaxPoolOp, args: tuple[Any, ...]):
        maximum, indices = _window_max(op, args[0])
        y = np.clip(maximum, _ints(op.act_min), _ints(op.act_max)).astype(np.int8)
        return (y,) if op.indices is None else (y, indices.astype(np.uint8))

    @impl(tt.AvgPoolOp)
    def run_avg_pool(self, interpreter: Interpreter, op: tt.AvgPoolOp, args: tuple[Any, ...]):
        total = _window_sum(op, args[0].astype(np.int64))
        count = _window_sum(op, np.ones(args[0].shape, dtype=np.int64))
        mean = nx.round_divide(total, count)
        return (np.clip(mean, _ints(op.act_min), _ints(op.act_max)).astype(np.int8),)

    @impl(tt.HardSwishOp)
    def run_hard_swish(self, interpreter: Interpreter, op: tt.HardSwishOp, args: tuple[Any, ...]):
        return (_lookup(op, args[0]),)

    @impl(tt.HardSigmoidOp)
    def run_hard_sigmoid(self, interpreter: Interpreter, op: tt.HardSigmoidOp, args: tuple[Any, ...]):
        return (_lookup(op, args[0]),)

    @impl(tt.SigmoidOp)
    def run_sigmoid(self, interpreter: Interpreter, op: tt.SigmoidOp, args: tuple[Any, ...]):
        return (_lookup(op, args[0]),)

    @impl(tt.MulOp)
    def run_mul(self, interpreter: Interpreter, op: tt.MulOp, args: tuple[Any, ...]):
        lhs, rhs = args
        at, bt, yt = _qtype(op.lhs), _qtype(op.rhs), _qtype(op.output)
        acc = (lhs.astype(np.int64) - at.zp) * (rhs.astype(np.int64) - bt.zp)
        scale = at.real_scale * bt.real_scale / yt.real_scale
        return (_finish_int8(acc, scale, yt, _ints(op.act_min), _ints(op.act_max), tt.numerics_of(op)),)

    @impl(tt.ConcatOp)
    def run_concat(self, interpreter: Interpreter, op: tt.ConcatOp, args: tuple[Any, ...]):
        yt, numerics = _qtype(op.output), tt.numerics_of(op)
        parts = [
            _requantized(x, _qtype(value), yt, numerics) for x, value in zip(args, op.inputs, strict=True)
        ]
        return (np.concatenate(parts, axis=-1),)

    @impl(tt.ReshapeOp)
    def run_reshape(self, interpreter: Interpreter, op: tt.ReshapeOp, args: tuple[Any, ...]):
        return (args[0].reshape(op.output.type.get_shape()),)

    @impl(tt.QuantizeOp)
    def run_quantize(self, interpreter: Interpreter, op: tt.QuantizeOp, args: tuple[Any, ...]):
        yt = _qtype(op.output)
        return (nx.quantize(args[0], yt.real_scale, yt.zp),)

    @impl(tt.DequantizeOp)
    def run_dequantize(self, interpreter: Interpreter, op: tt.DequantizeOp, args: tuple[Any, ...]):
        xt = _qtype(op.input)
        return (nx.dequantize(args[0], xt.real_scale, xt.zp).astype(np.float32),)

    @impl(tt.RequantizeOp)
    def run_requantize(self, interpreter: Interpreter, op: tt.RequantizeOp, args: tuple[Any, ...]):
        return (_requantized(args[0], _qtype(op.input), _qtype(op.output), tt.numerics_of(op)),)

    @impl(tt.ClampOp)
    def run_clamp(self, interpreter: Interpreter, op: tt.ClampOp, args: tuple[Any, ...]):
        return (np.clip(args[0], _ints(op.act_min), _ints(op.act_max)).astype(np.int8),)

    # ----------------------------------------------------------------- loss

    @staticmethod
    def _check_labels(op: tt._LossLike, labels: np.ndarray, classes: int) -> None:
        bad = (labels < 0) | (labels >= classes)
        if bad.any():
            raise InterpretationError(
                f"'{op.name}': label {int(labels[bad][0])} is outside the {classes} classes [0, {classes})"
            )

    def _real_logits(self, op: tt._LossLike, logits: np.ndarray) -> np.ndarray:
        if isinstance(op.logits.type, QTensorType):
            return nx.dequantize(logits, op.logits.type.real_scale, op.logits.type.zp)
        return logits.astype(np.float64)

    @impl(tt.CrossEntropyOp)
    def run_cross_entropy(self, interpreter: Interpreter, op: tt.CrossEntropyOp, args: tuple[Any, ...]):
        logits, labels = args
        self._check_labels(op, labels, logits.shape[1])
        z = self._real_logits(op, logits)
        log_probs = z - z.max(axis=1, keepdims=True)
        log_probs -= np.log(np.exp(log_probs).sum(axis=1, keepdims=True))
        rows = np.arange(z.shape[0])
        return (float(np.float32(-log_probs[rows, labels].mean())),)

    @impl(tt.CrossEntropyGradOp)
    def run_cross_entropy_grad(
        self, interpreter: Interpreter, op: tt.CrossEntropyGradOp, args: tuple[Any, ...]
    ):
        logits, labels = args
        self._check_labels(op, labels, logits.shape[1])
        z = self._real_logits(op, logits)
        probs = np.exp(z - z.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        probs[np.arange(z.shape[0]), labels] -= 1.0
        return ((probs / z.shape[0]).astype(np.float32),)

    # ----------------------------------------------------------------- backward

    @impl(tt.Conv2DGradInputOp)
    def run_conv2d_grad_input(
        self, interpreter: Interpreter, op: tt.Conv2DGradInputOp, args: tuple[Any, ...]
    ):
        (grad_out,) = args
        in_shape = tuple(op.grad_input.type.get_shape())
        return (self._conv_grad_input(op.weight, grad_out, in_shape, *_conv_attrs(op)),)

    def _conv_grad_input(
        self,
        weight_ref: SymbolRefAttr,
        grad_out: np.ndarray,
        in_shape: tuple[int, ...],
        stride: tuple[int, int],
        padding: Padding,
        groups: int,
    ) -> np.ndarray:
        """The input gradient of tt.conv2d_grad_input (every op computing one uses this)."""
        n, h, w, c = in_shape
        top, left, bottom, right = padding
        weight = torch.from_numpy(self.state.real_weight(_sym(weight_ref))).permute(0, 3, 1, 2)
        if (top, left) == (bottom, right):
            grad = torch.nn.grad.conv2d_input(
                (n, c, h, w), weight, _nchw(grad_out), stride=stride, padding=(top, left), groups=groups
            )
            return _nhwc(grad).astype(np.float32)
        size = (n, c, h + top + bottom, w + left + right)
        grad = torch.nn.grad.conv2d_input(size, weight, _nchw(grad_out), stride=stride, groups=groups)
        return _nhwc(grad[:, :, top : top + h, left : left + w]).astype(np.float32)

    @impl(tt.Conv2DGradWeightOp)
    def run_conv2d_grad_weight(
        self, interpreter: Interpreter, op: tt.Conv2DGradWeightOp, args: tuple[Any, ...]
    ):
        return (self._conv_weight_grad(op, *args),)

    @staticmethod
    def _conv_weight_grad(op: tt._ConvWeightGradLike, x: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
        xt = _qtype(op.input)
        stride, padding, groups = _conv_attrs(op)
        kh, kw = (int(v) for v in op.kernel.get_values())
        c, o = x.shape[3], grad_out.shape[3]
        source, pads = _padded(_nchw(nx.dequantize(x, xt.real_scale, xt.zp)), padding)
        grad = torch.nn.grad.conv2d_weight(
            source,
            (o, c // groups, kh, kw),
            _nchw(grad_out),
            stride=stride,
            padding=pads,
            groups=groups,
        )
        grad = grad.permute(0, 2, 3, 1).numpy()
        if op.channels is not None:
            channels = _channel_list(op.channels)
            grad = grad[:, :, :, channels] if groups == 1 else grad[channels]
        return grad.astype(np.float32)

    @impl(tt.LinearGradInputOp)
    def run_linear_grad_input(
        self, interpreter: Interpreter, op: tt.LinearGradInputOp, args: tuple[Any, ...]
    ):
        weight = self.state.real_weight(_sym(op.weight))
        return ((args[0].astype(np.float64) @ weight).astype(np.float32),)

    @impl(tt.LinearGradWeightOp)
    def run_linear_grad_weight(
        self, interpreter: Interpreter, op: tt.LinearGradWeightOp, args: tuple[Any, ...]
    ):
        return (self._linear_weight_grad(op, *args),)

    @staticmethod
    def _linear_weight_grad(
        op: tt.LinearGradWeightOp | tt.LinearWeightUpdateOp, x: np.ndarray, grad_out: np.ndarray
    ) -> np.ndarray:
        xt = _qtype(op.input)
        grad = grad_out.astype(np.float64).T @ nx.dequantize(x, xt.real_scale, xt.zp)
        if op.channels is not None:
            grad = grad[:, _channel_list(op.channels)]
        return grad.astype(np.float32)

    @impl(tt.BiasGradOp)
    def run_bias_grad(self, interpreter: Interpreter, op: tt.BiasGradOp, args: tuple[Any, ...]):
        return (_bias_grad(args[0]),)

    @impl(tt.ClampGradOp)
    def run_clamp_grad(self, interpreter: Interpreter, op: tt.ClampGradOp, args: tuple[Any, ...]):
        grad, y = args
        return (_masked(grad, _inside_clamp(op, y)),)

    @impl(tt.ClampMaskOp)
    def run_clamp_mask(self, interpreter: Interpreter, op: tt.ClampMaskOp, args: tuple[Any, ...]):
        return (_inside_clamp(op, args[0]),)

    @impl(tt.MaskGradOp)
    def run_mask_grad(self, interpreter: Interpreter, op: tt.MaskGradOp, args: tuple[Any, ...]):
        return (_masked(args[0], args[1]),)

    @impl(tt.GlobalAvgPoolGradOp)
    def run_global_avg_pool_grad(
        self, interpreter: Interpreter, op: tt.GlobalAvgPoolGradOp, args: tuple[Any, ...]
    ):
        n, h, w, c = op.grad_input.type.get_shape()
        grad = np.broadcast_to(args[0].astype(np.float64) / (h * w), (n, h, w, c))
        return (grad.astype(np.float32),)

    @impl(tt.MaxPoolGradOp)
    def run_max_pool_grad(self, interpreter: Interpreter, op: tt.MaxPoolGradOp, args: tuple[Any, ...]):
        grad_out, source = args
        indices = source.astype(np.int64) if op.reads_indices else _window_max(op, source)[1]
        n, h, w, c = op.grad_input.type.get_shape()
        (_, kw), (sh, sw), (top, left, _, _) = op.pool_params()
        _, oh, ow, _ = grad_out.shape
        rows = np.arange(oh).reshape(1, oh, 1, 1) * sh + indices // kw - top
        cols = np.arange(ow).reshape(1, 1, ow, 1) * sw + indices % kw - left
        batch = np.arange(n).reshape(n, 1, 1, 1)
        channel = np.arange(c).reshape(1, 1, 1, c)
        grad = np.zeros((n, h, w, c), dtype=np.float64)
        np.add.at(grad, (batch, rows, cols, channel), grad_out.astype(np.float64))
        return (grad.astype(np.float32),)

    @impl(tt.AvgPoolGradOp)
    def run_avg_pool_grad(self, interpreter: Interpreter, op: tt.AvgPoolGradOp, args: tuple[Any, ...]):
        in_shape = tuple(op.grad_input.type.get_shape())
        count = _window_sum(op, np.ones(in_shape, dtype=np.int64))
        share = args[0].astype(np.float64) / count
        return (_window_scatter(op, share, in_shape).astype(np.float32),)

    @impl(tt.ActivationGradOp)
    def run_activation_grad(self, interpreter: Interpreter, op: tt.ActivationGradOp, args: tuple[Any, ...]):
        grad_out, x = args
        xt, yt = _qtype(op.input), op.output_type
        table = nx.activation_grad_table(
            op.activation.data, xt.real_scale, xt.zp, yt.real_scale, yt.zp, tt.numerics_of(op)
        )
        derivative = table[nx.table_index(x)].astype(np.float64)
        return ((grad_out.astype(np.float64) * derivative).astype(np.float32),)

    @impl(tt.MulGradOp)
    def run_mul_grad(self, interpreter: Interpreter, op: tt.MulGradOp, args: tuple[Any, ...]):
        grad_out, other = args
        ot = _qtype(op.other)
        grad = grad_out.astype(np.float64) * nx.dequantize(other, ot.real_scale, ot.zp)
        if op.reduces:
            grad = grad.sum(axis=(1, 2), keepdims=True)
        return (grad.astype(np.float32),)

    @impl(tt.ConcatGradOp)
    def run_concat_grad(self, interpreter: Interpreter, op: tt.ConcatGradOp, args: tuple[Any, ...]):
        offset = _ints(op.channel_offset)
        count = op.grad_input.type.get_shape()[-1]
        return (np.ascontiguousarray(args[0][..., offset : offset + count]),)

    @impl(tt.GradAccumulateOp)
    def run_grad_accumulate(self, interpreter: Interpreter, op: tt.GradAccumulateOp, args: tuple[Any, ...]):
        return ((args[0] + args[1]).astype(np.float32),)

    # ----------------------------------------------------------------- updates

    @impl(tt.ScaleGradOp)
    def run_scale_grad(self, interpreter: Interpreter, op: tt.ScaleGradOp, args: tuple[Any, ...]):
        return (self._scale(args[0], _sym(op.param), _ints(op.power), op.channels),)

    def _scale(self, grad: np.ndarray, name: str, power: int, channels: Any) -> np.ndarray:
        """grad[o, ...] * scale[o] ** power (rows = `channels` of the parameter when given)."""
        scales = self.state.scales(name)
        if channels is not None:
            scales = scales[_channel_list(channels)]
        factor = (scales**power).reshape((-1,) + (1,) * (grad.ndim - 1))
        return (grad.astype(np.float64) * factor).astype(np.float32)

    @impl(tt.SGDUpdateOp)
    def run_sgd_update(self, interpreter: Interpreter, op: tt.SGDUpdateOp, args: tuple[Any, ...]):
        grad, lr = args
        axis = None if op.channel_axis is None else _ints(op.channel_axis)
        self._sgd(op, grad, lr, op.channels, axis)
        return ()

    def _sgd(
        self,
        op: tt.SGDUpdateOp | tt._FusedUpdateLike | tt.ExpandDepthwiseGradInputOp,
        grad: np.ndarray,
        lr: float,
        channels: Any,
        axis: int | None,
    ) -> None:
        """param[slice] = saturate(param[slice] - round(lr * grad_scale * grad)), in place."""
        value = self.state.value(_sym(op.param))
        index: tuple[Any, ...] = (slice(None),) * value.ndim
        if channels is not None and axis is not None:
            index = index[:axis] + (np.array(_channel_list(channels)),) + index[axis + 1 :]
        delta = float(lr) * op.grad_scale.value.data * grad.astype(np.float64)
        uniforms = None
        if op.rounding.data == "stochastic":
            uniforms = nx.uniform_from_counter(self.state.rng_counter, delta.size)
            self.state.rng_counter = (self.state.rng_counter + delta.size) & 0xFFFFFFFF
        step = nx.round_update(delta, op.rounding.data, uniforms)
        low, high = nx.param_limits(value.dtype)
        value[index] = nx.saturate(value[index].astype(np.float64) - step, low, high, value.dtype)

    def _fused(
        self,
        op: tt._FusedUpdateLike | tt.ExpandDepthwiseGradInputOp,
        grad: np.ndarray,
        lr: float,
        channels: Any,
        axis: int,
    ) -> None:
        power = _ints(op.power)
        if power != 0:
            scale_rows = channels if axis == 0 else None
            grad = self._scale(grad, _sym(op.param), power, scale_rows)
        self._sgd(op, grad, lr, channels, axis)

    # ----------------------------------------------------------------- fused updates

    @impl(tt.Conv2DWeightUpdateOp)
    def run_conv2d_weight_update(
        self, interpreter: Interpreter, op: tt.Conv2DWeightUpdateOp, args: tuple[Any, ...]
    ):
        x, grad_out, lr = args
        grad = self._conv_weight_grad(op, x, grad_out)
        self._fused(op, grad, lr, op.channels, op.update_axis())
        return ()

    @impl(tt.LinearWeightUpdateOp)
    def run_linear_weight_update(
        self, interpreter: Interpreter, op: tt.LinearWeightUpdateOp, args: tuple[Any, ...]
    ):
        x, grad_out, lr = args
        self._fused(op, self._linear_weight_grad(op, x, grad_out), lr, op.channels, op.update_axis())
        return ()

    @impl(tt.BiasUpdateOp)
    def run_bias_update(self, interpreter: Interpreter, op: tt.BiasUpdateOp, args: tuple[Any, ...]):
        grad_out, lr = args
        self._fused(op, _bias_grad(grad_out), lr, None, op.update_axis())
        return ()

    # ----------------------------------------------------------------- fused input gradients

    @impl(tt.ExpandDepthwiseGradInputOp)
    def run_expand_depthwise_grad_input(
        self, interpreter: Interpreter, op: tt.ExpandDepthwiseGradInputOp, args: tuple[Any, ...]
    ):
        """The rules of its chain in turn: depthwise input gradient, mask, optional bias update,
        1x1 input gradient (the whole expanded gradient at once: the interpreter is the oracle)."""
        grad_out, mask = args[0], args[1]
        expanded = tuple(op.mask.type.get_shape())
        stride, padding, groups = op.depthwise_params()
        grad = self._conv_grad_input(op.depthwise_weight, grad_out, expanded, stride, _four(padding), groups)
        grad = _masked(grad, mask)
        if op.has_bias_update:
            self._fused(op, _bias_grad(grad), args[2], None, op.update_axis())
        in_shape = tuple(op.grad_input.type.get_shape())
        return (self._conv_grad_input(op.expand_weight, grad, in_shape, (1, 1), (0, 0, 0, 0), 1),)


def _channel_list(channels: Any) -> list[int]:
    return [int(v) for v in channels.get_values()]


def _inside_clamp(op: tt.ClampGradOp | tt.ClampMaskOp, output: np.ndarray) -> np.ndarray:
    """Where an int8 clamp output lies strictly inside [act_min, act_max]: the gradient passes."""
    return (output > _ints(op.act_min)) & (output < _ints(op.act_max))


def _masked(grad: np.ndarray, inside: np.ndarray) -> np.ndarray:
    return np.where(inside, grad, np.float32(0)).astype(np.float32)


def _bias_grad(grad_out: np.ndarray) -> np.ndarray:
    grad = grad_out.astype(np.float64)
    return grad.reshape(-1, grad.shape[-1]).sum(axis=0).astype(np.float32)


# --------------------------------------------------------------------------- pooling windows


def _window_taps(op: tt._PoolLike, x: np.ndarray, fill: int | float):
    """(kh, kw, the [N, OH, OW, C] view of tap (kh, kw) of every window) in raster order of the
    taps, over `x` padded with `fill` (padding is never part of a window's value)."""
    (kh_size, kw_size), (sh, sw), (top, left, bottom, right) = op.pool_params()
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    n, h, w, c = x.shape
    _, oh, ow, _ = op.pooled_shape((n, h, w, c))
    for kh in range(kh_size):
        for kw in range(kw_size):
            yield kh, kw, padded[:, kh : kh + sh * (oh - 1) + 1 : sh, kw : kw + sw * (ow - 1) + 1 : sw, :]


def _window_max(op: tt._PoolLike, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The maximum of every window and its tap kh * KW + kw, the first in raster order among
    equal values."""
    kw_size = op.pool_params()[0][1]
    maximum: np.ndarray | None = None
    index: np.ndarray | None = None
    for kh, kw, tap in _window_taps(op, x.astype(np.int64), nx.INT8_MIN - 1):
        if maximum is None or index is None:
            maximum, index = tap.copy(), np.zeros(tap.shape, dtype=np.int64)
            continue
        larger = tap > maximum
        maximum = np.where(larger, tap, maximum)
        index = np.where(larger, kh * kw_size + kw, index)
    assert maximum is not None and index is not None
    return maximum, index


def _window_sum(op: tt._PoolLike, x: np.ndarray) -> np.ndarray:
    """The sum of every window's valid taps."""
    return sum(tap for _, _, tap in _window_taps(op, x, 0))


def _window_scatter(op: tt._PoolLike, values: np.ndarray, in_shape: tuple[int, ...]) -> np.ndarray:
    """Every output's value added to each valid tap of its window (float64)."""
    (kh_size, kw_size), (sh, sw), (top, left, bottom, right) = op.pool_params()
    n, h, w, c = in_shape
    _, oh, ow, _ = values.shape
    padded = np.zeros((n, h + top + bottom, w + left + right, c), dtype=np.float64)
    for kh in range(kh_size):
        for kw in range(kw_size):
            padded[:, kh : kh + sh * (oh - 1) + 1 : sh, kw : kw + sw * (ow - 1) + 1 : sw, :] += values
    return padded[:, top : top + h, left : left + w, :]


def _lookup(op: tt._LookupActivation, x: np.ndarray) -> np.ndarray:
    """A table activation: the op's compile-time table indexed by the input codes."""
    xt, yt = _qtype(op.input), _qtype(op.output)
    table = nx.activation_table(op.ACTIVATION, xt.real_scale, xt.zp, yt.real_scale, yt.zp, tt.numerics_of(op))
    return table[nx.table_index(x)]


def _requantized(x: np.ndarray, xt: QTensorType, yt: QTensorType, numerics: str = "tt") -> np.ndarray:
    """tt.requantize's rule: x brought to yt's scale and zero point, saturated."""
    acc = x.astype(np.int64) - xt.zp
    return _finish_int8(acc, xt.real_scale / yt.real_scale, yt, -128, 127, numerics)


def make_interpreter(
    module: ModuleOp, base_dir: Path, state: ParamState | None = None
) -> tuple[Interpreter, ParamState]:
    """An interpreter for `module` whose parameters come from `state` (loaded fresh if None)."""
    if state is None:
        state = ParamState(WeightStore(module, base_dir))
    interpreter = Interpreter(module)
    interpreter.register_implementations(FuncFunctions())
    interpreter.register_implementations(ArithFunctions())
    interpreter.register_implementations(TTFunctions(state))
    return interpreter, state


def run_function(
    module: ModuleOp,
    name: str,
    inputs: Sequence[Any],
    base_dir: Path = Path("."),
    state: ParamState | None = None,
) -> tuple[Any, ...]:
    """Run function `name` of `module` on `inputs` with the reference interpreter."""
    interpreter, _ = make_interpreter(module, base_dir, state)
    return tuple(interpreter.call_op(name, tuple(inputs)))
