/*
 * checksums.c - runs every runtime kernel on fixed pseudo-random data and reports a hash of
 * each result, so that a host build and a Cortex-M7 build (QEMU) can be compared bit for bit
 * (tests/runtime/test_runtime_target.py). Deterministic: all data comes from an LCG seeded here,
 * and no expression here is of the form a * b + c, which a compiler may contract differently
 * for the two targets (the runtime itself turns contraction off).
 */
#include <stddef.h>
#include <stdint.h>

#include "tt_runtime.h"

/* Provided by the host or the target main: prints "name hash". */
void report(const char *name, uint32_t hash);
void run_checksums(void);

static uint32_t lcg_state;

static uint32_t next_u32(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state;
}

static int8_t next_i8(void)
{
    return (int8_t)(next_u32() >> 24);
}

/* Uniform in [-amplitude, amplitude), a fraction of exact zeros (as after a ReLU). */
static float next_float(float amplitude, uint32_t zero_in_16)
{
    const uint32_t bits = next_u32();
    if ((bits & 15u) < zero_in_16) {
        return 0.0f;
    }
    return ((float)(bits >> 8) / 8388608.0f - 1.0f) * amplitude;
}

static uint32_t hash_bytes(const void *data, size_t bytes)
{
    const unsigned char *p = data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < bytes; ++i) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

#define N 2
#define H 9
#define W 8
#define C 12
#define O 12
#define K 3

static int8_t x[N * H * W * C];
static int8_t y[N * H * W * O];
static int8_t weight[O * K * K * C];
static int32_t bias[O];
static int32_t multiplier[O];
static int32_t shift[O];
static float weight_scale[O];
static float grad_out[N * H * W * O];
static float grad_in[N * H * W * C];
static float grad_w[O * K * K * C];
static float scratch[K * K * C];
static float floats[N * H * W * C];
static int32_t labels[N * 2];

static void fill(void)
{
    lcg_state = 20251122u;
    for (size_t i = 0; i < sizeof x; ++i) {
        x[i] = next_i8();
    }
    for (size_t i = 0; i < sizeof weight; ++i) {
        const int8_t v = next_i8();
        weight[i] = v == -128 ? -127 : v;
    }
    for (int32_t o = 0; o < O; ++o) {
        bias[o] = (int32_t)(next_u32() % 20001u) - 10000;
        multiplier[o] = (int32_t)(1073741824u + next_u32() % 1073741823u);
        shift[o] = -9 - (int32_t)(next_u32() % 3u);
        weight_scale[o] = (float)(2 + o) * 0.001f; /* one rounding: nothing to contract */
    }
    for (size_t i = 0; i < sizeof grad_out / sizeof grad_out[0]; ++i) {
        grad_out[i] = next_float(0.01f, 5u);
    }
    for (size_t i = 0; i < sizeof floats / sizeof floats[0]; ++i) {
        floats[i] = next_float(4.0f, 0u);
    }
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; ++i) {
        labels[i] = (int32_t)(next_u32() % 10u);
    }
}

static void check_forward(void)
{
    const tt_channel_quant quant = {-7, 3, 3, 127, multiplier, shift};
    const tt_conv_shape shapes[] = {
        {N, H, W, C, H, W, O, K, K, 1, 1, 1, 1, 1},   /* regular */
        {N, H, W, C, 5, 4, O, K, K, 2, 2, 1, 1, 1},   /* regular, stride 2 */
        {N, H, W, C, 5, 4, O, K, K, 2, 2, 1, 1, C},   /* depthwise, stride 2 */
        {N, H, W, C, H, W, O, 1, 1, 1, 1, 0, 0, 1},   /* pointwise */
        {N, H, W, C, H, W, O, K, K, 1, 1, 1, 1, 3},   /* grouped */
    };
    const char *names[] = {"conv2d_regular", "conv2d_stride2", "conv2d_depthwise",
                           "conv2d_pointwise", "conv2d_grouped"};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
        tt_conv2d(&shapes[s], &quant, x, weight, bias, y);
        report(names[s], hash_bytes(y, sizeof y));
    }
    tt_linear(N, 3 * C, O, &quant, x, weight, bias, y);
    report("linear", hash_bytes(y, (size_t)N * O));
    const tt_add_quant add = {5, 1395864371, 0, -9, 1288490189, -1, 2, 1503238554, -20, -100, 120};
    tt_add(sizeof x - 1, &add, x, x + 1, y);
    report("add", hash_bytes(y, sizeof x - 1));
    tt_global_avg_pool(N, H, W, C, -3, 4, 1431655765, -6, x, y);
    report("global_avg_pool", hash_bytes(y, (size_t)N * C));
    tt_requantize_tensor(sizeof x, 9, -2, 1717986918, -1, x, y);
    report("requantize", hash_bytes(y, sizeof x));
    tt_clamp(sizeof x, -20, 90, x, y);
    report("clamp", hash_bytes(y, sizeof x));
    tt_quantize(sizeof floats / sizeof floats[0], 0.0371f, -3, floats, y);
    report("quantize", hash_bytes(y, sizeof floats / sizeof floats[0]));
    tt_dequantize(sizeof x, 0.0371f, -3, x, floats);
    report("dequantize", hash_bytes(floats, sizeof floats));
}

