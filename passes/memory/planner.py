"""Static memory planning: a fixed arena offset for every buffer of known lifetime.

`plan_memory` places buffers (size, first step, last step) so that no two buffers live at the
same step overlap in memory, and the arena (the highest end offset) is as small as it can find.
Heuristic: greedy placement at the lowest offset that fits beside the already placed buffers
whose lifetimes overlap, tried over several orders (by size, by lifetime, by size x lifetime, by
first use); refinement: a seeded local search over the best order (swaps of two buffers,
accepted when the arena does not grow) within a time budget, stopped as soon as the arena equals
the lower bound (the largest total size live at one step), which no plan can beat.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Buffer:
    """A buffer of `size` bytes live during steps [first, last] (inclusive)."""

    id: str
    size: int
    first: int
    last: int


@dataclass
class Plan:
    """Offsets by buffer id, the arena size (peak), the lower bound and how it was found."""

    offsets: dict[str, int]
    peak: int
    lower_bound: int
    method: str

    @property
    def slack(self) -> float:
        return self.peak / self.lower_bound if self.lower_bound else 1.0


def check_buffers(buffers: Sequence[Buffer]) -> None:
    seen: set[str] = set()
    for buffer in buffers:
        if buffer.id in seen:
            raise ValueError(f"buffer '{buffer.id}' appears twice")
        seen.add(buffer.id)
        if buffer.size <= 0:
            raise ValueError(f"buffer '{buffer.id}' has size {buffer.size}, must be > 0")
        if buffer.first > buffer.last:
            raise ValueError(f"buffer '{buffer.id}' is live from {buffer.first} to {buffer.last}")


def lower_bound(buffers: Sequence[Buffer], alignment: int = 1) -> int:
    """The largest total (aligned) size of the buffers live at one step."""
    events: dict[int, int] = {}
    for buffer in buffers:
        size = _aligned(buffer.size, alignment)
        events[buffer.first] = events.get(buffer.first, 0) + size
        events[buffer.last + 1] = events.get(buffer.last + 1, 0) - size
    live = best = 0
    for step in sorted(events):
        live += events[step]
        best = max(best, live)
    return best


def _aligned(size: int, alignment: int) -> int:
    return -(-size // alignment) * alignment


def _overlap(a: Buffer, b: Buffer) -> bool:
    return a.first <= b.last and b.first <= a.last


class _Placer:
    """Greedy lowest-fit placement of buffers in a given order."""

    def __init__(self, buffers: Sequence[Buffer], alignment: int):
        self.buffers = list(buffers)
        self.alignment = alignment
        self.sizes = [_aligned(b.size, alignment) for b in self.buffers]
        count = len(self.buffers)
        self.conflicts = [
            [j for j in range(count) if j != i and _overlap(self.buffers[i], self.buffers[j])]
            for i in range(count)
        ]

    def place(self, order: Sequence[int]) -> tuple[list[int], int]:
        offsets = [-1] * len(self.buffers)
        peak = 0
        for i in order:
            taken = sorted(
                (offsets[j], offsets[j] + self.sizes[j]) for j in self.conflicts[i] if offsets[j] >= 0
            )
            offset = 0
            for start, end in taken:
                if start - offset >= self.sizes[i]:
                    break
                offset = max(offset, end)
            offsets[i] = offset
            peak = max(peak, offset + self.sizes[i])
        return offsets, peak


ORDERS: dict[str, Callable[[Buffer], tuple]] = {
    "size": lambda b: (-b.size, b.first),
    "lifetime": lambda b: (-(b.last - b.first), -b.size),
    "area": lambda b: (-b.size * (b.last - b.first + 1), b.first),
    "first-use": lambda b: (b.first, -b.size),
}


def plan_memory(buffers: Sequence[Buffer], alignment: int = 16, time_budget_s: float = 2.0) -> Plan:
    """Offsets (multiples of `alignment`) for `buffers`, near the lower bound."""
    check_buffers(buffers)
    bound = lower_bound(buffers, alignment)
    if not buffers:
        return Plan({}, 0, 0, "empty")
    placer = _Placer(buffers, alignment)
    indices = range(len(buffers))
    best_order: list[int] = []
    best_offsets: list[int] = []
    best_peak, method = -1, ""
    for name, key in ORDERS.items():
        order = sorted(indices, key=lambda i: key(buffers[i]))
        offsets, peak = placer.place(order)
        if best_peak < 0 or peak < best_peak:
            best_order, best_offsets, best_peak, method = order, offsets, peak, f"greedy by {name}"
    if best_peak > bound:
        order, offsets, peak = _local_search(placer, best_order, best_peak, bound, time_budget_s)
        if peak < best_peak:
            best_offsets, best_peak, method = offsets, peak, f"{method} + local search"
    return Plan({b.id: best_offsets[i] for i, b in enumerate(buffers)}, best_peak, bound, method)


def _local_search(
    placer: _Placer, order: list[int], peak: int, bound: int, budget: float
) -> tuple[list[int], list[int], int]:
    """Swap two buffers of the order (seeded), keep swaps that do not grow the arena."""
    rng = random.Random(0)
    deadline = time.monotonic() + budget
    order = list(order)
    offsets, best = placer.place(order)
    count = len(order)
    while best > bound and count > 1 and time.monotonic() < deadline:
        i, j = rng.randrange(count), rng.randrange(count)
        order[i], order[j] = order[j], order[i]
        candidate_offsets, candidate = placer.place(order)
        if candidate <= best:
            offsets, best = candidate_offsets, candidate
        else:
            order[i], order[j] = order[j], order[i]
    return order, offsets, best


def check_plan(buffers: Sequence[Buffer], plan: Plan, alignment: int = 1) -> None:
    """Raise ValueError if two buffers live at the same step overlap, or an offset is bad."""
    for buffer in buffers:
        offset = plan.offsets.get(buffer.id)
        if offset is None:
            raise ValueError(f"buffer '{buffer.id}' has no offset")
        if offset < 0 or offset % alignment:
            raise ValueError(f"buffer '{buffer.id}' has offset {offset} (alignment {alignment})")
        if offset + buffer.size > plan.peak:
            end = offset + buffer.size
            raise ValueError(f"buffer '{buffer.id}' ends at {end}, past the arena {plan.peak}")
    ordered = sorted(buffers, key=lambda b: b.first)
    for index, a in enumerate(ordered):
        for b in ordered[index + 1 :]:
            if b.first > a.last:
                break
            a_start, b_start = plan.offsets[a.id], plan.offsets[b.id]
            if a_start < b_start + b.size and b_start < a_start + a.size:
                raise ValueError(f"buffers '{a.id}' and '{b.id}' are live together and overlap in memory")
