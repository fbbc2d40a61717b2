"""tt-reorder: a schedule of each function that lowers its peak live memory.

Reorders the ops of every function (in practice `@train_step`) by greedy list scheduling: among
the ops whose inputs are ready, run the one that frees the most bytes net of what it allocates
(ties keep program order). So updates run as early as their gradients allow, saved activations
are freed at their last use, and backward is interleaved with updates. The schedule respects
data dependencies and the effects on parameters: every read of a parameter (forward, input
gradient) stays before its update, and updates keep their relative order (the update RNG is
consumed in the same order, so the step computes exactly the same).

The lower bound of a schedule is its peak of live bytes (passes/memory/liveness.py): no arena
can be smaller. The pass keeps the better of the greedy and the original schedule, records the
bound as `tt.live_bytes_lower_bound` on the function, and prints it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, SymbolRefAttr, i64
from xdsl.ir import Operation
from xdsl.passes import ModulePass

from passes.memory.liveness import analyze, value_bytes
from ttdialect import dialect as tt

LOWER_BOUND_ATTR = "tt.live_bytes_lower_bound"


def _param_reads(op: Operation) -> set[str]:
    """Parameters whose values `op` reads (scales are constant and do not count): its
    `weight` / `bias` properties (`*_weight` / `*_bias` of a tt.bottleneck)."""
    if isinstance(op, (tt.ScaleGradOp, *tt.UPDATE_OPS)):
        return set()
    return {
        prop.root_reference.data
        for name, prop in op.properties.items()
        if isinstance(prop, SymbolRefAttr) and name.endswith(("weight", "bias"))
    }


def dependencies(ops: list[Operation]) -> dict[Operation, set[Operation]]:
    """For each op, the ops that must run before it."""
    position = {op: index for index, op in enumerate(ops)}
    before: dict[Operation, set[Operation]] = {op: set() for op in ops}
    readers: dict[str, list[Operation]] = {}
    last_update: Operation | None = None
    for op in ops:
        for operand in op.operands:
            if isinstance(operand.owner, Operation) and operand.owner in position:
                before[op].add(operand.owner)
        for param in _param_reads(op):
            readers.setdefault(param, []).append(op)
        updated = tt.updated_param(op)
        if updated is not None:
            before[op].update(readers.get(updated.root_reference.data, []))
            if last_update is not None:
                before[op].add(last_update)
            last_update = op
    terminator = ops[-1]
    before[terminator].update(op for op in ops if op is not terminator)
    return before


def greedy_schedule(ops: list[Operation]) -> list[Operation]:
    """List scheduling that prefers the ready op with the smallest net allocation."""
    before = dependencies(ops)
    position = {op: index for index, op in enumerate(ops)}
    waiting = {op: len(deps) for op, deps in before.items()}
    after: dict[Operation, list[Operation]] = {op: [] for op in ops}
    for op, deps in before.items():
        for dep in deps:
            after[dep].append(op)
    pending_reads = {value: len(list(value.uses)) for op in ops for value in op.results}
    ready = [op for op in ops if waiting[op] == 0]
    order: list[Operation] = []
    while ready:
        best = min(ready, key=lambda op: (_net_allocation(op, pending_reads), position[op]))
        ready.remove(best)
        order.append(best)
        for operand in best.operands:
            if operand in pending_reads:
                pending_reads[operand] -= 1
        for successor in after[best]:
            waiting[successor] -= 1
            if waiting[successor] == 0:
                ready.append(successor)
    assert len(order) == len(ops), "dependency cycle"
    return order


def _net_allocation(op: Operation, pending_reads: dict) -> int:
    allocated = sum(value_bytes(result) for result in op.results if not isinstance(op, tt.ReshapeOp))
    freed = sum(
        value_bytes(operand)
        for operand in set(op.operands)
        if pending_reads.get(operand) == sum(1 for use in operand.uses if use.operation is op)
    )
    return allocated - freed


@dataclass(frozen=True)
class ReorderPass(ModulePass):
    """Reschedule every function to lower its peak live memory; record and print the bound."""

    name = "tt-reorder"

    quiet: bool = False

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in [o for o in op.walk() if isinstance(o, func.FuncOp)]:
            self.reorder(function)

    def reorder(self, function: func.FuncOp) -> None:
        block = function.body.block
        original = list(block.ops)
        original_bound = analyze(function).lower_bound()
        for op in original:
            op.detach()
        for op in greedy_schedule(original):
            block.add_op(op)
        bound = analyze(function).lower_bound()
        if bound > original_bound:
            for op in list(block.ops):
                op.detach()
            for op in original:
                block.add_op(op)
            bound = original_bound
        function.attributes[LOWER_BOUND_ATTR] = IntegerAttr(bound, i64)
        if not self.quiet:
            print(
                f"tt-reorder: @{function.sym_name.data}: live-memory lower bound {bound} bytes "
                f"(program order: {original_bound})",
                file=sys.stderr,
            )
