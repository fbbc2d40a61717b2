"""TFLite's integer rules (numerics = "tflite") in the C runtime, bit exact against the interpreter.

The compiler passes TFLite's multipliers with their shifts marked (shift + TT_TFLITE_SHIFT);
tt_requantize then computes MultiplyByQuantizedMultiplier's two roundings
(numerics.requantize_tflite) and every kernel leaves its 32-bit fast paths for it. Checked here on
the host (sanitized driver): the rule itself on edge and random accumulators over every shift,
and conv2d (regular, depthwise, pointwise, SAME padding), linear (TFLite's FULLY_CONNECTED rounds
once: no mark), add, mul, global average pooling (TFLite's MEAN multiplier), requantize and
concat against one-op modules in the interpreter. tests/runtime/test_forward_paths.py runs the
conv problems with TFLite numerics on the Cortex-M7 too.
"""

from __future__ import annotations

import math

import numpy as np
import oracle
import pytest
from cdriver import KernelDriver, conv_shape, i32
from irbuild import build_and_run, clamp_attrs, qtype
from oracle import Q, f32_scale

from ttdialect import numerics as nx
from ttdialect.dialect import conv_output_size

TFLITE = "tflite"


def rand_int8(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-128, 128, size=shape).astype(np.int8)


def test_requantize_rule_matches_tflite(driver: KernelDriver) -> None:
    rng = np.random.default_rng(1)
    accs, mults, shifts = [], [], []
    for shift in range(-31, 31):
        bound = 2**31 if shift <= 0 else 2 ** (31 - shift)  # beyond: TFLite's x overflows; tt saturates
        edge = [0, 1, -1, 2**20, -(2**20), bound - 1, -bound, 3 * 2**18 + 1, -(3 * 2**18 + 1)]
        random = rng.integers(-(2**24), 2**24, size=40).tolist()
        for acc in edge + random:
            for multiplier in (2**30, 2**31 - 1, int(rng.integers(2**30, 2**31))):
                accs.append(acc)
                mults.append(multiplier)
                shifts.append(shift)
    accs.append(2**32 - 1)  # saturated: x = INT32_MAX
    mults.append(2**30 + 12345)
    shifts.append(3)
    acc = np.array(accs, dtype=np.int64)
    expected = nx.requantize_tflite(acc, np.array(mults), np.array(shifts))
    c_shifts = nx.c_shifts(np.array(shifts), TFLITE).astype(np.int32)
    got = driver.call(
        "requantize", acc.view(np.int32), i32(mults), c_shifts, np.zeros(2 * len(accs), np.int32)
    )[3]
    np.testing.assert_array_equal(got.view(np.int64), expected)
    # and they differ from tt's rule where TFLite rounds twice
    assert (nx.requantize(acc, np.array(mults), np.array(shifts)) != expected).any()


