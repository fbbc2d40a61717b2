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

/* Shape of a conv weight gradient [rows, kernel_h, kernel_w, cols] and where rows and columns
 * come from (see tt_conv2d_grad_weight). */
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

/* Row `row` of the conv weight gradient (kernel_h * kernel_w * cols floats) into `out`. */
void tt_conv2d_weight_grad_row(const tt_conv_shape *shape, const tt_weight_grad_layout *layout,
                               float input_scale, int32_t input_zero_point, const int8_t *input,
                               const float *grad_output, int32_t row, float *out);

/* Row `row` of the linear weight gradient (column_count or in_features floats) into `out`. */
void tt_linear_weight_grad_row(int32_t batch, int32_t in_features, int32_t out_features,
                               float input_scale, int32_t input_zero_point, const int8_t *input,
                               const float *grad_output, const int32_t *columns,
                               int32_t column_count, int32_t row, float *out);

/* Element `channel` of the bias gradient. */
float tt_bias_grad_channel(size_t positions, int32_t channels, const float *grad_output,
                           int32_t channel);

/* row[i] *= scale ^ power for i < count (tt_scale_grad's rule). */
void tt_scale_row(size_t count, float scale, int32_t power, const float *row, float *out);

/* The SGD element update of tt_sgd_update_* for gradient elements [first, first + count) of
 * the slice (grad points at element `first`); `counter` is the RNG counter of element 0. */
void tt_sgd_apply_s8(const tt_param_slice *slice, const tt_sgd *sgd, uint32_t counter,
                     size_t first, size_t count, const float *grad, int8_t *param);
void tt_sgd_apply_s32(const tt_param_slice *slice, const tt_sgd *sgd, uint32_t counter,
                      size_t first, size_t count, const float *grad, int32_t *param);

/* The counter after an update of `count` elements (advanced only by stochastic rounding). */
void tt_sgd_advance(const tt_sgd *sgd, size_t count);

#endif /* TT_INTERNAL_H */
