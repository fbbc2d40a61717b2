"""The static memory planner (passes/memory/planner.py) and its command line, tt-plan-memory.

Oracles written here, sharing no code with the planner: a pairwise overlap checker, the lower
bound summed step by step, and an exhaustive optimum for small instances (every placement order,
each buffer at the lowest offset that fits; some order reaches an optimal plan, since placing any
plan's buffers in the order of their offsets that way puts each at or below its offset).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from passes.memory.planner import Buffer, Plan, check_plan, plan_memory

SIZES = (16, 32, 48, 64, 96, 128, 256, 384, 512, 1024, 2048, 4096, 8192, 16384)


def align(size: int, alignment: int) -> int:
    return (size + alignment - 1) // alignment * alignment


def live_together(a: Buffer, b: Buffer) -> bool:
    return a.first <= b.last and b.first <= a.last


def assert_valid(buffers: list[Buffer], plan: Plan, alignment: int = 16) -> None:
    """Every buffer placed, aligned, within the peak; no two live buffers share a byte."""
    assert set(plan.offsets) == {b.id for b in buffers}
    top = 0
    for b in buffers:
        offset = plan.offsets[b.id]
        assert offset >= 0 and offset % alignment == 0, (b.id, offset)
        top = max(top, offset + align(b.size, alignment))
    assert plan.peak == top
    for i, a in enumerate(buffers):
        a0, a1 = plan.offsets[a.id], plan.offsets[a.id] + align(a.size, alignment)
        for b in buffers[i + 1 :]:
            b0, b1 = plan.offsets[b.id], plan.offsets[b.id] + align(b.size, alignment)
            assert not (live_together(a, b) and a0 < b1 and b0 < a1), f"{a} and {b} overlap"


def step_lower_bound(buffers: list[Buffer], alignment: int = 16) -> int:
    steps = range(min(b.first for b in buffers), max(b.last for b in buffers) + 1)
    return max(sum(align(b.size, alignment) for b in buffers if b.first <= t <= b.last) for t in steps)


def optimum(buffers: list[Buffer], alignment: int = 16) -> int:
    """Smallest peak over all placement orders with lowest-offset placement (pruned by the best)."""
    sizes = [align(b.size, alignment) for b in buffers]
    offsets: list[int | None] = [None] * len(buffers)
    best = sum(sizes)

    def lowest(i: int) -> int:
        taken = sorted(
            (offsets[j], offsets[j] + sizes[j])
            for j, other in enumerate(buffers)
            if offsets[j] is not None and live_together(buffers[i], other)
        )
        x = 0
        for start, end in taken:
            if start >= x + sizes[i]:
                break
            x = max(x, end)
        return x

    def search(remaining: list[int], peak: int) -> None:
        nonlocal best
        if peak >= best:
            return
        if not remaining:
            best = peak
            return
        for i in remaining:
            offsets[i] = lowest(i)
            search([j for j in remaining if j != i], max(peak, offsets[i] + sizes[i]))
            offsets[i] = None

    search(list(range(len(buffers))), 0)
    return best


def scattered(n: int, seed: int) -> list[Buffer]:
    """Random lifetimes (mostly short, some long) and sizes, not multiples of the alignment."""
    rng = random.Random(seed)
    steps = max(4, n)
    buffers = []
    for i in range(n):
        first = rng.randrange(steps)
        length = rng.randrange(1, 4) if rng.random() < 0.6 else rng.randrange(1, steps // 2 + 2)
        buffers.append(Buffer(f"s{i}", rng.choice(SIZES) + rng.randrange(16), first, first + length - 1))
    return buffers


def training_like(n: int, seed: int) -> list[Buffer]:
    """Forward activations saved until their backward step, gradients and scratch in between."""
    rng = random.Random(seed)
    layers = max(2, n // 4)
    end = 2 * layers + 2
    buffers: list[Buffer] = []

    def add(size: int, first: int, last: int) -> None:
        buffers.append(Buffer(f"t{len(buffers)}", size, first, last))

    for i in range(layers + 1):
        add(rng.choice(SIZES[6:]), i, end - i if rng.random() < 0.7 else i + 1)
        if rng.random() < 0.5:
            add(rng.choice(SIZES[:8]), i, i)
    for i in range(layers, 0, -1):
        add(rng.choice(SIZES[6:]), end - i, end - i + 1)
        add(rng.choice(SIZES[2:10]), end - i, end - i)
    while len(buffers) < n:
        first = rng.randrange(end)
        add(rng.choice(SIZES), first, first + rng.randrange(3))
    return buffers[:n]


def tight(n: int, seed: int) -> list[Buffer]:
    """Random buffers topped up with one-step fillers so that every step is at the lower bound:
    any fragmentation costs arena, which defeats the greedy rules and exercises the search."""
    rng = random.Random(seed)
    steps = rng.randint(2, 5)
    buffers = []
    for i in range(n):
        first = rng.randrange(steps)
        buffers.append(
            Buffer(f"b{i}", 16 * rng.randint(1, 7), first, rng.randrange(first, min(steps, first + 3)))
        )
    bound = step_lower_bound(buffers)
    for t in range(steps):
        load = sum(b.size for b in buffers if b.first <= t <= b.last)
        if load < bound:
            buffers.append(Buffer(f"fill{t}", bound - load, t, t))
    return buffers


GENERATORS = {"scattered": scattered, "training": training_like}


@pytest.mark.parametrize("kind", sorted(GENERATORS))
@pytest.mark.parametrize(("n", "seed"), [(5, 0), (20, 1), (60, 2), (150, 3), (300, 4)])
def test_random_plans_are_valid(kind: str, n: int, seed: int) -> None:
    buffers = GENERATORS[kind](n, seed)
    plan = plan_memory(buffers, time_budget_s=0.5)
    assert_valid(buffers, plan)
    check_plan(buffers, plan)
    assert plan.lower_bound == step_lower_bound(buffers)
    assert plan.lower_bound <= plan.peak <= sum(align(b.size, 16) for b in buffers)
    assert plan.slack == plan.peak / plan.lower_bound


@pytest.mark.parametrize("alignment", [1, 8, 64])
def test_alignment_rounds_sizes_and_offsets(alignment: int) -> None:
    buffers = scattered(80, 7)
    plan = plan_memory(buffers, alignment=alignment, time_budget_s=0.3)
    assert_valid(buffers, plan, alignment)
    check_plan(buffers, plan, alignment)
    assert plan.lower_bound == step_lower_bound(buffers, alignment)


def small_instances() -> list[list[Buffer]]:
    cases = [scattered(n, seed) for n in range(1, 9) for seed in range(6)]
    cases += [training_like(n, seed) for n in range(2, 9) for seed in range(6)]
    cases += [b for b in (tight(n, seed) for n in range(3, 7) for seed in range(60)) if len(b) <= 8]
    return cases


def test_small_plans_are_optimal() -> None:
    searched = 0
    for buffers in small_instances():
        plan = plan_memory(buffers)
        assert_valid(buffers, plan)
        assert plan.peak == optimum(buffers), buffers
        searched += "branch and bound" in plan.method
    assert searched >= 5, "the instances should defeat the greedy rules now and then"


def test_optimum_above_the_lower_bound_is_found_and_proved() -> None:
    spec = [
        (5, 2, 4),
        (2, 2, 2),
        (5, 0, 2),
        (2, 1, 3),
        (3, 0, 2),
        (9, 0, 0),
        (7, 1, 1),
        (10, 3, 3),
        (12, 4, 4),
    ]
    buffers = [Buffer(f"b{i}", 16 * units, first, last) for i, (units, first, last) in enumerate(spec)]
    plan = plan_memory(buffers)
    assert_valid(buffers, plan)
    assert plan.lower_bound == 17 * 16
    assert plan.peak == optimum(buffers) == 19 * 16
    assert plan.method.endswith("branch and bound (optimal)")


def test_zoo_like_training_step_reaches_the_bound_quickly() -> None:
    buffers = training_like(300, 0)
    plan = plan_memory(buffers)
    assert_valid(buffers, plan)
    assert plan.peak == plan.lower_bound


def test_same_input_same_plan() -> None:
    """A search that needs its local search; it ends at the bound long before the time guard."""
    buffers = scattered(150, 4)
    assert plan_memory(buffers, time_budget_s=0).peak > step_lower_bound(buffers)
    first, second = plan_memory(buffers), plan_memory(list(buffers))
    assert first == second
    assert first.peak == first.lower_bound
    assert "local search" in first.method


def test_buffers_live_apart_share_memory() -> None:
    buffers = [Buffer("a", 100, 0, 1), Buffer("b", 100, 2, 3), Buffer("c", 50, 4, 4)]
    plan = plan_memory(buffers)
    assert plan.offsets == {"a": 0, "b": 0, "c": 0}
    assert plan.peak == plan.lower_bound == 112


def test_empty_input() -> None:
    plan = plan_memory([])
    assert (plan.offsets, plan.peak, plan.lower_bound, plan.slack) == ({}, 0, 0, 1.0)


@pytest.mark.parametrize(
    ("buffers", "message"),
    [
        ([Buffer("a", 0, 0, 1)], "'a'.*size must be positive"),
        ([Buffer("a", -4, 0, 1)], "'a'.*size must be positive"),
        ([Buffer("a", 8, 3, 1)], "'a'.*first step 3 is after last step 1"),
        ([Buffer("a", 8, 0, 1), Buffer("a", 8, 2, 3)], "duplicate buffer id 'a'"),
    ],
)
def test_bad_buffers_are_rejected(buffers: list[Buffer], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_memory(buffers)


def test_bad_parameters_are_rejected() -> None:
    with pytest.raises(ValueError, match="alignment"):
        plan_memory([Buffer("a", 8, 0, 0)], alignment=0)
    with pytest.raises(ValueError, match="time budget"):
        plan_memory([Buffer("a", 8, 0, 0)], time_budget_s=-1)


def test_check_plan_rejects_broken_plans() -> None:
    buffers = [Buffer("x", 64, 0, 3), Buffer("y", 32, 2, 5), Buffer("z", 32, 6, 7)]
    plan = plan_memory(buffers)
    check_plan(buffers, plan)

    def broken(**offsets: int) -> Plan:
        return Plan({**plan.offsets, **offsets}, plan.peak, plan.lower_bound, "edited", plan.alignment)

    with pytest.raises(ValueError, match=r"'x'.*'y'|'y'.*'x'"):
        check_plan(buffers, broken(x=0, y=32))
    check_plan(buffers, broken(x=0, y=64, z=0))  # z is live apart from both: sharing is fine
    with pytest.raises(ValueError, match="'y'.*multiple of 16"):
        check_plan(buffers, broken(y=plan.offsets["y"] + 8))
    with pytest.raises(ValueError, match="'x'.*multiple of 16"):
        check_plan(buffers, broken(x=-16))
    with pytest.raises(ValueError, match="'z' has no offset"):
        check_plan(buffers, Plan({"x": 0, "y": 64}, 96, 96, "edited"))
    with pytest.raises(ValueError, match="beyond the peak"):
        check_plan(buffers, broken(z=plan.peak))


# ----------------------------------------------------------------------------------------------
# tt-plan-memory


def plan_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tt.tools.tt_plan_memory", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


CSV = """id,lower,upper,size
# activations
act0, 0, 3, 100
act1, 1, 2, 40   # short-lived

