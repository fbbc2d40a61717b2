"""The layers of common MCU CNNs in the reference interpreter, against independent oracles.

Forward (int8): max and average pooling against PyTorch's pooling on the int8 codes (padding
with -inf or a count of valid taps, TFLite's round-half-away division written here with numpy);
the table activations against PyTorch's float64 hardswish / hardsigmoid / sigmoid rounded to
the output quantization (round half to even); mul and concat against a float simulation
(dequantize, compute, divide by the output scale, round half up): within one LSB, rarely off.
Backward (float32): PyTorch autograd of the same functions on the dequantized values.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from irbuild import (
    assert_grad_close,
    assert_int8_close,
    assert_spread,
    build_and_run,
    clamp_attrs,
    ftype,
    qtype,
)

from ttdialect import numerics as nx

# --------------------------------------------------------------------------- helpers


def rand_int8(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-128, 128, size=shape).astype(np.int8)


def nchw(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)).permute(0, 3, 1, 2)


def nhwc(x: torch.Tensor) -> np.ndarray:
    return x.permute(0, 2, 3, 1).detach().numpy()


def deq(q: np.ndarray, scale: float, zp: int) -> torch.Tensor:
    return (torch.from_numpy(np.asarray(q).astype(np.float64)) - zp) * scale


def pool_attrs(kernel, stride, padding) -> str:
    def arr(values) -> str:
        return "array<i64: " + ", ".join(str(v) for v in values) + ">"

    return f"kernel = {arr(kernel)}, stride = {arr(stride)}, padding = {arr(padding)}"


def pool_out(size: int, kernel: int, stride: int, before: int, after: int) -> int:
    return (size + before + after - kernel) // stride + 1


def four(padding: tuple[int, ...]) -> tuple[int, int, int, int]:
    return (padding[0], padding[1], padding[0], padding[1]) if len(padding) == 2 else padding  # type: ignore[return-value]


POOL_CASES = {
    # name: (input shape, kernel, stride, padding)
    "3x3_s2_p1": ((2, 9, 8, 5), (3, 3), (2, 2), (1, 1)),
    "2x2_s2": ((1, 8, 8, 3), (2, 2), (2, 2), (0, 0)),
    "3x3_s1_p1": ((1, 5, 6, 4), (3, 3), (1, 1), (1, 1)),
    "3x2_mixed": ((1, 7, 9, 3), (3, 2), (2, 1), (1, 0)),
    "ceil_bottom_right": ((1, 7, 7, 6), (3, 3), (2, 2), (0, 0, 1, 1)),
    "same_asymmetric": ((1, 6, 5, 2), (2, 3), (2, 2), (0, 1, 1, 1)),
}


def pooled_shape(shape, kernel, stride, padding) -> tuple[int, int, int, int]:
    top, left, bottom, right = four(padding)
    n, h, w, c = shape
    return (
        n,
        pool_out(h, kernel[0], stride[0], top, bottom),
        pool_out(w, kernel[1], stride[1], left, right),
        c,
    )


def padded_nchw(x: np.ndarray, padding, fill: float) -> torch.Tensor:
    top, left, bottom, right = four(padding)
    return F.pad(nchw(x), (left, right, top, bottom), value=fill)


# --------------------------------------------------------------------------- max pool


def run_max_pool(x, xq, kernel, stride, padding, act, indices: bool):
    out_shape = pooled_shape(x.shape, kernel, stride, padding)
    xt, yt = qtype(x.shape, *xq), qtype(out_shape, *xq)
    it = f"tensor<{'x'.join(map(str, out_shape))}xui8>"
    attrs = f"{pool_attrs(kernel, stride, padding)}, {clamp_attrs(*act)}"
    if indices:
        body = [f"%y, %i = tt.max_pool %x {{{attrs}}} : {xt} -> {yt}, {it}"]
        results = [("y", yt), ("i", it)]
    else:
        body = [f"%y = tt.max_pool %x {{{attrs}}} : {xt} -> {yt}"]
        results = [("y", yt)]
    outputs, _ = build_and_run([], [("x", xt)], body, results, [x])
    return outputs


@pytest.mark.parametrize("name", list(POOL_CASES))
def test_max_pool_matches_torch(name: str) -> None:
    shape, kernel, stride, padding = POOL_CASES[name]
    rng = np.random.default_rng(list(POOL_CASES).index(name))
    x = rand_int8(rng, shape)
    act = (-100, 90)
    y, indices = run_max_pool(x, (0.05, 3), kernel, stride, padding, act, indices=True)
    want, flat = F.max_pool2d(padded_nchw(x, padding, -math.inf), kernel, stride, return_indices=True)
    np.testing.assert_array_equal(y, np.clip(nhwc(want), *act).astype(np.int8))
    # torch's index is into the padded plane; ours is the tap within the window
    top, left, _, _ = four(padding)
    padded_w = shape[2] + four(padding)[1] + four(padding)[3]
    _, oh, ow, _ = y.shape
    rows = np.arange(oh).reshape(1, oh, 1, 1) * stride[0] + indices // kernel[1]
    cols = np.arange(ow).reshape(1, 1, ow, 1) * stride[1] + indices % kernel[1]
    np.testing.assert_array_equal(rows * padded_w + cols, nhwc(flat.double()).astype(np.int64))
    (alone,) = run_max_pool(x, (0.05, 3), kernel, stride, padding, act, indices=False)
    np.testing.assert_array_equal(alone, y)


def test_max_pool_ties_take_the_first_tap() -> None:
    x = np.zeros((1, 4, 4, 1), dtype=np.int8)
    y, indices = run_max_pool(x, (0.1, 0), (3, 3), (1, 1), (1, 1), (-128, 127), indices=True)
    assert (y == 0).all()
    # the first valid tap of each window: (1, 1) at the top-left corner, (0, 0) inside
    assert indices[0, 0, 0, 0] == 4 and indices[0, 1, 1, 0] == 0 and indices[0, 0, 2, 0] == 3


def test_ceil_mode_maps_to_bottom_right_padding() -> None:
    """PyTorch's ceil_mode windows are the floor-mode windows of extra bottom / right padding."""
    rng = np.random.default_rng(7)
    x = rand_int8(rng, (1, 7, 7, 3))
    (y,) = run_max_pool(x, (0.05, 0), (3, 3), (2, 2), (0, 0, 1, 1), (-128, 127), indices=False)
    want = F.max_pool2d(nchw(x), 3, 2, ceil_mode=True)
    np.testing.assert_array_equal(y, nhwc(want).astype(np.int8))


