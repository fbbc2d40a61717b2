/*
 * tt_backward.c - float32 gradient kernels. Every sum runs in the fixed order documented in
 * tt_runtime.h; the kernels are blocked for speed (partial sums in registers, int8 values
 * converted to float once and reused) without changing a bit:
 *
 * - Order: a kernel may compute the elements of its result in any order and keep partial sums
 *   in registers or in its output, but every element receives its terms in the documented
 *   order, starting from +0. Converting int8 to float is exact, so converted weights and
 *   inputs can be reused.
 * - Zero terms: a sum that starts at +0 is never -0 (x + y is -0 only when both are -0), and
 *   adding +-0 to any other value (+0, inf, NaN included) leaves it unchanged. So a term that
 *   is +-0 may be added or skipped without changing a bit. The documented loops skip zero
 *   upstream gradients (which saves the work behind ReLU zeros); the blocked kernels add the
 *   terms of a zero gradient anyway where testing would cost more: those terms are (x - zp) * 0
 *   or w * (0 * scale), +-0 as long as the scale is finite. The input-gradient kernels therefore
 *   check that the weight scales are finite and otherwise run the reference loop (the scatter
 *   of the documented order, kept below for that case and for the rare kinds of conv that have
 *   no blocked kernel: regular KxK, grouped, depthwise with a channel multiplier).
 *
 * Layer: above tt_forward.c (the conv shape check), tt_split_rows.c (split weight rows) and
 * tt_sgd.c (the bias update of the fused expand + depthwise input gradient); tt_update.c and
 * tt_split.c call it.
 */
#include <math.h>
#include <string.h>

#include "tt_internal.h"

#if defined(__ARM_FEATURE_SIMD32)
#include <arm_acle.h>
#endif

enum {
    TILE = 4,              /* positions and channels of a pointwise register block */
    POINTWISE_CHUNK = 16,  /* output channels of the pointwise block weights (256 bytes) */
    SCATTER_FLOATS = 96,   /* input channels of the pointwise scatter's weight row (384 bytes) */
    MAX_KERNEL_TAPS = 49,  /* taps of a depthwise kernel with a gather */
    EXPAND_CHUNK = 64,     /* inputs of the fused expand scatter's weight buffer (256 bytes) */
    PW_MAX_COLS = 6        /* input channels of the widest pointwise block (its weights: 384 bytes) */
};

static void zero_floats(float *out, size_t count)
{
    for (size_t i = 0; i < count; ++i) {
        out[i] = 0.0f;
    }
}

static int32_t min_i32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

/* 1 when every one of the `count` values is finite. */
static int all_finite(const float *values, int32_t count)
{
    for (int32_t i = 0; i < count; ++i) {
        if (!isfinite(values[i])) {
            return 0;
        }
    }
    return 1;
}

/* ----------------------------------------------------------------------- reference scatter */

/* grad_input[n, ih, iw, first_channel + c] += w_row[kh, kw, c] * scaled for one output
 * position (n, oh, ow) and channel: each element gets one product, so their order is free. */
