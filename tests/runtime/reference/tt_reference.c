/*
 * tt_reference.c - the backward and update kernels of the runtime as they were before they
 * were blocked for speed (runtime_c at commit def32a4), renamed ref_*: the literal loops of
 * the float32 orders documented in tt_runtime.h, kept as the oracle that the optimised kernels
 * must match bit for bit (tests/runtime/test_runtime_reference.py). Do not optimise this file.
 */
#include <math.h>
#include <string.h>

#include "tt_reference.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* The update RNG's mixing function (numerics.hash32). */
static uint32_t ref_hash32(uint32_t x)
{
    x ^= x >> 16;
    x = (uint32_t)(x * UINT32_C(0x7feb352d));
    x ^= x >> 15;
    x = (uint32_t)(x * UINT32_C(0x846ca68b));
    x ^= x >> 16;
    return x;
}

static int ref_conv_shape_is_valid(const tt_conv_shape *s)
{
    return tt_conv_shape_is_valid(s);
}

/* Offset of element (n, h, w, c) of an NHWC tensor of the given height, width and channels. */
static inline size_t ref_nhwc_offset(int32_t height, int32_t width, int32_t channels, int32_t n,
                                    int32_t h, int32_t w, int32_t c)
{
    return (((size_t)n * (size_t)height + (size_t)h) * (size_t)width + (size_t)w) *
               (size_t)channels + (size_t)c;
}

/* Bit i of a ref_clamp_mask mask (bit i % 8 of byte i / 8): 1 where the gradient passes. */
static inline int ref_mask_bit(const uint8_t *mask, size_t i)
{
    return (mask[i / 8u] >> (i % 8u)) & 1u;
}

/* 1 when every one of the `count` sizes is positive, else 0 (the shape validity checks). */
static inline int ref_all_positive(const int32_t *sizes, size_t count)
{
    for (size_t i = 0; i < count; ++i) {
        if (sizes[i] < 1) {
            return 0;
        }
    }
    return 1;
}

static inline int32_t ref_clamp_i64(int64_t value, int32_t low, int32_t high)
{
    if (value < low) {
        return low;
    }
    if (value > high) {
        return high;
    }
    return (int32_t)value;
}



static inline ref_weight_rows ref_complete_rows(const int8_t *weight, size_t row_size)
{
    ref_weight_rows rows;
    rows.weight = weight;
    rows.split = NULL;
    rows.row_size = row_size;
    rows.cols = 0;
    rows.scratch = NULL;
    return rows;
}

/* Row o of the weight; valid until the next call with the same rows. */
static inline const int8_t *ref_weight_row(const ref_weight_rows *rows, int32_t o)
{
    if (rows->split == NULL) {
        return rows->weight + (size_t)o * rows->row_size;
    }
    return ref_split_row(rows, o);
}

/* int8 values per row of a conv weight: kernel_h * kernel_w * input_c / groups. */
static inline size_t ref_conv2d_weight_row_size(const tt_conv_shape *shape)
{
    return (size_t)shape->kernel_h * (size_t)shape->kernel_w *
           (size_t)(shape->input_c / shape->groups);
}


/* The output channel of gradient row `row`. */
static inline int32_t ref_weight_grad_row_channel(const ref_weight_grad_layout *layout,
                                                 int32_t row)
{
    return layout->row_channels != NULL ? layout->row_channels[row] : row;
}


static void zero_floats(float *out, size_t count)
{
    for (size_t i = 0; i < count; ++i) {
        out[i] = 0.0f;
    }
}

/* acc[j] += (x[k_j] - zero_point) * g for j < count, k_j = selected[j] (a channel subset) or j. */
static void accumulate_products(float *acc, const int8_t *x, const int32_t *selected,
                                int32_t count, int32_t zero_point, float g)
{
    if (selected != NULL) {
        for (int32_t j = 0; j < count; ++j) {
            acc[j] += (float)((int32_t)x[selected[j]] - zero_point) * g;
        }
    } else {
        for (int32_t j = 0; j < count; ++j) {
            acc[j] += (float)((int32_t)x[j] - zero_point) * g;
        }
    }
}

/* ----------------------------------------------------------------------- conv2d */

/* grad_input[n, ih, iw, first_channel + c] += w_row[kh, kw, c] * scaled for one output
 * position (n, oh, ow) and channel: each element gets one product, so their order is free. */
