"""The reference side of the runtime tests: each function builds a one-op tt module, runs it
with the reference interpreter (ttdialect.interpreter, the oracle) and returns its results.

Also the Python computation of the kernels' fixed-point arguments, exactly as the compiler does
it (ttdialect.numerics.quantize_multiplier on the interpreter's float64 scale expressions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from irbuild import Param, build_and_run, clamp_attrs, conv_attrs, ftype, i64_array, itype, qtype

from ttdialect import numerics as nx


@dataclass(frozen=True)
class Q:
    """Per-tensor quantization of an activation: real = scale * (q - zp)."""

    scale: float
    zp: int


def f32_scale(value: float) -> float:
    """A scale that is exactly a float32 value (what the C float paths see unchanged)."""
    return float(np.float32(value))


# --------------------------------------------------------------------------- fixed-point arguments


def channel_multipliers(
    x: Q, weight_scales: np.ndarray, y: Q, numerics: str = "tt", single_rounding: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(multiplier[o], shift[o]) of a conv / linear: x_scale * w_scale[o] / y_scale; TFLite's
    two-rounding multipliers with their shifts marked (numerics.c_shifts)."""
    real = x.scale * np.asarray(weight_scales, dtype=np.float64) / y.scale
    multipliers, shifts = nx.multipliers_for(real, numerics)
    return multipliers.astype(np.int32), nx.c_shifts(shifts, numerics, single_rounding).astype(np.int32)


def numerics_attr(numerics: str) -> str:
    """`, numerics = "tflite"` (for an attribute dictionary), or nothing for tt's own."""
    return "" if numerics == "tt" else f', numerics = "{numerics}"'


def scalar_multiplier(real: float) -> tuple[int, int]:
    return nx.quantize_multiplier(real)


def add_quant(a: Q, b: Q, y: Q, act_min: int, act_max: int, numerics: str = "tt") -> np.ndarray:
    """The int32[11] tt_add_quant of the interpreter's run_add scheme."""
    twice_max = 2 * max(a.scale, b.scale)
    reals = [a.scale / twice_max, b.scale / twice_max, twice_max / ((1 << nx.ADD_LEFT_SHIFT) * y.scale)]
    (am, bm, ym), shifts = nx.multipliers_for(np.array(reals), numerics)
    ash, bsh, ysh = nx.c_shifts(shifts, numerics)
    return np.array([a.zp, am, ash, b.zp, bm, bsh, y.zp, ym, ysh, act_min, act_max], dtype=np.int32)


# --------------------------------------------------------------------------- forward


def _run1(params: Sequence[Param], args, body, result, inputs):
    (out,), _ = build_and_run(params, args, body, [("r", result)], inputs)
    return out


def _weight_param(weight: np.ndarray, scales: np.ndarray, name: str = "w") -> Param:
    return Param(name, weight, np.asarray(scales, dtype=np.float32))


def conv2d(
    x: np.ndarray,
    xq: Q,
    weight: np.ndarray,
    w_scales: np.ndarray,
    bias: np.ndarray | None,
    yq: Q,
    stride: tuple[int, int],
    padding: tuple[int, int],
    groups: int,
    act: tuple[int, int],
    out_shape: tuple[int, ...],
    numerics: str = "tt",
) -> np.ndarray:
    params = [_weight_param(weight, w_scales)]
    refs = '@"w"'
    if bias is not None:
        params.append(Param("b", bias, np.float32(w_scales) * np.float32(xq.scale)))
        refs += ', @"b"'
    xt, yt = qtype(x.shape, xq.scale, xq.zp), qtype(out_shape, yq.scale, yq.zp)
    attrs = f"{conv_attrs(stride, padding, groups)}, {clamp_attrs(*act)}{numerics_attr(numerics)}"
    body = [f"%r = tt.conv2d %x, {refs} {{{attrs}}} : {xt} -> {yt}"]
    return _run1(params, [("x", xt)], body, yt, [x])


