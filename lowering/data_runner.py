"""Train a planned module as generated C on the host, with samples streamed from files.

`HostDataRunner(module, base_dir, work)` writes the host project of the module into `work`
(lowering.projects) and builds its `train_data` program (templates/data_main.c) once; `run()`
writes the samples (and, optionally, the order of the training steps) as files, runs the
program with a learning rate and schedule, and returns what it printed: held-out accuracy
before and after, the window reports of the divergence watch, its warnings, and with
`trace=True` every loss, the held-out logits and the trained parameters exactly. The generated
C is bit identical on the host and the Cortex-M7, so these are the device's results.
"""

from __future__ import annotations

import re
import struct
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from lowering.app import Samples, module_image_shape
from lowering.build import BuildError, parse_output
from lowering.c_model import emit_model
from lowering.projects import write_project
from lowering.schedules import SCHEDULES

SAMPLES_MAGIC = b"TTSMPL01"
ORDER_MAGIC = b"TTORDR01"
_ACCURACY = re.compile(r"held-out accuracy (before|after) training: (\d+)/(\d+)")
_REPORT = re.compile(
    r"step (\d+)/(\d+) lr (\S+) mean loss (\S+) logits at limits (\S+) weights at limits (\S+)"
)


def write_samples(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """A samples file: magic, count, image bytes, then (int32 label, int8 image) per sample."""
    images = np.ascontiguousarray(images, dtype=np.int8)
    labels = np.asarray(labels, dtype="<i4")
    count, image_bytes = len(labels), int(np.prod(images.shape[1:]))
    if len(images) != count:
        raise ValueError("samples: images and labels differ in number")
    records = np.empty(count, dtype=[("label", "<i4"), ("image", "i1", (image_bytes,))])
    records["label"] = labels
    records["image"] = images.reshape(count, image_bytes)
    path.write_bytes(SAMPLES_MAGIC + struct.pack("<II", count, image_bytes) + records.tobytes())


def write_order(path: Path, order: Sequence[int]) -> None:
    """An order file: magic, count, then the uint32 sample index of every training step."""
    indices = np.asarray(order, dtype="<u4")
    path.write_bytes(ORDER_MAGIC + struct.pack("<I", len(indices)) + indices.tobytes())


@dataclass(frozen=True)
class WindowReport:
    """One window report of the divergence watch."""

    step: int
    learning_rate: float
    mean_loss: float
    logits_at_limits: float
    weights_at_limits: float


@dataclass
class DataRun:
    """What one run of train_data printed, parsed."""

    text: str
    status: int
    accuracy: dict[str, float] = field(default_factory=dict)  # "before" / "after"
    reports: list[WindowReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    logits: list[list[int]] = field(default_factory=list)
    params: bytes = b""


class HostDataRunner:
    """The host build of a planned module's train_data program (see the module docstring)."""

    def __init__(self, module: ModuleOp, base_dir: Path, work: Path, extra_cflags: str = "") -> None:
        model = emit_model(module, base_dir, "model")
        if not model.has_train_step:
            raise ValueError("the module has no @train_step to train")
        self.model = model
        self.work = work
        self.project = work / "project"
        image_shape = module_image_shape(module)
        dummy = np.zeros((1, *image_shape), dtype=np.int8)
        samples = Samples(dummy, np.zeros(1, np.int32), dummy[:0], np.zeros(0, np.int32), 1)
        write_project("host", self.project, model, samples, int(np.prod(image_shape)), {})
        command = ["make", "-s", "train_data", f"EXTRA_CFLAGS={extra_cflags}"]
        done = subprocess.run(command, cwd=self.project, capture_output=True, text=True)
        if done.returncode != 0:
            raise BuildError(f"building train_data failed:\n{done.stdout}{done.stderr}")

    def run(
        self,
        train: tuple[np.ndarray, np.ndarray],
        test: tuple[np.ndarray, np.ndarray] | None = None,
        *,
        learning_rate: float,
        order: Sequence[int] | None = None,
        epochs: int = 1,
        schedule: str = "constant",
        decay: float = 0.0,
        period: int = 0,
        seed: int = 0,
        window: int = 50,
        trace: bool = False,
        evaluate_before: bool = True,
        on_report: Callable[[WindowReport], None] | None = None,
    ) -> DataRun:
        """Train on `train` (in `order`, else file order `epochs` times); evaluate on `test`
        after training, and before it too unless `evaluate_before` is False."""
        if schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule '{schedule}' ({', '.join(SCHEDULES)})")
        write_samples(self.work / "train.bin", *train)
        command = [str(self.project / "train_data"), "--train", str(self.work / "train.bin")]
        if test is not None:
            write_samples(self.work / "test.bin", *test)
            command += ["--test", str(self.work / "test.bin")]
        if order is not None:
            write_order(self.work / "order.bin", order)
            command += ["--order", str(self.work / "order.bin")]
        command += ["--epochs", str(epochs), "--lr", repr(float(learning_rate)), "--schedule", schedule]
        command += ["--decay", repr(float(decay)), "--period", str(period), "--seed", str(seed)]
        command += ["--window", str(window)] + (["--trace"] if trace else [])
        command += [] if evaluate_before else ["--no-before"]
        return self._execute(command, on_report)

    def _execute(self, command: list[str], on_report: Callable[[WindowReport], None] | None) -> DataRun:
        lines: list[str] = []
        reports: list[WindowReport] = []
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
            assert process.stdout is not None and process.stderr is not None
            for line in process.stdout:
                lines.append(line)
                match = _REPORT.match(line)
                if match:
                    step, _, lr, loss, logits, weights = match.groups()
                    reports.append(
                        WindowReport(int(step), float(lr), float(loss), float(logits), float(weights))
                    )
                    if on_report is not None:
                        on_report(reports[-1])
            errors = process.stderr.read()
        if process.returncode not in (0, 3):
            raise BuildError(f"train_data failed (exit {process.returncode}): {errors.strip()}")
        text = "".join(lines)
        parsed = parse_output(text)
        run = DataRun(text, process.returncode, reports=reports, losses=parsed.losses, logits=parsed.logits)
        run.params = parsed.params
        run.warnings = [line.strip() for line in lines if line.startswith("warning:")]
        for when, hits, count in _ACCURACY.findall(text):
            run.accuracy[when] = int(hits) / int(count)
        return run
