"""tt-compile on bad input: one line naming the problem, exit status 1, no project written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest


def tt_compile(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tt-compile", *args], capture_output=True, text=True)


@pytest.mark.parametrize(
    ("args", "message", "status"),
    [
        (["nosuch.mlir"], "nosuch.mlir", 1),
        (["foo"], "'foo' is not bundled, a zoo name", 1),
        (["bundled", "--scheme", "nosuch"], "unknown scheme 'nosuch'", 1),
        (["bundled", "--name", "3x"], "model name '3x' is not a C identifier", 1),
        (["bundled", "--steps", "0"], "--steps: must be at least 1", 2),  # argparse's usage error
    ],
)
def test_bad_arguments(tmp_path: Path, args: list[str], message: str, status: int) -> None:
    done = tt_compile(*args, "--out", str(tmp_path / "out"))
    assert done.returncode == status
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"train_x": np.zeros((2, 16, 16, 1), np.int8)}, "missing train_y, test_x, test_y"),
        (
            {
                "train_x": np.zeros((2, 8, 8, 1), np.int8),
                "train_y": np.zeros(2, np.int32),
                "test_x": np.zeros((0, 16, 16, 1), np.int8),
                "test_y": np.zeros(0, np.int32),
            },
            "train_x must be int8 [N, 16, 16, 1]",
        ),
        (
            {
                "train_x": np.zeros((2, 16, 16, 1), np.int8),
                "train_y": np.array([0, 6], np.int32),
                "test_x": np.zeros((0, 16, 16, 1), np.int8),
                "test_y": np.zeros(0, np.int32),
            },
            "train_y holds labels outside [0, 6)",
        ),
    ],
)
def test_bad_samples(tmp_path: Path, arrays: dict[str, np.ndarray], message: str) -> None:
    samples = tmp_path / "samples.npz"
    np.savez(samples, **arrays)
    done = tt_compile("bundled", "--samples", str(samples), "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
