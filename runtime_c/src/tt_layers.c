/*
 * tt_layers.c - the layers of common MCU CNNs: max and average pooling, the table activations
 * (hard-swish, hard-sigmoid, sigmoid), the element-wise multiply of squeeze-and-excitation,
 * channel concatenation; forward (int8) and backward (float32) kernels.
 *
 * int8 results follow the interpreter's rules exactly (tt_runtime.h documents each); float
 * results are computed in float32 in the documented order. No scratch, no heap, and at most a
 * 64-byte array on the stack.
 */
#include <string.h>

#include "tt_internal.h"

/* ----------------------------------------------------------------------- pool geometry */

int tt_pool_shape_is_valid(const tt_pool_shape *s)
{
    const int32_t sizes[] = {s->batch,    s->input_h,  s->input_w,  s->channels, s->output_h,
                             s->output_w, s->kernel_h, s->kernel_w, s->stride_h, s->stride_w};
    if (!tt_all_positive(sizes, sizeof sizes / sizeof sizes[0])) {
        return 0;
    }
    if (s->pad_top < 0 || s->pad_left < 0 || s->pad_top >= s->kernel_h || s->pad_left >= s->kernel_w) {
        return 0;
    }
    /* the last window starts inside the input */
    return (s->output_h - 1) * s->stride_h - s->pad_top < s->input_h &&
           (s->output_w - 1) * s->stride_w - s->pad_left < s->input_w;
}

/* The valid taps [first, end) of the window starting at `origin` along an axis of `size`. */
static void window_taps(int32_t origin, int32_t kernel, int32_t size, int32_t *first, int32_t *end)
{
    *first = origin < 0 ? -origin : 0;
    *end = size - origin < kernel ? size - origin : kernel;
}

/* The window of output (oh, ow): its origin and valid taps on both axes. */
typedef struct {
    int32_t ih0, iw0;
    int32_t kh_first, kh_end, kw_first, kw_end;
} pool_window;

static pool_window window_at(const tt_pool_shape *s, int32_t oh, int32_t ow)
{
    pool_window w;
    w.ih0 = oh * s->stride_h - s->pad_top;
    w.iw0 = ow * s->stride_w - s->pad_left;
    window_taps(w.ih0, s->kernel_h, s->input_h, &w.kh_first, &w.kh_end);
    window_taps(w.iw0, s->kernel_w, s->input_w, &w.kw_first, &w.kw_end);
    return w;
}

/* Offset of input pixel (n, ih, iw), channel 0. */
static size_t input_pixel(const tt_pool_shape *s, int32_t n, int32_t ih, int32_t iw)
{
    return tt_nhwc_offset(s->input_h, s->input_w, s->channels, n, ih, iw, 0);
}

static size_t output_pixel(const tt_pool_shape *s, int32_t n, int32_t oh, int32_t ow)
{
    return tt_nhwc_offset(s->output_h, s->output_w, s->channels, n, oh, ow, 0);
}

/* ----------------------------------------------------------------------- max pool */

/* The output pixel's channels: the first valid tap copied, every later tap (raster order) taken
 * where it is strictly larger, so ties keep the first tap. */
static void max_pool_pixel(const tt_pool_shape *s, const pool_window *w, const int8_t *input,
                           int32_t n, int8_t *out, uint8_t *idx)
{
    const int32_t channels = s->channels;
    int first = 1;
    for (int32_t kh = w->kh_first; kh < w->kh_end; ++kh) {
        for (int32_t kw = w->kw_first; kw < w->kw_end; ++kw) {
            const int8_t *x = input + input_pixel(s, n, w->ih0 + kh, w->iw0 + kw);
            const uint8_t tap = (uint8_t)(kh * s->kernel_w + kw);
            if (first) {
                memcpy(out, x, (size_t)channels);
                if (idx != NULL) {
                    memset(idx, tap, (size_t)channels);
                }
                first = 0;
                continue;
            }
            for (int32_t c = 0; c < channels; ++c) {
                if (x[c] > out[c]) {
                    out[c] = x[c];
                    if (idx != NULL) {
                        idx[c] = tap;
                    }
                }
            }
        }
    }
}