static void check_loss(void)
{
    float loss = tt_cross_entropy(N * 2, 10, 0.173f, 3, x, labels);
    tt_cross_entropy_grad(N * 2, 10, 0.173f, 3, x, labels, floats);
    report("cross_entropy", hash_bytes(&loss, sizeof loss) ^ hash_bytes(floats, 40 * sizeof(float)));
    for (size_t i = 0; i < 40; ++i) {
        floats[i] = next_float(30.0f, 0u);
    }
    loss = tt_cross_entropy_f32(N * 2, 10, floats, labels);
    tt_cross_entropy_grad_f32(N * 2, 10, floats, labels, floats + 40);
    report("cross_entropy_f32", hash_bytes(&loss, sizeof loss) ^ hash_bytes(floats + 40, 40 * sizeof(float)));
    for (int32_t i = 0; i < 64; ++i) {
        floats[i] = tt_exp_f32((float)i * -0.37f) + tt_log_f32((float)(10 + 31 * i) * 0.1f);
    }
    report("exp_log", hash_bytes(floats, 64 * sizeof(float)));
}

static void check_backward(void)
{
    const tt_conv_shape regular = {N, H, W, C, 5, 4, O, K, K, 2, 2, 1, 1, 1};
    const tt_conv_shape depthwise = {N, H, W, C, H, W, O, K, K, 1, 1, 1, 1, C};
    const int32_t channels[] = {1, 4, 5, 11};
    tt_conv2d_grad_input(&regular, grad_out, weight, weight_scale, grad_in);
    report("conv2d_grad_input", hash_bytes(grad_in, sizeof grad_in));
    tt_conv2d_grad_input(&depthwise, grad_out, weight, weight_scale, grad_in);
    report("conv2d_grad_input_depthwise", hash_bytes(grad_in, sizeof grad_in));
    tt_conv2d_grad_weight(&regular, 0.037f, -5, x, grad_out, channels, 4, grad_w);
    report("conv2d_grad_weight", hash_bytes(grad_w, O * K * K * 4 * sizeof(float)));
    tt_conv2d_grad_weight(&depthwise, 0.037f, 6, x, grad_out, NULL, 0, grad_w);
    report("conv2d_grad_weight_depthwise", hash_bytes(grad_w, O * K * K * sizeof(float)));
    tt_linear_grad_input(N, 3 * C, O, grad_out, weight, weight_scale, grad_in);
    report("linear_grad_input", hash_bytes(grad_in, N * 3 * C * sizeof(float)));
    tt_linear_grad_weight(N, 3 * C, O, 0.037f, -5, x, grad_out, channels, 4, grad_w);
    report("linear_grad_weight", hash_bytes(grad_w, O * 4 * sizeof(float)));
    tt_bias_grad(N * H * W, O, grad_out, grad_w);
    report("bias_grad", hash_bytes(grad_w, O * sizeof(float)));
    tt_clamp_grad(N * H * W * O, -3, 100, grad_out, x, grad_in);
    report("clamp_grad", hash_bytes(grad_in, N * H * W * O * sizeof(float)));
    tt_clamp_mask(N * H * W * O, -3, 100, x, (uint8_t *)y);
    report("clamp_mask", hash_bytes(y, (N * H * W * O + 7) / 8));
    tt_mask_grad(N * H * W * O, grad_out, (const uint8_t *)y, grad_in);
    report("mask_grad", hash_bytes(grad_in, N * H * W * O * sizeof(float)));
    for (size_t i = 0; i < (size_t)N * H * W * C; ++i) {
        floats[i] = grad_out[i];
    }
    tt_depthwise_grad_input_in_place(&depthwise, floats, weight, weight_scale, grad_w);
    report("depthwise_grad_input_in_place", hash_bytes(floats, sizeof floats));
    tt_global_avg_pool_grad(N, H, W, C, grad_out, grad_in);
    report("global_avg_pool_grad", hash_bytes(grad_in, sizeof grad_in));
    tt_grad_accumulate(N * H * W * C, grad_in, grad_out, grad_in);
    report("grad_accumulate", hash_bytes(grad_in, sizeof grad_in));
    tt_scale_grad(O, 4, weight_scale, NULL, -2, grad_out, grad_in);
    report("scale_grad", hash_bytes(grad_in, O * 4 * sizeof(float)));
}

