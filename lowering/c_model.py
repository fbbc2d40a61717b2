"""The generated model: NAME.h (API), NAME.c (schedule), NAME_data.h / NAME_data.c (parameters).

API (NAME is the model name, UPPER its upper case):

    int    NAME_init(NAME_context *ctx, void *arena, size_t arena_bytes, uint32_t seed);
    int    NAME_inference(NAME_context *ctx, const int8_t *image, int8_t *logits);
    float  NAME_train_step(NAME_context *ctx, const int8_t *image, int32_t label, float learning_rate);
    size_t NAME_export_params(uint8_t *buffer, size_t buffer_bytes);
    int    NAME_import_params(const uint8_t *buffer, size_t bytes);
    int    NAME_checkpoint_save(NAME_context *ctx, const tt_flash *flash);
    int    NAME_checkpoint_load(NAME_context *ctx, const tt_flash *flash);
    float  NAME_weight_saturation(void);

Every bad argument has a documented result code (UPPER_ERROR_*) and changes nothing; the last
call's result is in ctx->status.

The arena belongs to the caller: UPPER_ARENA_BYTES bytes aligned to UPPER_ARENA_ALIGNMENT. `seed`
chooses where the stochastic-rounding counter starts (tt_rounding_counter_start; 0 reproduces
`tt-run`). The trained parameters are the
updated arrays in declaration order behind a header (format version, the model's layout hash,
CRC-32), UPPER_PARAMS_BYTES bytes in the target's byte order; import refuses anything else.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr, ModuleOp

from lowering.c_emitter import (
    SPLIT_ROW,
    ConstTables,
    FunctionEmitter,
    LoweringError,
    c_float,
    c_initializer,
    value_qtype,
    value_shape,
)
from lowering.params import CParam, c_identifier, collect_params
from lowering.profile import OpWork
from passes.memory.slices import split_scratch_bytes
from passes.memory_plan import ARENA_ATTR
from ttdialect.ir_io import find_function
from ttdialect.types import QTensorType

ARENA_ALIGNMENT = 8
RUNTIME_HEADER = "tt_runtime.h"
PARAMS_HEADER_BYTES = 20
"""TT_PARAMS_HEADER_BYTES of tt_runtime.h: magic, version, layout hash, size, CRC-32."""
CHECKPOINT_HEADER_BYTES = 32
"""tt_checkpoint_slot_bytes(0) of tt_runtime.h: the slot header."""


@dataclass(frozen=True)
class ModelFiles:
    """The generated sources by file name, and the figures the project writers print."""

    name: str
    files: dict[str, str]
    arena_bytes: int
    trainable: list[CParam]
    has_train_step: bool

    @property
    def trainable_bytes(self) -> int:
        """Bytes of the exported parameters (the updated arrays in declaration order)."""
        return sum(param.nbytes for param in self.trainable)


def _check_functions(module: ModuleOp) -> tuple[func.FuncOp, func.FuncOp | None]:
    names = [op.sym_name.data for op in module.ops if isinstance(op, func.FuncOp)]
    unknown = [n for n in names if n not in ("forward", "train_step")]
    if unknown:
        raise LoweringError(
            f"the C target lowers @forward and @train_step (tt-autodiff emit=updates); "
            f"@{unknown[0]} is not supported"
        )
    forward = find_function(module, "forward")
    if forward is None:
        raise LoweringError("the C target needs a @forward function")
    if len(forward.args) != 1 or len(forward.function_type.outputs.data) != 1:
        raise LoweringError("@forward must take one image and return the logits")
    step = find_function(module, "train_step")
    if step is not None:
        if len(step.args) != 2 or value_shape(step.args[0])[0] != 1:
            raise LoweringError("@train_step must take (image, label) with batch 1")
        outputs = step.function_type.outputs.data
        if len(outputs) != 1 or str(outputs[0]) != "f32":
            raise LoweringError(
                "@train_step must return only the loss (build it with tt-autodiff emit=updates)"
            )
    return forward, step


def _arena_bytes(function: func.FuncOp) -> int:
    attr = function.attributes.get(ARENA_ATTR)
    if not isinstance(attr, IntegerAttr):
        raise LoweringError(
            f"@{function.sym_name.data} is not planned: "
            "run tt-memory-plan (or tt-training-pipeline) before -t c"
        )
    return int(attr.value.data)


def _returned(function: func.FuncOp):
    ret = function.body.block.last_op
    assert isinstance(ret, func.ReturnOp)
    return ret.arguments


# --------------------------------------------------------------------------- NAME.c


def _forward_body(emitter: FunctionEmitter, upper: str) -> list[str]:
    image = emitter.function.args[0]
    body = [f"memcpy({emitter.buffer(image)}, image, {upper}_INPUT_BYTES);"]
    body += emitter.emit_body()
    (logits,) = _returned(emitter.function)
    body.append(f"memcpy(logits, {emitter.buffer(logits)}, {upper}_NUM_CLASSES);")
    return body


def _train_body(emitter: FunctionEmitter, upper: str) -> list[str]:
    image, label = emitter.function.args
    body = [
        f"memcpy({emitter.buffer(image)}, image, {upper}_INPUT_BYTES);",
        f"*{emitter.buffer(label)} = label;",
    ]
    body += emitter.emit_body()
    (loss,) = _returned(emitter.function)
    body.append(f"return {emitter.scalars[loss]};")
    return body


def _indent(lines: list[str]) -> str:
    return "\n".join("    " + line if line else "" for line in lines)


def _profile_lines(name: str, ops: list[OpWork]) -> list[str]:
    """The profile table and the TT_PROFILE_* macros the schedule uses (no-ops when unprofiled)."""
    records = [f'    {{"{w.op}", "{w.kind}", {w.macs}u}},' for w in ops] or ['    {"", "", 0u},']
    return [
        "#ifdef TT_PROFILE",
        f"static const {name}_profile_op profile_ops[{name.upper()}_PROFILE_OPS] = {{",
        *records,
        "};",
        "",
        f"const {name}_profile_op *{name}_profile_ops(void)",
        "{",
        "    return profile_ops;",
        "}",
        "",
        "/* Adds the clock since the last mark to op index - 1, then marks (after its own reads). */",
        f"static void profile_mark({name}_context *ctx, uint64_t *mark, int index)",
        "{",
        "    if (index > 0) {",
        "        ctx->profile[index - 1] += tt_profile_clock() - *mark;",
        "    }",
        "    *mark = tt_profile_clock();",
        "}",
        "#define TT_PROFILE_BEGIN() uint64_t profile_at = 0",
        "#define TT_PROFILE_OP(index) profile_mark(ctx, &profile_at, (index))",
        "#else",
        "#define TT_PROFILE_BEGIN() ((void)0)",
        "#define TT_PROFILE_OP(index) ((void)0)",
        "#endif",
    ]


def _schedule_file(
    name: str,
    params: dict[str, CParam],
    bodies: dict[str, list[str]],
    tables: ConstTables,
    split_row: int,
    profile: list[OpWork],
) -> str:
    trainable = [p for p in params.values() if p.trainable]
    row = [
        "/* The weight row the kernels of split weights (partial channel updates) assemble in. */",
        f"static int8_t {SPLIT_ROW}[{split_row}];",
        "",
    ]
    out = [
        f"/* {name}.c - generated by tt (lowering/c_model.py): the static schedule of the model. */",
        "#include <math.h>",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "#include <string.h>",
        "",
        f'#include "{RUNTIME_HEADER}"',
        f'#include "{name}.h"',
        f'#include "{name}_data.h"',
        "",
        "/* A typed pointer to the planned buffer at `offset` bytes into the arena. */",
        "#define TT_ARENA(type, offset) ((type *)(void *)(ctx->arena + (offset)))",
        "",
        *(row if split_row else []),
        *tables.lines,
        "",
        *_profile_lines(name, profile),
        "",
        *_init_and_inference(name, bodies["forward"]),
    ]
    if "train_step" in bodies:
        out += ["", *_train_step(name, bodies["train_step"])]
    out += ["", *_spans(name, trainable), "", *_export_import(name), "", *_checkpoints(name)]
    out += ["", *_weight_saturation(name, trainable)]
    return "\n".join(out) + "\n"


def _init_and_inference(name: str, forward: list[str]) -> list[str]:
    upper = name.upper()
    return [
        f"int {name}_init({name}_context *ctx, void *arena, size_t arena_bytes, uint32_t seed)",
        "{",
        f"    if (ctx == NULL || arena == NULL || arena_bytes < {upper}_ARENA_BYTES) {{",
        f"        return {upper}_ERROR_ARENA_SIZE;",
        "    }",
        f"    if ((uintptr_t)arena % {upper}_ARENA_ALIGNMENT != 0) {{",
        f"        return {upper}_ERROR_ARENA_ALIGNMENT;",
        "    }",
        "    ctx->arena = (uint8_t *)arena;",
        "    ctx->rng_counter = tt_rounding_counter_start(seed);",
        f"    ctx->magic = {upper}_CONTEXT_MAGIC;",
        f"    ctx->status = {upper}_OK;",
        "    ctx->saturated_steps = 0;",
        f"    ctx->initial_saturation = {name}_weight_saturation();",
        "#ifdef TT_PROFILE",
        "    memset(ctx->profile, 0, sizeof ctx->profile);",
        "#endif",
        f"    return {upper}_OK;",
        "}",
        "",
        f"/* 1 when ctx went through {name}_init (then its status is set), else 0. */",
        f"static int context_ok({name}_context *ctx)",
        "{",
        f"    return ctx != NULL && ctx->magic == {upper}_CONTEXT_MAGIC && ctx->arena != NULL;",
        "}",
        "",
        f"int {name}_inference({name}_context *ctx, const int8_t *image, int8_t *logits)",
        "{",
        "    if (!context_ok(ctx)) {",
        f"        return {upper}_ERROR_ARGUMENT;",
        "    }",
        "    if (image == NULL || logits == NULL) {",
        f"        return ctx->status = {upper}_ERROR_ARGUMENT;",
        "    }",
        _indent(forward),
        f"    return ctx->status = {upper}_OK;",
        "}",
    ]


def _train_step(name: str, body: list[str]) -> list[str]:
    upper = name.upper()
    return [
        "/* The schedule of one step (arguments checked by the caller). */",
        f"static float train_step_schedule({name}_context *ctx, const int8_t *image, int32_t label, "
        "float learning_rate)",
        "{",
        _indent(body),
        "}",
        "",
        f"float {name}_train_step({name}_context *ctx, const int8_t *image, int32_t label, "
        "float learning_rate)",
        "{",
        "    if (!context_ok(ctx)) {",
        "        return (float)NAN;",
        "    }",
        f"    ctx->status = image == NULL ? {upper}_ERROR_ARGUMENT"
        f"                : label < 0 || label >= {upper}_NUM_CLASSES ? {upper}_ERROR_LABEL"
        f"                : !(learning_rate > 0.0f && learning_rate <= {upper}_MAX_LEARNING_RATE) "
        f"? {upper}_ERROR_LEARNING_RATE : {upper}_OK;",
        f"    if (ctx->status != {upper}_OK) {{",
        "        return (float)NAN;",
        "    }",
        "    const float loss = train_step_schedule(ctx, image, label, learning_rate);",
        f"    if ({name}_weight_saturation() - ctx->initial_saturation > {upper}_SATURATION_LIMIT) {{",
        f"        ctx->status = {upper}_STATUS_SATURATED;",
        "        ++ctx->saturated_steps;",
        "    }",
        "    return loss;",
        "}",
    ]


def _spans(name: str, trainable: list[CParam]) -> list[str]:
    """The trained SRAM arrays as tt_spans, in the blob's order."""
    entries = [f"    {{{p.slice_name if p.split else p.c_name}, {p.nbytes}u}}," for p in trainable]
    return [
        "/* The trained arrays in SRAM, in the order of the parameter blob and the checkpoints. */",
        f"static const tt_span trained_spans[{max(len(entries), 1)}] = {{",
        *(entries or ["    {NULL, 0u},"]),
        "};",
        f"static const size_t trained_span_count = {len(entries)}u;",
    ]


