/*
 * kernels_backward.c - instructions of the backward and update kernels on the Cortex-M7 (QEMU
 * mps2-an500, -icount shift=0: SysTick counts instructions exactly, to 40), for shapes of the
 * zoo models' training steps (bench/kernels_backward.py builds, runs and tabulates it).
 *
 * Every case runs the runtime's kernel and the reference loops it replaced
 * (tests/runtime/reference/tt_reference.c, the kernels before they were blocked) on the same
 * deterministic data, times both, and compares every output bit (and the RNG counters):
 *     case <name> <units> <reference instructions> <kernel instructions> <ok|MISMATCH>
 * `units` is what the instructions are divided by: multiply-accumulates (nominal: every tap
 * inside the input, zero gradients included), updated parameters or elements.
 */
#include <string.h>

#include "board.h"
#include "tt_reference.h"
#include "tt_runtime.h"

/* ----------------------------------------------------------------------- data */

enum { ARENA_BYTES = 248 * 1024 };
static uint64_t arena[ARENA_BYTES / 8];
static size_t arena_used;
static uint32_t lcg = 20251130u;

static void *grab(size_t bytes)
{
    const size_t words = (bytes + 7u) / 8u;
    if (arena_used + words > ARENA_BYTES / 8) {
        board_printf("out of arena\n");
        board_exit(1);
    }
    void *p = &arena[arena_used];
    arena_used += words;
    return p;
}

static uint32_t next(void)
{
    lcg = lcg * 1664525u + 1013904223u;
    return lcg;
}

static int8_t *int8s(size_t count)
{
    int8_t *p = grab(count);
    for (size_t i = 0; i < count; ++i) {
        p[i] = (int8_t)(next() >> 24);
    }
    return p;
}

/* Gradients with `zero_percent` exact zeros, magnitudes around 0.01. */
static float *grads(size_t count, uint32_t zero_percent)
{
    float *p = grab(count * sizeof(float));
    for (size_t i = 0; i < count; ++i) {
        const uint32_t r = next();
        p[i] = (r >> 8) % 100u < zero_percent ? 0.0f : (float)(int32_t)(r >> 20) * 0x1p-18f - 0.0078125f;
    }
    return p;
}

static float *scales(size_t count)
{
    float *p = grab(count * sizeof(float));
    for (size_t i = 0; i < count; ++i) {
        p[i] = (float)(1024u + next() % 4096u) * 0x1p-18f;
    }
    return p;
}

static float *floats(size_t count)
{
    float *p = grab(count * sizeof(float));
    memset(p, 0, count * sizeof(float));
    return p;
}

static void *copy(const void *src, size_t bytes)
{
    void *p = grab(bytes);
    memcpy(p, src, bytes);
    return p;
}

/* ----------------------------------------------------------------------- timing, checking */

static uint64_t reference_instructions;
static uint64_t kernel_instructions;
static int same;

#define TIME(counter, call)                 \
    do {                                    \
        board_cycles_start();               \
        call;                               \
        counter = board_cycles_read();      \
    } while (0)

static void compare(const void *got, const void *expected, size_t bytes)
{
    same = same && memcmp(got, expected, bytes) == 0;
}

static void report(const char *name, uint64_t units)
{
    board_printf("case %s %lu %lu %lu %s\n", name, (unsigned long)units,
                 (unsigned long)reference_instructions, (unsigned long)kernel_instructions,
                 same ? "ok" : "MISMATCH");
}

static void begin(void)
{
    arena_used = 0;
    same = 1;
}

static tt_conv_shape conv(int32_t h, int32_t w, int32_t c, int32_t o, int32_t k, int32_t stride,
                          int32_t groups)
{
    const tt_conv_shape s = {1, h, w, c, tt_conv_output_size(h, k, stride, k / 2),
                             tt_conv_output_size(w, k, stride, k / 2), o, k, k, stride, stride,
                             k / 2, k / 2, groups};
    return s;
}

