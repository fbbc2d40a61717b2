"""tt -> C: the planned training step as a static schedule of runtime calls.

Input: a module after `tt-memory-plan` (every tensor value has an arena offset) holding
`@forward(image) -> logits` and, optionally, `@train_step(image, label) -> loss` as `tt-autodiff`
builds them. Output: four files for a model called NAME (a C identifier):

- `NAME.h`: the API (init, inference, train step, export / import of the trained parameters) and
  the figures a caller needs as macros (arena size and alignment, input and output shapes);
- `NAME.c`: one C function per IR function, each op one call of runtime_c at its planned arena
  offsets, preceded by the constant tables the calls take (fixed-point multipliers computed here
  with `ttdialect.numerics`, conv shapes, channel lists);
- `NAME_data.h` / `NAME_data.c`: the parameters: frozen ones `const` (flash), updated ones
  writable (SRAM), and their per-channel float scales.

Every rule of arithmetic is the runtime's (runtime_c/include/tt_runtime.h) or numerics'; this file
only chooses arguments. The learning rate of `@train_step` is a run-time argument: the IR's
`arith.constant` feeding the updates becomes the `NAME_LEARNING_RATE` default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import (
    DenseArrayBase,
    Float32Type,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    Signedness,
    TensorType,
)
from xdsl.ir import Operation, SSAValue

from lowering.params import CParam
from lowering.profile import OpWork, op_work
from passes.memory_plan import ARG_OFFSETS_ATTR, OFFSETS_ATTR, SCRATCH_ATTR
from ttdialect import dialect as tt
from ttdialect import numerics as nx
from ttdialect.errors import TTError
from ttdialect.types import QTensorType

ROUNDING = {
    "stochastic": "TT_ROUND_STOCHASTIC",
    "nearest": "TT_ROUND_NEAREST",
    "truncate": "TT_ROUND_TRUNCATE",
}
MIN_ALIGNMENT = 4
SPLIT_ROW = "tt_split_row"
"""The static int8 row split-weight kernels assemble in (passes/memory/slices.py sizes it)."""


class LoweringError(TTError, ValueError):
    """IR the C target cannot lower, with the op it is about."""


# --------------------------------------------------------------------------- C literals


def c_float(value: float) -> str:
    """A float32 literal that reads back as exactly np.float32(value)."""
    text = f"{float(np.float32(value)):.9g}"
    if "e" not in text and "." not in text and "inf" not in text:
        text += ".0"
    return f"{text}f"


def c_int32(value: int) -> str:
    return "(-2147483647 - 1)" if value == -(2**31) else str(value)


def c_initializer(values: np.ndarray, per_line: int = 24) -> str:
    """`{...}` of the flattened values, `per_line` per line."""
    flat = values.reshape(-1)
    if flat.dtype == np.float32:
        items = [c_float(v) for v in flat.tolist()]
    else:
        items = [c_int32(int(v)) for v in flat.tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "{\n    " + ",\n    ".join(lines) + "\n}"


# --------------------------------------------------------------------------- the schedule file


@dataclass
class ConstTables:
    """The `static const` tables of NAME.c, each emitted once whatever the number of users."""

    lines: list[str] = field(default_factory=list)
    _names: dict[tuple[str, bytes, str], str] = field(default_factory=dict)

    def _define(self, c_type: str, content: bytes, hint: str, definition: Callable[[str], str]) -> str:
        """The name of the table (`hint` + a number), defined by `definition(name)` on first use."""
        key = (c_type, content, hint)
        if key not in self._names:
            name = f"{hint}{len(self._names)}"
            self._names[key] = name
            self.lines.append(definition(name))
        return self._names[key]

    def array(self, c_type: str, values: np.ndarray | Sequence[float | int], hint: str) -> str:
        data = np.asarray(values, dtype={"int32_t": np.int32, "int8_t": np.int8, "float": np.float32}[c_type])
        initializer = c_initializer(data)
        return self._define(
            c_type,
            data.tobytes(),
            hint,
            lambda name: f"static const {c_type} {name}[{data.size}] = {initializer};",
        )

    def struct(self, c_type: str, fields: Sequence[str], hint: str) -> str:
        body = ", ".join(fields)
        return self._define(
            c_type, body.encode(), hint, lambda name: f"static const {c_type} {name} = {{{body}}};"
        )


def _int(attr: IntegerAttr | FloatAttr) -> int:
    return int(attr.value.data)


def _ints(attr: DenseArrayBase | None) -> list[int]:
    return [] if attr is None else [int(v) for v in attr.get_values()]


def value_qtype(value: SSAValue) -> QTensorType:
    assert isinstance(value.type, QTensorType), value.type
    return value.type


def value_shape(value: SSAValue) -> tuple[int, ...]:
    value_type = value.type
    assert isinstance(value_type, QTensorType | TensorType)
    return tuple(value_type.get_shape())


def _count(value: SSAValue) -> int:
    return int(np.prod(value_shape(value)))


def _element_c_type(value: SSAValue) -> str:
    if isinstance(value.type, QTensorType):
        return "int8_t"
    assert isinstance(value.type, TensorType), value.type
    element = value.type.element_type
    if isinstance(element, Float32Type):
        return "float"
    if isinstance(element, IntegerType) and element.width.data == 32:
        return "int32_t"
    if isinstance(element, IntegerType) and element.width.data == 1:
        return "uint8_t"
    if isinstance(element, IntegerType) and element.width.data == 8:
        return "uint8_t" if element.signedness.data == Signedness.UNSIGNED else "int8_t"
    raise LoweringError(f"no C type for {value.type}")


@dataclass
class FunctionEmitter:
    """Emits the body of one planned function: one runtime call per op."""

    function: func.FuncOp
    params: dict[str, CParam]
    tables: ConstTables
    learning_rate: SSAValue | None = None
    offsets: dict[SSAValue, int] = field(default_factory=dict)
    scalars: dict[SSAValue, str] = field(default_factory=dict)
    sgd_names: dict[tuple[float, str], str] = field(default_factory=dict)
    used_scales: set[str] = field(default_factory=set)
    prologue: list[str] = field(default_factory=list)
    profile: list[OpWork] | None = None
    """When a list: every op is preceded by TT_PROFILE_OP(index) and its record appended here."""

    def __post_init__(self) -> None:
        arg_offsets = _ints(self._required_attr(self.function, ARG_OFFSETS_ATTR))
        for arg, offset in zip(self.function.args, arg_offsets, strict=True):
            self.offsets[arg] = offset

    # ------------------------------------------------------------------ values

    @staticmethod
    def _required_attr(op: Operation, name: str):
        attr = op.attributes.get(name)
        if attr is None:
            raise LoweringError(
                f"'{op.name}' has no '{name}': run tt-memory-plan (or tt-training-pipeline) before -t c"
            )
        return attr

    def buffer(self, value: SSAValue) -> str:
        """The C pointer expression of a tensor value's arena buffer."""
        offset = self.offsets.get(value)
        if offset is None or offset < 0:
            raise LoweringError(f"value {value.name_hint or value} has no arena offset")
        c_type = _element_c_type(value)
        if c_type not in ("int8_t", "uint8_t") and offset % MIN_ALIGNMENT:
            raise LoweringError(
                f"{c_type} buffer at offset {offset} is not {MIN_ALIGNMENT}-byte aligned: "
                "plan with alignment >= 4"
            )
        return f"TT_ARENA({c_type}, {offset})"

    def scratch(self, op: Operation, c_type: str = "float") -> str:
        offset = _int(self._required_attr(op, SCRATCH_ATTR))
        return f"TT_ARENA({c_type}, {offset})"

    def define_results(self, op: Operation) -> None:
        tensor_results = [r for r in op.results if isinstance(r.type, QTensorType | TensorType)]
        if not tensor_results:
            return
        offsets = _ints(self._required_attr(op, OFFSETS_ATTR))
        for result, offset in zip(op.results, offsets, strict=True):
            self.offsets[result] = offset

    def param(self, ref) -> CParam:
        return self.params[ref.root_reference.data]

    def scales(self, param: CParam) -> str:
        if param.scales is None:
            raise LoweringError(f"@{param.symbol} has no scales")
        self.used_scales.add(param.scales_name)
        return param.scales_name

    def lr(self, value: SSAValue) -> str:
        if value is not self.learning_rate:
            raise LoweringError("updates must take the function's one learning-rate constant")
        return "learning_rate"

    def sgd(self, op: tt.SGDUpdateOp | tt._FusedUpdateLike | tt.ExpandDepthwiseGradInputOp) -> str:
        """A `tt_sgd` local for the op's grad_scale and rounding (declared once per function)."""
        assert op.lr is not None and op.grad_scale is not None and op.rounding is not None
        self.lr(op.lr)
        grad_scale = float(op.grad_scale.value.data)
        rounding = op.rounding.data
        key = (grad_scale, rounding)
        if key not in self.sgd_names:
            name = f"sgd{len(self.sgd_names)}"
            self.sgd_names[key] = name
            self.prologue.append(
                f"const tt_sgd {name} = {{learning_rate, {c_float(grad_scale)}, {ROUNDING[rounding]}, "
                "&ctx->rng_counter};"
            )
        return f"&{self.sgd_names[key]}"

    # ------------------------------------------------------------------ body

    def emit_body(self) -> list[str]:
        lines: list[str] = []
        for op in self.function.body.block.ops:
            if isinstance(op, func.ReturnOp):
                continue
            if isinstance(op, arith.ConstantOp):
                self._constant(op)
                continue
            rule = OP_RULES.get(type(op))
            if rule is None:
                raise LoweringError(f"'{op.name}' has no C lowering")
            self.define_results(op)
            lines.append(self._profile_mark(op) + f"/* {op.name} */")
            lines += rule(self, op)
        if self.profile is None:
            return self.prologue + lines
        return ["TT_PROFILE_BEGIN();", *self.prologue, *lines, f"TT_PROFILE_OP({len(self.profile)});"]

    def _profile_mark(self, op: Operation) -> str:
        if self.profile is None:
            return ""
        self.profile.append(op_work(op, lambda ref: self.param(ref).values.shape))
        return f"TT_PROFILE_OP({len(self.profile) - 1}); "

    def _constant(self, op: arith.ConstantOp) -> None:
        uses = {use.operation for use in op.result.uses}
        if uses and all(tt.updated_param(user) is not None for user in uses):
            if self.learning_rate is not None:
                raise LoweringError("the C target takes one learning rate per function; found two constants")
            self.learning_rate = op.result
            return
        raise LoweringError("'arith.constant' is only lowered as the learning rate of updates")


