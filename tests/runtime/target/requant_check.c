/*
 * requant_check.c - the 32-bit evaluations of the requantization rule (tt_internal.h) against
 * tt_requantize itself, over edge and pseudo-random values; reports the number of mismatches
 * of each (0 expected). Built for the host and for the Cortex-M7 (where tt_requantize32 is an
 * SMMLA) by tests/runtime/test_requantize32.py, with host_main.c / target_main.c.
 *   requantize32: tt_requantize32(acc) == tt_requantize(acc) for every shift in [-31, -2]
 *   zero_point_fold: floor((hi(acc * m) + rounding + zp 2^s) / 2^s) == tt_requantize32 + zp,
 *                    s = t - 32 <= 23 (the assembly loops' output step)
 *   add_terms: requantize((q - zp) 2^20, m, shift) == tt_requantize32((q - zp) 2^23, m, shift - 3)
 *              for shift in [-28, 1] (tt_add's operand terms)
 */
#include <stdint.h>

#include "tt_internal.h"

void report(const char *name, uint32_t hash);
void run_checksums(void);

static uint32_t lcg_state = 12345u;

static uint32_t next_u32(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state;
}

static int32_t multiplier_at(uint32_t i)
{
    static const int32_t edges[] = {0, 1073741824, 1073741825, 1518500250, 2147483646, 2147483647};
    if (i < sizeof edges / sizeof edges[0]) {
        return edges[i];
    }
    return (int32_t)(1073741824u + next_u32() % 1073741824u);
}

static int32_t acc_at(uint32_t i)
{
    static const int32_t edges[] = {0, 1, -1, 2, -2, 1000, -1000, 65535, -65536,
                                    1073741823, -1073741824, 2147483647, -2147483647 - 1};
    if (i < sizeof edges / sizeof edges[0]) {
        return edges[i];
    }
    const uint32_t bits = next_u32();
    return (bits & 1u) ? (int32_t)(bits >> (bits % 24u)) : (int32_t)bits; /* all magnitudes */
}

/* The high word of acc * m plus r, as SMMLA computes it (floor), in portable C. */
static int32_t high_plus(int32_t acc, int32_t m, int32_t r)
{
    return (int32_t)tt_floor_shift_right((int64_t)acc * m, 32) + r;
}

void run_checksums(void)
{
    uint32_t requantize32 = 0, fold = 0, add_terms = 0;
    for (int32_t shift = -31; shift <= -2; ++shift) {
        for (uint32_t mi = 0; mi < 16; ++mi) {
            const int32_t m = multiplier_at(mi);
            const tt_requant32 r = tt_requant32_make(m, shift);
            for (uint32_t ai = 0; ai < 300; ++ai) {
                const int32_t acc = acc_at(ai);
                const int32_t fast = tt_requantize32(acc, &r);
                requantize32 += fast != tt_requantize(acc, m, shift);
                if (r.shift <= 23) {
                    const int32_t zp = (int32_t)(next_u32() % 256u) - 128;
                    const int32_t folded = tt_floor_shift_right32(
                        high_plus(acc, m, r.rounding + zp * (1 << r.shift)), r.shift);
                    fold += folded != fast + zp;
                }
            }
        }
    }
    for (int32_t shift = -28; shift <= 1; ++shift) {
        for (uint32_t mi = 0; mi < 8; ++mi) {
            const int32_t m = multiplier_at(mi);
            const tt_requant32 r = tt_requant32_make(m, shift - 3);
            for (int32_t zp = -128; zp <= 127; zp += 17) {
                for (int32_t q = -128; q <= 127; ++q) {
                    const int64_t rule = tt_requantize((int64_t)(q - zp) * (1 << 20), m, shift);
                    add_terms += tt_requantize32((q - zp) * (1 << 23), &r) != rule;
                }
            }
        }
    }
    report("requantize32", requantize32);
    report("zero_point_fold", fold);
    report("add_terms", add_terms);
}