/* Multiply-accumulates of a conv: every (output position, tap inside the input) x channels. */
static uint64_t conv_macs(const tt_conv_shape *s)
{
    uint64_t taps = 0;
    for (int32_t oh = 0; oh < s->output_h; ++oh) {
        for (int32_t ow = 0; ow < s->output_w; ++ow) {
            for (int32_t kh = 0; kh < s->kernel_h; ++kh) {
                for (int32_t kw = 0; kw < s->kernel_w; ++kw) {
                    const int32_t ih = oh * s->stride_h - s->pad_h + kh;
                    const int32_t iw = ow * s->stride_w - s->pad_w + kw;
                    taps += ih >= 0 && ih < s->input_h && iw >= 0 && iw < s->input_w;
                }
            }
        }
    }
    return taps * (uint64_t)s->batch * (uint64_t)s->output_c * (uint64_t)(s->input_c / s->groups);
}

static size_t in_count(const tt_conv_shape *s)
{
    return (size_t)s->batch * (size_t)s->input_h * (size_t)s->input_w * (size_t)s->input_c;
}

static size_t out_count(const tt_conv_shape *s)
{
    return (size_t)s->batch * (size_t)s->output_h * (size_t)s->output_w * (size_t)s->output_c;
}

static size_t weight_count(const tt_conv_shape *s)
{
    return (size_t)s->output_c * (size_t)s->kernel_h * (size_t)s->kernel_w *
           (size_t)(s->input_c / s->groups);
}

/* ----------------------------------------------------------------------- cases */

static void grad_input(const char *name, tt_conv_shape s, uint32_t zero_percent)
{
    begin();
    const float *g = grads(out_count(&s), zero_percent);
    const int8_t *w = int8s(weight_count(&s));
    const float *ws = scales((size_t)s.output_c);
    float *got = floats(in_count(&s));
    float *expected = floats(in_count(&s));
    TIME(reference_instructions, ref_conv2d_grad_input(&s, g, w, ws, expected));
    TIME(kernel_instructions, tt_conv2d_grad_input(&s, g, w, ws, got));
    compare(got, expected, in_count(&s) * sizeof(float));
    report(name, conv_macs(&s));
}

static void grad_input_in_place(const char *name, tt_conv_shape s)
{
    begin();
    float *got = grads(out_count(&s), 30);
    float *expected = copy(got, out_count(&s) * sizeof(float));
    const int8_t *w = int8s(weight_count(&s));
    const float *ws = scales((size_t)s.output_c);
    float *plane = floats((size_t)s.input_h * (size_t)s.input_w);
    TIME(reference_instructions, ref_depthwise_grad_input_in_place(&s, expected, w, ws, plane));
    TIME(kernel_instructions, tt_depthwise_grad_input_in_place(&s, got, w, ws, plane));
    compare(got, expected, in_count(&s) * sizeof(float));
    report(name, conv_macs(&s));
}

static void expand_depthwise(const char *name, tt_conv_shape d, int32_t inputs)
{
    begin();
    const tt_conv_shape e = {1, d.input_h, d.input_w, inputs, d.input_h, d.input_w, d.input_c,
                             1, 1, 1, 1, 0, 0, 1};
    const float *g = grads(out_count(&d), 30);
    uint8_t *mask = grab((in_count(&d) + 7u) / 8u);
    for (size_t i = 0; i < (in_count(&d) + 7u) / 8u; ++i) {
        mask[i] = (uint8_t)(next() | next() >> 8); /* about 3 in 4 pass */
    }
    const int8_t *dw = int8s(weight_count(&d));
    const int8_t *ew = int8s(weight_count(&e));
    const float *ds = scales((size_t)d.input_c);
    const float *es = scales((size_t)d.input_c);
    int32_t *bias = grab((size_t)d.input_c * sizeof(int32_t));
    memset(bias, 0, (size_t)d.input_c * sizeof(int32_t));
    int32_t *bias_reference = copy(bias, (size_t)d.input_c * sizeof(int32_t));
    float *got = floats(in_count(&e));
    float *expected = floats(in_count(&e));
    float *plane = floats((size_t)d.input_h * (size_t)d.input_w);
    uint32_t counter = 1, counter_reference = 1;
    const tt_sgd sgd = {0.01f, 1.0f, TT_ROUND_STOCHASTIC, &counter};
    const tt_sgd sgd_reference = {0.01f, 1.0f, TT_ROUND_STOCHASTIC, &counter_reference};
    TIME(reference_instructions,
         ref_expand_depthwise_grad_input(&d, &e, g, mask, dw, ds, ew, es, bias_reference, es, -1,
                                         &sgd_reference, expected, plane));
    TIME(kernel_instructions, tt_expand_depthwise_grad_input(&d, &e, g, mask, dw, ds, ew, es, bias,
                                                              es, -1, &sgd, got, plane));
    compare(got, expected, in_count(&e) * sizeof(float));
    compare(bias, bias_reference, (size_t)d.input_c * sizeof(int32_t));
    compare(&counter, &counter_reference, sizeof counter);
    report(name, conv_macs(&d) + conv_macs(&e));
}