static void check_updates(void)
{
    const tt_conv_shape regular = {N, H, W, C, H, W, O, K, K, 1, 1, 1, 1, 1};
    const int32_t channels[] = {0, 2, 7};
    uint32_t counter = 0xfffffff0u;
    for (int32_t r = 0; r < 3; ++r) {
        const tt_sgd sgd = {6000.0f, 0.7f, (tt_rounding)r, &counter};
        const tt_param_slice slice = {1, O * K * K, C, channels, 3};
        tt_sgd_update_s8(&slice, &sgd, grad_out, weight);
        report("sgd_update_s8", hash_bytes(weight, sizeof weight) ^ counter);
        const tt_param_slice bias_slice = {1, O, 1, NULL, 0};
        tt_sgd_update_s32(&bias_slice, &sgd, grad_out, bias);
        report("sgd_update_s32", hash_bytes(bias, sizeof bias) ^ counter);
        tt_conv2d_weight_update(&regular, 0.037f, -5, x, grad_out, NULL, 0, weight_scale, -1, &sgd,
                                weight, scratch);
        report("conv2d_weight_update", hash_bytes(weight, sizeof weight) ^ counter);
        tt_linear_weight_update(N, 3 * C, O, 0.037f, -5, x, grad_out, channels, 3, weight_scale, 1,
                                &sgd, weight, scratch);
        report("linear_weight_update", hash_bytes(weight, sizeof weight) ^ counter);
        tt_bias_update(N * H * W, O, grad_out, weight_scale, -1, &sgd, bias);
        report("bias_update", hash_bytes(bias, sizeof bias) ^ counter);
    }
}

/* Split weights (tt_split.c): slices of 3 output channels (axis 0) and of 3 input channels
 * (the last axis) over the frozen `weight`. */
static int8_t slice_rows[3 * K * K * C];
static int8_t slice_cols[O * K * K * 3];
static int8_t split_scratch[K * K * C];

static void fill_slices(void)
{
    for (size_t i = 0; i < sizeof slice_rows; ++i) {
        slice_rows[i] = (int8_t)(next_i8() / 2);
    }
    for (size_t i = 0; i < sizeof slice_cols; ++i) {
        slice_cols[i] = (int8_t)(next_i8() / 2);
    }
}

