/*
 * kernel_driver_bottleneck.h - tt_bottleneck (tt_bottleneck.c) for kernel_driver.c, which
 * includes this file after its own kernels (so the argument helpers above are in scope) and
 * lists BOTTLENECK_KERNELS in its table. Tests: tests/runtime/test_runtime_bottleneck.py.
 *
 * The scratch buffer is allocated with exactly tt_bottleneck_scratch_size bytes and filled with
 * garbage, so that AddressSanitizer reports any access outside it and a result that depends on
 * its initial contents shows.
 */
#ifndef KERNEL_DRIVER_BOTTLENECK_H
#define KERNEL_DRIVER_BOTTLENECK_H

/* int32[23]: batch, input_h, input_w, input_c, hidden_h, hidden_w, hidden_c, output_h,
 * output_w, output_c, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, has_expand,
 * expand_kernel_h, expand_kernel_w, expand_stride_h, expand_stride_w, expand_pad_h,
 * expand_pad_w (the fields of tt_bottleneck_shape in order). */
static tt_bottleneck_shape bottleneck_shape(request *req, uint32_t index)
{
    if (count_of(req, index) != 23) {
        fail("%s: a bottleneck shape has 23 integers", req->name);
    }
    const int32_t *v = arr_i32(req, index);
    const tt_bottleneck_shape shape = {v[0],  v[1],  v[2],  v[3],  v[4],  v[5],  v[6],  v[7],
                                       v[8],  v[9],  v[10], v[11], v[12], v[13], v[14], v[15],
                                       v[16], v[17], v[18], v[19], v[20], v[21], v[22]};
    if (!tt_bottleneck_shape_is_valid(&shape)) {
        fail("%s: invalid bottleneck shape", req->name);
    }
    return shape;
}

static void run_bottleneck(request *r)
{ /* shape, then per stage (expand, depthwise, project) quant(3), weight, bias; input, output,
     scratch size out[1] */
    const tt_bottleneck_shape shape = bottleneck_shape(r, 0);
    tt_channel_quant quants[3];
    tt_conv_stage stages[3];
    for (uint32_t i = 0; i < 3; ++i) {
        const uint32_t base = 1 + 5 * i;
        if (i == 0 && !shape.has_expand) {
            continue;
        }
        quants[i] = channel_quant(r, base);
        stages[i].quant = &quants[i];
        stages[i].weight = arr_i8(r, base + 3);
        stages[i].bias = arr_i32(r, base + 4);
    }
    const size_t size = tt_bottleneck_scratch_size(&shape);
    int8_t *scratch = malloc(size);
    if (scratch == NULL) {
        fail("out of memory");
    }
    memset(scratch, 0x5a, size);
    tt_bottleneck(&shape, shape.has_expand ? &stages[0] : NULL, &stages[1], &stages[2],
                  arr_i8(r, 16), arr_i8(r, 17), scratch);
    free(scratch);
    arr_i32(r, 18)[0] = (int32_t)size;
}

#define BOTTLENECK_KERNELS {"bottleneck", run_bottleneck},

#endif /* KERNEL_DRIVER_BOTTLENECK_H */
