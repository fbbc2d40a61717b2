"""TFLite's own int8 rules of HARD_SWISH and LOGISTIC, as 256-entry tables.

tt computes its table activations from the exact real function (numerics.activation_table).
TensorFlow Lite computes them otherwise; the ops of an imported TFLite model (`numerics =
"tflite"`, numerics.tflite_table) take these tables, which match TensorFlow 2.21's interpreter
on every code (docs/numerics.md gives how far the two are apart):

- HARD_SWISH (TFLite's reference and optimized kernels, and TFLite Micro): 16-bit fixed point.
  The input offset by its zero point is scaled by 2^7 ("hires"); a "reluish" factor in [0, 1]
  (the input rescaled so that 3.0 is 2^15, saturated to [-1, 1], mapped to [0, 1]) multiplies
  the input brought to the output scale; every multiply is a 16-bit doubling high multiply
  (rounding, except the last one, which truncates), the multipliers are float32 ratios
  quantized to 16 bits, the shifts round half away from zero.
- LOGISTIC (TFLite's interpreter, int8): a table of the float32 sigmoid of the float32
  dequantized input, rounded half away from zero (std::round) at the output scale, which TFLite
  requires to be 1/256 with zero point -128. (TFLite Micro computes LOGISTIC in gemmlowp fixed
  point instead; not modelled here.)

Written from the arithmetic these kernels specify; integers are Python ints (exact), floats
np.float32 where TFLite computes in float32.
"""

from __future__ import annotations

import math

import numpy as np

INT16_MIN, INT16_MAX = -(2**15), 2**15 - 1


def tflite_quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: real ~= q * 2^(shift - 31), q in [2^30, 2^31), the mantissa
    rounded half away from zero."""
    if real == 0.0:
        return 0, 0
    mantissa, shift = math.frexp(real)
    q = int(math.floor(abs(mantissa) * 2**31 + 0.5)) * (1 if mantissa >= 0 else -1)
    if q == 2**31:
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        return 2**31 - 1, 30
    return q, shift


def downscale_to_int16(multiplier: int) -> int:
    """TFLite's DownScaleInt32ToInt16Multiplier: the top 16 bits, rounded."""
    if multiplier >= 2**31 - 1 - (1 << 15):
        return INT16_MAX
    return (multiplier + (1 << 15)) >> 16


def _div_trunc(a: int, b: int) -> int:
    """C's integer division (toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _saturate16(value: int) -> int:
    return max(INT16_MIN, min(INT16_MAX, value))


def rounding_doubling_high_mul16(a: int, b: int) -> int:
    """gemmlowp's SaturatingRoundingDoublingHighMul on int16."""
    if a == b == INT16_MIN:
        return INT16_MAX
    product = a * b
    nudge = (1 << 14) if product >= 0 else 1 - (1 << 14)
    return _div_trunc(product + nudge, 1 << 15)


def doubling_high_mul16(a: int, b: int) -> int:
    """TFLite's SaturatingDoublingHighMul on int16 (truncating)."""
    if a == b == INT16_MIN:
        return INT16_MAX
    return _div_trunc(a * b, 1 << 15)


def rounding_divide_by_pot(x: int, exponent: int) -> int:
    """gemmlowp's RoundingDivideByPOT: x / 2^exponent, ties away from zero."""
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def hard_swish_table(x_scale: float, x_zp: int, y_scale: float, y_zp: int) -> np.ndarray:
    """int8[256] of TFLite's int8 HARD_SWISH, entry q + 128 for input code q."""
    hires_scale = np.float32(1.0 / 128.0) * np.float32(x_scale)
    reluish_scale = np.float32(3.0) / np.float32(32768.0)
    output_m, output_exponent = tflite_quantize_multiplier(
        float(np.float32(hires_scale / np.float32(y_scale)))
    )
    reluish_m, reluish_exponent = tflite_quantize_multiplier(float(np.float32(hires_scale / reluish_scale)))
    output_m16, reluish_m16 = downscale_to_int16(output_m), downscale_to_int16(reluish_m)
    if output_exponent > 0:
        raise ValueError(
            "TFLite's HARD_SWISH needs an output multiplier below 1 (output_scale > input_scale / 128)"
        )
    table = np.empty(256, dtype=np.int8)
    for code in range(-128, 128):
        hires = (code - x_zp) * (1 << 7)
        preshift_output = rounding_doubling_high_mul16(hires, output_m16)
        reluish = hires
        if reluish_exponent > 0:
            reluish = _saturate16(reluish * (1 << (reluish_exponent - 1)))
        reluish = rounding_doubling_high_mul16(reluish, reluish_m16)
        if reluish_exponent > 0:
            reluish = _saturate16(reluish * 2)
        if reluish_exponent < 0:
            reluish = rounding_divide_by_pot(reluish, -reluish_exponent)
        reluish = (reluish + (1 << 15)) >> 1
        output = rounding_divide_by_pot(doubling_high_mul16(reluish, preshift_output), -output_exponent)
        table[code + 128] = max(-128, min(127, output + y_zp))
    return table


def logistic_table(x_scale: float, x_zp: int, y_scale: float = 1.0 / 256.0, y_zp: int = -128) -> np.ndarray:
    """int8[256] of TFLite's int8 LOGISTIC (its interpreter's table of the float32 sigmoid)."""
    codes = np.arange(-128, 128)
    real = np.float32(x_scale) * (codes - x_zp).astype(np.float32)
    with np.errstate(over="ignore"):
        sigmoid = np.float32(1.0) / (np.float32(1.0) + np.exp(-real, dtype=np.float32))
    rescaled = sigmoid * (np.float32(1.0) / np.float32(y_scale))
    exact = rescaled.astype(np.float64)  # float32 values: adding 0.5 in float64 is exact
    rounded = np.sign(exact) * np.floor(np.abs(exact) + 0.5)  # std::round, ties away from zero
    return np.clip(rounded.astype(np.int64) + y_zp, -128, 127).astype(np.int8)
