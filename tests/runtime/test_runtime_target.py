"""The runtime builds warning-free for host and Cortex-M7, and both builds compute the same bits.

- every source compiles with `gcc -std=c99 -Wall -Wextra -Werror -pedantic` and with
  `arm-none-eabi-gcc -mcpu=cortex-m7 -mfpu=fpv5-sp-d16 -mfloat-abi=hard` and the same warnings,
  in C99 and in the GNU dialect (where GCC would contract a * b + c into FMAs unless the runtime
  prevents it);
- target/checksums.c runs every kernel (int8 and float32, the DSP dot product included) on
  fixed data; its host build (sanitized) and its Cortex-M7 build run in QEMU mps2-an500 must
  print identical checksums.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cdriver import INCLUDE, SANITIZERS, SOURCES, WARNINGS

TARGET_DIR = Path(__file__).resolve().parent / "target"
ARM_CPU = ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-sp-d16", "-mfloat-abi=hard"]
ARM_WARNINGS = ["-Wall", "-Wextra", "-Werror", "-pedantic"]


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed")
    return path


def compile_objects(compiler: list[str], out_dir: Path) -> None:
    for source in SOURCES:
        command = [*compiler, f"-I{INCLUDE}", "-c", str(source), "-o", str(out_dir / f"{source.stem}.o")]
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(command)}\n{done.stderr}"


@pytest.mark.parametrize("std", ["-std=c99", "-std=gnu11"])
def test_sources_compile_warning_free_for_host(std: str, tmp_path: Path) -> None:
    gcc = need("gcc")
    compile_objects([gcc, std, *WARNINGS[1:], "-O2"], tmp_path)


@pytest.mark.parametrize("std", ["-std=c99", "-std=gnu11"])
def test_sources_compile_warning_free_for_cortex_m7(std: str, tmp_path: Path) -> None:
    arm_gcc = need("arm-none-eabi-gcc")
    compile_objects([arm_gcc, std, *ARM_WARNINGS, *ARM_CPU, "-O2"], tmp_path)
    # the DSP path is compiled in (SMLAD), and no float contraction into VFMA (the only fused
    # multiply-adds are the exact remainders of tt_quantize, which asks for them with fmaf)
    objdump = shutil.which("arm-none-eabi-objdump")
    if objdump is not None:
        objects = sorted(map(str, tmp_path.glob("*.o")))
        text = subprocess.run([objdump, "-d", *objects], capture_output=True, text=True, check=True).stdout
        assert "smlad" in text
        assert set(_functions_with(text, ("vfma", "vfms", "vfnm"))) <= {"tt_quantize", "rounded_quotient"}


def _functions_with(disassembly: str, mnemonics: tuple[str, ...]) -> list[str]:
    """Names of the functions of an objdump disassembly that use any of `mnemonics`."""
    found, function = [], ""
    for line in disassembly.splitlines():
        if line.endswith(">:"):
            function = line.split("<", 1)[1][:-2]
        elif any(f"\t{m}" in line for m in mnemonics) and function not in found:
            found.append(function)
    return found


def _host_checksums(out_dir: Path) -> list[str]:
    exe = out_dir / "checksums_host"
    sources = [TARGET_DIR / "checksums.c", TARGET_DIR / "host_main.c", *SOURCES]
    command = [
        "gcc",
        *WARNINGS,
        "-O1",
        *SANITIZERS,
        f"-I{INCLUDE}",
        *map(str, sources),
        "-o",
        str(exe),
        "-lm",
    ]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.splitlines()


def _target_checksums(arm_gcc: str, qemu: str, out_dir: Path, opt: str) -> list[str]:
    elf = out_dir / f"checksums{opt}.elf"
    sources = [TARGET_DIR / "checksums.c", TARGET_DIR / "target_main.c", *SOURCES]
    command = [
        arm_gcc, "-std=gnu11", *ARM_WARNINGS[:3], *ARM_CPU, opt, "-nostartfiles", "-nostdlib", f"-I{INCLUDE}",
        *map(str, sources), "-T", str(TARGET_DIR / "target.ld"), "-o", str(elf), "-lm", "-lc", "-lgcc",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    run = [qemu, "-M", "mps2-an500", "-nographic", "-semihosting", "-kernel", str(elf)]
    done = subprocess.run(run, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return (done.stdout + done.stderr).splitlines()


@pytest.mark.parametrize("opt", ["-O2", "-Os"])
def test_cortex_m7_build_matches_host_bit_for_bit(opt: str, tmp_path: Path) -> None:
    arm_gcc, qemu = need("arm-none-eabi-gcc"), need("qemu-system-arm")
    need("gcc")
    host = _host_checksums(tmp_path)
    # + the split-weight kernels, the bottlenecks, the expand gradients, the layers of tt_layers.c
    assert len(host) == 44 + 7 + 3 + 2 + 14
    target = _target_checksums(arm_gcc, qemu, tmp_path, opt)
    mismatches = [(h, t) for h, t in zip(host, target, strict=False) if h != t]
    assert target == host, f"host vs Cortex-M7: {mismatches}"
