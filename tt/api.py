"""The Python API of tt (re-exported by the `tt` package): what the command-line tools do, as calls.

    model = tt.load("mcunet-5fps", num_classes=10, new_head=True)     # zoo, .pkl, .mlir, bundled
    step = model.training_step("mcunet-5fps/99kb", lr=0.001)          # tt-training-pipeline
    step.memory_report().arena_bytes                                  # the planned memory
    step.c_sources("mcunet")                                          # NAME.h, NAME.c, ...
    step.write_project("mcunet-m7", target="qemu-m7")                 # a buildable folder
    step.run("forward", [image], backend="host")                      # interpreter, host or qemu
    step.train(train, test, epochs=1)                                 # generated C on this host

Every failure is a `tt.TTError` (or a subclass) carrying the located message the tools print;
nothing here calls sys.exit or prints (but `load_torch`'s calibration progress on stderr, which
`progress=False` turns off).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.utils.exceptions import DiagnosticException, PassFailedException

from lowering.app import Samples, model_classes, module_image_shape
from lowering.c_model import ModelFiles, check_model_name, emit_model
from lowering.params import c_identifier, collect_params
from lowering.profile import layer_table
from lowering.projects import BOARD_RAM_KB, TARGETS, write_project
from lowering.schedules import DEFAULT_SCHEDULE
from passes import apply_pipeline
from passes.memory.report import MemoryReport, memory_report
from ttdialect.errors import TTError
from ttdialect.importers.tiny_training import ZOO_NAMES, HeadChoice, import_tiny_training, import_zoo
from ttdialect.ir_io import find_function, load_module, module_text, read_npz
from ttdialect.outputs import Outputs, npz_bytes
from ttdialect.weights import WEIGHTS_ATTR, WeightStore

BUNDLED = "bundled"
BUNDLED_LEARNING_RATE = 0.05
"""The bundled digits CNN learns its new classes at 0.05 (docs/benchmarks.md, learning)."""
ZOO_LEARNING_RATE = 0.001
"""How it was chosen (bench/accuracy.py, docs/benchmarks.md): on Fashion-MNIST the validation
sweeps of int8+QAS over 0.0002-0.005 are flat within about two points from 0.0002 to 0.002 for
the published preset, last-4 and bias-only schemes of MCUNet (the best of each: 0.0005, 0.0002,
0.005), and 0.001 sits in the middle of that plateau; 0.05, the old default, saturates the
logits at the int8 limits within a few dozen steps (the divergence watch says so). With the
cosine (the default schedule), 3-order sweeps of the three presets chose 0.001-0.005 for
int8+QAS, and no run at 0.002 or below collapsed; 0.005 did on some orders."""


class PassError(TTError):
    """A pass refused its input (the message names the pass and, where it can, the op)."""


def default_learning_rate(source: str) -> float:
    """The learning rate used when none is given (how each was chosen: see the constants)."""
    return BUNDLED_LEARNING_RATE if source == BUNDLED else ZOO_LEARNING_RATE


def default_model_name(source: str) -> str:
    """The C name of a model: `digits_cnn` for the bundled one, else from the source's stem."""
    if source == BUNDLED:
        return "digits_cnn"
    name = c_identifier(Path(source).stem.replace("-", "_").replace(".", "_"))
    try:
        check_model_name(name)
    except TTError:
        return f"model_{name.strip('_')}"  # e.g. main.mlir: main.c is the application's
    return name


def _number(value: float) -> str:
    return np.format_float_positional(value, trim="-")  # 1e-05 is not an option value xDSL reads


# ----------------------------------------------------------------------- models


class _HasForward:
    """What a model and its training step both answer from their @forward."""

    module: ModuleOp

    @property
    def image_shape(self) -> tuple[int, ...]:
        return module_image_shape(self.module)

    @property
    def classes(self) -> int:
        return model_classes(self.module)

    @property
    def input_quantization(self) -> tuple[float, int]:
        """(scale, zero point) of the int8 input image."""
        image = find_function(self.module, "forward").args[0].type  # type: ignore[union-attr]
        return image.real_scale, image.zp

    def text(self) -> str:
        """The IR as tt-opt prints it."""
        return module_text(self.module)


