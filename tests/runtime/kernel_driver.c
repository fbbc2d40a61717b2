/*
 * kernel_driver.c - runs runtime kernels for the Python tests (tests/runtime/cdriver.py).
 *
 * Reads requests from stdin until end of file and answers each on stdout. All integers are
 * little-endian.
 *   request:  u32 name length, name bytes, u32 argument count, arguments
 *   argument: u8 kind ('b' int8, 'i' int32, 'u' uint32, 'f' float32), u32 count, data
 *   answer:   u32 argument count, then every argument as it is after the call (same format)
 * Scalars are arguments of count 1; an argument of count 0 is passed as NULL. Every array is
 * allocated on its own with exactly its size (and scratch buffers with exactly the documented
 * size), so that AddressSanitizer reports any access outside them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_runtime.h"

enum { MAX_ARGS = 24, MAX_NAME = 64 };

typedef struct {
    char kind;
    uint32_t count;
    void *data;
} argument;

typedef struct {
    char name[MAX_NAME];
    uint32_t count;
    argument args[MAX_ARGS];
} request;

static void fail(const char *format, ...)
{
    va_list list;
    va_start(list, format);
    fputs("kernel_driver: ", stderr);
    vfprintf(stderr, format, list);
    fputc('\n', stderr);
    va_end(list);
    exit(2);
}

static size_t kind_size(char kind)
{
    switch (kind) {
    case 'b':
        return 1;
    case 'i':
    case 'u':
    case 'f':
        return 4;
    default:
        fail("unknown argument kind '%c'", kind);
        return 0;
    }
}

static int read_exact(void *buffer, size_t size)
{
    return fread(buffer, 1, size, stdin) == size;
}

static uint32_t read_u32(void)
{
    unsigned char bytes[4];
    if (!read_exact(bytes, sizeof bytes)) {
        fail("truncated request");
    }
    return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
           (uint32_t)bytes[3] << 24;
}

static void write_u32(uint32_t value)
{
    const unsigned char bytes[4] = {(unsigned char)value, (unsigned char)(value >> 8),
                                    (unsigned char)(value >> 16), (unsigned char)(value >> 24)};
    fwrite(bytes, 1, sizeof bytes, stdout);
}

/* Reads one request; returns 0 at end of input. */
static int read_request(request *req)
{
    unsigned char first[4];
    if (!read_exact(first, 1)) {
        return 0;
    }
    if (!read_exact(first + 1, 3)) {
        fail("truncated request");
    }
    const uint32_t name_length = (uint32_t)first[0] | (uint32_t)first[1] << 8 |
                                 (uint32_t)first[2] << 16 | (uint32_t)first[3] << 24;
    if (name_length >= MAX_NAME || !read_exact(req->name, name_length)) {
        fail("bad kernel name");
    }
    req->name[name_length] = '\0';
    req->count = read_u32();
    if (req->count > MAX_ARGS) {
        fail("too many arguments (%u)", (unsigned)req->count);
    }
    for (uint32_t i = 0; i < req->count; ++i) {
        argument *arg = &req->args[i];
        unsigned char kind;
        if (!read_exact(&kind, 1)) {
            fail("truncated request");
        }
        arg->kind = (char)kind;
        arg->count = read_u32();
        const size_t bytes = (size_t)arg->count * kind_size(arg->kind);
        arg->data = NULL;
        if (bytes > 0) {
            arg->data = malloc(bytes);
            if (arg->data == NULL || !read_exact(arg->data, bytes)) {
                fail("cannot read argument %u", (unsigned)i);
            }
        }
    }
    return 1;
}

static void answer_and_free(request *req)
{
    write_u32(req->count);
    for (uint32_t i = 0; i < req->count; ++i) {
        argument *arg = &req->args[i];
        fputc(arg->kind, stdout);
        write_u32(arg->count);
        if (arg->count > 0) {
            fwrite(arg->data, kind_size(arg->kind), arg->count, stdout);
        }
        free(arg->data);
    }
    fflush(stdout);
}

