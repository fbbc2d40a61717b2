/*
 * fuzz_backward.c - the backward and update kernels against their reference copies
 * (reference/tt_reference.c, the literal loops of the documented float32 orders) on random
 * shapes and data, bit for bit: every float result, every updated int8 / int32 parameter and
 * every RNG counter must be identical (NaN results only need to be NaN on both sides).
 *
 * Shapes cover every kind of conv (pointwise, strided, depthwise with and without channel
 * multiplier, with rows of up to 16 taps and strides beyond the kernel, regular KxK, grouped),
 * channel subsets, split weights on both axes, all three
 * roundings and powers -2..2, gradients with many zeros, and every fifth case special values
 * (NaN, infinities, huge and subnormal gradients, non-finite or zero weight scales, learning
 * rates that push deltas past the int32 range).
 *
 * Built with tests/runtime/target/host_main.c for the host and with target_main.c for the
 * Cortex-M7 in QEMU (tests/runtime/test_runtime_reference.py): run_checksums() reports the
 * number of mismatches, the number of comparisons and a hash of all results, which the two
 * builds must agree on. Buffers come from malloc with exactly their size on the host
 * (FUZZ_MALLOC, for AddressSanitizer) and from a static arena on the target.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tt_reference.h"
#include "tt_runtime.h"

/* The random data must be the same on both builds: no contraction of a * b + c into FMAs. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#ifndef FUZZ_ITERATIONS
#define FUZZ_ITERATIONS 400
#endif
#ifndef FUZZ_SEED
#define FUZZ_SEED 88172645463325252ull
#endif

void report(const char *name, uint32_t hash);
void run_checksums(void);

/* ----------------------------------------------------------------------- buffers */

#if defined(FUZZ_MALLOC)
#include <stdlib.h>
enum { MAX_BUFFERS = 64 };
static void *buffers[MAX_BUFFERS];
static size_t buffer_count;

static void *grab(size_t bytes)
{
    void *p = malloc(bytes > 0 ? bytes : 1);
    if (p == NULL || buffer_count == MAX_BUFFERS) {
        abort();
    }
    buffers[buffer_count++] = p;
    return p;
}

static void release_all(void)
{
    while (buffer_count > 0) {
        free(buffers[--buffer_count]);
    }
}
#else
enum { ARENA_BYTES = 200 * 1024 };
static uint64_t arena[ARENA_BYTES / 8];
static size_t arena_used;

static void *grab(size_t bytes)
{
    const size_t words = (bytes + 7u) / 8u;
    if (arena_used + words > ARENA_BYTES / 8) {
        for (;;) { /* cannot happen with the sizes below */
        }
    }
    void *p = &arena[arena_used];
    arena_used += words;
    return p;
}

static void release_all(void)
{
    arena_used = 0;
}
#endif

/* ----------------------------------------------------------------------- random data */

static uint64_t state;
static int special;

static uint32_t rnd(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)(state >> 11);
}

static int32_t rnd_in(int32_t low, int32_t high)
{
    return low + (int32_t)(rnd() % (uint32_t)(high - low + 1));
}

static float unit(void)
{
    return (float)(rnd() >> 8) / 16777216.0f;
}

static float random_grad(int32_t zero_percent)
{
    if ((int32_t)(rnd() % 100u) < zero_percent) {
        return (rnd() & 1u) ? 0.0f : -0.0f;
    }
    if (special && rnd() % 200u == 0) {
        const float values[] = {NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 1e-40f};
        return values[rnd() % 6u];
    }
    float v = (unit() * 2.0f - 1.0f) * 0.01f;
    if (rnd() % 10u == 0) {
        v *= 1000.0f;
    }
    return v;
}

static int8_t *random_i8(size_t count)
{
    int8_t *p = grab(count);
    for (size_t i = 0; i < count; ++i) {
        p[i] = (int8_t)(rnd() >> 24);
    }
    return p;
}

static float *random_grads(size_t count, int32_t zero_percent)
{
    float *p = grab(count * sizeof(float));
    for (size_t i = 0; i < count; ++i) {
        p[i] = random_grad(zero_percent);
    }
    return p;
}

static float *random_scales(size_t count)
{
    float *p = grab(count * sizeof(float));
    for (size_t i = 0; i < count; ++i) {
        p[i] = 0.001f + unit() * 0.05f;
        if (special && rnd() % 50u == 0) {
            const float values[] = {INFINITY, NAN, 0.0f, 1e-30f};
            p[i] = values[rnd() % 4u];
        }
    }
    return p;
}