# --------------------------------------------------------------------------- average pool


def run_avg_pool(x, xq, kernel, stride, padding, act) -> np.ndarray:
    out_shape = pooled_shape(x.shape, kernel, stride, padding)
    xt, yt = qtype(x.shape, *xq), qtype(out_shape, *xq)
    attrs = f"{pool_attrs(kernel, stride, padding)}, {clamp_attrs(*act)}"
    (y,), _ = build_and_run(
        [], [("x", xt)], [f"%y = tt.avg_pool %x {{{attrs}}} : {xt} -> {yt}"], [("y", yt)], [x]
    )
    return y


def tflite_average(x: np.ndarray, kernel, stride, padding) -> np.ndarray:
    """Sum and count of the valid taps (torch pooling of zero-padded codes and of a mask of
    ones), then TFLite's rounding: ties away from zero."""
    taps = kernel[0] * kernel[1]
    total = F.avg_pool2d(padded_nchw(x, padding, 0.0), kernel, stride) * taps
    count = F.avg_pool2d(padded_nchw(np.ones_like(x), padding, 0.0), kernel, stride) * taps
    total, count = np.rint(nhwc(total)).astype(np.int64), np.rint(nhwc(count)).astype(np.int64)
    mean = total / count
    return (np.sign(mean) * np.floor(np.abs(mean) + 0.5)).astype(np.int64)


