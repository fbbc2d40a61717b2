"""tt-qas: quantization-aware scaling of the integer-domain gradients of @train_step.

Scales the gradient of every `tt.sgd_update @p` by p's scales to the power -2: weight gradients
by s_W^-2 per output channel and bias gradients by (s_W s_x)^-2 (the bias's own scales), which
makes int8 SGD take the step float SGD would take (docs/numerics.md). The factor is folded into
the `tt.scale_grad %g, @p {power = 1}` tt-autodiff put there (power 1 - 2 = -1); a gradient
without one gets a new `tt.scale_grad {power = -2}`.
`tt-qas{enabled=false}` leaves the IR unchanged, so the two can be compared with one pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException

from ttdialect import dialect as tt

QAS_POWER = -2
FOLDED_POWERS = (QAS_POWER, 1 + QAS_POWER)


@dataclass(frozen=True)
class QASPass(ModulePass):
    """Scale every update's gradient by the parameter's scales to the power -2."""

    name = "tt-qas"

    enabled: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if not self.enabled:
            return
        updates = [o for o in op.walk() if isinstance(o, tt.SGDUpdateOp)]
        if not updates:
            raise PassFailedException("tt-qas: no tt.sgd_update to scale (run tt-autodiff first)")
        for update in updates:
            grad = update.grad
            owner = grad.owner
            if isinstance(owner, tt.ScaleGradOp) and tt._int(owner.power) in FOLDED_POWERS:
                raise PassFailedException("tt-qas: gradients are already QAS-scaled")
            if isinstance(owner, tt.ScaleGradOp) and owner.param == update.param and grad.has_one_use():
                owner.power = IntegerAttr(tt._int(owner.power) + QAS_POWER, i64)
                continue
            self.insert_scale(update)

    @staticmethod
    def insert_scale(update: tt.SGDUpdateOp) -> None:
        grad = update.grad
        channels = grad.owner.channels if isinstance(grad.owner, tt.ScaleGradOp) else None
        scale = tt.ScaleGradOp.create(
            operands=[grad],
            result_types=[grad.type],
            properties={
                "param": update.param,
                "power": IntegerAttr(QAS_POWER, i64),
                **({"channels": channels} if channels is not None else {}),
            },
        )
        update.parent_block().insert_op_before(scale, update)
        update.operands[0] = scale.result