static float *zeros(size_t count)
{
    float *p = grab(count * sizeof(float));
    memset(p, 0, count * sizeof(float));
    return p;
}

static void *copy_of(const void *src, size_t bytes)
{
    void *p = grab(bytes);
    memcpy(p, src, bytes);
    return p;
}

/* A sorted subset of [0, n), at least one element. */
static int32_t random_subset(int32_t n, int32_t **out)
{
    int32_t *channels = grab((size_t)n * sizeof(int32_t));
    int32_t count = 0;
    const int32_t keep = rnd_in(1, 100);
    for (int32_t i = 0; i < n; ++i) {
        if (rnd_in(1, 100) <= keep) {
            channels[count++] = i;
        }
    }
    if (count == 0) {
        channels[count++] = rnd_in(0, n - 1);
    }
    *out = channels;
    return count;
}

/* ----------------------------------------------------------------------- comparison */

static uint32_t mismatches;
static uint32_t comparisons;
static uint32_t output_hash = 2166136261u;

static void hash_word(uint32_t word)
{
    for (int i = 0; i < 4; ++i, word >>= 8) {
        output_hash = (output_hash ^ (word & 0xffu)) * 16777619u;
    }
}

static void same_floats(const float *got, const float *expected, size_t count)
{
    ++comparisons;
    int differ = 0;
    for (size_t i = 0; i < count; ++i) {
        uint32_t a, b;
        memcpy(&a, &got[i], sizeof a);
        memcpy(&b, &expected[i], sizeof b);
        const int both_nan = got[i] != got[i] && expected[i] != expected[i];
        differ |= a != b && !both_nan;
        hash_word(got[i] != got[i] ? 0x7fc00000u : a); /* NaN payloads differ between FPUs */
    }
    mismatches += (uint32_t)differ;
}

static void same_bytes(const void *got, const void *expected, size_t bytes)
{
    ++comparisons;
    mismatches += memcmp(got, expected, bytes) != 0;
    const uint8_t *p = got;
    for (size_t i = 0; i < bytes; ++i) {
        hash_word(p[i]);
    }
}

/* ----------------------------------------------------------------------- shapes */

enum { POINTWISE, DEPTHWISE, REGULAR, GROUPED };

static tt_conv_shape random_shape(int kind)
{
    tt_conv_shape s;
    s.batch = rnd_in(1, 2);
    s.input_h = rnd_in(1, 11);
    s.input_w = rnd_in(1, 11);
    s.kernel_h = kind == POINTWISE ? 1 : rnd_in(1, 7);
    s.kernel_w = kind == POINTWISE ? 1 : (rnd() % 2u ? s.kernel_h : rnd_in(1, 7));
    s.stride_h = rnd_in(1, 3);
    s.stride_w = rnd() % 2u ? s.stride_h : rnd_in(1, 3);
    if (kind == DEPTHWISE && rnd() % 10u == 0) { /* long rows: the depthwise gather's loops */
        s.kernel_h = rnd_in(1, 4);
        s.kernel_w = rnd_in(8, 16);
    }
    if (kind == DEPTHWISE && rnd() % 20u == 0) { /* strides beyond the kernel */
        s.stride_w = rnd_in(4, 9);
    }
    s.pad_h = kind == POINTWISE ? (rnd() % 8u == 0) : rnd_in(0, s.kernel_h - 1);
    s.pad_w = kind == POINTWISE ? s.pad_h : rnd_in(0, s.kernel_w - 1);
    if (s.input_h + 2 * s.pad_h < s.kernel_h) {
        s.input_h = s.kernel_h;
    }
    if (s.input_w + 2 * s.pad_w < s.kernel_w) {
        s.input_w = s.kernel_w;
    }
    s.input_c = rnd() % 4u == 0 ? rnd_in(1, 80) : rnd_in(1, 24);
    if (s.kernel_w > 7) { /* (fewer channels: the buffers fit the target's arena) */
        s.input_c = rnd_in(1, 16);
    }
    switch (kind) {
    case POINTWISE:
        s.groups = 1;
        s.output_c = rnd() % 4u == 0 ? rnd_in(30, 100) : rnd_in(1, 24);
        break;
    case DEPTHWISE:
        s.groups = s.input_c;
        s.output_c = rnd() % 6u == 0 ? 2 * s.input_c : s.input_c;
        break;
    case REGULAR:
        s.groups = 1;
        s.input_c = s.input_c > 40 ? 40 : s.input_c; /* (the buffers fit the target's arena) */
        s.output_c = rnd_in(1, 12);
        break;
    default:
        s.groups = rnd_in(1, 3);
        s.input_c = s.groups * rnd_in(1, 5);
        s.output_c = s.groups * rnd_in(1, 5);
        break;
    }
    s.output_h = tt_conv_output_size(s.input_h, s.kernel_h, s.stride_h, s.pad_h);
    s.output_w = tt_conv_output_size(s.input_w, s.kernel_w, s.stride_w, s.pad_w);
    return s;
}

