/*
 * tt_backward.c - float32 gradient kernels. Saved int8 activations and int8 weights are
 * dequantized on the fly; every sum runs in a fixed order (documented in tt_runtime.h).
 *
 * Zero upstream gradients are skipped: adding a +-0 product never changes a float32 sum that
 * starts at +0, so skipping them changes no bit and saves the work behind ReLU zeros.
 */
#include "tt_internal.h"

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
                        tt_nhwc_offset(s->input_h, s->input_w, s->input_c, n, ih, iw, first_channel);
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

void tt_conv2d_grad_input_rows(const tt_conv_shape *s, const float *grad_output,
                               const tt_weight_rows *rows, const float *weight_scale,
                               float *grad_input)
{
    const int32_t in_per_group = s->input_c / s->groups;
    const int32_t out_per_group = s->output_c / s->groups;
    zero_floats(grad_input, (size_t)s->batch * (size_t)s->input_h * (size_t)s->input_w *
                                (size_t)s->input_c);
    for (int32_t n = 0; n < s->batch; ++n) {
        for (int32_t oh = 0; oh < s->output_h; ++oh) {
            for (int32_t ow = 0; ow < s->output_w; ++ow) {
                const float *g = grad_output + tt_nhwc_offset(s->output_h, s->output_w,
                                                              s->output_c, n, oh, ow, 0);
                for (int32_t o = 0; o < s->output_c; ++o) {
                    if (g[o] == 0.0f) {
                        continue;
                    }
                    scatter_row(s, n, oh, ow, (o / out_per_group) * in_per_group,
                                tt_weight_row(rows, o), g[o] * weight_scale[o], grad_input);
                }
            }
        }
    }
}

void tt_conv2d_grad_input(const tt_conv_shape *shape, const float *grad_output,
                          const int8_t *weight, const float *weight_scale, float *grad_input)
{
    const tt_weight_rows rows = tt_complete_rows(weight, tt_conv2d_weight_row_size(shape));
    tt_conv2d_grad_input_rows(shape, grad_output, &rows, weight_scale, grad_input);
}

void tt_depthwise_grad_input_in_place_rows(const tt_conv_shape *s, float *grad,
                                           const tt_weight_rows *rows, const float *weight_scale,
                                           float *plane)
{
    const int32_t channels = s->input_c;
    const size_t pixels = (size_t)s->batch * (size_t)s->output_h * (size_t)s->output_w;
    for (int32_t c = 0; c < channels; ++c) {
        for (size_t p = 0; p < pixels; ++p) {
            plane[p] = grad[p * (size_t)channels + (size_t)c];
            grad[p * (size_t)channels + (size_t)c] = 0.0f;
        }
        scatter_channel(s, plane, 1, c, tt_weight_row(rows, c), weight_scale[c], grad);
    }
}

void tt_depthwise_grad_input_in_place(const tt_conv_shape *shape, float *grad,
                                      const int8_t *weight, const float *weight_scale,
                                      float *plane)
{
    const tt_weight_rows rows = tt_complete_rows(weight, tt_conv2d_weight_row_size(shape));
    tt_depthwise_grad_input_in_place_rows(shape, grad, &rows, weight_scale, plane);
}

/* ----------------------------------------------------------------------- expand + depthwise */

int tt_expand_depthwise_shapes_are_valid(const tt_conv_shape *depthwise,
                                         const tt_conv_shape *expand)
{
    const tt_conv_shape *d = depthwise;
    const tt_conv_shape *e = expand;
    return tt_conv_shape_is_valid(d) && tt_conv_shape_is_valid(e) && d->groups == d->input_c &&
           d->output_c == d->input_c && e->kernel_h == 1 && e->kernel_w == 1 && e->stride_h == 1 &&
           e->stride_w == 1 && e->pad_h == 0 && e->pad_w == 0 && e->groups == 1 &&
           e->batch == d->batch && e->output_h == d->input_h && e->output_w == d->input_w &&
           e->output_c == d->input_c;
}

size_t tt_expand_depthwise_grad_input_scratch_size(const tt_conv_shape *depthwise)
{
    return (size_t)depthwise->batch * (size_t)depthwise->input_h * (size_t)depthwise->input_w *
           sizeof(float);
}