@pytest.mark.parametrize("name", list(POOL_CASES))
def test_avg_pool_matches_tflite_rule(name: str) -> None:
    shape, kernel, stride, padding = POOL_CASES[name]
    rng = np.random.default_rng(100 + list(POOL_CASES).index(name))
    x = rand_int8(rng, shape)
    act = (-60, 127)
    y = run_avg_pool(x, (0.02, -5), kernel, stride, padding, act)
    want = np.clip(tflite_average(x, kernel, stride, padding), *act)
    np.testing.assert_array_equal(y, want.astype(np.int8))
    assert_spread(y, *act)


def test_avg_pool_rounds_ties_away_from_zero() -> None:
    x = np.array([1, 2, -1, -2, 3, 4, -3, -4], dtype=np.int8).reshape(1, 1, 8, 1)
    y = run_avg_pool(x, (0.1, 0), (1, 2), (1, 2), (0, 0), (-128, 127))
    assert y.reshape(-1).tolist() == [2, -2, 4, -4]  # 1.5, -1.5, 3.5, -3.5


# --------------------------------------------------------------------------- table activations

TORCH_ACTIVATIONS = {"hard_swish": F.hardswish, "hard_sigmoid": F.hardsigmoid, "sigmoid": torch.sigmoid}
ACTIVATION_CASES = [
    # (activation, input scale, input zp, output scale, output zp)
    ("hard_swish", 0.05, 10, 0.04, -100),
    ("hard_swish", 0.1, -128, 0.1, -128),
    ("hard_swish", 0.2, 0, 0.09, -30),
    ("hard_sigmoid", 0.05, 0, 1 / 256, -128),
    ("hard_sigmoid", 0.03, -20, 1 / 200, -100),
    ("sigmoid", 0.06, 5, 1 / 256, -128),
    ("sigmoid", 0.1, -50, 0.003, -120),
]


def run_activation(name: str, x: np.ndarray, xq, yq) -> np.ndarray:
    xt, yt = qtype(x.shape, *xq), qtype(x.shape, *yq)
    (y,), _ = build_and_run([], [("x", xt)], [f"%y = tt.{name} %x : {xt} -> {yt}"], [("y", yt)], [x])
    return y


@pytest.mark.parametrize(("name", "xs", "xz", "ys", "yz"), ACTIVATION_CASES)
def test_table_activation_matches_real_function(name, xs, xz, ys, yz) -> None:
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, 16, 16, 1)  # every code
    y = run_activation(name, x, (xs, xz), (ys, yz))
    real = TORCH_ACTIVATIONS[name](deq(x, xs, xz)).numpy() / ys
    want = np.clip(np.rint(real) + yz, -128, 127)
    near_tie = np.abs(np.abs(real - np.floor(real)) - 0.5) < 1e-9
    assert (y == want)[~near_tie].all(), np.argwhere(y != want)
    assert_int8_close(y, want.astype(np.int8), max_off_fraction=0.0 if not near_tie.any() else 0.02)
    assert len(np.unique(y)) >= 32


# --------------------------------------------------------------------------- mul, concat


@pytest.mark.parametrize(
    ("shape", "rhs_shape", "act"),
    [
        ((2, 5, 4, 6), (2, 1, 1, 6), (-128, 127)),
        ((1, 3, 3, 5), (1, 3, 3, 5), (-20, 127)),
        ((3, 7), (3, 7), (-128, 100)),
    ],
)
def test_mul_matches_float_simulation(shape, rhs_shape, act) -> None:
    rng = np.random.default_rng(len(shape) * 10 + len(rhs_shape))
    a, b = rand_int8(rng, shape), rand_int8(rng, rhs_shape)
    aq, bq, yq = (0.05, -7), (1 / 256, -128), (0.03, 4)
    at, bt, yt = qtype(shape, *aq), qtype(rhs_shape, *bq), qtype(shape, *yq)
    body = [f"%y = tt.mul %a, %b {{{clamp_attrs(*act)}}} : {at}, {bt} -> {yt}"]
    (y,), _ = build_and_run([], [("a", at), ("b", bt)], body, [("y", yt)], [a, b])
    real = deq(a, *aq) * deq(b, *bq)
    want = torch.clamp(torch.floor(real / yq[0] + 0.5) + yq[1], *act).numpy().astype(np.int8)
    assert_int8_close(y, want)
    assert_spread(y, *act)


