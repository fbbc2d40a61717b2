"""The int8 numerics of tt, in one place: requantization, rounding of updates, the update RNG.

Every int8 value any stage computes goes through `requantize` (the C runtime has its single
mirror in runtime_c); see docs/numerics.md for the rules and why they were chosen.

An op computes with tt's own rules, or (its `numerics = "tflite"` property, set by the TFLite
importer) with TensorFlow Lite's: TFLite's multiplier derivation (QuantizeMultiplier, the MEAN
multiplier) and its requantization, MultiplyByQuantizedMultiplier with its two roundings, and
TFLite's HARD_SWISH / LOGISTIC tables (ttdialect/tflite_rules.py), so that an imported TFLite
model computes bit for bit what TFLite's reference kernels compute.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ttdialect import tflite_rules
from ttdialect.errors import TTError

INT8_MIN, INT8_MAX = -128, 127
WEIGHT_MIN, WEIGHT_MAX = -127, 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
ADD_LEFT_SHIFT = 20
TT, TFLITE = "tt", "tflite"
NUMERICS = (TT, TFLITE)
"""The integer rules an op can follow: tt's own (the default) or TensorFlow Lite's."""
C_TFLITE_SHIFT = 64
"""The C runtime takes a TFLite multiplier as (multiplier, shift + C_TFLITE_SHIFT): a shift
above 30 selects MultiplyByQuantizedMultiplier in tt_requantize (runtime_c/src/tt_internal.h)."""


class NumericsError(TTError, ValueError):
    """A quantization parameter the int8 rules cannot represent (e.g. a scale ratio >= 2**30)."""


def quantize_multiplier(real_scale: float) -> tuple[int, int]:
    """Fixed-point form of a positive real scale: real ~= multiplier * 2**(shift - 31).

    multiplier is in [2**30, 2**31) (or 0 for scales too small to matter).
    """
    return _fixed_point(real_scale, round)  # the mantissa's ties to even


def _fixed_point(real_scale: float, round_mantissa: Callable[[float], int]) -> tuple[int, int]:
    """(multiplier, shift) of `real_scale`, the mantissa times 2**31 rounded by `round_mantissa`
    (the one place where tt's and TFLite's derivations differ)."""
    if not real_scale > 0:
        raise NumericsError(f"requantization scale must be positive, got {real_scale}")
    mantissa, exponent = math.frexp(real_scale)
    multiplier = round_mantissa(mantissa * (1 << 31))
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
    return _multiplier_arrays(real_scales, quantize_multiplier)


def _multiplier_arrays(
    real_scales: np.ndarray, derive: Callable[[float], tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    pairs = [derive(float(s)) for s in np.ravel(real_scales)]
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


def requantize_scaled(
    acc: np.ndarray, real_scale: np.ndarray | float, numerics: str = TT, single_rounding: bool = False
) -> np.ndarray:
    """requantize with the fixed-point form of `real_scale` (scalar or per last-axis channel),
    by tt's rules or TFLite's (`numerics`; `single_rounding`: TFLite's multiplier, tt's rule)."""
    multiplier, shift = multipliers_for(np.asarray(real_scale, dtype=np.float64), numerics)
    return requantize_by(acc, multiplier, shift, numerics, single_rounding)


# --------------------------------------------------------------------------- TFLite's requantization


def check_numerics(numerics: str) -> str:
    if numerics not in NUMERICS:
        raise NumericsError(f"numerics must be one of {', '.join(NUMERICS)}, got '{numerics}'")
    return numerics


def tflite_quantize_multiplier(real_scale: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: real ~= multiplier * 2**(shift - 31), the mantissa rounded
    half away from zero (tt's quantize_multiplier rounds ties to even); scales below 2**-32
    give (0, 0)."""
    return _fixed_point(real_scale, lambda value: math.floor(value + 0.5))  # value > 0


def multipliers_for(real_scales: np.ndarray, numerics: str = TT) -> tuple[np.ndarray, np.ndarray]:
    """(multiplier, shift) int64 arrays of `real_scales` by tt's or TFLite's derivation."""
    if check_numerics(numerics) == TT:
        return quantize_multipliers(real_scales)
    return _multiplier_arrays(real_scales, tflite_quantize_multiplier)


def _truncating_shift(values: np.ndarray, bits: int) -> np.ndarray:
    """values / 2**bits rounded toward zero (C's integer division), int64."""
    magnitude = np.right_shift(np.abs(values), bits)
    return np.where(values < 0, -magnitude, magnitude)


