"""The memory report of a training step: arena, trainable parameters, flash, lower bound.

Figures come from the planned IR (`tt-memory-plan` attributes; functions not yet planned are
planned here with default options):

- `arena_bytes`: the planned arena of @train_step (activations, saved tensors, gradients, kernel
  scratch); comparable to the published peak, which leaves the trainable parameters out;
- `lower_bound_bytes`: the peak live bytes of the schedule, which no arena can beat;
- `trainable_sram_bytes`: SRAM copies of the updated weights and biases (only the updated
  channel slices of partial updates);
- `runtime_state_bytes`: the update RNG counter and the weight row that kernels of split
  weights (partial channel updates) assemble in (passes/memory/slices.py);
- `total_sram_bytes`: arena + trainable + runtime state (the stack is measured on the linked
  image, not here);
- `flash_bytes`: the model data in flash: every parameter's initial values plus per-output-channel
  requantization data (multiplier, shift, float scale: 12 bytes), code excluded.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr, ModuleOp

from passes.memory.liveness import Liveness, analyze
from passes.memory.slices import split_scratch_bytes, updated_slices
from passes.memory_plan import ARENA_ATTR, BOUND_ATTR, plan_function
from ttdialect.ir_io import find_function
from ttdialect.outputs import Outputs
from ttdialect.weights import module_params

RUNTIME_STATE_BYTES = 4
CHANNEL_DATA_BYTES = 12


@dataclass
class MemoryReport:
    function: str
    arena_bytes: int
    lower_bound_bytes: int
    trainable_sram_bytes: int
    runtime_state_bytes: int
    total_sram_bytes: int
    flash_bytes: int
    buffers: int
    steps: int
    peak_step: int
    peak_op: str
    updated_parameters: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def to_text(self) -> str:
        def row(label: str, value: int, note: str = "") -> str:
            return f"  {label:<20}{value:>10} B  {value / 1024:8.1f} KB{note}"

        lines = [
            f"memory report of @{self.function} ({self.steps} steps, {self.buffers} buffers)",
            row("arena", self.arena_bytes),
            row("lower bound", self.lower_bound_bytes, f"  (peak at step {self.peak_step}: {self.peak_op})"),
            row("trainable (SRAM)", self.trainable_sram_bytes, f"  ({self.updated_parameters} parameters)"),
            row("runtime state", self.runtime_state_bytes),
            row("total SRAM", self.total_sram_bytes, "  (stack: see the linked image)"),
            row("flash (model data)", self.flash_bytes),
            f"  {'planner slack':<20}{self.arena_bytes / max(self.lower_bound_bytes, 1):10.4f}",
        ]
        return "\n".join(lines) + "\n"


def _int_attr(function: func.FuncOp, name: str) -> int | None:
    attr = function.attributes.get(name)
    return attr.value.data if isinstance(attr, IntegerAttr) else None


def flash_bytes(module: ModuleOp) -> int:
    total = 0
    for param in module_params(module).values():
        width = 1 if param.element_width == 8 else 4
        total += width * int(np.prod(param.shape)) + CHANNEL_DATA_BYTES * param.shape[0]
    return total


def memory_report(module: ModuleOp, function_name: str = "train_step") -> MemoryReport:
    function = find_function(module, function_name) or find_function(module, "forward")
    if function is None:
        raise ValueError("memory-report: the module has no @train_step or @forward")
    arena, bound = _int_attr(function, ARENA_ATTR), _int_attr(function, BOUND_ATTR)
    if arena is None or bound is None:
        liveness, plan = plan_function(function, alignment=16, time_budget_s=2.0)
        arena, bound = plan.peak, plan.lower_bound
    else:
        liveness = analyze(function, 16)
    peak_step = _peak_step(liveness)
    ops = list(function.body.block.ops)
    slices = updated_slices(module)
    trainable = sum(slices.values())
    state = RUNTIME_STATE_BYTES + split_scratch_bytes(module)
    return MemoryReport(
        function=function.sym_name.data,
        arena_bytes=arena,
        lower_bound_bytes=bound,
        trainable_sram_bytes=trainable,
        runtime_state_bytes=state,
        total_sram_bytes=arena + trainable + state,
        flash_bytes=flash_bytes(module),
        buffers=len(liveness.buffers),
        steps=liveness.steps,
        peak_step=peak_step,
        peak_op=ops[peak_step - 1].name if peak_step else "arguments",
        updated_parameters=len(slices),
    )


def _peak_step(liveness: Liveness) -> int:
    profile = liveness.live_bytes()
    return profile.index(max(profile)) if profile else 0


def draw_lifetimes(module: ModuleOp, path: Path, function_name: str = "train_step") -> None:
    """A PNG of every buffer as a rectangle: steps on x, arena offset on y (the life-cycle picture)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    function = find_function(module, function_name)
    if function is None:
        raise ValueError(f"memory-report: no @{function_name} to draw")
    liveness, plan = plan_function(function, alignment=16, time_budget_s=2.0)
    figure, axes = plt.subplots(figsize=(12, 5))
    for index, buffer in enumerate(liveness.buffers):
        offset = plan.offsets[str(index)] / 1024
        color = "tab:red" if buffer.scratch_of is not None else f"C{index % 10}"
        axes.add_patch(
            Rectangle((buffer.first, offset), buffer.last - buffer.first + 1, buffer.size / 1024, color=color)
        )
    axes.set_xlim(0, liveness.steps)
    axes.set_ylim(0, plan.peak / 1024 * 1.05)
    axes.axhline(plan.lower_bound / 1024, color="black", linestyle="--", linewidth=0.8)
    axes.set_xlabel("step (op index in the schedule)")
    axes.set_ylabel("arena offset (KB)")
    title = f"@{function_name}: arena {plan.peak / 1024:.1f} KB, lower bound {plan.lower_bound / 1024:.1f} KB"
    axes.set_title(title)
    figure.tight_layout()
    image = io.BytesIO()
    figure.savefig(image, format="png", dpi=110)
    plt.close(figure)
    with Outputs() as outputs:
        outputs.file(path, image.getvalue())
    plt.close(figure)