void tt_expand_depthwise_grad_input(const tt_conv_shape *depthwise, const tt_conv_shape *expand,
                                    const float *grad_output, const uint8_t *mask,
                                    const int8_t *depthwise_weight, const float *depthwise_scale,
                                    const int8_t *expand_weight, const float *expand_scale,
                                    int32_t *bias, const float *bias_scale, int32_t power,
                                    const tt_sgd *sgd, float *grad_input, float *plane)
{
    const int32_t channels = depthwise->input_c;
    const size_t positions = (size_t)depthwise->batch * (size_t)depthwise->input_h *
                             (size_t)depthwise->input_w;
    const tt_weight_rows depthwise_rows =
        tt_complete_rows(depthwise_weight, tt_conv2d_weight_row_size(depthwise));
    const tt_weight_rows expand_rows =
        tt_complete_rows(expand_weight, tt_conv2d_weight_row_size(expand));
    /* channel c of the depthwise conv as a one-channel conv whose input gradient is `plane` */
    tt_conv_shape plane_shape = *depthwise;
    plane_shape.input_c = 1;
    plane_shape.output_c = 1;
    plane_shape.groups = 1;
    const uint32_t counter = bias != NULL ? *sgd->rng_counter : 0u;
    zero_floats(grad_input, positions * (size_t)expand->input_c);
    for (int32_t c = 0; c < channels; ++c) {
        /* the depthwise input gradient of channel c, in tt_conv2d_grad_input's order */
        zero_floats(plane, positions);
        scatter_channel(&plane_shape, grad_output + c, (size_t)channels, 0,
                        tt_weight_row(&depthwise_rows, c), depthwise_scale[c], plane);
        /* tt_mask_grad, then tt_bias_update of channel c */
        for (size_t p = 0; p < positions; ++p) {
            if (!tt_mask_bit(mask, p * (size_t)channels + (size_t)c)) {
                plane[p] = 0.0f;
            }
        }
        if (bias != NULL) {
            tt_bias_update_channel(channels, c, tt_bias_grad_channel(positions, 1, plane, 0),
                                   bias_scale, power, sgd, counter, bias);
        }
        /* channel c's terms of the 1x1 input gradient, the next in tt_conv2d_grad_input's order */
        scatter_channel(expand, plane, 1, 0, tt_weight_row(&expand_rows, c), expand_scale[c],
                        grad_input);
    }
    if (bias != NULL) {
        tt_sgd_advance(sgd, (size_t)channels);
    }
}

