/*
 * tt_internal.h - helpers shared by the runtime's source files (not part of the API).
 *
 * The fused updates reuse the exact row functions of the unfused gradient kernels and the
 * exact element update of tt_sgd_update_*, which is what makes fused and unfused bit identical.
 */
#ifndef TT_INTERNAL_H
#define TT_INTERNAL_H

#include "tt_runtime.h"

/* Float results must not depend on whether the compiler fuses a * b + c into one FMA (GCC does
 * by default in its GNU modes, e.g. with VFMA on Cortex-M7; clang within expressions): that
 * would break the bit-for-bit agreement of host and target builds. So contraction is off for
 * the runtime's sources whatever the flags. Other compilers: build with contraction off. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* Offset of element (n, h, w, c) of an NHWC tensor of the given height, width and channels. */
static inline size_t tt_nhwc_offset(int32_t height, int32_t width, int32_t channels, int32_t n,
                                    int32_t h, int32_t w, int32_t c)
{
    return (((size_t)n * (size_t)height + (size_t)h) * (size_t)width + (size_t)w) *
               (size_t)channels + (size_t)c;
}

/* Bit i of a tt_clamp_mask mask (bit i % 8 of byte i / 8): 1 where the gradient passes. */
static inline int tt_mask_bit(const uint8_t *mask, size_t i)
{
    return (mask[i / 8u] >> (i % 8u)) & 1u;
}

/* 1 when every one of the `count` sizes is positive, else 0 (the shape validity checks). */
static inline int tt_all_positive(const int32_t *sizes, size_t count)
{
    for (size_t i = 0; i < count; ++i) {
        if (sizes[i] < 1) {
            return 0;
        }
    }
    return 1;
}

static inline int32_t tt_clamp_i64(int64_t value, int32_t low, int32_t high)
{
    if (value < low) {
        return low;
    }
    if (value > high) {
        return high;
    }
    return (int32_t)value;
}

/* ----------------------------------------------------------------------- requantization */

/* floor(value / 2^bits), 0 <= bits <= 63, without the implementation-defined >> of negative
 * values (compilers turn it into one arithmetic shift). */
static inline int64_t tt_floor_shift_right(int64_t value, int32_t bits)
{
    return value >= 0 ? value >> bits : ~(~value >> bits);
}

static inline int32_t tt_floor_shift_right32(int32_t value, int32_t bits)
{
    return value >= 0 ? value >> bits : ~(~value >> bits);
}

/* TFLite's requantization (numerics.requantize_tflite, MultiplyByQuantizedMultiplier in its
 * two-rounding form), for shift in [-31, 30]:
 *     x = acc * 2^max(shift, 0), saturated to int32 (TFLite leaves the overflow undefined);
 *     h = (x * multiplier + nudge) / 2^31, C's truncating division, nudge = 2^30 for a product
 *         >= 0, else 1 - 2^30 (SaturatingRoundingDoublingHighMul: ties toward +infinity);
 *     h / 2^max(-shift, 0) rounded to nearest, ties away from zero (RoundingDivideByPOT).
 * Exact in 64 bits for |acc| < 2^33. */
static inline int64_t tt_requantize_tflite(int64_t acc, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    int64_t x = acc * ((int64_t)1 << left);
    x = x > INT32_MAX ? INT32_MAX : x;
    x = x < INT32_MIN ? INT32_MIN : x;
    const int64_t product = x * (int64_t)multiplier;
    const int64_t nudge = product >= 0 ? ((int64_t)1 << 30) : 1 - ((int64_t)1 << 30);
    const int64_t high = (product + nudge) / ((int64_t)1 << 31);
    const int64_t quotient = tt_floor_shift_right(high, right);
    const int64_t remainder = high - quotient * ((int64_t)1 << right);
    const int64_t threshold = ((((int64_t)1 << right) - 1) >> 1) + (high < 0 ? 1 : 0);
    return quotient + (remainder > threshold ? 1 : 0);
}