static void scatter_row(const tt_conv_shape *s, int32_t n, int32_t oh, int32_t ow,
                        int32_t first_channel, const int8_t *w_row, float scaled,
                        float *grad_input)
{
    const int32_t in_per_group = s->input_c / s->groups;
    const int8_t *w = w_row;
    for (int32_t kh = 0; kh < s->kernel_h; ++kh) {
        const int32_t ih = oh * s->stride_h - s->pad_h + kh;
        if (ih < 0 || ih >= s->input_h) {
            w += (size_t)s->kernel_w * (size_t)in_per_group;
            continue;
        }
        for (int32_t kw = 0; kw < s->kernel_w; ++kw, w += in_per_group) {
            const int32_t iw = ow * s->stride_w - s->pad_w + kw;
            if (iw < 0 || iw >= s->input_w) {
                continue;
            }
            float *gi = grad_input +
                        ref_nhwc_offset(s->input_h, s->input_w, s->input_c, n, ih, iw, first_channel);
            for (int32_t c = 0; c < in_per_group; ++c) {
                gi[c] += (float)w[c] * scaled;
            }
        }
    }
}

/* The input-gradient terms of one output channel: scatter_row for every output position in
 * raster order whose gradient g[p * g_stride] (p the position's index) is nonzero, scaled by
 * `scale`; first_channel as in scatter_row. */
static void scatter_channel(const tt_conv_shape *s, const float *g, size_t g_stride,
                            int32_t first_channel, const int8_t *w_row, float scale,
                            float *grad_input)
{
    size_t p = 0;
    for (int32_t n = 0; n < s->batch; ++n) {
        for (int32_t oh = 0; oh < s->output_h; ++oh) {
            for (int32_t ow = 0; ow < s->output_w; ++ow, ++p) {
                const float value = g[p * g_stride];
                if (value != 0.0f) {
                    scatter_row(s, n, oh, ow, first_channel, w_row, value * scale, grad_input);
                }
            }
        }
    }
}

void ref_conv2d_grad_input_rows(const tt_conv_shape *s, const float *grad_output,
                               const ref_weight_rows *rows, const float *weight_scale,
                               float *grad_input)
{
    const int32_t in_per_group = s->input_c / s->groups;
    const int32_t out_per_group = s->output_c / s->groups;
    zero_floats(grad_input, (size_t)s->batch * (size_t)s->input_h * (size_t)s->input_w *
                                (size_t)s->input_c);
    for (int32_t n = 0; n < s->batch; ++n) {
        for (int32_t oh = 0; oh < s->output_h; ++oh) {
            for (int32_t ow = 0; ow < s->output_w; ++ow) {
                const float *g = grad_output + ref_nhwc_offset(s->output_h, s->output_w,
                                                              s->output_c, n, oh, ow, 0);
                for (int32_t o = 0; o < s->output_c; ++o) {
                    if (g[o] == 0.0f) {
                        continue;
                    }
                    scatter_row(s, n, oh, ow, (o / out_per_group) * in_per_group,
                                ref_weight_row(rows, o), g[o] * weight_scale[o], grad_input);
                }
            }
        }
    }
}

void ref_conv2d_grad_input(const tt_conv_shape *shape, const float *grad_output,
                          const int8_t *weight, const float *weight_scale, float *grad_input)
{
    const ref_weight_rows rows = ref_complete_rows(weight, ref_conv2d_weight_row_size(shape));
    ref_conv2d_grad_input_rows(shape, grad_output, &rows, weight_scale, grad_input);
}

void ref_depthwise_grad_input_in_place_rows(const tt_conv_shape *s, float *grad,
                                           const ref_weight_rows *rows, const float *weight_scale,
                                           float *plane)
{
    const int32_t channels = s->input_c;
    const size_t pixels = (size_t)s->batch * (size_t)s->output_h * (size_t)s->output_w;
    for (int32_t c = 0; c < channels; ++c) {
        for (size_t p = 0; p < pixels; ++p) {
            plane[p] = grad[p * (size_t)channels + (size_t)c];
            grad[p * (size_t)channels + (size_t)c] = 0.0f;
        }
        scatter_channel(s, plane, 1, c, ref_weight_row(rows, c), weight_scale[c], grad);
    }
}

void ref_depthwise_grad_input_in_place(const tt_conv_shape *shape, float *grad,
                                      const int8_t *weight, const float *weight_scale,
                                      float *plane)
{
    const ref_weight_rows rows = ref_complete_rows(weight, ref_conv2d_weight_row_size(shape));
    ref_depthwise_grad_input_in_place_rows(shape, grad, &rows, weight_scale, plane);
}