# --------------------------------------------------------------------------- op rules


def conv_shape(emitter: FunctionEmitter, op: tt._ConvLike, input_shape, weight_shape, output_shape) -> str:
    return conv_shape_of(emitter, op.conv_params(), input_shape, weight_shape, output_shape)


def conv_shape_of(emitter: FunctionEmitter, params, input_shape, weight_shape, output_shape) -> str:
    """`&` the tt_conv_shape table of a conv with (stride, padding, groups) `params`."""
    (sh, sw), (ph, pw), groups = params
    n, h, w, c = input_shape
    _, kh, kw, _ = weight_shape
    _, oh, ow, o = output_shape
    fields = [str(v) for v in (n, h, w, c, oh, ow, o, kh, kw, sh, sw, ph, pw, groups)]
    return "&" + emitter.tables.struct("tt_conv_shape", fields, "conv_shape")


def channel_quant(
    e: FunctionEmitter,
    xt: QTensorType,
    yt: QTensorType,
    act: tuple[int, int],
    weight: CParam,
    numerics: str = "tt",
    single_rounding: bool = False,
) -> str:
    """`&` the tt_channel_quant of a conv or linear: per-output-channel multipliers of
    input_scale * weight_scale[o] / output_scale (tt's or TFLite's, numerics.c_shifts marking
    TFLite's two roundings), the zero points and the clamp."""
    if weight.scales is None:
        raise LoweringError(f"@{weight.symbol} has no scales")
    real = xt.real_scale * weight.scales.astype(np.float64) / yt.real_scale
    multipliers, shifts = nx.multipliers_for(real, numerics)
    shifts = nx.c_shifts(shifts, numerics, single_rounding)
    mult = e.tables.array("int32_t", multipliers, "multiplier")
    shift = e.tables.array("int32_t", shifts, "shift")
    fields = [str(xt.zp), str(yt.zp), str(act[0]), str(act[1]), mult, shift]
    return "&" + e.tables.struct("tt_channel_quant", fields, "quant")


