"""Scheduling passes (tt-fuse-update, tt-clamp-masks, ...) preserve what @train_step computes, on
the zoo models.

Oracle: the same training step before the pass, run by the interpreter on the same image and
label from the same parameters: the loss and every parameter after the step must be identical
(bit for bit: the passes only regroup and reorder work, the RNG is consumed in the same order).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects.builtin import StringAttr

from passes import apply_pipeline
from passes.memory.liveness import value_bytes
from ttdialect import dialect as tt
from ttdialect.importers.tiny_training import default_zoo_dir
from ttdialect.interpreter import ParamState, run_function
from ttdialect.ir_io import load_module
from ttdialect.weights import WeightStore

ZOO = default_zoo_dir()
needs_zoo = pytest.mark.skipif(not ZOO.is_dir(), reason=f"zoo folder {ZOO} is absent")
TRAINING = "tt-autodiff{{lr=0.05}},tt-sparse-update{{scheme={scheme}}},tt-qas"
CASES = [("mcunet-5fps", "mcunet-5fps/148kb"), ("mbv2-w0.35", "mbv2-w0.35/138kb"), ("mbv2-w0.35", "full")]
PLAN_CASES = [*CASES, ("proxyless-w0.3", "full")]  # many long-lived clamp masks among large buffers
STEPS = 2


@pytest.fixture(scope="module")
def zoo_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("zoo")
    paths = {}
    for name in {name for name, _ in PLAN_CASES}:
        paths[name] = folder / f"{name}.mlir"
        command = ["tt-import", "--zoo", name, "--num-classes", "10", "-o", str(paths[name])]
        subprocess.run(command, check=True)
    return paths


def images(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.integers(-128, 128, (1, 128, 128, 3)).astype(np.int8) for _ in range(count)]


def run_steps(module, base: Path) -> tuple[list[float], dict[str, np.ndarray]]:  # noqa: ANN001
    state = ParamState(WeightStore(module, base))
    losses = [
        run_function(module, "train_step", [x, np.array([i % 10], np.int32)], base, state)[0]
        for i, x in enumerate(images(STEPS))
    ]
    return losses, {name: state.value(name).copy() for name in state.params}


def assert_same_step(model: Path, scheme: str, extra: str) -> tuple[object, object]:
    before = load_module(model)
    apply_pipeline(before, TRAINING.format(scheme=scheme), model.parent)
    after = before.clone()
    apply_pipeline(after, extra, model.parent)
    losses_before, params_before = run_steps(before, model.parent)
    losses_after, params_after = run_steps(after, model.parent)
    assert losses_after == losses_before
    changed = [name for name in params_before if not np.array_equal(params_before[name], params_after[name])]
    assert not changed, f"{extra} changed the step's result for {changed[:5]}"
    return before, after


@needs_zoo
@pytest.mark.parametrize(("name", "scheme"), CASES)
def test_fuse_update_preserves_the_step(zoo_models: dict[str, Path], name: str, scheme: str) -> None:
    before, after = assert_same_step(zoo_models[name], scheme, "tt-fuse-update")
    updates_before = sum(isinstance(op, tt.SGDUpdateOp) for op in before.walk())
    fused = sum(isinstance(op, tt._FusedUpdateLike) for op in after.walk())
    assert fused == updates_before > 0
    assert not any(isinstance(op, tt.SGDUpdateOp | tt.ScaleGradOp) for op in after.walk())


@needs_zoo
@pytest.mark.parametrize(("name", "scheme"), CASES)
def test_clamp_masks_preserve_the_step(zoo_models: dict[str, Path], name: str, scheme: str) -> None:
    before, after = assert_same_step(zoo_models[name], scheme, "tt-fuse-update,tt-clamp-masks")
    masked = sum(isinstance(op, tt.MaskGradOp) for op in after.walk())
    clamp_grads_before = sum(isinstance(op, tt.ClampGradOp) for op in before.walk())
    kept = [op for op in after.walk() if isinstance(op, tt.ClampGradOp)]
    assert masked > 0 and masked + len(kept) == clamp_grads_before
    for op in kept:  # every int8 output kept for the backward is read there by more than its clamp
        assert any(not isinstance(use.operation, tt.ClampGradOp | tt.Conv2DOp) for use in op.output.uses)


EXPAND_CASES = [
    ("mbv2-w0.35", "mbv2-w0.35/138kb"),
    ("proxyless-w0.3", "proxyless-w0.3/148kb"),
    ("mcunet-5fps", "mcunet-5fps/148kb"),
]


@needs_zoo
@pytest.mark.parametrize(("name", "scheme"), EXPAND_CASES)
def test_fuse_expand_grad_preserves_the_step(zoo_models: dict[str, Path], name: str, scheme: str) -> None:
    """The chains of the sparse presets whose expanded gradient set the memory peak are fused,
    each with its expand conv's bias update, and the step stays bit identical."""
    pipeline = "tt-fuse-update,tt-clamp-masks,tt-reorder{quiet=true},tt-fuse-expand-grad"
    before, after = assert_same_step(zoo_models[name], scheme, pipeline)
    fused = [op for op in after.walk() if isinstance(op, tt.ExpandDepthwiseGradInputOp)]
    assert fused and all(op.has_bias_update for op in fused)
    updated_before = {op.param for op in before.walk() if isinstance(op, tt.SGDUpdateOp)}
    assert {tt.updated_param(op) for op in after.walk()} - {None} == updated_before


