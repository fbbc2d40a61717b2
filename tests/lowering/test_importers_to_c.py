"""Every model the importers produce lowers to C (issue 15 item 3): PyTorch modules of every
supported kind (inverted residuals, grouped convs, functional ops, a linear-only model on [N, K]
inputs) and, where ../shared/models has them, the zoo models: the training step of each, built
for the host and trained a step by its train_data program, which must report a finite loss."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import tt
from ttdialect.importers.tiny_training import ZOO_NAMES, default_zoo_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_import_torch import FunctionalNet, Net, randomize_batchnorm, smooth_images  # noqa: E402


def _torch_models() -> dict[str, tuple[nn.Module, np.ndarray]]:
    generator = torch.Generator().manual_seed(0)
    net = Net().eval()
    randomize_batchnorm(net, generator)
    functional = FunctionalNet().eval()
    randomize_batchnorm(functional, generator)
    linear = nn.Sequential(nn.Flatten(), nn.Linear(12, 3)).eval()
    return {
        "inverted residuals": (net, smooth_images(8, 3, 16, 1)),
        "functional": (functional, smooth_images(8, 3, 8, 2)),
        "linear only": (linear, smooth_images(8, 12, 1, 3)),
    }


def _trains_one_step(model: tt.Model, scheme: str) -> None:
    step = model.training_step(scheme, lr=0.001)
    rng = np.random.default_rng(0)
    images = rng.integers(-128, 128, size=(2, *step.image_shape), dtype=np.int8)
    labels = np.array([0, 1], dtype=np.int32) % step.classes
    run = step.train((images, labels), epochs=1, window=1)
    assert run.status == 0 and run.reports and all(math.isfinite(r.mean_loss) for r in run.reports)


@pytest.mark.parametrize("kind", ["inverted residuals", "functional", "linear only"])
def test_torch_models_lower_to_c(kind: str) -> None:
    module, calibration = _torch_models()[kind]
    _trains_one_step(tt.load_torch(module, calibration), "full")


@pytest.mark.parametrize("name", ZOO_NAMES)
def test_zoo_models_lower_to_c(name: str) -> None:
    if not (default_zoo_dir() / f"{name}.pkl").is_file():
        pytest.skip(f"{name}.pkl is not in {default_zoo_dir()} (../shared/models)")
    _trains_one_step(tt.load(name, num_classes=10), "bias-only")
