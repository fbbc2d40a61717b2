"""The int8 numerics of tt, in one place: requantization, rounding of updates, the update RNG.

Every int8 value any stage computes goes through `requantize` (the C runtime has its single
mirror in runtime_c); see docs/numerics.md for the rules and why they were chosen.
"""

from __future__ import annotations

import math

import numpy as np

from ttdialect.errors import TTError

INT8_MIN, INT8_MAX = -128, 127
WEIGHT_MIN, WEIGHT_MAX = -127, 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
ADD_LEFT_SHIFT = 20


class NumericsError(TTError, ValueError):
    """A quantization parameter the int8 rules cannot represent (e.g. a scale ratio >= 2**30)."""


def quantize_multiplier(real_scale: float) -> tuple[int, int]:
    """Fixed-point form of a positive real scale: real ~= multiplier * 2**(shift - 31).

    multiplier is in [2**30, 2**31) (or 0 for scales too small to matter).
    """
    if not real_scale > 0:
        raise NumericsError(f"requantization scale must be positive, got {real_scale}")
    mantissa, exponent = math.frexp(real_scale)
    multiplier = round(mantissa * (1 << 31))
    if multiplier == 1 << 31:
        multiplier //= 2
        exponent += 1
    if exponent > 30:
        raise NumericsError(f"requantization scale {real_scale} is too large (at most 2**30)")
    if exponent < -31:
        return 0, 0
    return multiplier, exponent


def quantize_multipliers(real_scales: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`quantize_multiplier` for each element, as int64 arrays."""
    pairs = [quantize_multiplier(float(s)) for s in np.ravel(real_scales)]
    multipliers = np.array([m for m, _ in pairs], dtype=np.int64).reshape(np.shape(real_scales))
    shifts = np.array([s for _, s in pairs], dtype=np.int64).reshape(np.shape(real_scales))
    return multipliers, shifts


def requantize(acc: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int) -> np.ndarray:
    """round(acc * multiplier * 2**(shift - 31)) with one rounding, ties rounded up (toward +inf).

    Computed in 64-bit integers: (acc * multiplier + 2**(total - 1)) >> total, total = 31 - shift.
    acc must fit in int32 (the product then fits in int64).
    """
    acc = np.asarray(acc, dtype=np.int64)
    multiplier = np.asarray(multiplier, dtype=np.int64)
    total = 31 - np.asarray(shift, dtype=np.int64)
    rounding = np.left_shift(np.int64(1), total - 1)
    return np.right_shift(acc * multiplier + rounding, total)


def requantize_scaled(acc: np.ndarray, real_scale: np.ndarray | float) -> np.ndarray:
    """requantize with the fixed-point form of `real_scale` (scalar or per last-axis channel)."""
    multiplier, shift = quantize_multipliers(np.asarray(real_scale, dtype=np.float64))
    return requantize(acc, multiplier, shift)


def saturate(values: np.ndarray, low: int, high: int, dtype: type) -> np.ndarray:
    return np.clip(values, low, high).astype(dtype)


def quantize(real: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Float to int8: round half to even of real / scale, plus zero point, saturated."""
    q = np.rint(np.asarray(real, dtype=np.float64) / scale) + zero_point
    return saturate(q, INT8_MIN, INT8_MAX, np.int8)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (np.asarray(q, dtype=np.float64) - zero_point) * scale


# --------------------------------------------------------------------------- update rounding


def hash32(x: np.ndarray) -> np.ndarray:
    """A 32-bit integer mixing function (xorshift-multiply), the counter-based update RNG."""
    x = np.asarray(x, dtype=np.uint32).copy()
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


def uniform_from_counter(counter: int, count: int) -> np.ndarray:
    """`count` uniforms in [0, 1): hash32(counter + i) / 2**32, computed exactly in float64."""
    indices = (np.uint64(counter) + np.arange(count, dtype=np.uint64)) & np.uint64(0xFFFFFFFF)
    return hash32(indices.astype(np.uint32)).astype(np.float64) / 2.0**32


def round_update(delta: np.ndarray, mode: str, uniforms: np.ndarray | None = None) -> np.ndarray:
    """Integer steps from real-valued steps `delta` (in units of the stored integer)."""
    if mode == "stochastic":
        assert uniforms is not None
        return np.floor(delta + uniforms.reshape(delta.shape))
    if mode == "nearest":
        return np.floor(delta + 0.5)
    if mode == "truncate":
        return np.trunc(delta)
    raise ValueError(f"unknown rounding mode '{mode}'")