def test_requantize_tflite_is_gemmlowps_arithmetic() -> None:
    """numerics.requantize_tflite against a scalar transcription of TFLite's integer steps."""

    def reference(acc: int, multiplier: int, shift: int) -> int:
        left, right = max(shift, 0), max(-shift, 0)
        x = max(-(2**31), min(2**31 - 1, acc * 2**left))
        product = x * multiplier
        nudge = 2**30 if product >= 0 else 1 - 2**30
        high = (abs(product + nudge) // 2**31) * (1 if product + nudge >= 0 else -1)  # C division
        mask = (1 << right) - 1
        remainder, threshold = high & mask, (mask >> 1) + (1 if high < 0 else 0)
        return (high >> right) + (1 if remainder > threshold else 0)

    rng = np.random.default_rng(2)
    for _ in range(3000):
        shift = int(rng.integers(-31, 8))
        acc, multiplier = int(rng.integers(-(2**26), 2**26)), int(rng.integers(0, 2**31))
        assert int(nx.requantize_tflite(acc, multiplier, shift)) == reference(acc, multiplier, shift)


CONVS = {
    # name: (n, h, w, c, o, kernel, stride, padding, groups)
    "regular_3x3_s2_same": (1, 8, 10, 3, 6, (3, 3), (2, 2), (0, 0, 1, 1), 1),
    "regular_3x3_s1": (1, 6, 7, 8, 6, (3, 3), (1, 1), (1, 1), 1),
    "depthwise_3x3_s2_same": (1, 10, 8, 8, 8, (3, 3), (2, 2), (0, 0, 1, 1), 8),
    "depthwise_5x5_s1": (1, 7, 7, 5, 5, (5, 5), (1, 1), (2, 2), 5),
    "pointwise": (1, 5, 6, 16, 8, (1, 1), (1, 1), (0, 0), 1),
}


@pytest.mark.parametrize("name", list(CONVS))
def test_conv2d_tflite_numerics(driver: KernelDriver, name: str) -> None:
    n, h, w, c, o, kernel, stride, padding, groups = CONVS[name]
    rng = np.random.default_rng(list(CONVS).index(name) + 20)
    after = padding[2:] or padding
    oh = conv_output_size(h, kernel[0], stride[0], padding[0], after[0])
    ow = conv_output_size(w, kernel[1], stride[1], padding[1], after[1])
    x = rand_int8(rng, (n, h, w, c))
    weight = np.clip(np.rint(rng.normal(0.0, 45.0, size=(o, *kernel, c // groups))), -127, 127).astype(
        np.int8
    )
    w_scales = np.float32(rng.uniform(0.5, 2.0, size=o) / 128.0)
    xq = Q(f32_scale(0.03), int(rng.integers(-30, 31)))
    taps = kernel[0] * kernel[1] * c // groups
    yq = Q(f32_scale(xq.scale * 1.25 / 128.0 * math.sqrt(taps) * 74.0 * 45.0 / 40.0), 5)
    bias = rng.integers(-3000, 3000, size=o).astype(np.int32)
    act = (-128, 127)
    out_shape = (n, oh, ow, o)
    expected = oracle.conv2d(
        x, xq, weight, w_scales, bias, yq, stride, padding, groups, act, out_shape, TFLITE
    )
    mult, shift = oracle.channel_multipliers(xq, w_scales, yq, TFLITE)
    shape = conv_shape((n, h, w, c), out_shape, kernel, stride, padding, groups)
    got = driver.call("conv2d", shape, i32([xq.zp, yq.zp, *act]), mult, shift, x, weight, bias,
                      np.zeros(out_shape, np.int8))[7]  # fmt: skip
    np.testing.assert_array_equal(got, expected)
    assert len(np.unique(expected)) > 20


def test_linear_tflite_numerics_rounds_once(driver: KernelDriver) -> None:
    rng = np.random.default_rng(3)
    n, k, o = 2, 150, 12
    x = rand_int8(rng, (n, k))
    weight = np.clip(np.rint(rng.normal(0.0, 45.0, size=(o, k))), -127, 127).astype(np.int8)
    w_scales = np.float32(rng.uniform(0.5, 2.0, size=o) / 128.0)
    xq = Q(f32_scale(0.03), 7)
    yq = Q(f32_scale(xq.scale * 1.25 / 128.0 * math.sqrt(k) * 74.0 * 45.0 / 40.0), -3)
    bias = rng.integers(-3000, 3000, size=o).astype(np.int32)
    act = (-100, 120)
    expected = oracle.linear(x, xq, weight, w_scales, bias, yq, act, TFLITE)
    mult, shift = oracle.channel_multipliers(xq, w_scales, yq, TFLITE, single_rounding=True)
    assert shift.max() <= 30  # unmarked: tt's rule with TFLite's multipliers
    got = driver.call("linear", i32([n, k, o]), i32([xq.zp, yq.zp, *act]), mult, shift, x, weight, bias,
                      np.zeros((n, o), np.int8))[7]  # fmt: skip
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("a", "b", "y"),
    [(Q(0.05, 3), Q(0.02, -7), Q(0.06, 0)), (Q(0.013, -128), Q(0.11, 127), Q(0.1, -128))],
)
def test_add_tflite_numerics(driver: KernelDriver, a: Q, b: Q, y: Q) -> None:
    rng = np.random.default_rng(4)
    lhs, rhs = rand_int8(rng, (1, 5, 7, 9)), rand_int8(rng, (1, 5, 7, 9))
    act = (-110, 127)
    expected = oracle.add(lhs, a, rhs, b, y, act, TFLITE)
    quant = oracle.add_quant(a, b, y, *act, numerics=TFLITE)
    got = driver.call("add", quant, lhs, rhs, np.zeros(lhs.shape, dtype=np.int8))[3]
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("broadcast", [False, True])
def test_mul_tflite_numerics(driver: KernelDriver, broadcast: bool) -> None:
    rng = np.random.default_rng(5)
    shape = (1, 4, 5, 8)
    rhs_shape = (1, 1, 1, 8) if broadcast else shape
    lq, rq, yq = (f32_scale(0.05), 3), (f32_scale(1.0 / 256.0), -128), (f32_scale(0.02), -5)
    a, b = rand_int8(rng, shape), rand_int8(rng, rhs_shape)
    at, bt, yt = qtype(shape, *lq), qtype(rhs_shape, *rq), qtype(shape, *yq)
    attrs = f'{clamp_attrs(-128, 127)}, numerics = "tflite"'
    body = [f"%y = tt.mul %a, %b {{{attrs}}} : {at}, {bt} -> {yt}"]
    (want,), _ = build_and_run([], [("a", at), ("b", bt)], body, [("y", yt)], [a, b])
    (multiplier,), (shift,) = nx.multipliers_for(np.array([lq[0] * rq[0] / yq[0]]), TFLITE)
    quant = i32([lq[1], rq[1], yq[1], multiplier, nx.c_shifts(shift, TFLITE), -128, 127])
    dims = i32([1, 20, 8, int(broadcast)])
    got = driver.call("mul", dims, quant, a, b, np.zeros_like(a))[4]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    ("shape", "xq", "yq"),
    [((2, 5, 5, 8), Q(0.05, 3), Q(0.01, -2)), ((1, 7, 7, 6), Q(0.02, -128), Q(0.02, -128))],
)
def test_global_avg_pool_tflite_mean(driver: KernelDriver, shape, xq: Q, yq: Q) -> None:
    x = rand_int8(np.random.default_rng(6), shape)
    expected = oracle.global_avg_pool(x, xq, yq, TFLITE)
    n, h, w, c = shape
    mult, shift = nx.mean_multiplier(xq.scale, yq.scale, h * w, TFLITE)
    quant = i32([xq.zp, yq.zp, mult, nx.c_shifts(shift, TFLITE)])
    got = driver.call("global_avg_pool", i32(shape), quant, x, np.zeros((n, 1, 1, c), np.int8))[3]
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("xq", "yq"), [(Q(0.05, 3), Q(0.07, -2)), (Q(0.2, 0), Q(0.1, 0)), (Q(0.1, 4), Q(0.1, 4))]
)
def test_requantize_tflite_numerics(driver: KernelDriver, xq: Q, yq: Q) -> None:
    x = rand_int8(np.random.default_rng(7), (3, 4, 5, 6))
    expected = oracle.requantize(x, xq, yq, TFLITE)
    (mult,), (shift,) = nx.multipliers_for(np.array([xq.scale / yq.scale]), TFLITE)
    quant = i32([xq.zp, yq.zp, mult, nx.c_shifts(shift, TFLITE)])
    got = driver.call("requantize_tensor", quant, x, np.zeros(x.shape, dtype=np.int8))[2]
    np.testing.assert_array_equal(got, expected)
