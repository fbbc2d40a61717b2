/*
 * tt_conv_s8.h - the int8 conv loops behind tt_conv2d, tt_linear and tt_bottleneck (not API).
 *
 * tt_conv_s8.c holds them: regular convs (groups 1, any kernel, stride and padding; pointwise
 * and linear layers included) computed in tiles of two output channels x two pixels, and
 * depthwise convs computed four channels at a time, one output row range at a time so that
 * tt_bottleneck can stream its rows through the same code. Results are bit identical to the
 * rule of tt_conv2d: integer sums are exact whatever their order, and every output goes
 * through tt_requantize's rule (tt_requantize_rule or its exact 32-bit form tt_requantize32).
 */
#ifndef TT_CONV_S8_H
#define TT_CONV_S8_H

#include "tt_internal.h"

/* Keeps a function's frame out of its caller's, so that the frames of sibling calls do not
 * add up on the stack (kernels stay well under 1 KB of stack). */
#if defined(__GNUC__)
#define TT_SEPARATE_FRAME __attribute__((noinline))
#else
#define TT_SEPARATE_FRAME
#endif

/* Rows of one NHWC image: row r starts at base + (r % ring) * row_bytes. A whole image has
 * ring >= its height; tt_bottleneck's ring of expanded rows has ring = kernel_h. */
typedef struct {
    const int8_t *base;
    size_t row_bytes;
    int32_t ring;
} tt_row_ring;

/* tt_conv2d_rows for groups == 1 (any kernel, stride, padding, batch). Output channels are
 * taken two at a time when the weight rows stay valid together (a complete weight or a split
 * on axis 0), else one at a time (a row assembled in scratch is used before the next one). */
void tt_conv2d_regular_rows(const tt_conv_shape *shape, const tt_channel_quant *quant,
                            const int8_t *input, const tt_weight_rows *rows, const int32_t *bias,
                            int8_t *output);

/* Output rows [oh_first, oh_end) of one image of a depthwise conv (groups == input_c ==
 * output_c; shape->batch is not used), written at output (row oh_first, [output_w, C] each).
 * Each channel's weight row is read once per call, through tt_weight_row. */
void tt_depthwise_rows(const tt_conv_shape *shape, const tt_channel_quant *quant,
                       const tt_row_ring *input, const tt_weight_rows *rows, const int32_t *bias,
                       int32_t oh_first, int32_t oh_end, int8_t *output);

#endif /* TT_CONV_S8_H */
