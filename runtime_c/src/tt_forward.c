/*
 * tt_forward.c - int8 forward kernels: conv2d (dispatch), linear, add, global average pool,
 * requantize, clamp, quantize, dequantize.
 *
 * Regular and depthwise convs (and linear layers, as 1x1 convs) run the tiled loops of
 * tt_conv_s8.c; grouped convs keep a one-output-channel-at-a-time loop here. Integer sums are
 * exact, so every loop gives the same bits, and each reads a weight row through tt_weight_row,
 * which is what lets split weights assemble their rows.
 *
 * Layer: above tt_conv_s8.c and tt_numerics.c; tt_bottleneck.c, tt_backward.c and tt_split.c
 * call it.
 */
#include <math.h>
#include <string.h>

#include "tt_conv_s8.h"

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

int32_t tt_conv_output_size(int32_t input, int32_t kernel, int32_t stride, int32_t pad)
{
    const int32_t span = input + 2 * pad - kernel;
    if (span < 0) {
        return 0;
    }
    return span / stride + 1;
}

/* Whether `output` is the size of a conv with `before` padding and some padding after in
 * [0, max(before, kernel - 1)]: the same on both sides (tt_conv_output_size), or TensorFlow's
 * SAME padding, which pads more after. */
static int output_size_fits(int32_t output, int32_t input, int32_t kernel, int32_t stride,
                            int32_t before)
{
    const int32_t most = before > kernel - 1 ? before : kernel - 1;
    const int32_t low = input + before - kernel;
    const int32_t high = low + most;
    if (high < 0 || output < 1) {
        return 0;
    }
    return output >= (low < 0 ? 1 : low / stride + 1) && output <= high / stride + 1;
}

int tt_conv_shape_is_valid(const tt_conv_shape *s)
{
    const int32_t sizes[] = {s->batch,    s->input_h,  s->input_w,  s->input_c,
                             s->output_h, s->output_w, s->output_c, s->kernel_h,
                             s->kernel_w, s->stride_h, s->stride_w, s->groups};
    if (!tt_all_positive(sizes, sizeof sizes / sizeof sizes[0])) {
        return 0;
    }
    if (s->pad_h < 0 || s->pad_w < 0) {
        return 0;
    }
    if (s->input_c % s->groups != 0 || s->output_c % s->groups != 0) {
        return 0;
    }
    return output_size_fits(s->output_h, s->input_h, s->kernel_h, s->stride_h, s->pad_h) &&
           output_size_fits(s->output_w, s->input_w, s->kernel_w, s->stride_w, s->pad_w);
}

/* ----------------------------------------------------------------------- dot products */

/* sum_i (x[i] + x_offset) * w[i], x_offset = -input_zero_point. */
#if defined(__ARM_FEATURE_DSP)
static uint32_t rotate_right_8(uint32_t word)
{
    return (word >> 8) | (word << 24);
}

static int32_t read_word(const int8_t *p)
{
    int32_t word;
    memcpy(&word, p, sizeof word);
    return word;
}

/* Four products per step with SMLAD: both operands are sign-extended pairwise (bytes 0 and 2,
 * then 1 and 3, the same pairing for x and w), x with the offset added in 16-bit lanes. */
static int32_t dot_s8(const int8_t *x, const int8_t *w, int32_t length, int32_t x_offset)
{
    const uint32_t offset_pair = ((uint32_t)x_offset & UINT32_C(0xffff)) * UINT32_C(0x00010001);
    int32_t sum = 0;
    int32_t i = 0;
    for (; i + 4 <= length; i += 4) {
        const uint32_t xw = (uint32_t)read_word(x + i);
        const uint32_t ww = (uint32_t)read_word(w + i);
        const uint32_t x_even = __sxtab16(offset_pair, xw);
        const uint32_t x_odd = __sxtab16(offset_pair, rotate_right_8(xw));
        const uint32_t w_even = __sxtb16(ww);
        const uint32_t w_odd = __sxtb16(rotate_right_8(ww));
        sum = __smlad(x_even, w_even, sum);
        sum = __smlad(x_odd, w_odd, sum);
    }
    for (; i < length; ++i) {
        sum += ((int32_t)x[i] + x_offset) * (int32_t)w[i];
    }
    return sum;
}
#else
static int32_t dot_s8(const int8_t *x, const int8_t *w, int32_t length, int32_t x_offset)
{
    int32_t sum = 0;
    for (int32_t i = 0; i < length; ++i) {
        sum += ((int32_t)x[i] + x_offset) * (int32_t)w[i];
    }
    return sum;
}
#endif

