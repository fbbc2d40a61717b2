"""tt-train: fine-tuning with the generated C on the host (the README's real-data command).

Oracles: accuracy rises on the bundled model's unseen digits; on Fashion-MNIST the zoo model's
fresh head learns above chance. Bad arguments give one line and a non-zero status.
"""

from __future__ import annotations

import subprocess

import pytest

from ttdialect.datasets import FASHION_MNIST_PACKAGE, fashion_mnist_available
from ttdialect.importers.tiny_training import default_zoo_dir


def tt_train(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tt-train", *args], capture_output=True, text=True, timeout=900)


def _accuracies(stdout: str) -> tuple[float, float]:
    line = next(line for line in stdout.splitlines() if line.startswith("held-out accuracy"))
    before, after = (float(word.rstrip("%")) for word in line.split() if word.endswith("%"))
    return before, after


def test_bundled_model_learns_its_new_digits() -> None:
    done = tt_train("bundled", "--train", "300", "--test", "200")
    assert done.returncode == 0, done.stderr
    before, after = _accuracies(done.stdout)
    assert after > before + 30
    assert "warning" not in done.stderr


@pytest.mark.skipif(
    not fashion_mnist_available(), reason=f"Fashion-MNIST missing: apt-get install {FASHION_MNIST_PACKAGE}"
)
@pytest.mark.skipif(
    not (default_zoo_dir() / "mcunet-5fps.pkl").is_file(), reason="../shared/models is missing"
)
def test_zoo_model_learns_fashion_mnist() -> None:
    done = tt_train("mcunet-5fps", "--scheme", "mcunet-5fps/99kb", "--train", "150", "--test", "100")
    assert done.returncode == 0, done.stderr
    before, after = _accuracies(done.stdout)
    assert after >= 30 and after > before + 15  # 10 classes: chance is 10 %


@pytest.mark.parametrize(
    ("args", "message", "status"),
    [
        (["bundled", "--lr", "0"], "must be in (0, 1e4]", 2),
        (["bundled", "--lr", "nan"], "must be in (0, 1e4]", 2),
        (["bundled", "--epochs", "0"], "must be at least 1", 2),
        (["bundled", "--scheme", "nosuch"], "unknown scheme 'nosuch'", 1),
        (["nosuch.mlir"], "nosuch.mlir", 1),
        (["bundled", "--data", "nosuch.npz"], "nosuch.npz", 1),
    ],
)
def test_bad_arguments(args: list[str], message: str, status: int) -> None:
    done = tt_train(*args)
    assert done.returncode == status, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
