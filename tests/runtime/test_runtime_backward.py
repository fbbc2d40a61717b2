"""Loss and float32 backward kernels of runtime_c against the reference interpreter.

The interpreter computes in float64 and rounds to float32; the kernels compute in float32 in a
fixed order. Tolerance (runtime_c/README.md): every element within RTOL of the expected value,
or within RTOL of the largest expected magnitude of the tensor (sums that cancel). Elementwise
kernels without sums (clamp_grad, clamp_mask + mask_grad, grad_accumulate, global_avg_pool_grad)
are bit exact.
"""

from __future__ import annotations

import numpy as np
import oracle
import pytest
from cdriver import KernelDriver, conv_shape, i32
from irbuild import assert_grad_close
from oracle import Q, f32_scale

from ttdialect.dialect import conv_output_size

RTOL = 2e-6  # measured worst case ~7e-7 on these shapes (see the README)
LOSS_RTOL = 1e-6


def rand_int8(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-128, 128, size=shape).astype(np.int8)


def rand_weight(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return np.clip(np.rint(rng.normal(0.0, 45.0, size=shape)), -127, 127).astype(np.int8)


def rand_grad(rng: np.random.Generator, shape: tuple[int, ...], zeros: float = 0.3) -> np.ndarray:
    """A float32 gradient with a fraction of exact zeros (as after a ReLU's clamp_grad)."""
    g = rng.normal(0.0, 1e-2, size=shape)
    g[rng.random(shape) < zeros] = 0.0
    return g.astype(np.float32)


# --------------------------------------------------------------------------- loss


@pytest.mark.parametrize(
    ("seed", "n", "k", "scale", "zp"),
    [
        (1, 1, 10, 0.1, 0),
        (2, 4, 10, 0.05, -20),
        (3, 7, 3, 0.25, 5),
        (4, 3, 100, 0.02, 127),
        (5, 2, 5, 1.5, -128),
    ],
)
def test_cross_entropy_int8(driver: KernelDriver, seed, n, k, scale, zp) -> None:
    rng = np.random.default_rng(seed)
    lq = Q(f32_scale(scale), zp)
    logits = rand_int8(rng, (n, k))
    labels = rng.integers(0, k, size=n).astype(np.int32)
    loss, grad = oracle.cross_entropy(logits, labels, lq)
    out = driver.call(
        "cross_entropy",
        i32([n, k]),
        lq.scale,
        lq.zp,
        logits,
        labels,
        np.zeros(1, np.float32),
        np.zeros((n, k), np.float32),
    )
    assert float(out[5][0]) == pytest.approx(loss, rel=LOSS_RTOL)
    assert_grad_close(out[6], grad, rtol=RTOL)


@pytest.mark.parametrize(("seed", "n", "k", "spread"), [(1, 5, 6, 3.0), (2, 2, 3, 300.0), (3, 8, 10, 0.01)])
def test_cross_entropy_f32(driver: KernelDriver, seed, n, k, spread) -> None:
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, spread, size=(n, k)).astype(np.float32)
    labels = rng.integers(0, k, size=n).astype(np.int32)
    loss, grad = oracle.cross_entropy(logits, labels, None)
    out = driver.call(
        "cross_entropy_f32",
        i32([n, k]),
        logits,
        labels,
        np.zeros(1, np.float32),
        np.zeros((n, k), np.float32),
    )
    assert float(out[3][0]) == pytest.approx(loss, rel=LOSS_RTOL, abs=1e-7)
    assert_grad_close(out[4], grad, rtol=RTOL)


def test_cross_entropy_bad_label_is_nan(driver: KernelDriver) -> None:
    logits = np.zeros((2, 3), dtype=np.int8)
    labels = np.array([0, 3], dtype=np.int32)
    out = driver.call(
        "cross_entropy",
        i32([2, 3]),
        0.1,
        0,
        logits,
        labels,
        np.zeros(1, np.float32),
        np.zeros((2, 3), np.float32),
    )
    assert np.isnan(out[5][0])
    assert np.isfinite(out[6][0]).all() and np.isnan(out[6][1]).all()


