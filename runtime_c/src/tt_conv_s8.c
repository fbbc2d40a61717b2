/*
 * tt_conv_s8.c - the int8 conv loops: regular convs in 2x2 tiles, depthwise convs by 4 channels.
 *
 * Regular convs (groups 1): each output pixel's taps are `runs` runs of contiguous int8 values,
 * one per kernel row inside the input (kernel_w * C values, fewer at the left and right
 * borders), at the same places of every weight row. Two output channels x two pixels share
 * each loaded word: a tile of four int32 sums. On Cortex-M7 (DSP) the tile is an assembly loop
 * (SMLAD, operands sign-extended pairwise by SXTAB16 with the input offset added), elsewhere a
 * plain C loop; pixels at the left and right borders and a last odd channel or pixel take the
 * one-shared-operand kernel (pair_sums). Without DSP, the pixels with every tap inside take the
 * dot pass instead: eight output channels per pixel, each a dot product of its weight row with
 * the pixel's taps.
 *
 * Depthwise convs: four channels are one word of an NHWC pixel; their weights are packed per
 * tap in a small stack buffer (16-bit lanes), and SMLABB / SMLATT accumulate each channel on
 * its own. Channels beyond a multiple of four, and kernels above DW_MAX_TAPS taps, take a plain
 * per-channel loop. Without DSP, kernels up to DW_LANE_TAPS taps take eight channels of a pixel
 * side by side (one run of NHWC bytes), larger ones the per-channel loop.
 *
 * Every sum is exact in int32, so the order of the products does not matter; every output goes
 * through the rule of tt_requantize (tt_requantize32 when it applies, see tt_internal.h).
 *
 * Layer: above tt_numerics.c and tt_split_rows.c (through tt_weight_row); tt_forward.c and
 * tt_bottleneck.c call it.
 */
#include <stddef.h>
#include <string.h>

#include "tt_conv_s8.h"

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__) && defined(__thumb2__)
#define TT_TILE_ASM 1
#else
#define TT_TILE_ASM 0
#endif


/* ----------------------------------------------------------------------- helpers */

/* The first and one-past-last kernel taps along one axis that land inside the input. */
static void valid_taps(int32_t origin, int32_t kernel, int32_t size, int32_t *first,
                       int32_t *end)
{
    *first = origin < 0 ? -origin : 0;
    *end = size - origin < kernel ? size - origin : kernel;
}

#if defined(__ARM_FEATURE_DSP)
static inline uint32_t read_word(const int8_t *p)
{
    uint32_t word;
    memcpy(&word, p, sizeof word);
    return word;
}

/* offset in both 16-bit lanes */
static inline uint32_t offset_pair(int32_t offset)
{
    return ((uint32_t)offset & UINT32_C(0xffff)) * UINT32_C(0x00010001);
}

/* Bytes 0 and 2 of word, sign-extended to 16-bit lanes, plus the offset pair. */
static inline uint32_t lanes_even(uint32_t offset, uint32_t word)
{
    return __sxtab16(offset, word);
}

/* Bytes 1 and 3 of word, sign-extended to 16-bit lanes, plus the offset pair. */
static inline uint32_t lanes_odd(uint32_t offset, uint32_t word)
{
#if defined(__GNUC__)
    uint32_t lanes;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(lanes) : "r"(offset), "r"(word));
    return lanes;
#else
    return __sxtab16(offset, (word >> 8) | (word << 24));
#endif
}
#endif

/* The output columns [first, end) whose kernel columns are all inside the input. */
static void interior_pixels(const tt_conv_shape *s, int32_t *first, int32_t *end)
{
    const int32_t span = s->input_w + s->pad_w - s->kernel_w;
    int32_t lo = (s->pad_w + s->stride_w - 1) / s->stride_w;
    int32_t hi = span < 0 ? 0 : span / s->stride_w + 1;
    lo = lo < s->output_w ? lo : s->output_w;
    hi = hi < s->output_w ? hi : s->output_w;
    *first = lo;
    *end = hi > lo ? hi : lo;
}

/* ----------------------------------------------------------------------- requantization */

/* How an output channel's sums become int8 outputs. */
enum {
    FINISH_RULE,    /* tt_requantize_to_int8 on sum + bias in 64 bits */
    FINISH_FAST,    /* sum + bias fits in int32 and tt_requantize32 applies */
    FINISH_CONSTANT /* every possible sum gives the same output (a dead channel) */
};

/* Output channel o's bias and requantization, prepared once per call. The assembly loops'
 * form, when `word`: output = clamp(ssat8(SMMLA(sum + bias, word multiplier, word_round) >>
 * word shift)): tt_requantize32 with the output zero point folded into the rounding (a
 * multiple of 2^shift added before the floor shift adds exactly zp after it), or a constant
 * (multiplier 0, shift 0, word_round the output). */
typedef struct {
    int32_t bias; /* 0 for a constant channel */
    int32_t multiplier;
    int32_t shift;
    int16_t kind;
    int16_t word;
    int32_t round32;    /* FINISH_FAST: tt_requant32 rounding and shift */
    int32_t shift32;
    int32_t word_round; /* FINISH_CONSTANT: the output */
} channel_finish;

static inline int32_t word_multiplier(const channel_finish *f)
{
    return f->kind == FINISH_CONSTANT ? 0 : f->multiplier;
}

static inline int32_t word_shift(const channel_finish *f)
{
    return f->kind == FINISH_CONSTANT ? 0 : f->shift32;
}

/* |sum of products| <= taps * 255 * 128 (|x - zp| <= 255, |w| <= 128). */
enum { MAX_PRODUCT = 255 * 128 };

/* Largest tt_requant32 shift whose rounding can take the output zero point: rounding + zp 2^s
 * stays in int32 and so does the SMMLA result (its high word is at most 2^30 in magnitude). */
enum { MAX_FOLD_SHIFT = 23 };

/* The largest |bias| with which sum + bias fits in int32 for every sum of `taps` products, or
 * -1 when no bias does. */
static int64_t bias_limit(size_t taps)
{
    const int64_t bound = (int64_t)taps * MAX_PRODUCT;
    return bound > INT32_MAX ? -1 : (int64_t)INT32_MAX - bound;
}

static void channel_finish_init(channel_finish *f, const tt_channel_quant *q, const int32_t *bias,
                                int32_t o, size_t taps, int64_t limit)
{
    const int32_t b = bias != NULL ? bias[o] : 0;
    const int64_t magnitude = b < 0 ? -(int64_t)b : b;
    f->bias = b;
    f->multiplier = q->multiplier[o];
    f->shift = q->shift[o];
    f->word = 0;
    f->round32 = f->shift32 = f->word_round = 0;
    if (tt_requant32_applies(f->shift) && magnitude <= limit) {
        const tt_requant32 r = tt_requant32_make(f->multiplier, f->shift);
        f->kind = FINISH_FAST;
        f->round32 = r.rounding;
        f->shift32 = r.shift;
        f->word = r.shift <= MAX_FOLD_SHIFT;
        f->word_round = f->word ? r.rounding + q->output_zero_point * (1 << r.shift) : 0;
        if (f->word) {
            return;
        }
    } else {
        f->kind = FINISH_RULE;
    }
    const int64_t bound = (int64_t)taps * MAX_PRODUCT;
    if (bound > INT32_MAX) {
        return;
    }
    /* requantization and clamp are monotonic in the sum (multiplier >= 0): equal outputs at
     * both ends of [bias - bound, bias + bound] mean one output for every sum (a multiplier
     * too small for the word form usually gives such a dead channel) */
    const int8_t low = tt_requantize_to_int8_rule(b - bound, f->multiplier, f->shift,
                                                  q->output_zero_point, q->act_min, q->act_max);
    const int8_t high = tt_requantize_to_int8_rule(b + bound, f->multiplier, f->shift,
                                                   q->output_zero_point, q->act_min, q->act_max);
    if (low == high) {
        f->kind = FINISH_CONSTANT;
        f->bias = 0;
        f->word = 1;
        f->word_round = low;
    }
}

static inline int8_t channel_finish_apply(int32_t sum, const channel_finish *f,
                                          const tt_channel_quant *q)
{
    if (f->kind == FINISH_FAST) {
        const tt_requant32 r = {f->multiplier, f->round32, f->shift32};
        int32_t v = tt_requantize32(sum + f->bias, &r) + q->output_zero_point;
        v = v < q->act_min ? q->act_min : v;
        v = v > q->act_max ? q->act_max : v;
        return (int8_t)v;
    }
    if (f->kind == FINISH_CONSTANT) {
        return (int8_t)f->word_round;
    }
    return tt_requantize_to_int8((int64_t)sum + f->bias, f->multiplier, f->shift,
                                 q->output_zero_point, q->act_min, q->act_max);
}

/* ----------------------------------------------------------------------- run kernels */

/* One shared operand a against two others b0, b1 (b1 may be b0) over `runs` runs of `length`
 * values: sums[i] += sum (a + a_offset) * (b_i + b_offset). a and b advance by their strides
 * from run to run. One pixel x two channels (a = x) or two pixels x one channel (a = w). */
typedef struct {
    const int8_t *a;
    const int8_t *b0;
    const int8_t *b1;
    int32_t a_offset, b_offset;
    int32_t length, a_stride, b_stride, runs;
} pair_job;

static inline void pair_tail(const pair_job *j, int32_t from, int32_t sums[2])
{
    int32_t s0 = sums[0], s1 = sums[1];
    for (int32_t r = 0; r < j->runs; ++r) {
        const int8_t *a = j->a + (size_t)r * (size_t)j->a_stride;
        const int8_t *b0 = j->b0 + (size_t)r * (size_t)j->b_stride;
        const int8_t *b1 = j->b1 + (size_t)r * (size_t)j->b_stride;
        for (int32_t i = from; i < j->length; ++i) {
            const int32_t av = a[i] + j->a_offset;
            s0 += av * (b0[i] + j->b_offset);
            s1 += av * (b1[i] + j->b_offset);
        }
    }
    sums[0] = s0;
    sums[1] = s1;
}

static inline void pair_sums(const pair_job *j, int32_t sums[2])
{
#if defined(__ARM_FEATURE_DSP)
    const uint32_t ao = offset_pair(j->a_offset);
    const uint32_t bo = offset_pair(j->b_offset);
    const int32_t words = j->length >> 2;
    int32_t s0 = sums[0], s1 = sums[1];
    for (int32_t r = 0; r < j->runs; ++r) {
        const int8_t *a = j->a + (size_t)r * (size_t)j->a_stride;
        const int8_t *b0 = j->b0 + (size_t)r * (size_t)j->b_stride;
        const int8_t *b1 = j->b1 + (size_t)r * (size_t)j->b_stride;
        for (int32_t i = 0; i < words; ++i) {
            const uint32_t av = read_word(a + 4 * i);
            const uint32_t a_even = lanes_even(ao, av);
            const uint32_t a_odd = lanes_odd(ao, av);
            uint32_t bv = read_word(b0 + 4 * i);
            s0 = (int32_t)__smlad(a_even, lanes_even(bo, bv), s0);
            s0 = (int32_t)__smlad(a_odd, lanes_odd(bo, bv), s0);
            bv = read_word(b1 + 4 * i);
            s1 = (int32_t)__smlad(a_even, lanes_even(bo, bv), s1);
            s1 = (int32_t)__smlad(a_odd, lanes_odd(bo, bv), s1);
        }
    }
    sums[0] = s0;
    sums[1] = s1;
    pair_tail(j, 4 * words, sums);
#else
    pair_tail(j, 0, sums);
#endif
}

#if TT_TILE_ASM
/* A row of pixel pairs x two output channels whose requantization is tt_requantize32, for the
 * assembly loop below (field offsets are used by the code: keep the order). */
typedef struct {
    const int8_t *x;   /* pixel a of the current pair at its first run (advanced by the loop) */
    const int8_t *w;   /* row o at the first run */
    int32_t x_pixel;   /* pixel b - pixel a */
    int32_t w_row;     /* row o + 1 - row o (bytes; the rows may be in unrelated arrays) */
    int32_t words;     /* 4-byte words per run (length / 4, length a multiple of 4) */
    int32_t x_next;    /* from the end of a run's words to the next run, input (the weight
                        * runs follow each other) */
    int32_t runs;      /* >= 1 */
    int32_t pairs;     /* >= 1 */
    int32_t x_pair;    /* from pixel pair to pixel pair, input */
    int8_t *out;       /* output of pixel a, channel o (advanced by the loop) */
    int32_t out_pixel; /* output pixel b - pixel a */
    int32_t init[2];   /* bias - zero_point * (sum of the weights over the runs), o and o + 1 */
    int32_t mult_round0[2]; /* channel_finish word_mult, word_round of o */
    int32_t mult_round1[2]; /* ... of o + 1 */
    int32_t shift[2];       /* word_shift of o, o + 1 */
    uint32_t act[2];        /* act_min, act_max in each byte */
} tile_row_args;

/*
 * For each pixel pair: the four sums start at init (the input offset folded in: sum (x - zp) w
 * = sum x w - zp sum w, exact modulo 2^32 and the true sum fits in int32), then each run adds
 * its words, two per iteration (plus one when a run has an odd count): SXTB16 splits a word of
 * four int8 into bytes 0, 2 and bytes 1, 3 as 16-bit lanes (x and w alike), SMLAD adds both
 * lane products. Then each sum is requantized with the output zero point (SMMLA: high word of
 * sum * multiplier + rounding, ASR: channel_finish's word form), saturated to int8 (SSAT), the four packed
 * in a word (a.o, a.o+1, b.o, b.o+1), clamped to [act_min, act_max] lane by lane (SSUB8 + SEL)
 * and stored as two halfwords.
 * Registers: r0 x, r1 w, r2 x_pixel, r3 w_row, r4-r7 the sums, r8-r12 and lr scratch; on the
 * stack: [0] end of the run's words, [4] runs left, [8] the argument pointer, [12] pairs left.
 * The code saves and restores r4-r11 and lr itself, so it builds at every optimisation level
 * (r7 may be the frame pointer).
 */
#define TILE_STEP                                                                              \
    "ldr    r8, [r0, r2]\n\t"                                                                  \
    "ldr    r9, [r0], #4\n\t"                                                                  \
    "sxtb16 r10, r9\n\t"                                                                       \
    "sxtb16 r9, r9, ror #8\n\t"                                                                \
    "sxtb16 r11, r8\n\t"                                                                       \
    "sxtb16 r8, r8, ror #8\n\t"                                                                \
    "ldr    r12, [r1, r3]\n\t"                                                                 \
    "sxtb16 lr, r12\n\t"                                                                       \
    "smlad  r5, r10, lr, r5\n\t"                                                               \
    "smlad  r7, r11, lr, r7\n\t"                                                               \
    "sxtb16 r12, r12, ror #8\n\t"                                                              \
    "smlad  r5, r9, r12, r5\n\t"                                                               \
    "smlad  r7, r8, r12, r7\n\t"                                                               \
    "ldr    r12, [r1], #4\n\t"                                                                 \
    "sxtb16 lr, r12\n\t"                                                                       \
    "smlad  r4, r10, lr, r4\n\t"                                                               \
    "smlad  r6, r11, lr, r6\n\t"                                                               \
    "sxtb16 r12, r12, ror #8\n\t"                                                              \
    "smlad  r4, r9, r12, r4\n\t"                                                               \
    "smlad  r6, r8, r12, r6\n\t"