@dataclass
class Model(_HasForward):
    """A forward IR (`@forward`: int8 NHWC image -> logits) and the folder of its weights file."""

    module: ModuleOp
    directory: Path
    source: str
    _keep: Any = field(default=None, repr=False)  # the temporary folder an import lives in

    @property
    def name(self) -> str:
        return default_model_name(self.source)

    def training_step(
        self, scheme: str = "last-3", lr: float | None = None, rounding: str = "stochastic", qas: bool = True
    ) -> TrainingStep:
        """The planned training step (tt-training-pipeline) of this model for an update scheme;
        a module that already holds a @train_step (e.g. a planned .mlir) is taken as it is."""
        rate = default_learning_rate(self.source) if lr is None else lr
        if find_function(self.module, "train_step") is not None:
            return TrainingStep(self.module, self.directory, self.source, scheme, rate, self._keep)
        if not 0.0 < rate <= 1e4:
            raise TTError(f"learning rate must be in (0, 1e4], got {rate}")
        module = self.module.clone()
        spec = (
            f"tt-training-pipeline{{scheme={scheme} lr={_number(rate)} rounding={rounding} "
            f"qas={str(qas).lower()}}}"
        )
        try:
            apply_pipeline(module, spec, self.directory)
        except (PassFailedException, DiagnosticException, ValueError) as error:
            raise PassError(str(error)) from None
        return TrainingStep(module, self.directory, self.source, scheme, rate, self._keep)

    def save(self, path: Path | str) -> Path:
        """Write the IR to `path` (.mlir) and its weights file beside it (tt's output rules)."""
        path = Path(path)
        module = self.module.clone()
        weights = WeightStore(self.module, self.directory).weights_path()
        with Outputs() as outputs:
            if weights is not None:
                target = path.with_name(f"{path.stem}.weights.npz")
                outputs.file(target, npz_bytes(read_npz(weights, "weights file")))
                module.attributes[WEIGHTS_ATTR] = StringAttr(target.name)
            outputs.file(path, module_text(module))
        return path


def load(
    source: str | Path,
    *,
    num_classes: int | None = None,
    new_head: bool = False,
    seed: int = 0,
    zoo_dir: Path | str | None = None,
) -> Model:
    """A model from `bundled`, a zoo name (`mbv2-w0.35`, `proxyless-w0.3`, `mcunet-5fps`), a
    tiny-training `.pkl`, a fully int8 TensorFlow Lite `.tflite` model (imported with TFLite's
    numerics, bit-exact with its reference kernels; needs the `tflite` package), or a `.mlir`
    file holding `@forward` (its weights file beside it). num_classes / new_head / seed choose
    the classifier head of zoo and .pkl models."""
    text = str(source)
    if text.endswith(".mlir"):
        path = Path(text)
        return Model(load_module(path), path.parent, text)
    work = tempfile.TemporaryDirectory(prefix="tt-model-")
    folder = Path(work.name)
    head = HeadChoice(1000 if num_classes is None else num_classes, new_head, seed)
    if text == BUNDLED:
        from ttdialect.bundled import copy_model

        path = copy_model(folder)
    elif text in ZOO_NAMES:
        path = folder / "model.mlir"
        import_zoo(text, path, Path(zoo_dir) if zoo_dir else None, head)
    elif text.endswith(".pkl"):
        path = folder / "model.mlir"
        import_tiny_training(Path(text), path, head)
    elif text.endswith(".tflite"):
        from ttdialect.importers.tflite_import import import_tflite

        path = folder / "model.mlir"
        import_tflite(Path(text), path)
    else:
        raise TTError(
            f"'{text}' is not {BUNDLED}, a zoo name ({', '.join(ZOO_NAMES)}), a .pkl, a .tflite or a .mlir"
        )
    return Model(load_module(path), folder, text, work)


