"""Gradient scaling, SGD updates and fused gradient + update kernels of runtime_c.

- scale_grad against the interpreter: bit exact for |power| <= 1, within 2 ulp otherwise.
- sgd_update and the fused updates against the interpreter, in all three rounding modes and with
  channel subsets: the RNG counter matches exactly; an int8 / int32 result may differ by one
  step on a tiny fraction of elements, where the float32 delta of C and the float64 delta of
  the interpreter fall on different sides of a rounding boundary (asserted below).
- fused against unfused C (grad_weight -> scale_grad -> sgd_update): bit identical, counters too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import floor

import numpy as np
import oracle
import pytest
from cdriver import KernelDriver, conv_shape, i32
from irbuild import Param
from oracle import Q, Sgd, f32_scale

from ttdialect import numerics as nx
from ttdialect.dialect import conv_output_size

ROUNDING_CODES = {"stochastic": 0, "nearest": 1, "truncate": 2}
ROUNDINGS = list(ROUNDING_CODES)
MAX_FLIP_FRACTION = 0.002  # of elements one step off the interpreter (float32 vs float64 delta)


def rand_int8(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-128, 128, size=shape).astype(np.int8)


def assert_update_close(
    got: np.ndarray, expected: np.ndarray, before: np.ndarray, updated: int | None = None
) -> None:
    """At most one step apart, on at most MAX_FLIP_FRACTION of the elements; and most of the
    `updated` elements (default: all) must have moved, so that the test is not vacuous."""
    assert got.dtype == expected.dtype and got.shape == expected.shape
    diff = np.abs(got.astype(np.int64) - expected.astype(np.int64))
    assert diff.max() <= 1, f"max difference {diff.max()}"
    flips = int((diff != 0).sum())
    assert flips <= max(1, MAX_FLIP_FRACTION * diff.size), f"{flips} of {diff.size} elements one step off"
    assert (expected != before).sum() > 0.3 * (before.size if updated is None else updated)


def sgd_args(sgd: Sgd, counter: int) -> list:
    return [
        np.float32(sgd.lr),
        np.float32(sgd.grad_scale),
        ROUNDING_CODES[sgd.rounding],
        np.array([counter], np.uint32),
    ]


def lr_for(grad: np.ndarray, target: float = 2.5) -> float:
    """A float32 learning rate that makes the typical |delta| about `target` integer steps."""
    typical = float(np.median(np.abs(grad[grad != 0])))
    return f32_scale(target / typical)


# --------------------------------------------------------------------------- scale_grad


@pytest.mark.parametrize("power", [1, -1, -2, 2, 0])
@pytest.mark.parametrize(
    ("shape", "rows"),
    [((6, 3, 3, 4), None), ((6, 3, 3, 4), [0, 2, 5]), ((7, 5), [3]), ((9,), None), ((9,), [1, 8])],
)
def test_scale_grad(driver: KernelDriver, power: int, shape, rows) -> None:
    rng = np.random.default_rng(abs(power) * 100 + len(shape))
    scales = np.float32(rng.uniform(0.001, 0.05, size=shape[0]))
    gshape = (len(rows),) + shape[1:] if rows is not None else shape
    grad = rng.normal(size=gshape).astype(np.float32)
    dtype = np.int8 if len(shape) > 1 else np.int32
    expected = oracle.scale_grad(grad, np.zeros(shape, dtype), scales, power, rows)
    chans = None if rows is None else i32(rows)
    got = driver.call("scale_grad", gshape[0], scales, chans, power, grad, np.zeros_like(grad))[5]
    if abs(power) <= 1:
        np.testing.assert_array_equal(got, expected)
    else:
        ulps = np.abs(got.astype(np.float64) - expected) / np.spacing(np.abs(expected))
        assert ulps.max() <= 2.0


# --------------------------------------------------------------------------- sgd_update


@dataclass(frozen=True)
class UpdateCase:
    shape: tuple[int, ...]
    dtype: type
    axis: int | None = None
    channels: tuple[int, ...] | None = None

    def grad_shape(self) -> tuple[int, ...]:
        shape = list(self.shape)
        if self.axis is not None and self.channels is not None:
            shape[self.axis] = len(self.channels)
        return tuple(shape)

    def slice_dims(self) -> np.ndarray:
        """[outer, axis size, inner] of tt_param_slice."""
        axis = 0 if self.axis is None else self.axis
        outer = int(np.prod(self.shape[:axis], dtype=np.int64))
        inner = int(np.prod(self.shape[axis + 1 :], dtype=np.int64))
        return i32([outer, self.shape[axis], inner])


UPDATE_CASES = {
    "conv_weight": UpdateCase((8, 3, 3, 6), np.int8),
    "conv_input_channels": UpdateCase((8, 3, 3, 6), np.int8, 3, (0, 2, 5)),
    "depthwise_channels": UpdateCase((10, 3, 3, 1), np.int8, 0, (1, 4, 9)),
    "middle_axis": UpdateCase((5, 4, 3, 7), np.int8, 1, (0, 3)),
    "linear_columns": UpdateCase((12, 40), np.int8, 1, (0, 7, 8, 39)),
    "bias": UpdateCase((64,), np.int32),
    "bias_channels": UpdateCase((64,), np.int32, 0, (3, 10, 63)),
}


def _random_value(rng: np.random.Generator, case: UpdateCase) -> np.ndarray:
    if case.dtype == np.int8:
        return rng.integers(-100, 101, size=case.shape).astype(np.int8)
    return rng.integers(-100000, 100000, size=case.shape).astype(np.int32)


def c_sgd_update(
    driver: KernelDriver, case: UpdateCase, value: np.ndarray, grad: np.ndarray, sgd: Sgd, counter: int
) -> tuple[np.ndarray, int]:
    kernel = "sgd_update_s8" if case.dtype == np.int8 else "sgd_update_s32"
    chans = None if case.channels is None else i32(case.channels)
    out = driver.call(kernel, case.slice_dims(), chans, *sgd_args(sgd, counter), grad, value.copy())
    return out[7], int(out[5][0])


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("name", list(UPDATE_CASES))
def test_sgd_update(driver: KernelDriver, name: str, rounding: str) -> None:
    case = UPDATE_CASES[name]
    rng = np.random.default_rng(list(UPDATE_CASES).index(name) * 7 + ROUNDING_CODES[rounding])
    value = _random_value(rng, case)
    scales = np.float32(rng.uniform(0.001, 0.02, size=case.shape[0]))
    grad = rng.normal(0.0, 1.0, size=case.grad_shape()).astype(np.float32)
    sgd = Sgd(lr_for(grad), 0.75, rounding)
    counter = 1234567
    expected, expected_counter = oracle.sgd_update(
        Param("p", value, scales), grad, sgd, case.channels, case.axis, counter
    )
    got, got_counter = c_sgd_update(driver, case, value, grad, sgd, counter)
    assert got_counter == expected_counter
    assert_update_close(got, expected, value, grad.size)
    if case.channels is not None:  # the other channels are untouched
        untouched = np.setdiff1d(np.arange(case.shape[case.axis]), case.channels)
        np.testing.assert_array_equal(
            np.take(got, untouched, case.axis), np.take(value, untouched, case.axis)
        )


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_sgd_update_many_elements_flip_fraction(driver: KernelDriver, rounding: str) -> None:
    """A large update: the fraction of elements one step off the interpreter stays tiny."""
    case = UpdateCase((64, 3, 3, 32), np.int8)
    rng = np.random.default_rng(40 + ROUNDING_CODES[rounding])
    value = _random_value(rng, case)
    grad = rng.normal(0.0, 1.0, size=case.shape).astype(np.float32)
    sgd = Sgd(lr_for(grad, 20.0), f32_scale(0.3), rounding)
    expected, expected_counter = oracle.sgd_update(
        Param("p", value, np.ones(64, np.float32)), grad, sgd, None, None, 99
    )
    got, got_counter = c_sgd_update(driver, case, value, grad, sgd, 99)
    assert got_counter == expected_counter
    assert_update_close(got, expected, value)


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_sgd_update_exact_steps_ties_and_saturation(driver: KernelDriver, rounding: str) -> None:
    """Deltas on and beside integers and half-integers, huge deltas, NaN-free saturation."""
    deltas = np.array(
        [
            0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.0,
            -3.0,
            1e-9,
            -1e-9,
            0.49999997,
            -0.49999997,
            0.99999994,
            -0.99999994,
            1e-30,
            -1e-30,
            300.0,
            -300.0,
            1e20,
            -1e20,
            7.25,
            -7.25,
            126.5,
            -126.5,
            2.5,
        ],
        dtype=np.float32,
    )
    value = np.array(
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 120, -120, 127, -127, 0, 0, 126], dtype=np.int8
    ).reshape(1, -1)
    grad = deltas.reshape(1, -1)
    sgd = Sgd(1.0, 1.0, rounding)
    case = UpdateCase(value.shape, np.int8)
    for counter in (0, 2**32 - 5):
        expected, expected_counter = oracle.sgd_update(
            Param("p", value, np.ones(1, np.float32)), grad, sgd, None, None, counter
        )
        got, got_counter = c_sgd_update(driver, case, value, grad, sgd, counter)
        np.testing.assert_array_equal(got, expected)
        assert got_counter == expected_counter


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_sgd_update_int32_saturates(driver: KernelDriver, rounding: str) -> None:
    value = np.array([2**31 - 10, -(2**31) + 10, 5, -5, 0, 2**31 - 1], dtype=np.int32)
    grad = np.float32([-100.0, 100.0, -1e30, 1e30, 3e9, -5e9])
    sgd = Sgd(1.0, 1.0, rounding)
    case = UpdateCase(value.shape, np.int32)
    expected, _ = oracle.sgd_update(Param("b", value, np.ones(6, np.float32)), grad, sgd, None, None, 7)
    got, _ = c_sgd_update(driver, case, value, grad, sgd, 7)
    np.testing.assert_array_equal(got, expected)
    hi, lo = 2**31 - 1, -(2**31)
    np.testing.assert_array_equal(got, [hi, lo, hi, lo, lo, hi])


def test_stochastic_rounding_is_exact_floor_of_delta_plus_uniform(driver: KernelDriver) -> None:
    """C rounds exactly: step = floor(delta + hash32(counter + i) / 2^32) for the float32 delta,
    checked in exact rational arithmetic on deltas with many fraction bits."""
    rng = np.random.default_rng(11)
    deltas = np.concatenate([rng.uniform(-3, 3, 3000), rng.uniform(-1, 0, 1000) * 1e-6]).astype(np.float32)
    counter = 2**32 - 1500
    case = UpdateCase((deltas.size,), np.int32)
    got, _ = c_sgd_update(
        driver, case, np.zeros(deltas.size, np.int32), deltas, Sgd(1.0, 1.0, "stochastic"), counter
    )
    bits = driver.call("hash32", ((counter + np.arange(deltas.size)) % 2**32).astype(np.uint32))[0]
    for delta, h, step in zip(deltas.tolist(), bits.tolist(), (-got).tolist(), strict=True):
        assert floor(Fraction(delta) + Fraction(h, 2**32)) == step


def inverse_hash32(value: int) -> int:
    """The counter whose hash32 is `value` (hash32 is a bijection of the uint32 values)."""
    value ^= value >> 16
    value = value * pow(0x846CA68B, -1, 2**32) % 2**32
    value ^= (value >> 15) ^ (value >> 30)
    value = value * pow(0x7FEB352D, -1, 2**32) % 2**32
    return value ^ (value >> 16)


# Deltas on every path of the C rounding (|delta| < 1/2, below 2^30, wide) and at its limits.
BOUNDARY_DELTAS = [
    2.0**-40, 1e-9, 2.0**-32, 3 * 2.0**-33, 0.1, 0.3, 0.49999997, 0.5, 0.50000006, 0.75,
    0.99999994, 1.0, 1.5, 2.25, 1000.1, 12345.678, 2.0**30 - 64, 2.0**30, 2.0**31 - 128, 3e9,
]  # fmt: skip


def _boundary_bits(delta: Fraction) -> list[int]:
    """The random integers around the smallest one that carries delta to the next step."""
    threshold = -floor(-(floor(delta) + 1 - delta) * 2**32)  # ceil
    if threshold > 2**32 - 1:
        return [0, 2**32 - 1]
    return sorted({max(0, threshold - 1), threshold, min(2**32 - 1, threshold + 1)})


def test_rounding_is_exact_at_every_carry_boundary(driver: KernelDriver) -> None:
    """The int32 fast paths of the C step at the exact random numbers where floor(delta + u)
    changes (counters found by inverting hash32), int8 and int32, every rounding; expected
    values from exact rational arithmetic, as numerics defines them."""
    rng = np.random.default_rng(12)
    randoms = (rng.uniform(-1, 1, 300) * 2.0 ** rng.integers(-34, 32, 300)).tolist()
    deltas = [np.float32(v) for d in BOUNDARY_DELTAS for v in (d, -d)]
    deltas += [np.float32(v) for v in randoms]
    calls, expected = [], []
    for delta in deltas:
        exact = Fraction(float(delta))
        cases = [("nearest", 0), ("truncate", 0)] + [("stochastic", b) for b in _boundary_bits(exact)]
        for rounding, bits in cases:
            if rounding == "stochastic":
                step = floor(exact + Fraction(bits, 2**32))
            elif rounding == "nearest":
                step = floor(exact + Fraction(1, 2))
            else:
                step = int(exact)
            sgd = sgd_args(Sgd(1.0, 1.0, rounding), inverse_hash32(bits))
            grad = np.array([delta], np.float32)
            for kernel, dtype, low, high in (
                ("sgd_update_s8", np.int8, -127, 127),
                ("sgd_update_s32", np.int32, -(2**31), 2**31 - 1),
            ):
                calls.append((kernel, [i32([1, 1, 1]), None, *sgd, grad, np.array([3], dtype)]))
                expected.append(min(high, max(low, 3 - step)))
    got = [int(out[7][0]) for out in driver.call_many(calls)]
    wrong = [(c[0], c[1][6][0], c[1][4], e, g) for c, e, g in zip(calls, expected, got, strict=True) if e - g]
    assert not wrong, wrong[:10]


def test_hash32_matches_numerics(driver: KernelDriver) -> None:
    values = np.concatenate([np.arange(1000), np.random.default_rng(1).integers(0, 2**32, 5000)]).astype(
        np.uint32
    )
    np.testing.assert_array_equal(driver.call("hash32", values)[0], nx.hash32(values))


# --------------------------------------------------------------------------- fused updates

CONV_CASES = {
    # name: (n, h, w, c, o, kernel, stride, padding, groups)
    "regular_3x3_s1_p1": (2, 6, 6, 4, 5, (3, 3), (1, 1), (1, 1), 1),
    "regular_3x3_s2_p1": (1, 9, 8, 3, 6, (3, 3), (2, 2), (1, 1), 1),
    "depthwise_3x3_s1_p1": (2, 6, 6, 6, 6, (3, 3), (1, 1), (1, 1), 6),
    "depthwise_3x3_s2_p1": (1, 9, 10, 5, 5, (3, 3), (2, 2), (1, 1), 5),
    "pointwise_s1": (2, 5, 5, 7, 4, (1, 1), (1, 1), (0, 0), 1),
    "pointwise_s2": (1, 7, 6, 4, 8, (1, 1), (2, 2), (0, 0), 1),
    "grouped_2": (1, 6, 5, 4, 6, (3, 3), (1, 1), (1, 1), 2),
    "pointwise_blocks": (1, 4, 4, 13, 16, (1, 1), (1, 1), (0, 0), 1),
    "pointwise_8x8": (1, 8, 8, 9, 14, (1, 1), (1, 1), (0, 0), 1),
    "depthwise_5x5_s1_p2": (1, 6, 6, 10, 10, (5, 5), (1, 1), (2, 2), 10),
    # TensorFlow's SAME padding: more at the bottom and right
    "regular_3x3_s2_same": (1, 8, 10, 3, 6, (3, 3), (2, 2), (0, 0, 1, 1), 1),
    "depthwise_3x3_s2_same": (1, 10, 8, 5, 5, (3, 3), (2, 2), (0, 0, 1, 1), 5),
}

FUSED_CONV = [
    ("regular_3x3_s1_p1", None),
    ("regular_3x3_s1_p1", [0, 2]),
    ("regular_3x3_s2_p1", [1]),
    ("depthwise_3x3_s1_p1", None),
    ("depthwise_3x3_s1_p1", [1, 4, 5]),
    ("depthwise_3x3_s2_p1", [0, 3]),
    ("pointwise_s1", None),
    ("pointwise_s2", [1, 3]),
    ("grouped_2", None),
    ("pointwise_blocks", None),
    ("pointwise_blocks", [0, 1, 4, 6, 7, 12]),
    ("pointwise_8x8", None),
    ("depthwise_5x5_s1_p2", None),
    ("depthwise_5x5_s1_p2", [0, 2, 3, 4, 9]),
    ("regular_3x3_s2_same", None),
    ("regular_3x3_s2_same", [0, 2]),
    ("depthwise_3x3_s2_same", [1, 4]),
]


@dataclass
class ConvUpdate:
    """One conv weight update problem: data, quantization, weight and the chosen lr."""

    shape: np.ndarray
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, ...]
    groups: int
    x: np.ndarray
    xq: Q
    g: np.ndarray
    weight: np.ndarray
    scales: np.ndarray
    channels: list[int] | None

    def slice_dims(self) -> np.ndarray:
        o, kh, kw, cg = self.weight.shape
        if self.channels is not None and self.groups == 1:
            return i32([o * kh * kw, cg, 1])
        return i32([1, o, kh * kw * cg])

    def scale_rows(self) -> list[int] | None:
        return self.channels if self.groups != 1 else None


def conv_update_case(name: str, channels: list[int] | None, seed: int) -> ConvUpdate:
    n, h, w, c, o, kernel, stride, padding, groups = CONV_CASES[name]
    rng = np.random.default_rng(seed)
    after = padding[2:] or padding
    oh = conv_output_size(h, kernel[0], stride[0], padding[0], after[0])
    ow = conv_output_size(w, kernel[1], stride[1], padding[1], after[1])
    x = rand_int8(rng, (n, h, w, c))
    xq = Q(f32_scale(rng.uniform(0.01, 0.1)), int(rng.integers(-30, 31)))
    g = rng.normal(0.0, 1e-2, size=(n, oh, ow, o))
    g[rng.random(g.shape) < 0.3] = 0.0
    weight = rng.integers(-100, 101, size=(o, *kernel, c // groups)).astype(np.int8)
    scales = np.float32(rng.uniform(0.002, 0.02, size=o))
    shape = conv_shape(x.shape, g.shape, kernel, stride, padding, groups)
    return ConvUpdate(
        shape, kernel, stride, padding, groups, x, xq, g.astype(np.float32), weight, scales, channels
    )


def c_conv_grad(driver: KernelDriver, p: ConvUpdate, power: int) -> np.ndarray:
    """The unfused gradient in C: conv2d_grad_weight, then scale_grad unless power is 0."""
    chans = None if p.channels is None else i32(p.channels)
    rows = p.weight.shape[0] if p.channels is None or p.groups == 1 else len(p.channels)
    cols = p.weight.shape[3] if p.channels is None or p.groups != 1 else len(p.channels)
    grad = np.zeros((rows, *p.kernel, cols), np.float32)
    grad = driver.call("conv2d_grad_weight", p.shape, p.xq.scale, p.xq.zp, p.x, p.g, chans, grad)[6]
    if power != 0:
        rows_arg = None if p.scale_rows() is None else i32(p.scale_rows())
        grad = driver.call("scale_grad", rows, p.scales, rows_arg, power, grad, np.zeros_like(grad))[5]
    return grad


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("power", [0, 1, -1])
@pytest.mark.parametrize(("name", "channels"), FUSED_CONV)
def test_conv2d_weight_update(driver: KernelDriver, name: str, channels, power: int, rounding: str) -> None:
    """Fused == unfused in C bit for bit; both within one step of the interpreter's fused op."""
    p = conv_update_case(name, channels, FUSED_CONV.index((name, channels)) + 50)
    counter = 2**32 - 100  # wraps around inside the update
    grad = c_conv_grad(driver, p, power)
    sgd = Sgd(lr_for(grad), f32_scale(0.5), rounding)
    chans = None if channels is None else i32(channels)
    unfused, fused = driver.call_many(
        [
            ("sgd_update_s8", [p.slice_dims(), chans, *sgd_args(sgd, counter), grad, p.weight.copy()]),
            (
                "conv2d_weight_update",
                [
                    p.shape,
                    p.xq.scale,
                    p.xq.zp,
                    p.x,
                    p.g,
                    chans,
                    p.scales,
                    power,
                    *sgd_args(sgd, counter),
                    p.weight.copy(),
                ],
            ),
        ]
    )
    np.testing.assert_array_equal(fused[12], unfused[7])
    assert fused[11][0] == unfused[5][0]

    param = Param("w", p.weight, p.scales)
    expected, expected_counter = oracle.conv2d_weight_update(
        param, p.x, p.xq, p.g, p.kernel, p.stride, p.padding, p.groups, channels, power, sgd, counter
    )
    assert fused[11][0] == expected_counter
    assert_update_close(fused[12], expected, p.weight, int(np.count_nonzero(grad)))


