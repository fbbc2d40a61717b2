/*
 * tt_sgd.c - the element updates of SGD: gradient scaling (tt_scale_grad), the rounding steps
 * (stochastic, nearest, truncate; saturation) of int8 weights and int32 biases, tt_sgd_update_*
 * on a slice, and the element updates the fused kernels share (a block of weight-gradient sums,
 * a range of bias channels).
 *
 * Layer: bottom (calls no other runtime file). The fused updates of tt_update.c and the fused
 * expand + depthwise input gradient of tt_backward.c (its bias update) call it.
 *
 * The step of an update is exact given its float32 delta (docs/numerics.md). Deltas smaller
 * than 2^30 in magnitude (every step that matters for an int8 weight, and all but the largest
 * for a bias) take an int32 path: a few float instructions, one conversion to a 32-bit integer
 * (a single VCVT on the Cortex-M7, which has no 64-bit conversion) and an integer carry. NaN and
 * larger deltas take the 64-bit path the int32 one is derived from; both give the same steps.
 */
#include <math.h>

#include "tt_internal.h"

/* ----------------------------------------------------------------------- scale_grad */

static float scale_by_power(float value, float scale, int32_t power)
{
    for (int32_t i = 0; i < power; ++i) {
        value *= scale;
    }
    for (int32_t i = 0; i > power; --i) {
        value /= scale;
    }
    return value;
}

/* out[i] = scale_by_power(in[i], scale, power) for i < count (in == out allowed), with the
 * common powers out of the loop. */
static void scale_values(size_t count, float scale, int32_t power, const float *in, float *out)
{
    switch (power) {
    case 0:
        for (size_t i = 0; i < count; ++i) {
            out[i] = in[i];
        }
        break;
    case 1:
        for (size_t i = 0; i < count; ++i) {
            out[i] = in[i] * scale;
        }
        break;
    case -1:
        for (size_t i = 0; i < count; ++i) {
            out[i] = in[i] / scale;
        }
        break;
    default:
        for (size_t i = 0; i < count; ++i) {
            out[i] = scale_by_power(in[i], scale, power);
        }
        break;
    }
}

void tt_scale_grad(int32_t rows, size_t row_size, const float *scale, const int32_t *channels,
                   int32_t power, const float *grad, float *output)
{
    for (int32_t r = 0; r < rows; ++r) {
        const int32_t o = channels != NULL ? channels[r] : r;
        const size_t offset = (size_t)r * row_size;
        scale_values(row_size, scale[o], power, grad + offset, output + offset);
    }
}

/* ----------------------------------------------------------------------- rounding */

/* A float32 delta as floor(delta) + (fraction + f) / 2^32 with an integer fraction in
 * [0, 2^32) and 0 <= f < 1: the exact fraction of delta truncated to 32 bits. Since the random
 * number is an integer in units of 2^-32, floor(delta + bits / 2^32) = whole + carry of
 * (fraction + bits) >= 2^32 exactly, without ever forming the rounded float sum. */
typedef struct {
    int64_t whole;
    uint64_t fraction;
} split_delta;

/* Steps this large saturate any int32 parameter, so larger deltas are clamped to it. */
static const float STEP_LIMIT = 0x1p33f;
static const float TWO_POW_32 = 0x1p32f;

static split_delta split(float delta)
{
    split_delta parts;
    const float whole = floorf(delta);
    parts.whole = (int64_t)whole;
    if (whole == -1.0f && delta > -1.0f) {
        /* delta in (-1, 0): delta + 1 would round, but delta * 2^32 is exact */
        parts.fraction = (uint64_t)((int64_t)floorf(delta * TWO_POW_32) + ((int64_t)1 << 32));
    } else {
        /* delta - floor(delta) is exact here (Sterbenz), and so is the scaling by 2^32 */
        parts.fraction = (uint64_t)floorf((delta - whole) * TWO_POW_32);
    }
    return parts;
}

/* The integer step of any delta (NaN: 0): stochastic floor(delta + bits / 2^32), nearest
 * floor(delta + 1/2), truncate trunc(delta); exact given the float32 delta. */
