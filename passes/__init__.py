"""tt passes: one ModulePass per file, registered lazily by name in `get_all_passes`."""

import importlib
import re
from collections.abc import Callable
from pathlib import Path

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline

PASSES = {
    "tt-autodiff": "passes.autodiff:AutodiffPass",
    "tt-sparse-update": "passes.sparse_update:SparseUpdatePass",
    "tt-qas": "passes.qas:QASPass",
    "tt-fuse-update": "passes.fuse_update:FuseUpdatePass",
    "tt-stream-frozen": "passes.stream_frozen:StreamFrozenPass",
    "tt-clamp-masks": "passes.clamp_masks:ClampMasksPass",
    "tt-reorder": "passes.reorder:ReorderPass",
    "tt-fuse-expand-grad": "passes.fuse_expand_grad:FuseExpandGradPass",
    "tt-memory-plan": "passes.memory_plan:MemoryPlanPass",
    "tt-training-pipeline": "passes.training_pipeline:TrainingPipelinePass",
}
"""Pass name -> "module:class"; a pass's module is imported only when the pass is asked for."""


def _lazy(target: str) -> Callable[[], type[ModulePass]]:
    def load() -> type[ModulePass]:
        module, name = target.split(":")
        return getattr(importlib.import_module(module), name)

    return load


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Pass name -> factory that imports the pass class only when it is asked for."""
    return {name: _lazy(target) for name, target in PASSES.items()}


def apply_pipeline(module: ModuleOp, spec: str, ir_directory: Path) -> None:
    """Run the `tt-opt -p` pipeline `spec` on `module` in place (its weights file in ir_directory)."""
    from ttdialect.ir_io import make_context
    from ttdialect.weights import set_ir_directory

    set_ir_directory(ir_directory)
    PassPipeline.parse_spec(get_all_passes(), quote_path_values(spec)).apply(make_context(), module)


def quote_path_values(pipeline: str) -> str:
    """Quote unquoted option values with path characters (`scheme=mcunet-5fps/99kb`), which
    xDSL's pipeline lexer would otherwise reject."""
    return re.sub(r'=([^\s"{},=]*[/:~][^\s"{},=]*)', r'="\1"', pipeline)
