"""The backward and update kernels are bit identical to their reference loops, on the host and
on the Cortex-M7.

reference/tt_reference.c keeps the kernels as they were before they were blocked for speed:
the literal loops of the float32 orders documented in tt_runtime.h. fuzz_backward.c runs both
on a few thousand random cases (every kind of conv, channel subsets, split weights, all
roundings, special values) and counts the results that differ in any bit. The host build runs
under AddressSanitizer and UBSan; the Cortex-M7 builds (-O2 and -Os, in QEMU) exercise the
target-only paths (VMLA multiply-accumulates, the SIMD clamp mask) and must report the same
hash of all results as the host.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cdriver import INCLUDE, SANITIZERS, SOURCES, WARNINGS
from test_runtime_target import ARM_CPU, ARM_WARNINGS, TARGET_DIR, need

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference"
FUZZ = [HERE / "fuzz_backward.c", REFERENCE / "tt_reference.c"]
MIN_COMPARISONS = 5000


def parse(output: str) -> dict[str, int]:
    """The `name hex` lines the fuzz program reports."""
    values = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) == 2:
            values[words[0]] = int(words[1], 16)
    return values


def run_on_host(out_dir: Path) -> dict[str, int]:
    exe = out_dir / "fuzz_backward"
    sources = [*FUZZ, TARGET_DIR / "host_main.c", *SOURCES]
    command = [
        "gcc", *WARNINGS, "-O1", "-g", *SANITIZERS, "-DFUZZ_MALLOC", f"-I{INCLUDE}", f"-I{REFERENCE}",
        *map(str, sources), "-o", str(exe), "-lm",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, text=True)
    done = subprocess.run([str(exe)], check=True, capture_output=True, text=True, timeout=300)
    return parse(done.stdout)


def run_on_cortex_m7(out_dir: Path, opt: str) -> dict[str, int]:
    arm_gcc, qemu = need("arm-none-eabi-gcc"), need("qemu-system-arm")
    elf = out_dir / f"fuzz_backward{opt}.elf"
    sources = [*FUZZ, TARGET_DIR / "target_main.c", *SOURCES]
    command = [
        arm_gcc, "-std=gnu11", *ARM_WARNINGS[:3], *ARM_CPU, opt, "-nostartfiles", "-nostdlib",
        f"-I{INCLUDE}", f"-I{REFERENCE}", *map(str, sources), "-T", str(TARGET_DIR / "target.ld"),
        "-o", str(elf), "-lm", "-lc", "-lgcc",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    run = [qemu, "-M", "mps2-an500", "-nographic", "-semihosting", "-kernel", str(elf)]
    done = subprocess.run(run, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return parse(done.stdout + done.stderr)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    need("gcc")
    return run_on_host(tmp_path_factory.mktemp("fuzz_host"))


def test_kernels_match_reference_on_host(host: dict[str, int]) -> None:
    assert host["comparisons"] >= MIN_COMPARISONS
    assert host["mismatches"] == 0


@pytest.mark.parametrize("opt", ["-O2", "-Os"])
def test_kernels_match_reference_on_cortex_m7(host: dict[str, int], opt: str, tmp_path: Path) -> None:
    target = run_on_cortex_m7(tmp_path, opt)
    assert target["mismatches"] == 0
    assert target["comparisons"] == host["comparisons"]
    assert target["results"] == host["results"], "host and Cortex-M7 results differ"
