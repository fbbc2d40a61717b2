"""Search an update scheme for a memory budget: contribution analysis, an evolutionary search,
then the finalists measured.

The published system's third idea, with tt's own memory figures:

1. Contribution analysis. The frozen baseline trains only the classifier. Each unit is one short
   fine-tuning run of the generated C on this machine (lowering/data_runner.py, bit identical to
   the device): the biases of the last k convs (k on a grid), and the weight (with its bias) of
   each weight candidate at each ratio of input channels (1/8, 1/4, 1/2, 1; channels by weight
   norm as tt-sparse-update picks them). The weight candidates are the last few block-expanding
   convs (a pointwise conv feeding a depthwise one: the layers the published presets update),
   or the last few convs of a model without such blocks. A unit's contribution is its
   validation accuracy minus the baseline's.
2. Memory. Every scheme considered is compiled with tt-training-pipeline and planned: its total
   SRAM (arena + trained parameters + runtime state) and its arena, the real figures.
3. Search. A seeded evolutionary search over (k, {conv: ratio}) ranks the schemes that fit the
   budget by their summed contributions, each part counted at the best gain of the units it
   covers (never below 0: the measured gains are noisy, and training more is not predicted to
   be worse); of equal predictions, the scheme that trains more ranks first.
4. Finalists. Summed contributions overstate schemes of many units (the units' gains overlap),
   so the best few by that prediction, the largest last-k and the largest bias group that fit
   are each fine-tuned on the same data for longer (finalist_epochs) and with several sample
   orders (finalist_seeds), and the one with the best mean validation accuracy is chosen.

Trials are independent: they run in this process (workers=1), or as Ray tasks on this machine's
cores or an existing cluster (`address`). Results are cached in a JSON file, so an interrupted
search resumes; a failed trial is retried once, then reported (never silently dropped).
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from lowering.schedules import DEFAULT_SCHEDULE
from ttdialect.errors import TTError

RATIOS = (0.125, 0.25, 0.5, 1.0)
SEARCH_SCHEDULES = ("constant", "cosine")  # of the runs' rate (the step schedule needs a period)


@dataclass(frozen=True)
class Candidate:
    """A scheme of the search space: biases of the last `biases` convs, weights at ratios."""

    biases: int
    weights: tuple[tuple[int, float], ...] = ()  # (conv index, ratio), sorted

    def scheme(self) -> dict:
        """The scheme file tt-sparse-update reads."""
        return {
            "n_bias_update": self.biases,
            "manual_weight_idx": [conv for conv, _ in self.weights],
            "weight_update_ratio": [ratio for _, ratio in self.weights],
        }

    def size(self) -> tuple[int, float]:
        """How much the scheme trains: its bias group, and its ratios summed."""
        return self.biases, sum(ratio for _, ratio in self.weights)

    def label(self) -> str:
        weights = ", ".join(f"{conv}:{ratio:g}" for conv, ratio in self.weights)
        return f"bias last {self.biases}" + (f"; weights {weights}" if weights else "")


@dataclass(frozen=True)
class Setup:
    """Sizes of the contribution runs and of the search space."""

    train: int = 500
    validation: int = 500
    epochs: int = 1
    learning_rate: float = 0.001
    bias_grid: tuple[int, ...] = (2, 4, 8, 16, 24, 32)
    weight_convs: int = 8  # how many weight candidates (the last block-expanding convs)
    ratios: tuple[float, ...] = RATIOS
    seed: int = 0
    finalist_epochs: int = 3  # finalists train longer than units: schemes this close need it
    finalist_seeds: int = 2  # and with as many sample orders (seed, seed + 1, ...)
    schedule: str = DEFAULT_SCHEDULE  # of every run's rate: the one tt-train uses by default

    def trial_key(self) -> dict:
        """What identifies a trial in the cache: the sizes, as keyed before the finalist fields
        and the schedule existed (so earlier caches stay valid)."""
        later = ("finalist_epochs", "finalist_seeds") + (("schedule",) if self.schedule == "constant" else ())
        return {k: v for k, v in asdict(self).items() if k not in later}

    def finalist_runs(self) -> list[Setup]:
        """The setups a finalist is trained with: finalist_epochs, one per sample order."""
        return [
            replace(self, epochs=self.finalist_epochs, seed=self.seed + offset)
            for offset in range(self.finalist_seeds)
        ]


@dataclass
class Data:
    """Training and validation samples as the model takes them (int8 NHWC, int32 labels)."""

    train: tuple[np.ndarray, np.ndarray]
    validation: tuple[np.ndarray, np.ndarray]


def weight_candidates(convs: Sequence, count: int) -> list[int]:
    """Indices of the last `count` block-expanding convs (a regular conv whose output feeds a
    depthwise conv), or of the last `count` convs when the model has none."""
    from ttdialect import dialect as tt

    def depthwise(op) -> bool:
        return isinstance(op, tt.Conv2DOp) and op.conv_params()[2] > 1

    expanding = [
        index
        for index, conv in enumerate(convs)
        if conv.conv_params()[2] == 1 and any(depthwise(use.operation) for use in conv.output.uses)
    ]
    return (expanding or list(range(len(convs))))[-count:]


def units(num_convs: int, setup: Setup, candidates: Sequence[int] | None = None) -> list[Candidate]:
    """The contribution units: every bias group on the grid, every (conv, ratio) of the weight
    candidates (default: the last setup.weight_convs convs)."""
    found = [Candidate(k) for k in setup.bias_grid if k <= num_convs]
    if candidates is None:
        candidates = range(max(0, num_convs - setup.weight_convs), num_convs)
    found += [Candidate(0, ((conv, ratio),)) for conv in candidates for ratio in setup.ratios]
    return found


# ----------------------------------------------------------------------- one trial


def _read_cache(path: Path) -> dict[str, float]:
    """The trials of an earlier run, or {}: a file that is not such a cache is refused, never
    overwritten."""
    if not path.exists():
        return {}
    try:
        results = json.loads(path.read_text())
        if isinstance(results, dict) and all(isinstance(v, float | int) for v in results.values()):
            return {str(k): float(v) for k, v in results.items()}
    except (OSError, ValueError):
        pass
    raise TTError(f"{path}: exists and is not a trials cache of tt-search-scheme; move it away")


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on `folder` between processes (flock; none where there is no flock)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: one search per cache file
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError:  # a file system without locks (some network mounts): as without flock
            pass
        yield
    finally:
        os.close(handle)  # releases the lock


def trial_accuracy(source: str, candidate: Candidate, data: Data, setup: Setup, work: Path) -> float:
    """Validation accuracy after fine-tuning `source` with the candidate's scheme (a new head)."""
    import tt

    work.mkdir(parents=True, exist_ok=True)
    scheme = work / f"scheme-{abs(hash(candidate)) % 10**10}.json"
    scheme.write_text(json.dumps(candidate.scheme()))
    model = tt.load(source, num_classes=10, new_head=True) if source != "bundled" else tt.load(source)
    step = model.training_step(str(scheme), lr=setup.learning_rate)
    run = step.train(
        data.train, data.validation, epochs=setup.epochs, seed=setup.seed, window=100, evaluate_before=False,
        schedule=setup.schedule,
    )  # fmt: skip
    return float(run.accuracy.get("after", math.nan))