/* ----------------------------------------------------------------------- argument access */

static argument *arg_of(request *req, uint32_t index, char kind)
{
    if (index >= req->count) {
        fail("%s: missing argument %u", req->name, (unsigned)index);
    }
    argument *arg = &req->args[index];
    if (arg->kind != kind) {
        fail("%s: argument %u has kind '%c', expected '%c'", req->name, (unsigned)index, arg->kind,
             kind);
    }
    return arg;
}

/* The array of an argument of the given kind, or NULL for an empty argument of any kind. */
static void *array_of(request *req, uint32_t index, char kind)
{
    if (index < req->count && req->args[index].count == 0) {
        return NULL;
    }
    return arg_of(req, index, kind)->data;
}

static int8_t *arr_i8(request *req, uint32_t index)
{
    return (int8_t *)array_of(req, index, 'b');
}

static int32_t *arr_i32(request *req, uint32_t index)
{
    return (int32_t *)array_of(req, index, 'i');
}

static float *arr_f32(request *req, uint32_t index)
{
    return (float *)array_of(req, index, 'f');
}

static uint32_t *arr_u32(request *req, uint32_t index)
{
    return (uint32_t *)array_of(req, index, 'u');
}

static uint32_t count_of(request *req, uint32_t index)
{
    if (index >= req->count) {
        fail("%s: missing argument %u", req->name, (unsigned)index);
    }
    return req->args[index].count;
}

static int32_t scalar_i32(request *req, uint32_t index)
{
    if (count_of(req, index) != 1) {
        fail("%s: argument %u must be a scalar", req->name, (unsigned)index);
    }
    return arr_i32(req, index)[0];
}

static float scalar_f32(request *req, uint32_t index)
{
    if (count_of(req, index) != 1) {
        fail("%s: argument %u must be a scalar", req->name, (unsigned)index);
    }
    return arr_f32(req, index)[0];
}

/* int32[14]: batch, input_h, input_w, input_c, output_h, output_w, output_c, kernel_h,
 * kernel_w, stride_h, stride_w, pad_h, pad_w, groups. */
static tt_conv_shape conv_shape(request *req, uint32_t index)
{
    if (count_of(req, index) != 14) {
        fail("%s: a conv shape has 14 integers", req->name);
    }
    const int32_t *v = arr_i32(req, index);
    const tt_conv_shape shape = {v[0], v[1], v[2],  v[3],  v[4],  v[5],  v[6],
                                 v[7], v[8], v[9], v[10], v[11], v[12], v[13]};
    if (!tt_conv_shape_is_valid(&shape)) {
        fail("%s: invalid conv shape", req->name);
    }
    return shape;
}

/* int32[4] (input zp, output zp, act_min, act_max), then multiplier[], shift[]. */
static tt_channel_quant channel_quant(request *req, uint32_t index)
{
    const int32_t *v = arr_i32(req, index);
    if (count_of(req, index) != 4) {
        fail("%s: channel quantization has 4 integers", req->name);
    }
    const tt_channel_quant quant = {v[0], v[1], v[2], v[3], arr_i32(req, index + 1),
                                    arr_i32(req, index + 2)};
    return quant;
}

/* learning rate, grad scale, rounding, counter (uint32[1], updated in place). */
static tt_sgd sgd_of(request *req, uint32_t index)
{
    if (count_of(req, index + 3) != 1) {
        fail("%s: the counter is one uint32", req->name);
    }
    const tt_sgd sgd = {scalar_f32(req, index), scalar_f32(req, index + 1),
                        (tt_rounding)scalar_i32(req, index + 2), arr_u32(req, index + 3)};
    return sgd;
}

static float *scratch_floats(size_t count)
{
    float *scratch = malloc(count * sizeof *scratch);
    if (scratch == NULL) {
        fail("out of memory");
    }
    return scratch;
}