@needs_zoo
@pytest.mark.parametrize(("name", "scheme"), CASES)
def test_reorder_preserves_the_step_and_never_raises_the_bound(
    zoo_models: dict[str, Path], name: str, scheme: str
) -> None:
    before, after = assert_same_step(zoo_models[name], scheme, "tt-fuse-update,tt-reorder{quiet=true}")
    train = next(op for op in after.walk() if getattr(op, "sym_name", None) == StringAttr("train_step"))
    assert train.attributes["tt.live_bytes_lower_bound"].value.data <= program_order_peak(after)


def program_order_peak(module) -> int:  # noqa: ANN001
    """Peak live bytes of @train_step in the fused program order, computed here from the uses."""
    fused = module.clone()
    apply_pipeline(fused, "tt-memory-plan", Path("."))
    train = next(op for op in fused.walk() if getattr(op, "sym_name", None) == StringAttr("train_step"))
    return train.attributes["tt.arena_lower_bound"].value.data


def independent_overlaps(function) -> list[str]:  # noqa: ANN001
    """Pairs of values live at the same step whose planned byte ranges intersect.

    Lifetimes are recomputed here from the IR (definition to last use). Two values may share
    bytes only if one is a view of the other: a tt.reshape of it, or an op's result written over
    its first operand at the same offset (an elementwise op, or a same-shape depthwise input
    gradient)."""
    ops = list(function.body.block.ops)
    step = {op: i + 1 for i, op in enumerate(ops)}
    ranges = []
    args = function.attributes["tt.arg_offsets"].get_values()
    values = [(arg, 0, offset) for arg, offset in zip(function.body.block.args, args, strict=True)]
    for op in ops:
        if "tt.offsets" in op.attributes:
            for result, offset in zip(op.results, op.attributes["tt.offsets"].get_values(), strict=True):
                values.append((result, step[op], offset))
    offset_of = {value: offset for value, _, offset in values}

    def storage(value):  # noqa: ANN001, ANN202
        op = value.owner
        views = (tt.ReshapeOp, tt.ClampGradOp, tt.MaskGradOp, tt.GradAccumulateOp, tt.ScaleGradOp)
        views += (tt.Conv2DGradInputOp,)
        if isinstance(op, views) and offset_of.get(op.operands[0]) == offset_of[value]:
            return storage(op.operands[0])
        return value

    for value, first, offset in values:
        if offset < 0:
            continue
        size = value_bytes(value)
        last = max([step[use.operation] for use in value.uses] + [first])
        ranges.append((storage(value), first, last, offset, offset + size))
    clashes = []
    for i, a in enumerate(ranges):
        for b in ranges[i + 1 :]:
            if a[0] is not b[0] and a[1] <= b[2] and b[1] <= a[2] and a[3] < b[4] and b[3] < a[4]:
                clashes.append(f"{a[0].name_hint} / {b[0].name_hint}")
    return clashes


@needs_zoo
@pytest.mark.parametrize(("name", "scheme"), PLAN_CASES)
def test_memory_plans_are_overlap_free_and_tight(zoo_models: dict[str, Path], name: str, scheme: str) -> None:
    pipeline = "tt-fuse-update,tt-clamp-masks,tt-reorder{quiet=true},tt-fuse-expand-grad,tt-memory-plan"
    _, after = assert_same_step(zoo_models[name], scheme, pipeline)
    train = next(op for op in after.walk() if getattr(op, "sym_name", None) == StringAttr("train_step"))
    assert independent_overlaps(train) == []
    arena = train.attributes["tt.arena_bytes"].value.data
    bound = train.attributes["tt.arena_lower_bound"].value.data
    assert bound <= arena <= 1.01 * bound
