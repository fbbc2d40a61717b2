/*
 * board.h - board support for the QEMU `mps2-an500` machine (ARM MPS2 + AN500 FPGA image,
 * Cortex-M7 with single-precision FPv5 FPU).
 *
 * A program for this board is its own `main` plus startup.c and board.c, linked with
 * mps2_an500.ld (see Makefile.inc and README.md beside this file). startup.c calls
 * board_init() before main, so main can use everything here at once; calling board_init()
 * again is harmless.
 *
 * Output goes through Arm semihosting (QEMU prints it on its own stdout when run with the
 * command in Makefile.inc). main's return value, or the argument of board_exit() / exit(),
 * becomes QEMU's exit status. Faults print a report and exit with 128 + the exception number
 * (README.md lists them).
 *
 * Instruction counting: under `qemu-system-arm -icount shift=0` every guest instruction
 * advances the virtual clock by exactly 1 ns, and SysTick counts the 25 MHz CPU clock of the
 * model, so one SysTick tick is 40 ns = 40 instructions. board_cycles_read() returns ticks * 40:
 * the number of instructions executed since board_cycles_start(), with a resolution of 40.
 */
#ifndef BOARD_H
#define BOARD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Name of the QEMU machine this board support targets. */
#define BOARD_NAME "mps2-an500"

/* Frequency of the clock SysTick counts (its CLKSOURCE=1 "processor clock" input) in QEMU. */
#define BOARD_SYSTICK_HZ 25000000u

/* Virtual nanoseconds per SysTick tick: 1e9 / BOARD_SYSTICK_HZ. */
#define BOARD_NS_PER_TICK 40u

/* Instructions per SysTick tick when QEMU runs with `-icount shift=0` (1 instruction = 1 ns). */
#define BOARD_INSTRUCTIONS_PER_TICK BOARD_NS_PER_TICK

/* SysTick reload value: the counter period is BOARD_SYSTICK_RELOAD + 1 ticks. The default uses
 * the full 24 bits; a smaller value (-DBOARD_SYSTICK_RELOAD=...) only makes the wrap interrupt
 * more frequent, which the tests use to exercise the 64-bit extension. */
#ifndef BOARD_SYSTICK_RELOAD
#define BOARD_SYSTICK_RELOAD 0xFFFFFFu
#endif

/* Exit status of a fault: BOARD_EXIT_FAULT_BASE + exception number (3 HardFault, 4 MemManage,
 * 5 BusFault, 6 UsageFault, ...). A stack overflow is a MemManage fault: status 132. */
#define BOARD_EXIT_FAULT_BASE 128

#if defined(__GNUC__)
#define BOARD_NORETURN __attribute__((noreturn))
#define BOARD_PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define BOARD_NORETURN
#define BOARD_PRINTF_LIKE(fmt, args)
#endif

/* Start SysTick (free running, wrap interrupt enabled) and configure fault reporting.
 * Idempotent; startup.c calls it before main. */
void board_init(void);

/* Write a NUL-terminated string to the semihosting console (no newline is added). */
void board_print(const char *text);

/* Write `length` bytes to the semihosting console. */
void board_write(const char *data, size_t length);

/* printf to the semihosting console without the C library's stdio and without any heap.
 * Supports the flags - + space 0 #, width and precision (also *), the length modifiers hh h l ll
 * z j t L, and the conversions d i u o x X c s p f F e E g G a A %.
 * Floating point: digits are exact and rounded like glibc (nearest, ties to even) whenever the
 * value scaled to an integer of the requested digits is exactly computable: %f with
 * |v| * 10^precision < 9.2e18, %e/%g with P <= 18 significant digits and
 * 10^(P - 23) <= |v| < 1.8e19 (e.g. %.17g: 1e-6 .. 1.8e19, %g: 1e-17 .. 1.8e19). Elsewhere
 * the digits come from double arithmetic (about 15 correct significant digits) and %f of
 * |v| >= 2^63 (9.2e18) is printed as %e. %a is always exact (use it, or %.9g for float
 * values, to carry numbers bit for bit to the host). Precisions above 40 are treated as 40.
 * Returns the number of characters written. */
int board_printf(const char *format, ...) BOARD_PRINTF_LIKE(1, 2);
int board_vprintf(const char *format, va_list args);

/* snprintf with the same formatting as board_printf; always NUL-terminates when size > 0 and
 * returns the length the full output would have. */
int board_snprintf(char *buffer, size_t size, const char *format, ...) BOARD_PRINTF_LIKE(3, 4);
int board_vsnprintf(char *buffer, size_t size, const char *format, va_list args);

/* End the program: runs atexit handlers and flushes stdio (through exit()), then QEMU exits
 * with status `code` (taken modulo 256 by the host). */
void board_exit(int code) BOARD_NORETURN;

/* End the program at once (no atexit handlers, no stdio flush) with status `code`. */
void board_exit_now(int code) BOARD_NORETURN;

/* SysTick ticks since board_init(), extended to 64 bits by the wrap interrupt. Must be called
 * with SysTick's interrupt able to run at least once per BOARD_SYSTICK_RELOAD + 1 ticks. */
uint64_t board_ticks_now(void);

/* Start an instruction measurement: remembers the current tick count. */
void board_cycles_start(void);

/* SysTick ticks since the last board_cycles_start(). */
uint64_t board_ticks_read(void);

/* Instructions executed since the last board_cycles_start() under `-icount shift=0`:
 * board_ticks_read() * BOARD_INSTRUCTIONS_PER_TICK (equivalently, elapsed virtual ns). The
 * value includes the few instructions of the two calls and is a multiple of 40. */
uint64_t board_cycles_read(void);

/* Peak use of the main stack in bytes since reset (the stack is filled with a pattern at reset
 * and scanned from its low end). */
size_t board_stack_used(void);

/* Size of the main stack in bytes (the linker symbol __stack_size). */
size_t board_stack_size(void);

#ifdef __cplusplus
}
#endif

#endif /* BOARD_H */
