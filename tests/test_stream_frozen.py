"""tt.bottleneck and tt-stream-frozen: the fused op computes exactly what its convs compute.

Oracles: the same chain written as separate `tt.conv2d` ops, run by the interpreter on the same
input and parameters (random shapes); the zoo models' @forward and @train_step before the pass
(identical logits, loss and updated parameters, bit for bit); for the scratch formula, the byte
count written out by hand for each case.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from bottleneck_cases import CASES, Chain, bottleneck_text, chain_text, make_chain
from irbuild import assert_spread, build_and_run, function, module_text, parse
from xdsl.dialects import func

from passes import apply_pipeline
from passes.memory.liveness import analyze, bottleneck_scratch_bytes, scratch_bytes
from passes.stream_frozen import StreamFrozenPass
from ttdialect import dialect as tt
from ttdialect.importers.tiny_training import default_zoo_dir
from ttdialect.interpreter import ParamState, run_function
from ttdialect.ir_io import find_function, load_module, make_context
from ttdialect.weights import WeightStore

ZOO = default_zoo_dir()
needs_zoo = pytest.mark.skipif(not ZOO.is_dir(), reason=f"zoo folder {ZOO} is absent")


def _run(chain: Chain, body: list[str]) -> np.ndarray:
    args, results = [("x", chain.types()[0])], [("r", chain.types()[-1])]
    (out,), _ = build_and_run(chain.params(), args, body, results, [chain.x])
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_bottleneck_equals_its_convs(name: str) -> None:
    chain = make_chain(CASES[name], seed=list(CASES).index(name) + 11)
    expected = _run(chain, chain_text(chain))
    assert_spread(expected, *chain.stages[-1].act)
    np.testing.assert_array_equal(_run(chain, bottleneck_text(chain)), expected)


@pytest.mark.parametrize("name", ["mbv2_s2", "no_expand"])
def test_pass_output_equals_its_input(name: str) -> None:
    chain = make_chain(CASES[name], seed=5)
    args, results = [("x", chain.types()[0])], [("r", chain.types()[-1])]
    text = module_text(chain.params(), [function("f", args, chain_text(chain), results)])
    module = parse(text)
    StreamFrozenPass().apply(make_context(), module)
    ops = [op.name for op in module.walk() if op.name.startswith("tt.") and op.name != "tt.param"]
    assert ops == ["tt.bottleneck"]
    got = run_function(module, "f", [chain.x])[0]
    np.testing.assert_array_equal(got, _run(chain, chain_text(chain)))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mbv2_s2", 3 * 8 * 12 + 4 * 12),  # ring of 3 rows of 8 x 12, one output row of 4 x 12
        ("k5x3_mixed", 5 * 7 * 6 + 7 * 6),
        ("no_expand", 6 * 7),  # no ring: the depthwise conv reads the input
        ("stem_k3_s2", 3 * 8 * 8 + 8 * 8),  # the ring holds rows of the 9x8 expanded (stem) output
    ],
)
def test_scratch_bytes_and_plan(name: str, expected: int) -> None:
    chain = make_chain(CASES[name], seed=1)
    args, results = [("x", chain.types()[0])], [("r", chain.types()[-1])]
    module = parse(module_text(chain.params(), [function("f", args, bottleneck_text(chain), results)]))
    op = next(o for o in module.walk() if isinstance(o, tt.BottleneckOp))
    assert bottleneck_scratch_bytes(op) == scratch_bytes(op) == expected
    function_op = next(o for o in module.walk() if isinstance(o, func.FuncOp))
    buffers = analyze(function_op).buffers
    assert [b.size for b in buffers if b.scratch_of is op] == [expected]
    apply_pipeline(module, "tt-memory-plan", Path("."))
    assert "tt.scratch_offset" in op.attributes


# --------------------------------------------------------------------------- zoo models


@pytest.fixture(scope="module")
def zoo_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("zoo")
    paths = {}
    for name in ("mbv2-w0.35", "proxyless-w0.3", "mcunet-5fps"):
        paths[name] = folder / f"{name}.mlir"
        command = ["tt-import", "--zoo", name, "--num-classes", "10", "-o", str(paths[name])]
        subprocess.run(command, check=True)
    return paths


def image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, (1, 128, 128, 3)).astype(np.int8)


def count(module, op_type: type) -> int:  # noqa: ANN001
    return sum(isinstance(op, op_type) for op in module.walk())


@needs_zoo
@pytest.mark.parametrize("name", ["mbv2-w0.35", "proxyless-w0.3", "mcunet-5fps"])
def test_forward_of_zoo_models_unchanged(zoo_models: dict[str, Path], name: str) -> None:
    path = zoo_models[name]
    before = load_module(path)
    after = before.clone()
    apply_pipeline(after, "tt-stream-frozen", path.parent)
    assert count(after, tt.BottleneckOp) > 10
    stems = [op for op in after.walk() if isinstance(op, tt.BottleneckOp) and op.expand_stride is not None]
    assert len(stems) == 1  # the strided stem conv streamed into the first block
    x = image(7)
    expected = run_function(before, "forward", [x], path.parent)[0]
    np.testing.assert_array_equal(run_function(after, "forward", [x], path.parent)[0], expected)


def run_step(module, base: Path) -> tuple[float, dict[str, np.ndarray], int]:  # noqa: ANN001
    state = ParamState(WeightStore(module, base))
    loss = run_function(module, "train_step", [image(3), np.array([4], np.int32)], base, state)[0]
    return loss, {name: state.value(name).copy() for name in state.params}, state.rng_counter


@needs_zoo
def test_train_step_of_sparse_preset_unchanged(zoo_models: dict[str, Path]) -> None:
    """mbv2-w0.35/49kb: the frozen blocks are streamed in @train_step, and the step (loss,
    every parameter after the update, RNG counter) is bit identical."""
    path = zoo_models["mbv2-w0.35"]
    before = load_module(path)
    training = "tt-autodiff{lr=0.05},tt-sparse-update{scheme=mbv2-w0.35/49kb},tt-qas,tt-fuse-update"
    apply_pipeline(before, training, path.parent)
    after = before.clone()
    apply_pipeline(after, "tt-stream-frozen,tt-reorder{quiet=true}", path.parent)
    train = find_function(after, "train_step")
    assert train is not None
    assert count(train, tt.BottleneckOp) >= 5
    loss_before, params_before, counter_before = run_step(before, path.parent)
    loss_after, params_after, counter_after = run_step(after, path.parent)
    assert loss_after == loss_before
    assert counter_after == counter_before
    changed = [name for name in params_before if not np.array_equal(params_before[name], params_after[name])]
    assert not changed, f"tt-stream-frozen changed {changed[:5]}"
    initial = ParamState(WeightStore(before, path.parent))
    moved = [name for name in params_before if not np.array_equal(params_before[name], initial.value(name))]
    assert moved, "the step updated nothing: the comparison would be vacuous"
