/*
 * target_main.c - a minimal bare-metal program for QEMU's mps2-an500 (Cortex-M7) that prints
 * the checksums of checksums.c through Arm semihosting and exits. Only what this check needs:
 * a two-entry vector table, .data / .bss set-up, the FPU enabled; the project's real board
 * support lives in runtime_c/board.
 */
#include <stdint.h>

void report(const char *name, uint32_t hash);
void run_checksums(void);
void Reset_Handler(void);

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[];

enum { SYS_WRITE0 = 0x04, SYS_EXIT = 0x18, ADP_STOPPED_APPLICATION_EXIT = 0x20026 };

static void semihosting_call(uint32_t operation, const void *argument)
{
    register uint32_t r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = argument;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

static char line[96];

void report(const char *name, uint32_t hash)
{
    static const char digits[] = "0123456789abcdef";
    uint32_t i = 0;
    while (*name != '\0' && i < sizeof line - 11) {
        line[i++] = *name++;
    }
    line[i++] = ' ';
    for (int32_t shift = 28; shift >= 0; shift -= 4) {
        line[i++] = digits[(hash >> shift) & 15u];
    }
    line[i++] = '\n';
    line[i] = '\0';
    semihosting_call(SYS_WRITE0, line);
}

void Reset_Handler(void)
{
    for (uint32_t *src = __data_load, *dst = __data_start; dst < __data_end;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = __bss_start; dst < __bss_end;) {
        *dst++ = 0;
    }
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10, CP11 full access */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    run_checksums();
    semihosting_call(SYS_EXIT, (const void *)ADP_STOPPED_APPLICATION_EXIT);
    for (;;) {
    }
}

__attribute__((section(".vectors"), used)) static void *const vectors[2] = {
    __stack_top, (void *)Reset_Handler};
