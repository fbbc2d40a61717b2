"""tt-fuse-update: each weight/bias gradient is consumed by its update as it is produced.

Rewrites every chain

    %g = tt.conv2d_grad_weight | tt.linear_grad_weight | tt.bias_grad ...
    %s = tt.scale_grad %g, @p {power = P}          (optional, at most one)
    tt.sgd_update @p, %s, %lr {...}

into one `tt.conv2d_weight_update` / `tt.linear_weight_update` / `tt.bias_update @p` that the
runtime executes one output channel (row) at a time, updating @p in place: no full gradient
buffer exists any more, only a one-channel scratch. The gradient, the scaling and the update are
those of the chain, in the same order of RNG use, so the step computes exactly the same.
Chains whose gradient has other users are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64
from xdsl.ir import Operation
from xdsl.passes import ModulePass

from ttdialect import dialect as tt

GRADIENT_OPS = (tt.Conv2DGradWeightOp, tt.LinearGradWeightOp, tt.BiasGradOp)


@dataclass
class _Chain:
    gradient: tt.Conv2DGradWeightOp | tt.LinearGradWeightOp | tt.BiasGradOp
    scale: tt.ScaleGradOp | None
    update: tt.SGDUpdateOp

    @property
    def power(self) -> int:
        return 0 if self.scale is None else tt._int(self.scale.power)


def _single_use_producer(value: Any) -> Operation | None:
    return value.owner if isinstance(value.owner, Operation) and value.has_one_use() else None


def find_chain(update: tt.SGDUpdateOp) -> _Chain | None:
    """The gradient -> scale -> update chain ending at `update`, if it can be fused."""
    producer = _single_use_producer(update.grad)
    scale = None
    if isinstance(producer, tt.ScaleGradOp) and producer.param == update.param:
        scale = producer
        producer = _single_use_producer(scale.grad)
    if not isinstance(producer, GRADIENT_OPS):
        return None
    chain = _Chain(producer, scale, update)
    return chain if _channels_agree(chain) else None


def _channels_agree(chain: _Chain) -> bool:
    """The update's channel slice must be the one the gradient op computes."""
    gradient, update = chain.gradient, chain.update
    computed = getattr(gradient, "channels", None)
    if computed is None:
        return update.channels is None
    axis = gradient.channel_axis() if isinstance(gradient, tt.Conv2DGradWeightOp) else tt.LINEAR_CHANNEL_AXIS
    return update.channels == computed and update.channel_axis == IntegerAttr(axis, i64)


def fused_op(chain: _Chain) -> Operation:
    gradient, update = chain.gradient, chain.update
    common: dict[str, Any] = {
        "param": update.param,
        "power": IntegerAttr(chain.power, i64),
        "grad_scale": update.grad_scale,
        "rounding": update.rounding,
    }
    if isinstance(gradient, tt.BiasGradOp):
        return tt.BiasUpdateOp.create(operands=[gradient.grad_output, update.lr], properties=common)
    if gradient.channels is not None:
        common["channels"] = gradient.channels
    operands = [gradient.input, gradient.grad_output, update.lr]
    if isinstance(gradient, tt.LinearGradWeightOp):
        return tt.LinearWeightUpdateOp.create(operands=operands, properties=common)
    conv = {name: gradient.properties[name] for name in ("kernel", "stride", "padding", "groups")}
    return tt.Conv2DWeightUpdateOp.create(operands=operands, properties={**common, **conv})


@dataclass(frozen=True)
class FuseUpdatePass(ModulePass):
    """Fuse every weight/bias gradient with its scaling and SGD update (in-place, per channel)."""

    name = "tt-fuse-update"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for update in [o for o in op.walk() if isinstance(o, tt.SGDUpdateOp)]:
            chain = find_chain(update)
            if chain is None:
                continue
            update.parent_block().insert_op_before(fused_op(chain), update)
            for dead in (update, chain.scale, chain.gradient):
                if dead is not None:
                    dead.detach()
                    dead.erase()
