"""tt-autodiff / tt-sparse-update / tt-qas on zoo models: what the IR computes, checked.

Oracles: the full (unpruned) training step in the interpreter for pruning; an SGD step written
here in numpy from the gradients of `emit=gradients` for QAS and the update rule; the scheme
table of ANCHORS.md for which parameters change.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects import func

from passes.schemes import PRESETS
from ttdialect import dialect as tt
from ttdialect.importers.tiny_training import default_zoo_dir
from ttdialect.interpreter import ParamState, run_function
from ttdialect.ir_io import load_module
from ttdialect.weights import WeightStore

ZOO = default_zoo_dir()
needs_zoo = pytest.mark.skipif(not ZOO.is_dir(), reason=f"zoo folder {ZOO} is absent")
LABEL = np.array([2], dtype=np.int32)


def image(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-128, 128, (1, 128, 128, 3)).astype(np.int8)


@pytest.fixture(scope="module")
def mcunet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mcunet")
    subprocess.run(
        ["tt-import", "--zoo", "mcunet-5fps", "--num-classes", "10", "-o", str(folder / "model.mlir")],
        check=True,
    )
    return folder


def compile_step(folder: Path, pipeline: str, name: str) -> Path:
    out = folder / f"{name}.mlir"
    subprocess.run(["tt-opt", "-p", pipeline, str(folder / "model.mlir"), "-o", str(out)], check=True)
    return out


def step(path: Path, images: list[np.ndarray]) -> tuple[list[float], dict[str, np.ndarray]]:
    module = load_module(path)
    state = ParamState(WeightStore(module, path.parent))
    losses = [run_function(module, "train_step", [x, LABEL], path.parent, state)[0] for x in images]
    return losses, {name: state.value(name).copy() for name in state.params}


def initial_params(path: Path) -> dict[str, np.ndarray]:
    module = load_module(path)
    state = ParamState(WeightStore(module, path.parent))
    return {name: state.value(name).copy() for name in state.params}


def train_function(path: Path) -> func.FuncOp:
    module = load_module(path)
    return next(op for op in module.ops if isinstance(op, func.FuncOp) and op.sym_name.data == "train_step")


@needs_zoo
def test_sparse_preset_updates_exactly_the_scheme(mcunet: Path) -> None:
    full = compile_step(mcunet, "tt-autodiff{lr=0.5 rounding=nearest},tt-qas", "full")
    sparse = compile_step(
        mcunet,
        "tt-autodiff{lr=0.5 rounding=nearest},tt-sparse-update{scheme=mcunet-5fps/99kb},tt-qas",
        "sparse",
    )
    before = initial_params(full)
    loss_full, after_full = step(full, [image()])
    loss_sparse, after_sparse = step(sparse, [image()])
    assert loss_full == loss_sparse  # the forward and the loss are untouched by pruning

    n_bias, indices, ratios = PRESETS["mcunet-5fps/99kb"]
    convs = [op for op in train_function(full).body.block.ops if isinstance(op, tt.Conv2DOp)]
    assert len(convs) == 42
    bias_layers = set(range(42 - n_bias, 42)) | {i for i, r in zip(indices, ratios, strict=True) if r > 0}
    for index, conv in enumerate(convs):
        weight = conv.weight.root_reference.data
        bias = conv.bias.root_reference.data
        expect_bias = index in bias_layers
        np.testing.assert_array_equal(after_sparse[bias], after_full[bias] if expect_bias else before[bias])
        ratio = dict(zip(indices, ratios, strict=True)).get(index, 0)
        if ratio == 0:
            np.testing.assert_array_equal(after_sparse[weight], before[weight])
        elif ratio == 1:
            np.testing.assert_array_equal(after_sparse[weight], after_full[weight])
        else:
            w = before[weight].astype(np.float64)
            depthwise = tt._int(conv.groups) > 1
            axis = 0 if depthwise else 3
            norms = np.sqrt((w**2).sum(axis=tuple(a for a in range(4) if a != axis)))
            chosen = np.sort(np.argsort(-norms, kind="stable")[: int(ratio * w.shape[axis])])
            others = np.setdiff1d(np.arange(w.shape[axis]), chosen)
            take = (lambda a, c: a[c]) if depthwise else (lambda a, c: a[..., c])
            np.testing.assert_array_equal(
                take(after_sparse[weight], chosen), take(after_full[weight], chosen)
            )
            np.testing.assert_array_equal(take(after_sparse[weight], others), take(before[weight], others))
    for name in ("classifier.weight", "classifier.bias"):
        np.testing.assert_array_equal(after_sparse[name], after_full[name])
        assert not np.array_equal(after_sparse[name], before[name])


@needs_zoo
def test_backward_stops_at_earliest_updated_layer(mcunet: Path) -> None:
    sparse = compile_step(mcunet, "tt-autodiff,tt-sparse-update{scheme=mcunet-5fps/99kb}", "stop")
    train = train_function(sparse)
    updated = {op.param.root_reference.data for op in train.body.block.ops if isinstance(op, tt.SGDUpdateOp)}
    convs = [op for op in train.body.block.ops if isinstance(op, tt.Conv2DOp)]
    earliest = min(
        i for i, c in enumerate(convs) if {c.weight.root_reference.data, c.bias.root_reference.data} & updated
    )
    frozen_below = {c.weight.root_reference.data for c in convs[: earliest + 1]}
    grad_inputs = {
        op.weight.root_reference.data for op in train.body.block.ops if isinstance(op, tt.Conv2DGradInputOp)
    }
    assert not grad_inputs & frozen_below, "an input gradient is computed at or below the stop point"
    assert earliest == 20  # n_bias_update = 22 of 42 convs


def saved_activation_bytes(train: func.FuncOp) -> int:
    """Bytes of forward activations that some backward op reads (each value counted once)."""
    from ttdialect.types import QTensorType

    forward_ops = {
        op for op in train.body.block.ops if op.results and isinstance(op.results[0].type, QTensorType)
    }
    saved = set()
    for op in train.body.block.ops:
        if op in forward_ops or isinstance(op, tt.CrossEntropyOp):
            continue
        for operand in op.operands:
            if operand.owner in forward_ops or operand in train.body.block.args[:1]:
                saved.add(operand)
    return sum(int(np.prod(v.type.get_shape())) for v in saved)


@needs_zoo
def test_saved_activations_shrink_to_what_updates_need(mcunet: Path) -> None:
    full = saved_activation_bytes(train_function(compile_step(mcunet, "tt-autodiff", "saved_full")))
    bias_last = saved_activation_bytes(
        train_function(compile_step(mcunet, "tt-autodiff,tt-sparse-update{scheme=last-1}", "saved_last1"))
    )
    sparse = saved_activation_bytes(
        train_function(
            compile_step(mcunet, "tt-autodiff,tt-sparse-update{scheme=mcunet-5fps/99kb}", "saved_99")
        )
    )
    # last-1: classifier input (160) + logits (10) + last conv's input (1x4x4x576) and output (1x4x4x160)
    assert bias_last == 160 + 10 + 4 * 4 * 576 + 4 * 4 * 160
    assert sparse < full / 5, (sparse, full)


@needs_zoo
def test_qas_step_matches_float_sgd_in_integers(mcunet: Path) -> None:
    """One QAS step with nearest rounding = round(lr * dL/dreal / s) from the emitted gradients."""
    lr = 0.05
    grads_path = compile_step(mcunet, "tt-autodiff{emit=gradients}", "grads")
    module = load_module(grads_path)
    outputs = run_function(module, "train_step", [image(1), LABEL], mcunet)
    names = [a.data["tt.name"].data for a in train_function(grads_path).res_attrs.data[1:]]
    state = ParamState(WeightStore(module, mcunet))
    step_path = compile_step(mcunet, f"tt-autodiff{{lr={lr} rounding=nearest}},tt-qas", "qas_step")
    _, after = step(step_path, [image(1)])
    mismatched = total = 0
    for name, grad in zip(names, outputs[1:], strict=True):
        scales = state.scales(name.removeprefix("grad.")).reshape((-1,) + (1,) * (grad.ndim - 1))
        stored = state.value(name.removeprefix("grad."))
        limit = (-127, 127) if stored.dtype == np.int8 else (-(2**31), 2**31 - 1)
        start = stored.astype(np.float64)
        delta = np.float64(np.float32(lr)) * grad.astype(np.float64) / scales
        expected = np.clip(start - np.floor(delta + 0.5), *limit)
        got = after[name.removeprefix("grad.")]
        assert np.abs(got - expected).max() <= 1, name
        mismatched += int((got != expected).sum())
        total += got.size
    assert mismatched <= 1e-4 * total


@needs_zoo
def test_qas_off_barely_moves_weights(mcunet: Path) -> None:
    """Without QAS the integer-domain gradient is s_W times smaller than dL/dreal: int8 SGD stalls."""
    on = compile_step(mcunet, "tt-autodiff{lr=0.05 rounding=nearest},tt-qas", "qas_on")
    off = compile_step(mcunet, "tt-autodiff{lr=0.05 rounding=nearest},tt-qas{enabled=false}", "qas_off")
    before = initial_params(on)
    _, after_on = step(on, [image(2)])
    _, after_off = step(off, [image(2)])
    moved_on = sum(int((after_on[n] != before[n]).sum()) for n in before if n.endswith("weight"))
    moved_off = sum(int((after_off[n] != before[n]).sum()) for n in before if n.endswith("weight"))
    assert moved_on > 100 * max(moved_off, 1)


@needs_zoo
def test_scheme_errors_are_reported(mcunet: Path, tmp_path: Path) -> None:
    bad_file = tmp_path / "scheme.json"
    bad_file.write_text('{"n_bias_update": 1}')
    out_of_range = tmp_path / "range.yaml"
    out_of_range.write_text("n_bias_update: 1\nmanual_weight_idx: [99]\nweight_update_ratio: [1]\n")
    cases = [
        ("nonsense", "unknown scheme 'nonsense'"),
        (str(bad_file), "needs the keys"),
        (str(out_of_range), "conv index 99 out of range (model has 42)"),
        (str(tmp_path / "missing.json"), "No such file"),
    ]
    for scheme, message in cases:
        result = subprocess.run(
            ["tt-opt", "-p", f"tt-autodiff,tt-sparse-update{{scheme={scheme}}}", str(mcunet / "model.mlir")],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert message in result.stderr
