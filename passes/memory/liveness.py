"""Buffers of a scheduled function: what each value occupies in the arena, and when.

Every tensor value of `@train_step` (arguments included) is a buffer of its byte size (int8
activations and ui8 max-pool indices 1 byte per element, f32 gradients and i32 labels 4, i1
clamp masks 1 bit), live from the step that defines it to its last use, in the function's op
order (step 0 holds the arguments, op i is step i + 1). Buffers are shared where the runtime
writes in place: `tt.reshape` aliases its input; an elementwise op (`tt.clamp_grad`,
`tt.mask_grad`, `tt.grad_accumulate`, `tt.scale_grad`, `tt.activation_grad`, a `tt.mul_grad`
that does not reduce, and in the forward the table activations and `tt.mul`) writes over its
first operand when that operand dies there and has the result's size, and so does a same-shape
depthwise `tt.conv2d_grad_input` (one channel at a time, with a plane of scratch).

What the backward of the new layers keeps alive: a max pool's int8 input, or after
tt-pool-indices its one-byte argmax indices (the output's size: a quarter of the input for a
stride-2 pool); a table activation's int8 input (the derivative is a table of its codes, and the
input is usually kept anyway for the clamp gradient of the conv before it); both int8 operands of
a multiply (the gate is [N, 1, 1, C]); nothing for an average pool or a concat (a concat input
whose quantization changes keeps a clamp mask of the output, as tt.requantize).

Kernel scratch (e.g. the one-channel gradient of a fused update, the row
buffers of a streamed bottleneck, the expanded-gradient plane of tt.expand_depthwise_grad_input)
is a buffer live during its op only. Scalars (the loss, the learning rate) are not buffers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerType, TensorType, i1
from xdsl.ir import Operation, SSAValue

from ttdialect import dialect as tt
from ttdialect.types import QTensorType

IN_PLACE_OPS = (
    tt.ClampGradOp,
    tt.MaskGradOp,
    tt.GradAccumulateOp,
    tt.ScaleGradOp,
    tt.ActivationGradOp,
    tt.MulGradOp,
    tt._LookupActivation,
    tt.MulOp,
)
ALIAS_OPS = (tt.ReshapeOp,)


def value_bytes(value: SSAValue) -> int:
    """Bytes a tensor value occupies (0 for scalars)."""
    typ = value.type
    if isinstance(typ, QTensorType):
        return int(np.prod(typ.get_shape()))
    if isinstance(typ, TensorType):
        count = int(np.prod(typ.get_shape()))
        if typ.element_type == i1:
            return -(-count // 8)
        element = typ.element_type
        return count if isinstance(element, IntegerType) and element.width.data == 8 else 4 * count
    return 0


def scratch_bytes(op: Operation, in_place: bool = False) -> int:
    """Caller-owned kernel scratch an op needs (the runtime's tt_*_scratch_size functions agree);
    `in_place`: the op writes its result over its first operand."""
    if isinstance(op, tt.Conv2DGradInputOp):
        return 4 * in_place_plane(op) if in_place else 0
    if isinstance(op, tt.Conv2DWeightUpdateOp):
        kh, kw, i = op.weight_grad_shape()[1:]
        return 4 * kh * kw * i
    if isinstance(op, tt.LinearWeightUpdateOp):
        return 4 * _linear_columns(op)
    if isinstance(op, tt.BottleneckOp):
        return bottleneck_scratch_bytes(op)
    if isinstance(op, tt.ExpandDepthwiseGradInputOp):
        return 4 * expanded_plane(op)
    return 0


def in_place_plane(op: tt.Conv2DGradInputOp) -> int:
    """Floats of the one-channel plane an in-place depthwise input gradient copies aside."""
    n, h, w, _ = op.grad_output.type.get_shape()
    return n * h * w


def expanded_plane(op: tt.ExpandDepthwiseGradInputOp) -> int:
    """Floats of the one-channel plane of the expanded gradient a tt.expand_depthwise_grad_input
    computes at a time: N * H * W (tt_expand_depthwise_grad_input_scratch_size agrees, in bytes)."""
    n, h, w, _ = op.mask.type.get_shape()
    return n * h * w


def bottleneck_scratch_bytes(op: tt.BottleneckOp) -> int:
    """Scratch of a row-streamed tt.bottleneck, in bytes (tt_bottleneck_scratch_size agrees):

        KH * W_e * C_e  (with an expand conv: a ring of KH rows of the expanded tensor)
        + W_o * C_e     (one row of the depthwise output)

    KH = depthwise kernel height, W_e = expanded width, C_e = expanded (depthwise) channels,
    W_o = output width; all int8."""
    _, _, out_width, hidden = op.depthwise_type.get_shape()
    ring = 0
    if op.expanded_type is not None:
        ring = op.kernel()[0] * op.expanded_type.get_shape()[2] * hidden
    return ring + out_width * hidden


def _linear_columns(op: tt.LinearWeightUpdateOp) -> int:
    columns = op.input.type.get_shape()[1]
    return columns if op.channels is None else len(op.channels.get_values())


@dataclass
class Buffer:
    """One arena buffer: its values (aliases share it), byte size and live steps [first, last]."""

    name: str
    size: int
    first: int
    last: int
    values: list[SSAValue] = field(default_factory=list)
    scratch_of: Operation | None = None


@dataclass
class Liveness:
    """The buffers of a function in its current op order."""

    buffers: list[Buffer]
    steps: int

    def live_bytes(self) -> list[int]:
        """Total bytes live at each step."""
        profile = [0] * self.steps
        for buffer in self.buffers:
            for step in range(buffer.first, buffer.last + 1):
                profile[step] += buffer.size
        return profile

    def lower_bound(self) -> int:
        """The peak of live bytes: no arena for this schedule can be smaller."""
        return max(self.live_bytes(), default=0)


def analyze(function: func.FuncOp, alignment: int = 1) -> Liveness:
    """Buffers of `function` in its op order; sizes rounded up to `alignment`."""
    ops = list(function.body.block.ops)
    step_of = {op: index + 1 for index, op in enumerate(ops)}
    last_read = {
        value: max((step_of[use.operation] for use in value.uses), default=step)
        for step, values in _defined_values(function, ops)
        for value in values
    }
    owner: dict[SSAValue, Buffer] = {}
    buffers: list[Buffer] = []

    def track(value: SSAValue, buffer: Buffer) -> None:
        buffer.values.append(value)
        buffer.last = max(buffer.last, last_read[value])
        owner[value] = buffer

    for step, values in _defined_values(function, ops):
        op = ops[step - 1] if step else None
        in_place = False
        for value in values:
            if not value_bytes(value):
                continue
            shared = _shared_operand(op, owner, step) if op is not None else None
            if shared is not None:
                track(value, owner[shared])
                in_place = True
                continue
            buffer = Buffer(_name(value, len(buffers)), _aligned(value_bytes(value), alignment), step, step)
            buffers.append(buffer)
            track(value, buffer)
        if op is not None and (scratch := scratch_bytes(op, in_place)):
            buffers.append(Buffer(f"scratch{step}", _aligned(scratch, alignment), step, step, [], op))
    return Liveness(buffers, len(ops) + 1)


def _defined_values(function: func.FuncOp, ops: list[Operation]) -> list[tuple[int, list[SSAValue]]]:
    """(step, values defined there): the arguments at step 0, then each op's results."""
    return [(0, list(function.body.block.args))] + [
        (index + 1, list(op.results)) for index, op in enumerate(ops)
    ]


def _shared_operand(op: Operation, owner: dict[SSAValue, Buffer], step: int) -> SSAValue | None:
    """The operand whose buffer `op`'s result reuses (an alias, or in place), if any."""
    if not op.operands or op.operands[0] not in owner:
        return None
    source = op.operands[0]
    if isinstance(op, ALIAS_OPS):
        return source
    in_place = isinstance(op, IN_PLACE_OPS) and value_bytes(source) == value_bytes(op.results[0])
    in_place = in_place or (isinstance(op, tt.Conv2DGradInputOp) and op.can_run_in_place())
    return source if in_place and owner[source].last <= step else None


def _aligned(size: int, alignment: int) -> int:
    return -(-size // alignment) * alignment


def _name(value: SSAValue, index: int) -> str:
    return f"%{value.name_hint}" if value.name_hint else f"buf{index}"
