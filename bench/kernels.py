"""Instructions per MAC of tt's int8 forward kernels on the emulated Cortex-M7, vs CMSIS-NN v7.

Each case (a conv shape, a streamed bottleneck, an add) gets seeded random int8 data; one C
driver calls every kernel once on its data, counting instructions with SysTick in QEMU
mps2-an500 under `-icount shift=0` (exact, one instruction per virtual ns; the count includes
the whole call: borders, requantization, loops), and prints an FNV-1a hash of each output. The
same outputs are computed in Python by the interpreter's rule (float64 torch convolution, the
integer sum exact, then numerics.requantize, zero point and clamp; the `<< 20` add scheme), and
every hash must match: a fast but wrong kernel fails the benchmark. The driver is built like a
qemu-m7 project (runtime_c/board/mps2_an500/Makefile.inc: arm-none-eabi-gcc -O2, Cortex-M7 with
DSP). The CMSIS-NN v7.0.0 column is the figure of /work/shared/ANCHORS.md (DSP, -Ofast, same
shapes, measured the same way). Prints a table and writes the `kernels` section of
docs/benchmarks.md.

Usage: python -m bench.kernels [--keep DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bench.report import machine, markdown_table, write_section
from ttdialect import numerics as nx
from ttdialect.dialect import conv_output_size

REPO = Path(__file__).resolve().parents[1]
RUNTIME = REPO / "runtime_c"
BOARD = RUNTIME / "board" / "mps2_an500"
TIMEOUT_S = 300


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Conv:
    """One int8 conv: geometry, quantization and its requantization (per output channel)."""

    h: int
    w: int
    c: int
    o: int
    kernel: int
    stride: int
    pad: int
    groups: int = 1
    act: tuple[int, int] | None = None  # None: ReLU at the output zero point

    @property
    def out_hw(self) -> tuple[int, int]:
        return (
            conv_output_size(self.h, self.kernel, self.stride, self.pad),
            conv_output_size(self.w, self.kernel, self.stride, self.pad),
        )

    @property
    def macs(self) -> int:
        oh, ow = self.out_hw
        return oh * ow * self.o * self.kernel * self.kernel * (self.c // self.groups)

    def shape_c(self) -> str:
        """The tt_conv_shape initializer (batch 1)."""
        oh, ow = self.out_hw
        k, s, p = self.kernel, self.stride, self.pad
        values = [1, self.h, self.w, self.c, oh, ow, self.o, k, k, s, s, p, p, self.groups]
        return "{" + ", ".join(map(str, values)) + "}"


@dataclass
class ConvData:
    """Random weights, bias and quantization of a Conv (the int8 input comes separately)."""

    conv: Conv
    weight: np.ndarray
    bias: np.ndarray
    x_scale: float
    x_zp: int
    y_scale: float
    y_zp: int
    w_scales: np.ndarray
    multiplier: np.ndarray = field(init=False)
    shift: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        real = self.x_scale * self.w_scales.astype(np.float64) / self.y_scale
        multiplier, shift = nx.quantize_multipliers(real)
        self.multiplier, self.shift = multiplier.astype(np.int32), shift.astype(np.int32)

    @property
    def act(self) -> tuple[int, int]:
        return self.conv.act if self.conv.act is not None else (self.y_zp, 127)

    def reference(self, x: np.ndarray) -> np.ndarray:
        """The interpreter's tt.conv2d: exact integer sum, requantize, zero point, clamp."""
        cv = self.conv
        acc = F.conv2d(
            torch.from_numpy(x.astype(np.float64) - self.x_zp).permute(0, 3, 1, 2),
            torch.from_numpy(self.weight.astype(np.float64)).permute(0, 3, 1, 2),
            stride=cv.stride,
            padding=cv.pad,
            groups=cv.groups,
        )
        acc = np.rint(acc.permute(0, 2, 3, 1).numpy()).astype(np.int64) + self.bias
        y = nx.requantize(acc, self.multiplier.astype(np.int64), self.shift.astype(np.int64)) + self.y_zp
        return np.clip(y, *self.act).astype(np.int8)