static void weight_update(const char *name, tt_conv_shape s, int per_weight)
{
    begin();
    const int8_t *x = int8s(in_count(&s));
    const float *g = grads(out_count(&s), 30);
    const float *ws = scales((size_t)s.output_c);
    int8_t *got = int8s(weight_count(&s));
    int8_t *expected = copy(got, weight_count(&s));
    float *row = floats(tt_conv2d_weight_grad_row_size(&s, NULL, 0));
    uint32_t counter = 7, counter_reference = 7;
    const tt_sgd sgd = {0.01f, 1.0f, TT_ROUND_STOCHASTIC, &counter};
    const tt_sgd sgd_reference = {0.01f, 1.0f, TT_ROUND_STOCHASTIC, &counter_reference};
    TIME(reference_instructions, ref_conv2d_weight_update(&s, 0.03f, -3, x, g, NULL, 0, ws, -1,
                                                          &sgd_reference, expected, row));
    TIME(kernel_instructions,
         tt_conv2d_weight_update(&s, 0.03f, -3, x, g, NULL, 0, ws, -1, &sgd, got, row));
    compare(got, expected, weight_count(&s));
    compare(&counter, &counter_reference, sizeof counter);
    report(name, per_weight ? weight_count(&s) : conv_macs(&s));
}

static void grad_weight(const char *name, tt_conv_shape s)
{
    begin();
    const int8_t *x = int8s(in_count(&s));
    const float *g = grads(out_count(&s), 30);
    float *got = floats(weight_count(&s));
    float *expected = floats(weight_count(&s));
    TIME(reference_instructions, ref_conv2d_grad_weight(&s, 0.03f, -3, x, g, NULL, 0, expected));
    TIME(kernel_instructions, tt_conv2d_grad_weight(&s, 0.03f, -3, x, g, NULL, 0, got));
    compare(got, expected, weight_count(&s) * sizeof(float));
    report(name, conv_macs(&s));
}

static void sgd_update(const char *name, tt_rounding rounding, float rate)
{
    begin();
    enum { COUNT = 16384 };
    const float *g = grads(COUNT, 0);
    int8_t *got = int8s(COUNT);
    int8_t *expected = copy(got, COUNT);
    uint32_t counter = 3, counter_reference = 3;
    const tt_sgd sgd = {rate, 1.0f, rounding, &counter};
    const tt_sgd sgd_reference = {rate, 1.0f, rounding, &counter_reference};
    const tt_param_slice slice = {1, 1, COUNT, NULL, 0};
    TIME(reference_instructions, ref_sgd_update_s8(&slice, &sgd_reference, g, expected));
    TIME(kernel_instructions, tt_sgd_update_s8(&slice, &sgd, g, got));
    compare(got, expected, COUNT);
    compare(&counter, &counter_reference, sizeof counter);
    report(name, COUNT);
}

