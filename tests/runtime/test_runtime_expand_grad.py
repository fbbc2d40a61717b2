"""tt_expand_depthwise_grad_input (runtime_c/src/tt_backward.c) against the chain it fuses.

Oracles, neither of them the fused kernel:
- the unfused chain in C: tt_conv2d_grad_input (depthwise), tt_mask_grad, tt_bias_update and
  tt_conv2d_grad_input (1x1), one call after the other: the fused kernel computes every float in
  their order, so input gradient, updated bias and RNG counter must be the same bits (with
  updates of about 2^29 steps, the updated bias shows every bit of the float32 bias gradient);
- the unfused chain in the reference interpreter (four tt ops): on "exact" data (small integer
  multiples of powers of two, power-of-two scales and learning rate, so that every float32 sum
  and product of the kernel is exact) bit for bit; on random data the input gradient within the
  backward tolerance (test_runtime_backward.py) and the bias within one step
  (test_runtime_update.py), the RNG counter exactly.
The interpreter's own tt.expand_depthwise_grad_input must equal its unfused chain bit for bit.
The plane of scratch is exactly tt_expand_depthwise_grad_input_scratch_size bytes of garbage,
and that size must equal the compiler's scratch_bytes of the op.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from cdriver import KernelDriver, conv_shape
from irbuild import Param, assert_grad_close, build_and_run, conv_attrs, ftype, function, module_text, parse
from oracle import Sgd
from test_runtime_update import assert_update_close, lr_for, sgd_args

from passes.memory.liveness import scratch_bytes
from ttdialect import dialect as tt
from ttdialect.dialect import conv_output_size

RTOL = 2e-6  # as test_runtime_backward.py
COUNTER = 0xFFFFFFF0  # wraps around during the update


@dataclass(frozen=True)
class Geometry:
    """The depthwise conv [n, h, w, c] -> [n, ho, wo, c] and the 1x1 expand conv c_in -> c."""

    n: int
    h: int
    w: int
    c: int
    c_in: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]

    @property
    def expanded(self) -> tuple[int, int, int, int]:
        return (self.n, self.h, self.w, self.c)

    @property
    def out(self) -> tuple[int, int, int, int]:
        ho = conv_output_size(self.h, self.kernel[0], self.stride[0], self.padding[0])
        wo = conv_output_size(self.w, self.kernel[1], self.stride[1], self.padding[1])
        return (self.n, ho, wo, self.c)

    @property
    def grad_input(self) -> tuple[int, int, int, int]:
        return (self.n, self.h, self.w, self.c_in)

    def depthwise_shape(self) -> np.ndarray:
        return conv_shape(self.expanded, self.out, self.kernel, self.stride, self.padding, self.c)

    def expand_shape(self) -> np.ndarray:
        return conv_shape(self.grad_input, self.expanded, (1, 1), (1, 1), (0, 0), 1)


GEOMETRIES = {
    "mbv2_block_s2": Geometry(1, 16, 16, 12, 4, (3, 3), (2, 2), (1, 1)),
    "s1_batch2": Geometry(2, 6, 7, 5, 3, (3, 3), (1, 1), (1, 1)),
    "k5_s2_p2": Geometry(1, 9, 10, 6, 2, (5, 5), (2, 2), (2, 2)),
    "k7_s1_p3": Geometry(1, 8, 8, 4, 5, (7, 7), (1, 1), (3, 3)),
    "s2_p0_dropped": Geometry(1, 8, 8, 3, 2, (3, 3), (2, 2), (0, 0)),
}
UPDATES = [None, (-1, "stochastic"), (0, "nearest"), (1, "truncate")]
"""No bias update, or (power, rounding) of the fused bias update."""


@dataclass
class Problem:
    geometry: Geometry
    grad_output: np.ndarray
    mask: np.ndarray  # bool, the expanded shape
    dw: Param
    ew: Param
    bias: Param | None
    power: int
    sgd: Sgd

    def mask_bytes(self) -> np.ndarray:
        return np.packbits(self.mask.reshape(-1), bitorder="little").view(np.int8)


def make_problem(name: str, update: tuple[int, str] | None, exact: bool, steps: float = 2.5) -> Problem:
    geometry = GEOMETRIES[name]
    rng = np.random.default_rng([list(GEOMETRIES).index(name), UPDATES.index(update), int(exact)])
    c = geometry.c
    if exact:  # every sum and product of the kernel is exact in float32 (see the module docstring)
        g = rng.integers(-4, 5, size=geometry.out) * 2.0**-8
        weights = [
            rng.integers(-15, 16, size=shape)
            for shape in ((c, *geometry.kernel, 1), (c, 1, 1, geometry.c_in))
        ]
        scales = [2.0 ** -rng.integers(6, 8, size=c) for _ in range(3)]
    else:
        g = rng.normal(0.0, 1e-2, size=geometry.out)
        weights = [
            np.clip(np.rint(rng.normal(0, 45, size=shape)), -127, 127)
            for shape in ((c, *geometry.kernel, 1), (c, 1, 1, geometry.c_in))
        ]
        scales = [rng.uniform(0.5, 2.0, size=c) / 64.0 for _ in range(2)] + [rng.uniform(1e-5, 1e-4, size=c)]
    g[rng.random(g.shape) < 0.3] = 0.0
    mask = rng.random(geometry.expanded) < 0.7
    dw = Param("dw", weights[0].astype(np.int8), np.float32(scales[0]))
    ew = Param("ew", weights[1].astype(np.int8), np.float32(scales[1]))
    bias = None
    power, sgd = 0, Sgd(1.0, 1.0, "stochastic")
    if update is not None:
        power, rounding = update
        bias = Param("eb", rng.integers(-5000, 5000, size=c).astype(np.int32), np.float32(scales[2]))
    problem = Problem(geometry, g.astype(np.float32), mask, dw, ew, bias, power, sgd)
    if update is not None:
        problem.sgd = Sgd(_learning_rate(problem, exact, steps), 1.0, rounding)
    return problem


def _learning_rate(problem: Problem, exact: bool, steps: float) -> float:
    """About `steps` integer steps per bias update (a power of two for exact data)."""
    (grad,), _ = interpreter_chain(problem, with_update=False)
    assert problem.bias is not None
    bias_grad = grad.astype(np.float64).reshape(-1, problem.geometry.c).sum(axis=0)
    scaled = bias_grad * problem.bias.scales.astype(np.float64) ** problem.power
    lr = lr_for(scaled.astype(np.float32), steps)
    return float(2.0 ** np.round(np.log2(lr))) if exact else lr


# --------------------------------------------------------------------------- the oracles


def interpreter_chain(problem: Problem, with_update: bool = True):
    """(masked gradient or input gradient, state) of the unfused chain in the interpreter; with
    with_update=False the masked expanded gradient %b (to choose a learning rate)."""
    geometry = problem.geometry
    gt, mt, bt, rt = (
        ftype(geometry.out),
        _mask_type(geometry),
        ftype(geometry.expanded),
        ftype(geometry.grad_input),
    )
    body = [
        f'%a = tt.conv2d_grad_input %g, @"dw" {{{_depthwise_attrs(geometry)}}} : {gt} -> {bt}',
        f"%b = tt.mask_grad %a, %m : {bt}, {mt} -> {bt}",
    ]
    if with_update and problem.bias is not None:
        body.append(
            f'tt.bias_update @"eb", %b, %lr {{power = {problem.power} : i64, {problem.sgd.attrs()}}} : {bt}'
        )
    body.append(f'%r = tt.conv2d_grad_input %b, @"ew" {{{conv_attrs((1, 1), (0, 0), 1)}}} : {bt} -> {rt}')
    result = ("r", rt) if with_update else ("b", bt)
    return build_and_run(
        _params(problem), _args(geometry), body, [result], _inputs(problem), rng_counter=COUNTER
    )


def interpreter_fused(problem: Problem):
    """(input gradient,), state of the interpreter's tt.expand_depthwise_grad_input."""
    return build_and_run(
        _params(problem),
        _args(problem.geometry),
        [_fused_text(problem)],
        [("r", ftype(problem.geometry.grad_input))],
        _inputs(problem),
        rng_counter=COUNTER,
    )


