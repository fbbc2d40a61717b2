"""Accuracy at real scale: the zoo models fine-tuned on Fashion-MNIST, int8 tt vs fp32 PyTorch.

For each zoo model (ImageNet-pretrained int8 weights, a fresh seeded 10-class head) and update
scheme (a published preset, bias-only, last-k; full in fp32 only, as it does not fit a device),
each method trains the same parameters on the same samples in the same order:
- `int8+QAS` tt's training step (stochastic rounding, QAS) run as generated C on the host
  (lowering/data_runner.py: bit identical to the Cortex-M7 build);
- `fp32` the float twin of the model in PyTorch (ttdialect/float_twin.py), its gradients masked
  to the elements the int8 step updates;
- `int8 no-QAS` and `int8+QAS truncate` (the published engine's rounding), preset only;
- `fp32-trained, int8 inference` (preset only, at fp32's rate): the fp32 run's parameters rounded
  to the int8 model's scales and evaluated by int8 inference (the interpreter). Its gap to fp32
  is what int8 inference costs the same network, a part of int8+QAS's gap no training removes.
Data: Fashion-MNIST (Debian's dataset-fashion-mnist): TRAIN training images (the first of the
train split), VALIDATION further ones to pick the learning rate, TEST images of the test split
to report; 128x128, 3 channels, [-1, 1] (ttdialect/datasets.py). Batch 1, EPOCHS epochs, each
in a seeded random order (the same for every method), constant learning rate (--schedule
cosine: from the rate to 0 at the last step, in its own section; --preset-only: only the
preset's rows, no bias-only, last-k or full).
Per method the rate is chosen from a small grid on the validation images, trained in
VALIDATION_ORDERS sample orders: the best mean among the rates that learned in every order and
sit at most half the smallest larger rate that collapsed (ended at or below twice chance) in
any order, a margin from the edge of divergence where one lucky order would otherwise pick a
rate that collapses on others (rates too small to learn also end at chance: not an edge). Then 3
seeds (8 on the preset's int8+QAS and fp32 rows) run at that rate; the table gives the test
accuracy's mean and spread over the seeds, and the gap to fp32 both as a difference of means and
paired by seed (same sample order), with its standard error. On each preset, int8+QAS also runs
at the rate chosen for fp32 (a row of its own), which separates the method from the rate.

Trials run in parallel (--jobs) and are cached in build/accuracy-cache.json, so an interrupted
run resumes. Prints the table and writes the `accuracy` section of docs/benchmarks.md.

Usage: python -m bench.accuracy [--models NAME ...] [--jobs N] [--quick] [--schedule cosine]
                                [--preset-only]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench.report import machine, markdown_table, write_section

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "build" / "accuracy-cache.json"
PRESET = {
    "mbv2-w0.35": "mbv2-w0.35/99kb",
    "proxyless-w0.3": "proxyless-w0.3/98kb",
    "mcunet-5fps": "mcunet-5fps/99kb",
}
LAST_K = "last-4"
SAME_RATE = "int8+QAS at fp32's rate"
FP32_AS_INT8 = "fp32-trained, int8 inference"
GRIDS = {  # learning rates tried per method (QAS makes int8 steps comparable to fp32 SGD's)
    "int8+QAS": (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01),
    "fp32": (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01),
    "int8+QAS truncate": (0.001, 0.002, 0.005),
    "int8 no-QAS": (0.1, 1.0, 10.0, 100.0, 1000.0),  # steps scaled by s^2: no rate fits all layers
}
COSINE_FLOOR = 0.0005  # with the cosine, 0.0002 was the worst rate of every sweep: not tried
VALIDATION_ORDERS = 3  # sample orders each rate of a sweep trains in
COLLAPSED = 0.2  # validation accuracy at or below twice chance (10 classes): the run diverged
PIPELINE_OPTIONS = {
    "int8+QAS": "rounding=stochastic qas=true",
    "fp32": "rounding=stochastic qas=true",  # compiled only for its masks
    "int8+QAS truncate": "rounding=truncate qas=true",
    "int8 no-QAS": "rounding=stochastic qas=false",
    FP32_AS_INT8: "rounding=stochastic qas=true",  # compiled only for its masks
}


@dataclass(frozen=True)
class Setup:
    """Sizes of a benchmark run."""

    train: int = 1000
    validation: int = 500
    test: int = 2000
    epochs: int = 3
    seeds: int = 3
    preset_seeds: int = 8  # the preset's int8+QAS and fp32 rows: enough to resolve the gap
    validation_orders: int = VALIDATION_ORDERS


@dataclass(frozen=True)
class Trial:
    model: str
    scheme: str
    method: str
    lr: float
    seed: int
    evaluate_on: str  # "validation" or "test"
    schedule: str = "constant"  # of the learning rate (lowering/schedules.py)

    def key(self, setup: Setup) -> str:
        """The cache key: the trial (its schedule only when not constant, as keyed before there
        was one) and the sizes that change its result (not the seed counts)."""
        counts = ("seeds", "preset_seeds", "validation_orders")
        sizes = {name: value for name, value in asdict(setup).items() if name not in counts}
        trial = {k: v for k, v in asdict(self).items() if k != "schedule" or v != "constant"}
        return json.dumps([trial, sizes], sort_keys=True)


# ----------------------------------------------------------------------- one trial (a worker)


def _data(setup: Setup, shape: tuple[int, ...], scale: float, zero_point: int):
    from ttdialect.datasets import load_fashion_mnist, model_input

    x, y = load_fashion_mnist("train", setup.train + setup.validation)
    xt, yt = load_fashion_mnist("test", setup.test)
    images = model_input(x, shape, scale, zero_point)
    test_images = model_input(xt, shape, scale, zero_point)
    train = (images[: setup.train], y[: setup.train])
    validation = (images[setup.train :], y[setup.train :])
    return train, {"validation": validation, "test": (test_images, yt)}


def _order(setup: Setup, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(i) for _ in range(setup.epochs) for i in rng.permutation(setup.train)]


def run_trial(trial: Trial, setup: Setup) -> dict:
    """Import, compile and train one configuration; its accuracy and wall time."""
    import torch

    from lowering.data_runner import HostDataRunner
    from passes import apply_pipeline
    from ttdialect.importers.tiny_training import HeadChoice, default_zoo_dir, import_zoo
    from ttdialect.ir_io import load_module
    from ttdialect.weights import trained_masks

    torch.set_num_threads(1)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tt-accuracy-") as tmp:
        work = Path(tmp)
        source = work / "model.mlir"
        import_zoo(trial.model, source, default_zoo_dir(), HeadChoice(10, new_head=True, seed=0))
        module = load_module(source)
        forward_args = [op for op in module.walk() if getattr(op, "sym_name", None) is not None]
        image_type = next(op for op in forward_args if op.sym_name.data == "forward").args[0].type
        shape = tuple(image_type.get_shape()[1:])
        train, evaluation = _data(setup, shape, image_type.real_scale, image_type.zp)
        pipeline = (
            f"tt-training-pipeline{{scheme={trial.scheme} lr={trial.lr} {PIPELINE_OPTIONS[trial.method]}}}"
        )
        apply_pipeline(module, pipeline, work)
        order = _order(setup, trial.seed)
        held_out = evaluation[trial.evaluate_on]
        if trial.method in ("fp32", FP32_AS_INT8):
            trainer = _fp32(source, work, trained_masks(module), train, order, trial.lr, trial.schedule)
            if trainer is None:
                accuracy = float("nan")
            elif trial.method == "fp32":
                accuracy = trainer.accuracy(*held_out)
            else:
                accuracy = _int8_inference(source, work, trainer, held_out)
            warnings: list[str] = []
        else:
            runner = HostDataRunner(module, work, work / "build")
            run = runner.run(
                train, held_out, learning_rate=trial.lr, order=order, seed=trial.seed, window=250,
                evaluate_before=False, schedule=trial.schedule,
            )  # fmt: skip
            accuracy, warnings = run.accuracy.get("after", float("nan")), run.warnings
    return {"accuracy": accuracy, "seconds": time.perf_counter() - start, "warnings": warnings}


def _fp32(source: Path, work: Path, masks, train, order: list[int], lr: float, schedule: str):
    """The fp32 twin trained on the samples in order, its rate following the schedule as the
    generated C's does (None if its loss stopped being finite)."""
    from lowering.schedules import learning_rate_at
    from ttdialect.float_twin import FloatTrainer, FloatTwin
    from ttdialect.ir_io import load_module

    trainer = FloatTrainer(FloatTwin(load_module(source), work), masks)
    images, labels = train
    for step, index in enumerate(order):
        rate = learning_rate_at(schedule, lr, step, len(order))
        loss = trainer.step(images[index], int(labels[index]), rate)
        if not np.isfinite(loss):
            return None
    return trainer


