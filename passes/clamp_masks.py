"""tt-clamp-masks: keep 1-bit clamp masks for the backward instead of int8 activations.

The backward of a clamped op (`tt.clamp_grad`) reads the op's int8 output only to know where
the output lies strictly inside its clamp range. Where nothing else in the backward reads that
output (no weight gradient or update takes it as input, the loss does not read it), this pass
adds `tt.clamp_mask` right after the op that defines it and turns each such `tt.clamp_grad`
into `tt.mask_grad` on the mask. The int8 output then dies at its last forward use, and the
backward keeps one bit per element instead of one byte. Values and gradients are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType, i1
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass

from ttdialect import dialect as tt

BACKWARD_READERS = (
    tt.Conv2DGradWeightOp,
    tt.LinearGradWeightOp,
    tt.Conv2DWeightUpdateOp,
    tt.LinearWeightUpdateOp,
    tt.CrossEntropyGradOp,
    tt.MaxPoolGradOp,
    tt.ActivationGradOp,
)
"""Backward ops that read int8 activations themselves: a value they read stays alive anyway.
(Missing one here costs memory, not correctness: the mask is then kept next to the value.)
tt.mul_grad is not one: it runs long before the clamp gradient of the value it reads (the whole
squeeze-and-excitation branch is differentiated in between), so a mask lets the value die at the
multiply's gradient (measured: the SE CNN of tests/layer_models.py needs 9 % less arena)."""

MaskKey = tuple[SSAValue, int, int]
"""(clamped output, act_min, act_max): one mask per output and clamp range."""


def readers(value: SSAValue) -> list[Operation]:
    """Every op reading `value`, looking through the aliases tt.reshape makes."""
    found = []
    for use in value.uses:
        found.append(use.operation)
        if isinstance(use.operation, tt.ReshapeOp):
            found.extend(readers(use.operation.results[0]))
    return found


def _only_masks_needed(output: SSAValue) -> bool:
    return not any(isinstance(reader, BACKWARD_READERS) for reader in readers(output))


def _mask_of(output: SSAValue, grad: tt.ClampGradOp, masks: dict[MaskKey, SSAValue]) -> SSAValue:
    """The mask of `output` for `grad`'s clamp range, created after `output`'s definition once."""
    key = (output, grad.act_min.value.data, grad.act_max.value.data)
    if key not in masks:
        mask = tt.ClampMaskOp.create(
            operands=[output],
            result_types=[TensorType(i1, output.type.get_shape())],
            properties={"act_min": grad.act_min, "act_max": grad.act_max},
        )
        if output.name_hint:
            mask.results[0].name_hint = f"{output.name_hint}_mask"
        definer = output.owner
        assert isinstance(definer, Operation)
        definer.parent_block().insert_op_after(mask, definer)
        masks[key] = mask.results[0]
    return masks[key]


def use_clamp_masks(function: func.FuncOp) -> int:
    """Rewrite the clamp gradients of `function` that can use a mask; returns how many."""
    masks: dict[MaskKey, SSAValue] = {}
    rewritten = 0
    for grad in [op for op in function.body.block.ops if isinstance(op, tt.ClampGradOp)]:
        output = grad.output
        if not isinstance(output.owner, Operation) or not _only_masks_needed(output):
            continue
        mask = _mask_of(output, grad, masks)
        masked = tt.MaskGradOp.create(operands=[grad.grad_output, mask], result_types=[grad.grad_input.type])
        grad.parent_block().insert_op_before(masked, grad)
        masked.grad_input.name_hint = grad.grad_input.name_hint
        grad.grad_input.replace_all_uses_with(masked.grad_input)
        grad.detach()
        grad.erase()
        rewritten += 1
    return rewritten


@dataclass(frozen=True)
class ClampMasksPass(ModulePass):
    """Replace tt.clamp_grad on saved int8 outputs by tt.mask_grad on 1-bit tt.clamp_mask masks."""

    name = "tt-clamp-masks"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in [o for o in op.walk() if isinstance(o, func.FuncOp)]:
            use_clamp_masks(function)
