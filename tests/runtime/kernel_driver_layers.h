/*
 * kernel_driver_layers.h - the kernels of tt_layers.c (pooling, table activations, multiply,
 * concat, and their gradients) for kernel_driver.c, which includes this file after its own
 * kernels (so the argument helpers above are in scope) and lists LAYER_KERNELS in its table.
 * Tests: tests/runtime/test_runtime_layers.py.
 *
 * The `_in_place` entries pass one array as both the input and the output of a kernel that
 * allows it (the memory planner may put them in one buffer).
 */
#ifndef KERNEL_DRIVER_LAYERS_H
#define KERNEL_DRIVER_LAYERS_H

/* int32[12]: batch, input_h, input_w, channels, output_h, output_w, kernel_h, kernel_w,
 * stride_h, stride_w, pad_top, pad_left. */
static tt_pool_shape pool_shape(request *req, uint32_t index)
{
    if (count_of(req, index) != 12) {
        fail("%s: a pool shape has 12 integers", req->name);
    }
    const int32_t *v = arr_i32(req, index);
    const tt_pool_shape shape = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]};
    if (!tt_pool_shape_is_valid(&shape)) {
        fail("%s: invalid pool shape", req->name);
    }
    return shape;
}

static void check_count(request *r, uint32_t index, size_t expected)
{
    if (count_of(r, index) != expected) {
        fail("%s: argument %u has %u elements, expected %u", r->name, (unsigned)index,
             (unsigned)count_of(r, index), (unsigned)expected);
    }
}

static size_t pool_in(const tt_pool_shape *s)
{
    return (size_t)s->batch * (size_t)s->input_h * (size_t)s->input_w * (size_t)s->channels;
}

static size_t pool_out(const tt_pool_shape *s)
{
    return (size_t)s->batch * (size_t)s->output_h * (size_t)s->output_w * (size_t)s->channels;
}

static void run_max_pool(request *r)
{ /* shape, act[2], input, output, indices (empty: NULL) */
    const tt_pool_shape s = pool_shape(r, 0);
    check_count(r, 2, pool_in(&s));
    check_count(r, 3, pool_out(&s));
    if (count_of(r, 4) != 0) {
        check_count(r, 4, pool_out(&s));
    }
    tt_max_pool(&s, arr_i32(r, 1)[0], arr_i32(r, 1)[1], arr_i8(r, 2), arr_i8(r, 3), (uint8_t *)arr_i8(r, 4));
}

static void run_avg_pool(request *r)
{ /* shape, act[2], input, output */
    const tt_pool_shape s = pool_shape(r, 0);
    check_count(r, 2, pool_in(&s));
    check_count(r, 3, pool_out(&s));
    tt_avg_pool(&s, arr_i32(r, 1)[0], arr_i32(r, 1)[1], arr_i8(r, 2), arr_i8(r, 3));
}

static void run_lookup_s8(request *r)
{ /* table[256], input, output */
    check_count(r, 0, 256);
    tt_lookup_s8(count_of(r, 1), arr_i8(r, 0), arr_i8(r, 1), arr_i8(r, 2));
}

static void run_lookup_s8_in_place(request *r)
{ /* table[256], data (input, then output) */
    check_count(r, 0, 256);
    tt_lookup_s8(count_of(r, 1), arr_i8(r, 0), arr_i8(r, 1), arr_i8(r, 1));
}

/* int32[7]: lhs zp, rhs zp, output zp, multiplier, shift, act_min, act_max. */
static tt_mul_quant mul_quant(request *r, uint32_t index)
{
    check_count(r, index, 7);
    const int32_t *q = arr_i32(r, index);
    const tt_mul_quant quant = {q[0], q[1], q[2], q[3], q[4], q[5], q[6]};
    return quant;
}

static void run_mul(request *r)
{ /* dims[4] (batch, positions, channels, rhs broadcast), quant[7], lhs, rhs, output (empty: in place over lhs) */
    const int32_t *d = arr_i32(r, 0);
    const tt_mul_quant q = mul_quant(r, 1);
    const size_t full = (size_t)d[0] * (size_t)d[1] * (size_t)d[2];
    check_count(r, 2, full);
    check_count(r, 3, d[3] ? (size_t)d[0] * (size_t)d[2] : full);
    int8_t *out = count_of(r, 4) != 0 ? arr_i8(r, 4) : arr_i8(r, 2);
    tt_mul(d[0], (size_t)d[1], d[2], d[3], &q, arr_i8(r, 2), arr_i8(r, 3), out);
}