/* ----------------------------------------------------------------------- expand + depthwise */

int ref_expand_depthwise_shapes_are_valid(const tt_conv_shape *depthwise,
                                         const tt_conv_shape *expand)
{
    const tt_conv_shape *d = depthwise;
    const tt_conv_shape *e = expand;
    return ref_conv_shape_is_valid(d) && ref_conv_shape_is_valid(e) && d->groups == d->input_c &&
           d->output_c == d->input_c && e->kernel_h == 1 && e->kernel_w == 1 && e->stride_h == 1 &&
           e->stride_w == 1 && e->pad_h == 0 && e->pad_w == 0 && e->groups == 1 &&
           e->batch == d->batch && e->output_h == d->input_h && e->output_w == d->input_w &&
           e->output_c == d->input_c;
}

size_t ref_expand_depthwise_grad_input_scratch_size(const tt_conv_shape *depthwise)
{
    return (size_t)depthwise->batch * (size_t)depthwise->input_h * (size_t)depthwise->input_w *
           sizeof(float);
}

void ref_expand_depthwise_grad_input(const tt_conv_shape *depthwise, const tt_conv_shape *expand,
                                    const float *grad_output, const uint8_t *mask,
                                    const int8_t *depthwise_weight, const float *depthwise_scale,
                                    const int8_t *expand_weight, const float *expand_scale,
                                    int32_t *bias, const float *bias_scale, int32_t power,
                                    const tt_sgd *sgd, float *grad_input, float *plane)
{
    const int32_t channels = depthwise->input_c;
    const size_t positions = (size_t)depthwise->batch * (size_t)depthwise->input_h *
                             (size_t)depthwise->input_w;
    const ref_weight_rows depthwise_rows =
        ref_complete_rows(depthwise_weight, ref_conv2d_weight_row_size(depthwise));
    const ref_weight_rows expand_rows =
        ref_complete_rows(expand_weight, ref_conv2d_weight_row_size(expand));
    /* channel c of the depthwise conv as a one-channel conv whose input gradient is `plane` */
    tt_conv_shape plane_shape = *depthwise;
    plane_shape.input_c = 1;
    plane_shape.output_c = 1;
    plane_shape.groups = 1;
    const uint32_t counter = bias != NULL ? *sgd->rng_counter : 0u;
    zero_floats(grad_input, positions * (size_t)expand->input_c);
    for (int32_t c = 0; c < channels; ++c) {
        /* the depthwise input gradient of channel c, in ref_conv2d_grad_input's order */
        zero_floats(plane, positions);
        scatter_channel(&plane_shape, grad_output + c, (size_t)channels, 0,
                        ref_weight_row(&depthwise_rows, c), depthwise_scale[c], plane);
        /* ref_mask_grad, then ref_bias_update of channel c */
        for (size_t p = 0; p < positions; ++p) {
            if (!ref_mask_bit(mask, p * (size_t)channels + (size_t)c)) {
                plane[p] = 0.0f;
            }
        }
        if (bias != NULL) {
            ref_bias_update_channel(channels, c, ref_bias_grad_channel(positions, 1, plane, 0),
                                   bias_scale, power, sgd, counter, bias);
        }
        /* channel c's terms of the 1x1 input gradient, the next in ref_conv2d_grad_input's order */
        scatter_channel(expand, plane, 1, 0, ref_weight_row(&expand_rows, c), expand_scale[c],
                        grad_input);
    }
    if (bias != NULL) {
        ref_sgd_advance(sgd, (size_t)channels);
    }
}

ref_weight_grad_layout ref_conv2d_weight_grad_layout(const tt_conv_shape *shape,
                                                   const int32_t *channels,
                                                   int32_t channel_count)
{
    ref_weight_grad_layout layout = {shape->output_c, shape->input_c / shape->groups, NULL, NULL};
    if (channels == NULL) {
        return layout;
    }
    if (shape->groups == 1) {
        layout.cols = channel_count;
        layout.col_channels = channels;
    } else { /* depthwise: whole rows of the chosen channels */
        layout.rows = channel_count;
        layout.row_channels = channels;
    }
    return layout;
}

size_t ref_conv2d_weight_grad_row_size(const tt_conv_shape *shape, const int32_t *channels,
                                      int32_t channel_count)
{
    const ref_weight_grad_layout layout =
        ref_conv2d_weight_grad_layout(shape, channels, channel_count);
    return (size_t)shape->kernel_h * (size_t)shape->kernel_w * (size_t)layout.cols;
}