def test_concat_requantizes_each_input() -> None:
    rng = np.random.default_rng(3)
    parts = [rand_int8(rng, (2, 3, 3, c)) for c in (3, 5, 2)]
    quants = [(0.05, -3), (0.1, 20), (0.05, -3)]
    yq = (0.05, -3)
    types = [qtype(p.shape, *q) for p, q in zip(parts, quants, strict=True)]
    yt = qtype((2, 3, 3, 10), *yq)
    body = [f"%y = tt.concat %a, %b, %c : {', '.join(types)} -> {yt}"]
    args = [("a", types[0]), ("b", types[1]), ("c", types[2])]
    (y,), _ = build_and_run([], args, body, [("y", yt)], parts)
    want = [
        torch.clamp(torch.floor(deq(p, *q) / yq[0] + 0.5) + yq[1], -128, 127).numpy().astype(np.int8)
        for p, q in zip(parts, quants, strict=True)
    ]
    np.testing.assert_array_equal(y[..., :3], parts[0])  # same quantization: a copy
    np.testing.assert_array_equal(y[..., 8:], parts[2])
    assert_int8_close(y[..., 3:8], want[1])
    assert (y[..., 3:8] == 127).any()  # the wider input saturates


# --------------------------------------------------------------------------- gradients


def rand_grad(rng: np.random.Generator, shape) -> np.ndarray:
    g = rng.normal(0, 1, shape).astype(np.float32)
    g[rng.random(shape) < 0.2] = 0
    return g


@pytest.mark.parametrize("name", list(POOL_CASES))
def test_max_pool_grad_matches_autograd(name: str) -> None:
    shape, kernel, stride, padding = POOL_CASES[name]
    rng = np.random.default_rng(200 + list(POOL_CASES).index(name))
    x = rng.integers(-20, 20, size=shape).astype(np.int8)  # many ties
    out_shape = pooled_shape(shape, kernel, stride, padding)
    g = rand_grad(rng, out_shape)
    xr = deq(x, 0.1, 2).permute(0, 3, 1, 2).requires_grad_(True)
    top, left, bottom, right = four(padding)
    y = F.max_pool2d(F.pad(xr, (left, right, top, bottom), value=-math.inf), kernel, stride)
    (y * nchw(g)).sum().backward()
    want = nhwc(xr.grad)
    _, indices = run_max_pool(x, (0.1, 2), kernel, stride, padding, (-128, 127), indices=True)
    gt, xt, it = ftype(out_shape), qtype(shape, 0.1, 2), f"tensor<{'x'.join(map(str, out_shape))}xui8>"
    attrs = pool_attrs(kernel, stride, padding)
    body = [
        f"%a = tt.max_pool_grad %g, %x {{{attrs}}} : {gt}, {xt} -> {ftype(shape)}",
        f"%b = tt.max_pool_grad %g, %i {{{attrs}}} : {gt}, {it} -> {ftype(shape)}",
    ]
    (from_input, from_indices), _ = build_and_run(
        [],
        [("g", gt), ("x", xt), ("i", it)],
        body,
        [("a", ftype(shape)), ("b", ftype(shape))],
        [g, x, indices],
    )
    assert_grad_close(from_input, want)
    np.testing.assert_array_equal(from_indices, from_input)


