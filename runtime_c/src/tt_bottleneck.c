/*
 * tt_bottleneck.c - tt.bottleneck: [expand ->] depthwise KHxKW -> project 1x1, row-streamed.
 *
 * The expanded tensor is produced one row at a time into a ring of kernel_h rows, the depthwise
 * conv of one output row reads its rows from the ring, and the project conv turns that row into
 * one output row. The expand and project convs are tt_conv2d producing one row, the depthwise
 * row is tt_conv2d's depthwise loop (tt_depthwise_rows) reading its rows from the ring, so
 * every value is the same as the unfused convs'.
 *
 * Layer: above tt_conv_s8.c and tt_forward.c (conv geometry); nothing in the runtime calls it.
 */
#include "tt_conv_s8.h"

/* Where the depthwise conv of one image reads its input rows from. */
typedef struct {
    const tt_bottleneck_shape *shape;
    const tt_conv_stage *expand;
    const int8_t *image;  /* input rows of the current image, [input_h, input_w, input_c] */
    int8_t *ring;         /* kernel_h rows of [hidden_w, hidden_c] (with an expand conv) */
    int32_t next_row;     /* expanded rows below this one are done (or never needed) */
} row_source;

int tt_bottleneck_shape_is_valid(const tt_bottleneck_shape *s)
{
    const int32_t sizes[] = {s->batch,           s->input_h,         s->input_w,
                             s->input_c,         s->hidden_h,        s->hidden_w,
                             s->hidden_c,        s->output_h,        s->output_w,
                             s->output_c,        s->kernel_h,        s->kernel_w,
                             s->stride_h,        s->stride_w,        s->expand_kernel_h,
                             s->expand_kernel_w, s->expand_stride_h, s->expand_stride_w};
    if (!tt_all_positive(sizes, sizeof sizes / sizeof sizes[0])) {
        return 0;
    }
    if (s->pad_h < 0 || s->pad_w < 0 || s->expand_pad_h < 0 || s->expand_pad_w < 0 ||
        (s->has_expand != 0 && s->has_expand != 1)) {
        return 0;
    }
    if (!s->has_expand) {
        const int identity = s->expand_kernel_h == 1 && s->expand_kernel_w == 1 &&
                             s->expand_stride_h == 1 && s->expand_stride_w == 1 &&
                             s->expand_pad_h == 0 && s->expand_pad_w == 0;
        if (!identity || s->hidden_c != s->input_c) {
            return 0;
        }
    }
    return s->hidden_h == tt_conv_output_size(s->input_h, s->expand_kernel_h, s->expand_stride_h,
                                              s->expand_pad_h) &&
           s->hidden_w == tt_conv_output_size(s->input_w, s->expand_kernel_w, s->expand_stride_w,
                                              s->expand_pad_w) &&
           s->output_h == tt_conv_output_size(s->hidden_h, s->kernel_h, s->stride_h, s->pad_h) &&
           s->output_w == tt_conv_output_size(s->hidden_w, s->kernel_w, s->stride_w, s->pad_w);
}

static size_t ring_size(const tt_bottleneck_shape *s)
{
    if (!s->has_expand) {
        return 0;
    }
    return (size_t)s->kernel_h * (size_t)s->hidden_w * (size_t)s->hidden_c;
}

size_t tt_bottleneck_scratch_size(const tt_bottleneck_shape *s)
{
    return ring_size(s) + (size_t)s->output_w * (size_t)s->hidden_c;
}

static size_t hidden_row_size(const tt_bottleneck_shape *s)
{
    return (size_t)s->hidden_w * (size_t)s->hidden_c;
}

/* The three convs' geometries, built one at a time in the same slots of tt_bottleneck's frame
 * (their loops are called from there, so that no frame of a helper lies under them). */
typedef struct {
    tt_conv_shape shape;
    tt_weight_rows rows;
    tt_row_ring ring;
} stage_call;

/* Expanded row `row` into slot: output row 0 of the expand conv on the input rows from the
 * first one its kernel covers (the rows above it, if any, are its top padding; the bottom
 * padding is the input's own end), i.e. tt_conv2d's value for that row. */
static void expand_row(const row_source *src, stage_call *call, int32_t row, int8_t *slot)
{
    const tt_bottleneck_shape *s = src->shape;
    const int32_t origin = row * s->expand_stride_h - s->expand_pad_h;
    const int32_t first = origin < 0 ? 0 : origin;
    tt_conv_shape *window = &call->shape;
    window->batch = 1;
    window->input_h = s->input_h - first;
    window->input_w = s->input_w;
    window->input_c = s->input_c;
    window->output_h = 1;
    window->output_w = s->hidden_w;
    window->output_c = s->hidden_c;
    window->kernel_h = s->expand_kernel_h;
    window->kernel_w = s->expand_kernel_w;
    window->stride_h = s->expand_stride_h;
    window->stride_w = s->expand_stride_w;
    window->pad_h = first - origin;
    window->pad_w = s->expand_pad_w;
    window->groups = 1;
    call->rows = tt_complete_rows(src->expand->weight, tt_conv2d_weight_row_size(window));
    const size_t input_row = (size_t)s->input_w * (size_t)s->input_c;
    tt_conv2d_regular_rows(window, src->expand->quant, src->image + (size_t)first * input_row,
                           &call->rows, src->expand->bias, slot);
}