void ref_conv2d_weight_grad_row(const tt_conv_shape *s, const ref_weight_grad_layout *layout,
                               float input_scale, int32_t input_zero_point, const int8_t *input,
                               const float *grad_output, int32_t row, float *out)
{
    const int32_t o = ref_weight_grad_row_channel(layout, row);
    const int32_t first_channel = (o / (s->output_c / s->groups)) * (s->input_c / s->groups);
    const int32_t cols = layout->cols;
    const size_t row_size = (size_t)s->kernel_h * (size_t)s->kernel_w * (size_t)cols;
    zero_floats(out, row_size);
    for (int32_t n = 0; n < s->batch; ++n) {
        for (int32_t oh = 0; oh < s->output_h; ++oh) {
            for (int32_t ow = 0; ow < s->output_w; ++ow) {
                const float g = grad_output[ref_nhwc_offset(s->output_h, s->output_w,
                                                           s->output_c, n, oh, ow, o)];
                if (g == 0.0f) {
                    continue;
                }
                for (int32_t kh = 0; kh < s->kernel_h; ++kh) {
                    const int32_t ih = oh * s->stride_h - s->pad_h + kh;
                    if (ih < 0 || ih >= s->input_h) {
                        continue;
                    }
                    for (int32_t kw = 0; kw < s->kernel_w; ++kw) {
                        const int32_t iw = ow * s->stride_w - s->pad_w + kw;
                        if (iw < 0 || iw >= s->input_w) {
                            continue;
                        }
                        const int8_t *x = input + ref_nhwc_offset(s->input_h, s->input_w,
                                                                 s->input_c, n, ih, iw, 0);
                        float *acc = out + ((size_t)kh * (size_t)s->kernel_w + (size_t)kw) *
                                               (size_t)cols;
                        accumulate_products(acc, x + first_channel, layout->col_channels, cols,
                                            input_zero_point, g);
                    }
                }
            }
        }
    }
    for (size_t i = 0; i < row_size; ++i) {
        out[i] *= input_scale;
    }
}

void ref_conv2d_grad_weight(const tt_conv_shape *shape, float input_scale,
                           int32_t input_zero_point, const int8_t *input,
                           const float *grad_output, const int32_t *channels,
                           int32_t channel_count, float *grad_weight)
{
    const ref_weight_grad_layout layout =
        ref_conv2d_weight_grad_layout(shape, channels, channel_count);
    const size_t row_size = ref_conv2d_weight_grad_row_size(shape, channels, channel_count);
    for (int32_t row = 0; row < layout.rows; ++row) {
        ref_conv2d_weight_grad_row(shape, &layout, input_scale, input_zero_point, input,
                                  grad_output, row, grad_weight + (size_t)row * row_size);
    }
}

/* ----------------------------------------------------------------------- linear */

void ref_linear_grad_input_rows(int32_t batch, int32_t in_features, int32_t out_features,
                               const float *grad_output, const ref_weight_rows *rows,
                               const float *weight_scale, float *grad_input)
{
    for (int32_t n = 0; n < batch; ++n) {
        const float *g = grad_output + (size_t)n * (size_t)out_features;
        float *gi = grad_input + (size_t)n * (size_t)in_features;
        zero_floats(gi, (size_t)in_features);
        for (int32_t o = 0; o < out_features; ++o) {
            if (g[o] == 0.0f) {
                continue;
            }
            const float scaled = g[o] * weight_scale[o];
            const int8_t *w = ref_weight_row(rows, o);
            for (int32_t k = 0; k < in_features; ++k) {
                gi[k] += (float)w[k] * scaled;
            }
        }
    }
}

void ref_linear_grad_input(int32_t batch, int32_t in_features, int32_t out_features,
                          const float *grad_output, const int8_t *weight,
                          const float *weight_scale, float *grad_input)
{
    const ref_weight_rows rows = ref_complete_rows(weight, (size_t)in_features);
    ref_linear_grad_input_rows(batch, in_features, out_features, grad_output, &rows,
                              weight_scale, grad_input);
}