/* The requantization rule, the one definition (tt_requantize is this function):
 *     floor((acc * multiplier + 2^(t - 1)) / 2^t),  t = 31 - shift,
 * exact in 64 bits for |acc| < 2^32 and shift in [-31, 30]. A shift of TT_TFLITE_SHIFT + s
 * (s in [-31, 30]) selects TFLite's rule with shift s instead (an op with numerics =
 * "tflite"): the fast 32-bit paths never apply to it (tt_requant32_applies is false). */
static inline int64_t tt_requantize_rule(int64_t acc, int32_t multiplier, int32_t shift)
{
    if (shift > 30) {
        return tt_requantize_tflite(acc, multiplier, shift - TT_TFLITE_SHIFT);
    }
    const int32_t total = 31 - shift;
    const int64_t rounding = (int64_t)1 << (total - 1);
    return tt_floor_shift_right(acc * (int64_t)multiplier + rounding, total);
}

/* The rule plus the output zero point, clamped to [act_min, act_max] (tt_requantize_to_int8 is
 * this function). */
static inline int8_t tt_requantize_to_int8_rule(int64_t acc, int32_t multiplier, int32_t shift,
                                                int32_t zero_point, int32_t act_min,
                                                int32_t act_max)
{
    const int64_t value = tt_requantize_rule(acc, multiplier, shift) + zero_point;
    return (int8_t)tt_clamp_i64(value, act_min, act_max);
}

/*
 * The same rule for an int32 accumulator when t = 31 - shift >= 33 (shift <= -2, i.e. a real
 * multiplier below 1/4, every conv layer in practice), in 32-bit steps. With P = acc *
 * multiplier, 2^(t - 1) is a multiple of 2^32, so
 *     floor((P + 2^(t-1)) / 2^t) = floor((floor(P / 2^32) + 2^(t-33)) / 2^(t-32))
 * (floor(floor(y / a) / b) = floor(y / ab) for positive integers a, b): the high word of the
 * 64-bit product (one SMMLA with the rounding on Cortex-M7), then one arithmetic shift. The
 * high word is below 2^30 in magnitude, so adding 2^(t-33) <= 2^29 cannot overflow.
 */
typedef struct {
    int32_t multiplier;
    int32_t rounding; /* 2^(t - 33) */
    int32_t shift;    /* t - 32, in [1, 30] */
} tt_requant32;

static inline int tt_requant32_applies(int32_t shift)
{
    return shift <= -2;
}

static inline tt_requant32 tt_requant32_make(int32_t multiplier, int32_t shift)
{
    const int32_t total = 31 - shift;
    tt_requant32 r;
    r.multiplier = multiplier;
    r.rounding = (int32_t)1 << (total - 33);
    r.shift = total - 32;
    return r;
}

static inline int32_t tt_requantize32(int32_t acc, const tt_requant32 *r)
{
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
    int32_t high;
    __asm__("smmla %0, %1, %2, %3" : "=r"(high) : "r"(acc), "r"(r->multiplier), "r"(r->rounding));
#else
    const int32_t high =
        (int32_t)tt_floor_shift_right((int64_t)acc * (int64_t)r->multiplier, 32) + r->rounding;
#endif
    return tt_floor_shift_right32(high, r->shift);
}

/* ----------------------------------------------------------------------- weight rows */

/* Where the kernels read row o (output channel o: kernel_h * kernel_w * input_c / groups int8
 * values of a conv, in_features of a linear) of an int8 weight: a complete weight, or a split
 * weight (tt_split_weight: frozen + updated slice) whose row is either a row of the slice (axis
 * 0) or assembled in `scratch` (last axis). Every forward and input-gradient kernel reads its
 * weight through tt_weight_row, so split and unsplit kernels run the same loops. */
typedef struct {
    const int8_t *weight;         /* the complete weight, or NULL when split is used */
    const tt_split_weight *split; /* NULL for a complete weight */
    size_t row_size;              /* int8 values per row */
    int32_t cols;                 /* length of the last axis (C/groups, in_features) */
    int8_t *scratch;              /* row_size bytes when split->axis != 0, else unused */
} tt_weight_rows;

