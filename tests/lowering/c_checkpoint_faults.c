/*
 * c_checkpoint_faults.c - model_checkpoint_save / _load against a simulated NOR flash that loses
 * power (tests/lowering/test_c_api.py builds it with the bundled model, under ASan + UBSan).
 *
 * The flash: erase sets pages to 0xFF, program can only clear bits (data AND old). A fault cuts
 * the power at one chosen erase or program call of a save, in one of four ways: before the call
 * does anything, after part of a program (a prefix of the bytes, the next byte half written: a
 * torn write inside a page), after half of an erase, or just after the call completes. Then
 * the device "reboots": the parameters in RAM are scrambled and loaded back from flash. For a
 * cut at every call of a save, in each way, load must give exactly the parameters of the last
 * completed save or of the interrupted one, never a mix; and a save after the failure must
 * succeed and load back exactly. Prints the number of injected faults; exit 1 on any failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "samples.h"

enum { PAGE = 64, SLOT_PAGES = (MODEL_CHECKPOINT_SLOT_BYTES + PAGE - 1) / PAGE, PAGES = 2 * SLOT_PAGES + 1 };
enum { CUT_BEFORE, CUT_TORN, CUT_HALF_ERASE, CUT_AFTER, CUT_KINDS };

typedef struct {
    uint8_t memory[PAGES * PAGE];
    long calls;     /* erase and program calls so far */
    long cut_at;    /* the call that loses power (-1: never) */
    int cut_kind;
    int dead;       /* power lost: every later call fails */
    uint32_t noise; /* the torn byte's bits */
} sim_flash;

static union {
    uint64_t align;
    uint8_t bytes[MODEL_ARENA_BYTES];
} arena;

static int sim_read(void *user, uint32_t address, void *data, size_t size)
{
    sim_flash *f = (sim_flash *)user;
    if (f->dead || address + size > sizeof f->memory) {
        return -1;
    }
    memcpy(data, f->memory + address, size);
    return 0;
}

/* 1 when this call is the one that loses power (the caller then applies the cut's effect). */
static int cut_now(sim_flash *f)
{
    if (f->dead) {
        return 1;
    }
    return f->calls++ == f->cut_at;
}

static int sim_program(void *user, uint32_t address, const void *data, size_t size)
{
    sim_flash *f = (sim_flash *)user;
    const uint8_t *bytes = (const uint8_t *)data;
    if (address + size > sizeof f->memory || address / PAGE != (address + size - 1) / PAGE) {
        return -1; /* the runtime must stay inside one page per call */
    }
    size_t done = size;
    const int cut = cut_now(f);
    if (cut && !f->dead) {
        done = f->cut_kind == CUT_BEFORE ? 0 : f->cut_kind == CUT_TORN ? size / 2 : size;
    } else if (f->dead) {
        return -1;
    }
    for (size_t i = 0; i < done; ++i) {
        f->memory[address + i] &= bytes[i];
    }
    if (cut) {
        if (f->cut_kind == CUT_TORN && done < size) {
            f->memory[address + done] &= (uint8_t)(bytes[done] | (f->noise & 0xffu)); /* half-written byte */
        }
        f->dead = 1;
        return -1;
    }
    return 0;
}

static int sim_erase(void *user, uint32_t address, size_t size)
{
    sim_flash *f = (sim_flash *)user;
    if (address % PAGE != 0 || address + size > sizeof f->memory) {
        return -1;
    }
    const int cut = cut_now(f);
    if (f->dead && !cut) {
        return -1;
    }
    const size_t done = !cut ? size : f->cut_kind == CUT_BEFORE ? 0 : f->cut_kind == CUT_HALF_ERASE ? size / 2 : size;
    memset(f->memory + address, 0xff, done);
    if (cut) {
        f->dead = 1;
        return -1;
    }
    return 0;
}

static uint8_t state_a[MODEL_PARAMS_BYTES], state_b[MODEL_PARAMS_BYTES], loaded[MODEL_PARAMS_BYTES];

static void train(model_context *ctx, int steps, int first)
{
    for (int step = first; step < first + steps; ++step) {
        const int sample = step % SAMPLES_TRAIN_COUNT;
        model_train_step(ctx, samples_train_images[sample], samples_train_labels[sample], 0.05f);
    }
}

