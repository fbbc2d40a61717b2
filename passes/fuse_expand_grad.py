"""tt-fuse-expand-grad: the input gradient through a depthwise conv and the 1x1 expand conv
before it becomes one op that never holds the expanded gradient.

Rewrites every chain, in any function,

    %a = tt.conv2d_grad_input %dy, @dw {stride, padding, groups = C}     (depthwise, C -> C)
    %b = tt.mask_grad %a, %mask                                           (the expand conv's clamp)
    tt.bias_update @eb, %b, %lr {power, grad_scale, rounding}             (optional)
    %dx = tt.conv2d_grad_input %b, @ew {stride 1, padding 0, groups 1}    (1x1 expand conv)

where %a has no user but the tt.mask_grad and %b none but the optional tt.bias_update and the
1x1 input gradient, into

    %dx = tt.expand_depthwise_grad_input %dy, %mask depthwise @dw expand @ew
          [bias_update @eb, %lr] {stride, padding[, power, grad_scale, rounding]}

at the place of the 1x1 input gradient. The runtime computes it one channel at a time with one
[N, H, W] float plane of scratch, so the [N, H, W, C] float gradient %a / %b (in the sparse
updates of MobileNetV2-like networks the largest buffer of the step) never exists. Every value,
parameter and RNG draw stays bit identical (the op's docstring says why).

The fused op reads @dw and @ew and updates @eb where the 1x1 input gradient was, so a chain is
left alone when that could change anything: when an op between its first and its last op names
one of these parameters (e.g. the depthwise weight's update), or when an update (which may draw
from the update RNG) lies between the bias update and the 1x1 input gradient. A chain on a
split weight (trained on some channels only: the C runtime keeps them apart, see
passes/memory/slices.py) is left alone, and so is one whose %b something else reads (a weight
update of the expand conv, an unfused bias gradient).

tt-training-pipeline runs it after tt-reorder, which places the chain's ops, and before
tt-memory-plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, SymbolRefAttr
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass

from passes.memory.slices import split_slices
from ttdialect import dialect as tt


@dataclass
class _Chain:
    depthwise: tt.Conv2DGradInputOp
    mask: tt.MaskGradOp
    bias: tt.BiasUpdateOp | None
    expand: tt.Conv2DGradInputOp

    def ops(self) -> list[Operation]:
        """The chain's ops in block order."""
        ops = [op for op in (self.depthwise, self.mask, self.bias, self.expand) if op is not None]
        block = self.expand.parent_block()
        assert block is not None
        return sorted(ops, key=_position(block).__getitem__)

    def params(self) -> set[str]:
        refs = [self.depthwise.weight, self.expand.weight] + ([self.bias.param] if self.bias else [])
        return {ref.root_reference.data for ref in refs}


def _position(block: Block) -> dict[Operation, int]:
    return {op: index for index, op in enumerate(block.ops)}


def is_depthwise_grad(op: Operation | None) -> bool:
    """A tt.conv2d_grad_input of a depthwise conv (groups = channels in = channels out)."""
    if not isinstance(op, tt.Conv2DGradInputOp):
        return False
    channels_in, channels_out = op.grad_input.type.get_shape()[3], op.grad_output.type.get_shape()[3]
    return op.conv_params()[2] == channels_in == channels_out and op.symmetric_padding


def is_pointwise_grad(op: Operation | None) -> bool:
    """A tt.conv2d_grad_input of a 1x1, stride 1, unpadded, ungrouped conv."""
    if not isinstance(op, tt.Conv2DGradInputOp):
        return False
    kernel = tt.lookup_param(op, op.weight).shape[1:3]
    return kernel == (1, 1) and op.conv_params() == ((1, 1), (0, 0), 1) and op.symmetric_padding


