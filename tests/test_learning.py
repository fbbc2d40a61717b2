"""Learning at IR level: a sparse training step, run in the interpreter, learns a new task.

The bundled digits CNN was trained on digits 0-5; the new task is digits 6-9 (labels 0-3 of its
head). Accuracy is measured by `@forward` on held-out samples, before and after 300 interpreter
steps of `last-3` (the last three convs and the classifier), with QAS on and off at the same
learning rate. The oracle is the held-out labels: nothing here is computed by the code under test
except the model itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from passes import apply_pipeline
from ttdialect.bundled import copy_model, new_task
from ttdialect.ir_io import load_module
from ttdialect.trainer import InterpreterTrainer

STEPS = 300


def trained_accuracy(tmp_path: Path, qas: bool) -> tuple[float, float, list[float]]:
    module = load_module(copy_model(tmp_path))
    qas_option = f"tt-qas{{enabled={str(qas).lower()}}}"
    apply_pipeline(module, f"tt-autodiff{{lr=0.05}},tt-sparse-update{{scheme=last-3}},{qas_option}", tmp_path)
    trainer = InterpreterTrainer(module, tmp_path)
    task = new_task()
    before = trainer.accuracy(task.test_x, task.test_y)
    losses = trainer.train(task.train_x, task.train_y, STEPS)
    return before, trainer.accuracy(task.test_x, task.test_y), losses


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, tuple[float, float, list[float]]]:
    return {qas: trained_accuracy(tmp_path_factory.mktemp(f"qas{qas}"), qas) for qas in (True, False)}


def test_sparse_training_with_qas_learns_unseen_classes(runs) -> None:
    before, after, losses = runs[True]
    print(f"QAS on: held-out accuracy {before:.3f} -> {after:.3f}")
    assert before < 0.4, "the untrained head should be near chance on digits it never saw"
    assert after >= before + 0.4
    assert sum(losses[-50:]) < 0.6 * sum(losses[:50])


def test_qas_beats_unscaled_gradients_at_the_same_learning_rate(runs) -> None:
    _, with_qas, _ = runs[True]
    before, without_qas, _ = runs[False]
    print(f"QAS off: held-out accuracy {before:.3f} -> {without_qas:.3f}")
    assert with_qas > without_qas + 0.2
