"""PyTorch import (tt-import --torch): int8 numerics, accuracy on real data, CLI errors.

The numerics oracle is a fake-quantized PyTorch simulation written here (BatchNorm folded,
weights fake-quantized per output channel, activations per tensor, rounding at each layer's
output) that shares no code with the importer or the interpreter; it takes from the IR only
the scales and zero points the importer chose (the qtensor types and the weight scales).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from tt.tools.tt_import import main as tt_import_main
from ttdialect import dialect as tt
from ttdialect.errors import TTError
from ttdialect.importers.torch_import import import_torch
from ttdialect.interpreter import run_function
from ttdialect.ir_io import load_module
from ttdialect.types import QTensorType
from ttdialect.weights import WeightStore, module_params

BUNDLED = Path(__file__).resolve().parents[1] / "ttdialect" / "bundled"
SMALL_NET = Path(__file__).resolve().parent / "filecheck" / "importers" / "inputs" / "small_net.py"


# --------------------------------------------------------------------------- models


def conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, act: bool = True, bias=False):
    layers = [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=bias),
        nn.BatchNorm2d(cout),
    ]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class Block(nn.Module):
    """MobileNetV2 inverted residual: 1x1 expand, 3x3 depthwise, 1x1 project (+ skip)."""

    def __init__(self, cin: int, cout: int, expand: int, stride: int):
        super().__init__()
        hidden = cin * expand
        self.expand = conv_bn(cin, hidden, 1)
        self.dw = conv_bn(hidden, hidden, 3, stride, groups=hidden)
        self.project = conv_bn(hidden, cout, 1, act=False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.dw(self.expand(x)))
        return x + y if self.residual else y


class Net(nn.Module):
    def __init__(self, in_channels: int = 3, num_classes: int = 10, widths=(8, 16)):
        super().__init__()
        a, b = widths
        self.stem = conv_bn(in_channels, a, 3, stride=2, bias=True)
        self.blocks = nn.Sequential(Block(a, a, 3, 1), Block(a, b, 2, 2), Block(b, b, 3, 1))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(b, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.blocks(self.stem(x))), 1))


def randomize_batchnorm(model: nn.Module, generator: torch.Generator) -> None:
    """Non-trivial eval-mode statistics and affine parameters for every BatchNorm2d."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                c = module.num_features
                module.running_mean.copy_(torch.rand(c, generator=generator) - 0.5)
                module.running_var.copy_(0.5 + 1.5 * torch.rand(c, generator=generator))
                module.weight.copy_(0.5 + torch.rand(c, generator=generator))
                module.bias.copy_(0.6 * torch.rand(c, generator=generator) - 0.3)