def compiler_scratch_bytes(problem: Problem) -> int:
    text = module_text(
        _params(problem),
        [
            function(
                "f",
                _args(problem.geometry),
                [_fused_text(problem)],
                [("r", ftype(problem.geometry.grad_input))],
            )
        ],
    )
    return scratch_bytes(
        next(op for op in parse(text).walk() if isinstance(op, tt.ExpandDepthwiseGradInputOp))
    )


def _fused_text(problem: Problem) -> str:
    geometry = problem.geometry
    attrs = f"stride = {_array(geometry.stride)}, padding = {_array(geometry.padding)}"
    update = ""
    if problem.bias is not None:
        update = ' bias_update @"eb", %lr'
        attrs += f", power = {problem.power} : i64, {problem.sgd.attrs()}"
    types = f"{ftype(geometry.out)}, {_mask_type(geometry)} -> {ftype(geometry.grad_input)}"
    weights = 'depthwise @"dw" expand @"ew"'
    return f"%r = tt.expand_depthwise_grad_input %g, %m {weights}{update} {{{attrs}}} : {types}"


def _depthwise_attrs(geometry: Geometry) -> str:
    return conv_attrs(geometry.stride, geometry.padding, geometry.c)


def _array(values: tuple[int, int]) -> str:
    return f"array<i64: {values[0]}, {values[1]}>"