def linear(
    x: np.ndarray,
    xq: Q,
    weight: np.ndarray,
    w_scales: np.ndarray,
    bias: np.ndarray | None,
    yq: Q,
    act: tuple[int, int],
    numerics: str = "tt",
) -> np.ndarray:
    params = [_weight_param(weight, w_scales)]
    refs = '@"w"'
    if bias is not None:
        params.append(Param("b", bias, np.float32(w_scales) * np.float32(xq.scale)))
        refs += ', @"b"'
    out_shape = (x.shape[0], weight.shape[0])
    xt, yt = qtype(x.shape, xq.scale, xq.zp), qtype(out_shape, yq.scale, yq.zp)
    body = [f"%r = tt.linear %x, {refs} {{{clamp_attrs(*act)}{numerics_attr(numerics)}}} : {xt} -> {yt}"]
    return _run1(params, [("x", xt)], body, yt, [x])


def add(
    a: np.ndarray, aq: Q, b: np.ndarray, bq: Q, yq: Q, act: tuple[int, int], numerics: str = "tt"
) -> np.ndarray:
    at, bt, yt = (
        qtype(a.shape, aq.scale, aq.zp),
        qtype(b.shape, bq.scale, bq.zp),
        qtype(a.shape, yq.scale, yq.zp),
    )
    body = [f"%r = tt.add %a, %b {{{clamp_attrs(*act)}{numerics_attr(numerics)}}} : {at}, {bt} -> {yt}"]
    return _run1([], [("a", at), ("b", bt)], body, yt, [a, b])


def _props(numerics: str) -> str:
    return "" if numerics == "tt" else f' {{numerics = "{numerics}"}}'


def global_avg_pool(x: np.ndarray, xq: Q, yq: Q, numerics: str = "tt") -> np.ndarray:
    n, _, _, c = x.shape
    xt, yt = qtype(x.shape, xq.scale, xq.zp), qtype((n, 1, 1, c), yq.scale, yq.zp)
    body = [f"%r = tt.global_avg_pool %x{_props(numerics)} : {xt} -> {yt}"]
    return _run1([], [("x", xt)], body, yt, [x])


def requantize(x: np.ndarray, xq: Q, yq: Q, numerics: str = "tt") -> np.ndarray:
    xt, yt = qtype(x.shape, xq.scale, xq.zp), qtype(x.shape, yq.scale, yq.zp)
    return _run1([], [("x", xt)], [f"%r = tt.requantize %x{_props(numerics)} : {xt} -> {yt}"], yt, [x])


def clamp(x: np.ndarray, xq: Q, act: tuple[int, int]) -> np.ndarray:
    t = qtype(x.shape, xq.scale, xq.zp)
    return _run1([], [("x", t)], [f"%r = tt.clamp %x {{{clamp_attrs(*act)}}} : {t} -> {t}"], t, [x])


def quantize(x: np.ndarray, yq: Q) -> np.ndarray:
    xt, yt = ftype(x.shape), qtype(x.shape, yq.scale, yq.zp)
    return _run1([], [("x", xt)], [f"%r = tt.quantize %x : {xt} -> {yt}"], yt, [x])


def dequantize(x: np.ndarray, xq: Q) -> np.ndarray:
    xt, yt = qtype(x.shape, xq.scale, xq.zp), ftype(x.shape)
    return _run1([], [("x", xt)], [f"%r = tt.dequantize %x : {xt} -> {yt}"], yt, [x])


# --------------------------------------------------------------------------- loss


def cross_entropy(logits: np.ndarray, labels: np.ndarray, lq: Q | None) -> tuple[float, np.ndarray]:
    """(loss, gradient); int8 logits when lq is given, else float32 logits."""
    lt = qtype(logits.shape, lq.scale, lq.zp) if lq is not None else ftype(logits.shape)
    yt, gt = itype(labels.shape), ftype(logits.shape)
    body = [
        f"%loss = tt.cross_entropy %z, %l : {lt}, {yt} -> f32",
        f"%g = tt.cross_entropy_grad %z, %l : {lt}, {yt} -> {gt}",
    ]
    (loss, grad), _ = build_and_run(
        [], [("z", lt), ("l", yt)], body, [("loss", "f32"), ("g", gt)], [logits, labels]
    )
    return loss, grad