class Trials:
    """Fine-tuning trials, cached in a JSON file and run here or on Ray."""

    def __init__(
        self, source: str, data: Data, setup: Setup, cache: Path, workers: int = 1, address: str | None = None
    ) -> None:
        self.source, self.data, self.setup, self.cache = source, data, setup, cache
        self.workers, self.address = workers, address
        self.results: dict[str, float] = _read_cache(cache)
        self.failures: list[str] = []

    def key(self, candidate: Candidate, setup: Setup | None = None) -> str:
        setup = setup or self.setup
        return json.dumps([self.source, candidate.scheme(), setup.trial_key()], sort_keys=True)

    def _store(self, job: tuple[Candidate, Setup], accuracy: float) -> None:
        """Add a trial to the cache file. Another search may share the file: under a lock on
        its folder, what that search stored meanwhile is merged in, never written over."""
        self.results[self.key(*job)] = accuracy
        self.cache.parent.mkdir(parents=True, exist_ok=True)
        with _folder_lock(self.cache.parent):
            self.results = {**_read_cache(self.cache), **self.results}
            temporary = self.cache.with_name(f".{self.cache.name}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps(self.results, indent=0))
            os.replace(temporary, self.cache)

    def run(
        self,
        candidates: Sequence[Candidate],
        progress: Callable[[int, int], None] | None = None,
        setups: Sequence[Setup] | None = None,
    ) -> dict:
        """Accuracy of every candidate, the mean over its runs with `setups` (default: the
        search's setup); cached runs are not rerun. A candidate with a run that failed twice
        is listed in self.failures and left out of the result."""
        setups = list(setups or [self.setup])
        jobs = [(c, s) for c in dict.fromkeys(candidates) for s in setups]
        todo = [job for job in jobs if self.key(*job) not in self.results]
        if todo:
            runner = self._run_ray if (self.workers > 1 or self.address) else self._run_here
            runner(todo, progress or (lambda done, total: None))
        return {
            c: float(np.mean([self.results[self.key(c, s)] for s in setups]))
            for c in candidates
            if all(self.key(c, s) in self.results for s in setups)
        }

    def _run_here(self, todo: list[tuple[Candidate, Setup]], progress: Callable[[int, int], None]) -> None:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="tt-search-") as work:
            for index, job in enumerate(todo):
                self._attempt(
                    job, lambda c=job[0], s=job[1]: trial_accuracy(self.source, c, self.data, s, Path(work))
                )
                progress(index + 1, len(todo))

    def _attempt(self, job: tuple[Candidate, Setup], call: Callable[[], float]) -> None:
        for attempt in (1, 2):
            try:
                self._store(job, call())
                return
            except Exception as error:  # a trial that fails twice is reported, not dropped silently
                if attempt == 2:
                    self.failures.append(f"{_job_label(job)}: {type(error).__name__}: {error}")

    def _run_ray(self, todo: list[tuple[Candidate, Setup]], progress: Callable[[int, int], None]) -> None:
        try:
            import ray
        except ImportError:
            raise TTError("Ray is not installed (pip install ray): run with workers=1") from None
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(
                address=self.address,
                num_cpus=None if self.address else self.workers,
                include_dashboard=False,
                log_to_driver=False,
            )
        try:
            remote = ray.remote(max_retries=1, retry_exceptions=True)(_ray_trial)
            data = ray.put(self.data)
            pending = {remote.remote(self.source, c, data, s): (c, s) for c, s in todo}
            done = 0
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                job = pending.pop(ready[0])
                try:
                    self._store(job, ray.get(ready[0]))
                except Exception as error:
                    self.failures.append(f"{_job_label(job)}: {type(error).__name__}: {error}")
                done += 1
                progress(done, len(todo))
        finally:
            if started_here:
                ray.shutdown()