def rounding_divide_by_pot(values: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    """gemmlowp's RoundingDivideByPOT: values / 2**exponent, ties away from zero (0 <= exponent
    <= 31)."""
    values = np.asarray(values, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = np.left_shift(np.int64(1), exponent) - 1
    remainder = values & mask
    threshold = np.right_shift(mask, 1) + (values < 0)
    return np.right_shift(values, exponent) + (remainder > threshold)


def requantize_tflite(acc: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplier (its default, two-rounding form):

        x = acc * 2**max(shift, 0)                       (int32 in TFLite; saturated here)
        h = (x * multiplier + nudge) / 2**31             (SaturatingRoundingDoublingHighMul:
                                                          nudge 2**30, or 1 - 2**30 for a
                                                          negative product; C division,
                                                          i.e. ties rounded toward +inf)
        y = RoundingDivideByPOT(h, max(-shift, 0))       (ties away from zero)

    TFLite leaves an int32 overflow of x undefined; tt saturates x to int32.
    """
    acc = np.asarray(acc, dtype=np.int64)
    multiplier = np.asarray(multiplier, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    x = np.clip(acc * np.left_shift(np.int64(1), left), INT32_MIN, INT32_MAX)
    product = x * multiplier
    nudge = np.where(product >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    high = _truncating_shift(product + nudge, 31)
    return rounding_divide_by_pot(high, np.maximum(-shift, 0))


TFLITE_SINGLE_ROUNDING = ("tt.linear",)
"""The ops whose TFLite kernel requantizes with one rounding, tt's rule: FULLY_CONNECTED (its int8
kernels, the reference one included, go through ruy, whose MultiplyByQuantizedMultiplier is
(acc * multiplier + 2^(t-1)) >> t). Every other TFLite int8 kernel rounds twice."""


def requantize_by(
    acc: np.ndarray,
    multiplier: np.ndarray | int,
    shift: np.ndarray | int,
    numerics: str = TT,
    single_rounding: bool = False,
) -> np.ndarray:
    """`requantize` (tt, or TFLite with `single_rounding`) or `requantize_tflite` of acc."""
    if check_numerics(numerics) == TT or single_rounding:
        return requantize(acc, multiplier, shift)
    return requantize_tflite(acc, multiplier, shift)


def mean_multiplier(x_scale: float, y_scale: float, count: int, numerics: str = TT) -> tuple[int, int]:
    """(multiplier, shift) of a mean over `count` values (tt.global_avg_pool).

    tt: quantize_multiplier(x_scale / (count * y_scale)). TFLite (MEAN, reference kernel): the
    multiplier of x_scale / y_scale, divided by count in integers: with k = min(floor(log2(count)),
    32, 31 + shift), multiplier * 2**k // count and shift - k.
    """
    if check_numerics(numerics) == TT:
        return quantize_multiplier(x_scale / (count * y_scale))
    multiplier, shift = tflite_quantize_multiplier(float(x_scale) / float(y_scale))
    bits = min(count.bit_length() - 1, 32, 31 + shift)
    return (multiplier << bits) // count, shift - bits


def c_shifts(shifts: np.ndarray | int, numerics: str = TT, single_rounding: bool = False) -> np.ndarray:
    """Shifts as the C runtime takes them: TFLite's two-rounding rule is marked by C_TFLITE_SHIFT."""
    double = check_numerics(numerics) == TFLITE and not single_rounding
    return np.asarray(shifts, dtype=np.int64) + (C_TFLITE_SHIFT if double else 0)


def saturate(values: np.ndarray, low: int, high: int, dtype: type) -> np.ndarray:
    return np.clip(values, low, high).astype(dtype)


def param_limits(dtype: np.dtype) -> tuple[int, int]:
    """The range a stored parameter saturates to: [-127, 127] for int8 weights (symmetric, as the
    source models), the whole integer range otherwise (int32 biases)."""
    if dtype == np.int8:
        return WEIGHT_MIN, WEIGHT_MAX
    integer = np.iinfo(dtype)
    return int(integer.min), int(integer.max)


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


def rounding_counter_start(seed: int) -> int:
    """The update counter at the start of a run with this seed (C: tt_rounding_counter_start):
    seed * 0x9E3779B9 mod 2**32, so seeds start 2**32 / golden ratio apart on the counter (seeds
    0-9 at least 239 M draws apart) rather than one draw apart; seed 0 starts at 0."""
    return (seed * 0x9E3779B9) & 0xFFFFFFFF


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


# --------------------------------------------------------------------------- average pooling


def round_divide(total: np.ndarray, count: np.ndarray | int) -> np.ndarray:
    """total / count rounded to the nearest integer, ties away from zero, in integers: TFLite's
    AVERAGE_POOL_2D rule `(total +- count / 2) / count` with C's truncating division."""
    total = np.asarray(total, dtype=np.int64)
    count = np.asarray(count, dtype=np.int64)
    half = count // 2
    magnitude = (np.abs(total) + half) // count
    return np.where(total > 0, magnitude, -magnitude)


# --------------------------------------------------------------------------- lookup-table activations

ACTIVATIONS = ("hard_swish", "hard_sigmoid", "sigmoid")
"""The int8 activations computed by a 256-entry table (tt.hard_swish, tt.hard_sigmoid, tt.sigmoid)."""
TABLE_SIZE = 256


def activation_real(name: str, x: np.ndarray) -> np.ndarray:
    """The exact real function of an activation, in float64 (PyTorch's definitions)."""
    x = np.asarray(x, dtype=np.float64)
    if name == "hard_swish":
        return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0
    if name == "hard_sigmoid":
        return np.clip(x + 3.0, 0.0, 6.0) / 6.0
    if name == "sigmoid":
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    raise NumericsError(f"unknown activation '{name}'")


def activation_derivative(name: str, x: np.ndarray) -> np.ndarray:
    """d activation / d x in float64, with PyTorch autograd's choice at the kinks: hard-swish
    0 up to -3, x / 3 + 1/2 strictly inside (-3, 3), 1 from 3 on; hard-sigmoid 1/6 strictly
    inside (-3, 3), else 0; sigmoid s (1 - s)."""
    x = np.asarray(x, dtype=np.float64)
    if name == "hard_swish":
        return np.where(x <= -3.0, 0.0, np.where(x < 3.0, x / 3.0 + 0.5, 1.0))
    if name == "hard_sigmoid":
        return np.where((x > -3.0) & (x < 3.0), 1.0 / 6.0, 0.0)
    if name == "sigmoid":
        s = activation_real("sigmoid", x)
        return s * (1.0 - s)
    raise NumericsError(f"unknown activation '{name}'")


def table_inputs(scale: float, zero_point: int) -> np.ndarray:
    """The dequantized value of every int8 code, in table order (code -128 first)."""
    return dequantize(np.arange(INT8_MIN, INT8_MAX + 1), scale, zero_point)


TFLITE_ACTIVATIONS = {"hard_swish": "HARD_SWISH", "sigmoid": "LOGISTIC"}
"""The table activations TFLite has an int8 rule of its own for (tflite_rules)."""


def activation_table(
    name: str, x_scale: float, x_zp: int, y_scale: float, y_zp: int, numerics: str = TT
) -> np.ndarray:
    """int8[256]: entry q + 128 is the output code of input code q, the exact real function of
    the dequantized input rounded to the output quantization by tt.quantize's rule (round half
    to even, saturated); with TFLite's numerics, TFLite's own int8 rule (tflite_rules). One
    table per op, computed at compile time."""
    if check_numerics(numerics) == TFLITE:
        return tflite_table(name, x_scale, x_zp, y_scale, y_zp)
    return quantize(activation_real(name, table_inputs(x_scale, x_zp)), y_scale, y_zp)


def tflite_table(name: str, x_scale: float, x_zp: int, y_scale: float, y_zp: int) -> np.ndarray:
    """TFLite's int8 table of HARD_SWISH or LOGISTIC (tflite_rules)."""
    if name == "hard_swish":
        try:
            return tflite_rules.hard_swish_table(x_scale, x_zp, y_scale, y_zp)
        except ValueError as error:
            raise NumericsError(str(error)) from None
    if name == "sigmoid":
        if (y_scale, y_zp) != (1.0 / 256.0, -128):
            raise NumericsError(
                f"TFLite's LOGISTIC needs the output quantization 1/256:-128, got {y_scale}:{y_zp}"
            )
        return tflite_rules.logistic_table(x_scale, x_zp, y_scale, y_zp)
    raise NumericsError(f"TFLite has no int8 rule for '{name}' (only {', '.join(TFLITE_ACTIVATIONS)})")


def activation_grad_table(
    name: str, x_scale: float, x_zp: int, y_scale: float, y_zp: int, numerics: str = TT
) -> np.ndarray:
    """float32[256]: entry q + 128 is d output / d input at input code q, the derivative of the
    real function at the dequantized input, and 0 where the output code (of the forward's table,
    tt's or TFLite's) is -128 or 127 (the int8 clamp's straight-through rule, as for
    tt.requantize)."""
    derivative = activation_derivative(name, table_inputs(x_scale, x_zp))
    table = activation_table(name, x_scale, x_zp, y_scale, y_zp, numerics)
    inside = (table > INT8_MIN) & (table < INT8_MAX)
    return np.where(inside, derivative, 0.0).astype(np.float32)


def table_index(q: np.ndarray) -> np.ndarray:
    """The table entry of each int8 code."""
    return np.asarray(q, dtype=np.int64) - INT8_MIN