static size_t input_size(const tt_conv_shape *s)
{
    return (size_t)s->batch * (size_t)s->input_h * (size_t)s->input_w * (size_t)s->input_c;
}

static size_t output_size(const tt_conv_shape *s)
{
    return (size_t)s->batch * (size_t)s->output_h * (size_t)s->output_w * (size_t)s->output_c;
}

static size_t weight_size(const tt_conv_shape *s)
{
    return (size_t)s->output_c * (size_t)s->kernel_h * (size_t)s->kernel_w *
           (size_t)(s->input_c / s->groups);
}

/* Two identical SGD settings with their own counters (a random one, often about to wrap). */
typedef struct {
    tt_sgd mine, reference;
    uint32_t mine_counter, reference_counter;
} sgd_pair;

static void random_sgd(sgd_pair *p)
{
    p->mine.learning_rate = 0.5f + unit() * 50.0f;
    if (rnd() % 5u == 0) {
        p->mine.learning_rate *= 1000.0f;
    }
    if (special && rnd() % 20u == 0) {
        p->mine.learning_rate = 1e12f;
    }
    p->mine.grad_scale = 0.25f + unit();
    p->mine.rounding = (tt_rounding)(rnd() % 3u);
    p->mine_counter = rnd() % 4u == 0 ? 0xffffffffu - (uint32_t)rnd_in(0, 100) : rnd();
    p->reference_counter = p->mine_counter;
    p->reference = p->mine;
    p->mine.rng_counter = &p->mine_counter;
    p->reference.rng_counter = &p->reference_counter;
}

static void same_counters(const sgd_pair *p)
{
    same_bytes(&p->mine_counter, &p->reference_counter, sizeof p->mine_counter);
}

/* ----------------------------------------------------------------------- cases */

static void input_gradients(void)
{
    const int kind = (int)(rnd() % 4u);
    const tt_conv_shape s = random_shape(kind);
    if (!tt_conv_shape_is_valid(&s)) {
        return;
    }
    const float *g = random_grads(output_size(&s), rnd_in(0, 80));
    const int8_t *w = random_i8(weight_size(&s));
    const float *ws = random_scales((size_t)s.output_c);
    float *mine = zeros(input_size(&s));
    float *expected = zeros(input_size(&s));
    tt_conv2d_grad_input(&s, g, w, ws, mine);
    ref_conv2d_grad_input(&s, g, w, ws, expected);
    same_floats(mine, expected, input_size(&s));

    /* on a split weight, either axis */
    const int32_t axis = rnd() % 2u ? 0 : 3;
    int32_t *channels;
    const int32_t count = random_subset(axis == 0 ? s.output_c : s.input_c / s.groups, &channels);
    tt_split_weight split = {w, NULL, channels, count, axis};
    split.slice = random_i8(tt_conv2d_split_slice_size(&s, &split));
    const size_t scratch_size = tt_conv2d_split_scratch_size(&s, &split);
    int8_t *scratch = scratch_size > 0 ? grab(scratch_size) : NULL;
    tt_conv2d_grad_input_split(&s, g, &split, ws, mine, scratch);
    ref_conv2d_grad_input_split(&s, g, &split, ws, expected, scratch);
    same_floats(mine, expected, input_size(&s));

    /* in place (a same-shape depthwise conv), complete and split on axis 0 */
    if (kind == DEPTHWISE && s.output_c == s.input_c && s.stride_h == 1 && s.stride_w == 1 &&
        s.output_h == s.input_h && s.output_w == s.input_w) {
        float *plane = zeros((size_t)s.batch * (size_t)s.input_h * (size_t)s.input_w);
        float *in_place = copy_of(g, input_size(&s) * sizeof(float));
        float *reference = copy_of(g, input_size(&s) * sizeof(float));
        tt_depthwise_grad_input_in_place(&s, in_place, w, ws, plane);
        ref_depthwise_grad_input_in_place(&s, reference, w, ws, plane);
        same_floats(in_place, reference, input_size(&s));
        int32_t *rows;
        const int32_t row_count = random_subset(s.output_c, &rows);
        tt_split_weight by_rows = {w, NULL, rows, row_count, 0};
        by_rows.slice = random_i8(tt_conv2d_split_slice_size(&s, &by_rows));
        memcpy(in_place, g, input_size(&s) * sizeof(float));
        memcpy(reference, g, input_size(&s) * sizeof(float));
        tt_depthwise_grad_input_in_place_split(&s, in_place, &by_rows, ws, plane, NULL);
        ref_depthwise_grad_input_in_place_split(&s, reference, &by_rows, ws, plane, NULL);
        same_floats(in_place, reference, input_size(&s));
    }
}