tt_weight_grad_layout tt_conv2d_weight_grad_layout(const tt_conv_shape *shape,
                                                   const int32_t *channels,
                                                   int32_t channel_count)
{
    tt_weight_grad_layout layout = {shape->output_c, shape->input_c / shape->groups, NULL, NULL};
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

size_t tt_conv2d_weight_grad_row_size(const tt_conv_shape *shape, const int32_t *channels,
                                      int32_t channel_count)
{
    const tt_weight_grad_layout layout =
        tt_conv2d_weight_grad_layout(shape, channels, channel_count);
    return (size_t)shape->kernel_h * (size_t)shape->kernel_w * (size_t)layout.cols;
}

void tt_conv2d_weight_grad_row(const tt_conv_shape *s, const tt_weight_grad_layout *layout,
                               float input_scale, int32_t input_zero_point, const int8_t *input,
                               const float *grad_output, int32_t row, float *out)
{
    const int32_t o = tt_weight_grad_row_channel(layout, row);
    const int32_t first_channel = (o / (s->output_c / s->groups)) * (s->input_c / s->groups);
    const int32_t cols = layout->cols;
    const size_t row_size = (size_t)s->kernel_h * (size_t)s->kernel_w * (size_t)cols;
    zero_floats(out, row_size);
    for (int32_t n = 0; n < s->batch; ++n) {
        for (int32_t oh = 0; oh < s->output_h; ++oh) {
            for (int32_t ow = 0; ow < s->output_w; ++ow) {
                const float g = grad_output[tt_nhwc_offset(s->output_h, s->output_w,
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
                        const int8_t *x = input + tt_nhwc_offset(s->input_h, s->input_w,
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

void tt_conv2d_grad_weight(const tt_conv_shape *shape, float input_scale,
                           int32_t input_zero_point, const int8_t *input,
                           const float *grad_output, const int32_t *channels,
                           int32_t channel_count, float *grad_weight)
{
    const tt_weight_grad_layout layout =
        tt_conv2d_weight_grad_layout(shape, channels, channel_count);
    const size_t row_size = tt_conv2d_weight_grad_row_size(shape, channels, channel_count);
    for (int32_t row = 0; row < layout.rows; ++row) {
        tt_conv2d_weight_grad_row(shape, &layout, input_scale, input_zero_point, input,
                                  grad_output, row, grad_weight + (size_t)row * row_size);
    }
}

/* ----------------------------------------------------------------------- linear */

void tt_linear_grad_input_rows(int32_t batch, int32_t in_features, int32_t out_features,
                               const float *grad_output, const tt_weight_rows *rows,
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
            const int8_t *w = tt_weight_row(rows, o);
            for (int32_t k = 0; k < in_features; ++k) {
                gi[k] += (float)w[k] * scaled;
            }
        }
    }
}

void tt_linear_grad_input(int32_t batch, int32_t in_features, int32_t out_features,
                          const float *grad_output, const int8_t *weight,
                          const float *weight_scale, float *grad_input)
{
    const tt_weight_rows rows = tt_complete_rows(weight, (size_t)in_features);
    tt_linear_grad_input_rows(batch, in_features, out_features, grad_output, &rows,
                              weight_scale, grad_input);
}

void tt_linear_weight_grad_row(int32_t batch, int32_t in_features, int32_t out_features,
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

void tt_linear_grad_weight(int32_t batch, int32_t in_features, int32_t out_features,
                           float input_scale, int32_t input_zero_point, const int8_t *input,
                           const float *grad_output, const int32_t *columns,
                           int32_t column_count, float *grad_weight)
{
    const size_t cols = (size_t)(columns != NULL ? column_count : in_features);
    for (int32_t o = 0; o < out_features; ++o) {
        tt_linear_weight_grad_row(batch, in_features, out_features, input_scale,
                                  input_zero_point, input, grad_output, columns, column_count, o,
                                  grad_weight + (size_t)o * cols);
    }
}

/* ----------------------------------------------------------------------- elementwise */

float tt_bias_grad_channel(size_t positions, int32_t channels, const float *grad_output,
                           int32_t channel)
{
    float sum = 0.0f;
    for (size_t p = 0; p < positions; ++p) {
        sum += grad_output[p * (size_t)channels + (size_t)channel];
    }
    return sum;
}

void tt_bias_grad(size_t positions, int32_t channels, const float *grad_output,
                  float *grad_bias)
{
    for (int32_t c = 0; c < channels; ++c) {
        grad_bias[c] = tt_bias_grad_channel(positions, channels, grad_output, c);
    }
}

/* The straight-through rule of a clamp's backward: the gradient passes strictly inside the range. */
static int inside_clamp(int8_t output, int32_t act_min, int32_t act_max)
{
    return output > act_min && output < act_max;
}

void tt_clamp_grad(size_t count, int32_t act_min, int32_t act_max, const float *grad_output,
                   const int8_t *output, float *grad_input)
{
    for (size_t i = 0; i < count; ++i) {
        grad_input[i] = inside_clamp(output[i], act_min, act_max) ? grad_output[i] : 0.0f;
    }
}

void tt_clamp_mask(size_t count, int32_t act_min, int32_t act_max, const int8_t *output, uint8_t *mask)
{
    for (size_t byte = 0; byte < (count + 7u) / 8u; ++byte) {
        uint8_t bits = 0;
        for (size_t bit = 0; bit < 8u && byte * 8u + bit < count; ++bit) {
            bits |= (uint8_t)(inside_clamp(output[byte * 8u + bit], act_min, act_max) << bit);
        }
        mask[byte] = bits;
    }
}

void tt_mask_grad(size_t count, const float *grad_output, const uint8_t *mask, float *grad_input)
{
    for (size_t i = 0; i < count; ++i) {
        grad_input[i] = tt_mask_bit(mask, i) ? grad_output[i] : 0.0f;
    }
}

void tt_global_avg_pool_grad(int32_t batch, int32_t height, int32_t width, int32_t channels,
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

void tt_grad_accumulate(size_t count, const float *lhs, const float *rhs, float *output)
{
    for (size_t i = 0; i < count; ++i) {
        output[i] = lhs[i] + rhs[i];
    }
}
