"""tt passes: one ModulePass per file, registered lazily by name in `get_all_passes`."""

from collections.abc import Callable

from xdsl.passes import ModulePass


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