def smooth_images(count: int, channels: int, size: int, seed: int) -> np.ndarray:
    """Float NCHW images in about [-1, 1]: low-frequency waves plus a little noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    images = np.empty((count, channels, size, size))
    for n in range(count):
        for c in range(channels):
            fx, fy, phase = rng.uniform(0.3, 2.0), rng.uniform(0.3, 2.0), rng.uniform(0, 6.3)
            images[n, c] = np.sin(2 * np.pi * (fx * xx + fy * yy) + phase)
    images += rng.normal(0, 0.1, images.shape)
    return np.clip(images, -1, 1).astype(np.float32)


# --------------------------------------------------------------------------- IR access


@dataclass
class IRInfo:
    input_type: QTensorType
    outputs: dict[str, QTensorType]  # conv / linear layer prefix -> output type
    weight_scales: dict[str, np.ndarray]  # layer prefix -> per-output-channel weight scales
    adds: list[QTensorType]  # tt.add output types, in order


def ir_info(module: ModuleOp, base_dir: Path) -> IRInfo:
    forward = next(op for op in module.ops if isinstance(op, func.FuncOp))
    store, params = WeightStore(module, base_dir), module_params(module)
    outputs, scales, adds = {}, {}, []
    for op in forward.body.ops:
        if isinstance(op, tt.Conv2DOp | tt.LinearOp):
            name = op.weight.root_reference.data
            prefix = name.removesuffix(".weight")
            outputs[prefix] = op.output.type
            scales[prefix] = store.scales(params[name])
        elif isinstance(op, tt.AddOp):
            adds.append(op.output.type)
    input_type = forward.function_type.inputs.data[0]
    assert isinstance(input_type, QTensorType)
    return IRInfo(input_type, outputs, scales, adds)


def forward_types(module: ModuleOp) -> tuple[QTensorType, QTensorType]:
    forward = next(op for op in module.ops if isinstance(op, func.FuncOp))
    return forward.function_type.inputs.data[0], forward.function_type.outputs.data[0]


def quantize_nhwc(images: np.ndarray, qtype: QTensorType) -> np.ndarray:
    q = np.rint(images.transpose(0, 2, 3, 1).astype(np.float64) / qtype.real_scale) + qtype.zp
    return np.clip(q, -128, 127).astype(np.int8)


# --------------------------------------------------------------------------- the oracle


class FakeQuantSim:
    """Float64 PyTorch forward of `Net` with every tensor fake-quantized at the IR's scales."""

    def __init__(self, model: Net, info: IRInfo):
        self.model, self.info = model, info
        self.adds = iter(info.adds)

    @staticmethod
    def quant(real: torch.Tensor, qtype: QTensorType) -> torch.Tensor:
        """Integer codes (as float64) of `real` in `qtype`, saturated.

        Rounded half up, the requantization rule of docs/numerics.md (it matters at exact ties,
        frequent in the average pool: a sum of integers divided by H * W).
        """
        return torch.clamp(torch.floor(real / qtype.real_scale + 0.5) + qtype.zp, -128, 127)

    @staticmethod
    def real(codes: torch.Tensor, qtype: QTensorType) -> torch.Tensor:
        return (codes - qtype.zp) * qtype.real_scale

    def fake_weights(self, prefix: str, weight: torch.Tensor, bias: torch.Tensor, x_scale: float):
        s = torch.from_numpy(self.info.weight_scales[prefix])
        shape = (-1,) + (1,) * (weight.dim() - 1)
        w = torch.clamp(torch.round(weight / s.reshape(shape)), -127, 127) * s.reshape(shape)
        unit = x_scale * s
        return w, torch.round(bias / unit) * unit

    def conv_bn(self, codes: torch.Tensor, qtype: QTensorType, seq: nn.Sequential, prefix: str):
        conv, bn = seq[0], seq[1]
        gain = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
        weight = conv.weight.double() * gain.reshape(-1, 1, 1, 1)
        bias = conv.bias.double() if conv.bias is not None else torch.zeros(conv.out_channels).double()
        bias = (bias - bn.running_mean.double()) * gain + bn.bias.double()
        w, b = self.fake_weights(f"{prefix}.0", weight, bias, qtype.real_scale)
        y = F.conv2d(self.real(codes, qtype), w, b, conv.stride, conv.padding, groups=conv.groups)
        if len(seq) > 2:  # ReLU6
            y = torch.clamp(y, 0.0, 6.0)
        out = self.info.outputs[f"{prefix}.0"]
        return self.quant(y, out), out

    def add(self, a, at, b, bt):
        out = next(self.adds)
        return self.quant(self.real(a, at) + self.real(b, bt), out), out

    @torch.no_grad()
    def forward(self, image_nhwc: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(image_nhwc.astype(np.float64)).permute(0, 3, 1, 2)
        xt = self.info.input_type
        x, xt = self.conv_bn(x, xt, self.model.stem, "stem")
        for index, block in enumerate(self.model.blocks):
            where = f"blocks.{index}"
            h, ht = self.conv_bn(x, xt, block.expand, f"{where}.expand")
            h, ht = self.conv_bn(h, ht, block.dw, f"{where}.dw")
            h, ht = self.conv_bn(h, ht, block.project, f"{where}.project")
            x, xt = self.add(x, xt, h, ht) if block.residual else (h, ht)
        # the pool keeps its input's scale: real mean / scale = mean of (q - zp), exact in float64
        # (dividing the real mean by the scale again would blur the frequent ties)
        pooled = torch.clamp(torch.floor((x - xt.zp).mean(dim=(2, 3)) + 0.5) + xt.zp, -128, 127)
        fc = self.model.fc
        w, b = self.fake_weights("fc", fc.weight.double(), fc.bias.double(), xt.real_scale)
        out = self.info.outputs["fc"]
        return self.quant(F.linear(self.real(pooled, xt), w, b), out).numpy().astype(np.int64)


# --------------------------------------------------------------------------- (a) numerics


def test_int8_outputs_match_fake_quantized_pytorch(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = Net()
    randomize_batchnorm(model, torch.Generator().manual_seed(1))
    model.eval()
    calibration = smooth_images(64, 3, 16, seed=2)
    images = np.concatenate([calibration[:8], smooth_images(24, 3, 16, seed=3)])
    module = import_torch(model, calibration, tmp_path / "net.mlir", batch_size=len(images))
    loaded = load_module(tmp_path / "net.mlir")  # what was written parses and verifies
    info = ir_info(loaded, tmp_path)

    # parameter names are the state_dict names of the convs and the linear, BN folded in
    names = set(module_params(module))
    convs = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert names == {f"{c}.weight" for c in convs} | {f"{c}.bias" for c in convs}
    assert len(info.adds) == 2

    image = quantize_nhwc(images, info.input_type)
    (got,) = run_function(loaded, "forward", [image], tmp_path)
    want = FakeQuantSim(model, info).forward(image)
    diff = np.abs(got.astype(np.int64) - want)
    within = float(np.mean(diff <= 1))
    exact = float(np.mean(diff == 0))
    print(
        f"\nint8 logits vs fake-quantized PyTorch: {within:.4f} within 1 LSB, "
        f"{exact:.4f} exact, max {diff.max()}"
    )
    assert within >= 0.95, f"only {within:.4f} of {diff.size} logits within 1 LSB (max diff {diff.max()})"

    # and the int8 model approximates the float one
    out_type = forward_types(loaded)[1]
    with torch.no_grad():
        reference = model(torch.from_numpy(images)).numpy()
    real = (got.astype(np.float64) - out_type.zp) * out_type.real_scale
    assert np.abs(real - reference).max() < 0.1 * np.abs(reference).max()


# --------------------------------------------------------------------------- (b) real data


def digits(size: int = 16) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    images = (np.kron(data.images, np.ones((size // 8, size // 8))) / 8.0 - 1.0).astype(np.float32)
    return train_test_split(images[:, None], data.target, test_size=0.4, stratify=data.target, random_state=0)


def test_top1_agreement_with_float_on_digits(tmp_path: Path) -> None:
    torch.manual_seed(0)
    x_train, x_test, y_train, y_test = digits()
    model = Net(in_channels=1, num_classes=10, widths=(8, 12))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    xs, ys = torch.from_numpy(x_train), torch.from_numpy(y_train)
    for _ in range(6):
        order = torch.randperm(len(xs))
        for start in range(0, len(xs), 64):
            index = order[start : start + 64]
            optimizer.zero_grad()
            F.cross_entropy(model(xs[index]), ys[index]).backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        float_pred = model(torch.from_numpy(x_test)).argmax(1).numpy()

    module = import_torch(model, x_train[:300], tmp_path / "digits.mlir", batch_size=len(x_test))
    in_type = forward_types(module)[0]
    (logits,) = run_function(module, "forward", [quantize_nhwc(x_test, in_type)], tmp_path)
    int8_pred = logits.argmax(1)
    agreement = float(np.mean(int8_pred == float_pred))
    float_acc, int8_acc = float(np.mean(float_pred == y_test)), float(np.mean(int8_pred == y_test))
    print(f"\ndigits: float acc {float_acc:.4f}, int8 acc {int8_acc:.4f}, top-1 agreement {agreement:.4f}")
    assert float_acc >= 0.85
    assert agreement >= 0.90


def test_bundled_model_and_samples() -> None:
    total = sum(p.stat().st_size for p in BUNDLED.iterdir() if p.name.startswith("digits_"))
    assert total < 200 * 1024
    module = load_module(BUNDLED / "digits_cnn.mlir")
    in_type, out_type = forward_types(module)
    assert in_type.get_shape() == (1, 16, 16, 1) and out_type.get_shape() == (1, 6)
    with np.load(BUNDLED / "digits_samples.npz") as samples:
        data = {key: samples[key] for key in samples.files}
    assert set(data) == {"train_x", "train_y", "test_x", "test_y"}
    for split in ("train", "test"):
        x, y = data[f"{split}_x"], data[f"{split}_y"]
        assert x.dtype == np.int8 and x.shape[1:] == (16, 16, 1) and y.dtype == np.int32
        assert set(np.unique(y)) == set(range(10)), f"{split} split must cover all ten classes"
    source = data["test_y"] < 6
    images, labels = data["test_x"][source], data["test_y"][source]
    pred = [int(np.argmax(run_function(module, "forward", [im[None]], BUNDLED)[0])) for im in images]
    accuracy = float(np.mean(np.array(pred) == labels))
    print(f"\nbundled model: int8 accuracy on held-out digits 0-5: {accuracy:.4f}")
    assert accuracy >= 0.90


# --------------------------------------------------------------------------- other supported forms


class FunctionalNet(nn.Module):
    """Functional activations, clamp, mean, view, dropout / identity, an activation used twice."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3, padding=(1, 1))
        self.bn1 = nn.BatchNorm2d(6)
        self.c2 = nn.Conv2d(6, 6, 3, stride=(2, 1), padding=1, groups=3, bias=False)
        self.c3 = nn.Conv2d(6, 6, 1, padding="valid")
        self.drop = nn.Dropout(0.5)
        self.skip = nn.Identity()
        self.fc = nn.Linear(6, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self.bn1(self.c1(x)))
        y = torch.clamp(self.c2(x), 0, 6)
        z = self.c3(y)
        z = F.relu(torch.add(self.skip(y), z))  # residual add with a fused ReLU
        w = z.relu()  # z has two users: a standalone tt.clamp
        z = w + z
        pooled = self.drop(z.mean((2, 3), keepdim=True))
        return F.relu(self.fc(pooled.view(pooled.size(0), -1)))


def test_functional_forms(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = FunctionalNet().eval()
    calibration = smooth_images(32, 3, 8, seed=4)
    module = import_torch(model, calibration, tmp_path / "f.mlir", batch_size=32)
    ops = [op.name for op in next(o for o in module.ops if isinstance(o, func.FuncOp)).body.ops]
    assert ops == [
        "tt.conv2d",
        "tt.conv2d",
        "tt.conv2d",
        "tt.add",
        "tt.clamp",
        "tt.add",
        "tt.global_avg_pool",
        "tt.reshape",
        "tt.linear",
        "func.return",
    ]
    conv2 = next(
        op
        for op in module.walk()
        if isinstance(op, tt.Conv2DOp) and op.weight.root_reference.data == "c2.weight"
    )
    assert tuple(conv2.stride.get_values()) == (2, 1) and conv2.bias is None
    in_type, out_type = forward_types(module)
    (got,) = run_function(module, "forward", [quantize_nhwc(calibration, in_type)], tmp_path)
    assert got.min() >= out_type.zp  # the fused final ReLU
    with torch.no_grad():
        reference = model(torch.from_numpy(calibration)).numpy()
    real = (got.astype(np.float64) - out_type.zp) * out_type.real_scale
    assert np.abs(real - reference).max() < 0.1 * np.abs(reference).max()


def test_python_api_errors(tmp_path: Path) -> None:
    with pytest.raises(TTError, match="expected a torch.nn.Module"):
        import_torch("not a model", np.zeros((1, 3, 8, 8), np.float32), tmp_path / "x.mlir")  # type: ignore[arg-type]
    with pytest.raises(TTError, match="NCHW"):
        import_torch(Net(), np.zeros((3, 8, 8), np.float32), tmp_path / "x.mlir")
    with pytest.raises(TTError, match="NaN"):
        import_torch(Net(), np.full((1, 3, 8, 8), np.nan, np.float32), tmp_path / "x.mlir")


# --------------------------------------------------------------------------- (d) CLI errors

MODELS_PY = """
import torch
from torch import nn


def good():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(4, 2))


def upsample():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Upsample(scale_factor=2), nn.Flatten(),
                         nn.Linear(1024, 2))


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.gate = nn.GELU()

    def forward(self, x):
        return self.gate(self.conv(x)).mean((2, 3))


def gelu():
    return Gate()


class Branchy(nn.Module):
    def forward(self, x):
        return x if x.sum() > 0 else -x


def untraceable():
    return Branchy()


def wrong_features():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(7, 2))


def mul_by_two():
    return nn.Sequential(nn.Conv2d(3, 4, 1), nn.Flatten(1, -1))


def not_a_module():
    return 42


def broken():
    raise RuntimeError("factory exploded")


not_callable = 3
"""


@pytest.fixture
def cli_files(tmp_path: Path) -> dict[str, Path]:
    models = tmp_path / "models.py"
    models.write_text(MODELS_PY)
    bad_syntax = tmp_path / "bad_syntax.py"
    bad_syntax.write_text("def make(:\n")
    calib = tmp_path / "calib.npy"
    np.save(calib, smooth_images(4, 3, 8, seed=5))
    flat = tmp_path / "flat.npy"
    np.save(flat, np.zeros((4, 192), np.float32))
    nan = tmp_path / "nan.npy"
    np.save(nan, np.full((2, 3, 8, 8), np.nan, np.float32))
    text = tmp_path / "text.npy"
    text.write_text("not numpy\n")
    archive = tmp_path / "archive.npy"
    with archive.open("wb") as handle:
        np.savez(handle, a=np.zeros((1, 3, 8, 8)))
    return {
        "models": models,
        "bad_syntax": bad_syntax,
        "calib": calib,
        "flat": flat,
        "nan": nan,
        "text": text,
        "archive": archive,
        "dir": tmp_path,
    }


def run_cli(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        tt_import_main(args)
    return int(exit_info.value.code or 0), capsys.readouterr().err


def torch_args(files: dict[str, Path], spec: str, shape: str | None = "1x3x8x8", calib: str | None = "calib"):
    args = ["--torch", spec, "-o", str(files["dir"] / "out.mlir")]
    if shape is not None:
        args += ["--input-shape", shape]
    if calib is not None:
        args += ["--calibration", str(files[calib]) if calib in files else calib]
    return args


CLI_ERRORS = [
    # (spec, input shape, calibration, expected message fragment)
    ("{dir}/missing.py:make", "1x3x8x8", "calib", "missing.py: no such Python file"),
    ("{models}", "1x3x8x8", "calib", "must be FILE.py:FACTORY"),
    ("{models}:nothere", "1x3x8x8", "calib", "no function 'nothere'"),
    ("{models}:not_callable", "1x3x8x8", "calib", "'not_callable' is not callable"),
    ("{models}:not_a_module", "1x3x8x8", "calib", "the factory returned int, not a torch.nn.Module"),
    ("{models}:broken", "1x3x8x8", "calib", "calling the factory failed: RuntimeError: factory exploded"),
    ("{bad_syntax}:make", "1x3x8x8", "calib", "bad_syntax.py: loading failed: SyntaxError"),
    ("{models}:good", "1x3x8", "calib", "--input-shape '1x3x8' must be NxCxHxW"),
    ("{models}:good", "ax3x8x8", "calib", "must be NxCxHxW"),
    ("{models}:good", "0x3x8x8", "calib", "must be NxCxHxW"),
    ("{models}:good", "1x3x8x8x1", "calib", "must be NxCxHxW"),
    ("{models}:good", None, "calib", "--torch needs --input-shape"),
    ("{models}:good", "1x3x8x8", None, "--torch needs --calibration"),
    ("{models}:good", "1x3x8x8", "{dir}/nope.npy", "nope.npy: no such calibration file"),
    (
        "{models}:good",
        "1x3x16x16",
        "calib",
        "calibration images have shape 4x3x8x8, --input-shape needs Nx3x16x16",
    ),
    ("{models}:good", "1x1x8x8", "calib", "--input-shape needs Nx1x8x8"),
    ("{models}:good", "1x3x8x8", "flat", "must be a non-empty NCHW array, got shape [4, 192]"),
    ("{models}:good", "1x3x8x8", "nan", "contains NaN or infinite values"),
    ("{models}:good", "1x3x8x8", "text", "not a .npy array file"),
    ("{models}:good", "1x3x8x8", "archive", "got an archive"),
    ("{models}:upsample", "1x3x8x8", "calib", "layer '1' (Upsample) is not supported"),
    ("{models}:gelu", "1x3x8x8", "calib", "layer 'gate' (GELU) is not supported"),
    ("{models}:untraceable", "1x3x8x8", "calib", "cannot trace the model with torch.fx"),
    ("{models}:wrong_features", "1x3x8x8", "calib", "calibration data failed at layer '2' (Linear)"),
    ("{models}:mul_by_two", "1x3x8x8", "calib", "the model returns a flattened spatial map"),
]


@pytest.mark.parametrize(("spec", "shape", "calib", "message"), CLI_ERRORS)
def test_cli_errors(cli_files, capsys, spec: str, shape: str | None, calib: str | None, message: str) -> None:
    fill = {key: str(value) for key, value in cli_files.items()}
    spec = spec.format(**fill)
    calib = calib.format(**fill) if calib is not None else None
    code, err = run_cli(capsys, torch_args(cli_files, spec, shape, calib))
    lines = err.strip().splitlines()
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("tt-import: error: "), err
    assert message in lines[0], lines[0]
    assert "Traceback" not in err
    assert not (cli_files["dir"] / "out.mlir").exists()


def test_unsupported_layer_message_lists_what_is_supported(cli_files, capsys) -> None:
    _, err = run_cli(capsys, torch_args(cli_files, f"{cli_files['models']}:gelu"))
    assert "supported: Conv2d" in err and "Linear" in err and "residual add" in err


def test_cli_head_options_rejected_for_torch(cli_files, capsys) -> None:
    code, err = run_cli(capsys, torch_args(cli_files, f"{cli_files['models']}:good") + ["--num-classes", "3"])
    assert code == 1 and "--num-classes and --new-head apply to zoo and .pkl models" in err


def test_cli_success_and_console_script(cli_files, tmp_path: Path) -> None:
    """The installed `tt-import` imports a good model and reports a bad one in one line."""
    out = tmp_path / "good.mlir"
    ok = subprocess.run(
        [
            "tt-import",
            "--torch",
            f"{cli_files['models']}:good",
            "--input-shape",
            "2x3x8x8",
            "--calibration",
            str(cli_files["calib"]),
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    in_type, out_type = forward_types(load_module(out))
    assert in_type.get_shape() == (2, 8, 8, 3) and out_type.get_shape() == (2, 2)
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "tt.tools.tt_import",
            "--torch",
            f"{cli_files['models']}:upsample",
            "--input-shape",
            "1x3x8x8",
            "--calibration",
            str(cli_files["calib"]),
            "-o",
            str(tmp_path / "bad.mlir"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [bad.stderr.strip()]
    assert bad.stderr.startswith("tt-import: error: layer '1' (Upsample) is not supported")