/* Row o of a split weight (tt_split_rows.c). */
const int8_t *tt_split_row(const tt_weight_rows *rows, int32_t o);

static inline tt_weight_rows tt_complete_rows(const int8_t *weight, size_t row_size)
{
    tt_weight_rows rows;
    rows.weight = weight;
    rows.split = NULL;
    rows.row_size = row_size;
    rows.cols = 0;
    rows.scratch = NULL;
    return rows;
}

/* Row o of the weight; valid until the next call with the same rows. */
static inline const int8_t *tt_weight_row(const tt_weight_rows *rows, int32_t o)
{
    if (rows->split == NULL) {
        return rows->weight + (size_t)o * rows->row_size;
    }
    return tt_split_row(rows, o);
}

/* int8 values per row of a conv weight: kernel_h * kernel_w * input_c / groups. */
static inline size_t tt_conv2d_weight_row_size(const tt_conv_shape *shape)
{
    return (size_t)shape->kernel_h * (size_t)shape->kernel_w *
           (size_t)(shape->input_c / shape->groups);
}

/* The loops of tt_conv2d, tt_linear, tt_conv2d_grad_input and tt_linear_grad_input on any
 * weight rows (tt_forward.c, tt_backward.c). The forward kernels compute one output channel at
 * a time (integer sums: the order cannot change a bit), so a split row is assembled once per
 * channel; the input gradients keep their documented float32 order and fetch the row of each
 * (position, channel) with a nonzero gradient. */
void tt_conv2d_rows(const tt_conv_shape *shape, const tt_channel_quant *quant,
                    const int8_t *input, const tt_weight_rows *rows, const int32_t *bias,
                    int8_t *output);
void tt_linear_rows(int32_t batch, int32_t in_features, int32_t out_features,
                    const tt_channel_quant *quant, const int8_t *input,
                    const tt_weight_rows *rows, const int32_t *bias, int8_t *output);
void tt_conv2d_grad_input_rows(const tt_conv_shape *shape, const float *grad_output,
                               const tt_weight_rows *rows, const float *weight_scale,
                               float *grad_input);
void tt_depthwise_grad_input_in_place_rows(const tt_conv_shape *shape, float *grad,
                                           const tt_weight_rows *rows, const float *weight_scale,
                                           float *plane);
void tt_linear_grad_input_rows(int32_t batch, int32_t in_features, int32_t out_features,
                               const float *grad_output, const tt_weight_rows *rows,
                               const float *weight_scale, float *grad_input);

/* ----------------------------------------------------------------------- weight gradients */

/* acc + a * b, rounded twice (the product, then the sum), i.e. exactly the C expression. On an
 * Arm FPU this is one VMLA (multiply-accumulate, not fused: it rounds the product, then adds it
 * to acc), which GCC never forms when tuning for Cortex-M7; the gradient kernels' inner loops
 * use it for every term, halving their float instructions without changing a bit. */
static inline float tt_mla(float acc, float a, float b)
{
#if defined(__GNUC__) && defined(__ARM_FP) && (__ARM_FP & 4)
    __asm__("vmla.f32 %0, %1, %2" : "+t"(acc) : "t"(a), "t"(b));
    return acc;
#else
    return acc + a * b;
#endif
}

/* 1 where the float kernels' assembly loops build: GCC or clang for Thumb-2 with a VFP that
 * has single precision (the Cortex-M7's FPv5); the plain C loops elsewhere, same bits. */
#if defined(__GNUC__) && defined(__thumb2__) && defined(__ARM_FP) && (__ARM_FP & 4)
#define TT_FLOAT_ASM 1
#else
#define TT_FLOAT_ASM 0
#endif

/* Keeps a hot inner function out of its caller, so that the compiler allocates its registers
 * for the inner loop alone (GCC, clang; elsewhere a no-op). */
#if defined(__GNUC__)
#define TT_NOINLINE __attribute__((noinline))
#else
#define TT_NOINLINE
#endif