@pytest.mark.parametrize("name", list(POOL_CASES))
def test_avg_pool_grad_matches_autograd(name: str) -> None:
    shape, kernel, stride, padding = POOL_CASES[name]
    rng = np.random.default_rng(300 + list(POOL_CASES).index(name))
    out_shape = pooled_shape(shape, kernel, stride, padding)
    g = rand_grad(rng, out_shape)
    xr = torch.from_numpy(rng.normal(0, 1, shape)).permute(0, 3, 1, 2).requires_grad_(True)
    top, left, bottom, right = four(padding)
    pad = (left, right, top, bottom)
    total = F.avg_pool2d(F.pad(xr, pad), kernel, stride)
    count = F.avg_pool2d(F.pad(torch.ones_like(xr), pad), kernel, stride)
    ((total / count) * nchw(g)).sum().backward()
    gt, it = ftype(out_shape), ftype(shape)
    body = [f"%r = tt.avg_pool_grad %g {{{pool_attrs(kernel, stride, padding)}}} : {gt} -> {it}"]
    (got,), _ = build_and_run([], [("g", gt)], body, [("r", it)], [g])
    assert_grad_close(got, nhwc(xr.grad))


@pytest.mark.parametrize(("name", "xs", "xz", "ys", "yz"), ACTIVATION_CASES)
def test_activation_grad_matches_autograd(name, xs, xz, ys, yz) -> None:
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, 16, 16, 1)
    g = rand_grad(np.random.default_rng(5), x.shape)
    xr = deq(x, xs, xz).requires_grad_(True)
    (TORCH_ACTIVATIONS[name](xr) * torch.from_numpy(g.astype(np.float64))).sum().backward()
    y = run_activation(name, x, (xs, xz), (ys, yz))
    want = np.where((y > -128) & (y < 127), xr.grad.numpy(), 0.0)  # the output clamp
    xt, gt, ot = qtype(x.shape, xs, xz), ftype(x.shape), qtype(x.shape, ys, yz)
    body = [
        f'%r = tt.activation_grad %g, %x {{activation = "{name}", output_type = {ot}}} : {gt}, {xt} -> {gt}'
    ]
    (got,), _ = build_and_run([], [("g", gt), ("x", xt)], body, [("r", gt)], [g, x])
    assert_grad_close(got, want)
    assert np.abs(got).max() > 0


@pytest.mark.parametrize("shape", [(2, 4, 3, 5), (1, 1, 1, 4)])
def test_mul_grad_matches_autograd(shape) -> None:
    rng = np.random.default_rng(shape[1])
    n, _, _, c = shape
    a, b = rand_int8(rng, shape), rand_int8(rng, (n, 1, 1, c))
    aq, bq = (0.05, -7), (1 / 256, -128)
    g = rand_grad(rng, shape)
    ar, br = deq(a, *aq).requires_grad_(True), deq(b, *bq).requires_grad_(True)
    (ar * br * torch.from_numpy(g.astype(np.float64))).sum().backward()
    at, bt, gt, st = qtype(shape, *aq), qtype(b.shape, *bq), ftype(shape), ftype(b.shape)
    body = [
        f"%ga = tt.mul_grad %g, %b : {gt}, {bt} -> {gt}",
        f"%gb = tt.mul_grad %g, %a : {gt}, {at} -> {st}",
    ]
    (ga, gb), _ = build_and_run(
        [], [("g", gt), ("a", at), ("b", bt)], body, [("ga", gt), ("gb", st)], [g, a, b]
    )
    assert_grad_close(ga, ar.grad.numpy())
    assert_grad_close(gb, br.grad.numpy())


def test_concat_grad_is_the_channel_slice() -> None:
    g = rand_grad(np.random.default_rng(9), (2, 3, 3, 10))
    gt, pt = ftype(g.shape), ftype((2, 3, 3, 5))
    body = [f"%r = tt.concat_grad %g {{channel_offset = 3 : i64}} : {gt} -> {pt}"]
    (got,), _ = build_and_run([], [("g", gt)], body, [("r", pt)], [g])
    np.testing.assert_array_equal(got, g[..., 3:8])


def test_tables_are_what_the_numerics_say() -> None:
    """A table has one entry per code, and the derivative is 0 exactly where the output saturates."""
    table = nx.activation_table("sigmoid", 0.1, -50, 0.003, -120)
    grad = nx.activation_grad_table("sigmoid", 0.1, -50, 0.003, -120)
    assert table.shape == grad.shape == (256,) and table.dtype == np.int8 and grad.dtype == np.float32
    assert ((grad == 0) == ((table == 127) | (table == -128))).all()