void tt_max_pool(const tt_pool_shape *shape, int32_t act_min, int32_t act_max, const int8_t *input,
                 int8_t *output, uint8_t *indices)
{
    const tt_pool_shape *s = shape;
    for (int32_t n = 0; n < s->batch; ++n) {
        for (int32_t oh = 0; oh < s->output_h; ++oh) {
            for (int32_t ow = 0; ow < s->output_w; ++ow) {
                const pool_window w = window_at(s, oh, ow);
                const size_t at = output_pixel(s, n, oh, ow);
                max_pool_pixel(s, &w, input, n, output + at, indices != NULL ? indices + at : NULL);
                for (int32_t c = 0; c < s->channels; ++c) {
                    output[at + (size_t)c] = (int8_t)tt_clamp_i64(output[at + (size_t)c], act_min, act_max);
                }
            }
        }
    }
}

/* ----------------------------------------------------------------------- average pool */

enum { AVG_CHUNK = 16 }; /* channels summed at a time (int32 on the stack) */

/* total / count to nearest, ties away from zero (TFLite's rounding; C division truncates). */
static int32_t rounded_average(int32_t total, int32_t count)
{
    return total > 0 ? (total + count / 2) / count : (total - count / 2) / count;
}

void tt_avg_pool(const tt_pool_shape *shape, int32_t act_min, int32_t act_max, const int8_t *input,
                 int8_t *output)
{
    const tt_pool_shape *s = shape;
    int32_t sums[AVG_CHUNK];
    for (int32_t n = 0; n < s->batch; ++n) {
        for (int32_t oh = 0; oh < s->output_h; ++oh) {
            for (int32_t ow = 0; ow < s->output_w; ++ow) {
                const pool_window w = window_at(s, oh, ow);
                const int32_t count = (w.kh_end - w.kh_first) * (w.kw_end - w.kw_first);
                int8_t *out = output + output_pixel(s, n, oh, ow);
                for (int32_t c0 = 0; c0 < s->channels; c0 += AVG_CHUNK) {
                    const int32_t width = s->channels - c0 < AVG_CHUNK ? s->channels - c0 : AVG_CHUNK;
                    memset(sums, 0, sizeof sums);
                    for (int32_t kh = w.kh_first; kh < w.kh_end; ++kh) {
                        for (int32_t kw = w.kw_first; kw < w.kw_end; ++kw) {
                            const int8_t *x = input + input_pixel(s, n, w.ih0 + kh, w.iw0 + kw) + c0;
                            for (int32_t j = 0; j < width; ++j) {
                                sums[j] += x[j];
                            }
                        }
                    }
                    for (int32_t j = 0; j < width; ++j) {
                        out[c0 + j] = (int8_t)tt_clamp_i64(rounded_average(sums[j], count), act_min, act_max);
                    }
                }
            }
        }
    }
}

/* ----------------------------------------------------------------------- table activations */

void tt_lookup_s8(size_t count, const int8_t *table, const int8_t *input, int8_t *output)
{
    for (size_t i = 0; i < count; ++i) {
        output[i] = table[(int32_t)input[i] + 128];
    }
}

/* ----------------------------------------------------------------------- multiply */

void tt_mul(int32_t batch, size_t positions, int32_t channels, int rhs_broadcast,
            const tt_mul_quant *quant, const int8_t *lhs, const int8_t *rhs, int8_t *output)
{
    const tt_mul_quant *q = quant;
    const int fast = tt_requant32_applies(q->shift);
    const tt_requant32 r = tt_requant32_make(q->multiplier, fast ? q->shift : -2);
    const size_t row = positions * (size_t)channels;
    for (int32_t n = 0; n < batch; ++n) {
        const int8_t *a = lhs + (size_t)n * row;
        const int8_t *b_image = rhs + (size_t)n * (rhs_broadcast ? (size_t)channels : row);
        int8_t *out = output + (size_t)n * row;
        for (size_t p = 0; p < positions; ++p) {
            const int8_t *b = rhs_broadcast ? b_image : b_image + p * (size_t)channels;
            for (int32_t c = 0; c < channels; ++c) {
                const size_t i = p * (size_t)channels + (size_t)c;
                /* |product| <= 255 * 255: fits in int32, as tt_requantize32 needs */
                const int32_t acc = ((int32_t)a[i] - q->lhs_zero_point) * ((int32_t)b[c] - q->rhs_zero_point);
                if (fast) {
                    out[i] = (int8_t)tt_clamp_i64((int64_t)tt_requantize32(acc, &r) + q->output_zero_point,
                                                  q->act_min, q->act_max);
                } else {
                    out[i] = tt_requantize_to_int8(acc, q->multiplier, q->shift, q->output_zero_point,
                                                   q->act_min, q->act_max);
                }
            }
        }
    }
}