static void weight_gradients_and_updates(void)
{
    const int kind = (int)(rnd() % 4u);
    const tt_conv_shape s = random_shape(kind);
    if (!tt_conv_shape_is_valid(&s)) {
        return;
    }
    const float *g = random_grads(output_size(&s), rnd_in(0, 80));
    const int8_t *x = random_i8(input_size(&s));
    const float x_scale = 0.001f + unit() * 0.1f;
    const int32_t zero_point = rnd_in(-128, 127);
    int32_t *channels = NULL;
    int32_t count = 0;
    if (rnd() % 2u && (s.groups == 1 || s.groups == s.input_c)) {
        count = random_subset(s.groups == 1 ? s.input_c : s.output_c, &channels);
    }
    const size_t rows = channels != NULL && s.groups != 1 ? (size_t)count : (size_t)s.output_c;
    const size_t grad_size = rows * tt_conv2d_weight_grad_row_size(&s, channels, count);
    float *mine = zeros(grad_size);
    float *expected = zeros(grad_size);
    tt_conv2d_grad_weight(&s, x_scale, zero_point, x, g, channels, count, mine);
    ref_conv2d_grad_weight(&s, x_scale, zero_point, x, g, channels, count, expected);
    same_floats(mine, expected, grad_size);

    /* fused update of the weight (with its subset) and of a split weight's slice */
    const float *ws = random_scales((size_t)s.output_c);
    int8_t *weight = random_i8(weight_size(&s));
    int8_t *reference = copy_of(weight, weight_size(&s));
    float *scratch = zeros(tt_conv2d_weight_grad_row_size(&s, channels, count));
    const int32_t power = rnd_in(-2, 2);
    sgd_pair sgd;
    random_sgd(&sgd);
    tt_conv2d_weight_update(&s, x_scale, zero_point, x, g, channels, count, ws, power, &sgd.mine,
                            weight, scratch);
    ref_conv2d_weight_update(&s, x_scale, zero_point, x, g, channels, count, ws, power,
                             &sgd.reference, reference, scratch);
    same_bytes(weight, reference, weight_size(&s));
    same_counters(&sgd);
    if (s.groups == 1 || (s.groups == s.input_c && s.output_c == s.input_c)) {
        int32_t *trained;
        const int32_t trained_count = random_subset(s.groups == 1 ? s.input_c : s.output_c, &trained);
        tt_split_weight split = {weight, NULL, trained, trained_count, s.groups == 1 ? 3 : 0};
        const size_t slice = tt_conv2d_split_slice_size(&s, &split);
        split.slice = random_i8(slice);
        tt_split_weight split_reference = split;
        split_reference.slice = copy_of(split.slice, slice);
        float *row = zeros(tt_conv2d_weight_grad_row_size(&s, trained, trained_count));
        tt_conv2d_weight_update_split(&s, x_scale, zero_point, x, g, ws, power, &sgd.mine, &split,
                                      row);
        ref_conv2d_weight_update_split(&s, x_scale, zero_point, x, g, ws, power, &sgd.reference,
                                       &split_reference, row);
        same_bytes(split.slice, split_reference.slice, slice);
        same_counters(&sgd);
    }
}

