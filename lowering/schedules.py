"""The learning-rate schedules train_data applies (tt_lr_at in runtime_c/src/tt_training.c):
their names, and the same rule in Python for trainers outside the generated C (the fp32 twin
of bench/accuracy.py). A light module: tools read the names without importing the lowering."""

from __future__ import annotations

import math

SCHEDULES = ("constant", "step", "cosine")

DEFAULT_SCHEDULE = "cosine"
"""How it was chosen (bench/accuracy.py --schedule cosine, docs/benchmarks.md): fine-tuning the
three zoo presets on Fashion-MNIST at batch 1, a cosine decay to 0 at the last step beat a
constant rate on the validation images at 28 of the 29 rates from 0.0002 to 0.005 where
training did not collapse, int8+QAS and fp32 alike, by up to 18 points (the exception: mcunet's
fp32 at 0.0002, -0.8); at a constant rate the last few samples move the model at the full rate,
so the result depends on how the sample order ends."""


def learning_rate_at(
    schedule: str, base: float, step: int, steps: int, decay: float = 0.0, period: int = 0
) -> float:
    """The rate train_data's tt_lr_at gives step `step` of `steps` (in float64; the C computes in
    float32): for trainers outside the generated C that must follow the same schedule."""
    if schedule == "step":
        return base * decay ** (step // (period or steps))
    if schedule == "cosine":
        final = base * decay
        return final + (base - final) * 0.5 * (1.0 + math.cos(math.pi * min(step, steps) / steps))
    return base
