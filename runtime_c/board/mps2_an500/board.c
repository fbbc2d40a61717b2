/*
 * board.c - console, exit, instruction counting, C library hooks and fault reports for the
 * QEMU mps2-an500 machine. See board.h for the interface and README.md for the conventions.
 */
#include "board.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ================================================================== registers */

#define REG32(address) (*(volatile uint32_t *)(address))
#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)
#define SCB_ICSR REG32(0xE000ED04u)
#define SCB_CCR REG32(0xE000ED14u)
#define SCB_SHPR3 REG32(0xE000ED20u)
#define SCB_SHCSR REG32(0xE000ED24u)
#define SCB_CFSR REG32(0xE000ED28u)
#define SCB_HFSR REG32(0xE000ED2Cu)
#define SCB_MMFAR REG32(0xE000ED34u)
#define SCB_BFAR REG32(0xE000ED38u)

#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE_CPU (1u << 2)
#define SCB_ICSR_PENDSTSET (1u << 26)
#define SCB_CCR_DIV_0_TRP (1u << 4)
#define SCB_SHCSR_FAULTS_ENABLE ((1u << 16) | (1u << 17) | (1u << 18)) /* MemManage, BusFault, UsageFault */

#define CFSR_MMARVALID (1u << 7)
#define CFSR_MSTKERR (1u << 4)
#define CFSR_MUNSTKERR (1u << 3)
#define CFSR_STKERR (1u << 12)
#define CFSR_UNSTKERR (1u << 11)
#define CFSR_STACKING_ERRORS (CFSR_MSTKERR | CFSR_MUNSTKERR | CFSR_STKERR | CFSR_UNSTKERR)

#define STACK_PAINT 0xC5AC5AC5u

/* Symbols of mps2_an500.ld. */
extern uint32_t __stack_start[];
extern uint32_t __stack_top[];
extern char __heap_start[];
extern char __heap_end[];
extern char __ram_start[];
extern char __ram_end[];

/* ================================================================= semihosting */

#define SYS_WRITE0 0x04u
#define SYS_EXIT 0x18u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUNTIME_ERROR_UNKNOWN 0x20023u

