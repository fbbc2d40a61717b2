"""The `tt` dialect: int8 CNN forward ops, loss, backward ops and parameter updates.

Layout conventions (NHWC, as CMSIS-NN):
- activations `!tt.qtensor<NxHxWxC, scale:zp>`; gradients `tensor<...xf32>` of the same shape,
  holding d loss / d (dequantized value);
- conv weights `[O, KH, KW, C/groups]` int8 with one scale per output channel, biases `[O]` int32
  in units of `input_scale * weight_scale[o]` (each with its own per-channel scales);
- parameters live at module level in `tt.param` symbols; compute ops name them (`@"conv.weight"`),
  update ops write them in place;
- the ops that requantize or look up a table take an optional `numerics = "tflite"`: TensorFlow
  Lite's integer rules instead of tt's (ttdialect/numerics.py, docs/numerics.md), for imported
  TFLite models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import (
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    Float32Type,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    Signedness,
    StringAttr,
    SymbolNameConstraint,
    SymbolRefAttr,
    TensorType,
    f32,
    i1,
    i32,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    VarConstraint,
    base,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    opt_result_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import NoMemoryEffect, Pure, SymbolOpInterface, SymbolTable
from xdsl.utils.exceptions import VerifyException

from ttdialect.types import ExternalDataAttr, QTensorType, format_float

PayloadAttr = DenseIntOrFPElementsAttr | ExternalDataAttr
ROUNDING_MODES = ("stochastic", "nearest", "truncate")
ui8 = IntegerType(8, Signedness.UNSIGNED)
LINEAR_CHANNEL_AXIS = 1
"""The axis of a linear weight [O, C] that an input-column subset selects."""
PROPS_IN_ATTR_DICT = (ParsePropInAttrDict(),)


# --------------------------------------------------------------------------- helpers


def conv_output_size(
    size: int, kernel: int, stride: int, padding: int, padding_after: int | None = None
) -> int:
    """Spatial output size of a convolution (floor mode), the one rule every stage uses;
    `padding` before and `padding_after` (default: the same) after."""
    after = padding if padding_after is None else padding_after
    return (size + padding + after - kernel) // stride + 1


NUMERICS = ("tt", "tflite")
"""The values of the `numerics` property (ttdialect.numerics.NUMERICS)."""


def numerics_of(op: Operation) -> str:
    """The integer rules an op follows: "tt" (no `numerics` property) or "tflite"."""
    attr = op.properties.get("numerics")
    return attr.data if isinstance(attr, StringAttr) else "tt"


def _check_numerics(op: Operation, allowed: Sequence[str] = NUMERICS) -> None:
    numerics = numerics_of(op)
    if numerics not in allowed:
        raise VerifyException(f"numerics must be one of {', '.join(allowed)}, got '{numerics}'")


def _shape(value: SSAValue) -> tuple[int, ...]:
    assert isinstance(value.type, QTensorType | TensorType)
    return tuple(value.type.get_shape())


def _expect_qtensor(value: SSAValue, what: str, rank: int | None = None) -> QTensorType:
    if not isinstance(value.type, QTensorType):
        raise VerifyException(f"{what} must be a !tt.qtensor, got {value.type}")
    if rank is not None and value.type.get_num_dims() != rank:
        raise VerifyException(f"{what} must have rank {rank}, got shape {value.type.get_shape()}")
    return value.type


def _expect_f32_tensor(value: SSAValue, what: str, rank: int | None = None) -> TensorType:
    typ = value.type
    if not isinstance(typ, TensorType) or not isinstance(typ.element_type, Float32Type):
        raise VerifyException(f"{what} must be a tensor of f32, got {typ}")
    if rank is not None and typ.get_num_dims() != rank:
        raise VerifyException(f"{what} must have rank {rank}, got shape {typ.get_shape()}")
    if any(dim < 0 for dim in typ.get_shape()):
        raise VerifyException(f"{what} must have a static shape, got {typ}")
    return typ


def _expect_mask(value: SSAValue, what: str) -> TensorType:
    typ = value.type
    if not isinstance(typ, TensorType) or typ.element_type != i1:
        raise VerifyException(f"{what} must be a tensor of i1, got {typ}")
    return typ


def _ints(attr: DenseArrayBase) -> tuple[int, ...]:
    return tuple(int(v) for v in attr.get_values())


def _int(attr: IntegerAttr) -> int:
    return attr.value.data


def _check_pair(attr: DenseArrayBase, what: str, minimum: int) -> tuple[int, int]:
    values = _ints(attr)
    if len(values) != 2 or min(values) < minimum:
        raise VerifyException(f"{what} must be two integers >= {minimum}, got {list(values)}")
    return values[0], values[1]


def _check_clamp(act_min: IntegerAttr, act_max: IntegerAttr) -> None:
    lo, hi = _int(act_min), _int(act_max)
    if not -128 <= lo <= hi <= 127:
        raise VerifyException(
            f"activation range must satisfy -128 <= act_min <= act_max <= 127, got [{lo}, {hi}]"
        )


def _check_channels(channels: DenseArrayBase | None, count: int, what: str) -> int:
    """Check a channel subset (sorted, unique, in range); returns how many channels it keeps."""
    if channels is None:
        return count
    values = _ints(channels)
    if not values:
        raise VerifyException(f"{what} channel subset must not be empty")
    if list(values) != sorted(set(values)):
        raise VerifyException(f"{what} channel subset must be sorted and unique, got {list(values)}")
    if values[0] < 0 or values[-1] >= count:
        raise VerifyException(f"{what} channel subset must lie in [0, {count}), got {list(values)}")
    return len(values)


def lookup_param(op: Operation, ref: SymbolRefAttr) -> ParamOp:
    """The `tt.param` that `ref` names, or a VerifyException naming the missing symbol."""
    try:
        found = SymbolTable.lookup_symbol(op, ref)
    except ValueError:
        found = None
    if not isinstance(found, ParamOp):
        raise VerifyException(f"{ref} does not name a tt.param in the enclosing module")
    return found


def _check_weight(op: Operation, ref: SymbolRefAttr, rank: int) -> tuple[int, ...]:
    param = lookup_param(op, ref)
    if param.element_width != 8 or len(param.shape) != rank:
        raise VerifyException(f"weight {ref} must be a rank-{rank} i8 tt.param, got {param.param_type}")
    if param.scales is None:
        raise VerifyException(f"weight {ref} must carry per-output-channel scales")
    return param.shape


def _check_bias(op: Operation, ref: SymbolRefAttr | None, channels: int) -> None:
    if ref is None:
        return
    param = lookup_param(op, ref)
    if param.element_width != 32 or param.shape != (channels,):
        raise VerifyException(f"bias {ref} must be a tensor<{channels}xi32> tt.param, got {param.param_type}")


# --------------------------------------------------------------------------- parameters


@irdl_op_definition
class ParamOp(IRDLOperation):
    """A named model parameter: int8 weight (per-output-channel scales) or int32 bias.

    `value` and `scales` are inline `dense<...>` or `#tt.external<"key">` entries of the weights
    file named by the module attribute `tt.weights`.
    """

    name = "tt.param"

    sym_name = prop_def(SymbolNameConstraint())
    param_type_attr = prop_def(TensorType, prop_name="type")
    value = prop_def(PayloadAttr)
    scales = opt_prop_def(PayloadAttr)

    traits = traits_def(SymbolOpInterface())

    def __init__(
        self,
        name: str,
        param_type: TensorType,
        value: Attribute,
        scales: Attribute | None = None,
    ):
        super().__init__(
            properties={
                "sym_name": StringAttr(name),
                "type": param_type,
                "value": value,
                "scales": scales,
            }
        )

    @property
    def param_type(self) -> TensorType:
        return self.param_type_attr

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.param_type.get_shape())

    @property
    def element_width(self) -> int:
        el = self.param_type.element_type
        return el.width.data if isinstance(el, IntegerType) else 0

    def verify_(self) -> None:
        element = self.param_type.element_type
        if self.element_width not in (8, 32) or (
            isinstance(element, IntegerType) and element.signedness.data == Signedness.UNSIGNED
        ):
            raise VerifyException(
                f"parameter @{self.sym_name.data} must hold i8 or i32, got {self.param_type}"
            )
        if not self.shape or any(dim < 1 for dim in self.shape):
            raise VerifyException(
                f"parameter @{self.sym_name.data} must have a static shape of rank >= 1 "
                f"(axis 0 is the output channel), got {self.param_type}"
            )
        if isinstance(self.value, DenseIntOrFPElementsAttr) and self.value.type != self.param_type:
            raise VerifyException(
                f"parameter @{self.sym_name.data} value has type {self.value.type}, "
                f"expected {self.param_type}"
            )
        scales = self.scales
        if isinstance(scales, DenseIntOrFPElementsAttr):
            expected = TensorType(f32, [self.shape[0]])
            if scales.type != expected:
                raise VerifyException(
                    f"parameter @{self.sym_name.data} scales must be {expected} (one per output "
                    f"channel), got {scales.type}"
                )
            if not all(0 < value < float("inf") for value in scales.get_values()):
                raise VerifyException(f"parameter @{self.sym_name.data} scales must be positive and finite")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        printer.print_string(" : ")
        printer.print_attribute(self.param_type)
        if self.scales is not None:
            printer.print_string(" scales ")
            printer.print_attribute(self.scales)
        printer.print_string(" = ")
        printer.print_attribute(self.value)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ParamOp:
        name = parser.parse_symbol_name().data
        parser.parse_punctuation(":")
        param_type = parser.parse_type()
        if not isinstance(param_type, TensorType):
            parser.raise_error(f"tt.param type must be a tensor type, got {param_type}")
        scales = None
        if parser.parse_optional_keyword("scales") is not None:
            scales = parser.parse_attribute()
        parser.parse_punctuation("=")
        value = parser.parse_attribute()
        param = cls(name, param_type, value, scales)
        extra = parser.parse_optional_attr_dict()
        param.attributes.update(extra)
        return param


# --------------------------------------------------------------------------- forward ops


def _check_conv_padding(attr: DenseArrayBase) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of a conv's `padding`: (top, left), the same on the far sides,
    or four values (TensorFlow's SAME padding pads more at the bottom and right)."""
    values = _ints(attr)
    if len(values) not in (2, 4) or min(values) < 0:
        raise VerifyException(f"padding must be 2 or 4 integers >= 0, got {list(values)}")
    if len(values) == 2:
        return values[0], values[1], values[0], values[1]
    return values[0], values[1], values[2], values[3]


