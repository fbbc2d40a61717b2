/*
 * hello.c - smoke test of the mps2-an500 board support: prints a line, measures two loops of
 * known instruction counts with board_cycles_read(), and exits with status 3.
 *
 * spin(n) executes exactly 2n instructions (subs + bne per iteration; see the disassembly), so
 * the measured difference between two loop lengths must be 2 * (large - small), to within the
 * 40-instruction resolution of SysTick at 25 MHz under -icount shift=0.
 */
#include <stdint.h>

#include "board.h"

#define SMALL_ITERATIONS 100000u
#define LARGE_ITERATIONS 1100000u

/* 2 * n instructions for n >= 1. */
static __attribute__((noinline)) void spin(uint32_t n)
{
    __asm__ volatile("1:\n\t"
                     "subs %0, %0, #1\n\t"
                     "bne 1b"
                     : "+r"(n)
                     :
                     : "cc");
}

static uint64_t measure(uint32_t iterations)
{
    board_cycles_start();
    spin(iterations);
    return board_cycles_read();
}

int main(void)
{
    board_printf("hello from %s\n", BOARD_NAME);
    uint64_t small = measure(SMALL_ITERATIONS);
    uint64_t large = measure(LARGE_ITERATIONS);
    board_printf("loop %lu: %llu instructions (expected %lu)\n", (unsigned long)SMALL_ITERATIONS,
                 (unsigned long long)small, 2ul * SMALL_ITERATIONS);
    board_printf("loop %lu: %llu instructions (expected %lu)\n", (unsigned long)LARGE_ITERATIONS,
                 (unsigned long long)large, 2ul * LARGE_ITERATIONS);
    board_printf("difference: %llu instructions (expected %lu)\n", (unsigned long long)(large - small),
                 2ul * (LARGE_ITERATIONS - SMALL_ITERATIONS));
    board_printf("stack used: %lu of %lu bytes\n", (unsigned long)board_stack_used(),
                 (unsigned long)board_stack_size());
    return 3;
}
