"""The layer kernels of runtime_c (tt_layers.c) against the reference interpreter.

int8 kernels (max / average pooling, table activations, multiply, concat) must be bit exact;
float32 kernels agree within RTOL of the tensor's largest magnitude (the interpreter sums in
float64), and the copies and single products (max-pool gradient without overlap, channel slice,
table gradient) exactly. Each one-op module runs in the interpreter; the kernel runs in the
sanitized driver with the arguments computed as the compiler does (ttdialect.numerics). Shapes
cover odd channel counts (also above the average pool's 16-channel chunks), padding on every
side, strides, overlapping and disjoint windows, batch 2, and in-place calls where allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from cdriver import KernelDriver, i32
from irbuild import assert_grad_close, assert_spread, build_and_run, clamp_attrs, ftype, qtype
from oracle import f32_scale

from ttdialect import numerics as nx

RTOL = 2e-6


def rand_int8(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-128, 128, size=shape).astype(np.int8)


def rand_grad(rng: np.random.Generator, shape: tuple[int, ...], zeros: float = 0.3) -> np.ndarray:
    g = rng.normal(0.0, 1e-2, size=shape)
    g[rng.random(shape) < zeros] = 0.0
    return g.astype(np.float32)


def array_attr(values) -> str:
    return "array<i64: " + ", ".join(str(int(v)) for v in values) + ">"


# --------------------------------------------------------------------------- pools


@dataclass(frozen=True)
class PoolCase:
    shape: tuple[int, int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]  # top, left, bottom, right

    def out_shape(self) -> tuple[int, int, int, int]:
        n, h, w, c = self.shape
        top, left, bottom, right = self.padding
        oh = nx_pool(h, self.kernel[0], self.stride[0], top, bottom)
        ow = nx_pool(w, self.kernel[1], self.stride[1], left, right)
        return (n, oh, ow, c)

    def c_shape(self) -> np.ndarray:
        n, h, w, c = self.shape
        _, oh, ow, _ = self.out_shape()
        return i32([n, h, w, c, oh, ow, *self.kernel, *self.stride, self.padding[0], self.padding[1]])

    def attrs(self) -> str:
        pads = self.padding[:2] if self.padding[:2] == self.padding[2:] else self.padding
        window = f"kernel = {array_attr(self.kernel)}, stride = {array_attr(self.stride)}"
        return f"{window}, padding = {array_attr(pads)}"


def nx_pool(size: int, kernel: int, stride: int, before: int, after: int) -> int:
    return (size + before + after - kernel) // stride + 1


POOLS = {
    "3x3_s2_p1": PoolCase((2, 9, 10, 5), (3, 3), (2, 2), (1, 1, 1, 1)),
    "2x2_s2": PoolCase((1, 8, 8, 3), (2, 2), (2, 2), (0, 0, 0, 0)),
    "3x3_s1_p1_37ch": PoolCase((1, 5, 6, 37), (3, 3), (1, 1), (1, 1, 1, 1)),
    "5x5_s2_p2": PoolCase((1, 11, 9, 16), (5, 5), (2, 2), (2, 2, 2, 2)),
    "3x2_mixed": PoolCase((1, 7, 9, 17), (3, 2), (2, 1), (1, 0, 1, 0)),
    "ceil_bottom_right": PoolCase((1, 7, 7, 6), (3, 3), (2, 2), (0, 0, 1, 1)),
    "same_asymmetric": PoolCase((2, 6, 5, 2), (2, 3), (2, 2), (0, 1, 1, 1)),
    "1x1_s2": PoolCase((1, 5, 5, 4), (1, 1), (2, 2), (0, 0, 0, 0)),
    "global_like": PoolCase((1, 4, 6, 33), (4, 6), (1, 1), (0, 0, 0, 0)),
}


def interpreter_pool(kind: str, case: PoolCase, x: np.ndarray, xq, act, indices: bool = False):
    out = case.out_shape()
    xt, yt = qtype(x.shape, *xq), qtype(out, *xq)
    it = f"tensor<{'x'.join(map(str, out))}xui8>"
    attrs = f"{case.attrs()}, {clamp_attrs(*act)}"
    if indices:
        body = [f"%y, %i = tt.max_pool %x {{{attrs}}} : {xt} -> {yt}, {it}"]
        results = [("y", yt), ("i", it)]
    else:
        body = [f"%y = tt.{kind}_pool %x {{{attrs}}} : {xt} -> {yt}"]
        results = [("y", yt)]
    outputs, _ = build_and_run([], [("x", xt)], body, results, [x])
    return outputs


@pytest.mark.parametrize("name", list(POOLS))
def test_max_pool_bit_exact(driver: KernelDriver, name: str) -> None:
    case = POOLS[name]
    rng = np.random.default_rng(list(POOLS).index(name))
    x = rng.integers(-60, 60, size=case.shape).astype(np.int8)  # many ties
    act = (-40, 50)
    want, indices = interpreter_pool("max", case, x, (0.05, 3), act, indices=True)
    out = np.zeros(case.out_shape(), np.int8)
    got, got_indices = driver.call("max_pool", case.c_shape(), i32(act), x, out, out.copy())[3:5]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_indices.view(np.uint8), indices)
    alone = driver.call("max_pool", case.c_shape(), i32(act), x, out, None)[3]
    np.testing.assert_array_equal(alone, want)


@pytest.mark.parametrize("name", list(POOLS))
def test_avg_pool_bit_exact(driver: KernelDriver, name: str) -> None:
    case = POOLS[name]
    rng = np.random.default_rng(20 + list(POOLS).index(name))
    x = rand_int8(rng, case.shape)
    act = (-128, 100)
    (want,) = interpreter_pool("avg", case, x, (0.02, -5), act)
    got = driver.call("avg_pool", case.c_shape(), i32(act), x, np.zeros(case.out_shape(), np.int8))[3]
    np.testing.assert_array_equal(got, want)


def test_avg_pool_extremes(driver: KernelDriver) -> None:
    """Sums of full-scale values and exact ties of both signs round as TFLite does."""
    case = PoolCase((1, 4, 4, 20), (2, 2), (2, 2), (0, 0, 0, 0))
    rng = np.random.default_rng(5)
    for x in (
        np.full(case.shape, -128, np.int8),
        np.full(case.shape, 127, np.int8),
        rng.choice(np.array([-3, -1, 1, 3], np.int8), size=case.shape),
    ):
        (want,) = interpreter_pool("avg", case, x, (0.1, 0), (-128, 127))
        got = driver.call(
            "avg_pool", case.c_shape(), i32([-128, 127]), x, np.zeros(case.out_shape(), np.int8)
        )[3]
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", list(POOLS))
def test_max_pool_grad(driver: KernelDriver, name: str) -> None:
    case = POOLS[name]
    rng = np.random.default_rng(40 + list(POOLS).index(name))
    x = rng.integers(-30, 30, size=case.shape).astype(np.int8)
    g = rand_grad(rng, case.out_shape())
    _, indices = interpreter_pool("max", case, x, (0.05, 3), (-128, 127), indices=True)
    out_t = ftype(case.out_shape())
    xt, rt = qtype(x.shape, 0.05, 3), ftype(case.shape)
    body = [f"%r = tt.max_pool_grad %g, %x {{{case.attrs()}}} : {out_t}, {xt} -> {rt}"]
    (want,), _ = build_and_run([], [("g", out_t), ("x", xt)], body, [("r", rt)], [g, x])
    zeros = np.zeros(case.shape, np.float32)
    got = driver.call("max_pool_grad", case.c_shape(), g, x, zeros)[3]
    from_indices = driver.call("max_pool_grad_indices", case.c_shape(), g, indices.view(np.int8), zeros)[3]
    assert_grad_close(got, want, rtol=RTOL)
    np.testing.assert_array_equal(from_indices, got)  # the same terms in the same order


@pytest.mark.parametrize("name", list(POOLS))
def test_avg_pool_grad(driver: KernelDriver, name: str) -> None:
    case = POOLS[name]
    rng = np.random.default_rng(60 + list(POOLS).index(name))
    g = rand_grad(rng, case.out_shape())
    gt, rt = ftype(case.out_shape()), ftype(case.shape)
    body = [f"%r = tt.avg_pool_grad %g {{{case.attrs()}}} : {gt} -> {rt}"]
    (want,), _ = build_and_run([], [("g", gt)], body, [("r", rt)], [g])
    got = driver.call("avg_pool_grad", case.c_shape(), g, np.zeros(case.shape, np.float32))[2]
    assert_grad_close(got, want, rtol=RTOL)


# --------------------------------------------------------------------------- table activations

ACTIVATIONS = [
    ("hard_swish", (0.05, 10), (0.04, -100)),
    ("hard_sigmoid", (0.03, -20), (1 / 256, -128)),
    ("sigmoid", (0.1, -50), (0.003, -120)),
]


@pytest.mark.parametrize(("name", "xq", "yq"), ACTIVATIONS)
def test_lookup_bit_exact(driver: KernelDriver, name: str, xq, yq) -> None:
    rng = np.random.default_rng(len(name))
    x = rand_int8(rng, (2, 5, 3, 7))
    xt, yt = qtype(x.shape, *xq), qtype(x.shape, *yq)
    (want,), _ = build_and_run([], [("x", xt)], [f"%y = tt.{name} %x : {xt} -> {yt}"], [("y", yt)], [x])
    table = nx.activation_table(name, xq[0], xq[1], yq[0], yq[1])
    got = driver.call("lookup_s8", table, x, np.zeros_like(x))[2]
    np.testing.assert_array_equal(got, want)
    in_place = driver.call("lookup_s8_in_place", table, x.copy())[1]
    np.testing.assert_array_equal(in_place, want)

    g = rand_grad(rng, x.shape)
    gt = ftype(x.shape)
    body = [
        f'%r = tt.activation_grad %g, %x {{activation = "{name}", output_type = {yt}}} : {gt}, {xt} -> {gt}'
    ]
    (want_grad,), _ = build_and_run([], [("g", gt), ("x", xt)], body, [("r", gt)], [g, x])
    derivative = nx.activation_grad_table(name, xq[0], xq[1], yq[0], yq[1])
    got_grad = driver.call("lookup_grad", derivative, g, x, np.zeros_like(g))[3]
    np.testing.assert_array_equal(got_grad, want_grad)  # one float32 product of float32 values
    in_place_grad = driver.call("lookup_grad", derivative, g.copy(), x, None)[1]
    np.testing.assert_array_equal(in_place_grad, want_grad)


# --------------------------------------------------------------------------- multiply


MULS = [
    # shape (NHWC), broadcast, lhs q, rhs q, out q, act
    ((2, 4, 5, 7), True, (0.05, -7), (1 / 256, -128), (0.03, 4), (-128, 127)),
    ((1, 3, 3, 9), False, (0.05, 3), (0.02, -9), (0.15, -2), (-30, 127)),
    ((1, 2, 2, 5), True, (0.5, 0), (0.5, 0), (0.05, 0), (-128, 127)),  # multiplier above 1/4
    ((1, 1, 1, 6), False, (0.01, -128), (0.01, -128), (2e-4, -128), (-128, 127)),
]


def mul_quant(lq, rq, yq, act) -> np.ndarray:
    multiplier, shift = nx.quantize_multiplier(lq[0] * rq[0] / yq[0])
    return i32([lq[1], rq[1], yq[1], multiplier, shift, *act])


@pytest.mark.parametrize("case", range(len(MULS)))
def test_mul_bit_exact(driver: KernelDriver, case: int) -> None:
    shape, broadcast, lq, rq, yq, act = MULS[case]
    lq, rq, yq = [(f32_scale(s), z) for s, z in (lq, rq, yq)]
    rng = np.random.default_rng(case)
    n, h, w, c = shape
    rhs_shape = (n, 1, 1, c) if broadcast else shape
    a, b = rand_int8(rng, shape), rand_int8(rng, rhs_shape)
    at, bt, yt = qtype(shape, *lq), qtype(rhs_shape, *rq), qtype(shape, *yq)
    body = [f"%y = tt.mul %a, %b {{{clamp_attrs(*act)}}} : {at}, {bt} -> {yt}"]
    (want,), _ = build_and_run([], [("a", at), ("b", bt)], body, [("y", yt)], [a, b])
    if case < 2:
        assert_spread(want, *act)
    dims = i32([n, h * w, c, int(broadcast)])
    quant = mul_quant(lq, rq, yq, act)
    got = driver.call("mul", dims, quant, a, b, np.zeros_like(a))[4]
    np.testing.assert_array_equal(got, want)
    in_place = driver.call("mul", dims, quant, a.copy(), b, None)[2]
    np.testing.assert_array_equal(in_place, want)


@pytest.mark.parametrize("case", range(len(MULS)))
def test_mul_grads(driver: KernelDriver, case: int) -> None:
    shape, broadcast, lq, rq, _, _ = MULS[case]
    rng = np.random.default_rng(10 + case)
    n, h, w, c = shape
    rhs_shape = (n, 1, 1, c) if broadcast else shape
    a, b = rand_int8(rng, shape), rand_int8(rng, rhs_shape)
    g = rand_grad(rng, shape)
    at, bt, gt, st = qtype(shape, *lq), qtype(rhs_shape, *rq), ftype(shape), ftype(rhs_shape)
    body = [
        f"%ga = tt.mul_grad %g, %b : {gt}, {bt} -> {gt}",
        f"%gb = tt.mul_grad %g, %a : {gt}, {at} -> {st}",
    ]
    (ga, gb), _ = build_and_run(
        [], [("g", gt), ("a", at), ("b", bt)], body, [("ga", gt), ("gb", st)], [g, a, b]
    )
    dims = i32([n, h * w, c, int(broadcast)])
    got_a = driver.call("mul_grad", dims, f32_scale(rq[0]), rq[1], g, b, np.zeros_like(g))[5]
    assert_grad_close(got_a, ga, rtol=RTOL)
    in_place = driver.call("mul_grad", dims, f32_scale(rq[0]), rq[1], g.copy(), b, None)[3]
    np.testing.assert_array_equal(in_place, got_a)
    if broadcast:
        got_b = driver.call(
            "mul_grad_reduce", i32([n, h * w, c]), f32_scale(lq[0]), lq[1], g, a, np.zeros((n, c), np.float32)
        )[5]
        assert_grad_close(got_b.reshape(rhs_shape), gb, rtol=RTOL)
    else:
        got_b = driver.call("mul_grad", dims, f32_scale(lq[0]), lq[1], g, a, np.zeros_like(g))[5]
        assert_grad_close(got_b, gb, rtol=RTOL)


# --------------------------------------------------------------------------- concat


def test_concat_bit_exact(driver: KernelDriver) -> None:
    rng = np.random.default_rng(8)
    channels = (3, 5, 17, 2)
    quants = [(0.05, -3), (0.1, 20), (0.05, -3), (0.013, 101)]
    yq = (0.05, -3)
    parts = [rand_int8(rng, (2, 3, 4, c)) for c in channels]
    types = [qtype(p.shape, *q) for p, q in zip(parts, quants, strict=True)]
    yt = qtype((2, 3, 4, sum(channels)), *yq)
    names = [f"x{i}" for i in range(len(parts))]
    body = [f"%y = tt.concat {', '.join('%' + n for n in names)} : {', '.join(types)} -> {yt}"]
    (want,), _ = build_and_run([], list(zip(names, types, strict=True)), body, [("y", yt)], parts)
    out = np.full(want.shape, 77, np.int8)
    offset = 0
    for part, (scale, zp) in zip(parts, quants, strict=True):
        multiplier, shift = nx.quantize_multiplier(scale / yq[0])
        params = i32([part.shape[3], sum(channels), offset, zp, yq[1], multiplier, shift])
        out = driver.call("concat_channels", params, part, out)[2]
        offset += part.shape[3]
    np.testing.assert_array_equal(out, want)
    wide = want[..., 3:8]  # scale 0.1 into 0.05: saturates
    assert ((wide == 127) | (wide == -128)).any()


def test_channel_slice_exact(driver: KernelDriver) -> None:
    g = rand_grad(np.random.default_rng(9), (2, 3, 4, 11))
    gt, pt = ftype(g.shape), ftype((2, 3, 4, 5))
    body = [f"%r = tt.concat_grad %g {{channel_offset = 4 : i64}} : {gt} -> {pt}"]
    (want,), _ = build_and_run([], [("g", gt)], body, [("r", pt)], [g])
    got = driver.call("channel_slice", i32([11, 4, 5]), g, np.zeros((2, 3, 4, 5), np.float32))[2]
    np.testing.assert_array_equal(got, want)