grad, 3, 5, 64
"""


def test_cli_text(tmp_path: Path) -> None:
    path = tmp_path / "buffers.csv"
    path.write_text(CSV)
    done = plan_cli(str(path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    rows = [line.split() for line in lines[:3]]
    assert [(r[0], int(r[2]), int(r[3]), int(r[4])) for r in rows] == [
        ("act0", 100, 0, 3),
        ("act1", 40, 1, 2),
        ("grad", 64, 3, 5),
    ]
    buffers = [Buffer(r[0], int(r[2]), int(r[3]), int(r[4])) for r in rows]
    offsets = {r[0]: int(r[1]) for r in rows}
    assert_valid(buffers, Plan(offsets, 176, 176, "cli"))
    assert lines[3:] == ["peak: 176 bytes", "lower bound: 176 bytes", "slack: 1.000"]


def test_cli_json_is_deterministic(tmp_path: Path) -> None:
    buffers = scattered(100, 3)
    path = tmp_path / "buffers.csv"
    path.write_text("".join(f"{b.id},{b.first},{b.last},{b.size}\n" for b in buffers))
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = plan_cli(str(path), "--format", "json", "--alignment", "32", env=env)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    report = json.loads(outputs[0])
    offsets = {row["id"]: row["offset"] for row in report["buffers"]}
    plan = Plan(offsets, report["peak"], report["lower_bound"], "json")
    assert_valid(buffers, plan, 32)
    assert report["lower_bound"] == step_lower_bound(buffers, 32) <= report["peak"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,0,3,100\nb,1,x,4\n", "buffers.csv:2: upper 'x' is not an integer"),
        ("id,lower,upper,size\n\na,0,3\n", "buffers.csv:3: expected 4 fields"),
        ("a,0,3,100\n# note\na,4,5,8\n", "buffers.csv:3: duplicate id 'a' (first on line 1)"),
        ("a,0,3,0\n", "buffers.csv:1: size must be positive"),
        ("a,4,3,8\n", "buffers.csv:1: lower 4 is after upper 3"),
    ],
)
def test_cli_bad_rows(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "buffers.csv"
    path.write_text(content)
    done = plan_cli(str(path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    expected = f"tt-plan-memory: error: {path}:{message.split(':', 1)[1]}"
    assert done.stderr.startswith(expected) and done.stderr.count("\n") == 1, done.stderr


def test_cli_missing_file(tmp_path: Path) -> None:
    done = plan_cli(str(tmp_path / "absent.csv"))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("tt-plan-memory: error: ") and done.stderr.count("\n") == 1
    assert "absent.csv" in done.stderr
