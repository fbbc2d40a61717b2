"""tt passes: one ModulePass per file, registered lazily by name in `get_all_passes`."""

import re
from collections.abc import Callable
from pathlib import Path

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Pass name -> factory that imports the pass class only when it is asked for."""

    def autodiff() -> type[ModulePass]:
        from passes.autodiff import AutodiffPass

        return AutodiffPass

    def sparse_update() -> type[ModulePass]:
        from passes.sparse_update import SparseUpdatePass

        return SparseUpdatePass

    def qas() -> type[ModulePass]:
        from passes.qas import QASPass

        return QASPass

    def fuse_update() -> type[ModulePass]:
        from passes.fuse_update import FuseUpdatePass

        return FuseUpdatePass

    def reorder() -> type[ModulePass]:
        from passes.reorder import ReorderPass

        return ReorderPass

    def memory_plan() -> type[ModulePass]:
        from passes.memory_plan import MemoryPlanPass

        return MemoryPlanPass

    def training_pipeline() -> type[ModulePass]:
        from passes.training_pipeline import TrainingPipelinePass

        return TrainingPipelinePass

    return {
        "tt-autodiff": autodiff,
        "tt-sparse-update": sparse_update,
        "tt-qas": qas,
        "tt-fuse-update": fuse_update,
        "tt-reorder": reorder,
        "tt-memory-plan": memory_plan,
        "tt-training-pipeline": training_pipeline,
    }


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
