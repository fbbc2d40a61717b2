"""Random inverted-bottleneck cases shared by the tt.bottleneck tests (interpreter and C runtime).

A case is the geometry of an [expand ->] depthwise -> project chain; `make_chain` draws its
weights, biases and quantization; `chain_text` writes it as three `tt.conv2d` (the oracle, the
existing ops) and `bottleneck_text` as one `tt.bottleneck`, over the same parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from irbuild import Param, clamp_attrs, conv_attrs, i64_array, qtype

from ttdialect.dialect import conv_output_size


@dataclass(frozen=True)
class BottleneckCase:
    n: int
    h: int
    w: int
    c: int
    hidden: int  # expanded channels (= c without an expand conv)
    o: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    expand: bool = True
    bias: bool = True
    expand_kernel: tuple[int, int] = (1, 1)  # a KxK strided expand: a stem conv
    expand_stride: tuple[int, int] = (1, 1)
    expand_padding: tuple[int, int] = (0, 0)

    def hidden_hw(self) -> tuple[int, int]:
        """Height and width of the expanded tensor (the depthwise conv's input)."""
        return (
            conv_output_size(self.h, self.expand_kernel[0], self.expand_stride[0], self.expand_padding[0]),
            conv_output_size(self.w, self.expand_kernel[1], self.expand_stride[1], self.expand_padding[1]),
        )

    def out_hw(self) -> tuple[int, int]:
        h, w = self.hidden_hw()
        return (
            conv_output_size(h, self.kernel[0], self.stride[0], self.padding[0]),
            conv_output_size(w, self.kernel[1], self.stride[1], self.padding[1]),
        )

    def has_strided_expand(self) -> bool:
        return self.expand_stride != (1, 1) or self.expand_padding != (0, 0)


CASES = {
    "mbv2_s2": BottleneckCase(1, 9, 8, 4, 12, 5, (3, 3), (2, 2), (1, 1)),
    "mbv2_s1_batch2": BottleneckCase(2, 6, 7, 3, 9, 4, (3, 3), (1, 1), (1, 1)),
    "k5_s2_p2": BottleneckCase(1, 11, 9, 5, 10, 6, (5, 5), (2, 2), (2, 2)),
    "k7_s1_p3_tall": BottleneckCase(1, 12, 5, 2, 8, 3, (7, 7), (1, 1), (3, 3), bias=False),
    "k3_unpadded_dropped_rows": BottleneckCase(1, 8, 8, 4, 8, 4, (3, 3), (2, 2), (0, 0)),
    "k5x3_mixed": BottleneckCase(1, 10, 7, 3, 6, 5, (5, 3), (2, 1), (2, 1)),
    "stride_above_kernel": BottleneckCase(1, 9, 9, 4, 6, 3, (1, 1), (3, 3), (0, 0)),
    "kernel_above_input": BottleneckCase(1, 2, 3, 3, 6, 4, (5, 5), (1, 1), (2, 2)),
    "no_expand": BottleneckCase(1, 8, 6, 7, 7, 5, (3, 3), (1, 1), (1, 1), expand=False),
    "no_expand_s2_no_bias": BottleneckCase(
        2, 7, 9, 6, 6, 4, (3, 3), (2, 2), (1, 1), expand=False, bias=False
    ),
    "stem_k3_s2": BottleneckCase(
        1, 17, 15, 3, 8, 4, (3, 3), (1, 1), (1, 1), expand_kernel=(3, 3), expand_stride=(2, 2),
        expand_padding=(1, 1),
    ),
    "stem_unpadded_dropped_rows_batch2": BottleneckCase(
        2, 12, 10, 2, 6, 5, (3, 3), (2, 2), (1, 1), expand_kernel=(3, 3), expand_stride=(2, 2),
        bias=False,
    ),
    "expand_1x1_s2": BottleneckCase(1, 9, 8, 4, 6, 3, (3, 3), (1, 1), (1, 1), expand_stride=(2, 2)),
    "stem_k5x3_mixed": BottleneckCase(
        1, 13, 9, 3, 5, 4, (3, 5), (1, 2), (1, 2), expand_kernel=(5, 3), expand_stride=(2, 1),
        expand_padding=(2, 1),
    ),
}


@dataclass
class Stage:
    """One conv of the chain: weight, scales, bias, output quantization and clamp."""

    name: str
    weight: np.ndarray
    scales: np.ndarray
    bias: np.ndarray | None
    out_scale: float
    out_zp: int
    act: tuple[int, int]

    def params(self, in_scale: float) -> list[Param]:
        params = [Param(f"{self.name}.w", self.weight, self.scales)]
        if self.bias is not None:
            params.append(Param(f"{self.name}.b", self.bias, np.float32(self.scales) * np.float32(in_scale)))
        return params

    def refs(self) -> str:
        refs = f'@"{self.name}.w"'
        return refs + (f', @"{self.name}.b"' if self.bias is not None else "")


@dataclass
class Chain:
    case: BottleneckCase
    x: np.ndarray
    x_scale: float
    x_zp: int
    stages: list[Stage]  # [expand,] depthwise, project

    def types(self) -> list[str]:
        """Input type, then the output type of each stage."""
        case = self.case
        oh, ow = case.out_hw()
        shapes = [(case.n, *case.hidden_hw(), case.hidden)] if case.expand else []
        shapes += [(case.n, oh, ow, case.hidden), (case.n, oh, ow, case.o)]
        types = [qtype(self.x.shape, self.x_scale, self.x_zp)]
        return types + [qtype(s, st.out_scale, st.out_zp) for s, st in zip(shapes, self.stages, strict=True)]

    def params(self) -> list[Param]:
        scales = [self.x_scale] + [st.out_scale for st in self.stages]
        return [p for st, s in zip(self.stages, scales, strict=False) for p in st.params(s)]


def _output_scale(in_scale: float, w_scales: np.ndarray, taps: int, spread: float = 40.0) -> float:
    """An output scale that puts a typical accumulator at about +-`spread` LSB."""
    acc_std = math.sqrt(taps) * 74.0 * 45.0
    return float(np.float32(in_scale * float(np.mean(w_scales)) * acc_std / spread))


def _stage(rng: np.random.Generator, name: str, shape: tuple[int, ...], in_scale: float, bias: bool) -> Stage:
    weight = np.clip(np.rint(rng.normal(0.0, 45.0, size=shape)), -127, 127).astype(np.int8)
    scales = np.float32(rng.uniform(0.5, 2.0, size=shape[0]) / 128.0)
    taps = shape[1] * shape[2] * shape[3]
    out_scale = _output_scale(in_scale, scales, taps)
    out_zp = int(rng.integers(-30, 31))
    values = rng.integers(-3000, 3000, size=shape[0]).astype(np.int32) if bias else None
    act = (max(-128, out_zp - int(rng.integers(20, 200))), min(127, out_zp + int(rng.integers(60, 200))))
    return Stage(name, weight, scales, values, out_scale, out_zp, act)


def make_chain(case: BottleneckCase, seed: int) -> Chain:
    """Random int8 input, weights, biases and quantization of the chain of `case`."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=(case.n, case.h, case.w, case.c)).astype(np.int8)
    x_scale, x_zp = float(np.float32(rng.uniform(0.01, 0.05))), int(rng.integers(-40, 41))
    stages, scale = [], x_scale
    if case.expand:
        stages.append(_stage(rng, "expand", (case.hidden, *case.expand_kernel, case.c), scale, case.bias))
        scale = stages[-1].out_scale
    stages.append(_stage(rng, "depthwise", (case.hidden, *case.kernel, 1), scale, case.bias))
    stages.append(_stage(rng, "project", (case.o, 1, 1, case.hidden), stages[-1].out_scale, case.bias))
    return Chain(case, x, x_scale, x_zp, stages)


def chain_text(chain: Chain) -> list[str]:
    """The chain as three (or two) tt.conv2d from %x to %r (the oracle)."""
    case, types = chain.case, chain.types()
    geometry = [(case.expand_stride, case.expand_padding, 1)] if case.expand else []
    geometry += [(case.stride, case.padding, case.hidden), ((1, 1), (0, 0), 1)]
    names = ["x", "e", "d", "r"] if case.expand else ["x", "d", "r"]
    body = []
    for i, (stage, (stride, padding, groups)) in enumerate(zip(chain.stages, geometry, strict=True)):
        attrs = f"{conv_attrs(stride, padding, groups)}, {clamp_attrs(*stage.act)}"
        signature = f"{types[i]} -> {types[i + 1]}"
        body.append(f"%{names[i + 1]} = tt.conv2d %{names[i]}, {stage.refs()} {{{attrs}}} : {signature}")
    return body


def bottleneck_text(chain: Chain) -> list[str]:
    """The chain as one tt.bottleneck from %x to %r."""
    case, types, stages = chain.case, chain.types(), chain.stages
    head, attrs = "", []
    if case.expand:
        head = f"expand {stages[0].refs()} "
        attrs += [f"expanded_type = {types[1]}", f"expand_act = {i64_array(stages[0].act)}"]
        if case.has_strided_expand():
            attrs += [
                f"expand_stride = {i64_array(case.expand_stride)}",
                f"expand_padding = {i64_array(case.expand_padding)}",
            ]
    depthwise, project = stages[-2], stages[-1]
    attrs += [
        f"depthwise_type = {types[-2]}",
        f"depthwise_act = {i64_array(depthwise.act)}",
        f"project_act = {i64_array(project.act)}",
        f"stride = {i64_array(case.stride)}",
        f"padding = {i64_array(case.padding)}",
    ]
    refs = f"{head}depthwise {depthwise.refs()} project {project.refs()}"
    return [f"%r = tt.bottleneck %x {refs} {{{', '.join(attrs)}}} : {types[0]} -> {types[-1]}"]
