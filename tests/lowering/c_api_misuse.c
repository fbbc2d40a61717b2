/*
 * c_api_misuse.c - the generated API under misuse (tests/lowering/test_c_api.py builds it with
 * the bundled model as `model`, under ASan + UBSan). Every bad call must return its documented
 * code and leave the trained parameters and the rounding counter as they were. Prints one line
 * per case ("case NAME -> CODE") and exits 1 if any case misbehaves.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "samples.h"

static union {
    uint64_t align;
    uint8_t bytes[MODEL_ARENA_BYTES + 1];
} arena;

static uint8_t reference[MODEL_PARAMS_BYTES];
static uint8_t blob[MODEL_PARAMS_BYTES];
static int failures = 0;

static void expect(const char *name, long got, long want)
{
    printf("case %s -> %ld\n", name, got);
    if (got != want) {
        printf("FAIL %s: got %ld, want %ld\n", name, got, want);
        ++failures;
    }
}

/* The parameters must equal the reference export. */
static void expect_unchanged(const char *name)
{
    static uint8_t now[MODEL_PARAMS_BYTES];
    if (model_export_params(now, sizeof now) != MODEL_PARAMS_BYTES ||
        memcmp(now, reference, sizeof now) != 0) {
        printf("FAIL %s: the parameters changed\n", name);
        ++failures;
    }
}

static void init_cases(void)
{
    model_context ctx;
    expect("init NULL ctx", model_init(NULL, arena.bytes, MODEL_ARENA_BYTES, 0), MODEL_ERROR_ARENA_SIZE);
    expect("init NULL arena", model_init(&ctx, NULL, MODEL_ARENA_BYTES, 0), MODEL_ERROR_ARENA_SIZE);
    expect("init small arena", model_init(&ctx, arena.bytes, MODEL_ARENA_BYTES - 1, 0),
           MODEL_ERROR_ARENA_SIZE);
    expect("init misaligned arena", model_init(&ctx, arena.bytes + 1, MODEL_ARENA_BYTES, 0),
           MODEL_ERROR_ARENA_ALIGNMENT);
}

static void step_cases(model_context *ctx)
{
    static const struct {
        const char *name;
        float rate;
    } rates[] = {{"lr NaN", NAN}, {"lr +inf", INFINITY}, {"lr -inf", -INFINITY}, {"lr 0", 0.0f},
                 {"lr -0.01", -0.01f}, {"lr 1e30", 1e30f}, {"lr 2e4", 2e4f}};
    const int8_t *image = samples_train_images[0];
    int8_t logits[MODEL_NUM_CLASSES];
    model_context fresh;
    memset(&fresh, 0, sizeof fresh);
    const uint32_t counter = ctx->rng_counter;
    expect("inference uninitialised ctx", model_inference(&fresh, image, logits), MODEL_ERROR_ARGUMENT);
    expect("inference NULL ctx", model_inference(NULL, image, logits), MODEL_ERROR_ARGUMENT);
    expect("inference NULL image", model_inference(ctx, NULL, logits), MODEL_ERROR_ARGUMENT);
    expect("inference NULL logits", model_inference(ctx, image, NULL), MODEL_ERROR_ARGUMENT);
    expect("train NULL ctx is NaN", isnan(model_train_step(NULL, image, 0, 0.01f)), 1);
    expect("train uninitialised ctx is NaN", isnan(model_train_step(&fresh, image, 0, 0.01f)), 1);
    expect("train NULL image is NaN", isnan(model_train_step(ctx, NULL, 0, 0.01f)), 1);
    expect("train NULL image", ctx->status, MODEL_ERROR_ARGUMENT);
    model_train_step(ctx, image, -1, 0.01f);
    expect("train label -1", ctx->status, MODEL_ERROR_LABEL);
    model_train_step(ctx, image, MODEL_NUM_CLASSES, 0.01f);
    expect("train label NUM_CLASSES", ctx->status, MODEL_ERROR_LABEL);
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; ++i) {
        const float loss = model_train_step(ctx, image, 0, rates[i].rate);
        expect(rates[i].name, ctx->status, MODEL_ERROR_LEARNING_RATE);
        if (!isnan(loss)) {
            printf("FAIL %s: a refused step returned a loss\n", rates[i].name);
            ++failures;
        }
    }
    expect("rounding counter unchanged", (long)(ctx->rng_counter - counter), 0);
    expect_unchanged("refused steps");
}