def _op_quant(e: FunctionEmitter, op: tt.Conv2DOp | tt.LinearOp, weight: CParam) -> str:
    act = (_int(op.act_min), _int(op.act_max))
    numerics, single = tt.numerics_of(op), op.name in nx.TFLITE_SINGLE_ROUNDING
    return channel_quant(e, value_qtype(op.input), value_qtype(op.output), act, weight, numerics, single)


def _multiplier(real: float, numerics: str) -> tuple[int, int]:
    """(multiplier, shift) of one real scale as the C runtime takes it (numerics.c_shifts)."""
    (multiplier,), (shift,) = nx.multipliers_for(np.array([real]), numerics)
    return int(multiplier), int(nx.c_shifts(shift, numerics))


def _bias_pointer(emitter: FunctionEmitter, ref) -> str:
    return "NULL" if ref is None else emitter.param(ref).c_name


def _weight_call(kernel: str, weight: CParam, before: str, after: str) -> list[str]:
    """`kernel(before, weight, after)`, or `kernel_split(...)` with the shared scratch row when
    only some channels of the weight are trained (its SRAM slice beside the flash weight). A
    split on axis 0 (whole output rows, e.g. a depthwise conv's channels) needs no row: NULL."""
    if weight.split is not None:
        row = SPLIT_ROW if weight.split.axis != 0 else "NULL"
        return [f"{kernel}_split({before}, &{weight.split_name}, {after}, {row});"]
    return [f"{kernel}({before}, {weight.c_name}, {after});"]


def lower_conv2d(e: FunctionEmitter, op: tt.Conv2DOp) -> list[str]:
    weight = e.param(op.weight)
    shape = conv_shape(e, op, value_shape(op.input), weight.values.shape, value_shape(op.output))
    quant = _op_quant(e, op, weight)
    before = f"{shape}, {quant}, {e.buffer(op.input)}"
    return _weight_call("tt_conv2d", weight, before, f"{_bias_pointer(e, op.bias)}, {e.buffer(op.output)}")


def lower_linear(e: FunctionEmitter, op: tt.LinearOp) -> list[str]:
    weight = e.param(op.weight)
    n, k = value_shape(op.input)
    o = weight.values.shape[0]
    before = f"{n}, {k}, {o}, {_op_quant(e, op, weight)}, {e.buffer(op.input)}"
    return _weight_call("tt_linear", weight, before, f"{_bias_pointer(e, op.bias)}, {e.buffer(op.output)}")


def lower_add(e: FunctionEmitter, op: tt.AddOp) -> list[str]:
    at, bt, yt = value_qtype(op.lhs), value_qtype(op.rhs), value_qtype(op.output)
    numerics = tt.numerics_of(op)
    twice_max = 2 * max(at.real_scale, bt.real_scale)
    lhs = _multiplier(at.real_scale / twice_max, numerics)
    rhs = _multiplier(bt.real_scale / twice_max, numerics)
    out = _multiplier(twice_max / ((1 << nx.ADD_LEFT_SHIFT) * yt.real_scale), numerics)
    fields = [str(v) for v in (at.zp, *lhs, bt.zp, *rhs, yt.zp, *out, _int(op.act_min), _int(op.act_max))]
    quant = e.tables.struct("tt_add_quant", fields, "add_quant")
    return [
        f"tt_add({_count(op.output)}, &{quant}, {e.buffer(op.lhs)}, {e.buffer(op.rhs)}, "
        f"{e.buffer(op.output)});"
    ]


