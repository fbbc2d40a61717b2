"""The bundled default model (a tiny int8 digits CNN) and its samples; see README.md here.

`NEW_TASK_CLASSES` are the digits the model never saw while it was trained (6-9); the new task
maps them to labels 0-3 of its 6-way head, so on-device training must teach the head (and the
layers the scheme updates) classes whose rows start out meaning other digits.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BUNDLED_DIR = Path(__file__).resolve().parent
MODEL = BUNDLED_DIR / "digits_cnn.mlir"
SAMPLES = BUNDLED_DIR / "digits_samples.npz"
NEW_TASK_CLASSES = (6, 7, 8, 9)


def copy_model(folder: Path) -> Path:
    """Copy the model and its weights file into `folder` (passes write next to the IR); its path."""
    for source in (MODEL, MODEL.with_suffix(".weights.npz")):
        shutil.copy(source, folder / source.name)
    return folder / MODEL.name


@dataclass(frozen=True)
class Task:
    """Training and held-out images (int8 NHWC) with int32 labels."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray


def _relabelled(images: np.ndarray, labels: np.ndarray, classes: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    keep = np.isin(labels, classes)
    mapping = np.full(int(labels.max()) + 1, -1, dtype=np.int32)
    mapping[list(classes)] = np.arange(len(classes), dtype=np.int32)
    return images[keep], mapping[labels[keep]]


def new_task(classes: tuple[int, ...] = NEW_TASK_CLASSES) -> Task:
    """The samples of `classes`, relabelled 0..len(classes)-1 (held-out split kept apart)."""
    with np.load(SAMPLES) as samples:
        train = _relabelled(samples["train_x"], samples["train_y"], classes)
        test = _relabelled(samples["test_x"], samples["test_y"], classes)
    return Task(*train, *test)
