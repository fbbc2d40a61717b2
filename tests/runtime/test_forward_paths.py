"""Every path of the int8 forward loops (runtime_c/src/tt_conv_s8.c, tt_add) against the interpreter.

The loops choose between paths by shape and quantization: 2x2 tiles (an SMLAD assembly row loop
on Cortex-M7) for pairs of interior pixels and pairs of output channels, a one-shared-operand C
loop for border pixels, a last odd pixel or channel, and rows that cannot be paired (last-axis
split weights too large to copy); kernel rows that are not whole words (3-channel stems, odd
channel counts) with zero-padded weights; depthwise blocks of four channels (assembly for
interior pixels, for 3-wide kernel rows and any width, and per border pixel) and a per-channel
loop for the channels beyond a multiple of four and for kernels above 49 taps or 16 rows; and
per output channel one of three finishes: tt_requantize32 (the output zero point folded into
its rounding when the shift allows), the 64-bit rule (large multipliers, huge biases) and a
constant channel (a dead channel whose every sum gives the same output). tt_add has a 32-bit
path and the 64-bit one.

Without DSP (the host) the pixels with every tap inside take a dot pass (eight output channels
per pixel) and depthwise kernels up to 25 taps eight channels side by side.

Each problem below is run
- on the host, in the sanitized kernel driver (the plain C path), against the interpreter;
- on the Cortex-M7 in QEMU (the DSP and assembly path), all problems in one program built by
  bench/kernels.py's driver generator, at -O2 and -O0 (the assembly must also build and run
  with a frame pointer), the hash of every output against the interpreter's.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import oracle
import pytest
from bottleneck_cases import BottleneckCase, make_chain
from cdriver import KernelDriver, conv_shape, i32
from oracle import Q, f32_scale
from test_runtime_bottleneck import expected_output, shape_args, stage_args

from bench.kernels import Case, fnv1a, run_driver
from ttdialect import numerics as nx
from ttdialect.dialect import conv_output_size

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
FULL = (-128, 127)

# --------------------------------------------------------------------------- conv problems


@dataclass(frozen=True)
class ConvSpec:
    n: int
    h: int
    w: int
    c: int
    o: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, ...]  # (top, left), the same after, or (top, left, bottom, right)
    groups: int = 1
    act: tuple[int, int] | None = None  # None: ReLU at the output zero point
    bias: str = "random"  # random | none | dead (INT32_MIN / INT32_MAX on some channels)
    scales: str = "spread"  # spread | mixed | mixed_after_8 | mixed_8_to_16 (see _weight_scales)
    x_zp: int | None = None
    y_zp: int | None = None
    numerics: str = "tt"  # tflite: TFLite's multipliers and rounding (marked shifts)

    def out_shape(self) -> tuple[int, int, int, int]:
        after = self.padding[2:] or self.padding
        oh = conv_output_size(self.h, self.kernel[0], self.stride[0], self.padding[0], after[0])
        ow = conv_output_size(self.w, self.kernel[1], self.stride[1], self.padding[1], after[1])
        return (self.n, oh, ow, self.o)

    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.o, *self.kernel, self.c // self.groups)


def dw(n: int, h: int, w: int, c: int, kernel, stride, padding, **kw) -> ConvSpec:
    return ConvSpec(n, h, w, c, c, kernel, stride, padding, groups=c, **kw)


CONVS = {
    # regular convs: tiles, padded kernel rows, odd channels / widths, borders
    "3x3_c16_o8": ConvSpec(1, 6, 8, 16, 8, (3, 3), (1, 1), (1, 1)),
    "3x3_c5_o7_odd_width_batch2": ConvSpec(2, 6, 7, 5, 7, (3, 3), (1, 1), (1, 1)),
    "3x3_c3_s2_stem": ConvSpec(1, 9, 11, 3, 6, (3, 3), (2, 2), (1, 1)),
    "3x3_c1": ConvSpec(1, 7, 6, 1, 4, (3, 3), (1, 1), (1, 1)),
    "3x3_c8_s2_p0": ConvSpec(1, 9, 9, 8, 6, (3, 3), (2, 2), (0, 0)),
    "3x3_c8_p2": ConvSpec(1, 6, 7, 8, 4, (3, 3), (1, 1), (2, 2)),
    "5x3_c4_mixed": ConvSpec(1, 10, 9, 4, 6, (5, 3), (2, 1), (2, 1)),
    "3x3_width1": ConvSpec(1, 5, 1, 8, 4, (3, 3), (1, 1), (1, 1)),
    "3x3_c64_long": ConvSpec(1, 4, 4, 64, 4, (3, 3), (1, 1), (1, 1)),
    "1x1_c24_batch2": ConvSpec(2, 4, 5, 24, 10, (1, 1), (1, 1), (0, 0)),
    "1x1_c12_s2_odd": ConvSpec(1, 7, 9, 12, 5, (1, 1), (2, 2), (0, 0)),
    "1x1_c8_padded": ConvSpec(1, 4, 5, 8, 6, (1, 1), (1, 1), (1, 1)),
    "1x1_c8_rows_padded": ConvSpec(1, 4, 6, 8, 6, (1, 1), (1, 1), (1, 0)),
    "3x1_c8_rows_padded_s2": ConvSpec(2, 5, 8, 8, 4, (3, 1), (2, 1), (3, 0)),
    "1x1_c3": ConvSpec(1, 5, 6, 3, 4, (1, 1), (1, 1), (0, 0)),
    "1x1_c36_row": ConvSpec(1, 1, 9, 36, 6, (1, 1), (1, 1), (0, 0)),
    # the host's dot pass: channels beyond its 256 (pass_end), rows beyond its 16384 taps
    "1x1_c4_o262_beyond_pass": ConvSpec(1, 2, 3, 4, 262, (1, 1), (1, 1), (0, 0)),
    "1x1_c16400_beyond_dot_taps": ConvSpec(1, 1, 2, 16400, 3, (1, 1), (1, 1), (0, 0)),
    "grouped_2": ConvSpec(1, 6, 5, 4, 6, (3, 3), (1, 1), (1, 1), groups=2),
    "channel_multiplier_2": ConvSpec(1, 6, 6, 3, 6, (3, 3), (1, 1), (1, 1), groups=3),
    # quantization: clamps, zero points, no bias, dead channels, every kind of shift
    "3x3_act_band": ConvSpec(1, 6, 6, 8, 6, (3, 3), (1, 1), (1, 1), act=(-20, 50)),
    "3x3_act_point": ConvSpec(1, 5, 6, 4, 4, (3, 3), (1, 1), (1, 1), act=(5, 5)),
    "3x3_zp_extremes": ConvSpec(1, 6, 6, 8, 6, (3, 3), (1, 1), (1, 1), act=(-128, 127), x_zp=127, y_zp=-128),
    "3x3_zp_extremes_2": ConvSpec(
        1, 6, 6, 8, 6, (3, 3), (1, 1), (1, 1), act=(-128, 127), x_zp=-128, y_zp=127
    ),
    "3x3_no_bias": ConvSpec(1, 5, 6, 8, 5, (3, 3), (2, 1), (1, 1), bias="none"),
    "3x3_dead_channels": ConvSpec(1, 6, 6, 8, 8, (3, 3), (1, 1), (1, 1), bias="dead"),
    "3x3_c3_dead_channels": ConvSpec(1, 9, 9, 3, 8, (3, 3), (2, 2), (1, 1), bias="dead"),
    "3x3_mixed_shifts": ConvSpec(1, 6, 6, 8, 8, (3, 3), (1, 1), (1, 1), scales="mixed"),
    "1x1_mixed_shifts": ConvSpec(1, 4, 6, 16, 8, (1, 1), (1, 1), (0, 0), scales="mixed", act=FULL),
    # 1x1 convs on 8 or 16 channels: the lanes loops (chunks of 8 output channels, the last
    # multiple of 4), the channels they leave to the tiles, clamped and full range, strides
    "1x1_c8_o20_lanes": ConvSpec(1, 5, 6, 8, 20, (1, 1), (1, 1), (0, 0)),
    "1x1_c16_o13_lanes_batch2": ConvSpec(2, 3, 5, 16, 13, (1, 1), (1, 1), (0, 0), act=FULL),
    "1x1_c8_s2_lanes": ConvSpec(1, 7, 9, 8, 12, (1, 1), (2, 2), (0, 0)),
    "1x1_c16_s2x1_lanes": ConvSpec(2, 5, 7, 16, 8, (1, 1), (2, 1), (0, 0), act=FULL),
    "1x1_c8_lanes_act_band": ConvSpec(1, 4, 5, 8, 8, (1, 1), (1, 1), (0, 0), act=(-20, 50)),
    "1x1_c16_lanes_act_band": ConvSpec(1, 4, 5, 16, 12, (1, 1), (1, 1), (0, 0), act=(-40, 30)),
    "1x1_c8_lanes_dead": ConvSpec(1, 4, 4, 8, 12, (1, 1), (1, 1), (0, 0), bias="dead"),
    "1x1_c16_lanes_zp_extremes": ConvSpec(
        1, 4, 4, 16, 8, (1, 1), (1, 1), (0, 0), act=FULL, x_zp=-128, y_zp=127
    ),
    "1x1_c8_lanes_zp_extremes": ConvSpec(
        1, 4, 4, 8, 8, (1, 1), (1, 1), (0, 0), act=FULL, x_zp=127, y_zp=-128
    ),
    # 3x3 convs on 3 channels: the stem loop on pixels with all nine taps (chunks of 8 output
    # channels, the last multiple of 4), the tiles and C loops on the others
    "3x3_c3_o16_stem_batch2": ConvSpec(2, 9, 10, 3, 16, (3, 3), (2, 2), (1, 1), act=FULL),
    "3x3_c3_o12_stem_s1": ConvSpec(1, 6, 8, 3, 12, (3, 3), (1, 1), (1, 1)),
    "3x3_c3_o9_stem_p0": ConvSpec(1, 7, 9, 3, 9, (3, 3), (2, 1), (0, 0), act=(-30, 60)),
    "3x3_c3_stem_mixed_middle": ConvSpec(
        1, 5, 7, 3, 28, (3, 3), (2, 1), (1, 1), scales="mixed_8_to_16", act=FULL
    ),
    "3x3_c3_stem_then_mixed": ConvSpec(
        1, 7, 7, 3, 20, (3, 3), (2, 2), (1, 1), scales="mixed_after_8", act=FULL
    ),
    "1x1_c16_lanes_mixed_middle": ConvSpec(
        1, 3, 4, 16, 30, (1, 1), (1, 1), (0, 0), scales="mixed_8_to_16", act=FULL
    ),
    "1x1_c8_lanes_then_mixed": ConvSpec(
        1, 3, 4, 8, 24, (1, 1), (1, 1), (0, 0), scales="mixed_after_8", act=FULL
    ),
    # depthwise: blocks of 4, tail channels, border-only images, tall / wide / large kernels
    "dw3x3_c12_batch2": dw(2, 6, 7, 12, (3, 3), (1, 1), (1, 1)),
    "dw3x3_c10_s2": dw(1, 7, 9, 10, (3, 3), (2, 2), (1, 1)),
    "dw3x3_c4_p0": dw(1, 5, 6, 4, (3, 3), (1, 1), (0, 0)),
    # 3x3 interior pixels: dw3_row, stride 1 and 2, full range and clamped (ReLU, the others)
    "dw3x3_c16_s1_full": dw(1, 5, 12, 16, (3, 3), (1, 1), (1, 1), act=FULL),
    "dw3x3_c8_s2_full": dw(1, 9, 10, 8, (3, 3), (2, 2), (1, 1), act=FULL),
    "dw3x3_c8_s2x1_band": dw(2, 7, 8, 8, (3, 3), (2, 1), (1, 1), act=(-50, 60)),
    "dw5x5_4x4_all_border": dw(1, 4, 4, 8, (5, 5), (1, 1), (2, 2)),
    "dw7x7_8x8": dw(1, 8, 8, 16, (7, 7), (1, 1), (3, 3)),
    "dw7x7_s2": dw(1, 8, 9, 8, (7, 7), (2, 2), (3, 3)),
    "dw1x9_wide": dw(1, 5, 12, 4, (1, 9), (1, 1), (0, 4)),
    "dw9x1_tall": dw(1, 12, 5, 4, (9, 1), (1, 1), (4, 0)),
    "dw9x9_81_taps": dw(1, 10, 10, 4, (9, 9), (1, 1), (4, 4)),
    "dw17x1_17_rows": dw(1, 18, 3, 4, (17, 1), (1, 1), (8, 0)),
    "dw3x3_c5_width1": dw(1, 6, 1, 5, (3, 3), (1, 1), (1, 1)),
    "dw1x1_pad1_empty_windows": dw(1, 3, 4, 8, (1, 1), (1, 1), (1, 1)),
    "dw3x3_dead_channels": dw(1, 6, 6, 8, (3, 3), (1, 1), (1, 1), bias="dead"),
    "dw3x3_mixed_shifts": dw(1, 6, 6, 8, (3, 3), (1, 1), (1, 1), scales="mixed"),
    "dw3x3_zp_extremes": dw(1, 6, 6, 8, (3, 3), (1, 1), (1, 1), act=FULL, x_zp=-128, y_zp=127),
    "dw5x5_act_band": dw(1, 6, 6, 8, (5, 5), (2, 2), (2, 2), act=(-30, 40)),
    # TensorFlow's SAME padding (more at the bottom and right), a folded PAD (more on top)
    "3x3_c16_s2_same_even": ConvSpec(1, 8, 10, 16, 8, (3, 3), (2, 2), (0, 0, 1, 1)),
    "3x3_c3_s2_same_stem": ConvSpec(1, 12, 12, 3, 8, (3, 3), (2, 2), (0, 0, 1, 1)),
    "3x3_c8_more_on_top": ConvSpec(1, 6, 8, 8, 6, (3, 3), (1, 1), (2, 1, 0, 1)),
    "1x3_c8_rows_more_right": ConvSpec(1, 4, 6, 8, 6, (1, 3), (1, 1), (0, 0, 0, 2)),
    "10x4_c1_s2_ds_cnn_stem": ConvSpec(1, 49, 10, 1, 8, (10, 4), (2, 2), (4, 1, 5, 1)),
    "dw3x3_c12_s2_same_even": dw(1, 10, 8, 12, (3, 3), (2, 2), (0, 0, 1, 1)),
    "dw5x5_c8_s2_same": dw(1, 12, 11, 8, (5, 5), (2, 2), (1, 2, 2, 2)),
    # TFLite's numerics: every channel through the 64-bit rule with TFLite's two roundings
    "tflite_3x3_c16_o8": ConvSpec(1, 6, 8, 16, 8, (3, 3), (1, 1), (1, 1), numerics="tflite"),
    "tflite_3x3_c3_s2_same": ConvSpec(1, 12, 12, 3, 8, (3, 3), (2, 2), (0, 0, 1, 1), numerics="tflite"),
    "tflite_1x1_c24_mixed_shifts": ConvSpec(
        1, 4, 6, 24, 8, (1, 1), (1, 1), (0, 0), scales="mixed", act=FULL, numerics="tflite"
    ),
    "tflite_dw3x3_c12_s2_same": dw(1, 10, 8, 12, (3, 3), (2, 2), (0, 0, 1, 1), numerics="tflite"),
    "tflite_dw3x3_dead_channels": dw(1, 6, 6, 8, (3, 3), (1, 1), (1, 1), bias="dead", numerics="tflite"),
}


@dataclass
class ConvProblem:
    spec: ConvSpec
    x: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    xq: Q
    yq: Q
    act: tuple[int, int]
    mult: np.ndarray
    shift: np.ndarray
    expected: np.ndarray

    def shape_args(self) -> np.ndarray:
        s = self.spec
        return conv_shape(self.x.shape, self.expected.shape, s.kernel, s.stride, s.padding, s.groups)

    def quant_args(self) -> np.ndarray:
        return i32([self.xq.zp, self.yq.zp, *self.act])


def _weight_scales(rng: np.random.Generator, spec: ConvSpec, xq: Q, y_scale: float) -> np.ndarray:
    """Per-channel scales; `mixed` gives channel o % 4 == 1, 2, 3 a real multiplier in
    [0.25, 0.5), [1, 4) and about 2^-27 (shifts -1, 1..2 and -26); `mixed_after_8` the same
    from channel 8 on, `mixed_8_to_16` on channels 8 to 15 only."""
    scales = rng.uniform(0.5, 2.0, size=spec.o) / 128.0
    if spec.scales in ("mixed", "mixed_after_8", "mixed_8_to_16"):
        first = 0 if spec.scales == "mixed" else 8
        last = 16 if spec.scales == "mixed_8_to_16" else spec.o
        for o in range(first, min(last, spec.o)):
            target = {1: rng.uniform(0.26, 0.49), 2: rng.uniform(1.1, 3.9), 3: 2.0**-27}.get(o % 4)
            if target is not None:
                scales[o] = target * y_scale / xq.scale
    return np.float32(scales)


def _bias(rng: np.random.Generator, spec: ConvSpec) -> np.ndarray | None:
    if spec.bias == "none":
        return None
    bias = rng.integers(-3000, 3000, size=spec.o).astype(np.int64)
    if spec.bias == "dead":
        bias[0::3] = INT32_MIN
        bias[1::3] = INT32_MAX
        bias[min(2, spec.o - 1)] = INT32_MAX - 10  # huge, but is it constant? either way exact
    return bias.astype(np.int32)


@cache
def conv_problem(name: str) -> ConvProblem:
    spec = CONVS[name]
    rng = np.random.default_rng(list(CONVS).index(name) + 1000)
    x = rng.integers(-128, 128, size=(spec.n, spec.h, spec.w, spec.c)).astype(np.int8)
    weight = np.clip(np.rint(rng.normal(0.0, 45.0, size=spec.weight_shape())), -127, 127).astype(np.int8)
    x_zp = spec.x_zp if spec.x_zp is not None else int(rng.integers(-40, 41))
    xq = Q(f32_scale(rng.uniform(0.01, 0.05)), x_zp)
    taps = spec.kernel[0] * spec.kernel[1] * (spec.c // spec.groups)
    y_scale = f32_scale(xq.scale * 1.25 / 128.0 * math.sqrt(taps) * 74.0 * 45.0 / 40.0)
    yq = Q(y_scale, spec.y_zp if spec.y_zp is not None else int(rng.integers(-20, 21)))
    w_scales = _weight_scales(rng, spec, xq, y_scale)
    bias = _bias(rng, spec)
    act = spec.act if spec.act is not None else (yq.zp, 127)
    out_shape = spec.out_shape()
    expected = oracle.conv2d(
        x,
        xq,
        weight,
        w_scales,
        bias,
        yq,
        spec.stride,
        spec.padding,
        spec.groups,
        act,
        out_shape,
        spec.numerics,
    )
    mult, shift = oracle.channel_multipliers(xq, w_scales, yq, spec.numerics)
    return ConvProblem(spec, x, weight, bias, xq, yq, act, mult, shift, expected)


def _conv_c_setup(p: str, problem: ConvProblem) -> str:
    shape = ", ".join(map(str, problem.shape_args().tolist()))
    quant = ", ".join(map(str, problem.quant_args().tolist()))
    return (
        f"    static const tt_conv_shape {p}_shape = {{{shape}}};\n"
        f"    static const tt_channel_quant {p}_quant = {{{quant}, {p}_mult, {p}_shift}};"
    )


def conv_case(name: str) -> Case:
    problem, p = conv_problem(name), f"conv_{len(name)}_{list(CONVS).index(name)}"
    arrays = {
        f"{p}_x": problem.x,
        f"{p}_w": problem.weight,
        f"{p}_mult": problem.mult,
        f"{p}_shift": problem.shift,
    }
    bias = "NULL"
    if problem.bias is not None:
        arrays[f"{p}_b"], bias = problem.bias, f"{p}_b"
    call = f"tt_conv2d(&{p}_shape, &{p}_quant, {p}_x, {p}_w, {bias}, output)"
    return Case(name, name, 0, "", None, arrays, call, problem.expected, _conv_c_setup(p, problem))


@pytest.mark.parametrize("name", list(CONVS))
def test_conv2d_paths_host(driver: KernelDriver, name: str) -> None:
    problem = conv_problem(name)
    out = np.zeros(problem.expected.shape, dtype=np.int8)
    args = [
        problem.shape_args(),
        problem.quant_args(),
        problem.mult,
        problem.shift,
        problem.x,
        problem.weight,
    ]
    got = driver.call("conv2d", *args, problem.bias, out)[7]
    np.testing.assert_array_equal(got, problem.expected)


def test_conv_problems_reach_their_paths() -> None:
    """The quantization variants really produce what they are meant to (else they test nothing)."""
    dead = conv_problem("3x3_dead_channels")
    assert np.all(dead.expected[..., 0] == dead.act[0]) and np.all(dead.expected[..., 1] == dead.act[1])
    shifts = set(conv_problem("3x3_mixed_shifts").shift.tolist())
    assert {-1, 1} <= shifts or {-1, 2} <= shifts
    assert min(shifts) <= -25
    marked = conv_problem("tflite_1x1_c24_mixed_shifts").shift - nx.C_TFLITE_SHIFT
    assert {-1, 1} <= set(marked.tolist()) or {-1, 2} <= set(marked.tolist())
    for name in ("3x3_c16_o8", "dw7x7_8x8", "1x1_c24_batch2", "1x1_c8_o20_lanes", "1x1_c16_o13_lanes_batch2"):
        assert len(np.unique(conv_problem(name).expected)) > 20
    for name in ("3x3_c3_o16_stem_batch2", "3x3_c3_o12_stem_s1"):
        assert len(np.unique(conv_problem(name).expected)) > 20
    for name in ("3x3_c3_stem_mixed_middle", "1x1_c16_lanes_mixed_middle"):
        middle = conv_problem(name).shift  # chunks 0, 2 (and 3) for the passes, chunk 1 not
        assert max(middle[:8]) <= -2 and max(middle[16:]) <= -2 and max(middle[8:16]) >= -1
    stem_late = conv_problem("3x3_c3_stem_then_mixed").shift
    assert max(stem_late[:8]) <= -2 and max(stem_late[8:]) >= -1
    late = conv_problem("1x1_c8_lanes_then_mixed").shift
    assert max(late[:8]) <= -2 and max(late[8:]) >= -1  # a first chunk for the lanes, then the tiles
    lanes_dead = conv_problem("1x1_c8_lanes_dead").expected
    assert np.all(lanes_dead[..., 0] == lanes_dead[0, 0, 0, 0])  # a constant channel


# --------------------------------------------------------------------------- split weights


@dataclass(frozen=True)
class SplitSpec:
    conv: str  # a key of CONVS
    axis: int
    channels: tuple[int, ...]


SPLITS = {
    "split_1x1_last_axis_copied": SplitSpec("1x1_c24_batch2", 3, (0, 5, 6, 23)),
    "split_1x1_c8_lanes_last_axis": SplitSpec("1x1_c8_o20_lanes", 3, (1, 2, 7)),
    "split_3x3_c3_stem_last_axis": SplitSpec("3x3_c3_o16_stem_batch2", 3, (1,)),
    "split_3x3_c3_stem_axis0": SplitSpec("3x3_c3_o12_stem_s1", 0, (0, 3, 4, 11)),
    "split_1x1_c16_lanes_axis0": SplitSpec("1x1_c16_o13_lanes_batch2", 0, (0, 6, 12)),
    "split_3x3_last_axis_long_rows": SplitSpec("3x3_c64_long", 3, tuple(range(0, 64, 3))),
    "split_3x3_c5_last_axis_padded": SplitSpec("3x3_c5_o7_odd_width_batch2", 3, (1, 4)),
    "split_3x3_axis0": SplitSpec("3x3_c16_o8", 0, (1, 2, 7)),
    "split_dw_axis0": SplitSpec("dw3x3_c12_batch2", 0, (0, 5, 11)),
    "split_dw_last_axis": SplitSpec("dw7x7_8x8", 3, (0,)),
}


@cache
def split_parts(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """frozen (garbage at the split channels), slice, channels of the weight of `name`."""
    spec = SPLITS[name]
    weight = conv_problem(spec.conv).weight
    channels = i32(spec.channels)
    index = [slice(None)] * 4
    index[spec.axis] = channels
    frozen = weight.copy()
    frozen[tuple(index)] = np.random.default_rng(7).integers(-128, 128, size=frozen[tuple(index)].shape)
    return frozen, np.ascontiguousarray(weight[tuple(index)]), channels


@pytest.mark.parametrize("name", list(SPLITS))
def test_conv2d_split_paths_host(driver: KernelDriver, name: str) -> None:
    spec = SPLITS[name]
    problem = conv_problem(spec.conv)
    frozen, slice_, channels = split_parts(name)
    out = np.zeros(problem.expected.shape, dtype=np.int8)
    args = [problem.shape_args(), problem.quant_args(), problem.mult, problem.shift, problem.x]
    got = driver.call("conv2d_split", *args, frozen, slice_, channels, spec.axis, problem.bias, out)[10]
    np.testing.assert_array_equal(got, problem.expected)


def split_case(name: str) -> Case:
    spec = SPLITS[name]
    problem, p = conv_problem(spec.conv), f"split_{list(SPLITS).index(name)}"
    frozen, slice_, channels = split_parts(name)
    arrays = {f"{p}_x": problem.x, f"{p}_frozen": frozen, f"{p}_slice": slice_, f"{p}_channels": channels}
    arrays |= {f"{p}_mult": problem.mult, f"{p}_shift": problem.shift}
    bias = "NULL"
    if problem.bias is not None:
        arrays[f"{p}_b"], bias = problem.bias, f"{p}_b"
    setup = _conv_c_setup(p, problem) + (
        f"\n    const tt_split_weight {p}_split = {{{p}_frozen, {p}_slice, {p}_channels, "
        f"{len(channels)}, {spec.axis}}};"
    )
    call = f"tt_conv2d_split(&{p}_shape, &{p}_quant, {p}_x, &{p}_split, {bias}, output, scratch)"
    return Case(name, name, 0, "", None, arrays, call, problem.expected, setup, mutable=(f"{p}_slice",))


# --------------------------------------------------------------------------- linear, add


LINEARS = {"linear_batch3_odd": (3, 37, 5), "linear_batch1": (1, 160, 10), "linear_batch4": (4, 64, 12)}


@cache
def linear_problem(name: str) -> tuple:
    n, k, o = LINEARS[name]
    rng = np.random.default_rng(list(LINEARS).index(name) + 2000)
    x = rng.integers(-128, 128, size=(n, k)).astype(np.int8)
    weight = np.clip(np.rint(rng.normal(0.0, 45.0, size=(o, k))), -127, 127).astype(np.int8)
    w_scales = np.float32(rng.uniform(0.5, 2.0, size=o) / 128.0)
    xq = Q(f32_scale(0.03), int(rng.integers(-40, 41)))
    yq = Q(f32_scale(xq.scale * 1.25 / 128.0 * math.sqrt(k) * 74.0 * 45.0 / 40.0), int(rng.integers(-20, 21)))
    bias = rng.integers(-3000, 3000, size=o).astype(np.int32)
    act = (-100, 120)
    expected = oracle.linear(x, xq, weight, w_scales, bias, yq, act)
    mult, shift = oracle.channel_multipliers(xq, w_scales, yq)
    return x, weight, bias, i32([xq.zp, yq.zp, *act]), mult, shift, expected


def linear_case(name: str) -> Case:
    n, k, o = LINEARS[name]
    x, weight, bias, quant, mult, shift, expected = linear_problem(name)
    p = f"linear_{list(LINEARS).index(name)}"
    arrays = {f"{p}_x": x, f"{p}_w": weight, f"{p}_b": bias, f"{p}_mult": mult, f"{p}_shift": shift}
    q = ", ".join(map(str, quant.tolist()))
    setup = f"    static const tt_channel_quant {p}_quant = {{{q}, {p}_mult, {p}_shift}};"
    call = f"tt_linear({n}, {k}, {o}, &{p}_quant, {p}_x, {p}_w, {p}_b, output)"
    return Case(name, name, 0, "", None, arrays, call, expected, setup)


@pytest.mark.parametrize("name", list(LINEARS))
def test_linear_paths_host(driver: KernelDriver, name: str) -> None:
    n, k, o = LINEARS[name]
    x, weight, bias, quant, mult, shift, expected = linear_problem(name)
    got = driver.call(
        "linear", i32([n, k, o]), quant, mult, shift, x, weight, bias, np.zeros((n, o), np.int8)
    )[7]
    np.testing.assert_array_equal(got, expected)


ADDS = {
    # a, b, y, act[, numerics]: the 32-bit path (input shifts in [-28, 1], output shift <= -2) ...
    "add_typical": (Q(0.05, 3), Q(0.02, -7), Q(0.06, 0), (-128, 127)),
    "add_equal_scales_clamped": (Q(0.02, 0), Q(0.02, 0), Q(0.015, 10), (-100, 90)),
    "add_zp_extremes": (Q(0.013, -128), Q(0.11, 127), Q(0.1, -128), (-128, 127)),
    # ... and the 64-bit fallback: an input multiplier below 2^-29, an output one above 1/4
    "add_tiny_operand": (Q(0.5, 127), Q(9e-10, -128), Q(0.3, 0), (-128, 127)),
    "add_large_output_multiplier": (Q(1.0, 0), Q(0.5, 4), Q(2e-6, -3), (-128, 127)),
    # ... and TFLite's numerics (the 64-bit path with TFLite's rule)
    "add_tflite": (Q(0.05, 3), Q(0.02, -7), Q(0.06, 0), (-128, 127), "tflite"),
}


@cache
def add_problem(name: str) -> tuple:
    a, b, y, act, *rest = ADDS[name]
    numerics = rest[0] if rest else "tt"
    rng = np.random.default_rng(list(ADDS).index(name) + 3000)
    lhs = rng.integers(-128, 128, size=(1, 5, 7, 9)).astype(np.int8)
    rhs = rng.integers(-128, 128, size=(1, 5, 7, 9)).astype(np.int8)
    quant = oracle.add_quant(a, b, y, *act, numerics=numerics)
    return lhs, rhs, quant, oracle.add(lhs, a, rhs, b, y, act, numerics)


def add_case(name: str) -> Case:
    lhs, rhs, quant, expected = add_problem(name)
    p = f"add_{list(ADDS).index(name)}"
    setup = f"    static const tt_add_quant {p}_q = {{{', '.join(map(str, quant.tolist()))}}};"
    call = f"tt_add({lhs.size}u, &{p}_q, {p}_a, {p}_b, output)"
    return Case(name, name, 0, "", None, {f"{p}_a": lhs, f"{p}_b": rhs}, call, expected, setup)


def test_add_problems_take_both_paths() -> None:
    shifts = {name: add_problem(name)[2][[2, 5, 8]].tolist() for name in ADDS}
    fast = [n for n, (sa, sb, so) in shifts.items() if -28 <= sa <= 1 and -28 <= sb <= 1 and so <= -2]
    assert set(fast) == {"add_typical", "add_equal_scales_clamped", "add_zp_extremes"}


@pytest.mark.parametrize("name", list(ADDS))
def test_add_paths_host(driver: KernelDriver, name: str) -> None:
    lhs, rhs, quant, expected = add_problem(name)
    got = driver.call("add", quant, lhs, rhs, np.zeros(lhs.shape, dtype=np.int8))[3]
    np.testing.assert_array_equal(got, expected)


# --------------------------------------------------------------------------- bottlenecks


BOTTLENECKS = {
    "bneck_8x8_k7_border": BottleneckCase(1, 8, 8, 8, 16, 8, (7, 7), (1, 1), (3, 3)),
    "bneck_4x4_k5_all_border": BottleneckCase(1, 4, 4, 8, 24, 8, (5, 5), (1, 1), (2, 2)),
    "bneck_16x16_k3_s2": BottleneckCase(1, 16, 16, 8, 24, 12, (3, 3), (2, 2), (1, 1)),
    "bneck_c6_hidden18_tail": BottleneckCase(1, 7, 9, 6, 18, 5, (3, 3), (1, 1), (1, 1)),
    "bneck_no_expand_c16": BottleneckCase(1, 9, 8, 16, 16, 8, (3, 3), (1, 1), (1, 1), expand=False),
    "bneck_stem_c3": BottleneckCase(
        1,
        16,
        18,
        3,
        16,
        8,
        (3, 3),
        (1, 1),
        (1, 1),
        expand_kernel=(3, 3),
        expand_stride=(2, 2),
        expand_padding=(1, 1),
    ),
}


@cache
def bottleneck_problem(name: str):
    chain = make_chain(BOTTLENECKS[name], seed=list(BOTTLENECKS).index(name) + 4000)
    return chain, expected_output(chain)


@pytest.mark.parametrize("name", list(BOTTLENECKS))
def test_bottleneck_paths_host(driver: KernelDriver, name: str) -> None:
    chain, expected = bottleneck_problem(name)
    out = np.zeros(expected.shape, dtype=np.int8)
    results = driver.call("bottleneck", shape_args(chain.case), *stage_args(chain), chain.x, out, i32([0]))
    np.testing.assert_array_equal(results[17], expected)


def bottleneck_case(name: str) -> Case:
    chain, expected = bottleneck_problem(name)
    p = f"bneck_{list(BOTTLENECKS).index(name)}"
    args = stage_args(chain)
    shape = ", ".join(map(str, shape_args(chain.case).tolist()))
    arrays = {f"{p}_x": chain.x}
    lines = [f"    static const tt_bottleneck_shape {p}_shape = {{{shape}}};"]
    stages = []
    for i, stage in enumerate(("e", "d", "p")):
        quant, mult, shift, weight, bias = args[5 * i : 5 * i + 5]
        if weight is None:
            stages.append("NULL")
            continue
        s = f"{p}_{stage}"
        arrays |= {f"{s}_w": weight, f"{s}_m": mult, f"{s}_s": shift}
        bias_ref = "NULL"
        if bias is not None:
            arrays[f"{s}_b"], bias_ref = bias, f"{s}_b"
        q = ", ".join(map(str, quant.tolist()))
        lines.append(f"    static const tt_channel_quant {s}_q = {{{q}, {s}_m, {s}_s}};")
        lines.append(f"    static const tt_conv_stage {s} = {{&{s}_q, {s}_w, {bias_ref}}};")
        stages.append(f"&{s}")
    call = f"tt_bottleneck(&{p}_shape, {', '.join(stages)}, {p}_x, output, scratch)"
    return Case(name, name, 0, "", None, arrays, call, expected, "\n".join(lines))


# --------------------------------------------------------------------------- Cortex-M7


def all_cases() -> list[Case]:
    cases = [conv_case(name) for name in CONVS]
    cases += [split_case(name) for name in SPLITS]
    cases += [linear_case(name) for name in LINEARS]
    cases += [add_case(name) for name in ADDS]
    cases += [bottleneck_case(name) for name in BOTTLENECKS]
    return cases


@pytest.mark.parametrize("opt", ["-O2", "-O0"])
def test_cortex_m7_paths_match_the_interpreter(opt: str, tmp_path: Path) -> None:
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "make"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    cases = all_cases()
    results = run_driver(cases, tmp_path, opt)
    wrong = [case.name for case in cases if results[case.name][1] != fnv1a(case.expected.tobytes())]
    assert not wrong, f"Cortex-M7 ({opt}) outputs differ from the interpreter: {wrong}"