/* ----------------------------------------------------------------------- kernels */

static void run_requantize(request *r)
{ /* acc (int32 pairs lo, hi as int64), multiplier[], shift[], out int32 pairs */
    const uint32_t count = count_of(r, 1);
    const int32_t *acc = arr_i32(r, 0);
    int32_t *out = arr_i32(r, 3);
    for (uint32_t i = 0; i < count; ++i) {
        const int64_t value = (int64_t)((uint64_t)(uint32_t)acc[2 * i] |
                                        (uint64_t)(uint32_t)acc[2 * i + 1] << 32);
        const int64_t result = tt_requantize(value, arr_i32(r, 1)[i], arr_i32(r, 2)[i]);
        out[2 * i] = (int32_t)(uint32_t)((uint64_t)result & 0xffffffffu);
        out[2 * i + 1] = (int32_t)(uint32_t)((uint64_t)result >> 32);
    }
}

static void run_hash32(request *r)
{
    uint32_t *values = arr_u32(r, 0);
    for (uint32_t i = 0; i < count_of(r, 0); ++i) {
        values[i] = tt_hash32(values[i]);
    }
}

static void run_exp_log(request *r)
{ /* x[], exp out[], log out[] */
    for (uint32_t i = 0; i < count_of(r, 0); ++i) {
        arr_f32(r, 1)[i] = tt_exp_f32(arr_f32(r, 0)[i]);
        arr_f32(r, 2)[i] = tt_log_f32(arr_f32(r, 0)[i]);
    }
}

static void run_conv2d(request *r)
{ /* shape, quant(3), input, weight, bias, output */
    const tt_conv_shape shape = conv_shape(r, 0);
    const tt_channel_quant quant = channel_quant(r, 1);
    tt_conv2d(&shape, &quant, arr_i8(r, 4), arr_i8(r, 5), arr_i32(r, 6), arr_i8(r, 7));
}

static void run_linear(request *r)
{ /* dims[3], quant(3), input, weight, bias, output */
    const int32_t *d = arr_i32(r, 0);
    const tt_channel_quant quant = channel_quant(r, 1);
    tt_linear(d[0], d[1], d[2], &quant, arr_i8(r, 4), arr_i8(r, 5), arr_i32(r, 6), arr_i8(r, 7));
}

static void run_add(request *r)
{ /* quant[11], lhs, rhs, output */
    const int32_t *q = arr_i32(r, 0);
    if (count_of(r, 0) != 11) {
        fail("add: quantization has 11 integers");
    }
    const tt_add_quant quant = {q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9], q[10]};
    tt_add(count_of(r, 1), &quant, arr_i8(r, 1), arr_i8(r, 2), arr_i8(r, 3));
}

static void run_global_avg_pool(request *r)
{ /* dims[4], params[4] (in zp, out zp, multiplier, shift), input, output */
    const int32_t *d = arr_i32(r, 0);
    const int32_t *p = arr_i32(r, 1);
    tt_global_avg_pool(d[0], d[1], d[2], d[3], p[0], p[1], p[2], p[3], arr_i8(r, 2), arr_i8(r, 3));
}

static void run_requantize_tensor(request *r)
{ /* params[4] (in zp, out zp, multiplier, shift), input, output */
    const int32_t *p = arr_i32(r, 0);
    tt_requantize_tensor(count_of(r, 1), p[0], p[1], p[2], p[3], arr_i8(r, 1), arr_i8(r, 2));
}

static void run_clamp(request *r)
{ /* act_min, act_max, input, output */
    tt_clamp(count_of(r, 2), scalar_i32(r, 0), scalar_i32(r, 1), arr_i8(r, 2), arr_i8(r, 3));
}

static void run_quantize(request *r)
{ /* scale, zp, input, output */
    tt_quantize(count_of(r, 2), scalar_f32(r, 0), scalar_i32(r, 1), arr_f32(r, 2), arr_i8(r, 3));
}

