"""`tt-compile bundled --target stm32cubeide`: the folder for an STM32F746 CubeIDE project.

Checked without the IDE: every source compiles warning-free for the Cortex-M7 (the flags the
README gives, -Wall -Wextra -Werror) as separate objects, as CubeIDE builds them; the objects plus
a stub main() calling the hook link with the repository's QEMU mps2-an500 board support and run in
QEMU. The oracle for what the hook prints is the host build of the same model and samples with
tt's own train_main.c (an independent driver): the per-step losses must be the same float32
bits, and the loss must fall. The tests fail (they do not skip) without arm-none-eabi-gcc / QEMU.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lowering.build import build_and_run
from lowering.projects import REPO
from tt.tools.tt_compile import main as tt_compile

NAME = "digits_cnn"
STEPS = 75
REPORT_EVERY = 25
BOARD = REPO / "runtime_c" / "board" / "mps2_an500"
ARCH = ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-sp-d16", "-mfloat-abi=hard"]
README_FLAGS = [*ARCH, "-ffp-contract=off", "-fno-strict-aliasing"]
WARNINGS = ["-Wall", "-Wextra", "-Werror"]
QEMU = [
    "qemu-system-arm", "-machine", "mps2-an500", "-cpu", "cortex-m7", "-nographic", "-monitor", "none",
    "-serial", "none", "-chardev", "stdio,id=semihost",
    "-semihosting-config", "enable=on,target=native,chardev=semihost", "-icount", "shift=0,sleep=off",
]  # fmt: skip
STUB_MAIN = """
#include "board.h"
#include "digits_cnn_app.h"

static void print_line(const char *line)
{
    board_print(line);
}

int main(void)
{
    if (digits_cnn_app_init(0) != DIGITS_CNN_OK) {
        return 2;
    }
    #ifdef STUB_PROCESS
    while (digits_cnn_app_process(print_line)) {
    }
    return 0;
#else
    return digits_cnn_app_run_demo(STUB_STEPS, print_line);
#endif
}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stm32") / "tt"
    tt_compile(["bundled", "--target", "stm32cubeide", "--out", str(out)])
    return out


def _sources(project: Path) -> list[Path]:
    return sorted([*(project / "model").glob("*.c"), *(project / "runtime" / "src").glob("*.c"),
                   *(project / "app").glob("*.c")])  # fmt: skip


def _includes(project: Path) -> list[str]:
    return [f"-I{project / d}" for d in ("model", "runtime/include", "app")]


def _gcc(args: list[str], cwd: Path) -> None:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning" not in done.stderr, done.stderr


def test_folder_layout(project: Path) -> None:
    expected = {
        f"model/{NAME}.h", f"model/{NAME}.c", f"model/{NAME}_data.h", f"model/{NAME}_data.c",
        f"model/{NAME}_samples.h", f"model/{NAME}_samples.c", "runtime/include/tt_runtime.h",
        f"app/{NAME}_app.h", f"app/{NAME}_app.c", "report.json", "README.md",
    }  # fmt: skip
    files = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    assert expected <= files
    runtime = {p.name for p in (REPO / "runtime_c" / "src").glob("*.c")}
    assert runtime and runtime == {p.name for p in (project / "runtime" / "src").glob("*.c")}
    placeholder = re.compile(r"@(MODEL|UPPER|REPORT|MEMORY|LAYERS)@")
    assert not [p for p in project.rglob("*") if p.is_file() and placeholder.search(p.read_text())]


def test_readme_flags_and_report(project: Path) -> None:
    readme = (project / "README.md").read_text()
    report = json.loads((project / "report.json").read_text())
    assert report["target"] == "stm32cubeide" and report["model"] == NAME
    for flag in [*README_FLAGS, "-std=c99", "gnu11", "tt/model", "tt/runtime/include", "tt/runtime/src",
                 "tt/app", f"{NAME}_app_init", f"{NAME}_app_process", "_Min_Stack_Size",
                 "| layer | op |"]:  # fmt: skip
        assert flag in readme, flag
    assert f"| arena_bytes | {report['arena_bytes']} |" in readme
    assert f"| RAM | arena (`.bss`, static in {NAME}_app.c) | {report['arena_bytes']} |" in readme
    assert len(report["layers"]) >= 5 and any(
        layer["where"] == "SRAM (trained)" for layer in report["layers"]
    )
    ram = report["arena_bytes"] + report["trainable_sram_bytes"] + report["runtime_state_bytes"]
    assert f"| RAM | **total, stack excluded** | {ram} (" in readme