/* ----------------------------------------------------------------------- concat */

void tt_concat_channels(size_t positions, int32_t input_channels, int32_t output_channels,
                        int32_t channel_offset, int32_t input_zero_point, int32_t output_zero_point,
                        int32_t multiplier, int32_t shift, const int8_t *input, int8_t *output)
{
    const int identity =
        multiplier == (INT32_C(1) << 30) && shift == 1 && input_zero_point == output_zero_point;
    for (size_t p = 0; p < positions; ++p) {
        const int8_t *x = input + p * (size_t)input_channels;
        int8_t *out = output + p * (size_t)output_channels + (size_t)channel_offset;
        if (identity) {
            memcpy(out, x, (size_t)input_channels);
            continue;
        }
        for (int32_t c = 0; c < input_channels; ++c) {
            out[c] = tt_requantize_to_int8((int32_t)x[c] - input_zero_point, multiplier, shift,
                                           output_zero_point, -128, 127);
        }
    }
}

/* ----------------------------------------------------------------------- pool gradients */

static void zero_floats(float *out, size_t count)
{
    for (size_t i = 0; i < count; ++i) {
        out[i] = 0.0f;
    }
}

static size_t input_count(const tt_pool_shape *s)
{
    return (size_t)s->batch * (size_t)s->input_h * (size_t)s->input_w * (size_t)s->channels;
}

/* The tap of the window's maximum in channel c (the first in raster order among equal values). */
static int32_t window_argmax(const tt_pool_shape *s, const pool_window *w, const int8_t *input,
                             int32_t n, int32_t c)
{
    int32_t best = -129, tap = 0;
    for (int32_t kh = w->kh_first; kh < w->kh_end; ++kh) {
        for (int32_t kw = w->kw_first; kw < w->kw_end; ++kw) {
            const int32_t v = input[input_pixel(s, n, w->ih0 + kh, w->iw0 + kw) + (size_t)c];
            if (v > best) {
                best = v;
                tap = kh * s->kernel_w + kw;
            }
        }
    }
    return tap;
}

/* grad_input at tap `tap` of the window of (n, oh, ow), channel c, += g. */
static void add_at_tap(const tt_pool_shape *s, int32_t n, int32_t oh, int32_t ow, int32_t c,
                       int32_t tap, float g, float *grad_input)
{
    const int32_t ih = oh * s->stride_h - s->pad_top + tap / s->kernel_w;
    const int32_t iw = ow * s->stride_w - s->pad_left + tap % s->kernel_w;
    grad_input[input_pixel(s, n, ih, iw) + (size_t)c] += g;
}

/* The loop of both max-pool gradients: outputs in raster order, channels ascending; the tap of
 * each from the input (indices == NULL) or the forward's indices. Zero gradients add nothing. */
static void max_pool_grad_taps(const tt_pool_shape *s, const float *grad_output, const int8_t *input,
                               const uint8_t *indices, float *grad_input)
{
    zero_floats(grad_input, input_count(s));
    for (int32_t n = 0; n < s->batch; ++n) {
        for (int32_t oh = 0; oh < s->output_h; ++oh) {
            for (int32_t ow = 0; ow < s->output_w; ++ow) {
                const pool_window w = window_at(s, oh, ow);
                const size_t at = output_pixel(s, n, oh, ow);
                for (int32_t c = 0; c < s->channels; ++c) {
                    const float g = grad_output[at + (size_t)c];
                    if (g == 0.0f) {
                        continue;
                    }
                    const int32_t tap = indices != NULL ? (int32_t)indices[at + (size_t)c]
                                                        : window_argmax(s, &w, input, n, c);
                    add_at_tap(s, n, oh, ow, c, tap, g, grad_input);
                }
            }
        }
    }
}

