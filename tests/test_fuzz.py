"""The mutation fuzzer (tests/fuzzing.py) over every tool, bounded for CI; bench/fuzz.py runs more.

First the fuzzer itself must be able to fail: stand-in tools that crash, hang, die on a signal,
accept bad input or leave files behind are each caught. Then every tool (and tt-import on damaged
.tflite files), 30 seeded cases each: no traceback, hang, signal, wrong status, bad input
accepted or output left behind.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzzing import GENERATORS, Case, fuzz, run_case  # noqa: E402

CASES_PER_TOOL = 30


def _crash(argv: list[str]) -> None:
    raise RuntimeError("boom")


def _hang(argv: list[str]) -> None:
    time.sleep(60)


def _signal(argv: list[str]) -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def _accepts_anything(argv: list[str]) -> None:
    Path("out.mlir").write_text("not IR")


def _fails_but_writes(argv: list[str]) -> None:
    Path("half.npz").write_bytes(b"PK")
    sys.exit(1)


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        (_crash, "traceback"),
        (_hang, "hang"),
        (_signal, f"signal {int(signal.SIGSEGV)}"),
        (_accepts_anything, "exit 0 without valid outputs"),
        (_fails_but_writes, "left behind"),
    ],
)
def test_the_fuzzer_catches_each_failure_class(tool, expected: str) -> None:
    case = Case("fake", [], {"in.mlir": b"x"}, ["out.mlir"], "none")
    outcome = run_case(case, {"fake": tool}, timeout=2.0)
    assert any(failure.startswith(expected) for failure in outcome.failures()), outcome.failures()


def test_no_tool_crashes_hangs_accepts_bad_input_or_leaves_output() -> None:
    outcomes = fuzz(seed=12, per_tool=CASES_PER_TOOL)
    assert len(outcomes) == len(GENERATORS) * CASES_PER_TOOL
    failures = [
        f"{o.case.tool} {' '.join(o.case.argv)} [{o.case.mutation}]: {o.failures()}"
        for o in outcomes
        if o.failures()
    ]
    assert not failures, "\n".join(failures)
    assert any(o.status == 0 for o in outcomes) and any(o.status == 1 for o in outcomes)


def test_layer_ops_hold_up_under_mutation() -> None:
    """tt-opt on mutated IR of the new layers (the round-trip file and a network with every new
    layer, verified, planned by the whole pipeline, lowered to C): no traceback, hang, signal,
    bad input accepted or output left behind."""
    import random

    from fuzzing import REPO, _tools, mutate_text

    filecheck = REPO / "tests" / "filecheck"
    sources = {
        "layers.mlir": (filecheck / "dialect" / "layers.mlir").read_text(),
        "layers_cnn.mlir": (filecheck / "passes" / "inputs" / "layers_cnn.mlir").read_text(),
    }
    rng, tools, failures = random.Random(16), _tools(), []
    actions = {
        "verify": (["-o", "out.mlir"], ["out.mlir"]),
        "pipeline": (["-p", "tt-training-pipeline{scheme=full}", "-o", "out.mlir"], ["out.mlir"]),
        "c": (["-t", "c{model=m dir=gen}"], []),
    }
    for _ in range(CASES_PER_TOOL):
        name = rng.choice(sorted(sources))
        text, what = mutate_text(rng, sources[name])
        action = rng.choice(sorted(actions))
        extra, outputs = actions[action]
        case = Case("tt-opt", ["in.mlir", *extra], {"in.mlir": text.encode()}, outputs, f"{name} {what}")
        outcome = run_case(case, tools)
        if outcome.failures():
            failures.append(f"{case.mutation} ({action}): {outcome.failures()}")
    assert not failures, "\n".join(failures)
