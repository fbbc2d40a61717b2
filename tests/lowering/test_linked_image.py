"""The linked Cortex-M7 image of every published preset: it fits the board's 1 MB flash, and
arm-none-eabi-size agrees with the memory report (the planner's figures, computed in Python):
.data holds the trainable parameters (only the trained channels of split weights), .bss the
arena and the runtime state; what is left over is the runtime's own few bytes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from lowering_harness import TRAINING_PASSES, compiled, write

from lowering.app import Samples
from lowering.projects import QEMU_RAM_KB
from passes.memory.report import memory_report
from passes.schemes import PRESETS
from ttdialect.importers.tiny_training import HeadChoice, default_zoo_dir, import_zoo

ZOO = default_zoo_dir()
FLASH_BYTES = 1024 * 1024
RUNTIME_SLACK_BYTES = 256  # the board's and main.c's own variables

pytestmark = pytest.mark.skipif(not ZOO.is_dir(), reason=f"zoo folder {ZOO} is absent")


def section_sizes(elf: Path) -> dict[str, int]:
    output = subprocess.run(
        ["arm-none-eabi-size", "-A", str(elf)], capture_output=True, text=True, check=True
    )
    sizes = {}
    for line in output.stdout.splitlines():
        words = line.split()
        if len(words) == 3 and words[0].startswith(".") and words[1].isdigit():
            sizes[words[0]] = int(words[1])
    return sizes


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_linked_image_matches_report(tmp_path: Path, preset: str) -> None:
    source = tmp_path / "model.mlir"
    import_zoo(preset.split("/")[0], source, ZOO, HeadChoice(10))
    module = compiled(source, TRAINING_PASSES.format(scheme=preset, lr=0.01))
    report = memory_report(module)
    image = np.zeros((1, 128, 128, 3), dtype=np.int8)
    samples = Samples(image, np.zeros(1, dtype=np.int32), image[:0], np.zeros(0, dtype=np.int32), 1)
    write("qemu-m7", module, tmp_path, samples, tmp_path / "qemu", ram_kb=QEMU_RAM_KB)
    subprocess.run(["make", "-s", "train.elf"], cwd=tmp_path / "qemu", check=True, capture_output=True)
    sizes = section_sizes(tmp_path / "qemu" / "train.elf")

    flash = sum(sizes[name] for name in sizes if name in (".text", ".rodata", ".ARM.exidx", ".data"))
    assert flash <= FLASH_BYTES
    trainable_overhead = sizes[".data"] - report.trainable_sram_bytes
    assert 0 <= trainable_overhead <= RUNTIME_SLACK_BYTES
    arena_overhead = sizes[".bss"] - report.arena_bytes - report.runtime_state_bytes
    assert 0 <= arena_overhead <= RUNTIME_SLACK_BYTES
