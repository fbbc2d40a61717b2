/*
 * tt_loss.c - softmax cross-entropy (mean over the batch) and its gradient, float32, fixed order.
 *
 * Layer: above tt_numerics.c (exp, log); nothing in the runtime calls it.
 */
#include <math.h>

#include "tt_internal.h"

/* One row of logits, int8 (with its scale) or float32. */
typedef struct {
    const int8_t *quantized; /* NULL for float logits */
    const float *real;
    float scale;
    int32_t classes;
    int32_t max_index; /* index of a largest logit */
} logit_row;

static logit_row quantized_row(const int8_t *logits, int32_t classes, float scale)
{
    logit_row row = {logits, NULL, scale, classes, 0};
    for (int32_t j = 1; j < classes; ++j) {
        if (logits[j] > logits[row.max_index]) {
            row.max_index = j;
        }
    }
    return row;
}

static logit_row real_row(const float *logits, int32_t classes)
{
    logit_row row = {NULL, logits, 1.0f, classes, 0};
    for (int32_t j = 1; j < classes; ++j) {
        if (logits[j] > logits[row.max_index]) {
            row.max_index = j;
        }
    }
    return row;
}

/* d_j = z_j - max z (<= 0): scale * (q_j - q_max) for int8 logits, one rounding. */
static float shifted_logit(const logit_row *row, int32_t j)
{
    if (row->quantized != NULL) {
        return row->scale * (float)((int32_t)row->quantized[j] - row->quantized[row->max_index]);
    }
    return row->real[j] - row->real[row->max_index];
}

/* sum_j exp(d_j), j ascending (>= 1: the largest logit contributes exp(0) = 1). */
static float softmax_denominator(const logit_row *row)
{
    float sum = 0.0f;
    for (int32_t j = 0; j < row->classes; ++j) {
        sum += tt_exp_f32(shifted_logit(row, j));
    }
    return sum;
}

static int label_is_valid(int32_t label, int32_t classes)
{
    return label >= 0 && label < classes;
}

/* -log softmax(z)[label] = log(sum_j exp(d_j)) - d_label. */
static float row_loss(const logit_row *row, int32_t label)
{
    if (!label_is_valid(label, row->classes)) {
        return NAN;
    }
    return tt_log_f32(softmax_denominator(row)) - shifted_logit(row, label);
}

/* grad_j = (exp(d_j) / sum - [j == label]) / batch. */
static void row_grad(const logit_row *row, int32_t label, int32_t batch, float *grad)
{
    if (!label_is_valid(label, row->classes)) {
        for (int32_t j = 0; j < row->classes; ++j) {
            grad[j] = NAN;
        }
        return;
    }
    const float sum = softmax_denominator(row);
    const float count = (float)batch;
    for (int32_t j = 0; j < row->classes; ++j) {
        float p = tt_exp_f32(shifted_logit(row, j)) / sum;
        if (j == label) {
            p -= 1.0f;
        }
        grad[j] = p / count;
    }
}

float tt_cross_entropy(int32_t batch, int32_t classes, float scale, int32_t zero_point,
                       const int8_t *logits, const int32_t *labels)
{
    (void)zero_point; /* softmax only sees differences of logits */
    float total = 0.0f;
    for (int32_t n = 0; n < batch; ++n) {
        const logit_row row = quantized_row(logits + (size_t)n * (size_t)classes, classes, scale);
        total += row_loss(&row, labels[n]);
    }
    return total / (float)batch;
}

void tt_cross_entropy_grad(int32_t batch, int32_t classes, float scale, int32_t zero_point,
                           const int8_t *logits, const int32_t *labels, float *grad)
{
    (void)zero_point;
    for (int32_t n = 0; n < batch; ++n) {
        const size_t offset = (size_t)n * (size_t)classes;
        const logit_row row = quantized_row(logits + offset, classes, scale);
        row_grad(&row, labels[n], batch, grad + offset);
    }
}

float tt_cross_entropy_f32(int32_t batch, int32_t classes, const float *logits,
                           const int32_t *labels)
{
    float total = 0.0f;
    for (int32_t n = 0; n < batch; ++n) {
        const logit_row row = real_row(logits + (size_t)n * (size_t)classes, classes);
        total += row_loss(&row, labels[n]);
    }
    return total / (float)batch;
}

void tt_cross_entropy_grad_f32(int32_t batch, int32_t classes, const float *logits,
                               const int32_t *labels, float *grad)
{
    for (int32_t n = 0; n < batch; ++n) {
        const size_t offset = (size_t)n * (size_t)classes;
        const logit_row row = real_row(logits + offset, classes);
        row_grad(&row, labels[n], batch, grad + offset);
    }
}