class _ConvLike(IRDLOperation):
    """Shared properties of conv2d forward and backward ops.

    `padding` is (top, left), the same on the bottom and right, or (top, left, bottom, right).
    """

    stride = prop_def(DenseArrayBase.constr(i64))
    padding = prop_def(DenseArrayBase.constr(i64))
    groups = prop_def(IntegerAttr[IntegerType])

    def conv_params(self) -> tuple[tuple[int, int], tuple[int, int], int]:
        """(stride, (top, left) padding, groups): the bottom and right padding follow from the
        output size (conv_padding gives all four)."""
        stride = _check_pair(self.stride, "stride", 1)
        top, left, _, _ = _check_conv_padding(self.padding)
        groups = _int(self.groups)
        if groups < 1:
            raise VerifyException(f"groups must be >= 1, got {groups}")
        return stride, (top, left), groups

    def conv_padding(self) -> tuple[int, int, int, int]:
        """(top, left, bottom, right)."""
        return _check_conv_padding(self.padding)

    @property
    def symmetric_padding(self) -> bool:
        top, left, bottom, right = self.conv_padding()
        return (top, left) == (bottom, right)

    def check_conv_shapes(
        self,
        input_shape: Sequence[int],
        weight_shape: Sequence[int],
        output_shape: Sequence[int],
    ) -> None:
        """Verify NHWC input/output shapes against an OHWI weight and the conv attributes."""
        (sh, sw), _, groups = self.conv_params()
        top, left, bottom, right = self.conv_padding()
        n, h, w, c = input_shape
        o, kh, kw, cg = weight_shape
        if c % groups or o % groups:
            raise VerifyException(
                f"groups={groups} must divide input channels ({c}) and output channels ({o})"
            )
        if cg != c // groups:
            raise VerifyException(
                f"weight expects {cg} input channels per group, input has {c} channels in {groups} group(s)"
            )
        if not self.symmetric_padding and (max(top, bottom) >= kh or max(left, right) >= kw):
            raise VerifyException(
                f"padding {list(self.conv_padding())} must be smaller than the kernel {[kh, kw]} on every "
                "side when it differs between opposite sides"
            )
        expected = (n, conv_output_size(h, kh, sh, top, bottom), conv_output_size(w, kw, sw, left, right), o)
        if tuple(output_shape) != expected:
            raise VerifyException(
                f"output shape {tuple(output_shape)} does not match conv of input "
                f"{tuple(input_shape)} with weight {tuple(weight_shape)}: expected {expected}"
            )


@irdl_op_definition
class Conv2DOp(_ConvLike):
    """Quantized 2-D convolution (regular, depthwise, pointwise) with fused bias and clamp.

    acc = sum((x - x_zp) * w) + bias; y = clamp(requantize(acc, x_scale * w_scale[o] / y_scale)
    + y_zp, act_min, act_max). ReLU / ReLU6 are folded into [act_min, act_max].
    """

    name = "tt.conv2d"

    input = operand_def(QTensorType)
    output = result_def(QTensorType)
    weight = prop_def(SymbolRefAttr)
    bias = opt_prop_def(SymbolRefAttr)
    act_min = prop_def(IntegerAttr[IntegerType])
    act_max = prop_def(IntegerAttr[IntegerType])
    numerics = opt_prop_def(StringAttr)

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `->` type($output)"

    def verify_(self) -> None:
        _check_numerics(self)
        _expect_qtensor(self.input, "input", 4)
        _expect_qtensor(self.output, "output", 4)
        _check_clamp(self.act_min, self.act_max)
        weight_shape = _check_weight(self, self.weight, 4)
        self.check_conv_shapes(_shape(self.input), weight_shape, _shape(self.output))
        _check_bias(self, self.bias, weight_shape[0])


@irdl_op_definition
class LinearOp(IRDLOperation):
    """Quantized fully connected layer (the classifier): [N, C] x [O, C]^T + bias -> [N, O]."""

    name = "tt.linear"

    input = operand_def(QTensorType)
    output = result_def(QTensorType)
    weight = prop_def(SymbolRefAttr)
    bias = opt_prop_def(SymbolRefAttr)
    act_min = prop_def(IntegerAttr[IntegerType])
    act_max = prop_def(IntegerAttr[IntegerType])
    numerics = opt_prop_def(StringAttr)

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `->` type($output)"

    def verify_(self) -> None:
        _check_numerics(self)
        _expect_qtensor(self.input, "input", 2)
        _expect_qtensor(self.output, "output", 2)
        _check_clamp(self.act_min, self.act_max)
        o, c = _check_weight(self, self.weight, 2)
        n, c_in = _shape(self.input)
        if c_in != c:
            raise VerifyException(f"input has {c_in} features, weight expects {c}")
        if _shape(self.output) != (n, o):
            raise VerifyException(f"output shape {_shape(self.output)} must be {(n, o)}")
        _check_bias(self, self.bias, o)


@irdl_op_definition
class AddOp(IRDLOperation):
    """Quantized residual add: y = clamp(requantize(deq(lhs) + deq(rhs)), act_min, act_max)."""

    name = "tt.add"

    lhs = operand_def(QTensorType)
    rhs = operand_def(QTensorType)
    output = result_def(QTensorType)
    act_min = prop_def(IntegerAttr[IntegerType])
    act_max = prop_def(IntegerAttr[IntegerType])
    numerics = opt_prop_def(StringAttr)

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($output)"

    def verify_(self) -> None:
        _check_numerics(self)
        _check_clamp(self.act_min, self.act_max)
        if not _shape(self.lhs) == _shape(self.rhs) == _shape(self.output):
            raise VerifyException(
                f"operand and result shapes must match, got {_shape(self.lhs)}, "
                f"{_shape(self.rhs)} -> {_shape(self.output)}"
            )


@irdl_op_definition
class GlobalAvgPoolOp(IRDLOperation):
    """Global average pooling [N, H, W, C] -> [N, 1, 1, C], rounded by the requantization rule."""

    name = "tt.global_avg_pool"

    input = operand_def(QTensorType)
    output = result_def(QTensorType)
    numerics = opt_prop_def(StringAttr)

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$input attr-dict `:` type($input) `->` type($output)"

    def verify_(self) -> None:
        _check_numerics(self)
        _expect_qtensor(self.input, "input", 4)
        n, _, _, c = _shape(self.input)
        if _shape(self.output) != (n, 1, 1, c):
            raise VerifyException(f"output shape {_shape(self.output)} must be {(n, 1, 1, c)}")


@irdl_op_definition
class ReshapeOp(IRDLOperation):
    """Reshape (e.g. flatten [N,1,1,C] -> [N,C]) of a qtensor or an f32 tensor; data unchanged."""

    name = "tt.reshape"

    input = operand_def(QTensorType | TensorType)
    output = result_def(QTensorType | TensorType)

    traits = traits_def(Pure())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$input attr-dict `:` type($input) `->` type($output)"

    def verify_(self) -> None:
        src, dst = self.input.type, self.output.type
        assert isinstance(src, QTensorType | TensorType)
        assert isinstance(dst, QTensorType | TensorType)
        if isinstance(src, QTensorType) != isinstance(dst, QTensorType):
            raise VerifyException("reshape must keep the tensor kind (qtensor or tensor)")
        if isinstance(src, QTensorType) and isinstance(dst, QTensorType):
            if (src.real_scale, src.zp) != (dst.real_scale, dst.zp):
                raise VerifyException("reshape must keep scale and zero point")
        elif src.get_element_type() != dst.get_element_type():
            raise VerifyException("reshape must keep the element type")
        if src.element_count() != dst.element_count():
            raise VerifyException(
                f"reshape must keep the element count: {src.get_shape()} -> {dst.get_shape()}"
            )


@irdl_op_definition
class QuantizeOp(IRDLOperation):
    """Float to int8: q = clamp(round_half_even(x / scale) + zp, -128, 127)."""

    name = "tt.quantize"

    input = operand_def(TensorType)
    output = result_def(QTensorType)

    traits = traits_def(Pure())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$input attr-dict `:` type($input) `->` type($output)"

    def verify_(self) -> None:
        _expect_f32_tensor(self.input, "input")
        if _shape(self.input) != _shape(self.output):
            raise VerifyException("quantize must keep the shape")