def test_compiles_warning_free_for_cortex_m7(project: Path, tmp_path: Path) -> None:
    """Each source as its own object, as CubeIDE compiles them (c99 -pedantic; the hook also gnu11)."""
    for source in _sources(project):
        for std in ["-std=c99", "-pedantic"], ["-std=gnu11"]:
            if std[0] == "-std=gnu11" and source.parent.name != "app":
                continue
            obj = tmp_path / f"{source.stem}.o"
            _gcc(["arm-none-eabi-gcc", *README_FLAGS, *std, *WARNINGS, "-O2", *_includes(project),
                  "-c", str(source), "-o", str(obj)], tmp_path)  # fmt: skip
    # The hook is plain C: it also builds for the host (no DWT there).
    _gcc(["gcc", "-std=c99", "-pedantic", *WARNINGS, "-O2", *_includes(project), "-c",
          str(project / "app" / f"{NAME}_app.c"), "-o", str(tmp_path / "host_app.o")], tmp_path)  # fmt: skip


def _demo_elf(project: Path, work: Path, process: bool = False) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    (work / "stub_main.c").write_text(STUB_MAIN)
    flags = [*README_FLAGS, "-std=c99", *WARNINGS, "-O2", "-ffunction-sections", "-fdata-sections",
             f"-DSTUB_STEPS={STEPS}", f"-DDIGITS_CNN_APP_REPORT_EVERY={REPORT_EVERY}",
             "-DDIGITS_CNN_APP_EVAL_MAX=20", "-DDIGITS_CNN_APP_TRACE", f"-DDIGITS_CNN_APP_DEMO_STEPS={STEPS}",
             *(["-DSTUB_PROCESS"] if process else []), *_includes(project), f"-I{BOARD}"]  # fmt: skip
    objects = []
    for source in [*_sources(project), work / "stub_main.c", BOARD / "startup.c", BOARD / "board.c"]:
        obj = work / f"{source.stem}.o"
        _gcc(["arm-none-eabi-gcc", *flags, "-c", str(source), "-o", str(obj)], work)
        objects.append(str(obj))
    elf = work / "demo.elf"
    _gcc(["arm-none-eabi-gcc", *ARCH, f"-T{BOARD / 'mps2_an500.ld'}", "-nostartfiles", "--specs=nano.specs",
          "--specs=nosys.specs", "-Wl,--gc-sections", *objects, "-lm", "-o", str(elf)], work)  # fmt: skip
    return elf


def test_hook_trains_in_qemu_like_the_host_build(project: Path, tmp_path: Path) -> None:
    elf = _demo_elf(project, tmp_path)
    done = subprocess.run([*QEMU, "-kernel", str(elf)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stdout

    bits = [int(m, 16) for m in re.findall(r"^tt: loss bits \d+ (0x[0-9a-f]{8})$", text, re.M)]
    means = [float(m) for m in re.findall(r"^tt:\s+step\s+\d+\s+mean loss ([0-9.]+)", text, re.M)]
    assert len(bits) == STEPS and len(means) == STEPS // REPORT_EVERY
    assert means[-1] < 0.75 * means[0], means  # the loss falls
    assert "tt: cycles per training step" in text  # QEMU has no DWT cycle counter: "no DWT ..."
    assert re.search(r"held-out accuracy after training: \d+/20 = ", text)

    # Oracle: the host build of the same model and samples with tt's main.c (trace: losses in %a).
    host = tmp_path / "host"
    tt_compile(["bundled", "--target", "host", "--out", str(host)])
    run = build_and_run(host, "host", steps=STEPS, trace=True)
    expected = np.array(run.losses, dtype=np.float32).view(np.uint32).tolist()
    assert bits == expected
    window = np.array(run.losses[:REPORT_EVERY], dtype=np.float64).mean()
    assert abs(means[0] - window) <= 5e-5


def test_process_one_step_per_call_gives_the_same_run(project: Path, tmp_path: Path) -> None:
    """The CubeMX-style loop (NAME_app_process until it returns 0) prints what run_demo prints."""
    demo = subprocess.run(
        [*QEMU, "-kernel", str(_demo_elf(project, tmp_path / "a"))], capture_output=True, text=True
    )
    elf = _demo_elf(project, tmp_path / "b", process=True)
    process = subprocess.run([*QEMU, "-kernel", str(elf)], capture_output=True, text=True)
    assert demo.returncode == 0 and process.returncode == 0
    assert process.stdout == demo.stdout and "loss bits" in demo.stdout