/* Makes an inline function's copies specialise on their constant arguments (a rounding mode,
 * say) whatever the compiler's size heuristics (GCC, clang; elsewhere plain inline). */
#if defined(__GNUC__)
#define TT_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define TT_ALWAYS_INLINE inline
#endif

/* Shape of a conv weight gradient [rows, kernel_h, kernel_w, cols] and where rows and columns
 * come from (see tt_conv2d_grad_weight). A linear weight gradient [out_features, cols] is the
 * gradient of a 1x1 conv over batch positions (tt_linear_as_conv). */
typedef struct {
    int32_t rows;
    int32_t cols;
    const int32_t *row_channels; /* output channel of each row (depthwise subset) or NULL */
    const int32_t *col_channels; /* input channel of each column (regular subset) or NULL */
} tt_weight_grad_layout;

tt_weight_grad_layout tt_conv2d_weight_grad_layout(const tt_conv_shape *shape,
                                                   const int32_t *channels,
                                                   int32_t channel_count);

/* The output channel of gradient row `row`. */
static inline int32_t tt_weight_grad_row_channel(const tt_weight_grad_layout *layout,
                                                 int32_t row)
{
    return layout->row_channels != NULL ? layout->row_channels[row] : row;
}

/* A linear layer [batch, in_features] -> [batch, out_features] as the 1x1 conv over `batch`
 * positions that it is (same layouts, same sums). */
static inline tt_conv_shape tt_linear_as_conv(int32_t batch, int32_t in_features,
                                              int32_t out_features)
{
    const tt_conv_shape shape = {batch, 1, 1, in_features, 1, 1, out_features, 1, 1, 1, 1, 0, 0, 1};
    return shape;
}

/* Rows and columns of the largest block tt_conv2d_weight_grad_blocks passes to its sink. */
enum { TT_GRAD_BLOCK_ROWS = 6, TT_GRAD_BLOCK_COLS = 4 };

/* A finished block of a weight gradient: rows [row0, row0 + rows) x columns [col0, col0 + cols)
 * of tap `tap` (kh * kernel_w + kw); values[i * cols + j] is the sum of element (row0 + i, tap,
 * col0 + j), which the sink multiplies by input_scale to get the gradient element. */
typedef struct {
    int32_t row0, rows;
    int32_t tap;
    int32_t col0, cols;
    const float *values;
} tt_grad_block;

typedef void (*tt_grad_block_sink)(void *context, const tt_grad_block *block);

/*
 * The sums of the conv weight gradient of tt_conv2d_grad_weight (any conv kind, channel subsets
 * as in `layout`), computed in blocks of up to 6 x 4 elements kept in registers; each is the
 * sum of tt_conv2d_grad_weight in its order (positions ascending, from +0), so the values are
 * bit identical whatever the blocking. Every element is passed to `sink` exactly once, in no
 * particular order. `buffer` (buffer_floats floats, contents on entry do not matter; may be
 * NULL) holds converted input columns when they fit (4 x the positions of one tap).
 */
void tt_conv2d_weight_grad_blocks(const tt_conv_shape *shape, const tt_weight_grad_layout *layout,
                                  int32_t input_zero_point, const int8_t *input,
                                  const float *grad_output, float *buffer, size_t buffer_floats,
                                  tt_grad_block_sink sink, void *context);

/* Element `channel` of the bias gradient. */
float tt_bias_grad_channel(size_t positions, int32_t channels, const float *grad_output,
                           int32_t channel);

/* Elements [first, first + count) of the bias gradient into out[0, count), each the sum of
 * tt_bias_grad_channel (several channels per pass over the positions). */
void tt_bias_grad_range(size_t positions, int32_t channels, const float *grad_output,
                        int32_t first, int32_t count, float *out);

/* ----------------------------------------------------------------------- updates */

/* The update RNG's mixing function, inline (tt_hash32 is this function). */
static inline uint32_t tt_hash32_inline(uint32_t x)
{
    x ^= x >> 16;
    x = (uint32_t)(x * UINT32_C(0x7feb352d));
    x ^= x >> 15;
    x = (uint32_t)(x * UINT32_C(0x846ca68b));
    x ^= x >> 16;
    return x;
}

