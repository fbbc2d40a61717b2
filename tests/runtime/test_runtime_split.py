"""Split-weight kernels of runtime_c (tt_split.c): a const frozen weight plus an SRAM slice.

Each problem draws a random conv (regular, strided, padded, grouped, depthwise, pointwise) or
linear layer and its true int8 weight, then splits that weight on an axis with a channel subset
(one channel, all but one, all, a random subset, none): the slice holds the true values of the
chosen channels and the frozen array holds *garbage* there (stale values must never leak). The
assembled weight is therefore the true weight, and every split kernel must give
- forward: the interpreter's output and the unsplit kernel's, bit for bit;
- input gradient: the unsplit kernel's bits (the same float32 order), and the interpreter's
  values within the backward tests' tolerance;
- fused update: in the slice, the updated channels of the full weight after the unsplit fused
  update (bit for bit, same RNG counter), the unfused sequence grad_weight -> scale_grad ->
  tt_sgd_update_s8 on the slice as a dense parameter (bit for bit), and the interpreter within
  one step (as in test_runtime_update.py).
Every call also checks that the frozen array comes back unchanged (never written) and, for the
read-only kernels, the slice too. The driver runs under ASan + UBSan with the slice and scratch
allocated at exactly their documented sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import oracle
import pytest
from cdriver import KernelDriver, conv_shape, i32
from irbuild import Param, assert_grad_close, assert_spread
from oracle import Q, Sgd, f32_scale
from test_runtime_update import ROUNDING_CODES, ROUNDINGS, assert_update_close, lr_for, sgd_args

from ttdialect.dialect import conv_output_size

GRAD_RTOL = 2e-6  # as test_runtime_backward.py
SUBSETS = ["one", "all_but_one", "all", "random", "none"]
UPDATE_SUBSETS = ["one", "all_but_one", "all", "random"]  # the IR never updates an empty subset
CONV_KINDS = ["regular", "strided", "padded", "grouped", "depthwise", "pointwise"]
SEEDS = [0, 1, 2]


# --------------------------------------------------------------------------- splitting


def choose_channels(rng: np.random.Generator, size: int, subset: str) -> np.ndarray:
    """A sorted, unique channel subset of range(size)."""
    if subset == "one":
        chosen = [int(rng.integers(size))]
    elif subset == "all_but_one":
        chosen = np.delete(np.arange(size), rng.integers(size)).tolist()
    elif subset == "all":
        chosen = list(range(size))
    elif subset == "random":
        chosen = rng.choice(size, size=int(rng.integers(1, size + 1)), replace=False).tolist()
    else:
        chosen = []
    return i32(sorted(chosen))


@dataclass
class Split:
    """A weight split on `axis`: frozen (garbage at the chosen channels) and the slice."""

    frozen: np.ndarray
    slice: np.ndarray
    channels: np.ndarray
    axis: int

    def args(self) -> list:
        return [self.frozen, self.slice, self.channels, self.axis]

    def assembled(self) -> np.ndarray:
        full = self.frozen.copy()
        index = [slice(None)] * full.ndim
        index[self.axis] = self.channels
        full[tuple(index)] = self.slice
        return full


def split_weight(rng: np.random.Generator, weight: np.ndarray, axis: int, subset: str) -> Split:
    channels = choose_channels(rng, weight.shape[axis], subset)
    frozen = weight.copy()
    index = [slice(None)] * weight.ndim
    index[axis] = channels
    stale = rng.integers(-128, 128, size=np.take(weight, channels, axis).shape).astype(np.int8)
    stale = np.where(stale == weight[tuple(index)], np.int8(-128), stale)  # every entry stale
    frozen[tuple(index)] = stale
    split = Split(frozen, np.ascontiguousarray(np.take(weight, channels, axis)), channels, axis)
    np.testing.assert_array_equal(split.assembled(), weight)
    return split


def check_untouched(before: Split, frozen_after: np.ndarray, slice_after: np.ndarray | None) -> None:
    """The frozen array is never written; read-only kernels leave the slice alone too."""
    np.testing.assert_array_equal(frozen_after, before.frozen)
    if slice_after is not None:
        np.testing.assert_array_equal(slice_after, before.slice)


# --------------------------------------------------------------------------- problems


@dataclass
class Conv:
    """A random conv layer: geometry, data and its true weight."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    groups: int
    x: np.ndarray
    weight: np.ndarray
    scales: np.ndarray
    out_shape: tuple[int, int, int, int]

    def shape(self) -> np.ndarray:
        return conv_shape(self.x.shape, self.out_shape, self.kernel, self.stride, self.padding, self.groups)

    def update_axis(self) -> int:
        """tt.conv2d_weight_update's axis: 3 for groups == 1, 0 for a depthwise conv."""
        return 3 if self.groups == 1 else 0