def _params_status(upper: str) -> list[str]:
    """The model's code for a tt_params_* / tt_checkpoint_* result."""
    cases = [
        ("TT_PARAMS_ERROR_ARGUMENT", "ERROR_ARGUMENT"),
        ("TT_PARAMS_ERROR_SIZE", "ERROR_PARAMS_SIZE"),
        ("TT_PARAMS_ERROR_FORMAT", "ERROR_PARAMS_FORMAT"),
        ("TT_PARAMS_ERROR_MODEL", "ERROR_PARAMS_MODEL"),
        ("TT_PARAMS_ERROR_CRC", "ERROR_PARAMS_CRC"),
        ("TT_PARAMS_ERROR_FLASH", "ERROR_FLASH"),
        ("TT_PARAMS_ERROR_NO_CHECKPOINT", "ERROR_NO_CHECKPOINT"),
    ]
    lines = ["static int params_status(int result)", "{", "    switch (result) {"]
    for runtime, model in cases:
        lines += [f"    case {runtime}:", f"        return {upper}_{model};"]
    return lines + ["    default:", f"        return {upper}_OK;", "    }", "}"]


def _export_import(name: str) -> list[str]:
    upper = name.upper()
    return [
        *_params_status(upper),
        "",
        f"size_t {name}_export_params(uint8_t *buffer, size_t buffer_bytes)",
        "{",
        f"    return tt_params_export({upper}_LAYOUT_HASH, trained_spans, trained_span_count, buffer, "
        "buffer_bytes);",
        "}",
        "",
        f"int {name}_import_params(const uint8_t *buffer, size_t bytes)",
        "{",
        f"    return params_status(tt_params_import({upper}_LAYOUT_HASH, trained_spans, trained_span_count, "
        "buffer, bytes));",
        "}",
    ]