def lower_global_avg_pool(e: FunctionEmitter, op: tt.GlobalAvgPoolOp) -> list[str]:
    xt, yt = value_qtype(op.input), value_qtype(op.output)
    n, h, w, c = value_shape(op.input)
    numerics = tt.numerics_of(op)
    mult, shift = nx.mean_multiplier(xt.real_scale, yt.real_scale, h * w, numerics)
    shift = int(nx.c_shifts(shift, numerics))
    return [
        f"tt_global_avg_pool({n}, {h}, {w}, {c}, {xt.zp}, {yt.zp}, {mult}, {shift}, "
        f"{e.buffer(op.input)}, {e.buffer(op.output)});"
    ]


def lower_reshape(e: FunctionEmitter, op: tt.ReshapeOp) -> list[str]:
    source, target = e.buffer(op.input), e.buffer(op.output)
    if source == target:
        return ["/* in place: same buffer */"]
    return [f"memmove({target}, {source}, {_count(op.output)} * sizeof({_element_c_type(op.output)}));"]


def lower_quantize(e: FunctionEmitter, op: tt.QuantizeOp) -> list[str]:
    yt = value_qtype(op.output)
    return [
        f"tt_quantize({_count(op.output)}, {c_float(yt.real_scale)}, {yt.zp}, {e.buffer(op.input)}, "
        f"{e.buffer(op.output)});"
    ]


def lower_dequantize(e: FunctionEmitter, op: tt.DequantizeOp) -> list[str]:
    xt = value_qtype(op.input)
    return [
        f"tt_dequantize({_count(op.input)}, {c_float(xt.real_scale)}, {xt.zp}, {e.buffer(op.input)}, "
        f"{e.buffer(op.output)});"
    ]


def lower_requantize(e: FunctionEmitter, op: tt.RequantizeOp) -> list[str]:
    xt, yt = value_qtype(op.input), value_qtype(op.output)
    mult, shift = _multiplier(xt.real_scale / yt.real_scale, tt.numerics_of(op))
    return [
        f"tt_requantize_tensor({_count(op.input)}, {xt.zp}, {yt.zp}, {mult}, {shift}, "
        f"{e.buffer(op.input)}, {e.buffer(op.output)});"
    ]


def lower_clamp(e: FunctionEmitter, op: tt.ClampOp) -> list[str]:
    return [
        f"tt_clamp({_count(op.input)}, {_int(op.act_min)}, {_int(op.act_max)}, {e.buffer(op.input)}, "
        f"{e.buffer(op.output)});"
    ]


def _logits_args(e: FunctionEmitter, op: tt._LossLike) -> tuple[str, str]:
    n, k = value_shape(op.logits)
    if isinstance(op.logits.type, QTensorType):
        lt = value_qtype(op.logits)
        return (
            "",
            f"{n}, {k}, {c_float(lt.real_scale)}, {lt.zp}, {e.buffer(op.logits)}, {e.buffer(op.labels)}",
        )
    return "_f32", f"{n}, {k}, {e.buffer(op.logits)}, {e.buffer(op.labels)}"


def lower_cross_entropy(e: FunctionEmitter, op: tt.CrossEntropyOp) -> list[str]:
    suffix, args = _logits_args(e, op)
    name = f"loss{len(e.scalars)}"
    e.scalars[op.loss] = name
    return [f"const float {name} = tt_cross_entropy{suffix}({args});"]


def lower_cross_entropy_grad(e: FunctionEmitter, op: tt.CrossEntropyGradOp) -> list[str]:
    suffix, args = _logits_args(e, op)
    return [f"tt_cross_entropy_grad{suffix}({args}, {e.buffer(op.grad)});"]


def lower_conv2d_grad_input(e: FunctionEmitter, op: tt.Conv2DGradInputOp) -> list[str]:
    weight = e.param(op.weight)
    shape = conv_shape(e, op, value_shape(op.grad_input), weight.values.shape, value_shape(op.grad_output))
    if e.offsets[op.grad_input] == e.offsets[op.grad_output]:  # planned in place (liveness.py)
        grad = f"{shape}, {e.buffer(op.grad_input)}"
        scratch = f"{e.scales(weight)}, {e.scratch(op)}"
        return _weight_call("tt_depthwise_grad_input_in_place", weight, grad, scratch)
    after = f"{e.scales(weight)}, {e.buffer(op.grad_input)}"
    return _weight_call("tt_conv2d_grad_input", weight, f"{shape}, {e.buffer(op.grad_output)}", after)


def _channel_args(e: FunctionEmitter, channels: DenseArrayBase | None) -> str:
    values = _ints(channels)
    if not values:
        return "NULL, 0"
    return f"{e.tables.array('int32_t', values, 'channels')}, {len(values)}"


def _input_and_grad(e: FunctionEmitter, op: tt._ConvWeightGradLike | tt.LinearGradWeightOp) -> str:
    """The int8 input (scale, zero point, buffer) and the output gradient a weight gradient reads."""
    xt = value_qtype(op.input)
    return f"{c_float(xt.real_scale)}, {xt.zp}, {e.buffer(op.input)}, {e.buffer(op.grad_output)}"