static int8_t finish_channel(int32_t sum, const int32_t *bias, int32_t o,
                             const tt_channel_quant *q)
{
    const int64_t acc = (int64_t)sum + (bias != NULL ? bias[o] : 0);
    return tt_requantize_to_int8(acc, q->multiplier[o], q->shift[o], q->output_zero_point,
                                 q->act_min, q->act_max);
}

/* ----------------------------------------------------------------------- conv2d */

/* The first and one-past-last kernel taps along one axis that land inside the input. */
static void valid_taps(int32_t origin, int32_t kernel, int32_t size, int32_t *first,
                       int32_t *end)
{
    *first = origin < 0 ? -origin : 0;
    *end = size - origin < kernel ? size - origin : kernel;
}

/* Output channel o of a grouped conv at every position, o's weight row [KH, KW, C/groups] in
 * w_row. */
TT_SEPARATE_FRAME static void conv2d_grouped_channel(const tt_conv_shape *s, const tt_channel_quant *q,
                                   const int8_t *input, const int8_t *w_row, const int32_t *bias,
                                   int32_t o, int8_t *output)
{
    const int32_t in_per_group = s->input_c / s->groups;
    const int32_t first_channel = (o / (s->output_c / s->groups)) * in_per_group;
    const int32_t x_offset = -q->input_zero_point;
    for (int32_t n = 0; n < s->batch; ++n) {
        for (int32_t oh = 0; oh < s->output_h; ++oh) {
            const int32_t ih0 = oh * s->stride_h - s->pad_h;
            int32_t kh_first, kh_end;
            valid_taps(ih0, s->kernel_h, s->input_h, &kh_first, &kh_end);
            for (int32_t ow = 0; ow < s->output_w; ++ow) {
                const int32_t iw0 = ow * s->stride_w - s->pad_w;
                int32_t kw_first, kw_end;
                valid_taps(iw0, s->kernel_w, s->input_w, &kw_first, &kw_end);
                int32_t sum = 0;
                for (int32_t kh = kh_first; kh < kh_end; ++kh) {
                    for (int32_t kw = kw_first; kw < kw_end; ++kw) {
                        const int8_t *x = input + tt_nhwc_offset(s->input_h, s->input_w,
                                                                 s->input_c, n, ih0 + kh,
                                                                 iw0 + kw, first_channel);
                        const int8_t *w = w_row + ((size_t)kh * (size_t)s->kernel_w +
                                                   (size_t)kw) * (size_t)in_per_group;
                        sum += dot_s8(x, w, in_per_group, x_offset);
                    }
                }
                output[tt_nhwc_offset(s->output_h, s->output_w, s->output_c, n, oh, ow, o)] =
                    finish_channel(sum, bias, o, q);
            }
        }
    }
}

void tt_conv2d_rows(const tt_conv_shape *shape, const tt_channel_quant *quant,
                    const int8_t *input, const tt_weight_rows *rows, const int32_t *bias,
                    int8_t *output)
{
    const tt_conv_shape *s = shape;
    if (s->groups == s->input_c && s->groups == s->output_c) {
        const size_t in_image = (size_t)s->input_h * (size_t)s->input_w * (size_t)s->input_c;
        const size_t out_image = (size_t)s->output_h * (size_t)s->output_w * (size_t)s->output_c;
        for (int32_t n = 0; n < s->batch; ++n) {
            const tt_row_ring ring = {input + (size_t)n * in_image,
                                      (size_t)s->input_w * (size_t)s->input_c, s->input_h};
            tt_depthwise_rows(s, quant, &ring, rows, bias, 0, s->output_h,
                              output + (size_t)n * out_image);
        }
    } else if (s->groups == 1) {
        tt_conv2d_regular_rows(s, quant, input, rows, bias, output);
    } else {
        for (int32_t o = 0; o < s->output_c; ++o) {
            conv2d_grouped_channel(s, quant, input, tt_weight_row(rows, o), bias, o, output);
        }
    }
}