TT_NOINLINE static void scatter_row(const tt_conv_shape *s, int32_t n, int32_t oh, int32_t ow,
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
TT_NOINLINE static void scatter_channel(const tt_conv_shape *s, const float *g, size_t g_stride,
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

/* tt_conv2d_grad_input in its documented order, literally: the reference loop. */
TT_NOINLINE static void grad_input_scatter(const tt_conv_shape *s, const float *grad_output,
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

/* ----------------------------------------------------------------------- pointwise input grad */

/*
 * A 1x1 conv (groups 1, no padding, any stride): grad_input[pixel(p), c] = sum over o ascending
 * of w[o, c] * (g[p, o] * weight_scale[o]), pixel(p) the input pixel under output position p;
 * the other pixels (stride > 1) are 0. Blocks of 4 positions x 4 input channels are summed in
 * registers over chunks of POINTWISE_CHUNK output channels whose weights are converted to
 * float once per block column; between chunks the partial sums wait in grad_input.
 */

/* w[o0 + k, c0 + j] as float into out[k * TILE + j] (k < count, j < cols), from any rows. */
static void weight_columns(const tt_weight_rows *rows, int32_t o0, int32_t count, int32_t c0,
                           int32_t cols, float *out)
{
    const size_t row_size = rows->row_size;
    if (rows->split == NULL) {
        const int8_t *w = rows->weight + (size_t)o0 * row_size + (size_t)c0;
        if (cols == TILE) {
            for (int32_t k = 0; k < count; ++k, w += row_size, out += TILE) {
                out[0] = (float)w[0];
                out[1] = (float)w[1];
                out[2] = (float)w[2];
                out[3] = (float)w[3];
            }
            return;
        }
        for (int32_t k = 0; k < count; ++k, w += row_size) {
            for (int32_t j = 0; j < cols; ++j) {
                out[k * TILE + j] = (float)w[j];
            }
        }
        return;
    }
    const tt_split_weight *split = rows->split;
    if (split->axis == 0) { /* row o from the slice when o is a trained channel */
        int32_t next = tt_split_channel_lower_bound(split, o0);
        for (int32_t k = 0; k < count; ++k) {
            const int8_t *row = split->frozen + (size_t)(o0 + k) * row_size;
            if (next < split->count && split->channels[next] == o0 + k) {
                row = split->slice + (size_t)next * row_size;
                ++next;
            }
            for (int32_t j = 0; j < cols; ++j) {
                out[k * TILE + j] = (float)row[c0 + j];
            }
        }
        return;
    }
    /* last axis (row_size == cols of a 1x1 weight): column c from the slice when trained */
    const int8_t *column[TILE];
    size_t stride[TILE];
    for (int32_t j = 0; j < cols; ++j) {
        const int32_t index = tt_split_channel_index(split, c0 + j);
        column[j] = index >= 0 ? split->slice + index : split->frozen + c0 + j;
        stride[j] = index >= 0 ? (size_t)split->count : row_size;
    }
    for (int32_t k = 0; k < count; ++k) {
        for (int32_t j = 0; j < cols; ++j) {
            out[k * TILE + j] = (float)column[j][(size_t)(o0 + k) * stride[j]];
        }
    }
}

/* One chunk of a full block: 4 positions (gradient rows g0 + i * g_step, the chunk's output
 * channels) x 4 input channels (d0 + i * d_step, [0..3]); w holds count x TILE weights. */
TT_NOINLINE static void pointwise_block4x4(const float *g0, size_t g_step, const float *scale,
                                           const float *w, int32_t count, float *d0,
                                           size_t d_step, int first)
{
    float a00 = 0.0f, a01 = 0.0f, a02 = 0.0f, a03 = 0.0f;
    float a10 = 0.0f, a11 = 0.0f, a12 = 0.0f, a13 = 0.0f;
    float a20 = 0.0f, a21 = 0.0f, a22 = 0.0f, a23 = 0.0f;
    float a30 = 0.0f, a31 = 0.0f, a32 = 0.0f, a33 = 0.0f;
    float *const d1 = d0 + d_step, *const d2 = d1 + d_step, *const d3 = d2 + d_step;
    const float *g1 = g0 + g_step, *g2 = g1 + g_step, *g3 = g2 + g_step;
    if (!first) {
        a00 = d0[0], a01 = d0[1], a02 = d0[2], a03 = d0[3];
        a10 = d1[0], a11 = d1[1], a12 = d1[2], a13 = d1[3];
        a20 = d2[0], a21 = d2[1], a22 = d2[2], a23 = d2[3];
        a30 = d3[0], a31 = d3[1], a32 = d3[2], a33 = d3[3];
    }
    for (int32_t k = 0; k < count; ++k, w += TILE) {
        const float sc = scale[k];
        const float s0 = g0[k] * sc, s1 = g1[k] * sc, s2 = g2[k] * sc, s3 = g3[k] * sc;
        const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        a00 = tt_mla(a00, w0, s0), a01 = tt_mla(a01, w1, s0);
        a02 = tt_mla(a02, w2, s0), a03 = tt_mla(a03, w3, s0);
        a10 = tt_mla(a10, w0, s1), a11 = tt_mla(a11, w1, s1);
        a12 = tt_mla(a12, w2, s1), a13 = tt_mla(a13, w3, s1);
        a20 = tt_mla(a20, w0, s2), a21 = tt_mla(a21, w1, s2);
        a22 = tt_mla(a22, w2, s2), a23 = tt_mla(a23, w3, s2);
        a30 = tt_mla(a30, w0, s3), a31 = tt_mla(a31, w1, s3);
        a32 = tt_mla(a32, w2, s3), a33 = tt_mla(a33, w3, s3);
    }
    d0[0] = a00, d0[1] = a01, d0[2] = a02, d0[3] = a03;
    d1[0] = a10, d1[1] = a11, d1[2] = a12, d1[3] = a13;
    d2[0] = a20, d2[1] = a21, d2[2] = a22, d2[3] = a23;
    d3[0] = a30, d3[1] = a31, d3[2] = a32, d3[3] = a33;
}

#if TT_FLOAT_ASM
/* Six input channels of a block (PW6 columns): four positions x six channels summed in the
 * 24 low VFP registers, each element's terms w[o, c] * (g[p, o] * scale[o]) over the chunk's
 * output channels o ascending (pointwise_block4x4's sums, two channels wider): per output
 * channel its scale and the four gradients (VLDM, one each), the four products g * scale,
 * the six weights in two VLDMs and 24 VMLAs (multiply, round, add: tt_mla). */
enum { PW6 = 6 };

typedef struct {
    const float *g[4];     /* the four positions' gradients at the chunk's first output */
    const float *scale;    /* weight_scale of that output */
    const float *w;        /* count x PW6 weights as float, output by output */
    int32_t count;         /* >= 1 */
    const float *start[4]; /* the four positions' sums so far (or zeros) */
    float *d[4];           /* where the four positions' six sums go */
} pw6_args;

static const float pw6_zeros[PW6] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};

static void pw6_block(const pw6_args *a)
{
    __asm__ volatile(
        "push     {r4-r8, lr}\n\t"
        "vpush    {s16-s31}\n\t"
        "mov      r8, %[args]\n\t"
        "ldm      r8, {r4-r7}\n\t"
        "ldr      r1, [r8, %[scale]]\n\t"
        "ldr      r2, [r8, %[w]]\n\t"
        "ldr      r3, [r8, %[count]]\n\t"
        "ldr      r12, [r8, %[start]]\n\t"
        "vldm     r12, {s0-s5}\n\t"
        "ldr      r12, [r8, %[start] + 4]\n\t"
        "vldm     r12, {s6-s11}\n\t"
        "ldr      r12, [r8, %[start] + 8]\n\t"
        "vldm     r12, {s12-s17}\n\t"
        "ldr      r12, [r8, %[start] + 12]\n\t"
        "vldm     r12, {s18-s23}\n\t"
        "1:\n\t"
        "vldmia   r1!, {s24}\n\t"
        "vldmia   r4!, {s28}\n\t"
        "vldmia   r5!, {s29}\n\t"
        "vldmia   r6!, {s30}\n\t"
        "vldmia   r7!, {s31}\n\t"
        "vmul.f32 s28, s28, s24\n\t"
        "vmul.f32 s29, s29, s24\n\t"
        "vmul.f32 s30, s30, s24\n\t"
        "vmul.f32 s31, s31, s24\n\t"
        "vldmia   r2!, {s24-s27}\n\t"
    "vmla.f32 s0, s24, s28\n\t"                                                                \
    "vmla.f32 s6, s24, s29\n\t"                                                                \
    "vmla.f32 s12, s24, s30\n\t"                                                               \
    "vmla.f32 s18, s24, s31\n\t"                                                               \
    "vmla.f32 s1, s25, s28\n\t"                                                                \
    "vmla.f32 s7, s25, s29\n\t"                                                                \
    "vmla.f32 s13, s25, s30\n\t"                                                               \
    "vmla.f32 s19, s25, s31\n\t"                                                               \
    "vmla.f32 s2, s26, s28\n\t"                                                                \
    "vmla.f32 s8, s26, s29\n\t"                                                                \
    "vmla.f32 s14, s26, s30\n\t"                                                               \
    "vmla.f32 s20, s26, s31\n\t"                                                               \
    "vmla.f32 s3, s27, s28\n\t"                                                                \
    "vmla.f32 s9, s27, s29\n\t"                                                                \
    "vmla.f32 s15, s27, s30\n\t"                                                               \
    "vmla.f32 s21, s27, s31\n\t"                                                               \
    "vldmia   r2!, {s24-s25}\n\t"                                                              \
    "vmla.f32 s4, s24, s28\n\t"                                                                \
    "vmla.f32 s10, s24, s29\n\t"                                                               \
    "vmla.f32 s16, s24, s30\n\t"                                                               \
    "vmla.f32 s22, s24, s31\n\t"                                                               \
    "vmla.f32 s5, s25, s28\n\t"                                                                \
    "vmla.f32 s11, s25, s29\n\t"                                                               \
    "vmla.f32 s17, s25, s30\n\t"                                                               \
    "vmla.f32 s23, s25, s31\n\t"                                                               \

        "subs     r3, r3, #1\n\t"
        "bne      1b\n\t"
        "ldr      r12, [r8, %[d]]\n\t"
        "vstm     r12, {s0-s5}\n\t"
        "ldr      r12, [r8, %[d] + 4]\n\t"
        "vstm     r12, {s6-s11}\n\t"
        "ldr      r12, [r8, %[d] + 8]\n\t"
        "vstm     r12, {s12-s17}\n\t"
        "ldr      r12, [r8, %[d] + 12]\n\t"
        "vstm     r12, {s18-s23}\n\t"
        "vpop     {s16-s31}\n\t"
        "pop      {r4-r8, lr}\n\t"
        :
        : [args] "r"(a), [scale] "i"(offsetof(pw6_args, scale)), [w] "i"(offsetof(pw6_args, w)),
          [count] "i"(offsetof(pw6_args, count)), [start] "i"(offsetof(pw6_args, start)),
          [d] "i"(offsetof(pw6_args, d))
        : "r1", "r2", "r3", "r12", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",
          "s10", "s11", "s12", "s13", "s14", "s15", "cc", "memory");
}

/* The ldm above reads g[0..3] at offset 0. */
typedef char pw6_args_layout[offsetof(pw6_args, g) == 0 ? 1 : -1];

/* w[o0 + k, c0 + j] of a complete weight as float into out[k * PW6 + j] (j < PW6). */
static void weight_columns6(const tt_weight_rows *rows, int32_t o0, int32_t count, int32_t c0,
                            float *out)
{
    const int8_t *w = rows->weight + (size_t)o0 * rows->row_size + (size_t)c0;
    for (int32_t k = 0; k < count; ++k, w += rows->row_size, out += PW6) {
        out[0] = (float)w[0];
        out[1] = (float)w[1];
        out[2] = (float)w[2];
        out[3] = (float)w[3];
        out[4] = (float)w[4];
        out[5] = (float)w[5];
    }
}

/* The blocks of PW6 input channels [c0, c0 + PW6) over full blocks of 4 positions (unit
 * stride); returns the positions done (the rest take the 4-column kernels). */
static size_t pointwise_blocks6(const tt_conv_shape *s, const float *grad_output,
                                const tt_weight_rows *rows, const float *weight_scale, int32_t c0,
                                float *w, float *grad_input)
{
    const int32_t channels = s->input_c;
    const int32_t outputs = s->output_c;
    const size_t positions = (size_t)s->batch * (size_t)s->output_h * (size_t)s->output_w;
    const size_t blocks = positions / TILE * TILE;
    for (int32_t o0 = 0; o0 < outputs; o0 += POINTWISE_CHUNK) {
        const int32_t count = min_i32(POINTWISE_CHUNK, outputs - o0);
        weight_columns6(rows, o0, count, c0, w);
        pw6_args a;
        a.scale = weight_scale + o0;
        a.w = w;
        a.count = count;
        for (size_t p = 0; p < blocks; p += TILE) {
            for (int32_t i = 0; i < TILE; ++i) {
                a.g[i] = grad_output + (p + (size_t)i) * (size_t)outputs + (size_t)o0;
                a.d[i] = grad_input + (p + (size_t)i) * (size_t)channels + (size_t)c0;
                a.start[i] = o0 == 0 ? pw6_zeros : a.d[i];
            }
            pw6_block(&a);
        }
    }
    return blocks;
}
#endif

/* The same for a partial block (positions < 4 or cols < 4). */
TT_NOINLINE static void pointwise_block(int32_t positions, int32_t cols, const float *const g[TILE],
                            const float *scale, const float *w, int32_t count,
                            float *const d[TILE], int first)
{
    for (int32_t i = 0; i < positions; ++i) {
        float acc[TILE];
        for (int32_t j = 0; j < cols; ++j) {
            acc[j] = first ? 0.0f : d[i][j];
        }
        for (int32_t k = 0; k < count; ++k) {
            const float s = g[i][k] * scale[k];
            for (int32_t j = 0; j < cols; ++j) {
                acc[j] = tt_mla(acc[j], w[k * TILE + j], s);
            }
        }
        for (int32_t j = 0; j < cols; ++j) {
            d[i][j] = acc[j];
        }
    }
}

/* The input pixel (flat NHW index) under output position p of a 1x1 conv without padding. */
static size_t pointwise_pixel(const tt_conv_shape *s, size_t p)
{
    if (s->stride_h == 1 && s->stride_w == 1) {
        return p;
    }
    const size_t ow = p % (size_t)s->output_w;
    const size_t oh = p / (size_t)s->output_w % (size_t)s->output_h;
    const size_t n = p / (size_t)s->output_w / (size_t)s->output_h;
    return (n * (size_t)s->input_h + oh * (size_t)s->stride_h) * (size_t)s->input_w +
           ow * (size_t)s->stride_w;
}

static int is_pointwise(const tt_conv_shape *s)
{
    return s->kernel_h == 1 && s->kernel_w == 1 && s->pad_h == 0 && s->pad_w == 0 &&
           s->groups == 1;
}

/* The number of nonzero values among `count` (+0 and -0 are zero), from their bits. */
static size_t count_nonzero(const float *values, size_t count)
{
    size_t nonzero = 0;
    for (size_t i = 0; i < count; ++i) {
        uint32_t bits;
        memcpy(&bits, &values[i], sizeof bits);
        nonzero += (bits << 1) != 0u;
    }
    return nonzero;
}

#if TT_FLOAT_ASM
/* Positions [first, end) (fewer than 4 when first > 0) of input channels [c0, c0 + cols),
 * cols <= TILE, of a unit-stride pointwise input gradient, by pointwise_block. */
static void pointwise_tail(const tt_conv_shape *s, const float *grad_output,
                           const tt_weight_rows *rows, const float *weight_scale, int32_t c0,
                           int32_t cols, size_t first, float *w, float *grad_input)
{
    const int32_t channels = s->input_c;
    const int32_t outputs = s->output_c;
    const size_t positions = (size_t)s->batch * (size_t)s->output_h * (size_t)s->output_w;
    if (first >= positions) {
        return;
    }
    for (int32_t o0 = 0; o0 < outputs; o0 += POINTWISE_CHUNK) {
        const int32_t count = min_i32(POINTWISE_CHUNK, outputs - o0);
        weight_columns(rows, o0, count, c0, cols, w);
        const int32_t block = (int32_t)(positions - first);
        const float *gs[TILE];
        float *ds[TILE];
        for (int32_t i = 0; i < block; ++i) {
            gs[i] = grad_output + (first + (size_t)i) * (size_t)outputs + (size_t)o0;
            ds[i] = grad_input + (first + (size_t)i) * (size_t)channels + (size_t)c0;
        }
        pointwise_block(block, cols, gs, weight_scale + o0, w, count, ds, o0 == 0);
    }
}

/* The input channels taken PW6 at a time: as many as leave a multiple of 4 (even C). */
static int32_t pointwise_cols6(int32_t channels)
{
    int32_t blocks = channels / PW6;
    while (blocks > 0 && channels % 2 == 0 && (channels - blocks * PW6) % TILE != 0) {
        --blocks;
    }
    return blocks * PW6;
}
#endif

/* The dense pointwise input gradient: blocks of 4 positions x 4 input channels in registers
 * (x 6 channels with the assembly block). */
TT_NOINLINE static void pointwise_blocks(const tt_conv_shape *s, const float *grad_output,
                                         const tt_weight_rows *rows, const float *weight_scale,
                                         float *grad_input)
{
    float w[POINTWISE_CHUNK * PW_MAX_COLS];
    const int32_t channels = s->input_c;
    const int32_t outputs = s->output_c;
    const size_t positions = (size_t)s->batch * (size_t)s->output_h * (size_t)s->output_w;
    const int unit_stride = s->stride_h == 1 && s->stride_w == 1; /* pixel p is position p */
    int32_t c0 = 0;
#if TT_FLOAT_ASM
    if (unit_stride && rows->split == NULL && positions >= TILE) {
        const int32_t wide = pointwise_cols6(channels);
        for (; c0 < wide; c0 += PW6) {
            const size_t done = pointwise_blocks6(s, grad_output, rows, weight_scale, c0, w,
                                                  grad_input);
            /* the last positions (fewer than 4) four columns at a time, as below */
            for (int32_t c = c0; c < c0 + PW6; c += TILE) {
                pointwise_tail(s, grad_output, rows, weight_scale, c, min_i32(TILE, c0 + PW6 - c),
                               done, w, grad_input);
            }
        }
    }
#endif
    for (; c0 < channels; c0 += TILE) {
        const int32_t cols = min_i32(TILE, channels - c0);
        for (int32_t o0 = 0; o0 < outputs; o0 += POINTWISE_CHUNK) {
            const int32_t count = min_i32(POINTWISE_CHUNK, outputs - o0);
            weight_columns(rows, o0, count, c0, cols, w);
            const float *g = grad_output + o0;
            float *d = grad_input + c0;
            size_t p = 0;
            if (unit_stride && cols == TILE) {
                for (; p + TILE <= positions; p += TILE) {
                    pointwise_block4x4(g, (size_t)outputs, weight_scale + o0, w, count, d,
                                       (size_t)channels, o0 == 0);
                    g += TILE * (size_t)outputs;
                    d += TILE * (size_t)channels;
                }
            }
            for (; p < positions; p += TILE) {
                const int32_t block = (int32_t)(positions - p < TILE ? positions - p : TILE);
                const float *gs[TILE];
                float *ds[TILE];
                for (int32_t i = 0; i < block; ++i) {
                    gs[i] = grad_output + (p + (size_t)i) * (size_t)outputs + (size_t)o0;
                    ds[i] = grad_input + pointwise_pixel(s, p + (size_t)i) * (size_t)channels +
                            (size_t)c0;
                }
                pointwise_block(block, cols, gs, weight_scale + o0, w, count, ds, o0 == 0);
            }
        }
    }
}

/* One output channel's terms into four pixel rows d[i] (input channels [0, count)):
 * d[i][c] += w[c] * scaled[i]. */
static void scatter4(float *const d[4], const float scaled[4], const float *w, int32_t count)
{
    float *const d0 = d[0], *const d1 = d[1], *const d2 = d[2], *const d3 = d[3];
    const float s0 = scaled[0], s1 = scaled[1], s2 = scaled[2], s3 = scaled[3];
    for (int32_t c = 0; c < count; ++c) {
        const float wc = w[c];
        d0[c] = tt_mla(d0[c], wc, s0);
        d1[c] = tt_mla(d1[c], wc, s1);
        d2[c] = tt_mla(d2[c], wc, s2);
        d3[c] = tt_mla(d3[c], wc, s3);
    }
}

enum { SCATTER_GROUP = 8 }; /* nonzero positions gathered before they are scattered */

/*
 * The sparse pointwise input gradient, the documented scatter itself (output channel o
 * ascending, each position whose gradient is nonzero adding w[o, :] * (g * scale) to its
 * pixel): cheaper than the blocks when most gradients are zero (ReLU). Row o is converted to
 * float `capacity` input channels at a time into w; its nonzero positions are gathered and
 * scattered four at a time.
 */
TT_NOINLINE static void pointwise_scatter(const tt_conv_shape *s, const float *grad_output,
                                          const tt_weight_rows *rows, const float *weight_scale,
                                          float *grad_input)
{
    const int32_t capacity = SCATTER_FLOATS;
    float w[SCATTER_FLOATS];
    const int32_t channels = s->input_c;
    const int32_t outputs = s->output_c;
    const size_t positions = (size_t)s->batch * (size_t)s->output_h * (size_t)s->output_w;
    zero_floats(grad_input, (size_t)s->batch * (size_t)s->input_h * (size_t)s->input_w *
                                (size_t)channels);
    float *pixel[SCATTER_GROUP];
    float scaled[SCATTER_GROUP];
    for (int32_t c0 = 0; c0 < channels; c0 += capacity) {
        const int32_t count = min_i32(capacity, channels - c0);
        for (int32_t o = 0; o < outputs; ++o) {
            const int8_t *w_row = tt_weight_row(rows, o) + c0;
            for (int32_t i = 0; i < count; ++i) {
                w[i] = (float)w_row[i];
            }
            const float *g = grad_output + o;
            size_t p = 0;
            while (p < positions) {
                int32_t found = 0;
                for (; p < positions && found < SCATTER_GROUP; ++p, g += outputs) {
                    if (*g != 0.0f) {
                        pixel[found] = grad_input + pointwise_pixel(s, p) * (size_t)channels +
                                       (size_t)c0;
                        scaled[found] = *g * weight_scale[o];
                        ++found;
                    }
                }
                int32_t k = 0;
                for (; k + 4 <= found; k += 4) {
                    scatter4(pixel + k, scaled + k, w, count);
                }
                for (; k < found; ++k) {
                    float *gi = pixel[k];
                    for (int32_t c = 0; c < count; ++c) {
                        gi[c] = tt_mla(gi[c], w[c], scaled[k]);
                    }
                }
            }
        }
    }
}

static void pointwise_grad_input(const tt_conv_shape *s, const float *grad_output,
                                 const tt_weight_rows *rows, const float *weight_scale,
                                 float *grad_input)
{
    const size_t positions = (size_t)s->batch * (size_t)s->output_h * (size_t)s->output_w;
    const size_t total = positions * (size_t)s->output_c;
    /* a block term costs ~2.7 instructions, a scattered one ~4 (plus the row conversions):
     * scatter below ~55 % nonzero gradients */
    if (count_nonzero(grad_output, total) * 20 < total * 11) {
        pointwise_scatter(s, grad_output, rows, weight_scale, grad_input);
        return;
    }
    if (s->stride_h != 1 || s->stride_w != 1) {
        zero_floats(grad_input, (size_t)s->batch * (size_t)s->input_h * (size_t)s->input_w *
                                    (size_t)s->input_c);
    }
    pointwise_blocks(s, grad_output, rows, weight_scale, grad_input);
}

/* ----------------------------------------------------------------------- depthwise input grad */

/*
 * A depthwise conv (groups == input_c == output_c) one channel at a time, by gathering: the
 * input-gradient element of pixel (n, ih, iw) is the sum over the output positions (oh, ow)
 * whose window covers it, in raster order, of w[kh, kw] * s[oh, ow] with kh = ih + pad_h -
 * oh * stride_h, kw likewise, and s = g * weight_scale: exactly the terms tt_conv2d_grad_input
 * scatters into it, in its order.
 *
 * Pixel iw of an input row uses the kernel columns of one phase p (the flipped columns b = p,
 * p + stride, ... below kernel_w, p = (kernel_w - 1 - iw - pad) mod stride): taps(p) =
 * ceil((kernel_w - p) / stride) of them, at p * (kernel_w / stride) + min(p, kernel_w % stride)
 * in the phased kernel row (gather_kernel), against the consecutive output positions from
 * (iw + pad - kernel_w + 1 + p) / stride on, which rises by one every `stride` pixels. Four
 * pixels of a phase are summed at once in registers: for every output row that covers their
 * input row, the taps(p) + 3 positions their windows span are loaded once into a small window,
 * scaled (s) and padded with -0 where they fall outside the output row, so that the pixels
 * need no bounds; the padding adds terms w * -0 = +-0, which change no bit (file comment).
 * Rows that hold s already (the in-place kernel's plane) are read where they are when the
 * window lies inside.
 */

/* Output positions [first, first + count) along one axis whose window covers input index
 * `index`, and the index in the flipped kernel (kernel - 1 - tap) of the first one; it rises
 * by `stride` per position. */
typedef struct {
    int32_t first;
    int32_t count;
    int32_t flipped;
} covering;

static inline covering covering_outputs(int32_t index, int32_t kernel, int32_t stride,
                                        int32_t pad, int32_t outputs)
{
    /* output o covers index when 0 <= reach - o * stride < kernel */
    const int32_t reach = index + pad;
    const int32_t low = reach - kernel + 1;
    int32_t first = 0;
    int32_t last = outputs - 1;
    if (stride == 1) {
        first = low > 0 ? low : 0;
        last = reach < last ? reach : last;
    } else {
        first = low <= 0 ? 0 : (low + stride - 1) / stride;
        last = min_i32(last, reach / stride);
    }
    covering c;
    c.first = first;
    c.count = last >= first ? last - first + 1 : 0;
    c.flipped = kernel - 1 - (reach - first * stride);
    return c;
}

enum { WINDOW = 16 }; /* positions of a four-pixel window: kernel_w + 3 at most */

/* The output rows covering one input row, and the kernel rows they use. */
typedef struct {
    const float *src;     /* the first covering row (src_stride between positions) */
    size_t src_stride;
    size_t row_step;      /* from one covering row to the next */
    int32_t rows;         /* covering rows */
    int32_t output_w;
    float scale;
    int prescaled;        /* the rows hold s already (scale unused), one position apart */
    const float *kernel;  /* the first covering row's phased kernel row, at the phase's start */
    int32_t kernel_step;  /* from one covering row's kernel row to the next */
} gather_rows;

/* Positions [q0 + lo, q0 + hi) of output row `row`, times scale unless the rows hold s, into
 * win[lo, hi). */
TT_ALWAYS_INLINE static void load_window(const gather_rows *gr, const float *row, int32_t q0,
                                         int32_t lo, int32_t hi, float *win)
{
    const float scale = gr->scale;
    const size_t step = gr->src_stride;
    const float *p = row + (size_t)(q0 + lo) * step;
    int32_t i = lo;
    if (gr->prescaled) { /* (step is 1, but a variable: the copy stays a loop, no memcpy) */
        for (; i < hi; ++i, p += step) {
            win[i] = *p;
        }
        return;
    }
    if (lo == 0) {
        switch (hi) { /* whole windows of up to 10 positions unrolled */
        case 10:
            win[i++] = *p * scale, p += step;
            /* fallthrough */
        case 9:
            win[i++] = *p * scale, p += step;
            /* fallthrough */
        case 8:
            win[i++] = *p * scale, p += step;
            /* fallthrough */
        case 7:
            win[i++] = *p * scale, p += step;
            /* fallthrough */
        case 6:
            win[i++] = *p * scale, p += step;
            /* fallthrough */
        case 5:
            win[i++] = *p * scale, p += step;
            /* fallthrough */
        case 4:
            win[i++] = *p * scale, p += step;
            win[i++] = *p * scale, p += step;
            win[i++] = *p * scale, p += step;
            win[i++] = *p * scale;
            return;
        default:
            break;
        }
    }
    for (; i < hi; ++i, p += step) {
        win[i] = *p * scale;
    }
}

/* The terms of kernel column b for four pixels whose windows start one position apart. */
#define GATHER_TAP4(b)                     \
    do {                                   \
        const float w_ = k[b];             \
        a0 = tt_mla(a0, w_, win[(b)]);     \
        a1 = tt_mla(a1, w_, win[(b) + 1]); \
        a2 = tt_mla(a2, w_, win[(b) + 2]); \
        a3 = tt_mla(a3, w_, win[(b) + 3]); \
    } while (0)
#define GATHER_TAPS1 GATHER_TAP4(0)
#define GATHER_TAPS2 GATHER_TAPS1; GATHER_TAP4(1)
#define GATHER_TAPS3 GATHER_TAPS2; GATHER_TAP4(2)
#define GATHER_TAPS4 GATHER_TAPS3; GATHER_TAP4(3)
#define GATHER_TAPS5 GATHER_TAPS4; GATHER_TAP4(4)
#define GATHER_TAPS6 GATHER_TAPS5; GATHER_TAP4(5)
#define GATHER_TAPS7 GATHER_TAPS6; GATHER_TAP4(6)
#define GATHER_TAPSN                      \
    for (int32_t b = 0; b < taps; ++b) {  \
        GATHER_TAP4(b);                   \
    }
/* Every covering row's terms: the window read in place, or loaded into the buffer. */
#define GATHER_ROWS(terms)                                                                     \
    do {                                                                                       \
        const float *row = gr->src;                                                            \
        const float *k = gr->kernel;                                                           \
        if (in_place) {                                                                        \
            for (int32_t r = 0; r < gr->rows; ++r, row += gr->row_step, k += gr->kernel_step) { \
                const float *win = row + q0;                                                   \
                terms;                                                                         \
            }                                                                                  \
        } else {                                                                               \
            for (int32_t r = 0; r < gr->rows; ++r, row += gr->row_step, k += gr->kernel_step) { \
                const float *win = buffer;                                                     \
                load_window(gr, row, q0, lo, hi, buffer);                                      \
                terms;                                                                         \
            }                                                                                  \
        }                                                                                      \
    } while (0)

/* Four pixels of one phase whose windows start at position q0 (`taps` taps per row): sums in
 * registers, each pixel's terms in raster order; dst[j * dst_step] for the first `valid`
 * pixels j. The window holds s of positions [q0, q0 + taps + 3), zeros outside the output row
 * (win[lo, hi) are inside; a window inside rows that hold s is read in place). Rows of up to
 * 7 taps are unrolled. */
static void gather_block4(const gather_rows *gr, int32_t q0, int32_t taps, float *dst,
                          size_t dst_step, int32_t valid)
{
    const int32_t count = taps + 3;
    const int32_t lo = q0 >= 0 ? 0 : min_i32(-q0, count);
    int32_t hi = gr->output_w - q0 < count ? gr->output_w - q0 : count;
    hi = hi < lo ? lo : hi;
    const int in_place = gr->prescaled && lo == 0 && hi == count;
    float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
    float buffer[WINDOW];
    if (!in_place) { /* -0 pads: terms w * -0 change no bit either, and unlike +0 fills these
                      * stay loops (no memset calls) */
        for (int32_t i = 0; i < lo; ++i) {
            buffer[i] = -0.0f;
        }
        for (int32_t i = hi; i < count; ++i) {
            buffer[i] = -0.0f;
        }
    }
    switch (taps) {
    case 1:
        GATHER_ROWS(GATHER_TAPS1);
        break;
    case 2:
        GATHER_ROWS(GATHER_TAPS2);
        break;
    case 3:
        GATHER_ROWS(GATHER_TAPS3);
        break;
    case 4:
        GATHER_ROWS(GATHER_TAPS4);
        break;
    case 5:
        GATHER_ROWS(GATHER_TAPS5);
        break;
    case 6:
        GATHER_ROWS(GATHER_TAPS6);
        break;
    case 7:
        GATHER_ROWS(GATHER_TAPS7);
        break;
    default:
        GATHER_ROWS(GATHER_TAPSN);
        break;
    }
    dst[0] = a0;
    if (valid > 1) {
        dst[dst_step] = a1;
    }
    if (valid > 2) {
        dst[2 * dst_step] = a2;
    }
    if (valid > 3) {
        dst[3 * dst_step] = a3;
    }
}

#undef GATHER_ROWS
#undef GATHER_TAPSN
#undef GATHER_TAPS7
#undef GATHER_TAPS6
#undef GATHER_TAPS5
#undef GATHER_TAPS4
#undef GATHER_TAPS3
#undef GATHER_TAPS2
#undef GATHER_TAPS1
#undef GATHER_TAP4

/* The flipped kernel (rotated by 180 degrees) as float, the columns of each row regrouped by
 * phase (b mod stride_w, ascending b within a phase). */
static void gather_kernel(const tt_conv_shape *s, const int8_t *w, float *kernel)
{
    for (int32_t a = 0; a < s->kernel_h; ++a) {
        const int8_t *row = w + (s->kernel_h - 1 - a) * s->kernel_w;
        float *out = kernel + a * s->kernel_w;
        for (int32_t phase = 0; phase < s->stride_w; ++phase) {
            for (int32_t b = phase; b < s->kernel_w; b += s->stride_w) {
                *out++ = (float)row[s->kernel_w - 1 - b];
            }
        }
    }
}

/* The depthwise input gradient of one channel: w its int8 kernel, src its output gradient
 * (src_stride between positions), s = g * scale; dst its input gradient (dst_stride between
 * pixels); `prescaled` when src holds s already, one position apart (scale unused). One phase
 * of pixels at a time, every input row of it four pixels at a time. */
TT_NOINLINE static void gather_channel(const tt_conv_shape *s, const int8_t *w,
                                       const float *src, size_t src_stride, float scale,
                                       int prescaled, float *dst, size_t dst_stride)
{
    const int32_t stride = s->stride_w;
    const int32_t kernel_w = s->kernel_w;
    const size_t out_image = (size_t)s->output_h * (size_t)s->output_w * src_stride;
    const size_t in_row = (size_t)s->input_w * dst_stride;
    const size_t pixel_step = (size_t)stride * dst_stride;
    float kernel[MAX_KERNEL_TAPS];
    gather_kernel(s, w, kernel);
    gather_rows gr;
    gr.src_stride = src_stride;
    gr.row_step = (size_t)s->output_w * src_stride;
    gr.output_w = s->output_w;
    gr.scale = scale;
    gr.prescaled = prescaled;
    gr.kernel_step = s->stride_h * kernel_w;
    for (int32_t p = 0; p < stride; ++p) {
        const int32_t base = kernel_w - 1 - s->pad_w - p; /* the pixels iw = base (mod stride) */
        const int32_t first = ((base % stride) + stride) % stride;
        if (first >= s->input_w) {
            continue;
        }
        const int32_t pixels = (s->input_w - first + stride - 1) / stride;
        const int32_t taps = p < kernel_w ? (kernel_w - p + stride - 1) / stride : 0;
        const int32_t phase_start = p * (kernel_w / stride) + min_i32(p, kernel_w % stride);
        const int32_t q_first = (first + s->pad_w - kernel_w + 1 + p) / stride;
        float *out_row = dst + (size_t)first * dst_stride;
        for (int32_t n = 0; n < s->batch; ++n) {
            const float *image = src + (size_t)n * out_image;
            for (int32_t ih = 0; ih < s->input_h; ++ih, out_row += in_row) {
                const covering cover =
                    covering_outputs(ih, s->kernel_h, s->stride_h, s->pad_h, s->output_h);
                float *out = out_row;
                if (cover.count == 0 || taps == 0) { /* no terms */
                    for (int32_t i = 0; i < pixels; ++i, out += pixel_step) {
                        *out = 0.0f;
                    }
                    continue;
                }
                gr.src = image + (size_t)cover.first * gr.row_step;
                gr.rows = cover.count;
                gr.kernel = kernel + cover.flipped * kernel_w + phase_start;
                int32_t q0 = q_first;
                for (int32_t i = 0; i < pixels; i += 4, q0 += 4, out += 4 * pixel_step) {
                    gather_block4(&gr, q0, taps, out, pixel_step, pixels - i);
                }
            }
        }
    }
}

/* A depthwise kernel that fits the gather (used with finite weight scales). */
static int is_gatherable_kernel(const tt_conv_shape *s)
{
    return s->kernel_h * s->kernel_w <= MAX_KERNEL_TAPS && s->kernel_w + 3 <= WINDOW;
}

/* A depthwise conv whose input gradient has a gather kernel: one channel per group. */
static int is_gatherable_depthwise(const tt_conv_shape *s)
{
    return s->groups == s->input_c && s->output_c == s->input_c && is_gatherable_kernel(s);
}

static void depthwise_grad_input(const tt_conv_shape *s, const float *grad_output,
                                 const tt_weight_rows *rows, const float *weight_scale,
                                 float *grad_input)
{
    const size_t channels = (size_t)s->input_c;
    for (int32_t c = 0; c < s->input_c; ++c) {
        gather_channel(s, tt_weight_row(rows, c), grad_output + c, channels, weight_scale[c], 0,
                       grad_input + c, channels);
    }
}

static void kernel_to_float(const int8_t *w, int32_t taps, float *out)
{
    for (int32_t t = 0; t < taps; ++t) {
        out[t] = (float)w[t];
    }
}

/* ----------------------------------------------------------------------- conv2d input grad */

void tt_conv2d_grad_input_rows(const tt_conv_shape *s, const float *grad_output,
                               const tt_weight_rows *rows, const float *weight_scale,
                               float *grad_input)
{
    if (all_finite(weight_scale, s->output_c)) {
        if (is_pointwise(s)) {
            pointwise_grad_input(s, grad_output, rows, weight_scale, grad_input);
            return;
        }
        if (is_gatherable_depthwise(s)) {
            depthwise_grad_input(s, grad_output, rows, weight_scale, grad_input);
            return;
        }
    }
    grad_input_scatter(s, grad_output, rows, weight_scale, grad_input);
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
        const float scale = weight_scale[c];
        const int8_t *w_row = tt_weight_row(rows, c);
        const float *g = grad + c;
        if (!isfinite(scale) || !is_gatherable_kernel(s)) { /* the reference loop */
            for (size_t p = 0; p < pixels; ++p, g += channels) {
                plane[p] = *g;
            }
            for (size_t p = 0; p < pixels; ++p) {
                grad[p * (size_t)channels + (size_t)c] = 0.0f;
            }
            scatter_channel(s, plane, 1, c, w_row, scale, grad);
            continue;
        }
        /* the channel's s = g * scale aside in the plane: the products the gather uses */
        for (size_t p = 0; p < pixels; ++p, g += channels) {
            plane[p] = *g * scale;
        }
        gather_channel(s, w_row, plane, 1, scale, 1, grad + c, (size_t)channels);
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

/* The reference loop of expand_depthwise_plane. */
TT_NOINLINE static void scatter_plane(const tt_conv_shape *d, const float *grad_output, int32_t c,
                                      const int8_t *w_row, float scale, float *plane)
{
    tt_conv_shape plane_shape = *d;
    plane_shape.input_c = 1;
    plane_shape.output_c = 1;
    plane_shape.groups = 1;
    zero_floats(plane, (size_t)d->batch * (size_t)d->input_h * (size_t)d->input_w);
    scatter_channel(&plane_shape, grad_output + c, (size_t)d->input_c, 0, w_row, scale, plane);
}

/* Channel c's depthwise input gradient into plane (tt_conv2d_grad_input's order). */
static void expand_depthwise_plane(const tt_conv_shape *d, const float *grad_output, int32_t c,
                                   const int8_t *w_row, float scale, float *plane)
{
    if (!isfinite(scale) || !is_gatherable_kernel(d)) {
        scatter_plane(d, grad_output, c, w_row, scale, plane);
        return;
    }
    gather_channel(d, w_row, grad_output + c, (size_t)d->input_c, scale, 0, plane, 1);
}

/* Channel c's terms of the 1x1 expand conv's input gradient: grad_input[p, i] +=
 * w[c, i] * (plane[p] * scale) for the positions with a nonzero plane value; w converted to
 * float EXPAND_CHUNK inputs at a time, the positions scattered four at a time. */
TT_NOINLINE static void expand_scatter(size_t positions, int32_t inputs, const float *plane,
                                       const int8_t *w_row, float scale, float *grad_input)
{
    const int32_t capacity = EXPAND_CHUNK;
    float buffer[EXPAND_CHUNK];
    float *pixel[SCATTER_GROUP];
    float scaled[SCATTER_GROUP];
    for (int32_t i0 = 0; i0 < inputs; i0 += capacity) {
        const int32_t count = min_i32(capacity, inputs - i0);
        kernel_to_float(w_row + i0, count, buffer);
        size_t p = 0;
        while (p < positions) {
            int32_t found = 0;
            for (; p < positions && found < SCATTER_GROUP; ++p) {
                if (plane[p] != 0.0f) {
                    pixel[found] = grad_input + p * (size_t)inputs + (size_t)i0;
                    scaled[found] = plane[p] * scale;
                    ++found;
                }
            }
            int32_t k = 0;
            for (; k + 4 <= found; k += 4) {
                scatter4(pixel + k, scaled + k, buffer, count);
            }
            for (; k < found; ++k) {
                float *gi = pixel[k];
                for (int32_t c = 0; c < count; ++c) {
                    gi[c] = tt_mla(gi[c], buffer[c], scaled[k]);
                }
            }
        }
    }
}

/* tt_mask_grad of channel c (mask bits of [positions, channels]) in place in the plane, and the
 * masked plane's sum (positions ascending, from +0: tt_bias_grad_channel's order). */
static float mask_plane(float *plane, size_t positions, const uint8_t *mask, int32_t channels,
                        int32_t c)
{
    float sum = 0.0f;
    if (channels % 8 == 0) { /* the bit of channel c is the same bit of every position's bytes */
        const uint8_t *byte = mask + c / 8;
        const uint32_t bit = 1u << (c % 8);
        const size_t step = (size_t)channels / 8u;
        for (size_t p = 0; p < positions; ++p, byte += step) {
            if ((*byte & bit) == 0u) {
                plane[p] = 0.0f;
            }
            sum += plane[p];
        }
        return sum;
    }
    for (size_t p = 0; p < positions; ++p) {
        if (!tt_mask_bit(mask, p * (size_t)channels + (size_t)c)) {
            plane[p] = 0.0f;
        }
        sum += plane[p];
    }
    return sum;
}

void tt_expand_depthwise_grad_input(const tt_conv_shape *depthwise, const tt_conv_shape *expand,
                                    const float *grad_output, const uint8_t *mask,
                                    const int8_t *depthwise_weight, const float *depthwise_scale,
                                    const int8_t *expand_weight, const float *expand_scale,
                                    int32_t *bias, const float *bias_scale, int32_t power,
                                    const tt_sgd *sgd, float *grad_input, float *plane)
{
    const int32_t channels = depthwise->input_c;
    const int32_t inputs = expand->input_c;
    const size_t positions = (size_t)depthwise->batch * (size_t)depthwise->input_h *
                             (size_t)depthwise->input_w;
    const size_t taps = (size_t)depthwise->kernel_h * (size_t)depthwise->kernel_w;
    const uint32_t counter = bias != NULL ? *sgd->rng_counter : 0u;
    zero_floats(grad_input, positions * (size_t)inputs);
    for (int32_t c = 0; c < channels; ++c) {
        /* the depthwise input gradient of channel c, in tt_conv2d_grad_input's order */
        expand_depthwise_plane(depthwise, grad_output, c, depthwise_weight + (size_t)c * taps,
                               depthwise_scale[c], plane);
        /* tt_mask_grad, then tt_bias_update of channel c */
        const float bias_grad = mask_plane(plane, positions, mask, channels, c);
        if (bias != NULL) {
            tt_bias_update_channel(channels, c, bias_grad, bias_scale, power, sgd, counter, bias);
        }
        /* channel c's terms of the 1x1 input gradient, the next in tt_conv2d_grad_input's
         * order */
        expand_scatter(positions, inputs, plane, expand_weight + (size_t)c * (size_t)inputs,
                       expand_scale[c], grad_input);
    }
    if (bias != NULL) {
        tt_sgd_advance(sgd, (size_t)channels);
    }
}

/* ----------------------------------------------------------------------- weight gradients */

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

/*
 * A block of weight-gradient elements (rows i < ROWS, columns j < COLS) of one tap sums
 * (x[n, ih, iw, row_x[i] + col_x[j]] - zp) * g[n, oh, ow, row_g[i]] over the output positions
 * whose tap falls inside the input, in raster order (the positions of tt_conv2d_grad_weight;
 * the ones it skips for a zero g add +-0 here). tap_walk holds those positions.
 */
enum { ROWS = TT_GRAD_BLOCK_ROWS, COLS = TT_GRAD_BLOCK_COLS };

typedef struct {
    int32_t batch;
    int32_t rows, cols;  /* output positions: rows x cols per image, possibly 0 */
    const int8_t *x;     /* input at the first position's pixel, channel 0 */
    const float *g;      /* grad_output at the first position, channel 0 */
    size_t x_image, x_row, x_col;
    size_t g_image, g_row, g_col;
} tap_walk;

TT_NOINLINE static tap_walk walk_of_tap(const tt_conv_shape *s, int32_t kh, int32_t kw,
                                        const int8_t *input, const float *grad_output)
{
    /* [oh0, oh1): 0 <= oh * stride_h - pad_h + kh < input_h, and [ow0, ow1) likewise */
    tap_walk walk;
    int32_t oh0 = 0;
    while (oh0 < s->output_h && oh0 * s->stride_h - s->pad_h + kh < 0) {
        ++oh0;
    }
    int32_t oh1 = oh0;
    while (oh1 < s->output_h && oh1 * s->stride_h - s->pad_h + kh < s->input_h) {
        ++oh1;
    }
    int32_t ow0 = 0;
    while (ow0 < s->output_w && ow0 * s->stride_w - s->pad_w + kw < 0) {
        ++ow0;
    }
    int32_t ow1 = ow0;
    while (ow1 < s->output_w && ow1 * s->stride_w - s->pad_w + kw < s->input_w) {
        ++ow1;
    }
    const size_t channels = (size_t)s->input_c;
    const size_t outputs = (size_t)s->output_c;
    walk.batch = s->batch;
    walk.rows = oh1 - oh0;
    walk.cols = ow1 - ow0;
    walk.x_col = (size_t)s->stride_w * channels;
    walk.x_row = (size_t)s->stride_h * (size_t)s->input_w * channels;
    walk.x_image = (size_t)s->input_h * (size_t)s->input_w * channels;
    walk.g_col = outputs;
    walk.g_row = (size_t)s->output_w * outputs;
    walk.g_image = (size_t)s->output_h * walk.g_row;
    walk.x = input;
    walk.g = grad_output;
    if (walk.rows > 0 && walk.cols > 0) {
        const int32_t ih = oh0 * s->stride_h - s->pad_h + kh;
        const int32_t iw = ow0 * s->stride_w - s->pad_w + kw;
        walk.x = input + ((size_t)ih * (size_t)s->input_w + (size_t)iw) * channels;
        walk.g = grad_output + ((size_t)oh0 * (size_t)s->output_w + (size_t)ow0) * outputs;
    }
    return walk;
}

/* The four x - zp of one position, columns 0..3 at x[0], x[c1], x[c2], x[c3]. */
#define WEIGHT_X4(c1, c2, c3)                                  \
    const float x0 = (float)((int32_t)x[0] - zero_point);      \
    const float x1 = (float)((int32_t)x[c1] - zero_point);     \
    const float x2 = (float)((int32_t)x[c2] - zero_point);     \
    const float x3 = (float)((int32_t)x[c3] - zero_point)

/* The terms of row r (gradient g[r]) of one position. */
#define WEIGHT_ROW_TERMS(r)                                                                    \
    do {                                                                                       \
        const float g_ = g[r];                                                                 \
        a##r##0 = tt_mla(a##r##0, x0, g_), a##r##1 = tt_mla(a##r##1, x1, g_);                  \
        a##r##2 = tt_mla(a##r##2, x2, g_), a##r##3 = tt_mla(a##r##3, x3, g_);                  \
    } while (0)

/* The walk of a block: for every position, x at its first column, g at its first row. */
#define FOR_EACH_POSITION(body)                                                                \
    for (int32_t n = 0; n < walk->batch; ++n) {                                                \
        const int8_t *x_row = walk->x + (size_t)n * walk->x_image + col_x[0];                 \
        const float *g_row = walk->g + (size_t)n * walk->g_image + row_g;                      \
        for (int32_t r = 0; r < walk->rows; ++r, x_row += walk->x_row, g_row += walk->g_row) { \
            const int8_t *x = x_row;                                                           \
            const float *g = g_row;                                                            \
            for (int32_t k = 0; k < walk->cols; ++k, x += walk->x_col, g += walk->g_col) {     \
                body;                                                                          \
            }                                                                                  \
        }                                                                                      \
    }

/* 6 rows (consecutive output channels from row_g) x 4 columns sharing one input channel
 * offset (a regular or grouped conv): columns x[col_x[j]]. Its own function, so that its
 * registers go to the 24 sums. */
TT_NOINLINE static void matrix_block6x4(const tap_walk *walk, const int32_t *col_x,
                                        int32_t row_g, int32_t zero_point, float out[ROWS * COLS])
{
    float a00 = 0.0f, a01 = 0.0f, a02 = 0.0f, a03 = 0.0f;
    float a10 = 0.0f, a11 = 0.0f, a12 = 0.0f, a13 = 0.0f;
    float a20 = 0.0f, a21 = 0.0f, a22 = 0.0f, a23 = 0.0f;
    float a30 = 0.0f, a31 = 0.0f, a32 = 0.0f, a33 = 0.0f;
    float a40 = 0.0f, a41 = 0.0f, a42 = 0.0f, a43 = 0.0f;
    float a50 = 0.0f, a51 = 0.0f, a52 = 0.0f, a53 = 0.0f;
    const int32_t c1 = col_x[1] - col_x[0], c2 = col_x[2] - col_x[0], c3 = col_x[3] - col_x[0];
    FOR_EACH_POSITION({
        WEIGHT_X4(c1, c2, c3);
        WEIGHT_ROW_TERMS(0);
        WEIGHT_ROW_TERMS(1);
        WEIGHT_ROW_TERMS(2);
        WEIGHT_ROW_TERMS(3);
        WEIGHT_ROW_TERMS(4);
        WEIGHT_ROW_TERMS(5);
    })
    out[0] = a00, out[1] = a01, out[2] = a02, out[3] = a03;
    out[4] = a10, out[5] = a11, out[6] = a12, out[7] = a13;
    out[8] = a20, out[9] = a21, out[10] = a22, out[11] = a23;
    out[12] = a30, out[13] = a31, out[14] = a32, out[15] = a33;
    out[16] = a40, out[17] = a41, out[18] = a42, out[19] = a43;
    out[20] = a50, out[21] = a51, out[22] = a52, out[23] = a53;
}

/* The same with 4 rows. */
TT_NOINLINE static void matrix_block4x4(const tap_walk *walk, const int32_t *col_x,
                                        int32_t row_g, int32_t zero_point, float out[ROWS * COLS])
{
    float a00 = 0.0f, a01 = 0.0f, a02 = 0.0f, a03 = 0.0f;
    float a10 = 0.0f, a11 = 0.0f, a12 = 0.0f, a13 = 0.0f;
    float a20 = 0.0f, a21 = 0.0f, a22 = 0.0f, a23 = 0.0f;
    float a30 = 0.0f, a31 = 0.0f, a32 = 0.0f, a33 = 0.0f;
    const int32_t c1 = col_x[1] - col_x[0], c2 = col_x[2] - col_x[0], c3 = col_x[3] - col_x[0];
    FOR_EACH_POSITION({
        WEIGHT_X4(c1, c2, c3);
        WEIGHT_ROW_TERMS(0);
        WEIGHT_ROW_TERMS(1);
        WEIGHT_ROW_TERMS(2);
        WEIGHT_ROW_TERMS(3);
    })
    out[0] = a00, out[1] = a01, out[2] = a02, out[3] = a03;
    out[4] = a10, out[5] = a11, out[6] = a12, out[7] = a13;
    out[8] = a20, out[9] = a21, out[10] = a22, out[11] = a23;
    out[12] = a30, out[13] = a31, out[14] = a32, out[15] = a33;
}

/* 4 depthwise rows: channels row_g + i of g and of x (one column each). */
TT_NOINLINE static void diagonal_block4(const tap_walk *walk, const int32_t *col_x,
                                        int32_t row_g, int32_t zero_point, float out[ROWS * COLS])
{
    float a00 = 0.0f, a10 = 0.0f, a20 = 0.0f, a30 = 0.0f;
    FOR_EACH_POSITION({
        a00 = tt_mla(a00, (float)((int32_t)x[0] - zero_point), g[0]);
        a10 = tt_mla(a10, (float)((int32_t)x[1] - zero_point), g[1]);
        a20 = tt_mla(a20, (float)((int32_t)x[2] - zero_point), g[2]);
        a30 = tt_mla(a30, (float)((int32_t)x[3] - zero_point), g[3]);
    })
    out[0] = a00, out[1] = a10, out[2] = a20, out[3] = a30;
}

/* The walk of a block whose x - zp are in a float buffer (xf, `width` per position). */
#define FOR_EACH_POSITION_F(width, body)                                                       \
    for (int32_t n = 0; n < walk->batch; ++n) {                                                \
        const float *g_row = walk->g + (size_t)n * walk->g_image + row_g;                      \
        for (int32_t r = 0; r < walk->rows; ++r, g_row += walk->g_row) {                       \
            const float *g = g_row;                                                            \
            for (int32_t k = 0; k < walk->cols; ++k, g += walk->g_col, xf += (width)) {        \
                body;                                                                          \
            }                                                                                  \
        }                                                                                      \
    }

/* matrix_block6x4 with the columns' x - zp from xf. */
TT_NOINLINE static void matrix_block6x4f(const tap_walk *walk, const float *xf, int32_t row_g,
                                         float out[ROWS * COLS])
{
    float a00 = 0.0f, a01 = 0.0f, a02 = 0.0f, a03 = 0.0f;
    float a10 = 0.0f, a11 = 0.0f, a12 = 0.0f, a13 = 0.0f;
    float a20 = 0.0f, a21 = 0.0f, a22 = 0.0f, a23 = 0.0f;
    float a30 = 0.0f, a31 = 0.0f, a32 = 0.0f, a33 = 0.0f;
    float a40 = 0.0f, a41 = 0.0f, a42 = 0.0f, a43 = 0.0f;
    float a50 = 0.0f, a51 = 0.0f, a52 = 0.0f, a53 = 0.0f;
    FOR_EACH_POSITION_F(COLS, {
        const float x0 = xf[0];
        const float x1 = xf[1];
        const float x2 = xf[2];
        const float x3 = xf[3];
        WEIGHT_ROW_TERMS(0);
        WEIGHT_ROW_TERMS(1);
        WEIGHT_ROW_TERMS(2);
        WEIGHT_ROW_TERMS(3);
        WEIGHT_ROW_TERMS(4);
        WEIGHT_ROW_TERMS(5);
    })
    out[0] = a00, out[1] = a01, out[2] = a02, out[3] = a03;
    out[4] = a10, out[5] = a11, out[6] = a12, out[7] = a13;
    out[8] = a20, out[9] = a21, out[10] = a22, out[11] = a23;
    out[12] = a30, out[13] = a31, out[14] = a32, out[15] = a33;
    out[16] = a40, out[17] = a41, out[18] = a42, out[19] = a43;
    out[20] = a50, out[21] = a51, out[22] = a52, out[23] = a53;
}

/* matrix_block4x4 with the columns' x - zp from xf. */
TT_NOINLINE static void matrix_block4x4f(const tap_walk *walk, const float *xf, int32_t row_g,
                                         float out[ROWS * COLS])
{
    float a00 = 0.0f, a01 = 0.0f, a02 = 0.0f, a03 = 0.0f;
    float a10 = 0.0f, a11 = 0.0f, a12 = 0.0f, a13 = 0.0f;
    float a20 = 0.0f, a21 = 0.0f, a22 = 0.0f, a23 = 0.0f;
    float a30 = 0.0f, a31 = 0.0f, a32 = 0.0f, a33 = 0.0f;
    FOR_EACH_POSITION_F(COLS, {
        const float x0 = xf[0];
        const float x1 = xf[1];
        const float x2 = xf[2];
        const float x3 = xf[3];
        WEIGHT_ROW_TERMS(0);
        WEIGHT_ROW_TERMS(1);
        WEIGHT_ROW_TERMS(2);
        WEIGHT_ROW_TERMS(3);
    })
    out[0] = a00, out[1] = a01, out[2] = a02, out[3] = a03;
    out[4] = a10, out[5] = a11, out[6] = a12, out[7] = a13;
    out[8] = a20, out[9] = a21, out[10] = a22, out[11] = a23;
    out[12] = a30, out[13] = a31, out[14] = a32, out[15] = a33;
}

#undef FOR_EACH_POSITION_F
#undef FOR_EACH_POSITION
#undef WEIGHT_ROW_TERMS
#undef WEIGHT_X4

/* Any block: rows i < row_count read g[row_g[i]] and x[row_x[i] + col_x[j]]. */
TT_NOINLINE static void generic_block(const tap_walk *walk, int32_t row_count, const int32_t *row_g,
                          const int32_t *row_x, int32_t col_count, const int32_t *col_x,
                          int32_t zero_point, float out[ROWS * COLS])
{
    float *acc = out; /* the sums wait in out */
    zero_floats(acc, (size_t)(row_count * col_count));
    for (int32_t n = 0; n < walk->batch; ++n) {
        const int8_t *x_row = walk->x + (size_t)n * walk->x_image;
        const float *g_row = walk->g + (size_t)n * walk->g_image;
        for (int32_t r = 0; r < walk->rows; ++r, x_row += walk->x_row, g_row += walk->g_row) {
            const int8_t *x = x_row;
            const float *g = g_row;
            for (int32_t k = 0; k < walk->cols; ++k, x += walk->x_col, g += walk->g_col) {
                for (int32_t i = 0; i < row_count; ++i) {
                    const float gi = g[row_g[i]];
                    const int8_t *xi = x + row_x[i];
                    for (int32_t j = 0; j < col_count; ++j) {
                        const float xj = (float)((int32_t)xi[col_x[j]] - zero_point);
                        acc[i * col_count + j] = tt_mla(acc[i * col_count + j], xj, gi);
                    }
                }
            }
        }
    }
}

/* The rows of the next block: up to ROWS (6; 4 when 8 or fewer remain, so that the tail keeps
 * a fast block, and for one-column depthwise rows), within one group unless each row has one
 * column. */
TT_NOINLINE static int32_t block_rows(const tt_weight_grad_layout *layout, int32_t row0,
                                      int32_t in_per_group, int32_t out_per_group,
                                      int32_t row_g[ROWS], int32_t row_x[ROWS])
{
    const int32_t left = layout->rows - row0;
    int32_t rows = (left >= 10 || left == ROWS) && layout->cols > 1 ? ROWS : min_i32(4, left);
    for (int32_t i = 0; i < rows; ++i) {
        row_g[i] = tt_weight_grad_row_channel(layout, row0 + i);
        row_x[i] = row_g[i] / out_per_group * in_per_group;
        if (layout->cols > 1 && row_x[i] != row_x[0]) {
            return i;
        }
    }
    return rows;
}

/* One block's sums into values[rows * cols], by the fastest kernel that fits. */
static void block_sums(const tap_walk *walk, const tt_weight_grad_layout *layout, int32_t rows,
                       const int32_t *row_g, const int32_t *row_x, int32_t cols,
                       const int32_t *col_x, int32_t zero_point, float *values)
{
    const int consecutive_rows = layout->row_channels == NULL;
    if (consecutive_rows && cols == COLS && (rows == 6 || rows == 4)) {
        int32_t x_cols[COLS];
        for (int32_t j = 0; j < COLS; ++j) {
            x_cols[j] = row_x[0] + col_x[j];
        }
        if (rows == 6) {
            matrix_block6x4(walk, x_cols, row_g[0], zero_point, values);
        } else {
            matrix_block4x4(walk, x_cols, row_g[0], zero_point, values);
        }
        return;
    }
    if (consecutive_rows && cols == 1 && rows == 4 && row_x[0] == row_g[0] &&
        row_x[3] == row_g[3] && col_x[0] == 0) { /* depthwise: channel i of x with channel i of g */
        diagonal_block4(walk, row_x, row_g[0], zero_point, values);
        return;
    }
    generic_block(walk, rows, row_g, row_x, cols, col_x, zero_point, values);
}

/* x - zp of columns col_x[0..width) at every position of the walk, as float:
 * xf[p * width + j]. */
TT_NOINLINE static void walk_columns(const tap_walk *walk, const int32_t *col_x, int32_t width,
                         int32_t zero_point, float *xf)
{
    for (int32_t n = 0; n < walk->batch; ++n) {
        const int8_t *x_row = walk->x + (size_t)n * walk->x_image;
        for (int32_t r = 0; r < walk->rows; ++r, x_row += walk->x_row) {
            const int8_t *x = x_row;
            for (int32_t k = 0; k < walk->cols; ++k, x += walk->x_col, xf += width) {
                for (int32_t j = 0; j < width; ++j) {
                    xf[j] = (float)((int32_t)x[col_x[j]] - zero_point);
                }
            }
        }
    }
}

void tt_conv2d_weight_grad_blocks(const tt_conv_shape *s, const tt_weight_grad_layout *layout,
                                  int32_t input_zero_point, const int8_t *input,
                                  const float *grad_output, float *buffer, size_t buffer_floats,
                                  tt_grad_block_sink sink, void *context)
{
    const int32_t in_per_group = s->input_c / s->groups;
    const int32_t out_per_group = s->output_c / s->groups;
    float values[ROWS * COLS];
    float *xf = buffer;
    int32_t row_g[ROWS];
    int32_t row_x[ROWS];
    for (int32_t kh = 0; kh < s->kernel_h; ++kh) {
        for (int32_t kw = 0; kw < s->kernel_w; ++kw) {
            const tap_walk walk = walk_of_tap(s, kh, kw, input, grad_output);
            const int32_t positions = walk.batch * walk.rows * walk.cols;
            /* a regular conv's columns are the same input channels for every row: convert
             * them once for all row blocks when they fit the buffer */
            const int buffered = s->groups == 1 && layout->row_channels == NULL &&
                                 (size_t)positions * COLS <= buffer_floats;
            for (int32_t col0 = 0; col0 < layout->cols; col0 += COLS) {
                const int32_t cols = min_i32(COLS, layout->cols - col0);
                int32_t col_x[COLS];
                for (int32_t j = 0; j < cols; ++j) {
                    col_x[j] = layout->col_channels != NULL ? layout->col_channels[col0 + j]
                                                            : col0 + j;
                }
                const int fast = buffered && cols == COLS;
                if (fast) {
                    walk_columns(&walk, col_x, COLS, input_zero_point, xf);
                }
                for (int32_t row0 = 0; row0 < layout->rows;) {
                    const int32_t rows =
                        block_rows(layout, row0, in_per_group, out_per_group, row_g, row_x);
                    if (fast && rows == 6) {
                        matrix_block6x4f(&walk, xf, row_g[0], values);
                    } else if (fast && rows == 4) {
                        matrix_block4x4f(&walk, xf, row_g[0], values);
                    } else {
                        block_sums(&walk, layout, rows, row_g, row_x, cols, col_x,
                                   input_zero_point, values);
                    }
                    const tt_grad_block block = {row0, rows, kh * s->kernel_w + kw, col0, cols,
                                                 values};
                    sink(context, &block);
                    row0 += rows;
                }
            }
        }
    }
}

/* The sink of the unfused kernels: the gradient [rows, taps, cols] into memory. */
typedef struct {
    float *grad;
    size_t taps;
    size_t cols;
    float input_scale;
} grad_store;

static void store_block(void *context, const tt_grad_block *block)
{
    const grad_store *store = context;
    for (int32_t i = 0; i < block->rows; ++i) {
        float *out = store->grad +
                     ((size_t)(block->row0 + i) * store->taps + (size_t)block->tap) * store->cols +
                     (size_t)block->col0;
        for (int32_t j = 0; j < block->cols; ++j) {
            out[j] = block->values[i * block->cols + j] * store->input_scale;
        }
    }
}

void tt_conv2d_grad_weight(const tt_conv_shape *shape, float input_scale,
                           int32_t input_zero_point, const int8_t *input,
                           const float *grad_output, const int32_t *channels,
                           int32_t channel_count, float *grad_weight)
{
    const tt_weight_grad_layout layout =
        tt_conv2d_weight_grad_layout(shape, channels, channel_count);
    grad_store store = {grad_weight, (size_t)shape->kernel_h * (size_t)shape->kernel_w,
                        (size_t)layout.cols, input_scale};
    tt_conv2d_weight_grad_blocks(shape, &layout, input_zero_point, input, grad_output, NULL, 0,
                                 store_block, &store);
}

/* ----------------------------------------------------------------------- linear */

void tt_linear_grad_input_rows(int32_t batch, int32_t in_features, int32_t out_features,
                               const float *grad_output, const tt_weight_rows *rows,
                               const float *weight_scale, float *grad_input)
{
    const tt_conv_shape shape = tt_linear_as_conv(batch, in_features, out_features);
    if (all_finite(weight_scale, out_features)) { /* tt_conv2d_grad_input_rows of a 1x1 conv */
        pointwise_grad_input(&shape, grad_output, rows, weight_scale, grad_input);
        return;
    }
    grad_input_scatter(&shape, grad_output, rows, weight_scale, grad_input);
}

void tt_linear_grad_input(int32_t batch, int32_t in_features, int32_t out_features,
                          const float *grad_output, const int8_t *weight,
                          const float *weight_scale, float *grad_input)
{
    const tt_weight_rows rows = tt_complete_rows(weight, (size_t)in_features);
    tt_linear_grad_input_rows(batch, in_features, out_features, grad_output, &rows,
                              weight_scale, grad_input);
}

void tt_linear_grad_weight(int32_t batch, int32_t in_features, int32_t out_features,
                           float input_scale, int32_t input_zero_point, const int8_t *input,
                           const float *grad_output, const int32_t *columns,
                           int32_t column_count, float *grad_weight)
{
    const tt_conv_shape shape = tt_linear_as_conv(batch, in_features, out_features);
    tt_conv2d_grad_weight(&shape, input_scale, input_zero_point, input, grad_output, columns,
                          column_count, grad_weight);
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

void tt_bias_grad_range(size_t positions, int32_t channels, const float *grad_output,
                        int32_t first, int32_t count, float *out)
{
    int32_t j = 0;
    for (; j + 4 <= count; j += 4) {
        const float *g = grad_output + first + j;
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        for (size_t p = 0; p < positions; ++p, g += channels) {
            s0 += g[0], s1 += g[1], s2 += g[2], s3 += g[3];
        }
        out[j] = s0, out[j + 1] = s1, out[j + 2] = s2, out[j + 3] = s3;
    }
    for (; j < count; ++j) {
        out[j] = tt_bias_grad_channel(positions, channels, grad_output, first + j);
    }
}

void tt_bias_grad(size_t positions, int32_t channels, const float *grad_output,
                  float *grad_bias)
{
    tt_bias_grad_range(positions, channels, grad_output, 0, channels, grad_bias);
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

/* The mask bits of 4 outputs (bit i for output i): 1 where low <= output <= high. */
static uint32_t inside_bits4(const int8_t *output, int32_t low, int32_t high)
{
#if defined(__ARM_FEATURE_SIMD32)
    /* SSUB8 sets GE[i] where byte i of the first operand >= that of the second (signed), SEL
     * turns GE into 0xff bytes; the multiply gathers bit 0 of each byte into bits 28..31 */
    uint32_t word;
    memcpy(&word, output, sizeof word);
    const uint32_t lows = (uint32_t)(uint8_t)low * UINT32_C(0x01010101);
    const uint32_t highs = (uint32_t)(uint8_t)high * UINT32_C(0x01010101);
    (void)__ssub8((int8x4_t)word, (int8x4_t)lows);
    const uint32_t above = __sel(UINT32_C(0xffffffff), 0u);
    (void)__ssub8((int8x4_t)highs, (int8x4_t)word);
    const uint32_t below = __sel(UINT32_C(0xffffffff), 0u);
    return ((above & below & UINT32_C(0x01010101)) * UINT32_C(0x10204080)) >> 28;
#else
    uint32_t bits = 0;
    for (uint32_t i = 0; i < 4u; ++i) {
        bits |= (uint32_t)(output[i] >= low && output[i] <= high) << i;
    }
    return bits;
#endif
}

void tt_clamp_mask(size_t count, int32_t act_min, int32_t act_max, const int8_t *output, uint8_t *mask)
{
    /* act_min < output < act_max, i.e. low <= output <= high, within int8 */
    const int32_t low = act_min + 1 > -128 ? act_min + 1 : -128;
    const int32_t high = act_max - 1 < 127 ? act_max - 1 : 127;
    if (low > high) {
        for (size_t byte = 0; byte < (count + 7u) / 8u; ++byte) {
            mask[byte] = 0;
        }
        return;
    }
    const size_t whole = count / 8u;
    for (size_t byte = 0; byte < whole; ++byte, output += 8) {
        const uint32_t bits = inside_bits4(output, low, high);
        mask[byte] = (uint8_t)(bits | inside_bits4(output + 4, low, high) << 4);
    }
    if (count % 8u != 0u) {
        uint8_t bits = 0;
        for (size_t bit = 0; bit < count % 8u; ++bit) {
            bits |= (uint8_t)(inside_clamp(output[bit], act_min, act_max) << bit);
        }
        mask[whole] = bits;
    }
}

/* grad_input[i] = grad_output[i] where bit i of `bits` is 1, else +0, for 8 elements: the
 * float's bits and-ed with 0 or all ones (an exact copy either way), unrolled. */
#define MASK_ELEMENT(i)                                                   \
    do {                                                                  \
        uint32_t value_;                                                  \
        memcpy(&value_, &grad_output[i], sizeof value_);                  \
        value_ &= 0u - ((bits >> (i)) & 1u);                              \
        memcpy(&grad_input[i], &value_, sizeof value_);                   \
    } while (0)

static void mask_byte(uint32_t bits, const float *grad_output, float *grad_input)
{
    MASK_ELEMENT(0);
    MASK_ELEMENT(1);
    MASK_ELEMENT(2);
    MASK_ELEMENT(3);
    MASK_ELEMENT(4);
    MASK_ELEMENT(5);
    MASK_ELEMENT(6);
    MASK_ELEMENT(7);
}

#undef MASK_ELEMENT

void tt_mask_grad(size_t count, const float *grad_output, const uint8_t *mask, float *grad_input)
{
    const size_t whole = count / 8u;
    const int in_place = grad_input == grad_output;
    for (size_t byte = 0; byte < whole; ++byte, grad_output += 8, grad_input += 8) {
        const uint32_t bits = mask[byte];
        if (bits != 0xffu || !in_place) { /* in place, a full byte changes nothing */
            mask_byte(bits, grad_output, grad_input);
        }
    }
    for (size_t i = 0; i < count % 8u; ++i) {
        grad_input[i] = tt_mask_bit(mask + whole, i) ? grad_output[i] : 0.0f;
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