def _int8_inference(source: Path, work: Path, trainer, held_out) -> float:
    """Accuracy of the int8 model (the interpreter, tt's reference semantics) holding the fp32
    twin's trained parameters rounded to the nearest integer at the model's own scales: what
    int8 inference costs the fp32-trained network, which no int8 training removes."""
    from ttdialect.interpreter import ParamState, make_interpreter
    from ttdialect.ir_io import load_module
    from ttdialect.numerics import param_limits, saturate
    from ttdialect.weights import WeightStore

    module = load_module(source)
    state = ParamState(WeightStore(module, work))
    for symbol in trainer.masks:
        real = trainer.twin.param(symbol).detach().numpy().astype(np.float64)
        dtype = state.value(symbol).dtype
        integers = np.rint(real / state.scales(symbol).reshape((-1,) + (1,) * (real.ndim - 1)))
        state.values[symbol] = saturate(integers, *param_limits(dtype), dtype)
    interpreter, _ = make_interpreter(module, work, state)
    images, labels = held_out
    hits = sum(
        int(np.argmax(interpreter.call_op("forward", (image[None],))[0][0]) == label)
        for image, label in zip(images, labels, strict=True)
    )
    return hits / len(labels)


# ----------------------------------------------------------------------- orchestration


class Cache:
    """Trial results on disk (build/accuracy-cache.json), so an interrupted run resumes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.results: dict[str, dict] = json.loads(path.read_text()) if path.is_file() else {}

    def store(self, key: str, result: dict) -> None:
        """Add a result, keeping those another run (bench/search.py) stored meanwhile."""
        on_disk = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self.results = {**on_disk, **self.results, key: result}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(self.results, indent=0))
        os.replace(temporary, self.path)


def run_all(trials: list[Trial], setup: Setup, cache: Cache, jobs: int) -> dict[Trial, dict]:
    """Every trial's result, running the ones not cached (a progress line per finished trial)."""
    todo = [t for t in dict.fromkeys(trials) if t.key(setup) not in cache.results]
    if todo:
        print(f"accuracy: {len(todo)} trials to run on {jobs} workers", flush=True)
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(run_trial, trial, setup): trial for trial in todo}
            for done, future in enumerate(_as_completed(futures), start=1):
                trial = futures[future]
                try:
                    result = future.result()
                except Exception as error:  # reported, not cached: the next run retries it
                    print(
                        f"  [{done}/{len(todo)}] FAILED {trial}: {type(error).__name__}: {error}", flush=True
                    )
                    continue
                cache.store(trial.key(setup), result)
                elapsed = time.perf_counter() - started
                eta = elapsed / done * (len(todo) - done)
                what = f"{trial.model} {trial.scheme} {trial.method} lr {trial.lr:g} seed {trial.seed}"
                took = f"{result['seconds']:.0f} s; ETA {eta / 60:.0f} min"
                print(f"  [{done}/{len(todo)}] {what}: {result['accuracy']:.3f} ({took})", flush=True)
    missing = [t for t in trials if t.key(setup) not in cache.results]
    if missing:
        raise SystemExit(f"accuracy: {len(missing)} trials failed (see above); rerun to retry them")
    return {t: cache.results[t.key(setup)] for t in trials}