def make_conv(rng: np.random.Generator, conv: Conv, x_scale: float, x_zp: int) -> ConvData:
    """Weights ~ N(0, 45), biases of a few thousand, an output scale that spreads the outputs."""
    weight = np.clip(
        np.rint(rng.normal(0, 45, (conv.o, conv.kernel, conv.kernel, conv.c // conv.groups))), -127, 127
    )
    w_scales = rng.uniform(0.5, 2.0, conv.o).astype(np.float32) / 128
    taps = conv.kernel * conv.kernel * (conv.c // conv.groups)
    y_scale = float(np.float32(x_scale * float(np.mean(w_scales)) * np.sqrt(taps) * 74 * 45 / 40))
    bias = rng.integers(-3000, 3000, conv.o).astype(np.int32)
    return ConvData(
        conv, weight.astype(np.int8), bias, x_scale, x_zp, y_scale, int(rng.integers(-20, 21)), w_scales
    )


@dataclass
class Case:
    """A timed kernel call: its C statement, the arrays it reads, and the expected output."""

    name: str
    shape: str
    work: int  # MACs (or elements for an add)
    unit: str
    cmsis: float | None
    arrays: dict[str, np.ndarray]
    call: str
    expected: np.ndarray
    setup: str = ""
    mutable: tuple[str, ...] = ()  # arrays the kernel may write (not const)


def conv_case(name: str, rng: np.random.Generator, conv: Conv, cmsis: float | None) -> Case:
    x = rng.integers(-128, 128, (1, conv.h, conv.w, conv.c)).astype(np.int8)
    data = make_conv(rng, conv, 0.02, int(rng.integers(-40, 41)))
    p = name
    setup = "\n".join(
        [
            f"    static const tt_conv_shape {p}_shape = {conv.shape_c()};",
            f"    static const tt_channel_quant {p}_quant = {{{data.x_zp}, {data.y_zp}, {data.act[0]}, "
            f"{data.act[1]}, {p}_mult, {p}_shift}};",
        ]
    )
    oh, ow = conv.out_hw
    kind = "dw" if conv.groups == conv.c else f"{conv.kernel}x{conv.kernel}"
    shape = f"{kind} {conv.h}x{conv.w}x{conv.c}->{conv.o} s{conv.stride} p{conv.pad}"
    return Case(
        name,
        shape,
        conv.macs,
        "MAC",
        cmsis,
        {
            f"{p}_x": x,
            f"{p}_w": data.weight,
            f"{p}_b": data.bias,
            f"{p}_mult": data.multiplier,
            f"{p}_shift": data.shift,
        },
        f"tt_conv2d(&{p}_shape, &{p}_quant, {p}_x, {p}_w, {p}_b, output)",
        data.reference(x).reshape(1, oh, ow, conv.o),
        setup,
    )


def bottleneck_case(
    name: str, rng: np.random.Generator, hw: int, c: int, hidden: int, kernel: int, stride: int, out: int
) -> Case:
    expand = Conv(hw, hw, c, hidden, 1, 1, 0, act=(-128, 127))
    pad = kernel // 2
    depthwise = Conv(hw, hw, hidden, hidden, kernel, stride, pad, groups=hidden)
    oh, ow = depthwise.out_hw
    project = Conv(oh, ow, hidden, out, 1, 1, 0, act=(-128, 127))
    x = rng.integers(-128, 128, (1, hw, hw, c)).astype(np.int8)
    e = make_conv(rng, expand, 0.02, int(rng.integers(-40, 41)))
    d = make_conv(rng, depthwise, e.y_scale, e.y_zp)
    pj = make_conv(rng, project, d.y_scale, d.y_zp)
    expected = pj.reference(d.reference(e.reference(x)))
    p = name
    arrays = {f"{p}_x": x}
    geometry = [1, hw, hw, c, hw, hw, hidden, oh, ow, out, kernel, kernel, stride, stride, pad, pad]
    geometry += [1, 1, 1, 1, 1, 0, 0]  # an expand conv, 1x1
    lines = [f"    static const tt_bottleneck_shape {p}_shape = {{{', '.join(map(str, geometry))}}};"]
    for stage, data in (("e", e), ("d", d), ("p", pj)):
        arrays |= {f"{p}_{stage}w": data.weight, f"{p}_{stage}b": data.bias}
        arrays |= {f"{p}_{stage}m": data.multiplier, f"{p}_{stage}s": data.shift}
        lines.append(
            f"    static const tt_channel_quant {p}_{stage}q = {{{data.x_zp}, {data.y_zp}, {data.act[0]}, "
            f"{data.act[1]}, {p}_{stage}m, {p}_{stage}s}};"
        )
        lines.append(
            f"    static const tt_conv_stage {p}_{stage} = {{&{p}_{stage}q, {p}_{stage}w, {p}_{stage}b}};"
        )
    macs = expand.macs + depthwise.macs + project.macs
    return Case(
        name,
        f"{hw}x{hw}x{c} e{hidden} dw{kernel}x{kernel} s{stride} ->{out}",
        macs,
        "MAC",
        None,
        arrays,
        f"tt_bottleneck(&{p}_shape, &{p}_e, &{p}_d, &{p}_p, {p}_x, output, scratch)",
        expected,
        "\n".join(lines),
    )


def add_reference(a: np.ndarray, b: np.ndarray, q: list[int]) -> np.ndarray:
    """The interpreter's tt.add on the fixed-point arguments of tt_add_quant."""
    total = np.zeros(a.shape, dtype=np.int64)
    for values, zp, m, s in ((a, q[0], q[1], q[2]), (b, q[3], q[4], q[5])):
        total += nx.requantize(np.left_shift(values.astype(np.int64) - zp, nx.ADD_LEFT_SHIFT), m, s)
    y = nx.requantize(total, q[7], q[8]) + q[6]
    return np.clip(y, q[9], q[10]).astype(np.int8)


def add_case(name: str, rng: np.random.Generator, count: int) -> Case:
    a = rng.integers(-128, 128, count).astype(np.int8)
    b = rng.integers(-128, 128, count).astype(np.int8)
    sa, sb, sy = 0.031, 0.022, 0.045
    twice_max = 2 * max(sa, sb)
    am, ash = nx.quantize_multiplier(sa / twice_max)
    bm, bsh = nx.quantize_multiplier(sb / twice_max)
    ym, ysh = nx.quantize_multiplier(twice_max / ((1 << nx.ADD_LEFT_SHIFT) * sy))
    q = [-7, am, ash, 12, bm, bsh, -3, ym, ysh, -128, 127]
    setup = f"    static const tt_add_quant {name}_q = {{{', '.join(map(str, q))}}};"
    return Case(
        name,
        f"{count} elements",
        count,
        "element",
        None,
        {f"{name}_a": a, f"{name}_b": b},
        f"tt_add({count}u, &{name}_q, {name}_a, {name}_b, output)",
        add_reference(a, b, q),
        setup,
    )


def cases() -> list[Case]:
    rng = np.random.default_rng(13)
    conv: Callable[..., Case] = lambda name, cmsis, *a, **k: conv_case(name, rng, Conv(*a, **k), cmsis)  # noqa: E731
    return [
        conv("conv3x3_a", 2.31, 32, 32, 16, 16, 3, 1, 1),
        conv("conv3x3_b", 1.84, 16, 16, 32, 64, 3, 1, 1),
        conv("conv1x1", 2.65, 32, 32, 32, 64, 1, 1, 0),
        conv("depthwise3x3", 8.77, 32, 32, 32, 32, 3, 1, 1, groups=32),
        conv("conv1x1_s2", None, 32, 32, 32, 64, 1, 2, 0),
        conv("stem", None, 128, 128, 3, 16, 3, 2, 1),
        conv("depthwise7x7_s2", None, 32, 32, 48, 48, 7, 2, 3, groups=48),
        conv("depthwise5x5_4x4", None, 4, 4, 384, 384, 5, 1, 2, groups=384),
        conv("conv1x1_c160_8x8", None, 8, 8, 160, 40, 1, 1, 0),
        bottleneck_case("bottleneck3x3", rng, 32, 16, 48, 3, 1, 16),
        bottleneck_case("bottleneck7x7", rng, 16, 40, 160, 7, 1, 40),
        bottleneck_case("bottleneck7x7_8x8", rng, 8, 40, 160, 7, 1, 40),
        add_case("add", rng, 32 * 32 * 16),
    ]


# --------------------------------------------------------------------------- driver


def fnv1a(data: bytes) -> int:
    h = 2166136261
    for byte in np.frombuffer(data, dtype=np.uint8).tolist():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


def c_array(name: str, array: np.ndarray, mutable: bool = False) -> str:
    ctype = {np.dtype(np.int8): "int8_t", np.dtype(np.int32): "int32_t"}[array.dtype]
    values = ",".join(map(str, array.reshape(-1).tolist()))
    qualifier = "static" if mutable else "static const"
    return f"{qualifier} {ctype} {name}[{max(array.size, 1)}] = {{{values}}};"


DRIVER_HEAD = """/* Generated by bench/kernels.py: times the forward kernels in QEMU (SysTick, -icount 0). */
#include <stdint.h>

#include "board.h"
#include "tt_runtime.h"

static uint32_t fnv1a(const int8_t *data, size_t bytes)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < bytes; ++i) {
        h = (h ^ (uint8_t)data[i]) * 16777619u;
    }
    return h;
}
"""


def driver_source(all_cases: list[Case]) -> str:
    out_bytes = max(c.expected.size for c in all_cases)
    scratch = "static int8_t scratch[32768];" if any("scratch" in c.call for c in all_cases) else ""
    parts = [DRIVER_HEAD, f"static int8_t output[{out_bytes}];", scratch]
    for case in all_cases:
        parts += [c_array(name, array, name in case.mutable) for name, array in case.arrays.items()]
    parts.append("int main(void)\n{\n    uint64_t count;")
    for case in all_cases:
        parts += [
            "    {",
            case.setup,
            "    board_cycles_start();",
            f"    {case.call};",
            "    count = board_cycles_read();",
            f'    board_printf("kernel {case.name} %lu %08lx\\n", (unsigned long)count,',
            f"                 (unsigned long)fnv1a(output, {case.expected.size}u));",
            "    }",
        ]
    parts.append("    return 0;\n}\n")
    return "\n".join(parts)


MAKEFILE = f"""include {BOARD}/Makefile.inc
CFLAGS += -pedantic -fno-strict-aliasing -I{RUNTIME}/include
SRCS = kernels.c $(wildcard {RUNTIME}/src/*.c)
kernels.elf: $(SRCS)
\t$(CC) $(CFLAGS) $(SRCS) $(BOARD_SOURCES) $(LDFLAGS) $(LDLIBS) -o $@
run: kernels.elf
\t$(BOARD_RUN) kernels.elf
"""


def run_driver(all_cases: list[Case], work: Path, opt: str = "-O2") -> dict[str, tuple[int, int]]:
    """Build (arm-none-eabi-gcc `opt`) and run the driver in QEMU; {name: (instructions, output hash)}."""
    (work / "kernels.c").write_text(driver_source(all_cases))
    (work / "Makefile").write_text(MAKEFILE)
    command = ["make", "-s", "run", f"BOARD_OPT={opt}"]
    done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=TIMEOUT_S)
    if done.returncode != 0:
        raise SystemExit(f"kernel driver failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    results = {}
    for line in done.stdout.splitlines():
        words = line.split()
        if len(words) == 4 and words[0] == "kernel":
            results[words[1]] = (int(words[2]), int(words[3], 16))
    return results


# --------------------------------------------------------------------------- table


def table_rows(all_cases: list[Case], results: dict[str, tuple[int, int]]) -> list[list[str]]:
    rows = []
    for case in all_cases:
        instructions, digest = results[case.name]
        if digest != fnv1a(case.expected.tobytes()):
            raise SystemExit(f"{case.name}: the Cortex-M7 output differs from the reference")
        per = instructions / case.work
        cmsis = f"{case.cmsis:.2f}" if case.cmsis is not None else "-"
        ratio = f"{per / case.cmsis:.2f}" if case.cmsis is not None else "-"
        rows.append(
            [
                case.name,
                case.shape,
                str(case.work),
                str(instructions),
                f"{per:.2f} / {case.unit}",
                cmsis,
                ratio,
                "exact",
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    parser.add_argument("--only", nargs="+", help="these kernels only (no docs update)")
    args = parser.parse_args()
    start = time.perf_counter()
    all_cases = [c for c in cases() if args.only is None or c.name in args.only]
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        results = run_driver(all_cases, args.keep)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            results = run_driver(all_cases, Path(tmp))
    headers = [
        "kernel",
        "shape (HxWxC->O)",
        "MACs",
        "instructions",
        "instr",
        "CMSIS-NN v7",
        "tt / CMSIS",
        "output",
    ]
    table = markdown_table(headers, table_rows(all_cases, results))
    print(table)
    if args.only is not None:
        return
    body = "\n".join(
        [
            "## kernels: instructions per MAC of the int8 forward kernels (bench/kernels.py)",
            "",
            "QEMU mps2-an500 (Cortex-M7 with DSP, `-icount shift=0`), arm-none-eabi-gcc 12.2 -O2; one call",
            "per kernel, batch 1, whole call counted (borders, requantization). Every output is checked",
            "against the interpreter's rule (`output`). CMSIS-NN v7.0.0 figures (DSP, -Ofast) from",
            "ANCHORS.md; a bottleneck's MACs are those of its three convs, an add is counted per element.",
            "Before issue 13 (tt -O2, same driver): 6.20 / 4.37 / 6.23 / 24.29 instr/MAC on the four CMSIS",
            "shapes, 23.05 on the stem, 11.98 and 7.34 on the two bottlenecks, 134 per add element.",
            f"Machine: {machine()}; {time.perf_counter() - start:.0f} s.",
            "",
            table,
        ]
    )
    write_section("kernels", body)


if __name__ == "__main__":
    main()
