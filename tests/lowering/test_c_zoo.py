"""Training steps of the zoo models in generated C: host (ASan + UBSan) vs the interpreter, and the
Cortex-M7 build in QEMU vs the host build (bit for bit), for a sparse preset and full update.

Images are seeded random int8 (what is compared is arithmetic, not accuracy). Tolerances as in
test_c_bundled.py: int8 exact; loss 1e-5; update rounding of float32 vs float64 deltas.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from lowering_harness import TRAINING_PASSES, assert_params_close, compiled, interpreter_run, run_host, write

from lowering.app import Samples
from lowering.build import build_and_run
from lowering.projects import QEMU_RAM_KB
from ttdialect.importers.tiny_training import HeadChoice, default_zoo_dir, import_zoo

ZOO = default_zoo_dir()
STEPS = 3
CASES = [
    ("mbv2-w0.35", "mbv2-w0.35/49kb"),
    ("mbv2-w0.35", "full"),
    ("proxyless-w0.3", "proxyless-w0.3/49kb"),
    ("proxyless-w0.3", "full"),
    ("mcunet-5fps", "mcunet-5fps/99kb"),
    ("mcunet-5fps", "full"),
]

pytestmark = pytest.mark.skipif(not ZOO.is_dir(), reason=f"zoo folder {ZOO} is absent")


def _samples() -> Samples:
    rng = np.random.default_rng(7)
    images = rng.integers(-128, 128, size=(2, 128, 128, 3), dtype=np.int8)
    labels = np.array([3, 7], dtype=np.int32)
    return Samples(images, labels, images[:1], labels[:1], STEPS)


@pytest.mark.parametrize(("zoo_name", "scheme"), CASES)
def test_zoo_step_host_vs_interpreter_and_qemu_vs_host(tmp_path: Path, zoo_name: str, scheme: str) -> None:
    source = tmp_path / "model.mlir"
    import_zoo(zoo_name, source, ZOO, HeadChoice(10))
    module = compiled(source, TRAINING_PASSES.format(scheme=scheme, lr=0.01))
    samples = _samples()

    model = write("host", module, tmp_path, samples, tmp_path / "host")
    host = run_host(tmp_path / "host", STEPS)
    losses, logits, state = interpreter_run(module, tmp_path, samples, STEPS)
    np.testing.assert_allclose(host.losses, losses, rtol=1e-5, atol=1e-5)
    assert host.logits[-1] == [int(v) for v in logits[0]]
    assert_params_close(model, host, state)

    write("qemu-m7", module, tmp_path, samples, tmp_path / "qemu", ram_kb=QEMU_RAM_KB)
    qemu = build_and_run(tmp_path / "qemu", "qemu", steps=STEPS, trace=True)
    assert qemu.losses == host.losses
    assert qemu.logits == host.logits
    assert qemu.params == host.params
    assert qemu.instructions_per_step and qemu.instructions_per_step > 1_000_000
    if os.environ.get("TT_PRINT_INSTRUCTIONS"):
        print(zoo_name, scheme, qemu.instructions_per_step)
