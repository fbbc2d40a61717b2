"""`tt-run --backend host|qemu` vs `--backend interpreter` on the bundled model (through main()).

The oracle is the reference interpreter (and, for qemu, the host build). Tolerances:
- @forward logits: bit-exact (int8 all the way);
- @train_step loss: within 1e-5 relative (float32 in C, float64 in the interpreter);
- parameters after one step: same names, dtypes and shapes; equal except at most MAX_OFF elements
  off by one step (the interpreter computes update deltas in float64, C in float32, so a delta near
  a rounding boundary may round the other way);
- qemu vs host: loss and every parameter bit for bit.
Two planned modules: last-3 (whole arrays updated) and a scheme with partial channel updates
(split weights: only the trained channels are exported, put back into the full arrays).
Errors are one line on stderr, exit status 1, and no output file.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from passes import apply_pipeline
from tt.tools.tt_run import main as tt_run
from ttdialect.bundled import copy_model, new_task
from ttdialect.ir_io import load_module, module_text

# An explicit pass list (tt-training-pipeline also runs tt-stream-frozen, not lowered to C yet).
PASSES = (
    "tt-autodiff{{lr=0.05}},tt-sparse-update{{scheme={scheme}}},tt-qas,tt-fuse-update,"
    "tt-reorder{{quiet=true}},tt-memory-plan"
)
SPLIT_SCHEME = {"n_bias_update": 3, "manual_weight_idx": [7, 9], "weight_update_ratio": [0.5, 0.25]}
MAX_OFF = 3


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Planned modules (tt-memory-plan) beside the bundled weights, by scheme."""
    folder = tmp_path_factory.mktemp("tt_run_backends")
    source = copy_model(folder)
    (folder / "split.json").write_text(json.dumps(SPLIT_SCHEME))
    paths = {}
    for scheme in ("last-3", "split"):
        module = load_module(source)
        name = "last-3" if scheme == "last-3" else str(folder / "split.json")
        apply_pipeline(module, PASSES.format(scheme=name), folder)
        paths[scheme] = folder / f"step-{scheme}.mlir"
        paths[scheme].write_text(module_text(module))
    paths["unplanned"] = source
    return paths


def _run(model: Path, func: str, inputs: dict[str, np.ndarray], backend: str, work: Path):
    work.mkdir(parents=True, exist_ok=True)
    np.savez(work / "in.npz", **inputs)
    outputs, params = work / f"out-{backend}.npz", work / f"params-{backend}.npz"
    tt_run([str(model), "--func", func, "--inputs", str(work / "in.npz"), "--outputs", str(outputs),
            "--save-params", str(params), "--backend", backend])  # fmt: skip
    with np.load(outputs) as out, np.load(params) as par:
        return {k: out[k] for k in out.files}, {k: par[k] for k in par.files}


@pytest.mark.parametrize("index", [0, 7])
def test_forward_logits_bit_exact(models: dict[str, Path], tmp_path: Path, index: int) -> None:
    inputs = {"arg0": new_task().test_x[index : index + 1]}
    reference, ref_params = _run(models["last-3"], "forward", inputs, "interpreter", tmp_path)
    for backend in ("host", "qemu"):
        out, params = _run(models["last-3"], "forward", inputs, backend, tmp_path)
        assert list(out) == ["result0"]
        assert out["result0"].dtype == np.int8 and out["result0"].shape == reference["result0"].shape
        np.testing.assert_array_equal(out["result0"], reference["result0"])
        assert list(params) == list(ref_params)
        for name, value in ref_params.items():  # inference changes nothing
            np.testing.assert_array_equal(params[name], value)


