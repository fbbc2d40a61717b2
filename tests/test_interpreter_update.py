"""tt.sgd_update and tt.scale_grad against independent oracles.

sgd_update (docs/numerics.md): delta = lr * grad_scale * grad, grad being the gradient w.r.t. the
stored integers; param = saturate(param - round(delta)). nearest / truncate are checked exactly,
stochastic rounding statistically (unbiased) and for reproducibility from the RNG counter.
scale_grad multiplies row o of a gradient by scale[o]**power; the chain
scale_grad(power=1) -> scale_grad(power=-2) -> sgd_update gives the QAS step lr*grad/scale[o].
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from irbuild import Param, f32, ftype, function, module_text, parse, write_weights

from ttdialect.interpreter import ParamState, run_function
from ttdialect.weights import WeightStore

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


# --------------------------------------------------------------------------- helpers


def update_module(
    param: Param,
    grad_shape: tuple[int, ...],
    rounding: str,
    grad_scale: float,
    channels: list[int] | None = None,
    axis: int | None = None,
    repeats: int = 1,
    weights: str | None = None,
) -> str:
    attrs = f'grad_scale = {grad_scale!r} : f32, rounding = "{rounding}"'
    if channels is not None:
        attrs += (
            ", channels = array<i64: "
            + ", ".join(str(c) for c in channels)
            + f">, channel_axis = {axis} : i64"
        )
    gt = ftype(grad_shape)
    body = [f'tt.sgd_update @"{param.name}", %g, %lr {{{attrs}}} : {gt}'] * repeats
    return module_text([param], [function("f", [("g", gt), ("lr", "f32")], body)], weights)


def run_update(text: str, grad: np.ndarray, lr: float, base_dir=".", counter: int = 0, state=None):
    module = parse(text)
    if state is None:
        state = ParamState(WeightStore(module, Path(base_dir)), rng_counter=counter)
    results = run_function(module, "f", [grad, lr], state.store.base_dir, state)
    assert results == ()
    return state


def expected_delta(grad: np.ndarray, lr: float, grad_scale: float) -> np.ndarray:
    """delta[i] = lr * grad_scale * grad[i], in float64, element by element."""
    out = np.empty(grad.shape, dtype=np.float64)
    for index in np.ndindex(grad.shape):
        out[index] = lr * grad_scale * float(grad[index])
    return out


def oracle_step(delta: np.ndarray, rounding: str) -> np.ndarray:
    if rounding == "nearest":
        return np.vectorize(lambda d: math.floor(d + 0.5), otypes=[np.int64])(delta)
    assert rounding == "truncate"
    return np.vectorize(lambda d: math.trunc(d), otypes=[np.int64])(delta)


def oracle_apply(value: np.ndarray, index, step: np.ndarray) -> np.ndarray:
    lo, hi = (-127, 127) if value.dtype == np.int8 else (INT32_MIN, INT32_MAX)
    out = value.astype(np.int64)
    out[index] = np.clip(out[index] - step, lo, hi)
    return out.astype(value.dtype)


def make_grad(rng, shape, lr, grad_scale, spread=4.0) -> np.ndarray:
    """A float32 gradient whose deltas are a few integer units with random fractions."""
    return (rng.uniform(-spread, spread, size=shape) / (lr * grad_scale)).astype(np.float32)


# --------------------------------------------------------------------------- nearest / truncate


@pytest.mark.parametrize("rounding", ["nearest", "truncate"])
@pytest.mark.parametrize(
    ("seed", "shape", "dtype", "lr", "grad_scale"),
    [
        (1, (6, 3, 3, 4), np.int8, 0.01, 1.0),
        (2, (5, 7), np.int8, 0.125, 0.5),
        (3, (8,), np.int32, 0.05, 2.0),
        (4, (4, 1, 1, 9), np.int8, 0.3, 0.25),
    ],
)
def test_sgd_update_deterministic_rounding(rounding, seed, shape, dtype, lr, grad_scale) -> None:
    rng = np.random.default_rng(seed)
    lr = f32(lr)
    if dtype == np.int8:
        value = rng.integers(-100, 101, size=shape).astype(np.int8)
    else:
        value = rng.integers(-100000, 100000, size=shape).astype(np.int32)
    # the parameter's scales must not enter the update (grad is w.r.t. the stored integers)
    scales = np.float32(rng.uniform(0.001, 0.02, size=shape[0]))
    grad = make_grad(rng, shape, lr, grad_scale)
    param = Param("p", value, scales)
    state = run_update(update_module(param, shape, rounding, grad_scale), grad, lr)

    delta = expected_delta(grad, lr, grad_scale)
    expected = oracle_apply(value, (slice(None),) * len(shape), oracle_step(delta, rounding))
    got = state.value("p")
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected)
    assert (got != value).mean() > 0.5


@pytest.mark.parametrize("rounding", ["nearest", "truncate"])
def test_sgd_update_ties_and_signs(rounding) -> None:
    """Exactly representable deltas: nearest rounds halves up (towards +inf), truncate towards 0."""
    deltas = np.array([2.5, -2.5, 0.5, -0.5, 1.5, -1.5, 0.49, -0.51, 3.0, -3.0, 0.0, 7.75])
    lr, grad_scale = 0.5, 2.0
    grad = (deltas / (lr * grad_scale)).astype(np.float32).reshape(1, -1)
    value = np.zeros((1, deltas.size), dtype=np.int8)
    param = Param("w", value, np.float32([0.25]))
    state = run_update(update_module(param, grad.shape, rounding, grad_scale), grad, lr)
    if rounding == "nearest":
        steps = [3, -2, 1, 0, 2, -1, 0, -1, 3, -3, 0, 8]
    else:
        steps = [2, -2, 0, 0, 1, -1, 0, 0, 3, -3, 0, 7]
    np.testing.assert_array_equal(state.value("w"), -np.array([steps]))


@pytest.mark.parametrize("rounding", ["nearest", "truncate"])
@pytest.mark.parametrize(
    ("shape", "dtype", "axis", "channels"),
    [
        ((6, 3, 3, 4), np.int8, 0, [1, 4]),
        ((6, 3, 3, 4), np.int8, 3, [0, 2, 3]),
        ((5, 3, 3, 1), np.int8, 0, [0, 1, 2, 3, 4]),
        ((5, 8), np.int8, 1, [2, 7]),
        ((9,), np.int32, 0, [0, 3, 8]),
    ],
)
def test_sgd_update_channel_subset(rounding, shape, dtype, axis, channels, tmp_path) -> None:
    """grad covers only `channels` of `channel_axis` (external weights file); the rest is untouched."""
    rng = np.random.default_rng(len(shape) * 10 + axis)
    lr, grad_scale = f32(0.02), 1.0
    if dtype == np.int8:
        value = rng.integers(-90, 91, size=shape).astype(np.int8)
    else:
        value = rng.integers(-(10**6), 10**6, size=shape).astype(np.int32)
    scales = np.float32(rng.uniform(0.001, 0.01, size=shape[0]))
    grad_shape = list(shape)
    grad_shape[axis] = len(channels)
    grad = make_grad(rng, tuple(grad_shape), lr, grad_scale)
    param = Param("p", value, scales, external=True)
    write_weights(tmp_path / "w.npz", [param])
    text = update_module(param, tuple(grad_shape), rounding, grad_scale, channels, axis, weights="w.npz")
    state = run_update(text, grad, lr, base_dir=tmp_path)

    index = [slice(None)] * len(shape)
    index[axis] = channels
    expected = oracle_apply(value, tuple(index), oracle_step(expected_delta(grad, lr, grad_scale), rounding))
    got = state.value("p")
    np.testing.assert_array_equal(got, expected)
    untouched = np.ones(shape, dtype=bool)
    untouched[tuple(index)] = False
    np.testing.assert_array_equal(got[untouched], value[untouched])
    assert (got[tuple(index)] != value[tuple(index)]).mean() > 0.3


@pytest.mark.parametrize("rounding", ["nearest", "truncate", "stochastic"])
def test_sgd_update_saturates_int8_weights(rounding) -> None:
    value = np.array([[120, -120, 127, -127, 126, -126, 0, 5]], dtype=np.int8)
    deltas = np.array([-20.0, 20.0, -1.0, 1.0, -300.0, 300.0, -1000.0, 2.0])
    grad = (deltas * 0.5).astype(np.float32).reshape(1, -1)
    state = run_update(
        update_module(Param("w", value, np.float32([0.5])), grad.shape, rounding, 1.0), grad, 2.0
    )
    # never -128: int8 weights saturate to the symmetric range [-127, 127]
    np.testing.assert_array_equal(state.value("w"), [[127, -127, 127, -127, 127, -127, 127, 3]])


@pytest.mark.parametrize("rounding", ["nearest", "truncate", "stochastic"])
def test_sgd_update_saturates_int32_biases(rounding) -> None:
    value = np.array([INT32_MAX - 3, INT32_MIN + 3, INT32_MAX, 0, 7], dtype=np.int32)
    deltas = np.array([-10.0, 10.0, 5.0, -4e12, 4e12])
    scales = np.float32([1.0 / 1024] * 5)
    grad = (deltas / 1024).astype(np.float32)
    state = run_update(update_module(Param("b", value, scales), grad.shape, rounding, 1.0), grad, 1024.0)
    got = state.value("b")
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, [INT32_MAX, INT32_MIN, INT32_MAX - 5, INT32_MAX, INT32_MIN])


def test_sgd_update_sequential_updates_accumulate() -> None:
    """Three updates in one function apply in order to the same parameter."""
    value = np.array([[10, -10, 0]], dtype=np.int8)
    grad = np.array([[1.0, -2.0, 0.5]], dtype=np.float32)  # delta = [1, -2, 0.5]
    text = update_module(Param("w", value, np.float32([0.125])), grad.shape, "nearest", 1.0, repeats=3)
    state = run_update(text, grad, 1.0)
    np.testing.assert_array_equal(state.value("w"), [[7, -4, -3]])


def test_sgd_update_lr_from_arith_constant_and_unscaled_param() -> None:
    """lr from an arith.constant; a parameter without scales can be updated."""
    value = np.zeros((2, 2), dtype=np.int8)
    gt = ftype((2, 2))
    body = [
        "%lr = arith.constant 2.0 : f32",
        f'tt.sgd_update @"w", %g, %lr {{grad_scale = 0.5 : f32, rounding = "truncate"}} : {gt}',
    ]
    text = module_text([], [function("f", [("g", gt)], body)])
    text = text.replace(
        "builtin.module {",
        'builtin.module {\n  tt.param @"w" : tensor<2x2xi8> = ' + "dense<0> : tensor<2x2xi8>",
        1,
    )
    module = parse(text)
    state = ParamState(WeightStore(module, Path(".")))
    run_function(module, "f", [np.array([[2.0, -2.6], [1.2, -2.8]], dtype=np.float32)], Path("."), state)
    # delta = 2 * 0.5 * g -> truncate [[2, -2], [1, -2]]
    np.testing.assert_array_equal(state.value("w"), -np.array([[2, -2], [1, -2]]) + value)


# --------------------------------------------------------------------------- scale_grad


def scale_grad_oracle(grad: np.ndarray, scales: np.ndarray, power: int, rows: list[int] | None) -> np.ndarray:
    """g[o, ...] * s[o]**power in float64, rounded to float32 (rows: the output channels kept)."""
    s = scales.astype(np.float64)
    if rows is not None:
        s = s[rows]
    out = np.empty(grad.shape, dtype=np.float64)
    for index in np.ndindex(grad.shape):
        out[index] = float(grad[index]) * float(s[index[0]]) ** power
    return out.astype(np.float32)


@pytest.mark.parametrize("power", [1, -1, -2, 2])
@pytest.mark.parametrize(
    ("shape", "dtype", "rows"),
    [
        ((6, 3, 3, 4), np.int8, None),
        ((6, 3, 3, 4), np.int8, [0, 2, 5]),
        ((7, 5), np.int8, [3]),
        ((9,), np.int32, None),
        ((9,), np.int32, [1, 8]),
    ],
)
def test_scale_grad(power, shape, dtype, rows) -> None:
    rng = np.random.default_rng(abs(power) * 100 + len(shape))
    scales = np.float32(rng.uniform(0.001, 0.05, size=shape[0]))
    value = np.zeros(shape, dtype=dtype)
    gshape = (len(rows),) + shape[1:] if rows is not None else shape
    grad = rng.normal(size=gshape).astype(np.float32)
    attrs = f"power = {power} : i64"
    if rows is not None:
        attrs += ", channels = array<i64: " + ", ".join(str(r) for r in rows) + ">"
    gt = ftype(gshape)
    body = [f'%s = tt.scale_grad %g, @"p" {{{attrs}}} : {gt}']
    text = module_text([Param("p", value, scales)], [function("f", [("g", gt)], body, [("s", gt)])])
    module = parse(text)
    (got,) = run_function(module, "f", [grad], Path("."))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, scale_grad_oracle(grad, scales, power, rows), rtol=1e-6)


@pytest.mark.parametrize("rounding", ["nearest", "truncate"])
@pytest.mark.parametrize(("axis", "channels"), [(None, None), (0, [1, 3]), (3, [0, 2])])
def test_qas_chain_gives_float_sgd_step(rounding, axis, channels) -> None:
    """real-unit grad -> scale_grad(1) -> scale_grad(-2) -> sgd_update moves the stored integer by
    round(lr * grad_scale * grad_real / scale[o]): the float SGD step in integer units."""
    rng = np.random.default_rng(31 + (axis or 0))
    shape = (5, 3, 3, 4)
    value = rng.integers(-60, 61, size=shape).astype(np.int8)
    scales = np.float32(rng.uniform(0.002, 0.02, size=shape[0]))
    lr, grad_scale = f32(0.05), 0.5
    gshape = list(shape)
    if axis is not None:
        gshape[axis] = len(channels)
    rows = channels if axis == 0 else None
    row_scales = (scales if rows is None else scales[rows]).astype(np.float64)
    target = rng.uniform(-4, 4, size=gshape)
    g_real = (target * row_scales.reshape(-1, 1, 1, 1) / (lr * grad_scale)).astype(np.float32)

    gt = ftype(gshape)
    ch = "" if rows is None else ", channels = array<i64: " + ", ".join(map(str, rows)) + ">"
    upd = f'grad_scale = {grad_scale} : f32, rounding = "{rounding}"'
    if axis is not None:
        upd += ", channels = array<i64: " + ", ".join(map(str, channels)) + f">, channel_axis = {axis} : i64"
    body = [
        f'%gq = tt.scale_grad %g, @"w" {{power = 1 : i64{ch}}} : {gt}',
        f'%gs = tt.scale_grad %gq, @"w" {{power = -2 : i64{ch}}} : {gt}',
        f'tt.sgd_update @"w", %gs, %lr {{{upd}}} : {gt}',
    ]
    text = module_text([Param("w", value, scales)], [function("f", [("g", gt), ("lr", "f32")], body)])
    state = run_update(text, g_real, lr)

    g1 = scale_grad_oracle(g_real, scales, 1, rows)
    g2 = scale_grad_oracle(g1, scales, -2, rows)
    step = oracle_step(expected_delta(g2, lr, grad_scale), rounding)
    index = [slice(None)] * 4
    if axis is not None:
        index[axis] = channels
    expected = oracle_apply(value, tuple(index), step)
    np.testing.assert_array_equal(state.value("w"), expected)
    # and the same as the float-SGD formula computed directly, away from rounding boundaries
    direct = np.empty(g_real.shape)
    for i in np.ndindex(g_real.shape):
        direct[i] = lr * grad_scale * float(g_real[i]) / float(row_scales[i[0]])
    boundary = 0.5 if rounding == "nearest" else 0.0
    far = np.abs((direct - boundary) - np.round(direct - boundary)) > 1e-4
    np.testing.assert_array_equal(step[far], oracle_step(direct, rounding)[far])
    assert far.mean() > 0.99


# --------------------------------------------------------------------------- stochastic


def _stochastic_setup(seed: int, spread: float):
    rng = np.random.default_rng(seed)
    shape = (4, 2, 2, 16)
    lr, grad_scale = f32(0.01), 1.0
    grad = make_grad(rng, shape, lr, grad_scale, spread=spread)
    param = Param("w", np.zeros(shape, dtype=np.int8), np.float32(rng.uniform(0.001, 0.01, size=shape[0])))
    delta = expected_delta(grad, lr, grad_scale)
    return update_module(param, shape, "stochastic", grad_scale), grad, lr, delta


def test_stochastic_rounding_unbiased_over_seeds() -> None:
    text, grad, lr, delta = _stochastic_setup(1, 3.0)
    module = parse(text)
    runs = 200
    steps = np.empty((runs,) + delta.shape)
    for r in range(runs):
        state = ParamState(WeightStore(module, Path(".")), rng_counter=(r * 7919 + 13) * 1024)
        run_function(module, "f", [grad, lr], Path("."), state)
        steps[r] = -state.value("w").astype(np.float64)
    # every step is floor(delta) or ceil(delta)
    assert ((steps == np.floor(delta)) | (steps == np.ceil(delta))).all()
    frac = delta - np.floor(delta)
    # per element: the mean over runs is delta within 5 standard errors
    stderr = np.sqrt(np.maximum(frac * (1 - frac), 1e-3) / runs)
    assert (np.abs(steps.mean(axis=0) - delta) <= 5 * stderr + 1e-9).all()
    # overall: no bias
    assert abs((steps - delta).mean()) < 4 * 0.5 / math.sqrt(steps.size)
    # and it really is random: elements with a fractional delta take both values
    mixed = (steps.min(axis=0) != steps.max(axis=0)) | (np.minimum(frac, 1 - frac) < 0.02)
    assert mixed.mean() > 0.95


def test_stochastic_rounding_unbiased_over_steps() -> None:
    """Many updates with one ParamState (the counter advances): total step ~ steps * delta.

    Small deltas (|delta| < 0.45) that nearest rounding would drop entirely."""
    text, grad, lr, delta = _stochastic_setup(2, 0.45)
    module = parse(text)
    state = ParamState(WeightStore(module, Path(".")), rng_counter=12345)
    steps = 200
    for _ in range(steps):
        run_function(module, "f", [grad, lr], Path("."), state)
    total = -state.value("w").astype(np.float64)
    assert np.abs(total).max() < 127  # no saturation involved
    frac = delta - np.floor(delta)
    stderr = np.sqrt(np.maximum(frac * (1 - frac), 1e-3) * steps)
    assert (np.abs(total - steps * delta) <= 5 * stderr).all()
    assert abs((total - steps * delta).sum()) < 4 * 0.5 * math.sqrt(steps * delta.size)


def test_stochastic_rounding_reproducible_from_counter() -> None:
    text, grad, lr, delta = _stochastic_setup(3, 3.0)
    module = parse(text)

    def once(counter: int) -> tuple[np.ndarray, int]:
        state = ParamState(WeightStore(module, Path(".")), rng_counter=counter)
        run_function(module, "f", [grad, lr], Path("."), state)
        return state.value("w").copy(), state.rng_counter

    a, ca = once(1000)
    b, cb = once(1000)
    c, _ = once(1001)
    d, _ = once(5_000_000)
    np.testing.assert_array_equal(a, b)
    # documented: an update of n elements advances the counter by n
    assert ca == cb == 1000 + delta.size
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, d)
    # a counter near 2**32 wraps around (uint32) instead of failing
    e, ce = once(2**32 - 5)
    assert ce == delta.size - 5
    assert ((-e == np.floor(delta)) | (-e == np.ceil(delta))).all()


def test_stochastic_rounding_integer_deltas_are_exact() -> None:
    value = np.zeros((2, 4), dtype=np.int8)
    deltas = np.array([[2.0, -3.0, 0.0, 1.0], [-1.0, 4.0, 10.0, -7.0]])
    grad = deltas.astype(np.float32)
    for counter in (0, 1, 99, 2**31):
        state = run_update(
            update_module(Param("w", value, np.float32([0.5, 0.25])), grad.shape, "stochastic", 1.0),
            grad,
            1.0,
            counter=counter,
        )
        np.testing.assert_array_equal(state.value("w"), -deltas)


def test_stochastic_rounding_channel_subset_leaves_other_channels() -> None:
    rng = np.random.default_rng(9)
    shape = (6, 3, 3, 4)
    value = rng.integers(-50, 51, size=shape).astype(np.int8)
    scales = np.float32(rng.uniform(0.001, 0.01, size=6))
    channels = [0, 5]
    grad = make_grad(rng, (2, 3, 3, 4), f32(0.1), 1.0, spread=2.0)
    text = update_module(Param("w", value, scales), grad.shape, "stochastic", 1.0, channels, 0)
    state = run_update(text, grad, f32(0.1), counter=77)
    got = state.value("w")
    np.testing.assert_array_equal(got[1:5], value[1:5])
    delta = expected_delta(grad, f32(0.1), 1.0)
    step = value[channels].astype(np.int64) - got[channels]
    assert ((step == np.floor(delta)) | (step == np.ceil(delta))).all()
    assert state.rng_counter == 77 + grad.size


def _ref_uniform(k: int) -> float:
    """u(k) = hash32(k) / 2**32 with the documented xorshift-multiply mix, in Python ints."""
    x = k & 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    x ^= x >> 16
    return x / 2**32


@pytest.mark.parametrize(("axis", "channels"), [(None, None), (0, [1, 2]), (3, [0, 3])])
def test_stochastic_rounding_exact_counter_schedule(axis, channels) -> None:
    """docs/numerics.md: an update of n elements uses u(counter) .. u(counter + n - 1) in row-major
    order of its gradient, then advances the counter by n; two updates in a row share one counter."""
    rng = np.random.default_rng(55)
    shape = (4, 2, 2, 5)
    w = rng.integers(-60, 61, size=shape).astype(np.int8)
    b = rng.integers(-1000, 1000, size=4).astype(np.int32)
    gshape = list(shape)
    if axis is not None:
        gshape[axis] = len(channels)
    lr = f32(0.25)
    gw = make_grad(rng, tuple(gshape), lr, 1.0, spread=3.0)
    gb = make_grad(rng, (4,), lr, 2.0, spread=3.0)
    wt, bt = ftype(gshape), ftype((4,))
    extra = (
        ""
        if axis is None
        else (", channels = array<i64: " + ", ".join(map(str, channels)) + f">, channel_axis = {axis} : i64")
    )
    body = [
        f'tt.sgd_update @"w", %gw, %lr {{grad_scale = 1.0 : f32, rounding = "stochastic"{extra}}} : {wt}',
        f'tt.sgd_update @"b", %gb, %lr {{grad_scale = 2.0 : f32, rounding = "stochastic"}} : {bt}',
    ]
    params = [Param("w", w, np.float32([0.01] * 4)), Param("b", b, np.float32([0.001] * 4))]
    text = module_text(params, [function("f", [("gw", wt), ("gb", bt), ("lr", "f32")], body)])
    module = parse(text)
    start = 2**32 - 30  # the schedule wraps around 2**32 in the middle of the first update
    state = ParamState(WeightStore(module, Path(".")), rng_counter=start)
    run_function(module, "f", [gw, gb, lr], Path("."), state)

    counter = start
    dw = expected_delta(gw, lr, 1.0)
    step_w = np.empty(dw.shape, dtype=np.int64)
    for i, index in enumerate(np.ndindex(dw.shape)):
        step_w[index] = math.floor(dw[index] + _ref_uniform(counter + i))
    counter += dw.size
    db = expected_delta(gb, lr, 2.0)
    step_b = np.array([math.floor(db[i] + _ref_uniform(counter + i)) for i in range(4)])
    counter += db.size

    index = [slice(None)] * 4
    if axis is not None:
        index[axis] = channels
    np.testing.assert_array_equal(state.value("w"), oracle_apply(w, tuple(index), step_w))
    np.testing.assert_array_equal(state.value("b"), oracle_apply(b, (slice(None),), step_b))
    assert state.rng_counter == counter % 2**32
