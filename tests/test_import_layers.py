"""The PyTorch importer on networks with the new layers (issue 16 item 3).

MobileNetV3-Small-like (hard-swish, SE with hard-sigmoid gates), ResNet-18-like at 64x64 (max
pooling), SqueezeNet-1.1-like (fire modules: concatenation; ceil-mode max pools) and a CNN with
SE blocks (sigmoid gates, average pooling, a flatten of a spatial map into the classifier), as
written in tests/layer_models.py, at reduced width so that the suite stays fast. Each is
imported, checked against the float module (the dequantized int8 logits against PyTorch's on
held-out images), compiled for the host with `last-2` and trained a few epochs on eight images
with a falling loss (the generated C, tt.TrainingStep.train). The random-weight models get a
classifier scaled to logits of unit spread (a trained network's range), else the int8 logits
would have a tiny scale and training would saturate them at once.

The importer also names the first unsupported layer before the calibration (the model is
converted on the first batch), reports calibration progress on stderr for more than one batch,
and refuses what the new layers cannot do (count_include_pad with padding, a multiply by a
constant, a concat on another axis) in one line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from layer_models import (
    mobilenet_v3_small,
    randomize_batchnorm,
    resnet18,
    se_cnn,
    smooth_images,
    squeezenet1_1,
)
from torch import nn

import tt
from ttdialect.errors import TTError
from ttdialect.importers.torch_import import import_torch
from ttdialect.interpreter import run_function
from ttdialect.ir_io import find_function
from ttdialect.types import QTensorType

TESTS = Path(__file__).resolve().parent
CLASSES = 4

ARCHITECTURES = {
    # name: (factory, input size, ops the import must contain)
    "mobilenet_v3_small": (
        lambda: mobilenet_v3_small(CLASSES, 0.25),
        64,
        {"tt.hard_swish", "tt.hard_sigmoid", "tt.mul", "tt.add"},
    ),
    "resnet18": (lambda: resnet18(CLASSES, 0.125), 64, {"tt.max_pool", "tt.add"}),
    "squeezenet1_1": (lambda: squeezenet1_1(CLASSES, 0.125), 64, {"tt.concat", "tt.max_pool"}),
    "se_cnn": (lambda: se_cnn(CLASSES, 0.5, 32), 32, {"tt.sigmoid", "tt.mul", "tt.avg_pool", "tt.reshape"}),
}


def unit_logits(model: nn.Module, images: np.ndarray) -> nn.Module:
    """Scale the last conv / linear layer so that the logits spread about +-1 on `images`."""
    last = [m for m in model.modules() if isinstance(m, nn.Linear | nn.Conv2d)][-1]
    with torch.no_grad():
        factor = 1.0 / float(model(torch.from_numpy(images)).std())
        last.weight *= factor
        if last.bias is not None:
            last.bias *= factor
    return model


def quantized(images: np.ndarray, image_type: QTensorType) -> np.ndarray:
    q = np.rint(images.transpose(0, 2, 3, 1) / image_type.real_scale) + image_type.zp
    return np.clip(q, -128, 127).astype(np.int8)


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_architecture_imports_matches_float_and_trains(name: str) -> None:
    torch.manual_seed(0)
    factory, size, kinds = ARCHITECTURES[name]
    calibration = smooth_images(32, size, seed=1)
    model = unit_logits(randomize_batchnorm(factory()), calibration)
    imported = tt.load_torch(model, calibration)
    forward = find_function(imported.module, "forward")
    assert forward is not None
    assert kinds <= {op.name for op in forward.body.block.ops}

    # the int8 model against the float module
    held_out = smooth_images(8, size, seed=3)
    image_type, logits_type = forward.args[0].type, forward.function_type.outputs.data[0]
    assert isinstance(image_type, QTensorType) and isinstance(logits_type, QTensorType)
    codes = [
        run_function(imported.module, "forward", [image[None]], imported.directory)[0][0]
        for image in quantized(held_out, image_type)
    ]
    real = (np.array(codes, dtype=np.float64) - logits_type.zp) * logits_type.real_scale
    with torch.no_grad():
        reference = model(torch.from_numpy(held_out)).numpy()
    error = np.abs(real - reference).max() / np.abs(reference).max()
    agreement = float(np.mean(real.argmax(1) == reference.argmax(1)))
    print(f"\n{name}: int8 vs float logits: max error {error:.4f} of the largest, agreement {agreement:.2f}")
    assert error < 0.1 and agreement >= 0.875

    # compiled for the host (last-2) and trained: the loss falls
    step = imported.training_step("last-2", lr=0.001)
    images = quantized(smooth_images(8, size, seed=7), image_type)
    labels = (np.arange(8) % CLASSES).astype(np.int32)
    run = step.train((images, labels), epochs=6, window=8, schedule="constant")  # the rate it was sized for
    losses = [report.mean_loss for report in run.reports]
    print(f"{name}: mean loss per epoch {[round(loss, 3) for loss in losses]}")
    assert run.status == 0 and len(losses) == 6
    assert losses[-1] < 0.95 * losses[0]


# --------------------------------------------------------------------------- the command line

FACTORIES = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
import torch
from torch import nn
from layer_models import randomize_batchnorm, squeezenet1_1


def squeezenet():
    torch.manual_seed(0)
    return randomize_batchnorm(squeezenet1_1(4, 0.125))


class Counting(nn.Module):
    calls = 0

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.act = nn.GELU()
        self.fc = nn.Linear(64, 2)

    def forward(self, x):
        Counting.calls += 1
        return self.fc(torch.flatten(self.act(self.pool(self.conv(x))), 1))


def counting():
    return Counting()


def count_include_pad():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.AvgPool2d(3, 2, 1), nn.Flatten(), nn.Linear(36, 2))


class Scale(nn.Module):
    def forward(self, x):
        return (x * 0.5).mean((2, 3))


def multiply_by_constant():
    return Scale()


class CatWidth(nn.Module):
    def forward(self, x):
        return torch.cat([x, x], 3).mean((2, 3))


def cat_on_width():
    return CatWidth()
"""