void tt_conv2d(const tt_conv_shape *shape, const tt_channel_quant *quant, const int8_t *input,
               const int8_t *weight, const int32_t *bias, int8_t *output)
{
    const tt_weight_rows rows = tt_complete_rows(weight, tt_conv2d_weight_row_size(shape));
    tt_conv2d_rows(shape, quant, input, &rows, bias, output);
}

/* ----------------------------------------------------------------------- linear */

void tt_linear_rows(int32_t batch, int32_t in_features, int32_t out_features,
                    const tt_channel_quant *quant, const int8_t *input,
                    const tt_weight_rows *rows, const int32_t *bias, int8_t *output)
{
    /* a 1x1 conv over a row of `batch` pixels: [1, 1, batch, in] -> [1, 1, batch, out] */
    const tt_conv_shape shape = {1, 1, batch, in_features, 1, batch, out_features,
                                 1, 1, 1, 1,     0,           0, 1};
    tt_conv2d_regular_rows(&shape, quant, input, rows, bias, output);
}

void tt_linear(int32_t batch, int32_t in_features, int32_t out_features,
               const tt_channel_quant *quant, const int8_t *input, const int8_t *weight,
               const int32_t *bias, int8_t *output)
{
    const tt_weight_rows rows = tt_complete_rows(weight, (size_t)in_features);
    tt_linear_rows(batch, in_features, out_features, quant, input, &rows, bias, output);
}

/* ----------------------------------------------------------------------- add */

enum { ADD_LEFT_SHIFT = 20 };

/*
 * The 32-bit form of tt_add. An operand's term requantize((q - zp) 2^20, m, s) has t = 31 - s;
 * multiplying the numerator and the denominator of floor((acc m + 2^(t-1)) / 2^t) by 2^3 does
 * not change it, so it is requantize((q - zp) 2^23, m, s - 3), where (q - zp) 2^23 still fits
 * in int32 (|q - zp| <= 255) and tt_requantize32 applies when s - 3 <= -2 (a real multiplier
 * below 1/2 ... 1, which an add's lhs / rhs multipliers, at most 1/2, always are) and
 * t + 3 <= 62. The sum of the two terms is below 2^28 in magnitude, and the output multiplier
 * (2 max / (2^20 y_scale)) is far below 1/4, so the output is tt_requantize32 too.
 */
typedef struct {
    tt_requant32 lhs, rhs, out;
    int32_t lhs_base, rhs_base; /* -zp 2^23 */
} add_fast;

static int add_fast_make(const tt_add_quant *q, add_fast *f)
{
    const int32_t shifts[2] = {q->lhs_shift, q->rhs_shift};
    for (int32_t i = 0; i < 2; ++i) {
        if (shifts[i] > 1 || shifts[i] < -28) {
            return 0;
        }
    }
    if (!tt_requant32_applies(q->output_shift)) {
        return 0;
    }
    f->lhs = tt_requant32_make(q->lhs_multiplier, q->lhs_shift - 3);
    f->rhs = tt_requant32_make(q->rhs_multiplier, q->rhs_shift - 3);
    f->out = tt_requant32_make(q->output_multiplier, q->output_shift);
    f->lhs_base = -q->lhs_zero_point * (1 << 23);
    f->rhs_base = -q->rhs_zero_point * (1 << 23);
    return 1;
}

void tt_add(size_t count, const tt_add_quant *q, const int8_t *lhs, const int8_t *rhs,
            int8_t *output)
{
    add_fast f;
    if (add_fast_make(q, &f)) {
        const int32_t zp = q->output_zero_point, lo = q->act_min, hi = q->act_max;
        for (size_t i = 0; i < count; ++i) {
            const int32_t a = tt_requantize32(f.lhs_base + lhs[i] * (1 << 23), &f.lhs);
            const int32_t b = tt_requantize32(f.rhs_base + rhs[i] * (1 << 23), &f.rhs);
            int32_t v = tt_requantize32(a + b, &f.out) + zp;
            v = v < lo ? lo : v;
            output[i] = (int8_t)(v > hi ? hi : v);
        }
        return;
    }
    for (size_t i = 0; i < count; ++i) {
        /* (q - zp) * 2^20 fits in int32 (|q - zp| <= 255); written as a product, since a left
         * shift of a negative value is undefined in C. */
        const int64_t a = ((int64_t)lhs[i] - q->lhs_zero_point) * ((int64_t)1 << ADD_LEFT_SHIFT);
        const int64_t b = ((int64_t)rhs[i] - q->rhs_zero_point) * ((int64_t)1 << ADD_LEFT_SHIFT);
        const int64_t total = tt_requantize(a, q->lhs_multiplier, q->lhs_shift) +
                              tt_requantize(b, q->rhs_multiplier, q->rhs_shift);
        output[i] = tt_requantize_to_int8(total, q->output_multiplier, q->output_shift,
                                          q->output_zero_point, q->act_min, q->act_max);
    }
}

