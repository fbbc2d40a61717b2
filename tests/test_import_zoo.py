"""Zoo import: the interpreter's int8 logits equal the .pkl file's own int8 rule.

The oracle is written here from the format description in ../shared/models/README.md, in plain
numpy (float effective scale, numpy rounding), sharing no code with the importer or interpreter.
The fixed-point requantization of tt may differ from the float rule by 1 LSB on rare elements.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from ttdialect.importers.tiny_training import ZOO_NAMES, default_zoo_dir, load_model_file
from ttdialect.interpreter import run_function
from ttdialect.ir_io import load_module

ZOO = default_zoo_dir()
needs_zoo = pytest.mark.skipif(not ZOO.is_dir(), reason=f"zoo folder {ZOO} is absent")


def oracle_conv(x: np.ndarray, conv: dict) -> np.ndarray:
    """int8 NCHW conv of the .pkl rule: clamp(round(acc * eff) + y_zero)."""
    p = conv["params"]
    w = p["weight"].astype(np.int64)
    o, ig, kh, kw = w.shape
    stride, groups, pad = conv["stride"], conv["groups"], (kh - 1) // 2
    xs = np.pad(x.astype(np.int64) - p["x_zero"], ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = np.lib.stride_tricks.sliding_window_view(xs, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, ho, wo = windows.shape[:4]
    acc = np.empty((n, o, ho, wo), dtype=np.int64)
    per_group = o // groups
    for g in range(groups):
        win = windows[:, g * ig : (g + 1) * ig]  # n, ig, ho, wo, kh, kw
        wg = w[g * per_group : (g + 1) * per_group]  # per_group, ig, kh, kw
        acc[:, g * per_group : (g + 1) * per_group] = np.einsum("nchwij,ocij->nohw", win, wg)
    acc += p["bias"].astype(np.int64)[None, :, None, None]
    eff = p["x_scale"] * p["w_scales"].astype(np.float64) / p["y_scale"]
    y = np.round(acc * eff[None, :, None, None]) + p["y_zero"]
    return np.clip(y, -128, 127).astype(np.int64)


def oracle_forward(model: dict, image_nchw: np.ndarray) -> np.ndarray:
    x = oracle_conv(image_nchw, model["first_conv"])
    for block in model["blocks"]:
        skip = x
        for name in ("pointwise1", "depthwise", "pointwise2"):
            if block[name] is not None:
                x = oracle_conv(x, block[name])
        if block["residual"] is not None:
            r = block["residual"]["params"]
            pw2 = block["pointwise2"]["params"]
            real = (skip - r["x_zero"]) * r["x_scale"] + (x - pw2["y_zero"]) * pw2["y_scale"]
            x = np.clip(np.round(real / r["y_scale"]) + r["y_zero"], -128, 127).astype(np.int64)
    pooled = np.round(x.mean(axis=(2, 3), keepdims=True)).astype(np.int64)
    return oracle_conv(pooled, model["classifier"])[:, :, 0, 0]


def sample_image(seed: int) -> np.ndarray:
    """A smooth int8 image (a sum of low-frequency waves plus a little noise), NHWC."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:128, 0:128] / 128.0
    channels = []
    for _ in range(3):
        fx, fy, phase = rng.uniform(0.5, 3, 2).tolist() + [rng.uniform(0, 6.28)]
        channels.append(np.sin(2 * np.pi * (fx * xx + fy * yy) + phase))
    image = np.stack(channels, axis=-1) * 100 + rng.normal(0, 10, (128, 128, 3))
    return np.clip(np.rint(image), -128, 127).astype(np.int8)[None]


@needs_zoo
@pytest.mark.parametrize("name", ZOO_NAMES)
def test_zoo_forward_matches_model_file_rule(name: str, tmp_path: Path) -> None:
    out = tmp_path / f"{name}.mlir"
    subprocess.run(["tt-import", "--zoo", name, "-o", str(out)], check=True, capture_output=True)
    module = load_module(out)
    model = load_model_file(ZOO / f"{name}.pkl")
    exact = total = 0
    for seed in range(2):
        image = sample_image(seed)
        got = run_function(module, "forward", [image], tmp_path)[0].astype(np.int64)
        want = oracle_forward(model, image.transpose(0, 3, 1, 2))
        assert got.shape == want.shape == (1, 1000)
        assert np.abs(got - want).max() <= 1, f"{name}: logits differ by more than 1 LSB"
        exact += int((got == want).sum())
        total += got.size
        assert int(np.argmax(got)) == int(np.argmax(want)) or np.sort(want[0])[-2] >= want[0].max() - 1
    fraction = exact / total
    print(f"{name}: {fraction:.4f} of logits bit-exact vs the .pkl float rule")
    assert fraction >= 0.8


@needs_zoo
def test_num_classes_keeps_first_rows(tmp_path: Path) -> None:
    full, ten = tmp_path / "full.mlir", tmp_path / "ten.mlir"
    subprocess.run(["tt-import", "--zoo", "mcunet-5fps", "-o", str(full)], check=True)
    subprocess.run(["tt-import", "--zoo", "mcunet-5fps", "--num-classes", "10", "-o", str(ten)], check=True)
    image = sample_image(3)
    logits_full = run_function(load_module(full), "forward", [image], tmp_path)[0]
    logits_ten = run_function(load_module(ten), "forward", [image], tmp_path)[0]
    assert logits_ten.shape == (1, 10)
    np.testing.assert_array_equal(logits_ten, logits_full[:, :10])


@needs_zoo
def test_new_head_is_seeded_and_sized(tmp_path: Path) -> None:
    outs = []
    for run in range(2):
        out = tmp_path / f"new{run}.mlir"
        subprocess.run(
            ["tt-import", "--zoo", "mcunet-5fps", "--num-classes", "5", "--new-head", "-o", str(out)],
            check=True,
        )
        outs.append(run_function(load_module(out), "forward", [sample_image(4)], tmp_path)[0])
    assert outs[0].shape == (1, 5)
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--zoo", "mcunet-5fps", "--zoo-dir", "/nonexistent"], "looked in /nonexistent"),
        (["--tiny-training", "/nonexistent.pkl"], "no such model file"),
        (["--zoo", "mcunet-5fps", "--new-head"], "--new-head needs --num-classes"),
    ],
)
def test_bad_input_gives_one_line_error(args: list[str], message: str, tmp_path: Path) -> None:
    result = subprocess.run(
        ["tt-import", *args, "-o", str(tmp_path / "m.mlir")], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "m.mlir").exists()


def test_not_a_model_file(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pkl"
    torch.save({"hello": 1}, bogus)
    result = subprocess.run(
        ["tt-import", "--tiny-training", str(bogus), "-o", str(tmp_path / "m.mlir")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "expected a dict with first_conv" in result.stderr
    garbage = tmp_path / "garbage.pkl"
    garbage.write_bytes(b"not a zip at all")
    result = subprocess.run(
        ["tt-import", "--tiny-training", str(garbage), "-o", str(tmp_path / "m.mlir")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "not a tiny-training model file" in result.stderr
    assert "Traceback" not in result.stderr