def load_torch(module: Any, calibration: np.ndarray, *, batch_size: int = 1, progress: Any = True) -> Model:
    """A float torch.nn.Module quantized with `calibration` (float NCHW images), as tt-import --torch.
    A calibration of more than one batch (64 images) reports its progress: on stderr by default,
    to `progress(done, total)` when it is a callable, not at all when it is False."""
    from ttdialect.importers.torch_import import import_torch, stderr_progress

    work = tempfile.TemporaryDirectory(prefix="tt-model-")
    path = Path(work.name) / "model.mlir"
    report = stderr_progress("tt.load_torch: ") if progress is True else (progress or None)
    import_torch(module, calibration, path, batch_size=batch_size, progress=report)
    return Model(load_module(path), path.parent, "torch_model.mlir", work)


# ----------------------------------------------------------------------- training steps


@dataclass
class TrainingStep(_HasForward):
    """A planned training step (@forward and @train_step with every buffer at an arena offset)."""

    module: ModuleOp
    directory: Path
    source: str
    scheme: str
    learning_rate: float
    _keep: Any = field(default=None, repr=False)

    def memory_report(self) -> MemoryReport:
        """Arena, lower bound, trainable SRAM, total SRAM and flash of the plan."""
        return memory_report(self.module)

    def c_model(self, name: str | None = None) -> ModelFiles:
        """The generated C (NAME.h, NAME.c, NAME_data.h, NAME_data.c) and its figures."""
        return emit_model(self.module, self.directory, name or default_model_name(self.source))

    def c_sources(self, name: str | None = None) -> dict[str, str]:
        return dict(self.c_model(name).files)

    def report(self, name: str | None = None, target: str = "qemu-m7") -> dict:
        """The generation report (the memory report and what the project is)."""
        report = json.loads(self.memory_report().to_json())
        model = name or default_model_name(self.source)
        report.update({"model": model, "scheme": self.scheme, "target": target})
        report["layers"] = layer_table(self.module, collect_params(self.module, self.directory, model))
        return report

    def fits(self, ram_kb: int = BOARD_RAM_KB) -> tuple[bool, str]:
        """Whether the plan's SRAM fits the board (and a sentence saying how much it takes)."""
        report = self.memory_report()
        total = report.total_sram_bytes
        budget = ram_kb * 1024
        return total <= budget, f"{total / 1024:.1f} KB of SRAM planned, {total / budget:.0%} of {ram_kb} KB"

    def write_project(
        self,
        out: Path | str,
        target: str = "qemu-m7",
        samples: Samples | None = None,
        *,
        name: str | None = None,
        inputs: Sequence[Path] = (),
        outputs: Outputs | None = None,
        report: dict | None = None,
    ) -> ModelFiles:
        """A buildable folder for `target` (host, qemu-m7, stm32cubeide) under tt's output rules;
        `samples` default to a few seeded random images (memory and speed only)."""
        if target not in TARGETS:
            raise TTError(f"unknown target '{target}' (choose from {', '.join(TARGETS)})")
        model = self.c_model(name)
        shape = module_image_shape(self.module)
        if samples is None:
            samples = synthetic_samples(shape, model_classes(self.module), steps=3)
        details = report if report is not None else self.report(model.name, target)
        with Outputs(inputs) if outputs is None else _borrowed(outputs) as staged:
            write_project(target, Path(out), model, samples, int(np.prod(shape)), details, outputs=staged)
        return model

    def run(self, function: str, inputs: list[np.ndarray], backend: str = "interpreter"):
        """Run @function on `inputs` (batch 1) with the interpreter, or as C on the host or in
        QEMU: (results, parameters after the run)."""
        if find_function(self.module, function) is None:
            raise TTError(f"no function @{function} in the training step")
        if backend == "interpreter":
            from ttdialect.interpreter import ParamState, run_function

            state = ParamState(WeightStore(self.module, self.directory))
            results = run_function(self.module, function, inputs, self.directory, state)
            return list(results), {name: state.value(name) for name in state.params}
        from lowering.c_run import run_c

        run = run_c(self.module, self.directory, function, inputs, backend)
        return list(run.results), run.params

    def train(self, train, test=None, *, epochs: int = 1, lr: float | None = None,
              schedule: str = DEFAULT_SCHEDULE, seed: int = 0, window: int = 50, on_report=None,
              evaluate_before: bool = True):  # fmt: skip
        """Train with the generated C on this machine (lowering/data_runner.py: samples streamed
        from files, each epoch in a seeded random order, the rate following `schedule` over all
        the steps); the run's DataRun (the accuracy on
        `test` after training, and before it unless `evaluate_before` is False)."""
        from lowering.data_runner import HostDataRunner

        with tempfile.TemporaryDirectory(prefix="tt-train-") as work:
            runner = HostDataRunner(self.module, self.directory, Path(work))
            rng = np.random.default_rng(seed)
            order = [int(i) for _ in range(epochs) for i in rng.permutation(len(train[1]))]
            return runner.run(
                train, test, learning_rate=lr or self.learning_rate, order=order, schedule=schedule,
                seed=seed, window=window, on_report=on_report, evaluate_before=evaluate_before,
            )  # fmt: skip