def conv_geometry(rng: np.random.Generator, kind: str) -> tuple:
    """(n, h, w, c, o, kernel, stride, padding, groups) of a random conv of `kind`."""
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(4, 9)), int(rng.integers(4, 9))
    c, o = int(rng.integers(2, 10)), int(rng.integers(2, 9))
    if kind == "regular":
        k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        return n, h, w, c, o, k, (1, 1), (k[0] // 2, k[1] // 2), 1
    if kind == "strided":
        return n, h, w, c, o, (3, 3), (2, int(rng.integers(1, 3))), (1, 1), 1
    if kind == "padded":
        k = int(rng.choice([3, 5]))
        return n, h, w, c, o, (k, k), (1, 1), (k - 1, k // 2), 1
    if kind == "grouped":
        groups = int(rng.integers(2, 4))
        c, o = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 3))
        return n, h, w, c, o, (3, 3), (1, 1), (1, 1), groups
    if kind == "depthwise":
        s = int(rng.integers(1, 3))
        return n, h, w, c, c, (3, 3), (s, s), (1, 1), c
    s = int(rng.integers(1, 3))  # pointwise
    return n, h, w, c, o, (1, 1), (s, s), (0, 0), 1


def make_conv(kind: str, seed: int) -> Conv:
    rng = np.random.default_rng(1000 * CONV_KINDS.index(kind) + seed)
    n, h, w, c, o, kernel, stride, padding, groups = conv_geometry(rng, kind)
    oh = conv_output_size(h, kernel[0], stride[0], padding[0])
    ow = conv_output_size(w, kernel[1], stride[1], padding[1])
    x = rng.integers(-128, 128, size=(n, h, w, c)).astype(np.int8)
    weight = rand_weight(rng, (o, *kernel, c // groups))
    scales = np.float32(rng.uniform(0.5, 2.0, size=o) / 128.0)
    return Conv(kernel, stride, padding, groups, x, weight, scales, (n, oh, ow, o))


def output_quant(rng: np.random.Generator, xq: Q, scales: np.ndarray, taps: int) -> Q:
    """An output quantization that spreads a typical accumulator over the int8 range."""
    acc_std = np.sqrt(taps) * 74.0 * 45.0
    return Q(f32_scale(xq.scale * float(np.mean(scales)) * acc_std / 40.0), int(rng.integers(-20, 21)))


def rand_weight(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return np.clip(np.rint(rng.normal(0.0, 45.0, size=shape)), -127, 127).astype(np.int8)


def rand_grad(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    g = rng.normal(0.0, 1e-2, size=shape)
    g[rng.random(shape) < 0.3] = 0.0
    return g.astype(np.float32)


def assert_input_grads_bit_identical(
    splits: list[Split], results: list[list[np.ndarray]], index: int, unsplit: np.ndarray
) -> None:
    """Each split call's input gradient (argument `index`) has the bits of the unsplit kernel's,
    and the call left the frozen weight (argument 2) and its slice (argument 3) alone."""
    for split, got in zip(splits, results, strict=True):
        np.testing.assert_array_equal(got[index].view(np.uint32), unsplit.view(np.uint32))
        check_untouched(split, got[2], got[3])


def splits_of(rng: np.random.Generator, weight: np.ndarray, axes: list[int]) -> list[Split]:
    """The weight split on each axis with each channel subset."""
    return [split_weight(rng, weight, axis, subset) for axis in axes for subset in SUBSETS]


# --------------------------------------------------------------------------- forward


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", CONV_KINDS)
def test_conv2d_split_forward(driver: KernelDriver, kind: str, seed: int) -> None:
    p = make_conv(kind, seed)
    rng = np.random.default_rng(seed + 17)
    xq = Q(f32_scale(rng.uniform(0.01, 0.05)), int(rng.integers(-40, 41)))
    yq = output_quant(rng, xq, p.scales, int(np.prod(p.weight.shape[1:])))
    bias = rng.integers(-3000, 3000, size=p.weight.shape[0]).astype(np.int32) if seed != 1 else None
    act = (yq.zp, 127) if seed == 0 else (-128, 127)  # ReLU once
    expected = oracle.conv2d(
        p.x, xq, p.weight, p.scales, bias, yq, p.stride, p.padding, p.groups, act, p.out_shape
    )
    assert_spread(expected, *act)
    mult, shift = oracle.channel_multipliers(xq, p.scales, yq)
    quant = [i32([xq.zp, yq.zp, *act]), mult, shift]
    out = np.zeros(p.out_shape, np.int8)
    splits = splits_of(rng, p.weight, [0, 3])
    calls = [("conv2d", [p.shape(), *quant, p.x, p.weight, bias, out])]
    calls += [("conv2d_split", [p.shape(), *quant, p.x, *s.args(), bias, out]) for s in splits]
    calls += [("conv2d", [p.shape(), *quant, p.x, s.frozen, bias, out]) for s in splits]
    results = driver.call_many(calls)
    np.testing.assert_array_equal(results[0][7], expected)
    stale_differs = 0
    split_results, stale_results = results[1 : 1 + len(splits)], results[1 + len(splits) :]
    for split, got, stale in zip(splits, split_results, stale_results, strict=True):
        np.testing.assert_array_equal(got[10], expected)
        check_untouched(split, got[5], got[6])
        stale_differs += int(not np.array_equal(stale[7], expected))
    assert stale_differs > len(splits) // 2  # the garbage would have changed the output


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_split_forward(driver: KernelDriver, seed: int) -> None:
    rng = np.random.default_rng(seed + 300)
    n, k, o = int(rng.integers(1, 4)), int(rng.integers(2, 40)), int(rng.integers(2, 12))
    x = rng.integers(-128, 128, size=(n, k)).astype(np.int8)
    weight = rand_weight(rng, (o, k))
    scales = np.float32(rng.uniform(0.5, 2.0, size=o) / 128.0)
    xq = Q(f32_scale(rng.uniform(0.01, 0.05)), int(rng.integers(-40, 41)))
    yq = output_quant(rng, xq, scales, k)
    bias = rng.integers(-3000, 3000, size=o).astype(np.int32)
    act = (-128, 127)
    expected = oracle.linear(x, xq, weight, scales, bias, yq, act)
    mult, shift = oracle.channel_multipliers(xq, scales, yq)
    quant = [i32([xq.zp, yq.zp, *act]), mult, shift]
    out = np.zeros((n, o), np.int8)
    dims = i32([n, k, o])
    splits = splits_of(rng, weight, [0, 1])
    calls = [("linear", [dims, *quant, x, weight, bias, out])]
    calls += [("linear_split", [dims, *quant, x, *s.args(), bias, out]) for s in splits]
    results = driver.call_many(calls)
    np.testing.assert_array_equal(results[0][7], expected)
    for split, got in zip(splits, results[1:], strict=True):
        np.testing.assert_array_equal(got[10], expected)
        check_untouched(split, got[5], got[6])


# --------------------------------------------------------------------------- input gradients


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", CONV_KINDS)
def test_conv2d_grad_input_split(driver: KernelDriver, kind: str, seed: int) -> None:
    p = make_conv(kind, seed)
    rng = np.random.default_rng(seed + 23)
    g = rand_grad(rng, p.out_shape)
    expected = oracle.conv2d_grad_input(g, p.weight, p.scales, p.x.shape, p.stride, p.padding, p.groups)
    out = np.zeros(p.x.shape, np.float32)
    splits = splits_of(rng, p.weight, [0, 3])
    calls = [("conv2d_grad_input", [p.shape(), g, p.weight, p.scales, out])]
    calls += [("conv2d_grad_input_split", [p.shape(), g, *s.args(), p.scales, out]) for s in splits]
    results = driver.call_many(calls)
    unsplit = results[0][4]
    assert_grad_close(unsplit, expected, rtol=GRAD_RTOL)
    assert_input_grads_bit_identical(splits, results[1:], 7, unsplit)


STRIDE_1_DEPTHWISE_SEEDS = [
    seed for seed in range(20) if make_conv("depthwise", seed).stride == (1, 1)
][: len(SEEDS)]


@pytest.mark.parametrize("seed", STRIDE_1_DEPTHWISE_SEEDS)
def test_depthwise_grad_input_in_place_split(driver: KernelDriver, seed: int) -> None:
    """Over its own input on a split weight: bit identical to tt_conv2d_grad_input unsplit."""
    p = make_conv("depthwise", seed)
    rng = np.random.default_rng(seed + 29)
    g = rand_grad(rng, p.out_shape)
    splits = splits_of(rng, p.weight, [0, 3])
    calls = [("conv2d_grad_input", [p.shape(), g, p.weight, p.scales, np.zeros(p.x.shape, np.float32)])]
    plane = np.zeros(p.out_shape[:3], np.float32)
    calls += [
        ("depthwise_grad_input_in_place_split", [p.shape(), g.copy(), *s.args(), p.scales, plane])
        for s in splits
    ]
    results = driver.call_many(calls)
    unsplit = results[0][4]
    assert_input_grads_bit_identical(splits, results[1:], 1, unsplit)


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_grad_input_split(driver: KernelDriver, seed: int) -> None:
    rng = np.random.default_rng(seed + 400)
    n, k, o = int(rng.integers(1, 4)), int(rng.integers(2, 40)), int(rng.integers(2, 12))
    weight = rand_weight(rng, (o, k))
    scales = np.float32(rng.uniform(0.5, 2.0, size=o) / 128.0)
    g = rand_grad(rng, (n, o))
    expected = oracle.linear_grad_input(g, weight, scales)
    dims, out = i32([n, k, o]), np.zeros((n, k), np.float32)
    splits = splits_of(rng, weight, [0, 1])
    calls = [("linear_grad_input", [dims, g, weight, scales, out])]
    calls += [("linear_grad_input_split", [dims, g, *s.args(), scales, out]) for s in splits]
    results = driver.call_many(calls)
    unsplit = results[0][4]
    assert_grad_close(unsplit, expected, rtol=GRAD_RTOL)
    assert_input_grads_bit_identical(splits, results[1:], 7, unsplit)


# --------------------------------------------------------------------------- fused updates

UPDATE_KINDS = ["regular", "strided", "padded", "depthwise", "pointwise"]  # grouped: no subset in the IR


def dense_dims(size: int) -> np.ndarray:
    """tt_param_slice {1, 1, size}: the slice array updated as a dense parameter."""
    return i32([1, 1, size])


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("subset", UPDATE_SUBSETS)
@pytest.mark.parametrize("kind", UPDATE_KINDS)
def test_conv2d_weight_update_split(driver: KernelDriver, kind: str, subset: str, rounding: str) -> None:
    seed = UPDATE_KINDS.index(kind) * 10 + UPDATE_SUBSETS.index(subset)
    p = make_conv(kind, seed)
    rng = np.random.default_rng(seed + 500 + ROUNDING_CODES[rounding])
    xq = Q(f32_scale(rng.uniform(0.01, 0.1)), int(rng.integers(-30, 31)))
    g = rand_grad(rng, p.out_shape)
    power = int(rng.choice([0, 1, -1]))
    axis = p.update_axis()
    split = split_weight(rng, p.weight, axis, subset)
    chans = split.channels
    counter = 2**32 - 50  # wraps around inside the update

    # the unfused gradient of the slice in C, to choose a learning rate and to compare with
    grad = np.zeros(split.slice.shape, np.float32)
    grad = driver.call("conv2d_grad_weight", p.shape(), xq.scale, xq.zp, p.x, g, chans, grad)[6]
    if power != 0:
        rows = grad.shape[0]
        scale_rows = chans if axis == 0 else None
        grad = driver.call("scale_grad", rows, p.scales, scale_rows, power, grad, np.zeros_like(grad))[5]
    sgd = Sgd(lr_for(grad), f32_scale(0.5), rounding)
    common, state = [p.shape(), xq.scale, xq.zp, p.x, g], sgd_args(sgd, counter)
    full, fused, unfused = driver.call_many(
        [
            (
                "conv2d_weight_update",
                [*common, chans, p.scales, power, *state, p.weight.copy()],
            ),
            (
                "conv2d_weight_update_split",
                [*common, p.scales, power, *state, *split.args()],
            ),
            (
                "sgd_update_s8",
                [dense_dims(grad.size), None, *state, grad, split.slice.copy()],
            ),
        ]
    )
    check_untouched(split, fused[11], None)
    np.testing.assert_array_equal(fused[12], np.take(full[12], chans, axis))
    np.testing.assert_array_equal(fused[12], unfused[7])
    assert fused[10][0] == full[11][0] == unfused[5][0]

    expected, expected_counter = oracle.conv2d_weight_update(
        Param("w", p.weight, p.scales),
        p.x,
        xq,
        g,
        p.kernel,
        p.stride,
        p.padding,
        p.groups,
        chans.tolist(),
        power,
        sgd,
        counter,
    )
    assert fused[10][0] == expected_counter
    assert_update_close(fused[12], np.take(expected, chans, axis), split.slice, int(np.count_nonzero(grad)))


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("subset", UPDATE_SUBSETS)
def test_linear_weight_update_split(driver: KernelDriver, subset: str, rounding: str) -> None:
    rng = np.random.default_rng(600 + UPDATE_SUBSETS.index(subset) * 3 + ROUNDING_CODES[rounding])
    n, k, o = int(rng.integers(1, 4)), int(rng.integers(2, 40)), int(rng.integers(2, 12))
    x = rng.integers(-128, 128, size=(n, k)).astype(np.int8)
    xq = Q(f32_scale(rng.uniform(0.01, 0.1)), int(rng.integers(-30, 31)))
    g = rng.normal(0.0, 1e-2, size=(n, o)).astype(np.float32)
    weight = rng.integers(-100, 101, size=(o, k)).astype(np.int8)
    scales = np.float32(rng.uniform(0.002, 0.02, size=o))
    power = int(rng.choice([0, 1, -1]))
    split = split_weight(rng, weight, 1, subset)
    chans, dims, counter = split.channels, i32([n, k, o]), 12345

    grad = np.zeros(split.slice.shape, np.float32)
    grad = driver.call("linear_grad_weight", dims, xq.scale, xq.zp, x, g, chans, grad)[6]
    if power != 0:
        grad = driver.call("scale_grad", o, scales, None, power, grad, np.zeros_like(grad))[5]
    sgd = Sgd(lr_for(grad), 1.0, rounding)
    common, state = [dims, xq.scale, xq.zp, x, g], sgd_args(sgd, counter)
    full, fused, unfused = driver.call_many(
        [
            ("linear_weight_update", [*common, chans, scales, power, *state, weight.copy()]),
            ("linear_weight_update_split", [*common, scales, power, *state, *split.args()]),
            (
                "sgd_update_s8",
                [dense_dims(grad.size), None, *state, grad, split.slice.copy()],
            ),
        ]
    )
    check_untouched(split, fused[11], None)
    np.testing.assert_array_equal(fused[12], full[12][:, chans])
    np.testing.assert_array_equal(fused[12], unfused[7])
    assert fused[10][0] == full[11][0] == unfused[5][0]

    expected, expected_counter = oracle.linear_weight_update(
        Param("w", weight, scales), x, xq, g, chans.tolist(), power, sgd, counter
    )
    assert fused[10][0] == expected_counter
    assert_update_close(fused[12], expected[:, chans], split.slice, grad.size)


@pytest.mark.parametrize("kernel", ["conv2d_weight_update_split", "linear_weight_update_split"])
def test_update_of_empty_split_is_a_no_op(driver: KernelDriver, kernel: str) -> None:
    """count 0 (the whole weight frozen): nothing is written, the counter does not move."""
    rng = np.random.default_rng(7)
    if kernel.startswith("conv"):
        p = make_conv("regular", 0)
        common = [p.shape(), 0.05, 0, p.x, rand_grad(rng, p.out_shape), p.scales]
        weight, axis = p.weight, 3
    else:
        weight = rng.integers(-100, 101, size=(4, 9)).astype(np.int8)
        x = rng.integers(-128, 128, size=(2, 9)).astype(np.int8)
        common = [i32([2, 9, 4]), 0.05, 0, x, rand_grad(rng, (2, 4)), np.ones(4, np.float32)]
        axis = 1
    split = split_weight(rng, weight, axis, "none")
    out = driver.call(kernel, *common, 1, *sgd_args(Sgd(1.0, 1.0, "stochastic"), 99), *split.args())
    check_untouched(split, out[11], out[12])
    assert out[10][0] == 99
