"""The TFLite importer (issue 16 item 1): fully int8 .tflite models, bit-exact with TFLite.

The models are made once per session by scripts/make_tflite_models.py (Keras definitions with
random weights, full-integer post-training quantization by TensorFlow's converter, about 15 s):
MobileNetV2 0.35 at 96x96, MobileNetV3-Small-like blocks (hard-swish, squeeze-and-excitation),
ResNet-8, DS-CNN and a net of the remaining ops with float32 edges. Per model:

- imported, its int8 logits from tt's interpreter equal TFLite's reference kernels
  (tf.lite.Interpreter with the BUILTIN_REF op resolver) on every element, on random images;
  the share equal to TFLite's default interpreter (XNNPACK) and its optimized kernels is printed:
  those requantize otherwise (float multipliers, ruy's one rounding; docs/numerics.md);
- compiled for the host with `last-2` (tt.load(path).training_step): the generated C's forward
  equals the interpreter, and a few epochs on eight images lower the loss.

Also `tt-import --tflite` on the command line, one clear error for an unsupported operator and
for a PAD that cannot be folded, and damaged files (tests/fuzzing.py fuzzes the tool further).
TensorFlow is a test-only dependency (the `dev` extra); without it these tests are skipped.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("tflite")
tf = pytest.importorskip("tensorflow")

import tt  # noqa: E402
from ttdialect.errors import TTError  # noqa: E402
from ttdialect.importers.tflite_import import TFLiteImportError, import_tflite, read_graph  # noqa: E402
from ttdialect.interpreter import run_function  # noqa: E402
from ttdialect.ir_io import find_function, load_module  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
IMAGES = {"mobilenet_v2": 3, "mobilenet_v3_small": 5, "resnet8": 6, "ds_cnn": 6, "layers": 8}
OPS = {
    "mobilenet_v2": {"tt.conv2d", "tt.add", "tt.global_avg_pool", "tt.linear"},
    "mobilenet_v3_small": {"tt.hard_swish", "tt.sigmoid", "tt.mul", "tt.add", "tt.global_avg_pool"},
    "resnet8": {"tt.conv2d", "tt.add", "tt.avg_pool", "tt.reshape", "tt.linear"},
    "ds_cnn": {"tt.conv2d", "tt.avg_pool", "tt.reshape", "tt.linear"},
    "layers": {"tt.max_pool", "tt.concat", "tt.sigmoid", "tt.mul", "tt.reshape", "tt.linear"},
}


def _script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_tflite_models", REPO / "scripts" / "make_tflite_models.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    script = _script()
    folder = tmp_path_factory.mktemp("tflite")
    return {name: script.make_model(name, folder) for name in script.MODEL_NAMES}


def _interpreter(path: Path, resolver: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kind = getattr(tf.lite.experimental.OpResolverType, resolver)
        interpreter = tf.lite.Interpreter(
            model_path=str(path), experimental_op_resolver_type=kind, experimental_preserve_all_tensors=True
        )
    interpreter.allocate_tensors()
    return interpreter


def _edges(path: Path) -> tuple[int | None, int]:
    """(the int8 tensor a float input's QUANTIZE makes, or None; the logits: SOFTMAX's input)."""
    graph = read_graph(path.read_bytes())
    quantized = next((op.outputs[0] for op in graph.operators if op.name == "QUANTIZE"), None)
    softmax = next(op for op in graph.operators if op.name == "SOFTMAX")
    return quantized, softmax.inputs[0]


def _tflite_run(interpreter: Any, image: np.ndarray, tensors: list[int]) -> list[np.ndarray]:
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
    interpreter.invoke()
    return [interpreter.get_tensor(index) for index in tensors]


@pytest.mark.parametrize("name", list(IMAGES))
def test_logits_bit_exact_with_tflite_reference_kernels(
    models: dict[str, Path], name: str, tmp_path: Path
) -> None:
    path = models[name]
    dropped = import_tflite(path, tmp_path / "m.mlir")
    assert any("SOFTMAX" in edge for edge in dropped)
    module = load_module(tmp_path / "m.mlir")
    forward = find_function(module, "forward")
    assert forward is not None
    assert OPS[name] <= {op.name for op in forward.body.block.ops}
    quantized, logits = _edges(path)
    interpreters = {
        kind: _interpreter(path, kind)
        for kind in ("BUILTIN_REF", "BUILTIN_WITHOUT_DEFAULT_DELEGATES", "BUILTIN")
    }
    details = interpreters["BUILTIN_REF"].get_input_details()[0]
    rng = np.random.default_rng(3)
    equal = dict.fromkeys(interpreters, 0)
    total = 0
    for _ in range(IMAGES[name]):
        if details["dtype"] == np.float32:  # float edges: tt takes what TFLite's QUANTIZE makes
            image = rng.uniform(-1.0, 1.0, size=details["shape"]).astype(np.float32)
            assert quantized is not None
            tt_image = _tflite_run(interpreters["BUILTIN_REF"], image, [quantized])[0]
        else:
            image = tt_image = rng.integers(-128, 128, size=details["shape"]).astype(np.int8)
        (ours,) = run_function(module, "forward", [tt_image], tmp_path)
        for kind, interpreter in interpreters.items():
            (theirs,) = _tflite_run(interpreter, image, [logits])
            equal[kind] += int(np.sum(ours.ravel() == theirs.ravel()))
        total += ours.size
        assert len(np.unique(ours)) > 2  # logits that say something
    shares = {kind: f"{count / total:.3f}" for kind, count in equal.items()}
    print(f"\n{name}: int8 logits equal to TFLite's on {total} logits: {shares}")
    assert equal["BUILTIN_REF"] == total


@pytest.mark.parametrize("name", list(IMAGES))
def test_compiles_for_the_host_and_trains(models: dict[str, Path], name: str) -> None:
    model = tt.load(models[name])
    step = model.training_step("last-2", lr=0.01)
    rng = np.random.default_rng(4)
    image = rng.integers(-128, 128, size=(1, *model.image_shape)).astype(np.int8)
    (expected,) = run_function(model.module, "forward", [image], model.directory)
    (got,), _ = step.run("forward", [image], backend="host")
    np.testing.assert_array_equal(got, expected)

    images = rng.integers(-128, 128, size=(8, *model.image_shape)).astype(np.int8)
    labels = (np.arange(8) % 2).astype(np.int32)
    run = step.train((images, labels), epochs=6, window=8, schedule="constant")  # the rate it was sized for
    losses = [report.mean_loss for report in run.reports]
    print(f"\n{name}: mean loss per epoch {[round(loss, 3) for loss in losses]}")
    assert run.status == 0 and len(losses) == 6
    assert losses[-1] < 0.97 * losses[0]


def _tt_import(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "tt.tools.tt_import", *argv]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_command_line(models: dict[str, Path], tmp_path: Path) -> None:
    done = _tt_import("--tflite", str(models["layers"]), "-o", "layers.mlir", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "dropped the float32 input edge (QUANTIZE, operator 0)" in done.stderr
    assert "dropped the float32 output edge (DEQUANTIZE" in done.stderr
    assert "dropped the final softmax (SOFTMAX" in done.stderr
    assert (tmp_path / "layers.mlir").is_file() and (tmp_path / "layers.weights.npz").is_file()
    text = (tmp_path / "layers.mlir").read_text()
    assert 'numerics = "tflite"' in text and "@conv_2d_1.weight" in text

    both = _tt_import("--tflite", str(models["layers"]), "--zoo", "mbv2-w0.35", "-o", "x.mlir", cwd=tmp_path)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    head = _tt_import("--tflite", str(models["layers"]), "--num-classes", "3", "-o", "x.mlir", cwd=tmp_path)
    assert head.returncode == 1
    assert head.stderr.strip() == (
        "tt-import: error: --num-classes and --new-head apply to zoo and .pkl models, not to --tflite"
    )
    assert not (tmp_path / "x.mlir").exists()


def test_the_importer_needs_no_tensorflow(tmp_path: Path) -> None:
    """Only the `tflite` schema bindings: TensorFlow stays a test dependency."""
    seed = REPO / "tests" / "data" / "tiny.tflite"
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "import tt\n"
        f"model = tt.load({str(seed)!r})\n"
        "model.training_step('last-2')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf_keras'))\n"
        "assert not loaded, loaded\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _convert(model: Any, tmp_path: Path) -> Path:
    script = _script()
    path = tmp_path / "model.tflite"
    path.write_bytes(script._silenced(lambda: script.convert(model)))
    return path


def test_unsupported_operator_is_named_with_its_index(tmp_path: Path) -> None:
    import keras

    keras.utils.set_random_seed(0)
    image = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(image)
    x = keras.layers.Activation("tanh")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    path = _convert(keras.Model(image, keras.layers.Dense(2)(x)), tmp_path)
    with pytest.raises(TFLiteImportError) as error:
        import_tflite(path, tmp_path / "m.mlir")
    message = str(error.value)
    assert message.startswith(
        f"{path}: operator 1 (TANH) is not supported; tt imports CONV_2D, DEPTHWISE_CONV_2D"
    )
    assert "\n" not in message
    assert not (tmp_path / "m.mlir").exists()

    done = _tt_import("--tflite", str(path), "-o", "m.mlir", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"tt-import: error: {message}"]


def test_a_pad_that_cannot_be_folded_is_named(tmp_path: Path) -> None:
    import keras

    keras.utils.set_random_seed(0)
    image = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(image)
    x = keras.layers.ZeroPadding2D(((2, 1), (2, 1)))(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    path = _convert(keras.Model(image, keras.layers.Dense(2)(x)), tmp_path)
    expected = (
        r"operator 1 \(PAD\): tt folds a PAD into the padding of the one CONV_2D / DEPTHWISE_CONV_2D "
        r"reading it; this one is read by MAX_POOL_2D \(operator 2\)"
    )
    with pytest.raises(TFLiteImportError, match=expected):
        import_tflite(path, tmp_path / "m.mlir")


def test_damaged_files_give_one_clear_error(tmp_path: Path) -> None:
    seed = (REPO / "tests" / "data" / "tiny.tflite").read_bytes()
    rng = np.random.default_rng(5)
    damaged = {
        "empty": b"",
        "text": b"builtin.module {}\n",
        "truncated": seed[: len(seed) // 3],
        "no identifier": seed[:4] + b"XXXX" + seed[8:],
    }
    for k in range(40):
        data = bytearray(seed)
        for at in rng.integers(0, len(data), size=1 + k % 4):
            data[int(at)] ^= 1 << int(rng.integers(0, 8))
        damaged[f"flipped {k}"] = bytes(data)
    failures = []
    for index, (what, data) in enumerate(damaged.items()):
        folder = tmp_path / f"case{index}"  # a folder of its own: no case sees another's output
        folder.mkdir()
        path = folder / "m.tflite"
        path.write_bytes(data)
        try:
            import_tflite(path, folder / "m.mlir")
        except TTError as error:
            if "\n" in str(error) or not str(error).startswith(str(path)):
                failures.append(f"{what}: {error}")
            left = sorted(p.name for p in folder.iterdir() if p != path)
            if left:
                failures.append(f"{what}: a refused import left {left}")
        except Exception as error:  # noqa: BLE001 - this is what the test looks for
            failures.append(f"{what}: {type(error).__name__}: {error}")
    assert not failures, "\n".join(failures)
    for what in ("empty", "text", "truncated", "no identifier"):
        (tmp_path / "m.tflite").write_bytes(damaged[what])
        with pytest.raises(TFLiteImportError, match="not a valid TFLite model"):
            import_tflite(tmp_path / "m.tflite", tmp_path / "m.mlir")
