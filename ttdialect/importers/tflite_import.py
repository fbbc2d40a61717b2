"""Import a fully int8 TensorFlow Lite model (.tflite) as tt forward IR that computes what TFLite computes.

The flatbuffer is read with the `tflite` schema bindings (PyPI `tflite`, the optional extra
`tt[tflite]`); TensorFlow itself is not needed. The model must be quantized to full integer:
per-channel (or per-tensor) symmetric int8 weights, int8 activations, int32 biases. Every op that
requantizes gets `numerics = "tflite"` (TFLite's multiplier derivation and its two-rounding
MultiplyByQuantizedMultiplier; TFLite's own HARD_SWISH and LOGISTIC tables), so that the IR's
int8 values are bit-exact with TFLite's reference kernels (docs/numerics.md).

Operators (TFLite name -> tt):

- CONV_2D (any groups), DEPTHWISE_CONV_2D (any depth multiplier), FULLY_CONNECTED -> tt.conv2d,
  tt.linear (weights OHWI, as TFLite stores them; a depthwise [1, KH, KW, C*M] weight becomes
  [C*M, KH, KW, 1] with groups C); SAME padding is TFLite's, more at the bottom and right;
- ADD, MUL (same shapes, or an [N, 1, 1, C] gate) -> tt.add, tt.mul;
- MEAN over (H, W) -> tt.global_avg_pool (and a reshape without keep_dims);
- AVERAGE_POOL_2D, MAX_POOL_2D -> tt.avg_pool, tt.max_pool (TFLite's rules already);
- HARD_SWISH, LOGISTIC -> tt.hard_swish, tt.sigmoid with TFLite's tables;
- CONCATENATION on channels (inputs at the output's quantization, as TFLite requires) -> tt.concat;
- RESHAPE, SQUEEZE -> tt.reshape (NHWC order, as TFLite's);
- RELU, RELU6, RELU_N1_TO_1 as operators -> tt.clamp (after a tt.requantize when the
  quantization changes); fused activations (RELU, RELU6, RELU_N1_TO_1) -> act_min / act_max;
- QUANTIZE int8 -> int8 -> tt.requantize;
- PAD (zero padding of H and W) -> folded into the padding of the conv that reads it; anything
  else reading a PAD is refused, naming it;
- the shape-only subgraphs converters emit (SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE for a
  flatten; also CONCATENATION, GATHER of constant int32 vectors) are evaluated at import.

Edges: a float32 input followed by QUANTIZE, and a DEQUANTIZE producing a float32 output, are
dropped: @forward takes the int8 image QUANTIZE produces and returns the int8 tensor DEQUANTIZE
reads. A SOFTMAX producing the model's output is dropped too (training's loss takes the
logits). Anything else is refused with one error naming the operator, its index and what is
supported.

Parameter names follow the TFLite operator: `conv_2d_3.weight`, `depthwise_conv_2d_4.bias`,
`fully_connected_17.weight` (the operator's index in the model's graph).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.ir import SSAValue
from xdsl.utils.exceptions import VerifyException

from ttdialect import numerics as nx
from ttdialect.errors import TTError
from ttdialect.importers.builder import ModelBuilder, save_model
from ttdialect.types import QTensorType

SUPPORTED = (
    "CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, MUL, MEAN (over H, W), AVERAGE_POOL_2D, "
    "MAX_POOL_2D, HARD_SWISH, LOGISTIC, CONCATENATION (channels), RESHAPE, SQUEEZE, RELU, RELU6, "
    "RELU_N1_TO_1, PAD (folded into a conv), QUANTIZE (int8 -> int8; float input edge), DEQUANTIZE "
    "(output edge), SOFTMAX (the output), and shape-only SHAPE / STRIDED_SLICE / PACK / GATHER / "
    "CONCATENATION of constants"
)
MAX_ELEMENTS = 1 << 26
"""The largest tensor the importer accepts (a damaged file must not allocate gigabytes)."""

_TYPES = {0: np.float32, 2: np.int32, 3: np.uint8, 4: np.int64, 7: np.int16, 9: np.int8}
_TYPE_NAMES = {
    0: "float32",
    1: "float16",
    2: "int32",
    3: "uint8",
    4: "int64",
    5: "string",
    6: "bool",
    7: "int16",
    8: "complex64",
    9: "int8",
    10: "float64",
}
_ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}
_SAME, _VALID = 0, 1


class TFLiteImportError(TTError):
    """A .tflite file tt cannot import (damaged, not fully int8, or an unsupported operator)."""


def _tflite() -> Any:
    try:
        import tflite
    except ImportError:
        raise TFLiteImportError(
            "reading .tflite files needs the `tflite` schema package: pip install 'tt[tflite]' "
            "(or pip install tflite==2.18.0)"
        ) from None
    return tflite


# --------------------------------------------------------------------------- the flatbuffer, read


@dataclass
class Tensor:
    """One tensor of the graph, read eagerly from the flatbuffer."""

    index: int
    name: str
    shape: tuple[int, ...]
    type_code: int
    scales: np.ndarray | None = None  # float32
    zero_points: np.ndarray | None = None  # int64
    quantized_dimension: int = 0
    data: np.ndarray | None = None  # a constant's value, shaped

    @property
    def type_name(self) -> str:
        return _TYPE_NAMES.get(self.type_code, f"type {self.type_code}")

    @property
    def quantized(self) -> bool:
        return self.scales is not None and self.scales.size > 0


@dataclass
class Operator:
    index: int
    name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


def _option_fields(tflite: Any) -> dict[str, tuple[str, dict[str, str]]]:
    """Operator -> (options table class, {key: accessor}) of the options the importer reads."""
    conv = {"padding": "Padding", "stride_w": "StrideW", "stride_h": "StrideH"}
    conv |= {"activation": "FusedActivationFunction"}
    dilation = {"dilation_w": "DilationWFactor", "dilation_h": "DilationHFactor"}
    pool = conv | {"filter_w": "FilterWidth", "filter_h": "FilterHeight"}
    activation = {"activation": "FusedActivationFunction"}
    return {
        "CONV_2D": ("Conv2DOptions", conv | dilation),
        "DEPTHWISE_CONV_2D": ("DepthwiseConv2DOptions", conv | dilation | {"multiplier": "DepthMultiplier"}),
        "AVERAGE_POOL_2D": ("Pool2DOptions", pool),
        "MAX_POOL_2D": ("Pool2DOptions", pool),
        "FULLY_CONNECTED": (
            "FullyConnectedOptions",
            activation | {"weights_format": "WeightsFormat", "keep_num_dims": "KeepNumDims"},
        ),
        "ADD": ("AddOptions", activation),
        "MUL": ("MulOptions", activation),
        "CONCATENATION": ("ConcatenationOptions", activation | {"axis": "Axis"}),
        "MEAN": ("ReducerOptions", {"keep_dims": "KeepDims"}),
        "STRIDED_SLICE": (
            "StridedSliceOptions",
            {
                "begin_mask": "BeginMask",
                "end_mask": "EndMask",
                "ellipsis_mask": "EllipsisMask",
                "new_axis_mask": "NewAxisMask",
                "shrink_axis_mask": "ShrinkAxisMask",
            },
        ),
        "PACK": ("PackOptions", {"axis": "Axis"}),
        "GATHER": ("GatherOptions", {"axis": "Axis"}),
        "SQUEEZE": ("SqueezeOptions", {}),
    }


def _read_options(tflite: Any, name: str, op: Any) -> dict[str, Any]:
    spec = _option_fields(tflite).get(name)
    if spec is None:
        return {}
    class_name, accessors = spec
    table = op.BuiltinOptions()
    if table is None:
        return {}
    options = getattr(tflite, class_name)()
    options.Init(table.Bytes, table.Pos)
    values = {key: int(getattr(options, accessor)()) for key, accessor in accessors.items()}
    if name == "SQUEEZE":
        values["dims"] = tuple(int(d) for d in np.atleast_1d(options.SqueezeDimsAsNumpy()))
        values["dims"] = () if options.SqueezeDimsLength() == 0 else values["dims"]
    return values


def _buffer_data(model: Any, data: bytes, index: int) -> bytes | None:
    if not 0 <= index < model.BuffersLength():
        raise ValueError(f"buffer {index} does not exist")
    buffer = model.Buffers(index)
    offset, size = int(buffer.Offset()), int(buffer.Size())
    if offset > 1:  # a model over 2 GB keeps its buffers after the flatbuffer
        if offset + size > len(data):
            raise ValueError(f"buffer {index} lies beyond the end of the file")
        return data[offset : offset + size]
    if buffer.DataLength() == 0:
        return None
    return buffer.DataAsNumpy().tobytes()


def _read_tensor(model: Any, data: bytes, subgraph: Any, index: int) -> Tensor:
    t = subgraph.Tensors(index)
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    if any(d < 0 for d in shape) or math.prod(shape) > MAX_ELEMENTS:
        raise ValueError(f"tensor {index} has the shape {list(shape)}")
    if t.Sparsity() is not None:
        raise ValueError(f"tensor {index} is sparse")
    name = t.Name().decode("utf-8", "replace") if t.Name() is not None else f"tensor_{index}"
    tensor = Tensor(index, name, shape, int(t.Type()))
    q = t.Quantization()
    if q is not None and q.ScaleLength() > 0:
        tensor.scales = np.asarray(q.ScaleAsNumpy(), dtype=np.float32).copy()
        zps = q.ZeroPointAsNumpy() if q.ZeroPointLength() else np.zeros(1)
        tensor.zero_points = np.asarray(zps, dtype=np.int64).copy()
        tensor.quantized_dimension = int(q.QuantizedDimension())
    payload = _buffer_data(model, data, int(t.Buffer()))
    if payload is not None:
        dtype = _TYPES.get(tensor.type_code)
        if dtype is None:
            raise ValueError(f"constant tensor {index} has the unsupported type {tensor.type_name}")
        count = math.prod(shape)
        if len(payload) != count * np.dtype(dtype).itemsize:
            raise ValueError(f"constant tensor {index} has {len(payload)} bytes for the shape {list(shape)}")
        tensor.data = np.frombuffer(payload, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
        tensor.data = tensor.data.reshape(shape)
    return tensor


def _operator_name(tflite: Any, model: Any, op: Any) -> str:
    index = int(op.OpcodeIndex())
    if not 0 <= index < model.OperatorCodesLength():
        raise ValueError(f"operator code {index} does not exist")
    code = model.OperatorCodes(index)
    builtin = max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))
    if builtin == 32:  # CUSTOM
        custom = code.CustomCode()
        return f"CUSTOM({custom.decode('utf-8', 'replace') if custom else '?'})"
    return tflite.utils.BUILTIN_OPCODE2NAME.get(builtin, f"OPERATOR_{builtin}")


def _indices(values: Any, count: int, what: str) -> tuple[int, ...]:
    result = tuple(int(v) for v in np.atleast_1d(values)) if not isinstance(values, int) else ()
    for value in result:
        if not -1 <= value < count:
            raise ValueError(f"{what} names tensor {value}, the graph has {count}")
    return result


def read_graph(data: bytes) -> Graph:
    """The main subgraph of a .tflite flatbuffer, read eagerly (ValueError and the bindings'
    own exceptions on a damaged file)."""
    tflite = _tflite()
    if len(data) < 8 or not tflite.Model.ModelBufferHasIdentifier(data, 0):
        raise ValueError("not a TFLite flatbuffer (its identifier is not TFL3)")
    model = tflite.Model.GetRootAs(data, 0)
    if model.SubgraphsLength() < 1:
        raise ValueError("the model has no graph")
    subgraph = model.Subgraphs(0)
    count = subgraph.TensorsLength()
    tensors = [_read_tensor(model, data, subgraph, i) for i in range(count)]
    operators = []
    for i in range(subgraph.OperatorsLength()):
        op = subgraph.Operators(i)
        name = _operator_name(tflite, model, op)
        inputs = _indices(op.InputsAsNumpy(), count, f"operator {i}")
        outputs = _indices(op.OutputsAsNumpy(), count, f"operator {i}")
        operators.append(Operator(i, name, inputs, outputs, _read_options(tflite, name, op)))
    inputs = _indices(subgraph.InputsAsNumpy(), count, "the graph input")
    outputs = _indices(subgraph.OutputsAsNumpy(), count, "the graph output")
    return Graph(tensors, operators, inputs, outputs)


# --------------------------------------------------------------------------- TFLite's rules


def round_away(value: float) -> int:
    """TfLiteRound: to nearest, ties away from zero."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def activation_range(kind: int, scale: float, zero_point: int) -> tuple[int, int]:
    """TFLite's CalculateActivationRangeQuantized: the int8 bounds of a fused activation
    (the real bound divided by the float32 scale in float32, rounded half away from zero)."""

    def quantized(real: float) -> int:
        return zero_point + round_away(float(np.float32(real) / np.float32(scale)))

    if kind == 0:
        return nx.INT8_MIN, nx.INT8_MAX
    if kind == 1:
        return max(nx.INT8_MIN, quantized(0.0)), nx.INT8_MAX
    if kind == 3:
        return max(nx.INT8_MIN, quantized(0.0)), min(nx.INT8_MAX, quantized(6.0))
    if kind == 2:
        return max(nx.INT8_MIN, quantized(-1.0)), min(nx.INT8_MAX, quantized(1.0))
    raise ValueError(
        f"the fused activation {_ACTIVATIONS.get(kind, kind)} is not supported (NONE, RELU, "
        "RELU6, RELU_N1_TO_1 are)"
    )


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int, int]:
    """TFLite's SAME padding: (output size, padding before, padding after)."""
    out = (size + stride - 1) // stride
    effective = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + effective - size, 0)
    return out, total // 2, total - total // 2