def _mask_type(geometry: Geometry) -> str:
    return ftype(geometry.expanded).replace("xf32>", "xi1>")


def _params(problem: Problem) -> list[Param]:
    return [problem.dw, problem.ew] + ([problem.bias] if problem.bias is not None else [])


def _args(geometry: Geometry) -> list[tuple[str, str]]:
    return [("g", ftype(geometry.out)), ("m", _mask_type(geometry)), ("lr", "f32")]


def _inputs(problem: Problem) -> list:
    return [problem.grad_output, problem.mask, problem.sgd.lr]


def c_unfused(driver: KernelDriver, problem: Problem) -> tuple[np.ndarray, np.ndarray | None, int]:
    """(input gradient, bias, counter) of the four unfused kernels, one after the other."""
    geometry, dw, ew = problem.geometry, problem.dw, problem.ew
    nan = np.float32(np.nan)
    a = driver.call(
        "conv2d_grad_input",
        geometry.depthwise_shape(),
        problem.grad_output,
        dw.value,
        dw.scales,
        np.full(geometry.expanded, nan),
    )[4]
    b = driver.call("mask_grad", a, problem.mask_bytes(), np.full(geometry.expanded, nan))[2]
    bias, counter = None, COUNTER
    if problem.bias is not None:
        args = [
            geometry.c,
            b,
            problem.bias.scales,
            problem.power,
            *sgd_args(problem.sgd, COUNTER),
            problem.bias.value.copy(),
        ]
        out = driver.call("bias_update", *args)
        bias, counter = out[8], int(out[7][0])
    dx = driver.call(
        "conv2d_grad_input",
        geometry.expand_shape(),
        b,
        ew.value,
        ew.scales,
        np.full(geometry.grad_input, nan),
    )[4]
    return dx, bias, counter