static int64_t wide_step(float delta, tt_rounding rounding, uint32_t random_bits)
{
    if (delta != delta) {
        return 0;
    }
    if (delta > STEP_LIMIT) {
        delta = STEP_LIMIT;
    } else if (delta < -STEP_LIMIT) {
        delta = -STEP_LIMIT;
    }
    if (rounding == TT_ROUND_TRUNCATE) {
        return (int64_t)truncf(delta);
    }
    const uint64_t added = rounding == TT_ROUND_STOCHASTIC ? random_bits : UINT64_C(1) << 31;
    const split_delta parts = split(delta);
    return parts.whole + (parts.fraction + added >= (UINT64_C(1) << 32) ? 1 : 0);
}

/* Deltas below this magnitude take small_step (their steps fit in int32 with room to spare). */
static const float SMALL_DELTA = 0x1p30f;

/*
 * floor(delta + bits / 2^32) for |delta| < 2^30, exactly, in 32 bits. With whole = trunc(delta)
 * the rest r = delta - whole is exact (|delta| < 1: r = delta; else delta and whole are within
 * a factor of 2, Sterbenz) and lies in (-1, 1), so floor(r + bits / 2^32) is
 * - for r >= 0: the carry of floor(r * 2^32) + bits out of 32 bits (r * 2^32 is exact and
 *   below 2^32, and bits is an integer);
 * - for r < 0: 0 when bits >= -r * 2^32, i.e. bits >= ceil(-r * 2^32) (at most 2^32 - 2^8,
 *   since r >= -(1 - 2^-24)), else -1.
 * This is wide_step's floor(delta) + carry, derived around trunc instead of floor.
 */
static TT_ALWAYS_INLINE int32_t small_floor_step(float delta, uint32_t bits)
{
    const float whole = truncf(delta);
    const float rest = delta - whole;
    if (rest >= 0.0f) {
        const uint32_t fraction = (uint32_t)(rest * TWO_POW_32);
        return (int32_t)whole + (int32_t)((uint32_t)(fraction + bits) < fraction);
    }
    const uint32_t needed = (uint32_t)ceilf(rest * -TWO_POW_32);
    return (int32_t)whole - (int32_t)(bits < needed);
}

/* wide_step for |delta| < SMALL_DELTA. */
static TT_ALWAYS_INLINE int32_t small_step(float delta, tt_rounding rounding, uint32_t bits)
{
    if (rounding == TT_ROUND_TRUNCATE) {
        return (int32_t)delta;
    }
    return small_floor_step(delta, rounding == TT_ROUND_STOCHASTIC ? bits : UINT32_C(1) << 31);
}

/* Below this magnitude, deltas take tiny_step: every step of the updates' typical deltas. */
static const float TINY_DELTA = 0.5f;

/*
 * wide_step for |delta| < 1/2: nearest and truncate give 0; stochastic gives
 * floor(delta + bits / 2^32) = floor((F + bits) / 2^32) with F = floor(delta * 2^32), exact
 * (delta * 2^32 is, and F + bits is an integer), and F in [-2^31, 2^31): that is the carry of
 * (F mod 2^32) + bits out of 32 bits, minus 1 when F < 0.
 */
static TT_ALWAYS_INLINE int32_t tiny_step(float delta, tt_rounding rounding, uint32_t bits)
{
    if (rounding != TT_ROUND_STOCHASTIC) {
        return 0;
    }
    const int32_t fixed = (int32_t)floorf(delta * TWO_POW_32);
    const uint32_t carry = (uint32_t)(((uint64_t)(uint32_t)fixed + bits) >> 32);
    return (int32_t)carry - (int32_t)((uint32_t)fixed >> 31);
}

/* One element: value - step(delta), saturated to [-127, 127] / the int32 range. */
static TT_ALWAYS_INLINE int8_t updated_s8(int8_t value, float delta, tt_rounding rounding,
                                          uint32_t bits)
{
    const float magnitude = fabsf(delta);
    int32_t moved;
    if (magnitude < TINY_DELTA) {
        moved = (int32_t)value - tiny_step(delta, rounding, bits);
    } else if (magnitude < SMALL_DELTA) {
        moved = (int32_t)value - small_step(delta, rounding, bits);
    } else {
        return (int8_t)tt_clamp_i64((int64_t)value - wide_step(delta, rounding, bits), -127, 127);
    }
    moved = moved > 127 ? 127 : moved;
    return (int8_t)(moved < -127 ? -127 : moved);
}