def _checkpoints(name: str) -> list[str]:
    upper = name.upper()
    lines = []
    for verb in ("save", "load"):
        lines += [
            f"int {name}_checkpoint_{verb}({name}_context *ctx, const tt_flash *flash)",
            "{",
            "    if (!context_ok(ctx)) {",
            f"        return {upper}_ERROR_ARGUMENT;",
            "    }",
            f"    return ctx->status = params_status(tt_checkpoint_{verb}(flash, {upper}_LAYOUT_HASH, "
            "trained_spans, trained_span_count));",
            "}",
            "",
        ]
    return lines[:-1]


def _weight_saturation(name: str, trainable: list[CParam]) -> list[str]:
    """NAME_weight_saturation(): the share of trained int8 weights at the update limits."""
    weights = [p for p in trainable if p.c_type == "int8_t"]
    if not weights:
        return [f"float {name}_weight_saturation(void)", "{", "    return 0.0f;", "}"]
    total = sum(p.sram_values.size for p in weights)
    counts = [
        f"    at_limits += tt_count_at_limits_s8({p.slice_name if p.split else p.c_name}, "
        f"{p.sram_values.size}, -127, 127);"
        for p in weights
    ]
    return [
        f"float {name}_weight_saturation(void)",
        "{",
        "    size_t at_limits = 0;",
        *counts,
        f"    return (float)at_limits / {c_float(float(total))};",
        "}",
    ]