def c_fused(driver: KernelDriver, problem: Problem) -> tuple[np.ndarray, np.ndarray | None, int, int]:
    """(input gradient, bias, counter, scratch bytes) of tt_expand_depthwise_grad_input."""
    geometry, dw, ew, bias = problem.geometry, problem.dw, problem.ew, problem.bias
    out = driver.call(
        "expand_depthwise_grad_input",
        geometry.depthwise_shape(),
        geometry.expand_shape(),
        problem.grad_output,
        problem.mask_bytes(),
        dw.value,
        dw.scales,
        ew.value,
        ew.scales,
        None if bias is None else bias.value.copy(),
        None if bias is None else bias.scales,
        problem.power,
        *sgd_args(problem.sgd, COUNTER),
        np.full(geometry.grad_input, np.nan, np.float32),
        np.zeros(1, np.int32),
    )
    return out[15], None if bias is None else out[8], int(out[14][0]), int(out[16][0])


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("update", UPDATES, ids=lambda u: "no_bias" if u is None else f"power{u[0]}_{u[1]}")
@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_fused_kernel_is_the_unfused_chain(driver: KernelDriver, name: str, update) -> None:
    """Random data: the unfused C kernels' bits; the interpreter's chain within tolerance."""
    problem = make_problem(name, update, exact=False)
    dx, bias, counter, scratch = c_fused(driver, problem)
    unfused_dx, unfused_bias, unfused_counter = c_unfused(driver, problem)
    np.testing.assert_array_equal(dx, unfused_dx)
    assert counter == unfused_counter
    assert (
        scratch
        == compiler_scratch_bytes(problem)
        == 4 * problem.geometry.n * problem.geometry.h * problem.geometry.w
    )

    (expected,), state = interpreter_chain(problem)
    assert_grad_close(dx, expected, rtol=RTOL)
    assert np.abs(expected).max() > 0 and (dx != 0).mean() > 0.3
    assert counter == state.rng_counter
    (fused,), fused_state = interpreter_fused(problem)
    np.testing.assert_array_equal(fused, expected)
    assert fused_state.rng_counter == state.rng_counter and fused_state.values.keys() == state.values.keys()
    assert all(np.array_equal(fused_state.values[k], v) for k, v in state.values.items())
    if problem.bias is None:
        assert counter == COUNTER and bias is None
        return
    np.testing.assert_array_equal(bias, unfused_bias)
    assert_update_close(bias, state.value("eb"), problem.bias.value)
    drawn = problem.geometry.c if problem.sgd.rounding == "stochastic" else 0
    assert counter == (COUNTER + drawn) % 2**32


@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_bias_gradient_bits(driver: KernelDriver, name: str) -> None:
    """Updates of about 2^29 steps, whose integer step shows every bit of the float32 bias
    gradient (one ulp of the delta is dozens of steps): the unfused kernels' bits."""
    problem = make_problem(name, (-1, "stochastic"), exact=False, steps=2.0**29)
    _, bias, _, _ = c_fused(driver, problem)
    _, unfused_bias, _ = c_unfused(driver, problem)
    assert problem.bias is not None and np.abs(bias - problem.bias.value).min() > 2**20
    np.testing.assert_array_equal(bias, unfused_bias)


@pytest.mark.parametrize("update", UPDATES, ids=lambda u: "no_bias" if u is None else f"power{u[0]}_{u[1]}")
@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_fused_kernel_is_the_interpreter_chain_on_exact_data(driver: KernelDriver, name: str, update) -> None:
    """Exact data: C and the interpreter's unfused chain agree bit for bit, and so does the
    interpreter's fused op."""
    problem = make_problem(name, update, exact=True)
    dx, bias, counter, _ = c_fused(driver, problem)
    (expected,), state = interpreter_chain(problem)
    np.testing.assert_array_equal(dx, expected)
    assert np.abs(expected).max() > 0
    assert counter == state.rng_counter
    (fused,), fused_state = interpreter_fused(problem)
    np.testing.assert_array_equal(fused, expected)
    assert fused_state.rng_counter == state.rng_counter
    if problem.bias is not None:
        assert bias is not None
        np.testing.assert_array_equal(bias, state.value("eb"))
        np.testing.assert_array_equal(fused_state.value("eb"), state.value("eb"))
        assert (bias != problem.bias.value).mean() > 0.3
