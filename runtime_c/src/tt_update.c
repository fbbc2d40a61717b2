/*
 * tt_update.c - the fused gradient + update kernels: conv2d / linear weight updates (the
 * weight-gradient blocks of tt_backward.c applied as they are summed) and the bias update.
 *
 * Layer: above tt_backward.c (its weight-gradient blocks and bias-gradient sums) and tt_sgd.c
 * (the element updates); tt_split.c calls it.
 */
#include "tt_internal.h"

/* Channels of tt_bias_update summed per pass over the positions. */
enum { BIAS_BLOCK = 16 };

/* ----------------------------------------------------------------------- fused updates */

/* What update_block needs: the gradient's layout and input scale, the scaling, the SGD step
 * and the map of gradient elements to parameter elements. */
typedef struct {
    const tt_weight_grad_layout *layout;
    size_t taps;
    float input_scale;
    const float *weight_scale;
    int32_t power;
    float rate;
    tt_rounding rounding;
    uint32_t counter; /* the counter on entry: element e uses u(counter + e) */
    const tt_param_map *map;
    int8_t *param;
} block_update;

/* The sink of tt_conv2d_weight_grad_blocks: each element's gradient (sum * input_scale, then
 * scale ^ power of its row's channel, as tt_scale_grad) applied as tt_sgd_update_s8 would at
 * its row-major index in the full gradient. Rows of a block are consecutive rows of the
 * parameter unless a row map is given (then one row at a time). */
static void update_block(void *context, const tt_grad_block *block)
{
    const block_update *u = context;
    const tt_param_map *map = u->map;
    const size_t cols = (size_t)u->layout->cols;
    const int32_t *columns = map->col_map != NULL ? map->col_map + block->col0 : NULL;
    float scale[TT_GRAD_BLOCK_ROWS];
    for (int32_t i = 0; i < block->rows; ++i) {
        scale[i] = u->weight_scale[tt_weight_grad_row_channel(u->layout, block->row0 + i)];
    }
    tt_sgd_block target = {NULL, map->row_stride, columns, block->values, scale, block->rows,
                           block->cols, 0, (uint32_t)(u->taps * cols)};
    const int32_t passes = map->row_map != NULL ? block->rows : 1;
    if (map->row_map != NULL) {
        target.rows = 1;
    }
    for (int32_t i = 0; i < passes; ++i) {
        const int32_t row = block->row0 + i;
        const size_t param_row = (size_t)(map->row_map != NULL ? map->row_map[row] : row);
        const size_t col0 = columns == NULL ? (size_t)block->col0 : 0;
        target.param = u->param + param_row * map->row_stride +
                       (size_t)block->tap * map->tap_stride + col0;
        const size_t index = ((size_t)row * u->taps + (size_t)block->tap) * cols;
        target.counter = u->counter + (uint32_t)(index + (size_t)block->col0);
        target.sums = block->values + i * block->cols;
        target.scale = scale + i;
        tt_sgd_update_block(&target, u->input_scale, u->power, u->rate, u->rounding);
    }
}

void tt_conv2d_weight_update_into(const tt_conv_shape *shape, float input_scale,
                                  int32_t input_zero_point, const int8_t *input,
                                  const float *grad_output, const int32_t *channels,
                                  int32_t channel_count, const float *weight_scale,
                                  int32_t power, const tt_sgd *sgd, const tt_param_map *map,
                                  int8_t *param, float *scratch)
{
    const tt_weight_grad_layout layout =
        tt_conv2d_weight_grad_layout(shape, channels, channel_count);
    const size_t taps = (size_t)shape->kernel_h * (size_t)shape->kernel_w;
    block_update update = {&layout, taps,          input_scale,       weight_scale, power,
                           tt_sgd_rate(sgd), sgd->rounding, *sgd->rng_counter, map,          param};
    tt_conv2d_weight_grad_blocks(shape, &layout, input_zero_point, input, grad_output, scratch,
                                 tt_conv2d_weight_grad_row_size(shape, channels, channel_count),
                                 update_block, &update);
    tt_sgd_advance(sgd, (size_t)layout.rows * taps * (size_t)layout.cols);
}

void tt_conv2d_weight_update(const tt_conv_shape *shape, float input_scale,
                             int32_t input_zero_point, const int8_t *input,
                             const float *grad_output, const int32_t *channels,
                             int32_t channel_count, const float *weight_scale, int32_t power,
                             const tt_sgd *sgd, int8_t *weight, float *scratch)
{
    /* the weight [O, KH, KW, C/groups] with the layout's channel maps (the slice of
     * tt.sgd_update: input channels of a regular conv, whole rows of a depthwise conv) */
    const tt_weight_grad_layout layout =
        tt_conv2d_weight_grad_layout(shape, channels, channel_count);
    const size_t in_per_group = (size_t)(shape->input_c / shape->groups);
    const tt_param_map map = {(size_t)shape->kernel_h * (size_t)shape->kernel_w * in_per_group,
                              in_per_group, layout.row_channels, layout.col_channels};
    tt_conv2d_weight_update_into(shape, input_scale, input_zero_point, input, grad_output,
                                 channels, channel_count, weight_scale, power, sgd, &map, weight,
                                 scratch);
}

void tt_linear_weight_update(int32_t batch, int32_t in_features, int32_t out_features,
                             float input_scale, int32_t input_zero_point, const int8_t *input,
                             const float *grad_output, const int32_t *columns,
                             int32_t column_count, const float *weight_scale, int32_t power,
                             const tt_sgd *sgd, int8_t *weight, float *scratch)
{
    const tt_conv_shape shape = tt_linear_as_conv(batch, in_features, out_features);
    const tt_param_map map = {(size_t)in_features, 0, NULL, columns};
    tt_conv2d_weight_update_into(&shape, input_scale, input_zero_point, input, grad_output,
                                 columns, column_count, weight_scale, power, sgd, &map, weight,
                                 scratch);
}

void tt_bias_update(size_t positions, int32_t channels, const float *grad_output,
                    const float *bias_scale, int32_t power, const tt_sgd *sgd, int32_t *bias)
{
    const uint32_t counter = *sgd->rng_counter;
    float grad[BIAS_BLOCK];
    for (int32_t c0 = 0; c0 < channels; c0 += BIAS_BLOCK) {
        const int32_t count = channels - c0 < BIAS_BLOCK ? channels - c0 : BIAS_BLOCK;
        tt_bias_grad_range(positions, channels, grad_output, c0, count, grad);
        tt_sgd_update_bias(bias + c0, grad, bias_scale + c0, count, power, sgd,
                           counter + (uint32_t)c0);
    }
    tt_sgd_advance(sgd, (size_t)channels);
}