def _job_label(job: tuple[Candidate, Setup]) -> str:
    candidate, setup = job
    return f"{candidate.label()} ({setup.epochs} epoch(s), seed {setup.seed})"


def _ray_trial(source: str, candidate: Candidate, data: Data, setup: Setup) -> float:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tt-search-") as work:
        return trial_accuracy(source, candidate, data, setup, Path(work))


# ----------------------------------------------------------------------- memory


class Memory:
    """Compiled memory of schemes (total SRAM and arena bytes), cached per candidate."""

    def __init__(self, model, work: Path) -> None:
        self.model, self.work = model, work
        self.figures: dict[Candidate, tuple[int, int]] = {}

    def __call__(self, candidate: Candidate) -> tuple[int, int]:
        if candidate not in self.figures:
            path = self.work / f"scheme-{len(self.figures)}.json"
            path.write_text(json.dumps(candidate.scheme()))
            report = self.model.training_step(str(path)).memory_report()
            self.figures[candidate] = (report.total_sram_bytes, report.arena_bytes)
        return self.figures[candidate]


# ----------------------------------------------------------------------- search


@dataclass
class Contributions:
    """Accuracy gain of each unit over the classifier-only baseline, and the predicted gain of a
    scheme. The measured gains are noisy, so the prediction is monotone: a part of a scheme (its
    bias group, one conv's weight) is predicted to gain the most that any unit it covers gained
    (the biases of fewer convs, the conv at a smaller ratio), and never less than nothing.
    Training more is then never predicted worse than training a part of it."""

    baseline: float
    bias: dict[int, float] = field(default_factory=dict)  # k -> gain
    weight: dict[tuple[int, float], float] = field(default_factory=dict)  # (conv, ratio) -> gain

    def measured(self, unit: Candidate) -> float:
        """The unit's own measured gain (0 when its trial failed)."""
        return self.weight.get(unit.weights[0], 0.0) if unit.weights else self.bias.get(unit.biases, 0.0)

    def score(self, candidate: Candidate) -> float:
        """The scheme's predicted gain: the sum of its parts' monotone gains."""
        biases = max([0.0] + [gain for k, gain in self.bias.items() if k <= candidate.biases])
        return biases + sum(
            max([0.0] + [gain for (c, r), gain in self.weight.items() if c == conv and r <= ratio])
            for conv, ratio in candidate.weights
        )