static void run_concat_channels(request *r)
{ /* params[7] (input channels, output channels, offset, input zp, output zp, multiplier, shift),
     input, output */
    check_count(r, 0, 7);
    const int32_t *p = arr_i32(r, 0);
    const size_t positions = count_of(r, 1) / (uint32_t)p[0];
    check_count(r, 2, positions * (size_t)p[1]);
    tt_concat_channels(positions, p[0], p[1], p[2], p[3], p[4], p[5], p[6], arr_i8(r, 1), arr_i8(r, 2));
}

static void run_max_pool_grad(request *r)
{ /* shape, grad_output, input, grad_input */
    const tt_pool_shape s = pool_shape(r, 0);
    check_count(r, 1, pool_out(&s));
    check_count(r, 2, pool_in(&s));
    check_count(r, 3, pool_in(&s));
    tt_max_pool_grad(&s, arr_f32(r, 1), arr_i8(r, 2), arr_f32(r, 3));
}

static void run_max_pool_grad_indices(request *r)
{ /* shape, grad_output, indices (bytes), grad_input */
    const tt_pool_shape s = pool_shape(r, 0);
    check_count(r, 1, pool_out(&s));
    check_count(r, 2, pool_out(&s));
    check_count(r, 3, pool_in(&s));
    tt_max_pool_grad_indices(&s, arr_f32(r, 1), (const uint8_t *)arr_i8(r, 2), arr_f32(r, 3));
}

static void run_avg_pool_grad(request *r)
{ /* shape, grad_output, grad_input */
    const tt_pool_shape s = pool_shape(r, 0);
    check_count(r, 1, pool_out(&s));
    check_count(r, 2, pool_in(&s));
    tt_avg_pool_grad(&s, arr_f32(r, 1), arr_f32(r, 2));
}

static void run_lookup_grad(request *r)
{ /* derivative[256], grad_output, input, grad_input (empty: in place over grad_output) */
    check_count(r, 0, 256);
    check_count(r, 2, count_of(r, 1));
    float *out = count_of(r, 3) != 0 ? arr_f32(r, 3) : arr_f32(r, 1);
    tt_lookup_grad(count_of(r, 1), arr_f32(r, 0), arr_f32(r, 1), arr_i8(r, 2), out);
}

static void run_mul_grad(request *r)
{ /* dims[4] (batch, positions, channels, other broadcast), scale, zp, grad_output, other,
     grad_input (empty: in place over grad_output) */
    const int32_t *d = arr_i32(r, 0);
    const size_t full = (size_t)d[0] * (size_t)d[1] * (size_t)d[2];
    check_count(r, 3, full);
    check_count(r, 4, d[3] ? (size_t)d[0] * (size_t)d[2] : full);
    float *out = count_of(r, 5) != 0 ? arr_f32(r, 5) : arr_f32(r, 3);
    tt_mul_grad(d[0], (size_t)d[1], d[2], d[3], scalar_f32(r, 1), scalar_i32(r, 2), arr_f32(r, 3),
                arr_i8(r, 4), out);
}

static void run_mul_grad_reduce(request *r)
{ /* dims[3] (batch, positions, channels), scale, zp, grad_output, other, grad_input */
    const int32_t *d = arr_i32(r, 0);
    const size_t full = (size_t)d[0] * (size_t)d[1] * (size_t)d[2];
    check_count(r, 3, full);
    check_count(r, 4, full);
    check_count(r, 5, (size_t)d[0] * (size_t)d[2]);
    tt_mul_grad_reduce(d[0], (size_t)d[1], d[2], scalar_f32(r, 1), scalar_i32(r, 2), arr_f32(r, 3),
                       arr_i8(r, 4), arr_f32(r, 5));
}

static void run_channel_slice(request *r)
{ /* params[3] (channels, offset, count), input, output */
    check_count(r, 0, 3);
    const int32_t *p = arr_i32(r, 0);
    const size_t positions = count_of(r, 1) / (uint32_t)p[0];
    check_count(r, 2, positions * (size_t)p[2]);
    tt_channel_slice(positions, p[0], p[1], p[2], arr_f32(r, 1), arr_f32(r, 2));
}

#define LAYER_KERNELS                                                                            \
    {"max_pool", run_max_pool}, {"avg_pool", run_avg_pool}, {"lookup_s8", run_lookup_s8},        \
        {"lookup_s8_in_place", run_lookup_s8_in_place}, {"mul", run_mul},                        \
        {"concat_channels", run_concat_channels}, {"max_pool_grad", run_max_pool_grad},          \
        {"max_pool_grad_indices", run_max_pool_grad_indices},                                    \
        {"avg_pool_grad", run_avg_pool_grad}, {"lookup_grad", run_lookup_grad},                  \
        {"mul_grad", run_mul_grad}, {"mul_grad_reduce", run_mul_grad_reduce},                    \
        {"channel_slice", run_channel_slice},

#endif /* KERNEL_DRIVER_LAYERS_H */
