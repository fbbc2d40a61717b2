/*
 * kernel_driver_expand_grad.h - tt_expand_depthwise_grad_input (tt_backward.c) for
 * kernel_driver.c, which includes this file after its own kernels (so the argument helpers above
 * are in scope) and lists EXPAND_GRAD_KERNELS in its table. Tests:
 * tests/runtime/test_runtime_expand_grad.py.
 *
 * The plane of scratch is allocated with exactly tt_expand_depthwise_grad_input_scratch_size
 * bytes and filled with garbage, so that AddressSanitizer reports any access outside it and a
 * result that depends on its initial contents shows.
 */
#ifndef KERNEL_DRIVER_EXPAND_GRAD_H
#define KERNEL_DRIVER_EXPAND_GRAD_H

static void run_expand_depthwise_grad_input(request *r)
{ /* depthwise shape, expand shape, grad_output, mask (bytes), depthwise weight, depthwise
     scale, expand weight, expand scale, bias (empty: no update), bias scale, power, sgd(4),
     grad_input, scratch size out[1] */
    const tt_conv_shape depthwise = conv_shape(r, 0);
    const tt_conv_shape expand = conv_shape(r, 1);
    if (!tt_expand_depthwise_shapes_are_valid(&depthwise, &expand)) {
        fail("%s: not a depthwise conv and the 1x1 expand conv before it", r->name);
    }
    const size_t positions = (size_t)depthwise.batch * (size_t)depthwise.input_h *
                             (size_t)depthwise.input_w;
    const size_t expanded = positions * (size_t)depthwise.input_c;
    if (count_of(r, 2) != (size_t)depthwise.batch * (size_t)depthwise.output_h *
                              (size_t)depthwise.output_w * (size_t)depthwise.output_c ||
        count_of(r, 3) != (expanded + 7u) / 8u ||
        count_of(r, 15) != positions * (size_t)expand.input_c) {
        fail("%s: gradient, mask or result size does not match the shapes", r->name);
    }
    const tt_sgd sgd = sgd_of(r, 11);
    const size_t size = tt_expand_depthwise_grad_input_scratch_size(&depthwise);
    float *plane = malloc(size);
    if (plane == NULL) {
        fail("out of memory");
    }
    memset(plane, 0x7f, size);
    const uint8_t *mask = (const uint8_t *)arr_i8(r, 3);
    tt_expand_depthwise_grad_input(&depthwise, &expand, arr_f32(r, 2), mask, arr_i8(r, 4),
                                   arr_f32(r, 5), arr_i8(r, 6), arr_f32(r, 7), arr_i32(r, 8),
                                   arr_f32(r, 9), scalar_i32(r, 10), &sgd, arr_f32(r, 15), plane);
    free(plane);
    arr_i32(r, 16)[0] = (int32_t)size;
}

#define EXPAND_GRAD_KERNELS {"expand_depthwise_grad_input", run_expand_depthwise_grad_input},

#endif /* KERNEL_DRIVER_EXPAND_GRAD_H */
