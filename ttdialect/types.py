"""Types and attributes of the `tt` dialect.

`!tt.qtensor<1x32x32x16, 0.0235:-128>` is an int8 activation tensor with a per-tensor scale and
zero point (real = scale * (q - zp)), written like MLIR's `quant.uniform` `scale:zp` pair.
`#tt.external<"key">` stands for an array kept in the weights file beside the IR.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import (
    ArrayAttr,
    ContainerType,
    FloatData,
    IntAttr,
    ShapedType,
    StringAttr,
    i8,
)
from xdsl.ir import Attribute, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException


def format_float(value: float) -> str:
    """Shortest text that parses back to exactly `value`, as an MLIR float literal."""
    text = repr(float(value))
    if "e" in text and "." not in text.split("e")[0]:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


@irdl_attr_definition
class QTensorType(ParametrizedAttribute, TypeAttribute, ShapedType, ContainerType[Attribute]):
    """An int8 tensor quantized per tensor: real = scale * (q - zero_point)."""

    name = "tt.qtensor"

    shape: ArrayAttr[IntAttr]
    scale: FloatData
    zero_point: IntAttr

    def __init__(self, shape: Sequence[int], scale: float, zero_point: int):
        super().__init__(ArrayAttr(IntAttr(d) for d in shape), FloatData(float(scale)), IntAttr(zero_point))

    def get_num_dims(self) -> int:
        return len(self.shape.data)

    def get_shape(self) -> tuple[int, ...]:
        return tuple(d.data for d in self.shape.data)

    def get_element_type(self) -> Attribute:
        return i8

    @property
    def zp(self) -> int:
        return self.zero_point.data

    @property
    def real_scale(self) -> float:
        return self.scale.data

    def with_shape(self, shape: Sequence[int]) -> QTensorType:
        return QTensorType(shape, self.real_scale, self.zp)

    def with_scale(self, scale: float, zero_point: int) -> QTensorType:
        return QTensorType(self.get_shape(), scale, zero_point)

    def verify(self) -> None:
        if any(d.data <= 0 for d in self.shape.data):
            raise VerifyException(f"{self.name} dimensions must be positive, got {self.get_shape()}")
        if not 0 < self.scale.data < float("inf"):
            raise VerifyException(f"{self.name} scale must be positive and finite, got {self.scale.data}")
        if not -128 <= self.zero_point.data <= 127:
            raise VerifyException(
                f"{self.name} zero point must be in [-128, 127], got {self.zero_point.data}"
            )

    def print_parameters(self, printer: Printer) -> None:
        dims = "x".join(str(d) for d in self.get_shape())
        printer.print_string(f"<{dims}, {format_float(self.scale.data)}:{self.zero_point.data}>")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> tuple[ArrayAttr[IntAttr], FloatData, IntAttr]:
        with parser.in_angle_brackets():
            dims = parser.parse_dimension_list()
            if not dims:
                parser.raise_error("expected a static shape such as 1x8x8x16")
            parser.parse_punctuation(",")
            scale = parser.parse_number()
            parser.parse_punctuation(":")
            zero_point = parser.parse_integer()
        return ArrayAttr(IntAttr(d) for d in dims), FloatData(float(scale)), IntAttr(zero_point)


@irdl_attr_definition
class ExternalDataAttr(ParametrizedAttribute):
    """An array stored under `key` in the module's weights file (`tt.weights`)."""

    name = "tt.external"

    key: StringAttr

    def __init__(self, key: str):
        super().__init__(StringAttr(key))

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_string_literal(self.key.data)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> tuple[StringAttr]:
        with parser.in_angle_brackets():
            key = parser.parse_str_literal()
        return (StringAttr(key),)