/* ----------------------------------------------------------------------- pooling, requantize */

void tt_global_avg_pool(int32_t batch, int32_t height, int32_t width, int32_t channels,
                        int32_t input_zero_point, int32_t output_zero_point, int32_t multiplier,
                        int32_t shift, const int8_t *input, int8_t *output)
{
    const size_t pixels = (size_t)height * (size_t)width;
    for (int32_t n = 0; n < batch; ++n) {
        const int8_t *x = input + (size_t)n * pixels * (size_t)channels;
        for (int32_t c = 0; c < channels; ++c) {
            int32_t sum = 0;
            for (size_t p = 0; p < pixels; ++p) {
                sum += (int32_t)x[p * (size_t)channels + (size_t)c] - input_zero_point;
            }
            output[(size_t)n * (size_t)channels + (size_t)c] =
                tt_requantize_to_int8(sum, multiplier, shift, output_zero_point, -128, 127);
        }
    }
}

void tt_requantize_tensor(size_t count, int32_t input_zero_point, int32_t output_zero_point,
                          int32_t multiplier, int32_t shift, const int8_t *input, int8_t *output)
{
    for (size_t i = 0; i < count; ++i) {
        output[i] = tt_requantize_to_int8((int32_t)input[i] - input_zero_point, multiplier, shift,
                                          output_zero_point, -128, 127);
    }
}

void tt_clamp(size_t count, int32_t act_min, int32_t act_max, const int8_t *input, int8_t *output)
{
    for (size_t i = 0; i < count; ++i) {
        output[i] = (int8_t)tt_clamp_i64(input[i], act_min, act_max);
    }
}

/* ----------------------------------------------------------------------- quantize */

/* round_half_even(x / scale) of the exact quotient, as a float (an integer value). */
static float rounded_quotient(float x, float scale)
{
    const float quotient = x / scale;
    const float fraction = quotient - truncf(quotient); /* exact */
    if (fabsf(fraction) != 0.5f) {
        return rintf(quotient); /* not a tie: the nearest integer is that of the exact quotient */
    }
    /* The rounded quotient is a tie; the exact quotient may lie just above or below it.
     * remainder = x - quotient * scale is exactly representable and fmaf computes it exactly. */
    const float remainder = fmaf(-quotient, scale, x);
    if (remainder > 0.0f) {
        return ceilf(quotient);
    }
    if (remainder < 0.0f) {
        return floorf(quotient);
    }
    return rintf(quotient); /* a true tie: to even (default rounding mode) */
}

void tt_quantize(size_t count, float scale, int32_t zero_point, const float *input,
                 int8_t *output)
{
    for (size_t i = 0; i < count; ++i) {
        const float x = input[i];
        if (x != x) {
            output[i] = (int8_t)tt_clamp_i64(zero_point, -128, 127);
            continue;
        }
        float q = rounded_quotient(x, scale);
        if (q > 1000.0f) { /* saturates in any case; keeps the conversion in range */
            q = 1000.0f;
        } else if (q < -1000.0f) {
            q = -1000.0f;
        }
        output[i] = (int8_t)tt_clamp_i64((int32_t)q + zero_point, -128, 127);
    }
}

void tt_dequantize(size_t count, float scale, int32_t zero_point, const int8_t *input,
                   float *output)
{
    for (size_t i = 0; i < count; ++i) {
        output[i] = (float)((int32_t)input[i] - zero_point) * scale;
    }
}