static void run_dequantize(request *r)
{ /* scale, zp, input, output */
    tt_dequantize(count_of(r, 2), scalar_f32(r, 0), scalar_i32(r, 1), arr_i8(r, 2),
                  arr_f32(r, 3));
}

static void run_cross_entropy(request *r)
{ /* dims[2], scale, zp, logits, labels, loss out[1], grad out */
    const int32_t *d = arr_i32(r, 0);
    arr_f32(r, 5)[0] = tt_cross_entropy(d[0], d[1], scalar_f32(r, 1), scalar_i32(r, 2),
                                        arr_i8(r, 3), arr_i32(r, 4));
    tt_cross_entropy_grad(d[0], d[1], scalar_f32(r, 1), scalar_i32(r, 2), arr_i8(r, 3),
                          arr_i32(r, 4), arr_f32(r, 6));
}

static void run_cross_entropy_f32(request *r)
{ /* dims[2], logits, labels, loss out[1], grad out */
    const int32_t *d = arr_i32(r, 0);
    arr_f32(r, 3)[0] = tt_cross_entropy_f32(d[0], d[1], arr_f32(r, 1), arr_i32(r, 2));
    tt_cross_entropy_grad_f32(d[0], d[1], arr_f32(r, 1), arr_i32(r, 2), arr_f32(r, 4));
}

static void run_conv2d_grad_input(request *r)
{ /* shape, grad_output, weight, weight_scale, grad_input */
    const tt_conv_shape shape = conv_shape(r, 0);
    tt_conv2d_grad_input(&shape, arr_f32(r, 1), arr_i8(r, 2), arr_f32(r, 3), arr_f32(r, 4));
}

static void run_depthwise_grad_input_in_place(request *r)
{ /* shape, grad (in: grad_output, out: grad_input), weight, weight_scale, plane */
    const tt_conv_shape shape = conv_shape(r, 0);
    tt_depthwise_grad_input_in_place(&shape, arr_f32(r, 1), arr_i8(r, 2), arr_f32(r, 3), arr_f32(r, 4));
}

static void run_conv2d_grad_weight(request *r)
{ /* shape, input scale, input zp, input, grad_output, channels, grad_weight */
    const tt_conv_shape shape = conv_shape(r, 0);
    const int32_t *channels = arr_i32(r, 5);
    const int32_t count = (int32_t)count_of(r, 5);
    const size_t rows = (size_t)(channels != NULL && shape.groups != 1 ? count : shape.output_c);
    if (count_of(r, 6) != rows * tt_conv2d_weight_grad_row_size(&shape, channels, count)) {
        fail("conv2d_grad_weight: result size does not match the documented layout");
    }
    tt_conv2d_grad_weight(&shape, scalar_f32(r, 1), scalar_i32(r, 2), arr_i8(r, 3),
                          arr_f32(r, 4), channels, count, arr_f32(r, 6));
}

static void run_linear_grad_input(request *r)
{ /* dims[3], grad_output, weight, weight_scale, grad_input */
    const int32_t *d = arr_i32(r, 0);
    tt_linear_grad_input(d[0], d[1], d[2], arr_f32(r, 1), arr_i8(r, 2), arr_f32(r, 3),
                         arr_f32(r, 4));
}

static void run_linear_grad_weight(request *r)
{ /* dims[3], input scale, input zp, input, grad_output, columns, grad_weight */
    const int32_t *d = arr_i32(r, 0);
    tt_linear_grad_weight(d[0], d[1], d[2], scalar_f32(r, 1), scalar_i32(r, 2), arr_i8(r, 3),
                          arr_f32(r, 4), arr_i32(r, 5), (int32_t)count_of(r, 5), arr_f32(r, 6));
}

static void run_bias_grad(request *r)
{ /* channels, grad_output, grad_bias */
    const int32_t channels = scalar_i32(r, 0);
    tt_bias_grad(count_of(r, 1) / (uint32_t)channels, channels, arr_f32(r, 1), arr_f32(r, 2));
}

