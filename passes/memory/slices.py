"""Which parts of the parameters the training step writes, in one place for the memory report
and the C emitter.

An update with `channels` trains only those indices of its update axis. For an int8 weight
that makes the weight *split*: the full weight stays in flash and only the trained channels
are copied to SRAM; the forward and input-gradient kernels then assemble one weight row at a
time in a small scratch row (runtime_c's tt_split_weight).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from ttdialect import dialect as tt
from ttdialect.weights import module_params


@dataclass(frozen=True)
class SplitSlice:
    """The trained channels of a partially updated int8 weight: `channels` on `axis`."""

    axis: int
    channels: tuple[int, ...]


def _channel_updates(module: ModuleOp):
    for op in module.walk():
        updated = tt.updated_param(op)
        if updated is not None:
            yield updated.root_reference.data, op, tt.updated_channels(op)


def updated_slices(module: ModuleOp) -> dict[str, int]:
    """Bytes of SRAM each updated parameter needs (its updated channel slice)."""
    params = module_params(module)
    sizes: dict[str, int] = {}
    for symbol, op, channels in _channel_updates(module):
        param = params[symbol]
        shape = list(param.shape)
        if channels is not None:
            shape[tt.update_axis(op)] = len(channels)
        width = 1 if param.element_width == 8 else 4
        sizes[symbol] = width * int(np.prod(shape))
    return sizes


def split_slices(module: ModuleOp) -> dict[str, SplitSlice]:
    """The int8 weights whose updates cover only some channels of their update axis."""
    params = module_params(module)
    slices: dict[str, SplitSlice] = {}
    for symbol, op, channels in _channel_updates(module):
        param = params[symbol]
        if channels is None or param.element_width != 8:
            continue
        axis = tt.update_axis(op)
        if len(channels) == param.shape[axis]:
            continue
        found = SplitSlice(axis, channels)
        if slices.setdefault(symbol, found) != found:
            raise ValueError(f"@{symbol} is updated on two different channel sets")
    return slices


def split_row_bytes(weight_shape: tuple[int, ...], split: SplitSlice) -> int:
    """int8 scratch a split-weight kernel needs: one weight row when the trained channels are on
    the last axis (KH*KW*C/groups for a conv, in_features for a linear), else none."""
    if split.axis == 0:
        return 0
    return int(np.prod(weight_shape[1:]))


def split_scratch_bytes(module: ModuleOp) -> int:
    """The one scratch row all split-weight kernels of the module share (the largest)."""
    params = module_params(module)
    return max(
        (split_row_bytes(params[s].shape, split) for s, split in split_slices(module).items()), default=0
    )