def find_chain(expand: tt.Conv2DGradInputOp) -> _Chain | None:
    """The depthwise -> mask -> [bias update] -> 1x1 input-gradient chain ending at `expand`,
    if its intermediates are private to it and it can be fused without changing the step."""
    mask = expand.grad_output.owner
    if not is_pointwise_grad(expand) or not isinstance(mask, tt.MaskGradOp):
        return None
    depthwise = mask.grad_output.owner
    if not is_depthwise_grad(depthwise) or not mask.grad_output.has_one_use():
        return None
    assert isinstance(depthwise, tt.Conv2DGradInputOp)
    others = [use.operation for use in mask.grad_input.uses if use.operation is not expand]
    bias = others[0] if others else None
    if len(others) > 1 or not isinstance(bias, tt.BiasUpdateOp | None):
        return None
    chain = _Chain(depthwise, mask, bias, expand)
    return chain if _movable(chain) else None


def _movable(chain: _Chain) -> bool:
    """Whether the chain's parameter reads and its bias update can all move to the place of its
    1x1 input gradient: nothing in between names its parameters, no update crosses the bias
    update (the RNG is drawn in update order), and its learning rate is defined before."""
    ops = chain.ops()
    params = chain.params()
    block = chain.expand.parent_block()
    assert block is not None
    position = _position(block)
    between = list(block.ops)[position[ops[0]] + 1 : position[ops[-1]]]
    if any(_names(op, params) for op in between if op not in ops):
        return False
    if chain.bias is None:
        return True
    crossed = sorted((position[chain.bias], position[chain.expand]))
    if any(tt.updated_param(op) is not None for op in list(block.ops)[crossed[0] + 1 : crossed[1]]):
        return False
    return _defined_before(chain.bias.lr, chain.expand)


def _names(op: Operation, params: set[str]) -> bool:
    return any(
        isinstance(prop, SymbolRefAttr) and prop.root_reference.data in params
        for prop in op.properties.values()
    )


def _defined_before(value: SSAValue, op: Operation) -> bool:
    owner = value.owner
    return not isinstance(owner, Operation) or owner.is_before_in_block(op)


def fused_op(chain: _Chain) -> tt.ExpandDepthwiseGradInputOp:
    """The tt.expand_depthwise_grad_input computing what `chain` computes."""
    depthwise, expand, bias = chain.depthwise, chain.expand, chain.bias
    props: dict[str, Any] = {
        "depthwise_weight": depthwise.weight,
        "stride": depthwise.stride,
        "padding": depthwise.padding,
        "expand_weight": expand.weight,
    }
    operands = [depthwise.grad_output, chain.mask.mask]
    if bias is not None:
        props.update(param=bias.param, power=bias.power, grad_scale=bias.grad_scale, rounding=bias.rounding)
        operands.append(bias.lr)
    return tt.ExpandDepthwiseGradInputOp.create(
        operands=operands, result_types=[expand.grad_input.type], properties=props
    )


def fuse(chain: _Chain) -> tt.ExpandDepthwiseGradInputOp:
    """Replace `chain` by one tt.expand_depthwise_grad_input at its 1x1 input gradient's place."""
    expand = chain.expand
    fused = fused_op(chain)
    expand.parent_block().insert_op_before(fused, expand)
    fused.grad_input.name_hint = expand.grad_input.name_hint
    expand.grad_input.replace_all_uses_with(fused.grad_input)
    for dead in (expand, chain.bias, chain.mask, chain.depthwise):
        if dead is not None:
            dead.detach()
            dead.erase()
    return fused


@dataclass(frozen=True)
class FuseExpandGradPass(ModulePass):
    """Fuse every depthwise -> mask -> [bias update] -> 1x1 input-gradient chain with private
    intermediates into one channel-at-a-time tt.expand_depthwise_grad_input."""

    name = "tt-fuse-expand-grad"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        split = set(split_slices(op))
        for function in [o for o in op.walk() if isinstance(o, func.FuncOp)]:
            grads = [o for o in function.body.block.ops if isinstance(o, tt.Conv2DGradInputOp)]
            for expand in grads:
                chain = find_chain(expand)
                if chain is not None and not chain.params() & split:
                    fuse(chain)