def _weight_grad_shape(e: FunctionEmitter, op: tt._ConvWeightGradLike) -> str:
    kh, kw = _ints(op.kernel)
    return conv_shape(e, op, value_shape(op.input), (0, kh, kw, 0), value_shape(op.grad_output))


def _linear_sizes(op: tt.LinearGradWeightOp | tt.LinearWeightUpdateOp) -> str:
    n, k = value_shape(op.input)
    return f"{n}, {k}, {value_shape(op.grad_output)[1]}"


def _conv_weight_args(e: FunctionEmitter, op: tt._ConvWeightGradLike) -> str:
    return f"{_weight_grad_shape(e, op)}, {_input_and_grad(e, op)}, {_channel_args(e, op.channels)}"


def lower_conv2d_grad_weight(e: FunctionEmitter, op: tt.Conv2DGradWeightOp) -> list[str]:
    return [f"tt_conv2d_grad_weight({_conv_weight_args(e, op)}, {e.buffer(op.grad_weight)});"]


def lower_linear_grad_input(e: FunctionEmitter, op: tt.LinearGradInputOp) -> list[str]:
    weight = e.param(op.weight)
    n, o = value_shape(op.grad_output)
    k = weight.values.shape[1]
    after = f"{e.scales(weight)}, {e.buffer(op.grad_input)}"
    return _weight_call("tt_linear_grad_input", weight, f"{n}, {k}, {o}, {e.buffer(op.grad_output)}", after)


def _linear_weight_args(e: FunctionEmitter, op: tt.LinearGradWeightOp | tt.LinearWeightUpdateOp) -> str:
    return f"{_linear_sizes(op)}, {_input_and_grad(e, op)}, {_channel_args(e, op.channels)}"


def lower_linear_grad_weight(e: FunctionEmitter, op: tt.LinearGradWeightOp) -> list[str]:
    return [f"tt_linear_grad_weight({_linear_weight_args(e, op)}, {e.buffer(op.grad_weight)});"]


def _positions_channels(value: SSAValue) -> tuple[int, int]:
    shape = value_shape(value)
    return int(np.prod(shape[:-1])), shape[-1]


def lower_bias_grad(e: FunctionEmitter, op: tt.BiasGradOp) -> list[str]:
    positions, channels = _positions_channels(op.grad_output)
    return [f"tt_bias_grad({positions}, {channels}, {e.buffer(op.grad_output)}, {e.buffer(op.grad_bias)});"]


def lower_clamp_grad(e: FunctionEmitter, op: tt.ClampGradOp) -> list[str]:
    return [
        f"tt_clamp_grad({_count(op.grad_output)}, {_int(op.act_min)}, {_int(op.act_max)}, "
        f"{e.buffer(op.grad_output)}, {e.buffer(op.output)}, {e.buffer(op.grad_input)});"
    ]


def lower_clamp_mask(e: FunctionEmitter, op: tt.ClampMaskOp) -> list[str]:
    return [
        f"tt_clamp_mask({_count(op.output)}, {_int(op.act_min)}, {_int(op.act_max)}, "
        f"{e.buffer(op.output)}, {e.buffer(op.mask)});"
    ]


def lower_mask_grad(e: FunctionEmitter, op: tt.MaskGradOp) -> list[str]:
    return [
        f"tt_mask_grad({_count(op.grad_output)}, {e.buffer(op.grad_output)}, {e.buffer(op.mask)}, "
        f"{e.buffer(op.grad_input)});"
    ]


def lower_global_avg_pool_grad(e: FunctionEmitter, op: tt.GlobalAvgPoolGradOp) -> list[str]:
    n, h, w, c = value_shape(op.grad_input)
    return [
        f"tt_global_avg_pool_grad({n}, {h}, {w}, {c}, {e.buffer(op.grad_output)}, {e.buffer(op.grad_input)});"
    ]


def lower_grad_accumulate(e: FunctionEmitter, op: tt.GradAccumulateOp) -> list[str]:
    return [
        f"tt_grad_accumulate({_count(op.result)}, {e.buffer(op.lhs)}, {e.buffer(op.rhs)}, "
        f"{e.buffer(op.result)});"
    ]


def lower_scale_grad(e: FunctionEmitter, op: tt.ScaleGradOp) -> list[str]:
    shape = value_shape(op.grad)
    rows, row_size = shape[0], int(np.prod(shape[1:]))
    channels = _ints(op.channels)
    table = e.tables.array("int32_t", channels, "channels") if channels else "NULL"
    return [
        f"tt_scale_grad({rows}, {row_size}, {e.scales(e.param(op.param))}, {table}, {_int(op.power)}, "
        f"{e.buffer(op.grad)}, {e.buffer(op.result)});"
    ]


