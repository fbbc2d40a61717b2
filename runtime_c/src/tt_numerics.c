/*
 * tt_numerics.c - the requantization rule, the update RNG hash, and deterministic exp / log.
 *
 * Layer: bottom (calls no other runtime file).
 */
#include <math.h>
#include <string.h>

#include "tt_internal.h"

int64_t tt_requantize(int64_t acc, int32_t multiplier, int32_t shift)
{
    return tt_requantize_rule(acc, multiplier, shift);
}

int8_t tt_requantize_to_int8(int64_t acc, int32_t multiplier, int32_t shift, int32_t zero_point,
                             int32_t act_min, int32_t act_max)
{
    return tt_requantize_to_int8_rule(acc, multiplier, shift, zero_point, act_min, act_max);
}

uint32_t tt_hash32(uint32_t x)
{
    return tt_hash32_inline(x);
}

uint32_t tt_rounding_counter_start(uint32_t seed)
{
    return seed * 0x9E3779B9u;
}

/* ----------------------------------------------------------------------- exp and log */

static float float_from_bits(uint32_t bits)
{
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static uint32_t bits_from_float(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

/* value * 2^exponent, by exact multiplications by powers of two. */
static float times_power_of_two(float value, int32_t exponent)
{
    while (exponent > 127) {
        value *= 0x1p127f;
        exponent -= 127;
    }
    while (exponent < -126) {
        value *= 0x1p-126f;
        exponent += 126;
    }
    return value * float_from_bits((uint32_t)(exponent + 127) << 23);
}

/* ln 2 split so that k * LN2_HI is exact for |k| < 512 (LN2_HI has 15 significant bits). */
static const float LN2_HI = 6.93145751953125e-1f;
static const float LN2_LO = 1.42860682030941723212e-6f;
static const float LOG2_E = 1.44269504088896340736f;
static const float EXP_OVERFLOW = 88.7228393554688f;  /* above: exp(x) > FLT_MAX */
static const float EXP_UNDERFLOW = -103.972084045410f; /* below: exp(x) < half the least subnormal */

float tt_exp_f32(float x)
{
    if (x != x) {
        return x;
    }
    if (x > EXP_OVERFLOW) {
        return HUGE_VALF;
    }
    if (x < EXP_UNDERFLOW) {
        return 0.0f;
    }
    /* x = k ln2 + r, |r| <= ln2 / 2 (about), then e^r by its Taylor polynomial of degree 7
     * (truncation below 1e-8 relative), Horner form. */
    const float k = floorf(x * LOG2_E + 0.5f);
    const float r = (x - k * LN2_HI) - k * LN2_LO;
    float poly = 1.0f / 5040.0f;
    poly = poly * r + 1.0f / 720.0f;
    poly = poly * r + 1.0f / 120.0f;
    poly = poly * r + 1.0f / 24.0f;
    poly = poly * r + 1.0f / 6.0f;
    poly = poly * r + 0.5f;
    poly = poly * r + 1.0f;
    poly = poly * r + 1.0f;
    return times_power_of_two(poly, (int32_t)k);
}

float tt_log_f32(float x)
{
    if (x != x || x < 0.0f) {
        return NAN;
    }
    if (x == 0.0f) {
        return -HUGE_VALF;
    }
    if (x == HUGE_VALF) {
        return x;
    }
    int32_t exponent = 0;
    uint32_t bits = bits_from_float(x);
    if ((bits >> 23) == 0) { /* subnormal: make it normal first */
        bits = bits_from_float(x * 0x1p24f);
        exponent = -24;
    }
    exponent += (int32_t)(bits >> 23) - 127;
    float mantissa = float_from_bits((bits & UINT32_C(0x7fffff)) | UINT32_C(0x3f800000));
    if (mantissa > 1.41421356f) {
        mantissa *= 0.5f;
        exponent += 1;
    }
    /* log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172: odd series to s^9
     * (truncation below 1e-8 relative). m - 1 is exact. */
    const float s = (mantissa - 1.0f) / (mantissa + 1.0f);
    const float s2 = s * s;
    float poly = 1.0f / 9.0f;
    poly = poly * s2 + 1.0f / 7.0f;
    poly = poly * s2 + 1.0f / 5.0f;
    poly = poly * s2 + 1.0f / 3.0f;
    const float log_mantissa = 2.0f * (s + s * (s2 * poly));
    const float e = (float)exponent;
    return e * LN2_HI + (log_mantissa + e * LN2_LO);
}
