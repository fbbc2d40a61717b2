"""Forward int8 ops of the reference interpreter against a float64 PyTorch simulation.

The oracle dequantizes the int8 inputs, computes the op in float64 with torch, divides by the
output scale, rounds (half up), adds the zero point and clamps. The interpreter requantizes
with a fixed-point multiplier / shift, so results may differ by one LSB, but only rarely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from irbuild import (
    Param,
    assert_int8_close,
    assert_spread,
    build_and_run,
    clamp_attrs,
    conv_attrs,
    ftype,
    qtype,
)

# --------------------------------------------------------------------------- float oracle


def deq(q: np.ndarray, scale: float, zp: int) -> torch.Tensor:
    return (torch.from_numpy(np.asarray(q).astype(np.float64)) - zp) * scale


def requant_oracle(real: torch.Tensor, scale: float, zp: int, act_min: int, act_max: int) -> np.ndarray:
    q = torch.floor(real / scale + 0.5) + zp
    return torch.clamp(q, max(act_min, -128), min(act_max, 127)).numpy().astype(np.int8)


def to_nchw(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 3, 1, 2)


def to_nhwc(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 2, 3, 1)


def conv_real(
    x_real: torch.Tensor,
    w: np.ndarray,
    w_scales: np.ndarray,
    bias: np.ndarray | None,
    x_scale: float,
    stride: tuple[int, int],
    padding: tuple[int, int],
    groups: int,
) -> torch.Tensor:
    """Real-valued conv output (NHWC) of a dequantized input, weight and bias."""
    w_real = torch.from_numpy(w.astype(np.float64) * w_scales.reshape(-1, 1, 1, 1)).permute(0, 3, 1, 2)
    b_real = None
    if bias is not None:
        b_real = torch.from_numpy(bias.astype(np.float64) * x_scale * w_scales)
    y = F.conv2d(to_nchw(x_real), w_real, b_real, stride=stride, padding=padding, groups=groups)
    return to_nhwc(y)


def rand_int8(rng: np.random.Generator, shape: tuple[int, ...], lo: int = -128, hi: int = 127) -> np.ndarray:
    return rng.integers(lo, hi + 1, size=shape).astype(np.int8)


def rand_weight(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return np.clip(np.rint(rng.normal(0.0, 45.0, size=shape)), -127, 127).astype(np.int8)


# --------------------------------------------------------------------------- conv2d


@dataclass
class ConvCase:
    n: int
    h: int
    w: int
    c: int
    o: int
    k: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    groups: int
    bias: bool
    clamp: str  # "none" | "relu6" | "relu" | "range"
    external: bool = False


CONV_CASES = {
    "regular3x3_s1_p1_bias": ConvCase(2, 7, 6, 5, 6, (3, 3), (1, 1), (1, 1), 1, True, "none"),
    "regular3x3_s2_p1_bias_relu6": ConvCase(1, 9, 8, 3, 8, (3, 3), (2, 2), (1, 1), 1, True, "relu6"),
    "regular3x3_s2_p0_nobias": ConvCase(2, 8, 9, 4, 5, (3, 3), (2, 2), (0, 0), 1, False, "none"),
    "regular5x5_s2_p2_relu": ConvCase(1, 11, 7, 3, 4, (5, 5), (2, 2), (2, 2), 1, True, "relu"),
    "regular3x1_mixed_stride_pad": ConvCase(1, 8, 7, 4, 3, (3, 1), (1, 2), (1, 0), 1, True, "range"),
    "depthwise3x3_s1_p1_bias": ConvCase(2, 6, 7, 8, 8, (3, 3), (1, 1), (1, 1), 8, True, "none"),
    "depthwise3x3_s2_p1_relu6": ConvCase(1, 9, 9, 6, 6, (3, 3), (2, 2), (1, 1), 6, True, "relu6"),
    "depthwise3x3_s2_p1_nobias": ConvCase(1, 8, 8, 5, 5, (3, 3), (2, 2), (1, 1), 5, False, "range"),
    "depthwise_multiplier2": ConvCase(1, 6, 6, 3, 6, (3, 3), (1, 1), (1, 1), 3, True, "none"),
    "pointwise_s1": ConvCase(2, 5, 6, 7, 9, (1, 1), (1, 1), (0, 0), 1, True, "relu6"),
    "pointwise_s2_nobias": ConvCase(1, 7, 8, 6, 4, (1, 1), (2, 2), (0, 0), 1, False, "none"),
    "grouped2": ConvCase(1, 6, 6, 4, 6, (3, 3), (1, 1), (1, 1), 2, True, "none"),
    "regular_external_weights": ConvCase(1, 8, 8, 6, 8, (3, 3), (2, 2), (1, 1), 1, True, "relu6", True),
}


@pytest.mark.parametrize("name", list(CONV_CASES))
def test_conv2d_matches_float_simulation(name: str, tmp_path) -> None:
    case = CONV_CASES[name]
    rng = np.random.default_rng(list(CONV_CASES).index(name) + 11)
    x_zp = -128 if case.clamp == "relu6" else int(rng.integers(-30, 31))
    x = rand_int8(rng, (case.n, case.h, case.w, case.c))
    w = rand_weight(rng, (case.o, *case.k, case.c // case.groups))
    w_scales = np.float32(rng.uniform(0.5, 2.0, size=case.o) / 64.0).astype(np.float64)
    bias = rng.integers(-3000, 3001, size=case.o).astype(np.int32) if case.bias else None

    # Pick the input scale so that the real output has a known spread (the oracle is linear in it).
    unit = conv_real(deq(x, 1.0, x_zp), w, w_scales, bias, 1.0, case.stride, case.padding, case.groups)
    if case.clamp == "relu6":
        # about 10% of the outputs above 6.0 (clamped to 127), the negative ones clamped to -128
        x_scale = 6.0 / float(torch.quantile(unit.flatten(), 0.9))
        assert x_scale > 0
        y_scale, y_zp, act_min, act_max = 6.0 / 255.0, -128, -128, 127
    else:
        x_scale = float(rng.uniform(0.01, 0.05))
        y_scale = float(unit.std()) * x_scale / 40.0
        y_zp = int(rng.integers(-20, 21))
        act_min, act_max = -128, 127
        if case.clamp == "relu":
            act_min = y_zp
        elif case.clamp == "range":
            act_min, act_max = y_zp - 50, y_zp + 60

    real = conv_real(
        deq(x, x_scale, x_zp), w, w_scales, bias, x_scale, case.stride, case.padding, case.groups
    )
    expected = requant_oracle(real, y_scale, y_zp, act_min, act_max)
    assert_spread(expected, act_min, act_max)

    params = [Param("conv.weight", w, w_scales, external=case.external)]
    refs = '@"conv.weight"'
    if bias is not None:
        params.append(Param("conv.bias", bias, x_scale * w_scales, external=case.external))
        refs += ', @"conv.bias"'
    xt = qtype(x.shape, x_scale, x_zp)
    yt = qtype(expected.shape, y_scale, y_zp)
    attrs = conv_attrs(case.stride, case.padding, case.groups) + ", " + clamp_attrs(act_min, act_max)
    body = [f"%y = tt.conv2d %x, {refs} {{{attrs}}} : {xt} -> {yt}"]
    (got,), _ = build_and_run(params, [("x", xt)], body, [("y", yt)], [x], tmp_path)
    assert_int8_close(got, expected)
    if case.clamp == "relu6":
        assert (expected == -128).any() and (expected == 127).any(), "ReLU6 clamps not exercised"
    if case.clamp in ("relu", "range"):
        assert (got >= act_min).all() and (got <= act_max).all()
        assert (expected == act_min).any(), "lower clamp not exercised"


def test_conv2d_bias_is_in_accumulator_units() -> None:
    """A 1x1 conv of an all-zero-point input yields requantize(bias) exactly (no rounding doubt)."""
    o = 4
    x = np.full((1, 2, 2, 3), 5, dtype=np.int8)
    w = np.ones((o, 1, 1, 3), dtype=np.int8)
    w_scales = np.array([0.5, 0.25, 1.0, 2.0])
    bias = np.array([8, -8, 40, -3], dtype=np.int32)
    x_scale, y_scale = 0.25, 0.5
    # acc = bias; real = bias * x_scale * w_scale; q = real / y_scale
    expected_q = np.floor(bias * x_scale * w_scales / y_scale + 0.5).astype(np.int64) + 3
    params = [Param("w", w, w_scales), Param("b", bias, x_scale * w_scales)]
    xt, yt = qtype(x.shape, x_scale, 5), qtype((1, 2, 2, o), y_scale, 3)
    attrs = conv_attrs((1, 1), (0, 0), 1) + ", " + clamp_attrs(-128, 127)
    body = [f'%y = tt.conv2d %x, @"w", @"b" {{{attrs}}} : {xt} -> {yt}']
    (got,), _ = build_and_run(params, [("x", xt)], body, [("y", yt)], [x])
    np.testing.assert_array_equal(got, np.broadcast_to(expected_q, (1, 2, 2, o)))


# --------------------------------------------------------------------------- linear


@pytest.mark.parametrize(
    ("seed", "n", "c", "o", "bias", "clamp"),
    [
        (1, 4, 16, 10, True, "none"),
        (2, 3, 33, 7, False, "none"),
        (3, 8, 24, 12, True, "relu6"),
        (4, 5, 20, 6, True, "range"),
    ],
)
def test_linear_matches_float_simulation(seed, n, c, o, bias, clamp) -> None:
    rng = np.random.default_rng(seed)
    x_zp = int(rng.integers(-40, 41))
    x = rand_int8(rng, (n, c))
    w = rand_weight(rng, (o, c))
    w_scales = np.float32(rng.uniform(0.5, 2.0, size=o) / 128.0).astype(np.float64)
    b = rng.integers(-5000, 5001, size=o).astype(np.int32) if bias else None

    def real_out(x_scale: float) -> torch.Tensor:
        w_real = torch.from_numpy(w.astype(np.float64) * w_scales[:, None])
        b_real = None if b is None else torch.from_numpy(b * x_scale * w_scales)
        return F.linear(deq(x, x_scale, x_zp), w_real, b_real)

    unit_std = float(real_out(1.0).std())
    act_min, act_max = -128, 127
    if clamp == "relu6":
        x_scale, y_scale, y_zp = 2.5 / unit_std, 6.0 / 255.0, -128
    else:
        x_scale = float(rng.uniform(0.01, 0.1))
        y_scale, y_zp = unit_std * x_scale / 40.0, int(rng.integers(-20, 21))
        if clamp == "range":
            act_min, act_max = y_zp - 40, y_zp + 45
    expected = requant_oracle(real_out(x_scale), y_scale, y_zp, act_min, act_max)
    assert_spread(expected, act_min, act_max)

    params = [Param("fc.weight", w, w_scales)]
    refs = '@"fc.weight"'
    if b is not None:
        params.append(Param("fc.bias", b, x_scale * w_scales))
        refs += ', @"fc.bias"'
    xt, yt = qtype(x.shape, x_scale, x_zp), qtype((n, o), y_scale, y_zp)
    body = [f"%y = tt.linear %x, {refs} {{{clamp_attrs(act_min, act_max)}}} : {xt} -> {yt}"]
    (got,), _ = build_and_run(params, [("x", xt)], body, [("y", yt)], [x])
    assert_int8_close(got, expected)


# --------------------------------------------------------------------------- add


@pytest.mark.parametrize(
    ("seed", "shape", "scale_a", "scale_b", "act"),
    [
        (1, (2, 5, 6, 8), 0.05, 0.05, "none"),
        (2, (1, 7, 7, 4), 0.02, 0.11, "none"),
        (3, (3, 17), 0.3, 0.07, "relu"),
        (4, (1, 4, 4, 16), 0.013, 0.009, "range"),
    ],
)
def test_add_matches_float_simulation(seed, shape, scale_a, scale_b, act) -> None:
    rng = np.random.default_rng(seed)
    a, b = rand_int8(rng, shape), rand_int8(rng, shape)
    za, zb = int(rng.integers(-50, 51)), int(rng.integers(-50, 51))
    real = deq(a, scale_a, za) + deq(b, scale_b, zb)
    y_scale = float(real.abs().max()) / 120.0
    y_zp = int(rng.integers(-10, 11))
    act_min, act_max = -128, 127
    if act == "relu":
        act_min = y_zp
    elif act == "range":
        act_min, act_max = y_zp - 60, y_zp + 50
    expected = requant_oracle(real, y_scale, y_zp, act_min, act_max)
    assert_spread(expected, act_min, act_max)

    at, bt, yt = qtype(shape, scale_a, za), qtype(shape, scale_b, zb), qtype(shape, y_scale, y_zp)
    body = [f"%y = tt.add %a, %b {{{clamp_attrs(act_min, act_max)}}} : {at}, {bt} -> {yt}"]
    (got,), _ = build_and_run([], [("a", at), ("b", bt)], body, [("y", yt)], [a, b])
    assert_int8_close(got, expected)


def test_add_saturates() -> None:
    shape = (1, 2, 2, 2)
    a = np.array([127, 127, -128, -128, 0, 60, -60, 1], dtype=np.int8).reshape(shape)
    b = np.array([127, -128, -128, 127, 0, 60, -60, -1], dtype=np.int8).reshape(shape)
    real = deq(a, 0.1, 0) + deq(b, 0.1, 0)
    expected = requant_oracle(real, 0.1, 0, -128, 127)
    assert expected.max() == 127 and expected.min() == -128
    t = qtype(shape, 0.1, 0)
    body = [f"%y = tt.add %a, %b {{{clamp_attrs(-128, 127)}}} : {t}, {t} -> {t}"]
    (got,), _ = build_and_run([], [("a", t), ("b", t)], body, [("y", t)], [a, b])
    np.testing.assert_array_equal(got, expected)


# --------------------------------------------------------------------------- global average pool


@pytest.mark.parametrize(
    ("seed", "shape", "y_ratio"),
    [(1, (2, 4, 4, 8), 1.0), (2, (1, 7, 5, 16), 0.37), (3, (3, 3, 3, 5), 0.2), (4, (1, 1, 1, 6), 1.0)],
)
def test_global_avg_pool_matches_float_simulation(seed, shape, y_ratio) -> None:
    rng = np.random.default_rng(seed)
    x = rand_int8(rng, shape)
    x_scale, x_zp = float(rng.uniform(0.01, 0.2)), int(rng.integers(-30, 31))
    y_scale, y_zp = x_scale * y_ratio, int(rng.integers(-10, 11))
    real = deq(x, x_scale, x_zp).mean(dim=(1, 2), keepdim=True)
    expected = requant_oracle(real, y_scale, y_zp, -128, 127)
    n, _, _, c = shape
    xt, yt = qtype(shape, x_scale, x_zp), qtype((n, 1, 1, c), y_scale, y_zp)
    body = [f"%y = tt.global_avg_pool %x : {xt} -> {yt}"]
    (got,), _ = build_and_run([], [("x", xt)], body, [("y", yt)], [x])
    assert got.shape == (n, 1, 1, c)
    assert_int8_close(got, expected, max_off_fraction=0.1 if got.size < 20 else 0.02)


def test_global_avg_pool_rounds_half_up() -> None:
    """Mean 0.5 and -0.5 LSB (exact in binary) round up, as the requantization rule says."""
    x = np.zeros((1, 2, 1, 3), dtype=np.int8)
    x[0, :, 0, 0] = [1, 0]  # mean 0.5 -> 1
    x[0, :, 0, 1] = [-1, 0]  # mean -0.5 -> 0
    x[0, :, 0, 2] = [-3, 0]  # mean -1.5 -> -1
    xt, yt = qtype(x.shape, 0.25, 0), qtype((1, 1, 1, 3), 0.25, 0)
    body = [f"%y = tt.global_avg_pool %x : {xt} -> {yt}"]
    (got,), _ = build_and_run([], [("x", xt)], body, [("y", yt)], [x])
    np.testing.assert_array_equal(got.reshape(-1), [1, 0, -1])


# --------------------------------------------------------------------------- requantize


@pytest.mark.parametrize(
    ("seed", "shape", "in_scale", "out_scale"),
    [
        (1, (2, 4, 4, 8), 0.05, 0.11),
        (2, (3, 40), 0.1, 0.031),
        (3, (1, 6, 6, 3), 0.02, 0.5),
        (4, (4, 9), 0.3, 0.9),
    ],
)
def test_requantize_matches_float_simulation(seed, shape, in_scale, out_scale) -> None:
    rng = np.random.default_rng(seed)
    x = rand_int8(rng, shape)
    x_zp, y_zp = int(rng.integers(-60, 61)), int(rng.integers(-60, 61))
    expected = requant_oracle(deq(x, in_scale, x_zp), out_scale, y_zp, -128, 127)
    xt, yt = qtype(shape, in_scale, x_zp), qtype(shape, out_scale, y_zp)
    body = [f"%y = tt.requantize %x : {xt} -> {yt}"]
    (got,), _ = build_and_run([], [("x", xt)], body, [("y", yt)], [x])
    assert_int8_close(got, expected)
    if out_scale < in_scale:
        assert (expected == 127).any() or (expected == -128).any()


# --------------------------------------------------------------------------- quantize / dequantize


@pytest.mark.parametrize(("seed", "scale", "zp"), [(1, 0.05, 0), (2, 0.013, -17), (3, 0.2, 100)])
def test_quantize_matches_float_simulation(seed, scale, zp) -> None:
    rng = np.random.default_rng(seed)
    shape = (3, 5, 4, 2)
    x = rng.normal(0.0, 60.0 * scale, size=shape).astype(np.float32)
    # round half to even of x / scale, plus zp, saturated
    expected = torch.clamp(torch.round(torch.from_numpy(x.astype(np.float64)) / scale) + zp, -128, 127)
    expected = expected.numpy().astype(np.int8)
    assert (expected == 127).any() or (expected == -128).any()
    xt, yt = ftype(shape), qtype(shape, scale, zp)
    body = [f"%y = tt.quantize %x : {xt} -> {yt}"]
    (got,), _ = build_and_run([], [("x", xt)], body, [("y", yt)], [x])
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, expected)


def test_quantize_ties_round_half_to_even() -> None:
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1000.0, -1000.0], dtype=np.float32)
    xt, yt = ftype(x.shape), qtype(x.shape, 0.5, 3)
    body = [f"%y = tt.quantize %x : {xt} -> {yt}"]
    (got,), _ = build_and_run([], [("x", xt)], body, [("y", yt)], [x * np.float32(0.5)])
    # x*0.5/0.5 = x: rint -> [0, 2, 2, -0, -2, -2, ...] + 3, saturated
    np.testing.assert_array_equal(got, [3, 5, 5, 3, 1, 1, 127, -128])


@pytest.mark.parametrize(("seed", "scale", "zp"), [(1, 0.05, 0), (2, 0.0123, -128), (3, 1.7, 42)])
def test_dequantize_matches_float_simulation(seed, scale, zp) -> None:
    rng = np.random.default_rng(seed)
    shape = (2, 3, 3, 7)
    x = rand_int8(rng, shape)
    expected = deq(x, scale, zp).numpy().astype(np.float32)
    xt, yt = qtype(shape, scale, zp), ftype(shape)
    body = [f"%y = tt.dequantize %x : {xt} -> {yt}"]
    (got,), _ = build_and_run([], [("x", xt)], body, [("y", yt)], [x])
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)


# --------------------------------------------------------------------------- clamp / reshape


@pytest.mark.parametrize(("lo", "hi"), [(-128, 127), (-128, 0), (-5, 90), (7, 7)])
def test_clamp(lo, hi) -> None:
    rng = np.random.default_rng(1000 + lo + 1000 * hi)
    shape = (2, 6, 5, 3)
    x = rand_int8(rng, shape)
    expected = torch.clamp(torch.from_numpy(x.astype(np.int64)), lo, hi).numpy().astype(np.int8)
    t = qtype(shape, 0.1, -3)
    body = [f"%y = tt.clamp %x {{{clamp_attrs(lo, hi)}}} : {t} -> {t}"]
    (got,), _ = build_and_run([], [("x", t)], body, [("y", t)], [x])
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, expected)


def test_reshape_qtensor_and_f32() -> None:
    rng = np.random.default_rng(5)
    q = rand_int8(rng, (3, 1, 1, 10))
    f = rng.normal(size=(2, 1, 1, 6)).astype(np.float32)
    qin, qout = qtype((3, 1, 1, 10), 0.07, 4), qtype((3, 10), 0.07, 4)
    fin, fout = ftype((2, 1, 1, 6)), ftype((2, 6))
    body = [f"%a = tt.reshape %q : {qin} -> {qout}", f"%b = tt.reshape %f : {fin} -> {fout}"]
    (ga, gb), _ = build_and_run([], [("q", qin), ("f", fin)], body, [("a", qout), ("b", fout)], [q, f])
    assert ga.dtype == np.int8 and gb.dtype == np.float32
    np.testing.assert_array_equal(ga, torch.from_numpy(q).reshape(3, 10).numpy())
    np.testing.assert_array_equal(gb, torch.from_numpy(f).reshape(2, 6).numpy())


# --------------------------------------------------------------------------- a small network


def test_conv_relu6_pool_linear_chain(tmp_path) -> None:
    """conv(ReLU6) -> depthwise(ReLU6) -> pool -> reshape -> linear, fed op by op to the oracle."""
    rng = np.random.default_rng(77)
    x = rand_int8(rng, (2, 8, 8, 3))
    x_scale, x_zp = 0.02, -3
    a_scale = 6.0 / 255.0
    w1, s1 = rand_weight(rng, (8, 3, 3, 3)), np.float32(rng.uniform(0.5, 1.5, 8) / 60).astype(np.float64)
    b1 = rng.integers(-500, 500, 8).astype(np.int32)
    w2, s2 = rand_weight(rng, (8, 3, 3, 1)), np.float32(rng.uniform(0.5, 1.5, 8) / 30).astype(np.float64)
    w3, s3 = rand_weight(rng, (5, 8)), np.float32(rng.uniform(0.5, 1.5, 5) / 100).astype(np.float64)
    b3 = rng.integers(-200, 200, 5).astype(np.int32)
    p_scale, p_zp, y_scale, y_zp = 0.02, -128, 0.01, 0

    t0 = qtype((2, 8, 8, 3), x_scale, x_zp)
    t1 = qtype((2, 4, 4, 8), a_scale, -128)
    t2 = qtype((2, 4, 4, 8), a_scale, -128)
    t3 = qtype((2, 1, 1, 8), p_scale, p_zp)
    t4 = qtype((2, 8), p_scale, p_zp)
    t5 = qtype((2, 5), y_scale, y_zp)
    full = clamp_attrs(-128, 127)
    body = [
        f'%a = tt.conv2d %x, @"c1.weight", @"c1.bias" {{{conv_attrs((2, 2), (1, 1), 1)}, {full}}} : '
        f"{t0} -> {t1}",
        f'%b = tt.conv2d %a, @"c2.weight" {{{conv_attrs((1, 1), (1, 1), 8)}, {full}}} : {t1} -> {t2}',
        f"%p = tt.global_avg_pool %b : {t2} -> {t3}",
        f"%r = tt.reshape %p : {t3} -> {t4}",
        f'%y = tt.linear %r, @"fc.weight", @"fc.bias" {{{full}}} : {t4} -> {t5}',
    ]
    params = [
        Param("c1.weight", w1, s1, external=True),
        Param("c1.bias", b1, x_scale * s1),
        Param("c2.weight", w2, s2),
        Param("fc.weight", w3, s3, external=True),
        Param("fc.bias", b3, p_scale * s3),
    ]
    results, _ = build_and_run(
        params, [("x", t0)], body, [("a", t1), ("b", t2), ("p", t3), ("y", t5)], [x], tmp_path
    )
    a, b, p, y = results
    # Each stage's oracle is fed the interpreter's int8 input to that stage (no error build-up).
    ea = requant_oracle(
        conv_real(deq(x, x_scale, x_zp), w1, s1, b1, x_scale, (2, 2), (1, 1), 1), a_scale, -128, -128, 127
    )
    eb = requant_oracle(
        conv_real(deq(a, a_scale, -128), w2, s2, None, a_scale, (1, 1), (1, 1), 8), a_scale, -128, -128, 127
    )
    ep = requant_oracle(deq(b, a_scale, -128).mean(dim=(1, 2), keepdim=True), p_scale, p_zp, -128, 127)
    w3_real = torch.from_numpy(w3 * s3[:, None])
    ey = requant_oracle(
        F.linear(deq(p.reshape(2, 8), p_scale, p_zp), w3_real, torch.from_numpy(b3 * p_scale * s3)),
        y_scale,
        y_zp,
        -128,
        127,
    )
    for got, exp, frac in ((a, ea, 0.02), (b, eb, 0.02), (p, ep, 0.1), (y, ey, 0.1)):
        assert_int8_close(got, exp, max_off_fraction=frac)
    assert len(np.unique(y)) > 3