static void run_clamp_grad(request *r)
{ /* act_min, act_max, grad_output, output, grad_input */
    tt_clamp_grad(count_of(r, 2), scalar_i32(r, 0), scalar_i32(r, 1), arr_f32(r, 2),
                  arr_i8(r, 3), arr_f32(r, 4));
}

static void run_clamp_mask(request *r)
{ /* act_min, act_max, output, mask (bytes) */
    tt_clamp_mask(count_of(r, 2), scalar_i32(r, 0), scalar_i32(r, 1), arr_i8(r, 2), (uint8_t *)arr_i8(r, 3));
}

static void run_mask_grad(request *r)
{ /* grad_output, mask (bytes), grad_input */
    tt_mask_grad(count_of(r, 0), arr_f32(r, 0), (const uint8_t *)arr_i8(r, 1), arr_f32(r, 2));
}

static void run_global_avg_pool_grad(request *r)
{ /* dims[4], grad_output, grad_input */
    const int32_t *d = arr_i32(r, 0);
    tt_global_avg_pool_grad(d[0], d[1], d[2], d[3], arr_f32(r, 1), arr_f32(r, 2));
}

static void run_grad_accumulate(request *r)
{ /* lhs, rhs, output */
    tt_grad_accumulate(count_of(r, 0), arr_f32(r, 0), arr_f32(r, 1), arr_f32(r, 2));
}

static void run_scale_grad(request *r)
{ /* rows, scale, channels, power, grad, output */
    const int32_t rows = scalar_i32(r, 0);
    tt_scale_grad(rows, count_of(r, 4) / (uint32_t)rows, arr_f32(r, 1), arr_i32(r, 2),
                  scalar_i32(r, 3), arr_f32(r, 4), arr_f32(r, 5));
}

/* dims[3] (outer, axis size, inner), channels */
static tt_param_slice slice_of(request *r, uint32_t index)
{
    const int32_t *d = arr_i32(r, index);
    const tt_param_slice slice = {d[0], d[1], d[2], arr_i32(r, index + 1),
                                  (int32_t)count_of(r, index + 1)};
    return slice;
}

static void run_sgd_update_s8(request *r)
{ /* slice(2), sgd(4), grad, param */
    const tt_param_slice slice = slice_of(r, 0);
    const tt_sgd sgd = sgd_of(r, 2);
    if (count_of(r, 6) != tt_param_slice_count(&slice)) {
        fail("sgd_update: gradient size does not match the slice");
    }
    tt_sgd_update_s8(&slice, &sgd, arr_f32(r, 6), arr_i8(r, 7));
}

static void run_sgd_update_s32(request *r)
{ /* slice(2), sgd(4), grad, param */
    const tt_param_slice slice = slice_of(r, 0);
    const tt_sgd sgd = sgd_of(r, 2);
    if (count_of(r, 6) != tt_param_slice_count(&slice)) {
        fail("sgd_update: gradient size does not match the slice");
    }
    tt_sgd_update_s32(&slice, &sgd, arr_f32(r, 6), arr_i32(r, 7));
}

static void run_conv2d_weight_update(request *r)
{ /* shape, input scale, input zp, input, grad_output, channels, weight_scale, power, sgd(4),
     weight */
    const tt_conv_shape shape = conv_shape(r, 0);
    const int32_t *channels = arr_i32(r, 5);
    const int32_t count = (int32_t)count_of(r, 5);
    const tt_sgd sgd = sgd_of(r, 8);
    float *scratch = scratch_floats(tt_conv2d_weight_grad_row_size(&shape, channels, count));
    tt_conv2d_weight_update(&shape, scalar_f32(r, 1), scalar_i32(r, 2), arr_i8(r, 3),
                            arr_f32(r, 4), channels, count, arr_f32(r, 6), scalar_i32(r, 7), &sgd,
                            arr_i8(r, 12), scratch);
    free(scratch);
}