#define TILE_ROW_ASM(STEP)                                                                     \
    __asm__ volatile(                                                                              \
        "push   {r4-r11, lr}\n\t"                                                                  \
        "mov    r12, %[args]\n\t"                                                                  \
        "sub    sp, sp, #16\n\t"                                                                   \
        "str    r12, [sp, #8]\n\t"                                                                 \
        "ldr    r8, [r12, %[pairs]]\n\t"                                                           \
        "str    r8, [sp, #12]\n\t"                                                                 \
        "5:\n\t" /* pixel pair */                                                                  \
        "ldr    r12, [sp, #8]\n\t"                                                                 \
        "ldm    r12, {r0-r3}\n\t"                                                                  \
        "ldrd   r4, r5, [r12, %[init]]\n\t"                                                        \
        "mov    r6, r4\n\t"                                                                        \
        "mov    r7, r5\n\t"                                                                        \
        "ldr    r8, [r12, %[runs]]\n\t"                                                            \
        "str    r8, [sp, #4]\n\t"                                                                  \
        "1:\n\t" /* run */                                                                         \
        "ldr    r12, [sp, #8]\n\t"                                                                 \
        "ldr    r8, [r12, %[words]]\n\t"                                                           \
        "add    r9, r0, r8, lsl #2\n\t"                                                            \
        "str    r9, [sp]\n\t"                                                                      \
        "lsls   r8, r8, #31\n\t"                                                                   \
        "bpl    2f\n\t"                                                                            \
        STEP                                                                                       \
        "2:\n\t"                                                                                   \
        "ldr    r9, [sp]\n\t"                                                                      \
        "cmp    r0, r9\n\t"                                                                        \
        "beq    4f\n\t"                                                                            \
        "3:\n\t"                                                                                   \
        STEP                                                                                       \
        STEP                                                                                       \
        "ldr    r9, [sp]\n\t"                                                                      \
        "cmp    r0, r9\n\t"                                                                        \
        "bne    3b\n\t"                                                                            \
        "4:\n\t"                                                                                   \
        "ldr    r8, [sp, #4]\n\t"                                                                  \
        "ldr    r12, [sp, #8]\n\t"                                                                 \
        "subs   r8, r8, #1\n\t"                                                                    \
        "beq    9f\n\t"                                                                            \
        "str    r8, [sp, #4]\n\t"                                                                  \
        "ldr    r8, [r12, %[x_next]]\n\t"                                                          \
        "add    r0, r0, r8\n\t"                                                                    \
        "b      1b\n\t"                                                                            \
        "9:\n\t"                                                                                   \
        /* requantize, zero point, saturate, pack, clamp, store */                                 \
        "ldrd   r8, r9, [r12, %[mr0]]\n\t"                                                         \
        "ldrd   r10, r11, [r12, %[shift]]\n\t"                                                     \
        "smmla  r4, r4, r8, r9\n\t"                                                                \
        "smmla  r6, r6, r8, r9\n\t"                                                                \
        "asr    r4, r4, r10\n\t"                                                                   \
        "asr    r6, r6, r10\n\t"                                                                   \
        "ldrd   r8, r9, [r12, %[mr1]]\n\t"                                                         \
        "smmla  r5, r5, r8, r9\n\t"                                                                \
        "smmla  r7, r7, r8, r9\n\t"                                                                \
        "asr    r5, r5, r11\n\t"                                                                   \
        "asr    r7, r7, r11\n\t"                                                                   \
        "ssat   r4, #8, r4\n\t"                                                                    \
        "ssat   r5, #8, r5\n\t"                                                                    \
        "ssat   r6, #8, r6\n\t"                                                                    \
        "ssat   r7, #8, r7\n\t"                                                                    \
        "bfi    r4, r5, #8, #8\n\t"                                                                \
        "bfi    r4, r6, #16, #8\n\t"                                                               \
        "bfi    r4, r7, #24, #8\n\t"                                                               \
        "ldrd   r8, r9, [r12, %[act]]\n\t"                                                         \
        "ssub8  r10, r4, r8\n\t"                                                                   \
        "sel    r4, r4, r8\n\t"                                                                    \
        "ssub8  r10, r4, r9\n\t"                                                                   \
        "sel    r4, r9, r4\n\t"                                                                    \
        "ldr    r8, [r12, %[out]]\n\t"                                                             \
        "ldr    r9, [r12, %[out_pixel]]\n\t"                                                       \
        "strh   r4, [r8]\n\t"                                                                      \
        "lsrs   r4, r4, #16\n\t"                                                                   \
        "strh   r4, [r8, r9]\n\t"                                                                  \
        "add    r8, r8, r9, lsl #1\n\t"                                                            \
        "str    r8, [r12, %[out]]\n\t"                                                             \
        "ldr    r8, [r12]\n\t"                                                                     \
        "ldr    r9, [r12, %[x_pair]]\n\t"                                                          \
        "add    r8, r8, r9\n\t"                                                                    \
        "str    r8, [r12]\n\t"                                                                     \
        "ldr    r8, [sp, #12]\n\t"                                                                 \
        "subs   r8, r8, #1\n\t"                                                                    \
        "str    r8, [sp, #12]\n\t"                                                                 \
        "bne    5b\n\t"                                                                            \
        "add    sp, sp, #16\n\t"                                                                   \
        "pop    {r4-r11, lr}\n\t"                                                                  \
        :                                                                                          \
        : [args] "r"(t), [pairs] "i"(offsetof(tile_row_args, pairs)),                              \
          [init] "i"(offsetof(tile_row_args, init)), [runs] "i"(offsetof(tile_row_args, runs)),    \
          [words] "i"(offsetof(tile_row_args, words)),                                             \
          [x_next] "i"(offsetof(tile_row_args, x_next)),                                           \
          [mr0] "i"(offsetof(tile_row_args, mult_round0)),                                         \
          [mr1] "i"(offsetof(tile_row_args, mult_round1)),                                         \
          [shift] "i"(offsetof(tile_row_args, shift)),                                             \
          [act] "i"(offsetof(tile_row_args, act)), [out] "i"(offsetof(tile_row_args, out)),        \
          [out_pixel] "i"(offsetof(tile_row_args, out_pixel)),                                     \
          [x_pair] "i"(offsetof(tile_row_args, x_pair))                                            \
        : "r0", "r1", "r2", "r3", "r12", "cc", "memory")

static void tile_row(tile_row_args *t)
{
    TILE_ROW_ASM(TILE_STEP);
}

/* tile_row with the weights of the channel pair expanded beforehand (tile_expand): each step
 * reads [w_o even, w_o odd, w_o+1 even, w_o+1 odd] with one LDM, so only the input words are
 * split (r3, no longer w_row, is a scratch register): 15 instructions for 16 products. */
#define TILE_STEP_EXPANDED                                                                     \
    "ldm    r1!, {r8-r11}\n\t"                                                                 \
    "ldr    r12, [r0, r2]\n\t"                                                                 \
    "ldr    lr, [r0], #4\n\t"                                                                  \
    "sxtb16 r3, lr\n\t"                                                                        \
    "sxtb16 lr, lr, ror #8\n\t"                                                                \
    "smlad  r4, r3, r8, r4\n\t"                                                                \
    "smlad  r4, lr, r9, r4\n\t"                                                                \
    "smlad  r5, r3, r10, r5\n\t"                                                               \
    "smlad  r5, lr, r11, r5\n\t"                                                               \
    "sxtb16 r3, r12\n\t"                                                                       \
    "sxtb16 r12, r12, ror #8\n\t"                                                              \
    "smlad  r6, r3, r8, r6\n\t"                                                                \
    "smlad  r6, r12, r9, r6\n\t"                                                               \
    "smlad  r7, r3, r10, r7\n\t"                                                               \
    "smlad  r7, r12, r11, r7\n\t"

static void tile_row_expanded(tile_row_args *t)
{
    TILE_ROW_ASM(TILE_STEP_EXPANDED);
}

/* The ldm above reads x, w, x_pixel, w_row as the first four words, x at offset 0. */
typedef char tile_row_args_layout[offsetof(tile_row_args, w_row) == 12 ? 1 : -1];

/* act_min / act_max in each byte of a word */
static uint32_t byte_lanes(int32_t value)
{
    return ((uint32_t)value & UINT32_C(0xff)) * UINT32_C(0x01010101);
}
#endif

/* ----------------------------------------------------------------------- regular conv */

/* A regular conv (groups 1) and its current one or two output channels. */
typedef struct {
    const tt_channel_quant *q;
    const int8_t *input;
    const int8_t *input_end; /* one past the input tensor */
    int8_t *output;
    const tt_conv_shape *s;
    int32_t c;      /* input channels */
    int32_t x_row;  /* input row, bytes */
    int32_t w_run;  /* one kernel row of a weight row: kernel_w * c */
    int32_t w_len;  /* w_run rounded up to a multiple of 4 */
    int32_t x_offset;
    int32_t interior_first, interior_end; /* columns whose kernel columns are all inside */
    size_t taps;
    int32_t o;      /* the first output channel */
    int32_t width;  /* output channels: 1 or 2 */
    const int8_t *w[2];
    channel_finish f[2];
    int32_t tiled;  /* tile_pass computes the pairs of interior pixels (tiled_pairs) */
    int32_t rows_done; /* stem_pass computed the interior pixels of rows with every kernel row */
} regular_conv;

/* A regular conv as tt_conv2d_regular_rows receives it: what the lanes and stem passes need
 * (a small frame under them: regular_channels builds its regular_conv after they return). */
typedef struct {
    const tt_conv_shape *s;
    const tt_channel_quant *q;
    const int8_t *input;
    int8_t *output;
    const tt_weight_rows *rows;
    const int32_t *bias;
    int32_t c;        /* input channels */
    int32_t x_offset; /* -input_zero_point */
    size_t taps;      /* int8 values per weight row */
} fast_conv;

/* The lanes and stem passes compute chunks of PASS_CHUNK output channels below pass_end (a
 * multiple of four, at most 32 chunks) and report them as a mask: bit i for channels
 * [i * PASS_CHUNK, (i + 1) * PASS_CHUNK). A chunk they cannot take (a channel without the
 * word form of its requantization) is left to the tiles. */
enum { PASS_CHUNK = 8, PASS_MAX_CHUNKS = 32 };

static int32_t pass_end(const tt_conv_shape *s)
{
    const int32_t end = s->output_c / 4 * 4;
    return end < PASS_CHUNK * PASS_MAX_CHUNKS ? end : PASS_CHUNK * PASS_MAX_CHUNKS;
}

/* 1 when channel o is in a chunk of `mask` (end: pass_end of the conv). */
static int pass_covers(int32_t end, uint32_t mask, int32_t o)
{
    return o < end && ((mask >> (o / PASS_CHUNK)) & 1u) != 0u;
}

/* The taps of an output row: `runs` kernel rows from kernel row kh_first, the first one at
 * input row pointer x (NULL when runs == 0). */
typedef struct {
    const int8_t *x;
    int32_t kh_first;
    int32_t runs;
} regular_rows;

static regular_rows regular_rows_of(const regular_conv *k, int32_t n, int32_t oh)
{
    const int32_t ih0 = oh * k->s->stride_h - k->s->pad_h;
    int32_t kh_first, kh_end;
    valid_taps(ih0, k->s->kernel_h, k->s->input_h, &kh_first, &kh_end);
    regular_rows r = {NULL, kh_first, kh_end > kh_first ? kh_end - kh_first : 0};
    if (r.runs > 0) {
        r.x = k->input + tt_nhwc_offset(k->s->input_h, k->s->input_w, k->c, n, ih0 + kh_first, 0, 0);
    }
    return r;
}

static int8_t *regular_out_row(const regular_conv *k, int32_t n, int32_t oh)
{
    return k->output + tt_nhwc_offset(k->s->output_h, k->s->output_w, k->s->output_c, n, oh, 0, k->o);
}

/* The pairs of interior pixels of an output row (from interior_first) that tile_pass
 * computes: all of them, but where kernel rows are padded to w_len the last ones whose
 * reads past a run would leave the input are left to the C loops. */
static int32_t tiled_pairs(const regular_conv *k, const regular_rows *r)
{
    if (!k->tiled || r->runs == 0 || (k->rows_done && r->runs == k->s->kernel_h)) {
        return 0;
    }
    int32_t pairs = (k->interior_end - k->interior_first) / 2;
    if (k->w_len != k->w_run && pairs > 0) {
        const int8_t *x = r->x + (size_t)(k->interior_first * k->s->stride_w - k->s->pad_w) * k->c;
        const size_t pair = 2 * (size_t)k->s->stride_w * (size_t)k->c;
        /* the last byte read: pixel b of the last pair, last run, w_len bytes */
        const size_t reach = (size_t)k->s->stride_w * (size_t)k->c +
                             (size_t)(r->runs - 1) * (size_t)k->x_row + (size_t)k->w_len;
        while (pairs > 0 && (size_t)(k->input_end - x) < (size_t)(pairs - 1) * pair + reach) {
            --pairs;
        }
    }
    return pairs;
}

/* ..................................................................... the C loops */

static void store_pixel(const regular_conv *k, const int32_t *sums, int8_t *out)
{
    out[0] = channel_finish_apply(sums[0], &k->f[0], k->q);
    if (k->width == 2) {
        out[1] = channel_finish_apply(sums[1], &k->f[1], k->q);
    }
}

/* Output pixel ow (any position: its valid kernel columns are worked out here). */
TT_SEPARATE_FRAME static void regular_pixel(const regular_conv *k, const regular_rows *r,
                                            int32_t ow, int8_t *out)
{
    const int32_t iw0 = ow * k->s->stride_w - k->s->pad_w;
    int32_t kw_first, kw_end;
    valid_taps(iw0, k->s->kernel_w, k->s->input_w, &kw_first, &kw_end);
    int32_t sums[2] = {0, 0};
    if (r->runs > 0 && kw_end > kw_first) {
        const size_t w_first = (size_t)r->kh_first * (size_t)k->w_run + (size_t)kw_first * k->c;
        const pair_job j = {r->x + (size_t)(iw0 + kw_first) * (size_t)k->c,
                            k->w[0] + w_first,
                            k->w[1] + w_first,
                            k->x_offset,
                            0,
                            (kw_end - kw_first) * k->c,
                            k->x_row,
                            k->w_run,
                            r->runs};
        pair_sums(&j, sums);
    }
    store_pixel(k, sums, out + (size_t)ow * (size_t)k->s->output_c);
}

/* Output pixels ow and ow + 1 of one output channel, both with every kernel column inside
 * the input (the weight row shared). */
