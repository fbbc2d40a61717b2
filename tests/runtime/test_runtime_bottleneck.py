"""tt_bottleneck (runtime_c/src/tt_bottleneck.c) against the reference interpreter: bit exact.

Oracle: the same chain written as separate `tt.conv2d` ops (expand, depthwise, project), run by
the interpreter on the same random input and parameters (tests/bottleneck_cases.py). The C
kernel runs in the sanitized driver with the fixed-point arguments computed as the compiler
does, and a scratch buffer of exactly tt_bottleneck_scratch_size bytes filled with garbage;
that size must also equal the compiler's bottleneck_scratch_bytes.
"""

from __future__ import annotations

import numpy as np
import oracle
import pytest
from bottleneck_cases import CASES, BottleneckCase, Chain, bottleneck_text, chain_text, make_chain
from cdriver import KernelDriver, i32
from irbuild import assert_spread, build_and_run, function, module_text, parse
from oracle import Q

from passes.memory.liveness import bottleneck_scratch_bytes
from ttdialect import dialect as tt

RUNTIME_CASES = {
    **CASES,
    "mbv2_block1_geometry": BottleneckCase(1, 64, 64, 8, 48, 8, (3, 3), (2, 2), (1, 1)),
    "proxyless_k7_s1": BottleneckCase(1, 16, 16, 8, 24, 8, (7, 7), (1, 1), (3, 3)),
    "mbv2_stem_block0_geometry": BottleneckCase(
        1, 128, 128, 3, 16, 8, (3, 3), (1, 1), (1, 1), expand_kernel=(3, 3), expand_stride=(2, 2),
        expand_padding=(1, 1),
    ),
}


def expected_output(chain: Chain) -> np.ndarray:
    args, results = [("x", chain.types()[0])], [("r", chain.types()[-1])]
    (out,), _ = build_and_run(chain.params(), args, chain_text(chain), results, [chain.x])
    return out


def compiler_scratch_bytes(chain: Chain) -> int:
    args, results = [("x", chain.types()[0])], [("r", chain.types()[-1])]
    module = parse(module_text(chain.params(), [function("f", args, bottleneck_text(chain), results)]))
    return bottleneck_scratch_bytes(next(op for op in module.walk() if isinstance(op, tt.BottleneckOp)))


def shape_args(case: BottleneckCase) -> np.ndarray:
    oh, ow = case.out_hw()
    geometry = [*case.kernel, *case.stride, *case.padding]
    expand = [*case.expand_kernel, *case.expand_stride, *case.expand_padding]
    hidden = [*case.hidden_hw(), case.hidden]
    sizes = [case.n, case.h, case.w, case.c, *hidden, oh, ow, case.o]
    return i32([*sizes, *geometry, int(case.expand), *expand])


def stage_args(chain: Chain) -> list:
    """quant(3), weight, bias for expand (empty without one), depthwise and project."""
    scales = [(chain.x_scale, chain.x_zp)] + [(st.out_scale, st.out_zp) for st in chain.stages]
    args: list = [None] * 5 if not chain.case.expand else []
    for stage, (in_scale, in_zp) in zip(chain.stages, scales, strict=False):
        out_q = Q(stage.out_scale, stage.out_zp)
        mult, shift = oracle.channel_multipliers(Q(in_scale, in_zp), stage.scales, out_q)
        args += [i32([in_zp, stage.out_zp, *stage.act]), mult, shift, stage.weight, stage.bias]
    return args


@pytest.mark.parametrize("name", list(RUNTIME_CASES))
def test_bottleneck_bit_exact(driver: KernelDriver, name: str) -> None:
    case = RUNTIME_CASES[name]
    chain = make_chain(case, seed=list(RUNTIME_CASES).index(name) + 101)
    expected = expected_output(chain)
    assert_spread(expected, *chain.stages[-1].act)
    out = np.zeros(expected.shape, dtype=np.int8)
    size = np.zeros(1, dtype=np.int32)
    results = driver.call("bottleneck", shape_args(case), *stage_args(chain), chain.x, out, size)
    np.testing.assert_array_equal(results[17], expected)
    assert int(results[18][0]) == compiler_scratch_bytes(chain)