def lower_sgd_update(e: FunctionEmitter, op: tt.SGDUpdateOp) -> list[str]:
    param = e.param(op.param)
    shape = param.values.shape
    channels = _ints(op.channels)
    if param.split is not None:  # the slice is the gradient's shape: a dense update of it
        fields = ["1", "1", str(param.sram_values.size), "NULL", "0"]
        slice_name = e.tables.struct("tt_param_slice", fields, "slice")
        return [f"tt_sgd_update_s8(&{slice_name}, {e.sgd(op)}, {e.buffer(op.grad)}, {param.slice_name});"]
    if channels and op.channel_axis is not None:
        axis = _int(op.channel_axis)
        outer, size, inner = int(np.prod(shape[:axis])), shape[axis], int(np.prod(shape[axis + 1 :]))
        table = e.tables.array("int32_t", channels, "channels")
        fields = [str(outer), str(size), str(inner), table, str(len(channels))]
    else:
        fields = ["1", str(int(np.prod(shape))), "1", "NULL", "0"]
    slice_name = e.tables.struct("tt_param_slice", fields, "slice")
    kind = "s8" if param.c_type == "int8_t" else "s32"
    return [f"tt_sgd_update_{kind}(&{slice_name}, {e.sgd(op)}, {e.buffer(op.grad)}, {param.c_name});"]


def _fused_update(
    e: FunctionEmitter, op: tt.Conv2DWeightUpdateOp | tt.LinearWeightUpdateOp, kernel: str, sizes: str
) -> list[str]:
    """`kernel(sizes, input and gradient, channels, scales, power, sgd, weight, scratch)`, or on
    a split weight `kernel_split(...)` with the split weight (which holds the channels)."""
    param = e.param(op.param)
    head = f"{sizes}, {_input_and_grad(e, op)}"
    if param.split is not None:
        kernel, weight = f"{kernel}_split", f"&{param.split_name}"
    else:
        head, weight = f"{head}, {_channel_args(e, op.channels)}", param.c_name
    tail = f"{e.scales(param)}, {_int(op.power)}, {e.sgd(op)}, {weight}, {e.scratch(op)}"
    return [f"{kernel}({head}, {tail});"]


def lower_conv2d_weight_update(e: FunctionEmitter, op: tt.Conv2DWeightUpdateOp) -> list[str]:
    return _fused_update(e, op, "tt_conv2d_weight_update", _weight_grad_shape(e, op))


def lower_linear_weight_update(e: FunctionEmitter, op: tt.LinearWeightUpdateOp) -> list[str]:
    return _fused_update(e, op, "tt_linear_weight_update", _linear_sizes(op))


def lower_bias_update(e: FunctionEmitter, op: tt.BiasUpdateOp) -> list[str]:
    param = e.param(op.param)
    positions, channels = _positions_channels(op.grad_output)
    return [
        f"tt_bias_update({positions}, {channels}, {e.buffer(op.grad_output)}, {e.scales(param)}, "
        f"{_int(op.power)}, {e.sgd(op)}, {param.c_name});"
    ]


def lower_expand_depthwise_grad_input(e: FunctionEmitter, op: tt.ExpandDepthwiseGradInputOp) -> list[str]:
    """tt_expand_depthwise_grad_input: both convs' shapes, weights and scales, the optional bias
    update (as tt_bias_update's arguments, else NULL), the result and the plane of scratch."""
    depthwise, expand = e.param(op.depthwise_weight), e.param(op.expand_weight)
    if depthwise.split is not None or expand.split is not None:
        raise LoweringError(f"'{op.name}' needs complete weights; a split weight's chain stays unfused")
    expanded, grad_input = value_shape(op.mask), value_shape(op.grad_input)
    dw_shape = conv_shape_of(
        e, op.depthwise_params(), expanded, depthwise.values.shape, value_shape(op.grad_output)
    )
    pointwise = ((1, 1), (0, 0), 1)
    shapes = f"{dw_shape}, {conv_shape_of(e, pointwise, grad_input, expand.values.shape, expanded)}"
    bias = "NULL, NULL, 0, NULL"
    if op.param is not None:
        assert op.power is not None
        param = e.param(op.param)
        bias = f"{param.c_name}, {e.scales(param)}, {_int(op.power)}, {e.sgd(op)}"
    return [
        f"tt_expand_depthwise_grad_input({shapes}, {e.buffer(op.grad_output)}, {e.buffer(op.mask)}, "
        f"{depthwise.c_name}, {e.scales(depthwise)}, {expand.c_name}, {e.scales(expand)}, {bias}, "
        f"{e.buffer(op.grad_input)}, {e.scratch(op)});"
    ]


def _bottleneck_stage(
    e: FunctionEmitter, weight_ref, bias_ref, in_type: QTensorType, out_type: QTensorType, act, numerics: str
) -> str:
    """A `tt_conv_stage` table of one conv of a tt.bottleneck (its quant as tt_conv2d's)."""
    weight = e.param(weight_ref)
    act_min, act_max = _ints(act)
    quant = channel_quant(e, in_type, out_type, (act_min, act_max), weight, numerics)
    stage = [quant, weight.c_name, _bias_pointer(e, bias_ref)]
    return "&" + e.tables.struct("tt_conv_stage", stage, "stage")