class _borrowed:
    """An Outputs the caller commits: entering and leaving it here does nothing."""

    def __init__(self, outputs: Outputs) -> None:
        self.outputs = outputs

    def __enter__(self) -> Outputs:
        return self.outputs

    def __exit__(self, *exc: object) -> None:
        return None


SAMPLE_KEYS = ("train_x", "train_y", "test_x", "test_y")


def samples_from_npz(
    path: Path, image_shape: tuple[int, ...], classes: int, steps: int | None = None
) -> Samples:
    """train_x, train_y, test_x, test_y of a samples .npz, checked against the model (int8 NHWC
    images as it takes them, labels in [0, classes)); `steps` default: one epoch, at most 200."""
    data = read_npz(path, "samples archive")
    missing = [key for key in SAMPLE_KEYS if key not in data]
    if missing:
        raise TTError(f"{path}: missing {', '.join(missing)} (needs {', '.join(SAMPLE_KEYS)})")
    arrays = [data[key] for key in SAMPLE_KEYS]
    if any(array.ndim == 0 for array in arrays):
        raise TTError(f"{path}: {', '.join(SAMPLE_KEYS)} must be arrays, not scalars")
    for images, labels, which in ((arrays[0], arrays[1], "train"), (arrays[2], arrays[3], "test")):
        if images.shape[1:] != image_shape or len(images) != len(labels):
            raise TTError(
                f"{path}: {which}_x must be int8 [N, {', '.join(map(str, image_shape))}] with one label "
                f"each in {which}_y, got {images.shape} and {labels.shape}"
            )
        if len(labels) and (labels.min() < 0 or labels.max() >= classes):
            raise TTError(f"{path}: {which}_y holds labels outside [0, {classes})")
    if not len(arrays[1]):
        raise TTError(f"{path}: train_x holds no images")
    train_x, train_y, test_x, test_y = (
        a.astype(t) for a, t in zip(arrays, (np.int8, np.int32) * 2, strict=True)
    )
    return Samples(train_x, train_y, test_x, test_y, steps or min(len(train_y), 200))


def bundled_samples(steps: int | None = None) -> Samples:
    """The digits 6-9 the bundled model never saw (training samples in a seeded order)."""
    from ttdialect.bundled import new_task

    task = new_task()
    order = np.random.default_rng(0).permutation(len(task.train_y))
    return Samples(task.train_x[order], task.train_y[order], task.test_x, task.test_y, steps or 200)


def synthetic_samples(image_shape: tuple[int, ...], classes: int, steps: int, count: int = 2) -> Samples:
    """Seeded random images: enough to measure memory and speed, not to learn anything."""
    rng = np.random.default_rng(0)
    images = rng.integers(-128, 128, size=(count, *image_shape), dtype=np.int8)
    labels = rng.integers(0, classes, size=count, dtype=np.int32)
    empty = np.zeros((0, *image_shape), dtype=np.int8)
    return Samples(images, labels, empty, np.zeros(0, dtype=np.int32), steps)
