"""Shared pieces of the gradient checks: straight-through fake quantization in torch, the
interpreter's int8 activations (to pin the float simulation's forward values), and the
comparison of tt's gradients with autograd's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from xdsl.interpreter import Interpreter

from ttdialect import dialect as tt
from ttdialect.interpreter import make_interpreter


def fake_quant(
    real: torch.Tensor, scale: float, zero: int, pinned: np.ndarray, low: int = -128, high: int = 127
) -> torch.Tensor:
    """Quantize-dequantize with straight-through rounding and a strict-interior clamp mask;
    the forward value is `pinned` (int8, NCHW), the gradient is that of the float path."""
    z = real / scale
    q = z + (torch.round(z) - z).detach() + zero
    q = q + (torch.tensor(pinned, dtype=torch.float64) - q).detach()
    inside = (q.detach() > low) & (q.detach() < high)
    clamped = torch.where(inside, q, torch.clamp(q, low, high).detach())
    return (clamped - zero) * scale


RECORDED_OPS = (
    tt.Conv2DOp,
    tt.AddOp,
    tt.GlobalAvgPoolOp,
    tt.LinearOp,
    tt.MaxPoolOp,
    tt.AvgPoolOp,
    tt._LookupActivation,
    tt.MulOp,
    tt.ConcatOp,
)
"""The forward ops whose int8 results pin the float simulation, in execution order."""


class _Recorder(Interpreter.Listener):
    """Collects the int8 result of every computing forward op, in execution order."""

    def __init__(self) -> None:
        self.values: list[np.ndarray] = []

    def did_interpret_op(self, op, results) -> None:  # noqa: ANN001
        if isinstance(op, RECORDED_OPS):
            self.values.append(np.array(results[0]))


def interpreter_activations(module, image: np.ndarray, base: Path) -> list[np.ndarray]:  # noqa: ANN001
    interpreter, _ = make_interpreter(module, base)
    recorder = _Recorder()
    interpreter.listeners = (recorder,)
    interpreter.call_op("forward", (image,))
    return recorder.values


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    denominator = np.linalg.norm(a) * np.linalg.norm(b)
    return (
        1.0 if denominator == 0 and not a.any() and not b.any() else float(a @ b / max(denominator, 1e-300))
    )


def assert_gradients_match(
    label: str, results: tuple[np.ndarray, ...], ref: dict[str, np.ndarray]
) -> float:
    """Every gradient has cosine >= 0.999 with autograd's and loses no gradient mass; returns the
    worst cosine."""
    assert len(results) == len(ref), "one gradient per parameter"
    worst = 1.0
    for (param, want), got in zip(ref.items(), results, strict=True):
        assert got.shape == want.shape, param
        similarity = cosine(got, want)
        worst = min(worst, similarity)
        assert similarity >= 0.999, f"{label} {param}: cosine {similarity:.5f}"
        # zero where the reference is not: allowed only on a negligible share of the gradient mass
        missing = np.abs(want[(got == 0) & (want != 0)]).sum()
        assert missing <= 1e-3 * np.abs(want).sum() + 1e-12, f"{label} {param}: gradient lost"
    return worst