def _as_completed(futures):
    from concurrent.futures import as_completed

    return as_completed(futures)


def configurations(models: list[str], preset_only: bool = False) -> list[tuple[str, str, str]]:
    """(model, scheme, method) of every row whose rate is chosen: with `preset_only`, the preset's
    only (the scheme the target is about)."""
    rows = []
    for model in models:
        preset = PRESET[model]
        rows += [(model, preset, "int8+QAS"), (model, preset, "fp32")]
        rows += [(model, preset, "int8 no-QAS"), (model, preset, "int8+QAS truncate")]
        if preset_only:
            continue
        for scheme in ("bias-only", LAST_K):
            rows += [(model, scheme, "int8+QAS"), (model, scheme, "fp32")]
        rows.append((model, "full", "fp32"))
    return rows


def grid(method: str, schedule: str) -> tuple[float, ...]:
    """The learning rates a method's sweep tries under a schedule."""
    rates = GRIDS[method]
    if schedule == "cosine" and method in ("int8+QAS", "fp32"):
        rates = tuple(rate for rate in rates if rate >= COSINE_FLOOR)
    return rates


def choose_rate(sweep: dict[float, list[float]]) -> float:
    """The rate of the best mean validation accuracy (over sample orders) among the rates that
    learned in every order and sit at most half the smallest larger one that collapsed in any
    (NaN: its loss stopped being finite). A rate ending at chance below every rate that learned
    is too small, not diverged. The smallest rate if none learned."""
    learned = [lr for lr, runs in sweep.items() if all(a > COLLAPSED for a in runs)]
    if not learned:
        return min(sweep)
    collapsed = [lr for lr in sweep if lr not in learned and lr > min(learned)]
    edge = min(collapsed, default=float("inf"))
    safe = [lr for lr in learned if lr <= edge / 2] or [min(learned)]
    return max(safe, key=lambda lr: float(np.mean(sweep[lr])))