static void linear_layers(void)
{
    const int32_t n = rnd_in(1, 4), k = rnd_in(1, 200), o = rnd_in(1, 40);
    const float *g = random_grads((size_t)n * (size_t)o, rnd_in(0, 60));
    const int8_t *w = random_i8((size_t)o * (size_t)k);
    const int8_t *x = random_i8((size_t)n * (size_t)k);
    const float *ws = random_scales((size_t)o);
    float *mine = zeros((size_t)n * (size_t)k);
    float *expected = zeros((size_t)n * (size_t)k);
    tt_linear_grad_input(n, k, o, g, w, ws, mine);
    ref_linear_grad_input(n, k, o, g, w, ws, expected);
    same_floats(mine, expected, (size_t)n * (size_t)k);

    int32_t *columns = NULL;
    int32_t count = 0;
    if (rnd() % 2u) {
        count = random_subset(k, &columns);
    }
    const size_t width = columns != NULL ? (size_t)count : (size_t)k;
    const float x_scale = 0.001f + unit() * 0.1f;
    const int32_t zero_point = rnd_in(-128, 127);
    float *grad = zeros((size_t)o * width);
    float *grad_reference = zeros((size_t)o * width);
    tt_linear_grad_weight(n, k, o, x_scale, zero_point, x, g, columns, count, grad);
    ref_linear_grad_weight(n, k, o, x_scale, zero_point, x, g, columns, count, grad_reference);
    same_floats(grad, grad_reference, (size_t)o * width);

    int8_t *weight = copy_of(w, (size_t)o * (size_t)k);
    int8_t *reference = copy_of(w, (size_t)o * (size_t)k);
    float *scratch = zeros((size_t)k);
    const int32_t power = rnd_in(-2, 2);
    sgd_pair sgd;
    random_sgd(&sgd);
    tt_linear_weight_update(n, k, o, x_scale, zero_point, x, g, columns, count, ws, power,
                            &sgd.mine, weight, scratch);
    ref_linear_weight_update(n, k, o, x_scale, zero_point, x, g, columns, count, ws, power,
                             &sgd.reference, reference, scratch);
    same_bytes(weight, reference, (size_t)o * (size_t)k);
    same_counters(&sgd);

    /* split weights */
    const int32_t axis = (int32_t)(rnd() % 2u);
    int32_t *trained;
    const int32_t trained_count = random_subset(axis == 0 ? o : k, &trained);
    tt_split_weight split = {w, NULL, trained, trained_count, axis};
    const size_t slice = tt_linear_split_slice_size(k, o, &split);
    split.slice = random_i8(slice);
    const size_t split_scratch = tt_linear_split_scratch_size(k, &split);
    int8_t *rows = split_scratch > 0 ? grab(split_scratch) : NULL;
    tt_linear_grad_input_split(n, k, o, g, &split, ws, mine, rows);
    ref_linear_grad_input_split(n, k, o, g, &split, ws, expected, rows);
    same_floats(mine, expected, (size_t)n * (size_t)k);
    if (axis == 1) {
        tt_split_weight split_reference = split;
        split_reference.slice = copy_of(split.slice, slice);
        tt_linear_weight_update_split(n, k, o, x_scale, zero_point, x, g, ws, power, &sgd.mine,
                                      &split, scratch);
        ref_linear_weight_update_split(n, k, o, x_scale, zero_point, x, g, ws, power,
                                       &sgd.reference, &split_reference, scratch);
        same_bytes(split.slice, split_reference.slice, slice);
        same_counters(&sgd);
    }
}

/* A gradient for sgd_update whose deltas hit every path of the rounding: tiny, near 1/2,
 * integers and halves, near and past the int32 limits, subnormal, NaN and infinities. */
static float random_delta(void)
{
    float v = unit() * 2.0f - 1.0f;
    switch (rnd() % 8u) {
    case 0:
        return v * 1e-7f;
    case 1:
        return (float)rnd_in(-300, 300) * 0.5f;
    case 2:
        return v * 1e9f;
    case 3:
        return ldexpf(v, rnd_in(-40, 40));
    case 4: {
        const float values[] = {NAN,          INFINITY,      -INFINITY,     0x1p30f,      -0x1p30f,
                                0x1.fffffep29f, -0x1.fffffep29f, 0x1p31f,   0x1.000002p30f, -0.0f,
                                0.5f,         -0.5f,         0x1.fffffep-2f, -0x1.fffffep-2f,
                                0x1.000002p-1f, -0x1.000002p-1f, 0x1.fffffep-1f, -0x1.fffffep-1f,
                                1e-45f,       -1e-45f,       0x1p-32f,      -0x1p-32f,      0x1p33f,
                                -0x1p33f,     0x1.fffffep127f};
        return values[rnd() % (sizeof values / sizeof values[0])];
    }
    default:
        return v * 3.0f;
    }
}