@irdl_op_definition
class DequantizeOp(IRDLOperation):
    """Int8 to float: x = scale * (q - zp)."""

    name = "tt.dequantize"

    input = operand_def(QTensorType)
    output = result_def(TensorType)

    traits = traits_def(Pure())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$input attr-dict `:` type($input) `->` type($output)"

    def verify_(self) -> None:
        _expect_f32_tensor(self.output, "result")
        if _shape(self.input) != _shape(self.output):
            raise VerifyException("dequantize must keep the shape")


@irdl_op_definition
class RequantizeOp(IRDLOperation):
    """Change the scale / zero point of an int8 tensor by the requantization rule."""

    name = "tt.requantize"

    input = operand_def(QTensorType)
    output = result_def(QTensorType)
    numerics = opt_prop_def(StringAttr)

    traits = traits_def(Pure())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$input attr-dict `:` type($input) `->` type($output)"

    def verify_(self) -> None:
        _check_numerics(self)
        if _shape(self.input) != _shape(self.output):
            raise VerifyException("requantize must keep the shape")


@irdl_op_definition
class ClampOp(IRDLOperation):
    """Int8 activation clamp (ReLU / ReLU6 in the quantized domain): y = clamp(x, min, max)."""

    name = "tt.clamp"

    input = operand_def(QTensorType)
    output = result_def(QTensorType)
    act_min = prop_def(IntegerAttr[IntegerType])
    act_max = prop_def(IntegerAttr[IntegerType])

    traits = traits_def(Pure())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$input attr-dict `:` type($input) `->` type($output)"

    def verify_(self) -> None:
        _check_clamp(self.act_min, self.act_max)
        if self.input.type != self.output.type:
            raise VerifyException("clamp must keep the type (shape, scale, zero point)")


# --------------------------------------------------------------------------- pooling


def pool_output_size(size: int, kernel: int, stride: int, before: int, after: int) -> int:
    """Spatial output size of a pool with `before` / `after` padding (floor mode)."""
    return (size + before + after - kernel) // stride + 1


class _PoolLike(IRDLOperation):
    """Window geometry shared by the pooling ops and their gradients.

    `kernel` and `stride` are (H, W) pairs; `padding` is (top, left), the same on the opposite
    sides, or (top, left, bottom, right): TensorFlow's SAME padding and PyTorch's ceil_mode pad
    more at the bottom and right. Padded taps are not part of any window (a max or an average
    over the valid taps only, TFLite's rule), so every side must pad less than the kernel.
    """

    kernel = prop_def(DenseArrayBase.constr(i64))
    stride = prop_def(DenseArrayBase.constr(i64))
    padding = prop_def(DenseArrayBase.constr(i64))

    def pool_params(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int, int, int]]:
        """(kernel, stride, (top, left, bottom, right))."""
        kernel = _check_pair(self.kernel, "kernel", 1)
        stride = _check_pair(self.stride, "stride", 1)
        values = _ints(self.padding)
        if len(values) not in (2, 4) or min(values) < 0:
            raise VerifyException(f"padding must be 2 or 4 integers >= 0, got {list(values)}")
        padding = (*values, *values) if len(values) == 2 else values
        if (
            padding[0] >= kernel[0]
            or padding[2] >= kernel[0]
            or padding[1] >= kernel[1]
            or padding[3] >= kernel[1]
        ):
            raise VerifyException(
                f"padding {list(values)} must be smaller than the kernel {list(kernel)} on every side "
                "(a window of padding only has no value)"
            )
        return kernel, stride, (padding[0], padding[1], padding[2], padding[3])

    def pooled_shape(self, input_shape: Sequence[int]) -> tuple[int, int, int, int]:
        """The output shape of the window geometry on an NHWC input."""
        (kh, kw), (sh, sw), (top, left, bottom, right) = self.pool_params()
        n, h, w, c = input_shape
        return (n, pool_output_size(h, kh, sh, top, bottom), pool_output_size(w, kw, sw, left, right), c)

    def check_pool_shapes(
        self,
        input_shape: Sequence[int],
        output_shape: Sequence[int],
        names: tuple[str, str] = ("input", "output"),
    ) -> None:
        expected = self.pooled_shape(input_shape)
        if expected[1] < 1 or expected[2] < 1:
            raise VerifyException(
                f"kernel {_ints(self.kernel)} does not fit the padded input {tuple(input_shape)}"
            )
        if tuple(output_shape) != expected:
            got, source = tuple(output_shape), tuple(input_shape)
            raise VerifyException(
                f"{names[1]} shape {got} does not match the pool of {names[0]} {source}: expected {expected}"
            )

    def taps(self) -> int:
        kh, kw = _check_pair(self.kernel, "kernel", 1)
        return kh * kw


def _check_same_quantization(input_type: QTensorType, output_type: QTensorType, what: str) -> None:
    if (input_type.real_scale, input_type.zp) != (output_type.real_scale, output_type.zp):
        raise VerifyException(
            f"{what} keeps its input's quantization (TFLite's rule): output scale and zero point "
            f"must be {format_float(input_type.real_scale)}:{input_type.zp}, got "
            f"{format_float(output_type.real_scale)}:{output_type.zp}"
        )


GRAD_NAMES = ("grad_input", "grad_output")
MAX_POOL_INDEX_TAPS = 256
"""A kernel of at most this many taps can record its argmax as one byte (tt.max_pool's `indices`)."""


@irdl_op_definition
class MaxPoolOp(_PoolLike):
    """Max pooling of an int8 tensor (TFLite MAX_POOL_2D): y = clamp(max over the window's valid
    taps, act_min, act_max), at the input's scale and zero point.

    The optional second result `indices` (`tensor<...xui8>`, the output's shape) holds, for every
    output, the window tap of its maximum, kh * KW + kw, the first in raster order among equal
    values: what the backward needs instead of the input (pass tt-pool-indices).
    """

    name = "tt.max_pool"

    input = operand_def(QTensorType)
    output = result_def(QTensorType)
    indices = opt_result_def(TensorType)
    act_min = prop_def(IntegerAttr[IntegerType])
    act_max = prop_def(IntegerAttr[IntegerType])

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$input attr-dict `:` type($input) `->` type($output) (`,` type($indices)^)?"

    def verify_(self) -> None:
        input_type = _expect_qtensor(self.input, "input", 4)
        output_type = _expect_qtensor(self.output, "output", 4)
        _check_clamp(self.act_min, self.act_max)
        _check_same_quantization(input_type, output_type, "max pooling")
        self.check_pool_shapes(_shape(self.input), _shape(self.output))
        if self.indices is not None:
            _check_indices(self.indices, _shape(self.output), self.taps())


def _check_indices(value: SSAValue, shape: tuple[int, ...], taps: int) -> None:
    typ = value.type
    if not isinstance(typ, TensorType) or typ.element_type != ui8 or tuple(typ.get_shape()) != shape:
        raise VerifyException(f"indices must be tensor<{'x'.join(map(str, shape))}xui8>, got {typ}")
    if taps > MAX_POOL_INDEX_TAPS:
        raise VerifyException(f"indices need a kernel of at most {MAX_POOL_INDEX_TAPS} taps, got {taps}")


@irdl_op_definition
class AvgPoolOp(_PoolLike):
    """Average pooling of an int8 tensor, TFLite's AVERAGE_POOL_2D exactly: the sum of the raw
    int8 values over the window's valid taps, divided by their count and rounded to nearest
    (ties away from zero, numerics.round_divide), then clamped to [act_min, act_max]; at the
    input's scale and zero point (so the mean of the codes is the code of the mean)."""

    name = "tt.avg_pool"

    input = operand_def(QTensorType)
    output = result_def(QTensorType)
    act_min = prop_def(IntegerAttr[IntegerType])
    act_max = prop_def(IntegerAttr[IntegerType])

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$input attr-dict `:` type($input) `->` type($output)"

    def verify_(self) -> None:
        input_type = _expect_qtensor(self.input, "input", 4)
        output_type = _expect_qtensor(self.output, "output", 4)
        _check_clamp(self.act_min, self.act_max)
        _check_same_quantization(input_type, output_type, "average pooling")
        self.check_pool_shapes(_shape(self.input), _shape(self.output))


# --------------------------------------------------------------------------- lookup-table activations


class _LookupActivation(IRDLOperation):
    """An int8 activation computed by a 256-entry table (numerics.activation_table): the exact
    real function of the dequantized input rounded to the output's quantization (round half to
    even, saturated), one table per op computed at compile time. The output has its own scale
    and zero point; the shape is kept."""

    ACTIVATION: ClassVar[str]

    input = operand_def(QTensorType)
    output = result_def(QTensorType)
    numerics = opt_prop_def(StringAttr)

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$input attr-dict `:` type($input) `->` type($output)"

    def verify_(self) -> None:
        _check_numerics(self, NUMERICS if self.ACTIVATION in TFLITE_TABLES else ('tt',))
        _expect_qtensor(self.input, "input")
        _expect_qtensor(self.output, "output")
        if _shape(self.input) != _shape(self.output):
            raise VerifyException(
                f"{self.name} must keep the shape: {_shape(self.input)} -> {_shape(self.output)}"
            )


@irdl_op_definition
class HardSwishOp(_LookupActivation):
    """Hard-swish x * relu6(x + 3) / 6 (MobileNetV3), by table."""

    name = "tt.hard_swish"
    ACTIVATION: ClassVar[str] = "hard_swish"


