"""tt-sparse-update{scheme=S}: keep only what a sparse update scheme trains in @train_step.

Removes the `tt.sgd_update` (and its `tt.scale_grad`) of every frozen parameter, then deletes
every op whose result is no longer used: back-propagation stops at the earliest updated layer,
no input gradient is computed below it, and only the activations some remaining backward op
reads stay alive. A partial weight update (ratio < 1) computes the gradient of its selected
channels only (`channels` on `tt.conv2d_grad_weight`, `tt.scale_grad` and `tt.sgd_update`); the
selection (largest L2 norm per input channel) is recorded in the IR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, ModuleOp, TensorType, f32, i64
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter
from xdsl.utils.exceptions import PassFailedException

from passes.schemes import SchemeError, parse_scheme
from ttdialect import dialect as tt
from ttdialect.ir_io import find_function
from ttdialect.weights import WeightsError, store_for


def backbone_convs(function: func.FuncOp) -> list[tt.Conv2DOp]:
    """The forward convs of a function in order: the indexing sparse-update schemes use."""
    return [op for op in function.body.block.ops if isinstance(op, tt.Conv2DOp)]


def classifier_params(function: func.FuncOp) -> set[str]:
    names: set[str] = set()
    for op in function.body.block.ops:
        if isinstance(op, tt.LinearOp):
            names.add(op.weight.root_reference.data)
            if op.bias is not None:
                names.add(op.bias.root_reference.data)
    return names


def select_channels(weight: np.ndarray, ratio: float, depthwise: bool) -> list[int]:
    """The int(ratio * C) channels of largest L2 weight norm (OHWI weight), sorted."""
    channel_axis = 0 if depthwise else 3
    count = weight.shape[channel_axis]
    keep = int(ratio * count)
    if keep <= 0:
        return []
    other_axes = tuple(a for a in range(4) if a != channel_axis)
    norms = np.sqrt((weight.astype(np.float64) ** 2).sum(axis=other_axes))
    order = np.argsort(-norms, kind="stable")
    return sorted(int(c) for c in order[:keep])


def erase_dead_ops(function: func.FuncOp) -> int:
    """Erase ops without side effects whose results are unused, to a fixed point."""
    erased = 0
    for op in reversed(list(function.body.block.ops)):
        if isinstance(op, tt.SGDUpdateOp | func.ReturnOp):
            continue
        if op.results and all(not r.uses for r in op.results):
            op.detach()
            op.erase()
            erased += 1
    return erased


def update_chain(update: tt.SGDUpdateOp) -> tuple[tt.ScaleGradOp | None, Operation | None]:
    """The scale_grad feeding an update and the op producing the gradient it scales."""
    scale = update.grad.owner
    if isinstance(scale, tt.ScaleGradOp):
        return scale, scale.grad.owner if isinstance(scale.grad.owner, Operation) else None
    return None, scale if isinstance(scale, Operation) else None


@dataclass(frozen=True)
class SparseUpdatePass(ModulePass):
    """Prune @train_step to the parameters a scheme updates."""

    name = "tt-sparse-update"

    scheme: str = "full"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        train = find_function(op, "train_step")
        if train is None:
            raise PassFailedException("tt-sparse-update: no @train_step (run tt-autodiff first)")
        updates = [o for o in train.body.block.ops if isinstance(o, tt.SGDUpdateOp)]
        if not updates:
            raise PassFailedException(
                "tt-sparse-update: @train_step has no tt.sgd_update (use tt-autodiff emit=updates)"
            )
        try:
            scheme = parse_scheme(self.scheme)
            convs = backbone_convs(train)
            biases, ratios = scheme.resolve(len(convs))
        except SchemeError as error:
            raise PassFailedException(f"tt-sparse-update: {error}") from None
        trained = classifier_params(train)
        partial: dict[str, tuple[float, bool]] = {}
        for index, conv in enumerate(convs):
            if conv.bias is not None and index in biases:
                trained.add(conv.bias.root_reference.data)
            if index in ratios:
                name = conv.weight.root_reference.data
                trained.add(name)
                if ratios[index] < 1:
                    partial[name] = (ratios[index], tt._int(conv.groups) > 1)
        for update in updates:
            name = update.param.root_reference.data
            if name not in trained:
                update.detach()
                update.erase()
            elif name in partial:
                self.restrict_channels(op, update, *partial[name])
        erase_dead_ops(train)

    def restrict_channels(
        self, module: ModuleOp, update: tt.SGDUpdateOp, ratio: float, depthwise: bool
    ) -> None:
        name = update.param.root_reference.data
        try:
            weight = store_for(module).value(tt.lookup_param(update, update.param))
        except WeightsError as error:
            raise PassFailedException(f"tt-sparse-update: {error}") from None
        channels = select_channels(weight, ratio, depthwise)
        scale, producer = update_chain(update)
        if not isinstance(producer, tt.Conv2DGradWeightOp) or scale is None:
            raise PassFailedException(
                f"tt-sparse-update: the update of @{name} is not fed by a conv weight gradient"
            )
        if not channels:
            update.detach()
            update.erase()
            return
        shape = list(weight.shape)
        axis = 0 if depthwise else 3
        shape[axis] = len(channels)
        sliced = TensorType(f32, shape)
        selection = DenseArrayBase.from_list(i64, channels)
        producer.channels = selection
        Rewriter.replace_value_with_new_type(producer.grad_weight, sliced)
        Rewriter.replace_value_with_new_type(scale.result, sliced)
        if depthwise:
            scale.channels = selection
        update.channels = selection
        update.channel_axis = IntegerAttr(axis, i64)