def best_rate(results: dict[Trial, dict], model: str, scheme: str, method: str) -> float:
    """The rate choose_rate picks from a row's validation sweep."""
    sweep: dict[float, list[float]] = {}
    for trial, result in results.items():
        if (trial.model, trial.scheme, trial.method) == (model, scheme, method):
            sweep.setdefault(trial.lr, []).append(result["accuracy"])
    return choose_rate(sweep)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=list(PRESET), choices=list(PRESET))
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="parallel trials (default: cores)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="200 training / 200 validation / 500 test images, 1 seed"
    )
    parser.add_argument(
        "--schedule",
        choices=("constant", "cosine"),
        default="constant",
        help="learning-rate schedule of every run (cosine: to 0 at the last step); its own section",
    )
    parser.add_argument(
        "--preset-only",
        action="store_true",
        help="only the preset's rows (the target's scheme): no bias-only, last-k or full",
    )
    args = parser.parse_args()
    from ttdialect.datasets import FASHION_MNIST_PACKAGE, fashion_mnist_available

    if not fashion_mnist_available():
        print(f"accuracy: Fashion-MNIST is missing: apt-get install {FASHION_MNIST_PACKAGE}", file=sys.stderr)
        return 1
    setup = Setup(200, 200, 500, 3, 1, 1, 1) if args.quick else Setup()
    cache = Cache(CACHE)
    start = time.perf_counter()
    configs = configurations(args.models, args.preset_only)
    schedule = args.schedule
    sweep = [
        Trial(m, s, k, lr, order, "validation", schedule)
        for m, s, k in configs
        for lr in grid(k, schedule)
        for order in range(setup.validation_orders)
    ]
    swept = run_all(sweep, setup, cache, args.jobs)
    chosen = {(m, s, k): best_rate(swept, m, s, k) for m, s, k in configs}
    rows_wanted = [(m, s, k, k, chosen[m, s, k]) for m, s, k in configs]
    rows_wanted += [  # the same rate for both: is a gap the rate chosen on one seed or the method?
        (m, PRESET[m], "int8+QAS", SAME_RATE, chosen[m, PRESET[m], "fp32"]) for m in args.models
    ]
    rows_wanted += [  # how much of a gap is int8 inference, not int8 training
        (m, PRESET[m], FP32_AS_INT8, FP32_AS_INT8, chosen[m, PRESET[m], "fp32"]) for m in args.models
    ]
    final = sorted(  # the preset's rows first: the ones the target is about
        (
            Trial(m, s, k, lr, seed, "test", schedule)
            for m, s, k, _, lr in rows_wanted
            for seed in range(_seeds(setup, m, s, k))
        ),
        key=lambda t: (t.scheme != PRESET[t.model] or t.method not in ("int8+QAS", "fp32"), t.seed),
    )
    results = run_all(final, setup, cache, args.jobs)
    rows = _table_rows(rows_wanted, results)
    headers = [
        "model",
        "scheme",
        "method",
        "lr (chosen)",
        "test accuracy % (seeds)",
        "vs fp32",
        "paired vs fp32",
        "s per run",
        "warnings",
    ]
    table = markdown_table(headers, rows)
    print(table)
    name = "accuracy" if schedule == "constant" else f"accuracy-{schedule}"
    write_section(name, _section(setup, table, time.perf_counter() - start, schedule))
    return 0


