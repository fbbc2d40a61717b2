"""The per-op profile of a generated training step: what kind of kernel each op runs and its MACs.

A build with `-DTT_PROFILE` wraps every runtime call of `NAME_train_step` with two reads of a
clock the application supplies (`tt_profile_clock()`; the QEMU board's is SysTick under
`-icount shift=0`, i.e. instructions) and adds the difference to the op's counter in the
context. `NAME_profile_ops()` lists, for every op of the step, the record built here: the op,
its kernel kind (the bench groups by it) and its multiply-accumulates, so the bench can print
instructions per MAC by kind. An unprofiled build compiles none of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import prod

from xdsl.dialects.builtin import SymbolRefAttr
from xdsl.ir import Operation, SSAValue

from ttdialect import dialect as tt

WeightShape = Callable[[SymbolRefAttr], tuple[int, ...]]


@dataclass(frozen=True)
class OpWork:
    """One op of the step: its name, its kernel kind and its multiply-accumulates (0: not a MAC op)."""

    op: str
    kind: str
    macs: int


def _shape(value: SSAValue) -> tuple[int, ...]:
    return tuple(value.type.get_shape())  # type: ignore[attr-defined]


def conv_variant(weight: tuple[int, ...], groups: int) -> str:
    """The kernel family of a conv weight [O, KH, KW, C/groups]: depthwise, 1x1, stem or KxK."""
    _, kh, kw, per_group = weight
    if groups > 1 and per_group == 1:
        return f"depthwise {kh}x{kw}"
    if (kh, kw) == (1, 1) and groups == 1:
        return "1x1"
    if per_group <= 4:
        return f"{kh}x{kw} C={per_group}"
    return f"{kh}x{kw}"


def _conv_kind(prefix: str, op: tt._ConvLike, weight: tuple[int, ...]) -> str:
    stride = tuple(op.stride.get_values())
    suffix = "" if stride == (1, 1) else f" s{stride[0]}"
    return f"{prefix} {conv_variant(weight, int(op.groups.value.data))}{suffix}"


def _positions(grad_output: SSAValue) -> int:
    """Output positions (N * OH * OW, or N for a linear layer) of a gradient."""
    return prod(_shape(grad_output)[:-1])


def _weight_grad_elements(op: tt._ConvWeightGradLike) -> int:
    """Elements of the conv weight gradient the op computes (a channel subset where given)."""
    out_c = _shape(op.grad_output)[-1]
    kh, kw = op.kernel.get_values()
    per_group = _shape(op.input)[-1] // int(op.groups.value.data)
    if op.channels is None:
        return out_c * kh * kw * per_group
    count = len(op.channels.get_values())
    if int(op.groups.value.data) > 1:  # depthwise: whole rows of the chosen channels
        return count * kh * kw * per_group
    return out_c * kh * kw * count


def op_work(op: Operation, weight_shape: WeightShape) -> OpWork:
    """The profile record of one op of a planned step."""
    name = op.name.removeprefix("tt.")
    if isinstance(op, tt.Conv2DOp):
        weight = weight_shape(op.weight)
        return OpWork(op.name, _conv_kind("conv2d", op, weight), prod(_shape(op.output)) * prod(weight[1:]))
    if isinstance(op, tt.Conv2DGradInputOp):
        weight = weight_shape(op.weight)
        macs = prod(_shape(op.grad_output)) * prod(weight[1:])
        return OpWork(op.name, _conv_kind("conv2d_grad_input", op, weight), macs)
    if isinstance(op, tt.Conv2DGradWeightOp | tt.Conv2DWeightUpdateOp):
        kh, kw = op.kernel.get_values()
        weight = (0, kh, kw, _shape(op.input)[-1] // int(op.groups.value.data))
        macs = _weight_grad_elements(op) * _positions(op.grad_output)
        return OpWork(op.name, _conv_kind(name, op, weight), macs)
    if isinstance(op, tt.LinearOp):
        return OpWork(op.name, name, prod(_shape(op.output)) * weight_shape(op.weight)[1])
    if isinstance(op, tt.LinearGradInputOp):
        return OpWork(op.name, name, prod(_shape(op.grad_output)) * weight_shape(op.weight)[1])
    if isinstance(op, tt.LinearGradWeightOp | tt.LinearWeightUpdateOp):
        out_c, in_features = _shape(op.grad_output)[-1], _shape(op.input)[-1]
        cols = len(op.channels.get_values()) if op.channels is not None else in_features
        return OpWork(op.name, name, out_c * cols * _positions(op.grad_output))
    if isinstance(op, tt.BottleneckOp):
        return OpWork(op.name, name, _bottleneck_macs(op, weight_shape))
    if isinstance(op, tt.ExpandDepthwiseGradInputOp):
        depthwise = weight_shape(op.depthwise_weight)
        hidden = _shape(op.grad_output)
        macs = prod(hidden) * depthwise[1] * depthwise[2] + prod(_shape(op.grad_input)) * hidden[-1]
        return OpWork(op.name, name, macs)
    return OpWork(op.name, name, 0)


def _bottleneck_macs(op: tt.BottleneckOp, weight_shape: WeightShape) -> int:
    depthwise = weight_shape(op.depthwise_weight)
    output = _shape(op.output)
    hidden_c = depthwise[0]
    macs = prod(output[:-1]) * hidden_c * depthwise[1] * depthwise[2]  # depthwise rows
    macs += prod(output) * hidden_c  # project 1x1
    if op.expand_weight is not None and op.expanded_type is not None:
        hidden = tuple(op.expanded_type.get_shape())
        macs += prod(hidden) * prod(weight_shape(op.expand_weight)[1:])
    return macs


def layer_table(module, params: dict) -> list[dict]:
    """One row per op of @forward: its result's name, kernel kind, output shape, MACs and the
    bytes of the parameters it reads (`params`: lowering.params.CParam by symbol), with where
    they live (flash when frozen, SRAM when trained)."""
    from ttdialect.ir_io import find_function

    forward = find_function(module, "forward")
    rows = []
    for index, op in enumerate(forward.body.block.ops if forward is not None else ()):
        attributes = [*op.properties.values(), *op.attributes.values()]
        refs = [value for value in attributes if isinstance(value, SymbolRefAttr)]
        used = [params[ref.root_reference.data] for ref in refs if ref.root_reference.data in params]
        if not op.results and not used:
            continue
        work = op_work(op, lambda ref: params[ref.root_reference.data].values.shape)
        result = op.results[0] if op.results else None
        rows.append(
            {
                "layer": (result.name_hint if result is not None and result.name_hint else f"op{index}"),
                "kind": work.kind,
                "output": "x".join(map(str, _shape(result))) if result is not None else "",
                "macs": work.macs,
                "parameter_bytes": sum(p.values.nbytes for p in used),
                "where": "SRAM (trained)" if any(p.trainable for p in used) else ("flash" if used else ""),
            }
        )
    return rows