static void check_split(void)
{
    const tt_channel_quant quant = {-7, 3, 3, 127, multiplier, shift};
    const tt_conv_shape regular = {N, H, W, C, 5, 4, O, K, K, 2, 2, 1, 1, 1};
    const tt_conv_shape depthwise = {N, H, W, C, H, W, O, K, K, 1, 1, 1, 1, C};
    const int32_t channels[] = {0, 2, 7};
    const tt_split_weight rows = {weight, slice_rows, channels, 3, 0};
    const tt_split_weight cols = {weight, slice_cols, channels, 3, 3};
    const tt_split_weight columns = {weight, slice_cols, channels, 3, 1};
    fill_slices();
    tt_conv2d_split(&regular, &quant, x, &cols, bias, y, split_scratch);
    report("conv2d_split", hash_bytes(y, (size_t)N * 5 * 4 * O));
    tt_conv2d_split(&depthwise, &quant, x, &rows, bias, y, NULL);
    report("conv2d_split_depthwise", hash_bytes(y, sizeof y));
    tt_linear_split(N, 3 * C, O, &quant, x, &rows, bias, y, NULL);
    report("linear_split", hash_bytes(y, (size_t)N * O));
    tt_conv2d_grad_input_split(&regular, grad_out, &cols, weight_scale, grad_in, split_scratch);
    report("conv2d_grad_input_split", hash_bytes(grad_in, sizeof grad_in));
    uint32_t counter = 0xfffffff8u;
    const tt_sgd sgd = {6000.0f, 0.7f, TT_ROUND_STOCHASTIC, &counter};
    tt_conv2d_weight_update_split(&regular, 0.037f, -5, x, grad_out, weight_scale, -1, &sgd,
                                  &cols, scratch);
    report("conv2d_weight_update_split", hash_bytes(slice_cols, sizeof slice_cols) ^ counter);
    tt_conv2d_weight_update_split(&depthwise, 0.037f, 6, x, grad_out, weight_scale, 1, &sgd,
                                  &rows, scratch);
    report("conv2d_weight_update_split_depthwise", hash_bytes(slice_rows, 3 * K * K) ^ counter);
    tt_linear_weight_update_split(N, 3 * C, O, 0.037f, -5, x, grad_out, weight_scale, 1, &sgd,
                                  &columns, scratch);
    report("linear_weight_update_split", hash_bytes(slice_cols, O * 3) ^ counter);
}

/* Row-streamed bottlenecks (tt_bottleneck.c): expand -> depthwise s2 -> project, depthwise
 * s1 -> project without an expand conv, and a stem (3x3 stride-2 expand) -> depthwise s1 ->
 * project; every stage O channels of `weight`. */
static int8_t bottleneck_scratch[K * W * O + W * O];