def _seeds(setup: Setup, model: str, scheme: str, method: str) -> int:
    preset_row = scheme == PRESET[model] and method in ("int8+QAS", "fp32")
    return setup.preset_seeds if preset_row else setup.seeds


def _table_rows(rows_wanted, results: dict[Trial, dict]) -> list[list[str]]:
    """One row per (model, scheme, method, label, lr): its seeds' test accuracy, the gap to the
    fp32 row of the same scheme (at fp32's chosen rate) in means and paired by seed."""
    by_run: dict[tuple[str, str, str, float], dict[int, dict]] = {}
    for trial, result in results.items():
        by_run.setdefault((trial.model, trial.scheme, trial.method, trial.lr), {})[trial.seed] = result
    fp32_rate = {(m, s): lr for m, s, k, _, lr in rows_wanted if k == "fp32"}
    rows = []
    for model, scheme, method, label, lr in rows_wanted:
        runs = by_run[model, scheme, method, lr]
        accuracies = np.array([r["accuracy"] for r in runs.values()]) * 100
        fp32_runs = by_run.get((model, scheme, "fp32", fp32_rate.get((model, scheme), -1.0)), {})
        fp32 = np.array([r["accuracy"] for r in fp32_runs.values()]) * 100
        against = method != "fp32" and len(fp32)
        warned = sum(bool(r["warnings"]) for r in runs.values())
        rows.append(
            [
                model,
                scheme,
                label,
                f"{lr:g}",
                f"{accuracies.mean():.1f} ± {accuracies.std():.1f} ({len(runs)})",
                f"{accuracies.mean() - fp32.mean():+.1f}" if against else "",
                _paired_gap(runs, fp32_runs) if against else "",
                f"{np.mean([r['seconds'] for r in runs.values()]):.0f}",
                f"{warned}/{len(runs)}" if warned else "",
            ]
        )
    return rows


def _paired_gap(runs: dict[int, dict], fp32_runs: dict[int, dict]) -> str:
    """Mean and standard error of (this run - fp32's run) over the seeds both have: each seed
    is one sample order, so pairing removes the spread between orders."""
    seeds = sorted(set(runs) & set(fp32_runs))
    gaps = np.array([runs[s]["accuracy"] - fp32_runs[s]["accuracy"] for s in seeds]) * 100
    if len(gaps) < 2:
        return ""
    return f"{gaps.mean():+.1f} ± {gaps.std(ddof=1) / np.sqrt(len(gaps)):.1f}"


def _section(setup: Setup, table: str, seconds: float, schedule: str) -> str:
    title = "" if schedule == "constant" else f", {schedule} learning-rate schedule"
    rate = "constant rate" if schedule == "constant" else f"{schedule} schedule from the rate to 0"
    option = "" if schedule == "constant" else f" --schedule {schedule}"
    return "\n".join(
        [
            f"## Accuracy: Fashion-MNIST fine-tuning, int8 tt vs fp32{title} (bench/accuracy.py{option})",
            "",
            f"Machine: {machine()}; {seconds / 60:.0f} min (cached trials not rerun).",
            f"{setup.train} training images x {setup.epochs} epochs, batch 1, {rate}; rate chosen on "
            f"{setup.validation} validation images in {setup.validation_orders} sample orders (the best "
            "mean among the rates that learned in every order, at most half a larger one that collapsed in "
            "any); test accuracy on "
            f"{setup.test} test images, mean ± std "
            f"over {setup.seeds} seeds, {setup.preset_seeds} on the preset's int8+QAS and fp32 rows "
            "(sample order and rounding seed). Fresh seeded 10-class head, ImageNet-pretrained int8 "
            "backbone. `vs fp32`: points against the fp32 twin on the same scheme (at fp32's rate), "
            "difference of the means. `paired vs fp32`: the mean ± standard error of the per-seed "
            "differences (same sample order; seeds both rows ran), which removes the spread between "
            "sample orders. "
            "`lr`: the chosen rate, or fp32's on the `at fp32's rate` rows. `warnings`: runs where "
            "the divergence watch warned.",
            "",
            table,
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