TT_SEPARATE_FRAME static void regular_pixel_pair(const regular_conv *k, const regular_rows *r,
                                                 int32_t ow, int8_t *out)
{
    const int8_t *x0 = r->x + (size_t)(ow * k->s->stride_w - k->s->pad_w) * (size_t)k->c;
    const int8_t *w = k->w[0] + (size_t)r->kh_first * (size_t)k->w_run;
    int32_t sums[2] = {0, 0};
    const pair_job j = {w,        x0,       x0 + (size_t)k->s->stride_w * (size_t)k->c,
                        0,        k->x_offset, k->w_run,
                        k->w_run, k->x_row, r->runs};
    pair_sums(&j, sums);
    out[(size_t)ow * (size_t)k->s->output_c] = channel_finish_apply(sums[0], &k->f[0], k->q);
    out[(size_t)(ow + 1) * (size_t)k->s->output_c] = channel_finish_apply(sums[1], &k->f[0], k->q);
}

/* Every output pixel of the current channels that tile_pass does not compute. */
static void regular_c_pass(const regular_conv *k)
{
    const int32_t interior = k->interior_end - k->interior_first;
    if (k->tiled && !k->rows_done && interior == k->s->output_w && interior % 2 == 0 &&
        k->w_len == k->w_run && k->s->pad_h == 0) {
        return; /* tile_pass computes every pixel (e.g. a 1x1 conv on an even width) */
    }
    for (int32_t n = 0; n < k->s->batch; ++n) {
        for (int32_t oh = 0; oh < k->s->output_h; ++oh) {
            const regular_rows r = regular_rows_of(k, n, oh);
            int8_t *out = regular_out_row(k, n, oh);
            for (int32_t ow = 0; ow < k->interior_first; ++ow) {
                regular_pixel(k, &r, ow, out);
            }
            const int done = k->rows_done && r.runs == k->s->kernel_h;
            int32_t ow = done ? k->interior_end : k->interior_first + 2 * tiled_pairs(k, &r);
            if (!done && k->width == 1 && r.runs > 0) {
                for (; ow + 1 < k->interior_end; ow += 2) {
                    regular_pixel_pair(k, &r, ow, out);
                }
            }
            for (; ow < k->s->output_w; ++ow) {
                regular_pixel(k, &r, ow, out);
            }
        }
    }
}

#if TT_TILE_ASM
/* ..................................................................... the tile pass */

/* The channel pair's weights prepared for the tile loops, in a buffer of TILE_BUFFER_BYTES:
 * - expanded to 16-bit lanes for tile_row_expanded (4 bytes per weight of the row pair: 1x1
 *   convs up to 48 input channels, a 3-channel 3x3 stem), when at least four pixel pairs
 *   share them (expanding costs about what 3 pairs save);
 * - else, when a kernel row is not a whole number of words, zero-padded to w_len (both rows);
 * - else read in place, except row o of a last-axis split, copied before row o + 1 is
 *   assembled over it. */
enum { TILE_BUFFER_BYTES = 192 };
enum { TILE_IN_PLACE, TILE_COPY, TILE_PADDED, TILE_EXPANDED };

/* sum of count int8 values: four per USADA8 on the bytes biased by 128 (x ^ 0x80 = x + 128
 * as an unsigned byte), then 128 per value taken back. */
static int32_t weight_sum(const int8_t *w, size_t count)
{
    uint32_t biased = 0;
    size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        biased = __usada8(read_word(w + i) ^ UINT32_C(0x80808080), 0, biased);
    }
    int32_t sum = (int32_t)biased - 128 * (int32_t)i;
    for (; i < count; ++i) {
        sum += w[i];
    }
    return sum;
}

/* The tile pass's way with the weights of the current channels, or -1 when it cannot tile
 * them (one channel, a finish without the word form, a buffer too small). */
static int32_t tile_mode(const regular_conv *k, const tt_weight_rows *rows)
{
    if (k->width != 2 || !k->f[0].word || !k->f[1].word) {
        return -1;
    }
    const int64_t pairs =
        (int64_t)k->s->batch * k->s->output_h * ((k->interior_end - k->interior_first) / 2);
    const size_t padded_pair = 2 * (size_t)k->s->kernel_h * (size_t)k->w_len;
    if (pairs >= 4 && 2 * padded_pair <= TILE_BUFFER_BYTES) {
        return TILE_EXPANDED;
    }
    if (k->w_len != k->w_run) {
        return padded_pair <= TILE_BUFFER_BYTES ? TILE_PADDED : -1;
    }
    if (rows->split != NULL && rows->split->axis != 0) {
        return k->taps <= TILE_BUFFER_BYTES ? TILE_COPY : -1;
    }
    return TILE_IN_PLACE;
}

typedef struct {
    tile_row_args args;
    int32_t mode;
    const int8_t *w[2];                      /* TILE_IN_PLACE, TILE_COPY: the rows */
    int32_t init_first, init_runs;           /* the kernel rows args.init was computed for */
    union {
        int8_t bytes[TILE_BUFFER_BYTES];
        uint32_t lanes[TILE_BUFFER_BYTES / 4]; /* per 4 weights: o even, o odd, o+1 even, odd */
    } buffer;
} tile_state;

/* Row j (of o, o + 1) into the buffer as the mode wants it. */
static void tile_take_row(const regular_conv *k, tile_state *t, int32_t j, const int8_t *w)
{
    if (t->mode == TILE_EXPANDED) {
        uint32_t *lanes = t->buffer.lanes + 2 * j;
        for (int32_t kh = 0; kh < k->s->kernel_h; ++kh) {
            const int8_t *run = w + (size_t)kh * (size_t)k->w_run;
            for (int32_t i = 0; i < k->w_len; i += 4) {
                uint32_t word = 0;
                if (i + 4 <= k->w_run) {
                    word = read_word(run + i);
                } else {
                    for (int32_t b = 0; b < k->w_run - i; ++b) {
                        word |= (uint32_t)(uint8_t)run[i + b] << (8 * b);
                    }
                }
                lanes[0] = lanes_even(0, word);
                lanes[1] = lanes_odd(0, word);
                lanes += 4;
            }
        }
    } else if (t->mode == TILE_PADDED) {
        int8_t *row = t->buffer.bytes + (size_t)j * (size_t)k->s->kernel_h * (size_t)k->w_len;
        for (int32_t kh = 0; kh < k->s->kernel_h; ++kh) {
            int8_t *run = row + (size_t)kh * (size_t)k->w_len;
            memcpy(run, w + (size_t)kh * (size_t)k->w_run, (size_t)k->w_run);
            memset(run + k->w_run, 0, (size_t)(k->w_len - k->w_run));
        }
    } else if (t->mode == TILE_COPY && j == 0) {
        memcpy(t->buffer.bytes, w, k->taps);
        w = t->buffer.bytes;
    }
    t->w[j] = w;
}

/* Sum of the weights of row j over kernel rows [kh_first, kh_first + runs), from the
 * prepared weights (zero padding adds nothing; expanded lanes: SMLAD by 1 in both lanes). */
static int32_t tile_weight_sum(const regular_conv *k, const tile_state *t, int32_t j,
                               int32_t kh_first, int32_t runs)
{
    const size_t first = (size_t)kh_first * (size_t)k->w_len;
    const size_t count = (size_t)runs * (size_t)k->w_len;
    if (t->mode == TILE_EXPANDED) {
        const uint32_t *lanes = t->buffer.lanes + first + 2 * (size_t)j;
        int32_t sum = 0;
        for (size_t i = 0; i < count; i += 4) {
            sum = (int32_t)__smlad(lanes[i], UINT32_C(0x00010001), sum);
            sum = (int32_t)__smlad(lanes[i + 1], UINT32_C(0x00010001), sum);
        }
        return sum;
    }
    if (t->mode == TILE_PADDED) {
        const size_t row = (size_t)j * (size_t)k->s->kernel_h * (size_t)k->w_len;
        return weight_sum(t->buffer.bytes + row + first, count);
    }
    return weight_sum(t->w[j] + (size_t)kh_first * (size_t)k->w_run, (size_t)runs * k->w_run);
}

/* The weights of kernel rows [kh_first, kh_first + runs) as tile_row reads them. */
static const int8_t *tile_weights(const regular_conv *k, const tile_state *t, int32_t kh_first)
{
    switch (t->mode) {
    case TILE_EXPANDED:
        return (const int8_t *)(t->buffer.lanes + (size_t)kh_first * (size_t)k->w_len);
    case TILE_PADDED:
        return t->buffer.bytes + (size_t)kh_first * (size_t)k->w_len;
    default:
        return t->w[0] + (size_t)kh_first * (size_t)k->w_run;
    }
}

static void tile_args_init(const regular_conv *k, tile_state *t)
{
    tile_row_args *a = &t->args;
    if (t->mode == TILE_PADDED) {
        a->w_row = k->s->kernel_h * k->w_len;
    } else {
        a->w_row = (int32_t)((uintptr_t)t->w[1] - (uintptr_t)t->w[0]);
    }
    a->x_pixel = k->s->stride_w * k->c;
    a->words = k->w_len / 4;
    a->x_next = k->x_row - k->w_len;
    a->x_pair = 2 * a->x_pixel;
    a->out_pixel = k->s->output_c;
    for (int32_t j = 0; j < 2; ++j) {
        int32_t *mult_round = j == 0 ? a->mult_round0 : a->mult_round1;
        mult_round[0] = word_multiplier(&k->f[j]);
        mult_round[1] = k->f[j].word_round;
        a->shift[j] = word_shift(&k->f[j]);
    }
    a->act[0] = byte_lanes(k->q->act_min);
    a->act[1] = byte_lanes(k->q->act_max);
    t->init_first = -1;
    t->init_runs = -1;
}

/* The tiled pairs of interior pixels (tiled_pairs) of output channels o, o + 1, every row,
 * with tile_row or tile_row_expanded; the rows are fetched here (row o first). */
TT_SEPARATE_FRAME static void tile_pass(const regular_conv *k, const tt_weight_rows *rows,
                                        int32_t mode)
{
    tile_state t;
    t.mode = mode;
    tile_take_row(k, &t, 0, tt_weight_row(rows, k->o));
    tile_take_row(k, &t, 1, tt_weight_row(rows, k->o + 1));
    tile_args_init(k, &t);
    tile_row_args *a = &t.args;
    for (int32_t n = 0; n < k->s->batch; ++n) {
        for (int32_t oh = 0; oh < k->s->output_h; ++oh) {
            const regular_rows r = regular_rows_of(k, n, oh);
            const int32_t pairs = tiled_pairs(k, &r);
            if (pairs == 0) {
                continue;
            }
            if (r.kh_first != t.init_first || r.runs != t.init_runs) {
                /* the input offset folded in: init = bias - zp * (sum of the runs' weights) */
                for (int32_t j = 0; j < 2; ++j) {
                    const int32_t sum = tile_weight_sum(k, &t, j, r.kh_first, r.runs);
                    a->init[j] = k->f[j].bias + k->x_offset * sum;
                }
                t.init_first = r.kh_first;
                t.init_runs = r.runs;
            }
            a->x = r.x + (size_t)(k->interior_first * k->s->stride_w - k->s->pad_w) * (size_t)k->c;
            a->w = tile_weights(k, &t, r.kh_first);
            a->runs = r.runs;
            a->pairs = pairs;
            a->out = regular_out_row(k, n, oh) + (size_t)k->interior_first * (size_t)k->s->output_c;
            if (mode == TILE_EXPANDED) {
                tile_row_expanded(a);
            } else {
                tile_row(a);
            }
        }
    }
}

/* ..................................................................... few input channels */

/*
 * 1x1 convs (no padding) with 8 or 16 input channels, such as a bottleneck's expand conv, whose
 * short weight rows leave the tiles mostly overhead: one pixel at a time against a chunk of up
 * to LANES_CHUNK output channels. The pixel's input words are split into 16-bit lanes once (4
 * or 8 registers); each output channel then loads its prepared words with LDM (lanes_prepare:
 * its sum's start bias - zp * (sum of its weights), as in tile_pass, its weights as lanes, and
 * channel_finish's word form) and costs its SMLADs, SMMLA, ASR, SSAT and a store.
 */
enum { LANES_CHUNK = PASS_CHUNK, LANES_WORDS8 = 8, LANES_WORDS16 = 12 };

/* The arguments of the lanes loops (field offsets are used by the code: keep the order). */
typedef struct {
    const int8_t *x;           /* the current pixel's input (advanced by the loop) */
    int32_t x_step;            /* input bytes from pixel to pixel */
    int8_t *out;               /* the current pixel's first output of the chunk (advanced) */
    int32_t out_step;          /* output bytes from pixel to pixel */
    const uint32_t *table;     /* the chunk's prepared words, LANES_WORDS8 / 16 per channel */
    const uint32_t *table_end;
    int32_t pixels;            /* >= 1 */
    uint32_t act[2];           /* act_min, act_max in each byte */
} lanes_args;

/* act_min <= r <= act_max on the low byte of r (SSUB8 + SEL on byte lanes; the other bytes
 * become garbage, and only the low one is stored), the act words at [sp, #at], t0-t2 free.
 * Not used when the clamp is the full int8 range (SSAT did it). */
#define LANES_CLAMP_AT(r, t0, t1, t2, at)                                                      \
    "ldrd   " t0 ", " t1 ", [sp, #" at "]\n\t"                                                 \
    "ssub8  " t2 ", " r ", " t0 "\n\t"                                                         \
    "sel    " r ", " r ", " t0 "\n\t"                                                          \
    "ssub8  " t2 ", " r ", " t1 "\n\t"                                                         \
    "sel    " r ", " t1 ", " r "\n\t"

/* The pixel loop shared by both widths: [sp] the argument pointer, [sp, #4] pixels left,
 * [sp, #8] the table's end, [sp, #12] and [sp, #16] the act words, [sp, #20], [sp, #24] the
 * loop's own; `pixel` loads and splits the pixel, `channels` runs the chunk. r4-r11 and lr are
 * saved and restored here (see tile_row). */
#define LANES_ASM(pixel, channels)                                                             \
    __asm__ volatile(                                                                          \
        "push   {r4-r11, lr}\n\t"                                                              \
        "mov    r12, %[args]\n\t"                                                              \
        "sub    sp, sp, #32\n\t"                                                               \
        "str    r12, [sp]\n\t"                                                                 \
        "ldr    r4, [r12, %[pixels]]\n\t"                                                      \
        "ldr    r5, [r12, %[table_end]]\n\t"                                                   \
        "strd   r4, r5, [sp, #4]\n\t"                                                          \
        "ldrd   r4, r5, [r12, %[act]]\n\t"                                                     \
        "strd   r4, r5, [sp, #12]\n\t"                                                         \
        "1:\n\t" pixel channels                                                                \
        "ldr    r4, [sp, #4]\n\t"                                                              \
        "subs   r4, r4, #1\n\t"                                                                \
        "str    r4, [sp, #4]\n\t"                                                              \
        "bne    1b\n\t"                                                                        \
        "add    sp, sp, #32\n\t"                                                               \
        "pop    {r4-r11, lr}\n\t"                                                              \
        :                                                                                      \
        : [args] "r"(a), [pixels] "i"(offsetof(lanes_args, pixels)),                           \
          [table_end] "i"(offsetof(lanes_args, table_end)),                                    \
          [act] "i"(offsetof(lanes_args, act)), [x_step] "i"(offsetof(lanes_args, x_step)),    \
          [out] "i"(offsetof(lanes_args, out)), [out_step] "i"(offsetof(lanes_args, out_step)), \
          [table] "i"(offsetof(lanes_args, table))                                             \
        : "r0", "r1", "r2", "r3", "r12", "cc", "memory")

