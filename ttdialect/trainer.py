"""Train and evaluate a training-step module with the reference interpreter.

The module holds `@forward(image)` and `@train_step(image, label)` (as `tt-autodiff` builds
them); both share one `ParamState`, so `train_step` updates what `forward` then computes.
Training is watched for divergence (ttdialect.monitor): `watch.warnings` says what it saw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.interpreter import Interpreter

from ttdialect.interpreter import ParamState, make_interpreter
from ttdialect.monitor import TrainingWatch, weight_saturation
from ttdialect.weights import trained_masks


@dataclass
class InterpreterTrainer:
    """Runs `train_step` on samples one at a time (batch 1) and measures top-1 accuracy."""

    module: ModuleOp
    base_dir: Path
    window: int = 50
    interpreter: Interpreter = field(init=False)
    state: ParamState = field(init=False)
    watch: TrainingWatch = field(init=False)

    def __post_init__(self) -> None:
        self.interpreter, self.state = make_interpreter(self.module, self.base_dir)
        self.watch = TrainingWatch(self.window)
        masks = trained_masks(self.module)
        self._trained_int8 = {
            name: mask for name, mask in masks.items() if self.state.value(name).dtype == np.int8
        }
        self._initial_saturation = self.weight_saturation()

    def logits(self, image: np.ndarray) -> np.ndarray:
        (logits,) = self.interpreter.call_op("forward", (image[None],))
        return np.asarray(logits[0])

    def predict(self, image: np.ndarray) -> int:
        return int(np.argmax(self.logits(image)))

    def weight_saturation(self) -> float:
        """The share of the trained int8 weights at the update's limits."""
        return weight_saturation(self.state.value(name)[mask] for name, mask in self._trained_int8.items())

    def accuracy(self, images: np.ndarray, labels: np.ndarray) -> float:
        hits = sum(self.predict(image) == label for image, label in zip(images, labels, strict=True))
        return hits / len(labels)

    def step(self, image: np.ndarray, label: int) -> float:
        (loss,) = self.interpreter.call_op("train_step", (image[None], np.array([label], dtype=np.int32)))
        return float(loss)

    def train(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        steps: int,
        seed: int = 0,
        on_step: Callable[[int, float], None] | None = None,
    ) -> list[float]:
        """`steps` SGD steps on samples drawn in a seeded random order (epochs reshuffled)."""
        rng = np.random.default_rng(seed)
        order: list[int] = []
        losses = []
        for index in range(steps):
            if not order:
                order = list(rng.permutation(len(labels)))
            sample = order.pop()
            losses.append(self.step(images[sample], int(labels[sample])))
            self.watch.loss(losses[-1], index + 1)
            if (index + 1) % self.window == 0:
                self.watch.logits(self.logits(images[sample]), index + 1)
                self.watch.weights(self.weight_saturation() - self._initial_saturation, index + 1)
            if on_step is not None:
                on_step(index, losses[-1])
        return losses