def evolve(
    contributions: Contributions,
    fits: Callable[[Candidate], bool],
    bias_grid: Sequence[int],
    weight_keys: Iterable[tuple[int, float]],
    seed: int = 0,
    population: int = 24,
    generations: int = 20,
    keep: int = 1,
) -> list[Candidate]:
    """The `keep` best-scoring candidates that fit, best first (of equal scores, the one that
    trains more first), by a seeded evolutionary search
    (mutation of the bias group and of single layers, crossover of two parents' layers)."""
    rng = random.Random(seed)
    grid = [0, *sorted(bias_grid)]
    by_conv: dict[int, list[float]] = {}
    for conv, ratio in weight_keys:
        by_conv.setdefault(conv, []).append(ratio)

    def mutate(c: Candidate) -> Candidate:
        biases, layers = c.biases, dict(c.weights)
        if rng.random() < 0.3:
            biases = rng.choice(grid)
        conv = rng.choice(sorted(by_conv))
        if conv in layers and rng.random() < 0.4:
            del layers[conv]
        else:
            layers[conv] = rng.choice(by_conv[conv])
        return Candidate(biases, tuple(sorted(layers.items())))

    def crossover(a: Candidate, b: Candidate) -> Candidate:
        layers = {conv: ratio for conv, ratio in (*a.weights, *b.weights) if rng.random() < 0.5}
        return Candidate(rng.choice((a.biases, b.biases)), tuple(sorted(layers.items())))

    def fitness(c: Candidate) -> float:
        return contributions.score(c) if fits(c) else -math.inf

    def order(c: Candidate) -> tuple:  # the best prediction first, then the scheme that trains more
        biases, ratios = c.size()
        return (-fitness(c), -biases, -ratios, c.weights)

    seen = {Candidate(0)}
    pool = [Candidate(0)] + [mutate(Candidate(rng.choice(grid))) for _ in range(population - 1)]
    for _ in range(generations):
        seen.update(pool)
        ranked = sorted(set(pool), key=order)
        parents = ranked[: max(2, population // 4)]
        pool = parents + [
            mutate(
                crossover(rng.choice(parents), rng.choice(parents))
                if rng.random() < 0.5
                else rng.choice(parents)
            )
            for _ in range(population - len(parents))
        ]
    return [c for c in sorted(seen, key=order) if fits(c)][:keep]


@dataclass
class SearchReport:
    """Everything the search measured: the contribution table, the memory of every scheme it
    compiled, the chosen scheme with its predicted (and, when verified, measured) accuracy."""

    model: str
    budget_bytes: int
    budget_kind: str
    setup: dict
    baseline_accuracy: float
    contributions: list[dict]
    candidates: list[dict]
    finalists: list[dict]
    chosen: dict
    predicted_accuracy: float
    measured_accuracy: float | None = None
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def text(self) -> str:
        lines = [
            f"scheme search for {self.model}: budget {self.budget_bytes / 1024:.1f} KB ({self.budget_kind})",
            f"baseline (classifier only): validation accuracy {self.baseline_accuracy:.1%}",
            "",
            "contribution                 gain    total SRAM KB   arena KB",
        ]
        for row in self.contributions:
            lines.append(
                f"{row['unit']:<28} {row['gain']:+.3f}  {row['total_sram_bytes'] / 1024:>10.1f}  "
                f"{row['arena_bytes'] / 1024:>9.1f}"
            )
        if any(row["measured_accuracy"] is not None for row in self.finalists):
            seeds, epochs = self.setup["finalist_seeds"], self.setup["finalist_epochs"]
            runs = f"measured: mean of {seeds} runs of {epochs} epochs"
            lines += ["", f"finalist ({runs})", f"{'':<40}  predicted  measured  total SRAM KB"]
            for row in self.finalists:
                measured = row["measured_accuracy"]
                lines.append(
                    f"{row['label']:<40}  {row['predicted_accuracy']:>8.1%}  "
                    f"{'failed' if measured is None else f'{measured:.1%}':>8}  "
                    f"{row['total_sram_bytes'] / 1024:>13.1f}"
                )
        lines += [
            "",
            f"chosen: {self.chosen['label']} ({self.chosen['total_sram_bytes'] / 1024:.1f} KB total SRAM, "
            f"{self.chosen['arena_bytes'] / 1024:.1f} KB arena)",
            f"predicted validation accuracy {self.predicted_accuracy:.1%}"
            + (f", measured {self.measured_accuracy:.1%}" if self.measured_accuracy is not None else ""),
            f"{len(self.candidates)} schemes compiled; {self.seconds:.0f} s",
        ]
        lines += [f"failed trial: {failure}" for failure in self.failures]
        return "\n".join(lines) + "\n"

    def plot(self) -> bytes:
        """A PNG of the predicted accuracy against the memory of every scheme compiled."""
        import io

        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(figsize=(7, 4))
        key = "arena_bytes" if self.budget_kind == "arena" else "total_sram_bytes"
        memory = [c[key] / 1024 for c in self.candidates]
        axes.scatter(
            memory,
            [c["predicted_accuracy"] for c in self.candidates],
            s=10,
            label="schemes compiled, predicted",
        )
        measured = [row for row in self.finalists if row["measured_accuracy"] is not None]
        if measured:
            axes.scatter(
                [row[key] / 1024 for row in measured],
                [row["measured_accuracy"] for row in measured],
                s=30,
                marker="x",
                color="red",
                label="finalists, measured",
            )
        axes.axvline(self.budget_bytes / 1024, color="black", linestyle="--", linewidth=0.8, label="budget")
        axes.set_xlabel(f"{self.budget_kind} memory (KB)")
        axes.set_ylabel("validation accuracy")
        axes.legend()
        figure.tight_layout()
        image = io.BytesIO()
        figure.savefig(image, format="png", dpi=100)
        plt.close(figure)
        return image.getvalue()


def search_scheme(
    model_source: str,
    data: Data,
    budget_bytes: int,
    *,
    budget_kind: str = "total",
    setup: Setup = Setup(),
    cache: Path,
    workers: int = 1,
    address: str | None = None,
    finalists: int = 4,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[dict, SearchReport]:
    """Search a scheme for `model_source` under `budget_bytes` of total SRAM (or arena): the
    scheme (tt-sparse-update's JSON form) and the report. `finalists`: how many of the best
    predicted schemes are measured (0: choose by the prediction alone, measuring nothing more).
    See the module docstring."""
    import tempfile

    import tt
    from passes.sparse_update import backbone_convs
    from ttdialect.ir_io import find_function

    if budget_kind not in ("total", "arena"):
        raise TTError(f"budget kind must be total or arena, got {budget_kind!r}")
    if setup.schedule not in SEARCH_SCHEDULES:
        raise TTError(f"schedule must be one of {', '.join(SEARCH_SCHEDULES)}, got {setup.schedule!r}")
    if setup.finalist_epochs < 1 or setup.finalist_seeds < 1:
        raise TTError("finalists need at least 1 epoch and 1 sample order")
    start = time.perf_counter()
    model = (
        tt.load(model_source, num_classes=10, new_head=True)
        if model_source != "bundled"
        else tt.load(model_source)
    )
    forward = find_function(model.module, "forward")
    convs = backbone_convs(forward) if forward is not None else []
    if not convs:
        raise TTError(f"{model_source}: no backbone convs to choose from")
    candidates = units(len(convs), setup, weight_candidates(convs, setup.weight_convs))
    with tempfile.TemporaryDirectory(prefix="tt-search-memory-") as work:
        memory = Memory(model, Path(work))
        index = 0 if budget_kind == "total" else 1

        def fits(candidate: Candidate) -> bool:
            return memory(candidate)[index] <= budget_bytes

        if not fits(Candidate(0)):  # before any trial: nothing could be chosen
            raise TTError(
                f"no scheme fits {budget_bytes / 1024:.1f} KB ({budget_kind}); the classifier alone "
                f"needs {memory(Candidate(0))[index] / 1024:.1f} KB"
            )
        trials = Trials(model_source, data, setup, cache, workers, address)
        report_progress = progress or (lambda what, done, total: None)
        accuracy = trials.run([Candidate(0), *candidates], lambda d, n: report_progress("trials", d, n))
        if Candidate(0) not in accuracy:
            raise TTError("the baseline trial failed: " + "; ".join(trials.failures))
        contributions = _contributions(accuracy, candidates)

        rows = []
        for unit in candidates:
            total, arena = memory(unit)
            gain = contributions.measured(unit)
            rows.append({"unit": unit.label(), "gain": gain, "total_sram_bytes": total, "arena_bytes": arena})
        grid = [k for k in setup.bias_grid if k <= len(convs)]
        ranked = evolve(
            contributions, fits, grid, contributions.weight, seed=setup.seed, keep=max(1, finalists)
        )
        final = ranked + _references(len(convs), grid, fits) if finalists else ranked[:1]
        measured = (
            trials.run(final, lambda d, n: report_progress("finalists", d, n), setup.finalist_runs())
            if finalists
            else {}
        )
        chosen = max(
            dict.fromkeys(final),
            key=lambda c: (measured.get(c, -math.inf), contributions.score(c)),
        )
        compiled = [
            {
                "label": c.label(),
                "total_sram_bytes": m[0],
                "arena_bytes": m[1],
                "predicted_accuracy": contributions.baseline + contributions.score(c),
            }
            for c, m in memory.figures.items()
        ]
        finalist_rows = [
            {
                "label": c.label(),
                "scheme": c.scheme(),
                "total_sram_bytes": memory(c)[0],
                "arena_bytes": memory(c)[1],
                "predicted_accuracy": contributions.baseline + contributions.score(c),
                "measured_accuracy": measured.get(c),
            }
            for c in dict.fromkeys(final)
        ]
        total, arena = memory(chosen)
    report = SearchReport(
        model=model_source,
        budget_bytes=budget_bytes,
        budget_kind=budget_kind,
        setup=asdict(setup),
        baseline_accuracy=contributions.baseline,
        contributions=rows,
        candidates=compiled,
        finalists=finalist_rows,
        chosen={
            "label": chosen.label(),
            "scheme": chosen.scheme(),
            "total_sram_bytes": total,
            "arena_bytes": arena,
        },
        predicted_accuracy=contributions.baseline + contributions.score(chosen),
        measured_accuracy=measured.get(chosen),
        failures=trials.failures,
        seconds=time.perf_counter() - start,
    )
    return chosen.scheme(), report


def _contributions(accuracy: dict[Candidate, float], units: list[Candidate]) -> Contributions:
    """Each measured unit's gain over the baseline (Candidate(0))."""
    baseline = accuracy[Candidate(0)]
    contributions = Contributions(baseline)
    for unit in units:
        if unit in accuracy:
            gain = accuracy[unit] - baseline
            if unit.weights:
                contributions.weight[unit.weights[0]] = gain
            else:
                contributions.bias[unit.biases] = gain
    return contributions


def _references(num_convs: int, grid: Sequence[int], fits: Callable[[Candidate], bool]) -> list[Candidate]:
    """The simple schemes a finalist must beat: the largest last-k and the largest bias group on
    the grid that fit the budget."""

    def last(k: int) -> Candidate:  # the scheme last-k: weights and biases of the last k convs
        return Candidate(k, tuple((conv, 1.0) for conv in range(num_convs - k, num_convs)))

    k = largest_last_k(num_convs, lambda k: fits(last(k)))
    biases = [Candidate(k) for k in grid if fits(Candidate(k))]
    return ([last(k)] if k else []) + biases[-1:]


def largest_last_k(num_convs: int, fits: Callable[[int], bool]) -> int:
    """The largest k whose last-k scheme fits (0 if last-1 does not), trying k = 1, 2, ... until
    one does not fit (memory grows with k)."""
    best = 0
    for k in range(1, num_convs + 1):
        if not fits(k):
            break
        best = k
    return best


_BUDGET = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*(kib|kb|k|mib|mb|m|b)?\s*", re.I)
_BUDGET_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1 << 20,
    "mb": 1 << 20,
    "mib": 1 << 20,
}


def parse_budget(text: str) -> int:
    """`256KB`, `0.25MB`, `200000` (bytes) -> bytes (KB = 1024 bytes, as the memory report)."""
    match = _BUDGET.fullmatch(text)
    if match is None or float(match.group(1)) <= 0:
        raise TTError(f"not a memory budget: {text!r} (e.g. 256KB, 0.25MB or a number of bytes)")
    return int(float(match.group(1)) * _BUDGET_UNITS[(match.group(2) or "").lower()])