/* 8 input channels: r0-r3 the pixel's lanes [x0, x2], [x1, x3], [x4, x6], [x5, x7]; lr the
 * output, r12 the table (per channel: start, 4 weight lanes, multiplier, rounding, shift). */
#define LANES8_PIXEL                                                                           \
    "ldr    r12, [sp]\n\t"                                                                     \
    "ldr    r4, [r12]\n\t"                                                                     \
    "ldr    r5, [r12, %[x_step]]\n\t"                                                          \
    "ldr    r0, [r4]\n\t"                                                                      \
    "ldr    r2, [r4, #4]\n\t"                                                                  \
    "add    r4, r4, r5\n\t"                                                                    \
    "str    r4, [r12]\n\t"                                                                     \
    "sxtb16 r1, r0, ror #8\n\t"                                                                \
    "sxtb16 r0, r0\n\t"                                                                        \
    "sxtb16 r3, r2, ror #8\n\t"                                                                \
    "sxtb16 r2, r2\n\t"                                                                        \
    "ldr    lr, [r12, %[out]]\n\t"                                                             \
    "ldr    r5, [r12, %[out_step]]\n\t"                                                        \
    "add    r5, lr, r5\n\t"                                                                    \
    "str    r5, [r12, %[out]]\n\t"                                                             \
    "ldr    r12, [r12, %[table]]\n\t"

#define LANES8_CHANNEL(clamp)                                                                  \
    "ldm    r12!, {r4-r11}\n\t"                                                                \
    "smlad  r4, r0, r5, r4\n\t"                                                                \
    "smlad  r4, r1, r6, r4\n\t"                                                                \
    "smlad  r4, r2, r7, r4\n\t"                                                                \
    "smlad  r4, r3, r8, r4\n\t"                                                                \
    "smmla  r4, r4, r9, r10\n\t"                                                               \
    "asr    r4, r4, r11\n\t"                                                                   \
    "ssat   r4, #8, r4\n\t" clamp "strb   r4, [lr], #1\n\t"

/* Four channels per iteration (the chunk holds a multiple of four). */
#define LANES8_CHANNELS(clamp)                                                                 \
    "2:\n\t" LANES8_CHANNEL(clamp) LANES8_CHANNEL(clamp) LANES8_CHANNEL(clamp)                  \
        LANES8_CHANNEL(clamp) "ldr    r5, [sp, #8]\n\t"                                        \
                              "cmp    r12, r5\n\t"                                             \
                              "bne    2b\n\t"

/* 16 input channels: r0-r7 the pixel's lanes; lr the table (per channel: 4 weight lanes, the
 * start, 4 weight lanes, multiplier, rounding, shift), r12 the sum; the outputs of four
 * channels are gathered at [sp, #24] and stored as one word at [sp, #20], the output. */
#define LANES16_PIXEL                                                                          \
    "ldr    r12, [sp]\n\t"                                                                     \
    "ldr    r8, [r12]\n\t"                                                                     \
    "ldr    r9, [r12, %[x_step]]\n\t"                                                          \
    "ldr    r0, [r8]\n\t"                                                                      \
    "ldr    r2, [r8, #4]\n\t"                                                                  \
    "ldr    r4, [r8, #8]\n\t"                                                                  \
    "ldr    r6, [r8, #12]\n\t"                                                                 \
    "add    r8, r8, r9\n\t"                                                                    \
    "str    r8, [r12]\n\t"                                                                     \
    "sxtb16 r1, r0, ror #8\n\t"                                                                \
    "sxtb16 r0, r0\n\t"                                                                        \
    "sxtb16 r3, r2, ror #8\n\t"                                                                \
    "sxtb16 r2, r2\n\t"                                                                        \
    "sxtb16 r5, r4, ror #8\n\t"                                                                \
    "sxtb16 r4, r4\n\t"                                                                        \
    "sxtb16 r7, r6, ror #8\n\t"                                                                \
    "sxtb16 r6, r6\n\t"                                                                        \
    "ldr    r8, [r12, %[out]]\n\t"                                                             \
    "ldr    r9, [r12, %[out_step]]\n\t"                                                        \
    "add    r9, r8, r9\n\t"                                                                    \
    "str    r9, [r12, %[out]]\n\t"                                                             \
    "str    r8, [sp, #20]\n\t"                                                                 \
    "ldr    lr, [r12, %[table]]\n\t"

#define LANES16_CHANNEL(clamp, byte)                                                           \
    "ldm    lr!, {r8-r12}\n\t"                                                                 \
    "smlad  r12, r0, r8, r12\n\t"                                                              \
    "smlad  r12, r1, r9, r12\n\t"                                                              \
    "smlad  r12, r2, r10, r12\n\t"                                                             \
    "smlad  r12, r3, r11, r12\n\t"                                                             \
    "ldm    lr!, {r8-r11}\n\t"                                                                 \
    "smlad  r12, r4, r8, r12\n\t"                                                              \
    "smlad  r12, r5, r9, r12\n\t"                                                              \
    "smlad  r12, r6, r10, r12\n\t"                                                             \
    "smlad  r12, r7, r11, r12\n\t"                                                             \
    "ldm    lr!, {r8-r10}\n\t"                                                                 \
    "smmla  r12, r12, r8, r9\n\t"                                                              \
    "asr    r12, r12, r10\n\t"                                                                 \
    "ssat   r12, #8, r12\n\t" clamp "strb   r12, [sp, #" byte "]\n\t"

#define LANES16_CHANNELS(clamp)                                                                \
    "2:\n\t" LANES16_CHANNEL(clamp, "24") LANES16_CHANNEL(clamp, "25")                          \
        LANES16_CHANNEL(clamp, "26") LANES16_CHANNEL(clamp, "27")                               \
    "ldr    r8, [sp, #24]\n\t"                                                                 \
    "ldr    r9, [sp, #20]\n\t"                                                                 \
    "str    r8, [r9], #4\n\t"                                                                  \
    "str    r9, [sp, #20]\n\t"                                                                 \
    "ldr    r8, [sp, #8]\n\t"                                                                  \
    "cmp    lr, r8\n\t"                                                                        \
    "bne    2b\n\t"

static void lanes8(lanes_args *a)
{
    LANES_ASM(LANES8_PIXEL, LANES8_CHANNELS(""));
}

static void lanes8_clamped(lanes_args *a)
{
    LANES_ASM(LANES8_PIXEL, LANES8_CHANNELS(LANES_CLAMP_AT("r4", "r5", "r6", "r7", "12")));
}

static void lanes16(lanes_args *a)
{
    LANES_ASM(LANES16_PIXEL, LANES16_CHANNELS(""));
}

static void lanes16_clamped(lanes_args *a)
{
    LANES_ASM(LANES16_PIXEL, LANES16_CHANNELS(LANES_CLAMP_AT("r12", "r8", "r9", "r10", "12")));
}

/* The ldr / str of x above use offset 0. */
typedef char lanes_args_layout[offsetof(lanes_args, x) == 0 ? 1 : -1];

/* Channel o's bias and requantization words (multiplier, rounding with the output zero point
 * folded in, shift) into *b, words; 0 when it has none: channel_finish_init's word form,
 * without its struct or calls (a small frame under the lanes and stem tables). */
static TT_ALWAYS_INLINE int finish_words(const fast_conv *k, int32_t o, int64_t limit,
                                         int32_t *b, uint32_t words[3])
{
    const int32_t bias = k->bias != NULL ? k->bias[o] : 0;
    const int32_t shift = k->q->shift[o];
    /* |bias| <= limit in 32 bits (limit is -1 or below 2^31) */
    const uint32_t magnitude = bias < 0 ? 0u - (uint32_t)bias : (uint32_t)bias;
    const int fits = limit >= 0 && magnitude <= (uint32_t)limit;
    if (tt_requant32_applies(shift) && 31 - shift - 32 <= MAX_FOLD_SHIFT && fits) {
        const tt_requant32 r = tt_requant32_make(k->q->multiplier[o], shift);
        words[0] = (uint32_t)r.multiplier;
        words[1] = (uint32_t)(r.rounding + k->q->output_zero_point * (1 << r.shift));
        words[2] = (uint32_t)r.shift;
        *b = bias;
        return 1;
    }
    /* a constant channel, as channel_finish_init finds it */
    const int64_t bound = (int64_t)k->taps * MAX_PRODUCT;
    if (bound > INT32_MAX) {
        return 0;
    }
    const tt_channel_quant *q = k->q;
    const int8_t low = tt_requantize_to_int8_rule(bias - bound, q->multiplier[o], shift,
                                                  q->output_zero_point, q->act_min, q->act_max);
    const int8_t high = tt_requantize_to_int8_rule(bias + bound, q->multiplier[o], shift,
                                                   q->output_zero_point, q->act_min, q->act_max);
    words[0] = 0;
    words[1] = (uint32_t)(int32_t)low;
    words[2] = 0;
    *b = 0;
    return low == high;
}

/* Channel o's words for lanes8 (c == 8: start, 4 weight lanes, requantization) or lanes16
 * (c == 16: 4 lanes, start, 4 lanes, requantization) at t; 0 when it has no word form. */
static TT_ALWAYS_INLINE int lanes_channel(const fast_conv *k, int32_t c, int32_t o, int64_t limit,
                                          uint32_t *t)
{
    int32_t bias;
    uint32_t finish[3];
    if (!finish_words(k, o, limit, &bias, finish)) {
        return 0;
    }
    const int8_t *w = tt_weight_row(k->rows, o);
    uint32_t lanes[8];
    uint32_t biased = 0; /* the weights' sum as in weight_sum */
    for (int32_t i = 0; i < c / 4; ++i) {
        const uint32_t word = read_word(w + 4 * i);
        biased = __usada8(word ^ UINT32_C(0x80808080), 0, biased);
        lanes[2 * i] = lanes_even(0, word);
        lanes[2 * i + 1] = lanes_odd(0, word);
    }
    const uint32_t start = (uint32_t)(bias + k->x_offset * ((int32_t)biased - 128 * c));
    if (c == 8) {
        t[0] = start;
        t[1] = lanes[0], t[2] = lanes[1], t[3] = lanes[2], t[4] = lanes[3];
        t += 5;
    } else {
        t[0] = lanes[0], t[1] = lanes[1], t[2] = lanes[2], t[3] = lanes[3];
        t[4] = start;
        t[5] = lanes[4], t[6] = lanes[5], t[7] = lanes[6], t[8] = lanes[7];
        t += 9;
    }
    t[0] = finish[0], t[1] = finish[1], t[2] = finish[2];
    return 1;
}

/* The words of output channels [o0, o0 + count) for lanes8 / lanes16 into table; 0 (table
 * unusable) when one of them lacks channel_finish's word form. */
static int lanes_prepare(const fast_conv *k, int32_t o0, int32_t count, uint32_t *table)
{
    const int64_t limit = bias_limit(k->taps);
    if (k->c == 8) {
        for (int32_t j = 0; j < count; ++j, table += LANES_WORDS8) {
            if (!lanes_channel(k, 8, o0 + j, limit, table)) {
                return 0;
            }
        }
        return 1;
    }
    for (int32_t j = 0; j < count; ++j, table += LANES_WORDS16) {
        if (!lanes_channel(k, 16, o0 + j, limit, table)) {
            return 0;
        }
    }
    return 1;
}

/* 1 when lanes_pass applies: a 1x1 conv without padding on 8 or 16 channels. */
static int lanes_apply(const tt_conv_shape *s)
{
    return s->kernel_h == 1 && s->kernel_w == 1 && s->pad_h == 0 && s->pad_w == 0 &&
           (s->input_c == 8 || s->input_c == 16) && s->output_c >= 4;
}

/* The output channels of every chunk it can take (pass_covers) by the lanes loops. */
TT_SEPARATE_FRAME static uint32_t lanes_pass(const fast_conv *k)
{
    const tt_conv_shape *s = k->s;
    if (!lanes_apply(s)) {
        return 0;
    }
    uint32_t done = 0;
    uint32_t table[LANES_CHUNK * LANES_WORDS16];
    const int32_t words = k->c == 8 ? LANES_WORDS8 : LANES_WORDS16;
    const int clamped = k->q->act_min != -128 || k->q->act_max != 127;
    const int32_t end = pass_end(s);
    /* with stride 1 the pixels of every image and row follow each other */
    const int whole = s->stride_h == 1 && s->stride_w == 1;
    const int32_t rows_per_call = whole ? 1 : s->output_h;
    const int32_t calls = whole ? 1 : s->batch * s->output_h;
    for (int32_t o0 = 0; o0 < end; o0 += LANES_CHUNK) {
        const int32_t count = end - o0 < LANES_CHUNK ? end - o0 : LANES_CHUNK;
        if (!lanes_prepare(k, o0, count, table)) {
            continue;
        }
        done |= 1u << (o0 / PASS_CHUNK);
        lanes_args a;
        a.x_step = s->stride_w * k->c;
        a.out_step = s->output_c;
        a.table = table;
        a.table_end = table + (size_t)count * (size_t)words;
        a.pixels = whole ? s->batch * s->output_h * s->output_w : s->output_w;
        a.act[0] = byte_lanes(k->q->act_min);
        a.act[1] = byte_lanes(k->q->act_max);
        for (int32_t r = 0; r < calls; ++r) {
            const int32_t n = r / rows_per_call, oh = r % rows_per_call;
            a.x = k->input + tt_nhwc_offset(s->input_h, s->input_w, k->c, n, oh * s->stride_h, 0, 0);
            a.out = k->output + tt_nhwc_offset(s->output_h, s->output_w, s->output_c, n, oh, 0, o0);
            if (k->c == 8) {
                if (clamped) {
                    lanes8_clamped(&a);
                } else {
                    lanes8(&a);
                }
            } else if (clamped) {
                lanes16_clamped(&a);
            } else {
                lanes16(&a);
            }
        }
    }
    return done;
}

/* ..................................................................... 3-channel 3x3 stems */

/*
 * A 3x3 conv on 3 input channels (an RGB stem): each kernel row is 9 bytes, two words and a
 * byte, split into five lanes (the ninth value alone, for SMLABB). Pixels whose nine taps are
 * all inside the input run one at a time against a chunk of up to STEM_CHUNK output channels,
 * kernel row by kernel row: the row's lanes in r0-r4, each channel's five weight lanes (with
 * its sum's start after row 0's, its requantization after row 2's) loaded with LDM, the sums
 * waiting in the frame between rows. The tiles and C loops compute the other pixels.
 */
enum { STEM_CHUNK = PASS_CHUNK, STEM_PAIR_WORDS = 35 }; /* per pair: 11 + 9 + 15 words */

