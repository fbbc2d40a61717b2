/*
 * tt_split.c - kernels on split weights (tt_split_weight: a const frozen weight in flash plus
 * an SRAM slice of the updated channels).
 *
 * Layer: top (calls tt_forward.c, tt_backward.c and tt_update.c; nothing calls it). The rows
 * of a split weight come from tt_split_rows.c, at the bottom.
 *
 * No loop of its own: the forward and input-gradient kernels run the loops of tt_conv2d,
 * tt_linear, tt_conv2d_grad_input and tt_linear_grad_input (tt_*_rows), which read the weight
 * one row (output channel) at a time through tt_weight_row; this file hands them the split
 * weight's row accessor. The fused updates run the loops of tt_conv2d_weight_update and
 * tt_linear_weight_update with the slice as a dense parameter.
 */
#include "tt_internal.h"

static tt_weight_rows split_rows(const tt_split_weight *weight, size_t row_size, int32_t cols,
                                 int8_t *scratch)
{
    tt_weight_rows rows;
    rows.weight = NULL;
    rows.split = weight;
    rows.row_size = row_size;
    rows.cols = cols;
    rows.scratch = scratch;
    return rows;
}

/* ----------------------------------------------------------------------- sizes */

/* Elements of the slice of a weight [out, taps, cols] split on `axis`. */
static size_t slice_size(const tt_split_weight *weight, int32_t out, size_t taps, int32_t cols)
{
    if (weight->axis == 0) {
        return (size_t)weight->count * taps * (size_t)cols;
    }
    return (size_t)out * taps * (size_t)weight->count;
}

size_t tt_conv2d_split_slice_size(const tt_conv_shape *shape, const tt_split_weight *weight)
{
    const size_t taps = (size_t)shape->kernel_h * (size_t)shape->kernel_w;
    return slice_size(weight, shape->output_c, taps, shape->input_c / shape->groups);
}

size_t tt_linear_split_slice_size(int32_t in_features, int32_t out_features,
                                  const tt_split_weight *weight)
{
    return slice_size(weight, out_features, 1, in_features);
}

size_t tt_conv2d_split_scratch_size(const tt_conv_shape *shape, const tt_split_weight *weight)
{
    return weight->axis == 0 ? 0 : tt_conv2d_weight_row_size(shape);
}

size_t tt_linear_split_scratch_size(int32_t in_features, const tt_split_weight *weight)
{
    return weight->axis == 0 ? 0 : (size_t)in_features;
}

/* ----------------------------------------------------------------------- forward */

void tt_conv2d_split(const tt_conv_shape *shape, const tt_channel_quant *quant,
                     const int8_t *input, const tt_split_weight *weight, const int32_t *bias,
                     int8_t *output, int8_t *scratch)
{
    const tt_weight_rows rows = split_rows(weight, tt_conv2d_weight_row_size(shape),
                                           shape->input_c / shape->groups, scratch);
    tt_conv2d_rows(shape, quant, input, &rows, bias, output);
}

void tt_linear_split(int32_t batch, int32_t in_features, int32_t out_features,
                     const tt_channel_quant *quant, const int8_t *input,
                     const tt_split_weight *weight, const int32_t *bias, int8_t *output,
                     int8_t *scratch)
{
    const tt_weight_rows rows = split_rows(weight, (size_t)in_features, in_features, scratch);
    tt_linear_rows(batch, in_features, out_features, quant, input, &rows, bias, output);
}

/* ----------------------------------------------------------------------- input gradients */

void tt_conv2d_grad_input_split(const tt_conv_shape *shape, const float *grad_output,
                                const tt_split_weight *weight, const float *weight_scale,
                                float *grad_input, int8_t *scratch)
{
    const tt_weight_rows rows = split_rows(weight, tt_conv2d_weight_row_size(shape),
                                           shape->input_c / shape->groups, scratch);
    tt_conv2d_grad_input_rows(shape, grad_output, &rows, weight_scale, grad_input);
}

void tt_depthwise_grad_input_in_place_split(const tt_conv_shape *shape, float *grad,
                                            const tt_split_weight *weight,
                                            const float *weight_scale, float *plane,
                                            int8_t *scratch)
{
    const tt_weight_rows rows = split_rows(weight, tt_conv2d_weight_row_size(shape), 1, scratch);
    tt_depthwise_grad_input_in_place_rows(shape, grad, &rows, weight_scale, plane);
}

void tt_linear_grad_input_split(int32_t batch, int32_t in_features, int32_t out_features,
                                const float *grad_output, const tt_split_weight *weight,
                                const float *weight_scale, float *grad_input, int8_t *scratch)
{
    const tt_weight_rows rows = split_rows(weight, (size_t)in_features, in_features, scratch);
    tt_linear_grad_input_rows(batch, in_features, out_features, grad_output, &rows,
                              weight_scale, grad_input);
}

/* ----------------------------------------------------------------------- fused updates */

void tt_conv2d_weight_update_split(const tt_conv_shape *shape, float input_scale,
                                   int32_t input_zero_point, const int8_t *input,
                                   const float *grad_output, const float *weight_scale,
                                   int32_t power, const tt_sgd *sgd,
                                   const tt_split_weight *weight, float *scratch)
{
    if (weight->count == 0) {
        return;
    }
    /* the slice is the gradient [rows, KH, KW, cols] itself: element i updates slice[i] */
    const size_t cols = tt_conv2d_weight_grad_row_size(shape, weight->channels, weight->count) /
                        ((size_t)shape->kernel_h * (size_t)shape->kernel_w);
    const tt_param_map dense = {(size_t)shape->kernel_h * (size_t)shape->kernel_w * cols, cols,
                                NULL, NULL};
    tt_conv2d_weight_update_into(shape, input_scale, input_zero_point, input, grad_output,
                                 weight->channels, weight->count, weight_scale, power, sgd,
                                 &dense, weight->slice, scratch);
}

void tt_linear_weight_update_split(int32_t batch, int32_t in_features, int32_t out_features,
                                   float input_scale, int32_t input_zero_point,
                                   const int8_t *input, const float *grad_output,
                                   const float *weight_scale, int32_t power, const tt_sgd *sgd,
                                   const tt_split_weight *weight, float *scratch)
{
    if (weight->count == 0) {
        return;
    }
    const tt_conv_shape shape = tt_linear_as_conv(batch, in_features, out_features);
    const tt_param_map dense = {(size_t)weight->count, 0, NULL, NULL};
    tt_conv2d_weight_update_into(&shape, input_scale, input_zero_point, input, grad_output,
                                 weight->channels, weight->count, weight_scale, power, sgd,
                                 &dense, weight->slice, scratch);
}
