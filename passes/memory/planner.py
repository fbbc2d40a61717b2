"""Static memory planning: one offset per buffer in a single arena, with as small a peak as possible.

Each buffer has a byte size and a live interval of steps [first, last] (inclusive). Two buffers
whose intervals share a step must not share bytes. `plan_memory` assigns offsets (multiples of the
alignment; sizes are rounded up to it) and reports the arena peak next to the lower bound no plan
can beat: the largest total of aligned sizes live at one step.

How a plan is found:

1. Buffers that never share a step with the others fall into independent groups (connected
   components of the interval-overlap graph); each group is planned from offset 0 on its own.
2. Greedy placement in several orders (size, contention, size x lifetime, lifetime, first use)
   with two rules: first fit (the lowest offset that fits, as in TFLite's greedy-by-size planner)
   and best fit (the smallest gap that fits). The best result is kept.
3. If the peak still exceeds the lower bound, the groups above it are searched, highest first,
   sharing the budget: an exact branch and bound for small groups (up to EXACT_MAX_BUFFERS), and
   for larger ones seeded local searches taking turns: ruin and recreate (remove the buffers
   around the peak, place them again) and moves in the space of first-fit placement orders; with
   half of the work, the same searches on the large buffers alone, the small ones then fitted
   into the gaps (many long-lived small buffers, such as clamp masks, trap the searches of the
   whole group). Every search stops as soon as the peak reaches the lower bound.

Searching first-fit placement orders loses nothing: placing the buffers of any plan by first fit
in the order of their offsets puts each at or below its offset. The branch and bound enumerates
only such offset-sorted orders, which prunes it heavily.

Search effort is counted in work units (placed neighbours examined), not seconds, so the same
input always gives the same plan. `time_budget_s` sets the unit budget from a conservative speed
estimate; a wall-clock guard at the budget only cuts in on a much slower machine (the plan is then
still valid, just possibly less refined).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

WORK_PER_SECOND = 2_000_000
"""Search work units (placed neighbours examined) budgeted per second of `time_budget_s`."""

EXACT_MAX_BUFFERS = 14
"""Groups of up to this many buffers get the exact branch and bound instead of the local search."""

SMALL_FRACTION = 64
"""Buffers under 1/SMALL_FRACTION of the group's peak live load count as small (see
`_large_first`)."""

SEED = 0x7474
"""Seed of the local search: fixed, so plans are reproducible."""


@dataclass(frozen=True)
class Buffer:
    """A buffer of `size` bytes (> 0) live during the inclusive step interval [first, last]."""

    id: str
    size: int
    first: int
    last: int


@dataclass
class Plan:
    """Offsets by buffer id, the arena peak, the live-bytes lower bound and how the plan was found."""

    offsets: dict[str, int]
    peak: int
    lower_bound: int
    method: str
    alignment: int = 16

    @property
    def slack(self) -> float:
        """peak / lower_bound: 1.0 means the plan is optimal."""
        return self.peak / self.lower_bound if self.lower_bound else 1.0


def aligned_size(size: int, alignment: int) -> int:
    """`size` rounded up to a multiple of `alignment`."""
    return -(-size // alignment) * alignment


def lower_bound(buffers: Sequence[Buffer], alignment: int = 16) -> int:
    """The largest total of aligned sizes live at one step: no plan has a smaller peak."""
    events = []
    for buffer in buffers:
        size = aligned_size(buffer.size, alignment)
        events.append((buffer.first, 1, size))
        events.append((buffer.last + 1, 0, -size))  # at one step, frees sort before allocations
    load = best = 0
    for _, _, delta in sorted(events):
        load += delta
        best = max(best, load)
    return best


def validate_buffers(buffers: Sequence[Buffer]) -> None:
    """Raise ValueError on a non-integer field, a size <= 0, first > last or a repeated id."""
    seen: set[str] = set()
    for buffer in buffers:
        for name in ("size", "first", "last"):
            value = getattr(buffer, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"buffer {buffer.id!r}: {name} must be an integer, got {value!r}")
        if buffer.size <= 0:
            raise ValueError(f"buffer {buffer.id!r}: size must be positive, got {buffer.size}")
        if buffer.first > buffer.last:
            raise ValueError(
                f"buffer {buffer.id!r}: first step {buffer.first} is after last step {buffer.last}"
            )
        if buffer.id in seen:
            raise ValueError(f"duplicate buffer id {buffer.id!r}")
        seen.add(buffer.id)


# ----------------------------------------------------------------------------------------------
# One group of buffers, sizes in alignment units, with its conflict lists.


@dataclass
class _Group:
    """Buffers of one connected group: sizes in alignment units, lifetimes, conflicts."""

    sizes: list[int]
    first: list[int]
    last: list[int]
    conflicts: list[list[int]] = field(default_factory=list)
    """Per buffer, the other buffers whose lifetimes overlap its own."""
    starts: list[int] = field(default_factory=list)
    """The distinct first steps: the live load peaks at one of them."""
    points: list[list[int]] = field(default_factory=list)
    """Per buffer, the indices into `starts` of the steps inside its lifetime."""

    def __post_init__(self) -> None:
        n = len(self.sizes)
        self.conflicts = [[] for _ in range(n)]
        by_first = sorted(range(n), key=lambda i: (self.first[i], i))
        for position, i in enumerate(by_first):
            for j in by_first[position + 1 :]:
                if self.first[j] > self.last[i]:
                    break
                self.conflicts[i].append(j)
                self.conflicts[j].append(i)
        self.starts = sorted(set(self.first))
        self.points = [
            [k for k, s in enumerate(self.starts) if self.first[i] <= s <= self.last[i]] for i in range(n)
        ]

    def __len__(self) -> int:
        return len(self.sizes)

    def loads(self) -> list[int]:
        """Units live at each start step."""
        load = [0] * len(self.starts)
        for i, size in enumerate(self.sizes):
            for k in self.points[i]:
                load[k] += size
        return load

    def peak(self, offsets: Sequence[int]) -> int:
        """Arena top of a complete placement, in units."""
        return max((o + s for o, s in zip(offsets, self.sizes, strict=True)), default=0)


def _make_group(items: Sequence[tuple[int, int, int]], members: Sequence[int]) -> _Group:
    """The `_Group` of the `(units, first, last)` items at indices `members`."""
    chosen = [items[i] for i in members]
    return _Group([c[0] for c in chosen], [c[1] for c in chosen], [c[2] for c in chosen])


def _split_groups(items: Sequence[tuple[int, int, int]]) -> list[list[int]]:
    """Indices of `(units, first, last)` items, split into groups that never share a step."""
    groups: list[list[int]] = []
    reach = 0
    for i in sorted(range(len(items)), key=lambda i: (items[i][1], i)):
        if not groups or items[i][1] > reach:
            groups.append([])
            reach = items[i][2]
        groups[-1].append(i)
        reach = max(reach, items[i][2])
    return groups


# ----------------------------------------------------------------------------------------------
# Placement rules.

Segments = list[tuple[int, int]]
Rule = Callable[[int, Segments], int]


def _segments(offsets: Sequence[int], sizes: Sequence[int], neighbours: Sequence[int]) -> Segments:
    """Sorted (offset, end) of the placed buffers among `neighbours`."""
    return sorted([(offsets[j], offsets[j] + sizes[j]) for j in neighbours if offsets[j] >= 0])


def _first_fit(size: int, segments: Segments) -> int:
    """The lowest offset where `size` units fit between sorted segments."""
    x = 0
    for start, end in segments:
        if start - x >= size:
            return x
        if end > x:
            x = end
    return x


def _best_fit(size: int, segments: Segments) -> int:
    """Offset of the smallest gap between sorted segments that fits `size` (the top if none)."""
    x = 0
    best, best_gap = -1, 0
    for start, end in segments:
        gap = start - x
        if gap >= size and (best < 0 or gap < best_gap):
            best, best_gap = x, gap
        if end > x:
            x = end
    return best if best >= 0 else x


def _place(group: _Group, order: Sequence[int], rule: Rule, offsets: list[int]) -> int:
    """Place `order` with `rule` into `offsets` (-1 = not placed); returns the work done."""
    sizes, conflicts = group.sizes, group.conflicts
    work = 0
    for i in order:
        neighbours = conflicts[i]
        work += len(neighbours) + 1
        offsets[i] = rule(sizes[i], _segments(offsets, sizes, neighbours))
    return work


def _placed(group: _Group, order: Sequence[int], rule: Rule) -> list[int]:
    """Offsets of all buffers placed from scratch in `order` with `rule`."""
    offsets = [-1] * len(group)
    _place(group, order, rule, offsets)
    return offsets


def _offset_order(offsets: Sequence[int]) -> list[int]:
    """Buffers by offset: first fit in this order reproduces the placement or lowers it."""
    return sorted(range(len(offsets)), key=lambda i: (offsets[i], i))


# ----------------------------------------------------------------------------------------------
# Greedy heuristics.


def _greedy_orders(group: _Group) -> Iterator[tuple[str, list[int]]]:
    """Named buffer orders tried by the greedy planner, most promising first."""
    n = len(group)
    size, first, last = group.sizes, group.first, group.last
    length = [last[i] - first[i] + 1 for i in range(n)]
    load = group.loads()
    contention = [max(load[k] for k in group.points[i]) for i in range(n)]
    keys: dict[str, Callable[[int], tuple[int, ...]]] = {
        "size": lambda i: (-size[i], -length[i], first[i], i),
        "contention": lambda i: (-contention[i], -size[i], -length[i], i),
        "area": lambda i: (-size[i] * length[i], -size[i], i),
        "lifetime": lambda i: (-length[i], -size[i], first[i], i),
        "first-use": lambda i: (first[i], -size[i], i),
    }
    for name, key in keys.items():
        yield name, sorted(range(n), key=key)


def _greedy(group: _Group, target: int) -> tuple[list[int], int, str]:
    """The best greedy placement over orders and rules; stops early once at `target`."""
    best: tuple[list[int], int, str] | None = None
    for name, order in _greedy_orders(group):
        for rule_name, rule in (("first fit", _first_fit), ("best fit", _best_fit)):
            offsets = _placed(group, order, rule)
            peak = group.peak(offsets)
            if best is None or peak < best[1]:
                best = (offsets, peak, f"greedy by {name}, {rule_name}")
            if best[1] <= target:
                return best
    assert best is not None
    return best


# ----------------------------------------------------------------------------------------------
# Exact branch and bound over offset-sorted first-fit orders.


class _BranchAndBound:
    """Exact search: places buffers in non-decreasing offset order, each at its first fit.

    Every plan can be lowered (moving single buffers down while they fit) into one that first fit
    rebuilds in offset order (ties by index), so these orders reach an optimum. A node is cut when
    a remaining buffer's first fit lies wholly below the current offset (no later buffer can block
    it, so the order cannot stay sorted), or when its bound reaches the incumbent: at each start
    step, the remaining buffers live there stack above the current offset.
    """

    def __init__(self, group: _Group, target: int, incumbent: list[int], work: int, deadline: float):
        self.group = group
        self.target = target
        self.best = list(incumbent)
        self.best_peak = group.peak(incumbent)
        self.work_left = work
        self.deadline = deadline
        self.offsets = [-1] * len(group)
        self.remaining = set(range(len(group)))
        self.load = group.loads()
        self.complete = True

    def run(self) -> None:
        """Search; `best` then holds the best plan found, `complete` is False if the budget cut
        the search short (so an incumbent above `target` is then not proved optimal)."""
        if self.best_peak > self.target:
            self._dfs(0, -1, 0)

    def _out_of_budget(self) -> bool:
        if self.work_left <= 0 or time.monotonic() > self.deadline:
            self.complete = False
        return not self.complete

    def _children(self, floor: int, last: int) -> tuple[list[tuple[int, int]], int] | None:
        """(offset, buffer) of the valid next placements and the top the remaining buffers reach
        at least; None if the node has no offset-sorted completion."""
        group, offsets = self.group, self.offsets
        children = []
        reach = 0
        for k in self.remaining:
            size = group.sizes[k]
            x = _first_fit(size, _segments(offsets, group.sizes, group.conflicts[k]))
            self.work_left -= len(group.conflicts[k]) + 1
            if x + size <= floor:
                return None
            if (x, k) > (floor, last):
                children.append((x, k))
            reach = max(reach, max(x, floor) + size)
        return children, reach

    def _stacked(self, floor: int) -> int:
        """Top reached if, at each start step, everything above `floor` is stacked without gaps."""
        group = self.group
        above = list(self.load)
        for i, o in enumerate(self.offsets):
            if o >= 0 and o + group.sizes[i] > floor:
                for k in group.points[i]:
                    above[k] += o + group.sizes[i] - floor
        return floor + max(above, default=0)

    def _dfs(self, floor: int, last: int, peak: int) -> None:
        if not self.remaining:
            if peak < self.best_peak:
                self.best, self.best_peak = list(self.offsets), peak
            return
        if self._out_of_budget():
            return
        found = self._children(floor, last)
        if found is None or not found[0] or max(peak, found[1], self._stacked(floor)) >= self.best_peak:
            return
        sizes = self.group.sizes
        for x, k in sorted(found[0], key=lambda c: (c[0], -sizes[c[1]], c[1])):
            self._move(k, x)
            self._dfs(x, k, max(peak, x + sizes[k]))
            self._move(k, -1)
            if self.best_peak <= self.target or not self.complete:
                return

    def _move(self, k: int, x: int) -> None:
        """Place buffer k at x, or take it back out with x = -1."""
        self.offsets[k] = x
        if x >= 0:
            self.remaining.discard(k)
            change = -self.group.sizes[k]
        else:
            self.remaining.add(k)
            change = self.group.sizes[k]
        for p in self.group.points[k]:
            self.load[p] += change


# ----------------------------------------------------------------------------------------------
# Local searches for larger groups.


class _Search:
    """Shared loop of the local searches: a seeded walk from an incumbent placement.

    The state is a complete placement; `_step` proposes a changed one and `_offer` keeps it unless
    it worsens the score (peak, total units above the target), so the walk can drift along
    plateaus. The walk stops at the target, when the work budget is spent or at the deadline.
    """

    def __init__(
        self, group: _Group, target: int, incumbent: list[int], work: int, deadline: float, seed: int
    ):
        self.group = group
        self.target = target
        self.order = _offset_order(incumbent)
        self.offsets = _placed(group, self.order, _first_fit)  # never above the incumbent
        self.score = self._score(self.offsets)
        self.best = list(self.offsets)
        self.best_peak = self.score[0]
        self.work_left = work
        self.deadline = deadline
        self.rng = random.Random(seed)

    def _score(self, offsets: Sequence[int]) -> tuple[int, int]:
        tops = [o + s for o, s in zip(offsets, self.group.sizes, strict=True)]
        return max(tops), sum(t - self.target for t in tops if t > self.target)

    def run(self) -> None:
        """Walk until the target, the work budget or the deadline; `best` holds the result."""
        steps = 0
        while self.best_peak > self.target and self.work_left > 0:
            steps += 1
            if steps % 16 == 0 and time.monotonic() > self.deadline:
                break
            self.work_left -= len(self.group)  # bookkeeping of a step
            self._step()

    def _critical(self) -> int:
        """A random buffer whose top is the peak."""
        peak, sizes = self.score[0], self.group.sizes
        return self.rng.choice([i for i, o in enumerate(self.offsets) if o + sizes[i] == peak])

    def _offer(self, offsets: list[int], order: list[int] | None = None) -> None:
        """Move to `offsets` (placed in `order`, if known) unless it worsens the score."""
        score = self._score(offsets)
        if score <= self.score:
            self.offsets, self.score = offsets, score
            self.order = order if order is not None else self.order
            if score[0] < self.best_peak:
                self.best, self.best_peak = list(offsets), score[0]

    def _step(self) -> None:
        raise NotImplementedError


class _OrderSearch(_Search):
    """Moves in the space of first-fit orders.

    Half the moves swap two random buffers of the order. The others take a buffer whose top is
    the peak (or, half the time, one of the buffers below it that share its lifetime) and
    reinsert it at a random earlier position. Only the order from the first changed position on
    is placed again.
    """

    def _step(self) -> None:
        if self.rng.random() < 0.5 and len(self.order) > 1:
            a, b = sorted(self.rng.sample(range(len(self.order)), 2))
            order = list(self.order)
            order[a], order[b] = order[b], order[a]
            self._replace_from(order, a)
            return
        victim = self._critical()
        if self.rng.random() < 0.5:
            below = [j for j in self.group.conflicts[victim] if self.offsets[j] < self.offsets[victim]]
            victim = self.rng.choice(below) if below else victim
        old = self.order.index(victim)
        if old > 0:
            new = self.rng.randrange(old)
            self._replace_from(self.order[:new] + [victim] + self.order[new:old] + self.order[old + 1 :], new)

    def _replace_from(self, order: list[int], start: int) -> None:
        """Offer `order`, which equals the current order before `start`."""
        offsets = list(self.offsets)
        for i in order[start:]:
            offsets[i] = -1
        self.work_left -= _place(self.group, order[start:], _first_fit, offsets)
        self._offer(offsets, order)


class _RuinAndRecreate(_Search):
    """Moves in the space of placements: remove the buffers around the peak, place them again.

    A move picks a buffer whose top is the peak and a random time window within its lifetime,
    removes the buffers live in that window whose tops lie above a random cut (and the picked
    one), and places them back, all others fixed, in a randomized greedy order (size, size x
    lifetime or random) by first or best fit.
    """

    def _ruin(self) -> list[int]:
        group, rng, offsets = self.group, self.rng, self.offsets
        c = self._critical()
        span = group.last[c] - group.first[c] + 1
        t = rng.randint(group.first[c], group.last[c])
        reach = max(1, int(span * rng.random()))
        a, b = t - rng.randrange(reach + 1), t + rng.randrange(reach + 1)
        cut = self.score[0] * 0.7 * rng.random()
        ruined = [
            i
            for i in range(len(group))
            if group.first[i] <= b and a <= group.last[i] and offsets[i] + group.sizes[i] > cut
        ]
        return ruined if c in ruined else [*ruined, c]

    def _recreate_key(self) -> Callable[[int], float]:
        group, rng = self.group, self.rng
        draw = rng.random()
        if draw < 0.4:
            return lambda i: -group.sizes[i] * (1 + 0.3 * rng.random())
        if draw < 0.7:
            return lambda i: -group.sizes[i] * (group.last[i] - group.first[i] + 1) * (1 + 0.3 * rng.random())
        return lambda i: rng.random()

    def _step(self) -> None:
        ruined = self._ruin()
        offsets = list(self.offsets)
        for i in ruined:
            offsets[i] = -1
        ruined.sort(key=self._recreate_key())
        rule = _first_fit if self.rng.random() < 0.7 else _best_fit
        self.work_left -= _place(self.group, ruined, rule, offsets)
        self._offer(offsets)


SEARCH_PHASES: tuple[type[_Search], ...] = (_RuinAndRecreate, _OrderSearch, _RuinAndRecreate, _OrderSearch)
"""The local searches run in turn on a large group, each from the best placement so far and with
an equal share of the work budget: each escapes plateaus where the other one sticks."""


def _local_search(
    group: _Group, target: int, offsets: list[int], work: int, deadline: float
) -> tuple[list[int], int]:
    """The best placement the search phases find from `offsets` (never worse) and the work used."""
    best, best_peak, left = offsets, group.peak(offsets), work
    for phase, search_class in enumerate(SEARCH_PHASES):
        share = left // (len(SEARCH_PHASES) - phase)
        search = search_class(group, target, best, share, deadline, SEED + phase)
        search.run()
        left -= share - search.work_left
        if search.best_peak < best_peak:
            best, best_peak = search.best, search.best_peak
        if best_peak <= target:
            break
    return best, work - left


# ----------------------------------------------------------------------------------------------
# Driver.


def _improve(
    group: _Group, goal: int, bound: int, offsets: list[int], work: int, deadline: float
) -> tuple[list[int], str, int]:
    """Search for a placement of `group` with a peak of at most `goal`, from greedy `offsets`.

    Returns the best placement, a note on the search for the plan's method and the work used.
    `bound` is the lower bound of the whole arena: a group placed within it is optimal.
    """
    if len(group) <= EXACT_MAX_BUFFERS:
        exact = _BranchAndBound(group, goal, offsets, work, deadline)
        exact.run()
        proved = exact.best_peak <= bound or (exact.complete and exact.best_peak > goal)
        note = "branch and bound" + (" (optimal)" if proved else "")
        return exact.best, note, work - exact.work_left
    improved, used = _local_search(group, goal, offsets, work // 2, deadline)
    if group.peak(improved) > goal:
        separate, separate_used = _large_first(group, goal, offsets, work - used, deadline)
        used += separate_used
        if group.peak(separate) < group.peak(improved):
            return separate, "local search on the large buffers", used
    return improved, "local search", used


def _large_first(
    group: _Group, goal: int, offsets: list[int], work: int, deadline: float
) -> tuple[list[int], int]:
    """Search a placement of the large buffers alone (from their place in `offsets`), then fit
    the small ones around them, largest first, by first fit. Returns the placement and the work."""
    limit = max(group.loads(), default=0)
    small = [size * SMALL_FRACTION < limit for size in group.sizes]
    large = [i for i, is_small in enumerate(small) if not is_small]
    if len(large) in (0, len(group)):
        return offsets, 0
    subgroup = _make_group(list(zip(group.sizes, group.first, group.last, strict=True)), large)
    placed, used = _local_search(subgroup, goal, [offsets[i] for i in large], work, deadline)
    result = [-1] * len(group)
    for i, offset in zip(large, placed, strict=True):
        result[i] = offset
    rest = sorted(
        (i for i in range(len(group)) if small[i]), key=lambda i: (-group.sizes[i], group.first[i], i)
    )
    used += _place(group, rest, _first_fit, result)
    return result, used


def plan_memory(buffers: Sequence[Buffer], alignment: int = 16, time_budget_s: float = 2.0) -> Plan:
    """Assign each buffer an arena offset so that buffers live at a common step never overlap.

    Sizes are rounded up to `alignment` and offsets are multiples of it. The plan holds the peak
    (the arena size) and the lower bound (the largest aligned total live at one step). The same
    input gives the same plan. Raises ValueError on invalid buffers or parameters.
    """
    if not isinstance(alignment, int) or alignment <= 0:
        raise ValueError(f"alignment must be a positive integer, got {alignment!r}")
    if not 0 <= time_budget_s < math.inf:
        raise ValueError(f"time budget must be a finite number >= 0, got {time_budget_s}")
    validate_buffers(buffers)
    if not buffers:
        return Plan({}, 0, 0, "empty", alignment)
    items = [(aligned_size(b.size, alignment) // alignment, b.first, b.last) for b in buffers]
    groups = [(members, _make_group(items, members)) for members in _split_groups(items)]
    bound = max(max(group.loads()) for _, group in groups)
    units, methods = _plan_groups(groups, bound, len(buffers), time_budget_s)
    offsets = {b.id: u * alignment for b, u in zip(buffers, units, strict=True)}
    peak = max(u + item[0] for u, item in zip(units, items, strict=True)) * alignment
    return Plan(offsets, peak, bound * alignment, _summary(methods), alignment)


def _plan_groups(
    groups: list[tuple[list[int], _Group]], bound: int, count: int, time_budget_s: float
) -> tuple[list[int], list[str]]:
    """Offsets (units) of all `count` buffers and the method per group.

    Every group gets its greedy placement; those above the bound are then searched, highest
    first, sharing the work budget (what one leaves goes to the next). A group only needs to get
    down to the arena peak the groups before it reached.
    """
    deadline = time.monotonic() + time_budget_s
    work = int(WORK_PER_SECOND * time_budget_s)
    greedy = [_greedy(group, bound) for _, group in groups]
    needy = sorted((k for k, g in enumerate(greedy) if g[1] > bound), key=lambda k: (-greedy[k][1], k))
    arena = max((g[1] for k, g in enumerate(greedy) if k not in needy), default=0)
    placed = {k: (g[0], g[2]) for k, g in enumerate(greedy)}
    for position, k in enumerate(needy):
        offsets, peak, method = greedy[k]
        share = work // (len(needy) - position) if arena < peak else 0
        if share > 0:
            improved, note, used = _improve(groups[k][1], max(bound, arena), bound, offsets, share, deadline)
            work -= used
            if groups[k][1].peak(improved) < peak or "optimal" in note:
                offsets, peak, method = improved, groups[k][1].peak(improved), f"{method} + {note}"
        placed[k] = (offsets, method)
        arena = max(arena, peak)
    units = [0] * count
    for k, (members, _) in enumerate(groups):
        for i, offset in zip(members, placed[k][0], strict=True):
            units[i] = offset
    return units, [placed[k][1] for k in range(len(groups))]


def _summary(methods: list[str]) -> str:
    """The method of the only group, or of the most searched one with the group count."""
    if len(methods) == 1:
        return methods[0]
    head = max(methods, key=lambda m: ("+" in m, methods.count(m), m))
    return f"{head} ({len(methods)} independent groups)"


def check_plan(buffers: Sequence[Buffer], plan: Plan, alignment: int | None = None) -> None:
    """Raise ValueError if `plan` is not a valid placement of `buffers`.

    Every buffer needs an offset (and no unknown id may have one); offsets must be non-negative
    multiples of `alignment` (default: the plan's); every buffer must end within the peak; and no
    two buffers with overlapping lifetimes may overlap in memory (the message names both).
    Sizes count rounded up to the alignment.
    """
    validate_buffers(buffers)
    align = plan.alignment if alignment is None else alignment
    ids = {b.id for b in buffers}
    unknown = sorted(set(plan.offsets) - ids)
    if unknown:
        raise ValueError(f"plan has an offset for unknown buffer {unknown[0]!r}")
    for b in buffers:
        if b.id not in plan.offsets:
            raise ValueError(f"buffer {b.id!r} has no offset in the plan")
        offset = plan.offsets[b.id]
        if not isinstance(offset, int) or offset < 0 or offset % align:
            raise ValueError(f"buffer {b.id!r}: offset {offset!r} is not a non-negative multiple of {align}")
        if offset + aligned_size(b.size, align) > plan.peak:
            raise ValueError(f"buffer {b.id!r} at offset {offset} ends beyond the peak {plan.peak}")
    _check_overlaps(buffers, plan.offsets, align)


def _check_overlaps(buffers: Sequence[Buffer], offsets: dict[str, int], align: int) -> None:
    """Raise ValueError naming two buffers that are live at one step and share bytes, if any."""
    spans = {b.id: (offsets[b.id], offsets[b.id] + aligned_size(b.size, align)) for b in buffers}
    by_first = sorted(buffers, key=lambda b: (b.first, b.last))
    for position, a in enumerate(by_first):
        for b in by_first[position + 1 :]:
            if b.first > a.last:
                break
            (a0, a1), (b0, b1) = spans[a.id], spans[b.id]
            if b0 < a1 and a0 < b1:
                raise ValueError(
                    f"buffers {a.id!r} (bytes {a0}..{a1 - 1}) and {b.id!r} (bytes {b0}..{b1 - 1}) "
                    f"overlap in memory while both are live (steps {b.first}..{min(a.last, b.last)})"
                )
