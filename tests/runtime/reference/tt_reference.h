/*
 * tt_reference.h - the reference backward and update kernels (tt_reference.c): the API of
 * tt_runtime.h's backward and update sections with a ref_ prefix, and the internal helpers of
 * the runtime they were written with.
 */
#ifndef TT_REFERENCE_H
#define TT_REFERENCE_H

#include "tt_runtime.h"

typedef struct {
    const int8_t *weight;         /* the complete weight, or NULL when split is used */
    const tt_split_weight *split; /* NULL for a complete weight */
    size_t row_size;              /* int8 values per row */
    int32_t cols;                 /* length of the last axis (C/groups, in_features) */
    int8_t *scratch;              /* row_size bytes when split->axis != 0, else unused */
} ref_weight_rows;

typedef struct {
    int32_t rows;
    int32_t cols;
    const int32_t *row_channels; /* output channel of each row (depthwise subset) or NULL */
    const int32_t *col_channels; /* input channel of each column (regular subset) or NULL */
} ref_weight_grad_layout;

void ref_conv2d_grad_input_rows(const tt_conv_shape *s, const float *grad_output, const ref_weight_rows *rows, const float *weight_scale, float *grad_input);
void ref_conv2d_grad_input(const tt_conv_shape *shape, const float *grad_output, const int8_t *weight, const float *weight_scale, float *grad_input);
void ref_depthwise_grad_input_in_place_rows(const tt_conv_shape *s, float *grad, const ref_weight_rows *rows, const float *weight_scale, float *plane);
void ref_depthwise_grad_input_in_place(const tt_conv_shape *shape, float *grad, const int8_t *weight, const float *weight_scale, float *plane);
int ref_expand_depthwise_shapes_are_valid(const tt_conv_shape *depthwise, const tt_conv_shape *expand);
size_t ref_expand_depthwise_grad_input_scratch_size(const tt_conv_shape *depthwise);
void ref_expand_depthwise_grad_input(const tt_conv_shape *depthwise, const tt_conv_shape *expand, const float *grad_output, const uint8_t *mask, const int8_t *depthwise_weight, const float *depthwise_scale, const int8_t *expand_weight, const float *expand_scale, int32_t *bias, const float *bias_scale, int32_t power, const tt_sgd *sgd, float *grad_input, float *plane);
ref_weight_grad_layout ref_conv2d_weight_grad_layout(const tt_conv_shape *shape, const int32_t *channels, int32_t channel_count);
size_t ref_conv2d_weight_grad_row_size(const tt_conv_shape *shape, const int32_t *channels, int32_t channel_count);
void ref_conv2d_weight_grad_row(const tt_conv_shape *s, const ref_weight_grad_layout *layout, float input_scale, int32_t input_zero_point, const int8_t *input, const float *grad_output, int32_t row, float *out);
void ref_conv2d_grad_weight(const tt_conv_shape *shape, float input_scale, int32_t input_zero_point, const int8_t *input, const float *grad_output, const int32_t *channels, int32_t channel_count, float *grad_weight);
void ref_linear_grad_input_rows(int32_t batch, int32_t in_features, int32_t out_features, const float *grad_output, const ref_weight_rows *rows, const float *weight_scale, float *grad_input);
void ref_linear_grad_input(int32_t batch, int32_t in_features, int32_t out_features, const float *grad_output, const int8_t *weight, const float *weight_scale, float *grad_input);
void ref_linear_weight_grad_row(int32_t batch, int32_t in_features, int32_t out_features, float input_scale, int32_t input_zero_point, const int8_t *input, const float *grad_output, const int32_t *columns, int32_t column_count, int32_t row, float *out);
void ref_linear_grad_weight(int32_t batch, int32_t in_features, int32_t out_features, float input_scale, int32_t input_zero_point, const int8_t *input, const float *grad_output, const int32_t *columns, int32_t column_count, float *grad_weight);
float ref_bias_grad_channel(size_t positions, int32_t channels, const float *grad_output, int32_t channel);
void ref_bias_grad(size_t positions, int32_t channels, const float *grad_output, float *grad_bias);
void ref_clamp_grad(size_t count, int32_t act_min, int32_t act_max, const float *grad_output, const int8_t *output, float *grad_input);
void ref_clamp_mask(size_t count, int32_t act_min, int32_t act_max, const int8_t *output, uint8_t *mask);
void ref_mask_grad(size_t count, const float *grad_output, const uint8_t *mask, float *grad_input);
void ref_global_avg_pool_grad(int32_t batch, int32_t height, int32_t width, int32_t channels, const float *grad_output, float *grad_input);
void ref_grad_accumulate(size_t count, const float *lhs, const float *rhs, float *output);
void ref_scale_row(size_t count, float scale, int32_t power, const float *row, float *out);
void ref_scale_grad(int32_t rows, size_t row_size, const float *scale, const int32_t *channels, int32_t power, const float *grad, float *output);
size_t ref_param_slice_count(const tt_param_slice *slice);
void ref_sgd_apply_s8(const tt_param_slice *slice, const tt_sgd *sgd, uint32_t counter, size_t first, size_t count, const float *grad, int8_t *param);
void ref_sgd_apply_s32(const tt_param_slice *slice, const tt_sgd *sgd, uint32_t counter, size_t first, size_t count, const float *grad, int32_t *param);
void ref_sgd_advance(const tt_sgd *sgd, size_t count);
void ref_sgd_update_s8(const tt_param_slice *slice, const tt_sgd *sgd, const float *grad, int8_t *param);
void ref_sgd_update_s32(const tt_param_slice *slice, const tt_sgd *sgd, const float *grad, int32_t *param);
void ref_conv2d_weight_update_into(const tt_conv_shape *shape, float input_scale, int32_t input_zero_point, const int8_t *input, const float *grad_output, const int32_t *channels, int32_t channel_count, const float *weight_scale, int32_t power, const tt_sgd *sgd, const tt_param_slice *target, int8_t *param, float *scratch);
void ref_conv2d_weight_update(const tt_conv_shape *shape, float input_scale, int32_t input_zero_point, const int8_t *input, const float *grad_output, const int32_t *channels, int32_t channel_count, const float *weight_scale, int32_t power, const tt_sgd *sgd, int8_t *weight, float *scratch);
void ref_linear_weight_update_into(int32_t batch, int32_t in_features, int32_t out_features, float input_scale, int32_t input_zero_point, const int8_t *input, const float *grad_output, const int32_t *columns, int32_t column_count, const float *weight_scale, int32_t power, const tt_sgd *sgd, const tt_param_slice *target, int8_t *param, float *scratch);
void ref_linear_weight_update(int32_t batch, int32_t in_features, int32_t out_features, float input_scale, int32_t input_zero_point, const int8_t *input, const float *grad_output, const int32_t *columns, int32_t column_count, const float *weight_scale, int32_t power, const tt_sgd *sgd, int8_t *weight, float *scratch);
void ref_bias_update_channel(int32_t channels, int32_t channel, float grad, const float *bias_scale, int32_t power, const tt_sgd *sgd, uint32_t counter, int32_t *bias);
void ref_bias_update(size_t positions, int32_t channels, const float *grad_output, const float *bias_scale, int32_t power, const tt_sgd *sgd, int32_t *bias);
const int8_t *ref_split_row(const ref_weight_rows *rows, int32_t o);
size_t ref_conv2d_split_slice_size(const tt_conv_shape *shape, const tt_split_weight *weight);
size_t ref_linear_split_slice_size(int32_t in_features, int32_t out_features, const tt_split_weight *weight);
size_t ref_conv2d_split_scratch_size(const tt_conv_shape *shape, const tt_split_weight *weight);
size_t ref_linear_split_scratch_size(int32_t in_features, const tt_split_weight *weight);
void ref_conv2d_grad_input_split(const tt_conv_shape *shape, const float *grad_output, const tt_split_weight *weight, const float *weight_scale, float *grad_input, int8_t *scratch);
void ref_depthwise_grad_input_in_place_split(const tt_conv_shape *shape, float *grad, const tt_split_weight *weight, const float *weight_scale, float *plane, int8_t *scratch);
void ref_linear_grad_input_split(int32_t batch, int32_t in_features, int32_t out_features, const float *grad_output, const tt_split_weight *weight, const float *weight_scale, float *grad_input, int8_t *scratch);
void ref_conv2d_weight_update_split(const tt_conv_shape *shape, float input_scale, int32_t input_zero_point, const int8_t *input, const float *grad_output, const float *weight_scale, int32_t power, const tt_sgd *sgd, const tt_split_weight *weight, float *scratch);
void ref_linear_weight_update_split(int32_t batch, int32_t in_features, int32_t out_features, float input_scale, int32_t input_zero_point, const int8_t *input, const float *grad_output, const float *weight_scale, int32_t power, const tt_sgd *sgd, const tt_split_weight *weight, float *scratch);

#endif /* TT_REFERENCE_H */