static void run_linear_weight_update(request *r)
{ /* dims[3], input scale, input zp, input, grad_output, columns, weight_scale, power, sgd(4),
     weight */
    const int32_t *d = arr_i32(r, 0);
    const int32_t *columns = arr_i32(r, 5);
    const int32_t count = (int32_t)count_of(r, 5);
    const tt_sgd sgd = sgd_of(r, 8);
    float *scratch = scratch_floats((size_t)(columns != NULL ? count : d[1]));
    tt_linear_weight_update(d[0], d[1], d[2], scalar_f32(r, 1), scalar_i32(r, 2), arr_i8(r, 3),
                            arr_f32(r, 4), columns, count, arr_f32(r, 6), scalar_i32(r, 7), &sgd,
                            arr_i8(r, 12), scratch);
    free(scratch);
}

static void run_bias_update(request *r)
{ /* channels, grad_output, bias_scale, power, sgd(4), bias */
    const int32_t channels = scalar_i32(r, 0);
    const tt_sgd sgd = sgd_of(r, 4);
    tt_bias_update(count_of(r, 1) / (uint32_t)channels, channels, arr_f32(r, 1), arr_f32(r, 2),
                   scalar_i32(r, 3), &sgd, arr_i32(r, 8));
}

#include "kernel_driver_split.h" /* SPLIT_KERNELS */
#include "kernel_driver_bottleneck.h" /* BOTTLENECK_KERNELS */
#include "kernel_driver_expand_grad.h" /* EXPAND_GRAD_KERNELS */
#include "kernel_driver_layers.h" /* LAYER_KERNELS */

typedef struct {
    const char *name;
    void (*run)(request *);
} kernel_entry;

static const kernel_entry KERNELS[] = {
    {"requantize", run_requantize},
    {"hash32", run_hash32},
    {"exp_log", run_exp_log},
    {"conv2d", run_conv2d},
    {"linear", run_linear},
    {"add", run_add},
    {"global_avg_pool", run_global_avg_pool},
    {"requantize_tensor", run_requantize_tensor},
    {"clamp", run_clamp},
    {"quantize", run_quantize},
    {"dequantize", run_dequantize},
    {"cross_entropy", run_cross_entropy},
    {"cross_entropy_f32", run_cross_entropy_f32},
    {"conv2d_grad_input", run_conv2d_grad_input},
    {"depthwise_grad_input_in_place", run_depthwise_grad_input_in_place},
    {"conv2d_grad_weight", run_conv2d_grad_weight},
    {"linear_grad_input", run_linear_grad_input},
    {"linear_grad_weight", run_linear_grad_weight},
    {"bias_grad", run_bias_grad},
    {"clamp_grad", run_clamp_grad},
    {"clamp_mask", run_clamp_mask},
    {"mask_grad", run_mask_grad},
    {"global_avg_pool_grad", run_global_avg_pool_grad},
    {"grad_accumulate", run_grad_accumulate},
    {"scale_grad", run_scale_grad},
    {"sgd_update_s8", run_sgd_update_s8},
    {"sgd_update_s32", run_sgd_update_s32},
    {"conv2d_weight_update", run_conv2d_weight_update},
    {"linear_weight_update", run_linear_weight_update},
    {"bias_update", run_bias_update},
    SPLIT_KERNELS
    BOTTLENECK_KERNELS
    EXPAND_GRAD_KERNELS
    LAYER_KERNELS
};

int main(void)
{
    request req;
    while (read_request(&req)) {
        size_t k = 0;
        while (k < sizeof KERNELS / sizeof KERNELS[0] && strcmp(KERNELS[k].name, req.name) != 0) {
            ++k;
        }
        if (k == sizeof KERNELS / sizeof KERNELS[0]) {
            fail("unknown kernel '%s'", req.name);
        }
        KERNELS[k].run(&req);
        answer_and_free(&req);
    }
    return 0;
}