/* The factor of every element's delta: (learning_rate * grad_scale), formed first. */
static inline float tt_sgd_rate(const tt_sgd *sgd)
{
    return sgd->learning_rate * sgd->grad_scale;
}

/* The element updates (tt_sgd.c), below the fused kernels of tt_update.c and tt_backward.c. */

/* The counter after an update of `count` elements (advanced only by stochastic rounding). */
void tt_sgd_advance(const tt_sgd *sgd, size_t count);

/* bias[j] for j < count updated by grad[j] * scale[j] ^ power with u(counter + j) (the element
 * update of tt_sgd_update_s32); the caller advances the counter. */
void tt_sgd_update_bias(int32_t *bias, const float *grad, const float *scale, int32_t count,
                        int32_t power, const tt_sgd *sgd, uint32_t counter);

/* Channel `channel` of tt_bias_update given its gradient (the sum tt_bias_grad_channel returns):
 * scaled by bias_scale[channel] ^ power and applied to bias[channel] with u(counter + channel),
 * `counter` being the RNG counter at the start of the update (the caller advances it by
 * `channels` once every channel is done). */
void tt_bias_update_channel(int32_t channels, int32_t channel, float grad, const float *bias_scale,
                            int32_t power, const tt_sgd *sgd, uint32_t counter, int32_t *bias);

/* A block of weight-gradient sums to apply: element (i, j) (RNG u(counter + i * row_elements
 * + j)) updates param[i * row_step + (columns ? columns[j] : j)] with delta = rate *
 * ((sums[i * cols + j] * input_scale) * scale[i] ^ power), as tt_conv2d_grad_weight ->
 * tt_scale_grad -> tt_sgd_update_s8 would. */
typedef struct {
    int8_t *param;
    size_t row_step;
    const int32_t *columns;
    const float *sums;
    const float *scale;
    int32_t rows, cols;
    uint32_t counter;
    uint32_t row_elements;
} tt_sgd_block;

void tt_sgd_update_block(const tt_sgd_block *block, float input_scale, int32_t power, float rate,
                         tt_rounding rounding);

/* Where a fused update writes element (row, tap, col) of its gradient [rows, taps, cols]:
 *     param[(row_map ? row_map[row] : row) * row_stride + tap * tap_stride
 *           + (col_map ? col_map[col] : col)]
 * (the weight itself with its channel subset, or a split weight's slice as a dense array). */
typedef struct {
    size_t row_stride;
    size_t tap_stride;
    const int32_t *row_map;
    const int32_t *col_map;
} tt_param_map;

/* The fused conv / linear weight updates writing through `map` into `param`: tt_conv2d_weight_
 * update and tt_linear_weight_update pass the full weight and its channel subset, the split
 * kernels the slice array. A linear layer is passed as tt_linear_as_conv with its columns as
 * the channels of a regular conv. scratch: the kernels' tt_conv2d_weight_grad_row_size floats,
 * used as tt_conv2d_weight_grad_blocks' buffer. */
void tt_conv2d_weight_update_into(const tt_conv_shape *shape, float input_scale,
                                  int32_t input_zero_point, const int8_t *input,
                                  const float *grad_output, const int32_t *channels,
                                  int32_t channel_count, const float *weight_scale,
                                  int32_t power, const tt_sgd *sgd, const tt_param_map *map,
                                  int8_t *param, float *scratch);

/* ----------------------------------------------------------------------- split weights */

/* The position of `channel` in split->channels (sorted), or -1 (tt_split_rows.c). */
int32_t tt_split_channel_index(const tt_split_weight *split, int32_t channel);

/* The first position in split->channels whose channel is >= `channel` (tt_split_rows.c). */
int32_t tt_split_channel_lower_bound(const tt_split_weight *split, int32_t channel);

#endif /* TT_INTERNAL_H */
