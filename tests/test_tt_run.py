"""tt-run end to end through its main(): outputs by result name, --save-params, and bad input
reported as `tt-run: error: ...` with exit status 1 and no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from irbuild import Param, clamp_attrs, f32, ftype, function, itype, module_text, qtype, write_weights

from tt.tools.tt_run import main
from ttdialect.interpreter import ParamState, run_function
from ttdialect.ir_io import load_module
from ttdialect.weights import WeightStore

N, C, K = 4, 6, 3
X_SCALE, X_ZP, Y_SCALE, Y_ZP = 0.05, -2, 0.1, 3
LR = f32(0.5)


def _params() -> list[Param]:
    rng = np.random.default_rng(0)
    w = rng.integers(-100, 101, size=(K, C)).astype(np.int8)
    w_scales = np.float32(rng.uniform(0.005, 0.02, size=K))
    b = rng.integers(-200, 201, size=K).astype(np.int32)
    return [
        Param("fc.weight", w, w_scales, external=True),
        Param("fc.bias", b, X_SCALE * w_scales.astype(np.float64)),
    ]


def _module_text() -> str:
    xt, yt = qtype((N, C), X_SCALE, X_ZP), qtype((N, K), Y_SCALE, Y_ZP)
    lt, gt, wt, bt = itype((N,)), ftype((N, K)), ftype((K, C)), ftype((K,))
    full = clamp_attrs(-128, 127)
    train = function(
        "train_step",
        [("x", xt), ("labels", lt), ("lr", "f32")],
        [
            f'%y = tt.linear %x, @"fc.weight", @"fc.bias" {{{full}}} : {xt} -> {yt}',
            f"%loss = tt.cross_entropy %y, %labels : {yt}, {lt} -> f32",
            f"%g = tt.cross_entropy_grad %y, %labels : {yt}, {lt} -> {gt}",
            f"%gm = tt.clamp_grad %g, %y {{{full}}} : {gt}, {yt} -> {gt}",
            f"%gw = tt.linear_grad_weight %x, %gm : {xt}, {gt} -> {wt}",
            f"%gb = tt.bias_grad %gm : {gt} -> {bt}",
            f'%gwq = tt.scale_grad %gw, @"fc.weight" {{power = -1 : i64}} : {wt}',
            f'%gbq = tt.scale_grad %gb, @"fc.bias" {{power = -1 : i64}} : {bt}',
            f'tt.sgd_update @"fc.weight", %gwq, %lr {{grad_scale = 1.0 : f32, rounding = "nearest"}} : {wt}',
            f'tt.sgd_update @"fc.bias", %gbq, %lr {{grad_scale = 1.0 : f32, rounding = "nearest"}} : {bt}',
        ],
        [("loss", "f32"), ("gw", wt), ("y", yt)],
        ["loss", "grad.fc.weight", None],
    )
    forward = function(
        "forward",
        [("x", xt)],
        [f'%y = tt.linear %x, @"fc.weight", @"fc.bias" {{{full}}} : {xt} -> {yt}'],
        [("y", yt), ("x", xt)],
    )
    return module_text(_params(), [train, forward], weights="weights/fc.npz")


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """IR file with an external weights file in a subfolder, and a valid inputs file."""
    (tmp_path / "weights").mkdir()
    write_weights(tmp_path / "weights" / "fc.npz", _params())
    path = tmp_path / "model.mlir"
    path.write_text(_module_text())
    return path


def _inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {
        "arg0": rng.integers(-128, 128, size=(N, C)).astype(np.int8),
        "arg1": rng.integers(0, K, size=N).astype(np.int32),
        "arg2": np.float32(LR),
    }


def _save(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)
    return path


def _run_ok(argv: list[str], capsys) -> None:
    main(argv)
    captured = capsys.readouterr()
    report = ("tt-run: watch: ", "tt-run: warning: ")  # the divergence watch's lines only
    assert all(line.startswith(report) for line in captured.err.splitlines()), captured.err


def _reference(model: Path, func: str, inputs: list) -> tuple[tuple, ParamState]:
    module = load_module(model)
    state = ParamState(WeightStore(module, model.parent))
    return run_function(module, func, inputs, model.parent, state), state


# --------------------------------------------------------------------------- success


def test_outputs_keyed_by_result_name(model: Path, tmp_path: Path, capsys) -> None:
    ins = _inputs()
    inputs = _save(tmp_path / "in.npz", **ins)
    out = tmp_path / "out.npz"
    _run_ok([str(model), "--func", "train_step", "--inputs", str(inputs), "--outputs", str(out)], capsys)
    with np.load(out) as npz:
        got = {k: npz[k] for k in npz.files}
    # named results by tt.name, the unnamed third one by position
    assert sorted(got) == ["grad.fc.weight", "loss", "result2"]
    assert got["loss"].shape == () and got["loss"].dtype == np.float32
    assert got["grad.fc.weight"].dtype == np.float32 and got["grad.fc.weight"].shape == (K, C)
    assert got["result2"].dtype == np.int8 and got["result2"].shape == (N, K)

    (loss, gw, y), _ = _reference(model, "train_step", [ins["arg0"], ins["arg1"], float(LR)])
    assert float(got["loss"]) == np.float32(loss)
    np.testing.assert_array_equal(got["grad.fc.weight"], gw)
    np.testing.assert_array_equal(got["result2"], y)
    # independent check of the loss and weight gradient from the logits tt-run wrote
    z = ((torch.from_numpy(got["result2"].astype(np.float64)) - Y_ZP) * Y_SCALE).requires_grad_(True)
    ref = F.cross_entropy(z, torch.from_numpy(ins["arg1"].astype(np.int64)))
    ref.backward()
    assert float(got["loss"]) == pytest.approx(ref.item(), rel=1e-5)
    inside = (got["result2"] > -128) & (got["result2"] < 127)
    x_real = (ins["arg0"].astype(np.float64) - X_ZP) * X_SCALE
    np.testing.assert_allclose(
        got["grad.fc.weight"], (z.grad.numpy() * inside).T @ x_real, rtol=1e-5, atol=1e-7
    )


def test_outputs_fall_back_to_result_index(model: Path, tmp_path: Path, capsys) -> None:
    ins = _inputs()
    inputs = _save(tmp_path / "in.npz", arg0=ins["arg0"])
    out = tmp_path / "out.npz"
    _run_ok([str(model), "--inputs", str(inputs), "--outputs", str(out)], capsys)  # --func forward default
    with np.load(out) as npz:
        assert sorted(npz.files) == ["result0", "result1"]
        (y, x), _ = _reference(model, "forward", [ins["arg0"]])
        np.testing.assert_array_equal(npz["result0"], y)
        np.testing.assert_array_equal(npz["result1"], ins["arg0"])
        assert npz["result0"].dtype == np.int8


def test_inputs_are_converted_to_argument_types(model: Path, tmp_path: Path, capsys) -> None:
    """int64 arrays within range are accepted for int8 / int32 arguments, a float64 scalar for f32."""
    ins = _inputs()
    inputs = _save(
        tmp_path / "in.npz",
        arg0=ins["arg0"].astype(np.int64),
        arg1=ins["arg1"].astype(np.int64),
        arg2=np.float64(LR),
    )
    out = tmp_path / "out.npz"
    _run_ok([str(model), "--func", "train_step", "--inputs", str(inputs), "--outputs", str(out)], capsys)
    (loss, _, _), _ = _reference(model, "train_step", [ins["arg0"], ins["arg1"], float(LR)])
    with np.load(out) as npz:
        assert float(npz["loss"]) == np.float32(loss)


def test_save_params_after_updates(model: Path, tmp_path: Path, capsys) -> None:
    ins = _inputs()
    inputs = _save(tmp_path / "in.npz", **ins)
    out, saved = tmp_path / "out.npz", tmp_path / "params.npz"
    argv = [str(model), "--func", "train_step", "--inputs", str(inputs), "--outputs", str(out)]
    _run_ok(argv + ["--save-params", str(saved)], capsys)
    _, state = _reference(model, "train_step", [ins["arg0"], ins["arg1"], float(LR)])
    initial = {p.name: p.value for p in _params()}
    with np.load(saved) as npz:
        assert sorted(npz.files) == ["fc.bias", "fc.weight"]
        for name in npz.files:
            assert npz[name].dtype == initial[name].dtype
            np.testing.assert_array_equal(npz[name], state.value(name))
        assert not np.array_equal(npz["fc.weight"], initial["fc.weight"]), "the update changed nothing"
    # the IR's weights file is not modified by a run
    with np.load(model.parent / "weights" / "fc.npz") as npz:
        np.testing.assert_array_equal(npz["fc.weight"], initial["fc.weight"])


def test_save_params_without_updates_keeps_values(model: Path, tmp_path: Path, capsys) -> None:
    inputs = _save(tmp_path / "in.npz", arg0=_inputs()["arg0"])
    saved = tmp_path / "params.npz"
    _run_ok(
        [
            str(model),
            "--inputs",
            str(inputs),
            "--outputs",
            str(tmp_path / "o.npz"),
            "--save-params",
            str(saved),
        ],
        capsys,
    )
    with np.load(saved) as npz:
        for p in _params():
            np.testing.assert_array_equal(npz[p.name], p.value)


def test_subprocess_run(model: Path, tmp_path: Path) -> None:
    inputs = _save(tmp_path / "in.npz", **_inputs())
    out = tmp_path / "out.npz"
    cmd = [
        sys.executable,
        "-m",
        "tt.tools.tt_run",
        str(model),
        "--func",
        "train_step",
        "--inputs",
        str(inputs),
        "--outputs",
        str(out),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.exists()
    bad = subprocess.run(
        cmd[:-3] + [str(tmp_path / "missing.npz"), "--outputs", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert bad.stderr.startswith("tt-run: error: ") and bad.stderr.count("\n") == 1


# --------------------------------------------------------------------------- bad input


def _expect_error(argv: list[str], capsys, *, contains: str = "", single_line: bool = True) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("tt-run: error: "), err
    assert err.count("tt-run: error:") == 1
    if single_line:
        assert err.count("\n") == 1, err
    assert contains in err
    return err


def _argv(model: Path, inputs: Path, tmp_path: Path, func: str = "train_step") -> list[str]:
    return [str(model), "--func", func, "--inputs", str(inputs), "--outputs", str(tmp_path / "out.npz")]


def test_error_missing_inputs_file(model, tmp_path, capsys) -> None:
    _expect_error(_argv(model, tmp_path / "nope.npz", tmp_path), capsys, contains="nope.npz")
    assert not (tmp_path / "out.npz").exists()


def test_error_inputs_not_npz(model, tmp_path, capsys) -> None:
    bad = tmp_path / "in.npz"
    bad.write_text("not a zip")
    _expect_error(_argv(model, bad, tmp_path), capsys, contains="in.npz")


@pytest.mark.parametrize(
    "keys",
    [("arg0", "arg1"), ("arg0", "arg1", "arg2", "arg3"), ("x", "labels", "lr"), ("arg1", "arg2", "arg3")],
)
def test_error_wrong_input_keys(model, tmp_path, capsys, keys) -> None:
    ins = list(_inputs().values()) + [np.zeros(1)]
    inputs = _save(tmp_path / "in.npz", **{k: ins[i] for i, k in enumerate(keys)})
    _expect_error(_argv(model, inputs, tmp_path), capsys, contains="arg0, arg1, arg2")
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("arg0", np.zeros((N, C + 1), dtype=np.int8)),
        ("arg0", np.zeros((N * C,), dtype=np.int8)),
        ("arg1", np.zeros((N, 1), dtype=np.int32)),
        ("arg2", np.zeros((2,), dtype=np.float32)),
    ],
)
def test_error_wrong_input_shape(model, tmp_path, capsys, key, value) -> None:
    ins = _inputs()
    ins[key] = value
    _expect_error(_argv(model, _save(tmp_path / "in.npz", **ins), tmp_path), capsys, contains=f"'{key}'")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("arg0", np.zeros((N, C), dtype=np.float32)),
        ("arg0", np.full((N, C), 300, dtype=np.int16)),
        ("arg0", np.full((N, C), "a")),
        ("arg1", np.zeros((N,), dtype=np.float64)),
        ("arg1", np.full((N,), 2**40, dtype=np.int64)),
        ("arg2", np.array("0.5")),
    ],
)
def test_error_wrong_input_dtype(model, tmp_path, capsys, key, value) -> None:
    ins = _inputs()
    ins[key] = value
    _expect_error(_argv(model, _save(tmp_path / "in.npz", **ins), tmp_path), capsys, contains=f"'{key}'")


def test_error_missing_ir_file(tmp_path, capsys) -> None:
    inputs = _save(tmp_path / "in.npz", **_inputs())
    _expect_error(_argv(tmp_path / "absent.mlir", inputs, tmp_path), capsys, contains="absent.mlir")


def test_error_unknown_function(model, tmp_path, capsys) -> None:
    inputs = _save(tmp_path / "in.npz", **_inputs())
    _expect_error(_argv(model, inputs, tmp_path, func="nope"), capsys, contains="@nope")


XT = qtype((N, C), X_SCALE, X_ZP)
MALFORMED = {
    # verifier errors: one located line
    "verifier": (lambda t: t.replace('rounding = "nearest"', 'rounding = "bogus"', 1), True),
    "bad_clamp": (
        lambda t: t.replace(
            "act_min = -128 : i64, act_max = 127 : i64", "act_min = 120 : i64, act_max = 100 : i64", 1
        ),
        True,
    ),
    "unknown_param": (lambda t: t.replace('@"fc.weight" {power', '@"fc.nope" {power'), True),
    # parse errors: a located message (the parser quotes the source line under it)
    "syntax": (lambda t: t.replace("func.return %loss,", "func.return %loss"), False),
    "type_mismatch": (
        lambda t: t.replace(
            "tt.bias_grad %gm : tensor<4x3xf32> -> tensor<3xf32>",
            "tt.bias_grad %gm : tensor<4x3xf32> -> tensor<4xf32>",
        ),
        False,
    ),
    "unknown_op": (lambda t: t.replace("tt.cross_entropy_grad", "tt.cross_entropy_gradd"), False),
    "bad_qtensor": (lambda t: t.replace(XT, XT.replace(f":{X_ZP}>", ":300>"), 1), False),
    "truncated": (lambda t: t[: len(t) // 2], False),
    "empty": (lambda t: "", False),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_error_malformed_ir(model, tmp_path, capsys, case) -> None:
    edit, single_line = MALFORMED[case]
    text = model.read_text()
    new = edit(text)
    assert new != text
    model.write_text(new)
    inputs = _save(tmp_path / "in.npz", **_inputs())
    err = _expect_error(
        _argv(model, inputs, tmp_path), capsys, contains="model.mlir", single_line=single_line
    )
    if case != "empty":
        assert "model.mlir:" in err.splitlines()[0]  # file:line:col
    assert not (tmp_path / "out.npz").exists()


def test_error_ir_not_utf8(model, tmp_path, capsys) -> None:
    model.write_bytes(b"\xff\xfe\x00\x01 builtin.module")
    inputs = _save(tmp_path / "in.npz", **_inputs())
    _expect_error(_argv(model, inputs, tmp_path), capsys, contains="model.mlir")


def test_error_missing_weights_file(model, tmp_path, capsys) -> None:
    (tmp_path / "weights" / "fc.npz").unlink()
    inputs = _save(tmp_path / "in.npz", **_inputs())
    _expect_error(_argv(model, inputs, tmp_path), capsys, contains="fc.npz")
    assert not (tmp_path / "out.npz").exists()


def test_error_weights_file_missing_key(model, tmp_path, capsys) -> None:
    p = _params()[0]
    np.savez(tmp_path / "weights" / "fc.npz", **{"fc.weight": p.value})  # no "fc.weight.scales"
    inputs = _save(tmp_path / "in.npz", **_inputs())
    _expect_error(_argv(model, inputs, tmp_path), capsys, contains="fc.weight.scales")


def test_error_weights_file_wrong_shape(model, tmp_path, capsys) -> None:
    p = _params()[0]
    np.savez(tmp_path / "weights" / "fc.npz", **{"fc.weight": p.value.T, "fc.weight.scales": p.scales})
    inputs = _save(tmp_path / "in.npz", **_inputs())
    _expect_error(_argv(model, inputs, tmp_path), capsys, contains="fc.weight")


def test_error_weights_file_corrupt(model, tmp_path, capsys) -> None:
    (tmp_path / "weights" / "fc.npz").write_bytes(b"PK\x03\x04 broken")
    inputs = _save(tmp_path / "in.npz", **_inputs())
    _expect_error(_argv(model, inputs, tmp_path), capsys, contains="fc.npz")


def test_error_unwritable_output(model, tmp_path, capsys) -> None:
    inputs = _save(tmp_path / "in.npz", **_inputs())
    argv = [
        str(model),
        "--func",
        "train_step",
        "--inputs",
        str(inputs),
        "--outputs",
        str(tmp_path / "no" / "o.npz"),
    ]
    _expect_error(argv, capsys)


# --------------------------------------------------------------------------- bad input the tool misses
# (each states the expected behaviour; see the report for the current one)


@pytest.mark.parametrize("bad_label", [K, -1])
def test_error_label_out_of_range(model, tmp_path, capsys, bad_label) -> None:
    """A label outside [0, K) is bad input: exit 1 with a message, not a traceback (K) or a silent
    wrap-around to class K-1 (-1, numpy negative indexing)."""
    ins = _inputs()
    ins["arg1"] = ins["arg1"].copy()
    ins["arg1"][1] = bad_label
    _expect_error(_argv(model, _save(tmp_path / "in.npz", **ins), tmp_path), capsys)
    assert not (tmp_path / "out.npz").exists()


def test_error_weights_value_out_of_int8_range(model, tmp_path, capsys) -> None:
    """An i8 parameter stored as 300 (int16) must not silently wrap to 44."""
    p = _params()[0]
    value = p.value.astype(np.int16)
    value[0, 0] = 300
    np.savez(tmp_path / "weights" / "fc.npz", **{"fc.weight": value, "fc.weight.scales": p.scales})
    inputs = _save(tmp_path / "in.npz", **_inputs())
    _expect_error(_argv(model, inputs, tmp_path), capsys, contains="fc.weight")


def test_error_requantize_scale_too_large(tmp_path, capsys) -> None:
    """A scale ratio >= 2**30 cannot be requantized: a one-line error, not a ValueError traceback."""
    t_in, t_out = qtype((1, 2), 1.0, 0), qtype((1, 2), 1e-10, 0)
    text = module_text(
        [],
        [function("forward", [("x", t_in)], [f"%y = tt.requantize %x : {t_in} -> {t_out}"], [("y", t_out)])],
    )
    path = tmp_path / "rq.mlir"
    path.write_text(text)
    inputs = _save(tmp_path / "in.npz", arg0=np.array([[1, 2]], dtype=np.int8))
    _expect_error([str(path), "--inputs", str(inputs), "--outputs", str(tmp_path / "out.npz")], capsys)
