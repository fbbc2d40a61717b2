"""Import tiny-training int8 model files (`.pkl`) and the model zoo into tt forward IR.

The file format (see ../shared/models/README.md): a torch.save zip of plain dicts and numpy
arrays: `first_conv`, `blocks[]` (pointwise1?, depthwise, pointwise2, residual?), `classifier`.
Weights are OIHW int8 with per-output-channel scales and become OHWI `tt.param`s named by their
path in the file (`first_conv.weight`, `blocks.3.pointwise1.bias`, `classifier.weight`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ttdialect.errors import TTError
from ttdialect.importers.builder import ModelBuilder, save_model
from ttdialect.types import QTensorType

ZOO_NAMES = ("mbv2-w0.35", "proxyless-w0.3", "mcunet-5fps")
ZOO_ENV = "TT_ZOO_DIR"
BLOCK_CONVS = ("pointwise1", "depthwise", "pointwise2")
JSON_CONVS = {"pointwise1": "expand", "depthwise": "depthwise", "pointwise2": "project"}
IMAGE_SIZE = 128


@dataclass(frozen=True)
class HeadChoice:
    """What becomes of the 1000-class ImageNet classifier.

    `keep`: its first `num_classes` rows (all 1000 by default); `new`: a freshly initialised
    head of `num_classes` rows (seeded, small random int8 weights, zero bias) for a new task.
    """

    num_classes: int = 1000
    new_head: bool = False
    seed: int = 0


def default_zoo_dir() -> Path:
    """`$TT_ZOO_DIR`, else `shared/models` beside the repository (../shared/models)."""
    if ZOO_ENV in os.environ:
        return Path(os.environ[ZOO_ENV])
    return Path(__file__).resolve().parents[3] / "shared" / "models"


def _safe_globals() -> list[Any]:
    from numpy._core.multiarray import _reconstruct, scalar

    dtypes = [type(np.dtype(t)) for t in ("int8", "int32", "int64", "float32", "float64", "bool")]
    return [
        (_reconstruct, "numpy.core.multiarray._reconstruct"),
        (scalar, "numpy.core.multiarray.scalar"),
        np.ndarray,
        np.dtype,
        *dtypes,
    ]


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


MALFORMED = (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError)
"""What walking a damaged model dict raises (a missing key, a wrong type, a bad shape)."""


def _import_model_dict(model: dict[str, Any], source: Path, head: HeadChoice, output: Path) -> None:
    try:
        importer = _Importer(model, source, head)
        output_value = importer.run()
    except TTError:
        raise
    except MALFORMED as error:
        raise TTError(f"{source}: malformed model file ({_first_line(error)})") from None
    save_model(importer.builder, output_value, output)


def load_model_file(path: Path) -> dict[str, Any]:
    """Read a tiny-training `.pkl` without executing code from it (an allowlist of numpy types)."""
    if not path.is_file():
        raise TTError(f"{path}: no such model file")
    try:
        import torch  # here, not at import: the tools' --help must not wait for torch

        with torch.serialization.safe_globals(_safe_globals()):
            model = torch.load(path, weights_only=True)
    except Exception as error:  # a damaged file can fail in any of the unpickler's layers
        raise TTError(f"{path}: not a tiny-training model file ({_first_line(error)})") from None
    if not isinstance(model, dict) or not {"first_conv", "blocks", "classifier"} <= set(model):
        raise TTError(f"{path}: expected a dict with first_conv, blocks and classifier")
    return model


class _Importer:
    def __init__(self, model: dict[str, Any], source: Path, head: HeadChoice):
        self.model = model
        self.source = source
        self.head = head
        stem = model["first_conv"]
        params = stem["params"]
        size = int(stem.get("in_shape", IMAGE_SIZE))
        image = QTensorType(
            (1, size, size, int(stem["in_channel"])), params["x_scale"], int(params["x_zero"])
        )
        self.builder = ModelBuilder(image)

    def fail(self, where: str, message: str) -> TTError:
        return TTError(f"{self.source}: {where}: {message}")

    def conv(self, x: Any, conv: dict[str, Any], where: str) -> Any:
        try:
            params = conv["params"]
            weight = np.asarray(params["weight"])
            kernel = tuple(conv["kernel_size"])
            stride, groups = int(conv["stride"]), int(conv["groups"])
        except (KeyError, TypeError) as error:
            raise self.fail(where, f"malformed conv entry ({error})") from None
        if weight.dtype != np.int8 or weight.ndim != 4 or weight.shape[2:] != kernel:
            raise self.fail(where, f"weight must be int8 [O, I/groups, {kernel[0]}, {kernel[1]}]")
        x_type = x.type
        if (x_type.real_scale, x_type.zp) != (params["x_scale"], params["x_zero"]):
            raise self.fail(
                where,
                f"input quantization ({params['x_scale']}, {params['x_zero']}) differs from the "
                f"previous output ({x_type.real_scale}, {x_type.zp})",
            )
        return self.builder.conv2d(
            x,
            f"{where}.",
            weight.transpose(0, 2, 3, 1),
            np.asarray(params["w_scales"]),
            np.asarray(params["bias"]),
            stride=stride,
            padding=(kernel[0] - 1) // 2,
            groups=groups,
            out_scale=params["y_scale"],
            out_zp=int(params["y_zero"]),
        )

    def block(self, x: Any, block: dict[str, Any], index: int) -> Any:
        where = f"blocks.{index}"
        if block.get("se") is not None:
            raise self.fail(where, "squeeze-and-excitation blocks are not supported")
        skip = x
        for name in BLOCK_CONVS:
            if block.get(name) is not None:
                x = self.conv(x, block[name], f"{where}.{name}")
        residual = block.get("residual")
        if residual is not None:
            params = residual["params"]
            x = self.builder.add(skip, x, params["y_scale"], int(params["y_zero"]))
        return x

    def classifier(self, x: Any) -> Any:
        conv = self.model["classifier"]
        params = conv["params"]
        weight = np.asarray(params["weight"]).reshape(params["weight"].shape[0], -1)
        w_scales, bias = np.asarray(params["w_scales"]), np.asarray(params["bias"])
        rows = self.head.num_classes
        limit = rows if self.head.new_head else weight.shape[0]
        if not 1 <= rows <= limit:
            raise self.fail("classifier", f"the number of classes must be in [1, {limit}], got {rows}")
        if self.head.new_head:
            weight, w_scales, bias = new_head(weight.shape[1], rows, w_scales, self.head.seed)
        else:
            weight, w_scales, bias = weight[:rows], w_scales[:rows], bias[:rows]
        return self.builder.linear(
            x, "classifier.", weight, w_scales, bias, params["y_scale"], int(params["y_zero"])
        )

    def run(self) -> Any:
        x = self.conv(self.builder.image, self.model["first_conv"], "first_conv")
        for index, block in enumerate(self.model["blocks"]):
            x = self.block(x, block, index)
        if self.model.get("feature_mix") is not None:
            x = self.conv(x, self.model["feature_mix"], "feature_mix")
        x = self.builder.flatten(self.builder.global_avg_pool(x))
        return self.classifier(x)


def new_head(features: int, rows: int, old_scales: np.ndarray, seed: int) -> tuple[np.ndarray, ...]:
    """A fresh classifier: weights ~ N(0, 1/features) quantized per row, bias 0, seeded."""
    rng = np.random.default_rng(seed)
    real = rng.normal(0.0, 1.0 / np.sqrt(features), size=(rows, features))
    scales = np.maximum(np.abs(real).max(axis=1), 1e-8) / 127.0
    weight = np.clip(np.rint(real / scales[:, None]), -127, 127).astype(np.int8)
    return weight, scales.astype(np.float32), np.zeros(rows, dtype=np.int32)


def check_against_architecture(model: dict[str, Any], arch: dict[str, Any], source: Path) -> None:
    """Fail unless the .pkl's convs have the channels, kernels, strides and groups of the JSON."""

    def same(where: str, pkl_conv: dict[str, Any], json_conv: dict[str, Any]) -> None:
        got = (
            pkl_conv["in_channel"],
            pkl_conv["out_channel"],
            tuple(pkl_conv["kernel_size"])[0],
            pkl_conv["stride"],
            pkl_conv["groups"],
        )
        want = tuple(json_conv[k] for k in ("in_channels", "out_channels", "kernel_size", "stride", "groups"))
        if got != want:
            raise TTError(f"{source}: {where} is {got} in the .pkl but {want} in the architecture JSON")

    same("first_conv", model["first_conv"], arch["stem"])
    if len(model["blocks"]) != len(arch["blocks"]):
        raise TTError(f"{source}: {len(model['blocks'])} blocks, the JSON has {len(arch['blocks'])}")
    for index, (block, json_block) in enumerate(zip(model["blocks"], arch["blocks"], strict=True)):
        for name, json_name in JSON_CONVS.items():
            if (block.get(name) is None) != (json_block.get(json_name) is None):
                raise TTError(f"{source}: blocks.{index}.{name} presence differs from the JSON")
            if block.get(name) is not None:
                same(f"blocks.{index}.{name}", block[name], json_block[json_name])
        if (block.get("residual") is not None) != bool(json_block.get("residual")):
            raise TTError(f"{source}: blocks.{index} residual flag differs from the JSON")


