/*
 * tt_update.c - gradient scaling, SGD updates of int8 weights and int32 biases (stochastic,
 * nearest, truncate rounding; saturation), and the fused gradient + update kernels.
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

void tt_scale_row(size_t count, float scale, int32_t power, const float *row, float *out)
{
    for (size_t i = 0; i < count; ++i) {
        out[i] = scale_by_power(row[i], scale, power);
    }
}

void tt_scale_grad(int32_t rows, size_t row_size, const float *scale, const int32_t *channels,
                   int32_t power, const float *grad, float *output)
{
    for (int32_t r = 0; r < rows; ++r) {
        const int32_t o = channels != NULL ? channels[r] : r;
        const size_t offset = (size_t)r * row_size;
        tt_scale_row(row_size, scale[o], power, grad + offset, output + offset);
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

/* The integer step of a delta: stochastic floor(delta + bits / 2^32), nearest floor(delta +
 * 1/2), truncate trunc(delta); exact given the float32 delta. */
static int64_t rounded_step(float delta, tt_rounding rounding, uint32_t random_bits)
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

/* ----------------------------------------------------------------------- sgd_update */

size_t tt_param_slice_count(const tt_param_slice *slice)
{
    const int32_t kept = slice->channels != NULL ? slice->channel_count : slice->axis_size;
    return (size_t)slice->outer * (size_t)kept * (size_t)slice->inner;
}

/* Walks the parameter indices of a slice's gradient elements in row-major order. */
typedef struct {
    const tt_param_slice *slice;
    size_t kept;  /* channels kept on the axis */
    size_t outer; /* position of the current element: [outer, channel, inner] */
    size_t channel;
    size_t inner;
} slice_cursor;

static slice_cursor cursor_at(const tt_param_slice *slice, size_t element)
{
    slice_cursor cursor;
    cursor.slice = slice;
    cursor.kept = (size_t)(slice->channels != NULL ? slice->channel_count : slice->axis_size);
    const size_t inner = (size_t)slice->inner;
    cursor.inner = element % inner;
    cursor.channel = (element / inner) % cursor.kept;
    cursor.outer = element / inner / cursor.kept;
    return cursor;
}

static size_t cursor_param_index(const slice_cursor *cursor)
{
    const tt_param_slice *s = cursor->slice;
    const size_t channel =
        s->channels != NULL ? (size_t)s->channels[cursor->channel] : cursor->channel;
    return (cursor->outer * (size_t)s->axis_size + channel) * (size_t)s->inner + cursor->inner;
}

static void cursor_next(slice_cursor *cursor)
{
    if (++cursor->inner < (size_t)cursor->slice->inner) {
        return;
    }
    cursor->inner = 0;
    if (++cursor->channel < cursor->kept) {
        return;
    }
    cursor->channel = 0;
    ++cursor->outer;
}

/* The delta of one element: (learning_rate * grad_scale) * grad. */
static float update_delta(const tt_sgd *sgd, float grad)
{
    return (sgd->learning_rate * sgd->grad_scale) * grad;
}

static uint32_t random_bits(const tt_sgd *sgd, uint32_t counter, size_t element)
{
    if (sgd->rounding != TT_ROUND_STOCHASTIC) {
        return 0;
    }
    return tt_hash32((uint32_t)(counter + (uint32_t)element));
}

void tt_sgd_apply_s8(const tt_param_slice *slice, const tt_sgd *sgd, uint32_t counter,
                     size_t first, size_t count, const float *grad, int8_t *param)
{
    slice_cursor cursor = cursor_at(slice, first);
    for (size_t i = 0; i < count; ++i, cursor_next(&cursor)) {
        const int64_t step = rounded_step(update_delta(sgd, grad[i]), sgd->rounding,
                                          random_bits(sgd, counter, first + i));
        int8_t *value = param + cursor_param_index(&cursor);
        *value = (int8_t)tt_clamp_i64((int64_t)*value - step, -127, 127);
    }
}

void tt_sgd_apply_s32(const tt_param_slice *slice, const tt_sgd *sgd, uint32_t counter,
                      size_t first, size_t count, const float *grad, int32_t *param)
{
    slice_cursor cursor = cursor_at(slice, first);
    for (size_t i = 0; i < count; ++i, cursor_next(&cursor)) {
        const int64_t step = rounded_step(update_delta(sgd, grad[i]), sgd->rounding,
                                          random_bits(sgd, counter, first + i));
        int32_t *value = param + cursor_param_index(&cursor);
        *value = tt_clamp_i64((int64_t)*value - step, INT32_MIN, INT32_MAX);
    }
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
    const size_t count = tt_param_slice_count(slice);
    tt_sgd_apply_s8(slice, sgd, *sgd->rng_counter, 0, count, grad, param);
    tt_sgd_advance(sgd, count);
}

void tt_sgd_update_s32(const tt_param_slice *slice, const tt_sgd *sgd, const float *grad,
                       int32_t *param)
{
    const size_t count = tt_param_slice_count(slice);
    tt_sgd_apply_s32(slice, sgd, *sgd->rng_counter, 0, count, grad, param);
    tt_sgd_advance(sgd, count);
}

/* ----------------------------------------------------------------------- fused updates */