static uint32_t semihost(uint32_t operation, const void *argument)
{
    register uint32_t r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = argument;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void board_print(const char *text)
{
    if (text != NULL && text[0] != '\0') {
        (void)semihost(SYS_WRITE0, text);
    }
}

#define CONSOLE_CHUNK 128

void board_write(const char *data, size_t length)
{
    char chunk[CONSOLE_CHUNK + 1];
    size_t used = 0;
    for (size_t i = 0; i < length; ++i) {
        /* SYS_WRITE0 stops at a NUL: drop NULs rather than truncate. */
        if (data[i] != '\0') {
            chunk[used++] = data[i];
        }
        if (used == CONSOLE_CHUNK || (i + 1 == length && used > 0)) {
            chunk[used] = '\0';
            (void)semihost(SYS_WRITE0, chunk);
            used = 0;
        }
    }
}

void board_exit_now(int code)
{
    /* SYS_EXIT_EXTENDED carries the status; QEMU 7.2 implements it for AArch32 guests. */
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    (void)semihost(SYS_EXIT_EXTENDED, block);
    /* Only reached if the host lacks SYS_EXIT_EXTENDED: plain SYS_EXIT gives 0 or 1. */
    (void)semihost(SYS_EXIT, (const void *)(uintptr_t)(code == 0 ? ADP_STOPPED_APPLICATION_EXIT
                                                                   : ADP_STOPPED_RUNTIME_ERROR_UNKNOWN));
    for (;;) {
        __asm__ volatile("wfi");
    }
}

void board_exit(int code)
{
    exit(code);
}

/* ===================================================================== SysTick */

static volatile uint32_t systick_wraps;
static uint64_t cycles_origin;
static int board_ready;

void SysTick_Handler(void)
{
    systick_wraps = systick_wraps + 1u;
}

void board_init(void)
{
    if (board_ready) {
        return;
    }
    board_ready = 1;
    SCB_SHCSR |= SCB_SHCSR_FAULTS_ENABLE;
    SCB_CCR |= SCB_CCR_DIV_0_TRP;
    SCB_SHPR3 &= 0x00FFFFFFu; /* SysTick at the highest configurable priority (0) */
    systick_wraps = 0u;
    SYST_CSR = 0u;
    SYST_RVR = BOARD_SYSTICK_RELOAD;
    SYST_CVR = 0u; /* any write clears the counter */
    SYST_CSR = SYST_CSR_CLKSOURCE_CPU | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    /* The counter leaves 0 by loading RVR on the next tick, without an interrupt: wait for it,
     * so that every later pass through 0 is a counted wrap and tick 0 is the first RVR. */
    while (SYST_CVR == 0u) {
    }
}

uint64_t board_ticks_now(void)
{
    for (;;) {
        uint32_t wraps = systick_wraps;
        uint32_t current = SYST_CVR;
        uint32_t pending = (SCB_ICSR & SCB_ICSR_PENDSTSET) != 0u;
        if (pending) {
            /* The counter wrapped and the interrupt has not run yet (interrupts masked or it
             * is about to be taken): count the wrap and read the counter after it. */
            current = SYST_CVR;
        }
        if (systick_wraps == wraps) {
            uint64_t periods = (uint64_t)wraps + pending;
            return periods * ((uint64_t)BOARD_SYSTICK_RELOAD + 1u) + (BOARD_SYSTICK_RELOAD - current);
        }
    }
}

void board_cycles_start(void)
{
    cycles_origin = board_ticks_now();
}

uint64_t board_ticks_read(void)
{
    return board_ticks_now() - cycles_origin;
}

uint64_t board_cycles_read(void)
{
    return board_ticks_read() * BOARD_INSTRUCTIONS_PER_TICK;
}

/* ======================================================================= stack */

void board_stack_paint(uint32_t *start, uint32_t *end);

void board_stack_paint(uint32_t *start, uint32_t *end)
{
    for (uint32_t *word = start; word < end; ++word) {
        *word = STACK_PAINT;
    }
}

size_t board_stack_size(void)
{
    return (size_t)((char *)__stack_top - (char *)__stack_start);
}

size_t board_stack_used(void)
{
    const uint32_t *word = __stack_start;
    while (word < __stack_top && *word == STACK_PAINT) {
        ++word;
    }
    return (size_t)((const char *)__stack_top - (const char *)word);
}

/* ====================================================================== printf */

/* Where formatted characters go: a caller's buffer (snprintf) or the console, through a
 * buffer flushed with SYS_WRITE0. */
typedef struct {
    char *buffer;
    size_t capacity; /* usable characters in buffer, excluding the terminating NUL */
    size_t used;     /* characters in buffer */
    size_t total;    /* characters produced */
    int console;
} sink;

static void sink_flush(sink *out)
{
    if (out->console && out->used > 0) {
        out->buffer[out->used] = '\0';
        (void)semihost(SYS_WRITE0, out->buffer);
        out->used = 0;
    }
}

static void sink_put(sink *out, char c)
{
    ++out->total;
    if (out->console) {
        if (c == '\0') {
            return;
        }
        if (out->used == out->capacity) {
            sink_flush(out);
        }
        out->buffer[out->used++] = c;
    } else if (out->used < out->capacity) {
        out->buffer[out->used++] = c;
    }
}

static void sink_repeat(sink *out, char c, int count)
{
    for (int i = 0; i < count; ++i) {
        sink_put(out, c);
    }
}

static void sink_text(sink *out, const char *text, int length)
{
    for (int i = 0; i < length; ++i) {
        sink_put(out, text[i]);
    }
}

#define FLAG_LEFT 1u
#define FLAG_PLUS 2u
#define FLAG_SPACE 4u
#define FLAG_ZERO 8u
#define FLAG_UPPER 16u

/* One field: prefix (sign, 0x), `zeros` leading zeros, then body; padded to width. */
static void emit_field(sink *out, const char *prefix, int zeros, const char *body, int body_length,
                       unsigned flags, int width)
{
    int prefix_length = 0;
    while (prefix[prefix_length] != '\0') {
        ++prefix_length;
    }
    int length = prefix_length + zeros + body_length;
    int padding = width > length ? width - length : 0;
    if (!(flags & FLAG_LEFT) && !(flags & FLAG_ZERO)) {
        sink_repeat(out, ' ', padding);
    }
    sink_text(out, prefix, prefix_length);
    if (!(flags & FLAG_LEFT) && (flags & FLAG_ZERO)) {
        sink_repeat(out, '0', padding);
    }
    sink_repeat(out, '0', zeros);
    sink_text(out, body, body_length);
    if (flags & FLAG_LEFT) {
        sink_repeat(out, ' ', padding);
    }
}

/* Digits of `value` in `base`, written backwards from `end`; returns the first digit. */
static char *format_unsigned(char *end, uint64_t value, unsigned base, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    while (value > 0xFFFFFFFFu) {
        *--p = digits[value % base];
        value /= base;
    }
    uint32_t small = (uint32_t)value; /* 32-bit division from here on */
    do {
        *--p = digits[small % base];
        small /= base;
    } while (small != 0u);
    return p;
}

static void emit_integer(sink *out, uint64_t magnitude, int negative, unsigned base, unsigned flags, int width,
                         int precision, int alternate)
{
    char digits[24];
    char *end = digits + sizeof digits;
    char *first = end;
    if (!(precision == 0 && magnitude == 0)) {
        first = format_unsigned(end, magnitude, base, (flags & FLAG_UPPER) != 0);
    }
    int length = (int)(end - first);
    const char *prefix = "";
    if (negative) {
        prefix = "-";
    } else if (flags & FLAG_PLUS) {
        prefix = "+";
    } else if (flags & FLAG_SPACE) {
        prefix = " ";
    } else if (alternate && base == 16) {
        prefix = (flags & FLAG_UPPER) ? "0X" : "0x";
    }
    int zeros = 0;
    if (precision >= 0) {
        zeros = precision > length ? precision - length : 0;
        flags &= ~FLAG_ZERO;
    }
    emit_field(out, prefix, zeros, first, length, flags, width);
}

/* ------------------------------------------------------------ floating point */

/* Digits are produced exactly, rounded to nearest with ties to even like glibc, whenever the
 * value scaled to an integer of the requested digits can be computed exactly: a scale of at
 * most 10^22 and a result below 2^63 (%f: |v| * 10^precision < 9.2e18; %e/%g with P
 * significant digits, P <= 18: 10^(P - 23) <= |v| < 1.8e19). Other values are converted digit
 * by digit in double precision, exact to about 15 significant digits. %a is always exact. */

#define FLOAT_MAX_PRECISION 40
#define FLOAT_TEXT 80
#define TWO_POW_53 9007199254740992.0
#define TWO_POW_63 9223372036854775808.0
#define TWO_POW_64 18446744073709551616.0

/* 10^0 .. 10^22 are exact doubles. */
static const double exact_powers_of_ten[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static uint64_t power_of_ten(int exponent)
{
    uint64_t value = 1u;
    while (exponent-- > 0) {
        value *= 10u;
    }
    return value;
}

/* Veltkamp split of a into hi + lo, each with at most 26 significant bits. */
static void split_double(double a, double *hi, double *lo)
{
    double c = 134217729.0 * a; /* 2^27 + 1 */
    double big = c - a;
    *hi = c - big;
    *lo = a - *hi;
}

/* Dekker: the exact error of the rounded product p = fl(a * b), i.e. a * b - p (the build has no
 * floating-point contraction, so this is evaluated as written). */
static double product_error(double a, double b, double p)
{
    double ah, al, bh, bl;
    split_double(a, &ah, &al);
    split_double(b, &bh, &bl);
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/* *out = v / 10^-k rounded to nearest, ties to even, exactly; v >= 0, -19 <= k < 0.
 * Returns 0 if v >= 2^64. */
static int scaled_round_down(double v, int k, uint64_t *out)
{
    if (!(v < TWO_POW_64)) {
        return 0;
    }
    uint64_t divisor = 1u;
    for (int i = 0; i < -k; ++i) {
        divisor *= 10u;
    }
    uint64_t whole = (uint64_t)v;
    double twice_fraction = 2.0 * (v - (double)whole); /* exact, in [0, 2) */
    uint64_t quotient = whole / divisor;
    uint64_t remainder = whole % divisor;
    /* Round up iff remainder + fraction > divisor / 2, i.e. 2 * fraction > divisor - 2 * remainder. */
    int up;
    if (2u * remainder > divisor) {
        up = 1;
    } else {
        double gap = (double)(divisor - 2u * remainder); /* >= 0; exact when it matters (< 2) */
        up = twice_fraction > gap || (twice_fraction == gap && (quotient & 1u));
    }
    *out = quotient + (uint64_t)up;
    return 1;
}

/* *out = v * 10^k rounded to nearest, ties to even, computed exactly; v >= 0, -19 <= k <= 22.
 * Returns 0 (and leaves *out) if the result would not be exact (product 2^63 or more). */
static int scaled_round(double v, int k, uint64_t *out)
{
    if (k < 0) {
        return scaled_round_down(v, k, out);
    }
    double scale = exact_powers_of_ten[k];
    double p = v * scale;
    if (!(p < TWO_POW_63)) {
        return 0;
    }
    double error = product_error(v, scale, p); /* v * scale = p + error exactly */
    uint64_t whole = (uint64_t)p;
    int up;
    if (p < TWO_POW_53) {
        /* p may have a fraction; |error| <= ulp(p) / 2 only matters at an exact half. */
        double fraction = p - (double)whole; /* exact */
        up = fraction > 0.5 || (fraction == 0.5 && (error > 0.0 || (error == 0.0 && (whole & 1u))));
    } else {
        /* p is an integer; the fraction is in error (|error| <= 512 here). */
        double floor_error = (double)(int32_t)error;
        if (floor_error > error) {
            floor_error -= 1.0;
        }
        double fraction = error - floor_error; /* exact, in [0, 1) */
        whole += (uint64_t)(int64_t)floor_error;
        up = fraction > 0.5 || (fraction == 0.5 && (whole & 1u));
    }
    *out = whole + (uint64_t)up;
    return 1;
}

/* Scale v > 0 into [1, 10); returns the decimal exponent. */
static int normalize_decimal(double *v)
{
    static const double powers[] = {1e256, 1e128, 1e64, 1e32, 1e16, 1e8, 1e4, 1e2, 1e1};
    static const int exponents[] = {256, 128, 64, 32, 16, 8, 4, 2, 1};
    int exponent = 0;
    double x = *v;
    if (x >= 10.0) {
        for (int i = 0; i < 9; ++i) {
            if (x >= powers[i]) {
                x /= powers[i];
                exponent += exponents[i];
            }
        }
    } else if (x < 1.0) {
        for (int i = 0; i < 9; ++i) {
            if (x * powers[i] < 10.0) {
                x *= powers[i];
                exponent -= exponents[i];
            }
        }
    }
    /* The scaling rounds: fix the last step if it left x just outside [1, 10). */
    while (x < 1.0) {
        x *= 10.0;
        --exponent;
    }
    while (x >= 10.0) {
        x /= 10.0;
        ++exponent;
    }
    *v = x;
    return exponent;
}

/* Round a digit string up by one unit in its last place; returns 1 if it overflowed (all 9s,
 * which become 0s: the caller prepends a 1). */
static int round_up_digits(char *digits, int count)
{
    for (int i = count - 1; i >= 0; --i) {
        if (digits[i] != '9') {
            ++digits[i];
            return 0;
        }
        digits[i] = '0';
    }
    return 1;
}

/* Approximate path: `count` digits of the fraction frac in [0, 1), rounding the remainder to
 * nearest, ties to even (`odd_before` tells whether the digit before the first one is odd, for
 * count == 0). Returns 1 if the rounding carried out of the digits. */
static int fraction_digits(double frac, char *digits, int count, int odd_before)
{
    for (int i = 0; i < count; ++i) {
        frac *= 10.0;
        int d = (int)frac;
        if (d > 9) {
            d = 9;
        }
        digits[i] = (char)('0' + d);
        frac -= d;
    }
    int odd = count > 0 ? (digits[count - 1] - '0') & 1 : odd_before;
    if (frac > 0.5 || (frac == 0.5 && odd)) {
        return count > 0 ? round_up_digits(digits, count) : 1;
    }
    return 0;
}

/* The decimal digits of n, zero-padded on the left to at least `minimum`; returns the count. */
static int decimal_digits(uint64_t n, int minimum, char *digits)
{
    char buffer[24];
    char *end = buffer + sizeof buffer;
    char *first = format_unsigned(end, n, 10, 0);
    int count = 0;
    for (int pad = minimum - (int)(end - first); pad > 0; --pad) {
        digits[count++] = '0';
    }
    while (first < end) {
        digits[count++] = *first++;
    }
    return count;
}

/* "d.ddd" (`precision` digits after the point) of v >= 0 into text; the decimal exponent goes
 * to *exponent. Returns the length. */
static int format_exponential_digits(double v, int precision, char *text, int *exponent)
{
    char digits[FLOAT_MAX_PRECISION + 2];
    int e = 0;
    int exact = 0;
    if (v != 0.0) {
        double normalized = v;
        e = normalize_decimal(&normalized);
        for (int attempt = 0; attempt < 3 && precision <= 17; ++attempt) {
            int k = precision - e;
            uint64_t n;
            if (k < -19 || k > 22 || !scaled_round(v, k, &n)) {
                break;
            }
            if (n >= power_of_ten(precision + 1)) {
                ++e; /* normalization was low, or rounding reached 10.00... */
            } else if (n < power_of_ten(precision)) {
                --e;
            } else {
                (void)decimal_digits(n, precision + 1, digits);
                exact = 1;
                break;
            }
        }
        if (!exact) {
            e = normalize_decimal(&v);
            int lead = (int)v;
            digits[0] = (char)('0' + lead);
            if (fraction_digits(v - lead, digits + 1, precision, lead & 1) && round_up_digits(digits, 1)) {
                digits[0] = '1'; /* 9.99... rounded to 10.0 */
                ++e;
            }
        }
    } else {
        for (int i = 0; i <= precision; ++i) {
            digits[i] = '0';
        }
    }
    int length = 0;
    text[length++] = digits[0];
    if (precision > 0) {
        text[length++] = '.';
        for (int i = 0; i < precision; ++i) {
            text[length++] = digits[i + 1];
        }
    }
    *exponent = e;
    return length;
}

static int append_exponent(char *text, int length, int exponent, int upper)
{
    text[length++] = upper ? 'E' : 'e';
    text[length++] = exponent < 0 ? '-' : '+';
    int magnitude = exponent < 0 ? -exponent : exponent;
    if (magnitude >= 100) {
        text[length++] = (char)('0' + magnitude / 100);
    }
    text[length++] = (char)('0' + (magnitude / 10) % 10);
    text[length++] = (char)('0' + magnitude % 10);
    return length;
}

/* %f body of 0 <= v < 2^63. Returns the length. */
static int format_fixed_digits(double v, int precision, char *text)
{
    uint64_t n;
    if (precision <= 22 && scaled_round(v, precision, &n)) {
        char digits[24];
        int count = decimal_digits(n, precision + 1, digits);
        int length = 0;
        for (int i = 0; i < count; ++i) {
            if (i == count - precision) {
                text[length++] = '.';
            }
            text[length++] = digits[i];
        }
        return length;
    }
    uint64_t whole = (uint64_t)v;
    char fraction[FLOAT_MAX_PRECISION + 1];
    if (fraction_digits(v - (double)whole, fraction, precision, (int)(whole & 1u))) {
        ++whole;
    }
    int length = decimal_digits(whole, 1, text);
    if (precision > 0) {
        text[length++] = '.';
        for (int i = 0; i < precision; ++i) {
            text[length++] = fraction[i];
        }
    }
    return length;
}

/* %a body of v >= 0: 0x1.hhhp+d (0x0.hhhp-1022 for subnormals), trailing zero digits dropped
 * as glibc does. Returns the length. */
static int format_hex_float(double v, int upper, char *text)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int biased = (int)((bits >> 52) & 0x7FFu);
    uint64_t mantissa = bits & 0xFFFFFFFFFFFFFull;
    const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int length = 0;
    text[length++] = '0';
    text[length++] = upper ? 'X' : 'x';
    text[length++] = biased == 0 ? '0' : '1';
    int exponent = biased == 0 ? (mantissa == 0 ? 0 : -1022) : biased - 1023;
    if (mantissa != 0) {
        text[length++] = '.';
        int last = length;
        for (int shift = 48; shift >= 0; shift -= 4) {
            text[length++] = hex[(mantissa >> shift) & 0xFu];
            if (text[length - 1] != '0') {
                last = length;
            }
        }
        length = last;
    }
    text[length++] = upper ? 'P' : 'p';
    text[length++] = exponent < 0 ? '-' : '+';
    char buffer[8];
    char *end = buffer + sizeof buffer;
    char *first = format_unsigned(end, (uint64_t)(exponent < 0 ? -exponent : exponent), 10, 0);
    while (first < end) {
        text[length++] = *first++;
    }
    return length;
}

/* Remove trailing zeros after a decimal point (and the point itself) from a %g body, keeping
 * an exponent suffix if there is one. */
static int strip_trailing_zeros(char *text, int length)
{
    int point = -1;
    int exponent_at = length;
    for (int i = 0; i < length; ++i) {
        if (text[i] == '.') {
            point = i;
        } else if (text[i] == 'e' || text[i] == 'E') {
            exponent_at = i;
        }
    }
    if (point < 0) {
        return length;
    }
    int cut = exponent_at;
    while (cut > point + 1 && text[cut - 1] == '0') {
        --cut;
    }
    if (cut == point + 1) {
        cut = point;
    }
    int new_length = cut;
    for (int i = exponent_at; i < length; ++i) {
        text[new_length++] = text[i];
    }
    return new_length;
}

static void emit_float(sink *out, double value, char conversion, unsigned flags, int width, int precision)
{
    int upper = conversion == 'F' || conversion == 'E' || conversion == 'G' || conversion == 'A';
    char lower = (char)(upper ? conversion + ('a' - 'A') : conversion);
    int negative = value < 0.0 || (value == 0.0 && 1.0 / value < 0.0);
    const char *sign = negative ? "-" : (flags & FLAG_PLUS) ? "+" : (flags & FLAG_SPACE) ? " " : "";
    char text[FLOAT_TEXT];
    int length = 0;

    if (value != value) {
        emit_field(out, sign, 0, upper ? "NAN" : "nan", 3, flags & ~FLAG_ZERO, width);
        return;
    }
    double magnitude = negative ? -value : value;
    if (magnitude > 1.7976931348623157e308) {
        emit_field(out, sign, 0, upper ? "INF" : "inf", 3, flags & ~FLAG_ZERO, width);
        return;
    }
    if (lower == 'a') {
        length = format_hex_float(magnitude, upper, text);
        emit_field(out, sign, 0, text, length, flags, width);
        return;
    }
    if (precision < 0) {
        precision = 6;
    }
    if (precision > FLOAT_MAX_PRECISION) {
        precision = FLOAT_MAX_PRECISION;
    }

    if (lower == 'f' && magnitude < TWO_POW_63) {
        length = format_fixed_digits(magnitude, precision, text);
    } else if (lower == 'f' || lower == 'e') {
        int exponent = 0;
        length = format_exponential_digits(magnitude, precision, text, &exponent);
        length = append_exponent(text, length, exponent, upper);
    } else { /* g */
        int significant = precision == 0 ? 1 : precision;
        int exponent = 0;
        length = format_exponential_digits(magnitude, significant - 1, text, &exponent);
        if (exponent >= -4 && exponent < significant && magnitude < TWO_POW_63) {
            int fixed_precision = significant - 1 - exponent;
            if (fixed_precision > FLOAT_MAX_PRECISION) {
                fixed_precision = FLOAT_MAX_PRECISION;
            }
            length = format_fixed_digits(magnitude, fixed_precision, text);
        } else {
            length = append_exponent(text, length, exponent, upper);
        }
        length = strip_trailing_zeros(text, length);
    }
    emit_field(out, sign, 0, text, length, flags, width);
}

/* ------------------------------------------------------------------ the core */

enum length_modifier { LENGTH_INT, LENGTH_CHAR, LENGTH_SHORT, LENGTH_LONG, LENGTH_LONG_LONG, LENGTH_SIZE };

static int parse_decimal(const char **cursor)
{
    int value = 0;
    while (**cursor >= '0' && **cursor <= '9') {
        if (value < 100000000) {
            value = value * 10 + (**cursor - '0');
        }
        ++*cursor;
    }
    return value;
}

static void format_into(sink *out, const char *format, va_list args)
{
    const char *p = format;
    while (*p != '\0') {
        if (*p != '%') {
            sink_put(out, *p++);
            continue;
        }
        ++p;
        unsigned flags = 0;
        int alternate = 0;
        for (;; ++p) {
            if (*p == '-') {
                flags |= FLAG_LEFT;
            } else if (*p == '+') {
                flags |= FLAG_PLUS;
            } else if (*p == ' ') {
                flags |= FLAG_SPACE;
            } else if (*p == '0') {
                flags |= FLAG_ZERO;
            } else if (*p == '#') {
                alternate = 1;
            } else {
                break;
            }
        }
        int width = 0;
        if (*p == '*') {
            width = va_arg(args, int);
            if (width < 0) {
                flags |= FLAG_LEFT;
                width = -width;
            }
            ++p;
        } else {
            width = parse_decimal(&p);
        }
        int precision = -1;
        if (*p == '.') {
            ++p;
            if (*p == '*') {
                precision = va_arg(args, int);
                ++p;
            } else {
                precision = parse_decimal(&p);
            }
            if (precision < 0) {
                precision = -1;
            }
        }
        enum length_modifier length = LENGTH_INT;
        if (*p == 'h') {
            ++p;
            length = LENGTH_SHORT;
            if (*p == 'h') {
                ++p;
                length = LENGTH_CHAR;
            }
        } else if (*p == 'l') {
            ++p;
            length = LENGTH_LONG;
            if (*p == 'l') {
                ++p;
                length = LENGTH_LONG_LONG;
            }
        } else if (*p == 'j') {
            ++p;
            length = LENGTH_LONG_LONG; /* intmax_t is long long here */
        } else if (*p == 'z' || *p == 't') {
            ++p;
            length = LENGTH_SIZE; /* size_t and ptrdiff_t are 32 bits here */
        } else if (*p == 'L') {
            ++p; /* long double is double here */
        }
        char conversion = *p;
        if (conversion == '\0') {
            break;
        }
        ++p;
        if (flags & FLAG_LEFT) {
            flags &= ~FLAG_ZERO;
        }
        switch (conversion) {
        case 'd':
        case 'i': {
            int64_t value;
            if (length == LENGTH_LONG_LONG) {
                value = va_arg(args, long long);
            } else if (length == LENGTH_LONG) {
                value = va_arg(args, long);
            } else if (length == LENGTH_SIZE) {
                value = va_arg(args, ptrdiff_t);
            } else {
                value = va_arg(args, int);
                if (length == LENGTH_SHORT) {
                    value = (short)value;
                } else if (length == LENGTH_CHAR) {
                    value = (signed char)value;
                }
            }
            uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
            emit_integer(out, magnitude, value < 0, 10, flags, width, precision, 0);
            break;
        }
        case 'u':
        case 'o':
        case 'x':
        case 'X': {
            uint64_t value;
            if (length == LENGTH_LONG_LONG) {
                value = va_arg(args, unsigned long long);
            } else if (length == LENGTH_LONG) {
                value = va_arg(args, unsigned long);
            } else if (length == LENGTH_SIZE) {
                value = va_arg(args, size_t);
            } else {
                value = va_arg(args, unsigned int);
                if (length == LENGTH_SHORT) {
                    value = (unsigned short)value;
                } else if (length == LENGTH_CHAR) {
                    value = (unsigned char)value;
                }
            }
            unsigned base = conversion == 'u' ? 10u : conversion == 'o' ? 8u : 16u;
            unsigned integer_flags = (flags & ~(FLAG_PLUS | FLAG_SPACE)) | (conversion == 'X' ? FLAG_UPPER : 0u);
            emit_integer(out, value, 0, base, integer_flags, width, precision, alternate && value != 0);
            break;
        }
        case 'p': {
            uintptr_t value = (uintptr_t)va_arg(args, void *);
            emit_integer(out, value, 0, 16, flags & FLAG_LEFT, width, -1, 1);
            break;
        }
        case 'c': {
            char c = (char)va_arg(args, int);
            emit_field(out, "", 0, &c, 1, flags & FLAG_LEFT, width);
            break;
        }
        case 's': {
            const char *text = va_arg(args, const char *);
            if (text == NULL) {
                text = "(null)";
            }
            int text_length = 0;
            while (text[text_length] != '\0' && (precision < 0 || text_length < precision)) {
                ++text_length;
            }
            emit_field(out, "", 0, text, text_length, flags & FLAG_LEFT, width);
            break;
        }
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G':
        case 'a':
        case 'A':
            emit_float(out, va_arg(args, double), conversion, flags, width, precision);
            break;
        case '%':
            sink_put(out, '%');
            break;
        default: /* unknown conversion: print it as written */
            sink_put(out, '%');
            sink_put(out, conversion);
            break;
        }
    }
}

int board_vprintf(const char *format, va_list args)
{
    char buffer[CONSOLE_CHUNK + 1];
    sink out = {buffer, CONSOLE_CHUNK, 0, 0, 1};
    format_into(&out, format, args);
    sink_flush(&out);
    return (int)out.total;
}

int board_printf(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int written = board_vprintf(format, args);
    va_end(args);
    return written;
}

int board_vsnprintf(char *buffer, size_t size, const char *format, va_list args)
{
    char dummy[1];
    sink out = {size > 0 ? buffer : dummy, size > 0 ? size - 1 : 0, 0, 0, 0};
    format_into(&out, format, args);
    out.buffer[out.used] = '\0';
    return (int)out.total;
}

int board_snprintf(char *buffer, size_t size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int written = board_vsnprintf(buffer, size, format, args);
    va_end(args);
    return written;
}

/* ======================================================= C library (newlib) hooks */

/* newlib's stdio ends in these; with them printf/puts/fwrite(stdout|stderr) reach the
 * semihosting console and exit() ends QEMU. (Note: newlib-nano allocates its stdio buffers
 * with malloc, so stdio needs a heap: link with -Wl,--defsym=__heap_size=4096 or more.) */
static void print_decimal(uint32_t value);

int _write(int fd, const char *data, int length);
int _read(int fd, char *data, int length);
int _close(int fd);
int _fstat(int fd, struct stat *status);
int _isatty(int fd);
int _lseek(int fd, int offset, int whence);
void *_sbrk(ptrdiff_t increment);
int _getpid(void);
int _kill(int pid, int signal);
void _exit(int status) BOARD_NORETURN;

int _write(int fd, const char *data, int length)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    if (length > 0) {
        board_write(data, (size_t)length);
    }
    return length;
}

int _read(int fd, char *data, int length)
{
    (void)fd;
    (void)data;
    (void)length;
    return 0; /* end of file */
}

int _close(int fd)
{
    (void)fd;
    errno = EBADF;
    return -1;
}

int _fstat(int fd, struct stat *status)
{
    (void)fd;
    status->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd)
{
    return fd >= 0 && fd <= 2;
}

int _lseek(int fd, int offset, int whence)
{
    (void)fd;
    (void)offset;
    (void)whence;
    errno = ESPIPE;
    return -1;
}

/* The heap is [__heap_start, __heap_end): __heap_size bytes, 0 unless the link defines it. */
void *_sbrk(ptrdiff_t increment)
{
    static char *brk = NULL;
    if (brk == NULL) {
        brk = __heap_start;
    }
    if (increment > __heap_end - brk || increment < __heap_start - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    char *previous = brk;
    brk += increment;
    return previous;
}

int _getpid(void)
{
    return 1;
}

/* raise() and so abort() (and a failed assert()) end here: report and exit with 128 + the
 * signal number, as a host shell would report it (abort(): SIGABRT = 6, status 134). */
int _kill(int pid, int signal)
{
    if (pid != 1 || signal <= 0 || signal >= 64) {
        errno = EINVAL;
        return -1;
    }
    board_print("\nboard: killed by signal ");
    print_decimal((uint32_t)signal);
    board_print(signal == 6 ? " (SIGABRT: abort())\n" : "\n");
    board_exit_now(128 + signal);
}

void _exit(int status)
{
    board_exit_now(status);
}

/* ================================================================ fault reports */

static void print_hex(const char *label, uint32_t value)
{
    char text[16];
    int length = 0;
    text[length++] = ' ';
    text[length++] = '0';
    text[length++] = 'x';
    for (int shift = 28; shift >= 0; shift -= 4) {
        text[length++] = "0123456789abcdef"[(value >> shift) & 0xFu];
    }
    text[length] = '\0';
    board_print(label);
    board_print(text);
}

static void print_decimal(uint32_t value)
{
    char text[12];
    char *first = format_unsigned(text + sizeof text - 1, value, 10, 0);
    text[sizeof text - 1] = '\0';
    board_print(first);
}

static const char *exception_name(uint32_t number)
{
    switch (number) {
    case 2:
        return "NMI";
    case 3:
        return "HardFault";
    case 4:
        return "MemManage fault";
    case 5:
        return "BusFault";
    case 6:
        return "UsageFault";
    case 11:
        return "SVCall";
    case 12:
        return "DebugMonitor";
    case 14:
        return "PendSV";
    case 15:
        return "SysTick";
    default:
        return number >= 16 ? "unexpected interrupt" : "reserved exception";
    }
}

static const char *const cfsr_bits[32] = {
    "IACCVIOL", "DACCVIOL", NULL,         "MUNSTKERR", "MSTKERR",  "MLSPERR", NULL,     "MMARVALID",
    "IBUSERR",  "PRECISERR", "IMPRECISERR", "UNSTKERR", "STKERR",   "LSPERR",  NULL,     "BFARVALID",
    "UNDEFINSTR", "INVSTATE", "INVPC",      "NOCP",     NULL,       NULL,      NULL,     NULL,
    "UNALIGNED", "DIVBYZERO", NULL,         NULL,       NULL,       NULL,      NULL,     NULL,
};

void board_fault(const uint32_t *frame, uint32_t exc_return);

void board_fault(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    uint32_t number = ipsr & 0x1FFu;
    uint32_t cfsr = SCB_CFSR;
    uint32_t hfsr = SCB_HFSR;
    uint32_t mmfar = SCB_MMFAR;
    uint32_t bfar = SCB_BFAR;
    uintptr_t frame_address = (uintptr_t)frame;
    int on_main_stack = (exc_return & 4u) != 0u;

    board_print("\nboard: ");
    board_print(exception_name(number));
    board_print(" (exception ");
    print_decimal(number);
    board_print(")\n");

    int overflow = on_main_stack && frame_address < (uintptr_t)__stack_start;
    if ((cfsr & CFSR_MMARVALID) && mmfar < (uintptr_t)__stack_start && mmfar >= (uintptr_t)__stack_start - 0x100000u) {
        overflow = 1;
    }
    if (overflow) {
        board_print("board: stack overflow: the main stack of ");
        print_decimal((uint32_t)board_stack_size());
        board_print(" bytes was exceeded (link with -Wl,--defsym=__stack_size=N for more)\n");
    }

    int frame_readable = (cfsr & CFSR_STACKING_ERRORS) == 0u && frame_address >= (uintptr_t)__ram_start &&
                         frame_address + 32u <= (uintptr_t)__ram_end;
    if (frame_readable) {
        print_hex("board:   pc", frame[6]);
        print_hex("  lr", frame[5]);
        print_hex("  xpsr", frame[7]);
        board_print("\n");
    }
    print_hex("board:   cfsr", cfsr);
    print_hex("  hfsr", hfsr);
    if (cfsr & CFSR_MMARVALID) {
        print_hex("  mmfar", mmfar);
    }
    if (cfsr & (1u << 15)) {
        print_hex("  bfar", bfar);
    }
    print_hex("  sp", (uint32_t)frame_address);
    board_print("\n");
    if (cfsr != 0u) {
        board_print("board:  ");
        for (unsigned bit = 0; bit < 32u; ++bit) {
            if ((cfsr & (1u << bit)) && cfsr_bits[bit] != NULL) {
                board_print(" ");
                board_print(cfsr_bits[bit]);
            }
        }
        board_print("\n");
    }
    board_exit_now(BOARD_EXIT_FAULT_BASE + (int)number);
}