/* Expanded rows [first, end) made available (each computed at most once per image). */
static void prepare_rows(row_source *src, stage_call *call, int32_t first, int32_t end)
{
    const tt_bottleneck_shape *s = src->shape;
    if (!s->has_expand) {
        return;
    }
    if (src->next_row < first) {
        src->next_row = first; /* rows in between are skipped by the stride: never needed */
    }
    for (; src->next_row < end; ++src->next_row) {
        const int32_t row = src->next_row;
        expand_row(src, call, row,
                   src->ring + (size_t)(row % s->kernel_h) * hidden_row_size(s));
    }
}

/* Depthwise output row `oh` into dw_row [output_w, hidden_c], its input rows prepared. */
static void depthwise_row(const row_source *src, stage_call *call, const tt_conv_stage *dw,
                          int32_t oh, int8_t *dw_row)
{
    const tt_bottleneck_shape *s = src->shape;
    tt_conv_shape *shape = &call->shape;
    shape->batch = 1;
    shape->input_h = s->hidden_h;
    shape->input_w = s->hidden_w;
    shape->input_c = s->hidden_c;
    shape->output_h = s->output_h;
    shape->output_w = s->output_w;
    shape->output_c = s->hidden_c;
    shape->kernel_h = s->kernel_h;
    shape->kernel_w = s->kernel_w;
    shape->stride_h = s->stride_h;
    shape->stride_w = s->stride_w;
    shape->pad_h = s->pad_h;
    shape->pad_w = s->pad_w;
    shape->groups = s->hidden_c;
    call->ring.base = s->has_expand ? src->ring : src->image;
    call->ring.row_bytes = hidden_row_size(s);
    call->ring.ring = s->has_expand ? s->kernel_h : s->hidden_h;
    call->rows = tt_complete_rows(dw->weight, (size_t)s->kernel_h * (size_t)s->kernel_w);
    tt_depthwise_rows(&call->shape, dw->quant, &call->ring, &call->rows, dw->bias, oh, oh + 1,
                      dw_row);
}

/* Output row [output_w, output_c] of the project conv (1x1) from the depthwise row. */
static void project_row(const tt_bottleneck_shape *s, stage_call *call,
                        const tt_conv_stage *project, const int8_t *dw_row, int8_t *out)
{
    tt_conv_shape *shape = &call->shape;
    shape->batch = shape->input_h = shape->output_h = 1;
    shape->input_w = shape->output_w = s->output_w;
    shape->input_c = s->hidden_c;
    shape->output_c = s->output_c;
    shape->kernel_h = shape->kernel_w = shape->stride_h = shape->stride_w = 1;
    shape->pad_h = shape->pad_w = 0;
    shape->groups = 1;
    call->rows = tt_complete_rows(project->weight, (size_t)s->hidden_c);
    tt_conv2d_regular_rows(&call->shape, project->quant, dw_row, &call->rows, project->bias, out);
}

void tt_bottleneck(const tt_bottleneck_shape *shape, const tt_conv_stage *expand,
                   const tt_conv_stage *depthwise, const tt_conv_stage *project,
                   const int8_t *input, int8_t *output, int8_t *scratch)
{
    const tt_bottleneck_shape *s = shape;
    const size_t image_size = (size_t)s->input_h * (size_t)s->input_w * (size_t)s->input_c;
    const size_t output_row = (size_t)s->output_w * (size_t)s->output_c;
    int8_t *dw_row = scratch + ring_size(s);
    stage_call call;
    for (int32_t n = 0; n < s->batch; ++n) {
        row_source src = {s, expand, input + (size_t)n * image_size, scratch, 0};
        for (int32_t oh = 0; oh < s->output_h; ++oh) {
            const int32_t ih0 = oh * s->stride_h - s->pad_h;
            const int32_t first = ih0 < 0 ? 0 : ih0;
            const int32_t end = ih0 + s->kernel_h < s->hidden_h ? ih0 + s->kernel_h : s->hidden_h;
            prepare_rows(&src, &call, first, end);
            depthwise_row(&src, &call, depthwise, oh, dw_row);
            int8_t *out = output + ((size_t)n * (size_t)s->output_h + (size_t)oh) * output_row;
            project_row(s, &call, project, dw_row, out);
        }
    }
}