def window_geometry(
    padding: int, size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
    """(output (H, W), (top, left, bottom, right)) of a SAME or VALID window."""
    if padding == _SAME:
        (oh, top, bottom), (ow, left, right) = (
            same_padding(s, k, st) for s, k, st in zip(size, kernel, stride, strict=True)
        )
        return (oh, ow), (top, left, bottom, right)
    if padding == _VALID:
        oh, ow = ((s - k) // st + 1 for s, k, st in zip(size, kernel, stride, strict=True))
        return (oh, ow), (0, 0, 0, 0)
    raise ValueError(f"unknown padding {padding}")


# --------------------------------------------------------------------------- the converter


class _Unsupported(TFLiteImportError):
    pass


@dataclass
class _Pad:
    """A PAD folded into its reader: the padded activation and (top, left, bottom, right)."""

    source: int
    pads: tuple[int, int, int, int]
    op: Operator


class _Converter:
    def __init__(self, graph: Graph):
        self.graph = graph
        self.values: dict[int, SSAValue] = {}
        self.constants: dict[int, np.ndarray] = {}
        self.pads: dict[int, _Pad] = {}
        self.readers = self._readers()
        self.dropped: list[str] = []
        for tensor in graph.tensors:
            if tensor.data is not None:
                self.constants[tensor.index] = tensor.data

    # ----------------------------------------------------------------- helpers

    def _readers(self) -> dict[int, list[Operator]]:
        readers: dict[int, list[Operator]] = {}
        for op in self.graph.operators:
            for index in op.inputs:
                if index >= 0:
                    readers.setdefault(index, []).append(op)
        return readers

    def tensor(self, index: int) -> Tensor:
        return self.graph.tensors[index]

    def fail(self, op: Operator, why: str) -> _Unsupported:
        return _Unsupported(f"operator {op.index} ({op.name}): {why}")

    def qtype(self, index: int, op: Operator) -> QTensorType:
        """The tt type of int8 activation tensor `index`."""
        t = self.tensor(index)
        if t.type_code != 9:
            raise self.fail(op, f"tensor '{t.name}' is {t.type_name}; tt imports fully int8 models")
        if not t.quantized or t.scales is None or t.zero_points is None or t.scales.size != 1:
            raise self.fail(op, f"tensor '{t.name}' needs one scale and zero point (per-tensor int8)")
        scale, zp = float(t.scales[0]), int(t.zero_points[0])
        if not (0.0 < scale < math.inf) or not nx.INT8_MIN <= zp <= nx.INT8_MAX:
            raise self.fail(op, f"tensor '{t.name}' has the quantization {scale}:{zp}")
        return QTensorType(t.shape, scale, zp)

    def value(self, index: int, op: Operator) -> SSAValue:
        if index in self.pads:
            pad = self.pads[index]
            raise self.fail(
                pad.op,
                f"this PAD is read by operator {op.index} ({op.name}); tt folds a PAD "
                "only into the padding of the CONV_2D / DEPTHWISE_CONV_2D reading it",
            )
        if index not in self.values:
            what = "a constant" if index in self.constants else "not computed by the int8 graph"
            raise self.fail(
                op,
                f"its input '{self.tensor(index).name}' is {what}; tt imports operators on int8 activations",
            )
        return self.values[index]

    def define(self, op: Operator, value: SSAValue, index: int | None = None) -> None:
        """Bind the output tensor, checking that tt's type is TFLite's."""
        index = op.outputs[0] if index is None else index
        expected = self.qtype(index, op)
        got = value.type
        assert isinstance(got, QTensorType)
        if tuple(got.get_shape()) != tuple(expected.get_shape()):
            raise self.fail(
                op,
                f"tt computes the shape {list(got.get_shape())}, the model says {list(expected.get_shape())}",
            )
        self.values[index] = value

    def inputs(self, op: Operator, count: int, optional: int = 0) -> list[int]:
        given = list(op.inputs)
        if not count <= len(given) <= count + optional or any(i < 0 for i in given[:count]):
            raise self.fail(op, f"expected {count} input(s), got {len(given)}")
        if len(op.outputs) != 1 or op.outputs[0] < 0:
            raise self.fail(op, "expected one output")
        return given + [-1] * (count + optional - len(given))

    def constant(self, index: int, op: Operator, what: str) -> np.ndarray:
        if index not in self.constants:
            raise self.fail(op, f"its {what} must be a constant")
        return self.constants[index]

    def act(self, op: Operator, out: QTensorType) -> tuple[int, int]:
        try:
            return activation_range(op.options.get("activation", 0), out.real_scale, out.zp)
        except ValueError as error:
            raise self.fail(op, str(error)) from None

    def weights(self, op: Operator, index: int, axis: int) -> tuple[np.ndarray, np.ndarray]:
        """An int8 constant and its per-channel scales along `axis` (float32, one per channel)."""
        t = self.tensor(index)
        data = self.constant(index, op, "weight")
        if t.type_code != 9 or t.scales is None or t.zero_points is None:
            raise self.fail(
                op, f"weight '{t.name}' is {t.type_name} without int8 quantization; tt imports int8 weights"
            )
        channels = t.shape[axis]
        if t.scales.size not in (1, channels) or (t.scales.size > 1 and t.quantized_dimension != axis):
            raise self.fail(
                op,
                f"weight '{t.name}' has {t.scales.size} scales on axis {t.quantized_dimension}; "
                f"expected 1 or {channels} on axis {axis}",
            )
        if np.any(t.zero_points != 0):
            raise self.fail(op, f"weight '{t.name}' has nonzero zero points (tt's weights are symmetric)")
        if not np.all((t.scales > 0) & np.isfinite(t.scales)):
            raise self.fail(op, f"weight '{t.name}' has scales that are not positive and finite")
        return data, np.broadcast_to(t.scales, (channels,)).astype(np.float32)

    def bias(self, op: Operator, index: int, channels: int) -> np.ndarray | None:
        if index < 0:
            return None
        t = self.tensor(index)
        data = self.constant(index, op, "bias")
        if t.type_code != 2 or data.shape != (channels,):
            raise self.fail(
                op, f"bias '{t.name}' must be int32 [{channels}], got {t.type_name} {list(data.shape)}"
            )
        return data.astype(np.int32)

    # ----------------------------------------------------------------- the graph

    def run(self) -> tuple[ModelBuilder, SSAValue]:
        graph = self.graph
        if len(graph.inputs) != 1 or len(graph.outputs) != 1:
            raise TFLiteImportError(
                f"tt imports a model with one input and one output, this one has {len(graph.inputs)} "
                f"and {len(graph.outputs)}"
            )
        operators = list(graph.operators)
        start = self._input_edge(operators)
        output, operators = self._output_edges(operators, graph.outputs[0])
        self.builder = ModelBuilder(self.qtype(start, _edge("the model input")), numerics=nx.TFLITE)
        self.values[start] = self.builder.image
        for op in operators:
            if op.name == "QUANTIZE" and op.outputs and op.outputs[0] == start:
                continue
            self.convert(op)
        result = self.values.get(output)
        if result is None:
            raise TFLiteImportError(
                f"the model's output '{self.tensor(output).name}' is not computed from "
                "its input by int8 operators"
            )
        shape = tuple(result.type.get_shape())  # type: ignore[union-attr]
        if len(shape) == 4 and shape[1:3] == (1, 1):
            result = self.builder.reshape(result, (shape[0], shape[3]))
        return self.builder, result

    def _input_edge(self, operators: list[Operator]) -> int:
        """The int8 tensor @forward takes: the model input, or what its QUANTIZE makes of it."""
        index = self.graph.inputs[0]
        t = self.tensor(index)
        if t.type_code == 9:
            return index
        quantizers = [op for op in operators if op.name == "QUANTIZE" and op.inputs[:1] == (index,)]
        if t.type_code == 0 and len(quantizers) == 1 and len(self.readers.get(index, [])) == 1:
            self.dropped.append(f"the float32 input edge (QUANTIZE, operator {quantizers[0].index})")
            return quantizers[0].outputs[0]
        raise TFLiteImportError(
            f"the model input '{t.name}' is {t.type_name}; tt imports an int8 input, or a "
            "float32 input read only by a QUANTIZE"
        )

    def _output_edges(self, operators: list[Operator], output: int) -> tuple[int, list[Operator]]:
        """Drop a DEQUANTIZE and then a SOFTMAX producing the output; returns the logits tensor."""
        producers = {i: op for op in operators for i in op.outputs}
        dropped: list[Operator] = []
        for name, why in (("DEQUANTIZE", "the float32 output edge"), ("SOFTMAX", "the final softmax")):
            op = producers.get(output)
            readers = [r for r in self.readers.get(output, []) if r not in dropped]
            if op is None or op.name != name or not op.inputs or readers:
                continue
            if len(self.readers.get(op.inputs[0], [])) == 1:
                self.dropped.append(f"{why} ({name}, operator {op.index})")
                dropped.append(op)
                output = op.inputs[0]
        return output, [op for op in operators if op not in dropped]

    def convert(self, op: Operator) -> None:
        handler = self.handlers().get(op.name)
        if handler is None:
            raise _Unsupported(f"operator {op.index} ({op.name}) is not supported; tt imports {SUPPORTED}")
        handler(op)

    def handlers(self) -> dict[str, Callable[[Operator], None]]:
        return {
            "CONV_2D": self.conv,
            "DEPTHWISE_CONV_2D": self.conv,
            "FULLY_CONNECTED": self.fully_connected,
            "ADD": self.add,
            "MUL": self.mul,
            "MEAN": self.mean,
            "AVERAGE_POOL_2D": self.pool,
            "MAX_POOL_2D": self.pool,
            "HARD_SWISH": self.table,
            "LOGISTIC": self.table,
            "CONCATENATION": self.concatenation,
            "RESHAPE": self.reshape,
            "SQUEEZE": self.reshape,
            "RELU": self.relu,
            "RELU6": self.relu,
            "RELU_N1_TO_1": self.relu,
            "QUANTIZE": self.quantize,
            "PAD": self.pad,
            "SHAPE": self.shape_op,
            "STRIDED_SLICE": self.strided_slice,
            "PACK": self.pack,
            "GATHER": self.gather,
            "DEQUANTIZE": self.misplaced,
            "SOFTMAX": self.misplaced,
        }

    def misplaced(self, op: Operator) -> None:
        where = "the float32 output edge" if op.name == "DEQUANTIZE" else "the model's output"
        raise self.fail(op, f"tt drops a {op.name} only at {where}; this one is inside the graph")

    # ----------------------------------------------------------------- compute operators

    def conv(self, op: Operator) -> None:
        x_index, w_index, b_index = self.inputs(op, 2, optional=1)
        folded = self.pads.pop(x_index, None)
        source = folded.source if folded else x_index
        x = self.value(source, op)
        xt, yt = self.qtype(source, op), self.qtype(op.outputs[0], op)
        if len(xt.get_shape()) != 4:
            raise self.fail(op, f"expected an NHWC input, got the shape {list(xt.get_shape())}")
        n, h, w, c = xt.get_shape()
        if (op.options.get("dilation_h", 1), op.options.get("dilation_w", 1)) != (1, 1):
            raise self.fail(op, "dilated convolutions are not supported")
        depthwise = op.name == "DEPTHWISE_CONV_2D"
        weight, scales = self.weights(op, w_index, 3 if depthwise else 0)
        if weight.ndim != 4:
            raise self.fail(op, f"expected a 4-D weight, got {list(weight.shape)}")
        if depthwise:
            if weight.shape[0] != 1 or weight.shape[3] % c:
                raise self.fail(op, f"depthwise weight {list(weight.shape)} does not fit {c} input channels")
            weight, groups = weight[0].transpose(2, 0, 1)[..., None], c
        else:
            if weight.shape[3] < 1 or c % weight.shape[3] or weight.shape[0] % (c // weight.shape[3]):
                raise self.fail(op, f"weight {list(weight.shape)} does not fit {c} input channels")
            groups = c // weight.shape[3]
        o, kh, kw, _ = weight.shape
        stride = (op.options.get("stride_h", 1), op.options.get("stride_w", 1))
        if min(stride) < 1:
            raise self.fail(op, f"stride {list(stride)} must be positive")
        try:
            _, pads = window_geometry(op.options.get("padding", _SAME), (h, w), (kh, kw), stride)
        except ValueError as error:
            raise self.fail(op, str(error)) from None
        if folded:
            pads = tuple(a + b for a, b in zip(pads, folded.pads, strict=True))  # type: ignore[assignment]
        prefix = f"{op.name.lower()}_{op.index}."
        bias = self.bias(op, b_index, o)
        y = self.builder.conv2d(
            x, prefix, weight, scales, bias, stride, pads, groups, yt.real_scale, yt.zp, self.act(op, yt)
        )
        self.define(op, y)

    def fully_connected(self, op: Operator) -> None:
        x_index, w_index, b_index = self.inputs(op, 2, optional=1)
        x, xt = self.value(x_index, op), self.qtype(x_index, op)
        yt = self.qtype(op.outputs[0], op)
        if op.options.get("weights_format", 0) != 0:
            raise self.fail(op, "only the default weights format is supported")
        weight, scales = self.weights(op, w_index, 0)
        if weight.ndim != 2:
            raise self.fail(op, f"expected a 2-D weight, got {list(weight.shape)}")
        o, k = weight.shape
        shape = xt.get_shape()
        if len(shape) != 2:
            total = math.prod(shape)
            if total % k:
                raise self.fail(op, f"input {list(shape)} does not flatten into rows of {k}")
            x = self.builder.reshape(x, (total // k, k))
        elif shape[1] != k:
            raise self.fail(op, f"input {list(shape)} does not match the weight {list(weight.shape)}")
        bias = self.bias(op, b_index, o)
        prefix = f"fully_connected_{op.index}."
        y = self.builder.linear(x, prefix, weight, scales, bias, yt.real_scale, yt.zp, self.act(op, yt))
        if len(self.tensor(op.outputs[0]).shape) != 2:
            y = self.builder.reshape(y, self.tensor(op.outputs[0]).shape)
        self.define(op, y)

    def add(self, op: Operator) -> None:
        a_index, b_index = self.inputs(op, 2)
        a, b = self.value(a_index, op), self.value(b_index, op)
        at, bt, yt = self.qtype(a_index, op), self.qtype(b_index, op), self.qtype(op.outputs[0], op)
        if at.get_shape() != bt.get_shape():
            raise self.fail(
                op, f"broadcasting {list(at.get_shape())} + {list(bt.get_shape())} is not supported"
            )
        self.define(op, self.builder.add(a, b, yt.real_scale, yt.zp, self.act(op, yt)))

    def mul(self, op: Operator) -> None:
        a_index, b_index = self.inputs(op, 2)
        a, b = self.value(a_index, op), self.value(b_index, op)
        at, bt, yt = self.qtype(a_index, op), self.qtype(b_index, op), self.qtype(op.outputs[0], op)
        a_shape, b_shape = at.get_shape(), bt.get_shape()
        if a_shape != b_shape and _is_gate(a_shape, b_shape):
            a, b = b, a  # the gate goes second; (a - za)(b - zb) is symmetric
        elif a_shape != b_shape and not _is_gate(b_shape, a_shape):
            raise self.fail(
                op,
                f"broadcasting {list(a_shape)} * {list(b_shape)} is not supported "
                "(same shapes or an [N, 1, 1, C] gate are)",
            )
        self.define(op, self.builder.mul(a, b, yt.real_scale, yt.zp, self.act(op, yt)))

    def mean(self, op: Operator) -> None:
        x_index, axis_index = self.inputs(op, 2)
        x, xt = self.value(x_index, op), self.qtype(x_index, op)
        yt = self.qtype(op.outputs[0], op)
        axes = self.constant(axis_index, op, "axis")
        rank = len(xt.get_shape())
        if rank != 4 or {int(a) % 4 for a in np.ravel(axes)} != {1, 2} or np.size(axes) != 2:
            raise self.fail(
                op,
                f"only a mean over H and W of an NHWC tensor is supported, got axes "
                f"{np.ravel(axes).tolist()} of {list(xt.get_shape())}",
            )
        y = self.builder.global_avg_pool(x, yt.real_scale, yt.zp)
        out_shape = self.tensor(op.outputs[0]).shape
        if tuple(out_shape) != tuple(y.type.get_shape()):  # type: ignore[union-attr]
            y = self.builder.reshape(y, out_shape)
        self.define(op, y)

    def pool(self, op: Operator) -> None:
        (x_index,) = self.inputs(op, 1)
        x, xt, yt = self.value(x_index, op), self.qtype(x_index, op), self.qtype(op.outputs[0], op)
        if (xt.real_scale, xt.zp) != (yt.real_scale, yt.zp):
            raise self.fail(op, "a pool must keep its input's quantization (TFLite's int8 rule)")
        if len(xt.get_shape()) != 4:
            raise self.fail(op, f"expected an NHWC input, got {list(xt.get_shape())}")
        _, h, w, _ = xt.get_shape()
        kernel = (op.options.get("filter_h", 1), op.options.get("filter_w", 1))
        stride = (op.options.get("stride_h", 1), op.options.get("stride_w", 1))
        if min(kernel + stride) < 1:
            raise self.fail(op, f"filter {list(kernel)} and stride {list(stride)} must be positive")
        try:
            _, pads = window_geometry(op.options.get("padding", _SAME), (h, w), kernel, stride)
        except ValueError as error:
            raise self.fail(op, str(error)) from None
        kind = "max" if op.name == "MAX_POOL_2D" else "avg"
        self.define(op, self.builder.pool(kind, x, kernel, stride, pads, self.act(op, yt)))

    def table(self, op: Operator) -> None:
        (x_index,) = self.inputs(op, 1)
        x, yt = self.value(x_index, op), self.qtype(op.outputs[0], op)
        name = "hard_swish" if op.name == "HARD_SWISH" else "sigmoid"
        self.define(op, self.builder.activation(x, name, yt.real_scale, yt.zp))

    def concatenation(self, op: Operator) -> None:
        if all(i in self.constants for i in op.inputs):
            self.fold(
                op, lambda arrays: np.concatenate(arrays, axis=op.options.get("axis", 0)), len(op.inputs)
            )
            return
        if not op.inputs or len(op.outputs) != 1:
            raise self.fail(op, "expected inputs and one output")
        yt = self.qtype(op.outputs[0], op)
        rank = len(yt.get_shape())
        if op.options.get("axis", 0) % max(rank, 1) != rank - 1:
            raise self.fail(
                op,
                f"only a concatenation on the last (channel) axis is supported, got axis "
                f"{op.options.get('axis')}",
            )
        if op.options.get("activation", 0) != 0:
            raise self.fail(op, "a fused activation on a concatenation is not supported")
        for index in op.inputs:
            it = self.qtype(index, op)
            if (it.real_scale, it.zp) != (yt.real_scale, yt.zp):
                raise self.fail(
                    op,
                    f"input '{self.tensor(index).name}' is not at the output's quantization "
                    "(TFLite's int8 concatenation requires it)",
                )
        self.define(op, self.builder.concat([self.value(i, op) for i in op.inputs], yt.real_scale, yt.zp))

    def reshape(self, op: Operator) -> None:
        if not op.inputs or len(op.outputs) != 1:
            raise self.fail(op, "expected an input and one output")
        x, xt = self.value(op.inputs[0], op), self.qtype(op.inputs[0], op)
        yt = self.qtype(op.outputs[0], op)
        if (xt.real_scale, xt.zp) != (yt.real_scale, yt.zp):
            raise self.fail(op, "a reshape must keep its input's quantization")
        shape = tuple(self.tensor(op.outputs[0]).shape)
        if math.prod(shape) != math.prod(xt.get_shape()):
            raise self.fail(op, f"{list(xt.get_shape())} cannot become {list(shape)}")
        if op.name == "RESHAPE" and len(op.inputs) > 1 and op.inputs[1] >= 0:
            target = self.constant(op.inputs[1], op, "shape (the converter's shape subgraph did not fold)")
            if np.ravel(target).size != len(shape):
                raise self.fail(
                    op, f"its shape operand {np.ravel(target).tolist()} is not the output's {list(shape)}"
                )
        self.define(op, self.builder.reshape(x, shape))

    def relu(self, op: Operator) -> None:
        (x_index,) = self.inputs(op, 1)
        x, xt, yt = self.value(x_index, op), self.qtype(x_index, op), self.qtype(op.outputs[0], op)
        if (xt.real_scale, xt.zp) != (yt.real_scale, yt.zp):
            x = self.builder.requantize(x, yt.real_scale, yt.zp)
        kind = {"RELU": 1, "RELU6": 3, "RELU_N1_TO_1": 2}[op.name]
        self.define(op, self.builder.clamp(x, activation_range(kind, yt.real_scale, yt.zp)))

    def quantize(self, op: Operator) -> None:
        (x_index,) = self.inputs(op, 1)
        if self.tensor(x_index).type_code != 9:
            raise self.fail(
                op,
                f"only int8 -> int8 requantization is supported inside the graph (the input is "
                f"{self.tensor(x_index).type_name}); a float32 QUANTIZE only at the model input",
            )
        x, yt = self.value(x_index, op), self.qtype(op.outputs[0], op)
        self.define(op, self.builder.requantize(x, yt.real_scale, yt.zp))

    def pad(self, op: Operator) -> None:
        x_index, pads_index = self.inputs(op, 2)
        self.value(x_index, op)
        xt, yt = self.qtype(x_index, op), self.qtype(op.outputs[0], op)
        pads = self.constant(pads_index, op, "paddings").astype(np.int64)
        if pads.shape != (4, 2) or pads.min() < 0 or pads[0].any() or pads[3].any():
            raise self.fail(op, f"only zero padding of H and W is supported, got {pads.tolist()}")
        if (xt.real_scale, xt.zp) != (yt.real_scale, yt.zp):
            raise self.fail(op, "a PAD must keep its input's quantization")
        readers = self.readers.get(op.outputs[0], [])
        if (
            len(readers) != 1
            or readers[0].name not in ("CONV_2D", "DEPTHWISE_CONV_2D")
            or readers[0].inputs[:1] != (op.outputs[0],)
        ):
            names = ", ".join(f"{r.name} (operator {r.index})" for r in readers) or "nothing"
            raise self.fail(
                op,
                f"tt folds a PAD into the padding of the one CONV_2D / DEPTHWISE_CONV_2D "
                f"reading it; this one is read by {names}",
            )
        (top, bottom), (left, right) = pads[1], pads[2]
        self.pads[op.outputs[0]] = _Pad(x_index, (int(top), int(left), int(bottom), int(right)), op)

    # ----------------------------------------------------------------- shape-only subgraphs

    def fold(self, op: Operator, compute: Callable[[list[np.ndarray]], np.ndarray], count: int) -> None:
        inputs = [i for i in op.inputs[:count]]
        if len(inputs) != count or len(op.outputs) != 1 or any(i not in self.constants for i in inputs):
            raise self.fail(
                op,
                "tt evaluates this operator at import only on constant int32 inputs (a shape "
                "computation); here it reads an activation",
            )
        try:
            result = np.asarray(compute([self.constants[i] for i in inputs]))
        except (ValueError, IndexError, TypeError) as error:
            raise self.fail(op, f"cannot be evaluated at import: {error}") from None
        if result.size > MAX_ELEMENTS:
            raise self.fail(op, "its result is too large")
        self.constants[op.outputs[0]] = result

    def shape_op(self, op: Operator) -> None:
        (x_index,) = self.inputs(op, 1)
        self.constants[op.outputs[0]] = np.array(self.tensor(x_index).shape, dtype=np.int32)

    def strided_slice(self, op: Operator) -> None:
        options = op.options
        if options.get("ellipsis_mask", 0) or options.get("new_axis_mask", 0):
            raise self.fail(op, "ellipsis and new-axis masks are not supported")

        def compute(arrays: list[np.ndarray]) -> np.ndarray:
            data, begin, end, strides = (
                np.ravel(a).astype(np.int64) if i else a for i, a in enumerate(arrays)
            )
            index: list[Any] = []
            for axis in range(len(begin)):
                bit = 1 << axis
                if options.get("shrink_axis_mask", 0) & bit:
                    index.append(int(begin[axis]))
                    continue
                first = None if options.get("begin_mask", 0) & bit else int(begin[axis])
                last = None if options.get("end_mask", 0) & bit else int(end[axis])
                index.append(slice(first, last, int(strides[axis]) or None))
            return np.asarray(data[tuple(index)])

        self.fold(op, compute, 4)

    def pack(self, op: Operator) -> None:
        self.fold(op, lambda arrays: np.stack(arrays, axis=op.options.get("axis", 0)), len(op.inputs))

    def gather(self, op: Operator) -> None:
        axis = op.options.get("axis", 0)
        self.fold(op, lambda arrays: np.take(arrays[0], arrays[1], axis=axis), 2)


def _edge(what: str) -> Operator:
    return Operator(-1, what, (), ())


def _is_gate(gate: tuple[int, ...], full: tuple[int, ...]) -> bool:
    return len(gate) == len(full) == 4 and gate[1:3] == (1, 1) and (gate[0], gate[3]) == (full[0], full[3])


# --------------------------------------------------------------------------- entry points


def convert_tflite(data: bytes, where: str = "model") -> tuple[ModelBuilder, SSAValue, list[str]]:
    """The forward IR of a .tflite model's bytes: (builder, logits, the dropped edges)."""
    try:
        graph = read_graph(data)
    except TFLiteImportError:
        raise
    except Exception as error:  # the bindings raise what a damaged buffer makes them raise
        detail = str(error) or type(error).__name__
        raise TFLiteImportError(f"{where}: not a valid TFLite model (damaged flatbuffer: {detail})") from None
    converter = _Converter(graph)
    try:
        builder, result = converter.run()
    except TFLiteImportError as error:
        raise TFLiteImportError(f"{where}: {error}") from None
    except (nx.NumericsError, VerifyException) as error:
        first = str(error).strip().splitlines()[0]
        raise TFLiteImportError(f"{where}: the model cannot be represented: {first}") from None
    return builder, result, converter.dropped


def import_tflite(path: Path, output: Path) -> list[str]:
    """Import `path` (.tflite) as `output` (.mlir, the weights file beside it); returns the edges
    dropped (a float input's QUANTIZE, a DEQUANTIZE, the final SOFTMAX)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise TFLiteImportError(f"cannot read {path}: {error.strerror or error}") from None
    builder, result, dropped = convert_tflite(data, str(path))
    try:
        save_model(builder, result, Path(output))
    except (nx.NumericsError, VerifyException) as error:
        first = str(error).strip().splitlines()[0]
        raise TFLiteImportError(f"{path}: the model cannot be represented: {first}") from None
    return dropped
