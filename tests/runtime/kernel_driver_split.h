/*
 * kernel_driver_split.h - the split-weight kernels (tt_split.c) for kernel_driver.c, which
 * includes this file after its own kernels (so the argument helpers above are in scope) and
 * lists SPLIT_KERNELS in its table. Tests: tests/runtime/test_runtime_split.py.
 *
 * A split weight is four arguments: frozen (int8), slice (int8), channels (int32, may be
 * empty), axis (scalar). The slice must have exactly the documented size and scratch buffers
 * are allocated with exactly the documented size (NULL when it is 0), so that AddressSanitizer
 * reports any access outside them.
 */
#ifndef KERNEL_DRIVER_SPLIT_H
#define KERNEL_DRIVER_SPLIT_H

static tt_split_weight split_of(request *r, uint32_t index)
{
    const tt_split_weight weight = {arr_i8(r, index), arr_i8(r, index + 1),
                                    arr_i32(r, index + 2), (int32_t)count_of(r, index + 2),
                                    scalar_i32(r, index + 3)};
    return weight;
}

static void check_slice(request *r, uint32_t index, size_t documented)
{
    if (count_of(r, index + 1) != documented) {
        fail("%s: slice size does not match the documented layout", r->name);
    }
}

static void *scratch_bytes(size_t count)
{
    if (count == 0) {
        return NULL;
    }
    void *scratch = malloc(count);
    if (scratch == NULL) {
        fail("out of memory");
    }
    return scratch;
}

static void run_conv2d_split(request *r)
{ /* shape, quant(3), input, split(4), bias, output */
    const tt_conv_shape shape = conv_shape(r, 0);
    const tt_channel_quant quant = channel_quant(r, 1);
    const tt_split_weight weight = split_of(r, 5);
    check_slice(r, 5, tt_conv2d_split_slice_size(&shape, &weight));
    int8_t *scratch = scratch_bytes(tt_conv2d_split_scratch_size(&shape, &weight));
    tt_conv2d_split(&shape, &quant, arr_i8(r, 4), &weight, arr_i32(r, 9), arr_i8(r, 10), scratch);
    free(scratch);
}

static void run_linear_split(request *r)
{ /* dims[3], quant(3), input, split(4), bias, output */
    const int32_t *d = arr_i32(r, 0);
    const tt_channel_quant quant = channel_quant(r, 1);
    const tt_split_weight weight = split_of(r, 5);
    check_slice(r, 5, tt_linear_split_slice_size(d[1], d[2], &weight));
    int8_t *scratch = scratch_bytes(tt_linear_split_scratch_size(d[1], &weight));
    tt_linear_split(d[0], d[1], d[2], &quant, arr_i8(r, 4), &weight, arr_i32(r, 9),
                    arr_i8(r, 10), scratch);
    free(scratch);
}

static void run_conv2d_grad_input_split(request *r)
{ /* shape, grad_output, split(4), weight_scale, grad_input */
    const tt_conv_shape shape = conv_shape(r, 0);
    const tt_split_weight weight = split_of(r, 2);
    check_slice(r, 2, tt_conv2d_split_slice_size(&shape, &weight));
    int8_t *scratch = scratch_bytes(tt_conv2d_split_scratch_size(&shape, &weight));
    tt_conv2d_grad_input_split(&shape, arr_f32(r, 1), &weight, arr_f32(r, 6), arr_f32(r, 7),
                               scratch);
    free(scratch);
}

static void run_depthwise_grad_input_in_place_split(request *r)
{ /* shape, grad (in: grad_output, out: grad_input), split(4), weight_scale, plane */
    const tt_conv_shape shape = conv_shape(r, 0);
    const tt_split_weight weight = split_of(r, 2);
    check_slice(r, 2, tt_conv2d_split_slice_size(&shape, &weight));
    int8_t *scratch = scratch_bytes(tt_conv2d_split_scratch_size(&shape, &weight));
    tt_depthwise_grad_input_in_place_split(&shape, arr_f32(r, 1), &weight, arr_f32(r, 6),
                                           arr_f32(r, 7), scratch);
    free(scratch);
}

static void run_linear_grad_input_split(request *r)
{ /* dims[3], grad_output, split(4), weight_scale, grad_input */
    const int32_t *d = arr_i32(r, 0);
    const tt_split_weight weight = split_of(r, 2);
    check_slice(r, 2, tt_linear_split_slice_size(d[1], d[2], &weight));
    int8_t *scratch = scratch_bytes(tt_linear_split_scratch_size(d[1], &weight));
    tt_linear_grad_input_split(d[0], d[1], d[2], arr_f32(r, 1), &weight, arr_f32(r, 6),
                               arr_f32(r, 7), scratch);
    free(scratch);
}

static void run_conv2d_weight_update_split(request *r)
{ /* shape, input scale, input zp, input, grad_output, weight_scale, power, sgd(4), split(4) */
    const tt_conv_shape shape = conv_shape(r, 0);
    const tt_sgd sgd = sgd_of(r, 7);
    const tt_split_weight weight = split_of(r, 11);
    check_slice(r, 11, tt_conv2d_split_slice_size(&shape, &weight));
    float *scratch = scratch_bytes(
        tt_conv2d_weight_grad_row_size(&shape, weight.channels, weight.count) * sizeof(float));
    tt_conv2d_weight_update_split(&shape, scalar_f32(r, 1), scalar_i32(r, 2), arr_i8(r, 3),
                                  arr_f32(r, 4), arr_f32(r, 5), scalar_i32(r, 6), &sgd, &weight,
                                  scratch);
    free(scratch);
}

static void run_linear_weight_update_split(request *r)
{ /* dims[3], input scale, input zp, input, grad_output, weight_scale, power, sgd(4), split(4) */
    const int32_t *d = arr_i32(r, 0);
    const tt_sgd sgd = sgd_of(r, 7);
    const tt_split_weight weight = split_of(r, 11);
    check_slice(r, 11, tt_linear_split_slice_size(d[1], d[2], &weight));
    float *scratch = scratch_bytes((size_t)weight.count * sizeof(float));
    tt_linear_weight_update_split(d[0], d[1], d[2], scalar_f32(r, 1), scalar_i32(r, 2),
                                  arr_i8(r, 3), arr_f32(r, 4), arr_f32(r, 5), scalar_i32(r, 6),
                                  &sgd, &weight, scratch);
    free(scratch);
}

#define SPLIT_KERNELS                                                                          \
    {"conv2d_split", run_conv2d_split}, {"linear_split", run_linear_split},                    \
        {"conv2d_grad_input_split", run_conv2d_grad_input_split},                              \
        {"linear_grad_input_split", run_linear_grad_input_split},                              \
        {"depthwise_grad_input_in_place_split", run_depthwise_grad_input_in_place_split},      \
        {"conv2d_weight_update_split", run_conv2d_weight_update_split},                        \
        {"linear_weight_update_split", run_linear_weight_update_split},

#endif /* KERNEL_DRIVER_SPLIT_H */
