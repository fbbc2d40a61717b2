"""tt passes: one ModulePass per file, registered lazily by name in `get_all_passes`."""

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

    return {"tt-autodiff": autodiff, "tt-sparse-update": sparse_update, "tt-qas": qas}


def apply_pipeline(module: ModuleOp, spec: str, ir_directory: Path) -> None:
    """Run the `tt-opt -p` pipeline `spec` on `module` in place (its weights file in ir_directory)."""
    from ttdialect.ir_io import make_context
    from ttdialect.weights import set_ir_directory

    set_ir_directory(ir_directory)
    PassPipeline.parse_spec(get_all_passes(), spec).apply(make_context(), module)
