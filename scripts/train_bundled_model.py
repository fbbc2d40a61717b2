#!/usr/bin/env python3
"""Train and quantize the bundled demo model: a tiny MobileNetV2-style CNN on digits 0-5.

scikit-learn's digits (8x8, values 0..16, shipped offline) are upsampled to 16x16 (nearest),
mapped to [-1, 1] and split 60/40 (stratified, fixed seed) over all 10 classes. The model is
pretrained on digits 0-5 only (the source task); 6-9 stay unseen for on-device transfer
learning. The float model is quantized by the torch importer (calibration: 300 training
images of the source task) and written to ttdialect/bundled/:

- digits_cnn.mlir + digits_cnn.weights.npz: the int8 forward IR (6-class head);
- digits_samples.npz: train_x, train_y, test_x, test_y (int8 NHWC images quantized with the
  model's input scale / zero point, int32 labels 0-9).

Deterministic (fixed seed, one CPU thread): rerunning it rewrites the same files.
Usage: python scripts/train_bundled_model.py [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from ttdialect import numerics as nx
from ttdialect.importers.torch_import import import_torch
from ttdialect.interpreter import run_function
from ttdialect.types import QTensorType

SEED = 0
SOURCE_CLASSES = 6
IMAGE_SIZE = 16
EPOCHS = 30
BATCH = 32
CALIBRATION_IMAGES = 300
BUNDLED = Path(__file__).resolve().parents[1] / "ttdialect" / "bundled"


# --------------------------------------------------------------------------- model


def conv_bn(
    cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, relu6: bool = True
) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if relu6:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand + ReLU6, 3x3 depthwise + ReLU6, 1x1 project (+ skip)."""

    def __init__(self, cin: int, cout: int, expand: int, stride: int):
        super().__init__()
        hidden = cin * expand
        self.conv = nn.Sequential(
            conv_bn(cin, hidden, 1),
            conv_bn(hidden, hidden, 3, stride, groups=hidden),
            conv_bn(hidden, cout, 1, relu6=False),
        )
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


class DigitsCNN(nn.Module):
    """1x16x16 -> stem 3x3/2 (8) -> IR(8->8) -> IR(8->16, /2) -> IR(16->16) -> pool -> Linear."""

    def __init__(self, num_classes: int = SOURCE_CLASSES):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(1, 8, 3, stride=2),
            InvertedResidual(8, 8, expand=3, stride=1),
            InvertedResidual(8, 16, expand=3, stride=2),
            InvertedResidual(16, 16, expand=3, stride=1),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


# --------------------------------------------------------------------------- data


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Float NCHW images in [-1, 1] (16x16, nearest upsampling) and labels: train, test (60/40)."""
    digits = load_digits()
    images = np.kron(digits.images, np.ones((2, 2))).astype(np.float32) / 8.0 - 1.0
    images = images[:, None]  # N, 1, 16, 16
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=0.4, stratify=labels, random_state=SEED
    )
    return x_train, y_train, x_test, y_test


def to_int8_nhwc(images: np.ndarray, input_type: QTensorType) -> np.ndarray:
    return nx.quantize(images.transpose(0, 2, 3, 1), input_type.real_scale, input_type.zp)


# --------------------------------------------------------------------------- training


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int = EPOCHS) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    generator = torch.Generator().manual_seed(SEED)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(xs), generator=generator)
        for start in range(0, len(xs), BATCH):
            index = order[start : start + BATCH]
            batch = xs[index]
            # random shifts of up to one pixel (background -1 fills the border)
            dy, dx = torch.randint(-1, 2, (2,), generator=generator).tolist()
            batch = torch.roll(F.pad(batch, (1, 1, 1, 1), value=-1.0), (dy, dx), (2, 3))[:, :, 1:-1, 1:-1]
            optimizer.zero_grad()
            F.cross_entropy(model(batch), ys[index]).backward()
            optimizer.step()
        schedule.step()
    model.eval()


def float_predictions(model: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(x)).argmax(1).numpy()


def int8_predictions(module, images_nhwc: np.ndarray, base_dir: Path) -> np.ndarray:
    return np.array(
        [int(np.argmax(run_function(module, "forward", [img[None]], base_dir)[0])) for img in images_nhwc]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BUNDLED, help=f"output folder (default {BUNDLED})")
    args = parser.parse_args()
    start = time.perf_counter()
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    x_train, y_train, x_test, y_test = digits_split()
    source_train = y_train < SOURCE_CLASSES
    source_test = y_test < SOURCE_CLASSES
    model = DigitsCNN()
    train(model, x_train[source_train], y_train[source_train])

    args.out.mkdir(parents=True, exist_ok=True)
    mlir = args.out / "digits_cnn.mlir"
    module = import_torch(model, x_train[source_train][:CALIBRATION_IMAGES], mlir)
    input_type = module.body.block.ops.last.function_type.inputs.data[0]
    assert isinstance(input_type, QTensorType)

    samples = {
        "train_x": to_int8_nhwc(x_train, input_type),
        "train_y": y_train.astype(np.int32),
        "test_x": to_int8_nhwc(x_test, input_type),
        "test_y": y_test.astype(np.int32),
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **samples)
    (args.out / "digits_samples.npz").write_bytes(buffer.getvalue())

    labels = y_test[source_test]
    float_pred = float_predictions(model, x_test[source_test])
    int8_pred = int8_predictions(module, samples["test_x"][source_test], args.out)
    print(f"held-out digits 0-{SOURCE_CLASSES - 1}: {len(labels)} images")
    print(f"  float accuracy: {np.mean(float_pred == labels):.4f}")
    print(f"  int8 accuracy:  {np.mean(int8_pred == labels):.4f} (tt reference interpreter)")
    print(f"  int8/float top-1 agreement: {np.mean(int8_pred == float_pred):.4f}")
    print(f"input quantization: scale {input_type.real_scale!r}, zero point {input_type.zp}")
    total = sum(p.stat().st_size for p in args.out.iterdir() if p.name.startswith("digits_"))
    print(
        f"wrote {args.out} ({total / 1024:.1f} KB of model and samples) "
        f"in {time.perf_counter() - start:.1f} s"
    )


if __name__ == "__main__":
    main()