def test_exp_log_accuracy(driver: KernelDriver) -> None:
    """tt_exp_f32 / tt_log_f32 within 2 ulp of the correctly rounded value on the loss ranges."""
    rng = np.random.default_rng(8)
    x_exp = np.concatenate([-rng.exponential(5.0, 20000), -np.linspace(0, 87, 5000), [0.0, -1e-8]]).astype(
        np.float32
    )
    x_log = np.concatenate(
        [rng.uniform(1.0, 1000.0, 20000), np.linspace(1.0, 2.0, 5000), [1.0, 2.0**24]]
    ).astype(np.float32)
    for x, fn, which in ((x_exp, np.exp, 1), (x_log, np.log, 2)):
        got = driver.call("exp_log", x, np.zeros_like(x), np.zeros_like(x))[which]
        exact = fn(x.astype(np.float64))
        ulps = np.abs(got.astype(np.float64) - exact) / np.spacing(np.abs(exact).astype(np.float32)).astype(
            np.float64
        )
        ulps[exact == 0] = 0
        assert ulps.max() <= 2.0, (which, x[ulps.argmax()], ulps.max())
    assert (
        driver.call("exp_log", np.float32([0.0]), np.zeros(1, np.float32), np.zeros(1, np.float32))[1][0]
        == 1.0
    )


# --------------------------------------------------------------------------- conv2d backward

CONV_CASES = {
    # name: (n, h, w, c, o, kernel, stride, padding, groups)
    "regular_3x3_s1_p1": (2, 6, 7, 4, 5, (3, 3), (1, 1), (1, 1), 1),
    "regular_3x3_s2_p1": (1, 9, 8, 3, 6, (3, 3), (2, 2), (1, 1), 1),
    "regular_3x3_s2_p0_dropped": (2, 8, 8, 3, 4, (3, 3), (2, 2), (0, 0), 1),
    "regular_5x3_mixed": (1, 10, 7, 2, 3, (5, 3), (2, 1), (2, 0), 1),
    "depthwise_3x3_s1_p1": (2, 6, 6, 6, 6, (3, 3), (1, 1), (1, 1), 6),
    "depthwise_3x3_s2_p1": (1, 9, 10, 5, 5, (3, 3), (2, 2), (1, 1), 5),
    "depthwise_5x5_s1_p2": (1, 7, 5, 9, 9, (5, 5), (1, 1), (2, 2), 9),
    "pointwise_s1": (2, 5, 5, 7, 4, (1, 1), (1, 1), (0, 0), 1),
    "pointwise_s2": (1, 7, 6, 4, 8, (1, 1), (2, 2), (0, 0), 1),
    "grouped_2": (1, 6, 5, 4, 6, (3, 3), (1, 1), (1, 1), 2),
    # the blocked kernels: 6x4 / 4x4 weight blocks and 4x4 position blocks with tails, the
    # depthwise ring (strides 1 and 2, 4-pixel blocks), the wide depthwise plane that does not
    # fit the ring, and a depthwise conv with a channel multiplier (the scatter loop)
    "pointwise_blocks": (1, 4, 5, 21, 14, (1, 1), (1, 1), (0, 0), 1),
    "pointwise_8x8": (1, 8, 8, 9, 17, (1, 1), (1, 1), (0, 0), 1),
    "depthwise_3x3_s1_p1_16x16": (1, 16, 16, 3, 3, (3, 3), (1, 1), (1, 1), 3),
    "depthwise_7x7_s2_p3": (1, 12, 11, 6, 6, (7, 7), (2, 2), (3, 3), 6),
    "depthwise_5x5_s1_p2_wide": (1, 9, 26, 5, 5, (5, 5), (1, 1), (2, 2), 5),
    "depthwise_multiplier_2": (1, 6, 6, 3, 6, (3, 3), (1, 1), (1, 1), 3),
    # TensorFlow's SAME padding (more at the bottom and right) and folded PADs (more at the top)
    "regular_3x3_s2_same_even": (1, 8, 10, 3, 5, (3, 3), (2, 2), (0, 0, 1, 1), 1),
    "regular_3x3_s1_more_on_top": (2, 6, 7, 4, 5, (3, 3), (1, 1), (2, 1, 0, 1), 1),
    "depthwise_3x3_s2_same_even": (1, 10, 8, 6, 6, (3, 3), (2, 2), (0, 0, 1, 1), 6),
    "depthwise_3x3_s2_same_16x16": (1, 16, 16, 3, 3, (3, 3), (2, 2), (0, 0, 1, 1), 3),
    "depthwise_5x5_s2_same": (1, 12, 11, 4, 4, (5, 5), (2, 2), (1, 2, 2, 2), 4),
    "pointwise_8x8_same_s2": (1, 8, 8, 9, 6, (1, 1), (2, 2), (0, 0, 0, 0), 1),
}


