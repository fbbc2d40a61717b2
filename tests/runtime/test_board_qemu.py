"""The mps2-an500 board support (runtime_c/board/mps2_an500) built with arm-none-eabi-gcc and run
in qemu-system-arm.

Programs are built through runtime_c/board/examples/Makefile, which includes the board's
Makefile.inc, and run with the QEMU command that Makefile.inc defines (`make print-run`), so the
tests exercise exactly what a generated project uses. Checked: console output, the exit status
convention (main's return value, exit(), abort(), faults), the instruction count read from
SysTick under `-icount shift=0` against loops of known length, its determinism, the 64-bit
extension of the 24-bit SysTick counter, the 320 KB RAM budget enforced at link time, the
arm-none-eabi-size report, board_printf's formatting and the stack-overflow guard.

The cross toolchain and QEMU are required: when they are missing the tests fail (CI installs
them), they are not skipped.
"""

from __future__ import annotations

import random
import re
import shlex
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "runtime_c" / "board" / "examples"
HELLO_SOURCE = EXAMPLES / "hello.c"

REQUIRED_TOOLS = ("arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm", "make")
INSTALL_HINT = "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm make"
QEMU_TIMEOUT_S = 60
BUILD_TIMEOUT_S = 120

INSTRUCTIONS_PER_TICK = 40  # 25 MHz SysTick clock, 1 ns per instruction under -icount shift=0
RAM_BYTES = 320 * 1024
FLASH_BYTES = 1024 * 1024
DEFAULT_STACK = 16 * 1024
HANDLER_STACK = 1024

# hello.c's loops: spin(n) executes exactly 2n instructions (subs + bne).
SMALL_ITERATIONS = 100_000
LARGE_ITERATIONS = 1_100_000


@dataclass(frozen=True)
class Run:
    """One QEMU run of a program."""

    status: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def toolchain() -> None:
    """Fails (not skips) the tests when the cross compiler, QEMU or make is missing."""
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"board tests need {', '.join(missing)} on PATH (CI installs them: {INSTALL_HINT})",
            pytrace=False,
        )
    machines = subprocess.run(
        ["qemu-system-arm", "-machine", "help"], capture_output=True, text=True, timeout=QEMU_TIMEOUT_S
    )
    if "mps2-an500" not in machines.stdout:
        pytest.fail("qemu-system-arm does not provide the mps2-an500 machine", pytrace=False)


