"""The 32-bit evaluations of the requantization rule equal tt_requantize (the one rule).

target/requant_check.c compares, over every shift they apply to, edge multipliers and
accumulators and pseudo-random ones: tt_requantize32 (tt_internal.h) with tt_requantize; the
assembly loops' output step, the output zero point folded into the rounding term, with
tt_requantize32 + zp; and tt_add's operand terms requantize32((q - zp) 2^23, m, shift - 3) with
requantize((q - zp) 2^20, m, shift) for every q and a range of zero points. It runs on the host
(plain C, sanitized) and on the Cortex-M7 in QEMU (tt_requantize32 is an SMMLA there) and must
report no mismatch.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cdriver import INCLUDE, RUNTIME, SANITIZERS, SOURCES, WARNINGS

TARGET_DIR = Path(__file__).resolve().parent / "target"
CHECK = TARGET_DIR / "requant_check.c"
ARM_CPU = ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-sp-d16", "-mfloat-abi=hard"]
EXPECTED = ["requantize32 00000000", "zero_point_fold 00000000", "add_terms 00000000"]


def _includes() -> list[str]:
    return [f"-I{INCLUDE}", f"-I{RUNTIME / 'src'}"]


def test_requantize32_on_the_host(tmp_path: Path) -> None:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    exe = tmp_path / "requant_check"
    sources = [CHECK, TARGET_DIR / "host_main.c", *SOURCES]
    command = ["gcc", *WARNINGS, "-O1", *SANITIZERS, *_includes(), *map(str, sources), "-o", str(exe), "-lm"]
    subprocess.run(command, check=True, capture_output=True, text=True)
    done = subprocess.run([str(exe)], check=True, capture_output=True, text=True)
    assert done.stdout.splitlines() == EXPECTED


def test_requantize32_on_the_cortex_m7(tmp_path: Path) -> None:
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    elf = tmp_path / "requant_check.elf"
    sources = [CHECK, TARGET_DIR / "target_main.c", *SOURCES]
    command = [
        "arm-none-eabi-gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", *ARM_CPU, "-O2", "-nostartfiles",
        "-nostdlib", *_includes(), *map(str, sources), "-T", str(TARGET_DIR / "target.ld"), "-o", str(elf),
        "-lm", "-lc", "-lgcc",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    run = ["qemu-system-arm", "-M", "mps2-an500", "-nographic", "-semihosting", "-kernel", str(elf)]
    done = subprocess.run(run, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (done.stdout + done.stderr).splitlines() == EXPECTED
