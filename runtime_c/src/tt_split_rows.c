/*
 * tt_split_rows.c - the rows of a split weight (tt_split_weight: a const frozen weight plus an
 * SRAM slice of the updated channels) and the position of a channel in its slice.
 *
 * Layer: bottom (calls no other runtime file). The forward, input-gradient and update kernels
 * read split weights through these helpers (tt_weight_row in tt_internal.h, the pointwise
 * input gradient's weight columns); the *_split kernels above them live in tt_split.c.
 */
#include <string.h>

#include "tt_internal.h"

int32_t tt_split_channel_lower_bound(const tt_split_weight *split, int32_t channel)
{
    int32_t low = 0;
    int32_t high = split->count;
    while (low < high) {
        const int32_t middle = low + (high - low) / 2;
        if (split->channels[middle] < channel) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    return low;
}

int32_t tt_split_channel_index(const tt_split_weight *split, int32_t channel)
{
    const int32_t low = tt_split_channel_lower_bound(split, channel);
    return low < split->count && split->channels[low] == channel ? low : -1;
}

/* Row o assembled in scratch: the frozen row [taps, cols], then the slice row [taps, count]
 * written over the updated channels of each tap. */
static const int8_t *assembled_row(const tt_weight_rows *rows, int32_t o)
{
    const tt_split_weight *w = rows->split;
    const size_t taps = rows->row_size / (size_t)rows->cols;
    const int8_t *slice_row = w->slice + (size_t)o * taps * (size_t)w->count;
    int8_t *row = rows->scratch;
    memcpy(row, w->frozen + (size_t)o * rows->row_size, rows->row_size);
    for (size_t t = 0; t < taps; ++t) {
        int8_t *tap = row + t * (size_t)rows->cols;
        const int8_t *values = slice_row + t * (size_t)w->count;
        for (int32_t j = 0; j < w->count; ++j) {
            tap[w->channels[j]] = values[j];
        }
    }
    return row;
}

const int8_t *tt_split_row(const tt_weight_rows *rows, int32_t o)
{
    const tt_split_weight *w = rows->split;
    if (w->axis != 0) {
        return assembled_row(rows, o);
    }
    const int32_t index = tt_split_channel_index(w, o);
    if (index < 0) {
        return w->frozen + (size_t)o * rows->row_size;
    }
    return w->slice + (size_t)index * rows->row_size;
}