def lower_bottleneck(e: FunctionEmitter, op: tt.BottleneckOp) -> list[str]:
    """tt_bottleneck: the three convs' tables, the shape, and its scratch in the arena."""
    xt, yt, dt = value_qtype(op.input), value_qtype(op.output), op.depthwise_type
    numerics = tt.numerics_of(op)
    n, h, w, c = value_shape(op.input)
    _, oh, ow, hidden = dt.get_shape()
    expand, source, expand_geometry = "NULL", xt, [1, 1, 1, 1, 0, 0]
    if op.expand_weight is not None:
        assert op.expanded_type is not None
        expand = _bottleneck_stage(
            e, op.expand_weight, op.expand_bias, xt, op.expanded_type, op.expand_act, numerics
        )
        source = op.expanded_type
        expand_geometry = [v for pair in op.expand_geometry() for v in pair]
    depthwise = _bottleneck_stage(
        e, op.depthwise_weight, op.depthwise_bias, source, dt, op.depthwise_act, numerics
    )
    project = _bottleneck_stage(e, op.project_weight, op.project_bias, dt, yt, op.project_act, numerics)
    (kh, kw), (sh, sw), (ph, pw) = op.kernel(), _ints(op.stride), _ints(op.padding)
    _, he, we, _ = source.get_shape()
    sizes = [n, h, w, c, he, we, hidden, oh, ow, yt.get_shape()[3]]
    fields = [*sizes, kh, kw, sh, sw, ph, pw, int(op.has_expand), *expand_geometry]
    shape = e.tables.struct("tt_bottleneck_shape", [str(v) for v in fields], "bottleneck_shape")
    return [
        f"tt_bottleneck(&{shape}, {expand}, {depthwise}, {project}, {e.buffer(op.input)}, "
        f"{e.buffer(op.output)}, {e.scratch(op, 'int8_t')});"
    ]


# --------------------------------------------------------------------------- layers (tt_layers.c)


def pool_shape(e: FunctionEmitter, op: tt._PoolLike, input_shape, output_shape) -> str:
    """`&` the tt_pool_shape table of a pool (the bottom / right padding follows from the sizes)."""
    (kh, kw), (sh, sw), (top, left, _, _) = op.pool_params()
    n, h, w, c = input_shape
    _, oh, ow, _ = output_shape
    fields = [str(v) for v in (n, h, w, c, oh, ow, kh, kw, sh, sw, top, left)]
    return "&" + e.tables.struct("tt_pool_shape", fields, "pool_shape")


def lower_max_pool(e: FunctionEmitter, op: tt.MaxPoolOp) -> list[str]:
    shape = pool_shape(e, op, value_shape(op.input), value_shape(op.output))
    indices = "NULL" if op.indices is None else e.buffer(op.indices)
    return [
        f"tt_max_pool({shape}, {_int(op.act_min)}, {_int(op.act_max)}, {e.buffer(op.input)}, "
        f"{e.buffer(op.output)}, {indices});"
    ]


def lower_avg_pool(e: FunctionEmitter, op: tt.AvgPoolOp) -> list[str]:
    shape = pool_shape(e, op, value_shape(op.input), value_shape(op.output))
    return [
        f"tt_avg_pool({shape}, {_int(op.act_min)}, {_int(op.act_max)}, {e.buffer(op.input)}, "
        f"{e.buffer(op.output)});"
    ]


def lower_lookup_activation(e: FunctionEmitter, op: tt._LookupActivation) -> list[str]:
    """The op's 256-entry table (numerics.activation_table) as a const array, then the lookup."""
    xt, yt = value_qtype(op.input), value_qtype(op.output)
    numerics = tt.numerics_of(op)
    values = nx.activation_table(op.ACTIVATION, xt.real_scale, xt.zp, yt.real_scale, yt.zp, numerics)
    table = e.tables.array("int8_t", values, "table")
    return [f"tt_lookup_s8({_count(op.input)}, {table}, {e.buffer(op.input)}, {e.buffer(op.output)});"]


def _batch_positions_channels(shape: tuple[int, ...]) -> str:
    """`batch, positions, channels` of an [N, ..., C] tensor."""
    return f"{shape[0]}, {int(np.prod(shape[1:-1]))}, {shape[-1]}"


def lower_mul(e: FunctionEmitter, op: tt.MulOp) -> list[str]:
    at, bt, yt = value_qtype(op.lhs), value_qtype(op.rhs), value_qtype(op.output)
    multiplier, shift = _multiplier(at.real_scale * bt.real_scale / yt.real_scale, tt.numerics_of(op))
    fields = [str(v) for v in (at.zp, bt.zp, yt.zp, multiplier, shift, _int(op.act_min), _int(op.act_max))]
    quant = e.tables.struct("tt_mul_quant", fields, "mul_quant")
    sizes = _batch_positions_channels(value_shape(op.lhs))
    return [
        f"tt_mul({sizes}, {int(op.broadcast)}, &{quant}, {e.buffer(op.lhs)}, {e.buffer(op.rhs)}, "
        f"{e.buffer(op.output)});"
    ]


def lower_concat(e: FunctionEmitter, op: tt.ConcatOp) -> list[str]:
    """One tt_concat_channels per input, each requantized by tt.requantize's multiplier."""
    yt = value_qtype(op.output)
    out_shape = value_shape(op.output)
    positions = int(np.prod(out_shape[:-1]))
    lines = []
    for value, offset in zip(op.inputs, op.channel_offsets(), strict=True):
        xt = value_qtype(value)
        multiplier, shift = _multiplier(xt.real_scale / yt.real_scale, tt.numerics_of(op))
        lines.append(
            f"tt_concat_channels({positions}, {value_shape(value)[-1]}, {out_shape[-1]}, {offset}, {xt.zp}, "
            f"{yt.zp}, {multiplier}, {shift}, {e.buffer(value)}, {e.buffer(op.output)});"
        )
    return lines


