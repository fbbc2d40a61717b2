"""Build the C runtime with its test driver (under ASan + UBSan) and call kernels from Python.

The driver (kernel_driver.c) reads requests on stdin: a kernel name and a list of arguments,
each an int8 / int32 / uint32 / float32 array (scalars are arrays of one element, None is an
empty array, i.e. NULL); it answers with every argument as it is after the call, so outputs
are preallocated arrays passed in and read back. numpy packs and unpacks the bytes.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "runtime_c"
INCLUDE = RUNTIME / "include"
SOURCES = sorted((RUNTIME / "src").glob("*.c"))
DRIVER_SOURCE = Path(__file__).resolve().parent / "kernel_driver.c"

WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
SANITIZERS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]

KINDS = {
    np.dtype(np.int8): b"b",
    np.dtype(np.int32): b"i",
    np.dtype(np.uint32): b"u",
    np.dtype(np.float32): b"f",
}
DTYPES = {kind: dtype for dtype, kind in KINDS.items()}

Argument = np.ndarray | int | float | None


def build_driver(out_dir: Path) -> Path:
    """Compile the runtime and the driver into `out_dir`; returns the executable."""
    exe = out_dir / "kernel_driver"
    command = [
        "gcc",
        *WARNINGS,
        "-O1",
        "-g",
        *SANITIZERS,
        f"-I{INCLUDE}",
        *map(str, SOURCES),
        str(DRIVER_SOURCE),
        "-o",
        str(exe),
        "-lm",
    ]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return exe


def _as_array(value: Argument) -> np.ndarray:
    if value is None:
        return np.zeros(0, dtype=np.int32)
    if isinstance(value, bool | np.bool_):
        raise TypeError("pass booleans as ints")
    if isinstance(value, int | np.integer):
        return np.array([value], dtype=np.int32)
    if isinstance(value, float | np.floating):
        return np.array([value], dtype=np.float32)
    array = np.asarray(value)
    if array.dtype not in KINDS:
        raise TypeError(f"unsupported argument dtype {array.dtype}")
    return array


def _pack(name: str, args: Sequence[Argument]) -> tuple[bytes, list[np.ndarray]]:
    arrays = [_as_array(a) for a in args]
    parts = [struct.pack("<I", len(name)), name.encode(), struct.pack("<I", len(arrays))]
    for array in arrays:
        parts += [KINDS[array.dtype], struct.pack("<I", array.size), np.ascontiguousarray(array).tobytes()]
    return b"".join(parts), arrays


def _unpack(data: bytes, offset: int, shapes: list[np.ndarray]) -> tuple[list[np.ndarray], int]:
    (count,) = struct.unpack_from("<I", data, offset)
    offset += 4
    assert count == len(shapes)
    out = []
    for template in shapes:
        kind = data[offset : offset + 1]
        (size,) = struct.unpack_from("<I", data, offset + 1)
        offset += 5
        dtype = DTYPES[kind]
        nbytes = size * dtype.itemsize
        array = np.frombuffer(data[offset : offset + nbytes], dtype=dtype).copy()
        offset += nbytes
        out.append(array.reshape(template.shape))
    return out, offset


class KernelDriver:
    """Runs kernels in the sanitized driver, one process per batch of calls."""

    def __init__(self, exe: Path):
        self.exe = exe

    def call_many(self, calls: Sequence[tuple[str, Sequence[Argument]]]) -> list[list[np.ndarray]]:
        """Run each (kernel, args) in order in one driver process; returns the args after each."""
        payload = []
        templates = []
        for name, args in calls:
            data, arrays = _pack(name, args)
            payload.append(data)
            templates.append(arrays)
        done = subprocess.run([str(self.exe)], input=b"".join(payload), capture_output=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(
                f"kernel driver failed ({done.returncode}):\n{done.stderr.decode(errors='replace')}"
            )
        results, offset = [], 0
        for arrays in templates:
            out, offset = _unpack(done.stdout, offset, arrays)
            results.append(out)
        assert offset == len(done.stdout)
        return results

    def call(self, name: str, *args: Argument) -> list[np.ndarray]:
        """Run one kernel; returns every argument as it is after the call."""
        return self.call_many([(name, args)])[0]


# --------------------------------------------------------------------------- argument helpers


def conv_shape(
    in_shape: Sequence[int],
    out_shape: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    groups: int,
) -> np.ndarray:
    """The int32[14] form of tt_conv_shape."""
    n, h, w, c = in_shape
    _, oh, ow, o = out_shape
    values = [
        n,
        h,
        w,
        c,
        oh,
        ow,
        o,
        kernel[0],
        kernel[1],
        stride[0],
        stride[1],
        padding[0],
        padding[1],
        groups,
    ]
    return np.array(values, dtype=np.int32)


def i32(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int32)


def f32s(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)