@pytest.fixture
def factories(tmp_path: Path) -> Path:
    path = tmp_path / "factories.py"
    path.write_text(FACTORIES)
    return path


def _tt_import(spec: str, calibration: Path, out: Path, shape: str) -> subprocess.CompletedProcess[str]:
    command = [
        "tt-import",
        "--torch",
        spec,
        "--input-shape",
        shape,
        "--calibration",
        str(calibration),
        "-o",
        str(out),
    ]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_cli_imports_compiles_for_the_host_and_trains(factories: Path, tmp_path: Path) -> None:
    """tt-import --torch, then tt-compile --target host --scheme last-2, then the project's
    program trains on its samples; the calibration of 200 images shows its progress."""
    calibration = tmp_path / "calib.npy"
    np.save(calibration, smooth_images(200, 64, seed=1))
    done = _tt_import(f"{factories}:squeezenet", calibration, tmp_path / "squeeze.mlir", "1x3x64x64")
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if "calibrating" in line]
    assert progress == [f"tt-import: calibrating: {n}/200 images" for n in (64, 128, 192, 200)]
    project = tmp_path / "host"
    compiled = subprocess.run(
        [
            "tt-compile",
            str(tmp_path / "squeeze.mlir"),
            "--target",
            "host",
            "--scheme",
            "last-2",
            "--out",
            str(project),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stderr
    ran = subprocess.run(
        ["make", "-s", "-C", str(project), "run"], capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "loss" in ran.stdout


def test_first_unsupported_layer_is_named_before_calibrating(factories: Path, tmp_path: Path) -> None:
    """640 images (ten batches): the GELU is reported after the first batch only."""
    sys.path.insert(0, str(tmp_path))
    try:
        import factories as module  # noqa: PLC0415
    finally:
        sys.path.remove(str(tmp_path))
    images = smooth_images(640, 8, seed=2)
    with pytest.raises(TTError, match=r"layer 'act' \(GELU\) is not supported") as error:
        import_torch(module.counting(), images, tmp_path / "x.mlir")
    assert module.Counting.calls == 1, "the whole calibration ran before the error"
    assert "MaxPool2d" in str(error.value)  # the list of what is supported
    assert not (tmp_path / "x.mlir").exists()


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (
            "count_include_pad",
            "layer '1' (AvgPool2d) is not supported by the torch importer (count_include_pad=True",
        ),
        ("multiply_by_constant", "only the multiply of two activations (no constants)"),
        ("cat_on_width", "concatenation on dim 3; only on channels (dim 1)"),
    ],
)
def test_cli_refuses_what_the_layers_cannot_do(
    factories: Path, tmp_path: Path, factory: str, message: str
) -> None:
    calibration = tmp_path / "calib.npy"
    np.save(calibration, smooth_images(4, 8, seed=1))
    done = _tt_import(f"{factories}:{factory}", calibration, tmp_path / "out.mlir", "1x3x8x8")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert lines[0].startswith("tt-import: error: ") and message in lines[0], lines[0]
    assert not (tmp_path / "out.mlir").exists()


def test_api_progress_callback(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 2))
    import_torch(
        model, smooth_images(130, 8, seed=1), tmp_path / "m.mlir", progress=lambda d, n: calls.append((d, n))
    )
    assert calls == [(64, 130), (128, 130), (130, 130)]
    calls.clear()
    import_torch(
        model, smooth_images(64, 8, seed=1), tmp_path / "n.mlir", progress=lambda d, n: calls.append((d, n))
    )
    assert calls == []  # one batch: nothing to report


def test_flatten_of_a_spatial_map_permutes_the_linear_columns(tmp_path: Path) -> None:
    """PyTorch flattens [N, C, H, W] in (c, h, w) order, tt's NHWC in (h, w, c): the classifier's
    columns are permuted at import, so the int8 model computes what the float one does."""
    from ttdialect.importers.torch_import import quantize_weight
    from ttdialect.weights import WeightStore, module_params

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 3)
    )
    model = unit_logits(model.eval(), smooth_images(32, 8, seed=1))
    module = import_torch(model, smooth_images(32, 8, seed=1), tmp_path / "m.mlir", batch_size=8)
    weight = WeightStore(module, tmp_path).value(module_params(module)["4.weight"])
    torch_weight = model[4].weight.detach().double().numpy()
    permuted = torch_weight.reshape(3, 4, 4, 4).transpose(0, 2, 3, 1).reshape(3, 64)
    np.testing.assert_array_equal(weight, quantize_weight(permuted)[0])
    assert not np.array_equal(weight, quantize_weight(torch_weight)[0])

    forward = find_function(module, "forward")
    assert forward is not None
    image_type, logits_type = forward.args[0].type, forward.function_type.outputs.data[0]
    images = smooth_images(8, 8, seed=2)
    (codes,) = run_function(module, "forward", [quantized(images, image_type)], tmp_path)
    real = (codes.astype(np.float64) - logits_type.zp) * logits_type.real_scale
    with torch.no_grad():
        reference = model(torch.from_numpy(images)).numpy()
    assert np.abs(real - reference).max() < 0.05 * np.abs(reference).max()