@irdl_op_definition
class HardSigmoidOp(_LookupActivation):
    """Hard-sigmoid relu6(x + 3) / 6 (the squeeze-and-excitation gate of MobileNetV3), by table."""

    name = "tt.hard_sigmoid"
    ACTIVATION: ClassVar[str] = "hard_sigmoid"


@irdl_op_definition
class SigmoidOp(_LookupActivation):
    """Sigmoid 1 / (1 + exp(-x)) (TFLite LOGISTIC), by table."""

    name = "tt.sigmoid"
    ACTIVATION: ClassVar[str] = "sigmoid"


TFLITE_TABLES = ("hard_swish", "sigmoid")
"""The table activations with a TFLite rule (numerics = "tflite": TFLite's HARD_SWISH, LOGISTIC)."""

LOOKUP_ACTIVATIONS: dict[str, type[_LookupActivation]] = {
    op.ACTIVATION: op for op in (HardSwishOp, HardSigmoidOp, SigmoidOp)
}


# --------------------------------------------------------------------------- multiply, concat


def is_channel_broadcast(shape: Sequence[int], full: Sequence[int]) -> bool:
    """Whether `shape` is [N, 1, 1, C] broadcast over the NHWC `full` shape [N, H, W, C]."""
    return (
        len(shape) == len(full) == 4 and (shape[0], shape[3]) == (full[0], full[3]) and shape[1:3] == (1, 1)
    )


@irdl_op_definition
class MulOp(IRDLOperation):
    """Element-wise int8 multiply (TFLite MUL, e.g. a squeeze-and-excitation gate):
    y = clamp(requantize((lhs - lhs_zp) * (rhs - rhs_zp), lhs_scale * rhs_scale / y_scale) + y_zp,
    act_min, act_max), one multiplier. `rhs` has the shape of `lhs` or is [N, 1, 1, C] broadcast
    over an [N, H, W, C] `lhs`; the output has the shape of `lhs`."""

    name = "tt.mul"

    lhs = operand_def(QTensorType)
    rhs = operand_def(QTensorType)
    output = result_def(QTensorType)
    act_min = prop_def(IntegerAttr[IntegerType])
    act_max = prop_def(IntegerAttr[IntegerType])
    numerics = opt_prop_def(StringAttr)

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($output)"

    @property
    def broadcast(self) -> bool:
        """Whether rhs is [N, 1, 1, C] broadcast over a larger lhs."""
        return _shape(self.rhs) != _shape(self.lhs)

    def verify_(self) -> None:
        _check_numerics(self)
        _check_clamp(self.act_min, self.act_max)
        lhs, rhs = _shape(self.lhs), _shape(self.rhs)
        if rhs != lhs and not is_channel_broadcast(rhs, lhs):
            raise VerifyException(
                f"rhs shape {rhs} must be the lhs shape {lhs} or [N, 1, 1, C] broadcast over it"
            )
        if _shape(self.output) != lhs:
            raise VerifyException(f"output shape {_shape(self.output)} must be the lhs shape {lhs}")


@irdl_op_definition
class ConcatOp(IRDLOperation):
    """Concatenation on the last (channel) axis. Each input is requantized to the output's
    quantization exactly as tt.requantize does (clamp(requantize(x - x_zp, x_scale / y_scale) +
    y_zp, -128, 127); a copy when the quantizations agree) and written to its channel slice."""

    name = "tt.concat"

    inputs = var_operand_def(QTensorType)
    output = result_def(QTensorType)
    numerics = opt_prop_def(StringAttr)

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$inputs attr-dict `:` type($inputs) `->` type($output)"

    def channel_offsets(self) -> list[int]:
        """The first output channel of each input."""
        offsets, total = [], 0
        for value in self.inputs:
            offsets.append(total)
            total += _shape(value)[-1]
        return offsets

    def verify_(self) -> None:
        _check_numerics(self)
        if len(self.inputs) < 1:
            raise VerifyException("concat needs at least one input")
        output = _shape(self.output)
        for index, value in enumerate(self.inputs):
            shape = _shape(value)
            if len(shape) != len(output) or shape[:-1] != output[:-1]:
                raise VerifyException(
                    f"input {index} shape {shape} must match the output shape {output} but on the last axis"
                )
        channels = sum(_shape(value)[-1] for value in self.inputs)
        if output[-1] != channels:
            raise VerifyException(f"output has {output[-1]} channels, the inputs {channels}")


# --------------------------------------------------------------------------- loss


class _LossLike(IRDLOperation):
    logits = operand_def(QTensorType | TensorType)
    labels = operand_def(TensorType)

    def check_loss_operands(self) -> tuple[int, int]:
        logits_type = self.logits.type
        if isinstance(logits_type, TensorType):
            _expect_f32_tensor(self.logits, "logits", 2)
        else:
            _expect_qtensor(self.logits, "logits", 2)
        n, k = _shape(self.logits)
        labels_type = self.labels.type
        assert isinstance(labels_type, TensorType)
        if labels_type.element_type != i32 or tuple(labels_type.get_shape()) != (n,):
            raise VerifyException(f"labels must be tensor<{n}xi32>, got {labels_type}")
        return n, k


@irdl_op_definition
class CrossEntropyOp(_LossLike):
    """Mean softmax cross-entropy of (dequantized) logits [N, K] against int labels [N]."""

    name = "tt.cross_entropy"

    loss = result_def(Float32Type)

    traits = traits_def(Pure())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$logits `,` $labels attr-dict `:` type($logits) `,` type($labels) `->` type($loss)"

    def verify_(self) -> None:
        self.check_loss_operands()


@irdl_op_definition
class CrossEntropyGradOp(_LossLike):
    """Gradient of tt.cross_entropy w.r.t. the dequantized logits: (softmax - onehot) / N."""

    name = "tt.cross_entropy_grad"

    grad = result_def(TensorType)

    traits = traits_def(Pure())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$logits `,` $labels attr-dict `:` type($logits) `,` type($labels) `->` type($grad)"

    def verify_(self) -> None:
        n, k = self.check_loss_operands()
        _expect_f32_tensor(self.grad, "gradient", 2)
        if _shape(self.grad) != (n, k):
            raise VerifyException(f"gradient shape {_shape(self.grad)} must be {(n, k)}")


# --------------------------------------------------------------------------- backward ops


@irdl_op_definition
class Conv2DGradInputOp(_ConvLike):
    """d loss / d input of tt.conv2d (transposed conv with the dequantized weight)."""

    name = "tt.conv2d_grad_input"

    grad_output = operand_def(TensorType)
    grad_input = result_def(TensorType)
    weight = prop_def(SymbolRefAttr)

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$grad_output `,` $weight attr-dict `:` type($grad_output) `->` type($grad_input)"

    def verify_(self) -> None:
        _expect_f32_tensor(self.grad_output, "grad_output", 4)
        _expect_f32_tensor(self.grad_input, "grad_input", 4)
        weight_shape = _check_weight(self, self.weight, 4)
        self.check_conv_shapes(_shape(self.grad_input), weight_shape, _shape(self.grad_output))

    def can_run_in_place(self) -> bool:
        """A depthwise conv (groups = channels) whose input and output shapes agree (stride 1,
        same padding): each channel of the input gradient reads only its own channel of the
        output gradient, so the runtime can write it over that channel (one plane of scratch)."""
        _, _, groups = self.conv_params()
        shape = _shape(self.grad_input)
        return groups == shape[3] and shape == _shape(self.grad_output)


