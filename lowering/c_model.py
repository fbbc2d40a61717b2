"""The generated model: NAME.h (API), NAME.c (schedule), NAME_data.h / NAME_data.c (parameters).

API (NAME is the model name, UPPER its upper case):

    int    NAME_init(NAME_context *ctx, void *arena, size_t arena_bytes, uint32_t seed);
    void   NAME_inference(NAME_context *ctx, const int8_t *image, int8_t *logits);
    float  NAME_train_step(NAME_context *ctx, const int8_t *image, int32_t label, float learning_rate);
    size_t NAME_export_params(uint8_t *buffer, size_t buffer_bytes);
    int    NAME_import_params(const uint8_t *buffer, size_t bytes);

The arena belongs to the caller: UPPER_ARENA_BYTES bytes aligned to UPPER_ARENA_ALIGNMENT. `seed`
starts the stochastic-rounding counter (0 reproduces `tt-run`). The trained parameters are the
updated arrays in declaration order, UPPER_PARAMS_BYTES bytes in the target's byte order.
"""

from __future__ import annotations

import re
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
from passes.autodiff import find_function
from passes.memory.slices import split_scratch_bytes
from passes.memory_plan import ARENA_ATTR
from ttdialect.types import QTensorType

ARENA_ALIGNMENT = 8
RUNTIME_HEADER = "tt_runtime.h"


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
        f"if (label < 0 || label >= {upper}_NUM_CLASSES) {{",
        "    return (float)NAN;",
        "}",
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
    upper = name.upper()
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
        f"int {name}_init({name}_context *ctx, void *arena, size_t arena_bytes, uint32_t seed)",
        "{",
        f"    if (ctx == NULL || arena == NULL || arena_bytes < {upper}_ARENA_BYTES) {{",
        f"        return {upper}_ERROR_ARENA_SIZE;",
        "    }",
        f"    if ((uintptr_t)arena % {upper}_ARENA_ALIGNMENT != 0) {{",
        f"        return {upper}_ERROR_ARENA_ALIGNMENT;",
        "    }",
        "    ctx->arena = (uint8_t *)arena;",
        "    ctx->rng_counter = seed;",
        "#ifdef TT_PROFILE",
        "    memset(ctx->profile, 0, sizeof ctx->profile);",
        "#endif",
        f"    return {upper}_OK;",
        "}",
        "",
        f"void {name}_inference({name}_context *ctx, const int8_t *image, int8_t *logits)",
        "{",
        _indent(bodies["forward"]),
        "}",
    ]
    if "train_step" in bodies:
        out += [
            "",
            f"float {name}_train_step({name}_context *ctx, const int8_t *image, int32_t label, "
            "float learning_rate)",
            "{",
            _indent(bodies["train_step"]),
            "}",
        ]
    out += ["", *_export_import(name, trainable), "", *_weight_saturation(name, trainable)]
    return "\n".join(out) + "\n"


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


def _export_import(name: str, trainable: list[CParam]) -> list[str]:
    upper = name.upper()
    packed = [(p.slice_name if p.split else p.c_name, p.nbytes, offset) for p, offset in _packed(trainable)]
    export = [f"    memcpy(buffer + {offset}, {array}, {size});" for array, size, offset in packed]
    load = [f"    memcpy({array}, buffer + {offset}, {size});" for array, size, offset in packed]
    return [
        f"size_t {name}_export_params(uint8_t *buffer, size_t buffer_bytes)",
        "{",
        f"    if (buffer == NULL || buffer_bytes < {upper}_PARAMS_BYTES) {{",
        "        return 0;",
        "    }",
        *export,
        f"    return {upper}_PARAMS_BYTES;",
        "}",
        "",
        f"int {name}_import_params(const uint8_t *buffer, size_t bytes)",
        "{",
        f"    if (buffer == NULL || bytes != {upper}_PARAMS_BYTES) {{",
        f"        return {upper}_ERROR_PARAMS_SIZE;",
        "    }",
        *load,
        f"    return {upper}_OK;",
        "}",
    ]


def _packed(trainable: list[CParam]) -> list[tuple[CParam, int]]:
    offsets, offset = [], 0
    for param in trainable:
        offsets.append((param, offset))
        offset += param.nbytes
    return offsets


# --------------------------------------------------------------------------- NAME.h


def _header_file(
    name: str,
    forward: func.FuncOp,
    step: func.FuncOp | None,
    arena: int,
    params_bytes: int,
    learning_rate: float | None,
    profile_ops: int,
) -> str:
    upper = name.upper()
    image = value_qtype(forward.args[0])
    (logits_value,) = forward.function_type.outputs.data
    assert isinstance(logits_value, QTensorType)
    _, h, w, c = image.get_shape()
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
        ("PARAMS_BYTES", f"{params_bytes}u", "size of an export of the trained parameters"),
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
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
        *defines,
        "",
        f"#define {upper}_OK 0",
        f"#define {upper}_ERROR_ARENA_SIZE (-1)      /* arena NULL or smaller than {upper}_ARENA_BYTES */",
        f"#define {upper}_ERROR_ARENA_ALIGNMENT (-2) /* arena not aligned to {upper}_ARENA_ALIGNMENT */",
        f"#define {upper}_ERROR_PARAMS_SIZE (-3)     /* import size is not {upper}_PARAMS_BYTES */",
        "",
        f"#define {upper}_PROFILE_OPS {max(profile_ops, 1)} /* ops of the train step (-DTT_PROFILE) */",
        "",
        "/* The run-time state: the arena and the stochastic-rounding counter (and, in a -DTT_PROFILE",
        " * build, the instructions each op of the train step took, summed over steps). */",
        "typedef struct {",
        "    uint8_t *arena;",
        "    uint32_t rng_counter;",
        "#ifdef TT_PROFILE",
        f"    uint64_t profile[{upper}_PROFILE_OPS];",
        "#endif",
        f"}} {name}_context;",
        "",
        f"/* Binds the arena to ctx and seeds the rounding counter; {upper}_OK or an error code. */",
        f"int {name}_init({name}_context *ctx, void *arena, size_t arena_bytes, uint32_t seed);",
        "",
        f"/* The int8 logits [{upper}_NUM_CLASSES] of one image. */",
        f"void {name}_inference({name}_context *ctx, const int8_t *image, int8_t *logits);",
        "",
    ]
    if step is not None:
        lines += [
            "/* One SGD step on (image, label): forward, loss, backward and the in-place updates of the",
            " * trainable parameters. Returns the loss before the update; NaN (nothing updated) when",
            f" * label is outside [0, {upper}_NUM_CLASSES). */",
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
        f"/* Copies the trained parameters into buffer; {upper}_PARAMS_BYTES, or 0 if it is too small. */",
        f"size_t {name}_export_params(uint8_t *buffer, size_t buffer_bytes);",
        "",
        f"/* Restores parameters saved by {name}_export_params; {upper}_OK or {upper}_ERROR_PARAMS_SIZE. */",
        f"int {name}_import_params(const uint8_t *buffer, size_t bytes);",
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
        f"{name}.h": _header_file(name, forward, step, arena, trainable_bytes, learning_rate, len(profile)),
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