/* The arguments of stem_row (field offsets are used by the code: keep the order). */
typedef struct {
    const int8_t *x;         /* the current pixel's first tap (kernel row 0; advanced) */
    int32_t x_step;          /* input bytes from pixel to pixel */
    int32_t x_row;           /* input bytes from kernel row to kernel row */
    int8_t *out;             /* the current pixel's first output of the chunk (advanced) */
    int32_t out_skip;        /* output bytes from the chunk's end to the next pixel's start */
    const uint32_t *table;   /* kernel row 0's words of every channel, then row 1's, row 2's */
    const uint32_t *ends[3]; /* the end of each row's words */
    int32_t pixels;          /* >= 1 (counted down) */
    uint32_t act[2];         /* act_min, act_max in each byte */
} stem_args;

/* A kernel row's lanes from r11: [x0, x2], [x1, x3], [x4, x6], [x5, x7] and x8. */
#define STEM_LOAD_ROW                                                                          \
    "ldr    r0, [r11]\n\t"                                                                     \
    "ldr    r2, [r11, #4]\n\t"                                                                 \
    "ldrsb  r4, [r11, #8]\n\t"                                                                 \
    "sxtb16 r1, r0, ror #8\n\t"                                                                \
    "sxtb16 r0, r0\n\t"                                                                        \
    "sxtb16 r3, r2, ror #8\n\t"                                                                \
    "sxtb16 r2, r2\n\t"                                                                        \
    "add    r11, sp, #4\n\t"

/* The row's nine products into r10; the ninth weight is the bottom (channel A of a pair) or
 * top (B) half of r9. */
#define STEM_MACS(half)                                                                        \
    "smlad  r10, r0, r5, r10\n\t"                                                              \
    "smlad  r10, r1, r6, r10\n\t"                                                              \
    "smlad  r10, r2, r7, r10\n\t"                                                              \
    "smlad  r10, r3, r8, r10\n\t"                                                              \
    "smlab" half " r10, r4, r9, r10\n\t"

/* A pair of channels A, B in one kernel row: A's words are its four weight lanes, the word of
 * both ninth weights (r9, kept for B) and its extras, B's its four lanes and its extras. */
/* Kernel row 0: the weights and the sum's start, the sum to the frame (r11). */
#define STEM_FIRST                                                                             \
    "ldm    lr!, {r5-r10}\n\t" STEM_MACS("b") "str    r10, [r11], #4\n\t"                      \
    "ldm    lr!, {r5-r8, r10}\n\t" STEM_MACS("t") "str    r10, [r11], #4\n\t"
/* Kernel row 1: the sum from the frame and back. */
#define STEM_MIDDLE                                                                            \
    "ldm    lr!, {r5-r9}\n\t"                                                                  \
    "ldr    r10, [r11]\n\t" STEM_MACS("b") "str    r10, [r11], #4\n\t"                         \
    "ldm    lr!, {r5-r8}\n\t"                                                                  \
    "ldr    r10, [r11]\n\t" STEM_MACS("t") "str    r10, [r11], #4\n\t"
/* Kernel row 2: the sum finished (tt_requantize32 with the zero point folded in, SSAT, the
 * clamp) and stored at r12. */
#define STEM_FINISH(clamp)                                                                     \
    "ldm    lr!, {r5-r7}\n\t"                                                                  \
    "smmla  r10, r10, r5, r6\n\t"                                                              \
    "asr    r10, r10, r7\n\t"                                                                  \
    "ssat   r10, #8, r10\n\t" clamp "strb   r10, [r12], #1\n\t"
#define STEM_LAST(clamp)                                                                       \
    "ldm    lr!, {r5-r9}\n\t"                                                                  \
    "ldr    r10, [r11], #4\n\t" STEM_MACS("b") STEM_FINISH(clamp)                              \
    "ldm    lr!, {r5-r8}\n\t"                                                                  \
    "ldr    r10, [r11], #4\n\t" STEM_MACS("t") STEM_FINISH(clamp)

/* act_min <= r10 <= act_max on its low byte (see LANES_CLAMP_AT), the act words from the
 * arguments. */
#define STEM_CLAMP                                                                             \
    "ldr    r5, [sp]\n\t"                                                                      \
    "ldrd   r5, r6, [r5, %[act]]\n\t"                                                          \
    "ssub8  r7, r10, r5\n\t"                                                                   \
    "sel    r10, r10, r5\n\t"                                                                  \
    "ssub8  r7, r10, r6\n\t"                                                                   \
    "sel    r10, r6, r10\n\t"

/* Four channels (two pairs) of one kernel row per iteration until the row's end (loaded by
 * `end`). */
#define STEM_CHANNELS(label, step, end)                                                        \
    label ":\n\t" step step end "cmp    lr, r5\n\t"                                            \
                                          "bne    " label "b\n\t"

/* The frame: [sp] the argument pointer, [sp, #4] the chunk's sums. r12 holds the argument
 * pointer in kernel rows 0 and 1, the output in row 2. r4-r11 and lr are saved and restored
 * here (see tile_row). */
#define STEM_ASM(clamp)                                                                        \
    __asm__ volatile(                                                                          \
        "push   {r4-r11, lr}\n\t"                                                              \
        "mov    r12, %[args]\n\t"                                                              \
        "sub    sp, sp, #40\n\t"                                                               \
        "str    r12, [sp]\n\t"                                                                 \
        "1:\n\t"                                                                               \
        "ldr    r12, [sp]\n\t"                                                                 \
        "ldr    lr, [r12, %[table]]\n\t"                                                       \
        "ldr    r11, [r12]\n\t" STEM_LOAD_ROW                                                  \
        STEM_CHANNELS("2", STEM_FIRST, "ldr    r5, [r12, %[ends]]\n\t")                        \
        "ldr    r11, [r12]\n\t"                                                                \
        "ldr    r5, [r12, %[x_row]]\n\t"                                                       \
        "add    r11, r11, r5\n\t" STEM_LOAD_ROW                                                \
        STEM_CHANNELS("3", STEM_MIDDLE, "ldr    r5, [r12, %[ends] + 4]\n\t")                   \
        "ldr    r11, [r12]\n\t"                                                                \
        "ldr    r5, [r12, %[x_row]]\n\t"                                                       \
        "add    r11, r11, r5, lsl #1\n\t" STEM_LOAD_ROW                                        \
        "ldr    r12, [r12, %[out]]\n\t"                                                        \
        STEM_CHANNELS("4", STEM_LAST(clamp), "ldr    r5, [sp]\n\t"                             \
                                             "ldr    r5, [r5, %[ends] + 8]\n\t")               \
        "ldr    r4, [sp]\n\t"                                                                  \
        "ldr    r5, [r4, %[out_skip]]\n\t"                                                     \
        "add    r12, r12, r5\n\t"                                                              \
        "str    r12, [r4, %[out]]\n\t"                                                         \
        "ldr    r5, [r4, %[x_step]]\n\t"                                                       \
        "ldr    r6, [r4]\n\t"                                                                  \
        "add    r6, r6, r5\n\t"                                                                \
        "str    r6, [r4]\n\t"                                                                  \
        "ldr    r5, [r4, %[pixels]]\n\t"                                                       \
        "subs   r5, r5, #1\n\t"                                                                \
        "str    r5, [r4, %[pixels]]\n\t"                                                       \
        "bne    1b\n\t"                                                                        \
        "add    sp, sp, #40\n\t"                                                               \
        "pop    {r4-r11, lr}\n\t"                                                              \
        :                                                                                      \
        : [args] "r"(a), [pixels] "i"(offsetof(stem_args, pixels)),                            \
          [ends] "i"(offsetof(stem_args, ends)), [act] "i"(offsetof(stem_args, act)),          \
          [out] "i"(offsetof(stem_args, out)), [table] "i"(offsetof(stem_args, table)),        \
          [x_row] "i"(offsetof(stem_args, x_row)), [x_step] "i"(offsetof(stem_args, x_step)), \
          [out_skip] "i"(offsetof(stem_args, out_skip))                                        \
        : "r0", "r1", "r2", "r3", "r12", "cc", "memory")

static void stem_row(stem_args *a)
{
    STEM_ASM("");
}

static void stem_row_clamped(stem_args *a)
{
    STEM_ASM(STEM_CLAMP);
}

/* The ldr of x above uses offset 0. */
typedef char stem_args_layout[offsetof(stem_args, x) == 0 ? 1 : -1];

/* Kernel row kh of weight row w as lanes into t: [w0, w2], [w1, w3], [w4, w6], [w5, w7]. */
static uint32_t *stem_row_lanes(const int8_t *w, int32_t kh, uint32_t *t)
{
    const int8_t *row = w + 9 * kh;
    const uint32_t word0 = read_word(row), word1 = read_word(row + 4);
    t[0] = lanes_even(0, word0);
    t[1] = lanes_odd(0, word0);
    t[2] = lanes_even(0, word1);
    t[3] = lanes_odd(0, word1);
    return t + 4;
}

/* The words of output channels [o0, o0 + count) (count even) for stem_row into table: kernel
 * row 0 of every pair, then row 1, then row 2 (STEM_FIRST, STEM_MIDDLE, STEM_LAST); 0 when
 * one of them lacks channel_finish's word form. One weight row at a time (an assembled row is
 * valid until the next one is fetched): a pair's second channel puts its ninth weights into
 * the top halves of the first one's words, which lie 2, 1 and 4 words before its own. */
TT_SEPARATE_FRAME static int stem_prepare(const fast_conv *k, int32_t o0, int32_t count,
                                          uint32_t *table)
{
    const int64_t limit = bias_limit(k->taps);
    uint32_t *row0 = table, *row1 = table + 11 * (count / 2), *row2 = table + 20 * (count / 2);
    for (int32_t j = 0; j < count; ++j) {
        int32_t bias;
        uint32_t finish[3];
        if (!finish_words(k, o0 + j, limit, &bias, finish)) {
            return 0;
        }
        const int8_t *w = tt_weight_row(k->rows, o0 + j);
        if (j % 2 == 0) {
            row0 = stem_row_lanes(w, 0, row0);
            *row0++ = (uint32_t)(uint16_t)w[8];
            row1 = stem_row_lanes(w, 1, row1);
            *row1++ = (uint32_t)(uint16_t)w[17];
            row2 = stem_row_lanes(w, 2, row2);
            *row2++ = (uint32_t)(uint16_t)w[26];
        } else {
            row0[-2] |= (uint32_t)(uint16_t)w[8] << 16;
            row0 = stem_row_lanes(w, 0, row0);
            row1[-1] |= (uint32_t)(uint16_t)w[17] << 16;
            row1 = stem_row_lanes(w, 1, row1);
            row2[-4] |= (uint32_t)(uint16_t)w[26] << 16;
            row2 = stem_row_lanes(w, 2, row2);
        }
        *row0++ = (uint32_t)(bias + k->x_offset * weight_sum(w, 27));
        row2[0] = finish[0], row2[1] = finish[1], row2[2] = finish[2];
        row2 += 3;
    }
    return 1;
}

/* 1 when stem_pass applies: a 3x3 conv on 3 channels. */
static int stem_apply(const tt_conv_shape *s)
{
    return s->kernel_h == 3 && s->kernel_w == 3 && s->input_c == 3 && s->output_c >= 4;
}

/* The pixels with all nine taps inside (the interior columns of the output rows whose three
 * kernel rows are inside) of every chunk of output channels it can take (pass_covers) by
 * stem_row. */
TT_SEPARATE_FRAME static uint32_t stem_pass(const fast_conv *k)
{
    const tt_conv_shape *s = k->s;
    int32_t interior_first, interior_end;
    interior_pixels(s, &interior_first, &interior_end);
    if (!stem_apply(s) || interior_end == interior_first) {
        return 0;
    }
    uint32_t done = 0;
    uint32_t table[STEM_CHUNK / 2 * STEM_PAIR_WORDS];
    const int clamped = k->q->act_min != -128 || k->q->act_max != 127;
    const int32_t end = pass_end(s);
    for (int32_t o0 = 0; o0 < end; o0 += STEM_CHUNK) {
        const int32_t count = end - o0 < STEM_CHUNK ? end - o0 : STEM_CHUNK;
        if (!stem_prepare(k, o0, count, table)) {
            continue;
        }
        done |= 1u << (o0 / PASS_CHUNK);
        stem_args a;
        a.x_step = s->stride_w * 3;
        a.x_row = s->input_w * 3;
        a.out_skip = s->output_c - count;
        a.table = table;
        a.ends[0] = table + 11 * (count / 2);
        a.ends[1] = table + 20 * (count / 2);
        a.ends[2] = table + STEM_PAIR_WORDS * (count / 2);
        a.act[0] = byte_lanes(k->q->act_min);
        a.act[1] = byte_lanes(k->q->act_max);
        for (int32_t n = 0; n < s->batch; ++n) {
            for (int32_t oh = 0; oh < s->output_h; ++oh) {
                const int32_t ih = oh * s->stride_h - s->pad_h;
                if (ih < 0 || ih + 3 > s->input_h) {
                    continue; /* not every kernel row inside */
                }
                const int32_t iw = interior_first * s->stride_w - s->pad_w;
                a.x = k->input + tt_nhwc_offset(s->input_h, s->input_w, 3, n, ih, iw, 0);
                a.out = k->output + tt_nhwc_offset(s->output_h, s->output_w, s->output_c, n, oh,
                                                   interior_first, o0);
                a.pixels = interior_end - interior_first;
                if (clamped) {
                    stem_row_clamped(&a);
                } else {
                    stem_row(&a);
                }
            }
        }
    }
    return done;
}
#endif

#if !TT_TILE_ASM
/* ..................................................................... the dot pass */

/* Largest weight row the dot pass takes: its two partial sums stay far inside int32. */
enum { DOT_MAX_TAPS = 16384 };

/* Up to PASS_CHUNK output channels from o0: their weight rows (valid together), the sum of each
 * row and their requantization. */
typedef struct {
    const int8_t *w[PASS_CHUNK];
    int32_t weight_sum[PASS_CHUNK];
    channel_finish f[PASS_CHUNK];
    int32_t o0, count;
} dot_chunk;

/* One pixel's outputs of the chunk's channels, its kernel rows from x: per channel the dot
 * product of the taps with the weight row, plus the input offset times the row's sum (the
 * same integer as the sum of (x + offset) * w). */
static void dot_pixel(const fast_conv *k, const dot_chunk *g, const int8_t *x, int8_t *out)
{
    const tt_conv_shape *s = k->s;
    const int32_t run = s->kernel_w * k->c;
    const size_t x_row = (size_t)s->input_w * (size_t)k->c;
    for (int32_t j = 0; j < g->count; ++j) {
        int32_t sum = k->x_offset * g->weight_sum[j];
        for (int32_t kh = 0; kh < s->kernel_h; ++kh) {
            const int8_t *xk = x + (size_t)kh * x_row;
            const int8_t *wk = g->w[j] + (size_t)kh * (size_t)run;
            for (int32_t i = 0; i < run; ++i) {
                sum += xk[i] * wk[i];
            }
        }
        out[j] = channel_finish_apply(sum, &g->f[j], k->q);
    }
}

/* The chunk's outputs at the interior columns [first, end) of every output row whose kernel
 * rows are all inside the input. */
