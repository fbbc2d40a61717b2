"""The divergence watch of a training loop in Python: the rule of runtime_c's tt_train_watch.

The generated C and the data runner watch their training with tt_train_watch (tt_runtime.h);
the interpreter's trainer and tt-run use this class, with the same thresholds (a test reads
them from the header) and the same warnings:
- a loss that is not finite;
- a window of losses whose mean is above the first window's and above RISING_RATIO x the lowest
  window mean so far (training lost its progress; batch-1 noise alone does not);
- at least LOGITS_SHARE of a sample's logits at the int8 limits (-128 or 127), where the clamp
  passes no gradient: training is stuck;
- training driving more than WEIGHTS_SHARE of the trained int8 weights to the update's limits
  (-127 or 127): `weights()` takes the share now minus the share before training, since
  per-channel quantization puts one weight of every row at the limit to begin with.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

NONFINITE_LOSS, LOSS_RISING, LOGITS_SATURATED, WEIGHTS_SATURATED = 1, 2, 4, 8
RISING_RATIO = 1.5
LOGITS_SHARE = 0.5
WEIGHTS_SHARE = 0.1
MESSAGES = {
    NONFINITE_LOSS: "the loss is not finite: training diverged (lower the learning rate)",
    LOSS_RISING: "the loss is rising over a window: training may be diverging (lower the learning rate)",
    LOGITS_SATURATED: "most logits sit at the int8 limits, where the clamp passes no gradient: training is "
    "stuck (lower the learning rate)",
    WEIGHTS_SATURATED: "many trained weights sit at the int8 limits: updates are saturating (lower the "
    "learning rate)",
}


def share_at_limits(values: np.ndarray, low: int, high: int) -> float:
    """The share of values <= low or >= high (0 for none)."""
    values = np.asarray(values)
    return float(np.mean((values <= low) | (values >= high))) if values.size else 0.0


def weight_saturation(weights: Iterable[np.ndarray]) -> float:
    """The share of all the given int8 weights at the update's limits (-127 or 127)."""
    arrays = [np.asarray(w).ravel() for w in weights]
    total = sum(a.size for a in arrays)
    return sum(int(np.sum(np.abs(a.astype(np.int32)) >= 127)) for a in arrays) / total if total else 0.0


@dataclass
class TrainingWatch:
    """Feed it every loss, and now and then a sample's logits and the weight saturation."""

    window: int = 50
    flags: int = 0
    warnings: list[str] = field(default_factory=list)
    _count: int = 0
    _sum: float = 0.0
    _first_mean: float = math.nan
    _best_mean: float = math.nan

    def _raise(self, raised: int, step: int) -> int:
        for flag, message in MESSAGES.items():
            if raised & flag and not self.flags & flag:
                self.warnings.append(f"step {step}: {message}")
        self.flags |= raised
        return raised

    def loss(self, value: float, step: int) -> int:
        if not math.isfinite(value):
            return self._raise(NONFINITE_LOSS, step)
        self._sum += value
        self._count += 1
        if self._count < self.window:
            return 0
        mean = self._sum / self._count
        rising = mean > self._first_mean and mean > RISING_RATIO * self._best_mean  # False while NaN
        if math.isnan(self._first_mean):
            self._first_mean = mean
        if not mean >= self._best_mean:
            self._best_mean = mean
        self._count, self._sum = 0, 0.0
        return self._raise(LOSS_RISING if rising else 0, step)

    def logits(self, values: np.ndarray, step: int) -> int:
        saturated = share_at_limits(values, -128, 127) >= LOGITS_SHARE
        return self._raise(LOGITS_SATURATED if saturated else 0, step)

    def weights(self, share: float, step: int) -> int:
        return self._raise(WEIGHTS_SATURATED if share > WEIGHTS_SHARE else 0, step)