class _ConvWeightGradLike(_ConvLike):
    """Shared operands and shape rule of ops that compute a conv weight gradient."""

    input = operand_def(QTensorType)
    grad_output = operand_def(TensorType)
    kernel = prop_def(DenseArrayBase.constr(i64))
    channels = opt_prop_def(DenseArrayBase.constr(i64))

    def weight_grad_shape(self) -> tuple[int, ...]:
        """[O, KH, KW, C/groups], narrowed to `channels` on axis 3 (regular) or 0 (depthwise)."""
        _expect_qtensor(self.input, "input", 4)
        _expect_f32_tensor(self.grad_output, "grad_output", 4)
        kh, kw = _check_pair(self.kernel, "kernel", 1)
        _, _, groups = self.conv_params()
        c = _shape(self.input)[3]
        o = _shape(self.grad_output)[3]
        self.check_conv_shapes(_shape(self.input), (o, kh, kw, c // groups), _shape(self.grad_output))
        if self.channels is None:
            return (o, kh, kw, c // groups)
        if groups == 1:
            return (o, kh, kw, _check_channels(self.channels, c, "input"))
        if groups == c == o:
            return (_check_channels(self.channels, c, "depthwise"), kh, kw, 1)
        raise VerifyException("a channel subset needs a regular (groups=1) or depthwise conv")

    def channel_axis(self) -> int:
        """The weight axis `channels` selects: 3 (input channels) or 0 for a depthwise conv."""
        return 3 if self.conv_params()[2] == 1 else 0


@irdl_op_definition
class Conv2DGradWeightOp(_ConvWeightGradLike):
    """d loss / d weight of tt.conv2d, in real units (dequantized input), [O, KH, KW, C/groups].

    With `channels`, only those input channels (regular conv) or those channels (depthwise,
    axis 0 of the result) are computed.
    """

    name = "tt.conv2d_grad_weight"

    grad_weight = result_def(TensorType)

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = (
        "$input `,` $grad_output attr-dict `:` type($input) `,` type($grad_output) `->` type($grad_weight)"
    )

    def verify_(self) -> None:
        _expect_f32_tensor(self.grad_weight, "grad_weight", 4)
        expected = self.weight_grad_shape()
        if _shape(self.grad_weight) != expected:
            raise VerifyException(f"grad_weight shape {_shape(self.grad_weight)} must be {expected}")


@irdl_op_definition
class LinearGradInputOp(IRDLOperation):
    """d loss / d input of tt.linear: grad_output [N, O] x dequantized weight [O, C] -> [N, C]."""

    name = "tt.linear_grad_input"

    grad_output = operand_def(TensorType)
    grad_input = result_def(TensorType)
    weight = prop_def(SymbolRefAttr)

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$grad_output `,` $weight attr-dict `:` type($grad_output) `->` type($grad_input)"

    def verify_(self) -> None:
        _expect_f32_tensor(self.grad_output, "grad_output", 2)
        _expect_f32_tensor(self.grad_input, "grad_input", 2)
        o, c = _check_weight(self, self.weight, 2)
        n, o_out = _shape(self.grad_output)
        if o_out != o or _shape(self.grad_input) != (n, c):
            raise VerifyException(
                f"shapes {_shape(self.grad_output)} -> {_shape(self.grad_input)} do not match "
                f"weight [{o}, {c}]"
            )


def _linear_weight_grad_shape(
    x: SSAValue, grad_output: SSAValue, channels: DenseArrayBase | None
) -> tuple[int, int]:
    """[O, C] of a linear weight gradient, narrowed to `channels` input columns."""
    _expect_qtensor(x, "input", 2)
    _expect_f32_tensor(grad_output, "grad_output", 2)
    n, c = _shape(x)
    n_out, o = _shape(grad_output)
    if n != n_out:
        raise VerifyException(f"batch mismatch: input {n}, grad_output {n_out}")
    return (o, _check_channels(channels, c, "input"))


@irdl_op_definition
class LinearGradWeightOp(IRDLOperation):
    """d loss / d weight of tt.linear: grad_output^T x dequantized input -> [O, C] (or [O, |channels|])."""

    name = "tt.linear_grad_weight"

    input = operand_def(QTensorType)
    grad_output = operand_def(TensorType)
    grad_weight = result_def(TensorType)
    channels = opt_prop_def(DenseArrayBase.constr(i64))

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = (
        "$input `,` $grad_output attr-dict `:` type($input) `,` type($grad_output) `->` type($grad_weight)"
    )

    def verify_(self) -> None:
        _expect_f32_tensor(self.grad_weight, "grad_weight", 2)
        expected = _linear_weight_grad_shape(self.input, self.grad_output, self.channels)
        if _shape(self.grad_weight) != expected:
            raise VerifyException(f"grad_weight shape {_shape(self.grad_weight)} must be {expected}")


@irdl_op_definition
class BiasGradOp(IRDLOperation):
    """d loss / d bias (real units): grad_output summed over every axis but the last."""

    name = "tt.bias_grad"

    grad_output = operand_def(TensorType)
    grad_bias = result_def(TensorType)

    traits = traits_def(Pure())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$grad_output attr-dict `:` type($grad_output) `->` type($grad_bias)"

    def verify_(self) -> None:
        _expect_f32_tensor(self.grad_output, "grad_output")
        _expect_f32_tensor(self.grad_bias, "grad_bias", 1)
        if _shape(self.grad_bias) != _shape(self.grad_output)[-1:]:
            raise VerifyException(
                f"grad_bias shape {_shape(self.grad_bias)} must be {_shape(self.grad_output)[-1:]}"
            )


@irdl_op_definition
class ClampGradOp(IRDLOperation):
    """Straight-through gradient of an int8 clamp: grad where act_min < output < act_max, else 0.

    The backward of tt.conv2d / tt.linear / tt.add / tt.clamp outputs with their fused range.
    """

    name = "tt.clamp_grad"

    grad_output = operand_def(TensorType)
    output = operand_def(QTensorType)
    grad_input = result_def(TensorType)
    act_min = prop_def(IntegerAttr[IntegerType])
    act_max = prop_def(IntegerAttr[IntegerType])

    traits = traits_def(Pure())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = (
        "$grad_output `,` $output attr-dict `:` type($grad_output) `,` type($output) `->` type($grad_input)"
    )

    def verify_(self) -> None:
        _check_clamp(self.act_min, self.act_max)
        _expect_f32_tensor(self.grad_output, "grad_output")
        _expect_f32_tensor(self.grad_input, "grad_input")
        if not _shape(self.grad_output) == _shape(self.output) == _shape(self.grad_input):
            raise VerifyException("grad_output, output and grad_input shapes must match")


@irdl_op_definition
class ClampMaskOp(IRDLOperation):
    """The bit mask a tt.clamp_grad reads, taken in the forward: 1 where act_min < output < act_max.

    Its result is a `tensor<...xi1>` of the output's shape: 1 bit per element (8 elements per
    byte, element i at bit i % 8 of byte i / 8), so the backward keeps an eighth of the bytes of
    the int8 output it replaces.
    """

    name = "tt.clamp_mask"

    output = operand_def(QTensorType)
    mask = result_def(TensorType)
    act_min = prop_def(IntegerAttr[IntegerType])
    act_max = prop_def(IntegerAttr[IntegerType])

    traits = traits_def(Pure())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$output attr-dict `:` type($output) `->` type($mask)"

    def verify_(self) -> None:
        _check_clamp(self.act_min, self.act_max)
        _expect_mask(self.mask, "mask")
        if _shape(self.mask) != _shape(self.output):
            raise VerifyException(f"mask shape {_shape(self.mask)} must be {_shape(self.output)}")


@irdl_op_definition
class MaskGradOp(IRDLOperation):
    """tt.clamp_grad through a tt.clamp_mask: grad_input = grad_output where the mask bit is 1, else 0."""

    name = "tt.mask_grad"

    grad_output = operand_def(TensorType)
    mask = operand_def(TensorType)
    grad_input = result_def(TensorType)

    traits = traits_def(Pure())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = (
        "$grad_output `,` $mask attr-dict `:` type($grad_output) `,` type($mask) `->` type($grad_input)"
    )

    def verify_(self) -> None:
        _expect_f32_tensor(self.grad_output, "grad_output")
        _expect_f32_tensor(self.grad_input, "grad_input")
        _expect_mask(self.mask, "mask")
        if not _shape(self.grad_output) == _shape(self.mask) == _shape(self.grad_input):
            raise VerifyException("grad_output, mask and grad_input shapes must match")


@irdl_op_definition
class GlobalAvgPoolGradOp(IRDLOperation):
    """d loss / d input of tt.global_avg_pool: grad / (H * W) broadcast to [N, H, W, C]."""

    name = "tt.global_avg_pool_grad"

    grad_output = operand_def(TensorType)
    grad_input = result_def(TensorType)

    traits = traits_def(Pure())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$grad_output attr-dict `:` type($grad_output) `->` type($grad_input)"

    def verify_(self) -> None:
        _expect_f32_tensor(self.grad_output, "grad_output", 4)
        _expect_f32_tensor(self.grad_input, "grad_input", 4)
        n, h, w, c = _shape(self.grad_input)
        if _shape(self.grad_output) != (n, 1, 1, c):
            raise VerifyException(f"grad_output shape {_shape(self.grad_output)} must be {(n, 1, 1, c)}")


@irdl_op_definition
class GradAccumulateOp(IRDLOperation):
    """Sum of two gradients of the same value (where an activation has two uses)."""

    name = "tt.grad_accumulate"

    T: ClassVar = VarConstraint("T", base(TensorType))
    lhs = operand_def(T)
    rhs = operand_def(T)
    result = result_def(T)

    traits = traits_def(Pure())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($result)"

    def verify_(self) -> None:
        _expect_f32_tensor(self.result, "result")
        if not self.lhs.type == self.rhs.type == self.result.type:
            raise VerifyException("operands and result must have the same type")


@irdl_op_definition
class MaxPoolGradOp(_PoolLike):
    """d loss / d input of tt.max_pool: each output's gradient goes to the tap of its window's
    maximum (the first in raster order among equal values, as PyTorch), summed where windows
    overlap. `source` is the pool's int8 input (the maximum is found again) or the `indices`
    result of the forward (`tensor<...xui8>` of the output's shape). A narrowed clamp of the
    forward is differentiated before, by tt.clamp_grad."""

    name = "tt.max_pool_grad"

    grad_output = operand_def(TensorType)
    source = operand_def(QTensorType | TensorType)
    grad_input = result_def(TensorType)

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = (
        "$grad_output `,` $source attr-dict `:` type($grad_output) `,` type($source) `->` type($grad_input)"
    )

    @property
    def reads_indices(self) -> bool:
        """Whether the op reads the forward's argmax indices rather than its int8 input."""
        return not isinstance(self.source.type, QTensorType)

    def verify_(self) -> None:
        _expect_f32_tensor(self.grad_output, "grad_output", 4)
        _expect_f32_tensor(self.grad_input, "grad_input", 4)
        self.check_pool_shapes(_shape(self.grad_input), _shape(self.grad_output), GRAD_NAMES)
        if self.reads_indices:
            _check_indices(self.source, _shape(self.grad_output), self.taps())
        elif _shape(self.source) != _shape(self.grad_input):
            source, result = _shape(self.source), _shape(self.grad_input)
            raise VerifyException(f"pool input shape {source} must be the grad_input shape {result}")


@irdl_op_definition
class AvgPoolGradOp(_PoolLike):
    """d loss / d input of tt.avg_pool: each output's gradient divided by its window's count of
    valid taps, added to each of them (straight-through rounding)."""

    name = "tt.avg_pool_grad"

    grad_output = operand_def(TensorType)
    grad_input = result_def(TensorType)

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$grad_output attr-dict `:` type($grad_output) `->` type($grad_input)"

    def verify_(self) -> None:
        _expect_f32_tensor(self.grad_output, "grad_output", 4)
        _expect_f32_tensor(self.grad_input, "grad_input", 4)
        self.check_pool_shapes(_shape(self.grad_input), _shape(self.grad_output), GRAD_NAMES)


@irdl_op_definition
class ActivationGradOp(IRDLOperation):
    """d loss / d input of a table activation (tt.hard_swish, tt.hard_sigmoid, tt.sigmoid):
    grad_output times the derivative of the real function at the dequantized input, 0 where the
    forward's output code is -128 or 127 (numerics.activation_grad_table: one float per input
    code, computed at compile time). `input` is the forward's int8 input, `output_type` the type
    of its result (its quantization decides where the output saturates)."""

    name = "tt.activation_grad"

    grad_output = operand_def(TensorType)
    input = operand_def(QTensorType)
    grad_input = result_def(TensorType)
    activation = prop_def(StringAttr)
    output_type = prop_def(QTensorType)
    numerics = opt_prop_def(StringAttr)

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = (
        "$grad_output `,` $input attr-dict `:` type($grad_output) `,` type($input) `->` type($grad_input)"
    )

    def verify_(self) -> None:
        _check_numerics(self, NUMERICS if self.activation.data in TFLITE_TABLES else ('tt',))
        _expect_f32_tensor(self.grad_output, "grad_output")
        _expect_f32_tensor(self.grad_input, "grad_input")
        if self.activation.data not in LOOKUP_ACTIVATIONS:
            raise VerifyException(
                f"activation must be one of {', '.join(LOOKUP_ACTIVATIONS)}, got '{self.activation.data}'"
            )
        shape = _shape(self.input)
        if not _shape(self.grad_output) == shape == _shape(self.grad_input) == _shape_of(self.output_type):
            raise VerifyException("grad_output, input, grad_input and output_type shapes must match")


@irdl_op_definition
class MulGradOp(IRDLOperation):
    """d loss / d operand of tt.mul, given the other operand `other` (int8): grad_output times
    the dequantized `other`, broadcast where `other` is [N, 1, 1, C]; for the broadcast operand
    itself (grad_input [N, 1, 1, C] of an [N, H, W, C] grad_output) summed over H and W in
    raster order. A narrowed clamp of the forward is differentiated before, by tt.clamp_grad."""

    name = "tt.mul_grad"

    grad_output = operand_def(TensorType)
    other = operand_def(QTensorType)
    grad_input = result_def(TensorType)

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = (
        "$grad_output `,` $other attr-dict `:` type($grad_output) `,` type($other) `->` type($grad_input)"
    )

    @property
    def reduces(self) -> bool:
        """Whether the gradient is of the broadcast operand (summed over H and W)."""
        return _shape(self.grad_input) != _shape(self.grad_output)

    def verify_(self) -> None:
        _expect_f32_tensor(self.grad_output, "grad_output")
        _expect_f32_tensor(self.grad_input, "grad_input")
        full, other, result = _shape(self.grad_output), _shape(self.other), _shape(self.grad_input)
        if result == full:
            if other != full and not is_channel_broadcast(other, full):
                raise VerifyException(f"other shape {other} must be {full} or [N, 1, 1, C] broadcast over it")
        elif not is_channel_broadcast(result, full) or other != full:
            raise VerifyException(
                f"grad_input shape {result} must be the grad_output shape {full}, or [N, 1, 1, C] with "
                f"other of shape {full}"
            )


@irdl_op_definition
class ConcatGradOp(IRDLOperation):
    """d loss / d input of one input of tt.concat: the channels [channel_offset, channel_offset +
    C_i) of grad_output. (An input whose quantization differs from the output's is requantized
    in the forward; its clamp is differentiated before, by tt.clamp_grad, as for tt.requantize.)"""

    name = "tt.concat_grad"

    grad_output = operand_def(TensorType)
    grad_input = result_def(TensorType)
    channel_offset = prop_def(IntegerAttr[IntegerType])

    traits = traits_def(Pure())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$grad_output attr-dict `:` type($grad_output) `->` type($grad_input)"

    def verify_(self) -> None:
        _expect_f32_tensor(self.grad_output, "grad_output")
        _expect_f32_tensor(self.grad_input, "grad_input")
        full, part, offset = _shape(self.grad_output), _shape(self.grad_input), _int(self.channel_offset)
        if len(full) != len(part) or full[:-1] != part[:-1]:
            raise VerifyException(f"grad_input shape {part} must match {full} on every axis but the last")
        if offset < 0 or offset + part[-1] > full[-1]:
            raise VerifyException(
                f"channels [{offset}, {offset + part[-1]}) are not among the {full[-1]} of grad_output"
            )


# --------------------------------------------------------------------------- updates


def _check_rounding(rounding: StringAttr) -> None:
    if rounding.data not in ROUNDING_MODES:
        raise VerifyException(f"rounding must be one of {', '.join(ROUNDING_MODES)}, got '{rounding.data}'")


def _check_updated_slice(
    op: Operation,
    ref: SymbolRefAttr,
    grad_shape: tuple[int, ...],
    channels: DenseArrayBase | None,
    axis: int | None,
) -> ParamOp:
    """The gradient must cover the parameter, or its `channels` slice along `axis`."""
    param = lookup_param(op, ref)
    expected = list(param.shape)
    if channels is not None and axis is not None:
        if not 0 <= axis < len(expected):
            raise VerifyException(f"channel_axis {axis} out of range for {param.param_type}")
        expected[axis] = _check_channels(channels, expected[axis], "update")
    if grad_shape != tuple(expected):
        raise VerifyException(f"grad shape {grad_shape} does not match the updated slice {tuple(expected)}")
    return param


@irdl_op_definition
class SGDUpdateOp(IRDLOperation):
    """In-place SGD step on the stored integers of an int8 weight or int32 bias parameter.

    `grad` is the gradient w.r.t. the stored integers (see tt.scale_grad);
    delta[i] = lr * grad_scale * grad[i]; param[i] = saturate(param[i] - round(delta[i])) with
    `rounding` stochastic | nearest | truncate (docs/numerics.md). With `channels`, grad covers
    only those indices of axis `channel_axis` of the parameter.
    """

    name = "tt.sgd_update"

    param = prop_def(SymbolRefAttr)
    grad = operand_def(TensorType)
    lr = operand_def(Float32Type)
    grad_scale = prop_def(FloatAttr)
    rounding = prop_def(StringAttr)
    channels = opt_prop_def(DenseArrayBase.constr(i64))
    channel_axis = opt_prop_def(IntegerAttr[IntegerType])

    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$param `,` $grad `,` $lr attr-dict `:` type($grad)"

    def verify_(self) -> None:
        _check_rounding(self.rounding)
        _expect_f32_tensor(self.grad, "grad")
        if (self.channels is None) != (self.channel_axis is None):
            raise VerifyException("channels and channel_axis must be given together")
        axis = None if self.channel_axis is None else _int(self.channel_axis)
        _check_updated_slice(self, self.param, _shape(self.grad), self.channels, axis)


@irdl_op_definition
class ScaleGradOp(IRDLOperation):
    """Per-output-channel gradient scaling by the parameter's own scales: g[o, ...] * s[o]**power.

    power = 1 turns a real-unit gradient into the gradient w.r.t. the stored integers (chain
    rule, what tt-autodiff emits); tt-qas multiplies by s**-2 (quantization-aware scaling).
    With `channels`, axis 0 of the gradient holds only those output channels.
    """

    name = "tt.scale_grad"

    T: ClassVar = VarConstraint("T", base(TensorType))
    grad = operand_def(T)
    result = result_def(T)
    param = prop_def(SymbolRefAttr)
    power = prop_def(IntegerAttr[IntegerType])
    channels = opt_prop_def(DenseArrayBase.constr(i64))

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = "$grad `,` $param attr-dict `:` type($result)"

    def verify_(self) -> None:
        _expect_f32_tensor(self.grad, "grad")
        param = lookup_param(self, self.param)
        if param.scales is None:
            raise VerifyException(f"scaled parameter {self.param} must carry per-channel scales")
        rows = _check_channels(self.channels, param.shape[0], "scale_grad")
        shape = _shape(self.grad)
        if not shape or shape[0] != rows:
            raise VerifyException(f"grad shape {shape} must have {rows} output channels on axis 0")


# --------------------------------------------------------------------------- fused updates


class _FusedUpdateLike(IRDLOperation):
    """A weight or bias gradient consumed by its SGD update as it is produced (tt-fuse-update).

    Computes what `<gradient op>`, `tt.scale_grad {power}` and `tt.sgd_update` compute in turn
    (scale s[o]**power per output channel; power 0: no scaling), one output channel at a time,
    so no full gradient buffer exists. Stochastic rounding consumes the update RNG in the
    row-major order of the unfused gradient, so fused and unfused steps are bit identical.
    """

    param = prop_def(SymbolRefAttr)
    lr = operand_def(Float32Type)
    power = prop_def(IntegerAttr[IntegerType])
    grad_scale = prop_def(FloatAttr)
    rounding = prop_def(StringAttr)

    irdl_options = PROPS_IN_ATTR_DICT

    def update_axis(self) -> int:
        """The parameter axis a channel subset selects."""
        raise NotImplementedError

    def check_update(self, grad_shape: tuple[int, ...], channels: DenseArrayBase | None, axis: int) -> None:
        _check_fused_update(self, self.param, self.power, self.rounding, grad_shape, channels, axis)


def _check_fused_update(
    op: Operation,
    ref: SymbolRefAttr,
    power: IntegerAttr,
    rounding: StringAttr,
    grad_shape: tuple[int, ...],
    channels: DenseArrayBase | None,
    axis: int,
) -> None:
    """The update attributes of a fused gradient + scaling + SGD update of parameter `ref`."""
    _check_rounding(rounding)
    param = _check_updated_slice(op, ref, grad_shape, channels, axis)
    if _int(power) != 0 and param.scales is None:
        raise VerifyException(f"scaled parameter {ref} must carry per-channel scales")


@irdl_op_definition
class Conv2DWeightUpdateOp(_ConvWeightGradLike, _FusedUpdateLike):
    """tt.conv2d_grad_weight + tt.scale_grad + tt.sgd_update on a conv weight, fused."""

    name = "tt.conv2d_weight_update"

    assembly_format = (
        "$param `,` $input `,` $grad_output `,` $lr attr-dict `:` type($input) `,` type($grad_output)"
    )

    def update_axis(self) -> int:
        return self.channel_axis()

    def verify_(self) -> None:
        self.check_update(self.weight_grad_shape(), self.channels, self.update_axis())


@irdl_op_definition
class LinearWeightUpdateOp(_FusedUpdateLike):
    """tt.linear_grad_weight + tt.scale_grad + tt.sgd_update on a linear weight, fused."""

    name = "tt.linear_weight_update"

    input = operand_def(QTensorType)
    grad_output = operand_def(TensorType)
    channels = opt_prop_def(DenseArrayBase.constr(i64))

    assembly_format = (
        "$param `,` $input `,` $grad_output `,` $lr attr-dict `:` type($input) `,` type($grad_output)"
    )

    def update_axis(self) -> int:
        return LINEAR_CHANNEL_AXIS

    def verify_(self) -> None:
        shape = _linear_weight_grad_shape(self.input, self.grad_output, self.channels)
        self.check_update(shape, self.channels, self.update_axis())


@irdl_op_definition
class BiasUpdateOp(_FusedUpdateLike):
    """tt.bias_grad + tt.scale_grad + tt.sgd_update on a bias, fused."""

    name = "tt.bias_update"

    grad_output = operand_def(TensorType)

    assembly_format = "$param `,` $grad_output `,` $lr attr-dict `:` type($grad_output)"

    def update_axis(self) -> int:
        return 0

    def verify_(self) -> None:
        _expect_f32_tensor(self.grad_output, "grad_output")
        self.check_update(_shape(self.grad_output)[-1:], None, self.update_axis())


UPDATE_OPS = (SGDUpdateOp, _FusedUpdateLike)
"""Every op class whose ops always change a parameter in place (`updated_param` also sees the ops
that change one only when they carry an update, tt.expand_depthwise_grad_input)."""


# --------------------------------------------------------------------------- fused input gradients


@irdl_op_definition
class ExpandDepthwiseGradInputOp(IRDLOperation):
    """The input gradient through a depthwise conv and the 1x1 expand conv before it, computed one
    channel at a time (tt-fuse-expand-grad). Computes exactly what this chain computes:

        %a = tt.conv2d_grad_input %grad_output, @depthwise_weight {stride, padding, groups = C}
        %b = tt.mask_grad %a, %mask                       (the expand conv's clamp, [N, H, W, C])
        tt.bias_update @param, %b, %lr {power, grad_scale, rounding}      (optional)
        %grad_input = tt.conv2d_grad_input %b, @expand_weight {stride 1, padding 0, groups 1}

    with @depthwise_weight [C, KH, KW, 1] and @expand_weight [C, 1, 1, C_in]; `param` (the expand
    conv's bias [C]) and `lr`, `power`, `grad_scale`, `rounding` are given together, exactly when
    the bias update is part of the chain. %a and %b never exist: the runtime computes one
    [N, H, W] plane of %b at a time (passes/memory/liveness.py: scratch_bytes), and the result
    is bit identical because no float is computed in another order:
    - channel c of %a reads only channel c of %grad_output, and each of its elements receives the
      contributions of the output positions in raster order, from 0, as in the unfused kernel;
    - the mask is elementwise;
    - the bias gradient of channel c sums its plane over the positions in order, as tt.bias_grad
      does; its update draws u(counter + c) with the counter at the op's start, then the counter
      advances by C, as tt.bias_update does;
    - each element of %grad_input sums w[c, i] * (%b[c] * s[c]) over c ascending from 0, skipping
      zeros, as the unfused pointwise input gradient does.
    """

    name = "tt.expand_depthwise_grad_input"

    grad_output = operand_def(TensorType)
    mask = operand_def(TensorType)
    lr = opt_operand_def(Float32Type)
    grad_input = result_def(TensorType)
    depthwise_weight = prop_def(SymbolRefAttr)
    stride = prop_def(DenseArrayBase.constr(i64))
    padding = prop_def(DenseArrayBase.constr(i64))
    expand_weight = prop_def(SymbolRefAttr)
    param = opt_prop_def(SymbolRefAttr)
    power = opt_prop_def(IntegerAttr[IntegerType])
    grad_scale = opt_prop_def(FloatAttr)
    rounding = opt_prop_def(StringAttr)

    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = (
        "$grad_output `,` $mask `depthwise` $depthwise_weight `expand` $expand_weight "
        "(`bias_update` $param^ `,` $lr)? attr-dict `:` type($grad_output) `,` type($mask) `->` "
        "type($grad_input)"
    )

    @property
    def has_bias_update(self) -> bool:
        """Whether the expand conv's bias update is part of the op."""
        return self.param is not None

    def depthwise_params(self) -> tuple[tuple[int, int], tuple[int, int], int]:
        """(stride, padding, groups) of the depthwise conv (the op must verify)."""
        stride = _check_pair(self.stride, "stride", 1)
        padding = _check_pair(self.padding, "padding", 0)
        return stride, padding, _shape(self.grad_output)[3]

    def update_axis(self) -> int:
        """The axis of the updated bias (all of it)."""
        return 0

    def verify_(self) -> None:
        _expect_f32_tensor(self.grad_output, "grad_output", 4)
        _expect_f32_tensor(self.grad_input, "grad_input", 4)
        n, ho, wo, c = _shape(self.grad_output)
        _expect_mask(self.mask, "mask")
        mask_shape = _shape(self.mask)
        if len(mask_shape) != 4 or mask_shape[0] != n or mask_shape[3] != c:
            raise VerifyException(f"mask shape {mask_shape} must be [{n}, H, W, {c}] (the expanded tensor)")
        _, h, w, _ = mask_shape
        (sh, sw), (ph, pw), _ = self.depthwise_params()
        kh, kw = _check_weight(self, self.depthwise_weight, 4)[1:3]
        _check_stage_weight(self, self.depthwise_weight, (c, kh, kw, 1), "depthwise")
        expected = (n, conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw), c)
        if (n, ho, wo, c) != expected:
            raise VerifyException(
                f"grad_output shape {(n, ho, wo, c)} is not the depthwise conv output of the "
                f"expanded shape {mask_shape}: expected {expected}"
            )
        c_in = _shape(self.grad_input)[3]
        _check_stage_weight(self, self.expand_weight, (c, 1, 1, c_in), "expand")
        if _shape(self.grad_input) != (n, h, w, c_in):
            raise VerifyException(f"grad_input shape {_shape(self.grad_input)} must be {(n, h, w, c_in)}")
        self._verify_bias_update(c)

    def _verify_bias_update(self, channels: int) -> None:
        parts = {
            "param": self.param,
            "lr": self.lr,
            "power": self.power,
            "grad_scale": self.grad_scale,
            "rounding": self.rounding,
        }
        given = [name for name, value in parts.items() if value is not None]
        if given and len(given) != len(parts):
            missing = [name for name in parts if name not in given]
            raise VerifyException(f"a bias update needs {', '.join(missing)} besides {', '.join(given)}")
        if self.param is not None:
            assert self.power is not None and self.rounding is not None
            _check_fused_update(self, self.param, self.power, self.rounding, (channels,), None, 0)


def updated_param(op: Operation) -> SymbolRefAttr | None:
    """The parameter `op` changes in place, or None: every question "which ops update @p" asks this."""
    if isinstance(op, (*UPDATE_OPS, ExpandDepthwiseGradInputOp)):
        return op.param
    return None


def update_axis(op: SGDUpdateOp | _FusedUpdateLike | ExpandDepthwiseGradInputOp) -> int:
    """The parameter axis an update's `channels` index (ask only of an update with channels)."""
    if isinstance(op, SGDUpdateOp):
        assert op.channel_axis is not None
        return int(op.channel_axis.value.data)
    return op.update_axis()


def updated_channels(op: Operation) -> tuple[int, ...] | None:
    """The channels of update_axis(op) an update writes, or None for all of them."""
    channels = getattr(op, "channels", None)
    return None if channels is None else tuple(int(v) for v in channels.get_values())


# --------------------------------------------------------------------------- frozen-layer fusion


def _check_act_range(attr: DenseArrayBase, what: str) -> tuple[int, int]:
    values = _ints(attr)
    if len(values) != 2 or not -128 <= values[0] <= values[1] <= 127:
        raise VerifyException(
            f"{what} must be [act_min, act_max] with -128 <= act_min <= act_max <= 127, got {list(values)}"
        )
    return values[0], values[1]


def _check_stage_weight(op: Operation, ref: SymbolRefAttr, expected: tuple[int, ...], what: str) -> None:
    shape = _check_weight(op, ref, 4)
    if shape != expected:
        raise VerifyException(f"{what} weight {ref} must have shape {expected}, got {shape}")


@irdl_op_definition
class BottleneckOp(IRDLOperation):
    """A frozen inverted bottleneck, executed row-streamed (tt-stream-frozen).

    Computes exactly what the chain of three `tt.conv2d` computes:

        %e = tt.conv2d %input, @expand_weight, @expand_bias     (KExKE', groups 1; optional)
        %d = tt.conv2d %e, @depthwise_weight, @depthwise_bias   (KHxKW depthwise, stride, padding)
        %y = tt.conv2d %d, @project_weight, @project_bias       (1x1, groups 1)

    each with its own requantization and clamp: `expanded_type` / `depthwise_type` are the types
    of %e / %d, `expand_act` / `depthwise_act` / `project_act` the [act_min, act_max] of each
    conv, `stride` / `padding` those of the depthwise conv, `expand_stride` / `expand_padding`
    those of the expand conv (default 1 and 0: the 1x1 expand of an inverted bottleneck; a
    strided KxK expand is a network's stem conv streamed into its first block). The project conv
    has stride 1, no padding. Without `expand_weight` (expansion ratio 1) the depthwise conv
    reads %input. The runtime never materializes %e or %d: it keeps KH rows of %e and one row
    of %d in a scratch buffer (passes/memory/liveness.py: bottleneck_scratch_bytes).
    """

    name = "tt.bottleneck"

    input = operand_def(QTensorType)
    output = result_def(QTensorType)
    expand_weight = opt_prop_def(SymbolRefAttr)
    expand_bias = opt_prop_def(SymbolRefAttr)
    depthwise_weight = prop_def(SymbolRefAttr)
    depthwise_bias = opt_prop_def(SymbolRefAttr)
    project_weight = prop_def(SymbolRefAttr)
    project_bias = opt_prop_def(SymbolRefAttr)
    expanded_type = opt_prop_def(QTensorType)
    depthwise_type = prop_def(QTensorType)
    expand_act = opt_prop_def(DenseArrayBase.constr(i64))
    expand_stride = opt_prop_def(DenseArrayBase.constr(i64))
    expand_padding = opt_prop_def(DenseArrayBase.constr(i64))
    depthwise_act = prop_def(DenseArrayBase.constr(i64))
    project_act = prop_def(DenseArrayBase.constr(i64))
    stride = prop_def(DenseArrayBase.constr(i64))
    padding = prop_def(DenseArrayBase.constr(i64))
    numerics = opt_prop_def(StringAttr)

    traits = traits_def(NoMemoryEffect())
    irdl_options = PROPS_IN_ATTR_DICT
    assembly_format = (
        "$input (`expand` $expand_weight^ (`,` $expand_bias^)?)? "
        "`depthwise` $depthwise_weight (`,` $depthwise_bias^)? "
        "`project` $project_weight (`,` $project_bias^)? "
        "attr-dict `:` type($input) `->` type($output)"
    )

    @property
    def has_expand(self) -> bool:
        return self.expand_weight is not None

    def kernel(self) -> tuple[int, int]:
        """(KH, KW) of the depthwise conv (from its weight; the op must verify)."""
        shape = lookup_param(self, self.depthwise_weight).shape
        return shape[1], shape[2]

    def expand_geometry(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        """(kernel, stride, padding) of the expand conv (the op must have one and verify)."""
        assert self.expand_weight is not None
        kernel = lookup_param(self, self.expand_weight).shape[1:3]
        stride = _ints(self.expand_stride) if self.expand_stride is not None else (1, 1)
        padding = _ints(self.expand_padding) if self.expand_padding is not None else (0, 0)
        return (kernel[0], kernel[1]), (stride[0], stride[1]), (padding[0], padding[1])

    def verify_(self) -> None:
        _check_numerics(self)
        n, h, w, c = _shape_of(_expect_qtensor(self.input, "input", 4))
        _expect_qtensor(self.output, "output", 4)
        h, w, hidden = self._verify_expand(n, h, w, c)
        n, ho, wo = self._verify_depthwise(n, h, w, hidden)
        o = _check_weight(self, self.project_weight, 4)[0]
        _check_stage_weight(self, self.project_weight, (o, 1, 1, hidden), "project")
        _check_bias(self, self.project_bias, o)
        _check_act_range(self.project_act, "project_act")
        if _shape(self.output) != (n, ho, wo, o):
            raise VerifyException(f"output shape {_shape(self.output)} must be {(n, ho, wo, o)}")

    def _verify_expand(self, n: int, h: int, w: int, c: int) -> tuple[int, int, int]:
        """Check the optional expand conv; returns the (height, width, channels) the depthwise
        conv reads."""
        parts = {
            "expand_bias": self.expand_bias,
            "expanded_type": self.expanded_type,
            "expand_act": self.expand_act,
            "expand_stride": self.expand_stride,
            "expand_padding": self.expand_padding,
        }
        if not self.has_expand:
            given = [name for name, value in parts.items() if value is not None]
            if given:
                raise VerifyException(f"{', '.join(given)} given without expand_weight")
            return h, w, c
        missing = [name for name in ("expanded_type", "expand_act") if parts[name] is None]
        if missing:
            raise VerifyException(f"an expand conv needs {' and '.join(missing)}")
        assert self.expand_weight is not None and self.expanded_type is not None
        assert self.expand_act is not None
        if self.expand_stride is not None:
            _check_pair(self.expand_stride, "expand_stride", 1)
        if self.expand_padding is not None:
            _check_pair(self.expand_padding, "expand_padding", 0)
        shape = _check_weight(self, self.expand_weight, 4)
        hidden = shape[0]
        _check_stage_weight(self, self.expand_weight, (hidden, shape[1], shape[2], c), "expand")
        _check_bias(self, self.expand_bias, hidden)
        _check_act_range(self.expand_act, "expand_act")
        (kh, kw), (sh, sw), (ph, pw) = self.expand_geometry()
        he, we = conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)
        if he < 1 or we < 1:
            raise VerifyException(f"expand kernel {(kh, kw)} does not fit the padded input {(h, w)}")
        if _shape_of(self.expanded_type) != (n, he, we, hidden):
            raise VerifyException(
                f"expanded_type shape {_shape_of(self.expanded_type)} must be {(n, he, we, hidden)}"
            )
        return he, we, hidden

    def _verify_depthwise(self, n: int, h: int, w: int, channels: int) -> tuple[int, int, int]:
        """Check the depthwise conv on [n, h, w, channels]; returns (n, output h, output w)."""
        sh, sw = _check_pair(self.stride, "stride", 1)
        ph, pw = _check_pair(self.padding, "padding", 0)
        shape = _check_weight(self, self.depthwise_weight, 4)
        _check_stage_weight(self, self.depthwise_weight, (channels, shape[1], shape[2], 1), "depthwise")
        _check_bias(self, self.depthwise_bias, channels)
        _check_act_range(self.depthwise_act, "depthwise_act")
        ho, wo = conv_output_size(h, shape[1], sh, ph), conv_output_size(w, shape[2], sw, pw)
        if ho < 1 or wo < 1:
            raise VerifyException(f"depthwise kernel {shape[1:3]} does not fit the padded input {(h, w)}")
        expected = (n, ho, wo, channels)
        if _shape_of(self.depthwise_type) != expected:
            raise VerifyException(f"depthwise_type shape {_shape_of(self.depthwise_type)} must be {expected}")
        return n, ho, wo


def _shape_of(typ: QTensorType) -> tuple[int, ...]:
    return tuple(typ.get_shape())


TT = Dialect(
    "tt",
    [
        ParamOp,
        Conv2DOp,
        LinearOp,
        AddOp,
        GlobalAvgPoolOp,
        MaxPoolOp,
        AvgPoolOp,
        HardSwishOp,
        HardSigmoidOp,
        SigmoidOp,
        MulOp,
        ConcatOp,
        ReshapeOp,
        QuantizeOp,
        DequantizeOp,
        RequantizeOp,
        ClampOp,
        CrossEntropyOp,
        CrossEntropyGradOp,
        Conv2DGradInputOp,
        Conv2DGradWeightOp,
        LinearGradInputOp,
        LinearGradWeightOp,
        BiasGradOp,
        ClampGradOp,
        ClampMaskOp,
        MaskGradOp,
        GlobalAvgPoolGradOp,
        MaxPoolGradOp,
        AvgPoolGradOp,
        ActivationGradOp,
        MulGradOp,
        ConcatGradOp,
        GradAccumulateOp,
        ScaleGradOp,
        Conv2DWeightUpdateOp,
        LinearWeightUpdateOp,
        BiasUpdateOp,
        SGDUpdateOp,
        ExpandDepthwiseGradInputOp,
        BottleneckOp,
    ],
    [QTensorType, ExternalDataAttr],
)