@pytest.mark.parametrize(("scheme", "index"), [("last-3", 0), ("split", 5)])
def test_train_step_matches_interpreter(
    models: dict[str, Path], tmp_path: Path, scheme: str, index: int
) -> None:
    task = new_task()
    inputs = {
        "arg0": task.train_x[index : index + 1],
        "arg1": task.train_y[index : index + 1].astype(np.int32),
    }
    reference, ref_params = _run(models[scheme], "train_step", inputs, "interpreter", tmp_path)
    host, host_params = _run(models[scheme], "train_step", inputs, "host", tmp_path)
    qemu, qemu_params = _run(models[scheme], "train_step", inputs, "qemu", tmp_path)

    assert list(host) == ["loss"] and host["loss"].dtype == np.float32 and host["loss"].shape == ()
    np.testing.assert_allclose(host["loss"], reference["loss"], rtol=1e-5)
    initial = {k: v for k, v in np.load(models[scheme].parent / "digits_cnn.weights.npz").items()}
    assert list(host_params) == list(ref_params)
    off = changed = 0
    for name, expected in ref_params.items():
        value = host_params[name]
        assert value.dtype == expected.dtype and value.shape == expected.shape, name
        diff = np.abs(value.astype(np.int64) - expected.astype(np.int64))
        assert diff.max(initial=0) <= 1, name
        off += int((diff > 0).sum())
        if name in initial:
            changed += int((value != initial[name]).sum())
    assert off <= MAX_OFF, f"{off} elements differ from the interpreter by one step"
    assert changed > 0  # the step did update something (else the comparison would be vacuous)

    assert qemu["loss"].tobytes() == host["loss"].tobytes()
    assert list(qemu_params) == list(host_params)
    for name, value in host_params.items():
        assert qemu_params[name].tobytes() == value.tobytes(), name


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        tt_run(argv)
    assert exit_info.value.code == 1
    message = capsys.readouterr().err
    assert message.startswith("tt-run: error: ") and message.count("\n") == 1, message
    return message


def _step_inputs(path: Path, label: int = 1) -> str:
    np.savez(path, arg0=np.zeros((1, 16, 16, 1), np.int8), arg1=np.array([label], np.int32))
    return str(path)


def test_unplanned_module(
    models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    np.savez(tmp_path / "in.npz", arg0=np.zeros((1, 16, 16, 1), np.int8))
    out = tmp_path / "out.npz"
    args = [str(models["unplanned"]), "--inputs", str(tmp_path / "in.npz"), "--outputs", str(out)]
    message = _error(capsys, [*args, "--backend", "host"])
    assert "no memory plan" in message and "tt-memory-plan" in message
    assert not out.exists()


def test_missing_toolchain(
    models: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("make", "cc"):  # the host tools only: no arm-none-eabi-gcc, no QEMU
        found = shutil.which(tool)
        assert found is not None
        os.symlink(found, tools / tool)
    monkeypatch.setenv("PATH", str(tools))
    out, params = tmp_path / "out.npz", tmp_path / "params.npz"
    argv = [str(models["last-3"]), "--func", "train_step", "--inputs", _step_inputs(tmp_path / "in.npz"),
            "--outputs", str(out), "--save-params", str(params), "--backend", "qemu"]  # fmt: skip
    assert "arm-none-eabi-gcc" in _error(capsys, argv)
    assert not out.exists() and not params.exists()


def test_build_failure(
    models: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CC", "false")  # the generated Makefile's compiler fails
    out = tmp_path / "out.npz"
    argv = [str(models["last-3"]), "--func", "train_step", "--inputs", _step_inputs(tmp_path / "in.npz"),
            "--outputs", str(out), "--backend", "host"]  # fmt: skip
    assert "host build/run failed" in _error(capsys, argv)
    assert not out.exists()
    assert not list(tmp_path.glob(".*"))  # no temporary file left beside the outputs


def test_label_out_of_range(
    models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.npz"
    argv = [str(models["last-3"]), "--func", "train_step", "--inputs", _step_inputs(tmp_path / "in.npz", 9),
            "--outputs", str(out), "--backend", "host"]  # fmt: skip
    assert "label" in _error(capsys, argv)
    assert not out.exists()
