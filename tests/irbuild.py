"""Small helpers shared by the interpreter tests: write tt IR as text, parse it, run it.

Everything here only formats text and calls the public entry points (parser, verifier,
interpreter); the expected values of every test come from oracles written in the tests.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from ttdialect.interpreter import ParamState, run_function
from ttdialect.ir_io import make_context, parse_text, verify_located
from ttdialect.weights import WeightStore

# --------------------------------------------------------------------------- text pieces


def flt(value: float) -> str:
    """A float literal (always with a '.') that parses back to exactly `value`."""
    return f"{float(value):.17e}"


def f32(value: float) -> float:
    """`value` rounded to float32, as a Python float (what an f32 attribute holds)."""
    return float(np.float32(value))


def dims(shape: Sequence[int]) -> str:
    return "x".join(str(int(d)) for d in shape)


def qtype(shape: Sequence[int], scale: float, zp: int) -> str:
    return f"!tt.qtensor<{dims(shape)}, {flt(scale)}:{int(zp)}>"


def ftype(shape: Sequence[int]) -> str:
    return f"tensor<{dims(shape)}xf32>"


def itype(shape: Sequence[int], width: int = 32) -> str:
    return f"tensor<{dims(shape)}xi{width}>"


def i64_array(values: Sequence[int]) -> str:
    return "array<i64: " + ", ".join(str(int(v)) for v in values) + ">"


def dense(array: np.ndarray) -> str:
    """`dense<...> : tensor<...>` for an int8 / int32 / float32 numpy array."""
    array = np.asarray(array)
    if array.dtype == np.float32:
        strings = np.array([flt(v) for v in array.reshape(-1).tolist()], dtype=object)
        text = _nested(strings.reshape(array.shape))
        element = "f32"
    else:
        text = json.dumps(array.tolist())
        element = {np.dtype(np.int8): "i8", np.dtype(np.int32): "i32"}[array.dtype]
    return f"dense<{text}> : tensor<{dims(array.shape)}x{element}>"


def _nested(array: Any) -> str:
    if isinstance(array, str):
        return array
    return "[" + ", ".join(_nested(a) for a in array) + "]"


def clamp_attrs(act_min: int, act_max: int) -> str:
    return f"act_min = {int(act_min)} : i64, act_max = {int(act_max)} : i64"


def conv_attrs(stride: Sequence[int], padding: Sequence[int], groups: int) -> str:
    return f"stride = {i64_array(stride)}, padding = {i64_array(padding)}, groups = {int(groups)} : i64"


# --------------------------------------------------------------------------- modules


@dataclass
class Param:
    """A `tt.param`: integer value (int8 weight or int32 bias) with per-output-channel scales."""

    name: str
    value: np.ndarray
    scales: np.ndarray
    external: bool = False

    def __post_init__(self) -> None:
        assert self.value.dtype in (np.int8, np.int32)
        self.scales = np.asarray(self.scales, dtype=np.float32).reshape(-1)

    @property
    def real_scales(self) -> np.ndarray:
        """The scales exactly as the interpreter sees them (float32 values, as float64)."""
        return self.scales.astype(np.float64)

    def text(self) -> str:
        width = 8 if self.value.dtype == np.int8 else 32
        typ = itype(self.value.shape, width)
        if self.external:
            scales = f'#tt.external<"{self.name}.scales">'
            value = f'#tt.external<"{self.name}">'
        else:
            scales, value = dense(self.scales), dense(self.value)
        return f'tt.param @"{self.name}" : {typ} scales {scales} = {value}'


def function(
    name: str,
    args: Sequence[tuple[str, str]],
    body: Sequence[str],
    results: Sequence[tuple[str, str]] = (),
    result_names: Sequence[str | None] | None = None,
) -> str:
    """`func.func @name(args) -> (results) { body; func.return }`."""
    arg_text = ", ".join(f"%{a}: {t}" for a, t in args)
    if result_names is None:
        result_names = [None] * len(results)
    res_types = []
    for (_, typ), res_name in zip(results, result_names, strict=True):
        res_types.append(typ if res_name is None else f'{typ} {{tt.name = "{res_name}"}}')
    signature = f"func.func @{name}({arg_text})"
    if results:
        signature += " -> (" + ", ".join(res_types) + ")"
    lines = [signature + " {"]
    lines += [f"    {line}" for line in body]
    if results:
        ret = ", ".join(f"%{v}" for v, _ in results)
        lines.append(f"    func.return {ret} : " + ", ".join(t for _, t in results))
    else:
        lines.append("    func.return")
    lines.append("  }")
    return "\n".join(lines)


def module_text(params: Sequence[Param], functions: Sequence[str], weights: str | None = None) -> str:
    attrs = f' attributes {{tt.weights = "{weights}"}}' if weights is not None else ""
    lines = [f"builtin.module{attrs} {{"]
    lines += [f"  {p.text()}" for p in params]
    lines += [f"  {f}" for f in functions]
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_weights(path: Path, params: Sequence[Param]) -> None:
    arrays: dict[str, np.ndarray] = {}
    for p in params:
        if p.external:
            arrays[p.name] = p.value
            arrays[f"{p.name}.scales"] = p.scales
    np.savez(path, **arrays)


def parse(text: str) -> ModuleOp:
    """Parse and verify tt IR text (raises on a parse or verifier error)."""
    module = parse_text(make_context(), text, "test")
    verify_located(module)
    module.verify()
    return module


def run(
    text: str,
    inputs: Sequence[Any],
    *,
    func: str = "f",
    base_dir: Path = Path("."),
    rng_counter: int = 0,
) -> tuple[tuple[Any, ...], ParamState]:
    """Parse `text`, run function `func` on `inputs`; returns the results and the final params."""
    module = parse(text)
    state = ParamState(WeightStore(module, base_dir), rng_counter=rng_counter)
    results = run_function(module, func, list(inputs), base_dir, state)
    return results, state


def build_and_run(
    params: Sequence[Param],
    args: Sequence[tuple[str, str]],
    body: Sequence[str],
    results: Sequence[tuple[str, str]],
    inputs: Sequence[Any],
    tmp_path: Path | None = None,
    rng_counter: int = 0,
) -> tuple[tuple[Any, ...], ParamState]:
    """One function `@f` over `params`; external params go to `tmp_path/weights.npz`."""
    weights = None
    base_dir = Path(".")
    if any(p.external for p in params):
        assert tmp_path is not None
        write_weights(tmp_path / "weights.npz", params)
        weights, base_dir = "weights.npz", tmp_path
    text = module_text(params, [function("f", args, body, results)], weights)
    return run(text, inputs, base_dir=base_dir, rng_counter=rng_counter)


# --------------------------------------------------------------------------- comparisons


def assert_int8_close(got: np.ndarray, expected: np.ndarray, max_off_fraction: float = 0.02) -> None:
    """int8 results agree with a float simulation: never off by more than one LSB, rarely by one."""
    got = np.asarray(got)
    expected = np.asarray(expected)
    assert got.dtype == np.int8, got.dtype
    assert got.shape == expected.shape, (got.shape, expected.shape)
    diff = np.abs(got.astype(np.int64) - expected.astype(np.int64))
    worst = int(diff.max()) if diff.size else 0
    assert worst <= 1, f"max difference {worst} LSB at {np.unravel_index(diff.argmax(), diff.shape)}"
    off = float((diff != 0).mean()) if diff.size else 0.0
    assert off <= max_off_fraction, f"{off:.1%} of the elements differ by one LSB"


def assert_spread(
    q: np.ndarray, lo: int = -128, hi: int = 127, min_distinct: int = 8, min_inside: float = 0.25
) -> None:
    """Guard against vacuous tests: the expected output uses many levels and is not all clamped."""
    q = np.asarray(q)
    assert len(np.unique(q)) >= min(min_distinct, q.size // 2 + 1), np.unique(q)
    inside = ((q > lo) & (q < hi)).mean()
    assert inside >= min_inside, f"only {inside:.0%} of the expected values are inside the clamp range"


def assert_grad_close(got: np.ndarray, expected: np.ndarray, rtol: float = 1e-5) -> None:
    """A float32 gradient against a float64 oracle: rtol per element, atol relative to the max."""
    got = np.asarray(got)
    expected = np.asarray(expected, dtype=np.float64)
    assert got.dtype == np.float32, got.dtype
    assert got.shape == expected.shape, (got.shape, expected.shape)
    scale = float(np.abs(expected).max()) if expected.size else 0.0
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale + 1e-30)
