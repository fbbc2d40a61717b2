"""tt passes: one ModulePass per file, registered lazily by name in `get_all_passes`."""

import importlib
import re
from collections.abc import Callable
from pathlib import Path

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline
from xdsl.utils.exceptions import ArgSpecParseError

PASSES = {
    "tt-autodiff": "passes.autodiff:AutodiffPass",
    "tt-sparse-update": "passes.sparse_update:SparseUpdatePass",
    "tt-qas": "passes.qas:QASPass",
    "tt-fuse-update": "passes.fuse_update:FuseUpdatePass",
    "tt-stream-frozen": "passes.stream_frozen:StreamFrozenPass",
    "tt-pool-indices": "passes.pool_indices:PoolIndicesPass",
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
    try:
        pipeline = PassPipeline.parse_spec(get_all_passes(), quote_path_values(spec))
    except (ArgSpecParseError, ValueError) as error:
        detail = str(error).strip().splitlines()[-1].strip() if str(error).strip() else type(error).__name__
        raise ValueError(f"bad pass pipeline '{spec}': {detail}") from None
    pipeline.apply(make_context(), module)


_OPTION_VALUE = re.compile(r'=([^\s"{},=]*)')
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _normalized_value(match: re.Match[str]) -> str:
    value = match.group(1)
    if not value:
        return '=""'
    if _NUMBER.fullmatch(value):
        mantissa, marker, exponent = value.lower().partition("e")
        if marker and "." not in mantissa:  # xDSL's lexer reads 1e-5 as a word, 1.0e-5 as a float
            value = f"{mantissa}.0e{exponent}"
        return f"={value}"
    if _IDENTIFIER.fullmatch(value):
        return f"={value}"
    return f'="{value}"'


def quote_path_values(pipeline: str) -> str:
    """Make option values xDSL's pipeline lexer reads as meant: values with path or other
    punctuation (`scheme=mcunet-5fps/99kb`, `scheme=s.json`) become strings, and numbers with an
    exponent but no point (`lr=1e-5`) get one."""
    return _OPTION_VALUE.sub(_normalized_value, pipeline)