def lower_max_pool_grad(e: FunctionEmitter, op: tt.MaxPoolGradOp) -> list[str]:
    shape = pool_shape(e, op, value_shape(op.grad_input), value_shape(op.grad_output))
    kernel = "tt_max_pool_grad_indices" if op.reads_indices else "tt_max_pool_grad"
    return [
        f"{kernel}({shape}, {e.buffer(op.grad_output)}, {e.buffer(op.source)}, {e.buffer(op.grad_input)});"
    ]


def lower_avg_pool_grad(e: FunctionEmitter, op: tt.AvgPoolGradOp) -> list[str]:
    shape = pool_shape(e, op, value_shape(op.grad_input), value_shape(op.grad_output))
    return [f"tt_avg_pool_grad({shape}, {e.buffer(op.grad_output)}, {e.buffer(op.grad_input)});"]


def lower_activation_grad(e: FunctionEmitter, op: tt.ActivationGradOp) -> list[str]:
    """The op's 256-entry derivative table (numerics.activation_grad_table), then the products."""
    xt, yt = value_qtype(op.input), op.output_type
    values = nx.activation_grad_table(
        op.activation.data, xt.real_scale, xt.zp, yt.real_scale, yt.zp, tt.numerics_of(op)
    )
    table = e.tables.array("float", values, "derivative")
    return [
        f"tt_lookup_grad({_count(op.input)}, {table}, {e.buffer(op.grad_output)}, {e.buffer(op.input)}, "
        f"{e.buffer(op.grad_input)});"
    ]


def lower_mul_grad(e: FunctionEmitter, op: tt.MulGradOp) -> list[str]:
    ot = value_qtype(op.other)
    sizes = _batch_positions_channels(value_shape(op.grad_output))
    other = f"{c_float(ot.real_scale)}, {ot.zp}, {e.buffer(op.grad_output)}, {e.buffer(op.other)}"
    if op.reduces:
        return [f"tt_mul_grad_reduce({sizes}, {other}, {e.buffer(op.grad_input)});"]
    broadcast = int(value_shape(op.other) != value_shape(op.grad_output))
    return [f"tt_mul_grad({sizes}, {broadcast}, {other}, {e.buffer(op.grad_input)});"]


def lower_concat_grad(e: FunctionEmitter, op: tt.ConcatGradOp) -> list[str]:
    full, part = value_shape(op.grad_output), value_shape(op.grad_input)
    return [
        f"tt_channel_slice({int(np.prod(full[:-1]))}, {full[-1]}, {_int(op.channel_offset)}, {part[-1]}, "
        f"{e.buffer(op.grad_output)}, {e.buffer(op.grad_input)});"
    ]


OP_RULES: dict[type[Operation], Callable[[FunctionEmitter, Operation], list[str]]] = {
    tt.Conv2DOp: lower_conv2d,
    tt.LinearOp: lower_linear,
    tt.AddOp: lower_add,
    tt.GlobalAvgPoolOp: lower_global_avg_pool,
    tt.ReshapeOp: lower_reshape,
    tt.QuantizeOp: lower_quantize,
    tt.DequantizeOp: lower_dequantize,
    tt.RequantizeOp: lower_requantize,
    tt.ClampOp: lower_clamp,
    tt.CrossEntropyOp: lower_cross_entropy,
    tt.CrossEntropyGradOp: lower_cross_entropy_grad,
    tt.Conv2DGradInputOp: lower_conv2d_grad_input,
    tt.Conv2DGradWeightOp: lower_conv2d_grad_weight,
    tt.LinearGradInputOp: lower_linear_grad_input,
    tt.LinearGradWeightOp: lower_linear_grad_weight,
    tt.BiasGradOp: lower_bias_grad,
    tt.ClampGradOp: lower_clamp_grad,
    tt.ClampMaskOp: lower_clamp_mask,
    tt.MaskGradOp: lower_mask_grad,
    tt.GlobalAvgPoolGradOp: lower_global_avg_pool_grad,
    tt.GradAccumulateOp: lower_grad_accumulate,
    tt.ScaleGradOp: lower_scale_grad,
    tt.SGDUpdateOp: lower_sgd_update,
    tt.Conv2DWeightUpdateOp: lower_conv2d_weight_update,
    tt.LinearWeightUpdateOp: lower_linear_weight_update,
    tt.BiasUpdateOp: lower_bias_update,
    tt.ExpandDepthwiseGradInputOp: lower_expand_depthwise_grad_input,
    tt.BottleneckOp: lower_bottleneck,
    tt.MaxPoolOp: lower_max_pool,
    tt.AvgPoolOp: lower_avg_pool,
    tt.HardSwishOp: lower_lookup_activation,
    tt.HardSigmoidOp: lower_lookup_activation,
    tt.SigmoidOp: lower_lookup_activation,
    tt.MulOp: lower_mul,
    tt.ConcatOp: lower_concat,
    tt.MaxPoolGradOp: lower_max_pool_grad,
    tt.AvgPoolGradOp: lower_avg_pool_grad,
    tt.ActivationGradOp: lower_activation_grad,
    tt.MulGradOp: lower_mul_grad,
    tt.ConcatGradOp: lower_concat_grad,
}  # type: ignore[dict-item]
"""One lowering rule per op: it returns the C statements that run the op on its planned buffers."""