# --------------------------------------------------------------------------- backward


def _channels_attr(channels: Sequence[int] | None) -> str:
    return "" if channels is None else f", channels = {i64_array(channels)}"


def conv2d_grad_input(
    g: np.ndarray,
    weight: np.ndarray,
    w_scales: np.ndarray,
    in_shape: tuple[int, ...],
    stride: tuple[int, int],
    padding: tuple[int, int],
    groups: int,
) -> np.ndarray:
    gt, it = ftype(g.shape), ftype(in_shape)
    body = [f'%r = tt.conv2d_grad_input %g, @"w" {{{conv_attrs(stride, padding, groups)}}} : {gt} -> {it}']
    return _run1([_weight_param(weight, w_scales)], [("g", gt)], body, it, [g])


def conv_weight_grad_shape(
    x_shape: Sequence[int], o: int, kernel: Sequence[int], groups: int, channels: Sequence[int] | None
) -> tuple[int, int, int, int]:
    c = x_shape[3]
    if channels is None:
        return (o, kernel[0], kernel[1], c // groups)
    if groups == 1:
        return (o, kernel[0], kernel[1], len(channels))
    return (len(channels), kernel[0], kernel[1], 1)


def _conv_grad_weight_attrs(kernel, stride, padding, groups, channels) -> str:
    return conv_attrs(stride, padding, groups) + f", kernel = {i64_array(kernel)}" + _channels_attr(channels)


def conv2d_grad_weight(
    x: np.ndarray,
    xq: Q,
    g: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    groups: int,
    channels: Sequence[int] | None,
) -> np.ndarray:
    shape = conv_weight_grad_shape(x.shape, g.shape[3], kernel, groups, channels)
    xt, gt, rt = qtype(x.shape, xq.scale, xq.zp), ftype(g.shape), ftype(shape)
    attrs = _conv_grad_weight_attrs(kernel, stride, padding, groups, channels)
    body = [f"%r = tt.conv2d_grad_weight %x, %g {{{attrs}}} : {xt}, {gt} -> {rt}"]
    return _run1([], [("x", xt), ("g", gt)], body, rt, [x, g])


def linear_grad_input(g: np.ndarray, weight: np.ndarray, w_scales: np.ndarray) -> np.ndarray:
    gt, it = ftype(g.shape), ftype((g.shape[0], weight.shape[1]))
    body = [f'%r = tt.linear_grad_input %g, @"w" : {gt} -> {it}']
    return _run1([_weight_param(weight, w_scales)], [("g", gt)], body, it, [g])


def linear_grad_weight(x: np.ndarray, xq: Q, g: np.ndarray, columns: Sequence[int] | None) -> np.ndarray:
    cols = x.shape[1] if columns is None else len(columns)
    xt, gt, rt = qtype(x.shape, xq.scale, xq.zp), ftype(g.shape), ftype((g.shape[1], cols))
    attrs = "" if columns is None else f" {{channels = {i64_array(columns)}}}"
    body = [f"%r = tt.linear_grad_weight %x, %g{attrs} : {xt}, {gt} -> {rt}"]
    return _run1([], [("x", xt), ("g", gt)], body, rt, [x, g])


def bias_grad(g: np.ndarray) -> np.ndarray:
    gt, bt = ftype(g.shape), ftype(g.shape[-1:])
    return _run1([], [("g", gt)], [f"%r = tt.bias_grad %g : {gt} -> {bt}"], bt, [g])


def clamp_grad(g: np.ndarray, y: np.ndarray, yq: Q, act: tuple[int, int]) -> np.ndarray:
    gt, yt = ftype(g.shape), qtype(y.shape, yq.scale, yq.zp)
    body = [f"%r = tt.clamp_grad %g, %y {{{clamp_attrs(*act)}}} : {gt}, {yt} -> {gt}"]
    return _run1([], [("g", gt), ("y", yt)], body, gt, [g, y])


def global_avg_pool_grad(g: np.ndarray, in_shape: tuple[int, ...]) -> np.ndarray:
    gt, it = ftype(g.shape), ftype(in_shape)
    return _run1([], [("g", gt)], [f"%r = tt.global_avg_pool_grad %g : {gt} -> {it}"], it, [g])


def grad_accumulate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    t = ftype(a.shape)
    return _run1([], [("a", t), ("b", t)], [f"%r = tt.grad_accumulate %a, %b : {t}"], t, [a, b])


# --------------------------------------------------------------------------- updates


def scale_grad(
    g: np.ndarray, param: np.ndarray, scales: np.ndarray, power: int, channels: Sequence[int] | None
) -> np.ndarray:
    gt = ftype(g.shape)
    attrs = f"power = {power} : i64" + _channels_attr(channels)
    body = [f'%r = tt.scale_grad %g, @"p" {{{attrs}}} : {gt}']
    return _run1([Param("p", param, scales)], [("g", gt)], body, gt, [g])


@dataclass(frozen=True)
class Sgd:
    """The update attributes shared by tt.sgd_update and the fused update ops."""

    lr: float
    grad_scale: float
    rounding: str

    def attrs(self) -> str:
        return f'grad_scale = {self.grad_scale!r} : f32, rounding = "{self.rounding}"'


def sgd_update(
    param: Param,
    grad: np.ndarray,
    sgd: Sgd,
    channels: Sequence[int] | None,
    axis: int | None,
    counter: int,
) -> tuple[np.ndarray, int]:
    """(parameter after the update, rng counter after it)."""
    attrs = sgd.attrs()
    if channels is not None:
        attrs += f", channels = {i64_array(channels)}, channel_axis = {axis} : i64"
    gt = ftype(grad.shape)
    body = [f'tt.sgd_update @"{param.name}", %g, %lr {{{attrs}}} : {gt}']
    _, state = build_and_run(
        [param], [("g", gt), ("lr", "f32")], body, [], [grad, sgd.lr], rng_counter=counter
    )
    return state.value(param.name).copy(), state.rng_counter


def conv2d_weight_update(
    param: Param,
    x: np.ndarray,
    xq: Q,
    g: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    groups: int,
    channels: Sequence[int] | None,
    power: int,
    sgd: Sgd,
    counter: int,
) -> tuple[np.ndarray, int]:
    xt, gt = qtype(x.shape, xq.scale, xq.zp), ftype(g.shape)
    attrs = f"power = {power} : i64, {sgd.attrs()}, " + _conv_grad_weight_attrs(
        kernel, stride, padding, groups, channels
    )
    body = [f'tt.conv2d_weight_update @"{param.name}", %x, %g, %lr {{{attrs}}} : {xt}, {gt}']
    _, state = build_and_run(
        [param], [("x", xt), ("g", gt), ("lr", "f32")], body, [], [x, g, sgd.lr], rng_counter=counter
    )
    return state.value(param.name).copy(), state.rng_counter


def linear_weight_update(
    param: Param,
    x: np.ndarray,
    xq: Q,
    g: np.ndarray,
    columns: Sequence[int] | None,
    power: int,
    sgd: Sgd,
    counter: int,
) -> tuple[np.ndarray, int]:
    xt, gt = qtype(x.shape, xq.scale, xq.zp), ftype(g.shape)
    attrs = f"power = {power} : i64, {sgd.attrs()}" + _channels_attr(columns)
    body = [f'tt.linear_weight_update @"{param.name}", %x, %g, %lr {{{attrs}}} : {xt}, {gt}']
    _, state = build_and_run(
        [param], [("x", xt), ("g", gt), ("lr", "f32")], body, [], [x, g, sgd.lr], rng_counter=counter
    )
    return state.value(param.name).copy(), state.rng_counter


def bias_update(param: Param, g: np.ndarray, power: int, sgd: Sgd, counter: int) -> tuple[np.ndarray, int]:
    gt = ftype(g.shape)
    body = [f'tt.bias_update @"{param.name}", %g, %lr {{power = {power} : i64, {sgd.attrs()}}} : {gt}']
    _, state = build_and_run([param], [("g", gt), ("lr", "f32")], body, [], [g, sgd.lr], rng_counter=counter)
    return state.value(param.name).copy(), state.rng_counter