static void check_bottleneck(void)
{
    const tt_channel_quant quant = {-7, 3, 3, 127, multiplier, shift};
    const tt_conv_stage expand = {&quant, weight, bias};
    const tt_conv_stage depthwise = {&quant, weight + O * C, bias};
    const tt_conv_stage project = {&quant, weight + O * C + O * K * K, NULL};
    const tt_conv_stage stem = {&quant, weight, bias};
    const tt_conv_stage stem_depthwise = {&quant, weight, bias};
    const tt_conv_stage stem_project = {&quant, weight + O * K * K, NULL};
    const tt_bottleneck_shape strided = {N, H, W, C, H, W, O, 5, 4, O, K, K,
                                         2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    const tt_bottleneck_shape no_expand = {N, H, W, C, H, W, C, H, W, O, K, K,
                                           1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0};
    const tt_bottleneck_shape stem_block = {N, H, W, C, 5, 4, O, 5, 4, O, K, K,
                                            1, 1, 1, 1, 1, K, K, 2, 2, 1, 1};
    tt_bottleneck(&strided, &expand, &depthwise, &project, x, y, bottleneck_scratch);
    report("bottleneck", hash_bytes(y, (size_t)N * 5 * 4 * O));
    tt_bottleneck(&no_expand, NULL, &depthwise, &project, x, y, bottleneck_scratch);
    report("bottleneck_no_expand", hash_bytes(y, sizeof y));
    tt_bottleneck(&stem_block, &stem, &stem_depthwise, &stem_project, x, y, bottleneck_scratch);
    report("bottleneck_stem", hash_bytes(y, (size_t)N * 5 * 4 * O));
}

/* The fused input gradient through a depthwise conv (stride 2) and the 1x1 expand conv (5 -> C
 * channels) before it (tt_backward.c), without and with the expand conv's bias update. */
static float expand_plane[N * H * W];
static uint8_t expand_mask[(N * H * W * C + 7) / 8];

static void check_expand_grad(void)
{
    const tt_conv_shape depthwise = {N, H, W, C, 5, 4, C, K, K, 2, 2, 1, 1, C};
    const tt_conv_shape expand = {N, H, W, 5, H, W, C, 1, 1, 1, 1, 0, 0, 1};
    uint32_t counter = 0xfffffffau;
    const tt_sgd sgd = {6000.0f, 0.7f, TT_ROUND_STOCHASTIC, &counter};
    tt_clamp_mask(N * H * W * C, -3, 100, x, expand_mask);
    tt_expand_depthwise_grad_input(&depthwise, &expand, grad_out, expand_mask, weight + C * 5,
                                   weight_scale, weight, weight_scale, NULL, NULL, 0, NULL,
                                   grad_in, expand_plane);
    report("expand_depthwise_grad_input", hash_bytes(grad_in, N * H * W * 5 * sizeof(float)));
    tt_expand_depthwise_grad_input(&depthwise, &expand, grad_out, expand_mask, weight + C * 5,
                                   weight_scale, weight, weight_scale, bias, weight_scale, -1,
                                   &sgd, grad_in, expand_plane);
    report("expand_depthwise_grad_input_bias",
           hash_bytes(grad_in, N * H * W * 5 * sizeof(float)) ^ hash_bytes(bias, sizeof bias) ^
               counter);
}

/* The layers of tt_layers.c: pools (3x3 stride 2 padded; 2x2 stride 2 with the bottom / right
 * padding of a ceil-mode pool), the table lookup, multiplies (a broadcast gate in 32-bit steps,
 * a same-shape one in 64 bits), concat (a copy and a requantized input), and the gradients. */
static uint8_t pool_indices[N * 5 * 4 * C];
static int8_t concat_out[N * H * W * C * 2];

static void check_layers(void)
{
    const tt_pool_shape pool = {N, H, W, C, 5, 4, K, K, 2, 2, 1, 1};
    const tt_pool_shape ceil_pool = {N, H, W, C, 5, 4, 2, 2, 2, 2, 0, 0};
    const tt_mul_quant gate = {-3, 5, 2, 1288490189, -6, -100, 120};
    const tt_mul_quant same = {7, -9, 1, 1431655765, -1, -128, 127};
    const size_t count = (size_t)N * H * W * C;
    tt_max_pool(&pool, -90, 100, x, y, pool_indices);
    report("max_pool", hash_bytes(y, (size_t)N * 5 * 4 * C) ^ hash_bytes(pool_indices, sizeof pool_indices));
    tt_avg_pool(&pool, -128, 110, x, y);
    report("avg_pool", hash_bytes(y, (size_t)N * 5 * 4 * C));
    tt_avg_pool(&ceil_pool, -128, 127, x, y);
    report("avg_pool_ceil", hash_bytes(y, (size_t)N * 5 * 4 * C));
    tt_lookup_s8(count, weight, x, y);
    report("lookup_s8", hash_bytes(y, count));
    tt_mul(N, H * W, C, 1, &gate, x, weight, y);
    report("mul_broadcast", hash_bytes(y, count));
    tt_mul(N, H * W, C, 0, &same, x, x, y);
    report("mul", hash_bytes(y, count));
    tt_concat_channels((size_t)N * H * W, C, 2 * C, 0, -3, -3, 1073741824, 1, x, concat_out);
    tt_concat_channels((size_t)N * H * W, C, 2 * C, C, 9, -2, 1717986918, -1, x, concat_out);
    report("concat", hash_bytes(concat_out, sizeof concat_out));
    tt_max_pool_grad(&pool, grad_out, x, grad_in);
    report("max_pool_grad", hash_bytes(grad_in, sizeof grad_in));
    tt_max_pool_grad_indices(&pool, grad_out, pool_indices, grad_in);
    report("max_pool_grad_indices", hash_bytes(grad_in, sizeof grad_in));
    tt_avg_pool_grad(&pool, grad_out, grad_in);
    report("avg_pool_grad", hash_bytes(grad_in, sizeof grad_in));
    tt_lookup_grad(count, floats, grad_out, x, grad_in);
    report("lookup_grad", hash_bytes(grad_in, sizeof grad_in));
    tt_mul_grad(N, H * W, C, 1, 0.037f, -5, grad_out, weight, grad_in);
    report("mul_grad", hash_bytes(grad_in, sizeof grad_in));
    tt_mul_grad_reduce(N, H * W, C, 0.037f, -5, grad_out, x, grad_w);
    report("mul_grad_reduce", hash_bytes(grad_w, (size_t)N * C * sizeof(float)));
    tt_channel_slice((size_t)N * H * W, C, 3, 5, grad_out, grad_in);
    report("channel_slice", hash_bytes(grad_in, (size_t)N * H * W * 5 * sizeof(float)));
}

void run_checksums(void)
{
    fill();
    check_forward();
    check_loss();
    check_backward();
    check_updates();
    check_split();
    check_bottleneck();
    check_expand_grad();
    check_layers();
}
