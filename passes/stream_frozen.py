"""tt-stream-frozen: inverted bottlenecks whose intermediates nobody else reads become one op.

Rewrites every chain, in any function,

    %e = tt.conv2d %x, @ew, @eb   (groups 1, any kernel, stride, padding)    optional
    %d = tt.conv2d %e, @dw, @db   (KHxKW depthwise: groups = channels in = channels out)
    %y = tt.conv2d %d, @pw, @pb   (1x1, stride 1, no padding, groups 1)

where %d has no user but the project conv and %e none but the depthwise conv, into

    %y = tt.bottleneck %x expand @ew, @eb depthwise @dw, @db project @pw, @pb {...}

which computes the same int8 values (same requantizations and clamps; the intermediate types
and each conv's clamp, stride and padding become attributes) but is executed row-streamed:
the runtime keeps KH rows of %e and one row of %d in a scratch buffer, so neither
intermediate tensor ever exists in the arena. The expand conv is the 1x1 expansion of an
inverted bottleneck, or, for a block with expansion ratio 1, the conv before it: the network's
strided 3x3 stem conv, whose large output then never exists either. When %e has another user
(e.g. it is saved for a weight gradient), the expand conv stays and the depthwise -> project
pair is fused alone; when %d has another user (saved for the backward pass), nothing is fused.
In `@train_step` this applies exactly to the frozen blocks, whose forward activations are not
saved.

A chain reading a split weight (one whose updates train only some channels: the C runtime keeps
those channels apart from the rest, passes/memory/slices.py) is left alone, e.g. a trained block
in `@forward`.

Run it after tt-autodiff and tt-sparse-update (which see only `tt.conv2d`), as
tt-training-pipeline does: after tt-fuse-update, before tt-reorder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseArrayBase, ModuleOp, i64
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass

from passes.memory.slices import split_slices
from ttdialect import dialect as tt


@dataclass
class _Chain:
    expand: tt.Conv2DOp | None
    depthwise: tt.Conv2DOp
    project: tt.Conv2DOp

    def ops(self) -> list[tt.Conv2DOp]:
        return [op for op in (self.expand, self.depthwise, self.project) if op is not None]


def _kernel(op: tt.Conv2DOp) -> tuple[int, ...]:
    return tt.lookup_param(op, op.weight).shape[1:3]


def is_pointwise(op: Operation | None) -> bool:
    """A 1x1, stride 1, unpadded, ungrouped tt.conv2d."""
    if not isinstance(op, tt.Conv2DOp):
        return False
    stride, _, groups = op.conv_params()
    return _kernel(op) == (1, 1) and stride == (1, 1) and op.conv_padding() == (0, 0, 0, 0) and groups == 1


def is_depthwise(op: Operation | None) -> bool:
    """A tt.conv2d with one input channel per output channel and as many outputs as inputs."""
    if not isinstance(op, tt.Conv2DOp):
        return False
    channels_in = op.input.type.get_shape()[3]
    channels_out = op.output.type.get_shape()[3]
    return op.conv_params()[2] == channels_in == channels_out and op.symmetric_padding


def is_dense(op: Operation | None) -> bool:
    """An ungrouped tt.conv2d (any kernel and stride, the same padding on opposite sides)."""
    return isinstance(op, tt.Conv2DOp) and op.conv_params()[2] == 1 and op.symmetric_padding


def _sole_producer(value: SSAValue) -> tt.Conv2DOp | None:
    """The tt.conv2d defining `value` if `value` has exactly one use."""
    owner = value.owner
    return owner if isinstance(owner, tt.Conv2DOp) and value.has_one_use() else None


def find_chain(project: tt.Conv2DOp) -> _Chain | None:
    """The [expand ->] depthwise -> project chain ending at `project`, if it can be fused."""
    if not is_pointwise(project):
        return None
    depthwise = _sole_producer(project.input)
    if not is_depthwise(depthwise):
        return None
    assert isinstance(depthwise, tt.Conv2DOp)
    if tt.numerics_of(depthwise) != tt.numerics_of(project):
        return None
    expand = _sole_producer(depthwise.input)
    if expand is not None and tt.numerics_of(expand) != tt.numerics_of(project):
        expand = None
    chain = _Chain(expand if is_dense(expand) else None, depthwise, project)
    return chain if not _updated_within(chain) else None


def _params(chain: _Chain) -> set[str]:
    refs = [ref for op in chain.ops() for ref in (op.weight, op.bias) if ref is not None]
    return {ref.root_reference.data for ref in refs}


def _updated_within(chain: _Chain) -> bool:
    """Whether a parameter of the chain is updated between its first op and the project conv
    (moving its reads to the project conv's place would then read the updated value)."""
    params = _params(chain)
    op = chain.ops()[0].next_op
    while op is not None and op is not chain.project:
        updated = tt.updated_param(op)
        if updated is not None and updated.root_reference.data in params:
            return True
        op = op.next_op
    return False


def _act(op: tt.Conv2DOp) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, [tt._int(op.act_min), tt._int(op.act_max)])


def bottleneck_op(chain: _Chain) -> tt.BottleneckOp:
    """The tt.bottleneck computing what `chain` computes."""
    depthwise, project, expand = chain.depthwise, chain.project, chain.expand
    props: dict[str, Any] = {}
    if expand is not None:
        props.update(
            expand_weight=expand.weight,
            expand_bias=expand.bias,
            expanded_type=expand.output.type,
            expand_act=_act(expand),
        )
        stride, padding, _ = expand.conv_params()
        if stride != (1, 1) or padding != (0, 0):
            props.update(expand_stride=expand.stride, expand_padding=expand.padding)
    props.update(
        depthwise_weight=depthwise.weight,
        depthwise_bias=depthwise.bias,
        project_weight=project.weight,
        project_bias=project.bias,
        depthwise_type=depthwise.output.type,
        depthwise_act=_act(depthwise),
        project_act=_act(project),
        stride=depthwise.stride,
        padding=depthwise.padding,
        numerics=project.numerics,
    )
    source = depthwise.input if expand is None else expand.input
    return tt.BottleneckOp.create(
        operands=[source],
        result_types=[project.output.type],
        properties={name: value for name, value in props.items() if value is not None},
    )


def fuse(chain: _Chain) -> tt.BottleneckOp:
    """Replace `chain` by one tt.bottleneck at the project conv's place; returns it."""
    project = chain.project
    fused = bottleneck_op(chain)
    project.parent_block().insert_op_before(fused, project)
    fused.output.name_hint = project.output.name_hint
    project.output.replace_all_uses_with(fused.output)
    for dead in reversed(chain.ops()):
        dead.detach()
        dead.erase()
    return fused


@dataclass(frozen=True)
class StreamFrozenPass(ModulePass):
    """Fuse every [expand ->] depthwise -> project chain with private intermediates."""

    name = "tt-stream-frozen"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        split = set(split_slices(op))
        for function in [o for o in op.walk() if isinstance(o, func.FuncOp)]:
            projects = [o for o in function.body.block.ops if isinstance(o, tt.Conv2DOp)]
            for project in projects:
                chain = find_chain(project)
                if chain is not None and not _params(chain) & split:
                    fuse(chain)