# --------------------------------------------------------------------------- NAME.h


def layout_hash(trainable: list[CParam]) -> int:
    """The model's identity in its parameter blobs: CRC-32 of every trained array's name, type,
    shape and trained channels, in the blob's order."""
    parts = []
    for param in trainable:
        split = "" if param.split is None else f"{param.split.axis}:{list(param.split.channels)}"
        parts.append(f"{param.symbol}|{param.c_type}|{list(param.values.shape)}|{split}")
    return zlib.crc32("\n".join(parts).encode())


def trained_arrays(model: ModelFiles, blob: bytes) -> dict[str, np.ndarray]:
    """The trained SRAM arrays (split weights: their trained channels) of an exported blob, by
    symbol, after checking its header (little endian, as on the host and the Cortex-M7)."""
    header = struct.unpack_from("<4sIIII", blob) if len(blob) >= PARAMS_HEADER_BYTES else None
    payload = blob[PARAMS_HEADER_BYTES:]
    if (
        header is None
        or header[:3] != (b"TTPR", 1, layout_hash(model.trainable))
        or header[3] != len(payload)
    ):
        raise ValueError(f"not a parameter blob of this model ({len(blob)} bytes)")
    if zlib.crc32(payload) != header[4]:
        raise ValueError("the parameter blob's CRC-32 does not match")
    arrays, offset = {}, 0
    for param in model.trainable:
        dtype = np.dtype(param.values.dtype).newbyteorder("<")
        data = np.frombuffer(payload[offset : offset + param.nbytes], dtype=dtype)
        arrays[param.symbol] = data.reshape(param.sram_values.shape).astype(param.values.dtype)
        offset += param.nbytes
    if offset != len(payload):
        raise ValueError(f"the blob holds {len(payload)} bytes of parameters, the model {offset}")
    return arrays