def import_tiny_training(path: Path, output: Path, head: HeadChoice = HeadChoice()) -> None:
    """Import a tiny-training .pkl into `output` (.mlir) and its weights file."""
    _import_model_dict(load_model_file(path), path, head, output)


def import_zoo(name: str, output: Path, zoo_dir: Path | None = None, head: HeadChoice = HeadChoice()) -> None:
    """Import zoo model `name`: architecture from NAME.json, int8 weights from NAME.pkl."""
    if name not in ZOO_NAMES:
        raise TTError(f"unknown zoo model '{name}' (choose from {', '.join(ZOO_NAMES)})")
    folder = zoo_dir or default_zoo_dir()
    arch_path, model_path = folder / f"{name}.json", folder / f"{name}.pkl"
    for needed in (arch_path, model_path):
        if not needed.is_file():
            raise TTError(f"zoo file {needed} not found (looked in {folder}; set --zoo-dir or ${ZOO_ENV})")
    try:
        arch = json.loads(arch_path.read_text())
    except json.JSONDecodeError as error:
        raise TTError(f"{arch_path}: invalid JSON ({error})") from None
    model = load_model_file(model_path)
    try:
        check_against_architecture(model, arch, model_path)
    except MALFORMED as error:
        raise TTError(f"{model_path}: does not match {arch_path} ({_first_line(error)})") from None
    _import_model_dict(model, model_path, head, output)