/* Reboot: RAM parameters scrambled (a valid blob of other values), then loaded from flash. */
static int reboot_and_load(model_context *ctx, const tt_flash *flash, uint8_t *out)
{
    static uint8_t scrambled[MODEL_PARAMS_BYTES];
    memcpy(scrambled, state_a, sizeof scrambled);
    for (size_t i = TT_PARAMS_HEADER_BYTES; i < sizeof scrambled; ++i) {
        scrambled[i] = (uint8_t)(scrambled[i] * 31u + 7u);
    }
    const uint32_t crc = tt_crc32(0, scrambled + TT_PARAMS_HEADER_BYTES, sizeof scrambled - TT_PARAMS_HEADER_BYTES);
    for (int k = 0; k < 4; ++k) {
        scrambled[16 + k] = (uint8_t)(crc >> (8 * k)); /* a valid blob of other values */
    }
    if (model_import_params(scrambled, sizeof scrambled) != MODEL_OK) {
        return -100;
    }
    const int status = model_checkpoint_load(ctx, flash);
    model_export_params(out, MODEL_PARAMS_BYTES);
    return status;
}

int main(void)
{
    static sim_flash sim;
    const tt_flash flash = {&sim, sim_read, sim_program, sim_erase, PAGE, {0, SLOT_PAGES * PAGE}};
    model_context ctx;
    long faults = 0, failures = 0, calls_per_save;
    if (model_init(&ctx, arena.bytes, sizeof arena.bytes, 3u) != MODEL_OK) {
        return 1;
    }
    memset(sim.memory, 0xff, sizeof sim.memory);
    sim.cut_at = -1;
    if (model_checkpoint_load(&ctx, &flash) != MODEL_ERROR_NO_CHECKPOINT) {
        printf("FAIL: an erased flash holds a checkpoint\n");
        return 1;
    }
    for (int round = 0; round < 3; ++round) { /* alternate slots: the newest one moves */
        train(&ctx, 3, 10 * round);
        model_export_params(state_a, sizeof state_a);
        sim.calls = 0;
        sim.cut_at = -1;
        if (model_checkpoint_save(&ctx, &flash) != MODEL_OK) {
            printf("FAIL: a save without faults\n");
            return 1;
        }
        calls_per_save = sim.calls;
        train(&ctx, 2, 10 * round + 3);
        model_export_params(state_b, sizeof state_b);
        static uint8_t good_flash[sizeof sim.memory];
        memcpy(good_flash, sim.memory, sizeof good_flash);
        for (long cut = 0; cut < calls_per_save; ++cut) {
            for (int kind = 0; kind < CUT_KINDS; ++kind) {
                memcpy(sim.memory, good_flash, sizeof good_flash);
                model_import_params(state_b, sizeof state_b);
                sim.calls = 0;
                sim.cut_at = cut;
                sim.cut_kind = kind;
                sim.dead = 0;
                sim.noise = (uint32_t)(cut * 2654435761u + (uint32_t)kind);
                const int saved = model_checkpoint_save(&ctx, &flash);
                ++faults;
                sim.dead = 0;
                sim.cut_at = -1;
                const int status = reboot_and_load(&ctx, &flash, loaded);
                const int is_a = memcmp(loaded, state_a, sizeof loaded) == 0;
                const int is_b = memcmp(loaded, state_b, sizeof loaded) == 0;
                if (saved == MODEL_OK || status != MODEL_OK || !(is_a || is_b)) {
                    printf("FAIL round %d cut %ld kind %d: save %d load %d old %d new %d\n", round, cut,
                           kind, saved, status, is_a, is_b);
                    ++failures;
                }
                model_import_params(state_b, sizeof state_b);
                if (model_checkpoint_save(&ctx, &flash) != MODEL_OK ||
                    reboot_and_load(&ctx, &flash, loaded) != MODEL_OK ||
                    memcmp(loaded, state_b, sizeof loaded) != 0) {
                    printf("FAIL round %d cut %ld kind %d: the save after the failure\n", round, cut, kind);
                    ++failures;
                }
            }
        }
        memcpy(sim.memory, good_flash, sizeof good_flash);
        model_import_params(state_b, sizeof state_b);
        if (model_checkpoint_save(&ctx, &flash) != MODEL_OK) {
            return 1;
        }
    }
    printf("calls per save %ld, faults injected %ld, failures %ld\n", calls_per_save, faults, failures);
    return failures == 0 ? 0 : 1;
}