static void updates(void)
{
    const int32_t dims[3] = {rnd_in(1, 5), rnd_in(1, 12), rnd_in(1, 7)};
    int32_t *channels = NULL;
    int32_t count = 0;
    if (rnd() % 2u) {
        count = random_subset(dims[1], &channels);
    }
    const tt_param_slice slice = {dims[0], dims[1], dims[2], channels, count};
    const size_t elements = tt_param_slice_count(&slice);
    const size_t total = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
    float *grad = grab(elements * sizeof(float));
    for (size_t i = 0; i < elements; ++i) {
        grad[i] = random_delta();
    }
    int8_t *weight = random_i8(total);
    int8_t *weight_reference = copy_of(weight, total);
    int32_t *bias = grab(total * sizeof(int32_t));
    for (size_t i = 0; i < total; ++i) {
        const uint32_t r = rnd();
        bias[i] = rnd() % 4u == 0 ? (int32_t)(r | 0x7fff0000u) ^ (rnd() % 2u ? 0 : -1)
                                  : (int32_t)(r % 200001u) - 100000;
    }
    int32_t *bias_reference = copy_of(bias, total * sizeof(int32_t));
    sgd_pair sgd;
    random_sgd(&sgd);
    if (rnd() % 2u) {
        sgd.mine.learning_rate = sgd.reference.learning_rate = 1.0f;
    }
    if (rnd() % 2u) {
        sgd.mine.grad_scale = sgd.reference.grad_scale = 1.0f;
    }
    tt_sgd_update_s8(&slice, &sgd.mine, grad, weight);
    ref_sgd_update_s8(&slice, &sgd.reference, grad, weight_reference);
    same_bytes(weight, weight_reference, total);
    same_counters(&sgd);
    tt_sgd_update_s32(&slice, &sgd.mine, grad, bias);
    ref_sgd_update_s32(&slice, &sgd.reference, grad, bias_reference);
    same_bytes(bias, bias_reference, total * sizeof(int32_t));
    same_counters(&sgd);

    const float *scales = random_scales((size_t)dims[0]);
    const size_t row = elements / (size_t)dims[0];
    const int32_t power = rnd_in(-3, 3);
    float *scaled = zeros(elements);
    float *scaled_reference = zeros(elements);
    tt_scale_grad(dims[0], row, scales, NULL, power, grad, scaled);
    ref_scale_grad(dims[0], row, scales, NULL, power, grad, scaled_reference);
    same_floats(scaled, scaled_reference, elements);

    /* bias gradients and fused bias updates */
    const size_t positions = (size_t)rnd_in(1, 70);
    const int32_t outputs = rnd_in(1, 70);
    const float *g = random_grads(positions * (size_t)outputs, rnd_in(0, 50));
    int32_t *b = grab((size_t)outputs * sizeof(int32_t));
    for (int32_t i = 0; i < outputs; ++i) {
        b[i] = (int32_t)(rnd() % 20001u) - 10000;
    }
    int32_t *b_reference = copy_of(b, (size_t)outputs * sizeof(int32_t));
    float *bias_scale = grab((size_t)outputs * sizeof(float));
    for (int32_t i = 0; i < outputs; ++i) {
        bias_scale[i] = 1e-5f + unit() * 1e-4f;
    }
    const int32_t bias_power = rnd_in(-2, 2);
    tt_bias_update(positions, outputs, g, bias_scale, bias_power, &sgd.mine, b);
    ref_bias_update(positions, outputs, g, bias_scale, bias_power, &sgd.reference, b_reference);
    same_bytes(b, b_reference, (size_t)outputs * sizeof(int32_t));
    same_counters(&sgd);
    float *sums = zeros((size_t)outputs);
    float *sums_reference = zeros((size_t)outputs);
    tt_bias_grad(positions, outputs, g, sums);
    ref_bias_grad(positions, outputs, g, sums_reference);
    same_floats(sums, sums_reference, (size_t)outputs);
}