static void params_cases(void)
{
    expect("export NULL", (long)model_export_params(NULL, MODEL_PARAMS_BYTES), 0);
    expect("export small", (long)model_export_params(blob, MODEL_PARAMS_BYTES - 1), 0);
    expect("export", (long)model_export_params(blob, sizeof blob), MODEL_PARAMS_BYTES);
    expect("import NULL", model_import_params(NULL, MODEL_PARAMS_BYTES), MODEL_ERROR_ARGUMENT);
    expect("import short", model_import_params(blob, MODEL_PARAMS_BYTES - 1), MODEL_ERROR_PARAMS_SIZE);
    static const struct {
        const char *name;
        size_t offset;
        int want;
    } damage[] = {{"import bad magic", 0, MODEL_ERROR_PARAMS_FORMAT},
                  {"import other version", 4, MODEL_ERROR_PARAMS_FORMAT},
                  {"import other model", 8, MODEL_ERROR_PARAMS_MODEL},
                  {"import bad size field", 12, MODEL_ERROR_PARAMS_FORMAT},
                  {"import bad crc field", 16, MODEL_ERROR_PARAMS_CRC},
                  {"import first payload byte", 20, MODEL_ERROR_PARAMS_CRC},
                  {"import last payload byte", MODEL_PARAMS_BYTES - 1, MODEL_ERROR_PARAMS_CRC}};
    for (size_t i = 0; i < sizeof damage / sizeof damage[0]; ++i) {
        memcpy(blob, reference, sizeof blob);
        blob[damage[i].offset] ^= 0x10u;
        expect(damage[i].name, model_import_params(blob, sizeof blob), damage[i].want);
        expect_unchanged(damage[i].name);
    }
    memcpy(blob, reference, sizeof blob);
    expect("import valid", model_import_params(blob, sizeof blob), MODEL_OK);
    expect_unchanged("import valid");
}

/* A rate far too high saturates the trained weights; a sensible one does not. */
static void saturation_cases(void)
{
    static const float rates[2] = {0.05f, 5000.0f};
    for (int k = 0; k < 2; ++k) {
        model_context ctx;
        model_import_params(reference, sizeof reference);
        model_init(&ctx, arena.bytes, MODEL_ARENA_BYTES, 0);
        int saturated_status = 0;
        for (int step = 0; step < 40; ++step) {
            const int sample = step % SAMPLES_TRAIN_COUNT;
            model_train_step(&ctx, samples_train_images[sample], samples_train_labels[sample], rates[k]);
            saturated_status |= ctx.status == MODEL_STATUS_SATURATED;
        }
        expect(k == 0 ? "lr 0.05: saturated steps" : "lr 5000: some saturated steps",
               k == 0 ? (long)ctx.saturated_steps : (long)(ctx.saturated_steps > 0), k == 0 ? 0 : 1);
        expect(k == 0 ? "lr 0.05: saturated status" : "lr 5000: saturated status", saturated_status, k);
    }
}

int main(void)
{
    model_context ctx;
    init_cases();
    if (model_init(&ctx, arena.bytes, MODEL_ARENA_BYTES, 7u) != MODEL_OK) {
        printf("FAIL init\n");
        return 1;
    }
    model_train_step(&ctx, samples_train_images[0], samples_train_labels[0], 0.05f); /* some state */
    model_export_params(reference, sizeof reference);
    step_cases(&ctx);
    params_cases();
    saturation_cases();
    printf("%s\n", failures == 0 ? "all cases passed" : "some cases failed");
    return failures == 0 ? 0 : 1;
}