/* The weight slice a conv weight gradient covers (as tt.sgd_update's channels / channel_axis:
 * axis 3 for a regular conv, axis 0 for a depthwise conv). */
static tt_param_slice conv_weight_slice(const tt_conv_shape *s, const int32_t *channels,
                                        int32_t channel_count)
{
    const int32_t taps = s->kernel_h * s->kernel_w;
    const int32_t in_per_group = s->input_c / s->groups;
    tt_param_slice slice = {1, s->output_c, taps * in_per_group, NULL, 0};
    if (channels != NULL && s->groups == 1) {
        slice.outer = s->output_c * taps;
        slice.axis_size = in_per_group;
        slice.inner = 1;
    }
    slice.channels = channels;
    slice.channel_count = channel_count;
    return slice;
}

void tt_conv2d_weight_update_into(const tt_conv_shape *shape, float input_scale,
                                  int32_t input_zero_point, const int8_t *input,
                                  const float *grad_output, const int32_t *channels,
                                  int32_t channel_count, const float *weight_scale,
                                  int32_t power, const tt_sgd *sgd,
                                  const tt_param_slice *target, int8_t *param, float *scratch)
{
    const tt_weight_grad_layout layout =
        tt_conv2d_weight_grad_layout(shape, channels, channel_count);
    const size_t row_size = tt_conv2d_weight_grad_row_size(shape, channels, channel_count);
    const uint32_t counter = *sgd->rng_counter;
    for (int32_t row = 0; row < layout.rows; ++row) {
        tt_conv2d_weight_grad_row(shape, &layout, input_scale, input_zero_point, input,
                                  grad_output, row, scratch);
        const float scale = weight_scale[tt_weight_grad_row_channel(&layout, row)];
        tt_scale_row(row_size, scale, power, scratch, scratch);
        tt_sgd_apply_s8(target, sgd, counter, (size_t)row * row_size, row_size, scratch, param);
    }
    tt_sgd_advance(sgd, (size_t)layout.rows * row_size);
}

void tt_conv2d_weight_update(const tt_conv_shape *shape, float input_scale,
                             int32_t input_zero_point, const int8_t *input,
                             const float *grad_output, const int32_t *channels,
                             int32_t channel_count, const float *weight_scale, int32_t power,
                             const tt_sgd *sgd, int8_t *weight, float *scratch)
{
    const tt_param_slice slice = conv_weight_slice(shape, channels, channel_count);
    tt_conv2d_weight_update_into(shape, input_scale, input_zero_point, input, grad_output,
                                 channels, channel_count, weight_scale, power, sgd, &slice,
                                 weight, scratch);
}

void tt_linear_weight_update_into(int32_t batch, int32_t in_features, int32_t out_features,
                                  float input_scale, int32_t input_zero_point,
                                  const int8_t *input, const float *grad_output,
                                  const int32_t *columns, int32_t column_count,
                                  const float *weight_scale, int32_t power, const tt_sgd *sgd,
                                  const tt_param_slice *target, int8_t *param, float *scratch)
{
    const size_t row_size = (size_t)(columns != NULL ? column_count : in_features);
    const uint32_t counter = *sgd->rng_counter;
    for (int32_t row = 0; row < out_features; ++row) {
        tt_linear_weight_grad_row(batch, in_features, out_features, input_scale,
                                  input_zero_point, input, grad_output, columns, column_count,
                                  row, scratch);
        tt_scale_row(row_size, weight_scale[row], power, scratch, scratch);
        tt_sgd_apply_s8(target, sgd, counter, (size_t)row * row_size, row_size, scratch, param);
    }
    tt_sgd_advance(sgd, (size_t)out_features * row_size);
}

void tt_linear_weight_update(int32_t batch, int32_t in_features, int32_t out_features,
                             float input_scale, int32_t input_zero_point, const int8_t *input,
                             const float *grad_output, const int32_t *columns,
                             int32_t column_count, const float *weight_scale, int32_t power,
                             const tt_sgd *sgd, int8_t *weight, float *scratch)
{
    const tt_param_slice slice = {out_features, in_features, 1, columns, column_count};
    tt_linear_weight_update_into(batch, in_features, out_features, input_scale,
                                 input_zero_point, input, grad_output, columns, column_count,
                                 weight_scale, power, sgd, &slice, weight, scratch);
}

void tt_bias_update_channel(int32_t channels, int32_t channel, float grad, const float *bias_scale,
                            int32_t power, const tt_sgd *sgd, uint32_t counter, int32_t *bias)
{
    const tt_param_slice slice = {1, channels, 1, NULL, 0};
    tt_scale_row(1, bias_scale[channel], power, &grad, &grad);
    tt_sgd_apply_s32(&slice, sgd, counter, (size_t)channel, 1, &grad, bias);
}

void tt_bias_update(size_t positions, int32_t channels, const float *grad_output,
                    const float *bias_scale, int32_t power, const tt_sgd *sgd, int32_t *bias)
{
    const uint32_t counter = *sgd->rng_counter;
    for (int32_t c = 0; c < channels; ++c) {
        const float grad = tt_bias_grad_channel(positions, channels, grad_output, c);
        tt_bias_update_channel(channels, c, grad, bias_scale, power, sgd, counter, bias);
    }
    tt_sgd_advance(sgd, (size_t)channels);
}
