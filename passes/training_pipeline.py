"""tt-training-pipeline{scheme=S}: the whole training job in one pass.

Runs, in order: tt-autodiff{lr, rounding}, tt-sparse-update{scheme}, tt-qas{enabled=qas},
tt-fuse-update, tt-stream-frozen, tt-pool-indices, tt-clamp-masks, tt-reorder (quiet),
tt-fuse-expand-grad and tt-memory-plan{alignment}: from @forward to a planned @train_step ready
for C emission.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from passes.autodiff import AutodiffPass
from passes.clamp_masks import ClampMasksPass
from passes.fuse_expand_grad import FuseExpandGradPass
from passes.fuse_update import FuseUpdatePass
from passes.memory_plan import MemoryPlanPass
from passes.pool_indices import PoolIndicesPass
from passes.qas import QASPass
from passes.reorder import ReorderPass
from passes.sparse_update import SparseUpdatePass
from passes.stream_frozen import StreamFrozenPass


@dataclass(frozen=True)
class TrainingPipelinePass(ModulePass):
    """autodiff -> sparse update -> QAS -> fused updates -> streamed frozen blocks -> max-pool
    indices -> clamp masks -> reordering -> fused expand input gradients -> memory plan."""

    name = "tt-training-pipeline"

    scheme: str = "full"
    lr: float = 0.01
    rounding: str = "stochastic"
    qas: bool = True
    alignment: int = 16

    def stages(self) -> list[ModulePass]:
        return [
            AutodiffPass(lr=self.lr, rounding=self.rounding),
            SparseUpdatePass(scheme=self.scheme),
            QASPass(enabled=self.qas),
            FuseUpdatePass(),
            StreamFrozenPass(),
            PoolIndicesPass(),
            ClampMasksPass(),
            ReorderPass(quiet=True),
            FuseExpandGradPass(),
            MemoryPlanPass(alignment=self.alignment),
        ]

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for stage in self.stages():
            stage.apply(ctx, op)