static TT_ALWAYS_INLINE int32_t updated_s32(int32_t value, float delta, tt_rounding rounding,
                                            uint32_t bits)
{
    const float magnitude = fabsf(delta);
    int64_t step;
    if (magnitude < TINY_DELTA) {
        step = tiny_step(delta, rounding, bits);
    } else if (magnitude < SMALL_DELTA) {
        step = small_step(delta, rounding, bits);
    } else {
        step = wide_step(delta, rounding, bits);
    }
    return tt_clamp_i64((int64_t)value - step, INT32_MIN, INT32_MAX);
}

/* ----------------------------------------------------------------------- element runs */

/*
 * `count` consecutive gradient elements: element j (RNG number u(counter + j)) updates
 * param[columns ? columns[j] : j] by the step of delta = learning_rate_x_scale * grad[j].
 * The loops are written once (apply_*_loop) and instantiated per rounding mode, so that the
 * mode is decided once per run and not per element.
 */
static TT_ALWAYS_INLINE void apply_s8_loop(int8_t *param, const int32_t *columns, const float *grad,
                                 size_t count, float rate, tt_rounding rounding, uint32_t counter)
{
    for (size_t j = 0; j < count; ++j) {
        const size_t k = columns != NULL ? (size_t)columns[j] : j;
        const uint32_t bits =
            rounding == TT_ROUND_STOCHASTIC ? tt_hash32_inline(counter + (uint32_t)j) : 0u;
        param[k] = updated_s8(param[k], rate * grad[j], rounding, bits);
    }
}

static void apply_s8(int8_t *param, const int32_t *columns, const float *grad, size_t count,
                     float rate, tt_rounding rounding, uint32_t counter)
{
    if (columns == NULL) {
        switch (rounding) {
        case TT_ROUND_STOCHASTIC:
            apply_s8_loop(param, NULL, grad, count, rate, TT_ROUND_STOCHASTIC, counter);
            return;
        case TT_ROUND_NEAREST:
            apply_s8_loop(param, NULL, grad, count, rate, TT_ROUND_NEAREST, counter);
            return;
        default:
            apply_s8_loop(param, NULL, grad, count, rate, TT_ROUND_TRUNCATE, counter);
            return;
        }
    }
    switch (rounding) {
    case TT_ROUND_STOCHASTIC:
        apply_s8_loop(param, columns, grad, count, rate, TT_ROUND_STOCHASTIC, counter);
        return;
    case TT_ROUND_NEAREST:
        apply_s8_loop(param, columns, grad, count, rate, TT_ROUND_NEAREST, counter);
        return;
    default:
        apply_s8_loop(param, columns, grad, count, rate, TT_ROUND_TRUNCATE, counter);
        return;
    }
}

static void apply_s32(int32_t *param, const int32_t *columns, const float *grad, size_t count,
                      float rate, tt_rounding rounding, uint32_t counter)
{
    for (size_t j = 0; j < count; ++j) {
        const size_t k = columns != NULL ? (size_t)columns[j] : j;
        const uint32_t bits =
            rounding == TT_ROUND_STOCHASTIC ? tt_hash32_inline(counter + (uint32_t)j) : 0u;
        param[k] = updated_s32(param[k], rate * grad[j], rounding, bits);
    }
}

/* ----------------------------------------------------------------------- sgd_update */

size_t tt_param_slice_count(const tt_param_slice *slice)
{
    const int32_t kept = slice->channels != NULL ? slice->channel_count : slice->axis_size;
    return (size_t)slice->outer * (size_t)kept * (size_t)slice->inner;
}

/* The runs of a slice's gradient in row-major order: [outer, kept channels, inner]. With
 * inner == 1 a run is one `outer` index over the kept channels (through the channel map),
 * else one (outer, channel) pair over `inner` contiguous elements. */
typedef void (*run_update)(void *param, size_t offset, const int32_t *columns, const float *grad,
                           size_t count, const tt_sgd *sgd, float rate, uint32_t counter);

