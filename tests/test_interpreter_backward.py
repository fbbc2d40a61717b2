"""Loss and backward ops of the reference interpreter against torch autograd (float64).

Each oracle builds the float computation on the dequantized tensors with requires_grad, calls
backward with the given upstream gradient and reads the gradient; the interpreter's float32
result must agree to ~1e-5 relative.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from irbuild import Param, assert_grad_close, build_and_run, clamp_attrs, conv_attrs, ftype, itype, qtype


def deq(q: np.ndarray, scale: float, zp: int) -> torch.Tensor:
    return (torch.from_numpy(np.asarray(q).astype(np.float64)) - zp) * scale


def t64(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(a).astype(np.float64))


def rand_int8(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-128, 128, size=shape).astype(np.int8)


def rand_weight(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return np.clip(np.rint(rng.normal(0.0, 45.0, size=shape)), -127, 127).astype(np.int8)


def rand_grad(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.normal(0.0, 1e-2, size=shape).astype(np.float32)


def conv_out_size(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


# --------------------------------------------------------------------------- loss


@pytest.mark.parametrize(
    ("seed", "n", "k", "quantized"), [(1, 4, 10, True), (2, 7, 3, True), (3, 5, 6, False)]
)
def test_cross_entropy_and_grad(seed, n, k, quantized) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, size=n).astype(np.int32)
    if quantized:
        scale, zp = float(rng.uniform(0.02, 0.2)), int(rng.integers(-20, 21))
        logits = rand_int8(rng, (n, k))
        z = deq(logits, scale, zp)
        lt = qtype((n, k), scale, zp)
    else:
        logits = rng.normal(0.0, 3.0, size=(n, k)).astype(np.float32)
        z = t64(logits)
        lt = ftype((n, k))
    z.requires_grad_(True)
    loss = F.cross_entropy(z, torch.from_numpy(labels.astype(np.int64)), reduction="mean")
    loss.backward()

    body = [
        f"%loss = tt.cross_entropy %z, %l : {lt}, {itype((n,))} -> f32",
        f"%g = tt.cross_entropy_grad %z, %l : {lt}, {itype((n,))} -> {ftype((n, k))}",
    ]
    (got_loss, got_grad), _ = build_and_run(
        [], [("z", lt), ("l", itype((n,)))], body, [("loss", "f32"), ("g", ftype((n, k)))], [logits, labels]
    )
    assert isinstance(got_loss, float)
    assert got_loss == pytest.approx(loss.item(), rel=1e-5)
    assert_grad_close(got_grad, z.grad.numpy())


def test_cross_entropy_large_logits_is_stable() -> None:
    logits = np.array([[1000.0, 0.0, -1000.0], [-500.0, 500.0, 499.0]], dtype=np.float32)
    labels = np.array([2, 1], dtype=np.int32)
    z = t64(logits).requires_grad_(True)
    loss = F.cross_entropy(z, torch.from_numpy(labels.astype(np.int64)))
    loss.backward()
    lt, yt = ftype((2, 3)), itype((2,))
    body = [
        f"%loss = tt.cross_entropy %z, %l : {lt}, {yt} -> f32",
        f"%g = tt.cross_entropy_grad %z, %l : {lt}, {yt} -> {lt}",
    ]
    (got_loss, got_grad), _ = build_and_run(
        [], [("z", lt), ("l", yt)], body, [("loss", "f32"), ("g", lt)], [logits, labels]
    )
    assert np.isfinite(got_loss) and got_loss == pytest.approx(loss.item(), rel=1e-5)
    assert_grad_close(got_grad, z.grad.numpy())


@pytest.mark.parametrize("op", ["cross_entropy", "cross_entropy_grad"])
@pytest.mark.parametrize("bad_label", [3, -1])
def test_cross_entropy_rejects_out_of_range_labels(op, bad_label) -> None:
    """Labels index K classes: a label outside [0, K) must be an error, not another class.

    (numpy would read -1 as class K-1 and give a plausible but wrong loss / gradient.)
    """
    logits = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], dtype=np.float32)
    labels = np.array([0, bad_label], dtype=np.int32)
    lt, yt = ftype((2, 3)), itype((2,))
    rt = "f32" if op == "cross_entropy" else lt
    body = [f"%r = tt.{op} %z, %l : {lt}, {yt} -> {rt}"]
    with pytest.raises(Exception):  # noqa: B017 - any error will do, as long as it is not silent
        build_and_run([], [("z", lt), ("l", yt)], body, [("r", rt)], [logits, labels])


# --------------------------------------------------------------------------- conv2d backward

CONV_CASES = {
    # name: (n, h, w, c, o, (kh, kw), stride, padding, groups)
    "regular_s1_p1": (2, 6, 7, 4, 5, (3, 3), (1, 1), (1, 1), 1),
    "regular_s2_p1_odd": (1, 9, 8, 3, 6, (3, 3), (2, 2), (1, 1), 1),
    "regular_s2_p0_dropped_rows": (2, 8, 8, 3, 4, (3, 3), (2, 2), (0, 0), 1),
    "regular_5x5_mixed": (1, 10, 7, 2, 3, (5, 3), (2, 1), (2, 0), 1),
    "depthwise_s1_p1": (2, 6, 6, 6, 6, (3, 3), (1, 1), (1, 1), 6),
    "depthwise_s2_p1": (1, 9, 10, 5, 5, (3, 3), (2, 2), (1, 1), 5),
    "pointwise_s1": (2, 5, 5, 7, 4, (1, 1), (1, 1), (0, 0), 1),
    "pointwise_s2": (1, 7, 6, 4, 8, (1, 1), (2, 2), (0, 0), 1),
    "grouped2": (1, 6, 5, 4, 6, (3, 3), (1, 1), (1, 1), 2),
}


def _conv_setup(name: str):
    n, h, w, c, o, k, stride, padding, groups = CONV_CASES[name]
    rng = np.random.default_rng(list(CONV_CASES).index(name) + 100)
    oh, ow = conv_out_size(h, k[0], stride[0], padding[0]), conv_out_size(w, k[1], stride[1], padding[1])
    return rng, (n, h, w, c), (o, *k, c // groups), (n, oh, ow, o), stride, padding, groups


@pytest.mark.parametrize("name", list(CONV_CASES))
def test_conv2d_grad_input(name: str, tmp_path) -> None:
    rng, in_shape, w_shape, out_shape, stride, padding, groups = _conv_setup(name)
    weight = rand_weight(rng, w_shape)
    scales = np.float32(rng.uniform(0.5, 2.0, size=w_shape[0]) / 64.0).astype(np.float64)
    g = rand_grad(rng, out_shape)

    x = torch.zeros(in_shape, dtype=torch.float64).permute(0, 3, 1, 2).requires_grad_(True)
    w_real = t64(weight * scales.reshape(-1, 1, 1, 1)).permute(0, 3, 1, 2)
    y = F.conv2d(x, w_real, stride=stride, padding=padding, groups=groups)
    y.backward(t64(g).permute(0, 3, 1, 2))
    expected = x.grad.permute(0, 2, 3, 1).numpy()

    gt, it = ftype(out_shape), ftype(in_shape)
    body = [f'%gi = tt.conv2d_grad_input %g, @"w" {{{conv_attrs(stride, padding, groups)}}} : {gt} -> {it}']
    params = [Param("w", weight, scales, external=name.startswith("regular_s2"))]
    (got,), _ = build_and_run(params, [("g", gt)], body, [("gi", it)], [g], tmp_path)
    assert_grad_close(got, expected)


def _conv_grad_weight_oracle(x, x_scale, x_zp, w_shape, g, stride, padding, groups) -> np.ndarray:
    w = torch.zeros(w_shape, dtype=torch.float64).permute(0, 3, 1, 2).requires_grad_(True)
    y = F.conv2d(deq(x, x_scale, x_zp).permute(0, 3, 1, 2), w, stride=stride, padding=padding, groups=groups)
    y.backward(t64(g).permute(0, 3, 1, 2))
    return w.grad.permute(0, 2, 3, 1).numpy()  # OHWI


def _run_grad_weight(x, x_scale, x_zp, g, k, stride, padding, groups, channels, result_shape):
    xt, gt, rt = qtype(x.shape, x_scale, x_zp), ftype(g.shape), ftype(result_shape)
    attrs = conv_attrs(stride, padding, groups) + f", kernel = array<i64: {k[0]}, {k[1]}>"
    if channels is not None:
        attrs += ", channels = array<i64: " + ", ".join(str(c) for c in channels) + ">"
    body = [f"%gw = tt.conv2d_grad_weight %x, %g {{{attrs}}} : {xt}, {gt} -> {rt}"]
    (got,), _ = build_and_run([], [("x", xt), ("g", gt)], body, [("gw", rt)], [x, g])
    return got


@pytest.mark.parametrize("name", list(CONV_CASES))
def test_conv2d_grad_weight(name: str) -> None:
    rng, in_shape, w_shape, out_shape, stride, padding, groups = _conv_setup(name)
    x = rand_int8(rng, in_shape)
    x_scale, x_zp = float(rng.uniform(0.01, 0.1)), int(rng.integers(-30, 31))
    g = rand_grad(rng, out_shape)
    expected = _conv_grad_weight_oracle(x, x_scale, x_zp, w_shape, g, stride, padding, groups)
    got = _run_grad_weight(x, x_scale, x_zp, g, w_shape[1:3], stride, padding, groups, None, w_shape)
    assert_grad_close(got, expected)


@pytest.mark.parametrize(
    ("name", "channels"),
    [
        ("regular_s1_p1", [0, 2]),
        ("regular_s1_p1", [3]),
        ("regular_s2_p1_odd", [0, 1, 2]),
        ("pointwise_s2", [1, 3]),
        ("depthwise_s1_p1", [1, 4, 5]),
        ("depthwise_s2_p1", [0]),
        ("depthwise_s2_p1", [2, 3, 4]),
    ],
)
def test_conv2d_grad_weight_channel_subset(name: str, channels: list[int]) -> None:
    """Regular convs keep input channels (axis 3), depthwise convs keep channels (axis 0)."""
    rng, in_shape, w_shape, out_shape, stride, padding, groups = _conv_setup(name)
    x = rand_int8(rng, in_shape)
    x_scale, x_zp = float(rng.uniform(0.01, 0.1)), int(rng.integers(-30, 31))
    g = rand_grad(rng, out_shape)
    full = _conv_grad_weight_oracle(x, x_scale, x_zp, w_shape, g, stride, padding, groups)
    if groups == 1:
        expected = full[:, :, :, channels]
    else:
        expected = full[channels]
    got = _run_grad_weight(
        x, x_scale, x_zp, g, w_shape[1:3], stride, padding, groups, channels, expected.shape
    )
    assert_grad_close(got, expected)


# --------------------------------------------------------------------------- linear backward


@pytest.mark.parametrize(("seed", "n", "c", "o"), [(1, 4, 16, 10), (2, 1, 7, 3), (3, 6, 32, 5)])
def test_linear_grad_input(seed, n, c, o) -> None:
    rng = np.random.default_rng(seed)
    weight = rand_weight(rng, (o, c))
    scales = np.float32(rng.uniform(0.5, 2.0, size=o) / 100.0).astype(np.float64)
    g = rand_grad(rng, (n, o))
    x = torch.zeros((n, c), dtype=torch.float64, requires_grad=True)
    F.linear(x, t64(weight * scales[:, None])).backward(t64(g))
    gt, it = ftype((n, o)), ftype((n, c))
    body = [f'%gi = tt.linear_grad_input %g, @"fc.weight" : {gt} -> {it}']
    (got,), _ = build_and_run([Param("fc.weight", weight, scales)], [("g", gt)], body, [("gi", it)], [g])
    assert_grad_close(got, x.grad.numpy())


@pytest.mark.parametrize(
    ("seed", "n", "c", "o", "channels"),
    [(1, 4, 16, 10, None), (2, 3, 9, 4, [0, 5, 8]), (3, 6, 12, 5, [7]), (4, 2, 6, 3, None)],
)
def test_linear_grad_weight(seed, n, c, o, channels) -> None:
    rng = np.random.default_rng(seed)
    x = rand_int8(rng, (n, c))
    x_scale, x_zp = float(rng.uniform(0.01, 0.2)), int(rng.integers(-40, 41))
    g = rand_grad(rng, (n, o))
    w = torch.zeros((o, c), dtype=torch.float64, requires_grad=True)
    F.linear(deq(x, x_scale, x_zp), w).backward(t64(g))
    expected = w.grad.numpy()
    attrs = ""
    if channels is not None:
        expected = expected[:, channels]
        attrs = " {channels = array<i64: " + ", ".join(str(v) for v in channels) + ">}"
    xt, gt, rt = qtype((n, c), x_scale, x_zp), ftype((n, o)), ftype(expected.shape)
    body = [f"%gw = tt.linear_grad_weight %x, %g{attrs} : {xt}, {gt} -> {rt}"]
    (got,), _ = build_and_run([], [("x", xt), ("g", gt)], body, [("gw", rt)], [x, g])
    assert_grad_close(got, expected)


# --------------------------------------------------------------------------- elementwise backward


@pytest.mark.parametrize("shape", [(2, 5, 4, 6), (7, 3), (9,)])
def test_bias_grad(shape) -> None:
    rng = np.random.default_rng(len(shape))
    g = rand_grad(rng, shape)
    b = torch.zeros(shape[-1], dtype=torch.float64, requires_grad=True)
    (torch.zeros(shape, dtype=torch.float64) + b).backward(t64(g))
    gt, bt = ftype(shape), ftype(shape[-1:])
    body = [f"%gb = tt.bias_grad %g : {gt} -> {bt}"]
    (got,), _ = build_and_run([], [("g", gt)], body, [("gb", bt)], [g])
    assert_grad_close(got, b.grad.numpy())


@pytest.mark.parametrize(
    ("lo", "hi", "zp", "shape"),
    [
        (-128, 127, -128, (2, 6, 6, 4)),
        (-128, 127, 0, (5, 7)),
        (-20, 127, -20, (1, 5, 5, 8)),
        (-60, 50, 3, (40,)),
    ],
)
def test_clamp_grad(lo, hi, zp, shape) -> None:
    """Straight-through inside (act_min, act_max), zero at and beyond the clamp bounds."""
    rng = np.random.default_rng(hi - lo)
    y = rng.integers(lo, hi + 1, size=shape).astype(np.int8)
    y.reshape(-1)[:4] = [lo, hi, lo, hi]  # the bounds themselves must be present
    scale = 0.05
    g = rand_grad(rng, shape)
    y_real = deq(y, scale, zp).requires_grad_(True)
    # hardtanh's derivative is 1 strictly inside (min, max) and 0 elsewhere, as documented for clamp_grad.
    F.hardtanh(y_real, (lo - zp) * scale, (hi - zp) * scale).backward(t64(g))
    gt, yt = ftype(shape), qtype(shape, scale, zp)
    body = [f"%gi = tt.clamp_grad %g, %y {{{clamp_attrs(lo, hi)}}} : {gt}, {yt} -> {gt}"]
    (got,), _ = build_and_run([], [("g", gt), ("y", yt)], body, [("gi", gt)], [g, y])
    assert_grad_close(got, y_real.grad.numpy())
    assert (got.reshape(-1)[:4] == 0).all()
    assert (got != 0).mean() > 0.5


@pytest.mark.parametrize("shape", [(2, 4, 5, 6), (1, 7, 7, 3), (3, 1, 1, 4)])
def test_global_avg_pool_grad(shape) -> None:
    rng = np.random.default_rng(sum(shape))
    n, _, _, c = shape
    g = rand_grad(rng, (n, 1, 1, c))
    x = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    x.mean(dim=(1, 2), keepdim=True).backward(t64(g))
    gt, it = ftype((n, 1, 1, c)), ftype(shape)
    body = [f"%gi = tt.global_avg_pool_grad %g : {gt} -> {it}"]
    (got,), _ = build_and_run([], [("g", gt)], body, [("gi", it)], [g])
    assert_grad_close(got, x.grad.numpy())


@pytest.mark.parametrize("shape", [(2, 3, 3, 4), (5, 6)])
def test_grad_accumulate(shape) -> None:
    """An activation with two uses: d/dx of (u(x) + v(x)) sums the two upstream gradients."""
    rng = np.random.default_rng(len(shape) + 10)
    g1, g2 = rand_grad(rng, shape), rand_grad(rng, shape)
    x = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    ((x * t64(g1)).sum() + (x * t64(g2)).sum()).backward()
    t = ftype(shape)
    body = [f"%s = tt.grad_accumulate %a, %b : {t}"]
    (got,), _ = build_and_run([], [("a", t), ("b", t)], body, [("s", t)], [g1, g2])
    assert_grad_close(got, x.grad.numpy())


# --------------------------------------------------------------------------- a whole backward pass


def test_backward_chain_matches_autograd() -> None:
    """conv(ReLU6) -> pool -> reshape -> linear -> cross-entropy, backward through every op.

    The oracle is torch autograd on the dequantized forward values of the interpreter, with the
    clamps as hardtanh on the int8 outputs (straight-through inside the range).
    """
    rng = np.random.default_rng(2024)
    n, h, w, c, o, k = 2, 6, 6, 3, 4, 5
    x = rand_int8(rng, (n, h, w, c))
    x_scale, x_zp, a_scale, a_zp, p_scale, p_zp, y_scale, y_zp = 0.03, 0, 6 / 255, -128, 0.02, -128, 0.05, 0
    w1 = rand_weight(rng, (o, 3, 3, c))
    s1 = np.float32(rng.uniform(0.5, 1.5, o) / 50).astype(np.float64)
    w2 = rand_weight(rng, (k, o))
    s2 = np.float32(rng.uniform(0.5, 1.5, k) / 20).astype(np.float64)
    labels = rng.integers(0, k, n).astype(np.int32)

    t0, t1 = qtype((n, h, w, c), x_scale, x_zp), qtype((n, 3, 3, o), a_scale, a_zp)
    t2, t3, t4 = (
        qtype((n, 1, 1, o), p_scale, p_zp),
        qtype((n, o), p_scale, p_zp),
        qtype((n, k), y_scale, y_zp),
    )
    full = clamp_attrs(-128, 127)
    cv = conv_attrs((2, 2), (1, 1), 1)
    body = [
        f'%a = tt.conv2d %x, @"c.weight" {{{cv}, {full}}} : {t0} -> {t1}',
        f"%p = tt.global_avg_pool %a : {t1} -> {t2}",
        f"%r = tt.reshape %p : {t2} -> {t3}",
        f'%y = tt.linear %r, @"fc.weight" {{{full}}} : {t3} -> {t4}',
        f"%loss = tt.cross_entropy %y, %l : {t4}, {itype((n,))} -> f32",
        f"%gy = tt.cross_entropy_grad %y, %l : {t4}, {itype((n,))} -> {ftype((n, k))}",
        f"%gy2 = tt.clamp_grad %gy, %y {{{full}}} : {ftype((n, k))}, {t4} -> {ftype((n, k))}",
        f"%gfc = tt.linear_grad_weight %r, %gy2 : {t3}, {ftype((n, k))} -> {ftype((k, o))}",
        f'%gr = tt.linear_grad_input %gy2, @"fc.weight" : {ftype((n, k))} -> {ftype((n, o))}',
        f"%gp = tt.reshape %gr : {ftype((n, o))} -> {ftype((n, 1, 1, o))}",
        f"%ga = tt.global_avg_pool_grad %gp : {ftype((n, 1, 1, o))} -> {ftype((n, 3, 3, o))}",
        f"%ga2 = tt.clamp_grad %ga, %a {{{full}}} : {ftype((n, 3, 3, o))}, {t1} -> {ftype((n, 3, 3, o))}",
        f"%gc = tt.conv2d_grad_weight %x, %ga2 {{{cv}, kernel = array<i64: 3, 3>}} : "
        f"{t0}, {ftype((n, 3, 3, o))} -> {ftype((o, 3, 3, c))}",
        f'%gx = tt.conv2d_grad_input %ga2, @"c.weight" {{{cv}}} : '
        f"{ftype((n, 3, 3, o))} -> {ftype((n, h, w, c))}",
    ]
    results = [
        ("a", t1),
        ("p", t2),
        ("y", t4),
        ("loss", "f32"),
        ("gfc", ftype((k, o))),
        ("gc", ftype((o, 3, 3, c))),
        ("gx", ftype((n, h, w, c))),
    ]
    params = [Param("c.weight", w1, s1), Param("fc.weight", w2, s2)]
    (a, p, y, loss, gfc, gc, gx), _ = build_and_run(
        params, [("x", t0), ("l", itype((n,)))], body, results, [x, labels]
    )

    # Float graph whose forward values are the interpreter's int8 activations (straight-through
    # estimators around each requantization), so autograd sees exactly the documented gradients.
    def ste(pre: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        return pre + (real - pre).detach()

    xr = deq(x, x_scale, x_zp).permute(0, 3, 1, 2).requires_grad_(True)
    w1r = t64(w1 * s1.reshape(-1, 1, 1, 1)).permute(0, 3, 1, 2).detach().requires_grad_(True)
    w2r = t64(w2 * s2[:, None]).requires_grad_(True)
    a_ste = ste(F.conv2d(xr, w1r, stride=2, padding=1), deq(a, a_scale, a_zp).permute(0, 3, 1, 2))
    a_act = F.hardtanh(a_ste, (-128 - a_zp) * a_scale, (127 - a_zp) * a_scale)
    p_ste = ste(a_act.mean(dim=(2, 3)), deq(p.reshape(n, o), p_scale, p_zp))
    y_ste = ste(F.linear(p_ste, w2r), deq(y, y_scale, y_zp))
    y_act = F.hardtanh(y_ste, (-128 - y_zp) * y_scale, (127 - y_zp) * y_scale)
    ref_loss = F.cross_entropy(y_act, torch.from_numpy(labels.astype(np.int64)))
    ref_loss.backward()

    assert loss == pytest.approx(ref_loss.item(), rel=1e-5)
    assert_grad_close(gfc, w2r.grad.numpy())
    assert_grad_close(gc, w1r.grad.permute(0, 2, 3, 1).numpy())
    assert_grad_close(gx, xr.grad.permute(0, 2, 3, 1).numpy())
    assert np.abs(gx).max() > 0 and np.abs(gc).max() > 0