void ref_linear_weight_grad_row(int32_t batch, int32_t in_features, int32_t out_features,
                               float input_scale, int32_t input_zero_point, const int8_t *input,
                               const float *grad_output, const int32_t *columns,
                               int32_t column_count, int32_t row, float *out)
{
    const int32_t cols = columns != NULL ? column_count : in_features;
    zero_floats(out, (size_t)cols);
    for (int32_t n = 0; n < batch; ++n) {
        const float g = grad_output[(size_t)n * (size_t)out_features + (size_t)row];
        if (g == 0.0f) {
            continue;
        }
        accumulate_products(out, input + (size_t)n * (size_t)in_features, columns, cols,
                            input_zero_point, g);
    }
    for (int32_t j = 0; j < cols; ++j) {
        out[j] *= input_scale;
    }
}

void ref_linear_grad_weight(int32_t batch, int32_t in_features, int32_t out_features,
                           float input_scale, int32_t input_zero_point, const int8_t *input,
                           const float *grad_output, const int32_t *columns,
                           int32_t column_count, float *grad_weight)
{
    const size_t cols = (size_t)(columns != NULL ? column_count : in_features);
    for (int32_t o = 0; o < out_features; ++o) {
        ref_linear_weight_grad_row(batch, in_features, out_features, input_scale,
                                  input_zero_point, input, grad_output, columns, column_count, o,
                                  grad_weight + (size_t)o * cols);
    }
}

/* ----------------------------------------------------------------------- elementwise */

float ref_bias_grad_channel(size_t positions, int32_t channels, const float *grad_output,
                           int32_t channel)
{
    float sum = 0.0f;
    for (size_t p = 0; p < positions; ++p) {
        sum += grad_output[p * (size_t)channels + (size_t)channel];
    }
    return sum;
}

void ref_bias_grad(size_t positions, int32_t channels, const float *grad_output,
                  float *grad_bias)
{
    for (int32_t c = 0; c < channels; ++c) {
        grad_bias[c] = ref_bias_grad_channel(positions, channels, grad_output, c);
    }
}

/* The straight-through rule of a clamp's backward: the gradient passes strictly inside the range. */
static int inside_clamp(int8_t output, int32_t act_min, int32_t act_max)
{
    return output > act_min && output < act_max;
}

void ref_clamp_grad(size_t count, int32_t act_min, int32_t act_max, const float *grad_output,
                   const int8_t *output, float *grad_input)
{
    for (size_t i = 0; i < count; ++i) {
        grad_input[i] = inside_clamp(output[i], act_min, act_max) ? grad_output[i] : 0.0f;
    }
}

void ref_clamp_mask(size_t count, int32_t act_min, int32_t act_max, const int8_t *output, uint8_t *mask)
{
    for (size_t byte = 0; byte < (count + 7u) / 8u; ++byte) {
        uint8_t bits = 0;
        for (size_t bit = 0; bit < 8u && byte * 8u + bit < count; ++bit) {
            bits |= (uint8_t)(inside_clamp(output[byte * 8u + bit], act_min, act_max) << bit);
        }
        mask[byte] = bits;
    }
}

void ref_mask_grad(size_t count, const float *grad_output, const uint8_t *mask, float *grad_input)
{
    for (size_t i = 0; i < count; ++i) {
        grad_input[i] = ref_mask_bit(mask, i) ? grad_output[i] : 0.0f;
    }
}

void ref_global_avg_pool_grad(int32_t batch, int32_t height, int32_t width, int32_t channels,
                             const float *grad_output, float *grad_input)
{
    const size_t pixels = (size_t)height * (size_t)width;
    const float count = (float)pixels;
    for (int32_t n = 0; n < batch; ++n) {
        const float *g = grad_output + (size_t)n * (size_t)channels;
        float *gi = grad_input + (size_t)n * pixels * (size_t)channels;
        for (size_t p = 0; p < pixels; ++p) {
            for (int32_t c = 0; c < channels; ++c) {
                gi[p * (size_t)channels + (size_t)c] = g[c] / count;
            }
        }
    }
}

void ref_grad_accumulate(size_t count, const float *lhs, const float *rhs, float *output)
{
    for (size_t i = 0; i < count; ++i) {
        output[i] = lhs[i] + rhs[i];
    }
}

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

void ref_scale_row(size_t count, float scale, int32_t power, const float *row, float *out)
{
    for (size_t i = 0; i < count; ++i) {
        out[i] = scale_by_power(row[i], scale, power);
    }
}