static void run_s8(void *param, size_t offset, const int32_t *columns, const float *grad,
                   size_t count, const tt_sgd *sgd, float rate, uint32_t counter)
{
    apply_s8((int8_t *)param + offset, columns, grad, count, rate, sgd->rounding, counter);
}

static void run_s32(void *param, size_t offset, const int32_t *columns, const float *grad,
                    size_t count, const tt_sgd *sgd, float rate, uint32_t counter)
{
    apply_s32((int32_t *)param + offset, columns, grad, count, rate, sgd->rounding, counter);
}

static void sgd_update(const tt_param_slice *slice, const tt_sgd *sgd, const float *grad,
                       void *param, run_update run)
{
    const size_t count = tt_param_slice_count(slice);
    const uint32_t counter = *sgd->rng_counter;
    const float rate = tt_sgd_rate(sgd);
    const size_t kept = (size_t)(slice->channels != NULL ? slice->channel_count : slice->axis_size);
    const size_t axis = (size_t)slice->axis_size;
    const size_t inner = (size_t)slice->inner;
    size_t element = 0;
    for (size_t outer = 0; outer < (size_t)slice->outer; ++outer) {
        if (inner == 1) {
            run(param, outer * axis, slice->channels, grad + element, kept, sgd, rate,
                counter + (uint32_t)element);
            element += kept;
            continue;
        }
        for (size_t k = 0; k < kept; ++k, element += inner) {
            const size_t channel = slice->channels != NULL ? (size_t)slice->channels[k] : k;
            run(param, (outer * axis + channel) * inner, NULL, grad + element, inner, sgd, rate,
                counter + (uint32_t)element);
        }
    }
    tt_sgd_advance(sgd, count);
}

void tt_sgd_advance(const tt_sgd *sgd, size_t count)
{
    if (sgd->rounding == TT_ROUND_STOCHASTIC) {
        *sgd->rng_counter = (uint32_t)(*sgd->rng_counter + (uint32_t)count);
    }
}

void tt_sgd_update_s8(const tt_param_slice *slice, const tt_sgd *sgd, const float *grad,
                      int8_t *param)
{
    sgd_update(slice, sgd, grad, param, run_s8);
}

void tt_sgd_update_s32(const tt_param_slice *slice, const tt_sgd *sgd, const float *grad,
                       int32_t *param)
{
    sgd_update(slice, sgd, grad, param, run_s32);
}

/* ----------------------------------------------------------------------- fused weight blocks */

/* value * scale ^ power (tt_scale_grad's rule), the common powers without a loop. */
static TT_ALWAYS_INLINE float scaled_by_power(float value, float scale, int32_t power)
{
    switch (power) {
    case -1:
        return value / scale;
    case 0:
        return value;
    case 1:
        return value * scale;
    default:
        return scale_by_power(value, scale, power);
    }
}

/* The gradient element of a sum (tt_conv2d_grad_weight's `* input_scale`), scaled by
 * tt_scale_grad's rule. */
static TT_ALWAYS_INLINE float scaled_gradient(float sum, float input_scale, float scale,
                                              int32_t power)
{
    return scaled_by_power(sum * input_scale, scale, power);
}

/* tt_sgd_update_block in one rounding mode and power. Every value the loop needs is a local:
 * the int8 stores could alias anything in memory. */
static TT_ALWAYS_INLINE void update_elements(const tt_sgd_block *b, float input_scale,
                                             int32_t power, float rate, tt_rounding rounding,
                                             int mapped)
{
    const int32_t *columns = b->columns;
    const float *sums = b->sums;
    int8_t *param = b->param;
    uint32_t counter = b->counter;
    for (int32_t i = 0; i < b->rows; ++i) {
        const float scale = b->scale[i];
        for (int32_t j = 0; j < b->cols; ++j) {
            const size_t k = mapped ? (size_t)columns[j] : (size_t)j;
            const float delta = rate * scaled_gradient(sums[j], input_scale, scale, power);
            const uint32_t bits =
                rounding == TT_ROUND_STOCHASTIC ? tt_hash32_inline(counter + (uint32_t)j) : 0u;
            param[k] = updated_s8(param[k], delta, rounding, bits);
        }
        sums += b->cols;
        param += b->row_step;
        counter += b->row_elements;
    }
}