def make(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Run make on the examples Makefile with `arguments`; returns the completed process."""
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(EXAMPLES), *arguments],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )


def build(
    out_dir: Path,
    name: str,
    source: Path,
    cflags: str = "",
    ldflags: str = "",
    check: bool = True,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Build `source` with the board into out_dir/name.elf; returns the ELF path and the make run.

    With check=True a failed build fails the test, showing the compiler's output.
    """
    result = make(
        f"BUILD={out_dir}",
        f"PROG={name}",
        f"SRCS={source}",
        f"EXTRA_CFLAGS={cflags}",
        f"EXTRA_LDFLAGS={ldflags}",
    )
    if check and result.returncode != 0:
        pytest.fail(f"building {source.name} failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    return out_dir / f"{name}.elf", result


def qemu_command() -> list[str]:
    """The QEMU command of Makefile.inc ($(BOARD_RUN)), ending in -kernel."""
    result = make("-s", "print-run")
    assert result.returncode == 0, result.stderr
    command = shlex.split(result.stdout.strip())
    assert command[0] == "qemu-system-arm" and command[-1] == "-kernel", command
    return command


def run(elf: Path) -> Run:
    """Run `elf` in QEMU with a timeout, so that a hang fails the test."""
    try:
        result = subprocess.run(
            [*qemu_command(), str(elf)],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=QEMU_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{elf.name} did not finish within {QEMU_TIMEOUT_S} s in QEMU: {error.stdout!r}")
    return Run(result.returncode, result.stdout, result.stderr)


def write_source(directory: Path, name: str, text: str) -> Path:
    """Write a C source file into `directory` and return its path."""
    path = directory / name
    path.write_text(text)
    return path


def loop_counts(output: str) -> dict[int, int]:
    """The `loop N: M instructions` lines of hello.c as {iterations: measured instructions}."""
    return {int(n): int(m) for n, m in re.findall(r"^loop (\d+): (\d+) instructions", output, re.MULTILINE)}


@pytest.fixture(scope="module")
def hello_elf(toolchain: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/hello.c built with the default board settings."""
    elf, result = build(tmp_path_factory.mktemp("hello"), "hello", HELLO_SOURCE)
    output = result.stdout + result.stderr
    assert "warning" not in output.lower(), output
    return elf


def test_hello_prints_counts_and_exits_with_main_status(hello_elf: Path) -> None:
    """Output, exit status 3 from main, instruction counts of known loops, determinism."""
    first = run(hello_elf)
    assert first.status == 3, first
    assert "hello from mps2-an500\n" in first.stdout
    counts = loop_counts(first.stdout)
    assert set(counts) == {SMALL_ITERATIONS, LARGE_ITERATIONS}, first.stdout
    for iterations, measured in counts.items():
        expected = 2 * iterations
        assert measured % INSTRUCTIONS_PER_TICK == 0
        # The reading includes the call and return of spin() and the timer reads: < 2 ticks.
        assert expected <= measured <= expected + 2 * INSTRUCTIONS_PER_TICK, (iterations, measured)
        assert abs(measured - expected) / expected < 0.02
    difference = counts[LARGE_ITERATIONS] - counts[SMALL_ITERATIONS]
    expected_difference = 2 * (LARGE_ITERATIONS - SMALL_ITERATIONS)
    assert abs(difference - expected_difference) <= 2 * INSTRUCTIONS_PER_TICK, difference

    second = run(hello_elf)
    assert second == first  # -icount makes the whole run, counts included, deterministic


def test_systick_wraps_extend_the_counter(toolchain: None, tmp_path: Path, hello_elf: Path) -> None:
    """With a 256-tick SysTick period the large loop spans ~215 wraps; no wrap may be lost."""
    default = loop_counts(run(hello_elf).stdout)
    elf, _ = build(tmp_path, "hello_wraps", HELLO_SOURCE, cflags="-DBOARD_SYSTICK_RELOAD=0xFF")
    result = run(elf)
    assert result.status == 3, result
    wrapped = loop_counts(result.stdout)
    period = 256 * INSTRUCTIONS_PER_TICK
    wraps = 2 * LARGE_ITERATIONS // period
    assert wraps > 200
    for iterations in (SMALL_ITERATIONS, LARGE_ITERATIONS):
        # Each wrap adds only the handler's few instructions; a lost or doubled wrap would be
        # `period` (10240) instructions off.
        extra = wrapped[iterations] - default[iterations]
        allowed = (2 * iterations // period + 1) * 16 + 2 * INSTRUCTIONS_PER_TICK
        assert -INSTRUCTIONS_PER_TICK <= extra <= allowed, (iterations, extra)


def test_bss_over_the_ram_budget_fails_to_link(toolchain: None, tmp_path: Path) -> None:
    """A 400 KB .bss does not fit in the 320 KB of RAM: the link fails with the region message."""
    source = write_source(
        tmp_path,
        "big_bss.c",
        "#include <stdint.h>\n"
        "static volatile uint8_t big[400u * 1024u];\n"
        "int main(void) { big[12345] = 1; return big[12345]; }\n",
    )
    elf, result = build(tmp_path, "big_bss", source, check=False)
    assert result.returncode != 0
    assert not elf.exists()
    assert re.search(r"region `RAM' overflowed by \d+ bytes", result.stderr), result.stderr
    assert "will not fit in region `RAM'" in result.stderr


def test_data_just_inside_the_budget_links(toolchain: None, tmp_path: Path) -> None:
    """The stacks plus a .bss filling the rest of the 320 KB link and run; 512 B more stack does not link."""
    headroom = RAM_BYTES - DEFAULT_STACK - HANDLER_STACK - 256  # newlib's own .data/.bss < 256 B
    source = write_source(
        tmp_path,
        "fits.c",
        "#include <stdint.h>\n"
        f"static volatile uint8_t big[{headroom}u];\n"
        "int main(void) { big[7] = 1; return big[7] - 1; }\n",
    )
    elf, _ = build(tmp_path, "fits", source)
    assert run(elf).status == 0
    _, result = build(tmp_path, "too_big", source, ldflags="-Wl,--defsym=__stack_size=0x4200", check=False)
    assert result.returncode != 0
    assert "region `RAM' overflowed" in result.stderr


def parse_berkeley(output: str) -> dict[str, int]:
    """text, data and bss of `arm-none-eabi-size` (Berkeley format) for one file."""
    header, values = output.strip().splitlines()[:2]
    assert header.split()[:3] == ["text", "data", "bss"], output
    text, data, bss = (int(value) for value in values.split()[:3])
    return {"text": text, "data": data, "bss": bss}


def section_sizes(elf: Path) -> dict[str, int]:
    """Section name to size from `arm-none-eabi-size -A`."""
    result = subprocess.run(
        ["arm-none-eabi-size", "-A", str(elf)], capture_output=True, text=True, check=True
    )
    sizes: dict[str, int] = {}
    for line in result.stdout.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0].startswith(".") and fields[1].isdigit():
            sizes[fields[0]] = int(fields[1])
    return sizes


def test_size_report(hello_elf: Path, tmp_path: Path) -> None:
    """arm-none-eabi-size: flash and RAM within budget, the stacks reserved, __stack_size honoured."""
    result = subprocess.run(
        ["arm-none-eabi-size", str(hello_elf)], capture_output=True, text=True, check=True
    )
    sizes = parse_berkeley(result.stdout)
    assert 0 < sizes["text"] + sizes["data"] <= FLASH_BYTES
    assert DEFAULT_STACK + HANDLER_STACK <= sizes["data"] + sizes["bss"] <= RAM_BYTES
    sections = section_sizes(hello_elf)
    assert sections[".stack"] == DEFAULT_STACK
    assert sections[".handler_stack"] == HANDLER_STACK
    assert sections[".heap"] == 0

    elf, _ = build(tmp_path, "hello_big_stack", HELLO_SOURCE, ldflags="-Wl,--defsym=__stack_size=0x8000")
    assert section_sizes(elf)[".stack"] == 0x8000
    result_run = run(elf)
    assert result_run.status == 3
    assert "stack used:" in result_run.stdout and "of 32768 bytes" in result_run.stdout


ENDINGS_SOURCE = """\
#include <stdint.h>
#include <stdlib.h>
#include "board.h"

static volatile uint32_t sink;

#if defined(USE_STACK_OVERFLOW)
static volatile uint32_t limit = 0xFFFFFFFFu;

/* Not a tail call: the caller reads its frame after the callee returns. */
static __attribute__((noinline)) uint32_t recurse(uint32_t depth, volatile uint8_t *parent)
{
    volatile uint8_t frame[256];
    frame[0] = (uint8_t)depth;
    if (depth >= limit) {
        return frame[0];
    }
    uint32_t below = recurse(depth + 1, frame);
    return below + frame[0] + (parent != 0 ? parent[0] : 0u);
}
#endif

int main(void)
{
    board_print("ending " ENDING "\\n");
#if defined(USE_EXIT)
    exit(7);
#elif defined(USE_BOARD_EXIT)
    board_exit(9);
#elif defined(USE_ABORT)
    abort();
#elif defined(USE_UNDEFINED)
    __asm__ volatile("udf #0");
#elif defined(USE_BUS_ERROR)
    sink = *(volatile uint32_t *)0x80000000u;
#elif defined(USE_STACK_OVERFLOW)
    sink = recurse(0, 0);
#endif
    return 0;
}
"""

ENDINGS = {
    # name: (define, exit status, text the output must contain)
    "exit": ("USE_EXIT", 7, ""),
    "board_exit": ("USE_BOARD_EXIT", 9, ""),
    "abort": ("USE_ABORT", 134, "board: killed by signal 6 (SIGABRT: abort())"),
    "undefined": ("USE_UNDEFINED", 134, "board: UsageFault (exception 6)"),
    "bus_error": ("USE_BUS_ERROR", 133, "board: BusFault (exception 5)"),
    "stack_overflow": ("USE_STACK_OVERFLOW", 132, "board: stack overflow: the main stack of 16384 bytes"),
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_exit_statuses_and_fault_reports(toolchain: None, tmp_path: Path, ending: str) -> None:
    """exit()/board_exit() statuses propagate; abort and faults report and exit with 128 + n."""
    define, status, message = ENDINGS[ending]
    source = write_source(tmp_path, "endings.c", ENDINGS_SOURCE)
    elf, _ = build(tmp_path, f"ending_{ending}", source, cflags=f'-D{define} -DENDING=\\"{ending}\\"')
    result = run(elf)
    assert result.status == status, result
    assert result.stdout.startswith(f"ending {ending}\n"), result.stdout
    assert message in result.stdout, result.stdout


PRINTF_CASES: list[tuple[str, str, tuple[object, ...]]] = [
    # (board_printf format, C arguments, Python values for the same format)
    ("[%d|%5d|%-5d|%05d|%+d|% d|%.3d]", "42, 42, 42, -42, 42, 42, 7", (42, 42, 42, -42, 42, 42, 7)),
    ("[%x|%X|%#x|%o|%u]", "255u, 255u, 255u, 8u, 4294967295u", (255, 255, 255, 8, 4294967295)),
    (
        "[%lld|%llu]",
        "-9223372036854775807LL - 1, 18446744073709551615ULL",
        (-9223372036854775808, 18446744073709551615),
    ),
    ("[%s|%10s|%-10s|%.2s|%c|%%]", '"abc", "abc", "abc", "abc", \'z\'', ("abc", "abc", "abc", "abc", "z")),
    (
        "[%f|%.3f|%10.2f|%-10.2f|%010.3f|%+.1f|%.0f|%.0f]",
        "3.14159, -2.5e-3, 123.456, 1.5, -3.25, 2.0, 2.5, 3.5",
        (3.14159, -2.5e-3, 123.456, 1.5, -3.25, 2.0, 2.5, 3.5),
    ),
    (
        "[%e|%.3e|%E|%e|%.2e]",
        "12345.678, 0.00012345, 6.02214076e23, 0.0, 9.999",
        (12345.678, 0.00012345, 6.02214076e23, 0.0, 9.999),
    ),
    (
        "[%g|%g|%g|%g|%g|%g|%.3g|%G|%g]",
        "0.0001, 0.00001, 123456.0, 1234567.0, 100.0, 1.0 / 3.0, 2.0 / 3.0, 1e-20, -0.0",
        (0.0001, 0.00001, 123456.0, 1234567.0, 100.0, 1.0 / 3.0, 2.0 / 3.0, 1e-20, -0.0),
    ),
    (
        "[%.6f|%g|%.9g]",
        "(double)0.1f, (double)1.17549435e-38f, 0.1",
        (float.fromhex("0x1.99999ap-4"), 1.17549435e-38, 0.1),
    ),
    # Rounding of the exact binary value: 1.005 and 0.0025 are not ties, 0.125 and 2.5 are.
    (
        "[%.2f|%.3f|%.2f|%.0e|%.17g|%.0f]",
        "1.005, 0.0025, 0.125, 2.5, 0.1, 1e17",
        (1.005, 0.0025, 0.125, 2.5, 0.1, 1e17),
    ),
]

# Pseudo-random values checked against Python where board.h promises exact digits.
RANDOM_FORMATS = ("%.3f", "%.9f", "%e", "%.12e", "%g", "%.9g", "%.17g")


def random_values(count: int) -> list[float]:
    """Deterministic test values: uniform, float32-rounded, and spread over 1e-12 .. 1e12."""
    generator = random.Random(20240611)
    values: list[float] = []
    for index in range(count):
        value = generator.uniform(-1.0, 1.0) * 10.0 ** generator.randint(-12, 12)
        if index % 3 == 0:
            value = struct.unpack("<f", struct.pack("<f", value))[0]
        values.append(value)
    return values


def digits_are_exact(fmt: str, value: float) -> bool:
    """board.h's promise: %f with |v| * 10^precision < 9.2e18; %e/%g with P <= 18 significant
    digits and 10^(P - 23) <= |v| < 1.8e19."""
    match = re.fullmatch(r"%(?:\.(\d+))?([efg])", fmt)
    assert match is not None, fmt
    precision = int(match.group(1)) if match.group(1) else 6
    magnitude = abs(value)
    if match.group(2) == "f":
        return magnitude * 10.0**precision < 9.2e18
    significant = precision + 1 if match.group(2) == "e" else max(precision, 1)
    return significant <= 18 and (magnitude == 0.0 or 10.0 ** (significant - 23) <= magnitude < 1.8e19)


def test_board_printf_matches_c_formatting(toolchain: None, tmp_path: Path) -> None:
    """board_printf (no newlib stdio, no heap) formats like C's printf (as Python's % does)."""
    lines = [f'    board_printf("{fmt}\\n", {args});' for fmt, args, _ in PRINTF_CASES]
    values = random_values(60)
    random_cases = [(fmt, v) for v in values for fmt in RANDOM_FORMATS if digits_are_exact(fmt, v)]
    assert len(random_cases) > 300
    lines += [f'    board_printf("{fmt}\\n", {value.hex()});' for fmt, value in random_cases]
    lines += [f'    board_printf("%a\\n", {value.hex()});' for value in values]
    source = write_source(
        tmp_path,
        "printf_cases.c",
        '#include "board.h"\nint main(void)\n{\n' + "\n".join(lines) + "\n    return 0;\n}\n",
    )
    elf, _ = build(tmp_path, "printf_cases", source)
    result = run(elf)
    assert result.status == 0, result
    # Python's % takes the C conversions but not C's length modifiers.
    expected = [re.sub(r"(ll|hh|[hlzjt])(?=[diouxX])", "", fmt) % args for fmt, _, args in PRINTF_CASES]
    expected += [fmt % value for fmt, value in random_cases]
    lines_out = result.stdout.splitlines()
    assert lines_out[: len(expected)] == expected
    # %a is exact: it parses back to the same double.
    assert [float.fromhex(text) for text in lines_out[len(expected) :]] == values
