"""tt-memory-plan: every buffer of every function at a fixed offset in one arena.

Computes the buffers of each function in its current schedule (passes/memory/liveness.py:
activations, saved tensors, gradients, kernel scratch; aliases and in-place ops share a buffer),
places them with the near-optimal planner (passes/memory/planner.py), checks that no two live
buffers overlap, and records the plan in the IR:

- on the function: `tt.arena_bytes`, `tt.arena_lower_bound` (the schedule's peak live bytes),
  `tt.arg_offsets` (one per argument, -1 for scalars);
- on each op with a tensor result: `tt.offsets` (one per result, -1 for scalars);
- on each op whose kernel needs scratch: `tt.scratch_offset`.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, ModuleOp, i64
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException

from passes.memory.liveness import Liveness, analyze
from passes.memory.planner import Buffer as PlannerBuffer
from passes.memory.planner import Plan, check_plan, plan_memory

ARENA_ATTR = "tt.arena_bytes"
BOUND_ATTR = "tt.arena_lower_bound"
ARG_OFFSETS_ATTR = "tt.arg_offsets"
OFFSETS_ATTR = "tt.offsets"
SCRATCH_ATTR = "tt.scratch_offset"


def plan_function(function: func.FuncOp, alignment: int, time_budget_s: float) -> tuple[Liveness, Plan]:
    """Liveness of `function` and a checked plan of its buffers."""
    liveness = analyze(function, alignment)
    buffers = [PlannerBuffer(str(i), b.size, b.first, b.last) for i, b in enumerate(liveness.buffers)]
    plan = plan_memory(buffers, alignment=alignment, time_budget_s=time_budget_s)
    check_plan(buffers, plan, alignment)
    return liveness, plan


@dataclass(frozen=True)
class MemoryPlanPass(ModulePass):
    """Assign arena offsets to every buffer; record arena size and lower bound on each function."""

    name = "tt-memory-plan"

    alignment: int = 16
    time_budget: float = 2.0

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.alignment < 1 or self.alignment & (self.alignment - 1):
            raise PassFailedException(
                f"tt-memory-plan: alignment must be a power of two, got {self.alignment}"
            )
        for function in [o for o in op.walk() if isinstance(o, func.FuncOp)]:
            self.annotate(function)

    def annotate(self, function: func.FuncOp) -> None:
        liveness, plan = plan_function(function, self.alignment, self.time_budget)
        offset_of = {}
        for index, buffer in enumerate(liveness.buffers):
            offset = plan.offsets[str(index)]
            for value in buffer.values:
                offset_of[value] = offset
            if buffer.scratch_of is not None:
                buffer.scratch_of.attributes[SCRATCH_ATTR] = IntegerAttr(offset, i64)
        args = [offset_of.get(arg, -1) for arg in function.body.block.args]
        function.attributes[ARG_OFFSETS_ATTR] = DenseArrayBase.from_list(i64, args)
        function.attributes[ARENA_ATTR] = IntegerAttr(plan.peak, i64)
        function.attributes[BOUND_ATTR] = IntegerAttr(plan.lower_bound, i64)
        for op in function.body.block.ops:
            offsets = [offset_of.get(result, -1) for result in op.results]
            if any(offset >= 0 for offset in offsets):
                op.attributes[OFFSETS_ATTR] = DenseArrayBase.from_list(i64, offsets)