/* update_elements instantiated per rounding mode and column map, with QAS's power -1 apart. */
#define UPDATE_ELEMENTS_MAPPED(power_value, rounding_value)                                    \
    do {                                                                                       \
        if (b->columns != NULL) {                                                              \
            update_elements(b, input_scale, power_value, rate, rounding_value, 1);             \
        } else {                                                                               \
            update_elements(b, input_scale, power_value, rate, rounding_value, 0);             \
        }                                                                                      \
    } while (0)

void tt_sgd_update_block(const tt_sgd_block *b, float input_scale, int32_t power, float rate,
                         tt_rounding rounding)
{
    if (power == -1) {
        switch (rounding) {
        case TT_ROUND_STOCHASTIC:
            UPDATE_ELEMENTS_MAPPED(-1, TT_ROUND_STOCHASTIC);
            return;
        case TT_ROUND_NEAREST:
            UPDATE_ELEMENTS_MAPPED(-1, TT_ROUND_NEAREST);
            return;
        default:
            UPDATE_ELEMENTS_MAPPED(-1, TT_ROUND_TRUNCATE);
            return;
        }
    }
    switch (rounding) {
    case TT_ROUND_STOCHASTIC:
        UPDATE_ELEMENTS_MAPPED(power, TT_ROUND_STOCHASTIC);
        return;
    case TT_ROUND_NEAREST:
        UPDATE_ELEMENTS_MAPPED(power, TT_ROUND_NEAREST);
        return;
    default:
        UPDATE_ELEMENTS_MAPPED(power, TT_ROUND_TRUNCATE);
        return;
    }
}

#undef UPDATE_ELEMENTS_MAPPED

/* ----------------------------------------------------------------------- bias channels */

/* bias[j] for j < count updated by grad[j] * scale[j] ^ power with u(counter + j), in one
 * rounding mode and power. */
static TT_ALWAYS_INLINE void update_bias(int32_t *bias, const float *grad, const float *scale,
                                         int32_t count, int32_t power, float rate,
                                         uint32_t counter, tt_rounding rounding)
{
    for (int32_t j = 0; j < count; ++j) {
        const float delta = rate * scaled_by_power(grad[j], scale[j], power);
        const uint32_t bits =
            rounding == TT_ROUND_STOCHASTIC ? tt_hash32_inline(counter + (uint32_t)j) : 0u;
        bias[j] = updated_s32(bias[j], delta, rounding, bits);
    }
}

/* update_bias instantiated per rounding mode, with QAS's power -1 apart. */
void tt_sgd_update_bias(int32_t *bias, const float *grad, const float *scale, int32_t count,
                        int32_t power, const tt_sgd *sgd, uint32_t counter)
{
    const float rate = tt_sgd_rate(sgd);
    if (power == -1) {
        switch (sgd->rounding) {
        case TT_ROUND_STOCHASTIC:
            update_bias(bias, grad, scale, count, -1, rate, counter, TT_ROUND_STOCHASTIC);
            return;
        case TT_ROUND_NEAREST:
            update_bias(bias, grad, scale, count, -1, rate, counter, TT_ROUND_NEAREST);
            return;
        default:
            update_bias(bias, grad, scale, count, -1, rate, counter, TT_ROUND_TRUNCATE);
            return;
        }
    }
    switch (sgd->rounding) {
    case TT_ROUND_STOCHASTIC:
        update_bias(bias, grad, scale, count, power, rate, counter, TT_ROUND_STOCHASTIC);
        return;
    case TT_ROUND_NEAREST:
        update_bias(bias, grad, scale, count, power, rate, counter, TT_ROUND_NEAREST);
        return;
    default:
        update_bias(bias, grad, scale, count, power, rate, counter, TT_ROUND_TRUNCATE);
        return;
    }
}

void tt_bias_update_channel(int32_t channels, int32_t channel, float grad, const float *bias_scale,
                            int32_t power, const tt_sgd *sgd, uint32_t counter, int32_t *bias)
{
    (void)channels;
    tt_sgd_update_bias(bias + channel, &grad, bias_scale + channel, 1, power, sgd,
                       counter + (uint32_t)channel);
}
