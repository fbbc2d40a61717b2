"""int8 forward kernels of runtime_c against the reference interpreter: bit exact.

Each case builds random int8 data, runs the one-op module in the interpreter and the kernel in
the sanitized C driver (with the fixed-point arguments computed as the compiler does), and
requires every output byte to be equal. Output scales are chosen so that the expected outputs
spread over the int8 range (checked, so that no test passes on saturated outputs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import oracle
import pytest
from cdriver import KernelDriver, conv_shape, i32
from irbuild import assert_spread
from oracle import Q, f32_scale

from ttdialect.dialect import conv_output_size


def rand_int8(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-128, 128, size=shape).astype(np.int8)


def rand_weight(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return np.clip(np.rint(rng.normal(0.0, 45.0, size=shape)), -127, 127).astype(np.int8)


# --------------------------------------------------------------------------- conv2d


@dataclass(frozen=True)
class ConvCase:
    n: int
    h: int
    w: int
    c: int
    o: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, ...]  # (top, left), the same after, or (top, left, bottom, right)
    groups: int
    bias: bool = True
    act: tuple[int, int] | None = None  # None: ReLU at the output zero point

    def shapes(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        after = self.padding[2:] or self.padding
        oh = conv_output_size(self.h, self.kernel[0], self.stride[0], self.padding[0], after[0])
        ow = conv_output_size(self.w, self.kernel[1], self.stride[1], self.padding[1], after[1])
        weight = (self.o, *self.kernel, self.c // self.groups)
        return (self.n, self.h, self.w, self.c), weight, (self.n, oh, ow, self.o)


CONV_CASES = {
    "regular_3x3_s1_p1": ConvCase(2, 6, 7, 5, 6, (3, 3), (1, 1), (1, 1), 1),
    "regular_3x3_s2_p1_odd": ConvCase(1, 9, 8, 3, 7, (3, 3), (2, 2), (1, 1), 1, bias=False),
    "regular_3x3_s2_p0_dropped": ConvCase(1, 8, 8, 4, 5, (3, 3), (2, 2), (0, 0), 1, act=(-128, 127)),
    "regular_5x3_mixed": ConvCase(1, 10, 7, 3, 4, (5, 3), (2, 1), (2, 0), 1),
    "regular_1x1_padded": ConvCase(1, 4, 5, 6, 3, (1, 1), (1, 1), (1, 1), 1),
    "regular_long_channels": ConvCase(1, 5, 5, 37, 5, (3, 3), (1, 1), (1, 1), 1),
    "depthwise_3x3_s1_p1": ConvCase(2, 6, 6, 8, 8, (3, 3), (1, 1), (1, 1), 8),
    "depthwise_3x3_s2_p1": ConvCase(1, 9, 10, 5, 5, (3, 3), (2, 2), (1, 1), 5, bias=False),
    "depthwise_5x5_s2_p2": ConvCase(1, 11, 9, 4, 4, (5, 5), (2, 2), (2, 2), 4, act=(-20, 100)),
    "depthwise_multiplier_2": ConvCase(1, 6, 6, 3, 6, (3, 3), (1, 1), (1, 1), 3),
    "pointwise_s1": ConvCase(2, 5, 5, 16, 12, (1, 1), (1, 1), (0, 0), 1),
    "pointwise_s2": ConvCase(1, 7, 6, 9, 8, (1, 1), (2, 2), (0, 0), 1, bias=False),
    "grouped_2": ConvCase(1, 6, 5, 4, 6, (3, 3), (1, 1), (1, 1), 2),
    # TensorFlow's SAME padding (more at the bottom and right) and folded PADs (more at the top)
    "regular_3x3_s2_same_even": ConvCase(1, 8, 10, 3, 5, (3, 3), (2, 2), (0, 0, 1, 1), 1),
    "regular_3x3_s1_more_on_top": ConvCase(1, 6, 7, 4, 5, (3, 3), (1, 1), (2, 1, 0, 1), 1, bias=False),
    "regular_10x4_s2_ds_cnn_stem": ConvCase(1, 49, 10, 1, 8, (10, 4), (2, 2), (4, 1, 5, 1), 1),
    "regular_1x1_s1_tile_rows": ConvCase(1, 4, 6, 8, 6, (1, 3), (1, 1), (0, 0, 0, 2), 1),
    "depthwise_3x3_s2_same_even": ConvCase(1, 10, 8, 6, 6, (3, 3), (2, 2), (0, 0, 1, 1), 6),
    "depthwise_5x5_s2_same": ConvCase(1, 12, 11, 4, 4, (5, 5), (2, 2), (1, 2, 2, 2), 4, act=(-30, 90)),
    "depthwise_multiplier_2_same": ConvCase(1, 6, 6, 3, 6, (3, 3), (2, 2), (0, 0, 1, 1), 3),
    "grouped_2_same": ConvCase(1, 6, 6, 4, 6, (3, 3), (2, 2), (0, 0, 1, 1), 2),
}


def _output_scale(x_scale: float, w_scales: np.ndarray, taps: int, spread: float = 40.0) -> float:
    """An output scale that puts a typical accumulator at about +-`spread` LSB."""
    acc_std = math.sqrt(taps) * 74.0 * 45.0
    return f32_scale(x_scale * float(np.mean(w_scales)) * acc_std / spread)


@pytest.mark.parametrize("name", list(CONV_CASES))
def test_conv2d_bit_exact(driver: KernelDriver, name: str) -> None:
    case = CONV_CASES[name]
    rng = np.random.default_rng(list(CONV_CASES).index(name) + 1)
    in_shape, w_shape, out_shape = case.shapes()
    x = rand_int8(rng, in_shape)
    weight = rand_weight(rng, w_shape)
    w_scales = np.float32(rng.uniform(0.5, 2.0, size=case.o) / 128.0)
    xq = Q(f32_scale(rng.uniform(0.01, 0.05)), int(rng.integers(-40, 41)))
    taps = case.kernel[0] * case.kernel[1] * (case.c // case.groups)
    yq = Q(_output_scale(xq.scale, w_scales, taps), int(rng.integers(-20, 21)))
    bias = rng.integers(-3000, 3000, size=case.o).astype(np.int32) if case.bias else None
    act = case.act if case.act is not None else (yq.zp, 127)

    expected = oracle.conv2d(
        x, xq, weight, w_scales, bias, yq, case.stride, case.padding, case.groups, act, out_shape
    )
    assert_spread(expected, *act)
    mult, shift = oracle.channel_multipliers(xq, w_scales, yq)
    shape = conv_shape(in_shape, out_shape, case.kernel, case.stride, case.padding, case.groups)
    quant = i32([xq.zp, yq.zp, *act])
    out = np.zeros(out_shape, dtype=np.int8)
    got = driver.call("conv2d", shape, quant, mult, shift, x, weight, bias, out)[7]
    np.testing.assert_array_equal(got, expected)


def test_conv2d_extreme_accumulators(driver: KernelDriver) -> None:
    """Full-scale inputs and weights, a large bias and both zero-point extremes: still exact."""
    case = ConvCase(1, 5, 5, 64, 4, (3, 3), (1, 1), (1, 1), 1)
    in_shape, w_shape, out_shape = case.shapes()
    rng = np.random.default_rng(99)
    x = np.where(rng.random(in_shape) < 0.5, -128, 127).astype(np.int8)
    weight = np.where(rng.random(w_shape) < 0.5, -127, 127).astype(np.int8)
    w_scales = np.float32(rng.uniform(0.5, 2.0, size=case.o) / 128.0)
    bias = np.array([2**30, -(2**30), 2**31 - 1, -(2**31)], dtype=np.int32)
    for zp in (-128, 127):
        xq, yq = Q(0.02, zp), Q(_output_scale(0.02, w_scales, 576, spread=2000.0), 3)
        expected = oracle.conv2d(x, xq, weight, w_scales, bias, yq, (1, 1), (1, 1), 1, (-128, 127), out_shape)
        mult, shift = oracle.channel_multipliers(xq, w_scales, yq)
        shape = conv_shape(in_shape, out_shape, case.kernel, case.stride, case.padding, 1)
        out = np.zeros(out_shape, dtype=np.int8)
        got = driver.call("conv2d", shape, i32([zp, yq.zp, -128, 127]), mult, shift, x, weight, bias, out)[7]
        np.testing.assert_array_equal(got, expected)


# --------------------------------------------------------------------------- linear


@pytest.mark.parametrize(
    ("seed", "n", "k", "o", "with_bias", "act"),
    [(1, 1, 16, 10, True, (-128, 127)), (2, 3, 37, 5, False, (0, 127)), (3, 4, 64, 12, True, (-60, 60))],
)
def test_linear_bit_exact(driver: KernelDriver, seed, n, k, o, with_bias, act) -> None:
    rng = np.random.default_rng(seed)
    x = rand_int8(rng, (n, k))
    weight = rand_weight(rng, (o, k))
    w_scales = np.float32(rng.uniform(0.5, 2.0, size=o) / 128.0)
    xq = Q(f32_scale(rng.uniform(0.01, 0.05)), int(rng.integers(-40, 41)))
    yq = Q(_output_scale(xq.scale, w_scales, k), int(rng.integers(-20, 21)))
    bias = rng.integers(-3000, 3000, size=o).astype(np.int32) if with_bias else None
    expected = oracle.linear(x, xq, weight, w_scales, bias, yq, act)
    assert_spread(expected, *act)
    mult, shift = oracle.channel_multipliers(xq, w_scales, yq)
    out = np.zeros((n, o), dtype=np.int8)
    got = driver.call("linear", i32([n, k, o]), i32([xq.zp, yq.zp, *act]), mult, shift, x, weight, bias, out)[
        7
    ]
    np.testing.assert_array_equal(got, expected)


# --------------------------------------------------------------------------- add


@pytest.mark.parametrize(
    ("a", "b", "y", "act"),
    [
        (Q(0.05, 3), Q(0.02, -7), Q(0.06, 0), (-128, 127)),
        (Q(0.013, -128), Q(0.11, 20), Q(0.1, -5), (-5, 127)),
        (Q(0.02, 0), Q(0.02, 0), Q(0.015, 10), (-100, 90)),
        (Q(0.5, 127), Q(0.001, -128), Q(0.3, 0), (-128, 127)),
    ],
)
def test_add_bit_exact(driver: KernelDriver, a: Q, b: Q, y: Q, act) -> None:
    rng = np.random.default_rng(int(a.scale * 1000))
    shape = (2, 5, 6, 7)
    lhs, rhs = rand_int8(rng, shape), rand_int8(rng, shape)
    expected = oracle.add(lhs, a, rhs, b, y, act)
    assert_spread(expected, *act)
    out = np.zeros(shape, dtype=np.int8)
    got = driver.call("add", oracle.add_quant(a, b, y, *act), lhs, rhs, out)[3]
    np.testing.assert_array_equal(got, expected)


# --------------------------------------------------------------------------- pool, requantize, clamp


@pytest.mark.parametrize(
    ("shape", "xq", "yq"),
    [((2, 5, 5, 8), Q(0.05, 3), Q(0.01, -2)), ((1, 7, 3, 5), Q(0.02, -128), Q(0.02, -128))],
)
def test_global_avg_pool_bit_exact(driver: KernelDriver, shape, xq: Q, yq: Q) -> None:
    rng = np.random.default_rng(shape[1])
    x = rand_int8(rng, shape)
    expected = oracle.global_avg_pool(x, xq, yq)
    assert_spread(expected, min_distinct=4)
    n, h, w, c = shape
    mult, shift = oracle.scalar_multiplier(xq.scale / (h * w * yq.scale))
    out = np.zeros((n, 1, 1, c), dtype=np.int8)
    got = driver.call("global_avg_pool", i32(shape), i32([xq.zp, yq.zp, mult, shift]), x, out)[3]
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("xq", "yq"), [(Q(0.05, 3), Q(0.07, -2)), (Q(0.01, -128), Q(0.03, 17)), (Q(0.2, 0), Q(0.1, 0))]
)
def test_requantize_tensor_bit_exact(driver: KernelDriver, xq: Q, yq: Q) -> None:
    x = rand_int8(np.random.default_rng(5), (3, 4, 5, 6))
    expected = oracle.requantize(x, xq, yq)
    mult, shift = oracle.scalar_multiplier(xq.scale / yq.scale)
    out = np.zeros(x.shape, dtype=np.int8)
    got = driver.call("requantize_tensor", i32([xq.zp, yq.zp, mult, shift]), x, out)[2]
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("act", [(0, 127), (-3, 60), (-128, 127), (5, 5)])
def test_clamp_bit_exact(driver: KernelDriver, act) -> None:
    x = rand_int8(np.random.default_rng(6), (2, 3, 4, 5))
    expected = oracle.clamp(x, Q(0.1, 0), act)
    got = driver.call("clamp", act[0], act[1], x, np.zeros(x.shape, dtype=np.int8))[3]
    np.testing.assert_array_equal(got, expected)


# --------------------------------------------------------------------------- quantize, dequantize


@pytest.mark.parametrize("yq", [Q(f32_scale(0.0371), -5), Q(0.125, 0), Q(f32_scale(0.0078125 * 3), 100)])
def test_quantize_bit_exact(driver: KernelDriver, yq: Q) -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(0.0, 60.0 * yq.scale, size=(4, 9, 9, 3)).astype(np.float32)
    # exact ties of the quotient (half-integers times the scale) and values just beside them
    ties = (np.arange(-40, 40) + 0.5) * np.float32(yq.scale)
    ties = ties.astype(np.float32)
    special = np.concatenate(
        [ties, np.nextafter(ties, np.float32(np.inf)), np.nextafter(ties, np.float32(-np.inf))]
    )
    special = np.concatenate([special, np.float32([0.0, -0.0, 1e30, -1e30, 3e38, -3e38])]).astype(np.float32)
    for data in (x, special):
        expected = oracle.quantize(data, yq)
        got = driver.call("quantize", yq.scale, yq.zp, data, np.zeros(data.shape, dtype=np.int8))[3]
        np.testing.assert_array_equal(got, expected)


def test_quantize_rounds_the_exact_quotient(driver: KernelDriver) -> None:
    """A float32 quotient that rounds onto a tie is resolved by the exact remainder."""
    scale = f32_scale(0.1)
    # x / scale is just below or above k + 0.5 but rounds to exactly k + 0.5 in float32
    found = []
    for k in range(1, 120):
        for x in np.float32((k + 0.5) * scale) + np.arange(-8, 9, dtype=np.float32) * np.spacing(
            np.float32(k * scale)
        ):
            x = np.float32(x)
            q32 = np.float32(x) / np.float32(scale)
            exact = float(x) / float(scale)
            if float(q32) == k + 0.5 and exact != k + 0.5:
                found.append(x)
    assert found, "no near-tie found"
    data = np.array(found, dtype=np.float32)
    expected = oracle.quantize(data, Q(scale, 0))
    got = driver.call("quantize", scale, 0, data, np.zeros(data.shape, dtype=np.int8))[3]
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("xq", [Q(f32_scale(0.0371), -5), Q(f32_scale(1e-3), 127), Q(2.5, -128)])
def test_dequantize_bit_exact(driver: KernelDriver, xq: Q) -> None:
    x = np.arange(-128, 128, dtype=np.int8).reshape(4, 64)
    expected = oracle.dequantize(x, xq)
    got = driver.call("dequantize", xq.scale, xq.zp, x, np.zeros(x.shape, dtype=np.float32))[3]
    np.testing.assert_array_equal(got, expected)