LINEAR_CASES = [(1, 3, 16, 10, None), (2, 4, 37, 5, [0, 5, 36]), (3, 6, 20, 4, [3])]


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("power", [0, 1, -1])
@pytest.mark.parametrize(("seed", "n", "k", "o", "columns"), LINEAR_CASES)
def test_linear_weight_update(driver: KernelDriver, seed, n, k, o, columns, power, rounding) -> None:
    rng = np.random.default_rng(seed + 70)
    x = rand_int8(rng, (n, k))
    xq = Q(f32_scale(rng.uniform(0.01, 0.1)), int(rng.integers(-30, 31)))
    g = rng.normal(0.0, 1e-2, size=(n, o)).astype(np.float32)
    weight = rng.integers(-100, 101, size=(o, k)).astype(np.int8)
    scales = np.float32(rng.uniform(0.002, 0.02, size=o))
    cols = None if columns is None else i32(columns)
    width = k if columns is None else len(columns)
    counter = 77

    grad = driver.call(
        "linear_grad_weight", i32([n, k, o]), xq.scale, xq.zp, x, g, cols, np.zeros((o, width), np.float32)
    )[6]
    if power != 0:
        grad = driver.call("scale_grad", o, scales, None, power, grad, np.zeros_like(grad))[5]
    sgd = Sgd(lr_for(grad), 1.0, rounding)
    slice_dims = i32([o, k, 1]) if columns is not None else i32([1, o, k])
    unfused, fused = driver.call_many(
        [
            ("sgd_update_s8", [slice_dims, cols, *sgd_args(sgd, counter), grad, weight.copy()]),
            (
                "linear_weight_update",
                [
                    i32([n, k, o]),
                    xq.scale,
                    xq.zp,
                    x,
                    g,
                    cols,
                    scales,
                    power,
                    *sgd_args(sgd, counter),
                    weight.copy(),
                ],
            ),
        ]
    )
    np.testing.assert_array_equal(fused[12], unfused[7])
    assert fused[11][0] == unfused[5][0]

    expected, expected_counter = oracle.linear_weight_update(
        Param("w", weight, scales), x, xq, g, columns, power, sgd, counter
    )
    assert fused[11][0] == expected_counter
    assert_update_close(fused[12], expected, weight, grad.size)


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("power", [0, 1, -1])
@pytest.mark.parametrize("g_shape", [(2, 4, 4, 16), (5, 24)])
def test_bias_update(driver: KernelDriver, g_shape: Sequence[int], power: int, rounding: str) -> None:
    rng = np.random.default_rng(len(g_shape) * 10 + power + 3)
    c = g_shape[-1]
    g = rng.normal(0.0, 1e-2, size=g_shape).astype(np.float32)
    bias = rng.integers(-5000, 5000, size=c).astype(np.int32)
    scales = np.float32(rng.uniform(1e-5, 1e-4, size=c))
    counter = 5

    grad = driver.call("bias_grad", c, g, np.zeros(c, np.float32))[2]
    if power != 0:
        grad = driver.call("scale_grad", c, scales, None, power, grad, np.zeros_like(grad))[5]
    sgd = Sgd(lr_for(grad), 1.0, rounding)
    unfused, fused = driver.call_many(
        [
            ("sgd_update_s32", [i32([1, c, 1]), None, *sgd_args(sgd, counter), grad, bias.copy()]),
            ("bias_update", [c, g, scales, power, *sgd_args(sgd, counter), bias.copy()]),
        ]
    )
    np.testing.assert_array_equal(fused[8], unfused[7])
    assert fused[7][0] == unfused[5][0]

    expected, expected_counter = oracle.bias_update(Param("b", bias, scales), g, power, sgd, counter)
    assert fused[7][0] == expected_counter
    assert_update_close(fused[8], expected, bias)