def _image_hwc(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """Height, width, channels of the input: [N, H, W, C]; a [N, K] input is a 1x1xK image."""
    if len(shape) == 4:
        return shape[1], shape[2], shape[3]
    if len(shape) == 2:
        return 1, 1, shape[1]
    raise LoweringError(f"@forward's input must be [N, H, W, C] or [N, K], got {list(shape)}")


def _result_codes(upper: str) -> list[str]:
    codes = [
        ("OK", "0", ""),
        ("ERROR_ARENA_SIZE", "(-1)", f"arena NULL or smaller than {upper}_ARENA_BYTES"),
        ("ERROR_ARENA_ALIGNMENT", "(-2)", f"arena not aligned to {upper}_ARENA_ALIGNMENT"),
        ("ERROR_PARAMS_SIZE", "(-3)", f"a parameter blob of another size than {upper}_PARAMS_BYTES"),
        ("ERROR_ARGUMENT", "(-4)", "ctx not initialised, or a NULL image, logits, buffer or flash"),
        ("ERROR_LABEL", "(-5)", f"label outside [0, {upper}_NUM_CLASSES)"),
        ("ERROR_LEARNING_RATE", "(-6)", f"learning rate not in (0, {upper}_MAX_LEARNING_RATE]"),
        ("ERROR_PARAMS_FORMAT", "(-7)", "not a parameter blob of this format version"),
        ("ERROR_PARAMS_MODEL", "(-8)", "the parameters of another model"),
        ("ERROR_PARAMS_CRC", "(-9)", "a damaged parameter blob (CRC-32)"),
        ("ERROR_FLASH", "(-10)", "a flash callback failed"),
        ("ERROR_NO_CHECKPOINT", "(-11)", "no valid checkpoint in either flash slot"),
        ("STATUS_SATURATED", "1", "warning: the step saturated the trained weights (see train_step)"),
    ]
    lines = [
        f"#define {upper}_{code} {value}" + (f" /* {note} */" if note else "") for code, value, note in codes
    ]
    return lines + [
        f"#define {upper}_MAX_LEARNING_RATE 1e4f /* larger rates are refused as certainly wrong */",
        f"#define {upper}_SATURATION_LIMIT TT_WATCH_WEIGHTS_SHARE",
    ]


def _header_file(
    name: str,
    forward: func.FuncOp,
    step: func.FuncOp | None,
    arena: int,
    params_bytes: int,
    learning_rate: float | None,
    profile_ops: int,
    layout_hash: int,
) -> str:
    upper = name.upper()
    image = value_qtype(forward.args[0])
    (logits_value,) = forward.function_type.outputs.data
    assert isinstance(logits_value, QTensorType)
    h, w, c = _image_hwc(image.get_shape())
    guard = f"{upper}_H"
    macros = [
        ("ARENA_BYTES", f"{arena}u", "the caller-owned arena (activations, gradients, scratch)"),
        ("ARENA_ALIGNMENT", f"{ARENA_ALIGNMENT}u", "required alignment of the arena, in bytes"),
        ("INPUT_HEIGHT", str(h), "image: int8 NHWC, batch 1"),
        ("INPUT_WIDTH", str(w), ""),
        ("INPUT_CHANNELS", str(c), ""),
        ("INPUT_BYTES", str(h * w * c), ""),
        ("INPUT_SCALE", c_float(image.real_scale), "real = scale * (q - zero_point)"),
        ("INPUT_ZERO_POINT", str(image.zp), ""),
        ("NUM_CLASSES", str(logits_value.get_shape()[1]), "logits: int8 [NUM_CLASSES]"),
        ("LOGITS_SCALE", c_float(logits_value.real_scale), ""),
        ("LOGITS_ZERO_POINT", str(logits_value.zp), ""),
        ("PARAMS_BYTES", f"{PARAMS_HEADER_BYTES + params_bytes}u", "an export: header + trained parameters"),
        (
            "LAYOUT_HASH",
            f"0x{layout_hash:08x}u",
            "CRC-32 of the trained arrays' layout (the blob's model id)",
        ),
        (
            "CHECKPOINT_SLOT_BYTES",
            f"{CHECKPOINT_HEADER_BYTES + params_bytes}u",
            "a flash slot: header + parameters",
        ),
        ("CONTEXT_MAGIC", f"0x{layout_hash ^ 0x7474C0DE:08x}u", "ctx->magic of an initialised context"),
        ("HAS_TRAIN_STEP", "1" if step is not None else "0", ""),
    ]
    if learning_rate is not None:
        macros.append(("LEARNING_RATE", c_float(learning_rate), "the rate the step was compiled with"))
    defines = []
    for macro, value, note in macros:
        comment = f" /* {note} */" if note else ""
        defines.append(f"#define {upper}_{macro} {value}{comment}")
    lines = [
        f"/* {name}.h - generated by tt (lowering/c_model.py): on-device training API of `{name}`. */",
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "",
        f'#include "{RUNTIME_HEADER}"',
        "",
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
        *defines,
        "",
        *_result_codes(upper),
        "",
        f"#define {upper}_PROFILE_OPS {max(profile_ops, 1)} /* ops of the train step (-DTT_PROFILE) */",
        "",
        "/* The run-time state: the arena, the stochastic-rounding counter, the result of the last",
        " * call (and, in a -DTT_PROFILE build, the instructions each op of the train step took). */",
        "typedef struct {",
        "    uint8_t *arena;",
        "    uint32_t rng_counter;",
        f"    uint32_t magic;            /* {upper}_CONTEXT_MAGIC once {name}_init succeeded */",
        f"    int32_t status;            /* the last call's result: {upper}_OK, an error (< 0), a warning */",
        f"    uint32_t saturated_steps;  /* steps that ended with {upper}_STATUS_SATURATED */",
        "    float initial_saturation; /* share of trained int8 weights at +-127 after init */",
        "#ifdef TT_PROFILE",
        f"    uint64_t profile[{upper}_PROFILE_OPS];",
        "#endif",
        f"}} {name}_context;",
        "",
        f"/* Binds the arena to ctx and seeds the rounding counter; {upper}_OK or an error code. */",
        f"int {name}_init({name}_context *ctx, void *arena, size_t arena_bytes, uint32_t seed);",
        "",
        f"/* The int8 logits [{upper}_NUM_CLASSES] of one image; {upper}_OK, or {upper}_ERROR_ARGUMENT",
        " * (ctx not initialised, image or logits NULL: nothing written). */",
        f"int {name}_inference({name}_context *ctx, const int8_t *image, int8_t *logits);",
        "",
    ]
    if step is not None:
        lines += [
            "/* One SGD step on (image, label): forward, loss, backward and the in-place updates of the",
            " * trainable parameters. Returns the loss before the update. A bad argument changes nothing",
            f" * and returns NaN, ctx->status saying why: {upper}_ERROR_ARGUMENT (ctx not initialised,",
            f" * image NULL), {upper}_ERROR_LABEL (outside [0, {upper}_NUM_CLASSES)),",
            f" * {upper}_ERROR_LEARNING_RATE (not in (0, {upper}_MAX_LEARNING_RATE]). A step after which",
            f" * more than {upper}_SATURATION_LIMIT of the trained int8 weights sit at +-127 (beyond the",
            f" * share after init) sets ctx->status to {upper}_STATUS_SATURATED and counts in",
            " * ctx->saturated_steps: the run is diverging (lower the learning rate). */",
            f"float {name}_train_step({name}_context *ctx, const int8_t *image, int32_t label, "
            "float learning_rate);",
            "",
        ]
    lines += [
        "#ifdef TT_PROFILE",
        "/* Profiled build: the application supplies the clock (instructions on the QEMU board). */",
        "uint64_t tt_profile_clock(void);",
        "",
        "/* One op of the train step: its name, kernel kind and multiply-accumulates (0: none). */",
        "typedef struct {",
        "    const char *op;",
        "    const char *kind;",
        "    uint64_t macs;",
        f"}} {name}_profile_op;",
        "",
        f"/* The {upper}_PROFILE_OPS ops of the train step, in the order of ctx->profile. */",
        f"const {name}_profile_op *{name}_profile_ops(void);",
        "#endif",
        "",
        "/* The trained parameters as a blob (tt_runtime.h: format version, this model's layout hash",
        f" * {upper}_LAYOUT_HASH, CRC-32); {upper}_PARAMS_BYTES, or 0 if buffer is NULL or too small. */",
        f"size_t {name}_export_params(uint8_t *buffer, size_t buffer_bytes);",
        "",
        f"/* Restores a blob of {name}_export_params: {upper}_OK, or (parameters unchanged)",
        f" * {upper}_ERROR_ARGUMENT, _PARAMS_SIZE, _PARAMS_FORMAT (not a blob, another version),",
        " * _PARAMS_MODEL (another model's) or _PARAMS_CRC (damaged). */",
        f"int {name}_import_params(const uint8_t *buffer, size_t bytes);",
        "",
        "/* Power-fail-safe parameter store in two flash slots (tt_flash and the rules in tt_runtime.h;",
        f" * each slot needs {upper}_CHECKPOINT_SLOT_BYTES, rounded up to whole pages). A save writes",
        " * the slot not holding the newest checkpoint, header last; a load takes the newest slot",
        f" * whose CRCs check out. {upper}_OK, or {upper}_ERROR_ARGUMENT, _FLASH, _NO_CHECKPOINT. */",
        f"int {name}_checkpoint_save({name}_context *ctx, const tt_flash *flash);",
        f"int {name}_checkpoint_load({name}_context *ctx, const tt_flash *flash);",
        "",
        "/* The share of the trained int8 weights at the update's limits (-127 or 127): a diverging run",
        " * drives it up (tt_watch_weights in tt_runtime.h); 0 when no int8 weight is trained. */",
        f"float {name}_weight_saturation(void);",
        "",
        "#ifdef __cplusplus",
        "}",
        "#endif",
        "",
        f"#endif /* {guard} */",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- NAME_data.*


def _param_data(param: CParam, used_scales: set[str]) -> tuple[list[str], list[str]]:
    """Declarations and definitions of one parameter (and its scales when some kernel reads them)."""
    size = param.values.size
    if param.split is not None:
        split = param.split
        count = len(split.channels)
        channels = np.asarray(split.channels, dtype=np.int32)
        decls = [
            f"extern const int8_t {param.c_name}[{size}]; /* @{param.symbol}, flash */",
            f"extern int8_t {param.slice_name}[{param.sram_values.size}]; /* its {count} trained channels "
            f"on axis {split.axis}, SRAM */",
            f"extern const tt_split_weight {param.split_name};",
        ]
        defs = [
            f"const int8_t {param.c_name}[{size}] = {c_initializer(param.values)};",
            f"int8_t {param.slice_name}[{param.sram_values.size}] = {c_initializer(param.sram_values)};",
            f"static const int32_t {param.c_name}_channels[{count}] = {c_initializer(channels)};",
            f"const tt_split_weight {param.split_name} = {{{param.c_name}, {param.slice_name}, "
            f"{param.c_name}_channels, {count}, {split.axis}}};",
        ]
    else:
        storage = "" if param.trainable else "const "
        where = "SRAM, updated in place" if param.trainable else "flash"
        decls = [f"extern {storage}{param.c_type} {param.c_name}[{size}]; /* @{param.symbol}, {where} */"]
        defs = [f"{storage}{param.c_type} {param.c_name}[{size}] = {c_initializer(param.values)};"]
    if param.scales is not None and param.scales_name in used_scales:
        decls.append(f"extern const float {param.scales_name}[{param.scales.size}];")
        defs.append(f"const float {param.scales_name}[{param.scales.size}] = {c_initializer(param.scales)};")
    return decls, defs


def _data_files(name: str, params: dict[str, CParam], used_scales: set[str]) -> tuple[str, str]:
    decls, defs = [], []
    for param in params.values():
        param_decls, param_defs = _param_data(param, used_scales)
        decls += param_decls
        defs += param_defs
    guard = f"{name.upper()}_DATA_H"
    header = "\n".join(
        [
            f"/* {name}_data.h - generated by tt: the parameters of `{name}` (private to {name}.c). */",
            f"#ifndef {guard}",
            f"#define {guard}",
            "",
            "#include <stdint.h>",
            "",
            f'#include "{RUNTIME_HEADER}"',
            "",
            *decls,
            "",
            f"#endif /* {guard} */",
        ]
    )
    source = "\n".join(
        [
            f"/* {name}_data.c - generated by tt: parameters (frozen: const, flash; trainable: SRAM). */",
            f'#include "{name}_data.h"',
            "",
            *defs,
        ]
    )
    return header + "\n", source + "\n"


# --------------------------------------------------------------------------- entry point


C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if inline int "
    "long register restrict return short signed sizeof static struct switch typedef union unsigned void "
    "volatile while _Bool _Complex _Imaginary".split()
)
PROJECT_FILES = frozenset({"main", "data_main", "samples", "tt_app", "board", "startup", "report"})
C_HEADERS = frozenset(
    "assert complex ctype errno fenv float inttypes iso646 limits locale math setjmp signal stdarg stdbool "
    "stddef stdint stdio stdlib string tgmath time wchar wctype arm_acle".split()
)


def check_model_name(name: str) -> None:
    """Refuse a model name whose C files or symbols would clash with the project's own: not a C
    identifier, a C keyword, reserved (`_X...`, `__...`), the runtime's or board's prefix, a file of
    the project (`main` -> main.c) or a C library header (`math` -> math.h shadows <math.h>)."""
    problem = None
    if c_identifier(name) != name:
        problem = f"is not a C identifier (try '{c_identifier(name)}')"
    elif name in C_KEYWORDS or re.match(r"_[A-Z_]", name):
        problem = "is a C keyword or a reserved identifier"
    elif name.lower() in PROJECT_FILES or name.lower() in C_HEADERS:
        problem = "would name a file the project or the C library already has (e.g. main.c, math.h)"
    elif re.match(r"(tt|board|samples)_", name.lower()):
        problem = "starts with a prefix the runtime, the board or the samples use (tt_, board_, samples_)"
    if problem:
        raise LoweringError(f"model name '{name}' {problem}; choose another (tt-compile --name)")


def emit_model(module: ModuleOp, base_dir: Path, name: str) -> ModelFiles:
    """The C sources of a planned module (see the module docstring)."""
    check_model_name(name)
    forward, step = _check_functions(module)
    arena = max(_arena_bytes(f) for f in (forward, step) if f is not None)
    params = collect_params(module, base_dir, name)
    tables = ConstTables()
    upper = name.upper()
    bodies: dict[str, list[str]] = {}
    emitters: list[FunctionEmitter] = []
    for function, build in ((forward, _forward_body), (step, _train_body)):
        if function is None:
            continue
        emitter = FunctionEmitter(function, params, tables, profile=[] if function is step else None)
        bodies[function.sym_name.data] = build(emitter, upper)
        emitters.append(emitter)
    trainable = [p for p in params.values() if p.trainable]
    trainable_bytes = sum(p.nbytes for p in trainable)
    learning_rate = _compiled_learning_rate(emitters)
    used_scales = {name for e in emitters for name in e.used_scales}
    data_h, data_c = _data_files(name, params, used_scales)
    profile = next((e.profile for e in emitters if e.profile is not None), [])
    files = {
        f"{name}.h": _header_file(
            name, forward, step, arena, trainable_bytes, learning_rate, len(profile), layout_hash(trainable)
        ),
        f"{name}.c": _schedule_file(name, params, bodies, tables, split_scratch_bytes(module), profile),
        f"{name}_data.h": data_h,
        f"{name}_data.c": data_c,
    }
    return ModelFiles(name, files, arena, trainable, step is not None)


def _compiled_learning_rate(emitters: list[FunctionEmitter]) -> float | None:
    for emitter in emitters:
        if emitter.learning_rate is not None:
            value = emitter.learning_rate.owner.value  # type: ignore[union-attr]
            return float(value.value.data)
    return None
