/*
 * tt_training.c - helpers of the training loop around a generated model: learning-rate
 * schedules and the divergence watch (loss not finite or rising, logits or weights stuck at the
 * int8 limits). Float results use only +, -, * and / in a fixed order (the cosine is the
 * runtime's own polynomial), so host and Cortex-M7 agree bit for bit.
 *
 * Layer: bottom (calls no other runtime file).
 */
#include <math.h>

#include "tt_internal.h"

/* ----------------------------------------------------------------------- schedules */

/* cos(pi * t) for t in [0, 0.5]: Taylor series in x = pi t to x^12 (error below 1e-8). */
static float cos_pi_quarter_turn(float t)
{
    const float x = 3.14159265358979f * t;
    const float x2 = x * x;
    float poly = 1.0f / 479001600.0f;
    poly = poly * x2 - 1.0f / 3628800.0f;
    poly = poly * x2 + 1.0f / 40320.0f;
    poly = poly * x2 - 1.0f / 720.0f;
    poly = poly * x2 + 1.0f / 24.0f;
    poly = poly * x2 - 0.5f;
    return poly * x2 + 1.0f;
}

float tt_cos_pi(float t)
{
    if (t < 0.0f) {
        t = -t;
    }
    t -= 2.0f * floorf(t * 0.5f); /* period 2: t in [0, 2) */
    if (t > 1.0f) {
        t = 2.0f - t; /* cos(pi t) = cos(pi (2 - t)) */
    }
    if (t > 0.5f) {
        return -cos_pi_quarter_turn(1.0f - t);
    }
    return cos_pi_quarter_turn(t);
}

float tt_lr_at(const tt_lr_schedule *schedule, uint32_t step)
{
    const float base = schedule->base;
    if (schedule->kind == TT_LR_STEP && schedule->steps > 0) {
        float rate = base;
        for (uint32_t k = step / schedule->steps; k > 0; --k) {
            rate *= schedule->factor;
        }
        return rate;
    }
    if (schedule->kind == TT_LR_COSINE && schedule->steps > 0) {
        const float final_rate = base * schedule->factor;
        const uint32_t done = step < schedule->steps ? step : schedule->steps;
        const float progress = (float)done / (float)schedule->steps;
        return final_rate + (base - final_rate) * (0.5f * (1.0f + tt_cos_pi(progress)));
    }
    return base;
}

/* ----------------------------------------------------------------------- divergence watch */

void tt_watch_init(tt_train_watch *watch, uint32_t window)
{
    watch->window = window > 0 ? window : 1;
    watch->count = 0;
    watch->sum = 0.0f;
    watch->first_mean = NAN;
    watch->best_mean = NAN;
    watch->flags = 0;
}

uint32_t tt_watch_loss(tt_train_watch *watch, float loss)
{
    uint32_t raised = 0;
    if (!isfinite(loss)) {
        raised |= TT_WATCH_NONFINITE_LOSS;
    } else {
        watch->sum += loss;
        if (++watch->count == watch->window) {
            const float mean = watch->sum / (float)watch->count;
            /* comparisons with NaN (no window closed yet) are false */
            if (mean > watch->first_mean && mean > TT_WATCH_RISING_RATIO * watch->best_mean) {
                raised |= TT_WATCH_LOSS_RISING;
            }
            if (watch->first_mean != watch->first_mean) {
                watch->first_mean = mean;
            }
            if (!(mean >= watch->best_mean)) {
                watch->best_mean = mean;
            }
            watch->count = 0;
            watch->sum = 0.0f;
        }
    }
    watch->flags |= raised;
    return raised;
}

size_t tt_count_at_limits_s8(const int8_t *values, size_t count, int32_t low, int32_t high)
{
    size_t at_limits = 0;
    for (size_t i = 0; i < count; ++i) {
        at_limits += values[i] <= low || values[i] >= high;
    }
    return at_limits;
}

uint32_t tt_watch_logits(tt_train_watch *watch, const int8_t *logits, size_t count)
{
    const size_t at_limits = tt_count_at_limits_s8(logits, count, -128, 127);
    const int saturated = count > 0 && (float)at_limits >= TT_WATCH_LOGITS_SHARE * (float)count;
    const uint32_t raised = saturated ? TT_WATCH_LOGITS_SATURATED : 0u;
    watch->flags |= raised;
    return raised;
}

uint32_t tt_watch_weights(tt_train_watch *watch, float share)
{
    const uint32_t raised = share > TT_WATCH_WEIGHTS_SHARE ? TT_WATCH_WEIGHTS_SATURATED : 0u;
    watch->flags |= raised;
    return raised;
}

const char *tt_watch_message(uint32_t flag)
{
    switch (flag) {
    case TT_WATCH_NONFINITE_LOSS:
        return "the loss is not finite: training diverged (lower the learning rate)";
    case TT_WATCH_LOSS_RISING:
        return "the loss is rising over a window: training may be diverging (lower the learning rate)";
    case TT_WATCH_LOGITS_SATURATED:
        return "most logits sit at the int8 limits, where the clamp passes no gradient: training is "
               "stuck (lower the learning rate)";
    case TT_WATCH_WEIGHTS_SATURATED:
        return "many trained weights sit at the int8 limits: updates are saturating (lower the "
               "learning rate)";
    default:
        return "unknown watch flag";
    }
}