void tt_max_pool_grad(const tt_pool_shape *shape, const float *grad_output, const int8_t *input,
                      float *grad_input)
{
    max_pool_grad_taps(shape, grad_output, input, NULL, grad_input);
}

void tt_max_pool_grad_indices(const tt_pool_shape *shape, const float *grad_output,
                              const uint8_t *indices, float *grad_input)
{
    max_pool_grad_taps(shape, grad_output, NULL, indices, grad_input);
}

void tt_avg_pool_grad(const tt_pool_shape *shape, const float *grad_output, float *grad_input)
{
    const tt_pool_shape *s = shape;
    zero_floats(grad_input, input_count(s));
    for (int32_t n = 0; n < s->batch; ++n) {
        for (int32_t oh = 0; oh < s->output_h; ++oh) {
            for (int32_t ow = 0; ow < s->output_w; ++ow) {
                const pool_window w = window_at(s, oh, ow);
                const float count = (float)((w.kh_end - w.kh_first) * (w.kw_end - w.kw_first));
                const float *g = grad_output + output_pixel(s, n, oh, ow);
                for (int32_t c = 0; c < s->channels; ++c) {
                    if (g[c] == 0.0f) {
                        continue;
                    }
                    const float share = g[c] / count;
                    for (int32_t kh = w.kh_first; kh < w.kh_end; ++kh) {
                        for (int32_t kw = w.kw_first; kw < w.kw_end; ++kw) {
                            grad_input[input_pixel(s, n, w.ih0 + kh, w.iw0 + kw) + (size_t)c] += share;
                        }
                    }
                }
            }
        }
    }
}

/* ----------------------------------------------------------------------- other gradients */

void tt_lookup_grad(size_t count, const float *derivative, const float *grad_output,
                    const int8_t *input, float *grad_input)
{
    for (size_t i = 0; i < count; ++i) {
        grad_input[i] = grad_output[i] * derivative[(int32_t)input[i] + 128];
    }
}

static float dequantized(int8_t q, int32_t zero_point, float scale)
{
    return (float)((int32_t)q - zero_point) * scale;
}

void tt_mul_grad(int32_t batch, size_t positions, int32_t channels, int other_broadcast,
                 float other_scale, int32_t other_zero_point, const float *grad_output,
                 const int8_t *other, float *grad_input)
{
    const size_t row = positions * (size_t)channels;
    for (int32_t n = 0; n < batch; ++n) {
        const int8_t *o_image = other + (size_t)n * (other_broadcast ? (size_t)channels : row);
        const size_t base = (size_t)n * row;
        for (size_t p = 0; p < positions; ++p) {
            const int8_t *o = other_broadcast ? o_image : o_image + p * (size_t)channels;
            for (int32_t c = 0; c < channels; ++c) {
                const size_t i = base + p * (size_t)channels + (size_t)c;
                grad_input[i] = grad_output[i] * dequantized(o[c], other_zero_point, other_scale);
            }
        }
    }
}

void tt_mul_grad_reduce(int32_t batch, size_t positions, int32_t channels, float other_scale,
                        int32_t other_zero_point, const float *grad_output, const int8_t *other,
                        float *grad_input)
{
    const size_t row = positions * (size_t)channels;
    zero_floats(grad_input, (size_t)batch * (size_t)channels);
    for (int32_t n = 0; n < batch; ++n) {
        float *out = grad_input + (size_t)n * (size_t)channels;
        for (size_t p = 0; p < positions; ++p) {
            const size_t at = (size_t)n * row + p * (size_t)channels;
            for (int32_t c = 0; c < channels; ++c) {
                const float g = grad_output[at + (size_t)c];
                if (g != 0.0f) {
                    out[c] += g * dequantized(other[at + (size_t)c], other_zero_point, other_scale);
                }
            }
        }
    }
}

void tt_channel_slice(size_t positions, int32_t channels, int32_t offset, int32_t count,
                      const float *input, float *output)
{
    for (size_t p = 0; p < positions; ++p) {
        memcpy(output + p * (size_t)count, input + p * (size_t)channels + (size_t)offset,
               (size_t)count * sizeof(float));
    }
}