static void masks(void)
{
    const size_t n = (size_t)rnd_in(1, 300);
    const float *g = random_grads(n, 30);
    int8_t *y = random_i8(n);
    for (size_t i = 0; i < n; ++i) {
        if (rnd() % 4u == 0) {
            y[i] = (int8_t)(rnd() % 2u ? 127 : -128);
        }
    }
    int32_t low = rnd_in(-130, 129), high = rnd_in(-130, 129);
    if (rnd() % 2u) {
        low = -128;
        high = 127;
    }
    if (low > high) {
        const int32_t t = low;
        low = high;
        high = t;
    }
    float *mine = zeros(n);
    float *expected = zeros(n);
    tt_clamp_grad(n, low, high, g, y, mine);
    ref_clamp_grad(n, low, high, g, y, expected);
    same_floats(mine, expected, n);
    uint8_t *mask = grab((n + 7u) / 8u);
    uint8_t *mask_reference = grab((n + 7u) / 8u);
    tt_clamp_mask(n, low, high, y, mask);
    ref_clamp_mask(n, low, high, y, mask_reference);
    same_bytes(mask, mask_reference, (n + 7u) / 8u);
    tt_mask_grad(n, g, mask, mine);
    ref_mask_grad(n, g, mask, expected);
    same_floats(mine, expected, n);
    memcpy(mine, g, n * sizeof(float));
    memcpy(expected, g, n * sizeof(float));
    tt_mask_grad(n, mine, mask, mine);
    ref_mask_grad(n, expected, mask, expected);
    same_floats(mine, expected, n);
}

static void expand_depthwise(void)
{
    tt_conv_shape d = random_shape(DEPTHWISE);
    d.output_c = d.input_c;
    d.groups = d.input_c;
    if (!tt_conv_shape_is_valid(&d)) {
        return;
    }
    const tt_conv_shape e = {d.batch, d.input_h, d.input_w, rnd_in(1, 90), d.input_h, d.input_w,
                             d.input_c, 1, 1, 1, 1, 0, 0, 1};
    const float *g = random_grads(output_size(&d), rnd_in(0, 70));
    uint8_t *mask = grab((input_size(&d) + 7u) / 8u);
    for (size_t i = 0; i < (input_size(&d) + 7u) / 8u; ++i) {
        mask[i] = (uint8_t)(rnd() | rnd());
    }
    const int8_t *depthwise_weight = random_i8(weight_size(&d));
    const int8_t *expand_weight = random_i8(weight_size(&e));
    const float *depthwise_scale = random_scales((size_t)d.input_c);
    const float *expand_scale = random_scales((size_t)d.input_c);
    float *bias_scale = grab((size_t)d.input_c * sizeof(float));
    int32_t *bias = grab((size_t)d.input_c * sizeof(int32_t));
    for (int32_t i = 0; i < d.input_c; ++i) {
        bias_scale[i] = 1e-5f + unit() * 1e-4f;
        bias[i] = (int32_t)(rnd() % 20001u) - 10000;
    }
    int32_t *bias_reference = copy_of(bias, (size_t)d.input_c * sizeof(int32_t));
    float *mine = zeros(input_size(&e));
    float *expected = zeros(input_size(&e));
    float *plane = zeros(tt_expand_depthwise_grad_input_scratch_size(&d) / sizeof(float));
    sgd_pair sgd;
    random_sgd(&sgd);
    const int with_bias = (int)(rnd() % 2u);
    const int32_t power = rnd_in(-2, 2);
    tt_expand_depthwise_grad_input(&d, &e, g, mask, depthwise_weight, depthwise_scale,
                                   expand_weight, expand_scale, with_bias ? bias : NULL,
                                   bias_scale, power, &sgd.mine, mine, plane);
    ref_expand_depthwise_grad_input(&d, &e, g, mask, depthwise_weight, depthwise_scale,
                                    expand_weight, expand_scale,
                                    with_bias ? bias_reference : NULL, bias_scale, power,
                                    &sgd.reference, expected, plane);
    same_floats(mine, expected, input_size(&e));
    same_bytes(bias, bias_reference, (size_t)d.input_c * sizeof(int32_t));
    same_counters(&sgd);
}

void run_checksums(void)
{
    state = FUZZ_SEED;
    for (int32_t i = 0; i < FUZZ_ITERATIONS; ++i) {
        special = i % 5 == 4;
        input_gradients();
        release_all();
        weight_gradients_and_updates();
        release_all();
        linear_layers();
        release_all();
        updates();
        release_all();
        masks();
        release_all();
        expand_depthwise();
        release_all();
    }
    report("mismatches", mismatches);
    report("comparisons", comparisons);
    report("results", output_hash);
}
