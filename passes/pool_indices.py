"""tt-pool-indices: the backward of a max pool keeps one-byte argmax indices, not the pool's input.

`tt.max_pool_grad %g, %x` finds each window's maximum again in the int8 input %x, so %x stays
alive from the forward to the backward. Where nothing else in the backward reads %x (a clamp
gradient of the op before the pool aside, which tt-clamp-masks then turns into a 1-bit mask) and
the indices are smaller than %x (a strided pool: a quarter of the bytes at stride 2), this pass
gives the forward `tt.max_pool` its `indices` result (the tap of each window's maximum, computed
in the same pass over the input) and makes the gradient read them:

    %y, %i = tt.max_pool %x {...} : ... -> ..., tensor<...xui8>
    %gx = tt.max_pool_grad %g, %i {...}

The gradient is the same (the same tap of each window, the first maximum in raster order);
%x can then die after the forward. Run it after tt-autodiff (and tt-sparse-update), before
tt-clamp-masks, as tt-training-pipeline does.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass

from passes.clamp_masks import BACKWARD_READERS, readers
from passes.memory.liveness import value_bytes
from ttdialect import dialect as tt

WINDOW = ("kernel", "stride", "padding")


def forward_pool(grad: tt.MaxPoolGradOp) -> tt.MaxPoolOp | None:
    """The tt.max_pool whose gradient `grad` is: same input and window, output of the gradient's
    shape."""
    for use in grad.source.uses:
        op = use.operation
        if (
            isinstance(op, tt.MaxPoolOp)
            and all(op.properties[name] == grad.properties[name] for name in WINDOW)
            and op.output.type.get_shape() == grad.grad_output.type.get_shape()
        ):
            return op
    return None


def _indices_pay(pool: tt.MaxPoolOp, grad: tt.MaxPoolGradOp) -> bool:
    """Indices fit a byte, are smaller than the input, and free it: nothing else in the backward
    reads the input."""
    if pool.taps() > tt.MAX_POOL_INDEX_TAPS:
        return False
    if value_bytes(pool.output) >= value_bytes(pool.input):
        return False
    others = [op for op in readers(pool.input) if op is not grad]
    return not any(isinstance(op, BACKWARD_READERS) for op in others)


def with_indices(pool: tt.MaxPoolOp) -> SSAValue:
    """The indices of `pool`, replacing it by a tt.max_pool that also returns them if needed."""
    if pool.indices is not None:
        return pool.indices
    shape = pool.output.type.get_shape()
    replacement = tt.MaxPoolOp.create(
        operands=[pool.input],
        result_types=[pool.output.type, TensorType(tt.ui8, shape)],
        properties=dict(pool.properties),
        attributes=dict(pool.attributes),
    )
    pool.parent_block().insert_op_before(replacement, pool)
    replacement.output.name_hint = pool.output.name_hint
    if pool.output.name_hint:
        replacement.results[1].name_hint = f"{pool.output.name_hint}_indices"
    pool.output.replace_all_uses_with(replacement.output)
    pool.detach()
    pool.erase()
    assert replacement.indices is not None
    return replacement.indices


def use_pool_indices(function: func.FuncOp) -> int:
    """Switch the max-pool gradients of `function` that gain from indices; returns how many."""
    switched = 0
    for grad in [op for op in function.body.block.ops if isinstance(op, tt.MaxPoolGradOp)]:
        if grad.reads_indices:
            continue
        pool = forward_pool(grad)
        if pool is None or not _indices_pay(pool, grad):
            continue
        indices = with_indices(pool)
        grad.operands[1] = indices
        switched += 1
    return switched


@dataclass(frozen=True)
class PoolIndicesPass(ModulePass):
    """Max-pool gradients read one-byte argmax indices taken in the forward, not the pool input."""

    name = "tt-pool-indices"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in [o for o in op.walk() if isinstance(o, func.FuncOp)]:
            use_pool_indices(function)