def conv_case(name: str):
    n, h, w, c, o, kernel, stride, padding, groups = CONV_CASES[name]
    after = padding[2:] or padding
    oh = conv_output_size(h, kernel[0], stride[0], padding[0], after[0])
    ow = conv_output_size(w, kernel[1], stride[1], padding[1], after[1])
    rng = np.random.default_rng(list(CONV_CASES).index(name) + 10)
    return rng, (n, h, w, c), (o, *kernel, c // groups), (n, oh, ow, o), kernel, stride, padding, groups


@pytest.mark.parametrize("name", list(CONV_CASES))
def test_conv2d_grad_input(driver: KernelDriver, name: str) -> None:
    rng, in_shape, w_shape, out_shape, kernel, stride, padding, groups = conv_case(name)
    weight = rand_weight(rng, w_shape)
    scales = np.float32(rng.uniform(0.5, 2.0, size=w_shape[0]) / 64.0)
    g = rand_grad(rng, out_shape)
    expected = oracle.conv2d_grad_input(g, weight, scales, in_shape, stride, padding, groups)
    shape = conv_shape(in_shape, out_shape, kernel, stride, padding, groups)
    got = driver.call("conv2d_grad_input", shape, g, weight, scales, np.full(in_shape, np.nan, np.float32))[4]
    assert_grad_close(got, expected, rtol=RTOL)


@pytest.mark.parametrize(
    "name",
    ["depthwise_3x3_s1_p1", "depthwise_5x5_s1_p2", "depthwise_3x3_s1_p1_16x16", "depthwise_5x5_s1_p2_wide"],
)
def test_depthwise_grad_input_in_place(driver: KernelDriver, name: str) -> None:
    """Written over its own input with one plane of scratch: close to the interpreter, and bit
    identical to tt_conv2d_grad_input (the order it documents)."""
    rng, in_shape, w_shape, out_shape, kernel, stride, padding, groups = conv_case(name)
    assert in_shape == out_shape
    weight = rand_weight(rng, w_shape)
    scales = np.float32(rng.uniform(0.5, 2.0, size=w_shape[0]) / 64.0)
    g = rand_grad(rng, out_shape)
    shape = conv_shape(in_shape, out_shape, kernel, stride, padding, groups)
    plane = np.full(in_shape[:3], np.nan, np.float32)
    out_of_place, in_place = driver.call_many(
        [
            ("conv2d_grad_input", [shape, g, weight, scales, np.full(in_shape, np.nan, np.float32)]),
            ("depthwise_grad_input_in_place", [shape, g.copy(), weight, scales, plane]),
        ]
    )
    expected = oracle.conv2d_grad_input(g, weight, scales, in_shape, stride, padding, groups)
    assert_grad_close(in_place[1], expected, rtol=RTOL)
    np.testing.assert_array_equal(in_place[1], out_of_place[4])


@pytest.mark.parametrize("zeros", [0.0, 0.5, 0.9])
def test_pointwise_grad_input_dense_and_sparse(driver: KernelDriver, zeros: float) -> None:
    """Both pointwise paths (blocks for dense gradients, the scatter below ~55 % nonzero)."""
    rng, in_shape, w_shape, out_shape, kernel, stride, padding, groups = conv_case("pointwise_blocks")
    weight = rand_weight(rng, w_shape)
    scales = np.float32(rng.uniform(0.5, 2.0, size=w_shape[0]) / 64.0)
    g = rand_grad(rng, out_shape, zeros=zeros)
    expected = oracle.conv2d_grad_input(g, weight, scales, in_shape, stride, padding, groups)
    shape = conv_shape(in_shape, out_shape, kernel, stride, padding, groups)
    got = driver.call("conv2d_grad_input", shape, g, weight, scales, np.full(in_shape, np.nan, np.float32))[4]
    assert_grad_close(got, expected, rtol=RTOL)


GRAD_WEIGHT_CASES = [(name, None) for name in CONV_CASES] + [
    ("regular_3x3_s1_p1", [0, 2]),
    ("regular_3x3_s1_p1", [3]),
    ("regular_3x3_s2_p1", [0, 1, 2]),
    ("pointwise_s2", [1, 3]),
    ("depthwise_3x3_s1_p1", [1, 4, 5]),
    ("depthwise_3x3_s2_p1", [0]),
    ("depthwise_3x3_s2_p1", [2, 3, 4]),
    ("pointwise_blocks", [0, 2, 3, 7, 8, 9, 15, 20]),
    ("depthwise_7x7_s2_p3", [0, 1, 2, 4, 5]),
]


@pytest.mark.parametrize(("name", "channels"), GRAD_WEIGHT_CASES)
def test_conv2d_grad_weight(driver: KernelDriver, name: str, channels: list[int] | None) -> None:
    rng, in_shape, _, out_shape, kernel, stride, padding, groups = conv_case(name)
    x = rand_int8(rng, in_shape)
    xq = Q(f32_scale(rng.uniform(0.01, 0.1)), int(rng.integers(-30, 31)))
    g = rand_grad(rng, out_shape)
    expected = oracle.conv2d_grad_weight(x, xq, g, kernel, stride, padding, groups, channels)
    shape = conv_shape(in_shape, out_shape, kernel, stride, padding, groups)
    result = np.full(expected.shape, np.nan, np.float32)
    chans = None if channels is None else i32(channels)
    got = driver.call("conv2d_grad_weight", shape, xq.scale, xq.zp, x, g, chans, result)[6]
    assert_grad_close(got, expected, rtol=RTOL)


# --------------------------------------------------------------------------- linear backward


@pytest.mark.parametrize(("seed", "n", "k", "o"), [(1, 1, 16, 10), (2, 4, 37, 5), (3, 3, 8, 12)])
def test_linear_grad_input(driver: KernelDriver, seed, n, k, o) -> None:
    rng = np.random.default_rng(seed)
    weight = rand_weight(rng, (o, k))
    scales = np.float32(rng.uniform(0.5, 2.0, size=o) / 64.0)
    g = rand_grad(rng, (n, o))
    expected = oracle.linear_grad_input(g, weight, scales)
    got = driver.call(
        "linear_grad_input", i32([n, k, o]), g, weight, scales, np.full((n, k), np.nan, np.float32)
    )[4]
    assert_grad_close(got, expected, rtol=RTOL)


@pytest.mark.parametrize(
    ("seed", "n", "k", "o", "columns"),
    [(1, 1, 16, 10, None), (2, 4, 37, 5, None), (3, 3, 8, 12, [0, 5, 7]), (4, 6, 20, 4, [3])],
)
def test_linear_grad_weight(driver: KernelDriver, seed, n, k, o, columns) -> None:
    rng = np.random.default_rng(seed)
    x = rand_int8(rng, (n, k))
    xq = Q(f32_scale(rng.uniform(0.01, 0.1)), int(rng.integers(-30, 31)))
    g = rand_grad(rng, (n, o))
    expected = oracle.linear_grad_weight(x, xq, g, columns)
    cols = None if columns is None else i32(columns)
    result = np.full(expected.shape, np.nan, np.float32)
    got = driver.call("linear_grad_weight", i32([n, k, o]), xq.scale, xq.zp, x, g, cols, result)[6]
    assert_grad_close(got, expected, rtol=RTOL)


# --------------------------------------------------------------------------- elementwise


@pytest.mark.parametrize("shape", [(2, 5, 6, 7), (3, 10), (1, 1, 1, 4)])
def test_bias_grad(driver: KernelDriver, shape) -> None:
    g = rand_grad(np.random.default_rng(len(shape)), shape)
    expected = oracle.bias_grad(g)
    got = driver.call("bias_grad", shape[-1], g, np.full(shape[-1], np.nan, np.float32))[2]
    assert_grad_close(got, expected, rtol=RTOL)


@pytest.mark.parametrize("act", [(-128, 127), (0, 127), (-10, 6), (3, 3)])
def test_clamp_grad_exact(driver: KernelDriver, act) -> None:
    rng = np.random.default_rng(act[1] + 200)
    y = rand_int8(rng, (2, 4, 4, 6))
    g = rand_grad(rng, y.shape, zeros=0.0)
    expected = oracle.clamp_grad(g, y, Q(0.1, 0), act)
    got = driver.call("clamp_grad", act[0], act[1], g, y, np.full(y.shape, np.nan, np.float32))[4]
    np.testing.assert_array_equal(got, expected)


CLAMP_MASK_CASES = [((-128, 127), (2, 4, 4, 6)), ((0, 127), (1, 3, 5, 7)), ((-10, 6), (13,))]


@pytest.mark.parametrize(("act", "shape"), CLAMP_MASK_CASES)
def test_clamp_mask_then_mask_grad_equal_clamp_grad(driver: KernelDriver, act, shape) -> None:
    """The 1-bit mask path gives clamp_grad's gradient bit for bit; the mask bytes are the
    little-endian bit packing of the inside-the-range predicate (unused high bits 0)."""
    rng = np.random.default_rng(act[1] + 300)
    y = rand_int8(rng, shape)
    g = rand_grad(rng, shape, zeros=0.0)
    count = y.size
    mask = driver.call("clamp_mask", act[0], act[1], y, np.full((count + 7) // 8, -1, np.int8))[3]
    inside = (y.reshape(-1) > act[0]) & (y.reshape(-1) < act[1])
    np.testing.assert_array_equal(mask.view(np.uint8), np.packbits(inside, bitorder="little"))
    got = driver.call("mask_grad", g, mask, np.full(shape, np.nan, np.float32))[2]
    np.testing.assert_array_equal(got, oracle.clamp_grad(g, y, Q(0.1, 0), act))


@pytest.mark.parametrize("in_shape", [(2, 5, 5, 8), (1, 7, 3, 5), (1, 1, 1, 3)])
def test_global_avg_pool_grad_exact(driver: KernelDriver, in_shape) -> None:
    n, h, w, c = in_shape
    g = rand_grad(np.random.default_rng(h), (n, 1, 1, c), zeros=0.0)
    expected = oracle.global_avg_pool_grad(g, in_shape)
    got = driver.call("global_avg_pool_grad", i32(in_shape), g, np.full(in_shape, np.nan, np.float32))[2]
    np.testing.assert_array_equal(got, expected)


def test_grad_accumulate_exact(driver: KernelDriver) -> None:
    rng = np.random.default_rng(3)
    a, b = rand_grad(rng, (2, 3, 4, 5)), rand_grad(rng, (2, 3, 4, 5))
    expected = oracle.grad_accumulate(a, b)
    got = driver.call("grad_accumulate", a, b, np.zeros_like(a))[2]
    np.testing.assert_array_equal(got, expected)