static void dot_rows(const fast_conv *k, const dot_chunk *g, int32_t first, int32_t end)
{
    const tt_conv_shape *s = k->s;
    for (int32_t n = 0; n < s->batch; ++n) {
        for (int32_t oh = 0; oh < s->output_h; ++oh) {
            const int32_t ih = oh * s->stride_h - s->pad_h;
            if (ih < 0 || ih + s->kernel_h > s->input_h) {
                continue;
            }
            const int8_t *x = k->input + tt_nhwc_offset(s->input_h, s->input_w, k->c, n, ih, 0, 0);
            int8_t *out =
                k->output + tt_nhwc_offset(s->output_h, s->output_w, s->output_c, n, oh, 0, g->o0);
            for (int32_t ow = first; ow < end; ++ow) {
                dot_pixel(k, g, x + (size_t)(ow * s->stride_w - s->pad_w) * (size_t)k->c,
                          out + (size_t)ow * (size_t)s->output_c);
            }
        }
    }
}

/* Without the assembly loops: the pixels with every tap inside, as stem_pass, by chunks of
 * PASS_CHUNK output channels below pass_end (all of them: every requantization is taken),
 * when the weight rows stay valid together (a complete weight or an axis-0 split). */
TT_SEPARATE_FRAME static uint32_t dot_pass(const fast_conv *k)
{
    int32_t interior_first, interior_end;
    interior_pixels(k->s, &interior_first, &interior_end);
    const int stable = k->rows->split == NULL || k->rows->split->axis == 0;
    if (!stable || k->taps > DOT_MAX_TAPS || interior_end == interior_first) {
        return 0;
    }
    const int64_t limit = bias_limit(k->taps);
    const int32_t end = pass_end(k->s);
    uint32_t done = 0;
    dot_chunk g;
    for (g.o0 = 0; g.o0 < end; g.o0 += PASS_CHUNK) {
        g.count = end - g.o0 < PASS_CHUNK ? end - g.o0 : PASS_CHUNK;
        for (int32_t j = 0; j < g.count; ++j) {
            g.w[j] = tt_weight_row(k->rows, g.o0 + j);
            g.weight_sum[j] = 0;
            for (size_t t = 0; t < k->taps; ++t) {
                g.weight_sum[j] += g.w[j][t];
            }
            channel_finish_init(&g.f[j], k->q, k->bias, g.o0 + j, k->taps, limit);
        }
        dot_rows(k, &g, interior_first, interior_end);
        done |= 1u << (g.o0 / PASS_CHUNK);
    }
    return done;
}
#endif

/* The output channels lanes_pass did not compute (lanes: its mask) by the tiles and C loops,
 * all their pixels except, for the channels stem_pass or dot_pass covers (stem: its mask),
 * the ones it computed. */
TT_SEPARATE_FRAME static void regular_channels(const fast_conv *conv, uint32_t lanes,
                                               uint32_t stem)
{
    const tt_conv_shape *s = conv->s;
    const tt_channel_quant *quant = conv->q;
    const int8_t *input = conv->input;
    const tt_weight_rows *rows = conv->rows;
    const int32_t *bias = conv->bias;
    regular_conv k;
    k.q = quant;
    k.input = input;
    k.output = conv->output;
    k.s = s;
    k.c = s->input_c;
    k.x_row = s->input_w * k.c;
    k.w_run = s->kernel_w * k.c;
    k.w_len = (k.w_run + 3) / 4 * 4;
    k.x_offset = -quant->input_zero_point;
    k.input_end = input + (size_t)s->batch * (size_t)s->input_h * (size_t)k.x_row;
    k.taps = (size_t)s->kernel_h * (size_t)k.w_run;
    interior_pixels(s, &k.interior_first, &k.interior_end);
    const int64_t limit = bias_limit(k.taps);
    /* rows that stay valid together: a complete weight or an axis-0 split; a last-axis split
     * assembles each row in the same scratch, so its channels are taken one at a time here */
    const int stable = rows->split == NULL || rows->split->axis == 0;
    /* the stem's channels need the tiles only on rows with a kernel row outside the input */
    int partial_rows = 0;
    for (int32_t oh = 0; oh < s->output_h && stem != 0 && !partial_rows; ++oh) {
        partial_rows = regular_rows_of(&k, 0, oh).runs != s->kernel_h;
    }
    const int32_t end = (lanes | stem) != 0u ? pass_end(s) : 0;
    int32_t first = 0; /* the channels below it are done */
    while (pass_covers(end, lanes, first)) {
        first += PASS_CHUNK < end - first ? PASS_CHUNK : end - first;
    }
    for (k.o = first; k.o < s->output_c; k.o += k.width) {
        k.width = k.o + 1 < s->output_c ? 2 : 1;
        if (pass_covers(end, lanes, k.o)) {
            continue; /* a pair inside a chunk: both done */
        }
        k.rows_done = pass_covers(end, stem, k.o);
        channel_finish_init(&k.f[0], quant, bias, k.o, k.taps, limit);
        channel_finish_init(&k.f[1], quant, bias, k.o + k.width - 1, k.taps, limit);
        k.tiled = 0;
#if TT_TILE_ASM
        const int32_t mode = k.rows_done && !partial_rows ? -1 : tile_mode(&k, rows);
        if (mode >= 0) {
            k.tiled = 1;
            tile_pass(&k, rows, mode);
        }
#endif
        if (stable) {
            k.w[0] = tt_weight_row(rows, k.o);
            k.w[1] = tt_weight_row(rows, k.o + k.width - 1);
            regular_c_pass(&k);
            continue;
        }
        /* one channel at a time, the pair's tiled pixels excepted */
        const int32_t o = k.o, width = k.width;
        for (int32_t j = 0; j < width; ++j) {
            k.width = 1;
            k.o = o + j;
            k.f[0] = k.f[j];
            k.w[0] = k.w[1] = tt_weight_row(rows, k.o);
            regular_c_pass(&k);
        }
        k.o = o;
        k.width = width;
    }
}

void tt_conv2d_regular_rows(const tt_conv_shape *shape, const tt_channel_quant *quant,
                            const int8_t *input, const tt_weight_rows *rows, const int32_t *bias,
                            int8_t *output)
{
    const fast_conv k = {shape, quant, input, output, rows, bias, shape->input_c,
                         -quant->input_zero_point, tt_conv2d_weight_row_size(shape)};
    uint32_t lanes = 0, stem = 0;
#if TT_TILE_ASM
    lanes = lanes_pass(&k);
    stem = stem_pass(&k);
#else
    stem = dot_pass(&k);
#endif
    regular_channels(&k, lanes, stem);
}

/* ----------------------------------------------------------------------- depthwise */

/* Largest kernel of the four-channel path: 49 taps (7x7) and 8 rows; larger kernels take the
 * per-channel loop. Its weights are kept as 16-bit lanes up to 25 taps (5x5, 200 bytes of
 * stack), as int8 above (7x7: 196 bytes). */
enum { DW_MAX_TAPS = 49, DW_LANE_TAPS = 25, DW_MAX_ROWS = 8 };

/* Where the output rows of a depthwise conv come from. */
typedef struct {
    const tt_conv_shape *s;
    const tt_channel_quant *q;
    const tt_row_ring *in;
    int32_t oh_first, oh_end;
    int8_t *out;
    int32_t interior_first, interior_end; /* pixels with every kernel column inside */
    int32_t dw3_pixels;                   /* pixels with all taps of a 3x3 kernel inside */
} depthwise_job;

static const int8_t *ring_row(const tt_row_ring *ring, int32_t row)
{
    return ring->base + (size_t)(row % ring->ring) * ring->row_bytes;
}

/* Channel c alone (channels beyond a multiple of four, or large kernels). */
TT_SEPARATE_FRAME static void depthwise_channel(const depthwise_job *d, const int8_t *w,
                                                const int32_t *bias, int32_t c)
{
    const size_t taps = (size_t)d->s->kernel_h * (size_t)d->s->kernel_w;
    channel_finish finish;
    channel_finish_init(&finish, d->q, bias, c, taps, bias_limit(taps));
    const channel_finish *f = &finish;
    const tt_conv_shape *s = d->s;
    const int32_t channels = s->input_c;
    const int32_t x_offset = -d->q->input_zero_point;
    for (int32_t oh = d->oh_first; oh < d->oh_end; ++oh) {
        const int32_t ih0 = oh * s->stride_h - s->pad_h;
        int32_t kh_first, kh_end;
        valid_taps(ih0, s->kernel_h, s->input_h, &kh_first, &kh_end);
        int8_t *out = d->out + (size_t)(oh - d->oh_first) * (size_t)s->output_w * channels + c;
        for (int32_t ow = 0; ow < s->output_w; ++ow) {
            const int32_t iw0 = ow * s->stride_w - s->pad_w;
            int32_t kw_first, kw_end;
            valid_taps(iw0, s->kernel_w, s->input_w, &kw_first, &kw_end);
            int32_t sum = 0;
            for (int32_t kh = kh_first; kh < kh_end; ++kh) {
                const int8_t *x = ring_row(d->in, ih0 + kh) + c;
                const int8_t *wk = w + (size_t)kh * (size_t)s->kernel_w;
                for (int32_t kw = kw_first; kw < kw_end; ++kw) {
                    sum += (x[(size_t)(iw0 + kw) * (size_t)channels] + x_offset) * wk[kw];
                }
            }
            out[(size_t)ow * (size_t)channels] = channel_finish_apply(sum, f, d->q);
        }
    }
}

#if TT_TILE_ASM
/* An output row's interior pixels of four channels c0 .. c0 + 3, for the assembly loops below
 * (field offsets are used by the code: keep the order). */
typedef struct {
    int32_t init[4];            /* the sums' start: the biases */
    const uint32_t *w;          /* packed weights of the first kernel row (see depthwise_block_data) */
    int32_t channels;           /* C: from one input (and output) pixel to the next */
    const int8_t *const *rows;  /* channel c0 of column 0 of each kernel row, from the first */
    int32_t runs;               /* kernel rows, >= 1 */
    int32_t kernel_w;           /* kernel columns read (dw_row_any: may be fewer than the kernel's) */
    int32_t w_skip;             /* dw_row_any: weight bytes skipped after each kernel row */
    uint32_t offset;            /* input offset in both 16-bit lanes */
    int32_t col;                /* the current pixel's first kernel column, bytes (advanced) */
    int32_t col_step;           /* stride_w * C */
    int8_t *out;                /* channel c0 of the current output pixel (advanced) */
    int32_t pixels;             /* >= 1 */
    int32_t mult_round[4][2];   /* multiplier and rounding + (zero point << shift) of each */
    int32_t shift[4];
    uint32_t act[2];            /* act_min, act_max in each byte */
} dw_row_args;

/* The weights of one tap into r10 = [w_c0, w_c2], r11 = [w_c1, w_c3] (16-bit lanes): stored
 * as lanes (two words, kernels up to DW_LANE_TAPS taps), or as the four int8 of one word
 * (larger kernels, half the stack), split here. */
#define DW_WEIGHTS_LANES "ldrd   r10, r11, [r1], #8\n\t"
#define DW_WEIGHTS_BYTES                                                                       \
    "ldr    r10, [r1], #4\n\t"                                                                  \
    "sxtb16 r11, r10, ror #8\n\t"                                                               \
    "sxtb16 r10, r10\n\t"

/* One tap of four channels: the input word at the `load`ed address, sign-extended pairwise with
 * the offset pair in `off` added, times the tap's weights (SMLABB / SMLATT per channel). */
#define DW_TAP(load, off, weights)                                                             \
    load "sxtab16 r9, " off ", r8\n\t"                                                         \
         "sxtab16 r8, " off ", r8, ror #8\n\t" weights "smlabb r4, r9, r10, r4\n\t"           \
         "smlatt r6, r9, r10, r6\n\t"                                                          \
         "smlabb r5, r8, r11, r5\n\t"                                                          \
         "smlatt r7, r8, r11, r7\n\t"

/* The pixel loop around a kernel-row body: r4-r7 the sums of c0..c3, r1 the weights, r2 C, lr
 * the row pointers; [sp] the argument pointer, [sp, #4] pixels left, [sp, #8] kernel rows
 * left. After the rows: tt_requantize32 with the zero point folded into the rounding (SMMLA,
 * ASR), SSAT to int8, the four bytes packed, clamped to [act_min, act_max] (SSUB8 + SEL) and
 * stored as one word. r4-r11 and lr are saved and restored here (see tile_row). */
#define DW_ROW_ASM(setup, three_rows, row_body, finish_setup)                                  \
    __asm__ volatile(                                                                          \
        "push   {r4-r11, lr}\n\t"                                                              \
        "mov    r12, %[args]\n\t"                                                              \
        "sub    sp, sp, #16\n\t"                                                               \
        "str    r12, [sp]\n\t"                                                                 \
        "ldr    r8, [r12, %[pixels]]\n\t"                                                      \
        "str    r8, [sp, #4]\n\t"                                                              \
        "7:\n\t"                                                                               \
        "ldr    r12, [sp]\n\t"                                                                 \
        "ldm    r12, {r4-r7}\n\t"                                                              \
        "ldr    r1, [r12, %[w]]\n\t"                                                           \
        "ldr    r2, [r12, %[channels]]\n\t"                                                    \
        "ldr    lr, [r12, %[rows]]\n\t"                                                        \
        "ldr    r8, [r12, %[runs]]\n\t"                                                        \
        "str    r8, [sp, #8]\n\t" setup three_rows "8:\n\t" row_body                           \
        "ldr    r8, [sp, #8]\n\t"                                                              \
        "subs   r8, r8, #1\n\t"                                                                \
        "str    r8, [sp, #8]\n\t"                                                              \
        "bne    8b\n\t"                                                                        \
        "10:\n\t" finish_setup "ldrd   r8, r9, [r12, %[mr]]\n\t"                                \
        "ldrd   r10, r11, [r12, %[mr]+8]\n\t"                                                  \
        "smmla  r4, r4, r8, r9\n\t"                                                            \
        "smmla  r5, r5, r10, r11\n\t"                                                          \
        "ldrd   r8, r9, [r12, %[mr]+16]\n\t"                                                   \
        "ldrd   r10, r11, [r12, %[mr]+24]\n\t"                                                 \
        "smmla  r6, r6, r8, r9\n\t"                                                            \
        "smmla  r7, r7, r10, r11\n\t"                                                          \
        "ldrd   r8, r9, [r12, %[shift]]\n\t"                                                   \
        "ldrd   r10, r11, [r12, %[shift]+8]\n\t"                                               \
        "asr    r4, r4, r8\n\t"                                                                \
        "asr    r5, r5, r9\n\t"                                                                \
        "asr    r6, r6, r10\n\t"                                                               \
        "asr    r7, r7, r11\n\t"                                                               \
        "ssat   r4, #8, r4\n\t"                                                                \
        "ssat   r5, #8, r5\n\t"                                                                \
        "ssat   r6, #8, r6\n\t"                                                                \
        "ssat   r7, #8, r7\n\t"                                                                \
        "bfi    r4, r5, #8, #8\n\t"                                                            \
        "bfi    r4, r6, #16, #8\n\t"                                                           \
        "bfi    r4, r7, #24, #8\n\t"                                                           \
        "ldrd   r8, r9, [r12, %[act]]\n\t"                                                     \
        "ssub8  r10, r4, r8\n\t"                                                               \
        "sel    r4, r4, r8\n\t"                                                                \
        "ssub8  r10, r4, r9\n\t"                                                               \
        "sel    r4, r9, r4\n\t"                                                                \
        "ldr    r8, [r12, %[out]]\n\t"                                                         \
        "str    r4, [r8]\n\t"                                                                  \
        "add    r8, r8, r2\n\t"                                                                \
        "str    r8, [r12, %[out]]\n\t"                                                         \
        "ldr    r8, [r12, %[col]]\n\t"                                                         \
        "ldr    r9, [r12, %[col_step]]\n\t"                                                    \
        "add    r8, r8, r9\n\t"                                                                \
        "str    r8, [r12, %[col]]\n\t"                                                         \
        "ldr    r8, [sp, #4]\n\t"                                                              \
        "subs   r8, r8, #1\n\t"                                                                \
        "str    r8, [sp, #4]\n\t"                                                              \
        "bne    7b\n\t"                                                                        \
        "add    sp, sp, #16\n\t"                                                               \
        "pop    {r4-r11, lr}\n\t"                                                              \
        :                                                                                      \
        : [args] "r"(a), [pixels] "i"(offsetof(dw_row_args, pixels)),                          \
          [w] "i"(offsetof(dw_row_args, w)), [channels] "i"(offsetof(dw_row_args, channels)),  \
          [rows] "i"(offsetof(dw_row_args, rows)), [runs] "i"(offsetof(dw_row_args, runs)),    \
          [kernel_w] "i"(offsetof(dw_row_args, kernel_w)),                                     \
          [w_skip] "i"(offsetof(dw_row_args, w_skip)),                                         \
          [offset] "i"(offsetof(dw_row_args, offset)), [col] "i"(offsetof(dw_row_args, col)),  \
          [col_step] "i"(offsetof(dw_row_args, col_step)),                                     \
          [out] "i"(offsetof(dw_row_args, out)), [mr] "i"(offsetof(dw_row_args, mult_round)),  \
          [shift] "i"(offsetof(dw_row_args, shift)), [act] "i"(offsetof(dw_row_args, act))     \
        : "r0", "r1", "r2", "r3", "r12", "cc", "memory")

