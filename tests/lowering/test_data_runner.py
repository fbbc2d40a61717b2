"""The data-driven host runner (templates/data_main.c, lowering/data_runner.py) vs the interpreter.

The runner streams its samples from files; built with ASan + UBSan here. Oracle: the reference
interpreter trained on the same samples in the same order (losses 1e-5, held-out logits after
training bit-exact, parameters as in tests/lowering/test_c_bundled.py), with and without the
evaluation before training. Also: the learning-rate schedules against their formulas (and
against lowering.schedules.learning_rate_at, the Python rule), the divergence watch on a rate
that breaks training, and bad files rejected with a message.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from lowering_harness import SANITIZE, TRAINING_PASSES, assert_params_close, compiled, interpreter_run

from lowering.app import Samples
from lowering.data_runner import HostDataRunner, write_samples
from lowering.schedules import learning_rate_at
from ttdialect.bundled import copy_model, new_task

STEPS = 8


@pytest.fixture(scope="module")
def task():
    return new_task()


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("data_runner")
    module = compiled(copy_model(work), TRAINING_PASSES.format(scheme="last-3", lr=0.05))
    return module, work, HostDataRunner(module, work, work / "build", extra_cflags=SANITIZE)


@pytest.mark.parametrize(("seed", "evaluate_before"), [(0, True), (7, True), (0, False)])
def test_streamed_training_matches_interpreter(runner, task, seed: int, evaluate_before: bool) -> None:
    module, work, host = runner
    order = [5, 0, 3, 3, 7, 1, 6, 2]  # any order, repeats included
    train_x, train_y = task.train_x[:8], task.train_y[:8]
    run = host.run((train_x, train_y), (task.test_x[:12], task.test_y[:12]), learning_rate=0.05,
                   order=order, trace=True, window=4, seed=seed, evaluate_before=evaluate_before)  # fmt: skip
    assert run.status == 0 and len(run.losses) == STEPS
    ordered = Samples(train_x[order], train_y[order], task.test_x[:12], task.test_y[:12], STEPS)
    losses, logits, state = interpreter_run(module, work, ordered, STEPS, seed)
    np.testing.assert_allclose(run.losses, losses, rtol=1e-5, atol=1e-5)
    assert run.logits == [list(map(int, row)) for row in logits]
    assert_params_close(host.model, run, state)  # type: ignore[arg-type]
    assert set(run.accuracy) == ({"before", "after"} if evaluate_before else {"after"})
    assert [r.step for r in run.reports] == [4, 8]


@pytest.mark.parametrize(
    ("schedule", "decay", "period", "expected"),
    [
        ("constant", 0.0, 0, lambda k, n: 0.04),
        ("step", 0.5, 3, lambda k, n: 0.04 * 0.5 ** (k // 3)),
        ("cosine", 0.1, 0, lambda k, n: 0.004 + 0.036 * (1 + math.cos(math.pi * k / n)) / 2),
    ],
)
def test_learning_rate_schedules(runner, task, schedule, decay, period, expected) -> None:
    _, _, host = runner
    run = host.run((task.train_x[:10], task.train_y[:10]), learning_rate=0.04, schedule=schedule,
                   decay=decay, period=period, window=1)  # fmt: skip
    assert len(run.reports) == 10
    for report in run.reports:
        assert report.learning_rate == pytest.approx(expected(report.step - 1, 10), rel=2e-5)
        python_rule = learning_rate_at(schedule, 0.04, report.step - 1, 10, decay, period)
        assert report.learning_rate == pytest.approx(python_rule, rel=2e-5)  # the fp32 twin's


def test_divergence_is_reported(runner, task) -> None:
    _, _, host = runner
    run = host.run((task.train_x[:60], task.train_y[:60]), learning_rate=50.0, window=10)
    assert any("int8 limits" in warning for warning in run.warnings), run.text
    assert max(r.logits_at_limits for r in run.reports) >= 0.5


def test_bad_samples_file(runner, tmp_path: Path, task) -> None:
    _, _, host = runner
    program = str(host.project / "train_data")
    write_samples(tmp_path / "small.bin", task.train_x[:2, :8], task.train_y[:2])
    (tmp_path / "junk.bin").write_bytes(b"TTSMPL01" + b"\xff" * 7)
    write_samples(tmp_path / "ok.bin", task.train_x[:2], task.train_y[:2])
    (tmp_path / "cut.bin").write_bytes((tmp_path / "ok.bin").read_bytes()[:-5])
    cases = [
        (["--train", str(tmp_path / "missing.bin")], "cannot open"),
        (["--train", str(tmp_path / "small.bin")], "another size"),
        (["--train", str(tmp_path / "junk.bin")], "not a samples file"),
        (["--train", str(tmp_path / "cut.bin")], "truncated"),
        (["--train", str(tmp_path / "ok.bin"), "--lr", "-1"], "not a rate"),
        (["--train", str(tmp_path / "ok.bin"), "--epochs", "x"], "not a count"),
        (["--train", str(tmp_path / "ok.bin"), "--schedule", "linear"], "unknown schedule"),
        (["--train", str(tmp_path / "ok.bin"), "--order", str(tmp_path / "ok.bin")], "not an order file"),
        (["--bogus", "1"], "unknown option"),
    ]
    for args, message in cases:
        done = subprocess.run([program, *args], capture_output=True, text=True)
        assert done.returncode == 2, (args, done.stdout)
        assert message in done.stderr, (args, done.stderr)
