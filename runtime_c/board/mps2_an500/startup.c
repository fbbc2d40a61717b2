/*
 * startup.c - reset and exception vectors for the QEMU mps2-an500 machine (Cortex-M7).
 *
 * Reset sequence (Reset_Handler, running on the exception stack MSP that the core loads from
 * the first word of the vector table):
 *   1. board_reset_init(): enable the FPU (CPACR: full access to CP10/CP11), copy .data from
 *      flash, zero .bss, fill the main stack with a pattern (board_stack_used() measures the
 *      peak), and program an MPU no-access region just below RAM as the main stack's guard.
 *   2. Switch thread mode to the main stack (PSP = __stack_top, CONTROL.SPSEL = 1), so that a
 *      stack overflow faults on PSP while the fault handler still has a valid stack (MSP).
 *   3. board_reset_main(): run the constructors (.preinit_array, .init_array), board_init(),
 *      then exit(main()). exit() runs atexit handlers and flushes stdio, then calls _exit()
 *      (board.c), which ends QEMU through semihosting SYS_EXIT_EXTENDED with main's status.
 *
 * Every other exception goes to Default_Handler (weak aliases: a program may define its own
 * NMI_Handler, HardFault_Handler, ..., IRQn handlers), which prints a fault report and exits
 * with status 128 + the exception number.
 */
#include <stdint.h>
#include <stdlib.h>

#include "board.h"

/* Symbols of mps2_an500.ld. */
extern uint32_t __data_start[];
extern uint32_t __data_end[];
extern const uint32_t __data_load[];
extern uint32_t __bss_start[];
extern uint32_t __bss_end[];
extern uint32_t __stack_start[];
extern uint32_t __stack_top[];
extern uint32_t __handler_stack_top[];

typedef void (*board_init_fn)(void);
extern const board_init_fn __preinit_array_start[];
extern const board_init_fn __preinit_array_end[];
extern const board_init_fn __init_array_start[];
extern const board_init_fn __init_array_end[];

/* Defined by the program. */
extern int main(void);

/* board.c */
void board_fault(const uint32_t *frame, uint32_t exc_return);
void board_stack_paint(uint32_t *start, uint32_t *end);

/* Called from Reset_Handler's assembly. */
void board_reset_init(void);
void board_reset_main(void);

#define REG32(address) (*(volatile uint32_t *)(address))
#define SCB_CPACR REG32(0xE000ED88u)
#define MPU_TYPE REG32(0xE000ED90u)
#define MPU_CTRL REG32(0xE000ED94u)
#define MPU_RNR REG32(0xE000ED98u)
#define MPU_RBAR REG32(0xE000ED9Cu)
#define MPU_RASR REG32(0xE000EDA0u)

/* The guard: 1 MB ending at ORIGIN(RAM) (= __stack_start, asserted by the linker script), no
 * access, execute never. In QEMU this range is an unimplemented-device region (reads 0, writes
 * ignored), so without the MPU an overflow would go unnoticed. */
#define STACK_GUARD_BASE 0x1FF00000u
#define STACK_GUARD_SIZE_LOG2 20u

#define MPU_RASR_XN (1u << 28)
#define MPU_RASR_AP_NO_ACCESS (0u << 24)
#define MPU_RASR_ENABLE 1u
#define MPU_CTRL_ENABLE 1u
#define MPU_CTRL_PRIVDEFENA (1u << 2)

static inline void barrier(void)
{
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

void board_reset_init(void)
{
    /* FPU first: the program is compiled for the hard-float ABI. */
    SCB_CPACR |= 0xFu << 20;
    barrier();

    const uint32_t *source = __data_load;
    for (uint32_t *word = __data_start; word < __data_end; ++word) {
        *word = *source++;
    }
    for (uint32_t *word = __bss_start; word < __bss_end; ++word) {
        *word = 0u;
    }

    /* This runs on MSP: the whole main stack can be painted. */
    board_stack_paint(__stack_start, __stack_top);

    if (((MPU_TYPE >> 8) & 0xFFu) != 0u) {
        MPU_RNR = 0u;
        MPU_RBAR = STACK_GUARD_BASE;
        MPU_RASR = MPU_RASR_XN | MPU_RASR_AP_NO_ACCESS | ((STACK_GUARD_SIZE_LOG2 - 1u) << 1) | MPU_RASR_ENABLE;
        MPU_CTRL = MPU_CTRL_PRIVDEFENA | MPU_CTRL_ENABLE;
        barrier();
    }
}

void board_reset_main(void)
{
    for (const board_init_fn *fn = __preinit_array_start; fn < __preinit_array_end; ++fn) {
        (*fn)();
    }
    for (const board_init_fn *fn = __init_array_start; fn < __init_array_end; ++fn) {
        (*fn)();
    }
    board_init();
    exit(main());
}

__attribute__((naked)) void Reset_Handler(void)
{
    __asm__ volatile(
        "bl board_reset_init\n\t"
        "movw r0, #:lower16:__stack_top\n\t"
        "movt r0, #:upper16:__stack_top\n\t"
        "msr psp, r0\n\t"
        "mrs r0, control\n\t"
        "orr r0, r0, #2\n\t"
        "msr control, r0\n\t"
        "isb\n\t"
        "bl board_reset_main\n\t"
        "b .\n\t");
}

/* Passes the stacked exception frame (on PSP or MSP, per EXC_RETURN bit 2) and EXC_RETURN to
 * board_fault(), which reports and exits. */
__attribute__((naked)) void Default_Handler(void)
{
    __asm__ volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mov r1, lr\n\t"
        "b board_fault\n\t");
}

#define WEAK_DEFAULT __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK_DEFAULT;
void HardFault_Handler(void) WEAK_DEFAULT;
void MemManage_Handler(void) WEAK_DEFAULT;
void BusFault_Handler(void) WEAK_DEFAULT;
void UsageFault_Handler(void) WEAK_DEFAULT;
void SVC_Handler(void) WEAK_DEFAULT;
void DebugMon_Handler(void) WEAK_DEFAULT;
void PendSV_Handler(void) WEAK_DEFAULT;
void SysTick_Handler(void); /* board.c */

#define BOARD_EXTERNAL_IRQS 32

typedef void (*board_vector)(void);

/* The vector table: initial MSP, then the 15 system exceptions and the external IRQs. */
typedef struct {
    void *initial_sp;
    board_vector system[15];
    board_vector irq[BOARD_EXTERNAL_IRQS];
} board_vector_table;

__attribute__((section(".isr_vector"), used)) const board_vector_table board_vectors = {
    .initial_sp = __handler_stack_top,
    .system =
        {
            Reset_Handler,      /*  1 Reset */
            NMI_Handler,        /*  2 NMI */
            HardFault_Handler,  /*  3 HardFault */
            MemManage_Handler,  /*  4 MemManage */
            BusFault_Handler,   /*  5 BusFault */
            UsageFault_Handler, /*  6 UsageFault */
            0,                  /*  7 reserved */
            0,                  /*  8 reserved */
            0,                  /*  9 reserved */
            0,                  /* 10 reserved */
            SVC_Handler,        /* 11 SVCall */
            DebugMon_Handler,   /* 12 DebugMonitor */
            0,                  /* 13 reserved */
            PendSV_Handler,     /* 14 PendSV */
            SysTick_Handler,    /* 15 SysTick */
        },
    .irq =
        {
            Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
            Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
            Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
            Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
            Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
            Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
            Default_Handler, Default_Handler,
        },
};