/* One kernel row of width 3: its three taps at [x], [x + C], [x + 2C]. */
#define DW_ROW3                                                                                \
    "ldr    r0, [lr], #4\n\t"                                                                   \
    "ldr    r8, [r12, %[col]]\n\t"                                                             \
    "add    r0, r0, r8\n\t" DW_TAP("ldr    r8, [r0]\n\t", "r3", DW_WEIGHTS_LANES)               \
        DW_TAP("ldr    r8, [r0, r2]\n\t", "r3", DW_WEIGHTS_LANES)                              \
            DW_TAP("ldr    r8, [r0, r2, lsl #1]\n\t", "r3", DW_WEIGHTS_LANES)

/* kernel_w == 3, r3 the offset pair, r12 the argument pointer; three kernel rows (a 3x3 kernel
 * away from the top and bottom) without the row loop. */
static void dw_row_k3(dw_row_args *a)
{
    DW_ROW_ASM("ldr    r3, [r12, %[offset]]\n\t",
               "ldr    r8, [sp, #8]\n\t"
               "cmp    r8, #3\n\t"
               "bne    8f\n\t" DW_ROW3 DW_ROW3 DW_ROW3 "b      10f\n\t",
               DW_ROW3, "");
}

/* Any kernel_w: a loop over the row's taps, two per iteration (one first when their count is
 * odd), r3 counting them, r12 the offset pair (the argument pointer is reloaded from the
 * stack); w_skip bytes of weights skipped after each kernel row (the columns a border pixel
 * does not read). */
#define DW_ROW_ANY(weights)                                                                    \
    DW_ROW_ASM("ldr    r12, [r12, %[offset]]\n\t", "",                                          \
               "ldr    r0, [lr], #4\n\t"                                                        \
               "ldr    r8, [sp]\n\t"                                                            \
               "ldr    r3, [r8, %[kernel_w]]\n\t"                                               \
               "ldr    r8, [r8, %[col]]\n\t"                                                    \
               "add    r0, r0, r8\n\t"                                                          \
               "lsrs   r3, r3, #1\n\t"                                                          \
               "bcc    5f\n\t" DW_TAP("ldr    r8, [r0]\n\t"                                     \
                                      "add    r0, r0, r2\n\t",                                  \
                                      "r12", weights) "5:\n\t"                                  \
                                                      "cbz    r3, 9f\n\t"                       \
                                                      "6:\n\t" DW_TAP("ldr    r8, [r0]\n\t", \
                                                                      "r12", weights)           \
                                                          DW_TAP("ldr    r8, [r0, r2]\n\t",     \
                                                                 "r12", weights)                \
                                                              "add    r0, r0, r2, lsl #1\n\t"   \
                                                              "subs   r3, r3, #1\n\t"           \
                                                              "bne    6b\n\t"                   \
                                                              "9:\n\t"                          \
                                                              "ldr    r8, [sp]\n\t"             \
                                                              "ldr    r8, [r8, %[w_skip]]\n\t"  \
                                                              "add    r1, r1, r8\n\t",          \
               "ldr    r12, [sp]\n\t")

static void dw_row_any(dw_row_args *a)
{
    DW_ROW_ANY(DW_WEIGHTS_LANES);
}

static void dw_row_any_bytes(dw_row_args *a)
{
    DW_ROW_ANY(DW_WEIGHTS_BYTES);
}

/* The ldm above reads init as the first four words. */
typedef char dw_row_args_layout[offsetof(dw_row_args, init) == 0 ? 1 : -1];
#endif

#if TT_TILE_ASM
/* Four channels c0 .. c0 + 3 whose outputs all have channel_finish's word form: their weights
 * per tap, [w_c0, w_c2] and [w_c1, w_c3] as 16-bit lanes (the pairing of lanes_even /
 * lanes_odd), and the assembly loops' arguments (sums starting at the biases). */
typedef struct {
    int32_t start[4]; /* 3x3 kernels: dw3_row's table from here (dw3_prepare) */
    union {
        uint32_t lanes[2 * DW_LANE_TAPS]; /* per tap: [w_c0, w_c2], [w_c1, w_c3] */
        uint32_t bytes[DW_MAX_TAPS];      /* per tap: [w_c0, w_c1, w_c2, w_c3] */
    } w;
    int32_t tap_words; /* 2: lanes, 1: bytes */
    int32_t dw3;       /* dw3_row applies: a 3x3 kernel, stride_w 1 or 2 */
    dw_row_args row;
} depthwise_block_data;

/*
 * The interior pixels of an output row of a 3x3 kernel (all nine taps inside the input), four
 * channels at a time, with the input offset folded into the sums' start (bias - zp * (sum of
 * the channel's nine weights), as in tile_pass) and the three kernel rows' pointers in
 * registers. The table (depthwise_block_data from `start` on, 36 words): the four starts, the
 * nine taps' weight lanes, multiplier and rounding of each channel, the four shifts, the two
 * act words.
 */
typedef struct {
    const int8_t *row0;    /* channel c0 of the first pixel's first tap in kernel row 0 */
    const uint32_t *table;
    const int8_t *row1, *row2; /* ... in kernel rows 1 and 2 */
    int32_t channels;      /* C: from one tap (and output pixel) to the next */
    int8_t *out;           /* channel c0 of the first output pixel */
    int32_t pixels;        /* >= 1 */
} dw3_args;

/* 4 + 18 + 8 + 4 + 2 words; worth its preparation from about 6 pixels per block on */
enum { DW3_TABLE_WORDS = 36, DW3_MIN_PIXELS = 6 };

/* One kernel row (pointer p) of the four sums: three taps at [p], [p + C], [p + 2C]. */
#define DW3_TAP(load)                                                                          \
    load "sxtb16 r9, r8\n\t"                                                                   \
         "sxtb16 r8, r8, ror #8\n\t"                                                           \
         "ldrd   r10, r11, [r1], #8\n\t"                                                       \
         "smlabb r4, r9, r10, r4\n\t"                                                          \
         "smlatt r6, r9, r10, r6\n\t"                                                          \
         "smlabb r5, r8, r11, r5\n\t"                                                          \
         "smlatt r7, r8, r11, r7\n\t"
#define DW3_ROW(p)                                                                             \
    DW3_TAP("ldr    r8, [" p "]\n\t") DW3_TAP("ldr    r8, [" p ", r2]\n\t")                   \
        DW3_TAP("ldr    r8, [" p ", r2, lsl #1]\n\t")

/* act_min <= byte <= act_max in each byte of r4, the act words after the shifts. */
#define DW3_CLAMP                                                                              \
    "ldrd   r8, r9, [r1, #16]\n\t"                                                             \
    "ssub8  r10, r4, r8\n\t"                                                                   \
    "sel    r4, r4, r8\n\t"                                                                    \
    "ssub8  r10, r4, r9\n\t"                                                                   \
    "sel    r4, r9, r4\n\t"

/* r0, r3, lr the kernel rows, r1 the table, r2 C, r4-r7 the sums, r12 pixels left, [sp] the
 * output; `advance` moves the rows to the next pixel, `clamp` is DW3_CLAMP or empty (the full
 * int8 range). r4-r11 and lr are saved and restored here (see tile_row). */
#define DW3_ASM(advance, clamp)                                                                \
    __asm__ volatile(                                                                          \
        "push   {r4-r11, lr}\n\t"                                                              \
        "mov    r12, %[args]\n\t"                                                              \
        "sub    sp, sp, #8\n\t"                                                                \
        "ldr    r1, [r12, %[out]]\n\t"                                                         \
        "str    r1, [sp]\n\t"                                                                  \
        "ldm    r12, {r0, r1, r3, lr}\n\t"                                                     \
        "ldr    r2, [r12, %[channels]]\n\t"                                                    \
        "ldr    r12, [r12, %[pixels]]\n\t"                                                     \
        "1:\n\t"                                                                               \
        "ldm    r1!, {r4-r7}\n\t" DW3_ROW("r0") DW3_ROW("r3") DW3_ROW("lr")                    \
        "ldm    r1!, {r8-r11}\n\t"                                                             \
        "smmla  r4, r4, r8, r9\n\t"                                                            \
        "smmla  r5, r5, r10, r11\n\t"                                                          \
        "ldm    r1!, {r8-r11}\n\t"                                                             \
        "smmla  r6, r6, r8, r9\n\t"                                                            \
        "smmla  r7, r7, r10, r11\n\t"                                                          \
        "ldm    r1, {r8-r11}\n\t"                                                              \
        "asr    r4, r4, r8\n\t"                                                                \
        "asr    r5, r5, r9\n\t"                                                                \
        "asr    r6, r6, r10\n\t"                                                               \
        "asr    r7, r7, r11\n\t"                                                               \
        "ssat   r4, #8, r4\n\t"                                                                \
        "ssat   r5, #8, r5\n\t"                                                                \
        "ssat   r6, #8, r6\n\t"                                                                \
        "ssat   r7, #8, r7\n\t"                                                                \
        "bfi    r4, r5, #8, #8\n\t"                                                            \
        "bfi    r4, r6, #16, #8\n\t"                                                           \
        "bfi    r4, r7, #24, #8\n\t" clamp "ldr    r8, [sp]\n\t"                                \
        "str    r4, [r8]\n\t"                                                                  \
        "add    r8, r8, r2\n\t"                                                                \
        "str    r8, [sp]\n\t"                                                                  \
        "sub    r1, r1, #120\n\t" advance "subs   r12, r12, #1\n\t"                             \
        "bne    1b\n\t"                                                                        \
        "add    sp, sp, #8\n\t"                                                                \
        "pop    {r4-r11, lr}\n\t"                                                              \
        :                                                                                      \
        : [args] "r"(a), [out] "i"(offsetof(dw3_args, out)),                                   \
          [channels] "i"(offsetof(dw3_args, channels)),                                        \
          [pixels] "i"(offsetof(dw3_args, pixels))                                             \
        : "r0", "r1", "r2", "r3", "r12", "cc", "memory")

#define DW3_STRIDE1                                                                            \
    "add    r0, r0, r2\n\t"                                                                    \
    "add    r3, r3, r2\n\t"                                                                    \
    "add    lr, lr, r2\n\t"
#define DW3_STRIDE2                                                                            \
    "add    r0, r0, r2, lsl #1\n\t"                                                            \
    "add    r3, r3, r2, lsl #1\n\t"                                                            \
    "add    lr, lr, r2, lsl #1\n\t"

static void dw3_row_s1(dw3_args *a)
{
    DW3_ASM(DW3_STRIDE1, "");
}

static void dw3_row_s1_clamped(dw3_args *a)
{
    DW3_ASM(DW3_STRIDE1, DW3_CLAMP);
}

static void dw3_row_s2(dw3_args *a)
{
    DW3_ASM(DW3_STRIDE2, "");
}

static void dw3_row_s2_clamped(dw3_args *a)
{
    DW3_ASM(DW3_STRIDE2, DW3_CLAMP);
}

/* The ldm above reads row0, table, row1, row2 as the first four words; the table ends where
 * `sub r1, r1, #120` expects it (the shifts at word 30 of the table). */
typedef char dw3_args_layout[offsetof(dw3_args, row2) == 12 && offsetof(dw3_args, channels) == 16
                                 ? 1
                                 : -1];
typedef char dw3_table_layout[offsetof(depthwise_block_data, w) == 16 &&
                                      DW3_TABLE_WORDS * 4 - 24 == 120 && 2 * DW_LANE_TAPS >= 32
                                  ? 1
                                  : -1];

/* dw3_row's table of the block (its weights, finish and act words already there): the starts
 * in front of the lanes, the finish and act words after the nine taps. */
static void dw3_prepare(const depthwise_job *d, depthwise_block_data *b)
{
    const dw_row_args *a = &b->row;
    const int32_t x_offset = -d->q->input_zero_point;
    for (int32_t j = 0; j < 4; ++j) {
        int32_t sum = 0;
        for (int32_t tap = 0; tap < 9; ++tap) {
            const uint32_t lanes = b->w.lanes[2 * tap + (j & 1)];
            sum += (int16_t)(uint16_t)(lanes >> (16 * (j >> 1)));
        }
        b->start[j] = a->init[j] + x_offset * sum;
    }
    uint32_t *tail = b->w.lanes + 18;
    for (int32_t j = 0; j < 4; ++j) {
        tail[2 * j] = (uint32_t)a->mult_round[j][0];
        tail[2 * j + 1] = (uint32_t)a->mult_round[j][1];
        tail[8 + j] = (uint32_t)a->shift[j];
    }
    tail[12] = a->act[0];
    tail[13] = a->act[1];
}

