"""tt-autodiff emit=gradients vs PyTorch autograd on an independent float simulation.

The simulation is built here from the .pkl file itself (not from tt IR): every layer computes
in float64 on dequantized values and fake-quantizes its output with straight-through rounding;
the int8 clamp passes gradients only strictly inside its range. Parameters are leaf tensors in
real units, so autograd gives d loss / d (scale * stored integer), what tt's gradients hold.

Float rounding and tt's fixed-point rule disagree by 1 LSB on a few activations (see
test_import_zoo), which would make the two backward passes differ for a reason that has nothing
to do with autodiff. So each simulated layer's forward *value* is pinned to the int8 value the
interpreter's @forward computed (a straight-through substitution: the value is replaced, the
gradient path of the float simulation is kept).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from gradcheck import assert_gradients_match, fake_quant, interpreter_activations

from ttdialect.importers.tiny_training import ZOO_NAMES, default_zoo_dir, load_model_file
from ttdialect.interpreter import run_function
from ttdialect.ir_io import load_module

ZOO = default_zoo_dir()
needs_zoo = pytest.mark.skipif(not ZOO.is_dir(), reason=f"zoo folder {ZOO} is absent")
NUM_CLASSES = 10


class Simulation:
    """The .pkl model in float64 torch, parameters as real-valued leaves named as in tt."""

    def __init__(self, model: dict, num_classes: int, pinned: list[np.ndarray]):
        self.model = model
        self.num_classes = num_classes
        self.leaves: dict[str, torch.Tensor] = {}
        self.pinned = iter(pinned)

    def quant(self, real: torch.Tensor, scale: float, zero: int) -> torch.Tensor:
        value = next(self.pinned)
        value = value.transpose(0, 3, 1, 2) if value.ndim == 4 else value[:, :, None, None]
        return fake_quant(real, scale, zero, value.astype(np.float64))

    def leaf(self, name: str, value: np.ndarray) -> torch.Tensor:
        tensor = torch.tensor(value, dtype=torch.float64, requires_grad=True)
        self.leaves[name] = tensor
        return tensor

    def conv(self, x: torch.Tensor, conv: dict, name: str, rows: int | None = None) -> torch.Tensor:
        p = conv["params"]
        w_scales = p["w_scales"].astype(np.float64)[:rows]
        weight = self.leaf(
            f"{name}.weight", p["weight"][:rows].astype(np.float64) * w_scales[:, None, None, None]
        )
        bias_scales = np.float32(p["x_scale"]) * p["w_scales"].astype(np.float32)[:rows]
        bias = self.leaf(f"{name}.bias", p["bias"][:rows].astype(np.float64) * bias_scales.astype(np.float64))
        k = p["weight"].shape[2]
        y = F.conv2d(x, weight, bias, stride=conv["stride"], padding=(k - 1) // 2, groups=conv["groups"])
        return self.quant(y, p["y_scale"], p["y_zero"])

    def forward(self, image: np.ndarray) -> torch.Tensor:
        stem = self.model["first_conv"]["params"]
        x = torch.tensor((image.astype(np.float64) - stem["x_zero"]) * stem["x_scale"]).permute(0, 3, 1, 2)
        x = self.conv(x, self.model["first_conv"], "first_conv")
        for index, block in enumerate(self.model["blocks"]):
            skip = x
            for part in ("pointwise1", "depthwise", "pointwise2"):
                if block[part] is not None:
                    x = self.conv(x, block[part], f"blocks.{index}.{part}")
            if block["residual"] is not None:
                r = block["residual"]["params"]
                x = self.quant(skip + x, r["y_scale"], r["y_zero"])
        last = self.model["classifier"]["params"]
        pooled = self.quant(x.mean(dim=(2, 3), keepdim=True), last["x_scale"], last["x_zero"])
        logits = self.conv(pooled, self.model["classifier"], "classifier", rows=self.num_classes)
        return logits.flatten(1)


def reference_gradients(
    model: dict, image: np.ndarray, label: int, pinned: list[np.ndarray]
) -> tuple[float, dict[str, np.ndarray]]:
    sim = Simulation(model, NUM_CLASSES, pinned)
    logits = sim.forward(image)
    loss = F.cross_entropy(logits, torch.tensor([label]))
    loss.backward()
    grads = {}
    for name, leaf in sim.leaves.items():
        grad = leaf.grad.numpy()
        grads[name] = grad.transpose(0, 2, 3, 1) if grad.ndim == 4 else grad  # OIHW -> OHWI
    grads["classifier.weight"] = grads["classifier.weight"].reshape(NUM_CLASSES, -1)
    return float(loss.detach()), grads


def sample_image(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:128, 0:128] / 128.0
    waves = [np.sin(2 * np.pi * (rng.uniform(0.5, 3) * xx + rng.uniform(0.5, 3) * yy)) for _ in range(3)]
    image = np.stack(waves, axis=-1) * 90 + rng.normal(0, 12, (128, 128, 3))
    return np.clip(np.rint(image), -128, 127).astype(np.int8)[None]


@needs_zoo
@pytest.mark.parametrize("name", ZOO_NAMES)
def test_gradients_match_autograd(name: str, tmp_path: Path) -> None:
    forward = tmp_path / "model.mlir"
    train = tmp_path / "train.mlir"
    subprocess.run(
        ["tt-import", "--zoo", name, "--num-classes", str(NUM_CLASSES), "-o", str(forward)], check=True
    )
    subprocess.run(
        ["tt-opt", "-p", "tt-autodiff{emit=gradients}", str(forward), "-o", str(train)], check=True
    )
    module = load_module(train)
    model = load_model_file(ZOO / f"{name}.pkl")
    image, label = sample_image(7), 3
    outputs = run_function(module, "train_step", [image, np.array([label], dtype=np.int32)], tmp_path)
    loss, results = outputs[0], outputs[1:]
    pinned = interpreter_activations(module, image, tmp_path)
    ref_loss, ref = reference_gradients(model, image, label, pinned)
    assert abs(loss - ref_loss) <= 1e-5 * max(1.0, abs(ref_loss))
    worst = assert_gradients_match(name, results, ref)
    print(f"{name}: loss {loss:.5f} vs {ref_loss:.5f}, worst cosine {worst:.6f} over {len(ref)} parameters")