void ref_scale_grad(int32_t rows, size_t row_size, const float *scale, const int32_t *channels,
                   int32_t power, const float *grad, float *output)
{
    for (int32_t r = 0; r < rows; ++r) {
        const int32_t o = channels != NULL ? channels[r] : r;
        const size_t offset = (size_t)r * row_size;
        ref_scale_row(row_size, scale[o], power, grad + offset, output + offset);
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

size_t ref_param_slice_count(const tt_param_slice *slice)
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
    return ref_hash32((uint32_t)(counter + (uint32_t)element));
}

void ref_sgd_apply_s8(const tt_param_slice *slice, const tt_sgd *sgd, uint32_t counter,
                     size_t first, size_t count, const float *grad, int8_t *param)
{
    slice_cursor cursor = cursor_at(slice, first);
    for (size_t i = 0; i < count; ++i, cursor_next(&cursor)) {
        const int64_t step = rounded_step(update_delta(sgd, grad[i]), sgd->rounding,
                                          random_bits(sgd, counter, first + i));
        int8_t *value = param + cursor_param_index(&cursor);
        *value = (int8_t)ref_clamp_i64((int64_t)*value - step, -127, 127);
    }
}

void ref_sgd_apply_s32(const tt_param_slice *slice, const tt_sgd *sgd, uint32_t counter,
                      size_t first, size_t count, const float *grad, int32_t *param)
{
    slice_cursor cursor = cursor_at(slice, first);
    for (size_t i = 0; i < count; ++i, cursor_next(&cursor)) {
        const int64_t step = rounded_step(update_delta(sgd, grad[i]), sgd->rounding,
                                          random_bits(sgd, counter, first + i));
        int32_t *value = param + cursor_param_index(&cursor);
        *value = ref_clamp_i64((int64_t)*value - step, INT32_MIN, INT32_MAX);
    }
}

void ref_sgd_advance(const tt_sgd *sgd, size_t count)
{
    if (sgd->rounding == TT_ROUND_STOCHASTIC) {
        *sgd->rng_counter = (uint32_t)(*sgd->rng_counter + (uint32_t)count);
    }
}

void ref_sgd_update_s8(const tt_param_slice *slice, const tt_sgd *sgd, const float *grad,
                      int8_t *param)
{
    const size_t count = ref_param_slice_count(slice);
    ref_sgd_apply_s8(slice, sgd, *sgd->rng_counter, 0, count, grad, param);
    ref_sgd_advance(sgd, count);
}

void ref_sgd_update_s32(const tt_param_slice *slice, const tt_sgd *sgd, const float *grad,
                       int32_t *param)
{
    const size_t count = ref_param_slice_count(slice);
    ref_sgd_apply_s32(slice, sgd, *sgd->rng_counter, 0, count, grad, param);
    ref_sgd_advance(sgd, count);
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

void ref_conv2d_weight_update_into(const tt_conv_shape *shape, float input_scale,
                                  int32_t input_zero_point, const int8_t *input,
                                  const float *grad_output, const int32_t *channels,
                                  int32_t channel_count, const float *weight_scale,
                                  int32_t power, const tt_sgd *sgd,
                                  const tt_param_slice *target, int8_t *param, float *scratch)
{
    const ref_weight_grad_layout layout =
        ref_conv2d_weight_grad_layout(shape, channels, channel_count);
    const size_t row_size = ref_conv2d_weight_grad_row_size(shape, channels, channel_count);
    const uint32_t counter = *sgd->rng_counter;
    for (int32_t row = 0; row < layout.rows; ++row) {
        ref_conv2d_weight_grad_row(shape, &layout, input_scale, input_zero_point, input,
                                  grad_output, row, scratch);
        const float scale = weight_scale[ref_weight_grad_row_channel(&layout, row)];
        ref_scale_row(row_size, scale, power, scratch, scratch);
        ref_sgd_apply_s8(target, sgd, counter, (size_t)row * row_size, row_size, scratch, param);
    }
    ref_sgd_advance(sgd, (size_t)layout.rows * row_size);
}

void ref_conv2d_weight_update(const tt_conv_shape *shape, float input_scale,
                             int32_t input_zero_point, const int8_t *input,
                             const float *grad_output, const int32_t *channels,
                             int32_t channel_count, const float *weight_scale, int32_t power,
                             const tt_sgd *sgd, int8_t *weight, float *scratch)
{
    const tt_param_slice slice = conv_weight_slice(shape, channels, channel_count);
    ref_conv2d_weight_update_into(shape, input_scale, input_zero_point, input, grad_output,
                                 channels, channel_count, weight_scale, power, sgd, &slice,
                                 weight, scratch);
}

void ref_linear_weight_update_into(int32_t batch, int32_t in_features, int32_t out_features,
                                  float input_scale, int32_t input_zero_point,
                                  const int8_t *input, const float *grad_output,
                                  const int32_t *columns, int32_t column_count,
                                  const float *weight_scale, int32_t power, const tt_sgd *sgd,
                                  const tt_param_slice *target, int8_t *param, float *scratch)
{
    const size_t row_size = (size_t)(columns != NULL ? column_count : in_features);
    const uint32_t counter = *sgd->rng_counter;
    for (int32_t row = 0; row < out_features; ++row) {
        ref_linear_weight_grad_row(batch, in_features, out_features, input_scale,
                                  input_zero_point, input, grad_output, columns, column_count,
                                  row, scratch);
        ref_scale_row(row_size, weight_scale[row], power, scratch, scratch);
        ref_sgd_apply_s8(target, sgd, counter, (size_t)row * row_size, row_size, scratch, param);
    }
    ref_sgd_advance(sgd, (size_t)out_features * row_size);
}

void ref_linear_weight_update(int32_t batch, int32_t in_features, int32_t out_features,
                             float input_scale, int32_t input_zero_point, const int8_t *input,
                             const float *grad_output, const int32_t *columns,
                             int32_t column_count, const float *weight_scale, int32_t power,
                             const tt_sgd *sgd, int8_t *weight, float *scratch)
{
    const tt_param_slice slice = {out_features, in_features, 1, columns, column_count};
    ref_linear_weight_update_into(batch, in_features, out_features, input_scale,
                                 input_zero_point, input, grad_output, columns, column_count,
                                 weight_scale, power, sgd, &slice, weight, scratch);
}

void ref_bias_update_channel(int32_t channels, int32_t channel, float grad, const float *bias_scale,
                            int32_t power, const tt_sgd *sgd, uint32_t counter, int32_t *bias)
{
    const tt_param_slice slice = {1, channels, 1, NULL, 0};
    ref_scale_row(1, bias_scale[channel], power, &grad, &grad);
    ref_sgd_apply_s32(&slice, sgd, counter, (size_t)channel, 1, &grad, bias);
}

void ref_bias_update(size_t positions, int32_t channels, const float *grad_output,
                    const float *bias_scale, int32_t power, const tt_sgd *sgd, int32_t *bias)
{
    const uint32_t counter = *sgd->rng_counter;
    for (int32_t c = 0; c < channels; ++c) {
        const float grad = ref_bias_grad_channel(positions, channels, grad_output, c);
        ref_bias_update_channel(channels, c, grad, bias_scale, power, sgd, counter, bias);
    }
    ref_sgd_advance(sgd, (size_t)channels);
}

/* The position of `channel` in the sorted channels, or -1. */
static int32_t find_channel(const int32_t *channels, int32_t count, int32_t channel)
{
    int32_t low = 0;
    int32_t high = count;
    while (low < high) {
        const int32_t middle = low + (high - low) / 2;
        if (channels[middle] < channel) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    return low < count && channels[low] == channel ? low : -1;
}

/* Row o assembled in scratch: the frozen row [taps, cols], then the slice row [taps, count]
 * written over the updated channels of each tap. */
static const int8_t *assembled_row(const ref_weight_rows *rows, int32_t o)
{
    const tt_split_weight *w = rows->split;
    const size_t taps = rows->row_size / (size_t)rows->cols;
    const int8_t *slice_row = w->slice + (size_t)o * taps * (size_t)w->count;
    int8_t *row = rows->scratch;
    memcpy(row, w->frozen + (size_t)o * rows->row_size, rows->row_size);
    for (size_t t = 0; t < taps; ++t) {
        int8_t *tap = row + t * (size_t)rows->cols;
        const int8_t *values = slice_row + t * (size_t)w->count;
        for (int32_t j = 0; j < w->count; ++j) {
            tap[w->channels[j]] = values[j];
        }
    }
    return row;
}

const int8_t *ref_split_row(const ref_weight_rows *rows, int32_t o)
{
    const tt_split_weight *w = rows->split;
    if (w->axis != 0) {
        return assembled_row(rows, o);
    }
    const int32_t index = find_channel(w->channels, w->count, o);
    if (index < 0) {
        return w->frozen + (size_t)o * rows->row_size;
    }
    return w->slice + (size_t)index * rows->row_size;
}

static ref_weight_rows split_rows(const tt_split_weight *weight, size_t row_size, int32_t cols,
                                 int8_t *scratch)
{
    ref_weight_rows rows;
    rows.weight = NULL;
    rows.split = weight;
    rows.row_size = row_size;
    rows.cols = cols;
    rows.scratch = scratch;
    return rows;
}


/* Elements of the slice of a weight [out, taps, cols] split on `axis`. */
static size_t slice_size(const tt_split_weight *weight, int32_t out, size_t taps, int32_t cols)
{
    if (weight->axis == 0) {
        return (size_t)weight->count * taps * (size_t)cols;
    }
    return (size_t)out * taps * (size_t)weight->count;
}

size_t ref_conv2d_split_slice_size(const tt_conv_shape *shape, const tt_split_weight *weight)
{
    const size_t taps = (size_t)shape->kernel_h * (size_t)shape->kernel_w;
    return slice_size(weight, shape->output_c, taps, shape->input_c / shape->groups);
}

size_t ref_linear_split_slice_size(int32_t in_features, int32_t out_features,
                                  const tt_split_weight *weight)
{
    return slice_size(weight, out_features, 1, in_features);
}

size_t ref_conv2d_split_scratch_size(const tt_conv_shape *shape, const tt_split_weight *weight)
{
    return weight->axis == 0 ? 0 : ref_conv2d_weight_row_size(shape);
}

size_t ref_linear_split_scratch_size(int32_t in_features, const tt_split_weight *weight)
{
    return weight->axis == 0 ? 0 : (size_t)in_features;
}


/* ----------------------------------------------------------------------- input gradients */

void ref_conv2d_grad_input_split(const tt_conv_shape *shape, const float *grad_output,
                                const tt_split_weight *weight, const float *weight_scale,
                                float *grad_input, int8_t *scratch)
{
    const ref_weight_rows rows = split_rows(weight, ref_conv2d_weight_row_size(shape),
                                           shape->input_c / shape->groups, scratch);
    ref_conv2d_grad_input_rows(shape, grad_output, &rows, weight_scale, grad_input);
}

void ref_depthwise_grad_input_in_place_split(const tt_conv_shape *shape, float *grad,
                                            const tt_split_weight *weight,
                                            const float *weight_scale, float *plane,
                                            int8_t *scratch)
{
    const ref_weight_rows rows = split_rows(weight, ref_conv2d_weight_row_size(shape), 1, scratch);
    ref_depthwise_grad_input_in_place_rows(shape, grad, &rows, weight_scale, plane);
}

void ref_linear_grad_input_split(int32_t batch, int32_t in_features, int32_t out_features,
                                const float *grad_output, const tt_split_weight *weight,
                                const float *weight_scale, float *grad_input, int8_t *scratch)
{
    const ref_weight_rows rows = split_rows(weight, (size_t)in_features, in_features, scratch);
    ref_linear_grad_input_rows(batch, in_features, out_features, grad_output, &rows,
                              weight_scale, grad_input);
}

/* ----------------------------------------------------------------------- fused updates */

/* The slice as a parameter: element i of the gradient updates slice[i]. */
static tt_param_slice dense_slice(size_t count)
{
    const tt_param_slice slice = {1, 1, (int32_t)count, NULL, 0};
    return slice;
}

void ref_conv2d_weight_update_split(const tt_conv_shape *shape, float input_scale,
                                   int32_t input_zero_point, const int8_t *input,
                                   const float *grad_output, const float *weight_scale,
                                   int32_t power, const tt_sgd *sgd,
                                   const tt_split_weight *weight, float *scratch)
{
    if (weight->count == 0) {
        return;
    }
    const tt_param_slice target = dense_slice(ref_conv2d_split_slice_size(shape, weight));
    ref_conv2d_weight_update_into(shape, input_scale, input_zero_point, input, grad_output,
                                 weight->channels, weight->count, weight_scale, power, sgd,
                                 &target, weight->slice, scratch);
}

void ref_linear_weight_update_split(int32_t batch, int32_t in_features, int32_t out_features,
                                   float input_scale, int32_t input_zero_point,
                                   const int8_t *input, const float *grad_output,
                                   const float *weight_scale, int32_t power, const tt_sgd *sgd,
                                   const tt_split_weight *weight, float *scratch)
{
    if (weight->count == 0) {
        return;
    }
    const tt_param_slice target =
        dense_slice(ref_linear_split_slice_size(in_features, out_features, weight));
    ref_linear_weight_update_into(batch, in_features, out_features, input_scale,
                                 input_zero_point, input, grad_output, weight->channels,
                                 weight->count, weight_scale, power, sgd, &target,
                                 weight->slice, scratch);
}
