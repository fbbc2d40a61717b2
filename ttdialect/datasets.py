"""Real data for training runs: Fashion-MNIST from Debian's `dataset-fashion-mnist` package.

`load_fashion_mnist(split, count)` reads the package's IDX files (28x28 uint8 images, labels
0-9); `model_input(images, shape, scale, zero_point)` turns uint8 grayscale images into a
model's int8 NHWC input: bilinear resize to the model's height and width, the gray value copied
to every channel, pixels mapped to [-1, 1] (the zoo models' convention: stem x_scale 1/127.5,
x_zero 0) and quantized with the input's scale and zero point.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from ttdialect.errors import TTError

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_ENV = "TT_FASHION_MNIST_DIR"
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def fashion_mnist_dir() -> Path:
    """$TT_FASHION_MNIST_DIR, else the Debian package's folder."""
    return Path(os.environ.get(FASHION_MNIST_ENV, FASHION_MNIST_DIR))


def fashion_mnist_available() -> bool:
    folder = fashion_mnist_dir()
    return all((folder / name).is_file() for pair in _FILES.values() for name in pair)


def _read_idx(path: Path, dimensions: int) -> np.ndarray:
    """An IDX file (gzip): magic 0x0000080N (unsigned bytes, N dimensions), sizes, data."""
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as error:
        raise TTError(f"{path}: cannot read ({error})") from None
    header = 4 + 4 * dimensions
    if len(data) < header or int.from_bytes(data[:4], "big") != 0x0800 + dimensions:
        raise TTError(f"{path}: not an IDX file of {dimensions}-dimensional unsigned bytes")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dimensions))
    if len(data) != header + int(np.prod(shape)):
        raise TTError(f"{path}: {len(data) - header} data bytes for shape {shape}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def load_fashion_mnist(split: str, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` (default all) images [N, 28, 28] uint8 and labels [N] int32 of a split."""
    if split not in _FILES:
        raise TTError(f"unknown Fashion-MNIST split '{split}' (train or test)")
    folder = fashion_mnist_dir()
    if not fashion_mnist_available():
        raise TTError(
            f"Fashion-MNIST is not in {folder}: install it with `apt-get install {FASHION_MNIST_PACKAGE}` "
            f"(or set ${FASHION_MNIST_ENV})"
        )
    images_file, labels_file = _FILES[split]
    images = _read_idx(folder / images_file, 3)
    labels = _read_idx(folder / labels_file, 1)
    if len(images) != len(labels):
        raise TTError(f"{folder}: {len(images)} images but {len(labels)} labels in the {split} split")
    return images[:count].copy(), labels[:count].astype(np.int32)


def _resize_axis(size: int, target: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weights of a bilinear resize along one axis (half-pixel centres)."""
    centres = (np.arange(target) + 0.5) * size / target - 0.5
    centres = np.clip(centres, 0, size - 1)
    low = np.floor(centres).astype(np.int64)
    high = np.minimum(low + 1, size - 1)
    return low, high, (centres - low).astype(np.float32)


def resize_bilinear(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """[N, H, W] float32 images resized to [N, height, width] (bilinear, half-pixel centres)."""
    rows_low, rows_high, row_weight = _resize_axis(images.shape[1], height)
    cols_low, cols_high, col_weight = _resize_axis(images.shape[2], width)
    top = (
        images[:, rows_low] * (1 - row_weight)[None, :, None]
        + images[:, rows_high] * row_weight[None, :, None]
    )
    return top[:, :, cols_low] * (1 - col_weight) + top[:, :, cols_high] * col_weight


def model_input(images: np.ndarray, shape: tuple[int, ...], scale: float, zero_point: int) -> np.ndarray:
    """uint8 grayscale [N, h, w] -> the model's int8 input [N, H, W, C] (see the module docstring)."""
    height, width, channels = shape
    real = resize_bilinear(images.astype(np.float32) / 255.0, height, width) * 2.0 - 1.0
    quantized = np.clip(np.round(real / scale) + zero_point, -128, 127).astype(np.int8)
    return np.repeat(quantized[..., None], channels, axis=3)
