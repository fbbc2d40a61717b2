"""Instructions of the backward and update kernels on the emulated Cortex-M7, before and after.

bench/kernels_backward.c runs each kernel of runtime_c and the reference loops it replaced
(tests/runtime/reference/tt_reference.c) on shapes of the zoo models' training steps, in QEMU
mps2-an500 with `-icount shift=0` (instructions counted exactly, to 40), built with
arm-none-eabi-gcc -O2 like the generated projects; every output bit and RNG counter of the two
is compared (a mismatch fails the run). Prints a table of instructions per unit (multiply-
accumulate, updated weight or element) and writes the `kernels_backward` section of
docs/benchmarks.md.

Usage: python -m bench.kernels_backward
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import machine, markdown_table, write_section

ROOT = Path(__file__).resolve().parents[1]
BOARD = ROOT / "runtime_c" / "board" / "mps2_an500"
SOURCES = [
    ROOT / "bench" / "kernels_backward.c",
    ROOT / "tests" / "runtime" / "reference" / "tt_reference.c",
    *sorted((ROOT / "runtime_c" / "src").glob("*.c")),
]
MAKEFILE = f"""include {BOARD}/Makefile.inc
CFLAGS += -I{ROOT}/runtime_c/include -I{ROOT}/tests/runtime/reference
bench.elf: {" ".join(map(str, SOURCES))}
\t$(CC) $(CFLAGS) $^ $(BOARD_SOURCES) $(LDFLAGS) $(LDLIBS) -o $@ > /dev/null
run: bench.elf
\t$(BOARD_RUN) bench.elf
"""


def run_cases() -> list[tuple[str, int, int, int, str]]:
    """Build and run the harness; (name, units, reference instructions, instructions, check)."""
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        sys.exit("needs arm-none-eabi-gcc and qemu-system-arm")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "Makefile").write_text(MAKEFILE)
        done = subprocess.run(["make", "-s", "run"], cwd=tmp, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        sys.exit(f"harness failed:\n{done.stdout}{done.stderr}")
    cases = []
    for line in done.stdout.splitlines():
        words = line.split()
        if words and words[0] == "case":
            cases.append((words[1], int(words[2]), int(words[3]), int(words[4]), words[5]))
    return cases


def main() -> None:
    start = time.perf_counter()
    cases = run_cases()
    headers = ["kernel (shape)", "unit", "units", "reference instr/unit", "instr/unit", "speed-up", "bits"]
    rows = []
    for name, units, reference, instructions, check in cases:
        unit = "weight" if name.endswith("per_weight") else "element" if "update_s8" in name else "MAC"
        unit = "element" if name.startswith(("bias_update", "clamp_mask", "mask_grad")) else unit
        rows.append(
            [
                name.removesuffix("_per_weight"),
                unit,
                str(units),
                f"{reference / units:.2f}",
                f"{instructions / units:.2f}",
                f"{reference / instructions:.1f}x",
                "identical" if check == "ok" else "MISMATCH",
            ]
        )
    table = markdown_table(headers, rows)
    print(table)
    if any(check != "ok" for *_, check in cases):
        sys.exit("a kernel differs from its reference")
    body = "\n".join(
        [
            "## kernels_backward: backward and update kernels on the emulated Cortex-M7"
            " (bench/kernels_backward.py)",
            "",
            "QEMU mps2-an500 (`-icount shift=0`: instructions counted exactly, to 40), arm-none-eabi-gcc",
            "12.2 -O2 as the generated projects. Each kernel of runtime_c against the reference loops it",
            "replaced (tests/runtime/reference/tt_reference.c, the documented float32 orders literally) on",
            "the same data: instructions per multiply-accumulate (every tap inside the input, zero",
            "gradients included), per updated weight or per element; every output bit and RNG counter of",
            "the two compared. Stochastic rounding, learning rate 0.01, gradients with 30 % zeros unless",
            f"the name says otherwise. Machine: {machine()}; {time.perf_counter() - start:.0f} s.",
            "",
            table,
        ]
    )
    write_section("kernels_backward", body)


if __name__ == "__main__":
    main()
