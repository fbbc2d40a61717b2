"""The divergence watch: Python (ttdialect/monitor.py) against the C rule it mirrors
(runtime_c tt_train_watch: thresholds and messages read from the runtime's sources), its
behaviour on made-up loss sequences, and the interpreter trainer on a rate that breaks training."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from passes import apply_pipeline
from ttdialect import monitor
from ttdialect.bundled import copy_model, new_task
from ttdialect.ir_io import load_module
from ttdialect.trainer import InterpreterTrainer

RUNTIME = Path(__file__).resolve().parents[1] / "runtime_c"


def test_python_rule_is_the_c_rule() -> None:
    header = (RUNTIME / "include" / "tt_runtime.h").read_text()
    defines = dict(re.findall(r"#define TT_WATCH_(\w+) ([0-9.]+)f?u?", header))
    assert float(defines["RISING_RATIO"]) == monitor.RISING_RATIO
    assert float(defines["LOGITS_SHARE"]) == monitor.LOGITS_SHARE
    assert float(defines["WEIGHTS_SHARE"]) == monitor.WEIGHTS_SHARE
    for name, flag in (
        ("NONFINITE_LOSS", 1),
        ("LOSS_RISING", 2),
        ("LOGITS_SATURATED", 4),
        ("WEIGHTS_SATURATED", 8),
    ):
        assert int(defines[name]) == flag == getattr(monitor, name)
    source = (RUNTIME / "src" / "tt_training.c").read_text()
    cases = re.findall(r"case TT_WATCH_(\w+):\s*return ((?:\s*\"[^\"]*\")+);", source)
    messages = {name: "".join(re.findall(r"\"([^\"]*)\"", text)) for name, text in cases}
    assert {getattr(monitor, name): text for name, text in messages.items()} == monitor.MESSAGES


def test_watch_flags() -> None:
    watch = monitor.TrainingWatch(window=2)
    losses = [2.0, 2.0, 0.5, 0.5, 1.9, 1.9, 2.5, 2.5]  # windows 2.0, 0.5, 1.9 (noise), 2.5 (lost it all)
    assert [watch.loss(x, i) for i, x in enumerate(losses, 1)] == [0, 0, 0, 0, 0, 0, 0, 2]
    assert watch.loss(math.nan, 9) == monitor.NONFINITE_LOSS
    assert watch.logits(np.array([127, -128, 3, 4]), 8) == monitor.LOGITS_SATURATED
    assert watch.logits(np.array([126, -127, 3, 4]), 9) == 0
    assert watch.weights(0.11, 10) == monitor.WEIGHTS_SATURATED and watch.weights(0.1, 11) == 0
    assert len(watch.warnings) == 4 and watch.flags == 15  # one warning per kind


def test_shares() -> None:
    assert monitor.share_at_limits(np.array([-128, 0, 127, 5], np.int8), -128, 127) == 0.5
    weights = [np.array([127, -127, 0], np.int8), np.array([[-126, 1]], np.int8)]
    assert monitor.weight_saturation(weights) == 0.4
    assert monitor.weight_saturation([]) == 0.0


def test_interpreter_trainer_warns_on_a_breaking_rate(tmp_path: Path) -> None:
    task = new_task()
    warnings = {}
    for rate in (0.05, 20.0):
        module = load_module(copy_model(tmp_path))
        apply_pipeline(module, f"tt-autodiff{{lr={rate}}},tt-sparse-update{{scheme=last-3}},tt-qas", tmp_path)
        trainer = InterpreterTrainer(module, tmp_path, window=10)
        trainer.train(task.train_x, task.train_y, 40)
        warnings[rate] = trainer.watch.warnings
    assert warnings[0.05] == []
    assert any("int8 limits" in w for w in warnings[20.0])