/* Prepares channels c0 .. c0 + 3; 0 (nothing prepared) when one of them lacks the word form. */
static int depthwise_block_make(const depthwise_job *d, const tt_weight_rows *rows,
                                const int32_t *bias, int32_t c0, depthwise_block_data *b)
{
    const int32_t taps = d->s->kernel_h * d->s->kernel_w;
    const int64_t limit = bias_limit((size_t)taps);
    dw_row_args *a = &b->row;
    for (int32_t j = 0; j < 4; ++j) {
        channel_finish f;
        channel_finish_init(&f, d->q, bias, c0 + j, (size_t)taps, limit);
        if (!f.word) {
            return 0;
        }
        a->init[j] = f.bias;
        a->mult_round[j][0] = word_multiplier(&f);
        a->mult_round[j][1] = f.word_round;
        a->shift[j] = word_shift(&f);
    }
    b->tap_words = taps <= DW_LANE_TAPS ? 2 : 1;
    if (rows->split == NULL || rows->split->axis == 0) {
        /* the four rows stay valid together: one pass over the taps */
        const int8_t *w0 = tt_weight_row(rows, c0), *w1 = tt_weight_row(rows, c0 + 1);
        const int8_t *w2 = tt_weight_row(rows, c0 + 2), *w3 = tt_weight_row(rows, c0 + 3);
        for (int32_t t = 0; t < taps; ++t) {
            if (b->tap_words == 2) {
                b->w.lanes[2 * t] = (uint32_t)(uint16_t)w0[t] | (uint32_t)w2[t] << 16;
                b->w.lanes[2 * t + 1] = (uint32_t)(uint16_t)w1[t] | (uint32_t)w3[t] << 16;
            } else {
                b->w.bytes[t] = (uint32_t)(uint8_t)w0[t] | (uint32_t)(uint8_t)w1[t] << 8 |
                                (uint32_t)(uint8_t)w2[t] << 16 | (uint32_t)(uint8_t)w3[t] << 24;
            }
        }
    } else {
        for (int32_t j = 0; j < 4; ++j) {
            const int8_t *w = tt_weight_row(rows, c0 + j);
            for (int32_t t = 0; t < taps; ++t) {
                if (b->tap_words == 2) {
                    const uint32_t lane = (uint32_t)(uint16_t)w[t] << (16 * (j >> 1));
                    uint32_t *word = &b->w.lanes[2 * t + (j & 1)];
                    *word = (j >> 1) == 0 ? lane : (*word | lane);
                } else {
                    const uint32_t byte = (uint32_t)(uint8_t)w[t] << (8 * j);
                    b->w.bytes[t] = j == 0 ? byte : (b->w.bytes[t] | byte);
                }
            }
        }
    }
    a->channels = d->s->input_c;
    a->kernel_w = d->s->kernel_w;
    a->w_skip = 0;
    a->offset = offset_pair(-d->q->input_zero_point);
    a->col_step = d->s->stride_w * d->s->input_c;
    a->act[0] = byte_lanes(d->q->act_min);
    a->act[1] = byte_lanes(d->q->act_max);
    b->dw3 = d->s->kernel_h == 3 && d->s->kernel_w == 3 &&
             (d->s->stride_w == 1 || d->s->stride_w == 2) && d->dw3_pixels >= DW3_MIN_PIXELS;
    if (b->dw3) {
        dw3_prepare(d, b);
    }
    return 1;
}

/* The four outputs of a pixel whose window holds no tap (their sums are the biases): the
 * assembly loops' finish in C. */
static void depthwise_store_empty(const dw_row_args *a, int8_t *out)
{
    int32_t v[4];
    for (int32_t j = 0; j < 4; ++j) {
        int32_t high;
        __asm__("smmla %0, %1, %2, %3"
                : "=r"(high)
                : "r"(a->init[j]), "r"(a->mult_round[j][0]), "r"(a->mult_round[j][1]));
        v[j] = tt_floor_shift_right32(high, a->shift[j]);
    }
    uint32_t word, scratch;
    __asm__("ssat   %[w], #8, %[v0]\n\t"
            "ssat   %[t], #8, %[v1]\n\t"
            "bfi    %[w], %[t], #8, #8\n\t"
            "ssat   %[t], #8, %[v2]\n\t"
            "bfi    %[w], %[t], #16, #8\n\t"
            "ssat   %[t], #8, %[v3]\n\t"
            "bfi    %[w], %[t], #24, #8\n\t"
            "ssub8  %[t], %[w], %[lo]\n\t"
            "sel    %[w], %[w], %[lo]\n\t"
            "ssub8  %[t], %[w], %[hi]\n\t"
            "sel    %[w], %[hi], %[w]"
            : [w] "=&r"(word), [t] "=&r"(scratch)
            : [v0] "r"(v[0]), [v1] "r"(v[1]), [v2] "r"(v[2]), [v3] "r"(v[3]), [lo] "r"(a->act[0]),
              [hi] "r"(a->act[1])
            : "cc");
    memcpy(out, &word, sizeof word);
}

/* The kernel rows [kh_first, kh_end) of an output row, row_at[kh] pointing at channel c0 of
 * input column 0 of kernel row kh. */
typedef struct {
    const int8_t *row_at[DW_MAX_ROWS];
    int32_t kh_first, kh_end;
} depthwise_rows_at;

/* Output pixel ow of the block (any position), through dw_row_any with its valid columns. */
static void depthwise_pixel(const depthwise_job *d, depthwise_block_data *b,
                            const depthwise_rows_at *r, int32_t ow, int8_t *out)
{
    const tt_conv_shape *s = d->s;
    const int32_t iw0 = ow * s->stride_w - s->pad_w;
    int32_t kw_first, kw_end;
    valid_taps(iw0, s->kernel_w, s->input_w, &kw_first, &kw_end);
    dw_row_args *a = &b->row;
    if (r->kh_end <= r->kh_first || kw_end <= kw_first) {
        depthwise_store_empty(a, out + (size_t)ow * (size_t)s->input_c);
        return;
    }
    a->w = b->w.lanes + b->tap_words * (r->kh_first * s->kernel_w + kw_first);
    a->rows = r->row_at + r->kh_first;
    a->runs = r->kh_end - r->kh_first;
    a->kernel_w = kw_end - kw_first;
    a->w_skip = 4 * b->tap_words * (s->kernel_w - a->kernel_w);
    a->col = (iw0 + kw_first) * s->input_c;
    a->out = out + (size_t)ow * (size_t)s->input_c;
    a->pixels = 1;
    if (b->tap_words == 2) {
        dw_row_any(a);
    } else {
        dw_row_any_bytes(a);
    }
    a->kernel_w = s->kernel_w;
    a->w_skip = 0;
}

/* Output pixels [first, end) of the block, every kernel column of each inside the input. */
static void depthwise_interior(const depthwise_job *d, depthwise_block_data *b,
                               const depthwise_rows_at *r, int32_t first, int32_t end,
                               int8_t *out)
{
    const tt_conv_shape *s = d->s;
    if (r->kh_end <= r->kh_first || end <= first) {
        for (int32_t ow = first; ow < end; ++ow) {
            depthwise_store_empty(&b->row, out + (size_t)ow * (size_t)s->input_c);
        }
        return;
    }
    if (b->dw3 && r->kh_first == 0 && r->kh_end == 3) {
        dw3_args a3;
        a3.table = (const uint32_t *)b->start;
        const int32_t col = (first * s->stride_w - s->pad_w) * s->input_c;
        a3.row0 = r->row_at[0] + col;
        a3.row1 = r->row_at[1] + col;
        a3.row2 = r->row_at[2] + col;
        a3.channels = s->input_c;
        a3.out = out + (size_t)first * (size_t)s->input_c;
        a3.pixels = end - first;
        const int clamped = d->q->act_min != -128 || d->q->act_max != 127;
        if (s->stride_w == 1) {
            if (clamped) {
                dw3_row_s1_clamped(&a3);
            } else {
                dw3_row_s1(&a3);
            }
        } else if (clamped) {
            dw3_row_s2_clamped(&a3);
        } else {
            dw3_row_s2(&a3);
        }
        return;
    }
    dw_row_args *a = &b->row;
    a->w = b->w.lanes + b->tap_words * r->kh_first * s->kernel_w;
    a->rows = r->row_at + r->kh_first;
    a->runs = r->kh_end - r->kh_first;
    a->col = (first * s->stride_w - s->pad_w) * s->input_c;
    a->out = out + (size_t)first * (size_t)s->input_c;
    a->pixels = end - first;
    if (b->tap_words == 1) {
        dw_row_any_bytes(a);
    } else if (s->kernel_w == 3) {
        dw_row_k3(a);
    } else {
        dw_row_any(a);
    }
}

/* Channels c0 .. c0 + 3 (taps <= DW_MAX_TAPS, kernel_h <= DW_MAX_ROWS); 0 when they lack the
 * word form (nothing written). */
TT_SEPARATE_FRAME static int depthwise_block(const depthwise_job *d, const tt_weight_rows *rows,
                                             const int32_t *bias, int32_t c0)
{
    const tt_conv_shape *s = d->s;
    depthwise_block_data b;
    if (!depthwise_block_make(d, rows, bias, c0, &b)) {
        return 0;
    }
    for (int32_t oh = d->oh_first; oh < d->oh_end; ++oh) {
        const int32_t ih0 = oh * s->stride_h - s->pad_h;
        depthwise_rows_at r;
        valid_taps(ih0, s->kernel_h, s->input_h, &r.kh_first, &r.kh_end);
        for (int32_t kh = r.kh_first; kh < r.kh_end; ++kh) {
            r.row_at[kh] = ring_row(d->in, ih0 + kh) + c0;
        }
        int8_t *out = d->out + (size_t)(oh - d->oh_first) * (size_t)s->output_w * s->input_c + c0;
        for (int32_t ow = 0; ow < d->interior_first; ++ow) {
            depthwise_pixel(d, &b, &r, ow, out);
        }
        depthwise_interior(d, &b, &r, d->interior_first, d->interior_end, out);
        for (int32_t ow = d->interior_end; ow < s->output_w; ++ow) {
            depthwise_pixel(d, &b, &r, ow, out);
        }
    }
    return 1;
}
#endif

#if !TT_TILE_ASM
/* Channels of the plain C depthwise chunk: side by side in an NHWC pixel. */
enum { DW_CHUNK = 8 };

/* Channels c0 .. c0 + count - 1 (count <= DW_CHUNK): their weights by tap (w[tap][j]) and
 * their requantization. */
typedef struct {
    int8_t w[DW_LANE_TAPS][DW_CHUNK];
    channel_finish f[DW_CHUNK];
    int32_t c0, count;
} dw_chunk;

/* The chunk's outputs at pixel ow of an output row whose kernel rows [kh_first, kh_end) start
 * at row_at[kh] (channel c0 of column 0). */
static void dw_chunk_pixel(const depthwise_job *d, const dw_chunk *g, const int8_t *const *row_at,
                           int32_t kh_first, int32_t kh_end, int32_t ow, int8_t *out)
{
    const tt_conv_shape *s = d->s;
    const int32_t iw0 = ow * s->stride_w - s->pad_w, x_offset = -d->q->input_zero_point;
    int32_t kw_first, kw_end;
    valid_taps(iw0, s->kernel_w, s->input_w, &kw_first, &kw_end);
    int32_t sums[DW_CHUNK] = {0};
    for (int32_t kh = kh_first; kh < kh_end; ++kh) {
        for (int32_t kw = kw_first; kw < kw_end; ++kw) {
            const int8_t *x = row_at[kh] + (size_t)(iw0 + kw) * (size_t)s->input_c;
            const int8_t *w = g->w[kh * s->kernel_w + kw];
            for (int32_t j = 0; j < g->count; ++j) {
                sums[j] += (x[j] + x_offset) * w[j];
            }
        }
    }
    for (int32_t j = 0; j < g->count; ++j) {
        out[j] = channel_finish_apply(sums[j], &g->f[j], d->q);
    }
}

/* Without the assembly loops: the chunk's channels of every output row (kernels up to
 * DW_LANE_TAPS taps and DW_MAX_ROWS rows), pixel by pixel, reading each pixel's channels as
 * one run instead of one channel across the row at a time. */
TT_SEPARATE_FRAME static void depthwise_chunk(const depthwise_job *d, const tt_weight_rows *rows,
                                              const int32_t *bias, int32_t c0, int32_t count)
{
    const tt_conv_shape *s = d->s;
    const int32_t taps = s->kernel_h * s->kernel_w;
    dw_chunk g;
    g.c0 = c0;
    g.count = count;
    for (int32_t j = 0; j < count; ++j) {
        const int8_t *w = tt_weight_row(rows, c0 + j);
        for (int32_t t = 0; t < taps; ++t) {
            g.w[t][j] = w[t];
        }
        channel_finish_init(&g.f[j], d->q, bias, c0 + j, (size_t)taps, bias_limit((size_t)taps));
    }
    for (int32_t oh = d->oh_first; oh < d->oh_end; ++oh) {
        const int32_t ih0 = oh * s->stride_h - s->pad_h;
        int32_t kh_first, kh_end;
        valid_taps(ih0, s->kernel_h, s->input_h, &kh_first, &kh_end);
        const int8_t *row_at[DW_MAX_ROWS];
        for (int32_t kh = kh_first; kh < kh_end; ++kh) {
            row_at[kh] = ring_row(d->in, ih0 + kh) + c0;
        }
        int8_t *out = d->out + (size_t)(oh - d->oh_first) * (size_t)s->output_w * s->input_c + c0;
        for (int32_t ow = 0; ow < s->output_w; ++ow) {
            dw_chunk_pixel(d, &g, row_at, kh_first, kh_end, ow, out + (size_t)ow * s->input_c);
        }
    }
}
#endif

void tt_depthwise_rows(const tt_conv_shape *shape, const tt_channel_quant *quant,
                       const tt_row_ring *input, const tt_weight_rows *rows, const int32_t *bias,
                       int32_t oh_first, int32_t oh_end, int8_t *output)
{
    depthwise_job d = {shape, quant, input, oh_first, oh_end, output, 0, 0, 0};
    interior_pixels(shape, &d.interior_first, &d.interior_end);
    for (int32_t oh = oh_first; oh < oh_end; ++oh) {
        const int32_t ih0 = oh * shape->stride_h - shape->pad_h;
        if (ih0 >= 0 && ih0 + 3 <= shape->input_h) {
            d.dw3_pixels += d.interior_end - d.interior_first;
        }
    }
    const int32_t channels = shape->input_c;
    const int32_t taps = shape->kernel_h * shape->kernel_w;
#if TT_TILE_ASM
    const int blocks = taps <= DW_MAX_TAPS && shape->kernel_h <= DW_MAX_ROWS;
#else
    const int chunks = taps <= DW_LANE_TAPS && shape->kernel_h <= DW_MAX_ROWS;
#endif
    for (int32_t c = 0; c < channels;) {
        const int32_t end = c + 4 <= channels ? c + 4 : channels;
#if TT_TILE_ASM
        if (blocks && end == c + 4 && depthwise_block(&d, rows, bias, c)) {
            c = end;
            continue;
        }
#else
        if (chunks) {
            const int32_t count = channels - c < DW_CHUNK ? channels - c : DW_CHUNK;
            depthwise_chunk(&d, rows, bias, c, count);
            c += count;
            continue;
        }
#endif
        for (; c < end; ++c) {
            depthwise_channel(&d, tt_weight_row(rows, c), bias, c);
        }
    }
}
