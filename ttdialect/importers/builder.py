"""ModelBuilder: the one place importers turn an int8 network into tt forward IR.

Importers describe layers (integer weights, scales, quantization of every activation);
the builder makes the `tt.param` symbols, the ops of `func.func @forward`, and writes the IR
file with its weights file beside it (big arrays external, small ones inline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    BytesAttr,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    SymbolRefAttr,
    TensorType,
    f32,
    i8,
    i32,
    i64,
)
from xdsl.ir import Block, Region, SSAValue

from ttdialect import dialect as tt
from ttdialect.ir_io import module_text
from ttdialect.outputs import Outputs, npz_bytes
from ttdialect.types import ExternalDataAttr, QTensorType
from ttdialect.weights import WEIGHTS_ATTR

INLINE_LIMIT = 64
"""Arrays with at most this many elements are written inline in the IR."""


def dense_attr(array: np.ndarray) -> DenseIntOrFPElementsAttr:
    """A dense attribute holding `array` (int8, int32 or float32), built from its bytes."""
    element = {np.dtype(np.int8): i8, np.dtype(np.int32): i32, np.dtype(np.float32): f32}[array.dtype]
    typ = TensorType(element, list(array.shape))
    return DenseIntOrFPElementsAttr(typ, BytesAttr(np.ascontiguousarray(array).tobytes()))


def value_name(layer: str) -> str:
    """An SSA name for the result of `layer` (`blocks.0.conv` -> `blocks_0_conv`, `0` -> `layer_0`)."""
    name = re.sub(r"[^A-Za-z0-9_$]", "_", layer.strip("."))
    return name if name[:1].isalpha() else f"layer_{name}"


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    first, second = value
    return int(first), int(second)


@dataclass
class _Param:
    name: str
    value: np.ndarray
    scales: np.ndarray


@dataclass
class ModelBuilder:
    """Builds `func.func @forward(%image) -> logits` and its parameters, layer by layer.

    `numerics = "tflite"` gives every op that requantizes or looks up a table TFLite's integer
    rules (the `numerics` property; ttdialect/numerics.py)."""

    input_type: QTensorType
    params: list[_Param] = field(default_factory=list)
    numerics: str = "tt"

    def __post_init__(self) -> None:
        self.block = Block(arg_types=[self.input_type])
        self.block.args[0].name_hint = "image"

    @property
    def image(self) -> SSAValue:
        return self.block.args[0]

    def add_param(self, name: str, value: np.ndarray, scales: np.ndarray) -> SymbolRefAttr:
        if any(p.name == name for p in self.params):
            raise ValueError(f"parameter {name} defined twice")
        self.params.append(_Param(name, value, np.asarray(scales, dtype=np.float32).reshape(-1)))
        return SymbolRefAttr(name)

    def _weight_and_bias(
        self, prefix: str, weight: np.ndarray, w_scales: np.ndarray, bias: np.ndarray | None, x_scale: float
    ) -> tuple[SymbolRefAttr, SymbolRefAttr | None]:
        weight_ref = self.add_param(f"{prefix}weight", weight.astype(np.int8), w_scales)
        bias_ref = None
        if bias is not None:
            bias_scales = np.float32(x_scale) * np.asarray(w_scales, dtype=np.float32)
            bias_ref = self.add_param(f"{prefix}bias", bias.astype(np.int32), bias_scales)
        return weight_ref, bias_ref

    @staticmethod
    def _bias_prop(bias_ref: SymbolRefAttr | None) -> dict[str, SymbolRefAttr]:
        """The optional `bias` property: absent (not None) for a layer without bias."""
        return {} if bias_ref is None else {"bias": bias_ref}

    @staticmethod
    def _clamp_props(act_min: int, act_max: int) -> dict[str, IntegerAttr]:
        return {"act_min": IntegerAttr(act_min, i64), "act_max": IntegerAttr(act_max, i64)}

    def _numerics_prop(self) -> dict[str, StringAttr]:
        """The `numerics` property: absent for tt's own rules."""
        return {} if self.numerics == "tt" else {"numerics": StringAttr(self.numerics)}

    def conv2d(
        self,
        x: SSAValue,
        prefix: str,
        weight_ohwi: np.ndarray,
        w_scales: np.ndarray,
        bias: np.ndarray | None,
        stride: int | tuple[int, int],
        padding: int | tuple[int, int] | tuple[int, int, int, int],
        groups: int,
        out_scale: float,
        out_zp: int,
        act_range: tuple[int, int] = (-128, 127),
    ) -> SSAValue:
        """Append a tt.conv2d named `prefix` (parameters `<prefix>weight`, `<prefix>bias`).

        `stride` is one int for both axes or an (H, W) pair; `padding` one int, an (H, W) pair
        or (top, left, bottom, right).
        """
        x_type = x.type
        assert isinstance(x_type, QTensorType)
        n, h, w, _ = x_type.get_shape()
        o, kh, kw, _ = weight_ohwi.shape
        sh, sw = _pair(stride)
        if isinstance(padding, tuple) and len(padding) == 4:
            top, left, bottom, right = (int(v) for v in padding)
        else:
            top, left = _pair(padding)  # type: ignore[arg-type]
            bottom, right = top, left
        pads = [top, left] if (top, left) == (bottom, right) else [top, left, bottom, right]
        out_shape = (
            n,
            tt.conv_output_size(h, kh, sh, top, bottom),
            tt.conv_output_size(w, kw, sw, left, right),
            o,
        )
        weight_ref, bias_ref = self._weight_and_bias(prefix, weight_ohwi, w_scales, bias, x_type.real_scale)
        op = tt.Conv2DOp.create(
            operands=[x],
            result_types=[QTensorType(out_shape, out_scale, out_zp)],
            properties={
                "weight": weight_ref,
                **self._bias_prop(bias_ref),
                "stride": DenseArrayBase.from_list(i64, [sh, sw]),
                "padding": DenseArrayBase.from_list(i64, pads),
                "groups": IntegerAttr(groups, i64),
                **self._clamp_props(*act_range),
                **self._numerics_prop(),
            },
        )
        return self._append(op, prefix)

    def linear(
        self,
        x: SSAValue,
        prefix: str,
        weight: np.ndarray,
        w_scales: np.ndarray,
        bias: np.ndarray | None,
        out_scale: float,
        out_zp: int,
        act_range: tuple[int, int] = (-128, 127),
    ) -> SSAValue:
        x_type = x.type
        assert isinstance(x_type, QTensorType)
        weight_ref, bias_ref = self._weight_and_bias(prefix, weight, w_scales, bias, x_type.real_scale)
        op = tt.LinearOp.create(
            operands=[x],
            result_types=[QTensorType((x_type.get_shape()[0], weight.shape[0]), out_scale, out_zp)],
            properties={
                "weight": weight_ref,
                **self._bias_prop(bias_ref),
                **self._clamp_props(*act_range),
                **self._numerics_prop(),
            },
        )
        return self._append(op, prefix)

    def add(
        self,
        lhs: SSAValue,
        rhs: SSAValue,
        out_scale: float,
        out_zp: int,
        act_range: tuple[int, int] = (-128, 127),
    ) -> SSAValue:
        lhs_type = lhs.type
        assert isinstance(lhs_type, QTensorType)
        op = tt.AddOp.create(
            operands=[lhs, rhs],
            result_types=[lhs_type.with_scale(out_scale, out_zp)],
            properties={**self._clamp_props(*act_range), **self._numerics_prop()},
        )
        return self._append(op)

    def clamp(self, x: SSAValue, act_range: tuple[int, int]) -> SSAValue:
        """A standalone int8 clamp (an activation that could not be fused into its producer)."""
        op = tt.ClampOp.create(operands=[x], result_types=[x.type], properties=self._clamp_props(*act_range))
        return self._append(op)

    def global_avg_pool(self, x: SSAValue, out_scale: float | None = None, out_zp: int = 0) -> SSAValue:
        """[N, H, W, C] -> [N, 1, 1, C], at the input's quantization unless out_scale is given."""
        x_type = x.type
        assert isinstance(x_type, QTensorType)
        n, _, _, c = x_type.get_shape()
        out_type = x_type.with_shape((n, 1, 1, c))
        if out_scale is not None:
            out_type = out_type.with_scale(out_scale, out_zp)
        props = self._numerics_prop()
        op = tt.GlobalAvgPoolOp.create(operands=[x], result_types=[out_type], properties=props)
        return self._append(op)

    def requantize(self, x: SSAValue, out_scale: float, out_zp: int) -> SSAValue:
        x_type = x.type
        assert isinstance(x_type, QTensorType)
        out_type = x_type.with_scale(out_scale, out_zp)
        op = tt.RequantizeOp.create(operands=[x], result_types=[out_type], properties=self._numerics_prop())
        return self._append(op)

    def pool(
        self,
        kind: str,
        x: SSAValue,
        kernel: tuple[int, int],
        stride: tuple[int, int],
        padding: tuple[int, int, int, int],
        act_range: tuple[int, int] = (-128, 127),
    ) -> SSAValue:
        """A tt.max_pool or tt.avg_pool (`kind` "max" / "avg") at the input's quantization;
        `padding` is (top, left, bottom, right)."""
        x_type = x.type
        assert isinstance(x_type, QTensorType)
        n, h, w, c = x_type.get_shape()
        top, left, bottom, right = padding
        out_shape = (
            n,
            tt.pool_output_size(h, kernel[0], stride[0], top, bottom),
            tt.pool_output_size(w, kernel[1], stride[1], left, right),
            c,
        )
        pads = [top, left] if (top, left) == (bottom, right) else [top, left, bottom, right]
        op_type = tt.MaxPoolOp if kind == "max" else tt.AvgPoolOp
        op = op_type.create(
            operands=[x],
            result_types=[x_type.with_shape(out_shape)],
            properties={
                "kernel": DenseArrayBase.from_list(i64, list(kernel)),
                "stride": DenseArrayBase.from_list(i64, list(stride)),
                "padding": DenseArrayBase.from_list(i64, pads),
                **self._clamp_props(*act_range),
            },
        )
        return self._append(op)

    def activation(self, x: SSAValue, name: str, out_scale: float, out_zp: int) -> SSAValue:
        """A table activation (numerics.ACTIVATIONS: hard_swish, hard_sigmoid, sigmoid)."""
        x_type = x.type
        assert isinstance(x_type, QTensorType)
        props = self._numerics_prop() if name in tt.TFLITE_TABLES else {}
        op = tt.LOOKUP_ACTIVATIONS[name].create(
            operands=[x], result_types=[x_type.with_scale(out_scale, out_zp)], properties=props
        )
        return self._append(op)

    def mul(
        self,
        lhs: SSAValue,
        rhs: SSAValue,
        out_scale: float,
        out_zp: int,
        act_range: tuple[int, int] = (-128, 127),
    ) -> SSAValue:
        """tt.mul; rhs has lhs's shape or is [N, 1, 1, C]."""
        lhs_type = lhs.type
        assert isinstance(lhs_type, QTensorType)
        op = tt.MulOp.create(
            operands=[lhs, rhs],
            result_types=[lhs_type.with_scale(out_scale, out_zp)],
            properties={**self._clamp_props(*act_range), **self._numerics_prop()},
        )
        return self._append(op)

    def concat(self, inputs: list[SSAValue], out_scale: float, out_zp: int) -> SSAValue:
        """tt.concat on the last (channel) axis."""
        types = [value.type for value in inputs]
        assert all(isinstance(typ, QTensorType) for typ in types)
        shape = list(types[0].get_shape())  # type: ignore[union-attr]
        shape[-1] = sum(typ.get_shape()[-1] for typ in types)  # type: ignore[union-attr]
        out_type = QTensorType(shape, out_scale, out_zp)
        op = tt.ConcatOp.create(operands=inputs, result_types=[out_type], properties=self._numerics_prop())
        return self._append(op)

    def flatten(self, x: SSAValue) -> SSAValue:
        """[N, ...] -> [N, product of the rest], in tt's (NHWC) order."""
        x_type = x.type
        assert isinstance(x_type, QTensorType)
        shape = x_type.get_shape()
        return self.reshape(x, (shape[0], int(np.prod(shape[1:]))))

    def reshape(self, x: SSAValue, shape: tuple[int, ...]) -> SSAValue:
        x_type = x.type
        assert isinstance(x_type, QTensorType)
        return self._append(tt.ReshapeOp.create(operands=[x], result_types=[x_type.with_shape(shape)]))

    def _append(self, op: tt.IRDLOperation, layer: str | None = None) -> SSAValue:
        self.block.add_op(op)
        if layer is not None:
            op.results[0].name_hint = value_name(layer)
        return op.results[0]

    def build(self, output: SSAValue, weights_file: str | None) -> tuple[ModuleOp, dict[str, np.ndarray]]:
        """The module (params, then @forward returning `output`) and its external arrays."""
        self.block.add_op(func.ReturnOp(output))
        forward = func.FuncOp("forward", ([self.input_type], [output.type]), Region(self.block))
        external: dict[str, np.ndarray] = {}
        ops: list[tt.IRDLOperation] = []
        for param in self.params:
            value_attr = self._payload(param.value, param.name, weights_file, external)
            scales_attr = self._payload(param.scales, f"{param.name}:scales", weights_file, external)
            typ = TensorType(i8 if param.value.dtype == np.int8 else i32, list(param.value.shape))
            ops.append(tt.ParamOp(param.name, typ, value_attr, scales_attr))
        module = ModuleOp([*ops, forward])
        if external:
            assert weights_file is not None
            module.attributes[WEIGHTS_ATTR] = StringAttr(weights_file)
        return module, external

    @staticmethod
    def _payload(
        array: np.ndarray, key: str, weights_file: str | None, external: dict[str, np.ndarray]
    ) -> DenseIntOrFPElementsAttr | ExternalDataAttr:
        if weights_file is None or array.size <= INLINE_LIMIT:
            return dense_attr(array)
        external[key] = array
        return ExternalDataAttr(key)


def save_model(builder: ModelBuilder, output: SSAValue, path: Path) -> ModuleOp:
    """Write `path` (.mlir) and `<stem>.weights.npz` beside it, both or neither (under the rules
    of ttdialect.outputs); returns the verified module."""
    weights_name = f"{path.stem}.weights.npz"
    module, external = builder.build(output, weights_name)
    module.verify()
    with Outputs() as outputs:
        if external:
            outputs.file(path.parent / weights_name, npz_bytes(external))
        outputs.file(path, module_text(module))
    return module