static void bias_update(const char *name, size_t positions, int32_t channels)
{
    begin();
    const float *g = grads(positions * (size_t)channels, 30);
    const float *bs = scales((size_t)channels);
    int32_t *got = grab((size_t)channels * sizeof(int32_t));
    memset(got, 0, (size_t)channels * sizeof(int32_t));
    int32_t *expected = copy(got, (size_t)channels * sizeof(int32_t));
    uint32_t counter = 3, counter_reference = 3;
    const tt_sgd sgd = {0.01f, 1.0f, TT_ROUND_STOCHASTIC, &counter};
    const tt_sgd sgd_reference = {0.01f, 1.0f, TT_ROUND_STOCHASTIC, &counter_reference};
    TIME(reference_instructions, ref_bias_update(positions, channels, g, bs, -1, &sgd_reference,
                                                 expected));
    TIME(kernel_instructions, tt_bias_update(positions, channels, g, bs, -1, &sgd, got));
    compare(got, expected, (size_t)channels * sizeof(int32_t));
    report(name, positions * (size_t)channels);
}

static void masks(void)
{
    begin();
    enum { COUNT = 10240 };
    int8_t *y = int8s(COUNT);
    for (size_t i = 0; i < COUNT; i += 5) {
        y[i] = (int8_t)(next() % 2u ? 127 : -128); /* about 1 in 5 outside the ReLU6 range */
    }
    uint8_t *mask = grab(COUNT / 8);
    uint8_t *mask_reference = grab(COUNT / 8);
    TIME(reference_instructions, ref_clamp_mask(COUNT, -128, 127, y, mask_reference));
    TIME(kernel_instructions, tt_clamp_mask(COUNT, -128, 127, y, mask));
    compare(mask, mask_reference, COUNT / 8);
    report("clamp_mask", COUNT);
    float *got = grads(COUNT, 0);
    float *expected = copy(got, COUNT * sizeof(float));
    TIME(reference_instructions, ref_mask_grad(COUNT, expected, mask, expected));
    TIME(kernel_instructions, tt_mask_grad(COUNT, got, mask, got));
    compare(got, expected, COUNT * sizeof(float));
    report("mask_grad_in_place", COUNT);
}

int main(void)
{
    /* input gradients: mcunet's project convs (dense) and expand convs (ReLU-sparse) */
    grad_input("pointwise_grad_input_4x4_576<-160", conv(4, 4, 576, 160, 1, 1, 1), 5);
    grad_input("pointwise_grad_input_8x8_160<-48", conv(8, 8, 160, 48, 1, 1, 1), 5);
    grad_input("pointwise_grad_input_8x8_48<-240_75%zero", conv(8, 8, 48, 240, 1, 1, 1), 75);
    grad_input("depthwise_grad_input_8x8x240_7x7_s2", conv(8, 8, 240, 240, 7, 2, 240), 30);
    grad_input_in_place("depthwise_in_place_8x8x160_5x5", conv(8, 8, 160, 160, 5, 1, 160));
    grad_input_in_place("depthwise_in_place_4x4x384_5x5", conv(4, 4, 384, 384, 5, 1, 384));
    grad_input_in_place("depthwise_in_place_16x16x48_5x5", conv(16, 16, 48, 48, 5, 1, 48));
    expand_depthwise("expand_depthwise_16x16x96_7x7_s2_<-16", conv(16, 16, 96, 96, 7, 2, 96), 16);
    expand_depthwise("expand_depthwise_4x4x384_5x5_<-96", conv(4, 4, 384, 384, 5, 1, 384), 96);
    /* weight gradients and fused updates */
    weight_update("pointwise_weight_update_4x4_96->384_per_weight", conv(4, 4, 96, 384, 1, 1, 1), 1);
    weight_update("pointwise_weight_update_4x4_96->384", conv(4, 4, 96, 384, 1, 1, 1), 0);
    weight_update("pointwise_weight_update_8x8_48->240", conv(8, 8, 48, 240, 1, 1, 1), 0);
    grad_weight("depthwise_grad_weight_8x8x144_3x3", conv(8, 8, 144, 144, 3, 1, 144));
    /* element updates and masks */
    sgd_update("sgd_update_s8_stochastic", TT_ROUND_STOCHASTIC, 20.0f);
    sgd_update("sgd_update_s8_nearest", TT_ROUND_NEAREST, 20.0f);
    bias_update("bias_update_16x576", 16, 576);
    masks();
    return 0;
}
